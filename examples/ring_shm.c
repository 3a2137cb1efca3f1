/*
 * examples/ring_shm.c - two processes share one ring: the control block and
 * the slots live in one MAP_SHARED mapping, and the ring stores offsets, so
 * it works in both (it would at different addresses too).  AK_RING_SHARED
 * makes the blocking calls use process-shared futexes.
 *
 *     make examples && build/examples/ring_shm
 */
#include <atomkit/ring.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define CAP 256
#define N 100000

int main(void)
{
	size_t slots = ak_ring_memsize(CAP, sizeof(uint64_t));
	size_t total = sizeof(ak_ring) + slots;
	char *mem = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 1;
	ak_ring *r = (ak_ring *)mem; /* control block first, slots right after */
	if (ak_ring_init(r, mem + sizeof(ak_ring), slots, CAP, sizeof(uint64_t),
			 AK_RING_SHARED) != AK_OK)
		return 1;

	pid_t pid = fork();
	if (pid == 0) { /* child: producer */
		for (uint64_t i = 0; i < N; i++)
			if (ak_ring_push_wait_spsc(r, &i, AK_DEADLINE_NONE, NULL) != AK_OK)
				_exit(1);
		ak_ring_close(r);
		_exit(0);
	}
	uint64_t v, expect = 0, sum = 0; /* parent: consumer */
	while (ak_ring_pop_wait_spsc(r, &v, AK_DEADLINE_NONE, NULL) == AK_OK) {
		if (v != expect++)
			return 1;
		sum += v;
	}
	int status;
	waitpid(pid, &status, 0);
	printf("received %llu items from process %d, sum %llu\n", (unsigned long long)expect,
	       (int)pid, (unsigned long long)sum);
	munmap(mem, total);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 && expect == N ? 0 : 1;
}
