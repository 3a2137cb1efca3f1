/*
 * Multi-producer / multi-consumer ring benchmarks, peers side by side.
 *
 *   ring_mpmc/<impl>/2p2c/threads:4    2 producers, 2 consumers
 *   ring_mpmc/<impl>/4p4c/threads:8    4 producers, 4 consumers
 *   ring_mpsc/<impl>/3p1c/threads:4    3 producers, 1 consumer
 *   ring_spmc/<impl>/1p3c/threads:4    1 producer, 3 consumers
 *   ring_mpmc/<impl>/uncontended       one thread: push 512, pop 512 (op cost)
 *   ring_mpmc/atomkit_seq_wait/2p2c, /1p4c  (threads:4, :5) the same loops
 *                                      with push_wait/pop_wait instead of
 *                                      try + spin: threads sleep on the
 *                                      ring's futexes when it is full or
 *                                      empty; futex_calls = system calls per
 *                                      item (each wake targets k sleepers)
 *
 * impl: atomkit_seq (ak_ring_seq, per-slot sequences), atomkit (ak_ring's
 * in-order MP/MC modes, when atomkit/ring.h is in the tree), ck (ck_ring),
 * boost (boost::lockfree::queue), moodycamel (ConcurrentQueue with tokens),
 * dpdk (rte_ring MP/MC, RTS, HTS, only if <rte_ring.h> exists).
 *
 * Every row: 8-byte items, usable capacity MPMC_CAP (ck: one less), the
 * same loops and spin policy (bench/peers/mpmc.h).  Each producer pushes
 * its iterations; the consumers pop the same total between them; every
 * consumer checks per-producer FIFO and a violation fails the row.  The
 * box has 2 vCPUs: every row is oversubscribed on purpose (that is where
 * an in-order tail stalls behind a preempted thread).  Time is wall time
 * per item moved (UseRealTime), items_per_second counts items pushed.
 */
#include <atomkit/ring_seq.h>
#include <ck_ring.h>
#include <stdlib.h>
#include <string.h>

#include "peers/mpmc.h"
#include "shim/cbench.h"

#if defined(__has_include)
#if __has_include(<atomkit/ring.h>)
#include <atomkit/ring.h>
#define HAVE_AK_RING 1
#endif
#endif

#define BATCH 4096
#define MAXP 8

struct shape {
	unsigned prod, cons;
};

static const struct shape s2p2c = { 2, 2 }, s4p4c = { 4, 4 }, s3p1c = { 3, 1 }, s1p3c = { 1, 3 },
			  s1p4c = { 1, 4 };

/* The queue of the current run: created by thread 0 before the loop,
 * destroyed at the start of the next run (other threads may still be
 * tearing down their per-thread state after the loop). */
uint64_t mpmc_deadline_ns = UINT64_MAX;
static void *g_q;
static void (*g_q_free)(void *);

static void replace_queue(void *q, void (*q_free)(void *))
{
	if (g_q && g_q_free)
		g_q_free(g_q);
	g_q = q;
	g_q_free = q_free;
}

/*
 * The driver: one function per impl, generated from the impl's produce and
 * consume (no indirect call per item).  Consumer j pops
 * floor((n * prod + j) / cons) per batch of n, which sums to n * prod.
 */
