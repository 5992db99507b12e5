/* spanmetrics aggregator: spans in (protobuf views, no decode), series
 * out (one ExportMetricsServiceRequest per flush).
 *
 * A series is identified by its data point attributes, kept as the
 * protobuf bytes of a Resource message holding them (repeated KeyValue,
 * field 1): the key is built in dimension order straight from the span's
 * slices, hashed and compared as bytes, and at flush the same bytes
 * decode into the data point's attributes. Resources are kept the same
 * way (the ResourceSpans' Resource, copied), so nothing is decoded per
 * span and the only per-span work is reading the span, the few attribute
 * lookups the dimensions need, one hash and one probe. */
#include "spanmetrics_int.h"

#include "otflow/alloc.h"
#include "otflow/arena.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"
#include "otflow/pdata_view.h"

#include <math.h>
#include <string.h>

/* ---- hashing ---- */

static inline uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static uint64_t fmix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static uint64_t hash_bytes(const uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ull);
	for (; n >= 8; n -= 8, p += 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		h = rotl(h ^ (v * 0x87c37b91114253d5ull), 31) * 0x4cf5ad432745937full;
	}
	uint64_t t = 0;
	memcpy(&t, p, n);
	h ^= t * 0x87c37b91114253d5ull;
	return fmix(h);
}

/* ---- key encoding (protobuf KeyValue entries of a Resource) ---- */

static int kb_reserve(otf_sm_agg_t *a, size_t more)
{
	if (a->kb_len + more <= a->kb_cap)
		return 0;
	size_t cap = a->kb_cap ? a->kb_cap : 256;
	while (cap < a->kb_len + more)
		cap *= 2;
	uint8_t *p = otf_realloc(a->kb, cap);
	if (!p)
		return OTF_E_NOMEM;
	a->kb = p;
	a->kb_cap = cap;
	return 0;
}

/* Appends KeyValue{key, value} as attribute field 1; value is the raw
 * AnyValue message (str: a string written as AnyValue.string_value). */
static int kb_kv(otf_sm_agg_t *a, const char *key, size_t klen, const uint8_t *val, size_t vlen,
                 bool str)
{
	size_t any = str ? 1 + otf__pb_varint_len(vlen) + vlen : vlen;
	size_t kv = 1 + otf__pb_varint_len(klen) + klen + 1 + otf__pb_varint_len(any) + any;
	if (kb_reserve(a, 1 + otf__pb_varint_len(kv) + kv))
		return OTF_E_NOMEM;
	uint8_t *p = a->kb + a->kb_len;
	*p++ = 0x0a;
	p = otf__pb_varint_put(p, kv);
	*p++ = 0x0a;
	p = otf__pb_varint_put(p, klen);
	memcpy(p, key, klen);
	p += klen;
	*p++ = 0x12;
	p = otf__pb_varint_put(p, any);
	if (str) {
		*p++ = 0x0a;
		p = otf__pb_varint_put(p, vlen);
	}
	if (vlen)
		memcpy(p, val, vlen);
	p += vlen;
	a->kb_len = (size_t)(p - a->kb);
	return 0;
}

/* Appends tag, then len-prefixed bytes, to the compact key. */
static int ck_put(otf_sm_agg_t *a, uint8_t tag, const uint8_t *p, size_t n)
{
	if (a->ck_len + n + 11 > a->ck_cap) {
		size_t cap = a->ck_cap ? a->ck_cap : 256;
		while (cap < a->ck_len + n + 11)
			cap *= 2;
		uint8_t *q = otf_realloc(a->ck, cap);
		if (!q)
			return OTF_E_NOMEM;
		a->ck = q;
		a->ck_cap = cap;
	}
	uint8_t *q = a->ck + a->ck_len;
	*q++ = tag;
	q = otf__pb_varint_put(q, n);
	if (n)
		memcpy(q, p, n);
	a->ck_len = (size_t)(q + n - a->ck);
	return 0;
}

/* ---- tables ---- */

void otf__sm_series_free(series_t *s)
{
	otf_free(s->key);
	otf_free(s->ckey);
	otf_free(s->buckets);
	if (s->exp)
		otf_free(s->exp->counts);
	otf_free(s->exp);
}

