/*
 * atomkit/ring_slot.h - SPSC ring whose consumer reads the slots, never the
 * producer's index.
 *
 * Overview
 *   `ak_ring_slot` is a bounded single-producer single-consumer ring of
 *   fixed-size elements.  Every slot carries a 64-bit word beside its
 *   element.  A push call writes its elements, then stores, with release,
 *   the position just past them into the word of its *first* slot: that word
 *   publishes the whole batch.  The consumer learns what it may read from
 *   that word (acquire), caches the end of the batch on its own line, and
 *   reads the next batch's first word when the cache runs out.  So the only
 *   producer-written line the consumer ever touches is a slot line it is
 *   about to read anyway; there is no producer index for it to poll.  The
 *   producer keeps a cached end of the free space and reads the consumer's
 *   published tail only when that cache says full (as ak_ring_*_spsc does).
 *
 *   When to use it instead of ak_ring's _spsc mode: small elements (8-32
 *   bytes) and a consumer that often catches up with the producer.  An
 *   ak_ring consumer that has caught up polls the producer's tail line right
 *   after each publish, which on some machines (this project's 2-vCPU VM in
 *   its slow phase) costs a line round trip per element; here the polled
 *   line is the one holding the element.  For elements of 64 bytes and more
 *   ak_ring was faster in the measurements (docs/ring_slot.md).
 *
 *   Operations (one producer thread, one consumer thread):
 *       push / pop                one element (copied)
 *       push_bulk / pop_bulk      exactly n elements or none
 *       push_burst / pop_burst    up to n elements, the count is returned
 *       reserve / commit          zero-copy producer: write in place
 *       peek / release            zero-copy consumer: read in place
 *       push_wait / pop_wait      block (futex) until done, deadline, cancel
 *                                 or close; _bulk_wait forms too
 *       ak_ring_slot_close()      the producer gets AK_ECLOSED, the
 *                                 consumer drains, then gets AK_ECLOSED
 *       size / empty / full / capacity
 *   AK_RING_SLOT_DEFINE(name, T) generates a type-safe front end whose
 *   copies are fixed-size moves.
 *
 * Contract
 *   - Capacity: any value from 1 to AK_RING_SLOT_MAX_CAPACITY, all of it
 *     usable.  Storage is a power of two of slots (>= capacity), each slot
 *     8 bytes of word plus the element rounded up to 8 bytes;
 *     ak_ring_slot_memsize() says how many bytes.  Init writes every word,
 *     so it takes time proportional to the storage.
 *   - Storage: the caller's, validated by init (non-NULL, 8-byte aligned,
 *     large enough, not overlapping the control block).  The ring records
 *     it as an offset from the control block, so a ring whose control block
 *     and storage lie in one shared mapping works in every process that
 *     maps it, at any address.
 *   - The control block itself needs _Alignof(ak_ring_slot) ==
 *     AK_DESTRUCTIVE_SIZE (128) bytes of alignment, which malloc does not
 *     give: declare it (static, automatic or as a member: the compiler
 *     aligns it), or allocate it with aligned_alloc(AK_DESTRUCTIVE_SIZE,
 *     ...), or place it at a 128-aligned offset of a shared mapping.  Init
 *     refuses a misaligned one with AK_EINVAL.
 *   - FIFO, exactly once: elements leave in the order they were pushed.
 *   - size/empty/full: 0 <= size <= capacity always; exact when no push or
 *     pop is in flight; otherwise a snapshot that may be stale.
 *   - Errors are values and leave the ring unchanged: NULL ring or buffer
 *     AK_EINVAL; a bulk larger than the capacity AK_E2BIG; a full (empty)
 *     ring AK_EFULL (AK_EEMPTY); a closed ring AK_ECLOSED (the consumer:
 *     once everything pushed before close is taken); a commit/release of a
 *     view that is not the pending one AK_ESTATE.  No call allocates or
 *     locks; only a _wait call that must sleep, and a push/pop that finds a
 *     sleeper registered on its gate, make system calls.
 *   - Close: a push whose announcement close saw lands before close (AK_OK,
 *     delivered); any later one returns AK_ECLOSED and publishes nothing.
 *     After ak_ring_slot_close() returns, and after a push has returned
 *     AK_ECLOSED, every push (and commit) gets AK_ECLOSED.  Nothing pushed
 *     with AK_OK is lost.
 *   - Zero-copy views: elements are not contiguous (each slot starts with
 *     its word), so a view is up to two runs of slots with a stride:
 *     element i of run s is at seg[s] + i * stride (ak_ring_slot_zc_elem()
 *     does the arithmetic).  The second run starts at the first slot after
 *     a wrap.
 *   - Shared memory: pass AK_RING_SLOT_SHARED to init when other processes
 *     map the ring (their waits use process-shared futexes and every
 *     publish fences).  _wait and close refuse (AK_EINVAL) a ring whose
 *     layout/protocol version word is not this build's.
 *   - Words are free-running 64-bit positions: a word never takes the same
 *     value twice in 2^64 pushes, so there is no ABA and nothing to clear.
 *
 * Progress
 *   Both sides wait-free while the ring is open: a push is a bounded
 *   number of steps; a pop of up to n elements reads one word per batch it
 *   takes plus at most one that finds the next batch not yet published: at
 *   most n words in all.  A push that finds close in progress waits for the
 *   closer to finish (a membarrier and a few stores): blocking, once.
 *   _wait functions and close block.
 *
 * Example
 *     AK_RING_SLOT_DEFINE(u64q, uint64_t);
 *     static AK_ALIGNAS(8) unsigned char mem[1024 * 16]; // u64q_memsize(1000)
 *     static u64q q;                         // 128-aligned by its type
 *     u64q_init(&q, mem, sizeof mem, 1000);
 *     u64q_push_spsc(&q, 42);                // producer thread
 *     uint64_t v;
 *     while (u64q_pop_wait_spsc(&q, &v, AK_DEADLINE_NONE, NULL) == AK_OK)
 *             use(v);                        // consumer thread, until close
 *     u64q_close(&q);                        // producer: no more
 *
 * See docs/ring_slot.md for the memory-order argument and measurements.
 */
#ifndef ATOMKIT_RING_SLOT_H
#define ATOMKIT_RING_SLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal/compiler.h"
#include "internal/ring_wait.h"
#include "clock.h"
#include "status.h"

