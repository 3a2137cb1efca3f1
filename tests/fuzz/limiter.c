/*
 * Call-sequence fuzzer for the GCRA limiter (include/atomkit/limiter.h).
 *
 * The input picks a configuration (bad ones must give AK_EINVAL), then a
 * program of steps on a fake timeline that only moves forward: try_acquire
 * with n in 0..b+1, reservations and their cancels, refunds, rate and burst
 * changes, and the retry promise.  Checked:
 *   - statuses: n == 0 -> AK_EINVAL, n > b -> AK_E2BIG, else AK_OK or
 *     AK_EAGAIN with a wait > 0 (a rejection writes nothing: a repeat at the
 *     same instant gives the same answer); a reservation is good at
 *     now + wait <= now + max_wait; a refund while a reservation is pending
 *     is AK_EBUSY; a bad rate or burst is AK_EINVAL and changes nothing;
 *   - after AK_EAGAIN with wait w and no other step, the same request at
 *     now + w succeeds (the wait is exact, never short);
 *   - the window guarantee, with rate changes: every admitted, reserved
 *     (at its good_at, unless cancelled) and refunded token goes into a
 *     trace, and tests/unit/ratelimit_oracle.h checks in integer arithmetic
 *     that no window [t_i, t_j] holds more than b_max + the allowance of the
 *     rate schedule over it, where a change at r takes effect at
 *     s = max(r, good_at of the last reservation still standing) (the
 *     definition in docs/ratelimit.md, "Rate changes").
 */
#include <atomkit/limiter.h>

#include "../unit/ratelimit_oracle.h"
#include "fuzz.h"

#define MAXEV 2048
#define MAXTK 32

/* Periods of 1 to 16 us, some round and some not.  Their least common
 * multiple (2^12 3^4 5^4 7^2 11 13 23 29 37, about 3.6e16) is the oracle's
 * common denominator, so it must stay small: arbitrary periods (1001, 3001,
 * ..., 15001) make it pass 2^64 within five changes. */
static const uint64_t periods[16] = { 999,  1000, 1001,  1024, 1536, 2000,  2001,  2997,
				      3003, 4096, 5000, 6006, 7007, 9990, 12000, 16016 };

static uint64_t fuzz_period(struct fuzz_in *in)
{
	uint8_t v = fuzz_u8(in) % 17;
	return v ? periods[v - 1] : 0; /* 0: invalid */
}

struct tk {
	ak_limiter_ticket tk;
	size_t ev;    /* its event: good_at, n */
	unsigned gen; /* config changes before it */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	static struct rl_rate_sched sched;
	static struct rl_event ev[MAXEV];
	struct tk tks[MAXTK];
	size_t nev = 0, ntk = 0;
	ak_limiter l;
	uint64_t k = fuzz_u8(&in) % 9, per = fuzz_period(&in), b = fuzz_u8(&in) % 17, bmax = b;
	uint64_t now = 1000 + fuzz_u16(&in), wait, last_good = 0;
	unsigned gen = 0; /* config changes so far */
	ak_status st;
	int trace = getenv("FUZZ_TRACE") != NULL;

	st = ak_limiter_init(&l, k, per, b, NULL);
	if (k == 0 || per == 0 || b == 0) {
		FUZZ_EQ(st, AK_EINVAL);
		return 0;
	}
	FUZZ_EQ(st, AK_OK);
	memset(&sched, 0, sizeof sched);
	rl_rate_push(&sched, 0, k, per);

