/*
 * ring_close.pml - ak_ring's close racing a single producer's copying
 * push_wait calls and a consumer that drains with pop_wait, on a ring of
 * capacity 1: the producer meets a full ring and sleeps for space, the
 * consumer sleeps for data, and close (at any point, or never) meets the
 * refusal before any reservation, the reservation that sees the CLOSED
 * bit, and both sleepers.
 *
 * Protocol (include/atomkit/ring.h, src/ring.c, src/ring_wait.c).
 *   push_wait (SP):
 *               room from the cached limit, else limit = cons.tail + CAP
 *               full:  if (closed != OPEN) (relaxed load)
 *                          _ak_ring_refuse(): wait for SEALED; AK_ECLOSED
 *                      else sleep(space), then try again
 *               head = h + 1                  reservation, plain store
 *               g = gate                      compiler barrier only
 *               if (g has CLOSED) _ak_ring_closed_check(): wait for SEALED;
 *                   close_pos < h + 1: head = h (undo), AK_ECLOSED
 *               (element written)
 *               tail = h + 1                  release store
 *               if (g has waiters) wake(data)
 *   pop_wait:   if (tail > mine) { take it; cons.tail = mine + 1 (release
 *                   store); if (cons.gate) wake(space) }
 *               else if (closed == SEALED && close_pos <= mine) AK_ECLOSED
 *               else sleep(data)
 *   sleep(q):   (_ak_ring_sleep()) loop { s = q_seq; the other side's
 *                 gate += WAITER (seq_cst RMW); membarrier();
 *                 ring_ready(): closed == CLOSING, or SEALED (space:
 *                   always; data: with close_pos <= mine), or tail > mine
 *                   (data) / cons.tail + CAP > head (space): ready,
 *                   gate -= WAITER; data only: head != tail: in flight,
 *                   poll; else
 *                 q_sleepers++; futex_wait(q_seq, s); not dequeued by a
 *                 waker: q_sleepers--, gate -= WAITER; ready() again }
 *   wake(q):    q_seq++ (seq_cst RMW); if (q_sleepers) (seq_cst load)
 *                   { m = futex wake all; q_sleepers -= m; gate -= m * WAITER }
 *   close:      closed: OPEN -> CLOSING (CAS, elects the closer);
 *               prod.gate |= CLOSED (seq_cst RMW); membarrier();
 *               close_pos = head; closed = SEALED (seq_cst store);
 *               kick_waiters(): wake(data) if prod.gate has waiters,
 *               wake(space) if cons.gate has
 *
 * Memory model.  Both sides run on a TSO machine with no fence of their
 * own on the fast path: the producer's head and tail stores (the undo
 * too) and the consumer's cons.tail store go to per-thread store buffers
 * (channels `sb`, `cb`) that drain to memory in order at any moment
 * (process `drain`); loads read memory, except a thread's own positions,
 * kept in locals.  membarrier(), by anyone, drains both buffers at once; a
 * thread's own locked RMW (registration, sleepers increment, seq bump)
 * drains its own.  The closer's writes are locked RMWs or seq_cst stores.
 * The futex compare-and-queue is one step, the waker's subtraction
 * another.  (The C sleeper polls the ring 1024 times before it registers;
 * those polls are not modelled: the re-check after registering is the
 * one that matters.)
 *
 * Proves, with the close at any point or none: every push that returned
 * AK_OK is received, and nothing else is (got == ok; the consumer stops at
 * AK_ECLOSED, or once all PUSHES were received); with a close, close_pos ==
 * the number of AK_OK pushes; once a push returned AK_ECLOSED, every later
 * one does too (asserted at each AK_OK); no thread is left blocked for
 * ever (a sleeper left behind is an invalid end state); the waiter and
 * sleeper counts of both gates return to 0.  PUSHES = 3 push_wait calls,
 * capacity 1; -DBIG: 4 calls, capacity 2.  A futex wait that ends by
 * itself while queued (timeout, the 1 ms cap, EINTR) races the waker's
 * dequeue once per run, on either side, as in ring_wake.pml.
 *
 * broken: assertion violated
 * broken-early: assertion violated
 * broken-seal: assertion violated
 * broken-nopoll: invalid end state
 * broken-nokick: invalid end state
 * broken-gatefirst: invalid end state
 * broken-norecheck: invalid end state
 * The broken variant is the refusal that does not wait for SEALED (the
 * bug fixed in _ak_ring_refuse()): the closer wins its CAS, the producer
 * finds the ring full and `closed` not open and returns AK_ECLOSED at
 * once; the consumer pops; the producer's next push reserves and returns
 * AK_OK after an AK_ECLOSED, because the closer's head read comes after
 * the reservation: either the push read a gate without CLOSED (the
 * closer had not set it yet: the scenario of tests/unit/ring_rv.c), or it
 * saw CLOSED, waited for SEALED and found itself below close_pos (the
 * closer's membarrier came before the reservation).  The second
 * (-DBROKEN_EARLY) has the closer read prod.head before its membarrier:
 * the reservation still in the producer's store buffer is missed, the
 * push (whose gate read came before the CLOSED bit) publishes with AK_OK,
 * and the consumer, at close_pos, reports AK_ECLOSED without it (or takes
 * it and close_pos is one short).  The third (-DBROKEN_SEAL) stores
 * SEALED before close_pos: the producer that saw CLOSED reads the old
 * close_pos and refuses (and undoes) a reservation the closer counted;
 * its next push, at the same position, reads the new close_pos and
 * returns AK_OK after AK_ECLOSED.  The fourth (-DBROKEN_NOPOLL) lets the
 * data sleeper sleep while a push is reserved but not published (head !=
 * tail): that push read the gate before the registration and publishes
 * without a wake.  The fifth (-DBROKEN_NOKICK) has close wake nobody: a
 * consumer asleep on an empty ring stays asleep after the close.  The
 * sixth (-DBROKEN_GATEFIRST) has the consumer read cons.gate before its
 * cons.tail store (_ak_ring_cons_end() with the two swapped): it sees no
 * waiter, the producer registers and its re-check still sees the ring
 * full, and the store lands with no wake; with no close the producer
 * sleeps for ever.  The seventh (-DBROKEN_NORECHECK) has the space
 * sleeper sleep right after registering, without reading cons.tail and
 * `closed` again.
 */
