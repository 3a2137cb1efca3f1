/*
 * examples/ring.c - a producer thread feeds a consumer through an SPSC ring,
 * then closes it; the consumer drains what is left and stops on AK_ECLOSED.
 *
 *     make examples && build/examples/ring
 */
#include <atomkit/ring.h>
#include <pthread.h>
#include <stdio.h>

struct job {
	uint32_t id;
	uint32_t cost;
};
AK_RING_DEFINE(job_ring, struct job); /* typed front end: job_ring_push_spsc() ... */

static struct job slots[64]; /* job_ring_memsize(50) bytes: 64 slots */
static job_ring jobs;

static void *producer(void *arg)
{
	(void)arg;
	for (uint32_t i = 1; i <= 1000; i++) {
		struct job j = { i, i % 7 };
		/* blocks while the ring is full; no deadline, no cancel token */
		if (job_ring_push_wait_spsc(&jobs, j, AK_DEADLINE_NONE, NULL) != AK_OK)
			return NULL;
	}
	job_ring_close(&jobs); /* the consumer drains, then sees AK_ECLOSED */
	return NULL;
}

int main(void)
{
	pthread_t t;
	struct job j;
	uint64_t done = 0, cost = 0;
	ak_status st;

	if (job_ring_init(&jobs, slots, sizeof slots, 50, 0) != AK_OK)
		return 1;
	/* a wait that finds the ring empty (full) may poll up to 1 ms before
	 * it sleeps, metered to 1/16 of the time (default 4 ms; 0: sleep at
	 * once after the short fixed spin) */
	if (ak_ring_set_wait_spin(&jobs.ring, AK_NS_PER_MS) != AK_OK)
		return 1;
	pthread_create(&t, NULL, producer, NULL);
	while ((st = job_ring_pop_wait_spsc(&jobs, &j, AK_DEADLINE_NONE, NULL)) == AK_OK) {
		if (j.id != done + 1) /* FIFO */
			return 1;
		done++;
		cost += j.cost;
	}
	pthread_join(t, NULL);
	printf("consumed %llu jobs (total cost %llu), then %s\n", (unsigned long long)done,
	       (unsigned long long)cost, ak_status_name(st));
	return st == AK_ECLOSED && done == 1000 ? 0 : 1;
}
