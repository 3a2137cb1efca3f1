/*
 * Unit tests: the in-order ring, single-threaded semantics in every mode,
 * plus a few two-thread wake-up checks for the blocking calls.
 *
 * Covered: memsize/init validation (every bad argument -> its status),
 * capacity 1, non-power-of-two and large capacities fully usable, element
 * sizes 1..256, indices starting just below 2^64 and 2^32, bulk/burst
 * counts, zero-copy segments at the wrap, commit/release misuse, close and
 * drain, size/empty/full, the typed front end, deadlines and wake-ups.
 */
#include <atomkit/cancel.h>
#include <atomkit/clock.h>
#include <atomkit/ring.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"
#include "futex_probe.h"

struct mode {
	const char *name;
	ak_status (*push)(ak_ring *, const void *);
	ak_status (*pop)(ak_ring *, void *);
	ak_status (*push_bulk)(ak_ring *, const void *, uint64_t);
	ak_status (*pop_bulk)(ak_ring *, void *, uint64_t);
	ak_status (*push_burst)(ak_ring *, const void *, uint64_t, uint64_t *);
	ak_status (*pop_burst)(ak_ring *, void *, uint64_t, uint64_t *);
	ak_status (*reserve)(ak_ring *, uint64_t, ak_ring_zc *);
	ak_status (*commit)(ak_ring *, const ak_ring_zc *);
	ak_status (*peek)(ak_ring *, uint64_t, ak_ring_zc *);
	ak_status (*release)(ak_ring *, const ak_ring_zc *);
	ak_status (*push_wait)(ak_ring *, const void *, uint64_t, ak_cancel *);
	ak_status (*pop_wait)(ak_ring *, void *, uint64_t, ak_cancel *);
	ak_status (*push_bulk_wait)(ak_ring *, const void *, uint64_t, uint64_t, ak_cancel *);
	ak_status (*pop_bulk_wait)(ak_ring *, void *, uint64_t, uint64_t, ak_cancel *);
};

