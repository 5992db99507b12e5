/* Refcounted byte buffers. */
#include "otflow/buf.h"

#include "otflow/alloc.h"
#include "otflow/bufpool.h"
#include "otflow/err.h"

#include <string.h>

otf_buf_t *otf_buf_create(size_t cap)
{
	if (cap > SIZE_MAX - sizeof(otf_buf_t))
		return NULL;
	otf_buf_t *b = otf_malloc(sizeof *b + cap);
	if (!b)
		return NULL;
	atomic_init(&b->refcnt, 1);
	b->flags = 0;
	b->len = 0;
	b->cap = cap;
	return b;
}

otf_buf_t *otf_buf_create_copy(const void *data, size_t len)
{
	otf_buf_t *b = otf_buf_create(len);
	if (b && len) {
		memcpy(b->data, data, len);
		b->len = len;
	}
	return b;
}

void otf_buf_unref(otf_buf_t *b)
{
	if (!b)
		return;
	if (atomic_fetch_sub_explicit(&b->refcnt, 1, memory_order_acq_rel) != 1)
		return;
	if (b->flags & OTF_BUF_POOLED)
		otf__bufpool_release(b);
	else
		otf_free(b);
}

int otf_buf_reserve(otf_buf_t **bp, size_t cap)
{
	otf_buf_t *b = *bp;
	if (b->cap >= cap)
		return 0;
	size_t ncap = b->cap ? b->cap : 256;
	while (ncap < cap) {
		if (ncap > SIZE_MAX / 2)
			return OTF_E_NOMEM;
		ncap *= 2;
	}
	if (ncap > SIZE_MAX - sizeof(otf_buf_t))
		return OTF_E_NOMEM;
	if (b->flags & OTF_BUF_POOLED) { /* not ours to realloc: move the bytes */
		otf_buf_t *n = otf_buf_create(ncap);
		if (!n)
			return OTF_E_NOMEM;
		memcpy(n->data, b->data, b->len);
		n->len = b->len;
		otf_buf_unref(b);
		*bp = n;
		return 0;
	}
	otf_buf_t *n = otf_realloc(b, sizeof *n + ncap);
	if (!n)
		return OTF_E_NOMEM;
	n->cap = ncap;
	*bp = n;
	return 0;
}
