/*
 * Cancel tokens: the out-of-line parts (request, wait, callbacks, trees,
 * deadlines, signal handlers).
 *
 * Memory-order argument (the short version; docs/cancel.md has the table):
 *  - Publication: ak_cancel_request() sets _AK_CANCEL_SET with a release
 *    RMW; ak_cancel_is_set() reads it with acquire.  The cause is stored
 *    (CAS, acq_rel) before that RMW, so a reader who saw SET sees the cause.
 *  - No lost wake-up: a waiter registers by adding _AK_CANCEL_WAITER to the
 *    same word that carries SET, so the waiter's add and the canceller's
 *    fetch_or are RMWs on one location and are totally ordered.  Either the
 *    add comes first (the fetch_or returns a non-zero waiter count and the
 *    canceller wakes), or the fetch_or comes first (the waiter's add returns
 *    a value with SET and it never sleeps).  The kernel re-compares the word
 *    before sleeping, closing the gap between the add and FUTEX_WAIT.  No
 *    store->load (Dekker) pattern across two locations is involved.
 *  - Lifetime: every request counts itself in `busy` before publishing SET
 *    and uncounts after its last access; destroy waits for busy == 0, so a
 *    thread that saw the cancel may destroy and free the token at once.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>

#include <atomkit/cancel.h>
#include <atomkit/internal/futex.h>
#include <atomkit/internal/relax.h>

#define CANCEL_MAGIC 0x43414e43u /* "CANC" */
#define WAITER_MASK (~(uint32_t)(_AK_CANCEL_SET | _AK_CANCEL_TIMED))
#define BUSY_WAIT 0x80000000u     /* destroy sleeps on `busy` */
#define POLL_SLICE_NS (10 * AK_NS_PER_MS)

/* Callback node states (ak_cancel_cb.state). */
#define CB_IDLE _AK_CB_IDLE
#define CB_LISTED _AK_CB_LISTED
#define CB_RUNNING _AK_CB_RUNNING
#define CB_RUNNING_WAITED _AK_CB_RUNNING_WAITED
#define CB_DONE _AK_CB_DONE

/* A per-thread address serves as the thread's identity. */
static AK_THREAD_LOCAL char self_anchor;
static uintptr_t self_id(void)
{
	return (uintptr_t)&self_anchor;
}

/* ---- the registration lock ------------------------------------------- */

static void lock_token(ak_cancel *t)
{
	struct _ak_backoff b;
	_ak_backoff_init(&b, 256);
	for (;;) {
		/* Acquire: pairs with the release in unlock_token(). */
		if (!atomic_exchange_explicit(&t->lock, 1, memory_order_acquire))
			return;
		while (atomic_load_explicit(&t->lock, memory_order_relaxed)) {
			if (_ak_backoff_exhausted(&b))
				sched_yield(); /* holder may be preempted (oversubscribed) */
			else
				_ak_backoff_spin(&b);
		}
	}
}

static void unlock_token(ak_cancel *t)
{
	/* Release: pairs with the acquire exchange in lock_token(). */
	atomic_store_explicit(&t->lock, 0, memory_order_release);
}

/* ---- lifecycle -------------------------------------------------------- */

static void init_common(ak_cancel *t)
{
	memset((void *)t, 0, sizeof(*t));
	atomic_init(&t->state, 0);
	atomic_init(&t->cause, 0);
	atomic_init(&t->busy, 0);
	atomic_init(&t->deadline, AK_DEADLINE_NONE);
	atomic_init(&t->lock, 0);
	atomic_init(&t->link.state, CB_IDLE);
	t->clock.now = NULL;
	t->clock.ctx = NULL;
	t->magic = CANCEL_MAGIC;
}

ak_status ak_cancel_init(ak_cancel *t)
{
	if (!t)
		return AK_EINVAL;
	init_common(t);
	return AK_OK;
}

ak_status ak_cancel_init_deadline(ak_cancel *t, uint64_t deadline_ns, const ak_clock *clk)
{
	if (!t)
		return AK_EINVAL;
	init_common(t);
	if (clk && clk->now)
		t->clock = *clk;
	atomic_store_explicit(&t->deadline, deadline_ns, memory_order_relaxed);
	/* Relaxed: the token is not shared yet (init is not thread-safe). */
	atomic_store_explicit(&t->state, _AK_CANCEL_TIMED, memory_order_relaxed);
	return AK_OK;
}