#define MODE(m)                                                                                    \
	{ #m,                                                                                      \
	  ak_ring_push_##m,                                                                        \
	  ak_ring_pop_##m,                                                                         \
	  ak_ring_push_bulk_##m,                                                                   \
	  ak_ring_pop_bulk_##m,                                                                    \
	  ak_ring_push_burst_##m,                                                                  \
	  ak_ring_pop_burst_##m,                                                                   \
	  ak_ring_reserve_##m,                                                                     \
	  ak_ring_commit_##m,                                                                      \
	  ak_ring_peek_##m,                                                                        \
	  ak_ring_release_##m,                                                                     \
	  ak_ring_push_wait_##m,                                                                   \
	  ak_ring_pop_wait_##m,                                                                    \
	  ak_ring_push_bulk_wait_##m,                                                              \
	  ak_ring_pop_bulk_wait_##m }
static const struct mode modes[] = { MODE(spsc), MODE(mpsc), MODE(spmc), MODE(mpmc) };
#define NMODES (sizeof(modes) / sizeof(modes[0]))

static void *storage_for(uint64_t cap, size_t esz, size_t *bytes)
{
	*bytes = ak_ring_memsize(cap, esz);
	return aligned_alloc(64, (*bytes + 63) & ~(size_t)63);
}

static void test_memsize_and_init(void)
{
	ak_ring r;
	static uint64_t buf[64];

	CHECK_EQ_U64(ak_ring_memsize(0, 8), 0);
	CHECK_EQ_U64(ak_ring_memsize(8, 0), 0);
	CHECK_EQ_U64(ak_ring_memsize(AK_RING_MAX_CAPACITY + 1, 1), 0);
	CHECK_EQ_U64(ak_ring_memsize(AK_RING_MAX_CAPACITY, 8), 0); /* 2^65 bytes */
	CHECK_EQ_U64(ak_ring_memsize(1, 8), 8);
	CHECK_EQ_U64(ak_ring_memsize(5, 8), 64); /* 8 slots */
	CHECK_EQ_U64(ak_ring_memsize(64, 8), 512);
	CHECK_EQ_U64(ak_ring_memsize(65, 3), 128 * 3);

	CHECK_ST(ak_ring_init(NULL, buf, sizeof buf, 8, 8, 0), AK_EINVAL);
	CHECK_ST(ak_ring_init(&r, NULL, sizeof buf, 8, 8, 0), AK_EINVAL);
	CHECK_ST(ak_ring_init(&r, buf, sizeof buf, 0, 8, 0), AK_EINVAL);
	CHECK_ST(ak_ring_init(&r, buf, sizeof buf, 8, 0, 0), AK_EINVAL);
	CHECK_ST(ak_ring_init(&r, buf, sizeof buf, 8, 8, 0x80), AK_EINVAL);
	CHECK_ST(ak_ring_init(&r, (char *)buf + 4, sizeof buf - 4, 8, 8, 0), AK_EINVAL);
	CHECK_ST(ak_ring_init(&r, buf, 63, 8, 8, 0), AK_EINVAL); /* needs 64 */
	CHECK_ST(ak_ring_init(&r, buf, sizeof buf, 65, 8, 0), AK_EINVAL); /* needs 1024 */
	CHECK_ST(ak_ring_init(&r, buf, sizeof buf, AK_RING_MAX_CAPACITY + 1, 1, 0), AK_E2BIG);
	CHECK_ST(ak_ring_init(&r, buf, sizeof buf, AK_RING_MAX_CAPACITY, 8, 0), AK_E2BIG);
	CHECK_ST(ak_ring_init(&r, buf, 64, 8, 8, 0), AK_OK);
	CHECK_EQ_U64(ak_ring_capacity(&r), 8);
	CHECK_EQ_U64(ak_ring_elem_size(&r), 8);
	CHECK_ST(ak_ring_init(&r, buf, sizeof buf, 3, 1, AK_RING_SHARED), AK_OK);
	CHECK_EQ_U64(ak_ring_capacity(NULL), 0);
	CHECK_EQ_U64(ak_ring_size(NULL), 0);
	CHECK(!ak_ring_full(NULL));
	CHECK(!ak_ring_is_closed(NULL));
	CHECK_ST(ak_ring_close(NULL), AK_EINVAL);
}

/* Every operation rejects NULL ring and NULL buffers, in every mode. */
static void test_null_args(void)
{
	static uint64_t buf[8];
	ak_ring r;
	uint64_t v = 1, k = 99;
	ak_ring_zc zc;

	CHECK_ST(ak_ring_init(&r, buf, sizeof buf, 8, 8, 0), AK_OK);
	for (size_t m = 0; m < NMODES; m++) {
		const struct mode *M = &modes[m];
		CHECK_ST(M->push(NULL, &v), AK_EINVAL);
		CHECK_ST(M->push(&r, NULL), AK_EINVAL);
		CHECK_ST(M->pop(NULL, &v), AK_EINVAL);
		CHECK_ST(M->pop(&r, NULL), AK_EINVAL);
		CHECK_ST(M->push_bulk(&r, NULL, 2), AK_EINVAL);
		CHECK_ST(M->pop_bulk(&r, NULL, 2), AK_EINVAL);
		CHECK_ST(M->push_burst(&r, NULL, 2, &k), AK_EINVAL);
		CHECK_EQ_U64(k, 0);
		k = 99;
		CHECK_ST(M->pop_burst(NULL, &v, 2, &k), AK_EINVAL);
		CHECK_EQ_U64(k, 0);
		CHECK_ST(M->reserve(NULL, 1, &zc), AK_EINVAL);
		CHECK_ST(M->reserve(&r, 1, NULL), AK_EINVAL);
		CHECK_ST(M->reserve(&r, 0, &zc), AK_EINVAL);
		CHECK_ST(M->commit(NULL, &zc), AK_EINVAL);
		CHECK_ST(M->commit(&r, NULL), AK_EINVAL);
		CHECK_ST(M->peek(NULL, 1, &zc), AK_EINVAL);
		CHECK_ST(M->peek(&r, 1, NULL), AK_EINVAL);
		CHECK_ST(M->peek(&r, 0, &zc), AK_EINVAL);
		CHECK_ST(M->release(NULL, &zc), AK_EINVAL);
		CHECK_ST(M->release(&r, NULL), AK_EINVAL);
		CHECK_ST(M->push_wait(NULL, &v, 0, NULL), AK_EINVAL);
		CHECK_ST(M->pop_wait(&r, NULL, 0, NULL), AK_EINVAL);
		CHECK_ST(M->push_bulk_wait(&r, &v, 9, 0, NULL), AK_E2BIG);
		CHECK_ST(M->pop_bulk_wait(&r, &v, 9, 0, NULL), AK_E2BIG);
		/* n == 0 is a successful no-op */
		CHECK_ST(M->push_bulk(&r, &v, 0), AK_OK);
		CHECK_ST(M->pop_burst(&r, &v, 0, &k), AK_OK);
		CHECK_EQ_U64(k, 0);
	}
	CHECK_EQ_U64(ak_ring_size(&r), 0);
	CHECK_EQ_U64(ak_ring_syscalls(&r), 0);
}

/* Fill to exactly `cap`, check full, drain in order; repeated so the
 * positions wrap many times.  Works for any start index. */
static void fill_drain(const struct mode *M, uint64_t cap, size_t esz, uint64_t start)
{
	size_t bytes;
	void *st = storage_for(cap, esz, &bytes);
	unsigned char *in = malloc(esz), *out = malloc(esz);
	ak_ring r;
	uint64_t seq = 0, got = 0;
	int bad = 0;

	CHECK_ST(_ak_ring_init_at(&r, st, bytes, cap, esz, 0, start), AK_OK);
	for (int round = 0; round < 5; round++) {
		for (uint64_t i = 0; i < cap; i++) {
			for (size_t b = 0; b < esz; b++)
				in[b] = (unsigned char)(seq * 131 + b);
			seq++;
			if (M->push(&r, in) != AK_OK)
				bad++;
		}
		CHECK_EQ_U64(ak_ring_size(&r), cap);
		CHECK(ak_ring_full(&r));
		CHECK_ST(M->push(&r, in), AK_EFULL);
		for (uint64_t i = 0; i < cap; i++) {
			if (M->pop(&r, out) != AK_OK) {
				bad++;
				continue;
			}
			for (size_t b = 0; b < esz; b++)
				if (out[b] != (unsigned char)(got * 131 + b))
					bad++;
			got++;
		}
		CHECK(ak_ring_empty(&r));
		CHECK_ST(M->pop(&r, out), AK_EEMPTY);
	}
	CHECK_EQ_I64(bad, 0);
	CHECK_EQ_U64(got, seq);
	free(in);
	free(out);
	free(st);
}

static void test_capacities_and_sizes(void)
{
	static const uint64_t caps[] = { 1, 2, 3, 5, 7, 8, 100, 1000 };
	for (size_t m = 0; m < NMODES; m++) {
		for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
			fill_drain(&modes[m], caps[c], 8, 0);
			fill_drain(&modes[m], caps[c], 8, UINT64_MAX - caps[c] - 2);
			fill_drain(&modes[m], caps[c], 8, UINT64_C(0xffffffff) - 1);
		}
	}
	/* element sizes 1..256 (SPSC and MPMC), capacity 5 and 1 */
	for (size_t esz = 1; esz <= 256; esz++) {
		fill_drain(&modes[0], 5, esz, UINT64_MAX - 3);
		fill_drain(&modes[3], 1, esz, UINT64_MAX);
	}
	/* a large capacity: 2^20 + 1 one-byte elements (2 MiB of storage) */
	fill_drain(&modes[0], (UINT64_C(1) << 20) + 1, 1, UINT64_MAX - 1000);
}

/* A capacity past 2^32 elements: 8 GiB of address space, reserved but
 * barely touched (only the pages around the positions used). */
static void test_huge_capacity(void)
{
	const uint64_t cap = (UINT64_C(1) << 32) + 1;
	size_t bytes = ak_ring_memsize(cap, 1);
	CHECK_EQ_U64(bytes, UINT64_C(1) << 33);
	void *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(mem != MAP_FAILED);
	if (mem == MAP_FAILED)
		return;
	ak_ring r;
	uint8_t v = 0, out = 0;
	uint64_t k = 0;
	int bad = 0;
	/* start so that the positions cross both 2^64 and a 2^32 boundary */
	CHECK_ST(_ak_ring_init_at(&r, mem, bytes, cap, 1, 0, UINT64_MAX - 2000), AK_OK);
	CHECK_EQ_U64(ak_ring_capacity(&r), cap);
	for (int i = 0; i < 5000; i++) {
		v = (uint8_t)i;
		bad += ak_ring_push_spsc(&r, &v) != AK_OK;
	}
	CHECK_EQ_U64(ak_ring_size(&r), 5000);
	for (int i = 0; i < 5000; i++)
		bad += ak_ring_pop_mpmc(&r, &out) != AK_OK || out != (uint8_t)i;
	CHECK_EQ_I64(bad, 0);
	/* a bulk above 2^32 elements is refused only when above capacity */
	CHECK_ST(ak_ring_push_bulk_spsc(&r, &v, cap + 1), AK_E2BIG);
	CHECK_ST(ak_ring_pop_burst_spsc(&r, &out, cap + 1, &k), AK_EEMPTY);
	munmap(mem, bytes);
}

