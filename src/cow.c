/*
 * Copy-on-write pointers: updates, grace periods and reclamation.
 *
 * The scheme (an epoch scheme in C11 atomics, read side in cow.h):
 *  - The domain has a grace-period counter `gp` (starts at 1).  A reader
 *    entering its outermost section stores the current gp in its record's
 *    `ctr`; leaving, it stores 0.
 *  - An update swaps the snapshot pointer with a CAS and pushes the old
 *    snapshot on the `incoming` list.
 *  - To free a batch, the reclaimer takes `incoming`, bumps gp to G, runs
 *    membarrier() (so every reader either has its `ctr` visible or will load
 *    the new pointer, see ak_cow_read_begin), and then waits until no record
 *    holds a number below G: every reader that could hold a snapshot of the
 *    batch has left.  Updates never wait: they check once and move on; the
 *    batch is freed by a later update or by synchronize/destroy.
 *  - Without membarrier (seccomp, old kernels) readers fence themselves
 *    (_ak_fence_seq_cst) and the reclaimer uses the matching fence.
 *
 * ThreadSanitizer sees all of it: the edge that matters for freeing (a
 * reader's accesses happen before the free) is the release store of `ctr`
 * at read_end paired with the scan's acquire load.  membarrier supplies
 * only store->load ordering, which TSan does not model and does not need.
 */
#include <atomkit/cow.h>
#include <atomkit/internal/relax.h>

#include "membarrier.h"

#include <sched.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct _ak_cow_node {
	struct _ak_cow_node *next; /* incoming / pending list */
	struct _ak_cow_dom *dom;
	alignas(max_align_t) unsigned char payload[];
};

struct _ak_cow_dom {
	AK_CACHE_ALIGNED _Atomic(uint64_t) gp;        /* read by every reader entry */
	AK_CACHE_ALIGNED _Atomic(struct ak_cow_reader *) readers; /* registry, push-only */
	size_t size;
	ak_cow_ops ops;
	uint32_t fence;                                /* 1: readers fence (no membarrier) */
	_Atomic(struct _ak_cow_node *) incoming;       /* retired, no grace period yet */
	_Atomic(uint64_t) incoming_n;
	_Atomic(uint32_t) reclaiming;                  /* 1 while someone reclaims */
	struct _ak_cow_node *pending;                  /* under `reclaiming`: waits for */
	uint64_t pending_gp;                           /* ... this grace period */
	_Atomic(uint64_t) published, conflicts, retired_n, freed, nreaders;
};

#define NODE_OF(snap) \
	((struct _ak_cow_node *)(void *)((unsigned char *)(snap) - offsetof(struct _ak_cow_node, payload)))

/* ---- membarrier ------------------------------------------------------------ */

/* Set by the test hook: new domains' readers fence as if membarrier were
 * unavailable.  Relaxed: read once per ak_cow_init. */
static _Atomic(int) g_force_fence;

void _ak_cow_force_fence(int on)
{
	atomic_store_explicit(&g_force_fence, on != 0, memory_order_relaxed);
}

/* ---- snapshots --------------------------------------------------------------- */

static struct _ak_cow_node *node_alloc(struct _ak_cow_dom *d)
{
	struct _ak_cow_node *n = (struct _ak_cow_node *)malloc(sizeof(*n) + d->size);

	if (n)
		n->dom = d;
	return n;
}

/* Release what the snapshot owns, then its memory. */
static void node_free(struct _ak_cow_node *n)
{
	struct _ak_cow_dom *d = n->dom;

	if (d->ops.destroy)
		d->ops.destroy(n->payload, d->ops.ctx);
	free(n);
}

static void free_list(struct _ak_cow_dom *d, struct _ak_cow_node *n)
{
	uint64_t k = 0;

	while (n) {
		struct _ak_cow_node *next = n->next;
		node_free(n);
		n = next;
		k++;
	}
	atomic_fetch_add_explicit(&d->freed, k, memory_order_relaxed);
}

static void copy_into(struct _ak_cow_dom *d, void *dst, const void *src)
{
	if (d->ops.copy)
		d->ops.copy(dst, src, d->size, d->ops.ctx);
	else
		memcpy(dst, src, d->size);
}

/* ---- reader records ---------------------------------------------------------- */

