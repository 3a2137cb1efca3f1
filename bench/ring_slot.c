/*
 * bench/ring_slot.c - SPSC rings whose consumer learns what is published
 * from the slots, never from the producer's index: the library's
 * ak_ring_slot and the prototypes measured before it was written
 * (docs/ring_slot.md has the runs).
 *
 * In every design the producer keeps a cached end of the free space
 * (cons.tail + capacity) and reloads cons.tail only when that says full; the
 * consumer publishes cons.tail on its own line after every pop, as ak_ring
 * does.  Words hold free-running 64-bit positions (no clearing, no ABA).
 *
 *   atomkit_slot        ak_ring_slot (include/atomkit/ring_slot.h): one word
 *                       per push call, in the first slot of its batch,
 *                       holding the batch's end; {word, element} interleaved
 *   atomkit_slotseq     prototype: every slot's word = its position + 1,
 *                       written after its element; interleaved (16 B slots
 *                       for 8-byte items, 72 B for 64-byte items).  A burst
 *                       pop checks the last slot it wants, then the first,
 *                       then bisects (release stores in program order)
 *   atomkit_slotseqsep  the same with a word array beside a contiguous
 *                       element array (zero-copy segments stay possible)
 *   atomkit_slotsep     prototype: the batch word of atomkit_slot with the
 *                       separate arrays of atomkit_slotseqsep
 *
 * Rows (the same loops, capacity 4096, pinning, spin policy and FIFO check
 * as the peers in bench/ring_spsc.c, see bench/peers/spsc.h), for each
 * <impl> above:
 *   ring_spsc/<impl>/{single,single_64b,burst32,burst32_64b}
 *   ring_rtt/<impl>/rtt
 *   ring_spsc/<impl>/{uncontended,uncontended_64b,uncontended_burst32,
 *                     uncontended_burst32_64b}
 *
 *   ring_spsc/atomkit_slot/blocking    ak_ring_slot only: pop_wait against
 *                                      a producer that never lets the ring
 *                                      go empty (SPSC_BLOCKING)
 *
 * The prototypes have no close, blocking waits or gate reads (one word of
 * the side's own line per operation; ak_ring_slot has them) and skip the
 * NULL checks.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>

#include <atomkit/internal/compiler.h>
#include <atomkit/ring_slot.h>

#include "peers/spsc.h"

/* Variant bits (the `sep` argument of every helper, a constant per row). */
#define SQ_SEP 1   /* seq array beside the element array (else interleaved) */
#define SQ_BATCH 2 /* one word per push call, in its first slot (see below) */

struct slotq {
	AK_CACHE_ALIGNED struct {
		uint64_t mask; /* storage slots - 1 */
		uint64_t cap;  /* usable */
		int64_t off;   /* storage minus control block */
		uint64_t slots;
	} cfg;
	AK_CACHE_ALIGNED struct {
		uint64_t head;  /* next position to write */
		uint64_t limit; /* cons.tail + cap as last read: end of free space */
	} prod;
	AK_CACHE_ALIGNED struct {
		uint64_t head;  /* next position to read */
		uint64_t cache; /* SQ_BATCH: published up to here, as last read */
	} cons;
	AK_CACHE_ALIGNED _Atomic(uint64_t) ctail; /* consumer: released up to here */
};
AK_ASSERT_PADDED(struct slotq);

/* Slot addressing: interleaved {seq, element} (stride 8 + esz), or a seq
 * array of `slots` words followed by the element array.  Every pointer of
 * an operation is computed before its first store, so that the compiler
 * need not reload the configuration after a store through a char pointer. */
struct sq_at {
	_Atomic(uint64_t) *seq;
	char *elem;
};

AK_INLINE struct sq_at sq_at(struct slotq *q, uint64_t pos, size_t esz, int sep)
{
	struct sq_at a;
	uint64_t i = pos & q->cfg.mask;
	char *base = (char *)q + q->cfg.off;
	a.seq = (_Atomic(uint64_t) *)(void *)(base + ((sep & SQ_SEP) ? i * 8 : i * (8 + esz)));
	a.elem = (sep & SQ_SEP) ? base + q->cfg.slots * 8 + i * esz : base + i * (8 + esz) + 8;
	return a;
}