int otf__sm_index_rebuild(otf_sm_agg_t *a, size_t want)
{
	size_t cap = 64;
	while (cap < want * 2)
		cap *= 2;
	if (cap != a->index_cap) {
		uint32_t *ix = otf_calloc(cap, sizeof *ix);
		if (!ix)
			return OTF_E_NOMEM;
		otf_free(a->index);
		a->index = ix;
		a->index_cap = cap;
	} else {
		memset(a->index, 0, cap * sizeof *a->index);
	}
	for (size_t i = 0; i < a->nseries; i++) {
		size_t j = a->series[i].hash & (a->index_cap - 1);
		while (a->index[j])
			j = (j + 1) & (a->index_cap - 1);
		a->index[j] = (uint32_t)i + 1;
	}
	return 0;
}

otf_sm_agg_t *otf_sm_agg_create(const otf_sm_config_t *cfg)
{
	otf_sm_agg_t *a = otf_calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->cfg = cfg;
	a->divider = cfg->histogram.unit == 1 ? 1e9 : 1e6;
	a->hist = !cfg->histogram.disable;
	a->exponential = cfg->histogram.has_exponential;
	a->max_size = cfg->histogram.exponential.max_size > 0
	                  ? (int32_t)cfg->histogram.exponential.max_size
	                  : 160;
	static const double def_ms[] = {2,   4,   6,    8,    10,   50,   100,   200,
	                                400, 800, 1000, 1400, 2000, 5000, 10000, 15000};
	const otf_sm_buckets_t *b = &cfg->histogram.explicit_.buckets;
	a->nbounds = b->set ? b->n : sizeof def_ms / sizeof def_ms[0];
	a->bounds = otf_calloc(a->nbounds ? a->nbounds : 1, sizeof *a->bounds);
	if (!a->bounds || otf__sm_index_rebuild(a, 32)) {
		otf_sm_agg_destroy(a);
		return NULL;
	}
	for (size_t i = 0; i < a->nbounds; i++)
		a->bounds[i] =
		    b->set ? (double)b->ns[i] / a->divider : def_ms[i] * 1e6 / a->divider;
	for (size_t d = 0; d < cfg->dimensions.n && d < MAX_DIMS; d++)
		a->dlen[d] = strlen(cfg->dimensions.items[d].name);
	static const char *const defaults[] = {"service.name", "span.name", "span.kind",
	                                       "status.code"};
	for (size_t i = 0; i < cfg->exclude_dimensions.n; i++)
		for (int d = 0; d < 4; d++)
			if (!strcmp(cfg->exclude_dimensions.items[i], defaults[d]))
				a->excl[d] = true;
	return a;
}

void otf_sm_agg_destroy(otf_sm_agg_t *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nseries; i++)
		otf__sm_series_free(&a->series[i]);
	for (size_t i = 0; i < a->nres; i++)
		otf_free(a->res[i].traces);
	otf_free(a->series);
	otf_free(a->res);
	otf_free(a->index);
	otf_free(a->bounds);
	otf_free(a->kb);
	otf_free(a->ck);
	otf_free(a);
}

void otf_sm_agg_stats(const otf_sm_agg_t *a, otf_sm_stats_t *out)
{
	*out = a->st;
	out->series = a->nseries;
	out->resources = a->nres;
}

static bool key_listed(const otf_config_strlist_t *l, otf_bytes_t k)
{
	for (size_t i = 0; i < l->n; i++)
		if (strlen(l->items[i]) == k.len && !memcmp(l->items[i], k.ptr, k.len))
			return true;
	return false;
}

/* Decodes Resource message bytes res (wrapped as a TracesData) with the
 * decoder's checks: the views do not check UTF-8 or AnyValue depth, so a
 * resource or a series key is checked once, when it is first kept, and
 * everything kept decodes at flush. 0 or the decoder's code. */
static int check_resource(const uint8_t *res, size_t n)
{
	size_t inner = 1 + otf__pb_varint_len(n) + n;
	size_t total = 1 + otf__pb_varint_len(inner) + inner;
	uint8_t *t = otf_malloc(total), *p = t;
	if (!t)
		return OTF_E_NOMEM;
	*p++ = 0x0a;
	p = otf__pb_varint_put(p, inner);
	*p++ = 0x0a;
	p = otf__pb_varint_put(p, n);
	memcpy(p, res, n);
	otf_arena_t ar;
	otf_arena_init(&ar, 4096);
	otf_traces_t tr;
	int rc = otf_pdata_decode_traces(&tr, t, total, &ar, NULL, NULL);
	otf_arena_close(&ar);
	otf_free(t);
	return rc;
}

