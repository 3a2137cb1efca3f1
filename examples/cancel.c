/*
 * examples/cancel.c - stop workers politely: a root token cancelled by
 * SIGINT/SIGTERM, a child token per worker, a deadline, a callback.
 * Simulates Ctrl-C with raise() so it finishes by itself.
 */
#include <atomkit/cancel.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>

static ak_cancel root;

static void *worker(void *arg)
{
	ak_cancel mine;
	unsigned long spins = 0;

	ak_cancel_init_child(&mine, &root);        /* stops when root stops */
	while (!ak_cancel_is_set(&mine))           /* one load per check */
		spins++;
	printf("worker %d: stopped (%s) after %lu checks\n", (int)(long)arg,
	       ak_strerror(ak_cancel_cause(&mine)), spins);
	ak_cancel_destroy(&mine);
	return NULL;
}

static void on_cancel(void *arg)
{
	printf("callback: %s (runs on an ordinary thread)\n", (const char *)arg);
}

int main(void)
{
	ak_cancel_signals sig;
	ak_cancel_cb cb = { 0 };
	ak_cancel slow;
	pthread_t th[2];

	ak_cancel_init(&root);
	ak_cancel_cb_register(&root, &cb, on_cancel, "shutting down");
	ak_cancel_on_signals(&sig, &root, AK_CANCEL_SIG_SECOND_DEFAULT, 0); /* INT+TERM */
	for (long i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);

	/* A deadline token: counts as cancelled 20 ms from now. */
	ak_cancel_init_deadline(&slow, ak_deadline_after(20 * AK_NS_PER_MS), NULL);
	ak_cancel_wait(&slow, AK_DEADLINE_NONE);
	printf("deadline token: %s\n", ak_strerror(ak_cancel_cause(&slow)));

	raise(SIGINT);                     /* what Ctrl-C would do */
	ak_cancel_wait(&root, AK_DEADLINE_NONE);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	ak_cancel_signals_restore(&sig);   /* previous handlers back */
	ak_cancel_cb_deregister(&root, &cb);
	printf("root: %s (signal %d)\n", ak_strerror(ak_cancel_cause(&root)),
	       ak_cancel_signals_last(&sig));
	ak_cancel_destroy(&slow);
	return ak_cancel_destroy(&root) == AK_OK ? 0 : 1;
}
