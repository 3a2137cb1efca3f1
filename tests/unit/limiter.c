/*
 * Unit tests: GCRA limiter and keyed table, on fake clocks.
 *
 *  - exact semantics: rounding, burst, wait times, E2BIG/EINVAL/EOVERFLOW,
 *    rejection writes nothing, backwards clocks, reservations, cancel,
 *    refund, set_rate/set_burst
 *  - the exactness oracle (ratelimit_oracle.h) over random traces with
 *    reservations, cancels, refunds and rate/burst changes, single-threaded
 *    and on 4 threads sharing a fake clock: zero violations, and the bound
 *    is actually reached (the check is not vacuous)
 *  - liveness under saturating demand
 *  - keyed table: independence, AK_EFULL, lazy eviction, reserved keys
 */
#include <atomkit/cancel.h>
#include <atomkit/limiter.h>
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

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

static uint64_t word_of(ak_limiter *l)
{
	return atomic_load_explicit(&l->word, memory_order_relaxed);
}

static void test_config(void)
{
	ak_limiter l;
	CHECK_ST(ak_limiter_init(NULL, 1, 10, 1, NULL), AK_EINVAL);
	CHECK_ST(ak_limiter_init(&l, 0, 10, 1, NULL), AK_EINVAL);
	CHECK_ST(ak_limiter_init(&l, 1, 0, 1, NULL), AK_EINVAL);
	CHECK_ST(ak_limiter_init(&l, 1, 10, 0, NULL), AK_EINVAL);
	/* b * per' beyond 2^60 units; reduced k beyond 2^30 */
	CHECK_ST(ak_limiter_init(&l, 1, UINT64_C(1) << 40, UINT64_C(1) << 21, NULL), AK_EINVAL);
	CHECK_ST(ak_limiter_init(&l, 1, UINT64_C(1) << 40, UINT64_C(1) << 20, NULL), AK_OK);
	CHECK_ST(ak_limiter_init(&l, (UINT64_C(1) << 30) + 1, UINT64_C(1) << 31, 1, NULL), AK_EINVAL);
	CHECK_ST(ak_limiter_init(&l, (UINT64_C(1) << 30) + 2, UINT64_C(1) << 31, 1, NULL), AK_OK);
	/* the rate is kept exactly, reduced by gcd */
	uint64_t k, per;
	CHECK_ST(ak_limiter_init(&l, 2, 10, 1, NULL), AK_OK);
	ak_limiter_rate(&l, &k, &per);
	CHECK(k == 1 && per == 5);
	CHECK_ST(ak_limiter_init(&l, 3, 10, 1, NULL), AK_OK);
	ak_limiter_rate(&l, &k, &per);
	CHECK(k == 3 && per == 10);
	CHECK_ST(ak_limiter_init(&l, 1000, AK_NS_PER_SEC, 1, NULL), AK_OK);
	ak_limiter_rate(&l, &k, &per);
	CHECK(k == 1 && per == 1000000);
	/* more than 1e9 per second is fine: 3 per ns */
	CHECK_ST(ak_limiter_init(&l, 3000000000u, AK_NS_PER_SEC, 5, NULL), AK_OK);
	ak_limiter_rate(&l, &k, &per);
	CHECK(k == 3 && per == 1);
	uint64_t w, adm = 0;
	for (uint64_t t = BASE; t < BASE + 1000; t++)
		while (ak_limiter_try_acquire_at(&l, t, 1, &w) == AK_OK)
			adm++;
	CHECK_EQ_U64(adm, 5 + 999 * 3);
	/* 3 per 10 ns: waits are rounded up to whole ns, never down */
	CHECK_ST(ak_limiter_init(&l, 3, 10, 1, NULL), AK_OK);
	CHECK_ST(ak_limiter_try_acquire_at(&l, BASE, 1, &w), AK_OK);
	CHECK_ST(ak_limiter_try_acquire_at(&l, BASE, 1, &w), AK_EAGAIN);
	CHECK_EQ_U64(w, 4); /* 3.33 ns */
	CHECK_ST(ak_limiter_try_acquire_at(&l, BASE + 3, 1, &w), AK_EAGAIN);
	CHECK_EQ_U64(w, 1);
	CHECK_ST(ak_limiter_try_acquire_at(&l, BASE + 4, 1, &w), AK_OK);
	/* the bucket refilled from 4 ns on, not from a grid */
	CHECK_ST(ak_limiter_try_acquire_at(&l, BASE + 7, 1, &w), AK_EAGAIN); /* 7.33 */
	CHECK_EQ_U64(w, 1);
	CHECK_ST(ak_limiter_try_acquire_at(&l, BASE + 8, 1, &w), AK_OK);
}

static void test_basic(void)
{
	ak_limiter l;
	uint64_t w, now = BASE;
	CHECK_ST(ak_limiter_init(&l, 1, 10, 3, NULL), AK_OK); /* 1 per 10 ns, burst 3 */
	CHECK_EQ_U64(ak_limiter_available_at(&l, now), 3);
	for (int i = 0; i < 3; i++)
		CHECK_ST(ak_limiter_try_acquire_at(&l, now, 1, &w), AK_OK);
	uint64_t before = word_of(&l);
	CHECK_ST(ak_limiter_try_acquire_at(&l, now, 1, &w), AK_EAGAIN);
	CHECK_EQ_U64(w, 10);
	CHECK_ST(ak_limiter_try_acquire_at(&l, now, 2, &w), AK_EAGAIN);
	CHECK_EQ_U64(w, 20);
	CHECK_EQ_U64(word_of(&l), before); /* a rejection writes nothing */
	CHECK_ST(ak_limiter_try_acquire_at(&l, now + 9, 1, &w), AK_EAGAIN);
	CHECK_EQ_U64(w, 1);
	CHECK_ST(ak_limiter_try_acquire_at(&l, now + 10, 1, &w), AK_OK);
	CHECK_EQ_U64(w, 0);
	CHECK_EQ_U64(ak_limiter_available_at(&l, now + 10), 0);
	CHECK_EQ_U64(ak_limiter_available_at(&l, now + 40), 3);
	/* n == b succeeds exactly when the bucket is full (no off-by-one) */
	CHECK_ST(ak_limiter_try_acquire_at(&l, now + 39, 3, &w), AK_EAGAIN);
	CHECK_EQ_U64(w, 1);
	CHECK_ST(ak_limiter_try_acquire_at(&l, now + 40, 3, &w), AK_OK);
	/* misuse */
	CHECK_ST(ak_limiter_try_acquire_at(&l, now, 4, &w), AK_E2BIG);
	CHECK_EQ_U64(w, UINT64_MAX);
	CHECK_ST(ak_limiter_try_acquire_at(&l, now, 0, &w), AK_EINVAL);
	CHECK_ST(ak_limiter_try_acquire_at(&l, UINT64_C(1) << 63, 1, &w), AK_EOVERFLOW);
	CHECK_ST(ak_limiter_try_acquire_at(&l, UINT64_MAX, 1, NULL), AK_EOVERFLOW);
}

static void test_overflow_edge(void)
{
	ak_limiter l;
	ak_limiter_ticket tk0 = { 0, 0, 0, 0, 0 };
	/* times up to 2^63 - 1 ns; 2^63 and up: AK_EOVERFLOW, nothing written */
	uint64_t w, top = (UINT64_C(1) << 63) - 1;
	CHECK_ST(ak_limiter_init(&l, 1, 100, 2, NULL), AK_OK);
	CHECK_ST(ak_limiter_try_acquire_at(&l, top + 1, 1, &w), AK_EOVERFLOW);
	CHECK_ST(ak_limiter_try_acquire_at(&l, UINT64_MAX, 1, &w), AK_EOVERFLOW);
	CHECK_ST(ak_limiter_refund_at(&l, top + 1, 1, &w), AK_EOVERFLOW);
	CHECK_ST(ak_limiter_set_rate_at(&l, top + 1, 1, 100), AK_EOVERFLOW);
	CHECK_ST(ak_limiter_set_burst_at(&l, top + 1, 2), AK_EOVERFLOW);
	CHECK_EQ_U64(word_of(&l), 0);
	/* far from the epoch (past 2^62 ns, where the generation bit sits in
	 * the word: the word holds units past the epoch, not ns): the state
	 * is rebased, exactly */
	uint64_t x = (UINT64_C(1) << 62) + 12345;
	CHECK_ST(ak_limiter_try_acquire_at(&l, x, 2, &w), AK_OK);
	CHECK_EQ_U64(atomic_load_explicit(&l.epoch, memory_order_relaxed), x);
	CHECK_ST(ak_limiter_try_acquire_at(&l, x + 99, 1, &w), AK_EAGAIN);
	CHECK_EQ_U64(w, 1);
	CHECK_ST(ak_limiter_try_acquire_at(&l, x + 100, 1, &w), AK_OK);
	/* a time before the epoch never admits (it would be "in the past") */
	CHECK_ST(ak_limiter_try_acquire_at(&l, x - 1000, 1, &w), AK_EAGAIN);
	CHECK_EQ_U64(w, 1000 + 200);
	CHECK_ST(ak_limiter_try_acquire_at(&l, top, 2, &w), AK_OK);
	CHECK_ST(ak_limiter_try_acquire_at(&l, top, 1, &w), AK_EAGAIN);
	CHECK_EQ_U64(w, 100);
	/* at the very top: a reservation good after 2^63 - 1 is dated exactly
	 * (good_at does not wrap), a rate change and a cancel work */
	CHECK_ST(ak_limiter_reserve_at(&l, top, 1, 1000, &tk0, &w), AK_OK);
	CHECK_EQ_U64(tk0.good_at, top + 100);
	CHECK_ST(ak_limiter_set_rate_at(&l, top, 1, 50), AK_OK);
	CHECK_ST(ak_limiter_try_acquire_at(&l, top, 1, &w), AK_EAGAIN);
	CHECK_EQ_U64(w, 100 + 50); /* the promise first, then the new rate */
	CHECK_ST(ak_limiter_set_burst_at(&l, top, 3), AK_OK);
	/* reservations further ahead than the state can count */
	ak_limiter_ticket tk;
	int n = 0;
	ak_status st;
	CHECK_ST(ak_limiter_init(&l, 1, UINT64_C(1) << 40, UINT64_C(1) << 20, NULL), AK_OK);
	while ((st = ak_limiter_reserve_at(&l, BASE, UINT64_C(1) << 20, UINT64_MAX, &tk, &w)) ==
	       AK_OK)
		n++;
	CHECK_ST(st, AK_EOVERFLOW);
	CHECK(n == 3); /* 4 * 2^60 units would reach 2^62 */
	uint64_t before = word_of(&l);
	CHECK_ST(ak_limiter_reserve_at(&l, BASE, 1, UINT64_MAX, &tk, &w), AK_OK);
	CHECK_ST(ak_limiter_reserve_at(&l, BASE, UINT64_C(1) << 20, UINT64_MAX, &tk, &w),
		 AK_EOVERFLOW);
	CHECK_EQ_U64(word_of(&l), before + (UINT64_C(1) << 40));
}

/* A fine-grained rate (k' near 2^30) rebases about once a second of its
 * time; saturating demand across rebases still gets exactly its due. */