static void test_bulk_burst(void)
{
	for (size_t m = 0; m < NMODES; m++) {
		const struct mode *M = &modes[m];
		static uint64_t buf[8];
		ak_ring r;
		uint64_t src[16], dst[16], k;

		for (int i = 0; i < 16; i++)
			src[i] = 1000 + (uint64_t)i;
		CHECK_ST(_ak_ring_init_at(&r, buf, sizeof buf, 6, 8, 0, UINT64_MAX - 2), AK_OK);
		CHECK_ST(M->push_bulk(&r, src, 7), AK_E2BIG);
		CHECK_ST(M->pop_bulk(&r, dst, 7), AK_E2BIG);
		CHECK_ST(M->push_bulk(&r, src, 4), AK_OK);
		CHECK_ST(M->push_bulk(&r, src + 4, 3), AK_EFULL); /* all or nothing */
		CHECK_EQ_U64(ak_ring_size(&r), 4);
		CHECK_ST(M->push_burst(&r, src + 4, 3, &k), AK_OK);
		CHECK_EQ_U64(k, 2);
		CHECK_ST(M->push_burst(&r, src + 6, 3, &k), AK_EFULL);
		CHECK_EQ_U64(k, 0);
		CHECK_ST(M->pop_bulk(&r, dst, 3), AK_OK);
		CHECK_ST(M->push_burst(&r, src + 6, 5, NULL), AK_OK); /* 3 fit */
		CHECK_ST(M->pop_burst(&r, dst + 3, 16, &k), AK_OK);
		CHECK_EQ_U64(k, 6);
		int bad = 0;
		for (int i = 0; i < 9; i++)
			bad += dst[i] != 1000 + (uint64_t)i;
		CHECK_EQ_I64(bad, 0);
		CHECK_ST(M->pop_bulk(&r, dst, 1), AK_EEMPTY);
		CHECK_ST(M->pop_burst(&r, dst, 4, &k), AK_EEMPTY);
		CHECK_EQ_U64(k, 0);
	}
}

static void test_zero_copy(void)
{
	for (size_t m = 0; m < NMODES; m++) {
		const struct mode *M = &modes[m];
		static uint32_t buf[8];
		ak_ring r;
		ak_ring_zc zc, zc2;
		uint32_t v;

		/* capacity 8, start at 5: a reservation of 6 wraps after 3 */
		CHECK_ST(_ak_ring_init_at(&r, buf, sizeof buf, 8, 4, 0, UINT64_MAX - 2), AK_OK);
		CHECK_ST(M->reserve(&r, 6, &zc), AK_OK);
		CHECK_EQ_U64(zc.n, 6);
		CHECK_EQ_U64(zc.len[0], 3);
		CHECK_EQ_U64(zc.len[1], 3);
		CHECK(zc.seg[1] == (void *)buf);
		CHECK(zc.seg[0] == (void *)(buf + 5));
		for (uint32_t i = 0; i < 3; i++) {
			((uint32_t *)zc.seg[0])[i] = i;
			((uint32_t *)zc.seg[1])[i] = 3 + i;
		}
		CHECK_EQ_U64(ak_ring_size(&r), 0); /* not visible before commit */
		CHECK_ST(M->pop(&r, &v), AK_EEMPTY);
		zc2 = zc;
		zc2.n = 0;
		CHECK_ST(M->commit(&r, &zc2), AK_ESTATE);
		zc2 = zc;
		zc2.n = 9;
		CHECK_ST(M->commit(&r, &zc2), AK_ESTATE);
		zc2 = zc;
		zc2.pos += 100; /* not a pending reservation: refused, no hang */
		CHECK_ST(M->commit(&r, &zc2), AK_ESTATE);
		zc2.pos = zc.pos - 1;
		CHECK_ST(M->commit(&r, &zc2), AK_ESTATE);
		CHECK_ST(M->commit(&r, &zc), AK_OK);
		CHECK_EQ_U64(ak_ring_size(&r), 6);
		/* burst reserve gets only what fits */
		CHECK_ST(M->reserve(&r, 5, &zc), AK_OK);
		CHECK_EQ_U64(zc.n, 2);
		CHECK_EQ_U64(zc.len[1], 0);
		((uint32_t *)zc.seg[0])[0] = 6;
		((uint32_t *)zc.seg[0])[1] = 7;
		CHECK_ST(M->commit(&r, &zc), AK_OK);
		CHECK_ST(M->reserve(&r, 1, &zc2), AK_EFULL);
		CHECK_EQ_U64(zc2.n, 0);

		CHECK_ST(M->peek(&r, 4, &zc), AK_OK);
		CHECK_EQ_U64(zc.n, 4);
		CHECK_EQ_U64(zc.len[0], 3);
		CHECK_EQ_U64(zc.len[1], 1);
		int bad = 0;
		for (uint32_t i = 0; i < 3; i++)
			bad += ((uint32_t *)zc.seg[0])[i] != i;
		bad += ((uint32_t *)zc.seg[1])[0] != 3;
		CHECK_EQ_I64(bad, 0);
		CHECK_EQ_U64(ak_ring_size(&r), 8); /* slots still held */
		zc2 = zc;
		zc2.pos += 1;
		CHECK_ST(M->release(&r, &zc2), AK_ESTATE);
		CHECK_ST(M->release(&r, &zc), AK_OK);
		CHECK_EQ_U64(ak_ring_size(&r), 4);
		CHECK_ST(M->peek(&r, 100, &zc), AK_OK);
		CHECK_EQ_U64(zc.n, 4);
		for (uint32_t i = 0; i < 4; i++)
			bad += ((uint32_t *)zc.seg[0])[i] != 4 + i;
		CHECK_EQ_I64(bad, 0);
		CHECK_ST(M->release(&r, &zc), AK_OK);
		CHECK_ST(M->peek(&r, 1, &zc), AK_EEMPTY);
		CHECK_EQ_U64(zc.n, 0);
		/* release of a view that was already released */
		if (m == 0)
			CHECK_ST(M->release(&r, &zc2), AK_ESTATE);
	}
	/* SP: commits out of order are refused */
	{
		static uint64_t buf[8];
		ak_ring r;
		ak_ring_zc a, b;
		CHECK_ST(ak_ring_init(&r, buf, sizeof buf, 8, 8, 0), AK_OK);
		CHECK_ST(ak_ring_reserve_spsc(&r, 2, &a), AK_OK);
		CHECK_ST(ak_ring_reserve_spsc(&r, 2, &b), AK_OK);
		CHECK_EQ_U64(b.pos, a.pos + 2);
		CHECK_ST(ak_ring_commit_spsc(&r, &b), AK_ESTATE);
		CHECK_ST(ak_ring_commit_spsc(&r, &a), AK_OK);
		CHECK_ST(ak_ring_commit_spsc(&r, &b), AK_OK);
		CHECK_ST(ak_ring_commit_spsc(&r, &b), AK_ESTATE);
		CHECK_EQ_U64(ak_ring_size(&r), 4);
	}
	/* A view whose count was changed is refused, and nothing is lost:
	 * without the check, releasing 1 of a 2-element peek skipped the
	 * second element (the pop below returned 3, not 2). */
	{
		static uint64_t buf[8];
		ak_ring r;
		ak_ring_zc v;
		uint64_t x;
		CHECK_ST(ak_ring_init(&r, buf, sizeof buf, 8, 8, 0), AK_OK);
		for (uint64_t i = 1; i <= 5; i++)
			CHECK_ST(ak_ring_push_spsc(&r, &i), AK_OK);
		CHECK_ST(ak_ring_peek_spsc(&r, 2, &v), AK_OK);
		CHECK_EQ_U64(v.n, 2);
		v.n = 1;
		CHECK_ST(ak_ring_release_spsc(&r, &v), AK_ESTATE);
		v.n = 3;
		CHECK_ST(ak_ring_release_spsc(&r, &v), AK_ESTATE);
		v.n = 2;
		CHECK_ST(ak_ring_release_spsc(&r, &v), AK_OK);
		CHECK_ST(ak_ring_pop_spsc(&r, &x), AK_OK);
		CHECK_EQ_U64(x, 3);
		CHECK_ST(ak_ring_reserve_spsc(&r, 2, &v), AK_OK);
		v.n = 1;
		CHECK_ST(ak_ring_commit_spsc(&r, &v), AK_ESTATE);
		v.n = 2;
		CHECK_ST(ak_ring_commit_spsc(&r, &v), AK_OK);
		CHECK_EQ_U64(ak_ring_size(&r), 4);
		/* MP/MC: the same check (a shrunk view would block later commits) */
		CHECK_ST(ak_ring_peek_mpmc(&r, 2, &v), AK_OK);
		v.n = 1;
		CHECK_ST(ak_ring_release_mpmc(&r, &v), AK_ESTATE);
		v.n = 2;
		CHECK_ST(ak_ring_release_mpmc(&r, &v), AK_OK);
		CHECK_EQ_U64(ak_ring_size(&r), 2);
	}
}

