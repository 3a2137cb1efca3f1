/*
 * Out-of-line parts of the interval token bucket: configuration, deposits
 * (ticks), refunds and the refill thread.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>

#include <atomkit/internal/futex.h>
#include <atomkit/internal/relax.h>
#include <atomkit/tbucket.h>

#include "fork_gate.h"

static void rf_kick(ak_refiller *r);

/* Test hook (not API, declared by the test that uses it): called by
 * ak_tbucket_refund() between its read of the burst and its CAS, where a
 * set_burst() that lowers the burst can slip in. */
void (*_ak_tbucket_test_refund_window)(ak_tbucket *tb);
/* Test hook (not API, declared by the test that uses it): called with the
 * tick lock held, just before it is released. */
void (*_ak_tbucket_test_locked)(ak_tbucket *tb);

static int config_ok(uint64_t k, uint64_t period, uint64_t b)
{
	return k != 0 && period != 0 && period < _AK_RL_SPAN_LIMIT && b != 0 &&
	       b <= AK_TBUCKET_MAX_BURST;
}

ak_status ak_tbucket_init_at(ak_tbucket *tb, uint64_t epoch, uint64_t k, uint64_t period_ns,
			     uint64_t b, const ak_clock *clock)
{
	if (!tb || !config_ok(k, period_ns, b))
		return AK_EINVAL;
	if (epoch >= _AK_RL_TIME_LIMIT)
		return AK_EOVERFLOW;
	atomic_store_explicit(&tb->burst, b, memory_order_relaxed);
	atomic_store_explicit(&tb->k, k, memory_order_relaxed);
	atomic_store_explicit(&tb->period, period_ns, memory_order_relaxed);
	atomic_store_explicit(&tb->epoch, epoch, memory_order_relaxed);
	atomic_store_explicit(&tb->done, 0, memory_order_relaxed);
	if (clock) {
		tb->clock = *clock;
	} else {
		tb->clock.now = NULL;
		tb->clock.ctx = NULL;
	}
	atomic_store_explicit(&tb->lock, 0, memory_order_relaxed);
	_ak_event_init(&tb->ev);
	_ak_event_init(&tb->sched);
	tb->rf_next = NULL;
	tb->rf_owner = NULL;
	/* Full: credited = b, taken = 0.  Release publishes the config with
	 * the word to a thread handed the bucket through a relaxed pointer
	 * (pairs with the acquire in ak_tbucket_ticket_ready()). */
	atomic_store_explicit(&tb->word, b << 32, memory_order_release);
	return AK_OK;
}

ak_status ak_tbucket_init(ak_tbucket *tb, uint64_t k, uint64_t period_ns, uint64_t b,
			  const ak_clock *clock)
{
	if (!tb)
		return AK_EINVAL;
	return ak_tbucket_init_at(tb, ak_clock_read(clock), k, period_ns, b, clock);
}

/* ---- the tick lock: ticks and set_* ------------------------------------------ */

/* The tick lock is taken inside the fork gate, so a fork never copies it
 * held (a child's bucket would never tick again). */
static int tb_trylock(ak_tbucket *tb)
{
	uint32_t z = 0;
	_ak_fork_gate_enter();
	/* Acquire pairs with the release in tb_unlock(): the previous holder's
	 * schedule (epoch, done, k, period) is what we read. */
	if (atomic_compare_exchange_strong_explicit(&tb->lock, &z, 1, memory_order_acquire,
						    memory_order_relaxed))
		return 1;
	_ak_fork_gate_leave();
	return 0;
}

static void tb_lock(ak_tbucket *tb)
{
	struct _ak_backoff bo = _AK_BACKOFF_INIT(256);
	while (!tb_trylock(tb)) {
		if (_ak_backoff_exhausted(&bo))
			sched_yield();
		else
			_ak_backoff_spin(&bo);
	}
}

static void tb_unlock(ak_tbucket *tb)
{
	if (AK_UNLIKELY(_ak_tbucket_test_locked != NULL))
		_ak_tbucket_test_locked(tb);
	/* Release pairs with the acquire in tb_trylock(). */
	atomic_store_explicit(&tb->lock, 0, memory_order_release);
	_ak_fork_gate_leave();
}

