/*
 * Stress: ak_ring_seq's targeted wake-ups lose no sleeper.
 *
 * Every thread but the coordinator (thread 0) only ever waits (pop_wait,
 * push_wait or their bulk forms, deadline far away), so nobody else will
 * ever notify: a wake-up that is lost or too narrow leaves a thread asleep
 * while what it waits for is there, and its round never ends.  The
 * coordinator runs rounds; W = T - 1 waiters take part in each:
 *
 *   A  consumers: each waiter pops one element (one of them, in half the
 *      rounds, a bulk of 2); the coordinator pushes the W (+1) elements as
 *      one bulk, as bursts or one by one.
 *   B  producers: the ring (capacity W + 1) is full; each waiter pushes one
 *      element (or a bulk of 2); the coordinator pops everything as one
 *      bulk, as bursts or one by one, then collects the waiters' elements.
 *   C  a stalled head: the coordinator reserves a slot, pushes W - 1
 *      elements behind it (their wakes find AK_EAGAIN), waits until the
 *      consumers sleep again, then commits: the rest must be handed on
 *      down the chain of woken consumers.
 * The coordinator pushes/pops at once, after a random pause, or once every
 * waiter has registered on the event (so they are in, or entering, the
 * kernel), so the notify lands before, inside and after the waiters'
 * check-register-recheck window.
 *
 * Counted: every element of a round reaches exactly one waiter (values
 * checked), every wait returns AK_OK, the ring is empty between rounds.
 * Real time is used only as a bound: a round that does not finish within
 * STALL_BOUND_S seconds is reported as a lost wake-up (a correct ring
 * finishes a round in microseconds to milliseconds).
 */
#include <atomkit/ring_seq.h>
#include <atomkit/clock.h>
#include <sched.h>
#include <string.h>

#include "stress.h"

#define MAXW 63
#define STALL_BOUND_S 10
#define STOP UINT64_MAX

enum kind { KA, KB, KC };

struct shared {
	ak_ring_seq *r;
	unsigned w;
	/* Written by the coordinator before the release store of `round`. */
	int kind, bulk;
	_Atomic(uint64_t) round;
	_Atomic(unsigned) arrived, done;
	_Atomic(uint64_t) got[MAXW + 1][2];
	_Atomic(uint64_t) bad;
	uint64_t rounds_by_kind[3], syncs[3];
};

static struct shared S;

static uint64_t val(uint64_t round, unsigned who, unsigned j)
{
	return round << 16 | (uint64_t)who << 2 | j;
}

static void waiter(struct stress_thread *t)
{
	uint64_t seen = 0;
	ak_ring_seq *r = S.r;

	for (;;) {
		uint64_t rd, v[2] = { 0, 0 };
		ak_status st;
		/* Acquire: pairs with the release store of round in
		 * coordinator(): kind and bulk are set for this round. */
		while ((rd = atomic_load_explicit(&S.round, memory_order_acquire)) == seen)
			sched_yield();
		if (rd == STOP)
			return;
		seen = rd;
		int bulk = S.bulk && t->id == 1;
		uint64_t dl = ak_deadline_after((uint64_t)6 * STALL_BOUND_S * AK_NS_PER_SEC);
		atomic_fetch_add_explicit(&S.arrived, 1, memory_order_relaxed);
		if (S.kind == KB) {
			v[0] = val(rd, t->id, 0);
			v[1] = val(rd, t->id, 1);
			st = bulk ? ak_ring_seq_push_bulk_wait_mpmc(r, v, 2, dl, NULL)
				  : ak_ring_seq_push_wait_mpmc(r, v, dl, NULL);
		} else {
			st = bulk ? ak_ring_seq_pop_bulk_wait_mpmc(r, v, 2, dl, NULL)
				  : ak_ring_seq_pop_wait_mpmc(r, v, dl, NULL);
			atomic_store_explicit(&S.got[t->id][0], v[0], memory_order_relaxed);
			atomic_store_explicit(&S.got[t->id][1], bulk ? v[1] : 0, memory_order_relaxed);
		}
		if (st != AK_OK)
			atomic_fetch_add_explicit(&S.bad, 1, memory_order_relaxed);
		/* Release: pairs with the acquire load of done in wait_done(). */
		atomic_fetch_add_explicit(&S.done, 1, memory_order_release);
	}
}

