/*
 * cancel_wait.pml - ak_cancel_request() against ak_cancel_wait(): no lost
 * wake-up (src/cancel.c, set_flag() and ak_cancel_wait()).
 *
 * Protocol.  One 32-bit futex word `state`: bit SET (cancelled, never
 * cleared) and a waiter count in the bits above (here: a separate field of
 * the same atomic word, updated only by whole-word atomic steps).
 *   waiter:    if (is_set) return;  s = fetch_add(state, WAITER) + WAITER;
 *              loop { if (s & SET) break;  futex_wait(&state, s);
 *                     s = load(state) }     (timeout: break with ETIMEDOUT)
 *              fetch_sub(state, WAITER)
 *   canceller: old = fetch_or(state, SET);
 *              if (!(old & SET) && waiters(old) != 0) futex_wake(all)
 * futex_wait compares the word with s atomically with going to sleep, and
 * returns at once when they differ (another waiter arrived or left).
 *
 * Proves: with 2 cancellers racing and 3 waiters (one of which may time
 * out at any moment), every waiter that does not time out returns, and
 * returns having seen SET; no execution leaves one asleep (invalid end
 * state).  The whole-word RMWs make the argument independent of memory
 * model: both sides' RMWs on `state` are totally ordered.  -DBIG: 4
 * waiters (two may time out).
 *
 * broken: invalid end state
 * The broken variant lets the canceller read the waiter count with a plain
 * load before setting SET (check, then set): a waiter registering between
 * the two sleeps for ever.
 */
#ifdef BIG
#define NW 4
#define NTIMED 2
#else
#define NW 3
#define NTIMED 1
#endif

bool set = false;          /* state & SET */
byte nwait = 0;            /* state >> 2 */
bool asleep[NW];
byte returned_set = 0;

/* the whole word, for futex_wait's compare */
#define WORD (set + nwait * 4)

proctype canceller()
{
	bool oldset; byte oldn, i;
#ifdef BROKEN
	atomic { oldset = set; oldn = nwait }
	atomic { set = true }
#else
	atomic { oldset = set; oldn = nwait; set = true }  /* fetch_or(SET), acq_rel */
#endif
	if
	:: !oldset && oldn != 0 ->
		atomic { for (i : 0 .. NW - 1) { asleep[i] = false } }  /* wake all */
	:: else -> skip
	fi
}

proctype waiter(byte me; bool may_time_out)
{
	byte s;
	if
	:: set -> returned_set++; goto out     /* ak_cancel_is_set() */
	:: else -> skip
	fi;
	atomic { nwait++; s = WORD }             /* fetch_add(WAITER), seq_cst */
	do
	:: s & 1 -> returned_set++; break
	:: else ->
		atomic {
			if
			:: WORD == s -> asleep[me] = true
			:: else -> skip
			fi
		}
		if
		:: !asleep[me] -> skip
		:: may_time_out && asleep[me] -> asleep[me] = false; goto leave  /* ETIMEDOUT */
		fi;
		s = WORD                          /* acquire re-load */
	od;
leave:
	atomic { nwait-- }                      /* fetch_sub(WAITER), relaxed */
out:
	skip
}

init
{
	byte i;
	atomic {
		for (i : 0 .. NW - 1) { run waiter(i, i < NTIMED) }
		run canceller();
		run canceller()
	}
}
