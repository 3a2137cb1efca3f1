/* Unit tests: counter family single-threaded semantics and edge cases. */
#include <atomkit/counter.h>
#include <stdlib.h>

#include "check.h"

static void test_status(void)
{
	CHECK_STR(ak_strerror(AK_OK), "success");
	CHECK_STR(ak_strerror(AK_EINVAL), "invalid argument");
	CHECK_STR(ak_strerror(-1), "unknown status");
	CHECK_STR(ak_strerror(AK_STATUS_COUNT_), "unknown status");
	CHECK_STR(ak_status_name(AK_EOVERFLOW), "AK_EOVERFLOW");
	CHECK_STR(ak_status_name(12345), "AK_?");
	for (int s = 0; s < AK_STATUS_COUNT_; s++) {
		CHECK(ak_strerror(s)[0] != '\0');
		CHECK(strncmp(ak_status_name(s), "AK_", 3) == 0);
	}
}

static void test_plain(void)
{
	ak_counter c = AK_COUNTER_INIT(5);
	uint64_t e;

	CHECK_EQ_U64(ak_counter_load(&c), 5);
	CHECK_ST(ak_counter_init(&c, 0), AK_OK);
	CHECK_ST(ak_counter_init(NULL, 0), AK_EINVAL);
	ak_counter_add(&c, 10);
	ak_counter_inc(&c);
	ak_counter_sub(&c, 3);
	ak_counter_dec(&c);
	CHECK_EQ_U64(ak_counter_load(&c), 7);
	CHECK_EQ_U64(ak_counter_fetch_add(&c, 3), 7);
	CHECK_EQ_U64(ak_counter_add_fetch(&c, 3), 13);
	CHECK_EQ_U64(ak_counter_fetch_sub(&c, 1), 13);
	CHECK_EQ_U64(ak_counter_sub_fetch(&c, 2), 10);
	CHECK_EQ_U64(ak_counter_exchange(&c, 100), 10);
	e = 99;
	CHECK(!ak_counter_cas(&c, &e, 1));
	CHECK_EQ_U64(e, 100);
	CHECK(ak_counter_cas(&c, &e, 1));
	CHECK_EQ_U64(ak_counter_load(&c), 1);
	ak_counter_store(&c, 77);
	CHECK_EQ_U64(ak_counter_load_explicit(&c, memory_order_acquire), 77);
	ak_counter_store_explicit(&c, 78, memory_order_release);
	CHECK_EQ_U64(ak_counter_fetch_add_explicit(&c, 2, memory_order_acq_rel), 78);
	CHECK_EQ_U64(ak_counter_fetch_sub_explicit(&c, 1, memory_order_seq_cst), 80);
	CHECK_EQ_U64(ak_counter_exchange_explicit(&c, 5, memory_order_acq_rel), 79);
	e = 5;
	CHECK(ak_counter_cas_explicit(&c, &e, 6, memory_order_acq_rel, memory_order_acquire));
	CHECK_EQ_U64(ak_counter_load(&c), 6);
}

static void test_wrap(void)
{
	ak_counter c = AK_COUNTER_INIT(UINT64_MAX);
	/* plain forms wrap modulo 2^64, documented */
	ak_counter_inc(&c);
	CHECK_EQ_U64(ak_counter_load(&c), 0);
	ak_counter_dec(&c);
	CHECK_EQ_U64(ak_counter_load(&c), UINT64_MAX);
	CHECK_EQ_U64(ak_counter_add_fetch(&c, 2), 1);
}

