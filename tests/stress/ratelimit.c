/*
 * Stress: both limiters and the keyed table on the real clock, with more
 * threads than cores.
 *
 * Every thread mixes, on shared objects:
 *   limiter  try_acquire (n 1..3), blocking acquire with short deadlines
 *            and cancel tokens that another thread cancels, reserve+cancel;
 *            thread 0 also flips the rate (1 per 20 us <-> 1 per 40 us) and
 *            the burst (64 <-> 32) while the others acquire
 *   tbucket  try_acquire, ticks (racing the refill thread), blocking
 *            acquire with deadlines and cancels
 *   table    try_acquire on 4096 keys over 256 slots (constant eviction)
 *   fine     a second limiter with k' near 2^30 on a fake clock that the
 *            threads push forward in big steps, so its epoch is rebased
 *            every ~100 operations while others acquire
 *   burst    then, in rounds: a bucket that never refills is filled to 64;
 *            every thread takes tokens and gives them back (refund, or
 *            reserve + cancel) while thread 0 lowers the burst to 1..7
 *
 * Invariants, each counted:
 *   limiter  admitted <= b_max + elapsed / T_min            (rate flips)
 *   tbucket  admitted <= b + k * (schedule instants until the end)
 *   table    per key: admitted <= b + elapsed / T; no key in two slots
 *   fine     admitted <= b + k * (fake time elapsed) / per, exactly (128-bit)
 *   burst    after each round (everyone past a barrier): 0 <= tokens <= the
 *            new burst, and every status was an expected one
 *   blocking every acquire returned OK, ETIMEDOUT or ECANCELED, each
 *            outcome happened, and cancels were observed promptly enough
 *            for the run to end (no waiter left behind)
 */
#include <atomkit/cancel.h>
#include <atomkit/limiter.h>
#include <atomkit/tbucket.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "stress.h"

#define MAXT 64
#define KEYS 4096
#define SLOTS 256

#define L_T_FAST (20 * AK_NS_PER_US)
#define L_T_SLOW (40 * AK_NS_PER_US)
#define L_B_MAX 64
#define TB_K 4
#define TB_P (100 * AK_NS_PER_US)
#define TB_B 32
#define KT_T (100 * AK_NS_PER_US)
#define KT_B 4
#define FN_K ((UINT64_C(1) << 30) - 1)
#define FN_P (UINT64_C(1) << 50)
#define FN_B 64

struct shared {
	ak_limiter lim;
	ak_tbucket tb;
	ak_limiter_table tab;
	ak_limiter fine;
	ak_fake_clock fc;
	uint64_t fc0;
	ak_limiter_slot slots[SLOTS];
	_Atomic(uint64_t) key_admitted[KEYS];
	/* cancel targets: a waiter publishes its token, thread 0 may take it
	 * and cancel it, then bumps `fired` so the waiter knows it is done */
	_Atomic(ak_cancel *) target[MAXT];
	_Atomic(uint64_t) fired[MAXT];
	_Atomic(uint32_t) running;
	uint64_t t0;
	/* per thread, read after join */
	uint64_t l_adm[MAXT], tb_adm[MAXT], kt_adm[MAXT], kt_full[MAXT], fn_adm[MAXT];
	uint64_t outcome[MAXT][3]; /* OK, ETIMEDOUT, ECANCELED */
	uint64_t bad[MAXT];
	/* the burst phase */
	ak_tbucket bb;
	uint64_t rounds, b_checks, b_over;
	uint64_t b_refunds[MAXT], b_cancels[MAXT], b_bad[MAXT];
};

#define BB_HI 64
#define BB_T0 (UINT64_C(1) << 40)

/* One round: thread 0 fills the bucket to BB_HI, everyone takes and gives
 * back while thread 0 lowers the burst, then thread 0 checks the bucket
 * holds no more than the new burst (every refund and cancel has returned). */
