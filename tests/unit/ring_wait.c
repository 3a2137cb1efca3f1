/*
 * The metered poll of the gated rings' _wait forms (src/ring_wait.c,
 * "metered polling"), driven through a hand-made waitset whose ready()
 * is a script and whose clock is an ak_fake_clock: every poll moves the
 * clock by 1 us, so the time the poll took, the credit it used and what
 * it gave back are exact numbers, not measurements.
 *
 *   credit:   the meter's arithmetic (share, cap, a meter ahead of now).
 *   ready:    a partner that shows up while polling costs no system call;
 *             the unused credit goes back to the meter.
 *   exhaust:  a poll that runs out of credit registers to sleep (its
 *             membarrier is counted), and uses all of it; the meter then
 *             refills at 1/16 of the time.
 *   second:   a waiter that arrives while another polls finds no credit
 *             and registers after its fixed spin.
 *   off:      spin_max 0: no polling.
 *   preempt:  a clock step of 1 ms inside the poll (the poller was off its
 *             CPU) ends it; the rest of the credit goes back.
 *   cancel / deadline: both end the poll without a system call.
 *   api:      ak_ring_set_wait_spin() and friends: default, bounds, NULL.
 *   close_no_barrier: close whose membarrier fails retries, then waits for
 *             store buffers to drain, and still loses nothing.
 */
#include <atomkit/cancel.h>
#include <atomkit/ring.h>
#include <atomkit/ring_slot.h>
#include <atomkit/ring_var.h>
#include <stdalign.h>
#include <string.h>

#include "check.h"
#include "ring_wait_script.h"

#define T0 (UINT64_C(10) * 1000000000) /* the fake clock's start: 10 s */
#define US UINT64_C(1000)
#define FIXED 4 /* fixed spin polls, for these tests */

/* The script of the test under way: 1 us per poll, a waitset that is not
 * fenced (registering counts a membarrier). */
static struct wait_script *g_cur;

static struct _ak_ring_waitset setup(struct wait_script *s, uint64_t max)
{
	g_cur = s;
	return script_setup(s, T0, US, FIXED, 0, max);
}

static uint64_t vt_data(void)
{
	return atomic_load_explicit(&g_cur->w.spin_vt[1], memory_order_relaxed);
}

static ak_ring_syscall_split split(void)
{
	ak_ring_syscall_split sp;
	_ak_ring_read_split(&g_cur->w, &sp);
	return sp;
}

static void test_credit(void)
{
	uint64_t max = 4000 * US;
	CHECK_EQ_U64(_ak_ring_spin_credit(100, 100, max), 0);
	CHECK_EQ_U64(_ak_ring_spin_credit(200, 100, max), 0);
	CHECK_EQ_U64(_ak_ring_spin_credit(0, 16 * US, max), US);
	CHECK_EQ_U64(_ak_ring_spin_credit(T0 - 32 * US, T0, max), 2 * US);
	CHECK_EQ_U64(_ak_ring_spin_credit(0, T0, max), max);
	CHECK_EQ_U64(_ak_ring_spin_credit(T0 - 16 * max, T0, max), max);
	CHECK_EQ_U64(_ak_ring_spin_credit(T0 - 16 * max + 16, T0, max), max - 1);
	CHECK_EQ_U64(_ak_ring_spin_credit(0, 15, max), 0);
}

static void test_ready(void)
{
	struct wait_script s;
	struct _ak_ring_waitset ws = setup(&s, 100 * US);
	s.ready_at = FIXED + 30; /* the 30th call of the poll */
	CHECK_ST(_ak_ring_sleep(&ws, 1, 1, AK_DEADLINE_NONE, NULL), AK_OK);
	ak_ring_syscall_split sp = split();
	CHECK_EQ_U64(sp.total, 0);
	CHECK_EQ_U64(sp.polled, 1);
	CHECK_EQ_U64(s.calls, FIXED + 30);
	/* The poll began after the fixed spin (FIXED us) and ended after 29
	 * more polls: it used 29 us of its 100 us and gave back 71 x 16. */
	uint64_t start = T0 + FIXED * US;
	CHECK_EQ_U64(vt_data(), start - (100 - 29) * US * _AK_RING_SPIN_SHARE);
	CHECK_EQ_U64(atomic_load_explicit(&g_cur->w.spin_vt[0], memory_order_relaxed), 0);
	CHECK_EQ_U64(atomic_load_explicit(&s.gate[0], memory_order_relaxed), 0);
}

