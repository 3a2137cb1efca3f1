/* Unit tests: ak_ring_slot single-threaded semantics, edge cases, wrap-around
 * near 2^64, misuse -> status codes, a randomized run against a FIFO model;
 * close, zero-copy views, and scripted sleepers that count system calls. */
#include <atomkit/cancel.h>
#include <atomkit/ring_slot.h>
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "futex_probe.h"

AK_RING_SLOT_DEFINE(u64q, uint64_t);

typedef struct trio {
	uint64_t a, b, c;
} trio;
AK_RING_SLOT_DEFINE(trioq, trio);

/* Storage for the tests: aligned for a control block, large enough for
 * every case. */
static alignas(128) unsigned char g_mem[1u << 22];

/* Element i of size esz: bytes derived from i, so any mix-up shows. */
static void fill_elem(unsigned char *e, size_t esz, uint64_t i)
{
	for (size_t b = 0; b < esz; b++)
		e[b] = (unsigned char)(i * 131u + b * 7u + 1u);
}

static int elem_is(const unsigned char *e, size_t esz, uint64_t i)
{
	for (size_t b = 0; b < esz; b++)
		if (e[b] != (unsigned char)(i * 131u + b * 7u + 1u))
			return 0;
	return 1;
}

static void test_memsize(void)
{
	CHECK_EQ_U64(ak_ring_slot_memsize(0, 8), 0);
	CHECK_EQ_U64(ak_ring_slot_memsize(8, 0), 0);
	CHECK_EQ_U64(ak_ring_slot_memsize(AK_RING_SLOT_MAX_CAPACITY + 1, 8), 0);
	CHECK_EQ_U64(ak_ring_slot_memsize(AK_RING_SLOT_MAX_CAPACITY, 8), 0); /* > SIZE_MAX */
	CHECK_EQ_U64(ak_ring_slot_memsize(1000, 8), 1024 * 16);
	CHECK_EQ_U64(ak_ring_slot_memsize(1024, 8), 1024 * 16);
	CHECK_EQ_U64(ak_ring_slot_memsize(1, 1), 16);
	CHECK_EQ_U64(ak_ring_slot_memsize(3, 12), 4 * 24);
	CHECK_EQ_U64(ak_ring_slot_memsize(5, 64), 8 * 72);
	CHECK_EQ_U64(ak_ring_slot_memsize(5, SIZE_MAX), 0);
	CHECK_EQ_U64(u64q_memsize(100), 128 * 16);
	CHECK_EQ_U64(trioq_memsize(2), 2 * 32);
}

static void test_init_errors(void)
{
	ak_ring_slot r;
	size_t need = ak_ring_slot_memsize(16, 8);

	CHECK_ST(ak_ring_slot_init(NULL, g_mem, need, 16, 8, 0), AK_EINVAL);
	CHECK_ST(ak_ring_slot_init(&r, NULL, need, 16, 8, 0), AK_EINVAL);
	CHECK_ST(ak_ring_slot_init(&r, g_mem + 4, need, 16, 8, 0), AK_EINVAL);
	CHECK_ST(ak_ring_slot_init(&r, g_mem, need - 1, 16, 8, 0), AK_EINVAL);
	CHECK_ST(ak_ring_slot_init(&r, g_mem, need, 0, 8, 0), AK_EINVAL);
	CHECK_ST(ak_ring_slot_init(&r, g_mem, need, 16, 0, 0), AK_EINVAL);
	CHECK_ST(ak_ring_slot_init(&r, g_mem, need, 16, 8, 2), AK_EINVAL);
	CHECK_ST(ak_ring_slot_init(&r, g_mem, need, 16, 8, AK_RING_SLOT_SHARED | 4), AK_EINVAL);
	CHECK_ST(ak_ring_slot_init(&r, g_mem, need, 16, 8, AK_RING_SLOT_SHARED), AK_OK);
	CHECK_ST(ak_ring_slot_init(&r, g_mem, sizeof g_mem, AK_RING_SLOT_MAX_CAPACITY + 1, 8, 0),
		 AK_E2BIG);
	CHECK_ST(ak_ring_slot_init(&r, g_mem, sizeof g_mem, AK_RING_SLOT_MAX_CAPACITY, 8, 0),
		 AK_E2BIG);
	CHECK_ST(ak_ring_slot_init(&r, g_mem, need, 16, 8, 0), AK_OK);
	CHECK_EQ_U64(ak_ring_slot_capacity(&r), 16);
	CHECK_ST(u64q_init(NULL, g_mem, need, 16), AK_EINVAL);
}

/* A control block below its alignment: every atomic access in it would be
 * misaligned.  Only the status is looked at (init must not touch *r). */
static void test_init_misaligned_ring(void)
{
	static alignas(128) unsigned char blk[1024];
	size_t need = ak_ring_slot_memsize(16, 8);
	unsigned char *storage = g_mem + 8192;
	static const size_t offs[] = { 4, 8, 16, 64 };

	CHECK_EQ_U64(_Alignof(ak_ring_slot), AK_DESTRUCTIVE_SIZE);
	memset(blk, 0xEE, sizeof blk);
	for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
		ak_ring_slot *r = (ak_ring_slot *)(void *)(blk + offs[i]);
		CHECK_ST(ak_ring_slot_init(r, storage, need, 16, 8, 0), AK_EINVAL);
		CHECK_ST(_ak_ring_slot_init_at(r, storage, need, 16, 8, 0, UINT64_MAX), AK_EINVAL);
		CHECK_ST(u64q_init((u64q *)(void *)(blk + offs[i]), storage, need, 16), AK_EINVAL);
	}
	/* nothing was written where the control blocks would have been */
	size_t touched = 0;
	for (size_t i = 0; i < sizeof blk; i++)
		touched += blk[i] != 0xEE;
	CHECK_EQ_U64(touched, 0);
	CHECK_ST(ak_ring_slot_init((ak_ring_slot *)(void *)(blk + 128), storage, need, 16, 8, 0),
		 AK_OK);
}

/* Storage overlapping the control block: init's word stores (and every
 * push) would overwrite cfg and the indices. */
