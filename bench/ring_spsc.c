/*
 * SPSC ring benchmarks: atomkit beside ck_ring, boost spsc_queue,
 * moodycamel ReaderWriterQueue and DPDK rte_ring (when AK_HAVE_DPDK), all
 * through the same loops (bench/peers/spsc.h): consumer on CPU 0, producer on CPU 1, one `pause`
 * per failed attempt, FIFO checked by the consumer, capacity 4096.
 *
 *   ring_spsc/<impl>/single        one 8-byte element per call
 *   ring_spsc/<impl>/single_64b    one 64-byte element per call
 *   ring_spsc/<impl>/burst32       up to 32 per call (impls with a bulk API)
 *   ring_spsc/<impl>/burst32_64b
 *   ring_rtt/<impl>/rtt            round trip through two rings (rtt_ns)
 *   ring_rtt/pingpong/rtt          the same over two bare cache lines: the
 *                                  floor for this machine, same run
 *   ring_spsc/<impl>/uncontended   one thread: push 16, pop 16 (code path
 *                                  cost; use with scripts/icount.sh)
 *   ring_spsc/<impl>/uncontended_64b          the same, 64-byte elements
 *   ring_spsc/<impl>/uncontended_burst32      one thread: one burst push of
 *   ring_spsc/<impl>/uncontended_burst32_64b  32, one burst pop of 32
 *   ring_spsc/atomkit{,_nopoll}/trickle  one item per 100 us into pop_wait:
 *                                  the consumer's CPU time per item, with
 *                                  and without metered polling
 *   ring_spsc/atomkit/blocking     consumer uses pop_wait; the producer
 *                                  (burst) never lets the ring go empty;
 *                                  futex_calls counts system calls, split
 *                                  into sc_waits (the consumer found the
 *                                  ring empty: its producer was off the
 *                                  CPU), sc_wakes and sc_spare (a wake
 *                                  that found nobody asleep; want 0)
 *
 * Read items_per_second (delivered items) and rtt_ns; the time column of a
 * 2-thread run is wall time / (2 x items).  ck_ring keeps one slot empty, so
 * its ring is 4096 slots with 4095 usable.  The single and burst rows also
 * report push/pop_per_call and push/pop_fail_per_item (peers/spsc.h); every
 * setup places the rings in the next region of an arena (SPSC_ARENA).
 */
#include <atomkit/ring.h>
#include <ck_ring.h>

#include "peers/spsc.h"

AK_RING_DEFINE(ak8, item8);
AK_RING_DEFINE(ak64, item64);

/* Control blocks and slots live in a region of an arena that changes from
 * one setup to the next (see SPSC_ARENA in peers/spsc.h).  Within a
 * region the slot arrays are page-aligned, as a buffer from mmap or
 * aligned_alloc would be (their page offset moved the 64-byte burst rows by
 * 25% through 4K aliasing with the stack buffers when it followed the
 * linker's layout). */
SPSC_ARENA(g_ak_arena);
static unsigned g_ak_turn;
static ak8 *q8, *q8b;
static ak64 *q64;
static int g_abort;
AK_STATIC_ASSERT(sizeof(ak8) <= 1024 && sizeof(ak64) <= 1024, "control blocks fit their slots");
AK_STATIC_ASSERT(4096 + SPSC_CAP * (2 * sizeof(item8) + sizeof(item64)) <= SPSC_PLACE_BYTES,
		 "the atomkit rings fit one region");

static void ak_setup(cbench_state *st)
{
	unsigned char *p;
	if (cbench_thread_index(st) != 0)
		return;
	g_abort = 0;
	p = spsc_next_place(g_ak_arena, &g_ak_turn);
	q8 = (ak8 *)(void *)p;
	q8b = (ak8 *)(void *)(p + 1024);
	q64 = (ak64 *)(void *)(p + 2048);
	(void)ak8_init(q8, (item8 *)(void *)(p + 4096), SPSC_CAP * sizeof(item8), SPSC_CAP, 0);
	(void)ak8_init(q8b, (item8 *)(void *)(p + 4096 + SPSC_CAP * sizeof(item8)),
		       SPSC_CAP * sizeof(item8), SPSC_CAP, 0);
	(void)ak64_init(q64, (item64 *)(void *)(p + 4096 + 2 * SPSC_CAP * sizeof(item8)),
			SPSC_CAP * sizeof(item64), SPSC_CAP, 0);
}

