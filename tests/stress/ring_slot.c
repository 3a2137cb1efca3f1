/*
 * Stress: ak_ring_slot.  The threads form independent SPSC pairs (thread 2i
 * produces, 2i+1 consumes ring i); with 4 threads or more, the last two
 * only watch size() of every ring.
 * Rings have small capacities (1, 3, 7, 64) and some start near 2^64, so
 * positions and words wrap often.  Both sides mix single, bulk and burst
 * calls with random sizes.  Each element carries its sequence number and a
 * check value; the consumer asserts that every element arrives exactly once
 * and in order, intact (no torn copy), and the counts add up: items pushed ==
 * items popped == ops per producer, per ring and in total.  size() is
 * checked against 0..capacity from both sides and from the watcher.
 */
#include <atomkit/ring_slot.h>
#include <sched.h>
#include <stdatomic.h>

#include "stress.h"

typedef struct item {
	uint64_t seq;
	uint64_t check; /* derived from seq and the ring: a torn copy shows */
} item;

AK_RING_SLOT_DEFINE(itemq, item);

#define MAX_PAIRS 32
#define BATCH 16

struct pair {
	itemq q;
	uint64_t cap;
	uint64_t pushed, popped;            /* items, written by their own side */
	uint64_t calls_push[3], calls_pop[3]; /* successful single, bulk, burst calls */
	_Atomic(int) done;                   /* consumer finished */
	unsigned char *storage;
};

struct shared {
	struct pair pairs[MAX_PAIRS];
	unsigned npairs;
	_Atomic(uint64_t) size_checks;
};

static uint64_t check_of(uint64_t seq, unsigned ring)
{
	return (seq * 0x9e3779b97f4a7c15u) ^ ((uint64_t)ring << 56) ^ 0x5a5a;
}

static void backoff(unsigned *fails)
{
	if (++*fails % 64 == 0)
		sched_yield();
}

static void producer(struct stress_thread *t, struct pair *p, unsigned ring)
{
	item buf[BATCH];
	uint64_t seq = 0, k;
	unsigned fails = 0;
	while (seq < t->ops) {
		uint64_t left = t->ops - seq, n = 1 + stress_rand(t) % BATCH;
		int kind = (int)(stress_rand(t) % 3);
		if (n > left)
			n = left;
		if (kind == 1 && n > p->cap)
			n = p->cap; /* a bulk above the capacity is AK_E2BIG */
		for (uint64_t i = 0; i < n; i++) {
			buf[i].seq = seq + i;
			buf[i].check = check_of(seq + i, ring);
		}
		ak_status st;
		if (kind == 0) {
			st = itemq_push_spsc(&p->q, buf[0]);
			k = st == AK_OK;
		} else if (kind == 1) {
			st = itemq_push_bulk_spsc(&p->q, buf, n);
			k = st == AK_OK ? n : 0;
		} else {
			st = itemq_push_burst_spsc(&p->q, buf, n, &k);
			STRESS_CHECK((st == AK_OK) == (k > 0) && k <= n,
				     "ring %u: push_burst %d with count %llu of %llu", ring, (int)st,
				     (unsigned long long)k, (unsigned long long)n);
		}
		STRESS_CHECK(st == AK_OK || st == AK_EFULL, "ring %u: push status %d", ring,
			     (int)st);
		if (st != AK_OK) {
			STRESS_CHECK(itemq_size(&p->q) <= p->cap, "ring %u: size above capacity",
				     ring);
			backoff(&fails);
			continue;
		}
		p->calls_push[kind]++;
		seq += k;
		if ((seq & 1023) < k)
			stress_progress(t, seq);
	}
	p->pushed = seq;
}

static void consumer(struct stress_thread *t, struct pair *p, unsigned ring)
{
	item buf[BATCH];
	uint64_t seq = 0, k;
	unsigned fails = 0;
	while (seq < t->ops) {
		uint64_t n = 1 + stress_rand(t) % BATCH;
		int kind = (int)(stress_rand(t) % 3);
		if (kind == 1 && n > p->cap)
			n = p->cap;
		if (kind == 1 && n > t->ops - seq)
			n = t->ops - seq; /* a bulk past the last item would wait forever */
		ak_status st;
		if (kind == 0) {
			st = itemq_pop_spsc(&p->q, &buf[0]);
			k = st == AK_OK;
		} else if (kind == 1) {
			st = itemq_pop_bulk_spsc(&p->q, buf, n);
			k = st == AK_OK ? n : 0;
		} else {
			st = itemq_pop_burst_spsc(&p->q, buf, n, &k);
			STRESS_CHECK((st == AK_OK) == (k > 0) && k <= n,
				     "ring %u: pop_burst %d with count %llu of %llu", ring, (int)st,
				     (unsigned long long)k, (unsigned long long)n);
		}
		STRESS_CHECK(st == AK_OK || st == AK_EEMPTY, "ring %u: pop status %d", ring,
			     (int)st);
		if (st != AK_OK) {
			STRESS_CHECK(itemq_size(&p->q) <= p->cap, "ring %u: size above capacity",
				     ring);
			backoff(&fails);
			continue;
		}
		for (uint64_t i = 0; i < k; i++) {
			STRESS_CHECK(buf[i].seq == seq + i,
				     "ring %u: got item %llu, expected %llu (lost, duplicated or "
				     "reordered)",
				     ring, (unsigned long long)buf[i].seq,
				     (unsigned long long)(seq + i));
			STRESS_CHECK(buf[i].check == check_of(seq + i, ring),
				     "ring %u: item %llu torn", ring, (unsigned long long)(seq + i));
		}
		p->calls_pop[kind]++;
		seq += k;
		if ((seq & 1023) < k)
			stress_progress(t, seq);
	}
	p->popped = seq;
	/* Release pairs with the acquire in watcher(). */
	atomic_store_explicit(&p->done, 1, memory_order_release);
}

