/*
 * Out-of-line parts of the GCRA limiter: configuration (cold), the keyed
 * table's insert path, the coarse clock, and the blocking acquire.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomkit/limiter.h>

#include "fork_gate.h"
#include "membarrier.h"

void (*_ak_limiter_test_window)(ak_limiter *l);
void (*_ak_limiter_test_locked)(const void *obj);
void (*_ak_limiter_test_pair)(void);

/* ---- taker announcements and grace periods ---------------------------------
 *
 * Why: a take loads the state word, computes with the config, and CASes.
 * The word's one generation bit makes the CAS fail after one
 * reconfiguration, but two can bring the word back exactly (a full bucket
 * is TAT 0 after any set_rate), and the stale CAS would then store a TAT
 * in the old units and epoch.  So before it takes the lock bit, every
 * reconfiguration R waits until no take that may still hold a word from
 * before the previous reconfiguration is in its section: that take's CAS
 * then fails (the previous reconfiguration flipped the bit), and nothing
 * can bring the word back while it runs.  See docs/ratelimit.md,
 * "Grace periods".
 *
 * Read side (limiter.h): a per-thread slot whose `active` counter is odd
 * inside a section.  Write side (grace_period): a full fence, membarrier()
 * when available, then every slot up to the high-water mark that reads odd
 * is waited on until it changes; then the shared counter pair of slotless
 * threads.
 */

#define LR_SLOTS 512u

static struct _ak_limiter_reader g_lr[LR_SLOTS];
/* Stand-ins for _ak_limiter_self outside the fast mode: `active` odd (never
 * written), so the inline entry goes to _ak_limiter_enter_slow(). */
static struct _ak_limiter_reader g_lr_shared = { 1, _AK_LR_SHARED, 0 };
static struct _ak_limiter_reader g_lr_unclaimed = { 1, _AK_LR_UNCLAIMED, 0 };
static struct _ak_limiter_reader g_lr_fence = { 1, _AK_LR_FENCE, 0 };
static _Atomic(uint32_t) g_lr_hi;               /* slots ever claimed: scan bound */
static _Atomic(uint32_t) g_lr_limit = LR_SLOTS; /* claimable slots (tests lower it) */
static _Atomic(int) g_lr_force_fence;           /* tests: new slots fence themselves */
static struct {
	AK_CACHE_ALIGNED _Atomic(uint64_t) n;
} g_lr_cnt[2];                                  /* slotless threads in a section */
static AK_CACHE_ALIGNED _Atomic(uint32_t) g_lr_idx; /* the pair's current index */
static pthread_once_t g_lr_once = PTHREAD_ONCE_INIT;
static pthread_key_t g_lr_key;
static int g_lr_key_ok;
/* Serialises the shared pair's flip and drains between setters. */
static pthread_mutex_t g_lr_pair_mu = PTHREAD_MUTEX_INITIALIZER;
/* Set while this thread is in lr_claim(): a signal handler's take that
 * interrupts the claim uses the shared pair instead of claiming again. */
static AK_THREAD_LOCAL volatile sig_atomic_t lr_claiming;

AK_THREAD_LOCAL struct _ak_limiter_reader *_ak_limiter_self = &g_lr_unclaimed;
/* The real slot of a thread in _AK_LR_FENCE mode (self is g_lr_fence). */
static AK_THREAD_LOCAL struct _ak_limiter_reader *lr_fence_slot;

/* Set for good when a grace period's membarrier() fails (see
 * lr_membarrier).  Relaxed: slots claimed after it fence themselves; see
 * "Grace periods" in docs/ratelimit.md for the slots claimed before. */
static _Atomic(int) g_no_membarrier;

static int membarrier_ready(void)
{
	return !atomic_load_explicit(&g_no_membarrier, memory_order_relaxed) &&
	       _ak_membarrier_ready();
}

/* Thread exit: give the slot back (the thread is outside any section). */
static void lr_release(void *p)
{
	struct _ak_limiter_reader *r = (struct _ak_limiter_reader *)p;

	_ak_limiter_self = &g_lr_unclaimed;
	lr_fence_slot = NULL;
	/* Release pairs with the acquire CAS in lr_claim():
	 * this owner's last `active` store comes before the next owner's. */
	atomic_store_explicit(&r->in_use, 0, memory_order_release);
}

/*
 * In a child after fork() only the forking thread lives on.  The other
 * threads' slots would stay claimed for ever, and one that was inside a
 * section at the fork would read odd for ever: the child's first set_rate
 * would wait on it.  So the child closes every section but its own thread's
 * (which cannot be in one: fork is not called from inside a take) and
 * frees those slots.
 */
