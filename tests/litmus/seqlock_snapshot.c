/*
 * Litmus (streaming form): seqlock snapshot consistency.
 *
 * One writer publishes, with ak_seqlock_write(), a 4-word record in which
 * every word is derived from the first (b = 3a, c = a ^ K, d = ~a); one
 * reader takes ak_seqlock_try_read() snapshots as fast as it can.
 *   FORBIDDEN: an accepted snapshot whose words do not match (torn);
 *   FORBIDDEN: an accepted snapshot older than the previous one (the
 *              writer's values only grow);
 *   REQUIRED:  both accepted snapshots and refused (AK_EAGAIN) attempts,
 *              so reads really overlapped writes.
 * The same with ak_seqlatch (two copies): there a refusal is rare, so
 * only accepted snapshots are required.
 */
#include <atomkit/seqlock.h>

#include "litmus.h"

#define K UINT64_C(0x5bd1e9955bd1e995)

struct rec {
	uint64_t a, b, c, d;
};

static _Atomic(uint64_t) words[AK_SEQLATCH_WORDS(sizeof(struct rec))];
static ak_seqlock sl;
static ak_seqlatch slt;
static _Atomic(int) done;
static uint64_t n_writes;
static int latch;

static void *writer(void *arg)
{
	(void)arg;
	for (uint64_t a = 1; a <= n_writes; a++) {
		struct rec r = { a, 3 * a, a ^ K, ~a };
		ak_status st = latch ? ak_seqlatch_write(&slt, &r, sizeof r)
				     : ak_seqlock_write(&sl, &r, sizeof r);
		if (st != AK_OK)
			abort();
		/* leave gaps, or a reader never finds the sequence even */
		for (int i = 0; i < 16; i++)
			__builtin_ia32_pause();
	}
	atomic_store_explicit(&done, 1, memory_order_release); /* pairs with the acquire in the reader loop */
	return NULL;
}

static int run(const char *name)
{
	uint64_t ok = 0, again = 0, torn = 0, back = 0, prev = 0;
	pthread_t th;
	struct rec r;

	atomic_store_explicit(&done, 0, memory_order_relaxed);
	pthread_create(&th, NULL, writer, NULL);
	while (!atomic_load_explicit(&done, memory_order_acquire)) { /* pairs with the release in writer */
		ak_status st = latch ? ak_seqlatch_try_read(&slt, &r, sizeof r, 1)
				     : ak_seqlock_try_read(&sl, &r, sizeof r, 1);
		if (st == AK_EAGAIN) {
			again++;
			continue;
		}
		if (st != AK_OK)
			abort();
		ok++;
		if (r.b != 3 * r.a || r.c != (r.a ^ K) || r.d != ~r.a)
			torn++;
		else if (r.a < prev)
			back++;
		else
			prev = r.a;
	}
	pthread_join(th, NULL);
	printf("%s: %" PRIu64 " writes, %" PRIu64 " snapshots accepted, %" PRIu64
	       " refused (overlapped a write), %" PRIu64 " torn, %" PRIu64 " went back\n",
	       name, n_writes, ok, again, torn, back);
	if (torn || back) {
		fprintf(stderr, "%s: FORBIDDEN outcomes\n", name);
		return 1;
	}
	if (ok == 0 || (!latch && again == 0)) {
		fprintf(stderr, "%s: reads never overlapped writes; the test proved nothing\n", name);
		return 1;
	}
	printf("%s ok: %" PRIu64 " snapshots, 0 torn, 0 out of order\n", name, ok);
	return 0;
}

int main(int argc, char **argv)
{
	int rc;

	n_writes = litmus_iters(argc, argv, 2000000);
	struct rec init = { 0, 0, K, ~UINT64_C(0) }; /* consistent, like every write */

	if (ak_seqlock_init(&sl, words, sizeof(struct rec), &init) != AK_OK)
		return 1;
	latch = 0;
	rc = run("seqlock_snapshot (ak_seqlock)");
	if (ak_seqlatch_init(&slt, words, sizeof(struct rec), &init) != AK_OK)
		return 1;
	latch = 1;
	return run("seqlock_snapshot (ak_seqlatch)") | rc;
}