AK_BEGIN_DECLS

/* Cancel tokens are defined in atomkit/cancel.h; the ring only takes a pointer. */
typedef struct ak_cancel ak_cancel;

/* Flags for ak_ring_slot_init(). */
#define AK_RING_SLOT_SHARED 0x1u /* ring lives in memory shared between processes */

/* Largest capacity (elements) accepted by init: keeps every difference of
 * two live positions far below 2^63, so signed comparisons are exact. */
#define AK_RING_SLOT_MAX_CAPACITY (UINT64_C(1) << 62)

/* Bytes of one slot for elements of `esz` bytes: the word, then the element
 * rounded up to 8 bytes (so every word is 8-byte aligned). */
#define _AK_RING_SLOT_STRIDE(esz) ((uint64_t)8 + (((uint64_t)(esz) + 7) & ~(uint64_t)7))

/* Layout and wake-protocol version, checked by the _wait forms and close: a
 * ring made by a build before it has 0 here ("Slt2"). */
#define _AK_RING_SLOT_MAGIC 0x536c7432u

/*
 * A zero-copy view: up to two runs of consecutive slots (the second one
 * starts at the first slot after a wrap).  Element i of run s is at
 * (char *)seg[s] + i * stride.  Filled by reserve/peek, passed back
 * unchanged to commit/release.
 */
typedef struct ak_ring_slot_zc {
	void *seg[2];    /* first element of each run */
	uint64_t len[2]; /* elements in each run; len[1] == 0 without a wrap */
	uint64_t n;      /* len[0] + len[1] */
	uint64_t pos;    /* ring position of the first element */
	size_t stride;   /* bytes from one element to the next within a run */
} ak_ring_slot_zc;

/* Read-only after init. */
struct _ak_ring_slot_cfg {
	uint64_t capacity;  /* usable elements */
	uint64_t mask;      /* storage slots - 1 */
	uint64_t elem_size; /* bytes per element */
	uint64_t stride;    /* bytes per slot: _AK_RING_SLOT_STRIDE(elem_size) */
	int64_t data_off;   /* storage address minus control block address */
	uint32_t flags;     /* AK_RING_SLOT_SHARED */
	uint32_t fenced;    /* 1: publishes fence (shared ring or no membarrier) */
	uint32_t magic;     /* _AK_RING_SLOT_MAGIC */
	uint32_t pad_;
};

/*
 * Five destructive units.  `prod` and `cons` are each read and written by
 * one side only on the fast path (size() reads prod.head; sleepers and the
 * closer update the gates on slow paths), so they stay in their side's
 * cache.  `tail` is the one index the other side reads: the producer, when
 * its cached limit says full.  There is no producer index the consumer
 * reads: the slots' words take its place.  `wait` is written only on
 * blocking and close paths.
 *
 * Each side reads its own `gate` right after its publishing store (the
 * producer after announcing its head, the consumer after its tail store):
 * 0 on the fast path, else _AK_RING_GATE_* bits (fenced ring; CLOSED on the
 * producer's gate) plus one _AK_RING_GATE_WAITER per sleeper of the other
 * side.
 */
typedef struct ak_ring_slot {
	AK_CACHE_ALIGNED struct _ak_ring_slot_cfg cfg;
	AK_CACHE_ALIGNED struct {
		_Atomic(uint64_t) head; /* announced up to here (size(), sleepers
					 * and the closer read it) */
		uint64_t limit;         /* tail + capacity as last read: end of the free space */
		_Atomic(uint32_t) gate; /* fenced | closed | consumers asleep */
		uint32_t pad_;
	} prod;
	AK_CACHE_ALIGNED struct {
		uint64_t head;  /* next position to read */
		uint64_t cache; /* published up to here, as last read from a word */
		_Atomic(uint32_t) gate; /* fenced | producers asleep */
		uint32_t pad_;
	} cons;
	AK_CACHE_ALIGNED _Atomic(uint64_t) tail; /* consumer: released up to here */
	AK_CACHE_ALIGNED struct _ak_ring_wait wait;
} ak_ring_slot;

AK_ASSERT_PADDED(ak_ring_slot);
AK_STATIC_ASSERT(sizeof(ak_ring_slot) == 5 * AK_DESTRUCTIVE_SIZE,
		 "config, producer, consumer, the published tail, waits: one unit each");

/* ===================================================================== */
/* Setup (src/ring_slot.c)                                                */
/* ===================================================================== */

/*
 * Bytes of slot storage for `capacity` elements of `elem_size` bytes.
 * Returns 0 when the arguments are invalid (capacity or elem_size 0,
 * capacity above AK_RING_SLOT_MAX_CAPACITY, or a size that overflows size_t).
 */
size_t ak_ring_slot_memsize(uint64_t capacity, size_t elem_size);

/*
 * Initialise `r` over caller storage (writes every slot's word).  Not
 * thread-safe: call before the ring is shared.  Returns AK_OK; AK_EINVAL for
 * NULL r/storage, r not aligned to _Alignof(ak_ring_slot) (checked before r
 * is touched), storage not 8-byte aligned, capacity or elem_size 0, flags
 * other than 0 or AK_RING_SLOT_SHARED, storage_size below
 * ak_ring_slot_memsize(), or the storage's first ak_ring_slot_memsize()
 * bytes overlapping *r; AK_E2BIG for a capacity above
 * AK_RING_SLOT_MAX_CAPACITY or a size that does not fit in memory.  With
 * AK_RING_SLOT_SHARED, `r` and `storage` must lie in one mapping.
 */
ak_status ak_ring_slot_init(ak_ring_slot *r, void *storage, size_t storage_size,
			    uint64_t capacity, size_t elem_size, unsigned flags);

/* Test hook: like ak_ring_slot_init() but positions start at `start` (to
 * test wrap-around near 2^64).  Not for production use. */
ak_status _ak_ring_slot_init_at(ak_ring_slot *r, void *storage, size_t storage_size,
				uint64_t capacity, size_t elem_size, unsigned flags,
				uint64_t start);

/*
 * Close: the producer then gets AK_ECLOSED, the consumer drains what was
 * pushed and then gets AK_ECLOSED; every waiter wakes.  Any thread, any
 * number of times: AK_OK the first time, AK_ECLOSED after; AK_EINVAL for
 * NULL or a ring of another layout version.  Blocking (briefly: a
 * membarrier, and a concurrent close finishing).
 */
