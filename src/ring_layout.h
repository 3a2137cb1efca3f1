/*
 * Sizing and placement helpers shared by the ring families' init code
 * (src/ring.c, src/ring_seq.c, src/ring_slot.c).  Private to src/.
 */
#ifndef ATOMKIT_SRC_RING_LAYOUT_H
#define ATOMKIT_SRC_RING_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

/* The power of two of slots that holds `capacity` elements. */
static inline uint64_t _ak_ring_slots_for(uint64_t capacity)
{
	uint64_t s = 1;
	while (s < capacity)
		s <<= 1;
	return s;
}

/* Do [a, a + an) and [b, b + bn) share a byte?  (No sum that could wrap.) */
static inline int _ak_ring_overlaps(uintptr_t a, size_t an, uintptr_t b, size_t bn)
{
	return a < b ? b - a < an : a - b < bn;
}

#endif /* ATOMKIT_SRC_RING_LAYOUT_H */