AK_INLINE _Atomic(uint64_t) *sq_seq(struct slotq *q, uint64_t pos, size_t esz, int sep)
{
	return sq_at(q, pos, esz, sep).seq;
}

static void sq_init(struct slotq *q, void *storage, uint64_t slots, uint64_t cap, size_t esz,
		    int sep)
{
	q->cfg.mask = slots - 1;
	q->cfg.slots = slots;
	q->cfg.cap = cap;
	q->cfg.off = (int64_t)((char *)storage - (char *)q);
	q->prod.head = 0;
	q->prod.limit = cap;
	q->cons.head = 0;
	q->cons.cache = 0;
	atomic_store_explicit(&q->ctail, 0, memory_order_relaxed);
	/* Position p expects p + 1; slot i first serves position i, so it
	 * starts at a value no position before the next lap would match. */
	for (uint64_t i = 0; i < slots; i++)
		atomic_store_explicit(sq_seq(q, i, esz, sep), 0, memory_order_relaxed);
}

/* Free slots as the producer sees them; reloads cons.tail only when the
 * cache shows fewer than n. */
AK_INLINE uint64_t sq_room(struct slotq *q, uint64_t h, uint64_t n)
{
	uint64_t room = q->prod.limit - h;
	if (AK_UNLIKELY(room < n)) {
		/* Acquire pairs with the release of ctail in sq_pop()/sq_popn():
		 * the consumer has read the slots we are about to overwrite. */
		q->prod.limit = atomic_load_explicit(&q->ctail, memory_order_acquire) + q->cfg.cap;
		room = q->prod.limit - h;
	}
	return room;
}

AK_INLINE bool sq_push(struct slotq *q, const void *src, size_t esz, int sep)
{
	uint64_t h = q->prod.head;
	struct sq_at at;
	if (AK_UNLIKELY(sq_room(q, h, 1) == 0))
		return false;
	at = sq_at(q, h, esz, sep);
	memcpy(at.elem, src, esz);
	/* Release pairs with the acquire of the slot's seq in sq_pop(): the
	 * element is written before the slot reads as full. */
	atomic_store_explicit(at.seq, h + 1, memory_order_release);
	q->prod.head = h + 1;
	return true;
}

AK_INLINE bool sq_pop(struct slotq *q, void *dst, size_t esz, int sep)
{
	uint64_t h = q->cons.head;
	struct sq_at at = sq_at(q, h, esz, sep);
	if (sep & SQ_BATCH) {
		if (q->cons.cache == h) {
			/* Acquire pairs with the release of the word in
			 * sq_push()/sq_pushn(): the batch from h is written. */
			uint64_t e = atomic_load_explicit(at.seq, memory_order_acquire);
			if ((int64_t)(e - h) <= 0)
				return false;
			q->cons.cache = e;
		}
	} else {
		/* Acquire pairs with the release of the seq in sq_push(). */
		if (atomic_load_explicit(at.seq, memory_order_acquire) != h + 1)
			return false;
	}
	memcpy(dst, at.elem, esz);
	q->cons.head = h + 1;
	/* Release pairs with the acquire of ctail in sq_room(): our read of
	 * the slot is done before the producer overwrites it. */
	atomic_store_explicit(&q->ctail, h + 1, memory_order_release);
	return true;
}

/* A burst's view of the storage, read once. */
struct sq_span {
	char *base;
	uint64_t mask, slots;
};

AK_INLINE struct sq_span sq_span(struct slotq *q)
{
	struct sq_span v;
	v.base = (char *)q + q->cfg.off;
	v.mask = q->cfg.mask;
	v.slots = q->cfg.slots;
	return v;
}

AK_INLINE _Atomic(uint64_t) *sq_span_seq(struct sq_span v, uint64_t pos, size_t esz, int sep)
{
	uint64_t i = pos & v.mask;
	return (_Atomic(uint64_t) *)(void *)(v.base + ((sep & SQ_SEP) ? i * 8 : i * (8 + esz)));
}

AK_INLINE char *sq_span_elem(struct sq_span v, uint64_t pos, size_t esz, int sep)
{
	uint64_t i = pos & v.mask;
	return (sep & SQ_SEP) ? v.base + v.slots * 8 + i * esz : v.base + i * (8 + esz) + 8;
}

