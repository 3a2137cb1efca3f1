/*
 * The sleeper protocol shared by the gated rings (ak_ring, ak_ring_slot):
 * waiter accounting on the gates, futex sleep and wake, close, membarrier.
 * Private to src/; the inline half is include/atomkit/internal/ring_wait.h.
 */
#ifndef ATOMKIT_SRC_RING_WAIT_H
#define ATOMKIT_SRC_RING_WAIT_H

#include <atomkit/clock.h>
#include <atomkit/internal/futex.h>
#include <atomkit/internal/ring_wait.h>
#include <atomkit/status.h>

typedef struct ak_cancel ak_cancel;

/* ready(): the waiter's operation can make progress (or must return); it
 * cannot; or it cannot yet, but a publish is in flight that may not wake
 * us, so we must not sleep for long. */
enum { _AK_RING_NOT_READY = 0, _AK_RING_READY = 1, _AK_RING_IN_FLIGHT = 2 };

/* What the shared code needs to know about one ring (built on the stack
 * by each family's slow path). */
struct _ak_ring_waitset {
	void *ring;                      /* passed to ready() and the test hooks */
	struct _ak_ring_wait *w;
	_Atomic(uint32_t) *data_gate;    /* the gate producers read: data waiters
					  * register here, close sets CLOSED */
	_Atomic(uint32_t) *space_gate;   /* the gate consumers read */
	_Atomic(uint64_t) *prod_head;    /* close freezes close_pos from it */
	uint32_t fenced;                 /* the fast paths fence themselves */
	int scope;                       /* _AK_FUTEX_PRIVATE / _SHARED */
	/* seq_cst re-check of the waiter's condition, after registering */
	int (*ready)(void *ring, int for_data, uint64_t n);
	/* The time that meters polling (NULL: CLOCK_MONOTONIC; tests pass an
	 * ak_fake_clock).  Deadlines are compared with it while polling. */
	const ak_clock *clock;
};

/* A waitset for a ring whose producer gate, consumer gate and producer
 * head are the given words (`shared`: process-shared futexes). */
static inline struct _ak_ring_waitset
_ak_ring_waitset_of(void *ring, struct _ak_ring_wait *w, _Atomic(uint32_t) *prod_gate,
		    _Atomic(uint32_t) *cons_gate, _Atomic(uint64_t) *prod_head, uint32_t fenced,
		    int shared, int (*ready)(void *ring, int for_data, uint64_t n))
{
	struct _ak_ring_waitset ws;
	ws.ring = ring;
	ws.w = w;
	ws.data_gate = prod_gate;
	ws.space_gate = cons_gate;
	ws.prod_head = prod_head;
	ws.fenced = fenced;
	ws.scope = shared ? _AK_FUTEX_SHARED : _AK_FUTEX_PRIVATE;
	ws.ready = ready;
	ws.clock = NULL;
	return ws;
}

/* Init's share of the protocol state: both gates (FENCED when the fast
 * paths fence themselves), the ring open, close_pos at the first position.
 * Relaxed: init runs before the ring is shared. */
static inline void _ak_ring_wait_init(struct _ak_ring_wait *w, _Atomic(uint32_t) *prod_gate,
				      _Atomic(uint32_t) *cons_gate, uint32_t fenced, uint64_t start)
{
	atomic_store_explicit(prod_gate, fenced ? _AK_RING_GATE_FENCED : 0u, memory_order_relaxed);
	atomic_store_explicit(cons_gate, fenced ? _AK_RING_GATE_FENCED : 0u, memory_order_relaxed);
	atomic_store_explicit(&w->closed, _AK_RING_OPEN, memory_order_relaxed);
	atomic_store_explicit(&w->close_pos, start, memory_order_relaxed);
	atomic_store_explicit(&w->spin_max, AK_RING_WAIT_SPIN_DEFAULT, memory_order_relaxed);
}

/* The metered poll's credit at `now` for a meter at virtual time `vt`: the
 * time since vt over _AK_RING_SPIN_SHARE, at most `max`; 0 while vt is
 * ahead of now.  A poll that takes the credit moves vt to now, and hands
 * back what it did not use.  Pure, for tests. */
static inline uint64_t _ak_ring_spin_credit(uint64_t vt, uint64_t now, uint64_t max)
{
	if (now <= vt)
		return 0;
	uint64_t c = (now - vt) / _AK_RING_SPIN_SHARE;
	return c < max ? c : max;
}

/* ak_*_set_wait_spin(): AK_EINVAL above AK_RING_WAIT_SPIN_LIMIT. */
ak_status _ak_ring_set_spin(struct _ak_ring_wait *w, uint64_t max_ns);

/*
 * The close half of a waiter's re-check: READY while close is under way
 * (the retried operation settles it) or once it is sealed, for a space
 * waiter always (its push will fail) and for a data waiter whose pop will
 * report AK_ECLOSED (fewer than n left below close_pos from its head h).
 * Else NOT_READY: look at the ring.
 */
static inline int _ak_ring_close_ready(struct _ak_ring_wait *w, int for_data, uint64_t h,
				       uint64_t n)
{
	/* seq_cst: the re-check half of the Dekker pair with close's seq_cst
	 * RMW of `closed` (a sleeper registers, then reads it). */
	uint32_t closed = atomic_load_explicit(&w->closed, memory_order_seq_cst);
	if (closed == _AK_RING_CLOSING)
		return _AK_RING_READY;
	if (closed == _AK_RING_SEALED &&
	    (!for_data || atomic_load_explicit(&w->close_pos, memory_order_relaxed) - h < n))
		return _AK_RING_READY;
	return _AK_RING_NOT_READY;
}

/* Wake the waiters on `seq` (w->data_seq or w->space_seq), with a futex
 * call only if one may be asleep. */
void _ak_ring_wake(const struct _ak_ring_waitset *ws, _Atomic(uint32_t) *seq);

/* Block until ready(), the deadline, cancel or close.  AK_OK (retry the
 * operation), AK_ETIMEDOUT, AK_ECANCELED, AK_EINVAL (cancel registration
 * failed). */
ak_status _ak_ring_sleep(const struct _ak_ring_waitset *ws, int for_data, uint64_t n,
			 uint64_t deadline_ns, ak_cancel *cancel);

/* Close: AK_OK the first time, AK_ECLOSED after (once sealed). */
ak_status _ak_ring_close_gated(const struct _ak_ring_waitset *ws);

/* A producer announced [pos, pos + n) and then saw the close bit: AK_OK if
 * close counted it (it must complete), else AK_ECLOSED (a single producer,
 * `undo`, puts its head back to pos). */
ak_status _ak_ring_closed_check(struct _ak_ring_wait *w, _Atomic(uint64_t) *head, uint64_t pos,
				uint64_t n, int undo);

/* A producer that has announced nothing found close begun (`closed` not
 * open, or the CLOSED bit on its gate): wait until close has frozen
 * close_pos, then return AK_ECLOSED.  Waiting is what makes the refusal
 * final: until close_pos is frozen, a push of the same producer that reads
 * the gate before the closer sets CLOSED would still be counted by the
 * close.  Every producer path that answers AK_ECLOSED without an
 * announcement of its own goes through here. */
ak_status _ak_ring_refuse(struct _ak_ring_wait *w);

/* Spin politely; after a while give the CPU away. */
void _ak_ring_pause(unsigned *spins);

/* Counters for ak_*_syscalls_split(). */
void _ak_ring_read_split(const struct _ak_ring_wait *w, ak_ring_syscall_split *out);

#endif /* ATOMKIT_SRC_RING_WAIT_H */
