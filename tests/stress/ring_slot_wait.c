/*
 * Stress: ak_ring_slot's blocking waits, cancels, deadlines and close.  The
 * threads form independent SPSC pairs (thread 2i produces, 2i+1 consumes;
 * an odd last thread idles).  Each pair works through ROUNDS rings in turn
 * (capacities 1, 2, 5, 64; every other ring starts 50 positions before
 * 2^64).  In every round one side closes the ring at a random point: the
 * producer after pushing close_at items, or the consumer after popping
 * close_at, racing the other side's pushes and waits.  Both sides mix the
 * blocking forms (single and bulk, with no deadline, with a short deadline,
 * with a cancel token the other side requests at a random moment), the
 * zero-copy views and the try forms.
 *
 * Checked per ring: the consumer receives items 0, 1, 2, ... in order,
 * each intact (a check value), and exactly the items whose push (or commit)
 * returned AK_OK: popped == pushed_ok, so nothing pushed before close is
 * lost and nothing refused is delivered; the consumer ends with AK_ECLOSED
 * from a single/burst/peek call, and the producer sees AK_ECLOSED after a
 * close; no wait returns anything but AK_OK, AK_ETIMEDOUT, AK_ECANCELED or
 * AK_ECLOSED, and an error moves nothing; after the run every gate's waiter
 * count is back to 0.
 */
#include <atomkit/cancel.h>
#include <atomkit/ring_slot.h>
#include <sched.h>
#include <stdatomic.h>

#include "stress.h"

typedef struct item {
	uint64_t seq;
	uint64_t check;
} item;

AK_RING_SLOT_DEFINE(itemq, item);

#define ROUNDS 12
#define MAX_PAIRS 16
#define BATCH 8

extern unsigned _ak_ring_wait_spins; /* src/ring_wait.c test hook */

struct round {
	itemq q;
	uint64_t cap, n;
	uint64_t close_at;        /* items after which `closer` closes */
	int closer;               /* 0 producer, 1 consumer */
	uint64_t cancel_at[2];    /* [side]: when the OTHER side requests side's token */
	ak_cancel tok[2];         /* [0] the producer's waits, [1] the consumer's */
	uint64_t pushed_ok, popped;
	uint64_t timeouts[2], cancels[2], closes_seen[2];
	unsigned char *storage;
};

struct shared {
	struct round r[MAX_PAIRS * ROUNDS];
	unsigned npairs;
};

static uint64_t check_of(uint64_t seq, unsigned rd)
{
	return ~(seq * 0xbf58476d1ce4e5b9u) ^ ((uint64_t)rd << 48);
}

/* bulk_limit(): both sides' bulk waits ask for at most (cap + 1) / 2, so
 * together at most cap + 1: with o items in the ring, a consumer waiting
 * for n_c > o and a producer waiting for n_p > cap - o would need
 * n_c + n_p >= cap + 2 (each asleep for the other, for ever). */
static uint64_t deadline_for(struct stress_thread *t)
{
	/* a quarter of the waits have a short deadline (50-250 us) */
	if (stress_rand(t) % 4)
		return AK_DEADLINE_NONE;
	return ak_deadline_after(50000 + stress_rand(t) % 200000);
}

/* A wait's error that moved nothing and leaves the ring open to us. */
static int retry_status(struct round *rd, int side, ak_status st, ak_cancel **tok)
{
	if (st == AK_ETIMEDOUT) {
		rd->timeouts[side]++;
		return 1;
	}
	if (st == AK_ECANCELED) {
		rd->cancels[side]++;
		*tok = NULL; /* set for good: wait without it from now on */
		return 1;
	}
	return 0;
}

