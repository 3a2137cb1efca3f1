/*
 * Stress: versioned cells under CAS-loop incrementers and change waiters.
 *
 * Invariants, each counted:
 *  lost updates  incrementers add 1 through load + CAS(version) loops; the
 *                final value == successful CASes == incrementers x ops, and
 *                the version moved exactly that many times (both cells)
 *  consistency   every loaded pair has value == version - start (each
 *                store moves both by one), so a torn (value, version) shows
 *  publication  (a second phase) every thread stores pointers to nodes it
 *                filled with plain stores; the load right after must see a
 *                whole node, often another thread's (under TSan the
 *                cmpxchg16b's release annotation is the only ordering,
 *                and removing it is reported)
 *  waits         waiters block on "version != the one I saw" until the
 *                final value; every wait returns AK_OK well before its
 *                20 s deadline (a lost wake-up would time out); the
 *                vcell waiters pass a live cancel token, and every
 *                callback they registered is gone at the end
 */
#include <atomkit/clock.h>
#include <atomkit/vcell.h>
#include <stdlib.h>

#include "stress.h"

#define MAXT 64
#define START64 UINT64_C(1000)
#define START32 UINT32_C(0xFFFFFF00) /* the 32-bit version wraps during the run */

/* Published through a cell as a pointer; written with plain stores before
 * the store, read with plain loads after a load (TSan checks the pairing,
 * which for ak_vcell is the annotated cmpxchg16b). */
struct node {
	uint64_t a, b;
	struct node *next_mine;
};

struct shared {
	AK_CACHE_ALIGNED ak_vcell pub;
	AK_CACHE_ALIGNED ak_vcell c;
	AK_CACHE_ALIGNED ak_vcell32 c32;
	uint64_t target;
	ak_cancel tok; /* never cancelled: waiters register/deregister on it */
	uint64_t ok[MAXT], conflicts[MAXT], waits[MAXT], checks[MAXT], pubs[MAXT], foreign[MAXT];
	struct node *mine[MAXT]; /* every node a thread published, freed at the end */
	_Atomic(unsigned) publishers_left;
};

static void publish(struct shared *s, struct stress_thread *t, uint64_t i)
{
	struct node *n = (struct node *)malloc(sizeof(*n));

	STRESS_CHECK(n != NULL, "out of memory");
	n->a = i;
	n->b = 3 * i + t->id;
	n->next_mine = s->mine[t->id];
	s->mine[t->id] = n;
	(void)ak_vcell_store(&s->pub, (uint64_t)(uintptr_t)n);
	s->pubs[t->id]++;
}

/* Returns 1 if the node read was another thread's. */
static int check_published(struct shared *s, struct stress_thread *t)
{
	ak_vcell_snap v = ak_vcell_load(&s->pub);
	struct node *n = (struct node *)(uintptr_t)v.value;

	if (!n)
		return 0;
	STRESS_CHECK(n->b - 3 * n->a < MAXT, "published node not seen whole: a %llu b %llu",
		     (unsigned long long)n->a, (unsigned long long)n->b);
	return n->b - 3 * n->a != t->id;
}

static void incrementer(struct shared *s, struct stress_thread *t)
{
	uint64_t ok = 0, conflicts = 0, checks = 0;

	for (uint64_t i = 0; i < t->ops; i++) {
		for (;;) {
			ak_vcell_snap v = ak_vcell_load(&s->c);
			STRESS_CHECK(v.version - START64 == v.value,
				     "torn vcell pair value %llu version %llu",
				     (unsigned long long)v.value, (unsigned long long)v.version);
			checks++;
			if (ak_vcell_cas(&s->c, v.version, v.value + 1, NULL) == AK_OK)
				break;
			conflicts++;
		}
		ok++;
		for (;;) {
			ak_vcell_snap32 v = ak_vcell32_load(&s->c32);
			STRESS_CHECK((uint32_t)(v.version - START32) == v.value,
				     "torn vcell32 pair value %u version %u", v.value, v.version);
			checks++;
			if (ak_vcell32_cas(&s->c32, v.version, v.value + 1, NULL) == AK_OK)
				break;
			conflicts++;
		}
		ok++;
	}
	s->ok[t->id] = ok;
	s->conflicts[t->id] = conflicts;
	s->checks[t->id] = checks;
}

static void waiter(struct shared *s, struct stress_thread *t)
{
	uint64_t waits = 0;
	int wide = (t->id / 2) % 2 == 0;

	for (;;) {
		ak_status st;
		if (wide) {
			ak_vcell_snap v = ak_vcell_load(&s->c);
			if (v.value == s->target)
				break;
			st = ak_vcell_wait_change(&s->c, v.version,
						  ak_deadline_after(20 * AK_NS_PER_SEC), &s->tok);
			STRESS_CHECK(st == AK_OK || ak_vcell_load(&s->c).value != s->target,
				     "vcell waiter: %s at value %llu (lost wake-up)",
				     ak_status_name(st), (unsigned long long)v.value);
		} else {
			ak_vcell_snap32 v = ak_vcell32_load(&s->c32);
			if (v.value == s->target)
				break;
			st = ak_vcell32_wait_change(&s->c32, v.version,
						    ak_deadline_after(20 * AK_NS_PER_SEC), NULL);
		}
		STRESS_CHECK(st == AK_OK, "waiter %u: %s (lost wake-up)", t->id, ak_status_name(st));
		waits++;
	}
	s->waits[t->id] = waits;
}

