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
 *
 * Every product and sum goes through rl_mul()/rl_add(), which abort on
 * 128-bit overflow: an oracle that wraps reports windows that do not exist
 * (session 1's "2e-15 token" excess over rate changes was exactly that: the
 * common denominator D, then computed in 64 bits, wrapped).
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

static inline rl_i128 rl_mul(rl_i128 a, rl_i128 b)
{
	rl_i128 r;
	if (__builtin_mul_overflow(a, b, &r))
		abort(); /* test bug: the oracle's arithmetic would wrap */
	return r;
}

static inline rl_i128 rl_add(rl_i128 a, rl_i128 b)
{
	rl_i128 r;
	if (__builtin_add_overflow(a, b, &r))
		abort(); /* test bug: as above */
	return r;
}

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

	if (n)
		qsort(ev, n, sizeof *ev, rl_event_cmp);
	for (size_t i = 0; i < n;) {
		uint64_t t = ev[i].t;
		int64_t net = 0;
		while (i < n && ev[i].t == t)
			net += ev[i++].n;
		rl_i128 lo, hi;
		allow(ctx, t, &lo, &hi);
		rl_i128 Y = rl_add(rl_mul(D, S), -lo); /* window starting here */
		if (!have_min || Y < minY) {
			minY = Y;
			min_at = t;
		}
		have_min = 1;
		S += net;
		rl_i128 X = rl_add(rl_mul(D, S), -hi); /* window ending here */
		rl_i128 over = rl_add(rl_add(X, -minY), -rl_mul(D, (rl_i128)b));
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
	uint64_t start; /* segment covers [start, next start); starts never decrease */
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
		a = rl_add(a, rl_mul(rl_mul((rl_i128)(e - st), (rl_i128)s->seg[i].k),
				     s->D / s->seg[i].per));
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
	if (s->nseg && start < s->seg[s->nseg - 1].start)
		abort(); /* test bug: segments out of order */
	s->seg[s->nseg].start = start;
	s->seg[s->nseg].k = k;
	s->seg[s->nseg].per = per;
	s->nseg++;
	/* lcm in 128 bits, checked (see rl_mul): a wrapped D is not a
	 * multiple of every per, and D / per then under-counts the allowance */
	rl_i128 g = (rl_i128)rl_gcd((uint64_t)(s->D % per), per);
	s->D = rl_mul(s->D / g, (rl_i128)per);
}

/* ---- allowance for the interval bucket: what the ticks credited ---------
 *
 * A tick at time t that finds m schedule instants owed credits k*m at t
 * (capped by the bucket at b).  The allowance of a window is b plus k*m of
 * every tick inside it.  With ticks on time (one per instant) this is
 * b + k * (instants in the window); a late tick moves the instants it
 * pays for to its own time, as a refill thread that runs late does. */

struct rl_credit {
	uint64_t t;
	rl_i128 sum; /* credits at times <= t, after sorting */
};

struct rl_credit_sched {
	struct rl_credit *c;
	size_t n, cap;
};

static inline void rl_credit_push(struct rl_credit_sched *s, uint64_t t, uint64_t amount)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->c = (struct rl_credit *)realloc(s->c, s->cap * sizeof *s->c);
	}
	s->c[s->n].t = t;
	s->c[s->n].sum = amount;
	s->n++;
}

static inline int rl_credit_cmp(const void *a, const void *b)
{
	const struct rl_credit *x = (const struct rl_credit *)a, *y = (const struct rl_credit *)b;
	return x->t < y->t ? -1 : x->t > y->t;
}

/* Call once after the trace, before rl_oracle(). */
static inline void rl_credit_seal(struct rl_credit_sched *s)
{
	if (s->n)
		qsort(s->c, s->n, sizeof *s->c, rl_credit_cmp);
	for (size_t i = 1; i < s->n; i++)
		s->c[i].sum += s->c[i - 1].sum;
}

/* Sum of credits at times <= t. */
static inline rl_i128 rl_credit_upto(const struct rl_credit_sched *s, uint64_t t)
{
	size_t lo = 0, hi = s->n; /* first index with time > t */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->c[mid].t <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? s->c[lo - 1].sum : 0;
}

static inline void rl_credit_allow(void *ctx, uint64_t t, rl_i128 *lo, rl_i128 *hi)
{
	const struct rl_credit_sched *s = (const struct rl_credit_sched *)ctx;
	*hi = rl_credit_upto(s, t);
	*lo = t ? rl_credit_upto(s, t - 1) : 0;
}

#endif /* ATOMKIT_TESTS_RATELIMIT_ORACLE_H */
