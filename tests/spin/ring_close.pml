/*
 * ring_close.pml - ak_ring's close racing a single producer's copying
 * pushes, a consumer that drains with pop_wait (and may sleep), on a ring
 * of capacity 1 so that the producer also meets a full ring: the refusal
 * before any reservation, the reservation that sees the CLOSED bit, and
 * the consumer's AK_ECLOSED.
 *
 * Protocol (include/atomkit/ring.h, src/ring.c, src/ring_wait.c).
 *   push (SP):  room from the cached limit, else limit = cons.tail + CAP
 *               full:  if (closed != OPEN) (relaxed load)
 *                          _ak_ring_refuse(): wait for SEALED; AK_ECLOSED
 *                      else AK_EFULL (push_wait retries)
 *               head = h + 1                  reservation, plain store
 *               g = gate                      compiler barrier only
 *               if (g has CLOSED) _ak_ring_closed_check(): wait for SEALED;
 *                   close_pos < h + 1: head = h (undo), AK_ECLOSED
 *               (element written)
 *               tail = h + 1                  release store
 *               if (g has waiters) wake(data)
 *   wake(q):    q_seq++ (seq_cst RMW); if (sleepers) (seq_cst load)
 *                   { m = futex wake all; sleepers -= m; waiters -= m }
 *   pop_wait:   if (tail > mine) take it, cons.tail = mine + 1
 *               else if (closed == SEALED && close_pos <= mine) AK_ECLOSED
 *               else { s = data_seq; gate += WAITER (seq_cst RMW);
 *                      membarrier();
 *                      ring_ready(): closed == CLOSING, or SEALED with
 *                        close_pos <= mine, or tail > mine: ready;
 *                        head != tail: in flight, poll; else
 *                      sleepers++; futex_wait(data_seq, s); not dequeued
 *                      by a waker: sleepers--, gate -= WAITER }
 *   close:      closed: OPEN -> CLOSING (CAS, elects the closer);
 *               gate |= CLOSED (seq_cst RMW); membarrier();
 *               close_pos = head; closed = SEALED (seq_cst store);
 *               kick_waiters(): if (gate has waiters) wake(data)
 *
 * Memory model.  The producer runs on a TSO machine with no fence of its
 * own: its head and tail stores (the undo too) go to a store buffer
 * (channel `sb`) that drains to memory in order at any moment (process
 * `drain`); its loads read memory, except its own head, which it keeps in
 * a local.  membarrier() drains the buffer at once; the producer's locked
 * RMW (the data_seq bump of its wake) drains it too.  The consumer's and
 * closer's writes are locked RMWs or seq_cst stores, except the
 * consumer's cons.tail store, which is modelled as immediate: nothing here
 * reads it in a store->load (Dekker) pair, as no producer sleeps for space
 * (ring_slot_space.pml models that side).  A push_wait that finds the ring
 * full retries; here that retry waits for what it polls (cons.tail or
 * `closed`) to change, so a producer stuck on a full ring is a blocked
 * process too.
 *
 * Proves, with the close at any point: every push that returned AK_OK is
 * received, and nothing else is (got == ok; the consumer stops only at
 * AK_ECLOSED); close_pos == the number of AK_OK pushes; once a push of the
 * producer returned AK_ECLOSED, every later one does too (asserted at each
 * AK_OK); no one is left blocked for ever (a sleeper left behind after the
 * close or the last push is an invalid end state); the waiter and sleeper
 * counts return to 0.  PUSHES = 3 push_wait calls, capacity 1; -DBIG: 4
 * calls, capacity 2.  A futex wait that ends by itself while queued
 * (timeout, the 1 ms cap, EINTR) races the waker's dequeue once per run,
 * as in ring_wake.pml.
 *
 * broken: assertion violated
 * broken-early: assertion violated
 * broken-seal: assertion violated
 * broken-nopoll: invalid end state
 * broken-nokick: invalid end state
 * The broken variant is the refusal that does not wait for SEALED (the
 * bug fixed in _ak_ring_refuse()): the closer wins its CAS, the producer
 * finds the ring full and `closed` not open and returns AK_ECLOSED at
 * once; the consumer pops; the producer's next push reserves and returns
 * AK_OK after an AK_ECLOSED, because the closer's head read comes after
 * the reservation: either the push read a gate without CLOSED (the
 * closer had not set it yet: the scenario of tests/unit/ring_rv.c), or it
 * saw CLOSED, waited for SEALED and found itself below close_pos (the
 * closer's membarrier came before the reservation; the trail Spin
 * reports first).  The second (-DBROKEN_EARLY) has the
 * closer read prod.head before its membarrier: the reservation still in
 * the producer's store buffer is missed, the push (whose gate read came
 * before the CLOSED bit) publishes with AK_OK, and close_pos is one short
 * (the consumer may also stop at close_pos before it and lose it).  The
 * third (-DBROKEN_SEAL) stores SEALED before close_pos: the producer that
 * saw CLOSED reads the old close_pos and refuses (and undoes) a
 * reservation the closer counted; its next push, at the same position,
 * then reads the new close_pos and returns AK_OK after AK_ECLOSED (had it
 * stopped, close_pos would end above the AK_OK pushes).  The fourth
 * (-DBROKEN_NOPOLL) lets the sleeper sleep while a push is reserved but
 * not published (head != tail): that push read the gate before the
 * registration and publishes without a wake; after the last push nothing
 * wakes the consumer.  The fifth (-DBROKEN_NOKICK) has close wake nobody:
 * a consumer asleep on an empty ring stays asleep after the close.
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
byte early = 1;              /* waits that may end by themselves */
byte ok = 0, got = 0;        /* pushes that returned AK_OK; items received */
bool pdone = false, cdone = false, kdone = false;
chan sb = [4] of { byte, byte };  /* producer store buffer: (var, value) */

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
	od
}

active proctype producer()
{
	byte i = 0, h = 0, lim = CAP, c, res, sl, j, v, x;
	byte gw;
	bool gc, refused = false;
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
				/* AK_EFULL: push_wait retries once the
				 * consumer has moved or close has begun */
				(ctail != c || closed != OPEN)
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
	atomic { closed == OPEN -> closed = CLOSING };
	gclosed = true;                 /* seq_cst RMW on the gate */
#ifdef BROKEN_EARLY
	cp = head;                      /* before the barrier */
	atomic { drain_all() };
#else
	atomic { drain_all() };         /* membarrier() */
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
#endif
	kdone = true
}

active proctype consumer()
{
	byte mine = 0, s, tl, hd, c, cp, v, x;
	bool inq;
	do
	:: tl = tail;                                   /* acquire */
		if
		:: tl > mine -> mine++; got++; ctail = mine   /* pop */
		:: else ->
			c = closed;                     /* acquire */
			cp = close_pos;
			if
			:: c == SEALED && cp <= mine -> break   /* AK_ECLOSED */
			:: else ->
				/* pop_wait: register and re-check */
				s = seq;
				waiters++;              /* seq_cst RMW registration */
				atomic { drain_all() }; /* membarrier() */
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
					sleepers++;     /* seq_cst RMW */
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
	assert(close_pos == ok);
	assert(waiters == 0 && sleepers == 0)
}
