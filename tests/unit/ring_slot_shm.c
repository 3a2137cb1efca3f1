/*
 * Two processes, one ak_ring_slot in shared memory: a forked child pushes
 * 1,000,000 sequence numbers (single, bulk and burst calls), the parent
 * pops them (single, bulk, burst) and checks that every one arrives once
 * and in order.  The memory is a memfd mapped twice, so parent and child
 * use the ring at two different addresses (the ring stores an offset, not
 * a pointer).  The ring has no blocking waits: both sides yield the CPU
 * when it is full or empty.  A child that dies early fails the test instead
 * of hanging it (the parent polls waitpid while the ring is empty).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
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
			st = ak_ring_slot_push_bulk_spsc(r, buf, n);
			k = n;
			break;
		case 1:
			st = ak_ring_slot_push_burst_spsc(r, buf, n, &k);
			break;
		default:
			st = ak_ring_slot_push_spsc(r, buf);
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
	return 0;
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
	CHECK_ST(ak_ring_slot_init(ra, a + sizeof(ak_ring_slot), data, CAP, sizeof(uint64_t), 0),
		 AK_OK);
	/* the second view sees the same ring at another address */
	CHECK_EQ_U64(ak_ring_slot_capacity(rb), CAP);

	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid < 0)
		return check_report("ring_slot_shm");
	if (pid == 0)
		_exit(child(rb));

	uint64_t expect = 0, out[32], bad = 0, k = 0, idle = 0;
	int status = 0, reaped = 0;
	unsigned turn = 0;
	while (expect < ITEMS) {
		ak_status st;
		switch (turn++ % 3) {
		case 0:
			st = ak_ring_slot_pop_spsc(ra, out);
			k = st == AK_OK;
			break;
		case 1:
			st = ak_ring_slot_pop_burst_spsc(ra, out, 32, &k);
			break;
		default:
			k = ITEMS - expect < 8 ? ITEMS - expect : 8;
			st = ak_ring_slot_pop_bulk_spsc(ra, out, k);
			k = st == AK_OK ? k : 0;
			break;
		}
		if (st == AK_EEMPTY) {
			/* a child that exited leaves nothing more to come */
			if (++idle % 1024 == 0 && !reaped && waitpid(pid, &status, WNOHANG) == pid)
				reaped = 1;
			else if (reaped && ak_ring_slot_empty(ra))
				break;
			sched_yield();
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
	if (!reaped)
		CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_EQ_U64(bad, 0);
	CHECK_EQ_U64(expect, ITEMS);
	CHECK(ak_ring_slot_empty(ra));
	printf("ring_slot_shm: %u items across two processes\n", ITEMS);
	munmap(a, total);
	munmap(b, total);
	close(fd);
	return check_report("ring_slot_shm");
}
