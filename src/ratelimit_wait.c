/*
 * Blocking acquire for both limiters: reserve, then sleep until the
 * reservation is good, undoing it on timeout or cancel.
 *
 * The GCRA waiter owns its sleep: a private futex word on its stack, which
 * only its cancel callback writes; it sleeps on it until its own good_at,
 * so nothing else ever wakes it.  The bucket waiter sleeps on a timer (the
 * bucket's `sched` eventcount, which only refunds, set_rate and cancel
 * callbacks notify) until the deposit before its own is due, and only then
 * listens on the bucket's eventcount `ev`, which every deposit notifies: a
 * deposit wakes the waiters it is about to serve, not the whole queue.
 */
#include <string.h>

#include <atomkit/cancel.h>
#include <atomkit/internal/event.h>
#include <atomkit/internal/futex.h>
#include <atomkit/limiter.h>
#include <atomkit/tbucket.h>

/* Slice for polling a custom clock (no futex can sleep on it). */
#define POLL_NS AK_NS_PER_MS

struct waiter {
	_Atomic(uint32_t) flag; /* 1 once cancelled */
	struct _ak_event *ev;   /* also kicked, for a bucket waiter */
	struct _ak_event *ev2;  /* the bucket's timer-sleeper event, likewise */
};

static void waiter_cancel_cb(void *arg)
{
	struct waiter *w = (struct waiter *)arg;
	/* Release pairs with the acquire load of flag in the wait loops. */
	atomic_store_explicit(&w->flag, 1, memory_order_release);
	_ak_futex_wake(&w->flag, 1, _AK_FUTEX_PRIVATE);
	if (w->ev)
		_ak_event_kick(w->ev);
	if (w->ev2)
		_ak_event_kick(w->ev2);
}

