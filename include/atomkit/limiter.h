/*
 * atomkit/limiter.h - lock-free lazy-refill rate limiter (GCRA) and a keyed
 * table of them for per-client limits.
 *
 * Overview
 *   ak_limiter        one limiter: `k` tokens per `per_ns` nanoseconds, burst
 *                     `b`.  No background thread: what is available is
 *                     computed from the time of the request.  The whole state
 *                     is one 64-bit word, the theoretical arrival time (TAT):
 *                     the instant at which the bucket would be full again.
 *   ak_limiter_table  fixed-capacity open-addressing table of per-key TATs
 *                     sharing one rate and burst; lock-free lookup and insert,
 *                     idle keys evicted lazily, no allocation after init.
 *
 * Contract
 *   - Rate.  ak_limiter is exact: the rate k/per_ns is reduced by gcd to
 *     k'/P', and the state counts time in units of 1/k' ns, so one token is
 *     exactly P' units (no rounding at all; k' <= 2^30).  The units are
 *     counted from an epoch that a lazy rebase moves forward when it gets
 *     old (every 2^60 units: at least 2^30 ns).  The keyed table counts in
 *     ns with T = ceil(per_ns / k): exact when k divides per_ns, otherwise
 *     rounded DOWN (never more than k per per_ns, under by < 1 part in T).
 *   - The window guarantee.  For every pair of admissions at times t_i <= t_j
 *     (the time passed to, or read by, the call), the tokens admitted with
 *     times in [t_i, t_j] are at most  b + k (t_j - t_i) / per_ns  (the
 *     table: b + (t_j - t_i) / T).  Reservations count at their good_at time, cancelled
 *     reservations not at all, and refunds count as negative admissions at
 *     the time of the refund.  tests/unit/limiter.c checks this over every
 *     window of random traces, in integer arithmetic.  A refund applied out
 *     of time order with a take (a take stamped earlier than a refund
 *     already applied, or a refund stamped earlier than a take already
 *     applied) can let that take spend the refunded tokens at its own time:
 *     the excess in any window is at most the tokens such refunds gave
 *     back (docs/ratelimit.md, "Refunds and stale times").
 *   - try_acquire(n) admits n tokens or returns AK_EAGAIN with the ns until
 *     it would succeed, and then writes nothing.  n > b is AK_E2BIG (it could
 *     never succeed), n == 0 is AK_EINVAL.  Bad configuration is AK_EINVAL.
 *   - Time.  Times are ns below 2^63 (292 years); a time at or beyond 2^63,
 *     or a reservation further ahead than the state can count (2^62 units
 *     past the epoch), is AK_EOVERFLOW, never a wrap.  A clock that steps backwards never
 *     creates tokens: a smaller `now` only makes the limiter stricter, and a
 *     time before the epoch (only possible across a rebase) is refused.
 *     The limiter starts full.
 *   - Reservations.  reserve(n, max_wait) takes n tokens now, possibly in
 *     debt, and says when they are good (good_at).  cancel() gives back
 *     exactly what the ticket took if the ticket is not yet good and no
 *     later take or reconfiguration has touched the state since; otherwise
 *     it gives back nothing (AK_EBUSY), never more.  refund(n) gives back
 *     up to n tokens, clamped so the bucket never holds more than b; it
 *     gives nothing while reservations are outstanding in the future (that
 *     would let newcomers overtake promised slots).
 *   - Reconfiguration.  set_rate / set_burst are safe against concurrent
 *     acquirers: they first wait for a grace period (every take or refund
 *     between its load of the state word and its CAS has finished), then
 *     take the state word's lock bit for a few stores, and flip its
 *     generation bit so that an acquirer that read the old config cannot
 *     complete its CAS; the grace period makes sure no acquirer holds a
 *     word from before the previous change, which two changes could bring
 *     back.  Reservations granted before a change keep
 *     their good_at times (as in Go's x/time/rate), so a rate change at r
 *     takes effect at s = max(r, good_at of the last pending reservation):
 *     the old rate until s, the debt kept in tokens from s, and no new
 *     grant good before the last promise.  The window guarantee holds with
 *     that schedule and the largest burst.  set_burst keeps the tokens
 *     available, capped at the new burst (a raise adds none at once).
 *     See docs/ratelimit.md, "Rate changes".
 *
 * Progress
 *   try_acquire, reserve, cancel, refund: lock-free (one CAS loop on one
 *   word; a rejection is one load).  They wait only while a set_rate /
 *   set_burst / rebase, or a successful cancel's undo, on the same limiter
 *   is between its lock and unlock (a few stores; the waiter spins, then
 *   yields).  cancel itself never waits.  The call that finds the
 *   epoch 2^60 units old does the rebase itself (rare: at most about once
 *   a second, and never for k' = 1 in 36 years), and, like a setter, first
 *   waits for the takes in flight: that one call is blocking.
 *   set_rate / set_burst: blocking against each other and against takes
 *   in flight (a taker preempted between its load
 *   and its CAS delays them until it runs; it is never delayed by them).
 *   No limiter call in a signal handler that may interrupt a limiter
 *   call on the same thread: a setter would wait for that call, and any
 *   call can spin on a lock bit the interrupted one holds.  The grace
 *   period covers the calling process only (see docs/ratelimit.md).
 *   ak_limiter_acquire(): blocking (sleeps until its reservation is good).
 *   Table: lookup lock-free; inserting a new key is lock-free against other
 *   inserts (one commit CAS per insert); an operation on a key being
 *   inserted by another thread waits for that insert's last store.
 *
 * Example
 *     ak_limiter l;
 *     ak_limiter_init(&l, 100, AK_NS_PER_SEC, 10, NULL);   // 100/s, burst 10
 *     uint64_t wait;
 *     if (ak_limiter_try_acquire(&l, 1, &wait) == AK_EAGAIN)
 *         reply_429(wait);
 */
