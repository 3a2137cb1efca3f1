/* ring_seq: 3 producers and 2 consumers share one typed ak_ring_seq of
 * struct job (AK_RING_SEQ_DEFINE); the consumers sleep in pop_wait, the
 * last producer closes the ring, and the consumers drain it and stop at
 * AK_ECLOSED.  Nothing is lost. */
#include <atomkit/ring_seq.h>
#include <pthread.h>
#include <stdio.h>

#define PRODUCERS 3
#define CONSUMERS 2
#define ITEMS 100000

struct job { uint32_t producer; uint64_t value; };
AK_RING_SEQ_DEFINE(job_ring, struct job); /* job_ring_push_mpmc(q, struct job) ... */

static job_ring *ring;
static _Atomic(int) producers_left = PRODUCERS;
static uint64_t sums[CONSUMERS];

static void *produce(void *arg)
{
	struct job j = { (uint32_t)(uintptr_t)arg, 0 };
	for (uint64_t i = 1; i <= ITEMS; i++) {
		j.value = j.producer * (uint64_t)ITEMS + i;
		if (job_ring_push_wait_mpmc(ring, j, AK_DEADLINE_NONE, NULL) != AK_OK)
			return NULL;
	}
	/* acq_rel: the last producer out sees the others finished */
	if (atomic_fetch_sub_explicit(&producers_left, 1, memory_order_acq_rel) == 1)
		job_ring_close(ring); /* consumers drain, then get AK_ECLOSED */
	return NULL;
}

static void *consume(void *arg)
{
	struct job j;
	while (job_ring_pop_wait_mpmc(ring, &j, AK_DEADLINE_NONE, NULL) == AK_OK)
		sums[(uintptr_t)arg] += j.value;
	return NULL;
}

int main(void)
{
	pthread_t p[PRODUCERS], c[CONSUMERS];
	uint64_t total = 0, n = (uint64_t)PRODUCERS * ITEMS;

	if (job_ring_new(&ring, 1000, AK_RING_SEQ_BLOCKING) != AK_OK)
		return 1;
	for (uintptr_t i = 0; i < CONSUMERS; i++)
		pthread_create(&c[i], NULL, consume, (void *)i);
	for (uintptr_t i = 0; i < PRODUCERS; i++)
		pthread_create(&p[i], NULL, produce, (void *)i);
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(p[i], NULL);
	for (int i = 0; i < CONSUMERS; i++) {
		pthread_join(c[i], NULL);
		total += sums[i];
	}
	printf("sum %llu, expected %llu\n", (unsigned long long)total, (unsigned long long)(n * (n + 1) / 2));
	job_ring_delete(ring);
	return total == n * (n + 1) / 2 ? 0 : 1;
}
