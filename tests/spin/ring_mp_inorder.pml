/*
 * ring_mp_inorder.pml - the multi-producer / multi-consumer ring with
 * head/tail pairs and in-order commit (the ck_ring / DPDK "MP/MC" scheme).
 *
 * Protocol: each side has a head (claimed) and a tail (committed) counter.
 * A producer reads prod_head, then cons_tail (acquire); if the ring is not
 * full it claims one slot with CAS(prod_head, h, h+1), writes the slot, waits
 * until prod_tail == h (every earlier claim has committed) and stores
 * prod_tail = h+1 (release).  Consumers mirror it with cons_head/prod_tail
 * and cons_tail.  Claims are linearized by the CAS on the head.
 *
 * Proves, for every interleaving (sequentially consistent memory):
 *   - every consumer reads, at position p, exactly the item the producer
 *     that claimed position p wrote (ghost `expect[p]`): FIFO in claim
 *     order, per-producer order kept, nothing lost, nothing duplicated,
 *     no slot overwritten before it was read;
 *   - all NP*NPER items are delivered and nobody blocks for ever.
 *   - no head CAS succeeds on a wrapped (ABA) value: a ghost absolute
 *     counter read with the head must still match at the CAS.
 * Bounds: NP = 2 producers x NPER = 2 items, NC = 2 consumers, CAP = 2
 * slots, index width 3 bits, all counters starting at START = 6 so the
 * 4 items carry them across the wrap (7 -> 0).  ABA on a head CAS would
 * need 8 claims by the others between one thread's read and its CAS; the
 * ghost assertion above shows it does not happen within these bounds, as
 * 2^64 claims cannot happen in the real ring.  -DBIG: NPER = 3 from
 * START = 5 (3.7 M states).
 *
 * broken: assertion violated
 * The broken variant commits prod_tail without waiting for earlier
 * producers (tail = h+1 at once), so a consumer can read a slot whose
 * producer has claimed but not yet written it.
 */
#define IMASK 7
#define CAP 2
#ifdef BIG
#define START 5
#define NPER 3
#else
#define START 6
#define NPER 2
#endif
#define NP 2
#define NC 2
#define TOTAL (NP * NPER)
#define SMASK (CAP - 1)

byte prod_head = START, prod_tail = START, cons_head = START, cons_tail = START;
byte slot[CAP];
/* ghosts: absolute claim positions and the item claimed at each */
byte gprod = 0, gcons = 0, consumed = 0;
byte expect[TOTAL];

proctype producer(byte id)
{
	byte h, ct, k = 0, p, gh;
	bool won;

	do
	:: k == NPER -> break
	:: else ->
		atomic { h = prod_head; gh = gprod }
		ct = cons_tail;  /* acquire: pairs with the consumers' tail release */
		if
		:: ((h - ct) & IMASK) >= CAP -> skip  /* full (or stale): retry */
		:: else ->
			atomic {
				if
				:: prod_head == h ->
					assert(gprod == gh);  /* no ABA */
					prod_head = (h + 1) & IMASK;
					p = gprod; gprod++;
					expect[p] = id * NPER + k + 1;
					won = true
				:: else -> won = false
				fi
			}
			if
			:: won ->
				slot[h & SMASK] = id * NPER + k + 1;
#ifndef BROKEN
				prod_tail == h;  /* in-order commit: wait for earlier claims */
#endif
				prod_tail = (h + 1) & IMASK;  /* release: publishes the slot */
				k++
			:: else -> skip
			fi
		fi;
		/* forget this attempt's locals so equal global states merge */
		d_step { h = 0; ct = 0; p = 0; gh = 0; won = false }
	od
}

proctype consumer()
{
	byte h, pt, v, p, gh;
	bool won;

	do
	:: consumed == TOTAL -> break
	:: else ->
		atomic { h = cons_head; gh = gcons }
		pt = prod_tail;  /* acquire: pairs with the producers' tail release */
		if
		:: ((pt - h) & IMASK) == 0 || ((pt - h) & IMASK) > CAP -> skip  /* empty or stale */
		:: else ->
			atomic {
				if
				:: cons_head == h ->
					assert(gcons == gh);  /* no ABA */
					cons_head = (h + 1) & IMASK;
					p = gcons; gcons++;
					won = true
				:: else -> won = false
				fi
			}
			if
			:: won ->
				v = slot[h & SMASK];
				assert(v == expect[p]);
				cons_tail == h;
				atomic { cons_tail = (h + 1) & IMASK; consumed++ }  /* release */
			:: else -> skip
			fi
		fi;
		d_step { h = 0; pt = 0; v = 0; p = 0; gh = 0; won = false }
	od
}

init
{
	atomic {
		run producer(0);
		run producer(1);
		run consumer();
		run consumer()
	}
}