ak_status ak_ring_slot_close(ak_ring_slot *r);

/* How long a _wait may poll past its fixed spin before it sleeps: as
 * ak_ring_set_wait_spin() in atomkit/ring.h (the same meter, default and
 * limit).  AK_EINVAL for NULL, a ring of another layout version, or
 * max_ns above AK_RING_WAIT_SPIN_LIMIT. */
ak_status ak_ring_slot_set_wait_spin(ak_ring_slot *r, uint64_t max_ns);

/* System calls (futex wait/wake, membarrier) the ring has made: 0 as long
 * as nobody had to sleep.  By cause: see ak_ring_syscalls_split() in
 * atomkit/ring.h (the same fields).  AK_EINVAL for NULL arguments. */
uint64_t ak_ring_slot_syscalls(const ak_ring_slot *r);
ak_status ak_ring_slot_syscalls_split(const ak_ring_slot *r, ak_ring_syscall_split *out);

/* Out-of-line slow paths used by the inline functions below. */
ak_status _ak_ring_slot_publish_slow(ak_ring_slot *r, char *first_slot, uint64_t h, uint64_t k,
				     uint32_t gate);
void _ak_ring_slot_notify_space(ak_ring_slot *r);
ak_status _ak_ring_slot_refuse(ak_ring_slot *r);
ak_status _ak_ring_slot_wait_for(ak_ring_slot *r, int for_data, uint64_t n,
				 uint64_t deadline_ns, ak_cancel *cancel);

/* ===================================================================== */
/* Inline core (internal)                                                 */
/* ===================================================================== */

AK_INLINE char *_ak_ring_slot_data(ak_ring_slot *r)
{
	return (char *)r + r->cfg.data_off;
}

AK_INLINE _Atomic(uint64_t) *_ak_ring_slot_word(char *slot)
{
	return (_Atomic(uint64_t) *)(void *)slot;
}

/* Producer: free slots from h, reading the consumer's tail only when the
 * cached limit shows fewer than n. */
AK_INLINE uint64_t _ak_ring_slot_room(ak_ring_slot *r, uint64_t h, uint64_t n)
{
	uint64_t room = r->prod.limit - h;
	if (AK_UNLIKELY(room < n)) {
		/* Acquire pairs with the release store of tail in
		 * _ak_ring_slot_release(): the consumer has finished reading
		 * the slots we are about to overwrite. */
		r->prod.limit = atomic_load_explicit(&r->tail, memory_order_acquire) +
				r->cfg.capacity;
		room = r->prod.limit - h;
	}
	return room;
}

/*
 * Producer: publish [h, h + k) after its elements were written: announce
 * our head, read the gate, then store the batch end into the word of the
 * batch's first slot.  AK_OK, or AK_ECLOSED (close did not count this
 * batch: nothing is published).  The gate read comes after the head store
 * (Dekker against a sleeping consumer and the closer, who register on the
 * gate with a seq_cst RMW and then read head) and before the word store,
 * so a close that missed the batch stops it before anything is visible.
 * A consumer that registers after the gate read sees head ahead of what is
 * published and polls instead of sleeping (see src/ring_slot.c).
 */
AK_INLINE ak_status _ak_ring_slot_publish(ak_ring_slot *r, char *first_slot, uint64_t h,
					  uint64_t k)
{
	/* Relaxed: the announcement; ordered before the gate load by
	 * _ak_ring_gate() (the other side's membarrier, or a fence), and
	 * before the word by the release below, so anyone who saw the batch
	 * (the consumer, and through its tail size()) also sees this head. */
	atomic_store_explicit(&r->prod.head, h + k, memory_order_relaxed);
	uint32_t g = _ak_ring_gate(&r->prod.head, &r->prod.gate);
	if (AK_UNLIKELY(g != 0))
		return _ak_ring_slot_publish_slow(r, first_slot, h, k, g);
	/* Release pairs with the acquire loads of the word in
	 * _ak_ring_slot_pop1() and _ak_ring_slot_avail() (and the seq_cst
	 * ones of slot_ready() in src/ring_slot.c): the batch's elements (and
	 * the head above) are written before the word shows its end. */
	atomic_store_explicit(_ak_ring_slot_word(first_slot), h + k, memory_order_release);
	return AK_OK;
}

/* Consumer: hand [.., h) back to the producer after reading, and wake a
 * producer asleep for space. */
AK_INLINE void _ak_ring_slot_release(ak_ring_slot *r, uint64_t h)
{
	r->cons.head = h;
	/* Release pairs with the acquire load of tail in _ak_ring_slot_room():
	 * our reads of the slots finish before the producer overwrites them. */
	atomic_store_explicit(&r->tail, h, memory_order_release);
	/* A producer registered to sleep?  (Dekker with its seq_cst RMW on
	 * cons.gate in the sleeper, which then re-reads tail.) */
	if (AK_UNLIKELY(_ak_ring_gate(&r->tail, &r->cons.gate) != 0))
		_ak_ring_slot_notify_space(r);
}

/* Producer: has close begun?  (The CLOSED bit on its own gate line.) */
AK_INLINE bool _ak_ring_slot_closing(ak_ring_slot *r)
{
	/* Relaxed: a bit of our own gate; close sets it with an RMW that
	 * happens before close returns, so a caller ordered after close sees
	 * it (coherence).  What the bit means is settled in
	 * _ak_ring_slot_refuse(). */
	return (atomic_load_explicit(&r->prod.gate, memory_order_relaxed) &
		_AK_RING_GATE_CLOSED) != 0;
}

/* Producer found too little room: AK_ECLOSED once close has begun, else
 * AK_EFULL. */
AK_INLINE ak_status _ak_ring_slot_full(ak_ring_slot *r)
{
	return AK_UNLIKELY(_ak_ring_slot_closing(r)) ? _ak_ring_slot_refuse(r) : AK_EFULL;
}

/* Consumer found fewer than `need` published from h: AK_ECLOSED when close
 * has sealed and fewer than `need` will ever come, else AK_EEMPTY.  A ring
 * of the layout before the version word (magic 0) has no `wait` unit: that
 * memory may be its slot storage, so it is not read; such a ring cannot be
 * closed (close refuses it), so it is simply empty. */