static void lr_atfork_child(void)
{
	struct _ak_limiter_reader *own = _ak_limiter_self == &g_lr_fence ? lr_fence_slot
									 : _ak_limiter_self;

	for (uint32_t i = 0; i < LR_SLOTS; i++) {
		struct _ak_limiter_reader *r = &g_lr[i];
		if (r == own)
			continue;
		uint64_t v = atomic_load_explicit(&r->active, memory_order_relaxed);
		if (v & 1)
			atomic_store_explicit(&r->active, v + 1, memory_order_relaxed);
		atomic_store_explicit(&r->in_use, 0, memory_order_relaxed);
	}
	atomic_store_explicit(&g_lr_cnt[0].n, 0, memory_order_relaxed);
	atomic_store_explicit(&g_lr_cnt[1].n, 0, memory_order_relaxed);
	/* A setter on another thread may have held it at the fork. */
	(void)pthread_mutex_init(&g_lr_pair_mu, NULL);
}

static void lr_key_init(void)
{
	g_lr_key_ok = pthread_key_create(&g_lr_key, lr_release) == 0;
	(void)pthread_atfork(NULL, NULL, lr_atfork_child);
}

/* At load time, outside any take: a take in a signal handler then never
 * meets the registry half set up.  (A claim before this ran, from another
 * constructor, still goes through pthread_once, under lr_claiming.) */
__attribute__((constructor)) static void lr_ctor(void)
{
	(void)pthread_once(&g_lr_once, lr_key_init);
}

static struct _ak_limiter_reader *lr_claim_slot(void);

/* Give the calling thread a slot, or the shared pair when none is free.
 * Re-entered from a signal handler that interrupted a claim on this
 * thread: the shared pair for that one section, nothing claimed. */
static struct _ak_limiter_reader *lr_claim(void)
{
	if (lr_claiming)
		return &g_lr_shared;
	lr_claiming = 1;
	struct _ak_limiter_reader *r = lr_claim_slot();
	lr_claiming = 0;
	return r;
}

static struct _ak_limiter_reader *lr_claim_slot(void)
{
	int mb = membarrier_ready();
	uint32_t lim = atomic_load_explicit(&g_lr_limit, memory_order_relaxed);

	(void)pthread_once(&g_lr_once, lr_key_init);
	for (uint32_t i = 0; g_lr_key_ok && i < lim && i < LR_SLOTS; i++) {
		struct _ak_limiter_reader *r = &g_lr[i];
		uint32_t zero = 0;
		if (atomic_load_explicit(&r->in_use, memory_order_relaxed) != 0)
			continue;
		/* Acquire pairs with the release store in lr_release(). */
		if (!atomic_compare_exchange_strong_explicit(&r->in_use, &zero, 1, memory_order_acquire,
							     memory_order_relaxed))
			continue;
		/* Raise the scan bound before the first section: a setter
		 * whose fence precedes ours may miss both, and then our first
		 * load of a word comes after its fence (see grace_period()). */
		uint32_t hi = atomic_load_explicit(&g_lr_hi, memory_order_relaxed);
		while (hi < i + 1 && !atomic_compare_exchange_weak_explicit(&g_lr_hi, &hi, i + 1,
									    memory_order_relaxed,
									    memory_order_relaxed))
			;
		r->mode = mb && !atomic_load_explicit(&g_lr_force_fence, memory_order_relaxed)
				  ? _AK_LR_MEMBARRIER
				  : _AK_LR_FENCE;
		if (pthread_setspecific(g_lr_key, r) != 0) {
			/* Release pairs with the acquire CAS above, in the
			 * next claimer (as in lr_release()). */
			atomic_store_explicit(&r->in_use, 0, memory_order_release);
			break;
		}
		if (r->mode == _AK_LR_FENCE) {
			lr_fence_slot = r;
			_ak_limiter_self = &g_lr_fence;
		} else {
			_ak_limiter_self = r;
		}
		return r;
	}
	_ak_limiter_self = &g_lr_shared;
	return &g_lr_shared;
}

uint64_t _ak_limiter_enter_slow(struct _ak_limiter_reader **rp)
{
	struct _ak_limiter_reader *r = _ak_limiter_self;

	if (r->mode == _AK_LR_UNCLAIMED)
		r = lr_claim();
	else if (r->mode == _AK_LR_FENCE)
		r = lr_fence_slot;
	*rp = r;
	if (r->mode == _AK_LR_SHARED) {
		/* Acquire pairs with the release store flipping the index in
		 * grace_period(): a thread that counts itself under the new
		 * index sees what that setter saw before its grace period. */
		uint32_t i = atomic_load_explicit(&g_lr_idx, memory_order_acquire);
		atomic_fetch_add_explicit(&g_lr_cnt[i].n, 1, memory_order_relaxed);
		_ak_fence_seq_cst(&g_lr_cnt[i].n); /* Dekker with the fence in grace_period() */
		return _AK_LR_TOK_SHARED | (uint64_t)i << 1 | 1;
	}
	/* A slot: as _ak_limiter_enter(), plus a full fence when the setter
	 * has no membarrier to lean on (Dekker with its fence). */
	uint64_t prev = atomic_load_explicit(&r->active, memory_order_relaxed);
	if (!(prev & 1))
		/* Release pairs with the acquire loads of `active` in
		 * grace_period(), as in _ak_limiter_enter(). */
		atomic_store_explicit(&r->active, prev + 1, memory_order_release);
	if (r->mode == _AK_LR_FENCE)
		_ak_fence_seq_cst(&r->active);
	return prev;
}