#ifndef ATOMKIT_LIMITER_H
#define ATOMKIT_LIMITER_H

#include <stdbool.h>
#include <stddef.h>

#include "clock.h"
#include "internal/compiler.h"
#include "internal/fence.h"
#include "internal/ratelimit.h"
#include "internal/relax.h"
#include "status.h"

AK_BEGIN_DECLS

typedef struct ak_cancel ak_cancel;

/* ===================================================================== */
/* ak_limiter                                                              */
/* ===================================================================== */

/* Bit 63 of the state word: a set_rate/set_burst holds the config.
 * Bit 62: generation parity, flipped by every set_rate/set_burst.
 * Bits 0..61: the TAT in ns. */
#define _AK_LIMITER_LOCK (UINT64_C(1) << 63)
#define _AK_LIMITER_GEN (UINT64_C(1) << 62)
#define _AK_LIMITER_TAT (_AK_LIMITER_GEN - 1)
/* The TAT field's range, in units past the epoch (not ns: the epoch moves). */
#define _AK_LIMITER_TAT_LIMIT _AK_LIMITER_GEN

typedef struct ak_limiter {
	/* TAT | _AK_LIMITER_GEN | _AK_LIMITER_LOCK.  The config below is
	 * read with relaxed loads under the word's acquire and only written
	 * while the lock bit is set (a seqlock whose sequence is the word). */
	AK_CACHE_ALIGNED _Atomic(uint64_t) word;
	_Atomic(uint64_t) interval;  /* P': units per token */
	_Atomic(uint64_t) scale;     /* k': units per ns */
	_Atomic(uint64_t) burst;     /* b */
	_Atomic(uint64_t) tolerance; /* b * P' units */
	_Atomic(uint64_t) epoch;     /* ns at unit 0 */
	_Atomic(uint64_t) horizon;   /* ns after the epoch that need a rebase */
	_Atomic(uint64_t) gen;       /* +1 by every set_rate/set_burst/rebase */
	ak_clock clock;              /* now == NULL: CLOCK_MONOTONIC */
} ak_limiter;
AK_ASSERT_PADDED(ak_limiter);

/* A reservation.  n == 0 once cancelled. */
typedef struct ak_limiter_ticket {
	uint64_t n;       /* tokens taken */
	uint64_t start;   /* state word the reservation started from */
	uint64_t end;     /* state word it left behind */
	uint64_t good_at; /* when the tokens may be used (<= now: at once) */
	uint64_t gen;     /* config generation it was taken under */
} ak_limiter_ticket;

/*
 * Initialise: k tokens every per_ns ns, burst b, starting full.  `clock`
 * is copied; NULL means CLOCK_MONOTONIC.  AK_EINVAL if l is NULL, k, per_ns
 * or b is zero, the reduced k exceeds 2^30, or b * (reduced per_ns) exceeds
 * 2^60.  Not thread-safe.
 */
ak_status ak_limiter_init(ak_limiter *l, uint64_t k, uint64_t per_ns, uint64_t b,
			  const ak_clock *clock);

/* Reconfigure (see Contract).  Same validation as init; AK_EOVERFLOW for
 * now >= 2^63 or when the pending debt would not fit the new units
 * (nothing changed).  Any thread; serialised against other setters. */
ak_status ak_limiter_set_rate_at(ak_limiter *l, uint64_t now, uint64_t k, uint64_t per_ns);
ak_status ak_limiter_set_rate(ak_limiter *l, uint64_t k, uint64_t per_ns);
ak_status ak_limiter_set_burst_at(ak_limiter *l, uint64_t now, uint64_t b);
ak_status ak_limiter_set_burst(ak_limiter *l, uint64_t b);

/* The rate in force, reduced: *k tokens per *per_ns ns. */
AK_INLINE void ak_limiter_rate(ak_limiter *l, uint64_t *k, uint64_t *per_ns)
{
	*k = atomic_load_explicit(&l->scale, memory_order_relaxed);
	*per_ns = atomic_load_explicit(&l->interval, memory_order_relaxed);
}
AK_INLINE uint64_t ak_limiter_burst(ak_limiter *l)
{
	return atomic_load_explicit(&l->burst, memory_order_relaxed);
}

/* Benchmark hook, not API: bench/ratelimit.c defines it before including
 * this header to count failed admission CASes.  Nothing by default. */
#ifndef _AK_LIMITER_CAS_FAILED
#define _AK_LIMITER_CAS_FAILED() ((void)0)
#endif

/* Test hook, not API (tests/unit/limiter.c): when set, called by a take
 * and by a refund between their load of the state word and their CAS.
 * NULL in production: one load and a branch never taken. */
extern void (*_ak_limiter_test_window)(ak_limiter *l);

/* Config snapshot validated against the state word (see _ak_limiter_take). */
struct _ak_limiter_cfg {
	uint64_t interval, scale, burst, tolerance, epoch, horizon, gen;
};

/* Span of the unit clock before a rebase (and largest tolerance). */
#define _AK_LIMITER_SPAN (UINT64_C(1) << 60)
#define _AK_LIMITER_MAX_SCALE (UINT64_C(1) << 30)

/* Move the epoch forward (src/limiter.c): called when now is more than
 * _AK_LIMITER_SPAN units past it. */
void _ak_limiter_rebase(ak_limiter *l, uint64_t now);

/* Give the CPU away (sched_yield; out of line so this header needs no
 * POSIX feature macros).  For waits on another thread's few stores when
 * that thread may have been preempted in the middle of them. */
void _ak_rl_yield(void);

/* Spin politely: pause with backoff, then yield. */
AK_INLINE void _ak_rl_pause(struct _ak_backoff *bo)
{
	if (_ak_backoff_exhausted(bo))
		_ak_rl_yield();
	else
		_ak_backoff_spin(bo);
}

