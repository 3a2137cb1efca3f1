/*
 * atomkit/seqlock.h - seqlock snapshots of a caller-sized payload.
 *
 * Overview
 *   ak_seqlock    one copy of the payload and a sequence word.  Writers take
 *                 the sequence word's low bit with a CAS (so any number of
 *                 writers may call in; they are serialised), write, and
 *                 release it.  Readers copy the payload and retry if a write
 *                 overlapped their copy.
 *   ak_seqlatch   two copies (a "latch").  Readers never wait for a writer:
 *                 while one copy is being written they read the other.  For
 *                 readers that may interrupt the writer (a signal handler on
 *                 the writer's thread) and for readers that must not spin.
 *                 One writer at a time; a second concurrent writer gets
 *                 AK_EBUSY (the latch never blocks).
 *
 *   The payload lives in caller-provided storage of `_Atomic(uint64_t)`
 *   words (AK_SEQLOCK_WORDS(bytes) of them, AK_SEQLATCH_WORDS(bytes) for
 *   the latch) and is copied with relaxed atomic word loads and stores, so
 *   a reader that overlaps a writer is not a data race in C11 terms and
 *   ThreadSanitizer needs no suppressions.  Orderings follow Boehm
 *   ("Can seqlocks get along with programming language memory models?",
 *   MSPC 2012): acquire load of the sequence, relaxed payload loads,
 *   acquire fence, relaxed re-load; the writer puts a release fence between
 *   making the sequence odd and its first payload store.
 *
 * Contract
 *   - ak_seqlock_read()/ak_seqlatch_read() return a snapshot that some
 *     completed write (or init) produced: never a mix of two writes.
 *   - The *_try_read forms give up after `max_tries` overlapping writes
 *     and return AK_EAGAIN; the output buffer then holds unspecified bytes
 *     (nothing in the seqlock changed).
 *   - `size` must equal the size given to init; otherwise AK_EINVAL and
 *     nothing is copied.  NULL objects or buffers: AK_EINVAL.
 *   - The payload must not hold pointers a reader dereferences: a reader
 *     may see a value that a retry then discards (copy, then validate).
 *   - ak_seqlock_write_end() by a thread that does not hold the write bit
 *     is detected when the bit is clear (AK_ESTATE).  A writer that never
 *     ends blocks ak_seqlock_read() forever (use try_read to bound it).
 *
 * Progress
 *   Reads are lock-free against other readers and obstruction-free against
 *   writers: a reader retries only while writes keep overlapping it.
 *   ak_seqlatch reads never wait for a writer to finish.  ak_seqlock
 *   writers are blocking (a spin lock on the write bit); try_write_begin
 *   never blocks.  ak_seqlatch_write is wait-free (or AK_EBUSY).
 *
 * Example
 *     struct pos { double x, y, z; };
 *     static _Atomic(uint64_t) words[AK_SEQLOCK_WORDS(sizeof(struct pos))];
 *     static ak_seqlock sl;
 *     ak_seqlock_init(&sl, words, sizeof(struct pos), NULL);
 *     ak_seqlock_write(&sl, &(struct pos){1, 2, 3}, sizeof(struct pos));
 *     struct pos p;
 *     ak_seqlock_read(&sl, &p, sizeof p);
 */
#ifndef ATOMKIT_SEQLOCK_H
#define ATOMKIT_SEQLOCK_H

#include <stdbool.h>
#include <string.h>

#include "internal/compiler.h"
#include "internal/fence.h"
#include "internal/relax.h"
#include "status.h"

AK_BEGIN_DECLS

/* Words of storage for a payload of `bytes` bytes. */
#define AK_SEQLOCK_WORDS(bytes) (((bytes) + 7u) / 8u)
/* The latch keeps two copies. */
#define AK_SEQLATCH_WORDS(bytes) (2u * AK_SEQLOCK_WORDS(bytes))
/* Largest payload (bytes). */
#define AK_SEQLOCK_MAX_SIZE (UINT32_C(1) << 30)

/* Looks at an odd sequence before a reader yields the CPU. */
#define _AK_SEQ_SPINS 256u

