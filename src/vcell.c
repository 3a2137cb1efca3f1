/*
 * Versioned cells: the blocking half (waiting for a change).
 *
 * Both representations share one wait loop over the cell's eventcount;
 * they differ only in how "the version moved" is read.
 */
#include <atomkit/vcell.h>

#if __has_include(<atomkit/cancel.h>)
#include <atomkit/cancel.h>
#define AK_VCELL_HAVE_CANCEL 1
#else
#define AK_VCELL_HAVE_CANCEL 0
#endif

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
#if AK_VCELL_HAVE_CANCEL
	return cancel && ak_cancel_is_set(cancel);
#else
	(void)cancel;
	return false;
#endif
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
#if AK_VCELL_HAVE_CANCEL
	ak_cancel_cb cb;
	bool registered = false;
#endif

	if (changed(cell, seen))
		return AK_OK;
#if AK_VCELL_HAVE_CANCEL
	if (cancel) {
		/* The callback kicks our event, so a cancel wakes us promptly.
		 * If the token is already cancelled it runs at once, and the
		 * check below reports it. */
		rc = ak_cancel_cb_register(cancel, &cb, _ak_event_kick, ev);
		if (rc != AK_OK)
			return rc;
		registered = true;
	}
#endif
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
		if (_ak_event_wait(ev, ticket, deadline_ns, _AK_FUTEX_PRIVATE) == AK_ETIMEDOUT) {
			/* A change that raced the deadline still counts. */
			rc = changed(cell, seen) ? AK_OK : AK_ETIMEDOUT;
			break;
		}
		/* AK_OK (notified or spurious) or AK_EINTR: re-check. */
	}
#if AK_VCELL_HAVE_CANCEL
	if (registered)
		(void)ak_cancel_cb_deregister(cancel, &cb);
#endif
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