static inline uint64_t ak8_pushn(ak8 *q, item8 *b, uint64_t n)
{
	uint64_t k;
	(void)ak8_push_burst_spsc(q, b, n, &k);
	return k;
}
static inline uint64_t ak8_popn(ak8 *q, item8 *b, uint64_t n)
{
	uint64_t k;
	(void)ak8_pop_burst_spsc(q, b, n, &k);
	return k;
}
static inline uint64_t ak64_pushn(ak64 *q, item64 *b, uint64_t n)
{
	uint64_t k;
	(void)ak64_push_burst_spsc(q, b, n, &k);
	return k;
}
static inline uint64_t ak64_popn(ak64 *q, item64 *b, uint64_t n)
{
	uint64_t k;
	(void)ak64_pop_burst_spsc(q, b, n, &k);
	return k;
}

static void bm_ak_single(cbench_state *st, void *ctx)
{
	(void)ctx;
	ak_setup(st);
	SPSC_SINGLE(st, &g_abort, item8, ak8_push_spsc(q8, it) == AK_OK,
		    ak8_pop_spsc(q8, &it) == AK_OK);
}

static void bm_ak_single_64b(cbench_state *st, void *ctx)
{
	(void)ctx;
	ak_setup(st);
	SPSC_SINGLE(st, &g_abort, item64, ak64_push_spsc(q64, it) == AK_OK,
		    ak64_pop_spsc(q64, &it) == AK_OK);
}

static void bm_ak_burst32(cbench_state *st, void *ctx)
{
	(void)ctx;
	ak_setup(st);
	SPSC_BURSTY(st, &g_abort, item8, ak8_pushn(q8, buf, cnt), ak8_popn(q8, buf, cnt));
}

static void bm_ak_burst32_64b(cbench_state *st, void *ctx)
{
	(void)ctx;
	ak_setup(st);
	SPSC_BURSTY(st, &g_abort, item64, ak64_pushn(q64, buf, cnt), ak64_popn(q64, buf, cnt));
}

static void bm_ak_rtt(cbench_state *st, void *ctx)
{
	(void)ctx;
	ak_setup(st);
	SPSC_RTT(st, &g_abort, item8, ak8_push_spsc(q8, it) == AK_OK,
		 ak8_pop_spsc(q8, &it) == AK_OK, ak8_push_spsc(q8b, it) == AK_OK,
		 ak8_pop_spsc(q8b, &it) == AK_OK);
}

/*
 * Blocking consumer, producer that keeps the ring from running dry (see
 * SPSC_BLOCKING).  No one ever needs to sleep, so futex_calls (system calls
 * made by the ring) should stay 0: the notify check on the producer's fast
 * path costs a load, not a system call.
 */
static ak_status ak8_split(ak_ring_syscall_split *sp)
{
	return ak_ring_syscalls_split(&q8->ring, sp);
}

static void bm_ak_blocking(cbench_state *st, void *ctx)
{
	(void)ctx;
	ak_setup(st);
	SPSC_BLOCKING(st, &g_abort, item8, ak8_push_spsc(q8, it), ak8_pushn(q8, buf, cnt),
		      ak8_pop_wait_spsc(q8, &it, AK_DEADLINE_NONE, NULL), ak8_split);
}

/*
 * ring_spsc/atomkit/trickle, ring_spsc/atomkit_nopoll/trickle: what a
 * waiting consumer costs when items are sparse.  The producer pushes one
 * item every TRICKLE_NS (busy-waiting on the clock between pushes), the
 * consumer takes each with pop_wait.  Read consumer_cpu_ns: the consumer
 * thread's CPU time per item (CLOCK_THREAD_CPUTIME_ID), i.e. its fixed
 * spin, metered polling and system calls; futex_per_item and
 * polled_per_item say how each wait ended.  `atomkit` has the default
 * meter, `atomkit_nopoll` ak_ring_set_wait_spin(r, 0).
 */
