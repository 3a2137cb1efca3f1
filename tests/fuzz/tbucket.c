/*
 * Call-sequence fuzzer for the interval token bucket (include/atomkit/tbucket.h)
 * against a plain sequential model.
 *
 * The model keeps the two running totals unwrapped (64-bit credited and
 * taken), the schedule (k, period, epoch, deposits done) and the burst, and
 * applies each operation by the documented rules.  Checked after every step:
 *   - every status and returned count: try_acquire_at (AK_OK / AK_EAGAIN with
 *     the schedule's estimate / AK_E2BIG / AK_EINVAL / AK_EOVERFLOW), tick_at
 *     (tokens deposited, capped at b, never an instant twice, nothing on a
 *     backwards clock), reserve_at (max_wait), cancel (exact undo when no
 *     take followed, AK_EBUSY, AK_ESTATE), refund (clamped), set_rate_at and
 *     set_burst (bad values: AK_EINVAL and nothing changes), bad handles;
 *   - the bucket's token count equals the model's, and
 *     ak_tbucket_ticket_ready() agrees with the model for every live ticket;
 *   - set_burst run between a refund's or a cancel's read of the burst and
 *     its CAS (the test hooks): the model applies set_burst first, then the
 *     refund/cancel capped at the burst it read, then clamps to the new
 *     burst if it is lower (what the Dekker with set_burst guarantees);
 *   - the window guarantee: admissions (try_acquire at their time,
 *     reservations when the deposits cover them, cancelled ones not at all,
 *     refunds negative) never exceed b_max + k * (instants paid by ticks in
 *     the window), over every window (tests/unit/ratelimit_oracle.h).
 */
/* set_burst run inside ak_tbucket_cancel()'s window (the racing op below). */
struct ak_tbucket;
static void fz_window(struct ak_tbucket *tb);
#define _AK_TBUCKET_CANCEL_WINDOW(tb) fz_window(tb)

#include <atomkit/tbucket.h>

#include "../unit/ratelimit_oracle.h"
#include "fuzz.h"

#define MAXEV 4096
#define MAXTK 16

struct model {
	uint64_t credited, taken; /* unwrapped */
	uint64_t b, k, period, epoch, done;
};

struct mtk {
	ak_tbucket_ticket tk;
	uint64_t end;  /* unwrapped taken total after it */
	uint64_t n;
	size_t ev;     /* its event once covered, or SIZE_MAX */
	int live;
};

static int64_t m_tokens(const struct model *m)
{
	return (int64_t)(m->credited - m->taken);
}

/* ak_tbucket's credit(): up to `add`, capped at b. */
static uint64_t m_credit(struct model *m, uint64_t add)
{
	int64_t t = m_tokens(m);
	if (t >= (int64_t)m->b)
		return 0;
	uint64_t room = (uint64_t)((int64_t)m->b - t);
	uint64_t put = add < room ? add : room;
	m->credited += put;
	return put;
}

/* The deposits the schedule owes at now: how many instants, and the credit. */
static uint64_t m_tick(struct model *m, uint64_t now, uint64_t *instants)
{
	*instants = 0;
	if (now <= m->epoch)
		return 0;
	uint64_t idx = (now - m->epoch) / m->period;
	if (idx <= m->done)
		return 0;
	*instants = idx - m->done;
	m->done = idx;
	return m_credit(m, *instants * m->k);
}

/* The schedule's estimate of when `need` more tokens are credited. */
static uint64_t m_eta(const struct model *m, uint64_t now, uint64_t need)
{
	uint64_t next = m->epoch + (m->done + 1) * m->period;
	if (next < now)
		next = now;
	return next + ((need + m->k - 1) / m->k - 1) * m->period;
}

struct run {
	struct model m;
	ak_tbucket tb;
	struct mtk tks[MAXTK];
	size_t ntk;
	struct rl_event ev[MAXEV];
	size_t nev;
	struct rl_credit_sched cs;
};

static void add_ev(struct run *r, uint64_t t, int64_t n)
{
	r->ev[r->nev].t = t;
	r->ev[r->nev++].n = n;
}

/* After a credit at time now: tickets the deposits now cover are admitted. */
static void cover(struct run *r, uint64_t now)
{
	for (size_t i = 0; i < r->ntk; i++) {
		struct mtk *t = &r->tks[i];
		if (t->live && t->ev == SIZE_MAX && r->m.credited >= t->end) {
			t->ev = r->nev;
			add_ev(r, now, (int64_t)t->n);
		}
	}
}

