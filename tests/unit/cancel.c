/* Unit tests: cancel tokens (flag, cause, wait, deadlines, callbacks,
 * trees, signals) and their misuse statuses. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <atomkit/cancel.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

static uint32_t waiters_of(ak_cancel *t)
{
	return atomic_load_explicit(&t->state, memory_order_relaxed) >> 2;
}

static void test_flag(void)
{
	ak_cancel t;

	CHECK_ST(ak_cancel_init(NULL), AK_EINVAL);
	CHECK_ST(ak_cancel_init(&t), AK_OK);
	CHECK(!ak_cancel_is_set(&t));
	CHECK_EQ_I64(ak_cancel_cause(&t), 0);
	CHECK_EQ_U64(ak_cancel_deadline(&t), AK_DEADLINE_NONE);
	CHECK(ak_cancel_request(&t, AK_ECLOSED));
	CHECK(ak_cancel_is_set(&t));
	CHECK_EQ_I64(ak_cancel_cause(&t), AK_ECLOSED);
	/* idempotent: the first cause wins */
	CHECK(!ak_cancel_request(&t, AK_ETIMEDOUT));
	CHECK(!ak_cancel_request(&t, 0));
	CHECK_EQ_I64(ak_cancel_cause(&t), AK_ECLOSED);
	/* no waiter ever registered: the request skipped the futex wake */
	CHECK_EQ_U64(waiters_of(&t), 0);
	CHECK_ST(ak_cancel_destroy(&t), AK_OK);
	CHECK_ST(ak_cancel_destroy(&t), AK_ESTATE);
	CHECK_ST(ak_cancel_destroy(NULL), AK_EINVAL);

	/* cause 0 is stored as AK_ECANCELED; user causes pass through */
	ak_cancel_init(&t);
	CHECK(ak_cancel_request(&t, 0));
	CHECK_EQ_I64(ak_cancel_cause(&t), AK_ECANCELED);
	ak_cancel_init(&t);
	CHECK(ak_cancel_request(&t, -42));
	CHECK_EQ_I64(ak_cancel_cause(&t), -42);

	/* NULL token: never cancelled */
	CHECK(!ak_cancel_is_set(NULL));
	CHECK_EQ_I64(ak_cancel_cause(NULL), 0);
	CHECK(!ak_cancel_request(NULL, 1));
	CHECK_EQ_U64(ak_cancel_deadline(NULL), AK_DEADLINE_NONE);
}

static void test_wait(void)
{
	ak_cancel t;

	ak_cancel_init(&t);
	CHECK_ST(ak_cancel_wait(NULL, 0), AK_EINVAL);
	/* deadline already passed */
	CHECK_ST(ak_cancel_wait(&t, 0), AK_ETIMEDOUT);
	CHECK_ST(ak_cancel_wait(&t, ak_now_ns()), AK_ETIMEDOUT);
	/* a short real deadline must eventually return AK_ETIMEDOUT */
	CHECK_ST(ak_cancel_wait(&t, ak_deadline_after(2 * AK_NS_PER_MS)), AK_ETIMEDOUT);
	CHECK_EQ_U64(waiters_of(&t), 0); /* the timed-out waiter unregistered */
	CHECK(!ak_cancel_is_set(&t));
	ak_cancel_request(&t, AK_EINTR);
	CHECK_ST(ak_cancel_wait(&t, 0), AK_OK); /* cancel wins over a passed deadline */
	CHECK_ST(ak_cancel_wait(&t, AK_DEADLINE_NONE), AK_OK);
	CHECK_ST(ak_cancel_destroy(&t), AK_OK);
	CHECK_ST(ak_cancel_wait(&t, 0), AK_ESTATE);
}

struct waiter_arg {
	ak_cancel *t;
	ak_status rc;
	int cause;
};

static void *waiter_main(void *p)
{
	struct waiter_arg *w = (struct waiter_arg *)p;
	w->rc = ak_cancel_wait(w->t, AK_DEADLINE_NONE);
	w->cause = ak_cancel_cause(w->t);
	return NULL;
}

