/*
 * Unit tests: ak_ring_seq single-threaded semantics, edge cases, wrap-around,
 * misuse -> status, zero-copy, close, and the blocking forms (with helper
 * threads only where a wake-up is the thing under test).
 */
#include <atomkit/ring_seq.h>
#include <atomkit/clock.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "futex_probe.h"

#if defined(__has_include)
#if __has_include(<atomkit/cancel.h>)
#include <atomkit/cancel.h>
#define HAVE_CANCEL 1
#endif
#endif

/* Typed front end: an odd-sized struct, a one-byte type and an
 * over-aligned one (alignment above the slot's 8 bytes). */
struct odd13 {
	unsigned char b[13];
};
struct wide {
	AK_ALIGNAS(16) uint64_t x;
	uint8_t tail;
};
AK_RING_SEQ_DEFINE(odd_ring, struct odd13);
AK_RING_SEQ_DEFINE(byte_ring, uint8_t);
AK_RING_SEQ_DEFINE(wide_ring, struct wide);

static struct odd13 odd_of(unsigned i)
{
	struct odd13 o;
	for (unsigned j = 0; j < sizeof(o.b); j++)
		o.b[j] = (unsigned char)(i * 31 + j);
	return o;
}

static void test_typed(void)
{
	odd_ring *q = NULL;
	struct odd13 in[6], out[6];
	size_t bytes = 0, done = 0;

	CHECK_EQ_U64(sizeof(struct odd13), 13);
	CHECK_ST(odd_ring_memsize(3, &bytes), AK_OK);
	CHECK_EQ_U64(bytes, sizeof(ak_ring_seq) + 3 * (8 + 16));
	CHECK_ST(odd_ring_memsize(0, &bytes), AK_EINVAL);
	CHECK_ST(odd_ring_new(NULL, 3, 0), AK_EINVAL);
	CHECK_ST(odd_ring_new(&q, 0, 0), AK_EINVAL);
	CHECK(q == NULL);
	CHECK_ST(odd_ring_init(NULL, 4096, 3, 0), AK_EINVAL);
	CHECK_ST(odd_ring_validate(NULL, 0), AK_EINVAL);
	CHECK_ST(odd_ring_new(&q, 3, AK_RING_SEQ_BLOCKING), AK_OK);
	CHECK_ST(odd_ring_validate(q, bytes), AK_OK);
	CHECK_EQ_U64(ak_ring_seq_elem_size(odd_ring_ring(q)), 13);
	CHECK_EQ_U64(odd_ring_capacity(q), 3);
	for (unsigned i = 0; i < 6; i++)
		in[i] = odd_of(i + 1);

	/* one element, every mode; FIFO; full/empty */
	CHECK_ST(odd_ring_push_mpmc(q, in[0]), AK_OK);
	CHECK_ST(odd_ring_push_spsc(q, in[1]), AK_OK);
	CHECK_ST(odd_ring_push_mpsc(q, in[2]), AK_OK);
	CHECK_ST(odd_ring_push_spmc(q, in[3]), AK_EFULL);
	CHECK_EQ_U64(odd_ring_size(q), 3);
	memset(out, 0, sizeof(out));
	CHECK_ST(odd_ring_pop_spmc(q, &out[0]), AK_OK);
	CHECK_ST(odd_ring_pop_mpsc(q, &out[1]), AK_OK);
	CHECK_ST(odd_ring_pop_wait_mpmc(q, &out[2], AK_DEADLINE_NONE, NULL), AK_OK);
	CHECK(memcmp(out, in, 3 * sizeof(in[0])) == 0);
	CHECK_ST(odd_ring_pop_spsc(q, &out[0]), AK_EEMPTY);
	CHECK_ST(odd_ring_pop_wait_mpmc(q, &out[0], ak_now_ns(), NULL), AK_ETIMEDOUT);

	/* bulk, burst and their argument checks */
	CHECK_ST(odd_ring_push_bulk_mpmc(q, in, 0), AK_EINVAL);
	CHECK_ST(odd_ring_push_bulk_mpmc(q, in, 4), AK_E2BIG);
	CHECK_ST(odd_ring_pop_bulk_spsc(q, out, 4), AK_E2BIG);
	CHECK_ST(odd_ring_push_bulk_wait_mpmc(q, in, 4, AK_DEADLINE_NONE, NULL), AK_E2BIG);
	CHECK_ST(odd_ring_push_bulk_spmc(q, in, 2), AK_OK);
	CHECK_ST(odd_ring_push_bulk_mpmc(q, in + 2, 2), AK_EFULL);
	CHECK_ST(odd_ring_push_burst_mpsc(q, in + 2, 4, &done), AK_OK);
	CHECK_EQ_U64(done, 1);
	CHECK_ST(odd_ring_push_burst_mpsc(q, in + 3, 1, &done), AK_EFULL);
	CHECK_EQ_U64(done, 0);
	memset(out, 0, sizeof(out));
	CHECK_ST(odd_ring_pop_bulk_mpmc(q, out, 2), AK_OK);
	CHECK_ST(odd_ring_pop_burst_spmc(q, out + 2, 5, &done), AK_OK);
	CHECK_EQ_U64(done, 1);
	CHECK(memcmp(out, in, 3 * sizeof(in[0])) == 0);
	CHECK_ST(odd_ring_pop_burst_spmc(q, out, 0, &done), AK_EINVAL);
	CHECK_ST(odd_ring_push_bulk_wait_spsc(q, in + 3, 3, AK_DEADLINE_NONE, NULL), AK_OK);
	memset(out, 0, sizeof(out));
	CHECK_ST(odd_ring_pop_bulk_wait_mpsc(q, out, 3, AK_DEADLINE_NONE, NULL), AK_OK);
	CHECK(memcmp(out, in + 3, 3 * sizeof(in[0])) == 0);
	CHECK_ST(odd_ring_push_wait_spmc(q, in[5], AK_DEADLINE_NONE, NULL), AK_OK);
	CHECK_ST(odd_ring_close(q), AK_OK);
	CHECK_ST(odd_ring_push_mpmc(q, in[0]), AK_ECLOSED);
	CHECK_ST(odd_ring_pop_mpmc(q, &out[0]), AK_OK);
	CHECK(memcmp(&out[0], &in[5], sizeof(in[0])) == 0);
	CHECK_ST(odd_ring_pop_wait_spsc(q, &out[0], AK_DEADLINE_NONE, NULL), AK_ECLOSED);
	odd_ring_delete(q);

	/* a ring built for another element size is not a valid odd_ring */
	ak_ring_seq *u = NULL;
	CHECK_ST(ak_ring_seq_new(&u, 3, 12, 0), AK_OK);
	CHECK_ST(odd_ring_validate((odd_ring *)(void *)u, 0), AK_EINVAL);
	ak_ring_seq_delete(u);

	/* one-byte elements in caller memory, three laps over capacity 1 */
	static AK_ALIGNAS(AK_RING_SEQ_ALIGN) unsigned char mem[sizeof(ak_ring_seq) + 16];
	byte_ring *b = (byte_ring *)(void *)mem;
	uint8_t c = 0;
	CHECK_ST(byte_ring_memsize(1, &bytes), AK_OK);
	CHECK_EQ_U64(bytes, sizeof(mem));
	CHECK_ST(byte_ring_init(b, bytes - 1, 1, 0), AK_ERANGE);
	CHECK_ST(byte_ring_init(b, bytes, 1, 0), AK_OK);
	CHECK_ST(byte_ring_validate(b, bytes), AK_OK);
	for (unsigned i = 0; i < 3; i++) {
		CHECK_ST(byte_ring_push_spsc(b, (uint8_t)(0xF0 + i)), AK_OK);
		CHECK_ST(byte_ring_push_spsc(b, 1), AK_EFULL);
		CHECK_ST(byte_ring_pop_spsc(b, &c), AK_OK);
		CHECK_EQ_U64(c, 0xF0 + i);
	}

	/* alignment 16 > the slot's 8: copied, never dereferenced in place */
	wide_ring *w = NULL;
	struct wide wv, wo;
	memset(&wv, 0, sizeof(wv));
	wv.x = UINT64_C(0x0123456789abcdef);
	wv.tail = 0x5a;
	CHECK_ST(wide_ring_new(&w, 2, 0), AK_OK);
	CHECK_ST(wide_ring_push_mpmc(w, wv), AK_OK);
	memset(&wo, 0, sizeof(wo));
	CHECK_ST(wide_ring_pop_mpmc(w, &wo), AK_OK);
	CHECK(wo.x == wv.x && wo.tail == 0x5a);
	wide_ring_delete(w);
}