/* sched_yield(), out of line (src/seqlock.c) so this header needs no POSIX
 * feature macros. */
void _ak_seq_yield(void);

/* ===================================================================== */
/* payload copy helpers (shared by both variants)                         */
/* ===================================================================== */

AK_INLINE void _ak_seq_copy_out(_Atomic(uint64_t) *words, void *dst, size_t size)
{
	unsigned char *d = (unsigned char *)dst;
	size_t nw = (size + 7) / 8, i;

	/* Four full words per step: for a constant size the loops disappear. */
	for (i = 0; i + 4 <= size / 8; i += 4) {
		uint64_t w0 = atomic_load_explicit(&words[i], memory_order_relaxed);
		uint64_t w1 = atomic_load_explicit(&words[i + 1], memory_order_relaxed);
		uint64_t w2 = atomic_load_explicit(&words[i + 2], memory_order_relaxed);
		uint64_t w3 = atomic_load_explicit(&words[i + 3], memory_order_relaxed);
		memcpy(d + 8 * i, &w0, 8);
		memcpy(d + 8 * i + 8, &w1, 8);
		memcpy(d + 8 * i + 16, &w2, 8);
		memcpy(d + 8 * i + 24, &w3, 8);
	}
	/* The rest, the last word possibly partial.  (One loop over words
	 * [0, nw): no index past the storage even in code that is dead for a
	 * given size, which gcc's overflow warnings would flag.) */
	for (; i < nw; i++) {
		uint64_t w = atomic_load_explicit(&words[i], memory_order_relaxed);
		size_t k = size - 8 * i < 8 ? size - 8 * i : 8;
		memcpy(d + 8 * i, &w, k);
	}
}

AK_INLINE void _ak_seq_copy_in(_Atomic(uint64_t) *words, const void *src, size_t size)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t nw = (size + 7) / 8, i;

	for (i = 0; i < nw; i++) {
		uint64_t w = 0;
		size_t k = size - 8 * i < 8 ? size - 8 * i : 8;
		memcpy(&w, s + 8 * i, k);
		atomic_store_explicit(&words[i], w, memory_order_relaxed);
	}
}

AK_INLINE ak_status _ak_seq_check_init(const void *obj, _Atomic(uint64_t) *words, size_t size)
{
	if (!obj || !words || size == 0)
		return AK_EINVAL;
	if (size > AK_SEQLOCK_MAX_SIZE)
		return AK_E2BIG;
	return AK_OK;
}

/* ===================================================================== */
/* ak_seqlock                                                             */
/* ===================================================================== */

typedef struct ak_seqlock {
	_Atomic(uint32_t) seq; /* even: no writer; odd: a writer holds it */
	uint32_t size;         /* payload bytes, fixed at init */
	_Atomic(uint64_t) *words;
} ak_seqlock;

/*
 * Attach `words` (AK_SEQLOCK_WORDS(size) of them, caller-owned, outliving
 * the seqlock) and copy `initial` in (NULL: zero bytes).  Not concurrent
 * with any other use.  AK_EINVAL on NULL/zero size, AK_E2BIG above
 * AK_SEQLOCK_MAX_SIZE.
 */
AK_INLINE ak_status ak_seqlock_init(ak_seqlock *sl, _Atomic(uint64_t) *words, size_t size,
				    const void *initial)
{
	ak_status st = _ak_seq_check_init(sl, words, size);
	size_t i;

	if (st != AK_OK)
		return st;
	atomic_store_explicit(&sl->seq, 0, memory_order_relaxed);
	sl->size = (uint32_t)size;
	sl->words = words;
	if (initial) {
		_ak_seq_copy_in(words, initial, size);
	} else {
		for (i = 0; i < AK_SEQLOCK_WORDS(size); i++)
			atomic_store_explicit(&words[i], 0, memory_order_relaxed);
	}
	return AK_OK;
}

/* --- raw reader protocol ------------------------------------------------ */

/*
 * Start a read: returns the sequence to pass to ak_seqlock_read_retry().
 * An odd value means a writer is active; the caller should not bother
 * copying (read_retry will say retry).  Wait-free.
 */
