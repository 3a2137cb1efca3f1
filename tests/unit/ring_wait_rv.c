/*
 * Review checks of the gated rings' metered poll (src/ring_wait.c,
 * poll_metered()), beside tests/unit/ring_wait.c: the same kind of
 * hand-made waitset, a scripted ready() that moves an ak_fake_clock by a
 * fixed step per call, so every figure below is exact.
 *
 *   bound:     back-to-back waits whose partner never shows up, with this
 *              VM's figures (40 ns a poll, the 1024-poll fixed spin, the
 *              default 4 ms spin_max): their polling past the fixed spin
 *              stays within 1/16 of the time plus one spin_max, give or
 *              take one clock-check interval (docs/ring.md, "Metered
 *              polling").
 *   long:      a poll that runs 2 ms of its 4 ms without losing its CPU
 *              is not mistaken for a preempted one.
 *   garbage:   a spin_max above the limit (a shared ring's word written
 *              by something else) means no polling, and the meter is
 *              left alone.
 *   edges:     the exact boundaries: credit of 1 us polls, just below
 *              does not; the poll stops at the clock read where its
 *              credit, its deadline or a 0.5 ms gap is reached exactly;
 *              a partner seen by the last look of the poll is polled.
 *   offcpu:    a poll whose thread lost its CPU for 50 ms is charged
 *              its credit, not the 50 ms.
 *   backwards: a fake clock stepping back ends the poll; no credit until
 *              it passes the meter again.
 *   tiny:      a spin_max below the 1 us floor the setters accept still
 *              polls (else the setter's AK_OK would mean "off").
 */
#include <atomkit/cancel.h>
#include <atomkit/ring.h>
#include <string.h>

#include "check.h"
#include "ring_wait_script.h"

#define T0 (UINT64_C(10) * 1000000000)
#define US UINT64_C(1000)
#define CHECK_EVERY 32u /* _AK_RING_SPIN_CHECK in src/ring_wait.c */

static struct wait_script g_s;

/* A fenced waitset: registering costs no membarrier, so a long loop of
 * waits makes no system call at all. */
static struct _ak_ring_waitset rv_setup(uint64_t step, unsigned fixed, uint64_t max)
{
	return script_setup(&g_s, T0, step, fixed, 1, max);
}

static void rv_next(void)
{
	g_s.calls = 0;
	g_s.reg_calls = 0;
	g_s.ready_at = 0;
	g_s.jump_at = 0;
}

static uint64_t vt1(void)
{
	return atomic_load_explicit(&g_s.w.spin_vt[1], memory_order_relaxed);
}

static void set_vt1(uint64_t v)
{
	atomic_store_explicit(&g_s.w.spin_vt[1], v, memory_order_relaxed);
}

static uint64_t polled(void)
{
	return atomic_load_explicit(&g_s.w.polled, memory_order_relaxed);
}

/* Polls past the fixed spin of one wait that registered. */
static unsigned poll_calls(void)
{
	return g_s.reg_calls - g_s.fixed;
}

static void test_bound(void)
{
	const uint64_t step = 40, max = AK_RING_WAIT_SPIN_DEFAULT;
	struct _ak_ring_waitset ws = rv_setup(step, 1024, max);
	uint64_t polling = 0;
	unsigned waits = 20000;

	for (unsigned i = 0; i < waits; i++) {
		rv_next();
		CHECK_ST(_ak_ring_sleep(&ws, 1, 1, AK_DEADLINE_NONE, NULL), AK_OK);
		polling += g_s.reg_time - g_s.poll_from;
	}
	uint64_t wall = ak_fake_clock_advance(&g_s.clk, 0) - T0;
	/* the promise, plus the one clock-check interval (32 polls) the last
	 * poll may run past its credit, plus its last look */
	uint64_t bound = wall / _AK_RING_SPIN_SHARE + max + (CHECK_EVERY + 1) * step;
	if (polling > bound)
		fprintf(stderr, "bound: %u waits, %" PRIu64 " ns wall, %" PRIu64
			" ns polled past the fixed spin, bound %" PRIu64 " (%.2f%% of the wall)\n",
			waits, wall, polling, bound, 100.0 * (double)polling / (double)wall);
	CHECK(polling <= bound);
}