static void test_rebase_exact(void)
{
	ak_limiter l;
	uint64_t k = (UINT64_C(1) << 30) - 1, per = UINT64_C(1) << 31, b = UINT64_C(1) << 20;
	uint64_t w, adm = 0, last = BASE, epochs = 0, prev_epoch = 0;
	static const uint64_t sizes[] = { 400000, 1000, 1 };
	CHECK_ST(ak_limiter_init(&l, k, per, b, NULL), AK_OK);
	for (uint64_t t = BASE; t <= BASE + 2500 * AK_NS_PER_MS; t += AK_NS_PER_MS) {
		for (int s = 0; s < 3; s++)
			while (ak_limiter_try_acquire_at(&l, t, sizes[s], &w) == AK_OK)
				adm += sizes[s];
		uint64_t ep = atomic_load_explicit(&l.epoch, memory_order_relaxed);
		epochs += ep != prev_epoch;
		prev_epoch = ep;
		last = t;
	}
	__extension__ unsigned __int128 due = (unsigned __int128)(last - BASE) * k / per;
	CHECK(epochs >= 2);
	CHECK(adm <= b + (uint64_t)due);
	CHECK(adm + 1 >= b + (uint64_t)due);
}

static void test_backwards_clock(void)
{
	ak_limiter l;
	uint64_t w, admitted = 0;
	CHECK_ST(ak_limiter_init(&l, 1, 10, 4, NULL), AK_OK);
	/* Alternate a time and a time far in the past: the past must never
	 * create tokens (the bug Go's limiter had). */
	for (int i = 0; i < 100; i++) {
		uint64_t t = (i & 1) ? BASE - 1000000 : BASE + (uint64_t)i / 2;
		if (ak_limiter_try_acquire_at(&l, t, 1, &w) == AK_OK)
			admitted++;
	}
	/* over [BASE, BASE + 49]: at most b + 49/10 */
	CHECK(admitted <= 4 + 4);
	CHECK(admitted >= 4);
	/* a past time sees no tokens at all once the present has spent them */
	CHECK_ST(ak_limiter_try_acquire_at(&l, BASE - 1000000, 1, &w), AK_EAGAIN);
}

static void test_reserve_cancel(void)
{
	ak_limiter l;
	ak_limiter_ticket a = { 0, 0, 0, 0, 0 }, b = a, c = a;
	uint64_t w, now = BASE;
	CHECK_ST(ak_limiter_init(&l, 1, 10, 2, NULL), AK_OK);
	CHECK_ST(ak_limiter_try_acquire_at(&l, now, 2, &w), AK_OK);
	uint64_t s0 = word_of(&l);
	CHECK_ST(ak_limiter_reserve_at(&l, now, 1, 5, &a, &w), AK_EAGAIN); /* needs 10 */
	CHECK_EQ_U64(w, 10);
	CHECK_EQ_U64(a.n, 0);
	CHECK_EQ_U64(word_of(&l), s0);
	CHECK_ST(ak_limiter_reserve_at(&l, now, 1, 10, &a, &w), AK_OK);
	CHECK_EQ_U64(a.good_at, now + 10);
	CHECK_EQ_U64(w, 10);
	CHECK_ST(ak_limiter_reserve_at(&l, now, 2, 100, &b, &w), AK_OK);
	CHECK_EQ_U64(b.good_at, now + 30);
	/* a is not the last: cancelling it gives nothing back */
	CHECK_ST(ak_limiter_cancel_at(&l, now, &a), AK_EBUSY);
	CHECK_ST(ak_limiter_cancel_at(&l, now, &a), AK_ESTATE);
	/* refunds are refused while a future reservation is outstanding */
	uint64_t g = 99;
	CHECK_ST(ak_limiter_refund_at(&l, now, 1, &g), AK_EBUSY);
	CHECK_EQ_U64(g, 0);
	/* b is the last and not yet good: exact undo */
	CHECK_ST(ak_limiter_cancel_at(&l, now + 29, &b), AK_OK);
	CHECK_EQ_U64(word_of(&l), s0 + 10);
	/* LIFO cancels undo exactly, back to before the reservations */
	CHECK_ST(ak_limiter_reserve_at(&l, now, 2, 100, &a, &w), AK_OK);
	CHECK_ST(ak_limiter_reserve_at(&l, now, 1, 100, &b, &w), AK_OK);
	CHECK_ST(ak_limiter_reserve_at(&l, now, 1, 100, &c, &w), AK_OK);
	CHECK_ST(ak_limiter_cancel_at(&l, now, &c), AK_OK);
	CHECK_ST(ak_limiter_cancel_at(&l, now, &b), AK_OK);
	CHECK_ST(ak_limiter_cancel_at(&l, now, &a), AK_OK);
	CHECK_EQ_U64(word_of(&l), s0 + 10);
	/* a ticket that is already good cannot be cancelled: its tokens are
	 * the holder's (and a refund may have been made since) */
	CHECK_ST(ak_limiter_reserve_at(&l, now, 1, 100, &a, &w), AK_OK);
	CHECK_ST(ak_limiter_cancel_at(&l, a.good_at, &a), AK_EBUSY);
	/* the refund/re-take ABA: refund, take the same amount back, and the
	 * TAT equals an old ticket's end again; the old ticket is good by
	 * then, so its cancel is refused */
	CHECK_ST(ak_limiter_init(&l, 1, 2, 2, NULL), AK_OK);
	CHECK_ST(ak_limiter_reserve_at(&l, now, 2, 0, &a, &w), AK_OK);
	CHECK_ST(ak_limiter_reserve_at(&l, now, 1, 100, &b, &w), AK_OK); /* good at now+2 */
	CHECK_ST(ak_limiter_refund_at(&l, now + 2, 2, &g), AK_OK);
	CHECK_EQ_U64(g, 2);
	CHECK_ST(ak_limiter_try_acquire_at(&l, now + 4, 1, &w), AK_OK);
	CHECK_EQ_U64(word_of(&l), b.end);
	CHECK_ST(ak_limiter_cancel_at(&l, now + 4, &b), AK_EBUSY);
	/* misuse */
	CHECK_ST(ak_limiter_cancel(&l, NULL), AK_EINVAL);
	CHECK_ST(ak_limiter_cancel(NULL, &a), AK_EINVAL);
	CHECK_ST(ak_limiter_reserve_at(&l, now, 1, 0, NULL, &w), AK_EINVAL);
	CHECK_ST(ak_limiter_reserve_at(&l, now, 3, 0, &a, &w), AK_E2BIG);
	/* the clock form reads the limiter's clock */
	ak_fake_clock fc;
	ak_fake_clock_set(&fc, now);
	ak_clock ck = ak_fake_clock_as_clock(&fc);
	CHECK_ST(ak_limiter_init(&l, 1, 10, 1, &ck), AK_OK);
	CHECK_ST(ak_limiter_reserve(&l, 1, 0, &a, &w), AK_OK);
	CHECK_ST(ak_limiter_reserve(&l, 1, 10, &b, &w), AK_OK);
	CHECK_ST(ak_limiter_cancel(&l, &b), AK_OK);
	CHECK_ST(ak_limiter_cancel(&l, &a), AK_EBUSY);
}

/*
 * LIFO cancels at a rate that is not a whole number of ns per token: a
 * reservation's good_at is pushed to the next whole ns (the pad), and the
 * undo must still restore the state word the reservation started from, or
 * the cancel of the ticket before it finds a TAT that is off by the pad.
 */
static void test_cancel_fractional(void)
{
	ak_limiter l;
	ak_limiter_ticket a, b, c;
	uint64_t w, now = BASE;
	/* 3 tokens per s: 333333333.3 ns per token (k' = 3 units per ns) */
	CHECK_ST(ak_limiter_init(&l, 3, AK_NS_PER_SEC, 1, NULL), AK_OK);
	CHECK_ST(ak_limiter_try_acquire_at(&l, now, 1, &w), AK_OK);
	uint64_t s0 = word_of(&l);
	CHECK_ST(ak_limiter_reserve_at(&l, now, 1, AK_NS_PER_SEC, &a, &w), AK_OK);
	uint64_t s1 = word_of(&l);
	CHECK_ST(ak_limiter_reserve_at(&l, now, 1, AK_NS_PER_SEC, &b, &w), AK_OK);
	uint64_t s2 = word_of(&l);
	CHECK_ST(ak_limiter_reserve_at(&l, now, 1, 2 * AK_NS_PER_SEC, &c, &w), AK_OK);
	CHECK(a.good_at > now && b.good_at > a.good_at && c.good_at > b.good_at);
	CHECK_ST(ak_limiter_cancel_at(&l, now, &c), AK_OK);
	CHECK_EQ_U64(word_of(&l), s2);
	CHECK_ST(ak_limiter_cancel_at(&l, now, &b), AK_OK);
	CHECK_EQ_U64(word_of(&l), s1);
	CHECK_ST(ak_limiter_cancel_at(&l, now, &a), AK_OK);
	CHECK_EQ_U64(word_of(&l), s0);
	/* and the next reservation is good exactly when the first one was */
	uint64_t first = a.good_at;
	CHECK_ST(ak_limiter_reserve_at(&l, now, 1, AK_NS_PER_SEC, &a, &w), AK_OK);
	CHECK_EQ_U64(a.good_at, first);
}

static void test_refund(void)
{
	ak_limiter l;
	uint64_t w, g, now = BASE;
	CHECK_ST(ak_limiter_init(&l, 1, 10, 5, NULL), AK_OK);
	CHECK_ST(ak_limiter_refund_at(&l, now, 3, &g), AK_OK); /* full: nothing */
	CHECK_EQ_U64(g, 0);
	CHECK_ST(ak_limiter_try_acquire_at(&l, now, 4, &w), AK_OK);
	CHECK_EQ_U64(ak_limiter_available_at(&l, now), 1);
	CHECK_ST(ak_limiter_refund_at(&l, now, 3, &g), AK_OK);
	CHECK_EQ_U64(g, 3);
	CHECK_EQ_U64(ak_limiter_available_at(&l, now), 4);
	CHECK_ST(ak_limiter_refund_at(&l, now, 100, &g), AK_OK); /* clamped to the burst */
	CHECK_EQ_U64(g, 1);
	CHECK_EQ_U64(ak_limiter_available_at(&l, now), 5);
	/* a partial token's worth of room gives back whole tokens only */
	CHECK_ST(ak_limiter_try_acquire_at(&l, now, 2, &w), AK_OK);
	CHECK_ST(ak_limiter_refund_at(&l, now + 15, 2, &g), AK_OK);
	CHECK_EQ_U64(g, 0); /* 5 ns of debt left: less than one token */
	CHECK_ST(ak_limiter_refund_at(&l, now, 0, &g), AK_EINVAL);
	CHECK_ST(ak_limiter_refund_at(&l, UINT64_MAX, 1, &g), AK_EOVERFLOW);
}

