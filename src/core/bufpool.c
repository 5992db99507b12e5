/* Pool of large buffers (otflow/bufpool.h says why). Each pooled buffer
 * has a small header in front of its otf_buf_t that names its pool, so a
 * release needs nothing but the buffer. The pool lives until it was
 * destroyed and its last buffer came back. */
#include "otflow/bufpool.h"

#include "otflow/alloc.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

typedef struct pooled {
	otf_bufpool_t *pool;
	struct pooled *next; /* idle list */
	                     /* 16 bytes: otf_buf_t (16-aligned data) stays aligned behind it */
} pooled_t;

_Static_assert(sizeof(pooled_t) % 16 == 0, "pooled_t keeps otf_buf_t aligned");

struct otf_bufpool {
	pthread_mutex_t lock;
	size_t max_bytes;
	pooled_t *idle;
	size_t idle_bytes, idle_count, out_count;
	uint64_t hits, misses;
	bool destroyed;
};

static otf_buf_t *buf_of(pooled_t *h)
{
	return (otf_buf_t *)(h + 1);
}

static pooled_t *hdr_of(otf_buf_t *b)
{
	return (pooled_t *)b - 1;
}

otf_bufpool_t *otf_bufpool_create(size_t max_bytes)
{
	otf_bufpool_t *p = otf_calloc(1, sizeof *p);
	if (!p)
		return NULL;
	if (pthread_mutex_init(&p->lock, NULL) != 0) {
		otf_free(p);
		return NULL;
	}
	p->max_bytes = max_bytes;
	return p;
}

static void free_list(pooled_t *h)
{
	while (h) {
		pooled_t *n = h->next;
		otf_free(h);
		h = n;
	}
}

/* Detaches the idle list (lock held). */
static pooled_t *take_idle(otf_bufpool_t *p)
{
	pooled_t *h = p->idle;
	p->idle = NULL;
	p->idle_bytes = p->idle_count = 0;
	return h;
}

static void pool_free(otf_bufpool_t *p)
{
	pthread_mutex_destroy(&p->lock);
	otf_free(p);
}

void otf_bufpool_destroy(otf_bufpool_t *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->destroyed = true;
	pooled_t *idle = take_idle(p);
	bool last = p->out_count == 0;
	pthread_mutex_unlock(&p->lock);
	free_list(idle);
	if (last)
		pool_free(p);
}

void otf_bufpool_trim(otf_bufpool_t *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	pooled_t *idle = take_idle(p);
	pthread_mutex_unlock(&p->lock);
	free_list(idle);
}

otf_buf_t *otf_bufpool_get(otf_bufpool_t *p, size_t cap)
{
	if (!p)
		return otf_buf_create(cap);
	if (cap > SIZE_MAX - sizeof(pooled_t) - sizeof(otf_buf_t) - OTF_BUFPOOL_GRAIN)
		return NULL;
	size_t want = (cap + OTF_BUFPOOL_GRAIN - 1) / OTF_BUFPOOL_GRAIN * OTF_BUFPOOL_GRAIN;
	if (!want)
		want = OTF_BUFPOOL_GRAIN;
	/* Within 25 %: a pool of 512 KiB buffers does not serve 64 KiB. */
	size_t most = want + want / 4;
	pthread_mutex_lock(&p->lock);
	pooled_t **pp = &p->idle, *h = NULL;
	for (; *pp; pp = &(*pp)->next) {
		size_t c = buf_of(*pp)->cap;
		if (c >= want && c <= most) {
			h = *pp;
			*pp = h->next;
			p->idle_bytes -= c;
			p->idle_count--;
			break;
		}
	}
	if (h)
		p->hits++;
	else
		p->misses++;
	p->out_count++;
	pthread_mutex_unlock(&p->lock);
	if (!h) {
		h = otf_malloc(sizeof *h + sizeof(otf_buf_t) + want);
		if (!h) {
			pthread_mutex_lock(&p->lock);
			p->out_count--;
			bool last = p->destroyed && p->out_count == 0;
			pthread_mutex_unlock(&p->lock);
			if (last)
				pool_free(p);
			return NULL;
		}
		h->pool = p;
		buf_of(h)->cap = want;
	}
	h->next = NULL;
	otf_buf_t *b = buf_of(h);
	atomic_init(&b->refcnt, 1);
	b->flags = OTF_BUF_POOLED;
	b->len = 0;
	return b;
}

void otf__bufpool_release(otf_buf_t *b)
{
	pooled_t *h = hdr_of(b);
	otf_bufpool_t *p = h->pool;
	pthread_mutex_lock(&p->lock);
	p->out_count--;
	bool keep = !p->destroyed && p->idle_bytes + b->cap <= p->max_bytes;
	if (keep) {
		h->next = p->idle;
		p->idle = h;
		p->idle_bytes += b->cap;
		p->idle_count++;
	}
	bool last = p->destroyed && p->out_count == 0;
	pthread_mutex_unlock(&p->lock);
	if (!keep)
		otf_free(h);
	if (last)
		pool_free(p);
}

void otf_bufpool_stats(otf_bufpool_t *p, otf_bufpool_stats_t *out)
{
	memset(out, 0, sizeof *out);
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	out->hits = p->hits;
	out->misses = p->misses;
	out->idle_bytes = p->idle_bytes;
	out->idle_count = p->idle_count;
	out->out_count = p->out_count;
	pthread_mutex_unlock(&p->lock);
}
