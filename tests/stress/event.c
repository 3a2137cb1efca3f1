/*
 * Stress: the eventcount never loses a wake-up.
 *
 * A token goes round a ring of threads: thread k may only take its turn
 * when turn % n == k, and otherwise blocks on the event.  Every hand-off
 * therefore needs the previous holder's notify to reach a thread that may
 * be just about to sleep: a lost wake-up stalls the ring until the
 * (generous) deadline, which is counted as a failure.  With more threads
 * than cores, waiters are preempted inside the prepare/check/wait window.
 */
#include <atomkit/clock.h>
#include <atomkit/status.h>
#include <atomkit/internal/event.h>

#include "stress.h"

static struct _ak_event ev = _AK_EVENT_INIT;
static _Atomic(uint64_t) turn;
static _Atomic(uint64_t) timeouts;
static _Atomic(uint64_t) sleeps;
static uint64_t owner_log[64]; /* plain: written only by the turn holder */

static void worker(struct stress_thread *t)
{
	uint64_t mine = 0;
	uint64_t deadline = ak_deadline_after(120 * AK_NS_PER_SEC);

	for (uint64_t i = 0; i < t->ops; i++) {
		uint64_t want = i * t->nthreads + t->id;
		for (;;) {
			/* Acquire: pairs with the release store of turn below. */
			if (atomic_load_explicit(&turn, memory_order_acquire) == want)
				break;
			uint32_t tk = _ak_event_prepare(&ev);
			if (atomic_load_explicit(&turn, memory_order_acquire) == want) {
				_ak_event_abort(&ev);
				break;
			}
			atomic_fetch_add_explicit(&sleeps, 1, memory_order_relaxed);
			if (_ak_event_wait(&ev, tk, deadline, _AK_FUTEX_PRIVATE) == AK_ETIMEDOUT) {
				atomic_fetch_add_explicit(&timeouts, 1, memory_order_relaxed);
				return;
			}
		}
		/* we hold the turn: plain data is ours (the acquire above) */
		owner_log[t->id]++;
		mine++;
		/* Release: hands our writes to the next holder's acquire. */
		atomic_store_explicit(&turn, want + 1, memory_order_release);
		_ak_event_notify(&ev, _AK_FUTEX_PRIVATE);
	}
	STRESS_CHECK(mine == t->ops, "thread %u took %llu turns", t->id, (unsigned long long)mine);
}

int main(int argc, char **argv)
{
	struct stress_cfg cfg;

	stress_init(&cfg, argc, argv, "event", 4, 4000);
	STRESS_CHECK(cfg.threads <= 64, "at most 64 threads");
	stress_run(&cfg, worker, NULL);
	uint64_t total = (uint64_t)cfg.threads * cfg.ops;
	uint64_t sum = 0;
	for (unsigned i = 0; i < cfg.threads; i++)
		sum += owner_log[i];
	STRESS_CHECK(atomic_load_explicit(&timeouts, memory_order_relaxed) == 0,
		     "%llu waits timed out: a wake-up was lost",
		     (unsigned long long)atomic_load_explicit(&timeouts, memory_order_relaxed));
	STRESS_CHECK(atomic_load_explicit(&turn, memory_order_relaxed) == total,
		     "turn %llu != %llu", (unsigned long long)atomic_load_explicit(&turn, memory_order_relaxed),
		     (unsigned long long)total);
	STRESS_CHECK(sum == total, "turns taken %llu != %llu", (unsigned long long)sum,
		     (unsigned long long)total);
	STRESS_CHECK(atomic_load_explicit(&ev.waiters, memory_order_relaxed) == 0,
		     "waiters left registered");
	stress_pass(&cfg, "%llu hand-offs in order, %llu sleeps, 0 lost wake-ups",
		    (unsigned long long)total,
		    (unsigned long long)atomic_load_explicit(&sleeps, memory_order_relaxed));
	return 0;
}
