/*
 * The process-wide barrier behind the asymmetric store->load handshakes of
 * src/cow.c (grace periods), src/limiter.c (the setter's grace period) and
 * src/ring_wait.c (a ring sleeper's registration): the fast side orders its store
 * and its later load with a compiler barrier only, the slow side runs
 * membarrier(), which puts a full barrier on every running thread of the
 * process.  Private to src/; each family keeps its own mode (whether its
 * fast paths fence themselves) and decides what a failure means for it.
 */
#ifndef ATOMKIT_SRC_MEMBARRIER_H
#define ATOMKIT_SRC_MEMBARRIER_H

/* 1 if this process is registered for MEMBARRIER_CMD_PRIVATE_EXPEDITED
 * (registers on the first call; the kernel's answer is cached). */
int _ak_membarrier_ready(void);

/* A full barrier on every running thread of the process: the private
 * expedited command, registering first if needed, else
 * MEMBARRIER_CMD_GLOBAL.  0 when one of them ran, -1 when neither could
 * (e.g. a seccomp filter installed since the registration): the caller
 * then cannot lean on it. */
int _ak_membarrier(void);

#endif /* ATOMKIT_SRC_MEMBARRIER_H */
