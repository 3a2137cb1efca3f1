/*
 * Rate limiter benchmarks: atomkit's GCRA limiter, interval bucket and keyed
 * table beside the usual mutex-protected lazy-refill bucket, plus the cost
 * of each clock source.
 *
 *   ratelimit/<impl>/try_acquire     reads the clock, then one decision
 *   ratelimit/<impl>/try_acquire_at  the decision alone (time passed in)
 *   ratelimit/<impl>/try_acquire_limited  clock + decision on a limiter
 *                                    configured far below the demand (1 token
 *                                    per us, burst 64): mostly refusals, the
 *                                    state a limiter is in when it limits;
 *                                    admitted/op counts what got through
 *   ratelimit/cas_floor/<workload>   not a limiter: the least any limiter
 *                                    whose state is one shared word must do
 *                                    per admission (load the word, CAS it to
 *                                    max(word, now) + 1), with and without
 *                                    the clock read; the floor the atomkit
 *                                    rows are measured against
 *   clock/<source>/read              one clock read
 *
 * ratelimit/atomkit_limiter_coarse/try_acquire is the GCRA limiter on
 * CLOCK_MONOTONIC_COARSE (ak_clock_monotonic_coarse()),
 * ratelimit/atomkit_limiter/try_acquire_tsc the same on the calibrated TSC
 * (ak_tsc_clock), and ratelimit/mutex_lazy/try_acquire_tsc the mutex
 * baseline reading that same TSC clock: each clock-reading row is compared
 * with the mutex row that reads the same clock.
 *
 * The cas_fail/op counter is the failed admission CASes per operation
 * (per thread, averaged), through limiter.h's benchmark hook.
 *
 * Every limiter is configured so that requests are admitted (1e9 tokens/s,
 * a burst far larger than a run takes), so the rows measure the admitting
 * path: the CAS (or the lock) on the one shared limiter that all threads
 * hit.  ratelimit/atomkit_tbucket/try_acquire never needs the clock on
 * that path (only a refusal reads it, to estimate the wait), which is the
 * point of an interval bucket.
 *
 * Time per op is wall time / total ops over all threads (UseRealTime):
 * lower is better, rows with the same workload and thread count compare.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
/* Count failed admission CASes per thread (see limiter.h). */
static _Thread_local unsigned long long t_cas_failed;
#define _AK_LIMITER_CAS_FAILED() (t_cas_failed++)
#include <atomkit/limiter.h>
#include <atomkit/tbucket.h>
#include <pthread.h>
#include <time.h>
#include <x86intrin.h>

#include "shim/cbench.h"

#define BATCH 256
#define BIG_BURST (UINT64_C(1) << 30)

static ak_limiter g_lim;
static ak_limiter g_lim_coarse;
static ak_limiter g_lim_tsc;
static ak_tsc_clock g_tsc;
static ak_clock g_tsc_clock;
static int g_tsc_ok;
static ak_tbucket g_tb;
static ak_limiter_table g_tab;
static ak_limiter_slot g_slots[4096];

/* The usual lazy-refill bucket (Go's x/time/rate shape): float tokens,
 * last update time, all under one mutex. */
struct mx_bucket {
	pthread_mutex_t mu;
	double tokens, rate_per_ns, burst;
	uint64_t last;
};
static AK_CACHE_ALIGNED struct mx_bucket g_mx = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0 };
static AK_CACHE_ALIGNED struct mx_bucket g_mx_lim = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0 };

static int mx_try_acquire_at(struct mx_bucket *b, uint64_t now, uint64_t n)
{
	int ok = 0;
	pthread_mutex_lock(&b->mu);
	if (now > b->last) {
		b->tokens += (double)(now - b->last) * b->rate_per_ns;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
		b->last = now;
	}
	if (b->tokens >= (double)n) {
		b->tokens -= (double)n;
		ok = 1;
	}
	pthread_mutex_unlock(&b->mu);
	return ok;
}
#define mutex_try_acquire_at(now, n) mx_try_acquire_at(&g_mx, (now), (n))

/* The one-word floor: load, then CAS to max(word, now) + 1, retried on
 * failure.  Relaxed throughout: nothing is published through the word; on
 * x86 the instructions are the same as the limiter's acquire / acq_rel. */
static AK_CACHE_ALIGNED _Atomic(uint64_t) g_floor;

static int floor_take(uint64_t now)
{
	uint64_t w = atomic_load_explicit(&g_floor, memory_order_relaxed);
	for (;;) {
		uint64_t e = (w > now ? w : now) + 1;
		if (atomic_compare_exchange_weak_explicit(&g_floor, &w, e, memory_order_relaxed,
							  memory_order_relaxed))
			return 1;
		t_cas_failed++;
	}
}

/* The limiting workload: 1 token per LIM_PER_NS, burst LIM_BURST, far
 * below what the threads ask for, so most calls are refused. */
#define LIM_PER_NS 1000
#define LIM_BURST 64
static ak_limiter g_lim_lim;