/* The resource entry of ResourceSpans rs (resource bytes head), created
 * when new; -2 with a->err on failure. With resource_metrics_cache_size
 * resources held, the one seen least recently goes first, with its series
 * (the Collector's LRU cache of resource metrics). */
static int64_t resource_get(otf_sm_agg_t *a, otf_bytes_t head, uint64_t now)
{
	const otf_config_strlist_t *keys = &a->cfg->resource_metrics_key_attributes;
	uint64_t h = 0x51ed270b;
	otf_view_iter_t it;
	otf_bytes_t kv, k, v;
	otf_view_resource_attributes(&it, head);
	while (otf_view_iter_next(&it, &kv) > 0) {
		if (keys->n && (otf_view_kv_read(kv, &k, &v) || !key_listed(keys, k)))
			continue;
		h += hash_bytes(kv.ptr, kv.len, 7); /* a sum: attribute order does not matter */
	}
	for (size_t i = 0; i < a->nres; i++)
		if (a->res[i].hash == h) {
			a->res[i].last_seen = now;
			return (int64_t)i;
		}
	if (a->nres && (int64_t)a->nres >= a->cfg->resource_metrics_cache_size) {
		size_t old = 0;
		for (size_t i = 1; i < a->nres; i++)
			if (a->res[i].last_seen < a->res[old].last_seen)
				old = i;
		a->st.evicted_resources++;
		if ((a->err = otf__sm_evict(a, old)))
			return -2;
	}
	if (a->nres == a->cap_res) {
		size_t cap = a->cap_res ? a->cap_res * 2 : 8;
		resource_t *r = otf_realloc(a->res, cap * sizeof *r);
		if (!r) {
			a->err = OTF_E_NOMEM;
			return -2;
		}
		a->res = r;
		a->cap_res = cap;
	}
	size_t inner = 1 + otf__pb_varint_len(head.len) + head.len;
	size_t total = 1 + otf__pb_varint_len(inner) + inner;
	int rc = check_resource(head.ptr, head.len);
	if (rc) {
		a->err = rc;
		return -2;
	}
	uint8_t *t = otf_malloc(total), *p = t;
	if (!t) {
		a->err = OTF_E_NOMEM;
		return -2;
	}
	*p++ = 0x0a;
	p = otf__pb_varint_put(p, inner);
	*p++ = 0x0a;
	p = otf__pb_varint_put(p, head.len);
	memcpy(p, head.ptr, head.len);
	resource_t *r = &a->res[a->nres];
	*r = (resource_t){
	    .hash = h, .traces = t, .traces_len = total, .overflow = -1, .last_seen = now};
	return (int64_t)a->nres++;
}

/* A new series keyed a->ck with the attributes a->kb. */
static series_t *series_new(otf_sm_agg_t *a, uint32_t res, uint64_t hash, uint64_t now,
                            bool overflow)
{
	size_t klen = a->kb_len;
	if (a->nseries == a->cap_series) {
		size_t cap = a->cap_series ? a->cap_series * 2 : 64;
		series_t *s = otf_realloc(a->series, cap * sizeof *s);
		if (!s)
			return NULL;
		a->series = s;
		a->cap_series = cap;
	}
	if ((a->nseries + 1) * 2 > a->index_cap && otf__sm_index_rebuild(a, a->nseries + 1))
		return NULL;
	series_t s = {.hash = hash,
	              .res = res,
	              .key_len = (uint32_t)klen,
	              .start_ns = now,
	              .overflow = overflow};
	s.key = otf_malloc(klen ? klen : 1);
	s.ckey = otf_malloc(a->ck_len ? a->ck_len : 1);
	s.ckey_len = (uint32_t)a->ck_len;
	if (!s.key || !s.ckey)
		goto oom;
	memcpy(s.key, a->kb, klen);
	memcpy(s.ckey, a->ck, a->ck_len);
	if (a->hist && !a->exponential) {
		s.buckets = otf_calloc(a->nbounds + 1, sizeof *s.buckets);
		if (!s.buckets)
			goto oom;
	} else if (a->hist) {
		s.exp = otf_calloc(1, sizeof *s.exp);
		if (!s.exp || !(s.exp->counts = otf_calloc((size_t)a->max_size, sizeof(uint64_t))))
			goto oom;
		s.exp->scale = 20;
	}
	size_t j = hash & (a->index_cap - 1);
	while (a->index[j])
		j = (j + 1) & (a->index_cap - 1);
	a->index[j] = (uint32_t)a->nseries + 1;
	a->series[a->nseries] = s;
	a->res[res].nseries++;
	return &a->series[a->nseries++];
oom:
	otf__sm_series_free(&s);
	return NULL;
}