static void test_init_storage_overlaps_ring(void)
{
	const size_t rsz = sizeof(ak_ring_slot);
	size_t need = ak_ring_slot_memsize(16, 8);
	unsigned char *base = g_mem + 8192;
	ak_ring_slot *r = (ak_ring_slot *)(void *)base;

	CHECK(need >= 16 && rsz >= 128);
	/* storage is the control block */
	CHECK_ST(ak_ring_slot_init(r, base, need, 16, 8, 0), AK_EINVAL);
	/* storage starts inside it (first and last byte) */
	CHECK_ST(ak_ring_slot_init(r, base + 64, need, 16, 8, 0), AK_EINVAL);
	CHECK_ST(ak_ring_slot_init(r, base + rsz - 8, need, 16, 8, 0), AK_EINVAL);
	/* storage ends inside it (its first 8 bytes) */
	CHECK_ST(ak_ring_slot_init(r, base - need + 8, need, 16, 8, 0), AK_EINVAL);
	/* storage encloses it */
	CHECK_ST(ak_ring_slot_init(r, base - 128, rsz + 256, 16, 8, 0), AK_EINVAL);
	/* the typed front end and the start-position hook check it too */
	CHECK_ST(u64q_init((u64q *)(void *)base, base + 64, need, 16), AK_EINVAL);
	CHECK_ST(_ak_ring_slot_init_at(r, base + 64, need, 16, 8, 0, UINT64_MAX - 3), AK_EINVAL);
	/* storage_size larger than need does not count: only the bytes the
	 * ring uses matter, so a buffer reaching past r is accepted when its
	 * first `need` bytes end at r */
	CHECK_ST(ak_ring_slot_init(r, base - need, need + rsz, 16, 8, 0), AK_OK);
	/* adjacent on either side is fine */
	CHECK_ST(ak_ring_slot_init(r, base - need, need, 16, 8, 0), AK_OK);
	CHECK_ST(ak_ring_slot_init(r, base + rsz, need, 16, 8, 0), AK_OK);
	/* and usable: the neighbours stay intact */
	uint64_t v = 7, out = 0;
	CHECK_ST(ak_ring_slot_push_spsc(r, &v), AK_OK);
	CHECK_ST(ak_ring_slot_pop_spsc(r, &out), AK_OK);
	CHECK_EQ_U64(out, 7);
	CHECK_EQ_U64(ak_ring_slot_capacity(r), 16);
}

static void test_null_args(void)
{
	ak_ring_slot r;
	uint64_t v = 1, k = 99;

	CHECK_ST(ak_ring_slot_init(&r, g_mem, sizeof g_mem, 4, 8, 0), AK_OK);
	CHECK_ST(ak_ring_slot_push_spsc(NULL, &v), AK_EINVAL);
	CHECK_ST(ak_ring_slot_push_spsc(&r, NULL), AK_EINVAL);
	CHECK_ST(ak_ring_slot_pop_spsc(NULL, &v), AK_EINVAL);
	CHECK_ST(ak_ring_slot_pop_spsc(&r, NULL), AK_EINVAL);
	CHECK_ST(ak_ring_slot_push_bulk_spsc(NULL, &v, 1), AK_EINVAL);
	CHECK_ST(ak_ring_slot_push_bulk_spsc(&r, NULL, 1), AK_EINVAL);
	CHECK_ST(ak_ring_slot_pop_bulk_spsc(NULL, &v, 1), AK_EINVAL);
	CHECK_ST(ak_ring_slot_pop_bulk_spsc(&r, NULL, 1), AK_EINVAL);
	CHECK_ST(ak_ring_slot_push_burst_spsc(NULL, &v, 1, &k), AK_EINVAL);
	CHECK_EQ_U64(k, 0);
	k = 99;
	CHECK_ST(ak_ring_slot_push_burst_spsc(&r, NULL, 1, &k), AK_EINVAL);
	CHECK_EQ_U64(k, 0);
	k = 99;
	CHECK_ST(ak_ring_slot_pop_burst_spsc(NULL, &v, 1, &k), AK_EINVAL);
	CHECK_EQ_U64(k, 0);
	k = 99;
	CHECK_ST(ak_ring_slot_pop_burst_spsc(&r, NULL, 1, &k), AK_EINVAL);
	CHECK_EQ_U64(k, 0);
	CHECK_EQ_U64(ak_ring_slot_size(NULL), 0);
	CHECK_EQ_U64(ak_ring_slot_capacity(NULL), 0);
	CHECK(ak_ring_slot_empty(NULL));
	CHECK(!ak_ring_slot_full(NULL));
	CHECK_ST(u64q_push_spsc(NULL, 1), AK_EINVAL);
	CHECK_ST(u64q_pop_spsc(NULL, &v), AK_EINVAL);
	CHECK_EQ_U64(u64q_size(NULL), 0);
	/* Nothing above touched the ring. */
	CHECK_EQ_U64(ak_ring_slot_size(&r), 0);
	CHECK_ST(ak_ring_slot_pop_spsc(&r, &v), AK_EEMPTY);
}

/* Fill to capacity one by one, check full/size, drain in order; several
 * laps, from `start`. */
static void fill_drain(uint64_t cap, size_t esz, uint64_t start)
{
	ak_ring_slot r;
	unsigned char e[256];
	uint64_t next_in = 0, next_out = 0;

	CHECK_ST(_ak_ring_slot_init_at(&r, g_mem, sizeof g_mem, cap, esz, 0, start), AK_OK);
	for (int lap = 0; lap < 3; lap++) {
		for (uint64_t i = 0; i < cap; i++) {
			fill_elem(e, esz, next_in);
			CHECK_ST(ak_ring_slot_push_spsc(&r, e), AK_OK);
			next_in++;
		}
		CHECK_EQ_U64(ak_ring_slot_size(&r), cap);
		CHECK(ak_ring_slot_full(&r));
		fill_elem(e, esz, next_in);
		CHECK_ST(ak_ring_slot_push_spsc(&r, e), AK_EFULL);
		CHECK_EQ_U64(ak_ring_slot_size(&r), cap);
		for (uint64_t i = 0; i < cap; i++) {
			memset(e, 0, esz);
			CHECK_ST(ak_ring_slot_pop_spsc(&r, e), AK_OK);
			CHECK(elem_is(e, esz, next_out));
			next_out++;
			CHECK_EQ_U64(ak_ring_slot_size(&r), cap - i - 1);
		}
		CHECK(ak_ring_slot_empty(&r));
		CHECK_ST(ak_ring_slot_pop_spsc(&r, e), AK_EEMPTY);
		/* Half a lap, so the next lap starts mid-storage. */
		for (uint64_t i = 0; i < (cap + 1) / 2; i++) {
			fill_elem(e, esz, next_in++);
			CHECK_ST(ak_ring_slot_push_spsc(&r, e), AK_OK);
		}
		for (uint64_t i = 0; i < (cap + 1) / 2; i++) {
			CHECK_ST(ak_ring_slot_pop_spsc(&r, e), AK_OK);
			CHECK(elem_is(e, esz, next_out++));
		}
	}
	CHECK_EQ_U64(next_in, next_out);
}

