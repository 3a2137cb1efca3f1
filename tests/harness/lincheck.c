/* Linearizability checks for bounded-FIFO histories: see lincheck.h. */
#include "lincheck.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t lc_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int lc_history_init(struct lc_history *h, unsigned nlogs, size_t per_log)
{
	h->nlogs = nlogs;
	h->logs = calloc(nlogs, sizeof(*h->logs));
	if (!h->logs)
		return -1;
	for (unsigned i = 0; i < nlogs; i++) {
		h->logs[i].ops = calloc(per_log ? per_log : 1, sizeof(struct lc_op));
		if (!h->logs[i].ops)
			return -1;
		h->logs[i].cap = per_log;
		h->logs[i].thread = i;
	}
	return 0;
}

void lc_history_free(struct lc_history *h)
{
	for (unsigned i = 0; h->logs && i < h->nlogs; i++)
		free(h->logs[i].ops);
	free(h->logs);
	h->logs = NULL;
	h->nlogs = 0;
}

void lc_history_clear(struct lc_history *h)
{
	for (unsigned i = 0; i < h->nlogs; i++)
		h->logs[i].n = 0;
}

size_t lc_history_size(const struct lc_history *h)
{
	size_t n = 0;
	for (unsigned i = 0; i < h->nlogs; i++)
		n += h->logs[i].n;
	return n;
}

struct lc_op *lc_begin(struct lc_log *log, enum lc_kind kind, uint64_t value)
{
	struct lc_op *op;
	if (log->n >= log->cap)
		return NULL;
	op = &log->ops[log->n++];
	op->thread = (uint16_t)log->thread;
	op->kind = (uint8_t)kind;
	op->result = LC_PENDING;
	op->value = value;
	op->response = UINT64_MAX;
	op->invoke = lc_now();
	return op;
}

void lc_end(struct lc_op *op, enum lc_result result, uint64_t value)
{
	op->response = lc_now();
	op->result = (uint8_t)result;
	if (op->kind == LC_POP)
		op->value = value;
}

void lc_drop(struct lc_log *log)
{
	if (log->n)
		log->n--;
}

int lc_add(struct lc_log *log, enum lc_kind kind, enum lc_result result, uint64_t value,
	   uint64_t invoke, uint64_t response)
{
	struct lc_op *op;
	if (log->n >= log->cap || response < invoke)
		return -1;
	op = &log->ops[log->n++];
	op->thread = (uint16_t)log->thread;
	op->kind = (uint8_t)kind;
	op->result = (uint8_t)result;
	op->value = value;
	op->invoke = invoke;
	op->response = response;
	return 0;
}

/* ---- flattening and printing ---------------------------------------------- */

static int by_invoke(const void *a, const void *b)
{
	const struct lc_op *x = a, *y = b;
	if (x->invoke != y->invoke)
		return x->invoke < y->invoke ? -1 : 1;
	if (x->response != y->response)
		return x->response < y->response ? -1 : 1;
	return (int)x->thread - (int)y->thread;
}

static struct lc_op *flatten(const struct lc_history *h, size_t *n)
{
	size_t total = lc_history_size(h), k = 0;
	struct lc_op *all = malloc((total ? total : 1) * sizeof(*all));
	if (!all)
		return NULL;
	for (unsigned i = 0; i < h->nlogs; i++)
		for (size_t j = 0; j < h->logs[i].n; j++)
			all[k++] = h->logs[i].ops[j];
	qsort(all, total, sizeof(*all), by_invoke);
	*n = total;
	return all;
}

static const char *result_name(int r)
{
	switch (r) {
	case LC_OK: return "ok";
	case LC_FULL: return "FULL";
	case LC_EMPTY: return "EMPTY";
	default: return "pending";
	}
}

static void print_op(FILE *out, const struct lc_op *op, uint64_t t0, const char *prefix)
{
	char val[48];
	snprintf(val, sizeof(val), "%" PRIu64 ".%" PRIu64, op->value >> 40,
		 op->value & ((UINT64_C(1) << 40) - 1));
	fprintf(out, "%s[%9" PRIu64 " .. %9" PRIu64 "] T%-2u %-4s %s%s%s -> %s\n", prefix,
		op->invoke - t0, op->response == UINT64_MAX ? 0 : op->response - t0,
		(unsigned)op->thread, op->kind == LC_PUSH ? "push" : "pop",
		op->kind == LC_PUSH ? "(" : "", op->kind == LC_PUSH ? val : "",
		op->kind == LC_PUSH ? ")" : "",
		op->kind == LC_POP && op->result == LC_OK ? val : result_name(op->result));
}

