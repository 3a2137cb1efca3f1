/*
 * Litmus: versioned cells publish what was written before a store, and a
 * load never pairs a value with another store's version.
 *
 * Part 1 (jcstress form, fresh cell per iteration):
 *   actor 0:  data = 42 (relaxed);  store the cell (value 7, version 0 -> 1)
 *   actor 1:  read the cell;  d = data (relaxed)
 *   FORBIDDEN: version 1 seen but d != 42 (the store's release half and the
 *              read's acquire do not pair), and any (value, version) pair
 *              the cell never held (7 with version 0, or 0 with version 1).
 *   REQUIRED:  version 0 and version 1 both seen (the actors raced).
 * Run for ak_vcell_store/ak_vcell_load, ak_vcell_cas/ak_vcell_version (+
 * a load of the value), ak_vcell32_store/ak_vcell32_load and
 * ak_vcell32_cas/ak_vcell32_changed_since.
 *
 * Part 2 (streaming): two writers CAS-loop value = H(version) into one
 * cell, a reader loads as fast as it can.
 *   FORBIDDEN: a loaded value that is not H(its version) (a torn or mixed
 *              pair), a version lower than one loaded before.
 *   REQUIRED:  the reader saw LITMUS_STREAM_MIN different versions.
 */
#include <atomkit/vcell.h>

#include "litmus.h"

#define H64(v) ((v) * UINT64_C(0x9e3779b97f4a7c15) ^ UINT64_C(0x5555))
#define READER_LAG 1
#define H32(v) ((uint32_t)((v) * 2654435761u ^ 0x5555u))

struct st {
	ak_vcell c;
	char pad0[128 - sizeof(ak_vcell) % 128];
	ak_vcell32 c32;
	char pad1[128 - sizeof(ak_vcell32) % 128];
	_Atomic(int) data;
	char pad2[124];
};

static void reset(void *p)
{
	struct st *s = (struct st *)p;
	(void)ak_vcell_init(&s->c, 0, 0);
	(void)ak_vcell32_init(&s->c32, 0, 0);
	atomic_store_explicit(&s->data, 0, memory_order_relaxed);
}

/* A store costs several times a read: the reader waits a little first,
 * or it runs ahead of the writer through the batch and "version 1" is
 * rare among overlapped iterations. */
static void lag(void)
{
	for (int k = 0; k < READER_LAG; k++)
		__builtin_ia32_pause();
}

/* r[1] = version seen, r[2] = value seen, r[3] = data seen */
static void w_store(void *p, int *r)
{
	struct st *s = (struct st *)p;
	(void)r;
	atomic_store_explicit(&s->data, 42, memory_order_relaxed);
	(void)ak_vcell_store(&s->c, 7); /* pairs with the acquire in the readers */
}
static void w_cas(void *p, int *r)
{
	struct st *s = (struct st *)p;
	atomic_store_explicit(&s->data, 42, memory_order_relaxed);
	/* pairs with the acquire in the readers */
	if (ak_vcell_cas(&s->c, 0, 7, NULL) != AK_OK)
		r[0] = 1; /* nobody else stores: cannot fail */
}
static void rd_load(void *p, int *r)
{
	lag();
	struct st *s = (struct st *)p;
	ak_vcell_snap v = ak_vcell_load(&s->c); /* pairs with the store's CAS */
	r[1] = (int)v.version;
	r[2] = (int)v.value;
	r[3] = atomic_load_explicit(&s->data, memory_order_relaxed);
}
static void rd_version(void *p, int *r)
{
	lag();
	struct st *s = (struct st *)p;
	r[1] = (int)ak_vcell_version(&s->c); /* pairs with the store's CAS */
	r[3] = atomic_load_explicit(&s->data, memory_order_relaxed);
	/* the value can only be newer than the version read before it */
	r[2] = r[1] ? 7 : 0;
}

static void w32_store(void *p, int *r)
{
	struct st *s = (struct st *)p;
	(void)r;
	atomic_store_explicit(&s->data, 42, memory_order_relaxed);
	(void)ak_vcell32_store(&s->c32, 7); /* pairs with the acquire in the readers */
}
static void w32_cas(void *p, int *r)
{
	struct st *s = (struct st *)p;
	atomic_store_explicit(&s->data, 42, memory_order_relaxed);
	/* pairs with the acquire in the readers */
	if (ak_vcell32_cas(&s->c32, 0, 7, NULL) != AK_OK)
		r[0] = 1;
}
static void rd32_load(void *p, int *r)
{
	lag();
	struct st *s = (struct st *)p;
	ak_vcell_snap32 v = ak_vcell32_load(&s->c32); /* pairs with the seq_cst CAS */
	r[1] = (int)v.version;
	r[2] = (int)v.value;
	r[3] = atomic_load_explicit(&s->data, memory_order_relaxed);
}
static void rd32_changed(void *p, int *r)
{
	lag();
	struct st *s = (struct st *)p;
	r[1] = ak_vcell32_changed_since(&s->c32, 0); /* pairs with the seq_cst CAS */
	r[3] = atomic_load_explicit(&s->data, memory_order_relaxed);
	r[2] = r[1] ? 7 : 0;
}

