/*
 * Fuzzer: the in-order ring (include/atomkit/ring.h) driven by one thread
 * in one mode (spsc or mpmc, from the first input byte) against a FIFO
 * model.  Capacity 1..16 (not only powers of two; usable capacity is the
 * requested one), counters started near 2^64 so they wrap.  Single push/pop,
 * bulk (all or nothing: AK_EFULL/AK_EEMPTY, AK_E2BIG above the capacity),
 * burst (partial, count returned), size/empty/full, close (producers get
 * AK_ECLOSED, consumers drain, then AK_ECLOSED), and invalid arguments.
 */
#include <atomkit/ring.h>

#include "fuzz.h"

#define MAXCAP 16
#define MAXN 20

static uint64_t q[MAXCAP]; /* model FIFO */
static unsigned qh, qn;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	static uint64_t storage[64] __attribute__((aligned(128)));
	ak_ring r;
	int mp = fuzz_u8(&in) & 1;
	uint64_t cap = 1 + fuzz_u8(&in) % MAXCAP;
	uint64_t start = UINT64_MAX - fuzz_u8(&in);
	uint64_t next = 1, buf[MAXN], cnt;
	int closed = 0;
	ak_status st;

	qh = qn = 0;
	FUZZ_EQ(ak_ring_memsize(0, 8), 0);
	FUZZ_EQ(ak_ring_memsize(4, 0), 0);
	FUZZ_EQ(_ak_ring_init_at(&r, storage, sizeof storage, cap, sizeof(uint64_t), 0, start), AK_OK);
	FUZZ_EQ(ak_ring_capacity(&r), cap);

