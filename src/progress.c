/*
 * Out-of-line parts of the progress family: the multi-writer spin path,
 * the rarely called writes, rate/ETA arithmetic, formatting and the
 * terminal display.  The hot paths (add, snapshot) are inline in
 * include/atomkit/progress.h.
 *
 * Rate, ETA and formatting avoid libm and stdio on purpose: they must be
 * callable from a signal handler (a SIGUSR1 "print progress" handler), and
 * libatomkit links without -lm.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atomkit/internal/futex.h>
#include <atomkit/internal/relax.h>
#include <atomkit/progress.h>

/* ---------------------------------------------------------------------- */
/* Meter                                                                   */
/* ---------------------------------------------------------------------- */

ak_status ak_progress_init(ak_progress *p, uint64_t total, unsigned mode, const ak_clock *clock)
{
	if (!p || (mode != AK_PROGRESS_SINGLE_WRITER && mode != AK_PROGRESS_MULTI_WRITER))
		return AK_EINVAL;
	p->mode = mode;
	p->reserved_ = 0;
	if (clock) {
		p->clock = *clock;
	} else {
		p->clock.now = NULL; /* ak_clock_read(): CLOCK_MONOTONIC */
		p->clock.ctx = NULL;
	}
	uint64_t now = ak_clock_read(&p->clock);
	for (int i = 0; i < 2; i++) {
		atomic_store_explicit(&p->copy[i].count, 0, memory_order_relaxed);
		atomic_store_explicit(&p->copy[i].total, total, memory_order_relaxed);
		atomic_store_explicit(&p->copy[i].started_ns, now, memory_order_relaxed);
		atomic_store_explicit(&p->copy[i].last_ns, now, memory_order_relaxed);
	}
	/* Release: pairs with the acquire load in ak_progress_snapshot() for
	 * readers that get the meter through a relaxed handoff; the usual
	 * publication (thread creation, a release store of a pointer) already
	 * orders this. */
	atomic_store_explicit(&p->seq, 0, memory_order_release);
	return AK_OK;
}

uint64_t _ak_progress_lock_slow(ak_progress *p)
{
	struct _ak_backoff b;
	uint64_t s;

	_ak_backoff_init(&b, _AK_BACKOFF_DEFAULT_CEILING);
	for (;;) {
		s = atomic_load_explicit(&p->seq, memory_order_relaxed);
		/* Acquire/release: as the fast path in _ak_progress_begin()
		 * (pairs with the previous writer's final release store and
		 * with the readers' acquire load). */
		if ((s & 3) == 0 &&
		    atomic_compare_exchange_weak_explicit(&p->seq, &s, s + 3, memory_order_acq_rel,
							  memory_order_relaxed))
			return s;
		if (_ak_backoff_exhausted(&b))
			sched_yield(); /* the holder may be preempted: let it run */
		else
			_ak_backoff_spin(&b);
	}
}

ak_status ak_progress_set_at(ak_progress *p, uint64_t count, uint64_t now_ns)
{
	ak_progress_snap old, v;
	ak_status st = AK_OK;
	uint64_t s;

	if (!p)
		return AK_EINVAL;
	s = _ak_progress_begin(p);
	_ak_progress_cur(p, &old);
	v = old;
	if (count < old.count) {
		st = AK_ERANGE;
	} else if (count != old.count) {
		v.count = count;
		if (now_ns > old.last_ns)
			v.last_ns = now_ns;
	}
	_ak_progress_end(p, s, &v, &old);
	return st;
}

ak_status ak_progress_set(ak_progress *p, uint64_t count)
{
	if (!p)
		return AK_EINVAL;
	return ak_progress_set_at(p, count, ak_clock_read(&p->clock));
}

ak_status ak_progress_set_total(ak_progress *p, uint64_t total)
{
	ak_progress_snap old, v;

	if (!p)
		return AK_EINVAL;
	uint64_t s = _ak_progress_begin(p);
	_ak_progress_cur(p, &old);
	v = old;
	v.total = total;
	_ak_progress_end(p, s, &v, &old);
	return AK_OK;
}

ak_status ak_progress_touch(ak_progress *p)
{
	if (!p)
		return AK_EINVAL;
	return ak_progress_add_at(p, 0, ak_clock_read(&p->clock));
}

