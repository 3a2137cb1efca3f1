/*
 * Out-of-line parts of ak_ring_slot: sizing and init (the operations are
 * inline in include/atomkit/ring_slot.h).
 */
#include <atomkit/ring_slot.h>

#include <stdint.h>
#include <string.h>

#include "ring_layout.h"

size_t ak_ring_slot_memsize(uint64_t capacity, size_t elem_size)
{
	if (capacity == 0 || elem_size == 0 || capacity > AK_RING_SLOT_MAX_CAPACITY ||
	    elem_size > SIZE_MAX - 16)
		return 0;
	uint64_t slots = _ak_ring_slots_for(capacity), stride = _AK_RING_SLOT_STRIDE(elem_size);
	if (slots > SIZE_MAX / stride)
		return 0;
	return (size_t)(slots * stride);
}

ak_status _ak_ring_slot_init_at(ak_ring_slot *r, void *storage, size_t storage_size,
				uint64_t capacity, size_t elem_size, unsigned flags,
				uint64_t start)
{
	/* The alignment test comes before anything reads or writes *r: a
	 * control block below its alignment makes every atomic access
	 * misaligned. */
	if (!r || !storage || capacity == 0 || elem_size == 0 || flags != 0)
		return AK_EINVAL;
	if ((uintptr_t)r % _Alignof(ak_ring_slot) != 0 || (uintptr_t)storage % 8 != 0)
		return AK_EINVAL;
	if (capacity > AK_RING_SLOT_MAX_CAPACITY)
		return AK_E2BIG;
	size_t need = ak_ring_slot_memsize(capacity, elem_size);
	if (need == 0)
		return AK_E2BIG;
	if (storage_size < need)
		return AK_EINVAL;
	/* Slot words written over cfg or the indices (or the reverse) would
	 * corrupt the ring: [storage, storage + need) must miss [r, r + 1). */
	if (_ak_ring_overlaps((uintptr_t)storage, need, (uintptr_t)r, sizeof(*r)))
		return AK_EINVAL;

	memset(r, 0, sizeof(*r));
	uint64_t slots = _ak_ring_slots_for(capacity);
	r->cfg.capacity = capacity;
	r->cfg.mask = slots - 1;
	r->cfg.elem_size = elem_size;
	r->cfg.stride = _AK_RING_SLOT_STRIDE(elem_size);
	r->cfg.data_off = (int64_t)((uintptr_t)storage - (uintptr_t)r);
	/* The word of the slot that position p uses first holds p: "nothing
	 * published from p yet" (a word publishes only values above its
	 * position).  Later laps find the word of an earlier batch, which
	 * ends at most `capacity` <= `slots` past its start, so it too reads
	 * as not yet published. */
	for (uint64_t p = start; p != start + slots; p++)
		atomic_store_explicit(_ak_ring_slot_word((char *)storage +
							 (size_t)(p & r->cfg.mask) * r->cfg.stride),
				      p, memory_order_relaxed);
	atomic_store_explicit(&r->prod.head, start, memory_order_relaxed);
	r->prod.limit = start + capacity;
	r->cons.head = start;
	r->cons.cache = start;
	atomic_store_explicit(&r->tail, start, memory_order_relaxed);
	return AK_OK;
}

ak_status ak_ring_slot_init(ak_ring_slot *r, void *storage, size_t storage_size,
			    uint64_t capacity, size_t elem_size, unsigned flags)
{
	return _ak_ring_slot_init_at(r, storage, storage_size, capacity, elem_size, flags, 0);
}