static void link_fire(void *arg)
{
	ak_cancel *child = (ak_cancel *)arg;
	/* The parent is alive: it is running this callback. */
	ak_cancel_request(child, ak_cancel_cause(child->parent));
}

ak_status ak_cancel_init_child(ak_cancel *child, ak_cancel *parent)
{
	if (!child || !parent || child == parent)
		return AK_EINVAL;
	if (parent->magic != CANCEL_MAGIC)
		return AK_ESTATE;
	init_common(child);
	if (atomic_load_explicit(&parent->state, memory_order_relaxed) & _AK_CANCEL_TIMED) {
		child->clock = parent->clock;
		atomic_store_explicit(&child->deadline,
				      atomic_load_explicit(&parent->deadline, memory_order_relaxed),
				      memory_order_relaxed);
		atomic_store_explicit(&child->state, _AK_CANCEL_TIMED, memory_order_relaxed);
	}
	child->parent = parent;
	lock_token(parent);
	parent->nchildren++;
	unlock_token(parent);
	/* If the parent is already cancelled this cancels the child now. */
	return ak_cancel_cb_register(parent, &child->link, link_fire, child);
}

ak_status ak_cancel_detach(ak_cancel *child)
{
	ak_status st;

	if (!child)
		return AK_EINVAL;
	if (child->magic != CANCEL_MAGIC)
		return AK_ESTATE;
	if (!child->parent)
		return AK_ENOENT;
	/* The parent cannot be destroyed meanwhile: it counts us. */
	st = ak_cancel_cb_deregister(child->parent, &child->link);
	if (st != AK_OK && st != AK_ENOENT)
		return st;
	lock_token(child->parent);
	child->parent->nchildren--;
	unlock_token(child->parent);
	child->parent = NULL;
	return AK_OK;
}

ak_status ak_cancel_destroy(ak_cancel *t)
{
	uint32_t b;
	int busy;

	if (!t)
		return AK_EINVAL;
	if (t->magic != CANCEL_MAGIC)
		return AK_ESTATE;
	lock_token(t);
	busy = t->head != NULL || t->running != NULL || t->nchildren != 0 || t->inlines != 0 ||
	       (atomic_load_explicit(&t->state, memory_order_relaxed) & WAITER_MASK) != 0;
	unlock_token(t);
	if (busy)
		return AK_EBUSY;
	/* Wait for requests still finishing on other threads (they may be
	 * past publishing SET but still inside fire/wake). */
	for (;;) {
		/* Acquire: pairs with the release fetch_sub at the end of
		 * ak_cancel_request(): its accesses to *t happen before ours. */
		b = atomic_load_explicit(&t->busy, memory_order_acquire);
		if ((b & ~BUSY_WAIT) == 0)
			break;
		if (!(b & BUSY_WAIT)) {
			/* Relaxed CAS: the futex re-compare and the acquire
			 * re-load above carry the ordering. */
			atomic_compare_exchange_strong_explicit(&t->busy, &b, b | BUSY_WAIT,
								memory_order_relaxed,
								memory_order_relaxed);
			continue;
		}
		_ak_futex_wait(&t->busy, b, AK_DEADLINE_NONE, _AK_FUTEX_PRIVATE);
	}
	if (t->parent) {
		ak_status st = ak_cancel_detach(t);
		if (st != AK_OK)
			return st;
	}
	t->magic = 0;
	return AK_OK;
}

/* ---- cancel ----------------------------------------------------------- */

