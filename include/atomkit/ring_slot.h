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
 *       size / empty / full / capacity
 *   AK_RING_SLOT_DEFINE(name, T) generates a type-safe front end whose
 *   copies are fixed-size moves.  This first version has no blocking waits,
 *   no close and no zero-copy views (use ak_ring for those).
 *
 * Contract
 *   - Capacity: any value from 1 to AK_RING_SLOT_MAX_CAPACITY, all of it
 *     usable.  Storage is a power of two of slots (>= capacity), each slot
 *     8 bytes of word plus the element rounded up to 8 bytes;
 *     ak_ring_slot_memsize() says how many bytes.  Init writes every word,
 *     so it takes time proportional to the storage.
 *   - Storage: the caller's, validated by init (non-NULL, 8-byte aligned,
 *     large enough).  The ring records it as an offset from the control
 *     block, so a ring whose control block and storage lie in one shared
 *     mapping works in every process that maps it, at any address.
 *   - FIFO, exactly once: elements leave in the order they were pushed.
 *   - size/empty/full: 0 <= size <= capacity always; exact when no push or
 *     pop is in flight; otherwise a snapshot that may be stale.
 *   - Errors are values and leave the ring unchanged: NULL ring or buffer
 *     AK_EINVAL; a bulk larger than the capacity AK_E2BIG; a full (empty)
 *     ring AK_EFULL (AK_EEMPTY).  No call allocates, locks, or makes a
 *     system call.
 *   - Words are free-running 64-bit positions: a word never takes the same
 *     value twice in 2^64 pushes, so there is no ABA and nothing to clear.
 *
 * Progress
 *   Both sides wait-free: a push is a bounded number of steps; a pop or
 *   burst reads at most one word per batch it takes (at most n words).
 *
 * Example
 *     AK_RING_SLOT_DEFINE(u64q, uint64_t);
 *     static unsigned char mem[1024 * 16];   // u64q_memsize(1000) bytes
 *     u64q q;
 *     u64q_init(&q, mem, sizeof mem, 1000);
 *     u64q_push_spsc(&q, 42);                // producer thread
 *     uint64_t v;
 *     if (u64q_pop_spsc(&q, &v) == AK_OK)    // consumer thread
 *             use(v);
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
#include "status.h"

AK_BEGIN_DECLS

/* Largest capacity (elements) accepted by init: keeps every difference of
 * two live positions far below 2^63, so signed comparisons are exact. */
#define AK_RING_SLOT_MAX_CAPACITY (UINT64_C(1) << 62)

/* Bytes of one slot for elements of `esz` bytes: the word, then the element
 * rounded up to 8 bytes (so every word is 8-byte aligned). */
#define _AK_RING_SLOT_STRIDE(esz) ((uint64_t)8 + (((uint64_t)(esz) + 7) & ~(uint64_t)7))

/* Read-only after init. */
struct _ak_ring_slot_cfg {
	uint64_t capacity;  /* usable elements */
	uint64_t mask;      /* storage slots - 1 */
	uint64_t elem_size; /* bytes per element */
	uint64_t stride;    /* bytes per slot: _AK_RING_SLOT_STRIDE(elem_size) */
	int64_t data_off;   /* storage address minus control block address */
};

/*
 * Four destructive units.  `prod` and `cons` are each read and written by
 * one side only (size() reads prod.head), so they stay in their side's
 * cache.  `tail` is the one index the other side reads: the producer, when
 * its cached limit says full.  There is no producer index the consumer
 * reads: the slots' words take its place.
 */
typedef struct ak_ring_slot {
	AK_CACHE_ALIGNED struct _ak_ring_slot_cfg cfg;
	AK_CACHE_ALIGNED struct {
		_Atomic(uint64_t) head; /* next position to write (size() reads it) */
		uint64_t limit;         /* tail + capacity as last read: end of the free space */
	} prod;
	AK_CACHE_ALIGNED struct {
		uint64_t head;  /* next position to read */
		uint64_t cache; /* published up to here, as last read from a word */
	} cons;
	AK_CACHE_ALIGNED _Atomic(uint64_t) tail; /* consumer: released up to here */
} ak_ring_slot;

AK_ASSERT_PADDED(ak_ring_slot);
AK_STATIC_ASSERT(sizeof(ak_ring_slot) == 4 * AK_DESTRUCTIVE_SIZE,
		 "config, producer, consumer and the published tail: one unit each");

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
 * NULL r/storage, storage not 8-byte aligned, capacity or elem_size 0,
 * flags other than 0, storage_size below ak_ring_slot_memsize(); AK_E2BIG
 * for a capacity above AK_RING_SLOT_MAX_CAPACITY or a size that does not fit
 * in memory.
 */
ak_status ak_ring_slot_init(ak_ring_slot *r, void *storage, size_t storage_size,
			    uint64_t capacity, size_t elem_size, unsigned flags);

