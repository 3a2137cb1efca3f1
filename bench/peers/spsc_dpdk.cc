// DPDK rte_ring (SP/SC) in the shared SPSC loops (bench/peers/spsc.h).
//
// Built only when the Makefile found libdpdk with pkg-config: it then
// compiles this file with -DAK_HAVE_DPDK and `pkg-config --cflags libdpdk`
// and links `--libs`; otherwise this file compiles to nothing and no dpdk
// rows exist.  The ring lives in plain memory (rte_ring_get_memsize_elem +
// rte_ring_init, no EAL: rte_ring_init only fills in the header), with
// RING_F_EXACT_SZ so that SPSC_CAP slots are usable (the storage is the next
// power of two above SPSC_CAP), elements of 8 and 64 bytes through the _elem
// API.  bench/ring_spsc.c registers the rows beside the other peers'.
#ifdef AK_HAVE_DPDK
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "peers/spsc.h"

namespace {

int g_abort;
struct rte_ring *g_r, *g_rb;
SPSC_ARENA(g_arena); // where the rings live: see SPSC_ARENA in peers/spsc.h
unsigned g_turn;
unsigned char *g_place;

// Ring header and slots at byte `at` of the current region (the previous
// run's threads have all returned); the size is checked against the region.
struct rte_ring *fresh(struct rte_ring *&r, unsigned esize, const char *name, size_t at = 0)
{
	ssize_t sz = rte_ring_get_memsize_elem(esize, rte_align32pow2(SPSC_CAP + 1));
	r = nullptr;
	if (sz < 0 || at + static_cast<size_t>(sz) > SPSC_PLACE_BYTES)
		return nullptr;
	r = reinterpret_cast<struct rte_ring *>(g_place + at);
	if (rte_ring_init(r, name, SPSC_CAP, RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ) != 0)
		r = nullptr;
	return r;
}

// The second ring of a row (rtt) starts on the page after the first.
size_t after_first(unsigned esize)
{
	ssize_t sz = rte_ring_get_memsize_elem(esize, rte_align32pow2(SPSC_CAP + 1));
	return sz < 0 ? SPSC_PLACE_BYTES : (static_cast<size_t>(sz) + 4095) & ~size_t(4095);
}

void setup(cbench_state *st, unsigned esize, bool two)
{
	if (cbench_thread_index(st) == 0) {
		g_abort = 0;
		g_place = spsc_next_place(g_arena, &g_turn);
		if (!fresh(g_r, esize, "ak_bench_a") ||
		    (two && !fresh(g_rb, esize, "ak_bench_b", after_first(esize))))
			spsc_abort(st, &g_abort, "rte_ring_init failed");
	}
}

template <typename T>
unsigned pushn(T *buf, uint64_t n)
{
	return rte_ring_sp_enqueue_burst_elem(g_r, buf, sizeof(T), static_cast<unsigned>(n), nullptr);
}

template <typename T>
unsigned popn(T *buf, uint64_t n)
{
	return rte_ring_sc_dequeue_burst_elem(g_r, buf, sizeof(T), static_cast<unsigned>(n), nullptr);
}

} // namespace

extern "C" {
void bm_dpdk_single(cbench_state *st, void *)
{
	setup(st, sizeof(item8), false);
	SPSC_SINGLE(st, &g_abort, item8, rte_ring_sp_enqueue_elem(g_r, &it, sizeof it) == 0,
		    rte_ring_sc_dequeue_elem(g_r, &it, sizeof it) == 0);
}

void bm_dpdk_single_64b(cbench_state *st, void *)
{
	setup(st, sizeof(item64), false);
	SPSC_SINGLE(st, &g_abort, item64, rte_ring_sp_enqueue_elem(g_r, &it, sizeof it) == 0,
		    rte_ring_sc_dequeue_elem(g_r, &it, sizeof it) == 0);
}

void bm_dpdk_burst32(cbench_state *st, void *)
{
	setup(st, sizeof(item8), false);
	SPSC_BURSTY(st, &g_abort, item8, pushn(buf, cnt), popn(buf, cnt));
}

void bm_dpdk_burst32_64b(cbench_state *st, void *)
{
	setup(st, sizeof(item64), false);
	SPSC_BURSTY(st, &g_abort, item64, pushn(buf, cnt), popn(buf, cnt));
}

void bm_dpdk_rtt(cbench_state *st, void *)
{
	setup(st, sizeof(item8), true);
	SPSC_RTT(st, &g_abort, item8, rte_ring_sp_enqueue_elem(g_r, &it, sizeof it) == 0,
		 rte_ring_sc_dequeue_elem(g_r, &it, sizeof it) == 0,
		 rte_ring_sp_enqueue_elem(g_rb, &it, sizeof it) == 0,
		 rte_ring_sc_dequeue_elem(g_rb, &it, sizeof it) == 0);
}

void bm_dpdk_uncontended(cbench_state *st, void *)
{
	g_place = spsc_next_place(g_arena, &g_turn);
	if (!fresh(g_r, sizeof(item8), "ak_bench_a")) {
		cbench_skip_with_error(st, "rte_ring_init failed");
		return;
	}
	SPSC_UNCONTENDED(st, item8, rte_ring_sp_enqueue_elem(g_r, &it, sizeof it) == 0,
			 rte_ring_sc_dequeue_elem(g_r, &it, sizeof it) == 0);
}

void bm_dpdk_uncontended_burst32(cbench_state *st, void *)
{
	g_place = spsc_next_place(g_arena, &g_turn);
	if (!fresh(g_r, sizeof(item8), "ak_bench_a")) {
		cbench_skip_with_error(st, "rte_ring_init failed");
		return;
	}
	SPSC_UNCONTENDED_BURST(st, item8, pushn(buf, cnt), popn(buf, cnt));
}
} // extern "C"

#endif // AK_HAVE_DPDK
