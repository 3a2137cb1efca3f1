/* Unit tests: progress meter, rate/ETA math and formatting, all on a fake clock. */
#include <atomkit/progress.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

#define MS AK_NS_PER_MS
#define SEC AK_NS_PER_SEC

static ak_fake_clock fc;
static ak_clock clk;

static void snap_of(const ak_progress *p, ak_progress_snap *s)
{
	CHECK_ST(ak_progress_snapshot(p, s), AK_OK);
}

static void test_meter_mode(unsigned mode)
{
	ak_progress p;
	ak_progress_snap s;

	ak_fake_clock_set(&fc, 1000);
	CHECK_ST(ak_progress_init(&p, 10, mode, &clk), AK_OK);
	snap_of(&p, &s);
	CHECK_EQ_U64(s.count, 0);
	CHECK_EQ_U64(s.total, 10);
	CHECK_EQ_U64(s.started_ns, 1000);
	CHECK_EQ_U64(s.last_ns, 1000);

	ak_fake_clock_set(&fc, 2000);
	CHECK_ST(ak_progress_add(&p, 3), AK_OK);
	snap_of(&p, &s);
	CHECK_EQ_U64(s.count, 3);
	CHECK_EQ_U64(s.last_ns, 2000);
	CHECK_EQ_U64(s.started_ns, 1000);
	CHECK_EQ_U64(ak_progress_count(&p), 3);

	/* a clock stepping back leaves last_ns where it was */
	ak_fake_clock_set(&fc, 1500);
	CHECK_ST(ak_progress_add(&p, 1), AK_OK);
	snap_of(&p, &s);
	CHECK_EQ_U64(s.count, 4);
	CHECK_EQ_U64(s.last_ns, 2000);

	/* explicit timestamps */
	CHECK_ST(ak_progress_add_at(&p, 2, 5000), AK_OK);
	snap_of(&p, &s);
	CHECK_EQ_U64(s.count, 6);
	CHECK_EQ_U64(s.last_ns, 5000);

	/* touch: time moves, count does not */
	ak_fake_clock_set(&fc, 7000);
	CHECK_ST(ak_progress_touch(&p), AK_OK);
	snap_of(&p, &s);
	CHECK_EQ_U64(s.count, 6);
	CHECK_EQ_U64(s.last_ns, 7000);

	/* set: forward moves, same value is not progress, backwards refused */
	ak_fake_clock_set(&fc, 8000);
	CHECK_ST(ak_progress_set(&p, 9), AK_OK);
	ak_fake_clock_set(&fc, 9000);
	CHECK_ST(ak_progress_set(&p, 9), AK_OK);
	snap_of(&p, &s);
	CHECK_EQ_U64(s.count, 9);
	CHECK_EQ_U64(s.last_ns, 8000);
	CHECK_ST(ak_progress_set(&p, 8), AK_ERANGE);
	snap_of(&p, &s);
	CHECK_EQ_U64(s.count, 9);
	CHECK_EQ_U64(s.last_ns, 8000);
	CHECK_ST(ak_progress_set_at(&p, 10, 8500), AK_OK);
	snap_of(&p, &s);
	CHECK_EQ_U64(s.count, 10);
	CHECK_EQ_U64(s.last_ns, 8500);

	/* total: not progress */
	CHECK_ST(ak_progress_set_total(&p, AK_PROGRESS_UNKNOWN), AK_OK);
	snap_of(&p, &s);
	CHECK_EQ_U64(s.total, AK_PROGRESS_UNKNOWN);
	CHECK_EQ_U64(s.last_ns, 8500);

	/* overflow: refused, nothing changed */
	CHECK_ST(ak_progress_add(&p, UINT64_MAX - 10), AK_OK);
	ak_fake_clock_set(&fc, 9500);
	CHECK_ST(ak_progress_add(&p, 1), AK_EOVERFLOW);
	snap_of(&p, &s);
	CHECK_EQ_U64(s.count, UINT64_MAX);
	CHECK_EQ_U64(s.last_ns, 9000);
	CHECK_ST(ak_progress_add(&p, 0), AK_OK); /* still a touch */
	snap_of(&p, &s);
	CHECK_EQ_U64(s.last_ns, 9500);

	/* start again */
	ak_fake_clock_set(&fc, 20000);
	CHECK_ST(ak_progress_start(&p, 50), AK_OK);
	snap_of(&p, &s);
	CHECK_EQ_U64(s.count, 0);
	CHECK_EQ_U64(s.total, 50);
	CHECK_EQ_U64(s.started_ns, 20000);
	CHECK_EQ_U64(s.last_ns, 20000);

	/* idle seq: multi-writer leaves bit 1 (the lock) clear */
	uint64_t seq = atomic_load_explicit(&p.seq, memory_order_relaxed);
	if (mode == AK_PROGRESS_MULTI_WRITER)
		CHECK_EQ_U64(seq & 3, 0);
	else
		CHECK_EQ_U64(seq & 1, 0);
}