static void test_fill_drain(void)
{
	static const uint64_t caps[] = { 1, 2, 3, 5, 8, 64, 1000 };
	static const size_t sizes[] = { 1, 3, 8, 12, 64, 256 };
	for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++)
		for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
			fill_drain(caps[c], sizes[s], 0);
			/* positions crossing 2^64 (and 2^32) during the run */
			fill_drain(caps[c], sizes[s], UINT64_MAX - caps[c] - 1);
			fill_drain(caps[c], sizes[s], UINT64_MAX);
			fill_drain(caps[c], sizes[s], (UINT64_C(1) << 32) - 2);
			/* positions crossing 2^63, where the signed word test
			 * changes sign */
			fill_drain(caps[c], sizes[s], (UINT64_C(1) << 63) - caps[c] - 1);
		}
	/* A large capacity. */
	fill_drain((UINT64_C(1) << 16) + 3, 8, UINT64_MAX - 1000);
}

/* Bulk and burst: all-or-none, counts, errors leave the ring unchanged. */
static void test_bulk_burst(void)
{
	ak_ring_slot r;
	uint64_t in[16], out[16], k;

	for (uint64_t i = 0; i < 16; i++)
		in[i] = 100 + i;
	CHECK_ST(_ak_ring_slot_init_at(&r, g_mem, sizeof g_mem, 6, 8, 0, UINT64_MAX - 2), AK_OK);
	CHECK_ST(ak_ring_slot_push_bulk_spsc(&r, in, 7), AK_E2BIG);
	CHECK_ST(ak_ring_slot_pop_bulk_spsc(&r, out, 7), AK_E2BIG);
	CHECK_ST(ak_ring_slot_push_bulk_spsc(&r, in, 0), AK_OK);
	CHECK_ST(ak_ring_slot_pop_bulk_spsc(&r, out, 0), AK_OK);
	CHECK_ST(ak_ring_slot_pop_bulk_spsc(&r, out, 1), AK_EEMPTY);
	CHECK_EQ_U64(ak_ring_slot_size(&r), 0);
	CHECK_ST(ak_ring_slot_push_bulk_spsc(&r, in, 4), AK_OK); /* 100..103 */
	CHECK_ST(ak_ring_slot_push_bulk_spsc(&r, in + 4, 3), AK_EFULL);
	CHECK_EQ_U64(ak_ring_slot_size(&r), 4);
	CHECK_ST(ak_ring_slot_pop_bulk_spsc(&r, out, 5), AK_EEMPTY);
	CHECK_EQ_U64(ak_ring_slot_size(&r), 4);
	k = 99;
	CHECK_ST(ak_ring_slot_push_burst_spsc(&r, in + 4, 5, &k), AK_OK); /* 104, 105 fit */
	CHECK_EQ_U64(k, 2);
	CHECK(ak_ring_slot_full(&r));
	k = 99;
	CHECK_ST(ak_ring_slot_push_burst_spsc(&r, in + 6, 5, &k), AK_EFULL);
	CHECK_EQ_U64(k, 0);
	k = 99;
	CHECK_ST(ak_ring_slot_push_burst_spsc(&r, in, 0, &k), AK_OK);
	CHECK_EQ_U64(k, 0);
	/* Pop across the two batches (4 + 2) in pieces that do not match
	 * them: 1, then a bulk of 4, then a burst asking for more. */
	CHECK_ST(ak_ring_slot_pop_spsc(&r, out), AK_OK);
	CHECK_EQ_U64(out[0], 100);
	CHECK_ST(ak_ring_slot_pop_bulk_spsc(&r, out, 4), AK_OK);
	for (uint64_t i = 0; i < 4; i++)
		CHECK_EQ_U64(out[i], 101 + i);
	k = 99;
	CHECK_ST(ak_ring_slot_pop_burst_spsc(&r, out, 8, &k), AK_OK);
	CHECK_EQ_U64(k, 1);
	CHECK_EQ_U64(out[0], 105);
	k = 99;
	CHECK_ST(ak_ring_slot_pop_burst_spsc(&r, out, 8, &k), AK_EEMPTY);
	CHECK_EQ_U64(k, 0);
	/* Many one-element batches, then one burst pop that chains through
	 * all their words, wrapping the storage. */
	for (uint64_t i = 0; i < 6; i++)
		CHECK_ST(ak_ring_slot_push_spsc(&r, &in[i]), AK_OK);
	CHECK_ST(ak_ring_slot_pop_bulk_spsc(&r, out, 6), AK_OK);
	for (uint64_t i = 0; i < 6; i++)
		CHECK_EQ_U64(out[i], 100 + i);
	CHECK_ST(ak_ring_slot_push_burst_spsc(&r, in, 3, NULL), AK_OK);
	CHECK_ST(ak_ring_slot_push_burst_spsc(&r, in + 3, 3, NULL), AK_OK);
	CHECK_ST(ak_ring_slot_pop_burst_spsc(&r, out, 16, NULL), AK_OK);
	CHECK_EQ_U64(out[5], 105);
	CHECK(ak_ring_slot_empty(&r));
}

/* Typed front end, and a ring moved to another address (offsets, not
 * pointers: what a second process mapping the same memory would see). */
static void test_typed_and_moved(void)
{
	static alignas(128) unsigned char a[8192], b[8192];
	u64q *q = (u64q *)(void *)a;
	trioq *t = (trioq *)(void *)(a + 4096);
	uint64_t v = 0, buf[4] = { 7, 8, 9, 10 }, k = 0;
	trio x = { 1, 2, 3 }, y = { 0, 0, 0 };

	CHECK(u64q_memsize(10) <= 2048);
	CHECK_ST(u64q_init(q, a + sizeof(u64q), 2048, 10), AK_OK);
	CHECK_ST(u64q_push_spsc(q, 5), AK_OK);
	CHECK_ST(u64q_push_bulk_spsc(q, buf, 4), AK_OK);
	CHECK_ST(u64q_push_burst_spsc(q, buf, 4, &k), AK_OK);
	CHECK_EQ_U64(k, 4);
	CHECK_EQ_U64(u64q_size(q), 9);
	CHECK_EQ_U64(u64q_capacity(q), 10);
	CHECK(!u64q_full(q) && !u64q_empty(q));
	CHECK_ST(trioq_init(t, a + 4096 + sizeof(trioq), trioq_memsize(3), 3), AK_OK);
	CHECK_ST(trioq_push_spsc(t, x), AK_OK);

	memcpy(b, a, sizeof a); /* the whole mapping, at another address */
	q = (u64q *)(void *)b;
	t = (trioq *)(void *)(b + 4096);
	memset(a, 0xAB, sizeof a);
	CHECK_ST(u64q_pop_spsc(q, &v), AK_OK);
	CHECK_EQ_U64(v, 5);
	CHECK_ST(u64q_pop_bulk_spsc(q, buf, 4), AK_OK);
	CHECK_EQ_U64(buf[0], 7);
	CHECK_EQ_U64(buf[3], 10);
	CHECK_ST(u64q_pop_burst_spsc(q, buf, 4, &k), AK_OK);
	CHECK_EQ_U64(k, 4);
	CHECK_EQ_U64(buf[3], 10);
	CHECK(u64q_empty(q));
	CHECK_ST(trioq_pop_spsc(t, &y), AK_OK);
	CHECK(y.a == 1 && y.b == 2 && y.c == 3);
	CHECK_ST(trioq_pop_spsc(t, &y), AK_EEMPTY);
}

