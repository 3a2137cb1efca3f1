/*
 * atomkit/vcell.h - versioned cells: a value plus a version that moves on
 * every store, compare-and-swap on the version, and waiting for a change.
 *
 * Overview
 *   "Update it only if nobody changed it since I read it."  A load returns
 *   (value, version); ak_vcell_cas(c, seen_version, v) succeeds only if no
 *   store happened since `seen_version` was read, so A -> B -> A still makes
 *   a CAS with A's old version fail (no ABA).  ak_vcell_wait_change() sleeps
 *   until the version differs from the one the caller saw.
 *
 *   Two representations, same API shape:
 *
 *   ak_vcell    64-bit value + 64-bit version in 16 aligned bytes, updated
 *               with a double-width CAS (ck_pr_cas_64_2, `lock cmpxchg16b`;
 *               no libatomic).  The version never wraps in practice (2^64
 *               stores), so the CAS is ABA-free unconditionally.  Loads do
 *               NOT use cmpxchg16b (which writes, and would bounce the line
 *               between readers): they read version, value, version with
 *               plain atomic loads and retry if the version moved.
 *               The value holds any 64-bit payload (an integer, a uintptr_t).
 *
 *   ak_vcell32  32-bit value + 32-bit version packed into one 64-bit word,
 *               plain C11 atomics, one load per read, one CAS per store.
 *               ABA-free as long as fewer than 2^32 stores land between a
 *               load and the CAS that uses its version (at 100 M stores/s,
 *               a reader would have to sleep for 43 s between the two).
 *
 * Contract
 *   - Every store (store, cas, exchange) increments the version by exactly
 *     one, atomically with the value.  Versions start at 0 (or at init's
 *     argument) and are never reused by ak_vcell.
 *   - load/changed_since are acquire: a thread that sees version V sees
 *     everything the storer of V did before its store.
 *   - Stores are seq_cst RMWs and notify waiters; the notify makes no system
 *     call when nobody waits.
 *   - ak_vcell_wait_change(c, seen, deadline, cancel) returns AK_OK once the
 *     version differs from `seen` (at once if it already does), AK_ETIMEDOUT
 *     at the absolute CLOCK_MONOTONIC `deadline_ns` (AK_DEADLINE_NONE:
 *     never), AK_ECANCELED once `cancel` (may be NULL) is cancelled.  A
 *     change made after the waiter started is never missed (eventcount, see
 *     internal/event.h); signals do not end the wait.  A cancel request
 *     wakes the waiter at once (a callback kicks the eventcount); a
 *     deadline token's expiry is noticed within 10 ms (the wait sleeps in
 *     10 ms slices while a token is given).  AK_ESTATE for an
 *     uninitialised token.
 *   - Status-returning functions give AK_EINVAL for NULL objects.  The
 *     value-returning hot paths are nonnull and not checked at run time.
 *   - Cells are process-private (their futex is private).
 *
 * Progress
 *   Loads, changed_since: wait-free (ak_vcell: lock-free, a load retries
 *   only while stores land between its two version reads).  cas: wait-free
 *   (one CAS attempt; AK_ECONFLICT if it lost).  store/exchange: lock-free
 *   CAS loops.  wait_change: blocking.
 *
 * Example
 *     static ak_vcell cfg = AK_VCELL_INIT(0);
 *     ak_vcell_snap s = ak_vcell_load(&cfg);
 *     if (ak_vcell_cas(&cfg, s.version, s.value + 1, NULL) == AK_ECONFLICT)
 *         ...someone else changed it first: reload and decide again...
 *     ak_vcell_wait_change(&cfg, s.version, ak_deadline_after(AK_NS_PER_SEC), NULL);
 */
#ifndef ATOMKIT_VCELL_H
#define ATOMKIT_VCELL_H

#include <stdbool.h>

#include <ck_pr.h>

#include "cancel.h"
#include "internal/compiler.h"
#include "internal/event.h"
#include "internal/fence.h"
#include "status.h"