static unsigned registered(const ak_ring_seq *r, int pop)
{
	const struct _ak_event *ev = pop ? r->items : r->space;
	return atomic_load_explicit(&ev[0].waiters, memory_order_relaxed) +
	       atomic_load_explicit(&ev[1].waiters, memory_order_relaxed);
}

/*
 * Let the notify land at one of three points of the waiters' wait: at once;
 * after a random pause spanning the waiters' spin phase up to their
 * registration (calibrated from the rounds of the third kind), which is
 * where a waiter that skipped its re-check would miss it; or after every
 * waiter has registered.
 */
static uint64_t calib = 2000; /* pauses from "arrived" to "registered" */

static void sync_point(struct stress_thread *t, int pop)
{
	int how = (int)stress_below(t, 3);
	S.syncs[how]++;
	if (how == 1) {
		/* half the time anywhere up to registration, half the time
		 * close to its end */
		uint64_t p = stress_below(t, 2) ? stress_below(t, calib + calib / 4 + 1)
						: calib - calib / 4 + stress_below(t, calib / 3 + 1);
		for (; p > 0; p--)
			_ak_cpu_relax();
	} else if (how == 2) {
		/* bounded: a waiter still spinning makes this give up, harmlessly */
		uint64_t i = 0;
		for (; i < 200000 && registered(S.r, pop) < S.w; i++)
			if (i < 20000)
				_ak_cpu_relax();
			else
				sched_yield();
		if (S.w == 1 && i < 20000)
			calib = (calib * 7 + i) / 8;
		for (int j = 0; j < 3; j++)
			sched_yield();
	}
}

/* Bounded wait for the ring to reach `size` (the waiters' part of a round). */
static void wait_size(uint64_t rd, size_t size, const char *what)
{
	uint64_t bound = ak_deadline_after((uint64_t)STALL_BOUND_S * AK_NS_PER_SEC);
	while (ak_ring_seq_size(S.r) != size) {
		STRESS_CHECK(ak_now_ns() < bound,
			     "round %llu (%s): the ring stayed at %zu elements (waiting for %zu) "
			     "for %d s with %u of %u waiters not done: lost wake-up",
			     (unsigned long long)rd, what, ak_ring_seq_size(S.r), size,
			     STALL_BOUND_S, S.w - atomic_load_explicit(&S.done, memory_order_relaxed),
			     S.w);
		sched_yield();
	}
}

static void wait_done(uint64_t rd, const char *what)
{
	uint64_t bound = ak_deadline_after((uint64_t)STALL_BOUND_S * AK_NS_PER_SEC);
	/* Acquire: pairs with the release increment of done in waiter(). */
	while (atomic_load_explicit(&S.done, memory_order_acquire) < S.w) {
		STRESS_CHECK(ak_now_ns() < bound,
			     "round %llu (%s): %u of %u waiters still asleep after %d s with %zu "
			     "elements in a ring of %zu: lost wake-up",
			     (unsigned long long)rd, what,
			     S.w - atomic_load_explicit(&S.done, memory_order_relaxed), S.w,
			     STALL_BOUND_S, ak_ring_seq_size(S.r), ak_ring_seq_capacity(S.r));
		sched_yield();
	}
}

