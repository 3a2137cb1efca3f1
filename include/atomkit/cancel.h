/*
 * atomkit/cancel.h - TEMPORARY LOCAL STUB on branch fam/progress.
 *
 * The cancel family is written on fam/cancel.  This stub has the agreed
 * signatures (the subset the watchdog uses) so the watchdog builds and is
 * tested before that lands; it is deleted when main brings the real one.
 */
#ifndef ATOMKIT_CANCEL_H
#define ATOMKIT_CANCEL_H

#include <stdbool.h>

#include "clock.h"
#include "internal/compiler.h"
#include "status.h"

AK_BEGIN_DECLS

typedef struct ak_cancel {
	_Atomic(uint32_t) state; /* 0 live, 1 cancelled */
	_Atomic(int) cause;
} ak_cancel;

ak_status ak_cancel_init(ak_cancel *t);
ak_status ak_cancel_destroy(ak_cancel *t);
bool ak_cancel_request(ak_cancel *t, int cause);
bool ak_cancel_is_set(const ak_cancel *t);
int ak_cancel_cause(const ak_cancel *t);
ak_status ak_cancel_wait(ak_cancel *t, uint64_t deadline_ns);

AK_END_DECLS

#endif /* ATOMKIT_CANCEL_H */
