/*
 * ring_spsc.pml - the SPSC ring index protocol.
 *
 * Protocol (the cached-index SPSC ring): free-running head/tail counters,
 * storage of CAP slots (pow2), no wasted slot (full is tail - head == CAP).
 * Each side owns its index and keeps a cached copy of the other one, which
 * it re-reads only when the cached value says full (producer) or empty
 * (consumer).  The producer writes the slot, then publishes tail (release);
 * the consumer reads tail (acquire), reads the slot, then publishes head
 * (release), which hands the slot back to the producer.
 *
 * Proves, for every interleaving (sequentially consistent memory):
 *   - the consumer receives exactly the items 1..ITEMS, in order (FIFO,
 *     nothing lost, nothing duplicated);
 *   - the producer never overwrites a slot the consumer has not read, and
 *     the consumer never reads a slot the producer has not written (ghost
 *     `live` flags per slot);
 *   - neither side blocks for ever (no invalid end state).
 * Bounds: CAP = 2 slots, index width 3 bits (counters wrap mod 8), ITEMS =
 * 11, so the counters wrap and the full test (t - h) mod 8 == CAP is
 * exercised across the wrap.  -DBIG: CAP = 4, width 4 bits, ITEMS = 35.
 * The real ring's counters are 64-bit, so its full/empty arithmetic is the
 * same modular arithmetic at a width no run can wrap ambiguously.
 * Weak memory is not modelled: the release/acquire pairs are checked by the
 * litmus test tests/litmus/ring_publish.c.
 *
 * broken: assertion violated
 * The broken variant publishes tail before writing the slot (the ordering
 * that a missing release allows): the consumer can then read a stale slot.
 */
#ifdef BIG
#define IMASK 15
#define CAP 4
#define ITEMS 35
#else
#define IMASK 7
#define CAP 2
#define ITEMS 11
#endif
#define SMASK (CAP - 1)

byte head = 0;          /* written by the consumer only */
byte tail = 0;          /* written by the producer only */
byte slot[CAP];
bool live[CAP];         /* ghost: slot holds an item not yet consumed */

active proctype producer()
{
	byte t = 0, hc = 0, i = 1;

	do
	:: i > ITEMS -> break
	:: else ->
		if
		:: ((t - hc) & IMASK) == CAP -> hc = head  /* looks full: refresh (acquire) */
		:: else -> skip
		fi;
		if
		:: ((t - hc) & IMASK) < CAP ->
			assert(!live[t & SMASK]);
#ifdef BROKEN
			tail = (t + 1) & IMASK;
			slot[t & SMASK] = i;
			live[t & SMASK] = true;
#else
			slot[t & SMASK] = i;
			live[t & SMASK] = true;
			tail = (t + 1) & IMASK;  /* release: publishes the slot */
#endif
			t = (t + 1) & IMASK;
			i++
		:: else -> skip  /* really full: try again */
		fi
	od
}

active proctype consumer()
{
	byte h = 0, tc = 0, want = 1, v;

	do
	:: want > ITEMS -> break
	:: else ->
		if
		:: tc == h -> tc = tail  /* looks empty: refresh (acquire) */
		:: else -> skip
		fi;
		if
		:: tc != h ->
			v = slot[h & SMASK];
			assert(v == want);
			assert(live[h & SMASK]);
			live[h & SMASK] = false;
			h = (h + 1) & IMASK;
			head = h;  /* release: hands the slot back */
			want++
		:: else -> skip
		fi
	od;
	assert(head == tail)
}
