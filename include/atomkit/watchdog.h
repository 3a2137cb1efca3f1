/*
 * atomkit/watchdog.h - heartbeats and a stall watchdog.
 *
 * Overview
 *   ak_heartbeat  a progress meter (ak_progress) plus the interval within
 *                 which its owner promises to make progress.  The worker
 *                 beats (ak_heartbeat_beat) or adds items to hb->meter.
 *   ak_watchdog   one observer over many heartbeats: when one shows no
 *                 progress for longer than its interval, the watchdog
 *                 cancels the entry's ak_cancel token with cause AK_ESTALLED
 *                 and/or calls the entry's callback.  It runs either on its
 *                 own thread (ak_watchdog_start/stop) or step by step
 *                 (ak_watchdog_poll(wd, now)), which makes tests
 *                 deterministic with a fake clock.
 *
 * Contract
 *   - Stalled means: the heartbeat's snapshot (count, last_ns) has not
 *     changed for more than interval_ns of watchdog time, measured from the
 *     poll that first saw the current snapshot (or from ak_watchdog_add).
 *     Both a beat and ak_progress_touch() count as signs of life.  Since
 *     the stall clock starts when the watchdog *sees* a change, it never
 *     reports a heartbeat that made progress within the interval; it may
 *     report up to one poll period late.  Beat at least every interval/2
 *     (the systemd rule) to stay clear of it.
 *   - A stall is reported once per episode: cancel (if a token was given),
 *     then the callback (if given), on the polling thread, with no watchdog
 *     lock held.  When progress resumes the entry re-arms.
 *   - The callback may call ak_watchdog_add/remove (including removing its
 *     own entry) and ak_cancel_*; ak_watchdog_poll and ak_watchdog_stop from
 *     a callback return AK_EBUSY instead of deadlocking.
 *   - ak_watchdog_remove() returns only when the watchdog no longer touches
 *     the entry: if its stall callback is running on another thread, remove
 *     waits for it to return.  After that the caller may free the entry and
 *     its cancel token.
 *   - Time: every decision uses the watchdog's ak_clock.  The background
 *     thread sleeps in real time between polls (period_ns, or by default a
 *     quarter of the shortest interval, clamped to [1 ms, 1 s]).  A clock
 *     that steps back is not a stall.
 *
 * Progress
 *   ak_heartbeat_beat: as ak_progress_add (wait-free in single-writer mode).
 *   The watchdog side is blocking (a mutex over the entry list); it never
 *   blocks the workers it watches.
 *
 * Example
 *     ak_heartbeat hb;  ak_cancel job;  ak_watchdog wd;
 *     ak_heartbeat_init(&hb, 100 * AK_NS_PER_MS, AK_PROGRESS_SINGLE_WRITER, NULL);
 *     ak_watchdog_init(&wd, NULL, 0);
 *     ak_watchdog_add(&wd, &hb, &job, NULL, NULL);
 *     ak_watchdog_start(&wd);
 *     while (!ak_cancel_is_set(&job)) { step(); ak_heartbeat_beat(&hb); }
 *     ak_watchdog_remove(&wd, &hb);  ak_watchdog_stop(&wd);
 */
#ifndef ATOMKIT_WATCHDOG_H
#define ATOMKIT_WATCHDOG_H

#include <pthread.h>

#include "cancel.h"
#include "clock.h"
#include "internal/compiler.h"
#include "progress.h"
#include "status.h"

AK_BEGIN_DECLS

typedef struct ak_watchdog ak_watchdog;
typedef struct ak_heartbeat ak_heartbeat;

/* Called once per stall episode on the polling thread. */
typedef void (*ak_watchdog_fn)(ak_heartbeat *hb, void *arg);

struct ak_heartbeat {
	ak_progress meter;    /* the worker writes this */
	uint64_t interval_ns; /* progress promised at least this often */
	/* Below: the watchdog's, under its lock. */
	ak_watchdog *owner_;
	ak_heartbeat *next_, *prev_;
	ak_cancel *cancel_;
	ak_watchdog_fn fn_;
	void *arg_;
	uint64_t seen_count_, seen_last_, seen_at_, pass_;
	int stalled_, busy_;
	_Atomic(uint64_t) stalls_; /* stall episodes reported so far */
};

