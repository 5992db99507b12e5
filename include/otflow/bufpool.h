/* A pool of large refcounted buffers (otflow/buf.h), so that a request of
 * hundreds of kB lands in memory whose pages are already mapped instead of
 * faulting ~85 fresh pages in each time (the C library gives large blocks
 * back to the kernel when they are freed: munmap above its mmap threshold,
 * or a trim of the heap's top).
 *
 * Shapes: a buffer from otf_bufpool_get() is an ordinary otf_buf_t (len 0,
 * refcount 1, cap >= what was asked, rounded up to OTF_BUFPOOL_GRAIN). When
 * its last holder calls otf_buf_unref() it goes back to its pool, which
 * keeps it for the next get if the pool's idle bytes stay within max_bytes,
 * and frees it otherwise. otf_buf_reserve() works on pooled buffers too (it
 * moves the bytes to a plain buffer).
 *
 * Ownership: the creator owns the pool; otf_bufpool_destroy() may run while
 * buffers are still out: they are freed when released, and the pool's
 * memory goes with the last of them.
 *
 * Threads: get / release / trim / destroy may be called from any thread
 * (one mutex per pool; a buffer may be released on another worker than the
 * one that took it). Meant to be one pool per worker loop, so the lock is
 * uncontended in practice.
 *
 * Errors: get returns NULL when memory runs out. */
#ifndef OTFLOW_BUFPOOL_H
#define OTFLOW_BUFPOOL_H

#include "otflow/buf.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Capacities are rounded up to a multiple of this, so requests of nearly
 * the same size share buffers. */
#define OTF_BUFPOOL_GRAIN (64u * 1024)

/* Set in otf_buf_t.flags of a buffer that belongs to a pool. */
#define OTF_BUF_POOLED 1u

typedef struct otf_bufpool otf_bufpool_t;

typedef struct otf_bufpool_stats {
	uint64_t hits;     /* gets served from an idle buffer */
	uint64_t misses;   /* gets that allocated */
	size_t idle_bytes; /* capacity held by idle buffers now */
	size_t idle_count;
	size_t out_count; /* buffers taken and not yet released */
} otf_bufpool_stats_t;

/* A pool keeping at most max_bytes of idle buffer capacity. NULL on OOM. */
otf_bufpool_t *otf_bufpool_create(size_t max_bytes);

/* Frees the idle buffers and gives up the creator's hold (NULL: no-op). */
void otf_bufpool_destroy(otf_bufpool_t *p);

/* A buffer of at least cap bytes: an idle one whose capacity is within
 * 25 % of the rounded request, or a new one. p NULL = otf_buf_create(cap). */
otf_buf_t *otf_bufpool_get(otf_bufpool_t *p, size_t cap);

/* Frees every idle buffer (e.g. when a burst is over). */
void otf_bufpool_trim(otf_bufpool_t *p);

void otf_bufpool_stats(otf_bufpool_t *p, otf_bufpool_stats_t *out);

/* Called by otf_buf_unref() for a buffer with OTF_BUF_POOLED. */
void otf__bufpool_release(otf_buf_t *b);

#ifdef __cplusplus
}
#endif

#endif
