/*
 * atomkit/tbucket.h - lock-free interval token bucket: k tokens deposited
 * every P ns, up to a burst b, by a refill thread or by your own tick.
 *
 * Overview
 *   ak_tbucket    the bucket.  Its whole state is one 64-bit word holding two
 *                 32-bit running totals: tokens credited (deposits, refunds)
 *                 and tokens taken.  tokens = credited - taken; a negative
 *                 value is debt owed to reservations, which are served in
 *                 the order they were taken (a ticket is "the running total
 *                 of taken tokens after me": it is good once credited
 *                 reaches it).
 *   deposits      ak_tbucket_tick_at(tb, now) deposits k for every period
 *                 boundary epoch + i*P passed since the last deposit (capped
 *                 at b).  Call it from your own loop, or attach the bucket
 *                 to an ak_refiller: one thread serving many buckets.
 *   waiting       ak_tbucket_acquire() reserves, then sleeps until the
 *                 deposits cover its ticket; a deposit wakes only the
 *                 waiters it is due to serve.
 *
 * Contract
 *   - Deposits follow the schedule epoch + i*P (epoch = init or the last
 *     set_rate): a tick at time t pays k for every instant <= t not paid
 *     yet, capped at b.  A tick never pays an instant twice, and a clock
 *     that steps backwards pays nothing, so the tokens credited up to t
 *     never exceed b + k * (instants <= t).
 *   - The window guarantee: the tokens admitted with times in [t_i, t_j]
 *     are at most b + k * (instants paid by ticks in [t_i, t_j]).  With a
 *     tick at every instant (the refill thread, or your loop, on time) that
 *     is b + k * (instants in [t_i, t_j]); a tick that runs late pays the
 *     instants it missed at its own time, exactly like a late ticker
 *     thread refilling a channel.  Reservations count when the deposits
 *     cover them, refunds as negative admissions, cancelled reservations
 *     not at all (checked by tests/unit/tbucket.c over every window of
 *     random traces, single-threaded and on 4 threads).
 *   - try_acquire(n) never jumps the queue: while reservations are waiting
 *     the bucket holds no tokens.  n > b: AK_E2BIG; n == 0: AK_EINVAL.
 *     On AK_EAGAIN the wait is an estimate from the schedule (0 when a
 *     deposit is overdue: the driver is late).
 *   - Limits: b <= 2^30; debt <= 2^30 tokens (further reservations:
 *     AK_EAGAIN); times < 2^63 (else AK_EOVERFLOW).
 *   - Reservations, cancel, refund: as in limiter.h.  cancel gives back
 *     exactly what the ticket took when no later take has happened, else
 *     nothing; refund(n) is clamped so the bucket never holds more than b.
 *   - set_rate starts a new schedule at `now` (first deposit at now + P);
 *     deposits owed under the old one are made first, and an attached
 *     refill thread re-plans at once.
 *   - set_burst(b) clamps the tokens held to b.  When it returns the bucket
 *     holds at most b, except for what a refund or cancel still running
 *     credited under the burst it read before the change; each such call
 *     takes its excess back before it returns.  So once the refunds and
 *     cancels that overlapped set_burst have returned the bucket holds at
 *     most b, and no refund or cancel started later puts it above b.  For
 *     the window guarantee the old burst stays in force until then.
 *   - set_rate and set_burst are safe with concurrent acquirers, ticks,
 *     refunds and cancels.
 *
 * Progress
 *   try_acquire, reserve, cancel, refund: lock-free (a CAS loop on one word;
 *   a refund or cancel that raced a lowering set_burst adds a second one).
 *   tick: wait-free for acquirers; ticks and set_* exclude each other with
 *   a try-lock (a tick that finds it held returns 0: the holder deposits).
 *   acquire: blocking.  The refiller: a thread; add/remove/stop take its
 *   mutex.
 *
 * Example
 *     ak_tbucket tb;
 *     ak_tbucket_init(&tb, 10, 100 * AK_NS_PER_MS, 50, NULL); // 10 per 100 ms, burst 50
 *     ak_refiller rf;
 *     ak_refiller_start(&rf, NULL);
 *     ak_refiller_add(&rf, &tb);
 *     ak_tbucket_acquire(&tb, 5, ak_deadline_after(AK_NS_PER_SEC), NULL);
 *     ak_refiller_stop(&rf);
 */
