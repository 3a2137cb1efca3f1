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
 * so the harness does not start threads per iteration: LITMUS_BATCH copies
 * of the state sit in an array, each actor thread sweeps the array after a
 * spin barrier, so iteration i of every actor runs at about the same time.
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

struct litmus_run_ {
	const struct litmus *t;
	unsigned char *states;
	int *res; /* batch x LITMUS_MAX_ACTORS */
	_Atomic(unsigned) arrive;
	_Atomic(unsigned) gen;
	uint64_t sweeps;
};

struct litmus_arg_ {
	struct litmus_run_ *run;
	unsigned id;
};

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

	for (uint64_t s = 0; s < r->sweeps; s++) {
		/* thread 0 resets and classifies between the two barriers */
		litmus_barrier_(r);
		for (size_t i = 0; i < t->batch; i++)
			t->actor[a->id](r->states + i * t->state_size, r->res + i * LITMUS_MAX_ACTORS);
		litmus_barrier_(r);
		litmus_barrier_(r);
	}
	return NULL;
}

/* Run; returns the process exit status. */
static inline int litmus_main(const struct litmus *t, int argc, char **argv, uint64_t default_iters)
{
	uint64_t iters = default_iters, seen[LITMUS_MAX_OUTCOMES] = { 0 }, bad = 0;
	const char *env = getenv("LITMUS_ITERS");
	const char *scale = getenv("LITMUS_SCALE");
	struct litmus_run_ r;
	struct litmus_arg_ args[LITMUS_MAX_ACTORS];
	pthread_t th[LITMUS_MAX_ACTORS];
	int status = 0;

	if (env)
		iters = strtoull(env, NULL, 0);
	if (scale)
		iters = (uint64_t)((double)iters * strtod(scale, NULL));
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "-n"))
			iters = strtoull(argv[i + 1], NULL, 0);
	memset(&r, 0, sizeof r);
	r.t = t;
	r.sweeps = (iters + t->batch - 1) / t->batch;
	if (r.sweeps == 0)
		r.sweeps = 1;
	r.states = (unsigned char *)aligned_alloc(128, ((t->batch * t->state_size + 127) / 128) * 128);
	r.res = (int *)calloc(t->batch * LITMUS_MAX_ACTORS, sizeof(int));
	if (!r.states || !r.res) {
		fprintf(stderr, "%s: out of memory\n", t->name);
		return 1;
	}
	atomic_init(&r.arrive, 0);
	atomic_init(&r.gen, 0);
	for (size_t i = 0; i < t->batch; i++)
		t->reset(r.states + i * t->state_size);
	/* actors 1.. on threads; actor 0 on this thread, which also resets
	 * and classifies between sweeps */
	for (unsigned a = 1; a < t->nactors; a++) {
		args[a].run = &r;
		args[a].id = a;
		pthread_create(&th[a], NULL, litmus_thread_, &args[a]);
	}
	for (uint64_t s = 0; s < r.sweeps; s++) {
		litmus_barrier_(&r);
		for (size_t i = 0; i < t->batch; i++)
			t->actor[0](r.states + i * t->state_size, r.res + i * LITMUS_MAX_ACTORS);
		litmus_barrier_(&r);
		for (size_t i = 0; i < t->batch; i++) {
			void *st = r.states + i * t->state_size;
			unsigned o = t->outcome(r.res + i * LITMUS_MAX_ACTORS, st);
			if (o >= LITMUS_MAX_OUTCOMES)
				o = LITMUS_MAX_OUTCOMES - 1;
			seen[o]++;
			if (t->forbidden[o])
				bad++;
			t->reset(st);
			memset(r.res + i * LITMUS_MAX_ACTORS, 0, LITMUS_MAX_ACTORS * sizeof(int));
		}
		litmus_barrier_(&r);
	}
	for (unsigned a = 1; a < t->nactors; a++)
		pthread_join(th[a], NULL);

	printf("%s: %" PRIu64 " iterations\n", t->name, r.sweeps * t->batch);
	for (unsigned o = 0; o < LITMUS_MAX_OUTCOMES; o++) {
		if (!t->outcome_name[o])
			continue;
		printf("  %-12s %-40s %12" PRIu64 "\n",
		       t->forbidden[o] ? "FORBIDDEN" : (t->must_see[o] ? "REQUIRED" : "acceptable"),
		       t->outcome_name[o], seen[o]);
		if (t->must_see[o] && seen[o] == 0) {
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
		printf("%s ok: %" PRIu64 " iterations, 0 forbidden\n", t->name, r.sweeps * t->batch);
	free(r.states);
	free(r.res);
	return status;
}

#endif /* ATOMKIT_TESTS_LITMUS_H */
