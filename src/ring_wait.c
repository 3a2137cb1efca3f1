/*
 * The sleeper protocol shared by the gated rings (ak_ring in src/ring.c,
 * ak_ring_slot in src/ring_slot.c): membarrier, waiter accounting, futex
 * sleep and wake, close.  See src/ring_wait.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include <atomkit/clock.h>
#include <atomkit/internal/futex.h>
#include <atomkit/internal/relax.h>

#include "membarrier.h"
#include "ring_wait.h"

#if defined(__has_include)
#if __has_include(<atomkit/cancel.h>)
#include <atomkit/cancel.h>
#define AK_RING_HAVE_CANCEL 1
#endif
#endif
#ifndef AK_RING_HAVE_CANCEL
#define AK_RING_HAVE_CANCEL 0
#endif

/* Broken variants, for checking that the tests catch them (never in a
 * release build): -D_AK_RING_WAKE_BROKEN=1, the previous waiter accounting
 * (no wake-up lost, calls wasted: tests/unit/ring.c counts them); 2, every
 * notify makes the wake call, as if a sleeper might be in the kernel
 * (calls wasted: the unit test counts one). */
#ifndef _AK_RING_WAKE_BROKEN
#define _AK_RING_WAKE_BROKEN 0
#endif

/* Polls of the ring (each with a cpu pause, ~40 ns on this VM) before a
 * _wait registers to sleep: ~40 us here.  Registering costs a membarrier
 * (an IPI to every CPU running the process) and a futex call even when
 * the partner shows up at once; on a busy 2-vCPU box the partner is often
 * off its CPU for a few us.  Measured on ring_spsc/atomkit/blocking
 * (docs/ring.md): 64 polls -> 340-585 calls a run, 1024 -> 97-109, the
 * real sleeps (wakes) unchanged at ~15.  Build-time knob. */
#ifndef _AK_RING_WAIT_SPINS
#define _AK_RING_WAIT_SPINS 1024
#endif
/* Test hook (not API): the same at run time, for tests that want waiters
 * to sleep often (set it before any thread uses a ring). */
unsigned _ak_ring_wait_spins = _AK_RING_WAIT_SPINS;

/* Test hook (not API, declared by the tests that use it): called by a
 * sleeper right after its futex wait returned, before it unregisters
 * itself or re-checks: a woken thread that has not run yet, on demand.
 * The argument is the ring (ak_ring * or ak_ring_slot *). */
void (*_ak_ring_test_woken)(void *ring);
/* Test hook: called by the closer right after it won the election
 * (closed == CLOSING), before it sets the CLOSED bit: a closer preempted
 * there, on demand. */
void (*_ak_ring_test_closing)(void *ring);
/* Test hook: called by a producer in _ak_ring_refuse() before it waits for
 * close to seal (the argument is the ring's struct _ak_ring_wait). */
void (*_ak_ring_test_refusing)(void *wait);
/* Test hook: called by a waiter that registered and re-checked, right
 * before it counts itself a sleeper: a notify landing here must cost no
 * system call (the futex wait finds the word moved). */
void (*_ak_ring_test_before_sleep)(void *ring);

/* Relaxed: statistics only. */
static void count_syscall(struct _ak_ring_wait *w)
{
	atomic_fetch_add_explicit(&w->syscalls, 1, memory_order_relaxed);
}

static void count_kind(struct _ak_ring_wait *w, _Atomic(uint64_t) *kind)
{
	count_syscall(w);
	atomic_fetch_add_explicit(kind, 1, memory_order_relaxed);
}

void _ak_ring_read_split(const struct _ak_ring_wait *w0, ak_ring_syscall_split *out)
{
	struct _ak_ring_wait *w = (struct _ak_ring_wait *)(uintptr_t)w0;
	/* Relaxed: statistics; exact once the ring is quiescent. */
	out->waits = atomic_load_explicit(&w->sc_waits, memory_order_relaxed);
	out->wakes = atomic_load_explicit(&w->sc_wakes, memory_order_relaxed);
	out->spare = atomic_load_explicit(&w->sc_spare, memory_order_relaxed);
	out->total = atomic_load_explicit(&w->syscalls, memory_order_relaxed);
	out->polled = atomic_load_explicit(&w->polled, memory_order_relaxed);
}

