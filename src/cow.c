/*
 * Copy-on-write pointers: snapshots, updates and reclamation over ck_epoch.
 *
 * Why this is out of line: ck_epoch.h is not valid C++ and its types would
 * leak into the public ABI; the read section's cost is ck_epoch_begin's
 * locked exchange, next to which the call is noise.
 *
 * ThreadSanitizer: ck_epoch's grace-period detection is inline asm and an
 * uninstrumented libck, so TSan cannot see that a reader's section ended
 * before the reclaimer freed the snapshot, and would report the reader's
 * loads against free().  We tell it: every read_end does a TSan release on
 * the domain, and the free callback (which ck runs only after the grace
 * period) does a TSan acquire on the domain before freeing.  TSan's release
 * joins into the domain's clock, so one acquire covers every reader that
 * ended before it.  Record recycling between threads is annotated the same
 * way.  Everything else (publication, the retired list, the reclaim flag)
 * is C11 atomics that TSan sees directly.
 */
#include <atomkit/cow.h>
#include <atomkit/internal/fence.h>
#include <atomkit/internal/relax.h>

#include <ck_epoch.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct ak_cow_reader {
	ck_epoch_record_t rec; /* first: recycled records are cast back */
	ak_cow *cow;
	struct _ak_cow_dom *dom;
	struct ak_cow_reader *all_next; /* every record ever made, for destroy */
	bool internal;                  /* used by updates, not counted */
};

struct _ak_cow_node {
	ck_epoch_entry_t entry;
	struct _ak_cow_node *next; /* retired list */
	struct _ak_cow_dom *dom;
	alignas(max_align_t) unsigned char payload[];
};

struct _ak_cow_dom {
	ck_epoch_t epoch;
	size_t size;
	ak_cow_ops ops;
	struct ak_cow_reader *wrec;                /* ck_epoch_call/poll, under `reclaiming` */
	_Atomic(struct _ak_cow_node *) retired;    /* pushed by updaters */
	_Atomic(uint32_t) reclaiming;              /* 1 while someone feeds wrec */
	_Atomic(struct ak_cow_reader *) all;       /* every record */
	_Atomic(uint64_t) published, conflicts, retired_n, freed, readers;
};

#define NODE_OF(snap) \
	((struct _ak_cow_node *)(void *)((unsigned char *)(snap) - offsetof(struct _ak_cow_node, payload)))

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

/* ck_epoch callback: runs only after a grace period. */
static void node_reclaim(ck_epoch_entry_t *e)
{
	struct _ak_cow_node *n = (struct _ak_cow_node *)(void *)((unsigned char *)e -
							offsetof(struct _ak_cow_node, entry));
	struct _ak_cow_dom *d = n->dom;

	/* TSan only: pairs with the release in ak_cow_read_end() of every
	 * reader (ck's grace period is what really orders them). */
	_AK_TSAN_ACQUIRE(d);
	node_free(n);
	atomic_fetch_add_explicit(&d->freed, 1, memory_order_relaxed);
}

static void copy_into(struct _ak_cow_dom *d, void *dst, const void *src)
{
	if (d->ops.copy)
		d->ops.copy(dst, src, d->size, d->ops.ctx);
	else
		memcpy(dst, src, d->size);
}

static struct ak_cow_reader *record_new(ak_cow *p, struct _ak_cow_dom *d, bool internal)
{
	struct ak_cow_reader *r;
	ck_epoch_record_t *rec = ck_epoch_recycle(&d->epoch, NULL);

	if (rec) {
		r = (struct ak_cow_reader *)(void *)rec;
		/* TSan only: pairs with the release in record_put() by the
		 * thread that used this record before (ck's recycle CAS is the
		 * real hand-over). */
		_AK_TSAN_ACQUIRE(r);
	} else {
		size_t sz = (sizeof(*r) + alignof(struct ak_cow_reader) - 1) /
			    alignof(struct ak_cow_reader) * alignof(struct ak_cow_reader);
		r = (struct ak_cow_reader *)aligned_alloc(alignof(struct ak_cow_reader), sz);
		if (!r)
			return NULL;
		memset(r, 0, sizeof(*r));
		r->cow = p;
		r->dom = d;
		ck_epoch_register(&d->epoch, &r->rec, NULL);
		/* Release: pairs with the acquire exchange in ak_cow_destroy(),
		 * which frees every record. */
		r->all_next = atomic_load_explicit(&d->all, memory_order_relaxed);
		while (!atomic_compare_exchange_weak_explicit(&d->all, &r->all_next, r,
							      memory_order_release,
							      memory_order_relaxed))
			;
	}
	r->internal = internal;
	if (!internal)
		atomic_fetch_add_explicit(&d->readers, 1, memory_order_relaxed);
	return r;
}

static void record_put(struct ak_cow_reader *r)
{
	if (!r->internal)
		atomic_fetch_sub_explicit(&r->dom->readers, 1, memory_order_relaxed);
	/* TSan only: pairs with the acquire in record_new()/ak_cow_destroy(). */
	_AK_TSAN_RELEASE(r);
	ck_epoch_unregister(&r->rec);
}

