/*
 * Thread groups.  Everything here is a slow path (thread creation, joins),
 * so a mutex and a condition variable guard the list of workers; the
 * workers' hot path is the token check in cancel.h.
 *
 * Two things keep the mutex uncontended in the common case (measured: a
 * start/stop then makes the same system calls as bare pthread_create and
 * pthread_join): threads are created outside the mutex (a `pending` count
 * keeps wait from finishing while one is being created), and a finishing
 * worker only touches atomics (first failure by CAS, `active` by
 * fetch_sub) and takes the mutex to broadcast only when someone waits on
 * the condition variable (`cv_waiters`, a store-load handshake: seq_cst).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <atomkit/group.h>

#define GROUP_MAGIC 0x47525550u /* "GRUP" */
#define POLL_SLICE_NS (10 * AK_NS_PER_MS)

enum { G_OPEN = 0, G_WAITING, G_DONE };

struct _ak_group_worker {
	struct _ak_group_worker *next;
	ak_group *g;
	ak_group_fn fn;
	void *arg;
	int index;
	pthread_t tid;
};

/* The group whose worker this thread is (wait-from-worker detection). */
static AK_THREAD_LOCAL ak_group *current_group;

/* A go succeeded or is still creating its thread (under mu). */
static bool any_started(const ak_group *g)
{
	return g->started != g->failed;
}

ak_status ak_group_init(ak_group *g, ak_cancel *parent, int policy)
{
	pthread_condattr_t ca;
	ak_status st;

	if (!g || policy < AK_GROUP_CANCEL_ON_ERROR || policy > AK_GROUP_CANCEL_NEVER)
		return AK_EINVAL;
	memset((void *)g, 0, sizeof(*g));
	st = parent ? ak_cancel_init_child(&g->token, parent) : ak_cancel_init(&g->token);
	if (st != AK_OK)
		return st;
	if (pthread_mutex_init(&g->mu, NULL) != 0) {
		ak_cancel_destroy(&g->token);
		return AK_ESYS;
	}
	if (pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&g->cv, &ca) != 0) {
		pthread_mutex_destroy(&g->mu);
		ak_cancel_destroy(&g->token);
		return AK_ESYS;
	}
	pthread_condattr_destroy(&ca);
	g->policy = policy;
	g->first_err = 0;
	atomic_init(&g->first_index, AK_GROUP_NO_WORKER);
	atomic_init(&g->active, 0);
	atomic_init(&g->cv_waiters, 0);
	g->state = G_OPEN;
	g->magic = GROUP_MAGIC;
	return AK_OK;
}

ak_status ak_group_set_limit(ak_group *g, unsigned max_running)
{
	ak_status st = AK_OK;

	if (!g)
		return AK_EINVAL;
	if (g->magic != GROUP_MAGIC)
		return AK_ESTATE;
	pthread_mutex_lock(&g->mu);
	if (any_started(g) || g->state != G_OPEN)
		st = AK_ESTATE;
	else
		g->limit = max_running;
	pthread_mutex_unlock(&g->mu);
	return st;
}

ak_status ak_group_set_deadline(ak_group *g, uint64_t deadline_ns, const ak_clock *clk)
{
	ak_status st;

	if (!g)
		return AK_EINVAL;
	if (g->magic != GROUP_MAGIC)
		return AK_ESTATE;
	pthread_mutex_lock(&g->mu);
	if (any_started(g) || g->state != G_OPEN)
		st = AK_ESTATE;
	else
		st = ak_cancel_set_deadline(&g->token, deadline_ns, clk);
	pthread_mutex_unlock(&g->mu);
	return st;
}

bool ak_group_cancel(ak_group *g, int cause)
{
	return g ? ak_cancel_request(&g->token, cause) : false;
}

/* Sleep on cv (mu held) unless `still` turns false after we announced
 * ourselves: the announce/re-check pairs with wake_waiters(). */
