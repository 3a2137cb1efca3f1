/*
 * Out-of-line parts of the ring family: init, close, and the slow paths
 * (sleeping, waking, waiting for an earlier MP commit).  The hot paths are
 * static inline in include/atomkit/ring.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <limits.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <sys/syscall.h>
#include <string.h>
#include <unistd.h>

#include <atomkit/clock.h>
#include <atomkit/internal/futex.h>
#include <atomkit/ring.h>

#include "ring_layout.h"

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
 * itself or re-checks: a woken thread that has not run yet, on demand. */
void (*_ak_ring_test_woken)(ak_ring *r);
/* Test hook: called by a waiter that registered and re-checked, right
 * before it counts itself a sleeper: a notify landing here must cost no
 * system call (the futex wait finds the word moved). */
void (*_ak_ring_test_before_sleep)(ak_ring *r);

/* ---- membarrier: the asymmetric half of the store->load handshake ---- */

/* 1 registered, -1 unavailable, 0 not tried yet. */
static _Atomic(int) mb_state;

static int membarrier_ready(void)
{
	/* Relaxed: the value is only a cache of the kernel's answer; a race
	 * just registers twice, which the kernel allows. */
	int s = atomic_load_explicit(&mb_state, memory_order_relaxed);
	if (s == 0) {
		long rc = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0);
		s = rc == 0 ? 1 : -1;
		atomic_store_explicit(&mb_state, s, memory_order_relaxed);
	}
	return s == 1;
}

/* Relaxed: statistics only. */
static void count_syscall(ak_ring *r)
{
	atomic_fetch_add_explicit(&r->wait.syscalls, 1, memory_order_relaxed);
}

static void count_kind(ak_ring *r, _Atomic(uint64_t) *kind)
{
	count_syscall(r);
	atomic_fetch_add_explicit(kind, 1, memory_order_relaxed);
}

/*
 * Make every running thread of this process execute a full barrier: after
 * this, a fast-path thread either has its index store visible to us, or its
 * next load of the flag we set before calling sees that flag.  Returns 0 if
 * the barrier could not be issued (then the caller must not rely on it).
 */
static int ring_membarrier(ak_ring *r, _Atomic(uint64_t) *kind)
{
	if (r->cfg.fenced)
		return 1; /* the fast paths fence themselves */
	if (kind)
		count_kind(r, kind);
	else
		count_syscall(r);
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0)
		return 1;
	/* A forked child inherits the ring but not the registration. */
	atomic_store_explicit(&mb_state, 0, memory_order_relaxed);
	if (membarrier_ready() &&
	    syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0)
		return 1;
	return 0;
}

static int ring_scope(const ak_ring *r)
{
	return (r->cfg.flags & AK_RING_SHARED) ? _AK_FUTEX_SHARED : _AK_FUTEX_PRIVATE;
}

/* ---- setup ---------------------------------------------------------- */

size_t ak_ring_memsize(uint64_t capacity, size_t elem_size)
{
	if (capacity == 0 || elem_size == 0 || capacity > AK_RING_MAX_CAPACITY)
		return 0;
	uint64_t slots = _ak_ring_slots_for(capacity);
	if (slots > SIZE_MAX / elem_size)
		return 0;
	return (size_t)slots * elem_size;
}