#define TRICKLE_NS 100000u

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void bm_ak_trickle(cbench_state *st, void *ctx)
{
	int tid = cbench_thread_index(st);
	uint64_t n, seq = 0, total = 0;
	item8 it;
	memset(&it, 0, sizeof it);
	ak_setup(st);
	if (tid == 0 && ctx != NULL)
		(void)ak_ring_set_wait_spin(&q8->ring, 0);
	spsc_pin(tid);
	if (tid == 1) {
		uint64_t next = ak_now_ns();
		while ((n = cbench_next_batch(st, 16))) {
			for (uint64_t i = 0; i < n && !spsc_aborted(&g_abort); i++) {
				next += TRICKLE_NS;
				while (ak_now_ns() < next)
					spsc_relax();
				it.seq = seq++;
				while (ak8_push_spsc(q8, it) != AK_OK && !spsc_aborted(&g_abort))
					spsc_relax();
			}
		}
	} else {
		ak_ring_syscall_split sp;
		uint64_t c0 = thread_cpu_ns();
		while ((n = cbench_next_batch(st, 16))) {
			for (uint64_t i = 0; i < n && !spsc_aborted(&g_abort); i++) {
				if (ak8_pop_wait_spsc(q8, &it, AK_DEADLINE_NONE, NULL) != AK_OK ||
				    it.seq != seq++)
					spsc_abort(st, &g_abort, "pop_wait failed or out of order");
			}
			total += n;
		}
		uint64_t cpu = thread_cpu_ns() - c0;
		(void)ak8_split(&sp);
		double items = total ? (double)total : 1.0;
		cbench_set_items_processed(st, (int64_t)total);
		cbench_counter(st, "consumer_cpu_ns", (double)cpu / items, CBENCH_COUNTER_PLAIN);
		cbench_counter(st, "futex_per_item", (double)sp.total / items, CBENCH_COUNTER_PLAIN);
		cbench_counter(st, "polled_per_item", (double)sp.polled / items,
			       CBENCH_COUNTER_PLAIN);
	}
}

/* ---- ck_ring ---- */

CK_RING_PROTOTYPE(item64, item64)

SPSC_ARENA(g_ck_arena);
static unsigned g_ck_turn;
static struct ck_ring *ck_a, *ck_b;
static struct ck_ring_buffer *ck_buf_a, *ck_buf_b;
static struct item64 *ck_buf64;
AK_STATIC_ASSERT(sizeof(struct ck_ring) <= 1024, "ck control blocks fit their slots");
AK_STATIC_ASSERT(4096 + SPSC_CAP * (2 * sizeof(struct ck_ring_buffer) + sizeof(struct item64)) <=
			 SPSC_PLACE_BYTES,
		 "the ck rings fit one region");

static void ck_setup(cbench_state *st)
{
	unsigned char *p;
	if (cbench_thread_index(st) != 0)
		return;
	g_abort = 0;
	/* Laid out like the atomkit rings: control blocks in the first page,
	 * page-aligned slot arrays after it. */
	p = spsc_next_place(g_ck_arena, &g_ck_turn);
	ck_a = (struct ck_ring *)(void *)p;
	ck_b = (struct ck_ring *)(void *)(p + 1024);
	ck_buf_a = (struct ck_ring_buffer *)(void *)(p + 4096);
	ck_buf_b = ck_buf_a + SPSC_CAP;
	ck_buf64 = (struct item64 *)(void *)(ck_buf_b + SPSC_CAP);
	ck_ring_init(ck_a, SPSC_CAP);
	ck_ring_init(ck_b, SPSC_CAP);
}

static inline bool ck_pop8(struct ck_ring *r, struct ck_ring_buffer *b, item8 *it)
{
	void *p;
	if (!ck_ring_dequeue_spsc(r, b, &p))
		return false;
	it->seq = (uint64_t)(uintptr_t)p;
	return true;
}

static void bm_ck_single(cbench_state *st, void *ctx)
{
	(void)ctx;
	ck_setup(st);
	SPSC_SINGLE(st, &g_abort, item8,
		    ck_ring_enqueue_spsc(ck_a, ck_buf_a, (void *)(uintptr_t)it.seq),
		    ck_pop8(ck_a, ck_buf_a, &it));
}

static void bm_ck_single_64b(cbench_state *st, void *ctx)
{
	(void)ctx;
	ck_setup(st);
	SPSC_SINGLE(st, &g_abort, item64, ck_ring_enqueue_spsc_item64(ck_a, ck_buf64, &it),
		    ck_ring_dequeue_spsc_item64(ck_a, ck_buf64, &it));
}

static void bm_ck_rtt(cbench_state *st, void *ctx)
{
	(void)ctx;
	ck_setup(st);
	SPSC_RTT(st, &g_abort, item8,
		 ck_ring_enqueue_spsc(ck_a, ck_buf_a, (void *)(uintptr_t)it.seq),
		 ck_pop8(ck_a, ck_buf_a, &it),
		 ck_ring_enqueue_spsc(ck_b, ck_buf_b, (void *)(uintptr_t)it.seq),
		 ck_pop8(ck_b, ck_buf_b, &it));
}

