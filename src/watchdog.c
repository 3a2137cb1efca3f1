/*
 * The watchdog: a mutex-protected list of heartbeats, a poll that compares
 * each heartbeat's snapshot with the last one it saw, and a thread that
 * polls periodically.  Workers never take the mutex: they only write their
 * meters, which the poll reads with lock-free snapshots.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <string.h>

#include <atomkit/internal/futex.h>
#include <atomkit/watchdog.h>

#define MIN_PERIOD (1 * AK_NS_PER_MS)
#define MAX_PERIOD (1 * AK_NS_PER_SEC)

ak_status ak_heartbeat_init(ak_heartbeat *hb, uint64_t interval_ns, unsigned mode,
			    const ak_clock *clock)
{
	if (!hb || interval_ns == 0)
		return AK_EINVAL;
	ak_status st = ak_progress_init(&hb->meter, AK_PROGRESS_UNKNOWN, mode, clock);
	if (st != AK_OK)
		return st;
	hb->interval_ns = interval_ns;
	hb->owner_ = NULL;
	hb->next_ = hb->prev_ = NULL;
	hb->cancel_ = NULL;
	hb->fn_ = NULL;
	hb->arg_ = NULL;
	hb->seen_count_ = hb->seen_last_ = hb->seen_at_ = hb->pass_ = 0;
	hb->stalled_ = hb->busy_ = 0;
	atomic_store_explicit(&hb->stalls_, 0, memory_order_relaxed);
	return AK_OK;
}

ak_status ak_watchdog_init(ak_watchdog *wd, const ak_clock *clock, uint64_t period_ns)
{
	if (!wd)
		return AK_EINVAL;
	memset(wd, 0, sizeof(*wd));
	if (clock)
		wd->clock = *clock;
	wd->period_ns = period_ns;
	if (pthread_mutex_init(&wd->mu, NULL) != 0)
		return AK_ESYS;
	if (pthread_mutex_init(&wd->poll_mu, NULL) != 0) {
		pthread_mutex_destroy(&wd->mu);
		return AK_ESYS;
	}
	if (pthread_cond_init(&wd->idle, NULL) != 0) {
		pthread_mutex_destroy(&wd->poll_mu);
		pthread_mutex_destroy(&wd->mu);
		return AK_ESYS;
	}
	atomic_store_explicit(&wd->wake, 0, memory_order_relaxed);
	return AK_OK;
}

ak_status ak_watchdog_destroy(ak_watchdog *wd)
{
	if (!wd)
		return AK_EINVAL;
	pthread_mutex_lock(&wd->mu);
	if (wd->running || wd->polling) {
		pthread_mutex_unlock(&wd->mu);
		return AK_EBUSY;
	}
	for (ak_heartbeat *hb = wd->head, *next; hb; hb = next) {
		next = hb->next_;
		hb->owner_ = NULL;
		hb->next_ = hb->prev_ = NULL;
	}
	wd->head = NULL;
	wd->count = 0;
	pthread_mutex_unlock(&wd->mu);
	pthread_cond_destroy(&wd->idle);
	pthread_mutex_destroy(&wd->poll_mu);
	pthread_mutex_destroy(&wd->mu);
	return AK_OK;
}

/* Wake the thread so it re-plans (new entry, stop). */
static void kick(ak_watchdog *wd)
{
	/* Release: pairs with the acquire load in watchdog_main() (the futex
	 * word only wakes; the state itself is read under wd->mu). */
	atomic_fetch_add_explicit(&wd->wake, 1, memory_order_release);
	_ak_futex_wake(&wd->wake, INT32_MAX, _AK_FUTEX_PRIVATE);
}

