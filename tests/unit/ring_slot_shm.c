/*
 * Two processes, one ak_ring_slot in shared memory: a forked child pushes
 * 1,000,000 sequence numbers (single, bulk and burst calls), the parent
 * pops them (single, bulk, burst) and checks that every one arrives once
 * and in order.  The memory is a memfd mapped twice, so parent and child
 * use the ring at two different addresses (the ring stores an offset, not
 * a pointer).  The ring is AK_RING_SLOT_SHARED: both sides block in the
 * _wait forms (process-shared futexes) when it is full or empty, and the
 * child closes the ring when done; the parent drains it to AK_ECLOSED.  A
 * child that dies early fails the test instead of hanging it (the parent's
 * waits have a deadline, after which it polls waitpid).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <atomkit/clock.h>
#include <atomkit/ring_slot.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define ITEMS 1000000u
#define CAP 1000u

static int child(ak_ring_slot *r)
{
	uint64_t buf[16], next = 0;
	while (next < ITEMS) {
		uint64_t n = 1 + (next * 7919) % 16, k = 0;
		ak_status st;
		if (n > ITEMS - next)
			n = ITEMS - next;
		for (uint64_t i = 0; i < n; i++)
			buf[i] = next + i;
		switch (next % 3) {
		case 0:
			st = ak_ring_slot_push_bulk_wait_spsc(r, buf, n, AK_DEADLINE_NONE, NULL);
			k = n;
			break;
		case 1:
			st = ak_ring_slot_push_burst_spsc(r, buf, n, &k);
			break;
		default:
			st = ak_ring_slot_push_wait_spsc(r, buf, AK_DEADLINE_NONE, NULL);
			k = 1;
			break;
		}
		if (st == AK_EFULL) {
			sched_yield();
			continue;
		}
		if (st != AK_OK)
			return 10;
		next += k;
	}
	if (ak_ring_slot_close(r) != AK_OK)
		return 11;
	return ak_ring_slot_push_spsc(r, buf) == AK_ECLOSED ? 0 : 12;
}

int main(void)
{
	size_t data = ak_ring_slot_memsize(CAP, sizeof(uint64_t));
	size_t total = sizeof(ak_ring_slot) + data;
	int fd = memfd_create("atomkit-ring-slot-test", 0);
	CHECK(fd >= 0);
	if (fd < 0 || ftruncate(fd, (off_t)total) != 0)
		return check_report("ring_slot_shm");
	char *a = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *b = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(a != MAP_FAILED && b != MAP_FAILED && a != b);
	if (a == MAP_FAILED || b == MAP_FAILED)
		return check_report("ring_slot_shm");

	ak_ring_slot *ra = (ak_ring_slot *)(void *)a, *rb = (ak_ring_slot *)(void *)b;
	CHECK_ST(ak_ring_slot_init(ra, a + sizeof(ak_ring_slot), data, CAP, sizeof(uint64_t),
				   AK_RING_SLOT_SHARED),
		 AK_OK);
	/* the second view sees the same ring at another address */
	CHECK_EQ_U64(ak_ring_slot_capacity(rb), CAP);

	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid < 0)
		return check_report("ring_slot_shm");
	if (pid == 0)
		_exit(child(rb));

	uint64_t expect = 0, out[32], bad = 0, k = 0;
	int status = 0, reaped = 0, closed = 0;
	unsigned turn = 0;
	for (;;) {
		ak_status st;
		uint64_t dl = ak_deadline_after(100 * AK_NS_PER_MS);
		switch (turn++ % 3) {
		case 0:
			st = ak_ring_slot_pop_wait_spsc(ra, out, dl, NULL);
			k = st == AK_OK;
			break;
		case 1:
			st = ak_ring_slot_pop_burst_spsc(ra, out, 32, &k);
			break;
		default:
			k = 8;
			st = ak_ring_slot_pop_bulk_wait_spsc(ra, out, k, dl, NULL);
			k = st == AK_OK ? k : 0;
			break;
		}
		if (st == AK_ECLOSED && turn % 3 == 0)
			continue; /* bulk: fewer than 8 left; the others take them */
		if (st == AK_ECLOSED) {
			closed = 1;
			break;
		}
		if (st == AK_EEMPTY || st == AK_ETIMEDOUT) {
			/* a child that exited without closing leaves nothing more */
			if (st == AK_ETIMEDOUT && waitpid(pid, &status, WNOHANG) == pid) {
				reaped = 1;
				if (ak_ring_slot_empty(ra) && !ak_ring_slot_is_closed(ra))
					break;
			}
			continue;
		}
		if (st != AK_OK) {
			bad++;
			break;
		}
		for (uint64_t i = 0; i < k; i++)
			if (out[i] != expect++)
				bad++;
	}
	CHECK(closed);
	if (!reaped)
		CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_EQ_U64(bad, 0);
	CHECK_EQ_U64(expect, ITEMS);
	CHECK(ak_ring_slot_empty(ra));
	printf("ring_slot_shm: %u items across two processes, %llu system calls, closed and "
	       "drained\n",
	       ITEMS, (unsigned long long)ak_ring_slot_syscalls(ra));
	munmap(a, total);
	munmap(b, total);
	close(fd);
	return check_report("ring_slot_shm");
}