#define PUSH1(e) (mp ? ak_ring_push_mpmc(&r, e) : ak_ring_push_spsc(&r, e))
#define POP1(o) (mp ? ak_ring_pop_mpmc(&r, o) : ak_ring_pop_spsc(&r, o))
#define PUSHB(s, n) (mp ? ak_ring_push_bulk_mpmc(&r, s, n) : ak_ring_push_bulk_spsc(&r, s, n))
#define POPB(d, n) (mp ? ak_ring_pop_bulk_mpmc(&r, d, n) : ak_ring_pop_bulk_spsc(&r, d, n))
#define PUSHR(s, n, c) (mp ? ak_ring_push_burst_mpmc(&r, s, n, c) : ak_ring_push_burst_spsc(&r, s, n, c))
#define POPR(d, n, c) (mp ? ak_ring_pop_burst_mpmc(&r, d, n, c) : ak_ring_pop_burst_spsc(&r, d, n, c))

	while (fuzz_more(&in)) {
		uint8_t op = fuzz_u8(&in);
		uint64_t n = 1 + fuzz_u8(&in) % MAXN;
		uint64_t room = cap - qn;

		switch (op % 9) {
		case 0: /* push one */
			st = PUSH1(&next);
			if (closed) {
				FUZZ_EQ(st, AK_ECLOSED);
			} else if (room == 0) {
				FUZZ_EQ(st, AK_EFULL);
			} else {
				FUZZ_EQ(st, AK_OK);
				q[(qh + qn++) % MAXCAP] = next++;
			}
			break;
		case 1: /* pop one */
			buf[0] = 0;
			st = POP1(&buf[0]);
			if (qn == 0) {
				FUZZ_EQ(st, closed ? AK_ECLOSED : AK_EEMPTY);
			} else {
				FUZZ_EQ(st, AK_OK);
				FUZZ_EQ(buf[0], q[qh]);
				qh = (qh + 1) % MAXCAP;
				qn--;
			}
			break;
		case 2: /* push bulk: all or nothing */
			for (uint64_t i = 0; i < n; i++)
				buf[i] = next + i;
			st = PUSHB(buf, n);
			if (n > 1 && n > cap) {
				FUZZ_EQ(st, AK_E2BIG);
			} else if (closed) {
				FUZZ_EQ(st, AK_ECLOSED);
			} else if (room < n) {
				FUZZ_EQ(st, AK_EFULL);
			} else {
				FUZZ_EQ(st, AK_OK);
				for (uint64_t i = 0; i < n; i++)
					q[(qh + qn++) % MAXCAP] = next++;
			}
			break;
		case 3: /* pop bulk */
			st = POPB(buf, n);
			if (n > 1 && n > cap) {
				FUZZ_EQ(st, AK_E2BIG);
			} else if (qn < n) {
				FUZZ_EQ(st, closed ? AK_ECLOSED : AK_EEMPTY);
			} else {
				FUZZ_EQ(st, AK_OK);
				for (uint64_t i = 0; i < n; i++) {
					FUZZ_EQ(buf[i], q[qh]);
					qh = (qh + 1) % MAXCAP;
					qn--;
				}
			}
			break;
		case 4: /* push burst */
			for (uint64_t i = 0; i < n; i++)
				buf[i] = next + i;
			cnt = 99;
			st = PUSHR(buf, n, &cnt);
			if (closed) {
				FUZZ_EQ(st, AK_ECLOSED);
				FUZZ_EQ(cnt, 0);
			} else if (room == 0) {
				FUZZ_EQ(st, AK_EFULL);
				FUZZ_EQ(cnt, 0);
			} else {
				uint64_t k = n < room ? n : room;
				FUZZ_EQ(st, AK_OK);
				FUZZ_EQ(cnt, k);
				for (uint64_t i = 0; i < k; i++)
					q[(qh + qn++) % MAXCAP] = next++;
			}
			break;
		case 5: /* pop burst */
			cnt = 99;
			st = POPR(buf, n, &cnt);
			if (qn == 0) {
				FUZZ_EQ(st, closed ? AK_ECLOSED : AK_EEMPTY);
				FUZZ_EQ(cnt, 0);
			} else {
				uint64_t k = n < qn ? n : qn;
				FUZZ_EQ(st, AK_OK);
				FUZZ_EQ(cnt, k);
				for (uint64_t i = 0; i < k; i++) {
					FUZZ_EQ(buf[i], q[qh]);
					qh = (qh + 1) % MAXCAP;
					qn--;
				}
			}
			break;
		case 6: /* observers */
			FUZZ_EQ(ak_ring_size(&r), qn);
			FUZZ_EQ(ak_ring_empty(&r), qn == 0);
			FUZZ_EQ(ak_ring_full(&r), qn == cap);
			FUZZ_EQ(ak_ring_is_closed(&r), closed);
			break;
		case 7: /* close: rarely, so most inputs keep the ring open */
			if ((op >> 4) != 0xf)
				break;
			FUZZ_EQ(ak_ring_close(&r), closed ? AK_ECLOSED : AK_OK);
			closed = 1;
			break;
		default: /* invalid arguments: status codes, nothing changes */
			FUZZ_EQ(PUSH1(NULL), AK_EINVAL);
			FUZZ_EQ(POP1(NULL), AK_EINVAL);
			FUZZ_EQ(ak_ring_push_spsc(NULL, &next), AK_EINVAL);
			FUZZ_EQ(ak_ring_pop_mpmc(NULL, buf), AK_EINVAL);
			FUZZ_EQ(ak_ring_close(NULL), AK_EINVAL);
			FUZZ_EQ(ak_ring_init(NULL, storage, sizeof storage, 4, 8, 0), AK_EINVAL);
			FUZZ_EQ(ak_ring_init(&(ak_ring){ 0 }, NULL, sizeof storage, 4, 8, 0), AK_EINVAL);
			FUZZ_EQ(ak_ring_init(&(ak_ring){ 0 }, storage, sizeof storage, 0, 8, 0), AK_EINVAL);
			FUZZ_EQ(ak_ring_init(&(ak_ring){ 0 }, storage, sizeof storage, 4, 0, 0), AK_EINVAL);
			FUZZ_EQ(ak_ring_init(&(ak_ring){ 0 }, storage, 8, 64, 8, 0), AK_EINVAL);
			FUZZ_EQ(ak_ring_init(&(ak_ring){ 0 }, (char *)storage + 4, 256, 4, 8, 0), AK_EINVAL);
			FUZZ_EQ(ak_ring_init(&(ak_ring){ 0 }, storage, sizeof storage, 4, 8, 0x80000000u), AK_EINVAL);
			break;
		}
	}
	/* drain: everything pushed comes out, in order */
	while (qn) {
		FUZZ_EQ(POP1(&buf[0]), AK_OK);
		FUZZ_EQ(buf[0], q[qh]);
		qh = (qh + 1) % MAXCAP;
		qn--;
	}
	FUZZ_EQ(POP1(&buf[0]), closed ? AK_ECLOSED : AK_EEMPTY);
	return 0;
}
