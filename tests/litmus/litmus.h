/*
 * tests/litmus/litmus.h - a jcstress-style outcome harness.
 *
 * A litmus test runs two (or more) tiny actor functions against fresh
 * shared state, many times, and counts the outcomes the actors observed.
 * Each outcome is ACCEPTABLE or FORBIDDEN; the test fails if any FORBIDDEN
 * outcome is seen, and (to show the test exercised the race at all) if the
 * "interesting" interleavings it needs never showed up.
 *
 * The actors of one iteration must really overlap, or nothing is tested,
 * so the harness does not start threads per iteration: `batch` copies of
 * the state sit in an array, each actor thread sweeps the array after a
 * spin barrier, so iteration i of every actor runs at about the same time.
 * On a loaded machine one actor may be descheduled for a whole sweep, so
 * the harness measures overlap: each actor publishes how far it got
 * (relaxed, on its own cache line: no ordering for the variables under
 * test) and an iteration counts as overlapped when, as it ran, another
 * actor was inside the same sweep.  Sweeps continue until the requested
 * number of overlapped iterations is reached (or 20x the sweeps, or 60 s),
 * and the required outcomes must show up among overlapped iterations.
 *
 * Usage:
 *     static void actor0(struct state *s, int *r) { ... r[0] = ...; }
 *     static void actor1(struct state *s, int *r) { ... r[1] = ...; }
 *     litmus_run(&cfg, ...)   (see the tests)
 *
 * Iterations: LITMUS_ITERS (env) or -n N; default given by the test.
 * Every test prints "<name> ok: N iterations, outcome histogram..., 0 forbidden".
 */
#ifndef ATOMKIT_TESTS_LITMUS_H
#define ATOMKIT_TESTS_LITMUS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LITMUS_MAX_ACTORS 4
#define LITMUS_MAX_OUTCOMES 16

struct litmus {
	const char *name;
	unsigned nactors;
	size_t state_size;             /* bytes per iteration's state */
	size_t batch;                  /* iterations per sweep */
	void (*reset)(void *state);    /* fresh state (single-threaded) */
	void (*actor[LITMUS_MAX_ACTORS])(void *state, int *res);
	/* classify the results of one iteration: returns an outcome index */
	unsigned (*outcome)(const int *res, const void *state);
	const char *outcome_name[LITMUS_MAX_OUTCOMES];
	int forbidden[LITMUS_MAX_OUTCOMES];
	int must_see[LITMUS_MAX_OUTCOMES]; /* the race was exercised */
};

struct litmus_progress_ {
	_Atomic(size_t) at; /* iterations done in the current sweep */
	char pad[128 - sizeof(size_t)];
};

struct litmus_run_ {
	const struct litmus *t;
	unsigned char *states;
	int *res; /* batch x LITMUS_MAX_ACTORS */
	unsigned char *ovl; /* per iteration: another actor was mid-sweep */
	_Atomic(unsigned) arrive;
	_Atomic(unsigned) gen;
	_Atomic(int) stop;
	struct litmus_progress_ prog[LITMUS_MAX_ACTORS];
};

/* Run actor `a` over the batch, noting overlap with the next actor. */
static inline void litmus_sweep_(struct litmus_run_ *r, unsigned a)
{
	const struct litmus *t = r->t;
	unsigned other = (a + 1) % t->nactors;

	for (size_t i = 0; i < t->batch; i++) {
		size_t p;
		t->actor[a](r->states + i * t->state_size, r->res + i * LITMUS_MAX_ACTORS);
		atomic_store_explicit(&r->prog[a].at, i + 1, memory_order_relaxed);
		p = atomic_load_explicit(&r->prog[other].at, memory_order_relaxed);
		if (p > 0 && p < t->batch)
			r->ovl[i] = 1;
	}
}

struct litmus_arg_ {
	struct litmus_run_ *run;
	unsigned id;
};

#include <time.h>