static struct ak_cow_reader *record_get(ak_cow *p, struct _ak_cow_dom *d, bool internal)
{
	struct ak_cow_reader *r;

	/* Acquire: pairs with the release CAS that pushed each record. */
	for (r = atomic_load_explicit(&d->readers, memory_order_acquire); r; r = r->next) {
		uint32_t zero = 0;
		if (atomic_load_explicit(&r->in_use, memory_order_relaxed) != 0)
			continue;
		/* Acquire: pairs with the release store in record_put(): the
		 * previous owner's last writes (nest) come before ours. */
		if (atomic_compare_exchange_strong_explicit(&r->in_use, &zero, 1,
							    memory_order_acquire,
							    memory_order_relaxed))
			goto got;
	}
	r = (struct ak_cow_reader *)aligned_alloc(alignof(ak_cow_reader), sizeof(ak_cow_reader));
	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	atomic_store_explicit(&r->ctr, 0, memory_order_relaxed);
	atomic_store_explicit(&r->in_use, 1, memory_order_relaxed);
	r->fence = d->fence;
	r->gp = &d->gp;
	r->cur = &p->cur;
	r->dom = d;
	r->next = atomic_load_explicit(&d->readers, memory_order_relaxed);
	/* Release: pairs with the acquire loads of the registry head in
	 * record_get(), readers_clear() and ak_cow_destroy(). */
	while (!atomic_compare_exchange_weak_explicit(&d->readers, &r->next, r, memory_order_release,
						      memory_order_relaxed))
		;
got:
	r->internal = internal;
	if (!internal)
		atomic_fetch_add_explicit(&d->nreaders, 1, memory_order_relaxed);
	return r;
}

static void record_put(struct ak_cow_reader *r)
{
	if (!r->internal)
		atomic_fetch_sub_explicit(&r->dom->nreaders, 1, memory_order_relaxed);
	/* Release: pairs with the acquire CAS in record_get(). */
	atomic_store_explicit(&r->in_use, 0, memory_order_release);
}

/* ---- grace periods ------------------------------------------------------------ */

/* Start grace period G: afterwards every reader that may hold a snapshot
 * retired before this call announces a number below G. */
static uint64_t gp_start(struct _ak_cow_dom *d)
{
	/* acq_rel: the release half pairs with the acquire load of gp in
	 * ak_cow_read_begin() (a reader announcing G sees the pointer swaps
	 * of the batch, which happen before this through the acquire exchange
	 * of `incoming`). */
	uint64_t g = atomic_fetch_add_explicit(&d->gp, 1, memory_order_acq_rel) + 1;

	if (d->fence)
		_ak_fence_seq_cst(&d->gp); /* Dekker with the fence in ak_cow_read_begin() */
	else
		(void)_ak_membarrier(); /* fails only if a seccomp filter came after init: see docs/cow.md */
	return g;
}

/* True once no reader announces a number below g.  With `wait`, spins
 * (then yields) until that holds. */
static bool readers_clear(struct _ak_cow_dom *d, uint64_t g, bool wait)
{
	struct ak_cow_reader *r;
	struct _ak_backoff b;

	/* Acquire: pairs with the release CAS that pushed each record. */
	for (r = atomic_load_explicit(&d->readers, memory_order_acquire); r; r = r->next) {
		_ak_backoff_init(&b, 256);
		for (;;) {
			/* Acquire: pairs with the release stores of ctr in
			 * ak_cow_read_end()/read_begin(): the reader's accesses
			 * to old snapshots happen before we free them. */
			uint64_t c = atomic_load_explicit(&r->ctr, memory_order_acquire);
			if (c == 0 || c >= g)
				break;
			if (!wait)
				return false;
			if (_ak_backoff_exhausted(&b))
				sched_yield();
			else
				_ak_backoff_spin(&b);
		}
	}
	return true;
}

/* Free what is safe; start a grace period for the rest when the batch is
 * big enough (or `force`).  Caller holds `reclaiming`. */
