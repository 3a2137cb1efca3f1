/*
 * tests/harness/check.h - assertions for single-threaded unit tests.
 *
 * Every CHECK counts; a failing CHECK prints the expression, file and line
 * and the test carries on, so one run shows every broken expectation.
 * check_report() prints "<name>: N checks, F failed" and returns the exit
 * status (0 only when nothing failed and at least one check ran: a test
 * that checks nothing is itself a failure).
 */
#ifndef ATOMKIT_TESTS_CHECK_H
#define ATOMKIT_TESTS_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static unsigned long check_total_;
static unsigned long check_failed_;

#define CHECK(cond)                                                            \
	do {                                                                   \
		check_total_++;                                                \
		if (!(cond)) {                                                 \
			check_failed_++;                                       \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
		}                                                              \
	} while (0)

#define CHECK_EQ_U64(a, b)                                                     \
	do {                                                                   \
		uint64_t ca_ = (uint64_t)(a), cb_ = (uint64_t)(b);             \
		check_total_++;                                                \
		if (ca_ != cb_) {                                              \
			check_failed_++;                                       \
			fprintf(stderr,                                        \
				"%s:%d: CHECK failed: %s == %s (%" PRIu64      \
				" != %" PRIu64 ")\n",                          \
				__FILE__, __LINE__, #a, #b, ca_, cb_);         \
		}                                                              \
	} while (0)

#define CHECK_EQ_I64(a, b)                                                     \
	do {                                                                   \
		int64_t ca_ = (int64_t)(a), cb_ = (int64_t)(b);                \
		check_total_++;                                                \
		if (ca_ != cb_) {                                              \
			check_failed_++;                                       \
			fprintf(stderr,                                        \
				"%s:%d: CHECK failed: %s == %s (%" PRId64      \
				" != %" PRId64 ")\n",                          \
				__FILE__, __LINE__, #a, #b, ca_, cb_);         \
		}                                                              \
	} while (0)

/* Compare two ak_status values and print both names on mismatch. */
#define CHECK_ST(a, b)                                                         \
	do {                                                                   \
		int ca_ = (int)(a), cb_ = (int)(b);                            \
		check_total_++;                                                \
		if (ca_ != cb_) {                                              \
			check_failed_++;                                       \
			fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%s != %s)\n", \
				__FILE__, __LINE__, #a, #b, ak_status_name(ca_), \
				ak_status_name(cb_));                          \
		}                                                              \
	} while (0)

#define CHECK_STR(a, b)                                                        \
	do {                                                                   \
		const char *ca_ = (a), *cb_ = (b);                             \
		check_total_++;                                                \
		if (strcmp(ca_, cb_) != 0) {                                   \
			check_failed_++;                                       \
			fprintf(stderr, "%s:%d: CHECK failed: %s == %s (\"%s\" != \"%s\")\n", \
				__FILE__, __LINE__, #a, #b, ca_, cb_);         \
		}                                                              \
	} while (0)

static inline int check_report(const char *name)
{
	printf("%s: %lu checks, %lu failed\n", name, check_total_, check_failed_);
	if (check_total_ == 0) {
		fprintf(stderr, "%s: no checks ran\n", name);
		return 1;
	}
	return check_failed_ ? 1 : 0;
}

#endif /* ATOMKIT_TESTS_CHECK_H */