static ak_ring_seq *make(size_t cap, size_t esz, unsigned flags)
{
	ak_ring_seq *r = NULL;
	ak_status st = ak_ring_seq_new(&r, cap, esz, flags);
	CHECK_ST(st, AK_OK);
	return r;
}

static void test_setup_errors(void)
{
	size_t bytes = 1;
	ak_ring_seq *r = NULL;
	void *mem = aligned_alloc(AK_RING_SEQ_ALIGN, 4096);
	void *slots = aligned_alloc(AK_RING_SEQ_ALIGN, 4096);

	CHECK_ST(ak_ring_seq_memsize(0, 8, &bytes), AK_EINVAL);
	CHECK_EQ_U64(bytes, 0);
	CHECK_ST(ak_ring_seq_memsize(4, 0, &bytes), AK_EINVAL);
	CHECK_ST(ak_ring_seq_memsize(4, 8, NULL), AK_EINVAL);
	CHECK_ST(ak_ring_seq_memsize((size_t)AK_RING_SEQ_MAX_CAP + 1, 8, &bytes), AK_E2BIG);
	CHECK_ST(ak_ring_seq_memsize(4, AK_RING_SEQ_MAX_ELEM + 1, &bytes), AK_E2BIG);
	CHECK_ST(ak_ring_seq_memsize(4, 8, &bytes), AK_OK);
	CHECK_EQ_U64(bytes, sizeof(ak_ring_seq) + 4 * 16);
	CHECK_ST(ak_ring_seq_memsize(3, 1, &bytes), AK_OK);
	CHECK_EQ_U64(bytes, sizeof(ak_ring_seq) + 3 * 16);
	CHECK_ST(ak_ring_seq_memsize(2, 9, &bytes), AK_OK);
	CHECK_EQ_U64(bytes, sizeof(ak_ring_seq) + 2 * 24);
	CHECK_ST(ak_ring_seq_slots_size(2, 9, &bytes), AK_OK);
	CHECK_EQ_U64(bytes, 2 * 24);
	CHECK_ST(ak_ring_seq_slots_size(0, 9, &bytes), AK_EINVAL);

	CHECK_ST(ak_ring_seq_init(NULL, 4096, 4, 8, 0), AK_EINVAL);
	CHECK_ST(ak_ring_seq_init((ak_ring_seq *)mem, 4096, 0, 8, 0), AK_EINVAL);
	CHECK_ST(ak_ring_seq_init((ak_ring_seq *)mem, 4096, 4, 0, 0), AK_EINVAL);
	CHECK_ST(ak_ring_seq_init((ak_ring_seq *)mem, 4096, 4, 8, 0x80), AK_EINVAL);
	CHECK_ST(ak_ring_seq_init((ak_ring_seq *)mem, sizeof(ak_ring_seq) + 63, 4, 8, 0), AK_ERANGE);
	CHECK_ST(ak_ring_seq_init((ak_ring_seq *)((char *)mem + 64), 4000, 4, 8, 0), AK_EINVAL);
	CHECK_ST(ak_ring_seq_init((ak_ring_seq *)mem, 4096, 4, 8, 0), AK_OK);
	CHECK_ST(ak_ring_seq_validate((ak_ring_seq *)mem, 4096), AK_OK);
	CHECK_ST(ak_ring_seq_validate((ak_ring_seq *)mem, 0), AK_OK);
	CHECK_ST(ak_ring_seq_validate((ak_ring_seq *)mem, sizeof(ak_ring_seq) + 10), AK_EINVAL);
	CHECK_ST(ak_ring_seq_validate(NULL, 0), AK_EINVAL);
	((ak_ring_seq *)mem)->magic ^= 1;
	CHECK_ST(ak_ring_seq_validate((ak_ring_seq *)mem, 4096), AK_EINVAL);

	CHECK_ST(ak_ring_seq_init_split((ak_ring_seq *)mem, NULL, 4096, 4, 8, 0), AK_EINVAL);
	CHECK_ST(ak_ring_seq_init_split((ak_ring_seq *)mem, (char *)slots + 8, 4000, 4, 8, 0),
		 AK_EINVAL);
	CHECK_ST(ak_ring_seq_init_split((ak_ring_seq *)mem, slots, 63, 4, 8, 0), AK_ERANGE);
	/* slots overlapping the control block: they are it, start inside it,
	 * end inside it, enclose it (mem is 4096 bytes, the ring 1024 in) */
	{
		const size_t rsz = sizeof(ak_ring_seq);
		char *m = (char *)mem;
		ak_ring_seq *in = (ak_ring_seq *)(void *)(m + 1024);
		CHECK(rsz >= 2 * AK_RING_SEQ_ALIGN && 1024 + rsz + 256 <= 4096);
		CHECK_ST(ak_ring_seq_init_split(in, m + 1024, 256, 16, 8, 0), AK_EINVAL);
		CHECK_ST(ak_ring_seq_init_split(in, m + 1024 + AK_RING_SEQ_ALIGN, 256, 16, 8, 0),
			 AK_EINVAL);
		CHECK_ST(ak_ring_seq_init_split(in, m + 1024 - AK_RING_SEQ_ALIGN, 256, 16, 8, 0),
			 AK_EINVAL);
		CHECK_ST(ak_ring_seq_init_split(in, m + 1024 - 256, rsz + 512, 64, 8, 0),
			 AK_EINVAL);
		CHECK_ST(_ak_ring_seq_init_at(in, m + 1024, 256, 16, 8, 0, UINT64_C(1) << 62),
			 AK_EINVAL);
		/* adjacent on either side is fine */
		CHECK_ST(ak_ring_seq_init_split(in, m + 1024 - 256, 256, 16, 8, 0), AK_OK);
		CHECK_ST(ak_ring_seq_init_split(in, m + 1024 + rsz, 256, 16, 8, 0), AK_OK);
		uint64_t w = 0;
		CHECK_ST(ak_ring_seq_push64_mpmc(in, 9), AK_OK);
		CHECK_ST(ak_ring_seq_pop64_mpmc(in, &w), AK_OK);
		CHECK_EQ_U64(w, 9);
	}
	CHECK_ST(ak_ring_seq_init_split((ak_ring_seq *)mem, slots, 64, 4, 8, 0), AK_OK);
	/* split storage works like the one-block layout */
	CHECK_ST(ak_ring_seq_push64_mpmc((ak_ring_seq *)mem, 7), AK_OK);
	uint64_t v = 0;
	CHECK_ST(ak_ring_seq_pop64_mpmc((ak_ring_seq *)mem, &v), AK_OK);
	CHECK_EQ_U64(v, 7);

	/* a non-power-of-two capacity may not start near the position wrap */
	CHECK_ST(_ak_ring_seq_init_at((ak_ring_seq *)mem, slots, 4096, 3, 8, 0, UINT64_MAX >> 1),
		 AK_ERANGE);
	CHECK_ST(_ak_ring_seq_init_at((ak_ring_seq *)mem, slots, 4096, 3, 8, 0, UINT64_C(1) << 62),
		 AK_OK);

	CHECK_ST(ak_ring_seq_new(NULL, 4, 8, 0), AK_EINVAL);
	CHECK_ST(ak_ring_seq_new(&r, 0, 8, 0), AK_EINVAL);
	CHECK(r == NULL);
	CHECK_ST(ak_ring_seq_close(NULL), AK_EINVAL);
	free(mem);
	free(slots);
}