/* A reader that runs while a write is in progress on the same thread (what
 * a signal handler sees) gets the previous state at once. */
static void test_latch_mid_write(unsigned mode)
{
	ak_progress p;
	ak_progress_snap s, old, v;

	ak_fake_clock_set(&fc, 100);
	CHECK_ST(ak_progress_init(&p, AK_PROGRESS_UNKNOWN, mode, &clk), AK_OK);
	CHECK_ST(ak_progress_add_at(&p, 5, 200), AK_OK);
	uint64_t seq = _ak_progress_begin(&p);
	_ak_progress_cur(&p, &old);
	v = old;
	v.count = 6;
	v.last_ns = 300;
	/* the writer is "interrupted" here: one attempt suffices */
	CHECK_ST(ak_progress_snapshot_try(&p, &s, 1), AK_OK);
	CHECK_EQ_U64(s.count, 5);
	CHECK_EQ_U64(s.last_ns, 200);
	/* half way: copy[0] written by hand, readers still on copy[1] */
	atomic_store_explicit(&p.copy[0].count, 6, memory_order_relaxed);
	snap_of(&p, &s);
	CHECK_EQ_U64(s.count, 5);
	CHECK_EQ_U64(s.last_ns, 200);
	atomic_store_explicit(&p.copy[0].count, 5, memory_order_relaxed);
	_ak_progress_end(&p, seq, &v, &old);
	snap_of(&p, &s);
	CHECK_EQ_U64(s.count, 6);
	CHECK_EQ_U64(s.last_ns, 300);
	CHECK_EQ_U64(atomic_load_explicit(&p.copy[0].count, memory_order_relaxed),
		     atomic_load_explicit(&p.copy[1].count, memory_order_relaxed));
}

