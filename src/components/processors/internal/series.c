/* Series identity and the shared, sharded series map (series.h). */
#include "series.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- hashing ---- */

static uint64_t mix(uint64_t x)
{
	/* splitmix64's finaliser: every input bit reaches every output bit,
	 * which the order-independent sum of attribute hashes relies on. */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static uint64_t bytes_hash(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	h ^= 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return mix(h ^ n);
}

static uint64_t u64_hash(uint64_t h, uint64_t v)
{
	return bytes_hash(h, &v, sizeof v);
}

static uint64_t any_hash(const otf_any_value_t *v, uint64_t seed)
{
	uint64_t h = u64_hash(seed, (uint64_t)v->type);
	switch (v->type) {
	case OTF_ANY_STRING:
		return bytes_hash(h, v->u.string_value.ptr, v->u.string_value.len);
	case OTF_ANY_BYTES:
		return bytes_hash(h, v->u.bytes_value.ptr, v->u.bytes_value.len);
	case OTF_ANY_BOOL:
		return u64_hash(h, v->u.bool_value);
	case OTF_ANY_INT:
		return u64_hash(h, (uint64_t)v->u.int_value);
	case OTF_ANY_DOUBLE: {
		uint64_t bits;
		memcpy(&bits, &v->u.double_value, sizeof bits);
		return u64_hash(h, bits);
	}
	case OTF_ANY_ARRAY:
		for (size_t i = 0; i < v->u.array_value.values_len; i++)
			h = u64_hash(h, any_hash(&v->u.array_value.values[i], seed));
		return h;
	case OTF_ANY_KVLIST: {
		otf_attributes_t a = {v->u.kvlist_value.values, v->u.kvlist_value.values_len};
		return u64_hash(h, otf__series_hash_attrs(&a, seed));
	}
	default:
		return h;
	}
}

uint64_t otf__series_hash_attrs(const otf_attributes_t *attrs, uint64_t seed)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < attrs->len; i++) {
		const otf_key_value_t *kv = &attrs->items[i];
		uint64_t h = bytes_hash(seed, kv->key.ptr, kv->key.len);
		sum += mix(h ^ any_hash(&kv->value, seed));
	}
	return mix(sum ^ attrs->len);
}

#define SEED_A 0x9e3779b97f4a7c15ull
#define SEED_B 0xc2b2ae3d27d4eb4full

otf_series_key_t otf__series_resource_key(const otf_resource_t *r)
{
	return (otf_series_key_t){otf__series_hash_attrs(&r->attributes, SEED_A),
	                          otf__series_hash_attrs(&r->attributes, SEED_B)};
}

static uint64_t scope_hash(uint64_t h, const otf_scope_t *s, uint64_t seed)
{
	h = bytes_hash(h, s->name.ptr, s->name.len);
	h = bytes_hash(h, s->version.ptr, s->version.len);
	return u64_hash(h, otf__series_hash_attrs(&s->attributes, seed));
}

otf_series_key_t otf__series_scope_key(otf_series_key_t rk, const otf_scope_t *s)
{
	return (otf_series_key_t){scope_hash(rk.a, s, SEED_A), scope_hash(rk.b, s, SEED_B)};
}

static uint64_t metric_hash(uint64_t h, const otf_metric_t *m)
{
	h = bytes_hash(h, m->name.ptr, m->name.len);
	h = bytes_hash(h, m->unit.ptr, m->unit.len);
	uint64_t shape = (uint64_t)m->type | (uint64_t)(uint32_t)m->aggregation_temporality << 8 |
	                 (uint64_t)m->is_monotonic << 40;
	return u64_hash(h, shape);
}

otf_series_key_t otf__series_metric_key(otf_series_key_t sk, const otf_metric_t *m)
{
	return (otf_series_key_t){metric_hash(sk.a, m), metric_hash(sk.b, m)};
}

otf_series_key_t otf__series_point_key(otf_series_key_t mk, const otf_attributes_t *attrs,
                                       uint64_t extra)
{
	return (otf_series_key_t){
	    u64_hash(u64_hash(mk.a, otf__series_hash_attrs(attrs, SEED_A)), extra),
	    u64_hash(u64_hash(mk.b, otf__series_hash_attrs(attrs, SEED_B)), extra)};
}