static void print_all(FILE *out, const struct lc_op *all, size_t n)
{
	uint64_t t0 = n ? all[0].invoke : 0;
	fprintf(out, "history (%zu ops; times in ns from the first invocation; "
		     "values as producer.seq):\n", n);
	for (size_t i = 0; i < n; i++)
		print_op(out, &all[i], t0, "  ");
}

void lc_print(const struct lc_history *h, FILE *out)
{
	size_t n;
	struct lc_op *all = flatten(h, &n);
	if (!all)
		return;
	print_all(out, all, n);
	free(all);
}

/* ---- Wing & Gong search with a memo of visited states --------------------- */

#define WORDS (LC_WGL_MAX / 64)

struct memo {
	uint64_t *hash;    /* 0 = empty slot */
	size_t *off;       /* offset of the key in pool */
	size_t slots, used;
	uint16_t *pool;    /* keys: WORDS*4 u16 of bitset, qlen, queue[] */
	size_t pool_n, pool_cap;
};

struct search {
	const struct lc_op *all;
	size_t n, cap;
	uint64_t done[WORDS];
	uint16_t *queue; /* op indices of the pushes in the queue, front first */
	size_t qhead, qlen;
	uint16_t *path, *best;
	size_t depth, best_depth;
	uint64_t steps, budget;
	int aborted;
	struct memo memo;
	size_t need; /* completed ops that must be linearized */
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	return x ^ (x >> 33);
}

static size_t key_len(const struct search *s)
{
	return WORDS * 4 + 1 + s->qlen;
}

static void make_key(const struct search *s, uint16_t *key)
{
	for (size_t w = 0; w < WORDS; w++)
		for (int j = 0; j < 4; j++)
			key[w * 4 + (size_t)j] = (uint16_t)(s->done[w] >> (16 * j));
	key[WORDS * 4] = (uint16_t)s->qlen;
	for (size_t i = 0; i < s->qlen; i++)
		key[WORDS * 4 + 1 + i] = s->queue[(s->qhead + i) % (s->cap + 1)];
}

/* Returns 1 if the state was seen before, else records it (0), -1 on OOM. */
static int memo_visit(struct search *s)
{
	struct memo *m = &s->memo;
	uint16_t key[WORDS * 4 + 1 + LC_WGL_MAX];
	size_t len = key_len(s);
	uint64_t h = 1469598103934665603u;

	make_key(s, key);
	for (size_t i = 0; i < len; i++)
		h = mix(h ^ key[i]);
	if (!h)
		h = 1;
	if ((m->used + 1) * 2 > m->slots) {
		size_t ns = m->slots ? m->slots * 2 : 4096;
		uint64_t *nh = calloc(ns, sizeof(*nh));
		size_t *no = calloc(ns, sizeof(*no));
		if (!nh || !no) {
			free(nh);
			free(no);
			return -1;
		}
		for (size_t i = 0; i < m->slots; i++) {
			if (!m->hash[i])
				continue;
			size_t j = m->hash[i] & (ns - 1);
			while (nh[j])
				j = (j + 1) & (ns - 1);
			nh[j] = m->hash[i];
			no[j] = m->off[i];
		}
		free(m->hash);
		free(m->off);
		m->hash = nh;
		m->off = no;
		m->slots = ns;
	}
	size_t j = h & (m->slots - 1);
	while (m->hash[j]) {
		if (m->hash[j] == h) {
			const uint16_t *k = m->pool + m->off[j];
			if (k[WORDS * 4] == key[WORDS * 4] && memcmp(k, key, len * sizeof(*key)) == 0)
				return 1;
		}
		j = (j + 1) & (m->slots - 1);
	}
	if (m->pool_n + len > m->pool_cap) {
		size_t nc = (m->pool_cap ? m->pool_cap * 2 : 65536) + len;
		uint16_t *np = realloc(m->pool, nc * sizeof(*np));
		if (!np)
			return -1;
		m->pool = np;
		m->pool_cap = nc;
	}
	memcpy(m->pool + m->pool_n, key, len * sizeof(*key));
	m->hash[j] = h;
	m->off[j] = m->pool_n;
	m->pool_n += len;
	m->used++;
	return 0;
}

