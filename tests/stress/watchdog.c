/*
 * Stress: one watchdog over many heartbeats on a fake clock, with its
 * background thread and a driver both polling, while workers beat, stall
 * and churn entries (add/remove while they are being checked).
 *
 * Thread 0 drives epochs: it moves the fake clock to e*D, waits until every
 * worker has beaten its live heartbeats for epoch e, polls, and then checks
 * every heartbeat exactly: a heartbeat whose owner stopped beating at epoch
 * s (its last beat in epoch s-1) must be cancelled, with cause AK_ESTALLED
 * and exactly one callback, from epoch s + I on (interval = I*D + D/2), and
 * must not be before; heartbeats that never stop are never cancelled.
 * Each worker also owns a churn entry with a tiny interval that it adds and
 * removes over and over while polls find it stalled and run its callback;
 * after every remove the callback must not be running and must not run
 * again (checked by a flag the callback sets on entry and clears on exit).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <atomkit/watchdog.h>
#include <sched.h>
#include <string.h>

#include "stress.h"

#define PER_WORKER 16
#define MAXT 64
#define D (10 * AK_NS_PER_MS)
#define I 3
#define INTERVAL (I * D + D / 2)

struct entry {
	ak_heartbeat hb;
	ak_cancel tok;
	uint64_t stop_epoch; /* first epoch without a beat; UINT64_MAX = never */
	_Atomic(uint64_t) callbacks;
};

struct churn {
	ak_heartbeat hb;
	_Atomic(int) in_cb;
	_Atomic(int) removed; /* the callback must never see this set */
	_Atomic(uint64_t) callbacks, late_callbacks, cycles;
};

static struct {
	ak_fake_clock fc;
	ak_clock clk;
	ak_watchdog wd;
	struct entry *entries; /* [MAXT][PER_WORKER] */
	struct churn churn[MAXT];
	uint64_t epochs;
	_Atomic(uint64_t) epoch;
	_Atomic(uint64_t) acks;
	_Atomic(int) done;
	uint64_t checked, stalled_seen, live_seen;
} S;

static void entry_cb(ak_heartbeat *hb, void *arg)
{
	struct entry *e = (struct entry *)arg;
	(void)hb;
	atomic_fetch_add_explicit(&e->callbacks, 1, memory_order_relaxed);
}

static void churn_cb(ak_heartbeat *hb, void *arg)
{
	struct churn *c = (struct churn *)arg;
	(void)hb;
	/* seq_cst: the flags are checked by the owner right after remove();
	 * the watchdog's mutex already orders them, seq_cst keeps the test
	 * independent of that. */
	atomic_store_explicit(&c->in_cb, 1, memory_order_seq_cst);
	if (atomic_load_explicit(&c->removed, memory_order_seq_cst))
		atomic_fetch_add_explicit(&c->late_callbacks, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&c->callbacks, 1, memory_order_relaxed);
	sched_yield(); /* widen the window for a concurrent remove() */
	atomic_store_explicit(&c->in_cb, 0, memory_order_seq_cst);
}

static void worker(struct stress_thread *t)
{
	struct entry *mine = &S.entries[t->id * PER_WORKER];
	struct churn *c = &S.churn[t->id];
	uint64_t seen = 0;
	int added = 0;

	for (;;) {
		/* Acquire: pairs with the release store of epoch by the driver
		 * (the clock was moved before it). */
		uint64_t e = atomic_load_explicit(&S.epoch, memory_order_acquire);
		if (e == seen) {
			/* Acquire: pairs with the driver's release store of done. */
			if (atomic_load_explicit(&S.done, memory_order_acquire))
				break;
			/* between epochs: churn the extra entry */
			if (!added) {
				STRESS_CHECK(ak_heartbeat_init(&c->hb, 1, AK_PROGRESS_SINGLE_WRITER,
							       &S.clk) == AK_OK, "churn init");
				atomic_store_explicit(&c->removed, 0, memory_order_seq_cst);
				STRESS_CHECK(ak_watchdog_add(&S.wd, &c->hb, NULL, churn_cb, c) == AK_OK,
					     "churn add");
				added = 1;
			} else {
				STRESS_CHECK(ak_watchdog_remove(&S.wd, &c->hb) == AK_OK, "churn remove");
				/* seq_cst: see churn_cb */
				STRESS_CHECK(!atomic_load_explicit(&c->in_cb, memory_order_seq_cst),
					     "churn callback still running after remove returned");
				atomic_store_explicit(&c->removed, 1, memory_order_seq_cst);
				atomic_fetch_add_explicit(&c->cycles, 1, memory_order_relaxed);
				added = 0;
			}
			sched_yield();
			continue;
		}
		STRESS_CHECK(e == seen + 1, "worker %u skipped an epoch (%llu -> %llu)", t->id,
			     (unsigned long long)seen, (unsigned long long)e);
		seen = e;
		for (int i = 0; i < PER_WORKER; i++)
			if (e < mine[i].stop_epoch)
				STRESS_CHECK(ak_heartbeat_beat(&mine[i].hb) == AK_OK, "beat");
		/* Release: pairs with the driver's acquire load of acks: our
		 * beats are in before it polls. */
		atomic_fetch_add_explicit(&S.acks, 1, memory_order_release);
	}
	if (added)
		STRESS_CHECK(ak_watchdog_remove(&S.wd, &c->hb) == AK_OK, "churn remove");
}

