/*
 * Fuzzer: ak_vcell and ak_vcell32 call sequences against a (value,
 * version) model.  init with values and versions near the wrap points,
 * load/version/changed_since, store, exchange, cas with the current or a
 * stale version (with and without `cur`), wait_change that must return at
 * once (past deadline; cancelled, expired-deadline, live and
 * uninitialised tokens), and misuse: NULL cells and tokens.  Every store
 * moves the version by exactly one (wrapping like the integer type);
 * refused calls change nothing.  Both cells get the same operands (the
 * 32-bit one truncated), each checked against its own model.
 */
#include <atomkit/vcell.h>

#include "fuzz.h"

struct m64 {
	uint64_t value, version;
};
struct m32 {
	uint32_t value, version;
};

static void check(ak_vcell *c, ak_vcell32 *c32, const struct m64 *m, const struct m32 *m32)
{
	ak_vcell_snap s = ak_vcell_load(c);
	ak_vcell_snap32 s32 = ak_vcell32_load(c32);

	FUZZ_EQ(s.value, m->value);
	FUZZ_EQ(s.version, m->version);
	FUZZ_EQ(ak_vcell_version(c), m->version);
	FUZZ_EQ(s32.value, m32->value);
	FUZZ_EQ(s32.version, m32->version);
	FUZZ_EQ(ak_vcell32_version(c32), m32->version);
}

/* The token a wait uses, chosen by the input: 0 none, 1 live, 2 cancelled,
 * 3 deadline already passed (fake clock), 4 uninitialised. */
struct tokens {
	ak_cancel live, cancelled, expired, uninit;
	ak_fake_clock fc;
};

static ak_cancel *pick(struct tokens *t, unsigned k)
{
	switch (k) {
	case 1: return &t->live;
	case 2: return &t->cancelled;
	case 3: return &t->expired;
	case 4: return &t->uninit;
	default: return NULL;
	}
}