static void burst_worker(struct stress_thread *t)
{
	struct shared *s = (struct shared *)t->arg;
	unsigned id = t->id;
	for (uint64_t r = 0; r < s->rounds; r++) {
		uint64_t lo = 1 + r % 7;
		if (id == 0) {
			if (ak_tbucket_set_burst(&s->bb, BB_HI) != AK_OK ||
			    ak_tbucket_refund(&s->bb, BB_HI, NULL) != AK_OK)
				s->b_bad[id]++;
		}
		stress_barrier(t);
		if (id == 0) {
			for (uint64_t i = stress_below(t, 64); i; i--)
				sched_yield();
			if (ak_tbucket_set_burst(&s->bb, lo) != AK_OK)
				s->b_bad[id]++;
		}
		for (int i = 0; i < 6; i++) {
			uint64_t n = 1 + stress_below(t, 3), w;
			ak_tbucket_ticket tk;
			ak_status st;
			if (stress_rand(t) & 1) {
				st = ak_tbucket_try_acquire_at(&s->bb, BB_T0, n, &w);
				if (st == AK_OK) {
					st = ak_tbucket_refund(&s->bb, n, NULL);
					s->b_refunds[id]++;
				}
			} else {
				st = ak_tbucket_reserve_at(&s->bb, BB_T0, n, 0, &tk, &w);
				if (st == AK_OK) {
					st = ak_tbucket_cancel(&s->bb, &tk);
					if (st == AK_EBUSY) /* a later take: give it back */
						st = ak_tbucket_refund(&s->bb, n, NULL);
					s->b_cancels[id]++;
				}
			}
			/* EAGAIN: empty; E2BIG: n above the lowered burst */
			if (st != AK_OK && st != AK_EAGAIN && st != AK_E2BIG)
				s->b_bad[id]++;
		}
		stress_barrier(t);
		if (id == 0) {
			int64_t tok = ak_tbucket_tokens(&s->bb);
			s->b_checks++;
			if (tok < 0 || tok > (int64_t)lo)
				s->b_over++;
		}
	}
}

/* Publish tok for thread 0 to cancel; returns the fired count to wait for
 * when taking it back. */
static void publish(struct shared *s, unsigned id, ak_cancel *tok)
{
	/* Release pairs with the acquire exchange in poke(): the token's
	 * initialisation is visible to the thread that cancels it. */
	atomic_store_explicit(&s->target[id], tok, memory_order_release);
}

static void retract(struct shared *s, unsigned id, uint64_t *seen)
{
	/* acq_rel: pairs with poke()'s exchange either way round. */
	if (atomic_exchange_explicit(&s->target[id], NULL, memory_order_acq_rel) != NULL)
		return; /* still ours: nobody is touching it */
	/* thread 0 took it: wait until its request returned */
	(*seen)++;
	/* Acquire pairs with the release increment in poke(). */
	while (atomic_load_explicit(&s->fired[id], memory_order_acquire) < *seen)
		sched_yield();
}

static void poke(struct shared *s, unsigned n, uint64_t r)
{
	unsigned victim = (unsigned)(r % n);
	/* Acquire pairs with the release store in publish(). */
	ak_cancel *tok = atomic_exchange_explicit(&s->target[victim], NULL, memory_order_acq_rel);
	if (!tok)
		return;
	ak_cancel_request(tok, AK_ECANCELED);
	/* Release pairs with the acquire load in retract(). */
	atomic_fetch_add_explicit(&s->fired[victim], 1, memory_order_release);
}

static void count(struct shared *s, unsigned id, ak_status st)
{
	if (st == AK_OK)
		s->outcome[id][0]++;
	else if (st == AK_ETIMEDOUT)
		s->outcome[id][1]++;
	else if (st == AK_ECANCELED)
		s->outcome[id][2]++;
	else
		s->bad[id]++;
}