static void cv_wait_while(ak_group *g, int (*still)(ak_group *), const struct timespec *until)
{
	/* seq_cst: store half of the handshake with wake_waiters(), whose
	 * seq_cst fetch_sub of `active` and load of cv_waiters pair with it. */
	atomic_fetch_add_explicit(&g->cv_waiters, 1, memory_order_seq_cst);
	if (still(g)) {
		if (until)
			pthread_cond_timedwait(&g->cv, &g->mu, until);
		else
			pthread_cond_wait(&g->cv, &g->mu);
	}
	atomic_fetch_sub_explicit(&g->cv_waiters, 1, memory_order_relaxed);
}

static uint32_t active_of(ak_group *g)
{
	/* seq_cst: pairs with the seq_cst fetch_sub in worker_main() (the load
	 * half of the handshake in cv_wait_while()). */
	return atomic_load_explicit(&g->active, memory_order_seq_cst);
}

static int at_limit(ak_group *g)
{
	return g->limit && active_of(g) >= g->limit;
}

static int any_active(ak_group *g)
{
	return active_of(g) > 0;
}

static void *worker_main(void *p)
{
	struct _ak_group_worker *w = (struct _ak_group_worker *)p;
	ak_group *g = w->g;
	int rc, cancel, none = AK_GROUP_NO_WORKER;

	current_group = g;
	rc = w->fn(&g->token, w->arg);
	current_group = NULL;
	cancel = g->policy == AK_GROUP_CANCEL_ON_RETURN ||
		 (g->policy == AK_GROUP_CANCEL_ON_ERROR && rc != 0);
	/* Record the failure before cancelling: siblings that return an error
	 * because of our cancel must not be recorded as the first failure.
	 * Relaxed: ak_group_wait reads first_index/first_err only after
	 * joining this thread (pthread_join orders them). */
	if (rc != 0 && atomic_compare_exchange_strong_explicit(&g->first_index, &none, w->index,
							       memory_order_relaxed,
							       memory_order_relaxed))
		g->first_err = rc;
	if (cancel)
		ak_cancel_request(&g->token, rc ? rc : AK_ECANCELED);
	/* seq_cst: pairs with the seq_cst cv_waiters add and active load in
	 * cv_wait_while() (store-load handshake on two words). */
	atomic_fetch_sub_explicit(&g->active, 1, memory_order_seq_cst);
	/* seq_cst: pairs with the add in cv_wait_while(): a waiter that
	 * announced itself before our decrement is seen here, one that
	 * announces later sees the decrement. */
	if (atomic_load_explicit(&g->cv_waiters, memory_order_seq_cst)) {
		pthread_mutex_lock(&g->mu);
		pthread_cond_broadcast(&g->cv);
		pthread_mutex_unlock(&g->mu);
	}
	return NULL;
}

static ak_status start(ak_group *g, ak_group_fn fn, void *arg, int block)
{
	struct _ak_group_worker *w;
	int rc, index;

	if (!g || !fn)
		return AK_EINVAL;
	if (g->magic != GROUP_MAGIC)
		return AK_ESTATE;
	pthread_mutex_lock(&g->mu);
	for (;;) {
		if (g->state == G_DONE) {
			pthread_mutex_unlock(&g->mu);
			return AK_ESTATE;
		}
		if (!at_limit(g))
			break;
		if (!block) {
			pthread_mutex_unlock(&g->mu);
			return AK_EBUSY;
		}
		cv_wait_while(g, at_limit, NULL);
	}
	/* Reserve the slot; create the thread outside the mutex. */
	index = (int)g->started++;
	g->pending++;
	/* Relaxed: counted under mu here; finishing workers decrement. */
	atomic_fetch_add_explicit(&g->active, 1, memory_order_relaxed);
	pthread_mutex_unlock(&g->mu);

	w = (struct _ak_group_worker *)malloc(sizeof(*w));
	rc = ENOMEM;
	if (w) {
		w->g = g;
		w->fn = fn;
		w->arg = arg;
		w->index = index;
		w->next = NULL;
		rc = pthread_create(&w->tid, NULL, worker_main, w);
	}
	pthread_mutex_lock(&g->mu);
	g->pending--;
	if (rc == 0) {
		w->next = g->workers;
		g->workers = w;
	} else {
		/* seq_cst: pairs with the handshake in cv_wait_while(); the
		 * broadcast below is under mu anyway. */
		atomic_fetch_sub_explicit(&g->active, 1, memory_order_seq_cst);
		/* Leave nothing behind: give the index back if no later go
		 * took one, else count the gap. */
		if ((unsigned)index + 1 == g->started)
			g->started--;
		else
			g->failed++;
	}
	/* A wait may be waiting for `pending` to drain, a go for a slot. */
	if (g->state == G_WAITING || rc != 0)
		pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	if (rc == 0)
		return AK_OK;
	free(w);
	return rc == ENOMEM ? AK_ENOMEM : rc == EAGAIN ? AK_EAGAIN : AK_ESYS;
}