/* Add up to `add` tokens, capped at b.  Returns what went in. */
static uint64_t credit(ak_tbucket *tb, uint64_t add, uint64_t b)
{
	uint64_t w = atomic_load_explicit(&tb->word, memory_order_relaxed);
	for (;;) {
		int64_t tokens = _ak_tb_tokens(w);
		if (tokens >= (int64_t)b)
			return 0;
		uint64_t room = (uint64_t)((int64_t)b - tokens);
		uint64_t put = add < room ? add : room;
		if (put == 0)
			return 0;
		/* seq_cst: the state change that _ak_event_notify_nofence()
		 * orders against a waiter's registration (Dekker with the fence
		 * in _ak_event_prepare()); its release half pairs with the
		 * acquire in ak_tbucket_ticket_ready().  For a refund it is
		 * also the first half of the Dekker with ak_tbucket_set_burst()
		 * (pairs with its seq_cst fetch_or of the word). */
		if (atomic_compare_exchange_weak_explicit(&tb->word, &w, w + (put << 32),
							  memory_order_seq_cst,
							  memory_order_relaxed))
			return put;
	}
}

/* Deposit what the schedule owes at now.  Caller holds the tick lock. */
static uint64_t tick_locked(ak_tbucket *tb, uint64_t now)
{
	uint64_t e = atomic_load_explicit(&tb->epoch, memory_order_relaxed);
	uint64_t p = atomic_load_explicit(&tb->period, memory_order_relaxed);
	uint64_t d = atomic_load_explicit(&tb->done, memory_order_relaxed);
	if (now <= e)
		return 0;
	uint64_t idx = (now - e) / p;
	if (idx <= d)
		return 0; /* nothing due, or the clock stepped back */
	atomic_store_explicit(&tb->done, idx, memory_order_relaxed);
	uint64_t k = atomic_load_explicit(&tb->k, memory_order_relaxed);
	/* Under the tick lock: set_burst cannot change the burst meanwhile. */
	uint64_t b = atomic_load_explicit(&tb->burst, memory_order_relaxed);
	return credit(tb, _ak_rl_mul_sat(idx - d, k), b);
}

uint64_t ak_tbucket_tick_at(ak_tbucket *tb, uint64_t now)
{
	if (!tb || now >= _AK_RL_TIME_LIMIT || !tb_trylock(tb))
		return 0;
	uint64_t put = tick_locked(tb, now);
	tb_unlock(tb);
	if (put)
		_ak_event_notify_nofence(&tb->ev, _AK_FUTEX_PRIVATE);
	return put;
}

uint64_t ak_tbucket_tick(ak_tbucket *tb)
{
	if (!tb)
		return 0;
	return ak_tbucket_tick_at(tb, ak_clock_read(&tb->clock));
}

ak_status ak_tbucket_set_rate_at(ak_tbucket *tb, uint64_t now, uint64_t k, uint64_t period_ns)
{
	if (!tb)
		return AK_EINVAL;
	if (now >= _AK_RL_TIME_LIMIT)
		return AK_EOVERFLOW;
	if (!config_ok(k, period_ns, 1))
		return AK_EINVAL;
	tb_lock(tb);
	uint64_t put = tick_locked(tb, now);
	/* The new schedule starts at now: the part of the old period already
	 * elapsed is dropped, never paid twice. */
	uint64_t e = atomic_load_explicit(&tb->epoch, memory_order_relaxed);
	if (now > e)
		e = now;
	atomic_store_explicit(&tb->k, k, memory_order_relaxed);
	atomic_store_explicit(&tb->period, period_ns, memory_order_relaxed);
	atomic_store_explicit(&tb->epoch, e, memory_order_relaxed);
	atomic_store_explicit(&tb->done, 0, memory_order_relaxed);
	/* A refill thread asleep until the old schedule's next deposit must
	 * re-plan.  rf_owner changes only under this lock, and a refiller
	 * cannot finish detaching the bucket (stop, remove) while we hold
	 * it, so the refiller is alive for the kick. */
	if (tb->rf_owner)
		rf_kick(tb->rf_owner);
	tb_unlock(tb);
	if (put)
		_ak_event_notify_nofence(&tb->ev, _AK_FUTEX_PRIVATE);
	/* Waiters asleep until a deposit of the old schedule recompute it
	 * (Dekker with _ak_event_prepare() in ak_tbucket_acquire(), which
	 * reads the schedule after registering). */
	_ak_event_notify(&tb->sched, _AK_FUTEX_PRIVATE);
	return AK_OK;
}

ak_status ak_tbucket_set_rate(ak_tbucket *tb, uint64_t k, uint64_t period_ns)
{
	if (!tb)
		return AK_EINVAL;
	return ak_tbucket_set_rate_at(tb, ak_clock_read(&tb->clock), k, period_ns);
}

/* Lower what the bucket holds to at most b, starting from word w; returns
 * the tokens removed.  Only a bucket with tokens >= 0 can be above b, and
 * then no reservation is waiting, so lowering credited moves no ticket
 * backwards. */