#define DEFINE_ROW(impl, CREATE, FREE, TBEGIN, TEND, PRODUCE, CONSUME)                    \
	static void bm_##impl(cbench_state *st, void *arg)                                \
	{                                                                                 \
		const struct shape *sh = (const struct shape *)arg;                       \
		unsigned ti = (unsigned)cbench_thread_index(st);                          \
		uint64_t n, moved = 0;                                                    \
		int64_t bad = 0;                                                          \
		int abandoned = 0;                                                        \
		void *t;                                                                  \
		if (ti == 0) {                                                            \
			replace_queue(CREATE(), FREE);                                    \
			mpmc_deadline_ns = mpmc_now_ns() + MPMC_RUN_LIMIT_NS;             \
		}                                                                         \
		if ((unsigned)cbench_threads(st) != sh->prod + sh->cons) {                \
			cbench_skip_with_error(st, "thread count does not match shape"); \
			return;                                                           \
		}                                                                         \
		/* the first batch waits for thread 0's queue: per-thread state */   \
		/* (tokens) is made only after it */                                   \
		n = cbench_next_batch(st, BATCH);                                         \
		t = TBEGIN(g_q, ti < sh->prod);                                           \
		if (ti < sh->prod) {                                                      \
			uint64_t seq = 0, tag = (uint64_t)ti << MPMC_SEQ_BITS;            \
			for (; n && !abandoned; n = cbench_next_batch(st, BATCH)) {       \
				abandoned = PRODUCE(g_q, t, tag, &seq, n) < 0;            \
				moved += n;                                               \
			}                                                                 \
			cbench_set_items_processed(st, (int64_t)moved);                   \
		} else {                                                                  \
			uint64_t last[MAXP];                                              \
			unsigned j = ti - sh->prod;                                       \
			for (unsigned p = 0; p < MAXP; p++)                               \
				last[p] = UINT64_MAX;                                     \
			for (; n && !abandoned; n = cbench_next_batch(st, BATCH)) {       \
				uint64_t k = (n * sh->prod + j) / sh->cons;               \
				int64_t b = CONSUME(g_q, t, k, last, sh->prod);           \
				if (b < 0)                                                \
					abandoned = 1;                                    \
				else                                                      \
					bad += b;                                         \
			}                                                                 \
		}                                                                         \
		TEND(t);                                                                  \
		if (abandoned) {                                                          \
			cbench_skip_with_error(st, "collapsed: run not done in 5 s");     \
			while (cbench_next_batch(st, BATCH)) /* to the end barrier */     \
				;                                                         \
		}                                                                         \
		else if (bad)                                                             \
			cbench_skip_with_error(st, "per-producer FIFO violated");         \
	}

/*
 * Single-threaded: push 512, pop 512, repeat.  No contention: the cost of the
 * operations themselves (instructions, for scripts/icount.sh).
 */
#define DEFINE_UNCONTENDED(impl, CREATE, FREE, TBEGIN, TEND, PRODUCE, CONSUME)            \
	static void bm_unc_##impl(cbench_state *st, void *arg)                            \
	{                                                                                 \
		uint64_t n, seq = 0, last[1] = { UINT64_MAX };                            \
		int64_t bad = 0;                                                          \
		void *tp, *tc;                                                            \
		(void)arg;                                                                \
		replace_queue(CREATE(), FREE);                                            \
		mpmc_deadline_ns = UINT64_MAX;                                            \
		tp = TBEGIN(g_q, 1);                                                      \
		tc = TBEGIN(g_q, 0);                                                      \
		while ((n = cbench_next_batch(st, 512))) {                                \
			PRODUCE(g_q, tp, 0, &seq, n);                                     \
			bad += CONSUME(g_q, tc, n, last, 1);                              \
		}                                                                         \
		TEND(tp);                                                                 \
		TEND(tc);                                                                 \
		cbench_set_items_processed(st, (int64_t)seq);                             \
		if (bad)                                                                  \
			cbench_skip_with_error(st, "FIFO violated");                      \
	}

static void *no_thread(void *q, int producer)
{
	(void)q;
	(void)producer;
	return NULL;
}
static void no_thread_end(void *t)
{
	(void)t;
}

/* ---- atomkit_seq ------------------------------------------------------------ */

static void *seq_create(void)
{
	ak_ring_seq *r = NULL;
	if (ak_ring_seq_new(&r, MPMC_CAP, sizeof(uint64_t), 0) != AK_OK)
		abort();
	return r;
}
static void seq_free(void *q)
{
	ak_ring_seq_delete((ak_ring_seq *)q);
}

#define SEQ_PUSH_MP(q, t, v) (ak_ring_seq_push64_mpmc((ak_ring_seq *)(q), (v)) == AK_OK)
#define SEQ_PUSH_SP(q, t, v) (ak_ring_seq_push64_spmc((ak_ring_seq *)(q), (v)) == AK_OK)
#define SEQ_POP_MC(q, t, v) (ak_ring_seq_pop64_mpmc((ak_ring_seq *)(q), (v)) == AK_OK)
#define SEQ_POP_SC(q, t, v) (ak_ring_seq_pop64_mpsc((ak_ring_seq *)(q), (v)) == AK_OK)
MPMC_DRIVER(seq_mpmc, void *, void *, SEQ_PUSH_MP, SEQ_POP_MC)
MPMC_DRIVER(seq_mpsc, void *, void *, SEQ_PUSH_MP, SEQ_POP_SC)
MPMC_DRIVER(seq_spmc, void *, void *, SEQ_PUSH_SP, SEQ_POP_MC)
DEFINE_ROW(seq_mpmc, seq_create, seq_free, no_thread, no_thread_end, seq_mpmc_produce,
	   seq_mpmc_consume)