/* ---- the map ---- */

#define SHARDS 64

typedef struct shard {
	pthread_mutex_t mu;
	otf_series_entry_t **slots;
	size_t nslots, n;
} shard_t;

struct otf_series_map {
	otf_series_map_t *next; /* registry */
	int refs;
	char name[160];
	const void *owner;
	size_t max;
	otf_series_free_fn free_data;
	size_t count; /* atomic */
	shard_t shards[SHARDS];
	otf_selfcounter_t evicted, refused;
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static otf_series_map_t *g_maps;

uint64_t otf__series_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t otf__series_unix_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

otf_series_map_t *otf__series_map_get(const char *node_name, const void *owner, size_t max_series,
                                      otf_series_free_fn free_data)
{
	pthread_mutex_lock(&g_mu);
	otf_series_map_t *m = g_maps;
	while (m && (m->owner != owner || strcmp(m->name, node_name)))
		m = m->next;
	if (!m && (m = otf_calloc(1, sizeof *m))) {
		snprintf(m->name, sizeof m->name, "%s", node_name);
		m->owner = owner;
		m->max = max_series && max_series < OTF_SERIES_HARD_MAX ? max_series
		                                                        : OTF_SERIES_HARD_MAX;
		m->free_data = free_data;
		for (int i = 0; i < SHARDS; i++)
			pthread_mutex_init(&m->shards[i].mu, NULL);
		const char *id = strchr(node_name, ':');
		id = id ? id + 1 : node_name;
		m->evicted = (otf_selfcounter_t){
		    .name = "otelcol_processor_series_evicted",
		    .desc = "Series (streams) dropped from a stateful metrics processor's state "
		            "after they were not seen for its staleness period.",
		    .unit = "{series}",
		    .label_key = "processor"};
		m->refused = (otf_selfcounter_t){
		    .name = "otelcol_processor_series_refused",
		    .desc = "Data points of new series a stateful metrics processor dropped "
		            "because its series bound was reached.",
		    .unit = "{datapoints}",
		    .label_key = "processor"};
		snprintf(m->evicted.label, sizeof m->evicted.label, "%s", id);
		snprintf(m->refused.label, sizeof m->refused.label, "%s", id);
		otf_selfcounter_register(&m->evicted);
		otf_selfcounter_register(&m->refused);
		m->next = g_maps;
		g_maps = m;
	}
	if (m)
		m->refs++;
	pthread_mutex_unlock(&g_mu);
	return m;
}

static void entry_free(otf_series_map_t *m, otf_series_entry_t *e)
{
	if (m->free_data)
		m->free_data(e);
	otf_free(e);
	__atomic_fetch_sub(&m->count, 1, __ATOMIC_RELAXED);
}

void otf__series_map_put(otf_series_map_t *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&g_mu);
	if (--m->refs > 0) {
		pthread_mutex_unlock(&g_mu);
		return;
	}
	for (otf_series_map_t **p = &g_maps; *p; p = &(*p)->next) {
		if (*p == m) {
			*p = m->next;
			break;
		}
	}
	pthread_mutex_unlock(&g_mu);
	otf_selfcounter_unregister(&m->evicted);
	otf_selfcounter_unregister(&m->refused);
	for (int i = 0; i < SHARDS; i++) {
		shard_t *s = &m->shards[i];
		for (size_t j = 0; j < s->nslots; j++) {
			while (s->slots[j]) {
				otf_series_entry_t *e = s->slots[j];
				s->slots[j] = e->next;
				entry_free(m, e);
			}
		}
		otf_free(s->slots);
		pthread_mutex_destroy(&s->mu);
	}
	otf_free(m);
}

static shard_t *shard_of(otf_series_map_t *m, otf_series_key_t k)
{
	return &m->shards[k.a % SHARDS];
}

static size_t slot_of(const shard_t *s, otf_series_key_t k)
{
	return (size_t)((k.a / SHARDS) ^ k.b) & (s->nslots - 1);
}