static void producer(struct stress_thread *t, struct round *rd, unsigned ri)
{
	item buf[BATCH];
	uint64_t seq = 0, k = 0;
	ak_cancel *tok = &rd->tok[0];
	unsigned fails = 0;
	int closed_by_me = 0;

	for (;;) {
		if (seq >= rd->cancel_at[1]) {
			ak_cancel_request(&rd->tok[1], AK_ECANCELED);
			rd->cancel_at[1] = UINT64_MAX;
		}
		if (rd->closer == 0 && seq >= rd->close_at) {
			STRESS_CHECK(itemq_close(&rd->q) == AK_OK, "round %u: close", ri);
			closed_by_me = 1;
		}
		if (closed_by_me || seq == rd->n)
			break;
		uint64_t n = 1 + stress_rand(t) % BATCH;
		uint64_t left = (rd->closer == 0 ? rd->close_at : rd->n) - seq;
		int kind = (int)(stress_rand(t) % 4);
		ak_cancel *c = stress_rand(t) % 2 ? tok : NULL;
		ak_status st;
		if (n > left)
			n = left;
		if (n > (rd->cap + 1) / 2)
			n = (rd->cap + 1) / 2; /* see bulk_limit() */
		for (uint64_t i = 0; i < n; i++) {
			buf[i].seq = seq + i;
			buf[i].check = check_of(seq + i, ri);
		}
		if (kind == 0) {
			st = itemq_push_wait_spsc(&rd->q, buf[0], deadline_for(t), c);
			k = 1;
		} else if (kind == 1) {
			st = itemq_push_bulk_wait_spsc(&rd->q, buf, n, deadline_for(t), c);
			k = n;
		} else if (kind == 2) {
			ak_ring_slot_zc zc;
			st = itemq_reserve_spsc(&rd->q, n, &zc);
			if (st == AK_OK) {
				k = zc.n;
				STRESS_CHECK(k >= 1 && k <= n && zc.len[0] + zc.len[1] == k,
					     "round %u: reserve gave %llu of %llu", ri,
					     (unsigned long long)k, (unsigned long long)n);
				for (uint64_t i = 0; i < k; i++)
					*itemq_zc_elem(&zc, i) = buf[i];
				st = itemq_commit_spsc(&rd->q, &zc);
			}
		} else {
			st = itemq_push_burst_spsc(&rd->q, buf, n, &k);
		}
		if (st == AK_OK) {
			seq += k;
			if ((seq & 255) < k)
				stress_progress(t, seq);
			continue;
		}
		if (retry_status(rd, 0, st, &tok))
			continue;
		if (st == AK_EFULL && kind >= 2) {
			if (++fails % 16 == 0)
				sched_yield();
			continue;
		}
		STRESS_CHECK(st == AK_ECLOSED && rd->closer == 1,
			     "round %u: push kind %d status %s", ri, kind, ak_status_name(st));
		rd->closes_seen[0]++;
		/* closed for good: every form says so */
		st = itemq_push_spsc(&rd->q, buf[0]);
		STRESS_CHECK(st == AK_ECLOSED, "round %u: push after close (kind %d): %s", ri, kind,
			     ak_status_name(st));
		break;
	}
	rd->pushed_ok = seq;
}

