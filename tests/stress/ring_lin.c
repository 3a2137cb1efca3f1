/*
 * Stress: linearizability of ak_ring_seq try push/pop, checked on recorded
 * histories (tests/harness/lincheck.*).
 *
 * Part 1, short histories: all threads meet at a barrier, each does a few
 * random try push/pop on a tiny ring (capacity 1..4, so FULL and EMPTY are
 * frequent), meet again; thread 0 drains what is left (recorded too) and
 * runs the exact Wing-Gong check against a sequential bounded FIFO.  Rounds
 * rotate through mpmc, mpsc (thread 0 pops, the rest push) and spmc (thread 0
 * pushes, the rest pop).
 * Part 2, one long history per run: every thread does many random ops with
 * no barrier, the ring is drained, and the O(n log n) checks run (no
 * phantom, no dup, no loss, FIFO against real time, no EMPTY while an
 * element was provably present, no FULL below capacity).
 * AK_EAGAIN attempts have no effect by contract and are not recorded.
 */
#include <atomkit/ring_seq.h>
#include <pthread.h>
#include <stdlib.h>

#include "lincheck.h"
#include "stress.h"

#define MAXT 64

struct shared {
	ak_ring_seq *small[4]; /* capacities 1..4 */
	ak_ring_seq *big;
	struct lc_history hist;
	pthread_barrier_t bar;
	unsigned threads;
	uint64_t rounds, per_round, long_ops;
	uint64_t histories, ops_checked, undecided, full_seen, empty_seen;
	size_t long_cap;
};

enum role { BOTH, PUSHER, POPPER };

static ak_status do_push(ak_ring_seq *r, int mode, uint64_t v)
{
	return mode == 2 ? ak_ring_seq_push64_spmc(r, v) : ak_ring_seq_push64_mpmc(r, v);
}

static ak_status do_pop(ak_ring_seq *r, int mode, uint64_t *v)
{
	return mode == 1 ? ak_ring_seq_pop64_mpsc(r, v) : ak_ring_seq_pop64_mpmc(r, v);
}

/* One recorded op; returns 1 if it was recorded. */
static int one_op(struct lc_log *log, ak_ring_seq *r, int mode, int push, uint64_t v)
{
	struct lc_op *op = lc_begin(log, push ? LC_PUSH : LC_POP, v);
	uint64_t out = 0;
	ak_status st;

	STRESS_CHECK(op != NULL, "history log full");
	st = push ? do_push(r, mode, v) : do_pop(r, mode, &out);
	if (st == AK_EAGAIN) {
		lc_drop(log);
		return 0;
	}
	STRESS_CHECK(st == AK_OK || st == (push ? AK_EFULL : AK_EEMPTY), "%s: unexpected %s",
		     push ? "push" : "pop", ak_status_name(st));
	lc_end(op, st == AK_OK ? LC_OK : st == AK_EFULL ? LC_FULL : LC_EMPTY, out);
	return 1;
}

static void drain(struct lc_log *log, ak_ring_seq *r)
{
	for (;;) {
		struct lc_op *op = lc_begin(log, LC_POP, 0);
		uint64_t v = 0;
		ak_status st;
		STRESS_CHECK(op != NULL, "history log full");
		st = ak_ring_seq_pop64_mpmc(r, &v);
		STRESS_CHECK(st == AK_OK || st == AK_EEMPTY, "drain: %s", ak_status_name(st));
		lc_end(op, st == AK_OK ? LC_OK : LC_EMPTY, v);
		if (st != AK_OK)
			break;
	}
}