static void mx_reset(struct mx_bucket *b, double rate_per_ns, double burst)
{
	pthread_mutex_lock(&b->mu);
	b->rate_per_ns = rate_per_ns;
	b->burst = burst;
	b->tokens = burst;
	b->last = 0; /* the TSC row and the others share g_mx: time only moves it forward */
	pthread_mutex_unlock(&b->mu);
}

/* Thread 0 resets the shared limiter before the first batch (the shim
 * starts the others only after that). */
static void setup(cbench_state *st)
{
	if (cbench_thread_index(st) != 0)
		return;
	ak_limiter_init(&g_lim, 1, 1, BIG_BURST, NULL);
	ak_clock coarse = ak_clock_monotonic_coarse(NULL);
	ak_limiter_init(&g_lim_coarse, 1, 1, BIG_BURST, &coarse);
	ak_limiter_init(&g_lim_tsc, 1, 1, BIG_BURST, &g_tsc_clock);
	ak_tbucket_init(&g_tb, 1, 1, BIG_BURST, NULL);
	ak_limiter_table_init(&g_tab, g_slots, 4096, 1, 1, BIG_BURST, NULL);
	ak_limiter_init(&g_lim_lim, 1, LIM_PER_NS, LIM_BURST, NULL);
	mx_reset(&g_mx, 1.0, (double)BIG_BURST);
	atomic_store_explicit(&g_floor, 0, memory_order_relaxed); /* before the other threads start */
	mx_reset(&g_mx_lim, 1.0 / LIM_PER_NS, LIM_BURST);
}

static void fail_if(cbench_state *st, uint64_t refused, uint64_t total)
{
	/* a run that mostly measured refusals would compare the wrong paths */
	if (refused * 100 > total)
		cbench_skip_with_error(st, "too many refusals: the admitting path was not measured");
}

#define BM(name, expr)                                                         \
	static void name(cbench_state *st, void *ctx)                          \
	{                                                                      \
		uint64_t n, refused = 0, total = 0, w;                         \
		(void)ctx;                                                     \
		(void)w;                                                       \
		setup(st);                                                     \
		t_cas_failed = 0;                                              \
		while ((n = cbench_next_batch(st, BATCH))) {                   \
			uint64_t now = ak_now_ns();                            \
			(void)now;                                             \
			for (uint64_t i = 0; i < n; i++)                       \
				refused += !(expr);                            \
			total += n;                                            \
		}                                                              \
		fail_if(st, refused, total);                                   \
		if (total)                                                     \
			cbench_counter(st, "cas_fail/op",                      \
				       (double)t_cas_failed / (double)total,   \
				       CBENCH_COUNTER_AVG);                    \
	}

BM(bm_limiter, ak_limiter_try_acquire(&g_lim, 1, &w) == AK_OK)
BM(bm_limiter_coarse, ak_limiter_try_acquire(&g_lim_coarse, 1, &w) == AK_OK)
BM(bm_limiter_tsc, ak_limiter_try_acquire(&g_lim_tsc, 1, &w) == AK_OK)
BM(bm_mutex_tsc, mutex_try_acquire_at(ak_clock_read(&g_tsc_clock), 1))
BM(bm_limiter_at, ak_limiter_try_acquire_at(&g_lim, now + i, 1, &w) == AK_OK)
BM(bm_tbucket, ak_tbucket_try_acquire(&g_tb, 1, &w) == AK_OK)
BM(bm_tbucket_at, ak_tbucket_try_acquire_at(&g_tb, now + i, 1, &w) == AK_OK)
BM(bm_table, ak_limiter_table_try_acquire(&g_tab, i & 1023, 1, &w) == AK_OK)
BM(bm_table_at, ak_limiter_table_try_acquire_at(&g_tab, i & 1023, now + i, 1, &w) == AK_OK)
BM(bm_mutex, mutex_try_acquire_at(ak_now_ns(), 1))
BM(bm_mutex_at, mutex_try_acquire_at(now + i, 1))
BM(bm_floor, floor_take(ak_now_ns()))
BM(bm_floor_at, floor_take(now + i))

/* The limiting rows: admissions are counted (admitted/op) and checked
 * against what the configuration allows over the run. */
#define BM_LIMITED(name, expr)                                                 \
	static void name(cbench_state *st, void *ctx)                          \
	{                                                                      \
		uint64_t n, admitted = 0, total = 0, w;                        \
		(void)ctx;                                                     \
		(void)w;                                                       \
		setup(st);                                                     \
		uint64_t t0 = ak_now_ns();                                     \
		while ((n = cbench_next_batch(st, BATCH))) {                   \
			for (uint64_t i = 0; i < n; i++)                       \
				admitted += (expr);                            \
			total += n;                                            \
		}                                                              \
		uint64_t allowed = LIM_BURST + (ak_now_ns() - t0) / LIM_PER_NS + 1; \
		if (admitted > allowed)                                        \
			cbench_skip_with_error(st, "admitted more than the rate allows"); \
		if (total)                                                     \
			cbench_counter(st, "admitted/op",                      \
				       (double)admitted / (double)total,       \
				       CBENCH_COUNTER_AVG);                    \
	}

