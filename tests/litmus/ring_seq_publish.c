/*
 * Litmus (streaming form): an ak_ring_seq element is fully written before
 * a consumer can take it (include/atomkit/ring_seq.h: the release store of
 * the slot sequence in _ak_ring_seq_finish_p() / _ak_ring_seq_push1()
 * pairs with the consumer's acquire load of it), and a slot is fully read
 * before its next-lap producer may overwrite it (the consumer's release of
 * the sequence pairs with the producer's acquire).
 *
 * One producer pushes 64-byte elements whose 8 words all carry the
 * element's sequence number (word i = seq ^ (i << 56)); one consumer pops.
 * Capacity 8 (and 7, indexed by division), so the ring is constantly full
 * and empty and every slot is rewritten while the consumer is close behind.
 * Three ways: copy in/out (push/pop), in place (reserve + write + commit,
 * peek + read + release: the element is written and read inside the slot),
 * and bulk 4 / burst 8.
 *   FORBIDDEN: a popped element with any word not matching its sequence
 *              number (torn, stale, or overwritten while read), out of
 *              order, or lost;
 *   REQUIRED:  both "full" and "empty" seen (the two sides raced).
 */
#include <atomkit/ring_seq.h>

#include "litmus.h"

struct elem {
	uint64_t w[8];
};

enum way { COPY, IN_PLACE, BULK };

static ak_ring_seq *ring;
static uint64_t n_items;
static enum way way;
static uint64_t fulls;
static _Atomic(uint64_t) overlaps; /* AK_EAGAIN: the other side was mid-operation */

static void fill(struct elem *e, uint64_t s)
{
	for (int i = 0; i < 8; i++)
		e->w[i] = s ^ ((uint64_t)i << 56);
}

/* Spin with pause while the peer runs; yield if it seems descheduled (the
 * box is shared: without this a side can burn a whole time slice). */
static void backoff(unsigned *fails)
{
	if (++*fails % 128 == 0)
		sched_yield();
	else
		__builtin_ia32_pause();
}

static void *producer(void *arg)
{
	struct elem e[4];
	unsigned fails = 0;
	(void)arg;
	fulls = 0;
	for (uint64_t s = 1; s <= n_items;) {
		ak_status st;
		uint64_t k = 1;
		if (way == COPY) {
			fill(&e[0], s);
			st = ak_ring_seq_push_mpmc(ring, &e[0]);
		} else if (way == IN_PLACE) {
			ak_ring_seq_ref ref;
			st = ak_ring_seq_reserve_mpmc(ring, &ref);
			if (st == AK_OK) {
				/* written word by word inside the slot */
				volatile uint64_t *w = (volatile uint64_t *)ref.ptr;
				for (int i = 0; i < 8; i++)
					w[i] = s ^ ((uint64_t)i << 56);
				ak_ring_seq_commit(ring, &ref);
			}
		} else {
			k = n_items - s + 1 < 4 ? n_items - s + 1 : 4;
			for (uint64_t j = 0; j < k; j++)
				fill(&e[j], s + j);
			st = ak_ring_seq_push_bulk_mpmc(ring, e, k);
		}
		if (st == AK_OK) {
			s += k;
			fails = 0;
			continue;
		}
		if (st != AK_EFULL && st != AK_EAGAIN)
			abort();
		if (st == AK_EAGAIN)
			atomic_fetch_add_explicit(&overlaps, 1, memory_order_relaxed);
		fulls++;
		backoff(&fails);
	}
	return NULL;
}

static int run(const char *name, size_t cap)
{
	uint64_t want = 1, torn = 0, order = 0, empties = 0;
	unsigned fails = 0;
	pthread_t th;
	struct elem e[8];

	if (ak_ring_seq_new(&ring, cap, sizeof(struct elem), 0) != AK_OK)
		return 1;
	atomic_store_explicit(&overlaps, 0, memory_order_relaxed);
	pthread_create(&th, NULL, producer, NULL);
	while (want <= n_items) {
		ak_status st;
		size_t got = 1;
		if (way == COPY) {
			st = ak_ring_seq_pop_mpmc(ring, &e[0]);
		} else if (way == IN_PLACE) {
			ak_ring_seq_ref ref;
			st = ak_ring_seq_peek_mpmc(ring, &ref);
			if (st == AK_OK) {
				/* read inside the slot, then hand it back */
				volatile const uint64_t *w = (volatile const uint64_t *)ref.ptr;
				for (int i = 0; i < 8; i++)
					e[0].w[i] = w[i];
				ak_ring_seq_release(ring, &ref);
			}
		} else {
			st = ak_ring_seq_pop_burst_mpmc(ring, e, 8, &got);
		}
		if (st == AK_EEMPTY || st == AK_EAGAIN) {
			if (st == AK_EAGAIN)
				atomic_fetch_add_explicit(&overlaps, 1, memory_order_relaxed);
			empties++;
			backoff(&fails);
			continue;
		}
		fails = 0;
		if (st != AK_OK)
			abort();
		for (size_t j = 0; j < got; j++) {
			for (int i = 0; i < 8; i++)
				if (e[j].w[i] != (e[j].w[0] ^ ((uint64_t)i << 56)))
					torn++;
			if (e[j].w[0] != want)
				order++;
			want = e[j].w[0] + 1;
		}
	}
	pthread_join(th, NULL);
	ak_ring_seq_delete(ring);
	printf("%s: %" PRIu64 " elements, %" PRIu64 " pops found nothing, %" PRIu64
	       " pushes found no room, %" PRIu64 " caught the other side mid-operation, %" PRIu64
	       " torn words, %" PRIu64 " out of order\n",
	       name, n_items, empties, fulls,
	       (uint64_t)atomic_load_explicit(&overlaps, memory_order_relaxed), torn, order);
	if (torn || order) {
		fprintf(stderr, "%s: FORBIDDEN outcomes\n", name);
		return 1;
	}
	if (!empties || !fulls) {
		fprintf(stderr, "%s: the ring never went both empty and full: the sides did not race\n",
			name);
		return 1;
	}
	printf("%s ok: %" PRIu64 " elements, 0 torn, 0 lost or reordered\n", name, n_items);
	return 0;
}

int main(int argc, char **argv)
{
	int rc;

	n_items = litmus_iters(argc, argv, 400000);
	way = COPY;
	rc = run("ring_seq_publish (push/pop, cap 8)", 8);
	way = IN_PLACE;
	rc |= run("ring_seq_publish (reserve/commit, peek/release, cap 8)", 8);
	way = BULK;
	rc |= run("ring_seq_publish (bulk 4 / burst 8, cap 7)", 7);
	return rc;
}