/* Random pushes and pops of every kind, zero-copy views included, against
 * a FIFO model, with a close at a random step. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void test_random_model(void)
{
	static const uint64_t caps[] = { 1, 3, 7, 16, 33 };
	uint64_t buf[64];
	for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
		const uint64_t cap = caps[c];
		u64q q;
		ak_ring_slot_zc zc;
		uint64_t in = 0, out = 0, bad = 0;
		/* closed at a random step of the second half (the model then
		 * expects AK_ECLOSED from pushes, and from pops once drained) */
		const int close_step = 10000 + (int)(rng() % 10000);
		int closed = 0;
		CHECK_ST(_ak_ring_slot_init_at(&q.ring, g_mem, sizeof g_mem, cap, 8, 0,
					       UINT64_MAX - 50),
			 AK_OK);
		for (int step = 0; step < 20000; step++) {
			uint64_t n = rng() % (cap + 3), k = 0, used = in - out;
			ak_status st;
			if (step == close_step) {
				CHECK_ST(u64q_close(&q), AK_OK);
				closed = 1;
			}
			const ak_status full = closed ? AK_ECLOSED : AK_EFULL;
			const ak_status empty = closed ? AK_ECLOSED : AK_EEMPTY;
			switch (rng() % 8) {
			case 0:
				st = u64q_push_spsc(&q, in);
				bad += st != (used < cap && !closed ? AK_OK : full);
				in += st == AK_OK;
				break;
			case 1:
				st = u64q_pop_spsc(&q, buf);
				bad += st != (used ? AK_OK : empty);
				bad += st == AK_OK && buf[0] != out;
				out += st == AK_OK;
				break;
			case 2:
				for (uint64_t i = 0; i < n; i++)
					buf[i] = in + i;
				st = u64q_push_bulk_spsc(&q, buf, n);
				bad += st != (n > cap			? AK_E2BIG
					      : !n || (n <= cap - used && !closed) ? AK_OK
										 : full);
				in += st == AK_OK ? n : 0;
				break;
			case 3:
				st = u64q_pop_bulk_spsc(&q, buf, n);
				bad += st != (n > cap ? AK_E2BIG : n <= used ? AK_OK : empty);
				for (uint64_t i = 0; st == AK_OK && i < n; i++)
					bad += buf[i] != out + i;
				out += st == AK_OK ? n : 0;
				break;
			case 4:
				for (uint64_t i = 0; i < n; i++)
					buf[i] = in + i;
				st = u64q_push_burst_spsc(&q, buf, n, &k);
				bad += k != (closed ? 0 : n < cap - used ? n : cap - used);
				bad += st != (k || !n ? AK_OK : full);
				in += k;
				break;
			case 5:
				st = u64q_pop_burst_spsc(&q, buf, n, &k);
				bad += k != (n < used ? n : used);
				bad += st != (k || !n ? AK_OK : empty);
				for (uint64_t i = 0; i < k; i++)
					bad += buf[i] != out + i;
				out += k;
				break;
			case 6: /* zero-copy push: reserve, write in place, commit */
				st = u64q_reserve_spsc(&q, n, &zc);
				k = n < cap - used ? n : cap - used;
				bad += st != (!n ? AK_EINVAL : closed ? AK_ECLOSED : k ? AK_OK : AK_EFULL);
				if (st != AK_OK)
					break;
				bad += zc.n != k;
				for (uint64_t i = 0; i < zc.n; i++)
					*u64q_zc_elem(&zc, i) = in + i;
				bad += u64q_commit_spsc(&q, &zc) != AK_OK;
				in += zc.n;
				break;
			default: /* zero-copy pop: peek, read in place, release */
				st = u64q_peek_spsc(&q, n, &zc);
				k = n < used ? n : used;
				bad += st != (!n ? AK_EINVAL : k ? AK_OK : empty);
				if (st != AK_OK)
					break;
				bad += zc.n != k;
				for (uint64_t i = 0; i < zc.n; i++)
					bad += *u64q_zc_elem(&zc, i) != out + i;
				bad += u64q_release_spsc(&q, &zc) != AK_OK;
				out += zc.n;
				break;
			}
			bad += u64q_size(&q) != in - out;
		}
		CHECK_EQ_U64(bad, 0);
		CHECK(closed && in > 1000 && out + cap >= in);
	}
}