AK_INLINE uint64_t sq_pushn(struct slotq *q, const void *src, uint64_t n, size_t esz, int sep)
{
	uint64_t h = q->prod.head, room = sq_room(q, h, n), k = room < n ? room : n;
	struct sq_span v = sq_span(q);
	const char *s = (const char *)src;
	if (sep & SQ_BATCH) {
		/* Elements (up to two runs), then one word in the first slot:
		 * the end of the batch. */
		uint64_t first = v.slots - (h & v.mask);
		if (k == 0)
			return 0;
		if (first > k)
			first = k;
		if (sep & SQ_SEP) {
			memcpy(sq_span_elem(v, h, esz, sep), s, first * esz);
			if (k > first)
				memcpy(v.base + v.slots * 8, s + first * esz, (k - first) * esz);
		} else {
			uint64_t p = h, end = h + k;
			while (p != end) {
				uint64_t run = v.slots - (p & v.mask), stop;
				char *at = sq_span_elem(v, p, esz, sep);
				if (run > end - p)
					run = end - p;
				for (stop = p + run; p != stop; p++, at += 8 + esz, s += esz)
					memcpy(at, s, esz);
			}
		}
		/* Release pairs with the acquire of the word in sq_pop() /
		 * sq_avail_batch(): the k elements are written. */
		atomic_store_explicit(sq_span_seq(v, h, esz, sep), h + k, memory_order_release);
	} else if (sep & SQ_SEP) {
		/* Elements first (up to two runs), then the seq words in
		 * position order. */
		uint64_t first = v.slots - (h & v.mask);
		if (first > k)
			first = k;
		memcpy(sq_span_elem(v, h, esz, sep), s, first * esz);
		if (k > first)
			memcpy(v.base + v.slots * 8, s + first * esz, (k - first) * esz);
		for (uint64_t j = 0; j < k; j++)
			/* Release pairs with the acquire of the seq in sq_full_at(). */
			atomic_store_explicit(sq_span_seq(v, h + j, esz, sep), h + j + 1,
					      memory_order_release);
	} else {
		/* Slot by slot, each run with a stepping pointer. */
		uint64_t p = h, end = h + k;
		while (p != end) {
			uint64_t run = v.slots - (p & v.mask), stop;
			char *at = (char *)sq_span_seq(v, p, esz, sep);
			if (run > end - p)
				run = end - p;
			for (stop = p + run; p != stop; p++, at += 8 + esz, s += esz) {
				memcpy(at + 8, s, esz);
				/* Release pairs with the acquire of the seq in
				 * sq_full_at(). */
				atomic_store_explicit((_Atomic(uint64_t) *)(void *)at, p + 1,
						      memory_order_release);
			}
		}
	}
	q->prod.head = h + k;
	return k;
}

/* Is position p full (for the consumer)?  Acquire pairs with the release of
 * the seq in sq_push()/sq_pushn(); since the producer's stores are in
 * position order, a full p makes every earlier position visible too. */
AK_INLINE bool sq_full_at(struct sq_span v, uint64_t p, size_t esz, int sep)
{
	return atomic_load_explicit(sq_span_seq(v, p, esz, sep), memory_order_acquire) == p + 1;
}

/* How many of the n positions from h are full: last, then first, then
 * bisect (full positions form a prefix). */
