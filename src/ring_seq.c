/* ak_ring_seq: setup, close, and the sleeping half of the _wait forms. */
#include <limits.h>
#include <stdlib.h>

#include <atomkit/ring_seq.h>

#include "ring_layout.h"

#if defined(__has_include)
#if __has_include(<atomkit/cancel.h>)
#include <atomkit/cancel.h>
#define AK_RING_SEQ_HAVE_CANCEL 1
#endif
#endif
#ifndef AK_RING_SEQ_HAVE_CANCEL
#define AK_RING_SEQ_HAVE_CANCEL 0
#endif

#define FLAGS_KNOWN (AK_RING_SEQ_BLOCKING | AK_RING_SEQ_SHARED)

/* Broken and measuring variants: see "waking and waiting" below. */
#ifndef _AK_RING_SEQ_BROKEN
#define _AK_RING_SEQ_BROKEN 0
#endif
#ifndef _AK_RING_SEQ_BROADCAST
#define _AK_RING_SEQ_BROADCAST 0
#endif

/* Test hook (not API, declared by the tests that use it): called by a
 * waiter right before it registers on the event, i.e. inside the window
 * between its last failed attempt and its registration, where a notify
 * finds no waiter and only the re-check after registering can save it. */
void (*_ak_ring_seq_test_window)(ak_ring_seq *r);
/* Test hook: called by a waiter right after its futex wait returned (and
 * was counted), before it unregisters itself or tries again: a woken
 * thread that has not run yet, made deterministic. */
void (*_ak_ring_seq_test_woken)(ak_ring_seq *r);

static ak_status geometry(size_t cap, size_t elem_size, size_t *stride, size_t *slots)
{
	if (cap == 0 || elem_size == 0)
		return AK_EINVAL;
	if ((uint64_t)cap > AK_RING_SEQ_MAX_CAP || elem_size > AK_RING_SEQ_MAX_ELEM)
		return AK_E2BIG;
	*stride = _AK_RING_SEQ_STRIDE(elem_size);
	/* cap <= 2^40 and stride <= 2^16 + 8: no overflow in 64 bits, but
	 * size_t may be narrower. */
	if ((uint64_t)cap > (uint64_t)SIZE_MAX / *stride)
		return AK_E2BIG;
	*slots = cap * *stride;
	return AK_OK;
}

ak_status ak_ring_seq_slots_size(size_t cap, size_t elem_size, size_t *bytes)
{
	size_t stride, slots;
	ak_status st;

	if (!bytes)
		return AK_EINVAL;
	st = geometry(cap, elem_size, &stride, &slots);
	*bytes = st == AK_OK ? slots : 0;
	return st;
}

ak_status ak_ring_seq_memsize(size_t cap, size_t elem_size, size_t *bytes)
{
	size_t stride, slots;
	ak_status st;

	if (!bytes)
		return AK_EINVAL;
	*bytes = 0;
	st = geometry(cap, elem_size, &stride, &slots);
	if (st != AK_OK)
		return st;
	if (slots > SIZE_MAX - sizeof(ak_ring_seq))
		return AK_E2BIG;
	*bytes = sizeof(ak_ring_seq) + slots;
	return AK_OK;
}

static int misaligned(const void *p)
{
	return ((uintptr_t)p & (AK_RING_SEQ_ALIGN - 1)) != 0;
}

static uint64_t is_pow2(uint64_t x)
{
	return (x & (x - 1)) == 0;
}

