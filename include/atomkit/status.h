/*
 * atomkit/status.h - status codes shared by every atomkit family.
 *
 * Overview: every atomkit function that can fail returns an `ak_status`
 * (an int-sized enum).  AK_OK is zero; every failure is a distinct named
 * value with a fixed meaning, so `if (st != AK_OK)` and `switch (st)` both
 * work.  Bad input never crashes or aborts: it gets AK_EINVAL (or a more
 * specific code) and leaves the object unchanged.
 *
 * Contract: ak_strerror() never returns NULL, is thread-safe and
 * async-signal-safe (it indexes a constant table).
 */
#ifndef ATOMKIT_STATUS_H
#define ATOMKIT_STATUS_H

#include "internal/compiler.h"

AK_BEGIN_DECLS

/*
 * The list is the single source of truth for the enum and ak_strerror().
 * Values are stable: new codes are only ever appended.
 */
#define AK_STATUS_LIST(X)                                                      \
	X(AK_OK, "success")                                                    \
	X(AK_EINVAL, "invalid argument")                                       \
	X(AK_EOVERFLOW, "arithmetic overflow")                                 \
	X(AK_ERANGE, "result would exceed the limit")                          \
	X(AK_EFULL, "full")                                                    \
	X(AK_EEMPTY, "empty")                                                  \
	X(AK_ETIMEDOUT, "deadline passed")                                     \
	X(AK_ECANCELED, "canceled")                                            \
	X(AK_ECLOSED, "closed")                                                \
	X(AK_EINTR, "interrupted by a signal")                                 \
	X(AK_EAGAIN, "try again")                                              \
	X(AK_EBUSY, "busy")                                                    \
	X(AK_E2BIG, "request larger than capacity")                            \
	X(AK_ESTALLED, "stalled: no progress within the interval")             \
	X(AK_ENOMEM, "out of memory")                                          \
	X(AK_ESTATE, "operation not valid in the object's current state")      \
	X(AK_ENOENT, "no such entry")                                          \
	X(AK_EEXIST, "entry already exists")                                   \
	X(AK_ESATURATED, "saturated")                                          \
	X(AK_ECONFLICT, "concurrent update conflict")                          \
	X(AK_ESYS, "system call failed")

typedef enum ak_status {
#define _AK_STATUS_ENUM(name, text) name,
	AK_STATUS_LIST(_AK_STATUS_ENUM)
#undef _AK_STATUS_ENUM
	AK_STATUS_COUNT_ /* not a status: one past the last */
} ak_status;

/* Text for a status; "unknown status" for values outside the enum. */
const char *ak_strerror(int status);

/* The enumerator's name ("AK_EINVAL"), or "AK_?" for unknown values. */
const char *ak_status_name(int status);

AK_END_DECLS

#endif /* ATOMKIT_STATUS_H */