void _ak_limiter_exit_shared(uint64_t tok)
{
	/* Release pairs with the acquire loads in lr_wait_zero(): our CAS
	 * happens before the setter takes the lock bit. */
	atomic_fetch_sub_explicit(&g_lr_cnt[(tok >> 1) & 1].n, 1, memory_order_release);
}

static void lr_wait_zero(_Atomic(uint64_t) *c)
{
	struct _ak_backoff bo = _AK_BACKOFF_INIT(256);
	/* Acquire: pairs with the release decrement in
	 * _ak_limiter_exit_shared(). */
	while (atomic_load_explicit(c, memory_order_acquire) != 0)
		_ak_rl_pause(&bo);
}

/*
 * A full barrier on every running thread of the process.  The private
 * expedited command can fail even after it was registered (a seccomp
 * filter installed since); then the global one (as in src/cow.c).  If that
 * fails too, slots claimed from now on fence themselves; slots already
 * handed out in the barrier-less mode cannot be reached from here (see
 * docs/ratelimit.md, "Grace periods", on the residual risk).
 */
static void lr_membarrier(void)
{
	if (_ak_membarrier() != 0)
		atomic_store_explicit(&g_no_membarrier, 1, memory_order_relaxed);
}

/*
 * Wait until no section that began before this call can still hold a word
 * older than what the caller has seen.  A section whose announcement the
 * scan below misses began after our fence (or membarrier point) in the
 * single order of fences, so its load of the word sees everything that
 * happened before the call.  A section the scan sees (an odd value) is
 * waited for until the value changes, which its exit does (a nested
 * section changes nothing).  Each slot is waited on for at most one
 * section, however busy its thread.  Blocking: a preempted taker delays it until
 * that taker runs again.
 */
static void grace_period(void)
{
	_ak_fence_seq_cst(&g_lr_idx); /* Dekker with the fence in FENCE-mode and shared entries */
	if (membarrier_ready())
		lr_membarrier();
	uint32_t hi = atomic_load_explicit(&g_lr_hi, memory_order_relaxed);
	for (uint32_t i = 0; i < hi; i++) {
		_Atomic(uint64_t) *a = &g_lr[i].active;
		/* Acquire: pairs with the release stores of `active` in
		 * _ak_limiter_enter()/_ak_limiter_exit() (and the slow entry):
		 * the section's CAS happens before our lock. */
		uint64_t v = atomic_load_explicit(a, memory_order_acquire);
		if (!(v & 1))
			continue; /* outside a section */
		struct _ak_backoff bo = _AK_BACKOFF_INIT(256);
		do
			_ak_rl_pause(&bo);
		/* Acquire: as above.  Any change ends section v. */
		while (atomic_load_explicit(a, memory_order_acquire) == v);
	}
	/* The shared pair: each counter must be seen at zero once (that is
	 * all correctness needs); the flip in between sends new entries to
	 * the counter already drained, so the second wait cannot starve.
	 * One setter at a time: two that read the same index would both
	 * flip, and one would wait on the counter new entries land in. */
	(void)pthread_mutex_lock(&g_lr_pair_mu);
	uint32_t i = atomic_load_explicit(&g_lr_idx, memory_order_relaxed);
	/* Test hook: parks a setter that holds index i (test_two_setters). */
	if (AK_UNLIKELY(_ak_limiter_test_pair != NULL))
		_ak_limiter_test_pair();
	lr_wait_zero(&g_lr_cnt[i ^ 1u].n);
	/* Release pairs with the acquire load in _ak_limiter_enter_slow(). */
	atomic_store_explicit(&g_lr_idx, i ^ 1u, memory_order_release);
	lr_wait_zero(&g_lr_cnt[i].n);
	(void)pthread_mutex_unlock(&g_lr_pair_mu);
}

void _ak_limiter_test_slots(unsigned limit, int force_fence)
{
	atomic_store_explicit(&g_lr_limit, limit, memory_order_relaxed);
	atomic_store_explicit(&g_lr_force_fence, force_fence, memory_order_relaxed);
}

unsigned _ak_limiter_test_claimed(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < LR_SLOTS; i++)
		n += atomic_load_explicit(&g_lr[i].in_use, memory_order_relaxed) != 0;
	return n;
}

unsigned _ak_limiter_test_mode(void)
{
	if (_ak_limiter_self->mode == _AK_LR_UNCLAIMED)
		(void)lr_claim();
	return _ak_limiter_self->mode;
}

void _ak_rl_yield(void)
{
	sched_yield();
}

/* ---- configuration -------------------------------------------------------- */

/* ceil(per / k) after gcd reduction; 0 on bad input. */
static uint64_t interval_of(uint64_t k, uint64_t per, uint64_t *rk, uint64_t *rp)
{
	if (k == 0 || per == 0)
		return 0;
	uint64_t g = _ak_rl_gcd(k, per);
	*rk = k / g;
	*rp = per / g;
	return _ak_rl_div_up(*rp, *rk);
}