static void test_checked(void)
{
	ak_counter c = AK_COUNTER_INIT(UINT64_MAX - 2);
	uint64_t out = 0;

	CHECK_ST(ak_counter_add_checked(&c, 2, &out), AK_OK);
	CHECK_EQ_U64(out, UINT64_MAX);
	CHECK_ST(ak_counter_add_checked(&c, 1, &out), AK_EOVERFLOW);
	CHECK_EQ_U64(out, UINT64_MAX);          /* the value seen */
	CHECK_EQ_U64(ak_counter_load(&c), UINT64_MAX); /* unchanged */
	CHECK_ST(ak_counter_add_checked(&c, 0, NULL), AK_OK);
	CHECK_ST(ak_counter_add_checked(NULL, 1, NULL), AK_EINVAL);
	ak_counter_store(&c, 3);
	CHECK_ST(ak_counter_sub_checked(&c, 4, &out), AK_EOVERFLOW);
	CHECK_EQ_U64(ak_counter_load(&c), 3);
	CHECK_ST(ak_counter_sub_checked(&c, 3, &out), AK_OK);
	CHECK_EQ_U64(out, 0);
	CHECK_ST(ak_counter_sub_checked(NULL, 3, &out), AK_EINVAL);
	/* the largest possible jump */
	ak_counter_store(&c, 0);
	CHECK_ST(ak_counter_add_checked(&c, UINT64_MAX, &out), AK_OK);
	CHECK_ST(ak_counter_add_checked(&c, UINT64_MAX, &out), AK_EOVERFLOW);
}

static void test_bounded(void)
{
	ak_counter c = AK_COUNTER_INIT(0);
	uint64_t out = 0;

	CHECK_ST(ak_counter_add_bounded(&c, 5, 10, &out), AK_OK);
	CHECK_EQ_U64(out, 5);
	CHECK_ST(ak_counter_add_bounded(&c, 5, 10, &out), AK_OK);
	CHECK_EQ_U64(out, 10);
	CHECK_ST(ak_counter_add_bounded(&c, 1, 10, &out), AK_ERANGE);
	CHECK_EQ_U64(ak_counter_load(&c), 10);
	CHECK_ST(ak_counter_add_bounded(&c, 0, 10, &out), AK_OK); /* 10 <= 10 */
	/* value already above a smaller limit: refuse, do not wrap */
	CHECK_ST(ak_counter_add_bounded(&c, 0, 3, &out), AK_ERANGE);
	CHECK_EQ_U64(out, 10);
	/* no overflow in the limit check itself */
	ak_counter_store(&c, UINT64_MAX - 1);
	CHECK_ST(ak_counter_add_bounded(&c, 2, UINT64_MAX, &out), AK_ERANGE);
	CHECK_ST(ak_counter_add_bounded(&c, 1, UINT64_MAX, &out), AK_OK);
	CHECK_EQ_U64(out, UINT64_MAX);
	CHECK_ST(ak_counter_add_bounded(NULL, 1, 1, &out), AK_EINVAL);
}

static void test_saturating(void)
{
	ak_counter c = AK_COUNTER_INIT(UINT64_MAX - 5);
	uint64_t out = 0;

	CHECK_ST(ak_counter_add_saturating(&c, 5, &out), AK_OK);
	CHECK_EQ_U64(out, UINT64_MAX);
	ak_counter_store(&c, UINT64_MAX - 5);
	CHECK_ST(ak_counter_add_saturating(&c, 6, &out), AK_ESATURATED);
	CHECK_EQ_U64(out, UINT64_MAX);
	CHECK_ST(ak_counter_add_saturating(&c, 1, &out), AK_ESATURATED);
	CHECK_EQ_U64(ak_counter_load(&c), UINT64_MAX);
	CHECK_ST(ak_counter_add_saturating(NULL, 1, &out), AK_EINVAL);
}

