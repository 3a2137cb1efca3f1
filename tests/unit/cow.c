/* Unit tests: copy-on-write pointer semantics, conflicts, reclamation. */
#include <atomkit/cow.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "check.h"

struct cfg {
	uint64_t gen;
	uint64_t twice; /* == 2 * gen in every published snapshot */
	char *name;     /* deep-copied by the ops below */
};

static ak_status bump(void *clone, void *arg)
{
	struct cfg *c = (struct cfg *)clone;
	c->gen += arg ? *(uint64_t *)arg : 1;
	c->twice = 2 * c->gen;
	return AK_OK;
}

static ak_status refuse(void *clone, void *arg)
{
	(void)clone;
	(void)arg;
	return AK_ERANGE;
}

static void test_basic(void)
{
	ak_cow p;
	ak_cow_reader *r, *r2;
	ak_cow_stats st;
	struct cfg init = { 5, 10, NULL };
	const struct cfg *s, *held;
	uint64_t three = 3;

	CHECK_ST(ak_cow_init(NULL, &init, sizeof init, NULL), AK_EINVAL);
	CHECK_ST(ak_cow_init(&p, &init, 0, NULL), AK_EINVAL);
	CHECK_ST(ak_cow_init(&p, &init, sizeof init, NULL), AK_OK);
	CHECK_ST(ak_cow_reader_open(&p, NULL), AK_EINVAL);
	CHECK_ST(ak_cow_reader_open(NULL, &r), AK_EINVAL);
	CHECK_ST(ak_cow_reader_open(&p, &r), AK_OK);

	s = (const struct cfg *)ak_cow_read_begin(r);
	CHECK_EQ_U64(s->gen, 5);
	CHECK(s != &init); /* a copy, owned by the ak_cow */
	ak_cow_read_end(r);

	CHECK_ST(ak_cow_update(&p, bump, &three, 0), AK_OK);
	CHECK_ST(ak_cow_update(&p, bump, NULL, AK_COW_NO_RETRY), AK_OK);
	s = (const struct cfg *)ak_cow_read_begin(r);
	CHECK_EQ_U64(s->gen, 9);
	CHECK_EQ_U64(s->twice, 18);
	ak_cow_read_end(r);

	/* fn refuses: its status comes back, nothing is published */
	CHECK_ST(ak_cow_update(&p, refuse, NULL, 0), AK_ERANGE);
	CHECK_ST(ak_cow_update(&p, NULL, NULL, 0), AK_EINVAL);
	CHECK_ST(ak_cow_update(&p, bump, NULL, 0x80), AK_EINVAL);
	CHECK_ST(ak_cow_update(NULL, bump, NULL, 0), AK_EINVAL);
	CHECK_ST(ak_cow_get_stats(&p, &st), AK_OK);
	CHECK_EQ_U64(st.published, 2);
	CHECK_EQ_U64(st.retired, 2);
	CHECK_EQ_U64(st.readers, 1);

	/* A snapshot held in a read section survives many updates (ASan
	 * would catch a premature free), and nested sections work. */
	held = (const struct cfg *)ak_cow_read_begin(r);
	CHECK_ST(ak_cow_reader_open(&p, &r2), AK_OK);
	for (int i = 0; i < 200; i++)
		CHECK_ST(ak_cow_update(&p, bump, NULL, 0), AK_OK);
	s = (const struct cfg *)ak_cow_read_begin(r); /* nested */
	CHECK_EQ_U64(s->gen, 209);
	ak_cow_read_end(r);
	CHECK_EQ_U64(held->gen, 9);
	CHECK_EQ_U64(held->twice, 18);
	CHECK_ST(ak_cow_reader_close(r), AK_ESTATE); /* still in a section */
	CHECK_ST(ak_cow_get_stats(&p, &st), AK_OK);
	CHECK(st.freed < st.retired); /* `held` at least is still pending */
	ak_cow_read_end(r);

	CHECK_ST(ak_cow_destroy(&p), AK_EBUSY); /* readers open */
	CHECK_ST(ak_cow_reader_close(r), AK_OK);
	CHECK_ST(ak_cow_reader_close(r2), AK_OK);
	CHECK_ST(ak_cow_reader_close(NULL), AK_EINVAL);
	CHECK_ST(ak_cow_synchronize(&p), AK_OK);
	CHECK_ST(ak_cow_get_stats(&p, &st), AK_OK);
	CHECK_EQ_U64(st.published, 202);
	CHECK_EQ_U64(st.retired, 202);
	CHECK_EQ_U64(st.freed, 202);
	CHECK_EQ_U64(st.readers, 0);
	CHECK_ST(ak_cow_destroy(&p), AK_OK);
	CHECK_ST(ak_cow_destroy(&p), AK_EINVAL); /* already destroyed */
	CHECK_ST(ak_cow_destroy(NULL), AK_EINVAL);
	CHECK_ST(ak_cow_synchronize(NULL), AK_EINVAL);
	CHECK_ST(ak_cow_get_stats(NULL, &st), AK_EINVAL);
}

