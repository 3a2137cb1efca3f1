/*
 * Litmus: data written before ak_cancel_request() is visible to whoever
 * sees the cancel (the publication guarantee in include/atomkit/cancel.h).
 *
 *   actor 0:  data = 42 (relaxed);  ak_cancel_request(&t, 7)
 *   actor 1:  s = ak_cancel_is_set(&t) (polled up to 1024 times);
 *             d = data (relaxed);  c = ak_cancel_cause(&t)
 *
 * FORBIDDEN: s && d != 42 (the release RMW in the request / acquire load
 * in is_set pairing failed), and s && c != 7 (a cancelled token whose
 * cause is not yet readable).  Both s == 0 and s == 1 must be seen.
 */
#include <atomkit/cancel.h>

#include "litmus.h"

struct st {
	_Atomic(int) data;
	char pad[124];
	ak_cancel t;
};

static void reset(void *p)
{
	struct st *s = (struct st *)p;
	atomic_store_explicit(&s->data, 0, memory_order_relaxed);
	if (ak_cancel_init(&s->t) != AK_OK)
		abort();
}

static void canceller(void *p, int *r)
{
	struct st *s = (struct st *)p;
	atomic_store_explicit(&s->data, 42, memory_order_relaxed);
	r[0] = ak_cancel_request(&s->t, 7); /* release: pairs with the acquire in is_set */
}

static void observer(void *p, int *r)
{
	struct st *s = (struct st *)p;
	/* poll a little, so the read of data follows the flag's arrival closely */
	for (int i = 0; i < 1024 && !r[1]; i++)
		r[1] = ak_cancel_is_set(&s->t); /* acquire: pairs with the release in request */
	r[2] = atomic_load_explicit(&s->data, memory_order_relaxed);
	r[3] = ak_cancel_cause(&s->t);
}

static unsigned outcome(const int *r, const void *st)
{
	(void)st;
	if (!r[0])
		return 4; /* the request did not win: impossible, nobody else cancels */
	if (!r[1])
		return 0;
	if (r[2] != 42)
		return 2;
	if (r[3] != 7)
		return 3;
	return 1;
}

int main(int argc, char **argv)
{
	struct litmus t = {
		.name = "cancel_publish",
		.nactors = 2,
		.state_size = sizeof(struct st),
		.batch = 256,
		.reset = reset,
		.actor = { canceller, observer },
		.outcome = outcome,
		.outcome_name = { "not yet cancelled", "cancelled, data and cause seen",
				  "cancelled, data stale", "cancelled, cause not seen",
				  "request returned false" },
		.forbidden = { 0, 0, 1, 1, 1 },
		.must_see = { 1, 1, 0, 0, 0 },
	};
	return litmus_main(&t, argc, argv, 1000000);
}
