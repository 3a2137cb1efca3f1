/*
 * atomkit/ring.h - bounded in-order ring buffers: SPSC, MPSC, SPMC, MPMC.
 *
 * Overview
 *   One ring type, `ak_ring`, whose producer and consumer sides each run
 *   single- or multi-threaded; the mode is the function suffix:
 *       _spsc  one producer thread, one consumer thread
 *       _mpsc  many producers, one consumer
 *       _spmc  one producer, many consumers
 *       _mpmc  many producers, many consumers
 *   The side's mode is what counts: `_mpsc` on the consumer side is the same
 *   code as `_spsc`.  All producers of a ring must use an MP suffix (or there
 *   is only one producer); likewise for consumers.
 *
 *   Operations, in every mode:
 *       push / pop                one element (copied)
 *       push_bulk / pop_bulk      exactly n elements or none
 *       push_burst / pop_burst    up to n elements, the count is returned
 *       reserve / commit          zero-copy producer: write in place
 *       peek / release            zero-copy consumer: read in place
 *       push_wait / pop_wait      block (futex) until done, deadline, cancel
 *                                 or close; _bulk_wait forms too
 *       ak_ring_close()           producers get AK_ECLOSED, consumers drain
 *
 *   Elements have any fixed size (1 byte and up), copied with memcpy; when the
 *   size is a compile-time constant (AK_RING_DEFINE) the copy is one move.
 *   AK_RING_DEFINE(name, T) generates a type-safe front end.
 *   Variable-length records live in atomkit/ring_var.h; the preemption-
 *   tolerant per-slot-sequence rings in atomkit/ring_seq.h.
 *
 * Contract
 *   - Capacity: any value from 1 to AK_RING_MAX_CAPACITY; all of it is usable
 *     (no wasted slot).  Slot storage is rounded up to a power of two
 *     internally; ak_ring_memsize() accounts for that.
 *   - Storage: the caller owns it.  ak_ring_memsize() says how many bytes,
 *     ak_ring_init() validates them (non-NULL, 8-byte aligned, large
 *     enough, not overlapping the control block).  The ring stores the
 *     storage as an offset from the control block, never a pointer, so a
 *     ring whose control block and storage lie in one shared mapping works
 *     in every process that maps it, at any address (pass AK_RING_SHARED to
 *     init).
 *   - The control block needs _Alignof(ak_ring) == AK_DESTRUCTIVE_SIZE (128)
 *     bytes of alignment, which malloc does not give: declare it (the
 *     compiler aligns it), allocate it with aligned_alloc(AK_DESTRUCTIVE_SIZE,
 *     ...), or place it at a 128-aligned offset of a shared mapping.  Init
 *     refuses a misaligned one with AK_EINVAL.
 *   - FIFO: elements come out in the order their pushes took effect.  In the
 *     MP modes, pushes take effect in the order of their reservations (the
 *     head CAS); each producer's own elements always stay in order.
 *   - size/empty/full: 0 <= size <= capacity always; exact when no push or
 *     pop is in flight.  Concurrently they are a snapshot that may be stale.
 *   - Close: after ak_ring_close() returns, and after a push has returned
 *     AK_ECLOSED, every push fails with AK_ECLOSED; every element whose push
 *     returned AK_OK is still delivered; consumers get AK_ECLOSED once
 *     nothing is left.  Waiters wake at once.
 *   - Errors: a NULL ring or buffer gives AK_EINVAL; a bulk request larger
 *     than the capacity gives AK_E2BIG (it could never succeed); a zero-copy
 *     commit/release that does not match the reservation (or whose count
 *     was changed) gives AK_ESTATE; pass views back unchanged.
 *     No error path loses or duplicates an element.
 *   - The ring never allocates, locks, or makes a system call on the
 *     non-blocking paths; only _wait functions (when they must sleep) and
 *     notifications of sleeping waiters enter the kernel.
 *
 * Progress
 *   SPSC: both sides wait-free.  MP/MC: lock-free reservation (one CAS),
 *   then an in-order commit that waits for earlier reservations of the same
 *   side to finish (it spins, then yields the CPU); a thread preempted
 *   mid-operation delays the others on its side (see ring_seq.h for the
 *   mode that avoids this).  A push that meets a close in progress waits
 *   for the closer to finish (a membarrier and a few stores): blocking,
 *   once.  _wait functions block.
 *
 * Example
 *     static AK_ALIGNAS(8) uint64_t slots[1024]; // memsize(1000, 8) bytes
 *     static ak_ring r;                 // 128-aligned by its type
 *     ak_ring_init(&r, slots, sizeof slots, 1000, sizeof(uint64_t), 0);
 *     uint64_t v = 42, out;
 *     ak_ring_push_spsc(&r, &v);        // producer thread
 *     ak_ring_pop_spsc(&r, &out);       // consumer thread
 */
#ifndef ATOMKIT_RING_H
#define ATOMKIT_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "internal/compiler.h"
#include "internal/fence.h"
#include "internal/relax.h"
#include "internal/ring_wait.h"
#include "clock.h"
#include "status.h"

AK_BEGIN_DECLS

/* Cancel tokens are defined in atomkit/cancel.h; the ring only takes a pointer. */
typedef struct ak_cancel ak_cancel;

/* ===================================================================== */
/* Types                                                                  */
/* ===================================================================== */

/* Flags for ak_ring_init(). */
#define AK_RING_SHARED 0x1u /* ring lives in memory shared between processes */

/* Largest capacity (elements) accepted by init. */
#define AK_RING_MAX_CAPACITY (UINT64_C(1) << 62)

/*
 * A zero-copy view: up to two contiguous runs of elements (the second one
 * starts at the beginning of the storage after a wrap).  Filled by
 * reserve/peek, passed back unchanged to commit/release.
 */
typedef struct ak_ring_zc {
	void *seg[2];     /* first element of each run */
	uint64_t len[2];  /* elements in each run; len[1] == 0 without a wrap */
	uint64_t n;       /* len[0] + len[1] */
	uint64_t pos;     /* ring position of the first element (for commit) */
} ak_ring_zc;