/* fn's own AK_EAGAIN is a refusal like any other status: returned as is
 * after one call, nothing published (it must not be taken for the
 * internal "lost the race, try again"). */
static ak_status eagain_once(void *clone, void *arg)
{
	int *calls = (int *)arg;
	if ((*calls)++ == 0)
		return AK_EAGAIN;
	return bump(clone, NULL);
}

static void test_fn_eagain(void)
{
	ak_cow p;
	ak_cow_stats st;
	struct cfg init = { 1, 2, NULL };
	int calls = 0;

	CHECK_ST(ak_cow_init(&p, &init, sizeof init, NULL), AK_OK);
	CHECK_ST(ak_cow_update(&p, eagain_once, &calls, 0), AK_EAGAIN);
	CHECK_EQ_U64(calls, 1);
	CHECK_ST(ak_cow_get_stats(&p, &st), AK_OK);
	CHECK_EQ_U64(st.published, 0);
	calls = 0;
	CHECK_ST(ak_cow_update(&p, eagain_once, &calls, AK_COW_NO_RETRY), AK_EAGAIN);
	CHECK_EQ_U64(calls, 1);
	CHECK_ST(ak_cow_get_stats(&p, &st), AK_OK);
	CHECK_EQ_U64(st.published, 0);
	CHECK_ST(ak_cow_destroy(&p), AK_OK);
}

/* Scripted conflict: fn itself publishes a competing update first. */
struct race {
	ak_cow *p;
	int calls;
	int interfere; /* competing updates still to make */
};

static ak_status racing_bump(void *clone, void *arg)
{
	struct race *rc = (struct race *)arg;

	rc->calls++;
	if (rc->interfere > 0) {
		rc->interfere--;
		CHECK_ST(ak_cow_update(rc->p, bump, NULL, 0), AK_OK);
	}
	return bump(clone, NULL);
}

static void test_conflict(void)
{
	ak_cow p;
	ak_cow_reader *r;
	ak_cow_stats st;
	struct race rc;
	const struct cfg *s;

	CHECK_ST(ak_cow_init(&p, NULL, sizeof(struct cfg), NULL), AK_OK);
	rc.p = &p;

	/* NO_RETRY: the competing update wins, ours reports the conflict */
	rc.calls = 0;
	rc.interfere = 1;
	CHECK_ST(ak_cow_update(&p, racing_bump, &rc, AK_COW_NO_RETRY), AK_ECONFLICT);
	CHECK_EQ_U64(rc.calls, 1);
	CHECK_ST(ak_cow_get_stats(&p, &st), AK_OK);
	CHECK_EQ_U64(st.published, 1);
	CHECK_EQ_U64(st.conflicts, 1);

	/* retry: fn runs again on the newer snapshot, nothing is lost */
	rc.calls = 0;
	rc.interfere = 2;
	CHECK_ST(ak_cow_update(&p, racing_bump, &rc, 0), AK_OK);
	CHECK_EQ_U64(rc.calls, 3);
	CHECK_ST(ak_cow_reader_open(&p, &r), AK_OK);
	s = (const struct cfg *)ak_cow_read_begin(r);
	CHECK_EQ_U64(s->gen, 4); /* 1 + 2 competing + ours */
	CHECK_EQ_U64(s->twice, 8);
	ak_cow_read_end(r);
	CHECK_ST(ak_cow_reader_close(r), AK_OK);
	CHECK_ST(ak_cow_get_stats(&p, &st), AK_OK);
	CHECK_EQ_U64(st.published, 4);
	CHECK_EQ_U64(st.conflicts, 3);
	CHECK_ST(ak_cow_destroy(&p), AK_OK);
}

/* Deep copies: every snapshot owns a heap string; LSan checks that each
 * one, published, retired or abandoned, is released exactly once. */
static long g_live;

static void deep_copy(void *dst, const void *src, size_t size, void *ctx)
{
	const struct cfg *s = (const struct cfg *)src;
	struct cfg *d = (struct cfg *)dst;

	(void)size;
	(*(long *)ctx)++;
	*d = *s;
	d->name = (char *)malloc(16);
	memcpy(d->name, s->name, 16);
}

