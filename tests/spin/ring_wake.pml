/*
 * ring_wake.pml - the ring's data wake-up: a single producer's copying push
 * reads the gate once, after its reservation; a consumer about to sleep
 * must then poll while a push is in flight.  No lost wake-up.
 *
 * Protocol (include/atomkit/ring.h, src/ring.c).
 *   push (SP, copying):  head = t + 1            reservation, plain store
 *                        g = gate                 compiler barrier only
 *                        (element written)
 *                        tail = t + 1             release store
 *                        if (g has waiters) {
 *                            data_seq++           (seq_cst RMW)
 *                            if (sleepers)        (seq_cst load)
 *                                m = wake all; sleepers -= m; gate -= m * WAITER }
 *   pop_wait:            if (tail > mine) take it
 *                        else { s = data_seq; gate += WAITER (seq_cst RMW);
 *                               membarrier();     every running thread fences
 *                               if tail > mine: ready   (gate -= WAITER)
 *                               else if head != tail: in flight, poll
 *                               else { sleepers++ (seq_cst RMW);
 *                                      futex_wait(data_seq, s): the kernel
 *                                      compares and queues in one step;
 *                                      if not dequeued by a waker (never
 *                                      slept): sleepers--, gate -= WAITER } }
 *   So the waker takes the thread it woke out of both counts (the futex
 *   wake reports how many it dequeued), and makes no wake call while no
 *   waiter has counted itself a sleeper: one that has not yet will find
 *   data_seq moved and not sleep.  At the end both counts are back to 0
 *   (asserted).
 *
 * Memory model.  The producer runs on a TSO machine with no fence of its
 * own: its stores go to a store buffer (channel `sb`) that drains to memory
 * in order at any moment (process `drain`), while its gate load reads
 * memory.  membarrier() drains the producer's buffer at once (a barrier on
 * every CPU running a thread of the process); the locked data_seq bump
 * drains it too.  The consumer's registration is a locked RMW and it has no
 * other stores, so its buffer is not modelled.
 *
 * Proves: the consumer receives all ITEMS items and never sleeps for ever
 * (Spin reports a sleeper left behind as an invalid end state).  ITEMS = 3;
 * -DBIG: 5.  The zero-copy commit and ring_var read the gate again after
 * publishing (the two-read protocol this model's producer replaced), so a
 * sleeper that polls while their reservation is open is woken by the
 * commit; that path is the classic Dekker pair and is not modelled here.
 *
 * A waiter's wait may also end while it is still queued (ETIMEDOUT, the
 * 1 ms cap, EINTR): then it unqueued itself, no FUTEX_WAKE counted it,
 * and it takes itself out of both counts, as src/ring.c does for every
 * return but AK_OK.  That race against the waker's dequeue is modelled,
 * for one such return per run (more would let every lost wake-up be
 * rescued by a timeout, and the broken variants would pass).
 *
 * broken: invalid end state
 * broken-order: invalid end state
 * broken-spurious: assertion violated
 * The broken variant sleeps without looking at head: it registers after
 * the push read the gate, sees the reservation but not yet the tail, and
 * sleeps; the push publishes without waking it (it saw no waiter), and
 * after the last item nothing ever does.  The second (-DBROKEN_ORDER) has
 * the waker read sleepers before bumping data_seq: it sees none, the
 * waiter then counts itself and sleeps on the old value, and the bump
 * comes with no wake call.  The third (-DBROKEN_SPURIOUS) lets a wait
 * that the kernel ended by itself report 0, as if a waker had dequeued
 * it: the thread leaves neither count, which then stay above 0 for ever
 * (every later push would make a spare wake call).  src/futex.c relies on
 * the kernel returning 0 only to a thread a FUTEX_WAKE dequeued.
 */
#ifdef BIG
#define ITEMS 5
#else
#define ITEMS 3
#endif

#define HEAD 0
#define TAIL 1

