/*
 * Stress: a signal storm against a token installed with
 * ak_cancel_on_signals(SIGINT).
 *
 * Each round: thread 0 installs the handler on a fresh token (a callback is
 * registered first), then fires 1..32 SIGINTs with pthread_kill at random
 * threads (itself included) and kill() at the process, and keeps signalling
 * itself until the token is set.  The other threads meanwhile spin on
 * ak_cancel_is_set, block in ak_cancel_wait, or register and deregister
 * callbacks, until they see the cancel.  Then the handlers are restored
 * (the previous disposition is SIG_IGN, so late signals are dropped).
 * Invariants, counted:
 *   no deadlock  every round ends (the runner's timeout would catch a hang)
 *   cancelled    the token is set with cause AK_EINTR; the installation saw
 *                SIGINT and counted at least one signal
 *   callbacks    the pre-registered callback ran exactly once; every
 *                callback a worker registered ran 0/1 times as
 *                ak_cancel_cb_ran() says
 *   teardown     restore returns AK_OK and leaves SIG_IGN installed; every
 *                token destroys with AK_OK
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <atomkit/cancel.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "stress.h"

#define MAXT 64

struct shared {
	pthread_barrier_t bar;
	pthread_t tids[MAXT];
	ak_cancel token;
	ak_cancel_signals sig;
	ak_cancel_cb main_cb;
	_Atomic(uint32_t) main_runs;
	uint64_t rounds;
	uint64_t sent[MAXT], waits[MAXT], cbs[MAXT], cb_ran[MAXT], bad[MAXT];
	uint64_t received, round_fail;
};

static void count_cb(void *arg)
{
	atomic_fetch_add_explicit((_Atomic(uint32_t) *)arg, 1, memory_order_relaxed);
}

/* Inside the SIGINT handler SIGINT is blocked in the thread's mask (no
 * SA_NODEFER), so an unblocked SIGINT proves we run outside it. */
static _Atomic(uint32_t) in_handler_runs;
static void main_cb_fn(void *arg)
{
	sigset_t cur;
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	if (sigismember(&cur, SIGINT))
		atomic_fetch_add_explicit(&in_handler_runs, 1, memory_order_relaxed);
	count_cb(arg);
}

static void round_setup(struct shared *s)
{
	atomic_store_explicit(&s->main_runs, 0, memory_order_relaxed);
	memset(&s->main_cb, 0, sizeof(s->main_cb));
	if (ak_cancel_init(&s->token) != AK_OK ||
	    ak_cancel_cb_register(&s->token, &s->main_cb, main_cb_fn, &s->main_runs) != AK_OK ||
	    ak_cancel_on_signals(&s->sig, &s->token, 0, SIGINT, 0) != AK_OK)
		s->round_fail++;
}

static void round_teardown(struct shared *s)
{
	struct sigaction now;

	if (ak_cancel_signals_restore(&s->sig) != AK_OK)
		s->round_fail++;
	sigaction(SIGINT, NULL, &now);
	if (now.sa_handler != SIG_IGN)
		s->round_fail++;
	if (!ak_cancel_is_set(&s->token) || ak_cancel_cause(&s->token) != AK_EINTR)
		s->round_fail++;
	if (ak_cancel_signals_last(&s->sig) != SIGINT ||
	    atomic_load_explicit(&s->sig.count, memory_order_relaxed) == 0)
		s->round_fail++;
	s->received += atomic_load_explicit(&s->sig.count, memory_order_relaxed);
	/* restore joined the dispatcher: the callback has run by now */
	if (atomic_load_explicit(&s->main_runs, memory_order_relaxed) != 1)
		s->round_fail++;
	if (ak_cancel_cb_deregister(&s->token, &s->main_cb) != AK_OK ||
	    ak_cancel_destroy(&s->token) != AK_OK)
		s->round_fail++;
}

