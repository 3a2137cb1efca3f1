/*
 * Stress: seqlock (several writers) and seqlatch (one writer) under
 * readers that check every snapshot.
 *
 * Invariants, each counted:
 *  torn reads  every snapshot has b == a + 1000, c == a + b and every pad
 *              word == a (a mix of two writes breaks one of these)
 *  order       each reader sees `a` never go backwards
 *  lost writes writers increment `a` inside the write bit, so the final a
 *              equals the number of writes and the sequence moved 2 per write
 *  latch       the same snapshot checks on the two-copy latch
 */
#include <atomkit/seqlock.h>
#include <sched.h>
#include <stdlib.h>

#include "stress.h"

#define MAXT 64
#define NPAD 5

struct rec {
	uint64_t a, b, c, pad[NPAD];
};

struct shared {
	ak_seqlock sl;
	_Atomic(uint64_t) words[AK_SEQLOCK_WORDS(sizeof(struct rec))];
	ak_seqlatch latch;
	_Atomic(uint64_t) lwords[AK_SEQLATCH_WORDS(sizeof(struct rec))];
	unsigned writers;
	uint64_t writes[MAXT], reads[MAXT], lreads[MAXT], eagain[MAXT];
};

static int rec_ok(const struct rec *r)
{
	if (r->b != r->a + 1000 || r->c != r->a + r->b)
		return 0;
	for (int i = 0; i < NPAD; i++)
		if (r->pad[i] != r->a)
			return 0;
	return 1;
}

static void fill(struct rec *r, uint64_t a)
{
	r->a = a;
	r->b = a + 1000;
	r->c = r->a + r->b;
	for (int i = 0; i < NPAD; i++)
		r->pad[i] = a;
}

static void worker(struct stress_thread *t)
{
	struct shared *s = t->arg;
	struct rec r;
	uint64_t last = 0, llast = 0, n = 0, ln = 0, again = 0;

	if (t->id < s->writers) {
		for (uint64_t i = 0; i < t->ops; i++) {
			/* read-modify-write of the payload under the write bit:
			 * a lost or overlapping write shows in the final a */
			STRESS_CHECK(ak_seqlock_write_begin(&s->sl) == AK_OK, "write_begin");
			uint64_t a = ak_seqlock_load_word(&s->sl, 0) + 1;
			fill(&r, a);
			for (size_t w = 0; w < sizeof r / 8; w++)
				ak_seqlock_store_word(&s->sl, w, ((uint64_t *)&r)[w]);
			STRESS_CHECK(ak_seqlock_write_end(&s->sl) == AK_OK, "write_end");
			if (t->id == 0) {
				fill(&r, i + 1);
				STRESS_CHECK(ak_seqlatch_write(&s->latch, &r, sizeof r) == AK_OK,
					     "latch write refused with a single writer");
			}
			n++;
		}
		s->writes[t->id] = n;
		return;
	}
	for (uint64_t i = 0; i < t->ops; i++) {
		ak_status st = ak_seqlock_try_read(&s->sl, &r, sizeof r, 64);
		if (st == AK_EAGAIN) {
			again++;
			sched_yield(); /* the writer may be preempted */
			continue;
		}
		STRESS_CHECK(st == AK_OK, "read: %s", ak_status_name(st));
		STRESS_CHECK(rec_ok(&r), "torn seqlock snapshot a=%llu b=%llu c=%llu",
			     (unsigned long long)r.a, (unsigned long long)r.b,
			     (unsigned long long)r.c);
		STRESS_CHECK(r.a >= last, "seqlock went back: %llu after %llu",
			     (unsigned long long)r.a, (unsigned long long)last);
		last = r.a;
		n++;
		st = ak_seqlatch_try_read(&s->latch, &r, sizeof r, 64);
		if (st == AK_EAGAIN) {
			again++;
			continue;
		}
		STRESS_CHECK(st == AK_OK, "latch read: %s", ak_status_name(st));
		STRESS_CHECK(rec_ok(&r), "torn latch snapshot a=%llu b=%llu",
			     (unsigned long long)r.a, (unsigned long long)r.b);
		STRESS_CHECK(r.a >= llast, "latch went back");
		llast = r.a;
		ln++;
	}
	s->reads[t->id] = n;
	s->lreads[t->id] = ln;
	s->eagain[t->id] = again;
}

int main(int argc, char **argv)
{
	struct stress_cfg cfg;
	static struct shared s;
	struct rec r;
	uint64_t writes = 0, reads = 0, lreads = 0, again = 0;

	stress_init(&cfg, argc, argv, "seqlock", 4, 400000);
	STRESS_CHECK(cfg.threads >= 2 && cfg.threads <= MAXT, "2..%d threads", MAXT);
	s.writers = cfg.threads / 4 ? cfg.threads / 4 : 1;
	fill(&r, 0);
	STRESS_CHECK(ak_seqlock_init(&s.sl, s.words, sizeof r, &r) == AK_OK, "init");
	STRESS_CHECK(ak_seqlatch_init(&s.latch, s.lwords, sizeof r, &r) == AK_OK, "latch init");

	stress_run(&cfg, worker, &s);

	for (unsigned i = 0; i < cfg.threads; i++) {
		writes += s.writes[i];
		reads += s.reads[i];
		lreads += s.lreads[i];
		again += s.eagain[i];
	}
	STRESS_CHECK(ak_seqlock_read(&s.sl, &r, sizeof r) == AK_OK && rec_ok(&r), "final read");
	STRESS_CHECK(r.a == writes, "lost writes: a=%llu, writes=%llu", (unsigned long long)r.a,
		     (unsigned long long)writes);
	STRESS_CHECK(ak_seqlock_writes(&s.sl) == (uint32_t)writes, "sequence moved %u, writes %llu",
		     ak_seqlock_writes(&s.sl), (unsigned long long)writes);
	STRESS_CHECK(ak_seqlatch_read(&s.latch, &r, sizeof r) == AK_OK && rec_ok(&r) &&
			     r.a == cfg.ops,
		     "latch final a=%llu want %llu", (unsigned long long)r.a,
		     (unsigned long long)cfg.ops);
	STRESS_CHECK(reads > 0 && lreads > 0, "no successful reads");
	stress_pass(&cfg,
		    "%llu writes by %u writers, final a == writes; %llu seqlock + %llu latch "
		    "snapshots verified, 0 torn, 0 out of order; %llu EAGAIN",
		    (unsigned long long)writes, s.writers, (unsigned long long)reads,
		    (unsigned long long)lreads, (unsigned long long)again);
	return 0;
}
