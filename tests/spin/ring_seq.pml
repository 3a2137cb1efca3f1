/*
 * ring_seq.pml - the per-slot-sequence ring as include/atomkit/ring_seq.h
 * implements it (_ak_ring_seq_claim_p/_c, _ak_ring_seq_stuck_p/_c,
 * _ak_ring_seq_finish_p/_c, ak_ring_seq_close), not the textbook queue.
 *
 * Encoding (as in the code).  Tickets count positions in steps of 2: the
 * producer of position p holds ticket 2p, and bit 0 of the tail word is the
 * closed flag.  A slot's sequence is 2p while it waits for the producer of
 * p, 2p+1 once the element is published, 2(p+CAP) once consumed.  Tickets
 * are W = 4 bits here (positions 3 bits), differences are read as signed
 * 4-bit values, and everything starts at ticket START so the words wrap
 * (14 -> 0) during the run.
 *
 * Producer (one call = one element or a bulk of 2, all or nothing):
 *   t = tail; loop:
 *     if !(t & 1): scan the n slots from t (seq == t + 2i each);
 *       all free -> CAS(tail, t, t + 2n); write; seq = t + 2i + 1 each.
 *     stuck: t & 1 -> ECLOSED.  d = seq - want > 0 -> t = tail, retry.
 *       else h = head; t2 = tail; t2 != t -> retry with t2;
 *       (t - h)/2 + n > CAP -> EFULL (retry, as a _wait would), else
 *       EAGAIN (a peer mid-operation; retry).
 * Consumer (one element or a bulk of 2):
 *   h = head; scan the n slots from h (seq == h + 2i + 1 each);
 *     all full -> CAS(head, h, h + 2n); read; seq = h + 2i + 2*CAP each.
 *   stuck: d > 0 -> h = head; else t = tail; h2 = head; h2 != h -> retry;
 *     ((t & ~1) - h)/2 < n -> closed ? ECLOSED : EEMPTY; else EAGAIN.
 *   A bulk pop told ECLOSED drains with single pops, as the docs say.
 * Close: tail |= 1 (one atomic OR).
 *
 * Proves, for every interleaving (sequentially consistent memory; the
 * orderings are the litmus tests' job):
 *   - each consumer reads, at each position it claimed, exactly the element
 *     claimed there (ghost expect[]): FIFO in claim order, no loss, no
 *     duplicate, no slot overwritten before it was read or read before it
 *     was written, across the 4-bit wrap and with multi-slot claims;
 *   - AK_EFULL only when, at the instant head was read, cap - n + 1 or more
 *     positions were claimed and unconsumed (ghost counts taken atomically
 *     with that read), AK_EEMPTY / AK_ECLOSED only when fewer than n were,
 *     at the instant tail was read: the verdicts are linearizable;
 *   - no claim succeeds after close; AK_ECLOSED to a consumer only once
 *     the ring is closed and drained; every element whose push succeeded
 *     is popped; no CAS succeeds on a wrapped (ABA) word (ghost counters).
 * Bounds (init picks one configuration; each runs to completion):
 *   A  one producer pushing 2 elements (two singles or one bulk of 2) that
 *      closes the ring at a nondeterministic point of its run, 2 consumers
 *      (one pops singles, the other singles or bulks of 2);
 *   B  2 producers x 1 element (one of them closes, before or after its
 *      push), 2 consumers popping singles.
 * -DBIG adds C: 2 producers x 1 (one closes) and 2 consumers, one of them
 * bulk-capable (5.5 M states).  CAP = 2, START = ticket 12 (position 6): the
 * words wrap (14 -> 0) at the second position.  Default: 2.2 M states.
 * A call that fails with AK_EFULL / AK_EEMPTY / AK_EAGAIN is retried, but
 * only after some shared word has changed (ghost write counter gv): a retry
 * before that would read the same words and repeat the same verdict, so
 * this prunes only repeated states.  A process waiting for a change that
 * never comes is a deadlock, and Spin reports it as an invalid end state.
 *
 * A finding: the producer's test of the closed bit before its scan (the
 * code's "an odd (closed) tail can equal a full slot's sequence") is not
 * needed for safety: with -DNO_CLOSED_PRECHECK the model still verifies,
 * because an odd tail 2p+1 would have to meet the published sequence of a
 * position p that was never claimed.  It stays in the code as a shortcut.
 *
 * broken: assertion violated
 * The broken variant is the textbook consumer: a slot that is not yet
 * published means "empty", without the tail/head snapshot.  Spin finds a
 * producer that has claimed (the ring holds one claimed element) between
 * the claim and the publish: AK_EEMPTY is then not linearizable (the
 * assertion on the ghost count taken with the slot read fails).
 */