/*
 * Taker announcements (the read side of the grace period that every
 * set_rate / set_burst / rebase waits for before it takes the lock bit; see
 * docs/ratelimit.md, "Grace periods").  A take or refund is "in its
 * section" from just before its load of the state word to just after its
 * CAS: it then holds a word it may still CAS.  Each thread announces that
 * in a cache line of its own (a slot of a static array, claimed on the
 * thread's first call, given back at thread exit), with a plain store and a
 * compiler barrier; the setter pays for the store->load ordering with
 * membarrier().  Threads that find no free slot share two counters (an
 * SRCU-style pair) instead.
 */
#define _AK_LR_MEMBARRIER 0u /* slot; the setter's membarrier() orders it */
#define _AK_LR_FENCE 1u      /* slot; no membarrier: the taker fences itself */
#define _AK_LR_SHARED 2u     /* no slot: the shared counter pair */
#define _AK_LR_UNCLAIMED 3u  /* the thread has not asked for a slot yet */
/* Token of a section entered on the shared pair: bit 63, the counter's
 * index in bit 1, and bit 0 set (exit then stores nothing to a slot). */
#define _AK_LR_TOK_SHARED (UINT64_C(1) << 63)

struct _ak_limiter_reader {
	/* Odd inside a section, even outside; only ever grows (by one at
	 * entry and at exit), so a setter that saw an odd value knows that
	 * section is over as soon as the value changes. */
	AK_CACHE_ALIGNED _Atomic(uint64_t) active;
	uint32_t mode;             /* _AK_LR_*: owner only */
	_Atomic(uint32_t) in_use;  /* slot claimed by a live thread */
};
AK_ASSERT_PADDED(struct _ak_limiter_reader);

/* The calling thread's slot in _AK_LR_MEMBARRIER mode (src/limiter.c).
 * Otherwise (no slot yet, the shared pair, a self-fencing slot) a stand-in
 * whose `active` is odd and never written, so the hot path's one test (an
 * odd value: nested, or not the fast mode) sends it out of line. */
extern AK_THREAD_LOCAL struct _ak_limiter_reader *_ak_limiter_self;

/* Entry when the slot reads odd: a nested section, or a thread that is not
 * in the fast mode (claims a slot if it has none; no free slot means the
 * shared pair, never a failure).  Sets *rp; returns the token. */
uint64_t _ak_limiter_enter_slow(struct _ak_limiter_reader **rp);
void _ak_limiter_exit_shared(uint64_t tok);

/* Not API, for tests: let new threads claim only the first `limit` slots
 * (0: every new thread uses the shared pair), and make new slots fence
 * themselves as if membarrier were unavailable (force_fence = 1). */
void _ak_limiter_test_slots(unsigned limit, int force_fence);
/* Not API, for tests: slots held by live threads; the calling thread's
 * mode (_AK_LR_*, claiming a slot first if it has none). */
unsigned _ak_limiter_test_claimed(void);
unsigned _ak_limiter_test_mode(void);
/* Test hook, not API (tests/unit/limiter.c, test_two_setters): when set,
 * called by a setter's grace period between its read of the shared pair's
 * index and its first wait.  Reconfigurations only (set_rate, set_burst,
 * rebase), never inside a take's section; NULL in production. */
extern void (*_ak_limiter_test_pair)(void);
/* Test hook, not API (tests/unit/limiter.c, test_fork_locked): when set,
 * called with the limiter (a setter, just before it clears the lock bit)
 * or the table (a key's claim, just before it clears BUSY).  NULL in
 * production. */
extern void (*_ak_limiter_test_locked)(const void *obj);

/* Out of line (src/limiter.c): the locked part of a cancel, inside the
 * fork gate.  expect is the word the ticket left (its end). */
ak_status _ak_limiter_cancel_locked(ak_limiter *l, uint64_t expect, const ak_limiter_ticket *tk);

/*
 * Enter a section: *rp receives the thread's slot; returns the token for
 * _ak_limiter_exit() (the slot's even value before entry).  Sections nest
 * (a signal handler's take inside a take): the inner one finds the value
 * odd, leaves it, and gets that odd value as its token.
 *
 * Why a compiler barrier is enough: the setter, after it has seen the
 * reconfiguration that came before it, runs membarrier(), a full barrier
 * on every running thread of the process.  If that barrier falls before
 * our store of `active`, our load of the word comes after it too and sees
 * that reconfiguration (we hold no older word); if after, the store is
 * visible to the setter's scan, which waits for us.
 */
AK_INLINE uint64_t _ak_limiter_enter(struct _ak_limiter_reader **rp)
{
	struct _ak_limiter_reader *r = _ak_limiter_self;
	uint64_t prev = atomic_load_explicit(&r->active, memory_order_relaxed);
	if (AK_UNLIKELY(prev & 1))
		return _ak_limiter_enter_slow(rp);
	*rp = r;
	/* Release pairs with the acquire loads of `active` in the setter's
	 * scan (grace_period() in src/limiter.c): a scan that sees this
	 * section also sees the end (the CAS) of the previous one. */
	atomic_store_explicit(&r->active, prev + 1, memory_order_release);
	__asm__ __volatile__("" ::: "memory");
	return prev;
}

/* Leave the section entered with token tok on slot r. */
AK_INLINE void _ak_limiter_exit(struct _ak_limiter_reader *r, uint64_t tok)
{
	if (AK_LIKELY(!(tok & 1)))
		/* Release pairs with the acquire loads of `active` in the
		 * setter's scan: our CAS happens before the setter takes the
		 * lock bit. */
		atomic_store_explicit(&r->active, tok + 2, memory_order_release);
	else if (AK_UNLIKELY(tok & _AK_LR_TOK_SHARED))
		_ak_limiter_exit_shared(tok);
}

