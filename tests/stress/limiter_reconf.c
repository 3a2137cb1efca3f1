/*
 * Stress: GCRA takes and refunds racing a thread that reconfigures the
 * limiter in a loop, on a shared fake clock, checked by the exactness
 * oracle.
 *
 * Thread 0 owns the clock: each round it moves it forward (often far
 * enough that the bucket is full again), then calls set_rate or set_burst,
 * and in half the rounds a second change at the same instant: on a full
 * bucket the pair leaves the state word exactly as it was (TAT 0, the
 * generation bit flipped twice), the shape of the taker ABA that the grace
 * period closes.  The other threads take 1..2 tokens at the clock's time
 * (and sometimes refund one, when no take in flight holds an older time:
 * see refund_time()), yielding when refused.  Half of them are
 * denied an announcement slot (the shared counter pair), and from 8
 * threads on the slots fence themselves instead of relying on membarrier.
 *
 * Invariants, each counted:
 *   window   the oracle (tests/unit/ratelimit_oracle.h) over every window
 *            of the merged trace, with the rate schedule the setter
 *            recorded (each rate from its change) and the largest burst:
 *            0 violations
 *   lockout  after the run, once the clock has moved a full bucket's time
 *            on, the bucket holds its whole burst (a stale CAS in old
 *            units leaves a TAT far in the future)
 *   status   every call returned an expected status
 */
#include <atomkit/limiter.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/ratelimit_oracle.h"
#include "stress.h"

#define MAXT 64
#define T0 (UINT64_C(1) << 40)
#define MAX_ROUNDS 480 /* two rate changes a round, 1024 schedule segments */

static const uint64_t rates[][2] = { { 1, 10 }, { 1, 20 }, { 3, 20 }, { 1, 5 }, { 2, 15 } };
#define NRATES (sizeof rates / sizeof rates[0])

/* Held by a refund, and by the setter while it moves the clock. */
static pthread_mutex_t refund_mu = PTHREAD_MUTEX_INITIALIZER;

struct trace {
	struct rl_event *e;
	size_t n, cap;
};

struct shared {
	ak_limiter l;
	ak_fake_clock fc;
	ak_clock clk;
	uint64_t rounds;
	_Atomic(int) done;
	_Atomic(uint64_t) attempts; /* takes and refunds made so far */
	struct rl_rate_sched sched; /* thread 0 only until the join */
	uint64_t bmax, changes, pairs, same_word;
	struct trace tr[MAXT];
	/* The clock value each taker may still hold (see refund_time()). */
	_Atomic(uint64_t) held[MAXT];
	uint64_t bad[MAXT], taken[MAXT], refunded[MAXT], refused[MAXT], skipped[MAXT];
};

static void trace_add(struct trace *tr, uint64_t t, int64_t n)
{
	if (tr->n == tr->cap) {
		tr->cap = tr->cap ? tr->cap * 2 : 1024;
		tr->e = (struct rl_event *)realloc(tr->e, tr->cap * sizeof *tr->e);
		if (!tr->e)
			abort();
	}
	tr->e[tr->n].t = t;
	tr->e[tr->n].n = n;
	tr->n++;
}

static uint64_t word_of(ak_limiter *l)
{
	return atomic_load_explicit(&l->word, memory_order_relaxed);
}

/* One change at now; records it.  Returns the status. */
static ak_status change(struct stress_thread *t, struct shared *s, uint64_t now)
{
	ak_status st;
	if (stress_below(t, 3) != 0) {
		const uint64_t *r = rates[stress_below(t, NRATES)];
		st = ak_limiter_set_rate_at(&s->l, now, r[0], r[1]);
		if (st == AK_OK)
			rl_rate_push(&s->sched, now, r[0], r[1]);
	} else {
		uint64_t b = 2 + stress_below(t, 5);
		st = ak_limiter_set_burst_at(&s->l, now, b);
		if (st == AK_OK && b > s->bmax)
			s->bmax = b;
	}
	s->changes += st == AK_OK;
	return st;
}

