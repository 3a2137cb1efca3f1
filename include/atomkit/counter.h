/*
 * atomkit/counter.h - plain, checked, bounded, saturating and sharded counters.
 *
 * Overview
 *   ak_counter    a 64-bit atomic counter.  add/sub/inc/dec/load/store/
 *                 exchange/cas, fetch-returning forms, _explicit variants.
 *   checked add   ak_counter_add_checked(): AK_EOVERFLOW instead of wrapping.
 *   bounded add   ak_counter_add_bounded(c, n, limit): the value never exceeds
 *                 `limit`; AK_ERANGE (and no change) when it would.
 *   saturating    ak_counter_add_saturating(): clamps at UINT64_MAX and says so.
 *   ak_ref        a 32-bit reference count with Linux refcount_t semantics:
 *                 never wraps; over/underflow saturates and stays saturated.
 *   ak_scounter   a sharded counter: one padded cell per thread slot, so
 *                 concurrent adds touch no shared cache line.
 *
 * Contract
 *   - Plain operations are relaxed: they are atomic and never lose an
 *     update, but they order nothing else.  A counter that publishes data
 *     needs the _explicit forms (e.g. fetch_add with memory_order_release,
 *     and a load with memory_order_acquire on the reading side).
 *   - Unsigned arithmetic wraps modulo 2^64 in the plain forms (documented,
 *     defined behaviour); the checked, bounded and saturating forms never wrap.
 *   - Functions that return ak_status reject NULL objects with AK_EINVAL.  The
 *     void/value hot paths take a non-NULL pointer (declared nonnull, so the
 *     compiler warns on a literal NULL); they do not test it at run time.
 *
 * Progress
 *   Plain operations and ak_ref inc/dec are wait-free (one locked RMW).
 *   checked/bounded/saturating adds and ak_ref_inc_not_zero are lock-free CAS
 *   loops.  ak_scounter_add is wait-free; sum and drain are wait-free,
 *   O(cells).
 *
 * Example
 *     static ak_counter requests = AK_COUNTER_INIT(0);
 *     ak_counter_inc(&requests);
 *     if (ak_counter_add_bounded(&inflight, 1, 64, NULL) == AK_ERANGE)
 *         return busy();
 */
#ifndef ATOMKIT_COUNTER_H
#define ATOMKIT_COUNTER_H

#include <stdbool.h>

#include "internal/compiler.h"
#include "internal/fence.h"
#include "status.h"

AK_BEGIN_DECLS

/* ===================================================================== */
/* ak_counter                                                             */
/* ===================================================================== */

typedef struct ak_counter {
	_Atomic(uint64_t) value;
} ak_counter;

/* Static initializer: `ak_counter c = AK_COUNTER_INIT(0);` */
#define AK_COUNTER_INIT(v) { (v) }

/* Set the starting value.  Not atomic with respect to concurrent users:
 * call before the counter is shared.  AK_EINVAL on NULL. */
AK_INLINE ak_status ak_counter_init(ak_counter *c, uint64_t v)
{
	if (!c)
		return AK_EINVAL;
	atomic_store_explicit(&c->value, v, memory_order_relaxed);
	return AK_OK;
}

/*
 * Every plain and _explicit operation, generated once.  The plain form is
 * relaxed (see Contract); the _explicit form takes the order.
 */
AK_INLINE AK_NONNULL(1) uint64_t ak_counter_load_explicit(ak_counter *c, memory_order mo)
{
	return atomic_load_explicit(&c->value, mo);
}
AK_INLINE AK_NONNULL(1) void ak_counter_store_explicit(ak_counter *c, uint64_t v, memory_order mo)
{
	atomic_store_explicit(&c->value, v, mo);
}
AK_INLINE AK_NONNULL(1) uint64_t ak_counter_fetch_add_explicit(ak_counter *c, uint64_t n, memory_order mo)
{
	return atomic_fetch_add_explicit(&c->value, n, mo);
}
AK_INLINE AK_NONNULL(1) uint64_t ak_counter_fetch_sub_explicit(ak_counter *c, uint64_t n, memory_order mo)
{
	return atomic_fetch_sub_explicit(&c->value, n, mo);
}
AK_INLINE AK_NONNULL(1) uint64_t ak_counter_exchange_explicit(ak_counter *c, uint64_t v, memory_order mo)
{
	return atomic_exchange_explicit(&c->value, v, mo);
}
/* Strong CAS: on failure *expected receives the current value. */
AK_INLINE AK_NONNULL(1, 2) bool ak_counter_cas_explicit(ak_counter *c, uint64_t *expected,
						       uint64_t desired, memory_order success,
						       memory_order failure)
{
	return atomic_compare_exchange_strong_explicit(&c->value, expected, desired, success,
						       failure);
}

