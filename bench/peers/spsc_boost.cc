// boost::lockfree::spsc_queue in the shared SPSC loops (bench/peers/spsc.h).
// Compile-time capacity SPSC_CAP: boost keeps one slack slot internally, so
// all SPSC_CAP slots are usable, as in the atomkit rows.
#include <boost/lockfree/spsc_queue.hpp>

#include "peers/spsc.h"

namespace {

template <typename T>
using queue = boost::lockfree::spsc_queue<T, boost::lockfree::capacity<SPSC_CAP>>;

int g_abort;
queue<item8> *g_q8, *g_rtt_b;
queue<item64> *g_q64;

template <typename T>
queue<T> *fresh(queue<T> *&q)
{
	delete q; // the previous run's threads have all returned
	q = new queue<T>();
	return q;
}

void setup(cbench_state *st)
{
	if (cbench_thread_index(st) == 0)
		g_abort = 0;
}

} // namespace

extern "C" {

void bm_boost_single(cbench_state *st, void *)
{
	setup(st);
	if (cbench_thread_index(st) == 0)
		fresh(g_q8);
	SPSC_SINGLE(st, &g_abort, item8, g_q8->push(it), g_q8->pop(it));
}

void bm_boost_single_64b(cbench_state *st, void *)
{
	setup(st);
	if (cbench_thread_index(st) == 0)
		fresh(g_q64);
	SPSC_SINGLE(st, &g_abort, item64, g_q64->push(it), g_q64->pop(it));
}

void bm_boost_burst32(cbench_state *st, void *)
{
	setup(st);
	if (cbench_thread_index(st) == 0)
		fresh(g_q8);
	SPSC_BURSTY(st, &g_abort, item8, g_q8->push(buf, cnt), g_q8->pop(buf, cnt));
}

void bm_boost_burst32_64b(cbench_state *st, void *)
{
	setup(st);
	if (cbench_thread_index(st) == 0)
		fresh(g_q64);
	SPSC_BURSTY(st, &g_abort, item64, g_q64->push(buf, cnt), g_q64->pop(buf, cnt));
}

void bm_boost_rtt(cbench_state *st, void *)
{
	setup(st);
	if (cbench_thread_index(st) == 0) {
		fresh(g_q8);
		fresh(g_rtt_b);
	}
	SPSC_RTT(st, &g_abort, item8, g_q8->push(it), g_q8->pop(it), g_rtt_b->push(it),
		 g_rtt_b->pop(it));
}

void bm_boost_uncontended(cbench_state *st, void *)
{
	fresh(g_q8);
	SPSC_UNCONTENDED(st, item8, g_q8->push(it), g_q8->pop(it));
}

void bm_boost_uncontended_64b(cbench_state *st, void *)
{
	fresh(g_q64);
	SPSC_UNCONTENDED(st, item64, g_q64->push(it), g_q64->pop(it));
}

void bm_boost_uncontended_burst32(cbench_state *st, void *)
{
	fresh(g_q8);
	SPSC_UNCONTENDED_BURST(st, item8, g_q8->push(buf, cnt), g_q8->pop(buf, cnt));
}

void bm_boost_uncontended_burst32_64b(cbench_state *st, void *)
{
	fresh(g_q64);
	SPSC_UNCONTENDED_BURST(st, item64, g_q64->push(buf, cnt), g_q64->pop(buf, cnt));
}

} // extern "C"
