/*
 * Fuzzer: ak_seqlock and ak_seqlatch call sequences against a byte-array
 * model.  Payload sizes 1..72 bytes (partial last words), whole writes,
 * word-level writes between try_write_begin/write_end, reads, the write
 * counters, and misuse: NULL, size 0, size above AK_SEQLOCK_MAX_SIZE, a
 * size other than init's, max_tries 0, write_end without begin
 * (AK_ESTATE), try_write_begin while held (AK_EBUSY).  Every refused call
 * must leave the payload unchanged.
 */
#include <atomkit/seqlock.h>

#include "fuzz.h"

#define MAXB 72

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	_Atomic(uint64_t) w1[AK_SEQLOCK_WORDS(MAXB)], w2[AK_SEQLATCH_WORDS(MAXB)];
	uint8_t model[MAXB], lmodel[MAXB], buf[MAXB + 8], init[MAXB];
	ak_seqlock sl;
	ak_seqlatch lt;
	size_t n = 1 + fuzz_u8(&in) % MAXB;
	uint32_t writes = 0, lwrites = 0;
	int held = 0;

	for (size_t i = 0; i < n; i++)
		init[i] = model[i] = lmodel[i] = fuzz_u8(&in);
	FUZZ_EQ(ak_seqlock_init(&sl, w1, n, init), AK_OK);
	FUZZ_EQ(ak_seqlatch_init(&lt, w2, n, init), AK_OK);

	while (fuzz_more(&in)) {
		uint8_t op = fuzz_u8(&in);
		switch (op % 12) {
		case 0: /* whole write */
			if (held)
				break; /* a blocking write would wait for ourselves */
			for (size_t i = 0; i < n; i++)
				buf[i] = fuzz_u8(&in);
			FUZZ_EQ(ak_seqlock_write(&sl, buf, n), AK_OK);
			FUZZ_EQ(ak_seqlatch_write(&lt, buf, n), AK_OK);
			memcpy(model, buf, n);
			memcpy(lmodel, buf, n);
			writes++;
			lwrites++;
			break;
		case 1: /* reads */
			if (held) {
				FUZZ_EQ(ak_seqlock_try_read(&sl, buf, n, 1 + fuzz_u8(&in) % 4), AK_EAGAIN);
			} else {
				memset(buf, 0xa5, sizeof buf);
				FUZZ_EQ(ak_seqlock_try_read(&sl, buf, n, 1), AK_OK);
				FUZZ_EQ(memcmp(buf, model, n), 0);
				FUZZ_EQ(buf[n], 0xa5); /* nothing past the payload */
				memset(buf, 0, sizeof buf);
				FUZZ_EQ(ak_seqlock_read(&sl, buf, n), AK_OK);
				FUZZ_EQ(memcmp(buf, model, n), 0);
			}
			/* the latch never waits for the seqlock's writer */
			memset(buf, 0x5a, sizeof buf);
			FUZZ_EQ(ak_seqlatch_try_read(&lt, buf, n, 1), AK_OK);
			FUZZ_EQ(memcmp(buf, lmodel, n), 0);
			FUZZ_EQ(buf[n], 0x5a);
			memset(buf, 0, sizeof buf);
			FUZZ_EQ(ak_seqlatch_read(&lt, buf, n), AK_OK);
			FUZZ_EQ(memcmp(buf, lmodel, n), 0);
			break;
		case 2: /* word-level write: begin */
			if (held) {
				FUZZ_EQ(ak_seqlock_try_write_begin(&sl), AK_EBUSY);
			} else {
				FUZZ_EQ(ak_seqlock_try_write_begin(&sl), AK_OK);
				held = 1;
			}
			break;
		case 3: /* store a word (only while held) */
			if (held) {
				size_t i = fuzz_u8(&in) % AK_SEQLOCK_WORDS(n);
				uint64_t v = fuzz_u64(&in);
				/* the last word may be partial: keep the model's
				 * view to the bytes inside the payload */
				if (8 * i + 8 > n)
					v &= (UINT64_C(1) << (8 * (n - 8 * i))) - 1;
				ak_seqlock_store_word(&sl, i, v);
				for (size_t b = 0; b < 8 && 8 * i + b < n; b++)
					model[8 * i + b] = (uint8_t)(v >> (8 * b));
			}
			break;
		case 4: /* end */
			if (held) {
				FUZZ_EQ(ak_seqlock_write_end(&sl), AK_OK);
				held = 0;
				writes++;
			} else {
				FUZZ_EQ(ak_seqlock_write_end(&sl), AK_ESTATE);
			}
			break;
		case 5:
			FUZZ_EQ(ak_seqlock_writes(&sl), writes);
			FUZZ_EQ(ak_seqlatch_writes(&lt), lwrites);
			break;
		case 6: /* wrong sizes and NULLs: refused, nothing changes */
			FUZZ_EQ(ak_seqlock_write(&sl, buf, n + 1), AK_EINVAL);
			FUZZ_EQ(ak_seqlock_write(NULL, buf, n), AK_EINVAL);
			FUZZ_EQ(ak_seqlock_write(&sl, NULL, n), AK_EINVAL);
			FUZZ_EQ(ak_seqlatch_write(&lt, buf, n - 1 + 2 * (n == 1)), AK_EINVAL);
			FUZZ_EQ(ak_seqlatch_write(NULL, buf, n), AK_EINVAL);
			FUZZ_EQ(ak_seqlock_try_read(&sl, buf, n, 0), AK_EINVAL);
			FUZZ_EQ(ak_seqlock_try_read(&sl, buf, n + 1, 1), AK_EINVAL);
			FUZZ_EQ(ak_seqlock_try_read(&sl, NULL, n, 1), AK_EINVAL);
			FUZZ_EQ(ak_seqlock_read(&sl, buf, n + 1), AK_EINVAL);
			FUZZ_EQ(ak_seqlatch_try_read(&lt, buf, n, 0), AK_EINVAL);
			FUZZ_EQ(ak_seqlatch_read(&lt, NULL, n), AK_EINVAL);
			FUZZ_EQ(ak_seqlock_try_write_begin(NULL), AK_EINVAL);
			FUZZ_EQ(ak_seqlock_write_end(NULL), AK_EINVAL);
			break;
		case 7: { /* init validation on a scratch object */
			ak_seqlock s2;
			ak_seqlatch l2;
			_Atomic(uint64_t) w[2];
			FUZZ_EQ(ak_seqlock_init(NULL, w, 8, NULL), AK_EINVAL);
			FUZZ_EQ(ak_seqlock_init(&s2, NULL, 8, NULL), AK_EINVAL);
			FUZZ_EQ(ak_seqlock_init(&s2, w, 0, NULL), AK_EINVAL);
			FUZZ_EQ(ak_seqlock_init(&s2, w, (size_t)AK_SEQLOCK_MAX_SIZE + 1, NULL), AK_E2BIG);
			FUZZ_EQ(ak_seqlatch_init(&l2, w, 0, NULL), AK_EINVAL);
			FUZZ_EQ(ak_seqlock_init(&s2, w, 1 + fuzz_u8(&in) % 8, NULL), AK_OK);
			break;
		}
		default: /* reads only, no change */
			if (!held) {
				FUZZ_EQ(ak_seqlock_try_read(&sl, buf, n, 1), AK_OK);
				FUZZ_EQ(memcmp(buf, model, n), 0);
			}
			break;
		}
	}
	if (held)
		FUZZ_EQ(ak_seqlock_write_end(&sl), AK_OK);
	return 0;
}
