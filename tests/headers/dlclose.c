/*
 * A thread takes a limiter slot through a dlopen()ed libatomkit.so, the
 * library is dlclose()d, then the thread exits: the slot key's destructor
 * (lr_release in src/limiter.c) must still be mapped.  The library is linked
 * with -z nodelete for that; without it this program dies with SIGSEGV.
 * Run by scripts/check-link.sh; exit 0 on success.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static pthread_barrier_t g_bar;

static void *claimer(void *lib)
{
	/* _ak_limiter_test_mode() claims a slot as a thread's first take does. */
	unsigned (*mode)(void) = (unsigned (*)(void))(unsigned long)dlsym(lib, "_ak_limiter_test_mode");
	if (!mode)
		return (void *)1;
	(void)mode();
	pthread_barrier_wait(&g_bar); /* main unloads the library */
	pthread_barrier_wait(&g_bar);
	return NULL; /* the key destructor runs after this */
}

int main(void)
{
	void *lib = dlopen("libatomkit.so", RTLD_NOW);
	void *ret = NULL;
	pthread_t th;
	if (!lib) {
		printf("dlopen: %s\n", dlerror());
		return 2;
	}
	pthread_barrier_init(&g_bar, NULL, 2);
	pthread_create(&th, NULL, claimer, lib);
	pthread_barrier_wait(&g_bar);
	if (dlclose(lib) != 0)
		return 3;
	pthread_barrier_wait(&g_bar);
	pthread_join(th, &ret);
	return ret == NULL ? 0 : 4;
}
