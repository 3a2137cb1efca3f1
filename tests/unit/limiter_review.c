/*
 * Review tests for the limiter's grace period (s4/aba).  Each test states
 * the property it expects; at b172c46 each of them fails.
 *
 *  - test_first_claim_in_handler: a take in a signal handler that
 *    interrupts the process's first take while it sets up the slot
 *    registry (pthread_once) never returns (pthread_once on the same
 *    thread).  The docs say takes in handlers are fine (sections nest).
 *  - test_refund_then_stale_take: a refund at t + 5 followed by a take
 *    stamped t hands out burst + 1 tokens at instant t, against the window
 *    guarantee (refunds count at their own time) and against "a smaller
 *    now only makes the limiter stricter".  Independent of the grace
 *    period, but it is what makes tests/stress/limiter_reconf fail once its
 *    takers are given time between load and CAS.
 *  - test_cross_process_aba: a limiter in MAP_SHARED memory; a take parked
 *    (test hook) in a child process across two set_rate calls in the
 *    parent that bring the word back.  The grace period only sees this
 *    process's slots and membarrier only this process's threads, so the
 *    parent does not wait and the child's stale CAS lands (the same
 *    lockout test_take_aba shows).  Nothing in the docs says the limiter
 *    is process-private.
 *
 * Deadlocks are bounded by alarm() in a forked child; the parent only
 * checks how the child ended (no duration is asserted).
 */
#include <atomkit/limiter.h>
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define BASE UINT64_C(1000000000)

/* ---- a take in a handler during the first claim ---------------------------- */

static ak_limiter g_sig_l;
static volatile sig_atomic_t g_sig_armed, g_sig_ran;

static void sig_take(int sig)
{
	(void)sig;
	(void)ak_limiter_try_acquire_at(&g_sig_l, BASE, 1, NULL);
	g_sig_ran = 1;
}

/* Interposed for libatomkit's lr_key_init() (called under pthread_once on
 * the first claim): the signal lands there, as it could in a real program. */
int pthread_key_create(pthread_key_t *key, void (*dtor)(void *))
{
	typedef int (*real_fn)(pthread_key_t *, void (*)(void *));
	real_fn real = (real_fn)(uintptr_t)dlsym(RTLD_NEXT, "pthread_key_create");
	if (g_sig_armed) {
		g_sig_armed = 0;
		raise(SIGUSR1);
	}
	return real(key, dtor);
}

static void test_first_claim_in_handler(void)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		/* The child has not touched a limiter: its first take claims. */
		alarm(5);
		if (ak_limiter_init(&g_sig_l, 1, 10, 4, NULL) != AK_OK)
			_exit(2);
		signal(SIGUSR1, sig_take);
		g_sig_armed = 1;
		ak_status st = ak_limiter_try_acquire_at(&g_sig_l, BASE, 1, NULL);
		_exit(st == AK_OK && g_sig_ran ? 0 : 3);
	}
	CHECK(pid > 0);
	int status = 0;
	CHECK(waitpid(pid, &status, 0) == pid);
	/* Fails with the child killed by SIGALRM: the handler's take waits in
	 * pthread_once for the claim it interrupted. */
	CHECK(WIFEXITED(status));
	if (WIFSIGNALED(status))
		printf("first claim in a handler: child killed by signal %d\n", WTERMSIG(status));
	CHECK_EQ_U64(WIFEXITED(status) ? (uint64_t)WEXITSTATUS(status) : 99, 0);
}

/* ---- a take stamped before a refund ------------------------------------------ */

static void test_refund_then_stale_take(void)
{
	ak_limiter l;
	uint64_t given = 0;
	/* 1 per 10 ns, burst 4: all 4 taken at BASE (empty). */
	CHECK_ST(ak_limiter_init(&l, 1, 10, 4, NULL), AK_OK);
	CHECK_ST(ak_limiter_try_acquire_at(&l, BASE, 4, NULL), AK_OK);
	/* One token back at BASE + 5 (counts at BASE + 5). */
	CHECK_ST(ak_limiter_refund_at(&l, BASE + 5, 1, &given), AK_OK);
	CHECK_EQ_U64(given, 1);
	/* A take stamped BASE (another thread's older clock read): at BASE
	 * only 4 tokens exist; a fifth at BASE breaks [BASE, BASE] <= b. */
	CHECK_ST(ak_limiter_try_acquire_at(&l, BASE, 1, NULL), AK_EAGAIN);
}

/* ---- a take in another process, across two set_rate --------------------------- */

struct xproc {
	ak_limiter l;
	_Atomic(int) parked, go;
	ak_status st;
};
static struct xproc *g_xp;

static void xp_park(ak_limiter *l)
{
	if (l != &g_xp->l || atomic_exchange_explicit(&g_xp->parked, 1, memory_order_acq_rel))
		return;
	/* Acquire pairs with the release store of `go` in the parent. */
	while (!atomic_load_explicit(&g_xp->go, memory_order_acquire))
		sched_yield();
}

static void test_cross_process_aba(void)
{
	void *m = mmap(NULL, sizeof(struct xproc), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		       -1, 0);
	CHECK(m != MAP_FAILED);
	if (m == MAP_FAILED)
		return;
	g_xp = (struct xproc *)m;
	memset(g_xp, 0, sizeof *g_xp);
	/* As test_take_aba: full bucket, 1 per 10 ns, burst 4. */
	CHECK_ST(ak_limiter_init(&g_xp->l, 1, 10, 4, NULL), AK_OK);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		alarm(10);
		_ak_limiter_test_window = xp_park;
		g_xp->st = ak_limiter_try_acquire_at(&g_xp->l, BASE, 1, NULL);
		_exit(0);
	}
	CHECK(pid > 0);
	/* Acquire pairs with the exchange in xp_park(). */
	while (!atomic_load_explicit(&g_xp->parked, memory_order_acquire))
		sched_yield();
	/* Two changes at BASE that leave a full bucket: the word comes back. */
	CHECK_ST(ak_limiter_set_rate_at(&g_xp->l, BASE, 1, 100), AK_OK);
	CHECK_ST(ak_limiter_set_rate_at(&g_xp->l, BASE, 1, 10), AK_OK);
	/* Release pairs with the acquire loads in xp_park(). */
	atomic_store_explicit(&g_xp->go, 1, memory_order_release);
	int status = 0;
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_ST(g_xp->st, AK_OK);
	/* Either linearization: 3 tokens at BASE, 4 ten ns later. */
	CHECK_EQ_U64(ak_limiter_available_at(&g_xp->l, BASE), 3);
	CHECK_EQ_U64(ak_limiter_available_at(&g_xp->l, BASE + 10), 4);
	munmap(m, sizeof(struct xproc));
}

int main(void)
{
	/* First: the child must be the process's first limiter user. */
	test_first_claim_in_handler();
	test_refund_then_stale_take();
	test_cross_process_aba();
	return check_report("limiter_review");
}