#ifdef BIG
#define PUSHES 4
#define CAP 2
#else
#define PUSHES 3
#define CAP 1
#endif

#define HEAD 0
#define TAIL 1

#define OPEN 0
#define CLOSING 1
#define SEALED 2

byte head = 0, tail = 0;     /* memory: prod.head, prod.tail */
byte ctail = 0;              /* cons.tail */
byte waiters = 0;            /* the WAITER count in prod.gate */
bool gclosed = false;        /* the CLOSED bit in prod.gate */
byte closed = OPEN, close_pos = 0;
byte sleepers = 0;           /* data_sleepers */
byte seq = 0;                /* data_seq (futex word) */
bool asleep = false;         /* the consumer is in the kernel's futex queue */
byte swaiters = 0;           /* the WAITER count in cons.gate */
byte ssleepers = 0, sseq = 0;   /* space_sleepers, space_seq */
bool pasleep = false;        /* the producer is in the futex queue */
byte early = 1;              /* waits that may end by themselves */
byte ok = 0, got = 0;        /* pushes that returned AK_OK; items received */
bool pdone = false, cdone = false, kdone = false;
chan sb = [4] of { byte, byte };  /* producer store buffer: (var, value) */
chan cb = [2] of { byte };        /* consumer store buffer: cons.tail values */

inline store(var, val)
{
	if
	:: var == HEAD -> head = val
	:: else -> tail = val
	fi
}

inline drain_all()
{
	do
	:: sb?[_, _] -> sb?v, x; store(v, x)
	:: empty(sb) -> break
	od;
	v = 0; x = 0
}

inline drain_c()
{
	do
	:: cb?[_] -> cb?x; ctail = x
	:: empty(cb) -> break
	od;
	x = 0
}

