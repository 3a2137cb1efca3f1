/*
 * Stress: ak_ring_seq with P producers and C consumers on 2 cores.
 *
 * -t T splits into phases that all use T threads:
 *   mpmc   P = T/2 producers, C = T - P consumers (8 x 8 at -t 16),
 *          24-byte elements carrying a checksum (torn copies fail)
 *   mpsc   T-1 producers, 1 consumer, 8-byte elements
 *   spmc   1 producer, T-1 consumers, 8-byte elements
 *   close  mpmc again, but a closer shuts the ring while producers push
 * Every producer and consumer picks its operation at random per step:
 * single, 64-bit, bulk, burst, zero-copy, or the blocking form.
 *
 * Invariants, counted:
 *   every (producer, seq) pushed is popped exactly once (bitmap, dups
 *   detected at pop time), nothing lost; per-producer FIFO as seen by each
 *   consumer; counts by operation kind add up on both sides; no torn
 *   element; in the close phase every push that returned AK_OK is popped
 *   and every consumer ends with AK_ECLOSED.
 */
#include <atomkit/ring_seq.h>
#include <atomkit/clock.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "stress.h"

#define MAXT 64
#define BATCH 8
#define SEQ_BITS 40

enum mode { MPMC, MPSC, SPMC };

struct elem {
	uint64_t tag;  /* producer << SEQ_BITS | seq */
	uint64_t inv;  /* ~tag */
	uint64_t mul;  /* tag * K */
};
#define K UINT64_C(0x9E3779B97F4A7C15)

struct phase {
	const char *name;
	ak_ring_seq *r;
	enum mode mode;
	unsigned prod, cons;
	size_t esz;
	uint64_t per_prod;    /* items each producer pushes (0 = until closed) */
	int closing;
	_Atomic(uint64_t) *bits; /* prod * per_prod bits */
	_Atomic(unsigned) prod_done;
	_Atomic(uint64_t) pushed, popped, dups, torn, order, bad_status;
	_Atomic(uint64_t) by_kind_push[6], by_kind_pop[6];
	_Atomic(uint64_t) pushed_by[MAXT];
	_Atomic(uint64_t) closed_seen;
	_Atomic(uint64_t) eagain;
};

static int is_sp(const struct phase *ph)
{
	return ph->mode == SPMC;
}
static int is_sc(const struct phase *ph)
{
	return ph->mode == MPSC;
}

static void fill(const struct phase *ph, void *dst, uint64_t tag)
{
	if (ph->esz == 8) {
		memcpy(dst, &tag, 8);
	} else {
		struct elem e = { tag, ~tag, tag * K };
		memcpy(dst, &e, sizeof(e));
	}
}

/* Returns the tag, or UINT64_MAX for a torn element. */
static uint64_t unfill(const struct phase *ph, const void *src)
{
	uint64_t tag;
	if (ph->esz == 8) {
		memcpy(&tag, src, 8);
		return tag;
	}
	struct elem e;
	memcpy(&e, src, sizeof(e));
	return (e.inv == ~e.tag && e.mul == e.tag * K) ? e.tag : UINT64_MAX;
}

/* Push `n` elements from buf with operation `kind`; returns how many went
 * in (0 on full/again), or -1 when closed. */
