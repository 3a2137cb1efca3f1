/*
 * Litmus: message passing through an ak_counter with the _explicit forms.
 *
 *   actor 0:  data = 42 (relaxed);  ak_counter_store_explicit(&c, 1, release)
 *   actor 1:  f = ak_counter_load_explicit(&c, acquire);  d = data (relaxed)
 *
 * f == 1 && d != 42 is FORBIDDEN: the acquire load that reads the release
 * store sees everything written before it.  Also run with
 * ak_counter_fetch_add_explicit(release) as the publishing operation.
 * Both f == 0 and f == 1 must be seen (the actors really raced).
 */
#include <atomkit/counter.h>

#include "litmus.h"

struct st {
	_Atomic(int) data;
	char pad1[124];
	ak_counter c;
	char pad2[120];
};

static void reset(void *p)
{
	struct st *s = (struct st *)p;
	atomic_store_explicit(&s->data, 0, memory_order_relaxed);
	ak_counter_init(&s->c, 0);
}

static void w_store(void *p, int *r)
{
	struct st *s = (struct st *)p;
	(void)r;
	atomic_store_explicit(&s->data, 42, memory_order_relaxed);
	ak_counter_store_explicit(&s->c, 1, memory_order_release); /* pairs with the acquire load in rd */
}
static void w_add(void *p, int *r)
{
	struct st *s = (struct st *)p;
	(void)r;
	atomic_store_explicit(&s->data, 42, memory_order_relaxed);
	(void)ak_counter_fetch_add_explicit(&s->c, 1, memory_order_release); /* pairs with the acquire load in rd */
}
static void rd(void *p, int *r)
{
	struct st *s = (struct st *)p;
	r[1] = (int)ak_counter_load_explicit(&s->c, memory_order_acquire); /* pairs with the release in w_* */
	r[2] = atomic_load_explicit(&s->data, memory_order_relaxed);
}

static unsigned outcome(const int *r, const void *st)
{
	(void)st;
	if (r[1] == 0)
		return 0;
	return r[2] == 42 ? 1 : 2;
}

int main(int argc, char **argv)
{
	struct litmus t = {
		.name = "counter_mp (store_explicit release)",
		.nactors = 2,
		.state_size = sizeof(struct st),
		.batch = 512,
		.reset = reset,
		.actor = { w_store, rd },
		.outcome = outcome,
		.outcome_name = { "flag=0", "flag=1 data=42", "flag=1 data stale" },
		.forbidden = { 0, 0, 1 },
		.must_see = { 1, 1, 0 },
	};
	int rc = litmus_main(&t, argc, argv, 2000000);

	t.name = "counter_mp (fetch_add_explicit release)";
	t.actor[0] = w_add;
	return litmus_main(&t, argc, argv, 2000000) | rc;
}
