/*
 * Stress: counter family under more threads than cores.
 *
 * Invariants, each counted:
 *  plain     final value == sum of every thread's adds minus subs
 *  bounded   final value == sum of the successful bounded adds, never above
 *            the limit at any observation, and the limit is actually hit
 *  checked   successes add up exactly, nothing wraps past UINT64_MAX
 *  ref       exactly one dropper sees zero, and it sees every other
 *            thread's plain writes (the release/acquire-fence pairing)
 *  sharded   drained + remaining == total added, with a drainer racing adds
 */
#include <atomkit/counter.h>
#include <stdlib.h>

#include "stress.h"

#define MAXT 64

struct shared {
	ak_counter plain;
	ak_counter bounded;
	ak_counter checked;
	uint64_t limit;
	uint64_t checked_start;
	ak_ref ref;
	uint64_t ref_data[MAXT]; /* plain memory, published by the ref drop */
	_Atomic(uint32_t) zero_seen;
	_Atomic(uint64_t) ref_verified;
	ak_scounter sc;
	_Atomic(uint32_t) adders_done;
	_Atomic(uint64_t) drained;
	/* per-thread results, written by each thread, read after join */
	uint64_t net[MAXT], bounded_ok[MAXT], checked_ok[MAXT], sc_added[MAXT];
	uint64_t bounded_refusals[MAXT], over_limit_seen[MAXT];
};

static void worker(struct stress_thread *t)
{
	struct shared *s = t->arg;
	unsigned id = t->id;
	uint64_t net = 0, bok = 0, cok = 0, added = 0, refused = 0, over = 0;

	for (uint64_t i = 0; i < t->ops; i++) {
		uint64_t r = stress_rand(t);
		uint64_t n = 1 + (r & 7);

		/* plain: mixed add/sub/inc */
		switch ((r >> 8) & 3) {
		case 0: ak_counter_add(&s->plain, n); net += n; break;
		case 1: ak_counter_sub(&s->plain, n); net -= n; break;
		case 2: ak_counter_inc(&s->plain); net += 1; break;
		default: (void)ak_counter_fetch_add(&s->plain, n); net += n; break;
		}

		/* bounded */
		uint64_t after;
		if (ak_counter_add_bounded(&s->bounded, n, s->limit, &after) == AK_OK) {
			bok += n;
			if (after > s->limit)
				over++;
		} else {
			refused++;
		}
		if (ak_counter_load(&s->bounded) > s->limit)
			over++;

		/* checked, starting near the top */
		if (ak_counter_add_checked(&s->checked, n, &after) == AK_OK)
			cok += n;

		/* ref: take and drop while still holding our own reference */
		if ((r >> 12) & 1) {
			if (ak_ref_inc_not_zero(&s->ref) == AK_OK) {
				STRESS_CHECK(!ak_ref_dec_and_test(&s->ref),
					     "thread %u dropped the count to zero while holding a ref", id);
			}
		}

		/* sharded: thread 0 drains, the others add */
		if (id == 0 && t->nthreads > 1) {
			if ((r >> 16) % 64 == 0)
				atomic_fetch_add_explicit(&s->drained, ak_scounter_drain(&s->sc),
							  memory_order_relaxed);
		} else {
			ak_scounter_add(&s->sc, n);
			added += n;
		}
	}
	s->net[id] = net;
	s->bounded_ok[id] = bok;
	s->checked_ok[id] = cok;
	s->sc_added[id] = added;
	s->bounded_refusals[id] = refused;
	s->over_limit_seen[id] = over;

	/* Final phase, after a barrier so that nothing but the reference
	 * count orders it: publish, then drop our own reference. */
	stress_barrier(t);
	s->ref_data[id] = net ^ 0x5a5a5a5a5a5a5a5aull;
	if (ak_ref_dec_and_test(&s->ref)) {
		atomic_fetch_add_explicit(&s->zero_seen, 1, memory_order_relaxed);
		/* the acquire on reaching zero makes every other thread's
		 * ref_data write visible here; TSan checks that pairing */
		uint64_t ok = 0;
		for (unsigned k = 0; k < t->nthreads; k++)
			if (s->ref_data[k] == (s->net[k] ^ 0x5a5a5a5a5a5a5a5aull))
				ok++;
		atomic_store_explicit(&s->ref_verified, ok, memory_order_relaxed);
	}
}

