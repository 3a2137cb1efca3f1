// moodycamel::ConcurrentQueue as an MPMC peer, with producer and consumer
// tokens (its fast path).  Pre-sized so that MPMC_CAP elements fit with up
// to 8 producers.  It is pushed with enqueue(), which allocates a block when
// a producer has none free, so this row is NOT bounded like the others:
// with try_enqueue() (no allocation) two producers and two consumers stalled
// for good on this machine (a producer's emptied blocks are not handed to
// the other producer), so the bounded form cannot run this workload.
// Not linearizable across producers, but each producer's items come out
// in order, which is what the driver checks.
#include <concurrentqueue/concurrentqueue.h>

#include "peers/mpmc.h"

namespace {
using queue_t = moodycamel::ConcurrentQueue<uint64_t>;

struct tokens {
	moodycamel::ProducerToken *prod = nullptr;
	moodycamel::ConsumerToken *cons = nullptr;
};

inline bool try_push(queue_t *q, tokens *t, uint64_t v)
{
	return q->enqueue(*t->prod, v);
}
inline bool try_pop(queue_t *q, tokens *t, uint64_t *v)
{
	return q->try_dequeue(*t->cons, *v);
}
MPMC_DRIVER(drv, queue_t *, tokens *, try_push, try_pop)
} // namespace

extern "C" {
void *mpmc_moodycamel_create(void)
{
	// room for MPMC_CAP elements whichever of up to 8 producers holds them
	// (its blocks are per producer, so the pool is larger than MPMC_CAP)
	return new queue_t(MPMC_CAP, 8, 0);
}
void mpmc_moodycamel_destroy(void *q)
{
	delete static_cast<queue_t *>(q);
}
void *mpmc_moodycamel_thread_begin(void *q, int producer)
{
	auto *t = new tokens();
	if (producer)
		t->prod = new moodycamel::ProducerToken(*static_cast<queue_t *>(q));
	else
		t->cons = new moodycamel::ConsumerToken(*static_cast<queue_t *>(q));
	return t;
}
void mpmc_moodycamel_thread_end(void *p)
{
	auto *t = static_cast<tokens *>(p);
	delete t->prod;
	delete t->cons;
	delete t;
}
int mpmc_moodycamel_produce(void *q, void *t, uint64_t tag, uint64_t *seq, uint64_t n)
{
	return drv_produce(static_cast<queue_t *>(q), static_cast<tokens *>(t), tag, seq, n);
}
int64_t mpmc_moodycamel_consume(void *q, void *t, uint64_t n, uint64_t *last, unsigned nprod)
{
	return drv_consume(static_cast<queue_t *>(q), static_cast<tokens *>(t), n, last, nprod);
}
}
