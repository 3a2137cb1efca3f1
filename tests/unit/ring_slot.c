/* Unit tests: ak_ring_slot single-threaded semantics, edge cases, wrap-around
 * near 2^64, misuse -> status codes, a randomized run against a FIFO model. */
#include <atomkit/ring_slot.h>
#include <stdalign.h>
#include <stdlib.h>

#include "check.h"

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

/* Random pushes and pops of every kind against a FIFO model. */
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
		uint64_t in = 0, out = 0, bad = 0;
		CHECK_ST(_ak_ring_slot_init_at(&q.ring, g_mem, sizeof g_mem, cap, 8, 0,
					       UINT64_MAX - 50),
			 AK_OK);
		for (int step = 0; step < 20000; step++) {
			uint64_t n = rng() % (cap + 3), k = 0, used = in - out;
			ak_status st;
			switch (rng() % 6) {
			case 0:
				st = u64q_push_spsc(&q, in);
				bad += st != (used < cap ? AK_OK : AK_EFULL);
				in += st == AK_OK;
				break;
			case 1:
				st = u64q_pop_spsc(&q, buf);
				bad += st != (used ? AK_OK : AK_EEMPTY);
				bad += st == AK_OK && buf[0] != out;
				out += st == AK_OK;
				break;
			case 2:
				for (uint64_t i = 0; i < n; i++)
					buf[i] = in + i;
				st = u64q_push_bulk_spsc(&q, buf, n);
				bad += st != (n > cap ? AK_E2BIG
						      : n <= cap - used ? AK_OK : AK_EFULL);
				in += st == AK_OK ? n : 0;
				break;
			case 3:
				st = u64q_pop_bulk_spsc(&q, buf, n);
				bad += st != (n > cap ? AK_E2BIG : n <= used ? AK_OK : AK_EEMPTY);
				for (uint64_t i = 0; st == AK_OK && i < n; i++)
					bad += buf[i] != out + i;
				out += st == AK_OK ? n : 0;
				break;
			case 4:
				for (uint64_t i = 0; i < n; i++)
					buf[i] = in + i;
				st = u64q_push_burst_spsc(&q, buf, n, &k);
				bad += k != (n < cap - used ? n : cap - used);
				bad += st != (k || !n ? AK_OK : AK_EFULL);
				in += k;
				break;
			default:
				st = u64q_pop_burst_spsc(&q, buf, n, &k);
				bad += k != (n < used ? n : used);
				bad += st != (k || !n ? AK_OK : AK_EEMPTY);
				for (uint64_t i = 0; i < k; i++)
					bad += buf[i] != out + i;
				out += k;
				break;
			}
			bad += u64q_size(&q) != in - out;
		}
		CHECK_EQ_U64(bad, 0);
		CHECK(in > 1000 && out + cap >= in);
	}
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
	return check_report("ring_slot");
}
