/*
 * Unit tests: interval token bucket, on fake clocks.
 *
 *  - exact semantics: schedule, caps, late and backwards ticks, FIFO
 *    reservations, cancel, refund, debt limit, set_rate/set_burst, misuse
 *  - the exactness oracle (ratelimit_oracle.h): random traces with ticks,
 *    reservations (admitted when the deposits cover them), cancels, refunds
 *    and rate/burst changes; single-threaded, and 4 threads on a shared fake
 *    clock that moves between phases while the threads race takes against
 *    ticks; zero violations, the bound reached
 *  - liveness: saturating demand gets exactly b + k per instant
 *  - the refill thread on a fake clock: start/add/remove/stop
 */
/* Run set_burst() inside ak_tbucket_cancel()'s window (see test_burst_race). */
struct ak_tbucket;
static void cancel_window(struct ak_tbucket *tb);
#define _AK_TBUCKET_CANCEL_WINDOW(tb) cancel_window(tb)

#include <atomkit/cancel.h>
#include <atomkit/tbucket.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "fork_locked.h"
#include "ratelimit_oracle.h"

#define BASE UINT64_C(1000000000)

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}
static uint64_t below(uint64_t n) { return n ? rnd() % n : 0; }

static void test_config(void)
{
	ak_tbucket tb;
	CHECK_ST(ak_tbucket_init_at(NULL, BASE, 1, 10, 1, NULL), AK_EINVAL);
	CHECK_ST(ak_tbucket_init_at(&tb, BASE, 0, 10, 1, NULL), AK_EINVAL);
	CHECK_ST(ak_tbucket_init_at(&tb, BASE, 1, 0, 1, NULL), AK_EINVAL);
	CHECK_ST(ak_tbucket_init_at(&tb, BASE, 1, 10, 0, NULL), AK_EINVAL);
	CHECK_ST(ak_tbucket_init_at(&tb, BASE, 1, 10, AK_TBUCKET_MAX_BURST + 1, NULL), AK_EINVAL);
	CHECK_ST(ak_tbucket_init_at(&tb, BASE, 1, UINT64_C(1) << 62, 1, NULL), AK_EINVAL);
	CHECK_ST(ak_tbucket_init_at(&tb, UINT64_MAX, 1, 10, 1, NULL), AK_EOVERFLOW);
	CHECK_ST(ak_tbucket_init(&tb, 1, 10, AK_TBUCKET_MAX_BURST, NULL), AK_OK);
	CHECK_EQ_I64(ak_tbucket_tokens(&tb), (int64_t)AK_TBUCKET_MAX_BURST);
}

/* Times up to 2^63 - 1 ns; 2^63 and up: AK_EOVERFLOW (or 0 deposited). */
static void test_time_range(void)
{
	ak_tbucket tb;
	uint64_t w, top = (UINT64_C(1) << 63) - 1;
	CHECK_ST(ak_tbucket_init_at(&tb, top + 1, 1, 10, 2, NULL), AK_EOVERFLOW);
	CHECK_ST(ak_tbucket_init_at(&tb, top - 100, 1, 10, 2, NULL), AK_OK);
	CHECK_ST(ak_tbucket_try_acquire_at(&tb, top, 2, &w), AK_OK);
	CHECK_ST(ak_tbucket_try_acquire_at(&tb, top, 1, &w), AK_EAGAIN);
	CHECK_EQ_U64(w, 0); /* deposits overdue: the driver is late */
	CHECK_EQ_U64(ak_tbucket_tick_at(&tb, top + 1), 0);
	CHECK_EQ_U64(ak_tbucket_tick_at(&tb, top), 2); /* 10 instants, capped at b */
	CHECK_ST(ak_tbucket_try_acquire_at(&tb, top + 1, 1, &w), AK_EOVERFLOW);
	CHECK_ST(ak_tbucket_set_rate_at(&tb, top + 1, 1, 10), AK_EOVERFLOW);
	CHECK_ST(ak_tbucket_set_rate_at(&tb, top, 1, 10), AK_OK);
	CHECK_ST(ak_tbucket_try_acquire_at(&tb, top, 2, &w), AK_OK);
	CHECK_ST(ak_tbucket_try_acquire_at(&tb, top, 1, &w), AK_EAGAIN);
	CHECK_EQ_U64(w, 10); /* the first deposit of the new schedule: top + 10 */
}

