/*
 * atomkit/ring_seq.h - bounded FIFO ring with per-slot sequence numbers:
 * multi-producer / multi-consumer without an in-order tail.
 *
 * Overview
 *   ak_ring_seq is a fixed-capacity FIFO of fixed-size elements.  Every slot
 *   carries its own 64-bit sequence word saying whose turn it is (producer
 *   of lap L, or consumer of lap L).  A producer claims a position with one
 *   CAS on the shared tail, writes its slot and publishes it by storing the
 *   slot's sequence; a consumer does the same on the head.  Nobody ever
 *   waits for an *earlier* claimant to finish before it may finish itself,
 *   which is what in-order rings (ck_ring MP, rte_ring MP/MC) do: there a
 *   producer preempted between claim and commit stops every later producer.
 *   Here it only delays the consumer of its own slot (FIFO forbids skipping
 *   it); other producers keep filling the ring up to capacity.
 *
 *   Modes, by suffix: _mpmc, _mpsc, _spmc, _spsc.  The producer side is the
 *   same CAS in every mode (the tail word also carries the closed bit, so a
 *   single producer needs the CAS too); the single-consumer modes replace
 *   the consumer CAS with a store (seq_cst, uncontended).  Calling a single-side function
 *   from two threads at once is a contract violation (items may be lost).
 *
 *   Operations: try push/pop of one element; 64-bit fast path
 *   (push64/pop64, elem_size must be 8); bulk (all or nothing) and burst
 *   (1..n, as many as fit); zero-copy of one slot at a time
 *   (reserve/commit, peek/release: slots are interleaved with their
 *   sequence words, so there are no contiguous multi-slot segments);
 *   blocking push_wait/pop_wait with an absolute deadline and an optional
 *   cancel token; close.
 *
 * Storage
 *   The control block (struct ak_ring_seq, 640 bytes) and the slots are
 *   either one block of ak_ring_seq_memsize() bytes (slots follow the
 *   control block) or two (ak_ring_seq_init_split()).  The ring stores the
 *   slot array as an offset from the control block, never a pointer, so a
 *   ring placed in a shared mapping works in every process that maps it,
 *   at any address, as long as the control block and the slots are in the
 *   same mapping.  Create it with AK_RING_SEQ_SHARED for cross-process waits.
 *   Capacity: any 1 <= cap <= AK_RING_SEQ_MAX_CAP, fully usable (a ring of
 *   capacity N holds N elements).  A power of two indexes with a mask; any
 *   other capacity with a division (a few ns more per operation).
 *   Element size: 1 .. AK_RING_SEQ_MAX_ELEM bytes; a slot takes 8 bytes
 *   plus the element rounded up to 8.
 *
 * Contract
 *   - Each element pushed is popped exactly once, in FIFO order of the
 *     producers' claims (so per-producer order is kept).  Successful
 *     operations, AK_EFULL and AK_EEMPTY are linearizable: AK_EFULL means
 *     the ring held `cap` claimed elements at one instant during the call,
 *     AK_EEMPTY that it held none.
 *   - AK_EAGAIN: the slot this call needs belongs to a peer that has
 *     claimed it and not finished (it was preempted, or is mid-copy).  The
 *     call has no effect; retry, or use the _wait forms, which sleep until
 *     the peer finishes.  A try call spins briefly before reporting it, so
 *     it is seen only when a peer is really descheduled.
 *   - Close: ak_ring_seq_close() makes every later push (and every push
 *     still looking for a slot) return AK_ECLOSED.  A push that returned
 *     AK_OK is never lost: consumers get every element, then AK_ECLOSED.
 *   - Blocking: only rings created with AK_RING_SEQ_BLOCKING can be waited
 *     on (the _wait forms return AK_ESTATE otherwise).  On such rings each
 *     successful push/pop also pays one full fence and two loads of waiter
 *     counts (the eventcount's Dekker handshake); it makes a system call only
 *     when a thread is actually asleep, and then wakes k sleepers for k
 *     elements (or slots), every bulk sleeper, and everyone on close.  Rings
 *     without the flag pay nothing.
 *   - size() is clamped to [0, cap] and exact when no operation is in
 *     flight; it counts claimed positions, so an element being written
 *     already counts and one being read no longer does.
 *   - Bad arguments (n == 0, n > capacity, wrong element size for the
 *     64-bit path, bad init arguments) return AK_EINVAL or AK_E2BIG and
 *     change nothing.  Hot paths do not test the ring pointer for NULL.
 *
 * Progress
 *   try push/pop, bulk, burst, reserve, peek: lock-free with respect to
 *   the index words (a failed CAS means another thread succeeded), bounded
 *   spin otherwise; never blocked by a preempted thread on another slot.
 *   commit/release/close: wait-free.  _wait forms: blocking (futex).
 *
 * Typed front end: AK_RING_SEQ_DEFINE(name, T) (end of this header).
 *
 * Example
 *     size_t bytes;
 *     ak_ring_seq_memsize(1000, sizeof(uint64_t), &bytes);
 *     ak_ring_seq *r = aligned_alloc(AK_RING_SEQ_ALIGN, bytes);
 *     ak_ring_seq_init(r, bytes, 1000, sizeof(uint64_t), AK_RING_SEQ_BLOCKING);
 *     ak_ring_seq_push64_mpmc(r, 42);                      // any producer
 *     uint64_t v;
 *     if (ak_ring_seq_pop_wait_mpmc(r, &v, AK_DEADLINE_NONE, NULL) == AK_OK) ...
 *
 * See docs/ring_seq.md for the memory-order argument.
 */
#ifndef ATOMKIT_RING_SEQ_H
#define ATOMKIT_RING_SEQ_H

#include <stdbool.h>
#include <string.h>

#include "internal/compiler.h"
#include "internal/event.h"
#include "internal/relax.h"
#include "status.h"

AK_BEGIN_DECLS

struct ak_cancel;

/* Flags for init. */
#define AK_RING_SEQ_BLOCKING 1u /* allow _wait forms; ops notify sleepers */
#define AK_RING_SEQ_SHARED 2u   /* waits use process-shared futexes */

#define AK_RING_SEQ_MAX_CAP (UINT64_C(1) << 40)
#define AK_RING_SEQ_MAX_ELEM 65536u
/* Alignment required of the control block (and of split slot storage). */
#define AK_RING_SEQ_ALIGN AK_DESTRUCTIVE_SIZE