/* Read-only after init. */
struct _ak_ring_cfg {
	uint64_t capacity;  /* usable elements */
	uint64_t mask;      /* storage slots - 1 (slots are a power of two) */
	uint64_t elem_size; /* bytes per element */
	int64_t data_off;   /* storage address minus control block address */
	uint32_t flags;     /* AK_RING_SHARED */
	uint32_t fenced;    /* 1: notifiers fence (shared ring or no membarrier) */
	uint32_t magic;
	uint32_t pad_;
};

/*
 * One side (producer or consumer), in two destructive units.  The indices
 * are written only by that side.
 *
 * The first unit is the side's own: `head`, `cache` and `gate` are read on
 * every operation, and written by the side (head, cache) or, on slow paths
 * only, by sleepers and the closer (gate), so the unit stays in the side's
 * cache in the steady state.  `tail` has the second unit to itself: it is
 * the one word the other side polls, so the only line that moves between
 * the cores for an index is the one holding the index that changed, once
 * per publish (a head store on the polled line would move it twice).
 *
 * `gate` is the one word the side reads after each index store to learn
 * whether anything besides the store is needed: 0 on the fast path;
 * otherwise _AK_RING_GATE_* bits (fenced ring, close begun) plus
 * _AK_RING_GATE_WAITER per thread of the other side registered to sleep.
 */
struct _ak_ring_side {
	_Atomic(uint64_t) head;  /* reserved up to here */
	_Atomic(uint64_t) cache; /* last view of the other side: prod: cons.tail +
				  * capacity (end of the free space); cons: prod.tail */
	_Atomic(uint32_t) gate;  /* fenced | closed (producer side) | waiters */
	uint32_t pad_;
	AK_CACHE_ALIGNED _Atomic(uint64_t) tail; /* published up to here (the
						  * other side reads it) */
};

/* Gate bits, close states and struct _ak_ring_wait: internal/ring_wait.h. */

typedef struct ak_ring {
	AK_CACHE_ALIGNED struct _ak_ring_cfg cfg;
	AK_CACHE_ALIGNED struct _ak_ring_side prod;
	AK_CACHE_ALIGNED struct _ak_ring_side cons;
	AK_CACHE_ALIGNED struct _ak_ring_wait wait;
} ak_ring;

AK_ASSERT_PADDED(ak_ring);
AK_STATIC_ASSERT(sizeof(struct _ak_ring_side) == 2 * AK_DESTRUCTIVE_SIZE,
		 "a ring side is two destructive units: its own, and its tail's");
AK_STATIC_ASSERT(offsetof(struct _ak_ring_side, tail) == AK_DESTRUCTIVE_SIZE,
		 "the polled tail does not share a unit with head, cache or gate");

/* Bumped with the control block layout / wake protocol, so that on a shared
 * ring made by an older build the _wait forms and close return AK_EINVAL
 * instead of driving a different waiter accounting ("Rng3": the accounting
 * of git d9679f3). */
#define _AK_RING_MAGIC 0x526e6733u /* "Rng3" */

/* ===================================================================== */
/* Setup and queries (src/ring.c)                                         */
/* ===================================================================== */

/*
 * Bytes of slot storage for `capacity` elements of `elem_size` bytes
 * (capacity rounded up to a power of two, times elem_size).  Returns 0 when
 * the arguments are invalid (capacity or elem_size 0, capacity above
 * AK_RING_MAX_CAPACITY, or a size that overflows size_t).
 */
size_t ak_ring_memsize(uint64_t capacity, size_t elem_size);

/*
 * Initialise `r` over caller storage.  Not thread-safe: call before the ring
 * is shared.  Returns AK_OK; AK_EINVAL for NULL r/storage, r not aligned to
 * _Alignof(ak_ring) (checked before r is touched), storage not 8-byte
 * aligned, capacity or elem_size 0, unknown flags, storage_size below
 * ak_ring_memsize(), or the storage's first ak_ring_memsize() bytes
 * overlapping *r; AK_E2BIG for a capacity above AK_RING_MAX_CAPACITY or a
 * size that does not fit in memory.
 * With AK_RING_SHARED, `r` and `storage` must lie in the same mapping (the
 * offset between them is stored) and waits use process-shared futexes.
 */
ak_status ak_ring_init(ak_ring *r, void *storage, size_t storage_size, uint64_t capacity,
		       size_t elem_size, unsigned flags);

/* Test hook: like ak_ring_init() but every index starts at `start`
 * (to test wrap-around near 2^64).  Not for production use. */
ak_status _ak_ring_init_at(ak_ring *r, void *storage, size_t storage_size, uint64_t capacity,
			   size_t elem_size, unsigned flags, uint64_t start);

/*
 * Close: producers then get AK_ECLOSED, consumers drain what was pushed and
 * then get AK_ECLOSED; every waiter wakes.  Any thread may call it, any
 * number of times.  Returns AK_OK the first time, AK_ECLOSED when already
 * closed, AK_EINVAL for NULL.  It may wait briefly for a concurrent close.
 */
ak_status ak_ring_close(ak_ring *r);

/*
 * How long a _wait may poll past its fixed spin (1024 polls, ~40 us here)
 * before it registers to sleep: at most `max_ns` at a stretch, and all the
 * waits of one direction (for data, for space) together at most 1/16 of
 * the time (a meter per ring and direction; docs/ring.md, "Waiting").
 * Polling rides out a partner that is briefly off its CPU, which on a VM
 * happens many times a second, without a system call on either side.
 * 0: no polling past the fixed spin.  Default AK_RING_WAIT_SPIN_DEFAULT
 * (4 ms); at most AK_RING_WAIT_SPIN_LIMIT (1 s), else AK_EINVAL (also for
 * NULL, or a shared ring made by an older layout).  Any thread, any time;
 * waits under way keep the value they started with.
 */
ak_status ak_ring_set_wait_spin(ak_ring *r, uint64_t max_ns);

/* System calls (futex wait/wake, membarrier) the ring has made so far:
 * 0 as long as nobody had to sleep.  For tests and benchmarks. */
uint64_t ak_ring_syscalls(const ak_ring *r);

