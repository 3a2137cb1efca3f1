/* Unit tests: heartbeats and the watchdog on a fake clock, stepped by hand. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <atomkit/watchdog.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

#define MS AK_NS_PER_MS
#define SEC AK_NS_PER_SEC

static ak_fake_clock fc;
static ak_clock clk;

struct calls {
	int n;
	ak_heartbeat *last;
	ak_watchdog *wd;
	int poll_rc, stop_rc, remove_rc, add_rc;
	ak_heartbeat *extra;
};

static void count_cb(ak_heartbeat *hb, void *arg)
{
	struct calls *c = (struct calls *)arg;
	c->n++;
	c->last = hb;
}

static unsigned poll_at(ak_watchdog *wd, uint64_t t)
{
	unsigned n = 99;
	ak_fake_clock_set(&fc, t);
	CHECK_ST(ak_watchdog_poll(wd, t, &n), AK_OK);
	return n;
}

static void test_misuse(void)
{
	ak_watchdog wd;
	ak_heartbeat hb, hb2;
	unsigned n;

	CHECK_ST(ak_heartbeat_init(NULL, MS, AK_PROGRESS_SINGLE_WRITER, NULL), AK_EINVAL);
	CHECK_ST(ak_heartbeat_init(&hb, 0, AK_PROGRESS_SINGLE_WRITER, NULL), AK_EINVAL);
	CHECK_ST(ak_heartbeat_init(&hb, MS, 5, NULL), AK_EINVAL);
	CHECK_ST(ak_heartbeat_init(&hb, MS, AK_PROGRESS_SINGLE_WRITER, &clk), AK_OK);
	CHECK_ST(ak_heartbeat_init(&hb2, MS, AK_PROGRESS_MULTI_WRITER, &clk), AK_OK);
	CHECK_ST(ak_watchdog_init(NULL, NULL, 0), AK_EINVAL);
	CHECK_ST(ak_watchdog_init(&wd, &clk, 0), AK_OK);
	CHECK_ST(ak_watchdog_add(NULL, &hb, NULL, NULL, NULL), AK_EINVAL);
	CHECK_ST(ak_watchdog_add(&wd, NULL, NULL, NULL, NULL), AK_EINVAL);
	CHECK_ST(ak_watchdog_remove(&wd, &hb), AK_ENOENT);
	CHECK_ST(ak_watchdog_remove(NULL, &hb), AK_EINVAL);
	CHECK_ST(ak_watchdog_remove(&wd, NULL), AK_EINVAL);
	CHECK_ST(ak_watchdog_add(&wd, &hb, NULL, NULL, NULL), AK_OK);
	CHECK_ST(ak_watchdog_add(&wd, &hb, NULL, NULL, NULL), AK_EEXIST);
	CHECK_ST(ak_watchdog_poll(NULL, 0, &n), AK_EINVAL);
	CHECK_ST(ak_watchdog_stop(&wd), AK_ESTATE);
	CHECK_ST(ak_watchdog_stop(NULL), AK_EINVAL);
	CHECK_ST(ak_watchdog_start(NULL), AK_EINVAL);
	CHECK_ST(ak_watchdog_start(&wd), AK_OK);
	CHECK_ST(ak_watchdog_start(&wd), AK_ESTATE);
	CHECK_ST(ak_watchdog_destroy(&wd), AK_EBUSY);
	CHECK_ST(ak_watchdog_stop(&wd), AK_OK);
	CHECK_ST(ak_watchdog_stop(&wd), AK_ESTATE);
	/* restartable */
	CHECK_ST(ak_watchdog_start(&wd), AK_OK);
	CHECK_ST(ak_watchdog_stop(&wd), AK_OK);
	/* destroy detaches what is left: hb can join another watchdog */
	CHECK_ST(ak_watchdog_destroy(&wd), AK_OK);
	CHECK_ST(ak_watchdog_destroy(NULL), AK_EINVAL);
	CHECK_ST(ak_watchdog_init(&wd, &clk, 0), AK_OK);
	CHECK_ST(ak_watchdog_add(&wd, &hb, NULL, NULL, NULL), AK_OK);
	CHECK_ST(ak_watchdog_add(&wd, &hb2, NULL, NULL, NULL), AK_OK);
	CHECK_ST(ak_watchdog_remove(&wd, &hb), AK_OK);
	CHECK_ST(ak_watchdog_remove(&wd, &hb), AK_ENOENT);
	CHECK_ST(ak_watchdog_remove(&wd, &hb2), AK_OK);
	CHECK_ST(ak_watchdog_destroy(&wd), AK_OK);
}

