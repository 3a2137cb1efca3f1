/* The eventcount's out-of-line half: sleeping and waking (system calls). */
#include <limits.h>

#include <atomkit/status.h>
#include <atomkit/internal/event.h>

int _ak_event_wait(struct _ak_event *ev, uint32_t ticket, uint64_t deadline_ns, int scope)
{
	int rc = _ak_futex_wait(&ev->seq, ticket, deadline_ns, scope);

	/* Relaxed: a notifier that still sees us only makes a spare wake. */
	atomic_fetch_sub_explicit(&ev->waiters, 1, memory_order_relaxed);
	return rc;
}

void _ak_event_wake_all(struct _ak_event *ev, int scope)
{
	/* Release: pairs with the acquire load of seq in _ak_event_prepare(),
	 * so a waiter whose ticket already includes this bump also sees the
	 * state change that preceded the notify. */
	atomic_fetch_add_explicit(&ev->seq, 1, memory_order_release);
	_ak_futex_wake(&ev->seq, INT_MAX, scope);
}

void _ak_event_kick(void *ev)
{
	_ak_event_wake_all((struct _ak_event *)ev, _AK_FUTEX_PRIVATE);
}

void _ak_event_kick_shared(void *ev)
{
	_ak_event_wake_all((struct _ak_event *)ev, _AK_FUTEX_SHARED);
}
