/*
 * Versioned cells: the blocking half (waiting for a change).
 *
 * Both representations share one wait loop over the cell's eventcount;
 * they differ only in how "the version moved" is read.
 */
#include <atomkit/clock.h>
#include <atomkit/vcell.h>

/* While a cancel token is given, sleep at most this long at a time, so a
 * deadline token (which nothing kicks when it expires) is noticed. */
#define CANCEL_SLICE_NS (10 * AK_NS_PER_MS)

typedef bool (*changed_fn)(void *cell, uint64_t seen);

static bool changed64(void *cell, uint64_t seen)
{
	return ak_vcell_changed_since((ak_vcell *)cell, seen);
}

static bool changed32(void *cell, uint64_t seen)
{
	return ak_vcell32_changed_since((ak_vcell32 *)cell, (uint32_t)seen);
}

static bool cancelled(ak_cancel *cancel)
{
	return cancel && ak_cancel_is_set(cancel);
}

/*
 * The eventcount waiter pattern (internal/event.h).  The state change is
 * the storer's seq_cst CAS, followed by its notify; our prepare() is a
 * seq_cst RMW plus fence, so either our re-check after prepare sees the
 * new version or the storer sees us registered and wakes us.
 */
static ak_status wait_change(void *cell, struct _ak_event *ev, changed_fn changed, uint64_t seen,
			     uint64_t deadline_ns, ak_cancel *cancel)
{
	ak_status rc = AK_OK;
	uint32_t ticket;
	uint64_t until;
	ak_cancel_cb cb;
	bool registered = false;

	if (changed(cell, seen))
		return AK_OK;
	if (cancel) {
		/* The callback kicks our event, so a cancel wakes us promptly.
		 * If the token is already cancelled it runs at once, and the
		 * check below reports it. */
		rc = ak_cancel_cb_register(cancel, &cb, _ak_event_kick, ev);
		if (rc != AK_OK)
			return rc;
		registered = true;
	}
	for (;;) {
		if (changed(cell, seen)) {
			rc = AK_OK;
			break;
		}
		if (cancelled(cancel)) {
			rc = AK_ECANCELED;
			break;
		}
		ticket = _ak_event_prepare(ev);
		if (changed(cell, seen) || cancelled(cancel)) {
			_ak_event_abort(ev);
			continue; /* the checks at the top say which */
		}
		until = deadline_ns;
		if (cancel) {
			uint64_t slice = ak_deadline_after(CANCEL_SLICE_NS);
			if (slice < until)
				until = slice;
		}
		if (_ak_event_wait(ev, ticket, until, _AK_FUTEX_PRIVATE) == AK_ETIMEDOUT &&
		    until == deadline_ns) {
			/* A change or cancel that raced the deadline still counts. */
			rc = changed(cell, seen) ? AK_OK : cancelled(cancel) ? AK_ECANCELED : AK_ETIMEDOUT;
			break;
		}
		/* AK_OK (notified or spurious) or AK_EINTR: re-check. */
	}
	if (registered)
		(void)ak_cancel_cb_deregister(cancel, &cb);
	return rc;
}

ak_status ak_vcell_wait_change(ak_vcell *c, uint64_t seen_version, uint64_t deadline_ns,
			       ak_cancel *cancel)
{
	if (!c)
		return AK_EINVAL;
	return wait_change(c, &c->ev, changed64, seen_version, deadline_ns, cancel);
}

ak_status ak_vcell32_wait_change(ak_vcell32 *c, uint32_t seen_version, uint64_t deadline_ns,
				 ak_cancel *cancel)
{
	if (!c)
		return AK_EINVAL;
	return wait_change(c, &c->ev, changed32, seen_version, deadline_ns, cancel);
}