ak_status ak_group_go(ak_group *g, ak_group_fn fn, void *arg)
{
	return start(g, fn, arg, 1);
}

ak_status ak_group_try_go(ak_group *g, ak_group_fn fn, void *arg)
{
	return start(g, fn, arg, 0);
}

static struct timespec to_timespec(uint64_t ns)
{
	struct timespec ts;
	ts.tv_sec = (time_t)(ns / AK_NS_PER_SEC);
	ts.tv_nsec = (long)(ns % AK_NS_PER_SEC);
	return ts;
}

int ak_group_wait(ak_group *g, int *index)
{
	struct _ak_group_worker *w;
	int err, idx;

	if (index)
		*index = AK_GROUP_NO_WORKER;
	if (!g)
		return AK_EINVAL;
	if (g->magic != GROUP_MAGIC || current_group == g)
		return AK_ESTATE;
	pthread_mutex_lock(&g->mu);
	if (g->state != G_OPEN) {
		pthread_mutex_unlock(&g->mu);
		return AK_ESTATE;
	}
	g->state = G_WAITING;
	/* With a deadline, let the workers finish while enforcing it.  Without
	 * one, joining is enough: every started worker is on the list (or
	 * counted in `pending`) until joined. */
	while (any_active(g)) {
		uint64_t dl = ak_cancel_deadline(&g->token);
		if (dl == AK_DEADLINE_NONE || ak_cancel_is_set(&g->token))
			break;
		/* A fake clock cannot be slept on: poll it. */
		uint64_t until = g->token.clock.now ? ak_now_ns() + POLL_SLICE_NS : dl;
		struct timespec ts = to_timespec(until);
		cv_wait_while(g, any_active, &ts);
		if (!any_active(g))
			break;
		/* The check expires the token; its callbacks run outside our
		 * mutex (they may be other families' kicks). */
		pthread_mutex_unlock(&g->mu);
		(void)ak_cancel_is_set(&g->token);
		pthread_mutex_lock(&g->mu);
	}
	for (;;) {
		w = g->workers;
		if (w) {
			g->workers = w->next;
			pthread_mutex_unlock(&g->mu);
			pthread_join(w->tid, NULL);
			free(w);
			pthread_mutex_lock(&g->mu);
		} else if (g->pending) {
			/* a go (from a worker or another thread) is creating one;
			 * start() broadcasts when it is listed */
			pthread_cond_wait(&g->cv, &g->mu);
		} else {
			break;
		}
	}
	g->state = G_DONE;
	/* Relaxed: every worker was joined above (pthread_join orders). */
	idx = atomic_load_explicit(&g->first_index, memory_order_relaxed);
	err = idx == AK_GROUP_NO_WORKER ? 0 : g->first_err;
	pthread_mutex_unlock(&g->mu);
	ak_cancel_request(&g->token, AK_ECANCELED);
	if (index)
		*index = idx;
	return err;
}

ak_status ak_group_destroy(ak_group *g)
{
	ak_status st;

	if (!g)
		return AK_EINVAL;
	if (g->magic != GROUP_MAGIC)
		return AK_ESTATE;
	pthread_mutex_lock(&g->mu);
	if ((any_started(g) && g->state != G_DONE) || g->state == G_WAITING) {
		pthread_mutex_unlock(&g->mu);
		return AK_EBUSY;
	}
	pthread_mutex_unlock(&g->mu);
	st = ak_cancel_destroy(&g->token);
	if (st != AK_OK)
		return st;
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	g->magic = 0;
	return AK_OK;
}
