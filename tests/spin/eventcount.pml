/*
 * eventcount.pml - the eventcount of include/atomkit/internal/event.h and
 * its waiter pattern: no lost wake-up.
 *
 * Protocol.  struct _ak_event { seq; waiters; }.
 *   waiter:   for (;;) { if (cond) return;
 *                        t = _ak_event_prepare(ev);   waiters++ (seq_cst RMW), t = seq
 *                        if (cond) { _ak_event_abort(ev); return; }   waiters--
 *                        _ak_event_wait(ev, t, ...); }
 *             _ak_event_wait: futex_wait(&seq, t) (sleeps only while seq == t,
 *             checked atomically with going to sleep), then waiters--.
 *   notifier: change the state (cond = 1: a plain release store), then
 *             _ak_event_notify: full fence; if (waiters != 0) { seq++; wake all }.
 *
 * Memory model.  Spin explores interleavings of a sequentially consistent
 * machine, but this protocol exists because of store->load reordering, so
 * the notifier runs on a TSO (x86) machine: its store to `cond` goes to a
 * store buffer and reaches memory at any later moment (process `drain`),
 * while its later load of `waiters` already reads memory.  The full fence
 * in _ak_event_notify empties the buffer first.  The waiter's registration
 * is a locked RMW (seq_cst), which empties its own buffer; it has no other
 * stores, so its buffer is not modelled.
 *
 * Proves: with NW = 2 waiters and a notifier making ROUNDS = 2 state
 * changes (cond counts up; waiter w waits for cond >= 1, then >= 2), every
 * waiter returns: no execution leaves a waiter asleep after the last
 * notify (Spin reports that as an invalid end state).  One spurious futex
 * return, at any moment, is allowed (the waiter must cope by re-checking).  -DBIG: 3
 * waiters, 3 rounds.
 *
 * broken: invalid end state
 * The broken variant drops the fence in notify (the store may still sit in
 * the buffer when waiters is read as 0): a waiter registers, still sees the
 * old state in memory, sleeps, and nobody wakes it.
 */
#ifdef BIG
#define NW 3
#define ROUNDS 3
#else
#define NW 2
#define ROUNDS 2
#endif

byte cond = 0;            /* the protected state, in memory */
byte seq = 0;
byte waiters = 0;
bool asleep[NW];
byte spurious = 1;        /* budget of spurious futex returns (unbounded
                             ones would let a sleeper escape any lost wake-up) */
/* the notifier's store buffer: at most one pending store to cond */
bool sb_full = false;
byte sb_val;

inline notify()
{
#ifndef BROKEN
	/* full fence: the pending store reaches memory before the load below */
	(!sb_full);
#endif
	if
	:: waiters != 0 ->
		atomic {
			seq++;
			/* FUTEX_WAKE all */
			for (i_ : 0 .. NW - 1) { asleep[i_] = false }
		}
	:: else -> skip
	fi
}

active proctype notifier()
{
	byte r = 1, i_;
	do
	:: r > ROUNDS -> break
	:: else ->
		(!sb_full);                       /* TSO: stores drain in order */
		atomic { sb_val = r; sb_full = true }  /* cond = r (release store) */
		notify();
		r++
	od
}

/* the store buffer drains to memory at an arbitrary moment */
active proctype drain()
{
end:	do
	:: atomic { sb_full -> cond = sb_val; sb_full = false }
	od
}

proctype waiter(byte me)
{
	byte want = 1, t;
	do
	:: want > ROUNDS -> break
	:: else ->
		if
		:: cond >= want -> want++   /* condition true: done with this round */
		:: else ->
			atomic { waiters++; t = seq }   /* _ak_event_prepare */
			if
			:: cond >= want ->
				waiters--;             /* _ak_event_abort */
				want++
			:: else ->
				/* _ak_event_wait: futex_wait(&seq, t) */
				atomic {
					if
					:: seq == t -> asleep[me] = true
					:: else -> skip
					fi
				}
				if
				:: !asleep[me] -> skip           /* woken (or never slept) */
				:: atomic { asleep[me] && spurious > 0 ->   /* spurious return */
						asleep[me] = false; spurious-- }
				fi;
				waiters--
			fi
		fi;
		t = 0
	od
}

init
{
	byte i;
	atomic {
		for (i : 0 .. NW - 1) { run waiter(i) }
	}
}
