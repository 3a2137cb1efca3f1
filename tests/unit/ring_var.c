/*
 * Unit tests: variable-length records (ring_var.h).
 *
 * Covered: memsize/init validation, the largest record, padding at the
 * wrap (records always contiguous), shrinking commits with and without
 * padding, every misuse -> AK_ESTATE, pop into a short buffer (AK_ERANGE,
 * record kept), close with a pending reservation, deadlines, and many laps
 * of random lengths starting just below 2^64.
 */
#include <atomkit/ring_var.h>
#include <stdlib.h>

#include "check.h"

static uint64_t storage[1024];

static void fill(unsigned char *p, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)(seed * 31 + i * 7);
}

static int same(const unsigned char *p, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != (unsigned char)(seed * 31 + i * 7))
			return 0;
	return 1;
}

static void test_init(void)
{
	static AK_ALIGNAS(128) unsigned char blk[1024];
	ak_ring_var v;
	CHECK_EQ_U64(ak_ring_var_memsize(0), 0);
	CHECK_EQ_U64(ak_ring_var_memsize(15), 0);
	CHECK_EQ_U64(ak_ring_var_memsize(AK_RING_VAR_MAX_BYTES + 1), 0);
	CHECK_EQ_U64(ak_ring_var_memsize(16), 16);
	CHECK_EQ_U64(ak_ring_var_memsize(100), 128); /* 13 units -> 16 slots */
	CHECK_ST(ak_ring_var_init(NULL, storage, sizeof storage, 64, 0), AK_EINVAL);
	CHECK_ST(ak_ring_var_init(&v, NULL, sizeof storage, 64, 0), AK_EINVAL);
	CHECK_ST(ak_ring_var_init(&v, storage, sizeof storage, 8, 0), AK_EINVAL);
	CHECK_ST(ak_ring_var_init(&v, storage, 63, 64, 0), AK_EINVAL);
	CHECK_ST(ak_ring_var_init(&v, (char *)storage + 1, 100, 64, 0), AK_EINVAL);
	CHECK_ST(ak_ring_var_init(&v, storage, sizeof storage, AK_RING_VAR_MAX_BYTES + 8, 0),
		 AK_E2BIG);
	CHECK_ST(ak_ring_var_init(&v, storage, sizeof storage, 64, 0x40), AK_EINVAL);
	/* a control block below its 128-byte alignment, storage overlapping
	 * it (ak_ring_init's checks, reached through the cast in
	 * ak_ring_var_init before anything touches *v) */
	CHECK_ST(ak_ring_var_init((ak_ring_var *)(void *)(blk + 8), blk + 768, 256, 64, 0),
		 AK_EINVAL);
	CHECK_ST(ak_ring_var_init((ak_ring_var *)(void *)blk, blk + 64, 256, 64, 0), AK_EINVAL);
	CHECK_ST(ak_ring_var_init((ak_ring_var *)(void *)blk, blk + sizeof(ak_ring_var), 64, 64, 0),
		 AK_OK);
	CHECK_ST(ak_ring_var_init(&v, storage, sizeof storage, 16, 0), AK_OK);
	CHECK_EQ_U64(ak_ring_var_max_record(&v), 0); /* 2 units: header only */
	CHECK_ST(ak_ring_var_push_spsc(&v, "", 0), AK_OK);
	CHECK_ST(ak_ring_var_push_spsc(&v, "x", 1), AK_E2BIG);
	CHECK_EQ_U64(ak_ring_var_max_record(NULL), 0);
	CHECK_EQ_U64(ak_ring_var_bytes_used(NULL), 0);
}

