/*
 * Litmus: what an update writes into its clone is visible to a reader that
 * sees the new pointer, and a snapshot a reader holds is not freed under it.
 *
 *   actor 0:  ak_cow_update(p, fn): fn writes generation g0 + 1 and seven
 *             words derived from it into the clone; the CAS publishes it.
 *   actor 1:  ak_cow_read_begin; read the generation and the words;
 *             ak_cow_read_end.
 *   FORBIDDEN: generation g0 + 1 with any word not derived from it (the
 *              release CAS in ak_cow_update and the acquire load in
 *              ak_cow_read_begin do not pair); a poisoned snapshot
 *              (ops->destroy poisons every snapshot just before it is
 *              freed: a use after free); any other generation; an update
 *              that failed.
 *   REQUIRED:  generation g0 and g0 + 1 both seen (the actors raced).
 * Each iteration's state keeps its own ak_cow for the whole run (one
 * update per sweep, so every AK_COW_BATCH sweeps an update starts a grace
 * period and frees a batch while the reader is running).  Run with
 * membarrier and again on the fenced read path (_ak_cow_force_fence).
 */
#include <atomkit/cow.h>

#include "litmus.h"

#define NW 7
#define ROUNDS 24
#define POISON UINT64_C(0xdeaddeaddeaddead)
#define WORD(g, i) ((g) * UINT64_C(0x9e3779b97f4a7c15) + (i))

struct payload {
	uint64_t gen;
	uint64_t w[NW];
};

struct slot {
	ak_cow cow;
	ak_cow_reader *rd; /* actor 1's handle */
	uint64_t gen0;     /* generation before this iteration's update */
};

struct st {
	struct slot *slot;
	char pad[128 - sizeof(struct slot *)];
};

#define BATCH 256
static struct slot *slots;
static size_t resets; /* the harness resets states in order 0..batch-1 */

static void poison(void *snap, void *ctx)
{
	struct payload *p = (struct payload *)snap;
	(void)ctx;
	p->gen = POISON;
	for (int i = 0; i < NW; i++)
		p->w[i] = POISON;
}

static ak_status bump(void *clone, void *arg)
{
	struct payload *p = (struct payload *)clone;
	(void)arg;
	p->gen++;
	for (int i = 0; i < NW; i++)
		p->w[i] = WORD(p->gen, i);
	return AK_OK;
}

static void reset(void *p)
{
	struct st *s = (struct st *)p;
	struct slot *sl = &slots[resets++ % BATCH];
	const struct payload *cur;

	s->slot = sl;
	cur = (const struct payload *)ak_cow_read_begin(sl->rd);
	sl->gen0 = cur->gen;
	ak_cow_read_end(sl->rd);
}

static void updater(void *p, int *r)
{
	struct st *s = (struct st *)p;
	/* publishes with the release CAS that pairs with read_begin's acquire */
	r[0] = ak_cow_update(&s->slot->cow, bump, NULL, 0) != AK_OK;
}

static void reader(void *p, int *r)
{
	struct st *s = (struct st *)p;
	struct slot *sl = s->slot;
	/* pairs with the release CAS in ak_cow_update() */
	const struct payload *cur = (const struct payload *)ak_cow_read_begin(sl->rd);
	uint64_t g = cur->gen;
	int whole = 1;

	/* Stay in the section about as long as an update takes, checking
	 * the words again and again: an update that frees this snapshot
	 * meanwhile (it should wait for us) leaves the poison behind. */
	for (int k = 0; k < ROUNDS; k++) {
		for (int i = 0; i < NW; i++)
			if (*(volatile const uint64_t *)&cur->w[i] != WORD(g, i))
				whole = 0;
		if (*(volatile const uint64_t *)&cur->gen != g)
			g = POISON;
	}
	ak_cow_read_end(sl->rd);
	if (g == POISON)
		r[1] = 3;
	else if (g == sl->gen0)
		r[1] = whole || g == 0 ? 0 : 4;
	else if (g == sl->gen0 + 1)
		r[1] = whole ? 1 : 2;
	else
		r[1] = 4;
}

static unsigned outcome(const int *r, const void *st)
{
	(void)st;
	return r[0] ? 5 : (unsigned)r[1];
}