AK_INLINE ak_status _ak_ring_slot_empty(ak_ring_slot *r, uint64_t h, uint64_t need)
{
	if (AK_UNLIKELY(r->cfg.magic != _AK_RING_SLOT_MAGIC))
		return AK_EEMPTY;
	/* Acquire pairs with the seq_cst store of SEALED in
	 * _ak_ring_close_gated(): then close_pos is final, and every
	 * position below it is published or about to be. */
	if (AK_UNLIKELY(atomic_load_explicit(&r->wait.closed, memory_order_acquire) ==
			_AK_RING_SEALED) &&
	    atomic_load_explicit(&r->wait.close_pos, memory_order_relaxed) - h < need)
		return AK_ECLOSED;
	return AK_EEMPTY;
}

/* Consumer: how many elements from h are published, extending the cache
 * through the words of the batches that follow it until n are known (or
 * the next word is not yet written). */
AK_INLINE uint64_t _ak_ring_slot_avail(ak_ring_slot *r, uint64_t h, uint64_t n, char *base,
				       uint64_t stride)
{
	uint64_t c = r->cons.cache;
	while (c - h < n) {
		/* Acquire pairs with the release store of the word in
		 * _ak_ring_slot_publish(): the batch from c is written.  A word
		 * left from an earlier lap holds at most c (batches end at
		 * most `capacity` past their start), so it reads as "not
		 * yet". */
		uint64_t e = atomic_load_explicit(
			_ak_ring_slot_word(base + (size_t)(c & r->cfg.mask) * stride),
			memory_order_acquire);
		if ((int64_t)(e - c) <= 0)
			break;
		c = e;
	}
	r->cons.cache = c;
	return c - h;
}

AK_INLINE ak_status _ak_ring_slot_push1(ak_ring_slot *r, const void *elem, size_t esz,
					uint64_t stride)
{
	uint64_t h;
	char *slot;

	if (AK_UNLIKELY(!r || !elem))
		return AK_EINVAL;
	h = atomic_load_explicit(&r->prod.head, memory_order_relaxed);
	if (AK_UNLIKELY(_ak_ring_slot_room(r, h, 1) == 0))
		return _ak_ring_slot_full(r);
	slot = _ak_ring_slot_data(r) + (size_t)(h & r->cfg.mask) * stride;
	memcpy(slot + 8, elem, esz);
	return _ak_ring_slot_publish(r, slot, h, 1);
}

AK_INLINE ak_status _ak_ring_slot_pop1(ak_ring_slot *r, void *out, size_t esz, uint64_t stride)
{
	uint64_t h;
	char *slot;

	if (AK_UNLIKELY(!r || !out))
		return AK_EINVAL;
	h = r->cons.head;
	slot = _ak_ring_slot_data(r) + (size_t)(h & r->cfg.mask) * stride;
	if (r->cons.cache == h) {
		/* Acquire pairs with the release store of the word in
		 * _ak_ring_slot_publish() (see _ak_ring_slot_avail()). */
		uint64_t e = atomic_load_explicit(_ak_ring_slot_word(slot), memory_order_acquire);
		if ((int64_t)(e - h) <= 0)
			return _ak_ring_slot_empty(r, h, 1);
		r->cons.cache = e;
	}
	memcpy(out, slot + 8, esz);
	_ak_ring_slot_release(r, h + 1);
	return AK_OK;
}

/* n elements of esz bytes between a buffer and the slots from position p
 * (to_slots: buffer -> slots), in at most two runs of consecutive slots. */
AK_INLINE void _ak_ring_slot_copy(ak_ring_slot *r, uint64_t p, char *buf, uint64_t n, size_t esz,
				  uint64_t stride, int to_slots)
{
	char *base = _ak_ring_slot_data(r);
	uint64_t end = p + n;
	while (p != end) {
		uint64_t i = p & r->cfg.mask, run = r->cfg.mask + 1 - i;
		char *at = base + (size_t)i * stride + 8;
		if (run > end - p)
			run = end - p;
		for (uint64_t stop = p + run; p != stop; p++, at += stride, buf += esz) {
			if (to_slots)
				memcpy(at, buf, esz);
			else
				memcpy(buf, at, esz);
		}
	}
}

/* push_bulk (burst == 0: all n or none) and push_burst (up to n). */
AK_INLINE ak_status _ak_ring_slot_push_n(ak_ring_slot *r, const void *src, uint64_t n, int burst,
					 uint64_t *count, size_t esz, uint64_t stride)
{
	uint64_t h, room, k = 0;
	ak_status st = AK_OK;

	if (AK_UNLIKELY(!r || !src)) {
		st = AK_EINVAL;
	} else if (AK_UNLIKELY(!burst && n > r->cfg.capacity)) {
		st = AK_E2BIG;
	} else if (AK_LIKELY(n != 0)) {
		h = atomic_load_explicit(&r->prod.head, memory_order_relaxed);
		room = _ak_ring_slot_room(r, h, n);
		k = room < n ? room : n;
		if (k == 0 || (!burst && k < n)) {
			k = 0;
			st = _ak_ring_slot_full(r);
		} else {
			char *first = _ak_ring_slot_data(r) + (size_t)(h & r->cfg.mask) * stride;
			_ak_ring_slot_copy(r, h, (char *)(uintptr_t)src, k, esz, stride, 1);
			st = _ak_ring_slot_publish(r, first, h, k);
			if (AK_UNLIKELY(st != AK_OK))
				k = 0;
		}
	}
	if (count)
		*count = k;
	return st;
}

/* pop_bulk (burst == 0: all n or none) and pop_burst (up to n). */
AK_INLINE ak_status _ak_ring_slot_pop_n(ak_ring_slot *r, void *dst, uint64_t n, int burst,
					uint64_t *count, size_t esz, uint64_t stride)
{
	uint64_t h, avail, k = 0;
	ak_status st = AK_OK;

	if (AK_UNLIKELY(!r || !dst)) {
		st = AK_EINVAL;
	} else if (AK_UNLIKELY(!burst && n > r->cfg.capacity)) {
		st = AK_E2BIG;
	} else if (AK_LIKELY(n != 0)) {
		h = r->cons.head;
		avail = _ak_ring_slot_avail(r, h, n, _ak_ring_slot_data(r), stride);
		k = avail < n ? avail : n;
		if (k == 0 || (!burst && k < n)) {
			k = 0;
			st = _ak_ring_slot_empty(r, h, burst ? 1 : n);
		} else {
			_ak_ring_slot_copy(r, h, (char *)dst, k, esz, stride, 0);
			_ak_ring_slot_release(r, h + k);
		}
	}
	if (count)
		*count = k;
	return st;
}

