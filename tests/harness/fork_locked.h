/*
 * fork() while another thread holds one of the library's internal locks
 * (the limiter's lock bit, the token bucket's tick lock): the library's
 * fork gate must make fork wait until the lock is released, so the child
 * never starts with it held.
 *
 * The holder is parked in the family's "lock held" test hook (call
 * fork_locked_hook() from it) until fork() has begun: our own prepare
 * handler, registered after the library's, runs first and releases it;
 * the holder then keeps the lock 50 ms more.  Without the gate the fork
 * copies the lock held; with it, fork waits at the library's prepare
 * handler until the holder has let go.  The child runs `check` under a
 * 5 s alarm (a child stuck on the copied lock dies of SIGALRM) and exits
 * with its result.  Timing only bounds waits; nothing asserts a duration.
 */
#ifndef ATOMKIT_TEST_FORK_LOCKED_H
#define ATOMKIT_TEST_FORK_LOCKED_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static _Atomic(int) fl_armed, fl_parked, fl_forking;

static void fl_prepare(void)
{
	/* Release pairs with the acquire load in fork_locked_hook(). */
	atomic_store_explicit(&fl_forking, 1, memory_order_release);
}

/* Call from the family's lock-held hook: parks the first holder after
 * arming until fork() has begun, then holds on 50 ms more. */
static void fork_locked_hook(void)
{
	int one = 1;
	if (!atomic_compare_exchange_strong_explicit(&fl_armed, &one, 0, memory_order_relaxed,
						     memory_order_relaxed))
		return;
	/* Release pairs with the acquire load in fork_locked_run(). */
	atomic_store_explicit(&fl_parked, 1, memory_order_release);
	/* Acquire pairs with the release store in fl_prepare(). */
	while (!atomic_load_explicit(&fl_forking, memory_order_acquire))
		sched_yield();
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	nanosleep(&ts, NULL);
}

/*
 * Start `holder` (which must take the lock and so reach the hook) on a
 * thread, fork once it is parked, run check() in the child.  Returns the
 * child's exit status as waitpid reports it (0 = check() returned 0).
 */
static int fork_locked_run(void *(*holder)(void *), void *arg, int (*check)(void *), void *carg)
{
	static int registered;
	pthread_t t;
	int status = -1;

	if (!registered) {
		(void)pthread_atfork(fl_prepare, NULL, NULL);
		registered = 1;
	}
	atomic_store_explicit(&fl_forking, 0, memory_order_relaxed);
	atomic_store_explicit(&fl_parked, 0, memory_order_relaxed);
	atomic_store_explicit(&fl_armed, 1, memory_order_relaxed);
	if (pthread_create(&t, NULL, holder, arg) != 0)
		return -1;
	/* Acquire pairs with the release store in fork_locked_hook().  A
	 * holder that never reaches the hook fails the test (after ~10 s). */
	for (long spins = 0; !atomic_load_explicit(&fl_parked, memory_order_acquire); spins++) {
		struct timespec ts = { 0, 1000 * 1000 };
		if (spins == 10000) {
			atomic_store_explicit(&fl_armed, 0, memory_order_relaxed);
			pthread_join(t, NULL);
			return -2;
		}
		nanosleep(&ts, NULL);
	}
	pid_t pid = fork();
	if (pid == 0) {
		alarm(5);
		_exit(check(carg));
	}
	pthread_join(t, NULL);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

#endif /* ATOMKIT_TEST_FORK_LOCKED_H */