/* Close: every status of every call after it, drain first. */
static void test_close(void)
{
	static alignas(128) ak_ring_slot r;
	static alignas(128) ak_ring_slot old;
	uint64_t v = 0, buf[8] = { 0 }, k = 9;
	ak_ring_slot_zc zc;

	CHECK_ST(ak_ring_slot_close(NULL), AK_EINVAL);
	CHECK(!ak_ring_slot_is_closed(NULL));
	CHECK_ST(ak_ring_slot_init(&r, g_mem, sizeof g_mem, 8, 8, 0), AK_OK);
	CHECK(!ak_ring_slot_is_closed(&r));
	for (uint64_t i = 0; i < 5; i++)
		CHECK_ST(ak_ring_slot_push_spsc(&r, &i), AK_OK);
	CHECK_ST(ak_ring_slot_reserve_spsc(&r, 2, &zc), AK_OK); /* open at close */
	CHECK_ST(ak_ring_slot_close(&r), AK_OK);
	CHECK(ak_ring_slot_is_closed(&r));
	CHECK_ST(ak_ring_slot_close(&r), AK_ECLOSED);
	/* producer: everything fails, nothing is published */
	CHECK_ST(ak_ring_slot_commit_spsc(&r, &zc), AK_ECLOSED);
	CHECK_ST(ak_ring_slot_push_spsc(&r, &v), AK_ECLOSED);
	CHECK_ST(ak_ring_slot_push_bulk_spsc(&r, buf, 2), AK_ECLOSED);
	CHECK_ST(ak_ring_slot_push_burst_spsc(&r, buf, 2, &k), AK_ECLOSED);
	CHECK_EQ_U64(k, 0);
	CHECK_ST(ak_ring_slot_push_wait_spsc(&r, &v, AK_DEADLINE_NONE, NULL), AK_ECLOSED);
	CHECK_ST(ak_ring_slot_push_bulk_wait_spsc(&r, buf, 3, AK_DEADLINE_NONE, NULL),
		 AK_ECLOSED);
	CHECK_ST(ak_ring_slot_reserve_spsc(&r, 1, &zc), AK_ECLOSED);
	CHECK_EQ_U64(ak_ring_slot_size(&r), 5);
	/* consumer: drains the five, then AK_ECLOSED from every form; a bulk
	 * asking for more than is left gets AK_ECLOSED and takes nothing */
	CHECK_ST(ak_ring_slot_pop_bulk_spsc(&r, buf, 6), AK_ECLOSED);
	CHECK_ST(ak_ring_slot_pop_bulk_wait_spsc(&r, buf, 6, AK_DEADLINE_NONE, NULL), AK_ECLOSED);
	CHECK_ST(ak_ring_slot_pop_spsc(&r, &v), AK_OK);
	CHECK_EQ_U64(v, 0);
	CHECK_ST(ak_ring_slot_pop_wait_spsc(&r, &v, AK_DEADLINE_NONE, NULL), AK_OK);
	CHECK_EQ_U64(v, 1);
	CHECK_ST(ak_ring_slot_peek_spsc(&r, 8, &zc), AK_OK);
	CHECK_EQ_U64(zc.n, 3);
	CHECK_EQ_U64(*(uint64_t *)ak_ring_slot_zc_elem(&zc, 2), 4);
	CHECK_ST(ak_ring_slot_release_spsc(&r, &zc), AK_OK);
	CHECK_ST(ak_ring_slot_pop_spsc(&r, &v), AK_ECLOSED);
	CHECK_ST(ak_ring_slot_pop_burst_spsc(&r, buf, 4, &k), AK_ECLOSED);
	CHECK_EQ_U64(k, 0);
	CHECK_ST(ak_ring_slot_pop_bulk_spsc(&r, buf, 1), AK_ECLOSED);
	CHECK_ST(ak_ring_slot_pop_wait_spsc(&r, &v, AK_DEADLINE_NONE, NULL), AK_ECLOSED);
	CHECK_ST(ak_ring_slot_peek_spsc(&r, 1, &zc), AK_ECLOSED);
	CHECK(ak_ring_slot_empty(&r));
	CHECK_EQ_U64(ak_ring_slot_syscalls(&r), r.cfg.fenced ? 0 : 1); /* close's barrier */

	/* a full ring: the producer's too-little-room path says closed too */
	CHECK_ST(ak_ring_slot_init(&r, g_mem, sizeof g_mem, 2, 8, 0), AK_OK);
	CHECK_ST(ak_ring_slot_push_bulk_spsc(&r, buf, 2), AK_OK);
	CHECK_ST(ak_ring_slot_push_spsc(&r, &v), AK_EFULL);
	CHECK_ST(ak_ring_slot_close(&r), AK_OK);
	CHECK_ST(ak_ring_slot_push_spsc(&r, &v), AK_ECLOSED);
	CHECK_ST(ak_ring_slot_push_bulk_spsc(&r, buf, 2), AK_ECLOSED);
	CHECK_ST(ak_ring_slot_reserve_spsc(&r, 1, &zc), AK_ECLOSED);

	/* a ring of an older layout (no version word): waits and close refuse */
	CHECK_ST(ak_ring_slot_init(&old, g_mem, sizeof g_mem, 4, 8, 0), AK_OK);
	old.cfg.magic = 0;
	CHECK_ST(ak_ring_slot_close(&old), AK_EINVAL);
	CHECK_ST(ak_ring_slot_pop_wait_spsc(&old, &v, AK_DEADLINE_NONE, NULL), AK_EINVAL);
	CHECK_ST(ak_ring_slot_push_bulk_wait_spsc(&old, buf, 4, 0, NULL), AK_OK); /* fits: no wait */
	CHECK_ST(ak_ring_slot_push_wait_spsc(&old, &v, AK_DEADLINE_NONE, NULL), AK_EINVAL);
}

/* The _wait forms without a partner: every status, nothing moved. */
static void test_wait_statuses(void)
{
	static alignas(128) ak_ring_slot r;
	uint64_t v = 7, buf[4] = { 1, 2, 3, 4 };
	ak_cancel c;

	CHECK_ST(ak_ring_slot_push_wait_spsc(NULL, &v, 0, NULL), AK_EINVAL);
	CHECK_ST(ak_ring_slot_pop_wait_spsc(NULL, &v, 0, NULL), AK_EINVAL);
	CHECK_ST(ak_ring_slot_push_bulk_wait_spsc(NULL, buf, 1, 0, NULL), AK_EINVAL);
	CHECK_ST(ak_ring_slot_pop_bulk_wait_spsc(NULL, buf, 1, 0, NULL), AK_EINVAL);
	CHECK_ST(ak_ring_slot_init(&r, g_mem, sizeof g_mem, 3, 8, 0), AK_OK);
	CHECK_ST(ak_ring_slot_push_wait_spsc(&r, NULL, 0, NULL), AK_EINVAL);
	CHECK_ST(ak_ring_slot_pop_wait_spsc(&r, NULL, 0, NULL), AK_EINVAL);
	CHECK_ST(ak_ring_slot_push_bulk_wait_spsc(&r, buf, 4, AK_DEADLINE_NONE, NULL), AK_E2BIG);
	CHECK_ST(ak_ring_slot_pop_bulk_wait_spsc(&r, buf, 4, AK_DEADLINE_NONE, NULL), AK_E2BIG);
	CHECK_ST(ak_ring_slot_push_bulk_wait_spsc(&r, buf, 0, AK_DEADLINE_NONE, NULL), AK_OK);
	CHECK_ST(ak_ring_slot_pop_bulk_wait_spsc(&r, buf, 0, AK_DEADLINE_NONE, NULL), AK_OK);
	/* a deadline already past: AK_ETIMEDOUT (after the bounded spin) */
	CHECK_ST(ak_ring_slot_pop_wait_spsc(&r, &v, 0, NULL), AK_ETIMEDOUT);
	CHECK_ST(ak_ring_slot_pop_bulk_wait_spsc(&r, buf, 2, ak_now_ns(), NULL), AK_ETIMEDOUT);
	CHECK_ST(ak_ring_slot_push_bulk_wait_spsc(&r, buf, 3, 0, NULL), AK_OK);
	CHECK_ST(ak_ring_slot_push_wait_spsc(&r, &v, 0, NULL), AK_ETIMEDOUT);
	CHECK_EQ_U64(ak_ring_slot_syscalls(&r), 0); /* none of these slept */
	/* a short real deadline in the future, which must eventually pass;
	 * with no metered polling, the wait goes to sleep until then */
	CHECK_ST(ak_ring_slot_set_wait_spin(&r, 0), AK_OK);
	CHECK_ST(ak_ring_slot_push_wait_spsc(&r, &v, ak_deadline_after(2 * AK_NS_PER_MS), NULL),
		 AK_ETIMEDOUT);
	/* a cancelled token: AK_ECANCELED, nothing moved */
	CHECK_ST(ak_cancel_init(&c), AK_OK);
	CHECK(ak_cancel_request(&c, AK_ECANCELED));
	CHECK_ST(ak_ring_slot_push_wait_spsc(&r, &v, AK_DEADLINE_NONE, &c), AK_ECANCELED);
	CHECK_ST(ak_ring_slot_pop_bulk_wait_spsc(&r, buf, 3, AK_DEADLINE_NONE, &c), AK_OK);
	CHECK(buf[0] == 1 && buf[2] == 3);
	CHECK_ST(ak_ring_slot_pop_wait_spsc(&r, &v, AK_DEADLINE_NONE, &c), AK_ECANCELED);
	CHECK_ST(ak_ring_slot_pop_bulk_wait_spsc(&r, buf, 1, AK_DEADLINE_NONE, &c), AK_ECANCELED);
	CHECK_ST(ak_cancel_destroy(&c), AK_OK);
	CHECK(ak_ring_slot_empty(&r));
	/* the one that slept: its barrier and futex wait(s), nothing else */
	ak_ring_syscall_split sp;
	CHECK_ST(ak_ring_slot_syscalls_split(&r, &sp), AK_OK);
	CHECK(sp.waits >= 1 && sp.wakes == 0 && sp.spare == 0 && sp.total == sp.waits);
	CHECK_ST(ak_ring_slot_syscalls_split(NULL, &sp), AK_EINVAL);
	CHECK_ST(ak_ring_slot_syscalls_split(&r, NULL), AK_EINVAL);
	CHECK_EQ_U64(ak_ring_slot_syscalls(NULL), 0);
}

