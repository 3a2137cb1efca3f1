/* examples/seqlock.c - a position published by one thread and read by others
 * without locks; a signal handler interrupting the writer reads the latch. */
#include <atomkit/seqlock.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>

struct pos { double x, y, z; uint64_t tick; };

static ak_seqlock sl;
static _Atomic(uint64_t) words[AK_SEQLOCK_WORDS(sizeof(struct pos))];
static ak_seqlatch latch;
static _Atomic(uint64_t) latch_words[AK_SEQLATCH_WORDS(sizeof(struct pos))];
static volatile sig_atomic_t handler_ok = 1;

static void on_usr1(int sig)
{
	struct pos p;
	(void)sig;
	/* never waits for the writer, even though it interrupted it */
	if (ak_seqlatch_try_read(&latch, &p, sizeof p, 1) != AK_OK || p.y != 2 * p.x)
		handler_ok = 0;
}

static void *reader(void *arg)
{
	struct pos p;
	long bad = 0;
	(void)arg;
	for (int i = 0; i < 200000; i++) {
		if (ak_seqlock_read(&sl, &p, sizeof p) != AK_OK)
			return (void *)-1L;
		bad += p.y != 2 * p.x || p.z != 3 * p.x;
	}
	return (void *)bad;
}

int main(void)
{
	struct pos p = { 0, 0, 0, 0 };
	pthread_t th;
	void *bad;
	ak_seqlock_init(&sl, words, sizeof p, &p);
	ak_seqlatch_init(&latch, latch_words, sizeof p, &p);
	signal(SIGUSR1, on_usr1);
	pthread_create(&th, NULL, reader, NULL);
	for (uint64_t t = 1; t <= 100000; t++) {
		p.x = (double)t, p.y = 2 * p.x, p.z = 3 * p.x, p.tick = t;
		ak_seqlock_write(&sl, &p, sizeof p);
		ak_seqlatch_write(&latch, &p, sizeof p);
		if (t % 10000 == 0)
			raise(SIGUSR1);
	}
	pthread_join(th, &bad);
	ak_seqlock_read(&sl, &p, sizeof p);
	printf("last tick %llu, torn reads %ld, handler reads %s\n", (unsigned long long)p.tick,
	       (long)bad, handler_ok ? "ok" : "BROKEN");
	return bad == NULL && handler_ok ? 0 : 1;
}