static inline double ak_litmus_now_(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A sense-reversing spin barrier among the actor threads. */
static inline void litmus_barrier_(struct litmus_run_ *r)
{
	unsigned g = atomic_load_explicit(&r->gen, memory_order_acquire); /* pairs with the release below */
	if (atomic_fetch_add_explicit(&r->arrive, 1, memory_order_acq_rel) + 1 == r->t->nactors) {
		atomic_store_explicit(&r->arrive, 0, memory_order_relaxed);
		atomic_store_explicit(&r->gen, g + 1, memory_order_release); /* pairs with the acquire above */
		return;
	}
	/* Spin (no yield): the actors must leave the barrier together or
	 * their sweeps do not overlap.  Yield only after a long wait, for
	 * an oversubscribed machine. */
	for (unsigned long n = 0; atomic_load_explicit(&r->gen, memory_order_acquire) == g; n++) /* pairs with the release above */
		if (n > 100000)
			sched_yield();
		else
			__builtin_ia32_pause();
}

static inline void *litmus_thread_(void *p)
{
	struct litmus_arg_ *a = (struct litmus_arg_ *)p;
	struct litmus_run_ *r = a->run;
	const struct litmus *t = r->t;

	(void)t;
	for (;;) {
		/* thread 0 resets and classifies between the two barriers */
		litmus_barrier_(r);
		if (atomic_load_explicit(&r->stop, memory_order_relaxed))
			break;
		litmus_sweep_(r, a->id);
		litmus_barrier_(r);
		litmus_barrier_(r);
	}
	return NULL;
}

/* The iteration count: `dflt`, or LITMUS_ITERS, times LITMUS_SCALE, or -n N. */
static inline uint64_t litmus_iters(int argc, char **argv, uint64_t dflt)
{
	const char *env = getenv("LITMUS_ITERS");
	const char *scale = getenv("LITMUS_SCALE");
	uint64_t iters = dflt;

	if (env)
		iters = strtoull(env, NULL, 0);
	if (scale)
		iters = (uint64_t)((double)iters * strtod(scale, NULL));
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "-n"))
			iters = strtoull(argv[i + 1], NULL, 0);
	return iters;
}

/*
 * Streaming tests (one thread writes as fast as it can, the test thread
 * reads and checks each read) count how many changes the reader observed.
 * On a loaded machine the threads may not run at the same time for a
 * while, so a reader keeps going after its `n` reads until it has seen
 * LITMUS_STREAM_MIN changes, or until `t_end` (checked every 4096 reads).
 */
#define LITMUS_STREAM_MIN 100
#define LITMUS_STREAM_SECONDS 20.0

static inline int litmus_stream_more(uint64_t i, uint64_t n, uint64_t changes, double t_end)
{
	return i < n || (changes < LITMUS_STREAM_MIN && ((i & 4095) || ak_litmus_now_() < t_end));
}

/* Exit status of a streaming test: 1 if anything forbidden was counted,
 * or if the reads overlapped too few changes to prove anything. */
static inline int litmus_stream_verdict(const char *name, uint64_t forbidden, uint64_t changes)
{
	if (forbidden) {
		fprintf(stderr, "%s: %" PRIu64 " FORBIDDEN outcomes\n", name, forbidden);
		return 1;
	}
	if (changes < LITMUS_STREAM_MIN) {
		fprintf(stderr, "%s: reads overlapped only %" PRIu64 " changes; the test proved nothing\n",
			name, changes);
		return 1;
	}
	return 0;
}