/* Load the state word, waiting out a reconfiguration in progress. */
AK_INLINE uint64_t _ak_limiter_load(ak_limiter *l)
{
	/* Acquire pairs with the release store that ends a set_rate/set_burst
	 * (_ak_limiter_unlock in src/limiter.c): the config read next is at
	 * least as new as this word. */
	uint64_t w = atomic_load_explicit(&l->word, memory_order_acquire);
	if (AK_UNLIKELY(w & _AK_LIMITER_LOCK)) {
		struct _ak_backoff bo = _AK_BACKOFF_INIT(64);
		do {
			_ak_rl_pause(&bo);
			/* Acquire: as above. */
			w = atomic_load_explicit(&l->word, memory_order_acquire);
		} while (w & _AK_LIMITER_LOCK);
	}
	return w;
}

/* The same inside a section (token *tok).  The lock bit is waited out
 * outside the section, so that no setter waiting for its grace period waits
 * for a spinner.  (A nested section stays in the outer one while it spins:
 * that is safe, the bit's holder is past its grace period.) */
AK_INLINE uint64_t _ak_limiter_load_in(ak_limiter *l, struct _ak_limiter_reader **r, uint64_t *tok)
{
	/* Acquire pairs with the release store ending a setter's change
	 * (limiter_unlock in src/limiter.c), as in _ak_limiter_load(). */
	uint64_t w = atomic_load_explicit(&l->word, memory_order_acquire);
	while (AK_UNLIKELY(w & _AK_LIMITER_LOCK)) {
		_ak_limiter_exit(*r, *tok);
		(void)_ak_limiter_load(l);
		*tok = _ak_limiter_enter(r);
		/* Acquire pairs with the unlock's release store, as above. */
		w = atomic_load_explicit(&l->word, memory_order_acquire);
	}
	return w;
}

AK_INLINE void _ak_limiter_cfg_read(ak_limiter *l, struct _ak_limiter_cfg *c)
{
	c->interval = atomic_load_explicit(&l->interval, memory_order_relaxed);
	c->scale = atomic_load_explicit(&l->scale, memory_order_relaxed);
	c->burst = atomic_load_explicit(&l->burst, memory_order_relaxed);
	c->tolerance = atomic_load_explicit(&l->tolerance, memory_order_relaxed);
	c->epoch = atomic_load_explicit(&l->epoch, memory_order_relaxed);
	c->horizon = atomic_load_explicit(&l->horizon, memory_order_relaxed);
	c->gen = atomic_load_explicit(&l->gen, memory_order_relaxed);
}

/* now in units since the epoch: 0, or 1 (before the epoch), or 2 (a
 * rebase is due).  A torn config (scale 0) reads as "before": the caller
 * re-validates before believing it. */
AK_INLINE int _ak_limiter_units(const struct _ak_limiter_cfg *c, uint64_t now, uint64_t *now_u)
{
	if (now < c->epoch || c->scale == 0)
		return 1;
	uint64_t d = now - c->epoch;
	if (d >= c->horizon) /* _AK_LIMITER_SPAN / scale */
		return 2;
	*now_u = d * c->scale;
	return 0;
}

/*
 * True if the config just read still belongs to state word w.  Only the
 * paths that return without a CAS need this (a successful CAS proves it).
 * The acquire fence pairs with the release fence a setter issues after
 * taking the lock bit and before storing config: if we read any of its
 * config stores, the reload sees the lock bit or later.
 */
AK_INLINE bool _ak_limiter_cfg_valid(ak_limiter *l, uint64_t w)
{
	_ak_fence_acquire(&l->word);
	return atomic_load_explicit(&l->word, memory_order_relaxed) == w;
}

/*
 * The one GCRA decision.  State tat, time now, cost = n * T, tolerance
 * tol = b * T.  All inputs < 2^63 (tat, now) or <= 2^62 (cost, tol), so
 * no sum below leaves 64 bits.  Returns the new TAT through *end and the
 * time the tokens are good through *good.
 */
AK_INLINE void _ak_gcra(uint64_t tat, uint64_t now, uint64_t cost, uint64_t tol,
			uint64_t *end, uint64_t *good)
{
	uint64_t base = tat > now ? tat : now;
	uint64_t e = base + cost;
	*end = e;
	*good = e > now + tol ? e - tol : now;
}

/*
 * Take n tokens if they are good within max_wait of now (0: immediately).
 * On AK_OK fills *tk (if given); on AK_EAGAIN *wait_ns is the ns until the
 * request would be good and nothing was written.
 */