DEFINE_ROW(seq_mpsc, seq_create, seq_free, no_thread, no_thread_end, seq_mpsc_produce,
	   seq_mpsc_consume)
DEFINE_UNCONTENDED(seq, seq_create, seq_free, no_thread, no_thread_end, seq_mpmc_produce,
		   seq_mpmc_consume)
DEFINE_ROW(seq_spmc, seq_create, seq_free, no_thread, no_thread_end, seq_spmc_produce,
	   seq_spmc_consume)

/* The blocking forms: a wait that runs into the run's deadline reports
 * failure, and the driver then abandons the run like a spinning one. */
static void *seq_create_blocking(void)
{
	ak_ring_seq *r = NULL;
	if (ak_ring_seq_new(&r, MPMC_CAP, sizeof(uint64_t), AK_RING_SEQ_BLOCKING) != AK_OK)
		abort();
	return r;
}
static inline bool seq_push_wait(void *q, uint64_t v)
{
	return ak_ring_seq_push_wait_mpmc((ak_ring_seq *)q, &v, mpmc_deadline_ns, NULL) == AK_OK;
}
#define SEQW_PUSH(q, t, v) seq_push_wait((q), (v))
#define SEQW_POP(q, t, v)                                                                    \
	(ak_ring_seq_pop_wait_mpmc((ak_ring_seq *)(q), (v), mpmc_deadline_ns, NULL) == AK_OK)
MPMC_DRIVER(seqw, void *, void *, SEQW_PUSH, SEQW_POP)
DEFINE_ROW(seqw_inner, seq_create_blocking, seq_free, no_thread, no_thread_end, seqw_produce,
	   seqw_consume)
static void bm_seqw(cbench_state *st, void *arg)
{
	bm_seqw_inner(st, arg);
	/* After the loop every thread is done (the end barrier); g_q is this
	 * run's ring until thread 0 of the next run replaces it.  Items moved
	 * = positions claimed = tail / 2 (the ring starts at 0). */
	if (cbench_thread_index(st) == 0) {
		const ak_ring_seq *r = (const ak_ring_seq *)g_q;
		uint64_t items = atomic_load_explicit(&r->tail, memory_order_relaxed) >> 1;
		double calls = (double)ak_ring_seq_syscalls(r);
		cbench_counter(st, "futex_calls", calls, CBENCH_COUNTER_PLAIN);
		cbench_counter(st, "futex_per_item", items ? calls / (double)items : 0,
			       CBENCH_COUNTER_PLAIN);
	}
}

/* ---- ck_ring ----------------------------------------------------------------- */

