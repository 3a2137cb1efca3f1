/*
 * tests/unit/ratelimit_oracle.h - the exactness oracle for rate limiters.
 *
 * Input: a trace of events (time, tokens), tokens < 0 for refunds, and an
 * allowance function.  The claim checked, for EVERY pair of event times
 * t_i <= t_j:
 *
 *     D * (net tokens with times in [t_i, t_j])  <=  D * b + hi(t_j) - lo(t_i)
 *
 * where hi(t) / lo(t) are D times the cumulative allowance through t
 * inclusive / before t.  Integer arithmetic throughout (128-bit).
 *
 * Events with equal times are merged first (a window [t, t] holds all of
 * them).  Then, with S_j the prefix sum over distinct times, the claim is
 * (D S_j - hi(t_j)) - (D S_{i-1} - lo(t_i)) <= D b for all i <= j: one pass
 * keeping the minimum of the right-hand term.  O(N log N) for the sort.
 */
#ifndef ATOMKIT_TESTS_RATELIMIT_ORACLE_H
#define ATOMKIT_TESTS_RATELIMIT_ORACLE_H

#include <stdint.h>
#include <stdlib.h>

__extension__ typedef __int128 rl_i128;

struct rl_event {
	uint64_t t;
	int64_t n;
};

typedef void (*rl_allow_fn)(void *ctx, uint64_t t, rl_i128 *lo, rl_i128 *hi);

struct rl_verdict {
	uint64_t windows;    /* distinct end points checked */
	uint64_t violations; /* end points whose worst window exceeds the bound */
	rl_i128 tightest;    /* max over windows of (lhs - bound); <= 0 is good */
	int64_t admitted;    /* net tokens in the whole trace */
	uint64_t bad_from, bad_to; /* the first violating window, if any */
};

static inline int rl_event_cmp(const void *a, const void *b)
{
	const struct rl_event *x = (const struct rl_event *)a, *y = (const struct rl_event *)b;
	return x->t < y->t ? -1 : x->t > y->t;
}

static inline struct rl_verdict rl_oracle(struct rl_event *ev, size_t n, rl_i128 D, uint64_t b,
				   rl_allow_fn allow, void *ctx)
{
	struct rl_verdict v = { 0, 0, 0, 0, 0, 0 };
	int have_min = 0, have_tight = 0;
	rl_i128 minY = 0, S = 0;
	uint64_t min_at = 0;

	qsort(ev, n, sizeof *ev, rl_event_cmp);
	for (size_t i = 0; i < n;) {
		uint64_t t = ev[i].t;
		int64_t net = 0;
		while (i < n && ev[i].t == t)
			net += ev[i++].n;
		rl_i128 lo, hi;
		allow(ctx, t, &lo, &hi);
		rl_i128 Y = D * S - lo; /* window starting here */
		if (!have_min || Y < minY) {
			minY = Y;
			min_at = t;
		}
		have_min = 1;
		S += net;
		rl_i128 X = D * S - hi; /* window ending here */
		rl_i128 over = X - minY - D * (rl_i128)b;
		if (!have_tight || over > v.tightest)
			v.tightest = over;
		have_tight = 1;
		if (over > 0 && v.violations++ == 0) {
			v.bad_from = min_at;
			v.bad_to = t;
		}
		v.windows++;
	}
	v.admitted = (int64_t)S;
	return v;
}

/* ---- allowance for the lazy limiter: piecewise rate k/per ---------------- */

struct rl_seg {
	uint64_t start; /* segment covers [start, next start) */
	uint64_t k, per;
};

struct rl_rate_sched {
	struct rl_seg seg[1024];
	size_t nseg;
	rl_i128 D; /* a common multiple of every per */
};

static inline void rl_rate_allow(void *ctx, uint64_t t, rl_i128 *lo, rl_i128 *hi)
{
	struct rl_rate_sched *s = (struct rl_rate_sched *)ctx;
	rl_i128 a = 0;
	for (size_t i = 0; i < s->nseg; i++) {
		uint64_t st = s->seg[i].start;
		uint64_t en = i + 1 < s->nseg ? s->seg[i + 1].start : UINT64_MAX;
		if (t <= st)
			break;
		uint64_t e = t < en ? t : en;
		a += (rl_i128)(e - st) * s->seg[i].k * (s->D / s->seg[i].per);
	}
	*lo = *hi = a;
}

static inline uint64_t rl_gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t r = a % b;
		a = b;
		b = r;
	}
	return a;
}

static inline void rl_rate_push(struct rl_rate_sched *s, uint64_t start, uint64_t k, uint64_t per)
{
	if (s->nseg == 0)
		s->D = 1;
	if (s->nseg == sizeof s->seg / sizeof s->seg[0])
		abort(); /* test bug: too many changes in one trace */
	s->seg[s->nseg].start = start;
	s->seg[s->nseg].k = k;
	s->seg[s->nseg].per = per;
	s->nseg++;
	uint64_t d = (uint64_t)s->D;
	s->D = (rl_i128)(d / rl_gcd(d, per) * per);
}

/* ---- allowance for the interval bucket: k at each schedule instant -------- */

struct rl_tseg {
	uint64_t epoch; /* instants epoch + i*per, i >= 1, up to and including end */
	uint64_t end;   /* the next segment's epoch; UINT64_MAX for the last */
	uint64_t k, per;
};

struct rl_tick_sched {
	struct rl_tseg seg[1024];
	size_t nseg;
};

static inline rl_i128 rl_tick_count(const struct rl_tick_sched *s, uint64_t t)
{
	rl_i128 a = 0;
	for (size_t i = 0; i < s->nseg; i++) {
		const struct rl_tseg *g = &s->seg[i];
		uint64_t e = t < g->end ? t : g->end;
		if (e > g->epoch)
			a += (rl_i128)((e - g->epoch) / g->per) * g->k;
	}
	return a;
}

static inline void rl_tick_allow(void *ctx, uint64_t t, rl_i128 *lo, rl_i128 *hi)
{
	const struct rl_tick_sched *s = (const struct rl_tick_sched *)ctx;
	*hi = rl_tick_count(s, t);
	*lo = t ? rl_tick_count(s, t - 1) : 0;
}

static inline void rl_tick_push(struct rl_tick_sched *s, uint64_t epoch, uint64_t k, uint64_t per)
{
	if (s->nseg == sizeof s->seg / sizeof s->seg[0])
		abort(); /* test bug: too many changes in one trace */
	if (s->nseg)
		s->seg[s->nseg - 1].end = epoch;
	s->seg[s->nseg].epoch = epoch;
	s->seg[s->nseg].end = UINT64_MAX;
	s->seg[s->nseg].k = k;
	s->seg[s->nseg].per = per;
	s->nseg++;
}

#endif /* ATOMKIT_TESTS_RATELIMIT_ORACLE_H */
