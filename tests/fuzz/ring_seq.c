/*
 * Fuzzer: the per-slot-sequence ring (include/atomkit/ring_seq.h) driven by
 * one thread against a sequential model.  The header bytes pick the
 * capacity (1..16, any value), the element size (1..40 bytes, mostly odd),
 * the mode pair used for each call, whether the ring is AK_RING_SEQ_BLOCKING,
 * and the start position: a power-of-two capacity starts within 255
 * positions of the 2^63 position wrap (tickets wrap at 2^64), any other
 * capacity as close to it as init allows (and init must refuse closer).
 *
 * Steps: single, 64-bit, bulk (all or nothing), burst (1..n), zero-copy
 * reserve/commit and peek/release with up to 4 refs outstanding per side
 * (committed and released in any order), the _wait forms with an already
 * expired deadline or an already cancelled token, close, observers, and
 * bad arguments.  The model keeps the claimed positions [H, T) with each
 * one's state (published or still reserved), the peeked positions not yet
 * released, and the closed flag; from those it predicts every status
 * exactly, including AK_EAGAIN (a reserved slot at the head, or a peeked
 * slot one lap back holding up a producer), and every byte popped.
 */
#include <atomkit/ring_seq.h>
#include <atomkit/cancel.h>
#include <atomkit/clock.h>

#include "fuzz.h"

#define MAXCAP 16
#define MAXESZ 40
#define MAXN 20
#define MAXREF 4

struct entry {
	uint64_t val; /* element = bytes derived from val */
	int pending;  /* reserved, not committed */
};

static struct entry q[MAXCAP]; /* positions H .. T-1, oldest first */
static unsigned qn;
static uint64_t H, T; /* model positions, counted from 0 */
static uint64_t held[MAXREF];      /* peeked, not released (positions) */
static ak_ring_seq_ref held_ref[MAXREF];
static unsigned nheld;
static uint64_t resv[MAXREF];      /* reserved, not committed (positions) */
static ak_ring_seq_ref resv_ref[MAXREF];
static unsigned nresv;
static size_t esz;
static uint64_t cap;

static void make_elem(unsigned char *dst, uint64_t val)
{
	for (size_t j = 0; j < esz; j++)
		dst[j] = (unsigned char)(val * 131 + j * 7 + (val >> 8));
}

static void check_elem(const unsigned char *src, uint64_t val)
{
	unsigned char want[MAXESZ];
	make_elem(want, val);
	if (memcmp(src, want, esz) != 0)
		FUZZ_FAIL("element of value %llu differs", (unsigned long long)val);
}

/* The slot of position p (p >= T) is free for its producer: the element
 * one lap back was consumed and, if peeked, released. */
static int slot_free(uint64_t p)
{
	if (p < cap)
		return 1;
	uint64_t back = p - cap;
	if (back >= H)
		return 0;
	for (unsigned i = 0; i < nheld; i++)
		if (held[i] == back)
			return 0;
	return 1;
}

/* Predicted status of a push of n elements needing at least min (bulk:
 * min == n; one element and burst: min == 1); *k = how many it takes. */
static ak_status model_push(uint64_t n, uint64_t min, int closed, uint64_t *k)
{
	*k = 0;
	if (closed)
		return AK_ECLOSED;
	while (*k < n && slot_free(T + *k))
		(*k)++;
	if (*k >= min)
		return AK_OK;
	*k = 0;
	return (T - H) + min > cap ? AK_EFULL : AK_EAGAIN;
}

static ak_status model_pop(uint64_t n, uint64_t min, int closed, uint64_t *k)
{
	*k = 0;
	while (*k < n && *k < qn && !q[*k].pending)
		(*k)++;
	if (*k >= min)
		return AK_OK;
	*k = 0;
	if (T - H < min)
		return closed ? AK_ECLOSED : AK_EEMPTY;
	return AK_EAGAIN;
}

static void model_pushed(uint64_t val, int pending)
{
	q[qn].val = val;
	q[qn].pending = pending;
	qn++;
	T++;
}

