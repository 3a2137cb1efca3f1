/*
 * atomkit/cancel.h - cancel tokens: a flag that is almost free to check,
 * can be waited on, propagates from parent to children, runs callbacks,
 * expires at a deadline and can be set from a signal handler.
 *
 * Overview
 *   ak_cancel      a one-shot token.  ak_cancel_request(t, cause) sets it
 *                  (the first cause wins); ak_cancel_is_set(t) checks it with
 *                  one acquire load; ak_cancel_wait(t, deadline) blocks until
 *                  it is set.
 *   ak_cancel_cb   a caller-owned callback node: fn(arg) runs once when the
 *                  token is cancelled (at once if it already is).
 *   children       ak_cancel_init_child(child, parent): cancelling the parent
 *                  cancels the child (any depth, no thread per edge);
 *                  cancelling the child leaves the parent alone.
 *   deadlines      ak_cancel_init_deadline(t, deadline, clock): the token
 *                  counts as cancelled with cause AK_ETIMEDOUT once the
 *                  deadline has passed.
 *   signals        ak_cancel_on_signals(): SIGINT/SIGTERM (or any list)
 *                  cancel the token from an async-signal-safe handler.
 *
 * Contract
 *   - A token is set at most once and never reset.  Every ak_cancel_request
 *     after the first returns false and changes nothing: the first cause
 *     wins and ak_cancel_cause() returns it from then on.  A cause of 0 is
 *     stored as AK_ECANCELED so that 0 keeps meaning "not cancelled".
 *   - Publication: everything the winning requester (the call that
 *     returned true) wrote before its ak_cancel_request() is visible to any
 *     thread after ak_cancel_is_set() returned true (or ak_cancel_wait()
 *     returned AK_OK) on that token or a descendant.  A losing request's
 *     earlier writes are not covered: the reader may have seen the flag
 *     set by the winner before the loser's call.
 *   - Once ak_cancel_request(t, ...) returns, every check of t returns true,
 *     whichever thread won.  Callbacks and child propagation run on a
 *     requesting thread, normally the winner (for a signal: the dispatcher
 *     thread, or a thread that requests or registers a callback first).
 *   - A NULL token is never cancelled: ak_cancel_is_set(NULL) is false and
 *     ak_cancel_cause(NULL) is 0, so "NULL = not cancellable" needs no
 *     special case in callers.  Functions returning ak_status reject NULL
 *     with AK_EINVAL; use of a destroyed or never-initialized token is
 *     AK_ESTATE where it can be detected (the magic word).
 *   - A cancel with no waiter blocked in ak_cancel_wait() makes no system
 *     call (the futex word counts waiters).
 *
 * Progress
 *   ak_cancel_is_set / ak_cancel_cause: wait-free, one acquire load (plus
 *   one clock read on a deadline token, see ak_cancel_init_deadline).
 *   ak_cancel_request: lock-free to set the flag (two RMWs); then runs the
 *   callbacks, each registered callback exactly once.  Registration and
 *   deregistration take a short internal spin lock (never held while a
 *   callback runs).  ak_cancel_wait blocks (futex).
 *
 * Example
 *     ak_cancel stop;
 *     ak_cancel_init(&stop);
 *     // worker:  while (!ak_cancel_is_set(&stop)) do_work();
 *     // control: ak_cancel_request(&stop, AK_ECANCELED);
 *     ak_cancel_wait(&stop, ak_deadline_after(AK_NS_PER_SEC));
 */
#ifndef ATOMKIT_CANCEL_H
#define ATOMKIT_CANCEL_H

#include <stdbool.h>

#include "clock.h"
#include "internal/compiler.h"
#include "status.h"

AK_BEGIN_DECLS

typedef struct ak_cancel ak_cancel;
typedef struct ak_cancel_cb ak_cancel_cb;
typedef void (*ak_cancel_fn)(void *arg);

/* Bits of ak_cancel.state, the futex word. */
#define _AK_CANCEL_SET 1u        /* cancelled; never cleared */
#define _AK_CANCEL_TIMED 2u      /* the token has a deadline */
#define _AK_CANCEL_WAITER 4u     /* one blocked ak_cancel_wait() (count) */

/* States of ak_cancel_cb.state. */
#define _AK_CB_IDLE 0u
#define _AK_CB_LISTED 1u
#define _AK_CB_RUNNING 2u
#define _AK_CB_RUNNING_WAITED 3u
#define _AK_CB_DONE 4u