/* Bumped with the wake protocol (the waker takes out the threads FUTEX_WAKE
 * woke, git 45b958e): a shared ring made by an older build fails
 * ak_ring_seq_validate() instead of miscounting its sleepers. */
#define _AK_RING_SEQ_MAGIC UINT64_C(0x337173676e69726b) /* "kringsq3" */
#define _AK_RING_SEQ_CLOSED UINT64_C(1)
/* Bytes per slot: the sequence word, then the element rounded up to 8. */
#define _AK_RING_SEQ_STRIDE(esz) (sizeof(uint64_t) + (((size_t)(esz) + 7) & ~(size_t)7))
/* Polls of a slot whose owner is mid-operation before a try gives up. */
#define _AK_RING_SEQ_INFLIGHT_POLLS 64u

/*
 * Tickets.  Positions count in steps of 2 so that bit 0 of the tail word is
 * free for the closed flag: the producer of position p holds ticket 2p.
 * A slot's sequence word is 2p while it waits for the producer of position
 * p, 2p+1 once that element is published (odd = full), and 2(p+cap) once
 * it has been consumed (the producer one lap later may take it).  All
 * comparisons are differences of 64-bit words, so tickets wrap at 2^64
 * (positions at 2^63) with no special case when cap is a power of two.
 */
typedef struct ak_ring_seq {
	/* Written once by init, then only read: shared by everyone. */
	uint64_t magic;
	uint64_t cap;     /* usable capacity == number of slots */
	uint64_t mask;    /* cap - 1 if cap is a power of two > 1, else 0 */
	uint64_t lap;     /* 2 * cap: ticket distance between laps of a slot */
	int64_t slots_off; /* slot array address minus control block address */
	uint32_t elem_size;
	uint32_t stride;  /* bytes per slot: 8 + elem_size rounded up to 8 */
	uint32_t flags;
	uint32_t scope;   /* _AK_FUTEX_PRIVATE or _AK_FUTEX_SHARED */
	/* Producers' word: next ticket to claim | closed bit. */
	AK_CACHE_ALIGNED _Atomic(uint64_t) tail;
	/* Consumers' word: next ticket to consume. */
	AK_CACHE_ALIGNED _Atomic(uint64_t) head;
	/* Consumers sleep on items[0] waiting for one element, on items[1]
	 * waiting for a bulk of n > 1; producers likewise on space[0/1].
	 * A push of k wakes k sleepers on items[0] and all on items[1]
	 * (_ak_ring_seq_notify()); see src/ring_seq.c for why none is lost. */
	AK_CACHE_ALIGNED struct _ak_event items[2];
	_Atomic(uint64_t) items_syscalls; /* futex waits/wakes on items[] */
	AK_CACHE_ALIGNED struct _ak_event space[2];
	_Atomic(uint64_t) space_syscalls;
} ak_ring_seq;

AK_ASSERT_PADDED(ak_ring_seq);
AK_STATIC_ASSERT(offsetof(ak_ring_seq, tail) == AK_DESTRUCTIVE_SIZE, "tail on its own unit");
AK_STATIC_ASSERT(offsetof(ak_ring_seq, head) == 2 * AK_DESTRUCTIVE_SIZE, "head on its own unit");

/* A slot handed out by reserve/peek (zero-copy). */
typedef struct ak_ring_seq_ref {
	void *ptr;       /* elem_size bytes, valid until commit/release */
	uint64_t ticket; /* which slot: pass the ref back unchanged */
} ak_ring_seq_ref;

/* ---- setup (src/ring_seq.c) ---------------------------------------- */

/* Bytes for the slot array alone / for control block + slots in one
 * block.  AK_EINVAL for cap or elem_size 0 or NULL out, AK_E2BIG above
 * the maxima. */
ak_status ak_ring_seq_slots_size(size_t cap, size_t elem_size, size_t *bytes);
ak_status ak_ring_seq_memsize(size_t cap, size_t elem_size, size_t *bytes);

/* Initialise a ring in `bytes` bytes at r (AK_RING_SEQ_ALIGN aligned),
 * slots right after the control block.  AK_EINVAL: NULL, misaligned,
 * unknown flags, cap/elem_size 0; AK_E2BIG: above the maxima; AK_ERANGE:
 * `bytes` smaller than ak_ring_seq_memsize().  Not thread-safe: call
 * before the ring is shared. */
ak_status ak_ring_seq_init(ak_ring_seq *r, size_t bytes, size_t cap, size_t elem_size,
			   unsigned flags);

/* Same with the slots in separate storage (AK_RING_SEQ_ALIGN aligned,
 * slots_bytes >= ak_ring_seq_slots_size(), not overlapping *r: AK_EINVAL
 * otherwise).  For shared memory, both must lie in the same mapping. */
ak_status ak_ring_seq_init_split(ak_ring_seq *r, void *slots, size_t slots_bytes, size_t cap,
				 size_t elem_size, unsigned flags);

/* Test hook (not API): start positions at `start` (tickets 2*start), to
 * exercise wrap-around of the 64-bit words.  A capacity that is not a power
 * of two is indexed by division and may not wrap: AK_ERANGE if fewer than
 * 2^32 positions remain before the wrap. */
ak_status _ak_ring_seq_init_at(ak_ring_seq *r, void *slots, size_t slots_bytes, size_t cap,
			       size_t elem_size, unsigned flags, uint64_t start);

/* Check a ring someone else initialised (e.g. another process, through
 * shared memory) before using it: AK_OK, or AK_EINVAL if the control block
 * is not a ring or does not fit `bytes` (0 = do not check the size). */
ak_status ak_ring_seq_validate(const ak_ring_seq *r, size_t bytes);

/* Allocate and initialise a ring in one block (aligned_alloc); free it with
 * ak_ring_seq_delete().  AK_ENOMEM, or init's statuses. */
ak_status ak_ring_seq_new(ak_ring_seq **out, size_t cap, size_t elem_size, unsigned flags);
void ak_ring_seq_delete(ak_ring_seq *r);

/* System calls (futex waits and wakes) the ring's waits and notifies have
 * made so far: 0 as long as nobody had to sleep.  For tests and benchmarks. */
uint64_t ak_ring_seq_syscalls(const ak_ring_seq *r);

/* Close: wait-free, idempotent (AK_OK the first time, AK_ECLOSED after).
 * Wakes every waiter. */
ak_status ak_ring_seq_close(ak_ring_seq *r);

/* ---- observers ------------------------------------------------------- */