AK_INLINE AK_NONNULL(1) uint32_t ak_seqlock_read_begin(ak_seqlock *sl)
{
	/* Acquire: pairs with the release store in ak_seqlock_write_end(), so a
	 * reader that sees the even value also sees that write's payload. */
	return atomic_load_explicit(&sl->seq, memory_order_acquire);
}

/* Word i of the payload (relaxed); valid only if read_retry says so. */
AK_INLINE AK_NONNULL(1) uint64_t ak_seqlock_load_word(ak_seqlock *sl, size_t i)
{
	return atomic_load_explicit(&sl->words[i], memory_order_relaxed);
}

/* True if the words read since `start` may be torn: retry.  Wait-free. */
AK_INLINE AK_NONNULL(1) bool ak_seqlock_read_retry(ak_seqlock *sl, uint32_t start)
{
	/* Acquire fence: the payload loads above are ordered before the
	 * re-load.  If any of them saw a store made after a writer's odd
	 * increment, the writer's release fence (ak_seqlock_write_begin)
	 * synchronises with this fence and the re-load sees the odd value or
	 * later. */
	_ak_fence_acquire(&sl->seq);
	return (start & 1u) ||
	       atomic_load_explicit(&sl->seq, memory_order_relaxed) != start;
}

/* --- whole-payload reads ----------------------------------------------- */

/*
 * Copy a consistent snapshot to `out`, giving up after `max_tries`
 * attempts that overlapped a write (AK_EAGAIN; `out` then holds
 * unspecified bytes).  max_tries == 0 is AK_EINVAL.  Lock-free, never
 * blocks.
 */
AK_INLINE ak_status ak_seqlock_try_read(ak_seqlock *sl, void *out, size_t size,
					unsigned max_tries)
{
	uint32_t s;

	if (!sl || !out || size != sl->size || max_tries == 0)
		return AK_EINVAL;
	while (max_tries--) {
		s = ak_seqlock_read_begin(sl);
		if (s & 1u) {
			_ak_cpu_relax();
			continue;
		}
		_ak_seq_copy_out(sl->words, out, size);
		if (!ak_seqlock_read_retry(sl, s))
			return AK_OK;
	}
	return AK_EAGAIN;
}

/* Copy a consistent snapshot to `out`, retrying as long as writes overlap. */
AK_INLINE ak_status ak_seqlock_read(ak_seqlock *sl, void *out, size_t size)
{
	uint32_t s, spins = 0;

	if (!sl || !out || size != sl->size)
		return AK_EINVAL;
	for (;;) {
		s = ak_seqlock_read_begin(sl);
		if (!(s & 1u)) {
			_ak_seq_copy_out(sl->words, out, size);
			if (!ak_seqlock_read_retry(sl, s))
				return AK_OK;
		} else if (++spins < _AK_SEQ_SPINS) {
			/* One pause per look: writes are short, and an
			 * exponential backoff here measured about 2x slower
			 * reads beside a busy writer. */
			_ak_cpu_relax();
		} else {
			/* The writer has held the bit this long: it is
			 * probably preempted, so let it run. */
			spins = 0;
			_ak_seq_yield();
		}
	}
}

/* --- writers ------------------------------------------------------------- */

/* One CAS attempt on the write bit; 1 on success. */
AK_INLINE int _ak_seqlock_try_lock(ak_seqlock *sl)
{
	uint32_t s = atomic_load_explicit(&sl->seq, memory_order_relaxed);

	if (s & 1u)
		return 0;
	/* Acquire: pairs with the release store in the previous writer's
	 * ak_seqlock_write_end(), so our payload stores come after its. */
	if (!atomic_compare_exchange_strong_explicit(&sl->seq, &s, s + 1, memory_order_acquire,
						     memory_order_relaxed))
		return 0;
	/* Release fence: keeps the payload stores that follow from becoming
	 * visible before the odd sequence (Boehm; a release CAS alone would
	 * not hold later stores back).  Pairs with the acquire fence in
	 * ak_seqlock_read_retry(). */
	_ak_fence_release(&sl->seq);
	return 1;
}

