/* ring_seq: 3 producers and 2 consumers share one ak_ring_seq; the
 * consumers sleep in pop_wait, the last producer closes the ring, and the
 * consumers drain it and stop at AK_ECLOSED.  Nothing is lost. */
#include <atomkit/ring_seq.h>
#include <pthread.h>
#include <stdio.h>

#define PRODUCERS 3
#define CONSUMERS 2
#define ITEMS 100000

static ak_ring_seq *ring;
static _Atomic(int) producers_left = PRODUCERS;
static uint64_t sums[CONSUMERS];

static void *produce(void *arg)
{
	uint64_t base = (uint64_t)(uintptr_t)arg * ITEMS;
	for (uint64_t i = 1; i <= ITEMS; i++) {
		uint64_t v = base + i;
		if (ak_ring_seq_push_wait_mpmc(ring, &v, AK_DEADLINE_NONE, NULL) != AK_OK)
			return NULL;
	}
	/* acq_rel: the last producer out sees the others finished */
	if (atomic_fetch_sub_explicit(&producers_left, 1, memory_order_acq_rel) == 1)
		ak_ring_seq_close(ring); /* consumers drain, then get AK_ECLOSED */
	return NULL;
}

static void *consume(void *arg)
{
	uint64_t v, *sum = &sums[(uintptr_t)arg];
	while (ak_ring_seq_pop_wait_mpmc(ring, &v, AK_DEADLINE_NONE, NULL) == AK_OK)
		*sum += v;
	return NULL;
}

int main(void)
{
	pthread_t p[PRODUCERS], c[CONSUMERS];
	uint64_t total = 0, n = (uint64_t)PRODUCERS * ITEMS;

	if (ak_ring_seq_new(&ring, 1000, sizeof(uint64_t), AK_RING_SEQ_BLOCKING) != AK_OK)
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
	printf("consumed sum %llu, expected %llu\n", (unsigned long long)total,
	       (unsigned long long)(n * (n + 1) / 2));
	ak_ring_seq_delete(ring);
	return total == n * (n + 1) / 2 ? 0 : 1;
}
