// DPDK rte_ring as an MPMC / MPSC / SPMC peer, in its three multi-thread
// sync modes:
//   dpdk       MP/MC: CAS on the head, then wait until earlier operations of
//              the same side have moved the tail (in order, like ck_ring and
//              atomkit's ak_ring)
//   dpdk_rts   "relaxed tail sync": the tail moves when the last of the
//              operations in flight finishes, so nobody waits for one
//              particular thread, but a preempted thread still holds the
//              tail back for everyone on its side
//   dpdk_hts   "head/tail sync": one operation per side at a time
//   dpdk_mpsc, dpdk_spmc   MP/SC and SP/MC for the 3p1c and 1p3c rows
//
// Built only when the Makefile found libdpdk (it then passes -DAK_HAVE_DPDK
// and pkg-config's flags to *_dpdk.cc only).  The ring lives in plain memory:
// rte_ring_get_memsize_elem + aligned_alloc + rte_ring_init, no EAL.
// RING_F_EXACT_SZ makes exactly MPMC_CAP slots usable (the storage is the
// next power of two above it); 8-byte elements through the _elem API, one
// element per call, like every other row.
#ifdef AK_HAVE_DPDK
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <cstdint>
#include <cstdlib>

#include "peers/mpmc.h"

namespace {

struct rte_ring *make_ring(unsigned flags)
{
	ssize_t sz = rte_ring_get_memsize_elem(sizeof(uint64_t), rte_align32pow2(MPMC_CAP + 1));
	if (sz < 0)
		std::abort();
	size_t bytes = (static_cast<size_t>(sz) + RTE_CACHE_LINE_SIZE - 1) &
		       ~static_cast<size_t>(RTE_CACHE_LINE_SIZE - 1);
	auto *r = static_cast<struct rte_ring *>(std::aligned_alloc(RTE_CACHE_LINE_SIZE, bytes));
	if (!r || rte_ring_init(r, "ak_bench_mpmc", MPMC_CAP, flags | RING_F_EXACT_SZ) != 0 ||
	    rte_ring_get_capacity(r) != MPMC_CAP)
		std::abort();
	return r;
}

inline struct rte_ring *R(void *q)
{
	return static_cast<struct rte_ring *>(q);
}

// One element per call: the single-element calls where DPDK has them, else
// a bulk of one (RTS and HTS come in bulk/burst form only).  Each becomes a
// function (q, t, v) so MPMC_DRIVER can call it like the other adapters do.
#define DP_PUSH_MP(r, p) (rte_ring_mp_enqueue_elem(r, p, sizeof(uint64_t)) == 0)
#define DP_PUSH_SP(r, p) (rte_ring_sp_enqueue_elem(r, p, sizeof(uint64_t)) == 0)
#define DP_POP_MC(r, p) (rte_ring_mc_dequeue_elem(r, p, sizeof(uint64_t)) == 0)
#define DP_POP_SC(r, p) (rte_ring_sc_dequeue_elem(r, p, sizeof(uint64_t)) == 0)
#define DP_PUSH_RTS(r, p) (rte_ring_mp_rts_enqueue_bulk_elem(r, p, sizeof(uint64_t), 1, nullptr) == 1)
#define DP_POP_RTS(r, p) (rte_ring_mc_rts_dequeue_bulk_elem(r, p, sizeof(uint64_t), 1, nullptr) == 1)
#define DP_PUSH_HTS(r, p) (rte_ring_mp_hts_enqueue_bulk_elem(r, p, sizeof(uint64_t), 1, nullptr) == 1)
#define DP_POP_HTS(r, p) (rte_ring_mc_hts_dequeue_bulk_elem(r, p, sizeof(uint64_t), 1, nullptr) == 1)

#define DP_MODE(name, FLAGS, PUSH, POP)                                                   \
	inline bool name##_push(void *q, void *, uint64_t v) { return PUSH(R(q), &v); }  \
	inline bool name##_pop(void *q, void *, uint64_t *v) { return POP(R(q), v); }     \
	MPMC_DRIVER(name##_drv, void *, void *, name##_push, name##_pop)                  \
	void *name##_create_(void) { return make_ring(FLAGS); }

DP_MODE(dpdk, 0, DP_PUSH_MP, DP_POP_MC)
DP_MODE(dpdk_rts, RING_F_MP_RTS_ENQ | RING_F_MC_RTS_DEQ, DP_PUSH_RTS, DP_POP_RTS)
DP_MODE(dpdk_hts, RING_F_MP_HTS_ENQ | RING_F_MC_HTS_DEQ, DP_PUSH_HTS, DP_POP_HTS)
DP_MODE(dpdk_mpsc, RING_F_SC_DEQ, DP_PUSH_MP, DP_POP_SC)
DP_MODE(dpdk_spmc, RING_F_SP_ENQ, DP_PUSH_SP, DP_POP_MC)

} // namespace

#define DP_EXPORT(name)                                                                   \
	void *mpmc_##name##_create(void) { return name##_create_(); }                     \
	void mpmc_##name##_destroy(void *q) { std::free(q); }                             \
	void *mpmc_##name##_thread_begin(void *, int) { return nullptr; }                  \
	void mpmc_##name##_thread_end(void *) {}                                          \
	int mpmc_##name##_produce(void *q, void *t, uint64_t tag, uint64_t *seq, uint64_t n) \
	{                                                                                 \
		return name##_drv_produce(q, t, tag, seq, n);                              \
	}                                                                                 \
	int64_t mpmc_##name##_consume(void *q, void *t, uint64_t n, uint64_t *last,       \
				      unsigned nprod)                                     \
	{                                                                                 \
		return name##_drv_consume(q, t, n, last, nprod);                           \
	}

extern "C" {
DP_EXPORT(dpdk)
DP_EXPORT(dpdk_rts)
DP_EXPORT(dpdk_hts)
DP_EXPORT(dpdk_mpsc)
DP_EXPORT(dpdk_spmc)
}
#endif // AK_HAVE_DPDK
