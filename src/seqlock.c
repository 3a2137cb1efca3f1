/* Seqlocks: the one out-of-line piece, giving the CPU to a preempted writer. */
#include <atomkit/seqlock.h>
#include <sched.h>

void _ak_seq_yield(void)
{
	sched_yield();
}
