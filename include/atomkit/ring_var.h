/*
 * atomkit/ring_var.h - variable-length records in an SPSC ring.
 *
 * Overview
 *   `ak_ring_var` carries records of any length from one producer thread to
 *   one consumer thread.  Each record is contiguous in memory: an 8-byte
 *   header (length) followed by the payload, rounded up to 8 bytes.  A record
 *   that would straddle the end of the storage is placed at the start
 *   instead, behind a padding record the consumer skips.  So both sides can
 *   work in place:
 *       producer   reserve(len) -> pointer; write; commit(actual_len <= len)
 *       consumer   peek -> pointer + length; read; release
 *   push/pop copy for convenience; _wait forms block (futex), with deadline,
 *   cancel and close, exactly as in atomkit/ring.h (it is built on ak_ring).
 *
 * Contract
 *   - Capacity is given in bytes (rounded up to a multiple of 8, at least
 *     16); headers and padding count against it.  The largest record is
 *     ak_ring_var_max_record() bytes, about half the capacity, so that a
 *     record always fits once the ring drains; longer ones get AK_E2BIG.
 *   - One reservation at a time: a second reserve before commit is AK_ESTATE;
 *     commit without a reservation, or with more bytes than reserved, too.
 *     A reservation that is never committed blocks the producer side.
 *   - peek returns the same record until release; pop into a buffer that is
 *     too small returns AK_ERANGE with the needed length and leaves the
 *     record in the ring.  Payloads are 8-byte aligned.
 *   - Close: commits of a reservation made before close still deliver;
 *     consumers drain, then get AK_ECLOSED.  AK_RING_SHARED works as for
 *     ak_ring (control block and storage in one mapping).
 *
 * Progress
 *   Wait-free on both sides except the _wait calls, which block.
 *
 * Example
 *     void *p;
 *     if (ak_ring_var_reserve_spsc(&q, 200, &p) == AK_OK) {
 *         size_t n = format_message(p, 200);
 *         ak_ring_var_commit_spsc(&q, n);
 *     }
 *     const void *m; size_t len;
 *     if (ak_ring_var_peek_spsc(&q, &m, &len) == AK_OK) {
 *         handle(m, len);
 *         ak_ring_var_release_spsc(&q);
 *     }
 */
#ifndef ATOMKIT_RING_VAR_H
#define ATOMKIT_RING_VAR_H

#include "ring.h"

AK_BEGIN_DECLS

typedef struct ak_ring_var {
	ak_ring ring; /* of 8-byte units */
} ak_ring_var;

/* One unit: the record header, and the granule payloads are rounded to. */
struct _ak_ring_var_hdr {
	uint32_t len;  /* record: payload bytes; padding: units it covers */
	uint32_t kind; /* _AK_RING_VAR_REC or _AK_RING_VAR_PAD */
};
AK_STATIC_ASSERT(sizeof(struct _ak_ring_var_hdr) == 8, "a header is one unit");

#define _AK_RING_VAR_REC 0x52454331u /* "REC1" */
#define _AK_RING_VAR_PAD 0x50414431u /* "PAD1" */
#define _AK_RING_VAR_RSV 0x52535631u /* "RSV1": reserved, not committed */

AK_INLINE uint64_t _ak_ring_var_units(uint64_t bytes)
{
	return (bytes + 7) / 8;
}

/* Largest record-ring capacity in bytes (headers hold 32-bit counts). */
#define AK_RING_VAR_MAX_BYTES (UINT64_C(0xffffffff) * 8)

/* Storage bytes for a record ring of `bytes` capacity; 0 if invalid
 * (below 16 or above AK_RING_VAR_MAX_BYTES). */
AK_INLINE size_t ak_ring_var_memsize(uint64_t bytes)
{
	if (bytes < 16 || bytes > AK_RING_VAR_MAX_BYTES)
		return 0;
	return ak_ring_memsize(_ak_ring_var_units(bytes), 8);
}