static void test_set_rate(void)
{
	ak_limiter l;
	uint64_t w, now = BASE;
	CHECK_ST(ak_limiter_init(&l, 1, 10, 4, NULL), AK_OK);
	CHECK_ST(ak_limiter_try_acquire_at(&l, now, 4, &w), AK_OK); /* empty: debt 40 ns */
	/* slower (T 10 -> 100): the level is kept, so still empty, and the
	 * next token takes the new T */
	CHECK_ST(ak_limiter_set_rate_at(&l, now, 1, 100), AK_OK);
	uint64_t k, per;
	ak_limiter_rate(&l, &k, &per);
	CHECK(k == 1 && per == 100);
	CHECK_ST(ak_limiter_try_acquire_at(&l, now, 1, &w), AK_EAGAIN);
	CHECK_EQ_U64(w, 100);
	CHECK_EQ_U64(ak_limiter_available_at(&l, now + 250), 2);
	/* faster (T 100 -> 1): still the same level, refilling faster */
	CHECK_ST(ak_limiter_set_rate_at(&l, now, 1, 1), AK_OK);
	CHECK_ST(ak_limiter_try_acquire_at(&l, now, 1, &w), AK_EAGAIN);
	CHECK_EQ_U64(w, 1);
	CHECK_EQ_U64(ak_limiter_available_at(&l, now + 2), 2);
	/* flipping back and forth neither creates nor piles up debt */
	for (int i = 0; i < 50; i++) {
		CHECK_ST(ak_limiter_set_rate_at(&l, now, 1, 100), AK_OK);
		CHECK_ST(ak_limiter_set_rate_at(&l, now, 1, 1), AK_OK);
	}
	CHECK_EQ_U64(ak_limiter_available_at(&l, now + 4), 4);
	CHECK_EQ_U64(ak_limiter_available_at(&l, now + 3), 3);
	CHECK_ST(ak_limiter_set_rate_at(&l, now, 0, 1), AK_EINVAL);
	CHECK_ST(ak_limiter_set_rate_at(&l, now, 1, 0), AK_EINVAL);
	CHECK_ST(ak_limiter_set_rate_at(&l, UINT64_MAX, 1, 1), AK_EOVERFLOW);
	/* burst: the tokens available are kept, capped at the new burst; a
	 * raise adds none at once */
	CHECK_ST(ak_limiter_init(&l, 1, 10, 4, NULL), AK_OK);
	CHECK_ST(ak_limiter_try_acquire_at(&l, now, 1, &w), AK_OK);
	CHECK_ST(ak_limiter_set_burst_at(&l, now, 2), AK_OK);
	CHECK_EQ_U64(ak_limiter_burst(&l), 2);
	CHECK_EQ_U64(ak_limiter_available_at(&l, now), 2);
	CHECK_ST(ak_limiter_try_acquire_at(&l, now, 1, &w), AK_OK);
	CHECK_ST(ak_limiter_set_burst_at(&l, now, 4), AK_OK);
	CHECK_EQ_U64(ak_limiter_available_at(&l, now), 1);
	CHECK_EQ_U64(ak_limiter_available_at(&l, now + 29), 3);
	CHECK_EQ_U64(ak_limiter_available_at(&l, now + 30), 4);
	/* lower and raise in turn: never a token more */
	for (int i = 0; i < 20; i++) {
		CHECK_ST(ak_limiter_set_burst_at(&l, now, 1), AK_OK);
		CHECK_ST(ak_limiter_set_burst_at(&l, now, 4), AK_OK);
	}
	CHECK_EQ_U64(ak_limiter_available_at(&l, now), 1);
	CHECK_ST(ak_limiter_set_burst_at(&l, now, 2), AK_OK);
	CHECK_ST(ak_limiter_try_acquire_at(&l, now, 3, &w), AK_E2BIG);
	CHECK_ST(ak_limiter_set_burst_at(&l, now, 0), AK_EINVAL);
	CHECK_ST(ak_limiter_set_burst_at(&l, now, UINT64_C(1) << 62), AK_EINVAL);
	CHECK_EQ_U64(ak_limiter_burst(&l), 2);
	/* a change flips the generation bit: the word differs even when the
	 * TAT does not (an acquirer holding the old config fails its CAS) */
	uint64_t w0 = word_of(&l);
	CHECK_ST(ak_limiter_set_burst_at(&l, now, 2), AK_OK);
	CHECK(word_of(&l) != w0);
	CHECK((word_of(&l) ^ w0) == _AK_LIMITER_GEN);
	/* tickets from before a change can no longer be undone */
	ak_limiter_ticket t;
	CHECK_ST(ak_limiter_try_acquire_at(&l, now + 1000, 2, &w), AK_OK);
	CHECK_ST(ak_limiter_reserve_at(&l, now + 1000, 1, 100, &t, &w), AK_OK);
	CHECK_ST(ak_limiter_set_burst_at(&l, now + 1000, 3), AK_OK);
	CHECK_ST(ak_limiter_cancel_at(&l, now + 1000, &t), AK_EBUSY);
}

/*
 * Rate changes with reservations pending: the promises keep their dates, the
 * old rate stays in force until the last of them, and no newcomer is good
 * before it, whichever way the rate goes.
 */
static void test_set_rate_promises(void)
{
	ak_limiter l;
	ak_limiter_ticket t[3];
	uint64_t w, now = BASE;

	/* rise: 1 per 100 ns -> 1 per 10 ns with promises at +100, +200, +300 */
	CHECK_ST(ak_limiter_init(&l, 1, 100, 1, NULL), AK_OK);
	CHECK_ST(ak_limiter_try_acquire_at(&l, now, 1, &w), AK_OK);
	for (int i = 0; i < 3; i++) {
		CHECK_ST(ak_limiter_reserve_at(&l, now, 1, 1000, &t[i], &w), AK_OK);
		CHECK_EQ_U64(t[i].good_at, now + 100 * (uint64_t)(i + 1));
	}
	CHECK_ST(ak_limiter_set_rate_at(&l, now, 1, 10), AK_OK);
	/* the debt kept in tokens from the change would say +40: a newcomer
	 * ahead of two promises, both streams at once */
	CHECK_ST(ak_limiter_try_acquire_at(&l, now, 1, &w), AK_EAGAIN);
	CHECK_EQ_U64(w, 310);
	CHECK_ST(ak_limiter_try_acquire_at(&l, now + 309, 1, &w), AK_EAGAIN);
	CHECK_ST(ak_limiter_refund_at(&l, now + 299, 1, &w), AK_EBUSY); /* promises pending */
	CHECK_ST(ak_limiter_try_acquire_at(&l, now + 310, 1, &w), AK_OK);
	CHECK_ST(ak_limiter_try_acquire_at(&l, now + 320, 1, &w), AK_OK);
	CHECK_ST(ak_limiter_cancel_at(&l, now, &t[2]), AK_EBUSY); /* changed since */

	/* fall: 1 per 10 ns -> 1 per 100 ns with promises at +10, +20, +30 */
	CHECK_ST(ak_limiter_init(&l, 1, 10, 1, NULL), AK_OK);
	CHECK_ST(ak_limiter_try_acquire_at(&l, now, 1, &w), AK_OK);
	for (int i = 0; i < 3; i++)
		CHECK_ST(ak_limiter_reserve_at(&l, now, 1, 1000, &t[i], &w), AK_OK);
	CHECK_EQ_U64(t[2].good_at, now + 30);
	CHECK_ST(ak_limiter_set_rate_at(&l, now, 1, 100), AK_OK);
	/* the promised tokens are not charged again at the new rate (+400) */
	CHECK_ST(ak_limiter_try_acquire_at(&l, now, 1, &w), AK_EAGAIN);
	CHECK_EQ_U64(w, 130);
	/* falls and rises in turn neither pile up nor lose debt */
	for (int i = 0; i < 50; i++) {
		CHECK_ST(ak_limiter_set_rate_at(&l, now + 5, 1, 10), AK_OK);
		CHECK_ST(ak_limiter_set_rate_at(&l, now + 5, 1, 100), AK_OK);
	}
	CHECK_ST(ak_limiter_try_acquire_at(&l, now + 5, 1, &w), AK_EAGAIN);
	CHECK_EQ_U64(w, 125);
	CHECK_ST(ak_limiter_set_rate_at(&l, now + 5, 1, 10), AK_OK);
	CHECK_ST(ak_limiter_try_acquire_at(&l, now + 5, 1, &w), AK_EAGAIN);
	CHECK_EQ_U64(w, 35);
	/* a burst change keeps the last promise first too */
	CHECK_ST(ak_limiter_set_burst_at(&l, now + 5, 5), AK_OK);
	CHECK_ST(ak_limiter_try_acquire_at(&l, now + 5, 1, &w), AK_EAGAIN);
	CHECK_EQ_U64(w, 35);
	CHECK_EQ_U64(ak_limiter_available_at(&l, now + 80), 5);

	/* two changes that leave the word as it was (generation bit flipped
	 * twice, same TAT) still void a ticket: the undo checks the config
	 * generation under the lock bit, and leaves the word untouched */
	CHECK_ST(ak_limiter_init(&l, 1, 10, 4, NULL), AK_OK);
	CHECK_ST(ak_limiter_try_acquire_at(&l, now, 4, &w), AK_OK);
	CHECK_ST(ak_limiter_reserve_at(&l, now, 1, 100, &t[0], &w), AK_OK);
	CHECK_ST(ak_limiter_set_burst_at(&l, now, 4), AK_OK);
	CHECK_ST(ak_limiter_set_burst_at(&l, now, 4), AK_OK);
	CHECK_EQ_U64(word_of(&l), t[0].end);
	CHECK_ST(ak_limiter_cancel_at(&l, now, &t[0]), AK_EBUSY);
	CHECK_EQ_U64(word_of(&l), t[0].end);
	CHECK_ST(ak_limiter_reserve_at(&l, now, 1, 100, &t[1], &w), AK_OK);
	CHECK_ST(ak_limiter_cancel_at(&l, now, &t[1]), AK_OK); /* an exact undo still works */
	CHECK_EQ_U64(word_of(&l), t[0].end);
}

/*
 * Session 1's open question, minimised by libFuzzer from tests/fuzz/limiter.c:
 * k/per = 2/3001, b = 15; rate changes to 3/9001 at 81429, 8/7001 at 91540,
 * 7/11001 at 102960, 4/15001 at 103540; admissions of 3 at 81678 and 15 at
 * 90679.  Window [81678, 90679]: 18 = 15 + 3 * 9001 / 9001 tokens, exactly
 * the bound.  The oracle's common denominator, lcm(3001, 9001, 7001, 11001,
 * 15001) ~ 3.1e19, then wrapped in 64 bits, so D / 15001 and D / 9001 were
 * no longer exact and the allowance came out 20608 / 1.28e19 short: a false
 * "violation" of 2e-15 token.  The limiter was exact.
 */
static void test_oracle_wrapped_denominator(void)
{
	static const uint64_t chg[][3] = {
		{ 81429, 3, 9001 }, { 91540, 8, 7001 }, { 102960, 7, 11001 }, { 103540, 4, 15001 }
	};
	struct rl_rate_sched s = { .nseg = 0 };
	ak_limiter l;
	uint64_t w;

	CHECK_ST(ak_limiter_init(&l, 2, 3001, 15, NULL), AK_OK);
	rl_rate_push(&s, 0, 2, 3001);
	CHECK_ST(ak_limiter_set_rate_at(&l, chg[0][0], chg[0][1], chg[0][2]), AK_OK);
	rl_rate_push(&s, chg[0][0], chg[0][1], chg[0][2]);
	CHECK_ST(ak_limiter_try_acquire_at(&l, 81678, 3, &w), AK_OK);
	CHECK_ST(ak_limiter_try_acquire_at(&l, 90678, 15, &w), AK_EAGAIN); /* 1 ns early */
	CHECK_EQ_U64(w, 1);
	CHECK_ST(ak_limiter_try_acquire_at(&l, 90679, 15, &w), AK_OK);
	for (int i = 1; i < 4; i++) {
		CHECK_ST(ak_limiter_set_rate_at(&l, chg[i][0], chg[i][1], chg[i][2]), AK_OK);
		rl_rate_push(&s, chg[i][0], chg[i][1], chg[i][2]);
	}
	CHECK(s.D > (rl_i128)UINT64_MAX); /* what wrapped before */
	struct rl_event ev[] = { { 81678, 3 }, { 90679, 15 } };
	struct rl_verdict v = rl_oracle(ev, 2, s.D, 15, rl_rate_allow, &s);
	CHECK_EQ_U64(v.violations, 0);
	CHECK(v.tightest == 0); /* exactly at the bound, not over it */
}