static void test_wait_wakes(void)
{
	ak_cancel t;
	pthread_t th[3];
	struct waiter_arg w[3];

	ak_cancel_init(&t);
	for (int i = 0; i < 3; i++) {
		w[i].t = &t;
		w[i].rc = AK_EINVAL;
		w[i].cause = 0;
		pthread_create(&th[i], NULL, waiter_main, &w[i]);
	}
	/* let them block (not required for correctness: either order works) */
	while (waiters_of(&t) < 3)
		sleep_ms(1);
	CHECK_ST(ak_cancel_destroy(&t), AK_EBUSY); /* threads wait */
	CHECK(ak_cancel_request(&t, AK_ECLOSED));
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		CHECK_ST(w[i].rc, AK_OK);
		CHECK_EQ_I64(w[i].cause, AK_ECLOSED);
	}
	CHECK_EQ_U64(waiters_of(&t), 0);
	CHECK_ST(ak_cancel_destroy(&t), AK_OK);
}

static int counter_a, counter_b;
static void bump(void *arg)
{
	(*(int *)arg)++;
}

static void test_deadline_fake(void)
{
	ak_fake_clock fc;
	ak_clock clk;
	ak_cancel t;
	ak_cancel_cb cb = { 0 };

	ak_fake_clock_set(&fc, 1000);
	clk = ak_fake_clock_as_clock(&fc);
	CHECK_ST(ak_cancel_init_deadline(NULL, 5000, &clk), AK_EINVAL);
	CHECK_ST(ak_cancel_init_deadline(&t, 5000, &clk), AK_OK);
	CHECK_EQ_U64(ak_cancel_deadline(&t), 5000);
	counter_a = 0;
	CHECK_ST(ak_cancel_cb_register(&t, &cb, bump, &counter_a), AK_OK);
	CHECK(!ak_cancel_is_set(&t));
	CHECK_EQ_I64(ak_cancel_cause(&t), 0);
	ak_fake_clock_set(&fc, 4999);
	CHECK(!ak_cancel_is_set(&t));
	CHECK_EQ_I64(counter_a, 0);
	ak_fake_clock_set(&fc, 5000);
	CHECK(ak_cancel_is_set(&t));
	CHECK_EQ_I64(ak_cancel_cause(&t), AK_ETIMEDOUT);
	CHECK_EQ_I64(counter_a, 1); /* ran once, at the first expired check */
	CHECK(ak_cancel_is_set(&t));
	CHECK_EQ_I64(counter_a, 1);
	/* an explicit request after expiry loses */
	CHECK(!ak_cancel_request(&t, AK_ECLOSED));
	CHECK_EQ_I64(ak_cancel_cause(&t), AK_ETIMEDOUT);
	CHECK_ST(ak_cancel_wait(&t, 0), AK_OK);
	/* clock stepping back does not un-cancel */
	ak_fake_clock_set(&fc, 0);
	CHECK(ak_cancel_is_set(&t));
	CHECK_ST(ak_cancel_cb_deregister(&t, &cb), AK_OK); /* already ran */
	CHECK_ST(ak_cancel_destroy(&t), AK_OK);

	/* cancelled before the deadline: the deadline no longer matters */
	ak_fake_clock_set(&fc, 0);
	ak_cancel_init_deadline(&t, 10, &clk);
	CHECK(ak_cancel_request(&t, AK_ECLOSED));
	ak_fake_clock_set(&fc, 100);
	CHECK_EQ_I64(ak_cancel_cause(&t), AK_ECLOSED);
	ak_cancel_destroy(&t);
}