#ifndef CK_F_PR_CAS_64_2
#error "atomkit/vcell.h needs a double-width CAS (ck_pr_cas_64_2) on this platform"
#endif

AK_BEGIN_DECLS

/* What a load returns. */
typedef struct ak_vcell_snap {
	uint64_t value;
	uint64_t version;
} ak_vcell_snap;

typedef struct ak_vcell_snap32 {
	uint32_t value;
	uint32_t version;
} ak_vcell_snap32;

/*
 * The notify after a store.  On x86-64 the store was a locked instruction,
 * a full barrier, so the seq_cst load of the waiter count in
 * _ak_event_notify_nofence() cannot pass it (the Dekker handshake with
 * _ak_event_prepare() holds).  Elsewhere ck's double-width CAS is not
 * documented as a full barrier, so ak_vcell pays for the fence.
 */
#if defined(__x86_64__)
#define _AK_VCELL_NOTIFY(ev) _ak_event_notify_nofence((ev), _AK_FUTEX_PRIVATE)
#else
#define _AK_VCELL_NOTIFY(ev) _ak_event_notify((ev), _AK_FUTEX_PRIVATE)
#endif

/* ===================================================================== */
/* ak_vcell: 64-bit value, 64-bit version, double-width CAS               */
/* ===================================================================== */

typedef struct ak_vcell {
	/* w[0] = value, w[1] = version; 16-byte aligned for cmpxchg16b. */
	AK_ALIGNAS(16) _Atomic(uint64_t) w[2];
	struct _ak_event ev;
} ak_vcell;

AK_STATIC_ASSERT(sizeof(_Atomic(uint64_t)) == 8, "vcell words are 8 bytes");

#define AK_VCELL_INIT(v) { { (v), 0 }, _AK_EVENT_INIT }

/* Set value and version.  Not concurrent with other users.  AK_EINVAL on
 * NULL. */
AK_INLINE ak_status ak_vcell_init(ak_vcell *c, uint64_t value, uint64_t version)
{
	if (!c)
		return AK_EINVAL;
	atomic_store_explicit(&c->w[0], value, memory_order_relaxed);
	atomic_store_explicit(&c->w[1], version, memory_order_relaxed);
	_ak_event_init(&c->ev);
	return AK_OK;
}

/* The current version.  Acquire, wait-free. */
AK_INLINE AK_NONNULL(1) uint64_t ak_vcell_version(ak_vcell *c)
{
	/* Acquire: pairs with the CAS in _ak_vcell_cas16() (a locked
	 * instruction; TSan is told through the release annotation there). */
	uint64_t v = atomic_load_explicit(&c->w[1], memory_order_acquire);
	_AK_TSAN_ACQUIRE(c);
	return v;
}

/* A consistent (value, version) pair.  Acquire; lock-free. */
AK_INLINE AK_NONNULL(1) ak_vcell_snap ak_vcell_load(ak_vcell *c)
{
	ak_vcell_snap s;
	uint64_t v2;

	for (;;) {
		/* Acquire: pairs with the CAS in _ak_vcell_cas16(). */
		s.version = atomic_load_explicit(&c->w[1], memory_order_acquire);
		/* Acquire: keeps the version re-read below after this load. */
		s.value = atomic_load_explicit(&c->w[0], memory_order_acquire);
		v2 = atomic_load_explicit(&c->w[1], memory_order_relaxed);
		/* The double-width CAS writes both words at once and versions
		 * never repeat, so an unchanged version brackets a value that
		 * belongs to it. */
		if (AK_LIKELY(v2 == s.version))
			break;
	}
	_AK_TSAN_ACQUIRE(c);
	return s;
}

/* True if a store happened since `version` was read.  Acquire, wait-free. */
AK_INLINE AK_NONNULL(1) bool ak_vcell_changed_since(ak_vcell *c, uint64_t version)
{
	return ak_vcell_version(c) != version;
}

