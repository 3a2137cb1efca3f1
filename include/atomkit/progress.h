/*
 * atomkit/progress.h - progress meters: consistent snapshots, rate, ETA, display.
 *
 * Overview
 *   ak_progress        a meter: count, optional total, start time and the time
 *                      of the last progress.  Writers add; anyone reads a
 *                      consistent snapshot {count, total, started_ns, last_ns}
 *                      at any time, without locks, from any thread and from a
 *                      signal handler, even one that interrupted the writer.
 *   ak_progress_rate   observer-side state: a time-constant EWMA of the rate
 *                      (w = 1 - exp(-dt/tau), computed when the observer looks,
 *                      not per update) and an ETA that says "unknown",
 *                      "stalled" or "done" instead of exploding.
 *   ak_progress_format one line such as "1234/5000 24.7% 812/s ETA 4.6s" into a
 *                      caller buffer; no stdio, no locale, no allocation.
 *   ak_progress_display a terminal line: redrawn in place on a TTY, plain
 *                      periodic lines otherwise; optional background thread.
 *
 * Contract
 *   - A snapshot is one state the meter actually had: every field from the
 *     same update.  A reader never sees a new count with an old last_ns (the
 *     classic two-atomics meter does).  Successive snapshots by one reader
 *     never go backwards.
 *   - The meter is a seqcount latch: two copies of the payload, the low bit
 *     of `seq` tells readers which copy is stable.  Writers update copy 0
 *     while readers use copy 1, then the other way round.  A reader never
 *     waits for a writer: it only retries when a write phase completed while
 *     it was reading.  A reader in a signal handler that interrupted the
 *     writer on its own thread succeeds on the first pass (the writer cannot
 *     move while the handler runs).
 *   - Modes, chosen at init:
 *       AK_PROGRESS_SINGLE_WRITER  one thread writes at a time (the caller
 *           guarantees it).  An add is one load and two stores of `seq` plus
 *           the payload stores: no atomic read-modify-write at all.
 *       AK_PROGRESS_MULTI_WRITER   any threads write concurrently.  Writers
 *           serialise on `seq` (one CAS to enter, one release store to
 *           leave): one atomic RMW per add plus the same stores, and the
 *           cache-line transfer when writers contend.  Writers are blocking
 *           with respect to each other (a preempted writer delays the next
 *           one); readers are never blocked.
 *   - Write functions must not be called from a signal handler that may
 *     interrupt a writer of the same meter (single-writer: the copies would
 *     be corrupted; multi-writer: the handler would wait forever).  Reading
 *     from a handler is always fine.
 *   - Time: the meter reads its ak_clock on each timed update (a vDSO call
 *     with CLOCK_MONOTONIC; ~80 ns in the add_clock benchmark on a VM, where
 *     it dwarfs the meter).  Hot loops that already know the time use the
 *     _at forms.  last_ns never goes backwards: a clock that steps back
 *     leaves last_ns where it was.
 *   - count never wraps: an add that would pass UINT64_MAX returns
 *     AK_EOVERFLOW and changes nothing.
 *   - ak_progress is aligned to AK_DESTRUCTIVE_SIZE (128 bytes): on the heap
 *     use aligned_alloc, not malloc.
 *
 * Progress
 *   Readers: lock-free (retry only after a completed write phase);
 *   ak_progress_snapshot_try is wait-free (bounded attempts).  Single-
 *   writer updates: wait-free.  Multi-writer updates: blocking (a short
 *   spin lock with backoff, then sched_yield).  Rate/ETA/format: wait-free,
 *   no system calls, async-signal-safe (no libm, no stdio).
 *
 * Example
 *     ak_progress p;
 *     ak_progress_init(&p, nfiles, AK_PROGRESS_SINGLE_WRITER, NULL);
 *     for (...) { work(); ak_progress_add(&p, 1); }
 *
 *     // an observer (any thread, or a SIGUSR1 handler) with its own rate state
 *     static ak_progress_rate r;   // ak_progress_rate_init(&r, AK_PROGRESS_TAU_DEFAULT,
 *                                  //                       AK_PROGRESS_STALL_DEFAULT)
 *     ak_progress_snap s; ak_progress_est e; char line[96];
 *     ak_progress_snapshot(&p, &s);
 *     ak_progress_estimate(&r, &s, ak_now_ns(), &e);
 *     ak_progress_format(line, sizeof line, &e, NULL);   // "1234/5000 24.7% 812/s ETA 4.6s"
 */
