/*
 * Change-detection benchmarks: seqlocks, versioned cells, copy-on-write.
 *
 *   seqlock/<impl>/read              readers copy a 32-byte payload, no writer
 *   seqlock/<impl>/read_busy_writer  the same with one extra thread writing
 *                                    in a loop (its writes are not counted)
 *       impl: atomkit (ak_seqlock), atomkit_latch (ak_seqlatch),
 *             ck (ck_sequence), rwlock (pthread_rwlock_t)
 *   vcell/<impl>/cas                 load (value, version), then CAS value+1
 *                                    on that version; retried on conflict
 *       impl: atomkit (ak_vcell, 64+64), atomkit32 (ak_vcell32),
 *             mutex (the same two steps, each under a pthread mutex)
 *   cow/<impl>/read                  read section + one field of the snapshot
 *       impl: atomkit (ak_cow, own epochs + membarrier), urcu (liburcu default
 *             flavour, memb, inline fast path via _LGPL_SOURCE)
 *   cow/atomkit/update               clone + publish + retire (1 thread)
 *
 * Time per op = wall time / total ops over all reader threads.
 */
#define _LGPL_SOURCE
#include <atomkit/cow.h>
#include <atomkit/seqlock.h>
#include <atomkit/vcell.h>
#include <ck_sequence.h>
#include <pthread.h>
#include <urcu.h>

#include "shim/cbench.h"

#define BATCH 1024

struct payload {
	uint64_t a, b, c, d;
};

/* ---- seqlock rows ------------------------------------------------------- */

static AK_CACHE_ALIGNED ak_seqlock g_sl;
static AK_CACHE_ALIGNED _Atomic(uint64_t) g_sl_words[AK_SEQLOCK_WORDS(sizeof(struct payload))];
static AK_CACHE_ALIGNED ak_seqlatch g_latch;
static AK_CACHE_ALIGNED _Atomic(uint64_t) g_latch_words[AK_SEQLATCH_WORDS(sizeof(struct payload))];
static AK_CACHE_ALIGNED ck_sequence_t g_ck = CK_SEQUENCE_INITIALIZER;
static AK_CACHE_ALIGNED struct payload g_ck_data;
static AK_CACHE_ALIGNED pthread_rwlock_t g_rw = PTHREAD_RWLOCK_INITIALIZER;
static AK_CACHE_ALIGNED struct payload g_rw_data;

enum impl { ATOMKIT, LATCH, CK, RWLOCK };

static void write_one(enum impl im, uint64_t i)
{
	struct payload p = { i, i + 1, i + 2, i + 3 };

	switch (im) {
	case ATOMKIT:
		ak_seqlock_write(&g_sl, &p, sizeof p);
		break;
	case LATCH:
		ak_seqlatch_write(&g_latch, &p, sizeof p);
		break;
	case CK:
		ck_sequence_write_begin(&g_ck);
		g_ck_data = p;
		ck_sequence_write_end(&g_ck);
		break;
	case RWLOCK:
		pthread_rwlock_wrlock(&g_rw);
		g_rw_data = p;
		pthread_rwlock_unlock(&g_rw);
		break;
	}
}

static _Atomic(int) g_writer_stop;

static void *busy_writer(void *arg)
{
	enum impl im = (enum impl)(intptr_t)arg;
	uint64_t i = 0;

	while (!atomic_load_explicit(&g_writer_stop, memory_order_relaxed))
		write_one(im, i++);
	return NULL;
}

static uint64_t read_one(enum impl im)
{
	struct payload p = { 0, 0, 0, 0 };
	unsigned v;

	switch (im) {
	case ATOMKIT:
		ak_seqlock_read(&g_sl, &p, sizeof p);
		break;
	case LATCH:
		ak_seqlatch_read(&g_latch, &p, sizeof p);
		break;
	case CK:
		do {
			v = ck_sequence_read_begin(&g_ck);
			p = g_ck_data;
		} while (ck_sequence_read_retry(&g_ck, v));
		break;
	default:
		pthread_rwlock_rdlock(&g_rw);
		p = g_rw_data;
		pthread_rwlock_unlock(&g_rw);
		break;
	}
	return p.a + p.d;
}

