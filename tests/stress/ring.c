/*
 * Stress: the in-order ring in every mode, more threads than cores.
 *
 * Phases (the -t thread count is split into producers and consumers):
 *   spsc    1 x 1, 24-byte elements (torn copies would show)
 *   mpsc    (t-1) x 1
 *   spmc    1 x (t-1)
 *   mpmc    t/2 x t/2
 *   block   t/2 x t/2 with push_wait/pop_wait and a close in mid-stream
 *   spscF, blockF  the same on an AK_RING_SHARED ring (fenced fast paths)
 *   echo, echoM, echoF  the lost-wake-up proof (see run_echo), SPSC, MPMC
 *           and fenced
 * Every producer mixes push, bulk, burst and zero-copy reserve/commit;
 * every consumer mixes pop, bulk, burst and peek/release.  Items carry
 * (producer, seq).  Counted invariants:
 *   - every item pushed successfully is consumed exactly once (bitmap),
 *     nothing consumed that was not pushed, nothing lost after close+drain;
 *   - per-producer FIFO: a consumer sees each producer's seqs increasing
 *     (and, with one consumer, with no gap);
 *   - the items moved by each kind of operation add up to the total;
 *   - size() stays within [0, capacity] whenever sampled;
 *   - no lost wake-ups: every blocking call has a (generous) deadline and
 *     none expires; the syscall count printed per phase shows how many
 *     sleeps and wakes were exercised.
 */
#include <atomkit/clock.h>
#include <atomkit/ring.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "stress.h"

#define MAXT 64
#define CAP 100 /* not a power of two: storage has 128 slots */
#define SEQ_BITS 40

struct item {
	uint64_t tag;   /* producer << SEQ_BITS | seq */
	uint64_t check; /* tag * K */
	uint64_t inv;   /* ~tag */
};

struct phase {
	const char *name;
	ak_ring ring;
	void *storage;
	size_t esz; /* 8 or sizeof(struct item) */
	int mp, mc, blocking;
	unsigned np, nc;
	uint64_t per_prod;      /* items each producer tries to push */
	uint64_t close_after;   /* blocking: close once this many were pushed, else 0 */
	_Atomic(uint64_t) pushed_total;
	_Atomic(unsigned) prod_done;
	_Atomic(uint8_t) *seen; /* np * per_prod flags */
	/* results per thread, read after join */
	uint64_t pushed[MAXT], popped[MAXT], by_kind_in[MAXT][6], by_kind_out[MAXT][6];
	uint64_t order_err[MAXT], gap_err[MAXT], dup[MAXT], corrupt[MAXT], bad_size[MAXT];
};

#define K UINT64_C(0x9E3779B97F4A7C15)

/*
 * Every blocking call has a deadline far beyond any legitimate wait (other
 * threads keep pushing and popping, and the last producer closes).  A lost
 * wake-up would leave a sleeper with nobody to wake it: it shows up as
 * AK_ETIMEDOUT, which the checks below report, instead of a hang.  Time
 * only bounds the wait; nothing asserts how long anything took.
 */
#define WAIT_DL ak_deadline_after(10 * AK_NS_PER_SEC)

static void make_item(struct phase *ph, void *dst, uint64_t tag)
{
	if (ph->esz == 8) {
		memcpy(dst, &tag, 8);
	} else {
		struct item it = { tag, tag * K, ~tag };
		memcpy(dst, &it, sizeof it);
	}
}

/* Returns the tag, or UINT64_MAX if the element is corrupt. */
static uint64_t read_item(struct phase *ph, const void *src)
{
	uint64_t tag;
	if (ph->esz == 8) {
		memcpy(&tag, src, 8);
		return tag;
	}
	struct item it;
	memcpy(&it, src, sizeof it);
	return (it.check == it.tag * K && it.inv == ~it.tag) ? it.tag : UINT64_MAX;
}

static void backoff(unsigned *spins)
{
	if (++*spins < 64)
		_ak_cpu_relax();
	else
		sched_yield(); /* 2 cores: let the other side run */
}