#ifndef ATOMKIT_PROGRESS_H
#define ATOMKIT_PROGRESS_H

#include <stddef.h>

#include "clock.h"
#include "internal/compiler.h"
#include "internal/fence.h"
#include "status.h"

AK_BEGIN_DECLS

/* ===================================================================== */
/* The meter                                                              */
/* ===================================================================== */

/* A total that is not known (yet). */
#define AK_PROGRESS_UNKNOWN UINT64_MAX

/* Writer modes for ak_progress_init(). */
#define AK_PROGRESS_MULTI_WRITER 0u
#define AK_PROGRESS_SINGLE_WRITER 1u

/* A consistent snapshot: every field from the same update. */
typedef struct ak_progress_snap {
	uint64_t count;      /* items done */
	uint64_t total;      /* items expected, or AK_PROGRESS_UNKNOWN */
	uint64_t started_ns; /* when ak_progress_init/start ran (meter clock) */
	uint64_t last_ns;    /* last progress (or touch); started_ns before any */
} ak_progress_snap;

/* One copy of the payload.  Relaxed atomics: the latch orders them. */
struct _ak_progress_copy {
	_Atomic(uint64_t) count;
	_Atomic(uint64_t) total;
	_Atomic(uint64_t) started_ns;
	_Atomic(uint64_t) last_ns;
};

typedef struct ak_progress {
	/*
	 * bit 0: which copy readers use (1 -> copy[1]); bit 1: a multi-writer
	 * holds the meter.  Every write phase stores a value never seen before,
	 * so "seq unchanged" means "no write phase completed".
	 */
	AK_CACHE_ALIGNED _Atomic(uint64_t) seq;
	uint32_t mode;
	uint32_t reserved_;
	ak_clock clock;
	struct _ak_progress_copy copy[2];
} ak_progress;
AK_ASSERT_PADDED(ak_progress);

/*
 * Initialise (or re-initialise) a meter that nobody else is using yet:
 * count 0, the given total (AK_PROGRESS_UNKNOWN if not known), started_ns =
 * last_ns = now.  `clock` NULL means CLOCK_MONOTONIC; it is copied.
 * AK_EINVAL: p NULL or mode not one of AK_PROGRESS_{SINGLE,MULTI}_WRITER.
 */
ak_status ak_progress_init(ak_progress *p, uint64_t total, unsigned mode, const ak_clock *clock);

/* Spin path of the multi-writer lock (src/progress.c); returns the seq seen. */
uint64_t _ak_progress_lock_slow(ak_progress *p);

/* Enter a write: returns the idle seq value s; readers now use copy[1]. */
AK_INLINE uint64_t _ak_progress_begin(ak_progress *p)
{
	uint64_t s = atomic_load_explicit(&p->seq, memory_order_relaxed);

	if (p->mode == AK_PROGRESS_SINGLE_WRITER) {
		/* Release: pairs with the acquire load of seq in
		 * ak_progress_snapshot(); a reader that selects copy[1] by this
		 * value sees the copy[1] stores of the previous write. */
		atomic_store_explicit(&p->seq, s + 1, memory_order_release);
	} else if ((s & 3) != 0 ||
		   /* Acquire: pairs with the release store that ended the previous
		    * writer's _ak_progress_end(), so we start from its values.
		    * Release: pairs with the acquire load in ak_progress_snapshot()
		    * (readers that select copy[1] see the previous copy[1]). */
		   !atomic_compare_exchange_weak_explicit(&p->seq, &s, s + 3,
							  memory_order_acq_rel,
							  memory_order_relaxed)) {
		s = _ak_progress_lock_slow(p);
	}
	/* Orders the seq store above before the copy[0] stores below; pairs
	 * with the acquire fence in ak_progress_snapshot(). */
	_ak_fence_release(&p->seq);
	return s;
}

