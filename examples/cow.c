/*
 * examples/cow.c - a routing table swapped copy-on-write: readers look up
 * without locks while an updater publishes new versions; old versions are
 * freed once no reader can hold them.
 */
#include <atomkit/cow.h>
#include <pthread.h>
#include <stdio.h>

struct table {
	unsigned version;
	unsigned route[8];
};

static ak_cow routes;

static ak_status reroute(void *clone, void *arg)
{
	struct table *t = (struct table *)clone;
	unsigned slot = *(unsigned *)arg;

	t->version++;
	t->route[slot % 8] = t->version;
	return AK_OK;
}

static void *reader(void *arg)
{
	ak_cow_reader *r;
	unsigned last = 0, lookups = 0;
	(void)arg;
	ak_cow_reader_open(&routes, &r);
	while (last < 1000) {
		const struct table *t = (const struct table *)ak_cow_read_begin(r);
		last = t->version; /* t stays valid until read_end, however many updates land */
		lookups += t->route[lookups % 8] <= last;
		ak_cow_read_end(r);
	}
	ak_cow_reader_close(r);
	printf("reader: %u lookups, saw version %u\n", lookups, last);
	return NULL;
}

int main(void)
{
	struct table empty = { 0, { 0 } };
	pthread_t th;
	ak_cow_stats st;

	ak_cow_init(&routes, &empty, sizeof empty, NULL);
	pthread_create(&th, NULL, reader, NULL);
	for (unsigned i = 0; i < 1000; i++)
		ak_cow_update(&routes, reroute, &i, 0);
	pthread_join(th, NULL);
	ak_cow_synchronize(&routes);
	ak_cow_get_stats(&routes, &st);
	printf("published %llu, retired %llu, freed %llu\n", (unsigned long long)st.published,
	       (unsigned long long)st.retired, (unsigned long long)st.freed);
	return ak_cow_destroy(&routes) == AK_OK && st.freed == st.retired ? 0 : 1;
}