/* Initialise over caller storage (8-byte aligned, ak_ring_var_memsize()
 * bytes).  AK_EINVAL for NULL, v not aligned to _Alignof(ak_ring_var) (128),
 * misaligned or short storage, storage overlapping *v, bytes < 16, unknown
 * flags; AK_E2BIG for a capacity that does not fit. */
AK_INLINE ak_status ak_ring_var_init(ak_ring_var *v, void *storage, size_t storage_size,
				     uint64_t bytes, unsigned flags)
{
	if (!v || bytes < 16)
		return AK_EINVAL;
	if (bytes > AK_RING_VAR_MAX_BYTES)
		return AK_E2BIG;
	/* a cast, not &v->ring: ak_ring_init checks v's alignment first */
	return ak_ring_init((ak_ring *)(void *)v, storage, storage_size, _ak_ring_var_units(bytes),
			    8, flags);
}

/* Longest payload accepted (bytes). */
AK_INLINE size_t ak_ring_var_max_record(const ak_ring_var *v)
{
	if (!v)
		return 0;
	/* A record of u units (header included) needs, in the worst case,
	 * u - 1 units of padding before it: 2u - 1 <= capacity. */
	uint64_t u = (v->ring.cfg.capacity + 1) / 2;
	uint64_t max = u >= 1 ? (u - 1) * 8 : 0;
	return (size_t)(max > UINT32_MAX - 7 ? UINT32_MAX - 7 : max);
}

/* Bytes in use (records, headers, padding): 0..capacity, exact when quiescent. */
AK_INLINE uint64_t ak_ring_var_bytes_used(const ak_ring_var *v)
{
	return v ? ak_ring_size(&v->ring) * 8 : 0;
}

AK_INLINE ak_status ak_ring_var_close(ak_ring_var *v)
{
	return ak_ring_close(v ? &v->ring : NULL);
}

/* As ak_ring_set_wait_spin(), for the record ring's _wait forms. */
AK_INLINE ak_status ak_ring_var_set_wait_spin(ak_ring_var *v, uint64_t max_ns)
{
	return ak_ring_set_wait_spin(v ? &v->ring : NULL, max_ns);
}

/* Units a record with `len` payload bytes occupies, and the padding needed
 * before it when placed at `pos`. */
AK_INLINE void _ak_ring_var_plan(const ak_ring *r, uint64_t pos, size_t len, uint64_t *units,
				 uint64_t *pad)
{
	uint64_t u = 1 + _ak_ring_var_units(len);
	uint64_t contig = r->cfg.mask + 1 - (pos & r->cfg.mask);
	*units = u;
	*pad = u > contig ? contig : 0;
}

/*
 * Reserve room for a record of up to `len` bytes; *out gets the payload
 * address.  AK_OK, AK_EFULL, AK_E2BIG (len > max_record), AK_ECLOSED,
 * AK_ESTATE (a reservation is pending), AK_EINVAL.  Producer thread only.
 */
AK_INLINE ak_status ak_ring_var_reserve_spsc(ak_ring_var *v, size_t len, void **out)
{
	uint64_t pos, got, units, pad;
	ak_status st;

	if (!v || !out) /* plain test: cppcheck misreads it through AK_UNLIKELY */
		return AK_EINVAL;
	*out = NULL;
	if (AK_UNLIKELY(len > ak_ring_var_max_record(v)))
		return AK_E2BIG;
	ak_ring *r = &v->ring;
	uint64_t tail = atomic_load_explicit(&r->prod.tail, memory_order_relaxed);
	if (AK_UNLIKELY(atomic_load_explicit(&r->prod.head, memory_order_relaxed) != tail))
		return AK_ESTATE;
	_ak_ring_var_plan(r, tail, len, &units, &pad);
	st = _ak_ring_prod_begin(r, pad + units, 0, 0, &pos, &got);
	if (st != AK_OK)
		return st;
	if (pad) {
		struct _ak_ring_var_hdr h;
		h.len = (uint32_t)pad;
		h.kind = _AK_RING_VAR_PAD;
		memcpy(_ak_ring_slot(r, pos, 8), &h, 8);
	}
	/* The header slot is ours until commit: it remembers the length
	 * reserved, so commit can refuse a longer one exactly. */
	struct _ak_ring_var_hdr rh;
	rh.len = (uint32_t)len;
	rh.kind = _AK_RING_VAR_RSV;
	memcpy(_ak_ring_slot(r, pos + pad, 8), &rh, 8);
	*out = (char *)_ak_ring_slot(r, pos + pad, 8) + 8;
	return AK_OK;
}