static void test_long(void)
{
	struct _ak_ring_waitset ws = rv_setup(US, 4, 4000 * US);
	rv_next();
	g_s.ready_at = 4 + 2000; /* 2 ms into the poll */
	CHECK_ST(_ak_ring_sleep(&ws, 1, 1, AK_DEADLINE_NONE, NULL), AK_OK);
	CHECK_EQ_U64(g_s.reg_calls, 0);
	CHECK_EQ_U64(polled(), 1);
	CHECK_EQ_U64(g_s.calls, 4 + 2000);
	/* used 1999 us of its 4000, gave back the rest */
	CHECK_EQ_U64(vt1(), T0 + 4 * US - (4000 - 1999) * US * _AK_RING_SPIN_SHARE);
}

static void test_garbage(void)
{
	static const uint64_t bad[] = {AK_RING_WAIT_SPIN_LIMIT + 1, UINT64_MAX,
				       UINT64_C(0x8000000000000000)};
	for (unsigned k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		struct _ak_ring_waitset ws = rv_setup(US, 4, 0);
		atomic_store_explicit(&g_s.w.spin_max, bad[k], memory_order_relaxed);
		rv_next();
		CHECK_ST(_ak_ring_sleep(&ws, 1, 1, AK_DEADLINE_NONE, NULL), AK_OK);
		CHECK_EQ_U64(g_s.reg_calls, 4); /* registered right after the fixed spin */
		CHECK_EQ_U64(vt1(), 0);
		CHECK_EQ_U64(polled(), 0);
	}
}

static void test_edges(void)
{
	struct _ak_ring_waitset ws;
	uint64_t start = T0 + 4 * US;

	/* credit exactly 1 us: polls (and, the partner never showing up,
	 * registers after its first clock read) */
	ws = rv_setup(US, 4, 4000 * US);
	set_vt1(start - 16 * US);
	rv_next();
	CHECK_ST(_ak_ring_sleep(&ws, 1, 1, AK_DEADLINE_NONE, NULL), AK_OK);
	CHECK_EQ_U64(poll_calls(), CHECK_EVERY + 1);
	/* credit 1 ns short of 1 us: no poll, meter untouched */
	ws = rv_setup(US, 4, 4000 * US);
	set_vt1(start - 16 * US + 1);
	rv_next();
	CHECK_ST(_ak_ring_sleep(&ws, 1, 1, AK_DEADLINE_NONE, NULL), AK_OK);
	CHECK_EQ_U64(poll_calls(), 0);
	CHECK_EQ_U64(vt1(), start - 16 * US + 1);

	/* credit exactly 64 us: the second clock read (64 us) ends it */
	ws = rv_setup(US, 4, 64 * US);
	rv_next();
	CHECK_ST(_ak_ring_sleep(&ws, 1, 1, AK_DEADLINE_NONE, NULL), AK_OK);
	CHECK_EQ_U64(poll_calls(), 2 * CHECK_EVERY + 1);

	/* deadline exactly at the first clock read: AK_ETIMEDOUT there */
	ws = rv_setup(US, 4, 4000 * US);
	rv_next();
	CHECK_ST(_ak_ring_sleep(&ws, 1, 1, start + CHECK_EVERY * US, NULL), AK_ETIMEDOUT);
	CHECK_EQ_U64(g_s.calls, 4 + CHECK_EVERY + 1);
	CHECK_EQ_U64(g_s.reg_calls, 0);

	/* a gap of exactly 0.5 ms between two clock reads ends the poll */
	ws = rv_setup(US, 4, 4000 * US);
	rv_next();
	g_s.jump_at = 4 + 40;
	g_s.jump_ns = 500 * US - (CHECK_EVERY - 1) * US;
	CHECK_ST(_ak_ring_sleep(&ws, 1, 1, AK_DEADLINE_NONE, NULL), AK_OK);
	CHECK_EQ_U64(poll_calls(), 2 * CHECK_EVERY + 1);
	/* 1 ns less is not a preemption: it polls on */
	ws = rv_setup(US, 4, 4000 * US);
	rv_next();
	g_s.jump_at = 4 + 40;
	g_s.jump_ns = 500 * US - (CHECK_EVERY - 1) * US - 1;
	g_s.ready_at = 4 + 100;
	CHECK_ST(_ak_ring_sleep(&ws, 1, 1, AK_DEADLINE_NONE, NULL), AK_OK);
	CHECK_EQ_U64(g_s.reg_calls, 0);
	CHECK_EQ_U64(polled(), 1);

	/* the partner shows up on the poll's last look (after the clock read
	 * that found the credit spent): no registration, counted as polled */
	ws = rv_setup(US, 4, 64 * US);
	rv_next();
	g_s.ready_at = 4 + 2 * CHECK_EVERY + 1;
	CHECK_ST(_ak_ring_sleep(&ws, 1, 1, AK_DEADLINE_NONE, NULL), AK_OK);
	CHECK_EQ_U64(g_s.reg_calls, 0);
	CHECK_EQ_U64(polled(), 1);
}