ak_status ak_progress_start(ak_progress *p, uint64_t total)
{
	ak_progress_snap old, v;

	if (!p)
		return AK_EINVAL;
	uint64_t now = ak_clock_read(&p->clock);
	uint64_t s = _ak_progress_begin(p);
	_ak_progress_cur(p, &old);
	v.count = 0;
	v.total = total;
	v.started_ns = now;
	v.last_ns = now;
	_ak_progress_end(p, s, &v, &old);
	return AK_OK;
}

/* ---------------------------------------------------------------------- */
/* exp() without libm                                                      */
/* ---------------------------------------------------------------------- */

#define AK_LN2 0.69314718055994530942
/* ln 2 split so that k * AK_LN2_HI is exact for the k we use (Cody-Waite). */
#define AK_LN2_HI 6.93147180369123816490e-01
#define AK_LN2_LO 1.90821492927058770002e-10

/* 1 - e^-x for 0 <= x <= ~0.35, by its alternating series (accurate for
 * tiny x, where 1 - exp(-x) would cancel). */
static double one_minus_exp_neg_small(double x)
{
	double term = x, sum = 0;
	for (int k = 1; k <= 16; k++) {
		sum += term;
		term *= -x / (double)(k + 1);
	}
	return sum;
}

/* e^-x for x >= 0.  Range reduction x = k ln2 + r, |r| <= ln2/2, then a
 * Taylor series for e^-r (error < 2e-16) scaled by 2^-k. */
double _ak_exp_neg(double x)
{
	if (!(x > 0))
		return 1.0; /* x <= 0 or NaN: callers never pass those; be safe */
	if (x > 700)
		return 0.0;
	double kd = (double)(uint64_t)(x / AK_LN2 + 0.5);
	double r = (x - kd * AK_LN2_HI) - kd * AK_LN2_LO;
	double term = 1, sum = 0;
	for (int k = 1; k <= 18; k++) {
		sum += term;
		term *= -r / (double)k;
	}
	uint64_t bits = (uint64_t)(1023 - (int)kd) << 52; /* 2^-k, k <= 1010: normal */
	double scale;
	memcpy(&scale, &bits, sizeof(scale));
	return sum * scale;
}

/* 1 - e^-x for x >= 0. */
double _ak_one_minus_exp_neg(double x)
{
	if (!(x > 0))
		return 0.0;
	if (x < 0.34)
		return one_minus_exp_neg_small(x);
	return 1.0 - _ak_exp_neg(x);
}

/* ---------------------------------------------------------------------- */
/* Rate and ETA                                                            */
/* ---------------------------------------------------------------------- */

ak_status ak_progress_rate_init(ak_progress_rate *r, uint64_t tau_ns, uint64_t stall_ns)
{
	if (!r || tau_ns == 0 || stall_ns == 0)
		return AK_EINVAL;
	memset(r, 0, sizeof(*r));
	r->tau_ns = tau_ns;
	r->stall_ns = stall_ns;
	return AK_OK;
}

/* The ETA is "unknown" beyond this (about 317 years): not an estimate. */
#define AK_ETA_MAX_NS 1e19

