/*
 * Unit tests for the linearizability checker (tests/harness/lincheck.*):
 * hand-made histories it must accept, and non-linearizable ones it must
 * reject, so a clean stress run means something.
 */
#include <atomkit/status.h>
#include <stdlib.h>

#include "check.h"
#include "lincheck.h"

static struct lc_history h;
static FILE *sink;

#define V(p, s) (((uint64_t)(p) << 40) | (uint64_t)(s))
#define PUSH(t, r, v, inv, resp) { t, LC_PUSH, r, v, inv, resp }
#define POP(t, r, v, inv, resp) { t, LC_POP, r, v, inv, resp }

static void reset(void)
{
	lc_history_clear(&h);
}

static void add(unsigned t, int kind, int result, uint64_t v, uint64_t inv, uint64_t resp)
{
	CHECK(lc_add(&h.logs[t], (enum lc_kind)kind, (enum lc_result)result, v, inv, resp) == 0);
}

/* Both checkers: wgl and fast verdicts expected. */
static void expect(int wgl, int fast, size_t cap, int drained, const char *what)
{
	int w = lc_check_wgl(&h, cap, 0, sink);
	int f = lc_check_fast(&h, cap, drained, sink);
	if (w != wgl || f != fast)
		fprintf(stderr, "case '%s': wgl %d (want %d), fast %d (want %d)\n", what, w, wgl, f,
			fast);
	CHECK_EQ_I64(w, wgl);
	CHECK_EQ_I64(f, fast);
}

/*
 * Hand-made histories: events (thread, kind, result, value, invoke,
 * response), the queue capacity, whether the run was drained, and the
 * verdicts of the exact (WGL) and the fast checker (0 accept, 1 reject).
 */
struct event {
	unsigned t;
	int kind, result;
	uint64_t v, inv, resp;
};
struct hcase {
	const char *what;
	size_t cap;
	int drained, wgl, fast;
	struct event ev[32]; /* up to the first { 0 } with resp == 0 */
};

static const struct hcase cases[] = {
	{ "sequential", 2, 1, 0, 0,
	  { PUSH(0, LC_OK, V(0, 1), 0, 10), PUSH(0, LC_OK, V(0, 2), 20, 30),
	    POP(1, LC_OK, V(0, 1), 40, 50), POP(1, LC_OK, V(0, 2), 60, 70),
	    POP(1, LC_EMPTY, 0, 80, 90) } },
	/* FIFO violated in real time: push a, then push b, pop b then pop a */
	{ "fifo", 4, 1, 1, 1,
	  { PUSH(0, LC_OK, V(0, 1), 0, 10), PUSH(0, LC_OK, V(0, 2), 20, 30),
	    POP(1, LC_OK, V(0, 2), 40, 50), POP(1, LC_OK, V(0, 1), 60, 70) } },
	/* the same pops, but the pushes overlap: either order is legal */
	{ "overlapping pushes", 4, 1, 0, 0,
	  { PUSH(0, LC_OK, V(0, 1), 0, 30), PUSH(2, LC_OK, V(2, 1), 10, 20),
	    POP(1, LC_OK, V(2, 1), 40, 50), POP(1, LC_OK, V(0, 1), 60, 70) } },
	/* EMPTY although an element was present the whole time */
	{ "empty while present", 4, 1, 1, 1,
	  { PUSH(0, LC_OK, V(0, 1), 0, 10), POP(1, LC_EMPTY, 0, 20, 30),
	    POP(1, LC_OK, V(0, 1), 40, 50) } },
	/* EMPTY overlapping the push: legal */
	{ "empty overlapping push", 4, 1, 0, 0,
	  { PUSH(0, LC_OK, V(0, 1), 0, 30), POP(1, LC_EMPTY, 20, 25, 26),
	    POP(1, LC_OK, V(0, 1), 40, 50) } },
	{ "phantom", 4, 0, 1, 1,
	  { PUSH(0, LC_OK, V(0, 1), 0, 10), POP(1, LC_OK, V(3, 3), 20, 30) } },
	{ "duplicate", 4, 0, 1, 1,
	  { PUSH(0, LC_OK, V(0, 1), 0, 10), POP(1, LC_OK, V(0, 1), 20, 30),
	    POP(2, LC_OK, V(0, 1), 25, 35) } },
	/* FULL with capacity 2 and only one element: rejected; with two: ok */
	{ "full too early", 2, 0, 1, 1,
	  { PUSH(0, LC_OK, V(0, 1), 0, 10), PUSH(0, LC_FULL, V(0, 2), 20, 30) } },
	{ "full", 2, 0, 0, 0,
	  { PUSH(0, LC_OK, V(0, 1), 0, 10), PUSH(0, LC_OK, V(0, 2), 12, 18),
	    PUSH(0, LC_FULL, V(0, 3), 20, 30), POP(1, LC_OK, V(0, 1), 25, 40) } },
	/* a lost element in a drained history (the exact checker has no notion
	 * of "drained": a remaining element is a legal final state) */
	{ "lost", 4, 1, 0, 1,
	  { PUSH(0, LC_OK, V(0, 1), 0, 10), PUSH(0, LC_OK, V(0, 2), 20, 30),
	    POP(1, LC_OK, V(0, 1), 40, 50) } },
	/* needs the search: every pairwise test passes but no order works.
	 * cap 1: push a || push b both succeed and overlap, and a pop of a ends
	 * before the pop of b begins; but with capacity 1 b can only be pushed
	 * after a is popped, and b's push ended before a's pop even started. */
	{ "capacity interplay", 1, 1, 1, 0,
	  { PUSH(0, LC_OK, V(0, 1), 0, 100), PUSH(1, LC_OK, V(1, 1), 10, 20),
	    POP(2, LC_OK, V(0, 1), 30, 40), POP(2, LC_OK, V(1, 1), 50, 60) } },
	/* regression: a legal history (recorded from ak_ring_seq, capacity 3)
	 * whose only linearization puts T7's long push near the end; the
	 * search must backtrack over pops whose queue cells later pushes have
	 * reused (an early checker lost the popped entry and rejected it). */
	{ "backtracking over reused cells", 3, 1, 0, 0,
	  { POP(4, LC_EMPTY, 0, 0, 60), PUSH(4, LC_OK, V(4, 8374), 90, 130),
	    POP(4, LC_OK, V(4, 8374), 150, 190), PUSH(7, LC_OK, V(7, 8461), 2294, 2334),
	    PUSH(7, LC_OK, V(7, 8462), 2365, 73180), PUSH(3, LC_OK, V(3, 8527), 59503, 59543),
	    PUSH(3, LC_OK, V(3, 8528), 59574, 59614), POP(3, LC_OK, V(7, 8461), 59644, 59674),
	    POP(0, LC_OK, V(3, 8527), 61958, 62019), PUSH(0, LC_OK, V(0, 8535), 62039, 62079),
	    POP(0, LC_OK, V(3, 8528), 62099, 62139), POP(2, LC_OK, V(0, 8535), 64243, 64283),
	    PUSH(2, LC_OK, V(2, 8412), 64312, 64343), PUSH(2, LC_OK, V(2, 8413), 64373, 64403),
	    PUSH(5, LC_OK, V(5, 8452), 66487, 66517), POP(5, LC_OK, V(2, 8412), 66547, 66577),
	    PUSH(5, LC_OK, V(5, 8453), 66607, 66637), PUSH(6, LC_FULL, V(6, 8451), 68651, 68701),
	    PUSH(6, LC_FULL, V(6, 8452), 68731, 68761), PUSH(6, LC_FULL, V(6, 8453), 68781, 68811),
	    PUSH(1, LC_FULL, V(1, 8387), 70785, 70825), POP(1, LC_OK, V(2, 8413), 70855, 70885),
	    POP(1, LC_OK, V(5, 8452), 70916, 70945), POP(7, LC_OK, V(5, 8453), 73220, 73249),
	    POP(0, LC_OK, V(7, 8462), 84962, 85022), POP(0, LC_EMPTY, 0, 85052, 85083) } },
};

