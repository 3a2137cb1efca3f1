/*
 * Stress: cancel tokens under more threads than cores.
 *
 * Rounds r = 0..ops-1, each with its own root token.  Thread r%T is the
 * canceller (with T >= 3, thread (r+1)%T races it with another cause);
 * every other thread is an observer.  Observers, at random:
 *   - spin on ak_cancel_is_set, or block in ak_cancel_wait;
 *   - register a callback on the root (then deregister it);
 *   - build a chain of 1..3 children under the root, each with a callback,
 *     wait on the deepest, or detach the chain while the root is being
 *     cancelled concurrently.
 * Invariants, counted:
 *   publication  the winner's plain data write is seen by every observer
 *   first cause  exactly one request returns true per round, and every
 *                observer (and every descendant) reads the winner's cause
 *   wake         every waiter returns AK_OK (none lost, none timed out)
 *   callbacks    every callback registered on a cancelled token ran exactly
 *                once; a child detached before the cancel ran its callback
 *                0 or 1 times, matching whether it was cancelled
 *   teardown     every root destroys with AK_OK (nothing left linked)
 */
#include <atomkit/cancel.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "stress.h"

#define MAXT 64
#define MAXDEPTH 3

struct round {
	ak_cancel root;
	uint64_t data[2]; /* plain: written by each canceller before requesting */
	_Atomic(uint32_t) wins;
	_Atomic(uint32_t) cb_runs;
	_Atomic(uint32_t) cb_regs;
	_Atomic(uint32_t) cb_removed; /* deregistered before the cancel reached them */
};

struct shared {
	struct round *rounds;
	uint64_t nrounds;
	/* per-thread tallies, read after join */
	uint64_t observed[MAXT], waited[MAXT], chains[MAXT], detached[MAXT];
	uint64_t child_cbs[MAXT], bad[MAXT];
};

static void count_cb(void *arg)
{
	atomic_fetch_add_explicit((_Atomic(uint32_t) *)arg, 1, memory_order_relaxed);
}

static uint64_t expect_data(uint64_t r, unsigned slot)
{
	return stress_mix(r * 2 + slot) | 1;
}

/* Verify what an observer must see once the token `t` is cancelled. */
static uint64_t verify(struct round *rd, uint64_t r, const ak_cancel *t)
{
	int cause = ak_cancel_cause(t);
	unsigned slot;

	if (cause != 1000 && cause != 1001)
		return 1;
	slot = (unsigned)(cause - 1000);
	/* publication: the winner wrote data[slot] before its request */
	return rd->data[slot] == expect_data(r, slot) ? 0 : 1;
}

static void observer(struct stress_thread *t, struct shared *s, uint64_t r)
{
	struct round *rd = &s->rounds[r];
	unsigned id = t->id;
	uint64_t pick = stress_rand(t);
	ak_cancel_cb cb = { 0 };
	_Atomic(uint32_t) my_runs;
	int with_cb = (pick >> 4) & 1;

	atomic_init(&my_runs, 0);
	if (with_cb) {
		atomic_fetch_add_explicit(&rd->cb_regs, 1, memory_order_relaxed);
		if (ak_cancel_cb_register(&rd->root, &cb, count_cb, &my_runs) != AK_OK)
			s->bad[id]++;
	}
	switch (pick & 3) {
	case 0: /* spin on the check */
		while (!ak_cancel_is_set(&rd->root))
			sched_yield();
		s->bad[id] += verify(rd, r, &rd->root);
		break;
	case 1: /* block */
		if (ak_cancel_wait(&rd->root, AK_DEADLINE_NONE) != AK_OK)
			s->bad[id]++;
		s->waited[id]++;
		s->bad[id] += verify(rd, r, &rd->root);
		break;
	default: { /* a chain of children */
		ak_cancel chain[MAXDEPTH];
		ak_cancel_cb ccb[MAXDEPTH];
		_Atomic(uint32_t) runs[MAXDEPTH];
		unsigned depth = 1 + (unsigned)((pick >> 8) % MAXDEPTH);
		int detach = (pick & 3) == 3 && ((pick >> 12) & 1);

		memset(ccb, 0, sizeof(ccb));
		for (unsigned d = 0; d < depth; d++) {
			atomic_init(&runs[d], 0);
			if (ak_cancel_init_child(&chain[d], d ? &chain[d - 1] : &rd->root) != AK_OK)
				s->bad[id]++;
			if (ak_cancel_cb_register(&chain[d], &ccb[d], count_cb, &runs[d]) != AK_OK)
				s->bad[id]++;
		}
		s->chains[id]++;
		if (detach) {
			/* races the canceller: the top link may or may not
			 * have been followed; either way exactly-once holds */
			if (ak_cancel_detach(&chain[0]) != AK_OK)
				s->bad[id]++;
			s->detached[id]++;
			for (unsigned d = 0; d < depth; d++) {
				if (ak_cancel_cb_deregister(&chain[d], &ccb[d]) != AK_OK)
					s->bad[id]++;
				uint32_t n = atomic_load_explicit(&runs[d], memory_order_relaxed);
				/* ran exactly once iff it ran; and it can only
				 * have run on a cancelled child */
				if (n != (ak_cancel_cb_ran(&ccb[d]) ? 1u : 0u) ||
				    (n && !ak_cancel_is_set(&chain[d])))
					s->bad[id]++;
				s->child_cbs[id] += n;
			}
		} else {
			if (ak_cancel_wait(&chain[depth - 1], AK_DEADLINE_NONE) != AK_OK)
				s->bad[id]++;
			s->waited[id]++;
			for (unsigned d = 0; d < depth; d++) {
				s->bad[id] += verify(rd, r, &chain[d]);
				/* deregister waits if the callback is mid-run */
				if (ak_cancel_cb_deregister(&chain[d], &ccb[d]) != AK_OK)
					s->bad[id]++;
				/* the waiter may remove a callback the propagation
				 * has not reached yet: then it never runs */
				uint32_t n = atomic_load_explicit(&runs[d], memory_order_relaxed);
				if (n != (ak_cancel_cb_ran(&ccb[d]) ? 1u : 0u))
					s->bad[id]++;
				s->child_cbs[id] += n;
			}
			/* a second request on a descendant changes nothing */
			if (ak_cancel_request(&chain[depth - 1], 5))
				s->bad[id]++;
		}
		for (unsigned d = depth; d-- > 0;)
			if (ak_cancel_destroy(&chain[d]) != AK_OK)
				s->bad[id]++;
		break;
	}
	}
	if (with_cb) {
		/* the root may be cancelled but the callback still running */
		if (ak_cancel_cb_deregister(&rd->root, &cb) != AK_OK)
			s->bad[id]++;
		uint32_t n = atomic_load_explicit(&my_runs, memory_order_relaxed);
		if (n != (ak_cancel_cb_ran(&cb) ? 1u : 0u))
			s->bad[id]++;
		atomic_fetch_add_explicit(&rd->cb_runs, n, memory_order_relaxed);
		if (!ak_cancel_cb_ran(&cb))
			atomic_fetch_add_explicit(&rd->cb_removed, 1, memory_order_relaxed);
	}
	s->observed[id]++;
}

