/*
 * Stress: every multi-producer / multi-consumer ring atomkit has, in the
 * same P x C harness, up to 8 x 8 on 2 cores.
 *
 * Rings: ak_ring_seq (per-slot sequences) and, when atomkit/ring.h is in
 * the tree, ak_ring's in-order _mpmc/_mpsc/_spmc modes.  Shapes from -t T:
 * mpmc T/2 x (T - T/2), mpsc (T-1) x 1, spmc 1 x (T-1).
 *
 * Each producer pushes its items (producer << 40 | seq), mixing try pushes
 * (yield when refused) and blocking pushes; consumers mix try and blocking
 * pops.  The last producer to finish closes the ring; consumers drain it
 * and stop at AK_ECLOSED.  Counted: every (producer, seq) exactly once
 * (bitmap), per-producer FIFO per consumer, every consumer saw AK_ECLOSED,
 * pushed == popped, ring empty at the end.
 */
#include <atomkit/clock.h>
#include <atomkit/ring_seq.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "stress.h"

#if defined(__has_include)
#if __has_include(<atomkit/ring.h>)
#include <atomkit/ring.h>
#define HAVE_AK_RING 1
#endif
#endif

#define MAXT 64
#define CAP 16

struct impl {
	const char *name;
	void *(*create)(void);
	void (*destroy)(void *);
	ak_status (*push)(void *, uint64_t);
	ak_status (*pop)(void *, uint64_t *);
	ak_status (*push_wait)(void *, uint64_t, uint64_t deadline);
	ak_status (*pop_wait)(void *, uint64_t *, uint64_t deadline);
	ak_status (*close)(void *);
};

/* ---- ak_ring_seq ------------------------------------------------------------ */

static void *seq_create(void)
{
	ak_ring_seq *r = NULL;
	return ak_ring_seq_new(&r, CAP, 8, AK_RING_SEQ_BLOCKING) == AK_OK ? r : NULL;
}
static void seq_destroy(void *r)
{
	ak_ring_seq_delete((ak_ring_seq *)r);
}
static ak_status seq_close(void *r)
{
	return ak_ring_seq_close((ak_ring_seq *)r);
}
#define SEQ_OPS(M)                                                                        \
	static ak_status seq_push_##M(void *r, uint64_t v)                               \
	{                                                                                 \
		return ak_ring_seq_push64_##M((ak_ring_seq *)r, v);                       \
	}                                                                                 \
	static ak_status seq_pop_##M(void *r, uint64_t *v)                               \
	{                                                                                 \
		return ak_ring_seq_pop64_##M((ak_ring_seq *)r, v);                        \
	}                                                                                 \
	static ak_status seq_push_wait_##M(void *r, uint64_t v, uint64_t dl)             \
	{                                                                                 \
		return ak_ring_seq_push_wait_##M((ak_ring_seq *)r, &v, dl, NULL);         \
	}                                                                                 \
	static ak_status seq_pop_wait_##M(void *r, uint64_t *v, uint64_t dl)             \
	{                                                                                 \
		return ak_ring_seq_pop_wait_##M((ak_ring_seq *)r, v, dl, NULL);           \
	}
SEQ_OPS(mpmc)
SEQ_OPS(mpsc)
SEQ_OPS(spmc)
#undef SEQ_OPS

/* ---- ak_ring (in-order) ----------------------------------------------------------- */

#ifdef HAVE_AK_RING
static void *akr_create(void)
{
	size_t bytes = ak_ring_memsize(CAP, 8);
	ak_ring *r = (ak_ring *)aligned_alloc(AK_DESTRUCTIVE_SIZE,
					      (sizeof(ak_ring) + bytes + 127) & ~(size_t)127);
	if (r && ak_ring_init(r, (char *)r + sizeof(ak_ring), bytes, CAP, 8, 0) != AK_OK) {
		free(r);
		r = NULL;
	}
	return r;
}
static void akr_destroy(void *r)
{
	free(r);
}
static ak_status akr_close(void *r)
{
	return ak_ring_close((ak_ring *)r);
}
#define AKR_OPS(M)                                                                        \
	static ak_status akr_push_##M(void *r, uint64_t v)                               \
	{                                                                                 \
		return ak_ring_push_##M((ak_ring *)r, &v);                                \
	}                                                                                 \
	static ak_status akr_pop_##M(void *r, uint64_t *v)                               \
	{                                                                                 \
		return ak_ring_pop_##M((ak_ring *)r, v);                                  \
	}                                                                                 \
	static ak_status akr_push_wait_##M(void *r, uint64_t v, uint64_t dl)             \
	{                                                                                 \
		return ak_ring_push_wait_##M((ak_ring *)r, &v, dl, NULL);                 \
	}                                                                                 \
	static ak_status akr_pop_wait_##M(void *r, uint64_t *v, uint64_t dl)             \
	{                                                                                 \
		return ak_ring_pop_wait_##M((ak_ring *)r, v, dl, NULL);                   \
	}