static void test_deadline_wait(void)
{
	ak_cancel t;
	ak_fake_clock fc;
	ak_clock clk;

	/* monotonic deadline token: an unbounded wait returns when it expires */
	ak_cancel_init_deadline(&t, ak_deadline_after(3 * AK_NS_PER_MS), NULL);
	CHECK_ST(ak_cancel_wait(&t, AK_DEADLINE_NONE), AK_OK);
	CHECK_EQ_I64(ak_cancel_cause(&t), AK_ETIMEDOUT);
	ak_cancel_destroy(&t);

	/* the caller's deadline comes first: AK_ETIMEDOUT, token untouched */
	ak_cancel_init_deadline(&t, ak_deadline_after(3600 * AK_NS_PER_SEC), NULL);
	CHECK_ST(ak_cancel_wait(&t, ak_deadline_after(AK_NS_PER_MS)), AK_ETIMEDOUT);
	CHECK(!ak_cancel_is_set(&t));
	ak_cancel_destroy(&t);

	/* fake clock: a wait notices the fake deadline by polling */
	ak_fake_clock_set(&fc, 0);
	clk = ak_fake_clock_as_clock(&fc);
	ak_cancel_init_deadline(&t, 50, &clk);
	CHECK_ST(ak_cancel_wait(&t, ak_deadline_after(AK_NS_PER_MS)), AK_ETIMEDOUT);
	ak_fake_clock_set(&fc, 60);
	CHECK_ST(ak_cancel_wait(&t, AK_DEADLINE_NONE), AK_OK);
	CHECK_EQ_I64(ak_cancel_cause(&t), AK_ETIMEDOUT);
	ak_cancel_destroy(&t);
}

static ak_cancel cb_tok;
static ak_cancel_cb cb_self, cb_other, cb_victim;
static int self_rc = -1, victim_runs, destroy_rc = -1;

static void self_deregister(void *arg)
{
	(void)arg;
	self_rc = ak_cancel_cb_deregister(&cb_tok, &cb_self);
	destroy_rc = ak_cancel_destroy(&cb_tok);
	/* remove a callback that has not run yet: it must not run */
	(void)ak_cancel_cb_deregister(&cb_tok, &cb_victim);
}

static void test_callbacks(void)
{
	ak_cancel t, other;
	ak_cancel_cb a = { 0 }, b = { 0 }, late = { 0 }, fresh = { 0 };

	ak_cancel_init(&t);
	ak_cancel_init(&other);
	counter_a = counter_b = 0;
	CHECK_ST(ak_cancel_cb_register(NULL, &a, bump, &counter_a), AK_EINVAL);
	CHECK_ST(ak_cancel_cb_register(&t, NULL, bump, &counter_a), AK_EINVAL);
	CHECK_ST(ak_cancel_cb_register(&t, &a, NULL, &counter_a), AK_EINVAL);
	CHECK_ST(ak_cancel_cb_register(&t, &a, bump, &counter_a), AK_OK);
	CHECK_ST(ak_cancel_cb_register(&t, &a, bump, &counter_a), AK_EBUSY);
	CHECK_ST(ak_cancel_cb_register(&t, &b, bump, &counter_b), AK_OK);
	/* deregister before cancel: b never runs */
	CHECK_ST(ak_cancel_cb_deregister(&t, &b), AK_OK);
	CHECK_ST(ak_cancel_cb_deregister(&t, &b), AK_ENOENT);
	CHECK(!ak_cancel_cb_ran(&b));
	CHECK(!ak_cancel_cb_ran(NULL));
	CHECK_ST(ak_cancel_cb_deregister(&t, &fresh), AK_ENOENT); /* never registered */
	CHECK_ST(ak_cancel_cb_deregister(&other, &a), AK_EINVAL); /* a is t's */
	CHECK_ST(ak_cancel_cb_deregister(NULL, &a), AK_EINVAL);
	CHECK_ST(ak_cancel_destroy(&t), AK_EBUSY); /* a still registered */
	CHECK(ak_cancel_is_set(&t) == false);

	CHECK(ak_cancel_request(&t, AK_ECLOSED));
	CHECK_EQ_I64(counter_a, 1);
	CHECK_EQ_I64(counter_b, 0);
	ak_cancel_request(&t, AK_ECLOSED);
	CHECK_EQ_I64(counter_a, 1); /* exactly once */
	CHECK_ST(ak_cancel_cb_deregister(&t, &a), AK_OK); /* already ran: ok */
	CHECK(ak_cancel_cb_ran(&a));
	CHECK(!ak_cancel_cb_ran(&b));

	/* registering after the cancel runs at once, in the call */
	CHECK_ST(ak_cancel_cb_register(&t, &late, bump, &counter_b), AK_OK);
	CHECK_EQ_I64(counter_b, 1);
	/* a node may be reused once it ran */
	CHECK_ST(ak_cancel_cb_register(&other, &a, bump, &counter_a), AK_OK);
	CHECK_ST(ak_cancel_destroy(&t), AK_OK);
	CHECK_ST(ak_cancel_cb_register(&t, &b, bump, &counter_b), AK_ESTATE);
	CHECK_ST(ak_cancel_cb_deregister(&t, &b), AK_ESTATE);
	CHECK_ST(ak_cancel_cb_deregister(&other, &a), AK_OK);
	CHECK_ST(ak_cancel_destroy(&other), AK_OK);

	/* deregistration from inside the callback itself: no deadlock; a
	 * destroy from inside a callback is refused; a callback can remove
	 * one that has not run yet */
	ak_cancel_init(&cb_tok);
	victim_runs = 0;
	/* the list runs newest first: register the victim before self */
	CHECK_ST(ak_cancel_cb_register(&cb_tok, &cb_victim, bump, &victim_runs), AK_OK);
	CHECK_ST(ak_cancel_cb_register(&cb_tok, &cb_self, self_deregister, NULL), AK_OK);
	ak_cancel_request(&cb_tok, 1);
	CHECK_ST(self_rc, AK_OK);
	CHECK_ST(destroy_rc, AK_EBUSY);
	CHECK_EQ_I64(victim_runs, 0);
	/* inline run (already cancelled) also allows self-deregistration */
	self_rc = -1;
	CHECK_ST(ak_cancel_cb_register(&cb_tok, &cb_self, self_deregister, NULL), AK_OK);
	CHECK_ST(self_rc, AK_OK);
	CHECK_ST(destroy_rc, AK_EBUSY);
	CHECK_ST(ak_cancel_cb_deregister(&cb_tok, &cb_other), AK_ENOENT);
	CHECK_ST(ak_cancel_destroy(&cb_tok), AK_OK);
}