static void test_clock(void)
{
	ak_fake_clock fc;
	ak_fake_clock_set(&fc, BASE);
	ak_clock c = ak_fake_clock_as_clock(&fc);
	ak_limiter l;
	uint64_t w;
	CHECK_ST(ak_limiter_init(&l, 1, 10, 1, &c), AK_OK);
	CHECK_ST(ak_limiter_try_acquire(&l, 1, &w), AK_OK);
	CHECK_ST(ak_limiter_try_acquire(&l, 1, &w), AK_EAGAIN);
	ak_fake_clock_advance(&fc, 10);
	CHECK_ST(ak_limiter_try_acquire(&l, 1, &w), AK_OK);
	/* the coarse clock is monotonic and within a few ticks of the fine one */
	uint64_t res = 0;
	ak_clock cc = ak_clock_monotonic_coarse(&res);
	CHECK(res > 0 && res <= 10 * AK_NS_PER_MS);
	uint64_t prev = ak_clock_read(&cc);
	for (int i = 0; i < 1000; i++) {
		uint64_t x = ak_clock_read(&cc);
		CHECK(x >= prev);
		prev = x;
	}
	uint64_t fine = ak_now_ns(), coarse = ak_clock_read(&cc);
	CHECK(coarse <= fine + res && fine <= coarse + 2 * res);
}

/* The TSC clock: conversion checked on injected calibrations (exact, no
 * overflow, monotonic in the counter); the real calibration only for its
 * status and, if it succeeds, for non-decreasing reads on this thread. */
static void test_tsc_clock(void)
{
	ak_tsc_clock c;
	/* 3 ticks per ns */
	CHECK_ST(ak_tsc_clock_init_from(&c, 1000, 5000, 1000 + 3000000000u, 5000 + AK_NS_PER_SEC), AK_OK);
	CHECK_EQ_U64(ak_tsc_clock_ns(&c, 1000), 5000);
	CHECK_EQ_U64(ak_tsc_clock_ns(&c, 999), 5000); /* before the reference: ns0 */
	CHECK_EQ_U64(ak_tsc_clock_ns(&c, 0), 5000);
	/* mult = 2^32 / 3 rounded down: the clock never runs fast, so tick 3
	 * reads a hair under 1 ns (0) and tick 4 reads 1 */
	CHECK_EQ_U64(ak_tsc_clock_ns(&c, 1003), 5000);
	CHECK_EQ_U64(ak_tsc_clock_ns(&c, 1004), 5001);
	CHECK_EQ_U64(ak_tsc_clock_ns(&c, 1000 + 3000000000u), 5000 + AK_NS_PER_SEC - 1);
	/* 2^50 ticks ahead (~4 days at 3 GHz): no overflow, rate kept to
	 * the calibration's 2^-32 rounding */
	uint64_t far = ak_tsc_clock_ns(&c, 1000 + (UINT64_C(1) << 50));
	uint64_t want = 5000 + (UINT64_C(1) << 50) / 3;
	CHECK(far <= want && want - far <= (UINT64_C(1) << 50) / 3 / (UINT64_C(1) << 31) + 1);
	/* the largest counter value: saturates instead of wrapping */
	CHECK(ak_tsc_clock_ns(&c, UINT64_MAX) > far);
	/* monotonic in the counter */
	uint64_t prev = 0;
	for (uint64_t t = 0; t < 100000; t += 7) {
		uint64_t ns = ak_tsc_clock_ns(&c, 990 + t);
		CHECK(ns >= prev);
		prev = ns;
	}
	/* slower than 1 tick per ns (2 ns per tick): exact */
	CHECK_ST(ak_tsc_clock_init_from(&c, 0, 0, 500, 1000), AK_OK);
	CHECK_EQ_U64(ak_tsc_clock_ns(&c, 123456789), 246913578);
	/* bad calibrations */
	CHECK_ST(ak_tsc_clock_init_from(&c, 10, 0, 10, 100), AK_EINVAL);
	CHECK_ST(ak_tsc_clock_init_from(&c, 10, 100, 20, 100), AK_EINVAL);
	CHECK_ST(ak_tsc_clock_init_from(&c, 0, 0, UINT64_C(1) << 40, 1), AK_EINVAL); /* < 2^-32 ns/tick */
	CHECK_ST(ak_tsc_clock_init_from(&c, 0, 0, 1, UINT64_C(1) << 31), AK_EINVAL);
	CHECK_ST(ak_tsc_clock_init_from(NULL, 0, 0, 1, 1), AK_EINVAL);
	CHECK_ST(ak_tsc_clock_init(NULL, 0), AK_EINVAL);
	/* a limiter on an injected calibration behaves as on ns */
	ak_limiter l;
	uint64_t w;
	CHECK_ST(ak_tsc_clock_init_from(&c, 0, BASE, 1, BASE + 2), AK_OK); /* 2 ns per tick */
	CHECK_ST(ak_limiter_init(&l, 1, 10, 2, NULL), AK_OK);
	CHECK_ST(ak_limiter_try_acquire_at(&l, ak_tsc_clock_ns(&c, 5), 2, &w), AK_OK);
	CHECK_ST(ak_limiter_try_acquire_at(&l, ak_tsc_clock_ns(&c, 9), 1, &w), AK_EAGAIN);
	CHECK_EQ_U64(w, 2);
	CHECK_ST(ak_limiter_try_acquire_at(&l, ak_tsc_clock_ns(&c, 10), 1, &w), AK_OK);
	/* the real thing: calibrated, or refused with AK_ENOENT */
	ak_status st = ak_tsc_clock_init(&c, AK_NS_PER_MS);
	CHECK(st == AK_OK || st == AK_ENOENT);
	if (st == AK_OK) {
		ak_clock k = ak_tsc_clock_as_clock(&c);
		prev = 0;
		for (int i = 0; i < 1000; i++) {
			uint64_t ns = ak_clock_read(&k);
			CHECK(ns >= prev);
			prev = ns;
		}
	}
}

/* ---- a take or refund preempted across two reconfigurations ---------------
 *
 * The operation is parked (test hook) between its load of the state word
 * and its CAS; meanwhile another thread makes two set_rate calls that leave
 * the word numerically as it was (its one generation bit flips back).  The
 * final state must be one a correct linearization gives (the operation
 * before both changes or after both: here they agree).  Without a grace
 * period the parked CAS succeeds with the old units and epoch; with one,
 * the setter waits for the parked operation to leave (so it runs in its
 * own thread, and nothing below depends on how long anything took). */

extern void (*_ak_limiter_test_window)(ak_limiter *l);

struct race {
	ak_limiter l;
	_Atomic(int) parked, go, setter_done;
	int refund;             /* 0: try_acquire_at(now, 1); 1: refund_at(now, 1) */
	uint64_t now, set_now;  /* the operation's time, the setter's */
	uint64_t per1, per2;    /* set_rate_at(set_now, 1, per1), then per2 */
	ak_status st;
	uint64_t given;
	unsigned mode;          /* the operation thread's announcement mode */
	int setter_first;       /* the setter finished while the operation was parked */
};
static struct race g_race;

static void race_park(ak_limiter *l)
{
	/* Only the first pass parks (a failed CAS comes round again). */
	if (l != &g_race.l || atomic_exchange_explicit(&g_race.parked, 1, memory_order_acq_rel))
		return;
	/* Acquire pairs with the release store of `go` in race_run(). */
	while (!atomic_load_explicit(&g_race.go, memory_order_acquire))
		sched_yield();
}

static void *race_op(void *arg)
{
	(void)arg;
	g_race.mode = _ak_limiter_test_mode();
	if (g_race.refund)
		g_race.st = ak_limiter_refund_at(&g_race.l, g_race.now, 1, &g_race.given);
	else
		g_race.st = ak_limiter_try_acquire_at(&g_race.l, g_race.now, 1, NULL);
	return NULL;
}

static void *race_setter(void *arg)
{
	(void)arg;
	ak_status a = ak_limiter_set_rate_at(&g_race.l, g_race.set_now, 1, g_race.per1);
	ak_status b = ak_limiter_set_rate_at(&g_race.l, g_race.set_now, 1, g_race.per2);
	/* Release pairs with the acquire load in race_run(). */
	atomic_store_explicit(&g_race.setter_done, a == AK_OK && b == AK_OK ? 1 : 2,
			      memory_order_release);
	return NULL;
}

static void race_run(void)
{
	pthread_t op, set;
	atomic_store_explicit(&g_race.parked, 0, memory_order_relaxed);
	atomic_store_explicit(&g_race.go, 0, memory_order_relaxed);
	atomic_store_explicit(&g_race.setter_done, 0, memory_order_relaxed);
	_ak_limiter_test_window = race_park;
	pthread_create(&op, NULL, race_op, NULL);
	/* Acquire pairs with the exchange in race_park(). */
	while (!atomic_load_explicit(&g_race.parked, memory_order_acquire))
		sched_yield();
	uint64_t w0 = word_of(&g_race.l);
	pthread_create(&set, NULL, race_setter, NULL);
	/* Give the setter up to 200 ms to finish while the operation is
	 * parked (this only bounds the wait; nothing is asserted on it). */
	uint64_t until = ak_now_ns() + 200 * AK_NS_PER_MS;
	while (!atomic_load_explicit(&g_race.setter_done, memory_order_acquire) &&
	       ak_now_ns() < until)
		sched_yield();
	g_race.setter_first = atomic_load_explicit(&g_race.setter_done, memory_order_acquire) != 0;
	/* The grace period holds the first set_rate until the parked
	 * operation leaves its section: the setter cannot have finished.
	 * (Without one it does, and the word comes back: the ABA.) */
	CHECK_EQ_U64(g_race.setter_first, 0);
	if (g_race.setter_first)
		CHECK_EQ_U64(word_of(&g_race.l), w0);
	/* Release pairs with the acquire loads in race_park(). */
	atomic_store_explicit(&g_race.go, 1, memory_order_release);
	pthread_join(op, NULL);
	pthread_join(set, NULL);
	_ak_limiter_test_window = NULL;
	CHECK_EQ_U64(atomic_load_explicit(&g_race.setter_done, memory_order_relaxed), 1);
}

static void test_take_aba(unsigned mode)
{
	uint64_t now = BASE, k, per;
	/* A take of 1 on a full bucket (1 per 10 ns, burst 4, epoch 0) parked
	 * across set_rate(1/100) and set_rate(1/10) at the same time: a full
	 * bucket is TAT 0 after either, so the word comes back.  Either
	 * linearization leaves 3 tokens at now and a full bucket 10 ns on;
	 * the stale CAS would leave a TAT of `now` units past the new epoch
	 * (a lockout of a whole second). */
	memset(&g_race, 0, sizeof g_race);
	CHECK_ST(ak_limiter_init(&g_race.l, 1, 10, 4, NULL), AK_OK);
	g_race.now = now;
	g_race.set_now = now;
	g_race.per1 = 100;
	g_race.per2 = 10;
	race_run();
	CHECK_EQ_U64(g_race.mode, mode);
	CHECK_ST(g_race.st, AK_OK);
	ak_limiter_rate(&g_race.l, &k, &per);
	CHECK(k == 1 && per == 10);
	CHECK_EQ_U64(ak_limiter_available_at(&g_race.l, now), 3);
	CHECK_EQ_U64(ak_limiter_available_at(&g_race.l, now + 9), 3);
	CHECK_EQ_U64(ak_limiter_available_at(&g_race.l, now + 10), 4);
}

