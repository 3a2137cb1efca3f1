/*
 * tests/headers/use_all.c - calls the inline functions of every family
 * through the umbrella header, single-threaded, and checks the results.
 *
 * scripts/check-link.sh compiles it with gcc and clang at -O0, -O1, -O2,
 * -O3 and -Os (-Wall -Wextra -Werror), links it against the library and
 * runs it.  gcc's -Wstringop-overflow / -Warray-bounds / -Wmaybe-uninitialized
 * false positives only show once the inline code is inlined into a caller
 * and optimised, which -fsyntax-only (scripts/check-headers.sh) never does.
 * The checks make sure each optimisation level also computes the same.
 */
#include <atomkit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(c)                                                                    \
	do {                                                                        \
		if (!(c)) {                                                         \
			fprintf(stderr, "use_all: %s:%d: %s\n", __FILE__, __LINE__, #c); \
			failures++;                                                 \
		}                                                                   \
	} while (0)

AK_RING_DEFINE(u64_ring, uint64_t);

static int counters(void)
{
	ak_counter c = AK_COUNTER_INIT(5);
	ak_ref r;
	ak_scounter s;
	ak_scounter_cell cells[4];
	uint64_t v = 0, e = 6;

	ak_counter_inc(&c);
	CHECK(ak_counter_cas(&c, &e, 10));
	ak_counter_add(&c, 5);
	ak_counter_sub(&c, 1);
	ak_counter_dec(&c);
	CHECK(ak_counter_fetch_add(&c, 1) == 13);
	CHECK(ak_counter_fetch_sub(&c, 1) == 14);
	CHECK(ak_counter_add_fetch(&c, 2) == 15);
	CHECK(ak_counter_sub_fetch(&c, 2) == 13);
	CHECK(ak_counter_exchange(&c, UINT64_MAX - 1) == 13);
	CHECK(ak_counter_add_checked(&c, 2, &v) == AK_EOVERFLOW);
	CHECK(ak_counter_add_saturating(&c, 9, &v) == AK_ESATURATED && v == UINT64_MAX);
	ak_counter_store(&c, 3);
	CHECK(ak_counter_sub_checked(&c, 4, &v) != AK_OK && ak_counter_load(&c) == 3);
	CHECK(ak_counter_add_bounded(&c, 10, 8, &v) != AK_OK);
	ak_counter_store_explicit(&c, 1, memory_order_release);
	CHECK(ak_counter_load_explicit(&c, memory_order_acquire) == 1);
	CHECK(ak_counter_fetch_add_explicit(&c, 1, memory_order_relaxed) == 1);
	CHECK(ak_counter_fetch_sub_explicit(&c, 1, memory_order_relaxed) == 2);
	CHECK(ak_counter_exchange_explicit(&c, 7, memory_order_acq_rel) == 1);
	e = 7;
	CHECK(ak_counter_cas_explicit(&c, &e, 8, memory_order_acq_rel, memory_order_relaxed));

	ak_ref_init(&r, 1);
	ak_ref_inc(&r);
	ak_ref_add(&r, 2);
	CHECK(ak_ref_inc_not_zero(&r) == AK_OK);
	CHECK(ak_ref_read(&r) == 5 && !ak_ref_is_saturated(&r));
	CHECK(!ak_ref_sub_and_test(&r, 4));
	CHECK(ak_ref_dec_and_test(&r));

	CHECK(ak_scounter_init(&s, cells, 4) == AK_OK);
	ak_scounter_inc(&s);
	ak_scounter_add(&s, 10);
	ak_scounter_sub(&s, 3);
	CHECK(ak_scounter_sum(&s) == 8);
	CHECK(ak_scounter_drain(&s) == 8 && ak_scounter_sum(&s) == 0);
	return 0;
}

static int rings(void)
{
	static uint64_t store[64];
	static unsigned char vstore[4096];
	ak_ring r;
	u64_ring q;
	ak_ring_var rv;
	ak_ring_zc zc;
	ak_ring_seq *rs;
	ak_ring_seq_ref ref;
	uint64_t a[4] = { 1, 2, 3, 4 }, b[4] = { 0 }, x = 0, k = 0;
	char msg[16];
	size_t len = 0;
	const void *p;

	CHECK(ak_ring_init(&r, store, sizeof store, 8, sizeof(uint64_t), 0) == AK_OK);
	CHECK(ak_ring_push_spsc(&r, &a[0]) == AK_OK);
	CHECK(ak_ring_push_bulk_mpmc(&r, &a[1], 3) == AK_OK);
	CHECK(ak_ring_size(&r) == 4 && !ak_ring_empty(&r) && !ak_ring_full(&r));
	CHECK(ak_ring_capacity(&r) >= 8 && ak_ring_elem_size(&r) == sizeof(uint64_t));
	CHECK(ak_ring_pop_mpmc(&r, &x) == AK_OK && x == 1);
	CHECK(ak_ring_pop_burst_spsc(&r, b, 4, &k) == AK_OK && k == 3 && b[2] == 4);
	CHECK(ak_ring_reserve_spsc(&r, 2, &zc) == AK_OK && zc.n == 2);
	((uint64_t *)zc.seg[0])[0] = 9;
	if (zc.len[0] > 1)
		((uint64_t *)zc.seg[0])[1] = 10;
	else
		((uint64_t *)zc.seg[1])[0] = 10;
	CHECK(ak_ring_commit_spsc(&r, &zc) == AK_OK);
	CHECK(ak_ring_peek_spsc(&r, 2, &zc) == AK_OK && zc.n == 2 && *(uint64_t *)zc.seg[0] == 9);
	CHECK(ak_ring_release_spsc(&r, &zc) == AK_OK);
	CHECK(ak_ring_push_wait_mpmc(&r, &a[3], AK_DEADLINE_NONE, NULL) == AK_OK);
	CHECK(ak_ring_pop_wait_spmc(&r, &x, 0, NULL) == AK_OK && x == 4);
	CHECK(ak_ring_push_bulk_wait_spsc(&r, a, 4, AK_DEADLINE_NONE, NULL) == AK_OK);
	CHECK(ak_ring_pop_bulk_wait_mpsc(&r, b, 4, 0, NULL) == AK_OK && b[3] == 4);
	CHECK(ak_ring_close(&r) == AK_OK && ak_ring_is_closed(&r));
	CHECK(ak_ring_pop_spsc(&r, &x) == AK_ECLOSED);

	CHECK(u64_ring_init(&q, store, sizeof store, 8, 0) == AK_OK);
	CHECK(u64_ring_push_spsc(&q, 42) == AK_OK && u64_ring_pop_spsc(&q, &x) == AK_OK && x == 42);

	CHECK(ak_ring_var_init(&rv, vstore, sizeof vstore, 1024, 0) == AK_OK);
	CHECK(ak_ring_var_push_spsc(&rv, "hello", 6) == AK_OK);
	CHECK(ak_ring_var_bytes_used(&rv) > 0 && ak_ring_var_max_record(&rv) >= 6);
	CHECK(ak_ring_var_peek_spsc(&rv, &p, &len) == AK_OK && len == 6 && !strcmp((const char *)p, "hello"));
	CHECK(ak_ring_var_release_spsc(&rv) == AK_OK);
	CHECK(ak_ring_var_push_spsc(&rv, "abc", 4) == AK_OK);
	CHECK(ak_ring_var_pop_spsc(&rv, msg, sizeof msg, &len) == AK_OK && len == 4 && !strcmp(msg, "abc"));
	{
		void *w;
		CHECK(ak_ring_var_reserve_spsc(&rv, 3, &w) == AK_OK);
		memcpy(w, "xy", 3);
		CHECK(ak_ring_var_commit_spsc(&rv, 3) == AK_OK);
		CHECK(ak_ring_var_pop_wait_spsc(&rv, msg, sizeof msg, &len, 0, NULL) == AK_OK && len == 3);
		CHECK(ak_ring_var_push_wait_spsc(&rv, "z", 2, 0, NULL) == AK_OK);
		CHECK(ak_ring_var_close(&rv) == AK_OK && ak_ring_var_memsize(1024) >= 1024);
	}

	CHECK(ak_ring_seq_new(&rs, 8, sizeof(uint64_t), 0) == AK_OK);
	CHECK(ak_ring_seq_push_mpmc(rs, &a[0]) == AK_OK && ak_ring_seq_push64_spsc(rs, 7) == AK_OK);
	CHECK(ak_ring_seq_size(rs) == 2 && !ak_ring_seq_empty(rs) && !ak_ring_seq_full(rs));
	CHECK(ak_ring_seq_capacity(rs) >= 8 && ak_ring_seq_elem_size(rs) == sizeof(uint64_t));
	CHECK(ak_ring_seq_pop_mpmc(rs, &x) == AK_OK && x == 1);
	CHECK(ak_ring_seq_pop64_spsc(rs, &x) == AK_OK && x == 7);
	CHECK(ak_ring_seq_reserve_mpmc(rs, &ref) == AK_OK);
	*(uint64_t *)ref.ptr = 11;
	ak_ring_seq_commit(rs, &ref);
	CHECK(ak_ring_seq_peek_mpmc(rs, &ref) == AK_OK && *(uint64_t *)ref.ptr == 11);
	ak_ring_seq_release(rs, &ref);
	CHECK(ak_ring_seq_push_bulk_spmc(rs, a, 4) == AK_OK);
	CHECK(ak_ring_seq_pop_burst_mpsc(rs, b, 4, &len) == AK_OK && len == 4 && b[3] == 4);
	CHECK(ak_ring_seq_push_bulk_mpsc(rs, a, 2) == AK_OK && ak_ring_seq_pop_bulk_spsc(rs, b, 2) == AK_OK);
	CHECK(ak_ring_seq_close(rs) == AK_OK && ak_ring_seq_is_closed(rs));
	ak_ring_seq_delete(rs);
	return 0;
}

static int snapshots(void)
{
	struct rec {
		uint64_t a;
		uint32_t b; /* a partial last word */
	} in = { 1, 2 }, out;
	_Atomic(uint64_t) w1[AK_SEQLOCK_WORDS(sizeof(struct rec))], w2[AK_SEQLATCH_WORDS(sizeof(struct rec))];
	ak_seqlock sl;
	ak_seqlatch lt;
	ak_vcell vc;
	ak_vcell32 v32;
	ak_vcell_snap s;
	uint32_t start;

	CHECK(ak_seqlock_init(&sl, w1, sizeof in, &in) == AK_OK);
	in.a = 3;
	CHECK(ak_seqlock_write(&sl, &in, sizeof in) == AK_OK);
	CHECK(ak_seqlock_try_read(&sl, &out, sizeof out, 1) == AK_OK && out.a == 3 && out.b == 2);
	CHECK(ak_seqlock_write_begin(&sl) == AK_OK);
	ak_seqlock_store_word(&sl, 0, 4);
	CHECK(ak_seqlock_write_end(&sl) == AK_OK);
	CHECK(ak_seqlock_try_write_begin(&sl) == AK_OK && ak_seqlock_write_end(&sl) == AK_OK);
	start = ak_seqlock_read_begin(&sl);
	CHECK(ak_seqlock_load_word(&sl, 0) == 4 && !ak_seqlock_read_retry(&sl, start));
	CHECK(ak_seqlock_read(&sl, &out, sizeof out) == AK_OK && out.a == 4);
	CHECK(ak_seqlock_writes(&sl) == 3);
	CHECK(ak_seqlatch_init(&lt, w2, sizeof in, &in) == AK_OK);
	in.b = 9;
	CHECK(ak_seqlatch_write(&lt, &in, sizeof in) == AK_OK && ak_seqlatch_writes(&lt) == 1);
	CHECK(ak_seqlatch_try_read(&lt, &out, sizeof out, 1) == AK_OK && out.b == 9);
	CHECK(ak_seqlatch_read(&lt, &out, sizeof out) == AK_OK && out.a == 3);

	CHECK(ak_vcell_init(&vc, 1, 0) == AK_OK);
	CHECK(ak_vcell_store(&vc, 2) == 1);
	CHECK(ak_vcell_cas(&vc, 1, 3, &s) == AK_OK && s.version == 2);
	CHECK(ak_vcell_exchange(&vc, 4).value == 3 && ak_vcell_version(&vc) == 3);
	s = ak_vcell_load(&vc);
	CHECK(s.value == 4 && !ak_vcell_changed_since(&vc, 3));
	CHECK(ak_vcell32_init(&v32, 1, UINT32_MAX) == AK_OK);
	CHECK(ak_vcell32_store(&v32, 2) == 0); /* wraps */
	CHECK(ak_vcell32_cas(&v32, 0, 3, NULL) == AK_OK && ak_vcell32_exchange(&v32, 4).value == 3);
	CHECK(ak_vcell32_load(&v32).value == 4 && ak_vcell32_version(&v32) == 2 &&
	      ak_vcell32_changed_since(&v32, 0));
	return 0;
}

static ak_status plus_one(void *clone, void *arg)
{
	(void)arg;
	*(int *)clone += 1;
	return AK_OK;
}

static void count_call(void *arg)
{
	(*(int *)arg)++;
}

static int others(void)
{
	ak_fake_clock fc;
	ak_clock clk;
	ak_cow cow;
	ak_cow_reader *rd;
	ak_progress pm;
	ak_progress_snap ps;
	ak_heartbeat hb;
	ak_limiter lim;
	ak_limiter_ticket lt;
	ak_limiter_table tab;
	ak_limiter_slot slots[8];
	ak_tbucket tb;
	ak_tbucket_ticket tt;
	ak_cancel tok;
	ak_cancel_cb cb;
	int calls = 0;
	ak_group grp;
	uint64_t wait = 0, k = 0, per = 0, given = 0;
	int init = 41;

	ak_fake_clock_set(&fc, 1000);
	CHECK(ak_fake_clock_advance(&fc, 1000) == 2000);
	clk = ak_fake_clock_as_clock(&fc);
	CHECK(ak_clock_read(&clk) == 2000);
	clk = ak_clock_monotonic();
	CHECK(ak_clock_read(&clk) > 0 && ak_now_ns() > 0 && ak_deadline_after(1) != AK_DEADLINE_NONE);
	clk = ak_fake_clock_as_clock(&fc);

	CHECK(ak_cow_init(&cow, &init, sizeof init, NULL) == AK_OK);
	CHECK(ak_cow_reader_open(&cow, &rd) == AK_OK);
	CHECK(*(const int *)ak_cow_read_begin(rd) == 41);
	ak_cow_read_end(rd);
	CHECK(ak_cow_update(&cow, plus_one, NULL, 0) == AK_OK);
	CHECK(*(const int *)ak_cow_read_begin(rd) == 42);
	ak_cow_read_end(rd);
	CHECK(ak_cow_reader_close(rd) == AK_OK && ak_cow_destroy(&cow) == AK_OK);

	CHECK(ak_progress_init(&pm, 10, AK_PROGRESS_SINGLE_WRITER, &clk) == AK_OK);
	CHECK(ak_progress_add(&pm, 2) == AK_OK && ak_progress_add_at(&pm, 1, 5000) == AK_OK);
	CHECK(ak_progress_snapshot(&pm, &ps) == AK_OK && ps.count == 3 && ps.last_ns == 5000);
	CHECK(ak_progress_snapshot_try(&pm, &ps, 1) == AK_OK && ak_progress_count(&pm) == 3);
	CHECK(ak_heartbeat_init(&hb, 1000, AK_PROGRESS_MULTI_WRITER, &clk) == AK_OK);
	CHECK(ak_heartbeat_beat(&hb) == AK_OK && ak_heartbeat_stalls(&hb) == 0);

	CHECK(ak_limiter_init(&lim, 1, 1000, 2, &clk) == AK_OK);
	ak_limiter_rate(&lim, &k, &per);
	CHECK(k == 1 && per == 1000 && ak_limiter_burst(&lim) == 2);
	CHECK(ak_limiter_try_acquire_at(&lim, 2000, 1, &wait) == AK_OK);
	CHECK(ak_limiter_try_acquire(&lim, 1, &wait) == AK_OK);
	CHECK(ak_limiter_try_acquire_at(&lim, 2000, 1, &wait) == AK_EAGAIN && wait > 0);
	CHECK(ak_limiter_reserve_at(&lim, 2000, 1, 5000, &lt, &wait) == AK_OK);
	CHECK(ak_limiter_cancel_at(&lim, 2000, &lt) == AK_OK);
	CHECK(ak_limiter_reserve(&lim, 1, 5000, &lt, &wait) == AK_OK && ak_limiter_cancel(&lim, &lt) == AK_OK);
	/* unchecked pattern (allowed): a failed reserve leaves an empty ticket */
	(void)ak_limiter_reserve_at(&lim, 2000, 3, 0, &lt, &wait);
	CHECK(ak_limiter_cancel_at(&lim, 2000, &lt) == AK_ESTATE);
	CHECK(ak_limiter_refund_at(&lim, 2000, 1, &given) == AK_OK && ak_limiter_refund(&lim, 1, &given) == AK_OK);
	CHECK(ak_limiter_available_at(&lim, 2000) <= 2);
	CHECK(ak_limiter_table_init(&tab, slots, 8, 1, 1000, 1, &clk) == AK_OK);
	CHECK(ak_limiter_table_try_acquire_at(&tab, 7, 2000, 1, &wait) == AK_OK);
	CHECK(ak_limiter_table_try_acquire(&tab, 7, 1, &wait) == AK_EAGAIN);

	CHECK(ak_tbucket_init(&tb, 1, 1000, 2, &clk) == AK_OK);
	CHECK(ak_tbucket_tokens(&tb) == 2);
	CHECK(ak_tbucket_try_acquire_at(&tb, 2000, 1, &wait) == AK_OK);
	CHECK(ak_tbucket_try_acquire(&tb, 1, &wait) == AK_OK);
	/* the documented pattern: use the ticket only after AK_OK */
	if (ak_tbucket_reserve_at(&tb, 2000, 1, 1u << 30, &tt, &wait) == AK_OK)
		CHECK(!ak_tbucket_ticket_ready(&tb, &tt) && ak_tbucket_cancel(&tb, &tt) == AK_OK);
	else
		CHECK(!"reserve_at");
	if (ak_tbucket_reserve(&tb, 1, 1u << 30, &tt, &wait) == AK_OK)
		CHECK(ak_tbucket_cancel(&tb, &tt) == AK_OK);
	else
		CHECK(!"reserve");
	/* unchecked pattern (allowed): a failed reserve leaves an empty
	 * ticket and cancelling it is AK_ESTATE, with no uninitialised read */
	(void)ak_tbucket_reserve_at(&tb, 2000, 3, 0, &tt, &wait);
	CHECK(ak_tbucket_cancel(&tb, &tt) == AK_ESTATE);

	CHECK(ak_cancel_init(&tok) == AK_OK && ak_cancel_deadline(&tok) == AK_DEADLINE_NONE);
	CHECK(ak_cancel_cb_register(&tok, &cb, count_call, &calls) == AK_OK && !ak_cancel_cb_ran(&cb));
	CHECK(ak_cancel_signals_last(NULL) == 0);
	CHECK(!ak_cancel_is_set(&tok) && ak_cancel_cause(&tok) == 0);
	CHECK(ak_cancel_request(&tok, 3) && ak_cancel_is_set(&tok) && ak_cancel_cause(&tok) == 3);
	CHECK(ak_cancel_cb_ran(&cb) && calls == 1);
	CHECK(ak_cancel_destroy(&tok) == AK_OK);
	CHECK(ak_group_init(&grp, NULL, 0) == AK_OK);
	CHECK(ak_group_token(&grp) != NULL && !ak_cancel_is_set(ak_group_token(&grp)));
	CHECK(ak_group_destroy(&grp) == AK_OK);
	return 0;
}

int main(void)
{
	counters();
	rings();
	snapshots();
	others();
	if (failures) {
		fprintf(stderr, "use_all: %d check(s) failed\n", failures);
		return 1;
	}
	printf("use_all ok: every family's inline functions called and checked\n");
	return 0;
}
