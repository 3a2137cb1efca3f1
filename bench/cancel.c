/*
 * Cancel and group benchmarks.
 *
 *   cancel/atomkit/check                 ak_cancel_is_set on a live token
 *   cancel/atomkit/check_deadline        the same on a deadline token (+ clock read)
 *   cancel/plain_atomic/check            a bare acquire load, the floor
 *   cancel/atomkit/request_no_waiters    init + request + destroy, nobody waiting
 *                                        (no system call: check with strace -c)
 *   cancel/atomkit/wake/N                request -> all N blocked waiters awake
 *   cancel/pthread_cond/wake/N           the same with a mutex + condvar broadcast
 *   group/atomkit/start_stop/N           init, N x ak_group_go, wait, destroy
 *   group/pthread/create_join/N          N x pthread_create, N x pthread_join
 *
 * The wake rows time only the request-to-all-awake span (setup paused);
 * with more waiters than cores (2 here) they measure scheduling too.
 */
#include <atomkit/cancel.h>
#include <atomkit/group.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "shim/cbench.h"

#define BATCH 1024
#define MAXW 16

static ak_cancel g_live;
static ak_cancel g_timed;
static AK_CACHE_ALIGNED _Atomic(uint32_t) g_plain;

static void bm_check(cbench_state *st, void *ctx)
{
	ak_cancel *t = (ak_cancel *)ctx;
	uint64_t n, hits = 0;
	while ((n = cbench_next_batch(st, BATCH)))
		for (uint64_t i = 0; i < n; i++)
			hits += ak_cancel_is_set(t);
	if (hits)
		cbench_skip_with_error(st, "token unexpectedly cancelled");
}

static void bm_plain_check(cbench_state *st, void *ctx)
{
	uint64_t n, hits = 0;
	(void)ctx;
	while ((n = cbench_next_batch(st, BATCH)))
		for (uint64_t i = 0; i < n; i++)
			/* Acquire: the same load ak_cancel_is_set does. */
			hits += atomic_load_explicit(&g_plain, memory_order_acquire) & 1u;
	if (hits)
		cbench_skip_with_error(st, "flag unexpectedly set");
}

static void bm_request_no_waiters(cbench_state *st, void *ctx)
{
	uint64_t n;
	(void)ctx;
	while ((n = cbench_next_batch(st, 256)))
		for (uint64_t i = 0; i < n; i++) {
			ak_cancel t;
			ak_cancel_init(&t);
			ak_cancel_request(&t, AK_ECANCELED);
			ak_cancel_destroy(&t);
		}
}

/* ---- wake latency ------------------------------------------------------ */

struct wake_rig {
	int n;
	int use_cond;
	pthread_t th[MAXW];
	_Atomic(uint32_t) gen;     /* round number; 0xffffffff = quit */
	_Atomic(uint32_t) ready;   /* waiters that entered the round */
	_Atomic(uint32_t) woke;    /* waiters that returned */
	ak_cancel tok;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int flag;
};

static void *wake_waiter(void *p)
{
	struct wake_rig *r = (struct wake_rig *)p;
	uint32_t seen = 0;

	for (;;) {
		uint32_t g;
		/* Acquire: pairs with the release store of gen in wake_round(),
		 * so the round's token is initialized before we use it. */
		while ((g = atomic_load_explicit(&r->gen, memory_order_acquire)) == seen)
			sched_yield();
		if (g == 0xffffffffu)
			return NULL;
		seen = g;
		atomic_fetch_add_explicit(&r->ready, 1, memory_order_relaxed);
		if (r->use_cond) {
			pthread_mutex_lock(&r->mu);
			while (!r->flag)
				pthread_cond_wait(&r->cv, &r->mu);
			pthread_mutex_unlock(&r->mu);
		} else {
			ak_cancel_wait(&r->tok, AK_DEADLINE_NONE);
		}
		/* Release: pairs with the acquire spin in wake_round(). */
		atomic_fetch_add_explicit(&r->woke, 1, memory_order_release);
	}
}