static void test_ref(void)
{
	ak_ref r = AK_REF_INIT(1);

	CHECK_ST(ak_ref_inc(&r), AK_OK);
	CHECK_EQ_U64(ak_ref_read(&r), 2);
	CHECK(!ak_ref_dec_and_test(&r));
	CHECK(ak_ref_dec_and_test(&r));
	CHECK_EQ_U64(ak_ref_read(&r), 0);
	/* get-unless-zero refuses a dead object */
	CHECK_ST(ak_ref_inc_not_zero(&r), AK_ENOENT);
	CHECK_EQ_U64(ak_ref_read(&r), 0);
	/* increment from zero is a use-after-free: saturate */
	CHECK_ST(ak_ref_inc(&r), AK_ESATURATED);
	CHECK(ak_ref_is_saturated(&r));
	CHECK(!ak_ref_dec_and_test(&r)); /* never freed */
	CHECK(ak_ref_is_saturated(&r));
	CHECK_EQ_U64(ak_ref_read(&r), AK_REF_SATURATED);

	/* overflow saturates and stays saturated */
	CHECK_ST(ak_ref_init(&r, AK_REF_MAX), AK_OK);
	CHECK_ST(ak_ref_inc(&r), AK_ESATURATED);
	CHECK_EQ_U64(ak_ref_read(&r), AK_REF_SATURATED);
	for (int i = 0; i < 1000; i++) {
		CHECK(!ak_ref_dec_and_test(&r));
	}
	CHECK_EQ_U64(ak_ref_read(&r), AK_REF_SATURATED);
	CHECK_ST(ak_ref_inc(&r), AK_ESATURATED);
	CHECK_ST(ak_ref_inc_not_zero(&r), AK_ESATURATED);

	/* inc_not_zero at the top saturates instead of wrapping */
	CHECK_ST(ak_ref_init(&r, AK_REF_MAX), AK_OK);
	CHECK_ST(ak_ref_inc_not_zero(&r), AK_ESATURATED);
	CHECK(ak_ref_is_saturated(&r));

	/* large steps (the CAS path above 2^16) behave like small ones */
	CHECK_ST(ak_ref_init(&r, 5), AK_OK);
	CHECK_ST(ak_ref_add(&r, AK_REF_MAX - 5), AK_OK);
	CHECK_EQ_U64(ak_ref_read(&r), AK_REF_MAX);
	CHECK(!ak_ref_sub_and_test(&r, AK_REF_MAX - 7));
	CHECK_EQ_U64(ak_ref_read(&r), 7);
	CHECK_ST(ak_ref_add(&r, UINT32_C(0x10001)), AK_OK);
	CHECK(ak_ref_sub_and_test(&r, UINT32_C(0x10008)));
	CHECK_EQ_U64(ak_ref_read(&r), 0);
	CHECK_ST(ak_ref_add(&r, UINT32_C(0x10001)), AK_ESATURATED); /* from zero */
	CHECK_EQ_U64(ak_ref_read(&r), AK_REF_SATURATED);
	CHECK_ST(ak_ref_init(&r, 5), AK_OK);
	CHECK_ST(ak_ref_add(&r, AK_REF_MAX - 4), AK_ESATURATED); /* overflow */
	CHECK_EQ_U64(ak_ref_read(&r), AK_REF_SATURATED);
	/* from saturated, any step leaves exactly the sentinel (a fetch_add
	 * of 2^30 would pass through 0 before the re-store) */
	CHECK_ST(ak_ref_add(&r, UINT32_C(0x40000000)), AK_ESATURATED);
	CHECK(!ak_ref_sub_and_test(&r, AK_REF_MAX));
	CHECK(!ak_ref_sub_and_test(&r, UINT32_C(0x40000001)));
	CHECK_EQ_U64(ak_ref_read(&r), AK_REF_SATURATED);
	CHECK_ST(ak_ref_init(&r, 5), AK_OK);
	CHECK(!ak_ref_sub_and_test(&r, UINT32_C(0x20000))); /* underflow */
	CHECK_EQ_U64(ak_ref_read(&r), AK_REF_SATURATED);

	/* underflow saturates */
	CHECK_ST(ak_ref_init(&r, 2), AK_OK);
	CHECK(!ak_ref_sub_and_test(&r, 3));
	CHECK(ak_ref_is_saturated(&r));

	/* multi-reference forms */
	CHECK_ST(ak_ref_init(&r, 1), AK_OK);
	CHECK_ST(ak_ref_add(&r, 9), AK_OK);
	CHECK(!ak_ref_sub_and_test(&r, 5));
	CHECK(ak_ref_sub_and_test(&r, 5));
	CHECK_ST(ak_ref_inc_not_zero(&r), AK_ENOENT);

	/* bad input */
	CHECK_ST(ak_ref_init(NULL, 1), AK_EINVAL);
	CHECK_ST(ak_ref_init(&r, AK_REF_MAX + 1), AK_EINVAL);
	CHECK_ST(ak_ref_add(&r, 0), AK_EINVAL);
	CHECK_ST(ak_ref_add(&r, AK_REF_MAX + 1), AK_EINVAL);
	CHECK_ST(ak_ref_add(NULL, 1), AK_EINVAL);
	CHECK_ST(ak_ref_inc_not_zero(NULL), AK_EINVAL);
	CHECK(!ak_ref_sub_and_test(NULL, 1));
	CHECK(!ak_ref_sub_and_test(&r, 0));
}