/* The same, by cause (for tests and benchmarks).  `waits`: made by a _wait
 * call that found the ring empty (full) after its spin, i.e. that had to
 * wait: the membarrier of its registration and its futex waits.  `wakes`:
 * futex wakes that woke a sleeper.  `spare`: futex wakes that found nobody
 * asleep (a waiter registered, then found what it wanted, or had not yet
 * entered the kernel).  `total` is ak_ring_syscalls(); total - waits -
 * wakes - spare is close's barrier.  `polled` is no system call: the waits
 * that found the ring empty (full) after the fixed spin and saw it move
 * while polling (ak_ring_set_wait_spin()).  AK_EINVAL for NULL arguments. */
/* (ak_ring_syscall_split is defined in internal/ring_wait.h: ak_ring_slot
 * reports with it too.) */
ak_status ak_ring_syscalls_split(const ak_ring *r, ak_ring_syscall_split *out);

/* Out-of-line slow paths used by the inline functions below. */
ak_status _ak_ring_prod_closed(ak_ring *r, uint64_t pos, uint64_t n, int mp);
void _ak_ring_prod_refuse(ak_ring *r);
void _ak_ring_notify(ak_ring *r, _Atomic(uint32_t) *seq);
void _ak_ring_commit_wait(_Atomic(uint64_t) *tail, uint64_t pos);
ak_status _ak_ring_wait_for(ak_ring *r, int for_data, uint64_t n, int multi,
			    uint64_t deadline_ns, ak_cancel *cancel);

AK_INLINE uint64_t ak_ring_capacity(const ak_ring *r)
{
	return r ? r->cfg.capacity : 0;
}

AK_INLINE size_t ak_ring_elem_size(const ak_ring *r)
{
	return r ? (size_t)r->cfg.elem_size : 0;
}

/* Elements in the ring: 0 <= size <= capacity; exact when quiescent. */
AK_INLINE uint64_t ak_ring_size(const ak_ring *r)
{
	if (!r)
		return 0;
	/* Consumer tail first: it never passes the producer tail, so reading
	 * them in this order can only overestimate; the clamps catch a
	 * stale pair.  Acquire pairs with the releases in the commit paths,
	 * only to keep the two loads in this order. */
	uint64_t c = atomic_load_explicit(&((ak_ring *)r)->cons.tail, memory_order_acquire);
	uint64_t p = atomic_load_explicit(&((ak_ring *)r)->prod.tail, memory_order_acquire);
	uint64_t d = p - c;
	if ((int64_t)d < 0)
		return 0;
	return d > r->cfg.capacity ? r->cfg.capacity : d;
}

AK_INLINE bool ak_ring_empty(const ak_ring *r)
{
	return ak_ring_size(r) == 0;
}

AK_INLINE bool ak_ring_full(const ak_ring *r)
{
	return r && ak_ring_size(r) == r->cfg.capacity;
}

/* True once ak_ring_close() has started. */
AK_INLINE bool ak_ring_is_closed(const ak_ring *r)
{
	/* Acquire pairs with the seq_cst RMW in ak_ring_close(). */
	return r && atomic_load_explicit(&((ak_ring *)r)->wait.closed, memory_order_acquire) !=
			    _AK_RING_OPEN;
}

/* ===================================================================== */
/* Core (internal)                                                        */
/* ===================================================================== */

AK_INLINE char *_ak_ring_data(ak_ring *r)
{
	return (char *)(uintptr_t)((uintptr_t)r + (uintptr_t)r->cfg.data_off);
}

AK_INLINE void *_ak_ring_slot(ak_ring *r, uint64_t pos, size_t esz)
{
	return _ak_ring_data(r) + (size_t)(pos & r->cfg.mask) * esz;
}

/*
 * Producer: reserve up to n slots (exactly n unless `burst`).  On AK_OK,
 * *pos is the first position and *got the count (>= 1), and *gate the gate
 * as read right after the reservation (>= _AK_RING_GATE_WAITER: consumers
 * were registered to sleep, so the publish must wake them; see
 * _ak_ring_publish()).
 */
AK_INLINE ak_status _ak_ring_prod_begin_g(ak_ring *r, uint64_t n, int mp, int burst,
					 uint64_t *pos, uint64_t *got, uint32_t *gate)
{
	uint32_t g;
	uint64_t h, c, used, room, k;

	/* MP: a close already seen needs no reservation (a late CAS would
	 * only move head past close_pos for nothing).  Relaxed: the
	 * authoritative check is after the reservation; the refusal waits
	 * for close to seal.  SP can undo its reservation, so it skips this
	 * load. */
	if (mp && AK_UNLIKELY(atomic_load_explicit(&r->wait.closed, memory_order_relaxed))) {
		_ak_ring_prod_refuse(r);
		return AK_ECLOSED;
	}
	h = atomic_load_explicit(&r->prod.head, memory_order_relaxed);
	for (;;) {
		/* The cache holds cons.tail + cap as last seen: the end of the
		 * free space, so the fast path needs no capacity arithmetic.
		 * Acquire pairs with the release store of the cache below (by
		 * this or another producer), which carries the consumer's
		 * release of cons.tail on to us: slots below it are free. */
		room = atomic_load_explicit(&r->prod.cache, memory_order_acquire) - h;
		k = n;
		/* Fast path: the cache says there is room for all n.  SP: h is
		 * ours and never passes the cache, so room <= cap holds; MP: a
		 * stale h can make room wrap, so check it. */
		if (AK_UNLIKELY((mp && room > r->cfg.capacity) || room < n)) {
			/* Read here, not above: the fast path has no use for it. */
			const uint64_t cap = r->cfg.capacity;
			/* Acquire pairs with the release of cons.tail in
			 * _ak_ring_cons_end(): the consumer is done with the
			 * slots we are about to overwrite. */
			c = atomic_load_explicit(&r->cons.tail, memory_order_acquire);
			/* Release: passes that ordering on to producers that
			 * read the cache (pairs with the acquire above). */
			atomic_store_explicit(&r->prod.cache, c + cap, memory_order_release);
			used = h - c;
			/* used > cap: a stale h (MP) or a cache older than a
			 * full ring of progress; never trust it as room. */
			room = used > cap ? 0 : cap - used;
			if (room < n) {
				if (!burst || room == 0) {
					if (mp) {
						uint64_t h2 = atomic_load_explicit(
							&r->prod.head, memory_order_relaxed);
						if (h2 != h) {
							h = h2;
							continue;
						}
					}
					/* Relaxed: a hint; the refusal waits for
					 * close to freeze close_pos, so no
					 * later push of ours is counted. */
					if (atomic_load_explicit(&r->wait.closed,
								 memory_order_relaxed)) {
						_ak_ring_prod_refuse(r);
						return AK_ECLOSED;
					}
					return AK_EFULL;
				}
				k = room;
			}
		}
		if (!mp) {
			atomic_store_explicit(&r->prod.head, h + k, memory_order_relaxed);
			break;
		}
		/* seq_cst: the reservation is the store half of the close
		 * handshake (pairs with the seq_cst load of prod.head in
		 * ak_ring_close()); on failure h is reloaded. */
		if (atomic_compare_exchange_weak_explicit(&r->prod.head, &h, h + k,
							  memory_order_seq_cst,
							  memory_order_relaxed))
			break;
	}
	/* The reservation store, then a load of the gate: Dekker against the
	 * closer and against sleeping consumers, who both update the gate
	 * with a seq_cst RMW and then read prod.head.  Either they see our
	 * reservation, or we see their bit: CLOSED (the closer then counts
	 * us in close_pos, or we fail), WAITER (we wake them once we have
	 * published; a sleeper that sees the reservation but not yet its
	 * publication polls instead of sleeping, see ring_ready() in src/ring.c).
	 * MP: seq_cst load after the seq_cst CAS (pairs with the seq_cst
	 * RMWs of the gate in _ak_ring_close_gated() and _ak_ring_sleep(), src/ring_wait.c);
	 * SP: see _ak_ring_gate(). */
	g = mp ? atomic_load_explicit(&r->prod.gate, memory_order_seq_cst)
	       : _ak_ring_gate(&r->prod.head, &r->prod.gate);
	if (AK_UNLIKELY(g & _AK_RING_GATE_CLOSED)) {
		ak_status st = _ak_ring_prod_closed(r, h, k, mp);
		if (st != AK_OK)
			return st;
	}
	*pos = h;
	*got = k;
	*gate = g;
	return AK_OK;
}