AK_INLINE AK_NONNULL(1) size_t ak_ring_seq_capacity(const ak_ring_seq *r)
{
	return (size_t)r->cap;
}

AK_INLINE AK_NONNULL(1) size_t ak_ring_seq_elem_size(const ak_ring_seq *r)
{
	return r->elem_size;
}

AK_INLINE AK_NONNULL(1) bool ak_ring_seq_is_closed(ak_ring_seq *r)
{
	/* Acquire: pairs with the seq_cst fetch_or in ak_ring_seq_close(). */
	return (atomic_load_explicit(&r->tail, memory_order_acquire) & _AK_RING_SEQ_CLOSED) != 0;
}

/* Claimed-but-unconsumed positions, clamped to [0, cap]; exact when no
 * operation is in flight.  Wait-free, a snapshot. */
AK_INLINE AK_NONNULL(1) size_t ak_ring_seq_size(ak_ring_seq *r)
{
	/* Head first: with tail read after it, tail >= head except through a
	 * stale head, and the clamps below absorb that. */
	uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
	/* Acquire above only keeps this load after it (load order, no pair). */
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed) & ~_AK_RING_SEQ_CLOSED;
	int64_t d = (int64_t)(t - h) / 2;
	if (d <= 0)
		return 0;
	return (uint64_t)d > r->cap ? (size_t)r->cap : (size_t)d;
}

AK_INLINE AK_NONNULL(1) bool ak_ring_seq_empty(ak_ring_seq *r)
{
	return ak_ring_seq_size(r) == 0;
}

AK_INLINE AK_NONNULL(1) bool ak_ring_seq_full(ak_ring_seq *r)
{
	return ak_ring_seq_size(r) == r->cap;
}

/* ---- internals ------------------------------------------------------- */

AK_INLINE char *_ak_ring_seq_base(ak_ring_seq *r)
{
	return (char *)r + r->slots_off;
}

/* The sequence word of the slot for ticket t (data follows it). */
AK_INLINE _Atomic(uint64_t) *_ak_ring_seq_cell(const ak_ring_seq *r, char *base, uint64_t t,
					       size_t stride)
{
	uint64_t p = t >> 1;
	uint64_t i = r->mask ? (p & r->mask) : (p % r->cap);
	return (_Atomic(uint64_t) *)(void *)(base + i * stride);
}

AK_INLINE void *_ak_ring_seq_data(_Atomic(uint64_t) *cell)
{
	return (char *)(void *)cell + sizeof(uint64_t);
}

/*
 * The slot for ticket *t was not free for a producer (d = its sequence
 * minus *t).  Decide: AK_OK = retry (with *t refreshed), or the final status.
 */
AK_INLINE ak_status _ak_ring_seq_stuck_p(ak_ring_seq *r, uint64_t *t, int64_t d, uint64_t min,
					 unsigned *polls)
{
	uint64_t h, t2;

	if (*t & _AK_RING_SEQ_CLOSED)
		return AK_ECLOSED;
	if (d > 0) {
		/* The slot is already a lap ahead: our tail was stale. */
		*t = atomic_load_explicit(&r->tail, memory_order_relaxed);
		return AK_OK;
	}
	/* The slot still holds an earlier lap.  Full, or a consumer between
	 * its claim and its release?  Read head, then re-read tail: if tail did
	 * not move, both held at the instant head was read, and (t - h) / 2 is
	 * the count of claimed elements then. */
	/* Acquire: pairs with the seq_cst head store of single-consumer pops
	 * (and orders the tail re-read after this load). */
	h = atomic_load_explicit(&r->head, memory_order_acquire);
	t2 = atomic_load_explicit(&r->tail, memory_order_relaxed);
	if (t2 != *t) {
		*t = t2;
		return AK_OK;
	}
	if (((*t - h) >> 1) + min > r->cap)
		return AK_EFULL;
	if (++*polls > _AK_RING_SEQ_INFLIGHT_POLLS)
		return AK_EAGAIN;
	_ak_cpu_relax();
	return AK_OK;
}

/* The same for a consumer at head *h (d = sequence minus (*h + 1)). */
AK_INLINE ak_status _ak_ring_seq_stuck_c(ak_ring_seq *r, uint64_t *h, int64_t d, uint64_t min,
					 unsigned *polls)
{
	uint64_t t, h2;

	if (d > 0) {
		*h = atomic_load_explicit(&r->head, memory_order_relaxed);
		return AK_OK;
	}
	/* Not published yet: empty, or a producer is mid-push?  Same snapshot
	 * argument as in _ak_ring_seq_stuck_p(). */
	/* Acquire: pairs with the seq_cst fetch_or in ak_ring_seq_close() (a
	 * closed verdict sees everything before the close), and keeps the head
	 * re-read after this load. */
	t = atomic_load_explicit(&r->tail, memory_order_acquire);
	h2 = atomic_load_explicit(&r->head, memory_order_relaxed);
	if (h2 != *h) {
		*h = h2;
		return AK_OK;
	}
	if (((t & ~_AK_RING_SEQ_CLOSED) - *h) >> 1 < min)
		return (t & _AK_RING_SEQ_CLOSED) ? AK_ECLOSED : AK_EEMPTY;
	if (++*polls > _AK_RING_SEQ_INFLIGHT_POLLS)
		return AK_EAGAIN;
	_ak_cpu_relax();
	return AK_OK;
}

/*
 * Producer claim: find k in [min, n] consecutive free slots starting at
 * the tail and take them with one CAS.  Returns AK_OK with *tk, *got set,
 * or AK_EFULL / AK_EAGAIN / AK_ECLOSED having taken nothing.
 */
AK_INLINE ak_status _ak_ring_seq_claim_p(ak_ring_seq *r, uint64_t n, uint64_t min,
					 size_t stride, uint64_t *tk, uint64_t *got)
{
	char *base = _ak_ring_seq_base(r);
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	unsigned polls = 0;

	for (;;) {
		uint64_t k = 0;
		int64_t d = 0;
		ak_status st;

		if (AK_LIKELY(!(t & _AK_RING_SEQ_CLOSED))) {
			for (; k < n; k++) {
				uint64_t want = t + 2 * k;
				/* Acquire: pairs with the release store of the sequence
				 * in _ak_ring_seq_finish_c(), so the last consumer's
				 * reads of this slot happen before our writes to it. */
				uint64_t s = atomic_load_explicit(
					_ak_ring_seq_cell(r, base, want, stride), memory_order_acquire);
				d = (int64_t)(s - want);
				if (d != 0)
					break;
			}
			if (k >= min) {
				/* Relaxed: the CAS only hands out positions; the data
				 * is ordered by the slot sequences, not by the tail. */
				if (atomic_compare_exchange_weak_explicit(&r->tail, &t, t + 2 * k,
									  memory_order_relaxed,
									  memory_order_relaxed)) {
					*tk = t;
					*got = k;
					return AK_OK;
				}
				continue;
			}
		}
		st = _ak_ring_seq_stuck_p(r, &t, d, min, &polls);
		if (st != AK_OK)
			return st;
	}
}

