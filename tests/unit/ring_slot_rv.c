/*
 * Review tests for ak_ring_slot's blocking waits, close and the layout
 * version word (branch s5/rvslotwait).  Each test scripts one interleaving
 * that the other ring tests do not reach, by doing a producer's steps by
 * hand on the ring's fields: the announcement (prod.head), then later the
 * rest of the push.
 *
 *   test_rv_old_layout_try_pop: a ring made by a build before the version
 *     word (four units, storage right after them) must read as empty, not
 *     closed: the try forms may not read the `wait` unit such a ring does
 *     not have.
 *   test_rv_inflight_push_reaches_sleeper: a consumer that registers to
 *     sleep while a push is announced but not yet published, whose gate
 *     read came before the registration (so it will not wake anyone), must
 *     still get the item: the in-flight poll of slot_ready().
 *   test_rv_close_counts_announced_push: a push announced before close
 *     froze close_pos, which then sees the CLOSED bit, must complete with
 *     AK_OK and be delivered; the consumer then gets AK_ECLOSED.
 *
 * The last two pass today.  They pin branches that the other tests reach
 * only by chance: with the in-flight poll removed, or _ak_ring_closed_check()'s
 * ">= n" made "> n", unit/ring_slot, ring_slot_shm and stress/ring_slot pass
 * and stress/ring_slot_wait hangs at some thread counts only (seen at t16
 * native / t8 TSan, killed after 300 s); these fail at once (the in-flight
 * one after its 10 s bound).
 */
#include <atomkit/cancel.h>
#include <atomkit/ring_slot.h>
#include <pthread.h>
#include <stdalign.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "futex_probe.h"

/* ---- a ring of the layout before the version word -------------------- */

/* An older build's ak_ring_slot: cfg (capacity, mask, elem_size, stride,
 * data_off; the rest of its unit zero), prod {head, limit}, cons {head,
 * cache}, tail: four 128-byte units, the same offsets as today's first
 * four.  Its storage follows the block, as in a shared mapping laid out
 * block-then-slots. */
static alignas(128) unsigned char old_map[4096];

static void test_rv_old_layout_try_pop(void)
{
	ak_ring_slot *r = (ak_ring_slot *)(void *)old_map;
	const size_t old_block = 4 * AK_DESTRUCTIVE_SIZE;
	uint64_t in[2] = { 5, 2 }, out[2] = { 0, 0 }, v = 0;

	memset(old_map, 0, sizeof old_map);
	r->cfg.capacity = 2;
	r->cfg.mask = 1;
	r->cfg.elem_size = 8;
	r->cfg.stride = 16;
	r->cfg.data_off = (int64_t)old_block;
	for (uint64_t p = 0; p < 2; p++) /* the old init's words: p at slot p */
		memcpy(old_map + old_block + p * 16, &p, 8);
	r->prod.limit = 2;
	CHECK_EQ_U64(r->cfg.magic, 0); /* an old ring: _wait and close refuse it */
	CHECK_ST(ak_ring_slot_close(r), AK_EINVAL);

	/* the try forms work on it: one batch of two, taken */
	CHECK_ST(ak_ring_slot_push_bulk_spsc(r, in, 2), AK_OK);
	CHECK_ST(ak_ring_slot_pop_bulk_spsc(r, out, 2), AK_OK);
	CHECK(out[0] == 5 && out[1] == 2);
	/* Nobody closed this ring: an empty pop must say AK_EEMPTY.  (The
	 * `wait` unit of today's layout lies over the old ring's slots: slot
	 * 0's word, now 2, reads as closed == SEALED, slot 1's element, 2, as
	 * close_pos == head.) */
	CHECK_ST(ak_ring_slot_pop_spsc(r, &v), AK_EEMPTY);
	CHECK_ST(ak_ring_slot_pop_burst_spsc(r, out, 2, &v), AK_EEMPTY);
	ak_ring_slot_zc zc;
	CHECK_ST(ak_ring_slot_peek_spsc(r, 1, &zc), AK_EEMPTY);
	CHECK(!ak_ring_slot_is_closed(r)); /* nor does is_closed read that word */
	/* and the ring still works */
	CHECK_ST(ak_ring_slot_push_spsc(r, &in[0]), AK_OK);
	CHECK_ST(ak_ring_slot_pop_spsc(r, &v), AK_OK);
	CHECK_EQ_U64(v, 5);
}

/* ---- a push caught between its announcement and its word ------------- */

static alignas(128) unsigned char g_mem[1u << 16];

struct popper {
	ak_ring_slot *r;
	ak_cancel *rescue;
	uint64_t v;
	ak_status st;
	_Atomic(long) tid;
	_Atomic(int) done;
};

static void *popper_main(void *arg)
{
	struct popper *p = (struct popper *)arg;
	futex_probe_self(&p->tid);
	p->st = ak_ring_slot_pop_wait_spsc(p->r, &p->v, AK_DEADLINE_NONE, p->rescue);
	/* Release: pairs with the acquire load in returned_within(). */
	atomic_store_explicit(&p->done, 1, memory_order_release);
	return NULL;
}

/* Did the popper return within `secs` seconds?  (Only bounds a hang: a
 * correct ring returns within about a millisecond.) */
