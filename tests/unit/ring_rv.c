/*
 * Review test for ak_ring's close (branch s5/rvslotwait): the case that
 * abb2b10 fixed in ak_ring_slot ("a producer that finds close begun without
 * announcing waits until close has frozen close_pos before AK_ECLOSED"),
 * checked on ak_ring's single producer, and then on every gated ring whose
 * producer can answer AK_ECLOSED before it announces anything.
 *
 *   test_rv_ring_spsc_push_after_eclosed: a closer has won its CAS
 *     (closed == CLOSING) and is held before it sets the gate's CLOSED bit
 *     (the test hook _ak_ring_test_closing).  A push on the full ring
 *     finds close begun; the consumer then frees a slot; the producer's
 *     next push must be refused too.  Before the fix the first push
 *     returned AK_ECLOSED at once, and the second one, reading only the
 *     gate bit, published and returned AK_OK; the closer, reading the head
 *     afterwards, counted it: the item was delivered after its producer
 *     was told the ring is closed.  Now the first refusal waits for close
 *     to seal (the hook _ak_ring_test_refusing shows it waiting), and both
 *     pushes return AK_ECLOSED.
 *   The same scenario on ak_ring's MPSC push, on ak_ring_var (built on
 *   ak_ring's single producer) and on ak_ring_slot.
 *
 * Real time only bounds the waits for the other threads (a hang fails the
 * test instead of blocking it); nothing asserts a duration.
 */
#include <atomkit/ring.h>
#include <atomkit/ring_slot.h>
#include <atomkit/ring_var.h>
#include <pthread.h>
#include <stdalign.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

extern void (*_ak_ring_test_closing)(void *ring);  /* src/ring_wait.c */
extern void (*_ak_ring_test_refusing)(void *wait); /* src/ring_wait.c */

/* One ring under test, behind four calls on 64-bit values. */
struct subject {
	const char *name;
	void *ring;
	void *wait; /* its struct _ak_ring_wait */
	ak_status (*push)(void *ring, uint64_t v);
	ak_status (*pop)(void *ring, uint64_t *v);
	ak_status (*close)(void *ring);
	uint64_t (*size)(void *ring); /* elements held */
	/* The first push's answer while the closer is held: AK_ECLOSED for
	 * the rings whose full path reads `closed` (ak_ring and ak_ring_var),
	 * AK_EFULL for ak_ring_slot, which reads only its gate's CLOSED bit,
	 * not yet set (close is not visible to it yet; its next push is then
	 * counted by the close, correctly). */
	ak_status first;
};

/* ---- the scripted interleaving ---------------------------------------- */

static struct subject *g_subj;
static _Atomic(int) g_closing, g_go, g_refusing, g_popped, g_p_first, g_p_done;

/* Spin (politely) until *flag is set; 0 if 10 s pass first (a hang). */
static int await_flag(_Atomic(int) *flag)
{
	uint64_t bound = ak_deadline_after(10 * AK_NS_PER_SEC);
	/* Acquire: pairs with the release stores of the flags below. */
	while (!atomic_load_explicit(flag, memory_order_acquire)) {
		if (ak_now_ns() >= bound)
			return 0;
		usleep(100);
	}
	return 1;
}

static void set_flag(_Atomic(int) *flag)
{
	/* Release: pairs with the acquire load in await_flag()/either(). */
	atomic_store_explicit(flag, 1, memory_order_release);
}

/* Until either flag is set (0 after 10 s). */
static int await_either(_Atomic(int) *a, _Atomic(int) *b)
{
	uint64_t bound = ak_deadline_after(10 * AK_NS_PER_SEC);
	/* Acquire: pairs with set_flag(). */
	while (!atomic_load_explicit(a, memory_order_acquire) &&
	       !atomic_load_explicit(b, memory_order_acquire)) {
		if (ak_now_ns() >= bound)
			return 0;
		usleep(100);
	}
	return 1;
}

/* The closer, elected (CLOSING), stops here until the test says go. */
static void hold_closer(void *ring)
{
	if (ring != g_subj->ring)
		return;
	set_flag(&g_closing);
	(void)await_flag(&g_go);
}