/*
 * One double-width CAS from `expect` to `set`; on failure *seen gets the
 * current contents.  ck's asm is invisible to ThreadSanitizer, so the
 * release is reported to it by hand (the loads report the acquire).
 */
AK_INLINE bool _ak_vcell_cas16(ak_vcell *c, const ak_vcell_snap *expect,
			       const ak_vcell_snap *set, ak_vcell_snap *seen)
{
	uint64_t cmp[2], nv[2], cur[2];
	bool ok;

	/* The annotations use the cell's address, which is &w[0]: the acquire
	 * loads of w[0] in ak_vcell_load() pick the release up as well. */
	cmp[0] = expect->value;
	cmp[1] = expect->version;
	nv[0] = set->value;
	nv[1] = set->version;
	_AK_TSAN_RELEASE(c);
	/* lock cmpxchg16b: a full barrier on x86-64, so seq_cst.  Its release
	 * half pairs with the acquire loads in ak_vcell_load/version(). */
	ok = ck_pr_cas_64_2_value((uint64_t *)(void *)c->w, cmp, nv, cur);
	if (!ok) {
		seen->value = cur[0];
		seen->version = cur[1];
		_AK_TSAN_ACQUIRE(c);
	}
	return ok;
}

/*
 * Store `value` if the version is still `seen_version`: AK_OK (the version
 * is now seen_version + 1), or AK_ECONFLICT if any store happened since
 * (nothing changed).  `cur` (may be NULL) receives the cell's contents:
 * the new pair on success, the conflicting one on failure.  Wait-free:
 * one CAS attempt.  AK_EINVAL on NULL.
 */
AK_INLINE ak_status ak_vcell_cas(ak_vcell *c, uint64_t seen_version, uint64_t value,
				 ak_vcell_snap *cur)
{
	ak_vcell_snap exp, set, seen;

	if (!c)
		return AK_EINVAL;
	exp = ak_vcell_load(c);
	if (exp.version != seen_version) {
		if (cur)
			*cur = exp;
		return AK_ECONFLICT;
	}
	set.value = value;
	set.version = seen_version + 1;
	if (!_ak_vcell_cas16(c, &exp, &set, &seen)) {
		if (cur)
			*cur = seen;
		return AK_ECONFLICT;
	}
	if (cur)
		*cur = set;
	_AK_VCELL_NOTIFY(&c->ev);
	return AK_OK;
}

/* Store `value` unconditionally; returns the previous pair.  Lock-free. */
AK_INLINE AK_NONNULL(1) ak_vcell_snap ak_vcell_exchange(ak_vcell *c, uint64_t value)
{
	ak_vcell_snap exp = ak_vcell_load(c), set;

	set.value = value;
	for (;;) {
		set.version = exp.version + 1;
		if (_ak_vcell_cas16(c, &exp, &set, &exp))
			break;
	}
	_AK_VCELL_NOTIFY(&c->ev);
	return exp;
}

/* Store `value` unconditionally; returns the new version.  Lock-free. */
AK_INLINE AK_NONNULL(1) uint64_t ak_vcell_store(ak_vcell *c, uint64_t value)
{
	return ak_vcell_exchange(c, value).version + 1;
}

/* Block until the version differs from `seen_version` (see Contract). */
ak_status ak_vcell_wait_change(ak_vcell *c, uint64_t seen_version, uint64_t deadline_ns,
			       ak_cancel *cancel);

/* ===================================================================== */
/* ak_vcell32: 32-bit value, 32-bit version, one 64-bit word              */
/* ===================================================================== */

typedef struct ak_vcell32 {
	_Atomic(uint64_t) word; /* version << 32 | value */
	struct _ak_event ev;
} ak_vcell32;

#define AK_VCELL32_INIT(v) { (uint64_t)(uint32_t)(v), _AK_EVENT_INIT }

AK_INLINE uint64_t _ak_vcell32_pack(uint32_t value, uint32_t version)
{
	return (uint64_t)version << 32 | value;
}