/* Fill to exactly cap, refuse one more, drain in order, refuse one more. */
static void fill_drain(size_t cap, size_t esz, uint64_t start)
{
	size_t bytes;
	ak_ring_seq *r;
	void *slots;
	unsigned char in[256], out[256];
	ak_ring_seq_ref ref;

	CHECK_ST(ak_ring_seq_slots_size(cap, esz, &bytes), AK_OK);
	r = (ak_ring_seq *)aligned_alloc(AK_RING_SEQ_ALIGN, sizeof(ak_ring_seq));
	slots = aligned_alloc(AK_RING_SEQ_ALIGN, (bytes + 127) & ~(size_t)127);
	CHECK_ST(_ak_ring_seq_init_at(r, slots, bytes, cap, esz, 0, start), AK_OK);
	for (int lap = 0; lap < 3; lap++) {
		for (size_t i = 0; i < cap; i++) {
			memset(in, (int)(i + lap * 7) & 0xff, esz);
			CHECK_ST(ak_ring_seq_push_mpmc(r, in), AK_OK);
			CHECK_EQ_U64(ak_ring_seq_size(r), i + 1);
		}
		CHECK(ak_ring_seq_full(r));
		CHECK_ST(ak_ring_seq_push_mpmc(r, in), AK_EFULL);
		CHECK_ST(ak_ring_seq_push_spsc(r, in), AK_EFULL);
		CHECK_ST(ak_ring_seq_reserve_mpsc(r, &ref), AK_EFULL);
		CHECK(ref.ptr == NULL);
		for (size_t i = 0; i < cap; i++) {
			memset(out, 0xEE, sizeof(out));
			CHECK_ST((lap & 1) ? ak_ring_seq_pop_spsc(r, out) : ak_ring_seq_pop_mpmc(r, out),
				 AK_OK);
			CHECK(out[0] == ((i + lap * 7) & 0xff) && out[esz - 1] == out[0]);
			CHECK(esz == sizeof(out) || out[esz] == 0xEE); /* no overrun */
		}
		CHECK(ak_ring_seq_empty(r));
		CHECK_ST(ak_ring_seq_pop_mpmc(r, out), AK_EEMPTY);
		CHECK_ST(ak_ring_seq_pop_spmc(r, out), AK_EEMPTY);
		CHECK_ST(ak_ring_seq_peek_mpsc(r, &ref), AK_EEMPTY);
	}
	free(slots);
	free(r);
}

static void test_capacity_and_sizes(void)
{
	static const size_t caps[] = { 1, 2, 3, 5, 8, 100, 1024 };
	static const size_t sizes[] = { 1, 3, 8, 9, 17, 64, 100, 256 };
	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++)
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
			fill_drain(caps[c], sizes[s], 0);
	/* large capacity */
	fill_drain(1u << 16, 8, 0);
	fill_drain(100000, 4, 0);
}

