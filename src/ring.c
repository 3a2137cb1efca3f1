/*
 * Out-of-line parts of the ring family: init, close, and the slow paths
 * (sleeping, waking, waiting for an earlier MP commit).  The hot paths are
 * static inline in include/atomkit/ring.h; the sleeper protocol itself is
 * shared with ak_ring_slot in src/ring_wait.c.
 */
#include <string.h>

#include <atomkit/clock.h>
#include <atomkit/internal/futex.h>
#include <atomkit/ring.h>

#include "membarrier.h"
#include "ring_layout.h"
#include "ring_wait.h"

static int ring_ready(void *ring, int for_data, uint64_t n);

/* The shared sleeper's view of this ring. */
static struct _ak_ring_waitset waitset(ak_ring *r)
{
	return _ak_ring_waitset_of(r, &r->wait, &r->prod.gate, &r->cons.gate, &r->prod.head,
				   r->cfg.fenced, (r->cfg.flags & AK_RING_SHARED) != 0, ring_ready);
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
	r->cfg.fenced = (flags & AK_RING_SHARED) || !_ak_membarrier_ready();
	r->cfg.magic = _AK_RING_MAGIC;
	atomic_store_explicit(&r->prod.head, start, memory_order_relaxed);
	atomic_store_explicit(&r->prod.tail, start, memory_order_relaxed);
	atomic_store_explicit(&r->prod.cache, start + capacity, memory_order_relaxed);
	atomic_store_explicit(&r->cons.head, start, memory_order_relaxed);
	atomic_store_explicit(&r->cons.tail, start, memory_order_relaxed);
	atomic_store_explicit(&r->cons.cache, start, memory_order_relaxed);
	_ak_ring_wait_init(&r->wait, &r->prod.gate, &r->cons.gate, r->cfg.fenced, start);
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
	_ak_ring_read_split(&r->wait, out);
	return AK_OK;
}

void _ak_ring_commit_wait(_Atomic(uint64_t) *tail, uint64_t pos)
{
	unsigned spins = 0;
	/* Acquire pairs with the release store of the tail by the thread
	 * committing just before us, so our own release carries its writes. */
	while (atomic_load_explicit(tail, memory_order_acquire) != pos)
		_ak_ring_pause(&spins);
}

/* ---- close ------------------------------------------------------------ */

/*
 * A producer reserved [pos, pos + n) and then saw the ring closing.  The
 * closer froze close_pos at the producer head it saw: reservations below it
 * happened before the close and must complete; the others fail.
 */
ak_status _ak_ring_prod_closed(ak_ring *r, uint64_t pos, uint64_t n, int mp)
{
	return _ak_ring_closed_check(&r->wait, &r->prod.head, pos, n, !mp);
}

/*
 * A producer found close begun before reserving anything (MP: `closed` not
 * open at entry; any mode: a full ring and `closed` not open): wait until
 * close has frozen close_pos; the caller then returns AK_ECLOSED, so that no later push of this
 * producer is counted by a close still reading the head (see
 * _ak_ring_refuse()).
 */
void _ak_ring_prod_refuse(ak_ring *r)
{
	(void)_ak_ring_refuse(&r->wait); /* AK_ECLOSED: the caller returns it */
}

void _ak_ring_notify(ak_ring *r, _Atomic(uint32_t) *seq)
{
	struct _ak_ring_waitset ws = waitset(r);
	_ak_ring_wake(&ws, seq);
}

ak_status ak_ring_set_wait_spin(ak_ring *r, uint64_t max_ns)
{
	if (!r || r->cfg.magic != _AK_RING_MAGIC)
		return AK_EINVAL;
	return _ak_ring_set_spin(&r->wait, max_ns);
}

ak_status ak_ring_close(ak_ring *r)
{
	if (!r || r->cfg.magic != _AK_RING_MAGIC)
		return AK_EINVAL;
	struct _ak_ring_waitset ws = waitset(r);
	return _ak_ring_close_gated(&ws);
}

/* ---- sleeping ----------------------------------------------------------- */

/* The waiter's re-check (see _AK_RING_READY and friends in ring_wait.h). */
static int ring_ready(void *ring, int for_data, uint64_t n)
{
	ak_ring *r = (ak_ring *)ring;
	if (for_data) {
		/* seq_cst loads: the re-check half of the Dekker handshakes;
		 * they pair with the notifier's index store + barrier + gate
		 * load in _ak_ring_prod_end() (and close's RMW, inside
		 * _ak_ring_close_ready()). */
		uint64_t h = atomic_load_explicit(&r->cons.head, memory_order_seq_cst);
		if (_ak_ring_close_ready(&r->wait, 1, h, n) == _AK_RING_READY)
			return _AK_RING_READY;
		/* seq_cst: pairs with the release store of prod.tail in
		 * _ak_ring_publish() (and the Dekker pair above). */
		uint64_t p = atomic_load_explicit(&r->prod.tail, memory_order_seq_cst);
		if (p - h >= n && p - h <= r->cfg.capacity)
			return _AK_RING_READY;
		/* seq_cst, after the tail: pairs with the producer's reservation
		 * store + gate read in _ak_ring_prod_begin_g() (the re-check half
		 * of that Dekker).  A copying push reads the gate only
		 * there, so one whose reservation we see but whose publication
		 * we did not (head != the tail read above) may have missed our
		 * registration and will not wake us: poll.  One whose
		 * reservation we do not see will see our registration. */
		if (atomic_load_explicit(&r->prod.head, memory_order_seq_cst) != p)
			return _AK_RING_IN_FLIGHT;
		return _AK_RING_NOT_READY;
	}
	if (_ak_ring_close_ready(&r->wait, 0, 0, n) == _AK_RING_READY)
		return _AK_RING_READY;
	/* seq_cst: the space waiter's re-check; pairs with the consumer's
	 * cons.tail store + barrier + gate load in _ak_ring_cons_end(). */
	uint64_t c = atomic_load_explicit(&r->cons.tail, memory_order_seq_cst);
	uint64_t h = atomic_load_explicit(&r->prod.head, memory_order_seq_cst);
	uint64_t used = h - c;
	return used <= r->cfg.capacity && r->cfg.capacity - used >= n ? _AK_RING_READY
								       : _AK_RING_NOT_READY;
}

ak_status _ak_ring_wait_for(ak_ring *r, int for_data, uint64_t n, int multi,
			    uint64_t deadline_ns, ak_cancel *cancel)
{
	(void)multi;
	if (!r || r->cfg.magic != _AK_RING_MAGIC)
		return AK_EINVAL;
	struct _ak_ring_waitset ws = waitset(r);
	return _ak_ring_sleep(&ws, for_data, n, deadline_ns, cancel);
}