/* Zero-copy views: shapes at the wrap, statuses, and misuse. */
static void test_zero_copy(void)
{
	static alignas(128) ak_ring_slot r;
	ak_ring_slot_zc zc, other;
	uint64_t v = 0;

	CHECK_ST(ak_ring_slot_reserve_spsc(NULL, 1, &zc), AK_EINVAL);
	CHECK_ST(ak_ring_slot_peek_spsc(NULL, 1, &zc), AK_EINVAL);
	CHECK_ST(ak_ring_slot_commit_spsc(NULL, &zc), AK_EINVAL);
	CHECK_ST(ak_ring_slot_release_spsc(NULL, &zc), AK_EINVAL);
	CHECK(ak_ring_slot_zc_elem(NULL, 0) == NULL);
	/* capacity 6 in 8 slots of 24 bytes (16-byte elements), start at 5 */
	CHECK_ST(_ak_ring_slot_init_at(&r, g_mem, sizeof g_mem, 6, 16, 0, UINT64_MAX - 2), AK_OK);
	CHECK_ST(ak_ring_slot_reserve_spsc(&r, 1, NULL), AK_EINVAL);
	CHECK_ST(ak_ring_slot_reserve_spsc(&r, 0, &zc), AK_EINVAL);
	CHECK_ST(ak_ring_slot_peek_spsc(&r, 0, &zc), AK_EINVAL);
	CHECK_ST(ak_ring_slot_peek_spsc(&r, 1, &zc), AK_EEMPTY);
	CHECK_ST(ak_ring_slot_commit_spsc(&r, NULL), AK_EINVAL);
	CHECK_ST(ak_ring_slot_release_spsc(&r, NULL), AK_EINVAL);
	/* positions 2^64-3 .. 2^64+2 use slots 5, 6, 7, 0, 1, 2: two runs */
	CHECK_ST(ak_ring_slot_reserve_spsc(&r, 100, &zc), AK_OK);
	CHECK_EQ_U64(zc.n, 6);
	CHECK_EQ_U64(zc.len[0], 3);
	CHECK_EQ_U64(zc.len[1], 3);
	CHECK_EQ_U64(zc.stride, 24);
	/* (compared as integers: the pointers come from the control block's
	 * address plus an offset, which the compiler may not relate to g_mem) */
	CHECK_EQ_U64((uintptr_t)zc.seg[0] - (uintptr_t)g_mem, 5 * 24 + 8);
	CHECK_EQ_U64((uintptr_t)zc.seg[1] - (uintptr_t)g_mem, 8);
	CHECK(ak_ring_slot_zc_elem(&zc, 6) == NULL);
	CHECK((uintptr_t)ak_ring_slot_zc_elem(&zc, 3) == (uintptr_t)zc.seg[1]);
	CHECK((uintptr_t)ak_ring_slot_zc_elem(&zc, 2) == (uintptr_t)zc.seg[0] + 48);
	for (uint64_t i = 0; i < 6; i++)
		fill_elem((unsigned char *)ak_ring_slot_zc_elem(&zc, i), 16, i);
	CHECK_EQ_U64(ak_ring_slot_size(&r), 0);  /* nothing published yet */
	CHECK_ST(ak_ring_slot_peek_spsc(&r, 1, &other), AK_EEMPTY);
	other = zc;
	other.pos++;
	CHECK_ST(ak_ring_slot_commit_spsc(&r, &other), AK_ESTATE);
	other = zc;
	other.n = 7;
	CHECK_ST(ak_ring_slot_commit_spsc(&r, &other), AK_ESTATE);
	other.n = 0;
	CHECK_ST(ak_ring_slot_commit_spsc(&r, &other), AK_ESTATE);
	CHECK_ST(ak_ring_slot_commit_spsc(&r, &zc), AK_OK);
	CHECK_ST(ak_ring_slot_commit_spsc(&r, &zc), AK_ESTATE); /* already committed */
	CHECK(ak_ring_slot_full(&r));
	CHECK_ST(ak_ring_slot_reserve_spsc(&r, 1, &other), AK_EFULL);
	CHECK_EQ_U64(other.n, 0);
	/* the consumer sees the one batch across the wrap, also in two runs */
	CHECK_ST(ak_ring_slot_peek_spsc(&r, 4, &zc), AK_OK);
	CHECK(zc.n == 4 && zc.len[0] == 3 && zc.len[1] == 1);
	for (uint64_t i = 0; i < 4; i++)
		CHECK(elem_is((unsigned char *)ak_ring_slot_zc_elem(&zc, i), 16, i));
	other = zc;
	other.n = 7; /* more than is published */
	CHECK_ST(ak_ring_slot_release_spsc(&r, &other), AK_ESTATE);
	other.pos--;
	other.n = 1;
	CHECK_ST(ak_ring_slot_release_spsc(&r, &other), AK_ESTATE);
	CHECK_ST(ak_ring_slot_release_spsc(&r, &zc), AK_OK);
	CHECK_ST(ak_ring_slot_release_spsc(&r, &zc), AK_ESTATE); /* already released */
	CHECK_EQ_U64(ak_ring_slot_size(&r), 2);
	/* a reserve smaller than the room; pops see commits in order */
	CHECK_ST(ak_ring_slot_reserve_spsc(&r, 3, &zc), AK_OK);
	CHECK(zc.n == 3 && zc.len[1] == 0);
	for (uint64_t i = 0; i < 3; i++)
		fill_elem((unsigned char *)ak_ring_slot_zc_elem(&zc, i), 16, 6 + i);
	CHECK_ST(ak_ring_slot_commit_spsc(&r, &zc), AK_OK);
	unsigned char e[16];
	for (uint64_t i = 4; i < 9; i++) {
		CHECK_ST(ak_ring_slot_pop_spsc(&r, e), AK_OK);
		CHECK(elem_is(e, 16, i));
	}
	CHECK_ST(ak_ring_slot_pop_spsc(&r, e), AK_EEMPTY);
	(void)v;
}