static int span_ok(uint64_t b, uint64_t interval)
{
	return b != 0 && _ak_rl_mul_sat(b, interval) <= _AK_RL_SPAN_LIMIT;
}

/* The limiter's exact units: k' units per ns, P' units per token. */
static int exact_rate(uint64_t k, uint64_t per, uint64_t *scale, uint64_t *interval)
{
	if (k == 0 || per == 0)
		return 0;
	uint64_t g = _ak_rl_gcd(k, per);
	*scale = k / g;
	*interval = per / g;
	return *scale <= _AK_LIMITER_MAX_SCALE;
}

static int tolerance_ok(uint64_t b, uint64_t interval)
{
	return b != 0 && _ak_rl_mul_sat(b, interval) <= _AK_LIMITER_SPAN;
}

ak_status ak_limiter_init(ak_limiter *l, uint64_t k, uint64_t per_ns, uint64_t b,
			  const ak_clock *clock)
{
	uint64_t scale = 0, iv = 0;
	if (!l || !exact_rate(k, per_ns, &scale, &iv) || !tolerance_ok(b, iv))
		return AK_EINVAL;
	atomic_store_explicit(&l->interval, iv, memory_order_relaxed);
	atomic_store_explicit(&l->scale, scale, memory_order_relaxed);
	atomic_store_explicit(&l->burst, b, memory_order_relaxed);
	atomic_store_explicit(&l->tolerance, b * iv, memory_order_relaxed);
	atomic_store_explicit(&l->epoch, 0, memory_order_relaxed);
	atomic_store_explicit(&l->horizon, _AK_LIMITER_SPAN / scale, memory_order_relaxed);
	atomic_store_explicit(&l->gen, 0, memory_order_relaxed);
	if (clock) {
		l->clock = *clock;
	} else {
		l->clock.now = NULL;
		l->clock.ctx = NULL;
	}
	/* TAT 0 at epoch 0: full at every time.  Release so a thread handed
	 * the limiter through a relaxed pointer still sees the config (pairs
	 * with the acquire load in _ak_limiter_load). */
	atomic_store_explicit(&l->word, 0, memory_order_release);
	return AK_OK;
}

/* Take the lock bit (inside the fork gate, so a fork never copies it
 * set).  Returns the TAT it held. */
static uint64_t limiter_lock(ak_limiter *l)
{
	struct _ak_backoff bo = _AK_BACKOFF_INIT(256);
	_ak_fork_gate_enter();
	for (;;) {
		uint64_t w = atomic_load_explicit(&l->word, memory_order_relaxed);
		/* Acquire: pairs with the release store in limiter_unlock(), so
		 * the previous setter's config stores happen before ours. */
		if (!(w & _AK_LIMITER_LOCK) &&
		    atomic_compare_exchange_weak_explicit(&l->word, &w, w | _AK_LIMITER_LOCK,
							  memory_order_acquire, memory_order_relaxed)) {
			/* Seqlock writer: config stores after this fence are
			 * ordered after the lock bit; pairs with the acquire
			 * fence in _ak_limiter_cfg_valid(). */
			_ak_fence_release(&l->word);
			return w;
		}
		if (_ak_backoff_exhausted(&bo))
			sched_yield();
		else
			_ak_backoff_spin(&bo);
	}
}

static void limiter_unlock(ak_limiter *l, uint64_t tat)
{
	if (AK_UNLIKELY(_ak_limiter_test_locked != NULL))
		_ak_limiter_test_locked(l);
	/* Release pairs with the acquire loads in _ak_limiter_load(): the
	 * config written under the lock is visible with the new word. */
	atomic_store_explicit(&l->word, tat, memory_order_release);
	_ak_fork_gate_leave();
}

/* The locked part of _ak_limiter_cancel() (limiter.h): take the lock bit
 * only if the word is still the ticket's end, check the generation while no
 * setter can run, store the answer. */
ak_status _ak_limiter_cancel_locked(ak_limiter *l, uint64_t expect, const ak_limiter_ticket *tk)
{
	_ak_fork_gate_enter();
	/* Acquire pairs with the release store ending a set_rate/set_burst/
	 * rebase (limiter_unlock; takes since then continue its release
	 * sequence): the generation read next is that setter's or newer.  A
	 * setter holding the lock makes the word differ: EBUSY. */
	if (!atomic_compare_exchange_strong_explicit(&l->word, &expect, expect | _AK_LIMITER_LOCK,
						     memory_order_acquire, memory_order_relaxed)) {
		_ak_fork_gate_leave();
		return AK_EBUSY;
	}
	int same = atomic_load_explicit(&l->gen, memory_order_relaxed) == tk->gen;
	/* Release pairs with the acquire loads in _ak_limiter_load(), as a
	 * setter's unlock: waiters see the word we leave. */
	atomic_store_explicit(&l->word, same ? tk->start : tk->end, memory_order_release);
	_ak_fork_gate_leave();
	return same ? AK_OK : AK_EBUSY;
}