/* wake(space) after the seq bump */
inline wake_space_rest()
{
	sl = ssleepers;                    /* seq_cst load */
	if
	:: sl > 0 ->
		atomic { j = (pasleep -> 1 : 0); pasleep = false };
		atomic { ssleepers = ssleepers - j; swaiters = swaiters - j; j = 0 }
	:: else -> skip
	fi;
	sl = 0
}

/* wake(data) after the seq bump: the futex wake if anyone may sleep */
inline wake_rest()
{
	sl = sleepers;                     /* seq_cst load */
	if
	:: sl > 0 ->
		/* FUTEX_WAKE: dequeue; m = how many */
		atomic { j = (asleep -> 1 : 0); asleep = false };
		atomic { sleepers = sleepers - j; waiters = waiters - j; j = 0 }
	:: else -> skip
	fi;
	sl = 0
}

active proctype drain()
{
	byte v, x;
end:	do
	:: atomic { sb?v, x -> store(v, x); v = 0; x = 0 }
	:: atomic { cb?x -> ctail = x; x = 0 }
	od
}

active proctype producer()
{
	byte i = 0, h = 0, lim = CAP, c, res, s, t, sl, j, v, x;
	byte gw;
	bool gc, inq, refused = false;
	do
	:: i == PUSHES -> break
	:: else ->
		res = 0;
		/* room: the cached limit, else cons.tail (acquire) */
		if
		:: lim == h -> c = ctail; lim = c + CAP
		:: else -> skip
		fi;
		if
		:: lim == h ->                           /* full */
			if
			:: closed != OPEN ->              /* relaxed hint */
#ifndef BROKEN
				closed == SEALED;         /* _ak_ring_refuse() */
#endif
				res = 2                   /* AK_ECLOSED */
			:: else ->
				/* AK_EFULL: push_wait sleeps for space
				 * (_ak_ring_sleep(), ring_ready()), then
				 * tries again */
				do
				:: s = sseq;                  /* acquire */
					atomic { drain_all(); swaiters++ };  /* seq_cst RMW */
					atomic { drain_all(); drain_c() };   /* membarrier() */
#ifndef BROKEN_NORECHECK
					t = closed;           /* seq_cst */
					if
					:: t != OPEN || ctail + CAP > h ->  /* seq_cst */
						swaiters--;   /* ready */
						break
					:: else -> skip
					fi;
#endif
					atomic { drain_all(); ssleepers++ }; /* seq_cst RMW */
					/* futex_wait(space_seq, s) */
					atomic {
						if
						:: sseq == s -> pasleep = true; inq = true
						:: else -> inq = false
						fi
					};
					if
					:: atomic { !pasleep -> skip }
					:: atomic { pasleep && early > 0 -> pasleep = false; early--; inq = false }
					fi;
					atomic {
						if
						:: !inq -> ssleepers--; swaiters--
						:: else -> skip
						fi;
						inq = false
					};
					t = closed;           /* ready() again */
					if
					:: t != OPEN || ctail + CAP > h -> break
					:: else -> skip
					fi
				od;
				s = 0; t = 0
			fi
		:: else ->
			sb!HEAD, h + 1;                   /* reservation */
			atomic { gw = waiters; gc = gclosed };  /* the one gate read */
			if
			:: gc ->
				closed == SEALED;         /* _ak_ring_closed_check() */
				if
				:: close_pos < h + 1 ->
					sb!HEAD, h;       /* undo */
					res = 2
				:: else -> skip           /* close counted us */
				fi
			:: else -> skip
			fi;
			if
			:: res == 0 ->
				sb!TAIL, h + 1;           /* publish */
				h++;
				assert(!refused);         /* no AK_OK after AK_ECLOSED */
				ok++;
				res = 1;
				if
				:: gw > 0 ->
					atomic { drain_all(); seq++ };  /* seq_cst RMW */
					wake_rest()
				:: else -> skip
				fi
			:: else -> skip
			fi;
			gw = 0; gc = false
		fi;
		if
		:: res == 2 -> refused = true; i++
		:: res == 1 -> i++
		:: else -> skip
		fi;
		c = 0
	od;
	pdone = true
}

