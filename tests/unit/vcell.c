/* Unit tests: versioned cells (ak_vcell, ak_vcell32), ABA, waiting. */
#include <atomkit/clock.h>
#include <atomkit/vcell.h>
#include <pthread.h>
#include <stdlib.h>

#include "check.h"

static void test_vcell_basic(void)
{
	ak_vcell c = AK_VCELL_INIT(7);
	ak_vcell_snap s, cur;

	s = ak_vcell_load(&c);
	CHECK_EQ_U64(s.value, 7);
	CHECK_EQ_U64(s.version, 0);
	CHECK_ST(ak_vcell_init(&c, 10, 100), AK_OK);
	s = ak_vcell_load(&c);
	CHECK_EQ_U64(s.value, 10);
	CHECK_EQ_U64(s.version, 100);
	CHECK(!ak_vcell_changed_since(&c, 100));

	CHECK_ST(ak_vcell_cas(&c, 100, 11, &cur), AK_OK);
	CHECK_EQ_U64(cur.value, 11);
	CHECK_EQ_U64(cur.version, 101);
	CHECK(ak_vcell_changed_since(&c, 100));
	CHECK_EQ_U64(ak_vcell_version(&c), 101);

	/* stale version: refused, nothing changes, cur shows the winner */
	CHECK_ST(ak_vcell_cas(&c, 100, 99, &cur), AK_ECONFLICT);
	CHECK_EQ_U64(cur.value, 11);
	CHECK_EQ_U64(cur.version, 101);
	CHECK_ST(ak_vcell_cas(&c, 100, 99, NULL), AK_ECONFLICT);
	s = ak_vcell_load(&c);
	CHECK_EQ_U64(s.value, 11);
	CHECK_EQ_U64(s.version, 101);

	CHECK_EQ_U64(ak_vcell_store(&c, 50), 102);
	s = ak_vcell_exchange(&c, 60);
	CHECK_EQ_U64(s.value, 50);
	CHECK_EQ_U64(s.version, 102);
	s = ak_vcell_load(&c);
	CHECK_EQ_U64(s.value, 60);
	CHECK_EQ_U64(s.version, 103);

	/* full 64-bit values */
	CHECK_EQ_U64(ak_vcell_store(&c, UINT64_MAX), 104);
	CHECK_EQ_U64(ak_vcell_load(&c).value, UINT64_MAX);

	CHECK_ST(ak_vcell_init(NULL, 0, 0), AK_EINVAL);
	CHECK_ST(ak_vcell_cas(NULL, 0, 0, NULL), AK_EINVAL);
	CHECK_ST(ak_vcell_wait_change(NULL, 0, 0, NULL), AK_EINVAL);
}

/* A -> B -> A: the value is back, the version is not, the stale CAS fails. */
static void test_aba(void)
{
	ak_vcell c = AK_VCELL_INIT(0);
	ak_vcell32 c32 = AK_VCELL32_INIT(0);
	ak_vcell_snap seen = ak_vcell_load(&c);
	ak_vcell_snap32 seen32 = ak_vcell32_load(&c32);
	ak_vcell_snap cur;
	ak_vcell_snap32 cur32;

	CHECK_EQ_U64(seen.value, 0);
	ak_vcell_store(&c, 0xB);
	ak_vcell_store(&c, 0);
	CHECK_EQ_U64(ak_vcell_load(&c).value, seen.value); /* looks unchanged */
	CHECK(ak_vcell_changed_since(&c, seen.version));
	CHECK_ST(ak_vcell_cas(&c, seen.version, 0xC, &cur), AK_ECONFLICT);
	CHECK_EQ_U64(cur.value, 0);
	CHECK_EQ_U64(cur.version, seen.version + 2);
	CHECK_ST(ak_vcell_cas(&c, cur.version, 0xC, NULL), AK_OK);

	ak_vcell32_store(&c32, 0xB);
	ak_vcell32_store(&c32, 0);
	CHECK_EQ_U64(ak_vcell32_load(&c32).value, seen32.value);
	CHECK(ak_vcell32_changed_since(&c32, seen32.version));
	CHECK_ST(ak_vcell32_cas(&c32, seen32.version, 0xC, &cur32), AK_ECONFLICT);
	CHECK_EQ_U64(cur32.version, seen32.version + 2);
	CHECK_ST(ak_vcell32_cas(&c32, cur32.version, 0xC, &cur32), AK_OK);
	CHECK_EQ_U64(cur32.value, 0xC);
}