static void note_refusing(void *wait)
{
	if (wait == g_subj->wait)
		set_flag(&g_refusing);
}

static ak_status g_close_st, g_st1, g_st2;

static void *closer_main(void *arg)
{
	(void)arg;
	g_close_st = g_subj->close(g_subj->ring);
	return NULL;
}

/* The producer: a push on the full ring during close, then, once the
 * consumer has freed a slot, another. */
static void *producer_main(void *arg)
{
	(void)arg;
	g_st1 = g_subj->push(g_subj->ring, 3);
	set_flag(&g_p_first);
	(void)await_flag(&g_popped);
	g_st2 = g_subj->push(g_subj->ring, 4);
	set_flag(&g_p_done);
	return NULL;
}

/* The ring holds 1 and 2 and is full. */
static void refused_stays_refused(struct subject *s)
{
	pthread_t closer, prod;
	uint64_t v = 0;
	unsigned long failed_before = check_failed_;

	g_subj = s;
	atomic_store_explicit(&g_closing, 0, memory_order_relaxed);
	atomic_store_explicit(&g_go, 0, memory_order_relaxed);
	atomic_store_explicit(&g_refusing, 0, memory_order_relaxed);
	atomic_store_explicit(&g_popped, 0, memory_order_relaxed);
	atomic_store_explicit(&g_p_first, 0, memory_order_relaxed);
	atomic_store_explicit(&g_p_done, 0, memory_order_relaxed);
	g_st1 = g_st2 = g_close_st = AK_EINVAL;
	_ak_ring_test_closing = hold_closer;
	_ak_ring_test_refusing = note_refusing;

	pthread_create(&closer, NULL, closer_main, NULL);
	CHECK(await_flag(&g_closing)); /* elected, CLOSED bit not yet set */
	pthread_create(&prod, NULL, producer_main, NULL);
	/* the first push answered, or it is waiting for close to seal */
	CHECK(await_either(&g_p_first, &g_refusing));
	CHECK_ST(s->pop(s->ring, &v), AK_OK); /* the consumer frees a slot */
	CHECK_EQ_U64(v, 1);
	set_flag(&g_popped);
	/* the second push answered (while the closer is still held), or the
	 * first one is still waiting for close to seal */
	CHECK(await_either(&g_p_done, &g_refusing));
	set_flag(&g_go);
	pthread_join(closer, NULL);
	pthread_join(prod, NULL);
	_ak_ring_test_closing = NULL;
	_ak_ring_test_refusing = NULL;

	CHECK_ST(g_close_st, AK_OK);
	CHECK_ST(g_st1, s->first); /* full, and close has begun (or not seen) */
	if (g_st1 == AK_ECLOSED) {
		/* once told AK_ECLOSED, the producer stays refused */
		CHECK_ST(g_st2, AK_ECLOSED);
		CHECK_EQ_U64(s->size(s->ring), 1);
	} else {
		/* close was not seen: the next push lands before it */
		CHECK_ST(g_st2, AK_OK);
		CHECK_EQ_U64(s->size(s->ring), 2);
	}
	/* the consumer drains what was pushed with AK_OK, then AK_ECLOSED */
	CHECK_ST(s->pop(s->ring, &v), AK_OK);
	CHECK_EQ_U64(v, 2);
	if (g_st2 == AK_OK) {
		CHECK_ST(s->pop(s->ring, &v), AK_OK);
		CHECK_EQ_U64(v, 4);
	}
	CHECK_ST(s->pop(s->ring, &v), AK_ECLOSED);
	if (check_failed_ != failed_before)
		fprintf(stderr, "  (in %s)\n", s->name);
}

/* ---- the rings -------------------------------------------------------- */

static alignas(128) ak_ring g_ring;
static alignas(128) ak_ring_var g_var;
static alignas(128) ak_ring_slot g_slot;
static alignas(128) unsigned char g_mem[4096];

