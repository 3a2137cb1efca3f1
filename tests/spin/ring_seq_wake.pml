/*
 * ring_seq_wake.pml - ak_ring_seq's targeted wake-ups (src/ring_seq.c:
 * wait_loop, forward, _ak_ring_seq_wake; ring_seq.h: _ak_ring_seq_notify)
 * on the consumer side: no sleeper is left asleep while what it waits for
 * is in the ring.  The producer side is the same code with the roles of
 * elements and free slots swapped.
 *
 * Ring, abstracted: `ready` published elements at the head; `late` = 1
 * while the head slot is claimed but not yet published (a reserve, or a
 * producer preempted mid-push), with `behind` published elements after it
 * that nobody may take yet (AK_EAGAIN).  A pop of n succeeds iff !late and
 * ready >= n.
 *
 * Events: ev 0 for one-element waiters, ev 1 for bulk waiters, each with
 * seq, waiters and the kernel's futex queue (FIFO, as Linux wakes).
 *   waiter:  try; loop { prepare: waiters++, t = seq (the fence: one SC
 *            step); re-check (abort: waiters--, if it succeeds);
 *            futex_wait(seq, t): sleep unless seq != t; on return,
 *            waiters-- only if no waker dequeued us (we never slept); try
 *            again }; a waiter that slept and succeeded forwards one
 *            notify if the ring is still not empty (ready + late + behind
 *            > 0).
 *   notify(k) after the state change (SC: a later step, as after the
 *            fence): if waiters[0]: seq[0]++ and dequeue up to k from
 *            queue 0 (one step, the futex wake), then, as a separate step,
 *            waiters[0] -= the number dequeued (the kernel's answer); if
 *            waiters[1]: the same for all of queue 1.
 *   So a thread the kernel woke stops counting as a waiter before it runs
 *   (src/ring_seq.c, "waiter accounting"), and at the end every count is
 *   back to 0 (asserted: no waiter is counted for ever, which would cost a
 *   wake call on every later push).
 * Producer: delivers TOTAL elements in pushes of 1 or 2 (notify(k) each),
 * and may once reserve the head slot when the ring is empty, push behind
 * it, and commit later (notify(1)).
 *
 * Proves: every interleaving ends with every consumer done: none is left
 * in the futex queue (Spin reports that as an invalid end state), for
 *   A  2 consumers popping one element each (2 elements), so both can sleep
 *      behind a late head with an element published after it;
 *   B  a one-element consumer and a bulk consumer of 2 (3 elements), so a
 *      bulk waiter can be woken by an element it cannot use; B' the same
 *      with the bulk's two elements pushed only once the one-element
 *      consumer is served (so a wake it missed is not made up by later
 *      pushes);
 * (2.0 M states with the timeout race below, 0.68 M without); -DBIG adds
 * C: one consumer popping twice and a bulk of 2 (4 elements, 14.9 M
 * states, ~107 s on the shared box).  Three one-element consumers (21 M
 * states, before the timeout race was added) were checked once by hand:
 * 0 errors, complete search.
 * One wait per run may end while the thread is still queued (ETIMEDOUT,
 * EINTR: the kernel unqueues it itself, racing a waker's dequeue; the
 * thread then unregisters itself).  Cancels and close are not modelled:
 * they wake everyone through the same accounted wake.
 *
 * broken: invalid end state
 * broken-bulk: invalid end state
 * broken-guess: invalid end state
 * broken-spurious: assertion violated
 * The broken variant drops the forward: consumers woken by elements behind
 * a late head find AK_EAGAIN and sleep again; the commit wakes one, and
 * the rest stay asleep beside published elements.  The second
 * (-DBROKEN_BULK) puts bulk waiters in the one-element queue: a wake meant
 * for a single element goes to a bulk waiter that cannot use it.  The third
 * (-DBROKEN_GUESS) has the waker take min(k, waiters) out of the count, a
 * guess, instead of the number the kernel dequeued: a registered waiter not
 * yet asleep is counted out, finds seq moved, unregisters itself too, and
 * the count falls below the real sleepers; a later sleeper then counts 0
 * and the push that should wake it makes no call.  (The balance assertion
 * is left out of that variant, so it fails for the lost wake itself.)
 * The fourth (-DBROKEN_SPURIOUS) has a wait the kernel ended by itself
 * report 0, as if a waker had dequeued it: nobody takes the thread out of
 * the count, which stays above 0 for ever (a spare wake call on every
 * later push); src/futex.c relies on 0 meaning "a FUTEX_WAKE dequeued us".
 */
#define NC 3

byte ready = 0, late = 0, behind = 0;
byte seq[2];
short waiters[2];  /* signed: the broken-guess variant drives it below 0 */
chan q0 = [NC] of { byte };
chan q1 = [NC] of { byte };
bool asleep[NC];
bool c0done = false;  /* consumer 0 finished (for the gated producer) */
byte early = 1;       /* waits that may end while queued (timeout/signal) */

inline wake(e, k)
{
#ifdef BROKEN_GUESS
	atomic {
		j = (e == 0 -> k : waiters[e]);
		if
		:: j > waiters[e] -> j = waiters[e]
		:: else -> skip
		fi;
		waiters[e] = waiters[e] - j;
		j = 0
	};
#endif
	/* the futex wake: bump, dequeue (j = how many the kernel woke) */
	atomic {
		j = 0;
		if
		:: e == 0 ->
			seq[0]++;
			do
			:: j < k && nempty(q0) -> q0?x; asleep[x] = false; j++
			:: else -> break
			od
		:: else ->
			seq[1]++;
			do
			:: nempty(q1) -> q1?x; asleep[x] = false; j++
			:: else -> break
			od
		fi;
		x = 0
	};
	/* a separate step: the woken may run before the waker subtracts */
	atomic {
#ifndef BROKEN_GUESS
		waiters[e] = waiters[e] - j;
#endif
		j = 0
	}
}