/* Half way: copy[0] is written; send readers to it, then copy[1] may change. */
AK_INLINE void _ak_progress_switch(ak_progress *p, uint64_t s)
{
	/* Release: pairs with the acquire load in ak_progress_snapshot(); a
	 * reader that selects copy[0] by this value sees its new contents. */
	atomic_store_explicit(&p->seq, s + 2, memory_order_release);
	/* Orders the seq store above before the copy[1] stores; pairs with the
	 * acquire fence in ak_progress_snapshot(). */
	_ak_fence_release(&p->seq);
}

/* Both copies are written: leave. */
AK_INLINE void _ak_progress_leave(ak_progress *p, uint64_t s)
{
	if (p->mode != AK_PROGRESS_SINGLE_WRITER)
		/* Release: pairs with the acquire CAS of the next writer in
		 * _ak_progress_begin() and with the acquire load in
		 * ak_progress_snapshot() (copy[1] published). */
		atomic_store_explicit(&p->seq, s + 4, memory_order_release);
	/* Single writer: copy[1] is published by the next write's release
	 * store of the odd seq value, the only state in which readers select
	 * copy[1]. */
}

/* Write v (old = the state before) into both copies, publishing each, and leave. */
AK_INLINE void _ak_progress_end(ak_progress *p, uint64_t s, const ak_progress_snap *v,
				const ak_progress_snap *old)
{
	/* Only the words that changed are stored. */
#define _AK_PROGRESS_PUT(c)                                                          \
	do {                                                                         \
		if (v->count != old->count)                                          \
			atomic_store_explicit(&(c)->count, v->count, memory_order_relaxed); \
		if (v->total != old->total)                                          \
			atomic_store_explicit(&(c)->total, v->total, memory_order_relaxed); \
		if (v->started_ns != old->started_ns)                                \
			atomic_store_explicit(&(c)->started_ns, v->started_ns,       \
					      memory_order_relaxed);                 \
		if (v->last_ns != old->last_ns)                                      \
			atomic_store_explicit(&(c)->last_ns, v->last_ns, memory_order_relaxed); \
	} while (0)
	_AK_PROGRESS_PUT(&p->copy[0]);
	_ak_progress_switch(p, s);
	_AK_PROGRESS_PUT(&p->copy[1]);
#undef _AK_PROGRESS_PUT
	_ak_progress_leave(p, s);
}

/* The current state, as the (sole, or lock-holding) writer sees it. */
AK_INLINE void _ak_progress_cur(const ak_progress *p, ak_progress_snap *v)
{
	/* copy[1] is not being written between begin and end: read it. */
	const struct _ak_progress_copy *c = &p->copy[1];
	v->count = atomic_load_explicit(&c->count, memory_order_relaxed);
	v->total = atomic_load_explicit(&c->total, memory_order_relaxed);
	v->started_ns = atomic_load_explicit(&c->started_ns, memory_order_relaxed);
	v->last_ns = atomic_load_explicit(&c->last_ns, memory_order_relaxed);
}

/*
 * Add n items done at time now_ns (meter clock domain).  last_ns becomes
 * max(last_ns, now_ns).  AK_OK, or AK_EOVERFLOW (count + n would pass
 * UINT64_MAX; nothing changed).  n == 0 is a touch.  Mode rules above.
 */
