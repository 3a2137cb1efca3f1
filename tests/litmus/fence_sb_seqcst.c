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

#include "sb.h"

/* seq_cst accesses: the stores and loads pair in the single total order */
static void sc0(void *p, int *r)
{
	struct sb_state *s = (struct sb_state *)p;
	atomic_store_explicit(&s->x, 1, memory_order_seq_cst); /* pairs with the seq_cst load in sc1 */
	r[0] = atomic_load_explicit(&s->y, memory_order_seq_cst); /* pairs with the seq_cst store in sc1 */
}
static void sc1(void *p, int *r)
{
	struct sb_state *s = (struct sb_state *)p;
	atomic_store_explicit(&s->y, 1, memory_order_seq_cst); /* pairs with the seq_cst load in sc0 */
	r[1] = atomic_load_explicit(&s->x, memory_order_seq_cst); /* pairs with the seq_cst store in sc0 */
}

/* relaxed accesses ordered by the fence helper */
static void fn0(void *p, int *r)
{
	struct sb_state *s = (struct sb_state *)p;
	atomic_store_explicit(&s->x, 1, memory_order_relaxed);
	_ak_fence_seq_cst(&s->x); /* pairs with the fence in fn1 */
	r[0] = atomic_load_explicit(&s->y, memory_order_relaxed);
}
static void fn1(void *p, int *r)
{
	struct sb_state *s = (struct sb_state *)p;
	atomic_store_explicit(&s->y, 1, memory_order_relaxed);
	_ak_fence_seq_cst(&s->y); /* pairs with the fence in fn0 */
	r[1] = atomic_load_explicit(&s->x, memory_order_relaxed);
}

int main(int argc, char **argv)
{
	int rc = sb_run("fence_sb_seqcst (seq_cst accesses)", sc0, sc1, 1, 0, argc, argv, 2000000);
	return sb_run("fence_sb_seqcst (_ak_fence_seq_cst)", fn0, fn1, 1, 0, argc, argv, 2000000) | rc;
}