static void setter(struct stress_thread *t, struct shared *s)
{
	for (uint64_t r = 0; r < s->rounds; r++) {
		/* Often a full bucket's time or more: TAT 0 after the change. */
		/* Not during a refund (see refund_time()). */
		pthread_mutex_lock(&refund_mu);
		uint64_t now = ak_fake_clock_advance(&s->fc, stress_below(t, 200));
		pthread_mutex_unlock(&refund_mu);
		uint64_t w0 = word_of(&s->l);
		if (change(t, s, now) != AK_OK)
			s->bad[t->id]++;
		if (stress_rand(t) & 1) {
			if (change(t, s, now) != AK_OK)
				s->bad[t->id]++;
			s->pairs++;
			/* informational: the pair brought the word back */
			s->same_word += word_of(&s->l) == w0;
		}
		/* Let the takers act on this configuration: two more calls. */
		uint64_t a = atomic_load_explicit(&s->attempts, memory_order_relaxed);
		while (atomic_load_explicit(&s->attempts, memory_order_relaxed) < a + 2)
			sched_yield();
		stress_progress(t, r * t->ops / s->rounds);
	}
	/* Release pairs with the acquire loads in taker(). */
	atomic_store_explicit(&s->done, 1, memory_order_release);
}

/*
 * A refund is made only at a time consistent with the order of the takes
 * around it: every take applied before it stamped no later, every take
 * applied after it no earlier.  Out of that order a refund can hand out
 * up to its tokens over a window's bound (the limit documented in
 * docs/ratelimit.md, "Refunds and stale times"); in it the oracle holds
 * the limiter to the plain window bound.
 *
 * How: the clock does not move during a refund (the setter advances it
 * under refund_mu), and each taker publishes a clock value before it reads
 * the clock for its operation, so that value is at most the operation's
 * time.  If every taker's value is the current clock C, every take in
 * flight is stamped C, every earlier one at most C, every later one at
 * least C: the refund is stamped C.  Otherwise it is skipped (counted).
 */
static int refund_time(struct shared *s, unsigned threads, uint64_t *at)
{
	uint64_t c = ak_clock_read(&s->clk);
	for (unsigned i = 1; i < threads; i++)
		/* seq_cst pairs with the seq_cst store in taker(). */
		if (atomic_load_explicit(&s->held[i], memory_order_seq_cst) != c)
			return 0;
	*at = c;
	return 1;
}

static void taker(struct stress_thread *t, struct shared *s)
{
	struct trace *tr = &s->tr[t->id];
	/* Acquire pairs with the release store in setter(). */
	while (!atomic_load_explicit(&s->done, memory_order_acquire)) {
		/* seq_cst pairs with the seq_cst loads in refund_time(): the
		 * value is at most the time read next (the clock only grows). */
		atomic_store_explicit(&s->held[t->id], ak_clock_read(&s->clk), memory_order_seq_cst);
		uint64_t now = ak_clock_read(&s->clk), n = 1 + stress_below(t, 2), w, g;
		ak_status st;
		atomic_fetch_add_explicit(&s->attempts, 1, memory_order_relaxed);
		if (stress_below(t, 8) == 0) {
			pthread_mutex_lock(&refund_mu);
			if (!refund_time(s, t->nthreads, &now)) {
				pthread_mutex_unlock(&refund_mu);
				s->skipped[t->id]++;
				sched_yield();
				continue;
			}
			st = ak_limiter_refund_at(&s->l, now, 1, &g);
			pthread_mutex_unlock(&refund_mu);
			if (st == AK_OK && g) {
				trace_add(tr, now, -(int64_t)g);
				s->refunded[t->id] += g;
			}
			if (st != AK_OK && st != AK_EBUSY)
				s->bad[t->id]++;
			continue;
		}
		st = ak_limiter_try_acquire_at(&s->l, now, n, &w);
		if (st == AK_OK) {
			trace_add(tr, now, (int64_t)n);
			s->taken[t->id] += n;
		} else if (st == AK_EAGAIN || st == AK_E2BIG) {
			s->refused[t->id]++;
			sched_yield(); /* the clock moves only with the setter */
		} else {
			s->bad[t->id]++;
		}
	}
}

/*
 * Widen the window the grace period protects: every fourth take or refund
 * gives the CPU away between its load of the word and its CAS (the test
 * hook), so the setter's back-to-back pairs land inside it.  Without this
 * the window is a few instructions wide and a missing grace period goes
 * unnoticed (the unwidened run passes with grace_period() stubbed out).
 */
static AK_THREAD_LOCAL unsigned g_widen;
static void widen(ak_limiter *l)
{
	(void)l;
	if ((++g_widen & 3) == 0)
		sched_yield();
}

static void worker(struct stress_thread *t)
{
	struct shared *s = (struct shared *)t->arg;
	if (t->id == 0)
		setter(t, s);
	else
		taker(t, s);
}

