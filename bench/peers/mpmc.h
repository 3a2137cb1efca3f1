/*
 * bench/peers/mpmc.h - the MPMC/MPSC/SPMC benchmark driver, shared by the
 * C rows (bench/ring_mpmc.c) and the C++ peer adapters (bench/peers/mpmc_*.cc)
 * so every queue runs the very same loops and spin policy.
 *
 * A queue adapter provides TRY_PUSH(q, t, v) and TRY_POP(q, t, &v) (true on
 * success); MPMC_DRIVER(prefix, Q, T, TRY_PUSH, TRY_POP) then defines
 *   prefix_produce(q, t, tag, &seq, n)     push n items tag|seq++, spinning;
 *                                          0, or -1 if the run was abandoned
 *                                          (seq then counts what got in)
 *   prefix_consume(q, t, n, last, nprod)   pop n items; returns how many
 *                                          broke per-producer FIFO (0 = ok),
 *                                          or -1 if the run was abandoned
 * Items are producer_index << 40 | seq.  A consumer sees each producer's
 * items in increasing seq order in every queue that promises per-producer
 * FIFO (all rows here do), so a wrong adapter shows up as a failed run.
 *
 * Spin policy (identical for all rows): after a failed try, `pause`; after
 * MPMC_SPINS consecutive failures, sched_yield() (threads outnumber the 2
 * cores, so a full/empty queue usually means the peer is not running).
 */
#ifndef ATOMKIT_BENCH_PEERS_MPMC_H
#define ATOMKIT_BENCH_PEERS_MPMC_H

#include <sched.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MPMC_CAP 1024     /* usable capacity of every queue (ck: 1023) */
#define MPMC_SEQ_BITS 40
#define MPMC_SPINS 16

static inline void mpmc_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/*
 * A run that has not finished by this CLOCK_MONOTONIC time (ns) is
 * abandoned: queues whose threads spin behind a preempted peer can take
 * minutes for what others do in a second, and the row then reports the
 * collapse instead of hanging the benchmark.  Set by the C driver before
 * the threads start; only read by them.
 */
extern uint64_t mpmc_deadline_ns;
#define MPMC_RUN_LIMIT_NS UINT64_C(5000000000)

static inline uint64_t mpmc_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Returns 0 to keep trying, 1 when the run is abandoned. */
static inline int mpmc_backoff(unsigned *fails)
{
	if (++*fails < MPMC_SPINS) {
		mpmc_relax();
		return 0;
	}
	*fails = 0;
	sched_yield();
	return mpmc_now_ns() > mpmc_deadline_ns;
}

#define MPMC_DRIVER(prefix, Q, T, TRY_PUSH, TRY_POP)                                 \
	static inline int prefix##_produce(Q q, T t, uint64_t tag, uint64_t *seq,      \
					   uint64_t n)                                \
	{                                                                            \
		unsigned fails = 0;                                                  \
		uint64_t s = *seq;                                                   \
		(void)t;                                                             \
		for (uint64_t i = 0; i < n; i++, s++) {                              \
			while (!(TRY_PUSH(q, t, tag | s)))                           \
				if (mpmc_backoff(&fails)) {                          \
					*seq = s; /* what did get through */          \
					return -1;                                   \
				}                                                    \
		}                                                                    \
		*seq = s;                                                            \
		return 0;                                                            \
	}                                                                            \
	static inline int64_t prefix##_consume(Q q, T t, uint64_t n, uint64_t *last,  \
					       unsigned nprod)                       \
	{                                                                            \
		unsigned fails = 0;                                                  \
		int64_t bad = 0;                                                     \
		(void)t;                                                             \
		for (uint64_t i = 0; i < n; i++) {                                   \
			uint64_t v = 0;                                              \
			while (!(TRY_POP(q, t, &v)))                                 \
				if (mpmc_backoff(&fails))                            \
					return -1;                                   \
			uint64_t p = v >> MPMC_SEQ_BITS;                             \
			uint64_t s = v & ((UINT64_C(1) << MPMC_SEQ_BITS) - 1);       \
			if (p >= nprod || (last[p] != UINT64_MAX && s <= last[p]))   \
				bad++;                                               \
			else                                                         \
				last[p] = s;                                         \
		}                                                                    \
		return bad;                                                          \
	}

/* The C++ peers, exported with C linkage.  q = the queue, t = per-thread
 * state (tokens) or NULL. */
#define MPMC_PEER_DECL(name)                                                         \
	void *mpmc_##name##_create(void);                                            \
	void mpmc_##name##_destroy(void *q);                                         \
	void *mpmc_##name##_thread_begin(void *q, int producer);                     \
	void mpmc_##name##_thread_end(void *t);                                      \
	int mpmc_##name##_produce(void *q, void *t, uint64_t tag, uint64_t *seq,     \
				  uint64_t n);                                       \
	int64_t mpmc_##name##_consume(void *q, void *t, uint64_t n, uint64_t *last,  \
				      unsigned nprod);

MPMC_PEER_DECL(boost)
MPMC_PEER_DECL(moodycamel)
#ifdef AK_HAVE_DPDK /* bench/peers/mpmc_dpdk.cc */
MPMC_PEER_DECL(dpdk)
MPMC_PEER_DECL(dpdk_rts)
MPMC_PEER_DECL(dpdk_hts)
MPMC_PEER_DECL(dpdk_mpsc)
MPMC_PEER_DECL(dpdk_spmc)
#endif

#ifdef __cplusplus
}
#endif

#endif /* ATOMKIT_BENCH_PEERS_MPMC_H */
