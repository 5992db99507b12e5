/* tail_sampling: the per-worker trace store (a chained hash table over
 * trace ids with the traces in arrival order, bounded by num_traces) and
 * the decision caches (fixed rings of trace ids with a hash index, the
 * oldest forgotten first). See tail_sampling.h. */
#include "tail_sampling.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <string.h>

#define NONE UINT32_MAX

static size_t hash_id(const uint8_t id[16])
{
	/* Trace ids are random (W3C level 2): their last 8 bytes mix well. */
	uint64_t v;
	memcpy(&v, id + 8, 8);
	return (size_t)(v ^ (v >> 29) ^ (v >> 47));
}

static int cache_init(otf__ts_cache_t *c, uint32_t cap)
{
	memset(c, 0, sizeof *c);
	if (!cap)
		return 0;
	uint32_t nb = 16;
	while (nb < cap)
		nb <<= 1;
	c->ids = otf_calloc(cap, sizeof *c->ids);
	c->next = otf_calloc(cap, sizeof *c->next);
	c->buckets = otf_malloc(nb * sizeof *c->buckets);
	if (!c->ids || !c->next || !c->buckets) {
		otf_free(c->ids);
		otf_free(c->next);
		otf_free(c->buckets);
		memset(c, 0, sizeof *c);
		return OTF_E_NOMEM;
	}
	memset(c->buckets, 0xff, nb * sizeof *c->buckets);
	c->cap = cap;
	c->nbuckets = nb;
	return 0;
}

static void cache_close(otf__ts_cache_t *c)
{
	otf_free(c->ids);
	otf_free(c->next);
	otf_free(c->buckets);
	memset(c, 0, sizeof *c);
}

static bool cache_has(const otf__ts_cache_t *c, const uint8_t id[16])
{
	if (!c->cap)
		return false;
	for (uint32_t i = c->buckets[hash_id(id) & (c->nbuckets - 1)]; i != NONE; i = c->next[i])
		if (!memcmp(c->ids[i], id, 16))
			return true;
	return false;
}

static void cache_put(otf__ts_cache_t *c, const uint8_t id[16])
{
	if (!c->cap || cache_has(c, id))
		return;
	uint32_t slot;
	if (c->len == c->cap) {
		/* Full: the oldest entry (at head) makes room. */
		slot = c->head;
		uint32_t *p = &c->buckets[hash_id(c->ids[slot]) & (c->nbuckets - 1)];
		while (*p != slot)
			p = &c->next[*p];
		*p = c->next[slot];
		c->head = (c->head + 1) % c->cap;
	} else {
		slot = (c->head + c->len) % c->cap;
		c->len++;
	}
	memcpy(c->ids[slot], id, 16);
	uint32_t *b = &c->buckets[hash_id(id) & (c->nbuckets - 1)];
	c->next[slot] = *b;
	*b = slot;
}

int otf__ts_store_init(otf__ts_store_t *s, size_t max, size_t initial, uint32_t sampled_cache,
                       uint32_t not_sampled_cache)
{
	memset(s, 0, sizeof *s);
	size_t nb = 64;
	size_t want = initial < max ? initial : max;
	while (nb < want)
		nb <<= 1;
	s->buckets = otf_calloc(nb, sizeof *s->buckets);
	if (!s->buckets)
		return OTF_E_NOMEM;
	s->nbuckets = nb;
	s->max = max;
	if (cache_init(&s->sampled, sampled_cache) ||
	    cache_init(&s->not_sampled, not_sampled_cache)) {
		otf__ts_store_close(s);
		return OTF_E_NOMEM;
	}
	return 0;
}

static void entry_free(otf__ts_entry_t *e)
{
	if (e->bytes)
		otf_buf_unref(e->bytes);
	otf_free(e);
}

void otf__ts_store_close(otf__ts_store_t *s)
{
	for (otf__ts_entry_t *e = s->oldest, *n; e; e = n) {
		n = e->next;
		entry_free(e);
	}
	otf_free(s->buckets);
	cache_close(&s->sampled);
	cache_close(&s->not_sampled);
	memset(s, 0, sizeof *s);
}

otf__ts_entry_t *otf__ts_store_find(otf__ts_store_t *s, const uint8_t id[16])
{
	for (otf__ts_entry_t *e = s->buckets[hash_id(id) & (s->nbuckets - 1)]; e; e = e->hnext)
		if (!memcmp(e->id, id, 16))
			return e;
	return NULL;
}

static void unlink_entry(otf__ts_store_t *s, otf__ts_entry_t *e)
{
	otf__ts_entry_t **p = &s->buckets[hash_id(e->id) & (s->nbuckets - 1)];
	while (*p != e)
		p = &(*p)->hnext;
	*p = e->hnext;
	if (s->first_pending == e)
		s->first_pending = e->next;
	if (e->prev)
		e->prev->next = e->next;
	else
		s->oldest = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		s->newest = e->prev;
	s->len--;
}

/* Doubles the bucket array when the load passes 1 (up to num_traces). A
 * failed grow keeps the table as it is: longer chains, still correct. */
static void maybe_grow(otf__ts_store_t *s)
{
	if (s->len < s->nbuckets)
		return;
	size_t nb = s->nbuckets * 2;
	otf__ts_entry_t **b = otf_calloc(nb, sizeof *b);
	if (!b)
		return;
	for (otf__ts_entry_t *e = s->oldest; e; e = e->next) {
		size_t h = hash_id(e->id) & (nb - 1);
		e->hnext = b[h];
		b[h] = e;
	}
	otf_free(s->buckets);
	s->buckets = b;
	s->nbuckets = nb;
}

otf__ts_entry_t *otf__ts_store_add(otf__ts_store_t *s, const uint8_t id[16], uint64_t now_ms,
                                   int64_t *evicted_spans)
{
	*evicted_spans = 0;
	if (s->len >= s->max && s->oldest) {
		otf__ts_entry_t *old = s->oldest;
		if (old->state == TSE_PENDING)
			*evicted_spans = old->spans > 0 ? old->spans : 1;
		unlink_entry(s, old);
		entry_free(old);
	}
	otf__ts_entry_t *e = otf_calloc(1, sizeof *e);
	if (!e)
		return NULL;
	memcpy(e->id, id, 16);
	e->arrival_ms = now_ms;
	maybe_grow(s);
	size_t h = hash_id(id) & (s->nbuckets - 1);
	e->hnext = s->buckets[h];
	s->buckets[h] = e;
	e->prev = s->newest;
	if (s->newest)
		s->newest->next = e;
	else
		s->oldest = e;
	s->newest = e;
	if (!s->first_pending)
		s->first_pending = e;
	s->len++;
	return e;
}

void otf__ts_store_decided(otf__ts_store_t *s, otf__ts_entry_t *e, bool sampled)
{
	e->state = sampled ? TSE_KEPT : TSE_DROPPED;
	if (e->bytes) {
		otf_buf_unref(e->bytes);
		e->bytes = NULL;
	}
	/* Traces are decided in arrival order, so the pending ones are the
	 * tail of the list. */
	if (s->first_pending == e)
		s->first_pending = e->next;
	cache_put(sampled ? &s->sampled : &s->not_sampled, e->id);
}

int otf__ts_cache_lookup(otf__ts_store_t *s, const uint8_t id[16])
{
	if (cache_has(&s->sampled, id))
		return 1;
	if (cache_has(&s->not_sampled, id))
		return 0;
	return -1;
}
