/* Arena allocator: chunks chained newest-first; reset keeps the oldest
 * (first) chunk so a per-request arena stops allocating after warm-up. */
#include "otflow/arena.h"

#include "otflow/alloc.h"

#include <string.h>

struct otf_arena_chunk {
	otf_arena_chunk_t *next;
	size_t size; /* usable bytes after the header */
	/* data follows, 16-byte aligned */
	_Alignas(16) unsigned char data[];
};

#define DEFAULT_CHUNK (64u * 1024u)

void otf_arena_init(otf_arena_t *a, size_t chunk_size)
{
	a->cur = a->end = NULL;
	a->head = NULL;
	a->spare = NULL;
	a->chunk_size = chunk_size ? chunk_size : DEFAULT_CHUNK;
	a->bytes_allocated = 0;
}

static void free_chain(otf_arena_chunk_t *c)
{
	while (c) {
		otf_arena_chunk_t *n = c->next;
		otf_free(c);
		c = n;
	}
}

void otf_arena_close(otf_arena_t *a)
{
	free_chain(a->head);
	free_chain(a->spare);
	a->head = NULL;
	a->spare = NULL;
	a->cur = a->end = NULL;
	a->bytes_allocated = 0;
}

void otf_arena_reset(otf_arena_t *a)
{
	/* Standard-size chunks go to the spare list (up to the retain limit);
	 * oversize ones are freed. The first spare becomes the current chunk. */
	size_t kept = 0;
	for (otf_arena_chunk_t *c = a->spare; c; c = c->next)
		kept += c->size;
	otf_arena_chunk_t *c = a->head;
	while (c) {
		otf_arena_chunk_t *n = c->next;
		if (c->size == a->chunk_size && kept + c->size <= OTF_ARENA_RETAIN_BYTES) {
			c->next = a->spare;
			a->spare = c;
			kept += c->size;
		} else {
			otf_free(c);
		}
		c = n;
	}
	a->head = NULL;
	a->cur = a->end = NULL;
	a->bytes_allocated = 0;
	if (a->spare) {
		otf_arena_chunk_t *first = a->spare;
		a->spare = first->next;
		first->next = NULL;
		a->head = first;
		a->cur = first->data;
		a->end = first->data + first->size;
	}
}

void *otf__arena_alloc_slow(otf_arena_t *a, size_t size)
{
	size_t need = (size + 7u) & ~(size_t)7u;
	if (need < size)
		return NULL;
	size_t csize = a->chunk_size;
	if (need > csize)
		csize = need;
	if (csize > SIZE_MAX - sizeof(otf_arena_chunk_t))
		return NULL;
	otf_arena_chunk_t *c;
	if (csize == a->chunk_size && a->spare) {
		c = a->spare;
		a->spare = c->next;
	} else {
		c = otf_malloc(sizeof *c + csize);
		if (!c)
			return NULL;
		c->size = csize;
	}
	if (need > a->chunk_size && a->head) {
		/* An oversize block gets its own chunk, linked behind the current
		 * one, so the current chunk's free space is not wasted. */
		c->next = a->head->next;
		a->head->next = c;
		a->bytes_allocated += need;
		return c->data;
	}
	c->next = a->head;
	a->head = c;
	a->cur = c->data + need;
	a->end = c->data + csize;
	a->bytes_allocated += need;
	return c->data;
}

void *otf_arena_calloc(otf_arena_t *a, size_t n, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(n, size, &total))
		return NULL;
	void *p = otf_arena_alloc(a, total);
	if (p && total)
		memset(p, 0, total);
	return p;
}

void *otf_arena_memdup(otf_arena_t *a, const void *src, size_t len)
{
	void *p = otf_arena_alloc(a, len ? len : 1);
	if (p && len)
		memcpy(p, src, len);
	return p;
}
