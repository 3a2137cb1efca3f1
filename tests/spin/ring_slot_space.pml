/*
 * ring_slot_space.pml - ak_ring_slot on a ring small enough to fill
 * (capacity 1): the producer sleeps in push_wait for space while the
 * consumer pops, stores its tail and reads its gate, and the consumer
 * sleeps in pop_wait for data; close may come at any point, or never.  No
 * lost wake-up in either direction, nothing lost, nothing delivered that
 * its push reported as failed.  (ring_slot_wake.pml has the data side
 * with a producer that never meets a full ring.)
 *
 * Protocol (include/atomkit/ring_slot.h, src/ring_slot.c, src/ring_wait.c).
 *   push_wait:  room: limit - h, else limit = tail + CAP (acquire)
 *               full: if (gate has CLOSED) (relaxed)
 *                         _ak_ring_slot_refuse(): wait for SEALED; AK_ECLOSED
 *                     else sleep(space), then try again
 *               head = h + 1                   announcement, plain store
 *               g = gate                       compiler barrier only
 *               if (g has CLOSED) { wait for SEALED;
 *                   close_pos < h + 1: head = h, AK_ECLOSED }
 *               word = h + 1                   release store: published
 *               if (g has waiters) wake(data)
 *   pop_wait:   if (word > mine) { take it; tail = mine + 1 (release store);
 *                                  if (cons.gate) wake(space) }
 *               else if (sealed && close_pos <= mine) AK_ECLOSED
 *               else sleep(data)
 *   sleep(q):   loop { s = q_seq; other side's gate += WAITER (seq_cst RMW);
 *                      membarrier();
 *                      ready(): closing or sealed (space: always; data:
 *                        once close_pos <= mine), or word > mine (data) /
 *                        tail + CAP > head (space): ready, gate -= WAITER;
 *                        data only: head != word: in flight, poll
 *                      else { q_sleepers++; futex_wait(q_seq, s);
 *                             not dequeued by a waker: q_sleepers--,
 *                             gate -= WAITER;
 *                             ready() again: return } }
 *   wake(q):    q_seq++ (seq_cst RMW); if (q_sleepers) (seq_cst load)
 *                   { m = futex wake all; q_sleepers -= m; gate -= m * WAITER }
 *   close:      closed = CLOSING (CAS); prod.gate |= CLOSED (seq_cst RMW);
 *               membarrier(); close_pos = head; closed = SEALED;
 *               kick: if (prod.gate has waiters) wake(data);
 *                     if (cons.gate has waiters) wake(space)
 *
 * Memory model.  Both sides run on a TSO machine with no fence of their
 * own on the fast path: the producer's head and word stores and the
 * consumer's tail store go to per-thread store buffers (channels `sb`,
 * `cb`) that drain to memory in order at any moment (process `drain`);
 * loads read memory (a thread's own head/position it keeps in locals).
 * membarrier(), by anyone, drains both buffers at once; a thread's own
 * locked RMW (its registration, its sleepers increment, its seq bump)
 * drains its own buffer.  The closer's writes are locked RMWs or seq_cst
 * stores.  The futex compare-and-queue is one step; the waker's
 * subtraction is a separate one.
 *
 * Proves: every push that returned AK_OK is received exactly once and
 * nothing else is (got == ok); with a close, close_pos == ok and the
 * consumer ends at AK_ECLOSED; without one, all PUSHES pushes succeed and
 * are received; no AK_OK after an AK_ECLOSED (asserted at each AK_OK);
 * neither side is left asleep for ever (an invalid end state), the
 * waiter and sleeper counts of both gates return to 0.  PUSHES = 3,
 * capacity 1; -DBIG: 4 pushes, capacity 2.  A wait that ends by itself
 * while queued (timeout, the 1 ms cap, EINTR) races the waker's dequeue
 * once per run, on either side (`early`).
 *
 * broken: assertion violated
 * broken-gatefirst: invalid end state
 * broken-norecheck: invalid end state
 * broken-spacecount: assertion violated
 * The broken variant refuses a push on a full ring without waiting for
 * SEALED (the bug fixed in _ak_ring_slot_refuse()): close has set CLOSED
 * but not yet read the head; the producer, refused, pushes again after a
 * pop, sees CLOSED, waits for SEALED and finds its new announcement
 * counted by the closer's later head read: AK_OK after AK_ECLOSED.  The
 * second (-DBROKEN_GATEFIRST) has the consumer read cons.gate before its
 * tail store: it sees no waiter, the producer registers, its membarrier
 * runs before the consumer's store, it sees the ring still full and
 * sleeps; the store then lands with no wake, and with no close to kick it
 * the producer sleeps for ever (and the consumer waits for its push).
 * The third (-DBROKEN_NORECHECK) has the space sleeper go to sleep right
 * after registering, without reading tail again: a pop whose gate read
 * came before the registration never wakes it.  The fourth
 * (-DBROKEN_SPACECOUNT) has the consumer's wake(space) not take the
 * producer it woke out of the counts (the woken thread does not either):
 * cons.gate keeps a WAITER for a thread that is no longer waiting.
 */
