/*
 * Per-client rate limits on a simulated request stream.
 *
 * Four clients hit a server for 10 simulated seconds; each may make 5
 * requests per second with bursts of 3.  Client 0 is greedy (200/s), the
 * others are polite.  A fake clock drives time, so the run is instant and
 * the same every time.
 */
#include <atomkit/limiter.h>
#include <stdio.h>

#define CLIENTS 4

int main(void)
{
	static ak_limiter_slot slots[64]; /* fixed capacity: no allocation */
	ak_limiter_table table;
	ak_fake_clock fc;
	uint64_t served[CLIENTS] = { 0 }, limited[CLIENTS] = { 0 }, first_wait = 0;

	ak_fake_clock_set(&fc, 0);
	ak_clock clock = ak_fake_clock_as_clock(&fc);
	if (ak_limiter_table_init(&table, slots, 64, 5, AK_NS_PER_SEC, 3, &clock) != AK_OK)
		return 1;

	for (uint64_t ms = 0; ms < 10000; ms++) {
		ak_fake_clock_set(&fc, ms * AK_NS_PER_MS);
		for (uint64_t c = 0; c < CLIENTS; c++) {
			uint64_t every_ms = c == 0 ? 5 : 250 * c; /* 200/s, 4/s, 2/s, 1.3/s */
			if (ms % every_ms != 0)
				continue;
			uint64_t wait_ns;
			ak_status st = ak_limiter_table_try_acquire(&table, c, 1, &wait_ns);
			if (st == AK_OK) {
				served[c]++;
			} else if (st == AK_EAGAIN) { /* reply 429, Retry-After: wait_ns */
				if (!limited[c]++ && c == 0)
					first_wait = wait_ns;
			} else {
				printf("client %llu: %s\n", (unsigned long long)c, ak_strerror(st));
				return 1;
			}
		}
	}
	for (int c = 0; c < CLIENTS; c++)
		printf("client %d: %3llu served, %4llu limited\n", c, (unsigned long long)served[c],
		       (unsigned long long)limited[c]);
	printf("client 0's first refusal said: retry in %.1f ms\n", first_wait / 1e6);
	/* 10 s at 5/s plus a burst of 3: never more than 53 for anyone */
	for (int c = 0; c < CLIENTS; c++)
		if (served[c] > 53 || (c > 0 && limited[c] != 0))
			return 1;
	return 0;
}
