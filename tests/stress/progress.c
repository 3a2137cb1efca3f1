/*
 * Stress: progress meter snapshots under concurrent writers, readers and a
 * SIGUSR1 handler that reads on the writer's own thread.
 *
 * Phase 1, single writer: thread 0 adds n (1..4) at a time and stamps each
 * update ts = BASE + count * K, so every snapshot is checked exactly:
 *   last_ns == BASE + count * K, total and started_ns unchanged, and per
 *   reader count and last_ns never go backwards.
 * Phase 2, multi-writer: half the threads add 1 at a time with ts = BASE +
 * ticket * K (tickets drawn from a shared counter before the add).  A
 * consistent snapshot of C adds has max ticket within [C, C + writers], so
 *   BASE + C*K <= last_ns <= BASE + (C + writers)*K
 * (a torn "new count, old timestamp" read breaks the left side), plus the
 * same monotonicity; at the end count == adds and last_ns == BASE + adds*K.
 * In both phases readers send SIGUSR1 to a writer (one signal in flight at a
 * time); its handler snapshots the meter on the interrupted writer's thread
 * and applies the same checks.  In phase 1 it must succeed with a single
 * read attempt (ak_progress_snapshot_try(.., 1)): the only writer cannot
 * move while its handler runs, so a latch never retries there (a plain
 * seqlock would spin forever when the signal lands inside a write; the
 * pass line counts how many handler runs did land mid-write).  Handler
 * failures are recorded and reported after the run.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <atomkit/progress.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "stress.h"

#define BASE UINT64_C(1000000)
#define K UINT64_C(7)
#define MAXN 4
#define TOTAL UINT64_C(123456789)

static struct {
	ak_progress meter;
	int multi;
	unsigned writers;
	uint64_t phase_ops;            /* adds in this phase, over all writers */
	_Atomic(uint64_t) ticket;      /* phase 2 timestamps */
	_Atomic(uint32_t) writers_done;
	_Atomic(int) target_ready;     /* the signalled writer's tid is set */
	_Atomic(int) senders;          /* readers between checking ready and pthread_kill */
	_Atomic(int) sig_pending;      /* a SIGUSR1 is on its way: do not pile up more */
	pthread_t target;
	/* the signalled writer's own view, for its handler */
	_Atomic(uint64_t) committed;
	/* results */
	_Atomic(uint64_t) reads, sig_sent, sig_reads, sig_mid_write, sig_bad, bad, adds;
	_Atomic(uint64_t) first_bad_count, first_bad_last;
	_Atomic(uint32_t) readers_started; /* writers start adding once a reader runs */
} S;

/* The checks shared by readers and the handler; returns 0 when fine. */
static int check_snap(const ak_progress_snap *s, const ak_progress_snap *prev)
{
	if (s->total != TOTAL || s->started_ns != BASE)
		return 1;
	if (!S.multi) {
		if (s->last_ns != BASE + s->count * K)
			return 2;
	} else {
		if (s->last_ns < BASE + s->count * K ||
		    s->last_ns > BASE + (s->count + S.writers) * K)
			return 3;
	}
	if (prev && (s->count < prev->count || s->last_ns < prev->last_ns))
		return 4;
	return 0;
}