AK_INLINE ak_status _ak_limiter_take(ak_limiter *l, uint64_t now, uint64_t n, uint64_t max_wait,
				     uint64_t *wait_ns, ak_limiter_ticket *tk)
{
	uint64_t wait = UINT64_MAX, tok;
	struct _ak_limiter_reader *rd;
	ak_status st;

	if (AK_UNLIKELY(n == 0)) {
		st = AK_EINVAL;
		goto out;
	}
	if (AK_UNLIKELY(now >= _AK_RL_TIME_LIMIT)) {
		st = AK_EOVERFLOW;
		goto out;
	}
	tok = _ak_limiter_enter(&rd);
	for (uint64_t w = _ak_limiter_load_in(l, &rd, &tok);;) {
		struct _ak_limiter_cfg c;
		uint64_t end, good, now_u = 0;

		_ak_limiter_cfg_read(l, &c);
		int where = _ak_limiter_units(&c, now, &now_u);
		if (AK_UNLIKELY(n > c.burst || where != 0)) {
			if (!_ak_limiter_cfg_valid(l, w)) {
				w = _ak_limiter_load_in(l, &rd, &tok);
				continue;
			}
			if (n > c.burst) {
				st = AK_E2BIG;
				goto leave;
			}
			if (where == 2) {
				/* Never wait for a grace period inside a section. */
				_ak_limiter_exit(rd, tok);
				_ak_limiter_rebase(l, now);
				tok = _ak_limiter_enter(&rd);
				w = _ak_limiter_load_in(l, &rd, &tok);
				continue;
			}
			/* Before the epoch: never admit; say when it would be. */
			_ak_gcra(w & _AK_LIMITER_TAT, 0, n * c.interval, c.tolerance, &end, &good);
			wait = c.epoch - now + _ak_rl_div_up(good, c.scale);
			st = AK_EAGAIN;
			goto leave;
		}
		_ak_gcra(w & _AK_LIMITER_TAT, now_u, n * c.interval, c.tolerance, &end, &good);
		if (good > now_u && good % c.scale != 0) {
			/* A reservation is good at a whole ns: push it to the
			 * next one (costs < 1 ns), so the holder, who can only
			 * act on whole ns, never starts early. */
			uint64_t pad = c.scale - good % c.scale;
			good += pad;
			end += pad;
		}
		uint64_t wait_u = good - now_u;
		int late = wait_u != 0 && (max_wait == 0 || wait_u > _ak_rl_mul_sat(max_wait, c.scale));
		if (late || AK_UNLIKELY(end >= _AK_LIMITER_TAT_LIMIT)) {
			if (!_ak_limiter_cfg_valid(l, w)) {
				w = _ak_limiter_load_in(l, &rd, &tok);
				continue;
			}
			wait = _ak_rl_div_up(wait_u, c.scale);
			st = late ? AK_EAGAIN : AK_EOVERFLOW;
			goto leave;
		}
		/* The CAS itself proves the config read belongs to w.  Release
		 * on success pairs with the acquire load in ak_limiter_cancel(),
		 * whose clock read must not be older than this take; acquire on
		 * failure is for the next round's config read (pairs with the
		 * release store ending a set_rate). */
		uint64_t gen = w & _AK_LIMITER_GEN;
		if (AK_UNLIKELY(_ak_limiter_test_window != NULL))
			_ak_limiter_test_window(l);
		if (atomic_compare_exchange_weak_explicit(&l->word, &w, end | gen, memory_order_acq_rel,
							  memory_order_acquire)) {
			if (tk) {
				tk->n = n;
				/* The word as it was (w: the CAS leaves it), not
				 * end - cost: that would keep the pad, and a
				 * LIFO cancel of the ticket before this one
				 * would then find a TAT off by it. */
				tk->start = w;
				tk->end = end | gen;
				tk->good_at = c.epoch + _ak_rl_div_up(good, c.scale);
				tk->gen = c.gen;
			}
			wait = wait_u ? wait_u / c.scale : 0; /* a multiple of scale */
			st = AK_OK;
			goto leave;
		}
		_AK_LIMITER_CAS_FAILED();
		if (AK_UNLIKELY(w & _AK_LIMITER_LOCK))
			w = _ak_limiter_load_in(l, &rd, &tok);
	}
leave:
	_ak_limiter_exit(rd, tok);
out:
	if (wait_ns)
		*wait_ns = wait;
	return st;
}

/*
 * Admit n tokens at time `now` (ns, your clock's timeline) or say how long
 * until that would succeed.
 *   AK_OK        admitted (*wait_ns = 0)
 *   AK_EAGAIN    not now; *wait_ns = ns until it would succeed; no state written
 *   AK_E2BIG     n > burst: can never succeed (*wait_ns = UINT64_MAX)
 *   AK_EINVAL    n == 0
 *   AK_EOVERFLOW now >= 2^63, or the state would pass 2^62 units past the epoch
 * wait_ns may be NULL.  Any thread.  Lock-free.
 */
AK_INLINE ak_status ak_limiter_try_acquire_at(ak_limiter *l, uint64_t now, uint64_t n,
					      uint64_t *wait_ns)
{
	return _ak_limiter_take(l, now, n, 0, wait_ns, NULL);
}

/* As ak_limiter_try_acquire_at() with now read from the limiter's clock. */
AK_INLINE ak_status ak_limiter_try_acquire(ak_limiter *l, uint64_t n, uint64_t *wait_ns)
{
	return _ak_limiter_take(l, ak_clock_read(&l->clock), n, 0, wait_ns, NULL);
}

/*
 * Reserve n tokens that are good at most max_wait_ns after now.  On AK_OK
 * *tk says when (tk->good_at; at once when <= now) and *wait_ns = good_at -
 * now.  AK_EAGAIN: they would not be good in time; *wait_ns = how long they
 * would take; nothing written.  Other statuses as try_acquire.  The caller
 * either uses the tokens from good_at on or calls ak_limiter_cancel().
 */
AK_INLINE ak_status ak_limiter_reserve_at(ak_limiter *l, uint64_t now, uint64_t n,
					  uint64_t max_wait_ns, ak_limiter_ticket *tk,
					  uint64_t *wait_ns)
{
	if (!tk)
		return AK_EINVAL;
	/* A ticket is fully defined whatever the outcome: after a failure it
	 * is empty, and cancelling it returns AK_ESTATE. */
	tk->n = 0;
	tk->start = 0;
	tk->end = 0;
	tk->good_at = 0;
	tk->gen = 0;
	return _ak_limiter_take(l, now, n, max_wait_ns, wait_ns, tk);
}

AK_INLINE ak_status ak_limiter_reserve(ak_limiter *l, uint64_t n, uint64_t max_wait_ns,
				       ak_limiter_ticket *tk, uint64_t *wait_ns)
{
	return ak_limiter_reserve_at(l, ak_clock_read(&l->clock), n, max_wait_ns, tk, wait_ns);
}