static void test_stall_and_rearm(void)
{
	ak_watchdog wd;
	ak_heartbeat hb, live;
	ak_cancel tok, tok_live;
	struct calls c = { 0 };

	ak_fake_clock_set(&fc, 0);
	CHECK_ST(ak_heartbeat_init(&hb, 100 * MS, AK_PROGRESS_SINGLE_WRITER, &clk), AK_OK);
	CHECK_ST(ak_heartbeat_init(&live, 100 * MS, AK_PROGRESS_SINGLE_WRITER, &clk), AK_OK);
	CHECK_ST(ak_cancel_init(&tok), AK_OK);
	CHECK_ST(ak_cancel_init(&tok_live), AK_OK);
	CHECK_ST(ak_watchdog_init(&wd, &clk, 0), AK_OK);
	CHECK_ST(ak_watchdog_add(&wd, &hb, &tok, count_cb, &c), AK_OK);
	CHECK_ST(ak_watchdog_add(&wd, &live, &tok_live, count_cb, &c), AK_OK);

	/* `live` beats every 60 ms; hb only once, at 30 ms */
	uint64_t t = 0;
	for (int i = 1; i <= 20; i++) {
		t = (uint64_t)i * 10 * MS;
		ak_fake_clock_set(&fc, t);
		if (i % 6 == 0)
			CHECK_ST(ak_heartbeat_beat(&live), AK_OK);
		if (i == 3)
			CHECK_ST(ak_heartbeat_beat(&hb), AK_OK);
		unsigned n = poll_at(&wd, t);
		/* hb last changed at the 30 ms poll: stalled once now - 30 > 100 */
		if (t <= 130 * MS) {
			CHECK_EQ_U64(n, 0);
			CHECK(!ak_cancel_is_set(&tok));
		} else if (t == 140 * MS) {
			CHECK_EQ_U64(n, 1);
		} else {
			CHECK_EQ_U64(n, 0);
		}
	}
	CHECK(ak_cancel_is_set(&tok));
	CHECK_EQ_I64(ak_cancel_cause(&tok), AK_ESTALLED);
	CHECK(!ak_cancel_is_set(&tok_live));
	CHECK_EQ_I64(c.n, 1);
	CHECK(c.last == &hb);
	CHECK_EQ_U64(ak_heartbeat_stalls(&hb), 1);
	CHECK_EQ_U64(ak_heartbeat_stalls(&live), 0);

	/* progress resumes: re-armed, and a second stall is a second episode */
	ak_fake_clock_set(&fc, 300 * MS);
	CHECK_ST(ak_heartbeat_beat(&hb), AK_OK);
	CHECK_ST(ak_heartbeat_beat(&live), AK_OK);
	CHECK_EQ_U64(poll_at(&wd, 300 * MS), 0);
	CHECK_EQ_U64(poll_at(&wd, 400 * MS), 0); /* exactly the interval: not yet */
	CHECK_EQ_U64(poll_at(&wd, 401 * MS), 2); /* both now */
	CHECK_EQ_I64(c.n, 3);
	CHECK_EQ_U64(ak_heartbeat_stalls(&hb), 2);
	CHECK(ak_cancel_is_set(&tok_live));

	/* touch is a sign of life too */
	ak_fake_clock_set(&fc, 500 * MS);
	CHECK_ST(ak_progress_touch(&hb.meter), AK_OK);
	CHECK_EQ_U64(poll_at(&wd, 500 * MS), 0);
	CHECK_EQ_U64(poll_at(&wd, 600 * MS), 0);
	CHECK_EQ_U64(poll_at(&wd, 601 * MS), 1); /* hb; live is still stalled */

	/* a clock stepping back is not a stall */
	CHECK_ST(ak_heartbeat_beat(&hb), AK_OK);
	CHECK_EQ_U64(poll_at(&wd, 700 * MS), 0);
	CHECK_EQ_U64(poll_at(&wd, 10 * MS), 0);
	CHECK_EQ_U64(poll_at(&wd, 800 * MS), 0);

	/* no cancel and no callback: counted only */
	CHECK_ST(ak_heartbeat_beat(&hb), AK_OK); /* keep hb out of this */
	ak_heartbeat quiet;
	CHECK_ST(ak_heartbeat_init(&quiet, 50 * MS, AK_PROGRESS_SINGLE_WRITER, &clk), AK_OK);
	CHECK_ST(ak_watchdog_add(&wd, &quiet, NULL, NULL, NULL), AK_OK);
	CHECK_EQ_U64(poll_at(&wd, 851 * MS), 1);
	CHECK_EQ_U64(ak_heartbeat_stalls(&quiet), 1);
	CHECK_EQ_I64(c.n, 4);

	CHECK_ST(ak_watchdog_remove(&wd, &quiet), AK_OK);
	CHECK_ST(ak_watchdog_remove(&wd, &hb), AK_OK);
	CHECK_ST(ak_watchdog_remove(&wd, &live), AK_OK);
	CHECK_ST(ak_watchdog_destroy(&wd), AK_OK);
	ak_cancel_destroy(&tok);
	ak_cancel_destroy(&tok_live);
}

