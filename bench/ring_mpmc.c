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
 * dpdk, dpdk_rts, dpdk_hts (rte_ring MP/MC, RTS, HTS; only when the Makefile
 * found libdpdk and defined AK_HAVE_DPDK, see bench/peers/mpmc_dpdk.cc).
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
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
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
/* A collapsed run reports how far it got: items pushed by all producers,
 * and whether any thread gave up.  Reset by thread 0 before the start
 * barrier, read by thread 0 after the end barrier (the shim's barriers are
 * a mutex and order these relaxed accesses). */
static _Atomic(uint64_t) g_pushed;
static _Atomic(int) g_collapsed;
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
 * The guard in mpmc_backoff() works only when a thread comes back from the
 * queue.  A peer whose MP/MC commit spins inside the library on a preempted
 * predecessor without ever yielding (DPDK's default MP/MC mode, ck_ring's
 * MP enqueue) can, with 8 threads on 2 loaded CPUs, move a few items per
 * second there (seen: rte_ring 4p4c at about 8 items/s) and keep the run
 * going for hours.  So each thread arms a timer that sends it SIGUSR1 every
 * 100 ms from one second after the deadline; if the thread is inside
 * PRODUCE/CONSUME then, the handler jumps back to the driver, which abandons
 * the run.  The queue may be left mid-operation; it is dropped anyway.  By
 * then every thread that could come back by itself has (its backoff saw the
 * deadline), so the ones jumped out of are spinning in queue code: atomics
 * and copies, no locks or destructors.  A normal run ends long before the
 * timer fires, and the timer costs three system calls per thread per run,
 * outside the timed loop.
 */
#define ESCAPE_SIG SIGUSR1
#define ESCAPE_GRACE_NS UINT64_C(1000000000)

static AK_THREAD_LOCAL sigjmp_buf *volatile t_escape;

static void escape_handler(int sig)
{
	sigjmp_buf *jb = t_escape;
	(void)sig;
	if (jb)
		siglongjmp(*jb, 1);
}

/* The handler is installed once, before main() (see CBENCH_INIT below). */
static void escape_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = escape_handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(ESCAPE_SIG, &sa, NULL);
}

/* Arm this thread's timer: 0 when armed (then escape_disarm() it). */
static int escape_arm(timer_t *tm)
{
	struct sigevent ev;
	struct itimerspec when;
	uint64_t at = mpmc_deadline_ns + ESCAPE_GRACE_NS;
	memset(&ev, 0, sizeof ev);
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = ESCAPE_SIG;
#ifdef sigev_notify_thread_id
	ev.sigev_notify_thread_id = gettid();
#else /* glibc < 2.35 names the field only internally */
	ev._sigev_un._tid = gettid();
#endif
	if (timer_create(CLOCK_MONOTONIC, &ev, tm) != 0)
		return -1;
	memset(&when, 0, sizeof when);
	when.it_value.tv_sec = (time_t)(at / 1000000000u);
	when.it_value.tv_nsec = (long)(at % 1000000000u);
	when.it_interval.tv_nsec = 100000000;
	if (timer_settime(*tm, TIMER_ABSTIME, &when, NULL) != 0) {
		(void)timer_delete(*tm);
		return -1;
	}
	return 0;
}

static void escape_disarm(timer_t tm)
{
	(void)timer_delete(tm);
}

/* After a jump out of the handler, whose signal stays blocked (sigsetjmp
 * without the mask, to keep the syscall off the per-batch path). */
static void escape_landed(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, ESCAPE_SIG);
	(void)pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	t_escape = NULL;
	atomic_store_explicit(&g_collapsed, 1, memory_order_relaxed);
}

/* r = call, unless the thread is still stuck inside the queue call past
 * the deadline: then the escape timer jumps back here and the enclosing
 * function returns -1. Used only in functions that return an integer. */
#define ESCAPABLE(r, call)                                  \
	do {                                                \
		sigjmp_buf jb_;                             \
		if (sigsetjmp(jb_, 0)) {                    \
			escape_landed();                    \
			return -1;                          \
		}                                           \
		t_escape = &jb_;                            \
		(r) = (call);                               \
		t_escape = NULL;                            \
	} while (0)

/* The row's error message after the 5 s guard fired: the rate it had
 * reached, so a collapse reads as a (bad) figure, not only as a failure. */
