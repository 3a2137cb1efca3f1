#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "stress.h"

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const struct stress_cfg *g_cfg;

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);
	return (v && *v) ? strtoull(v, NULL, 0) : def;
}

void stress_init(struct stress_cfg *cfg, int argc, char **argv, const char *name,
		 unsigned default_threads, uint64_t default_ops)
{
	const char *scale = getenv("STRESS_SCALE");
	double f = scale && *scale ? strtod(scale, NULL) : 1.0;
	int opt;

	memset(cfg, 0, sizeof(*cfg));
	cfg->name = name;
	cfg->argv0 = argv[0];
	if (f <= 0)
		f = 1.0;
	cfg->threads = (unsigned)env_u64("STRESS_THREADS", default_threads);
	cfg->ops = env_u64("STRESS_OPS", (uint64_t)((double)default_ops * f));
	cfg->seed = env_u64("STRESS_SEED", 0);
	cfg->pin = (int)env_u64("STRESS_PIN", 0);
	while ((opt = getopt(argc, argv, "t:n:s:p")) != -1) {
		switch (opt) {
		case 't': cfg->threads = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'n': cfg->ops = strtoull(optarg, NULL, 0); break;
		case 's': cfg->seed = strtoull(optarg, NULL, 0); break;
		case 'p': cfg->pin = 1; break;
		default:
			fprintf(stderr, "usage: %s [-t threads] [-n ops] [-s seed] [-p]\n", argv[0]);
			exit(2);
		}
	}
	if (cfg->threads == 0)
		cfg->threads = 1;
	if (cfg->ops == 0)
		cfg->ops = 1;
	if (cfg->seed == 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		cfg->seed = stress_mix((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
				       (uint64_t)getpid());
		if (cfg->seed == 0)
			cfg->seed = 1;
	}
	g_cfg = cfg;
	printf("%s: threads=%u ops=%" PRIu64 " seed=%" PRIu64 "%s\n", name, cfg->threads,
	       cfg->ops, cfg->seed, cfg->pin ? " pinned" : "");
	fflush(stdout);
}

struct shared_start {
	pthread_barrier_t barrier;
	stress_fn fn;
	const struct stress_cfg *cfg;
};

struct slot {
	struct shared_start *start;
	struct stress_thread t;
	pthread_t tid;
};

static void *thread_main(void *p)
{
	struct slot *s = p;
	if (s->start->cfg->pin) {
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET((int)(s->t.id % (unsigned)(ncpu > 0 ? ncpu : 1)), &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	pthread_barrier_wait(&s->start->barrier);
	s->start->fn(&s->t);
	return NULL;
}

void stress_run_n(const struct stress_cfg *cfg, unsigned nthreads, stress_fn fn, void *arg)
{
	struct shared_start start;
	struct slot *slots = calloc(nthreads, sizeof(*slots));

	STRESS_CHECK(slots != NULL, "out of memory");
	start.fn = fn;
	start.cfg = cfg;
	pthread_barrier_init(&start.barrier, NULL, nthreads);
	for (unsigned i = 0; i < nthreads; i++) {
		slots[i].start = &start;
		slots[i].t.id = i;
		slots[i].t.nthreads = nthreads;
		slots[i].t.rng = stress_mix(cfg->seed ^ stress_mix(i + 1)) | 1;
		slots[i].t.ops = cfg->ops;
		slots[i].t.arg = arg;
		slots[i].t.cfg = cfg;
		slots[i].t.start_ = &start;
		int rc = pthread_create(&slots[i].tid, NULL, thread_main, &slots[i]);
		STRESS_CHECK(rc == 0, "pthread_create failed: %s", strerror(rc));
	}
	for (unsigned i = 0; i < nthreads; i++)
		pthread_join(slots[i].tid, NULL);
	pthread_barrier_destroy(&start.barrier);
	free(slots);
}

void stress_barrier(struct stress_thread *t)
{
	pthread_barrier_wait(&((struct shared_start *)t->start_)->barrier);
}

void stress_run(const struct stress_cfg *cfg, stress_fn fn, void *arg)
{
	stress_run_n(cfg, cfg->threads, fn, arg);
}

void stress_pass(const struct stress_cfg *cfg, const char *fmt, ...)
{
	va_list ap;
	printf("%s ok: ", cfg->name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void stress_fail_(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "%s:%d: STRESS FAILURE: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (g_cfg)
		fprintf(stderr, "replay: %s -t %u -n %" PRIu64 " -s %" PRIu64 "\n",
			g_cfg->argv0, g_cfg->threads, g_cfg->ops, g_cfg->seed);
	exit(1);
}
