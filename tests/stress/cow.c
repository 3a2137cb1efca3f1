/*
 * Stress: copy-on-write pointer under readers and updaters.
 *
 * Invariants, each counted:
 *  snapshots  every snapshot a reader sees is whole: all words equal the
 *             generation and `sum` matches (a freed or recycled snapshot
 *             breaks this; under TSan a free racing a reader is reported)
 *  order      each reader's generations never go backwards
 *  updates    final generation == successful updates (no lost update),
 *             conflicts counted on the NO_RETRY path
 *  reclaim    after the run every retired snapshot is freed (stats), and
 *             destroy releases the rest: snapshots destroyed == published
 *             + 1 + abandoned clones (and LSan/TSan see no leak or race)
 * The scenario runs twice: with membarrier() and with the fenced fallback.
 */
#include <atomkit/cow.h>
#include <stdlib.h>
#include <string.h>

#include "stress.h"

#define MAXT 64
#define NW 14

struct snap {
	uint64_t gen;
	uint64_t w[NW];
	uint64_t sum;
};

struct shared {
	ak_cow p;
	_Atomic(uint64_t) copies, destroys;
	uint64_t updates[MAXT], conflicts[MAXT], reads[MAXT], reopen[MAXT];
};

static void copy_snap(void *dst, const void *src, size_t size, void *ctx)
{
	struct shared *s = (struct shared *)ctx;
	memcpy(dst, src, size);
	atomic_fetch_add_explicit(&s->copies, 1, memory_order_relaxed);
}

static void destroy_snap(void *snap, void *ctx)
{
	struct shared *s = (struct shared *)ctx;
	/* poison: a reader that still used it would see a broken snapshot */
	memset(snap, 0xa5, sizeof(struct snap));
	atomic_fetch_add_explicit(&s->destroys, 1, memory_order_relaxed);
}

static ak_status next_gen(void *clone, void *arg)
{
	struct snap *c = (struct snap *)clone;
	(void)arg;
	c->gen++;
	c->sum = 0;
	for (int i = 0; i < NW; i++) {
		c->w[i] = c->gen;
		c->sum += c->gen;
	}
	return AK_OK;
}

static int snap_ok(const struct snap *s)
{
	uint64_t sum = 0;
	for (int i = 0; i < NW; i++) {
		if (s->w[i] != s->gen)
			return 0;
		sum += s->w[i];
	}
	return sum == s->sum;
}

static void worker(struct stress_thread *t)
{
	struct shared *s = t->arg;
	uint64_t n = 0, conflicts = 0, reopen = 0, last = 0;

	if (t->id % 4 == 0) {
		for (uint64_t i = 0; i < t->ops / 8; i++) {
			unsigned flags = (stress_rand(t) & 3) == 0 ? AK_COW_NO_RETRY : 0;
			ak_status st = ak_cow_update(&s->p, next_gen, NULL, flags);
			if (st == AK_ECONFLICT) {
				STRESS_CHECK(flags == AK_COW_NO_RETRY, "conflict without NO_RETRY");
				conflicts++;
				continue;
			}
			STRESS_CHECK(st == AK_OK, "update: %s", ak_status_name(st));
			n++;
		}
		s->updates[t->id] = n;
		s->conflicts[t->id] = conflicts;
		return;
	}
	ak_cow_reader *r;
	STRESS_CHECK(ak_cow_reader_open(&s->p, &r) == AK_OK, "open");
	for (uint64_t i = 0; i < t->ops; i++) {
		const struct snap *sn = (const struct snap *)ak_cow_read_begin(r);
		STRESS_CHECK(snap_ok(sn), "reader %u: broken snapshot gen %llu (use after free?)",
			     t->id, (unsigned long long)sn->gen);
		STRESS_CHECK(sn->gen >= last, "generation went back: %llu after %llu",
			     (unsigned long long)sn->gen, (unsigned long long)last);
		last = sn->gen;
		ak_cow_read_end(r);
		n++;
		if ((stress_rand(t) & 1023) == 0) { /* hand the record back, get one again */
			STRESS_CHECK(ak_cow_reader_close(r) == AK_OK, "close");
			STRESS_CHECK(ak_cow_reader_open(&s->p, &r) == AK_OK, "reopen");
			reopen++;
		}
	}
	STRESS_CHECK(ak_cow_reader_close(r) == AK_OK, "close");
	s->reads[t->id] = n;
	s->reopen[t->id] = reopen;
}