/*
 * A heartbeat with a fresh meter (total unknown).  interval_ns > 0.  mode
 * and clock as for ak_progress_init (the meter's clock stamps last_ns; the
 * watchdog uses its own).  AK_EINVAL on NULL, zero interval or a bad mode.
 * Not while the heartbeat is registered with a watchdog (remove it first).
 */
ak_status ak_heartbeat_init(ak_heartbeat *hb, uint64_t interval_ns, unsigned mode,
			    const ak_clock *clock);

/* One unit of progress now.  Same cost and rules as ak_progress_add(). */
AK_INLINE AK_NONNULL(1) ak_status ak_heartbeat_beat(ak_heartbeat *hb)
{
	return ak_progress_add(&hb->meter, 1);
}

/* Stall episodes reported for hb so far (relaxed; any thread). */
AK_INLINE uint64_t ak_heartbeat_stalls(const ak_heartbeat *hb)
{
	return atomic_load_explicit(&((ak_heartbeat *)(uintptr_t)hb)->stalls_,
				    memory_order_relaxed);
}

struct ak_watchdog {
	pthread_mutex_t mu;      /* entry list and entry state */
	pthread_mutex_t poll_mu; /* one poll at a time */
	pthread_cond_t idle;     /* a stall callback returned */
	ak_clock clock;
	uint64_t period_ns;      /* 0: automatic */
	ak_heartbeat *head;
	uint64_t pass;
	unsigned count;
	/* the poll in progress */
	int polling;
	pthread_t poller;
	ak_heartbeat *cur;       /* entry whose callback runs */
	int cur_removed;
	/* the background thread */
	int running;
	int stop;
	pthread_t thread;
	_Atomic(uint32_t) wake; /* futex word: bumped to wake the thread */
};

/*
 * clock NULL: CLOCK_MONOTONIC.  period_ns 0: automatic (see Contract).
 * AK_EINVAL on NULL; AK_ESYS if a mutex could not be made.
 */
ak_status ak_watchdog_init(ak_watchdog *wd, const ak_clock *clock, uint64_t period_ns);

/* Not while running (AK_EBUSY).  Entries still registered are detached
 * (they may be added to another watchdog).  AK_EINVAL on NULL. */
ak_status ak_watchdog_destroy(ak_watchdog *wd);

/*
 * Watch hb.  On a stall: ak_cancel_request(cancel, AK_ESTALLED) if cancel
 * is not NULL, then fn(hb, arg) if fn is not NULL (both NULL is allowed:
 * only ak_heartbeat_stalls() counts).  The stall clock starts now.  Any
 * thread, running or not.  AK_EINVAL (NULL wd or hb), AK_EEXIST (hb is
 * already watched by a watchdog).
 */
ak_status ak_watchdog_add(ak_watchdog *wd, ak_heartbeat *hb, ak_cancel *cancel,
			  ak_watchdog_fn fn, void *arg);

/* Stop watching hb (see Contract for the waiting rule).  AK_EINVAL on NULL,
 * AK_ENOENT if hb is not watched by wd. */
ak_status ak_watchdog_remove(ak_watchdog *wd, ak_heartbeat *hb);

/*
 * One check of every entry at time now_ns (the watchdog clock's domain: the
 * stall test is now_ns - last_change > interval).  A change is stamped
 * with max(now_ns, a read of the watchdog clock taken after the entry's
 * snapshot), so a beat that lands after now_ns was read is never dated
 * too early.  The
 * number of stalls reported by this call goes to *stalled if not NULL.
 * Safe while the thread runs (polls take turns).  AK_EINVAL on NULL wd,
 * AK_EBUSY from inside a stall callback.
 */
ak_status ak_watchdog_poll(ak_watchdog *wd, uint64_t now_ns, unsigned *stalled);

/* Run the background thread.  AK_ESTATE if it runs, AK_ESYS if it could not
 * be created. */
ak_status ak_watchdog_start(ak_watchdog *wd);

/* Stop and join the thread (entries stay registered).  AK_ESTATE if not
 * running, AK_EBUSY from a stall callback or the watchdog's own thread. */
ak_status ak_watchdog_stop(ak_watchdog *wd);

AK_END_DECLS

#endif /* ATOMKIT_WATCHDOG_H */