/* A view of n slots from position p (reserve and peek). */
AK_INLINE void _ak_ring_slot_fill_zc(ak_ring_slot *r, uint64_t p, uint64_t n, ak_ring_slot_zc *zc)
{
	uint64_t i = p & r->cfg.mask, first = r->cfg.mask + 1 - i;
	char *base = _ak_ring_slot_data(r);
	if (first > n)
		first = n;
	zc->seg[0] = base + (size_t)i * r->cfg.stride + 8;
	zc->len[0] = first;
	zc->seg[1] = n > first ? (void *)(base + 8) : NULL;
	zc->len[1] = n - first;
	zc->n = n;
	zc->pos = p;
	zc->stride = (size_t)r->cfg.stride;
}

/* Validate a zero-copy request and clear the view (reserve and peek). */
AK_INLINE ak_status _ak_ring_slot_zc_open(const ak_ring_slot *r, uint64_t n, ak_ring_slot_zc *zc)
{
	if (!r || !zc)
		return AK_EINVAL;
	zc->n = zc->len[0] = zc->len[1] = zc->pos = 0;
	zc->seg[0] = zc->seg[1] = NULL;
	zc->stride = 0;
	return AK_UNLIKELY(n == 0) ? AK_EINVAL : AK_OK;
}

AK_INLINE ak_status _ak_ring_slot_reserve(ak_ring_slot *r, uint64_t n, ak_ring_slot_zc *zc)
{
	uint64_t h, room;
	ak_status st;

	if (!r)
		return AK_EINVAL;
	st = _ak_ring_slot_zc_open(r, n, zc);

	if (st != AK_OK)
		return st;
	/* A close we miss here stops the commit. */
	if (AK_UNLIKELY(_ak_ring_slot_closing(r)))
		return _ak_ring_slot_refuse(r);
	h = atomic_load_explicit(&r->prod.head, memory_order_relaxed);
	room = _ak_ring_slot_room(r, h, n);
	if (AK_UNLIKELY(room == 0))
		return _ak_ring_slot_full(r);
	_ak_ring_slot_fill_zc(r, h, room < n ? room : n, zc);
	return AK_OK;
}

AK_INLINE ak_status _ak_ring_slot_commit(ak_ring_slot *r, const ak_ring_slot_zc *zc)
{
	uint64_t h;

	if (!r || !zc)
		return AK_EINVAL;
	/* The pending view starts at our head and fits the free space the
	 * reserve saw (the limit only grows). */
	h = atomic_load_explicit(&r->prod.head, memory_order_relaxed);
	if (AK_UNLIKELY(zc->pos != h || zc->n == 0 || zc->n > r->prod.limit - h))
		return AK_ESTATE;
	return _ak_ring_slot_publish(
		r, _ak_ring_slot_data(r) + (size_t)(h & r->cfg.mask) * r->cfg.stride, h, zc->n);
}

AK_INLINE ak_status _ak_ring_slot_peek(ak_ring_slot *r, uint64_t n, ak_ring_slot_zc *zc)
{
	uint64_t h, avail;
	ak_status st;

	if (!r)
		return AK_EINVAL;
	st = _ak_ring_slot_zc_open(r, n, zc);

	if (st != AK_OK)
		return st;
	h = r->cons.head;
	avail = _ak_ring_slot_avail(r, h, n, _ak_ring_slot_data(r), r->cfg.stride);
	if (AK_UNLIKELY(avail == 0))
		return _ak_ring_slot_empty(r, h, 1);
	_ak_ring_slot_fill_zc(r, h, avail < n ? avail : n, zc);
	return AK_OK;
}

AK_INLINE ak_status _ak_ring_slot_release_zc(ak_ring_slot *r, const ak_ring_slot_zc *zc)
{
	uint64_t h;

	if (!r || !zc)
		return AK_EINVAL;
	/* The pending view starts at our head and lies within what we know
	 * is published. */
	h = r->cons.head;
	if (AK_UNLIKELY(zc->pos != h || zc->n == 0 || zc->n > r->cons.cache - h))
		return AK_ESTATE;
	_ak_ring_slot_release(r, h + zc->n);
	return AK_OK;
}

/* Blocking: try, and when the ring says full/empty, sleep and retry.  The
 * try is all or nothing, so an error return has moved nothing. */
AK_INLINE ak_status _ak_ring_slot_push_wait_n(ak_ring_slot *r, const void *src, uint64_t n,
					      uint64_t deadline_ns, ak_cancel *cancel,
					      size_t esz, uint64_t stride)
{
	for (;;) {
		ak_status st = n == 1 ? _ak_ring_slot_push1(r, src, esz, stride)
				      : _ak_ring_slot_push_n(r, src, n, 0, NULL, esz, stride);
		if (st != AK_EFULL)
			return st;
		st = _ak_ring_slot_wait_for(r, 0, n, deadline_ns, cancel);
		if (st != AK_OK)
			return st;
	}
}

AK_INLINE ak_status _ak_ring_slot_pop_wait_n(ak_ring_slot *r, void *dst, uint64_t n,
					     uint64_t deadline_ns, ak_cancel *cancel, size_t esz,
					     uint64_t stride)
{
	for (;;) {
		ak_status st = n == 1 ? _ak_ring_slot_pop1(r, dst, esz, stride)
				      : _ak_ring_slot_pop_n(r, dst, n, 0, NULL, esz, stride);
		if (st != AK_EEMPTY)
			return st;
		st = _ak_ring_slot_wait_for(r, 1, n, deadline_ns, cancel);
		if (st != AK_OK)
			return st;
	}
}

/* ===================================================================== */
/* Public operations                                                      */
/* ===================================================================== */

/* Producer thread only.  AK_OK; AK_EFULL; AK_ECLOSED; AK_EINVAL (NULL).
 * Wait-free. */
AK_INLINE ak_status ak_ring_slot_push_spsc(ak_ring_slot *r, const void *elem)
{
	return r ? _ak_ring_slot_push1(r, elem, (size_t)r->cfg.elem_size, r->cfg.stride)
		 : AK_EINVAL;
}