static void test_refund_aba(unsigned mode)
{
	uint64_t now = BASE, w;
	/* Epoch at now (a set_rate on the full bucket), then 4 taken: TAT 40
	 * units (1 per 10 ns, burst 4).  A refund of 1 at now + 20 (2 tokens
	 * of debt) is parked across set_rate(1/10) and set_rate(1/20) at now +
	 * 20: the first keeps the debt (20 units from the new epoch), the
	 * second doubles the units (40): the word comes back.  Either order
	 * ends at TAT 20 in 1/20 units: 3 tokens at now + 20, full at now + 40.
	 * The stale CAS would store 40 - 10 = 30 (half a token short). */
	memset(&g_race, 0, sizeof g_race);
	CHECK_ST(ak_limiter_init(&g_race.l, 1, 10, 4, NULL), AK_OK);
	CHECK_ST(ak_limiter_set_rate_at(&g_race.l, now, 1, 10), AK_OK);
	CHECK_ST(ak_limiter_try_acquire_at(&g_race.l, now, 4, &w), AK_OK);
	g_race.refund = 1;
	g_race.now = now + 20;
	g_race.set_now = now + 20;
	g_race.per1 = 10;
	g_race.per2 = 20;
	race_run();
	CHECK_EQ_U64(g_race.mode, mode);
	CHECK_ST(g_race.st, AK_OK);
	CHECK_EQ_U64(g_race.given, 1);
	CHECK_EQ_U64(ak_limiter_available_at(&g_race.l, now + 20), 3);
	CHECK_EQ_U64(ak_limiter_available_at(&g_race.l, now + 39), 3);
	CHECK_EQ_U64(ak_limiter_available_at(&g_race.l, now + 40), 4);
}

/* ---- the announcement registry ----------------------------------------------- */

#define REG_THREADS 1200 /* more than the 512 slots */
#define REG_BATCH 8

static ak_limiter g_reg;
static _Atomic(uint64_t) g_reg_shared, g_reg_ok;

static void *reg_thread(void *arg)
{
	(void)arg;
	if (_ak_limiter_test_mode() == _AK_LR_SHARED)
		atomic_fetch_add_explicit(&g_reg_shared, 1, memory_order_relaxed);
	if (ak_limiter_try_acquire_at(&g_reg, BASE, 1, NULL) == AK_OK)
		atomic_fetch_add_explicit(&g_reg_ok, 1, memory_order_relaxed);
	return NULL;
}

/*
 * Slots come back at thread exit: more short-lived threads than slots each
 * take once, and every one of them gets a slot; afterwards no more slots are
 * held than before, and a set_rate completes (every slot is inactive, so
 * its grace period has nothing to wait for).  Then the fallback: with the
 * slots forced full, and with slots that fence themselves, the parked-take
 * and parked-refund races still end in a correct state.
 */
static void test_registry(void)
{
	pthread_t th[REG_BATCH];
	uint64_t k, per;
	CHECK(_ak_limiter_test_mode() != _AK_LR_SHARED); /* main holds a slot */
	unsigned before = _ak_limiter_test_claimed();
	CHECK(before >= 1);
	CHECK_ST(ak_limiter_init(&g_reg, 1, 1, REG_THREADS, NULL), AK_OK);
	for (int i = 0; i < REG_THREADS; i += REG_BATCH) {
		for (int j = 0; j < REG_BATCH; j++)
			pthread_create(&th[j], NULL, reg_thread, NULL);
		for (int j = 0; j < REG_BATCH; j++)
			pthread_join(th[j], NULL);
	}
	CHECK_EQ_U64(atomic_load_explicit(&g_reg_shared, memory_order_relaxed), 0);
	CHECK_EQ_U64(atomic_load_explicit(&g_reg_ok, memory_order_relaxed), REG_THREADS);
	CHECK_EQ_U64(_ak_limiter_test_claimed(), before);
	CHECK_ST(ak_limiter_set_rate_at(&g_reg, BASE, 1, 2), AK_OK);
	ak_limiter_rate(&g_reg, &k, &per);
	CHECK(k == 1 && per == 2);
	CHECK_EQ_U64(ak_limiter_available_at(&g_reg, BASE), 0);

	/* No slot to be had: new threads share the counter pair. */
	_ak_limiter_test_slots(0, 0);
	test_take_aba(_AK_LR_SHARED);
	test_refund_aba(_AK_LR_SHARED);
	atomic_store_explicit(&g_reg_shared, 0, memory_order_relaxed);
	pthread_create(&th[0], NULL, reg_thread, NULL);
	pthread_join(th[0], NULL);
	CHECK_EQ_U64(atomic_load_explicit(&g_reg_shared, memory_order_relaxed), 1);
	CHECK_EQ_U64(_ak_limiter_test_claimed(), before);
	/* Slots that fence themselves (what membarrier's absence gives). */
	_ak_limiter_test_slots(512, 1);
	test_take_aba(_AK_LR_FENCE);
	test_refund_aba(_AK_LR_FENCE);
	_ak_limiter_test_slots(512, 0);
	CHECK_EQ_U64(_ak_limiter_test_claimed(), before);
}

/*
 * fork() while another thread is inside a take: in the child that thread
 * does not exist, and its section must not hold the child's set_rate up
 * for ever.  The child bounds itself with alarm(); the parent checks that
 * it exited normally, having changed the rate.
 */
static void test_fork(void)
{
	pthread_t op;
	memset(&g_race, 0, sizeof g_race);
	CHECK_ST(ak_limiter_init(&g_race.l, 1, 10, 4, NULL), AK_OK);
	g_race.now = BASE;
	atomic_store_explicit(&g_race.parked, 0, memory_order_relaxed);
	atomic_store_explicit(&g_race.go, 0, memory_order_relaxed);
	_ak_limiter_test_window = race_park;
	pthread_create(&op, NULL, race_op, NULL);
	/* Acquire pairs with the exchange in race_park(). */
	while (!atomic_load_explicit(&g_race.parked, memory_order_acquire))
		sched_yield();
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		alarm(10);
		uint64_t k, per;
		int ok = ak_limiter_set_rate_at(&g_race.l, BASE, 1, 20) == AK_OK;
		ak_limiter_rate(&g_race.l, &k, &per);
		_exit(ok && k == 1 && per == 20 ? 0 : 1);
	}
	CHECK(pid > 0);
	int status = 0;
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* Release pairs with the acquire loads in race_park(). */
	atomic_store_explicit(&g_race.go, 1, memory_order_release);
	pthread_join(op, NULL);
	_ak_limiter_test_window = NULL;
	CHECK_ST(g_race.st, AK_OK);
	CHECK_EQ_U64(ak_limiter_available_at(&g_race.l, BASE), 3);
}

/* ---- refunds and stale times --------------------------------------------------
 *
 * The documented limit (docs/ratelimit.md, "Refunds and stale times"): a
 * take or refund applied out of time order with a refund can spend the
 * refunded tokens at another time; the excess in any window is at most the
 * tokens those refunds gave back, never more.  Both orders, each to exactly
 * that bound. */
static void test_refund_stale_times(void)
{
	ak_limiter l;
	uint64_t given = 0, w = 0;

	/* A take stamped before a refund already applied.  1 per 10 ns, burst
	 * 4: all 4 taken at BASE; one back at BASE + 5. */
	CHECK_ST(ak_limiter_init(&l, 1, 10, 4, NULL), AK_OK);
	CHECK_ST(ak_limiter_try_acquire_at(&l, BASE, 4, NULL), AK_OK);
	CHECK_ST(ak_limiter_refund_at(&l, BASE + 5, 1, &given), AK_OK);
	CHECK_EQ_U64(given, 1);
	/* A take stamped BASE (an older clock read) spends it: 5 in [BASE,
	 * BASE], the bound 4 plus the 1 refunded after the window ... */
	CHECK_ST(ak_limiter_try_acquire_at(&l, BASE, 1, NULL), AK_OK);
	/* ... and not one more. */
	CHECK_ST(ak_limiter_try_acquire_at(&l, BASE, 1, &w), AK_EAGAIN);
	CHECK_EQ_U64(w, 10);
	/* A window holding the refund is within the plain bound: 5 taken
	 * minus 1 given back in [BASE, BASE + 5] is 4 <= 4 + 0.5. */
	CHECK_ST(ak_limiter_try_acquire_at(&l, BASE + 5, 1, NULL), AK_EAGAIN);

	/* A refund stamped before a take already applied.  3 taken at BASE +
	 * 100 (full bucket), then one back stamped BASE + 95: its clamp counts
	 * room from BASE + 95, so it goes back, and takes at BASE + 100 spend
	 * 2: 5 in [BASE + 100, BASE + 100], the refund outside the window. */
	CHECK_ST(ak_limiter_init(&l, 1, 10, 4, NULL), AK_OK);
	CHECK_ST(ak_limiter_try_acquire_at(&l, BASE + 100, 3, NULL), AK_OK);
	CHECK_ST(ak_limiter_refund_at(&l, BASE + 95, 1, &given), AK_OK);
	CHECK_EQ_U64(given, 1);
	CHECK_ST(ak_limiter_try_acquire_at(&l, BASE + 100, 2, NULL), AK_OK);
	CHECK_ST(ak_limiter_try_acquire_at(&l, BASE + 100, 1, &w), AK_EAGAIN);
	CHECK_EQ_U64(w, 10);
	/* Stamped before the take's TAT minus the burst it is refused (it
	 * would read as debt): the excess stays within that one token. */
	CHECK_ST(ak_limiter_init(&l, 1, 10, 4, NULL), AK_OK);
	CHECK_ST(ak_limiter_try_acquire_at(&l, BASE + 100, 4, NULL), AK_OK);
	CHECK_ST(ak_limiter_refund_at(&l, BASE, 1, &given), AK_EBUSY);
	CHECK_EQ_U64(given, 0);

	/* In time order nothing exceeds the bound: the same refund stamped at
	 * or after the take it follows leaves 1 token at that time, no more. */
	CHECK_ST(ak_limiter_init(&l, 1, 10, 4, NULL), AK_OK);
	CHECK_ST(ak_limiter_try_acquire_at(&l, BASE, 4, NULL), AK_OK);
	CHECK_ST(ak_limiter_refund_at(&l, BASE, 1, &given), AK_OK);
	CHECK_EQ_U64(given, 1);
	CHECK_ST(ak_limiter_try_acquire_at(&l, BASE, 1, NULL), AK_OK); /* 4 - 1 + 1 in [BASE, BASE] */
	CHECK_ST(ak_limiter_try_acquire_at(&l, BASE, 1, NULL), AK_EAGAIN);
}

/* ---- a take in a signal handler during a thread's first claim ----------------
 *
 * The slot registry's key is made at load time (a constructor), so a
 * handler never meets it half set up; a take in a handler that interrupts
 * the claim itself (here: inside its pthread_setspecific) uses the shared
 * pair for its one section.  Run in a child bounded by alarm() (a deadlock
 * would end it by SIGALRM); the parent checks how it ended. */

static ak_limiter g_sig_l;
static volatile sig_atomic_t g_sig_armed, g_sig_ran, g_sig_st = -1;

static void sig_take(int sig)
{
	(void)sig;
	g_sig_st = ak_limiter_try_acquire_at(&g_sig_l, BASE, 1, NULL);
	g_sig_ran = 1;
}

/* Interposed for libatomkit's claim: the signal lands in the middle of it,
 * as it could in a real program. */
int pthread_setspecific(pthread_key_t key, const void *v)
{
	typedef int (*real_fn)(pthread_key_t, const void *);
	real_fn real = (real_fn)(uintptr_t)dlsym(RTLD_NEXT, "pthread_setspecific");
	if (g_sig_armed) {
		g_sig_armed = 0;
		raise(SIGUSR1);
	}
	return real(key, v);
}

static void *sig_first_take(void *arg)
{
	(void)arg;
	/* A new thread: its first take claims a slot. */
	g_sig_armed = 1;
	ak_status st = ak_limiter_try_acquire_at(&g_sig_l, BASE, 1, NULL);
	return (void *)(uintptr_t)(st == AK_OK ? 1 : 0);
}

