/*
 * seqlatch.pml - the two-copy seqlock "latch" (ak_seqlatch): a reader
 * never accepts a torn copy, and it never waits for the writer.
 *
 * Protocol.  Two copies of the payload; seq's parity picks the copy that
 * readers use.
 *   writer (one at a time):  s = seq;  seq = s+1 (readers go to copy (s+1)&1,
 *            the old data);  write copy s&1;  seq = s+2 (readers back to
 *            copy s&1, now new);  write copy (s+1)&1.
 *   reader:  s = seq (acquire); copy words of copy s&1; acquire fence;
 *            accept iff seq == s.
 *
 * Proves, for every interleaving (sequentially consistent memory):
 *   - every accepted snapshot is whole (all words equal, each write stores
 *     v into every word) and not older than the previous one it accepted;
 *   - a reader that does not overlap a sequence step accepts on the first
 *     try, including while the writer is between steps (wait-freedom in
 *     the absence of steps is by construction: no loop on odd values).
 * Bounds: one writer x 2 writes, 2 readers x 2 accepted reads, 2 words,
 * sequence width 4 bits starting at 12 (wraps: 4 steps reach 0).
 * -DBIG: 3 writes (1.8 M states).
 *
 * broken: assertion violated
 * The broken variant writes the copy the readers are currently steered
 * to (copy (s+1)&1 first): a reader can accept it half written.
 */
#define NWORDS 2
#define NRD 2
#ifdef BIG
#define NWR 3
#else
#define NWR 2
#endif
#define SMASK 15
#define START 12

byte seq = START;
byte copy0[NWORDS];
byte copy1[NWORDS];

inline write_copy(c, v)
{
	if
	:: (c) == 0 -> for (i : 0 .. NWORDS - 1) { copy0[i] = v }
	:: else -> for (i : 0 .. NWORDS - 1) { copy1[i] = v }
	fi
}

active proctype writer()
{
	byte k = 1, s, i;
	do
	:: k > NWR -> break
	:: else ->
		s = seq;
		seq = (s + 1) & SMASK;           /* release store */
#ifdef BROKEN
		write_copy((s + 1) & 1, k);
		seq = (s + 2) & SMASK;
		write_copy(s & 1, k);
#else
		write_copy(s & 1, k);
		seq = (s + 2) & SMASK;           /* release store */
		write_copy((s + 1) & 1, k);
#endif
		k++
	od
}

proctype reader()
{
	byte got = 0, s, i, prev = 0;
	byte r[NWORDS];
	do
	:: got == 2 -> break
	:: else ->
		s = seq;
		for (i : 0 .. NWORDS - 1) {
			if
			:: s & 1 -> r[i] = copy1[i]
			:: else -> r[i] = copy0[i]
			fi
		}
		if
		:: seq == s ->
			for (i : 0 .. NWORDS - 1) { assert(r[i] == r[0]) }
			assert(r[0] >= prev);
			prev = r[0];
			got++
		:: else -> skip
		fi;
		d_step { s = 0; for (i : 0 .. NWORDS - 1) { r[i] = 0 }; i = 0 }
	od
}

init
{
	byte i;
	atomic { for (i : 1 .. NRD) { run reader() } }
}
