/* Unit tests: thread groups (policies, first failure, limit, deadline,
 * parent propagation, nested go, misuse statuses). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <atomkit/group.h>
#include <pthread.h>
#include <time.h>

#include "check.h"

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Worker recipe, chosen by arg. */
struct job {
	int ret;           /* returned value */
	int wait_cancel;   /* block until the token is cancelled first */
	int seen_cause;    /* cause observed after the wait */
	_Atomic(int) ran;
};

static int run_job(ak_cancel *c, void *arg)
{
	struct job *j = (struct job *)arg;
	atomic_fetch_add_explicit(&j->ran, 1, memory_order_relaxed);
	if (j->wait_cancel) {
		if (ak_cancel_wait(c, AK_DEADLINE_NONE) != AK_OK)
			return -1000;
		j->seen_cause = ak_cancel_cause(c);
	}
	return j->ret;
}

static void job_init(struct job *j, int ret, int wait_cancel)
{
	j->ret = ret;
	j->wait_cancel = wait_cancel;
	j->seen_cause = 0;
	atomic_init(&j->ran, 0);
}

static void test_errgroup(void)
{
	ak_group g;
	struct job j[3];
	int idx = 99;

	CHECK_ST(ak_group_init(NULL, NULL, 0), AK_EINVAL);
	CHECK_ST(ak_group_init(&g, NULL, 7), AK_EINVAL);
	CHECK_ST(ak_group_init(&g, NULL, AK_GROUP_CANCEL_ON_ERROR), AK_OK);
	job_init(&j[0], 0, 1);
	job_init(&j[1], 42, 0);
	job_init(&j[2], 0, 1);
	CHECK_ST(ak_group_go(&g, run_job, &j[0]), AK_OK);
	CHECK_ST(ak_group_go(&g, run_job, &j[1]), AK_OK);
	CHECK_ST(ak_group_go(&g, run_job, &j[2]), AK_OK);
	CHECK_ST(ak_group_destroy(&g), AK_EBUSY); /* before wait: refused */
	CHECK_EQ_I64(ak_group_wait(&g, &idx), 42);
	CHECK_EQ_I64(idx, 1);
	CHECK_EQ_I64(j[0].seen_cause, 42);
	CHECK_EQ_I64(j[2].seen_cause, 42);
	for (int i = 0; i < 3; i++)
		CHECK_EQ_I64(atomic_load_explicit(&j[i].ran, memory_order_relaxed), 1);
	/* misuse after wait */
	CHECK_EQ_I64(ak_group_wait(&g, &idx), AK_ESTATE);
	CHECK_EQ_I64(idx, AK_GROUP_NO_WORKER);
	CHECK_ST(ak_group_go(&g, run_job, &j[0]), AK_ESTATE);
	CHECK_ST(ak_group_try_go(&g, run_job, &j[0]), AK_ESTATE);
	CHECK_ST(ak_group_destroy(&g), AK_OK);
	CHECK_ST(ak_group_destroy(&g), AK_ESTATE);
	CHECK_ST(ak_group_destroy(NULL), AK_EINVAL);
	CHECK_EQ_I64(ak_group_wait(NULL, &idx), AK_EINVAL);
	CHECK_EQ_I64(ak_group_wait(&g, NULL), AK_ESTATE);
	CHECK_ST(ak_group_go(&g, run_job, &j[0]), AK_ESTATE);
}

/* Workers that fail because of the cancel do not hide the real failure. */
static int fail_late(ak_cancel *c, void *arg)
{
	(void)arg;
	ak_cancel_wait(c, AK_DEADLINE_NONE);
	return AK_ECANCELED;
}
static int fail_first(ak_cancel *c, void *arg)
{
	(void)c;
	(void)arg;
	return AK_ECLOSED;
}