/*
 * A callback node.  Caller-owned storage, no initialization needed before
 * the first ak_cancel_cb_register(); it must stay valid until the callback
 * has run, or until ak_cancel_cb_deregister() returned.  The fields are
 * private.
 */
struct ak_cancel_cb {
	struct ak_cancel_cb *next;
	struct ak_cancel_cb *prev;
	ak_cancel_fn fn;
	void *arg;
	struct ak_cancel *owner;
	uintptr_t runner;          /* thread running fn (under owner's lock) */
	_Atomic(uint32_t) state;   /* _AK_CB_*; futex word for deregister */
	uint32_t pad_;
};

/*
 * The token.  The first cache line holds what checks read (state, cause,
 * deadline); the registration lock and lists sit on the next one, so
 * registering callbacks does not disturb threads that only check.
 */
struct ak_cancel {
	_Atomic(uint32_t) state;     /* _AK_CANCEL_SET | _TIMED | waiters */
	_Atomic(int) cause;          /* first cause; 0 while not cancelled */
	_Atomic(uint32_t) busy;      /* requests in flight (+ destroyer-waits bit) */
	uint32_t pad1_;
	_Atomic(uint64_t) deadline;  /* absolute ns on `clock`, if _TIMED */
	ak_clock clock;              /* clock of the deadline; now==NULL: monotonic */
	uint32_t magic;
	uint32_t pad0_;

	AK_ALIGNAS(AK_CACHE_LINE) _Atomic(uint32_t) lock; /* spin lock: lists below */
	uint32_t fired;              /* callbacks taken for running (under lock) */
	uint32_t nchildren;          /* linked children (under lock) */
	uint32_t inlines;            /* callbacks running inside register (under lock) */
	uint32_t pad2_;
	struct ak_cancel_cb *head;   /* registered callbacks, newest first */
	struct ak_cancel_cb *running;/* callback being run by the firing thread */
	struct ak_cancel *parent;    /* set while linked as a child */
	struct ak_cancel_cb link;    /* our node in parent's callback list */
};

/* ------------------------------------------------------------------ */
/* Lifecycle                                                           */
/* ------------------------------------------------------------------ */

/* Initialize a token: not cancelled, no deadline, no parent.  Call before
 * the token is shared.  AK_EINVAL on NULL.  Not thread-safe. */
ak_status ak_cancel_init(ak_cancel *t);

/*
 * Initialize `child` (as ak_cancel_init) and link it under `parent`: when
 * `parent` is cancelled, `child` is cancelled with the parent's cause, on
 * the thread that cancels the parent.  If the parent already is cancelled,
 * the child is cancelled now.  The child inherits the parent's deadline and
 * clock when the parent has one.  Cost: one callback node in the parent; no
 * thread.  AK_EINVAL on NULL or child == parent, AK_ESTATE if the parent is
 * not an initialized token.
 */
ak_status ak_cancel_init_child(ak_cancel *child, ak_cancel *parent);

/*
 * Initialize a deadline token (as ak_cancel_init) that counts as cancelled
 * with cause AK_ETIMEDOUT once clock >= deadline_ns.  clk NULL means
 * CLOCK_MONOTONIC (then ak_cancel_wait sleeps exactly until the deadline).
 * Cost: a check of a deadline token that is not yet cancelled is one load
 * plus one clock read (~20 ns vDSO for CLOCK_MONOTONIC); the first check
 * that finds the deadline passed cancels the token as
 * ak_cancel_request(t, AK_ETIMEDOUT) would, on the checking thread
 * (callbacks and children included).  A fake clock advancing does not wake
 * sleepers: waits re-read a non-monotonic clock every 10 ms.
 * AK_EINVAL on NULL t.
 */
ak_status ak_cancel_init_deadline(ak_cancel *t, uint64_t deadline_ns, const ak_clock *clk);

/*
 * Give an initialized token a deadline, or move its deadline earlier (the
 * earlier of the two wins).  Children linked before this call do not
 * inherit it.  Any thread may run concurrently with this call except
 * another ak_cancel_set_deadline on the same token.  clk as in
 * ak_cancel_init_deadline; AK_EINVAL on NULL t or if the token already has
 * a deadline on a different clock, AK_ESTATE on an uninitialized token.
 */
ak_status ak_cancel_set_deadline(ak_cancel *t, uint64_t deadline_ns, const ak_clock *clk);

/*
 * Unlink a child from its parent.  Safe while the parent is being cancelled
 * concurrently: returns only once the parent's propagation into this child
 * is not running on another thread (from inside that propagation, i.e. a
 * callback of this child, it returns at once).  The child keeps whatever
 * state it has.  AK_ENOENT if the token has no parent, AK_EINVAL on NULL.
 */
