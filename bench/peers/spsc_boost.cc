// boost::lockfree::spsc_queue in the shared SPSC loops (bench/peers/spsc.h).
// Compile-time capacity SPSC_CAP: boost keeps one slack slot internally, so
// all SPSC_CAP slots are usable, as in the atomkit rows.
#include <boost/lockfree/spsc_queue.hpp>

#include <memory>
#include <new>

#include "peers/spsc.h"

namespace {

template <typename T>
using queue = boost::lockfree::spsc_queue<T, boost::lockfree::capacity<SPSC_CAP>>;

int g_abort;
queue<item8> *g_q8, *g_rtt_b;
queue<item64> *g_q64;
SPSC_ARENA(g_arena); // where the queues live: see SPSC_ARENA in peers/spsc.h
unsigned g_turn;
unsigned char *g_place;

template <typename T>
void drop(queue<T> *&q)
{
	if (q)
		std::destroy_at(q);
	q = nullptr;
}

// The previous run's threads have all returned.  Every queue of the row is
// constructed in one region: the first at its start, a second (rtt) after
// the first.
template <typename T>
queue<T> *fresh(queue<T> *&q, size_t at = 0)
{
	static_assert(2 * sizeof(queue<T>) + 4096 <= SPSC_PLACE_BYTES, "queues fit one region");
	drop(q);
	q = new (g_place + at) queue<T>();
	return q;
}

void next_place()
{
	drop(g_q8);
	drop(g_rtt_b);
	drop(g_q64);
	g_place = spsc_next_place(g_arena, &g_turn);
}

void setup(cbench_state *st)
{
	if (cbench_thread_index(st) == 0) {
		g_abort = 0;
		next_place();
	}
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
		fresh(g_rtt_b, (sizeof(queue<item8>) + 4095) & ~size_t(4095));
	}
	SPSC_RTT(st, &g_abort, item8, g_q8->push(it), g_q8->pop(it), g_rtt_b->push(it),
		 g_rtt_b->pop(it));
}

void bm_boost_uncontended(cbench_state *st, void *)
{
	next_place();
	fresh(g_q8);
	SPSC_UNCONTENDED(st, item8, g_q8->push(it), g_q8->pop(it));
}

void bm_boost_uncontended_64b(cbench_state *st, void *)
{
	next_place();
	fresh(g_q64);
	SPSC_UNCONTENDED(st, item64, g_q64->push(it), g_q64->pop(it));
}

void bm_boost_uncontended_burst32(cbench_state *st, void *)
{
	next_place();
	fresh(g_q8);
	SPSC_UNCONTENDED_BURST(st, item8, g_q8->push(buf, cnt), g_q8->pop(buf, cnt));
}

void bm_boost_uncontended_burst32_64b(cbench_state *st, void *)
{
	next_place();
	fresh(g_q64);
	SPSC_UNCONTENDED_BURST(st, item64, g_q64->push(buf, cnt), g_q64->pop(buf, cnt));
}

} // extern "C"