#ifndef ATOMKIT_TBUCKET_H
#define ATOMKIT_TBUCKET_H

#include <pthread.h>
#include <stdbool.h>

#include "clock.h"
#include "internal/compiler.h"
#include "internal/event.h"
#include "internal/ratelimit.h"
#include "status.h"

AK_BEGIN_DECLS

typedef struct ak_cancel ak_cancel;
struct ak_refiller;

#define AK_TBUCKET_MAX_BURST (UINT64_C(1) << 30)
#define AK_TBUCKET_MAX_DEBT (INT64_C(1) << 30)

typedef struct ak_tbucket {
	/* credited (bits 32..63) | taken (bits 0..31), both mod 2^32. */
	AK_CACHE_ALIGNED _Atomic(uint64_t) word;
	_Atomic(uint64_t) burst;
	_Atomic(uint64_t) k;      /* tokens per deposit */
	_Atomic(uint64_t) period; /* ns between deposits */
	_Atomic(uint64_t) epoch;  /* deposit i is due at epoch + i * period */
	_Atomic(uint64_t) done;   /* deposits made for instants 1..done */
	ak_clock clock;
	/* Ticks, set_* and the refiller: a cold line of their own. */
	AK_CACHE_ALIGNED _Atomic(uint32_t) lock;
	struct _ak_event ev;       /* blocking acquirers */
	struct _ak_event sched;    /* acquirers asleep on a timer: refund, set_rate */
	struct ak_tbucket *rf_next; /* refiller list, under its mutex */
	struct ak_refiller *rf_owner; /* under `lock` too (set_rate kicks it) */
} ak_tbucket;
AK_ASSERT_PADDED(ak_tbucket);

typedef struct ak_tbucket_ticket {
	uint64_t n;       /* tokens taken; 0 once cancelled */
	uint32_t end;     /* running total of taken tokens after this one */
	uint32_t pad_;
	uint64_t good_at; /* estimate from the schedule (<= now: good at once) */
} ak_tbucket_ticket;

/*
 * Initialise: k tokens every period_ns, burst b, starting full; the first
 * deposit is due period_ns after now (read from `clock`, NULL: monotonic).
 * AK_EINVAL: NULL, zero k/period/b, b > AK_TBUCKET_MAX_BURST, period >= 2^62.
 */
ak_status ak_tbucket_init(ak_tbucket *tb, uint64_t k, uint64_t period_ns, uint64_t b,
			  const ak_clock *clock);
/* Same with the schedule's epoch given (deposit i at epoch + i * period). */
ak_status ak_tbucket_init_at(ak_tbucket *tb, uint64_t epoch, uint64_t k, uint64_t period_ns,
			     uint64_t b, const ak_clock *clock);

/* Deposit what the schedule owes at now; returns the tokens deposited.
 * Any thread; concurrent ticks are safe (one does the work). */
uint64_t ak_tbucket_tick_at(ak_tbucket *tb, uint64_t now);
uint64_t ak_tbucket_tick(ak_tbucket *tb);

/* Reconfigure (see Contract).  AK_EINVAL as init; AK_EOVERFLOW now >= 2^63. */
ak_status ak_tbucket_set_rate_at(ak_tbucket *tb, uint64_t now, uint64_t k, uint64_t period_ns);
ak_status ak_tbucket_set_rate(ak_tbucket *tb, uint64_t k, uint64_t period_ns);
ak_status ak_tbucket_set_burst(ak_tbucket *tb, uint64_t b);

#define _AK_TB_LO UINT64_C(0xffffffff)

/* Not API: lower the tokens held to at most b; returns the tokens removed. */
uint64_t _ak_tbucket_clamp(ak_tbucket *tb, uint64_t b);

/* Test hook (not API): a unit test defines it before including this header
 * to run code between ak_tbucket_cancel()'s read of the burst and its CAS. */
#ifndef _AK_TBUCKET_CANCEL_WINDOW
#define _AK_TBUCKET_CANCEL_WINDOW(tb) ((void)0)
#endif

