/*
 * Out-of-line parts of ak_ring_slot: sizing, init, close and the slow paths
 * of blocking (the operations are inline in include/atomkit/ring_slot.h;
 * the sleeper protocol is shared with ak_ring in src/ring_wait.c).
 */
#include <atomkit/internal/futex.h>
#include <atomkit/ring_slot.h>

#include <stdint.h>
#include <string.h>

#include "membarrier.h"
#include "ring_layout.h"
#include "ring_wait.h"

static int slot_ready(void *ring, int for_data, uint64_t n);

/* The shared sleeper's view of this ring. */
static struct _ak_ring_waitset waitset(ak_ring_slot *r)
{
	return _ak_ring_waitset_of(r, &r->wait, &r->prod.gate, &r->cons.gate, &r->prod.head,
				   r->cfg.fenced, (r->cfg.flags & AK_RING_SLOT_SHARED) != 0,
				   slot_ready);
}

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
	if (!r || !storage || capacity == 0 || elem_size == 0 || (flags & ~AK_RING_SLOT_SHARED))
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
	r->cfg.flags = flags;
	/* Shared: other processes' threads are out of reach of membarrier. */
	r->cfg.fenced = (flags & AK_RING_SLOT_SHARED) || !_ak_membarrier_ready();
	r->cfg.magic = _AK_RING_SLOT_MAGIC;
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
	_ak_ring_wait_init(&r->wait, &r->prod.gate, &r->cons.gate, r->cfg.fenced, start);
	return AK_OK;
}

ak_status ak_ring_slot_init(ak_ring_slot *r, void *storage, size_t storage_size,
			    uint64_t capacity, size_t elem_size, unsigned flags)
{
	return _ak_ring_slot_init_at(r, storage, storage_size, capacity, elem_size, flags, 0);
}

uint64_t ak_ring_slot_syscalls(const ak_ring_slot *r)
{
	ak_ring_syscall_split sp;
	return ak_ring_slot_syscalls_split(r, &sp) == AK_OK ? sp.total : 0;
}

ak_status ak_ring_slot_syscalls_split(const ak_ring_slot *r, ak_ring_syscall_split *out)
{
	if (!r || !out)
		return AK_EINVAL;
	_ak_ring_read_split(&r->wait, out);
	return AK_OK;
}

ak_status ak_ring_slot_set_wait_spin(ak_ring_slot *r, uint64_t max_ns)
{
	if (!r || r->cfg.magic != _AK_RING_SLOT_MAGIC)
		return AK_EINVAL;
	return _ak_ring_set_spin(&r->wait, max_ns);
}

ak_status ak_ring_slot_close(ak_ring_slot *r)
{
	if (!r || r->cfg.magic != _AK_RING_SLOT_MAGIC)
		return AK_EINVAL;
	struct _ak_ring_waitset ws = waitset(r);
	return _ak_ring_close_gated(&ws);
}

/*
 * The publish after a gate read that was not 0: close begun (then the
 * batch lands before close only if the closer saw our head; else the head
 * goes back and nothing is published), and/or consumers registered to
 * sleep (woken after the word store), and/or a fenced ring
 * (_ak_ring_gate() fenced already: nothing more to do for it).
 */
ak_status _ak_ring_slot_publish_slow(ak_ring_slot *r, char *first_slot, uint64_t h, uint64_t k,
				     uint32_t gate)
{
	if (gate & _AK_RING_GATE_CLOSED) {
		ak_status st = _ak_ring_closed_check(&r->wait, &r->prod.head, h, k, 1);
		if (st != AK_OK)
			return st;
	}
	/* Release pairs with the acquire loads of the word in
	 * _ak_ring_slot_pop1() / _ak_ring_slot_avail() and the seq_cst ones
	 * in slot_ready(), as in _ak_ring_slot_publish(). */
	atomic_store_explicit(_ak_ring_slot_word(first_slot), h + k, memory_order_release);
	if (gate >= _AK_RING_GATE_WAITER) {
		struct _ak_ring_waitset ws = waitset(r);
		_ak_ring_wake(&ws, &r->wait.data_seq);
	}
	return AK_OK;
}

/*
 * The producer saw close begun without announcing anything: wait until
 * close has frozen close_pos (at our head, which we have not moved since),
 * so that every later push is refused too (it announces past close_pos),
 * never counted by a close still reading the head.  Shared with ak_ring.
 */
ak_status _ak_ring_slot_refuse(ak_ring_slot *r)
{
	return _ak_ring_refuse(&r->wait);
}

void _ak_ring_slot_notify_space(ak_ring_slot *r)
{
	struct _ak_ring_waitset ws = waitset(r);
	_ak_ring_wake(&ws, &r->wait.space_seq);
}

/*
 * The waiter's re-check after registering on the gate (and, in the spin
 * before, its poll).  Runs on the waiting side's own thread: the consumer
 * for data (so it may move cons.cache), the producer for space.
 */
static int slot_ready(void *ring, int for_data, uint64_t n)
{
	ak_ring_slot *r = (ak_ring_slot *)ring;
	/* cons.head / cons.cache: the consumer's own fields, read only when
	 * we are the consumer */
	uint64_t h = for_data ? r->cons.head : 0, c = for_data ? r->cons.cache : 0;
	if (_ak_ring_close_ready(&r->wait, for_data, h, n) == _AK_RING_READY)
		return _AK_RING_READY;
	if (!for_data) {
		/* seq_cst: pairs with the consumer's tail store + barrier +
		 * cons.gate load in _ak_ring_slot_release(). */
		uint64_t t = atomic_load_explicit(&r->tail, memory_order_seq_cst);
		/* Relaxed: our own head (we are the producer). */
		uint64_t ph = atomic_load_explicit(&r->prod.head, memory_order_relaxed);
		return t + r->cfg.capacity - ph >= n ? _AK_RING_READY : _AK_RING_NOT_READY;
	}
	char *base = _ak_ring_slot_data(r);
	while (c - h < n) {
		/* seq_cst: as the acquire in _ak_ring_slot_avail() (pairs with
		 * the release store of the word in _ak_ring_slot_publish()),
		 * and ordered after our registration on prod.gate. */
		uint64_t e = atomic_load_explicit(
			_ak_ring_slot_word(base + (size_t)(c & r->cfg.mask) * r->cfg.stride),
			memory_order_seq_cst);
		if ((int64_t)(e - c) <= 0)
			break;
		c = e;
	}
	r->cons.cache = c;
	if (c - h >= n)
		return _AK_RING_READY;
	/* seq_cst, after the words: pairs with the producer's head store +
	 * gate read in _ak_ring_slot_publish() (the re-check half of that
	 * Dekker).  A push reads the gate once, before its word store, so
	 * one whose announcement we see but whose word we did not (head
	 * beyond the published end c) may have missed our registration and
	 * will not wake us: poll.  One whose announcement we do not see will
	 * see our registration and wake us after its word store. */
	if (atomic_load_explicit(&r->prod.head, memory_order_seq_cst) != c)
		return _AK_RING_IN_FLIGHT;
	return _AK_RING_NOT_READY;
}

ak_status _ak_ring_slot_wait_for(ak_ring_slot *r, int for_data, uint64_t n,
				 uint64_t deadline_ns, ak_cancel *cancel)
{
	if (!r || r->cfg.magic != _AK_RING_SLOT_MAGIC)
		return AK_EINVAL;
	struct _ak_ring_waitset ws = waitset(r);
	return _ak_ring_sleep(&ws, for_data, n, deadline_ns, cancel);
}
