/*
 * Litmus: the last ak_ref dropper sees every other holder's writes.
 *
 * Two holders share an object with count 2.  Each writes its own field
 * (relaxed), then ak_ref_dec_and_test().  The one that gets true (exactly
 * one must) reads both fields.
 *   FORBIDDEN: the last dropper misses the other holder's write (the
 *              release fetch_sub / acquire fence pairing failed);
 *   FORBIDDEN: zero or two droppers see true.
 * Both "actor 0 last" and "actor 1 last" must be seen.
 */
#include <atomkit/counter.h>

#include "litmus.h"

struct st {
	_Atomic(int) f[2];
	char pad1[120];
	ak_ref ref;
	char pad2[124];
};

static void reset(void *p)
{
	struct st *s = (struct st *)p;
	atomic_store_explicit(&s->f[0], 0, memory_order_relaxed);
	atomic_store_explicit(&s->f[1], 0, memory_order_relaxed);
	ak_ref_init(&s->ref, 2);
}

static void holder(struct st *s, int id, int *r)
{
	atomic_store_explicit(&s->f[id], 1, memory_order_relaxed);
	if (ak_ref_dec_and_test(&s->ref)) { /* release, plus acquire on reaching zero */
		r[id] = 1;
		r[2 + id] = atomic_load_explicit(&s->f[0], memory_order_relaxed) +
			    atomic_load_explicit(&s->f[1], memory_order_relaxed);
	}
}
static void h0(void *p, int *r) { holder((struct st *)p, 0, r); }
static void h1(void *p, int *r) { holder((struct st *)p, 1, r); }

static unsigned outcome(const int *r, const void *st)
{
	(void)st;
	if (r[0] + r[1] != 1)
		return 2;
	if (r[2] + r[3] != 2)
		return 3;
	return r[0] ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct litmus t = {
		.name = "counter_ref",
		.nactors = 2,
		.state_size = sizeof(struct st),
		.batch = 512,
		.reset = reset,
		.actor = { h0, h1 },
		.outcome = outcome,
		.outcome_name = { "actor 0 last, saw both", "actor 1 last, saw both",
				  "not exactly one last dropper", "last dropper missed a write" },
		.forbidden = { 0, 0, 1, 1 },
		.must_see = { 1, 1, 0, 0 },
	};
	return litmus_main(&t, argc, argv, 2000000);
}