static void test_wrap(void)
{
	/* tickets (2 * position) start just below 2^64 and wrap during the run */
	const uint64_t near = (UINT64_C(1) << 63) - 5;
	fill_drain(1, 8, near);
	fill_drain(2, 8, near);
	fill_drain(8, 16, near);
	fill_drain(4, 3, near - 2);
	/* non-power-of-two: as far up as allowed */
	fill_drain(3, 8, (UINT64_C(1) << 63) - (UINT64_C(1) << 32));

	/* interleaved push/pop across the wrap keeps FIFO and size exact */
	size_t bytes;
	ak_ring_seq_slots_size(4, 8, &bytes);
	ak_ring_seq *r = (ak_ring_seq *)aligned_alloc(AK_RING_SEQ_ALIGN, sizeof(ak_ring_seq));
	void *slots = aligned_alloc(AK_RING_SEQ_ALIGN, 128);
	CHECK_ST(_ak_ring_seq_init_at(r, slots, bytes, 4, 8, 0, (UINT64_C(1) << 63) - 3), AK_OK);
	uint64_t next_in = 0, next_out = 0, bad = 0;
	for (int i = 0; i < 40; i++) {
		for (int j = 0; j < 3; j++)
			if (ak_ring_seq_push64_mpmc(r, next_in) == AK_OK)
				next_in++;
		uint64_t v;
		for (int j = 0; j < 2; j++)
			if (ak_ring_seq_pop64_mpmc(r, &v) == AK_OK && v != next_out++)
				bad++;
		if (ak_ring_seq_size(r) != next_in - next_out)
			bad++;
	}
	CHECK_EQ_U64(bad, 0);
	CHECK(next_in > 40);
	free(slots);
	free(r);
}

static void test_fast_path_and_args(void)
{
	ak_ring_seq *r = make(4, 4, 0);
	uint32_t x = 5;
	uint64_t v = 0;
	CHECK_ST(ak_ring_seq_push64_mpmc(r, 1), AK_EINVAL);
	CHECK_ST(ak_ring_seq_pop64_spsc(r, &v), AK_EINVAL);
	CHECK_EQ_U64(ak_ring_seq_size(r), 0);
	CHECK_ST(ak_ring_seq_push_mpsc(r, &x), AK_OK);
	CHECK_EQ_U64(ak_ring_seq_capacity(r), 4);
	CHECK_EQ_U64(ak_ring_seq_elem_size(r), 4);
	ak_ring_seq_delete(r);

	r = make(4, 8, 0);
	uint64_t buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, got[8] = { 0 };
	size_t done = 99;
	CHECK_ST(ak_ring_seq_push_bulk_mpmc(r, buf, 0), AK_EINVAL);
	CHECK_ST(ak_ring_seq_push_bulk_mpmc(r, buf, 5), AK_E2BIG);
	CHECK_ST(ak_ring_seq_pop_bulk_mpmc(r, got, 0), AK_EINVAL);
	CHECK_ST(ak_ring_seq_pop_bulk_spsc(r, got, 5), AK_E2BIG);
	CHECK_ST(ak_ring_seq_push_burst_mpmc(r, buf, 0, &done), AK_EINVAL);
	CHECK_EQ_U64(done, 0);
	CHECK_ST(ak_ring_seq_pop_burst_mpmc(r, got, 0, &done), AK_EINVAL);
	CHECK_EQ_U64(ak_ring_seq_size(r), 0);

	/* bulk: all or nothing */
	CHECK_ST(ak_ring_seq_push_bulk_mpmc(r, buf, 3), AK_OK);
	CHECK_ST(ak_ring_seq_push_bulk_spmc(r, buf + 3, 2), AK_EFULL);
	CHECK_EQ_U64(ak_ring_seq_size(r), 3);
	CHECK_ST(ak_ring_seq_pop_bulk_mpmc(r, got, 4), AK_EEMPTY);
	CHECK_EQ_U64(ak_ring_seq_size(r), 3);
	CHECK_ST(ak_ring_seq_pop_bulk_mpsc(r, got, 2), AK_OK);
	CHECK(got[0] == 1 && got[1] == 2);
	/* burst: as many as fit, clamped at capacity */
	CHECK_ST(ak_ring_seq_push_burst_mpmc(r, buf + 3, 5, &done), AK_OK);
	CHECK_EQ_U64(done, 3);
	CHECK_ST(ak_ring_seq_push_burst_mpmc(r, buf, 8, &done), AK_EFULL);
	CHECK_EQ_U64(done, 0);
	CHECK_ST(ak_ring_seq_pop_burst_spmc(r, got, 8, &done), AK_OK);
	CHECK_EQ_U64(done, 4);
	CHECK(got[0] == 3 && got[1] == 4 && got[2] == 5 && got[3] == 6);
	CHECK_ST(ak_ring_seq_pop_burst_spsc(r, got, 8, &done), AK_EEMPTY);
	CHECK_EQ_U64(done, 0);
	ak_ring_seq_delete(r);
}

/* A blocking ring whose operations never have to wait makes no system
 * call: the notify is a fence and two loads. */
static void test_no_syscalls_without_sleepers(void)
{
	ak_ring_seq *r = make(4, 8, AK_RING_SEQ_BLOCKING);
	uint64_t buf[4] = { 1, 2, 3, 4 }, v;
	size_t done;
	for (int lap = 0; lap < 100; lap++) {
		CHECK_ST(ak_ring_seq_push_bulk_mpmc(r, buf, 3), AK_OK);
		CHECK_ST(ak_ring_seq_push_wait_mpmc(r, &buf[3], AK_DEADLINE_NONE, NULL), AK_OK);
		CHECK_ST(ak_ring_seq_pop_wait_spsc(r, &v, AK_DEADLINE_NONE, NULL), AK_OK);
		CHECK_ST(ak_ring_seq_pop_burst_mpmc(r, buf, 4, &done), AK_OK);
	}
	CHECK_EQ_U64(ak_ring_seq_syscalls(r), 0);
	/* a wait that has to sleep (here: until its deadline) does make one */
	CHECK_ST(ak_ring_seq_pop_wait_mpmc(r, &v, ak_now_ns(), NULL), AK_ETIMEDOUT);
	CHECK(ak_ring_seq_syscalls(r) >= 1);
	ak_ring_seq_delete(r);
}