ak_status ak_cancel_detach(ak_cancel *child);

/*
 * Tear down.  Detaches from a parent first.  AK_EBUSY (and nothing changes)
 * while callbacks or children are still registered, a callback is running,
 * a thread waits, or when called from inside one of t's callbacks;
 * AK_ESTATE on a destroyed or uninitialized token; AK_EINVAL on NULL.
 * A thread that saw the cancel may destroy (and free) the token at once:
 * destroy waits for ak_cancel_request() calls still finishing on other
 * threads (their callbacks included), so none touches freed memory.
 */
ak_status ak_cancel_destroy(ak_cancel *t);

/* ------------------------------------------------------------------ */
/* Cancel and check                                                    */
/* ------------------------------------------------------------------ */

/*
 * Cancel t with `cause` (0 is stored as AK_ECANCELED).  Returns true if this
 * call cancelled the token, false if it already was (or t is NULL).  Wakes
 * every ak_cancel_wait()er (a futex wake only if one is blocked), then runs
 * the callbacks and cancels the children in this call, unless another
 * thread already took them (each callback runs exactly once, on one
 * requesting thread).  When the call returns, every check of t is true.
 * Any thread, including from inside a callback; not async-signal-safe (use
 * ak_cancel_on_signals).
 */
bool ak_cancel_request(ak_cancel *t, int cause);

/* Out of line: the deadline part of a check. */
bool _ak_cancel_poll_deadline(ak_cancel *t);

/*
 * True once t is cancelled.  One acquire load (pairs with the release RMW
 * in ak_cancel_request()), so data written before the request is visible
 * after this returns true.  On a deadline token that is not yet cancelled
 * it also reads the clock.  Wait-free; async-signal-safe for tokens without
 * a deadline.  t may be NULL (never cancelled).
 */
AK_INLINE bool ak_cancel_is_set(const ak_cancel *t)
{
	uint32_t s;

	if (AK_UNLIKELY(!t))
		return false;
	/* Acquire: pairs with the release fetch_or in ak_cancel_request(). */
	s = atomic_load_explicit(&t->state, memory_order_acquire);
	if (AK_LIKELY(!(s & (_AK_CANCEL_SET | _AK_CANCEL_TIMED))))
		return false;
	if (s & _AK_CANCEL_SET)
		return true;
	/* Deadline token: the object was created non-const by
	 * ak_cancel_init_deadline(), so the cast is defined. */
	return _ak_cancel_poll_deadline((ak_cancel *)(uintptr_t)t);
}

/* The first cause (AK_ETIMEDOUT for an expired deadline token), or 0 while
 * t is not cancelled (or NULL).  Wait-free. */
AK_INLINE int ak_cancel_cause(const ak_cancel *t)
{
	if (!ak_cancel_is_set(t))
		return 0;
	/* Relaxed: the cause was stored before the releasing fetch_or that the
	 * acquire in ak_cancel_is_set() read. */
	return atomic_load_explicit(&t->cause, memory_order_relaxed);
}

/* The token's deadline (absolute ns on its clock), AK_DEADLINE_NONE if it
 * has none.  Lets blocking calls bound their own sleeps. */
AK_INLINE uint64_t ak_cancel_deadline(const ak_cancel *t)
{
	if (!t || !(atomic_load_explicit(&t->state, memory_order_relaxed) & _AK_CANCEL_TIMED))
		return AK_DEADLINE_NONE;
	return atomic_load_explicit(&t->deadline, memory_order_relaxed);
}

/*
 * Block until t is cancelled (AK_OK) or the absolute CLOCK_MONOTONIC
 * deadline passes (AK_ETIMEDOUT; AK_DEADLINE_NONE = never).  A deadline
 * token that expires meanwhile returns AK_OK (its cause is AK_ETIMEDOUT).
 * Signals do not end the wait.  AK_EINVAL on NULL, AK_ESTATE on an
 * uninitialized token.  Any number of threads may wait.  Blocking.
 */
ak_status ak_cancel_wait(ak_cancel *t, uint64_t deadline_ns);

/* ------------------------------------------------------------------ */
/* Callbacks                                                           */
/* ------------------------------------------------------------------ */

/*
 * Arrange for fn(arg) to run exactly once when t is cancelled, on the
 * cancelling thread, outside any lock.  If t already is cancelled, fn(arg)
 * runs now, in this call.  cb is caller storage and must not be registered
 * elsewhere.  AK_EINVAL on NULL t/cb/fn, AK_EBUSY if cb is already
 * registered and has not run, AK_ESTATE on an uninitialized token.
 */
