/*
 * A hand-made waitset for driving the gated rings' sleeper
 * (_ak_ring_sleep() in src/ring_wait.c) without a ring: its ready() is a
 * script and its clock an ak_fake_clock that the script moves on every
 * call that is not ready, so every figure a test asserts is exact.
 * Used by tests/unit/ring_wait.c and ring_wait_rv.c.
 *
 * ready() call by call: once the waiter has registered (a WAITER on the
 * data gate), READY, noting when (reg_calls, reg_time); READY on call
 * ready_at; on call cancel_at it cancels `tok`; on call nest_at a second
 * waiter runs to completion inside it (nest_calls, nest_waits); otherwise
 * the clock moves by `step` (by jump_ns on call jump_at) and, on call
 * `fixed`, poll_from records when the fixed spin ended.
 */
#ifndef ATOMKIT_TESTS_RING_WAIT_SCRIPT_H
#define ATOMKIT_TESTS_RING_WAIT_SCRIPT_H

#include <atomkit/cancel.h>
#include <string.h>

#include "../../src/ring_wait.h"
#include "check.h"

extern unsigned _ak_ring_wait_spins; /* src/ring_wait.c test hook */

struct wait_script {
	ak_fake_clock clk;
	ak_clock c;
	struct _ak_ring_wait w;
	_Atomic(uint32_t) gate[2]; /* [0] data gate (producers read), [1] space */
	_Atomic(uint64_t) head;
	uint64_t step;      /* fake ns per ready() call that is not ready */
	unsigned fixed;     /* the fixed spin's polls */
	unsigned calls;     /* ready() calls */
	unsigned ready_at;  /* READY on this call (0: only after registering) */
	unsigned jump_at;   /* the clock moves by jump_ns on this call */
	uint64_t jump_ns;
	unsigned cancel_at; /* `tok` is cancelled on this call */
	ak_cancel *tok;
	unsigned nest_at;   /* a second waiter arrives on this call */
	unsigned nest_calls; /* ready() calls the second waiter made */
	uint64_t nest_waits; /* its system calls by waits (registration) */
	const struct _ak_ring_waitset *ws; /* for the second waiter */
	unsigned reg_calls; /* calls before registering (0: never registered) */
	uint64_t poll_from; /* fake time the fixed spin ended */
	uint64_t reg_time;  /* fake time of the registered re-check */
};

static int script_ready(void *ring, int for_data, uint64_t n)
{
	struct wait_script *s = (struct wait_script *)ring;
	(void)for_data;
	(void)n;
	s->calls++;
	/* Relaxed: single-threaded test. */
	if (atomic_load_explicit(&s->gate[0], memory_order_relaxed) >= _AK_RING_GATE_WAITER) {
		if (s->reg_calls == 0) {
			s->reg_calls = s->calls - 1;
			s->reg_time = ak_fake_clock_advance(&s->clk, 0);
		}
		return _AK_RING_READY; /* the re-check after registering */
	}
	if (s->ready_at && s->calls == s->ready_at)
		return _AK_RING_READY;
	if (s->cancel_at && s->calls == s->cancel_at)
		ak_cancel_request(s->tok, 1);
	if (s->nest_at && s->calls == s->nest_at) {
		/* a second waiter, while this one polls (it is "ready" as soon
		 * as it has registered, like the first) */
		ak_ring_syscall_split a, b;
		unsigned c0 = s->calls, r0 = s->reg_calls;
		_ak_ring_read_split(&s->w, &a);
		s->nest_at = 0;
		CHECK_ST(_ak_ring_sleep(s->ws, 1, 1, AK_DEADLINE_NONE, NULL), AK_OK);
		_ak_ring_read_split(&s->w, &b);
		s->nest_calls = s->calls - c0;
		s->nest_waits = b.waits - a.waits;
		s->reg_calls = r0;
	}
	ak_fake_clock_advance(&s->clk, s->jump_at && s->calls == s->jump_at ? s->jump_ns : s->step);
	if (s->calls == s->fixed)
		s->poll_from = ak_fake_clock_advance(&s->clk, 0);
	return _AK_RING_NOT_READY;
}

/* Reset `s` for a wait script: clock at t0, `fixed` polls of fixed spin
 * (process-wide), a fenced waitset (no membarrier) or not, spin_max `max`. */
static struct _ak_ring_waitset script_setup(struct wait_script *s, uint64_t t0, uint64_t step,
					    unsigned fixed, uint32_t fenced, uint64_t max)
{
	memset(s, 0, sizeof *s);
	s->step = step;
	s->fixed = fixed;
	_ak_ring_wait_spins = fixed;
	ak_fake_clock_set(&s->clk, t0);
	s->c = ak_fake_clock_as_clock(&s->clk);
	struct _ak_ring_waitset ws = _ak_ring_waitset_of(s, &s->w, &s->gate[0], &s->gate[1],
							 &s->head, fenced, 0, script_ready);
	ws.clock = &s->c;
	_ak_ring_wait_init(&s->w, &s->gate[0], &s->gate[1], fenced, 0);
	CHECK_ST(_ak_ring_set_spin(&s->w, max), AK_OK);
	return ws;
}

#endif /* ATOMKIT_TESTS_RING_WAIT_SCRIPT_H */