/* Consumer claim: as above on the head; sc = single consumer (store). */
AK_INLINE ak_status _ak_ring_seq_claim_c(ak_ring_seq *r, uint64_t n, uint64_t min, int sc,
					 size_t stride, uint64_t *tk, uint64_t *got)
{
	char *base = _ak_ring_seq_base(r);
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	unsigned polls = 0;

	for (;;) {
		uint64_t k = 0;
		int64_t d = 0;
		ak_status st;

		for (; k < n; k++) {
			uint64_t want = h + 2 * k + 1;
			/* Acquire: pairs with the release store of the sequence in
			 * _ak_ring_seq_finish_p(): the producer's element is
			 * visible before we read it. */
			uint64_t s = atomic_load_explicit(_ak_ring_seq_cell(r, base, want, stride),
							  memory_order_acquire);
			d = (int64_t)(s - want);
			if (d != 0)
				break;
		}
		if (k >= min) {
			if (sc) {
				/* seq_cst, pairs with the acquire load of head in
				 * _ak_ring_seq_stuck_p(): only this thread writes
				 * head, but a plain store may still sit in the store
				 * buffer after this pop returns, and a producer would
				 * then report AK_EFULL for a slot already freed (the
				 * linearizability stress caught exactly that).  The
				 * seq_cst store (xchg on x86) is visible on return. */
				atomic_store_explicit(&r->head, h + 2 * k, memory_order_seq_cst);
			} else if (!atomic_compare_exchange_weak_explicit(&r->head, &h, h + 2 * k,
									  memory_order_relaxed,
									  memory_order_relaxed)) {
				/* Relaxed CAS: positions only, as for the tail. */
				continue;
			}
			*tk = h;
			*got = k;
			return AK_OK;
		}
		st = _ak_ring_seq_stuck_c(r, &h, d, min, &polls);
		if (st != AK_OK)
			return st;
	}
}

/* Out of line (src/ring_seq.c): wake k sleepers of ev[0] and all of ev[1]. */
void _ak_ring_seq_wake(ak_ring_seq *r, struct _ak_event *ev, uint64_t k, uint32_t w0,
		       uint32_t w1);

/*
 * After k elements were published (ev = r->items) or k slots freed
 * (ev = r->space): the eventcount's notify (one full fence, then the waiter
 * counts; a system call only when someone sleeps), but targeted: k
 * one-element sleepers and every bulk sleeper.
 */
AK_INLINE void _ak_ring_seq_notify(ak_ring_seq *r, struct _ak_event *ev, uint64_t k)
{
	uint32_t w0, w1;
	/* Dekker: pairs with the fence in _ak_event_prepare() (event.h): either
	 * the waiter's re-check sees our slot store, or we see its count. */
	_ak_fence_seq_cst(ev);
	w0 = atomic_load_explicit(&ev[0].waiters, memory_order_relaxed);
	w1 = atomic_load_explicit(&ev[1].waiters, memory_order_relaxed);
	if (AK_UNLIKELY((w0 | w1) != 0))
		_ak_ring_seq_wake(r, ev, k, w0, w1);
}

/*
 * One element: the same protocol as claim + finish, written out for n = 1
 * so the common case is one load, one CAS, the copy and one store.
 */
AK_INLINE ak_status _ak_ring_seq_push1(ak_ring_seq *r, const void *src, size_t esz,
				       size_t stride)
{
	char *base = _ak_ring_seq_base(r);
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	unsigned polls = 0;

	for (;;) {
		_Atomic(uint64_t) *cell = _ak_ring_seq_cell(r, base, t, stride);
		/* Acquire: pairs with the release store of the sequence in
		 * _ak_ring_seq_finish_c()/_ak_ring_seq_pop1() (see claim_p). */
		uint64_t s = atomic_load_explicit(cell, memory_order_acquire);
		ak_status st;

		/* an odd (closed) tail can equal a full slot's sequence */
		if (AK_LIKELY(s == t && !(t & _AK_RING_SEQ_CLOSED))) {
			/* Relaxed: positions only (see claim_p). */
			if (AK_LIKELY(atomic_compare_exchange_weak_explicit(
				    &r->tail, &t, t + 2, memory_order_relaxed, memory_order_relaxed))) {
				memcpy(_ak_ring_seq_data(cell), src, esz);
				/* Release: pairs with the acquire load in
				 * _ak_ring_seq_claim_c()/_ak_ring_seq_pop1(). */
				atomic_store_explicit(cell, t + 1, memory_order_release);
				if (r->flags & AK_RING_SEQ_BLOCKING)
					_ak_ring_seq_notify(r, r->items, 1);
				return AK_OK;
			}
			continue;
		}
		st = _ak_ring_seq_stuck_p(r, &t, (int64_t)(s - t), 1, &polls);
		if (st != AK_OK)
			return st;
	}
}

AK_INLINE ak_status _ak_ring_seq_pop1(ak_ring_seq *r, void *dst, int sc, size_t esz,
				      size_t stride)
{
	char *base = _ak_ring_seq_base(r);
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	unsigned polls = 0;

	for (;;) {
		_Atomic(uint64_t) *cell = _ak_ring_seq_cell(r, base, h, stride);
		/* Acquire: pairs with the release store of the sequence in
		 * _ak_ring_seq_finish_p()/_ak_ring_seq_push1(). */
		uint64_t s = atomic_load_explicit(cell, memory_order_acquire);
		ak_status st;

		if (AK_LIKELY(s == h + 1)) {
			if (sc) {
				/* seq_cst: pairs with the acquire load of head in
				 * _ak_ring_seq_stuck_p(); see claim_c. */
				atomic_store_explicit(&r->head, h + 2, memory_order_seq_cst);
			} else if (AK_UNLIKELY(!atomic_compare_exchange_weak_explicit(
					   &r->head, &h, h + 2, memory_order_relaxed,
					   memory_order_relaxed))) {
				continue;
			}
			memcpy(dst, _ak_ring_seq_data(cell), esz);
			/* Release: pairs with the acquire load in
			 * _ak_ring_seq_claim_p()/_ak_ring_seq_push1(). */
			atomic_store_explicit(cell, h + r->lap, memory_order_release);
			if (r->flags & AK_RING_SEQ_BLOCKING)
				_ak_ring_seq_notify(r, r->space, 1);
			return AK_OK;
		}
		st = _ak_ring_seq_stuck_c(r, &h, (int64_t)(s - (h + 1)), 1, &polls);
		if (st != AK_OK)
			return st;
	}
}