static void test_first_claim_in_handler(void)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		pthread_t th;
		void *ok = NULL;
		alarm(10);
		if (ak_limiter_init(&g_sig_l, 1, 10, 4, NULL) != AK_OK)
			_exit(2);
		signal(SIGUSR1, sig_take);
		unsigned before = _ak_limiter_test_claimed();
		pthread_create(&th, NULL, sig_first_take, NULL);
		pthread_join(th, &ok);
		if (!ok || !g_sig_ran || g_sig_st != AK_OK)
			_exit(3);
		/* The handler claimed nothing of its own: the thread's one
		 * slot came back at its exit, none is left held. */
		if (_ak_limiter_test_claimed() != before)
			_exit(6);
		/* Both takes counted: 2 of 4 gone at BASE, and a set_rate (whose
		 * grace period would wait on a section left open) completes. */
		if (ak_limiter_available_at(&g_sig_l, BASE) != 2)
			_exit(4);
		_exit(ak_limiter_set_rate_at(&g_sig_l, BASE, 1, 20) == AK_OK ? 0 : 5);
	}
	CHECK(pid > 0);
	int status = 0;
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ_U64(WIFEXITED(status) ? (uint64_t)WEXITSTATUS(status) : 99, 0);
}

/* ---- two setters over a relay of slotless takers ---------------------------
 *
 * Two slotless threads take from a limiter and hand a baton on in the take
 * hook (between load and CAS, inside the section): each announces its
 * entry and waits there until the other has entered its next section, so
 * from the first hand-off on some take is always inside a section, and
 * every new section counts itself under the index in force.  Setter B is
 * parked by the pair hook just after it read the pair's index; setter A is
 * then given time to complete a whole set_rate.  If the pair let A through,
 * A flips the index and the relay follows it: B, released a few hand-offs
 * later, waits on the counter the relay now lives in, and returns only
 * when the relay runs out (RELAY_AFTER hand-offs after B's release).  With
 * the pair serialised, A is stuck behind B: the wait for A ends at a time
 * bound (it only bounds the wait; nothing is asserted on it), B drains the
 * pair in a few hand-offs, then A.  Asserted: both set_rate calls returned
 * AK_OK while the relay was still running.  (Removing the serialisation
 * makes this fail unless A is kept off the CPU for the whole bound.) */

#define RELAY_AFTER 200000u          /* hand-offs after B's release */
#define RELAY_A_BOUND_MS 500u        /* how long A is given while B is parked */

static struct {
	ak_limiter l;
	_Atomic(uint64_t) turn;      /* sections announced so far */
	_Atomic(uint64_t) limit;     /* the relay ends at this announcement */
	_Atomic(int) over;           /* the relay has ended */
	_Atomic(int) b_parked, b_go, a_done;
	ak_status st[2];             /* set_rate result: [0] A, [1] B */
	int late[2];                 /* the relay had ended when it returned */
} g_rl;
static AK_THREAD_LOCAL int rl_stepped;   /* this take has passed the baton */
static AK_THREAD_LOCAL int rl_park;      /* this setter parks in the pair hook */

static void rl_window(ak_limiter *l)
{
	if (l != &g_rl.l || rl_stepped)
		return; /* a retried CAS: this take has passed the baton already */
	rl_stepped = 1;
	/* Release: our counter increment (section entry, before this hook)
	 * comes before the other taker leaves its section (it acquires this
	 * in the loop below); acquire: pairs with its announcement. */
	uint64_t my = atomic_fetch_add_explicit(&g_rl.turn, 1, memory_order_acq_rel) + 1;
	if (my >= atomic_load_explicit(&g_rl.limit, memory_order_relaxed)) {
		/* Release pairs with the acquire loads of `over` below and in
		 * rl_setter()/rl_taker(). */
		atomic_store_explicit(&g_rl.over, 1, memory_order_release);
		return;
	}
	/* Acquire pairs with the other taker's announcement (the RMW above)
	 * and with the release store of `over`. */
	while (atomic_load_explicit(&g_rl.turn, memory_order_acquire) == my &&
	       !atomic_load_explicit(&g_rl.over, memory_order_acquire))
		sched_yield();
}

static void rl_pair(void)
{
	if (!rl_park)
		return;
	rl_park = 0;
	/* Release pairs with the acquire load in test_two_setters(). */
	atomic_store_explicit(&g_rl.b_parked, 1, memory_order_release);
	/* Acquire pairs with the release store of `b_go` in test_two_setters(). */
	while (!atomic_load_explicit(&g_rl.b_go, memory_order_acquire))
		sched_yield();
}

static void *rl_taker(void *arg)
{
	uint64_t now = BASE;
	(void)arg;
	/* Acquire pairs with the release stores of `over`. */
	while (!atomic_load_explicit(&g_rl.over, memory_order_acquire)) {
		rl_stepped = 0;
		now += 100; /* 5 to 10 tokens a take: never refused for long */
		(void)ak_limiter_try_acquire_at(&g_rl.l, now, 1, NULL);
	}
	return (void *)(uintptr_t)(_ak_limiter_test_mode() == _AK_LR_SHARED);
}

static void *rl_setter(void *arg)
{
	int b = arg != NULL;
	rl_park = b;
	ak_status st = ak_limiter_set_rate_at(&g_rl.l, BASE, 1, b ? 20 : 10);
	/* Acquire pairs with the release store of `over` in rl_window(). */
	g_rl.late[b] = atomic_load_explicit(&g_rl.over, memory_order_acquire);
	g_rl.st[b] = st;
	if (!b)
		/* Release pairs with the acquire load in test_two_setters(). */
		atomic_store_explicit(&g_rl.a_done, 1, memory_order_release);
	return NULL;
}

/* Wait until the relay has made `n` more announcements than `from`. */
static uint64_t rl_wait_turn(uint64_t from, uint64_t n)
{
	uint64_t t;
	/* Acquire pairs with the announcements in rl_window(). */
	while ((t = atomic_load_explicit(&g_rl.turn, memory_order_acquire)) < from + n)
		sched_yield();
	return t;
}

static void test_two_setters(void)
{
	pthread_t tk[2], a, b;
	void *r;
	uint64_t shared = 0;
	CHECK_ST(ak_limiter_init(&g_rl.l, 1, 20, 1000000, NULL), AK_OK);
	atomic_store_explicit(&g_rl.turn, 0, memory_order_relaxed);
	atomic_store_explicit(&g_rl.limit, UINT64_MAX, memory_order_relaxed);
	atomic_store_explicit(&g_rl.over, 0, memory_order_relaxed);
	atomic_store_explicit(&g_rl.b_parked, 0, memory_order_relaxed);
	atomic_store_explicit(&g_rl.b_go, 0, memory_order_relaxed);
	atomic_store_explicit(&g_rl.a_done, 0, memory_order_relaxed);
	_ak_limiter_test_slots(0, 0); /* new threads: the shared pair */
	_ak_limiter_test_window = rl_window;
	_ak_limiter_test_pair = rl_pair;
	for (int i = 0; i < 2; i++)
		pthread_create(&tk[i], NULL, rl_taker, NULL);
	(void)rl_wait_turn(0, 4); /* the relay runs */
	pthread_create(&b, NULL, rl_setter, (void *)1);
	/* Acquire pairs with the release store in rl_pair(). */
	while (!atomic_load_explicit(&g_rl.b_parked, memory_order_acquire))
		sched_yield();
	pthread_create(&a, NULL, rl_setter, NULL);
	uint64_t until = ak_now_ns() + RELAY_A_BOUND_MS * AK_NS_PER_MS;
	/* Acquire pairs with the release store in rl_setter(). */
	while (!atomic_load_explicit(&g_rl.a_done, memory_order_acquire) && ak_now_ns() < until)
		sched_yield();
	/* Three more announcements.  If A did get through: when its drain
	 * saw the old counter at zero, the taker that had announced last
	 * was still waiting in its section, so under the new index; its next
	 * entry reads that index again, and the other taker's next entry
	 * follows that announcement.  So every section from the third one on
	 * counts itself under the new index, each entered before the one
	 * before it is left: that counter is never zero until the relay ends. */
	uint64_t t = rl_wait_turn(atomic_load_explicit(&g_rl.turn, memory_order_relaxed), 3);
	atomic_store_explicit(&g_rl.limit, t + RELAY_AFTER, memory_order_relaxed);
	/* Release pairs with the acquire loads in rl_pair(): B's first drain
	 * comes after the announcements seen above. */
	atomic_store_explicit(&g_rl.b_go, 1, memory_order_release);
	pthread_join(b, NULL);
	pthread_join(a, NULL);
	/* Release pairs with the acquire loads in rl_taker()/rl_window(). */
	atomic_store_explicit(&g_rl.over, 1, memory_order_release);
	for (int i = 0; i < 2; i++) {
		pthread_join(tk[i], &r);
		shared += (uintptr_t)r;
	}
	_ak_limiter_test_window = NULL;
	_ak_limiter_test_pair = NULL;
	_ak_limiter_test_slots(512, 0);
	CHECK_ST(g_rl.st[0], AK_OK);
	CHECK_ST(g_rl.st[1], AK_OK);
	CHECK_EQ_U64(g_rl.late[1], 0); /* B did not need the takers to stop */
	CHECK_EQ_U64(g_rl.late[0], 0);
	CHECK_EQ_U64(shared, 2);       /* the takers really were on the pair */
}

/* ---- fork while a setter holds the lock bit ------------------------------- */

static ak_limiter g_fk;

static ak_limiter_table g_fkt;
static ak_limiter_slot g_fkt_slots[16];

static void fk_hook(const void *obj)
{
	if (obj == &g_fk || obj == &g_fkt)
		fork_locked_hook();
}

static void *fk_claim(void *arg)
{
	(void)arg;
	(void)ak_limiter_table_try_acquire_at(&g_fkt, 7, BASE, 1, NULL);
	return NULL;
}

/* The child: the key whose claim was under way at the fork must be usable
 * (a copied BUSY slot would make every take of that key spin). */
static int fk_table_child(void *arg)
{
	(void)arg;
	return ak_limiter_table_try_acquire_at(&g_fkt, 7, BASE + 1000, 1, NULL) == AK_OK ? 0 : 2;
}

static void *fk_setter(void *arg)
{
	(void)arg;
	(void)ak_limiter_set_rate_at(&g_fk, BASE + 1000, 1, 20);
	return NULL;
}

/* The child: one take must get through (a copied lock bit would make it
 * spin until the alarm). */
static int fk_child(void *arg)
{
	(void)arg;
	return ak_limiter_try_acquire_at(&g_fk, BASE + 2000, 1, NULL) == AK_OK ? 0 : 2;
}

static void test_fork_locked(void)
{
	CHECK_ST(ak_limiter_init(&g_fk, 1, 10, 100, NULL), AK_OK);
	_ak_limiter_test_locked = fk_hook;
	int status = fork_locked_run(fk_setter, NULL, fk_child, NULL);
	_ak_limiter_test_locked = NULL;
	CHECK(status == 0); /* not killed by the alarm, and the take succeeded */
	CHECK_ST(ak_limiter_table_init(&g_fkt, g_fkt_slots, 16, 1, 10, 100, NULL), AK_OK);
	_ak_limiter_test_locked = fk_hook;
	status = fork_locked_run(fk_claim, NULL, fk_table_child, NULL);
	_ak_limiter_test_locked = NULL;
	CHECK(status == 0);
	/* The parent's setter finished: the new rate is in force here. */
	CHECK_ST(ak_limiter_try_acquire_at(&g_fk, BASE + 2000, 1, NULL), AK_OK);
}

/* ---- the oracle ------------------------------------------------------------ */