/*
 * Give back what ticket tk took, at time now, while it is not yet good.
 *   AK_OK      all tk->n tokens given back: nothing has touched the state
 *              since the reservation and now < tk->good_at, so it is
 *              exactly as if the reservation never was
 *   AK_EBUSY   nothing given back: a later take, a reconfiguration, or the
 *              ticket is already good (its tokens are the holder's)
 *   AK_ESTATE  the ticket is empty or was cancelled already
 *   AK_EINVAL  NULL
 * The ticket is spent afterwards (tk->n = 0).  Any thread.  Lock-free.
 *
 * Why "not yet good": takes only raise the TAT, so TAT == tk->end means
 * nobody took after us, except that a refund lowers it and a take can
 * raise it back to the same value.  Refunds are refused while any
 * reservation is still in the future, so a ticket that is not yet good at
 * the time of the cancel cannot have seen a refund since it was made.
 * ak_limiter_cancel() reads the clock after loading the state for that
 * reason; with _at, `now` must not be older than the state it cancels
 * against (see docs/ratelimit.md, "Pitfalls").
 *
 * Reconfigurations are told apart by the config generation, not by the
 * word: the word's one generation bit comes back after two changes, and a
 * TAT re-expressed in new units can equal the ticket's old value.  So the
 * undo takes the word's lock bit (a CAS from exactly tk->end: it never
 * waits), checks the generation while no setter can run, and stores the
 * answer.  Acquirers wait those few instructions, as for a setter.
 */
AK_INLINE ak_status _ak_limiter_cancel(ak_limiter *l, uint64_t now, uint64_t w,
				       ak_limiter_ticket *tk)
{
	uint64_t expect = tk->end;
	tk->n = 0;
	if (w != expect || now >= tk->good_at)
		return AK_EBUSY;
	return _ak_limiter_cancel_locked(l, expect, tk);
}

AK_INLINE ak_status ak_limiter_cancel_at(ak_limiter *l, uint64_t now, ak_limiter_ticket *tk)
{
	if (!l || !tk)
		return AK_EINVAL;
	if (tk->n == 0)
		return AK_ESTATE;
	/* Acquire pairs with the acq_rel CAS of whichever take or refund
	 * wrote this value. */
	return _ak_limiter_cancel(l, now, atomic_load_explicit(&l->word, memory_order_acquire), tk);
}

AK_INLINE ak_status ak_limiter_cancel(ak_limiter *l, ak_limiter_ticket *tk)
{
	if (!l || !tk)
		return AK_EINVAL;
	if (tk->n == 0)
		return AK_ESTATE;
	/* Acquire pairs with the acq_rel CAS of the take or refund that wrote
	 * this value, so the clock read below is not older than it. */
	uint64_t w = atomic_load_explicit(&l->word, memory_order_acquire);
	return _ak_limiter_cancel(l, ak_clock_read(&l->clock), w, tk);
}

/*
 * Put back up to n tokens taken earlier and not used, at time now.  The
 * bucket is clamped to its burst, so fewer may go back; *given (may be
 * NULL) receives the tokens put back (whole tokens, exactly).
 *   AK_OK        done (possibly *given < n, or 0 when already full)
 *   AK_EBUSY     reservations are outstanding in the future: nothing given
 *   AK_EINVAL    n == 0 or NULL;  AK_EOVERFLOW  now >= 2^63
 * Any thread.  Lock-free.
 */
AK_INLINE ak_status ak_limiter_refund_at(ak_limiter *l, uint64_t now, uint64_t n,
					 uint64_t *given)
{
	uint64_t g = 0;
	ak_status st = AK_OK;

	if (!l || n == 0)
		st = AK_EINVAL;
	else if (now >= _AK_RL_TIME_LIMIT)
		st = AK_EOVERFLOW;
	else {
		struct _ak_limiter_reader *rd;
		uint64_t tok = _ak_limiter_enter(&rd);
		for (uint64_t w = _ak_limiter_load_in(l, &rd, &tok);;) {
			struct _ak_limiter_cfg c;
			uint64_t now_u = 0;
			_ak_limiter_cfg_read(l, &c);
			int where = _ak_limiter_units(&c, now, &now_u);
			uint64_t m = n < c.burst ? n : c.burst;
			uint64_t tat = w & _AK_LIMITER_TAT;

			if (where != 0 || tat <= now_u || tat > now_u + c.tolerance) {
				if (!_ak_limiter_cfg_valid(l, w)) {
					w = _ak_limiter_load_in(l, &rd, &tok);
					continue;
				}
				if (where == 2) {
					_ak_limiter_exit(rd, tok);
					_ak_limiter_rebase(l, now);
					tok = _ak_limiter_enter(&rd);
					w = _ak_limiter_load_in(l, &rd, &tok);
					continue;
				}
				/* before the epoch, or in debt: nothing; full: 0 */
				st = where == 0 && tat <= now_u ? AK_OK : AK_EBUSY;
				break;
			}
			/* Whole tokens only, so *given is exact; the bucket
			 * never rises above full (TAT >= now). */
			uint64_t room = (tat - now_u) / c.interval;
			uint64_t put = m < room ? m : room;
			if (put == 0) {
				if (!_ak_limiter_cfg_valid(l, w)) {
					w = _ak_limiter_load_in(l, &rd, &tok);
					continue;
				}
				break;
			}
			if (AK_UNLIKELY(_ak_limiter_test_window != NULL))
				_ak_limiter_test_window(l);
			/* Release on success pairs with the acquire load in
			 * ak_limiter_cancel(); acquire (both) for the next
			 * round's config read (pairs with the release store
			 * ending a set_rate). */
			if (atomic_compare_exchange_weak_explicit(&l->word, &w, w - put * c.interval,
								  memory_order_acq_rel,
								  memory_order_acquire)) {
				g = put;
				break;
			}
			if (w & _AK_LIMITER_LOCK)
				w = _ak_limiter_load_in(l, &rd, &tok);
		}
		_ak_limiter_exit(rd, tok);
	}
	if (given)
		*given = g;
	return st;
}

AK_INLINE ak_status ak_limiter_refund(ak_limiter *l, uint64_t n, uint64_t *given)
{
	if (!l)
		return AK_EINVAL;
	return ak_limiter_refund_at(l, ak_clock_read(&l->clock), n, given);
}