/* Relaxed forms: atomic, no ordering of other memory. */
AK_INLINE AK_NONNULL(1) uint64_t ak_counter_load(ak_counter *c)
{
	return atomic_load_explicit(&c->value, memory_order_relaxed);
}
AK_INLINE AK_NONNULL(1) void ak_counter_store(ak_counter *c, uint64_t v)
{
	atomic_store_explicit(&c->value, v, memory_order_relaxed);
}
AK_INLINE AK_NONNULL(1) void ak_counter_add(ak_counter *c, uint64_t n)
{
	atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}
AK_INLINE AK_NONNULL(1) void ak_counter_sub(ak_counter *c, uint64_t n)
{
	atomic_fetch_sub_explicit(&c->value, n, memory_order_relaxed);
}
AK_INLINE AK_NONNULL(1) void ak_counter_inc(ak_counter *c)
{
	atomic_fetch_add_explicit(&c->value, 1, memory_order_relaxed);
}
AK_INLINE AK_NONNULL(1) void ak_counter_dec(ak_counter *c)
{
	atomic_fetch_sub_explicit(&c->value, 1, memory_order_relaxed);
}
/* Returns the value before the operation. */
AK_INLINE AK_NONNULL(1) uint64_t ak_counter_fetch_add(ak_counter *c, uint64_t n)
{
	return atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}
AK_INLINE AK_NONNULL(1) uint64_t ak_counter_fetch_sub(ak_counter *c, uint64_t n)
{
	return atomic_fetch_sub_explicit(&c->value, n, memory_order_relaxed);
}
/* Returns the value after the operation. */
AK_INLINE AK_NONNULL(1) uint64_t ak_counter_add_fetch(ak_counter *c, uint64_t n)
{
	return atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed) + n;
}
AK_INLINE AK_NONNULL(1) uint64_t ak_counter_sub_fetch(ak_counter *c, uint64_t n)
{
	return atomic_fetch_sub_explicit(&c->value, n, memory_order_relaxed) - n;
}
AK_INLINE AK_NONNULL(1) uint64_t ak_counter_exchange(ak_counter *c, uint64_t v)
{
	return atomic_exchange_explicit(&c->value, v, memory_order_relaxed);
}
AK_INLINE AK_NONNULL(1, 2) bool ak_counter_cas(ak_counter *c, uint64_t *expected, uint64_t desired)
{
	return atomic_compare_exchange_strong_explicit(&c->value, expected, desired,
						       memory_order_relaxed, memory_order_relaxed);
}

/*
 * The CAS-loop forms share one shape: read, compute the next value or
 * refuse, CAS (relaxed: a counter orders nothing), retry on interference.
 * `step` returns AK_OK with *next set, or the refusal status.
 */
#define _AK_COUNTER_CAS_LOOP(c, out, step)                                     \
	do {                                                                   \
		uint64_t cur_ = atomic_load_explicit(&(c)->value, memory_order_relaxed); \
		for (;;) {                                                     \
			uint64_t next_;                                        \
			ak_status st_ = step(cur_, &next_);                    \
			if (st_ != AK_OK && st_ != AK_ESATURATED) {            \
				if (out)                                       \
					*(out) = cur_;                         \
				return st_;                                    \
			}                                                      \
			if (atomic_compare_exchange_weak_explicit(             \
				    &(c)->value, &cur_, next_, memory_order_relaxed, \
				    memory_order_relaxed)) {                   \
				if (out)                                       \
					*(out) = next_;                        \
				return st_;                                    \
			}                                                      \
		}                                                              \
	} while (0)

/*
 * Add n unless the result would wrap past UINT64_MAX.
 * Returns AK_OK (and the new value in *out, if out is not NULL), or
 * AK_EOVERFLOW with the counter unchanged (*out = the value seen).
 */
AK_INLINE ak_status ak_counter_add_checked(ak_counter *c, uint64_t n, uint64_t *out)
{
	if (!c)
		return AK_EINVAL;
#define _AK_STEP(cur, next) (*(next) = (cur) + n, (cur) > UINT64_MAX - n ? AK_EOVERFLOW : AK_OK)
	_AK_COUNTER_CAS_LOOP(c, out, _AK_STEP);
#undef _AK_STEP
}

