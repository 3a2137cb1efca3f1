/* Count events from several threads three ways: one shared counter, a
 * bounded "in flight" gauge, and a sharded counter for the hot path. */
#include <atomkit/counter.h>
#include <pthread.h>
#include <stdio.h>

static ak_counter requests = AK_COUNTER_INIT(0);
static ak_counter inflight = AK_COUNTER_INIT(0);
static ak_counter rejected = AK_COUNTER_INIT(0);
static ak_scounter bytes;

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100000; i++) {
		ak_counter_inc(&requests);
		/* admit at most 3 concurrent requests; never exceeds the limit */
		if (ak_counter_add_bounded(&inflight, 1, 3, NULL) != AK_OK) {
			ak_counter_inc(&rejected);
			continue;
		}
		ak_scounter_add(&bytes, 512); /* no shared cache line touched */
		ak_counter_dec(&inflight);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[4];

	if (ak_scounter_init(&bytes, NULL, ak_scounter_default_cells()) != AK_OK)
		return 1;
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	uint64_t req = ak_counter_load(&requests), rej = ak_counter_load(&rejected);
	uint64_t b = ak_scounter_sum(&bytes); /* exact: the workers are joined */
	printf("requests %llu, rejected %llu, bytes %llu\n", (unsigned long long)req,
	       (unsigned long long)rej, (unsigned long long)b);
	ak_scounter_destroy(&bytes);
	return (req == 400000 && b == (req - rej) * 512) ? 0 : 1;
}