/* Publish k claimed slots from tk (data already written, or copied here
 * from src when src != NULL). */
AK_INLINE void _ak_ring_seq_finish_p(ak_ring_seq *r, uint64_t tk, uint64_t k, const void *src,
				     size_t esz, size_t stride)
{
	char *base = _ak_ring_seq_base(r);
	for (uint64_t j = 0; j < k; j++) {
		_Atomic(uint64_t) *cell = _ak_ring_seq_cell(r, base, tk + 2 * j, stride);
		if (src)
			memcpy(_ak_ring_seq_data(cell), (const char *)src + j * esz, esz);
		/* Release: pairs with the acquire load in _ak_ring_seq_claim_c()
		 * (the element is written before the slot reads as full). */
		atomic_store_explicit(cell, tk + 2 * j + 1, memory_order_release);
	}
	if (r->flags & AK_RING_SEQ_BLOCKING)
		_ak_ring_seq_notify(r, r->items, k);
}

/* Release k consumed slots from tk (copied out to dst first when dst != NULL). */
AK_INLINE void _ak_ring_seq_finish_c(ak_ring_seq *r, uint64_t tk, uint64_t k, void *dst,
				     size_t esz, size_t stride)
{
	char *base = _ak_ring_seq_base(r);
	for (uint64_t j = 0; j < k; j++) {
		_Atomic(uint64_t) *cell = _ak_ring_seq_cell(r, base, tk + 2 * j, stride);
		if (dst)
			memcpy((char *)dst + j * esz, _ak_ring_seq_data(cell), esz);
		/* Release: pairs with the acquire load in _ak_ring_seq_claim_p()
		 * (our read is done before the next lap's producer writes). */
		atomic_store_explicit(cell, tk + 2 * j + r->lap, memory_order_release);
	}
	if (r->flags & AK_RING_SEQ_BLOCKING)
		_ak_ring_seq_notify(r, r->space, k);
}

AK_INLINE ak_status _ak_ring_seq_push_n(ak_ring_seq *r, const void *src, uint64_t n,
					uint64_t min, uint64_t *done, size_t esz, size_t stride)
{
	uint64_t tk, k;
	ak_status st = _ak_ring_seq_claim_p(r, n, min, stride, &tk, &k);
	if (AK_LIKELY(st == AK_OK)) {
		_ak_ring_seq_finish_p(r, tk, k, src, esz, stride);
		*done = k;
	}
	return st;
}

AK_INLINE ak_status _ak_ring_seq_pop_n(ak_ring_seq *r, void *dst, uint64_t n, uint64_t min,
				       int sc, uint64_t *done, size_t esz, size_t stride)
{
	uint64_t tk, k;
	ak_status st = _ak_ring_seq_claim_c(r, n, min, sc, stride, &tk, &k);
	if (AK_LIKELY(st == AK_OK)) {
		_ak_ring_seq_finish_c(r, tk, k, dst, esz, stride);
		*done = k;
	}
	return st;
}

/* Bulk (all or nothing) and burst (1..n) with the argument checks, shared by
 * the per-mode functions and the typed front end (constant esz/stride). */
AK_INLINE ak_status _ak_ring_seq_bulk_p(ak_ring_seq *r, const void *src, size_t n, size_t esz,
					size_t stride)
{
	uint64_t k;
	if (AK_UNLIKELY(n == 0))
		return AK_EINVAL;
	if (AK_UNLIKELY(n > r->cap))
		return AK_E2BIG;
	return _ak_ring_seq_push_n(r, src, n, n, &k, esz, stride);
}

AK_INLINE ak_status _ak_ring_seq_bulk_c(ak_ring_seq *r, void *dst, size_t n, int sc,
					size_t esz, size_t stride)
{
	uint64_t k;
	if (AK_UNLIKELY(n == 0))
		return AK_EINVAL;
	if (AK_UNLIKELY(n > r->cap))
		return AK_E2BIG;
	return _ak_ring_seq_pop_n(r, dst, n, n, sc, &k, esz, stride);
}

AK_INLINE ak_status _ak_ring_seq_burst_p(ak_ring_seq *r, const void *src, size_t n,
					 size_t *done, size_t esz, size_t stride)
{
	uint64_t k = 0;
	ak_status st;
	/* cppcheck pairs push_wait's NULL cancel with this `done` (its
	 * cross-TU check matches arguments by macro line; see below) */
	// cppcheck-suppress ctunullpointer
	*done = 0;
	if (AK_UNLIKELY(n == 0))
		return AK_EINVAL;
	st = _ak_ring_seq_push_n(r, src, n < r->cap ? n : r->cap, 1, &k, esz, stride);
	*done = (size_t)k;
	return st;
}

AK_INLINE ak_status _ak_ring_seq_burst_c(ak_ring_seq *r, void *dst, size_t n, int sc,
					 size_t *done, size_t esz, size_t stride)
{
	uint64_t k = 0;
	ak_status st;
	/* cppcheck pairs push_wait's NULL cancel with this `done` (its
	 * cross-TU check matches arguments by macro line; see below) */
	// cppcheck-suppress ctunullpointer
	*done = 0;
	if (AK_UNLIKELY(n == 0))
		return AK_EINVAL;
	st = _ak_ring_seq_pop_n(r, dst, n < r->cap ? n : r->cap, 1, sc, &k, esz, stride);
	*done = (size_t)k;
	return st;
}

/* Slow paths of the _wait forms (src/ring_seq.c). */
ak_status _ak_ring_seq_push_wait(ak_ring_seq *r, const void *src, size_t n, size_t min,
				 size_t *done, uint64_t deadline_ns, struct ak_cancel *cancel);
