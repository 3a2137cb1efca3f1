/*
 * atomkit/internal/fence.h - the one place a standalone fence may appear.
 *
 * Not API.
 *
 * ThreadSanitizer does not model atomic_thread_fence(): a correct
 * fence-based handoff is reported as a race, and a missing one is not
 * noticed.  Every fence atomkit needs therefore goes through these
 * helpers, which, under TSan, also tell the runtime which atomic object
 * the fence synchronises through: __tsan_release(addr) before a release
 * fence, __tsan_acquire(addr) after an acquire fence.  `addr` must be the
 * atomic object whose store/load the fence is paired with (the seqlock
 * sequence word, the refcount, ...).
 *
 * Outside TSan builds these compile to the bare fence (no code at all on
 * x86-64 for acquire/release; one locked instruction for seq_cst).
 */
#ifndef ATOMKIT_INTERNAL_FENCE_H
#define ATOMKIT_INTERNAL_FENCE_H

#include "compiler.h"

#if AK_TSAN
#ifdef __cplusplus
extern "C" {
#endif
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#ifdef __cplusplus
}
#endif
#define _AK_TSAN_ACQUIRE(a) __tsan_acquire((void *)(uintptr_t)(a))
#define _AK_TSAN_RELEASE(a) __tsan_release((void *)(uintptr_t)(a))
#else
#define _AK_TSAN_ACQUIRE(a) ((void)(a))
#define _AK_TSAN_RELEASE(a) ((void)(a))
#endif

/*
 * Acquire fence: loads before it (the relaxed load of `addr`'s object)
 * are ordered before every load and store after it.
 */
AK_INLINE void _ak_fence_acquire(const volatile void *addr)
{
	atomic_thread_fence(memory_order_acquire);
	_AK_TSAN_ACQUIRE(addr);
}

/*
 * Release fence: every load and store before it is ordered before the
 * stores after it (the relaxed store to `addr`'s object and any others).
 */
AK_INLINE void _ak_fence_release(const volatile void *addr)
{
	_AK_TSAN_RELEASE(addr);
	atomic_thread_fence(memory_order_release);
}

/* Full fence (store-load ordering), seen by TSan as release + acquire. */
AK_INLINE void _ak_fence_seq_cst(const volatile void *addr)
{
	_AK_TSAN_RELEASE(addr);
	atomic_thread_fence(memory_order_seq_cst);
	_AK_TSAN_ACQUIRE(addr);
}

#endif /* ATOMKIT_INTERNAL_FENCE_H */
