/*
 * Litmus: store buffering (Dekker) with seq_cst operations and with the
 * _ak_fence_seq_cst() helper - the handshake the eventcount relies on.
 *
 *   actor 0:  x = 1; FENCE; r0 = y        actor 1:  y = 1; FENCE; r1 = x
 *
 * r0 == 0 && r1 == 0 is FORBIDDEN: with a full fence (or seq_cst accesses)
 * between each store and the following load, one store is globally first,
 * so the other thread's load sees it.  Two variants run, each with its own
 * outcome counts: seq_cst store/load, and relaxed accesses around
 * _ak_fence_seq_cst().  tests/litmus/fence_sb_acqrel.c is the same shape
 * with release/acquire, where 0/0 is allowed and does show up on x86.
 */
#include <atomkit/internal/fence.h>

#include "litmus.h"

struct st {
	_Atomic(int) x;
	char pad1[124];
	_Atomic(int) y;
	char pad2[124];
};

static void reset(void *p)
{
	struct st *s = (struct st *)p;
	atomic_store_explicit(&s->x, 0, memory_order_relaxed);
	atomic_store_explicit(&s->y, 0, memory_order_relaxed);
}

/* seq_cst accesses: the stores and loads pair in the single total order */
static void sc0(void *p, int *r)
{
	struct st *s = (struct st *)p;
	atomic_store_explicit(&s->x, 1, memory_order_seq_cst); /* pairs with the seq_cst load in sc1 */
	r[0] = atomic_load_explicit(&s->y, memory_order_seq_cst); /* pairs with the seq_cst store in sc1 */
}
static void sc1(void *p, int *r)
{
	struct st *s = (struct st *)p;
	atomic_store_explicit(&s->y, 1, memory_order_seq_cst); /* pairs with the seq_cst load in sc0 */
	r[1] = atomic_load_explicit(&s->x, memory_order_seq_cst); /* pairs with the seq_cst store in sc0 */
}

/* relaxed accesses ordered by the fence helper */
static void fn0(void *p, int *r)
{
	struct st *s = (struct st *)p;
	atomic_store_explicit(&s->x, 1, memory_order_relaxed);
	_ak_fence_seq_cst(&s->x); /* pairs with the fence in fn1 */
	r[0] = atomic_load_explicit(&s->y, memory_order_relaxed);
}
static void fn1(void *p, int *r)
{
	struct st *s = (struct st *)p;
	atomic_store_explicit(&s->y, 1, memory_order_relaxed);
	_ak_fence_seq_cst(&s->y); /* pairs with the fence in fn0 */
	r[1] = atomic_load_explicit(&s->x, memory_order_relaxed);
}

static unsigned outcome(const int *r, const void *st)
{
	(void)st;
	return (unsigned)(r[0] * 2 + r[1]);
}

int main(int argc, char **argv)
{
	struct litmus t = {
		.name = "fence_sb_seqcst (seq_cst accesses)",
		.nactors = 2,
		.state_size = sizeof(struct st),
		.batch = 512,
		.reset = reset,
		.actor = { sc0, sc1 },
		.outcome = outcome,
		.outcome_name = { "r0=0 r1=0 (both loads early)", "r0=0 r1=1", "r0=1 r1=0", "r0=1 r1=1" },
		.forbidden = { 1, 0, 0, 0 },
		.must_see = { 0, 0, 0, 0 },
	};
	int rc = litmus_main(&t, argc, argv, 2000000);

	t.name = "fence_sb_seqcst (_ak_fence_seq_cst)";
	t.actor[0] = fn0;
	t.actor[1] = fn1;
	return litmus_main(&t, argc, argv, 2000000) | rc;
}