/* Consumer thread only.  AK_OK; AK_EEMPTY; AK_ECLOSED (closed and drained);
 * AK_EINVAL (NULL).  Wait-free. */
AK_INLINE ak_status ak_ring_slot_pop_spsc(ak_ring_slot *r, void *out)
{
	return r ? _ak_ring_slot_pop1(r, out, (size_t)r->cfg.elem_size, r->cfg.stride)
		 : AK_EINVAL;
}

/* Producer: all n elements or none.  AK_OK (n == 0 too); AK_EFULL;
 * AK_ECLOSED; AK_E2BIG (n > capacity: could never succeed); AK_EINVAL
 * (NULL).  Wait-free. */
AK_INLINE ak_status ak_ring_slot_push_bulk_spsc(ak_ring_slot *r, const void *src, uint64_t n)
{
	return r ? _ak_ring_slot_push_n(r, src, n, 0, NULL, (size_t)r->cfg.elem_size,
					r->cfg.stride)
		 : AK_EINVAL;
}

/* Consumer: all n elements or none.  AK_OK; AK_EEMPTY; AK_ECLOSED (closed,
 * and fewer than n left: pop_burst takes them); AK_E2BIG; AK_EINVAL. */
AK_INLINE ak_status ak_ring_slot_pop_bulk_spsc(ak_ring_slot *r, void *dst, uint64_t n)
{
	return r ? _ak_ring_slot_pop_n(r, dst, n, 0, NULL, (size_t)r->cfg.elem_size,
				       r->cfg.stride)
		 : AK_EINVAL;
}

/* Producer: up to n elements; *count (may be NULL) gets how many.  AK_OK
 * iff some were pushed (or n == 0); AK_EFULL when none fit; AK_ECLOSED;
 * AK_EINVAL. */
AK_INLINE ak_status ak_ring_slot_push_burst_spsc(ak_ring_slot *r, const void *src, uint64_t n,
						 uint64_t *count)
{
	if (!r) {
		if (count)
			*count = 0;
		return AK_EINVAL;
	}
	return _ak_ring_slot_push_n(r, src, n, 1, count, (size_t)r->cfg.elem_size, r->cfg.stride);
}

/* Consumer: up to n elements; *count gets how many.  AK_OK iff some were
 * taken (or n == 0); AK_EEMPTY when none; AK_ECLOSED when none and closed;
 * AK_EINVAL. */
AK_INLINE ak_status ak_ring_slot_pop_burst_spsc(ak_ring_slot *r, void *dst, uint64_t n,
						uint64_t *count)
{
	if (!r) {
		if (count)
			*count = 0;
		return AK_EINVAL;
	}
	return _ak_ring_slot_pop_n(r, dst, n, 1, count, (size_t)r->cfg.elem_size, r->cfg.stride);
}

/*
 * Zero-copy producer.  reserve: a view of up to n free slots (n >= 1) to
 * write elements into in place; AK_OK (zc->n >= 1), AK_EFULL, AK_ECLOSED,
 * AK_EINVAL (NULL, n == 0).  commit: publish all zc->n of them like a push
 * of zc->n elements; AK_OK, AK_ECLOSED (close came first: nothing is
 * published, the view is void), AK_ESTATE (zc is not the pending view),
 * AK_EINVAL.  One view at a time; a push between reserve and commit makes
 * the view stale (AK_ESTATE) and may have overwritten it.  Wait-free.
 */
AK_INLINE ak_status ak_ring_slot_reserve_spsc(ak_ring_slot *r, uint64_t n, ak_ring_slot_zc *zc)
{
	return _ak_ring_slot_reserve(r, n, zc);
}

AK_INLINE ak_status ak_ring_slot_commit_spsc(ak_ring_slot *r, const ak_ring_slot_zc *zc)
{
	return _ak_ring_slot_commit(r, zc);
}

/*
 * Zero-copy consumer.  peek: a view of up to n published elements (n >= 1)
 * to read in place; AK_OK, AK_EEMPTY, AK_ECLOSED (closed and drained),
 * AK_EINVAL.  release: hand zc->n slots from zc->pos back to the producer;
 * AK_OK, AK_ESTATE (zc->pos is not the consumer's position, zc->n is 0 or
 * reaches past what is known to be published), AK_EINVAL.  A zc->n below
 * the peeked count releases part of the view; one above it (within the
 * published elements) skips them unread.  Wait-free.
 */
AK_INLINE ak_status ak_ring_slot_peek_spsc(ak_ring_slot *r, uint64_t n, ak_ring_slot_zc *zc)
{
	return _ak_ring_slot_peek(r, n, zc);
}

AK_INLINE ak_status ak_ring_slot_release_spsc(ak_ring_slot *r, const ak_ring_slot_zc *zc)
{
	return _ak_ring_slot_release_zc(r, zc);
}

/* Element i of a view (NULL if i >= zc->n or zc is NULL). */
AK_INLINE void *ak_ring_slot_zc_elem(const ak_ring_slot_zc *zc, uint64_t i)
{
	if (!zc || i >= zc->n)
		return NULL;
	return i < zc->len[0] ? (char *)zc->seg[0] + (size_t)i * zc->stride
			      : (char *)zc->seg[1] + (size_t)(i - zc->len[0]) * zc->stride;
}

/*
 * Blocking forms.  push_wait / push_bulk_wait (producer): like push /
 * push_bulk, sleeping while the ring is too full.  pop_wait / pop_bulk_wait
 * (consumer): like pop / pop_bulk, sleeping while too few are published.
 * deadline_ns: absolute CLOCK_MONOTONIC ns (ak_deadline_after()),
 * AK_DEADLINE_NONE = never; cancel: may be NULL.  Returns AK_OK;
 * AK_ETIMEDOUT; AK_ECANCELED; AK_ECLOSED (push: closed; pop: closed and
 * fewer than n left); AK_E2BIG (n > capacity); AK_EINVAL (NULL, or a ring
 * of another layout version).  Nothing moved on any error.  A wait that
 * finds what it needs at once makes no system call; one that sleeps wakes
 * on the other side's progress, on close and on cancel.
 */
AK_INLINE ak_status ak_ring_slot_push_wait_spsc(ak_ring_slot *r, const void *elem,
						uint64_t deadline_ns, ak_cancel *cancel)
{
	return r ? _ak_ring_slot_push_wait_n(r, elem, 1, deadline_ns, cancel,
					     (size_t)r->cfg.elem_size, r->cfg.stride)
		 : AK_EINVAL;
}

