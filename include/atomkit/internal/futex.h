/*
 * atomkit/internal/futex.h - Linux futex wait/wake with absolute deadlines.
 *
 * Not API.  Implemented in src/futex.c.
 *
 * Rules for callers (see docs/memory-model.md, "Futexes"):
 *  - The futex word is the truth, never the wake-up.  A waiter loops:
 *        while (atomic_load_explicit(w, memory_order_acquire) == seen)
 *            _ak_futex_wait(w, seen, deadline, flags);
 *    and a waker stores with release before calling _ak_futex_wake().  The
 *    acquire re-check is what orders the waiter after the waker (TSan
 *    cannot see through the system call).
 *  - A wake with nobody waiting costs a system call (~1.5 us in a VM), so
 *    every family keeps a waiters bit or count and skips the wake when it
 *    is clear.  That waiter accounting must be ordered so a wake is never
 *    lost: the waiter publishes "I wait" with a seq_cst RMW before its
 *    final re-check, and the waker reads the waiter count with seq_cst
 *    after its state change.
 */
#ifndef ATOMKIT_INTERNAL_FUTEX_H
#define ATOMKIT_INTERNAL_FUTEX_H

#include "compiler.h"

AK_BEGIN_DECLS

/* Absolute deadline meaning "wait forever". */
#define AK_DEADLINE_NONE UINT64_MAX

/* Futex scope: process-private (faster) or shared between processes. */
#define _AK_FUTEX_PRIVATE 0
#define _AK_FUTEX_SHARED 1

/*
 * Block while *word == expected, until woken, until the absolute
 * CLOCK_MONOTONIC deadline (ns, as from ak_now_ns()) passes, or until a
 * signal arrives.
 *
 * Returns AK_OK (woken, or *word was not `expected` on entry: re-check),
 * AK_ETIMEDOUT (deadline passed; a deadline already in the past returns
 * at once), AK_EINTR (a signal handler ran), AK_EINVAL (bad pointer or
 * flags).  Spurious AK_OK returns are possible: callers loop.
 */
int _ak_futex_wait(_Atomic(uint32_t) *word, uint32_t expected,
		   uint64_t deadline_ns, int scope);

/*
 * The same, telling why it returned: AK_OK only when a FUTEX_WAKE dequeued
 * this thread (so the waker's _ak_futex_wake() result counted it),
 * AK_EAGAIN when *word != expected on entry (never slept); AK_ETIMEDOUT,
 * AK_EINTR, AK_EINVAL as above.  For waiter accounting where the waker
 * takes the threads it woke out of the count (src/ring_seq.c).
 */
int _ak_futex_wait_woken(_Atomic(uint32_t) *word, uint32_t expected,
			 uint64_t deadline_ns, int scope);
/* Wake at most n waiters (INT32_MAX for all); returns how many woke. */
int _ak_futex_wake(_Atomic(uint32_t) *word, int n, int scope);

AK_END_DECLS

#endif /* ATOMKIT_INTERNAL_FUTEX_H */