static uint64_t model_popped(void)
{
	uint64_t v = q[0].val;
	memmove(q, q + 1, (qn - 1) * sizeof(q[0]));
	qn--;
	H++;
	return v;
}

static int must_wait(ak_status st)
{
	return st == AK_EFULL || st == AK_EEMPTY || st == AK_EAGAIN;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	static AK_ALIGNAS(AK_RING_SEQ_ALIGN) ak_ring_seq ring;
	static AK_ALIGNAS(AK_RING_SEQ_ALIGN) unsigned char slots[MAXCAP * (8 + MAXESZ)];
	static AK_ALIGNAS(AK_RING_SEQ_ALIGN) unsigned char other[sizeof(ak_ring_seq) + 256];
	ak_ring_seq *r = &ring;
	unsigned char buf[MAXN * MAXESZ];
	uint64_t next = 1, k;
	size_t done;
	int closed = 0;
	ak_status st, want;
	ak_cancel tok;

	uint8_t h0 = fuzz_u8(&in), h1 = fuzz_u8(&in), h2 = fuzz_u8(&in), h3 = fuzz_u8(&in);
	cap = 1 + h0 % MAXCAP;
	/* mostly odd sizes, 8 often enough for the 64-bit path */
	esz = (h1 & 3) == 0 ? 8 : 1 + (h1 >> 2) % MAXESZ;
	unsigned flags = (h2 & 1) ? AK_RING_SEQ_BLOCKING : 0;
	int pow2 = (cap & (cap - 1)) == 0;
	uint64_t wrap = UINT64_C(1) << 63;
	uint64_t start = pow2 ? wrap - h3 : wrap - (UINT64_C(1) << 32) - h3;
	if (!pow2)
		FUZZ_EQ(_ak_ring_seq_init_at(r, slots, sizeof slots, cap, esz, flags,
					     wrap - (UINT64_C(1) << 32) + 1 + h3),
			AK_ERANGE);
	FUZZ_EQ(_ak_ring_seq_init_at(r, slots, sizeof slots, cap, esz, flags, start), AK_OK);
	FUZZ_EQ(ak_ring_seq_capacity(r), cap);
	FUZZ_EQ(ak_ring_seq_elem_size(r), esz);
	FUZZ_EQ(ak_ring_seq_validate(r, 0), AK_OK);
	FUZZ_EQ(ak_cancel_init(&tok), AK_OK);
	ak_cancel_request(&tok, 1);
	qn = nheld = nresv = 0;
	H = T = 0;

	while (fuzz_more(&in)) {
		uint8_t op = fuzz_u8(&in), arg = fuzz_u8(&in);
		uint64_t n = 1 + arg % MAXN;
		int m = op >> 5; /* mode bits: 0..7 */
		uint64_t v64 = 0;

#define PUSH1(e) (m & 1 ? ak_ring_seq_push_mpmc(r, e) : ak_ring_seq_push_spsc(r, e))
#define POP1(o) (m & 2 ? ak_ring_seq_pop_mpmc(r, o) : ak_ring_seq_pop_mpsc(r, o))
		switch (op % 16) {
		case 0: /* push one */
			make_elem(buf, next);
			want = model_push(1, 1, closed, &k);
			FUZZ_EQ(PUSH1(buf), want);
			if (want == AK_OK)
				model_pushed(next++, 0);
			break;
		case 1: /* pop one */
			want = model_pop(1, 1, closed, &k);
			memset(buf, 0xA5, esz + 1);
			FUZZ_EQ(POP1(buf), want);
			if (want == AK_OK)
				check_elem(buf, model_popped());
			FUZZ_EQ(buf[esz], 0xA5); /* no overrun */
			break;
		case 2: /* 64-bit path: AK_EINVAL unless esz == 8 */
			if (esz == 8)
				make_elem((unsigned char *)&v64, next);
			st = m & 1 ? ak_ring_seq_push64_spmc(r, v64) : ak_ring_seq_push64_mpsc(r, v64);
			if (esz != 8) {
				FUZZ_EQ(st, AK_EINVAL);
				FUZZ_EQ(ak_ring_seq_pop64_spsc(r, &v64), AK_EINVAL);
				break;
			}
			want = model_push(1, 1, closed, &k);
			FUZZ_EQ(st, want);
			if (want == AK_OK)
				model_pushed(next++, 0);
			want = model_pop(1, 1, closed, &k);
			FUZZ_EQ(m & 2 ? ak_ring_seq_pop64_spmc(r, &v64) : ak_ring_seq_pop64_mpmc(r, &v64),
				want);
			if (want == AK_OK)
				check_elem((const unsigned char *)&v64, model_popped());
			break;
		case 3: /* push bulk: all or nothing */
			for (uint64_t i = 0; i < n; i++)
				make_elem(buf + i * esz, next + i);
			st = m & 1 ? ak_ring_seq_push_bulk_mpmc(r, buf, n) : ak_ring_seq_push_bulk_spsc(r, buf, n);
			if (n > cap) {
				FUZZ_EQ(st, AK_E2BIG);
				break;
			}
			want = model_push(n, n, closed, &k);
			FUZZ_EQ(st, want);
			for (uint64_t i = 0; i < k; i++)
				model_pushed(next++, 0);
			break;
		case 4: /* pop bulk */
			st = m & 2 ? ak_ring_seq_pop_bulk_mpmc(r, buf, n) : ak_ring_seq_pop_bulk_spsc(r, buf, n);
			if (n > cap) {
				FUZZ_EQ(st, AK_E2BIG);
				break;
			}
			want = model_pop(n, n, closed, &k);
			FUZZ_EQ(st, want);
			for (uint64_t i = 0; i < k; i++)
				check_elem(buf + i * esz, model_popped());
			break;
		case 5: /* push burst */
			for (uint64_t i = 0; i < n; i++)
				make_elem(buf + i * esz, next + i);
			done = 99;
			st = m & 1 ? ak_ring_seq_push_burst_spmc(r, buf, n, &done)
				   : ak_ring_seq_push_burst_mpsc(r, buf, n, &done);
			want = model_push(n < cap ? n : cap, 1, closed, &k);
			FUZZ_EQ(st, want);
			FUZZ_EQ(done, k);
			for (uint64_t i = 0; i < k; i++)
				model_pushed(next++, 0);
			break;
		case 6: /* pop burst */
			done = 99;
			st = m & 2 ? ak_ring_seq_pop_burst_spmc(r, buf, n, &done)
				   : ak_ring_seq_pop_burst_mpsc(r, buf, n, &done);
			want = model_pop(n < cap ? n : cap, 1, closed, &k);
			FUZZ_EQ(st, want);
			FUZZ_EQ(done, k);
			for (uint64_t i = 0; i < k; i++)
				check_elem(buf + i * esz, model_popped());
			break;
		case 7: /* reserve */
			if (nresv == MAXREF)
				break;
			want = model_push(1, 1, closed, &k);
			st = m & 1 ? ak_ring_seq_reserve_mpmc(r, &resv_ref[nresv])
				   : ak_ring_seq_reserve_spsc(r, &resv_ref[nresv]);
			FUZZ_EQ(st, want);
			FUZZ_EQ(resv_ref[nresv].ptr != NULL, want == AK_OK);
			if (want == AK_OK) {
				resv[nresv++] = T;
				model_pushed(next++, 1);
			}
			break;
		case 8: /* commit one outstanding reserve, any of them */
			if (nresv == 0)
				break;
			{
				unsigned i = arg % nresv;
				struct entry *e = &q[resv[i] - H];
				make_elem((unsigned char *)resv_ref[i].ptr, e->val);
				ak_ring_seq_commit(r, &resv_ref[i]);
				e->pending = 0;
				resv[i] = resv[nresv - 1];
				resv_ref[i] = resv_ref[nresv - 1];
				nresv--;
			}
			break;
		case 9: /* peek */
			if (nheld == MAXREF)
				break;
			want = model_pop(1, 1, closed, &k);
			st = m & 2 ? ak_ring_seq_peek_mpmc(r, &held_ref[nheld])
				   : ak_ring_seq_peek_mpsc(r, &held_ref[nheld]);
			FUZZ_EQ(st, want);
			FUZZ_EQ(held_ref[nheld].ptr != NULL, want == AK_OK);
			if (want == AK_OK) {
				held[nheld] = H;
				check_elem((const unsigned char *)held_ref[nheld].ptr, model_popped());
				nheld++;
			}
			break;
		case 10: /* release one outstanding peek, any of them */
			if (nheld == 0)
				break;
			{
				unsigned i = arg % nheld;
				ak_ring_seq_release(r, &held_ref[i]);
				held[i] = held[nheld - 1];
				held_ref[i] = held_ref[nheld - 1];
				nheld--;
			}
			break;
		case 11: { /* wait forms, deadline already passed or token cancelled */
			int use_tok = m & 4, bulk = m & 1, pop = (arg >> 7) & 1;
			uint64_t wn = bulk ? n : 1;
			uint64_t dl = use_tok ? AK_DEADLINE_NONE : ak_now_ns();
			ak_cancel *c = use_tok ? &tok : NULL;
			if (!pop)
				for (uint64_t i = 0; i < wn; i++)
					make_elem(buf + i * esz, next + i);
			if (pop)
				st = bulk ? ak_ring_seq_pop_bulk_wait_spmc(r, buf, wn, dl, c)
					  : ak_ring_seq_pop_wait_mpmc(r, buf, dl, c);
			else
				st = bulk ? ak_ring_seq_push_bulk_wait_mpsc(r, buf, wn, dl, c)
					  : ak_ring_seq_push_wait_spsc(r, buf, dl, c);
			if (!(flags & AK_RING_SEQ_BLOCKING)) {
				FUZZ_EQ(st, AK_ESTATE);
				break;
			}
			if (wn > cap) {
				FUZZ_EQ(st, AK_E2BIG);
				break;
			}
			want = pop ? model_pop(wn, wn, closed, &k) : model_push(wn, wn, closed, &k);
			if (must_wait(want))
				want = use_tok ? AK_ECANCELED : AK_ETIMEDOUT;
			FUZZ_EQ(st, want);
			for (uint64_t i = 0; i < k; i++) {
				if (pop)
					check_elem(buf + i * esz, model_popped());
				else
					model_pushed(next++, 0);
			}
			break;
		}
		case 12: /* observers */
			FUZZ_EQ(ak_ring_seq_size(r), T - H);
			FUZZ_EQ(ak_ring_seq_empty(r), T == H);
			FUZZ_EQ(ak_ring_seq_full(r), T - H == cap);
			FUZZ_EQ(ak_ring_seq_is_closed(r), closed);
			break;
		case 13: /* close: rarely, so most inputs keep the ring open */
			if ((op & 0x70) != 0x70)
				break;
			FUZZ_EQ(ak_ring_seq_close(r), closed ? AK_ECLOSED : AK_OK);
			closed = 1;
			break;
		case 14: /* bad arguments: a status, and nothing changes */
			FUZZ_EQ(ak_ring_seq_push_bulk_mpmc(r, buf, 0), AK_EINVAL);
			FUZZ_EQ(ak_ring_seq_pop_bulk_spsc(r, buf, 0), AK_EINVAL);
			done = 7;
			FUZZ_EQ(ak_ring_seq_push_burst_spmc(r, buf, 0, &done), AK_EINVAL);
			FUZZ_EQ(done, 0);
			FUZZ_EQ(ak_ring_seq_pop_burst_mpsc(r, buf, 0, &done), AK_EINVAL);
			FUZZ_EQ(ak_ring_seq_push_bulk_spsc(r, buf, cap + 1 + arg), AK_E2BIG);
			FUZZ_EQ(ak_ring_seq_pop_bulk_mpmc(r, buf, cap + 1 + arg), AK_E2BIG);
			FUZZ_EQ(ak_ring_seq_push_bulk_wait_mpmc(r, buf, 0, 0, NULL),
				flags ? AK_EINVAL : AK_ESTATE);
			FUZZ_EQ(ak_ring_seq_pop_bulk_wait_mpmc(r, buf, cap + 1, 0, NULL),
				flags ? AK_E2BIG : AK_ESTATE);
			FUZZ_EQ(ak_ring_seq_close(NULL), AK_EINVAL);
			FUZZ_EQ(ak_ring_seq_validate(NULL, 0), AK_EINVAL);
			FUZZ_EQ(ak_ring_seq_validate(r, sizeof(ak_ring_seq) + 1), AK_EINVAL);
			FUZZ_EQ(ak_ring_seq_init((ak_ring_seq *)(void *)other, sizeof other, 0, esz, 0),
				AK_EINVAL);
			FUZZ_EQ(ak_ring_seq_init((ak_ring_seq *)(void *)other, sizeof other, cap, 0, 0),
				AK_EINVAL);
			FUZZ_EQ(ak_ring_seq_init((ak_ring_seq *)(void *)other, sizeof other, 1, 1,
						 4u << (arg % 28)),
				AK_EINVAL);
			FUZZ_EQ(ak_ring_seq_init((ak_ring_seq *)(void *)other, sizeof other, cap,
						 AK_RING_SEQ_MAX_ELEM + 1 + arg, 0),
				AK_E2BIG);
			FUZZ_EQ(ak_ring_seq_init((ak_ring_seq *)(void *)(other + 8), sizeof other - 8,
						 1, 1, 0),
				AK_EINVAL);
			FUZZ_EQ(ak_ring_seq_init((ak_ring_seq *)(void *)other,
						 sizeof(ak_ring_seq) + arg % 16, 16, 1, 0),
				AK_ERANGE);
			FUZZ_EQ(ak_ring_seq_memsize(cap, esz, NULL), AK_EINVAL);
			FUZZ_EQ(ak_ring_seq_slots_size(0, esz, &done), AK_EINVAL);
			break;
		default: /* a typed-looking fixed-size copy through the untyped API */
			make_elem(buf, next);
			want = model_push(1, 1, closed, &k);
			FUZZ_EQ(m & 2 ? ak_ring_seq_push_mpsc(r, buf) : ak_ring_seq_push_spmc(r, buf), want);
			if (want == AK_OK)
				model_pushed(next++, 0);
			break;
		}
		FUZZ_EQ(ak_ring_seq_size(r), T - H);
	}
	/* settle: commit and release every ref, then everything pushed comes
	 * out, in order, and the ring reports empty or closed */
	while (nresv) {
		nresv--;
		make_elem((unsigned char *)resv_ref[nresv].ptr, q[resv[nresv] - H].val);
		ak_ring_seq_commit(r, &resv_ref[nresv]);
		q[resv[nresv] - H].pending = 0;
	}
	while (nheld)
		ak_ring_seq_release(r, &held_ref[--nheld]);
	while (qn) {
		FUZZ_EQ(ak_ring_seq_pop_spmc(r, buf), AK_OK);
		check_elem(buf, model_popped());
	}
	FUZZ_EQ(ak_ring_seq_pop_mpmc(r, buf), closed ? AK_ECLOSED : AK_EEMPTY);
	if (!closed) { /* and a full lap still fits after all the traffic */
		for (uint64_t i = 0; i < cap; i++) {
			make_elem(buf, next + i);
			FUZZ_EQ(ak_ring_seq_push_mpmc(r, buf), AK_OK);
		}
		FUZZ_EQ(ak_ring_seq_push_mpmc(r, buf), AK_EFULL);
		for (uint64_t i = 0; i < cap; i++) {
			FUZZ_EQ(ak_ring_seq_pop_mpmc(r, buf), AK_OK);
			check_elem(buf, next + i);
		}
	}
	FUZZ_EQ(ak_cancel_destroy(&tok), AK_OK);
	return 0;
}
