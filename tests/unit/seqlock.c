/* Unit tests: seqlock and seqlatch single-threaded semantics and misuse. */
#include <atomkit/seqlock.h>
#include <signal.h>
#include <stdlib.h>

#include "check.h"

struct rec {
	uint64_t a, b, c;
	uint8_t tail[5]; /* odd size: exercises the partial last word */
};

static void test_seqlock_basic(void)
{
	_Atomic(uint64_t) words[AK_SEQLOCK_WORDS(sizeof(struct rec))];
	ak_seqlock sl;
	struct rec in, out;

	memset(&in, 0, sizeof in);
	in.a = 1;
	in.b = 1001;
	in.c = 1002;
	memcpy(in.tail, "abcde", 5);
	CHECK_ST(ak_seqlock_init(&sl, words, sizeof in, NULL), AK_OK);
	memset(&out, 0xff, sizeof out);
	CHECK_ST(ak_seqlock_read(&sl, &out, sizeof out), AK_OK);
	CHECK_EQ_U64(out.a, 0);
	CHECK_EQ_U64(out.tail[4], 0);
	CHECK_EQ_U64(ak_seqlock_writes(&sl), 0);

	CHECK_ST(ak_seqlock_write(&sl, &in, sizeof in), AK_OK);
	CHECK_EQ_U64(ak_seqlock_writes(&sl), 1);
	CHECK_ST(ak_seqlock_read(&sl, &out, sizeof out), AK_OK);
	CHECK(memcmp(&in, &out, sizeof in) == 0);
	CHECK_ST(ak_seqlock_try_read(&sl, &out, sizeof out, 1), AK_OK);
	CHECK(memcmp(&in, &out, sizeof in) == 0);

	CHECK_ST(ak_seqlock_init(&sl, words, sizeof in, &in), AK_OK);
	memset(&out, 0, sizeof out);
	CHECK_ST(ak_seqlock_read(&sl, &out, sizeof out), AK_OK);
	CHECK(memcmp(&in, &out, sizeof in) == 0);
}

static void test_seqlock_raw_and_retry(void)
{
	_Atomic(uint64_t) words[2];
	ak_seqlock sl;
	uint64_t v[2];
	uint32_t s;

	CHECK_ST(ak_seqlock_init(&sl, words, 16, NULL), AK_OK);
	/* A write that completes between begin and retry forces a retry. */
	s = ak_seqlock_read_begin(&sl);
	CHECK_EQ_U64(s & 1, 0);
	CHECK(!ak_seqlock_read_retry(&sl, s));
	v[0] = 7;
	v[1] = 8;
	CHECK_ST(ak_seqlock_write(&sl, v, sizeof v), AK_OK);
	CHECK(ak_seqlock_read_retry(&sl, s));

	/* Writer in progress: begin returns odd, readers retry, try_read
	 * gives up with AK_EAGAIN, a second writer gets AK_EBUSY. */
	CHECK_ST(ak_seqlock_try_write_begin(&sl), AK_OK);
	ak_seqlock_store_word(&sl, 0, 70);
	s = ak_seqlock_read_begin(&sl);
	CHECK_EQ_U64(s & 1, 1);
	CHECK(ak_seqlock_read_retry(&sl, s));
	CHECK_ST(ak_seqlock_try_read(&sl, v, sizeof v, 3), AK_EAGAIN);
	CHECK_ST(ak_seqlock_try_write_begin(&sl), AK_EBUSY);
	ak_seqlock_store_word(&sl, 1, 80);
	CHECK_ST(ak_seqlock_write_end(&sl), AK_OK);
	CHECK_ST(ak_seqlock_try_read(&sl, v, sizeof v, 1), AK_OK);
	CHECK_EQ_U64(v[0], 70);
	CHECK_EQ_U64(v[1], 80);
	s = ak_seqlock_read_begin(&sl);
	CHECK_EQ_U64(ak_seqlock_load_word(&sl, 1), 80);
	CHECK(!ak_seqlock_read_retry(&sl, s));
	CHECK_EQ_U64(ak_seqlock_writes(&sl), 2);

	/* End without begin is detected and changes nothing. */
	CHECK_ST(ak_seqlock_write_end(&sl), AK_ESTATE);
	CHECK_EQ_U64(ak_seqlock_writes(&sl), 2);
	CHECK_ST(ak_seqlock_write_begin(&sl), AK_OK);
	CHECK_ST(ak_seqlock_write_end(&sl), AK_OK);
	CHECK_EQ_U64(ak_seqlock_writes(&sl), 3);
}

