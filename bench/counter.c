/*
 * Counter benchmarks: atomkit beside ck_pr and a pthread mutex.
 *
 *   counter/<impl>/add            one shared counter, every thread adds 1
 *   counter/<impl>/add_bounded    exact bounded add (CAS loop) on one counter
 *   counter/atomkit_sharded/add   the sharded counter
 *
 * Time per op is wall time / total ops over all threads (UseRealTime), so
 * lower is better and rows with the same workload and thread count compare
 * directly.
 */
#include <atomkit/counter.h>
#include <ck_pr.h>
#include <pthread.h>

#include "shim/cbench.h"

#define BATCH 1024

static AK_CACHE_ALIGNED ak_counter g_ak;
static AK_CACHE_ALIGNED uint64_t g_ck;
static AK_CACHE_ALIGNED struct {
	pthread_mutex_t mu;
	uint64_t v;
} g_mx = { PTHREAD_MUTEX_INITIALIZER, 0 };
static ak_scounter g_sc;

static void bm_atomkit_add(cbench_state *st, void *ctx)
{
	uint64_t n;
	(void)ctx;
	while ((n = cbench_next_batch(st, BATCH)))
		for (uint64_t i = 0; i < n; i++)
			ak_counter_add(&g_ak, 1);
}

static void bm_ck_add(cbench_state *st, void *ctx)
{
	uint64_t n;
	(void)ctx;
	while ((n = cbench_next_batch(st, BATCH)))
		for (uint64_t i = 0; i < n; i++)
			(void)ck_pr_faa_64(&g_ck, 1);
}

static void bm_mutex_add(cbench_state *st, void *ctx)
{
	uint64_t n;
	(void)ctx;
	while ((n = cbench_next_batch(st, BATCH)))
		for (uint64_t i = 0; i < n; i++) {
			pthread_mutex_lock(&g_mx.mu);
			g_mx.v++;
			pthread_mutex_unlock(&g_mx.mu);
		}
}

static void bm_sharded_add(cbench_state *st, void *ctx)
{
	uint64_t n;
	(void)ctx;
	while ((n = cbench_next_batch(st, BATCH)))
		for (uint64_t i = 0; i < n; i++)
			ak_scounter_add(&g_sc, 1);
}

/* Bounded add with a limit that is never reached: the cost of exactness. */
static void bm_atomkit_add_bounded(cbench_state *st, void *ctx)
{
	uint64_t n;
	(void)ctx;
	while ((n = cbench_next_batch(st, BATCH)))
		for (uint64_t i = 0; i < n; i++)
			(void)ak_counter_add_bounded(&g_ak, 1, UINT64_MAX - 1, NULL);
}

/* The same bounded add as a plain ck_pr CAS loop. */
static void bm_ck_add_bounded(cbench_state *st, void *ctx)
{
	uint64_t n;
	(void)ctx;
	while ((n = cbench_next_batch(st, BATCH)))
		for (uint64_t i = 0; i < n; i++) {
			uint64_t cur = ck_pr_load_64(&g_ck), seen;
			while (cur < UINT64_MAX - 1 && !ck_pr_cas_64_value(&g_ck, cur, cur + 1, &seen))
				cur = seen;
		}
}

CBENCH_INIT(counter)
{
	static const int threads[] = { 1, 2, 4 };
	ak_scounter_init(&g_sc, NULL, ak_scounter_default_cells());
	cbench_register_threads("counter/atomkit/add", bm_atomkit_add, NULL, threads, 3);
	cbench_register_threads("counter/ck/add", bm_ck_add, NULL, threads, 3);
	cbench_register_threads("counter/mutex/add", bm_mutex_add, NULL, threads, 3);
	cbench_register_threads("counter/atomkit_sharded/add", bm_sharded_add, NULL, threads, 3);
	cbench_register_threads("counter/atomkit/add_bounded", bm_atomkit_add_bounded, NULL, threads, 3);
	cbench_register_threads("counter/ck/add_bounded", bm_ck_add_bounded, NULL, threads, 3);
}