static int rebase_due(ak_limiter *l, uint64_t now)
{
	uint64_t epoch = atomic_load_explicit(&l->epoch, memory_order_relaxed);
	return now > epoch && now - epoch >= atomic_load_explicit(&l->horizon, memory_order_relaxed);
}

/*
 * Start a reconfiguration: wait for a grace period, then take the lock bit
 * (returns the word it held).  The generation read first must still be in
 * force under the lock: then every reconfiguration before ours ended
 * before that read, hence before the grace period, and every take that
 * could still hold a word from before it has left its section.  If another
 * reconfiguration slipped in, start over (one of the racing setters always
 * gets through).  For a rebase (rebase_now != NULL), return 0 without the
 * lock when the epoch turns out not to be due any more.
 */
static int reconf_lock(ak_limiter *l, const uint64_t *rebase_now, uint64_t *wp)
{
	for (;;) {
		uint64_t w = _ak_limiter_load(l);
		uint64_t g = atomic_load_explicit(&l->gen, memory_order_relaxed);
		int due = rebase_now ? rebase_due(l, *rebase_now) : 1;
		/* gen (and epoch) read as a seqlock reader: belongs to w. */
		if (!_ak_limiter_cfg_valid(l, w))
			continue;
		if (!due)
			return 0;
		grace_period();
		w = limiter_lock(l);
		if (atomic_load_explicit(&l->gen, memory_order_relaxed) == g) {
			*wp = w;
			return 1;
		}
		limiter_unlock(l, w);
	}
}

/*
 * The TAT after a rebase at r (same rate; new epoch r): the same instant,
 * counted from r.  Exact.
 */
static uint64_t rebase_tat(uint64_t tat, uint64_t r_u)
{
	return tat > r_u ? tat - r_u : 0; /* full at r */
}

/*
 * The TAT (in the new units, from the new epoch r) after a rate change at
 * r, or UINT64_MAX if it cannot be represented.  Old units: k_old per ns,
 * iv_old per token, tolerance tol_old; new: k_new, iv_new, tol_new.
 *
 * Promises made before r (reservations good after r) keep the good_at the
 * old rate gave them, so the old rate stays in force until the last of
 * them is good: at g = TAT - tol_old (every take in debt leaves exactly
 * that, and set_burst keeps it), or r if g <= r.  From that instant
 * s = max(r, g) on, the debt TAT - s is kept in tokens:
 *     TAT' = s + (TAT - s) * T_new / T_old
 * which is the level kept (s = r), or, with promises pending, the promised
 * stretch kept in time and then an empty bucket (s = g: TAT' = g + b T_new),
 * so no new grant is good before the last promise.  Keeping the whole debt
 * in tokens from r instead is exact only without promises: a rise would let
 * newcomers be good before the promises (two streams at once), a fall
 * would charge the promised tokens again at the new rate, and a fall and a
 * rise in turn would inflate the debt without bound.  Rounded up: later
 * only ever admits less.  See "Rate changes" in docs/ratelimit.md.
 */
static uint64_t rescale(uint64_t tat, uint64_t r_u, uint64_t k_old, uint64_t iv_old,
			uint64_t tol_old, uint64_t k_new, uint64_t iv_new, uint64_t tol_new)
{
	uint64_t d;
	if (tat <= r_u)
		return 0; /* full at r */
	if (tat - r_u > tol_old) /* promises pending: s = g */
		d = _ak_rl_add_sat(_ak_rl_muldiv_up(tat - tol_old - r_u, k_new, k_old), tol_new);
	else
		d = _ak_rl_muldiv_up(tat - r_u, iv_new, iv_old);
	return d < _AK_LIMITER_TAT_LIMIT ? d : UINT64_MAX;
}

/* r = max(now, epoch) in old units: 128-bit safe, saturating. */
static uint64_t units_at(uint64_t r, uint64_t epoch, uint64_t scale)
{
	return _ak_rl_mul_sat(r - epoch, scale);
}

/* End a change: new generation, word = tat with the generation bit
 * flipped. */
