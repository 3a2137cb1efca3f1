/*
 * membarrier(2) for the families that pair a cheap fast side with a
 * process-wide barrier on the slow side (see membarrier.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <linux/membarrier.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "membarrier.h"

/* 0 not tried, 1 registered, 2 unavailable. */
static _Atomic(int) g_state;

int _ak_membarrier_ready(void)
{
	/* Relaxed: a cache of the kernel's answer; two threads racing here
	 * both register, which the kernel allows, and both store the same
	 * result. */
	int st = atomic_load_explicit(&g_state, memory_order_relaxed);

	if (st == 0) {
		st = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0 ? 1
											    : 2;
		atomic_store_explicit(&g_state, st, memory_order_relaxed);
	}
	return st == 1;
}

/* Test hook (not API, declared by the tests that use it): when set, its
 * result replaces the system calls', so tests can make the barrier fail. */
int (*_ak_membarrier_test)(void);

int _ak_membarrier(void)
{
	if (_ak_membarrier_test != NULL)
		return _ak_membarrier_test();
	if (_ak_membarrier_ready() &&
	    syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0)
		return 0;
	return syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0 ? 0 : -1;
}
