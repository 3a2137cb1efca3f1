/*
 * tests/harness/futex_probe.h - is a thread asleep in the kernel on a given
 * futex word?  For unit tests that script a sleep and a wake and count the
 * system calls in between: they must know the sleeper really is in
 * FUTEX_WAIT before they wake it.  Linux only (/proc/self/task/<tid>/syscall).
 */
#ifndef ATOMKIT_TEST_FUTEX_PROBE_H
#define ATOMKIT_TEST_FUTEX_PROBE_H

#include <atomkit/clock.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Publish the calling thread's id into *tid, for futex_probe_wait(). */
static inline void futex_probe_self(_Atomic(long) *tid)
{
	/* Release: pairs with the acquire load in futex_probe_wait(). */
	atomic_store_explicit(tid, (long)syscall(SYS_gettid), memory_order_release);
}

/* Wait up to `secs` seconds until the thread that published *tid is blocked
 * in futex() on `word`.  1 if seen, 0 if not within the bound. */
static inline int futex_probe_wait(_Atomic(long) *tid, const void *word, unsigned secs)
{
	uint64_t bound = ak_deadline_after((uint64_t)secs * AK_NS_PER_SEC);
	char path[64], line[256];
	unsigned long arg0;
	long t, nr;

	while (ak_now_ns() < bound) {
		/* Acquire: pairs with the release store in futex_probe_self(). */
		t = atomic_load_explicit(tid, memory_order_acquire);
		if (t) {
			snprintf(path, sizeof(path), "/proc/self/task/%ld/syscall", t);
			FILE *f = fopen(path, "r");
			int n = 0;
			if (f) {
				if (fgets(line, sizeof(line), f))
					n = sscanf(line, "%ld %lx", &nr, &arg0);
				fclose(f);
			}
			if (n == 2 && nr == SYS_futex && arg0 == (unsigned long)(uintptr_t)word)
				return 1;
		}
		usleep(1000);
	}
	return 0;
}

#endif
