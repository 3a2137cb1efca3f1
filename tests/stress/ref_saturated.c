/*
 * Stress: a saturated ak_ref stays saturated under large racing steps.
 *
 * Every thread hammers one saturated count with ak_ref_add and
 * ak_ref_sub_and_test of steps from 1 up to AK_REF_MAX (the large ones
 * would carry the count across half the 32-bit range in one RMW) and reads
 * it between calls.  Invariants, each counted:
 *  - no read ever sees a live value (top bit clear): 0 live reads;
 *  - no sub_and_test returns true (a saturated object is never freed);
 *  - every add returns AK_ESATURATED;
 *  - the count is saturated at the end.
 */
#include <atomkit/counter.h>

#include "stress.h"

#define MAXT 64

struct shared {
	ak_ref ref;
	uint64_t live_reads[MAXT], frees[MAXT], add_ok[MAXT], calls[MAXT];
};

/* Steps across the whole range, the large ones most often. */
static uint32_t step(struct stress_thread *t)
{
	static const uint32_t big[] = { UINT32_C(0x40000000), UINT32_C(0x40000001),
					UINT32_C(0x7fffffff), UINT32_C(0x3fffffff),
					UINT32_C(0x20000000), UINT32_C(0x60000000) };
	uint64_t r = stress_rand(t);
	if (r % 8 == 0)
		return (uint32_t)(1 + (r >> 8) % 1024);
	return big[(r >> 8) % (sizeof big / sizeof big[0])];
}

static void worker(struct stress_thread *t)
{
	struct shared *s = t->arg;
	uint64_t live = 0, frees = 0, add_ok = 0;

	for (uint64_t i = 0; i < t->ops; i++) {
		if (stress_rand(t) & 1) {
			if (ak_ref_add(&s->ref, step(t)) != AK_ESATURATED)
				add_ok++;
		} else if (ak_ref_sub_and_test(&s->ref, step(t))) {
			frees++;
		}
		for (int k = 0; k < 4; k++)
			if (!(ak_ref_read(&s->ref) & UINT32_C(0x80000000)))
				live++;
		if ((i & 4095) == 0)
			stress_progress(t, i);
	}
	s->live_reads[t->id] = live;
	s->frees[t->id] = frees;
	s->add_ok[t->id] = add_ok;
	s->calls[t->id] = t->ops;
}

int main(int argc, char **argv)
{
	struct stress_cfg cfg;
	static struct shared s;
	uint64_t live = 0, frees = 0, add_ok = 0, calls = 0;

	stress_init(&cfg, argc, argv, "ref_saturated", 4, 400000);
	STRESS_CHECK(cfg.threads <= MAXT, "at most %d threads", MAXT);
	STRESS_CHECK(ak_ref_init(&s.ref, AK_REF_MAX) == AK_OK, "ref init");
	STRESS_CHECK(ak_ref_inc(&s.ref) == AK_ESATURATED, "saturate");

	stress_run(&cfg, worker, &s);

	for (unsigned i = 0; i < cfg.threads; i++) {
		live += s.live_reads[i];
		frees += s.frees[i];
		add_ok += s.add_ok[i];
		calls += s.calls[i];
	}
	STRESS_CHECK(live == 0, "%llu reads saw a live count on a saturated ref",
		     (unsigned long long)live);
	STRESS_CHECK(frees == 0, "sub_and_test freed a saturated ref %llu times",
		     (unsigned long long)frees);
	STRESS_CHECK(add_ok == 0, "%llu adds on a saturated ref returned other than AK_ESATURATED",
		     (unsigned long long)add_ok);
	STRESS_CHECK(ak_ref_is_saturated(&s.ref), "final count %u is live", ak_ref_read(&s.ref));
	stress_pass(&cfg,
		    "%llu add/sub calls with steps up to 2^31-1 on a saturated ref, %llu reads: "
		    "0 live reads, 0 frees, all adds AK_ESATURATED, still saturated",
		    (unsigned long long)calls, (unsigned long long)calls * 4);
	return 0;
}
