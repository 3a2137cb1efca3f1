/* TEMPORARY LOCAL STUB of the cancel family (see include/atomkit/cancel.h). */
#include <atomkit/cancel.h>
#include <atomkit/internal/futex.h>

ak_status ak_cancel_init(ak_cancel *t)
{
	if (!t)
		return AK_EINVAL;
	atomic_store_explicit(&t->state, 0, memory_order_relaxed);
	atomic_store_explicit(&t->cause, 0, memory_order_relaxed);
	return AK_OK;
}

ak_status ak_cancel_destroy(ak_cancel *t)
{
	return t ? AK_OK : AK_EINVAL;
}

bool ak_cancel_request(ak_cancel *t, int cause)
{
	int zero = 0;
	if (!t)
		return false;
	/* Relaxed: the release exchange below publishes it. */
	atomic_compare_exchange_strong_explicit(&t->cause, &zero, cause, memory_order_relaxed,
						memory_order_relaxed);
	/* Release: pairs with the acquire loads in is_set/wait. */
	if (atomic_exchange_explicit(&t->state, 1, memory_order_release) != 0)
		return false;
	_ak_futex_wake(&t->state, INT32_MAX, _AK_FUTEX_PRIVATE);
	return true;
}

bool ak_cancel_is_set(const ak_cancel *t)
{
	/* Acquire: pairs with the release exchange in ak_cancel_request(). */
	return atomic_load_explicit(&((ak_cancel *)(uintptr_t)t)->state, memory_order_acquire) != 0;
}

int ak_cancel_cause(const ak_cancel *t)
{
	if (!ak_cancel_is_set(t))
		return 0;
	return atomic_load_explicit(&((ak_cancel *)(uintptr_t)t)->cause, memory_order_relaxed);
}

ak_status ak_cancel_wait(ak_cancel *t, uint64_t deadline_ns)
{
	if (!t)
		return AK_EINVAL;
	/* Acquire: pairs with the release exchange in ak_cancel_request(). */
	while (atomic_load_explicit(&t->state, memory_order_acquire) == 0) {
		if (_ak_futex_wait(&t->state, 0, deadline_ns, _AK_FUTEX_PRIVATE) == AK_ETIMEDOUT &&
		    atomic_load_explicit(&t->state, memory_order_acquire) == 0)
			return AK_ETIMEDOUT;
	}
	return AK_OK;
}
