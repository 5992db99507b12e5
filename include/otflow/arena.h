/* Arena (bump) allocator: one per request or batch.
 *
 * Allocations are 8-byte aligned and live until otf_arena_reset() or
 * otf_arena_close(); there is no per-allocation free. Chunks come from the
 * counted allocator (otflow/alloc.h); a chunk is at least chunk_size bytes,
 * larger when one allocation needs more.
 *
 * otf_arena_init() allocates nothing, so it cannot fail and a closed or
 * never-used arena holds no memory. otf_arena_reset() keeps chunks of the
 * configured size for reuse, up to OTF_ARENA_RETAIN_BYTES (the common case:
 * one arena reused per request on a worker stops allocating after warm-up);
 * oversize chunks are freed.
 *
 * Thread rules: an arena belongs to one thread at a time; no locking.
 */
#ifndef OTFLOW_ARENA_H
#define OTFLOW_ARENA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct otf_arena_chunk otf_arena_chunk_t;

typedef struct otf_arena {
	unsigned char *cur;       /* next free byte in the current chunk */
	unsigned char *end;       /* end of the current chunk */
	otf_arena_chunk_t *head;  /* newest chunk; list goes to older ones */
	otf_arena_chunk_t *spare; /* chunks kept by reset, reused before malloc */
	size_t chunk_size;        /* bytes per new chunk (default 64 KiB) */
	size_t bytes_allocated;   /* bytes handed out since init/reset */
} otf_arena_t;

/* Bytes of chunks a reset keeps for reuse. */
#define OTF_ARENA_RETAIN_BYTES ((size_t)4 << 20)

/* chunk_size 0 selects the default of 64 KiB. */
void otf_arena_init(otf_arena_t *a, size_t chunk_size);
void otf_arena_close(otf_arena_t *a);
void otf_arena_reset(otf_arena_t *a);

/* Slow path of otf_arena_alloc; use otf_arena_alloc. */
void *otf__arena_alloc_slow(otf_arena_t *a, size_t size);

/* size bytes, 8-byte aligned, uninitialised; NULL when out of memory. */
static inline void *otf_arena_alloc(otf_arena_t *a, size_t size)
{
	size_t need = (size + 7u) & ~(size_t)7u;
	if (need >= size && (size_t)(a->end - a->cur) >= need) {
		void *p = a->cur;
		a->cur += need;
		a->bytes_allocated += need;
		return p;
	}
	return otf__arena_alloc_slow(a, size);
}

/* Zeroed array of n elements of size bytes; NULL on overflow or OOM. */
void *otf_arena_calloc(otf_arena_t *a, size_t n, size_t size);

/* Copy of len bytes; NULL on OOM. len 0 returns a valid non-NULL pointer. */
void *otf_arena_memdup(otf_arena_t *a, const void *src, size_t len);

#ifdef __cplusplus
}
#endif
#endif