static void check_state(struct run *r)
{
	FUZZ_EQ(ak_tbucket_tokens(&r->tb), m_tokens(&r->m));
	for (size_t i = 0; i < r->ntk; i++) {
		struct mtk *t = &r->tks[i];
		if (!t->live)
			continue;
		int ready = m_tokens(&r->m) >= 0 || r->m.credited >= t->end;
		FUZZ_EQ(ak_tbucket_ticket_ready(&r->tb, &t->tk), ready);
		if (ready && t->ev == SIZE_MAX)
			FUZZ_FAIL("ticket ready but never covered");
	}
}

/* The racing op: set_burst(fz_burst) inside the refund's or cancel's window. */
extern void (*_ak_tbucket_test_refund_window)(ak_tbucket *tb);
static uint64_t fz_burst; /* 0: not armed */
static int fz_ran;

static void fz_window(struct ak_tbucket *tb)
{
	if (!fz_burst)
		return;
	fz_ran++;
	FUZZ_EQ(ak_tbucket_set_burst(tb, fz_burst), AK_OK);
}

/* The model's set_burst. */
static void m_set_burst(struct model *m, uint64_t nb)
{
	m->b = nb;
	if (m_tokens(m) > (int64_t)nb)
		m->credited = m->taken + nb;
}

static uint64_t fuzz_period(struct fuzz_in *in)
{
	static const uint64_t p[8] = { 0, 1, 7, 100, 1000, 1001, 4096, 65536 };
	return p[fuzz_u8(in) & 7];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	static struct run r;
	uint64_t k = fuzz_u8(&in) % 6, per = fuzz_period(&in), b = fuzz_u8(&in) % 17, bmax = b;
	uint64_t now = 1000 + fuzz_u16(&in), w, g;
	ak_status st;

	memset(&r.m, 0, sizeof r.m);
	r.ntk = r.nev = 0;
	r.cs.n = 0;
	st = ak_tbucket_init_at(&r.tb, now, k, per, b, NULL);
	if (k == 0 || per == 0 || b == 0) {
		FUZZ_EQ(st, AK_EINVAL);
		return 0;
	}
	FUZZ_EQ(st, AK_OK);
	r.m.credited = b;
	r.m.b = b;
	r.m.k = k;
	r.m.period = per;
	r.m.epoch = now;
	FUZZ_EQ(ak_tbucket_init_at(&r.tb, now, 1, 1, AK_TBUCKET_MAX_BURST + 1, NULL), AK_EINVAL);
	FUZZ_EQ(ak_tbucket_init_at(NULL, now, 1, 1, 1, NULL), AK_EINVAL);

	while (fuzz_more(&in) && r.nev + MAXTK + 2 < MAXEV) {
		uint8_t op = fuzz_u8(&in);
		uint64_t step = fuzz_u16(&in) >> (op >> 5), t = now;
		/* The timeline moves forward; sometimes the call is passed a
		 * time from before it (a clock that stepped back, a thread
		 * with a stale now).  Events are placed on the timeline: that
		 * is when they happen. */
		if ((op & 0x10) && step / 8 < now - 1000)
			t = now - step / 8;
		else
			now += step;
		switch (op & 7) {
		case 0:
		case 1: { /* try_acquire_at */
			uint64_t n = fuzz_u8(&in) % (r.m.b + 2);
			st = ak_tbucket_try_acquire_at(&r.tb, t, n, &w);
			if (n == 0) {
				FUZZ_EQ(st, AK_EINVAL);
			} else if (n > r.m.b) {
				FUZZ_EQ(st, AK_E2BIG);
			} else if (m_tokens(&r.m) >= (int64_t)n) {
				FUZZ_EQ(st, AK_OK);
				FUZZ_EQ(w, 0);
				r.m.taken += n;
				add_ev(&r, now, (int64_t)n);
			} else {
				FUZZ_EQ(st, AK_EAGAIN);
				FUZZ_EQ(w, m_eta(&r.m, t, (uint64_t)((int64_t)n - m_tokens(&r.m))) - t);
			}
			break;
		}
		case 2: { /* tick */
			uint64_t inst, put = m_tick(&r.m, t, &inst);
			FUZZ_EQ(ak_tbucket_tick_at(&r.tb, t), put);
			if (inst)
				rl_credit_push(&r.cs, now, inst * r.m.k);
			cover(&r, now);
			break;
		}
		case 3: { /* reserve */
			uint64_t n = fuzz_u8(&in) % (r.m.b + 2), maxw = fuzz_u16(&in) * (uint64_t)(op >> 3 & 1);
			ak_tbucket_ticket tk;
			if (r.ntk == MAXTK) { /* forget the oldest unless it still waits */
				if (r.tks[0].live && r.tks[0].ev == SIZE_MAX)
					break;
				memmove(&r.tks[0], &r.tks[1], (MAXTK - 1) * sizeof r.tks[0]);
				r.ntk--;
			}
			st = ak_tbucket_reserve_at(&r.tb, t, n, maxw, &tk, &w);
			if (n == 0) {
				FUZZ_EQ(st, AK_EINVAL);
				break;
			}
			if (n > r.m.b) {
				FUZZ_EQ(st, AK_E2BIG);
				break;
			}
			int64_t after = m_tokens(&r.m) - (int64_t)n;
			uint64_t good = after < 0 ? m_eta(&r.m, t, (uint64_t)-after) : t;
			if (after < 0 && (maxw == 0 || good - t > maxw)) {
				FUZZ_EQ(st, AK_EAGAIN);
				FUZZ_EQ(w, good - t);
				break;
			}
			FUZZ_EQ(st, AK_OK);
			FUZZ_EQ(w, good - t);
			FUZZ_EQ(tk.good_at, good);
			r.m.taken += n;
			struct mtk *t = &r.tks[r.ntk++];
			t->tk = tk;
			t->end = r.m.taken;
			t->n = n;
			t->live = 1;
			t->ev = SIZE_MAX;
			if (after >= 0) {
				t->ev = r.nev;
				add_ev(&r, now, (int64_t)n);
			}
			break;
		}
		case 4: { /* cancel a ticket (the newest, or any) */
			if (!r.ntk) {
				FUZZ_EQ(ak_tbucket_cancel(&r.tb, NULL), AK_EINVAL);
				break;
			}
			struct mtk *t = &r.tks[(op & 8) ? r.ntk - 1 : fuzz_u8(&in) % r.ntk];
			st = ak_tbucket_cancel(&r.tb, &t->tk);
			if (!t->live) {
				FUZZ_EQ(st, AK_ESTATE);
			} else if (r.m.taken == t->end) {
				FUZZ_EQ(st, AK_OK);
				r.m.taken -= t->n;
				if (m_tokens(&r.m) > (int64_t)r.m.b)
					r.m.credited = r.m.taken + r.m.b;
				if (t->ev != SIZE_MAX)
					r.ev[t->ev].n = 0; /* never used */
			} else {
				FUZZ_EQ(st, AK_EBUSY);
			}
			t->live = 0;
			FUZZ_EQ(ak_tbucket_cancel(&r.tb, &t->tk), AK_ESTATE);
			break;
		}
		case 5: { /* refund */
			uint64_t n = fuzz_u8(&in) % (r.m.b + 2);
			st = ak_tbucket_refund(&r.tb, n, &g);
			if (n == 0) {
				FUZZ_EQ(st, AK_EINVAL);
				FUZZ_EQ(g, 0);
				break;
			}
			FUZZ_EQ(st, AK_OK);
			FUZZ_EQ(g, m_credit(&r.m, n));
			if (g)
				add_ev(&r, now, -(int64_t)g);
			cover(&r, now);
			break;
		}
		case 6: { /* set_rate_at: pays the old schedule, then starts anew */
			uint64_t nk = fuzz_u8(&in) % 6, np = fuzz_period(&in);
			st = ak_tbucket_set_rate_at(&r.tb, t, nk, np);
			if (nk == 0 || np == 0) {
				FUZZ_EQ(st, AK_EINVAL);
				break;
			}
			FUZZ_EQ(st, AK_OK);
			uint64_t inst;
			m_tick(&r.m, t, &inst);
			if (inst)
				rl_credit_push(&r.cs, now, inst * r.m.k);
			cover(&r, now);
			if (t > r.m.epoch)
				r.m.epoch = t;
			r.m.k = nk;
			r.m.period = np;
			r.m.done = 0;
			break;
		}
		default: { /* set_burst (clamps what is held), or bad input */
			uint64_t nb = fuzz_u8(&in) % 18;
			if ((op & 8) && nb >= 1 && nb <= 16) {
				/* racing: set_burst(nb) inside the window of a
				 * refund, or of a cancel of the newest ticket */
				uint64_t bold = r.m.b;
				uint8_t how = fuzz_u8(&in);
				struct mtk *t = r.ntk ? &r.tks[r.ntk - 1] : NULL;
				fz_burst = nb;
				fz_ran = 0;
				if (nb > bmax)
					bmax = nb;
				if ((how & 1) && t && t->live) {
					st = ak_tbucket_cancel(&r.tb, &t->tk);
					fz_burst = 0;
					FUZZ_EQ(fz_ran, 1);
					m_set_burst(&r.m, nb);
					if (r.m.taken == t->end) {
						FUZZ_EQ(st, AK_OK);
						r.m.taken -= t->n;
						if (m_tokens(&r.m) > (int64_t)bold)
							r.m.credited = r.m.taken + bold;
						if (nb < bold)
							m_set_burst(&r.m, nb);
						if (t->ev != SIZE_MAX)
							r.ev[t->ev].n = 0; /* never used */
					} else {
						FUZZ_EQ(st, AK_EBUSY);
					}
					t->live = 0;
					break;
				}
				uint64_t n = 1 + fuzz_u8(&in) % (bold + 1);
				_ak_tbucket_test_refund_window = fz_window;
				st = ak_tbucket_refund(&r.tb, n, &g);
				_ak_tbucket_test_refund_window = NULL;
				fz_burst = 0;
				FUZZ_EQ(st, AK_OK);
				FUZZ_EQ(fz_ran, 1);
				m_set_burst(&r.m, nb);
				r.m.b = bold; /* the refund caps at what it read */
				uint64_t put = m_credit(&r.m, n);
				r.m.b = nb;
				uint64_t cut = 0;
				if (nb < bold && m_tokens(&r.m) > (int64_t)nb) {
					cut = (uint64_t)m_tokens(&r.m) - nb;
					r.m.credited = r.m.taken + nb;
				}
				FUZZ_EQ(g, put - (cut < put ? cut : put));
				if (g)
					add_ev(&r, now, -(int64_t)g);
				cover(&r, now);
				break;
			}
			if (nb == 17) {
				FUZZ_EQ(ak_tbucket_set_burst(&r.tb, AK_TBUCKET_MAX_BURST + 1), AK_EINVAL);
				FUZZ_EQ(ak_tbucket_try_acquire_at(&r.tb, _AK_RL_TIME_LIMIT, 1, &w), AK_EOVERFLOW);
				FUZZ_EQ(ak_tbucket_tick_at(&r.tb, _AK_RL_TIME_LIMIT), 0);
				FUZZ_EQ(ak_tbucket_refund(NULL, 1, &g), AK_EINVAL);
				break;
			}
			st = ak_tbucket_set_burst(&r.tb, nb);
			if (nb == 0) {
				FUZZ_EQ(st, AK_EINVAL);
				break;
			}
			FUZZ_EQ(st, AK_OK);
			r.m.b = nb;
			if (nb > bmax)
				bmax = nb;
			if (m_tokens(&r.m) > (int64_t)nb)
				r.m.credited = r.m.taken + nb;
			break;
		}
		}
		check_state(&r);
		if (getenv("FUZZ_TRACE"))
			fprintf(stderr, "op %d now %llu -> tokens %lld\n", op & 7, (unsigned long long)now,
				(long long)m_tokens(&r.m));
	}
	if (getenv("FUZZ_TRACE")) {
		for (size_t i = 0; i < r.nev; i++)
			fprintf(stderr, "ev t=%llu n=%lld\n", (unsigned long long)r.ev[i].t, (long long)r.ev[i].n);
		for (size_t i = 0; i < r.cs.n; i++)
			fprintf(stderr, "credit t=%llu +%lld\n", (unsigned long long)r.cs.c[i].t, (long long)r.cs.c[i].sum);
	}
	rl_credit_seal(&r.cs);
	struct rl_verdict v = rl_oracle(r.ev, r.nev, 1, bmax, rl_credit_allow, &r.cs);
	if (v.violations)
		FUZZ_FAIL("window [%llu, %llu] admitted more than b + deposits",
			  (unsigned long long)v.bad_from, (unsigned long long)v.bad_to);
	return 0;
}