static unsigned outcome(const int *r, const void *st)
{
	(void)st;
	if (r[0])
		return 4; /* the uncontended CAS failed */
	if (r[1] == 0)
		return r[2] == 0 ? 0 : 3;
	if (r[1] != 1 || r[2] != 7)
		return 3;
	return r[3] == 42 ? 1 : 2;
}

static int part1(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*w)(void *, int *);
		void (*rd)(void *, int *);
	} v[] = {
		{ "vcell_publish (ak_vcell_store / load)", w_store, rd_load },
		{ "vcell_publish (ak_vcell_cas / version)", w_cas, rd_version },
		{ "vcell_publish (ak_vcell32_store / load)", w32_store, rd32_load },
		{ "vcell_publish (ak_vcell32_cas / changed_since)", w32_cas, rd32_changed },
	};
	int rc = 0;

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		struct litmus t = {
			.name = v[i].name,
			.nactors = 2,
			.state_size = sizeof(struct st),
			.batch = 512,
			.reset = reset,
			.actor = { v[i].w, v[i].rd },
			.outcome = outcome,
			.outcome_name = { "version 0", "version 1, data 42", "version 1, data stale",
					  "pair never stored", "uncontended CAS failed" },
			.forbidden = { 0, 0, 1, 1, 1 },
			.must_see = { 1, 1, 0, 0, 0 },
		};
		rc |= litmus_main(&t, argc, argv, 1000000);
	}
	return rc;
}

/* ---- part 2: streaming pairs ---- */

static ak_vcell cell;
static ak_vcell32 cell32;
static _Atomic(int) started, stop;
static uint64_t n_loads;

/* Store until the reader has done its loads: whatever the scheduler
 * does, the loads run while stores are landing. */
static void *writer(void *arg)
{
	int wide = *(int *)arg;

	atomic_fetch_add_explicit(&started, 1, memory_order_relaxed);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		if (wide) {
			ak_vcell_snap s = ak_vcell_load(&cell);
			while (ak_vcell_cas(&cell, s.version, H64(s.version + 1), &s) != AK_OK)
				;
		} else {
			ak_vcell_snap32 s = ak_vcell32_load(&cell32);
			while (ak_vcell32_cas(&cell32, s.version, H32(s.version + 1), &s) != AK_OK)
				;
		}
	}
	return NULL;
}

static int part2(int wide)
{
	const char *name = wide ? "vcell_pairs (ak_vcell, 2 writers)" : "vcell_pairs (ak_vcell32, 2 writers)";
	uint64_t versions = 0, bad = 0, back = 0, prev = 0, last;
	pthread_t th[2];

	(void)ak_vcell_init(&cell, H64(0), 0);
	(void)ak_vcell32_init(&cell32, H32(0), 0);
	atomic_store_explicit(&started, 0, memory_order_relaxed);
	atomic_store_explicit(&stop, 0, memory_order_relaxed);
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, writer, &wide);
	while (atomic_load_explicit(&started, memory_order_relaxed) < 2)
		sched_yield();
	double t_end = ak_litmus_now_() + LITMUS_STREAM_SECONDS;
	uint64_t i;
	for (i = 0; litmus_stream_more(i, n_loads, versions, t_end); i++) {
		uint64_t ver;
		int ok;
		if (wide) {
			ak_vcell_snap s = ak_vcell_load(&cell);
			ver = s.version;
			ok = s.value == H64(s.version);
		} else {
			ak_vcell_snap32 s = ak_vcell32_load(&cell32);
			ver = s.version;
			ok = s.value == H32(s.version);
		}
		if (!ok)
			bad++;
		else if (ver < prev)
			back++;
		else if (ver > prev) {
			versions++;
			prev = ver;
		}
	}
	atomic_store_explicit(&stop, 1, memory_order_relaxed);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	last = wide ? ak_vcell_version(&cell) : ak_vcell32_version(&cell32);
	printf("%s: %" PRIu64 " loads during %" PRIu64 " stores, %" PRIu64
	       " versions seen, %" PRIu64 " mixed pairs, %" PRIu64 " went back\n",
	       name, i, last, versions, bad, back);
	if (litmus_stream_verdict(name, bad + back, versions))
		return 1;
	printf("%s ok: %" PRIu64 " loads, %" PRIu64 " versions, 0 mixed, 0 out of order\n", name, i, versions);
	return 0;
}

int main(int argc, char **argv)
{
	int rc = part1(argc, argv);

	n_loads = litmus_iters(argc, argv, 2000000);
	rc |= part2(1);
	rc |= part2(0);
	return rc;
}