static void reclaim(struct _ak_cow_dom *d, bool force)
{
	struct _ak_cow_node *n, *t;
	uint64_t k;

	if (d->pending) {
		if (!readers_clear(d, d->pending_gp, force))
			return;
		free_list(d, d->pending);
		d->pending = NULL;
	}
	if (!force && atomic_load_explicit(&d->incoming_n, memory_order_relaxed) < AK_COW_BATCH)
		return;
	/* Acquire: pairs with the release CAS in retire(): the pointer swap
	 * and the node's fields come before the grace period. */
	n = atomic_exchange_explicit(&d->incoming, NULL, memory_order_acquire);
	if (!n)
		return;
	for (k = 0, t = n; t; t = t->next)
		k++;
	atomic_fetch_sub_explicit(&d->incoming_n, k, memory_order_relaxed);
	d->pending = n;
	d->pending_gp = gp_start(d);
	if (readers_clear(d, d->pending_gp, force)) {
		free_list(d, d->pending);
		d->pending = NULL;
	}
}

static bool reclaim_trylock(struct _ak_cow_dom *d)
{
	/* Acquire: pairs with the release in reclaim_unlock(): `pending` and
	 * `pending_gp` as the previous holder left them. */
	return atomic_load_explicit(&d->reclaiming, memory_order_relaxed) == 0 &&
	       atomic_exchange_explicit(&d->reclaiming, 1, memory_order_acquire) == 0;
}

static void reclaim_unlock(struct _ak_cow_dom *d)
{
	/* Release: pairs with the acquire exchange in reclaim_trylock(). */
	atomic_store_explicit(&d->reclaiming, 0, memory_order_release);
}

static void retire(struct _ak_cow_dom *d, struct _ak_cow_node *n)
{
	atomic_fetch_add_explicit(&d->retired_n, 1, memory_order_relaxed);
	n->next = atomic_load_explicit(&d->incoming, memory_order_relaxed);
	/* Release: pairs with the acquire exchange in reclaim(). */
	while (!atomic_compare_exchange_weak_explicit(&d->incoming, &n->next, n,
						      memory_order_release, memory_order_relaxed))
		;
	atomic_fetch_add_explicit(&d->incoming_n, 1, memory_order_relaxed);
	if (reclaim_trylock(d)) {
		reclaim(d, false);
		reclaim_unlock(d);
	}
}

/* ---- API --------------------------------------------------------------------------- */

ak_status ak_cow_init(ak_cow *p, const void *initial, size_t size, const ak_cow_ops *ops)
{
	struct _ak_cow_dom *d;
	struct _ak_cow_node *n;

	if (!p || size == 0 || size > SIZE_MAX / 2)
		return AK_EINVAL;
	d = (struct _ak_cow_dom *)aligned_alloc(alignof(struct _ak_cow_dom), sizeof(*d));
	if (!d)
		return AK_ENOMEM;
	memset(d, 0, sizeof(*d));
	atomic_store_explicit(&d->gp, 1, memory_order_relaxed);
	d->size = size;
	if (ops)
		d->ops = *ops;
	d->fence = atomic_load_explicit(&g_force_fence, memory_order_relaxed) || !_ak_membarrier_ready();
	n = node_alloc(d);
	if (!n) {
		free(d);
		return AK_ENOMEM;
	}
	if (initial)
		memcpy(n->payload, initial, size);
	else
		memset(n->payload, 0, size);
	p->dom = d;
	/* Release: pairs with the acquire loads of `cur` in read_begin, for
	 * threads that learn of `p` through a relaxed path. */
	atomic_store_explicit(&p->cur, (void *)n->payload, memory_order_release);
	return AK_OK;
}

ak_status ak_cow_reader_open(ak_cow *p, ak_cow_reader **out)
{
	struct ak_cow_reader *r;

	if (!p || !p->dom || !out)
		return AK_EINVAL;
	r = record_get(p, p->dom, false);
	if (!r)
		return AK_ENOMEM;
	*out = r;
	return AK_OK;
}

ak_status ak_cow_reader_close(ak_cow_reader *r)
{
	if (!r)
		return AK_EINVAL;
	if (r->nest != 0)
		return AK_ESTATE;
	record_put(r);
	return AK_OK;
}

