/*
 * Litmus (demonstration and harness guard): store buffering with
 * release/acquire only.
 *
 *   actor 0:  x = 1 (release); r0 = y (acquire)
 *   actor 1:  y = 1 (release); r1 = x (acquire)
 *
 * r0 == 0 && r1 == 0 is ALLOWED by C11 here (release/acquire gives no
 * store->load order) and x86 really produces it: the store buffer.  This is
 * why "publish a flag, then check for waiters" needs a seq_cst fence (see
 * fence_sb_seqcst.c and internal/event.h).  The test passes whatever it
 * sees - it forbids nothing - but it requires the outcomes r0=0/r1=1 and
 * r0=1/r1=0, so a harness whose actors do not overlap fails here instead
 * of silently proving nothing elsewhere; the 0/0 count is printed.
 */
#include "sb.h"

static void a0(void *p, int *r)
{
	struct sb_state *s = (struct sb_state *)p;
	atomic_store_explicit(&s->x, 1, memory_order_release); /* pairs with the acquire load in a1 */
	r[0] = atomic_load_explicit(&s->y, memory_order_acquire); /* pairs with the release store in a1 */
}
static void a1(void *p, int *r)
{
	struct sb_state *s = (struct sb_state *)p;
	atomic_store_explicit(&s->y, 1, memory_order_release); /* pairs with the acquire load in a0 */
	r[1] = atomic_load_explicit(&s->x, memory_order_acquire); /* pairs with the release store in a0 */
}

int main(int argc, char **argv)
{
	return sb_run("fence_sb_acqrel", a0, a1, 0, 1, argc, argv, 2000000);
}