/* Test hook: like ak_ring_slot_init() but positions start at `start` (to
 * test wrap-around near 2^64).  Not for production use. */
ak_status _ak_ring_slot_init_at(ak_ring_slot *r, void *storage, size_t storage_size,
				uint64_t capacity, size_t elem_size, unsigned flags,
				uint64_t start);

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

/* Producer: publish [h, h + k) after its elements were written: our own
 * head, then the batch end into the word of the batch's first slot. */
AK_INLINE void _ak_ring_slot_publish(ak_ring_slot *r, char *first_slot, uint64_t h, uint64_t k)
{
	/* Relaxed: ordered before the word by the release below, so anyone
	 * who saw the batch (the consumer, and through its tail size()) also
	 * sees this head. */
	atomic_store_explicit(&r->prod.head, h + k, memory_order_relaxed);
	/* Release pairs with the acquire loads of the word in
	 * _ak_ring_slot_pop1() and _ak_ring_slot_avail(): the batch's
	 * elements (and the head above) are written before the word shows
	 * its end. */
	atomic_store_explicit(_ak_ring_slot_word(first_slot), h + k, memory_order_release);
}

/* Consumer: hand [.., h) back to the producer after reading. */
AK_INLINE void _ak_ring_slot_release(ak_ring_slot *r, uint64_t h)
{
	r->cons.head = h;
	/* Release pairs with the acquire load of tail in _ak_ring_slot_room():
	 * our reads of the slots finish before the producer overwrites them. */
	atomic_store_explicit(&r->tail, h, memory_order_release);
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
		return AK_EFULL;
	slot = _ak_ring_slot_data(r) + (size_t)(h & r->cfg.mask) * stride;
	memcpy(slot + 8, elem, esz);
	_ak_ring_slot_publish(r, slot, h, 1);
	return AK_OK;
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
			return AK_EEMPTY;
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
			st = AK_EFULL;
		} else {
			char *first = _ak_ring_slot_data(r) + (size_t)(h & r->cfg.mask) * stride;
			_ak_ring_slot_copy(r, h, (char *)(uintptr_t)src, k, esz, stride, 1);
			_ak_ring_slot_publish(r, first, h, k);
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
			st = AK_EEMPTY;
		} else {
			_ak_ring_slot_copy(r, h, (char *)dst, k, esz, stride, 0);
			_ak_ring_slot_release(r, h + k);
		}
	}
	if (count)
		*count = k;
	return st;
}

/* ===================================================================== */
/* Public operations                                                      */
/* ===================================================================== */

/* Producer thread only.  AK_OK; AK_EFULL; AK_EINVAL (NULL).  Wait-free. */
AK_INLINE ak_status ak_ring_slot_push_spsc(ak_ring_slot *r, const void *elem)
{
	return r ? _ak_ring_slot_push1(r, elem, (size_t)r->cfg.elem_size, r->cfg.stride)
		 : AK_EINVAL;
}

/* Consumer thread only.  AK_OK; AK_EEMPTY; AK_EINVAL (NULL).  Wait-free. */
AK_INLINE ak_status ak_ring_slot_pop_spsc(ak_ring_slot *r, void *out)
{
	return r ? _ak_ring_slot_pop1(r, out, (size_t)r->cfg.elem_size, r->cfg.stride)
		 : AK_EINVAL;
}

/* Producer: all n elements or none.  AK_OK (n == 0 too); AK_EFULL; AK_E2BIG
 * (n > capacity: could never succeed); AK_EINVAL (NULL).  Wait-free. */
AK_INLINE ak_status ak_ring_slot_push_bulk_spsc(ak_ring_slot *r, const void *src, uint64_t n)
{
	return r ? _ak_ring_slot_push_n(r, src, n, 0, NULL, (size_t)r->cfg.elem_size,
					r->cfg.stride)
		 : AK_EINVAL;
}

/* Consumer: all n elements or none.  AK_OK; AK_EEMPTY; AK_E2BIG; AK_EINVAL. */
AK_INLINE ak_status ak_ring_slot_pop_bulk_spsc(ak_ring_slot *r, void *dst, uint64_t n)
{
	return r ? _ak_ring_slot_pop_n(r, dst, n, 0, NULL, (size_t)r->cfg.elem_size,
				       r->cfg.stride)
		 : AK_EINVAL;
}

/* Producer: up to n elements; *count (may be NULL) gets how many.  AK_OK
 * iff some were pushed (or n == 0); AK_EFULL when none fit; AK_EINVAL. */
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
 * taken (or n == 0); AK_EEMPTY when none; AK_EINVAL. */
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
		return q ? ak_ring_slot_init(&q->ring, storage, bytes, cap, sizeof(T), 0)      \
			 : AK_EINVAL;                                                         \
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