/* A poll whose thread is off its CPU for 50 ms (a clock step inside it)
 * is charged its credit, no more: the step was not polling. */
static void test_offcpu_charge(void)
{
	struct _ak_ring_waitset ws;
	uint64_t start = T0 + 4 * US;

	/* the step is seen by a clock read inside the loop */
	ws = rv_setup(US, 4, 100 * US);
	rv_next();
	g_s.jump_at = 4 + 10;
	g_s.jump_ns = 50000 * US;
	CHECK_ST(_ak_ring_sleep(&ws, 1, 1, AK_DEADLINE_NONE, NULL), AK_OK);
	CHECK_EQ_U64(poll_calls(), CHECK_EVERY + 1);
	CHECK_EQ_U64(vt1(), start);
	/* the step comes after the last clock read, and the partner right
	 * after it: the final clock read sees the gap */
	ws = rv_setup(US, 4, 100 * US);
	rv_next();
	g_s.jump_at = 4 + 10;
	g_s.jump_ns = 50000 * US;
	g_s.ready_at = 4 + 20;
	CHECK_ST(_ak_ring_sleep(&ws, 1, 1, AK_DEADLINE_NONE, NULL), AK_OK);
	CHECK_EQ_U64(polled(), 1);
	CHECK_EQ_U64(vt1(), start);
}

/* A fake clock may step back (CLOCK_MONOTONIC cannot): the poll ends at
 * the next clock read, is charged its credit, and a meter left ahead of
 * the clock gives no credit (and is left alone) until the clock passes it. */
static void test_backwards(void)
{
	uint64_t start = T0 + 4 * US;
	struct _ak_ring_waitset ws = rv_setup(US, 4, 100 * US);
	rv_next();
	g_s.jump_at = 4 + 10;
	g_s.jump_ns = (uint64_t)0 - 1000000 * US; /* 1 s back */
	CHECK_ST(_ak_ring_sleep(&ws, 1, 1, AK_DEADLINE_NONE, NULL), AK_OK);
	CHECK_EQ_U64(poll_calls(), CHECK_EVERY + 1);
	CHECK_EQ_U64(vt1(), start);
	rv_next();
	CHECK_ST(_ak_ring_sleep(&ws, 1, 1, AK_DEADLINE_NONE, NULL), AK_OK);
	CHECK_EQ_U64(poll_calls(), 0);
	CHECK_EQ_U64(vt1(), start);
}

static void test_tiny(void)
{
	/* ak_ring_set_wait_spin(r, 500) answers AK_OK: a wait must then
	 * poll (for about 500 ns), not silently never */
	struct _ak_ring_waitset ws = rv_setup(100, 4, 500);
	rv_next();
	CHECK_ST(_ak_ring_sleep(&ws, 1, 1, AK_DEADLINE_NONE, NULL), AK_OK);
	CHECK(poll_calls() > 0);
}

int main(void)
{
	test_bound();
	test_long();
	test_garbage();
	test_edges();
	test_offcpu_charge();
	test_backwards();
	test_tiny();
	return check_report("ring_wait_rv");
}