static void test_exhaust_refill(void)
{
	struct wait_script s;
	struct _ak_ring_waitset ws = setup(&s, 100 * US);
	CHECK_ST(_ak_ring_sleep(&ws, 1, 1, AK_DEADLINE_NONE, NULL), AK_OK);
	ak_ring_syscall_split sp = split();
	/* it registered: its membarrier is the one system call, then the
	 * re-check found the (scripted) data */
	CHECK_EQ_U64(sp.waits, 1);
	CHECK_EQ_U64(sp.total, 1);
	CHECK_EQ_U64(sp.polled, 0);
	/* the clock is read every 32 polls: at 128 us the poll is past its
	 * 100 us; one last look, then it registers.  It used all its credit
	 * and ran 29 us past it (to that clock read, and the last look),
	 * which is charged: the meter stands 29 x 16 us ahead of the start. */
	CHECK_EQ_U64(s.reg_calls, FIXED + 128 + 1);
	uint64_t start = T0 + FIXED * US;
	CHECK_EQ_U64(vt_data(), start + 29 * US * _AK_RING_SPIN_SHARE);
	CHECK_EQ_U64(atomic_load_explicit(&s.gate[0], memory_order_relaxed), 0);

	/* 800 us later (the clock is at start + 929 us) the meter holds
	 * (933 - 464) / 16 = 29.3 us after the next fixed spin: the poll
	 * ends at its first clock read (32 us) and is charged 33 us */
	ak_fake_clock_advance(&s.clk, 16 * 50 * US);
	s.calls = 0;
	s.reg_calls = 0;
	uint64_t start2 = ak_clock_read(&s.c) + FIXED * US;
	CHECK_EQ_U64(start2, start + 933 * US);
	CHECK_ST(_ak_ring_sleep(&ws, 1, 1, AK_DEADLINE_NONE, NULL), AK_OK);
	CHECK_EQ_U64(s.reg_calls, FIXED + 32 + 1);
	uint64_t credit2 = (933 - 464) * US / _AK_RING_SPIN_SHARE;
	CHECK_EQ_U64(vt_data(), start2 + (33 * US - credit2) * _AK_RING_SPIN_SHARE);
	CHECK_EQ_U64(split().waits, 2);
}

static void test_second_waiter(void)
{
	struct wait_script s;
	struct _ak_ring_waitset ws = setup(&s, 100 * US);
	s.ws = &ws;
	s.ready_at = FIXED + 50;
	s.nest_at = FIXED + 10;
	CHECK_ST(_ak_ring_sleep(&ws, 1, 1, AK_DEADLINE_NONE, NULL), AK_OK);
	/* the second waiter found the credit taken (14 us / 16 < 1 us) and
	 * registered after its fixed spin: FIXED calls, then its re-check */
	CHECK_EQ_U64(s.nest_calls, FIXED + 1);
	CHECK_EQ_U64(s.nest_waits, 1);
	/* the first one went on polling and got its data (on the script's
	 * call FIXED + 50, of which FIXED + 1 were the second's) with no
	 * system call */
	CHECK_EQ_U64(s.calls, FIXED + 50);
	ak_ring_syscall_split sp = split();
	CHECK_EQ_U64(sp.waits, 1);
	CHECK_EQ_U64(sp.polled, 1);
}

static void test_off(void)
{
	struct wait_script s;
	struct _ak_ring_waitset ws = setup(&s, 0);
	CHECK_ST(_ak_ring_sleep(&ws, 1, 1, AK_DEADLINE_NONE, NULL), AK_OK);
	CHECK_EQ_U64(s.reg_calls, FIXED);
	CHECK_EQ_U64(split().waits, 1);
	CHECK_EQ_U64(vt_data(), 0); /* the meter untouched */
}