ak_status _ak_ring_seq_pop_wait(ak_ring_seq *r, void *dst, size_t n, size_t min, int sc,
				size_t *done, uint64_t deadline_ns, struct ak_cancel *cancel);

/* ---- zero-copy, mode independent -------------------------------------- */

/* Publish a slot from a reserve (wait-free).  Every reserve must be
 * committed, or the consumers of that slot wait for ever. */
AK_INLINE AK_NONNULL(1, 2) void ak_ring_seq_commit(ak_ring_seq *r, const ak_ring_seq_ref *ref)
{
	_ak_ring_seq_finish_p(r, ref->ticket, 1, NULL, 0, r->stride);
}

/* Hand a peeked slot back to the producers (wait-free). */
AK_INLINE AK_NONNULL(1, 2) void ak_ring_seq_release(ak_ring_seq *r, const ak_ring_seq_ref *ref)
{
	_ak_ring_seq_finish_c(r, ref->ticket, 1, NULL, 0, r->stride);
}

/* ---- the operations, per mode ------------------------------------------
 *
 * For each mode M in mpmc, mpsc, spmc, spsc:
 *
 * ak_status ak_ring_seq_push_M(r, const void *elem)
 * ak_status ak_ring_seq_pop_M(r, void *out)
 *     One element of elem_size bytes.  AK_OK; AK_EFULL / AK_EEMPTY;
 *     AK_EAGAIN (a peer holds the slot, see Contract); AK_ECLOSED (push
 *     after close; pop after close once drained).
 * ak_status ak_ring_seq_push64_M(r, uint64_t v) / pop64_M(r, uint64_t *out)
 *     The same for elem_size == 8 (AK_EINVAL otherwise), constant-size copy.
 * ak_status ak_ring_seq_push_bulk_M(r, const void *src, size_t n)
 * ak_status ak_ring_seq_pop_bulk_M(r, void *dst, size_t n)
 *     All n or none.  AK_EINVAL for n == 0, AK_E2BIG for n > capacity;
 *     AK_EFULL / AK_EEMPTY when fewer than n fit / are present.  After close,
 *     a bulk pop that asks for more than is left returns AK_ECLOSED and
 *     takes nothing: drain the rest with pop or pop_burst.
 * ak_status ak_ring_seq_push_burst_M(r, const void *src, size_t n, size_t *done)
 * ak_status ak_ring_seq_pop_burst_M(r, void *dst, size_t n, size_t *done)
 *     1..n elements: AK_OK with *done = count, else as for one element
 *     with *done = 0.  AK_EINVAL for n == 0.
 * ak_status ak_ring_seq_reserve_M(r, ak_ring_seq_ref *ref)
 * ak_status ak_ring_seq_peek_M(r, ak_ring_seq_ref *ref)
 *     Zero-copy: claim one slot and get a pointer into it; finish with
 *     ak_ring_seq_commit() / ak_ring_seq_release().  Statuses as push/pop.
 * ak_status ak_ring_seq_push_wait_M(r, elem, uint64_t deadline_ns, ak_cancel *c)
 * ak_status ak_ring_seq_pop_wait_M(r, out, deadline_ns, c)
 * ak_status ak_ring_seq_push_bulk_wait_M(r, src, n, deadline_ns, c)
 * ak_status ak_ring_seq_pop_bulk_wait_M(r, dst, n, deadline_ns, c)
 *     Blocking: spin briefly, then sleep until the operation can complete,
 *     the ring is closed (AK_ECLOSED), the absolute CLOCK_MONOTONIC deadline
 *     passes (AK_ETIMEDOUT; AK_DEADLINE_NONE = never) or `c` is cancelled
 *     (AK_ECANCELED; NULL = not cancellable).  An operation that can
 *     complete at once completes even if `c` is already cancelled.
 *     Signals do not interrupt the wait.  AK_ESTATE without
 *     AK_RING_SEQ_BLOCKING.
 */