/* The same, for callers that publish with _ak_ring_prod_end() (which reads
 * the gate again after the publish): zero-copy reserve, ring_var. */
AK_INLINE ak_status _ak_ring_prod_begin(ak_ring *r, uint64_t n, int mp, int burst, uint64_t *pos,
				       uint64_t *got)
{
	uint32_t g;
	return _ak_ring_prod_begin_g(r, n, mp, burst, pos, got, &g);
}

/* Producer: make [pos, pos + n) visible after the elements were written. */
AK_INLINE void _ak_ring_publish(ak_ring *r, uint64_t pos, uint64_t n, int mp)
{
	if (mp && AK_UNLIKELY(atomic_load_explicit(&r->prod.tail, memory_order_acquire) != pos))
		/* Earlier reservations publish first (acquire inside pairs
		 * with their release below, so ours carries theirs on). */
		_ak_ring_commit_wait(&r->prod.tail, pos);
	/* Release pairs with the acquire loads of prod.tail in
	 * _ak_ring_cons_begin(): the elements are written before they are
	 * visible. */
	atomic_store_explicit(&r->prod.tail, pos + n, memory_order_release);
}

/*
 * Producer, copying push: publish, and wake sleeping consumers if the gate
 * read after the reservation (`gate`, from _ak_ring_prod_begin_g()) showed
 * any.  No second gate read: a consumer that registered after that read
 * saw our reservation (Dekker, see _ak_ring_prod_begin_g()) and polls
 * until the publish below instead of sleeping.
 */
AK_INLINE void _ak_ring_prod_end_g(ak_ring *r, uint64_t pos, uint64_t n, int mp, uint32_t gate)
{
	_ak_ring_publish(r, pos, n, mp);
	if (AK_UNLIKELY(gate >= _AK_RING_GATE_WAITER))
		_ak_ring_notify(r, &r->wait.data_seq);
}

/*
 * Producer, commit of a reservation made in an earlier call (zero-copy,
 * ring_var): publish, then read the gate again, so a consumer that went to
 * sleep while the reservation was open is woken by the commit.
 */
AK_INLINE void _ak_ring_prod_end(ak_ring *r, uint64_t pos, uint64_t n, int mp)
{
	_ak_ring_publish(r, pos, n, mp);
	/* Sleeping consumers?  (Dekker with their registration on prod.gate
	 * in _ak_ring_sleep(): they re-read prod.tail after it.) */
	if (AK_UNLIKELY(_ak_ring_gate(&r->prod.tail, &r->prod.gate) >= _AK_RING_GATE_WAITER))
		_ak_ring_notify(r, &r->wait.data_seq);
}

/*
 * Consumer: claim up to n elements (exactly n unless `burst`).  Returns
 * AK_EEMPTY, or AK_ECLOSED once the ring is closed and drained.
 */
AK_INLINE ak_status _ak_ring_cons_begin(ak_ring *r, uint64_t n, int mc, int burst, uint64_t *pos,
				       uint64_t *got)
{
	uint64_t h, p, avail, k;

	h = atomic_load_explicit(&r->cons.head, memory_order_relaxed);
	for (;;) {
		/* Acquire pairs with the release store of the cache below. */
		p = atomic_load_explicit(&r->cons.cache, memory_order_acquire);
		avail = p - h;
		k = n;
		/* Fast path: the cache shows n elements.  SC: h never passes
		 * the cache, so avail <= cap holds; MC: a stale h can wrap. */
		if (AK_UNLIKELY(avail < n || (mc && avail > r->cfg.capacity))) {
			/* Acquire pairs with the release of prod.tail in
			 * _ak_ring_prod_end(): the elements are written. */
			p = atomic_load_explicit(&r->prod.tail, memory_order_acquire);
			/* Release: pass it on (pairs with the acquire above). */
			atomic_store_explicit(&r->cons.cache, p, memory_order_release);
			avail = p - h;
			if (avail > r->cfg.capacity) /* h is stale (MC) */
				avail = 0;
			if (avail < n) {
				if (!burst || avail == 0) {
					if (mc) {
						uint64_t h2 = atomic_load_explicit(
							&r->cons.head, memory_order_relaxed);
						if (h2 != h) {
							h = h2;
							continue;
						}
					}
					/* Acquire pairs with the release store of
					 * `closed` = sealed in ak_ring_close():
					 * then close_pos is final. */
					if (atomic_load_explicit(&r->wait.closed,
								 memory_order_acquire) ==
						    _AK_RING_SEALED &&
					    atomic_load_explicit(&r->wait.close_pos,
								 memory_order_relaxed) -
							    h < (burst ? 1 : n))
						return AK_ECLOSED;
					return AK_EEMPTY;
				}
				k = avail;
			}
		}
		if (!mc) {
			atomic_store_explicit(&r->cons.head, h + k, memory_order_relaxed);
			break;
		}
		/* Relaxed CAS: the elements were acquired through prod.tail;
		 * the CAS only divides them among consumers. */
		if (atomic_compare_exchange_weak_explicit(&r->cons.head, &h, h + k,
							  memory_order_relaxed,
							  memory_order_relaxed))
			break;
	}
	*pos = h;
	*got = k;
	return AK_OK;
}