inline notify(k)
{
	atomic { w0 = waiters[0]; w1 = waiters[1] };
	if
	:: w0 > 0 -> wake(0, k)
	:: else -> skip
	fi;
	if
	:: w1 > 0 -> wake(1, k)
	:: else -> skip
	fi;
	w0 = 0; w1 = 0
}

inline attempt(n, ok)
{
	atomic {
		if
		:: late == 0 && ready >= n -> ready = ready - n; ok = true
		:: else -> ok = false
		fi
	}
}

proctype consumer(byte id; byte n; byte times)
{
#ifdef BROKEN_BULK
	byte e = 0, t, w0, w1, j, x;
#else
	byte e = (n > 1 -> 1 : 0), t, w0, w1, j, x;
#endif
	bool ok, slept, inq;

	do
	:: times == 0 -> break
	:: else ->
		slept = false;
		attempt(n, ok);
		do
		:: ok -> break
		:: else ->
			/* _ak_event_prepare, then the re-check (one step: a notify
			 * between the two only finds the waiter registered) */
			atomic {
				waiters[e]++;
				t = seq[e];
				if
				:: late == 0 && ready >= n -> ready = ready - n; ok = true; waiters[e]--
				:: else -> skip
				fi
			};
			if
			:: ok -> break
			:: else -> skip
			fi;
			/* _ak_event_wait: futex_wait(&seq, t) sleeps only while seq == t */
			atomic {
				if
				:: seq[e] == t ->
					if
					:: e == 0 -> q0!id
					:: else -> q1!id
					fi;
					asleep[id] = true;
					inq = true
				:: else -> inq = false
				fi
			};
			/* The wait ends while still queued (timeout, signal):
			 * the kernel unqueues the thread itself, under the same
			 * lock as a FUTEX_WAKE's dequeue, so no waker counts it
			 * and it unregisters itself (src/ring_seq.c seq_sleep()).
			 * Once per run: with no bound every lost wake-up could
			 * be rescued by a timeout. */
			if
			:: atomic { asleep[id] && early > 0 ->
				if
				:: e == 0 -> q0??eval(id)
				:: else -> q1??eval(id)
				fi;
				asleep[id] = false;
				early--;
#ifndef BROKEN_SPURIOUS
				inq = false
#endif
			   }
			:: atomic { !asleep[id] -> skip }
			fi;
			/* woken (its waker unregistered it) or never slept or
			 * timed out (unregisters itself), then try again */
			atomic {
				if
				:: !inq -> waiters[e]--
				:: else -> skip
				fi;
				inq = false;
				slept = true;
				t = 0;
				if
				:: late == 0 && ready >= n -> ready = ready - n; ok = true
				:: else -> ok = false
				fi
			}
		od;
#ifndef BROKEN
		/* forward(): a woken waiter hands a wake on while the ring is
		 * not empty */
		if
		:: slept && ready + late + behind > 0 -> notify(1)
		:: else -> skip
		fi;
#endif
		times--
	od;
	if
	:: id == 0 -> c0done = true
	:: else -> skip
	fi
}

proctype producer(byte total)
{
	byte left, k, w0, w1, j, x;
	bool reserved = false;

	left = total;
	do
	:: left == 0 && late == 0 -> break
	:: left > 0 ->
		if
		:: k = 1
		:: left >= 2 -> k = 2
		fi;
		atomic {
			if
			:: late -> behind = behind + k
			:: else -> ready = ready + k
			fi;
			left = left - k
		};
		notify(k);
		k = 0
	:: !reserved && left > 0 && ready == 0 && late == 0 ->
		/* reserve the head slot; its element counts as delivered at commit */
		atomic { late = 1; reserved = true; left-- }
	:: late ->
		/* commit: the head and everything behind it become available */
		atomic { ready = ready + 1 + behind; behind = 0; late = 0 };
		notify(1)
	od
}

/* One element, then (once consumer 0 is served) the bulk's two: the bulk
 * waiter cannot use the first, so the wake for it must reach consumer 0. */
proctype producer_gated()
{
	byte k, w0, w1, j, x;

	atomic { ready = ready + 1 };
	notify(1);
	c0done;
	if
	:: k = 2; atomic { ready = ready + 2 }; notify(k)
	:: atomic { ready = ready + 1 }; notify(1);
	   atomic { ready = ready + 1 }; notify(1)
	fi
}

init
{
	atomic {
		if
		:: /* A: two one-element consumers behind a possibly late head */
			run producer(2);
			run consumer(0, 1, 1);
			run consumer(1, 1, 1)
		:: /* B: a one-element and a bulk consumer */
			run producer(3);
			run consumer(0, 1, 1);
			run consumer(1, 2, 1)
		:: /* B': the same, the bulk's elements only after consumer 0 */
			run producer_gated();
			run consumer(0, 1, 1);
			run consumer(1, 2, 1)
#ifdef BIG
		:: /* C: two pops and a bulk */
			run producer(4);
			run consumer(0, 1, 2);
			run consumer(1, 2, 1)
#endif
		fi
	};
#ifndef BROKEN_GUESS
	/* everyone done: every registration was taken out exactly once */
	_nr_pr == 1 -> assert(waiters[0] == 0 && waiters[1] == 0)
#endif
}