static void test_close(void)
{
	for (size_t m = 0; m < NMODES; m++) {
		const struct mode *M = &modes[m];
		static uint64_t buf[4];
		ak_ring r;
		uint64_t v = 7, out[4], k;
		ak_ring_zc zc;

		CHECK_ST(_ak_ring_init_at(&r, buf, sizeof buf, 4, 8, 0, UINT64_MAX - 1), AK_OK);
		CHECK_ST(M->push(&r, &v), AK_OK);
		v = 8;
		CHECK_ST(M->push(&r, &v), AK_OK);
		CHECK_ST(M->reserve(&r, 1, &zc), AK_OK); /* reserved before close */
		*(uint64_t *)zc.seg[0] = 9;
		CHECK(!ak_ring_is_closed(&r));
		CHECK_ST(ak_ring_close(&r), AK_OK);
		CHECK(ak_ring_is_closed(&r));
		CHECK_ST(ak_ring_close(&r), AK_ECLOSED);
		CHECK_ST(M->push(&r, &v), AK_ECLOSED);
		CHECK_ST(M->push_bulk(&r, &v, 1), AK_ECLOSED);
		CHECK_ST(M->push_burst(&r, &v, 1, &k), AK_ECLOSED);
		CHECK_ST(M->push_wait(&r, &v, AK_DEADLINE_NONE, NULL), AK_ECLOSED);
		ak_ring_zc late;
		CHECK_ST(M->reserve(&r, 1, &late), AK_ECLOSED);
		CHECK_EQ_U64(late.n, 0);
		/* the reservation made before close still completes */
		CHECK_ST(M->commit(&r, &zc), AK_OK);
		CHECK_EQ_U64(ak_ring_size(&r), 3);
		CHECK_ST(M->pop_bulk(&r, out, 4), AK_ECLOSED); /* 4 can never come */
		CHECK_ST(M->pop(&r, out), AK_OK);
		CHECK_EQ_U64(out[0], 7);
		CHECK_ST(M->pop_wait(&r, out, AK_DEADLINE_NONE, NULL), AK_OK);
		CHECK_EQ_U64(out[0], 8);
		CHECK_ST(M->pop_burst(&r, out, 4, &k), AK_OK);
		CHECK_EQ_U64(k, 1);
		CHECK_EQ_U64(out[0], 9);
		CHECK_ST(M->pop(&r, out), AK_ECLOSED);
		CHECK_ST(M->pop_wait(&r, out, AK_DEADLINE_NONE, NULL), AK_ECLOSED);
		CHECK_ST(M->pop_burst(&r, out, 4, &k), AK_ECLOSED);
		CHECK_ST(M->peek(&r, 1, &zc), AK_ECLOSED);
		CHECK_EQ_U64(ak_ring_syscalls(&r) <= 1, 1); /* at most close's membarrier */
	}
}

static void test_deadlines(void)
{
	for (size_t m = 0; m < NMODES; m++) {
		const struct mode *M = &modes[m];
		static uint64_t buf[2];
		ak_ring r;
		uint64_t v = 1, out[2];

		CHECK_ST(ak_ring_init(&r, buf, sizeof buf, 2, 8, 0), AK_OK);
		CHECK_ST(M->pop_wait(&r, &v, 0, NULL), AK_ETIMEDOUT); /* past */
		CHECK_ST(M->pop_wait(&r, &v, ak_deadline_after(2 * AK_NS_PER_MS), NULL),
			 AK_ETIMEDOUT);
		CHECK_ST(M->push_wait(&r, &v, 0, NULL), AK_OK);
		CHECK_ST(M->push_bulk_wait(&r, out, 2, 0, NULL), AK_ETIMEDOUT);
		CHECK_ST(M->push_wait(&r, &v, 0, NULL), AK_OK);
		CHECK_ST(M->push_wait(&r, &v, ak_deadline_after(2 * AK_NS_PER_MS), NULL),
			 AK_ETIMEDOUT);
		CHECK_ST(M->pop_bulk_wait(&r, out, 2, 0, NULL), AK_OK);
		CHECK_EQ_U64(ak_ring_size(&r), 0);
	}
}

/* ---- two threads: wake-ups ---- */

struct waker {
	ak_ring *r;
	int what; /* 0 push one, 1 pop one, 2 close, 3 cancel, 4 fill + commit zc */
	ak_cancel *cancel;
	ak_ring_zc *zc;
	uint64_t delay_ns;
};

static void *waker_main(void *p)
{
	struct waker *w = p;
	uint64_t v = 77;
	uint64_t until = ak_now_ns() + w->delay_ns;
	while (ak_now_ns() < until)
		; /* give the other thread time to fall asleep */
	if (w->what == 0)
		(void)ak_ring_push_spsc(w->r, &v);
	else if (w->what == 1)
		(void)ak_ring_pop_spsc(w->r, &v);
	else if (w->what == 2)
		(void)ak_ring_close(w->r);
	else if (w->what == 4) {
		memcpy(w->zc->seg[0], &v, sizeof v);
		(void)ak_ring_commit_spsc(w->r, w->zc);
	} else
		(void)ak_cancel_request(w->cancel, 1);
	return NULL;
}