/* Consumer: hand [pos, pos + n) back to the producers after reading. */
AK_INLINE void _ak_ring_cons_end(ak_ring *r, uint64_t pos, uint64_t n, int mc)
{
	if (mc && AK_UNLIKELY(atomic_load_explicit(&r->cons.tail, memory_order_acquire) != pos))
		/* Earlier claims release first (acquire inside pairs with
		 * their release below). */
		_ak_ring_commit_wait(&r->cons.tail, pos);
	/* Release pairs with the acquire of cons.tail in _ak_ring_prod_begin():
	 * our reads of the slots finish before producers overwrite them. */
	atomic_store_explicit(&r->cons.tail, pos + n, memory_order_release);
	/* Sleeping producers?  (Dekker with their registration on cons.gate
	 * in _ak_ring_sleep().) */
	if (AK_UNLIKELY(_ak_ring_gate(&r->cons.tail, &r->cons.gate)))
		_ak_ring_notify(r, &r->wait.space_seq);
}

AK_INLINE void _ak_ring_copy_in(ak_ring *r, uint64_t pos, const void *src, uint64_t n, size_t esz)
{
	char *base = _ak_ring_data(r);
	uint64_t idx = pos & r->cfg.mask, first = r->cfg.mask + 1 - idx;
	if (n == 1) {
		memcpy(base + (size_t)idx * esz, src, esz);
		return;
	}
	if (first > n)
		first = n;
	memcpy(base + (size_t)idx * esz, src, (size_t)first * esz);
	if (n > first)
		memcpy(base, (const char *)src + (size_t)first * esz, (size_t)(n - first) * esz);
}

AK_INLINE void _ak_ring_copy_out(ak_ring *r, uint64_t pos, void *dst, uint64_t n, size_t esz)
{
	const char *base = _ak_ring_data(r);
	uint64_t idx = pos & r->cfg.mask, first = r->cfg.mask + 1 - idx;
	if (n == 1) {
		memcpy(dst, base + (size_t)idx * esz, esz);
		return;
	}
	if (first > n)
		first = n;
	memcpy(dst, base + (size_t)idx * esz, (size_t)first * esz);
	if (n > first)
		memcpy((char *)dst + (size_t)first * esz, base, (size_t)(n - first) * esz);
}

AK_INLINE void _ak_ring_fill_zc(ak_ring *r, uint64_t pos, uint64_t n, size_t esz, ak_ring_zc *zc)
{
	uint64_t idx = pos & r->cfg.mask, first = r->cfg.mask + 1 - idx;
	if (first > n)
		first = n;
	zc->seg[0] = _ak_ring_data(r) + (size_t)idx * esz;
	zc->len[0] = first;
	zc->seg[1] = n > first ? (void *)_ak_ring_data(r) : NULL;
	zc->len[1] = n - first;
	zc->n = n;
	zc->pos = pos;
}

/* Generic operations; `esz` is a constant when the caller is typed. */
AK_INLINE ak_status _ak_ring_push_n(ak_ring *r, const void *src, uint64_t n, int mp, int burst,
				   uint64_t *count, size_t esz)
{
	uint64_t pos, got = 0;
	ak_status st;

	if (AK_UNLIKELY(!r || !src)) {
		st = AK_EINVAL;
	} else if (AK_UNLIKELY(n == 0)) {
		st = AK_OK;
	} else if (AK_UNLIKELY(!burst && n > 1 && n > r->cfg.capacity)) {
		st = AK_E2BIG;
	} else {
		uint32_t g;
		st = _ak_ring_prod_begin_g(r, n, mp, burst, &pos, &got, &g);
		if (AK_LIKELY(st == AK_OK)) {
			_ak_ring_copy_in(r, pos, src, got, esz);
			_ak_ring_prod_end_g(r, pos, got, mp, g);
		}
	}
	if (count)
		*count = got;
	return st;
}

AK_INLINE ak_status _ak_ring_pop_n(ak_ring *r, void *dst, uint64_t n, int mc, int burst,
				  uint64_t *count, size_t esz)
{
	uint64_t pos, got = 0;
	ak_status st;

	if (AK_UNLIKELY(!r || !dst)) {
		st = AK_EINVAL;
	} else if (AK_UNLIKELY(n == 0)) {
		st = AK_OK;
	} else if (AK_UNLIKELY(!burst && n > 1 && n > r->cfg.capacity)) {
		st = AK_E2BIG;
	} else {
		st = _ak_ring_cons_begin(r, n, mc, burst, &pos, &got);
		if (AK_LIKELY(st == AK_OK)) {
			_ak_ring_copy_out(r, pos, dst, got, esz);
			_ak_ring_cons_end(r, pos, got, mc);
		}
	}
	if (count)
		*count = got;
	return st;
}

/* Validate a zero-copy request and clear the view (reserve and peek). */
AK_INLINE ak_status _ak_ring_zc_open(const ak_ring *r, uint64_t n, ak_ring_zc *zc)
{
	if (AK_UNLIKELY(!r || !zc))
		return AK_EINVAL;
	zc->n = zc->len[0] = zc->len[1] = zc->pos = 0;
	zc->seg[0] = zc->seg[1] = NULL;
	return AK_UNLIKELY(n == 0) ? AK_EINVAL : AK_OK;
}