static void test_misuse(void)
{
	ak_progress p;
	ak_progress_snap s;
	ak_progress_rate r;
	ak_progress_est e;
	char buf[8];

	CHECK_ST(ak_progress_init(NULL, 1, AK_PROGRESS_SINGLE_WRITER, NULL), AK_EINVAL);
	CHECK_ST(ak_progress_init(&p, 1, 7, NULL), AK_EINVAL);
	CHECK_ST(ak_progress_init(&p, 1, AK_PROGRESS_SINGLE_WRITER, NULL), AK_OK); /* real clock */
	CHECK(ak_progress_count(&p) == 0);
	CHECK_ST(ak_progress_snapshot(NULL, &s), AK_EINVAL);
	CHECK_ST(ak_progress_snapshot(&p, NULL), AK_EINVAL);
	CHECK_ST(ak_progress_snapshot_try(NULL, &s, 1), AK_EINVAL);
	CHECK_ST(ak_progress_snapshot_try(&p, NULL, 1), AK_EINVAL);
	CHECK_ST(ak_progress_snapshot_try(&p, &s, 0), AK_EINVAL);
	CHECK_ST(ak_progress_snapshot_try(&p, &s, 1), AK_OK);
	CHECK_ST(ak_progress_set(NULL, 1), AK_EINVAL);
	CHECK_ST(ak_progress_set_at(NULL, 1, 1), AK_EINVAL);
	CHECK_ST(ak_progress_set_total(NULL, 1), AK_EINVAL);
	CHECK_ST(ak_progress_touch(NULL), AK_EINVAL);
	CHECK_ST(ak_progress_start(NULL, 1), AK_EINVAL);
	CHECK_ST(ak_progress_rate_init(NULL, SEC, SEC), AK_EINVAL);
	CHECK_ST(ak_progress_rate_init(&r, 0, SEC), AK_EINVAL);
	CHECK_ST(ak_progress_rate_init(&r, SEC, 0), AK_EINVAL);
	CHECK_ST(ak_progress_rate_init(&r, SEC, SEC), AK_OK);
	snap_of(&p, &s);
	CHECK_ST(ak_progress_estimate(NULL, &s, 0, &e), AK_EINVAL);
	CHECK_ST(ak_progress_estimate(&r, NULL, 0, &e), AK_EINVAL);
	CHECK_ST(ak_progress_estimate(&r, &s, 0, NULL), AK_EINVAL);
	CHECK_ST(ak_progress_estimate(&r, &s, s.last_ns, &e), AK_OK);
	CHECK_ST(ak_progress_format(NULL, 8, &e, NULL), AK_EINVAL);
	CHECK_ST(ak_progress_format(buf, sizeof buf, NULL, NULL), AK_EINVAL);
	CHECK_ST(ak_progress_format_duration(NULL, 4, 0, NULL), AK_EINVAL);
	CHECK_ST(ak_progress_display_init(NULL, &p, 1, NULL, AK_DISPLAY_AUTO, 0, NULL), AK_EINVAL);
}

static void test_exp(void)
{
	static const double xs[] = { 0, 1e-12, 1e-6, 0.001, 0.1, 0.33, 0.34, 0.5, 1,
				     2.5, 10, 37.4, 100, 699, 700, 701, 1e6 };
	for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
		double x = xs[i];
		double want = exp(-x), got = _ak_exp_neg(x);
		if (x <= 700)
			CHECK(fabs(got - want) <= 1e-15 * want);
		else /* below 1e-304: flushed to zero on purpose */
			CHECK(got == 0 && want < 1e-300);
		double w1 = -expm1(-x), g1 = _ak_one_minus_exp_neg(x);
		CHECK(fabs(g1 - w1) <= 1e-15 * w1);
	}
}

/* Feed a writer at `rate` items/s with updates every `step` ns for `dur`
 * ns, observing every `every` updates; return the final estimate. */
static double feed(ak_progress_rate *r, ak_progress *p, double rate1, double rate2,
		   uint64_t switch_ns, uint64_t step, uint64_t dur, int every)
{
	ak_progress_snap s;
	ak_progress_est e = { 0 };
	double items = 0;
	uint64_t done = 0;
	int k = 0;

	for (uint64_t t = step; t <= dur; t += step) {
		items += (double)step / 1e9 * (t <= switch_ns ? rate1 : rate2);
		uint64_t want = (uint64_t)(items + 0.5);
		CHECK_ST(ak_progress_add_at(p, want - done, t), AK_OK);
		done = want;
		if (++k % every == 0 || t + step > dur) {
			snap_of(p, &s);
			CHECK_ST(ak_progress_estimate(r, &s, t, &e), AK_OK);
		}
	}
	return e.rate;
}

