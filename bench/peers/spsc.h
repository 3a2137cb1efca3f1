/*
 * bench/peers/spsc.h - the SPSC benchmark loops, as macros, shared by
 * the C file (atomkit, ck_ring) and the C++ adapters (boost, moodycamel), so
 * every library runs the identical loop: same batch size, same spin policy
 * (one `pause` per failed attempt), same pinning, same FIFO check.
 *
 * Roles: thread 0 is the consumer (pinned to CPU 0), thread 1 the producer
 * (CPU 1).  The consumer checks that sequence numbers arrive in order; a
 * wrong adapter fails the run with cbench_skip_with_error.  items_per_second
 * counts items delivered (consumer side only).
 *
 * Each expression argument is evaluated in a scope with `it` (the item
 * being pushed or popped) and, for bursts, `buf`, `cnt`.
 */
#ifndef ATOMKIT_BENCH_PEERS_SPSC_H
#define ATOMKIT_BENCH_PEERS_SPSC_H

#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <pthread.h>

#include "shim/cbench.h"

#define SPSC_CAP 4096   /* usable capacity for every library */
#define SPSC_BATCH 1024 /* iterations granted per cbench_next_batch() */
#define SPSC_BURST 32

typedef struct item8 {
	uint64_t seq;
} item8;

typedef struct item64 {
	uint64_t seq;
	uint64_t pad[7];
} item64;

static inline void spsc_pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static inline void spsc_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

static inline uint64_t spsc_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int spsc_aborted(int *flag)
{
	return __atomic_load_n(flag, __ATOMIC_RELAXED);
}

static inline void spsc_abort(cbench_state *st, int *flag, const char *why)
{
	__atomic_store_n(flag, 1, __ATOMIC_RELAXED);
	cbench_skip_with_error(st, why);
}

/*
 * Where a row's ring lives.  The same code at two fixed addresses ran up to
 * 1.5x apart in one process (two identical atomkit rows, one on q8/s8a, one
 * on q8b/s8b), more than most gaps between libraries: on this VM the cost
 * of a cache-line transfer depends on the line's (physical) address.  With
 * one static ring per library, each library kept one placement for the
 * whole run, so a row's result said as much about the linker's layout as
 * about the code.  Instead, each setup takes the next of SPSC_PLACES
 * page-aligned regions of a per-file arena (control block and slots
 * together), so the repetitions of every row sample the same number of
 * placements and the median averages over them.  Used by every adapter
 * whose memory the caller controls (atomkit, ck, boost, dpdk; moodycamel
 * allocates its own).
 */
#define SPSC_PLACES 8
#define SPSC_PLACE_BYTES (1024u * 1024u)
#define SPSC_ARENA(name)                                                                      \
	static unsigned char name[SPSC_PLACES][SPSC_PLACE_BYTES] __attribute__((aligned(4096)))

/* The next region (call from one thread, before the row's threads meet in
 * cbench_next_batch(), whose start barrier publishes what was set up). */
static inline unsigned char *spsc_next_place(unsigned char (*arena)[SPSC_PLACE_BYTES],
					     unsigned *turn)
{
	return arena[(*turn)++ % SPSC_PLACES];
}

/* Per side of a burst row: elements per successful call, and failed
 * (empty/full) calls per element: how the two sides meet, which decides
 * how often each reads the other's index. */
static inline void spsc_call_counters(cbench_state *st, const char *side, uint64_t items,
				      uint64_t ok, uint64_t fail)
{
	char name[32];
	if (!items || !ok)
		return;
	snprintf(name, sizeof name, "%s_per_call", side);
	cbench_counter(st, name, (double)items / (double)ok, CBENCH_COUNTER_PLAIN);
	snprintf(name, sizeof name, "%s_fail_per_item", side);
	cbench_counter(st, name, (double)fail / (double)items, CBENCH_COUNTER_PLAIN);
}