static void seq_read(cbench_state *st, enum impl im, int busy)
{
	pthread_t w;
	uint64_t n, sink = 0;

	if (busy && cbench_thread_index(st) == 0) {
		atomic_store_explicit(&g_writer_stop, 0, memory_order_relaxed);
		pthread_create(&w, NULL, busy_writer, (void *)(intptr_t)im);
	}
	while ((n = cbench_next_batch(st, BATCH)))
		for (uint64_t i = 0; i < n; i++)
			sink += read_one(im);
	if (busy && cbench_thread_index(st) == 0) {
		atomic_store_explicit(&g_writer_stop, 1, memory_order_relaxed);
		pthread_join(w, NULL);
	}
	cbench_counter(st, "sink", (double)(sink & 1), CBENCH_COUNTER_AVG);
}

#define SEQ_BM(name, im, busy)                                                 \
	static void name(cbench_state *st, void *ctx)                         \
	{                                                                      \
		(void)ctx;                                                     \
		seq_read(st, im, busy);                                        \
	}
SEQ_BM(bm_seq_atomkit, ATOMKIT, 0)
SEQ_BM(bm_seq_atomkit_busy, ATOMKIT, 1)
SEQ_BM(bm_seq_latch, LATCH, 0)
SEQ_BM(bm_seq_latch_busy, LATCH, 1)
SEQ_BM(bm_seq_ck, CK, 0)
SEQ_BM(bm_seq_ck_busy, CK, 1)
SEQ_BM(bm_seq_rw, RWLOCK, 0)
SEQ_BM(bm_seq_rw_busy, RWLOCK, 1)
#undef SEQ_BM

/* ---- vcell rows ----------------------------------------------------------- */

static AK_CACHE_ALIGNED ak_vcell g_vc = AK_VCELL_INIT(0);
static AK_CACHE_ALIGNED ak_vcell32 g_vc32 = AK_VCELL32_INIT(0);
static AK_CACHE_ALIGNED struct {
	pthread_mutex_t mu;
	uint64_t value, version;
} g_mvc = { PTHREAD_MUTEX_INITIALIZER, 0, 0 };

static void bm_vcell_atomkit(cbench_state *st, void *ctx)
{
	uint64_t n;
	(void)ctx;
	while ((n = cbench_next_batch(st, BATCH)))
		for (uint64_t i = 0; i < n; i++) {
			ak_vcell_snap s = ak_vcell_load(&g_vc);
			while (ak_vcell_cas(&g_vc, s.version, s.value + 1, &s) != AK_OK)
				;
		}
}

static void bm_vcell_atomkit32(cbench_state *st, void *ctx)
{
	uint64_t n;
	(void)ctx;
	while ((n = cbench_next_batch(st, BATCH)))
		for (uint64_t i = 0; i < n; i++) {
			ak_vcell_snap32 s = ak_vcell32_load(&g_vc32);
			while (ak_vcell32_cas(&g_vc32, s.version, s.value + 1, &s) != AK_OK)
				;
		}
}

/* The same protocol with a mutex: read the pair, then store if unchanged. */
static void bm_vcell_mutex(cbench_state *st, void *ctx)
{
	uint64_t n, val, ver;
	int done;
	(void)ctx;
	while ((n = cbench_next_batch(st, BATCH)))
		for (uint64_t i = 0; i < n; i++) {
			pthread_mutex_lock(&g_mvc.mu);
			val = g_mvc.value;
			ver = g_mvc.version;
			pthread_mutex_unlock(&g_mvc.mu);
			do {
				pthread_mutex_lock(&g_mvc.mu);
				done = g_mvc.version == ver;
				if (done) {
					g_mvc.value = val + 1;
					g_mvc.version++;
				} else {
					val = g_mvc.value;
					ver = g_mvc.version;
				}
				pthread_mutex_unlock(&g_mvc.mu);
			} while (!done);
		}
}

