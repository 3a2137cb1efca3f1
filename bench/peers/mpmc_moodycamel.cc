// moodycamel::ConcurrentQueue as an MPMC peer, with producer and consumer
// tokens (its fast path).  Pre-sized to MPMC_CAP elements and driven with
// try_enqueue, which never allocates, so it is bounded (block-granular).
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
	return q->try_enqueue(*t->prod, v);
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
	return new queue_t(MPMC_CAP);
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
void mpmc_moodycamel_produce(void *q, void *t, uint64_t tag, uint64_t *seq, uint64_t n)
{
	drv_produce(static_cast<queue_t *>(q), static_cast<tokens *>(t), tag, seq, n);
}
uint64_t mpmc_moodycamel_consume(void *q, void *t, uint64_t n, uint64_t *last, unsigned nprod)
{
	return drv_consume(static_cast<queue_t *>(q), static_cast<tokens *>(t), n, last, nprod);
}
}