static void producer(struct stress_thread *t, struct phase *ph, unsigned id)
{
	unsigned char buf[8 * sizeof(struct item)];
	uint64_t seq = 0, in[6] = { 0 };
	unsigned spins = 0;
	ak_ring *r = &ph->ring;

	while (seq < ph->per_prod) {
		uint64_t want = ph->per_prod - seq, n = 1 + stress_below(t, 8), k = 0;
		/* 0 push, 1 burst, 2 reserve/commit, 3 bulk, 4 push_wait,
		 * 5 push_bulk_wait; blocking phases use only 4 and 5 */
		unsigned kind = ph->blocking ? 4 + (unsigned)stress_below(t, 2)
					     : (unsigned)stress_below(t, 5);
		ak_status st;
		if (n > want)
			n = want;
		for (uint64_t i = 0; i < n; i++)
			make_item(ph, buf + i * ph->esz, (uint64_t)id << SEQ_BITS | (seq + i));
		switch (kind) {
		case 0:
			n = 1;
			st = ph->mp ? ak_ring_push_mpmc(r, buf) : ak_ring_push_spsc(r, buf);
			k = st == AK_OK;
			break;
		case 1:
			st = ph->mp ? ak_ring_push_burst_mpmc(r, buf, n, &k)
				    : ak_ring_push_burst_spsc(r, buf, n, &k);
			break;
		case 2: {
			ak_ring_zc zc;
			st = ph->mp ? ak_ring_reserve_mpmc(r, n, &zc) : ak_ring_reserve_spsc(r, n, &zc);
			if (st == AK_OK) {
				k = zc.n;
				memcpy(zc.seg[0], buf, zc.len[0] * ph->esz);
				memcpy(zc.seg[1] ? zc.seg[1] : zc.seg[0], buf + zc.len[0] * ph->esz,
				       zc.len[1] * ph->esz);
				ak_status c = ph->mp ? ak_ring_commit_mpmc(r, &zc)
						     : ak_ring_commit_spsc(r, &zc);
				STRESS_CHECK(c == AK_OK, "commit: %s", ak_status_name(c));
			}
			break;
		}
		case 3:
			st = ph->mp ? ak_ring_push_bulk_mpmc(r, buf, n) : ak_ring_push_bulk_spsc(r, buf, n);
			k = st == AK_OK ? n : 0;
			break;
		case 4:
			n = 1;
			st = ph->mp ? ak_ring_push_wait_mpmc(r, buf, WAIT_DL, NULL)
				    : ak_ring_push_wait_spsc(r, buf, WAIT_DL, NULL);
			k = st == AK_OK;
			break;
		default:
			st = ph->mp ? ak_ring_push_bulk_wait_mpmc(r, buf, n, WAIT_DL, NULL)
				    : ak_ring_push_bulk_wait_spsc(r, buf, n, WAIT_DL, NULL);
			k = st == AK_OK ? n : 0;
			break;
		}
		if (st == AK_ECLOSED)
			break;
		STRESS_CHECK(st != AK_ETIMEDOUT, "%s: a producer slept 10 s: lost wake-up", ph->name);
		STRESS_CHECK(st == AK_OK || st == AK_EFULL, "%s push: %s", ph->name,
			     ak_status_name(st));
		STRESS_CHECK(k <= n, "%s: pushed %llu of %llu", ph->name, (unsigned long long)k,
			     (unsigned long long)n);
		if (k == 0) {
			backoff(&spins);
			continue;
		}
		spins = 0;
		seq += k;
		in[kind] += k;
		uint64_t tot = atomic_fetch_add_explicit(&ph->pushed_total, k, memory_order_relaxed) + k;
		if (ph->close_after && tot >= ph->close_after && tot - k < ph->close_after)
			(void)ak_ring_close(r);
	}
	ph->pushed[id] = seq;
	memcpy(ph->by_kind_in[id], in, sizeof in);
	/* The last producer closes the ring: consumers then drain and stop.
	 * acq_rel: the closer's close() comes after every producer's pushes. */
	if (atomic_fetch_add_explicit(&ph->prod_done, 1, memory_order_acq_rel) + 1 == ph->np)
		(void)ak_ring_close(r);
}

