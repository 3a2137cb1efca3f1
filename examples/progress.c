/* A worker counts through 2000 items; a display thread shows its progress on
 * stderr, and a SIGUSR1 handler prints a snapshot - here raised by the worker
 * itself, so the handler interrupts the very thread that writes the meter. */
#include <atomkit/progress.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ITEMS 2000
static ak_progress meter;
static ak_progress_rate handler_rate; /* the handler's own observer state */

static void on_usr1(int sig)
{
	ak_progress_snap s;
	ak_progress_est e;
	char line[128] = "SIGUSR1: ";
	(void)sig;
	/* all async-signal-safe: lock-free snapshot, no stdio, no locale */
	ak_progress_snapshot(&meter, &s);
	ak_progress_estimate(&handler_rate, &s, ak_now_ns(), &e);
	ak_progress_format(line + 9, sizeof line - 10, &e, NULL);
	strcat(line, "\n");
	(void)!write(2, line, strlen(line));
}

static void *worker(void *arg)
{
	struct timespec pause = { 0, 500 * 1000 }; /* 0.5 ms of "work" per item */
	(void)arg;
	for (int i = 1; i <= ITEMS; i++) {
		nanosleep(&pause, NULL);
		ak_progress_add(&meter, 1); /* a few stores: no lock, no RMW */
		if (i == ITEMS / 2)
			raise(SIGUSR1); /* runs on_usr1 on this thread */
	}
	return NULL;
}

int main(void)
{
	ak_progress_display d;
	pthread_t t;
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	ak_progress_init(&meter, ITEMS, AK_PROGRESS_SINGLE_WRITER, NULL);
	ak_progress_rate_init(&handler_rate, AK_PROGRESS_TAU_DEFAULT, AK_PROGRESS_STALL_DEFAULT);
	/* one redrawn line on a terminal, a plain line every 250 ms otherwise */
	ak_progress_display_init(&d, &meter, 2, "items", AK_DISPLAY_AUTO, 250 * AK_NS_PER_MS, NULL);
	ak_progress_display_start(&d);
	pthread_create(&t, NULL, worker, NULL);
	pthread_join(t, NULL);
	ak_progress_display_stop(&d); /* joins the display thread, draws the last line */
	return ak_progress_count(&meter) == ITEMS ? 0 : 1;
}
