/*
 * Progress meter benchmarks.
 *
 *   progress/<impl>/add            one update: count += 1, last_ns = ts
 *     atomkit          single-writer latch meter (1 thread: it is single-writer)
 *     atomkit_mw       multi-writer latch meter, every thread adds
 *     mutex            {count, last_ns} under a pthread mutex
 *     two_atomics      fetch_add(count) + store(last_ns): the BROKEN meter (a
 *                      reader can see a new count with an old time); a cost
 *                      reference only
 *   progress/atomkit/add_clock     as add, reading CLOCK_MONOTONIC per update
 *   progress/<impl>/read           a consistent {count, total, started, last}
 *   progress/atomkit/read_busy_writer  reads while another thread adds nonstop
 *
 * Timestamps for the add rows come from a loop counter, so every row pays
 * the same (nothing) for time and the rows compare the meters themselves.
 */
#include <atomkit/progress.h>
#include <pthread.h>

#include "shim/cbench.h"

#define BATCH 1024

static ak_progress g_sw, g_mw, g_busy;
static AK_CACHE_ALIGNED struct {
	pthread_mutex_t mu;
	uint64_t count, total, started_ns, last_ns;
} g_mx = { PTHREAD_MUTEX_INITIALIZER, 0, 100, 0, 0 };
static AK_CACHE_ALIGNED struct {
	_Atomic(uint64_t) count;
	_Atomic(uint64_t) last_ns;
} g_two;

static void bm_atomkit_add(cbench_state *st, void *ctx)
{
	uint64_t n, ts = 0;
	(void)ctx;
	while ((n = cbench_next_batch(st, BATCH)))
		for (uint64_t i = 0; i < n; i++)
			(void)ak_progress_add_at(&g_sw, 1, ++ts);
}

static void bm_atomkit_add_clock(cbench_state *st, void *ctx)
{
	uint64_t n;
	(void)ctx;
	while ((n = cbench_next_batch(st, BATCH)))
		for (uint64_t i = 0; i < n; i++)
			(void)ak_progress_add(&g_sw, 1);
}

static void bm_atomkit_mw_add(cbench_state *st, void *ctx)
{
	uint64_t n, ts = 0;
	(void)ctx;
	while ((n = cbench_next_batch(st, BATCH)))
		for (uint64_t i = 0; i < n; i++)
			(void)ak_progress_add_at(&g_mw, 1, ++ts);
}

static void bm_mutex_add(cbench_state *st, void *ctx)
{
	uint64_t n, ts = 0;
	(void)ctx;
	while ((n = cbench_next_batch(st, BATCH)))
		for (uint64_t i = 0; i < n; i++) {
			pthread_mutex_lock(&g_mx.mu);
			g_mx.count++;
			if (++ts > g_mx.last_ns)
				g_mx.last_ns = ts;
			pthread_mutex_unlock(&g_mx.mu);
		}
}

static void bm_two_atomics_add(cbench_state *st, void *ctx)
{
	uint64_t n, ts = 0;
	(void)ctx;
	while ((n = cbench_next_batch(st, BATCH)))
		for (uint64_t i = 0; i < n; i++) {
			atomic_fetch_add_explicit(&g_two.count, 1, memory_order_relaxed);
			/* No memory order makes two separate words one snapshot. */
			atomic_store_explicit(&g_two.last_ns, ++ts, memory_order_relaxed);
		}
}

static void bm_atomkit_read(cbench_state *st, void *ctx)
{
	ak_progress *p = (ak_progress *)ctx;
	ak_progress_snap s;
	uint64_t n, sink = 0;
	while ((n = cbench_next_batch(st, BATCH)))
		for (uint64_t i = 0; i < n; i++) {
			ak_progress_snapshot(p, &s);
			sink += s.count;
		}
	cbench_counter(st, "sink", (double)(sink & 1), CBENCH_COUNTER_PLAIN);
}

static void bm_mutex_read(cbench_state *st, void *ctx)
{
	uint64_t n, sink = 0;
	(void)ctx;
	while ((n = cbench_next_batch(st, BATCH)))
		for (uint64_t i = 0; i < n; i++) {
			pthread_mutex_lock(&g_mx.mu);
			sink += g_mx.count + g_mx.total + g_mx.started_ns + g_mx.last_ns;
			pthread_mutex_unlock(&g_mx.mu);
		}
	cbench_counter(st, "sink", (double)(sink & 1), CBENCH_COUNTER_PLAIN);
}

/* A writer that adds to g_busy until told to stop. */
static _Atomic(int) g_busy_stop;
static void *busy_writer(void *arg)
{
	uint64_t ts = 0;
	(void)arg;
	/* Acquire: pairs with the release store in bm_read_busy(). */
	while (!atomic_load_explicit(&g_busy_stop, memory_order_acquire))
		for (int i = 0; i < 256; i++)
			(void)ak_progress_add_at(&g_busy, 1, ++ts);
	return NULL;
}

static void bm_read_busy(cbench_state *st, void *ctx)
{
	pthread_t w;
	(void)ctx;
	atomic_store_explicit(&g_busy_stop, 0, memory_order_relaxed);
	if (pthread_create(&w, NULL, busy_writer, NULL) != 0) {
		cbench_skip_with_error(st, "pthread_create failed");
		return;
	}
	bm_atomkit_read(st, &g_busy);
	/* Release: pairs with the acquire in busy_writer(). */
	atomic_store_explicit(&g_busy_stop, 1, memory_order_release);
	pthread_join(w, NULL);
}

CBENCH_INIT(progress)
{
	static const int threads[] = { 1, 2, 4 };
	static const int one[] = { 1 };
	ak_progress_init(&g_sw, AK_PROGRESS_UNKNOWN, AK_PROGRESS_SINGLE_WRITER, NULL);
	ak_progress_init(&g_mw, AK_PROGRESS_UNKNOWN, AK_PROGRESS_MULTI_WRITER, NULL);
	ak_progress_init(&g_busy, AK_PROGRESS_UNKNOWN, AK_PROGRESS_SINGLE_WRITER, NULL);
	cbench_register_threads("progress/atomkit/add", bm_atomkit_add, NULL, one, 1);
	cbench_register_threads("progress/atomkit_mw/add", bm_atomkit_mw_add, NULL, threads, 3);
	cbench_register_threads("progress/mutex/add", bm_mutex_add, NULL, threads, 3);
	cbench_register_threads("progress/two_atomics/add", bm_two_atomics_add, NULL, threads, 3);
	cbench_register_threads("progress/atomkit/add_clock", bm_atomkit_add_clock, NULL, one, 1);
	cbench_register_threads("progress/atomkit/read", bm_atomkit_read, &g_sw, threads, 3);
	cbench_register_threads("progress/mutex/read", bm_mutex_read, NULL, threads, 3);
	cbench_register_threads("progress/atomkit/read_busy_writer", bm_read_busy, NULL, one, 1);
}