#define TMASK 15   /* tickets: 4 bits */
#define NEG 8      /* a 4-bit difference >= 8 is negative */
#define CAP 2
#define LAP 4      /* 2 * CAP */
#define START 12
#define SLOT(t) (((t) >> 1) & (CAP - 1))

byte tail = START, head = START;
byte seq[CAP];
byte data[CAP];
/* ghosts */
byte gT = 0, gH = 0;  /* positions claimed / consumed so far (never wrap) */
byte expect[4];       /* the element claimed at each position */
byte consumed = 0;
bool closed = false;
byte gv = 0;          /* shared writes so far */

inline close()
{
	atomic { tail = tail | 1; closed = true; gv++ }
}

/* closes: 0 = never; 1 = at one nondeterministic moment among its own steps
 * (before each push, or at the end) */
proctype producer(byte id; byte nitems; bool closes)
{
	byte t, t2, h, s, i, n, k = 0, gt, gt2, gh, v0;

top:
	if
	:: closes -> close(); closes = false
	:: true
	fi;
	if
	:: k == nitems ->
		if
		:: closes -> close()
		:: else -> skip
		fi;
		goto done
	:: else -> skip
	fi;
	if
	:: n = 1
	:: nitems - k >= 2 -> n = 2
	fi;
	atomic { t = tail; gt = gT; v0 = gv };
scan:
	i = 0;
#ifndef NO_CLOSED_PRECHECK
	if
	:: (t & 1) -> goto stuck
	:: else -> skip
	fi;
#endif
	do
	:: i == n -> break
	:: i < n ->
		/* acquire load of the slot sequence; s = d = seq - want */
		atomic { s = (seq[SLOT(t + 2 * i)] - t - 2 * i) & TMASK };
		if
		:: s != 0 -> goto stuck
		:: else -> i++
		fi
	od;
	/* the claim: one CAS on the tail for all n slots */
	atomic {
		if
		:: tail == t ->
			assert(gT == gt);  /* no ABA on the tail */
			assert(!closed);   /* no claim on a closed ring */
			tail = (t + 2 * n) & TMASK;
			gv++;
			expect[gT] = id * 4 + k + 1;
			if
			:: n == 2 -> expect[gT + 1] = id * 4 + k + 2
			:: else -> skip
			fi;
			gT = gT + n;
			s = 0
		:: else -> t = tail; gt = gT; v0 = gv; s = 1
		fi
	};
	if
	:: s == 1 -> goto scan
	:: else -> skip
	fi;
	/* _ak_ring_seq_finish_p: write, then publish, slot by slot */
	i = 0;
	do
	:: i == n -> break
	:: i < n ->
		data[SLOT(t + 2 * i)] = id * 4 + k + i + 1;
		atomic { seq[SLOT(t + 2 * i)] = (t + 2 * i + 1) & TMASK; gv++ };  /* release */
		i++
	od;
	k = k + n;
	d_step { t = 0; t2 = 0; h = 0; s = 0; i = 0; n = 0; gt = 0; gt2 = 0; gh = 0; v0 = 0 };
	goto top;

stuck:	/* _ak_ring_seq_stuck_p */
	if
	:: (t & 1) -> goto done  /* AK_ECLOSED */
	:: else -> skip
	fi;
	if
	:: s != 0 && s < NEG ->  /* the slot is a lap ahead: stale tail */
		atomic { t = tail; gt = gT; v0 = gv };
		goto scan
	:: else -> skip
	fi;
	atomic { h = head; gt2 = gT; gh = gH };  /* acquire */
	t2 = tail;
	if
	:: t2 != t ->
		atomic { t = tail; gt = gT; v0 = gv; t2 = 0; h = 0; gt2 = 0; gh = 0 };
		goto scan
	:: else -> skip
	fi;
	if
	:: (((t - h) & TMASK) >> 1) + n > CAP ->
		/* AK_EFULL: tail still held t when head was read, so the ghost
		 * counts of that instant must agree */
		assert(gt2 == gt);
		assert(gt2 - gh + n > CAP)
	:: else -> skip  /* AK_EAGAIN: a peer mid-operation */
	fi;
	d_step { t = 0; t2 = 0; h = 0; s = 0; i = 0; gt = 0; gt2 = 0; gh = 0 };
	(gv != v0);
	atomic { t = tail; gt = gT; v0 = gv };
	goto scan;
done:
	skip
}

