/* Review of ak_ring_slot init validation (s4/rvslot): inputs that init
 * accepts today although using the ring afterwards is undefined.  Each
 * CHECK below fails until init rejects the input with AK_EINVAL.
 *  - storage overlapping the control block: init's memset and word stores
 *    then overwrite cfg/prod/cons/tail (and a push writes into them);
 *  - a control block not aligned for its atomics: every atomic access is
 *    misaligned (UBSan: "member access within misaligned address"). */
#include <atomkit/ring_slot.h>
#include <stdalign.h>

#include "check.h"

static alignas(128) unsigned char g_mem[1u << 16];

static void test_storage_overlaps_ring(void)
{
	ak_ring_slot *r = (ak_ring_slot *)(void *)g_mem;
	size_t need = ak_ring_slot_memsize(16, 8);

	/* storage starts inside the control block */
	CHECK_ST(ak_ring_slot_init(r, g_mem + 64, need, 16, 8, 0), AK_EINVAL);
	/* storage is the control block */
	CHECK_ST(ak_ring_slot_init(r, g_mem, need, 16, 8, 0), AK_EINVAL);
	/* storage ends inside the control block */
	r = (ak_ring_slot *)(void *)(g_mem + 4096);
	CHECK_ST(ak_ring_slot_init(r, g_mem + 4096 - need + 8, need, 16, 8, 0), AK_EINVAL);
}

static void test_misaligned_ring(void)
{
	/* Only the status is looked at: a misaligned r is not dereferenced
	 * by a correct init. */
	ak_ring_slot *r = (ak_ring_slot *)(void *)(g_mem + 4);
	CHECK_ST(ak_ring_slot_init(r, g_mem + 8192, ak_ring_slot_memsize(16, 8), 16, 8, 0),
		 AK_EINVAL);
}

int main(void)
{
	test_storage_overlaps_ring();
	test_misaligned_ring();
	return check_report("ring_slot_review");
}
