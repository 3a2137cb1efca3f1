/*
 * examples/group.c - three services in a thread group: a listener, a
 * worker and a metrics reporter.  Ctrl-C (simulated here with raise after
 * a few ticks) or any service failing stops all three; main returns the
 * first failure.  Run with an argument to make the worker fail instead.
 */
#include <atomkit/group.h>
#include <signal.h>
#include <stdio.h>

static int fail_worker;

static int tick(ak_cancel *stop, const char *name, int n)
{
	for (int i = 0; i < n; i++)   /* sleeps 10 ms unless cancelled */
		if (ak_cancel_wait(stop, ak_deadline_after(10 * AK_NS_PER_MS)) == AK_OK)
			return printf("%s: stopping (%s)\n", name,
				      ak_strerror(ak_cancel_cause(stop))), 0;
	return -1;
}

static int listener(ak_cancel *stop, void *arg)
{
	(void)arg;
	if (tick(stop, "listener", 3) == 0)
		return 0;
	raise(SIGINT);                     /* pretend the user pressed Ctrl-C */
	return tick(stop, "listener", 1000);
}

static int worker(ak_cancel *stop, void *arg)
{   /* a failure stops the others */
	return (void)arg, fail_worker ? AK_ECLOSED : tick(stop, "worker", 1000);
}

static int metrics(ak_cancel *stop, void *arg)
{
	return (void)arg, tick(stop, "metrics", 1000);
}

int main(int argc, char **argv)
{
	ak_cancel root;
	ak_cancel_signals sig;
	ak_group g;
	int who, err;

	fail_worker = argc > 1 && argv[1][0] != 0;
	ak_cancel_init(&root);
	ak_cancel_on_signals(&sig, &root, AK_CANCEL_SIG_SECOND_DEFAULT, 0);
	ak_group_init(&g, &root, AK_GROUP_CANCEL_ON_ERROR);
	ak_group_go(&g, listener, NULL);
	ak_group_go(&g, worker, NULL);
	ak_group_go(&g, metrics, NULL);
	err = ak_group_wait(&g, &who);
	printf("group: first error %s (worker %d); root %s\n", ak_strerror(err), who,
	       ak_cancel_is_set(&root) ? "interrupted: clean shutdown" : "not cancelled");
	ak_group_destroy(&g);
	ak_cancel_signals_restore(&sig);
	ak_cancel_destroy(&root);
	return err;
}
