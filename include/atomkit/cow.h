/*
 * atomkit/cow.h - copy-on-write pointers with epoch-based reclamation.
 *
 * Overview
 *   An ak_cow holds a pointer to an immutable snapshot of a caller-sized
 *   payload.  Readers open a per-thread ak_cow_reader once, then bracket
 *   each use with ak_cow_read_begin()/ak_cow_read_end(): inside the section
 *   the snapshot pointer they got stays valid, however many updates land.
 *   ak_cow_update(p, fn, arg, flags) clones the current snapshot, lets
 *   `fn` modify the clone, and publishes it with a CAS on the pointer; on
 *   a conflict (another update published first) it starts again from the
 *   newer snapshot, or returns AK_ECONFLICT if the caller asked for that
 *   (AK_COW_NO_RETRY).  Replaced snapshots are retired and freed once no
 *   reader can still hold them: atomkit's own epoch scheme in C11 atomics,
 *   with the expensive half of the read-side barrier moved to the
 *   reclaimer through membarrier(2) (see docs/cow.md).
 *
 * Contract
 *   - A snapshot returned by read_begin is valid until the matching
 *     read_end on that reader; do not keep the pointer past it.  Snapshots
 *     are read-only: writing through the pointer is undefined.
 *   - Read sections nest.  A reader handle belongs to one thread at a time.
 *   - Updates are linearizable: each successful update saw the snapshot it
 *     replaced.  `fn` may run more than once (once per attempt); return
 *     AK_OK to publish, any other status to abandon the update (returned
 *     as is, nothing published).  `fn` runs inside an epoch section, so it
 *     must not call ak_cow_synchronize() or ak_cow_destroy().
 *   - Snapshot memory belongs to the ak_cow.  ops->copy (default memcpy)
 *     fills a clone; ops->destroy (default none) runs on a snapshot just
 *     before its memory is freed.  A snapshot that points at heap data
 *     should copy deeply, or share it with reference counts.
 *   - ak_cow_destroy() fails with AK_EBUSY while reader handles are open;
 *     otherwise it waits for a grace period and frees every snapshot,
 *     current and retired (nothing leaks).  No update may run concurrently.
 *   - NULL arguments and unknown flags: AK_EINVAL.  Allocation failure:
 *     AK_ENOMEM, nothing changed.
 *
 * Progress
 *   read_begin/read_end: wait-free and inline: two loads and a store to
 *   the reader's own cache line, no locked instruction (where membarrier
 *   is unavailable, begin adds one full fence).
 *   update: lock-free publication (a CAS that fails only when another
 *   update succeeded); it allocates.  Reclamation never blocks an update:
 *   whoever finds the reclaim flag free checks the readers once (and, every
 *   AK_COW_BATCH retirements, starts a grace period with one membarrier
 *   call); others just push and go.  A reader that stays in its section
 *   forever stops reclamation (memory grows), never readers or updates.
 *   synchronize/destroy: blocking (wait for readers to leave).
 *
 * Example
 *     struct cfg { int level; char name[32]; };
 *     static ak_status bump(void *clone, void *arg)
 *     { ((struct cfg *)clone)->level += *(int *)arg; return AK_OK; }
 *
 *     ak_cow p;  ak_cow_reader *r;  int one = 1;
 *     ak_cow_init(&p, &initial_cfg, sizeof(struct cfg), NULL);
 *     ak_cow_reader_open(&p, &r);
 *     const struct cfg *c = (const struct cfg *)ak_cow_read_begin(r);
 *     use(c->level);
 *     ak_cow_read_end(r);
 *     ak_cow_update(&p, bump, &one, 0);
 */
#ifndef ATOMKIT_COW_H
#define ATOMKIT_COW_H

#include "internal/compiler.h"
#include "internal/fence.h"
#include "status.h"

AK_BEGIN_DECLS

/* ak_cow_update flags */
#define AK_COW_NO_RETRY 1u /* report a lost race as AK_ECONFLICT, do not retry */

typedef struct ak_cow_ops {
	/* Fill `dst` (fresh memory of `size` bytes) from `src`; NULL: memcpy. */
	void (*copy)(void *dst, const void *src, size_t size, void *ctx);
	/* Release what a snapshot owns, just before its memory is freed (also
	 * for a clone that was never published); NULL: nothing to release. */
	void (*destroy)(void *snap, void *ctx);
	void *ctx;
} ak_cow_ops;

struct _ak_cow_dom; /* in src/cow.c: epoch, records, retired list */

typedef struct ak_cow {
	_Atomic(void *) cur; /* the current snapshot */
	struct _ak_cow_dom *dom;
} ak_cow;

/* Retirements between two grace periods started by updates. */
#define AK_COW_BATCH 32

/*
 * A thread's reader handle.  Fields are private; they are public only so
 * that read_begin/read_end can be inline.  One cache line of its own: the
 * reader is its only writer (the reclaimer only reads `ctr`).
 */