/* Subtract n unless the result would go below zero (AK_EOVERFLOW). */
AK_INLINE ak_status ak_counter_sub_checked(ak_counter *c, uint64_t n, uint64_t *out)
{
	if (!c)
		return AK_EINVAL;
#define _AK_STEP(cur, next) (*(next) = (cur) - n, (cur) < n ? AK_EOVERFLOW : AK_OK)
	_AK_COUNTER_CAS_LOOP(c, out, _AK_STEP);
#undef _AK_STEP
}

/*
 * Add n only if the result stays <= limit (exact: a CAS loop, so the
 * counter never exceeds the limit, even transiently).  Returns AK_OK with
 * the new value in *out, or AK_ERANGE with the counter unchanged.
 */
AK_INLINE ak_status ak_counter_add_bounded(ak_counter *c, uint64_t n, uint64_t limit,
					   uint64_t *out)
{
	if (!c)
		return AK_EINVAL;
#define _AK_STEP(cur, next) (*(next) = (cur) + n, ((cur) > limit || n > limit - (cur)) ? AK_ERANGE : AK_OK)
	_AK_COUNTER_CAS_LOOP(c, out, _AK_STEP);
#undef _AK_STEP
}

/*
 * Add n, clamping at UINT64_MAX.  Returns AK_OK, or AK_ESATURATED when the
 * result was clamped (the counter then holds UINT64_MAX).
 */
AK_INLINE ak_status ak_counter_add_saturating(ak_counter *c, uint64_t n, uint64_t *out)
{
	if (!c)
		return AK_EINVAL;
#define _AK_STEP(cur, next)                                                    \
	((cur) > UINT64_MAX - n ? (*(next) = UINT64_MAX, AK_ESATURATED) : (*(next) = (cur) + n, AK_OK))
	_AK_COUNTER_CAS_LOOP(c, out, _AK_STEP);
#undef _AK_STEP
}

/* ===================================================================== */
/* ak_ref: saturating reference count (refcount_t semantics)              */
/* ===================================================================== */

/*
 * Values 1 .. AK_REF_MAX are live counts.  Any value with the top bit set
 * is "saturated": an overflow, an underflow or an increment from zero put
 * it there, and every later operation that sees it stores AK_REF_SATURATED
 * again, so it stays saturated for good (the object leaks instead of being
 * freed while in use).  The sentinel sits 2^30 from both edges of the
 * saturated range, so racing increments/decrements that land between the
 * RMW and the re-store cannot walk it back to a live value: each such RMW
 * moves it by at most _AK_REF_RMW_STEP (2^16), so it would take 2^14
 * threads inside that window at once.  Larger steps use a CAS loop that
 * never writes a live value over a saturated one.  No CAS loop on the hot
 * path: inc and dec (and steps up to 2^16) are one locked RMW each.
 */
typedef struct ak_ref {
	_Atomic(uint32_t) refs;
} ak_ref;

#define AK_REF_MAX UINT32_C(0x7fffffff)
#define AK_REF_SATURATED UINT32_C(0xc0000000)
#define AK_REF_INIT(n) { (n) }

/* n must be 1..AK_REF_MAX (0 is allowed for "not yet live"). */
AK_INLINE ak_status ak_ref_init(ak_ref *r, uint32_t n)
{
	if (!r || n > AK_REF_MAX)
		return AK_EINVAL;
	atomic_store_explicit(&r->refs, n, memory_order_relaxed);
	return AK_OK;
}

AK_INLINE AK_NONNULL(1) uint32_t ak_ref_read(ak_ref *r)
{
	return atomic_load_explicit(&r->refs, memory_order_relaxed);
}

AK_INLINE AK_NONNULL(1) bool ak_ref_is_saturated(ak_ref *r)
{
	return (atomic_load_explicit(&r->refs, memory_order_relaxed) & UINT32_C(0x80000000)) != 0;
}

AK_INLINE void _ak_ref_saturate(ak_ref *r)
{
	atomic_store_explicit(&r->refs, AK_REF_SATURATED, memory_order_relaxed);
}

/* Steps above this go through a CAS (see above). */
#define _AK_REF_RMW_STEP (UINT32_C(1) << 16)

/*
 * A large step as one CAS from a value it has checked: +n (sub == 0) or -n.
 * Saturated, zero (for an add) and any result outside 1..AK_REF_MAX store
 * AK_REF_SATURATED instead.  Returns the value replaced.  Release on the
 * way down (sub): as the fetch_sub in ak_ref_sub_and_test().
 */