AK_INLINE AK_NONNULL(1) ak_status ak_progress_add_at(ak_progress *p, uint64_t n, uint64_t now_ns)
{
	ak_status st = AK_OK;
	uint64_t s = _ak_progress_begin(p);
	/* copy[1] is stable until _ak_progress_switch(): the current state. */
	uint64_t count = atomic_load_explicit(&p->copy[1].count, memory_order_relaxed);
	uint64_t last = atomic_load_explicit(&p->copy[1].last_ns, memory_order_relaxed);

	if (AK_UNLIKELY(n > UINT64_MAX - count)) {
		st = AK_EOVERFLOW; /* finish the (empty) write: readers just retry */
		n = 0;
		now_ns = last;
	}
	count += n;
	if (now_ns > last)
		last = now_ns;
	atomic_store_explicit(&p->copy[0].count, count, memory_order_relaxed);
	atomic_store_explicit(&p->copy[0].last_ns, last, memory_order_relaxed);
	_ak_progress_switch(p, s);
	atomic_store_explicit(&p->copy[1].count, count, memory_order_relaxed);
	atomic_store_explicit(&p->copy[1].last_ns, last, memory_order_relaxed);
	_ak_progress_leave(p, s);
	return st;
}

/* Add n items done now (reads the meter's clock).  As ak_progress_add_at(). */
AK_INLINE AK_NONNULL(1) ak_status ak_progress_add(ak_progress *p, uint64_t n)
{
	return ak_progress_add_at(p, n, ak_clock_read(&p->clock));
}

/*
 * Set the count to an absolute value at now_ns.  If it changes, last_ns
 * advances as in an add; setting the same value changes nothing.  AK_ERANGE
 * (nothing changed) if count is below the current count: counts never go
 * backwards; use ak_progress_start() to begin again.
 */
ak_status ak_progress_set_at(ak_progress *p, uint64_t count, uint64_t now_ns);
ak_status ak_progress_set(ak_progress *p, uint64_t count);

/* Change the total (AK_PROGRESS_UNKNOWN: unknown).  Not progress: last_ns
 * is unchanged.  AK_EINVAL on NULL. */
ak_status ak_progress_set_total(ak_progress *p, uint64_t total);

/* "Alive, no new items": last_ns = max(last_ns, now).  AK_EINVAL on NULL. */
ak_status ak_progress_touch(ak_progress *p);

/* Begin again: count 0, the given total, started_ns = last_ns = now.  A
 * write (mode rules apply); readers see either the old run or the new one. */
ak_status ak_progress_start(ak_progress *p, uint64_t total);

/* One read attempt: 1 if *out is consistent, 0 if a write phase completed
 * meanwhile (then *out may be torn: try again). */
AK_INLINE int _ak_progress_read_once(ak_progress *m, ak_progress_snap *out)
{
	/* Acquire: pairs with the release stores of seq in _ak_progress_begin(),
	 * _ak_progress_switch() and _ak_progress_leave(): the copy this value
	 * selects is complete. */
	uint64_t s = atomic_load_explicit(&m->seq, memory_order_acquire);
	const struct _ak_progress_copy *c = &m->copy[s & 1];
	out->count = atomic_load_explicit(&c->count, memory_order_relaxed);
	out->total = atomic_load_explicit(&c->total, memory_order_relaxed);
	out->started_ns = atomic_load_explicit(&c->started_ns, memory_order_relaxed);
	out->last_ns = atomic_load_explicit(&c->last_ns, memory_order_relaxed);
	/* Pairs with the release fences in _ak_progress_begin() and
	 * _ak_progress_switch(): if any load above saw a store made after a
	 * later seq change, the re-read below sees that change. */
	_ak_fence_acquire(&m->seq);
	return atomic_load_explicit(&m->seq, memory_order_relaxed) == s;
}

/*
 * Read a consistent snapshot.  Lock-free; callable from any thread and from
 * signal handlers (see Contract).  Always AK_OK for valid arguments;
 * AK_EINVAL if p or out is NULL (with p NULL, *out is zeroed).
 */
AK_INLINE ak_status ak_progress_snapshot(const ak_progress *p, ak_progress_snap *out)
{
	if (!out)
		return AK_EINVAL;
	if (!p) { /* a zero snapshot, so callers never read garbage */
		out->count = out->total = out->started_ns = out->last_ns = 0;
		return AK_EINVAL;
	}
	while (!_ak_progress_read_once((ak_progress *)(uintptr_t)p, out))
		;
	return AK_OK;
}