#ifdef BIG
#define PUSHES 4
#define CAP 2
#else
#define PUSHES 3
#define CAP 1
#endif

#define HEAD 0
#define WORD 1

#define OPEN 0
#define CLOSING 1
#define SEALED 2

byte head = 0, word = 0;     /* memory: announced head, published end */
byte tail = 0;               /* memory: released by the consumer up to here */
byte waiters = 0;            /* WAITERs in prod.gate (consumers asleep for data) */
bool gclosed = false;        /* the CLOSED bit in prod.gate */
byte swaiters = 0;           /* WAITERs in cons.gate (producers asleep for space) */
byte closed = OPEN, close_pos = 0;
byte dsleepers = 0, dseq = 0;   /* data_sleepers, data_seq */
byte ssleepers = 0, sseq = 0;   /* space_sleepers, space_seq */
bool casleep = false;        /* the consumer is in the futex queue */
bool pasleep = false;        /* the producer is in the futex queue */
byte early = 1;              /* waits that may end by themselves */
byte ok = 0, got = 0;
bool pdone = false, cdone = false, kdone = false;
chan sb = [4] of { byte, byte };  /* producer store buffer: (var, value) */
chan cb = [2] of { byte };        /* consumer store buffer: tail values */

inline pstore(var, val)
{
	if
	:: var == HEAD -> head = val
	:: else -> word = val
	fi
}

inline drain_p()
{
	do
	:: sb?[_, _] -> sb?v, x; pstore(v, x)
	:: empty(sb) -> break
	od;
	v = 0; x = 0
}

inline drain_c()
{
	do
	:: cb?[_] -> cb?x; tail = x
	:: empty(cb) -> break
	od;
	x = 0
}

/* the rest of wake(q) after the seq bump: FUTEX_WAKE if anyone may sleep,
 * and take the woken thread out of both counts */
inline wake_data_rest()
{
	sl = dsleepers;                    /* seq_cst load */
	if
	:: sl > 0 ->
		atomic { j = (casleep -> 1 : 0); casleep = false };
		atomic { dsleepers = dsleepers - j; waiters = waiters - j; j = 0 }
	:: else -> skip
	fi;
	sl = 0
}

inline wake_space_rest()
{
	sl = ssleepers;                    /* seq_cst load */
	if
	:: sl > 0 ->
		atomic { j = (pasleep -> 1 : 0); pasleep = false };
#ifndef BROKEN_SPACECOUNT
		atomic { ssleepers = ssleepers - j; swaiters = swaiters - j; j = 0 }
#else
		j = 0
#endif
	:: else -> skip
	fi;
	sl = 0
}

active proctype drain()
{
	byte v, x;
end:	do
	:: atomic { sb?v, x -> pstore(v, x); v = 0; x = 0 }
	:: atomic { cb?x -> tail = x; x = 0 }
	od
}