static void test_first_failure_kept(void)
{
	for (int round = 0; round < 50; round++) {
		ak_group g;
		int idx = -7;
		ak_group_init(&g, NULL, AK_GROUP_CANCEL_ON_ERROR);
		for (int i = 0; i < 3; i++)
			ak_group_go(&g, fail_late, NULL);
		ak_group_go(&g, fail_first, NULL);
		CHECK_EQ_I64(ak_group_wait(&g, &idx), AK_ECLOSED);
		CHECK_EQ_I64(idx, 3);
		ak_group_destroy(&g);
	}
}

static void test_on_return(void)
{
	ak_group g;
	struct job j[3];
	int idx = 99;

	ak_group_init(&g, NULL, AK_GROUP_CANCEL_ON_RETURN);
	job_init(&j[0], 0, 1);
	job_init(&j[1], 0, 1);
	job_init(&j[2], 0, 0); /* returns at once, with success */
	CHECK_ST(ak_group_go(&g, NULL, NULL), AK_EINVAL);
	CHECK_ST(ak_group_go(NULL, run_job, NULL), AK_EINVAL);
	for (int i = 0; i < 3; i++)
		ak_group_go(&g, run_job, &j[i]);
	CHECK_EQ_I64(ak_group_wait(&g, &idx), 0);
	CHECK_EQ_I64(idx, AK_GROUP_NO_WORKER);
	CHECK_EQ_I64(j[0].seen_cause, AK_ECANCELED);
	CHECK_EQ_I64(j[1].seen_cause, AK_ECANCELED);
	CHECK_ST(ak_group_destroy(&g), AK_OK);
}

static _Atomic(int) first_done;
static int never_first(ak_cancel *c, void *arg)
{
	(void)c;
	(void)arg;
	atomic_store_explicit(&first_done, 1, memory_order_release);
	return 7;
}
static int never_second(ak_cancel *c, void *arg)
{
	(void)arg;
	while (!atomic_load_explicit(&first_done, memory_order_acquire))
		sleep_ms(1);
	/* the other worker failed, but this policy cancels nobody */
	return ak_cancel_is_set(c) ? 1 : 0;
}

static void test_never(void)
{
	ak_group g;
	int idx;

	ak_group_init(&g, NULL, AK_GROUP_CANCEL_NEVER);
	ak_group_go(&g, never_first, NULL);
	ak_group_go(&g, never_second, NULL);
	CHECK_EQ_I64(ak_group_wait(&g, &idx), 7);
	CHECK_EQ_I64(idx, 0);
	/* after wait the token is cancelled, as errgroup does */
	CHECK(ak_cancel_is_set(ak_group_token(&g)));
	CHECK(ak_group_token(NULL) == NULL);
	CHECK_ST(ak_group_destroy(&g), AK_OK);
}

/* limit: never more than `limit` running at once */
static _Atomic(int) running, max_running;
static int limited(ak_cancel *c, void *arg)
{
	(void)c;
	(void)arg;
	int now = atomic_fetch_add_explicit(&running, 1, memory_order_relaxed) + 1;
	int m = atomic_load_explicit(&max_running, memory_order_relaxed);
	while (now > m && !atomic_compare_exchange_weak_explicit(&max_running, &m, now,
								 memory_order_relaxed,
								 memory_order_relaxed))
		;
	sleep_ms(2);
	atomic_fetch_sub_explicit(&running, 1, memory_order_relaxed);
	return 0;
}