/* Run the callbacks once: the first thread to get here takes the list. */
static void fire(ak_cancel *t)
{
	ak_cancel_cb *cb;

	lock_token(t);
	if (t->fired) {
		unlock_token(t);
		return;
	}
	t->fired = 1;
	while ((cb = t->head) != NULL) {
		t->head = cb->next;
		if (t->head)
			t->head->prev = NULL;
		cb->next = cb->prev = NULL;
		cb->runner = self_id();
		atomic_store_explicit(&cb->state, CB_RUNNING, memory_order_relaxed);
		t->running = cb;
		unlock_token(t);
		cb->fn(cb->arg);
		lock_token(t);
		t->running = NULL;
		/* Release: pairs with the acquire load in the deregister wait,
		 * so whatever fn did happens before deregister returns. */
		if (atomic_exchange_explicit(&cb->state, CB_DONE, memory_order_release) ==
		    CB_RUNNING_WAITED)
			/* cb may be freed as soon as the waiter sees DONE; a
			 * wake on a dead address is harmless (the word, not the
			 * wake, is the truth). */
			_ak_futex_wake(&cb->state, INT32_MAX, _AK_FUTEX_PRIVATE);
	}
	unlock_token(t);
}

/* Set the flag: the async-signal-safe part of a request (atomics and a
 * futex wake only).  Returns true if this call set the cause. */
static bool set_flag(ak_cancel *t, int cause)
{
	int expect = 0;
	bool won;
	uint32_t old;

	/* acq_rel: release so a loser (or any reader of SET via a loser's
	 * fetch_or) sees the cause; acquire on failure for the same chain. */
	won = atomic_compare_exchange_strong_explicit(&t->cause, &expect, cause,
						      memory_order_acq_rel, memory_order_acquire);
	/* Release: pairs with the acquire load in ak_cancel_is_set() (the
	 * publication guarantee).  Acquire + same-word total order with the
	 * waiter's fetch_add in ak_cancel_wait(): see the file comment. */
	old = atomic_fetch_or_explicit(&t->state, _AK_CANCEL_SET, memory_order_acq_rel);
	if (!(old & _AK_CANCEL_SET) && (old & WAITER_MASK))
		_ak_futex_wake(&t->state, INT32_MAX, _AK_FUTEX_PRIVATE);
	return won;
}

static void busy_enter(ak_cancel *t)
{
	/* Relaxed: ordered before the SET publication by the release RMWs
	 * that follow in this thread; destroy reads it after acquiring SET. */
	atomic_fetch_add_explicit(&t->busy, 1, memory_order_relaxed);
}

static void busy_leave(ak_cancel *t)
{
	/* Release: pairs with the acquire load in ak_cancel_destroy(). */
	uint32_t old = atomic_fetch_sub_explicit(&t->busy, 1, memory_order_release);
	if (old == (BUSY_WAIT | 1u))
		_ak_futex_wake(&t->busy, INT32_MAX, _AK_FUTEX_PRIVATE);
}

bool ak_cancel_request(ak_cancel *t, int cause)
{
	bool won;

	if (!t)
		return false;
	if (cause == 0)
		cause = AK_ECANCELED;
	busy_enter(t);
	won = set_flag(t, cause);
	fire(t);
	busy_leave(t);
	return won;
}

bool _ak_cancel_poll_deadline(ak_cancel *t)
{
	uint64_t dl = atomic_load_explicit(&t->deadline, memory_order_relaxed);
	if (ak_clock_read(&t->clock) < dl)
		return false;
	ak_cancel_request(t, AK_ETIMEDOUT);
	return true;
}

ak_status ak_cancel_wait(ak_cancel *t, uint64_t deadline_ns)
{
	uint32_t s;
	ak_status rc = AK_OK;

	if (!t)
		return AK_EINVAL;
	if (t->magic != CANCEL_MAGIC)
		return AK_ESTATE;
	if (ak_cancel_is_set(t))
		return AK_OK;
	/* Register as a waiter on the word that carries SET.  seq_cst (acq_rel
	 * would do: one location): pairs with the fetch_or in set_flag(). */
	s = atomic_fetch_add_explicit(&t->state, _AK_CANCEL_WAITER, memory_order_seq_cst) +
	    _AK_CANCEL_WAITER;
	for (;;) {
		uint64_t until = deadline_ns, now;

		if (s & _AK_CANCEL_SET)
			break;
		if ((s & _AK_CANCEL_TIMED) && _ak_cancel_poll_deadline(t))
			break;
		now = ak_now_ns();
		if (deadline_ns != AK_DEADLINE_NONE && now >= deadline_ns) {
			rc = AK_ETIMEDOUT;
			break;
		}
		if (s & _AK_CANCEL_TIMED) {
			uint64_t tdl = t->clock.now
					       ? (now + POLL_SLICE_NS)
					       : atomic_load_explicit(&t->deadline, memory_order_relaxed);
			if (tdl < until)
				until = tdl;
		}
		/* Returns on wake, timeout, signal, or if the word changed
		 * (another waiter came or went): all re-checked above. */
		(void)_ak_futex_wait(&t->state, s, until, _AK_FUTEX_PRIVATE);
		/* Acquire: pairs with the release fetch_or in set_flag(); the
		 * futex itself orders nothing (see internal/futex.h). */
		s = atomic_load_explicit(&t->state, memory_order_acquire);
	}
	/* Relaxed: leaving needs no ordering; the count only gates wakes. */
	atomic_fetch_sub_explicit(&t->state, _AK_CANCEL_WAITER, memory_order_relaxed);
	return rc;
}