AKR_OPS(mpmc)
AKR_OPS(mpsc)
AKR_OPS(spmc)
#undef AKR_OPS
#endif

#define IMPL(label, pre, M)                                                               \
	{ label, pre##_create, pre##_destroy, pre##_push_##M, pre##_pop_##M,             \
	  pre##_push_wait_##M, pre##_pop_wait_##M, pre##_close }

enum shape { MPMC, MPSC, SPMC };

static const struct {
	enum shape shape;
	struct impl impl;
} runs[] = {
	{ MPMC, IMPL("ring_seq/mpmc", seq, mpmc) },
	{ MPSC, IMPL("ring_seq/mpsc", seq, mpsc) },
	{ SPMC, IMPL("ring_seq/spmc", seq, spmc) },
#ifdef HAVE_AK_RING
	{ MPMC, IMPL("ring/mpmc", akr, mpmc) },
	{ MPSC, IMPL("ring/mpsc", akr, mpsc) },
	{ SPMC, IMPL("ring/spmc", akr, spmc) },
#endif
};

struct run {
	const struct impl *im;
	void *r;
	unsigned prod, cons;
	uint64_t per_prod;
	_Atomic(uint64_t) *bits;
	_Atomic(unsigned) prod_left;
	_Atomic(uint64_t) pushed, popped, dups, order, bad, closed_seen;
};

static void producer(struct stress_thread *t, struct run *rn)
{
	const struct impl *im = rn->im;
	uint64_t tag = (uint64_t)t->id << 40;

	for (uint64_t s = 0; s < rn->per_prod;) {
		ak_status st;
		if (stress_rand(t) & 1) {
			st = im->push(rn->r, tag | s);
			if (st == AK_EFULL || st == AK_EAGAIN) {
				sched_yield();
				continue;
			}
		} else {
			st = im->push_wait(rn->r, tag | s, ak_deadline_after(10 * AK_NS_PER_MS));
			if (st == AK_ETIMEDOUT)
				continue;
		}
		if (st != AK_OK) {
			atomic_fetch_add_explicit(&rn->bad, 1, memory_order_relaxed);
			break;
		}
		s++;
		atomic_fetch_add_explicit(&rn->pushed, 1, memory_order_relaxed);
	}
	/* acq_rel: the last producer out closes after every push returned */
	if (atomic_fetch_sub_explicit(&rn->prod_left, 1, memory_order_acq_rel) == 1)
		im->close(rn->r);
}

static void consumer(struct stress_thread *t, struct run *rn)
{
	const struct impl *im = rn->im;
	uint64_t last[MAXT];

	for (unsigned i = 0; i < MAXT; i++)
		last[i] = UINT64_MAX;
	for (;;) {
		uint64_t v = 0;
		ak_status st;
		if (stress_rand(t) & 1) {
			st = im->pop(rn->r, &v);
			if (st == AK_EEMPTY || st == AK_EAGAIN) {
				sched_yield();
				continue;
			}
		} else {
			st = im->pop_wait(rn->r, &v, ak_deadline_after(10 * AK_NS_PER_MS));
			if (st == AK_ETIMEDOUT)
				continue;
		}
		if (st == AK_ECLOSED) {
			atomic_fetch_add_explicit(&rn->closed_seen, 1, memory_order_relaxed);
			return;
		}
		if (st != AK_OK) {
			atomic_fetch_add_explicit(&rn->bad, 1, memory_order_relaxed);
			return;
		}
		unsigned p = (unsigned)(v >> 40);
		uint64_t s = v & ((UINT64_C(1) << 40) - 1);
		if (p >= rn->prod || s >= rn->per_prod) {
			atomic_fetch_add_explicit(&rn->bad, 1, memory_order_relaxed);
			continue;
		}
		if (last[p] != UINT64_MAX && s <= last[p])
			atomic_fetch_add_explicit(&rn->order, 1, memory_order_relaxed);
		last[p] = s;
		uint64_t i = p * rn->per_prod + s, bit = UINT64_C(1) << (i & 63);
		if (atomic_fetch_or_explicit(&rn->bits[i >> 6], bit, memory_order_relaxed) & bit)
			atomic_fetch_add_explicit(&rn->dups, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&rn->popped, 1, memory_order_relaxed);
	}
}

static struct run *g_run;

static void worker(struct stress_thread *t)
{
	if (t->id < g_run->prod)
		producer(t, g_run);
	else
		consumer(t, g_run);
}

int main(int argc, char **argv)
{
	struct stress_cfg cfg;
	uint64_t total = 0;
	unsigned nruns = (unsigned)(sizeof(runs) / sizeof(runs[0]));

	stress_init(&cfg, argc, argv, "ring_mpmc", 16, 20000);
	STRESS_CHECK(cfg.threads >= 2 && cfg.threads <= MAXT, "2..%d threads", MAXT);
	for (unsigned k = 0; k < nruns; k++) {
		static struct run rn;
		unsigned T = cfg.threads;
		memset(&rn, 0, sizeof(rn));
		rn.im = &runs[k].impl;
		rn.prod = runs[k].shape == MPMC ? T / 2 : runs[k].shape == MPSC ? T - 1 : 1;
		rn.cons = T - rn.prod;
		/* the lopsided shapes move fewer items (one side is one thread) */
		rn.per_prod = (runs[k].shape == MPMC ? cfg.ops * T / 2 : cfg.ops * T / 8) / rn.prod + 1;
		atomic_store_explicit(&rn.prod_left, rn.prod, memory_order_relaxed);
		rn.bits = calloc((rn.prod * rn.per_prod + 63) / 64, 8);
		rn.r = rn.im->create();
		STRESS_CHECK(rn.bits && rn.r, "%s: setup failed", rn.im->name);
		g_run = &rn;
		uint64_t t0 = ak_now_ns();
		stress_run_n(&cfg, T, worker, &rn);
		double secs = (double)(ak_now_ns() - t0) / 1e9;

		uint64_t pushed = atomic_load_explicit(&rn.pushed, memory_order_relaxed);
		uint64_t popped = atomic_load_explicit(&rn.popped, memory_order_relaxed);
		STRESS_CHECK(atomic_load_explicit(&rn.bad, memory_order_relaxed) == 0,
			     "%s: unexpected statuses or values", rn.im->name);
		STRESS_CHECK(atomic_load_explicit(&rn.dups, memory_order_relaxed) == 0,
			     "%s: duplicates", rn.im->name);
		STRESS_CHECK(atomic_load_explicit(&rn.order, memory_order_relaxed) == 0,
			     "%s: per-producer FIFO violated", rn.im->name);
		STRESS_CHECK(pushed == rn.prod * rn.per_prod && popped == pushed,
			     "%s: pushed %llu popped %llu of %llu", rn.im->name,
			     (unsigned long long)pushed, (unsigned long long)popped,
			     (unsigned long long)(rn.prod * rn.per_prod));
		uint64_t missing = 0;
		for (uint64_t i = 0; i < rn.prod * rn.per_prod; i++)
			missing += !(atomic_load_explicit(&rn.bits[i >> 6], memory_order_relaxed) >>
				     (i & 63) & 1);
		STRESS_CHECK(missing == 0, "%s: %llu items lost", rn.im->name,
			     (unsigned long long)missing);
		STRESS_CHECK(atomic_load_explicit(&rn.closed_seen, memory_order_relaxed) == rn.cons,
			     "%s: not every consumer saw AK_ECLOSED", rn.im->name);
		printf("  %-14s %ux%u: %llu items, each once, FIFO per producer, close drained "
		       "(%.2fs)\n",
		       rn.im->name, rn.prod, rn.cons, (unsigned long long)pushed, secs);
		total += pushed;
		rn.im->destroy(rn.r);
		free(rn.bits);
	}
	stress_pass(&cfg,
		    "%u ring/mode runs, %llu items verified: 0 lost, 0 dup, per-producer FIFO kept, "
		    "close + drain complete",
		    nruns, (unsigned long long)total);
	return 0;
}