int main(int argc, char **argv)
{
	struct stress_cfg cfg;
	static struct shared s;
	uint64_t net = 0, bok = 0, cok = 0, added = 0, refused = 0, over = 0;

	stress_init(&cfg, argc, argv, "counter", 4, 200000);
	STRESS_CHECK(cfg.threads <= MAXT, "at most %d threads", MAXT);
	/* the limit is about half of what the threads try to add, so both
	 * outcomes happen a lot */
	s.limit = cfg.threads * cfg.ops * 2;
	s.checked_start = UINT64_MAX - cfg.threads * cfg.ops * 2;
	ak_counter_init(&s.plain, 1000);
	ak_counter_init(&s.bounded, 0);
	ak_counter_init(&s.checked, s.checked_start);
	STRESS_CHECK(ak_ref_init(&s.ref, cfg.threads) == AK_OK, "ref init");
	STRESS_CHECK(ak_scounter_init(&s.sc, NULL, ak_scounter_default_cells()) == AK_OK,
		     "scounter init");

	stress_run(&cfg, worker, &s);

	for (unsigned i = 0; i < cfg.threads; i++) {
		net += s.net[i];
		bok += s.bounded_ok[i];
		cok += s.checked_ok[i];
		added += s.sc_added[i];
		refused += s.bounded_refusals[i];
		over += s.over_limit_seen[i];
	}
	uint64_t total_ops = (uint64_t)cfg.threads * cfg.ops;

	STRESS_CHECK(ak_counter_load(&s.plain) == 1000 + net,
		     "plain: %llu != %llu (lost or duplicated updates)",
		     (unsigned long long)ak_counter_load(&s.plain), (unsigned long long)(1000 + net));
	STRESS_CHECK(ak_counter_load(&s.bounded) == bok, "bounded: value %llu != successes %llu",
		     (unsigned long long)ak_counter_load(&s.bounded), (unsigned long long)bok);
	STRESS_CHECK(bok <= s.limit, "bounded: %llu above limit %llu", (unsigned long long)bok,
		     (unsigned long long)s.limit);
	STRESS_CHECK(over == 0, "bounded: limit exceeded %llu times", (unsigned long long)over);
	STRESS_CHECK(refused > 0 && s.limit - bok < 8,
		     "bounded: limit not reached (%llu of %llu, %llu refusals)",
		     (unsigned long long)bok, (unsigned long long)s.limit, (unsigned long long)refused);
	STRESS_CHECK(ak_counter_load(&s.checked) == s.checked_start + cok,
		     "checked: value != start + successes");
	STRESS_CHECK(UINT64_MAX - ak_counter_load(&s.checked) < 8, "checked: top not reached");
	STRESS_CHECK(atomic_load_explicit(&s.zero_seen, memory_order_relaxed) == 1,
		     "ref: %u threads saw zero (want exactly 1)",
		     atomic_load_explicit(&s.zero_seen, memory_order_relaxed));
	STRESS_CHECK(atomic_load_explicit(&s.ref_verified, memory_order_relaxed) == cfg.threads,
		     "ref: last dropper saw %llu of %u threads' writes",
		     (unsigned long long)atomic_load_explicit(&s.ref_verified, memory_order_relaxed),
		     cfg.threads);
	STRESS_CHECK(ak_ref_read(&s.ref) == 0, "ref: final count %u", ak_ref_read(&s.ref));
	uint64_t drained = atomic_load_explicit(&s.drained, memory_order_relaxed);
	uint64_t remain = ak_scounter_sum(&s.sc);
	STRESS_CHECK(drained + remain == added,
		     "sharded: drained %llu + remaining %llu != added %llu",
		     (unsigned long long)drained, (unsigned long long)remain, (unsigned long long)added);
	ak_scounter_destroy(&s.sc);

	stress_pass(&cfg,
		    "%llu ops x 5 invariants verified: plain exact, bounded %llu ok/%llu refused "
		    "never over, checked exact, 1 zero, sharded drained %llu + %llu == %llu; 0 lost, 0 dup",
		    (unsigned long long)total_ops, (unsigned long long)bok, (unsigned long long)refused,
		    (unsigned long long)drained, (unsigned long long)remain, (unsigned long long)added);
	return 0;
}