static void on_usr1(int sig)
{
	ak_progress_snap s;
	(void)sig;
	/* seq_cst (all bookkeeping below): same-thread ordering with the
	 * writer this handler interrupted; relaxed would do on x86. */
	uint64_t c = atomic_load_explicit(&S.committed, memory_order_seq_cst);
	int bad = 0;
	if (!S.multi) {
		/* Relaxed: a statistic (an odd seq: we interrupted a write). */
		if (atomic_load_explicit(&S.meter.seq, memory_order_relaxed) & 1)
			atomic_fetch_add_explicit(&S.sig_mid_write, 1, memory_order_relaxed);
		/* The only writer is the thread we interrupted: it cannot move, so
		 * one attempt must succeed (a plain seqlock would spin forever
		 * here when the signal lands inside a write). */
		if (ak_progress_snapshot_try(&S.meter, &s, 1) != AK_OK)
			bad = 7;
	} else {
		ak_progress_snapshot(&S.meter, &s);
	}
	if (!bad)
		bad = check_snap(&s, NULL);
	/* on the writer's thread the meter is at or past what it committed
	 * (single writer: at most one add of <= MAXN in flight) */
	if (!bad && s.count < c)
		bad = 5;
	if (!bad && !S.multi && s.count > c + MAXN)
		bad = 6;
	atomic_fetch_add_explicit(&S.sig_reads, 1, memory_order_relaxed);
	if (bad)
		atomic_fetch_add_explicit(&S.sig_bad, 1, memory_order_relaxed);
	/* Relaxed: only throttles the senders (one signal in flight). */
	atomic_store_explicit(&S.sig_pending, 0, memory_order_relaxed);
}

static void writer(struct stress_thread *t, uint64_t nops, int is_target)
{
	uint64_t done = 0;

	if (is_target) {
		S.target = pthread_self();
		/* Release: pairs with the acquire in reader() before pthread_kill. */
		atomic_store_explicit(&S.target_ready, 1, memory_order_release);
	}
	/* Make reads and writes overlap even on a loaded machine, where a
	 * single writer could otherwise finish before any reader is scheduled.
	 * Relaxed: a scheduling gate, it guards no data. */
	while (atomic_load_explicit(&S.readers_started, memory_order_relaxed) == 0)
		sched_yield();
	for (uint64_t i = 0; done < nops; i++) {
		uint64_t n = S.multi ? 1 : 1 + stress_below(t, MAXN);
		if (n > nops - done)
			n = nops - done;
		if (S.multi) {
			uint64_t tk = atomic_fetch_add_explicit(&S.ticket, 1, memory_order_relaxed) + 1;
			STRESS_CHECK(ak_progress_add_at(&S.meter, 1, BASE + tk * K) == AK_OK, "add");
		} else {
			STRESS_CHECK(ak_progress_add_at(&S.meter, n, BASE + (done + n) * K) == AK_OK,
				     "add");
		}
		done += n;
		if (is_target)
			atomic_fetch_add_explicit(&S.committed, n, memory_order_seq_cst);
		if ((i & 1023) == 1023) {
			stress_progress(t, done); /* live display, if on */
			/* Multi-writer: let the lock holder run on 2 cores.  The
			 * single writer never yields, so it is preempted (and gets
			 * its signals) at arbitrary points, mid-write included. */
			if (S.multi)
				sched_yield();
		}
	}
	if (is_target) {
		/* The harness joins (and frees) this thread as soon as it returns:
		 * stop the senders first.  seq_cst with the readers' seq_cst
		 * increment of senders and load of target_ready (Dekker): either
		 * we see their increment and wait, or they see ready == 0. */
		atomic_store_explicit(&S.target_ready, 0, memory_order_seq_cst);
		while (atomic_load_explicit(&S.senders, memory_order_seq_cst) != 0)
			sched_yield();
	}
	atomic_fetch_add_explicit(&S.adds, done, memory_order_relaxed);
	/* Release: pairs with the acquire in reader(): the adds are done. */
	atomic_fetch_add_explicit(&S.writers_done, 1, memory_order_release);
}

