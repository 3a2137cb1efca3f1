/*
 * atomkit/internal/compiler.h - compiler and layout helpers.
 *
 * Not API: everything here is _ak_* / AK_* plumbing for atomkit's own
 * headers.  It may change without notice.
 *
 * The headers are written so that they also compile as C++ (C++23 with
 * libstdc++'s <stdatomic.h>, where _Atomic(T) is std::atomic<T>), hence
 * the AK_STATIC_ASSERT / AK_ALIGNAS / AK_THREAD_LOCAL spellings and the
 * explicit casts from void *.
 */
#ifndef ATOMKIT_INTERNAL_COMPILER_H
#define ATOMKIT_INTERNAL_COMPILER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define AK_BEGIN_DECLS extern "C" {
#define AK_END_DECLS }
#define AK_STATIC_ASSERT(c, m) static_assert(c, m)
#define AK_ALIGNAS(n) alignas(n)
#define AK_ALIGNOF(t) alignof(t)
#define AK_THREAD_LOCAL thread_local
#else
#define AK_BEGIN_DECLS
#define AK_END_DECLS
#define AK_STATIC_ASSERT(c, m) _Static_assert(c, m)
#define AK_ALIGNAS(n) _Alignas(n)
#define AK_ALIGNOF(t) _Alignof(t)
#define AK_THREAD_LOCAL _Thread_local
#endif

#define AK_INLINE static inline __attribute__((always_inline))
#define AK_NOINLINE __attribute__((noinline))
#define AK_LIKELY(x) __builtin_expect(!!(x), 1)
#define AK_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define AK_NONNULL(...) __attribute__((nonnull(__VA_ARGS__)))
#define AK_WARN_UNUSED __attribute__((warn_unused_result))
#define AK_UNUSED __attribute__((unused))

/*
 * Cache-line geometry.  AK_CACHE_LINE is the coherence unit on every
 * x86-64 and most arm64 parts.  AK_DESTRUCTIVE_SIZE is what a writer's
 * private fields are padded to: 128 bytes, because the adjacent-line
 * prefetcher on Intel (and 128-byte lines on Apple M-series) make two
 * writers 64 bytes apart still interfere.
 */
#define AK_CACHE_LINE 64
#define AK_DESTRUCTIVE_SIZE 128

/* Align a struct member (or a whole struct) to its own destructive unit. */
#define AK_CACHE_ALIGNED AK_ALIGNAS(AK_DESTRUCTIVE_SIZE)

/* Layout assertion used after every padded struct. */
#define AK_ASSERT_PADDED(type)                                                \
	AK_STATIC_ASSERT(sizeof(type) % AK_DESTRUCTIVE_SIZE == 0,              \
			 #type " must fill whole destructive units")

/* ThreadSanitizer detection, for gcc (__SANITIZE_THREAD__) and clang. */
#if defined(__SANITIZE_THREAD__)
#define AK_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define AK_TSAN 1
#endif
#endif
#ifndef AK_TSAN
#define AK_TSAN 0
#endif

/* The atomic types this library needs must be lock-free (no libatomic). */
AK_STATIC_ASSERT(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");
AK_STATIC_ASSERT(ATOMIC_INT_LOCK_FREE == 2, "32-bit atomics must be lock-free");
AK_STATIC_ASSERT(ATOMIC_POINTER_LOCK_FREE == 2, "pointer atomics must be lock-free");

#endif /* ATOMKIT_INTERNAL_COMPILER_H */