AK_INLINE int64_t _ak_tb_diff(uint32_t a, uint32_t b)
{
	uint32_t d = a - b;
	return d < UINT32_C(0x80000000) ? (int64_t)d : (int64_t)d - (INT64_C(1) << 32);
}

/* Tokens held (negative: owed to waiting reservations). */
AK_INLINE int64_t _ak_tb_tokens(uint64_t w)
{
	return _ak_tb_diff((uint32_t)(w >> 32), (uint32_t)w);
}

AK_INLINE int64_t ak_tbucket_tokens(ak_tbucket *tb)
{
	return _ak_tb_tokens(atomic_load_explicit(&tb->word, memory_order_relaxed));
}

/* When `need` more tokens will have been credited, from the schedule. */
AK_INLINE uint64_t _ak_tb_eta(ak_tbucket *tb, uint64_t now, uint64_t need)
{
	uint64_t k = atomic_load_explicit(&tb->k, memory_order_relaxed);
	uint64_t p = atomic_load_explicit(&tb->period, memory_order_relaxed);
	uint64_t e = atomic_load_explicit(&tb->epoch, memory_order_relaxed);
	uint64_t d = atomic_load_explicit(&tb->done, memory_order_relaxed);
	uint64_t next = _ak_rl_add_sat(e, _ak_rl_mul_sat(d + 1, p));
	if (next < now)
		next = now; /* overdue: the driver is late */
	return _ak_rl_add_sat(next, _ak_rl_mul_sat(_ak_rl_div_up(need, k) - 1, p));
}

/*
 * Take n tokens if the bucket holds them (or, with max_wait > 0, if the
 * deposits that cover them are due within max_wait).  Shared by
 * try_acquire and reserve.
 */
AK_INLINE ak_status _ak_tbucket_take(ak_tbucket *tb, uint64_t now, uint64_t n, uint64_t max_wait,
				     uint64_t *wait_ns, ak_tbucket_ticket *tk)
{
	uint64_t wait = UINT64_MAX;
	ak_status st;

	if (AK_UNLIKELY(n == 0)) {
		st = AK_EINVAL;
		goto out;
	}
	if (AK_UNLIKELY(n > atomic_load_explicit(&tb->burst, memory_order_relaxed))) {
		st = AK_E2BIG;
		goto out;
	}
	if (AK_UNLIKELY(now >= _AK_RL_TIME_LIMIT)) {
		st = AK_EOVERFLOW;
		goto out;
	}
	for (uint64_t w = atomic_load_explicit(&tb->word, memory_order_relaxed);;) {
		int64_t after = _ak_tb_tokens(w) - (int64_t)n;
		uint64_t good = now;
		if (after < 0) {
			/* Only deposits cover a debt: without max_wait (try),
			 * fail even when the schedule says a deposit is due. */
			good = _ak_tb_eta(tb, now, (uint64_t)-after);
			if (max_wait == 0 || good - now > max_wait ||
			    after < -AK_TBUCKET_MAX_DEBT) {
				wait = good - now;
				st = AK_EAGAIN;
				goto out;
			}
		}
		uint32_t taken = (uint32_t)w + (uint32_t)n;
		/* Relaxed: a take publishes nothing; waiters only need to see
		 * credits (seq_cst in tick/refund). */
		if (atomic_compare_exchange_weak_explicit(&tb->word, &w, (w & ~_AK_TB_LO) | taken,
							  memory_order_relaxed, memory_order_relaxed)) {
			if (tk) {
				tk->n = n;
				tk->end = taken;
				tk->pad_ = 0;
				tk->good_at = good;
			}
			wait = good - now;
			st = AK_OK;
			goto out;
		}
	}
out:
	if (wait_ns)
		*wait_ns = wait;
	return st;
}

/*
 * Take n tokens now or say how long until the schedule brings them.
 * AK_OK / AK_EAGAIN (*wait_ns: estimate, nothing written) / AK_E2BIG (n > b)
 * / AK_EINVAL (n == 0) / AK_EOVERFLOW (now >= 2^63).  Any thread; lock-free.
 */