static void test_preempt(void)
{
	struct wait_script s;
	struct _ak_ring_waitset ws = setup(&s, 4000 * US);
	s.jump_at = FIXED + 40; /* inside the second stretch between clock reads */
	s.jump_ns = 1000 * US;
	CHECK_ST(_ak_ring_sleep(&ws, 1, 1, AK_DEADLINE_NONE, NULL), AK_OK);
	/* the poll ended at the next clock read, at call FIXED + 64, and
	 * registered; it used 63 us + 1 ms of its 4 ms (the jump counts: it
	 * cannot tell a stolen CPU from polling) and gave back the rest */
	CHECK_EQ_U64(s.reg_calls, FIXED + 64 + 1);
	CHECK_EQ_U64(split().waits, 1);
	uint64_t start = T0 + FIXED * US;
	uint64_t used = 63 * US + 1000 * US;
	CHECK_EQ_U64(vt_data(), start - (4000 * US - used) * _AK_RING_SPIN_SHARE);
}

static void test_cancel_deadline(void)
{
	struct wait_script s;
	ak_cancel tok;
	CHECK_ST(ak_cancel_init(&tok), AK_OK);
	struct _ak_ring_waitset ws = setup(&s, 4000 * US);
	s.tok = &tok;
	s.cancel_at = FIXED + 10;
	CHECK_ST(_ak_ring_sleep(&ws, 1, 1, AK_DEADLINE_NONE, &tok), AK_ECANCELED);
	CHECK_EQ_U64(split().total, 0);
	CHECK_EQ_U64(s.reg_calls, 0);
	CHECK(s.calls <= FIXED + 32 + 1);
	CHECK_ST(ak_cancel_destroy(&tok), AK_OK);

	/* a deadline 50 us into the poll (fake time): AK_ETIMEDOUT, no
	 * system call, having polled about 50 times */
	ws = setup(&s, 4000 * US);
	CHECK_ST(_ak_ring_sleep(&ws, 1, 1, T0 + (FIXED + 50) * US, NULL), AK_ETIMEDOUT);
	CHECK_EQ_U64(split().total, 0);
	CHECK_EQ_U64(s.reg_calls, 0);
	CHECK(s.calls >= FIXED + 50 && s.calls <= FIXED + 50 + 32);
}

static alignas(128) unsigned char g_mem[1 << 16];

static void test_api(void)
{
	static alignas(128) ak_ring r;
	static alignas(128) ak_ring_slot q;
	static alignas(128) ak_ring_var v;

	CHECK_ST(ak_ring_init(&r, g_mem, sizeof g_mem, 16, 8, 0), AK_OK);
	CHECK_EQ_U64(atomic_load_explicit(&r.wait.spin_max, memory_order_relaxed),
		     AK_RING_WAIT_SPIN_DEFAULT);
	CHECK_ST(ak_ring_set_wait_spin(NULL, 0), AK_EINVAL);
	CHECK_ST(ak_ring_set_wait_spin(&r, AK_RING_WAIT_SPIN_LIMIT + 1), AK_EINVAL);
	CHECK_EQ_U64(atomic_load_explicit(&r.wait.spin_max, memory_order_relaxed),
		     AK_RING_WAIT_SPIN_DEFAULT); /* a refused value changes nothing */
	CHECK_ST(ak_ring_set_wait_spin(&r, AK_RING_WAIT_SPIN_LIMIT), AK_OK);
	CHECK_EQ_U64(atomic_load_explicit(&r.wait.spin_max, memory_order_relaxed),
		     AK_RING_WAIT_SPIN_LIMIT);
	CHECK_ST(ak_ring_set_wait_spin(&r, 0), AK_OK);
	CHECK_EQ_U64(atomic_load_explicit(&r.wait.spin_max, memory_order_relaxed), 0);

	CHECK_ST(ak_ring_slot_init(&q, g_mem, sizeof g_mem, 16, 8, 0), AK_OK);
	CHECK_EQ_U64(atomic_load_explicit(&q.wait.spin_max, memory_order_relaxed),
		     AK_RING_WAIT_SPIN_DEFAULT);
	CHECK_ST(ak_ring_slot_set_wait_spin(NULL, 0), AK_EINVAL);
	CHECK_ST(ak_ring_slot_set_wait_spin(&q, AK_RING_WAIT_SPIN_LIMIT + 1), AK_EINVAL);
	CHECK_ST(ak_ring_slot_set_wait_spin(&q, 123), AK_OK);
	CHECK_EQ_U64(atomic_load_explicit(&q.wait.spin_max, memory_order_relaxed), 123);
	q.cfg.magic = 0; /* a ring of the layout before the version word */
	CHECK_ST(ak_ring_slot_set_wait_spin(&q, 0), AK_EINVAL);
	CHECK_EQ_U64(atomic_load_explicit(&q.wait.spin_max, memory_order_relaxed), 123);

	CHECK_ST(ak_ring_var_init(&v, g_mem, sizeof g_mem, 1024, 0), AK_OK);
	CHECK_ST(ak_ring_var_set_wait_spin(NULL, 0), AK_EINVAL);
	CHECK_ST(ak_ring_var_set_wait_spin(&v, AK_RING_WAIT_SPIN_LIMIT + 1), AK_EINVAL);
	CHECK_ST(ak_ring_var_set_wait_spin(&v, 7), AK_OK);
	CHECK_EQ_U64(atomic_load_explicit(&v.ring.wait.spin_max, memory_order_relaxed), 7);

	ak_ring_syscall_split sp;
	CHECK_ST(ak_ring_syscalls_split(&r, &sp), AK_OK);
	CHECK_EQ_U64(sp.polled, 0);
}