/*
 * Publish the reserved record with its final length (<= the reserved one).
 * AK_OK; AK_ESTATE without a reservation or for a longer length; AK_EINVAL.
 */
AK_INLINE ak_status ak_ring_var_commit_spsc(ak_ring_var *v, size_t len)
{
	if (AK_UNLIKELY(!v))
		return AK_EINVAL;
	ak_ring *r = &v->ring;
	uint64_t tail = atomic_load_explicit(&r->prod.tail, memory_order_relaxed);
	uint64_t head = atomic_load_explicit(&r->prod.head, memory_order_relaxed);
	uint64_t units, pad;
	if (AK_UNLIKELY(head == tail))
		return AK_ESTATE;
	/* Longer than any reservation can be; also keeps the unit count
	 * below from wrapping for a len near SIZE_MAX. */
	if (AK_UNLIKELY(len > ak_ring_var_max_record(v)))
		return AK_ESTATE;
	/* Did reserve put padding first?  Only then does the reservation
	 * reach past the end of the storage. */
	uint64_t contig = r->cfg.mask + 1 - (tail & r->cfg.mask);
	units = 1 + _ak_ring_var_units(len);
	pad = head - tail > contig ? contig : 0;
	if (AK_UNLIKELY(pad + units > head - tail))
		return AK_ESTATE;
	struct _ak_ring_var_hdr h;
	memcpy(&h, _ak_ring_slot(r, tail + pad, 8), 8);
	if (AK_UNLIKELY(h.kind != _AK_RING_VAR_RSV || len > h.len))
		return AK_ESTATE; /* longer than reserved (not just its rounding) */
	h.len = (uint32_t)len;
	h.kind = _AK_RING_VAR_REC;
	memcpy(_ak_ring_slot(r, tail + pad, 8), &h, 8);
	/* Shrink the reservation to what is used (single producer: ours). */
	atomic_store_explicit(&r->prod.head, tail + pad + units, memory_order_relaxed);
	_ak_ring_prod_end(r, tail, pad + units, 0);
	return AK_OK;
}

/* Copy a record in.  Same statuses as reserve. */
AK_INLINE ak_status ak_ring_var_push_spsc(ak_ring_var *v, const void *data, size_t len)
{
	void *p;
	if (AK_UNLIKELY(!data && len))
		return AK_EINVAL;
	ak_status st = ak_ring_var_reserve_spsc(v, len, &p);
	if (st != AK_OK)
		return st;
	if (len)
		memcpy(p, data, len);
	return ak_ring_var_commit_spsc(v, len);
}

/*
 * Look at the oldest record in place: *data, *len.  AK_OK, AK_EEMPTY,
 * AK_ECLOSED (closed and drained), AK_EINVAL.  Consumer thread only; the
 * record stays until ak_ring_var_release_spsc().
 */
AK_INLINE ak_status ak_ring_var_peek_spsc(ak_ring_var *v, const void **data, size_t *len)
{
	if (AK_UNLIKELY(!v || !data || !len))
		return AK_EINVAL;
	ak_ring *r = &v->ring;
	uint64_t tail = atomic_load_explicit(&r->cons.tail, memory_order_relaxed);
	uint64_t pos = tail, got;
	for (;;) {
		struct _ak_ring_var_hdr h;
		/* Position pos must be published: claim one unit from pos. */
		atomic_store_explicit(&r->cons.head, pos, memory_order_relaxed);
		ak_status st = _ak_ring_cons_begin(r, 1, 0, 0, &pos, &got);
		if (st != AK_OK) {
			/* nothing past the padding yet: forget the claim */
			atomic_store_explicit(&r->cons.head, tail, memory_order_relaxed);
			return st;
		}
		memcpy(&h, _ak_ring_slot(r, pos, 8), 8);
		if (h.kind == _AK_RING_VAR_PAD) {
			pos += h.len;
			continue;
		}
		/* A record is published whole, so its payload is here too. */
		atomic_store_explicit(&r->cons.head, pos + 1 + _ak_ring_var_units(h.len),
				      memory_order_relaxed);
		*data = (const char *)_ak_ring_slot(r, pos, 8) + 8;
		*len = h.len;
		return AK_OK;
	}
}

