/*
 * Review test for ak_ring's close (branch s5/rvslotwait): the case that
 * abb2b10 fixed in ak_ring_slot ("a producer that finds close begun without
 * announcing waits until close has frozen close_pos before AK_ECLOSED"),
 * checked on ak_ring's single producer.
 *
 *   test_rv_ring_spsc_push_after_eclosed: a closer has won its CAS
 *     (closed == CLOSING) and is preempted before it sets the gate's CLOSED
 *     bit.  A push on the full ring returns AK_ECLOSED; the consumer then
 *     frees a slot; the producer's next push must be refused too.  Today
 *     it succeeds (it checks only the gate bit), and the closer, reading
 *     the head afterwards, counts it: the item is delivered after its
 *     producer was told the ring is closed.
 */
#include <atomkit/ring.h>

#include "check.h"

static void test_rv_ring_spsc_push_after_eclosed(void)
{
	static uint64_t buf[2];
	ak_ring r;
	uint64_t v;

	CHECK_ST(ak_ring_init(&r, buf, sizeof buf, 2, 8, 0), AK_OK);
	for (v = 1; v <= 2; v++)
		CHECK_ST(ak_ring_push_spsc(&r, &v), AK_OK);
	/* ak_ring_close()'s first step, done by hand: the closer is elected
	 * and then loses its CPU (seq_cst: as its CAS) */
	atomic_store_explicit(&r.wait.closed, _AK_RING_CLOSING, memory_order_seq_cst);
	v = 3;
	CHECK_ST(ak_ring_push_spsc(&r, &v), AK_ECLOSED); /* full, and close has begun */
	CHECK_ST(ak_ring_pop_spsc(&r, &v), AK_OK);       /* the consumer frees a slot */
	CHECK_EQ_U64(v, 1);
	v = 4;
	/* once told AK_ECLOSED, the producer stays refused */
	CHECK_ST(ak_ring_push_spsc(&r, &v), AK_ECLOSED);
	CHECK_EQ_U64(ak_ring_size(&r), 1);
}

int main(void)
{
	test_rv_ring_spsc_push_after_eclosed();
	return check_report("ring_rv");
}
