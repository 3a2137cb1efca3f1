/*
 * atomkit/internal/event.h - an eventcount: block until "something changed".
 *
 * Not API.  Families (cancel, rings, limiters, versioned cells) keep their
 * own state in their own atomics and use an event only to sleep and wake.
 *
 * Waiter:
 *     for (;;) {
 *         if (ready())                      // acquire loads of the state
 *             break;
 *         uint32_t t = _ak_event_prepare(ev);
 *         if (ready()) { _ak_event_abort(ev); break; }
 *         if (_ak_event_wait(ev, t, deadline, scope) == AK_ETIMEDOUT)
 *             return AK_ETIMEDOUT;
 *     }
 * Notifier:
 *     store the new state (release or stronger);
 *     _ak_event_notify(ev, scope);          // no system call if nobody waits
 *
 * Why no wake-up is lost (a Dekker handshake; see docs/memory-model.md):
 *   waiter:   W1 waiters++        ; fence(seq_cst) ; W2 t = seq ; W3 ready()?
 *   notifier: N1 state = new      ; fence(seq_cst) ; N3 waiters? ; N4 seq++ ; wake
 * The two seq_cst fences are totally ordered.  If the notifier's comes first,
 * W3 sees N1 and the waiter does not sleep.  If the waiter's comes first, N3
 * sees W1, so the notifier bumps seq and wakes; the waiter either read the
 * bumped seq at W2 (then N1 happens-before W3 through the release N4 /
 * acquire W2 pair, and W3 sees it) or sleeps on the old value t, which the
 * kernel compares atomically with the sleep, so the futex wait returns at
 * once or is woken by N4's wake.
 *
 * The notifier's fence costs one locked instruction (~6 ns) on x86; callers
 * whose state change was itself a seq_cst RMW use _ak_event_notify_nofence()
 * (its seq_cst load of `waiters` plays the fence's part).
 */
#ifndef ATOMKIT_INTERNAL_EVENT_H
#define ATOMKIT_INTERNAL_EVENT_H

#include "compiler.h"
#include "fence.h"
#include "futex.h"

AK_BEGIN_DECLS

struct _ak_event {
	_Atomic(uint32_t) seq;     /* the futex word: bumped by every wake */
	_Atomic(uint32_t) waiters; /* threads between prepare and wait's return */
};

#define _AK_EVENT_INIT { 0, 0 }

AK_INLINE void _ak_event_init(struct _ak_event *ev)
{
	atomic_store_explicit(&ev->seq, 0, memory_order_relaxed);
	atomic_store_explicit(&ev->waiters, 0, memory_order_relaxed);
}

/* Register as a waiter; returns the ticket to pass to _ak_event_wait(). */
AK_INLINE uint32_t _ak_event_prepare(struct _ak_event *ev)
{
	atomic_fetch_add_explicit(&ev->waiters, 1, memory_order_seq_cst);
	/* Dekker: pairs with the fence (or seq_cst load) in _ak_event_notify*. */
	_ak_fence_seq_cst(ev);
	/* Acquire: pairs with the release increment in _ak_event_wake_all(). */
	return atomic_load_explicit(&ev->seq, memory_order_acquire);
}

/* The condition became true after prepare: unregister without sleeping. */
AK_INLINE void _ak_event_abort(struct _ak_event *ev)
{
	atomic_fetch_sub_explicit(&ev->waiters, 1, memory_order_relaxed);
}

/*
 * Sleep unless the event was notified since `ticket`; always unregisters.
 * Returns AK_OK (notified, or spuriously: re-check), AK_ETIMEDOUT (the
 * absolute CLOCK_MONOTONIC deadline passed) or AK_EINTR (a signal).
 */
int _ak_event_wait(struct _ak_event *ev, uint32_t ticket, uint64_t deadline_ns, int scope);

/* Bump seq and wake every waiter, unconditionally. */
void _ak_event_wake_all(struct _ak_event *ev, int scope);

/* After a state change (release store or stronger): wake waiters, if any. */
AK_INLINE void _ak_event_notify(struct _ak_event *ev, int scope)
{
	/* Dekker: pairs with the fence in _ak_event_prepare(). */
	_ak_fence_seq_cst(ev);
	if (AK_UNLIKELY(atomic_load_explicit(&ev->waiters, memory_order_relaxed) != 0))
		_ak_event_wake_all(ev, scope);
}

/* Same, for callers whose state change was a seq_cst RMW. */
AK_INLINE void _ak_event_notify_nofence(struct _ak_event *ev, int scope)
{
	/* seq_cst: ordered after the caller's seq_cst RMW in the single total
	 * order, so it pairs with the fence in _ak_event_prepare(). */
	if (AK_UNLIKELY(atomic_load_explicit(&ev->waiters, memory_order_seq_cst) != 0))
		_ak_event_wake_all(ev, scope);
}

/* Unconditional wake, shaped as an ak_cancel callback (arg = the event). */
void _ak_event_kick(void *ev);        /* process-private futex */
void _ak_event_kick_shared(void *ev); /* futex in memory shared between processes */

AK_END_DECLS

#endif /* ATOMKIT_INTERNAL_EVENT_H */