/* A watcher: size() of every ring stays within 0..capacity while both
 * sides run. */
static void watcher(struct stress_thread *t, struct shared *s)
{
	uint64_t checks = 0;
	for (;;) {
		unsigned live = 0;
		for (unsigned i = 0; i < s->npairs; i++) {
			struct pair *p = &s->pairs[i];
			uint64_t sz = itemq_size(&p->q);
			STRESS_CHECK(sz <= p->cap, "ring %u: size %llu above capacity %llu", i,
				     (unsigned long long)sz, (unsigned long long)p->cap);
			checks++;
			/* Acquire pairs with the release in consumer(). */
			live += !atomic_load_explicit(&p->done, memory_order_acquire);
		}
		if (!live)
			break;
		sched_yield();
	}
	(void)t;
	atomic_fetch_add_explicit(&s->size_checks, checks, memory_order_relaxed);
}

static void worker(struct stress_thread *t)
{
	struct shared *s = (struct shared *)t->arg;
	unsigned ring = t->id / 2;
	if (ring >= s->npairs)
		watcher(t, s);
	else if (t->id % 2 == 0)
		producer(t, &s->pairs[ring], ring);
	else
		consumer(t, &s->pairs[ring], ring);
}

int main(int argc, char **argv)
{
	static const uint64_t caps[] = { 1, 3, 7, 64 };
	static struct shared s;
	struct stress_cfg cfg;
	uint64_t total = 0, calls = 0;

	stress_init(&cfg, argc, argv, "ring_slot", 4, 200000);
	STRESS_CHECK(cfg.threads >= 2, "needs at least 2 threads (one SPSC pair)");
	s.npairs = cfg.threads >= 4 ? (cfg.threads - 2) / 2 : 1;
	if (s.npairs > MAX_PAIRS)
		s.npairs = MAX_PAIRS;
	for (unsigned i = 0; i < s.npairs; i++) {
		struct pair *p = &s.pairs[i];
		size_t bytes;
		p->cap = caps[i % 4];
		bytes = itemq_memsize(p->cap);
		p->storage = (unsigned char *)aligned_alloc(64, (bytes + 63) & ~(size_t)63);
		STRESS_CHECK(p->storage, "out of memory");
		/* Odd rings start 100 positions before 2^64. */
		STRESS_CHECK(_ak_ring_slot_init_at(&p->q.ring, p->storage, bytes, p->cap,
						   sizeof(item), 0,
						   i % 2 ? UINT64_MAX - 100 : 0) == AK_OK,
			     "init ring %u", i);
	}
	stress_run(&cfg, worker, &s);
	for (unsigned i = 0; i < s.npairs; i++) {
		struct pair *p = &s.pairs[i];
		STRESS_CHECK(p->pushed == cfg.ops && p->popped == cfg.ops,
			     "ring %u: pushed %llu, popped %llu, want %llu", i,
			     (unsigned long long)p->pushed, (unsigned long long)p->popped,
			     (unsigned long long)cfg.ops);
		STRESS_CHECK(itemq_size(&p->q) == 0 && itemq_empty(&p->q), "ring %u not empty", i);
		for (int k = 0; k < 3; k++) {
			/* every kind of call was exercised on both sides */
			STRESS_CHECK(p->calls_push[k] && p->calls_pop[k],
				     "ring %u: call kind %d never succeeded", i, k);
			calls += p->calls_push[k] + p->calls_pop[k];
		}
		total += p->popped;
		free(p->storage);
	}
	STRESS_CHECK(total == cfg.ops * s.npairs, "total %llu", (unsigned long long)total);
	stress_pass(&cfg,
		    "%u SPSC rings (cap 1/3/7/64, half from 2^64-100), %llu items verified "
		    "(each exactly once, in order, intact), 0 lost, 0 dup; %llu successful "
		    "single/bulk/burst calls; %llu watcher size checks",
		    s.npairs, (unsigned long long)total, (unsigned long long)calls,
		    (unsigned long long)atomic_load_explicit(&s.size_checks,
							     memory_order_relaxed));
}