static void test_basic(void)
{
	ak_tbucket tb;
	uint64_t w;
	CHECK_ST(ak_tbucket_init_at(&tb, BASE, 2, 100, 5, NULL), AK_OK); /* 2 per 100 ns, b 5 */
	CHECK_EQ_I64(ak_tbucket_tokens(&tb), 5);
	CHECK_ST(ak_tbucket_try_acquire_at(&tb, BASE, 5, &w), AK_OK);
	CHECK_ST(ak_tbucket_try_acquire_at(&tb, BASE + 30, 1, &w), AK_EAGAIN);
	CHECK_EQ_U64(w, 70); /* next deposit at BASE + 100 */
	CHECK_ST(ak_tbucket_try_acquire_at(&tb, BASE + 30, 3, &w), AK_EAGAIN);
	CHECK_EQ_U64(w, 170); /* two deposits */
	CHECK_EQ_I64(ak_tbucket_tokens(&tb), 0); /* rejections write nothing */
	CHECK_EQ_U64(ak_tbucket_tick_at(&tb, BASE + 99), 0);
	CHECK_EQ_U64(ak_tbucket_tick_at(&tb, BASE + 100), 2);
	CHECK_EQ_U64(ak_tbucket_tick_at(&tb, BASE + 100), 0); /* paid once */
	CHECK_EQ_U64(ak_tbucket_tick_at(&tb, BASE + 50), 0);  /* backwards: nothing */
	CHECK_EQ_I64(ak_tbucket_tokens(&tb), 2);
	/* a late tick pays everything owed at once, capped at b */
	CHECK_EQ_U64(ak_tbucket_tick_at(&tb, BASE + 1000), 3);
	CHECK_EQ_I64(ak_tbucket_tokens(&tb), 5);
	CHECK_EQ_U64(ak_tbucket_tick_at(&tb, BASE + 1099), 0);
	/* overdue deposit: the estimate says "any moment" */
	CHECK_ST(ak_tbucket_try_acquire_at(&tb, BASE + 1000, 5, &w), AK_OK);
	CHECK_ST(ak_tbucket_try_acquire_at(&tb, BASE + 1150, 1, &w), AK_EAGAIN);
	CHECK_EQ_U64(w, 0);
	/* misuse */
	CHECK_ST(ak_tbucket_try_acquire_at(&tb, BASE, 6, &w), AK_E2BIG);
	CHECK_EQ_U64(w, UINT64_MAX);
	CHECK_ST(ak_tbucket_try_acquire_at(&tb, BASE, 0, &w), AK_EINVAL);
	CHECK_ST(ak_tbucket_try_acquire_at(&tb, UINT64_MAX, 1, &w), AK_EOVERFLOW);
	CHECK_ST(ak_tbucket_try_acquire(&tb, 6, &w), AK_E2BIG);
	CHECK_ST(ak_tbucket_try_acquire(&tb, 0, &w), AK_EINVAL);
	CHECK_EQ_U64(ak_tbucket_tick_at(&tb, UINT64_MAX), 0);
	CHECK_EQ_U64(ak_tbucket_tick_at(NULL, BASE), 0);
}

static void test_reserve(void)
{
	ak_tbucket tb;
	ak_tbucket_ticket a = { 0, 0, 0, 0 }, b = a, c = a;
	uint64_t w, g;
	CHECK_ST(ak_tbucket_init_at(&tb, BASE, 2, 100, 4, NULL), AK_OK);
	CHECK_ST(ak_tbucket_reserve_at(&tb, BASE, 3, 0, &a, &w), AK_OK); /* covered at once */
	CHECK(ak_tbucket_ticket_ready(&tb, &a));
	CHECK_EQ_U64(w, 0);
	CHECK_ST(ak_tbucket_reserve_at(&tb, BASE, 3, 50, &b, &w), AK_EAGAIN); /* 2 short: +100 */
	CHECK_EQ_U64(w, 100);
	CHECK_EQ_U64(b.n, 0);
	CHECK_ST(ak_tbucket_reserve_at(&tb, BASE, 3, 0, &b, &w), AK_EAGAIN);
	CHECK_ST(ak_tbucket_reserve_at(&tb, BASE, 3, 100, &b, &w), AK_OK);
	CHECK_EQ_U64(b.good_at, BASE + 100);
	CHECK(!ak_tbucket_ticket_ready(&tb, &b));
	CHECK_ST(ak_tbucket_reserve_at(&tb, BASE, 2, 1000, &c, &w), AK_OK); /* 4 short */
	CHECK_EQ_U64(c.good_at, BASE + 200);
	CHECK_EQ_I64(ak_tbucket_tokens(&tb), -4);
	/* nobody jumps the queue */
	CHECK_ST(ak_tbucket_try_acquire_at(&tb, BASE, 1, &w), AK_EAGAIN);
	CHECK_EQ_U64(w, 300);
	/* FIFO: deposits serve b before c */
	ak_tbucket_tick_at(&tb, BASE + 99);
	CHECK(!ak_tbucket_ticket_ready(&tb, &b));
	ak_tbucket_tick_at(&tb, BASE + 100);
	CHECK(ak_tbucket_ticket_ready(&tb, &b));
	CHECK(!ak_tbucket_ticket_ready(&tb, &c));
	/* c is the last take: exact undo */
	CHECK_ST(ak_tbucket_cancel(&tb, &c), AK_OK);
	CHECK_EQ_I64(ak_tbucket_tokens(&tb), 0);
	CHECK_ST(ak_tbucket_cancel(&tb, &c), AK_ESTATE);
	/* a is not the last: nothing back */
	CHECK_ST(ak_tbucket_cancel(&tb, &a), AK_EBUSY);
	CHECK_ST(ak_tbucket_cancel(&tb, NULL), AK_EINVAL);
	CHECK_ST(ak_tbucket_reserve_at(&tb, BASE, 1, 0, NULL, &w), AK_EINVAL);
	/* an undo after deposits overflowed the cap is the same as never
	 * having reserved: clamped at b */
	CHECK_ST(ak_tbucket_init_at(&tb, BASE, 3, 100, 4, NULL), AK_OK);
	CHECK_ST(ak_tbucket_reserve_at(&tb, BASE, 4, 0, &a, &w), AK_OK);
	ak_tbucket_tick_at(&tb, BASE + 200);
	CHECK_EQ_I64(ak_tbucket_tokens(&tb), 4);
	CHECK_ST(ak_tbucket_cancel(&tb, &a), AK_OK);
	CHECK_EQ_I64(ak_tbucket_tokens(&tb), 4);
	/* refunds: clamped at b, and waiting reservations benefit first */
	CHECK_ST(ak_tbucket_refund(&tb, 3, &g), AK_OK);
	CHECK_EQ_U64(g, 0);
	CHECK_ST(ak_tbucket_reserve_at(&tb, BASE + 200, 4, 0, &a, &w), AK_OK);
	CHECK_ST(ak_tbucket_reserve_at(&tb, BASE + 200, 2, 1000, &b, &w), AK_OK);
	CHECK(!ak_tbucket_ticket_ready(&tb, &b));
	CHECK_ST(ak_tbucket_refund(&tb, 2, &g), AK_OK);
	CHECK_EQ_U64(g, 2);
	CHECK(ak_tbucket_ticket_ready(&tb, &b));
	CHECK_ST(ak_tbucket_refund(&tb, 9, &g), AK_OK);
	CHECK_EQ_U64(g, 4);
	CHECK_EQ_I64(ak_tbucket_tokens(&tb), 4);
	CHECK_ST(ak_tbucket_refund(&tb, 0, &g), AK_EINVAL);
	/* the debt limit */
	CHECK_ST(ak_tbucket_init_at(&tb, BASE, 1, 1, AK_TBUCKET_MAX_BURST, NULL), AK_OK);
	CHECK_ST(ak_tbucket_reserve_at(&tb, BASE, AK_TBUCKET_MAX_BURST, UINT64_MAX, &a, &w), AK_OK);
	CHECK_ST(ak_tbucket_reserve_at(&tb, BASE, AK_TBUCKET_MAX_BURST, UINT64_MAX, &b, &w), AK_OK);
	CHECK_ST(ak_tbucket_reserve_at(&tb, BASE, 1, UINT64_MAX, &c, &w), AK_EAGAIN);
	CHECK_EQ_I64(ak_tbucket_tokens(&tb), -(int64_t)AK_TBUCKET_MAX_BURST);
}