/* Push or pop n elements in one of three styles (try forms: they fit). */
static void move(struct stress_thread *t, int push, uint64_t *v, size_t n)
{
	ak_ring_seq *r = S.r;
	size_t i = 0, got;
	int style = (int)stress_below(t, 3);
	while (i < n) {
		ak_status st;
		size_t k = 1;
		if (style == 0) {
			k = n - i;
			st = push ? ak_ring_seq_push_bulk_mpmc(r, v + i, k)
				  : ak_ring_seq_pop_bulk_mpmc(r, v + i, k);
		} else if (style == 1) {
			k = 1 + (size_t)stress_below(t, n - i);
			st = push ? ak_ring_seq_push_burst_mpmc(r, v + i, k, &got)
				  : ak_ring_seq_pop_burst_mpmc(r, v + i, k, &got);
			k = got;
		} else {
			st = push ? ak_ring_seq_push_mpmc(r, v + i) : ak_ring_seq_pop_mpmc(r, v + i);
		}
		if (st == AK_EAGAIN) { /* a waiter mid-operation: rare, retry */
			sched_yield();
			continue;
		}
		STRESS_CHECK(st == AK_OK, "coordinator %s of %zu: %s", push ? "push" : "pop", k,
			     ak_status_name(st));
		i += k;
	}
}

/* Each expected value exactly once among the waiters' results. */
static void check_got(uint64_t rd, const uint64_t *want, size_t n)
{
	size_t seen = 0;
	for (unsigned id = 1; id <= S.w; id++)
		for (int j = 0; j < 2; j++) {
			uint64_t g = atomic_load_explicit(&S.got[id][j], memory_order_relaxed);
			if (!g)
				continue;
			size_t hit = 0;
			for (size_t i = 0; i < n; i++)
				hit += want[i] == g;
			STRESS_CHECK(hit == 1, "round %llu: waiter %u got %llx, not one of the %zu pushed",
				     (unsigned long long)rd, id, (unsigned long long)g, n);
			seen++;
		}
	STRESS_CHECK(seen == n, "round %llu: %zu of %zu elements reached a waiter",
		     (unsigned long long)rd, seen, n);
}

static void coordinator(struct stress_thread *t, uint64_t rounds)
{
	ak_ring_seq *r = S.r;
	uint64_t v[MAXW + 2], fill[MAXW + 2];
	size_t cap = ak_ring_seq_capacity(r);

	for (uint64_t rd = 1; rd <= rounds; rd++) {
		int kind = (int)stress_below(t, 3);
		int bulk = kind != KC && S.w >= 2 && stress_below(t, 2);
		size_t need = S.w + (size_t)bulk;

		S.kind = kind;
		S.bulk = bulk;
		S.rounds_by_kind[kind]++;
		atomic_store_explicit(&S.arrived, 0, memory_order_relaxed);
		atomic_store_explicit(&S.done, 0, memory_order_relaxed);
		for (unsigned id = 1; id <= S.w; id++)
			for (int j = 0; j < 2; j++)
				atomic_store_explicit(&S.got[id][j], 0, memory_order_relaxed);
		if (kind == KB) {
			for (size_t i = 0; i < cap; i++)
				fill[i] = val(rd, 0, 0) | (i << 8) | 3;
			move(t, 1, fill, cap);
		}
		/* Release: pairs with the acquire load of round in waiter(). */
		atomic_store_explicit(&S.round, rd, memory_order_release);
		/* spin first: the pause in sync_point() counts from here */
		for (uint64_t i = 0; atomic_load_explicit(&S.arrived, memory_order_relaxed) < S.w; i++)
			if (i < 2000)
				_ak_cpu_relax();
			else
				sched_yield();

		if (kind == KA) {
			for (size_t i = 0; i < need; i++)
				v[i] = val(rd, 0, 0) | (i << 8) | 1;
			sync_point(t, 1);
			if (bulk) {
				/* enough for the one-element waiters only: the bulk
				 * waiter cannot use them and must not absorb their wakes */
				move(t, 1, v, need - 2);
				wait_size(rd, 0, "consumers before the bulk's elements");
				move(t, 1, v + need - 2, 2);
			} else {
				move(t, 1, v, need);
			}
			wait_done(rd, bulk ? "consumers, one bulk" : "consumers");
			check_got(rd, v, need);
		} else if (kind == KB) {
			uint64_t out[MAXW + 2];
			sync_point(t, 0);
			if (bulk) { /* as above, on the producer side */
				move(t, 0, out, cap - 2);
				wait_size(rd, cap, "producers before the bulk's slots");
				move(t, 0, out + cap - 2, 2);
			} else {
				move(t, 0, out, cap);
			}
			for (size_t i = 0; i < cap; i++)
				STRESS_CHECK(out[i] == fill[i], "round %llu: filler %zu lost",
					     (unsigned long long)rd, i);
			wait_done(rd, bulk ? "producers, one bulk" : "producers");
			move(t, 0, out, need);
			for (unsigned id = 1; id <= S.w; id++)
				for (unsigned j = 0; j < (bulk && id == 1 ? 2u : 1u); j++) {
					size_t hit = 0;
					for (size_t i = 0; i < need; i++)
						hit += out[i] == val(rd, id, j);
					STRESS_CHECK(hit == 1, "round %llu: producer %u element %u seen %zu times",
						     (unsigned long long)rd, id, j, hit);
				}
		} else {
			ak_ring_seq_ref ref;
			ak_status st;
			while ((st = ak_ring_seq_reserve_mpmc(r, &ref)) == AK_EAGAIN)
				sched_yield();
			STRESS_CHECK(st == AK_OK, "reserve: %s", ak_status_name(st));
			for (size_t i = 0; i < need; i++)
				v[i] = val(rd, 0, 0) | (i << 8) | 2;
			if (need > 1)
				move(t, 1, v + 1, need - 1);
			sync_point(t, 1);
			memcpy(ref.ptr, &v[0], sizeof(v[0]));
			ak_ring_seq_commit(r, &ref);
			wait_done(rd, "consumers behind a late commit");
			check_got(rd, v, need);
		}
		STRESS_CHECK(ak_ring_seq_size(r) == 0, "round %llu: %zu left in the ring",
			     (unsigned long long)rd, ak_ring_seq_size(r));
	}
	/* Release: pairs with the acquire load of round in waiter(). */
	atomic_store_explicit(&S.round, STOP, memory_order_release);
}