AK_INLINE uint64_t sq_avail(struct sq_span v, uint64_t h, uint64_t n, size_t esz, int sep)
{
	uint64_t lo, hi;
	if (sq_full_at(v, h + n - 1, esz, sep))
		return n;
	if (n == 1 || !sq_full_at(v, h, esz, sep))
		return 0;
	lo = 1;     /* known full count */
	hi = n - 1; /* at most */
	while (lo < hi) {
		uint64_t mid = (lo + hi + 1) / 2;
		if (sq_full_at(v, h + mid - 1, esz, sep))
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* SQ_BATCH: elements published from h, extending the cache through the
 * words of the batches that follow it, until n are known. */
AK_INLINE uint64_t sq_avail_batch(struct slotq *q, struct sq_span v, uint64_t h, uint64_t n,
				  size_t esz, int sep)
{
	uint64_t c = q->cons.cache;
	while (c - h < n) {
		/* Acquire pairs with the release of the word in sq_push() /
		 * sq_pushn(). */
		uint64_t e = atomic_load_explicit(sq_span_seq(v, c, esz, sep), memory_order_acquire);
		if ((int64_t)(e - c) <= 0)
			break;
		c = e;
	}
	q->cons.cache = c;
	return c - h < n ? c - h : n;
}

AK_INLINE uint64_t sq_popn(struct slotq *q, void *dst, uint64_t n, size_t esz, int sep)
{
	struct sq_span v = sq_span(q);
	uint64_t h = q->cons.head;
	uint64_t k = (sep & SQ_BATCH) ? sq_avail_batch(q, v, h, n, esz, sep)
				      : sq_avail(v, h, n, esz, sep);
	char *d = (char *)dst;
	if (k == 0)
		return 0;
	if (sep & SQ_SEP) {
		uint64_t first = v.slots - (h & v.mask);
		if (first > k)
			first = k;
		memcpy(d, sq_span_elem(v, h, esz, sep), first * esz);
		if (k > first)
			memcpy(d + first * esz, v.base + v.slots * 8, (k - first) * esz);
	} else {
		uint64_t p = h, end = h + k;
		while (p != end) {
			uint64_t run = v.slots - (p & v.mask), stop;
			const char *at = sq_span_elem(v, p, esz, sep);
			if (run > end - p)
				run = end - p;
			for (stop = p + run; p != stop; p++, at += 8 + esz, d += esz)
				memcpy(d, at, esz);
		}
	}
	q->cons.head = h + k;
	/* Release pairs with the acquire of ctail in sq_room(). */
	atomic_store_explicit(&q->ctail, h + k, memory_order_release);
	return k;
}

/* ---- placement: as the peers (SPSC_ARENA), one arena per layout ---- */

static unsigned char g_arena[4][SPSC_PLACES][SPSC_PLACE_BYTES] __attribute__((aligned(4096)));
static unsigned g_turn[4];
static struct slotq *g_q8, *g_q8b, *g_q64;
static int g_abort;
AK_STATIC_ASSERT(sizeof(struct slotq) <= 1024, "control blocks fit their slots");
AK_STATIC_ASSERT(4096 + SPSC_CAP * (2 * (8 + sizeof(item8)) + 8 + sizeof(item64)) <=
			 SPSC_PLACE_BYTES,
		 "the rings fit one region");

static void sq_setup(cbench_state *st, int sep)
{
	unsigned char *p;
	size_t b8 = SPSC_CAP * (8 + sizeof(item8));
	if (cbench_thread_index(st) != 0)
		return;
	g_abort = 0;
	p = spsc_next_place(g_arena[sep], &g_turn[sep]);
	g_q8 = (struct slotq *)(void *)p;
	g_q8b = (struct slotq *)(void *)(p + 1024);
	g_q64 = (struct slotq *)(void *)(p + 2048);
	sq_init(g_q8, p + 4096, SPSC_CAP, SPSC_CAP, sizeof(item8), sep);
	sq_init(g_q8b, p + 4096 + b8, SPSC_CAP, SPSC_CAP, sizeof(item8), sep);
	sq_init(g_q64, p + 4096 + 2 * b8, SPSC_CAP, SPSC_CAP, sizeof(item64), sep);
}

/* One set of benchmark functions per layout (SEP constant 0 or 1). */
#define SQ_ROWS(tag, SEP)                                                                     \
	static void bm_##tag##_single(cbench_state *st, void *ctx)                             \
	{                                                                                      \
		(void)ctx;                                                                     \
		sq_setup(st, SEP);                                                             \
		SPSC_SINGLE(st, &g_abort, item8, sq_push(g_q8, &it, sizeof it, SEP),            \
			    sq_pop(g_q8, &it, sizeof it, SEP));                                \
	}                                                                                      \
	static void bm_##tag##_single_64b(cbench_state *st, void *ctx)                         \
	{                                                                                      \
		(void)ctx;                                                                     \
		sq_setup(st, SEP);                                                             \
		SPSC_SINGLE(st, &g_abort, item64, sq_push(g_q64, &it, sizeof it, SEP),          \
			    sq_pop(g_q64, &it, sizeof it, SEP));                               \
	}                                                                                      \
	static void bm_##tag##_burst32(cbench_state *st, void *ctx)                            \
	{                                                                                      \
		(void)ctx;                                                                     \
		sq_setup(st, SEP);                                                             \
		SPSC_BURSTY(st, &g_abort, item8, sq_pushn(g_q8, buf, cnt, sizeof(item8), SEP),  \
			    sq_popn(g_q8, buf, cnt, sizeof(item8), SEP));                      \
	}                                                                                      \
	static void bm_##tag##_burst32_64b(cbench_state *st, void *ctx)                        \
	{                                                                                      \
		(void)ctx;                                                                     \
		sq_setup(st, SEP);                                                             \
		SPSC_BURSTY(st, &g_abort, item64,                                              \
			    sq_pushn(g_q64, buf, cnt, sizeof(item64), SEP),                    \
			    sq_popn(g_q64, buf, cnt, sizeof(item64), SEP));                    \
	}                                                                                      \
	static void bm_##tag##_rtt(cbench_state *st, void *ctx)                                \
	{                                                                                      \
		(void)ctx;                                                                     \
		sq_setup(st, SEP);                                                             \
		SPSC_RTT(st, &g_abort, item8, sq_push(g_q8, &it, sizeof it, SEP),               \
			 sq_pop(g_q8, &it, sizeof it, SEP), sq_push(g_q8b, &it, sizeof it, SEP), \
			 sq_pop(g_q8b, &it, sizeof it, SEP));                                  \
	}                                                                                      \
	static void bm_##tag##_unc(cbench_state *st, void *ctx)                                \
	{                                                                                      \
		(void)ctx;                                                                     \
		sq_setup(st, SEP);                                                             \
		struct slotq *const q = g_q8;                                                  \
		SPSC_UNCONTENDED(st, item8, sq_push(q, &it, sizeof it, SEP),                   \
				 sq_pop(q, &it, sizeof it, SEP));                              \
	}                                                                                      \
	static void bm_##tag##_unc_64b(cbench_state *st, void *ctx)                            \
	{                                                                                      \
		(void)ctx;                                                                     \
		sq_setup(st, SEP);                                                             \
		struct slotq *const q = g_q64;                                                 \
		SPSC_UNCONTENDED(st, item64, sq_push(q, &it, sizeof it, SEP),                  \
				 sq_pop(q, &it, sizeof it, SEP));                              \
	}                                                                                      \
	static void bm_##tag##_unc_burst32(cbench_state *st, void *ctx)                        \
	{                                                                                      \
		(void)ctx;                                                                     \
		sq_setup(st, SEP);                                                             \
		struct slotq *const q = g_q8;                                                  \
		SPSC_UNCONTENDED_BURST(st, item8, sq_pushn(q, buf, cnt, sizeof(item8), SEP),   \
				       sq_popn(q, buf, cnt, sizeof(item8), SEP));              \
	}                                                                                      \
	static void bm_##tag##_unc_burst32_64b(cbench_state *st, void *ctx)                    \
	{                                                                                      \
		(void)ctx;                                                                     \
		sq_setup(st, SEP);                                                             \
		struct slotq *const q = g_q64;                                                 \
		SPSC_UNCONTENDED_BURST(st, item64, sq_pushn(q, buf, cnt, sizeof(item64), SEP), \
				       sq_popn(q, buf, cnt, sizeof(item64), SEP));             \
	}                                                                                      \
	static void register_##tag(const char *spsc, const char *rtt)                          \
	{                                                                                      \
		static const int two[] = { 2 };                                                \
		char name[96];                                                                 \
		static const struct {                                                          \
			const char *w;                                                         \
			cbench_fn fn;                                                          \
			int threads;                                                           \
		} rows[] = {                                                                   \
			{ "single", bm_##tag##_single, 2 },                                    \
			{ "single_64b", bm_##tag##_single_64b, 2 },                            \
			{ "burst32", bm_##tag##_burst32, 2 },                                  \
			{ "burst32_64b", bm_##tag##_burst32_64b, 2 },                          \
			{ "uncontended", bm_##tag##_unc, 0 },                                  \
			{ "uncontended_64b", bm_##tag##_unc_64b, 0 },                          \
			{ "uncontended_burst32", bm_##tag##_unc_burst32, 0 },                  \
			{ "uncontended_burst32_64b", bm_##tag##_unc_burst32_64b, 0 },          \
		};                                                                             \
		for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {                    \
			snprintf(name, sizeof name, "ring_spsc/%s/%s", spsc, rows[i].w);        \
			if (rows[i].threads)                                                   \
				cbench_register_threads(name, rows[i].fn, NULL, two, 1);       \
			else                                                                   \
				cbench_register(name, rows[i].fn, NULL, 0, 0);                  \
		}                                                                              \
		snprintf(name, sizeof name, "ring_rtt/%s/rtt", rtt);                           \
		cbench_register_threads(name, bm_##tag##_rtt, NULL, two, 1);                   \
	}

SQ_ROWS(slotseq, 0)
SQ_ROWS(slotseqsep, SQ_SEP)
SQ_ROWS(slotsep, SQ_BATCH | SQ_SEP)
#undef SQ_ROWS

/* ---- the library's ak_ring_slot (include/atomkit/ring_slot.h) ---- */

AK_RING_SLOT_DEFINE(aks8, item8);
AK_RING_SLOT_DEFINE(aks64, item64);

SPSC_ARENA(g_aks_arena);
static unsigned g_aks_turn;
static aks8 *s8, *s8b;
static aks64 *s64;
AK_STATIC_ASSERT(sizeof(aks8) <= 1024 && sizeof(aks64) <= 1024, "control blocks fit");

static void aks_setup(cbench_state *st)
{
	unsigned char *p;
	size_t b8 = aks8_memsize(SPSC_CAP), b64 = aks64_memsize(SPSC_CAP);
	if (cbench_thread_index(st) != 0)
		return;
	g_abort = 0;
	p = spsc_next_place(g_aks_arena, &g_aks_turn);
	s8 = (aks8 *)(void *)p;
	s8b = (aks8 *)(void *)(p + 1024);
	s64 = (aks64 *)(void *)(p + 2048);
	if (4096 + 2 * b8 + b64 > SPSC_PLACE_BYTES ||
	    aks8_init(s8, p + 4096, b8, SPSC_CAP) != AK_OK ||
	    aks8_init(s8b, p + 4096 + b8, b8, SPSC_CAP) != AK_OK ||
	    aks64_init(s64, p + 4096 + 2 * b8, b64, SPSC_CAP) != AK_OK)
		spsc_abort(st, &g_abort, "ak_ring_slot init failed");
}

static inline uint64_t aks8_pushn(aks8 *q, item8 *b, uint64_t n)
{
	uint64_t k;
	(void)aks8_push_burst_spsc(q, b, n, &k);
	return k;
}
static inline uint64_t aks8_popn(aks8 *q, item8 *b, uint64_t n)
{
	uint64_t k;
	(void)aks8_pop_burst_spsc(q, b, n, &k);
	return k;
}
static inline uint64_t aks64_pushn(aks64 *q, item64 *b, uint64_t n)
{
	uint64_t k;
	(void)aks64_push_burst_spsc(q, b, n, &k);
	return k;
}
static inline uint64_t aks64_popn(aks64 *q, item64 *b, uint64_t n)
{
	uint64_t k;
	(void)aks64_pop_burst_spsc(q, b, n, &k);
	return k;
}

static void bm_aks_single(cbench_state *st, void *ctx)
{
	(void)ctx;
	aks_setup(st);
	SPSC_SINGLE(st, &g_abort, item8, aks8_push_spsc(s8, it) == AK_OK,
		    aks8_pop_spsc(s8, &it) == AK_OK);
}

static void bm_aks_single_64b(cbench_state *st, void *ctx)
{
	(void)ctx;
	aks_setup(st);
	SPSC_SINGLE(st, &g_abort, item64, aks64_push_spsc(s64, it) == AK_OK,
		    aks64_pop_spsc(s64, &it) == AK_OK);
}

static void bm_aks_burst32(cbench_state *st, void *ctx)
{
	(void)ctx;
	aks_setup(st);
	SPSC_BURSTY(st, &g_abort, item8, aks8_pushn(s8, buf, cnt), aks8_popn(s8, buf, cnt));
}

static void bm_aks_burst32_64b(cbench_state *st, void *ctx)
{
	(void)ctx;
	aks_setup(st);
	SPSC_BURSTY(st, &g_abort, item64, aks64_pushn(s64, buf, cnt), aks64_popn(s64, buf, cnt));
}

/* ring_spsc/atomkit_slot/blocking: ak_ring's blocking row (SPSC_BLOCKING)
 * on ak_ring_slot: pop_wait against a producer that keeps the ring from
 * running dry; futex_calls should stay 0. */
static ak_status aks8_split(ak_ring_syscall_split *sp)
{
	return ak_ring_slot_syscalls_split(&s8->ring, sp);
}

static void bm_aks_blocking(cbench_state *st, void *ctx)
{
	(void)ctx;
	aks_setup(st);
	SPSC_BLOCKING(st, &g_abort, item8, aks8_push_spsc(s8, it), aks8_pushn(s8, buf, cnt),
		      aks8_pop_wait_spsc(s8, &it, AK_DEADLINE_NONE, NULL), aks8_split);
}

static void bm_aks_rtt(cbench_state *st, void *ctx)
{
	(void)ctx;
	aks_setup(st);
	SPSC_RTT(st, &g_abort, item8, aks8_push_spsc(s8, it) == AK_OK,
		 aks8_pop_spsc(s8, &it) == AK_OK, aks8_push_spsc(s8b, it) == AK_OK,
		 aks8_pop_spsc(s8b, &it) == AK_OK);
}

static void bm_aks_unc(cbench_state *st, void *ctx)
{
	(void)ctx;
	aks_setup(st);
	aks8 *const q = s8; /* a local: no reload of the global after each store */
	SPSC_UNCONTENDED(st, item8, aks8_push_spsc(q, it) == AK_OK, aks8_pop_spsc(q, &it) == AK_OK);
}

static void bm_aks_unc_64b(cbench_state *st, void *ctx)
{
	(void)ctx;
	aks_setup(st);
	aks64 *const q = s64;
	SPSC_UNCONTENDED(st, item64, aks64_push_spsc(q, it) == AK_OK,
			 aks64_pop_spsc(q, &it) == AK_OK);
}

static void bm_aks_unc_burst32(cbench_state *st, void *ctx)
{
	(void)ctx;
	aks_setup(st);
	aks8 *const q = s8;
	SPSC_UNCONTENDED_BURST(st, item8, aks8_pushn(q, buf, cnt), aks8_popn(q, buf, cnt));
}

static void bm_aks_unc_burst32_64b(cbench_state *st, void *ctx)
{
	(void)ctx;
	aks_setup(st);
	aks64 *const q = s64;
	SPSC_UNCONTENDED_BURST(st, item64, aks64_pushn(q, buf, cnt), aks64_popn(q, buf, cnt));
}

CBENCH_INIT(ring_slot)
{
	static const int two[] = { 2 };
	cbench_register_threads("ring_spsc/atomkit_slot/single", bm_aks_single, NULL, two, 1);
	cbench_register_threads("ring_spsc/atomkit_slot/single_64b", bm_aks_single_64b, NULL,
				two, 1);
	cbench_register_threads("ring_spsc/atomkit_slot/burst32", bm_aks_burst32, NULL, two, 1);
	cbench_register_threads("ring_spsc/atomkit_slot/burst32_64b", bm_aks_burst32_64b, NULL,
				two, 1);
	cbench_register_threads("ring_rtt/atomkit_slot/rtt", bm_aks_rtt, NULL, two, 1);
	cbench_register_threads("ring_spsc/atomkit_slot/blocking", bm_aks_blocking, NULL, two,
				1);
	cbench_register("ring_spsc/atomkit_slot/uncontended", bm_aks_unc, NULL, 0, 0);
	cbench_register("ring_spsc/atomkit_slot/uncontended_64b", bm_aks_unc_64b, NULL, 0, 0);
	cbench_register("ring_spsc/atomkit_slot/uncontended_burst32", bm_aks_unc_burst32, NULL,
			0, 0);
	cbench_register("ring_spsc/atomkit_slot/uncontended_burst32_64b",
			bm_aks_unc_burst32_64b, NULL, 0, 0);
	/* The prototypes measured before ak_ring_slot was written (see
	 * docs/ring_slot.md): only with BENCH_SLOT_PROTOTYPES=1, so that a
	 * plain make bench compares the library's rings with the peers. */
	const char *proto = getenv("BENCH_SLOT_PROTOTYPES");
	if (!proto || strcmp(proto, "1") != 0)
		return;
	register_slotseq("atomkit_slotseq", "atomkit_slotseq");
	register_slotseqsep("atomkit_slotseqsep", "atomkit_slotseqsep");
	register_slotsep("atomkit_slotsep", "atomkit_slotsep");
}