static void test_zero_copy_and_inflight(void)
{
	ak_ring_seq *r = make(2, 8, 0);
	ak_ring_seq_ref a, b, c;
	uint64_t v = 0;

	CHECK_ST(ak_ring_seq_reserve_mpmc(r, &a), AK_OK);
	CHECK(a.ptr != NULL);
	/* claimed but not committed: the ring is not empty, the element is
	 * just not ready: a consumer gets AK_EAGAIN, not AK_EEMPTY */
	CHECK_EQ_U64(ak_ring_seq_size(r), 1);
	CHECK_ST(ak_ring_seq_pop64_mpmc(r, &v), AK_EAGAIN);
	CHECK_ST(ak_ring_seq_push64_mpmc(r, 22), AK_OK);
	/* the second element is ready but FIFO forbids overtaking */
	CHECK_ST(ak_ring_seq_pop64_mpmc(r, &v), AK_EAGAIN);
	CHECK_ST(ak_ring_seq_push64_mpmc(r, 33), AK_EFULL);
	memcpy(a.ptr, &(uint64_t){ 11 }, 8);
	ak_ring_seq_commit(r, &a);
	CHECK_ST(ak_ring_seq_peek_mpmc(r, &b), AK_OK);
	CHECK(b.ptr && *(uint64_t *)b.ptr == 11);
	CHECK_EQ_U64(ak_ring_seq_size(r), 1);
	/* the peeked slot is not released: a producer one lap later sees a
	 * consumer in flight (not a full ring) */
	CHECK_ST(ak_ring_seq_push64_mpmc(r, 44), AK_EAGAIN);
	CHECK_ST(ak_ring_seq_peek_spmc(r, &c), AK_OK);
	CHECK(c.ptr && *(uint64_t *)c.ptr == 22);
	ak_ring_seq_release(r, &c);
	/* out-of-order release: slot of b is still held */
	CHECK_ST(ak_ring_seq_push64_mpmc(r, 44), AK_EAGAIN);
	ak_ring_seq_release(r, &b);
	CHECK_ST(ak_ring_seq_push64_mpmc(r, 44), AK_OK);
	CHECK_ST(ak_ring_seq_push64_mpmc(r, 55), AK_OK);
	CHECK_ST(ak_ring_seq_pop64_mpsc(r, &v), AK_OK);
	CHECK_EQ_U64(v, 44);
	CHECK_ST(ak_ring_seq_pop64_mpsc(r, &v), AK_OK);
	CHECK_EQ_U64(v, 55);
	ak_ring_seq_delete(r);
}

static void test_close(void)
{
	ak_ring_seq *r = make(4, 8, 0);
	uint64_t got[4] = { 0 }, v = 0;
	size_t done;

	CHECK(!ak_ring_seq_is_closed(r));
	CHECK_ST(ak_ring_seq_push64_mpmc(r, 1), AK_OK);
	CHECK_ST(ak_ring_seq_push64_mpmc(r, 2), AK_OK);
	CHECK_ST(ak_ring_seq_close(r), AK_OK);
	CHECK_ST(ak_ring_seq_close(r), AK_ECLOSED);
	CHECK(ak_ring_seq_is_closed(r));
	CHECK_ST(ak_ring_seq_push64_mpmc(r, 3), AK_ECLOSED);
	CHECK_ST(ak_ring_seq_push_bulk_mpmc(r, got, 1), AK_ECLOSED);
	CHECK_ST(ak_ring_seq_push_burst_spsc(r, got, 1, &done), AK_ECLOSED);
	CHECK_EQ_U64(ak_ring_seq_size(r), 2);
	/* a bulk pop that can never be satisfied says so and takes nothing */
	CHECK_ST(ak_ring_seq_pop_bulk_mpmc(r, got, 3), AK_ECLOSED);
	CHECK_EQ_U64(ak_ring_seq_size(r), 2);
	CHECK_ST(ak_ring_seq_pop64_mpmc(r, &v), AK_OK);
	CHECK_EQ_U64(v, 1);
	CHECK_ST(ak_ring_seq_pop_burst_mpmc(r, got, 4, &done), AK_OK);
	CHECK_EQ_U64(done, 1);
	CHECK_EQ_U64(got[0], 2);
	CHECK_ST(ak_ring_seq_pop64_mpmc(r, &v), AK_ECLOSED);
	CHECK_ST(ak_ring_seq_pop64_spsc(r, &v), AK_ECLOSED);
	CHECK_ST(ak_ring_seq_pop_wait_mpmc(r, &v, AK_DEADLINE_NONE, NULL), AK_ESTATE);
	ak_ring_seq_delete(r);
}

/* ---- blocking ------------------------------------------------------------ */

struct waiter {
	ak_ring_seq *r;
	int pop; /* 1: pop_wait, 0: push_wait */
	uint64_t value;
	void *cancel;
	ak_status st;
	_Atomic(int) started;
};

static void *waiter_main(void *p)
{
	struct waiter *w = (struct waiter *)p;
	uint64_t deadline = ak_deadline_after(20 * AK_NS_PER_SEC); /* bound only */
	/* Release: pairs with the acquire spin in start_waiter(). */
	atomic_store_explicit(&w->started, 1, memory_order_release);
	if (w->pop)
		w->st = ak_ring_seq_pop_wait_mpmc(w->r, &w->value, deadline,
						  (struct ak_cancel *)w->cancel);
	else
		w->st = ak_ring_seq_push_wait_mpmc(w->r, &w->value, deadline,
						   (struct ak_cancel *)w->cancel);
	return NULL;
}

static pthread_t start_waiter(struct waiter *w)
{
	pthread_t tid;
	pthread_create(&tid, NULL, waiter_main, w);
	/* Acquire: pairs with the release store in waiter_main(). */
	while (!atomic_load_explicit(&w->started, memory_order_acquire))
		usleep(100);
	/* give it time to reach its futex sleep; correctness does not depend
	 * on it (it may also still be spinning) */
	usleep(20000);
	return tid;
}