static void test_reconfigure(void)
{
	ak_tbucket tb;
	uint64_t w;
	CHECK_ST(ak_tbucket_init_at(&tb, BASE, 1, 100, 10, NULL), AK_OK);
	CHECK_ST(ak_tbucket_try_acquire_at(&tb, BASE, 10, &w), AK_OK);
	/* owed deposits first (2 at +250), then a new schedule from +250 */
	CHECK_ST(ak_tbucket_set_rate_at(&tb, BASE + 250, 3, 40), AK_OK);
	CHECK_EQ_I64(ak_tbucket_tokens(&tb), 2);
	CHECK_EQ_U64(ak_tbucket_tick_at(&tb, BASE + 289), 0);
	CHECK_EQ_U64(ak_tbucket_tick_at(&tb, BASE + 290), 3);
	CHECK_ST(ak_tbucket_set_rate_at(&tb, BASE, 0, 40), AK_EINVAL);
	CHECK_ST(ak_tbucket_set_rate_at(&tb, BASE, 1, 0), AK_EINVAL);
	CHECK_ST(ak_tbucket_set_rate_at(&tb, UINT64_MAX, 1, 1), AK_EOVERFLOW);
	/* burst: clamps what is held */
	CHECK_ST(ak_tbucket_set_burst(&tb, 3), AK_OK);
	CHECK_EQ_I64(ak_tbucket_tokens(&tb), 3);
	CHECK_ST(ak_tbucket_try_acquire_at(&tb, BASE, 4, &w), AK_E2BIG);
	CHECK_ST(ak_tbucket_set_burst(&tb, 0), AK_EINVAL);
	CHECK_ST(ak_tbucket_set_burst(&tb, AK_TBUCKET_MAX_BURST + 1), AK_EINVAL);
	CHECK_EQ_U64(ak_tbucket_tick_at(&tb, BASE + 1000), 0); /* full at 3 */
}

/*
 * set_burst() lowering the burst between a refund's (or cancel's) read of
 * the burst and its CAS: once both calls have returned, the bucket holds at
 * most the new burst and admits no more than it.  The hooks run set_burst
 * at exactly that point; the bucket's word is within the new burst when
 * set_burst looks, so set_burst itself has nothing to clamp.
 */
extern void (*_ak_tbucket_test_refund_window)(ak_tbucket *tb);
static uint64_t race_burst; /* 0: the cancel hook does nothing */
static int race_ran;

static void set_burst_now(ak_tbucket *tb)
{
	race_ran++;
	CHECK_ST(ak_tbucket_set_burst(tb, race_burst), AK_OK);
}

static void cancel_window(struct ak_tbucket *tb)
{
	if (race_burst)
		set_burst_now(tb);
}

/* ak_tbucket_refund(tb, n, given) with set_burst(new_burst) run inside its
 * window (after it read the burst, before its CAS); checks the window ran. */
static ak_status refund_racing_set_burst(ak_tbucket *tb, uint64_t n, uint64_t new_burst,
					 uint64_t *given)
{
	race_burst = new_burst;
	race_ran = 0;
	_ak_tbucket_test_refund_window = set_burst_now;
	ak_status st = ak_tbucket_refund(tb, n, given);
	_ak_tbucket_test_refund_window = NULL;
	race_burst = 0;
	CHECK_EQ_I64(race_ran, 1);
	return st;
}