/* ---- callbacks -------------------------------------------------------- */

static void run_inline(ak_cancel *t, ak_cancel_cb *cb)
{
	cb->fn(cb->arg);
	lock_token(t);
	t->inlines--;
	/* Release: pairs with the acquire load in the deregister wait. */
	if (atomic_exchange_explicit(&cb->state, CB_DONE, memory_order_release) ==
	    CB_RUNNING_WAITED)
		_ak_futex_wake(&cb->state, INT32_MAX, _AK_FUTEX_PRIVATE);
	unlock_token(t);
}

ak_status ak_cancel_cb_register(ak_cancel *t, ak_cancel_cb *cb, ak_cancel_fn fn, void *arg)
{
	uint32_t st;

	if (!t || !cb || !fn)
		return AK_EINVAL;
	if (t->magic != CANCEL_MAGIC)
		return AK_ESTATE;
	lock_token(t);
	st = atomic_load_explicit(&cb->state, memory_order_relaxed);
	if (cb->owner == t && (st == CB_LISTED || st == CB_RUNNING || st == CB_RUNNING_WAITED)) {
		unlock_token(t);
		return AK_EBUSY;
	}
	cb->fn = fn;
	cb->arg = arg;
	cb->owner = t;
	cb->next = cb->prev = NULL;
	if (t->fired) {
		/* The list was taken already: run now, here. */
		cb->runner = self_id();
		atomic_store_explicit(&cb->state, CB_RUNNING, memory_order_relaxed);
		t->inlines++;
		unlock_token(t);
		run_inline(t, cb);
		return AK_OK;
	}
	atomic_store_explicit(&cb->state, CB_LISTED, memory_order_relaxed);
	cb->next = t->head;
	if (t->head)
		t->head->prev = cb;
	t->head = cb;
	unlock_token(t);
	/*
	 * Cancelled but not fired (a signal handler set the flag, or a
	 * requester is between set_flag and fire): take the list ourselves so
	 * the callback runs in this call.  If the requester's fire took the
	 * lock before ours we saw `fired`; if after, it finds cb listed.
	 * Acquire: pairs with the release fetch_or in set_flag().
	 */
	if (atomic_load_explicit(&t->state, memory_order_acquire) & _AK_CANCEL_SET) {
		busy_enter(t);
		fire(t);
		busy_leave(t);
	}
	return AK_OK;
}

ak_status ak_cancel_cb_deregister(ak_cancel *t, ak_cancel_cb *cb)
{
	uint32_t st;

	if (!t || !cb)
		return AK_EINVAL;
	if (t->magic != CANCEL_MAGIC)
		return AK_ESTATE;
	lock_token(t);
	if (cb->owner != t) {
		unlock_token(t);
		return cb->owner ? AK_EINVAL : AK_ENOENT;
	}
	st = atomic_load_explicit(&cb->state, memory_order_relaxed);
	switch (st) {
	case CB_LISTED:
		if (cb->prev)
			cb->prev->next = cb->next;
		else
			t->head = cb->next;
		if (cb->next)
			cb->next->prev = cb->prev;
		cb->next = cb->prev = NULL;
		atomic_store_explicit(&cb->state, CB_IDLE, memory_order_relaxed);
		unlock_token(t);
		return AK_OK;
	case CB_RUNNING:
	case CB_RUNNING_WAITED:
		if (cb->runner == self_id()) {
			/* From inside fn (or code it calls): waiting would
			 * deadlock; fn is ours and will not run again. */
			unlock_token(t);
			return AK_OK;
		}
		atomic_store_explicit(&cb->state, CB_RUNNING_WAITED, memory_order_relaxed);
		unlock_token(t);
		for (;;) {
			/* Acquire: pairs with the release exchange to DONE in
			 * fire()/run_inline(). */
			st = atomic_load_explicit(&cb->state, memory_order_acquire);
			if (st != CB_RUNNING_WAITED)
				break;
			_ak_futex_wait(&cb->state, st, AK_DEADLINE_NONE, _AK_FUTEX_PRIVATE);
		}
		return AK_OK;
	case CB_DONE:
		unlock_token(t);
		return AK_OK;
	default:
		unlock_token(t);
		return AK_ENOENT;
	}
}

