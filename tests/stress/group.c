/*
 * Stress: thread groups whose workers fail at random.
 *
 * The stress threads each run `ops` rounds; a round builds a group with a
 * random policy (and sometimes a limit or a parent token cancelled
 * concurrently) and starts 2..6 workers, some of which start a nested
 * worker.  A worker either fails at once with a code naming it, succeeds
 * after a little work, or (when the round guarantees a cancel) waits for
 * the token.  Invariants, counted:
 *   first failure  wait returns a code some worker returned, with that
 *                  worker's index; 0 and AK_GROUP_NO_WORKER iff none failed;
 *                  with exactly one failer, exactly its code and index
 *   cancel policy  ON_ERROR with a failure / ON_RETURN: every waiting worker
 *                  woke with a cause; NEVER: no worker saw a cancel before
 *                  the wait returned
 *   joined         every started worker ran exactly once and had finished
 *                  when wait returned; the process's thread count is back
 *                  to the baseline at the end (no leaked thread)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <atomkit/group.h>
#include <dirent.h>
#include <sched.h>
#include <string.h>

#include "stress.h"

#define MAXT 64
#define MAXW 6

enum { ACT_FAIL, ACT_OK, ACT_WAIT };

struct wk {
	ak_group *g;
	int act;
	int code;
	int nest;            /* start one more worker from inside */
	_Atomic(int) *all_started; /* nested go waits for it: keeps indexes = w[] order */
	_Atomic(int) ran;
	_Atomic(int) finished;
	int saw_cancel;
	struct wk *child;
};

static int nested_fn(ak_cancel *c, void *arg)
{
	struct wk *w = (struct wk *)arg;
	(void)c;
	atomic_fetch_add_explicit(&w->ran, 1, memory_order_relaxed);
	atomic_store_explicit(&w->finished, 1, memory_order_release);
	return 0;
}

static int worker_fn(ak_cancel *c, void *arg)
{
	struct wk *w = (struct wk *)arg;
	int rc = 0;

	atomic_fetch_add_explicit(&w->ran, 1, memory_order_relaxed);
	if (w->nest) {
		while (!atomic_load_explicit(w->all_started, memory_order_acquire))
			sched_yield();
		if (ak_group_go(w->g, nested_fn, w->child) != AK_OK)
			rc = -1;
	}
	switch (w->act) {
	case ACT_FAIL:
		rc = rc ? rc : w->code;
		break;
	case ACT_OK:
		for (int i = 0; i < 50 && !ak_cancel_is_set(c); i++)
			sched_yield();
		break;
	default:
		if (ak_cancel_wait(c, AK_DEADLINE_NONE) != AK_OK)
			rc = -2;
		break;
	}
	w->saw_cancel = ak_cancel_is_set(c);
	atomic_store_explicit(&w->finished, 1, memory_order_release);
	return rc;
}

struct tally {
	uint64_t rounds, workers, failures, waits, bad;
};

struct shared {
	struct tally t[MAXT];
};