static void test_burst_race(void)
{
	ak_tbucket tb;
	uint64_t w, g = 99;

	/* refund: 98 of 100 taken, refund 50 while the burst drops to 5 */
	CHECK_ST(ak_tbucket_init_at(&tb, BASE, 1, 100, 100, NULL), AK_OK);
	CHECK_ST(ak_tbucket_try_acquire_at(&tb, BASE, 98, &w), AK_OK);
	CHECK_ST(refund_racing_set_burst(&tb, 50, 5, &g), AK_OK);
	CHECK_EQ_I64(ak_tbucket_tokens(&tb), 5);
	CHECK_EQ_U64(g, 3); /* what stayed in: 2 held + 3 = the new burst */
	CHECK_ST(ak_tbucket_try_acquire_at(&tb, BASE, 5, &w), AK_OK);
	CHECK_ST(ak_tbucket_try_acquire_at(&tb, BASE, 1, &w), AK_EAGAIN);

	/* cancel: a reservation of 98 of 100 undone while the burst drops to 5 */
	ak_tbucket_ticket tk;
	CHECK_ST(ak_tbucket_init_at(&tb, BASE, 1, 100, 100, NULL), AK_OK);
	CHECK_ST(ak_tbucket_reserve_at(&tb, BASE, 98, 0, &tk, &w), AK_OK);
	race_burst = 5;
	race_ran = 0;
	CHECK_ST(ak_tbucket_cancel(&tb, &tk), AK_OK);
	race_burst = 0;
	CHECK_EQ_I64(race_ran, 1);
	CHECK_EQ_I64(ak_tbucket_tokens(&tb), 5);
	CHECK_ST(ak_tbucket_try_acquire_at(&tb, BASE, 5, &w), AK_OK);
	CHECK_ST(ak_tbucket_try_acquire_at(&tb, BASE, 1, &w), AK_EAGAIN);

	/* a burst raised in the window: nothing clamped, the refund fits the old one */
	CHECK_ST(ak_tbucket_init_at(&tb, BASE, 1, 100, 10, NULL), AK_OK);
	CHECK_ST(ak_tbucket_try_acquire_at(&tb, BASE, 8, &w), AK_OK);
	CHECK_ST(refund_racing_set_burst(&tb, 20, 50, &g), AK_OK);
	CHECK_EQ_U64(g, 8);
	CHECK_EQ_I64(ak_tbucket_tokens(&tb), 10);
}

/* ---- oracle ----------------------------------------------------------------- */

struct rec {
	uint64_t t;
	int64_t n;
};
struct trace {
	struct rec *r;
	size_t n, cap;
};
static void trace_add(struct trace *tr, uint64_t t, int64_t n)
{
	if (tr->n == tr->cap) {
		tr->cap = tr->cap ? tr->cap * 2 : 1024;
		tr->r = (struct rec *)realloc(tr->r, tr->cap * sizeof *tr->r);
	}
	tr->r[tr->n].t = t;
	tr->r[tr->n].n = n;
	tr->n++;
}
static struct rl_verdict trace_check(struct trace *tr, struct rl_credit_sched *s, uint64_t b)
{
	rl_credit_seal(s);
	return rl_oracle((struct rl_event *)tr->r, tr->n, 1, b, rl_credit_allow, s);
}

/* The test's own copy of the deposit schedule, to know what each tick owes. */
struct mirror {
	uint64_t epoch, per, k, done;
};

static void mirror_tick(struct mirror *m, struct rl_credit_sched *s, uint64_t now, uint64_t got)
{
	if (now <= m->epoch)
		return;
	uint64_t idx = (now - m->epoch) / m->per;
	if (idx <= m->done) {
		CHECK_EQ_U64(got, 0);
		return;
	}
	CHECK(got <= (idx - m->done) * m->k);
	rl_credit_push(s, now, (idx - m->done) * m->k);
	m->done = idx;
}

struct pend {
	ak_tbucket_ticket tk;
};

static struct rl_verdict one_trace(int steps, int changes)
{
	ak_tbucket tb;
	struct trace tr = { NULL, 0, 0 };
	struct rl_credit_sched s = { NULL, 0, 0 };
	struct mirror mi;
	struct pend p[64];
	size_t np = 0;
	uint64_t k = 1 + below(4), per = 5 + below(40), b = 1 + below(8), bmax = b;
	uint64_t now = BASE, w, g, taken = 0;