static int grow(shard_t *s)
{
	size_t n = s->nslots ? s->nslots * 2 : 64;
	otf_series_entry_t **slots = otf_calloc(n, sizeof *slots);
	if (!slots)
		return OTF_E_NOMEM;
	for (size_t j = 0; j < s->nslots; j++) {
		while (s->slots[j]) {
			otf_series_entry_t *e = s->slots[j];
			s->slots[j] = e->next;
			size_t k = (size_t)((e->key.a / SHARDS) ^ e->key.b) & (n - 1);
			e->next = slots[k];
			slots[k] = e;
		}
	}
	otf_free(s->slots);
	s->slots = slots;
	s->nslots = n;
	return 0;
}

int otf__series_map_lock(otf_series_map_t *m, otf_series_key_t key, bool create, uint64_t now_ns,
                         otf_series_entry_t **out)
{
	shard_t *s = shard_of(m, key);
	pthread_mutex_lock(&s->mu);
	if (s->nslots) {
		for (otf_series_entry_t *e = s->slots[slot_of(s, key)]; e; e = e->next) {
			if (e->key.a == key.a && e->key.b == key.b) {
				e->seen_ns = now_ns;
				*out = e;
				return 1;
			}
		}
	}
	int rc = OTF_E_NOT_FOUND;
	if (!create)
		goto fail;
	rc = -ENOSPC;
	if (__atomic_load_n(&m->count, __ATOMIC_RELAXED) >= m->max)
		goto fail;
	rc = OTF_E_NOMEM;
	if ((s->n + 1 > s->nslots * 2 || !s->nslots) && grow(s))
		goto fail;
	otf_series_entry_t *e = otf_calloc(1, sizeof *e);
	if (!e)
		goto fail;
	e->key = key;
	e->seen_ns = now_ns;
	size_t k = slot_of(s, key);
	e->next = s->slots[k];
	s->slots[k] = e;
	s->n++;
	__atomic_fetch_add(&m->count, 1, __ATOMIC_RELAXED);
	*out = e;
	return 0;
fail:
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void otf__series_map_unlock(otf_series_map_t *m, otf_series_entry_t *e)
{
	pthread_mutex_unlock(&shard_of(m, e->key)->mu);
}

void otf__series_map_remove_unlock(otf_series_map_t *m, otf_series_entry_t *e)
{
	shard_t *s = shard_of(m, e->key);
	for (otf_series_entry_t **p = &s->slots[slot_of(s, e->key)]; *p; p = &(*p)->next) {
		if (*p == e) {
			*p = e->next;
			s->n--;
			entry_free(m, e);
			break;
		}
	}
	pthread_mutex_unlock(&s->mu);
}

size_t otf__series_map_evict(otf_series_map_t *m, uint64_t older_than_ns)
{
	size_t n = 0;
	for (int i = 0; i < SHARDS; i++) {
		shard_t *s = &m->shards[i];
		pthread_mutex_lock(&s->mu);
		for (size_t j = 0; j < s->nslots; j++) {
			for (otf_series_entry_t **p = &s->slots[j]; *p;) {
				otf_series_entry_t *e = *p;
				if (e->seen_ns < older_than_ns) {
					*p = e->next;
					s->n--;
					entry_free(m, e);
					n++;
				} else {
					p = &e->next;
				}
			}
		}
		pthread_mutex_unlock(&s->mu);
	}
	if (n)
		otf_selfcounter_add(&m->evicted, n);
	return n;
}

void otf__series_map_drain(otf_series_map_t *m, void (*fn)(void *user, otf_series_entry_t *e),
                           void *user)
{
	for (int i = 0; i < SHARDS; i++) {
		shard_t *s = &m->shards[i];
		pthread_mutex_lock(&s->mu);
		for (size_t j = 0; j < s->nslots; j++) {
			while (s->slots[j]) {
				otf_series_entry_t *e = s->slots[j];
				s->slots[j] = e->next;
				s->n--;
				fn(user, e);
				entry_free(m, e);
			}
		}
		pthread_mutex_unlock(&s->mu);
	}
}

void otf__series_map_stats(otf_series_map_t *m, otf_series_stats_t *out)
{
	out->series = __atomic_load_n(&m->count, __ATOMIC_RELAXED);
	out->evicted = __atomic_load_n(&m->evicted.value, __ATOMIC_RELAXED);
	out->refused = __atomic_load_n(&m->refused.value, __ATOMIC_RELAXED);
}

void otf__series_map_count_refused(otf_series_map_t *m, uint64_t n)
{
	otf_selfcounter_add(&m->refused, n);
}