static void worker(struct stress_thread *t)
{
	struct shared *s = t->arg;
	unsigned n = t->nthreads;

	for (uint64_t r = 0; r < s->nrounds; r++) {
		struct round *rd = &s->rounds[r];
		unsigned c1 = (unsigned)(r % n), c2 = (unsigned)((r + 1) % n);

		if (t->id == c1 || (n >= 3 && t->id == c2)) {
			unsigned slot = t->id == c1 ? 0 : 1;
			rd->data[slot] = expect_data(r, slot);
			if (ak_cancel_request(&rd->root, 1000 + (int)slot))
				atomic_fetch_add_explicit(&rd->wins, 1, memory_order_relaxed);
			/* once request returns, every check sees it */
			if (!ak_cancel_is_set(&rd->root))
				s->bad[t->id]++;
		} else {
			observer(t, s, r);
		}
	}
}

int main(int argc, char **argv)
{
	struct stress_cfg cfg;
	static struct shared s;
	uint64_t observed = 0, waited = 0, chains = 0, detached = 0, child_cbs = 0, bad = 0;
	uint64_t cb_runs = 0, cb_removed = 0;

	stress_init(&cfg, argc, argv, "cancel", 4, 20000);
	STRESS_CHECK(cfg.threads >= 2 && cfg.threads <= MAXT, "2 to %d threads", MAXT);
	s.nrounds = cfg.ops;
	s.rounds = calloc(s.nrounds, sizeof(*s.rounds));
	STRESS_CHECK(s.rounds != NULL, "out of memory");
	for (uint64_t r = 0; r < s.nrounds; r++)
		STRESS_CHECK(ak_cancel_init(&s.rounds[r].root) == AK_OK, "init");

	stress_run(&cfg, worker, &s);

	for (unsigned i = 0; i < cfg.threads; i++) {
		observed += s.observed[i];
		waited += s.waited[i];
		chains += s.chains[i];
		detached += s.detached[i];
		child_cbs += s.child_cbs[i];
		bad += s.bad[i];
	}
	for (uint64_t r = 0; r < s.nrounds; r++) {
		struct round *rd = &s.rounds[r];
		uint32_t w = atomic_load_explicit(&rd->wins, memory_order_relaxed);
		uint32_t runs = atomic_load_explicit(&rd->cb_runs, memory_order_relaxed);
		uint32_t regs = atomic_load_explicit(&rd->cb_regs, memory_order_relaxed);
		uint32_t removed = atomic_load_explicit(&rd->cb_removed, memory_order_relaxed);
		STRESS_CHECK(w == 1, "round %llu: %u requests won (want 1)", (unsigned long long)r, w);
		STRESS_CHECK(runs + removed == regs,
			     "round %llu: %u callbacks ran + %u removed != %u registered",
			     (unsigned long long)r, runs, removed, regs);
		cb_removed += removed;
		STRESS_CHECK(ak_cancel_destroy(&rd->root) == AK_OK, "round %llu: destroy failed",
			     (unsigned long long)r);
		cb_runs += runs;
	}
	uint64_t want_obs = s.nrounds * (cfg.threads - (cfg.threads >= 3 ? 2 : 1));
	STRESS_CHECK(observed == want_obs, "observations %llu != %llu",
		     (unsigned long long)observed, (unsigned long long)want_obs);
	STRESS_CHECK(bad == 0, "%llu violations (publication, cause, wake or exactly-once)",
		     (unsigned long long)bad);
	free(s.rounds);
	stress_pass(&cfg,
		    "%llu rounds, 1 winner each; %llu observations (%llu blocking waits) saw the "
		    "winner's cause and data; root callbacks: %llu ran exactly once + %llu removed "
		    "first = registered; %llu chains (%llu detached mid-cancel), %llu child "
		    "callbacks ran exactly once; 0 lost, 0 dup",
		    (unsigned long long)s.nrounds, (unsigned long long)observed,
		    (unsigned long long)waited, (unsigned long long)cb_runs,
		    (unsigned long long)cb_removed,
		    (unsigned long long)chains, (unsigned long long)detached,
		    (unsigned long long)child_cbs);
	return 0;
}