static void consumer(struct stress_thread *t, struct phase *ph, unsigned cid)
{
	unsigned char buf[8 * sizeof(struct item)];
	uint64_t *last = calloc(ph->np, sizeof(uint64_t)); /* last seq + 1 per producer */
	uint64_t got = 0, out[6] = { 0 }, order = 0, gap = 0, dup = 0, corrupt = 0, badsz = 0;
	unsigned spins = 0;
	ak_ring *r = &ph->ring;
	unsigned slot = ph->np + cid;

	STRESS_CHECK(last != NULL, "oom");
	for (;;) {
		uint64_t n = 1 + stress_below(t, 8), k = 0;
		/* 0 pop, 1 burst, 2 peek/release, 3 bulk, 4 pop_wait,
		 * 5 pop_bulk_wait */
		unsigned kind = ph->blocking ? 4 + (unsigned)stress_below(t, 2)
					     : (unsigned)stress_below(t, 5);
		const unsigned char *src = buf;
		ak_ring_zc zc;
		ak_status st;
		switch (kind) {
		case 0:
			n = 1;
			st = ph->mc ? ak_ring_pop_mpmc(r, buf) : ak_ring_pop_spsc(r, buf);
			k = st == AK_OK;
			break;
		case 1:
			st = ph->mc ? ak_ring_pop_burst_mpmc(r, buf, n, &k)
				    : ak_ring_pop_burst_spsc(r, buf, n, &k);
			break;
		case 2:
			st = ph->mc ? ak_ring_peek_mpmc(r, n, &zc) : ak_ring_peek_spsc(r, n, &zc);
			if (st == AK_OK) {
				k = zc.n;
				memcpy(buf, zc.seg[0], zc.len[0] * ph->esz);
				if (zc.len[1])
					memcpy(buf + zc.len[0] * ph->esz, zc.seg[1], zc.len[1] * ph->esz);
				ak_status c = ph->mc ? ak_ring_release_mpmc(r, &zc)
						     : ak_ring_release_spsc(r, &zc);
				STRESS_CHECK(c == AK_OK, "release: %s", ak_status_name(c));
			}
			break;
		case 3:
			st = ph->mc ? ak_ring_pop_bulk_mpmc(r, buf, n) : ak_ring_pop_bulk_spsc(r, buf, n);
			if (st == AK_ECLOSED) /* fewer than n left: take the rest */
				st = ph->mc ? ak_ring_pop_burst_mpmc(r, buf, n, &k)
					    : ak_ring_pop_burst_spsc(r, buf, n, &k);
			else
				k = st == AK_OK ? n : 0;
			break;
		case 4:
			n = 1;
			st = ph->mc ? ak_ring_pop_wait_mpmc(r, buf, WAIT_DL, NULL)
				    : ak_ring_pop_wait_spsc(r, buf, WAIT_DL, NULL);
			k = st == AK_OK;
			break;
		default:
			st = ph->mc ? ak_ring_pop_bulk_wait_mpmc(r, buf, n, WAIT_DL, NULL)
				    : ak_ring_pop_bulk_wait_spsc(r, buf, n, WAIT_DL, NULL);
			if (st == AK_ECLOSED) /* fewer than n left: take the rest */
				st = ph->mc ? ak_ring_pop_burst_mpmc(r, buf, n, &k)
					    : ak_ring_pop_burst_spsc(r, buf, n, &k);
			else
				k = st == AK_OK ? n : 0;
			break;
		}
		if (st == AK_ECLOSED)
			break;
		STRESS_CHECK(st != AK_ETIMEDOUT, "%s: a consumer slept 10 s: lost wake-up", ph->name);
		STRESS_CHECK(st == AK_OK || st == AK_EEMPTY, "%s pop: %s", ph->name,
			     ak_status_name(st));
		if ((got & 255) == 0 && ak_ring_size(r) > CAP)
			badsz++;
		if (k == 0) {
			backoff(&spins);
			continue;
		}
		spins = 0;
		out[kind] += k;
		for (uint64_t i = 0; i < k; i++, src += ph->esz) {
			uint64_t tag = read_item(ph, src);
			uint64_t p = tag >> SEQ_BITS, s = tag & ((UINT64_C(1) << SEQ_BITS) - 1);
			if (tag == UINT64_MAX || p >= ph->np || s >= ph->per_prod) {
				corrupt++;
				continue;
			}
			if (s + 1 <= last[p])
				order++;
			else if (!ph->mc && s != last[p])
				gap++;
			last[p] = s + 1;
			if (atomic_exchange_explicit(&ph->seen[p * ph->per_prod + s], 1,
						     memory_order_relaxed))
				dup++;
			got++;
		}
	}
	free(last);
	ph->popped[slot] = got;
	memcpy(ph->by_kind_out[slot], out, sizeof out);
	ph->order_err[slot] = order;
	ph->gap_err[slot] = gap;
	ph->dup[slot] = dup;
	ph->corrupt[slot] = corrupt;
	ph->bad_size[slot] = badsz;
}