static void wake_round(cbench_state *st, struct wake_rig *r, uint32_t gen)
{
	cbench_pause(st);
	atomic_store_explicit(&r->ready, 0, memory_order_relaxed);
	atomic_store_explicit(&r->woke, 0, memory_order_relaxed);
	ak_cancel_init(&r->tok);
	r->flag = 0;
	/* Release: pairs with the acquire load of gen in wake_waiter(). */
	atomic_store_explicit(&r->gen, gen, memory_order_release);
	while (atomic_load_explicit(&r->ready, memory_order_relaxed) < (uint32_t)r->n)
		sched_yield();
	/* Let them block (a waiter that has not slept yet only makes the
	 * round cheaper, never wrong). */
	if (!r->use_cond)
		while ((atomic_load_explicit(&r->tok.state, memory_order_relaxed) >> 2) <
		       (uint32_t)r->n)
			sched_yield();
	for (int i = 0; i < 50; i++)
		sched_yield();
	cbench_resume(st);
	if (r->use_cond) {
		pthread_mutex_lock(&r->mu);
		r->flag = 1;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
	} else {
		ak_cancel_request(&r->tok, AK_ECANCELED);
	}
	/* Acquire: pairs with the release add in wake_waiter(). */
	while (atomic_load_explicit(&r->woke, memory_order_acquire) < (uint32_t)r->n)
		sched_yield();
	cbench_pause(st);
	ak_cancel_destroy(&r->tok);
	cbench_resume(st);
}

static void bm_wake(cbench_state *st, void *ctx)
{
	static struct wake_rig r;
	uint32_t gen = 0;

	r.n = (int)cbench_arg(st);
	r.use_cond = ctx != NULL;
	atomic_store_explicit(&r.gen, 0, memory_order_relaxed);
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);
	for (int i = 0; i < r.n; i++)
		pthread_create(&r.th[i], NULL, wake_waiter, &r);
	while (cbench_keep_running(st))
		wake_round(st, &r, ++gen);
	/* Release: pairs with the acquire load of gen in wake_waiter(). */
	atomic_store_explicit(&r.gen, 0xffffffffu, memory_order_release);
	for (int i = 0; i < r.n; i++)
		pthread_join(r.th[i], NULL);
	pthread_cond_destroy(&r.cv);
	pthread_mutex_destroy(&r.mu);
}

/* ---- group start/stop -------------------------------------------------- */

static int noop_worker(ak_cancel *c, void *arg)
{
	(void)c;
	(void)arg;
	return 0;
}

static void *noop_thread(void *arg)
{
	return arg;
}

static void bm_group(cbench_state *st, void *ctx)
{
	int n = (int)cbench_arg(st);
	(void)ctx;
	while (cbench_keep_running(st)) {
		ak_group g;
		ak_group_init(&g, NULL, AK_GROUP_CANCEL_ON_ERROR);
		for (int i = 0; i < n; i++)
			ak_group_go(&g, noop_worker, NULL);
		ak_group_wait(&g, NULL);
		ak_group_destroy(&g);
	}
}

static void bm_pthread(cbench_state *st, void *ctx)
{
	int n = (int)cbench_arg(st);
	pthread_t th[MAXW];
	(void)ctx;
	while (cbench_keep_running(st)) {
		for (int i = 0; i < n; i++)
			pthread_create(&th[i], NULL, noop_thread, NULL);
		for (int i = 0; i < n; i++)
			pthread_join(th[i], NULL);
	}
}

CBENCH_INIT(cancel)
{
	static const int threads[] = { 1, 2 };
	static const int ns[] = { 1, 2, 4, 8 };

	ak_cancel_init(&g_live);
	ak_cancel_init_deadline(&g_timed, AK_DEADLINE_NONE - 1, NULL);
	cbench_register_threads("cancel/atomkit/check", bm_check, &g_live, threads, 2);
	cbench_register_threads("cancel/atomkit/check_deadline", bm_check, &g_timed, threads, 2);
	cbench_register_threads("cancel/plain_atomic/check", bm_plain_check, NULL, threads, 2);
	cbench_register("cancel/atomkit/request_no_waiters", bm_request_no_waiters, NULL, 0, 0);
	for (int i = 0; i < 4; i++) {
		cbench_register_arg("cancel/atomkit/wake", bm_wake, NULL, 0, CBENCH_REAL_TIME, ns[i]);
		cbench_register_arg("cancel/pthread_cond/wake", bm_wake, &g_plain, 0,
				    CBENCH_REAL_TIME, ns[i]);
	}
	for (int i = 0; i < 3; i++) {
		cbench_register_arg("group/atomkit/start_stop", bm_group, NULL, 0, CBENCH_REAL_TIME,
				    ns[i]);
		cbench_register_arg("group/pthread/create_join", bm_pthread, NULL, 0,
				    CBENCH_REAL_TIME, ns[i]);
	}
}