/* ---- cow rows ------------------------------------------------------------- */

static ak_cow g_cow;
static struct payload *g_urcu_ptr;

static void bm_cow_atomkit(cbench_state *st, void *ctx)
{
	ak_cow_reader *r;
	uint64_t n, sink = 0;
	(void)ctx;
	if (ak_cow_reader_open(&g_cow, &r) != AK_OK) {
		cbench_skip_with_error(st, "ak_cow_reader_open failed");
		return;
	}
	while ((n = cbench_next_batch(st, BATCH)))
		for (uint64_t i = 0; i < n; i++) {
			const struct payload *p = (const struct payload *)ak_cow_read_begin(r);
			sink += p->a;
			ak_cow_read_end(r);
		}
	ak_cow_reader_close(r);
	cbench_counter(st, "sink", (double)(sink & 1), CBENCH_COUNTER_AVG);
}

static void bm_cow_urcu(cbench_state *st, void *ctx)
{
	uint64_t n, sink = 0;
	(void)ctx;
	rcu_register_thread();
	while ((n = cbench_next_batch(st, BATCH)))
		for (uint64_t i = 0; i < n; i++) {
			rcu_read_lock();
			struct payload *p = rcu_dereference(g_urcu_ptr);
			sink += p->a;
			rcu_read_unlock();
		}
	rcu_unregister_thread();
	cbench_counter(st, "sink", (double)(sink & 1), CBENCH_COUNTER_AVG);
}

static ak_status cow_bump(void *clone, void *arg)
{
	(void)arg;
	((struct payload *)clone)->a++;
	return AK_OK;
}

static void bm_cow_update(cbench_state *st, void *ctx)
{
	(void)ctx;
	while (cbench_keep_running(st))
		ak_cow_update(&g_cow, cow_bump, NULL, 0);
}

CBENCH_INIT(change)
{
	static const int threads[] = { 1, 2 };
	static const int one[] = { 1 };
	static struct payload urcu_payload = { 1, 2, 3, 4 };
	struct payload p = { 1, 2, 3, 4 };

	ak_seqlock_init(&g_sl, g_sl_words, sizeof p, &p);
	ak_seqlatch_init(&g_latch, g_latch_words, sizeof p, &p);
	g_ck_data = p;
	g_rw_data = p;
	ak_cow_init(&g_cow, &p, sizeof p, NULL);
	g_urcu_ptr = &urcu_payload;

	cbench_register_threads("seqlock/atomkit/read", bm_seq_atomkit, NULL, threads, 2);
	cbench_register_threads("seqlock/atomkit_latch/read", bm_seq_latch, NULL, threads, 2);
	cbench_register_threads("seqlock/ck/read", bm_seq_ck, NULL, threads, 2);
	cbench_register_threads("seqlock/rwlock/read", bm_seq_rw, NULL, threads, 2);
	cbench_register_threads("seqlock/atomkit/read_busy_writer", bm_seq_atomkit_busy, NULL, one, 1);
	cbench_register_threads("seqlock/atomkit_latch/read_busy_writer", bm_seq_latch_busy, NULL, one, 1);
	cbench_register_threads("seqlock/ck/read_busy_writer", bm_seq_ck_busy, NULL, one, 1);
	cbench_register_threads("seqlock/rwlock/read_busy_writer", bm_seq_rw_busy, NULL, one, 1);

	cbench_register_threads("vcell/atomkit/cas", bm_vcell_atomkit, NULL, threads, 2);
	cbench_register_threads("vcell/atomkit32/cas", bm_vcell_atomkit32, NULL, threads, 2);
	cbench_register_threads("vcell/mutex/cas", bm_vcell_mutex, NULL, threads, 2);

	cbench_register_threads("cow/atomkit/read", bm_cow_atomkit, NULL, threads, 2);
	cbench_register_threads("cow/urcu/read", bm_cow_urcu, NULL, threads, 2);
	cbench_register("cow/atomkit/update", bm_cow_update, NULL, 0, 0);
}