/*
 * At most `tries` read attempts: wait-free.  AK_OK (consistent *out), or
 * AK_EAGAIN when every attempt overlapped a completed write phase (*out
 * then holds nothing useful).  With a single writer that is interrupted
 * (the signal-handler case) one try always succeeds.  AK_EINVAL: NULL
 * arguments or tries == 0.
 */
AK_INLINE ak_status ak_progress_snapshot_try(const ak_progress *p, ak_progress_snap *out,
					     unsigned tries)
{
	if (!p || !out || tries == 0)
		return AK_EINVAL;
	while (tries--)
		if (_ak_progress_read_once((ak_progress *)(uintptr_t)p, out))
			return AK_OK;
	return AK_EAGAIN;
}

/* One-field conveniences (each a full snapshot). */
AK_INLINE uint64_t ak_progress_count(const ak_progress *p)
{
	ak_progress_snap s;
	return ak_progress_snapshot(p, &s) == AK_OK ? s.count : 0;
}

/* ===================================================================== */
/* Rate and ETA (observer side)                                           */
/* ===================================================================== */

/* e^-x and 1 - e^-x for x >= 0, without libm (src/progress.c; not API). */
double _ak_exp_neg(double x);
double _ak_one_minus_exp_neg(double x);

/* Defaults for ak_progress_rate_init(). */
#define AK_PROGRESS_TAU_DEFAULT (5 * AK_NS_PER_SEC)
#define AK_PROGRESS_STALL_DEFAULT (15 * AK_NS_PER_SEC)
/* stall_ns meaning "never report stalled". */
#define AK_PROGRESS_STALL_NEVER UINT64_MAX

typedef enum ak_eta_state {
	AK_ETA_UNKNOWN = 0, /* total unknown, or no rate yet */
	AK_ETA_KNOWN,       /* eta_ns is an estimate */
	AK_ETA_STALLED,     /* no progress for longer than stall_ns */
	AK_ETA_DONE         /* count >= total */
} ak_eta_state;

/*
 * One observer's rate state.  Not shared: each observer (display, watchdog,
 * signal handler) keeps its own.  Plain memory; one thread at a time.
 */
typedef struct ak_progress_rate {
	uint64_t tau_ns;     /* EWMA time constant */
	uint64_t stall_ns;   /* idle longer than this = stalled */
	uint64_t run_ns;     /* started_ns of the run being tracked */
	uint64_t prev_count; /* end of the last segment */
	uint64_t prev_ns;
	double rate;         /* items per second, EWMA over segments */
	double gap_ns;       /* EWMA of segment lengths (the update rhythm) */
	int have_prev;
	int have_rate;
} ak_progress_rate;

/* What an observer derives from one snapshot. */
typedef struct ak_progress_est {
	ak_progress_snap snap;
	uint64_t now_ns;     /* when it was estimated */
	uint64_t idle_ns;    /* now - last_ns (0 if the clock stepped back) */
	uint64_t elapsed_ns; /* now - started_ns, or last - started once done */
	double rate;         /* items/s now (decays while idle); valid if rate_known */
	int rate_known;
	int percent_tenths;  /* 0..1000+ (count/total in 0.1 %), -1 if total unknown */
	ak_eta_state eta;
	uint64_t eta_ns;     /* valid when eta == AK_ETA_KNOWN */
} ak_progress_est;

/*
 * tau_ns: time constant of the rate average (AK_PROGRESS_TAU_DEFAULT is
 * 5 s): data older than tau weighs e^-1 of new data, whatever the update
 * frequency.  stall_ns: idle time after which the ETA reads "stalled"
 * (AK_PROGRESS_STALL_NEVER to disable).  AK_EINVAL: r NULL, tau_ns 0, or
 * stall_ns 0.
 */
ak_status ak_progress_rate_init(ak_progress_rate *r, uint64_t tau_ns, uint64_t stall_ns);

/*
 * Fold snapshot s (taken at about now_ns) into r and fill *out.  The rate
 * is measured between progress timestamps (the writer's last_ns), so it
 * does not depend on how often the writer updates or the observer looks;
 * while no progress arrives for longer than the usual update gap, the
 * shown rate decays with the same time constant.  A restarted meter (new
 * started_ns, or a count below the last seen) resets r.  Wait-free, no
 * system calls, async-signal-safe.  AK_EINVAL on NULL arguments.
 */