BM_LIMITED(bm_limiter_limited, ak_limiter_try_acquire(&g_lim_lim, 1, &w) == AK_OK)
BM_LIMITED(bm_mutex_limited, mx_try_acquire_at(&g_mx_lim, ak_now_ns(), 1))

#undef BM
#undef BM_LIMITED

/* ---- clock sources ------------------------------------------------------------ */

static volatile uint64_t g_sink;

static void bm_clock_monotonic(cbench_state *st, void *ctx)
{
	uint64_t n, acc = 0;
	(void)ctx;
	while ((n = cbench_next_batch(st, BATCH)))
		for (uint64_t i = 0; i < n; i++)
			acc += ak_now_ns();
	g_sink = acc;
}

static void bm_clock_coarse(cbench_state *st, void *ctx)
{
	uint64_t n, acc = 0;
	ak_clock c = ak_clock_monotonic_coarse(NULL);
	(void)ctx;
	while ((n = cbench_next_batch(st, BATCH)))
		for (uint64_t i = 0; i < n; i++)
			acc += ak_clock_read(&c);
	g_sink = acc;
}

/* The calibrated TSC clock (clock/rdtsc/read: the raw counter, for scale). */
static void bm_clock_tsc(cbench_state *st, void *ctx)
{
	uint64_t n, acc = 0;
	(void)ctx;
	while ((n = cbench_next_batch(st, BATCH)))
		for (uint64_t i = 0; i < n; i++)
			acc += ak_clock_read(&g_tsc_clock);
	g_sink = acc;
}

static void bm_clock_rdtsc(cbench_state *st, void *ctx)
{
	uint64_t n, acc = 0;
	(void)ctx;
	while ((n = cbench_next_batch(st, BATCH)))
		for (uint64_t i = 0; i < n; i++)
			acc += __rdtsc();
	g_sink = acc;
}

CBENCH_INIT(ratelimit)
{
	static const int threads[] = { 1, 2 };
	/* The TSC rows exist only with an invariant TSC (calibrated here, in
	 * 10 ms), never silently on another clock. */
	if (ak_tsc_clock_init(&g_tsc, 0) == AK_OK) {
		g_tsc_clock = ak_tsc_clock_as_clock(&g_tsc);
		g_tsc_ok = 1;
	}
	cbench_register_threads("ratelimit/atomkit_limiter/try_acquire", bm_limiter, NULL, threads, 2);
	cbench_register_threads("ratelimit/atomkit_limiter_coarse/try_acquire", bm_limiter_coarse,
				NULL, threads, 2);
	if (g_tsc_ok)
		cbench_register_threads("ratelimit/atomkit_limiter/try_acquire_tsc", bm_limiter_tsc,
					NULL, threads, 2);
	cbench_register_threads("ratelimit/atomkit_tbucket/try_acquire", bm_tbucket, NULL, threads, 2);
	cbench_register_threads("ratelimit/atomkit_table/try_acquire", bm_table, NULL, threads, 2);
	cbench_register_threads("ratelimit/mutex_lazy/try_acquire", bm_mutex, NULL, threads, 2);
	if (g_tsc_ok)
		cbench_register_threads("ratelimit/mutex_lazy/try_acquire_tsc", bm_mutex_tsc, NULL,
					threads, 2);
	cbench_register_threads("ratelimit/atomkit_limiter/try_acquire_at", bm_limiter_at, NULL,
				threads, 2);
	cbench_register_threads("ratelimit/atomkit_tbucket/try_acquire_at", bm_tbucket_at, NULL,
				threads, 2);
	cbench_register_threads("ratelimit/atomkit_table/try_acquire_at", bm_table_at, NULL,
				threads, 2);
	cbench_register_threads("ratelimit/mutex_lazy/try_acquire_at", bm_mutex_at, NULL, threads,
				2);
	cbench_register_threads("ratelimit/cas_floor/try_acquire", bm_floor, NULL, threads, 2);
	cbench_register_threads("ratelimit/cas_floor/try_acquire_at", bm_floor_at, NULL, threads, 2);
	cbench_register_threads("ratelimit/atomkit_limiter/try_acquire_limited",
				bm_limiter_limited, NULL, threads, 2);
	cbench_register_threads("ratelimit/mutex_lazy/try_acquire_limited", bm_mutex_limited, NULL,
				threads, 2);
	cbench_register("clock/monotonic/read", bm_clock_monotonic, NULL, 0, 0);
	cbench_register("clock/monotonic_coarse/read", bm_clock_coarse, NULL, 0, 0);
	if (g_tsc_ok)
		cbench_register("clock/tsc/read", bm_clock_tsc, NULL, 0, 0);
	cbench_register("clock/rdtsc/read", bm_clock_rdtsc, NULL, 0, 0);
}