ak_status ak_cancel_cb_register(ak_cancel *t, ak_cancel_cb *cb, ak_cancel_fn fn, void *arg);

/*
 * Remove cb.  Afterwards fn is not running and will not run (unless it has
 * run already).  If fn is running on another thread, waits for it to
 * return; from inside fn itself (same thread) returns at once without
 * waiting, so a callback may deregister itself or be deregistered by
 * code it calls.  Never call it while holding a lock that fn takes.
 * AK_OK when cb is no longer pending (removed now, or already ran:
 * ak_cancel_cb_ran() tells which),
 * AK_ENOENT if cb was never registered (or was already removed),
 * AK_EINVAL on NULL or if cb belongs to another token.
 */
ak_status ak_cancel_cb_deregister(ak_cancel *t, ak_cancel_cb *cb);

/*
 * After ak_cancel_cb_deregister() returned AK_OK: true if fn ran (the
 * cancel came first), false if the node was removed before it could run.
 * Lets the owner of resources the callback would release tell the cases
 * apart.  Only meaningful on a node that is not registered.
 */
AK_INLINE bool ak_cancel_cb_ran(const ak_cancel_cb *cb)
{
	/* Acquire: pairs with the release exchange that marks the node done
	 * (so what fn wrote is visible when this returns true). */
	return cb && atomic_load_explicit(&cb->state, memory_order_acquire) == _AK_CB_DONE;
}

/* ------------------------------------------------------------------ */
/* Signals                                                             */
/* ------------------------------------------------------------------ */

#define AK_CANCEL_SIGNALS_MAX 8

/* Flags for ak_cancel_on_signals. */
#define AK_CANCEL_SIG_SECOND_DEFAULT 1u /* a second signal gets the default action */

/*
 * An installation of signal handlers that cancel a token.  Caller storage;
 * fields are private.  While installed it must stay valid.
 */
typedef struct ak_cancel_signals {
	ak_cancel *token;
	unsigned flags;
	int nsig;
	int signo[AK_CANCEL_SIGNALS_MAX];
	unsigned char old_action[AK_CANCEL_SIGNALS_MAX][160]; /* struct sigaction */
	_Atomic(uint32_t) kick;      /* futex word the handler bumps */
	_Atomic(uint32_t) stop;      /* ask the dispatcher to exit */
	_Atomic(int) last_signo;     /* last signal received, 0 if none */
	_Atomic(uint32_t) count;     /* signals received */
	uintptr_t thread;            /* dispatcher pthread_t */
	uint32_t installed;
	uint32_t pad_;
} ak_cancel_signals;

/*
 * Install handlers for the listed signals (a 0-terminated list of int; no
 * signal at all means SIGINT and SIGTERM) that cancel t with cause AK_EINTR.
 * The handler only does atomic operations and a futex wake (both
 * async-signal-safe); callbacks and child propagation run on a dispatcher
 * thread this call starts.  With AK_CANCEL_SIG_SECOND_DEFAULT, a signal
 * arriving when the token is already cancelled restores the default action
 * and re-raises it (a second Ctrl-C kills a stuck program).
 * AK_EINVAL on NULL, a bad or uncatchable signal, or more than
 * AK_CANCEL_SIGNALS_MAX signals; AK_EBUSY if another installation owns one
 * of the signals; AK_ESYS if sigaction or thread creation fails (then
 * nothing stays installed).
 */
ak_status ak_cancel_on_signals(ak_cancel_signals *s, ak_cancel *t, unsigned flags, ...);

/* Same with an array (n == 0: SIGINT and SIGTERM). */
ak_status ak_cancel_on_signal_list(ak_cancel_signals *s, ak_cancel *t, unsigned flags,
				   const int *signals, int n);

/* Restore the previous handlers and stop the dispatcher (joins it: if the
 * token was cancelled by a signal, its callbacks have run when this
 * returns).  AK_ESTATE if not installed, AK_EINVAL on NULL, AK_EBUSY (and
 * nothing changes) when called from a callback running on the dispatcher
 * thread itself. */
ak_status ak_cancel_signals_restore(ak_cancel_signals *s);

/* The last signal the installation received (0 if none). */
AK_INLINE int ak_cancel_signals_last(const ak_cancel_signals *s)
{
	return s ? atomic_load_explicit(&s->last_signo, memory_order_relaxed) : 0;
}

AK_END_DECLS

#endif /* ATOMKIT_CANCEL_H */