static int is_done(const struct search *s, size_t i)
{
	return (s->done[i / 64] >> (i % 64)) & 1;
}

static void set_done(struct search *s, size_t i, int on)
{
	if (on)
		s->done[i / 64] |= UINT64_C(1) << (i % 64);
	else
		s->done[i / 64] &= ~(UINT64_C(1) << (i % 64));
}

/* Apply op i to the sequential FIFO; returns 1 if legal (state changed
 * accordingly), 0 if not.  *undo receives what to undo. */
static int apply(struct search *s, size_t i, int *undo)
{
	const struct lc_op *op = &s->all[i];
	size_t ring = s->cap + 1;
	*undo = 0;
	if (op->kind == LC_PUSH) {
		if (op->result == LC_FULL)
			return s->qlen == s->cap;
		if (s->qlen >= s->cap)
			return 0;
		s->queue[(s->qhead + s->qlen) % ring] = (uint16_t)i;
		s->qlen++;
		*undo = 1;
		return 1;
	}
	if (op->result == LC_EMPTY)
		return s->qlen == 0;
	if (s->qlen == 0 || s->all[s->queue[s->qhead]].value != op->value)
		return 0;
	/* keep the popped entry: later pushes may reuse its cell */
	*undo = 2 + (int)s->queue[s->qhead];
	s->qhead = (s->qhead + 1) % ring;
	s->qlen--;
	return 1;
}

static void unapply(struct search *s, int undo)
{
	size_t ring = s->cap + 1;
	if (undo == 1) {
		s->qlen--;
	} else if (undo >= 2) {
		s->qhead = (s->qhead + ring - 1) % ring;
		s->queue[s->qhead] = (uint16_t)(undo - 2);
		s->qlen++;
	}
}

/* Depth-first search; returns 1 when every op is linearized. */
static int dfs(struct search *s)
{
	if (s->depth == s->need)
		return 1;
	if (++s->steps > s->budget) {
		s->aborted = 1;
		return 0;
	}
	if (s->depth > s->best_depth) {
		s->best_depth = s->depth;
		memcpy(s->best, s->path, s->depth * sizeof(*s->path));
	}
	int seen = memo_visit(s);
	if (seen != 0) {
		if (seen < 0)
			s->aborted = 1;
		return 0;
	}
	/* An op may go next only if no unlinearized op ended before it began. */
	uint64_t minresp = UINT64_MAX;
	for (size_t i = 0; i < s->n; i++)
		if (!is_done(s, i) && s->all[i].response < minresp)
			minresp = s->all[i].response;
	for (size_t i = 0; i < s->n && s->all[i].invoke <= minresp; i++) {
		int undo;
		if (is_done(s, i) || !apply(s, i, &undo))
			continue;
		set_done(s, i, 1);
		s->path[s->depth++] = (uint16_t)i;
		if (dfs(s))
			return 1;
		s->depth--;
		set_done(s, i, 0);
		unapply(s, undo);
		if (s->aborted)
			return 0;
	}
	return 0;
}

int lc_check_wgl(const struct lc_history *h, size_t cap, uint64_t budget, FILE *out)
{
	struct search s;
	int rc;

	memset(&s, 0, sizeof(s));
	s.all = flatten(h, &s.n);
	if (!s.all)
		return -1;
	if (s.n > LC_WGL_MAX || cap == 0 || cap > LC_WGL_MAX) {
		if (out)
			fprintf(out, "lincheck: %zu ops / capacity %zu beyond the exact checker\n",
				s.n, cap);
		free((void *)s.all);
		return -1;
	}
	for (size_t i = 0; i < s.n; i++) {
		if (s.all[i].result == LC_PENDING) {
			if (out)
				fprintf(out, "lincheck: pending op in history\n");
			free((void *)s.all);
			return -1;
		}
	}
	s.cap = cap;
	s.need = s.n;
	s.budget = budget ? budget : 2000000;
	s.queue = calloc(cap + 1, sizeof(*s.queue));
	s.path = calloc(s.n + 1, sizeof(*s.path));
	s.best = calloc(s.n + 1, sizeof(*s.best));
	if (!s.queue || !s.path || !s.best) {
		rc = -1;
		goto out;
	}
	rc = dfs(&s) ? 0 : (s.aborted ? -1 : 1);
	if (rc != 0 && out) {
		fprintf(out, "lincheck: %s (bounded FIFO, capacity %zu)\n",
			rc > 0 ? "NOT LINEARIZABLE" : "search gave up", cap);
		print_all(out, s.all, s.n);
		if (rc > 0) {
			uint64_t t0 = s.all[0].invoke;
			fprintf(out, "longest legal prefix (%zu of %zu ops):\n", s.best_depth, s.n);
			for (size_t i = 0; i < s.best_depth; i++)
				print_op(out, &s.all[s.best[i]], t0, "  ");
		}
	}
out:
	free(s.queue);
	free(s.path);
	free(s.best);
	free(s.memo.hash);
	free(s.memo.off);
	free(s.memo.pool);
	free((void *)s.all);
	return rc;
}