static void test_vcell32(void)
{
	ak_vcell32 c;
	ak_vcell_snap32 s;

	CHECK_ST(ak_vcell32_init(NULL, 0, 0), AK_EINVAL);
	CHECK_ST(ak_vcell32_cas(NULL, 0, 0, NULL), AK_EINVAL);
	CHECK_ST(ak_vcell32_wait_change(NULL, 0, 0, NULL), AK_EINVAL);
	/* version wraps modulo 2^32 (the documented ABA window) */
	CHECK_ST(ak_vcell32_init(&c, UINT32_MAX, UINT32_MAX), AK_OK);
	s = ak_vcell32_load(&c);
	CHECK_EQ_U64(s.value, UINT32_MAX);
	CHECK_EQ_U64(s.version, UINT32_MAX);
	CHECK_ST(ak_vcell32_cas(&c, UINT32_MAX, 5, &s), AK_OK);
	CHECK_EQ_U64(s.version, 0);
	CHECK_EQ_U64(s.value, 5);
	CHECK_EQ_U64(ak_vcell32_store(&c, 6), 1);
	s = ak_vcell32_exchange(&c, 7);
	CHECK_EQ_U64(s.value, 6);
	CHECK_EQ_U64(s.version, 1);
	CHECK_EQ_U64(ak_vcell32_version(&c), 2);
	CHECK_ST(ak_vcell32_cas(&c, 1, 8, NULL), AK_ECONFLICT);
	CHECK_EQ_U64(ak_vcell32_load(&c).value, 7);
}

/* Stores with nobody waiting make no wake-up (no system call): the
 * eventcount's sequence, bumped only by a wake, stays put. */
static void test_no_wake_without_waiters(void)
{
	ak_vcell c = AK_VCELL_INIT(0);
	ak_vcell32 c32 = AK_VCELL32_INIT(0);

	for (int i = 0; i < 10; i++) {
		ak_vcell_store(&c, (uint64_t)i);
		ak_vcell32_store(&c32, (uint32_t)i);
	}
	CHECK_ST(ak_vcell_cas(&c, 10, 1, NULL), AK_OK);
	CHECK_EQ_U64(atomic_load_explicit(&c.ev.seq, memory_order_relaxed), 0);
	CHECK_EQ_U64(atomic_load_explicit(&c32.ev.seq, memory_order_relaxed), 0);
	CHECK_EQ_U64(atomic_load_explicit(&c.ev.waiters, memory_order_relaxed), 0);
}

static void test_wait_immediate(void)
{
	ak_vcell c = AK_VCELL_INIT(0);
	ak_vcell32 c32 = AK_VCELL32_INIT(0);

	/* unchanged + deadline already passed: AK_ETIMEDOUT at once */
	CHECK_ST(ak_vcell_wait_change(&c, 0, 0, NULL), AK_ETIMEDOUT);
	CHECK_ST(ak_vcell32_wait_change(&c32, 0, 0, NULL), AK_ETIMEDOUT);
	/* a short real deadline must eventually time out */
	CHECK_ST(ak_vcell_wait_change(&c, 0, ak_deadline_after(2 * AK_NS_PER_MS), NULL),
		 AK_ETIMEDOUT);
	/* already changed: AK_OK even with a past deadline */
	ak_vcell_store(&c, 1);
	ak_vcell32_store(&c32, 1);
	CHECK_ST(ak_vcell_wait_change(&c, 0, 0, NULL), AK_OK);
	CHECK_ST(ak_vcell32_wait_change(&c32, 0, 0, NULL), AK_OK);
	CHECK_EQ_U64(atomic_load_explicit(&c.ev.waiters, memory_order_relaxed), 0);
}

struct waiter {
	ak_vcell *c;
	uint64_t seen;
	_Atomic(int) started;
	ak_status rc;
};

static void *wait_thread(void *p)
{
	struct waiter *w = (struct waiter *)p;

	atomic_store_explicit(&w->started, 1, memory_order_release);
	/* the deadline only bounds a broken build; success is AK_OK */
	w->rc = ak_vcell_wait_change(w->c, w->seen, ak_deadline_after(20 * AK_NS_PER_SEC), NULL);
	return NULL;
}