active proctype producer()
{
	byte i = 0, h = 0, lim = CAP, res, s, t, c, gw, sl, j, v, x;
	bool gc, inq, refused = false;
	do
	:: i == PUSHES -> break
	:: else ->
		res = 0;
		if
		:: lim == h -> lim = tail + CAP          /* acquire */
		:: else -> skip
		fi;
		if
		:: lim == h ->                           /* full */
			if
			:: gclosed ->                     /* _ak_ring_slot_full() */
#ifndef BROKEN
				closed == SEALED;         /* _ak_ring_slot_refuse() */
#endif
				res = 2
			:: else ->
				/* AK_EFULL: push_wait sleeps for space */
				do
				:: s = sseq;                  /* acquire */
					atomic { drain_p(); swaiters++ };   /* seq_cst RMW */
					atomic { drain_p(); drain_c() };    /* membarrier() */
#ifndef BROKEN_NORECHECK
					c = closed;           /* seq_cst */
					t = tail;             /* seq_cst */
					if
					:: c != OPEN || t + CAP > h ->
						swaiters--;   /* ready */
						break
					:: else -> skip
					fi;
#endif
					atomic { drain_p(); ssleepers++ };  /* seq_cst RMW */
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
					c = closed;           /* ready() again */
					t = tail;
					if
					:: c != OPEN || t + CAP > h -> break
					:: else -> skip
					fi
				od;
				s = 0; t = 0; c = 0
			fi
		:: else ->
			sb!HEAD, h + 1;                   /* announcement */
			atomic { gw = waiters; gc = gclosed };  /* the one gate read */
			if
			:: gc ->
				closed == SEALED;
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
				sb!WORD, h + 1;           /* publish */
				h++;
				assert(!refused);         /* no AK_OK after AK_ECLOSED */
				ok++;
				res = 1;
				if
				:: gw > 0 ->
					atomic { drain_p(); dseq++ };  /* seq_cst RMW */
					wake_data_rest()
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
		fi
	od;
	pdone = true
}

active proctype closer()
{
	byte cp, sl, j, v, x;
	if
	:: skip                                 /* never close, or */
	:: skip ->                              /* close at some point */
		atomic { closed == OPEN -> closed = CLOSING };
		gclosed = true;                 /* seq_cst RMW on prod.gate */
		atomic { drain_p(); drain_c() };  /* membarrier() */
		cp = head;
		close_pos = cp;
		cp = 0;
		closed = SEALED;                /* seq_cst store */
		if
		:: waiters > 0 -> dseq++; wake_data_rest()     /* the closer's RMW */
		:: else -> skip
		fi;
		if
		:: swaiters > 0 -> sseq++; wake_space_rest()
		:: else -> skip
		fi
	fi;
	kdone = true
}

active proctype consumer()
{
	byte mine = 0, s, w, hd, c, cp, g, sl, j, v, x;
	bool inq;
	do
	:: got == PUSHES -> break               /* every push accepted: all here */
	:: else ->
		w = word;                       /* acquire */
		if
		:: w > mine ->                  /* pop */
			mine++; got++;
#ifndef BROKEN_GATEFIRST
			cb!mine;                /* tail store (release) */
			g = swaiters;           /* cons.gate, compiler barrier only */
#else
			g = swaiters;
			cb!mine;
#endif
			if
			:: g > 0 ->
				atomic { drain_c(); sseq++ };  /* seq_cst RMW */
				wake_space_rest()
			:: else -> skip
			fi
		:: else ->
			c = closed;             /* acquire */
			cp = close_pos;
			if
			:: c == SEALED && cp <= mine -> break   /* AK_ECLOSED */
			:: else ->
				/* pop_wait: sleep for data */
				s = dseq;
				atomic { drain_c(); waiters++ };   /* seq_cst RMW */
				atomic { drain_p(); drain_c() };   /* membarrier() */
				c = closed;
				cp = close_pos;
				w = word;
				hd = head;
				if
				:: c == CLOSING || (c == SEALED && cp <= mine) || w > mine ->
					waiters--       /* ready */
				:: !(c == CLOSING || (c == SEALED && cp <= mine) || w > mine) && hd != w ->
					waiters--       /* in flight: poll */
				:: !(c == CLOSING || (c == SEALED && cp <= mine) || w > mine) && hd == w ->
					atomic { drain_c(); dsleepers++ };  /* seq_cst RMW */
					atomic {
						if
						:: dseq == s -> casleep = true; inq = true
						:: else -> inq = false
						fi
					};
					if
					:: atomic { !casleep -> skip }
					:: atomic { casleep && early > 0 -> casleep = false; early--; inq = false }
					fi;
					atomic {
						if
						:: !inq -> dsleepers--; waiters--
						:: else -> skip
						fi;
						inq = false
					}
				fi
			fi
		fi;
		s = 0; w = 0; hd = 0; c = 0; cp = 0; g = 0
	od;
	cdone = true
}

/* Everyone done: exactly the AK_OK pushes were received, a close counted
 * exactly them, and every registration was taken out once. */
active proctype balance()
{
	pdone && cdone && kdone;
	assert(got == ok);
	assert(closed == OPEN || close_pos == ok);
	assert(waiters == 0 && dsleepers == 0);
	assert(swaiters == 0 && ssleepers == 0)
}