static void worker(struct stress_thread *t)
{
	struct phase *ph = t->arg;
	if (t->id < ph->np)
		producer(t, ph, t->id);
	else
		consumer(t, ph, t->id - ph->np);
}

static uint64_t run_phase(const struct stress_cfg *cfg, const char *name, size_t esz, int mp,
			  int mc, int blocking, unsigned flags, unsigned np, unsigned nc,
			  uint64_t total)
{
	/* not calloc: the ring inside needs its 128-byte alignment (init
	 * checks it); sizeof is a multiple of the alignment */
	struct phase *ph = aligned_alloc(_Alignof(struct phase), sizeof(*ph));
	STRESS_CHECK(ph != NULL, "oom");
	memset(ph, 0, sizeof(*ph));
	ph->name = name;
	ph->esz = esz;
	ph->mp = mp;
	ph->mc = mc;
	ph->blocking = blocking;
	ph->np = np;
	ph->nc = nc;
	ph->per_prod = total / np ? total / np : 1;
	ph->close_after = blocking ? ph->per_prod * np * 3 / 4 : 0;
	size_t bytes = ak_ring_memsize(CAP, esz);
	ph->storage = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
	ph->seen = calloc(np * ph->per_prod, 1);
	STRESS_CHECK(ph->storage && ph->seen, "oom");
	/* start the indices just below 2^64 so every run crosses the wrap */
	STRESS_CHECK(_ak_ring_init_at(&ph->ring, ph->storage, bytes, CAP, esz, flags,
				      UINT64_MAX - 1000) == AK_OK,
		     "init");
	/* These phases exist to make threads sleep and be woken: no metered
	 * polling past the short spin (run_echo() does the same). */
	STRESS_CHECK(ak_ring_set_wait_spin(&ph->ring, 0) == AK_OK, "set_wait_spin");

	stress_run_n(cfg, np + nc, worker, ph);

	uint64_t pushed = 0, popped = 0, in = 0, out = 0, order = 0, gap = 0, dup = 0,
		 corrupt = 0, badsz = 0, missing = 0, extra = 0;
	for (unsigned i = 0; i < np + nc; i++) {
		pushed += ph->pushed[i];
		popped += ph->popped[i];
		for (int k = 0; k < 6; k++) {
			in += ph->by_kind_in[i][k];
			out += ph->by_kind_out[i][k];
		}
		order += ph->order_err[i];
		gap += ph->gap_err[i];
		dup += ph->dup[i];
		corrupt += ph->corrupt[i];
		badsz += ph->bad_size[i];
	}
	for (unsigned p = 0; p < np; p++)
		for (uint64_t s = 0; s < ph->per_prod; s++) {
			int was = atomic_load_explicit(&ph->seen[p * ph->per_prod + s],
						       memory_order_relaxed);
			if (s < ph->pushed[p] && !was)
				missing++;
			if (s >= ph->pushed[p] && was)
				extra++;
		}
	STRESS_CHECK(corrupt == 0, "%s: %llu corrupt items", name, (unsigned long long)corrupt);
	STRESS_CHECK(dup == 0, "%s: %llu duplicates", name, (unsigned long long)dup);
	STRESS_CHECK(missing == 0, "%s: %llu pushed items never consumed", name,
		     (unsigned long long)missing);
	STRESS_CHECK(extra == 0, "%s: %llu items consumed that were not pushed", name,
		     (unsigned long long)extra);
	STRESS_CHECK(order == 0, "%s: %llu per-producer order violations", name,
		     (unsigned long long)order);
	STRESS_CHECK(gap == 0, "%s: %llu gaps seen by the single consumer", name,
		     (unsigned long long)gap);
	STRESS_CHECK(pushed == popped, "%s: pushed %llu != popped %llu", name,
		     (unsigned long long)pushed, (unsigned long long)popped);
	STRESS_CHECK(in == pushed && out == popped, "%s: per-kind counts %llu/%llu do not add up",
		     name, (unsigned long long)in, (unsigned long long)out);
	STRESS_CHECK(badsz == 0, "%s: size() above capacity %llu times", name,
		     (unsigned long long)badsz);
	STRESS_CHECK(ak_ring_size(&ph->ring) == 0, "%s: ring not empty after drain", name);
	if (!blocking)
		STRESS_CHECK(pushed == ph->per_prod * np, "%s: producers stopped early", name);
	else
		STRESS_CHECK(pushed >= ph->close_after && pushed < ph->per_prod * np,
			     "%s: close in mid-stream did not stop the producers (%llu)", name,
			     (unsigned long long)pushed);
	uint64_t kin[6] = { 0 }, kout[6] = { 0 };
	for (unsigned i = 0; i < np + nc; i++)
		for (int k = 0; k < 6; k++) {
			kin[k] += ph->by_kind_in[i][k];
			kout[k] += ph->by_kind_out[i][k];
		}
	printf("  %-6s %2ux%-2u %8llu items; in push/burst/zc/bulk/wait/bulkwait %llu/%llu/%llu/%llu/%llu/%llu;"
	       " out pop/burst/peek/bulk/wait/bulkwait %llu/%llu/%llu/%llu/%llu/%llu; syscalls %llu\n",
	       name, np, nc, (unsigned long long)pushed, (unsigned long long)kin[0],
	       (unsigned long long)kin[1], (unsigned long long)kin[2], (unsigned long long)kin[3],
	       (unsigned long long)kin[4], (unsigned long long)kin[5], (unsigned long long)kout[0], (unsigned long long)kout[1],
	       (unsigned long long)kout[2], (unsigned long long)kout[3], (unsigned long long)kout[4],
	       (unsigned long long)kout[5],
	       (unsigned long long)ak_ring_syscalls(&ph->ring));
	fflush(stdout);
	free(ph->storage);
	free((void *)ph->seen);
	free(ph);
	return pushed;
}

