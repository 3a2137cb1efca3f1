/*
 * atomkit/internal/ring_wait.h - the sleeper and close state shared by the
 * ring families that block with gates (ak_ring, ak_ring_slot).
 *
 * Not API.  The out-of-line half (sleeping, waking, close, membarrier) is
 * src/ring_wait.c.
 *
 * Each side of a ring has a `gate` word on its own cache line, which the
 * side reads right after the store that publishes its progress: 0 on the
 * fast path; otherwise _AK_RING_GATE_* bits (fenced ring, close begun) plus
 * _AK_RING_GATE_WAITER per thread of the other side registered to sleep.
 */
#ifndef ATOMKIT_INTERNAL_RING_WAIT_H
#define ATOMKIT_INTERNAL_RING_WAIT_H

#include <stdint.h>

#include "compiler.h"
#include "fence.h"

AK_BEGIN_DECLS

#define _AK_RING_GATE_FENCED 0x1u /* constant: index stores need a real fence */
#define _AK_RING_GATE_CLOSED 0x2u /* producer gate only: close has begun */
#define _AK_RING_GATE_WAITER 0x4u /* one sleeper waiting for this side to move */

#define _AK_RING_OPEN 0u
#define _AK_RING_CLOSING 1u
#define _AK_RING_SEALED 2u

/* Blocking and close: written only on slow paths. */
struct _ak_ring_wait {
	_Atomic(uint32_t) closed;    /* 0 open, 1 closing, 2 sealed */
	_Atomic(uint32_t) data_seq;  /* futex: consumers wait for data here */
	_Atomic(uint32_t) space_seq; /* futex: producers wait for space here */
	_Atomic(uint32_t) data_sleepers;  /* registered consumers entering or in futex_wait */
	_Atomic(uint32_t) space_sleepers; /* the same for producers */
	uint32_t pad_;
	_Atomic(uint64_t) close_pos; /* producer position frozen by close */
	_Atomic(uint64_t) syscalls;  /* futex + membarrier calls made */
	_Atomic(uint64_t) sc_waits;  /* of which: by waits that found the ring empty/full */
	_Atomic(uint64_t) sc_wakes;  /* wakes that woke a sleeper */
	_Atomic(uint64_t) sc_spare;  /* wakes that found nobody asleep */
	/* Metered polling before a sleep (src/ring_wait.c, "polling"): the
	 * longest a wait polls past its fixed spin, ns (0: not at all), and
	 * per direction ([0] space waits, [1] data waits) the meter's virtual
	 * time.  Hints, read and written on slow paths only. */
	_Atomic(uint64_t) spin_max;
	_Atomic(uint64_t) spin_vt[2];
	_Atomic(uint64_t) polled; /* waits that became ready while polling past the fixed spin */
	_Atomic(uint64_t) close_fallbacks; /* closes whose membarrier failed (see close_barrier()) */
};

AK_STATIC_ASSERT(sizeof(struct _ak_ring_wait) <= AK_DESTRUCTIVE_SIZE,
		 "the wait state fits the destructive unit the rings give it");

/* A wait polls past its fixed spin for at most 1/_AK_RING_SPIN_SHARE of the
 * time (per ring and direction), and for at most spin_max at a stretch. */
#define _AK_RING_SPIN_SHARE 16u

/* System calls by cause, for ak_ring_syscalls_split() and
 * ak_ring_slot_syscalls_split() (public; documented in atomkit/ring.h). */
typedef struct ak_ring_syscall_split {
	uint64_t total, waits, wakes, spare;
	uint64_t polled; /* not a system call: waits that found the ring empty
			  * (full) after the fixed spin and then became ready
			  * while polling (the ring moved, or was closed), so
			  * never registered to sleep */
} ak_ring_syscall_split;

/* Default and largest accepted longest metered poll of a _wait, ns
 * (ak_ring_set_wait_spin(), ak_ring_slot_set_wait_spin()). */
#define AK_RING_WAIT_SPIN_DEFAULT 4000000u
#define AK_RING_WAIT_SPIN_LIMIT 1000000000u

/*
 * Read a side's gate after an index store, with store->load ordering
 * between the two: Dekker against a sleeper (or the closer) that updates the
 * gate with a seq_cst RMW and then re-reads the index.  In a private ring,
 * the sleeper/closer runs membarrier(), which orders every running thread of
 * the process, so the fast path only has to keep the compiler from swapping
 * the store and the load: an empty asm that "reads" the stored index and
 * "writes" the gate (narrower than a full memory clobber, so the ring's
 * read-only fields stay in registers).  A shared ring (or a kernel without
 * membarrier) has _AK_RING_GATE_FENCED set for good: it takes the branch
 * every time, fences and reads the gate again.  Returns the gate without the
 * FENCED bit, so 0 means nothing to do; the fast path is one load and a
 * branch.
 */
AK_INLINE uint32_t _ak_ring_gate(const _Atomic(uint64_t) *stored, _Atomic(uint32_t) *gate)
{
	uint32_t g;
	__asm__ __volatile__(""
			     : "+m"(*(uint32_t *)(uintptr_t)gate)
			     : "m"(*(const uint64_t *)(uintptr_t)stored));
	/* Relaxed: ordered after the index store by the line above plus the
	 * other side's membarrier; pairs with the seq_cst RMWs of the gate in
	 * _ak_ring_sleep() and _ak_ring_close_gated() (Dekker).  Compared in
	 * place; the value is read again below only when it is not 0. */
	if (AK_LIKELY(atomic_load_explicit(gate, memory_order_relaxed) == 0))
		return 0;
	/* Relaxed: as above (a later read of the same word). */
	g = atomic_load_explicit(gate, memory_order_relaxed);
	if (g & _AK_RING_GATE_FENCED) {
		_ak_fence_seq_cst(gate);
		/* Relaxed after the seq_cst fence: pairs with the same seq_cst
		 * RMWs (fence-based Dekker). */
		g = atomic_load_explicit(gate, memory_order_relaxed);
	}
	return g & ~_AK_RING_GATE_FENCED;
}

AK_END_DECLS

#endif /* ATOMKIT_INTERNAL_RING_WAIT_H */