static void bm_ak_uncontended(cbench_state *st, void *ctx)
{
	(void)ctx;
	ak_setup(st);
	/* One thread: the ring pointer in a local, so that the compiler need
	 * not reload the global after every atomic store (counts stay per op). */
	ak8 *const q = q8;
	SPSC_UNCONTENDED(st, item8, ak8_push_spsc(q, it) == AK_OK, ak8_pop_spsc(q, &it) == AK_OK);
}

static void bm_ak_uncontended_64b(cbench_state *st, void *ctx)
{
	(void)ctx;
	ak_setup(st);
	ak64 *const q = q64;
	SPSC_UNCONTENDED(st, item64, ak64_push_spsc(q, it) == AK_OK,
			 ak64_pop_spsc(q, &it) == AK_OK);
}

static void bm_ak_uncontended_burst32(cbench_state *st, void *ctx)
{
	(void)ctx;
	ak_setup(st);
	ak8 *const q = q8;
	SPSC_UNCONTENDED_BURST(st, item8, ak8_pushn(q, buf, cnt), ak8_popn(q, buf, cnt));
}

static void bm_ak_uncontended_burst32_64b(cbench_state *st, void *ctx)
{
	(void)ctx;
	ak_setup(st);
	ak64 *const q = q64;
	SPSC_UNCONTENDED_BURST(st, item64, ak64_pushn(q, buf, cnt), ak64_popn(q, buf, cnt));
}

static void bm_ck_uncontended_64b(cbench_state *st, void *ctx)
{
	(void)ctx;
	ck_setup(st);
	struct ck_ring *const r = ck_a;
	struct item64 *const b = ck_buf64;
	SPSC_UNCONTENDED(st, item64, ck_ring_enqueue_spsc_item64(r, b, &it),
			 ck_ring_dequeue_spsc_item64(r, b, &it));
}

static void bm_ck_uncontended(cbench_state *st, void *ctx)
{
	(void)ctx;
	ck_setup(st);
	struct ck_ring *const r = ck_a;
	struct ck_ring_buffer *const b = ck_buf_a;
	SPSC_UNCONTENDED(st, item8, ck_ring_enqueue_spsc(r, b, (void *)(uintptr_t)it.seq),
			 ck_pop8(r, b, &it));
}

/* ---- raw cache-line ping-pong: the floor ---- */

static AK_CACHE_ALIGNED _Atomic(uint64_t) pp_a;
static AK_CACHE_ALIGNED _Atomic(uint64_t) pp_b;

static inline bool pp_wait(_Atomic(uint64_t) *line, uint64_t want, item8 *it)
{
	/* Acquire pairs with the release store of the other thread. */
	if (atomic_load_explicit(line, memory_order_acquire) != want)
		return false;
	it->seq = want - 1;
	return true;
}

static inline bool pp_post(_Atomic(uint64_t) *line, uint64_t v)
{
	/* Release pairs with the acquire load in pp_wait(). */
	atomic_store_explicit(line, v, memory_order_release);
	return true;
}

static void bm_pingpong(cbench_state *st, void *ctx)
{
	(void)ctx;
	if (cbench_thread_index(st) == 0) {
		g_abort = 0;
		atomic_store_explicit(&pp_a, 0, memory_order_relaxed);
		atomic_store_explicit(&pp_b, 0, memory_order_relaxed);
	}
	/* seq_ is the loop's sequence number (see SPSC_RTT). */
	SPSC_RTT(st, &g_abort, item8, pp_post(&pp_a, it.seq + 1), pp_wait(&pp_a, seq_ + 1, &it),
		 pp_post(&pp_b, it.seq + 1), pp_wait(&pp_b, seq_ + 1, &it));
}

