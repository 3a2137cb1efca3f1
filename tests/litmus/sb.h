/*
 * tests/litmus/sb.h - the store-buffering (Dekker) shape shared by
 * fence_sb_seqcst.c and fence_sb_acqrel.c:
 *
 *     actor 0:  x = 1; ...; r0 = y        actor 1:  y = 1; ...; r1 = x
 *
 * The tests supply the two actors (which orders and fences sit between
 * the store and the load); this header supplies the state, its reset, the
 * outcome classification and the run.
 */
#ifndef ATOMKIT_TESTS_LITMUS_SB_H
#define ATOMKIT_TESTS_LITMUS_SB_H

#include "litmus.h"

struct sb_state {
	_Atomic(int) x;
	char pad1[124];
	_Atomic(int) y;
	char pad2[124];
};

static inline void sb_reset(void *p)
{
	struct sb_state *s = (struct sb_state *)p;
	atomic_store_explicit(&s->x, 0, memory_order_relaxed);
	atomic_store_explicit(&s->y, 0, memory_order_relaxed);
}

static inline unsigned sb_outcome(const int *r, const void *st)
{
	(void)st;
	return (unsigned)(r[0] * 2 + r[1]);
}

/*
 * Run one store-buffering test.  forbid_00: r0 = r1 = 0 is FORBIDDEN (a
 * full fence or seq_cst accesses), else only counted.  need_race: the
 * one-sided outcomes 0/1 and 1/0 are REQUIRED (the actors overlapped).
 */
static inline int sb_run(const char *name, void (*a0)(void *, int *), void (*a1)(void *, int *),
			 int forbid_00, int need_race, int argc, char **argv, uint64_t iters)
{
	struct litmus t = {
		.name = name,
		.nactors = 2,
		.state_size = sizeof(struct sb_state),
		.batch = 512,
		.reset = sb_reset,
		.actor = { a0, a1 },
		.outcome = sb_outcome,
		.outcome_name = { forbid_00 ? "r0=0 r1=0 (both loads early)"
					    : "r0=0 r1=0 (allowed; store buffer)",
				  "r0=0 r1=1", "r0=1 r1=0", "r0=1 r1=1" },
		.forbidden = { forbid_00, 0, 0, 0 },
		.must_see = { 0, need_race, need_race, 0 },
	};
	return litmus_main(&t, argc, argv, iters);
}

#endif /* ATOMKIT_TESTS_LITMUS_SB_H */