active proctype closer()
{
	byte cp, sl, j, v, x;
	if
	:: skip                         /* never close, or */
	:: skip ->                      /* close at some point */
		atomic { closed == OPEN -> closed = CLOSING };
		gclosed = true;                 /* seq_cst RMW on the gate */
#ifdef BROKEN_EARLY
		cp = head;                      /* before the barrier */
		atomic { drain_all(); drain_c() };
#else
		atomic { drain_all(); drain_c() };   /* membarrier() */
		cp = head;
#endif
#ifdef BROKEN_SEAL
		closed = SEALED;
		close_pos = cp;
#else
		close_pos = cp;
		closed = SEALED;                /* seq_cst store */
#endif
		cp = 0;
#ifndef BROKEN_NOKICK
		if
		:: waiters > 0 ->               /* seq_cst load of the gate */
			seq++;                  /* the closer's own locked RMW */
			wake_rest()
		:: else -> skip
		fi;
		if
		:: swaiters > 0 -> sseq++; wake_space_rest()
		:: else -> skip
		fi;
#endif
	fi;
	kdone = true
}

active proctype consumer()
{
	byte mine = 0, s, tl, hd, c, cp, g, sl, j, v, x;
	bool inq;
	do
	:: got == PUSHES -> break                       /* all accepted: all here */
	:: got < PUSHES -> tl = tail;                   /* acquire */
		if
		:: tl > mine ->                         /* pop */
			mine++; got++;
#ifndef BROKEN_GATEFIRST
			cb!mine;                        /* cons.tail (release) */
			g = swaiters;                   /* cons.gate: compiler barrier only */
#else
			g = swaiters;                   /* the gate read too early */
			cb!mine;
#endif
			if
			:: g > 0 ->
				atomic { drain_c(); sseq++ };  /* seq_cst RMW */
				wake_space_rest()
			:: else -> skip
			fi;
			g = 0
		:: else ->
			c = closed;                     /* acquire */
			cp = close_pos;
			if
			:: c == SEALED && cp <= mine -> break   /* AK_ECLOSED */
			:: else ->
				/* pop_wait: register and re-check */
				s = seq;
				atomic { drain_c(); waiters++ };   /* seq_cst RMW registration */
				atomic { drain_all(); drain_c() }; /* membarrier() */
				c = closed;             /* seq_cst */
				cp = close_pos;
				tl = tail;              /* seq_cst */
				hd = head;              /* seq_cst */
				if
				:: c == CLOSING || (c == SEALED && cp <= mine) || tl > mine ->
					waiters--       /* ready */
#ifndef BROKEN_NOPOLL
				:: !(c == CLOSING || (c == SEALED && cp <= mine) || tl > mine) && hd != tl ->
					waiters--       /* in flight: poll */
				:: !(c == CLOSING || (c == SEALED && cp <= mine) || tl > mine) && hd == tl ->
#else
				:: !(c == CLOSING || (c == SEALED && cp <= mine) || tl > mine) ->
#endif
					atomic { drain_c(); sleepers++ };  /* seq_cst RMW */
					/* futex_wait(data_seq, s): compare and queue */
					atomic {
						if
						:: seq == s -> asleep = true; inq = true
						:: else -> inq = false
						fi
					};
					/* dequeued by a FUTEX_WAKE (the waker counted
					 * us), never slept, or - once per run - a
					 * timeout/signal while queued */
					if
					:: atomic { !asleep -> skip }
					:: atomic { asleep && early > 0 -> asleep = false; early--; inq = false }
					fi;
					atomic {
						if
						:: !inq -> sleepers--; waiters--
						:: else -> skip
						fi;
						inq = false
					}
				fi
			fi
		fi;
		s = 0; tl = 0; hd = 0; c = 0; cp = 0   /* locals die here */
	od;
	cdone = true
}

/* Everyone done: exactly the AK_OK pushes were received, close counted
 * exactly them, and every registration was taken out once. */
active proctype balance()
{
	pdone && cdone && kdone;
	assert(got == ok);
	assert(closed == OPEN || close_pos == ok);
	assert(waiters == 0 && sleepers == 0);
	assert(swaiters == 0 && ssleepers == 0)
}