static void test_blocking(void)
{
	ak_ring_seq *r = make(1, 8, AK_RING_SEQ_BLOCKING);
	uint64_t v = 0;
	struct waiter w;
	pthread_t tid;

	/* deadlines */
	CHECK_ST(ak_ring_seq_pop_wait_mpmc(r, &v, ak_now_ns(), NULL), AK_ETIMEDOUT);
	CHECK_ST(ak_ring_seq_pop_wait_spsc(r, &v, ak_deadline_after(AK_NS_PER_MS), NULL),
		 AK_ETIMEDOUT);
	CHECK_ST(ak_ring_seq_push64_mpmc(r, 9), AK_OK);
	CHECK_ST(ak_ring_seq_push_wait_mpmc(r, &v, ak_deadline_after(AK_NS_PER_MS), NULL),
		 AK_ETIMEDOUT);
	CHECK_ST(ak_ring_seq_push_bulk_wait_mpmc(r, &v, 2, AK_DEADLINE_NONE, NULL), AK_E2BIG);
	CHECK_ST(ak_ring_seq_pop_wait_mpmc(r, &v, ak_now_ns(), NULL), AK_OK); /* ready: no wait */
	CHECK_EQ_U64(v, 9);

	/* a sleeping consumer wakes on push */
	memset(&w, 0, sizeof(w));
	w.r = r;
	w.pop = 1;
	tid = start_waiter(&w);
	CHECK_ST(ak_ring_seq_push64_mpmc(r, 77), AK_OK);
	pthread_join(tid, NULL);
	CHECK_ST(w.st, AK_OK);
	CHECK_EQ_U64(w.value, 77);

	/* a sleeping producer wakes on pop */
	CHECK_ST(ak_ring_seq_push64_mpmc(r, 1), AK_OK);
	memset(&w, 0, sizeof(w));
	w.r = r;
	w.value = 2;
	tid = start_waiter(&w);
	CHECK_ST(ak_ring_seq_pop64_mpmc(r, &v), AK_OK);
	CHECK_EQ_U64(v, 1);
	pthread_join(tid, NULL);
	CHECK_ST(w.st, AK_OK);
	CHECK_ST(ak_ring_seq_pop64_mpmc(r, &v), AK_OK);
	CHECK_EQ_U64(v, 2);

	/* a sleeping consumer wakes on close with AK_ECLOSED */
	memset(&w, 0, sizeof(w));
	w.r = r;
	w.pop = 1;
	tid = start_waiter(&w);
	CHECK_ST(ak_ring_seq_close(r), AK_OK);
	pthread_join(tid, NULL);
	CHECK_ST(w.st, AK_ECLOSED);
	ak_ring_seq_delete(r);

	/* a sleeping producer wakes on close with AK_ECLOSED, and the element
	 * already in the ring is still delivered */
	r = make(1, 8, AK_RING_SEQ_BLOCKING);
	CHECK_ST(ak_ring_seq_push64_mpmc(r, 5), AK_OK);
	memset(&w, 0, sizeof(w));
	w.r = r;
	tid = start_waiter(&w);
	CHECK_ST(ak_ring_seq_close(r), AK_OK);
	pthread_join(tid, NULL);
	CHECK_ST(w.st, AK_ECLOSED);
	CHECK_ST(ak_ring_seq_pop_wait_mpmc(r, &v, AK_DEADLINE_NONE, NULL), AK_OK);
	CHECK_EQ_U64(v, 5);
	CHECK_ST(ak_ring_seq_pop_wait_mpmc(r, &v, AK_DEADLINE_NONE, NULL), AK_ECLOSED);
	ak_ring_seq_delete(r);

#ifdef HAVE_CANCEL
	/* cancel wakes a sleeper with AK_ECANCELED; an op that can complete
	 * completes even when the token is already set */
	ak_cancel tok;
	r = make(2, 8, AK_RING_SEQ_BLOCKING);
	CHECK_ST(ak_cancel_init(&tok), AK_OK);
	memset(&w, 0, sizeof(w));
	w.r = r;
	w.pop = 1;
	w.cancel = &tok;
	tid = start_waiter(&w);
	CHECK(ak_cancel_request(&tok, 1));
	pthread_join(tid, NULL);
	CHECK_ST(w.st, AK_ECANCELED);
	CHECK_ST(ak_ring_seq_push_wait_mpmc(r, &v, AK_DEADLINE_NONE, &tok), AK_OK);
	CHECK_ST(ak_ring_seq_pop_wait_mpmc(r, &v, AK_DEADLINE_NONE, &tok), AK_OK);
	CHECK_ST(ak_ring_seq_pop_wait_mpmc(r, &v, AK_DEADLINE_NONE, &tok), AK_ECANCELED);
	CHECK_ST(ak_cancel_destroy(&tok), AK_OK);
	ak_ring_seq_delete(r);
#endif
}

/*
 * The lost-wake-up window, made deterministic: the library calls
 * _ak_ring_seq_test_window() in a waiter right before it registers, and
 * the hook makes the element (or the free slot) appear right there, from
 * the waiter's own thread, so the notify finds no registered waiter.  Only
 * the waiter's re-check after registering can see it; a waiter that skipped
 * it would sleep for ever (bounded here by STALL_S, then rescued by a close
 * and reported).
 */
extern void (*_ak_ring_seq_test_window)(ak_ring_seq *r);
#define STALL_S 10
static _Atomic(int) window_fired;

static void in_window(ak_ring_seq *r)
{
	uint64_t v;
	if (atomic_exchange_explicit(&window_fired, 1, memory_order_relaxed))
		return;
	if (ak_ring_seq_size(r) == 0)
		CHECK_ST(ak_ring_seq_push64_mpmc(r, 99), AK_OK); /* the waiter pops */
	else
		CHECK_ST(ak_ring_seq_pop64_mpmc(r, &v), AK_OK);  /* the waiter pushes */
}

/* A thread in pop_wait/push_wait on r (mode mpmc): it publishes its id
 * (for blocked_on()) before the call and `done` after it. */
struct sleeper {
	ak_ring_seq *r;
	int pop;
	uint64_t v;
	ak_status st;
	_Atomic(long) tid;
	_Atomic(int) done;
};

/* A blocking 8-slot ring and a sleeper for it: a popper finds it empty, a
 * pusher finds it full (filled here). */
static ak_ring_seq *sleeper_setup(struct sleeper *w, int pop)
{
	ak_ring_seq *r = make(8, 8, AK_RING_SEQ_BLOCKING);

	memset(w, 0, sizeof(*w));
	w->r = r;
	w->pop = pop;
	w->v = 1000;
	if (!pop)
		for (uint64_t i = 0; i < 8; i++)
			CHECK_ST(ak_ring_seq_push64_mpmc(r, i), AK_OK);
	return r;
}

static void *sleeper_main(void *p)
{
	struct sleeper *w = (struct sleeper *)p;
	futex_probe_self(&w->tid);
	w->st = w->pop ? ak_ring_seq_pop_wait_mpmc(w->r, &w->v, AK_DEADLINE_NONE, NULL)
		       : ak_ring_seq_push_wait_mpmc(w->r, &w->v, AK_DEADLINE_NONE, NULL);
	/* Release: pairs with the acquire loads of `done` in test_recheck_window(). */
	atomic_store_explicit(&w->done, 1, memory_order_release);
	return NULL;
}