static uint64_t clamp_from(ak_tbucket *tb, uint64_t w, uint64_t b)
{
	for (;;) {
		int64_t tokens = _ak_tb_tokens(w);
		if (tokens <= (int64_t)b)
			return 0;
		uint32_t credited = (uint32_t)w + (uint32_t)b;
		/* Relaxed: removes tokens; nobody waits for that. */
		if (atomic_compare_exchange_weak_explicit(&tb->word, &w,
							  ((uint64_t)credited << 32) | (uint32_t)w,
							  memory_order_relaxed, memory_order_relaxed))
			return (uint64_t)(tokens - (int64_t)b);
	}
}

uint64_t _ak_tbucket_clamp(ak_tbucket *tb, uint64_t b)
{
	return clamp_from(tb, atomic_load_explicit(&tb->word, memory_order_relaxed), b);
}

ak_status ak_tbucket_set_burst(ak_tbucket *tb, uint64_t b)
{
	if (!tb || b == 0 || b > AK_TBUCKET_MAX_BURST)
		return AK_EINVAL;
	tb_lock(tb);
	/* Dekker with refund and cancel, which CAS the word (seq_cst) and
	 * then re-load the burst (seq_cst): either our read of the word below
	 * sees their credit and we clamp it, or their re-load sees this store
	 * and they clamp it themselves.  Pairs with the seq_cst loads of
	 * `burst` in ak_tbucket_refund() and ak_tbucket_cancel(). */
	atomic_store_explicit(&tb->burst, b, memory_order_seq_cst);
	/* A read-modify-write, not a load: it reads the latest word in
	 * modification order, so a credit CAS ordered before it is seen even
	 * when a relaxed take intervened.  Pairs with the seq_cst credit CAS
	 * in credit() and ak_tbucket_cancel(). */
	uint64_t w = atomic_fetch_or_explicit(&tb->word, 0, memory_order_seq_cst);
	(void)clamp_from(tb, w, b);
	tb_unlock(tb);
	return AK_OK;
}

ak_status ak_tbucket_refund(ak_tbucket *tb, uint64_t n, uint64_t *given)
{
	uint64_t put = 0;
	ak_status st = AK_OK;
	if (!tb || n == 0) {
		st = AK_EINVAL;
	} else {
		uint64_t b = atomic_load_explicit(&tb->burst, memory_order_relaxed);
		if (AK_UNLIKELY(_ak_tbucket_test_refund_window != NULL))
			_ak_tbucket_test_refund_window(tb);
		put = credit(tb, n, b);
		if (put) {
			/* Dekker with ak_tbucket_set_burst() (store burst, then
			 * read the word): our credit CAS was seq_cst; if a lower
			 * burst was stored before it, this load sees it and we
			 * take our excess back.  Pairs with the seq_cst store in
			 * ak_tbucket_set_burst(). */
			uint64_t nb = atomic_load_explicit(&tb->burst, memory_order_seq_cst);
			if (AK_UNLIKELY(nb < b)) {
				uint64_t cut = _ak_tbucket_clamp(tb, nb);
				put -= cut < put ? cut : put;
			}
		}
		if (put) {
			_ak_event_notify_nofence(&tb->ev, _AK_FUTEX_PRIVATE);
			/* A refund can cover waiters still asleep on their
			 * timers (not only the next deposit's). */
			_ak_event_notify_nofence(&tb->sched, _AK_FUTEX_PRIVATE);
		}
	}
	if (given)
		*given = put;
	return st;
}

/* ---- the refill thread ------------------------------------------------------- */

#define RF_POLL_NS AK_NS_PER_MS

static void rf_lock(ak_refiller *r);
static void rf_unlock(ak_refiller *r);

static uint64_t next_due(ak_tbucket *tb)
{
	uint64_t e = atomic_load_explicit(&tb->epoch, memory_order_relaxed);
	uint64_t p = atomic_load_explicit(&tb->period, memory_order_relaxed);
	uint64_t d = atomic_load_explicit(&tb->done, memory_order_relaxed);
	return _ak_rl_add_sat(e, _ak_rl_mul_sat(d + 1, p));
}