static void test_oracle_self(void)
{
	/* The oracle must catch a violation: b + 1 tokens at one instant, and
	 * a window in the middle of a trace that is fine from the start. */
	struct rl_rate_sched s = { .nseg = 0 };
	rl_rate_push(&s, 0, 1, 10);
	struct rl_event e1[] = { { 100, 2 }, { 100, 2 } };
	struct rl_verdict v = rl_oracle(e1, 2, s.D, 3, rl_rate_allow, &s);
	CHECK(v.violations == 1);
	struct rl_event e2[] = { { 0, 1 }, { 1000, 3 }, { 1005, 1 }, { 5000, 1 } };
	v = rl_oracle(e2, 4, s.D, 3, rl_rate_allow, &s);
	CHECK(v.violations == 1); /* [1000,1005]: 4 > 3 + 0.5 */
	struct rl_event e3[] = { { 1000, 3 }, { 1010, 1 }, { 1010, -1 }, { 1010, 1 } };
	v = rl_oracle(e3, 4, s.D, 3, rl_rate_allow, &s);
	CHECK(v.violations == 0 && v.tightest == 0); /* exactly at the bound */
}

struct rec {
	uint64_t t;
	int64_t n;
	int live;
};

struct trace {
	struct rec *r;
	size_t n, cap;
};

static size_t trace_add(struct trace *tr, uint64_t t, int64_t n)
{
	if (tr->n == tr->cap) {
		tr->cap = tr->cap ? tr->cap * 2 : 1024;
		tr->r = (struct rec *)realloc(tr->r, tr->cap * sizeof *tr->r);
	}
	tr->r[tr->n].t = t;
	tr->r[tr->n].n = n;
	tr->r[tr->n].live = 1;
	return tr->n++;
}

static struct rl_verdict trace_check(struct trace *tr, struct rl_rate_sched *s, uint64_t b)
{
	struct rl_event *ev = (struct rl_event *)malloc((tr->n + 1) * sizeof *ev);
	size_t m = 0;
	for (size_t i = 0; i < tr->n; i++)
		if (tr->r[i].live) {
			ev[m].t = tr->r[i].t;
			ev[m].n = tr->r[i].n;
			m++;
		}
	struct rl_verdict v = rl_oracle(ev, m, s->D, b, rl_rate_allow, s);
	free(ev);
	return v;
}

static const uint64_t pers[] = { 6, 8, 10, 12, 15, 20, 30, 60 };
static uint64_t pending_changes; /* rate changes made with reservations pending */

struct tk_rec {
	ak_limiter_ticket tk;
	size_t rec;
};

/*
 * One random single-threaded trace.  `changes`: also change rate and burst,
 * with reservations pending or not.  A rate change at r enters the schedule
 * at s = max(r, good_at of the last standing reservation): the promises
 * keep the dates the old rate gave them (docs/ratelimit.md, "Rate
 * changes").  The window bound uses the largest burst.  Returns the verdict.
 */
static struct rl_verdict one_trace(int steps, int changes, int saturate, uint64_t *bmax_out)
{
	ak_limiter l;
	struct trace tr = { NULL, 0, 0 };
	struct rl_rate_sched s = { .nseg = 0 };
	struct tk_rec tks[64];
	size_t ntk = 0, fut[256], nfut = 0; /* reservations that may be in the future */
	uint64_t k = 1 + below(4), per = pers[below(8)], b = 1 + below(8), bmax = b;
	uint64_t now = BASE + below(1000), w, g, taken = 0;

	if (saturate) {
		k = 1;
		per = 10;
	}
	CHECK_ST(ak_limiter_init(&l, k, per, b, NULL), AK_OK);
	rl_rate_push(&s, 0, k, per);
	for (int i = 0; i < steps; i++) {
		uint64_t rk, rp;
		ak_limiter_rate(&l, &rk, &rp);
		uint64_t T = rp / rk + 1;
		switch (below(8)) {
		case 0: now += 0; break;
		case 1: now += below(T * b + 1) * (saturate ? 0 : 3); break;
		default: now += below(T / 2 + 2); break;
		}
		uint64_t r = below(100);
		uint64_t n = 1 + below(ak_limiter_burst(&l));
		if (r < 55 || saturate) {
			if (ak_limiter_try_acquire_at(&l, now, n, &w) == AK_OK) {
				trace_add(&tr, now, (int64_t)n);
				taken += n;
			} else {
				CHECK(w > 0);
			}
		} else if (r < 75) {
			if (ntk < 64 && ak_limiter_reserve_at(&l, now, n, below(4 * T * b), &tks[ntk].tk, &w) ==
						AK_OK) {
				CHECK_EQ_U64(tks[ntk].tk.good_at, now + w);
				tks[ntk].rec = trace_add(&tr, tks[ntk].tk.good_at, (int64_t)n);
				if (tks[ntk].tk.good_at > now && nfut < 256)
					fut[nfut++] = tks[ntk].rec;
				taken += n;
				ntk++;
			}
		} else if (r < 87) {
			if (ntk) {
				/* cancel the newest (often exact) or a random one */
				size_t j = below(2) ? ntk - 1 : below(ntk);
				uint64_t tn = tks[j].tk.n;
				ak_status st = ak_limiter_cancel_at(&l, now, &tks[j].tk);
				CHECK(st == AK_OK || st == AK_EBUSY);
				if (st == AK_OK) {
					tr.r[tks[j].rec].live = 0;
					taken -= tn;
				}
				tks[j] = tks[--ntk];
			}
		} else if (r < 95) {
			uint64_t want = 1 + below(4);
			if (want <= taken && ak_limiter_refund_at(&l, now, want, &g) == AK_OK && g) {
				CHECK(g <= want);
				trace_add(&tr, now, -(int64_t)g);
				taken -= g;
			}
		} else if (changes) {
			if (below(2)) {
				uint64_t last = now;
				size_t m = 0;
				for (size_t f = 0; f < nfut; f++) {
					struct rec *rc = &tr.r[fut[f]];
					if (!rc->live || rc->t <= now)
						continue;
					if (rc->t > last)
						last = rc->t;
					fut[m++] = fut[f];
				}
				nfut = m;
				if (nfut)
					pending_changes++;
				k = 1 + below(4);
				per = pers[below(8)];
				CHECK_ST(ak_limiter_set_rate_at(&l, now, k, per), AK_OK);
				rl_rate_push(&s, last, k, per);
			} else {
				uint64_t nb = 1 + below(8);
				CHECK_ST(ak_limiter_set_burst_at(&l, now, nb), AK_OK);
				if (nb > bmax)
					bmax = nb;
			}
		}
	}
	struct rl_verdict v = trace_check(&tr, &s, bmax);
	free(tr.r);
	if (bmax_out)
		*bmax_out = bmax;
	return v;
}

static void test_oracle_single(void)
{
	uint64_t viol = 0, windows = 0, tight = 0;
	for (int seed = 0; seed < 300; seed++) {
		rng_state = 0x9E3779B97F4A7C15ull * (uint64_t)(seed + 1);
		struct rl_verdict v = one_trace(3000, seed & 1, 0, NULL);
		viol += v.violations;
		if (v.violations && getenv("DBG"))
			printf("seed %d: window %llu..%llu tight %lld\n", seed,
			       (unsigned long long)(v.bad_from - BASE), (unsigned long long)(v.bad_to - BASE),
			       (long long)v.tightest);
		windows += v.windows;
		if (v.tightest == 0)
			tight++;
	}
	CHECK_EQ_U64(viol, 0);
	CHECK(windows > 100000);
	/* the bound is hit exactly in most traces: the check is not slack */
	CHECK(tight > 150);
	CHECK(pending_changes > 1000); /* changes with promises pending are covered */
	printf("oracle single: %llu end points, %llu violations, bound reached in %llu/300 traces, "
	       "%llu rate changes with reservations pending\n",
	       (unsigned long long)windows, (unsigned long long)viol, (unsigned long long)tight,
	       (unsigned long long)pending_changes);
}

/* Liveness: saturating demand (n = 1 at every ns) over an exact config
 * admits exactly b + elapsed / T, never less than one token short. */
static void test_liveness(void)
{
	static const uint64_t cfg[][3] = { { 1, 10, 5 }, { 3, 30, 1 }, { 7, 700, 12 }, { 1000, 1000000, 50 } };
	for (int c = 0; c < 4; c++) {
		ak_limiter l;
		uint64_t k = cfg[c][0], per = cfg[c][1], b = cfg[c][2], adm = 0, w;
		CHECK_ST(ak_limiter_init(&l, k, per, b, NULL), AK_OK);
		uint64_t T = per / k, span = 2000 * T, step = T / 7 + 1;
		for (uint64_t t = BASE; t <= BASE + span; t += step)
			while (ak_limiter_try_acquire_at(&l, t, 1, &w) == AK_OK)
				adm++;
		uint64_t last = BASE + span / step * step;
		uint64_t allow = b + (last - BASE) * k / per;
		CHECK(adm <= allow);
		CHECK(adm + 1 >= allow);
	}
	/* rates that are not a whole ns per token are exact too */
	static const uint64_t odd[][3] = { { 3, 10, 4 }, { 7, 1000, 3 }, { 1000003, AK_NS_PER_SEC, 9 } };
	for (int c = 0; c < 3; c++) {
		ak_limiter l;
		uint64_t k = odd[c][0], per = odd[c][1], b = odd[c][2], adm = 0, w, last = BASE;
		CHECK_ST(ak_limiter_init(&l, k, per, b, NULL), AK_OK);
		uint64_t step = per / k / 3 + 1;
		for (uint64_t t = BASE; t <= BASE + 30000 * (per / k + 1); t += step) {
			while (ak_limiter_try_acquire_at(&l, t, 1, &w) == AK_OK)
				adm++;
			last = t;
		}
		uint64_t allow = b + (last - BASE) * k / per;
		CHECK(adm <= allow);
		CHECK(adm + 1 >= allow);
	}
}

/* ---- multi-threaded oracle on a shared fake clock --------------------------- */

#define MT_THREADS 4
#define MT_OPS 20000

struct mt {
	ak_limiter l;
	ak_fake_clock fc;
	struct trace tr[MT_THREADS];
	int id[MT_THREADS];
	_Atomic(uint64_t) cancels_ok, cancels_busy;
};
static struct mt g_mt;

static void *mt_worker(void *arg)
{
	int id = *(int *)arg;
	struct trace *tr = &g_mt.tr[id];
	uint64_t x = 0x51ED270B27A3E1ull * (uint64_t)(id + 1), w;
	ak_limiter_ticket tk;
	for (int i = 0; i < MT_OPS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if ((x & 3) == 0)
			ak_fake_clock_advance(&g_mt.fc, (x >> 8) % 7);
		uint64_t now = ak_clock_read(&g_mt.l.clock);
		uint64_t n = 1 + (x >> 16) % 3;
		if ((x >> 24) % 4 != 0) {
			if (ak_limiter_try_acquire_at(&g_mt.l, now, n, &w) == AK_OK)
				trace_add(tr, now, (int64_t)n);
		} else if (ak_limiter_reserve_at(&g_mt.l, now, n, 40, &tk, &w) == AK_OK) {
			size_t r = trace_add(tr, tk.good_at, (int64_t)n);
			if ((x >> 30) & 1) {
				ak_status st = ak_limiter_cancel_at(&g_mt.l, now, &tk);
				if (st == AK_OK) {
					tr->r[r].live = 0;
					atomic_fetch_add_explicit(&g_mt.cancels_ok, 1, memory_order_relaxed);
				} else {
					atomic_fetch_add_explicit(&g_mt.cancels_busy, 1, memory_order_relaxed);
				}
			}
		}
	}
	return NULL;
}