/* Second phase, alone: the pub cell is the only thing threads share, so
 * nothing but its own ordering can make the node reads race-free. */
static void publisher(struct stress_thread *t)
{
	struct shared *s = t->arg;
	uint64_t foreign = 0;

	if (t->id % 2 == 0) {
		for (uint64_t i = 0; i < t->ops / 4; i++) {
			publish(s, t, i);
			foreign += check_published(s, t);
		}
		/* Release: pairs with the readers' acquire below, so their
		 * last check sees a published node. */
		atomic_fetch_sub_explicit(&s->publishers_left, 1, memory_order_release);
	} else {
		/* Read until every publisher is done (acquire: pairs with the
		 * release decrement above). */
		int more;
		do {
			more = atomic_load_explicit(&s->publishers_left, memory_order_acquire) > 0;
			foreign += check_published(s, t);
		} while (more);
	}
	s->foreign[t->id] = foreign;
}

static void worker(struct stress_thread *t)
{
	struct shared *s = t->arg;

	if (t->id % 2 == 0)
		incrementer(s, t);
	else
		waiter(s, t);
}

int main(int argc, char **argv)
{
	struct stress_cfg cfg;
	static struct shared s;
	uint64_t ok = 0, conflicts = 0, waits = 0, checks = 0, pubs = 0, foreign = 0;
	unsigned nincr;

	stress_init(&cfg, argc, argv, "vcell", 4, 50000);
	STRESS_CHECK(cfg.threads >= 2 && cfg.threads <= MAXT, "2..%d threads", MAXT);
	nincr = (cfg.threads + 1) / 2;
	s.target = (uint64_t)nincr * cfg.ops;
	STRESS_CHECK(s.target < UINT32_MAX, "too many ops for the 32-bit cell");
	ak_vcell_init(&s.c, 0, START64);
	ak_vcell_init(&s.pub, 0, 0);
	ak_vcell32_init(&s.c32, 0, START32);
	STRESS_CHECK(ak_cancel_init(&s.tok) == AK_OK, "token init");

	stress_run(&cfg, worker, &s);
	atomic_store_explicit(&s.publishers_left, (cfg.threads + 1) / 2, memory_order_relaxed);
	stress_run(&cfg, publisher, &s);

	for (unsigned i = 0; i < cfg.threads; i++) {
		ok += s.ok[i];
		conflicts += s.conflicts[i];
		waits += s.waits[i];
		checks += s.checks[i];
		pubs += s.pubs[i];
		foreign += s.foreign[i];
		while (s.mine[i]) {
			struct node *n = s.mine[i];
			s.mine[i] = n->next_mine;
			free(n);
		}
	}
	ak_vcell_snap v = ak_vcell_load(&s.c);
	ak_vcell_snap32 v32 = ak_vcell32_load(&s.c32);
	STRESS_CHECK(ok == 2 * s.target, "successes %llu != %llu", (unsigned long long)ok,
		     (unsigned long long)(2 * s.target));
	STRESS_CHECK(v.value == s.target && v.version == START64 + s.target,
		     "vcell: value %llu version %llu, want %llu / %llu (lost update)",
		     (unsigned long long)v.value, (unsigned long long)v.version,
		     (unsigned long long)s.target, (unsigned long long)(START64 + s.target));
	STRESS_CHECK(v32.value == s.target && v32.version == (uint32_t)(START32 + s.target),
		     "vcell32: value %u version %u (lost update)", v32.value, v32.version);
	STRESS_CHECK(atomic_load_explicit(&s.c.ev.waiters, memory_order_relaxed) == 0 &&
			     atomic_load_explicit(&s.c32.ev.waiters, memory_order_relaxed) == 0,
		     "waiter count not back to 0");
	STRESS_CHECK(ak_cancel_destroy(&s.tok) == AK_OK, "token still has callbacks registered");
	STRESS_CHECK(foreign > 0, "no node was read by a thread other than its publisher");
	stress_pass(&cfg,
		    "%llu CAS increments on 2 cells, value == version moves == successes, "
		    "%llu conflicts retried, %llu pairs checked 0 torn; %llu waits, 0 lost wake-ups; "
		    "%llu pointers published, %llu other threads' nodes read whole",
		    (unsigned long long)ok, (unsigned long long)conflicts, (unsigned long long)checks,
		    (unsigned long long)waits, (unsigned long long)pubs, (unsigned long long)foreign);

	return 0;
}