/* ---- scripted sleepers ------------------------------------------------- */

/* Hooks in src/ring_wait.c (not API). */
extern void (*_ak_ring_test_woken)(void *ring);
extern void (*_ak_ring_test_before_sleep)(void *ring);

/* What one sleeping thread does, and what came of it. */
struct sleeper {
	ak_ring_slot *r;
	int for_data;        /* pop_wait; else push_wait */
	uint64_t deadline;
	ak_cancel *cancel;
	uint64_t v;
	ak_status st;
	_Atomic(long) tid;
	pthread_t thread;
};

static void *sleeper_main(void *arg)
{
	struct sleeper *s = (struct sleeper *)arg;
	futex_probe_self(&s->tid);
	s->st = s->for_data ? ak_ring_slot_pop_wait_spsc(s->r, &s->v, s->deadline, s->cancel)
			    : ak_ring_slot_push_wait_spsc(s->r, &s->v, s->deadline, s->cancel);
	return NULL;
}

/* A capacity-8 ring, empty for a pop_wait or full for a push_wait, and a
 * thread seen asleep in futex_wait on the matching word.  Returns 1 if it
 * was seen asleep within 10 s; the barrier its registration cost (its
 * membarrier, unless fenced) is in *barrier. */
static int sleeper_start(struct sleeper *s, ak_ring_slot *r, int for_data, ak_cancel *cancel,
			 uint64_t *barrier)
{
	CHECK_ST(ak_ring_slot_init(r, g_mem, sizeof g_mem, 8, 8, 0), AK_OK);
	memset(s, 0, sizeof(*s));
	s->r = r;
	s->for_data = for_data;
	s->deadline = AK_DEADLINE_NONE;
	s->cancel = cancel;
	s->v = 1000;
	for (uint64_t i = 0; !for_data && i < 8; i++)
		CHECK_ST(ak_ring_slot_push_spsc(r, &i), AK_OK);
	*barrier = r->cfg.fenced ? 0 : 1;
	pthread_create(&s->thread, NULL, sleeper_main, s);
	return futex_probe_wait(&s->tid, for_data ? (void *)&r->wait.data_seq
						  : (void *)&r->wait.space_seq,
				10);
}

static void check_calls(const ak_ring_slot *r, uint64_t waits, uint64_t wakes, uint64_t spare)
{
	ak_ring_syscall_split sp;
	CHECK_ST(ak_ring_slot_syscalls_split(r, &sp), AK_OK);
	CHECK_EQ_U64(sp.waits, waits);
	CHECK_EQ_U64(sp.wakes, wakes);
	CHECK_EQ_U64(sp.spare, spare);
	CHECK_EQ_U64(sp.total, waits + wakes + spare + (ak_ring_slot_is_closed(r) && !r->cfg.fenced));
}

static _Atomic(int) parked, unpark;

/* _ak_ring_test_woken: hold the woken sleeper before it runs on. */
static void park(void *ring)
{
	(void)ring;
	/* Release/acquire: pair with the loads/store in test_sleep_wake(),
	 * which only sequence the script. */
	atomic_store_explicit(&parked, 1, memory_order_release);
	while (!atomic_load_explicit(&unpark, memory_order_acquire))
		usleep(100);
}

/*
 * A push (pop) wakes a pop_wait (push_wait) asleep in the kernel with one
 * futex wake; while the woken thread has not run yet (held by the hook),
 * five more pushes (pops) make no call: the waker took it out of the gate.
 * And no push or pop makes a call while nobody sleeps.
 */
static void test_sleep_wake(void)
{
	static alignas(128) ak_ring_slot r;
	for (int for_data = 1; for_data >= 0; for_data--) {
		struct sleeper s;
		uint64_t barrier, v = 0;
		atomic_store_explicit(&parked, 0, memory_order_relaxed);
		atomic_store_explicit(&unpark, 0, memory_order_relaxed);
		_ak_ring_test_woken = park;
		int asleep = sleeper_start(&s, &r, for_data, NULL, &barrier);
		CHECK(asleep);
		check_calls(&r, barrier, 0, 0);
		for (uint64_t i = 0; i < 6; i++) {
			/* Acquire: pairs with the release store in park(). */
			while (i == 1 && asleep && !atomic_load_explicit(&parked, memory_order_acquire))
				usleep(100);
			if (for_data)
				CHECK_ST(ak_ring_slot_push_spsc(&r, &i), AK_OK);
			else
				CHECK_ST(ak_ring_slot_pop_spsc(&r, &v), AK_OK);
		}
		check_calls(&r, barrier + (asleep ? 1 : 0), asleep ? 1 : 0, 0);
		if (!asleep)
			(void)ak_ring_slot_close(&r); /* rescue it; reported above */
		/* Release: pairs with the acquire load in park(). */
		atomic_store_explicit(&unpark, 1, memory_order_release);
		pthread_join(s.thread, NULL);
		_ak_ring_test_woken = NULL;
		CHECK_ST(s.st, AK_OK);
		CHECK_EQ_U64(s.v, for_data ? 0 : 1000);
		check_calls(&r, barrier + 1, 1, 0);
		/* the gate is back to its fast-path value */
		CHECK_EQ_U64(atomic_load_explicit(for_data ? &r.prod.gate : &r.cons.gate,
						  memory_order_relaxed) >= _AK_RING_GATE_WAITER,
			     0);
		/* FIFO across the wake: the rest come out in order */
		for (uint64_t i = 0; for_data && i < 5; i++) {
			CHECK_ST(ak_ring_slot_pop_spsc(&r, &v), AK_OK);
			CHECK_EQ_U64(v, i + 1);
		}
	}
}

/* _ak_ring_test_before_sleep: the partner moves while the waiter is
 * registered but not yet counted as a sleeper. */
static _Atomic(int) presleep_fired;
static void presleep(void *ring)
{
	ak_ring_slot *r = (ak_ring_slot *)ring;
	uint64_t v = 42;
	if (atomic_exchange_explicit(&presleep_fired, 1, memory_order_relaxed))
		return;
	if (ak_ring_slot_size(r) == 0)
		CHECK_ST(ak_ring_slot_push_spsc(r, &v), AK_OK);
	else
		CHECK_ST(ak_ring_slot_pop_spsc(r, &v), AK_OK);
}