static void test_wakeups(void)
{
	static uint64_t buf[1];
	ak_ring r;
	pthread_t t;
	uint64_t v = 5, dl;
	struct waker w;

	/* consumer sleeps on empty, woken by a push */
	CHECK_ST(ak_ring_init(&r, buf, sizeof buf, 1, 8, 0), AK_OK);
	w.r = &r;
	w.what = 0;
	w.delay_ns = 20 * AK_NS_PER_MS;
	pthread_create(&t, NULL, waker_main, &w);
	dl = ak_deadline_after(10 * AK_NS_PER_SEC); /* only bounds a hang */
	CHECK_ST(ak_ring_pop_wait_spsc(&r, &v, dl, NULL), AK_OK);
	CHECK_EQ_U64(v, 77);
	pthread_join(t, NULL);
	CHECK(ak_ring_syscalls(&r) >= 1); /* it did sleep (or at least barrier) */

	/* consumer waits while a reservation is open (the push is "in
	 * flight": prod.head != prod.tail), woken by the commit */
	{
		ak_ring_zc zc;
		CHECK_ST(ak_ring_init(&r, buf, sizeof buf, 1, 8, 0), AK_OK);
		CHECK_ST(ak_ring_reserve_spsc(&r, 1, &zc), AK_OK);
		w.what = 4;
		w.zc = &zc;
		v = 0;
		pthread_create(&t, NULL, waker_main, &w);
		CHECK_ST(ak_ring_pop_wait_spsc(&r, &v, dl, NULL), AK_OK);
		CHECK_EQ_U64(v, 77);
		pthread_join(t, NULL);
		CHECK(ak_ring_syscalls(&r) >= 1);
		CHECK_EQ_U64(ak_ring_size(&r), 0);
	}

	/* producer sleeps on full, woken by a pop */
	CHECK_ST(ak_ring_init(&r, buf, sizeof buf, 1, 8, 0), AK_OK);
	v = 1;
	CHECK_ST(ak_ring_push_spsc(&r, &v), AK_OK);
	w.what = 1;
	pthread_create(&t, NULL, waker_main, &w);
	v = 2;
	CHECK_ST(ak_ring_push_wait_spsc(&r, &v, dl, NULL), AK_OK);
	pthread_join(t, NULL);
	CHECK_ST(ak_ring_pop_spsc(&r, &v), AK_OK);
	CHECK_EQ_U64(v, 2);

	/* consumer sleeps, woken by close */
	CHECK_ST(ak_ring_init(&r, buf, sizeof buf, 1, 8, 0), AK_OK);
	w.what = 2;
	pthread_create(&t, NULL, waker_main, &w);
	CHECK_ST(ak_ring_pop_wait_mpmc(&r, &v, dl, NULL), AK_ECLOSED);
	pthread_join(t, NULL);

	/* producer sleeps on full, woken by close */
	CHECK_ST(ak_ring_init(&r, buf, sizeof buf, 1, 8, 0), AK_OK);
	CHECK_ST(ak_ring_push_spsc(&r, &v), AK_OK);
	pthread_create(&t, NULL, waker_main, &w);
	CHECK_ST(ak_ring_push_wait_mpsc(&r, &v, dl, NULL), AK_ECLOSED);
	pthread_join(t, NULL);
	CHECK_ST(ak_ring_pop_spsc(&r, &v), AK_OK); /* the first one survives */
	CHECK_ST(ak_ring_pop_spsc(&r, &v), AK_ECLOSED);
}

static void test_cancel(void)
{
	static uint64_t buf[1];
	ak_ring r;
	ak_cancel c;
	pthread_t t;
	uint64_t v = 5, dl = ak_deadline_after(10 * AK_NS_PER_SEC); /* bounds a hang */
	struct waker w;

	/* a token cancelled while the consumer sleeps wakes it */
	CHECK_ST(ak_ring_init(&r, buf, sizeof buf, 1, 8, 0), AK_OK);
	CHECK_ST(ak_cancel_init(&c), AK_OK);
	w.r = &r;
	w.what = 3;
	w.cancel = &c;
	w.delay_ns = 20 * AK_NS_PER_MS;
	pthread_create(&t, NULL, waker_main, &w);
	CHECK_ST(ak_ring_pop_wait_spsc(&r, &v, dl, &c), AK_ECANCELED);
	pthread_join(t, NULL);
	/* already cancelled: a wait that would block returns at once, but a
	 * call that can complete still completes */
	CHECK_ST(ak_ring_push_wait_spsc(&r, &v, dl, &c), AK_OK);
	CHECK_ST(ak_ring_push_wait_mpmc(&r, &v, dl, &c), AK_ECANCELED);
	CHECK_ST(ak_ring_pop_wait_spmc(&r, &v, dl, &c), AK_OK);
	CHECK_ST(ak_ring_pop_wait_spsc(&r, &v, dl, &c), AK_ECANCELED);
	CHECK_ST(ak_cancel_destroy(&c), AK_OK);

	/* a producer sleeping on a full ring, cancelled */
	CHECK_ST(ak_cancel_init(&c), AK_OK);
	CHECK_ST(ak_ring_push_spsc(&r, &v), AK_OK);
	pthread_create(&t, NULL, waker_main, &w);
	CHECK_ST(ak_ring_push_bulk_wait_mpsc(&r, &v, 1, dl, &c), AK_ECANCELED);
	pthread_join(t, NULL);
	CHECK_EQ_U64(ak_ring_size(&r), 1); /* nothing lost, nothing added */
	CHECK_ST(ak_cancel_destroy(&c), AK_OK);

	/* a deadline token ends the wait with AK_ECANCELED */
	CHECK_ST(ak_cancel_init_deadline(&c, ak_deadline_after(5 * AK_NS_PER_MS), NULL), AK_OK);
	CHECK_ST(ak_ring_push_wait_spsc(&r, &v, dl, &c), AK_ECANCELED);
	CHECK_ST(ak_cancel_destroy(&c), AK_OK);
}

/* ---- typed front end ---- */

struct pt {
	int32_t x, y, z;
};
AK_RING_DEFINE(pt_ring, struct pt);
AK_RING_DEFINE(ptr_ring, void *);