static void test_limit(void)
{
	ak_group g;
	struct job blocker;

	ak_group_init(&g, NULL, AK_GROUP_CANCEL_ON_ERROR);
	CHECK_ST(ak_group_set_limit(NULL, 2), AK_EINVAL);
	CHECK_ST(ak_group_set_limit(&g, 2), AK_OK);
	for (int i = 0; i < 8; i++)
		CHECK_ST(ak_group_go(&g, limited, NULL), AK_OK);
	CHECK_ST(ak_group_set_limit(&g, 4), AK_ESTATE); /* after go */
	CHECK_EQ_I64(ak_group_wait(&g, NULL), 0);
	CHECK(atomic_load_explicit(&max_running, memory_order_relaxed) <= 2);
	CHECK(atomic_load_explicit(&max_running, memory_order_relaxed) >= 1);
	ak_group_destroy(&g);

	/* try_go at the limit */
	ak_group_init(&g, NULL, AK_GROUP_CANCEL_ON_ERROR);
	ak_group_set_limit(&g, 1);
	job_init(&blocker, 0, 1);
	CHECK_ST(ak_group_try_go(&g, run_job, &blocker), AK_OK);
	CHECK_ST(ak_group_try_go(&g, run_job, &blocker), AK_EBUSY);
	CHECK(ak_group_cancel(&g, AK_ECLOSED));
	CHECK(!ak_group_cancel(&g, AK_ECLOSED));
	CHECK(!ak_group_cancel(NULL, 1));
	CHECK_EQ_I64(ak_group_wait(&g, NULL), 0);
	CHECK_EQ_I64(blocker.seen_cause, AK_ECLOSED);
	CHECK_EQ_I64(atomic_load_explicit(&blocker.ran, memory_order_relaxed), 1);
	ak_group_destroy(&g);
}

static void test_parent(void)
{
	ak_cancel parent, bad;
	ak_group g;
	struct job j;

	ak_cancel_init(&parent);
	ak_cancel_init(&bad);
	ak_cancel_destroy(&bad);
	CHECK_ST(ak_group_init(&g, &bad, AK_GROUP_CANCEL_ON_ERROR), AK_ESTATE);
	CHECK_ST(ak_group_init(&g, &parent, AK_GROUP_CANCEL_ON_ERROR), AK_OK);
	job_init(&j, 0, 1);
	ak_group_go(&g, run_job, &j);
	CHECK_ST(ak_cancel_destroy(&parent), AK_EBUSY); /* the group is its child */
	ak_cancel_request(&parent, AK_EINTR);
	CHECK_EQ_I64(ak_group_wait(&g, NULL), 0);
	CHECK_EQ_I64(j.seen_cause, AK_EINTR);
	CHECK(!ak_cancel_request(ak_group_token(&g), 1)); /* already */
	CHECK_ST(ak_group_destroy(&g), AK_OK);
	CHECK_ST(ak_cancel_destroy(&parent), AK_OK); /* the group detached */
}

/* A worker that never checks the token: only a callback releases it. */
struct gate {
	ak_cancel_cb cb;
	_Atomic(uint32_t) open;
};
static void open_gate(void *arg)
{
	struct gate *gt = (struct gate *)arg;
	atomic_store_explicit(&gt->open, 1, memory_order_release);
}
static int gated(ak_cancel *c, void *arg)
{
	struct gate *gt = (struct gate *)arg;
	ak_cancel_cb_register(c, &gt->cb, open_gate, gt);
	while (!atomic_load_explicit(&gt->open, memory_order_acquire))
		sleep_ms(1);
	ak_cancel_cb_deregister(c, &gt->cb);
	return AK_ETIMEDOUT;
}

