/*
 * ring_seq.pml - the per-slot sequence ring (Vyukov bounded MPMC; the
 * preemption-tolerant multi-producer mode).
 *
 * Protocol: every slot carries a sequence number, initially its index.
 * Producer: pos = enq_pos; s = seq[pos & MASK] (acquire); d = s - pos.
 *   d == 0: slot free for this lap -> CAS(enq_pos, pos, pos+1); on success
 *           write the data, then seq = pos + 1 (release).
 *   d <  0: the consumer of the previous lap has not released it: full.
 *   d >  0: another producer took pos: reload.
 * Consumer: pos = deq_pos; s = seq[pos & MASK] (acquire); d = s - (pos+1).
 *   d == 0: CAS(deq_pos, pos, pos+1); read the data; seq = pos + CAP
 *           (release: the slot is free for the producer one lap later).
 *   d <  0: empty.  d > 0: reload.
 * Differences are taken modulo 2^W and read as signed, as in the real code.
 *
 * Proves, for every interleaving (sequentially consistent memory):
 *   - a consumer reads at claim position p exactly the item claimed at p
 *     (ghost `expect[]`): FIFO in claim order, nothing lost or duplicated,
 *     no slot overwritten before it was read, none read before written;
 *   - no CAS succeeds on a wrapped (ABA) position (ghost counters);
 *   - all items are delivered and nobody blocks for ever.
 * Bounds: 2 producers x NPER = 2 items, 2 consumers, CAP = 2, W = 3 bits,
 * counters and sequences starting at START = 6 so they wrap (7 -> 0) during
 * the run.  -DBIG: NPER = 3 from START = 5 (2.9 M states).
 *
 * broken: assertion violated
 * The broken variant releases the slot (seq = pos + CAP) before the
 * consumer has read the data, so a producer can overwrite it first.
 */
#define IMASK 7
#define HALF 4
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

byte enq_pos = START, deq_pos = START;
byte seq[CAP];
byte data[CAP];
byte gprod = 0, gcons = 0, consumed = 0;  /* ghosts */
byte expect[TOTAL];

proctype producer(byte id)
{
	byte pos, s, d, k = 0, p, gh;
	bool won;

	do
	:: k == NPER -> break
	:: else ->
		atomic { pos = enq_pos; gh = gprod }
		s = seq[pos & SMASK];  /* acquire: pairs with the consumer's release */
		d = (s - pos) & IMASK;
		if
		:: d == 0 ->
			atomic {
				if
				:: enq_pos == pos ->
					assert(gprod == gh);  /* no ABA */
					enq_pos = (pos + 1) & IMASK;
					p = gprod; gprod++;
					expect[p] = id * NPER + k + 1;
					won = true
				:: else -> won = false
				fi
			}
			if
			:: won ->
				data[pos & SMASK] = id * NPER + k + 1;
				seq[pos & SMASK] = (pos + 1) & IMASK;  /* release: publishes data */
				k++
			:: else -> skip
			fi
		:: d >= HALF -> skip  /* full: retry */
		:: else -> skip       /* overtaken: reload */
		fi;
		d_step { pos = 0; s = 0; d = 0; p = 0; gh = 0; won = false }
	od
}

proctype consumer()
{
	byte pos, s, d, v, p, gh;
	bool won;

	do
	:: consumed == TOTAL -> break
	:: else ->
		atomic { pos = deq_pos; gh = gcons }
		s = seq[pos & SMASK];  /* acquire: pairs with the producer's release */
		d = (s - pos - 1) & IMASK;
		if
		:: d == 0 ->
			atomic {
				if
				:: deq_pos == pos ->
					assert(gcons == gh);  /* no ABA */
					deq_pos = (pos + 1) & IMASK;
					p = gcons; gcons++;
					won = true
				:: else -> won = false
				fi
			}
			if
			:: won ->
#ifdef BROKEN
				seq[pos & SMASK] = (pos + CAP) & IMASK;
				v = data[pos & SMASK];
#else
				v = data[pos & SMASK];
				seq[pos & SMASK] = (pos + CAP) & IMASK;  /* release: frees the slot */
#endif
				assert(v == expect[p]);
				consumed++
			:: else -> skip
			fi
		:: d >= HALF -> skip  /* empty: retry */
		:: else -> skip
		fi;
		d_step { pos = 0; s = 0; d = 0; v = 0; p = 0; gh = 0; won = false }
	od
}

init
{
	byte i;
	atomic {
		/* slot i serves positions congruent to i: seq = the first such
		 * position at or after START */
		i = 0;
		do
		:: i == CAP -> break
		:: else ->
			seq[(START + i) & SMASK] = (START + i) & IMASK;
			i++
		od;
		run producer(0);
		run producer(1);
		run consumer();
		run consumer()
	}
}