/* Whole tokens available at now (a snapshot; 0 while in debt). */
AK_INLINE uint64_t ak_limiter_available_at(ak_limiter *l, uint64_t now)
{
	/* In a section, so that two reconfigurations cannot bring the word
	 * back between the load and the validation (a torn config would pass). */
	struct _ak_limiter_reader *rd;
	uint64_t r;
	for (;;) {
		uint64_t tok = _ak_limiter_enter(&rd), now_u = 0;
		uint64_t w = _ak_limiter_load_in(l, &rd, &tok);
		struct _ak_limiter_cfg c;
		_ak_limiter_cfg_read(l, &c);
		int where = _ak_limiter_units(&c, now, &now_u);
		int valid = _ak_limiter_cfg_valid(l, w);
		_ak_limiter_exit(rd, tok);
		if (!valid)
			continue;
		if (where == 2 && now < _AK_RL_TIME_LIMIT) {
			_ak_limiter_rebase(l, now);
			continue;
		}
		uint64_t tat = w & _AK_LIMITER_TAT;
		if (where != 0 || tat >= now_u + c.tolerance)
			r = 0;
		else if (tat <= now_u)
			r = c.burst;
		else
			r = (now_u + c.tolerance - tat) / c.interval;
		return r;
	}
}

/*
 * Blocking: reserve n tokens and sleep until they are good.
 *   AK_OK         the tokens are yours
 *   AK_ETIMEDOUT  they would not be good before deadline_ns (absolute
 *                 CLOCK_MONOTONIC ns; AK_DEADLINE_NONE = never): returned
 *                 at once without taking anything, or, if the limiter was
 *                 reconfigured meanwhile, after undoing the reservation
 *   AK_ECANCELED  `cancel` (may be NULL) fired; the reservation was undone
 *                 (see ak_limiter_cancel for what that gives back)
 *   AK_EINTR      never: signals are absorbed and the wait resumed
 *   AK_E2BIG, AK_EINVAL, AK_EOVERFLOW as try_acquire
 * Waiters are served in reservation order (FIFO): each sleeps on its own
 * until its own good_at, so a token never wakes a crowd.  With a custom
 * clock the limiter's clock is polled every 1 ms of real time.
 */
ak_status ak_limiter_acquire(ak_limiter *l, uint64_t n, uint64_t deadline_ns, ak_cancel *cancel);

/* ===================================================================== */
/* ak_limiter_table: per-key limits                                        */
/* ===================================================================== */

/* Key encodings in a slot: 0 = never used, UINT64_MAX = free again.  A user
 * key k is stored as k + 1, so keys UINT64_MAX - 1 and UINT64_MAX are
 * reserved (AK_EINVAL). */
#define _AK_LT_EMPTY UINT64_C(0)
#define _AK_LT_TOMB UINT64_MAX
/* Bit 63 of a slot's TAT: the slot is being (re)claimed for a new key. */
#define _AK_LT_BUSY (UINT64_C(1) << 63)
/* Longest probe sequence. */
#define AK_LIMITER_TABLE_MAX_PROBE 64u

typedef struct ak_limiter_slot {
	_Atomic(uint64_t) key;
	_Atomic(uint64_t) tat;
} ak_limiter_slot;

typedef struct ak_limiter_table {
	ak_limiter_slot *slots;
	uint64_t mask;
	uint32_t probe;
	uint64_t interval, burst, tolerance;
	ak_clock clock;
	/* Insert commit counter: each committed insert bumps it once. */
	AK_CACHE_ALIGNED _Atomic(uint64_t) inserts;
} ak_limiter_table;

/*
 * Initialise over caller-owned storage: nslots (a power of two, >= 1)
 * slots, all keys sharing rate k per per_ns and burst b.  The slots are
 * cleared here; nothing is allocated, now or later.  AK_EINVAL on NULLs,
 * nslots not a power of two, or a bad rate/burst (as ak_limiter_init).
 */
ak_status ak_limiter_table_init(ak_limiter_table *t, ak_limiter_slot *slots, size_t nslots,
				uint64_t k, uint64_t per_ns, uint64_t b, const ak_clock *clock);

/* Slow path: find or claim a slot for stored key sk (see src/limiter.c). */
ak_status _ak_limiter_table_insert(ak_limiter_table *t, uint64_t sk, uint64_t now,
				   ak_limiter_slot **out);

AK_INLINE uint64_t _ak_limiter_hash(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return x;
}

/* Lock-free lookup: the slot holding stored key sk, or NULL. */
AK_INLINE ak_limiter_slot *_ak_limiter_table_find(ak_limiter_table *t, uint64_t sk)
{
	uint64_t h = _ak_limiter_hash(sk);
	for (uint32_t i = 0; i < t->probe; i++) {
		ak_limiter_slot *s = &t->slots[(h + i) & t->mask];
		/* Acquire pairs with the release store of the key when a slot
		 * is claimed (_ak_limiter_table_insert). */
		uint64_t k = atomic_load_explicit(&s->key, memory_order_acquire);
		if (k == sk)
			return s;
		if (k == _AK_LT_EMPTY)
			return NULL;
	}
	return NULL;
}

/*
 * Admit n tokens for `key` at time now.  Statuses as ak_limiter_try_acquire_at
 * plus AK_EFULL: the key is new and every slot in its probe window belongs
 * to a non-idle key (nothing written), and AK_EINVAL for the two reserved
 * keys.  A key whose bucket is full again is idle: its slot may be given to
 * another key, which is indistinguishable from keeping it.
 */