static void test_scounter(void)
{
	ak_scounter s;
	static AK_CACHE_ALIGNED ak_scounter_cell cells[4];

	CHECK_ST(ak_scounter_init(NULL, NULL, 4), AK_EINVAL);
	CHECK_ST(ak_scounter_init(&s, NULL, 0), AK_EINVAL);
	CHECK_ST(ak_scounter_init(&s, NULL, AK_SCOUNTER_MAX_CELLS + 1), AK_EINVAL);
	/* misaligned caller storage */
	CHECK_ST(ak_scounter_init(&s, (ak_scounter_cell *)((char *)cells + 8), 2), AK_EINVAL);
	CHECK_ST(ak_scounter_destroy(NULL), AK_EINVAL);

	CHECK_ST(ak_scounter_init(&s, cells, 4), AK_OK);
	CHECK_EQ_U64(ak_scounter_sum(&s), 0);
	ak_scounter_add(&s, 10);
	ak_scounter_inc(&s);
	ak_scounter_sub(&s, 3);
	CHECK_EQ_U64(ak_scounter_sum(&s), 8);
	CHECK_EQ_U64(ak_scounter_drain(&s), 8);
	CHECK_EQ_U64(ak_scounter_sum(&s), 0);
	/* sub below zero wraps per cell, but the sum stays exact mod 2^64 */
	ak_scounter_sub(&s, 5);
	ak_scounter_add(&s, 7);
	CHECK_EQ_U64(ak_scounter_sum(&s), 2);
	CHECK_ST(ak_scounter_destroy(&s), AK_OK);
	CHECK_ST(ak_scounter_destroy(&s), AK_EINVAL); /* twice */

	CHECK(ak_scounter_default_cells() >= 2);
	CHECK((ak_scounter_default_cells() & (ak_scounter_default_cells() - 1)) == 0);
	CHECK_ST(ak_scounter_init(&s, NULL, ak_scounter_default_cells()), AK_OK);
	for (int i = 0; i < 1000; i++)
		ak_scounter_inc(&s);
	CHECK_EQ_U64(ak_scounter_sum(&s), 1000);
	CHECK_ST(ak_scounter_destroy(&s), AK_OK);

	/* one cell: still correct */
	CHECK_ST(ak_scounter_init(&s, NULL, 1), AK_OK);
	ak_scounter_add(&s, UINT64_MAX);
	ak_scounter_add(&s, 2);
	CHECK_EQ_U64(ak_scounter_sum(&s), 1);
	CHECK_ST(ak_scounter_destroy(&s), AK_OK);

	/* layout: cells do not share destructive units */
	CHECK(sizeof(ak_scounter_cell) == AK_DESTRUCTIVE_SIZE);
}

int main(void)
{
	test_status();
	test_plain();
	test_wrap();
	test_checked();
	test_bounded();
	test_saturating();
	test_ref();
	test_scounter();
	return check_report("counter");
}