static void test_typed(void)
{
	static struct pt slots[4];
	static void *pslots[2];
	pt_ring q;
	ptr_ring pq;
	struct pt a = { 1, 2, 3 }, b, many[3] = { { 4, 5, 6 }, { 7, 8, 9 }, { 10, 11, 12 } };
	void *p = NULL;
	uint64_t k;

	CHECK_EQ_U64(pt_ring_memsize(3), 4 * sizeof(struct pt));
	CHECK_ST(pt_ring_init(&q, slots, sizeof slots, 3, 0), AK_OK);
	CHECK_ST(pt_ring_init(NULL, slots, sizeof slots, 3, 0), AK_EINVAL);
	CHECK_EQ_U64(pt_ring_capacity(&q), 3);
	CHECK_ST(pt_ring_push_spsc(&q, a), AK_OK);
	CHECK_ST(pt_ring_push_bulk_mpmc(&q, many, 3), AK_EFULL);
	CHECK_ST(pt_ring_push_burst_mpsc(&q, many, 3, &k), AK_OK);
	CHECK_EQ_U64(k, 2);
	CHECK_EQ_U64(pt_ring_size(&q), 3);
	CHECK_ST(pt_ring_pop_spmc(&q, &b), AK_OK);
	CHECK(b.x == 1 && b.y == 2 && b.z == 3);
	CHECK_ST(pt_ring_pop_bulk_spsc(&q, many, 2), AK_OK);
	CHECK(many[0].x == 4 && many[1].z == 9);
	CHECK_ST(pt_ring_pop_wait_spsc(&q, &b, 0, NULL), AK_ETIMEDOUT);
	CHECK_ST(pt_ring_close(&q), AK_OK);
	CHECK_ST(pt_ring_pop_mpmc(&q, &b), AK_ECLOSED);

	CHECK_ST(ptr_ring_init(&pq, pslots, sizeof pslots, 2, 0), AK_OK);
	CHECK_ST(ptr_ring_push_spsc(&pq, &a), AK_OK);
	CHECK_ST(ptr_ring_push_wait_spsc(&pq, &b, 0, NULL), AK_OK);
	CHECK_ST(ptr_ring_push_spsc(&pq, &a), AK_EFULL);
	CHECK_ST(ptr_ring_pop_spsc(&pq, &p), AK_OK);
	CHECK(p == &a);
	CHECK_ST(ptr_ring_pop_wait_mpmc(&pq, &p, 0, NULL), AK_OK);
	CHECK(p == &b);
	CHECK(ptr_ring_ring(&pq) == &pq.ring);
}

/*
 * System calls, by cause.  (1) A push_wait/pop_wait that finds room/data at
 * once, and every non-blocking call with nobody asleep, makes none: all
 * four counts stay 0, in every mode.  (2) Scripted sleep: a pop_wait (push_wait)
 * is seen blocked in the kernel on the ring's futex word (/proc/self/task/
 * <tid>/syscall), one push (pop) wakes it, the test hook
 * _ak_ring_test_woken holds it right after its wait returned (woken, not
 * yet run), and five more pushes (pops) must make no call: the waker took
 * it out of the gate count.  Expected: waits = its futex wait (+ its
 * membarrier when the ring is not fenced), wakes = 1, spare = 0.  The
 * previous accounting (-D_AK_RING_WAKE_BROKEN=1) makes 5 spare wakes.
 */
extern void (*_ak_ring_test_woken)(void *ring); /* src/ring_wait.c */
static _Atomic(int) rw_parked, rw_go;

static void rw_park(void *ring)
{
	(void)ring;
	/* Release/acquire: pair with the loads/store in test_syscall_split(),
	 * which only sequence the script. */
	atomic_store_explicit(&rw_parked, 1, memory_order_release);
	while (!atomic_load_explicit(&rw_go, memory_order_acquire))
		usleep(100);
}

struct rw_sleeper {
	ak_ring *r;
	int pop;
	uint64_t v;
	ak_status st;
	_Atomic(long) tid;
};

static void *rw_sleeper_main(void *p)
{
	struct rw_sleeper *w = (struct rw_sleeper *)p;
	futex_probe_self(&w->tid);
	w->st = w->pop ? ak_ring_pop_wait_spsc(w->r, &w->v, AK_DEADLINE_NONE, NULL)
		       : ak_ring_push_wait_spsc(w->r, &w->v, AK_DEADLINE_NONE, NULL);
	return NULL;
}

static int rw_blocked_on(struct rw_sleeper *w, const void *word)
{
	return futex_probe_wait(&w->tid, word, 10);
}

/* A capacity-8 SPSC ring on buf and a sleeper for it: empty for a pop_wait
 * (pop), full for a push_wait.  Returns the waits a sleep costs besides its
 * futex wait: 1 (the membarrier) unless the ring is fenced. */
static uint64_t rw_prepare(ak_ring *r, void *buf, size_t bytes, struct rw_sleeper *w, int pop)
{
	CHECK_ST(ak_ring_init(r, buf, bytes, 8, 8, 0), AK_OK);
	memset(w, 0, sizeof(*w));
	w->r = r;
	w->pop = pop;
	w->v = 1000;
	if (!pop)
		for (uint64_t i = 0; i < 8; i++)
			CHECK_ST(ak_ring_push_spsc(r, &i), AK_OK);
	return r->cfg.fenced ? 0 : 1;
}

static void check_split(const ak_ring *r, uint64_t waits, uint64_t wakes, uint64_t spare)
{
	ak_ring_syscall_split sp;
	CHECK_ST(ak_ring_syscalls_split(r, &sp), AK_OK);
	CHECK_EQ_U64(sp.waits, waits);
	CHECK_EQ_U64(sp.wakes, wakes);
	CHECK_EQ_U64(sp.spare, spare);
	CHECK_EQ_U64(sp.total, waits + wakes + spare);
	CHECK_EQ_U64(ak_ring_syscalls(r), sp.total);
}

/* Hook: the notify lands while the waiter is registered but not yet a
 * sleeper; made from the waiter's own thread (the main thread is idle). */
extern void (*_ak_ring_test_before_sleep)(void *ring);
static _Atomic(int) presleep_fired;

static void rw_presleep(void *ring)
{
	ak_ring *r = (ak_ring *)ring;
	uint64_t v = 42;
	if (atomic_exchange_explicit(&presleep_fired, 1, memory_order_relaxed))
		return;
	if (ak_ring_size(r) == 0)
		CHECK_ST(ak_ring_push_spsc(r, &v), AK_OK); /* the waiter pops it */
	else
		CHECK_ST(ak_ring_pop_spsc(r, &v), AK_OK);  /* the waiter pushes */
}