/* A poll whose `now` was read before the beat it sees (it waited for its
 * turn) must not date the beat early: the stamp is a clock read taken
 * after the snapshot. */
static void test_stale_now(void)
{
	ak_watchdog wd;
	ak_heartbeat hb;

	ak_fake_clock_set(&fc, 0);
	CHECK_ST(ak_heartbeat_init(&hb, 100 * MS, AK_PROGRESS_SINGLE_WRITER, &clk), AK_OK);
	CHECK_ST(ak_watchdog_init(&wd, &clk, 0), AK_OK);
	CHECK_ST(ak_watchdog_add(&wd, &hb, NULL, NULL, NULL), AK_OK);
	ak_fake_clock_set(&fc, 50 * MS);
	CHECK_ST(ak_heartbeat_beat(&hb), AK_OK);
	unsigned n = 99;
	CHECK_ST(ak_watchdog_poll(&wd, 40 * MS, &n), AK_OK); /* now read at 40, before the beat */
	CHECK_EQ_U64(n, 0);
	CHECK_EQ_U64(poll_at(&wd, 145 * MS), 0); /* 95 ms after the beat: not stalled */
	CHECK_EQ_U64(poll_at(&wd, 150 * MS), 0);
	CHECK_EQ_U64(poll_at(&wd, 151 * MS), 1);
	CHECK_ST(ak_watchdog_remove(&wd, &hb), AK_OK);
	CHECK_ST(ak_watchdog_destroy(&wd), AK_OK);
}

/* A callback that removes its own entry, adds another, and tries the calls
 * that would deadlock. */
static void reentrant_cb(ak_heartbeat *hb, void *arg)
{
	struct calls *c = (struct calls *)arg;
	c->n++;
	c->poll_rc = ak_watchdog_poll(c->wd, 0, NULL);
	c->stop_rc = ak_watchdog_stop(c->wd);
	c->remove_rc = ak_watchdog_remove(c->wd, hb);
	c->add_rc = ak_watchdog_add(c->wd, c->extra, NULL, count_cb, c);
	free(hb); /* the poll must not touch hb again (ASan checks) */
}