/* ---- signals ---------------------------------------------------------- */

AK_STATIC_ASSERT(sizeof(struct sigaction) <= 160, "old_action storage too small");
AK_STATIC_ASSERT(sizeof(pthread_t) <= sizeof(uintptr_t), "pthread_t must fit uintptr_t");

/* Which installation owns each signal; the handler has no argument. */
static _Atomic(ak_cancel_signals *) sig_owner[NSIG];

static void on_signal(int signo)
{
	int saved_errno = errno;
	ak_cancel_signals *s;

	if (signo <= 0 || signo >= NSIG)
		return;
	/* Acquire: pairs with the release store in install(), so the
	 * installation's fields are visible to the handler. */
	s = atomic_load_explicit(&sig_owner[signo], memory_order_acquire);
	if (!s)
		return;
	atomic_store_explicit(&s->last_signo, signo, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
	if ((s->flags & AK_CANCEL_SIG_SECOND_DEFAULT) &&
	    (atomic_load_explicit(&s->token->state, memory_order_relaxed) & _AK_CANCEL_SET)) {
		/* Second signal: default action (sigaction, raise: both
		 * async-signal-safe). */
		struct sigaction dfl;
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigemptyset(&dfl.sa_mask);
		sigaction(signo, &dfl, NULL);
		raise(signo);
		errno = saved_errno;
		return;
	}
	busy_enter(s->token);
	set_flag(s->token, AK_EINTR);
	busy_leave(s->token);
	/* Release: pairs with the acquire load in the dispatcher. */
	atomic_fetch_add_explicit(&s->kick, 1, memory_order_release);
	_ak_futex_wake(&s->kick, 1, _AK_FUTEX_PRIVATE);
	errno = saved_errno;
}

/* Runs the callbacks of a signal-cancelled token on an ordinary thread. */
static void *dispatcher(void *arg)
{
	ak_cancel_signals *s = (ak_cancel_signals *)arg;

	for (;;) {
		/* Acquire: pairs with the release add in on_signal() and the
		 * release store of `stop` in ak_cancel_signals_restore(). */
		uint32_t k = atomic_load_explicit(&s->kick, memory_order_acquire);
		if (ak_cancel_is_set(s->token)) {
			busy_enter(s->token);
			fire(s->token);
			busy_leave(s->token);
		}
		if (atomic_load_explicit(&s->stop, memory_order_acquire))
			break;
		_ak_futex_wait(&s->kick, k, AK_DEADLINE_NONE, _AK_FUTEX_PRIVATE);
	}
	return NULL;
}

static void uninstall(ak_cancel_signals *s, int upto)
{
	for (int i = 0; i < upto; i++) {
		struct sigaction old;
		ak_cancel_signals *me = s;
		memcpy(&old, s->old_action[i], sizeof(old));
		sigaction(s->signo[i], &old, NULL);
		/* Release pairs with nothing in particular: clearing ownership;
		 * the handler tolerates NULL. */
		atomic_compare_exchange_strong_explicit(&sig_owner[s->signo[i]], &me, NULL,
							memory_order_acq_rel,
							memory_order_relaxed);
	}
}

ak_status ak_cancel_on_signal_list(ak_cancel_signals *s, ak_cancel *t, unsigned flags,
				   const int *signals, int n)
{
	static const int defaults[] = { SIGINT, SIGTERM };
	pthread_t tid;
	int i;

	if (!s || !t || n < 0 || n > AK_CANCEL_SIGNALS_MAX || (n > 0 && !signals) ||
	    (flags & ~AK_CANCEL_SIG_SECOND_DEFAULT))
		return AK_EINVAL;
	if (t->magic != CANCEL_MAGIC)
		return AK_ESTATE;
	if (n == 0) {
		signals = defaults;
		n = 2;
	}
	for (i = 0; i < n; i++) {
		int sig = signals[i];
		if (sig <= 0 || sig >= NSIG || sig == SIGKILL || sig == SIGSTOP)
			return AK_EINVAL;
		for (int j = 0; j < i; j++)
			if (signals[j] == sig)
				return AK_EINVAL;
	}
	memset((void *)s, 0, sizeof(*s));
	s->token = t;
	s->flags = flags;
	s->nsig = n;
	atomic_init(&s->kick, 0);
	atomic_init(&s->stop, 0);
	atomic_init(&s->last_signo, 0);
	atomic_init(&s->count, 0);
	for (i = 0; i < n; i++) {
		ak_cancel_signals *none = NULL;
		s->signo[i] = signals[i];
		/* Release: pairs with the acquire load in on_signal(). */
		if (!atomic_compare_exchange_strong_explicit(&sig_owner[signals[i]], &none, s,
							     memory_order_acq_rel,
							     memory_order_relaxed)) {
			uninstall(s, i);
			return AK_EBUSY;
		}
	}
	if (pthread_create(&tid, NULL, dispatcher, s) != 0) {
		for (i = 0; i < n; i++) {
			ak_cancel_signals *me = s;
			atomic_compare_exchange_strong_explicit(&sig_owner[signals[i]], &me, NULL,
								memory_order_acq_rel,
								memory_order_relaxed);
		}
		return AK_ESYS;
	}
	s->thread = (uintptr_t)tid;
	for (i = 0; i < n; i++) {
		struct sigaction sa, old;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = SA_RESTART;
		if (sigaction(signals[i], &sa, &old) != 0) {
			uninstall(s, i);
			for (int j = i; j < n; j++) {
				ak_cancel_signals *me = s;
				atomic_compare_exchange_strong_explicit(
					&sig_owner[signals[j]], &me, NULL, memory_order_acq_rel,
					memory_order_relaxed);
			}
			/* Release: pairs with the acquire in dispatcher(). */
			atomic_store_explicit(&s->stop, 1, memory_order_release);
			atomic_fetch_add_explicit(&s->kick, 1, memory_order_release);
			_ak_futex_wake(&s->kick, 1, _AK_FUTEX_PRIVATE);
			pthread_join(tid, NULL);
			return AK_ESYS;
		}
		memcpy(s->old_action[i], &old, sizeof(old));
	}
	s->installed = 1;
	return AK_OK;
}

ak_status ak_cancel_on_signals(ak_cancel_signals *s, ak_cancel *t, unsigned flags, ...)
{
	int sigs[AK_CANCEL_SIGNALS_MAX];
	int n = 0, sig;
	va_list ap;

	va_start(ap, flags);
	while ((sig = va_arg(ap, int)) != 0) {
		if (n == AK_CANCEL_SIGNALS_MAX) {
			va_end(ap);
			return AK_EINVAL;
		}
		sigs[n++] = sig;
	}
	va_end(ap);
	return ak_cancel_on_signal_list(s, t, flags, sigs, n);
}

ak_status ak_cancel_signals_restore(ak_cancel_signals *s)
{
	if (!s)
		return AK_EINVAL;
	if (!s->installed)
		return AK_ESTATE;
	uninstall(s, s->nsig);
	/* Release: pairs with the acquire load of `stop` in dispatcher(). */
	atomic_store_explicit(&s->stop, 1, memory_order_release);
	/* Release: pairs with the acquire load of `kick` in dispatcher(). */
	atomic_fetch_add_explicit(&s->kick, 1, memory_order_release);
	_ak_futex_wake(&s->kick, 1, _AK_FUTEX_PRIVATE);
	pthread_join((pthread_t)s->thread, NULL);
	s->installed = 0;
	return AK_OK;
}