static void test_syscall_split(void)
{
	static uint64_t buf[8];
	ak_ring_syscall_split sp;
	ak_ring r;
	uint64_t v = 0, arr[8] = { 0 };

	CHECK_ST(ak_ring_syscalls_split(NULL, &sp), AK_EINVAL);
	CHECK_ST(ak_ring_init(&r, buf, sizeof buf, 8, 8, 0), AK_OK);
	CHECK_ST(ak_ring_syscalls_split(&r, NULL), AK_EINVAL);

	/* (1) nothing to wait for: no call, whatever the mode */
	for (size_t m = 0; m < NMODES; m++) {
		const struct mode *M = &modes[m];
		CHECK_ST(ak_ring_init(&r, buf, sizeof buf, 8, 8, 0), AK_OK);
		for (int lap = 0; lap < 100; lap++) {
			for (uint64_t i = 0; i < 4; i++)
				CHECK_ST(M->push_wait(&r, &i, AK_DEADLINE_NONE, NULL), AK_OK);
			CHECK_ST(M->push_bulk_wait(&r, arr, 4, AK_DEADLINE_NONE, NULL), AK_OK);
			CHECK_ST(M->pop_wait(&r, &v, AK_DEADLINE_NONE, NULL), AK_OK);
			CHECK_ST(M->pop_bulk_wait(&r, arr, 7, AK_DEADLINE_NONE, NULL), AK_OK);
			CHECK_ST(M->push(&r, &v), AK_OK);
			CHECK_ST(M->pop(&r, &v), AK_OK);
		}
		check_split(&r, 0, 0, 0);
	}

	/* (2) one sleeper: one wake, then none while it has not run */
	for (int pop = 1; pop >= 0; pop--) {
		struct rw_sleeper w;
		pthread_t t;
		uint64_t barrier = rw_prepare(&r, buf, sizeof buf, &w, pop);
		_Atomic(uint32_t) *word = pop ? &r.wait.data_seq : &r.wait.space_seq;
		atomic_store_explicit(&rw_parked, 0, memory_order_relaxed);
		atomic_store_explicit(&rw_go, 0, memory_order_relaxed);
		_ak_ring_test_woken = rw_park;
		pthread_create(&t, NULL, rw_sleeper_main, &w);
		int asleep = rw_blocked_on(&w, word);
		CHECK(asleep);
		check_split(&r, barrier, 0, 0);
		for (uint64_t i = 0; i < 6; i++) {
			if (i == 1) {
				/* Acquire: pairs with the release store in rw_park(). */
				while (asleep && !atomic_load_explicit(&rw_parked, memory_order_acquire))
					usleep(100);
			}
			if (pop)
				CHECK_ST(ak_ring_push_spsc(&r, &i), AK_OK);
			else
				CHECK_ST(ak_ring_pop_spsc(&r, &v), AK_OK);
		}
		check_split(&r, barrier + (asleep ? 1 : 0), asleep ? 1 : 0, 0);
		if (!asleep)
			(void)ak_ring_close(&r); /* rescue it; reported above */
		/* Release: pairs with the acquire load in rw_park(). */
		atomic_store_explicit(&rw_go, 1, memory_order_release);
		pthread_join(t, NULL);
		_ak_ring_test_woken = NULL;
		CHECK_ST(w.st, AK_OK);
		if (pop)
			CHECK_EQ_U64(w.v, 0);
		check_split(&r, barrier + 1, 1, 0);
		CHECK_EQ_U64(atomic_load_explicit(pop ? &r.prod.gate : &r.cons.gate,
						  memory_order_relaxed) &
				     ~(uint32_t)(_AK_RING_GATE_WAITER - 1),
			     0);
	}

	/* (3) a notify while the waiter is registered but not yet asleep:
	 * the seq bump alone turns its futex wait back (counted: it had to
	 * wait), and the notifier makes no wake call (-D_AK_RING_WAKE_BROKEN=2
	 * makes one: spare 1). */
	for (int pop = 1; pop >= 0; pop--) {
		struct rw_sleeper w;
		uint64_t barrier = rw_prepare(&r, buf, sizeof buf, &w, pop);
		atomic_store_explicit(&presleep_fired, 0, memory_order_relaxed);
		_ak_ring_test_before_sleep = rw_presleep;
		(void)rw_sleeper_main(&w);
		_ak_ring_test_before_sleep = NULL;
		CHECK(atomic_load_explicit(&presleep_fired, memory_order_relaxed));
		CHECK_ST(w.st, AK_OK);
		if (pop)
			CHECK_EQ_U64(w.v, 42);
		check_split(&r, barrier + 1, 0, 0);
	}
}

/*
 * A sleep that ends without a FUTEX_WAKE takes itself out of the counts.
 * (1) A signal (handler installed without SA_RESTART: the futex wait returns
 * EINTR) interrupts a sleeping pop_wait (push_wait): the waiter loops and
 * sleeps again, and meanwhile exactly one registration is counted (the
 * gate's waiter field and the sleepers count are 1, not 2: the EINTR return
 * took the first one out).  One push (pop) then wakes it and every count is
 * back to 0.  (2) A deadline: the waiter sleeps, times out, and leaves no
 * count behind (the next push makes no wake call).
 */
static void rw_on_signal(int sig)
{
	(void)sig;
}

static uint64_t split_waits(const ak_ring *r)
{
	ak_ring_syscall_split sp;
	CHECK_ST(ak_ring_syscalls_split(r, &sp), AK_OK);
	return sp.waits;
}

static int rw_waits_reach(const ak_ring *r, uint64_t n)
{
	uint64_t bound = ak_deadline_after(10 * AK_NS_PER_SEC);
	while (ak_now_ns() < bound) {
		if (split_waits(r) >= n)
			return 1;
		usleep(1000);
	}
	return 0;
}

static uint32_t gate_waiters(_Atomic(uint32_t) *gate)
{
	return atomic_load_explicit(gate, memory_order_relaxed) / _AK_RING_GATE_WAITER;
}

