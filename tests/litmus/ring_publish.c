/*
 * Litmus (streaming form): a ring element is fully written before it can
 * be popped (include/atomkit/ring.h: the producer's release of the tail
 * pairs with the consumer's acquire).
 *
 * One producer pushes 64-byte elements whose 8 words all carry the
 * element's sequence number (word i = seq ^ (i << 56)); one consumer pops.
 * Small capacity (8), so the ring is constantly full and empty and every
 * slot is rewritten while the consumer is close behind.
 *   FORBIDDEN: a popped element with any word not matching its sequence
 *              number (torn or stale), or out of order, or lost;
 *   REQUIRED:  both AK_EFULL and AK_EEMPTY seen (the two sides raced).
 * Run for SPSC and MPMC modes of the in-order ring.
 */
#include <atomkit/ring.h>

#include "litmus.h"

#define CAP 8

struct elem {
	uint64_t w[8];
};

static ak_ring ring;
static uint64_t n_items;
static int mpmc;
static uint64_t fulls;

static void *producer(void *arg)
{
	struct elem e;
	(void)arg;
	fulls = 0;
	for (uint64_t s = 1; s <= n_items; s++) {
		for (int i = 0; i < 8; i++)
			e.w[i] = s ^ ((uint64_t)i << 56);
		for (;;) {
			ak_status st = mpmc ? ak_ring_push_mpmc(&ring, &e) : ak_ring_push_spsc(&ring, &e);
			if (st == AK_OK)
				break;
			if (st != AK_EFULL)
				abort();
			fulls++;
			__builtin_ia32_pause();
		}
	}
	return NULL;
}

static int run(const char *name, void *storage, size_t bytes)
{
	uint64_t want = 1, torn = 0, order = 0, empties = 0;
	pthread_t th;
	struct elem e;

	if (ak_ring_init(&ring, storage, bytes, CAP, sizeof(struct elem), 0) != AK_OK)
		return 1;
	pthread_create(&th, NULL, producer, NULL);
	while (want <= n_items) {
		ak_status st = mpmc ? ak_ring_pop_mpmc(&ring, &e) : ak_ring_pop_spsc(&ring, &e);
		if (st == AK_EEMPTY) {
			empties++;
			__builtin_ia32_pause();
			continue;
		}
		if (st != AK_OK)
			abort();
		for (int i = 0; i < 8; i++)
			if (e.w[i] != (e.w[0] ^ ((uint64_t)i << 56)))
				torn++;
		if (e.w[0] != want)
			order++;
		want = e.w[0] + 1;
	}
	pthread_join(th, NULL);
	printf("%s: %" PRIu64 " elements, %" PRIu64 " pops found empty, %" PRIu64
	       " pushes found full, %" PRIu64 " torn words, %" PRIu64 " out of order\n",
	       name, n_items, empties, fulls, torn, order);
	if (torn || order) {
		fprintf(stderr, "%s: FORBIDDEN outcomes\n", name);
		return 1;
	}
	if (!empties || !fulls) {
		fprintf(stderr, "%s: the ring never went both empty and full: the sides did not race\n", name);
		return 1;
	}
	printf("%s ok: %" PRIu64 " elements, 0 torn, 0 lost or reordered\n", name, n_items);
	return 0;
}

int main(int argc, char **argv)
{
	size_t bytes = ak_ring_memsize(CAP, sizeof(struct elem));
	void *storage = aligned_alloc(128, (bytes + 127) / 128 * 128);
	int rc;

	n_items = litmus_iters(argc, argv, 400000);
	if (!storage || bytes == 0)
		return 1;
	mpmc = 0;
	rc = run("ring_publish (spsc)", storage, (bytes + 127) / 128 * 128);
	mpmc = 1;
	rc |= run("ring_publish (mpmc mode, 1 producer 1 consumer)", storage, (bytes + 127) / 128 * 128);
	free(storage);
	return rc;
}