static long push_some(struct phase *ph, int kind, unsigned char *buf, size_t n)
{
	ak_ring_seq *r = ph->r;
	size_t done = 0;
	ak_status st;
	int sp = is_sp(ph);
	ak_ring_seq_ref ref;
	uint64_t v = 0;

	switch (kind) {
	case 0:
		st = sp ? ak_ring_seq_push_spmc(r, buf) : ak_ring_seq_push_mpmc(r, buf);
		done = st == AK_OK;
		break;
	case 1:
		if (ph->esz == 8) {
			memcpy(&v, buf, 8);
			st = sp ? ak_ring_seq_push64_spmc(r, v) : ak_ring_seq_push64_mpsc(r, v);
		} else {
			st = ak_ring_seq_push_mpsc(r, buf);
		}
		done = st == AK_OK;
		break;
	case 2:
		st = sp ? ak_ring_seq_push_bulk_spsc(r, buf, n) : ak_ring_seq_push_bulk_mpmc(r, buf, n);
		done = st == AK_OK ? n : 0;
		break;
	case 3:
		st = sp ? ak_ring_seq_push_burst_spmc(r, buf, n, &done)
			: ak_ring_seq_push_burst_mpmc(r, buf, n, &done);
		break;
	case 4:
		st = sp ? ak_ring_seq_reserve_spmc(r, &ref) : ak_ring_seq_reserve_mpmc(r, &ref);
		if (st == AK_OK) {
			memcpy(ref.ptr, buf, ph->esz);
			ak_ring_seq_commit(r, &ref);
			done = 1;
		}
		break;
	default:
		st = ak_ring_seq_push_bulk_wait_mpmc(r, buf, n, ak_deadline_after(AK_NS_PER_MS),
						     NULL);
		done = st == AK_OK ? n : 0;
		if (st == AK_ETIMEDOUT)
			st = AK_EFULL;
		break;
	}
	if (st == AK_ECLOSED)
		return -1;
	if (st == AK_EAGAIN)
		atomic_fetch_add_explicit(&ph->eagain, 1, memory_order_relaxed);
	else if (st != AK_OK && st != AK_EFULL)
		atomic_fetch_add_explicit(&ph->bad_status, 1, memory_order_relaxed);
	if (done)
		atomic_fetch_add_explicit(&ph->by_kind_push[kind], done, memory_order_relaxed);
	return (long)done;
}

static void producer(struct stress_thread *t, struct phase *ph, unsigned id)
{
	unsigned char buf[BATCH * sizeof(struct elem)];
	uint64_t seq = 0, spins = 0;

	for (;;) {
		if (ph->per_prod && seq >= ph->per_prod)
			break;
		uint64_t r = stress_rand(t);
		/* after refusals, yield, and every 4th time sleep in the
		 * blocking form: threads outnumber cores up to 8 to 1 */
		int kind = spins % 4 == 3 ? 5 : (int)(r % 6);
		size_t n = kind >= 2 && kind != 4 ? 1 + (size_t)((r >> 8) % BATCH) : 1;
		if (n > ak_ring_seq_capacity(ph->r))
			n = ak_ring_seq_capacity(ph->r);
		if (ph->per_prod && n > ph->per_prod - seq)
			n = (size_t)(ph->per_prod - seq);
		for (size_t i = 0; i < n; i++)
			fill(ph, buf + i * ph->esz, ((uint64_t)id << SEQ_BITS) | (seq + i));
		long got = push_some(ph, kind, buf, n);
		if (got < 0)
			break; /* closed */
		if (got == 0) {
			spins++;
			sched_yield();
			continue;
		}
		spins = 0;
		/* a burst may take fewer: the rest is pushed again next round */
		seq += (uint64_t)got;
	}
	atomic_fetch_add_explicit(&ph->pushed, seq, memory_order_relaxed);
	atomic_store_explicit(&ph->pushed_by[id], seq, memory_order_relaxed);
	/* acq_rel: the last producer to finish closes the ring; the close's own
	 * ordering covers the consumers. */
	if (atomic_fetch_add_explicit(&ph->prod_done, 1, memory_order_acq_rel) + 1 == ph->prod &&
	    !ph->closing)
		ak_ring_seq_close(ph->r);
}