static void test_rate_time_constant(void)
{
	ak_progress p;
	ak_progress_rate r;
	const uint64_t tau = 2 * SEC;
	/* 1000/s for 10 s, then 2000/s for one tau: the EWMA must be at
	 * 2000 - 1000 e^-1 whatever the update or observation rhythm. */
	const double want = 2000 - 1000 * exp(-1.0);
	static const struct {
		uint64_t step;
		int every;
	} cases[] = { { 1 * MS, 1 }, { 1 * MS, 100 }, { 10 * MS, 7 }, { 500 * MS, 1 },
		      { 1 * SEC, 1 }, { 2 * SEC, 1 } };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ak_fake_clock_set(&fc, 0);
		CHECK_ST(ak_progress_init(&p, AK_PROGRESS_UNKNOWN, AK_PROGRESS_SINGLE_WRITER, &clk),
			 AK_OK);
		CHECK_ST(ak_progress_rate_init(&r, tau, AK_PROGRESS_STALL_NEVER), AK_OK);
		double got = feed(&r, &p, 1000, 2000, 10 * SEC, cases[i].step, 12 * SEC,
				  cases[i].every);
		if (fabs(got - want) > want * 2e-3)
			fprintf(stderr, "step %llu every %d: rate %.3f want %.3f\n",
				(unsigned long long)cases[i].step, cases[i].every, got, want);
		CHECK(fabs(got - want) <= want * 2e-3);
	}
}

static void test_rate_decay_and_eta(void)
{
	ak_progress p;
	ak_progress_rate r;
	ak_progress_snap s;
	ak_progress_est e;
	char buf[96];

	ak_fake_clock_set(&fc, 0);
	CHECK_ST(ak_progress_init(&p, 5000, AK_PROGRESS_SINGLE_WRITER, &clk), AK_OK);
	CHECK_ST(ak_progress_rate_init(&r, 5 * SEC, 10 * SEC), AK_OK);

	/* nothing yet: rate and ETA unknown */
	snap_of(&p, &s);
	CHECK_ST(ak_progress_estimate(&r, &s, 100 * MS, &e), AK_OK);
	CHECK(!e.rate_known);
	CHECK(e.eta == AK_ETA_UNKNOWN);
	CHECK_ST(ak_progress_format(buf, sizeof buf, &e, NULL), AK_OK);
	CHECK_STR(buf, "0/5000 0.0% ?/s ETA ?");

	/* 1000/s, one update per 100 ms, to 1234 at 1.234 s */
	for (int i = 1; i <= 12; i++)
		CHECK_ST(ak_progress_add_at(&p, 100, (uint64_t)i * 100 * MS), AK_OK);
	CHECK_ST(ak_progress_add_at(&p, 34, 1234 * MS), AK_OK);
	snap_of(&p, &s);
	CHECK_ST(ak_progress_estimate(&r, &s, 1234 * MS, &e), AK_OK);
	CHECK(e.rate_known);
	CHECK(fabs(e.rate - 1000) < 1e-6);
	CHECK(e.eta == AK_ETA_KNOWN);
	CHECK(e.eta_ns > 3766 * MS - 1000 && e.eta_ns < 3766 * MS + 1000);
	CHECK_EQ_I64(e.percent_tenths, 247);
	CHECK_ST(ak_progress_format(buf, sizeof buf, &e, NULL), AK_OK);
	CHECK_STR(buf, "1234/5000 24.7% 1.00k/s ETA 3.8s");

	/* idle within the usual gap: no decay.  gap = 1234 ms (one segment) */
	CHECK_ST(ak_progress_estimate(&r, &s, 2000 * MS, &e), AK_OK);
	CHECK(fabs(e.rate - 1000) < 1e-6);
	/* idle beyond the gap decays with tau */
	CHECK_ST(ak_progress_estimate(&r, &s, (1234 + 1234 + 5000) * MS, &e), AK_OK);
	CHECK(fabs(e.rate - 1000 * exp(-1.0)) < 1e-6);
	CHECK(e.eta == AK_ETA_KNOWN);
	CHECK_EQ_U64(e.idle_ns, 6234 * MS);
	/* stalled once idle exceeds stall_ns */
	CHECK_ST(ak_progress_estimate(&r, &s, 1234 * MS + 10 * SEC, &e), AK_OK);
	CHECK(e.eta == AK_ETA_KNOWN); /* exactly stall_ns is not yet stalled */
	CHECK_ST(ak_progress_estimate(&r, &s, 1234 * MS + 20 * SEC, &e), AK_OK);
	CHECK(e.eta == AK_ETA_STALLED);
	CHECK_ST(ak_progress_format(buf, sizeof buf, &e, NULL), AK_OK);
	CHECK_STR(buf, "1234/5000 24.7% 23.4/s stalled 20.0s");

	/* progress resumes: no longer stalled; the long segment pulls the rate down */
	CHECK_ST(ak_progress_add_at(&p, 766, 1234 * MS + 20 * SEC), AK_OK);
	snap_of(&p, &s);
	CHECK_ST(ak_progress_estimate(&r, &s, 1234 * MS + 20 * SEC, &e), AK_OK);
	CHECK(e.eta == AK_ETA_KNOWN);
	double w = -expm1(-20.0 / 5.0);
	CHECK(fabs(e.rate - (1000 + w * (766.0 / 20 - 1000))) < 1e-6);

	/* finish: done, with the run time */
	CHECK_ST(ak_progress_add_at(&p, 3000, 30 * SEC), AK_OK);
	snap_of(&p, &s);
	CHECK_ST(ak_progress_estimate(&r, &s, 45 * SEC, &e), AK_OK);
	CHECK(e.eta == AK_ETA_DONE);
	CHECK_EQ_U64(e.elapsed_ns, 30 * SEC);
	CHECK_EQ_I64(e.percent_tenths, 1000);
	CHECK_ST(ak_progress_format(buf, sizeof buf, &e, NULL), AK_OK);
	CHECK(strstr(buf, "5000/5000 100.0% ") == buf);
	CHECK(strstr(buf, " done 30.0s") != NULL);

	/* a restarted run resets the rate */
	ak_fake_clock_set(&fc, 50 * SEC);
	CHECK_ST(ak_progress_start(&p, 10), AK_OK);
	snap_of(&p, &s);
	CHECK_ST(ak_progress_estimate(&r, &s, 51 * SEC, &e), AK_OK);
	CHECK(!e.rate_known);
	CHECK_ST(ak_progress_add_at(&p, 4, 52 * SEC), AK_OK);
	snap_of(&p, &s);
	CHECK_ST(ak_progress_estimate(&r, &s, 52 * SEC, &e), AK_OK);
	CHECK(e.rate_known && fabs(e.rate - 2.0) < 1e-9);
	CHECK_EQ_U64(e.eta_ns, 3 * SEC);
	CHECK_ST(ak_progress_format(buf, sizeof buf, &e, NULL), AK_OK);
	CHECK_STR(buf, "4/10 40.0% 2.00/s ETA 3.0s");
}