byte head = 0, tail = 0;   /* memory */
byte waiters = 0;          /* the WAITER count in prod.gate */
byte sleepers = 0;         /* data_sleepers */
byte seq = 0;              /* data_seq (futex word) */
bool asleep = false;       /* the consumer is in the kernel's futex queue */
byte early = 1;            /* waits that may end by timeout/signal (a few:
			    * with no bound, every sleeper could escape) */
bool cdone = false;
chan sb = [4] of { byte, byte };  /* producer store buffer: (var, value) */
bool pdone = false;

inline drain_all()
{
	do
	:: sb?[_, _] ->
		sb?var, val;
		if
		:: var == HEAD -> head = val
		:: else -> tail = val
		fi
	:: empty(sb) -> break
	od
}

active proctype drain()
{
	byte var, val;
end:	do
	:: atomic { sb?var, val ->
		if
		:: var == HEAD -> head = val
		:: else -> tail = val
		fi }
	od
}

active proctype producer()
{
	byte t = 0, g, sl, j, var, val;
	do
	:: t == ITEMS -> break
	:: else ->
		sb!HEAD, t + 1;          /* reservation */
		g = waiters;             /* the one gate read (memory) */
		sb!TAIL, t + 1;          /* publish */
		if
		:: g > 0 ->
#ifdef BROKEN_ORDER
			sl = sleepers;
			atomic { drain_all(); seq++ };
#else
			atomic { drain_all(); seq++ };     /* seq_cst RMW */
			sl = sleepers;                     /* seq_cst load */
#endif
			if
			:: sl > 0 ->
				/* FUTEX_WAKE: dequeue; m = how many */
				atomic { j = (asleep -> 1 : 0); asleep = false };
				atomic { sleepers = sleepers - j; waiters = waiters - j; j = 0 }
			:: else -> skip
			fi;
			sl = 0
		:: else -> skip
		fi;
		t++
	od;
	pdone = true
}

active proctype consumer()
{
	byte mine = 0, s, tl, hd, var, val;
	bool inq;
	do
	:: mine == ITEMS -> break
	:: mine < ITEMS && tail > mine -> mine++   /* pop */
	:: mine < ITEMS && tail <= mine ->
		s = seq;
		waiters++;                     /* seq_cst RMW registration */
		atomic { drain_all() };        /* membarrier() */
		tl = tail;
		hd = head;
		if
		:: tl > mine -> waiters--      /* ready */
#ifndef BROKEN
		:: tl <= mine && hd != tl -> waiters--  /* in flight: poll */
		:: tl <= mine && hd == tl ->
#else
		:: tl <= mine ->
#endif
			sleepers++;            /* seq_cst RMW */
			/* futex_wait(data_seq, s): compare and queue, one step */
			atomic {
				if
				:: seq == s -> asleep = true; inq = true
				:: else -> inq = false
				fi
			};
			/* The wait returns: dequeued by a FUTEX_WAKE (the waker
			 * counted us), never slept, or - while still queued - a
			 * timeout, the 1 ms poll cap or a signal, where the kernel
			 * unqueues the thread itself, so no FUTEX_WAKE can count it
			 * (the two unqueues take the same hash-bucket lock: one
			 * step each here, whichever comes first). */
			if
			:: atomic { !asleep -> skip }
			:: atomic { asleep && early > 0 -> asleep = false; early--;
#ifndef BROKEN_SPURIOUS
					inq = false
#endif
				}
			fi;
			atomic {
				if
				:: !inq -> sleepers--; waiters--  /* nobody took us out */
				:: else -> skip                   /* the waker took us out */
				fi;
				inq = false
			}
		fi
	od;
	cdone = true
}

#ifndef BROKEN_ORDER
/* Everyone done: every registration was taken out exactly once. */
active proctype balance()
{
	pdone && cdone;
	assert(waiters == 0 && sleepers == 0)
}
#endif