static series_t *series_lookup(otf_sm_agg_t *a, uint32_t res, uint64_t hash)
{
	size_t j = hash & (a->index_cap - 1);
	for (uint32_t ix; (ix = a->index[j]); j = (j + 1) & (a->index_cap - 1)) {
		series_t *s = &a->series[ix - 1];
		if (s->hash == hash && s->res == res && s->ckey_len == a->ck_len &&
		    !memcmp(s->ckey, a->ck, a->ck_len))
			return s;
	}
	return NULL;
}

/* True when a new series of resource res goes to its overflow series. */
static bool at_limit(const otf_sm_agg_t *a, uint32_t res)
{
	const resource_t *r = &a->res[res];
	int64_t limit = a->cfg->aggregation_cardinality_limit;
	return (limit > 0 && (int64_t)r->nseries - (r->overflow >= 0) >= limit) ||
	       a->nseries >= OTF_SM_MAX_SERIES;
}

/* A series for a span whose key a->ck is new, attributes in a->kb; past
 * the limits, the resource's overflow series. */
static series_t *series_create(otf_sm_agg_t *a, uint32_t res, uint64_t hash, uint64_t now)
{
	resource_t *r = &a->res[res];
	if (!at_limit(a, res))
		return series_new(a, res, hash, now, false);
	/* The Collector's overflow series: one per resource, whose only
	 * attribute is otel.metric.overflow=true. Its compact key, the one
	 * byte 0xff, is no key ck_span writes (those start with a tag < 8). */
	if (r->overflow >= 0)
		return &a->series[r->overflow];
	static const uint8_t t[] = {0x10, 0x01}; /* AnyValue.bool_value = true */
	static const uint8_t ov = 0xff;
	a->kb_len = 0;
	a->ck_len = 0;
	if (kb_kv(a, OVERFLOW_KEY, sizeof OVERFLOW_KEY - 1, t, sizeof t, false) ||
	    ck_put(a, ov, NULL, 0))
		return NULL;
	a->ck_len = 1; /* the tag alone */
	series_t *s = series_new(a, res, hash_bytes(&ov, 1, res), now, true);
	if (s)
		r->overflow = s - a->series;
	return s;
}