static void deep_destroy(void *snap, void *ctx)
{
	(*(long *)ctx)--;
	free(((struct cfg *)snap)->name);
}

static void test_deep(void)
{
	ak_cow p;
	ak_cow_ops ops;
	struct cfg init = { 0, 0, NULL };
	struct race rc;

	ops.copy = deep_copy;
	ops.destroy = deep_destroy;
	ops.ctx = &g_live;
	init.name = (char *)malloc(16);
	memcpy(init.name, "config-name-000", 16);
	g_live = 1; /* the initial snapshot takes over init.name */
	CHECK_ST(ak_cow_init(&p, &init, sizeof init, &ops), AK_OK);
	for (int i = 0; i < 50; i++)
		CHECK_ST(ak_cow_update(&p, bump, NULL, 0), AK_OK);
	CHECK_ST(ak_cow_update(&p, refuse, NULL, 0), AK_ERANGE); /* abandoned clone */
	rc.p = &p;
	rc.calls = 0;
	rc.interfere = 1;
	CHECK_ST(ak_cow_update(&p, racing_bump, &rc, AK_COW_NO_RETRY), AK_ECONFLICT);
	CHECK(g_live >= 1);
	CHECK_ST(ak_cow_destroy(&p), AK_OK);
	CHECK_EQ_I64(g_live, 0);
}

/* A small threaded hammer, so the ASan builds of this test see readers
 * racing reclamation (the TSan side is tests/stress/cow.c). */
struct hammer {
	ak_cow p;
	_Atomic(int) updaters_left, readers_in;
	_Atomic(uint64_t) bad, reads;
};

static void *hammer_update(void *arg)
{
	struct hammer *h = (struct hammer *)arg;

	/* start only once both readers are reading, so the phases overlap */
	while (atomic_load_explicit(&h->readers_in, memory_order_acquire) < 2)
		sched_yield();
	for (int i = 0; i < 20000; i++)
		if (ak_cow_update(&h->p, bump, NULL, 0) != AK_OK)
			atomic_fetch_add_explicit(&h->bad, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&h->updaters_left, 1, memory_order_relaxed);
	return NULL;
}

static void *hammer_read(void *arg)
{
	struct hammer *h = (struct hammer *)arg;
	ak_cow_reader *r;
	uint64_t n = 0;

	if (ak_cow_reader_open(&h->p, &r) != AK_OK) {
		atomic_fetch_add_explicit(&h->bad, 1, memory_order_relaxed);
		return NULL;
	}
	atomic_fetch_add_explicit(&h->readers_in, 1, memory_order_release);
	do {
		const struct cfg *c = (const struct cfg *)ak_cow_read_begin(r);
		if (c->twice != 2 * c->gen)
			atomic_fetch_add_explicit(&h->bad, 1, memory_order_relaxed);
		ak_cow_read_end(r);
		n++;
	} while (atomic_load_explicit(&h->updaters_left, memory_order_relaxed) > 0);
	atomic_fetch_add_explicit(&h->reads, n, memory_order_relaxed);
	if (ak_cow_reader_close(r) != AK_OK)
		atomic_fetch_add_explicit(&h->bad, 1, memory_order_relaxed);
	return NULL;
}

static void test_hammer(void)
{
	static struct hammer h;

	memset(&h, 0, sizeof h);
	pthread_t th[4];
	ak_cow_stats st;

	CHECK_ST(ak_cow_init(&h.p, NULL, sizeof(struct cfg), NULL), AK_OK);
	atomic_store_explicit(&h.updaters_left, 2, memory_order_relaxed);
	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&th[i], NULL, i < 2 ? hammer_update : hammer_read, &h) == 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ_U64(atomic_load_explicit(&h.bad, memory_order_relaxed), 0);
	CHECK(atomic_load_explicit(&h.reads, memory_order_relaxed) > 0);
	CHECK_ST(ak_cow_get_stats(&h.p, &st), AK_OK);
	CHECK_EQ_U64(st.published, 40000);
	CHECK_ST(ak_cow_destroy(&h.p), AK_OK);
}

int main(void)
{
	test_basic();
	test_fn_eagain();
	test_conflict();
	test_deep();
	test_hammer();
	_ak_cow_force_fence(1); /* the fallback read path (no membarrier) */
	test_basic();
	test_hammer();
	_ak_cow_force_fence(0);
	return check_report("cow");
}