static ak_status ring_push_sp(void *r, uint64_t v)
{
	return ak_ring_push_spsc((ak_ring *)r, &v);
}
static ak_status ring_push_mp(void *r, uint64_t v)
{
	return ak_ring_push_mpsc((ak_ring *)r, &v);
}
static ak_status ring_pop(void *r, uint64_t *v)
{
	return ak_ring_pop_spsc((ak_ring *)r, v);
}
static ak_status ring_close(void *r)
{
	return ak_ring_close((ak_ring *)r);
}
static uint64_t ring_size(void *r)
{
	return ak_ring_size((ak_ring *)r);
}

static ak_status var_push(void *r, uint64_t v)
{
	return ak_ring_var_push_spsc((ak_ring_var *)r, &v, sizeof v);
}
static ak_status var_pop(void *r, uint64_t *v)
{
	size_t len = 0;
	ak_status st = ak_ring_var_pop_spsc((ak_ring_var *)r, v, sizeof *v, &len);
	if (st == AK_OK && len != sizeof *v)
		return AK_ERANGE;
	return st;
}
static ak_status var_close(void *r)
{
	return ak_ring_var_close((ak_ring_var *)r);
}
static uint64_t var_size(void *r) /* records of 8 bytes: 2 units each */
{
	return ak_ring_var_bytes_used((ak_ring_var *)r) / 16;
}

static ak_status slot_push(void *r, uint64_t v)
{
	return ak_ring_slot_push_spsc((ak_ring_slot *)r, &v);
}
static ak_status slot_pop(void *r, uint64_t *v)
{
	return ak_ring_slot_pop_spsc((ak_ring_slot *)r, v);
}
static ak_status slot_close(void *r)
{
	return ak_ring_slot_close((ak_ring_slot *)r);
}
static uint64_t slot_size(void *r)
{
	return ak_ring_slot_size((ak_ring_slot *)r);
}

static void fill(struct subject *s)
{
	CHECK_ST(s->push(s->ring, 1), AK_OK);
	CHECK_ST(s->push(s->ring, 2), AK_OK);
	CHECK_ST(s->push(s->ring, 9), AK_EFULL);
}

static void test_rv_ring_spsc_push_after_eclosed(void)
{
	struct subject s = { "ak_ring spsc", &g_ring, &g_ring.wait, ring_push_sp,
			     ring_pop,       ring_close, ring_size, AK_ECLOSED };
	CHECK_ST(ak_ring_init(&g_ring, g_mem, sizeof g_mem, 2, 8, 0), AK_OK);
	fill(&s);
	refused_stays_refused(&s);
}

static void test_rv_ring_mpsc_push_after_eclosed(void)
{
	struct subject s = { "ak_ring mpsc", &g_ring, &g_ring.wait, ring_push_mp,
			     ring_pop,       ring_close, ring_size, AK_ECLOSED };
	CHECK_ST(ak_ring_init(&g_ring, g_mem, sizeof g_mem, 2, 8, 0), AK_OK);
	fill(&s);
	refused_stays_refused(&s);
}

static void test_rv_ring_var_push_after_eclosed(void)
{
	struct subject s = { "ak_ring_var", &g_var, &g_var.ring.wait, var_push,
			     var_pop,       var_close, var_size, AK_ECLOSED };
	/* 32 bytes: two records of 8 bytes (a header unit and a payload unit) */
	CHECK_ST(ak_ring_var_init(&g_var, g_mem, sizeof g_mem, 32, 0), AK_OK);
	fill(&s);
	refused_stays_refused(&s);
}

static void test_rv_ring_slot_push_after_eclosed(void)
{
	struct subject s = { "ak_ring_slot", &g_slot, &g_slot.wait, slot_push,
			     slot_pop,       slot_close, slot_size, AK_EFULL };
	CHECK_ST(ak_ring_slot_init(&g_slot, g_mem, sizeof g_mem, 2, 8, 0), AK_OK);
	fill(&s);
	refused_stays_refused(&s);
}

int main(void)
{
	test_rv_ring_spsc_push_after_eclosed();
	test_rv_ring_mpsc_push_after_eclosed();
	test_rv_ring_var_push_after_eclosed();
	test_rv_ring_slot_push_after_eclosed();
	return check_report("ring_rv");
}
