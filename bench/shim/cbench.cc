// The C shim over Google Benchmark 1.7.1 (the only C++ besides peer adapters).
#include "cbench.h"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <pthread.h>
#include <sched.h>
#include <string>

struct cbench_state {
	benchmark::State *st;
	int64_t arg;
};

extern "C" {

uint64_t cbench_next_batch(cbench_state *s, uint64_t max)
{
	benchmark::State &st = *s->st;
	benchmark::IterationCount left = st.max_iterations - st.iterations();
	benchmark::IterationCount n =
		left < static_cast<benchmark::IterationCount>(max) ? left
								   : static_cast<benchmark::IterationCount>(max);
	if (n < 1)
		n = 1;
	return st.KeepRunningBatch(n) ? static_cast<uint64_t>(n) : 0;
}

int cbench_keep_running(cbench_state *s) { return s->st->KeepRunning(); }
int cbench_thread_index(const cbench_state *s) { return s->st->thread_index(); }
int cbench_threads(const cbench_state *s) { return s->st->threads(); }
int64_t cbench_arg(const cbench_state *s) { return s->arg; }
void cbench_pause(cbench_state *s) { s->st->PauseTiming(); }
void cbench_resume(cbench_state *s) { s->st->ResumeTiming(); }

void cbench_counter(cbench_state *s, const char *name, double value, int flags)
{
	benchmark::Counter::Flags f = benchmark::Counter::kDefaults;
	if (flags & CBENCH_COUNTER_RATE)
		f = static_cast<benchmark::Counter::Flags>(f | benchmark::Counter::kIsRate);
	if (flags & CBENCH_COUNTER_AVG)
		f = static_cast<benchmark::Counter::Flags>(f | benchmark::Counter::kAvgThreads);
	s->st->counters[name] = benchmark::Counter(value, f);
}

void cbench_set_items_processed(cbench_state *s, int64_t items) { s->st->SetItemsProcessed(items); }
void cbench_set_bytes_processed(cbench_state *s, int64_t bytes) { s->st->SetBytesProcessed(bytes); }
void cbench_skip_with_error(cbench_state *s, const char *msg) { s->st->SkipWithError(msg); }
int cbench_error_occurred(const cbench_state *s) { return s->st->error_occurred(); }

static void register_one(const char *name, cbench_fn fn, void *ctx, int threads,
			 unsigned flags, bool has_arg, int64_t arg)
{
	benchmark::internal::Benchmark *b = benchmark::RegisterBenchmark(
		name, [fn, ctx, has_arg](benchmark::State &st) {
			cbench_state cs{&st, has_arg ? st.range(0) : 0};
			/* Google Benchmark runs thread 0 of every benchmark on the
			 * main thread, and new threads inherit its CPU mask: a row
			 * that pins its threads would otherwise leave the main
			 * thread pinned, and every later multi-threaded row would
			 * run all its threads on one CPU. Restore the mask. */
			cpu_set_t mask;
			bool saved = pthread_getaffinity_np(pthread_self(), sizeof mask, &mask) == 0;
			fn(&cs, ctx);
			if (saved)
				(void)pthread_setaffinity_np(pthread_self(), sizeof mask, &mask);
		});
	if (has_arg)
		b->Arg(arg);
	/* A fixed iteration count, for instruction counting under callgrind
	 * (scripts/icount.sh): Ir / iterations = instructions per op. */
	if (const char *it = std::getenv("CBENCH_ITERATIONS"))
		b->Iterations(std::strtoll(it, nullptr, 0));
	if (threads > 0)
		b->Threads(threads);
	if (threads > 0 || (flags & CBENCH_REAL_TIME))
		b->UseRealTime();
}

void cbench_register(const char *name, cbench_fn fn, void *ctx, int threads, unsigned flags)
{
	register_one(name, fn, ctx, threads, flags, false, 0);
}

void cbench_register_arg(const char *name, cbench_fn fn, void *ctx, int threads,
			 unsigned flags, int64_t arg)
{
	register_one(name, fn, ctx, threads, flags, true, arg);
}

void cbench_register_threads(const char *name, cbench_fn fn, void *ctx, const int *threads,
			     int nthreads)
{
	for (int i = 0; i < nthreads; i++)
		register_one(name, fn, ctx, threads[i], CBENCH_REAL_TIME, false, 0);
}

int cbench_main(int argc, char **argv)
{
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}

} // extern "C"