struct ckq {
	AK_CACHE_ALIGNED ck_ring_t ring;
	AK_CACHE_ALIGNED ck_ring_buffer_t buf[MPMC_CAP];
};
static void *ck_create(void)
{
	struct ckq *q = (struct ckq *)aligned_alloc(AK_DESTRUCTIVE_SIZE, sizeof(struct ckq));
	if (!q)
		abort();
	memset(q, 0, sizeof(*q));
	ck_ring_init(&q->ring, MPMC_CAP);
	return q;
}
static void ck_free(void *q)
{
	free(q);
}
#define CKQ(q) ((struct ckq *)(q))
#define CK_PUSH(M, q, v) ck_ring_enqueue_##M(&CKQ(q)->ring, CKQ(q)->buf, (void *)(uintptr_t)(v))
static inline bool ck_pop_mpmc(void *q, uint64_t *v)
{
	void *p;
	if (!ck_ring_dequeue_mpmc(&CKQ(q)->ring, CKQ(q)->buf, &p))
		return false;
	*v = (uint64_t)(uintptr_t)p;
	return true;
}
static inline bool ck_pop_mpsc(void *q, uint64_t *v)
{
	void *p;
	if (!ck_ring_dequeue_mpsc(&CKQ(q)->ring, CKQ(q)->buf, &p))
		return false;
	*v = (uint64_t)(uintptr_t)p;
	return true;
}
static inline bool ck_pop_spmc(void *q, uint64_t *v)
{
	void *p;
	if (!ck_ring_dequeue_spmc(&CKQ(q)->ring, CKQ(q)->buf, &p))
		return false;
	*v = (uint64_t)(uintptr_t)p;
	return true;
}
#define CK_PUSH_MPMC(q, t, v) CK_PUSH(mpmc, q, v)
#define CK_PUSH_MPSC(q, t, v) CK_PUSH(mpsc, q, v)
#define CK_PUSH_SPMC(q, t, v) CK_PUSH(spmc, q, v)
#define CK_POP_MPMC(q, t, v) ck_pop_mpmc(q, v)
#define CK_POP_MPSC(q, t, v) ck_pop_mpsc(q, v)
#define CK_POP_SPMC(q, t, v) ck_pop_spmc(q, v)
MPMC_DRIVER(ck_mpmc, void *, void *, CK_PUSH_MPMC, CK_POP_MPMC)
MPMC_DRIVER(ck_mpsc, void *, void *, CK_PUSH_MPSC, CK_POP_MPSC)
MPMC_DRIVER(ck_spmc, void *, void *, CK_PUSH_SPMC, CK_POP_SPMC)
DEFINE_ROW(ck_mpmc, ck_create, ck_free, no_thread, no_thread_end, ck_mpmc_produce,
	   ck_mpmc_consume)
DEFINE_ROW(ck_mpsc, ck_create, ck_free, no_thread, no_thread_end, ck_mpsc_produce,
	   ck_mpsc_consume)
DEFINE_UNCONTENDED(ck, ck_create, ck_free, no_thread, no_thread_end, ck_mpmc_produce,
		   ck_mpmc_consume)
DEFINE_ROW(ck_spmc, ck_create, ck_free, no_thread, no_thread_end, ck_spmc_produce,
	   ck_spmc_consume)

/* ---- C++ peers ------------------------------------------------------------------ */

DEFINE_ROW(boost, mpmc_boost_create, mpmc_boost_destroy, mpmc_boost_thread_begin,
	   mpmc_boost_thread_end, mpmc_boost_produce, mpmc_boost_consume)
DEFINE_ROW(moodycamel, mpmc_moodycamel_create, mpmc_moodycamel_destroy,
	   mpmc_moodycamel_thread_begin, mpmc_moodycamel_thread_end, mpmc_moodycamel_produce,
	   mpmc_moodycamel_consume)

DEFINE_UNCONTENDED(boost, mpmc_boost_create, mpmc_boost_destroy, mpmc_boost_thread_begin,
		   mpmc_boost_thread_end, mpmc_boost_produce, mpmc_boost_consume)
DEFINE_UNCONTENDED(moodycamel, mpmc_moodycamel_create, mpmc_moodycamel_destroy,
		   mpmc_moodycamel_thread_begin, mpmc_moodycamel_thread_end, mpmc_moodycamel_produce,
		   mpmc_moodycamel_consume)

/* ---- atomkit in-order ring (atomkit/ring.h) --------------------------------------- */

#ifdef HAVE_AK_RING
static void *akr_create(void)
{
	size_t bytes = ak_ring_memsize(MPMC_CAP, sizeof(uint64_t));
	ak_ring *r = (ak_ring *)aligned_alloc(AK_DESTRUCTIVE_SIZE,
					      (sizeof(ak_ring) + bytes + 127) & ~(size_t)127);
	if (!r || ak_ring_init(r, (char *)r + sizeof(ak_ring), bytes, MPMC_CAP, sizeof(uint64_t),
			       0) != AK_OK)
		abort();
	return r;
}
static void akr_free(void *q)
{
	free(q);
}
#define AKR_PUSH_MP(q, t, v) akr_push_mpmc((ak_ring *)(q), (v))
#define AKR_PUSH_SP(q, t, v) akr_push_spmc((ak_ring *)(q), (v))
#define AKR_POP_MC(q, t, v) (ak_ring_pop_mpmc((ak_ring *)(q), (v)) == AK_OK)
#define AKR_POP_SC(q, t, v) (ak_ring_pop_mpsc((ak_ring *)(q), (v)) == AK_OK)
static inline bool akr_push_mpmc(ak_ring *r, uint64_t v)
{
	return ak_ring_push_mpmc(r, &v) == AK_OK;
}
static inline bool akr_push_spmc(ak_ring *r, uint64_t v)
{
	return ak_ring_push_spmc(r, &v) == AK_OK;
}
MPMC_DRIVER(akr_mpmc, void *, void *, AKR_PUSH_MP, AKR_POP_MC)
MPMC_DRIVER(akr_mpsc, void *, void *, AKR_PUSH_MP, AKR_POP_SC)
MPMC_DRIVER(akr_spmc, void *, void *, AKR_PUSH_SP, AKR_POP_MC)
DEFINE_ROW(akr_mpmc, akr_create, akr_free, no_thread, no_thread_end, akr_mpmc_produce,
	   akr_mpmc_consume)