ak_status _ak_ring_seq_init_at(ak_ring_seq *r, void *slots, size_t slots_bytes, size_t cap,
			       size_t elem_size, unsigned flags, uint64_t start)
{
	size_t stride, need;
	ak_status st;
	char *base;

	if (!r || !slots || misaligned(r) || misaligned(slots) || (flags & ~FLAGS_KNOWN))
		return AK_EINVAL;
	st = geometry(cap, elem_size, &stride, &need);
	if (st != AK_OK)
		return st;
	if (slots_bytes < need)
		return AK_ERANGE;
	/* Slot stores over the control block (or the reverse) would corrupt
	 * the ring: [slots, slots + need) must miss [r, r + 1). */
	if (_ak_ring_overlaps((uintptr_t)slots, need, (uintptr_t)r, sizeof(*r)))
		return AK_EINVAL;
	/* Positions are 63-bit (tickets are 2 * position, mod 2^64).  A
	 * capacity that is not a power of two indexes by p % cap, which jumps
	 * when p wraps: refuse starts within 2^32 of that. */
	start &= (UINT64_C(1) << 63) - 1;
	if (!is_pow2(cap) && start > (UINT64_C(1) << 63) - (UINT64_C(1) << 32))
		return AK_ERANGE;

	memset(r, 0, sizeof(*r));
	r->magic = _AK_RING_SEQ_MAGIC;
	r->cap = cap;
	r->mask = (is_pow2(cap) && cap > 1) ? cap - 1 : 0;
	r->lap = 2 * (uint64_t)cap;
	r->slots_off = (int64_t)((intptr_t)slots - (intptr_t)r);
	r->elem_size = (uint32_t)elem_size;
	r->stride = (uint32_t)stride;
	r->flags = flags;
	r->scope = (flags & AK_RING_SEQ_SHARED) ? _AK_FUTEX_SHARED : _AK_FUTEX_PRIVATE;
	for (int i = 0; i < 2; i++) {
		_ak_event_init(&r->items[i]);
		_ak_event_init(&r->space[i]);
	}
	atomic_store_explicit(&r->items_syscalls, 0, memory_order_relaxed);
	atomic_store_explicit(&r->space_syscalls, 0, memory_order_relaxed);

	/* Slot i waits for the first position p >= start with p mod cap == i. */
	base = (char *)slots;
	uint64_t first = start % cap;
	for (uint64_t i = 0; i < cap; i++) {
		uint64_t p = start + (i + cap - first) % cap;
		_Atomic(uint64_t) *cell = (_Atomic(uint64_t) *)(void *)(base + i * stride);
		atomic_store_explicit(cell, 2 * p, memory_order_relaxed);
		memset(_ak_ring_seq_data(cell), 0, stride - sizeof(uint64_t));
	}
	atomic_store_explicit(&r->head, 2 * start, memory_order_relaxed);
	/* Release: pairs with the acquire load of the tail in
	 * ak_ring_seq_validate() (another process) or in any claim: the
	 * initialised ring is published with it. */
	atomic_store_explicit(&r->tail, 2 * start, memory_order_release);
	return AK_OK;
}

ak_status ak_ring_seq_init_split(ak_ring_seq *r, void *slots, size_t slots_bytes, size_t cap,
				 size_t elem_size, unsigned flags)
{
	return _ak_ring_seq_init_at(r, slots, slots_bytes, cap, elem_size, flags, 0);
}

ak_status ak_ring_seq_init(ak_ring_seq *r, size_t bytes, size_t cap, size_t elem_size,
			   unsigned flags)
{
	size_t need;
	ak_status st;

	if (!r)
		return AK_EINVAL;
	st = ak_ring_seq_memsize(cap, elem_size, &need);
	if (st != AK_OK)
		return st;
	if (bytes < need)
		return AK_ERANGE;
	return _ak_ring_seq_init_at(r, (char *)r + sizeof(*r), bytes - sizeof(*r), cap, elem_size,
				    flags, 0);
}