static void report_collapse(cbench_state *st)
{
	static char msg[160];
	uint64_t pushed = atomic_load_explicit(&g_pushed, memory_order_relaxed);
	double secs = (double)MPMC_RUN_LIMIT_NS / 1e9;
	if (pushed)
		snprintf(msg, sizeof msg,
			 "collapsed: only %llu items in the %.0f s guard (%.1f us/item), run abandoned",
			 (unsigned long long)pushed, secs, secs * 1e6 / (double)pushed);
	else
		snprintf(msg, sizeof msg, "collapsed: no item in the %.0f s guard, run abandoned",
			 secs);
	cbench_skip_with_error(st, msg);
}

/*
 * The driver: one function per impl, generated from the impl's produce and
 * consume (no indirect call per item).  Consumer j pops
 * floor((n * prod + j) / cons) per batch of n, which sums to n * prod.
 */
#define DEFINE_ROW(impl, CREATE, FREE, TBEGIN, TEND, PRODUCE, CONSUME)                    \
	/* PRODUCE / CONSUME with the way out (escape_handler) */                        \
	static int impl##_produce_g(void *t, uint64_t tag, uint64_t *seq, uint64_t n)     \
	{                                                                                 \
		int r;                                                                    \
		ESCAPABLE(r, PRODUCE(g_q, t, tag, seq, n));                               \
		return r;                                                                 \
	}                                                                                 \
	static int64_t impl##_consume_g(void *t, uint64_t n, uint64_t *last, unsigned np) \
	{                                                                                 \
		int64_t r;                                                                \
		ESCAPABLE(r, CONSUME(g_q, t, n, last, np));                               \
		return r;                                                                 \
	}                                                                                 \
	static void bm_##impl(cbench_state *st, void *arg)                                \
	{                                                                                 \
		const struct shape *sh = (const struct shape *)arg;                       \
		unsigned ti = (unsigned)cbench_thread_index(st);                          \
		uint64_t n, moved = 0;                                                    \
		int64_t bad = 0;                                                          \
		int abandoned = 0;                                                        \
		timer_t tm;                                                               \
		int armed;                                                                \
		void *t;                                                                  \
		if (ti == 0) {                                                            \
			replace_queue(CREATE(), FREE);                                    \
			atomic_store_explicit(&g_pushed, 0, memory_order_relaxed);        \
			atomic_store_explicit(&g_collapsed, 0, memory_order_relaxed);     \
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
		armed = escape_arm(&tm) == 0;                                             \
		if (ti < sh->prod) {                                                      \
			uint64_t seq = 0, tag = (uint64_t)ti << MPMC_SEQ_BITS;            \
			for (; n; n = cbench_next_batch(st, BATCH)) {                     \
				uint64_t seq0 = seq;                                      \
				if (abandoned) /* drain the batches, to the end barrier */ \
					continue;                                         \
				abandoned = impl##_produce_g(t, tag, &seq, n) < 0;        \
				atomic_fetch_add_explicit(&g_pushed, seq - seq0,          \
							  memory_order_relaxed);          \
				if (abandoned)                                            \
					atomic_store_explicit(&g_collapsed, 1,            \
							      memory_order_relaxed);      \
				moved += n;                                               \
			}                                                                 \
			cbench_set_items_processed(st, (int64_t)moved);                   \
		} else {                                                                  \
			uint64_t last[MAXP];                                              \
			unsigned j = ti - sh->prod;                                       \
			for (unsigned p = 0; p < MAXP; p++)                               \
				last[p] = UINT64_MAX;                                     \
			for (; n; n = cbench_next_batch(st, BATCH)) {                     \
				uint64_t k = (n * sh->prod + j) / sh->cons;               \
				if (abandoned)                                            \
					continue;                                         \
				int64_t b = impl##_consume_g(t, k, last, sh->prod);       \
				if (b < 0) {                                              \
					abandoned = 1;                                    \
					atomic_store_explicit(&g_collapsed, 1,            \
							      memory_order_relaxed);      \
				} else                                                    \
					bad += b;                                         \
			}                                                                 \
		}                                                                         \
		if (armed)                                                                \
			escape_disarm(tm);                                                \
		TEND(t);                                                                  \
		/* Past the end barrier (the last cbench_next_batch): every thread's */ \
		/* counts and flag are in.  One thread reports, after the barrier,  */ \
		/* so the message has the totals. */                                   \
		if (ti == 0 && atomic_load_explicit(&g_collapsed, memory_order_relaxed)) \
			report_collapse(st);                                              \
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

/* ---- DPDK rte_ring (bench/peers/mpmc_dpdk.cc, when libdpdk is installed) ------ */

#ifdef AK_HAVE_DPDK
#define DPDK_ROW(m)                                                                       \
	DEFINE_ROW(m, mpmc_##m##_create, mpmc_##m##_destroy, mpmc_##m##_thread_begin,     \
		   mpmc_##m##_thread_end, mpmc_##m##_produce, mpmc_##m##_consume)
DPDK_ROW(dpdk)
DPDK_ROW(dpdk_rts)
DPDK_ROW(dpdk_hts)
DPDK_ROW(dpdk_mpsc)
DPDK_ROW(dpdk_spmc)
DEFINE_UNCONTENDED(dpdk, mpmc_dpdk_create, mpmc_dpdk_destroy, mpmc_dpdk_thread_begin,
		   mpmc_dpdk_thread_end, mpmc_dpdk_produce, mpmc_dpdk_consume)
#endif

/* ---- atomkit in-order ring (atomkit/ring.h) --------------------------------------- */

#ifdef HAVE_AK_RING
/* The typed front end, as a user moving 8-byte items would write it (and as
 * the SPSC rows do): the element size is a compile-time constant, so each
 * copy is one move, like the peers' (the untyped calls copy with memcpy of
 * a run-time size). */
AK_RING_DEFINE(akr64, uint64_t);

static void *akr_create(void)
{
	size_t bytes = akr64_memsize(MPMC_CAP);
	akr64 *r = (akr64 *)aligned_alloc(AK_DESTRUCTIVE_SIZE,
					  (sizeof(akr64) + bytes + 127) & ~(size_t)127);
	if (!r || akr64_init(r, (uint64_t *)(void *)((char *)r + sizeof(akr64)), bytes, MPMC_CAP,
			     0) != AK_OK)
		abort();
	return r;
}
static void akr_free(void *q)
{
	free(q);
}
#define AKR_PUSH_MP(q, t, v) (akr64_push_mpmc((akr64 *)(q), (v)) == AK_OK)
#define AKR_PUSH_SP(q, t, v) (akr64_push_spmc((akr64 *)(q), (v)) == AK_OK)
#define AKR_POP_MC(q, t, v) (akr64_pop_mpmc((akr64 *)(q), (v)) == AK_OK)
#define AKR_POP_SC(q, t, v) (akr64_pop_mpsc((akr64 *)(q), (v)) == AK_OK)
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
	escape_install();
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
#ifdef AK_HAVE_DPDK
	reg("ring_mpmc/dpdk/2p2c", bm_dpdk, &s2p2c);
	reg("ring_mpmc/dpdk/4p4c", bm_dpdk, &s4p4c);
	reg("ring_mpmc/dpdk_rts/2p2c", bm_dpdk_rts, &s2p2c);
	reg("ring_mpmc/dpdk_rts/4p4c", bm_dpdk_rts, &s4p4c);
	reg("ring_mpmc/dpdk_hts/2p2c", bm_dpdk_hts, &s2p2c);
	reg("ring_mpmc/dpdk_hts/4p4c", bm_dpdk_hts, &s4p4c);
#endif

	reg("ring_mpsc/atomkit_seq/3p1c", bm_seq_mpsc, &s3p1c);
#ifdef HAVE_AK_RING
	reg("ring_mpsc/atomkit/3p1c", bm_akr_mpsc, &s3p1c);
#endif
	reg("ring_mpsc/ck/3p1c", bm_ck_mpsc, &s3p1c);
#ifdef AK_HAVE_DPDK
	reg("ring_mpsc/dpdk/3p1c", bm_dpdk_mpsc, &s3p1c);
#endif
	reg("ring_spmc/atomkit_seq/1p3c", bm_seq_spmc, &s1p3c);
#ifdef HAVE_AK_RING
	reg("ring_spmc/atomkit/1p3c", bm_akr_spmc, &s1p3c);
#endif
	reg("ring_spmc/ck/1p3c", bm_ck_spmc, &s1p3c);
#ifdef AK_HAVE_DPDK
	reg("ring_spmc/dpdk/1p3c", bm_dpdk_spmc, &s1p3c);
#endif

	cbench_register("ring_mpmc/atomkit_seq/uncontended", bm_unc_seq, NULL, 0, 0);
#ifdef HAVE_AK_RING
	cbench_register("ring_mpmc/atomkit/uncontended", bm_unc_akr, NULL, 0, 0);
#endif
	cbench_register("ring_mpmc/ck/uncontended", bm_unc_ck, NULL, 0, 0);
	cbench_register("ring_mpmc/boost/uncontended", bm_unc_boost, NULL, 0, 0);
	cbench_register("ring_mpmc/moodycamel/uncontended", bm_unc_moodycamel, NULL, 0, 0);
#ifdef AK_HAVE_DPDK
	cbench_register("ring_mpmc/dpdk/uncontended", bm_unc_dpdk, NULL, 0, 0);
#endif
}