/*
 * Echo: the wake-up proof.  Two threads, two rings of capacity 1, so that
 * every wake-up is the only thing that can ever unblock its sleeper:
 *   A: push_wait(x, 2i); push_wait(x, 2i+1) (sleeps until B pops 2i);
 *      pop_wait(y) == i
 *   B: pop_wait(x) == 2i; pop_wait(x) == 2i+1 (sleeps until A's push);
 *      push_wait(y, i)
 * A single lost wake-up (data or space) leaves both threads asleep with
 * nothing left to wake them: the deadline then expires and the check fails.
 */
struct echo {
	ak_ring x, y;
	uint64_t xs[1], ys[1];
	int mode; /* 0 spsc, 1 mpmc */
	uint64_t rounds, bad, timeouts;
};

static ak_status e_push(struct echo *e, ak_ring *r, uint64_t v)
{
	return e->mode ? ak_ring_push_wait_mpmc(r, &v, WAIT_DL, NULL)
		       : ak_ring_push_wait_spsc(r, &v, WAIT_DL, NULL);
}

static ak_status e_pop(struct echo *e, ak_ring *r, uint64_t *v)
{
	return e->mode ? ak_ring_pop_wait_mpmc(r, v, WAIT_DL, NULL)
		       : ak_ring_pop_wait_spsc(r, v, WAIT_DL, NULL);
}

static void echo_worker(struct stress_thread *t)
{
	struct echo *e = t->arg;
	uint64_t v, bad = 0, timeouts = 0;
	for (uint64_t i = 0; i < e->rounds && !timeouts; i++) {
		ak_status s1, s2, s3;
		if (t->id == 0) {
			s1 = e_push(e, &e->x, 2 * i);
			s2 = e_push(e, &e->x, 2 * i + 1);
			s3 = e_pop(e, &e->y, &v);
			bad += s3 == AK_OK && v != i;
		} else {
			s1 = e_pop(e, &e->x, &v);
			bad += s1 == AK_OK && v != 2 * i;
			s2 = e_pop(e, &e->x, &v);
			bad += s2 == AK_OK && v != 2 * i + 1;
			s3 = e_push(e, &e->y, i);
		}
		timeouts += (s1 == AK_ETIMEDOUT) + (s2 == AK_ETIMEDOUT) + (s3 == AK_ETIMEDOUT);
		bad += (s1 != AK_OK && s1 != AK_ETIMEDOUT) + (s2 != AK_OK && s2 != AK_ETIMEDOUT) +
		       (s3 != AK_OK && s3 != AK_ETIMEDOUT);
	}
	if (timeouts) /* let the partner out of its wait */
		(void)ak_ring_close(&e->x), (void)ak_ring_close(&e->y);
	__atomic_fetch_add(&e->bad, bad, __ATOMIC_RELAXED);
	__atomic_fetch_add(&e->timeouts, timeouts, __ATOMIC_RELAXED);
}