int main(void)
{
	CHECK(lc_history_init(&h, 8, 64) == 0);
	sink = fopen("/dev/null", "w");
	CHECK(sink != NULL);

	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		reset();
		for (const struct event *e = cases[c].ev; e->resp != 0; e++)
			add(e->t, e->kind, e->result, e->v, e->inv, e->resp);
		expect(cases[c].wgl, cases[c].fast, cases[c].cap, cases[c].drained, cases[c].what);
	}

	/* a longer legal interleaving with many overlaps */
	reset();
	for (unsigned t = 0; t < 3; t++)
		for (unsigned i = 0; i < 5; i++)
			add(t, LC_PUSH, LC_OK, V(t, i), 100 * i + t, 100 * i + 50 + t);
	for (unsigned i = 0; i < 5; i++)
		for (unsigned t = 0; t < 3; t++)
			add(3, LC_POP, LC_OK, V(t, i), 1000 + 30 * (3 * i + t),
			    1000 + 30 * (3 * i + t) + 10);
	expect(0, 0, 16, 1, "long legal");

	/* the checker refuses what it cannot decide */
	reset();
	add(0, LC_PUSH, LC_OK, V(0, 1), 0, 10);
	CHECK_EQ_I64(lc_check_wgl(&h, 0, 0, sink), -1);
	add(0, LC_PUSH, LC_OK, V(0, 1), 20, 30); /* value pushed twice */
	CHECK_EQ_I64(lc_check_fast(&h, 4, 0, sink), -1);
	reset();
	struct lc_op *op = lc_begin(&h.logs[0], LC_PUSH, V(0, 9));
	CHECK(op != NULL);
	CHECK_EQ_I64(lc_check_wgl(&h, 4, 0, sink), -1); /* pending */
	lc_end(op, LC_OK, 0);
	CHECK(op->response >= op->invoke);
	CHECK_EQ_I64(lc_check_wgl(&h, 4, 0, sink), 0);
	lc_drop(&h.logs[0]);
	CHECK_EQ_U64(lc_history_size(&h), 0);

	/* one failing history printed, so a reader of the log sees the format */
	reset();
	add(0, LC_PUSH, LC_OK, V(0, 1), 0, 10);
	add(0, LC_PUSH, LC_OK, V(0, 2), 20, 30);
	add(1, LC_POP, LC_OK, V(0, 2), 40, 50);
	add(1, LC_POP, LC_OK, V(0, 1), 60, 70);
	printf("expected rejection, printed as a failing run would print it:\n");
	CHECK_EQ_I64(lc_check_wgl(&h, 4, 0, stdout), 1);

	fclose(sink);
	lc_history_free(&h);
	return check_report("lincheck");
}
