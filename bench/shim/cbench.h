/*
 * bench/shim/cbench.h - register and drive Google Benchmark (1.7.1) from C.
 *
 * A benchmark is a C function `void fn(cbench_state *st, void *ctx)`:
 *
 *     static void bm_add(cbench_state *st, void *ctx)
 *     {
 *         uint64_t n;
 *         while ((n = cbench_next_batch(st, 1024)))   // batches, not calls
 *             for (uint64_t i = 0; i < n; i++)
 *                 ak_counter_add(ctx, 1);
 *     }
 *     CBENCH_INIT(counter) {                          // runs before main()
 *         static const int threads[] = { 1, 2, 4 };
 *         cbench_register_threads("counter/atomkit/add", bm_add, &c, threads, 3);
 *     }
 *
 * Each call of cbench_next_batch() grants n iterations (the op count the
 * time is divided by); calling through the shim once per iteration costs
 * about 2 ns, too much for ns-scale operations, so loop inside the batch.
 *
 * Threads: a benchmark registered with threads = N runs fn on N threads,
 * each with its own state; no thread enters its loop before all arrive,
 * and none returns before all finish, so setup done by thread 0 before its
 * first cbench_next_batch() is visible to all.  Threaded benchmarks always
 * use real (wall-clock) time: Time = wall time / total ops = the inverse of
 * aggregate throughput.
 *
 * Names follow <family>/<impl>/<workload>; Google Benchmark appends
 * /threads:N (and /<arg> for cbench_register_arg).
 */
#ifndef ATOMKIT_BENCH_CBENCH_H
#define ATOMKIT_BENCH_CBENCH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cbench_state cbench_state;
typedef void (*cbench_fn)(cbench_state *st, void *ctx);

/* Flags for registration. */
#define CBENCH_REAL_TIME 1u /* implied whenever threads > 0 */

/* Grant up to `max` iterations; 0 when the benchmark is done. */
uint64_t cbench_next_batch(cbench_state *st, uint64_t max);
/* One iteration at a time (for µs-scale bodies). */
int cbench_keep_running(cbench_state *st);

int cbench_thread_index(const cbench_state *st);
int cbench_threads(const cbench_state *st);
int64_t cbench_arg(const cbench_state *st); /* the registered arg, or 0 */
void cbench_pause(cbench_state *st);
void cbench_resume(cbench_state *st);

/* Counters shown beside the time; `flags` picks how they aggregate. */
#define CBENCH_COUNTER_PLAIN 0
#define CBENCH_COUNTER_RATE 1    /* value / time */
#define CBENCH_COUNTER_AVG 2     /* averaged over threads */
void cbench_counter(cbench_state *st, const char *name, double value, int flags);
void cbench_set_items_processed(cbench_state *st, int64_t items);
void cbench_set_bytes_processed(cbench_state *st, int64_t bytes);
/* Mark the run failed (it is reported with the message); then return. */
void cbench_skip_with_error(cbench_state *st, const char *msg);
int cbench_error_occurred(const cbench_state *st);

/* threads = 0: single-threaded, no /threads suffix. */
void cbench_register(const char *name, cbench_fn fn, void *ctx, int threads,
		     unsigned flags);
void cbench_register_arg(const char *name, cbench_fn fn, void *ctx, int threads,
			 unsigned flags, int64_t arg);
/* One registration per thread count. */
void cbench_register_threads(const char *name, cbench_fn fn, void *ctx,
			     const int *threads, int nthreads);

/* Initialize, run what the command line selects, shut down. */
int cbench_main(int argc, char **argv);

/* Run a block before main(): each bench/<family>.c registers itself. */
#define CBENCH_INIT(tag)                                                       \
	static void cbench_init_##tag(void) __attribute__((constructor));      \
	static void cbench_init_##tag(void)

#ifdef __cplusplus
}
#endif

#endif /* ATOMKIT_BENCH_CBENCH_H */