CBENCH_INIT(ring_spsc)
{
	static const int two[] = { 2 };
	cbench_register_threads("ring_spsc/atomkit/single", bm_ak_single, NULL, two, 1);
	cbench_register_threads("ring_spsc/ck/single", bm_ck_single, NULL, two, 1);
	cbench_register_threads("ring_spsc/boost/single", bm_boost_single, NULL, two, 1);
	cbench_register_threads("ring_spsc/moodycamel/single", bm_moodycamel_single, NULL, two, 1);
#ifdef AK_HAVE_DPDK
	cbench_register_threads("ring_spsc/dpdk/single", bm_dpdk_single, NULL, two, 1);
#endif
	cbench_register_threads("ring_spsc/atomkit/single_64b", bm_ak_single_64b, NULL, two, 1);
	cbench_register_threads("ring_spsc/ck/single_64b", bm_ck_single_64b, NULL, two, 1);
	cbench_register_threads("ring_spsc/boost/single_64b", bm_boost_single_64b, NULL, two, 1);
	cbench_register_threads("ring_spsc/moodycamel/single_64b", bm_moodycamel_single_64b, NULL,
				two, 1);
#ifdef AK_HAVE_DPDK
	cbench_register_threads("ring_spsc/dpdk/single_64b", bm_dpdk_single_64b, NULL, two, 1);
#endif
	cbench_register_threads("ring_spsc/atomkit/burst32", bm_ak_burst32, NULL, two, 1);
	cbench_register_threads("ring_spsc/boost/burst32", bm_boost_burst32, NULL, two, 1);
#ifdef AK_HAVE_DPDK
	cbench_register_threads("ring_spsc/dpdk/burst32", bm_dpdk_burst32, NULL, two, 1);
#endif
	cbench_register_threads("ring_spsc/atomkit/burst32_64b", bm_ak_burst32_64b, NULL, two, 1);
	cbench_register_threads("ring_spsc/boost/burst32_64b", bm_boost_burst32_64b, NULL, two, 1);
#ifdef AK_HAVE_DPDK
	cbench_register_threads("ring_spsc/dpdk/burst32_64b", bm_dpdk_burst32_64b, NULL, two, 1);
#endif
	cbench_register_threads("ring_spsc/atomkit/blocking", bm_ak_blocking, NULL, two, 1);
	cbench_register_threads("ring_spsc/atomkit/trickle", bm_ak_trickle, NULL, two, 1);
	cbench_register_threads("ring_spsc/atomkit_nopoll/trickle", bm_ak_trickle, (void *)1, two,
				1);
	cbench_register_threads("ring_rtt/pingpong/rtt", bm_pingpong, NULL, two, 1);
	cbench_register_threads("ring_rtt/atomkit/rtt", bm_ak_rtt, NULL, two, 1);
	cbench_register_threads("ring_rtt/ck/rtt", bm_ck_rtt, NULL, two, 1);
	cbench_register_threads("ring_rtt/boost/rtt", bm_boost_rtt, NULL, two, 1);
	cbench_register_threads("ring_rtt/moodycamel/rtt", bm_moodycamel_rtt, NULL, two, 1);
#ifdef AK_HAVE_DPDK
	cbench_register_threads("ring_rtt/dpdk/rtt", bm_dpdk_rtt, NULL, two, 1);
#endif
	cbench_register("ring_spsc/atomkit/uncontended", bm_ak_uncontended, NULL, 0, 0);
	cbench_register("ring_spsc/ck/uncontended", bm_ck_uncontended, NULL, 0, 0);
	cbench_register("ring_spsc/boost/uncontended", bm_boost_uncontended, NULL, 0, 0);
	cbench_register("ring_spsc/moodycamel/uncontended", bm_moodycamel_uncontended, NULL, 0, 0);
#ifdef AK_HAVE_DPDK
	cbench_register("ring_spsc/dpdk/uncontended", bm_dpdk_uncontended, NULL, 0, 0);
#endif
	cbench_register("ring_spsc/atomkit/uncontended_64b", bm_ak_uncontended_64b, NULL, 0, 0);
	cbench_register("ring_spsc/ck/uncontended_64b", bm_ck_uncontended_64b, NULL, 0, 0);
	cbench_register("ring_spsc/boost/uncontended_64b", bm_boost_uncontended_64b, NULL, 0, 0);
	cbench_register("ring_spsc/moodycamel/uncontended_64b", bm_moodycamel_uncontended_64b,
			NULL, 0, 0);
	cbench_register("ring_spsc/atomkit/uncontended_burst32", bm_ak_uncontended_burst32, NULL,
			0, 0);
	cbench_register("ring_spsc/boost/uncontended_burst32", bm_boost_uncontended_burst32, NULL,
			0, 0);
#ifdef AK_HAVE_DPDK
	cbench_register("ring_spsc/dpdk/uncontended_burst32", bm_dpdk_uncontended_burst32, NULL, 0,
			0);
#endif
	cbench_register("ring_spsc/atomkit/uncontended_burst32_64b",
			bm_ak_uncontended_burst32_64b, NULL, 0, 0);
	cbench_register("ring_spsc/boost/uncontended_burst32_64b",
			bm_boost_uncontended_burst32_64b, NULL, 0, 0);
}