/* One element per call.  PUSH / POP are boolean expressions on `it`. */
#define SPSC_SINGLE(st, abortp, T, PUSH, POP)                                                  \
	do {                                                                                   \
		int tid_ = cbench_thread_index(st);                                            \
		uint64_t n_, seq_ = 0, total_ = 0, fail_ = 0;                                  \
		T it;                                                                          \
		memset(&it, 0, sizeof it);                                                     \
		spsc_pin(tid_);                                                                \
		if (tid_ == 1) {                                                               \
			while ((n_ = cbench_next_batch(st, SPSC_BATCH)))                       \
				for (uint64_t i_ = 0; i_ < n_ && !spsc_aborted(abortp); i_++) { \
					it.seq = seq_++;                                       \
					while (!(PUSH) && !spsc_aborted(abortp)) {             \
						fail_++;                                       \
						spsc_relax();                                  \
					}                                                      \
				}                                                              \
			spsc_call_counters(st, "push", seq_, seq_, fail_);                     \
		} else {                                                                       \
			while ((n_ = cbench_next_batch(st, SPSC_BATCH))) {                     \
				for (uint64_t i_ = 0; i_ < n_ && !spsc_aborted(abortp); i_++) { \
					while (!(POP)) {                                       \
						fail_++;                                       \
						spsc_relax();                                  \
					}                                                      \
					if (it.seq != seq_++)                                  \
						spsc_abort(st, abortp, "FIFO order broken");   \
				}                                                              \
				total_ += n_;                                                  \
			}                                                                      \
			cbench_set_items_processed(st, (int64_t)total_);                       \
			spsc_call_counters(st, "pop", seq_, seq_, fail_);                      \
		}                                                                              \
	} while (0)

/*
 * Blocking consumer, producer that keeps the ring from running dry: the
 * ring starts full (PUSH1 pushes `it`), the producer refills in bursts of
 * SPSC_BURST (PUSHN pushes buf[0..cnt), yields the count taken), the
 * consumer takes one element per POP_WAIT (an ak_status expression on
 * `it`).  SPLIT(&sp) fills an ak_ring_syscall_split after the run: the
 * counters futex_calls (total), sc_waits (the consumer found the ring empty
 * after its spin: the producer was off its CPU), sc_wakes, sc_spare (a wake
 * that found nobody asleep; want 0).
 */
#define SPSC_BLOCKING(st, abortp, T, PUSH1, PUSHN, POP_WAIT, SPLIT)                           \
	do {                                                                                   \
		int tid_ = cbench_thread_index(st);                                            \
		uint64_t n_, seq_ = SPSC_CAP, total_ = 0;                                      \
		T it, buf[SPSC_BURST];                                                         \
		memset(&it, 0, sizeof it);                                                     \
		memset(buf, 0, sizeof buf);                                                    \
		if (tid_ == 0)                                                                 \
			for (uint64_t i_ = 0; i_ < SPSC_CAP; i_++) {                           \
				it.seq = i_;                                                   \
				(void)(PUSH1);                                                 \
			}                                                                      \
		spsc_pin(tid_);                                                                \
		if (tid_ == 1) {                                                               \
			while ((n_ = cbench_next_batch(st, SPSC_BATCH))) {                     \
				uint64_t left_ = n_;                                           \
				while (left_ && !spsc_aborted(abortp)) {                       \
					uint64_t cnt = left_ < SPSC_BURST ? left_ : SPSC_BURST; \
					for (uint64_t j_ = 0; j_ < cnt; j_++)                  \
						buf[j_].seq = seq_ + j_;                       \
					uint64_t k_ = (PUSHN);                                 \
					if (k_ == 0) {                                         \
						spsc_relax();                                  \
						continue;                                      \
					}                                                      \
					seq_ += k_;                                            \
					left_ -= k_;                                           \
				}                                                              \
			}                                                                      \
		} else {                                                                       \
			ak_ring_syscall_split sp_;                                             \
			seq_ = 0;                                                              \
			while ((n_ = cbench_next_batch(st, SPSC_BATCH))) {                     \
				for (uint64_t i_ = 0; i_ < n_ && !spsc_aborted(abortp); i_++) { \
					ak_status s_ = (POP_WAIT);                             \
					if (s_ != AK_OK || it.seq != seq_++)                   \
						spsc_abort(st, abortp,                         \
							   "pop_wait failed or out of order"); \
				}                                                              \
				total_ += n_;                                                  \
			}                                                                      \
			cbench_set_items_processed(st, (int64_t)total_);                       \
			(void)(SPLIT(&sp_));                                                   \
			cbench_counter(st, "futex_calls", (double)sp_.total, CBENCH_COUNTER_PLAIN); \
			cbench_counter(st, "sc_waits", (double)sp_.waits, CBENCH_COUNTER_PLAIN); \
			cbench_counter(st, "sc_wakes", (double)sp_.wakes, CBENCH_COUNTER_PLAIN); \
			cbench_counter(st, "sc_spare", (double)sp_.spare, CBENCH_COUNTER_PLAIN); \
			cbench_counter(st, "polled", (double)sp_.polled, CBENCH_COUNTER_PLAIN); \
		}                                                                              \
	} while (0)