ak_status ak_progress_estimate(ak_progress_rate *r, const ak_progress_snap *s, uint64_t now_ns,
			       ak_progress_est *out)
{
	if (!r || !s || !out || r->tau_ns == 0)
		return AK_EINVAL;
	const double tau = (double)r->tau_ns;

	/* A new run (or a meter that went backwards): forget the old rate. */
	if (!r->have_prev || s->started_ns != r->run_ns || s->count < r->prev_count) {
		r->run_ns = s->started_ns;
		r->prev_count = 0;
		r->prev_ns = s->started_ns;
		r->have_prev = 1;
		r->have_rate = 0;
		r->rate = 0;
		r->gap_ns = 0;
	}
	/* Fold in the segment (prev, last] if it has both items and time.
	 * Items stamped at the same instant wait for the next segment. */
	if (s->count > r->prev_count && s->last_ns > r->prev_ns) {
		double dt = (double)(s->last_ns - r->prev_ns);
		double inst = (double)(s->count - r->prev_count) * 1e9 / dt;
		if (!r->have_rate) {
			r->rate = inst;
			r->gap_ns = dt;
			r->have_rate = 1;
		} else {
			double w = _ak_one_minus_exp_neg(dt / tau);
			r->rate += w * (inst - r->rate);
			r->gap_ns += w * (dt - r->gap_ns);
		}
		r->prev_count = s->count;
		r->prev_ns = s->last_ns;
	}

	out->snap = *s;
	out->now_ns = now_ns;
	out->idle_ns = now_ns > s->last_ns ? now_ns - s->last_ns : 0;
	out->rate_known = r->have_rate;
	out->rate = 0;
	if (r->have_rate) {
		double idle = (double)out->idle_ns;
		/* Idle longer than the usual gap counts as zero-rate time. */
		out->rate = idle > r->gap_ns ? r->rate * _ak_exp_neg((idle - r->gap_ns) / tau)
					     : r->rate;
	}
	int done = s->total != AK_PROGRESS_UNKNOWN && s->count >= s->total;
	uint64_t end = done ? s->last_ns : now_ns;
	out->elapsed_ns = end > s->started_ns ? end - s->started_ns : 0;
	out->percent_tenths = -1;
	if (s->total != AK_PROGRESS_UNKNOWN) {
		if (s->total == 0) {
			out->percent_tenths = 1000;
		} else {
			double t = (double)s->count * 1000.0 / (double)s->total + 0.5;
			out->percent_tenths = t >= 2e9 ? 2000000000 : (int)t;
			/* Never claim 100.0% before the end. */
			if (!done && out->percent_tenths > 999)
				out->percent_tenths = 999;
			if (done && out->percent_tenths < 1000)
				out->percent_tenths = 1000;
		}
	}
	out->eta_ns = 0;
	if (done) {
		out->eta = AK_ETA_DONE;
	} else if (r->stall_ns != AK_PROGRESS_STALL_NEVER && out->idle_ns > r->stall_ns) {
		out->eta = AK_ETA_STALLED;
	} else if (s->total == AK_PROGRESS_UNKNOWN || !r->have_rate || !(out->rate > 0)) {
		out->eta = AK_ETA_UNKNOWN;
	} else {
		double eta = (double)(s->total - s->count) * 1e9 / out->rate;
		if (eta < AK_ETA_MAX_NS) {
			out->eta = AK_ETA_KNOWN;
			out->eta_ns = (uint64_t)eta;
		} else {
			out->eta = AK_ETA_UNKNOWN;
		}
	}
	return AK_OK;
}

/* ---------------------------------------------------------------------- */
/* Formatting (no stdio: async-signal-safe)                                */
/* ---------------------------------------------------------------------- */

struct fmt {
	char *buf;
	size_t size;
	size_t len; /* full length, even past size */
};

static void put_c(struct fmt *f, char c)
{
	if (f->len + 1 < f->size)
		f->buf[f->len] = c;
	f->len++;
}

static void put_s(struct fmt *f, const char *s)
{
	while (*s)
		put_c(f, *s++);
}

static void put_u(struct fmt *f, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		put_c(f, tmp[--n]);
}

/* v with at least `width` digits (zero padded). */
static void put_u_pad(struct fmt *f, uint64_t v, int width)
{
	uint64_t p = 1;
	for (int i = 1; i < width; i++)
		p *= 10;
	while (p > 1 && v < p) {
		put_c(f, '0');
		p /= 10;
	}
	put_u(f, v);
}

/* v / 10^dec with `dec` decimals, from an integer already scaled. */
static void put_fixed(struct fmt *f, uint64_t scaled, int dec)
{
	uint64_t p = 1;
	for (int i = 0; i < dec; i++)
		p *= 10;
	put_u(f, scaled / p);
	if (dec) {
		put_c(f, '.');
		put_u_pad(f, scaled % p, dec);
	}
}

static void finish(struct fmt *f)
{
	if (f->size)
		f->buf[f->len < f->size ? f->len : f->size - 1] = '\0';
}

static void put_duration(struct fmt *f, uint64_t ns)
{
	uint64_t tenths = ns / 100000000u + (ns % 100000000u >= 50000000u);
	if (tenths < 600) { /* "4.6s", "59.9s" */
		put_fixed(f, tenths, 1);
		put_c(f, 's');
		return;
	}
	uint64_t sec = ns / AK_NS_PER_SEC + (ns % AK_NS_PER_SEC >= AK_NS_PER_SEC / 2);
	if (sec < 3600) { /* "12m05s" */
		put_u(f, sec / 60);
		put_c(f, 'm');
		put_u_pad(f, sec % 60, 2);
		put_c(f, 's');
		return;
	}
	uint64_t min = (sec + 30) / 60;
	if (min < 100 * 60) { /* "3h04m" */
		put_u(f, min / 60);
		put_c(f, 'h');
		put_u_pad(f, min % 60, 2);
		put_c(f, 'm');
		return;
	}
	uint64_t hours = (min + 30) / 60; /* "2d03h" */
	put_u(f, hours / 24);
	put_c(f, 'd');
	put_u_pad(f, hours % 24, 2);
	put_c(f, 'h');
}

