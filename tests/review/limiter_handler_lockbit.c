/*
 * Review repro (not built by the Makefile): a take in a signal handler
 * that interrupts ak_limiter_cancel()'s undo on the same thread (the undo
 * holds the word's lock bit for a few stores) spins on that bit for ever.
 * docs/ratelimit.md (s4/aba) says takes in handlers are fine.  Expected:
 * "child finished: 0"; seen: the child hangs (killed after 10 s; gdb shows
 * it in h() -> sched_yield, i.e. _ak_limiter_load's wait).
 *
 *   make build/gcc/libatomkit.a && gcc -O2 -Iinclude \
 *     tests/review/limiter_handler_lockbit.c build/gcc/libatomkit.a -o /tmp/hl -pthread && /tmp/hl
 */
#define _GNU_SOURCE
#include <atomkit/limiter.h>
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#define BASE 1000000000ull
static ak_limiter l;
static volatile sig_atomic_t hits;
static void h(int s) { (void)s; (void)ak_limiter_try_acquire_at(&l, BASE, 1, NULL); hits++; }
int main(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		ak_limiter_init(&l, 1, 10, 1000000, NULL);
		signal(SIGALRM, h);
		struct itimerval it = { { 0, 50 }, { 0, 50 } };
		setitimer(ITIMER_REAL, &it, NULL);
		for (long i = 0; i < 20000000; i++) {
			ak_limiter_ticket tk;
			/* a reservation good later, then its cancel (lock bit for a few stores) */
			if (ak_limiter_reserve_at(&l, BASE, 1, UINT64_MAX / 4, &tk, NULL) == AK_OK)
				(void)ak_limiter_cancel_at(&l, BASE, &tk);
		}
		_exit(0);
	}
	for (int i = 0; i < 200; i++) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) { printf("child finished: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1); return 0; }
		usleep(50000);
	}

	kill(pid, SIGKILL); waitpid(pid, NULL, 0);
	printf("child hung (killed after 10 s)\n");
	return 1;
}