static void limiter_publish(ak_limiter *l, uint64_t w, uint64_t tat)
{
	/* Relaxed: read under the lock (ak_limiter_cancel) or validated by
	 * the word (a take's CAS); the unlock's release publishes it. */
	atomic_store_explicit(&l->gen, atomic_load_explicit(&l->gen, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	limiter_unlock(l, tat | ((w & _AK_LIMITER_GEN) ^ _AK_LIMITER_GEN));
}

void _ak_limiter_rebase(ak_limiter *l, uint64_t now)
{
	uint64_t w;
	if (!reconf_lock(l, &now, &w))
		return; /* someone else did it */
	uint64_t epoch = atomic_load_explicit(&l->epoch, memory_order_relaxed);
	uint64_t scale = atomic_load_explicit(&l->scale, memory_order_relaxed);
	if (now <= epoch || now - epoch < atomic_load_explicit(&l->horizon, memory_order_relaxed)) {
		limiter_unlock(l, w); /* someone else did it */
		return;
	}
	uint64_t tat = rebase_tat(w & _AK_LIMITER_TAT, units_at(now, epoch, scale));
	atomic_store_explicit(&l->epoch, now, memory_order_relaxed);
	limiter_publish(l, w, tat);
}

ak_status ak_limiter_set_rate_at(ak_limiter *l, uint64_t now, uint64_t k, uint64_t per_ns)
{
	uint64_t scale = 0, iv = 0;
	if (!l)
		return AK_EINVAL;
	if (now >= _AK_RL_TIME_LIMIT)
		return AK_EOVERFLOW;
	if (!exact_rate(k, per_ns, &scale, &iv))
		return AK_EINVAL;
	uint64_t w = 0;
	(void)reconf_lock(l, NULL, &w);
	uint64_t b = atomic_load_explicit(&l->burst, memory_order_relaxed);
	if (!tolerance_ok(b, iv)) {
		limiter_unlock(l, w);
		return AK_EINVAL;
	}
	uint64_t epoch = atomic_load_explicit(&l->epoch, memory_order_relaxed);
	uint64_t old_scale = atomic_load_explicit(&l->scale, memory_order_relaxed);
	uint64_t old_iv = atomic_load_explicit(&l->interval, memory_order_relaxed);
	uint64_t old_tol = atomic_load_explicit(&l->tolerance, memory_order_relaxed);
	uint64_t r = now > epoch ? now : epoch;
	uint64_t tat = rescale(w & _AK_LIMITER_TAT, units_at(r, epoch, old_scale), old_scale, old_iv,
			       old_tol, scale, iv, b * iv);
	if (tat == UINT64_MAX) {
		/* The promised debt does not fit the new units: change nothing. */
		limiter_unlock(l, w);
		return AK_EOVERFLOW;
	}
	atomic_store_explicit(&l->interval, iv, memory_order_relaxed);
	atomic_store_explicit(&l->scale, scale, memory_order_relaxed);
	atomic_store_explicit(&l->tolerance, b * iv, memory_order_relaxed);
	atomic_store_explicit(&l->epoch, r, memory_order_relaxed);
	atomic_store_explicit(&l->horizon, _AK_LIMITER_SPAN / scale, memory_order_relaxed);
	limiter_publish(l, w, tat);
	return AK_OK;
}

ak_status ak_limiter_set_rate(ak_limiter *l, uint64_t k, uint64_t per_ns)
{
	if (!l)
		return AK_EINVAL;
	return ak_limiter_set_rate_at(l, ak_clock_read(&l->clock), k, per_ns);
}

ak_status ak_limiter_set_burst_at(ak_limiter *l, uint64_t now, uint64_t b)
{
	if (!l || b == 0)
		return AK_EINVAL;
	if (now >= _AK_RL_TIME_LIMIT)
		return AK_EOVERFLOW;
	uint64_t w = 0;
	(void)reconf_lock(l, NULL, &w);
	uint64_t iv = atomic_load_explicit(&l->interval, memory_order_relaxed);
	if (!tolerance_ok(b, iv)) {
		limiter_unlock(l, w);
		return AK_EINVAL;
	}
	/* The tokens available are kept, capped at the new burst (a raise
	 * adds none at once; the bucket refills up to it):
	 * TAT' = max(TAT, now) + new tol - old tol, at least now.  This keeps
	 * g = TAT - tol, the good_at of the last reservation when one is
	 * pending, which rescale() relies on; and since the level never rises,
	 * a change cannot create tokens, however often it is repeated. */
	uint64_t tat = w & _AK_LIMITER_TAT;
	uint64_t tol = atomic_load_explicit(&l->tolerance, memory_order_relaxed);
	uint64_t epoch = atomic_load_explicit(&l->epoch, memory_order_relaxed);
	uint64_t scale = atomic_load_explicit(&l->scale, memory_order_relaxed);
	uint64_t r_u = now > epoch ? units_at(now, epoch, scale) : 0;
	uint64_t t2 = _ak_rl_add_sat(tat > r_u ? tat : r_u, b * iv);
	if (t2 >= tol && t2 - tol > r_u)
		t2 -= tol;
	else
		t2 = tat < r_u ? tat : r_u; /* full at the new burst */
	if (t2 >= _AK_LIMITER_TAT_LIMIT) {
		limiter_unlock(l, w);
		return AK_EOVERFLOW;
	}
	tat = t2;
	atomic_store_explicit(&l->burst, b, memory_order_relaxed);
	atomic_store_explicit(&l->tolerance, b * iv, memory_order_relaxed);
	limiter_publish(l, w, tat);
	return AK_OK;
}

ak_status ak_limiter_set_burst(ak_limiter *l, uint64_t b)
{
	if (!l)
		return AK_EINVAL;
	return ak_limiter_set_burst_at(l, ak_clock_read(&l->clock), b);
}

/* ---- keyed table ------------------------------------------------------------ */

ak_status ak_limiter_table_init(ak_limiter_table *t, ak_limiter_slot *slots, size_t nslots,
				uint64_t k, uint64_t per_ns, uint64_t b, const ak_clock *clock)
{
	uint64_t rk = 0, rp = 0;
	if (!t || !slots || nslots == 0 || (nslots & (nslots - 1)) != 0)
		return AK_EINVAL;
	uint64_t iv = interval_of(k, per_ns, &rk, &rp);
	if (iv == 0 || !span_ok(b, iv))
		return AK_EINVAL;
	t->slots = slots;
	t->mask = (uint64_t)nslots - 1;
	t->probe = nslots < AK_LIMITER_TABLE_MAX_PROBE ? (uint32_t)nslots
						       : AK_LIMITER_TABLE_MAX_PROBE;
	t->interval = iv;
	t->burst = b;
	t->tolerance = b * iv;
	if (clock) {
		t->clock = *clock;
	} else {
		t->clock.now = NULL;
		t->clock.ctx = NULL;
	}
	for (size_t i = 0; i < nslots; i++) {
		atomic_store_explicit(&slots[i].key, _AK_LT_EMPTY, memory_order_relaxed);
		atomic_store_explicit(&slots[i].tat, 0, memory_order_relaxed);
	}
	/* Release: publishes the cleared slots with the table (pairs with
	 * the acquire load of `inserts` in the insert path). */
	atomic_store_explicit(&t->inserts, 0, memory_order_release);
	return AK_OK;
}

/*
 * Find or claim a slot for stored key sk.
 *
 * Claiming: walk the whole probe window (the key may already be there);
 * remember the first free slot: never used, a tombstone, or an idle key
 * (TAT < now: its bucket is full, so dropping it loses nothing).  Take it
 * by CAS'ing its TAT to BUSY (a concurrent user of the idle key fails its
 * own CAS on that TAT), write our key, then commit by bumping `inserts`
 * from the value read before the walk.  The commit fails if any insert
 * committed since, so two threads inserting the same key cannot both
 * commit: the later one's walk would have seen the earlier one's key.  A
 * failed commit turns the slot into a tombstone and starts over.  At least
 * one commit succeeds per round, so inserts are lock-free.
 *
 * The fresh TAT stored at the end is max(now, old + 1): full now, and
 * different from the TAT any user of the evicted key could have read, so
 * that user's CAS fails.
 */
ak_status _ak_limiter_table_insert(ak_limiter_table *t, uint64_t sk, uint64_t now,
				   ak_limiter_slot **out)
{
	struct _ak_backoff bo = _AK_BACKOFF_INIT(256);
	uint64_t h = _ak_limiter_hash(sk);

	for (;;) {
		/* Acquire pairs with the acq_rel commit CAS below: every key
		 * committed before this value is visible to the walk. */
		uint64_t seq = atomic_load_explicit(&t->inserts, memory_order_acquire);
		ak_limiter_slot *free_slot = NULL;
		uint64_t free_tat = 0;
		int busy = 0; /* a slot is mid-claim: it may free up, do not say full */

		for (uint32_t i = 0; i < t->probe; i++) {
			ak_limiter_slot *s = &t->slots[(h + i) & t->mask];
			/* Acquire pairs with the release store of a claimed key. */
			uint64_t k = atomic_load_explicit(&s->key, memory_order_acquire);
			if (k == sk) {
				*out = s;
				return AK_OK;
			}
			if (!free_slot) {
				uint64_t tt = atomic_load_explicit(&s->tat, memory_order_relaxed);
				if (tt & _AK_LT_BUSY) {
					busy = 1;
				} else if (k == _AK_LT_EMPTY || k == _AK_LT_TOMB || tt < now) {
					free_slot = s;
					free_tat = tt;
				}
			}
			/* Nothing is ever claimed beyond the first never-used slot. */
			if (k == _AK_LT_EMPTY)
				break;
		}
		if (!free_slot && !busy)
			return AK_EFULL;
		/* Claim.  Acquire: pairs with the release store of the fresh TAT
		 * that ended the slot's previous claim; also orders our key store
		 * after the claim. */
		if (free_slot)
			_ak_fork_gate_enter(); /* BUSY is a lock: see limiter_lock() */
		if (free_slot && atomic_compare_exchange_strong_explicit(&free_slot->tat, &free_tat, _AK_LT_BUSY,
							    memory_order_acquire,
							    memory_order_relaxed)) {
			uint64_t fresh = free_tat + 1 > now ? free_tat + 1 : now;
			/* Release pairs with the acquire key loads of walkers. */
			atomic_store_explicit(&free_slot->key, sk, memory_order_release);
			/* acq_rel: release publishes our key to inserters that
			 * read the new count; acquire pairs with earlier commits. */
			if (atomic_compare_exchange_strong_explicit(&t->inserts, &seq, seq + 1,
								    memory_order_acq_rel,
								    memory_order_relaxed)) {
				if (AK_UNLIKELY(_ak_limiter_test_locked != NULL))
					_ak_limiter_test_locked(t);
				/* Release pairs with the acquire TAT load in
				 * ak_limiter_table_try_acquire_at(). */
				atomic_store_explicit(&free_slot->tat, fresh, memory_order_release);
				_ak_fork_gate_leave();
				*out = free_slot;
				return AK_OK;
			}
			/* Lost the commit race: free the slot again. */
			atomic_store_explicit(&free_slot->key, _AK_LT_TOMB, memory_order_release);
			/* Release: as above. */
			atomic_store_explicit(&free_slot->tat, fresh, memory_order_release);
		}
		if (free_slot)
			_ak_fork_gate_leave();
		if (_ak_backoff_exhausted(&bo))
			sched_yield();
		else
			_ak_backoff_spin(&bo);
	}
}

size_t ak_limiter_table_active(ak_limiter_table *t, uint64_t now)
{
	size_t n = 0;
	for (uint64_t i = 0; i <= t->mask; i++) {
		uint64_t k = atomic_load_explicit(&t->slots[i].key, memory_order_relaxed);
		uint64_t tt = atomic_load_explicit(&t->slots[i].tat, memory_order_relaxed);
		if (k != _AK_LT_EMPTY && k != _AK_LT_TOMB && !(tt & _AK_LT_BUSY) && tt > now)
			n++;
	}
	return n;
}

/* ---- coarse clock ------------------------------------------------------------ */

static uint64_t coarse_now(void *ctx)
{
	struct timespec ts;
	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * AK_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

ak_clock ak_clock_monotonic_coarse(uint64_t *res_ns)
{
	ak_clock c;
	if (res_ns) {
		struct timespec ts;
		clock_getres(CLOCK_MONOTONIC_COARSE, &ts);
		*res_ns = (uint64_t)ts.tv_sec * AK_NS_PER_SEC + (uint64_t)ts.tv_nsec;
	}
	c.now = coarse_now;
	c.ctx = NULL;
	return c;
}

/* ---- TSC clock ------------------------------------------------------------------ */

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <x86intrin.h>

static int tsc_invariant(void)
{
	unsigned a, b, c, d;
	/* CPUID 0x80000007 EDX bit 8: invariant TSC (constant rate, runs in
	 * every power state). */
	if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000007u)
		return 0;
	__get_cpuid(0x80000007u, &a, &b, &c, &d);
	return (d & (1u << 8)) != 0;
}

static uint64_t tsc_now(void *ctx)
{
	return ak_tsc_clock_ns((const ak_tsc_clock *)ctx, __rdtsc());
}

/* A (tsc, ns) pair read as close together as the clock allows: the TSC
 * read between two clock reads, keeping the tightest of a few tries. */
static void tsc_pair(uint64_t *tsc, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < 5; i++) {
		uint64_t a = ak_now_ns(), t = __rdtsc(), b = ak_now_ns();
		if (b - a < best) {
			best = b - a;
			*tsc = t;
			*ns = a + (b - a) / 2;
		}
	}
}
#else
static int tsc_invariant(void)
{
	return 0;
}

static uint64_t tsc_now(void *ctx)
{
	return ((const ak_tsc_clock *)ctx)->ns0;
}

static void tsc_pair(uint64_t *tsc, uint64_t *ns)
{
	*tsc = 0;
	*ns = ak_now_ns();
}
#endif

ak_status ak_tsc_clock_init_from(ak_tsc_clock *c, uint64_t tsc0, uint64_t ns0, uint64_t tsc1,
				 uint64_t ns1)
{
	__extension__ typedef unsigned __int128 u128;
	if (!c || tsc1 <= tsc0 || ns1 <= ns0)
		return AK_EINVAL;
	u128 m = ((u128)(ns1 - ns0) << 32) / (tsc1 - tsc0);
	if (m == 0 || m >= ((u128)1 << 63))
		return AK_EINVAL; /* below 2^-32 or from 2^31 ns per tick */
	c->tsc0 = tsc0;
	c->ns0 = ns0;
	c->mult = (uint64_t)m;
	return AK_OK;
}

ak_status ak_tsc_clock_init(ak_tsc_clock *c, uint64_t calib_ns)
{
	uint64_t t0 = 0, n0 = 0, t1 = 0, n1 = 0;
	if (!c)
		return AK_EINVAL;
	if (!tsc_invariant())
		return AK_ENOENT;
	if (calib_ns == 0)
		calib_ns = 10 * AK_NS_PER_MS;
	tsc_pair(&t0, &n0);
	struct timespec ts = { (time_t)(calib_ns / AK_NS_PER_SEC), (long)(calib_ns % AK_NS_PER_SEC) };
	while (nanosleep(&ts, &ts) != 0)
		;
	tsc_pair(&t1, &n1);
	return ak_tsc_clock_init_from(c, t0, n0, t1, n1);
}

ak_clock ak_tsc_clock_as_clock(ak_tsc_clock *c)
{
	ak_clock k;
	k.now = tsc_now;
	k.ctx = c;
	return k;
}
