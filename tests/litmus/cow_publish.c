/*
 * Litmus (streaming form): what an update writes into its clone is visible
 * to a reader that sees the new pointer, and a snapshot a reader holds is
 * not freed under it.
 *
 * One thread runs ak_cow_update() non-stop; fn writes generation g + 1 and
 * seven words derived from it into the clone, and the CAS publishes it.
 * The test thread enters a read section, reads the generation, then checks
 * the words (and the generation) again and again for about as long as an
 * update takes, and leaves.
 *   FORBIDDEN: a snapshot whose words do not match its generation (the
 *              release CAS in ak_cow_update and the acquire load in
 *              ak_cow_read_begin do not pair, or the clone was published
 *              before fn filled it); a poisoned snapshot (ops->destroy
 *              poisons every snapshot just before it is freed: freed under
 *              a reader); a generation lower than one seen before.
 *   REQUIRED:  LITMUS_STREAM_MIN newer generations seen (reads overlapped
 *              updates).
 * Run with membarrier and again on the fenced read path
 * (_ak_cow_force_fence).  An earlier jcstress form (a fresh update per
 * iteration) caught neither a publish-before-fill bug nor a skipped
 * registry scan: their windows are a few nanoseconds per update, and a
 * reader that races one update at a time rarely hits them.  Against a
 * writer that publishes continuously this form catches both.
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
	int rc = stream("cow_publish (membarrier)", 0, n_reads);

	return rc | stream("cow_publish (fenced read path)", 1, n_reads);
}