ak_status ak_ring_seq_validate(const ak_ring_seq *r, size_t bytes)
{
	size_t stride, slots;

	if (!r || misaligned(r))
		return AK_EINVAL;
	/* Acquire: pairs with the release store of the tail in
	 * _ak_ring_seq_init_at(), so the fields below are read as initialised. */
	(void)atomic_load_explicit(&r->tail, memory_order_acquire);
	if (r->magic != _AK_RING_SEQ_MAGIC)
		return AK_EINVAL;
	if (geometry((size_t)r->cap, r->elem_size, &stride, &slots) != AK_OK ||
	    stride != r->stride || r->lap != 2 * r->cap || (r->flags & ~FLAGS_KNOWN) ||
	    r->mask != ((is_pow2(r->cap) && r->cap > 1) ? r->cap - 1 : 0))
		return AK_EINVAL;
	if (bytes) {
		/* One-block layout: the slots must lie inside the block. */
		if (r->slots_off < (int64_t)sizeof(*r) || (uint64_t)r->slots_off > bytes ||
		    bytes - (uint64_t)r->slots_off < slots)
			return AK_EINVAL;
	}
	return AK_OK;
}

ak_status ak_ring_seq_new(ak_ring_seq **out, size_t cap, size_t elem_size, unsigned flags)
{
	size_t bytes;
	ak_status st;
	void *mem;

	if (!out)
		return AK_EINVAL;
	*out = NULL;
	st = ak_ring_seq_memsize(cap, elem_size, &bytes);
	if (st != AK_OK)
		return st;
	bytes = (bytes + AK_RING_SEQ_ALIGN - 1) & ~(size_t)(AK_RING_SEQ_ALIGN - 1);
	mem = aligned_alloc(AK_RING_SEQ_ALIGN, bytes);
	if (!mem)
		return AK_ENOMEM;
	st = ak_ring_seq_init((ak_ring_seq *)mem, bytes, cap, elem_size, flags);
	if (st != AK_OK) {
		free(mem);
		return st;
	}
	*out = (ak_ring_seq *)mem;
	return AK_OK;
}

void ak_ring_seq_delete(ak_ring_seq *r)
{
	free(r);
}

/* ---- waiter accounting -------------------------------------------------
 *
 * ev->waiters counts the threads that registered (_ak_event_prepare()) and
 * have not yet been taken out of the count.  A thread leaves it exactly once:
 *   - its waker takes it out: every FUTEX_WAKE on an event of this ring goes
 *     through seq_wake(), which subtracts the number of threads the kernel
 *     says it dequeued, and those threads' waits return AK_OK;
 *   - it takes itself out on every other return: it never slept (the word
 *     had moved: AK_EAGAIN), the deadline passed, a signal, or it aborted.
 * So a thread the kernel woke no longer counts while it waits for a CPU
 * (on 2 vCPUs with 8 threads, for a while), and later notifies see no
 * waiter and make no system call: each sleep costs one wait and at most
 * one wake.  The count never drops below the threads actually registered
 * (a thread is subtracted only after the kernel dequeued it, or by itself),
 * which is all the eventcount's Dekker argument needs; it may briefly
 * exceed them (between the dequeue and the waker's subtraction), which
 * costs at most a spare wake.  tests/spin/ring_seq_wake.pml checks it.
 */
static void seq_wake(struct _ak_event *ev, int n, int scope)
{
	int m;
	/* Release: pairs with the acquire load of seq in _ak_event_prepare(),
	 * as in _ak_event_wake_all(): a waiter whose ticket includes this bump
	 * also sees the slots we published. */
	atomic_fetch_add_explicit(&ev->seq, 1, memory_order_release);
	m = _ak_futex_wake(&ev->seq, n, scope);
#if _AK_RING_SEQ_BROKEN == 4
	m = 0; /* old accounting: woken threads unregister themselves */
#endif
	/* Relaxed: a count only; the Dekker ordering is the notifier's fence. */
	if (m > 0)
		atomic_fetch_sub_explicit(&ev->waiters, (uint32_t)m, memory_order_relaxed);
}

/* Cancel callbacks: wake everyone on the event, with the accounting. */
static void seq_kick(void *ev)
{
	seq_wake((struct _ak_event *)ev, INT_MAX, _AK_FUTEX_PRIVATE);
}

static void seq_kick_shared(void *ev)
{
	seq_wake((struct _ak_event *)ev, INT_MAX, _AK_FUTEX_SHARED);
}