static void fmt_snap(uint64_t count, uint64_t total, uint64_t last, uint64_t now, char *buf,
		     size_t size)
{
	ak_progress_rate r;
	ak_progress_snap s = { count, total, 0, last };
	ak_progress_est e;
	CHECK_ST(ak_progress_rate_init(&r, SEC, AK_PROGRESS_STALL_NEVER), AK_OK);
	CHECK_ST(ak_progress_estimate(&r, &s, now, &e), AK_OK);
	CHECK_ST(ak_progress_format(buf, size, &e, NULL), AK_OK);
}

static void test_format_edges(void)
{
	char buf[128];
	size_t len = 0;

	/* zero total: done at once */
	fmt_snap(0, 0, 0, 0, buf, sizeof buf);
	CHECK_STR(buf, "0/0 100.0% ?/s done 0.0s");
	/* unknown total */
	fmt_snap(1234, AK_PROGRESS_UNKNOWN, 2 * SEC, 2 * SEC, buf, sizeof buf);
	CHECK_STR(buf, "1234 617/s ETA ?");
	/* huge counts: printed in full, 99.9% until really done */
	fmt_snap(UINT64_MAX - 2, UINT64_MAX - 1, SEC, SEC, buf, sizeof buf);
	CHECK_STR(buf, "18446744073709551613/18446744073709551614 99.9% 18.4E/s ETA 0.0s");
	fmt_snap(UINT64_MAX - 1, AK_PROGRESS_UNKNOWN, 1, 1, buf, sizeof buf);
	CHECK_STR(buf, "18446744073709551614 >999E/s ETA ?");
	/* overshoot */
	fmt_snap(120, 100, 2 * SEC, 3 * SEC, buf, sizeof buf);
	CHECK_STR(buf, "120/100 120.0% 60.0/s done 2.0s");
	/* rounding just below the end stays below 100% */
	fmt_snap(99999, 100000, SEC, SEC, buf, sizeof buf);
	CHECK(strncmp(buf, "99999/100000 99.9% ", 19) == 0);
	/* slow rates */
	fmt_snap(4, 10, 200 * SEC, 200 * SEC, buf, sizeof buf);
	CHECK_STR(buf, "4/10 40.0% 0.02/s ETA 5m00s");

	/* truncation: E2BIG, NUL-terminated, full length reported */
	ak_progress_rate r;
	ak_progress_snap s = { 1234, 5000, 0, SEC };
	ak_progress_est e;
	CHECK_ST(ak_progress_rate_init(&r, SEC, AK_PROGRESS_STALL_NEVER), AK_OK);
	CHECK_ST(ak_progress_estimate(&r, &s, SEC, &e), AK_OK);
	CHECK_ST(ak_progress_format(buf, sizeof buf, &e, &len), AK_OK);
	CHECK_STR(buf, "1234/5000 24.7% 1.23k/s ETA 3.1s");
	CHECK_EQ_U64(len, strlen(buf));
	size_t full = len;
	CHECK_ST(ak_progress_format(buf, 10, &e, &len), AK_E2BIG);
	CHECK_STR(buf, "1234/5000");
	CHECK_EQ_U64(len, full);
	CHECK_ST(ak_progress_format(buf, full, &e, &len), AK_E2BIG); /* no room for NUL */
	CHECK_EQ_U64(strlen(buf), full - 1);
	CHECK_ST(ak_progress_format(buf, full + 1, &e, &len), AK_OK);
	len = 0;
	CHECK_ST(ak_progress_format(NULL, 0, &e, &len), AK_E2BIG); /* measure only */
	CHECK_EQ_U64(len, full);
}

