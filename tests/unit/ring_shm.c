/*
 * Two processes, one SPSC ring in shared memory: a forked child pushes
 * 1,000,000 sequence numbers, the parent pops them and checks that every
 * one arrives once and in order, then sees AK_ECLOSED after the child
 * closes the ring.
 *
 * The memory is a memfd mapped twice, so parent and child use the ring at
 * two different addresses (the ring stores offsets, not pointers).  Both
 * sides mix try, bulk, burst and blocking calls; the blocking ones sleep on
 * process-shared futexes.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <atomkit/ring.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define ITEMS 1000000u
#define CAP 1000u

static int child(ak_ring *r)
{
	uint64_t buf[16], next = 0;
	while (next < ITEMS) {
		uint64_t n = 1 + (next * 7919) % 16, k = 0;
		ak_status st;
		if (n > ITEMS - next)
			n = ITEMS - next;
		for (uint64_t i = 0; i < n; i++)
			buf[i] = next + i;
		switch (next % 4) {
		case 0:
			st = ak_ring_push_wait_spsc(r, buf, AK_DEADLINE_NONE, NULL);
			k = 1;
			break;
		case 1:
			st = ak_ring_push_bulk_wait_spsc(r, buf, n, AK_DEADLINE_NONE, NULL);
			k = n;
			break;
		case 2:
			st = ak_ring_push_burst_spsc(r, buf, n, &k);
			break;
		default:
			st = ak_ring_push_spsc(r, buf);
			k = 1;
			break;
		}
		if (st == AK_EFULL)
			continue;
		if (st != AK_OK)
			return 10;
		next += k;
	}
	return ak_ring_close(r) == AK_OK ? 0 : 11;
}

int main(void)
{
	size_t data = ak_ring_memsize(CAP, sizeof(uint64_t));
	size_t total = sizeof(ak_ring) + data;
	int fd = memfd_create("atomkit-ring-test", 0);
	CHECK(fd >= 0);
	if (fd < 0 || ftruncate(fd, (off_t)total) != 0)
		return check_report("ring_shm");
	char *a = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *b = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(a != MAP_FAILED && b != MAP_FAILED && a != b);
	if (a == MAP_FAILED || b == MAP_FAILED)
		return check_report("ring_shm");

	ak_ring *ra = (ak_ring *)a, *rb = (ak_ring *)b;
	CHECK_ST(ak_ring_init(ra, a + sizeof(ak_ring), data, CAP, sizeof(uint64_t), AK_RING_SHARED),
		 AK_OK);
	/* the second view sees the same ring at another address */
	CHECK_EQ_U64(ak_ring_capacity(rb), CAP);

	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(child(rb));

	uint64_t expect = 0, out[32], bad = 0, k = 0;
	ak_status st = AK_OK;
	unsigned turn = 0;
	for (;;) {
		switch (turn++ % 3) {
		case 0:
			st = ak_ring_pop_wait_spsc(ra, out, AK_DEADLINE_NONE, NULL);
			k = st == AK_OK;
			break;
		case 1:
			st = ak_ring_pop_burst_spsc(ra, out, 32, &k);
			break;
		default:
			st = ak_ring_pop_bulk_wait_spsc(ra, out, 8, AK_DEADLINE_NONE, NULL);
			k = st == AK_OK ? 8 : 0;
			if (st == AK_ECLOSED) /* fewer than 8 left */
				st = ak_ring_pop_burst_spsc(ra, out, 32, &k);
			break;
		}
		if (st == AK_ECLOSED)
			break;
		if (st != AK_OK && st != AK_EEMPTY) {
			bad++;
			break;
		}
		for (uint64_t i = 0; i < k; i++)
			if (out[i] != expect++)
				bad++;
	}
	int status = 0;
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_ST(st, AK_ECLOSED);
	CHECK_EQ_U64(bad, 0);
	CHECK_EQ_U64(expect, ITEMS);
	CHECK(ak_ring_empty(ra));
	printf("ring_shm: %u items across two processes, %llu system calls\n", ITEMS,
	       (unsigned long long)ak_ring_syscalls(ra));
	munmap(a, total);
	munmap(b, total);
	close(fd);
	return check_report("ring_shm");
}
