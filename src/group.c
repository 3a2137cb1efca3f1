/*
 * Thread groups.  Everything here is a slow path (thread creation, joins),
 * so a mutex and a condition variable guard the bookkeeping; the workers'
 * hot path is the token check in cancel.h.
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
	g->first_index = AK_GROUP_NO_WORKER;
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
	if (g->started || g->state != G_OPEN)
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
	if (g->started || g->state != G_OPEN)
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

static void *worker_main(void *p)
{
	struct _ak_group_worker *w = (struct _ak_group_worker *)p;
	ak_group *g = w->g;
	int rc, cancel;

	current_group = g;
	rc = w->fn(&g->token, w->arg);
	current_group = NULL;
	cancel = g->policy == AK_GROUP_CANCEL_ON_RETURN ||
		 (g->policy == AK_GROUP_CANCEL_ON_ERROR && rc != 0);
	/* Cancel the siblings before bookkeeping, so they stop promptly. */
	if (cancel)
		ak_cancel_request(&g->token, rc ? rc : AK_ECANCELED);
	pthread_mutex_lock(&g->mu);
	if (rc != 0 && g->first_index == AK_GROUP_NO_WORKER) {
		g->first_err = rc;
		g->first_index = w->index;
	}
	g->active--;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

static ak_status start(ak_group *g, ak_group_fn fn, void *arg, int block)
{
	struct _ak_group_worker *w;
	int rc;

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
		if (!g->limit || g->active < g->limit)
			break;
		if (!block) {
			pthread_mutex_unlock(&g->mu);
			return AK_EBUSY;
		}
		pthread_cond_wait(&g->cv, &g->mu);
	}
	w = (struct _ak_group_worker *)malloc(sizeof(*w));
	if (!w) {
		pthread_mutex_unlock(&g->mu);
		return AK_ENOMEM;
	}
	w->g = g;
	w->fn = fn;
	w->arg = arg;
	w->index = (int)g->started;
	rc = pthread_create(&w->tid, NULL, worker_main, w);
	if (rc != 0) {
		pthread_mutex_unlock(&g->mu);
		free(w);
		return rc == EAGAIN ? AK_EAGAIN : AK_ESYS;
	}
	g->started++;
	g->active++;
	w->next = g->workers;
	g->workers = w;
	pthread_mutex_unlock(&g->mu);
	return AK_OK;
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
	 * one, joining is enough: every started worker is on the list until
	 * joined, so an empty list means none is left. */
	while (g->active > 0) {
		uint64_t dl = ak_cancel_deadline(&g->token);
		if (dl == AK_DEADLINE_NONE || ak_cancel_is_set(&g->token))
			break;
		/* A fake clock cannot be slept on: poll it. */
		uint64_t until = g->token.clock.now ? ak_now_ns() + POLL_SLICE_NS : dl;
		struct timespec ts = to_timespec(until);
		pthread_cond_timedwait(&g->cv, &g->mu, &ts);
		if (g->active == 0)
			break;
		/* The check expires the token; its callbacks run outside our
		 * mutex (they may be other families' kicks). */
		pthread_mutex_unlock(&g->mu);
		(void)ak_cancel_is_set(&g->token);
		pthread_mutex_lock(&g->mu);
	}
	while ((w = g->workers) != NULL) {
		g->workers = w->next;
		pthread_mutex_unlock(&g->mu);
		pthread_join(w->tid, NULL);
		free(w);
		pthread_mutex_lock(&g->mu);
	}
	g->state = G_DONE;
	err = g->first_err;
	idx = g->first_index;
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
	if ((g->started && g->state != G_DONE) || g->state == G_WAITING) {
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