static void test_recheck_window(void)
{
	for (int pop = 1; pop >= 0; pop--) {
		struct sleeper w;
		pthread_t tid;
		memset(&w, 0, sizeof(w));
		w.r = make(1, 8, AK_RING_SEQ_BLOCKING);
		w.pop = pop;
		w.v = 7;
		if (!pop)
			CHECK_ST(ak_ring_seq_push64_mpmc(w.r, 5), AK_OK); /* full */
		atomic_store_explicit(&window_fired, 0, memory_order_relaxed);
		_ak_ring_seq_test_window = in_window;
		pthread_create(&tid, NULL, sleeper_main, &w);
		uint64_t bound = ak_deadline_after((uint64_t)STALL_S * AK_NS_PER_SEC);
		/* Acquire: pairs with the release store in sleeper_main(). */
		while (!atomic_load_explicit(&w.done, memory_order_acquire) && ak_now_ns() < bound)
			usleep(1000);
		int stalled = !atomic_load_explicit(&w.done, memory_order_acquire);
		CHECK(!stalled); /* else: the waiter slept through the change (no re-check) */
		if (stalled)
			ak_ring_seq_close(w.r);
		pthread_join(tid, NULL);
		_ak_ring_seq_test_window = NULL;
		CHECK(atomic_load_explicit(&window_fired, memory_order_relaxed));
		CHECK_ST(w.st, AK_OK);
		uint64_t v = 0;
		if (pop) {
			CHECK_EQ_U64(w.v, 99);
		} else {
			CHECK_ST(ak_ring_seq_pop64_mpmc(w.r, &v), AK_OK);
			CHECK_EQ_U64(v, 7);
		}
		ak_ring_seq_delete(w.r);
	}
}

/*
 * Each sleep costs one futex wait and at most one wake: the waker takes the
 * thread it woke out of the waiter count, so notifies made while that
 * thread has not run yet see no waiter.  Scripted: the sleeper is seen
 * blocked in the kernel on the event's futex word (/proc/self/task/<tid>/
 * syscall), one push (pop) wakes it, the test hook _ak_ring_seq_test_woken
 * then holds it right after its wait returned (a woken thread that has not
 * run yet, on demand), and five more pushes (pops) must make no system
 * call.  The previous accounting (-D_AK_RING_SEQ_BROKEN=4) makes 7, not 2.
 */
extern void (*_ak_ring_seq_test_woken)(ak_ring_seq *r);
static _Atomic(int) woken_parked, woken_go;

static void park_woken(ak_ring_seq *r)
{
	(void)r;
	/* Release/acquire: pair with the loads/store in test_one_wake_per_sleep(),
	 * which only sequence the script (the counts are read after join). */
	atomic_fetch_add_explicit(&woken_parked, 1, memory_order_release);
	while (!atomic_load_explicit(&woken_go, memory_order_acquire))
		usleep(100);
}

/* Wait (up to STALL_S) until thread w is blocked in futex() on `word`. */
static int blocked_on(struct sleeper *w, const void *word)
{
	return futex_probe_wait(&w->tid, word, STALL_S);
}

static void test_one_wake_per_sleep(void)
{
	for (int pop = 1; pop >= 0; pop--) {
		struct sleeper w;
		ak_ring_seq *r = sleeper_setup(&w, pop);
		struct _ak_event *ev = pop ? &r->items[0] : &r->space[0];
		pthread_t t;
		uint64_t v = 0;
		atomic_store_explicit(&woken_parked, 0, memory_order_relaxed);
		atomic_store_explicit(&woken_go, 0, memory_order_relaxed);
		_ak_ring_seq_test_woken = park_woken;
		pthread_create(&t, NULL, sleeper_main, &w);
		int asleep = blocked_on(&w, &ev->seq);
		CHECK(asleep);
		CHECK_EQ_U64(ak_ring_seq_syscalls(r), 0);
		/* the wake: one call */
		if (pop)
			CHECK_ST(ak_ring_seq_push64_mpmc(r, 0), AK_OK);
		else
			CHECK_ST(ak_ring_seq_pop64_mpmc(r, &v), AK_OK);
		/* Acquire: pairs with the release store in park_woken(). */
		while (asleep && !atomic_load_explicit(&woken_parked, memory_order_acquire))
			usleep(100);
		CHECK_EQ_U64(ak_ring_seq_syscalls(r), asleep ? 2 : 0); /* the wake, its wait */
		/* woken, not yet run: these see no waiter */
		for (uint64_t i = 1; i <= 5; i++) {
			if (pop)
				CHECK_ST(ak_ring_seq_push64_mpmc(r, i), AK_OK);
			else
				CHECK_ST(ak_ring_seq_pop64_mpmc(r, &v), AK_OK);
		}
		CHECK_EQ_U64(ak_ring_seq_syscalls(r), asleep ? 2 : 0);
		if (!asleep)
			ak_ring_seq_close(r); /* rescue the thread, reported above */
		/* Release: pairs with the acquire load in park_woken(). */
		atomic_store_explicit(&woken_go, 1, memory_order_release);
		pthread_join(t, NULL);
		_ak_ring_seq_test_woken = NULL;
		CHECK_ST(w.st, AK_OK);
		if (pop)
			CHECK_EQ_U64(w.v, 0);
		/* its success forwarded a wake to nobody: still no call */
		CHECK_EQ_U64(ak_ring_seq_syscalls(r), 2);
		CHECK_EQ_U64(atomic_load_explicit(&ev->waiters, memory_order_relaxed), 0);
		ak_ring_seq_delete(r);
	}

	/* Two sleepers, one push of 2: one wake call for both (the kernel
	 * reports 2 woken, both leave the count), then nothing more.  The hook
	 * holds both until the pushes are done, so neither can run inside the
	 * waker's window between the kernel's wake and its subtraction (where
	 * a forward from a woken thread may still see a waiter: a spare call). */
	ak_ring_seq *r = make(8, 8, AK_RING_SEQ_BLOCKING);
	struct sleeper w[2];
	pthread_t t[2];
	uint64_t two[2] = { 7, 8 };
	int asleep = 1;
	memset(w, 0, sizeof(w));
	atomic_store_explicit(&woken_parked, 0, memory_order_relaxed);
	atomic_store_explicit(&woken_go, 0, memory_order_relaxed);
	_ak_ring_seq_test_woken = park_woken;
	for (int i = 0; i < 2; i++) {
		w[i].r = r;
		w[i].pop = 1;
		pthread_create(&t[i], NULL, sleeper_main, &w[i]);
	}
	for (int i = 0; i < 2; i++)
		asleep &= blocked_on(&w[i], &r->items[0].seq);
	CHECK(asleep);
	CHECK_ST(ak_ring_seq_push_bulk_mpmc(r, two, 2), AK_OK);
	/* Acquire: pairs with the release increment in park_woken(). */
	while (asleep && atomic_load_explicit(&woken_parked, memory_order_acquire) < 2)
		usleep(100);
	for (uint64_t i = 0; i < 5; i++)
		CHECK_ST(ak_ring_seq_push64_mpmc(r, 100 + i), AK_OK);
	CHECK_EQ_U64(ak_ring_seq_syscalls(r), asleep ? 3 : 0); /* two waits, one wake */
	if (!asleep)
		ak_ring_seq_close(r);
	/* Release: pairs with the acquire load in park_woken(). */
	atomic_store_explicit(&woken_go, 1, memory_order_release);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	_ak_ring_seq_test_woken = NULL;
	CHECK_ST(w[0].st, AK_OK);
	CHECK_ST(w[1].st, AK_OK);
	CHECK(w[0].v + w[1].v == 15 && w[0].v != w[1].v);
	CHECK_EQ_U64(ak_ring_seq_syscalls(r), 3); /* the forwards found no waiter */
	CHECK_EQ_U64(atomic_load_explicit(&r->items[0].waiters, memory_order_relaxed), 0);
	ak_ring_seq_delete(r);
}