/* deregister from another thread waits until the running fn returned */
static _Atomic(int) slow_entered, slow_go, slow_done;
static void slow_cb(void *arg)
{
	(void)arg;
	atomic_store_explicit(&slow_entered, 1, memory_order_release);
	while (!atomic_load_explicit(&slow_go, memory_order_acquire))
		sleep_ms(1);
	atomic_store_explicit(&slow_done, 1, memory_order_release);
}
static void *canceller_main(void *p)
{
	ak_cancel_request((ak_cancel *)p, 7);
	return NULL;
}
static void *releaser_main(void *p)
{
	(void)p;
	sleep_ms(20);
	atomic_store_explicit(&slow_go, 1, memory_order_release);
	return NULL;
}

static void test_deregister_waits(void)
{
	ak_cancel t;
	ak_cancel_cb cb = { 0 };
	pthread_t c, r;

	ak_cancel_init(&t);
	ak_cancel_cb_register(&t, &cb, slow_cb, NULL);
	pthread_create(&c, NULL, canceller_main, &t);
	while (!atomic_load_explicit(&slow_entered, memory_order_acquire))
		sleep_ms(1);
	CHECK_ST(ak_cancel_destroy(&t), AK_EBUSY); /* a callback is running */
	pthread_create(&r, NULL, releaser_main, NULL);
	CHECK_ST(ak_cancel_cb_deregister(&t, &cb), AK_OK);
	/* deregister returned: fn must have finished */
	CHECK(atomic_load_explicit(&slow_done, memory_order_acquire) == 1);
	pthread_join(c, NULL);
	pthread_join(r, NULL);
	CHECK_ST(ak_cancel_destroy(&t), AK_OK);
}

