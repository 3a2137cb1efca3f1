/*
 * Unit tests for the linearizability checker (tests/harness/lincheck.*):
 * hand-made histories it must accept, and non-linearizable ones it must
 * reject, so a clean stress run means something.
 */
#include <atomkit/status.h>
#include <stdlib.h>

#include "check.h"
#include "lincheck.h"

static struct lc_history h, h2;
static FILE *sink;

#define V(p, s) (((uint64_t)(p) << 40) | (uint64_t)(s))

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

int main(void)
{
	CHECK(lc_history_init(&h, 4, 64) == 0);
	sink = fopen("/dev/null", "w");
	CHECK(sink != NULL);

	/* 1. sequential FIFO: accepted */
	reset();
	add(0, LC_PUSH, LC_OK, V(0, 1), 0, 10);
	add(0, LC_PUSH, LC_OK, V(0, 2), 20, 30);
	add(1, LC_POP, LC_OK, V(0, 1), 40, 50);
	add(1, LC_POP, LC_OK, V(0, 2), 60, 70);
	add(1, LC_POP, LC_EMPTY, 0, 80, 90);
	expect(0, 0, 2, 1, "sequential");

	/* 2. FIFO violated in real time: push a, then push b, pop b then pop a */
	reset();
	add(0, LC_PUSH, LC_OK, V(0, 1), 0, 10);
	add(0, LC_PUSH, LC_OK, V(0, 2), 20, 30);
	add(1, LC_POP, LC_OK, V(0, 2), 40, 50);
	add(1, LC_POP, LC_OK, V(0, 1), 60, 70);
	expect(1, 1, 4, 1, "fifo");

	/* 3. the same pops, but the pushes overlap: either order is legal */
	reset();
	add(0, LC_PUSH, LC_OK, V(0, 1), 0, 30);
	add(2, LC_PUSH, LC_OK, V(2, 1), 10, 20);
	add(1, LC_POP, LC_OK, V(2, 1), 40, 50);
	add(1, LC_POP, LC_OK, V(0, 1), 60, 70);
	expect(0, 0, 4, 1, "overlapping pushes");

	/* 4. EMPTY although an element was present the whole time */
	reset();
	add(0, LC_PUSH, LC_OK, V(0, 1), 0, 10);
	add(1, LC_POP, LC_EMPTY, 0, 20, 30);
	add(1, LC_POP, LC_OK, V(0, 1), 40, 50);
	expect(1, 1, 4, 1, "empty while present");

	/* 5. EMPTY overlapping the push: legal */
	reset();
	add(0, LC_PUSH, LC_OK, V(0, 1), 0, 30);
	add(1, LC_POP, LC_EMPTY, 20, 25, 26);
	add(1, LC_POP, LC_OK, V(0, 1), 40, 50);
	expect(0, 0, 4, 1, "empty overlapping push");

	/* 6. phantom value */
	reset();
	add(0, LC_PUSH, LC_OK, V(0, 1), 0, 10);
	add(1, LC_POP, LC_OK, V(3, 3), 20, 30);
	expect(1, 1, 4, 0, "phantom");

	/* 7. duplicate delivery */
	reset();
	add(0, LC_PUSH, LC_OK, V(0, 1), 0, 10);
	add(1, LC_POP, LC_OK, V(0, 1), 20, 30);
	add(2, LC_POP, LC_OK, V(0, 1), 25, 35);
	expect(1, 1, 4, 0, "duplicate");

	/* 8. FULL with capacity 2 and only one element: rejected; with two: ok */
	reset();
	add(0, LC_PUSH, LC_OK, V(0, 1), 0, 10);
	add(0, LC_PUSH, LC_FULL, V(0, 2), 20, 30);
	expect(1, 1, 2, 0, "full too early");
	reset();
	add(0, LC_PUSH, LC_OK, V(0, 1), 0, 10);
	add(0, LC_PUSH, LC_OK, V(0, 2), 12, 18);
	add(0, LC_PUSH, LC_FULL, V(0, 3), 20, 30);
	add(1, LC_POP, LC_OK, V(0, 1), 25, 40);
	expect(0, 0, 2, 0, "full");

	/* 9. lost element in a drained history (the exact checker has no
	 * notion of "drained": a remaining element is a legal final state) */
	reset();
	add(0, LC_PUSH, LC_OK, V(0, 1), 0, 10);
	add(0, LC_PUSH, LC_OK, V(0, 2), 20, 30);
	add(1, LC_POP, LC_OK, V(0, 1), 40, 50);
	expect(0, 1, 4, 1, "lost");

	/* 10. needs the search: every pairwise test passes but no order works.
	 * cap 1: push a || push b both succeed and overlap, and a pop of a ends
	 * before the pop of b begins; but b's push ended before a pop of a
	 * began, with capacity 1 b can only be pushed after a is popped, and
	 * b's push ended before a's pop even started. */
	reset();
	add(0, LC_PUSH, LC_OK, V(0, 1), 0, 100);
	add(1, LC_PUSH, LC_OK, V(1, 1), 10, 20);
	add(2, LC_POP, LC_OK, V(0, 1), 30, 40);
	add(2, LC_POP, LC_OK, V(1, 1), 50, 60);
	expect(1, 0, 1, 1, "capacity interplay");

	/* 11. a longer legal interleaving with many overlaps */
	reset();
	for (unsigned t = 0; t < 3; t++)
		for (unsigned i = 0; i < 5; i++)
			add(t, LC_PUSH, LC_OK, V(t, i), 100 * i + t, 100 * i + 50 + t);
	for (unsigned i = 0; i < 5; i++)
		for (unsigned t = 0; t < 3; t++)
			add(3, LC_POP, LC_OK, V(t, i), 1000 + 30 * (3 * i + t),
			    1000 + 30 * (3 * i + t) + 10);
	expect(0, 0, 16, 1, "long legal");

	/* 12. regression: a legal history (recorded from ak_ring_seq, capacity
	 * 3) whose only linearization puts T7's long push near the end; the
	 * search must backtrack over pops whose queue cells later pushes have
	 * reused (an early checker lost the popped entry and rejected it). */
	CHECK(lc_history_init(&h2, 8, 64) == 0);
	{
		struct lc_history saved = h;
		h = h2;
		add(4, LC_POP, LC_EMPTY, 0, 0, 60);
		add(4, LC_PUSH, LC_OK, V(4, 8374), 90, 130);
		add(4, LC_POP, LC_OK, V(4, 8374), 150, 190);
		add(7, LC_PUSH, LC_OK, V(7, 8461), 2294, 2334);
		add(7, LC_PUSH, LC_OK, V(7, 8462), 2365, 73180);
		add(3, LC_PUSH, LC_OK, V(3, 8527), 59503, 59543);
		add(3, LC_PUSH, LC_OK, V(3, 8528), 59574, 59614);
		add(3, LC_POP, LC_OK, V(7, 8461), 59644, 59674);
		add(0, LC_POP, LC_OK, V(3, 8527), 61958, 62019);
		add(0, LC_PUSH, LC_OK, V(0, 8535), 62039, 62079);
		add(0, LC_POP, LC_OK, V(3, 8528), 62099, 62139);
		add(2, LC_POP, LC_OK, V(0, 8535), 64243, 64283);
		add(2, LC_PUSH, LC_OK, V(2, 8412), 64312, 64343);
		add(2, LC_PUSH, LC_OK, V(2, 8413), 64373, 64403);
		add(5, LC_PUSH, LC_OK, V(5, 8452), 66487, 66517);
		add(5, LC_POP, LC_OK, V(2, 8412), 66547, 66577);
		add(5, LC_PUSH, LC_OK, V(5, 8453), 66607, 66637);
		add(6, LC_PUSH, LC_FULL, V(6, 8451), 68651, 68701);
		add(6, LC_PUSH, LC_FULL, V(6, 8452), 68731, 68761);
		add(6, LC_PUSH, LC_FULL, V(6, 8453), 68781, 68811);
		add(1, LC_PUSH, LC_FULL, V(1, 8387), 70785, 70825);
		add(1, LC_POP, LC_OK, V(2, 8413), 70855, 70885);
		add(1, LC_POP, LC_OK, V(5, 8452), 70916, 70945);
		add(7, LC_POP, LC_OK, V(5, 8453), 73220, 73249);
		add(0, LC_POP, LC_OK, V(7, 8462), 84962, 85022);
		add(0, LC_POP, LC_EMPTY, 0, 85052, 85083);
		expect(0, 0, 3, 1, "backtracking over reused cells");
		h2 = h;
		h = saved;
	}
	lc_history_free(&h2);

	/* 13. the checker refuses what it cannot decide */
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