static void dur(uint64_t ns, const char *want)
{
	char buf[32];
	CHECK_ST(ak_progress_format_duration(buf, sizeof buf, ns, NULL), AK_OK);
	CHECK_STR(buf, want);
}

static void test_durations_and_rates(void)
{
	dur(0, "0.0s");
	dur(49 * MS, "0.0s");
	dur(50 * MS, "0.1s");
	dur(4600 * MS, "4.6s");
	dur(59940 * MS, "59.9s");
	dur(59960 * MS, "1m00s");
	dur(12 * 60 * SEC + 5 * SEC, "12m05s");
	dur(3599 * SEC, "59m59s");
	dur(3600 * SEC, "1h00m");
	dur((3 * 3600 + 4 * 60) * SEC, "3h04m");
	dur(99 * 3600 * SEC + 59 * 60 * SEC, "99h59m");
	dur(100 * 3600 * SEC, "4d04h");
	dur(UINT64_MAX, "213504d00h"); /* 5124095.6 h, rounded to the hour */

	/* rate text: each through a one-second segment of n items */
	static const struct {
		uint64_t n;
		const char *want;
	} rates[] = { { 4, "4.00" },       { 42, "42.0" },        { 812, "812" },
		      { 999, "999" },      { 1000, "1.00k" },     { 12345, "12.3k" },
		      { 123456, "123k" },  { 999499, "999k" },    { 999500, "1.00M" },
		      { 4567000000u, "4.57G" } };
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		char buf[64], want[64];
		fmt_snap(rates[i].n, AK_PROGRESS_UNKNOWN, SEC, SEC, buf, sizeof buf);
		snprintf(want, sizeof want, "%llu %s/s ETA ?", (unsigned long long)rates[i].n,
			 rates[i].want);
		CHECK_STR(buf, want);
	}
}