#define _AK_RING_SEQ_MODE(M, SC)                                                     \
	AK_INLINE AK_NONNULL(1, 2) ak_status ak_ring_seq_push_##M(ak_ring_seq *r,        \
								   const void *elem)      \
	{                                                                                \
		return _ak_ring_seq_push1(r, elem, r->elem_size, r->stride);             \
	}                                                                                \
	AK_INLINE AK_NONNULL(1, 2) ak_status ak_ring_seq_pop_##M(ak_ring_seq *r, void *out) \
	{                                                                                \
		return _ak_ring_seq_pop1(r, out, SC, r->elem_size, r->stride);           \
	}                                                                                \
	AK_INLINE AK_NONNULL(1) ak_status ak_ring_seq_push64_##M(ak_ring_seq *r, uint64_t v) \
	{                                                                                \
		if (AK_UNLIKELY(r->elem_size != 8))                                      \
			return AK_EINVAL;                                                \
		return _ak_ring_seq_push1(r, &v, 8, 16);                                 \
	}                                                                                \
	AK_INLINE AK_NONNULL(1, 2) ak_status ak_ring_seq_pop64_##M(ak_ring_seq *r,       \
								    uint64_t *out)        \
	{                                                                                \
		if (AK_UNLIKELY(r->elem_size != 8))                                      \
			return AK_EINVAL;                                                \
		return _ak_ring_seq_pop1(r, out, SC, 8, 16);                             \
	}                                                                                \
	AK_INLINE AK_NONNULL(1, 2) ak_status ak_ring_seq_push_bulk_##M(                  \
		ak_ring_seq *r, const void *src, size_t n)                               \
	{                                                                                \
		return _ak_ring_seq_bulk_p(r, src, n, r->elem_size, r->stride);          \
	}                                                                                \
	AK_INLINE AK_NONNULL(1, 2) ak_status ak_ring_seq_pop_bulk_##M(ak_ring_seq *r,    \
								       void *dst, size_t n) \
	{                                                                                \
		return _ak_ring_seq_bulk_c(r, dst, n, SC, r->elem_size, r->stride);      \
	}                                                                                \
	AK_INLINE AK_NONNULL(1, 2, 4) ak_status ak_ring_seq_push_burst_##M(              \
		ak_ring_seq *r, const void *src, size_t n, size_t *done)                 \
	{                                                                                \
		return _ak_ring_seq_burst_p(r, src, n, done, r->elem_size, r->stride);   \
	}                                                                                \
	AK_INLINE AK_NONNULL(1, 2, 4) ak_status ak_ring_seq_pop_burst_##M(               \
		ak_ring_seq *r, void *dst, size_t n, size_t *done)                       \
	{                                                                                \
		return _ak_ring_seq_burst_c(r, dst, n, SC, done, r->elem_size, r->stride); \
	}                                                                                \
	AK_INLINE AK_NONNULL(1, 2) ak_status ak_ring_seq_reserve_##M(ak_ring_seq *r,     \
								      ak_ring_seq_ref *ref) \
	{                                                                                \
		uint64_t tk = 0, k = 0;                                                  \
		ak_status st = _ak_ring_seq_claim_p(r, 1, 1, r->stride, &tk, &k);        \
		ref->ptr = NULL;                                                         \
		ref->ticket = tk;                                                        \
		if (st == AK_OK)                                                         \
			ref->ptr = _ak_ring_seq_data(                                    \
				_ak_ring_seq_cell(r, _ak_ring_seq_base(r), tk, r->stride)); \
		return st;                                                               \
	}                                                                                \
	AK_INLINE AK_NONNULL(1, 2) ak_status ak_ring_seq_peek_##M(ak_ring_seq *r,        \
								   ak_ring_seq_ref *ref)  \
	{                                                                                \
		uint64_t tk = 0, k = 0;                                                  \
		ak_status st = _ak_ring_seq_claim_c(r, 1, 1, SC, r->stride, &tk, &k);    \
		ref->ptr = NULL;                                                         \
		ref->ticket = tk;                                                        \
		if (st == AK_OK)                                                         \
			ref->ptr = _ak_ring_seq_data(                                    \
				_ak_ring_seq_cell(r, _ak_ring_seq_base(r), tk, r->stride)); \
		return st;                                                               \
	}                                                                                \
	AK_INLINE AK_NONNULL(1, 2) ak_status ak_ring_seq_push_wait_##M(                  \
		ak_ring_seq *r, const void *elem, uint64_t deadline_ns,                  \
		struct ak_cancel *cancel)                                                \
	{                                                                                \
		size_t k;                                                                \
		return _ak_ring_seq_push_wait(r, elem, 1, 1, &k, deadline_ns, cancel);   \
	}                                                                                \
	AK_INLINE AK_NONNULL(1, 2) ak_status ak_ring_seq_pop_wait_##M(                   \
		ak_ring_seq *r, void *out, uint64_t deadline_ns, struct ak_cancel *cancel) \
	{                                                                                \
		size_t k;                                                                \
		return _ak_ring_seq_pop_wait(r, out, 1, 1, SC, &k, deadline_ns, cancel); \
	}                                                                                \
	AK_INLINE AK_NONNULL(1, 2) ak_status ak_ring_seq_push_bulk_wait_##M(             \
		ak_ring_seq *r, const void *src, size_t n, uint64_t deadline_ns,         \
		struct ak_cancel *cancel)                                                \
	{                                                                                \
		size_t k;                                                                \
		return _ak_ring_seq_push_wait(r, src, n, n, &k, deadline_ns, cancel);    \
	}                                                                                \
	AK_INLINE AK_NONNULL(1, 2) ak_status ak_ring_seq_pop_bulk_wait_##M(              \
		ak_ring_seq *r, void *dst, size_t n, uint64_t deadline_ns,               \
		struct ak_cancel *cancel)                                                \
	{                                                                                \
		size_t k;                                                                \
		return _ak_ring_seq_pop_wait(r, dst, n, n, SC, &k, deadline_ns, cancel); \
	}

/*
 * cppcheck's cross-translation-unit null-pointer check matches call sites
 * against parameters by source line, and every function below comes from
 * one macro line, so it pairs e.g. push_wait's NULL cancel argument with
 * push_burst's `done`: a false positive, suppressed line by line.
 */
// cppcheck-suppress ctunullpointer
_AK_RING_SEQ_MODE(mpmc, 0)
// cppcheck-suppress ctunullpointer
_AK_RING_SEQ_MODE(spmc, 0)
// cppcheck-suppress ctunullpointer
_AK_RING_SEQ_MODE(mpsc, 1)
// cppcheck-suppress ctunullpointer
_AK_RING_SEQ_MODE(spsc, 1)
#undef _AK_RING_SEQ_MODE

/* ---- typed front end ------------------------------------------------------
 *
 * AK_RING_SEQ_DEFINE(name, T) defines the type `name` (an ak_ring_seq whose
 * element is T; its slots follow it in the same block) and:
 *   ak_status name_memsize(size_t cap, size_t *bytes)
 *   ak_status name_init(name *q, size_t bytes, size_t cap, unsigned flags)
 *   ak_status name_new(name **q, size_t cap, unsigned flags)   void name_delete(q)
 *   ak_status name_validate(const name *q, size_t bytes)   (also checks sizeof(T))
 *   ak_ring_seq *name_ring(name *q)    (zero-copy, observers: the untyped API)
 *   ak_status name_close(q)   size_t name_size(q)   size_t name_capacity(q)
 * and for each mode M in mpmc, mpsc, spmc, spsc:
 *   name_push_M(q, T v)                   name_pop_M(q, T *out)
 *   name_push_bulk_M(q, const T *src, n)  name_pop_bulk_M(q, T *dst, n)
 *   name_push_burst_M(q, src, n, &done)   name_pop_burst_M(q, dst, n, &done)
 *   name_push_wait_M(q, T v, deadline, cancel)   name_pop_wait_M(q, T *out, ...)
 *   name_push_bulk_wait_M(q, src, n, ...)        name_pop_bulk_wait_M(q, dst, n, ...)
 * with the statuses of the untyped functions.  The element size is a
 * compile-time constant, so each copy is a fixed-size move and each slot
 * address a constant multiply.  T may have any size up to
 * AK_RING_SEQ_MAX_ELEM; elements are copied with memcpy, so T's alignment
 * may exceed the slot's 8 bytes.  Use at file scope.
 */