static void worker(struct stress_thread *t)
{
	struct shared *s = (struct shared *)t->arg;
	struct lc_log *log = &s->hist.logs[t->id];
	uint64_t seq = 0;

	for (uint64_t round = 0; round < s->rounds; round++) {
		int mode = (int)(round % 3);
		ak_ring_seq *r = s->small[round / 3 % 4];
		enum role role = BOTH;
		if (mode == 1)
			role = t->id == 0 ? POPPER : PUSHER;
		else if (mode == 2)
			role = t->id == 0 ? PUSHER : POPPER;

		pthread_barrier_wait(&s->bar);
		for (uint64_t i = 0; i < s->per_round; i++) {
			int push = role == PUSHER || (role == BOTH && (stress_rand(t) & 1));
			uint64_t v = ((uint64_t)t->id << 40) | seq;
			if (one_op(log, r, mode, push, v) && push)
				seq++;
		}
		pthread_barrier_wait(&s->bar);
		if (t->id == 0) {
			drain(log, r);
			int rc = lc_check_wgl(&s->hist, ak_ring_seq_capacity(r), 0, stderr);
			if (rc < 0) {
				s->undecided++;
				rc = lc_check_fast(&s->hist, ak_ring_seq_capacity(r), 1, stderr);
			}
			STRESS_CHECK(rc == 0, "round %llu (mode %d, capacity %zu): not linearizable",
				     (unsigned long long)round, mode, ak_ring_seq_capacity(r));
			for (unsigned k = 0; k < s->threads; k++)
				for (size_t j = 0; j < s->hist.logs[k].n; j++) {
					s->full_seen += s->hist.logs[k].ops[j].result == LC_FULL;
					s->empty_seen += s->hist.logs[k].ops[j].result == LC_EMPTY;
				}
			s->histories++;
			s->ops_checked += lc_history_size(&s->hist);
			lc_history_clear(&s->hist);
		}
	}

	/* Part 2: one long history, no barriers inside. */
	pthread_barrier_wait(&s->bar);
	for (uint64_t i = 0; i < s->long_ops; i++) {
		int push = stress_rand(t) & 1;
		uint64_t v = ((uint64_t)t->id << 40) | seq;
		if (one_op(log, s->big, 0, push, v) && push)
			seq++;
	}
	pthread_barrier_wait(&s->bar);
	if (t->id == 0) {
		drain(log, s->big);
		int rc = lc_check_fast(&s->hist, s->long_cap, 1, stderr);
		STRESS_CHECK(rc == 0, "long history of %zu ops: rejected",
			     lc_history_size(&s->hist));
		s->ops_checked += lc_history_size(&s->hist);
		for (unsigned k = 0; k < s->threads; k++)
			for (size_t j = 0; j < s->hist.logs[k].n; j++) {
				s->full_seen += s->hist.logs[k].ops[j].result == LC_FULL;
				s->empty_seen += s->hist.logs[k].ops[j].result == LC_EMPTY;
			}
	}
}

int main(int argc, char **argv)
{
	struct stress_cfg cfg;
	static struct shared s;

	/* ops = rounds of short histories; the long history is 20 ops/round */
	stress_init(&cfg, argc, argv, "ring_lin", 4, 6000);
	STRESS_CHECK(cfg.threads >= 1 && cfg.threads <= MAXT, "1..%d threads", MAXT);
	s.threads = cfg.threads;
	s.rounds = cfg.ops;
	/* about 24 ops per short history, at least 2 per thread */
	s.per_round = cfg.threads >= 12 ? 2 : 24 / cfg.threads;
	s.long_ops = cfg.ops * 20 / cfg.threads + 1;
	s.long_cap = 5;
	for (int i = 0; i < 4; i++)
		STRESS_CHECK(ak_ring_seq_new(&s.small[i], (size_t)i + 1, 8, 0) == AK_OK, "ring");
	STRESS_CHECK(ak_ring_seq_new(&s.big, s.long_cap, 8, 0) == AK_OK, "ring");
	STRESS_CHECK(lc_history_init(&s.hist, cfg.threads,
				     s.per_round + s.long_ops + s.long_cap + 8) == 0,
		     "history");
	pthread_barrier_init(&s.bar, NULL, cfg.threads);

	stress_run(&cfg, worker, &s);

	STRESS_CHECK(s.histories == s.rounds, "checked %llu of %llu histories",
		     (unsigned long long)s.histories, (unsigned long long)s.rounds);
	STRESS_CHECK(s.full_seen > 0 && s.empty_seen > 0,
		     "histories never hit FULL (%llu) or EMPTY (%llu): the check proves little",
		     (unsigned long long)s.full_seen, (unsigned long long)s.empty_seen);
	stress_pass(&cfg,
		    "%llu short histories linearizable (Wing-Gong; %llu undecided, fast-checked), "
		    "1 long history fast-checked; %llu ops incl. %llu FULL and %llu EMPTY verdicts, "
		    "0 violations",
		    (unsigned long long)s.histories, (unsigned long long)s.undecided,
		    (unsigned long long)s.ops_checked, (unsigned long long)s.full_seen,
		    (unsigned long long)s.empty_seen);
	pthread_barrier_destroy(&s.bar);
	lc_history_free(&s.hist);
	for (int i = 0; i < 4; i++)
		ak_ring_seq_delete(s.small[i]);
	ak_ring_seq_delete(s.big);
	return 0;
}