AK_INLINE ak_status ak_ring_slot_pop_wait_spsc(ak_ring_slot *r, void *out, uint64_t deadline_ns,
					       ak_cancel *cancel)
{
	return r ? _ak_ring_slot_pop_wait_n(r, out, 1, deadline_ns, cancel,
					    (size_t)r->cfg.elem_size, r->cfg.stride)
		 : AK_EINVAL;
}

AK_INLINE ak_status ak_ring_slot_push_bulk_wait_spsc(ak_ring_slot *r, const void *src,
						     uint64_t n, uint64_t deadline_ns,
						     ak_cancel *cancel)
{
	return r ? _ak_ring_slot_push_wait_n(r, src, n, deadline_ns, cancel,
					     (size_t)r->cfg.elem_size, r->cfg.stride)
		 : AK_EINVAL;
}

AK_INLINE ak_status ak_ring_slot_pop_bulk_wait_spsc(ak_ring_slot *r, void *dst, uint64_t n,
						    uint64_t deadline_ns, ak_cancel *cancel)
{
	return r ? _ak_ring_slot_pop_wait_n(r, dst, n, deadline_ns, cancel,
					    (size_t)r->cfg.elem_size, r->cfg.stride)
		 : AK_EINVAL;
}

/* True once ak_ring_slot_close() has begun (false for NULL, and for a ring
 * of an older layout, which has no close state and cannot be closed).  Any
 * thread. */
AK_INLINE bool ak_ring_slot_is_closed(const ak_ring_slot *r)
{
	/* Acquire pairs with the seq_cst RMW of `closed` in
	 * _ak_ring_close_gated(). */
	return r && r->cfg.magic == _AK_RING_SLOT_MAGIC &&
	       atomic_load_explicit(&((ak_ring_slot *)(uintptr_t)r)->wait.closed,
					 memory_order_acquire) != _AK_RING_OPEN;
}

/* Usable capacity (0 for NULL).  Any thread. */
AK_INLINE uint64_t ak_ring_slot_capacity(const ak_ring_slot *r)
{
	return r ? r->cfg.capacity : 0;
}

/*
 * Elements in the ring (0 for NULL).  Any thread, wait-free.  Always
 * 0 <= size <= capacity; exact when no push or pop is in flight (a push in
 * flight may already count).  The tail is read first, then the head, which
 * is at least every position the consumer has released (see below), so the
 * difference is never negative; a tail that is stale by then can make it
 * exceed the capacity, which is clamped.
 */
AK_INLINE uint64_t ak_ring_slot_size(const ak_ring_slot *r)
{
	uint64_t t, h;
	if (!r)
		return 0;
	/* Acquire pairs with the release store of tail in
	 * _ak_ring_slot_release(): the consumer had acquired the words of
	 * everything below t, which were released after the producer's head
	 * stores, so the head read below is >= t. */
	t = atomic_load_explicit(&((ak_ring_slot *)(uintptr_t)r)->tail, memory_order_acquire);
	h = atomic_load_explicit(&((ak_ring_slot *)(uintptr_t)r)->prod.head, memory_order_relaxed);
	return h - t > r->cfg.capacity ? r->cfg.capacity : h - t;
}

AK_INLINE bool ak_ring_slot_empty(const ak_ring_slot *r)
{
	return ak_ring_slot_size(r) == 0;
}

AK_INLINE bool ak_ring_slot_full(const ak_ring_slot *r)
{
	return r && ak_ring_slot_size(r) == r->cfg.capacity;
}

/* ===================================================================== */
/* Typed front end                                                        */
/* ===================================================================== */

/*
 * AK_RING_SLOT_DEFINE(name, T) defines `name` (wrapping an ak_ring_slot of
 * T) and:
 *   size_t name_memsize(uint64_t cap)
 *   ak_status name_init(name *q, void *storage, size_t bytes, uint64_t cap)
 *   name_push_spsc(q, T v)                  name_pop_spsc(q, T *out)
 *   name_push_bulk_spsc(q, const T *src, n) name_pop_bulk_spsc(q, T *dst, n)
 *   name_push_burst_spsc(q, src, n, &k)     name_pop_burst_spsc(q, dst, n, &k)
 *   name_push_wait_spsc(q, T v, dl, c)      name_pop_wait_spsc(q, T *out, dl, c)
 *   name_push_bulk_wait_spsc(q, src, n, dl, c)  name_pop_bulk_wait_spsc(q, dst, n, dl, c)
 *   name_reserve_spsc(q, n, &zc)  name_commit_spsc(q, &zc)
 *   name_peek_spsc(q, n, &zc)     name_release_spsc(q, &zc)
 *   T *name_zc_elem(&zc, i)       name_close(q)  name_ring(q) -> ak_ring_slot *
 *   name_size(q)  name_capacity(q)  name_empty(q)  name_full(q)
 * with the statuses of the untyped functions.  The element size is a
 * compile-time constant, so each copy is a fixed-size move.  Use at file
 * scope.
 */
