/*
 * seqlock.pml - the seqlock reader/writer protocol (include/atomkit/seqlock.h,
 * ak_seqlock): no torn snapshot is ever accepted.
 *
 * Protocol.  seq even = stable, odd = a writer is inside.
 *   writer:  s = load(seq); if odd: retry; CAS(seq, s, s+1) (acquire; takes
 *            the write bit, so writers exclude each other); release fence;
 *            store the payload words; store(seq, s+2) (release).
 *   reader:  s0 = load(seq) (acquire); copy the words (relaxed);
 *            acquire fence; s1 = load(seq); accept iff s0 even and s1 == s0.
 *
 * Proves, for every interleaving (sequentially consistent memory; the
 * fences' job under weak memory is covered by tests/litmus/seqlock.c):
 *   - every accepted snapshot is one a writer wrote, whole: both words
 *     equal (each write stores v to both) - no torn snapshot accepted;
 *   - snapshots a reader accepts never go back in time (monotonic);
 *   - writers never overlap (a ghost count of writers inside stays <= 1);
 *   - every reader and writer finishes.
 * Bounds: 2 writers x 1 write, 2 readers x 1 accepted read, 2 payload
 * words, sequence width 4 bits starting at 12, so it wraps (15 -> 0)
 * during the run; the equality test could only be fooled by 8 writes
 * during one read, which 4 writes cannot do (2^31 writes for the real
 * 32-bit sequence).  -DBIG: 2 writes per writer (4.6 M states).
 *
 * broken: assertion violated
 * The broken variant accepts a snapshot whose start sequence was odd
 * (it drops the `s0 even` test): a read that overlaps a write from its
 * start can see half of it.
 */
#define SMASK 15
#define START 12
#define NWORDS 2
#define NREAD 1
#ifdef BIG
#define NWR 2
#else
#define NWR 1
#endif

byte seq = START;
byte words[NWORDS];
byte last = 0;        /* the last value written (only under the write bit) */
byte inside = 0;      /* ghost */

proctype writer()
{
	byte k = 0, s, i, v;
	bool won;
	do
	:: k == NWR -> break
	:: else ->
		s = seq;
		if
		:: s & 1 -> skip
		:: else ->
			atomic {
				if
				:: seq == s -> seq = (s + 1) & SMASK; won = true; inside++
				:: else -> won = false
				fi
			}
			if
			:: won ->
				assert(inside == 1);
				v = last + 1;
				for (i : 0 .. NWORDS - 1) { words[i] = v }
				last = v;
				atomic { inside--; seq = (s + 2) & SMASK }
				k++
			:: else -> skip
			fi
		fi;
		d_step { s = 0; i = 0; v = 0; won = false }
	od
}

proctype reader()
{
	byte got = 0, s0, s1, i, prev = 0;
	byte r[NWORDS];
	do
	:: got == NREAD -> break
	:: else ->
		s0 = seq;
		for (i : 0 .. NWORDS - 1) { r[i] = words[i] }
		s1 = seq;
#ifdef BROKEN
		if
		:: s1 == s0 ->
#else
		if
		:: (s0 & 1) == 0 && s1 == s0 ->
#endif
			for (i : 0 .. NWORDS - 1) { assert(r[i] == r[0]) }
			assert(r[0] >= prev);
			prev = r[0];
			got++
		:: else -> skip
		fi;
		d_step { s0 = 0; s1 = 0; i = 0; for (i : 0 .. NWORDS - 1) { r[i] = 0 }; i = 0 }
	od
}

init
{
	atomic {
		run writer(); run writer();
		run reader(); run reader()
	}
}
