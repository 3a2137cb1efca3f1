/*
 * atomkit.h - umbrella header: every atomkit family.
 *
 * atomkit is a C11 library of lock-free and atomic primitives: counters,
 * progress meters, change detection, cancel flags, rate limiters and ring
 * buffers.  Each family also has its own header under atomkit/.
 */
#ifndef ATOMKIT_H
#define ATOMKIT_H

#define AK_VERSION_MAJOR 0
#define AK_VERSION_MINOR 1
#define AK_VERSION_PATCH 0
#define AK_VERSION_STRING "0.1.0"

#include "atomkit/status.h"
#include "atomkit/clock.h"
#include "atomkit/counter.h"
#include "atomkit/cancel.h"
#include "atomkit/group.h"
#include "atomkit/progress.h"
#include "atomkit/watchdog.h"
#include "atomkit/vcell.h"
#include "atomkit/seqlock.h"
#include "atomkit/cow.h"
#include "atomkit/tbucket.h"
#include "atomkit/limiter.h"
#include "atomkit/ring.h"
#include "atomkit/ring_var.h"
#include "atomkit/ring_seq.h"
#include "atomkit/ring_slot.h"

#endif /* ATOMKIT_H */