static _Atomic(uint64_t) *syscalls_of(ak_ring_seq *r, const struct _ak_event *ev)
{
	return ev == &r->items[0] || ev == &r->items[1] ? &r->items_syscalls : &r->space_syscalls;
}

static void close_wake(ak_ring_seq *r, struct _ak_event *ev)
{
	/* seq_cst: ordered after close's seq_cst fetch_or in the single total
	 * order, so it pairs with the fence in _ak_event_prepare() (the
	 * nofence notify of event.h). */
	if (atomic_load_explicit(&ev->waiters, memory_order_seq_cst) != 0) {
		atomic_fetch_add_explicit(syscalls_of(r, ev), 1, memory_order_relaxed);
		seq_wake(ev, INT_MAX, (int)r->scope);
	}
}

ak_status ak_ring_seq_close(ak_ring_seq *r)
{
	uint64_t old;

	if (!r)
		return AK_EINVAL;
	/* seq_cst RMW: pairs with the acquire tail loads in the claims and in
	 * ak_ring_seq_is_closed(); being a seq_cst RMW it also serves as the
	 * state change of the Dekker handshake for the nofence notifies. */
	old = atomic_fetch_or_explicit(&r->tail, _AK_RING_SEQ_CLOSED, memory_order_seq_cst);
	/* Close wakes everyone, never a targeted few: each waiter must see it. */
	for (int i = 0; i < 2; i++) {
		close_wake(r, &r->items[i]);
		close_wake(r, &r->space[i]);
	}
	return (old & _AK_RING_SEQ_CLOSED) ? AK_ECLOSED : AK_OK;
}

/* ---- waking and waiting ---------------------------------------------------
 *
 * Targeted wake-ups.  A push of k elements wakes k sleepers waiting for one
 * element (items[0]) and every sleeper waiting for a bulk (items[1]); a pop
 * of k likewise on space[0/1].  Close wakes all four events, a cancel kicks
 * its waiter's event (all of it).  Why no sleeper is left behind while what
 * it waits for is there:
 *
 *  (a) Registration is the eventcount's (prepare, re-check, sleep on the
 *      ticket), so a notify either sees the waiter registered or the
 *      waiter's re-check sees the new slot state (Dekker, event.h).
 *  (b) A notify bumps seq before waking, so every registered waiter not yet
 *      in the kernel returns at once and re-checks; the k kernel wakes go
 *      to k of the others.  Every return from the sleep is followed by an
 *      attempt, so a wake is never dropped silently: either the woken
 *      thread takes what it was woken for, or something else took it.
 *  (c) A bulk waiter needing n > 1 can be woken by an element it cannot use
 *      yet while a one-element waiter could have: so bulk waiters sleep on
 *      their own event and every notify wakes all of them.
 *  (d) A woken consumer can find the head slot claimed but not yet
 *      published (AK_EAGAIN) and sleep again, although later slots are
 *      published: their wakes are spent.  The publish of the head slot
 *      wakes one consumer; that one, having taken its element, sees the
 *      ring still non-empty and forwards one wake (chain), and so on down
 *      the published run.  Producers forward the same way while the ring
 *      is not full (a peeked slot held up a lap's producers).
 *
 * Broken variants, for checking that the tests catch a bad protocol (never
 * in a release build): _AK_RING_SEQ_BROKEN = 1: the sleeper skips its
 * re-check after registering; 2: a notify wakes one sleeper whatever k is,
 * and bulk waiters sleep with the others; 3: no chain forwarding.
 * _AK_RING_SEQ_BROADCAST = 1 (correct, for measuring what targeting saves):
 * every notify wakes every sleeper, as before targeting, and no forwarding.
 * _AK_RING_SEQ_BROKEN = 4 (no wake-up lost, only system calls wasted): the
 * previous accounting, where a woken thread unregisters itself when it runs,
 * so notifies before that keep waking it (tests/unit/ring_seq.c counts).
 */