/*
 * Is `zc` a view this side may finish (commit or release)?  A pending
 * view lies in [tail, head); a single producer/consumer must finish
 * exactly at its tail.
 */
AK_INLINE int _ak_ring_zc_pending(const ak_ring *r, struct _ak_ring_side *side,
				  const ak_ring_zc *zc, int multi)
{
	uint64_t head = atomic_load_explicit(&side->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&side->tail, memory_order_relaxed);
	/* The view's own fields must agree (reserve/peek fill len[] from pos
	 * and n): a count changed alone would release fewer slots than were
	 * claimed, and the rest would be skipped (SC) or block every later
	 * commit (MP/MC). */
	uint64_t run = r->cfg.mask + 1 - (zc->pos & r->cfg.mask);
	if (zc->len[0] != (zc->n < run ? zc->n : run) || zc->len[1] != zc->n - zc->len[0])
		return 0;
	return !(zc->n == 0 || zc->n > r->cfg.capacity || zc->pos - tail >= head - tail ||
		 head - zc->pos < zc->n || (!multi && tail != zc->pos));
}

AK_INLINE ak_status _ak_ring_reserve(ak_ring *r, uint64_t n, int mp, ak_ring_zc *zc, size_t esz)
{
	uint64_t pos, got;
	ak_status st = _ak_ring_zc_open(r, n, zc);

	if (st != AK_OK)
		return st;
	st = _ak_ring_prod_begin(r, n, mp, 1, &pos, &got);
	if (st == AK_OK)
		_ak_ring_fill_zc(r, pos, got, esz, zc);
	return st;
}

AK_INLINE ak_status _ak_ring_commit(ak_ring *r, const ak_ring_zc *zc, int mp)
{
	if (AK_UNLIKELY(!r || !zc))
		return AK_EINVAL;
	if (AK_UNLIKELY(!_ak_ring_zc_pending(r, &r->prod, zc, mp)))
		return AK_ESTATE;
	_ak_ring_prod_end(r, zc->pos, zc->n, mp);
	return AK_OK;
}

AK_INLINE ak_status _ak_ring_peek(ak_ring *r, uint64_t n, int mc, ak_ring_zc *zc, size_t esz)
{
	uint64_t pos, got;
	ak_status st = _ak_ring_zc_open(r, n, zc);

	if (st != AK_OK)
		return st;
	st = _ak_ring_cons_begin(r, n, mc, 1, &pos, &got);
	if (st == AK_OK)
		_ak_ring_fill_zc(r, pos, got, esz, zc);
	return st;
}

AK_INLINE ak_status _ak_ring_release(ak_ring *r, const ak_ring_zc *zc, int mc)
{
	if (AK_UNLIKELY(!r || !zc))
		return AK_EINVAL;
	if (AK_UNLIKELY(!_ak_ring_zc_pending(r, &r->cons, zc, mc)))
		return AK_ESTATE;
	_ak_ring_cons_end(r, zc->pos, zc->n, mc);
	return AK_OK;
}

/* Blocking: try, and when the ring says full/empty, sleep and retry. */
AK_INLINE ak_status _ak_ring_push_wait_n(ak_ring *r, const void *src, uint64_t n, int mp,
					uint64_t deadline_ns, ak_cancel *cancel, size_t esz)
{
	for (;;) {
		ak_status st = _ak_ring_push_n(r, src, n, mp, 0, NULL, esz);
		if (st != AK_EFULL)
			return st;
		st = _ak_ring_wait_for(r, 0, n, mp, deadline_ns, cancel);
		if (st != AK_OK)
			return st;
	}
}

AK_INLINE ak_status _ak_ring_pop_wait_n(ak_ring *r, void *dst, uint64_t n, int mc,
				       uint64_t deadline_ns, ak_cancel *cancel, size_t esz)
{
	for (;;) {
		ak_status st = _ak_ring_pop_n(r, dst, n, mc, 0, NULL, esz);
		if (st != AK_EEMPTY)
			return st;
		st = _ak_ring_wait_for(r, 1, n, mc, deadline_ns, cancel);
		if (st != AK_OK)
			return st;
	}
}

/* ===================================================================== */
/* Public operations, one set per mode                                    */
/* ===================================================================== */

/*
 * For each mode <m> in spsc, mpsc, spmc, mpmc (the producer functions use
 * the first letter pair, the consumer functions the second):
 *
 *   ak_ring_push_<m>(r, elem)             copy one element in.  AK_OK,
 *                                         AK_EFULL, AK_ECLOSED, AK_EINVAL.
 *   ak_ring_pop_<m>(r, out)               copy one element out.  AK_OK,
 *                                         AK_EEMPTY, AK_ECLOSED (closed and
 *                                         drained), AK_EINVAL.
 *   ak_ring_push_bulk_<m>(r, src, n)      all n or none: AK_OK, AK_EFULL,
 *   ak_ring_pop_bulk_<m>(r, dst, n)       AK_EEMPTY, AK_E2BIG (n > capacity),
 *                                         AK_ECLOSED, AK_EINVAL.  n == 0: AK_OK.
 *   ak_ring_push_burst_<m>(r, src, n, &k) up to n; *k (may be NULL) gets the
 *   ak_ring_pop_burst_<m>(r, dst, n, &k)  count.  AK_OK iff k > 0 (or n == 0),
 *                                         else AK_EFULL/AK_EEMPTY/AK_ECLOSED.
 *   ak_ring_reserve_<m>(r, n, &zc)        zero-copy: up to n slots to write,
 *   ak_ring_commit_<m>(r, &zc)            then publish them all.  One
 *                                         reservation per producer thread at
 *                                         a time, and no other push by that
 *                                         thread until it is committed; in
 *                                         MP modes every reservation must be
 *                                         committed (later ones wait for it).
 *                                         Same rules for peek/release.
 *   ak_ring_peek_<m>(r, n, &zc)           zero-copy: up to n elements to
 *   ak_ring_release_<m>(r, &zc)           read, then hand the slots back.
 *                                         reserve/peek: AK_EINVAL for n == 0;
 *                                         commit/release: AK_ESTATE if zc
 *                                         does not match the reservation.
 *   ak_ring_push_wait_<m>(r, elem, deadline, cancel)
 *   ak_ring_pop_wait_<m>(r, out, deadline, cancel)
 *   ak_ring_push_bulk_wait_<m>(r, src, n, deadline, cancel)
 *   ak_ring_pop_bulk_wait_<m>(r, dst, n, deadline, cancel)
 *                                         block until done: AK_OK,
 *                                         AK_ETIMEDOUT (absolute deadline,
 *                                         AK_DEADLINE_NONE = never),
 *                                         AK_ECANCELED (cancel, may be NULL),
 *                                         AK_ECLOSED (for pop_bulk_wait: fewer
 *                                         than n left after close; pop_burst
 *                                         takes the rest), AK_E2BIG, AK_EINVAL.
 */
