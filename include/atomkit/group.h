/*
 * atomkit/group.h - thread groups: start workers together, stop them
 * together, return the first failure.
 *
 * Overview
 *   ak_group is the C counterpart of Go's errgroup and github.com/pkg/group.
 *   ak_group_go(g, fn, arg) starts fn(token, arg) on a new thread; every
 *   worker gets the group's cancel token.  ak_group_wait(g, &index) joins
 *   every worker and returns the first non-zero worker result and the index
 *   (start order, from 0) of the worker that returned it.
 *
 *   Policies (when the group cancels its token, with the worker's result as
 *   the cause, or AK_ECANCELED for a zero result):
 *     AK_GROUP_CANCEL_ON_ERROR   the first worker returning non-zero (errgroup)
 *     AK_GROUP_CANCEL_ON_RETURN  the first worker returning at all (pkg/group)
 *     AK_GROUP_CANCEL_NEVER      never; workers run to completion
 *   The token is also cancelled when the parent token is (the group token is
 *   its child), when the group deadline passes (cause AK_ETIMEDOUT), by
 *   ak_group_cancel(), and when ak_group_wait() returns (as errgroup does).
 *
 * Contract
 *   - Every function given to ak_group_go runs exactly once, on its own
 *     thread, even if the group is already cancelled (it sees the token set).
 *   - ak_group_wait joins every thread started, including threads started by
 *     workers while the wait runs; after it returns no thread of the group
 *     exists.  A group never leaks a thread: misuse returns a status
 *     instead of detaching or abandoning one (go after wait AK_ESTATE, wait
 *     twice AK_ESTATE, wait from inside a worker AK_ESTATE, destroy before
 *     wait AK_EBUSY).
 *   - A limit (ak_group_set_limit) bounds the running workers: ak_group_go
 *     blocks until one finishes, ak_group_try_go returns AK_EBUSY instead.
 *   - While waiting, ak_group_wait enforces the group deadline actively: at
 *     the deadline it cancels the token (callbacks run) even if no worker
 *     checks it.
 *
 * Progress
 *   Blocking (thread creation, a mutex and a condition variable); none of it
 *   is on a worker's hot path, which only checks the token.
 *
 * Example
 *     ak_group g;
 *     int who;
 *     ak_group_init(&g, NULL, AK_GROUP_CANCEL_ON_ERROR);
 *     ak_group_go(&g, serve, &cfg);
 *     ak_group_go(&g, report, &cfg);
 *     int err = ak_group_wait(&g, &who);   // first failure, or 0
 *     ak_group_destroy(&g);
 */
#ifndef ATOMKIT_GROUP_H
#define ATOMKIT_GROUP_H

#include <pthread.h>

#include "cancel.h"
#include "internal/compiler.h"
#include "status.h"

AK_BEGIN_DECLS

/* A worker: runs with the group token; returns 0 for success. */
typedef int (*ak_group_fn)(ak_cancel *cancel, void *arg);

enum ak_group_policy {
	AK_GROUP_CANCEL_ON_ERROR = 0,
	AK_GROUP_CANCEL_ON_RETURN = 1,
	AK_GROUP_CANCEL_NEVER = 2
};

struct _ak_group_worker;

/* The group.  Caller storage; fields are private. */
typedef struct ak_group {
	ak_cancel token;                  /* child of the parent, if any */
	pthread_mutex_t mu;
	pthread_cond_t cv;                /* a worker finished */
	struct _ak_group_worker *workers; /* started, not yet joined (under mu) */
	int policy;
	int first_err;                    /* first non-zero result (by its CAS winner) */
	_Atomic(int) first_index;         /* its worker, -1 if none */
	_Atomic(uint32_t) active;         /* started and not finished */
	_Atomic(uint32_t) cv_waiters;     /* threads in (or entering) a wait on cv */
	unsigned limit;                   /* 0: unlimited */
	unsigned started;                 /* indexes handed out (under mu) */
	unsigned failed;                  /* of those, starts that failed (under mu) */
	unsigned pending;                 /* being created outside mu (under mu) */
	uint32_t state;                   /* open / waiting / done (under mu) */
	uint32_t magic;
} ak_group;

/* Returned through *index by ak_group_wait when no worker failed, or when
 * the wait itself failed (then the return value is an ak_status). */
#define AK_GROUP_NO_WORKER (-1)

/*
 * Initialize a group whose token is a child of `parent` (NULL: no parent).
 * AK_EINVAL on NULL g or an unknown policy; AK_ESTATE if parent is not an
 * initialized token; AK_ESYS if the mutex or condition variable cannot be
 * created.  Not thread-safe.
 */
ak_status ak_group_init(ak_group *g, ak_cancel *parent, int policy);

/* Bound the number of running workers (0 = unlimited).  Before the first
 * ak_group_go only: AK_ESTATE afterwards.  AK_EINVAL on NULL. */
ak_status ak_group_set_limit(ak_group *g, unsigned max_running);

/* Give the group a deadline (absolute ns on clk; NULL = CLOCK_MONOTONIC):
 * once it passes the token counts as cancelled with cause AK_ETIMEDOUT.
 * Before the first ak_group_go only (AK_ESTATE afterwards); AK_EINVAL on
 * NULL.  An earlier deadline inherited from the parent still applies. */
ak_status ak_group_set_deadline(ak_group *g, uint64_t deadline_ns, const ak_clock *clk);

/*
 * Start fn(token, arg) on a new thread.  Blocks while the limit is reached.
 * Any thread, including workers of this group (also while ak_group_wait
 * runs).  AK_EINVAL on NULL g or fn, AK_ESTATE after ak_group_wait
 * returned (or on an uninitialized group), AK_ENOMEM, AK_EAGAIN if the
 * system refuses another thread, AK_ESYS for other thread-creation errors.
 * On any error fn does not run and nothing is left behind: the group is
 * as if the call had not been made (set_limit, set_deadline and destroy
 * still allowed if nothing else started; the next worker gets the index,
 * unless another go took a later one meanwhile, leaving a gap).
 */
ak_status ak_group_go(ak_group *g, ak_group_fn fn, void *arg);

/* As ak_group_go, but AK_EBUSY instead of blocking at the limit. */
ak_status ak_group_try_go(ak_group *g, ak_group_fn fn, void *arg);

/* Cancel the group token (as ak_cancel_request).  True if this call did. */
bool ak_group_cancel(ak_group *g, int cause);

/* The group's token, e.g. to pass to blocking calls or to register
 * callbacks on.  NULL on NULL g. */
AK_INLINE ak_cancel *ak_group_token(ak_group *g)
{
	return g ? &g->token : NULL;
}

/*
 * Join every worker, then cancel the token (cause AK_ECANCELED if still
 * unset).  Returns the first non-zero worker result (0 if none) and stores
 * the index of that worker in *index (AK_GROUP_NO_WORKER if none; index may
 * be NULL).  Misuse: returns an ak_status with *index AK_GROUP_NO_WORKER:
 * AK_EINVAL on NULL g, AK_ESTATE if the group was already waited for (or
 * a wait is running), if called from one of the group's own workers
 * (it would wait for itself), or on an uninitialized group.  Blocking.
 */
int ak_group_wait(ak_group *g, int *index);

/*
 * Release the group.  AK_EBUSY (nothing changes) if workers were started
 * and ak_group_wait has not returned, or if callbacks are still registered
 * on the group token; AK_ESTATE on a destroyed group; AK_EINVAL on NULL.
 */
ak_status ak_group_destroy(ak_group *g);

AK_END_DECLS

#endif /* ATOMKIT_GROUP_H */