/* A notify that lands between registration and sleep costs no wake call:
 * the seq bump alone turns the futex wait back. */
static void test_presleep_notify(void)
{
	static alignas(128) ak_ring_slot r;
	for (int for_data = 1; for_data >= 0; for_data--) {
		uint64_t v = 0;
		CHECK_ST(ak_ring_slot_init(&r, g_mem, sizeof g_mem, 4, 8, 0), AK_OK);
		for (uint64_t i = 0; !for_data && i < 4; i++)
			CHECK_ST(ak_ring_slot_push_spsc(&r, &i), AK_OK);
		atomic_store_explicit(&presleep_fired, 0, memory_order_relaxed);
		_ak_ring_test_before_sleep = presleep;
		ak_status st = for_data ? ak_ring_slot_pop_wait_spsc(&r, &v, AK_DEADLINE_NONE, NULL)
					: ak_ring_slot_push_wait_spsc(&r, &v, AK_DEADLINE_NONE, NULL);
		_ak_ring_test_before_sleep = NULL;
		CHECK(atomic_load_explicit(&presleep_fired, memory_order_relaxed));
		CHECK_ST(st, AK_OK);
		if (for_data)
			CHECK_EQ_U64(v, 42);
		check_calls(&r, (r.cfg.fenced ? 0 : 1) + 1, 0, 0);
	}
}

/* Close wakes a sleeper on either side; cancel wakes one; a deadline ends
 * one with AK_ETIMEDOUT.  Nothing moved in any of these. */
static void test_wake_on_close_cancel_deadline(void)
{
	static alignas(128) ak_ring_slot r;
	for (int for_data = 1; for_data >= 0; for_data--) {
		struct sleeper s;
		uint64_t barrier;
		ak_cancel c;

		/* close */
		int asleep = sleeper_start(&s, &r, for_data, NULL, &barrier);
		CHECK(asleep);
		CHECK_ST(ak_ring_slot_close(&r), AK_OK);
		pthread_join(s.thread, NULL);
		CHECK_ST(s.st, AK_ECLOSED);
		CHECK_EQ_U64(s.v, 1000);
		check_calls(&r, barrier + 1, 1, 0);
		CHECK_EQ_U64(ak_ring_slot_size(&r), for_data ? 0 : 8);

		/* cancel */
		CHECK_ST(ak_cancel_init(&c), AK_OK);
		asleep = sleeper_start(&s, &r, for_data, &c, &barrier);
		CHECK(asleep);
		CHECK(ak_cancel_request(&c, AK_ECANCELED));
		pthread_join(s.thread, NULL);
		CHECK_ST(s.st, AK_ECANCELED);
		CHECK_EQ_U64(s.v, 1000);
		CHECK_EQ_U64(ak_ring_slot_size(&r), for_data ? 0 : 8);
		CHECK_ST(ak_cancel_destroy(&c), AK_OK);

		/* deadline: must eventually pass (no duration is asserted) */
		CHECK_ST(ak_ring_slot_init(&r, g_mem, sizeof g_mem, 4, 8, 0), AK_OK);
		memset(&s, 0, sizeof s);
		s.r = &r;
		s.for_data = for_data;
		s.deadline = ak_deadline_after(20 * AK_NS_PER_MS);
		s.v = 1000;
		for (uint64_t i = 0; !for_data && i < 4; i++)
			CHECK_ST(ak_ring_slot_push_spsc(&r, &i), AK_OK);
		(void)sleeper_main(&s);
		CHECK_ST(s.st, AK_ETIMEDOUT);
		CHECK_EQ_U64(ak_ring_slot_size(&r), for_data ? 0 : 4);
		CHECK_EQ_U64(atomic_load_explicit(for_data ? &r.prod.gate : &r.cons.gate,
						  memory_order_relaxed) >= _AK_RING_GATE_WAITER,
			     0);
	}
}

/*
 * release_spsc() takes the count from the view it is given, and checks only
 * that it starts at the consumer's position and ends within what the
 * consumer knows to be published (docs/ring_slot.md, "Zero-copy"): a count
 * below the peeked one releases part of the view (the rest is read next),
 * one above it, within the published elements, skips them unread; past the
 * published end it is AK_ESTATE.  FIFO order and the indices stay sound in
 * every case.
 */
static void test_release_count(void)
{
	static alignas(128) ak_ring_slot r;
	uint64_t in[5] = { 1, 2, 3, 4, 5 }, v = 0;
	ak_ring_slot_zc zc, other;

	CHECK_ST(ak_ring_slot_init(&r, g_mem, sizeof g_mem, 8, 8, 0), AK_OK);
	CHECK_ST(ak_ring_slot_push_bulk_spsc(&r, in, 5), AK_OK); /* one batch */
	CHECK_ST(ak_ring_slot_peek_spsc(&r, 2, &zc), AK_OK);
	CHECK_EQ_U64(zc.n, 2);
	/* fewer than the view: the rest stays */
	other = zc;
	other.n = 1;
	CHECK_ST(ak_ring_slot_release_spsc(&r, &other), AK_OK);
	CHECK_EQ_U64(ak_ring_slot_size(&r), 4);
	CHECK_ST(ak_ring_slot_pop_spsc(&r, &v), AK_OK);
	CHECK_EQ_U64(v, 2);
	/* more than the view, within what is published: 4 is skipped */
	CHECK_ST(ak_ring_slot_peek_spsc(&r, 1, &zc), AK_OK);
	CHECK(zc.n == 1 && *(uint64_t *)ak_ring_slot_zc_elem(&zc, 0) == 3);
	other = zc;
	other.n = 4; /* only 3 are published from here */
	CHECK_ST(ak_ring_slot_release_spsc(&r, &other), AK_ESTATE);
	other.n = 2;
	CHECK_ST(ak_ring_slot_release_spsc(&r, &other), AK_OK);
	CHECK_EQ_U64(ak_ring_slot_size(&r), 1);
	CHECK_ST(ak_ring_slot_pop_spsc(&r, &v), AK_OK);
	CHECK_EQ_U64(v, 5);
	CHECK_ST(ak_ring_slot_pop_spsc(&r, &v), AK_EEMPTY);
	/* the producer reuses every released slot */
	for (uint64_t i = 0; i < 8; i++)
		CHECK_ST(ak_ring_slot_push_spsc(&r, &i), AK_OK);
	CHECK(ak_ring_slot_full(&r));
}

int main(void)
{
	test_memsize();
	test_init_errors();
	test_init_misaligned_ring();
	test_init_storage_overlaps_ring();
	test_null_args();
	test_fill_drain();
	test_bulk_burst();
	test_typed_and_moved();
	test_random_model();
	test_close();
	test_wait_statuses();
	test_zero_copy();
	test_release_count();
	test_sleep_wake();
	test_presleep_notify();
	test_wake_on_close_cancel_deadline();
	return check_report("ring_slot");
}