DEFINE_ROW(akr_mpsc, akr_create, akr_free, no_thread, no_thread_end, akr_mpsc_produce,
	   akr_mpsc_consume)
DEFINE_UNCONTENDED(akr, akr_create, akr_free, no_thread, no_thread_end, akr_mpmc_produce,
		   akr_mpmc_consume)
DEFINE_ROW(akr_spmc, akr_create, akr_free, no_thread, no_thread_end, akr_spmc_produce,
	   akr_spmc_consume)
#endif

/* ---- registration ---------------------------------------------------------------- */

static void reg(const char *name, cbench_fn fn, const struct shape *sh)
{
	int threads = (int)(sh->prod + sh->cons);
	cbench_register_threads(name, fn, (void *)(uintptr_t)sh, &threads, 1);
}

CBENCH_INIT(ring_mpmc)
{
	reg("ring_mpmc/atomkit_seq/2p2c", bm_seq_mpmc, &s2p2c);
	reg("ring_mpmc/atomkit_seq/4p4c", bm_seq_mpmc, &s4p4c);
#ifdef HAVE_AK_RING
	reg("ring_mpmc/atomkit/2p2c", bm_akr_mpmc, &s2p2c);
	reg("ring_mpmc/atomkit/4p4c", bm_akr_mpmc, &s4p4c);
#endif
	reg("ring_mpmc/atomkit_seq_wait/2p2c", bm_seqw, &s2p2c);
	reg("ring_mpmc/atomkit_seq_wait/1p4c", bm_seqw, &s1p4c);
	reg("ring_mpmc/ck/2p2c", bm_ck_mpmc, &s2p2c);
	reg("ring_mpmc/ck/4p4c", bm_ck_mpmc, &s4p4c);
	reg("ring_mpmc/boost/2p2c", bm_boost, &s2p2c);
	reg("ring_mpmc/boost/4p4c", bm_boost, &s4p4c);
	reg("ring_mpmc/moodycamel/2p2c", bm_moodycamel, &s2p2c);
	reg("ring_mpmc/moodycamel/4p4c", bm_moodycamel, &s4p4c);

	reg("ring_mpsc/atomkit_seq/3p1c", bm_seq_mpsc, &s3p1c);
#ifdef HAVE_AK_RING
	reg("ring_mpsc/atomkit/3p1c", bm_akr_mpsc, &s3p1c);
#endif
	reg("ring_mpsc/ck/3p1c", bm_ck_mpsc, &s3p1c);
	reg("ring_spmc/atomkit_seq/1p3c", bm_seq_spmc, &s1p3c);
#ifdef HAVE_AK_RING
	reg("ring_spmc/atomkit/1p3c", bm_akr_spmc, &s1p3c);
#endif
	reg("ring_spmc/ck/1p3c", bm_ck_spmc, &s1p3c);

	cbench_register("ring_mpmc/atomkit_seq/uncontended", bm_unc_seq, NULL, 0, 0);
#ifdef HAVE_AK_RING
	cbench_register("ring_mpmc/atomkit/uncontended", bm_unc_akr, NULL, 0, 0);
#endif
	cbench_register("ring_mpmc/ck/uncontended", bm_unc_ck, NULL, 0, 0);
	cbench_register("ring_mpmc/boost/uncontended", bm_unc_boost, NULL, 0, 0);
	cbench_register("ring_mpmc/moodycamel/uncontended", bm_unc_moodycamel, NULL, 0, 0);
}