static void test_tree(void)
{
	ak_cancel root, mid, leaf, other;
	ak_cancel_cb cb = { 0 };
	ak_fake_clock fc;
	ak_clock clk;

	ak_cancel_init(&root);
	CHECK_ST(ak_cancel_init_child(NULL, &root), AK_EINVAL);
	CHECK_ST(ak_cancel_init_child(&root, &root), AK_EINVAL);
	CHECK_ST(ak_cancel_init_child(&mid, &root), AK_OK);
	CHECK_ST(ak_cancel_init_child(&leaf, &mid), AK_OK);
	CHECK_ST(ak_cancel_init_child(&other, &root), AK_OK);
	counter_a = 0;
	ak_cancel_cb_register(&leaf, &cb, bump, &counter_a);
	CHECK_ST(ak_cancel_destroy(&root), AK_EBUSY); /* children linked */

	/* cancelling a child leaves the parent and siblings alone */
	CHECK(ak_cancel_request(&other, AK_ECLOSED));
	CHECK(!ak_cancel_is_set(&root));
	CHECK(!ak_cancel_is_set(&mid));
	CHECK_ST(ak_cancel_destroy(&other), AK_OK); /* detaches */

	/* the parent's cancel reaches every depth with the parent's cause */
	CHECK(ak_cancel_request(&root, AK_EINTR));
	CHECK(ak_cancel_is_set(&mid));
	CHECK(ak_cancel_is_set(&leaf));
	CHECK_EQ_I64(ak_cancel_cause(&leaf), AK_EINTR);
	CHECK_EQ_I64(counter_a, 1);
	ak_cancel_request(&root, 1);
	ak_cancel_request(&mid, 1);
	CHECK_EQ_I64(counter_a, 1);
	CHECK_ST(ak_cancel_destroy(&root), AK_EBUSY); /* mid still counted */
	CHECK_ST(ak_cancel_cb_deregister(&leaf, &cb), AK_OK); /* ran already */
	CHECK_ST(ak_cancel_destroy(&leaf), AK_OK);
	CHECK_ST(ak_cancel_destroy(&mid), AK_OK);
	CHECK_ST(ak_cancel_destroy(&root), AK_OK);

	/* detached child does not see the parent's cancel */
	ak_cancel_init(&root);
	ak_cancel_init_child(&mid, &root);
	CHECK_ST(ak_cancel_detach(&mid), AK_OK);
	CHECK_ST(ak_cancel_detach(&mid), AK_ENOENT);
	CHECK_ST(ak_cancel_detach(NULL), AK_EINVAL);
	ak_cancel_request(&root, 3);
	CHECK(!ak_cancel_is_set(&mid));
	/* a child of an already-cancelled parent starts cancelled */
	CHECK_ST(ak_cancel_init_child(&leaf, &root), AK_OK);
	CHECK(ak_cancel_is_set(&leaf));
	CHECK_EQ_I64(ak_cancel_cause(&leaf), 3);
	ak_cancel_destroy(&leaf);
	ak_cancel_destroy(&mid);
	ak_cancel_destroy(&root);
	CHECK_ST(ak_cancel_init_child(&mid, &root), AK_ESTATE); /* destroyed parent */

	/* deadline inheritance: the child expires with the parent's deadline */
	ak_fake_clock_set(&fc, 0);
	clk = ak_fake_clock_as_clock(&fc);
	ak_cancel_init_deadline(&root, 100, &clk);
	ak_cancel_init_child(&mid, &root);
	CHECK_EQ_U64(ak_cancel_deadline(&mid), 100);
	ak_fake_clock_set(&fc, 100);
	CHECK(ak_cancel_is_set(&mid)); /* checked only the child */
	CHECK_EQ_I64(ak_cancel_cause(&mid), AK_ETIMEDOUT);
	ak_cancel_destroy(&mid);
	ak_cancel_destroy(&root);
}

/* ---- signals -------------------------------------------------------- */

static pthread_t cb_thread;
static _Atomic(int) sig_cb_runs;
static void sig_cb(void *arg)
{
	(void)arg;
	cb_thread = pthread_self();
	atomic_fetch_add_explicit(&sig_cb_runs, 1, memory_order_relaxed);
}
static void prior_handler(int s)
{
	(void)s;
}