static void test_oracle_threads(void)
{
	pthread_t th[MT_THREADS];
	struct rl_rate_sched s = { .nseg = 0 };
	ak_fake_clock_set(&g_mt.fc, BASE);
	ak_clock c = ak_fake_clock_as_clock(&g_mt.fc);
	CHECK_ST(ak_limiter_init(&g_mt.l, 2, 15, 3, &c), AK_OK); /* T = 8 */
	rl_rate_push(&s, 0, 2, 15);
	for (int i = 0; i < MT_THREADS; i++) {
		g_mt.id[i] = i;
		pthread_create(&th[i], NULL, mt_worker, &g_mt.id[i]);
	}
	for (int i = 0; i < MT_THREADS; i++)
		pthread_join(th[i], NULL);
	struct trace all = { NULL, 0, 0 };
	for (int i = 0; i < MT_THREADS; i++) {
		for (size_t j = 0; j < g_mt.tr[i].n; j++)
			if (g_mt.tr[i].r[j].live)
				trace_add(&all, g_mt.tr[i].r[j].t, g_mt.tr[i].r[j].n);
		free(g_mt.tr[i].r);
	}
	struct rl_verdict v = trace_check(&all, &s, 3);
	CHECK_EQ_U64(v.violations, 0);
	CHECK(v.admitted > 1000);
	printf("oracle %d threads: %lld tokens, %llu end points, %llu violations, "
	       "%llu exact cancels, %llu refused\n",
	       MT_THREADS, (long long)v.admitted, (unsigned long long)v.windows,
	       (unsigned long long)v.violations,
	       (unsigned long long)g_mt.cancels_ok, (unsigned long long)g_mt.cancels_busy);
	free(all.r);
}

/* ---- keyed table ------------------------------------------------------------ */

static void test_table(void)
{
	ak_limiter_table t;
	ak_limiter_slot slots[8];
	uint64_t w, now = BASE;
	CHECK_ST(ak_limiter_table_init(&t, slots, 6, 1, 10, 2, NULL), AK_EINVAL);
	CHECK_ST(ak_limiter_table_init(&t, NULL, 8, 1, 10, 2, NULL), AK_EINVAL);
	CHECK_ST(ak_limiter_table_init(&t, slots, 8, 0, 10, 2, NULL), AK_EINVAL);
	CHECK_ST(ak_limiter_table_init(&t, slots, 8, 1, 10, 2, NULL), AK_OK);
	CHECK_ST(ak_limiter_table_try_acquire_at(&t, UINT64_MAX, now, 1, &w), AK_EINVAL);
	CHECK_ST(ak_limiter_table_try_acquire_at(&t, UINT64_MAX - 1, now, 1, &w), AK_EINVAL);
	CHECK_ST(ak_limiter_table_try_acquire_at(&t, 0, now, 3, &w), AK_E2BIG);
	CHECK_ST(ak_limiter_table_try_acquire_at(&t, 0, now, 0, &w), AK_EINVAL);
	/* keys are independent */
	for (uint64_t key = 0; key < 8; key++) {
		CHECK_ST(ak_limiter_table_try_acquire_at(&t, key, now, 2, &w), AK_OK);
		CHECK_ST(ak_limiter_table_try_acquire_at(&t, key, now, 1, &w), AK_EAGAIN);
		CHECK_EQ_U64(w, 10);
	}
	CHECK_EQ_U64(ak_limiter_table_active(&t, now), 8);
	/* full: a ninth busy key gets AK_EFULL, and nothing changes */
	CHECK_ST(ak_limiter_table_try_acquire_at(&t, 100, now, 1, &w), AK_EFULL);
	CHECK_EQ_U64(ak_limiter_table_active(&t, now), 8);
	/* half way: keys 0..7 still in debt; after 20 ns all are idle */
	CHECK_ST(ak_limiter_table_try_acquire_at(&t, 100, now + 19, 1, &w), AK_EFULL);
	CHECK_ST(ak_limiter_table_try_acquire_at(&t, 100, now + 21, 2, &w), AK_OK);
	CHECK_ST(ak_limiter_table_try_acquire_at(&t, 100, now + 21, 1, &w), AK_EAGAIN);
	/* an evicted key comes back full: the same as if it had been kept */
	for (uint64_t key = 0; key < 7; key++)
		CHECK_ST(ak_limiter_table_try_acquire_at(&t, key, now + 21, 2, &w), AK_OK);
	CHECK_EQ_U64(ak_limiter_table_active(&t, now + 21), 8);
	/* a key in debt is never evicted, so its debt is never forgotten */
	CHECK_ST(ak_limiter_table_try_acquire_at(&t, 100, now + 21, 1, &w), AK_EAGAIN);
	/* clock via the table's clock */
	ak_fake_clock fc;
	ak_fake_clock_set(&fc, BASE);
	ak_clock c = ak_fake_clock_as_clock(&fc);
	CHECK_ST(ak_limiter_table_init(&t, slots, 8, 1, 10, 1, &c), AK_OK);
	CHECK_ST(ak_limiter_table_try_acquire(&t, 42, 1, &w), AK_OK);
	CHECK_ST(ak_limiter_table_try_acquire(&t, 42, 1, &w), AK_EAGAIN);
	ak_fake_clock_advance(&fc, 10);
	CHECK_ST(ak_limiter_table_try_acquire(&t, 42, 1, &w), AK_OK);
}

/* Per-key oracle over random keys in a table that keeps evicting. */
static void test_table_oracle(void)
{
	enum { KEYS = 24, STEPS = 60000 };
	ak_limiter_table t;
	ak_limiter_slot slots[16];
	struct trace tr[KEYS];
	struct rl_rate_sched s = { .nseg = 0 };
	uint64_t now = BASE, w, full = 0, ok = 0;
	memset(tr, 0, sizeof tr);
	rng_state = 12345;
	CHECK_ST(ak_limiter_table_init(&t, slots, 16, 1, 12, 3, NULL), AK_OK);
	rl_rate_push(&s, 0, 1, 12);
	for (int i = 0; i < STEPS; i++) {
		now += below(3);
		uint64_t key = below(KEYS), n = 1 + below(3);
		ak_status st = ak_limiter_table_try_acquire_at(&t, key, now, n, &w);
		if (st == AK_OK) {
			trace_add(&tr[key], now, (int64_t)n);
			ok++;
		} else if (st == AK_EFULL) {
			full++;
		} else {
			CHECK_ST(st, AK_EAGAIN);
		}
	}
	uint64_t viol = 0;
	for (int k = 0; k < KEYS; k++) {
		viol += trace_check(&tr[k], &s, 3).violations;
		free(tr[k].r);
	}
	CHECK_EQ_U64(viol, 0);
	CHECK(full > 0 && ok > 1000);
	printf("table oracle: %d keys over 16 slots, %llu admitted, %llu AK_EFULL, %llu violations\n",
	       KEYS, (unsigned long long)ok, (unsigned long long)full, (unsigned long long)viol);
}


/* ---- blocking acquire --------------------------------------------------------- */

struct bl {
	ak_limiter *l;
	ak_cancel *cancel;
	uint64_t deadline;
	ak_status st;
};

static void *bl_thread(void *arg)
{
	struct bl *b = (struct bl *)arg;
	b->st = ak_limiter_acquire(b->l, 1, b->deadline, b->cancel);
	return NULL;
}

static void test_acquire(void)
{
	ak_limiter l;
	ak_cancel c;
	pthread_t th;
	/* 1 per ms, burst 1, real clock */
	CHECK_ST(ak_limiter_init(&l, 1, AK_NS_PER_MS, 1, NULL), AK_OK);
	CHECK_ST(ak_limiter_acquire(&l, 1, AK_DEADLINE_NONE, NULL), AK_OK);
	/* the next token is ~1 ms away: a generous deadline gets it */
	CHECK_ST(ak_limiter_acquire(&l, 1, ak_deadline_after(10 * AK_NS_PER_SEC), NULL), AK_OK);
	CHECK_ST(ak_limiter_acquire(&l, 2, AK_DEADLINE_NONE, NULL), AK_E2BIG);
	CHECK_ST(ak_limiter_acquire(NULL, 1, AK_DEADLINE_NONE, NULL), AK_EINVAL);
	/* 1 per 100 s: a deadline before the token fails at once, taking nothing */
	CHECK_ST(ak_limiter_init(&l, 1, 100 * AK_NS_PER_SEC, 1, NULL), AK_OK);
	CHECK_ST(ak_limiter_acquire(&l, 1, AK_DEADLINE_NONE, NULL), AK_OK);
	uint64_t before = word_of(&l);
	CHECK_ST(ak_limiter_acquire(&l, 1, ak_deadline_after(20 * AK_NS_PER_MS), NULL), AK_ETIMEDOUT);
	CHECK_EQ_U64(word_of(&l), before);
	/* already cancelled */
	CHECK_ST(ak_cancel_init(&c), AK_OK);
	ak_cancel_request(&c, AK_ECANCELED);
	CHECK_ST(ak_limiter_acquire(&l, 1, AK_DEADLINE_NONE, &c), AK_ECANCELED);
	CHECK_EQ_U64(word_of(&l), before);
	CHECK_ST(ak_cancel_destroy(&c), AK_OK);
	/* cancelled while waiting: wakes, and the reservation is undone exactly */
	CHECK_ST(ak_cancel_init(&c), AK_OK);
	struct bl b = { &l, &c, AK_DEADLINE_NONE, AK_EBUSY };
	pthread_create(&th, NULL, bl_thread, &b);
	while (word_of(&l) == before) /* until the waiter has reserved */
		sched_yield();
	ak_cancel_request(&c, AK_ECANCELED);
	pthread_join(th, NULL);
	CHECK_ST(b.st, AK_ECANCELED);
	CHECK_EQ_U64(word_of(&l), before);
	CHECK_ST(ak_cancel_destroy(&c), AK_OK);
	/* a custom clock is polled: the waiter returns once the fake time passes */
	ak_fake_clock fc;
	ak_fake_clock_set(&fc, BASE);
	ak_clock ck = ak_fake_clock_as_clock(&fc);
	CHECK_ST(ak_limiter_init(&l, 1, 1000, 1, &ck), AK_OK);
	CHECK_ST(ak_limiter_try_acquire(&l, 1, NULL), AK_OK);
	before = word_of(&l);
	struct bl b2 = { &l, NULL, ak_deadline_after(60 * AK_NS_PER_SEC), AK_EBUSY };
	pthread_create(&th, NULL, bl_thread, &b2);
	while (word_of(&l) == before)
		sched_yield();
	ak_fake_clock_advance(&fc, 2000);
	pthread_join(th, NULL);
	CHECK_ST(b2.st, AK_OK);
	/* custom clock, real deadline: the reservation is undone when it passes */
	CHECK_ST(ak_limiter_try_acquire(&l, 1, NULL), AK_OK);
	before = word_of(&l);
	CHECK_ST(ak_limiter_acquire(&l, 1, ak_deadline_after(5 * AK_NS_PER_MS), NULL), AK_ETIMEDOUT);
	CHECK_EQ_U64(word_of(&l), before);
}

int main(void)
{
	test_config();
	test_basic();
	test_overflow_edge();
	test_rebase_exact();
	test_backwards_clock();
	test_reserve_cancel();
	test_cancel_fractional();
	test_refund();
	test_set_rate();
	test_set_rate_promises();
	test_take_aba(_AK_LR_MEMBARRIER);
	test_refund_aba(_AK_LR_MEMBARRIER);
	test_registry();
	test_fork();
	test_refund_stale_times();
	test_first_claim_in_handler();
	test_two_setters();
	test_fork_locked();
	test_oracle_wrapped_denominator();
	test_clock();
	test_tsc_clock();
	test_oracle_self();
	test_oracle_single();
	test_liveness();
	test_oracle_threads();
	test_table();
	test_table_oracle();
	test_acquire();
	return check_report("limiter");
}
