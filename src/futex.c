/*
 * Futex wait/wake.  FUTEX_WAIT_BITSET takes an absolute timeout, measured
 * against CLOCK_MONOTONIC unless FUTEX_CLOCK_REALTIME is given, which is
 * exactly atomkit's deadline convention: no relative-time recomputation,
 * no drift across spurious wake-ups.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomkit/clock.h>
#include <atomkit/status.h>
#include <atomkit/internal/futex.h>

static int futex_op(int op, int scope)
{
	return scope == _AK_FUTEX_SHARED ? op : (op | FUTEX_PRIVATE_FLAG);
}

int _ak_futex_wait_woken(_Atomic(uint32_t) *word, uint32_t expected,
			 uint64_t deadline_ns, int scope)
{
	struct timespec ts, *tsp = NULL;
	long rc;

	if (!word || (scope != _AK_FUTEX_PRIVATE && scope != _AK_FUTEX_SHARED))
		return AK_EINVAL;
	if (deadline_ns != AK_DEADLINE_NONE) {
		ts.tv_sec = (time_t)(deadline_ns / AK_NS_PER_SEC);
		ts.tv_nsec = (long)(deadline_ns % AK_NS_PER_SEC);
		tsp = &ts;
	}
	rc = syscall(SYS_futex, (uint32_t *)word, futex_op(FUTEX_WAIT_BITSET, scope),
		     expected, tsp, NULL, FUTEX_BITSET_MATCH_ANY);
	if (rc == 0) /* dequeued by a FUTEX_WAKE: nothing else returns 0 */
		return AK_OK;
	switch (errno) {
	case EAGAIN: /* *word != expected: never slept */
		return AK_EAGAIN;
	case ETIMEDOUT:
		return AK_ETIMEDOUT;
	case EINTR:
		return AK_EINTR;
	default:
		return AK_EINVAL;
	}
}

int _ak_futex_wait(_Atomic(uint32_t) *word, uint32_t expected,
		   uint64_t deadline_ns, int scope)
{
	int rc = _ak_futex_wait_woken(word, expected, deadline_ns, scope);
	return rc == AK_EAGAIN ? AK_OK : rc; /* the caller re-checks either way */
}

int _ak_futex_wake(_Atomic(uint32_t) *word, int n, int scope)
{
	long rc;

	if (!word || n <= 0)
		return 0;
	rc = syscall(SYS_futex, (uint32_t *)word, futex_op(FUTEX_WAKE, scope), n,
		     NULL, NULL, 0);
	return rc < 0 ? 0 : (int)rc;
}