/* A rate with 3 significant digits and an SI suffix: 0.02 4.20 24.7 812
 * 1.23k 12.3k 123k 1.23M ... */
static void put_rate(struct fmt *f, double r)
{
	static const char suffix[] = { 0, 'k', 'M', 'G', 'T', 'P', 'E' };
	int u = 0;

	if (!(r >= 0))
		r = 0;
	if (r < 1) { /* two decimals below 1/s: "0.02" */
		put_fixed(f, (uint64_t)(r * 100 + 0.5), 2);
		return;
	}
	while (u < 6 && r >= 999.5) {
		r /= 1000;
		u++;
	}
	if (r >= 999.5) { /* beyond exa: give the order of magnitude */
		put_s(f, ">999E");
		return;
	}
	uint64_t x;
	if ((x = (uint64_t)(r * 100 + 0.5)) < 1000)
		put_fixed(f, x, 2);
	else if ((x = (uint64_t)(r * 10 + 0.5)) < 1000)
		put_fixed(f, x, 1);
	else
		put_u(f, (uint64_t)(r + 0.5));
	if (suffix[u])
		put_c(f, suffix[u]);
}

ak_status ak_progress_format_duration(char *buf, size_t size, uint64_t ns, size_t *len_out)
{
	struct fmt f = { buf, size, 0 };
	if (!buf && size)
		return AK_EINVAL;
	put_duration(&f, ns);
	finish(&f);
	if (len_out)
		*len_out = f.len;
	return f.len < size ? AK_OK : AK_E2BIG;
}

ak_status ak_progress_format(char *buf, size_t size, const ak_progress_est *e, size_t *len_out)
{
	struct fmt f = { buf, size, 0 };

	if ((!buf && size) || !e)
		return AK_EINVAL;
	put_u(&f, e->snap.count);
	if (e->snap.total != AK_PROGRESS_UNKNOWN) {
		put_c(&f, '/');
		put_u(&f, e->snap.total);
		put_c(&f, ' ');
		if (e->percent_tenths >= 0)
			put_fixed(&f, (uint64_t)e->percent_tenths, 1);
		else
			put_c(&f, '?');
		put_c(&f, '%');
	}
	put_c(&f, ' ');
	if (e->rate_known)
		put_rate(&f, e->rate);
	else
		put_c(&f, '?');
	put_s(&f, "/s ");
	switch (e->eta) {
	case AK_ETA_KNOWN:
		put_s(&f, "ETA ");
		put_duration(&f, e->eta_ns);
		break;
	case AK_ETA_STALLED:
		put_s(&f, "stalled ");
		put_duration(&f, e->idle_ns);
		break;
	case AK_ETA_DONE:
		put_s(&f, "done ");
		put_duration(&f, e->elapsed_ns);
		break;
	default:
		put_s(&f, "ETA ?");
		break;
	}
	finish(&f);
	if (len_out)
		*len_out = f.len;
	return f.len < size ? AK_OK : AK_E2BIG;
}

/* ---------------------------------------------------------------------- */
/* Display                                                                 */
/* ---------------------------------------------------------------------- */

struct display_thread {
	pthread_t tid;
	_Atomic(uint32_t) stop;
};