static void reader(struct stress_thread *t)
{
	ak_progress_snap s, prev;
	uint64_t n = 1; /* the first, checked snapshot below counts */

	ak_progress_snapshot(&S.meter, &prev);
	STRESS_CHECK(check_snap(&prev, NULL) == 0, "first snapshot inconsistent");
	atomic_fetch_add_explicit(&S.readers_started, 1, memory_order_relaxed);
	/* Acquire: pairs with the release in writer(). */
	while (atomic_load_explicit(&S.writers_done, memory_order_acquire) < S.writers) {
		ak_progress_snapshot(&S.meter, &s);
		int bad = check_snap(&s, &prev);
		if (bad) {
			atomic_fetch_add_explicit(&S.bad, 1, memory_order_relaxed);
			atomic_store_explicit(&S.first_bad_count, s.count, memory_order_relaxed);
			atomic_store_explicit(&S.first_bad_last, s.last_ns, memory_order_relaxed);
		}
		prev = s;
		n++;
		int zero = 0;
		/* Readers take turns (by id) at trying; relaxed CAS: a throttle, it guards no data.  One signal in
		 * flight at a time, sent as soon as the previous one was handled,
		 * so the writer is interrupted often and at arbitrary points. */
		if ((n & 3) == (t->id & 3) &&
		    atomic_compare_exchange_strong_explicit(&S.sig_pending, &zero, 1,
							    memory_order_relaxed,
							    memory_order_relaxed)) {
			/* seq_cst: the Dekker pair with the writer's exit (see writer()). */
			atomic_fetch_add_explicit(&S.senders, 1, memory_order_seq_cst);
			/* seq_cst (also acquire): pairs with the release in writer(),
			 * so S.target is set. */
			if (atomic_load_explicit(&S.target_ready, memory_order_seq_cst) &&
			    pthread_kill(S.target, SIGUSR1) == 0)
				atomic_fetch_add_explicit(&S.sig_sent, 1, memory_order_relaxed);
			else
				atomic_store_explicit(&S.sig_pending, 0, memory_order_relaxed);
			/* Release: pairs with the writer's seq_cst load of senders. */
			atomic_fetch_sub_explicit(&S.senders, 1, memory_order_release);
		}
		if ((n & 255) == 0)
			sched_yield();
	}
	atomic_fetch_add_explicit(&S.reads, n, memory_order_relaxed);
}

static void phase_worker(struct stress_thread *t)
{
	if (t->id < S.writers) {
		uint64_t per = S.phase_ops / S.writers, extra = S.phase_ops % S.writers;
		writer(t, per + (t->id < extra), t->id == 0);
	} else {
		reader(t);
	}
}

