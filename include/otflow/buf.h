/* Refcounted byte buffers: the payload of a message (raw OTLP request bytes)
 * shared by every consumer of a fan-out without copying.
 *
 * A buffer is created with refcount 1 by its producer. Each additional
 * holder takes otf_buf_ref(); each holder drops its hold with
 * otf_buf_unref(); the last unref frees it. The bytes must not be modified
 * once a second holder exists.
 *
 * Thread rules: ref/unref are atomic, so holders may live on different
 * threads; writing into data is the creator's job before sharing.
 */
#ifndef OTFLOW_BUF_H
#define OTFLOW_BUF_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct otf_buf {
	_Atomic uint32_t refcnt;
	uint32_t flags; /* 0, or OTF_BUF_POOLED (otflow/bufpool.h): set by the allocator */
	size_t len;     /* bytes used */
	size_t cap;     /* bytes available in data */
	_Alignas(16) uint8_t data[];
} otf_buf_t;

/* New buffer with cap bytes of capacity, len 0, refcount 1; NULL on OOM. */
otf_buf_t *otf_buf_create(size_t cap);

/* New buffer holding a copy of len bytes; NULL on OOM. */
otf_buf_t *otf_buf_create_copy(const void *data, size_t len);

/* Adds a holder; returns b for convenience. */
static inline otf_buf_t *otf_buf_ref(otf_buf_t *b)
{
	atomic_fetch_add_explicit(&b->refcnt, 1, memory_order_relaxed);
	return b;
}

/* Drops a holder; frees the buffer when it was the last. NULL is a no-op. */
void otf_buf_unref(otf_buf_t *b);

/* Grows capacity to at least cap (only while the caller is the sole holder).
 * On success *bp may point to a new buffer; on failure *bp is unchanged and
 * -ENOMEM (as OTF_E_NOMEM) is returned. */
int otf_buf_reserve(otf_buf_t **bp, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