static void test_reentrant_callback(void)
{
	ak_watchdog wd;
	ak_heartbeat *a = (ak_heartbeat *)aligned_alloc(AK_DESTRUCTIVE_SIZE, sizeof(ak_heartbeat));
	ak_heartbeat b, extra;
	struct calls c = { 0 };

	ak_fake_clock_set(&fc, 0);
	CHECK(a != NULL);
	CHECK_ST(ak_heartbeat_init(a, 10 * MS, AK_PROGRESS_SINGLE_WRITER, &clk), AK_OK);
	CHECK_ST(ak_heartbeat_init(&b, 10 * MS, AK_PROGRESS_SINGLE_WRITER, &clk), AK_OK);
	CHECK_ST(ak_heartbeat_init(&extra, 10 * MS, AK_PROGRESS_SINGLE_WRITER, &clk), AK_OK);
	CHECK_ST(ak_watchdog_init(&wd, &clk, 0), AK_OK);
	c.wd = &wd;
	c.extra = &extra;
	CHECK_ST(ak_watchdog_add(&wd, a, NULL, reentrant_cb, &c), AK_OK);
	CHECK_ST(ak_watchdog_add(&wd, &b, NULL, count_cb, &c), AK_OK);
	/* both stall in one poll; extra is added during it (stall clock from 11) */
	CHECK_EQ_U64(poll_at(&wd, 11 * MS), 2);
	CHECK_EQ_I64(c.n, 2);
	CHECK_ST(c.poll_rc, AK_EBUSY);
	CHECK_ST(c.stop_rc, AK_ESTATE); /* not running; EBUSY case below */
	CHECK_ST(c.remove_rc, AK_OK);
	CHECK_ST(c.add_rc, AK_OK);
	CHECK_EQ_U64(poll_at(&wd, 21 * MS), 0);
	CHECK_EQ_U64(poll_at(&wd, 22 * MS), 1); /* extra */
	CHECK_EQ_I64(c.n, 3);
	CHECK(c.last == &extra);
	CHECK_ST(ak_watchdog_remove(&wd, &b), AK_OK);
	CHECK_ST(ak_watchdog_remove(&wd, &extra), AK_OK);
	CHECK_ST(ak_watchdog_destroy(&wd), AK_OK);
}

/* remove() from another thread waits for a running callback. */
struct blocker {
	ak_watchdog *wd;
	ak_heartbeat *hb;
	_Atomic(int) in_cb, release, cb_done, removed, done_at_remove, remove_rc;
};

static void blocking_cb(ak_heartbeat *hb, void *arg)
{
	struct blocker *b = (struct blocker *)arg;
	(void)hb;
	/* Release/acquire (this test's handshakes): pair with each other. */
	atomic_store_explicit(&b->in_cb, 1, memory_order_release);
	while (!atomic_load_explicit(&b->release, memory_order_acquire))
		usleep(100);
	atomic_store_explicit(&b->cb_done, 1, memory_order_release);
}

static void *poller(void *arg)
{
	struct blocker *b = (struct blocker *)arg;
	ak_watchdog_poll(b->wd, 1 * SEC, NULL);
	return NULL;
}

static void *remover(void *arg)
{
	struct blocker *b = (struct blocker *)arg;
	atomic_store_explicit(&b->remove_rc, ak_watchdog_remove(b->wd, b->hb),
			      memory_order_relaxed);
	/* Acquire: pairs with the release in blocking_cb(). */
	atomic_store_explicit(&b->done_at_remove,
			      atomic_load_explicit(&b->cb_done, memory_order_acquire),
			      memory_order_relaxed);
	atomic_store_explicit(&b->removed, 1, memory_order_release);
	return NULL;
}