static uint64_t g_rounds;

static void worker(struct stress_thread *t)
{
	if (t->id == 0)
		coordinator(t, g_rounds);
	else
		waiter(t);
}

int main(int argc, char **argv)
{
	struct stress_cfg cfg;

	stress_init(&cfg, argc, argv, "ring_seq_wake", 4, 3000);
	STRESS_CHECK(cfg.threads >= 2 && cfg.threads <= MAXW + 1, "2..%d threads", MAXW + 1);
	S.w = cfg.threads - 1;
	g_rounds = cfg.ops;
	STRESS_CHECK(ak_ring_seq_new(&S.r, S.w + 1, sizeof(uint64_t), AK_RING_SEQ_BLOCKING) == AK_OK,
		     "ring init");
	uint64_t t0 = ak_now_ns();
	stress_run(&cfg, worker, NULL);
	STRESS_CHECK(atomic_load_explicit(&S.bad, memory_order_relaxed) == 0,
		     "%llu waits did not return AK_OK",
		     (unsigned long long)atomic_load_explicit(&S.bad, memory_order_relaxed));
	printf("  calibrated pause %llu; rounds: %llu consumers, %llu producers, %llu late commit; notify at once %llu, "
	       "after a pause %llu, after registration %llu; %.2fs\n",
	       (unsigned long long)calib, (unsigned long long)S.rounds_by_kind[KA],
	       (unsigned long long)S.rounds_by_kind[KB],
	       (unsigned long long)S.rounds_by_kind[KC], (unsigned long long)S.syncs[0],
	       (unsigned long long)S.syncs[1], (unsigned long long)S.syncs[2],
	       (double)(ak_now_ns() - t0) / 1e9);
	stress_pass(&cfg,
		    "%llu rounds x %u waiters: every element reached exactly one waiter, every wait "
		    "returned AK_OK, 0 stalled rounds (0 lost wake-ups)",
		    (unsigned long long)g_rounds, S.w);
	ak_ring_seq_delete(S.r);
	return 0;
}