static void read_all(int fd, char *buf, size_t size)
{
	size_t n = 0;
	ssize_t r;
	while (n + 1 < size && (r = read(fd, buf + n, size - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
}

static void test_display(void)
{
	ak_progress p;
	ak_progress_display d;
	int fds[2];
	char out[512];

	ak_fake_clock_set(&fc, 0);
	CHECK_ST(ak_progress_init(&p, 100, AK_PROGRESS_SINGLE_WRITER, &clk), AK_OK);
	CHECK(pipe(fds) == 0);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	CHECK_ST(ak_progress_display_init(&d, &p, -1, "x", AK_DISPLAY_AUTO, 0, &clk), AK_EINVAL);
	CHECK_ST(ak_progress_display_init(&d, NULL, fds[1], "x", AK_DISPLAY_AUTO, 0, &clk), AK_EINVAL);
	CHECK_ST(ak_progress_display_init(&d, &p, fds[1], "x", 9, 0, &clk), AK_EINVAL);

	/* AUTO on a pipe: plain lines, default plain interval */
	CHECK_ST(ak_progress_display_init(&d, &p, fds[1], "job", AK_DISPLAY_AUTO, 0, &clk), AK_OK);
	CHECK(!d.tty);
	CHECK_EQ_U64(d.interval_ns, AK_DISPLAY_PLAIN_INTERVAL);
	CHECK_ST(ak_progress_display_tick(&d), AK_EAGAIN);
	CHECK_ST(ak_progress_add_at(&p, 50, 5 * SEC), AK_OK);
	ak_fake_clock_set(&fc, 10 * SEC);
	CHECK_ST(ak_progress_display_tick(&d), AK_OK);
	CHECK_ST(ak_progress_display_tick(&d), AK_EAGAIN);
	read_all(fds[0], out, sizeof out);
	CHECK_STR(out, "job: 50/100 50.0% 10.0/s ETA 5.0s\n");

	/* TTY mode: redraw in place, newline only at the end */
	CHECK_ST(ak_progress_display_init(&d, &p, fds[1], NULL, AK_DISPLAY_TTY, 100 * MS, &clk),
		 AK_OK);
	CHECK(d.tty);
	CHECK_ST(ak_progress_display_draw(&d), AK_OK);
	CHECK_ST(ak_progress_add_at(&p, 50, 10 * SEC), AK_OK);
	CHECK_ST(ak_progress_display_finish(&d), AK_OK);
	read_all(fds[0], out, sizeof out);
	const char *first = "\r50/100 50.0% 10.0/s ETA 5.0s\033[K\r";
	CHECK(strncmp(out, first, strlen(first)) == 0);
	CHECK(strstr(out, "\033[K\r100/100 100.0% 10.0/s done 10.0s\033[K\n") != NULL);

	/* background thread on the real clock: start, double start, stop */
	CHECK_ST(ak_progress_display_init(&d, &p, fds[1], "bg", AK_DISPLAY_PLAIN, MS, NULL), AK_OK);
	CHECK_ST(ak_progress_display_stop(&d), AK_ESTATE);
	CHECK_ST(ak_progress_display_start(&d), AK_OK);
	CHECK_ST(ak_progress_display_start(&d), AK_ESTATE);
	CHECK_ST(ak_progress_display_stop(&d), AK_OK);
	read_all(fds[0], out, sizeof out);
	CHECK(strstr(out, "bg: 100/100 100.0%") != NULL);

	/* a closed pipe: AK_ESYS, no crash */
	close(fds[0]);
	signal(SIGPIPE, SIG_IGN);
	CHECK_ST(ak_progress_display_draw(&d), AK_ESYS);
	close(fds[1]);
}

int main(void)
{
	clk = ak_fake_clock_as_clock(&fc);
	test_meter_mode(AK_PROGRESS_SINGLE_WRITER);
	test_meter_mode(AK_PROGRESS_MULTI_WRITER);
	test_latch_mid_write(AK_PROGRESS_SINGLE_WRITER);
	test_latch_mid_write(AK_PROGRESS_MULTI_WRITER);
	test_misuse();
	test_exp();
	test_rate_time_constant();
	test_rate_decay_and_eta();
	test_format_edges();
	test_durations_and_rates();
	test_display();
	return check_report("progress");
}
