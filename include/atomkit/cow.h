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
 *   reader can still hold them (ConcurrencyKit's ck_epoch).
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
 *   read_begin/read_end: wait-free (one atomic exchange and one store in
 *   ck_epoch, one acquire load; out of line, ~2 function calls).
 *   update: lock-free publication (a CAS that fails only when another
 *   update succeeded); it allocates.  Reclamation never blocks an update:
 *   whoever finds the reclaim flag free hands retired snapshots to
 *   ck_epoch and polls it; others just push and go.  A reader that stays
 *   in its section forever stops reclamation (memory grows), not updates.
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

/* A thread's reader handle (opaque). */
typedef struct ak_cow_reader ak_cow_reader;

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

/* Enter a read section and return the current snapshot.  Wait-free. */
const void *ak_cow_read_begin(ak_cow_reader *r);

/* Leave the read section; the snapshot may be freed after this. */
void ak_cow_read_end(ak_cow_reader *r);

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

AK_END_DECLS

#endif /* ATOMKIT_COW_H */