	CHECK_ST(ak_tbucket_init_at(&tb, BASE, k, per, b, NULL), AK_OK);
	mi.epoch = BASE;
	mi.per = per;
	mi.k = k;
	mi.done = 0;
	for (int i = 0; i < steps; i++) {
		now += below(4) ? below(per / 2 + 1) : below(3 * per);
		uint64_t r = below(100);
		uint64_t n = 1 + below(atomic_load_explicit(&tb.burst, memory_order_relaxed));
		int credited = 0;
		if (r < 25) {
			uint64_t got = ak_tbucket_tick_at(&tb, now);
			mirror_tick(&mi, &s, now, got);
			credited = got > 0;
		} else if (r < 65) {
			if (ak_tbucket_try_acquire_at(&tb, now, n, &w) == AK_OK) {
				trace_add(&tr, now, (int64_t)n);
				taken += n;
			}
		} else if (r < 80) {
			if (np < 64 &&
			    ak_tbucket_reserve_at(&tb, now, n, below(4 * per), &p[np].tk, &w) == AK_OK) {
				taken += n;
				if (ak_tbucket_ticket_ready(&tb, &p[np].tk))
					trace_add(&tr, now, (int64_t)n);
				else
					np++;
			}
		} else if (r < 90) {
			if (np) { /* cancel the newest pending (often exact) or any */
				size_t j = below(2) ? np - 1 : below(np);
				uint64_t tn = p[j].tk.n;
				ak_status st = ak_tbucket_cancel(&tb, &p[j].tk);
				CHECK(st == AK_OK || st == AK_EBUSY);
				if (st == AK_OK) {
					taken -= tn;
					p[j] = p[--np];
				} else {
					/* forfeited: still counted, when covered */
					p[j].tk.n = tn;
				}
			}
		} else if (r < 96) {
			uint64_t want = 1 + below(3);
			if (want <= taken && ak_tbucket_refund(&tb, want, &g) == AK_OK && g) {
				trace_add(&tr, now, -(int64_t)g);
				taken -= g;
				credited = 1;
			}
		} else if (changes) {
			if (below(2)) {
				k = 1 + below(4);
				per = 5 + below(40);
				CHECK_ST(ak_tbucket_set_rate_at(&tb, now, k, per), AK_OK);
				mirror_tick(&mi, &s, now, 0);
				if (now > mi.epoch)
					mi.epoch = now;
				mi.done = 0;
				mi.k = k;
				mi.per = per;
				credited = 1;
			} else {
				b = 1 + below(8);
				CHECK_ST(ak_tbucket_set_burst(&tb, b), AK_OK);
				if (b > bmax)
					bmax = b;
			}
		}
		if (credited) /* reservations admitted now */
			for (size_t j = 0; j < np;) {
				if (ak_tbucket_ticket_ready(&tb, &p[j].tk)) {
					trace_add(&tr, now, (int64_t)p[j].tk.n);
					p[j] = p[--np];
				} else {
					j++;
				}
			}
	}
	struct rl_verdict v = trace_check(&tr, &s, bmax);
	free(tr.r);
	free(s.c);
	return v;
}

static void test_oracle_single(void)
{
	uint64_t viol = 0, windows = 0, tight = 0;
	for (int seed = 0; seed < 300; seed++) {
		rng_state = 0x9E3779B97F4A7C15ull * (uint64_t)(seed + 7);
		struct rl_verdict v = one_trace(3000, seed & 1);
		viol += v.violations;
		windows += v.windows;
		if (v.tightest == 0)
			tight++;
		if (v.violations)
			printf("seed %d: %llu violations, window %llu..%llu\n", seed,
			       (unsigned long long)v.violations, (unsigned long long)(v.bad_from - BASE),
			       (unsigned long long)(v.bad_to - BASE));
	}
	CHECK_EQ_U64(viol, 0);
	CHECK(windows > 100000);
	CHECK(tight > 150);
	printf("oracle single: %llu end points, %llu violations, bound reached in %llu/300 traces\n",
	       (unsigned long long)windows, (unsigned long long)viol, (unsigned long long)tight);
}

/* Saturating demand with a tick at every instant: exactly b + k per instant. */
static void test_liveness(void)
{
	ak_tbucket tb;
	uint64_t w, adm = 0;
	CHECK_ST(ak_tbucket_init_at(&tb, BASE, 3, 70, 10, NULL), AK_OK);
	for (uint64_t t = BASE; t <= BASE + 70000; t += 7) {
		ak_tbucket_tick_at(&tb, t);
		while (ak_tbucket_try_acquire_at(&tb, t, 1, &w) == AK_OK)
			adm++;
	}
	CHECK_EQ_U64(adm, 10 + 3 * 1000);
	/* ticks late by up to b/k periods lose nothing: everything owed is
	 * paid at once (later, the cap would drop what does not fit) */
	CHECK_ST(ak_tbucket_init_at(&tb, BASE, 3, 70, 10, NULL), AK_OK);
	adm = 0;
	rng_state = 99;
	uint64_t last = BASE;
	for (uint64_t t = BASE; t <= BASE + 70000; t += 1 + below(3 * 70)) {
		ak_tbucket_tick_at(&tb, t);
		while (ak_tbucket_try_acquire_at(&tb, t, 1, &w) == AK_OK)
			adm++;
		last = t;
	}
	CHECK_EQ_U64(adm, 10 + 3 * ((last - BASE) / 70));
}

/* ---- 4 threads on a shared fake clock ---------------------------------------- */

#define MT 4
#define PHASES 3000

struct mt {
	ak_tbucket tb;
	ak_fake_clock fc;
	pthread_barrier_t bar;
	struct trace tr[MT];
	int id[MT];
	struct rl_credit_sched cs;
	uint64_t done;
};
static struct mt g;