/* A waiter blocked in the futex is woken by a later store. */
static void test_wait_wakes(void)
{
	ak_vcell c = AK_VCELL_INIT(0);
	struct waiter w;
	pthread_t th;

	w.c = &c;
	w.seen = 0;
	atomic_store_explicit(&w.started, 0, memory_order_relaxed);
	w.rc = AK_EINVAL;
	CHECK(pthread_create(&th, NULL, wait_thread, &w) == 0);
	/* wait until the waiter is registered on the event, so the store
	 * below has to take the wake path */
	while (atomic_load_explicit(&c.ev.waiters, memory_order_acquire) == 0)
		;
	ak_vcell_store(&c, 42);
	pthread_join(th, NULL);
	CHECK_ST(w.rc, AK_OK);
	CHECK(atomic_load_explicit(&c.ev.seq, memory_order_relaxed) >= 1);
	CHECK_EQ_U64(atomic_load_explicit(&c.ev.waiters, memory_order_relaxed), 0);
}

struct cwaiter {
	ak_vcell32 *c;
	ak_cancel *tok;
	ak_status rc;
};

static void *cancel_wait_thread(void *p)
{
	struct cwaiter *w = (struct cwaiter *)p;

	w->rc = ak_vcell32_wait_change(w->c, 0, ak_deadline_after(20 * AK_NS_PER_SEC), w->tok);
	return NULL;
}

static void test_wait_cancel(void)
{
	ak_vcell32 c = AK_VCELL32_INIT(0);
	ak_vcell c64 = AK_VCELL_INIT(0);
	ak_cancel tok, dl;
	struct cwaiter w;
	pthread_t th;

	/* already cancelled: AK_ECANCELED at once; a change still wins */
	CHECK_ST(ak_cancel_init(&tok), AK_OK);
	CHECK(ak_cancel_request(&tok, AK_ECANCELED));
	CHECK_ST(ak_vcell32_wait_change(&c, 0, AK_DEADLINE_NONE, &tok), AK_ECANCELED);
	CHECK_ST(ak_vcell_wait_change(&c64, 0, AK_DEADLINE_NONE, &tok), AK_ECANCELED);
	ak_vcell32_store(&c, 1);
	CHECK_ST(ak_vcell32_wait_change(&c, 0, AK_DEADLINE_NONE, &tok), AK_OK);
	CHECK_ST(ak_cancel_destroy(&tok), AK_OK);

	/* a waiter blocked in the futex is woken by the cancel */
	CHECK_ST(ak_cancel_init(&tok), AK_OK);
	CHECK_ST(ak_vcell32_init(&c, 0, 0), AK_OK);
	w.c = &c;
	w.tok = &tok;
	w.rc = AK_EINVAL;
	CHECK(pthread_create(&th, NULL, cancel_wait_thread, &w) == 0);
	while (atomic_load_explicit(&c.ev.waiters, memory_order_acquire) == 0)
		;
	CHECK(ak_cancel_request(&tok, AK_ECANCELED));
	pthread_join(th, NULL);
	CHECK_ST(w.rc, AK_ECANCELED);
	CHECK_EQ_U64(ak_vcell32_version(&c), 0); /* nothing changed */
	CHECK_ST(ak_cancel_destroy(&tok), AK_OK); /* our callback is gone */

	/* a deadline token ends an otherwise endless wait */
	CHECK_ST(ak_cancel_init_deadline(&dl, ak_deadline_after(5 * AK_NS_PER_MS), NULL), AK_OK);
	CHECK_ST(ak_vcell_wait_change(&c64, 0, AK_DEADLINE_NONE, &dl), AK_ECANCELED);
	CHECK_EQ_I64(ak_cancel_cause(&dl), AK_ETIMEDOUT);
	CHECK_ST(ak_cancel_destroy(&dl), AK_OK);

	/* the wait's own deadline still applies with a live token */
	CHECK_ST(ak_cancel_init(&tok), AK_OK);
	CHECK_ST(ak_vcell_wait_change(&c64, 0, ak_deadline_after(AK_NS_PER_MS), &tok), AK_ETIMEDOUT);
	CHECK_ST(ak_cancel_destroy(&tok), AK_OK);
}

int main(void)
{
	test_vcell_basic();
	test_aba();
	test_vcell32();
	test_no_wake_without_waiters();
	test_wait_immediate();
	test_wait_wakes();
	test_wait_cancel();
	return check_report("vcell");
}