uint64_t ak_ring_seq_syscalls(const ak_ring_seq *r)
{
	return atomic_load_explicit(&r->items_syscalls, memory_order_relaxed) +
	       atomic_load_explicit(&r->space_syscalls, memory_order_relaxed);
}

void _ak_ring_seq_wake(ak_ring_seq *r, struct _ak_event *ev, uint64_t k, uint32_t w0,
		       uint32_t w1)
{
	if (w0 || w1)
		atomic_fetch_add_explicit(syscalls_of(r, ev), (uint64_t)(w0 != 0) + (w1 != 0),
					  memory_order_relaxed);
	if (w0) {
#if _AK_RING_SEQ_BROKEN == 2
		k = 1;
#elif _AK_RING_SEQ_BROADCAST
		k = INT_MAX;
#endif
		seq_wake(&ev[0], k < INT_MAX ? (int)k : INT_MAX, (int)r->scope);
	}
	if (w1)
		seq_wake(&ev[1], INT_MAX, (int)r->scope);
}

/* Sleep on ev unless notified since `ticket` (_ak_event_wait() with the
 * accounting above, and counted): AK_OK (woken, or the word moved),
 * AK_ETIMEDOUT, AK_EINTR. */
static int seq_sleep(ak_ring_seq *r, struct _ak_event *ev, uint32_t ticket, uint64_t deadline_ns)
{
	int rc = _ak_futex_wait_woken(&ev->seq, ticket, deadline_ns, (int)r->scope);
	atomic_fetch_add_explicit(syscalls_of(r, ev), 1, memory_order_relaxed);
	if (AK_UNLIKELY(_ak_ring_seq_test_woken != NULL))
		_ak_ring_seq_test_woken(r);
#if _AK_RING_SEQ_BROKEN == 4
	if (1)
#else
	if (rc != AK_OK) /* not dequeued by a waker: nobody took us out */
#endif
		atomic_fetch_sub_explicit(&ev->waiters, 1, memory_order_relaxed);
	return rc == AK_EAGAIN ? AK_OK : rc;
}

/* Spin rounds (exponential backoff) before going to sleep. */
#define SPIN_CEILING 256u

typedef ak_status (*attempt_fn)(ak_ring_seq *r, void *buf, size_t n, size_t min, int sc,
				size_t *done);

static ak_status attempt_push(ak_ring_seq *r, void *buf, size_t n, size_t min, int sc,
			      size_t *done)
{
	uint64_t k = 0;
	ak_status st;
	(void)sc;
	st = _ak_ring_seq_push_n(r, buf, n, min, &k, r->elem_size, r->stride);
	*done = (size_t)k;
	return st;
}

static ak_status attempt_pop(ak_ring_seq *r, void *buf, size_t n, size_t min, int sc,
			     size_t *done)
{
	uint64_t k = 0;
	ak_status st;
	st = _ak_ring_seq_pop_n(r, buf, n, min, sc, &k, r->elem_size, r->stride);
	*done = (size_t)k;
	return st;
}

static int must_wait(ak_status st)
{
	return st == AK_EFULL || st == AK_EEMPTY || st == AK_EAGAIN;
}

static int cancelled(struct ak_cancel *cancel)
{
#if AK_RING_SEQ_HAVE_CANCEL
	return cancel && ak_cancel_is_set(cancel);
#else
	(void)cancel;
	return 0;
#endif
}

/*
 * A waiter that slept and then succeeded passes a wake on if peers may
 * still find what they wait for (rule (d) above).  size() is a snapshot:
 * a spare wake costs a futex call, a missing one is what the forward
 * prevents, so it errs on the side of forwarding.
 */
static void forward(ak_ring_seq *r, struct _ak_event *pair)
{
#if _AK_RING_SEQ_BROKEN == 3 || _AK_RING_SEQ_BROADCAST
	(void)r;
	(void)pair;
#else
	size_t n = ak_ring_seq_size(r);
	if (pair == r->items ? n > 0 : n < r->cap)
		_ak_ring_seq_notify(r, pair, 1);
#endif
}