ak_status _ak_ring_init_at(ak_ring *r, void *storage, size_t storage_size, uint64_t capacity,
			   size_t elem_size, unsigned flags, uint64_t start)
{
	/* The alignment test comes before anything reads or writes *r: a
	 * control block below its alignment makes every atomic access
	 * misaligned. */
	if (!r || !storage || capacity == 0 || elem_size == 0 || (flags & ~AK_RING_SHARED))
		return AK_EINVAL;
	if ((uintptr_t)r % _Alignof(ak_ring) != 0 || (uintptr_t)storage % 8 != 0)
		return AK_EINVAL;
	if (capacity > AK_RING_MAX_CAPACITY)
		return AK_E2BIG;
	size_t need = ak_ring_memsize(capacity, elem_size);
	if (need == 0)
		return AK_E2BIG;
	if (storage_size < need)
		return AK_EINVAL;
	/* Elements written over cfg or the indices would corrupt the ring:
	 * [storage, storage + need) must miss [r, r + 1). */
	if (_ak_ring_overlaps((uintptr_t)storage, need, (uintptr_t)r, sizeof(*r)))
		return AK_EINVAL;

	memset(r, 0, sizeof(*r));
	r->cfg.capacity = capacity;
	r->cfg.mask = _ak_ring_slots_for(capacity) - 1;
	r->cfg.elem_size = elem_size;
	r->cfg.data_off = (int64_t)((uintptr_t)storage - (uintptr_t)r);
	r->cfg.flags = flags;
	r->cfg.fenced = (flags & AK_RING_SHARED) || !membarrier_ready();
	r->cfg.magic = _AK_RING_MAGIC;
	atomic_store_explicit(&r->prod.head, start, memory_order_relaxed);
	atomic_store_explicit(&r->prod.tail, start, memory_order_relaxed);
	atomic_store_explicit(&r->prod.cache, start + capacity, memory_order_relaxed);
	atomic_store_explicit(&r->cons.head, start, memory_order_relaxed);
	atomic_store_explicit(&r->cons.tail, start, memory_order_relaxed);
	atomic_store_explicit(&r->cons.cache, start, memory_order_relaxed);
	atomic_store_explicit(&r->prod.gate, r->cfg.fenced ? _AK_RING_GATE_FENCED : 0u,
			      memory_order_relaxed);
	atomic_store_explicit(&r->cons.gate, r->cfg.fenced ? _AK_RING_GATE_FENCED : 0u,
			      memory_order_relaxed);
	atomic_store_explicit(&r->wait.closed, _AK_RING_OPEN, memory_order_relaxed);
	atomic_store_explicit(&r->wait.close_pos, start, memory_order_relaxed);
	return AK_OK;
}

ak_status ak_ring_init(ak_ring *r, void *storage, size_t storage_size, uint64_t capacity,
		       size_t elem_size, unsigned flags)
{
	return _ak_ring_init_at(r, storage, storage_size, capacity, elem_size, flags, 0);
}

uint64_t ak_ring_syscalls(const ak_ring *r)
{
	return r ? atomic_load_explicit(&((ak_ring *)r)->wait.syscalls, memory_order_relaxed) : 0;
}

ak_status ak_ring_syscalls_split(const ak_ring *r, ak_ring_syscall_split *out)
{
	if (!r || !out)
		return AK_EINVAL;
	/* Relaxed: statistics; exact once the ring is quiescent. */
	out->waits = atomic_load_explicit(&((ak_ring *)r)->wait.sc_waits, memory_order_relaxed);
	out->wakes = atomic_load_explicit(&((ak_ring *)r)->wait.sc_wakes, memory_order_relaxed);
	out->spare = atomic_load_explicit(&((ak_ring *)r)->wait.sc_spare, memory_order_relaxed);
	out->total = atomic_load_explicit(&((ak_ring *)r)->wait.syscalls, memory_order_relaxed);
	return AK_OK;
}

/* ---- spinning -------------------------------------------------------- */

/* Spin politely; after a while give the CPU away: on 2 cores with 8
 * threads the thread we wait for is often not running. */
static void ring_pause(unsigned *spins)
{
	if (++*spins < 256)
		_ak_cpu_relax();
	else
		sched_yield();
}

void _ak_ring_commit_wait(_Atomic(uint64_t) *tail, uint64_t pos)
{
	unsigned spins = 0;
	/* Acquire pairs with the release store of the tail by the thread
	 * committing just before us, so our own release carries its writes. */
	while (atomic_load_explicit(tail, memory_order_acquire) != pos)
		ring_pause(&spins);
}

/* ---- close ------------------------------------------------------------ */

static void wait_sealed(ak_ring *r)
{
	unsigned spins = 0;
	/* Acquire pairs with the release store of SEALED in ak_ring_close(). */
	while (atomic_load_explicit(&r->wait.closed, memory_order_acquire) != _AK_RING_SEALED)
		ring_pause(&spins);
}

