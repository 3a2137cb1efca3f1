/*
 * Fuzzer: cancel trees.  Tokens are created, linked as children, detached,
 * cancelled, checked and destroyed; callback nodes are registered and
 * deregistered; all against a model of the tree (parent links, child
 * counts, cancelled flag and first cause, callback states and how many
 * times each callback ran).  Checks: a cancel reaches exactly the current
 * descendants with the parent's cause; each callback runs exactly once,
 * at once when registered on a cancelled token; destroy is refused
 * (AK_EBUSY) while children or pending callbacks exist; a destroyed token
 * answers AK_ESTATE; NULL and self-parent arguments give AK_EINVAL.
 */
#include <atomkit/cancel.h>

#include "fuzz.h"

#define NT 6
#define NC 5

struct mtok {
	int alive, parent, nchildren, cancelled, cause;
};
struct mcb {
	int owner;   /* last token it was registered with, -1 never */
	int state;   /* 0 idle, 1 listed, 2 ran */
	int ran;     /* model count of runs */
};

static int runs[NC];

static void on_cancel(void *arg)
{
	runs[(int *)arg - runs]++;
}

static struct mtok mt[NT];
static struct mcb mc[NC];

static void model_cancel(int i, int cause)
{
	if (mt[i].cancelled)
		return;
	mt[i].cancelled = 1;
	mt[i].cause = cause;
	for (int c = 0; c < NC; c++)
		if (mc[c].owner == i && mc[c].state == 1) {
			mc[c].state = 2;
			mc[c].ran++;
		}
	for (int j = 0; j < NT; j++)
		if (mt[j].alive && mt[j].parent == i)
			model_cancel(j, cause);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	static ak_cancel tok[NT];
	static ak_cancel_cb cb[NC];

	memset((void *)tok, 0, sizeof tok);
	memset((void *)cb, 0, sizeof cb);
	memset(runs, 0, sizeof runs);
	for (int i = 0; i < NT; i++)
		mt[i] = (struct mtok){ 0, -1, 0, 0, 0 };
	for (int c = 0; c < NC; c++)
		mc[c] = (struct mcb){ -1, 0, 0 };

	while (fuzz_more(&in)) {
		uint8_t op = fuzz_u8(&in);
		int i = fuzz_u8(&in) % NT;
		int j = fuzz_u8(&in) % NT;
		int c = fuzz_u8(&in) % NC;

		switch (op % 10) {
		case 0: /* init */
			if (mt[i].alive)
				break;
			FUZZ_EQ(ak_cancel_init(&tok[i]), AK_OK);
			mt[i] = (struct mtok){ 1, -1, 0, 0, 0 };
			break;
		case 1: /* init_child(i, j) */
			if (mt[i].alive)
				break;
			if (i == j) {
				FUZZ_EQ(ak_cancel_init_child(&tok[i], &tok[i]), AK_EINVAL);
				break;
			}
			if (!mt[j].alive) {
				FUZZ_EQ(ak_cancel_init_child(&tok[i], &tok[j]), AK_ESTATE);
				break;
			}
			FUZZ_EQ(ak_cancel_init_child(&tok[i], &tok[j]), AK_OK);
			mt[i] = (struct mtok){ 1, j, 0, 0, 0 };
			mt[j].nchildren++;
			if (mt[j].cancelled)
				model_cancel(i, mt[j].cause);
			break;
		case 2: { /* request */
			int cause = fuzz_u8(&in) % 4; /* 0 means AK_ECANCELED */
			bool first;
			if (!mt[i].alive)
				break;
			first = !mt[i].cancelled;
			FUZZ_EQ(ak_cancel_request(&tok[i], cause), first);
			model_cancel(i, cause ? cause : AK_ECANCELED);
			break;
		}
		case 3: /* register */
			if (!mt[i].alive) {
				if (mc[c].state != 1)
					FUZZ_EQ(ak_cancel_cb_register(&tok[i], &cb[c], on_cancel, &runs[c]), AK_ESTATE);
				break;
			}
			if (mc[c].state == 1) {
				if (mc[c].owner == i)
					FUZZ_EQ(ak_cancel_cb_register(&tok[i], &cb[c], on_cancel, &runs[c]), AK_EBUSY);
				break; /* listed on another token: misuse, not tried */
			}
			FUZZ_EQ(ak_cancel_cb_register(&tok[i], &cb[c], on_cancel, &runs[c]), AK_OK);
			mc[c].owner = i;
			if (mt[i].cancelled) {
				mc[c].state = 2;
				mc[c].ran++;
			} else {
				mc[c].state = 1;
			}
			break;
		case 4: /* deregister */
			if (!mt[i].alive)
				break;
			if (mc[c].owner != i) {
				FUZZ_EQ(ak_cancel_cb_deregister(&tok[i], &cb[c]),
					mc[c].owner < 0 ? AK_ENOENT : AK_EINVAL);
			} else if (mc[c].state == 0) {
				FUZZ_EQ(ak_cancel_cb_deregister(&tok[i], &cb[c]), AK_ENOENT);
			} else {
				FUZZ_EQ(ak_cancel_cb_deregister(&tok[i], &cb[c]), AK_OK);
				FUZZ_EQ(ak_cancel_cb_ran(&cb[c]), mc[c].state == 2);
				if (mc[c].state == 1)
					mc[c].state = 0;
			}
			break;
		case 5: /* detach */
			if (!mt[i].alive)
				break;
			if (mt[i].parent < 0) {
				FUZZ_EQ(ak_cancel_detach(&tok[i]), AK_ENOENT);
			} else {
				FUZZ_EQ(ak_cancel_detach(&tok[i]), AK_OK);
				mt[mt[i].parent].nchildren--;
				mt[i].parent = -1;
			}
			break;
		case 6: { /* destroy */
			int pending = 0;
			if (!mt[i].alive) {
				if (i == j) /* only sometimes: zeroed tokens too */
					FUZZ_EQ(ak_cancel_destroy(&tok[i]), AK_ESTATE);
				break;
			}
			for (int k = 0; k < NC; k++)
				pending |= mc[k].owner == i && mc[k].state == 1;
			if (mt[i].nchildren || pending) {
				FUZZ_EQ(ak_cancel_destroy(&tok[i]), AK_EBUSY);
				break;
			}
			FUZZ_EQ(ak_cancel_destroy(&tok[i]), AK_OK);
			if (mt[i].parent >= 0)
				mt[mt[i].parent].nchildren--;
			mt[i] = (struct mtok){ 0, -1, 0, 0, 0 };
			/* a destroyed token answers AK_ESTATE */
			FUZZ_EQ(ak_cancel_detach(&tok[i]), AK_ESTATE);
			FUZZ_EQ(ak_cancel_wait(&tok[i], 0), AK_ESTATE);
			break;
		}
		case 7: /* checks */
			if (!mt[i].alive)
				break;
			FUZZ_EQ(ak_cancel_is_set(&tok[i]), mt[i].cancelled);
			FUZZ_EQ(ak_cancel_cause(&tok[i]), mt[i].cancelled ? mt[i].cause : 0);
			/* a deadline already passed: returns at once */
			FUZZ_EQ(ak_cancel_wait(&tok[i], 0), mt[i].cancelled ? AK_OK : AK_ETIMEDOUT);
			break;
		case 8: /* invalid arguments */
			FUZZ_EQ(ak_cancel_init(NULL), AK_EINVAL);
			FUZZ_EQ(ak_cancel_init_child(NULL, &tok[j]), AK_EINVAL);
			FUZZ_EQ(ak_cancel_request(NULL, 1), false);
			FUZZ_EQ(ak_cancel_is_set(NULL), false);
			FUZZ_EQ(ak_cancel_cb_register(NULL, &cb[c], on_cancel, NULL), AK_EINVAL);
			FUZZ_EQ(ak_cancel_cb_register(&tok[i], NULL, on_cancel, NULL), AK_EINVAL);
			if (mc[c].state != 1)
				FUZZ_EQ(ak_cancel_cb_register(&tok[i], &cb[c], NULL, NULL), AK_EINVAL);
			FUZZ_EQ(ak_cancel_cb_deregister(NULL, &cb[c]), AK_EINVAL);
			FUZZ_EQ(ak_cancel_cb_deregister(&tok[i], NULL), AK_EINVAL);
			FUZZ_EQ(ak_cancel_detach(NULL), AK_EINVAL);
			FUZZ_EQ(ak_cancel_destroy(NULL), AK_EINVAL);
			FUZZ_EQ(ak_cancel_wait(NULL, 0), AK_EINVAL);
			break;
		default: /* every callback ran as often as the model says (0 or 1) */
			for (int k = 0; k < NC; k++) {
				FUZZ_EQ(runs[k], mc[k].ran);
			}
			break;
		}
		for (int k = 0; k < NC; k++)
			FUZZ_EQ(runs[k], mc[k].ran);
	}
	return 0;
}
