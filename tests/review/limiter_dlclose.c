/*
 * Review repro (not built by the Makefile): a thread that took a limiter
 * slot through libatomkit.so exits after the library was dlclose()d, and
 * its pthread key destructor (lr_release in src/limiter.c) is called in
 * unmapped memory: SIGSEGV.  Expected: exit 0.
 *
 *   make lib && gcc -O1 tests/review/limiter_dlclose.c -o /tmp/dlc -pthread &&
 *   LD_LIBRARY_PATH=build/lib /tmp/dlc
 *
 * (_ak_limiter_test_mode() stands in for any take: it claims the slot the
 * way a thread's first take does.)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
static pthread_barrier_t b;
static void *th(void *arg)
{
	unsigned (*mode)(void) = (unsigned (*)(void))(unsigned long)dlsym(arg, "_ak_limiter_test_mode");
	printf("thread took a slot, mode %u\n", mode());
	fflush(stdout);
	pthread_barrier_wait(&b);   /* main unloads the library */
	pthread_barrier_wait(&b);
	return NULL;                /* key destructor lr_release runs now */
}
int main(void)
{
	void *h = dlopen("libatomkit.so", RTLD_NOW);
	if (!h) { printf("dlopen: %s\n", dlerror()); return 2; }
	pthread_barrier_init(&b, NULL, 2);
	pthread_t t;
	pthread_create(&t, NULL, th, h);
	pthread_barrier_wait(&b);
	printf("dlclose -> %d\n", dlclose(h));
	void *again = dlopen("libatomkit.so", RTLD_NOLOAD);
	printf("still loaded after dlclose: %s\n", again ? "yes" : "no");
	fflush(stdout);
	pthread_barrier_wait(&b);
	pthread_join(t, NULL);
	printf("thread exited cleanly\n");
	return 0;
}