/* ---- close when membarrier fails ----------------------------------- */

extern int (*_ak_membarrier_test)(void); /* src/membarrier.c test hook */
static unsigned g_mb_calls;
static int mb_fail(void)
{
	g_mb_calls++;
	return -1;
}

/* After a close under mb_fail: three attempts and one fallback, or, on a
 * ring whose fast paths fence themselves, no barrier needed at all. */
static void check_fallback(uint32_t fenced, struct _ak_ring_wait *w)
{
	uint64_t fb = atomic_load_explicit(&w->close_fallbacks, memory_order_relaxed);
	CHECK_EQ_U64(g_mb_calls, fenced ? 0 : 3);
	CHECK_EQ_U64(fb, fenced ? 0 : 1);
}

/* A close whose membarrier fails tries it three times, then waits for
 * store buffers to drain (close_barrier()), and still closes: what was
 * pushed is delivered, later pushes are refused.  A ring whose fast paths
 * fence themselves (no membarrier on this kernel) needs no barrier. */
static void test_close_no_barrier(void)
{
	static alignas(128) ak_ring r;
	static alignas(128) ak_ring_slot q;
	uint64_t v = 0;

	CHECK_ST(ak_ring_init(&r, g_mem, sizeof g_mem, 16, 8, 0), AK_OK);
	v = 11;
	CHECK_ST(ak_ring_push_spsc(&r, &v), AK_OK);
	g_mb_calls = 0;
	_ak_membarrier_test = mb_fail;
	CHECK_ST(ak_ring_close(&r), AK_OK);
	_ak_membarrier_test = NULL;
	check_fallback(r.cfg.fenced, &r.wait);
	CHECK_ST(ak_ring_push_spsc(&r, &v), AK_ECLOSED);
	CHECK_ST(ak_ring_pop_spsc(&r, &v), AK_OK);
	CHECK_EQ_U64(v, 11);
	CHECK_ST(ak_ring_pop_spsc(&r, &v), AK_ECLOSED);

	CHECK_ST(ak_ring_slot_init(&q, g_mem, sizeof g_mem, 16, 8, 0), AK_OK);
	v = 12;
	CHECK_ST(ak_ring_slot_push_spsc(&q, &v), AK_OK);
	g_mb_calls = 0;
	_ak_membarrier_test = mb_fail;
	CHECK_ST(ak_ring_slot_close(&q), AK_OK);
	_ak_membarrier_test = NULL;
	check_fallback(q.cfg.fenced, &q.wait);
	CHECK_ST(ak_ring_slot_push_spsc(&q, &v), AK_ECLOSED);
	CHECK_ST(ak_ring_slot_pop_spsc(&q, &v), AK_OK);
	CHECK_EQ_U64(v, 12);
	CHECK_ST(ak_ring_slot_pop_spsc(&q, &v), AK_ECLOSED);

	/* with the barrier working: one call, no fallback */
	CHECK_ST(ak_ring_init(&r, g_mem, sizeof g_mem, 16, 8, 0), AK_OK);
	CHECK_ST(ak_ring_close(&r), AK_OK);
	CHECK_EQ_U64(atomic_load_explicit(&r.wait.close_fallbacks, memory_order_relaxed), 0);
}

int main(void)
{
	test_credit();
	test_ready();
	test_exhaust_refill();
	test_second_waiter();
	test_off();
	test_preempt();
	test_cancel_deadline();
	test_api();
	test_close_no_barrier();
	return check_report("ring_wait");
}
