/* examples/ring_slot.c - a producer thread streams samples to a consumer
 * through an ak_ring_slot (SPSC) in bursts of 16, then closes the ring; the
 * consumer blocks in pop_wait while the ring is empty and stops at
 * AK_ECLOSED, once it has taken everything pushed before the close. */
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
	sample_ring_close(&ring); /* no more: the consumer drains, then stops */
	return NULL;
}

int main(void)
{
	pthread_t t;
	int64_t v, expect = 0, sum = 0;
	ak_status st;
	if (sample_ring_init(&ring, storage, sizeof storage, 200) != AK_OK)
		return 1;
	pthread_create(&t, NULL, producer, NULL);
	/* sleeps (futex) when the ring is empty; no deadline, no cancel token */
	while ((st = sample_ring_pop_wait_spsc(&ring, &v, AK_DEADLINE_NONE, NULL)) == AK_OK) {
		if (v != expect++) /* FIFO, nothing lost */
			return 1;
		sum += v;
	}
	pthread_join(t, NULL);
	printf("received %lld samples in order (sum %lld), then %s; ring empty: %s\n",
	       (long long)expect, (long long)sum, ak_status_name(st),
	       sample_ring_empty(&ring) ? "yes" : "no");
	return st == AK_ECLOSED && expect == N && sum == (int64_t)N * (N - 1) / 2 ? 0 : 1;
}