static void consume_one(struct phase *ph, uint64_t *last, const unsigned char *p)
{
	uint64_t tag = unfill(ph, p);
	if (tag == UINT64_MAX) {
		atomic_fetch_add_explicit(&ph->torn, 1, memory_order_relaxed);
		return;
	}
	unsigned who = (unsigned)(tag >> SEQ_BITS);
	uint64_t seq = tag & ((UINT64_C(1) << SEQ_BITS) - 1);
	if (who >= ph->prod) {
		atomic_fetch_add_explicit(&ph->torn, 1, memory_order_relaxed);
		return;
	}
	if (last[who] != UINT64_MAX && seq <= last[who])
		atomic_fetch_add_explicit(&ph->order, 1, memory_order_relaxed);
	last[who] = seq;
	uint64_t idx = ph->per_prod ? who * ph->per_prod + seq : 0;
	if (ph->per_prod) {
		uint64_t bit = UINT64_C(1) << (idx & 63);
		if (atomic_fetch_or_explicit(&ph->bits[idx >> 6], bit, memory_order_relaxed) & bit)
			atomic_fetch_add_explicit(&ph->dups, 1, memory_order_relaxed);
	}
	atomic_fetch_add_explicit(&ph->popped, 1, memory_order_relaxed);
}

static void consumer(struct stress_thread *t, struct phase *ph)
{
	unsigned char buf[BATCH * sizeof(struct elem)];
	uint64_t last[MAXT];
	uint64_t spins = 0;
	ak_ring_seq *r = ph->r;
	int sc = is_sc(ph);

	for (unsigned i = 0; i < MAXT; i++)
		last[i] = UINT64_MAX;
	for (;;) {
		uint64_t rnd = stress_rand(t);
		int kind = spins % 4 == 3 ? 5 : (int)(rnd % 6);
		size_t n = 1 + (size_t)((rnd >> 8) % BATCH), done = 0;
		ak_status st;
		ak_ring_seq_ref ref;
		uint64_t v = 0;

		if (n > ak_ring_seq_capacity(r))
			n = ak_ring_seq_capacity(r);
		switch (kind) {
		case 0:
			st = sc ? ak_ring_seq_pop_mpsc(r, buf) : ak_ring_seq_pop_mpmc(r, buf);
			done = st == AK_OK;
			break;
		case 1:
			if (ph->esz == 8) {
				st = sc ? ak_ring_seq_pop64_spsc(r, &v) : ak_ring_seq_pop64_spmc(r, &v);
				memcpy(buf, &v, 8);
			} else {
				st = sc ? ak_ring_seq_pop_spsc(r, buf) : ak_ring_seq_pop_spmc(r, buf);
			}
			done = st == AK_OK;
			break;
		case 2:
			st = sc ? ak_ring_seq_pop_bulk_mpsc(r, buf, n) : ak_ring_seq_pop_bulk_mpmc(r, buf, n);
			done = st == AK_OK ? n : 0;
			if (st == AK_ECLOSED) /* fewer than n left: drain singly */
				st = AK_EEMPTY;
			break;
		case 3:
			st = sc ? ak_ring_seq_pop_burst_mpsc(r, buf, n, &done)
				: ak_ring_seq_pop_burst_mpmc(r, buf, n, &done);
			break;
		case 4:
			st = sc ? ak_ring_seq_peek_mpsc(r, &ref) : ak_ring_seq_peek_mpmc(r, &ref);
			if (st == AK_OK) {
				memcpy(buf, ref.ptr, ph->esz);
				ak_ring_seq_release(r, &ref);
				done = 1;
			}
			break;
		default:
			st = sc ? ak_ring_seq_pop_wait_mpsc(r, buf, ak_deadline_after(AK_NS_PER_MS), NULL)
				: ak_ring_seq_pop_wait_mpmc(r, buf, ak_deadline_after(AK_NS_PER_MS),
							    NULL);
			done = st == AK_OK;
			if (st == AK_ETIMEDOUT)
				st = AK_EEMPTY;
			break;
		}
		if (st == AK_ECLOSED) {
			atomic_fetch_add_explicit(&ph->closed_seen, 1, memory_order_relaxed);
			break;
		}
		if (st == AK_EAGAIN)
			atomic_fetch_add_explicit(&ph->eagain, 1, memory_order_relaxed);
		else if (st != AK_OK && st != AK_EEMPTY)
			atomic_fetch_add_explicit(&ph->bad_status, 1, memory_order_relaxed);
		if (!done) {
			spins++;
			sched_yield();
			continue;
		}
		spins = 0;
		atomic_fetch_add_explicit(&ph->by_kind_pop[kind], done, memory_order_relaxed);
		for (size_t i = 0; i < done; i++)
			consume_one(ph, last, buf + i * ph->esz);
	}
}