ak_status ak_progress_display_init(ak_progress_display *d, const ak_progress *meter, int fd,
				   const char *label, unsigned mode, uint64_t interval_ns,
				   const ak_clock *clock)
{
	if (!d || !meter || fd < 0 || mode > AK_DISPLAY_PLAIN)
		return AK_EINVAL;
	memset(d, 0, sizeof(*d));
	d->meter = meter;
	d->fd = fd;
	d->label = label;
	d->tty = mode == AK_DISPLAY_TTY || (mode == AK_DISPLAY_AUTO && isatty(fd));
	d->interval_ns = interval_ns ? interval_ns
				     : d->tty ? AK_DISPLAY_TTY_INTERVAL : AK_DISPLAY_PLAIN_INTERVAL;
	if (clock)
		d->clock = *clock;
	ak_progress_rate_init(&d->rate, AK_PROGRESS_TAU_DEFAULT, AK_PROGRESS_STALL_DEFAULT);
	d->next_ns = ak_clock_read(&d->clock) + d->interval_ns;
	return AK_OK;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static ak_status draw(ak_progress_display *d, uint64_t now, int final)
{
	char line[256];
	struct fmt f = { line, sizeof(line), 0 };
	ak_progress_snap s;
	ak_progress_est e;
	char body[160];
	size_t blen;

	if (ak_progress_snapshot(d->meter, &s) != AK_OK ||
	    ak_progress_estimate(&d->rate, &s, now, &e) != AK_OK)
		return AK_EINVAL;
	(void)ak_progress_format(body, sizeof(body), &e, &blen); /* truncation is fine */
	if (d->tty)
		put_c(&f, '\r');
	if (d->label) {
		put_s(&f, d->label);
		put_s(&f, ": ");
	}
	put_s(&f, body);
	if (d->tty) {
		put_s(&f, "\033[K"); /* clear what a longer previous line left */
		if (final)
			put_c(&f, '\n');
	} else {
		put_c(&f, '\n');
	}
	finish(&f);
	d->next_ns = now + d->interval_ns;
	d->drawn = f.len;
	int saved = errno; /* callable from handlers: leave errno alone */
	int rc = write_all(d->fd, line, f.len < sizeof(line) ? f.len : sizeof(line) - 1);
	errno = saved;
	return rc == 0 ? AK_OK : AK_ESYS;
}

ak_status ak_progress_display_tick(ak_progress_display *d)
{
	if (!d || !d->meter)
		return AK_EINVAL;
	uint64_t now = ak_clock_read(&d->clock);
	if (now < d->next_ns)
		return AK_EAGAIN;
	return draw(d, now, 0);
}

ak_status ak_progress_display_draw(ak_progress_display *d)
{
	if (!d || !d->meter)
		return AK_EINVAL;
	return draw(d, ak_clock_read(&d->clock), 0);
}

ak_status ak_progress_display_finish(ak_progress_display *d)
{
	if (!d || !d->meter)
		return AK_EINVAL;
	return draw(d, ak_clock_read(&d->clock), 1);
}

static void *display_main(void *arg)
{
	ak_progress_display *d = (ak_progress_display *)arg;
	struct display_thread *t = (struct display_thread *)d->thread_;
	/* Real-time sleeps, at most 100 ms, so a fake display clock that the
	 * test moves is noticed too. */
	uint64_t nap = d->interval_ns < 100 * AK_NS_PER_MS ? d->interval_ns : 100 * AK_NS_PER_MS;

	/* Acquire: pairs with the release store in ak_progress_display_stop(). */
	while (!atomic_load_explicit(&t->stop, memory_order_acquire)) {
		(void)ak_progress_display_tick(d);
		_ak_futex_wait(&t->stop, 0, ak_deadline_after(nap), _AK_FUTEX_PRIVATE);
	}
	return NULL;
}

ak_status ak_progress_display_start(ak_progress_display *d)
{
	if (!d || !d->meter)
		return AK_EINVAL;
	if (d->thread_)
		return AK_ESTATE;
	struct display_thread *t = (struct display_thread *)calloc(1, sizeof(*t));
	if (!t)
		return AK_ENOMEM;
	atomic_store_explicit(&t->stop, 0, memory_order_relaxed);
	d->thread_ = t;
	if (pthread_create(&t->tid, NULL, display_main, d) != 0) {
		d->thread_ = NULL;
		free(t);
		return AK_ESYS;
	}
	return AK_OK;
}

ak_status ak_progress_display_stop(ak_progress_display *d)
{
	if (!d)
		return AK_EINVAL;
	struct display_thread *t = (struct display_thread *)d->thread_;
	if (!t)
		return AK_ESTATE;
	/* Release: pairs with the acquire load in display_main(). */
	atomic_store_explicit(&t->stop, 1, memory_order_release);
	_ak_futex_wake(&t->stop, INT32_MAX, _AK_FUTEX_PRIVATE);
	pthread_join(t->tid, NULL);
	free(t);
	d->thread_ = NULL;
	return ak_progress_display_finish(d);
}