ak_status ak_watchdog_add(ak_watchdog *wd, ak_heartbeat *hb, ak_cancel *cancel,
			  ak_watchdog_fn fn, void *arg)
{
	ak_progress_snap s;

	if (!wd || !hb)
		return AK_EINVAL;
	pthread_mutex_lock(&wd->mu);
	if (hb->owner_) {
		pthread_mutex_unlock(&wd->mu);
		return AK_EEXIST;
	}
	ak_progress_snapshot(&hb->meter, &s);
	hb->cancel_ = cancel;
	hb->fn_ = fn;
	hb->arg_ = arg;
	hb->seen_count_ = s.count;
	hb->seen_last_ = s.last_ns;
	hb->seen_at_ = ak_clock_read(&wd->clock);
	hb->pass_ = 0;
	hb->stalled_ = 0;
	hb->busy_ = 0;
	hb->owner_ = wd;
	hb->prev_ = NULL;
	hb->next_ = wd->head;
	if (wd->head)
		wd->head->prev_ = hb;
	wd->head = hb;
	wd->count++;
	int running = wd->running;
	pthread_mutex_unlock(&wd->mu);
	if (running)
		kick(wd); /* its interval may be shorter than the current period */
	return AK_OK;
}

static void unlink_entry(ak_watchdog *wd, ak_heartbeat *hb)
{
	if (hb->prev_)
		hb->prev_->next_ = hb->next_;
	else
		wd->head = hb->next_;
	if (hb->next_)
		hb->next_->prev_ = hb->prev_;
	hb->next_ = hb->prev_ = NULL;
	hb->owner_ = NULL;
	wd->count--;
}

static int on_poll_thread(ak_watchdog *wd)
{
	return wd->polling && pthread_equal(wd->poller, pthread_self());
}

ak_status ak_watchdog_remove(ak_watchdog *wd, ak_heartbeat *hb)
{
	if (!wd || !hb)
		return AK_EINVAL;
	pthread_mutex_lock(&wd->mu);
	if (hb->owner_ != wd) {
		pthread_mutex_unlock(&wd->mu);
		return AK_ENOENT;
	}
	if (hb->busy_ && on_poll_thread(wd)) {
		/* From its own stall callback: the poll will not touch it again. */
		wd->cur_removed = 1;
		hb->busy_ = 0;
	}
	while (hb->busy_)
		pthread_cond_wait(&wd->idle, &wd->mu);
	if (hb->owner_ != wd) { /* removed by another thread meanwhile */
		pthread_mutex_unlock(&wd->mu);
		return AK_ENOENT;
	}
	unlink_entry(wd, hb);
	pthread_mutex_unlock(&wd->mu);
	return AK_OK;
}

/* One poll; read_clock: take `now` from the watchdog's clock once this poll
 * has its turn (a time read before waiting for the turn could be stale). */
static ak_status poll_impl(ak_watchdog *wd, uint64_t now_ns, int read_clock, unsigned *stalled)
{
	unsigned n = 0;

	if (!wd)
		return AK_EINVAL;
	pthread_mutex_lock(&wd->mu);
	if (on_poll_thread(wd)) {
		pthread_mutex_unlock(&wd->mu);
		return AK_EBUSY;
	}
	pthread_mutex_unlock(&wd->mu);

	pthread_mutex_lock(&wd->poll_mu);
	pthread_mutex_lock(&wd->mu);
	wd->polling = 1;
	wd->poller = pthread_self();
	if (read_clock)
		now_ns = ak_clock_read(&wd->clock);
	uint64_t pass = ++wd->pass;
restart:
	for (ak_heartbeat *hb = wd->head; hb; hb = hb->next_) {
		ak_progress_snap s;

		if (hb->pass_ == pass)
			continue;
		hb->pass_ = pass;
		ak_progress_snapshot(&hb->meter, &s);
		if (s.count != hb->seen_count_ || s.last_ns != hb->seen_last_) {
			hb->seen_count_ = s.count;
			hb->seen_last_ = s.last_ns;
			/* Stamp the change with a time read *after* the snapshot:
			 * now_ns may predate the beat we just saw (read before this
			 * poll got its turn, or before the worker beat), and an early
			 * stamp would report a stall before the interval is up. */
			uint64_t t = ak_clock_read(&wd->clock);
			if (t < now_ns)
				t = now_ns;
			if (t > hb->seen_at_) /* never backwards */
				hb->seen_at_ = t;
			hb->stalled_ = 0; /* re-armed */
			continue;
		}
		if (hb->stalled_ || now_ns <= hb->seen_at_ ||
		    now_ns - hb->seen_at_ <= hb->interval_ns)
			continue;
		/* Stalled: report once, outside the lock. */
		hb->stalled_ = 1;
		atomic_fetch_add_explicit(&hb->stalls_, 1, memory_order_relaxed);
		n++;
		if (!hb->cancel_ && !hb->fn_)
			continue;
		ak_cancel *cancel = hb->cancel_;
		ak_watchdog_fn fn = hb->fn_;
		void *arg = hb->arg_;
		hb->busy_ = 1; /* remove() from other threads waits for us */
		wd->cur = hb;
		wd->cur_removed = 0;
		pthread_mutex_unlock(&wd->mu);
		if (cancel)
			ak_cancel_request(cancel, AK_ESTALLED);
		if (fn)
			fn(hb, arg);
		pthread_mutex_lock(&wd->mu);
		if (!wd->cur_removed) /* else hb may be freed already */
			hb->busy_ = 0;
		wd->cur = NULL;
		pthread_cond_broadcast(&wd->idle);
		goto restart; /* the list may have changed while unlocked */
	}
	wd->polling = 0;
	pthread_mutex_unlock(&wd->mu);
	pthread_mutex_unlock(&wd->poll_mu);
	if (stalled)
		*stalled = n;
	return AK_OK;
}