#define _AK_RING_MODE(m, MP, MC)                                                              \
	AK_INLINE ak_status ak_ring_push_##m(ak_ring *r, const void *elem)                      \
	{                                                                                     \
		return _ak_ring_push_n(r, elem, 1, MP, 0, NULL,                               \
				       r ? (size_t)r->cfg.elem_size : 0);                     \
	}                                                                                     \
	AK_INLINE ak_status ak_ring_pop_##m(ak_ring *r, void *out)                              \
	{                                                                                     \
		return _ak_ring_pop_n(r, out, 1, MC, 0, NULL, r ? (size_t)r->cfg.elem_size : 0); \
	}                                                                                     \
	AK_INLINE ak_status ak_ring_push_bulk_##m(ak_ring *r, const void *src, uint64_t n)      \
	{                                                                                     \
		return _ak_ring_push_n(r, src, n, MP, 0, NULL,                                \
				       r ? (size_t)r->cfg.elem_size : 0);                     \
	}                                                                                     \
	AK_INLINE ak_status ak_ring_pop_bulk_##m(ak_ring *r, void *dst, uint64_t n)             \
	{                                                                                     \
		return _ak_ring_pop_n(r, dst, n, MC, 0, NULL, r ? (size_t)r->cfg.elem_size : 0); \
	}                                                                                     \
	AK_INLINE ak_status ak_ring_push_burst_##m(ak_ring *r, const void *src, uint64_t n,     \
						   uint64_t *count)                           \
	{                                                                                     \
		return _ak_ring_push_n(r, src, n, MP, 1, count,                               \
				       r ? (size_t)r->cfg.elem_size : 0);                     \
	}                                                                                     \
	AK_INLINE ak_status ak_ring_pop_burst_##m(ak_ring *r, void *dst, uint64_t n,            \
						  uint64_t *count)                            \
	{                                                                                     \
		return _ak_ring_pop_n(r, dst, n, MC, 1, count,                                \
				      r ? (size_t)r->cfg.elem_size : 0);                      \
	}                                                                                     \
	AK_INLINE ak_status ak_ring_reserve_##m(ak_ring *r, uint64_t n, ak_ring_zc *zc)         \
	{                                                                                     \
		return _ak_ring_reserve(r, n, MP, zc, r ? (size_t)r->cfg.elem_size : 0);       \
	}                                                                                     \
	AK_INLINE ak_status ak_ring_commit_##m(ak_ring *r, const ak_ring_zc *zc)                \
	{                                                                                     \
		return _ak_ring_commit(r, zc, MP);                                            \
	}                                                                                     \
	AK_INLINE ak_status ak_ring_peek_##m(ak_ring *r, uint64_t n, ak_ring_zc *zc)            \
	{                                                                                     \
		return _ak_ring_peek(r, n, MC, zc, r ? (size_t)r->cfg.elem_size : 0);          \
	}                                                                                     \
	AK_INLINE ak_status ak_ring_release_##m(ak_ring *r, const ak_ring_zc *zc)               \
	{                                                                                     \
		return _ak_ring_release(r, zc, MC);                                           \
	}                                                                                     \
	AK_INLINE ak_status ak_ring_push_wait_##m(ak_ring *r, const void *elem,                 \
						  uint64_t deadline_ns, ak_cancel *cancel)    \
	{                                                                                     \
		return _ak_ring_push_wait_n(r, elem, 1, MP, deadline_ns, cancel,              \
					    r ? (size_t)r->cfg.elem_size : 0);                \
	}                                                                                     \
	AK_INLINE ak_status ak_ring_pop_wait_##m(ak_ring *r, void *out, uint64_t deadline_ns,  \
						 ak_cancel *cancel)                           \
	{                                                                                     \
		return _ak_ring_pop_wait_n(r, out, 1, MC, deadline_ns, cancel,                \
					   r ? (size_t)r->cfg.elem_size : 0);                 \
	}                                                                                     \
	AK_INLINE ak_status ak_ring_push_bulk_wait_##m(ak_ring *r, const void *src, uint64_t n, \
						       uint64_t deadline_ns,                  \
						       ak_cancel *cancel)                     \
	{                                                                                     \
		return _ak_ring_push_wait_n(r, src, n, MP, deadline_ns, cancel,               \
					    r ? (size_t)r->cfg.elem_size : 0);                \
	}                                                                                     \
	AK_INLINE ak_status ak_ring_pop_bulk_wait_##m(ak_ring *r, void *dst, uint64_t n,        \
						      uint64_t deadline_ns, ak_cancel *cancel) \
	{                                                                                     \
		return _ak_ring_pop_wait_n(r, dst, n, MC, deadline_ns, cancel,                \
					   r ? (size_t)r->cfg.elem_size : 0);                 \
	}

_AK_RING_MODE(spsc, 0, 0)
_AK_RING_MODE(mpsc, 1, 0)
_AK_RING_MODE(spmc, 0, 1)
_AK_RING_MODE(mpmc, 1, 1)
#undef _AK_RING_MODE

/* ===================================================================== */
/* Typed front end                                                        */
/* ===================================================================== */