typedef struct ak_cow_reader {
	/* 0 outside a section; else the grace-period number read at entry */
	AK_CACHE_ALIGNED _Atomic(uint64_t) ctr;
	uint32_t nest;              /* section depth: owner thread only */
	uint32_t fence;             /* 1: no membarrier, begin fences itself */
	_Atomic(uint64_t) *gp;      /* the domain's grace-period counter */
	_Atomic(void *) *cur;       /* the ak_cow's snapshot pointer */
	_Atomic(uint32_t) in_use;   /* handle taken (recycling) */
	uint32_t internal;          /* taken by an update, not a reader */
	struct ak_cow_reader *next; /* registry link, set before publication */
	struct _ak_cow_dom *dom;
} ak_cow_reader;

AK_ASSERT_PADDED(ak_cow_reader);

/* Statistics, read relaxed (exact once updates have stopped). */
typedef struct ak_cow_stats {
	uint64_t published; /* successful updates */
	uint64_t conflicts; /* attempts that lost the CAS */
	uint64_t retired;   /* snapshots replaced */
	uint64_t freed;     /* retired snapshots freed so far */
	uint64_t readers;   /* open reader handles */
} ak_cow_stats;

/* The fn given to ak_cow_update: modify `clone`, return AK_OK to publish. */
typedef ak_status (*ak_cow_fn)(void *clone, void *arg);

/*
 * Create with a first snapshot of `size` bytes copied from `initial`
 * (NULL: zero bytes; ops->copy is not used for it).  `ops` may be NULL
 * and is copied.  AK_EINVAL (NULL p, size 0), AK_ENOMEM.
 */
ak_status ak_cow_init(ak_cow *p, const void *initial, size_t size, const ak_cow_ops *ops);

/* Free everything (see Contract).  AK_EBUSY while readers are open;
 * AK_EINVAL on NULL or an ak_cow that is not initialised. */
ak_status ak_cow_destroy(ak_cow *p);

/* Get a reader handle for the calling thread (recycled when possible).
 * AK_EINVAL, AK_ENOMEM. */
ak_status ak_cow_reader_open(ak_cow *p, ak_cow_reader **out);

/* Give the handle back.  AK_ESTATE if it is inside a read section (the
 * handle stays open); AK_EINVAL on NULL. */
ak_status ak_cow_reader_close(ak_cow_reader *r);

/*
 * Enter a read section and return the current snapshot.  Wait-free.
 *
 * The reclaimer, after swapping the pointer and bumping the grace period,
 * runs membarrier(): a full barrier on every running thread.  So a reader
 * whose `ctr` store is not yet visible to the reclaimer's scan executes
 * its pointer load after that barrier and gets the new pointer; a reader
 * that loaded the old pointer has its `ctr` visible and is waited for.
 * Here a compiler barrier is enough to keep the store before the load.
 */
AK_INLINE AK_NONNULL(1) const void *ak_cow_read_begin(ak_cow_reader *r)
{
	if (r->nest++ == 0) {
		/* Acquire: pairs with the acq_rel increment in the reclaimer's
		 * gp_start(): a reader that sees grace period G sees every
		 * pointer swap whose snapshot waits for G, so it cannot pick
		 * up one of those snapshots while announcing G. */
		uint64_t g = atomic_load_explicit(r->gp, memory_order_acquire);
		/* Release: pairs with the acquire load of `ctr` in the
		 * reclaimer's scan, so a scan that sees this section's number
		 * also sees the end of the previous section. */
		atomic_store_explicit(&r->ctr, g, memory_order_release);
		if (AK_UNLIKELY(r->fence))
			_ak_fence_seq_cst(&r->ctr); /* Dekker with gp_start()'s fence */
		else
			__asm__ __volatile__("" ::: "memory");
	}
	/* Acquire: pairs with the release CAS in ak_cow_update() (and the
	 * release store in ak_cow_init()): the clone's contents are visible. */
	return atomic_load_explicit(r->cur, memory_order_acquire);
}

/* Leave the read section; the snapshot may be freed after this.  Must
 * match a read_begin on the same handle.  Wait-free. */
AK_INLINE AK_NONNULL(1) void ak_cow_read_end(ak_cow_reader *r)
{
	if (--r->nest == 0)
		/* Release: pairs with the acquire load of `ctr` in the
		 * reclaimer's scan: every access this section made to its
		 * snapshot happens before that snapshot is freed. */
		atomic_store_explicit(&r->ctr, 0, memory_order_release);
}

/*
 * Clone, modify with fn(clone, arg), publish (see Contract).  flags: 0
 * (retry until published) or AK_COW_NO_RETRY.  Returns AK_OK, fn's
 * status, AK_ECONFLICT (NO_RETRY and lost), AK_ENOMEM, AK_EINVAL.
 */
ak_status ak_cow_update(ak_cow *p, ak_cow_fn fn, void *arg, unsigned flags);

/* Wait for a grace period and free every retired snapshot.  Blocking;
 * never call it inside a read section.  AK_EINVAL on NULL. */
ak_status ak_cow_synchronize(ak_cow *p);

/* Counters (see ak_cow_stats).  AK_EINVAL on NULL. */
ak_status ak_cow_get_stats(ak_cow *p, ak_cow_stats *out);

/* Not API, for tests: make ak_cow_init() calls after this one use (1) or
 * not use (0) the fenced read path that stands in for membarrier. */
void _ak_cow_force_fence(int on);

AK_END_DECLS

#endif /* ATOMKIT_COW_H */