struct totals {
	uint64_t taken, refunded, refused, skipped, changes, pairs, same_word, windows, passes;
};

/* One pass: a fresh limiter and schedule, the run, the checks. */
static void one_pass(struct stress_cfg *cfg, struct shared *s, struct totals *tot)
{
	memset(s, 0, sizeof *s);
	s->rounds = cfg->ops < MAX_ROUNDS ? cfg->ops : MAX_ROUNDS;
	ak_fake_clock_set(&s->fc, T0);
	for (unsigned i = 0; i < MAXT; i++)
		atomic_store_explicit(&s->held[i], T0, memory_order_relaxed);
	s->clk = ak_fake_clock_as_clock(&s->fc);
	STRESS_CHECK(ak_limiter_init(&s->l, 1, 10, 4, &s->clk) == AK_OK, "init");
	rl_rate_push(&s->sched, 0, 1, 10);
	s->bmax = 4;

	stress_run(cfg, worker, s);

	struct trace all = { NULL, 0, 0 };
	uint64_t bad = 0, taken = 0;
	for (unsigned i = 0; i < cfg->threads; i++) {
		for (size_t j = 0; j < s->tr[i].n; j++)
			trace_add(&all, s->tr[i].e[j].t, s->tr[i].e[j].n);
		free(s->tr[i].e);
		bad += s->bad[i];
		taken += s->taken[i];
		tot->refunded += s->refunded[i];
		tot->refused += s->refused[i];
		tot->skipped += s->skipped[i];
	}
	STRESS_CHECK(bad == 0, "%llu unexpected statuses", (unsigned long long)bad);
	struct rl_verdict v = rl_oracle(all.e, all.n, s->sched.D, s->bmax, rl_rate_allow, &s->sched);
	STRESS_CHECK(v.violations == 0, "%llu windows over the bound, first [%llu, %llu]",
		     (unsigned long long)v.violations, (unsigned long long)(v.bad_from - T0),
		     (unsigned long long)(v.bad_to - T0));
	STRESS_CHECK(taken > 0, "no token taken in %llu rounds", (unsigned long long)s->rounds);
	free(all.e);

	/* No lockout: a full bucket's time later the whole burst is there. */
	uint64_t k, per, b = ak_limiter_burst(&s->l);
	ak_limiter_rate(&s->l, &k, &per);
	uint64_t now = ak_fake_clock_advance(&s->fc, b * per / k + per);
	uint64_t avail = ak_limiter_available_at(&s->l, now);
	STRESS_CHECK(avail == b, "locked out: %llu of %llu tokens a full refill later",
		     (unsigned long long)avail, (unsigned long long)b);

	tot->taken += taken;
	tot->changes += s->changes;
	tot->pairs += s->pairs;
	tot->same_word += s->same_word;
	tot->windows += v.windows;
	tot->passes++;
}

int main(int argc, char **argv)
{
	struct stress_cfg cfg;
	static struct shared s;
	struct totals tot;

	stress_init(&cfg, argc, argv, "limiter_reconf", 4, 8000);
	STRESS_CHECK(cfg.threads >= 2 && cfg.threads <= MAXT, "2 to %d threads", MAXT);
	memset(&tot, 0, sizeof tot);
	/* Half the workers get no slot (slots are claimed in thread start
	 * order; main claims first); from 8 threads on, slots fence. */
	(void)_ak_limiter_test_mode();
	_ak_limiter_test_slots(_ak_limiter_test_claimed() + cfg.threads / 2, cfg.threads >= 8);
	_ak_limiter_test_window = widen;
	for (uint64_t done = 0; done < cfg.ops; done += MAX_ROUNDS)
		one_pass(&cfg, &s, &tot);
	_ak_limiter_test_slots(512, 0);

	stress_pass(&cfg,
		    "%llu passes: %llu taken, %llu refunded (%llu refunds skipped), %llu refused over %llu "
		    "reconfigurations (%llu back-to-back pairs, %llu left the word as it was); "
		    "%llu end points, 0 window violations; full again after a refill each pass",
		    (unsigned long long)tot.passes, (unsigned long long)tot.taken,
		    (unsigned long long)tot.refunded, (unsigned long long)tot.skipped,
		    (unsigned long long)tot.refused,
		    (unsigned long long)tot.changes, (unsigned long long)tot.pairs,
		    (unsigned long long)tot.same_word, (unsigned long long)tot.windows);
	return 0;
}