ak_status _ak_ring_set_spin(struct _ak_ring_wait *w, uint64_t max_ns)
{
	if (max_ns > AK_RING_WAIT_SPIN_LIMIT)
		return AK_EINVAL;
	/* Relaxed: a tuning hint read by the next waits; publishes nothing. */
	atomic_store_explicit(&w->spin_max, max_ns, memory_order_relaxed);
	return AK_OK;
}

/*
 * Make every running thread of this process execute a full barrier: after
 * this, a fast-path thread either has its index store visible to us, or its
 * next load of the flag we set before calling sees that flag.  Returns 0 if
 * the barrier could not be issued (then the caller must not rely on it).
 */
static int ring_membarrier(const struct _ak_ring_waitset *ws, _Atomic(uint64_t) *kind)
{
	if (ws->fenced)
		return 1; /* the fast paths fence themselves */
	if (kind)
		count_kind(ws->w, kind);
	else
		count_syscall(ws->w);
	/* src/membarrier.c: the private expedited command, else the global
	 * one (a forked child, whose registration did not carry over). */
	return _ak_membarrier() == 0;
}

/* ---- spinning -------------------------------------------------------- */

/* On 2 cores with 8 threads the thread we wait for is often not running. */
void _ak_ring_pause(unsigned *spins)
{
	if (++*spins < 256)
		_ak_cpu_relax();
	else
		sched_yield();
}

/* ---- metered polling ---------------------------------------------------
 *
 * After its fixed spin a waiter may go on polling before it registers to
 * sleep, because on a VM the partner's CPU is taken away for 0.1-4 ms many
 * times a second (docs/ring.md, "Waiting"): a partner that is running
 * again soon is cheaper to wait for by polling than through a membarrier,
 * a futex wait and the partner's futex wake.  Polling burns a CPU, so it
 * is metered per ring and direction like a rate limiter: a poll takes the
 * credit accrued since the meter's virtual time (1/_AK_RING_SPIN_SHARE of
 * the elapsed time, at most spin_max), moving the meter to now, and gives
 * back what it did not use.  So all waits of one direction poll past the
 * fixed spin for at most 1/16 of the time plus one spin_max, and a second
 * waiter that arrives while one polls finds no credit and sleeps at once.
 * A poller that finds its own thread was off the CPU for a while (a clock
 * step of _AK_RING_SPIN_PREEMPT_NS between two of its reads) stops: more
 * threads than CPUs, where its polling would keep the partner from
 * running.
 */
#define _AK_RING_SPIN_PREEMPT_NS 500000u
#define _AK_RING_SPIN_MIN_NS 1000u /* less credit than this: do not poll */
#define _AK_RING_SPIN_CHECK 32u    /* polls between clock reads */

static uint64_t ws_now(const struct _ak_ring_waitset *ws)
{
	return ws->clock ? ak_clock_read(ws->clock) : ak_now_ns();
}

static int cancelled(ak_cancel *c);
static int ready(const struct _ak_ring_waitset *ws, int for_data, uint64_t n);

/* 1 if the waiter's operation became ready while polling, else 0 (go on:
 * sleep, or report the deadline or cancel). */