static void test_seqlock_misuse(void)
{
	_Atomic(uint64_t) words[2];
	ak_seqlock sl;
	uint64_t v[2] = { 1, 2 }, big[3] = { 0, 0, 0 };

	CHECK_ST(ak_seqlock_init(NULL, words, 16, NULL), AK_EINVAL);
	CHECK_ST(ak_seqlock_init(&sl, NULL, 16, NULL), AK_EINVAL);
	CHECK_ST(ak_seqlock_init(&sl, words, 0, NULL), AK_EINVAL);
	CHECK_ST(ak_seqlock_init(&sl, words, (size_t)AK_SEQLOCK_MAX_SIZE + 1, NULL), AK_E2BIG);
	CHECK_ST(ak_seqlock_init(&sl, words, 16, v), AK_OK);
	CHECK_ST(ak_seqlock_read(NULL, v, 16), AK_EINVAL);
	CHECK_ST(ak_seqlock_read(&sl, NULL, 16), AK_EINVAL);
	CHECK_ST(ak_seqlock_read(&sl, v, 8), AK_EINVAL);
	CHECK_ST(ak_seqlock_try_read(&sl, v, 16, 0), AK_EINVAL);
	CHECK_ST(ak_seqlock_try_read(&sl, big, 24, 1), AK_EINVAL);
	CHECK_ST(ak_seqlock_write(&sl, big, 17), AK_EINVAL);
	CHECK_ST(ak_seqlock_write(&sl, NULL, 16), AK_EINVAL);
	CHECK_ST(ak_seqlock_write(NULL, v, 16), AK_EINVAL);
	CHECK_ST(ak_seqlock_write_begin(NULL), AK_EINVAL);
	CHECK_ST(ak_seqlock_try_write_begin(NULL), AK_EINVAL);
	CHECK_ST(ak_seqlock_write_end(NULL), AK_EINVAL);
	/* nothing above changed the payload or the sequence */
	CHECK_EQ_U64(ak_seqlock_writes(&sl), 0);
	v[0] = v[1] = 0;
	CHECK_ST(ak_seqlock_read(&sl, v, 16), AK_OK);
	CHECK_EQ_U64(v[0], 1);
	CHECK_EQ_U64(v[1], 2);
}

/* Sequence wraparound: the counter is 32 bits and parity is all that matters. */
static void test_seqlock_wrap(void)
{
	_Atomic(uint64_t) words[1];
	ak_seqlock sl;
	uint64_t v = 5, out = 0;

	CHECK_ST(ak_seqlock_init(&sl, words, 8, NULL), AK_OK);
	atomic_store_explicit(&sl.seq, UINT32_MAX - 1, memory_order_relaxed);
	CHECK_ST(ak_seqlock_write(&sl, &v, 8), AK_OK);
	CHECK_EQ_U64(atomic_load_explicit(&sl.seq, memory_order_relaxed), 0);
	CHECK_ST(ak_seqlock_try_read(&sl, &out, 8, 1), AK_OK);
	CHECK_EQ_U64(out, 5);
}