static void *mt_worker(void *arg)
{
	int id = *(int *)arg;
	uint64_t x = 0xA5A5A5A5DEADBEEFull ^ (uint64_t)(id + 1) * 0x9E3779B97F4A7C15ull, w;
	for (int ph = 0; ph < PHASES; ph++) {
		pthread_barrier_wait(&g.bar); /* thread 0 moved the clock */
		uint64_t now = ak_clock_read(&g.tb.clock);
		for (int i = 0; i < 6; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			if ((x & 3) == 0)
				ak_tbucket_tick_at(&g.tb, now); /* races the takes */
			uint64_t n = 1 + (x >> 8) % 3;
			if (ak_tbucket_try_acquire_at(&g.tb, now, n, &w) == AK_OK)
				trace_add(&g.tr[id], now, (int64_t)n);
		}
		pthread_barrier_wait(&g.bar);
		if (id == 0) { /* what the ticks of this phase paid for */
			uint64_t d = atomic_load_explicit(&g.tb.done, memory_order_relaxed);
			if (d > g.done)
				rl_credit_push(&g.cs, now, (d - g.done) * 2);
			g.done = d;
			ak_fake_clock_advance(&g.fc, (x >> 20) % 23);
		}
	}
	return NULL;
}

static void test_oracle_threads(void)
{
	pthread_t th[MT];
	ak_fake_clock_set(&g.fc, BASE);
	ak_clock c = ak_fake_clock_as_clock(&g.fc);
	CHECK_ST(ak_tbucket_init_at(&g.tb, BASE, 2, 15, 5, &c), AK_OK);
	pthread_barrier_init(&g.bar, NULL, MT);
	for (int i = 0; i < MT; i++) {
		g.id[i] = i;
		pthread_create(&th[i], NULL, mt_worker, &g.id[i]);
	}
	for (int i = 0; i < MT; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&g.bar);
	struct trace all = { NULL, 0, 0 };
	for (int i = 0; i < MT; i++) {
		for (size_t j = 0; j < g.tr[i].n; j++)
			trace_add(&all, g.tr[i].r[j].t, g.tr[i].r[j].n);
		free(g.tr[i].r);
	}
	struct rl_verdict v = trace_check(&all, &g.cs, 5);
	free(g.cs.c);
	CHECK_EQ_U64(v.violations, 0);
	CHECK(v.admitted > 1000);
	CHECK(v.tightest == 0);
	printf("oracle %d threads: %lld tokens, %llu end points, %llu violations, tight %d\n", MT,
	       (long long)v.admitted, (unsigned long long)v.windows,
	       (unsigned long long)v.violations, v.tightest == 0);
	free(all.r);
}

/* ---- the refill thread on a fake clock ---------------------------------------- */

static void test_refiller(void)
{
	ak_refiller rf;
	ak_tbucket a, b;
	ak_fake_clock fc;
	uint64_t w;
	ak_fake_clock_set(&fc, BASE);
	ak_clock c = ak_fake_clock_as_clock(&fc);
	memset(&rf, 0, sizeof rf);
	CHECK_ST(ak_tbucket_init_at(&a, BASE, 1, 100, 5, &c), AK_OK);
	CHECK_ST(ak_tbucket_init_at(&b, BASE, 2, 100, 5, &c), AK_OK);
	CHECK_ST(ak_refiller_add(&rf, &a), AK_ESTATE); /* not started */
	CHECK_ST(ak_refiller_stop(&rf), AK_ESTATE);
	CHECK_ST(ak_refiller_start(&rf, &c), AK_OK);
	CHECK_ST(ak_refiller_add(&rf, &a), AK_OK);
	CHECK_ST(ak_refiller_add(&rf, &a), AK_EBUSY);
	CHECK_ST(ak_refiller_add(&rf, &b), AK_OK);
	CHECK_ST(ak_tbucket_try_acquire(&a, 5, &w), AK_OK);
	CHECK_ST(ak_tbucket_try_acquire(&b, 5, &w), AK_OK);
	ak_fake_clock_set(&fc, BASE + 300);
	/* the thread polls a custom clock every ms; wait (bounded) for it */
	uint64_t give_up = ak_deadline_after(10 * AK_NS_PER_SEC);
	while ((ak_tbucket_tokens(&a) < 3 || ak_tbucket_tokens(&b) < 5) && ak_now_ns() < give_up)
		sched_yield();
	CHECK_EQ_I64(ak_tbucket_tokens(&a), 3);
	CHECK_EQ_I64(ak_tbucket_tokens(&b), 5);
	CHECK_ST(ak_refiller_remove(&rf, &a), AK_OK);
	CHECK_ST(ak_refiller_remove(&rf, &a), AK_ENOENT);
	CHECK_ST(ak_tbucket_try_acquire(&a, 3, &w), AK_OK);
	ak_fake_clock_set(&fc, BASE + 500);
	while (ak_tbucket_tokens(&b) < 5 && ak_now_ns() < give_up)
		sched_yield();
	CHECK_ST(ak_refiller_stop(&rf), AK_OK);
	CHECK_EQ_I64(ak_tbucket_tokens(&a), 0); /* detached: never ticked again */
	CHECK(b.rf_owner == NULL && a.rf_owner == NULL);
	CHECK_ST(ak_refiller_stop(&rf), AK_ESTATE);
	/* restart after stop, monotonic clock, nothing attached */
	CHECK_ST(ak_refiller_start(&rf, NULL), AK_OK);
	CHECK_ST(ak_refiller_add(&rf, &a), AK_OK);
	CHECK_ST(ak_refiller_stop(&rf), AK_OK);
	CHECK_ST(ak_refiller_start(NULL, NULL), AK_EINVAL);
}


/* ---- blocking acquire ------------------------------------------------------------ */

struct bl {
	ak_tbucket *tb;
	ak_cancel *cancel;
	uint64_t deadline;
	_Atomic(int) done;
	ak_status st;
};