AK_INLINE ak_status ak_limiter_table_try_acquire_at(ak_limiter_table *t, uint64_t key, uint64_t now,
						    uint64_t n, uint64_t *wait_ns)
{
	uint64_t wait = UINT64_MAX;
	ak_status st;
	struct _ak_backoff bo = _AK_BACKOFF_INIT(64);

	if (AK_UNLIKELY(key >= UINT64_MAX - 1 || n == 0)) {
		st = AK_EINVAL;
		goto out;
	}
	if (AK_UNLIKELY(n > t->burst)) {
		st = AK_E2BIG;
		goto out;
	}
	if (AK_UNLIKELY(now >= _AK_RL_TIME_LIMIT)) {
		st = AK_EOVERFLOW;
		goto out;
	}
	for (;;) {
		uint64_t sk = key + 1;
		ak_limiter_slot *s = _ak_limiter_table_find(t, sk);
		if (!s) {
			st = _ak_limiter_table_insert(t, sk, now, &s);
			if (st != AK_OK)
				goto out;
		}
		/* Acquire pairs with the release store that ends a claim (the
		 * fresh TAT), so the key check below sees the claimed key. */
		uint64_t tat = atomic_load_explicit(&s->tat, memory_order_acquire);
		for (;;) {
			uint64_t end, good;
			if (tat & _AK_LT_BUSY)
				break; /* being claimed: look again */
			if (atomic_load_explicit(&s->key, memory_order_relaxed) != sk)
				break; /* evicted and reused since we found it */
			_ak_gcra(tat, now, n * t->interval, t->tolerance, &end, &good);
			if (good > now) {
				wait = good - now;
				st = AK_EAGAIN;
				goto out;
			}
			if (AK_UNLIKELY(end >= _AK_RL_TIME_LIMIT)) {
				st = AK_EOVERFLOW;
				goto out;
			}
			/* Acquire (success and failure) so a following key
			 * check is ordered after this read of the TAT; pairs
			 * with the release store ending a claim. */
			if (atomic_compare_exchange_weak_explicit(&s->tat, &tat, end,
								  memory_order_acquire,
								  memory_order_acquire)) {
				wait = 0;
				st = AK_OK;
				goto out;
			}
		}
		_ak_rl_pause(&bo);
	}
out:
	if (wait_ns)
		*wait_ns = wait;
	return st;
}

AK_INLINE ak_status ak_limiter_table_try_acquire(ak_limiter_table *t, uint64_t key, uint64_t n,
						 uint64_t *wait_ns)
{
	return ak_limiter_table_try_acquire_at(t, key, ak_clock_read(&t->clock), n, wait_ns);
}

/* Keys whose bucket is not full at now (O(capacity) snapshot, for tests
 * and monitoring). */
size_t ak_limiter_table_active(ak_limiter_table *t, uint64_t now);

/* ===================================================================== */
/* A cheaper clock                                                         */
/* ===================================================================== */

/*
 * CLOCK_MONOTONIC_COARSE as an ak_clock: monotonic, read in a few ns, but
 * it advances only once per kernel tick (1-4 ms; resolution in *res_ns if
 * non-NULL).  A limiter on it never admits more than configured in its own
 * timeline; in real time a window can see up to one tick's worth of extra
 * tokens (rate x resolution).  See docs/ratelimit.md, "Clocks".
 */
ak_clock ak_clock_monotonic_coarse(uint64_t *res_ns);

/*
 * The CPU's time-stamp counter as an ak_clock (x86 only): ns = ns0 +
 * (tsc - tsc0) * mult / 2^32, one rdtsc and one 128-bit multiply per read,
 * no system call, no shared cache line.  Calibrated against CLOCK_MONOTONIC
 * by ak_tsc_clock_init(); ak_tsc_clock_init_from() takes the two reference
 * points directly (tests, or a calibration you trust more).
 *
 * Monotonic on one CPU when the TSC is invariant (ak_tsc_clock_init refuses
 * otherwise: AK_ENOENT); across CPUs only as far as the CPUs' TSCs agree,
 * which a VM cannot promise.  A thread whose reading lags makes a limiter
 * stricter for it, never looser (a smaller now never admits more), and a
 * reading before tsc0 reads as ns0.  Accuracy: the rate is right to the
 * calibration's relative error (about 2 * (clock_gettime latency) /
 * calib_ns; 1e-5 for 10 ms here), so a limiter on it may admit that
 * fraction more than configured in real time.  See docs/ratelimit.md,
 * "Clocks".
 */
typedef struct ak_tsc_clock {
	uint64_t tsc0, ns0; /* reference point */
	uint64_t mult;      /* ns per tick * 2^32 */
} ak_tsc_clock;

/* Calibrate over about calib_ns of CLOCK_MONOTONIC (sleeps that long; 0:
 * 10 ms).  AK_ENOENT: no invariant TSC (or not x86); AK_EINVAL: NULL. */
ak_status ak_tsc_clock_init(ak_tsc_clock *c, uint64_t calib_ns);
/* From two reference points (tsc, ns), tsc1 > tsc0 and ns1 > ns0, with
 * (ns1 - ns0) / (tsc1 - tsc0) < 2^31 ns per tick; else AK_EINVAL. */
ak_status ak_tsc_clock_init_from(ak_tsc_clock *c, uint64_t tsc0, uint64_t ns0, uint64_t tsc1,
				 uint64_t ns1);
/* ns at counter value tsc (ns0 for tsc <= tsc0; saturates at UINT64_MAX). */
AK_INLINE uint64_t ak_tsc_clock_ns(const ak_tsc_clock *c, uint64_t tsc)
{
	__extension__ typedef unsigned __int128 u128;
	if (tsc <= c->tsc0)
		return c->ns0;
	u128 d = ((u128)(tsc - c->tsc0) * c->mult) >> 32;
	u128 ns = d + c->ns0;
	return ns > (u128)UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}
/* The clock: reads the TSC of the calling CPU; c must outlive it. */
ak_clock ak_tsc_clock_as_clock(ak_tsc_clock *c);

AK_END_DECLS

#endif /* ATOMKIT_LIMITER_H */