/* Run; returns the process exit status. */
static inline int litmus_main(const struct litmus *t, int argc, char **argv, uint64_t default_iters)
{
	uint64_t iters = litmus_iters(argc, argv, default_iters), seen[LITMUS_MAX_OUTCOMES] = { 0 }, bad = 0;
	uint64_t seen_ovl[LITMUS_MAX_OUTCOMES] = { 0 }, overlapped = 0, sweeps = 0, max_sweeps;
	double t_end;
	struct litmus_run_ r;
	struct litmus_arg_ args[LITMUS_MAX_ACTORS];
	pthread_t th[LITMUS_MAX_ACTORS];
	int status = 0;

	memset(&r, 0, sizeof r);
	r.t = t;
	max_sweeps = 20 * ((iters + t->batch - 1) / t->batch + 1);
	t_end = ak_litmus_now_() + 60.0;
	r.ovl = (unsigned char *)calloc(t->batch, 1);
	r.states = (unsigned char *)aligned_alloc(128, ((t->batch * t->state_size + 127) / 128) * 128);
	r.res = (int *)calloc(t->batch * LITMUS_MAX_ACTORS, sizeof(int));
	if (!r.states || !r.res || !r.ovl) {
		fprintf(stderr, "%s: out of memory\n", t->name);
		return 1;
	}
	atomic_init(&r.arrive, 0);
	atomic_init(&r.gen, 0);
	atomic_init(&r.stop, 0);
	for (size_t i = 0; i < t->batch; i++)
		t->reset(r.states + i * t->state_size);
	/* actors 1.. on threads; actor 0 on this thread, which also resets
	 * and classifies between sweeps */
	for (unsigned a = 1; a < t->nactors; a++) {
		args[a].run = &r;
		args[a].id = a;
		pthread_create(&th[a], NULL, litmus_thread_, &args[a]);
	}
	for (;;) {
		for (unsigned a = 0; a < t->nactors; a++)
			atomic_store_explicit(&r.prog[a].at, 0, memory_order_relaxed);
		if (overlapped >= iters || sweeps >= max_sweeps || ak_litmus_now_() > t_end)
			atomic_store_explicit(&r.stop, 1, memory_order_relaxed);
		litmus_barrier_(&r);
		if (atomic_load_explicit(&r.stop, memory_order_relaxed))
			break;
		litmus_sweep_(&r, 0);
		litmus_barrier_(&r);
		sweeps++;
		for (size_t i = 0; i < t->batch; i++) {
			void *st = r.states + i * t->state_size;
			unsigned o = t->outcome(r.res + i * LITMUS_MAX_ACTORS, st);
			if (o >= LITMUS_MAX_OUTCOMES)
				o = LITMUS_MAX_OUTCOMES - 1;
			seen[o]++;
			if (r.ovl[i]) {
				seen_ovl[o]++;
				overlapped++;
			}
			if (t->forbidden[o])
				bad++;
			t->reset(st);
			r.ovl[i] = 0;
			memset(r.res + i * LITMUS_MAX_ACTORS, 0, LITMUS_MAX_ACTORS * sizeof(int));
		}
		litmus_barrier_(&r);
	}
	for (unsigned a = 1; a < t->nactors; a++)
		pthread_join(th[a], NULL);

	printf("%s: %" PRIu64 " iterations, %" PRIu64 " overlapped (outcomes: all / overlapped)\n",
	       t->name, sweeps * t->batch, overlapped);
	for (unsigned o = 0; o < LITMUS_MAX_OUTCOMES; o++) {
		if (!t->outcome_name[o])
			continue;
		printf("  %-12s %-40s %12" PRIu64 " %12" PRIu64 "\n",
		       t->forbidden[o] ? "FORBIDDEN" : (t->must_see[o] ? "REQUIRED" : "acceptable"),
		       t->outcome_name[o], seen[o], seen_ovl[o]);
		if (t->must_see[o] && seen_ovl[o] == 0) {
			fprintf(stderr, "%s: outcome \"%s\" never seen: the actors did not race; "
					"the test proved nothing\n", t->name, t->outcome_name[o]);
			status = 1;
		}
	}
	if (bad) {
		fprintf(stderr, "%s: %" PRIu64 " FORBIDDEN outcomes\n", t->name, bad);
		status = 1;
	}
	if (!status)
		printf("%s ok: %" PRIu64 " iterations (%" PRIu64 " overlapped), 0 forbidden\n",
		       t->name, sweeps * t->batch, overlapped);
	free(r.states);
	free(r.res);
	free(r.ovl);
	return status;
}

#endif /* ATOMKIT_TESTS_LITMUS_H */