static void worker(struct stress_thread *t)
{
	struct shared *s = t->arg;
	unsigned id = t->id, n = t->nthreads;

	s->tids[id] = pthread_self();
	for (uint64_t r = 0; r < s->rounds; r++) {
		if (id == 0)
			round_setup(s);
		pthread_barrier_wait(&s->bar);
		if (id == 0) {
			unsigned k = 1 + (unsigned)stress_below(t, 32);
			for (unsigned i = 0; i < k; i++) {
				if (stress_below(t, 4) == 0)
					kill(getpid(), SIGINT);
				else
					pthread_kill(s->tids[stress_below(t, n)], SIGINT);
				s->sent[id]++;
				sched_yield();
			}
			while (!ak_cancel_is_set(&s->token)) {
				pthread_kill(pthread_self(), SIGINT);
				s->sent[id]++;
				sched_yield();
			}
		} else {
			switch (stress_below(t, 3)) {
			case 0:
				while (!ak_cancel_is_set(&s->token))
					sched_yield();
				break;
			case 1:
				/* a 10 s bound turns a lost wake-up into a counted failure */
				if (ak_cancel_wait(&s->token, ak_deadline_after(10 * AK_NS_PER_SEC)) !=
				    AK_OK)
					s->bad[id]++;
				s->waits[id]++;
				break;
			default:
				while (!ak_cancel_is_set(&s->token)) {
					ak_cancel_cb cb = { 0 };
					_Atomic(uint32_t) runs;
					atomic_init(&runs, 0);
					if (ak_cancel_cb_register(&s->token, &cb, count_cb, &runs) != AK_OK)
						s->bad[id]++;
					sched_yield();
					if (ak_cancel_cb_deregister(&s->token, &cb) != AK_OK)
						s->bad[id]++;
					uint32_t m = atomic_load_explicit(&runs, memory_order_relaxed);
					if (m != (ak_cancel_cb_ran(&cb) ? 1u : 0u))
						s->bad[id]++;
					s->cbs[id]++;
					s->cb_ran[id] += m;
				}
				break;
			}
			if (ak_cancel_cause(&s->token) != AK_EINTR)
				s->bad[id]++;
		}
		pthread_barrier_wait(&s->bar);
		if (id == 0)
			round_teardown(s);
	}
}

int main(int argc, char **argv)
{
	struct stress_cfg cfg;
	static struct shared s;
	uint64_t sent = 0, waits = 0, cbs = 0, ran = 0, bad = 0;
	struct sigaction ign;

	stress_init(&cfg, argc, argv, "cancel_signal", 4, 400);
	STRESS_CHECK(cfg.threads >= 2 && cfg.threads <= MAXT, "2 to %d threads", MAXT);
	/* The disposition restore must bring back; drops late signals. */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, NULL);
	s.rounds = cfg.ops;
	pthread_barrier_init(&s.bar, NULL, cfg.threads);

	stress_run(&cfg, worker, &s);

	for (unsigned i = 0; i < cfg.threads; i++) {
		sent += s.sent[i];
		waits += s.waits[i];
		cbs += s.cbs[i];
		ran += s.cb_ran[i];
		bad += s.bad[i];
	}
	pthread_barrier_destroy(&s.bar);
	STRESS_CHECK(s.round_fail == 0, "%llu round invariants failed (cancel, cause, "
		     "exactly-once callback, restore)", (unsigned long long)s.round_fail);
	STRESS_CHECK(atomic_load_explicit(&in_handler_runs, memory_order_relaxed) == 0,
		     "%u callbacks ran inside the signal handler",
		     atomic_load_explicit(&in_handler_runs, memory_order_relaxed));
	STRESS_CHECK(bad == 0, "%llu worker violations (cause, wait status, callbacks)",
		     (unsigned long long)bad);
	stress_pass(&cfg,
		    "%llu rounds, %llu SIGINTs sent, %llu handled; every round cancelled with "
		    "AK_EINTR, its callback ran exactly once off the handler, handlers restored; "
		    "%llu waits woke; %llu worker callbacks (%llu ran) exactly-once; 0 deadlocks",
		    (unsigned long long)s.rounds, (unsigned long long)sent,
		    (unsigned long long)s.received, (unsigned long long)waits,
		    (unsigned long long)cbs, (unsigned long long)ran);
	return 0;
}