static void *bl_thread(void *arg)
{
	struct bl *b = (struct bl *)arg;
	b->st = ak_tbucket_acquire(b->tb, 1, b->deadline, b->cancel);
	atomic_store_explicit(&b->done, 1, memory_order_release);
	return NULL;
}

static void wait_tokens(ak_tbucket *tb, int64_t v)
{
	uint64_t give_up = ak_deadline_after(10 * AK_NS_PER_SEC);
	while (ak_tbucket_tokens(tb) != v && ak_now_ns() < give_up)
		sched_yield();
	CHECK_EQ_I64(ak_tbucket_tokens(tb), v);
}

static void test_acquire(void)
{
	ak_tbucket tb;
	ak_cancel c;
	pthread_t th, th2;
	/* real clock, 1 per 100 s, no ticks: a near deadline fails at once */
	CHECK_ST(ak_tbucket_init(&tb, 1, 100 * AK_NS_PER_SEC, 1, NULL), AK_OK);
	CHECK_ST(ak_tbucket_acquire(&tb, 1, AK_DEADLINE_NONE, NULL), AK_OK);
	CHECK_ST(ak_tbucket_acquire(&tb, 1, ak_deadline_after(20 * AK_NS_PER_MS), NULL), AK_ETIMEDOUT);
	CHECK_EQ_I64(ak_tbucket_tokens(&tb), 0);
	CHECK_ST(ak_tbucket_acquire(&tb, 2, AK_DEADLINE_NONE, NULL), AK_E2BIG);
	CHECK_ST(ak_tbucket_acquire(NULL, 1, AK_DEADLINE_NONE, NULL), AK_EINVAL);
	/* cancelled while waiting: wakes and undoes */
	CHECK_ST(ak_cancel_init(&c), AK_OK);
	struct bl b = { &tb, &c, AK_DEADLINE_NONE, 0, AK_EBUSY };
	pthread_create(&th, NULL, bl_thread, &b);
	wait_tokens(&tb, -1);
	ak_cancel_request(&c, AK_ECANCELED);
	pthread_join(th, NULL);
	CHECK_ST(b.st, AK_ECANCELED);
	CHECK_EQ_I64(ak_tbucket_tokens(&tb), 0);
	CHECK_ST(ak_cancel_destroy(&c), AK_OK);
	/* fake clock: deposits wake the waiters, first come first served */
	ak_fake_clock fc;
	ak_fake_clock_set(&fc, BASE);
	ak_clock ck = ak_fake_clock_as_clock(&fc);
	CHECK_ST(ak_tbucket_init_at(&tb, BASE, 1, 100, 1, &ck), AK_OK);
	CHECK_ST(ak_tbucket_try_acquire(&tb, 1, NULL), AK_OK);
	uint64_t dl = ak_deadline_after(60 * AK_NS_PER_SEC);
	struct bl b1 = { &tb, NULL, dl, 0, AK_EBUSY }, b2 = { &tb, NULL, dl, 0, AK_EBUSY };
	pthread_create(&th, NULL, bl_thread, &b1);
	wait_tokens(&tb, -1);
	pthread_create(&th2, NULL, bl_thread, &b2);
	wait_tokens(&tb, -2);
	CHECK_EQ_U64(ak_tbucket_tick_at(&tb, BASE + 100), 1);
	pthread_join(th, NULL);
	CHECK_ST(b1.st, AK_OK);
	/* the second is not covered yet, so it cannot have returned */
	CHECK(!atomic_load_explicit(&b2.done, memory_order_acquire));
	CHECK_EQ_U64(ak_tbucket_tick_at(&tb, BASE + 200), 1);
	pthread_join(th2, NULL);
	CHECK_ST(b2.st, AK_OK);
	CHECK_EQ_I64(ak_tbucket_tokens(&tb), 0);
	/* a waiter whose real deadline passes undoes its reservation */
	CHECK_ST(ak_tbucket_acquire(&tb, 1, ak_deadline_after(5 * AK_NS_PER_MS), NULL), AK_ETIMEDOUT);
	CHECK_EQ_I64(ak_tbucket_tokens(&tb), 0);
	/* the refill thread on the real clock feeds a waiter */
	ak_refiller rf;
	memset(&rf, 0, sizeof rf);
	CHECK_ST(ak_tbucket_init(&tb, 1, AK_NS_PER_MS, 1, NULL), AK_OK);
	CHECK_ST(ak_refiller_start(&rf, NULL), AK_OK);
	CHECK_ST(ak_refiller_add(&rf, &tb), AK_OK);
	for (int i = 0; i < 5; i++)
		CHECK_ST(ak_tbucket_acquire(&tb, 1, ak_deadline_after(60 * AK_NS_PER_SEC), NULL), AK_OK);
	CHECK_ST(ak_refiller_stop(&rf), AK_OK);
}

/*
 * A rate change on a bucket attached to a refill thread takes effect at
 * once: the thread, asleep until the old schedule's next deposit (an hour
 * away here), must re-plan.  The deadline only bounds the wait.
 */
/*
 * A waiter several deposits back sleeps on a timer until the deposit
 * before its own is due (two hours here); a refund that covers its ticket
 * must wake it.  The 10 s only bounds the wait; a cancel then ends it.
 */