#define AK_RING_SLOT_DEFINE(name, T)                                                          \
	typedef struct name {                                                                 \
		ak_ring_slot ring;                                                            \
	} name;                                                                               \
	AK_UNUSED static inline size_t name##_memsize(uint64_t cap)                           \
	{                                                                                     \
		return ak_ring_slot_memsize(cap, sizeof(T));                                  \
	}                                                                                     \
	AK_UNUSED static inline ak_status name##_init(name *q, void *storage, size_t bytes,   \
						      uint64_t cap)                           \
	{                                                                                     \
		/* a cast, not &q->ring: init checks q's alignment first */               \
		return ak_ring_slot_init((ak_ring_slot *)(void *)q, storage, bytes, cap,      \
					 sizeof(T), 0);                                       \
	}                                                                                     \
	AK_UNUSED AK_INLINE ak_status name##_push_spsc(name *q, T v)                          \
	{                                                                                     \
		return _ak_ring_slot_push1(q ? &q->ring : NULL, &v, sizeof(T),                \
					   _AK_RING_SLOT_STRIDE(sizeof(T)));                  \
	}                                                                                     \
	AK_UNUSED AK_INLINE ak_status name##_pop_spsc(name *q, T *out)                        \
	{                                                                                     \
		return _ak_ring_slot_pop1(q ? &q->ring : NULL, out, sizeof(T),                \
					  _AK_RING_SLOT_STRIDE(sizeof(T)));                   \
	}                                                                                     \
	AK_UNUSED AK_INLINE ak_status name##_push_bulk_spsc(name *q, const T *src, uint64_t n) \
	{                                                                                     \
		return _ak_ring_slot_push_n(q ? &q->ring : NULL, src, n, 0, NULL, sizeof(T),  \
					    _AK_RING_SLOT_STRIDE(sizeof(T)));                 \
	}                                                                                     \
	AK_UNUSED AK_INLINE ak_status name##_pop_bulk_spsc(name *q, T *dst, uint64_t n)       \
	{                                                                                     \
		return _ak_ring_slot_pop_n(q ? &q->ring : NULL, dst, n, 0, NULL, sizeof(T),   \
					   _AK_RING_SLOT_STRIDE(sizeof(T)));                  \
	}                                                                                     \
	AK_UNUSED AK_INLINE ak_status name##_push_burst_spsc(name *q, const T *src,           \
							     uint64_t n, uint64_t *count)     \
	{                                                                                     \
		return _ak_ring_slot_push_n(q ? &q->ring : NULL, src, n, 1, count, sizeof(T), \
					    _AK_RING_SLOT_STRIDE(sizeof(T)));                 \
	}                                                                                     \
	AK_UNUSED AK_INLINE ak_status name##_pop_burst_spsc(name *q, T *dst, uint64_t n,      \
							    uint64_t *count)                  \
	{                                                                                     \
		return _ak_ring_slot_pop_n(q ? &q->ring : NULL, dst, n, 1, count, sizeof(T),  \
					   _AK_RING_SLOT_STRIDE(sizeof(T)));                  \
	}                                                                                     \
	AK_UNUSED static inline ak_status name##_push_wait_spsc(name *q, T v, uint64_t dl,    \
								ak_cancel *c)                 \
	{                                                                                     \
		return _ak_ring_slot_push_wait_n(q ? &q->ring : NULL, &v, 1, dl, c, sizeof(T), \
						 _AK_RING_SLOT_STRIDE(sizeof(T)));            \
	}                                                                                     \
	AK_UNUSED static inline ak_status name##_pop_wait_spsc(name *q, T *out, uint64_t dl,  \
							       ak_cancel *c)                  \
	{                                                                                     \
		return _ak_ring_slot_pop_wait_n(q ? &q->ring : NULL, out, 1, dl, c, sizeof(T), \
						_AK_RING_SLOT_STRIDE(sizeof(T)));             \
	}                                                                                     \
	AK_UNUSED static inline ak_status name##_push_bulk_wait_spsc(                         \
		name *q, const T *src, uint64_t n, uint64_t dl, ak_cancel *c)                 \
	{                                                                                     \
		return _ak_ring_slot_push_wait_n(q ? &q->ring : NULL, src, n, dl, c, sizeof(T), \
						 _AK_RING_SLOT_STRIDE(sizeof(T)));            \
	}                                                                                     \
	AK_UNUSED static inline ak_status name##_pop_bulk_wait_spsc(                          \
		name *q, T *dst, uint64_t n, uint64_t dl, ak_cancel *c)                       \
	{                                                                                     \
		return _ak_ring_slot_pop_wait_n(q ? &q->ring : NULL, dst, n, dl, c, sizeof(T), \
						_AK_RING_SLOT_STRIDE(sizeof(T)));             \
	}                                                                                     \
	AK_UNUSED static inline ak_status name##_reserve_spsc(name *q, uint64_t n,            \
							      ak_ring_slot_zc *zc)            \
	{                                                                                     \
		return _ak_ring_slot_reserve(q ? &q->ring : NULL, n, zc);                     \
	}                                                                                     \
	AK_UNUSED static inline ak_status name##_commit_spsc(name *q, const ak_ring_slot_zc *zc) \
	{                                                                                     \
		return _ak_ring_slot_commit(q ? &q->ring : NULL, zc);                         \
	}                                                                                     \
	AK_UNUSED static inline ak_status name##_peek_spsc(name *q, uint64_t n,               \
							   ak_ring_slot_zc *zc)               \
	{                                                                                     \
		return _ak_ring_slot_peek(q ? &q->ring : NULL, n, zc);                        \
	}                                                                                     \
	AK_UNUSED static inline ak_status name##_release_spsc(name *q,                        \
							      const ak_ring_slot_zc *zc)      \
	{                                                                                     \
		return _ak_ring_slot_release_zc(q ? &q->ring : NULL, zc);                     \
	}                                                                                     \
	AK_UNUSED static inline T *name##_zc_elem(const ak_ring_slot_zc *zc, uint64_t i)      \
	{                                                                                     \
		return (T *)ak_ring_slot_zc_elem(zc, i);                                      \
	}                                                                                     \
	AK_UNUSED static inline ak_status name##_close(name *q)                               \
	{                                                                                     \
		return ak_ring_slot_close(q ? &q->ring : NULL);                               \
	}                                                                                     \
	AK_UNUSED static inline ak_ring_slot *name##_ring(name *q)                            \
	{                                                                                     \
		return q ? &q->ring : NULL;                                                   \
	}                                                                                     \
	AK_UNUSED static inline uint64_t name##_size(const name *q)                           \
	{                                                                                     \
		return q ? ak_ring_slot_size(&q->ring) : 0;                                   \
	}                                                                                     \
	AK_UNUSED static inline uint64_t name##_capacity(const name *q)                       \
	{                                                                                     \
		return q ? ak_ring_slot_capacity(&q->ring) : 0;                               \
	}                                                                                     \
	AK_UNUSED static inline bool name##_empty(const name *q)                              \
	{                                                                                     \
		return !q || ak_ring_slot_empty(&q->ring);                                    \
	}                                                                                     \
	AK_UNUSED static inline bool name##_full(const name *q)                               \
	{                                                                                     \
		return q && ak_ring_slot_full(&q->ring);                                      \
	}                                                                                     \
	AK_STATIC_ASSERT(sizeof(name) == sizeof(ak_ring_slot), #name " adds nothing")

AK_END_DECLS

#endif /* ATOMKIT_RING_SLOT_H */