/* What a wait that cannot sleep must return. */
static ak_status expect_wait(unsigned k, int changed)
{
	if (changed)
		return AK_OK; /* checked before the token is looked at */
	switch (k) {
	case 2:
	case 3: return AK_ECANCELED;
	case 4: return AK_ESTATE;
	default: return AK_ETIMEDOUT;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	ak_vcell c = AK_VCELL_INIT(0);
	ak_vcell32 c32 = AK_VCELL32_INIT(0);
	struct m64 m = { 0, 0 };
	struct m32 m32 = { 0, 0 };
	struct tokens tk;
	ak_clock clk;

	check(&c, &c32, &m, &m32);
	memset(&tk, 0, sizeof tk);
	ak_fake_clock_set(&tk.fc, 1000);
	clk = ak_fake_clock_as_clock(&tk.fc);
	FUZZ_EQ(ak_cancel_init(&tk.live), AK_OK);
	FUZZ_EQ(ak_cancel_init(&tk.cancelled), AK_OK);
	FUZZ_EQ(ak_cancel_request(&tk.cancelled, 5), 1);
	FUZZ_EQ(ak_cancel_init_deadline(&tk.expired, 999, &clk), AK_OK);

	while (fuzz_more(&in)) {
		uint8_t op = fuzz_u8(&in);
		uint64_t a = fuzz_edge64(&in);

		switch (op % 8) {
		case 0: { /* init, versions near the wrap points */
			uint64_t ver = fuzz_edge64(&in);
			FUZZ_EQ(ak_vcell_init(&c, a, ver), AK_OK);
			FUZZ_EQ(ak_vcell32_init(&c32, (uint32_t)a, (uint32_t)ver), AK_OK);
			m.value = a;
			m.version = ver;
			m32.value = (uint32_t)a;
			m32.version = (uint32_t)ver;
			break;
		}
		case 1: { /* changed_since, against the current or another version */
			uint64_t v = (op & 0x10) ? m.version : fuzz_edge64(&in);
			uint32_t v32 = (op & 0x10) ? m32.version : (uint32_t)v;
			FUZZ_EQ(ak_vcell_changed_since(&c, v), v != m.version);
			FUZZ_EQ(ak_vcell32_changed_since(&c32, v32), v32 != m32.version);
			break;
		}
		case 2: /* store: the new version is the old one + 1 */
			FUZZ_EQ(ak_vcell_store(&c, a), m.version + 1);
			FUZZ_EQ(ak_vcell32_store(&c32, (uint32_t)a), (uint32_t)(m32.version + 1));
			m.value = a;
			m.version++;
			m32.value = (uint32_t)a;
			m32.version++;
			break;
		case 3: { /* exchange: returns the previous pair */
			ak_vcell_snap s = ak_vcell_exchange(&c, a);
			ak_vcell_snap32 s32 = ak_vcell32_exchange(&c32, (uint32_t)a);
			FUZZ_EQ(s.value, m.value);
			FUZZ_EQ(s.version, m.version);
			FUZZ_EQ(s32.value, m32.value);
			FUZZ_EQ(s32.version, m32.version);
			m.value = a;
			m.version++;
			m32.value = (uint32_t)a;
			m32.version++;
			break;
		}
		case 4: { /* cas with the current version (bit 4) or another one */
			uint64_t seen = (op & 0x10) ? m.version : fuzz_edge64(&in);
			uint32_t seen32 = (op & 0x10) ? m32.version : (uint32_t)seen;
			int want_cur = (op & 0x20) != 0;
			ak_vcell_snap cur = { 0xa5, 0xa5 };
			ak_vcell_snap32 cur32 = { 0xa5, 0xa5 };
			ak_status st = ak_vcell_cas(&c, seen, a, want_cur ? &cur : NULL);
			ak_status st32 = ak_vcell32_cas(&c32, seen32, (uint32_t)a, want_cur ? &cur32 : NULL);

			if (seen == m.version) {
				FUZZ_EQ(st, AK_OK);
				m.value = a;
				m.version++;
			} else {
				FUZZ_EQ(st, AK_ECONFLICT);
			}
			if (seen32 == m32.version) {
				FUZZ_EQ(st32, AK_OK);
				m32.value = (uint32_t)a;
				m32.version++;
			} else {
				FUZZ_EQ(st32, AK_ECONFLICT);
			}
			/* cur: the new pair on success, the current one on failure */
			if (want_cur) {
				FUZZ_EQ(cur.value, m.value);
				FUZZ_EQ(cur.version, m.version);
				FUZZ_EQ(cur32.value, m32.value);
				FUZZ_EQ(cur32.version, m32.version);
			} else {
				FUZZ_EQ(cur.value, 0xa5);
				FUZZ_EQ(cur32.value, 0xa5);
			}
			break;
		}
		case 5: { /* wait_change that must return without sleeping */
			unsigned k = (op >> 4) % 5;
			uint64_t seen = (op & 0x80) ? m.version : a;
			uint32_t seen32 = (op & 0x80) ? m32.version : (uint32_t)a;
			/* an absolute deadline in the past: 0, or 1 ns ago */
			uint64_t dl = (a & 1) ? 0 : ak_now_ns() - 1;

			FUZZ_EQ(ak_vcell_wait_change(&c, seen, dl, pick(&tk, k)),
				expect_wait(k, seen != m.version));
			FUZZ_EQ(ak_vcell32_wait_change(&c32, seen32, dl, pick(&tk, k)),
				expect_wait(k, seen32 != m32.version));
			/* a live token that was not cancelled stays so */
			FUZZ_EQ(ak_cancel_is_set(&tk.live), 0);
			break;
		}
		case 6: /* NULL objects: AK_EINVAL, nothing changes */
			FUZZ_EQ(ak_vcell_init(NULL, a, a), AK_EINVAL);
			FUZZ_EQ(ak_vcell32_init(NULL, (uint32_t)a, (uint32_t)a), AK_EINVAL);
			FUZZ_EQ(ak_vcell_cas(NULL, a, a, NULL), AK_EINVAL);
			FUZZ_EQ(ak_vcell32_cas(NULL, (uint32_t)a, (uint32_t)a, NULL), AK_EINVAL);
			FUZZ_EQ(ak_vcell_wait_change(NULL, a, 0, NULL), AK_EINVAL);
			FUZZ_EQ(ak_vcell32_wait_change(NULL, (uint32_t)a, 0, NULL), AK_EINVAL);
			break;
		default: /* a cas that must conflict: the version just before */
			FUZZ_EQ(ak_vcell_cas(&c, m.version - 1, a, NULL), AK_ECONFLICT);
			FUZZ_EQ(ak_vcell32_cas(&c32, m32.version - 1, (uint32_t)a, NULL), AK_ECONFLICT);
			break;
		}
		check(&c, &c32, &m, &m32);
	}
	FUZZ_EQ(ak_cancel_destroy(&tk.live), AK_OK);
	FUZZ_EQ(ak_cancel_destroy(&tk.cancelled), AK_OK);
	FUZZ_EQ(ak_cancel_destroy(&tk.expired), AK_OK);
	return 0;
}