/*
 * AK_RING_DEFINE(name, T) defines `name` (a struct holding an ak_ring whose
 * element is T) and, for each mode <m>:
 *   name_memsize(cap)  name_init(q, T *storage, bytes, cap, flags)
 *   name_close(q)  name_size(q)  name_capacity(q)  name_ring(q) -> ak_ring *
 *   name_push_<m>(q, T v)  name_pop_<m>(q, T *out)
 *   name_push_bulk_<m>(q, const T *src, n)  name_pop_bulk_<m>(q, T *dst, n)
 *   name_push_burst_<m>(q, src, n, &k)  name_pop_burst_<m>(q, dst, n, &k)
 *   name_push_wait_<m>(q, T v, deadline, cancel)  name_pop_wait_<m>(q, out, ...)
 * The element size is a compile-time constant, so each copy is a move.
 * Use at file scope.
 */
#define _AK_RING_DEFINE_MODE(name, T, m, MP, MC)                                              \
	AK_UNUSED AK_INLINE ak_status name##_push_##m(name *q, T v)                        \
	{                                                                                     \
		uint64_t pos_, got_;                                                          \
		uint32_t g_;                                                                  \
		ak_status st_;                                                                \
		if (AK_UNLIKELY(!q))                                                          \
			return AK_EINVAL;                                                     \
		st_ = _ak_ring_prod_begin_g(&q->ring, 1, MP, 0, &pos_, &got_, &g_);           \
		if (AK_LIKELY(st_ == AK_OK)) {                                                \
			/* a typed store, not a copy through &v */                            \
			*(T *)_ak_ring_slot(&q->ring, pos_, sizeof(T)) = v;                   \
			_ak_ring_prod_end_g(&q->ring, pos_, 1, MP, g_);                       \
		}                                                                             \
		return st_;                                                                   \
	}                                                                                     \
	AK_UNUSED AK_INLINE ak_status name##_pop_##m(name *q, T *out)                      \
	{                                                                                     \
		uint64_t pos_, got_;                                                          \
		ak_status st_;                                                                \
		if (AK_UNLIKELY(!q || !out))                                                  \
			return AK_EINVAL;                                                     \
		st_ = _ak_ring_cons_begin(&q->ring, 1, MC, 0, &pos_, &got_);                  \
		if (AK_LIKELY(st_ == AK_OK)) {                                                \
			*out = *(T *)_ak_ring_slot(&q->ring, pos_, sizeof(T));                \
			_ak_ring_cons_end(&q->ring, pos_, 1, MC);                             \
		}                                                                             \
		return st_;                                                                   \
	}                                                                                     \
	AK_UNUSED AK_INLINE ak_status name##_push_bulk_##m(name *q, const T *src,          \
							       uint64_t n)                    \
	{                                                                                     \
		return _ak_ring_push_n(q ? &q->ring : NULL, src, n, MP, 0, NULL, sizeof(T));  \
	}                                                                                     \
	AK_UNUSED AK_INLINE ak_status name##_pop_bulk_##m(name *q, T *dst, uint64_t n)     \
	{                                                                                     \
		return _ak_ring_pop_n(q ? &q->ring : NULL, dst, n, MC, 0, NULL, sizeof(T));   \
	}                                                                                     \
	AK_UNUSED AK_INLINE ak_status name##_push_burst_##m(name *q, const T *src,         \
								uint64_t n, uint64_t *k)      \
	{                                                                                     \
		return _ak_ring_push_n(q ? &q->ring : NULL, src, n, MP, 1, k, sizeof(T));     \
	}                                                                                     \
	AK_UNUSED AK_INLINE ak_status name##_pop_burst_##m(name *q, T *dst, uint64_t n,    \
							       uint64_t *k)                   \
	{                                                                                     \
		return _ak_ring_pop_n(q ? &q->ring : NULL, dst, n, MC, 1, k, sizeof(T));      \
	}                                                                                     \
	AK_UNUSED static inline ak_status name##_push_wait_##m(name *q, T v, uint64_t dl,      \
							       ak_cancel *c)                  \
	{                                                                                     \
		return _ak_ring_push_wait_n(q ? &q->ring : NULL, &v, 1, MP, dl, c, sizeof(T)); \
	}                                                                                     \
	AK_UNUSED static inline ak_status name##_pop_wait_##m(name *q, T *out, uint64_t dl,    \
							      ak_cancel *c)                   \
	{                                                                                     \
		return _ak_ring_pop_wait_n(q ? &q->ring : NULL, out, 1, MC, dl, c, sizeof(T)); \
	}

#define AK_RING_DEFINE(name, T)                                                               \
	typedef struct name {                                                                 \
		ak_ring ring;                                                                 \
	} name;                                                                               \
	AK_UNUSED static inline size_t name##_memsize(uint64_t cap)                            \
	{                                                                                     \
		return ak_ring_memsize(cap, sizeof(T));                                       \
	}                                                                                     \
	AK_UNUSED static inline ak_status name##_init(name *q, T *storage, size_t bytes,       \
						      uint64_t cap, unsigned flags)           \
	{                                                                                     \
		/* a cast, not &q->ring: init checks q's alignment first */               \
		return ak_ring_init((ak_ring *)(void *)q, storage, bytes, cap, sizeof(T), flags); \
	}                                                                                     \
	AK_UNUSED static inline ak_ring *name##_ring(name *q)                                  \
	{                                                                                     \
		return q ? &q->ring : NULL;                                                   \
	}                                                                                     \
	AK_UNUSED static inline ak_status name##_close(name *q)                                \
	{                                                                                     \
		return ak_ring_close(q ? &q->ring : NULL);                                    \
	}                                                                                     \
	AK_UNUSED static inline uint64_t name##_size(name *q)                                  \
	{                                                                                     \
		return ak_ring_size(q ? &q->ring : NULL);                                     \
	}                                                                                     \
	AK_UNUSED static inline uint64_t name##_capacity(name *q)                              \
	{                                                                                     \
		return ak_ring_capacity(q ? &q->ring : NULL);                                 \
	}                                                                                     \
	_AK_RING_DEFINE_MODE(name, T, spsc, 0, 0)                                             \
	_AK_RING_DEFINE_MODE(name, T, mpsc, 1, 0)                                             \
	_AK_RING_DEFINE_MODE(name, T, spmc, 0, 1)                                             \
	_AK_RING_DEFINE_MODE(name, T, mpmc, 1, 1)                                             \
	typedef int name##_ring_defined_ /* swallow the semicolon */

AK_END_DECLS

#endif /* ATOMKIT_RING_H */