extern unsigned _ak_ring_wait_spins; /* src/ring.c test hook */

static uint64_t run_echo(const struct stress_cfg *cfg, const char *name, int mode, unsigned flags,
			 uint64_t rounds)
{
	struct echo *e = aligned_alloc(128, (sizeof(*e) + 127) & ~(size_t)127);
	STRESS_CHECK(e != NULL, "oom");
	memset(e, 0, sizeof(*e));
	e->mode = mode;
	e->rounds = rounds;
	STRESS_CHECK(ak_ring_init(&e->x, e->xs, sizeof e->xs, 1, 8, flags) == AK_OK &&
			     ak_ring_init(&e->y, e->ys, sizeof e->ys, 1, 8, flags) == AK_OK,
		     "init");
	STRESS_CHECK(ak_ring_set_wait_spin(&e->x, 0) == AK_OK &&
			     ak_ring_set_wait_spin(&e->y, 0) == AK_OK,
		     "set_wait_spin");
	/* No spin before sleeping: every wait that finds the ring empty
	 * registers and, unless the partner is quicker than its membarrier
	 * and re-check, sleeps; tens of thousands of sleeps a run. */
	unsigned spins = _ak_ring_wait_spins;
	_ak_ring_wait_spins = 0;
	stress_run_n(cfg, 2, echo_worker, e);
	_ak_ring_wait_spins = spins;
	uint64_t sys = ak_ring_syscalls(&e->x) + ak_ring_syscalls(&e->y);
	STRESS_CHECK(e->timeouts == 0, "%s: %llu waits expired: lost wake-up", name,
		     (unsigned long long)e->timeouts);
	STRESS_CHECK(e->bad == 0, "%s: %llu wrong values or statuses", name,
		     (unsigned long long)e->bad);
	STRESS_CHECK(sys > 0, "%s: nobody ever slept: the test proved nothing", name);
	printf("  %-6s  1x1  %8llu rounds, %llu items, syscalls %llu\n", name,
	       (unsigned long long)rounds, (unsigned long long)rounds * 3,
	       (unsigned long long)sys);
	fflush(stdout);
	free(e);
	return rounds * 3;
}

int main(int argc, char **argv)
{
	struct stress_cfg cfg;
	stress_init(&cfg, argc, argv, "ring", 4, 150000);
	/* Waiters poll 64 times before sleeping (the library's default is
	 * 1024, some 40 us here), as when this test was tuned: the phases
	 * here exist to make threads sleep and be woken.  The echo phases
	 * set 0 (run_echo()). */
	_ak_ring_wait_spins = 64;
	unsigned t = cfg.threads < 2 ? 2 : cfg.threads;
	STRESS_CHECK(t <= MAXT, "at most %d threads", MAXT);
	uint64_t total = cfg.ops, all = 0;
	unsigned half = t / 2;

	all += run_phase(&cfg, "spsc", sizeof(struct item), 0, 0, 0, 0, 1, 1, total);
	all += run_phase(&cfg, "mpsc", 8, 1, 0, 0, 0, t - 1, 1, total);
	all += run_phase(&cfg, "spmc", 8, 0, 1, 0, 0, 1, t - 1, total);
	all += run_phase(&cfg, "mpmc", 8, 1, 1, 0, 0, half, t - half, total);
	all += run_phase(&cfg, "block", 8, 1, 1, 1, 0, half, t - half, total);
	/* AK_RING_SHARED: the fenced fast paths and shared futexes (the
	 * membarrier-free protocol), SPSC and MPMC */
	all += run_phase(&cfg, "spscF", 8, 0, 0, 0, AK_RING_SHARED, 1, 1, total / 2);
	all += run_phase(&cfg, "blockF", 8, 1, 1, 1, AK_RING_SHARED, half, t - half, total / 2);
	all += run_echo(&cfg, "echo", 0, 0, total / 20);
	all += run_echo(&cfg, "echoM", 1, 0, total / 20);
	all += run_echo(&cfg, "echoF", 0, AK_RING_SHARED, total / 40);
	stress_pass(&cfg,
		    "%llu items verified over 10 phases (0 lost wake-ups in the echo phases): 0 lost, 0 dup, 0 corrupt, per-producer "
		    "order kept, kind counts add up, close+drain lost nothing",
		    (unsigned long long)all);
	return 0;
}
