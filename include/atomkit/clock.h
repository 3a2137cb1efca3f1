/*
 * atomkit/clock.h - monotonic nanosecond time and injectable clocks.
 *
 * Overview: ak_now_ns() reads CLOCK_MONOTONIC in nanoseconds (a vDSO call,
 * no system call, ~20 ns).  Every atomkit family that depends on time
 * (limiters, progress meters, the watchdog, deadline tokens) takes an
 * `ak_clock`, a function plus context, so tests can drive time by hand with
 * an ak_fake_clock instead of sleeping.
 *
 * Deadlines throughout atomkit are absolute CLOCK_MONOTONIC nanoseconds as
 * returned by ak_now_ns(); AK_DEADLINE_NONE means "never".
 *
 * Contract: ak_now_ns() never goes backwards within a process.  A fake
 * clock goes wherever the test puts it, backwards included; families that
 * accept clocks say how they treat a clock that steps back.
 *
 * Example:
 *     uint64_t deadline = ak_deadline_after(50 * AK_NS_PER_MS);
 */
#ifndef ATOMKIT_CLOCK_H
#define ATOMKIT_CLOCK_H

#include "internal/compiler.h"
#include "internal/futex.h"

AK_BEGIN_DECLS

#define AK_NS_PER_US UINT64_C(1000)
#define AK_NS_PER_MS UINT64_C(1000000)
#define AK_NS_PER_SEC UINT64_C(1000000000)

/* CLOCK_MONOTONIC now, in ns.  Wait-free, async-signal-safe.  Out of line
 * (src/clock.c) so that this header needs no POSIX feature macros. */
uint64_t ak_now_ns(void);

/* now + delta, saturating at AK_DEADLINE_NONE instead of wrapping. */
AK_INLINE uint64_t ak_deadline_after(uint64_t delta_ns)
{
	uint64_t now = ak_now_ns();
	return delta_ns >= AK_DEADLINE_NONE - now ? AK_DEADLINE_NONE : now + delta_ns;
}

/* An injectable clock: `now(ctx)` returns nanoseconds. */
typedef uint64_t (*ak_clock_fn)(void *ctx);

typedef struct ak_clock {
	ak_clock_fn now;
	void *ctx;
} ak_clock;

AK_INLINE uint64_t _ak_monotonic_clock_fn(void *ctx)
{
	(void)ctx;
	return ak_now_ns();
}

/* The default clock: CLOCK_MONOTONIC. */
AK_INLINE ak_clock ak_clock_monotonic(void)
{
	ak_clock c;
	c.now = _ak_monotonic_clock_fn;
	c.ctx = NULL;
	return c;
}

/* Read a clock; a clock with a NULL function reads CLOCK_MONOTONIC. */
AK_INLINE uint64_t ak_clock_read(const ak_clock *c)
{
	return (c && c->now) ? c->now(c->ctx) : ak_now_ns();
}

/*
 * A fake clock for tests: a shared atomic nanosecond value that threads
 * may read and advance concurrently.
 */
typedef struct ak_fake_clock {
	_Atomic(uint64_t) ns;
} ak_fake_clock;

AK_INLINE uint64_t _ak_fake_clock_fn(void *ctx)
{
	/* Acquire pairs with the release in ak_fake_clock_set/advance, so a
	 * reader that sees time T also sees what the test did before moving
	 * the clock to T. */
	return atomic_load_explicit(&((ak_fake_clock *)ctx)->ns, memory_order_acquire);
}

AK_INLINE void ak_fake_clock_set(ak_fake_clock *fc, uint64_t ns)
{
	/* Release: pairs with the acquire in _ak_fake_clock_fn. */
	atomic_store_explicit(&fc->ns, ns, memory_order_release);
}

/* Advance by delta; returns the new time. */
AK_INLINE uint64_t ak_fake_clock_advance(ak_fake_clock *fc, uint64_t delta)
{
	/* Release: pairs with the acquire in _ak_fake_clock_fn. */
	return atomic_fetch_add_explicit(&fc->ns, delta, memory_order_release) + delta;
}

AK_INLINE ak_clock ak_fake_clock_as_clock(ak_fake_clock *fc)
{
	ak_clock c;
	c.now = _ak_fake_clock_fn;
	c.ctx = fc;
	return c;
}

AK_END_DECLS

#endif /* ATOMKIT_CLOCK_H */