/* Close phase: thread index `prod + cons` is the closer. */
static void closer(struct stress_thread *t, struct phase *ph)
{
	uint64_t target = ph->prod * 2000 + stress_below(t, 4000);
	/* close once producers have pushed a while, or at once if they are done */
	while (atomic_load_explicit(&ph->popped, memory_order_relaxed) < target &&
	       atomic_load_explicit(&ph->prod_done, memory_order_relaxed) < ph->prod)
		sched_yield();
	ak_ring_seq_close(ph->r);
}

static struct phase *g_ph;

static void worker(struct stress_thread *t)
{
	struct phase *ph = g_ph;
	if (t->id < ph->prod)
		producer(t, ph, t->id);
	else if (t->id < ph->prod + ph->cons)
		consumer(t, ph);
	else
		closer(t, ph);
}

static void run_phase(const struct stress_cfg *cfg, struct phase *ph, size_t cap, uint64_t *total)
{
	uint64_t words = (ph->prod * ph->per_prod + 63) / 64;
	ph->bits = NULL;
	if (ph->per_prod) {
		ph->bits = calloc(words, sizeof(uint64_t)); /* void * converts: no cast */
		STRESS_CHECK(ph->bits, "out of memory");
	}
	STRESS_CHECK(ak_ring_seq_new(&ph->r, cap, ph->esz, AK_RING_SEQ_BLOCKING) == AK_OK,
		     "ring init");
	g_ph = ph;
	uint64_t t0 = ak_now_ns();
	stress_run_n(cfg, ph->prod + ph->cons + (ph->closing ? 1 : 0), worker, ph);

	uint64_t pushed = atomic_load_explicit(&ph->pushed, memory_order_relaxed);
	uint64_t popped = atomic_load_explicit(&ph->popped, memory_order_relaxed);
	uint64_t kp = 0, kc = 0;
	for (int k = 0; k < 6; k++) {
		kp += atomic_load_explicit(&ph->by_kind_push[k], memory_order_relaxed);
		kc += atomic_load_explicit(&ph->by_kind_pop[k], memory_order_relaxed);
	}
	STRESS_CHECK(atomic_load_explicit(&ph->torn, memory_order_relaxed) == 0,
		     "%s: %llu torn elements", ph->name,
		     (unsigned long long)atomic_load_explicit(&ph->torn, memory_order_relaxed));
	STRESS_CHECK(atomic_load_explicit(&ph->dups, memory_order_relaxed) == 0,
		     "%s: %llu duplicates", ph->name,
		     (unsigned long long)atomic_load_explicit(&ph->dups, memory_order_relaxed));
	STRESS_CHECK(atomic_load_explicit(&ph->order, memory_order_relaxed) == 0,
		     "%s: %llu per-producer FIFO violations", ph->name,
		     (unsigned long long)atomic_load_explicit(&ph->order, memory_order_relaxed));
	STRESS_CHECK(atomic_load_explicit(&ph->bad_status, memory_order_relaxed) == 0,
		     "%s: unexpected statuses", ph->name);
	STRESS_CHECK(popped == pushed, "%s: pushed %llu, popped %llu (lost %lld)", ph->name,
		     (unsigned long long)pushed, (unsigned long long)popped,
		     (long long)(pushed - popped));
	STRESS_CHECK(kp == pushed && kc == popped, "%s: kind counts %llu/%llu != %llu/%llu",
		     ph->name, (unsigned long long)kp, (unsigned long long)kc,
		     (unsigned long long)pushed, (unsigned long long)popped);
	STRESS_CHECK(atomic_load_explicit(&ph->closed_seen, memory_order_relaxed) == ph->cons,
		     "%s: %llu of %u consumers saw AK_ECLOSED", ph->name,
		     (unsigned long long)atomic_load_explicit(&ph->closed_seen, memory_order_relaxed),
		     ph->cons);
	STRESS_CHECK(ak_ring_seq_size(ph->r) == 0, "%s: %zu left in the ring", ph->name,
		     ak_ring_seq_size(ph->r));
	if (ph->per_prod) {
		STRESS_CHECK(pushed == ph->prod * ph->per_prod, "%s: pushed %llu of %llu", ph->name,
			     (unsigned long long)pushed,
			     (unsigned long long)(ph->prod * ph->per_prod));
		uint64_t missing = 0;
		for (uint64_t i = 0; i < ph->prod * ph->per_prod; i++)
			if (!(atomic_load_explicit(&ph->bits[i >> 6], memory_order_relaxed) &
			      (UINT64_C(1) << (i & 63))))
				missing++;
		STRESS_CHECK(missing == 0, "%s: %llu items never popped", ph->name,
			     (unsigned long long)missing);
	} else {
		STRESS_CHECK(pushed > 0, "%s: close phase pushed nothing", ph->name);
	}
	printf("  %-5s %up x %uc cap %zu elem %zu: %llu items, 0 lost, 0 dup, FIFO kept, "
	       "%llu EAGAIN, %.2fs\n",
	       ph->name, ph->prod, ph->cons, cap, ph->esz, (unsigned long long)pushed,
	       (unsigned long long)atomic_load_explicit(&ph->eagain, memory_order_relaxed),
	       (double)(ak_now_ns() - t0) / 1e9);
	*total += pushed;
	free(ph->bits);
	ak_ring_seq_delete(ph->r);
}