AK_INLINE ak_status ak_tbucket_try_acquire_at(ak_tbucket *tb, uint64_t now, uint64_t n,
					      uint64_t *wait_ns)
{
	return _ak_tbucket_take(tb, now, n, 0, wait_ns, NULL);
}

/*
 * As above; the clock is read only when the answer is "not now" (to
 * estimate the wait), so the admitted path costs one CAS and no clock read.
 */
AK_INLINE ak_status ak_tbucket_try_acquire(ak_tbucket *tb, uint64_t n, uint64_t *wait_ns)
{
	uint64_t w = atomic_load_explicit(&tb->word, memory_order_relaxed);
	while (n != 0 && (int64_t)n <= _ak_tb_tokens(w) &&
	       n <= atomic_load_explicit(&tb->burst, memory_order_relaxed)) {
		/* Relaxed: as in _ak_tbucket_take(). */
		if (atomic_compare_exchange_weak_explicit(
			    &tb->word, &w, (w & ~_AK_TB_LO) | (uint32_t)((uint32_t)w + (uint32_t)n),
			    memory_order_relaxed, memory_order_relaxed)) {
			if (wait_ns)
				*wait_ns = 0;
			return AK_OK;
		}
	}
	return _ak_tbucket_take(tb, ak_clock_read(&tb->clock), n, 0, wait_ns, NULL);
}

/*
 * Reserve n tokens whose deposits are due within max_wait_ns of now.
 * AK_OK: *tk filled, *wait_ns = tk->good_at - now (an estimate: the tokens
 * are yours once ak_tbucket_ticket_ready() says so).  AK_EAGAIN: not in
 * time, or the debt limit; nothing written.  Other statuses as try_acquire.
 */
AK_INLINE ak_status ak_tbucket_reserve_at(ak_tbucket *tb, uint64_t now, uint64_t n,
					  uint64_t max_wait_ns, ak_tbucket_ticket *tk,
					  uint64_t *wait_ns)
{
	if (!tk)
		return AK_EINVAL;
	/* A ticket is fully defined whatever the outcome: after a failure it
	 * is empty, and cancelling it returns AK_ESTATE. */
	tk->n = 0;
	tk->end = 0;
	tk->pad_ = 0;
	tk->good_at = 0;
	return _ak_tbucket_take(tb, now, n, max_wait_ns, wait_ns, tk);
}

AK_INLINE ak_status ak_tbucket_reserve(ak_tbucket *tb, uint64_t n, uint64_t max_wait_ns,
				       ak_tbucket_ticket *tk, uint64_t *wait_ns)
{
	return ak_tbucket_reserve_at(tb, ak_clock_read(&tb->clock), n, max_wait_ns, tk, wait_ns);
}

/* True once the deposits cover the ticket (its tokens may be used). */
AK_INLINE bool ak_tbucket_ticket_ready(ak_tbucket *tb, const ak_tbucket_ticket *tk)
{
	/* Acquire pairs with the seq_cst credit CAS in tick/refund. */
	uint64_t w = atomic_load_explicit(&tb->word, memory_order_acquire);
	return _ak_tb_tokens(w) >= 0 || _ak_tb_diff((uint32_t)(w >> 32), tk->end) >= 0;
}

/*
 * Give back what ticket tk took: AK_OK if no take followed it (exact undo,
 * clamped to b only if deposits meanwhile would have overflowed it: the
 * same as never having reserved; a set_burst racing the cancel: clamped
 * to the smaller burst), AK_EBUSY otherwise (nothing given back),
 * AK_ESTATE if already cancelled, AK_EINVAL on NULL.  Spends the ticket.
 */
