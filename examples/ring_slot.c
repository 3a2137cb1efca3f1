/* examples/ring_slot.c - a producer thread streams samples to a consumer
 * through an ak_ring_slot (SPSC; no blocking waits, so both sides yield when
 * the ring is full or empty), in bursts of 16 in and 10 out; -1 ends it. */
#include <atomkit/ring_slot.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

AK_RING_SLOT_DEFINE(sample_ring, int64_t); /* sample_ring_push_spsc() ... */

#define N 200000
static _Alignas(64) unsigned char storage[256 * 16]; /* sample_ring_memsize(200) */
static sample_ring ring;

static void *producer(void *arg)
{
	int64_t batch[16];
	(void)arg;
	for (int64_t next = 0; next < N;) {
		uint64_t n = 0, k;
		while (n < 16 && next + (int64_t)n < N) {
			batch[n] = next + (int64_t)n;
			n++;
		}
		/* up to n of them; k says how many were taken */
		if (sample_ring_push_burst_spsc(&ring, batch, n, &k) != AK_OK)
			sched_yield(); /* full: let the consumer run */
		next += (int64_t)k;
	}
	while (sample_ring_push_spsc(&ring, -1) != AK_OK)
		sched_yield();
	return NULL;
}

int main(void)
{
	pthread_t t;
	int64_t buf[10], expect = 0, sum = 0;
	uint64_t k;
	if (sample_ring_init(&ring, storage, sizeof storage, 200) != AK_OK)
		return 1;
	pthread_create(&t, NULL, producer, NULL);
	for (;;) {
		if (sample_ring_pop_burst_spsc(&ring, buf, 10, &k) != AK_OK)
			sched_yield(); /* empty (k == 0) */
		for (uint64_t i = 0; i < k; i++) {
			if (buf[i] == -1)
				goto done;
			if (buf[i] != expect++) /* FIFO, nothing lost */
				return 1;
			sum += buf[i];
		}
	}
done:
	pthread_join(t, NULL);
	printf("received %lld samples in order (sum %lld), ring empty: %s\n", (long long)expect,
	       (long long)sum, sample_ring_empty(&ring) ? "yes" : "no");
	return expect == N && sum == (int64_t)N * (N - 1) / 2 && sample_ring_empty(&ring) ? 0 : 1;
}