static int poll_metered(const struct _ak_ring_waitset *ws, int for_data, uint64_t n,
			uint64_t deadline_ns, ak_cancel *cancel)
{
	struct _ak_ring_wait *w = ws->w;
	_Atomic(uint64_t) *vt = &w->spin_vt[for_data != 0];
	/* Relaxed, here and for the meter: hints that publish nothing; the
	 * ring's state is read only through ready(). */
	uint64_t max = atomic_load_explicit(&w->spin_max, memory_order_relaxed);
	uint64_t start, now, last, credit, used, v;
	int ok = 0, off = 0;

	if (max == 0 || max > AK_RING_WAIT_SPIN_LIMIT)
		return 0;
	start = ws_now(ws);
	v = atomic_load_explicit(vt, memory_order_relaxed);
	do {
		credit = _ak_ring_spin_credit(v, start, max);
		/* a spin_max under the floor is the floor (the setters
		 * accept it: it must not mean "never") */
		if (credit < (max < _AK_RING_SPIN_MIN_NS ? max : _AK_RING_SPIN_MIN_NS))
			return 0;
	} while (!atomic_compare_exchange_weak_explicit(vt, &v, start, memory_order_relaxed,
							memory_order_relaxed));
	now = last = start;
	for (unsigned i = 1;; i++) {
		if (ready(ws, for_data, n)) {
			ok = 1;
			break;
		}
		_ak_cpu_relax();
		if (i % _AK_RING_SPIN_CHECK != 0)
			continue;
		now = ws_now(ws);
		off = now - last >= _AK_RING_SPIN_PREEMPT_NS;
		if (off || now - start >= credit || now >= deadline_ns || cancelled(cancel)) {
			ok = ready(ws, for_data, n);
			break;
		}
		last = now;
	}
	/* Charge what the poll spent.  It reads the clock only every
	 * _AK_RING_SPIN_CHECK polls, so it runs past its credit by up to that
	 * many polls and its last look: that is charged too (the meter may
	 * move ahead of now, which gives no credit until the clock passes
	 * it), else back-to-back waits poll well over their share.  A poll
	 * whose thread was off its CPU (a gap of _AK_RING_SPIN_PREEMPT_NS
	 * between two clock reads, or a clock that went back) is charged at
	 * most its credit: the gap was not polling. */
	if (!off) {
		now = ws_now(ws);
		if (now < last || now - last >= _AK_RING_SPIN_PREEMPT_NS)
			off = 1;
	}
	if (now < start)
		used = credit;
	else if (off)
		used = now - start < credit ? now - start : credit;
	else
		used = now - start;
	/* Settle with the meter, which moved to `start` when the credit was
	 * taken: give back the unused part, or charge the overrun (< 0.5 ms
	 * of polling), 16x either way. */
	if (used != credit) {
		uint64_t d = (used > credit ? used - credit : credit - used) * _AK_RING_SPIN_SHARE;
		uint64_t nv;
		v = atomic_load_explicit(vt, memory_order_relaxed);
		do
			nv = used > credit ? v + d : (v > d ? v - d : 0);
		while (!atomic_compare_exchange_weak_explicit(vt, &v, nv, memory_order_relaxed,
							      memory_order_relaxed));
	}
	if (ok)
		atomic_fetch_add_explicit(&w->polled, 1, memory_order_relaxed);
	return ok;
}

/* ---- close ------------------------------------------------------------ */

static void wait_sealed(struct _ak_ring_wait *w)
{
	unsigned spins = 0;
	/* Acquire pairs with the release store of SEALED in
	 * _ak_ring_close_gated(). */
	while (atomic_load_explicit(&w->closed, memory_order_acquire) != _AK_RING_SEALED)
		_ak_ring_pause(&spins);
}

ak_status _ak_ring_refuse(struct _ak_ring_wait *w)
{
	if (AK_UNLIKELY(_ak_ring_test_refusing != NULL))
		_ak_ring_test_refusing(w);
	wait_sealed(w);
	return AK_ECLOSED;
}

/*
 * The closer froze close_pos at the producer head it saw: announcements
 * below it happened before the close and must complete; the others fail.
 */
ak_status _ak_ring_closed_check(struct _ak_ring_wait *w, _Atomic(uint64_t) *head, uint64_t pos,
				uint64_t n, int undo)
{
	wait_sealed(w);
	uint64_t cp = atomic_load_explicit(&w->close_pos, memory_order_relaxed);
	if ((int64_t)(cp - pos) >= (int64_t)n)
		return AK_OK;
	if (undo) /* single producer: nobody announced after us */
		atomic_store_explicit(head, pos, memory_order_relaxed);
	/* MP: later reservations are past close_pos too; consumers stop at
	 * close_pos, so the unpublished slots are never read. */
	return AK_ECLOSED;
}

/*
 * Waiter accounting.  A sleeper registers on the gate its partner side reads
 * (+_AK_RING_GATE_WAITER) and leaves it exactly once: the waker takes out
 * the threads the kernel reports it woke (their futex waits return AK_OK),
 * and every other thread takes itself out (re-check found it ready, the
 * futex word had moved, timeout, signal).  So a woken consumer that has
 * not run yet (on a busy 2-vCPU box, for microseconds) no longer counts,
 * and the producer's next pushes, which read the gate, make no further
 * wake call for it.  The gate never counts fewer than the registered
 * threads the kernel has not woken, which is all the Dekker argument
 * needs; tests/spin/ring_wake.pml and ring_slot_wake.pml model it.
 */