static void observe(otf_sm_agg_t *a, series_t *s, double v)
{
	s->calls++;
	if (!a->hist)
		return;
	s->count++;
	s->sum += v;
	if (s->exp) {
		otf__sm_exph_add(s->exp, v, a->max_size);
		return;
	}
	size_t lo = 0, hi = a->nbounds; /* first bound >= v, as sort.SearchFloat64s */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (a->bounds[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	s->buckets[lo]++;
}

static size_t count_spans(otf_bytes_t rs)
{
	size_t n = 0;
	otf_view_iter_t sit, pit;
	otf_bytes_t ss, sp;
	otf_view_scopes(&sit, rs);
	while (otf_view_iter_next(&sit, &ss) > 0) {
		otf_view_records(&pit, ss);
		while (otf_view_iter_next(&pit, &sp) > 0)
			n++;
	}
	return n;
}

/* What a series needs of a span. */
typedef struct span_fields {
	otf_bytes_t name;
	int32_t kind, status_code;
	uint64_t start, end;
} span_fields_t;

static int rd_varint(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	const uint8_t *p = *pp;
	uint64_t r = 0;
	for (int sh = 0; sh < 64; sh += 7) {
		if (p >= end)
			return OTF_E_TRUNCATED;
		uint8_t b = *p++;
		r |= (uint64_t)(b & 0x7f) << sh;
		if (!(b & 0x80)) {
			*pp = p;
			*v = r;
			return 0;
		}
	}
	return OTF_E_VARINT;
}

/* One bounds-checked pass over a Span message (trace.proto: name 5, kind
 * 6, start 7 and end 8 fixed64, attributes 9, status 15 {code 3}) that
 * also picks the dimension attributes (first occurrence, as pcommon's Map
 * Get), instead of otf_view_span_read plus an attribute walk: the span is
 * read once, and a KeyValue is looked into only when its key is one of
 * the dimension names. Errors as the views: OTF_E_TRUNCATED,
 * OTF_E_VARINT, OTF_E_LENGTH, OTF_E_WIRETYPE, OTF_E_FIELD_NUMBER. */
static int scan_span(const otf_sm_agg_t *a, otf_bytes_t sp, span_fields_t *f, otf_bytes_t *sdim,
                     size_t nd)
{
	static const int8_t want[16] = {-1, 2, 2, 2, 2, 2, 0, 1, 1, 2, 0, 2, 0, 2, 0, 2};
	const uint8_t *p = sp.ptr, *end = sp.ptr + sp.len;
	memset(f, 0, sizeof *f);
	memset(sdim, 0, nd * sizeof *sdim);
	while (p < end) {
		uint64_t tag, v;
		int rc = rd_varint(&p, end, &tag);
		if (rc)
			return rc;
		uint64_t field = tag >> 3;
		unsigned wt = (unsigned)(tag & 7);
		if (!field)
			return OTF_E_FIELD_NUMBER;
		if (field < 16 && want[field] >= 0 && (unsigned)want[field] != wt)
			return OTF_E_WIRETYPE;
		switch (wt) {
		case 0:
			if ((rc = rd_varint(&p, end, &v)))
				return rc;
			if (field == 6)
				f->kind = (int32_t)v;
			break;
		case 1:
			if (end - p < 8)
				return OTF_E_TRUNCATED;
			memcpy(&v, p, 8);
			p += 8;
			if (field == 7)
				f->start = v;
			else if (field == 8)
				f->end = v;
			break;
		case 5:
			if (end - p < 4)
				return OTF_E_TRUNCATED;
			p += 4;
			break;
		case 2: {
			if ((rc = rd_varint(&p, end, &v)))
				return rc;
			if (v > (uint64_t)(end - p))
				return OTF_E_LENGTH;
			otf_bytes_t b = {p, (size_t)v};
			p += v;
			if (field == 5) {
				f->name = b;
			} else if (field == 9 && nd && b.len > 2 && b.ptr[0] == 0x0a &&
			           b.ptr[1] < 0x80 && (size_t)b.ptr[1] + 2 <= b.len) {
				/* KeyValue{key = 1, ...} with a short key: compare
				 * the key in place, parse only on a match. */
				size_t kl = b.ptr[1];
				for (size_t d = 0; d < nd; d++) {
					otf_bytes_t k, val;
					if (sdim[d].ptr || a->dlen[d] != kl ||
					    memcmp(a->cfg->dimensions.items[d].name, b.ptr + 2,
					           kl) ||
					    otf_view_kv_read(b, &k, &val))
						continue;
					sdim[d] = val;
					break;
				}
			} else if (field == 9 && nd) {
				otf_bytes_t k, val;
				if (otf_view_kv_read(b, &k, &val) == 0)
					for (size_t d = 0; d < nd; d++)
						if (!sdim[d].ptr && a->dlen[d] == k.len &&
						    !memcmp(a->cfg->dimensions.items[d].name, k.ptr,
						            k.len)) {
							sdim[d] = val;
							break;
						}
			} else if (field == 15) {
				const uint8_t *q = b.ptr, *qe = b.ptr + b.len;
				f->status_code = 0;
				while (q < qe) {
					uint64_t t2, v2;
					if ((rc = rd_varint(&q, qe, &t2)))
						return rc;
					if ((t2 & 7) == 0) {
						if ((rc = rd_varint(&q, qe, &v2)))
							return rc;
						if ((t2 >> 3) == 3)
							f->status_code = (int32_t)v2;
					} else if ((t2 & 7) == 2) {
						if ((rc = rd_varint(&q, qe, &v2)))
							return rc;
						if (v2 > (uint64_t)(qe - q))
							return OTF_E_LENGTH;
						q += v2;
					} else if ((t2 & 7) == 1 || (t2 & 7) == 5) {
						size_t w = (t2 & 7) == 1 ? 8 : 4;
						if ((size_t)(qe - q) < w)
							return OTF_E_TRUNCATED;
						q += w;
					} else {
						return OTF_E_WIRETYPE;
					}
				}
			}
			break;
		}
		default:
			return OTF_E_WIRETYPE;
		}
	}
	return 0;
}

/* The compact lookup key of a span: what tells its series apart, each
 * part a tag, a length and the bytes, in a fixed order (so no two spans
 * of different attributes share one): service name, span name, kind and
 * status (one byte each, out-of-range values as one value, because they
 * all render as ""), each dimension's raw value or a marker for the
 * default or its absence, the scope. The attributes themselves (span_key)
 * are built only for a new series. */
static int ck_span(otf_sm_agg_t *a, otf_bytes_t svc, const span_fields_t *s,
                   const otf_bytes_t *sdim, const otf_bytes_t *rdim, const otf_view_scope_t *scope)
{
	size_t nd = a->cfg->dimensions.n < MAX_DIMS ? a->cfg->dimensions.n : MAX_DIMS;
	uint8_t ks[2] = {
	    (uint8_t)(s->kind >= 0 && s->kind <= 5 ? s->kind : 6),
	    (uint8_t)(s->status_code >= 0 && s->status_code <= 2 ? s->status_code : 3)};
	a->ck_len = 0;
	if ((!a->excl[0] && ck_put(a, 1, svc.ptr, svc.len)) ||
	    (!a->excl[1] && ck_put(a, 2, s->name.ptr, s->name.len)) ||
	    (!a->excl[2] && ck_put(a, 3, ks, 1)) || (!a->excl[3] && ck_put(a, 3, ks + 1, 1)))
		return OTF_E_NOMEM;
	for (size_t d = 0; d < nd; d++) {
		otf_bytes_t val = sdim[d].ptr ? sdim[d] : rdim[d];
		if (ck_put(a, val.ptr ? 4 : 5, val.ptr, val.len))
			return OTF_E_NOMEM;
	}
	if (scope && (ck_put(a, 6, scope->name.ptr, scope->name.len) ||
	              ck_put(a, 7, scope->version.ptr, scope->version.len)))
		return OTF_E_NOMEM;
	return 0;
}

/* The series key of span sp (read into s) of a resource with service name
 * svc and resource dimension values rdim: the attributes in the
 * Collector's order (defaults, dimensions, scope), into a->kb. */
static int span_key(otf_sm_agg_t *a, otf_bytes_t svc, const span_fields_t *s,
                    const otf_bytes_t *sdim, const otf_bytes_t *rdim, const otf_view_scope_t *scope)
{
	static const char *const kinds[] = {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL",
	                                    "SPAN_KIND_SERVER",      "SPAN_KIND_CLIENT",
	                                    "SPAN_KIND_PRODUCER",    "SPAN_KIND_CONSUMER"};
	static const uint8_t kind_len[] = {21, 18, 16, 16, 18, 18};
	static const char *const codes[] = {"STATUS_CODE_UNSET", "STATUS_CODE_OK",
	                                    "STATUS_CODE_ERROR"};
	static const uint8_t code_len[] = {17, 14, 17};
	const otf_sm_config_t *cfg = a->cfg;
	size_t nd = cfg->dimensions.n < MAX_DIMS ? cfg->dimensions.n : MAX_DIMS;
	bool kok = s->kind >= 0 && s->kind <= 5, cok = s->status_code >= 0 && s->status_code <= 2;
	a->kb_len = 0;
	/* traceutil.SpanKindStr / StatusCodeStr: "" for values out of range. */
	if ((!a->excl[0] && kb_kv(a, "service.name", 12, svc.ptr, svc.len, true)) ||
	    (!a->excl[1] && kb_kv(a, "span.name", 9, s->name.ptr, s->name.len, true)) ||
	    (!a->excl[2] && kb_kv(a, "span.kind", 9, (const uint8_t *)(kok ? kinds[s->kind] : ""),
	                          kok ? kind_len[s->kind] : 0, true)) ||
	    (!a->excl[3] &&
	     kb_kv(a, "status.code", 11, (const uint8_t *)(cok ? codes[s->status_code] : ""),
	           cok ? code_len[s->status_code] : 0, true)))
		return OTF_E_NOMEM;
	if (nd) {
		for (size_t d = 0; d < nd; d++) {
			const otf_sm_dimension_t *dim = &cfg->dimensions.items[d];
			otf_bytes_t val = sdim[d].ptr ? sdim[d] : rdim[d];
			int e = 0;
			if (val.ptr)
				e = kb_kv(a, dim->name, a->dlen[d], val.ptr, val.len, false);
			else if (dim->def)
				e = kb_kv(a, dim->name, a->dlen[d], (const uint8_t *)dim->def,
				          strlen(dim->def), true);
			if (e)
				return e;
		}
	}
	if (scope && (kb_kv(a, "span.instrumentation.scope.name", 31, scope->name.ptr,
	                    scope->name.len, true) ||
	              (scope->version.len && kb_kv(a, "span.instrumentation.scope.version", 34,
	                                           scope->version.ptr, scope->version.len, true))))
		return OTF_E_NOMEM;
	return 0;
}

int otf_sm_agg_add(otf_sm_agg_t *a, const uint8_t *data, size_t len, uint64_t now)
{
	const otf_sm_config_t *cfg = a->cfg;
	size_t nd = cfg->dimensions.n < MAX_DIMS ? cfg->dimensions.n : MAX_DIMS;
	otf_bytes_t rdim[MAX_DIMS], sdim[MAX_DIMS];
	otf_view_iter_t rit, sit, pit, ait;
	otf_bytes_t rs, ss, sp, kv, k, v;
	int rc;
	otf_view_resources(&rit, data, len);
	while ((rc = otf_view_iter_next(&rit, &rs)) > 0) {
		otf_view_group_t g;
		if ((rc = otf_view_group_read(rs, &g)))
			return rc;
		otf_bytes_t svc = {0};
		bool has_svc = false;
		memset(rdim, 0, nd * sizeof *rdim);
		otf_view_resource_attributes(&ait, g.head);
		while (otf_view_iter_next(&ait, &kv) > 0) {
			if (otf_view_kv_read(kv, &k, &v))
				continue;
			/* First occurrence wins (pcommon Map Get); a service.name
			 * that is not a string counts as "" (Value.Str()). */
			if (!has_svc && k.len == 12 && !memcmp(k.ptr, "service.name", 12)) {
				otf_view_any_t av;
				has_svc = true;
				if (otf_view_any_read(v, &av) == 0 && av.type == OTF_ANY_STRING)
					svc = av.u.bytes;
			}
			for (size_t d = 0; d < nd; d++)
				if (!rdim[d].ptr && a->dlen[d] == k.len &&
				    !memcmp(cfg->dimensions.items[d].name, k.ptr, k.len))
					rdim[d] = v;
		}
		if (!has_svc) {
			a->st.skipped_spans += count_spans(rs);
			continue;
		}
		int64_t ri = resource_get(a, g.head, now);
		if (ri == -2)
			return a->err; /* out of memory, or a resource the decoder refuses */
		otf_view_scopes(&sit, rs);
		while ((rc = otf_view_iter_next(&sit, &ss)) > 0) {
			otf_view_group_t sg;
			otf_view_scope_t scope = {0};
			bool with_scope = false;
			if (cfg->include_instrumentation_scope.n &&
			    otf_view_group_read(ss, &sg) == 0 &&
			    otf_view_scope_read(sg.head, &scope) == 0 && scope.name.len)
				with_scope =
				    key_listed(&cfg->include_instrumentation_scope, scope.name);
			otf_view_records(&pit, ss);
			while ((rc = otf_view_iter_next(&pit, &sp)) > 0) {
				span_fields_t s;
				if ((rc = scan_span(a, sp, &s, sdim, nd)))
					return rc;
				const otf_view_scope_t *sc = with_scope ? &scope : NULL;
				if ((rc = ck_span(a, svc, &s, sdim, rdim, sc)))
					return rc;
				uint64_t h = hash_bytes(a->ck, a->ck_len, (uint64_t)ri);
				series_t *se = series_lookup(a, (uint32_t)ri, h);
				if (!se) {
					/* Attributes only for a series that will exist. */
					if (!at_limit(a, (uint32_t)ri) &&
					    ((rc = span_key(a, svc, &s, sdim, rdim, sc)) ||
					     (rc = check_resource(a->kb, a->kb_len))))
						return rc;
					if (!(se = series_create(a, (uint32_t)ri, h, now)))
						return OTF_E_NOMEM;
				}
				double dur =
				    s.end > s.start ? (double)(s.end - s.start) / a->divider : 0;
				observe(a, se, dur);
				a->st.spans++;
				a->st.overflow_spans += se->overflow;
			}
			if (rc < 0)
				return rc;
		}
		if (rc < 0)
			return rc;
	}
	return rc;
}