static void test_interrupted_sleep(void)
{
	static uint64_t buf[8];
	struct sigaction sa, old;
	ak_ring r;
	uint64_t v = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = rw_on_signal; /* no SA_RESTART: the futex wait returns EINTR */
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGUSR1, &sa, &old) == 0);

	for (int pop = 1; pop >= 0; pop--) {
		struct rw_sleeper w;
		pthread_t t;
		uint64_t barrier = rw_prepare(&r, buf, sizeof buf, &w, pop);
		_Atomic(uint32_t) *word = pop ? &r.wait.data_seq : &r.wait.space_seq;
		_Atomic(uint32_t) *gate = pop ? &r.prod.gate : &r.cons.gate;
		_Atomic(uint32_t) *sleepers = pop ? &r.wait.data_sleepers : &r.wait.space_sleepers;
		pthread_create(&t, NULL, rw_sleeper_main, &w);
		int asleep = rw_blocked_on(&w, word);
		CHECK(asleep);
		if (asleep) {
			CHECK_EQ_U64(gate_waiters(gate), 1);
			CHECK_EQ_U64(atomic_load_explicit(sleepers, memory_order_relaxed), 1);
			CHECK(pthread_kill(t, SIGUSR1) == 0);
			/* its interrupted wait, then its next registration */
			CHECK(rw_waits_reach(&r, 2 * barrier + 1));
			CHECK(rw_blocked_on(&w, word));
			CHECK_EQ_U64(gate_waiters(gate), 1);
			CHECK_EQ_U64(atomic_load_explicit(sleepers, memory_order_relaxed), 1);
		}
		if (pop)
			CHECK_ST(ak_ring_push_spsc(&r, &v), AK_OK);
		else
			CHECK_ST(ak_ring_pop_spsc(&r, &v), AK_OK);
		pthread_join(t, NULL);
		CHECK_ST(w.st, AK_OK);
		CHECK_EQ_U64(gate_waiters(gate), 0);
		CHECK_EQ_U64(atomic_load_explicit(sleepers, memory_order_relaxed), 0);
		if (asleep)
			check_split(&r, 2 * barrier + 2, 1, 0);
	}
	CHECK(sigaction(SIGUSR1, &old, NULL) == 0);

	/* (2) a sleep that times out */
	for (int pop = 1; pop >= 0; pop--) {
		CHECK_ST(ak_ring_init(&r, buf, sizeof buf, 8, 8, 0), AK_OK);
		_Atomic(uint32_t) *gate = pop ? &r.prod.gate : &r.cons.gate;
		_Atomic(uint32_t) *sleepers = pop ? &r.wait.data_sleepers : &r.wait.space_sleepers;
		if (!pop)
			for (uint64_t i = 0; i < 8; i++)
				CHECK_ST(ak_ring_push_spsc(&r, &i), AK_OK);
		uint64_t dl = ak_deadline_after(20 * AK_NS_PER_MS);
		CHECK_ST(pop ? ak_ring_pop_wait_spsc(&r, &v, dl, NULL)
			     : ak_ring_push_wait_spsc(&r, &v, dl, NULL),
			 AK_ETIMEDOUT);
		CHECK_EQ_U64(gate_waiters(gate), 0);
		CHECK_EQ_U64(atomic_load_explicit(sleepers, memory_order_relaxed), 0);
		ak_ring_syscall_split before, after;
		CHECK_ST(ak_ring_syscalls_split(&r, &before), AK_OK);
		if (pop)
			CHECK_ST(ak_ring_push_spsc(&r, &v), AK_OK);
		else
			CHECK_ST(ak_ring_pop_spsc(&r, &v), AK_OK);
		CHECK_ST(ak_ring_syscalls_split(&r, &after), AK_OK);
		CHECK_EQ_U64(after.total, before.total);
	}
}

/* A control block below its alignment (every atomic access in it would be
 * misaligned) or storage overlapping it (element stores would overwrite
 * cfg and the indices): AK_EINVAL, and init must not touch *r for the
 * first.  Through ak_ring_init, the start-position hook and the typed
 * front end. */
static void test_init_misaligned_or_overlapping(void)
{
	static AK_ALIGNAS(128) unsigned char blk[2048];
	static AK_ALIGNAS(128) unsigned char mem[8192];
	static const size_t offs[] = { 4, 8, 16, 64 };
	const size_t rsz = sizeof(ak_ring);
	size_t need = ak_ring_memsize(16, 8); /* 128 bytes */
	unsigned char *storage = mem + 4096;

	CHECK_EQ_U64(_Alignof(ak_ring), AK_DESTRUCTIVE_SIZE);
	memset(blk, 0xEE, sizeof blk);
	for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
		ak_ring *r = (ak_ring *)(void *)(blk + offs[i]);
		CHECK_ST(ak_ring_init(r, storage, need, 16, 8, 0), AK_EINVAL);
		CHECK_ST(ak_ring_init(r, storage, need, 16, 8, AK_RING_SHARED), AK_EINVAL);
		CHECK_ST(_ak_ring_init_at(r, storage, need, 16, 8, 0, UINT64_MAX), AK_EINVAL);
		CHECK_ST(pt_ring_init((pt_ring *)(void *)(blk + offs[i]),
				      (struct pt *)(void *)storage, pt_ring_memsize(3), 3, 0),
			 AK_EINVAL);
	}
	size_t touched = 0;
	for (size_t i = 0; i < sizeof blk; i++)
		touched += blk[i] != 0xEE;
	CHECK_EQ_U64(touched, 0);
	CHECK_ST(ak_ring_init((ak_ring *)(void *)(blk + 128), storage, need, 16, 8, 0), AK_OK);

	ak_ring *r = (ak_ring *)(void *)mem;
	CHECK(rsz >= 4 * 128 && need == 128);
	/* storage is the control block; starts inside it (near its first and
	 * last byte); ends inside it; encloses it */
	CHECK_ST(ak_ring_init(r, mem, need, 16, 8, 0), AK_EINVAL);
	CHECK_ST(ak_ring_init(r, mem + 64, need, 16, 8, 0), AK_EINVAL);
	CHECK_ST(ak_ring_init(r, mem + rsz - 8, need, 16, 8, 0), AK_EINVAL);
	r = (ak_ring *)(void *)(mem + 1024);
	CHECK_ST(ak_ring_init(r, mem + 1024 - need + 8, need, 16, 8, 0), AK_EINVAL);
	CHECK_ST(ak_ring_init(r, mem + 1024 - 128, rsz + 256, 64, 8, 0), AK_EINVAL);
	CHECK_ST(_ak_ring_init_at(r, mem + 1024 + 64, need, 16, 8, 0, UINT64_MAX - 3), AK_EINVAL);
	CHECK_ST(pt_ring_init((pt_ring *)(void *)r, (struct pt *)(void *)(mem + 1024 + 64),
			      pt_ring_memsize(3), 3, 0),
		 AK_EINVAL);
	/* adjacent on either side is fine, and only the first `need` bytes
	 * count (a larger buffer reaching past r is accepted) */
	CHECK_ST(ak_ring_init(r, mem + 1024 - need, need + rsz, 16, 8, 0), AK_OK);
	CHECK_ST(ak_ring_init(r, mem + 1024 + rsz, need, 16, 8, AK_RING_SHARED), AK_OK);
	CHECK_ST(ak_ring_init(r, mem + 1024 - need, need, 16, 8, 0), AK_OK);
	uint64_t v, out = 0;
	for (int i = 0; i < 40; i++) { /* laps over the whole storage */
		v = 7 + (uint64_t)i;
		CHECK_ST(ak_ring_push_spsc(r, &v), AK_OK);
		CHECK_ST(ak_ring_pop_spsc(r, &out), AK_OK);
		CHECK_EQ_U64(out, v);
	}
	CHECK_EQ_U64(ak_ring_capacity(r), 16);
	CHECK_EQ_U64(ak_ring_size(r), 0);
}

int main(void)
{
	test_memsize_and_init();
	test_null_args();
	test_capacities_and_sizes();
	test_huge_capacity();
	test_bulk_burst();
	test_zero_copy();
	test_close();
	test_deadlines();
	test_wakeups();
	test_syscall_split();
	test_interrupted_sleep();
	test_cancel();
	test_typed();
	test_init_misaligned_or_overlapping();
	return check_report("ring");
}