AK_INLINE ak_vcell_snap32 _ak_vcell32_unpack(uint64_t w)
{
	ak_vcell_snap32 s;

	s.value = (uint32_t)w;
	s.version = (uint32_t)(w >> 32);
	return s;
}

AK_INLINE ak_status ak_vcell32_init(ak_vcell32 *c, uint32_t value, uint32_t version)
{
	if (!c)
		return AK_EINVAL;
	atomic_store_explicit(&c->word, _ak_vcell32_pack(value, version), memory_order_relaxed);
	_ak_event_init(&c->ev);
	return AK_OK;
}

/* One acquire load.  Wait-free. */
AK_INLINE AK_NONNULL(1) ak_vcell_snap32 ak_vcell32_load(ak_vcell32 *c)
{
	/* Acquire: pairs with the seq_cst CAS in ak_vcell32_cas/exchange. */
	return _ak_vcell32_unpack(atomic_load_explicit(&c->word, memory_order_acquire));
}

AK_INLINE AK_NONNULL(1) uint32_t ak_vcell32_version(ak_vcell32 *c)
{
	return ak_vcell32_load(c).version;
}

AK_INLINE AK_NONNULL(1) bool ak_vcell32_changed_since(ak_vcell32 *c, uint32_t version)
{
	return ak_vcell32_load(c).version != version;
}

/* As ak_vcell_cas.  Wait-free (one CAS).  AK_EINVAL on NULL. */
AK_INLINE ak_status ak_vcell32_cas(ak_vcell32 *c, uint32_t seen_version, uint32_t value,
				   ak_vcell_snap32 *cur)
{
	uint64_t w, nw;

	if (!c)
		return AK_EINVAL;
	w = atomic_load_explicit(&c->word, memory_order_relaxed);
	if ((uint32_t)(w >> 32) == seen_version) {
		nw = _ak_vcell32_pack(value, seen_version + 1);
		/* seq_cst: release pairs with the acquire in ak_vcell32_load();
		 * seq_cst lets the notify skip its fence (Dekker with
		 * _ak_event_prepare()).  Failure acquire: pairs with the CAS of
		 * whoever won, for the `cur` we report. */
		if (atomic_compare_exchange_strong_explicit(&c->word, &w, nw, memory_order_seq_cst,
							    memory_order_acquire)) {
			if (cur)
				*cur = _ak_vcell32_unpack(nw);
			_ak_event_notify_nofence(&c->ev, _AK_FUTEX_PRIVATE);
			return AK_OK;
		}
	}
	if (cur)
		*cur = ak_vcell32_load(c);
	return AK_ECONFLICT;
}

/* Store unconditionally; returns the previous pair.  Lock-free. */
AK_INLINE AK_NONNULL(1) ak_vcell_snap32 ak_vcell32_exchange(ak_vcell32 *c, uint32_t value)
{
	uint64_t w = atomic_load_explicit(&c->word, memory_order_relaxed);

	/* seq_cst: as in ak_vcell32_cas(); failure relaxed (we only retry). */
	while (!atomic_compare_exchange_weak_explicit(
		&c->word, &w, _ak_vcell32_pack(value, (uint32_t)(w >> 32) + 1),
		memory_order_seq_cst, memory_order_relaxed))
		;
	_ak_event_notify_nofence(&c->ev, _AK_FUTEX_PRIVATE);
	return _ak_vcell32_unpack(w);
}

/* Store unconditionally; returns the new version.  Lock-free. */
AK_INLINE AK_NONNULL(1) uint32_t ak_vcell32_store(ak_vcell32 *c, uint32_t value)
{
	return ak_vcell32_exchange(c, value).version + 1;
}

/* As ak_vcell_wait_change. */
ak_status ak_vcell32_wait_change(ak_vcell32 *c, uint32_t seen_version, uint64_t deadline_ns,
				 ak_cancel *cancel);

AK_END_DECLS

#endif /* ATOMKIT_VCELL_H */