/* Take the write bit if free: AK_OK, or AK_EBUSY if another writer holds
 * it.  Never blocks.  AK_EINVAL on NULL. */
AK_INLINE ak_status ak_seqlock_try_write_begin(ak_seqlock *sl)
{
	if (!sl)
		return AK_EINVAL;
	return _ak_seqlock_try_lock(sl) ? AK_OK : AK_EBUSY;
}

/* Take the write bit, spinning (with backoff) while another writer holds
 * it.  Blocking.  AK_EINVAL on NULL. */
AK_INLINE ak_status ak_seqlock_write_begin(ak_seqlock *sl)
{
	struct _ak_backoff b = _AK_BACKOFF_INIT(_AK_BACKOFF_DEFAULT_CEILING);

	if (!sl)
		return AK_EINVAL;
	while (!_ak_seqlock_try_lock(sl)) {
		if (_ak_backoff_exhausted(&b))
			_ak_seq_yield(); /* the holder is probably preempted */
		else
			_ak_backoff_spin(&b);
	}
	return AK_OK;
}

/* Store word i of the payload; only between write_begin and write_end. */
AK_INLINE AK_NONNULL(1) void ak_seqlock_store_word(ak_seqlock *sl, size_t i, uint64_t w)
{
	atomic_store_explicit(&sl->words[i], w, memory_order_relaxed);
}

/* Publish the write and release the write bit.  AK_ESTATE if no writer
 * holds the bit (end without begin); AK_EINVAL on NULL. */
AK_INLINE ak_status ak_seqlock_write_end(ak_seqlock *sl)
{
	uint32_t s;

	if (!sl)
		return AK_EINVAL;
	s = atomic_load_explicit(&sl->seq, memory_order_relaxed);
	if (!(s & 1u))
		return AK_ESTATE;
	/* Release: pairs with the acquire load in ak_seqlock_read_begin() and
	 * the acquire CAS in the next writer's begin; orders our payload
	 * stores before the even value. */
	atomic_store_explicit(&sl->seq, s + 1, memory_order_release);
	return AK_OK;
}

/* Replace the whole payload.  Blocking (see write_begin).  AK_EINVAL on
 * NULL or a size other than init's. */
AK_INLINE ak_status ak_seqlock_write(ak_seqlock *sl, const void *in, size_t size)
{
	if (!sl || !in || size != sl->size)
		return AK_EINVAL;
	(void)ak_seqlock_write_begin(sl);
	_ak_seq_copy_in(sl->words, in, size);
	return ak_seqlock_write_end(sl);
}

/* Writes completed so far (the sequence / 2).  Relaxed, wait-free. */
AK_INLINE AK_NONNULL(1) uint32_t ak_seqlock_writes(ak_seqlock *sl)
{
	return atomic_load_explicit(&sl->seq, memory_order_relaxed) >> 1;
}

/* ===================================================================== */
/* ak_seqlatch                                                            */
/* ===================================================================== */

typedef struct ak_seqlatch {
	_Atomic(uint32_t) seq;     /* parity picks the copy readers use */
	_Atomic(uint32_t) writing; /* 1 while a writer is inside write() */
	uint32_t size;
	uint32_t nwords;           /* words per copy */
	_Atomic(uint64_t) *words;  /* copy 0 then copy 1 */
} ak_seqlatch;

/* As ak_seqlock_init, with AK_SEQLATCH_WORDS(size) words. */
AK_INLINE ak_status ak_seqlatch_init(ak_seqlatch *sl, _Atomic(uint64_t) *words, size_t size,
				     const void *initial)
{
	ak_status st = _ak_seq_check_init(sl, words, size);
	size_t i;

	if (st != AK_OK)
		return st;
	atomic_store_explicit(&sl->seq, 0, memory_order_relaxed);
	atomic_store_explicit(&sl->writing, 0, memory_order_relaxed);
	sl->size = (uint32_t)size;
	sl->nwords = (uint32_t)AK_SEQLOCK_WORDS(size);
	sl->words = words;
	for (i = 0; i < 2; i++) {
		if (initial) {
			_ak_seq_copy_in(words + i * sl->nwords, initial, size);
		} else {
			size_t j;
			for (j = 0; j < sl->nwords; j++)
				atomic_store_explicit(&words[i * sl->nwords + j], 0,
						      memory_order_relaxed);
		}
	}
	return AK_OK;
}