/* Up to SPSC_BURST elements per call.  PUSHN pushes buf[0..cnt) and yields
 * the count taken; POPN pops up to cnt into buf and yields the count. */
#define SPSC_BURSTY(st, abortp, T, PUSHN, POPN)                                                \
	do {                                                                                   \
		int tid_ = cbench_thread_index(st);                                            \
		uint64_t n_, seq_ = 0, total_ = 0, ok_ = 0, fail_ = 0;                         \
		T buf[SPSC_BURST];                                                             \
		memset(buf, 0, sizeof buf);                                                    \
		spsc_pin(tid_);                                                                \
		if (tid_ == 1) {                                                               \
			while ((n_ = cbench_next_batch(st, SPSC_BATCH))) {                     \
				uint64_t left_ = n_;                                           \
				while (left_ && !spsc_aborted(abortp)) {                       \
					uint64_t want_ = left_ < SPSC_BURST ? left_ : SPSC_BURST; \
					for (uint64_t j_ = 0; j_ < want_; j_++)                \
						buf[j_].seq = seq_ + j_;                       \
					uint64_t cnt = want_, k_ = (PUSHN);                    \
					if (k_ == 0) {                                         \
						fail_++;                                       \
						spsc_relax();                                  \
						continue;                                      \
					}                                                      \
					ok_++;                                                 \
					seq_ += k_;                                            \
					left_ -= k_;                                           \
				}                                                              \
			}                                                                      \
			spsc_call_counters(st, "push", seq_, ok_, fail_);                      \
		} else {                                                                       \
			while ((n_ = cbench_next_batch(st, SPSC_BATCH))) {                     \
				uint64_t left_ = n_;                                           \
				while (left_ && !spsc_aborted(abortp)) {                       \
					uint64_t cnt = left_ < SPSC_BURST ? left_ : SPSC_BURST; \
					uint64_t k_ = (POPN);                                  \
					if (k_ == 0) {                                         \
						fail_++;                                       \
						spsc_relax();                                  \
						continue;                                      \
					}                                                      \
					ok_++;                                                 \
					for (uint64_t j_ = 0; j_ < k_; j_++)                   \
						if (buf[j_].seq != seq_ + j_)                  \
							spsc_abort(st, abortp,                 \
								   "FIFO order broken");       \
					seq_ += k_;                                            \
					left_ -= k_;                                           \
				}                                                              \
				total_ += n_;                                                  \
			}                                                                      \
			cbench_set_items_processed(st, (int64_t)total_);                       \
			spsc_call_counters(st, "pop", seq_, ok_, fail_);                       \
		}                                                                              \
	} while (0)

/* Round trip: thread 0 pushes into ring A and waits for the echo from ring
 * B; thread 1 echoes.  Counter rtt_ns = thread 0's wall time per trip. */
#define SPSC_RTT(st, abortp, T, PUSH_A, POP_A, PUSH_B, POP_B)                                  \
	do {                                                                                   \
		int tid_ = cbench_thread_index(st);                                            \
		uint64_t n_, seq_ = 0, t0_ = 0;                                                \
		T it;                                                                          \
		memset(&it, 0, sizeof it);                                                     \
		spsc_pin(tid_);                                                                \
		while ((n_ = cbench_next_batch(st, 64))) {                                     \
			if (seq_ == 0)                                                         \
				t0_ = spsc_now_ns();                                           \
			for (uint64_t i_ = 0; i_ < n_ && !spsc_aborted(abortp); i_++, seq_++) { \
				if (tid_ == 0) {                                               \
					it.seq = seq_;                                         \
					while (!(PUSH_A))                                      \
						spsc_relax();                                  \
					while (!(POP_B) && !spsc_aborted(abortp))              \
						spsc_relax();                                  \
				} else {                                                       \
					while (!(POP_A) && !spsc_aborted(abortp))              \
						spsc_relax();                                  \
					while (!(PUSH_B))                                      \
						spsc_relax();                                  \
				}                                                              \
				if (it.seq != seq_)                                            \
					spsc_abort(st, abortp, "echo out of order");           \
			}                                                                      \
		}                                                                              \
		if (tid_ == 0 && seq_)                                                         \
			cbench_counter(st, "rtt_ns", (double)(spsc_now_ns() - t0_) / (double)seq_, \
				       CBENCH_COUNTER_PLAIN);                                  \
	} while (0)

