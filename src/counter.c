/* Out-of-line parts of the counter family: thread slots and sharded-counter
 * storage.  The hot paths are in include/atomkit/counter.h. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atomkit/counter.h>

/* Next slot to hand out; slots are 1-based so 0 can mean "unassigned". */
static _Atomic(uint32_t) next_slot = 1;

uint32_t _ak_thread_slot_assign(void)
{
	/* Relaxed: the value only has to be distinct-ish; it guards no data. */
	uint32_t s = atomic_fetch_add_explicit(&next_slot, 1, memory_order_relaxed);
	if (s == 0) /* wrapped after 2^32 threads: skip the "unassigned" value */
		s = atomic_fetch_add_explicit(&next_slot, 1, memory_order_relaxed);
	return s;
}

uint32_t ak_scounter_default_cells(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	uint32_t want = cpus > 0 ? (uint32_t)cpus * 2 : 2, n = 1;

	while (n < want && n < AK_SCOUNTER_MAX_CELLS)
		n <<= 1;
	return n;
}

ak_status ak_scounter_init(ak_scounter *s, ak_scounter_cell *cells, uint32_t ncells)
{
	if (!s || ncells == 0 || ncells > AK_SCOUNTER_MAX_CELLS)
		return AK_EINVAL;
	if (cells && ((uintptr_t)cells % AK_DESTRUCTIVE_SIZE) != 0)
		return AK_EINVAL;
	s->owned = 0;
	if (!cells) {
		cells = aligned_alloc(AK_DESTRUCTIVE_SIZE, (size_t)ncells * sizeof(*cells));
		if (!cells)
			return AK_ENOMEM;
		s->owned = 1;
	}
	for (uint32_t i = 0; i < ncells; i++)
		atomic_store_explicit(&cells[i].value, 0, memory_order_relaxed);
	s->cells = cells;
	s->ncells = ncells;
	return AK_OK;
}

ak_status ak_scounter_destroy(ak_scounter *s)
{
	if (!s || !s->cells)
		return AK_EINVAL;
	if (s->owned)
		free(s->cells);
	s->cells = NULL;
	s->ncells = 0;
	s->owned = 0;
	return AK_OK;
}
