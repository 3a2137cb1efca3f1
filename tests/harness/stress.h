/*
 * tests/harness/stress.h - the stress harness shared by every family.
 *
 * A stress test is a program:
 *
 *     static void worker(struct stress_thread *t) { ... t->id, stress_rand(t) ... }
 *     int main(int argc, char **argv) {
 *         struct stress_cfg cfg;
 *         stress_init(&cfg, argc, argv, "counter", 4, 200000);
 *         ... set up shared state ...
 *         stress_run(&cfg, worker, &shared);
 *         STRESS_CHECK(total == expected, "total %llu != %llu", ...);
 *         stress_pass(&cfg, "%llu ops verified, 0 lost", ...);
 *     }
 *
 * Options (argv wins over the environment):
 *   -t N   threads            (STRESS_THREADS)
 *   -n N   ops per thread     (STRESS_OPS)
 *   -s S   seed, 0 = random   (STRESS_SEED)       the seed is always printed
 *   -p     pin threads round-robin to CPUs (STRESS_PIN=1)
 *   STRESS_SCALE=F multiplies the default op count (e.g. 0.1 for quick runs).
 *
 * Every worker starts at a barrier, so all threads contend from the first
 * operation.  Each thread gets its own xorshift RNG seeded from (seed, id),
 * so a run is replayable up to scheduling.  STRESS_CHECK prints the
 * failure, the seed and the replay command, and exits 1.
 */
#ifndef ATOMKIT_TESTS_STRESS_H
#define ATOMKIT_TESTS_STRESS_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct stress_cfg {
	const char *name;
	const char *argv0;
	unsigned threads;
	uint64_t ops;  /* per thread */
	uint64_t seed;
	int pin;
};

struct stress_thread {
	unsigned id;       /* 0 .. threads-1 */
	unsigned nthreads;
	uint64_t rng;      /* private xorshift64* state */
	uint64_t ops;      /* ops this thread should do */
	void *arg;         /* the pointer given to stress_run */
	const struct stress_cfg *cfg;
	void *start_;      /* harness-private */
};

typedef void (*stress_fn)(struct stress_thread *t);

/* Parse options, choose and print the seed. */
void stress_init(struct stress_cfg *cfg, int argc, char **argv, const char *name,
		 unsigned default_threads, uint64_t default_ops);

/* Run fn on cfg->threads threads that start together; joins them all. */
void stress_run(const struct stress_cfg *cfg, stress_fn fn, void *arg);

/* Same, with an explicit thread count (for tests that mix roles). */
void stress_run_n(const struct stress_cfg *cfg, unsigned nthreads, stress_fn fn, void *arg);

/* Wait until every thread of this run reaches the barrier (phases). */
void stress_barrier(struct stress_thread *t);

/* Print "<name> ok: <message>" and the configuration. */
void stress_pass(const struct stress_cfg *cfg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Print a failure with the seed and replay command; exit(1). */
void stress_fail_(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

#define STRESS_CHECK(cond, ...)                                                \
	do {                                                                   \
		if (!(cond))                                                   \
			stress_fail_(__FILE__, __LINE__, __VA_ARGS__);         \
	} while (0)

/* xorshift64*: fast, good enough to pick operations. */
static inline uint64_t stress_rand(struct stress_thread *t)
{
	uint64_t x = t->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t->rng = x;
	return x * UINT64_C(2685821657736338717);
}

/* Uniform-ish integer in [0, n). */
static inline uint64_t stress_below(struct stress_thread *t, uint64_t n)
{
	return n ? stress_rand(t) % n : 0;
}

/* splitmix64, for deriving independent seeds. */
static inline uint64_t stress_mix(uint64_t x)
{
	x += UINT64_C(0x9E3779B97F4A7C15);
	x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
	return x ^ (x >> 31);
}

#endif /* ATOMKIT_TESTS_STRESS_H */
