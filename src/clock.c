/* ak_now_ns(): CLOCK_MONOTONIC through the vDSO (no system call). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <time.h>

#include <atomkit/clock.h>

uint64_t ak_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * AK_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}