static _Atomic(uint32_t) *gate_of(const struct _ak_ring_waitset *ws, _Atomic(uint32_t) *seq)
{
	/* data waiters register on the gate producers read, and vice versa */
	return seq == &ws->w->data_seq ? ws->data_gate : ws->space_gate;
}

static _Atomic(uint32_t) *sleepers_of(struct _ak_ring_wait *w, _Atomic(uint32_t) *seq)
{
	return seq == &w->data_seq ? &w->data_sleepers : &w->space_sleepers;
}

/*
 * A registered waiter spends a while before it sleeps (its membarrier,
 * the re-check, the poll of an in-flight push), and the other side's
 * operations meanwhile all see it in the gate.  The seq bump alone is
 * enough for it: its futex wait will find the word moved and return.  Only
 * a thread that may already be in the kernel needs FUTEX_WAKE, so waiters
 * count themselves in `sleepers` right before futex_wait (a second Dekker
 * pair: sleepers++ then the kernel's read of seq, against seq++ then the
 * load of sleepers here; the kernel orders its read after our RMW with a
 * full barrier, futex(2)).  No wake call then unless someone may sleep.
 */
void _ak_ring_wake(const struct _ak_ring_waitset *ws, _Atomic(uint32_t) *seq)
{
	struct _ak_ring_wait *w = ws->w;
	_Atomic(uint32_t) *sleepers = sleepers_of(w, seq);
	/* seq_cst: the release part pairs with the acquire load of the ticket
	 * in _ak_ring_sleep() (a waiter that sees the bump sees our state);
	 * the SC part orders it before the load of sleepers below (Dekker
	 * with the sleepers increment in _ak_ring_sleep()). */
	atomic_fetch_add_explicit(seq, 1, memory_order_seq_cst);
#if _AK_RING_WAKE_BROKEN != 2
	/* seq_cst: pairs with the seq_cst increment of sleepers in
	 * _ak_ring_sleep(). */
	if (atomic_load_explicit(sleepers, memory_order_seq_cst) == 0)
		return;
#endif
	int m = _ak_futex_wake(seq, INT32_MAX, ws->scope);
	count_kind(w, m > 0 ? &w->sc_wakes : &w->sc_spare);
#if _AK_RING_WAKE_BROKEN == 1
	m = 0; /* the old accounting: woken threads unregister themselves */
#endif
	/* Relaxed: counts; the ordering is the Dekker pairs above. */
	if (m > 0) {
		atomic_fetch_sub_explicit(sleepers, (uint32_t)m, memory_order_relaxed);
		atomic_fetch_sub_explicit(gate_of(ws, seq), (uint32_t)m * _AK_RING_GATE_WAITER,
					  memory_order_relaxed);
	}
}

static void kick_waiters(const struct _ak_ring_waitset *ws)
{
	/* seq_cst: pairs with the seq_cst waiter registrations on the gates
	 * in _ak_ring_sleep() (Dekker against the closed flag). */
	if (atomic_load_explicit(ws->data_gate, memory_order_seq_cst) >= _AK_RING_GATE_WAITER)
		_ak_ring_wake(ws, &ws->w->data_seq);
	if (atomic_load_explicit(ws->space_gate, memory_order_seq_cst) >= _AK_RING_GATE_WAITER)
		_ak_ring_wake(ws, &ws->w->space_seq);
}

/*
 * Close's barrier.  Without it a single producer whose gate read came
 * before our CLOSED bit could have its head store still in its store
 * buffer when we read the head: close_pos would leave out a push that then
 * returns AK_OK and is never delivered.  membarrier can fail for good
 * (both commands refused: a seccomp filter installed after init, or
 * nohz_full with the private command out of memory), so try it a few
 * times, then wait 1 ms: no x86 or arm64 part keeps a store buffered that
 * long, though no architecture promises it (docs/ring.md, "How close
 * works").  Counted in `close_fallbacks`.
 */