static void worker(struct stress_thread *t)
{
	struct shared *s = (struct shared *)t->arg;
	unsigned id = t->id;
	uint64_t seen = 0, w;

	for (uint64_t i = 0; i < t->ops; i++) {
		uint64_t r = stress_rand(t);
		uint64_t n = 1 + (r & 3) % 3;
		ak_status st;

		switch ((r >> 4) % 16) {
		case 0: /* blocking limiter acquire, maybe cancelled */
		case 1: { /* blocking bucket acquire, maybe cancelled */
			ak_cancel tok;
			STRESS_CHECK(ak_cancel_init(&tok) == AK_OK, "cancel init");
			publish(s, id, &tok);
			uint64_t dl = ak_deadline_after(((r >> 12) % 200) * AK_NS_PER_US);
			if ((r >> 4) % 16 == 0) {
				st = ak_limiter_acquire(&s->lim, 1, dl, &tok);
				if (st == AK_OK)
					s->l_adm[id]++;
			} else {
				st = ak_tbucket_acquire(&s->tb, 1, dl, &tok);
				if (st == AK_OK)
					s->tb_adm[id]++;
			}
			count(s, id, st);
			retract(s, id, &seen);
			STRESS_CHECK(ak_cancel_destroy(&tok) == AK_OK, "cancel destroy");
			break;
		}
		case 2: { /* reserve then cancel (exact or forfeited) */
			ak_limiter_ticket tk;
			if (ak_limiter_reserve(&s->lim, n, 50 * AK_NS_PER_US, &tk, &w) == AK_OK) {
				if (ak_limiter_cancel(&s->lim, &tk) != AK_OK)
					s->l_adm[id] += n; /* forfeited: count it */
			}
			break;
		}
		case 3:
			ak_tbucket_tick(&s->tb);
			break;
		case 4:
		case 5:
		case 6:
			if (ak_tbucket_try_acquire(&s->tb, n, &w) == AK_OK)
				s->tb_adm[id] += n;
			break;
		case 7:
		case 8:
		case 9: {
			uint64_t key = (r >> 20) % KEYS;
			st = ak_limiter_table_try_acquire(&s->tab, key, n, &w);
			if (st == AK_OK) {
				atomic_fetch_add_explicit(&s->key_admitted[key], n, memory_order_relaxed);
				s->kt_adm[id] += n;
			} else if (st == AK_EFULL) {
				s->kt_full[id]++;
			} else if (st != AK_EAGAIN) {
				s->bad[id]++;
			}
			break;
		}
		case 10:
		case 11:
			ak_fake_clock_advance(&s->fc, (r >> 24) % (UINT64_C(1) << 22));
			if (ak_limiter_try_acquire(&s->fine, n, &w) == AK_OK)
				s->fn_adm[id] += n;
			break;
		default:
			if (ak_limiter_try_acquire(&s->lim, n, &w) == AK_OK)
				s->l_adm[id] += n;
			break;
		}
		if (id == 0 && t->nthreads > 1) {
			if ((r >> 40) % 8 == 0)
				poke(s, t->nthreads, r >> 44);
			if ((r >> 48) % 64 == 0)
				ak_limiter_set_rate(&s->lim, 1, (r >> 54) & 1 ? L_T_FAST : L_T_SLOW);
			if ((r >> 48) % 64 == 1)
				ak_limiter_set_burst(&s->lim, (r >> 54) & 1 ? L_B_MAX : L_B_MAX / 2);
		}
	}
	/* Thread 0 keeps poking until everyone is done, so no published
	 * token is left waiting for it. */
	atomic_fetch_sub_explicit(&s->running, 1, memory_order_acq_rel);
	if (id == 0)
		while (atomic_load_explicit(&s->running, memory_order_acquire) != 0) {
			poke(s, t->nthreads, stress_rand(t));
			sched_yield();
		}
}