static void test_remove_waits_for_callback(void)
{
	ak_watchdog wd;
	ak_heartbeat hb;
	struct blocker b;
	pthread_t tp, tr;

	memset(&b, 0, sizeof(b));
	ak_fake_clock_set(&fc, 0);
	CHECK_ST(ak_heartbeat_init(&hb, 10 * MS, AK_PROGRESS_SINGLE_WRITER, &clk), AK_OK);
	CHECK_ST(ak_watchdog_init(&wd, &clk, 0), AK_OK);
	b.wd = &wd;
	b.hb = &hb;
	CHECK_ST(ak_watchdog_add(&wd, &hb, NULL, blocking_cb, &b), AK_OK);
	CHECK(pthread_create(&tp, NULL, poller, &b) == 0);
	/* Acquire: pairs with the release in blocking_cb(). */
	while (!atomic_load_explicit(&b.in_cb, memory_order_acquire))
		usleep(100);
	CHECK(pthread_create(&tr, NULL, remover, &b) == 0);
	usleep(20000); /* give remove() the chance to return too early */
	CHECK(!atomic_load_explicit(&b.removed, memory_order_acquire));
	/* Release: pairs with the acquire in blocking_cb(). */
	atomic_store_explicit(&b.release, 1, memory_order_release);
	pthread_join(tr, NULL);
	pthread_join(tp, NULL);
	CHECK(atomic_load_explicit(&b.removed, memory_order_acquire));
	CHECK_EQ_I64(atomic_load_explicit(&b.done_at_remove, memory_order_relaxed), 1);
	CHECK_ST(atomic_load_explicit(&b.remove_rc, memory_order_relaxed), AK_OK);
	CHECK_ST(ak_watchdog_destroy(&wd), AK_OK);
}

static void stop_from_cb(ak_heartbeat *hb, void *arg)
{
	struct calls *c = (struct calls *)arg;
	(void)hb;
	c->stop_rc = ak_watchdog_stop(c->wd);
	c->n++;
}

static void test_thread_cancels(void)
{
	ak_watchdog wd;
	ak_heartbeat hb, hb2;
	ak_cancel tok;
	struct calls c = { 0 };

	ak_fake_clock_set(&fc, 0);
	CHECK_ST(ak_heartbeat_init(&hb, 100 * MS, AK_PROGRESS_SINGLE_WRITER, &clk), AK_OK);
	CHECK_ST(ak_cancel_init(&tok), AK_OK);
	CHECK_ST(ak_watchdog_init(&wd, &clk, 0), AK_OK);
	CHECK_ST(ak_watchdog_start(&wd), AK_OK);
	c.wd = &wd;
	CHECK_ST(ak_heartbeat_init(&hb2, 100 * MS, AK_PROGRESS_SINGLE_WRITER, &clk), AK_OK);
	CHECK_ST(ak_watchdog_add(&wd, &hb, &tok, NULL, NULL), AK_OK);
	CHECK_ST(ak_watchdog_add(&wd, &hb2, NULL, stop_from_cb, &c), AK_OK);
	ak_fake_clock_set(&fc, 50 * MS);
	CHECK_ST(ak_heartbeat_beat(&hb), AK_OK);
	/* fake time moves on, 10 ms per real ms, with no more beats: the
	 * thread's polls see the beat, then the stall; real time only bounds
	 * the wait */
	uint64_t give_up = ak_deadline_after(20 * SEC);
	while (ak_cancel_wait(&tok, ak_deadline_after(AK_NS_PER_MS)) == AK_ETIMEDOUT &&
	       ak_now_ns() < give_up)
		ak_fake_clock_advance(&fc, 10 * MS);
	CHECK(ak_cancel_is_set(&tok));
	CHECK_EQ_I64(ak_cancel_cause(&tok), AK_ESTALLED);
	CHECK_ST(ak_watchdog_stop(&wd), AK_OK);
	CHECK_EQ_I64(c.n, 1); /* hb2 stalled too, on the watchdog thread */
	CHECK_ST(c.stop_rc, AK_EBUSY);
	CHECK_ST(ak_watchdog_remove(&wd, &hb), AK_OK);
	CHECK_ST(ak_watchdog_remove(&wd, &hb2), AK_OK);
	CHECK_ST(ak_watchdog_destroy(&wd), AK_OK);
	ak_cancel_destroy(&tok);
}

int main(void)
{
	clk = ak_fake_clock_as_clock(&fc);
	test_misuse();
	test_stall_and_rearm();
	test_stale_now();
	test_reentrant_callback();
	test_remove_waits_for_callback();
	test_thread_cancels();
	return check_report("watchdog");
}