static void test_seqlatch(void)
{
	_Atomic(uint64_t) words[AK_SEQLATCH_WORDS(sizeof(struct rec))];
	ak_seqlatch sl;
	struct rec in, out;

	memset(&in, 0, sizeof in);
	CHECK_ST(ak_seqlatch_init(NULL, words, sizeof in, NULL), AK_EINVAL);
	CHECK_ST(ak_seqlatch_init(&sl, NULL, sizeof in, NULL), AK_EINVAL);
	CHECK_ST(ak_seqlatch_init(&sl, words, 0, NULL), AK_EINVAL);
	CHECK_ST(ak_seqlatch_init(&sl, words, (size_t)AK_SEQLOCK_MAX_SIZE + 1, NULL), AK_E2BIG);
	CHECK_ST(ak_seqlatch_init(&sl, words, sizeof in, NULL), AK_OK);
	memset(&out, 0xff, sizeof out);
	CHECK_ST(ak_seqlatch_read(&sl, &out, sizeof out), AK_OK);
	CHECK(memcmp(&in, &out, sizeof in) == 0);

	for (uint64_t i = 1; i <= 5; i++) {
		in.a = i;
		in.b = i + 1000;
		in.c = in.a + in.b;
		in.tail[4] = (uint8_t)i;
		CHECK_ST(ak_seqlatch_write(&sl, &in, sizeof in), AK_OK);
		CHECK_ST(ak_seqlatch_try_read(&sl, &out, sizeof out, 1), AK_OK);
		CHECK(memcmp(&in, &out, sizeof in) == 0);
	}
	CHECK_EQ_U64(ak_seqlatch_writes(&sl), 5);

	/* A writer "interrupted" half-way (the state a signal handler sees):
	 * seq odd, copy 0 being rewritten.  The reader gets the last complete
	 * value from copy 1 on its first try, without waiting. */
	atomic_store_explicit(&sl.writing, 1, memory_order_relaxed);
	atomic_store_explicit(&sl.seq, 11, memory_order_relaxed);
	atomic_store_explicit(&sl.words[0], 0xdead, memory_order_relaxed);
	CHECK_ST(ak_seqlatch_try_read(&sl, &out, sizeof out, 1), AK_OK);
	CHECK_EQ_U64(out.a, 5);
	CHECK_EQ_U64(out.c, 1010);
	/* and a second writer meanwhile is refused, changing nothing */
	CHECK_ST(ak_seqlatch_write(&sl, &in, sizeof in), AK_EBUSY);
	CHECK_EQ_U64(atomic_load_explicit(&sl.seq, memory_order_relaxed), 11);
	atomic_store_explicit(&sl.writing, 0, memory_order_relaxed);
	atomic_store_explicit(&sl.seq, 10, memory_order_relaxed);
	CHECK_ST(ak_seqlatch_write(&sl, &in, sizeof in), AK_OK);
	CHECK_ST(ak_seqlatch_read(&sl, &out, sizeof out), AK_OK);
	CHECK(memcmp(&in, &out, sizeof in) == 0);

	CHECK_ST(ak_seqlatch_read(&sl, &out, 8), AK_EINVAL);
	CHECK_ST(ak_seqlatch_read(NULL, &out, sizeof out), AK_EINVAL);
	CHECK_ST(ak_seqlatch_try_read(&sl, &out, sizeof out, 0), AK_EINVAL);
	CHECK_ST(ak_seqlatch_try_read(&sl, NULL, sizeof out, 1), AK_EINVAL);
	CHECK_ST(ak_seqlatch_write(&sl, &in, 8), AK_EINVAL);
	CHECK_ST(ak_seqlatch_write(&sl, NULL, sizeof in), AK_EINVAL);
	CHECK_ST(ak_seqlatch_write(NULL, &in, sizeof in), AK_EINVAL);
	CHECK_EQ_U64(ak_seqlatch_writes(&sl), 6);
}

/* A real signal handler reading the latch that its thread was writing. */
static ak_seqlatch g_latch;
static _Atomic(uint64_t) g_latch_words[AK_SEQLATCH_WORDS(16)];
static volatile sig_atomic_t g_sig_ok;

static void on_sig(int sig)
{
	uint64_t v[2];
	(void)sig;
	if (ak_seqlatch_try_read(&g_latch, v, sizeof v, 1) == AK_OK && v[1] == v[0] + 1000)
		g_sig_ok = 1;
}

static void test_seqlatch_signal(void)
{
	uint64_t v[2] = { 1, 1001 };

	CHECK_ST(ak_seqlatch_init(&g_latch, g_latch_words, sizeof v, v), AK_OK);
	signal(SIGUSR1, on_sig);
	for (int i = 0; i < 100; i++) {
		v[0] = (uint64_t)i;
		v[1] = v[0] + 1000;
		CHECK_ST(ak_seqlatch_write(&g_latch, v, sizeof v), AK_OK);
		g_sig_ok = 0;
		raise(SIGUSR1);
		CHECK(g_sig_ok == 1);
	}
	signal(SIGUSR1, SIG_DFL);
}

int main(void)
{
	test_seqlock_basic();
	test_seqlock_raw_and_retry();
	test_seqlock_misuse();
	test_seqlock_wrap();
	test_seqlatch();
	test_seqlatch_signal();
	return check_report("seqlock");
}