static void run_phase(const struct stress_cfg *cfg, int multi, uint64_t *reads, uint64_t *sigs)
{
	ak_fake_clock fc;
	ak_clock clk;

	ak_fake_clock_set(&fc, BASE);
	clk = ak_fake_clock_as_clock(&fc);
	S.multi = multi;
	/* The single writer is fast (stores only): give it the full count so
	 * the signal handler gets many chances; writers serialise in phase 2. */
	S.phase_ops = multi ? (cfg->ops / 8 ? cfg->ops / 8 : 1) : cfg->ops;
	S.writers = multi ? (cfg->threads / 2 ? cfg->threads / 2 : 1) : 1;
	if (S.writers >= cfg->threads) /* keep at least one reader */
		S.writers = cfg->threads - 1;
	STRESS_CHECK(ak_progress_init(&S.meter, TOTAL,
				      multi ? AK_PROGRESS_MULTI_WRITER : AK_PROGRESS_SINGLE_WRITER,
				      &clk) == AK_OK,
		     "init");
	atomic_store_explicit(&S.ticket, 0, memory_order_relaxed);
	atomic_store_explicit(&S.writers_done, 0, memory_order_relaxed);
	atomic_store_explicit(&S.target_ready, 0, memory_order_relaxed);
	atomic_store_explicit(&S.committed, 0, memory_order_relaxed);
	atomic_store_explicit(&S.adds, 0, memory_order_relaxed);
	atomic_store_explicit(&S.reads, 0, memory_order_relaxed);
	atomic_store_explicit(&S.sig_reads, 0, memory_order_relaxed);
	atomic_store_explicit(&S.sig_sent, 0, memory_order_relaxed);
	atomic_store_explicit(&S.sig_pending, 0, memory_order_relaxed);
	atomic_store_explicit(&S.readers_started, 0, memory_order_relaxed);

	/* A display thread redraws the meter every millisecond into /dev/null
	 * while the phase runs: one more concurrent reader, and TSan sees the
	 * display's own thread handling. */
	ak_progress_display disp;
	int devnull = open("/dev/null", O_WRONLY);
	STRESS_CHECK(devnull >= 0, "open /dev/null");
	STRESS_CHECK(ak_progress_display_init(&disp, &S.meter, devnull, "stress", AK_DISPLAY_TTY,
					      AK_NS_PER_MS, NULL) == AK_OK, "display init");
	STRESS_CHECK(ak_progress_display_start(&disp) == AK_OK, "display start");

	stress_run(cfg, phase_worker, NULL);

	STRESS_CHECK(ak_progress_display_stop(&disp) == AK_OK, "display stop");
	close(devnull);

	ak_progress_snap s;
	ak_progress_snapshot(&S.meter, &s);
	uint64_t adds = atomic_load_explicit(&S.adds, memory_order_relaxed);
	const char *ph = multi ? "multi-writer" : "single-writer";
	STRESS_CHECK(adds == S.phase_ops, "%s: %llu adds, want %llu", ph, (unsigned long long)adds,
		     (unsigned long long)S.phase_ops);
	STRESS_CHECK(s.count == adds, "%s: final count %llu != %llu adds (lost or duplicated)", ph,
		     (unsigned long long)s.count, (unsigned long long)adds);
	STRESS_CHECK(s.last_ns == BASE + adds * K, "%s: final last_ns %llu != %llu", ph,
		     (unsigned long long)s.last_ns, (unsigned long long)(BASE + adds * K));
	uint64_t bad = atomic_load_explicit(&S.bad, memory_order_relaxed);
	STRESS_CHECK(bad == 0, "%s: %llu inconsistent snapshots (e.g. count %llu last_ns %llu)", ph,
		     (unsigned long long)bad,
		     (unsigned long long)atomic_load_explicit(&S.first_bad_count, memory_order_relaxed),
		     (unsigned long long)atomic_load_explicit(&S.first_bad_last, memory_order_relaxed));
	uint64_t sbad = atomic_load_explicit(&S.sig_bad, memory_order_relaxed);
	STRESS_CHECK(sbad == 0, "%s: %llu inconsistent snapshots in the signal handler", ph,
		     (unsigned long long)sbad);
	*reads = atomic_load_explicit(&S.reads, memory_order_relaxed);
	*sigs = atomic_load_explicit(&S.sig_reads, memory_order_relaxed);
	STRESS_CHECK(*reads > 0, "%s: readers made no reads", ph);
	STRESS_CHECK(atomic_load_explicit(&S.sig_sent, memory_order_relaxed) == 0 || *sigs > 0,
		     "%s: %llu signals sent, handler never ran", ph,
		     (unsigned long long)atomic_load_explicit(&S.sig_sent, memory_order_relaxed));
}

int main(int argc, char **argv)
{
	struct stress_cfg cfg;
	struct sigaction sa;
	uint64_t r1, g1, r2, g2;

	stress_init(&cfg, argc, argv, "progress", 4, 10000000);
	STRESS_CHECK(cfg.threads >= 2, "needs at least 2 threads (a writer and a reader)");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	STRESS_CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");

	run_phase(&cfg, 0, &r1, &g1);
	run_phase(&cfg, 1, &r2, &g2);
	stress_pass(&cfg,
		    "single writer: %llu adds, %llu snapshots + %llu in SIGUSR1 handler (%llu of them "
		    "mid-write, 1 try each) exact (ts == base + count*k), never backwards; multi-writer "
		    "(%u): %llu adds, %llu + %llu snapshots within bounds; final counts exact, 0 lost, "
		    "0 torn",
		    (unsigned long long)cfg.ops, (unsigned long long)r1, (unsigned long long)g1,
		    (unsigned long long)atomic_load_explicit(&S.sig_mid_write, memory_order_relaxed),
		    S.writers, (unsigned long long)S.phase_ops, (unsigned long long)r2,
		    (unsigned long long)g2);
	return 0;
}