/*
 * Two processes: 100000 items; the ring lives in a shared anonymous mapping; the child
 * maps it through fork (same address here, but the ring holds only an
 * offset) and pushes with push_wait, the parent pops with pop_wait, both
 * sleeping on process-shared futexes when the 64-slot ring is full/empty.
 */
static void test_two_processes(void)
{
	const uint64_t items = 100000;
	size_t bytes;
	CHECK_ST(ak_ring_seq_memsize(64, 8, &bytes), AK_OK);
	void *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(mem != MAP_FAILED);
	if (mem == MAP_FAILED)
		return;
	ak_ring_seq *r = (ak_ring_seq *)mem;
	CHECK_ST(ak_ring_seq_init(r, bytes, 64, 8, AK_RING_SEQ_BLOCKING | AK_RING_SEQ_SHARED),
		 AK_OK);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		int rc = ak_ring_seq_validate(r, bytes) == AK_OK ? 0 : 3;
		for (uint64_t i = 0; i < items && rc == 0; i++)
			if (ak_ring_seq_push_wait_mpsc(r, &i, ak_deadline_after(20 * AK_NS_PER_SEC),
						       NULL) != AK_OK)
				rc = 4;
		ak_ring_seq_close(r);
		_exit(rc);
	}
	uint64_t next = 0, v = 0, bad = 0;
	ak_status st;
	while ((st = ak_ring_seq_pop_wait_mpsc(r, &v, ak_deadline_after(20 * AK_NS_PER_SEC), NULL)) ==
	       AK_OK)
		if (v != next++)
			bad++;
	CHECK_ST(st, AK_ECLOSED);
	CHECK_EQ_U64(next, items);
	CHECK_EQ_U64(bad, 0);
	int status = -1;
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	munmap(mem, bytes);
}

/*
 * A sleep that ends without a FUTEX_WAKE takes itself out of the event's
 * waiter count: a signal (handler without SA_RESTART, so the futex wait
 * returns EINTR) interrupts a sleeping pop_wait (push_wait); it sleeps again
 * with exactly one registration counted (1, not 2), one push (pop) wakes
 * it, and the count is back to 0.  A timed-out sleep leaves 0 too.
 */
static void on_signal(int sig)
{
	(void)sig;
}

static int syscalls_reach(const ak_ring_seq *r, uint64_t n)
{
	uint64_t bound = ak_deadline_after((uint64_t)STALL_S * AK_NS_PER_SEC);
	while (ak_now_ns() < bound) {
		if (ak_ring_seq_syscalls(r) >= n)
			return 1;
		usleep(1000);
	}
	return 0;
}

static void test_interrupted_sleep(void)
{
	struct sigaction sa, old;
	uint64_t v = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: the futex wait returns EINTR */
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGUSR1, &sa, &old) == 0);
	for (int pop = 1; pop >= 0; pop--) {
		struct sleeper w;
		ak_ring_seq *r = sleeper_setup(&w, pop);
		struct _ak_event *ev = pop ? &r->items[0] : &r->space[0];
		pthread_t t;
		pthread_create(&t, NULL, sleeper_main, &w);
		int asleep = blocked_on(&w, &ev->seq);
		CHECK(asleep);
		if (asleep) {
			CHECK_EQ_U64(atomic_load_explicit(&ev->waiters, memory_order_relaxed), 1);
			CHECK(pthread_kill(t, SIGUSR1) == 0);
			CHECK(syscalls_reach(r, 1)); /* its interrupted wait returned */
			CHECK(blocked_on(&w, &ev->seq));
			CHECK_EQ_U64(atomic_load_explicit(&ev->waiters, memory_order_relaxed), 1);
		}
		if (pop)
			CHECK_ST(ak_ring_seq_push64_mpmc(r, 7), AK_OK);
		else
			CHECK_ST(ak_ring_seq_pop64_mpmc(r, &v), AK_OK);
		pthread_join(t, NULL);
		CHECK_ST(w.st, AK_OK);
		CHECK_EQ_U64(atomic_load_explicit(&ev->waiters, memory_order_relaxed), 0);

		/* a sleep that times out */
		if (pop)
			CHECK_ST(ak_ring_seq_pop_wait_mpmc(r, &v, ak_deadline_after(20 * AK_NS_PER_MS),
							   NULL),
				 AK_ETIMEDOUT);
		else
			CHECK_ST(ak_ring_seq_push_wait_mpmc(r, &v, ak_deadline_after(20 * AK_NS_PER_MS),
							    NULL),
				 AK_ETIMEDOUT);
		CHECK_EQ_U64(atomic_load_explicit(&ev->waiters, memory_order_relaxed), 0);
		ak_ring_seq_delete(r);
	}
	CHECK(sigaction(SIGUSR1, &old, NULL) == 0);
}

int main(void)
{
	test_setup_errors();
	test_capacity_and_sizes();
	test_wrap();
	test_fast_path_and_args();
	test_zero_copy_and_inflight();
	test_close();
	test_no_syscalls_without_sleepers();
	test_typed();
	test_blocking();
	test_recheck_window();
	test_one_wake_per_sleep();
	test_interrupted_sleep();
	test_two_processes();
	return check_report("ring_seq");
}