static void test_deadline(void)
{
	ak_group g;
	struct gate gt;
	struct job j;
	ak_fake_clock fc;
	ak_clock clk;
	int idx;

	/* real deadline, enforced by the wait even though nobody checks */
	memset(&gt, 0, sizeof(gt));
	atomic_init(&gt.open, 0);
	ak_group_init(&g, NULL, AK_GROUP_CANCEL_ON_ERROR);
	CHECK_ST(ak_group_set_deadline(NULL, 0, NULL), AK_EINVAL);
	CHECK_ST(ak_group_set_deadline(&g, ak_deadline_after(5 * AK_NS_PER_MS), NULL), AK_OK);
	ak_group_go(&g, gated, &gt);
	CHECK_ST(ak_group_set_deadline(&g, 0, NULL), AK_ESTATE); /* after go */
	CHECK_EQ_I64(ak_group_wait(&g, &idx), AK_ETIMEDOUT);
	CHECK_EQ_I64(idx, 0);
	CHECK_EQ_I64(ak_cancel_cause(ak_group_token(&g)), AK_ETIMEDOUT);
	CHECK_ST(ak_group_destroy(&g), AK_OK);

	/* fake-clock deadline: the worker's wait sees it once time moves */
	ak_fake_clock_set(&fc, 0);
	clk = ak_fake_clock_as_clock(&fc);
	ak_group_init(&g, NULL, AK_GROUP_CANCEL_ON_ERROR);
	ak_group_set_deadline(&g, 1000, &clk);
	job_init(&j, 0, 1);
	ak_group_go(&g, run_job, &j);
	ak_fake_clock_set(&fc, 1000);
	CHECK_EQ_I64(ak_group_wait(&g, NULL), 0);
	CHECK_EQ_I64(j.seen_cause, AK_ETIMEDOUT);
	ak_group_destroy(&g);
}

/* Workers start workers while the wait runs; wait from a worker fails. */
static ak_group nest_g;
static _Atomic(int) nested_ran;
static int wait_rc_inside = -1;
static int nested_leaf(ak_cancel *c, void *arg)
{
	(void)c;
	(void)arg;
	atomic_fetch_add_explicit(&nested_ran, 1, memory_order_relaxed);
	return 0;
}
static int nested_parent(ak_cancel *c, void *arg)
{
	(void)c;
	int depth = (int)(intptr_t)arg;
	atomic_fetch_add_explicit(&nested_ran, 1, memory_order_relaxed);
	if (depth == 0)
		wait_rc_inside = ak_group_wait(&nest_g, NULL);
	sleep_ms(2); /* let the main thread enter its wait */
	if (depth < 3)
		ak_group_go(&nest_g, nested_parent, (void *)(intptr_t)(depth + 1));
	ak_group_go(&nest_g, nested_leaf, NULL);
	return 0;
}

static void test_nested(void)
{
	ak_group_init(&nest_g, NULL, AK_GROUP_CANCEL_ON_ERROR);
	ak_group_go(&nest_g, nested_parent, (void *)(intptr_t)0);
	CHECK_EQ_I64(ak_group_wait(&nest_g, NULL), 0);
	/* 4 parents (depth 0..3) + 4 leaves, all joined */
	CHECK_EQ_I64(atomic_load_explicit(&nested_ran, memory_order_relaxed), 8);
	CHECK_EQ_I64(wait_rc_inside, AK_ESTATE);
	CHECK_ST(ak_group_destroy(&nest_g), AK_OK);
}

static void test_destroy_rules(void)
{
	ak_group g;
	ak_cancel_cb cb = { 0 };
	struct gate gt;

	atomic_init(&gt.open, 0);
	/* a group that never started anything may be destroyed directly */
	ak_group_init(&g, NULL, AK_GROUP_CANCEL_NEVER);
	CHECK_ST(ak_group_destroy(&g), AK_OK);
	/* a callback left on the token blocks destroy */
	ak_group_init(&g, NULL, AK_GROUP_CANCEL_NEVER);
	CHECK_ST(ak_cancel_cb_register(ak_group_token(&g), &cb, open_gate, &gt),
		 AK_OK);
	CHECK_ST(ak_group_destroy(&g), AK_EBUSY);
	CHECK_ST(ak_cancel_cb_deregister(ak_group_token(&g), &cb), AK_OK);
	CHECK_ST(ak_group_destroy(&g), AK_OK);
	CHECK_ST(ak_group_set_limit(&g, 1), AK_ESTATE);
}

/* Make the next thread creations fail: a default stack larger than the
 * address space (pthread_create returns EAGAIN; no privilege bypasses it),
 * or restore the saved default. */
