/*
 * Litmus (streaming form): a progress snapshot is one state the meter had.
 *
 * Every update writes a count c together with last_ns = G(c), a strictly
 * increasing function, so in every state the meter really had,
 * last_ns == G(count); total and started_ns never change.
 *   single writer: ak_progress_add_at(p, 1, G(c + 1)) (the inline path);
 *   two writers (AK_PROGRESS_MULTI_WRITER): ak_progress_set_at(p, c, G(c))
 *   with interleaved counts (writer w sets 2k + w + 1; a count below the
 *   current one is refused with AK_ERANGE, and changes nothing).
 * A reader takes ak_progress_snapshot() and ak_progress_snapshot_try(.., 1)
 * snapshots as fast as it can.
 *   FORBIDDEN: last_ns != G(count) (torn, or count and time from two
 *              updates), total or started_ns changed, count or last_ns
 *              lower than in an earlier snapshot, a status other than
 *              AK_OK / AK_EAGAIN (reader) or AK_OK / AK_ERANGE (writers).
 *   REQUIRED:  LITMUS_STREAM_MIN different counts seen (reads overlapped
 *              writes).
 */
#include <atomkit/progress.h>

#include "litmus.h"

#define G(c) (UINT64_C(1000) + 3 * (c))
#define TOTAL UINT64_C(123456789)

static ak_progress meter;
static _Atomic(int) started, stop, writer_bad;
static unsigned mode;
static uint64_t n_reads;

static void *writer(void *arg)
{
	uint64_t w = (uint64_t)(uintptr_t)arg, c = 0;

	atomic_fetch_add_explicit(&started, 1, memory_order_relaxed);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		ak_status st;
		if (mode == AK_PROGRESS_SINGLE_WRITER) {
			st = ak_progress_add_at(&meter, 1, G(c + 1));
			c++;
		} else {
			c += 2;
			st = ak_progress_set_at(&meter, c + w - 1, G(c + w - 1));
			if (st == AK_ERANGE)
				st = AK_OK;
		}
		if (st != AK_OK)
			atomic_store_explicit(&writer_bad, 1, memory_order_relaxed);
	}
	return NULL;
}

static int run(const char *name, unsigned m, int nwriters)
{
	uint64_t counts = 0, torn = 0, back = 0, other = 0, refused = 0, prev = 0, prev_ns = G(0), i;
	double t_end = ak_litmus_now_() + LITMUS_STREAM_SECONDS;
	ak_fake_clock fc;
	ak_clock clk;
	pthread_t th[2];

	ak_fake_clock_set(&fc, G(0));
	clk = ak_fake_clock_as_clock(&fc);
	mode = m;
	if (ak_progress_init(&meter, TOTAL, m, &clk) != AK_OK)
		return 1;
	atomic_store_explicit(&started, 0, memory_order_relaxed);
	atomic_store_explicit(&stop, 0, memory_order_relaxed);
	atomic_store_explicit(&writer_bad, 0, memory_order_relaxed);
	for (int w = 0; w < nwriters; w++)
		pthread_create(&th[w], NULL, writer, (void *)(uintptr_t)w);
	while (atomic_load_explicit(&started, memory_order_relaxed) < nwriters)
		sched_yield();
	for (i = 0; litmus_stream_more(i, n_reads, counts, t_end); i++) {
		ak_progress_snap s;
		ak_status st = (i & 1) ? ak_progress_snapshot_try(&meter, &s, 1)
				       : ak_progress_snapshot(&meter, &s);
		if (st == AK_EAGAIN) {
			refused++;
			continue;
		}
		if (st != AK_OK || s.total != TOTAL || s.started_ns != G(0))
			other++;
		else if (s.last_ns != G(s.count))
			torn++;
		else if (s.count < prev || s.last_ns < prev_ns)
			back++;
		else if (s.count > prev) {
			counts++;
			prev = s.count;
			prev_ns = s.last_ns;
		}
	}
	atomic_store_explicit(&stop, 1, memory_order_relaxed);
	for (int w = 0; w < nwriters; w++)
		pthread_join(th[w], NULL);
	printf("%s: %" PRIu64 " snapshots (%" PRIu64 " refused by _try), final count %" PRIu64
	       ", %" PRIu64 " counts seen, %" PRIu64 " torn or mixed, %" PRIu64 " went back, %" PRIu64
	       " wrong fields/status\n",
	       name, i, refused, ak_progress_count(&meter), counts, torn, back, other);
	if (atomic_load_explicit(&writer_bad, memory_order_relaxed)) {
		fprintf(stderr, "%s: a writer got a status other than AK_OK / AK_ERANGE\n", name);
		return 1;
	}
	if (litmus_stream_verdict(name, torn + back + other, counts))
		return 1;
	printf("%s ok: %" PRIu64 " snapshots, %" PRIu64 " counts, 0 torn, 0 out of order\n", name, i, counts);
	return 0;
}

int main(int argc, char **argv)
{
	int rc;

	n_reads = litmus_iters(argc, argv, 2000000);
	rc = run("progress_snapshot (single writer, add_at)", AK_PROGRESS_SINGLE_WRITER, 1);
	rc |= run("progress_snapshot (2 writers, set_at)", AK_PROGRESS_MULTI_WRITER, 2);
	return rc;
}
