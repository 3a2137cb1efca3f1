/* Unit tests: the eventcount (internal/event.h) and the futex wrappers. */
#include <atomkit/clock.h>
#include <atomkit/status.h>
#include <atomkit/internal/event.h>
#include <pthread.h>

#include "check.h"

static struct _ak_event ev = _AK_EVENT_INIT;
static _Atomic(uint32_t) flag;

static void *late_setter(void *arg)
{
	(void)arg;
	/* Release: pairs with the acquire load of flag in the waiter loop. */
	atomic_store_explicit(&flag, 1, memory_order_release);
	_ak_event_notify(&ev, _AK_FUTEX_PRIVATE);
	return NULL;
}

int main(void)
{
	_Atomic(uint32_t) word = 5;
	uint32_t t;

	/* futex: value mismatch returns at once; past deadline times out */
	CHECK_ST(_ak_futex_wait(&word, 4, AK_DEADLINE_NONE, _AK_FUTEX_PRIVATE), AK_OK);
	CHECK_ST(_ak_futex_wait(&word, 5, 0, _AK_FUTEX_PRIVATE), AK_ETIMEDOUT);
	CHECK_ST(_ak_futex_wait(&word, 5, ak_now_ns() + 1000000, _AK_FUTEX_PRIVATE), AK_ETIMEDOUT);
	CHECK_ST(_ak_futex_wait(&word, 5, 0, _AK_FUTEX_SHARED), AK_ETIMEDOUT);
	CHECK_ST(_ak_futex_wait(NULL, 5, 0, _AK_FUTEX_PRIVATE), AK_EINVAL);
	CHECK_ST(_ak_futex_wait(&word, 5, 0, 7), AK_EINVAL);
	CHECK_EQ_I64(_ak_futex_wake(&word, 1, _AK_FUTEX_PRIVATE), 0);
	CHECK_EQ_I64(_ak_futex_wake(NULL, 1, _AK_FUTEX_PRIVATE), 0);
	CHECK_EQ_I64(_ak_futex_wake(&word, 0, _AK_FUTEX_PRIVATE), 0);

	/* notify with no waiters: seq untouched (the no-syscall path) */
	_ak_event_init(&ev);
	_ak_event_notify(&ev, _AK_FUTEX_PRIVATE);
	_ak_event_notify_nofence(&ev, _AK_FUTEX_PRIVATE);
	CHECK_EQ_U64(atomic_load_explicit(&ev.seq, memory_order_relaxed), 0);

	/* prepare registers, abort unregisters */
	t = _ak_event_prepare(&ev);
	CHECK_EQ_U64(t, 0);
	CHECK_EQ_U64(atomic_load_explicit(&ev.waiters, memory_order_relaxed), 1);
	_ak_event_abort(&ev);
	CHECK_EQ_U64(atomic_load_explicit(&ev.waiters, memory_order_relaxed), 0);

	/* a notify between prepare and wait makes the wait return at once */
	t = _ak_event_prepare(&ev);
	_ak_event_notify(&ev, _AK_FUTEX_PRIVATE);
	CHECK_EQ_U64(atomic_load_explicit(&ev.seq, memory_order_relaxed), 1);
	CHECK_ST(_ak_event_wait(&ev, t, AK_DEADLINE_NONE, _AK_FUTEX_PRIVATE), AK_OK);
	CHECK_EQ_U64(atomic_load_explicit(&ev.waiters, memory_order_relaxed), 0);

	/* a deadline in the past: AK_ETIMEDOUT, and unregistered */
	t = _ak_event_prepare(&ev);
	CHECK_ST(_ak_event_wait(&ev, t, 0, _AK_FUTEX_PRIVATE), AK_ETIMEDOUT);
	CHECK_EQ_U64(atomic_load_explicit(&ev.waiters, memory_order_relaxed), 0);

	/* kick is unconditional */
	_ak_event_kick(&ev);
	_ak_event_kick_shared(&ev);
	CHECK_EQ_U64(atomic_load_explicit(&ev.seq, memory_order_relaxed), 3);

	/* a real sleep woken by another thread */
	pthread_t th;
	uint64_t deadline = ak_deadline_after(30 * AK_NS_PER_SEC);
	int rc = AK_OK, rounds = 0;
	pthread_create(&th, NULL, late_setter, NULL);
	/* Acquire: pairs with the release store in late_setter(). */
	while (atomic_load_explicit(&flag, memory_order_acquire) == 0 && rc != AK_ETIMEDOUT) {
		t = _ak_event_prepare(&ev);
		if (atomic_load_explicit(&flag, memory_order_acquire)) {
			_ak_event_abort(&ev);
			break;
		}
		rc = _ak_event_wait(&ev, t, deadline, _AK_FUTEX_PRIVATE);
		rounds++;
	}
	pthread_join(th, NULL);
	CHECK(rc != AK_ETIMEDOUT);
	CHECK_EQ_U64(atomic_load_explicit(&flag, memory_order_acquire), 1);
	CHECK_EQ_U64(atomic_load_explicit(&ev.waiters, memory_order_relaxed), 0);
	(void)rounds;
	return check_report("event");
}