static void close_barrier(const struct _ak_ring_waitset *ws)
{
	for (int i = 0; i < 3; i++) {
		if (ring_membarrier(ws, NULL))
			return;
		sched_yield();
	}
	/* Relaxed: a statistic. */
	atomic_fetch_add_explicit(&ws->w->close_fallbacks, 1, memory_order_relaxed);
	struct timespec ts = { 0, 1000000 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

ak_status _ak_ring_close_gated(const struct _ak_ring_waitset *ws)
{
	struct _ak_ring_wait *w = ws->w;
	uint32_t open = _AK_RING_OPEN;

	/* seq_cst: elects the one closer; pairs with the seq_cst loads of
	 * `closed` in the ready() re-checks (a sleeper re-checks it after
	 * registering). */
	if (!atomic_compare_exchange_strong_explicit(&w->closed, &open, _AK_RING_CLOSING,
						     memory_order_seq_cst, memory_order_relaxed)) {
		wait_sealed(w);
		return AK_ECLOSED;
	}
	if (AK_UNLIKELY(_ak_ring_test_closing != NULL))
		_ak_ring_test_closing(ws->ring);
	/* seq_cst: the flag half of the close handshake; pairs with the gate
	 * load after a producer's announcement (head store or CAS). */
	atomic_fetch_or_explicit(ws->data_gate, _AK_RING_GATE_CLOSED, memory_order_seq_cst);
	/* Single producers announce with a plain store and a compiler
	 * barrier; this barrier supplies their half of the fence. */
	close_barrier(ws);
	/* seq_cst: pairs with the seq_cst head CAS of MP producers; after the
	 * barrier, also sees every SP announcement made before our flag. */
	uint64_t cp = atomic_load_explicit(ws->prod_head, memory_order_seq_cst);
	atomic_store_explicit(&w->close_pos, cp, memory_order_relaxed);
	/* seq_cst store (release part): pairs with the acquire loads of
	 * `closed` == SEALED in the consumers and wait_sealed(), which then
	 * read close_pos; the SC part orders it before kick_waiters' loads. */
	atomic_store_explicit(&w->closed, _AK_RING_SEALED, memory_order_seq_cst);
	kick_waiters(ws);
	return AK_OK;
}

/* ---- sleeping ----------------------------------------------------------- */

static int ready(const struct _ak_ring_waitset *ws, int for_data, uint64_t n)
{
	return ws->ready(ws->ring, for_data, n) == _AK_RING_READY;
}

static int cancelled(ak_cancel *c)
{
#if AK_RING_HAVE_CANCEL
	return c && ak_cancel_is_set(c);
#else
	(void)c;
	return 0;
#endif
}

#if AK_RING_HAVE_CANCEL
static void ring_kick(void *arg)
{
	const struct _ak_ring_waitset *ws = (const struct _ak_ring_waitset *)arg;
	_ak_ring_wake(ws, &ws->w->data_seq);
	_ak_ring_wake(ws, &ws->w->space_seq);
}
#endif

ak_status _ak_ring_sleep(const struct _ak_ring_waitset *ws, int for_data, uint64_t n,
			 uint64_t deadline_ns, ak_cancel *cancel)
{
	struct _ak_ring_wait *w = ws->w;
	_Atomic(uint32_t) *seq, *waiters, *sleepers;
	ak_status st = AK_OK;
	unsigned spins = 0;

#if !AK_RING_HAVE_CANCEL
	if (cancel) /* cancel tokens are not built into this library yet */
		return AK_EINVAL;
#endif
	if (cancelled(cancel))
		return AK_ECANCELED;
	/* A bounded spin first: a partner on another core is often about to
	 * make room, and a sleep costs system calls and microseconds. */
	for (; spins < _ak_ring_wait_spins; spins++) {
		if (ready(ws, for_data, n))
			return AK_OK;
		_ak_cpu_relax();
	}
	/* Then, with credit, poll on: the partner may be off its CPU. */
	if (poll_metered(ws, for_data, n, deadline_ns, cancel))
		return AK_OK;
	if (cancelled(cancel))
		return AK_ECANCELED;
	if (deadline_ns != AK_DEADLINE_NONE && ws_now(ws) >= deadline_ns)
		return AK_ETIMEDOUT;

	seq = for_data ? &w->data_seq : &w->space_seq;
	/* Consumers waiting for data register on the gate the producers read
	 * after publishing, and the other way round. */
	waiters = for_data ? ws->data_gate : ws->space_gate;
	sleepers = sleepers_of(w, seq);
#if AK_RING_HAVE_CANCEL
	ak_cancel_cb cb;
	int have_cb = 0;
	memset(&cb, 0, sizeof cb);
	if (cancel) {
		/* A deadline token expires without a request: sleep no longer. */
		uint64_t cdl = ak_cancel_deadline(cancel);
		if (cdl < deadline_ns)
			deadline_ns = cdl;
		if (ak_cancel_cb_register(cancel, &cb, ring_kick, (void *)(uintptr_t)ws) != AK_OK)
			return AK_EINVAL;
		have_cb = 1;
	}
#endif
	for (;;) {
		/* Acquire pairs with the release bump in _ak_ring_wake(). */
		uint32_t ticket = atomic_load_explicit(seq, memory_order_acquire);
		/* seq_cst: the store half of the Dekker handshake; pairs with
		 * the notifier's waiter load after its index store (and with
		 * kick_waiters()). */
		atomic_fetch_add_explicit(waiters, _AK_RING_GATE_WAITER, memory_order_seq_cst);
		int sure = ring_membarrier(ws, &w->sc_waits);
		int rs = ws->ready(ws->ring, for_data, n);
		/* A publish in flight that may not wake us: it is a few stores
		 * from done unless its thread was preempted (or it is a
		 * zero-copy reservation, whose commit does wake us), so look
		 * again a few times, still registered, before sleeping with a
		 * short cap. */
		for (unsigned i = 0; rs == _AK_RING_IN_FLIGHT && i < 256; i++) {
			_ak_cpu_relax();
			rs = ws->ready(ws->ring, for_data, n);
		}
		if (rs == _AK_RING_READY || cancelled(cancel)) {
			atomic_fetch_sub_explicit(waiters, _AK_RING_GATE_WAITER,
						  memory_order_relaxed);
			break;
		}
		uint64_t dl = deadline_ns;
		if (!sure || rs == _AK_RING_IN_FLIGHT) { /* a wake-up can be missed, so poll */
			uint64_t cap = ak_deadline_after(AK_NS_PER_MS);
			if (cap < dl)
				dl = cap;
		}
		if (AK_UNLIKELY(_ak_ring_test_before_sleep != NULL))
			_ak_ring_test_before_sleep(ws->ring);
		/* seq_cst: pairs with the seq_cst load of sleepers in
		 * _ak_ring_wake() (the kernel then reads seq after it: see
		 * there). */
		atomic_fetch_add_explicit(sleepers, 1, memory_order_seq_cst);
		int rc = _ak_futex_wait_woken(seq, ticket, dl, ws->scope);
		count_kind(w, &w->sc_waits);
		if (AK_UNLIKELY(_ak_ring_test_woken != NULL))
			_ak_ring_test_woken(ws->ring);
#if _AK_RING_WAKE_BROKEN == 1
		if (1) {
#else
		if (rc != AK_OK) { /* not woken by a waker: nobody took us out */
#endif
			/* Relaxed: counts (a stale one costs a spare wake). */
			atomic_fetch_sub_explicit(sleepers, 1, memory_order_relaxed);
			atomic_fetch_sub_explicit(waiters, _AK_RING_GATE_WAITER,
						  memory_order_relaxed);
		}
		if (ready(ws, for_data, n))
			break;
		if (cancelled(cancel)) {
			st = AK_ECANCELED;
			break;
		}
		if (rc == AK_ETIMEDOUT && dl == deadline_ns) {
			st = AK_ETIMEDOUT;
			break;
		}
		if (deadline_ns != AK_DEADLINE_NONE && ak_now_ns() >= deadline_ns) {
			st = AK_ETIMEDOUT;
			break;
		}
	}
#if AK_RING_HAVE_CANCEL
	if (have_cb)
		ak_cancel_cb_deregister(cancel, &cb);
#endif
	if ((st == AK_OK || st == AK_ETIMEDOUT) && cancelled(cancel))
		st = AK_ECANCELED;
	return st;
}