AK_INLINE uint32_t _ak_ref_step_cas(ak_ref *r, uint32_t n, int sub)
{
	uint32_t cur = atomic_load_explicit(&r->refs, memory_order_relaxed), next;
	do {
		if (cur & UINT32_C(0x80000000))
			return cur; /* saturated stays as it is */
		if (sub)
			next = cur < n ? AK_REF_SATURATED : cur - n;
		else
			next = cur == 0 || n > AK_REF_MAX - cur ? AK_REF_SATURATED : cur + n;
		/* Release (sub): pairs with the acquire fence of the last
		 * dropper in ak_ref_sub_and_test(). */
	} while (!atomic_compare_exchange_weak_explicit(&r->refs, &cur, next,
							sub ? memory_order_release
							    : memory_order_relaxed,
							memory_order_relaxed));
	return cur;
}

/*
 * Take n references (n = 1..AK_REF_MAX).  Relaxed: taking a reference
 * needs no ordering, you already hold one.  Returns AK_OK, AK_ESATURATED
 * (overflow, increment from zero, or already saturated), or AK_EINVAL.
 */
AK_INLINE ak_status ak_ref_add(ak_ref *r, uint32_t n)
{
	uint32_t old;

	if (!r || n == 0 || n > AK_REF_MAX)
		return AK_EINVAL;
	if (AK_UNLIKELY(n > _AK_REF_RMW_STEP)) {
		old = _ak_ref_step_cas(r, n, 0);
		return old == 0 || (old & UINT32_C(0x80000000)) || n > AK_REF_MAX - old
			       ? AK_ESATURATED
			       : AK_OK;
	}
	old = atomic_fetch_add_explicit(&r->refs, n, memory_order_relaxed);
	if (AK_UNLIKELY(old == 0 || (old & UINT32_C(0x80000000)) ||
			((old + n) & UINT32_C(0x80000000)))) {
		_ak_ref_saturate(r);
		return AK_ESATURATED;
	}
	return AK_OK;
}

AK_INLINE ak_status ak_ref_inc(ak_ref *r)
{
	return ak_ref_add(r, 1);
}

/*
 * Take a reference unless the count is zero (the object is being freed).
 * Returns AK_OK, AK_ENOENT (count was zero, nothing taken), AK_ESATURATED,
 * or AK_EINVAL.  Acquire on success, like kref_get_unless_zero: pairs with
 * the release in ak_ref_sub_and_test() of whoever dropped the count before,
 * so the caller sees the object as the last holder left it.
 */
AK_INLINE ak_status ak_ref_inc_not_zero(ak_ref *r)
{
	uint32_t cur;

	if (!r)
		return AK_EINVAL;
	cur = atomic_load_explicit(&r->refs, memory_order_relaxed);
	do {
		if (cur == 0)
			return AK_ENOENT;
		if (cur & UINT32_C(0x80000000))
			return AK_ESATURATED;
		if (cur == AK_REF_MAX) {
			_ak_ref_saturate(r);
			return AK_ESATURATED;
		}
	} while (!atomic_compare_exchange_weak_explicit(&r->refs, &cur, cur + 1,
							memory_order_acquire, /* see above */
							memory_order_relaxed));
	return AK_OK;
}

/*
 * Drop n references; true when this call dropped the count to zero (the
 * caller now owns the object and may free it).  Release, so everything this
 * thread did to the object happens before the free; on reaching zero an
 * acquire fence, pairing with the releases of every other dropper, so the
 * freeing thread sees all their writes.  An underflow saturates (returns
 * false: a saturated object is never freed).  n = 0 or NULL: false.
 */
AK_INLINE bool ak_ref_sub_and_test(ak_ref *r, uint32_t n)
{
	uint32_t old;

	if (!r || n == 0 || n > AK_REF_MAX)
		return false;
	if (AK_UNLIKELY(n > _AK_REF_RMW_STEP)) {
		/* Release inside: as below. */
		old = _ak_ref_step_cas(r, n, 1);
		if (old != n)
			return false; /* saturated before, or by this call */
		/* Acquire: pairs with the release RMWs of earlier droppers. */
		_ak_fence_acquire(&r->refs);
		return true;
	}
	/* Release: pairs with the acquire fence below in the last dropper. */
	old = atomic_fetch_sub_explicit(&r->refs, n, memory_order_release);
	if (old == n) {
		/* Acquire: pairs with the release RMWs of earlier droppers. */
		_ak_fence_acquire(&r->refs);
		return true;
	}
	if (AK_UNLIKELY((old & UINT32_C(0x80000000)) || old < n))
		_ak_ref_saturate(r);
	return false;
}

AK_INLINE bool ak_ref_dec_and_test(ak_ref *r)
{
	return ak_ref_sub_and_test(r, 1);
}

/* ===================================================================== */
/* ak_scounter: sharded counter                                           */
/* ===================================================================== */