static int cancelled(struct waiter *w)
{
	/* Acquire pairs with the release store in waiter_cancel_cb(). */
	return atomic_load_explicit(&w->flag, memory_order_acquire) != 0;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t budget(uint64_t deadline, uint64_t real)
{
	if (deadline == AK_DEADLINE_NONE)
		return UINT64_MAX;
	return deadline > real ? deadline - real : 0;
}

static ak_status arm(ak_cancel *cancel, ak_cancel_cb *cb, struct waiter *w)
{
	memset(cb, 0, sizeof *cb);
	if (!cancel)
		return AK_OK;
	return ak_cancel_cb_register(cancel, cb, waiter_cancel_cb, w);
}

static void disarm(ak_cancel *cancel, ak_cancel_cb *cb)
{
	if (cancel)
		(void)ak_cancel_cb_deregister(cancel, cb);
}

ak_status ak_limiter_acquire(ak_limiter *l, uint64_t n, uint64_t deadline_ns, ak_cancel *cancel)
{
	ak_limiter_ticket tk;
	ak_cancel_cb cb;
	struct waiter w;
	uint64_t wait;

	if (!l)
		return AK_EINVAL;
	if (ak_cancel_is_set(cancel))
		return AK_ECANCELED;
	int custom = l->clock.now != NULL;
	uint64_t now = ak_clock_read(&l->clock);
	uint64_t real = custom ? ak_now_ns() : now;
	/* With a custom clock the wait is measured on that clock. */
	ak_status st = ak_limiter_reserve_at(l, now, n, budget(deadline_ns, real), &tk, &wait);
	if (st == AK_EAGAIN)
		return AK_ETIMEDOUT; /* good only after the deadline: take nothing */
	if (st != AK_OK || tk.good_at <= now)
		return st;
	atomic_store_explicit(&w.flag, 0, memory_order_relaxed);
	w.ev = NULL;
	w.ev2 = NULL;
	st = arm(cancel, &cb, &w);
	if (st != AK_OK) {
		(void)ak_limiter_cancel(l, &tk);
		return st;
	}
	for (;;) {
		now = ak_clock_read(&l->clock);
		if (now >= tk.good_at) {
			st = AK_OK;
			break;
		}
		real = custom ? ak_now_ns() : now;
		if (cancelled(&w) || real >= deadline_ns) {
			(void)ak_limiter_cancel(l, &tk);
			st = cancelled(&w) ? AK_ECANCELED : AK_ETIMEDOUT;
			break;
		}
		uint64_t until = custom ? real + POLL_NS : tk.good_at;
		(void)_ak_futex_wait(&w.flag, 0, min_u64(until, deadline_ns), _AK_FUTEX_PRIVATE);
	}
	disarm(cancel, &cb);
	return st;
}

ak_status ak_tbucket_acquire(ak_tbucket *tb, uint64_t n, uint64_t deadline_ns, ak_cancel *cancel)
{
	ak_tbucket_ticket tk;
	ak_cancel_cb cb;
	struct waiter w;
	uint64_t wait;

	if (!tb)
		return AK_EINVAL;
	if (ak_cancel_is_set(cancel))
		return AK_ECANCELED;
	int custom = tb->clock.now != NULL;
	uint64_t now = ak_clock_read(&tb->clock);
	uint64_t real = custom ? ak_now_ns() : now;
	uint64_t max_wait = custom ? UINT64_MAX : budget(deadline_ns, real);
	if (max_wait == 0)
		max_wait = 1; /* a reservation, not a try: 0 would refuse any debt */
	ak_status st = ak_tbucket_reserve_at(tb, now, n, max_wait, &tk, &wait);
	if (st == AK_EAGAIN)
		return wait > max_wait ? AK_ETIMEDOUT : AK_EAGAIN; /* late, or the debt limit */
	if (st != AK_OK || ak_tbucket_ticket_ready(tb, &tk))
		return st;
	atomic_store_explicit(&w.flag, 0, memory_order_relaxed);
	w.ev = &tb->ev;
	w.ev2 = &tb->sched;
	st = arm(cancel, &cb, &w);
	if (st != AK_OK) {
		(void)ak_tbucket_cancel(tb, &tk);
		return st;
	}
	for (;;) {
		if (ak_tbucket_ticket_ready(tb, &tk)) {
			st = AK_OK;
			break;
		}
		real = ak_now_ns();
		if (cancelled(&w) || real >= deadline_ns) {
			(void)ak_tbucket_cancel(tb, &tk);
			st = cancelled(&w) ? AK_ECANCELED : AK_ETIMEDOUT;
			break;
		}
		/* Deposits still needed for this ticket.  Until the one before
		 * ours is due, sleep on a timer: other deposits are not for
		 * us.  Registered on `sched` first, so a refund or set_rate
		 * after our reads below wakes us to recompute (Dekker with
		 * their notify); the cancel callback kicks it too. */
		if (!custom) {
			uint32_t ts = _ak_event_prepare(&tb->sched);
			uint64_t w64 = atomic_load_explicit(&tb->word, memory_order_relaxed);
			int64_t deficit = _ak_tb_diff(tk.end, (uint32_t)(w64 >> 32));
			uint64_t k = atomic_load_explicit(&tb->k, memory_order_relaxed);
			uint64_t deposits = deficit > 0 ? _ak_rl_div_up((uint64_t)deficit, k) : 0;
			uint64_t eta = deposits > 1 ? _ak_tb_eta(tb, real, (deposits - 1) * k) : 0;
			if (eta > real && !ak_tbucket_ticket_ready(tb, &tk) && !cancelled(&w)) {
				(void)_ak_event_wait(&tb->sched, ts, min_u64(eta, deadline_ns),
						     _AK_FUTEX_PRIVATE);
				continue;
			}
			_ak_event_abort(&tb->sched);
		}
		uint32_t t = _ak_event_prepare(&tb->ev);
		if (ak_tbucket_ticket_ready(tb, &tk) || cancelled(&w)) {
			_ak_event_abort(&tb->ev);
			continue;
		}
		(void)_ak_event_wait(&tb->ev, t, deadline_ns, _AK_FUTEX_PRIVATE);
	}
	disarm(cancel, &cb);
	return st;
}