ak_status ak_cow_update(ak_cow *p, ak_cow_fn fn, void *arg, unsigned flags)
{
	struct _ak_cow_dom *d;
	struct ak_cow_reader *r;
	struct _ak_cow_node *n;
	ak_status rc;
	void *old;

	if (!p || !p->dom || !fn || (flags & ~AK_COW_NO_RETRY))
		return AK_EINVAL;
	d = p->dom;
	n = node_alloc(d);
	if (!n)
		return AK_ENOMEM;
	/* The clone is taken inside a read section: another update may
	 * retire the snapshot we are copying. */
	r = record_get(p, d, true);
	if (!r) {
		free(n);
		return AK_ENOMEM;
	}
	for (;;) {
		int again = 0; /* lost the CAS and may retry (not fn's own status) */
		old = (void *)ak_cow_read_begin(r);
		copy_into(d, n->payload, old);
		rc = fn(n->payload, arg);
		if (rc == AK_OK) {
			/* Release: pairs with the acquire load in
			 * ak_cow_read_begin(): the clone's contents are
			 * visible to whoever sees the new pointer. */
			if (atomic_compare_exchange_strong_explicit(&p->cur, &old, (void *)n->payload,
								    memory_order_release,
								    memory_order_relaxed)) {
				ak_cow_read_end(r);
				atomic_fetch_add_explicit(&d->published, 1, memory_order_relaxed);
				record_put(r);
				retire(d, NODE_OF(old));
				return AK_OK;
			}
			atomic_fetch_add_explicit(&d->conflicts, 1, memory_order_relaxed);
			rc = AK_ECONFLICT;
			again = !(flags & AK_COW_NO_RETRY);
		}
		ak_cow_read_end(r);
		/* The clone was never published: release what copy/fn gave it. */
		if (d->ops.destroy)
			d->ops.destroy(n->payload, d->ops.ctx);
		if (!again)
			break;
	}
	free(n);
	record_put(r);
	return rc;
}

ak_status ak_cow_synchronize(ak_cow *p)
{
	struct _ak_cow_dom *d;
	struct _ak_backoff b = _AK_BACKOFF_INIT(_AK_BACKOFF_DEFAULT_CEILING);

	if (!p || !p->dom)
		return AK_EINVAL;
	d = p->dom;
	while (!reclaim_trylock(d)) {
		if (_ak_backoff_exhausted(&b))
			sched_yield();
		else
			_ak_backoff_spin(&b);
	}
	/* Waits out the pending batch, then everything retired before this
	 * call. */
	reclaim(d, true);
	reclaim_unlock(d);
	return AK_OK;
}

ak_status ak_cow_get_stats(ak_cow *p, ak_cow_stats *out)
{
	struct _ak_cow_dom *d;

	if (!p || !p->dom || !out)
		return AK_EINVAL;
	d = p->dom;
	out->published = atomic_load_explicit(&d->published, memory_order_relaxed);
	out->conflicts = atomic_load_explicit(&d->conflicts, memory_order_relaxed);
	out->retired = atomic_load_explicit(&d->retired_n, memory_order_relaxed);
	out->freed = atomic_load_explicit(&d->freed, memory_order_relaxed);
	out->readers = atomic_load_explicit(&d->nreaders, memory_order_relaxed);
	return AK_OK;
}

ak_status ak_cow_destroy(ak_cow *p)
{
	struct _ak_cow_dom *d;
	struct ak_cow_reader *r, *next;
	ak_status st;

	if (!p || !p->dom)
		return AK_EINVAL;
	d = p->dom;
	if (atomic_load_explicit(&d->nreaders, memory_order_relaxed) != 0)
		return AK_EBUSY;
	st = ak_cow_synchronize(p);
	if (st != AK_OK)
		return st;
	/* Acquire: pairs with the release CAS in ak_cow_update(): the current
	 * snapshot's contents (which ops->destroy may read) are visible. */
	node_free(NODE_OF(atomic_load_explicit(&p->cur, memory_order_acquire)));
	/* Acquire: pairs with the release CAS that pushed each record. */
	for (r = atomic_load_explicit(&d->readers, memory_order_acquire); r; r = next) {
		/* Acquire: pairs with the release store in record_put(): the
		 * last owner's writes to the record come before the free. */
		(void)atomic_load_explicit(&r->in_use, memory_order_acquire);
		next = r->next;
		free(r);
	}
	free(d);
	atomic_store_explicit(&p->cur, NULL, memory_order_relaxed);
	p->dom = NULL;
	return AK_OK;
}