int main(int argc, char **argv)
{
	struct stress_cfg cfg;
	static struct phase ph[4];
	uint64_t total = 0;
	static const size_t caps[] = { 1, 3, 8, 64 };

	stress_init(&cfg, argc, argv, "ring_seq", 4, 40000);
	STRESS_CHECK(cfg.threads >= 2 && cfg.threads <= MAXT, "2..%d threads", MAXT);
	unsigned T = cfg.threads;
	uint64_t total_items = cfg.ops * T; /* per phase, split among producers */

	ph[0].name = "mpmc";
	ph[0].mode = MPMC;
	ph[0].prod = T / 2;
	ph[0].cons = T - T / 2;
	ph[0].esz = sizeof(struct elem);
	ph[1].name = "mpsc";
	ph[1].mode = MPSC;
	ph[1].prod = T - 1;
	ph[1].cons = 1;
	ph[1].esz = 8;
	ph[2].name = "spmc";
	ph[2].mode = SPMC;
	ph[2].prod = 1;
	ph[2].cons = T - 1;
	ph[2].esz = 8;
	ph[3].name = "close";
	ph[3].mode = MPMC;
	ph[3].prod = T / 2;
	ph[3].cons = T - T / 2;
	ph[3].esz = 8;
	ph[3].closing = 1;
	for (int i = 0; i < 4; i++) {
		/* the lopsided phases move fewer items: one side is a single
		 * thread sharing 2 cores with up to 15 others */
		uint64_t items = ph[i].mode == MPMC ? total_items / 2 : total_items / 8;
		ph[i].per_prod = ph[i].closing ? 0 : items / ph[i].prod + 1;
		run_phase(&cfg, &ph[i], caps[(cfg.seed >> (4 * i)) % 4] + (i == 0 ? 5 : 0), &total);
	}
	stress_pass(&cfg,
		    "%llu items over mpmc/mpsc/spmc/close, each (producer,seq) popped exactly once, "
		    "0 lost, 0 dup, 0 torn, per-producer FIFO kept, kind counts add up, close drained",
		    (unsigned long long)total);
	return 0;
}