ak_status ak_cow_init(ak_cow *p, const void *initial, size_t size, const ak_cow_ops *ops)
{
	struct _ak_cow_dom *d;
	struct _ak_cow_node *n;

	if (!p || size == 0 || size > SIZE_MAX / 2)
		return AK_EINVAL;
	d = (struct _ak_cow_dom *)calloc(1, sizeof(*d));
	if (!d)
		return AK_ENOMEM;
	d->size = size;
	if (ops)
		d->ops = *ops;
	ck_epoch_init(&d->epoch);
	n = node_alloc(d);
	d->wrec = n ? record_new(p, d, true) : NULL;
	if (!n || !d->wrec) {
		free(n);
		free(d->wrec);
		free(d);
		return AK_ENOMEM;
	}
	if (initial)
		memcpy(n->payload, initial, size);
	else
		memset(n->payload, 0, size);
	p->dom = d;
	/* Release: pairs with the acquire loads of `cur` by readers and
	 * updaters, for threads that learn of `p` through a relaxed path. */
	atomic_store_explicit(&p->cur, (void *)n->payload, memory_order_release);
	return AK_OK;
}

ak_status ak_cow_reader_open(ak_cow *p, ak_cow_reader **out)
{
	struct ak_cow_reader *r;

	if (!p || !p->dom || !out)
		return AK_EINVAL;
	r = record_new(p, p->dom, false);
	if (!r)
		return AK_ENOMEM;
	*out = r;
	return AK_OK;
}

ak_status ak_cow_reader_close(ak_cow_reader *r)
{
	if (!r)
		return AK_EINVAL;
	if (r->rec.active != 0)
		return AK_ESTATE;
	record_put(r);
	return AK_OK;
}

const void *ak_cow_read_begin(ak_cow_reader *r)
{
	/* Announces the reader (locked exchange: a full barrier) before the
	 * pointer load below, so a reclaimer that does not see us active
	 * retired the snapshot before our load could find it. */
	ck_epoch_begin(&r->rec, NULL);
	/* Acquire: pairs with the release CAS in ak_cow_update() (and the
	 * release store in ak_cow_init()): the clone's contents are visible. */
	return atomic_load_explicit(&r->cow->cur, memory_order_acquire);
}

void ak_cow_read_end(ak_cow_reader *r)
{
	/* TSan only: pairs with the acquire in node_reclaim(). */
	_AK_TSAN_RELEASE(r->dom);
	ck_epoch_end(&r->rec, NULL);
}

/* Hand every pushed snapshot to ck_epoch and let it free what is safe.
 * Called with `reclaiming` held. */
static void feed_epoch(struct _ak_cow_dom *d)
{
	/* Acquire: pairs with the release CAS in retire(), so the node
	 * fields written before the push are visible. */
	struct _ak_cow_node *n = atomic_exchange_explicit(&d->retired, NULL, memory_order_acquire);

	while (n) {
		struct _ak_cow_node *next = n->next;
		ck_epoch_call(&d->wrec->rec, &n->entry, node_reclaim);
		n = next;
	}
}

static bool reclaim_trylock(struct _ak_cow_dom *d)
{
	/* Acquire: pairs with the release in reclaim_unlock(): the previous
	 * holder's writes to wrec (ck's pending lists) are visible. */
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
	n->next = atomic_load_explicit(&d->retired, memory_order_relaxed);
	/* Release: pairs with the acquire exchange in feed_epoch(). */
	while (!atomic_compare_exchange_weak_explicit(&d->retired, &n->next, n,
						      memory_order_release, memory_order_relaxed))
		;
	if (reclaim_trylock(d)) {
		feed_epoch(d);
		(void)ck_epoch_poll(&d->wrec->rec);
		reclaim_unlock(d);
	}
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
	r = record_new(p, d, true);
	if (!r) {
		free(n);
		return AK_ENOMEM;
	}
	for (;;) {
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
				retire(d, NODE_OF(old));
				break;
			}
			atomic_fetch_add_explicit(&d->conflicts, 1, memory_order_relaxed);
			rc = (flags & AK_COW_NO_RETRY) ? AK_ECONFLICT : AK_EAGAIN;
		}
		ak_cow_read_end(r);
		/* The clone was never published: release what copy/fn gave it. */
		if (d->ops.destroy)
			d->ops.destroy(n->payload, d->ops.ctx);
		if (rc != AK_EAGAIN) {
			free(n);
			break;
		}
	}
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
	while (!reclaim_trylock(d))
		_ak_backoff_spin(&b);
	feed_epoch(d);
	/* Waits until every reader that might hold a retired snapshot has
	 * left its section, then runs every pending callback. */
	ck_epoch_barrier(&d->wrec->rec);
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
	out->readers = atomic_load_explicit(&d->readers, memory_order_relaxed);
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
	if (atomic_load_explicit(&d->readers, memory_order_relaxed) != 0)
		return AK_EBUSY;
	st = ak_cow_synchronize(p);
	if (st != AK_OK)
		return st;
	/* Acquire: pairs with the release CAS in ak_cow_update(): the current
	 * snapshot's contents (which destroy may read) are visible. */
	node_free(NODE_OF(atomic_load_explicit(&p->cur, memory_order_acquire)));
	/* Acquire: pairs with the release CAS in record_new(). */
	for (r = atomic_exchange_explicit(&d->all, NULL, memory_order_acquire); r; r = next) {
		/* TSan only: pairs with the release in record_put(). */
		_AK_TSAN_ACQUIRE(r);
		next = r->all_next;
		free(r);
	}
	free(d);
	atomic_store_explicit(&p->cur, NULL, memory_order_relaxed);
	p->dom = NULL;
	return AK_OK;
}
