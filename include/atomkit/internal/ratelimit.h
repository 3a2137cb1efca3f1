/*
 * atomkit/internal/ratelimit.h - integer helpers shared by limiter.h and
 * tbucket.h.
 *
 * Not API.
 *
 * Everything here is exact integer arithmetic on uint64_t; the one place a
 * product can exceed 64 bits (rescaling a debt by a new rate) goes through
 * a 128-bit intermediate and saturates.
 */
#ifndef ATOMKIT_INTERNAL_RATELIMIT_H
#define ATOMKIT_INTERNAL_RATELIMIT_H

#include "compiler.h"

/* Times the limiters accept: below 2^63 ns (292 years of CLOCK_MONOTONIC;
 * 2^63 and up is AK_EOVERFLOW).  No state word holds a time in ns that
 * needs more: ak_limiter counts units from an epoch, the table's slots keep
 * bit 63 as a flag, ak_tbucket keeps token totals. */
#define _AK_RL_TIME_LIMIT (UINT64_C(1) << 63)

/* Largest burst * interval product (the tolerance), so that now + tolerance
 * and TAT + cost stay below 2^64 for times (and table TATs) below 2^63. */
#define _AK_RL_SPAN_LIMIT (UINT64_C(1) << 62)

AK_INLINE uint64_t _ak_rl_gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* ceil(a / b), b != 0, without overflow. */
AK_INLINE uint64_t _ak_rl_div_up(uint64_t a, uint64_t b)
{
	return a / b + (a % b != 0);
}

/* a * b, or UINT64_MAX when the product does not fit. */
AK_INLINE uint64_t _ak_rl_mul_sat(uint64_t a, uint64_t b)
{
	uint64_t r;
	return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

/* a + b, or UINT64_MAX when the sum does not fit. */
AK_INLINE uint64_t _ak_rl_add_sat(uint64_t a, uint64_t b)
{
	uint64_t r;
	return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

/* ceil(a * num / den), saturating at UINT64_MAX; den != 0. */
AK_INLINE uint64_t _ak_rl_muldiv_up(uint64_t a, uint64_t num, uint64_t den)
{
	__extension__ typedef unsigned __int128 u128;
	u128 p = (u128)a * num;
	u128 q = p / den + (p % den != 0);
	return q > (u128)UINT64_MAX ? UINT64_MAX : (uint64_t)q;
}

#endif /* ATOMKIT_INTERNAL_RATELIMIT_H */
