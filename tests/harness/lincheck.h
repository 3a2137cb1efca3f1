/*
 * tests/harness/lincheck.h - linearizability checking of bounded-FIFO
 * histories (push/pop with FULL/EMPTY results).
 *
 * Recording: each thread owns a log.  lc_begin() stamps the invocation
 * (CLOCK_MONOTONIC ns) before the operation is called, lc_end() stamps the
 * response after it returned, with the result and, for a pop, the value.
 * Values pushed must be unique in a history (e.g. thread << 40 | seq).
 * An attempt that had no effect by contract (a ring's AK_EAGAIN) is
 * removed with lc_drop().
 *
 * Checking:
 *   lc_check_wgl()   exact: Wing & Gong's search (with Lowe's memo of
 *                    visited (linearized set, queue state) pairs) for a
 *                    sequential order of all operations that respects real
 *                    time (a op ends before b starts => a before b) and the
 *                    sequential bounded FIFO.  Exponential in the worst case:
 *                    for short histories (up to LC_WGL_MAX ops).
 *   lc_check_fast()  necessary conditions, O(n log n), for long runs:
 *                    no phantom (popped value never pushed), no duplicate,
 *                    no pop that ended before its push began, no loss (if
 *                    the history ends drained), FIFO against real time
 *                    (push a -> push b in real time, then pop b must not end
 *                    before pop a begins), no EMPTY while an element was
 *                    provably present, no FULL while fewer than `cap` could
 *                    have been present.
 * Both print a failing history (or the offending operations) readably to
 * `out` (NULL = quiet) and return 0 when the history passes, 1 when it is
 * rejected, -1 when the search gave up (budget) or the input is malformed.
 */
#ifndef ATOMKIT_TESTS_LINCHECK_H
#define ATOMKIT_TESTS_LINCHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum lc_kind { LC_PUSH = 0, LC_POP = 1 };
enum lc_result { LC_OK = 0, LC_FULL = 1, LC_EMPTY = 2, LC_PENDING = 3 };

#define LC_WGL_MAX 256

struct lc_op {
	uint64_t invoke;   /* ns */
	uint64_t response; /* ns; >= invoke */
	uint64_t value;    /* pushed value, or popped value when result is LC_OK */
	uint16_t thread;
	uint8_t kind;      /* enum lc_kind */
	uint8_t result;    /* enum lc_result */
};

struct lc_log {
	struct lc_op *ops;
	size_t n, cap;
	unsigned thread;
	char pad[64];      /* logs of different threads on different lines */
};

struct lc_history {
	struct lc_log *logs;
	unsigned nlogs;
};

/* Allocate nlogs logs of room `per_log` ops each; 0 on success. */
int lc_history_init(struct lc_history *h, unsigned nlogs, size_t per_log);
void lc_history_free(struct lc_history *h);
/* Forget every recorded op (keeps the memory). */
void lc_history_clear(struct lc_history *h);
size_t lc_history_size(const struct lc_history *h);

uint64_t lc_now(void);

/* Record the invocation; returns the op to complete, or NULL if the log
 * is full. */
struct lc_op *lc_begin(struct lc_log *log, enum lc_kind kind, uint64_t value);
/* Record the response. */
void lc_end(struct lc_op *op, enum lc_result result, uint64_t value);
/* Remove the last begun op (it had no effect). */
void lc_drop(struct lc_log *log);

/* Append a complete op by hand (unit tests, sequential drains). */
int lc_add(struct lc_log *log, enum lc_kind kind, enum lc_result result, uint64_t value,
	   uint64_t invoke, uint64_t response);

/* Exact check against a bounded FIFO of capacity `cap`, starting empty.
 * `budget` caps the search steps (0 = default). */
int lc_check_wgl(const struct lc_history *h, size_t cap, uint64_t budget, FILE *out);

/* Fast necessary conditions; `drained` = the history ends with the
 * queue empty (every successful push must have been popped). */
int lc_check_fast(const struct lc_history *h, size_t cap, int drained, FILE *out);

/* Print a history, ops sorted by invocation, times relative to the first. */
void lc_print(const struct lc_history *h, FILE *out);

#endif /* ATOMKIT_TESTS_LINCHECK_H */