static void test_misuse(void)
{
	ak_ring_var v;
	void *p = NULL;
	const void *cp = NULL;
	size_t len = 0;
	unsigned char buf[64];

	CHECK_ST(ak_ring_var_init(&v, storage, sizeof storage, 256, 0), AK_OK);
	CHECK_EQ_U64(ak_ring_var_max_record(&v), 120);
	CHECK_ST(ak_ring_var_reserve_spsc(NULL, 8, &p), AK_EINVAL);
	CHECK_ST(ak_ring_var_reserve_spsc(&v, 8, NULL), AK_EINVAL);
	CHECK_ST(ak_ring_var_reserve_spsc(&v, 121, &p), AK_E2BIG);
	CHECK(p == NULL);
	CHECK_ST(ak_ring_var_commit_spsc(&v, 0), AK_ESTATE);
	CHECK_ST(ak_ring_var_commit_spsc(NULL, 0), AK_EINVAL);
	CHECK_ST(ak_ring_var_push_spsc(&v, NULL, 3), AK_EINVAL);
	CHECK_ST(ak_ring_var_reserve_spsc(&v, 16, &p), AK_OK);
	CHECK(((uintptr_t)p & 7) == 0);
	void *p2 = &p;
	CHECK_ST(ak_ring_var_reserve_spsc(&v, 16, &p2), AK_ESTATE);
	CHECK(p2 == NULL);
	CHECK_ST(ak_ring_var_commit_spsc(&v, 24), AK_ESTATE); /* longer than reserved */
	fill(p, 10, 1);
	CHECK_ST(ak_ring_var_commit_spsc(&v, 10), AK_OK); /* shorter is fine */
	CHECK_EQ_U64(ak_ring_var_bytes_used(&v), 24);
	CHECK_ST(ak_ring_var_release_spsc(&v), AK_ESTATE);
	CHECK_ST(ak_ring_var_release_spsc(NULL), AK_EINVAL);
	CHECK_ST(ak_ring_var_peek_spsc(&v, NULL, &len), AK_EINVAL);
	CHECK_ST(ak_ring_var_pop_spsc(&v, buf, 4, &len), AK_ERANGE);
	CHECK_EQ_U64(len, 10);
	CHECK_ST(ak_ring_var_pop_spsc(&v, buf, 4, NULL), AK_EINVAL);
	CHECK_ST(ak_ring_var_peek_spsc(&v, &cp, &len), AK_OK); /* still there */
	CHECK_EQ_U64(len, 10);
	CHECK(same(cp, 10, 1));
	CHECK_ST(ak_ring_var_peek_spsc(&v, &cp, &len), AK_OK); /* same record again */
	CHECK_EQ_U64(len, 10);
	CHECK_ST(ak_ring_var_release_spsc(&v), AK_OK);
	CHECK_ST(ak_ring_var_release_spsc(&v), AK_ESTATE);
	CHECK_ST(ak_ring_var_peek_spsc(&v, &cp, &len), AK_EEMPTY);
	CHECK_ST(ak_ring_var_pop_spsc(&v, buf, sizeof buf, &len), AK_EEMPTY);
	CHECK_EQ_U64(ak_ring_var_bytes_used(&v), 0);
}

/*
 * A commit length near SIZE_MAX must not wrap the unit arithmetic into a
 * small record: it is longer than any reservation (AK_ESTATE), the
 * reservation stays pending, and nothing reaches the consumer.
 */
static void test_commit_huge_len(void)
{
	ak_ring_var v;
	void *p = NULL;
	const void *cp = NULL;
	size_t len = 0;

	CHECK_ST(ak_ring_var_init(&v, storage, sizeof storage, 256, 0), AK_OK);
	CHECK_ST(ak_ring_var_reserve_spsc(&v, 16, &p), AK_OK);
	CHECK_ST(ak_ring_var_commit_spsc(&v, SIZE_MAX), AK_ESTATE);
	CHECK_ST(ak_ring_var_commit_spsc(&v, SIZE_MAX - 6), AK_ESTATE);
	CHECK_ST(ak_ring_var_commit_spsc(&v, (size_t)UINT32_MAX + 1), AK_ESTATE);
	CHECK_ST(ak_ring_var_peek_spsc(&v, &cp, &len), AK_EEMPTY);
	CHECK_ST(ak_ring_var_commit_spsc(&v, 17), AK_ESTATE); /* past the reservation */
	fill(p, 16, 5);
	CHECK_ST(ak_ring_var_commit_spsc(&v, 16), AK_OK); /* still ours */
	CHECK_ST(ak_ring_var_peek_spsc(&v, &cp, &len), AK_OK);
	CHECK_EQ_U64(len, 16);
	CHECK(same(cp, 16, 5));
	CHECK_ST(ak_ring_var_release_spsc(&v), AK_OK);
	/* Longer than reserved but within its rounding to 8 bytes: still
	 * longer than reserved. */
	CHECK_ST(ak_ring_var_reserve_spsc(&v, 10, &p), AK_OK);
	CHECK_ST(ak_ring_var_commit_spsc(&v, 16), AK_ESTATE);
	CHECK_ST(ak_ring_var_commit_spsc(&v, 11), AK_ESTATE);
	CHECK_ST(ak_ring_var_commit_spsc(&v, 10), AK_OK);
	CHECK_ST(ak_ring_var_pop_spsc(&v, NULL, 0, &len), AK_ERANGE);
	CHECK_EQ_U64(len, 10);
	CHECK_ST(ak_ring_var_peek_spsc(&v, &cp, &len), AK_OK);
	CHECK_ST(ak_ring_var_release_spsc(&v), AK_OK);
}