static void test_acquire_woken_by_refund(void)
{
	ak_tbucket tb;
	ak_tbucket_ticket t1, t2;
	ak_cancel c;
	pthread_t th;
	uint64_t w, given = 0;
	const uint64_t hour = 3600 * AK_NS_PER_SEC;
	uint64_t now = ak_now_ns();

	CHECK_ST(ak_tbucket_init_at(&tb, now, 1, hour, 1, NULL), AK_OK);
	CHECK_ST(ak_tbucket_try_acquire(&tb, 1, NULL), AK_OK);
	CHECK_ST(ak_tbucket_reserve_at(&tb, now, 1, UINT64_MAX, &t1, &w), AK_OK);
	CHECK_ST(ak_tbucket_reserve_at(&tb, now, 1, UINT64_MAX, &t2, &w), AK_OK);
	CHECK_ST(ak_cancel_init(&c), AK_OK);
	struct bl b = { &tb, &c, AK_DEADLINE_NONE, 0, AK_EBUSY };
	pthread_create(&th, NULL, bl_thread, &b);
	wait_tokens(&tb, -3);
	struct timespec settle = { 0, 20 * 1000 * 1000 };
	nanosleep(&settle, NULL); /* let it reach its timer sleep */
	CHECK_ST(ak_tbucket_refund(&tb, 3, &given), AK_OK);
	CHECK_EQ_U64(given, 3);
	uint64_t give_up = ak_deadline_after(10 * AK_NS_PER_SEC);
	while (!atomic_load_explicit(&b.done, memory_order_acquire) && ak_now_ns() < give_up)
		nanosleep(&settle, NULL);
	/* woken by the refund, not by the cancel below (which would also
	 * find the ticket covered and return AK_OK) */
	CHECK(atomic_load_explicit(&b.done, memory_order_acquire));
	ak_cancel_request(&c, AK_ECANCELED); /* only if it is still asleep */
	pthread_join(th, NULL);
	CHECK_ST(b.st, AK_OK);
	CHECK_ST(ak_cancel_destroy(&c), AK_OK);
}

static void test_refiller_set_rate(void)
{
	ak_tbucket tb;
	ak_refiller rf;
	memset(&rf, 0, sizeof rf);
	const uint64_t hour = 3600 * AK_NS_PER_SEC;
	/* deposit 1 is due now, deposit 2 in an hour */
	CHECK_ST(ak_tbucket_init_at(&tb, ak_now_ns() - hour, 1, hour, 1, NULL), AK_OK);
	CHECK_ST(ak_tbucket_try_acquire(&tb, 1, NULL), AK_OK); /* drained */
	CHECK_ST(ak_refiller_start(&rf, NULL), AK_OK);
	CHECK_ST(ak_refiller_add(&rf, &tb), AK_OK);
	/* the thread has scanned once (paid deposit 1) and planned its sleep */
	wait_tokens(&tb, 1);
	CHECK_ST(ak_tbucket_try_acquire(&tb, 1, NULL), AK_OK);
	struct timespec settle = { 0, 20 * 1000 * 1000 };
	nanosleep(&settle, NULL);
	CHECK_ST(ak_tbucket_set_rate(&tb, 1, AK_NS_PER_MS), AK_OK);
	for (int i = 0; i < 3; i++) {
		ak_status st = ak_tbucket_acquire(&tb, 1, ak_deadline_after(10 * AK_NS_PER_SEC), NULL);
		CHECK_ST(st, AK_OK);
		if (st != AK_OK)
			break;
	}
	CHECK_ST(ak_refiller_stop(&rf), AK_OK);
}

/* ---- fork while a thread holds the tick lock ------------------------------ */

/* Test hook in src/tbucket.c: called with the tick lock held. */
extern void (*_ak_tbucket_test_locked)(ak_tbucket *tb);

static ak_tbucket g_fk;

static void fk_hook(ak_tbucket *tb)
{
	if (tb == &g_fk)
		fork_locked_hook();
}

static void *fk_setter(void *arg)
{
	(void)arg;
	(void)ak_tbucket_set_rate_at(&g_fk, 0, 1, 10);
	return NULL;
}

/* The child: a tick with deposits due must deposit (a copied tick lock
 * would refuse every tick, and the bucket would never refill). */
static int fk_child(void *arg)
{
	(void)arg;
	return ak_tbucket_tick_at(&g_fk, 1000) != 0 ? 0 : 2;
}

static void test_fork_locked(void)
{
	CHECK_ST(ak_tbucket_init_at(&g_fk, 0, 1, 10, 10, NULL), AK_OK);
	CHECK_ST(ak_tbucket_try_acquire_at(&g_fk, 0, 10, NULL), AK_OK); /* empty it */
	_ak_tbucket_test_locked = fk_hook;
	int status = fork_locked_run(fk_setter, NULL, fk_child, NULL);
	_ak_tbucket_test_locked = NULL;
	CHECK(status == 0); /* the child's tick deposited */
	CHECK(ak_tbucket_tick_at(&g_fk, 1000) != 0);
}

int main(void)
{
	test_config();
	test_fork_locked();
	test_time_range();
	test_basic();
	test_reserve();
	test_reconfigure();
	test_burst_race();
	test_oracle_single();
	test_liveness();
	test_oracle_threads();
	test_refiller();
	test_refiller_set_rate();
	test_acquire();
	test_acquire_woken_by_refund();
	return check_report("tbucket");
}