/* ---- fast necessary conditions ------------------------------------------- */

struct item {
	uint64_t value;
	const struct lc_op *push, *pop;
};

static int item_by_value(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	return x->value < y->value ? -1 : x->value > y->value;
}

static uint64_t pop_inv(const struct item *it)
{
	return it->pop ? it->pop->invoke : UINT64_MAX;
}

static uint64_t pop_resp(const struct item *it)
{
	return it->pop ? it->pop->response : UINT64_MAX;
}

static int by_push_resp(const void *a, const void *b)
{
	const struct item *const *x = a, *const *y = b;
	uint64_t p = (*x)->push->response, q = (*y)->push->response;
	return p < q ? -1 : p > q;
}

static int by_push_inv(const void *a, const void *b)
{
	const struct item *const *x = a, *const *y = b;
	uint64_t p = (*x)->push->invoke, q = (*y)->push->invoke;
	return p < q ? -1 : p > q;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t p = *(const uint64_t *)a, q = *(const uint64_t *)b;
	return p < q ? -1 : p > q;
}

/* How many entries of sorted v[0..n) are < x (strict) or <= x. */
static size_t count_below(const uint64_t *v, size_t n, uint64_t x, int inclusive)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (v[mid] < x || (inclusive && v[mid] == x))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int lc_check_fast(const struct lc_history *h, size_t cap, int drained, FILE *out)
{
	size_t n, ni = 0, np = 0, bad = 0;
	struct lc_op *all = flatten(h, &n);
	struct item *items = NULL;
	const struct item **a = NULL, **b = NULL;
	const struct lc_op **pops = NULL, **other = NULL;
	uint64_t *push_inv = NULL, *pop_done = NULL;
	uint64_t t0;
	int rc = 0;

	if (!all)
		return -1;
	t0 = n ? all[0].invoke : 0;
	items = calloc(n + 1, sizeof(*items));
	pops = calloc(n + 1, sizeof(*pops));
	other = calloc(n + 1, sizeof(*other));
	if (!items || !pops || !other) {
		rc = -1;
		goto out;
	}
#define REPORT(...)                                                                    \
	do {                                                                           \
		rc = 1;                                                                \
		if (out && bad++ < 10)                                                 \
			fprintf(out, __VA_ARGS__);                                     \
	} while (0)

	size_t no = 0;
	for (size_t i = 0; i < n; i++) {
		if (all[i].result == LC_PENDING) {
			if (out)
				fprintf(out, "lincheck: pending op in history\n");
			rc = -1;
			goto out;
		}
		if (all[i].kind == LC_PUSH && all[i].result == LC_OK) {
			items[ni].value = all[i].value;
			items[ni++].push = &all[i];
		} else if (all[i].kind == LC_POP && all[i].result == LC_OK) {
			pops[np++] = &all[i];
		} else {
			other[no++] = &all[i]; /* FULL / EMPTY verdicts */
		}
	}
	qsort(items, ni, sizeof(*items), item_by_value);
	for (size_t i = 1; i < ni; i++) {
		if (items[i].value == items[i - 1].value) {
			if (out)
				fprintf(out, "lincheck: value pushed twice (history malformed)\n");
			rc = -1;
			goto out;
		}
	}
	/* match pops to pushes */
	for (size_t i = 0; i < np; i++) {
		struct item key = { pops[i]->value, NULL, NULL };
		struct item *it = bsearch(&key, items, ni, sizeof(*items), item_by_value);
		if (!it) {
			REPORT("lincheck: phantom: popped a value never pushed\n");
			if (out)
				print_op(out, pops[i], t0, "    ");
			continue;
		}
		if (it->pop) {
			REPORT("lincheck: duplicate: value popped twice\n");
			if (out) {
				print_op(out, it->pop, t0, "    ");
				print_op(out, pops[i], t0, "    ");
			}
			continue;
		}
		it->pop = pops[i];
		if (pops[i]->response < it->push->invoke) {
			REPORT("lincheck: pop returned before its push began\n");
			if (out) {
				print_op(out, it->push, t0, "    ");
				print_op(out, pops[i], t0, "    ");
			}
		}
	}
	if (drained) {
		for (size_t i = 0; i < ni; i++) {
			if (!items[i].pop) {
				REPORT("lincheck: lost: pushed, never popped, history ends drained\n");
				if (out)
					print_op(out, items[i].push, t0, "    ");
			}
		}
	}

	/* FIFO against real time: sweep b by push invocation, adding every a
	 * whose push ended before b's push began; the a with the latest pop
	 * invocation must not have been popped after b's pop ended. */
	a = calloc(ni + 1, sizeof(*a));
	b = calloc(ni + 1, sizeof(*b));
	push_inv = calloc(ni + 1, sizeof(*push_inv));
	pop_done = calloc(ni + 1, sizeof(*pop_done));
	if (!a || !b || !push_inv || !pop_done) {
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < ni; i++)
		a[i] = b[i] = &items[i];
	qsort(a, ni, sizeof(*a), by_push_resp);
	qsort(b, ni, sizeof(*b), by_push_inv);
	{
		size_t k = 0;
		const struct item *late = NULL;
		for (size_t i = 0; i < ni; i++) {
			while (k < ni && a[k]->push->response < b[i]->push->invoke) {
				if (!late || pop_inv(a[k]) > pop_inv(late))
					late = a[k];
				k++;
			}
			if (late && b[i]->pop && pop_inv(late) > pop_resp(b[i])) {
				REPORT("lincheck: FIFO: pushed first, popped after a later push's pop "
				       "ended (or never)\n");
				if (out) {
					print_op(out, late->push, t0, "    first  ");
					print_op(out, b[i]->push, t0, "    second ");
					print_op(out, b[i]->pop, t0, "    second ");
					if (late->pop)
						print_op(out, late->pop, t0, "    first  ");
				}
			}
		}
	}

	/* EMPTY while an element was provably present (pushed before the pop
	 * began, not popped before it ended); FULL while fewer than cap could
	 * have been present. */
	{
		size_t nv = 0;
		for (size_t i = 0; i < ni; i++) {
			push_inv[i] = items[i].push->invoke;
			if (items[i].pop)
				pop_done[nv++] = items[i].pop->response;
		}
		qsort(push_inv, ni, sizeof(*push_inv), u64_cmp);
		qsort(pop_done, nv, sizeof(*pop_done), u64_cmp);
		/* EMPTY verdicts sorted by invocation (all[] is), sweep like FIFO */
		size_t k = 0;
		const struct item *late = NULL;
		for (size_t i = 0; i < no; i++) {
			const struct lc_op *e = other[i];
			if (e->kind == LC_POP && e->result == LC_EMPTY) {
				while (k < ni && a[k]->push->response < e->invoke) {
					if (!late || pop_inv(a[k]) > pop_inv(late))
						late = a[k];
					k++;
				}
				if (late && pop_inv(late) > e->response) {
					REPORT("lincheck: EMPTY while an element was present\n");
					if (out) {
						print_op(out, late->push, t0, "    ");
						print_op(out, e, t0, "    ");
						if (late->pop)
							print_op(out, late->pop, t0, "    ");
					}
				}
			} else if (e->kind == LC_PUSH && e->result == LC_FULL) {
				size_t in = count_below(push_inv, ni, e->response, 1);
				size_t gone = count_below(pop_done, nv, e->invoke, 0);
				size_t could = in > gone ? in - gone : 0;
				if (could < cap) {
					REPORT("lincheck: FULL with at most %zu of %zu present\n", could,
					       cap);
					if (out)
						print_op(out, e, t0, "    ");
				}
			}
		}
	}
	if (rc && out && bad > 10)
		fprintf(out, "lincheck: ... %zu violations in all\n", bad);
#undef REPORT
out:
	free(items);
	free(pops);
	free(other);
	free(a);
	free(b);
	free(push_inv);
	free(pop_done);
	free(all);
	return rc;
}
