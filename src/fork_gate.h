/*
 * The fork gate: the short internal locks that live in caller memory (the
 * limiter's lock bit, the token bucket's tick lock) are taken only inside
 * it, and fork() waits at it (pthread_atfork), so a child never starts with
 * one of them held by a thread it does not have.  Private to src/.
 */
#ifndef ATOMKIT_SRC_FORK_GATE_H
#define ATOMKIT_SRC_FORK_GATE_H

/* Enter before taking such a lock, leave after releasing it.  Any number
 * of threads at once; nests.  Not from a signal handler that may
 * interrupt fork() on the same thread (fork would wait for it). */
void _ak_fork_gate_enter(void);
void _ak_fork_gate_leave(void);

#endif /* ATOMKIT_SRC_FORK_GATE_H */