int main(int argc, char **argv)
{
	struct stress_cfg cfg;
	static struct shared s;
	ak_refiller rf;

	stress_init(&cfg, argc, argv, "ratelimit", 4, 150000);
	STRESS_CHECK(cfg.threads <= MAXT, "at most %d threads", MAXT);
	memset(&rf, 0, sizeof rf);
	s.t0 = ak_now_ns();
	STRESS_CHECK(ak_limiter_init(&s.lim, 1, L_T_FAST, L_B_MAX, NULL) == AK_OK, "limiter init");
	STRESS_CHECK(ak_tbucket_init(&s.tb, TB_K, TB_P, TB_B, NULL) == AK_OK, "tbucket init");
	STRESS_CHECK(ak_limiter_table_init(&s.tab, s.slots, SLOTS, 1, KT_T, KT_B, NULL) == AK_OK,
		     "table init");
	s.fc0 = UINT64_C(1) << 40;
	ak_fake_clock_set(&s.fc, s.fc0);
	ak_clock fclk = ak_fake_clock_as_clock(&s.fc);
	STRESS_CHECK(ak_limiter_init(&s.fine, FN_K, FN_P, FN_B, &fclk) == AK_OK, "fine init");
	STRESS_CHECK(ak_refiller_start(&rf, NULL) == AK_OK, "refiller start");
	STRESS_CHECK(ak_refiller_add(&rf, &s.tb) == AK_OK, "refiller add");
	atomic_store_explicit(&s.running, cfg.threads, memory_order_relaxed);

	stress_run(&cfg, worker, &s);

	uint64_t t1 = ak_now_ns();
	STRESS_CHECK(ak_refiller_stop(&rf) == AK_OK, "refiller stop");

	/* The burst phase: nothing refills this bucket (no tick ever runs). */
	STRESS_CHECK(ak_tbucket_init_at(&s.bb, BB_T0, 1, AK_NS_PER_SEC, BB_HI, NULL) == AK_OK,
		     "burst bucket init");
	s.rounds = cfg.ops / 400 + 1;
	stress_run(&cfg, burst_worker, &s);
	uint64_t b_ref = 0, b_can = 0, b_bad = 0;
	for (unsigned i = 0; i < cfg.threads; i++) {
		b_ref += s.b_refunds[i];
		b_can += s.b_cancels[i];
		b_bad += s.b_bad[i];
	}
	STRESS_CHECK(b_bad == 0, "burst phase: %llu unexpected statuses", (unsigned long long)b_bad);
	STRESS_CHECK(s.b_checks == s.rounds, "burst phase: %llu checks for %llu rounds",
		     (unsigned long long)s.b_checks, (unsigned long long)s.rounds);
	STRESS_CHECK(s.b_over == 0, "burst phase: %llu rounds ended above the new burst",
		     (unsigned long long)s.b_over);
	STRESS_CHECK(b_ref > 0 && b_can > 0, "burst phase: %llu refunds, %llu cancels",
		     (unsigned long long)b_ref, (unsigned long long)b_can);
	uint64_t elapsed = t1 - s.t0;
	uint64_t l = 0, tb = 0, kt = 0, full = 0, bad = 0, oc[3] = { 0, 0, 0 }, fn = 0;
	for (unsigned i = 0; i < cfg.threads; i++) {
		l += s.l_adm[i];
		tb += s.tb_adm[i];
		kt += s.kt_adm[i];
		full += s.kt_full[i];
		fn += s.fn_adm[i];
		bad += s.bad[i];
		for (int j = 0; j < 3; j++)
			oc[j] += s.outcome[i][j];
	}
	STRESS_CHECK(bad == 0, "%llu unexpected statuses", (unsigned long long)bad);

	uint64_t l_allow = L_B_MAX + elapsed / L_T_FAST;
	STRESS_CHECK(l <= l_allow, "limiter admitted %llu > allowed %llu over %llu ns",
		     (unsigned long long)l, (unsigned long long)l_allow, (unsigned long long)elapsed);
	STRESS_CHECK(l >= L_B_MAX / 2, "limiter admitted only %llu", (unsigned long long)l);

	uint64_t epoch = atomic_load_explicit(&s.tb.epoch, memory_order_relaxed);
	uint64_t tb_allow = TB_B + TB_K * ((t1 - epoch) / TB_P);
	STRESS_CHECK(tb <= tb_allow, "tbucket admitted %llu > allowed %llu",
		     (unsigned long long)tb, (unsigned long long)tb_allow);
	STRESS_CHECK(tb >= TB_B, "tbucket admitted only %llu", (unsigned long long)tb);

	uint64_t fdt = ak_clock_read(&fclk) - s.fc0;
	__extension__ unsigned __int128 fdue = (unsigned __int128)fdt * FN_K / FN_P;
	uint64_t fn_allow = FN_B + (uint64_t)fdue;
	uint64_t rebases = atomic_load_explicit(&s.fine.epoch, memory_order_relaxed) != 0;
	STRESS_CHECK(fn <= fn_allow, "fine limiter admitted %llu > allowed %llu",
		     (unsigned long long)fn, (unsigned long long)fn_allow);
	STRESS_CHECK(fn >= FN_B && rebases, "fine limiter: %llu admitted, rebased %llu",
		     (unsigned long long)fn, (unsigned long long)rebases);

	uint64_t kt_allow = KT_B + elapsed / KT_T, worst = 0, sum = 0;
	for (unsigned k = 0; k < KEYS; k++) {
		uint64_t a = atomic_load_explicit(&s.key_admitted[k], memory_order_relaxed);
		sum += a;
		if (a > worst)
			worst = a;
	}
	STRESS_CHECK(sum == kt, "table: per-key sum %llu != %llu", (unsigned long long)sum,
		     (unsigned long long)kt);
	STRESS_CHECK(worst <= kt_allow, "table: a key admitted %llu > allowed %llu",
		     (unsigned long long)worst, (unsigned long long)kt_allow);
	/* no key may live in two slots */
	uint64_t dups = 0;
	for (unsigned i = 0; i < SLOTS; i++) {
		uint64_t ki = atomic_load_explicit(&s.slots[i].key, memory_order_relaxed);
		if (ki == _AK_LT_EMPTY || ki == _AK_LT_TOMB)
			continue;
		for (unsigned j = i + 1; j < SLOTS; j++)
			if (atomic_load_explicit(&s.slots[j].key, memory_order_relaxed) == ki)
				dups++;
	}
	STRESS_CHECK(dups == 0, "table: %llu keys in two slots", (unsigned long long)dups);
	STRESS_CHECK(oc[0] > 0 && oc[1] > 0, "blocking: ok %llu, timed out %llu",
		     (unsigned long long)oc[0], (unsigned long long)oc[1]);
	if (cfg.threads > 1)
		STRESS_CHECK(oc[2] > 0, "blocking: no cancel observed");

	stress_pass(&cfg,
		    "limiter %llu <= %llu, rebased limiter %llu <= %llu, tbucket %llu <= %llu, "
		    "table %llu (max key %llu <= %llu, %llu EFULL, %llu dup slots), "
		    "blocking ok/timeout/cancel %llu/%llu/%llu, "
		    "burst race %llu rounds (%llu refunds, %llu cancels) 0 above the new burst",
		    (unsigned long long)l, (unsigned long long)l_allow, (unsigned long long)fn,
		    (unsigned long long)fn_allow, (unsigned long long)tb,
		    (unsigned long long)tb_allow, (unsigned long long)kt, (unsigned long long)worst,
		    (unsigned long long)kt_allow, (unsigned long long)full, (unsigned long long)dups,
		    (unsigned long long)oc[0],
		    (unsigned long long)oc[1], (unsigned long long)oc[2],
		    (unsigned long long)s.b_checks, (unsigned long long)b_ref,
		    (unsigned long long)b_can);
	return 0;
}