proctype consumer(bool bulk)
{
	byte t, h, h2, s, i, n, p, v, gt, gh, gh2, v0;

top:
	if
	:: n = 1
	:: bulk -> n = 2
	fi;
	atomic { h = head; gh = gH; v0 = gv };
scan:
	i = 0;
	do
	:: i == n -> break
	:: i < n ->
#ifdef BROKEN
		atomic { s = (seq[SLOT(h + 2 * i)] - h - 2 * i - 1) & TMASK; gt = gT; gh2 = gH };
#else
		atomic { s = (seq[SLOT(h + 2 * i)] - h - 2 * i - 1) & TMASK };  /* acquire */
#endif
		if
		:: s != 0 -> goto stuck
		:: else -> i++
		fi
	od;
	atomic {
		if
		:: head == h ->
			assert(gH == gh);  /* no ABA on the head */
			head = (h + 2 * n) & TMASK;
			gv++;
			p = gH;
			gH = gH + n;
			s = 0
		:: else -> h = head; gh = gH; v0 = gv; s = 1
		fi
	};
	if
	:: s == 1 -> goto scan
	:: else -> skip
	fi;
	/* _ak_ring_seq_finish_c: read, then free the slot for the next lap */
	i = 0;
	do
	:: i == n -> break
	:: i < n ->
		v = data[SLOT(h + 2 * i)];
		atomic {
			seq[SLOT(h + 2 * i)] = (h + 2 * i + LAP) & TMASK;  /* release */
			gv++;
			assert(v == expect[p + i]);
			consumed++;
			v = 0
		};
		i++
	od;
	skip;
	d_step { t = 0; h = 0; h2 = 0; s = 0; i = 0; n = 0; p = 0; v = 0; gt = 0; gh = 0; gh2 = 0; v0 = 0 };
	goto top;

stuck:	/* _ak_ring_seq_stuck_c */
	if
	:: s != 0 && s < NEG ->
		atomic { h = head; gh = gH; v0 = gv };
		goto scan
	:: else -> skip
	fi;
#ifdef BROKEN
	/* the textbook verdict: slot not published -> empty */
	assert(gt - gh2 < n);
	if
	:: closed && gt == gh2 -> goto done
	:: else -> skip
	fi;
	d_step { t = 0; h = 0; h2 = 0; s = 0; i = 0; gt = 0; gh = 0; gh2 = 0 };
	(gv != v0);
	atomic { h = head; gh = gH; v0 = gv };
	goto scan;
#endif
	atomic { t = tail; gt = gT; gh2 = gH };  /* acquire */
	h2 = head;
	if
	:: h2 != h ->
		atomic { h = head; gh = gH; v0 = gv; t = 0; h2 = 0; gt = 0; gh2 = 0 };
		goto scan
	:: else -> skip
	fi;
	if
	:: ((((t & 14) - h) & TMASK) >> 1) < n ->
		/* head still held h when tail was read */
		assert(gh2 == gh);
		assert(gt - gh2 < n);
		if
		:: (t & 1) ->
			assert(closed);
			if
			:: n == 1 -> goto done  /* AK_ECLOSED: closed and drained */
			:: else ->  /* a bulk told AK_ECLOSED drains singly */
				n = 1;
				atomic { h = head; gh = gH; v0 = gv };
				goto scan
			fi
		:: else -> skip  /* AK_EEMPTY */
		fi
	:: else -> skip  /* AK_EAGAIN */
	fi;
	d_step { t = 0; h = 0; h2 = 0; s = 0; i = 0; gt = 0; gh = 0; gh2 = 0 };
	(gv != v0);
	atomic { h = head; gh = gH; v0 = gv };
	goto scan;
done:
	skip
}

init
{
	atomic {
		/* the slot of each position waits for its first producer */
		seq[SLOT(START)] = START;
		seq[SLOT(START + 2)] = (START + 2) & TMASK;
		if
		:: /* A: bulk on both sides, consumers contend, close anywhere */
			run producer(0, 2, true);
			run consumer(false);
			run consumer(true)
		:: /* B: producers and consumers contend, close anywhere */
			run producer(0, 1, false);
			run producer(1, 1, true);
			run consumer(false);
			run consumer(false)
#ifdef BIG
		:: /* C: both contend, one consumer may bulk */
			run producer(0, 1, false);
			run producer(1, 1, true);
			run consumer(false);
			run consumer(true)
#endif
		fi
	};
	(_nr_pr == 1);
	/* every claimed element was consumed, each exactly once */
	assert(consumed == gT && gH == gT)
}