/*
 * A producer reserved [pos, pos + n) and then saw the ring closing.  The
 * closer froze close_pos at the producer head it saw: reservations below it
 * happened before the close and must complete; the others fail.
 */
ak_status _ak_ring_prod_closed(ak_ring *r, uint64_t pos, uint64_t n, int mp)
{
	wait_sealed(r);
	uint64_t cp = atomic_load_explicit(&r->wait.close_pos, memory_order_relaxed);
	if ((int64_t)(cp - pos) >= (int64_t)n)
		return AK_OK;
	if (!mp) /* single producer: nobody reserved after us, undo */
		atomic_store_explicit(&r->prod.head, pos, memory_order_relaxed);
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
 * needs; tests/spin/ring_wake.pml models it.
 */
static _Atomic(uint32_t) *gate_of(ak_ring *r, _Atomic(uint32_t) *seq)
{
	/* data waiters register on the gate producers read, and vice versa */
	return seq == &r->wait.data_seq ? &r->prod.gate : &r->cons.gate;
}

static _Atomic(uint32_t) *sleepers_of(ak_ring *r, _Atomic(uint32_t) *seq)
{
	return seq == &r->wait.data_seq ? &r->wait.data_sleepers : &r->wait.space_sleepers;
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
static void wake_all(ak_ring *r, _Atomic(uint32_t) *seq)
{
	_Atomic(uint32_t) *sleepers = sleepers_of(r, seq);
	/* seq_cst: the release part pairs with the acquire load of the ticket
	 * in _ak_ring_wait_for() (a waiter that sees the bump sees our state);
	 * the SC part orders it before the load of sleepers below (Dekker
	 * with the sleepers increment in _ak_ring_wait_for()). */
	atomic_fetch_add_explicit(seq, 1, memory_order_seq_cst);
#if _AK_RING_WAKE_BROKEN != 2
	/* seq_cst: pairs with the seq_cst increment of sleepers in
	 * _ak_ring_wait_for(). */
	if (atomic_load_explicit(sleepers, memory_order_seq_cst) == 0)
		return;
#endif
	int m = _ak_futex_wake(seq, INT32_MAX, ring_scope(r));
	count_kind(r, m > 0 ? &r->wait.sc_wakes : &r->wait.sc_spare);
#if _AK_RING_WAKE_BROKEN == 1
	m = 0; /* the old accounting: woken threads unregister themselves */
#endif
	/* Relaxed: counts; the ordering is the Dekker pairs above. */
	if (m > 0) {
		atomic_fetch_sub_explicit(sleepers, (uint32_t)m, memory_order_relaxed);
		atomic_fetch_sub_explicit(gate_of(r, seq), (uint32_t)m * _AK_RING_GATE_WAITER,
					  memory_order_relaxed);
	}
}

void _ak_ring_notify(ak_ring *r, _Atomic(uint32_t) *seq)
{
	wake_all(r, seq);
}

static void kick_waiters(ak_ring *r)
{
	/* seq_cst: pairs with the seq_cst waiter registrations on the gates
	 * in _ak_ring_wait_for() (Dekker against the closed flag). */
	if (atomic_load_explicit(&r->prod.gate, memory_order_seq_cst) >= _AK_RING_GATE_WAITER)
		wake_all(r, &r->wait.data_seq);
	if (atomic_load_explicit(&r->cons.gate, memory_order_seq_cst) >= _AK_RING_GATE_WAITER)
		wake_all(r, &r->wait.space_seq);
}

ak_status ak_ring_close(ak_ring *r)
{
	uint32_t open = _AK_RING_OPEN;

	if (!r || r->cfg.magic != _AK_RING_MAGIC)
		return AK_EINVAL;
	/* seq_cst: elects the one closer; pairs with the seq_cst loads of
	 * `closed` in ready() (a sleeper re-checks it after registering). */
	if (!atomic_compare_exchange_strong_explicit(&r->wait.closed, &open, _AK_RING_CLOSING,
						     memory_order_seq_cst, memory_order_relaxed)) {
		wait_sealed(r);
		return AK_ECLOSED;
	}
	/* seq_cst: the flag half of the close handshake; pairs with the gate
	 * load after a reservation in _ak_ring_prod_begin(). */
	atomic_fetch_or_explicit(&r->prod.gate, _AK_RING_GATE_CLOSED, memory_order_seq_cst);
	/* Single producers announce with a plain store and a compiler
	 * barrier; this barrier supplies their half of the fence. */
	(void)ring_membarrier(r, NULL);
	/* seq_cst: pairs with the seq_cst head CAS of MP producers; after the
	 * barrier, also sees every SP announcement made before our flag. */
	uint64_t cp = atomic_load_explicit(&r->prod.head, memory_order_seq_cst);
	atomic_store_explicit(&r->wait.close_pos, cp, memory_order_relaxed);
	/* seq_cst store (release part): pairs with the acquire loads of
	 * `closed` == SEALED in the consumers and wait_sealed(), which then
	 * read close_pos; the SC part orders it before kick_waiters' loads. */
	atomic_store_explicit(&r->wait.closed, _AK_RING_SEALED, memory_order_seq_cst);
	kick_waiters(r);
	return AK_OK;
}

/* ---- sleeping ----------------------------------------------------------- */

/* ready_state(): the waiter's operation can make progress (or must return);
 * it cannot; or it cannot yet, but a push is in flight that may not wake
 * us, so we must not sleep for long. */
enum { NOT_READY = 0, READY = 1, IN_FLIGHT = 2 };

static int ready_state(ak_ring *r, int for_data, uint64_t n)
{
	/* seq_cst loads: the re-check half of the Dekker handshakes (pairs
	 * with close's flag store, and with the notifier's index store +
	 * barrier + gate load). */
	uint32_t closed = atomic_load_explicit(&r->wait.closed, memory_order_seq_cst);
	if (closed == _AK_RING_CLOSING || (closed == _AK_RING_SEALED && !for_data))
		return READY;
	if (for_data) {
		uint64_t p = atomic_load_explicit(&r->prod.tail, memory_order_seq_cst);
		uint64_t h = atomic_load_explicit(&r->cons.head, memory_order_seq_cst);
		if (p - h >= n && p - h <= r->cfg.capacity)
			return READY;
		/* Sealed: ready when the pop would report AK_ECLOSED; else the
		 * producers still publishing before close will notify us. */
		if (closed == _AK_RING_SEALED &&
		    atomic_load_explicit(&r->wait.close_pos, memory_order_relaxed) - h < n)
			return READY;
		/* seq_cst, after the tail: pairs with the producer's reservation
		 * store + gate read in _ak_ring_prod_begin_g() (the re-check half
		 * of that Dekker).  A copying push reads the gate only
		 * there, so one whose reservation we see but whose publication
		 * we did not (head != the tail read above) may have missed our
		 * registration and will not wake us: poll.  One whose
		 * reservation we do not see will see our registration. */
		if (atomic_load_explicit(&r->prod.head, memory_order_seq_cst) != p)
			return IN_FLIGHT;
		return NOT_READY;
	}
	/* seq_cst: the space waiter's re-check; pairs with the consumer's
	 * cons.tail store + barrier + gate load in _ak_ring_cons_end(). */
	uint64_t c = atomic_load_explicit(&r->cons.tail, memory_order_seq_cst);
	uint64_t h = atomic_load_explicit(&r->prod.head, memory_order_seq_cst);
	uint64_t used = h - c;
	return used <= r->cfg.capacity && r->cfg.capacity - used >= n ? READY : NOT_READY;
}

static int ready(ak_ring *r, int for_data, uint64_t n)
{
	return ready_state(r, for_data, n) == READY;
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
	ak_ring *r = (ak_ring *)arg;
	wake_all(r, &r->wait.data_seq);
	wake_all(r, &r->wait.space_seq);
}
#endif

ak_status _ak_ring_wait_for(ak_ring *r, int for_data, uint64_t n, int multi,
			    uint64_t deadline_ns, ak_cancel *cancel)
{
	_Atomic(uint32_t) *seq, *waiters, *sleepers;
	ak_status st = AK_OK;
	unsigned spins = 0;
	(void)multi;

	if (!r || r->cfg.magic != _AK_RING_MAGIC)
		return AK_EINVAL;
#if !AK_RING_HAVE_CANCEL
	if (cancel) /* cancel tokens are not built into this library yet */
		return AK_EINVAL;
#endif
	if (cancelled(cancel))
		return AK_ECANCELED;
	/* A bounded spin first: a partner on another core is often about to
	 * make room, and a sleep costs system calls and microseconds. */
	for (; spins < _ak_ring_wait_spins; spins++) {
		if (ready(r, for_data, n))
			return AK_OK;
		_ak_cpu_relax();
	}
	if (deadline_ns != AK_DEADLINE_NONE && ak_now_ns() >= deadline_ns)
		return AK_ETIMEDOUT;

	seq = for_data ? &r->wait.data_seq : &r->wait.space_seq;
	/* Consumers waiting for data register on the gate the producers read
	 * after publishing, and the other way round. */
	waiters = for_data ? &r->prod.gate : &r->cons.gate;
	sleepers = sleepers_of(r, seq);
#if AK_RING_HAVE_CANCEL
	ak_cancel_cb cb;
	int have_cb = 0;
	memset(&cb, 0, sizeof cb);
	if (cancel) {
		/* A deadline token expires without a request: sleep no longer. */
		uint64_t cdl = ak_cancel_deadline(cancel);
		if (cdl < deadline_ns)
			deadline_ns = cdl;
		if (ak_cancel_cb_register(cancel, &cb, ring_kick, r) != AK_OK)
			return AK_EINVAL;
		have_cb = 1;
	}
#endif
	for (;;) {
		/* Acquire pairs with the release bump in wake_all(). */
		uint32_t ticket = atomic_load_explicit(seq, memory_order_acquire);
		/* seq_cst: the store half of the Dekker handshake; pairs with
		 * the notifier's waiter load after its index store (and with
		 * kick_waiters()). */
		atomic_fetch_add_explicit(waiters, _AK_RING_GATE_WAITER, memory_order_seq_cst);
		int sure = ring_membarrier(r, &r->wait.sc_waits);
		int rs = ready_state(r, for_data, n);
		/* A push in flight that may not wake us: it is a few stores from
		 * done unless its thread was preempted (or it is a zero-copy
		 * reservation, whose commit does wake us), so look again a few
		 * times, still registered, before sleeping with a short cap. */
		for (unsigned i = 0; rs == IN_FLIGHT && i < 256; i++) {
			_ak_cpu_relax();
			rs = ready_state(r, for_data, n);
		}
		if (rs == READY || cancelled(cancel)) {
			atomic_fetch_sub_explicit(waiters, _AK_RING_GATE_WAITER,
						  memory_order_relaxed);
			break;
		}
		uint64_t dl = deadline_ns;
		if (!sure || rs == IN_FLIGHT) { /* a wake-up can be missed, so poll */
			uint64_t cap = ak_deadline_after(AK_NS_PER_MS);
			if (cap < dl)
				dl = cap;
		}
		if (AK_UNLIKELY(_ak_ring_test_before_sleep != NULL))
			_ak_ring_test_before_sleep(r);
		/* seq_cst: pairs with the seq_cst load of sleepers in wake_all()
		 * (the kernel then reads seq after it: see there). */
		atomic_fetch_add_explicit(sleepers, 1, memory_order_seq_cst);
		int rc = _ak_futex_wait_woken(seq, ticket, dl, ring_scope(r));
		count_kind(r, &r->wait.sc_waits);
		if (AK_UNLIKELY(_ak_ring_test_woken != NULL))
			_ak_ring_test_woken(r);
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
		if (ready(r, for_data, n))
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