#define _AK_RING_SEQ_DEFINE_MODE(name, T, M, SC)                                        \
	AK_UNUSED AK_INLINE ak_status name##_push_##M(name *q, T v)                      \
	{                                                                                \
		return _ak_ring_seq_push1(&q->ring, &v, sizeof(T), _AK_RING_SEQ_STRIDE(sizeof(T))); \
	}                                                                                \
	AK_UNUSED AK_INLINE ak_status name##_pop_##M(name *q, T *out)                    \
	{                                                                                \
		return _ak_ring_seq_pop1(&q->ring, out, SC, sizeof(T),                  \
					 _AK_RING_SEQ_STRIDE(sizeof(T)));                \
	}                                                                                \
	AK_UNUSED AK_INLINE ak_status name##_push_bulk_##M(name *q, const T *src, size_t n) \
	{                                                                                \
		return _ak_ring_seq_bulk_p(&q->ring, src, n, sizeof(T),                 \
					   _AK_RING_SEQ_STRIDE(sizeof(T)));              \
	}                                                                                \
	AK_UNUSED AK_INLINE ak_status name##_pop_bulk_##M(name *q, T *dst, size_t n)     \
	{                                                                                \
		return _ak_ring_seq_bulk_c(&q->ring, dst, n, SC, sizeof(T),             \
					   _AK_RING_SEQ_STRIDE(sizeof(T)));              \
	}                                                                                \
	AK_UNUSED AK_INLINE ak_status name##_push_burst_##M(name *q, const T *src,       \
							    size_t n, size_t *done)      \
	{                                                                                \
		return _ak_ring_seq_burst_p(&q->ring, src, n, done, sizeof(T),          \
					    _AK_RING_SEQ_STRIDE(sizeof(T)));             \
	}                                                                                \
	AK_UNUSED AK_INLINE ak_status name##_pop_burst_##M(name *q, T *dst, size_t n,    \
							   size_t *done)                 \
	{                                                                                \
		return _ak_ring_seq_burst_c(&q->ring, dst, n, SC, done, sizeof(T),      \
					    _AK_RING_SEQ_STRIDE(sizeof(T)));             \
	}                                                                                \
	AK_UNUSED static inline ak_status name##_push_wait_##M(                          \
		name *q, T v, uint64_t deadline_ns, struct ak_cancel *cancel)            \
	{                                                                                \
		size_t k_;                                                               \
		return _ak_ring_seq_push_wait(&q->ring, &v, 1, 1, &k_, deadline_ns, cancel); \
	}                                                                                \
	AK_UNUSED static inline ak_status name##_pop_wait_##M(                           \
		name *q, T *out, uint64_t deadline_ns, struct ak_cancel *cancel)         \
	{                                                                                \
		size_t k_;                                                               \
		return _ak_ring_seq_pop_wait(&q->ring, out, 1, 1, SC, &k_, deadline_ns,  \
					     cancel);                                    \
	}                                                                                \
	AK_UNUSED static inline ak_status name##_push_bulk_wait_##M(                     \
		name *q, const T *src, size_t n, uint64_t deadline_ns,                   \
		struct ak_cancel *cancel)                                                \
	{                                                                                \
		size_t k_;                                                               \
		return _ak_ring_seq_push_wait(&q->ring, src, n, n, &k_, deadline_ns, cancel); \
	}                                                                                \
	AK_UNUSED static inline ak_status name##_pop_bulk_wait_##M(                      \
		name *q, T *dst, size_t n, uint64_t deadline_ns, struct ak_cancel *cancel) \
	{                                                                                \
		size_t k_;                                                               \
		return _ak_ring_seq_pop_wait(&q->ring, dst, n, n, SC, &k_, deadline_ns,  \
					     cancel);                                    \
	}

#define AK_RING_SEQ_DEFINE(name, T)                                                      \
	typedef struct name {                                                            \
		ak_ring_seq ring;                                                        \
	} name;                                                                          \
	AK_UNUSED static inline ak_status name##_memsize(size_t cap, size_t *bytes)       \
	{                                                                                \
		return ak_ring_seq_memsize(cap, sizeof(T), bytes);                       \
	}                                                                                \
	AK_UNUSED static inline ak_status name##_init(name *q, size_t bytes, size_t cap,  \
						      unsigned flags)                    \
	{                                                                                \
		/* a cast, not &q->ring: init checks q's alignment first */          \
		return ak_ring_seq_init((ak_ring_seq *)(void *)q, bytes, cap, sizeof(T), flags); \
	}                                                                                \
	AK_UNUSED static inline ak_status name##_new(name **q, size_t cap, unsigned flags) \
	{                                                                                \
		ak_ring_seq *r_ = NULL;                                                  \
		ak_status st_;                                                           \
		if (!q)                                                                  \
			return AK_EINVAL;                                                \
		st_ = ak_ring_seq_new(&r_, cap, sizeof(T), flags);                       \
		*q = (name *)(void *)r_;                                                 \
		return st_;                                                              \
	}                                                                                \
	AK_UNUSED static inline void name##_delete(name *q)                              \
	{                                                                                \
		ak_ring_seq_delete(q ? &q->ring : NULL);                                 \
	}                                                                                \
	AK_UNUSED static inline ak_status name##_validate(const name *q, size_t bytes)    \
	{                                                                                \
		ak_status st_;                                                           \
		if (!q)                                                                  \
			return AK_EINVAL;                                                \
		st_ = ak_ring_seq_validate(&q->ring, bytes);                             \
		if (st_ == AK_OK && q->ring.elem_size != sizeof(T))                      \
			st_ = AK_EINVAL;                                                 \
		return st_;                                                              \
	}                                                                                \
	AK_UNUSED static inline ak_ring_seq *name##_ring(name *q)                        \
	{                                                                                \
		return q ? &q->ring : NULL;                                              \
	}                                                                                \
	AK_UNUSED static inline ak_status name##_close(name *q)                          \
	{                                                                                \
		return ak_ring_seq_close(q ? &q->ring : NULL);                           \
	}                                                                                \
	AK_UNUSED AK_NONNULL(1) static inline size_t name##_size(name *q)                \
	{                                                                                \
		return ak_ring_seq_size(&q->ring);                                       \
	}                                                                                \
	AK_UNUSED AK_NONNULL(1) static inline size_t name##_capacity(name *q)            \
	{                                                                                \
		return ak_ring_seq_capacity(&q->ring);                                   \
	}                                                                                \
	_AK_RING_SEQ_DEFINE_MODE(name, T, mpmc, 0)                                       \
	_AK_RING_SEQ_DEFINE_MODE(name, T, spmc, 0)                                       \
	_AK_RING_SEQ_DEFINE_MODE(name, T, mpsc, 1)                                       \
	_AK_RING_SEQ_DEFINE_MODE(name, T, spsc, 1)                                       \
	typedef int name##_ring_seq_defined_ /* swallow the semicolon */

AK_END_DECLS

#endif /* ATOMKIT_RING_SEQ_H */