AK_INLINE ak_status ak_tbucket_cancel(ak_tbucket *tb, ak_tbucket_ticket *tk)
{
	if (!tb || !tk)
		return AK_EINVAL;
	if (tk->n == 0)
		return AK_ESTATE;
	uint64_t n = tk->n;
	tk->n = 0;
	uint64_t b = atomic_load_explicit(&tb->burst, memory_order_relaxed);
	_AK_TBUCKET_CANCEL_WINDOW(tb);
	for (uint64_t w = atomic_load_explicit(&tb->word, memory_order_relaxed);;) {
		if ((uint32_t)w != tk->end)
			return AK_EBUSY;
		uint32_t taken = tk->end - (uint32_t)n;
		uint32_t credited = (uint32_t)(w >> 32);
		if (_ak_tb_tokens(w) + (int64_t)n > (int64_t)b)
			credited = taken + (uint32_t)b;
		/* seq_cst: the first half of the Dekker with
		 * ak_tbucket_set_burst(), which stores the burst and then reads
		 * the word (pairs with its seq_cst fetch_or).  No waiter is
		 * ahead of the tail, so nobody needs waking. */
		if (atomic_compare_exchange_weak_explicit(&tb->word, &w,
							  ((uint64_t)credited << 32) | taken,
							  memory_order_seq_cst, memory_order_relaxed)) {
			/* A set_burst that lowered the burst before our CAS:
			 * take back what is above it (pairs with the seq_cst
			 * store in ak_tbucket_set_burst()). */
			uint64_t nb = atomic_load_explicit(&tb->burst, memory_order_seq_cst);
			if (AK_UNLIKELY(nb < b))
				(void)_ak_tbucket_clamp(tb, nb);
			return AK_OK;
		}
	}
}

/*
 * Put back up to n unused tokens, clamped so the bucket holds at most b (a
 * set_burst racing the refund: the smaller burst); *given (may be NULL) =
 * tokens put back and kept.  Waiting reservations benefit
 * first.  AK_OK, or AK_EINVAL (NULL, n == 0).  Any thread; lock-free.
 */
ak_status ak_tbucket_refund(ak_tbucket *tb, uint64_t n, uint64_t *given);

/*
 * Blocking: reserve n tokens and sleep until deposits cover them.
 *   AK_OK         the tokens are yours
 *   AK_ETIMEDOUT  not covered by deadline_ns (absolute CLOCK_MONOTONIC;
 *                 AK_DEADLINE_NONE = never); the reservation was undone (or,
 *                 when the schedule says at once that it cannot make it,
 *                 never made)
 *   AK_ECANCELED  `cancel` (NULL = not cancellable) fired; undone
 *   AK_EAGAIN     the debt limit (2^30 tokens owed) was reached
 *   AK_E2BIG, AK_EINVAL, AK_EOVERFLOW as try_acquire
 * FIFO; a waiter sleeps on a timer until the deposit before its own is due
 * and only then listens for deposits, so a deposit wakes only the waiters it
 * serves (plus any whose timer fired early because the driver ran late).  A
 * refund or set_rate wakes the timer sleepers to look again.
 */
ak_status ak_tbucket_acquire(ak_tbucket *tb, uint64_t n, uint64_t deadline_ns, ak_cancel *cancel);

/* ===================================================================== */
/* ak_refiller: one thread depositing into many buckets                   */
/* ===================================================================== */

typedef struct ak_refiller {
	_Atomic(uint32_t) mu;     /* spinlock: the list and `running` */
	pthread_t thread;
	_Atomic(uint32_t) ctl;    /* futex word: bumped by add/remove/stop */
	_Atomic(uint32_t) stop;
	ak_tbucket *head;
	ak_clock clock;
	int running;
} ak_refiller;

/* Start the thread (clock NULL: monotonic; a custom clock is polled every
 * millisecond).  r must be zeroed or stopped, not running.  AK_ESYS if the
 * thread cannot start.  AK_EINVAL on NULL. */
ak_status ak_refiller_start(ak_refiller *r, const ak_clock *clock);
/* Attach tb: from now on the thread ticks it.  AK_EBUSY if tb is attached
 * to a refiller already; AK_ESTATE if r is not running. */
ak_status ak_refiller_add(ak_refiller *r, ak_tbucket *tb);
/* Detach tb; on return the thread no longer touches it.  AK_ENOENT if tb
 * is not attached to r. */
ak_status ak_refiller_remove(ak_refiller *r, ak_tbucket *tb);
/* Stop and join the thread, detaching every bucket.  AK_ESTATE if not
 * running.  Afterwards r may be started again or discarded. */
ak_status ak_refiller_stop(ak_refiller *r);

AK_END_DECLS

#endif /* ATOMKIT_TBUCKET_H */