static ak_status wait_loop(ak_ring_seq *r, struct _ak_event *pair, attempt_fn attempt,
			   void *buf, size_t n, size_t min, int sc, size_t *done,
			   uint64_t deadline_ns, struct ak_cancel *cancel)
{
	struct _ak_backoff bo;
	ak_status st;
	int registered = 0, slept = 0;
#if _AK_RING_SEQ_BROKEN == 2
	struct _ak_event *ev = &pair[0];
#else
	struct _ak_event *ev = &pair[min > 1];
#endif
#if AK_RING_SEQ_HAVE_CANCEL
	ak_cancel_cb cb;
#endif

	*done = 0;
	if (!(r->flags & AK_RING_SEQ_BLOCKING))
		return AK_ESTATE;
	if (n == 0 || !buf)
		return AK_EINVAL;
	if (n > r->cap)
		return AK_E2BIG;
	st = attempt(r, buf, n, min, sc, done);
	if (!must_wait(st))
		return st;

	_ak_backoff_init(&bo, SPIN_CEILING);
	while (!_ak_backoff_exhausted(&bo)) {
		_ak_backoff_spin(&bo);
		st = attempt(r, buf, n, min, sc, done);
		if (!must_wait(st))
			return st;
	}

	for (;;) {
		uint32_t ticket;
		int rc;

		if (cancelled(cancel)) {
			st = AK_ECANCELED;
			break;
		}
		if (!registered && cancel) {
#if AK_RING_SEQ_HAVE_CANCEL
			/* The callback kicks the event, so a sleeper notices the
			 * cancel at once; it runs now if already cancelled. */
			if (ak_cancel_cb_register(cancel, &cb,
						  r->scope == _AK_FUTEX_SHARED ? seq_kick_shared : seq_kick,
						  ev) == AK_OK)
				registered = 1;
#endif
		}
		if (AK_UNLIKELY(_ak_ring_seq_test_window != NULL))
			_ak_ring_seq_test_window(r);
		ticket = _ak_event_prepare(ev);
#if _AK_RING_SEQ_BROKEN == 1
		st = AK_EEMPTY;
#else
		/* Re-check after registering (the Dekker handshake). */
		st = attempt(r, buf, n, min, sc, done);
#endif
		if (!must_wait(st) || cancelled(cancel)) {
			_ak_event_abort(ev);
			if (must_wait(st))
				st = AK_ECANCELED;
			break;
		}
		rc = seq_sleep(r, ev, ticket, deadline_ns);
		slept = 1;
		if (rc == AK_ETIMEDOUT) {
			/* One last look, so a wake racing the deadline is not
			 * thrown away. */
			st = attempt(r, buf, n, min, sc, done);
			if (must_wait(st))
				st = AK_ETIMEDOUT;
			break;
		}
		st = attempt(r, buf, n, min, sc, done);
		if (!must_wait(st))
			break;
	}
#if AK_RING_SEQ_HAVE_CANCEL
	if (registered)
		ak_cancel_cb_deregister(cancel, &cb);
#endif
	if (slept && st == AK_OK)
		forward(r, pair);
	return st;
}

ak_status _ak_ring_seq_push_wait(ak_ring_seq *r, const void *src, size_t n, size_t min,
				 size_t *done, uint64_t deadline_ns, struct ak_cancel *cancel)
{
	return wait_loop(r, r->space, attempt_push, (void *)(uintptr_t)src, n, min, 0, done,
			 deadline_ns, cancel);
}

ak_status _ak_ring_seq_pop_wait(ak_ring_seq *r, void *dst, size_t n, size_t min, int sc,
				size_t *done, uint64_t deadline_ns, struct ak_cancel *cancel)
{
	return wait_loop(r, r->items, attempt_pop, dst, n, min, sc, done, deadline_ns, cancel);
}