ak_status ak_progress_estimate(ak_progress_rate *r, const ak_progress_snap *s, uint64_t now_ns,
			       ak_progress_est *out);

/*
 * Format one line into buf (NUL-terminated whenever size > 0):
 *     "1234/5000 24.7% 812/s ETA 4.6s"       total known
 *     "1234 812/s ETA ?"                     total unknown
 *     "10/5000 0.2% ?/s ETA ?"               no rate yet
 *     "1234/5000 24.7% 3.1/s stalled 20.0s"  idle past stall_ns (idle time)
 *     "5000/5000 100.0% 812/s done 6.2s"     finished (run time)
 * Counts are printed in full; rates with 3 significant digits and k/M/G/T/P/E
 * suffixes; the percentage never shows 100.0% before count reaches total.
 * AK_OK; AK_E2BIG if it did not fit (buf holds a truncated line; *len_out,
 * if not NULL, always receives the full length without the NUL, so the
 * caller can retry); AK_EINVAL on NULL buf (with size > 0) or est.
 * No stdio, no locale, no allocation: async-signal-safe.
 */
ak_status ak_progress_format(char *buf, size_t size, const ak_progress_est *est, size_t *len_out);

/* Duration as the formatter prints it ("4.6s", "12m05s", "3h04m", "2d03h"). */
ak_status ak_progress_format_duration(char *buf, size_t size, uint64_t ns, size_t *len_out);

/* ===================================================================== */
/* Terminal display                                                       */
/* ===================================================================== */

#define AK_DISPLAY_AUTO 0u  /* redraw in place if fd is a TTY, else plain lines */
#define AK_DISPLAY_TTY 1u   /* always redraw in place ("\r...\033[K") */
#define AK_DISPLAY_PLAIN 2u /* always one plain line per interval */

#define AK_DISPLAY_TTY_INTERVAL (200 * AK_NS_PER_MS)
#define AK_DISPLAY_PLAIN_INTERVAL (10 * AK_NS_PER_SEC)

typedef struct ak_progress_display {
	const ak_progress *meter;
	ak_progress_rate rate;
	ak_clock clock;
	const char *label;
	int fd;
	int tty;
	uint64_t interval_ns;
	uint64_t next_ns;
	size_t drawn;        /* visible width of the last TTY line */
	void *thread_;       /* background thread state (src/progress.c) */
} ak_progress_display;

/*
 * Show `meter` on file descriptor fd, prefixed by label (may be NULL; the
 * string must outlive the display).  interval_ns 0 picks the default for
 * the mode.  clock NULL: CLOCK_MONOTONIC; it times the redraws and the rate
 * and should be the meter's clock.  AK_EINVAL: NULL d or meter, fd < 0,
 * unknown mode.
 */
ak_status ak_progress_display_init(ak_progress_display *d, const ak_progress *meter, int fd,
				   const char *label, unsigned mode, uint64_t interval_ns,
				   const ak_clock *clock);

/* Draw if the interval has passed since the last draw: AK_OK (drawn),
 * AK_EAGAIN (not yet), AK_ESYS (write failed).  One thread at a time. */
ak_status ak_progress_display_tick(ak_progress_display *d);

/* Draw now.  AK_OK or AK_ESYS. */
ak_status ak_progress_display_draw(ak_progress_display *d);

/* Final draw; on a TTY also ends the line.  AK_OK or AK_ESYS. */
ak_status ak_progress_display_finish(ak_progress_display *d);

/* Tick from a background thread until ak_progress_display_stop(), which
 * joins it and calls _finish.  start: AK_ESTATE if already started,
 * AK_ENOMEM / AK_ESYS if the thread could not be made.  stop: AK_ESTATE
 * if not started. */
ak_status ak_progress_display_start(ak_progress_display *d);
ak_status ak_progress_display_stop(ak_progress_display *d);

AK_END_DECLS

#endif /* ATOMKIT_PROGRESS_H */