/* Padding at the wrap, and a shrinking commit after padding. */
static void test_wrap_padding(void)
{
	ak_ring_var v;
	void *p = NULL;
	const void *cp = NULL;
	size_t len = 0;

	/* 32 units of storage; put the producer at unit 28 */
	CHECK_ST(_ak_ring_init_at(&v.ring, storage, sizeof storage, 32, 8, 0, UINT64_MAX - 3),
		 AK_OK);
	CHECK_EQ_U64(ak_ring_var_max_record(&v), 120);
	/* 3 units fit before the end (at 28..30), one unit remains */
	CHECK_ST(ak_ring_var_push_spsc(&v, "abcdefghijklmno", 16), AK_OK);
	/* 40 bytes need 6 units: pad 1 unit, record at 0 */
	CHECK_ST(ak_ring_var_reserve_spsc(&v, 40, &p), AK_OK);
	CHECK(p == (char *)storage + 8);
	fill(p, 40, 2);
	CHECK_ST(ak_ring_var_commit_spsc(&v, 40), AK_OK);
	CHECK_EQ_U64(ak_ring_var_bytes_used(&v), (3 + 1 + 6) * 8);
	CHECK_ST(ak_ring_var_peek_spsc(&v, &cp, &len), AK_OK);
	CHECK_EQ_U64(len, 16);
	CHECK(memcmp(cp, "abcdefghijklmno", 16) == 0);
	CHECK_ST(ak_ring_var_release_spsc(&v), AK_OK);
	CHECK_ST(ak_ring_var_peek_spsc(&v, &cp, &len), AK_OK);
	CHECK_EQ_U64(len, 40);
	CHECK(cp == (char *)storage + 8);
	CHECK(same(cp, 40, 2));
	CHECK_ST(ak_ring_var_release_spsc(&v), AK_OK);
	CHECK_EQ_U64(ak_ring_var_bytes_used(&v), 0);

	/* Now at unit 6.  Walk to unit 30 (2 units left before the end). */
	CHECK_ST(ak_ring_var_push_spsc(&v, storage + 512, 184), AK_E2BIG);
	for (int i = 0; i < 3; i++) /* 3 x 8 units */
		CHECK_ST(ak_ring_var_push_spsc(&v, (char *)(storage + 512), 56), AK_OK);
	unsigned char tmp[128];
	for (int i = 0; i < 3; i++)
		CHECK_ST(ak_ring_var_pop_spsc(&v, tmp, sizeof tmp, &len), AK_OK);
	/* reserve 24 bytes (4 units) -> padding of 2, then shrink to 8 bytes
	 * (2 units, which would have fit): the payload stays where it is */
	CHECK_ST(ak_ring_var_reserve_spsc(&v, 24, &p), AK_OK);
	CHECK(p == (char *)storage + 8);
	fill(p, 8, 3);
	CHECK_ST(ak_ring_var_commit_spsc(&v, 8), AK_OK);
	CHECK_EQ_U64(ak_ring_var_bytes_used(&v), (2 + 2) * 8);
	CHECK_ST(ak_ring_var_pop_spsc(&v, tmp, sizeof tmp, &len), AK_OK);
	CHECK_EQ_U64(len, 8);
	CHECK(same(tmp, 8, 3));
	CHECK_ST(ak_ring_var_pop_spsc(&v, tmp, sizeof tmp, &len), AK_EEMPTY);
}

/* Random lengths, many laps, from just below 2^64; the ring never holds
 * more than its capacity and every record comes back intact. */
