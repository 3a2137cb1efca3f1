/*
 * atomkit/internal/relax.h - CPU relax and bounded exponential backoff.
 *
 * Not API.
 */
#ifndef ATOMKIT_INTERNAL_RELAX_H
#define ATOMKIT_INTERNAL_RELAX_H

#include "compiler.h"

/* Tell the core we are spinning: `pause` on x86, `yield` on arm64. */
AK_INLINE void _ak_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/*
 * Bounded exponential backoff: each call spins twice as long as the one
 * before, up to `ceiling` relax instructions.  The state is one integer the
 * caller keeps on its stack, so there is nothing shared to contend on.
 */
struct _ak_backoff {
	uint32_t spins;
	uint32_t ceiling;
};

#define _AK_BACKOFF_INIT(ceiling) { 1, (ceiling) }
#define _AK_BACKOFF_DEFAULT_CEILING 1024u

AK_INLINE void _ak_backoff_init(struct _ak_backoff *b, uint32_t ceiling)
{
	b->spins = 1;
	b->ceiling = ceiling ? ceiling : 1;
}

AK_INLINE void _ak_backoff_spin(struct _ak_backoff *b)
{
	for (uint32_t i = 0; i < b->spins; i++)
		_ak_cpu_relax();
	if (b->spins < b->ceiling)
		b->spins <<= 1;
}

/* True once the backoff has reached its ceiling: time to block instead. */
AK_INLINE int _ak_backoff_exhausted(const struct _ak_backoff *b)
{
	return b->spins >= b->ceiling;
}

#endif /* ATOMKIT_INTERNAL_RELAX_H */
