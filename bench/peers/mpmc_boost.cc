// boost::lockfree::queue as an MPMC peer: fixed capacity (no allocation
// after construction), linearizable, so per-producer FIFO holds.
#include <boost/lockfree/queue.hpp>

#include "peers/mpmc.h"

namespace {
using queue_t = boost::lockfree::queue<uint64_t, boost::lockfree::capacity<MPMC_CAP>>;

inline bool try_push(queue_t *q, void *, uint64_t v)
{
	return q->push(v);
}
inline bool try_pop(queue_t *q, void *, uint64_t *v)
{
	return q->pop(*v);
}
MPMC_DRIVER(drv, queue_t *, void *, try_push, try_pop)
} // namespace

extern "C" {
void *mpmc_boost_create(void)
{
	return new queue_t();
}
void mpmc_boost_destroy(void *q)
{
	delete static_cast<queue_t *>(q);
}
void *mpmc_boost_thread_begin(void *, int)
{
	return nullptr;
}
void mpmc_boost_thread_end(void *)
{
}
int mpmc_boost_produce(void *q, void *t, uint64_t tag, uint64_t *seq, uint64_t n)
{
	return drv_produce(static_cast<queue_t *>(q), t, tag, seq, n);
}
int64_t mpmc_boost_consume(void *q, void *t, uint64_t n, uint64_t *last, unsigned nprod)
{
	return drv_consume(static_cast<queue_t *>(q), t, n, last, nprod);
}
}