static pthread_attr_t saved_default;
static void refuse_threads(int on)
{
	if (on) {
		pthread_attr_t huge;
		CHECK_EQ_I64(pthread_getattr_default_np(&saved_default), 0);
		CHECK_EQ_I64(pthread_attr_init(&huge), 0);
		CHECK_EQ_I64(pthread_attr_setstacksize(&huge, (size_t)1 << 46), 0);
		CHECK_EQ_I64(pthread_setattr_default_np(&huge), 0);
		pthread_attr_destroy(&huge);
	} else {
		CHECK_EQ_I64(pthread_setattr_default_np(&saved_default), 0);
		pthread_attr_destroy(&saved_default);
	}
}

/* A go that fails leaves nothing behind: the group may still be configured
 * and destroyed as if it had not been called, and the next worker gets the
 * index the failed one would have had. */
static void test_failed_go(void)
{
	ak_group g;
	struct job ok, bad;
	int index = 7;

	job_init(&ok, 0, 0);
	job_init(&bad, 5, 0);
	CHECK_ST(ak_group_init(&g, NULL, AK_GROUP_CANCEL_NEVER), AK_OK);
	refuse_threads(1);
	CHECK_ST(ak_group_go(&g, run_job, &ok), AK_EAGAIN);
	CHECK_ST(ak_group_try_go(&g, run_job, &ok), AK_EAGAIN);
	refuse_threads(0);
	CHECK_EQ_I64(atomic_load_explicit(&ok.ran, memory_order_relaxed), 0);
	/* nothing started: destroy is allowed, as are limit and deadline */
	CHECK_ST(ak_group_set_limit(&g, 1), AK_OK);
	CHECK_ST(ak_group_set_deadline(&g, AK_DEADLINE_NONE, NULL), AK_OK);
	CHECK_ST(ak_group_destroy(&g), AK_OK);

	/* after a failed go, a real worker is index 0 and wait reports it */
	CHECK_ST(ak_group_init(&g, NULL, AK_GROUP_CANCEL_NEVER), AK_OK);
	refuse_threads(1);
	CHECK_ST(ak_group_go(&g, run_job, &ok), AK_EAGAIN);
	refuse_threads(0);
	CHECK_ST(ak_group_go(&g, run_job, &bad), AK_OK);
	CHECK_ST(ak_group_destroy(&g), AK_EBUSY); /* a worker was started */
	CHECK_EQ_I64(ak_group_wait(&g, &index), 5);
	CHECK_EQ_I64(index, 0);
	CHECK_EQ_I64(atomic_load_explicit(&bad.ran, memory_order_relaxed), 1);
	CHECK_EQ_I64(atomic_load_explicit(&ok.ran, memory_order_relaxed), 0);
	CHECK_ST(ak_group_destroy(&g), AK_OK);

	/* with a limit of one, a failed go gives its slot back */
	CHECK_ST(ak_group_init(&g, NULL, AK_GROUP_CANCEL_NEVER), AK_OK);
	CHECK_ST(ak_group_set_limit(&g, 1), AK_OK);
	refuse_threads(1);
	CHECK_ST(ak_group_try_go(&g, run_job, &ok), AK_EAGAIN);
	refuse_threads(0);
	CHECK_ST(ak_group_try_go(&g, run_job, &ok), AK_OK);
	CHECK_EQ_I64(ak_group_wait(&g, &index), 0);
	CHECK_EQ_I64(index, AK_GROUP_NO_WORKER);
	CHECK_EQ_I64(atomic_load_explicit(&ok.ran, memory_order_relaxed), 1);
	CHECK_ST(ak_group_destroy(&g), AK_OK);
}

int main(void)
{
	test_errgroup();
	test_first_failure_kept();
	test_on_return();
	test_never();
	test_limit();
	test_parent();
	test_deadline();
	test_nested();
	test_destroy_rules();
	test_failed_go();
	return check_report("group");
}