/* One cell: a single 64-bit value alone in its destructive unit. */
typedef struct ak_scounter_cell {
	AK_CACHE_ALIGNED _Atomic(uint64_t) value;
} ak_scounter_cell;
AK_ASSERT_PADDED(ak_scounter_cell);

/*
 * The counter: a read-mostly header (shared read-only by every adder, so it
 * never bounces) and `ncells` cells.  Threads are given slots 0, 1, 2, ...
 * in the order they first add to any sharded counter; a thread adds to
 * cell (slot mod ncells).  With at least as many cells as adding threads,
 * every add is an uncontended RMW on a line only that thread writes.
 */
typedef struct ak_scounter {
	ak_scounter_cell *cells;
	uint32_t ncells;
	uint32_t owned; /* cells were allocated by init */
} ak_scounter;

#define AK_SCOUNTER_MAX_CELLS 4096u

/*
 * Initialise with caller storage (`cells`, `ncells` cells, each zeroed
 * here) or, when cells is NULL, with cells allocated once here.
 * AK_EINVAL: s NULL, ncells 0 or above AK_SCOUNTER_MAX_CELLS, or storage
 * not aligned to AK_DESTRUCTIVE_SIZE.  AK_ENOMEM: allocation failed.
 */
ak_status ak_scounter_init(ak_scounter *s, ak_scounter_cell *cells, uint32_t ncells);

/* Free allocated cells (not caller storage).  AK_EINVAL on NULL. */
ak_status ak_scounter_destroy(ak_scounter *s);

/* A good cell count for this machine: the next power of two >= 2 x CPUs. */
uint32_t ak_scounter_default_cells(void);

/* Out of line: gives the calling thread its slot (1-based; 0 = none yet). */
uint32_t _ak_thread_slot_assign(void);

AK_INLINE uint32_t _ak_thread_slot(void)
{
	static AK_THREAD_LOCAL uint32_t slot; /* per thread, per translation unit */
	if (AK_UNLIKELY(slot == 0))
		slot = _ak_thread_slot_assign();
	return slot - 1;
}

AK_INLINE ak_scounter_cell *_ak_scounter_cell(ak_scounter *s)
{
	uint32_t k = _ak_thread_slot();
	/* the division only happens when threads outnumber cells */
	return &s->cells[AK_LIKELY(k < s->ncells) ? k : k % s->ncells];
}

/* Add n to this thread's cell.  Relaxed, wait-free. */
AK_INLINE AK_NONNULL(1) void ak_scounter_add(ak_scounter *s, uint64_t n)
{
	atomic_fetch_add_explicit(&_ak_scounter_cell(s)->value, n, memory_order_relaxed);
}

/* Subtract n (cells wrap individually; the sum is exact modulo 2^64). */
AK_INLINE AK_NONNULL(1) void ak_scounter_sub(ak_scounter *s, uint64_t n)
{
	atomic_fetch_sub_explicit(&_ak_scounter_cell(s)->value, n, memory_order_relaxed);
}

AK_INLINE AK_NONNULL(1) void ak_scounter_inc(ak_scounter *s)
{
	ak_scounter_add(s, 1);
}

/*
 * Sum of all cells, O(cells).  Exact when no add runs concurrently (e.g.
 * after the adders were joined).  Under concurrent adds it is NOT a
 * linearizable snapshot: each cell is read at a different instant, so the
 * result is some value between the sums at the start and at the end of the
 * call when all adds are positive, and may be any mix when adds and subs
 * race.  There is no O(1) approximate read: the cells are the only state.
 */
AK_INLINE AK_NONNULL(1) uint64_t ak_scounter_sum(ak_scounter *s)
{
	uint64_t sum = 0;
	for (uint32_t i = 0; i < s->ncells; i++)
		sum += atomic_load_explicit(&s->cells[i].value, memory_order_relaxed);
	return sum;
}

/*
 * Take the total out: each cell is exchanged with 0, and the sum of what
 * was taken is returned.  An add racing with the drain lands either before
 * its cell's exchange (and is in the result) or after it (and stays in the
 * counter), never both and never neither: drained + what remains == total
 * added.  Safe to call from several threads at once.
 */
AK_INLINE AK_NONNULL(1) uint64_t ak_scounter_drain(ak_scounter *s)
{
	uint64_t sum = 0;
	for (uint32_t i = 0; i < s->ncells; i++)
		sum += atomic_exchange_explicit(&s->cells[i].value, 0, memory_order_relaxed);
	return sum;
}

AK_END_DECLS

#endif /* ATOMKIT_COUNTER_H */