struct totals {
	uint64_t updates, conflicts, reads, reopen, retired, destroys;
};

/* One run of the whole scenario on a fresh ak_cow. */
static void phase(const struct stress_cfg *cfg, int fence, struct totals *tot)
{
	static struct shared s;
	struct snap init;
	ak_cow_ops ops;
	ak_cow_stats st;
	uint64_t updates = 0, conflicts = 0, reads = 0, reopen = 0;

	memset(&s, 0, sizeof s);
	memset(&init, 0, sizeof init);
	ops.copy = copy_snap;
	ops.destroy = destroy_snap;
	ops.ctx = &s;
	_ak_cow_force_fence(fence);
	STRESS_CHECK(ak_cow_init(&s.p, &init, sizeof init, &ops) == AK_OK, "init");

	stress_run(cfg, worker, &s);

	for (unsigned i = 0; i < cfg->threads; i++) {
		updates += s.updates[i];
		conflicts += s.conflicts[i];
		reads += s.reads[i];
		reopen += s.reopen[i];
	}
	STRESS_CHECK(ak_cow_get_stats(&s.p, &st) == AK_OK, "stats");
	STRESS_CHECK(st.published == updates && st.retired == updates,
		     "published %llu retired %llu, updates %llu", (unsigned long long)st.published,
		     (unsigned long long)st.retired, (unsigned long long)updates);
	STRESS_CHECK(st.readers == 0, "%llu readers still open", (unsigned long long)st.readers);
	ak_cow_reader *r;
	STRESS_CHECK(ak_cow_reader_open(&s.p, &r) == AK_OK, "open");
	const struct snap *sn = (const struct snap *)ak_cow_read_begin(r);
	STRESS_CHECK(snap_ok(sn) && sn->gen == updates, "final gen %llu != updates %llu (lost update)",
		     (unsigned long long)sn->gen, (unsigned long long)updates);
	ak_cow_read_end(r);
	STRESS_CHECK(ak_cow_reader_close(r) == AK_OK, "close");
	STRESS_CHECK(ak_cow_synchronize(&s.p) == AK_OK, "synchronize");
	STRESS_CHECK(ak_cow_get_stats(&s.p, &st) == AK_OK && st.freed == st.retired,
		     "after synchronize: freed %llu of %llu retired", (unsigned long long)st.freed,
		     (unsigned long long)st.retired);
	STRESS_CHECK(ak_cow_destroy(&s.p) == AK_OK, "destroy");
	uint64_t copies = atomic_load_explicit(&s.copies, memory_order_relaxed);
	uint64_t destroys = atomic_load_explicit(&s.destroys, memory_order_relaxed);
	/* every clone (published or abandoned) and the initial snapshot are
	 * destroyed exactly once */
	STRESS_CHECK(destroys == copies + 1, "destroyed %llu, made %llu + 1",
		     (unsigned long long)destroys, (unsigned long long)copies);
	tot->updates += updates;
	tot->conflicts += conflicts;
	tot->reads += reads;
	tot->reopen += reopen;
	tot->retired += st.retired;
	tot->destroys += destroys;
}

int main(int argc, char **argv)
{
	struct stress_cfg cfg;
	struct totals tot;

	stress_init(&cfg, argc, argv, "cow", 4, 300000);
	STRESS_CHECK(cfg.threads >= 2 && cfg.threads <= MAXT, "2..%d threads", MAXT);
	memset(&tot, 0, sizeof tot);
	phase(&cfg, 0, &tot); /* readers ordered by the reclaimer's membarrier() */
	phase(&cfg, 1, &tot); /* the fallback: readers fence themselves */
	_ak_cow_force_fence(0);
	stress_pass(&cfg,
		    "2 phases (membarrier, fence): %llu snapshots verified, 0 torn, 0 out of order; "
		    "%llu updates == final gens, %llu conflicts; %llu retired == freed, "
		    "%llu destroyed == made; %llu reopens",
		    (unsigned long long)tot.reads, (unsigned long long)tot.updates,
		    (unsigned long long)tot.conflicts, (unsigned long long)tot.retired,
		    (unsigned long long)tot.destroys, (unsigned long long)tot.reopen);
	return 0;
}
