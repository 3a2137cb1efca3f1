/* A worker sleeps a random time before each step; a watchdog cancels it once
 * no progress arrives within 100 ms.  The sleep waits on the cancel token, so
 * the worker wakes the moment it is cancelled. */
#include <atomkit/watchdog.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(void)
{
	ak_heartbeat hb;
	ak_cancel job;
	ak_watchdog wd;
	int steps = 0;

	srand((unsigned)ak_now_ns());
	ak_heartbeat_init(&hb, 100 * AK_NS_PER_MS, AK_PROGRESS_SINGLE_WRITER, NULL);
	ak_cancel_init(&job);
	ak_watchdog_init(&wd, NULL, 0); /* polls every interval/4 = 25 ms */
	ak_watchdog_add(&wd, &hb, &job, NULL, NULL);
	ak_watchdog_start(&wd);

	uint64_t t0 = ak_now_ns();
	for (;;) {
		/* sleeps get longer as the run goes on, so a stall surely comes */
		uint64_t ms = (uint64_t)(rand() % (40 + 10 * steps));
		if (ak_cancel_wait(&job, ak_deadline_after(ms * AK_NS_PER_MS)) == AK_OK) {
			printf("step %d: cancelled while sleeping %llu ms\n", steps + 1,
			       (unsigned long long)ms);
			break;
		}
		ak_heartbeat_beat(&hb);
		printf("step %d: slept %llu ms, beat\n", ++steps, (unsigned long long)ms);
	}
	double after = (double)(ak_now_ns() - t0) / 1e9;
	int cause = ak_cancel_cause(&job);
	printf("stopped after %d steps, %.2f s: %s (%s)\n", steps, after, ak_strerror(cause),
	       ak_status_name(cause));

	ak_watchdog_remove(&wd, &hb); /* returns once the watchdog is done with it */
	ak_watchdog_stop(&wd);
	ak_watchdog_destroy(&wd);
	ak_cancel_destroy(&job);
	return cause == AK_ESTALLED ? 0 : 1;
}
