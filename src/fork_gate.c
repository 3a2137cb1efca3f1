/*
 * The fork gate (see fork_gate.h): a reader-preferring rwlock that the lock
 * holders read-lock and fork()'s prepare handler write-locks.
 */
#include <pthread.h>

#include "fork_gate.h"

/* glibc's default kind prefers readers, so a holder that nests (a tick
 * lock taken while another is held) never waits behind a fork. */
static pthread_rwlock_t g_gate = PTHREAD_RWLOCK_INITIALIZER;

static void gate_prepare(void)
{
	(void)pthread_rwlock_wrlock(&g_gate);
}

static void gate_parent(void)
{
	(void)pthread_rwlock_unlock(&g_gate);
}

static void gate_child(void)
{
	/* The child's one thread has a new thread id, which the lock does
	 * not know as its writer: start it afresh (nothing else holds it). */
	(void)pthread_rwlock_init(&g_gate, NULL);
}

__attribute__((constructor)) static void gate_ctor(void)
{
	(void)pthread_atfork(gate_prepare, gate_parent, gate_child);
}

void _ak_fork_gate_enter(void)
{
	(void)pthread_rwlock_rdlock(&g_gate);
}

void _ak_fork_gate_leave(void)
{
	(void)pthread_rwlock_unlock(&g_gate);
}