static void consumer(struct stress_thread *t, struct round *rd, unsigned ri)
{
	item buf[BATCH];
	uint64_t seq = 0, k = 0;
	ak_cancel *tok = &rd->tok[1];
	unsigned fails = 0;
	int closed = 0;

	for (;;) {
		if (seq >= rd->cancel_at[0]) {
			ak_cancel_request(&rd->tok[0], AK_ECANCELED);
			rd->cancel_at[0] = UINT64_MAX;
		}
		if (rd->closer == 1 && !closed && seq >= rd->close_at) {
			STRESS_CHECK(itemq_close(&rd->q) == AK_OK, "round %u: close", ri);
			closed = 1;
		}
		uint64_t n = 1 + stress_rand(t) % BATCH;
		int kind = (int)(stress_rand(t) % 4);
		ak_cancel *c = stress_rand(t) % 2 ? tok : NULL;
		ak_status st;
		/* a bulk never asks for more than can still come before our
		 * own close (or it would wait for ever) */
		if (n > (rd->cap + 1) / 2)
			n = (rd->cap + 1) / 2; /* see bulk_limit() */
		if (n > rd->n - seq && rd->n > seq)
			n = rd->n - seq;
		if (rd->closer == 1 && !closed && n > rd->close_at - seq)
			n = rd->close_at - seq;
		if (kind == 0) {
			st = itemq_pop_wait_spsc(&rd->q, &buf[0], deadline_for(t), c);
			k = 1;
		} else if (kind == 1) {
			st = itemq_pop_bulk_wait_spsc(&rd->q, buf, n, deadline_for(t), c);
			k = n;
		} else if (kind == 2) {
			ak_ring_slot_zc zc;
			st = itemq_peek_spsc(&rd->q, n, &zc);
			if (st == AK_OK) {
				k = zc.n;
				for (uint64_t i = 0; i < k; i++)
					buf[i] = *itemq_zc_elem(&zc, i);
				STRESS_CHECK(itemq_release_spsc(&rd->q, &zc) == AK_OK,
					     "round %u: release", ri);
			}
		} else {
			st = itemq_pop_burst_spsc(&rd->q, buf, n, &k);
		}
		if (st == AK_OK) {
			STRESS_CHECK(k >= 1 && k <= n, "round %u: popped %llu of %llu", ri,
				     (unsigned long long)k, (unsigned long long)n);
			for (uint64_t i = 0; i < k; i++) {
				STRESS_CHECK(buf[i].seq == seq + i,
					     "round %u: got item %llu, expected %llu (lost, "
					     "duplicated or reordered)",
					     ri, (unsigned long long)buf[i].seq,
					     (unsigned long long)(seq + i));
				STRESS_CHECK(buf[i].check == check_of(seq + i, ri),
					     "round %u: item %llu torn", ri,
					     (unsigned long long)(seq + i));
			}
			seq += k;
			if ((seq & 255) < k)
				stress_progress(t, seq);
			continue;
		}
		if (retry_status(rd, 1, st, &tok))
			continue;
		if (st == AK_EEMPTY && kind >= 2) {
			if (++fails % 16 == 0)
				sched_yield();
			continue;
		}
		STRESS_CHECK(st == AK_ECLOSED, "round %u: pop kind %d status %s", ri, kind,
			     ak_status_name(st));
		if (kind == 1 && n > 1)
			continue; /* fewer than n left: the other forms take them */
		rd->closes_seen[1]++;
		break;
	}
	rd->popped = seq;
}

static void worker(struct stress_thread *t)
{
	struct shared *s = (struct shared *)t->arg;
	unsigned pair = t->id / 2;
	if (pair >= s->npairs)
		return;
	for (unsigned i = 0; i < ROUNDS; i++) {
		unsigned ri = pair * ROUNDS + i;
		if (t->id % 2 == 0)
			producer(t, &s->r[ri], ri);
		else
			consumer(t, &s->r[ri], ri);
	}
}

