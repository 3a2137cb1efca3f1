/*
 * tests/fuzz/fuzz.h - helpers for the call-sequence fuzzers.
 *
 * A fuzzer reads its input as a program: each step takes an opcode byte
 * and operand bytes from the input, calls the API, applies the same
 * operation to a plain sequential model, and compares results and status
 * codes.  A mismatch calls FUZZ_FAIL, which aborts so libFuzzer saves the
 * input (replay: build/fuzz/<target> <file>).
 */
#ifndef ATOMKIT_TESTS_FUZZ_H
#define ATOMKIT_TESTS_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline int fuzz_more(const struct fuzz_in *in)
{
	return in->n > 0;
}

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	uint8_t v = 0;
	if (in->n) {
		v = *in->p++;
		in->n--;
	}
	return v;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	return (uint16_t)(fuzz_u8(in) << 8 | fuzz_u8(in));
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v = v << 8 | fuzz_u8(in);
	return v;
}

static inline uint64_t fuzz_u64(struct fuzz_in *in)
{
	return (uint64_t)fuzz_u32(in) << 32 | fuzz_u32(in);
}

/* A 64-bit operand biased towards the edges (0, 1, max, near max). */
static inline uint64_t fuzz_edge64(struct fuzz_in *in)
{
	uint8_t k = fuzz_u8(in);
	switch (k & 7) {
	case 0: return 0;
	case 1: return 1;
	case 2: return UINT64_MAX;
	case 3: return UINT64_MAX - (k >> 3);
	case 4: return k >> 3;
	default: return fuzz_u64(in);
	}
}

#define FUZZ_FAIL(...)                                                         \
	do {                                                                   \
		fprintf(stderr, "fuzz mismatch at %s:%d: ", __FILE__, __LINE__); \
		fprintf(stderr, __VA_ARGS__);                                  \
		fputc('\n', stderr);                                           \
		abort();                                                       \
	} while (0)

#define FUZZ_EQ(a, b)                                                          \
	do {                                                                   \
		unsigned long long fa_ = (unsigned long long)(a), fb_ = (unsigned long long)(b); \
		if (fa_ != fb_)                                                \
			FUZZ_FAIL("%s == %s (%llu != %llu)", #a, #b, fa_, fb_); \
	} while (0)

#endif /* ATOMKIT_TESTS_FUZZ_H */