/*
 * Copy a consistent snapshot, giving up after `max_tries` attempts during
 * which the writer moved on (AK_EAGAIN, `out` unspecified).  Never waits
 * for the writer: safe in a signal handler that interrupted the writer
 * (that read succeeds on its first try).  max_tries == 0: AK_EINVAL.
 */
AK_INLINE ak_status ak_seqlatch_try_read(ak_seqlatch *sl, void *out, size_t size,
					 unsigned max_tries)
{
	uint32_t s;

	if (!sl || !out || size != sl->size || max_tries == 0)
		return AK_EINVAL;
	while (max_tries--) {
		/* Acquire: pairs with the release stores in ak_seqlatch_write(),
		 * so the copy this parity selects is complete. */
		s = atomic_load_explicit(&sl->seq, memory_order_acquire);
		_ak_seq_copy_out(sl->words + (s & 1u) * sl->nwords, out, size);
		/* Pairs with the release fences in ak_seqlatch_write(): if a
		 * payload load saw a store into the copy we were reading, the
		 * re-load sees the sequence step that preceded it. */
		_ak_fence_acquire(&sl->seq);
		if (atomic_load_explicit(&sl->seq, memory_order_relaxed) == s)
			return AK_OK;
	}
	return AK_EAGAIN;
}

/* Retry until consistent (only a writer that keeps overlapping delays it). */
AK_INLINE ak_status ak_seqlatch_read(ak_seqlatch *sl, void *out, size_t size)
{
	ak_status st;

	do
		st = ak_seqlatch_try_read(sl, out, size, 1024);
	while (st == AK_EAGAIN);
	return st;
}

/*
 * Replace the payload: both copies, one after the other, readers steered
 * to the copy not being written.  One writer at a time: a concurrent
 * second writer gets AK_EBUSY and changes nothing (misuse is always
 * detected, not only in debug builds).  Wait-free.  AK_EINVAL on NULL or
 * a size other than init's.
 */
AK_INLINE ak_status ak_seqlatch_write(ak_seqlatch *sl, const void *in, size_t size)
{
	uint32_t s;

	if (!sl || !in || size != sl->size)
		return AK_EINVAL;
	/* Acquire: pairs with the release store of 0 at the end of the
	 * previous write, which may have run on another thread. */
	if (atomic_exchange_explicit(&sl->writing, 1, memory_order_acquire))
		return AK_EBUSY;
	s = atomic_load_explicit(&sl->seq, memory_order_relaxed);
	/* Steer readers to copy (s+1)&1, which holds the last write.  Release:
	 * pairs with the acquire load in ak_seqlatch_try_read(). */
	atomic_store_explicit(&sl->seq, s + 1, memory_order_release);
	/* Release fence: our stores into copy s&1 stay after the step above.
	 * Pairs with the acquire fence in ak_seqlatch_try_read(). */
	_ak_fence_release(&sl->seq);
	_ak_seq_copy_in(sl->words + (s & 1u) * sl->nwords, in, size);
	/* Back to copy s&1, now new.  Release: pairs with the acquire load in
	 * ak_seqlatch_try_read(). */
	atomic_store_explicit(&sl->seq, s + 2, memory_order_release);
	_ak_fence_release(&sl->seq); /* as above, for the other copy */
	_ak_seq_copy_in(sl->words + ((s + 1) & 1u) * sl->nwords, in, size);
	/* Release: pairs with the acquire exchange in the next write. */
	atomic_store_explicit(&sl->writing, 0, memory_order_release);
	return AK_OK;
}

/* Writes completed so far.  Relaxed, wait-free. */
AK_INLINE AK_NONNULL(1) uint32_t ak_seqlatch_writes(ak_seqlatch *sl)
{
	return atomic_load_explicit(&sl->seq, memory_order_relaxed) >> 1;
}

AK_END_DECLS

#endif /* ATOMKIT_SEQLOCK_H */
