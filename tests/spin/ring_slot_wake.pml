/*
 * ring_slot_wake.pml - ak_ring_slot's sleeper protocol and close: the
 * producer reads its gate once per push, after announcing its head and
 * before the word store that publishes the batch; a consumer about to
 * sleep polls while a push is announced but not yet published; close
 * freezes the announced head.  No lost wake-up, nothing lost, nothing
 * delivered that its push reported as failed.
 *
 * Protocol (include/atomkit/ring_slot.h, src/ring_slot.c, src/ring_wait.c).
 *   push:          head = t + 1               announcement, plain store
 *                  g = gate                    compiler barrier only
 *                  if (g has CLOSED) { wait for SEALED;
 *                      if close_pos < t + 1: head = t, AK_ECLOSED (stop) }
 *                  word = t + 1                release store: published
 *                  if (g has waiters) wake(data)
 *   wake(q):       q_seq++ (seq_cst RMW); if (sleepers) (seq_cst load)
 *                      { m = futex wake all; sleepers -= m; waiters -= m }
 *   pop_wait:      if (word > mine) take it
 *                  else if (sealed && close_pos <= mine) AK_ECLOSED
 *                  else { s = data_seq; gate += WAITER (seq_cst RMW);
 *                         membarrier();    every running thread fences
 *                         closing, or word > mine, or sealed and drained:
 *                             ready (gate -= WAITER)
 *                         else head != word: in flight, poll (gate -= WAITER)
 *                         else { sleepers++; futex_wait(data_seq, s);
 *                                not dequeued by a waker: sleepers--,
 *                                gate -= WAITER } }
 *   close:         closed = CLOSING (CAS); gate |= CLOSED (seq_cst RMW);
 *                  membarrier(); close_pos = head; closed = SEALED;
 *                  if (gate has waiters) wake(data)
 *
 * Memory model.  The producer runs on a TSO machine with no fence of its
 * own: its stores go to a store buffer (channel `sb`) that drains to memory
 * in order at any moment (process `drain`), while its loads read memory
 * (or its own latest buffered store of the same variable, which the model
 * keeps in locals).  membarrier() drains the producer's buffer at once; a
 * locked RMW by the producer (the seq bump) drains it too, but the
 * closer's seq bump (its kick) does not.  The consumer's and closer's
 * writes are locked RMWs or seq_cst stores: not buffered.  The ring never
 * fills here; ring_slot_space.pml has a ring of capacity 1, the space
 * sleeper and the consumer's store buffer.
 *
 * Proves, with the close at any point of the run: every push that returned
 * AK_OK is received exactly once and nothing else is (`got == ok`); the
 * consumer ends with AK_ECLOSED and never sleeps for ever (a sleeper left
 * behind is an invalid end state); the waiter and sleeper counts return to
 * 0.  ITEMS = 3; -DBIG: 4.  A wait that the kernel ends by itself while
 * queued (timeout, the 1 ms cap, EINTR) races the waker's dequeue once per
 * run (`early`), as in ring_wake.pml.
 *
 * broken: assertion violated
 * broken-recheck: invalid end state
 * broken-late: assertion violated
 * broken-nopoll: invalid end state
 * The broken variant reads the gate before announcing the head: close can
 * read the head before the announcement and miss a push that then
 * publishes with AK_OK beyond close_pos; the consumer, drained up to
 * close_pos, reports AK_ECLOSED and never takes it (got < ok).  The second
 * (-DBROKEN_RECHECK) has the consumer sleep after registering without
 * looking at the word again: a push that read the gate just before the
 * registration publishes and never wakes it.  The third (-DBROKEN_LATE)
 * reads the gate after the word store (the close check after publishing):
 * the consumer can take the item, and the push, seeing CLOSED with
 * close_pos below it, reports AK_ECLOSED for an item that was delivered
 * (got > ok).  The fourth (-DBROKEN_NOPOLL) sleeps even when head is past
 * the published word: a push whose gate read came before the registration
 * publishes without waking it.
 */
#ifdef BIG
#define ITEMS 4
#else
#define ITEMS 3
#endif

#define HEAD 0
#define WORD 1

#define OPEN 0
#define CLOSING 1
#define SEALED 2

byte head = 0, word = 0;     /* memory: announced head, published end */
byte waiters = 0;            /* the WAITER count in prod.gate */
bool gclosed = false;        /* the CLOSED bit in prod.gate */
byte closed = OPEN, close_pos = 0;
byte sleepers = 0;           /* data_sleepers */
byte seq = 0;                /* data_seq (futex word) */
bool asleep = false;         /* the consumer is in the kernel's futex queue */
byte early = 1;              /* waits that may end by themselves */
byte ok = 0, got = 0;
bool pdone = false, cdone = false, kdone = false;
chan sb = [4] of { byte, byte };  /* producer store buffer: (var, value) */