static void test_laps(void)
{
	ak_ring_var v;
	unsigned char in[200], out[200];
	uint64_t pushed = 0, popped = 0, x = 88172645463325252ull;
	int bad = 0;

	CHECK_ST(_ak_ring_init_at(&v.ring, storage, sizeof storage, 61, 8, 0, UINT64_MAX - 100),
		 AK_OK);
	size_t max = ak_ring_var_max_record(&v);
	CHECK_EQ_U64(max, 240);
	for (int step = 0; step < 200000; step++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if ((x & 3) != 0) {
			size_t len = (size_t)((x >> 8) % 200);
			fill(in, len, pushed);
			ak_status st = ak_ring_var_push_spsc(&v, in, len);
			if (st == AK_OK)
				pushed++;
			else if (st != AK_EFULL)
				bad++;
		} else {
			size_t len;
			while (ak_ring_var_pop_spsc(&v, out, sizeof out, &len) == AK_OK) {
				if (!same(out, len, popped))
					bad++;
				popped++;
			}
		}
		if (ak_ring_var_bytes_used(&v) > 61 * 8)
			bad++;
	}
	CHECK_EQ_I64(bad, 0);
	CHECK(pushed > 100000);
	size_t len = 0;
	while (ak_ring_var_pop_spsc(&v, out, sizeof out, &len) == AK_OK)
		popped++;
	CHECK_EQ_U64(popped, pushed);
}

static void test_close_and_wait(void)
{
	ak_ring_var v;
	void *p = NULL;
	size_t len = 0;
	unsigned char buf[64];

	CHECK_ST(ak_ring_var_init(&v, storage, sizeof storage, 128, 0), AK_OK); /* 16 units */
	CHECK_EQ_U64(ak_ring_var_max_record(&v), 56);
	CHECK_ST(ak_ring_var_pop_wait_spsc(&v, buf, sizeof buf, &len, 0, NULL), AK_ETIMEDOUT);
	CHECK_ST(ak_ring_var_pop_wait_spsc(&v, buf, sizeof buf, &len,
					   ak_deadline_after(AK_NS_PER_MS), NULL),
		 AK_ETIMEDOUT);
	memset(buf, 0x5a, sizeof buf);
	CHECK_ST(ak_ring_var_push_wait_spsc(&v, "hello", 5, 0, NULL), AK_OK); /* 2 units */
	CHECK_ST(ak_ring_var_push_spsc(&v, buf, 48), AK_OK);                  /* 7 units */
	CHECK_ST(ak_ring_var_push_spsc(&v, buf, 48), AK_OK);                  /* full */
	CHECK_EQ_U64(ak_ring_var_bytes_used(&v), 128);
	CHECK_ST(ak_ring_var_push_wait_spsc(&v, buf, 8, 0, NULL), AK_ETIMEDOUT);
	CHECK_ST(ak_ring_var_reserve_spsc(&v, 0, &p), AK_EFULL);
	CHECK_ST(ak_ring_var_pop_wait_spsc(&v, buf, sizeof buf, &len, 0, NULL), AK_OK);
	CHECK_EQ_U64(len, 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
	CHECK_ST(ak_ring_var_reserve_spsc(&v, 8, &p), AK_OK); /* before close */
	memcpy(p, "late", 4);
	CHECK_ST(ak_ring_var_close(&v), AK_OK);
	CHECK_ST(ak_ring_var_close(&v), AK_ECLOSED);
	CHECK_ST(ak_ring_var_commit_spsc(&v, 4), AK_OK); /* still delivered */
	CHECK_ST(ak_ring_var_push_spsc(&v, "x", 1), AK_ECLOSED);
	CHECK_ST(ak_ring_var_push_wait_spsc(&v, "x", 1, AK_DEADLINE_NONE, NULL), AK_ECLOSED);
	CHECK_ST(ak_ring_var_pop_spsc(&v, buf, sizeof buf, &len), AK_OK);
	CHECK_EQ_U64(len, 48);
	CHECK_ST(ak_ring_var_pop_spsc(&v, buf, sizeof buf, &len), AK_OK);
	CHECK_EQ_U64(len, 48);
	CHECK_ST(ak_ring_var_pop_wait_spsc(&v, buf, sizeof buf, &len, AK_DEADLINE_NONE, NULL),
		 AK_OK);
	CHECK_EQ_U64(len, 4);
	CHECK(memcmp(buf, "late", 4) == 0);
	CHECK_ST(ak_ring_var_pop_spsc(&v, buf, sizeof buf, &len), AK_ECLOSED);
	CHECK_ST(ak_ring_var_pop_wait_spsc(&v, buf, sizeof buf, &len, AK_DEADLINE_NONE, NULL),
		 AK_ECLOSED);
}

int main(void)
{
	test_init();
	test_misuse();
	test_commit_huge_len();
	test_wrap_padding();
	test_laps();
	test_close_and_wait();
	return check_report("ring_var");
}