static void test_signals(void)
{
	ak_cancel t;
	ak_cancel_signals s, s2;
	ak_cancel_cb cb = { 0 };
	struct sigaction prior, now;

	memset(&prior, 0, sizeof(prior));
	prior.sa_handler = prior_handler;
	sigemptyset(&prior.sa_mask);
	sigaction(SIGUSR1, &prior, NULL);

	ak_cancel_init(&t);
	CHECK_ST(ak_cancel_on_signals(NULL, &t, 0, SIGUSR1, 0), AK_EINVAL);
	CHECK_ST(ak_cancel_on_signals(&s, NULL, 0, SIGUSR1, 0), AK_EINVAL);
	CHECK_ST(ak_cancel_on_signals(&s, &t, 0, SIGKILL, 0), AK_EINVAL);
	CHECK_ST(ak_cancel_on_signals(&s, &t, 0, 9999, 0), AK_EINVAL);
	CHECK_ST(ak_cancel_on_signals(&s, &t, 0x100, SIGUSR1, 0), AK_EINVAL);
	CHECK_ST(ak_cancel_on_signals(&s, &t, 0, SIGUSR1, SIGUSR1, 0), AK_EINVAL);
	CHECK_ST(ak_cancel_on_signal_list(&s, &t, 0, NULL, 1), AK_EINVAL);
	CHECK_ST(ak_cancel_signals_restore(NULL), AK_EINVAL);

	ak_cancel_cb_register(&t, &cb, sig_cb, NULL);
	CHECK_ST(ak_cancel_on_signals(&s, &t, 0, SIGUSR1, 0), AK_OK);
	CHECK_ST(ak_cancel_on_signals(&s2, &t, 0, SIGUSR2, SIGUSR1, 0), AK_EBUSY);
	CHECK(!ak_cancel_is_set(&t));
	raise(SIGUSR1); /* the handler runs before raise returns */
	CHECK(ak_cancel_is_set(&t));
	CHECK_EQ_I64(ak_cancel_cause(&t), AK_EINTR);
	CHECK_EQ_I64(ak_cancel_signals_last(&s), SIGUSR1);
	CHECK_ST(ak_cancel_wait(&t, AK_DEADLINE_NONE), AK_OK);
	/* restore joins the dispatcher: the callback has run, on it */
	CHECK_ST(ak_cancel_signals_restore(&s), AK_OK);
	CHECK_EQ_I64(atomic_load_explicit(&sig_cb_runs, memory_order_relaxed), 1);
	CHECK(!pthread_equal(cb_thread, pthread_self()));
	CHECK_ST(ak_cancel_signals_restore(&s), AK_ESTATE);
	sigaction(SIGUSR1, NULL, &now);
	CHECK(now.sa_handler == prior_handler);
	/* the signal is free again for a new installation */
	CHECK_ST(ak_cancel_on_signals(&s2, &t, 0, SIGUSR1, 0), AK_OK);
	CHECK_ST(ak_cancel_signals_restore(&s2), AK_OK);
	CHECK_ST(ak_cancel_cb_deregister(&t, &cb), AK_OK);
	CHECK_ST(ak_cancel_destroy(&t), AK_OK);
}

/* A second signal falls through to the default action (in a child). */
static void test_second_signal(void)
{
	pid_t pid = fork();
	int status = 0;

	if (pid == 0) {
		ak_cancel t;
		ak_cancel_signals s;
		ak_cancel_init(&t);
		if (ak_cancel_on_signals(&s, &t, AK_CANCEL_SIG_SECOND_DEFAULT, SIGUSR2, 0) != AK_OK)
			_exit(10);
		raise(SIGUSR2);
		if (!ak_cancel_is_set(&t))
			_exit(11);
		raise(SIGUSR2); /* default action: terminate */
		_exit(12);
	}
	CHECK(pid > 0);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGUSR2);

	/* without the flag, the second signal is absorbed */
	pid = fork();
	if (pid == 0) {
		ak_cancel t;
		ak_cancel_signals s;
		ak_cancel_init(&t);
		ak_cancel_on_signals(&s, &t, 0, SIGUSR2, 0);
		raise(SIGUSR2);
		raise(SIGUSR2);
		_exit(ak_cancel_is_set(&t) && ak_cancel_signals_restore(&s) == AK_OK ? 0 : 13);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
	test_flag();
	test_wait();
	test_wait_wakes();
	test_deadline_fake();
	test_deadline_wait();
	test_callbacks();
	test_deregister_waits();
	test_tree();
	test_signals();
	test_second_signal();
	return check_report("cancel");
}