static void *refiller_main(void *arg)
{
	ak_refiller *r = (ak_refiller *)arg;
	int custom = r->clock.now != NULL;

	for (;;) {
		/* Acquire pairs with the release increments in add/remove/stop:
		 * read the word before scanning, so a change after the scan
		 * makes the futex wait return at once. */
		uint32_t seen = atomic_load_explicit(&r->ctl, memory_order_acquire);
		/* Acquire pairs with the release store in ak_refiller_stop(). */
		if (atomic_load_explicit(&r->stop, memory_order_acquire))
			break;
		uint64_t now = ak_clock_read(&r->clock);
		uint64_t due = AK_DEADLINE_NONE;
		rf_lock(r);
		for (ak_tbucket *tb = r->head; tb; tb = tb->rf_next) {
			ak_tbucket_tick_at(tb, now);
			uint64_t nd = next_due(tb);
			if (nd < due)
				due = nd;
		}
		rf_unlock(r);
		uint64_t until = due;
		if (custom) /* poll a clock we cannot sleep on */
			until = _ak_rl_add_sat(ak_now_ns(), RF_POLL_NS);
		(void)_ak_futex_wait(&r->ctl, seen, until, _AK_FUTEX_PRIVATE);
	}
	return NULL;
}

static void rf_lock(ak_refiller *r)
{
	struct _ak_backoff bo = _AK_BACKOFF_INIT(256);
	uint32_t z = 0;
	/* Acquire pairs with the release in rf_unlock(). */
	while (!atomic_compare_exchange_weak_explicit(&r->mu, &z, 1, memory_order_acquire,
						      memory_order_relaxed)) {
		z = 0;
		if (_ak_backoff_exhausted(&bo))
			sched_yield();
		else
			_ak_backoff_spin(&bo);
	}
}

static void rf_unlock(ak_refiller *r)
{
	/* Release pairs with the acquire in rf_lock(). */
	atomic_store_explicit(&r->mu, 0, memory_order_release);
}

static void rf_kick(ak_refiller *r)
{
	/* Release pairs with the acquire load in refiller_main(). */
	atomic_fetch_add_explicit(&r->ctl, 1, memory_order_release);
	_ak_futex_wake(&r->ctl, 1, _AK_FUTEX_PRIVATE);
}

ak_status ak_refiller_start(ak_refiller *r, const ak_clock *clock)
{
	if (!r)
		return AK_EINVAL;
	atomic_store_explicit(&r->mu, 0, memory_order_relaxed);
	atomic_store_explicit(&r->ctl, 0, memory_order_relaxed);
	atomic_store_explicit(&r->stop, 0, memory_order_relaxed);
	r->head = NULL;
	if (clock) {
		r->clock = *clock;
	} else {
		r->clock.now = NULL;
		r->clock.ctx = NULL;
	}
	r->running = 1;
	if (pthread_create(&r->thread, NULL, refiller_main, r) != 0) {
		r->running = 0;
		return AK_ESYS;
	}
	return AK_OK;
}

ak_status ak_refiller_add(ak_refiller *r, ak_tbucket *tb)
{
	if (!r || !tb)
		return AK_EINVAL;
	rf_lock(r);
	ak_status st = AK_OK;
	if (!r->running) {
		st = AK_ESTATE;
	} else {
		/* rf_owner is guarded by the bucket's tick lock (set_rate
		 * reads it to kick us; two refillers may race to add it).
		 * Lock order: refiller, then bucket. */
		tb_lock(tb);
		if (tb->rf_owner)
			st = AK_EBUSY;
		else
			tb->rf_owner = r;
		tb_unlock(tb);
		if (st == AK_OK) {
			tb->rf_next = r->head;
			r->head = tb;
		}
	}
	rf_unlock(r);
	if (st == AK_OK)
		rf_kick(r);
	return st;
}

ak_status ak_refiller_remove(ak_refiller *r, ak_tbucket *tb)
{
	if (!r || !tb)
		return AK_EINVAL;
	ak_status st = AK_ENOENT;
	rf_lock(r);
	for (ak_tbucket **pp = &r->head; *pp; pp = &(*pp)->rf_next) {
		if (*pp == tb) {
			*pp = tb->rf_next;
			tb->rf_next = NULL;
			tb_lock(tb); /* see ak_refiller_add() */
			tb->rf_owner = NULL;
			tb_unlock(tb);
			st = AK_OK;
			break;
		}
	}
	rf_unlock(r);
	return st;
}

ak_status ak_refiller_stop(ak_refiller *r)
{
	if (!r)
		return AK_EINVAL;
	rf_lock(r);
	int was = r->running;
	r->running = 0;
	rf_unlock(r);
	if (!was)
		return AK_ESTATE;
	/* Release pairs with the acquire load of `stop` in refiller_main(). */
	atomic_store_explicit(&r->stop, 1, memory_order_release);
	rf_kick(r);
	pthread_join(r->thread, NULL);
	rf_lock(r);
	while (r->head) {
		ak_tbucket *tb = r->head;
		r->head = tb->rf_next;
		tb->rf_next = NULL;
		tb_lock(tb); /* see ak_refiller_add() */
		tb->rf_owner = NULL;
		tb_unlock(tb);
	}
	rf_unlock(r);
	return AK_OK;
}