static int run(const char *name, int fenced, int argc, char **argv)
{
	struct litmus t = {
		.name = name,
		.nactors = 2,
		.state_size = sizeof(struct st),
		.batch = BATCH,
		.reset = reset,
		.actor = { updater, reader },
		.outcome = outcome,
		.outcome_name = { "old generation", "new generation, whole", "new generation, torn",
				  "freed snapshot (poisoned)", "other generation or torn old", "update failed" },
		.forbidden = { 0, 0, 1, 1, 1, 1 },
		.must_see = { 1, 1, 0, 0, 0, 0 },
	};
	ak_cow_ops ops = { NULL, poison, NULL };
	struct payload init = { 0, { 0 } };
	ak_cow_stats stats;
	uint64_t retired = 0, freed = 0;
	int rc;

	slots = (struct slot *)calloc(BATCH, sizeof *slots);
	if (!slots)
		return 1;
	_ak_cow_force_fence(fenced);
	for (size_t i = 0; i < BATCH; i++)
		if (ak_cow_init(&slots[i].cow, &init, sizeof init, &ops) != AK_OK ||
		    ak_cow_reader_open(&slots[i].cow, &slots[i].rd) != AK_OK)
			return 1;
	resets = 0;
	rc = litmus_main(&t, argc, argv, 100000);
	for (size_t i = 0; i < BATCH; i++) {
		if (ak_cow_reader_close(slots[i].rd) != AK_OK || ak_cow_synchronize(&slots[i].cow) != AK_OK ||
		    ak_cow_get_stats(&slots[i].cow, &stats) != AK_OK)
			rc = 1;
		retired += stats.retired;
		freed += stats.freed;
		if (ak_cow_destroy(&slots[i].cow) != AK_OK)
			rc = 1;
	}
	printf("%s: %" PRIu64 " snapshots retired, %" PRIu64 " freed after synchronize\n", name, retired,
	       freed);
	if (retired != freed)
		rc = 1;
	free(slots);
	_ak_cow_force_fence(0);
	return rc;
}

/* ---- streaming: one updater publishing as fast as it can, one reader ---- */

static ak_cow one;
static _Atomic(int) started, stop;

static void *stream_updater(void *arg)
{
	(void)arg;
	atomic_store_explicit(&started, 1, memory_order_relaxed);
	while (!atomic_load_explicit(&stop, memory_order_relaxed))
		if (ak_cow_update(&one, bump, NULL, 0) != AK_OK)
			abort();
	return NULL;
}

static int stream(const char *name, int fenced, uint64_t n_reads)
{
	ak_cow_ops ops = { NULL, poison, NULL };
	struct payload init = { 0, { 0 } };
	uint64_t gens = 0, torn = 0, back = 0, prev = 0, i;
	double t_end = ak_litmus_now_() + LITMUS_STREAM_SECONDS;
	ak_cow_reader *rd;
	pthread_t th;

	_ak_cow_force_fence(fenced);
	if (ak_cow_init(&one, &init, sizeof init, &ops) != AK_OK || ak_cow_reader_open(&one, &rd) != AK_OK)
		return 1;
	atomic_store_explicit(&started, 0, memory_order_relaxed);
	atomic_store_explicit(&stop, 0, memory_order_relaxed);
	pthread_create(&th, NULL, stream_updater, NULL);
	while (!atomic_load_explicit(&started, memory_order_relaxed))
		sched_yield();
	for (i = 0; litmus_stream_more(i, n_reads, gens, t_end); i++) {
		/* pairs with the release CAS in ak_cow_update() */
		const struct payload *cur = (const struct payload *)ak_cow_read_begin(rd);
		uint64_t g = cur->gen;
		int whole = g != POISON;

		for (int k = 0; k < ROUNDS; k++) {
			for (int w = 0; w < NW; w++)
				if (*(volatile const uint64_t *)&cur->w[w] != WORD(g, w))
					whole = 0;
			if (*(volatile const uint64_t *)&cur->gen != g)
				whole = 0;
		}
		ak_cow_read_end(rd);
		if (!whole && g != 0)
			torn++;
		else if (g < prev)
			back++;
		else if (g > prev) {
			gens++;
			prev = g;
		}
	}
	atomic_store_explicit(&stop, 1, memory_order_relaxed);
	pthread_join(th, NULL);
	(void)ak_cow_reader_close(rd);
	(void)ak_cow_destroy(&one);
	_ak_cow_force_fence(0);
	printf("%s: %" PRIu64 " read sections, %" PRIu64 " newer generations seen, %" PRIu64
	       " torn or poisoned, %" PRIu64 " went back\n", name, i, gens, torn, back);
	if (litmus_stream_verdict(name, torn + back, gens))
		return 1;
	printf("%s ok: %" PRIu64 " sections, 0 torn, 0 freed, 0 out of order\n", name, i);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t n_reads = litmus_iters(argc, argv, 2000000);
	int rc;

	rc = run("cow_publish (membarrier)", 0, argc, argv);
	rc |= run("cow_publish (fenced read path)", 1, argc, argv);
	rc |= stream("cow_stream (membarrier)", 0, n_reads);
	return rc | stream("cow_stream (fenced read path)", 1, n_reads);
}
