/*
 * examples/vcell.c - a versioned config cell: optimistic updates that never
 * overwrite a change they did not see, and a watcher that sleeps until the
 * version moves.
 */
#include <atomkit/clock.h>
#include <atomkit/vcell.h>
#include <pthread.h>
#include <stdio.h>

static ak_vcell limit = AK_VCELL_INIT(100);

static void *watcher(void *arg)
{
	ak_vcell_snap seen = *(ak_vcell_snap *)arg; /* what main saw before any raise */
	while (seen.value < 130) {
		/* sleeps in the kernel; no busy polling, no missed change */
		if (ak_vcell_wait_change(&limit, seen.version, ak_deadline_after(5 * AK_NS_PER_SEC),
					 NULL) != AK_OK)
			return (void *)1;
		seen = ak_vcell_load(&limit);
		printf("watcher: limit is now %llu (version %llu)\n",
		       (unsigned long long)seen.value, (unsigned long long)seen.version);
	}
	return NULL;
}

/* Add `delta` to the limit, re-reading whenever someone else got there first. */
static void raise_limit(uint64_t delta)
{
	ak_vcell_snap s = ak_vcell_load(&limit);
	while (ak_vcell_cas(&limit, s.version, s.value + delta, &s) == AK_ECONFLICT)
		; /* s now holds the newer pair: decide again from it */
}

int main(void)
{
	pthread_t th;
	void *rc;
	ak_vcell_snap stale = ak_vcell_load(&limit);

	pthread_create(&th, NULL, watcher, &stale);
	for (int i = 0; i < 3; i++)
		raise_limit(10);
	/* A stale version is refused even if the value happens to match. */
	if (ak_vcell_cas(&limit, stale.version, 0, NULL) != AK_ECONFLICT)
		return 1;
	pthread_join(th, &rc);
	printf("final limit %llu after %llu stores\n", (unsigned long long)ak_vcell_load(&limit).value,
	       (unsigned long long)ak_vcell_version(&limit));
	return rc == NULL ? 0 : 1;
}
