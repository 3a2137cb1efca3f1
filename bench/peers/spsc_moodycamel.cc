// moodycamel::ReaderWriterQueue in the shared SPSC loops (bench/peers/spsc.h).
// Constructed for SPSC_CAP elements and driven only through try_enqueue /
// try_dequeue, which never allocate, so it behaves as a bounded ring.
// It has no bulk operations, hence no burst rows.
#include <readerwriterqueue/readerwriterqueue.h>

#include "peers/spsc.h"

namespace {

template <typename T>
using queue = moodycamel::ReaderWriterQueue<T>;

int g_abort;
queue<item8> *g_q8, *g_rtt_b;
queue<item64> *g_q64;

template <typename T>
void fresh(queue<T> *&q)
{
	delete q; // the previous run's threads have all returned
	q = new queue<T>(SPSC_CAP);
}

} // namespace

extern "C" {

void bm_moodycamel_single(cbench_state *st, void *)
{
	if (cbench_thread_index(st) == 0) {
		g_abort = 0;
		fresh(g_q8);
	}
	SPSC_SINGLE(st, &g_abort, item8, g_q8->try_enqueue(it), g_q8->try_dequeue(it));
}

void bm_moodycamel_single_64b(cbench_state *st, void *)
{
	if (cbench_thread_index(st) == 0) {
		g_abort = 0;
		fresh(g_q64);
	}
	SPSC_SINGLE(st, &g_abort, item64, g_q64->try_enqueue(it), g_q64->try_dequeue(it));
}

void bm_moodycamel_rtt(cbench_state *st, void *)
{
	if (cbench_thread_index(st) == 0) {
		g_abort = 0;
		fresh(g_q8);
		fresh(g_rtt_b);
	}
	SPSC_RTT(st, &g_abort, item8, g_q8->try_enqueue(it), g_q8->try_dequeue(it),
		 g_rtt_b->try_enqueue(it), g_rtt_b->try_dequeue(it));
}

void bm_moodycamel_uncontended(cbench_state *st, void *)
{
	fresh(g_q8);
	SPSC_UNCONTENDED(st, item8, g_q8->try_enqueue(it), g_q8->try_dequeue(it));
}

void bm_moodycamel_uncontended_64b(cbench_state *st, void *)
{
	fresh(g_q64);
	SPSC_UNCONTENDED(st, item64, g_q64->try_enqueue(it), g_q64->try_dequeue(it));
}

} // extern "C"
