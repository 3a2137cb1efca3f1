#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "stress.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atomkit/internal/futex.h>
#include <atomkit/progress.h>

static const struct stress_cfg *g_cfg;

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);
	return (v && *v) ? strtoull(v, NULL, 0) : def;
}

/*
 * The watchdog: a run that has not finished after STRESS_WATCHDOG seconds
 * (default 300; 0 = none) is stuck, most likely a lost wake-up or a
 * livelock, so it says so with its replay line and exits 3, before the
 * runner's own timeout kills it without a word.  The message is built
 * here, the handler only writes it (async-signal-safe).  fork() children
 * do not inherit the alarm.
 */
static char g_watchdog_msg[512];
static size_t g_watchdog_len;

static void watchdog_fire(int sig)
{
	(void)sig;
	ssize_t w = write(2, g_watchdog_msg, g_watchdog_len);
	(void)w;
	_exit(3);
}

static void watchdog_arm(const struct stress_cfg *cfg)
{
	uint64_t secs = env_u64("STRESS_WATCHDOG", 300);
	if (secs == 0)
		return;
	int n = snprintf(g_watchdog_msg, sizeof g_watchdog_msg,
			 "STRESS FAILURE: %s: not finished after %" PRIu64
			 " s (STRESS_WATCHDOG): stuck, e.g. a lost wake-up\n"
			 "replay: %s -t %u -n %" PRIu64 " -s %" PRIu64 "\n",
			 cfg->name, secs, cfg->argv0, cfg->threads, cfg->ops, cfg->seed);
	g_watchdog_len = n > 0 && (size_t)n < sizeof g_watchdog_msg ? (size_t)n
								     : sizeof g_watchdog_msg - 1;
	signal(SIGALRM, watchdog_fire);
	alarm(secs > 86400 ? 86400u : (unsigned)secs);
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
	watchdog_arm(cfg);
}

/* ---- live progress (STRESS_PROGRESS) ---------------------------------- */

struct progress_cell {
	AK_CACHE_ALIGNED _Atomic(uint64_t) done;
};

struct monitor {
	struct progress_cell *cells;
	unsigned n;
	ak_progress meter; /* single writer: the monitor thread */
	ak_progress_display disp;
	_Atomic(uint32_t) stop;
	pthread_t tid;
};

static int progress_wanted(void)
{
	const char *v = getenv("STRESS_PROGRESS");
	if (v && *v)
		return strtol(v, NULL, 10) != 0;
	return isatty(2);
}

void stress_progress(struct stress_thread *t, uint64_t done)
{
	_Atomic(uint64_t) *cell = t->progress_;
	if (cell)
		atomic_store_explicit(cell, done, memory_order_relaxed);
}

static void monitor_sample(struct monitor *m)
{
	uint64_t sum = 0;
	for (unsigned i = 0; i < m->n; i++)
		sum += atomic_load_explicit(&m->cells[i].done, memory_order_relaxed);
	(void)ak_progress_set(&m->meter, sum); /* AK_ERANGE if a test reported less */
}

static void *monitor_main(void *p)
{
	struct monitor *m = p;
	/* Acquire: pairs with the release store in monitor_stop(). */
	while (!atomic_load_explicit(&m->stop, memory_order_acquire)) {
		monitor_sample(m);
		(void)ak_progress_display_tick(&m->disp);
		_ak_futex_wait(&m->stop, 0, ak_deadline_after(100 * AK_NS_PER_MS), _AK_FUTEX_PRIVATE);
	}
	return NULL;
}

static struct monitor *monitor_start(const struct stress_cfg *cfg, unsigned nthreads)
{
	struct monitor *m;

	if (!progress_wanted())
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->cells = aligned_alloc(AK_DESTRUCTIVE_SIZE, nthreads * sizeof(*m->cells));
	if (!m->cells) {
		free(m);
		return NULL;
	}
	m->n = nthreads;
	for (unsigned i = 0; i < nthreads; i++)
		atomic_store_explicit(&m->cells[i].done, 0, memory_order_relaxed);
	atomic_store_explicit(&m->stop, 0, memory_order_relaxed);
	ak_progress_init(&m->meter, (uint64_t)nthreads * cfg->ops, AK_PROGRESS_SINGLE_WRITER, NULL);
	ak_progress_display_init(&m->disp, &m->meter, 2, cfg->name, AK_DISPLAY_AUTO,
				 isatty(2) ? 0 : AK_NS_PER_SEC, NULL);
	if (pthread_create(&m->tid, NULL, monitor_main, m) != 0) {
		free(m->cells);
		free(m);
		return NULL;
	}
	return m;
}

static void monitor_stop(struct monitor *m)
{
	if (!m)
		return;
	/* Release: pairs with the acquire load in monitor_main(). */
	atomic_store_explicit(&m->stop, 1, memory_order_release);
	_ak_futex_wake(&m->stop, INT32_MAX, _AK_FUTEX_PRIVATE);
	pthread_join(m->tid, NULL);
	monitor_sample(m);
	(void)ak_progress_display_finish(&m->disp);
	free(m->cells);
	free(m);
}

/* ---- running threads ---------------------------------------------------- */

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
	stress_progress(&s->t, s->t.ops); /* a finished thread has done its share */
	return NULL;
}

void stress_run_n(const struct stress_cfg *cfg, unsigned nthreads, stress_fn fn, void *arg)
{
	struct shared_start start;
	struct slot *slots = calloc(nthreads, sizeof(*slots));

	STRESS_CHECK(slots != NULL, "out of memory");
	struct monitor *mon = monitor_start(cfg, nthreads);
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
		slots[i].t.progress_ = mon ? (void *)&mon->cells[i].done : NULL;
		int rc = pthread_create(&slots[i].tid, NULL, thread_main, &slots[i]);
		STRESS_CHECK(rc == 0, "pthread_create failed: %s", strerror(rc));
	}
	for (unsigned i = 0; i < nthreads; i++)
		pthread_join(slots[i].tid, NULL);
	monitor_stop(mon);
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