static void driver(struct stress_thread *t)
{
	unsigned workers = t->nthreads - 1;

	for (uint64_t e = 1; e <= S.epochs; e++) {
		ak_fake_clock_set(&S.fc, e * D);
		/* Release: pairs with the workers' acquire load of epoch. */
		atomic_store_explicit(&S.epoch, e, memory_order_release);
		/* Acquire: pairs with the workers' release increments. */
		while (atomic_load_explicit(&S.acks, memory_order_acquire) < e * workers)
			sched_yield();
		STRESS_CHECK(ak_watchdog_poll(&S.wd, e * D, NULL) == AK_OK, "poll");
		stress_progress(t, e); /* live display, if on */
		/* exact check of every entry */
		for (unsigned w = 1; w <= workers; w++) {
			for (int i = 0; i < PER_WORKER; i++) {
				struct entry *en = &S.entries[w * PER_WORKER + i];
				int want = en->stop_epoch != UINT64_MAX && e >= en->stop_epoch + I;
				int got = ak_cancel_is_set(&en->tok);
				uint64_t cbs = atomic_load_explicit(&en->callbacks, memory_order_relaxed);
				STRESS_CHECK(got == want,
					     "epoch %llu: entry %u/%d (stops at %llu) cancelled=%d, want %d",
					     (unsigned long long)e, w, i,
					     (unsigned long long)en->stop_epoch, got, want);
				STRESS_CHECK(cbs == (uint64_t)want && ak_heartbeat_stalls(&en->hb) == cbs,
					     "epoch %llu: entry %u/%d: %llu callbacks, want %d",
					     (unsigned long long)e, w, i, (unsigned long long)cbs, want);
				if (want)
					STRESS_CHECK(ak_cancel_cause(&en->tok) == AK_ESTALLED, "cause %d",
						     ak_cancel_cause(&en->tok));
				S.checked++;
			}
		}
	}
	/* Release: pairs with the workers' acquire load of done. */
	atomic_store_explicit(&S.done, 1, memory_order_release);
}

static void role(struct stress_thread *t)
{
	if (t->id == 0)
		driver(t);
	else
		worker(t);
}

int main(int argc, char **argv)
{
	struct stress_cfg cfg;
	static struct entry entries[MAXT * PER_WORKER];

	stress_init(&cfg, argc, argv, "watchdog", 4, 3000);
	STRESS_CHECK(cfg.threads >= 2 && cfg.threads <= MAXT, "2..%d threads", MAXT);
	S.epochs = cfg.ops < 20 ? 20 : cfg.ops;
	S.entries = entries;
	ak_fake_clock_set(&S.fc, 0);
	S.clk = ak_fake_clock_as_clock(&S.fc);
	STRESS_CHECK(ak_watchdog_init(&S.wd, &S.clk, 0) == AK_OK, "watchdog init");

	/* Stop epochs: about a third of the entries stall somewhere in the run. */
	struct stress_thread rng = { 0 };
	rng.rng = stress_mix(cfg.seed) | 1;
	uint64_t expect_stalled = 0, total = 0;
	for (unsigned w = 1; w < cfg.threads; w++) {
		for (int i = 0; i < PER_WORKER; i++) {
			struct entry *en = &entries[w * PER_WORKER + i];
			STRESS_CHECK(ak_heartbeat_init(&en->hb, INTERVAL, AK_PROGRESS_SINGLE_WRITER,
						       &S.clk) == AK_OK, "hb init");
			STRESS_CHECK(ak_cancel_init(&en->tok) == AK_OK, "cancel init");
			en->stop_epoch = UINT64_MAX;
			if (stress_below(&rng, 3) == 0)
				en->stop_epoch = 2 + stress_below(&rng, S.epochs - I - 2);
			if (en->stop_epoch != UINT64_MAX)
				expect_stalled++;
			total++;
			STRESS_CHECK(ak_watchdog_add(&S.wd, &en->hb, &en->tok, entry_cb, en) == AK_OK,
				     "add");
		}
	}
	STRESS_CHECK(ak_watchdog_start(&S.wd) == AK_OK, "start");

	stress_run(&cfg, role, NULL);

	STRESS_CHECK(ak_watchdog_stop(&S.wd) == AK_OK, "stop");
	uint64_t cancelled = 0, cycles = 0, churn_cbs = 0, late = 0;
	for (unsigned w = 1; w < cfg.threads; w++) {
		for (int i = 0; i < PER_WORKER; i++) {
			struct entry *en = &entries[w * PER_WORKER + i];
			cancelled += ak_cancel_is_set(&en->tok);
			STRESS_CHECK(ak_watchdog_remove(&S.wd, &en->hb) == AK_OK, "remove");
			ak_cancel_destroy(&en->tok);
		}
		cycles += atomic_load_explicit(&S.churn[w].cycles, memory_order_relaxed);
		churn_cbs += atomic_load_explicit(&S.churn[w].callbacks, memory_order_relaxed);
		late += atomic_load_explicit(&S.churn[w].late_callbacks, memory_order_relaxed);
	}
	STRESS_CHECK(cancelled == expect_stalled, "%llu cancelled, %llu stalled",
		     (unsigned long long)cancelled, (unsigned long long)expect_stalled);
	STRESS_CHECK(late == 0, "%llu churn callbacks after their entry was removed",
		     (unsigned long long)late);
	STRESS_CHECK(ak_watchdog_destroy(&S.wd) == AK_OK, "destroy");
	stress_pass(&cfg,
		    "%llu epochs x %llu entries: %llu exact checks, exactly the %llu stalled "
		    "cancelled (AK_ESTALLED, 1 callback each), 0 of %llu live; %llu add/remove "
		    "churn cycles racing %llu callbacks, 0 after remove",
		    (unsigned long long)S.epochs, (unsigned long long)total,
		    (unsigned long long)S.checked, (unsigned long long)expect_stalled,
		    (unsigned long long)(total - expect_stalled), (unsigned long long)cycles,
		    (unsigned long long)churn_cbs);
	return 0;
}