ak_status ak_watchdog_poll(ak_watchdog *wd, uint64_t now_ns, unsigned *stalled)
{
	return poll_impl(wd, now_ns, 0, stalled);
}

/* Poll period: configured, or a quarter of the shortest interval. */
static uint64_t period_locked(const ak_watchdog *wd)
{
	if (wd->period_ns)
		return wd->period_ns;
	uint64_t p = MAX_PERIOD;
	for (const ak_heartbeat *hb = wd->head; hb; hb = hb->next_)
		if (hb->interval_ns / 4 < p)
			p = hb->interval_ns / 4;
	return p < MIN_PERIOD ? MIN_PERIOD : p;
}

static void *watchdog_main(void *arg)
{
	ak_watchdog *wd = (ak_watchdog *)arg;

	pthread_mutex_lock(&wd->mu);
	while (!wd->stop) {
		/* Acquire: pairs with the release increment in kick(). */
		uint32_t seen = atomic_load_explicit(&wd->wake, memory_order_acquire);
		uint64_t period = period_locked(wd);
		pthread_mutex_unlock(&wd->mu);
		(void)poll_impl(wd, 0, 1, NULL);
		_ak_futex_wait(&wd->wake, seen, ak_deadline_after(period), _AK_FUTEX_PRIVATE);
		pthread_mutex_lock(&wd->mu);
	}
	pthread_mutex_unlock(&wd->mu);
	return NULL;
}

ak_status ak_watchdog_start(ak_watchdog *wd)
{
	if (!wd)
		return AK_EINVAL;
	pthread_mutex_lock(&wd->mu);
	if (wd->running) {
		pthread_mutex_unlock(&wd->mu);
		return AK_ESTATE;
	}
	wd->stop = 0;
	wd->running = 1;
	if (pthread_create(&wd->thread, NULL, watchdog_main, wd) != 0) {
		wd->running = 0;
		pthread_mutex_unlock(&wd->mu);
		return AK_ESYS;
	}
	pthread_mutex_unlock(&wd->mu);
	return AK_OK;
}

ak_status ak_watchdog_stop(ak_watchdog *wd)
{
	if (!wd)
		return AK_EINVAL;
	pthread_mutex_lock(&wd->mu);
	if (!wd->running || wd->stop) {
		pthread_mutex_unlock(&wd->mu);
		return AK_ESTATE;
	}
	if (pthread_equal(wd->thread, pthread_self()) || on_poll_thread(wd)) {
		pthread_mutex_unlock(&wd->mu);
		return AK_EBUSY;
	}
	wd->stop = 1;
	pthread_t t = wd->thread;
	pthread_mutex_unlock(&wd->mu);
	kick(wd);
	pthread_join(t, NULL);
	pthread_mutex_lock(&wd->mu);
	wd->running = 0;
	wd->stop = 0;
	pthread_mutex_unlock(&wd->mu);
	return AK_OK;
}