int main(int argc, char **argv)
{
	static const uint64_t caps[] = { 1, 2, 5, 64 };
	static struct shared s;
	struct stress_cfg cfg;
	uint64_t items = 0, to = 0, cx = 0, by_cons = 0, calls = 0, wakes = 0, polled = 0;

	stress_init(&cfg, argc, argv, "ring_slot_wait", 4, 32000);
	STRESS_CHECK(cfg.threads >= 2, "needs at least 2 threads (one SPSC pair)");
	s.npairs = cfg.threads / 2 > MAX_PAIRS ? MAX_PAIRS : cfg.threads / 2;
	/* waiters sleep after a short spin, so sleeps and wakes are frequent */
	_ak_ring_wait_spins = 16;
	uint64_t rng = cfg.seed | 1;
	for (unsigned i = 0; i < s.npairs * ROUNDS; i++) {
		struct round *rd = &s.r[i];
		size_t bytes;
		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		rd->cap = caps[i % 4];
		rd->n = cfg.ops / ROUNDS + 1;
		rd->closer = (int)(rng % 2);
		rd->close_at = (rng >> 8) % (rd->n + 1);
		rd->cancel_at[0] = (rng >> 24) % (rd->n + 1);
		rd->cancel_at[1] = (rng >> 40) % (rd->n + 1);
		bytes = itemq_memsize(rd->cap);
		rd->storage = (unsigned char *)aligned_alloc(64, (bytes + 63) & ~(size_t)63);
		STRESS_CHECK(rd->storage, "out of memory");
		STRESS_CHECK(_ak_ring_slot_init_at(&rd->q.ring, rd->storage, bytes, rd->cap,
						   sizeof(item), 0, i % 2 ? UINT64_MAX - 50 : 0) ==
				     AK_OK,
			     "init ring %u", i);
		/* Every other ring polls (metered) before it sleeps, as by
		 * default; the others go to sleep after the short spin. */
		STRESS_CHECK(ak_ring_slot_set_wait_spin(&rd->q.ring, i % 4 < 2 ? 0 : 200000) ==
				     AK_OK,
			     "set_wait_spin %u", i);
		STRESS_CHECK(ak_cancel_init(&rd->tok[0]) == AK_OK &&
				     ak_cancel_init(&rd->tok[1]) == AK_OK,
			     "cancel init");
	}
	stress_run(&cfg, worker, &s);
	for (unsigned i = 0; i < s.npairs * ROUNDS; i++) {
		struct round *rd = &s.r[i];
		ak_ring_syscall_split sp;
		STRESS_CHECK(rd->popped == rd->pushed_ok,
			     "round %u: %llu pushed with AK_OK, %llu received (closer %d at %llu)",
			     i, (unsigned long long)rd->pushed_ok, (unsigned long long)rd->popped,
			     rd->closer, (unsigned long long)rd->close_at);
		STRESS_CHECK(rd->closes_seen[1] == 1, "round %u: consumer did not end closed", i);
		/* the closer's side stopped at its point; the other side's
		 * pushes stopped at close or at the end */
		STRESS_CHECK(rd->closer == 1 || rd->pushed_ok == rd->close_at,
			     "round %u: producer closed at %llu after %llu", i,
			     (unsigned long long)rd->close_at, (unsigned long long)rd->pushed_ok);
		STRESS_CHECK(rd->closer == 0 || rd->popped >= rd->close_at,
			     "round %u: consumer closed at %llu, popped %llu", i,
			     (unsigned long long)rd->close_at, (unsigned long long)rd->popped);
		STRESS_CHECK(itemq_empty(&rd->q), "round %u: not drained", i);
		STRESS_CHECK(atomic_load_explicit(&rd->q.ring.prod.gate, memory_order_relaxed) <
					     _AK_RING_GATE_WAITER &&
				     atomic_load_explicit(&rd->q.ring.cons.gate,
							  memory_order_relaxed) <
					     _AK_RING_GATE_WAITER,
			     "round %u: a waiter left registered on a gate", i);
		STRESS_CHECK(ak_ring_slot_syscalls_split(&rd->q.ring, &sp) == AK_OK, "split");
		items += rd->popped;
		to += rd->timeouts[0] + rd->timeouts[1];
		cx += rd->cancels[0] + rd->cancels[1];
		by_cons += rd->closer == 1;
		calls += sp.total;
		wakes += sp.wakes;
		polled += sp.polled;
		ak_cancel_destroy(&rd->tok[0]);
		ak_cancel_destroy(&rd->tok[1]);
		free(rd->storage);
	}
	stress_pass(&cfg,
		    "%u rings on %u SPSC pairs, each closed at a random point (%llu by the "
		    "consumer): %llu items verified (each pushed with AK_OK received exactly "
		    "once, in order, intact), 0 lost, 0 dup, 0 refused-but-delivered; %llu "
		    "timeouts, %llu cancels; %llu system calls (%llu wakes), %llu waits ended "
		    "by metered polling",
		    s.npairs * ROUNDS, s.npairs, (unsigned long long)by_cons,
		    (unsigned long long)items, (unsigned long long)to, (unsigned long long)cx,
		    (unsigned long long)calls, (unsigned long long)wakes,
		    (unsigned long long)polled);
}