/* One thread, no contention: push 16 then pop 16, per 16 iterations.  The
 * cost of the code path alone (use with scripts/icount.sh). */
#define SPSC_UNCONTENDED(st, T, PUSH, POP)                                                     \
	do {                                                                                   \
		uint64_t n_, seq_ = 0, out_ = 0;                                               \
		T it;                                                                          \
		memset(&it, 0, sizeof it);                                                     \
		while ((n_ = cbench_next_batch(st, 16))) {                                     \
			for (uint64_t i_ = 0; i_ < n_; i_++) {                                 \
				it.seq = seq_++;                                               \
				if (!(PUSH))                                                   \
					cbench_skip_with_error(st, "push failed");             \
			}                                                                      \
			for (uint64_t i_ = 0; i_ < n_; i_++) {                                 \
				if (!(POP) || it.seq != out_++)                                \
					cbench_skip_with_error(st, "pop failed");              \
			}                                                                      \
		}                                                                              \
		cbench_set_items_processed(st, (int64_t)seq_);                                 \
	} while (0)

/* One thread, bursts: push up to SPSC_BURST with one call, pop them with one
 * call.  PUSHN / POPN as in SPSC_BURSTY; both must take all cnt. */
#define SPSC_UNCONTENDED_BURST(st, T, PUSHN, POPN)                                             \
	do {                                                                                   \
		uint64_t n_, seq_ = 0;                                                         \
		T buf[SPSC_BURST];                                                             \
		memset(buf, 0, sizeof buf);                                                    \
		while ((n_ = cbench_next_batch(st, SPSC_BURST))) {                             \
			uint64_t cnt = n_;                                                     \
			for (uint64_t j_ = 0; j_ < cnt; j_++)                                  \
				buf[j_].seq = seq_ + j_;                                       \
			if ((PUSHN) != cnt)                                                    \
				cbench_skip_with_error(st, "push failed");                     \
			for (uint64_t j_ = 0; j_ < cnt; j_++)                                  \
				buf[j_].seq = 0;                                               \
			if ((POPN) != cnt)                                                     \
				cbench_skip_with_error(st, "pop failed");                      \
			for (uint64_t j_ = 0; j_ < cnt; j_++)                                  \
				if (buf[j_].seq != seq_ + j_)                                  \
					cbench_skip_with_error(st, "FIFO order broken");       \
			seq_ += cnt;                                                           \
		}                                                                              \
		cbench_set_items_processed(st, (int64_t)seq_);                                 \
	} while (0)

#ifdef __cplusplus
extern "C" {
#endif
/* C++ adapters (bench/peers/spsc_*.cc), registered by bench/ring_spsc.c. */
void bm_boost_single(cbench_state *st, void *ctx);
void bm_boost_uncontended(cbench_state *st, void *ctx);
void bm_boost_uncontended_64b(cbench_state *st, void *ctx);
void bm_boost_uncontended_burst32(cbench_state *st, void *ctx);
void bm_boost_uncontended_burst32_64b(cbench_state *st, void *ctx);
void bm_boost_single_64b(cbench_state *st, void *ctx);
void bm_boost_burst32(cbench_state *st, void *ctx);
void bm_boost_burst32_64b(cbench_state *st, void *ctx);
void bm_boost_rtt(cbench_state *st, void *ctx);
void bm_moodycamel_single(cbench_state *st, void *ctx);
void bm_moodycamel_uncontended(cbench_state *st, void *ctx);
void bm_moodycamel_uncontended_64b(cbench_state *st, void *ctx);
void bm_moodycamel_single_64b(cbench_state *st, void *ctx);
void bm_moodycamel_rtt(cbench_state *st, void *ctx);
#ifdef AK_HAVE_DPDK /* bench/peers/spsc_dpdk.cc */
void bm_dpdk_single(cbench_state *st, void *ctx);
void bm_dpdk_single_64b(cbench_state *st, void *ctx);
void bm_dpdk_burst32(cbench_state *st, void *ctx);
void bm_dpdk_burst32_64b(cbench_state *st, void *ctx);
void bm_dpdk_rtt(cbench_state *st, void *ctx);
void bm_dpdk_uncontended(cbench_state *st, void *ctx);
void bm_dpdk_uncontended_burst32(cbench_state *st, void *ctx);
#endif
#ifdef __cplusplus
}
#endif

#endif /* ATOMKIT_BENCH_PEERS_SPSC_H */