/* Drop the record returned by peek (and any padding before it).  AK_OK;
 * AK_ESTATE if nothing was peeked; AK_EINVAL. */
AK_INLINE ak_status ak_ring_var_release_spsc(ak_ring_var *v)
{
	if (AK_UNLIKELY(!v))
		return AK_EINVAL;
	ak_ring *r = &v->ring;
	uint64_t tail = atomic_load_explicit(&r->cons.tail, memory_order_relaxed);
	uint64_t head = atomic_load_explicit(&r->cons.head, memory_order_relaxed);
	if (AK_UNLIKELY(head == tail))
		return AK_ESTATE;
	_ak_ring_cons_end(r, tail, head - tail, 0);
	return AK_OK;
}

/*
 * Copy the oldest record into buf (cap bytes); *len gets its length.
 * AK_OK; AK_ERANGE if cap < *len (the record stays); AK_EEMPTY; AK_ECLOSED;
 * AK_EINVAL.
 */
AK_INLINE ak_status ak_ring_var_pop_spsc(ak_ring_var *v, void *buf, size_t cap, size_t *len)
{
	const void *p;
	size_t n;
	if (AK_UNLIKELY(!len || (!buf && cap)))
		return AK_EINVAL;
	ak_status st = ak_ring_var_peek_spsc(v, &p, &n);
	if (st != AK_OK)
		return st;
	*len = n;
	if (n > cap) {
		/* leave it for a bigger buffer */
		atomic_store_explicit(&v->ring.cons.head,
				      atomic_load_explicit(&v->ring.cons.tail, memory_order_relaxed),
				      memory_order_relaxed);
		return AK_ERANGE;
	}
	if (n)
		memcpy(buf, p, n);
	return ak_ring_var_release_spsc(v);
}

/* Blocking push: waits for room.  Adds AK_ETIMEDOUT and AK_ECANCELED. */
AK_INLINE ak_status ak_ring_var_push_wait_spsc(ak_ring_var *v, const void *data, size_t len,
					       uint64_t deadline_ns, ak_cancel *cancel)
{
	for (;;) {
		ak_status st = ak_ring_var_push_spsc(v, data, len);
		if (st != AK_EFULL)
			return st;
		uint64_t units, pad;
		_ak_ring_var_plan(&v->ring, atomic_load_explicit(&v->ring.prod.tail,
								 memory_order_relaxed),
				  len, &units, &pad);
		st = _ak_ring_wait_for(&v->ring, 0, units + pad, 0, deadline_ns, cancel);
		if (st != AK_OK)
			return st;
	}
}

/* Blocking pop: waits for a record.  Adds AK_ETIMEDOUT and AK_ECANCELED. */
AK_INLINE ak_status ak_ring_var_pop_wait_spsc(ak_ring_var *v, void *buf, size_t cap, size_t *len,
					      uint64_t deadline_ns, ak_cancel *cancel)
{
	for (;;) {
		ak_status st = ak_ring_var_pop_spsc(v, buf, cap, len);
		if (st != AK_EEMPTY)
			return st;
		/* Wait for one unit past what we have seen (the padding, if
		 * any, is published together with the record after it). */
		st = _ak_ring_wait_for(&v->ring, 1, 1, 0, deadline_ns, cancel);
		if (st != AK_OK)
			return st;
	}
}

AK_END_DECLS

#endif /* ATOMKIT_RING_VAR_H */