static int returned_within(struct popper *p, unsigned secs)
{
	uint64_t bound = ak_deadline_after((uint64_t)secs * AK_NS_PER_SEC);
	/* Acquire: pairs with the release store in popper_main(). */
	while (!atomic_load_explicit(&p->done, memory_order_acquire)) {
		if (ak_now_ns() >= bound)
			return 0;
		usleep(1000);
	}
	return 1;
}

/* The producer's first steps of a one-element push at its head h: the
 * element, then the announcement.  Its gate read happened here too, before
 * any consumer registered, so the push will not wake anyone. */
static unsigned char *announce(ak_ring_slot *r, uint64_t h, uint64_t value)
{
	/* (from g_mem, the ring's storage, not from r + data_off: the object
	 * size checks of UBSan would take that for an access beyond *r) */
	unsigned char *slot = g_mem + (size_t)(h & r->cfg.mask) * r->cfg.stride;
	memcpy(slot + 8, &value, 8);
	/* Relaxed: as in _ak_ring_slot_publish() (the word store orders it). */
	atomic_store_explicit(&r->prod.head, h + 1, memory_order_relaxed);
	return slot;
}

/* The rest of that push: the word store, and no wake (its gate read saw no
 * waiter). */
static void finish(unsigned char *slot, uint64_t h)
{
	/* Release: as in _ak_ring_slot_publish(); pairs with the consumer's
	 * acquire (seq_cst in slot_ready()) of the word. */
	atomic_store_explicit((_Atomic(uint64_t) *)(void *)slot, h + 1, memory_order_release);
}

static void test_rv_inflight_push_reaches_sleeper(void)
{
	static alignas(128) ak_ring_slot r;
	for (int with_close = 0; with_close <= 1; with_close++) {
		struct popper p;
		pthread_t t;
		ak_cancel rescue;

		CHECK_ST(ak_ring_slot_init(&r, g_mem, sizeof g_mem, 4, 8, 0), AK_OK);
		unsigned char *slot = announce(&r, 0, 77);
		if (with_close) /* close counts the announced push (close_pos 1) */
			CHECK_ST(ak_ring_slot_close(&r), AK_OK);
		memset(&p, 0, sizeof p);
		CHECK_ST(ak_cancel_init(&rescue), AK_OK);
		p.r = &r;
		p.rescue = &rescue;
		p.v = 1000;
		pthread_create(&t, NULL, popper_main, &p);
		/* it registered, saw the push in flight, and sleeps (briefly) */
		CHECK(futex_probe_wait(&p.tid, &r.wait.data_seq, 10));
		finish(slot, 0);
		/* nobody wakes it: it must find the item by itself */
		int found = returned_within(&p, 10);
		CHECK(found);
		if (!found) /* asleep for good: cancel it, the item stays */
			(void)ak_cancel_request(&rescue, AK_ECANCELED);
		pthread_join(t, NULL);
		CHECK_ST(ak_cancel_destroy(&rescue), AK_OK);
		CHECK_ST(p.st, AK_OK);
		CHECK_EQ_U64(p.v, 77);
		if (with_close)
			CHECK_ST(ak_ring_slot_pop_wait_spsc(&r, &p.v, AK_DEADLINE_NONE, NULL),
				 AK_ECLOSED);
		/* it left the gate and the sleeper count as it found them */
		CHECK_EQ_U64(atomic_load_explicit(&r.prod.gate, memory_order_relaxed) /
				     _AK_RING_GATE_WAITER,
			     0);
		CHECK_EQ_U64(atomic_load_explicit(&r.wait.data_sleepers, memory_order_relaxed), 0);
	}
}

/* ---- close and a push announced before it ---------------------------- */

static void test_rv_close_counts_announced_push(void)
{
	static alignas(128) ak_ring_slot r;
	uint64_t v = 0;

	CHECK_ST(ak_ring_slot_init(&r, g_mem, sizeof g_mem, 4, 8, 0), AK_OK);
	/* the producer announced [0, 1) and close read that head ... */
	unsigned char *slot = announce(&r, 0, 55);
	CHECK_ST(ak_ring_slot_close(&r), AK_OK);
	CHECK_EQ_U64(atomic_load_explicit(&r.wait.close_pos, memory_order_relaxed), 1);
	/* ... then the producer goes on: its gate read now sees CLOSED (the
	 * head store repeats the same value).  Close counted the push: AK_OK. */
	CHECK_ST(_ak_ring_slot_publish(&r, (char *)slot, 0, 1), AK_OK);
	CHECK_EQ_U64(ak_ring_slot_size(&r), 1);
	/* a later push is past close_pos: refused, nothing announced */
	v = 66;
	CHECK_ST(ak_ring_slot_push_spsc(&r, &v), AK_ECLOSED);
	CHECK_EQ_U64(atomic_load_explicit(&r.prod.head, memory_order_relaxed), 1);
	/* the consumer gets the counted item, then AK_ECLOSED (not AK_EEMPTY
	 * for ever, waiting for an item whose push failed) */
	CHECK_ST(ak_ring_slot_pop_spsc(&r, &v), AK_OK);
	CHECK_EQ_U64(v, 55);
	CHECK_ST(ak_ring_slot_pop_spsc(&r, &v), AK_ECLOSED);
}

int main(void)
{
	test_rv_old_layout_try_pop();
	test_rv_inflight_push_reaches_sleeper();
	test_rv_close_counts_announced_push();
	return check_report("ring_slot_rv");
}