	while (fuzz_more(&in) && nev + 2 < MAXEV && sched.nseg < 60) {
		uint8_t op = fuzz_u8(&in);
		now += fuzz_u16(&in) >> (op >> 5); /* small and large steps */
		/* last_good: good_at of the last standing reservation */
		int pending = last_good > now;
		if (trace)
			fprintf(stderr, "op %d at %llu (last_good %llu)\n", op & 7, (unsigned long long)now,
				(unsigned long long)last_good);
		switch (op & 7) {
		case 0:
		case 1:
		case 2: { /* try_acquire, and the retry promise */
			uint64_t n = fuzz_u8(&in) % (b + 2);
			st = ak_limiter_try_acquire_at(&l, now, n, &wait);
			if (n == 0) {
				FUZZ_EQ(st, AK_EINVAL);
			} else if (n > b) {
				FUZZ_EQ(st, AK_E2BIG);
			} else if (st == AK_OK) {
				ev[nev].t = now;
				ev[nev++].n = (int64_t)n;
			} else {
				FUZZ_EQ(st, AK_EAGAIN);
				if (wait == 0)
					FUZZ_FAIL("AK_EAGAIN with a zero wait");
				uint64_t w2;
				FUZZ_EQ(ak_limiter_try_acquire_at(&l, now, n, &w2), AK_EAGAIN);
				FUZZ_EQ(w2, wait); /* the rejection wrote nothing */
				if (op & 8) {
					now += wait;
					FUZZ_EQ(ak_limiter_try_acquire_at(&l, now, n, &w2), AK_OK);
					ev[nev].t = now;
					ev[nev++].n = (int64_t)n;
				}
			}
			break;
		}
		case 3: { /* refund: tokens come back, clamped to the burst */
			uint64_t n = 1 + fuzz_u8(&in) % (b + 1), given = 0;
			st = ak_limiter_refund_at(&l, now, n, &given);
			if (pending)
				FUZZ_EQ(st, AK_EBUSY);
			else
				FUZZ_EQ(st, AK_OK);
			if (given > n || (st != AK_OK && given))
				FUZZ_FAIL("refund gave back %llu of %llu (status %d)",
					  (unsigned long long)given, (unsigned long long)n, (int)st);
			if (given) {
				ev[nev].t = now;
				ev[nev++].n = -(int64_t)given;
			}
			break;
		}
		case 4: { /* reserve within max_wait */
			uint64_t n = fuzz_u8(&in) % (b + 2), maxw = fuzz_u16(&in) * (uint64_t)(op >> 3 & 3);
			ak_limiter_ticket t;
			st = ak_limiter_reserve_at(&l, now, n, maxw, &t, &wait);
			if (n == 0) {
				FUZZ_EQ(st, AK_EINVAL);
			} else if (n > b) {
				FUZZ_EQ(st, AK_E2BIG);
			} else if (st == AK_OK) {
				FUZZ_EQ(t.good_at, now + wait);
				if (wait > maxw)
					FUZZ_FAIL("reserved %llu ns ahead, max %llu", (unsigned long long)wait,
						  (unsigned long long)maxw);
				ev[nev].t = t.good_at;
				ev[nev].n = (int64_t)n;
				if (t.good_at > last_good)
					last_good = t.good_at;
				if (ntk < MAXTK) {
					tks[ntk].tk = t;
					tks[ntk].gen = gen;
					tks[ntk++].ev = nev;
				}
				nev++;
			} else {
				FUZZ_EQ(st, AK_EAGAIN);
				if (wait <= maxw)
					FUZZ_FAIL("refused a reservation good in %llu <= %llu",
						  (unsigned long long)wait, (unsigned long long)maxw);
			}
			break;
		}
		case 5: { /* cancel the newest ticket (exact when nothing followed) */
			if (!ntk)
				break;
			struct tk *t = &tks[--ntk];
			st = ak_limiter_cancel_at(&l, now, &t->tk);
			if (t->gen != gen && st != AK_EBUSY)
				FUZZ_FAIL("cancel across a config change: status %d", (int)st);
			if (st == AK_OK) {
				ev[t->ev].n = 0; /* as if never reserved */
				/* the last standing reservation is now an earlier one */
				last_good = 0;
				for (size_t i = 0; i < nev; i++)
					if (ev[i].n > 0 && ev[i].t > now && ev[i].t > last_good)
						last_good = ev[i].t;
			} else {
				FUZZ_EQ(st, AK_EBUSY);
			}
			FUZZ_EQ(ak_limiter_cancel_at(&l, now, &t->tk), AK_ESTATE);
			break;
		}
		case 6: { /* rate change (bad ones: AK_EINVAL, nothing changes) */
			uint64_t nk = fuzz_u8(&in) % 9, nper = fuzz_period(&in);
			st = ak_limiter_set_rate_at(&l, now, nk, nper);
			if (nk == 0 || nper == 0) {
				FUZZ_EQ(st, AK_EINVAL);
			} else {
				FUZZ_EQ(st, AK_OK);
				/* in force once the promises made so far are good */
				rl_rate_push(&sched, pending ? last_good : now, nk, nper);
				gen++;
			}
			break;
		}
		default: { /* burst change */
			uint64_t nb = fuzz_u8(&in) % 17;
			st = ak_limiter_set_burst_at(&l, now, nb);
			if (nb == 0) {
				FUZZ_EQ(st, AK_EINVAL);
			} else {
				FUZZ_EQ(st, AK_OK);
				b = nb;
				if (b > bmax)
					bmax = b;
				gen++;
			}
			break;
		}
		}
	}
	if (trace) {
		for (size_t i = 0; i < sched.nseg; i++)
			fprintf(stderr, "rate %llu/%llu from %llu\n", (unsigned long long)sched.seg[i].k,
				(unsigned long long)sched.seg[i].per, (unsigned long long)sched.seg[i].start);
		for (size_t i = 0; i < nev; i++)
			fprintf(stderr, "t=%llu n=%lld\n", (unsigned long long)ev[i].t, (long long)ev[i].n);
	}
	struct rl_verdict v = rl_oracle(ev, nev, sched.D, bmax, rl_rate_allow, &sched);
	if (v.violations)
		FUZZ_FAIL("window [%llu, %llu] admitted more than b + rate x window",
			  (unsigned long long)v.bad_from, (unsigned long long)v.bad_to);
	return 0;
}
