/* otlp-mmap v1 message decoding and dictionary resolution: see mmap_msg.h. */
#include "mmap_msg.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "pdata/pb_wire.h"

#include <math.h>
#include <string.h>

#define MAX_DEPTH  32u
#define MAX_ATTRS  1024u /* per list; more are dropped and counted */
#define MAX_BOUNDS 4096u

/* ---- int64 -> pointer table (linear probing; key 0 = empty) ---- */

static const char k_bad; /* value of a cached miss */
#define BAD ((void *)&k_bad)

static uint64_t mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	return k ^ (k >> 33);
}

static void *tab_get(const otf__mmx_tab_t *t, int64_t key)
{
	if (!t->cap)
		return NULL;
	for (size_t i = mix((uint64_t)key) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		if (t->keys[i] == key)
			return t->vals[i];
		if (!t->keys[i])
			return NULL;
	}
}

static int tab_put(otf__mmx_tab_t *t, int64_t key, void *val)
{
	if ((t->len + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		int64_t *k = otf_calloc(cap, sizeof *k);
		void **v = otf_calloc(cap, sizeof *v);
		if (!k || !v) {
			otf_free(k);
			otf_free(v);
			return OTF_E_NOMEM;
		}
		for (size_t i = 0; i < t->cap; i++) {
			if (!t->keys[i])
				continue;
			size_t j = mix((uint64_t)t->keys[i]) & (cap - 1);
			while (k[j])
				j = (j + 1) & (cap - 1);
			k[j] = t->keys[i];
			v[j] = t->vals[i];
		}
		otf_free(t->keys);
		otf_free(t->vals);
		t->keys = k;
		t->vals = v;
		t->cap = cap;
	}
	size_t i = mix((uint64_t)key) & (t->cap - 1);
	while (t->keys[i] && t->keys[i] != key)
		i = (i + 1) & (t->cap - 1);
	if (!t->keys[i])
		t->len++;
	t->keys[i] = key;
	t->vals[i] = val;
	return 0;
}

static void tab_free(otf__mmx_tab_t *t)
{
	otf_free(t->keys);
	otf_free(t->vals);
	memset(t, 0, sizeof *t);
}

void otf__mmx_init(otf__mmx_t *x, otf__mmr_t *r)
{
	memset(x, 0, sizeof *x);
	x->r = r;
	x->cached_bytes_limit = (size_t)64 << 20;
	otf_arena_init(&x->cache, 0);
}

void otf__mmx_reset(otf__mmx_t *x)
{
	tab_free(&x->strings);
	tab_free(&x->scopes);
	tab_free(&x->metrics);
	tab_free(&x->values);
	otf_arena_close(&x->cache);
	otf_arena_init(&x->cache, 0);
}

void otf__mmx_close(otf__mmx_t *x)
{
	otf__mmx_reset(x);
	otf_arena_close(&x->cache);
}

/* Copy of a dictionary entry in the cache arena. */
static int dict_copy(otf__mmx_t *x, int64_t ref, const uint8_t **p, size_t *n)
{
	const uint8_t *s;
	size_t len;
	int rc = otf__mmr_dict(x->r, ref, &s, &len);
	if (rc)
		return rc;
	uint8_t *c = otf_arena_memdup(&x->cache, s, len);
	if (!c)
		return OTF_E_NOMEM;
	*p = c;
	*n = len;
	return 0;
}

int otf__mmx_string(otf__mmx_t *x, int64_t ref, otf_bytes_t *out)
{
	if (ref == 0) {
		*out = (otf_bytes_t){(const uint8_t *)"", 0};
		return 0;
	}
	void *v = tab_get(&x->strings, ref);
	if (v == BAD) {
		x->bad_refs++;
		return OTF_E_NOT_FOUND;
	}
	if (v) {
		*out = *(otf_bytes_t *)v;
		return 0;
	}
	const uint8_t *p;
	size_t n;
	int rc = dict_copy(x, ref, &p, &n);
	if (!rc && !otf__utf8_valid(p, n))
		rc = OTF_E_UTF8;
	otf_bytes_t *b = rc ? NULL : otf_arena_alloc(&x->cache, sizeof *b);
	if (!rc && !b)
		rc = OTF_E_NOMEM;
	if (rc == OTF_E_NOMEM)
		return rc;
	if (b)
		*b = (otf_bytes_t){p, n};
	if (tab_put(&x->strings, ref, b ? (void *)b : BAD))
		return OTF_E_NOMEM;
	if (rc) {
		x->bad_refs++;
		return rc;
	}
	*out = *b;
	return 0;
}

/* ---- wire helpers ---- */

int otf__mmx_str_field(const uint8_t **pp, const uint8_t *e, otf_bytes_t *out)
{
	const uint8_t *s;
	size_t n;
	int rc = otf__pb_len(pp, e, &s, &n);
	if (rc)
		return rc;
	if (!otf__utf8_valid(s, n))
		return OTF_E_UTF8;
	*out = (otf_bytes_t){s, n};
	return 0;
}

/* Counts LEN occurrences of field in [p, e); negative on malformed input. */
static long count_field(const uint8_t *p, const uint8_t *e, uint32_t field)
{
	long c = 0;
	while (p < e) {
		uint32_t f, wt;
		int rc = otf__pb_tag(&p, e, &f, &wt);
		if (!rc)
			rc = otf__pb_skip(&p, e, wt);
		if (rc)
			return rc;
		if (f == field && wt == OTF_WT_LEN)
			c++;
	}
	return c;
}

static int any_dec(otf__mmx_t *x, otf_arena_t *a, const uint8_t *p, size_t n, otf_any_value_t *out,
                   unsigned depth);

static int kv_dec(otf__mmx_t *x, otf_arena_t *a, const uint8_t *p, size_t n, otf_key_value_t *kv,
                  unsigned depth)
{
	const uint8_t *e = p + n;
	int64_t key_ref = 0;
	memset(kv, 0, sizeof *kv);
	while (p < e) {
		uint32_t f, wt;
		uint64_t v;
		const uint8_t *s;
		size_t l;
		int rc = otf__pb_tag(&p, e, &f, &wt);
		if (rc)
			return rc;
		if (f == 1 && wt == OTF_WT_VARINT) {
			if ((rc = otf__pb_varint(&p, e, &v)))
				return rc;
			key_ref = (int64_t)v;
		} else if (f == 2 && wt == OTF_WT_LEN) {
			if ((rc = otf__pb_len(&p, e, &s, &l)) ||
			    (rc = any_dec(x, a, s, l, &kv->value, depth + 1)))
				return rc;
		} else if ((rc = otf__pb_skip(&p, e, wt))) {
			return rc;
		}
	}
	return otf__mmx_string(x, key_ref, &kv->key);
}

static int kv_list(otf__mmx_t *x, otf_arena_t *a, const uint8_t *p, size_t n, uint32_t field,
                   otf_key_value_t **items, size_t *len, uint32_t *dropped, unsigned depth)
{
	const uint8_t *e = p + n;
	long c = count_field(p, e, field);
	*items = NULL;
	*len = 0;
	if (c < 0)
		return (int)c;
	if (!c)
		return 0;
	size_t cap = (size_t)c > MAX_ATTRS ? MAX_ATTRS : (size_t)c;
	otf_key_value_t *kv = otf_arena_alloc(a, cap * sizeof *kv);
	if (!kv)
		return OTF_E_NOMEM;
	size_t k = 0;
	while (p < e) {
		uint32_t f, wt;
		const uint8_t *s;
		size_t l;
		int rc = otf__pb_tag(&p, e, &f, &wt);
		if (rc)
			return rc;
		if (f != field || wt != OTF_WT_LEN) {
			if ((rc = otf__pb_skip(&p, e, wt)))
				return rc;
			continue;
		}
		if ((rc = otf__pb_len(&p, e, &s, &l)))
			return rc;
		if (k == cap) {
			(*dropped)++;
			continue;
		}
		rc = kv_dec(x, a, s, l, &kv[k], depth);
		if (rc == OTF_E_NOMEM)
			return rc;
		if (rc)
			(*dropped)++; /* key or value does not resolve: drop this one */
		else
			k++;
	}
	*items = kv;
	*len = k;
	return 0;
}

static int any_dec(otf__mmx_t *x, otf_arena_t *a, const uint8_t *p, size_t n, otf_any_value_t *out,
                   unsigned depth)
{
	const uint8_t *e = p + n;
	memset(out, 0, sizeof *out);
	if (depth > MAX_DEPTH)
		return OTF_E_DEPTH;
	while (p < e) {
		uint32_t f, wt;
		uint64_t v;
		const uint8_t *s;
		size_t l;
		int rc = otf__pb_tag(&p, e, &f, &wt);
		if (rc)
			return rc;
		if (f == 1 && wt == OTF_WT_LEN) {
			if ((rc = otf__mmx_str_field(&p, e, &out->u.string_value)))
				return rc;
			out->type = OTF_ANY_STRING;
		} else if ((f == 2 || f == 3) && wt == OTF_WT_VARINT) {
			if ((rc = otf__pb_varint(&p, e, &v)))
				return rc;
			out->type = f == 2 ? OTF_ANY_BOOL : OTF_ANY_INT;
			if (f == 2)
				out->u.bool_value = v != 0;
			else
				out->u.int_value = (int64_t)v;
		} else if (f == 4 && wt == OTF_WT_I64) {
			if ((rc = otf__pb_fixed64(&p, e, &v)))
				return rc;
			out->type = OTF_ANY_DOUBLE;
			out->u.double_value = otf__pb_u64_to_double(v);
		} else if (f == 5 && wt == OTF_WT_LEN) {
			if ((rc = otf__pb_len(&p, e, &s, &l)))
				return rc;
			long c = count_field(s, s + l, 1);
			if (c < 0)
				return (int)c;
			otf_any_value_t *vals =
			    c ? otf_arena_alloc(a, (size_t)c * sizeof *vals) : NULL;
			if (c && !vals)
				return OTF_E_NOMEM;
			size_t k = 0;
			const uint8_t *q = s, *qe = s + l;
			while (q < qe) {
				uint32_t f2, wt2;
				const uint8_t *s2;
				size_t l2;
				if ((rc = otf__pb_tag(&q, qe, &f2, &wt2)))
					return rc;
				if (f2 != 1 || wt2 != OTF_WT_LEN) {
					if ((rc = otf__pb_skip(&q, qe, wt2)))
						return rc;
					continue;
				}
				if ((rc = otf__pb_len(&q, qe, &s2, &l2)) ||
				    (rc = any_dec(x, a, s2, l2, &vals[k++], depth + 1)))
					return rc;
			}
			out->type = OTF_ANY_ARRAY;
			out->u.array_value.values = vals;
			out->u.array_value.values_len = k;
		} else if (f == 6 && wt == OTF_WT_LEN) {
			uint32_t dropped = 0;
			if ((rc = otf__pb_len(&p, e, &s, &l)) ||
			    (rc = kv_list(x, a, s, l, 1, &out->u.kvlist_value.values,
			                  &out->u.kvlist_value.values_len, &dropped, depth)))
				return rc;
			out->type = OTF_ANY_KVLIST;
		} else if (f == 7 && wt == OTF_WT_LEN) {
			if ((rc = otf__pb_len(&p, e, &s, &l)))
				return rc;
			out->type = OTF_ANY_BYTES;
			out->u.bytes_value = (otf_bytes_t){s, l};
		} else if (f == 8 && wt == OTF_WT_VARINT) {
			if ((rc = otf__pb_varint(&p, e, &v)))
				return rc;
			if ((int64_t)v == 0) {
				memset(out, 0, sizeof *out);
				continue;
			}
			/* Interned AnyValue: resolved once per epoch into the cache. */
			void *c = tab_get(&x->values, (int64_t)v);
			if (c == BAD)
				return OTF_E_NOT_FOUND;
			if (!c) {
				otf_any_value_t *nv = otf_arena_alloc(&x->cache, sizeof *nv);
				if (!nv)
					return OTF_E_NOMEM;
				/* Mark first: a value_ref cycle then ends here. */
				if (tab_put(&x->values, (int64_t)v, BAD))
					return OTF_E_NOMEM;
				rc = dict_copy(x, (int64_t)v, &s, &l);
				if (!rc)
					rc = any_dec(x, &x->cache, s, l, nv, depth + 1);
				if (rc == OTF_E_NOMEM)
					return rc;
				if (rc) {
					x->bad_refs++;
					return rc;
				}
				if (tab_put(&x->values, (int64_t)v, nv))
					return OTF_E_NOMEM;
				c = nv;
			}
			*out = *(otf_any_value_t *)c;
		} else if ((rc = otf__pb_skip(&p, e, wt))) {
			return rc;
		}
	}
	return 0;
}

int otf__mmx_any(otf__mmx_t *x, otf_arena_t *a, const uint8_t *p, size_t n, otf_any_value_t *out,
                 unsigned depth)
{
	return any_dec(x, a, p, n, out, depth);
}

int otf__mmx_attrs(otf__mmx_t *x, otf_arena_t *a, const uint8_t *p, size_t n, uint32_t field,
                   otf_attributes_t *out, uint32_t *dropped)
{
	return kv_list(x, a, p, n, field, &out->items, &out->len, dropped, 1);
}

/* ---- scopes, resources, metrics ---- */

static int resource_dec(otf__mmx_t *x, int64_t ref, otf_resource_t *out)
{
	memset(out, 0, sizeof *out);
	if (!ref)
		return 0;
	const uint8_t *p;
	size_t n;
	int rc = dict_copy(x, ref, &p, &n);
	if (rc)
		return rc;
	const uint8_t *e = p + n;
	if ((rc = otf__mmx_attrs(x, &x->cache, p, n, 1, &out->attributes,
	                         &out->dropped_attributes_count)))
		return rc;
	while (p < e) {
		uint32_t f, wt;
		uint64_t v;
		if ((rc = otf__pb_tag(&p, e, &f, &wt)))
			return rc;
		if (f == 2 && wt == OTF_WT_VARINT) {
			if ((rc = otf__pb_varint(&p, e, &v)))
				return rc;
			out->dropped_attributes_count += (uint32_t)v;
		} else if ((rc = otf__pb_skip(&p, e, wt))) {
			return rc;
		}
	}
	return 0;
}

static int scope_dec(otf__mmx_t *x, int64_t ref, otf__mmx_scope_t *out)
{
	memset(out, 0, sizeof *out);
	const uint8_t *p;
	size_t n;
	int rc = dict_copy(x, ref, &p, &n);
	if (rc)
		return rc;
	const uint8_t *e = p + n;
	if ((rc = otf__mmx_attrs(x, &x->cache, p, n, 3, &out->scope.attributes,
	                         &out->scope.dropped_attributes_count)))
		return rc;
	while (p < e) {
		uint32_t f, wt;
		uint64_t v;
		if ((rc = otf__pb_tag(&p, e, &f, &wt)))
			return rc;
		if (wt == OTF_WT_VARINT && f >= 1 && f <= 5 && f != 3) {
			if ((rc = otf__pb_varint(&p, e, &v)))
				return rc;
			if (f == 1)
				rc = otf__mmx_string(x, (int64_t)v, &out->scope.name);
			else if (f == 2)
				rc = otf__mmx_string(x, (int64_t)v, &out->scope.version);
			else if (f == 4)
				out->scope.dropped_attributes_count += (uint32_t)v;
			else
				out->resource_ref = (int64_t)v;
			if (rc)
				return rc;
		} else if ((rc = otf__pb_skip(&p, e, wt))) {
			return rc;
		}
	}
	return resource_dec(x, out->resource_ref, &out->resource);
}

const otf__mmx_scope_t *otf__mmx_scope(otf__mmx_t *x, int64_t ref)
{
	if (ref <= 0)
		return NULL;
	void *v = tab_get(&x->scopes, ref);
	if (v)
		return v == BAD ? NULL : v;
	otf__mmx_scope_t *s = otf_arena_alloc(&x->cache, sizeof *s);
	int rc = s ? scope_dec(x, ref, s) : OTF_E_NOMEM;
	if (rc == OTF_E_NOMEM)
		return NULL;
	if (rc)
		x->bad_refs++;
	tab_put(&x->scopes, ref, rc ? BAD : s);
	return rc ? NULL : s;
}

static int bounds_dec(otf__mmx_t *x, const uint8_t **pp, const uint8_t *e, uint32_t wt,
                      otf__mmx_metric_t *m)
{
	uint64_t v;
	int rc;
	if (wt == OTF_WT_I64) {
		if ((rc = otf__pb_fixed64(pp, e, &v)))
			return rc;
		if (m->bounds_len >= MAX_BOUNDS)
			return OTF_E_TOO_LARGE;
		double *b = otf_arena_alloc(&x->cache, (m->bounds_len + 1) * sizeof *b);
		if (!b)
			return OTF_E_NOMEM;
		if (m->bounds_len)
			memcpy(b, m->bounds, m->bounds_len * sizeof *b);
		b[m->bounds_len++] = otf__pb_u64_to_double(v);
		m->bounds = b;
		return 0;
	}
	const uint8_t *s;
	size_t l;
	if ((rc = otf__pb_len(pp, e, &s, &l)))
		return rc;
	if (l % 8 || l / 8 + m->bounds_len > MAX_BOUNDS)
		return OTF_E_LENGTH;
	double *b = otf_arena_alloc(&x->cache, (m->bounds_len + l / 8 + 1) * sizeof *b);
	if (!b)
		return OTF_E_NOMEM;
	if (m->bounds_len)
		memcpy(b, m->bounds, m->bounds_len * sizeof *b);
	memcpy(b + m->bounds_len, s, l);
	m->bounds = b;
	m->bounds_len += l / 8;
	return 0;
}

static int agg_dec(otf__mmx_t *x, const uint8_t *p, size_t n, otf__mmx_metric_t *m)
{
	const uint8_t *e = p + n;
	while (p < e) {
		uint32_t f, wt;
		uint64_t v;
		int rc = otf__pb_tag(&p, e, &f, &wt);
		if (rc)
			return rc;
		if (m->agg == OTF_MMX_AGG_HISTOGRAM && f == 2 &&
		    (wt == OTF_WT_LEN || wt == OTF_WT_I64)) {
			if ((rc = bounds_dec(x, &p, e, wt, m)))
				return rc;
			continue;
		}
		if (wt != OTF_WT_VARINT) {
			if ((rc = otf__pb_skip(&p, e, wt)))
				return rc;
			continue;
		}
		if ((rc = otf__pb_varint(&p, e, &v)))
			return rc;
		uint32_t tf = m->agg == OTF_MMX_AGG_SUM ? 2 : 1;
		if (f == tf && m->agg != OTF_MMX_AGG_GAUGE)
			m->temporality = (int32_t)v;
		else if (m->agg == OTF_MMX_AGG_SUM && f == 3)
			m->monotonic = v != 0;
		else if (m->agg == OTF_MMX_AGG_EXP_HISTOGRAM && f == 2)
			m->max_buckets = (int64_t)v;
		else if (m->agg == OTF_MMX_AGG_EXP_HISTOGRAM && f == 3)
			m->max_scale = (int64_t)v;
	}
	return 0;
}

static int metric_dec(otf__mmx_t *x, int64_t ref, otf__mmx_metric_t *m)
{
	memset(m, 0, sizeof *m);
	const uint8_t *p;
	size_t n;
	int rc = dict_copy(x, ref, &p, &n);
	if (rc)
		return rc;
	const uint8_t *e = p + n;
	while (p < e) {
		uint32_t f, wt;
		uint64_t v;
		const uint8_t *s;
		size_t l;
		if ((rc = otf__pb_tag(&p, e, &f, &wt)))
			return rc;
		if (f >= 1 && f <= 3 && wt == OTF_WT_LEN) {
			rc = otf__mmx_str_field(&p, e,
			                        f == 1   ? &m->name
			                        : f == 2 ? &m->description
			                                 : &m->unit);
		} else if (f == 4 && wt == OTF_WT_VARINT) {
			if (!(rc = otf__pb_varint(&p, e, &v)))
				m->scope_ref = (int64_t)v;
		} else if (f >= 5 && f <= 8 && wt == OTF_WT_LEN) {
			if (!(rc = otf__pb_len(&p, e, &s, &l))) {
				m->agg = (int)f;
				m->temporality = 0;
				m->bounds = NULL;
				m->bounds_len = 0;
				rc = agg_dec(x, s, l, m);
			}
		} else {
			rc = otf__pb_skip(&p, e, wt);
		}
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < m->bounds_len; i++)
		if (!isfinite(m->bounds[i]) || (i && !(m->bounds[i] > m->bounds[i - 1])))
			return OTF_E_RANGE; /* OTLP requires strictly increasing bounds */
	/* docs/mmap-protocol.md section 5: a sum declared CUMULATIVE carries
	 * observed totals (observable instruments), DELTA carries increments. */
	m->observable = m->agg == OTF_MMX_AGG_SUM && m->temporality == OTF_TEMPORALITY_CUMULATIVE;
	if (m->agg == OTF_MMX_AGG_EXP_HISTOGRAM) {
		if (m->max_buckets <= 0 || m->max_buckets > 16384)
			m->max_buckets = 160;
		if (m->max_scale > 20 || m->max_scale < -10)
			m->max_scale = 20;
	}
	return 0;
}

const otf__mmx_metric_t *otf__mmx_metric(otf__mmx_t *x, int64_t ref)
{
	if (ref <= 0)
		return NULL;
	void *v = tab_get(&x->metrics, ref);
	if (v)
		return v == BAD ? NULL : v;
	otf__mmx_metric_t *m = otf_arena_alloc(&x->cache, sizeof *m);
	int rc = m ? metric_dec(x, ref, m) : OTF_E_NOMEM;
	if (rc == OTF_E_NOMEM)
		return NULL;
	if (rc)
		x->bad_refs++;
	tab_put(&x->metrics, ref, rc ? BAD : m);
	return rc ? NULL : m;
}
