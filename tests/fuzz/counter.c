/*
 * Fuzzer: ak_counter, ak_ref and ak_scounter call sequences against a plain
 * sequential model.  Checks every return value and status code, including
 * the refusals (AK_EOVERFLOW, AK_ERANGE, AK_ESATURATED, AK_ENOENT) and the
 * invalid arguments (NULL, n == 0, n > AK_REF_MAX -> AK_EINVAL), and that
 * a refused call changes nothing.
 */
#include <atomkit/counter.h>

#include "fuzz.h"

struct model {
	uint64_t c;
	uint32_t ref;  /* model of ak_ref: saturated = top bit set */
	uint64_t sc;
};

static int ref_sat(uint32_t r)
{
	return (r & 0x80000000u) != 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct model m = { 0, 1, 0 };
	ak_counter c;
	ak_ref r;
	ak_scounter sc;
	uint64_t out, n, lim;
	uint32_t n32;
	ak_status st;

	FUZZ_EQ(ak_counter_init(&c, 0), AK_OK);
	FUZZ_EQ(ak_ref_init(&r, 1), AK_OK);
	FUZZ_EQ(ak_scounter_init(&sc, NULL, 1 + fuzz_u8(&in) % 8), AK_OK);

	while (fuzz_more(&in)) {
		uint8_t op = fuzz_u8(&in);
		switch (op % 20) {
		case 0:
			n = fuzz_edge64(&in);
			ak_counter_add(&c, n);
			m.c += n;
			break;
		case 1:
			n = fuzz_edge64(&in);
			ak_counter_sub(&c, n);
			m.c -= n;
			break;
		case 2:
			n = fuzz_edge64(&in);
			FUZZ_EQ(ak_counter_fetch_add(&c, n), m.c);
			m.c += n;
			break;
		case 3:
			n = fuzz_edge64(&in);
			FUZZ_EQ(ak_counter_sub_fetch(&c, n), m.c - n);
			m.c -= n;
			break;
		case 4:
			n = fuzz_edge64(&in);
			FUZZ_EQ(ak_counter_exchange(&c, n), m.c);
			m.c = n;
			break;
		case 5: {
			uint64_t exp = (fuzz_u8(&in) & 1) ? m.c : fuzz_edge64(&in);
			n = fuzz_edge64(&in);
			bool should = exp == m.c;
			bool ok = ak_counter_cas(&c, &exp, n);
			FUZZ_EQ(ok, should);
			FUZZ_EQ(exp, m.c);
			if (ok)
				m.c = n;
			break;
		}
		case 6:
			n = fuzz_edge64(&in);
			st = ak_counter_add_checked(&c, n, &out);
			if (m.c > UINT64_MAX - n) {
				FUZZ_EQ(st, AK_EOVERFLOW);
				FUZZ_EQ(out, m.c);
			} else {
				FUZZ_EQ(st, AK_OK);
				m.c += n;
				FUZZ_EQ(out, m.c);
			}
			break;
		case 7:
			n = fuzz_edge64(&in);
			st = ak_counter_sub_checked(&c, n, &out);
			if (m.c < n) {
				FUZZ_EQ(st, AK_EOVERFLOW);
			} else {
				FUZZ_EQ(st, AK_OK);
				m.c -= n;
			}
			break;
		case 8:
			n = fuzz_edge64(&in);
			lim = fuzz_edge64(&in);
			st = ak_counter_add_bounded(&c, n, lim, &out);
			if (m.c > lim || n > lim - m.c) {
				FUZZ_EQ(st, AK_ERANGE);
				FUZZ_EQ(out, m.c);
			} else {
				FUZZ_EQ(st, AK_OK);
				m.c += n;
				FUZZ_EQ(out, m.c);
			}
			break;
		case 9:
			n = fuzz_edge64(&in);
			st = ak_counter_add_saturating(&c, n, &out);
			if (m.c > UINT64_MAX - n) {
				FUZZ_EQ(st, AK_ESATURATED);
				m.c = UINT64_MAX;
			} else {
				FUZZ_EQ(st, AK_OK);
				m.c += n;
			}
			FUZZ_EQ(out, m.c);
			break;
		case 10:
			/* invalid arguments are status codes, not crashes */
			FUZZ_EQ(ak_counter_init(NULL, 1), AK_EINVAL);
			FUZZ_EQ(ak_counter_add_checked(NULL, 1, NULL), AK_EINVAL);
			FUZZ_EQ(ak_counter_add_bounded(NULL, 1, 1, NULL), AK_EINVAL);
			FUZZ_EQ(ak_counter_add_saturating(NULL, 1, NULL), AK_EINVAL);
			FUZZ_EQ(ak_ref_init(NULL, 1), AK_EINVAL);
			FUZZ_EQ(ak_ref_add(NULL, 1), AK_EINVAL);
			FUZZ_EQ(ak_ref_inc_not_zero(NULL), AK_EINVAL);
			FUZZ_EQ(ak_ref_sub_and_test(NULL, 1), false);
			FUZZ_EQ(ak_scounter_init(NULL, NULL, 1), AK_EINVAL);
			FUZZ_EQ(ak_scounter_init(&(ak_scounter){ 0 }, NULL, 0), AK_EINVAL);
			FUZZ_EQ(ak_scounter_init(&(ak_scounter){ 0 }, NULL, AK_SCOUNTER_MAX_CELLS + 1), AK_EINVAL);
			break;
		/* ak_ref: refcount_t semantics */
		case 11:
			n32 = fuzz_u32(&in);
			if (fuzz_u8(&in) & 1)
				n32 &= 0xff;
			st = ak_ref_add(&r, n32);
			if (n32 == 0 || n32 > AK_REF_MAX) {
				FUZZ_EQ(st, AK_EINVAL);
			} else if (m.ref == 0 || ref_sat(m.ref) || ref_sat(m.ref + n32)) {
				FUZZ_EQ(st, AK_ESATURATED);
				m.ref = AK_REF_SATURATED;
			} else {
				FUZZ_EQ(st, AK_OK);
				m.ref += n32;
			}
			break;
		case 12:
			st = ak_ref_inc_not_zero(&r);
			if (m.ref == 0) {
				FUZZ_EQ(st, AK_ENOENT);
			} else if (ref_sat(m.ref)) {
				FUZZ_EQ(st, AK_ESATURATED);
			} else if (m.ref == AK_REF_MAX) {
				FUZZ_EQ(st, AK_ESATURATED);
				m.ref = AK_REF_SATURATED;
			} else {
				FUZZ_EQ(st, AK_OK);
				m.ref++;
			}
			break;
		case 13: {
			bool z;
			n32 = fuzz_u8(&in) & 3;
			z = ak_ref_sub_and_test(&r, n32);
			if (n32 == 0) {
				FUZZ_EQ(z, false);
			} else if (m.ref == n32) {
				FUZZ_EQ(z, true);
				m.ref = 0;
			} else {
				FUZZ_EQ(z, false);
				if (ref_sat(m.ref) || m.ref < n32)
					m.ref = AK_REF_SATURATED;
				else
					m.ref -= n32;
			}
			break;
		}
		case 14:
			FUZZ_EQ(ak_ref_is_saturated(&r), ref_sat(m.ref));
			if (!ref_sat(m.ref))
				FUZZ_EQ(ak_ref_read(&r), m.ref);
			break;
		case 15:
			n32 = fuzz_u32(&in);
			st = ak_ref_init(&r, n32);
			if (n32 > AK_REF_MAX) {
				FUZZ_EQ(st, AK_EINVAL);
			} else {
				FUZZ_EQ(st, AK_OK);
				m.ref = n32;
			}
			break;
		/* ak_scounter */
		case 16:
			n = fuzz_edge64(&in);
			ak_scounter_add(&sc, n);
			m.sc += n;
			break;
		case 17:
			n = fuzz_edge64(&in);
			ak_scounter_sub(&sc, n);
			m.sc -= n;
			break;
		case 18:
			FUZZ_EQ(ak_scounter_sum(&sc), m.sc);
			break;
		case 19:
			FUZZ_EQ(ak_scounter_drain(&sc), m.sc);
			m.sc = 0;
			FUZZ_EQ(ak_scounter_sum(&sc), 0);
			break;
		}
		FUZZ_EQ(ak_counter_load(&c), m.c);
	}
	FUZZ_EQ(ak_scounter_destroy(&sc), AK_OK);
	return 0;
}
