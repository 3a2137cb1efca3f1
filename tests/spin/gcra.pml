/*
 * gcra.pml - the GCRA limiter's lock-free CAS loop never over-admits.
 *
 * Protocol (one 64-bit atomic word, the theoretical arrival time TAT):
 *   try_acquire(n): now = clock();
 *     loop { t = load(tat);  base = max(t, now);  next = base + n*T;
 *            if (next - now > BURST*T) return REJECTED;   (writes nothing)
 *            if (CAS(tat, t, next)) return ADMITTED; }     (else retry)
 * T = emission interval (ns per token), BURST = bucket size.
 *
 * Proves, for every interleaving of NTH threads with a clock that moves
 * forward at arbitrary moments (so a thread may CAS with a `now` that is
 * already stale): for every pair of admissions i, j with now_i <= now_j,
 *     T * (tokens admitted with now in [now_i, now_j]) <= T*BURST + (now_j - now_i)
 * i.e. no window, however placed, admits more than the burst plus what the
 * rate refilled (the exactness oracle of the rate-limit brief); and that
 * the first request is admitted (how many are admitted, the lower bound,
 * is left to the unit tests).
 * Bounds: 2 threads x 2 requests of 1..2 tokens, T = 2, BURST = 2, clock
 * 0..4.  -DBIG: 2 threads x 3 requests, clock 0..5 (3 threads do not fit
 * in 2 GB of states).
 *
 * broken: assertion violated
 * The broken variant replaces the CAS by a load and a separate store (the
 * "split atomics" double spend): two threads can both admit against the
 * same TAT.
 */
#define NTH 2
#ifdef BIG
#define NREQ 3
#define TMAX 5
#else
#define NREQ 2
#define TMAX 4
#endif
#define T 2
#define BURST 2
#define MAXADM (NTH * NREQ)

byte clk = 0;
byte tat = 0;
byte nadm = 0;
byte adm_now[MAXADM];
byte adm_n[MAXADM];
byte done = 0;

active proctype ticker()
{
end:	do
	:: clk < TMAX -> clk++
	od
}

proctype limiter_user()
{
	byte r = 0, now, t, base, next, n;
	bool ok;
	do
	:: r == NREQ -> break
	:: else ->
		if :: n = 1 :: n = 2 fi;
		now = clk;
		do
		:: t = tat;
			base = (t > now -> t : now);
			next = base + n * T;
			if
			:: next - now > BURST * T -> break      /* rejected, no write */
			:: else ->
#ifdef BROKEN
				tat = next; ok = true;
#else
				atomic {
					if
					:: tat == t -> tat = next; ok = true
					:: else -> ok = false
					fi
				}
#endif
				if
				:: ok ->
					atomic { adm_now[nadm] = now; adm_n[nadm] = n; nadm++ };
					break
				:: else -> skip                   /* CAS lost: retry */
				fi
			fi
		od;
		skip;
		d_step { r++; now = 0; t = 0; base = 0; next = 0; n = 0; ok = false }
	od;
	done++
}

init
{
	byte i, j, k, sum;
	atomic { for (i : 1 .. NTH) { run limiter_user() } }
	done == NTH;
	assert(nadm > 0);
	/* every window [now_i, now_j] */
	for (i : 0 .. nadm - 1) {
		for (j : 0 .. nadm - 1) {
			if
			:: adm_now[i] <= adm_now[j] ->
				sum = 0;
				for (k : 0 .. nadm - 1) {
					if
					:: adm_now[k] >= adm_now[i] && adm_now[k] <= adm_now[j] -> sum = sum + adm_n[k]
					:: else -> skip
					fi
				}
				assert(T * sum <= T * BURST + adm_now[j] - adm_now[i])
			:: else -> skip
			fi
		}
	}
}