static void worker(struct stress_thread *th)
{
	struct shared *s = th->arg;
	struct tally *ty = &s->t[th->id];

	for (uint64_t r = 0; r < th->ops; r++) {
		ak_group g;
		ak_cancel parent;
		struct wk w[MAXW], nested[MAXW];
		int policy = (int)stress_below(th, 3);
		int nw = 2 + (int)stress_below(th, MAXW - 1);
		int nfail = 0, use_parent = stress_below(th, 4) == 0;
		int idx = -5, err;
		_Atomic(int) all_started;

		atomic_init(&all_started, 0);

		if (use_parent)
			ak_cancel_init(&parent);
		if (ak_group_init(&g, use_parent ? &parent : NULL, policy) != AK_OK) {
			ty->bad++;
			continue;
		}
		if (stress_below(th, 3) == 0)
			ak_group_set_limit(&g, 1 + (unsigned)stress_below(th, 3));
		memset(w, 0, sizeof(w));
		memset(nested, 0, sizeof(nested));
		for (int i = 0; i < nw; i++) {
			uint64_t p = stress_below(th, 10);
			w[i].g = &g;
			w[i].code = 100 + i;
			w[i].act = p < 2 ? ACT_FAIL : p < 6 ? ACT_OK : ACT_WAIT;
			/* nested go would block at a limit while holding a slot */
			w[i].nest = !g.limit && stress_below(th, 4) == 0;
			w[i].all_started = &all_started;
			w[i].child = &nested[i];
			if (w[i].act == ACT_FAIL)
				nfail++;
		}
		/* A waiter needs someone to cancel: ON_ERROR needs a failure,
		 * ON_RETURN a returner, NEVER nothing ever; a limit also needs
		 * the waiters not to fill every slot first, so with a limit,
		 * waiters only exist when a cancel comes from the parent. */
		int cancel_guaranteed = (policy == AK_GROUP_CANCEL_ON_ERROR && nfail > 0) ||
					policy == AK_GROUP_CANCEL_ON_RETURN;
		if (g.limit || !cancel_guaranteed) {
			for (int i = 0; i < nw; i++)
				if (w[i].act == ACT_WAIT)
					w[i].act = use_parent && !g.limit ? ACT_WAIT : ACT_OK;
		}
		if (policy == AK_GROUP_CANCEL_ON_RETURN && !g.limit) {
			int any = 0;
			for (int i = 0; i < nw; i++)
				any |= w[i].act != ACT_WAIT;
			if (!any)
				w[0].act = ACT_OK;
		}
		for (int i = 0; i < nw; i++)
			if (ak_group_go(&g, worker_fn, &w[i]) != AK_OK)
				ty->bad++;
		atomic_store_explicit(&all_started, 1, memory_order_release);
		if (use_parent)
			ak_cancel_request(&parent, AK_EINTR);
		err = ak_group_wait(&g, &idx);

		/* first failure */
		if (nfail == 0) {
			/* nested go never fails here: wait runs only after all
			 * workers ran, and nested go happens inside them */
			if (err != 0 || idx != AK_GROUP_NO_WORKER)
				ty->bad++;
		} else if (idx < 0 || idx >= nw || err == 0) {
			/* top-level workers have indexes 0..nw-1; nested ones
			 * (started after all of them) return 0 */
			ty->bad++;
		} else if (w[idx].act != ACT_FAIL || err != w[idx].code) {
			ty->bad++;
		} else if (nfail == 1) {
			for (int i = 0; i < nw; i++)
				if (w[i].act == ACT_FAIL && (i != idx || err != 100 + i))
					ty->bad++;
		}
		/* joined, ran once, policy */
		for (int i = 0; i < nw; i++) {
			if (atomic_load_explicit(&w[i].ran, memory_order_relaxed) != 1 ||
			    !atomic_load_explicit(&w[i].finished, memory_order_acquire))
				ty->bad++;
			if (w[i].nest &&
			    (atomic_load_explicit(&nested[i].ran, memory_order_relaxed) != 1 ||
			     !atomic_load_explicit(&nested[i].finished, memory_order_acquire)))
				ty->bad++;
			if (w[i].act == ACT_WAIT) {
				ty->waits++;
				if (!w[i].saw_cancel)
					ty->bad++;
			}
			if (policy == AK_GROUP_CANCEL_NEVER && !use_parent && w[i].saw_cancel)
				ty->bad++;
			ty->workers += 1 + (unsigned)w[i].nest;
		}
		if (ak_group_destroy(&g) != AK_OK)
			ty->bad++;
		if (use_parent && ak_cancel_destroy(&parent) != AK_OK)
			ty->bad++;
		ty->failures += (uint64_t)nfail;
		ty->rounds++;
	}
}

static void *nothing(void *p)
{
	return p;
}

static int count_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	struct stress_cfg cfg;
	static struct shared s;
	struct tally sum = { 0, 0, 0, 0, 0 };
	int before, after;

	stress_init(&cfg, argc, argv, "group", 4, 250);
	STRESS_CHECK(cfg.threads <= MAXT, "at most %d threads", MAXT);
	/* a first thread makes runtimes (TSan) start their helper threads */
	pthread_t warm;
	pthread_create(&warm, NULL, nothing, NULL);
	pthread_join(warm, NULL);
	before = count_threads();
	stress_run(&cfg, worker, &s);
	after = count_threads();
	for (unsigned i = 0; i < cfg.threads; i++) {
		sum.rounds += s.t[i].rounds;
		sum.workers += s.t[i].workers;
		sum.failures += s.t[i].failures;
		sum.waits += s.t[i].waits;
		sum.bad += s.t[i].bad;
	}
	STRESS_CHECK(before > 0 && after == before, "threads before %d, after %d (leak)", before,
		     after);
	STRESS_CHECK(sum.rounds == (uint64_t)cfg.threads * cfg.ops, "rounds %llu",
		     (unsigned long long)sum.rounds);
	STRESS_CHECK(sum.bad == 0, "%llu violations (first failure, join, policy)",
		     (unsigned long long)sum.bad);
	stress_pass(&cfg,
		    "%llu groups, %llu workers joined (each ran once), %llu random failures, "
		    "first failure + index verified, %llu cancel-waiters woke; threads %d before "
		    "= %d after, 0 leaked",
		    (unsigned long long)sum.rounds, (unsigned long long)sum.workers,
		    (unsigned long long)sum.failures, (unsigned long long)sum.waits, before, after);
	return 0;
}