inline store(var, val)
{
	if
	:: var == HEAD -> head = val
	:: else -> word = val
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

/* wake(data): the producer's after its push (its locked RMW drains its
 * own buffer), the closer's kick (a locked RMW of the closer's: the
 * producer's buffer is not drained by it) */
inline wake(own)
{
	atomic {
		if
		:: own -> drain_all()
		:: else -> skip
		fi;
		seq++                      /* seq_cst RMW */
	};
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
	byte t = 0, gw, sl, j, v, x;
	bool gc;
	do
	:: t == ITEMS -> break
	:: else ->
#ifdef BROKEN
		atomic { gw = waiters; gc = gclosed };  /* gate read too early */
		sb!HEAD, t + 1;
#else
		sb!HEAD, t + 1;                         /* announcement */
#ifndef BROKEN_LATE
		atomic { gw = waiters; gc = gclosed };  /* the one gate read */
#endif
#endif
#ifdef BROKEN_LATE
		sb!WORD, t + 1;                         /* publish first */
		atomic { gw = waiters; gc = gclosed };
#endif
		if
		:: gc ->
			closed == SEALED;
			if
			:: close_pos < t + 1 ->
				sb!HEAD, t;             /* undo: AK_ECLOSED */
				break
			:: else -> skip             /* close counted us */
			fi
		:: else -> skip
		fi;
#ifndef BROKEN_LATE
		sb!WORD, t + 1;                         /* publish */
#endif
		ok++;                                   /* push returned AK_OK */
		if
		:: gw > 0 -> wake(true)
		:: else -> skip
		fi;
		t++
	od;
	pdone = true
}

active proctype closer()
{
	byte cp, sl, j, v, x;
	atomic { closed == OPEN -> closed = CLOSING };
	gclosed = true;                 /* seq_cst RMW on the gate */
	atomic { drain_all() };         /* membarrier() */
	cp = head;
	close_pos = cp;
	cp = 0;
	closed = SEALED;                /* seq_cst store */
	if
	:: waiters > 0 -> wake(false)   /* seq_cst load of the gate */
	:: else -> skip
	fi;
	kdone = true
}

active proctype consumer()
{
	byte mine = 0, s, w, hd, c, v, x;
	bool inq;
	do
	:: word > mine -> mine++; got++                       /* pop */
	:: word <= mine && closed == SEALED && close_pos <= mine -> break  /* AK_ECLOSED */
	:: word <= mine && !(closed == SEALED && close_pos <= mine) ->
		s = seq;
		waiters++;                     /* seq_cst RMW registration */
		atomic { drain_all() };        /* membarrier() */
#ifdef BROKEN_RECHECK
		if
		:: true ->
#else
		c = closed;
		w = word;
		hd = head;
		if
		:: c == CLOSING || w > mine || (c == SEALED && close_pos <= mine) ->
			waiters--              /* ready */
#ifndef BROKEN_NOPOLL
		:: !(c == CLOSING || w > mine || (c == SEALED && close_pos <= mine)) && hd != w ->
			waiters--              /* in flight: poll */
		:: !(c == CLOSING || w > mine || (c == SEALED && close_pos <= mine)) && hd == w ->
#else
		:: !(c == CLOSING || w > mine || (c == SEALED && close_pos <= mine)) ->
#endif
#endif
			sleepers++;            /* seq_cst RMW */
			/* futex_wait(data_seq, s): compare and queue, one step */
			atomic {
				if
				:: seq == s -> asleep = true; inq = true
				:: else -> inq = false
				fi
			};
			/* dequeued by a FUTEX_WAKE (the waker counted us), never
			 * slept, or - once per run - a timeout/signal while queued,
			 * where the kernel unqueues the thread itself */
			if
			:: atomic { !asleep -> skip }
			:: atomic { asleep && early > 0 -> asleep = false; early--; inq = false }
			fi;
			atomic {
				if
				:: !inq -> sleepers--; waiters--  /* nobody took us out */
				:: else -> skip                   /* the waker took us out */
				fi;
				inq = false
			}
		fi;
		s = 0; w = 0; hd = 0; c = 0  /* locals die here (fewer states) */
	od;
	cdone = true
}

/* Everyone done: exactly the AK_OK pushes were received, and every
 * registration was taken out exactly once. */
active proctype balance()
{
	pdone && cdone && kdone;
	assert(got == ok);
	assert(waiters == 0 && sleepers == 0)
}
