/* Seeded random generator of pdata trees (see pdata_gen.h). */
#include "pdata_gen.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void otf_gen_init(otf_gen_t *g, uint64_t seed, unsigned size, otf_arena_t *arena)
{
	g->state = seed;
	g->arena = arena;
	g->size = size;
	g->max_depth = 4;
	g->max_string = 12;
}

/* splitmix64: tiny, full-period, and good enough for test input. */
uint64_t otf_gen_u64(otf_gen_t *g)
{
	uint64_t z = (g->state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t otf_gen_below(otf_gen_t *g, uint64_t n)
{
	/* The modulo bias is irrelevant for test data. */
	return otf_gen_u64(g) % n;
}

/* True with probability pct/100. */
static bool chance(otf_gen_t *g, unsigned pct)
{
	return otf_gen_below(g, 100) < pct;
}

static void *alloc_n(otf_gen_t *g, size_t n, size_t size)
{
	if (n == 0)
		return NULL;
	void *p = otf_arena_calloc(g->arena, n, size);
	if (!p) {
		fprintf(stderr, "pdata_gen: out of memory\n");
		abort();
	}
	return p;
}

/* A repeated field's length: often 0 or 1 (the common edge cases), up to
 * g->size. */
static size_t count(otf_gen_t *g)
{
	if (g->size == 0)
		return 0;
	switch (otf_gen_below(g, 4)) {
	case 0:
		return 0;
	case 1:
		return 1;
	default:
		return (size_t)otf_gen_below(g, g->size + 1u);
	}
}

/* Length of a level of the resource/scope/item hierarchy: rarely empty, so
 * most trees reach the leaves (empty levels are still covered). */
static size_t count_main(otf_gen_t *g)
{
	if (g->size == 0 || chance(g, 8))
		return 0;
	return 1 + (size_t)otf_gen_below(g, g->size);
}

/* ---- scalars ---- */

static uint64_t gen_u64(otf_gen_t *g)
{
	static const uint64_t special[] = {
	    0,
	    1,
	    127,
	    128, /* first two-byte varint */
	    16383,
	    16384,
	    0xffffffffull,
	    0x100000000ull,
	    0x7fffffffffffffffull,
	    0x8000000000000000ull,
	    0xffffffffffffffffull,  /* ten-byte varint */
	    1700000000000000000ull, /* a plausible unix-nano time */
	};
	switch (otf_gen_below(g, 4)) {
	case 0:
		return special[otf_gen_below(g, sizeof special / sizeof special[0])];
	case 1:
		return otf_gen_below(g, 300);
	case 2:
		/* any bit length, so every varint size occurs */
		return otf_gen_u64(g) >> otf_gen_below(g, 64);
	default:
		return otf_gen_u64(g);
	}
}

static int64_t gen_i64(otf_gen_t *g)
{
	switch (otf_gen_below(g, 4)) {
	case 0:
		return INT64_MIN;
	case 1:
		return -(int64_t)otf_gen_below(g, 300);
	default:
		return (int64_t)gen_u64(g);
	}
}

static uint32_t gen_u32(otf_gen_t *g)
{
	switch (otf_gen_below(g, 4)) {
	case 0:
		return 0;
	case 1:
		return UINT32_MAX;
	case 2:
		return (uint32_t)otf_gen_below(g, 200);
	default:
		return (uint32_t)(otf_gen_u64(g) >> otf_gen_below(g, 64));
	}
}

static int32_t gen_i32(otf_gen_t *g)
{
	switch (otf_gen_below(g, 5)) {
	case 0:
		return INT32_MIN;
	case 1:
		return INT32_MAX;
	case 2:
		return -(int32_t)otf_gen_below(g, 100);
	case 3:
		return (int32_t)otf_gen_below(g, 100);
	default:
		return (int32_t)(uint32_t)otf_gen_u64(g);
	}
}

/* A known enum value in [0, known) mostly; sometimes an unknown one, which
 * proto3 keeps as is (open enums), negative values included. */
static int32_t gen_enum(otf_gen_t *g, int32_t known)
{
	if (chance(g, 80))
		return (int32_t)otf_gen_below(g, (uint64_t)known);
	return gen_i32(g);
}

static double gen_double(otf_gen_t *g)
{
	static const double special[] = {
	    0.0,      -0.0,      1.0,         -1.0,
	    0.5,      0.1,       1e-300,      1e300,
	    DBL_MAX,  -DBL_MAX,  DBL_MIN,     4.9406564584124654e-324, /* subnormal */
	    1e21,     1e-7,      123456789.0, 9007199254740993.0,
	    INFINITY, -INFINITY,
	};
	double d;
	switch (otf_gen_below(g, 4)) {
	case 0:
		return special[otf_gen_below(g, sizeof special / sizeof special[0])];
	case 1:
		/* short decimals, the common case in real data */
		return (double)((int64_t)otf_gen_below(g, 200001) - 100000) / 100.0;
	default:
		/* any bit pattern except NaN: exercises shortest round-trip
		 * formatting in the JSON encoder */
		do {
			uint64_t bits = otf_gen_u64(g);
			memcpy(&d, &bits, sizeof d);
		} while (isnan(d));
		return d;
	}
}

/* ---- bytes and strings ---- */

static otf_bytes_t gen_raw(otf_gen_t *g, size_t n)
{
	uint8_t *p = alloc_n(g, n, 1);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)otf_gen_u64(g);
	return (otf_bytes_t){p, n};
}

/* Arbitrary bytes (AnyValue.bytes_value): any value, any length. */
static otf_bytes_t gen_bytes(otf_gen_t *g)
{
	if (chance(g, 25))
		return (otf_bytes_t){NULL, 0};
	return gen_raw(g, (size_t)otf_gen_below(g, 2u * g->max_string + 1u));
}

/* An id: the right length, empty, or (rarely) all zero bytes, which is
 * an invalid id for OTLP but a valid encoding the codec must keep. */
static otf_bytes_t gen_id(otf_gen_t *g, size_t len)
{
	unsigned r = (unsigned)otf_gen_below(g, 10);
	if (r < 3)
		return (otf_bytes_t){NULL, 0};
	otf_bytes_t b = gen_raw(g, len);
	if (r == 3)
		memset((void *)b.ptr, 0, len);
	return b;
}

/* One UTF-8 encoded character. The pieces cover every encoded length and
 * the characters JSON must escape. */
static size_t gen_char(otf_gen_t *g, uint8_t *out)
{
	static const char *const pieces[] = {
	    "a",
	    "Z",
	    "0",
	    " ",
	    "\"",
	    "\\",
	    "/",
	    "\n",
	    "\t",
	    "\x01",
	    "\x1f",
	    "\x7f",
	    "\xc3\xa9",         /* U+00E9 */
	    "\xdf\xbf",         /* U+07FF, last two-byte */
	    "\xe0\xa0\x80",     /* U+0800, first three-byte */
	    "\xe2\x82\xac",     /* U+20AC euro */
	    "\xe2\x80\xa8",     /* U+2028, escaped by some JSON writers */
	    "\xed\x9f\xbf",     /* U+D7FF, just below the surrogates */
	    "\xee\x80\x80",     /* U+E000, just above the surrogates */
	    "\xef\xbf\xbf",     /* U+FFFF */
	    "\xf0\x9f\x98\x80", /* U+1F600 */
	    "\xf4\x8f\xbf\xbf", /* U+10FFFF, the last code point */
	};
	if (chance(g, 2)) {
		/* NUL is valid UTF-8 and valid in proto3 strings. */
		out[0] = 0;
		return 1;
	}
	if (chance(g, 60)) {
		static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789._-";
		out[0] = (uint8_t)alnum[otf_gen_below(g, sizeof alnum - 1)];
		return 1;
	}
	const char *p = pieces[otf_gen_below(g, sizeof pieces / sizeof pieces[0])];
	size_t n = strlen(p);
	memcpy(out, p, n);
	return n;
}

static otf_bytes_t gen_string(otf_gen_t *g)
{
	if (chance(g, 25))
		return (otf_bytes_t){NULL, 0};
	size_t chars = 1 + (size_t)otf_gen_below(g, g->max_string);
	uint8_t *p = alloc_n(g, chars, 4);
	size_t n = 0;
	for (size_t i = 0; i < chars; i++)
		n += gen_char(g, p + n);
	return (otf_bytes_t){p, n};
}

/* ---- common ---- */

static void gen_kvlist(otf_gen_t *g, otf_key_value_t **items, size_t *len, unsigned depth);

void otf_gen_any(otf_gen_t *g, otf_any_value_t *v, unsigned depth)
{
	memset(v, 0, sizeof *v);
	/* Containers only while a nested level still fits the depth. */
	unsigned kinds = depth < g->max_depth ? 8 : 6;
	static const otf_any_type_t order[] = {
	    OTF_ANY_EMPTY,  OTF_ANY_STRING, OTF_ANY_BOOL,  OTF_ANY_INT,
	    OTF_ANY_DOUBLE, OTF_ANY_BYTES,  OTF_ANY_ARRAY, OTF_ANY_KVLIST,
	};
	v->type = order[otf_gen_below(g, kinds)];
	switch (v->type) {
	case OTF_ANY_EMPTY:
		break;
	case OTF_ANY_STRING:
		v->u.string_value = gen_string(g);
		break;
	case OTF_ANY_BOOL:
		v->u.bool_value = chance(g, 50);
		break;
	case OTF_ANY_INT:
		v->u.int_value = gen_i64(g);
		break;
	case OTF_ANY_DOUBLE:
		v->u.double_value = gen_double(g);
		break;
	case OTF_ANY_BYTES:
		v->u.bytes_value = gen_bytes(g);
		break;
	case OTF_ANY_ARRAY: {
		size_t n = count(g);
		v->u.array_value.values = alloc_n(g, n, sizeof(otf_any_value_t));
		v->u.array_value.values_len = n;
		for (size_t i = 0; i < n; i++)
			otf_gen_any(g, &v->u.array_value.values[i], depth + 1);
		break;
	}
	case OTF_ANY_KVLIST:
		gen_kvlist(g, &v->u.kvlist_value.values, &v->u.kvlist_value.values_len, depth + 1);
		break;
	}
}

static void gen_kvlist(otf_gen_t *g, otf_key_value_t **items, size_t *len, unsigned depth)
{
	size_t n = count(g);
	*items = alloc_n(g, n, sizeof(otf_key_value_t));
	*len = n;
	for (size_t i = 0; i < n; i++) {
		(*items)[i].key = gen_string(g);
		otf_gen_any(g, &(*items)[i].value, depth);
	}
}

void otf_gen_attributes(otf_gen_t *g, otf_attributes_t *out, unsigned depth)
{
	gen_kvlist(g, &out->items, &out->len, depth);
}

static void gen_attrs(otf_gen_t *g, otf_attributes_t *out)
{
	otf_gen_attributes(g, out, 1);
}

static void gen_string_list(otf_gen_t *g, otf_string_list_t *out)
{
	out->len = count(g);
	out->items = alloc_n(g, out->len, sizeof(otf_bytes_t));
	for (size_t i = 0; i < out->len; i++)
		out->items[i] = gen_string(g);
}

static void gen_resource(otf_gen_t *g, otf_resource_t *r)
{
	if (chance(g, 15))
		return; /* absent resource: all defaults */
	gen_attrs(g, &r->attributes);
	r->dropped_attributes_count = gen_u32(g);
	r->entity_refs_len = count(g);
	r->entity_refs = alloc_n(g, r->entity_refs_len, sizeof(otf_entity_ref_t));
	for (size_t i = 0; i < r->entity_refs_len; i++) {
		otf_entity_ref_t *e = &r->entity_refs[i];
		e->schema_url = gen_string(g);
		e->type = gen_string(g);
		gen_string_list(g, &e->id_keys);
		gen_string_list(g, &e->description_keys);
	}
}

static void gen_scope(otf_gen_t *g, otf_scope_t *s)
{
	if (chance(g, 15))
		return;
	s->name = gen_string(g);
	s->version = gen_string(g);
	gen_attrs(g, &s->attributes);
	s->dropped_attributes_count = gen_u32(g);
}

/* ---- traces ---- */

static void gen_span(otf_gen_t *g, otf_span_t *s)
{
	s->trace_id = gen_id(g, OTF_TRACE_ID_LEN);
	s->span_id = gen_id(g, OTF_SPAN_ID_LEN);
	s->trace_state = gen_string(g);
	s->parent_span_id = gen_id(g, OTF_SPAN_ID_LEN);
	s->flags = gen_u32(g);
	s->name = gen_string(g);
	s->kind = gen_enum(g, 6);
	s->start_time_unix_nano = gen_u64(g);
	s->end_time_unix_nano = gen_u64(g);
	gen_attrs(g, &s->attributes);
	s->dropped_attributes_count = gen_u32(g);
	s->events_len = count(g);
	s->events = alloc_n(g, s->events_len, sizeof(otf_span_event_t));
	for (size_t i = 0; i < s->events_len; i++) {
		otf_span_event_t *e = &s->events[i];
		e->time_unix_nano = gen_u64(g);
		e->name = gen_string(g);
		gen_attrs(g, &e->attributes);
		e->dropped_attributes_count = gen_u32(g);
	}
	s->dropped_events_count = gen_u32(g);
	s->links_len = count(g);
	s->links = alloc_n(g, s->links_len, sizeof(otf_span_link_t));
	for (size_t i = 0; i < s->links_len; i++) {
		otf_span_link_t *l = &s->links[i];
		l->trace_id = gen_id(g, OTF_TRACE_ID_LEN);
		l->span_id = gen_id(g, OTF_SPAN_ID_LEN);
		l->trace_state = gen_string(g);
		gen_attrs(g, &l->attributes);
		l->dropped_attributes_count = gen_u32(g);
		l->flags = gen_u32(g);
	}
	s->dropped_links_count = gen_u32(g);
	if (chance(g, 70)) {
		s->status.message = gen_string(g);
		s->status.code = gen_enum(g, 3);
	}
}

void otf_gen_traces(otf_gen_t *g, otf_traces_t *out)
{
	memset(out, 0, sizeof *out);
	out->resource_spans_len = count_main(g);
	out->resource_spans = alloc_n(g, out->resource_spans_len, sizeof(otf_resource_spans_t));
	for (size_t i = 0; i < out->resource_spans_len; i++) {
		otf_resource_spans_t *rs = &out->resource_spans[i];
		gen_resource(g, &rs->resource);
		rs->scope_spans_len = count_main(g);
		rs->scope_spans = alloc_n(g, rs->scope_spans_len, sizeof(otf_scope_spans_t));
		for (size_t j = 0; j < rs->scope_spans_len; j++) {
			otf_scope_spans_t *ss = &rs->scope_spans[j];
			gen_scope(g, &ss->scope);
			ss->spans_len = count_main(g);
			ss->spans = alloc_n(g, ss->spans_len, sizeof(otf_span_t));
			for (size_t k = 0; k < ss->spans_len; k++)
				gen_span(g, &ss->spans[k]);
			ss->schema_url = gen_string(g);
		}
		rs->schema_url = gen_string(g);
	}
}

/* ---- metrics ---- */

static void gen_exemplars(otf_gen_t *g, otf_exemplars_t *out)
{
	out->len = count(g);
	out->items = alloc_n(g, out->len, sizeof(otf_exemplar_t));
	for (size_t i = 0; i < out->len; i++) {
		otf_exemplar_t *e = &out->items[i];
		gen_attrs(g, &e->filtered_attributes);
		e->time_unix_nano = gen_u64(g);
		e->value_type = (otf_number_type_t)otf_gen_below(g, 3);
		if (e->value_type == OTF_NUMBER_DOUBLE)
			e->value.as_double = gen_double(g);
		else if (e->value_type == OTF_NUMBER_INT)
			e->value.as_int = gen_i64(g);
		e->span_id = gen_id(g, OTF_SPAN_ID_LEN);
		e->trace_id = gen_id(g, OTF_TRACE_ID_LEN);
	}
}

static uint32_t gen_dp_flags(otf_gen_t *g)
{
	return chance(g, 50) ? (uint32_t)otf_gen_below(g, 2) : gen_u32(g);
}

static void gen_number_dp(otf_gen_t *g, otf_number_data_point_t *p)
{
	gen_attrs(g, &p->attributes);
	p->start_time_unix_nano = gen_u64(g);
	p->time_unix_nano = gen_u64(g);
	p->value_type = (otf_number_type_t)otf_gen_below(g, 3);
	/* A set oneof member with value 0 must still be encoded; the
	 * generator produces zeros often enough through the special values. */
	if (p->value_type == OTF_NUMBER_DOUBLE)
		p->value.as_double = gen_double(g);
	else if (p->value_type == OTF_NUMBER_INT)
		p->value.as_int = gen_i64(g);
	gen_exemplars(g, &p->exemplars);
	p->flags = gen_dp_flags(g);
}

static void gen_opt_double(otf_gen_t *g, bool *has, double *v)
{
	*has = chance(g, 60);
	/* An absent optional is 0 in the tree, which is what decoding
	 * produces; a present one may well be 0 (or -0) too. */
	*v = *has ? gen_double(g) : 0.0;
}

static void gen_histogram_dp(otf_gen_t *g, otf_histogram_data_point_t *p)
{
	gen_attrs(g, &p->attributes);
	p->start_time_unix_nano = gen_u64(g);
	p->time_unix_nano = gen_u64(g);
	p->count = gen_u64(g);
	gen_opt_double(g, &p->has_sum, &p->sum);
	/* The codec does not check that bounds = counts - 1, so neither do we:
	 * independent lengths test the packed arrays harder. */
	p->bucket_counts_len = count(g) * 2;
	p->bucket_counts = alloc_n(g, p->bucket_counts_len, sizeof(uint64_t));
	for (size_t i = 0; i < p->bucket_counts_len; i++)
		p->bucket_counts[i] = gen_u64(g);
	p->explicit_bounds_len = count(g) * 2;
	p->explicit_bounds = alloc_n(g, p->explicit_bounds_len, sizeof(double));
	for (size_t i = 0; i < p->explicit_bounds_len; i++)
		p->explicit_bounds[i] = gen_double(g);
	gen_exemplars(g, &p->exemplars);
	p->flags = gen_dp_flags(g);
	gen_opt_double(g, &p->has_min, &p->min);
	gen_opt_double(g, &p->has_max, &p->max);
}

static void gen_exp_buckets(otf_gen_t *g, otf_exp_buckets_t *b)
{
	if (chance(g, 20))
		return;
	b->offset = gen_i32(g);
	b->bucket_counts_len = count(g) * 2;
	b->bucket_counts = alloc_n(g, b->bucket_counts_len, sizeof(uint64_t));
	for (size_t i = 0; i < b->bucket_counts_len; i++)
		b->bucket_counts[i] = gen_u64(g);
}

static void gen_exp_histogram_dp(otf_gen_t *g, otf_exp_histogram_data_point_t *p)
{
	gen_attrs(g, &p->attributes);
	p->start_time_unix_nano = gen_u64(g);
	p->time_unix_nano = gen_u64(g);
	p->count = gen_u64(g);
	gen_opt_double(g, &p->has_sum, &p->sum);
	/* sint32: negative scales are the zigzag case */
	p->scale = chance(g, 50) ? (int32_t)otf_gen_below(g, 31) - 10 : gen_i32(g);
	p->zero_count = gen_u64(g);
	gen_exp_buckets(g, &p->positive);
	gen_exp_buckets(g, &p->negative);
	p->flags = gen_dp_flags(g);
	gen_exemplars(g, &p->exemplars);
	gen_opt_double(g, &p->has_min, &p->min);
	gen_opt_double(g, &p->has_max, &p->max);
	p->zero_threshold = chance(g, 50) ? 0.0 : gen_double(g);
}

static void gen_summary_dp(otf_gen_t *g, otf_summary_data_point_t *p)
{
	gen_attrs(g, &p->attributes);
	p->start_time_unix_nano = gen_u64(g);
	p->time_unix_nano = gen_u64(g);
	p->count = gen_u64(g);
	p->sum = gen_double(g);
	p->quantile_values_len = count(g);
	p->quantile_values = alloc_n(g, p->quantile_values_len, sizeof(otf_quantile_value_t));
	for (size_t i = 0; i < p->quantile_values_len; i++) {
		p->quantile_values[i].quantile = gen_double(g);
		p->quantile_values[i].value = gen_double(g);
	}
	p->flags = gen_dp_flags(g);
}

static void gen_metric(otf_gen_t *g, otf_metric_t *m)
{
	static const otf_metric_type_t types[] = {
	    OTF_METRIC_GAUGE,         OTF_METRIC_SUM,     OTF_METRIC_HISTOGRAM,
	    OTF_METRIC_EXP_HISTOGRAM, OTF_METRIC_SUMMARY, OTF_METRIC_NONE,
	};
	m->name = gen_string(g);
	m->description = gen_string(g);
	m->unit = gen_string(g);
	/* NONE (a metric without data) is rarer than the real kinds. */
	m->type = chance(g, 5) ? OTF_METRIC_NONE : types[otf_gen_below(g, 5)];
	size_t n = m->type == OTF_METRIC_NONE ? 0 : count_main(g);
	m->data_points_len = n;
	switch (m->type) {
	case OTF_METRIC_NONE:
		break;
	case OTF_METRIC_GAUGE:
	case OTF_METRIC_SUM:
		m->data_points.number = alloc_n(g, n, sizeof(otf_number_data_point_t));
		for (size_t i = 0; i < n; i++)
			gen_number_dp(g, &m->data_points.number[i]);
		break;
	case OTF_METRIC_HISTOGRAM:
		m->data_points.histogram = alloc_n(g, n, sizeof(otf_histogram_data_point_t));
		for (size_t i = 0; i < n; i++)
			gen_histogram_dp(g, &m->data_points.histogram[i]);
		break;
	case OTF_METRIC_EXP_HISTOGRAM:
		m->data_points.exp_histogram =
		    alloc_n(g, n, sizeof(otf_exp_histogram_data_point_t));
		for (size_t i = 0; i < n; i++)
			gen_exp_histogram_dp(g, &m->data_points.exp_histogram[i]);
		break;
	case OTF_METRIC_SUMMARY:
		m->data_points.summary = alloc_n(g, n, sizeof(otf_summary_data_point_t));
		for (size_t i = 0; i < n; i++)
			gen_summary_dp(g, &m->data_points.summary[i]);
		break;
	}
	/* Only these kinds have the fields on the wire; elsewhere they stay 0,
	 * as decoding leaves them. */
	if (m->type == OTF_METRIC_SUM || m->type == OTF_METRIC_HISTOGRAM ||
	    m->type == OTF_METRIC_EXP_HISTOGRAM)
		m->aggregation_temporality = gen_enum(g, 3);
	if (m->type == OTF_METRIC_SUM)
		m->is_monotonic = chance(g, 50);
	gen_attrs(g, &m->metadata);
}

void otf_gen_metrics(otf_gen_t *g, otf_metrics_t *out)
{
	memset(out, 0, sizeof *out);
	out->resource_metrics_len = count_main(g);
	out->resource_metrics =
	    alloc_n(g, out->resource_metrics_len, sizeof(otf_resource_metrics_t));
	for (size_t i = 0; i < out->resource_metrics_len; i++) {
		otf_resource_metrics_t *rm = &out->resource_metrics[i];
		gen_resource(g, &rm->resource);
		rm->scope_metrics_len = count_main(g);
		rm->scope_metrics = alloc_n(g, rm->scope_metrics_len, sizeof(otf_scope_metrics_t));
		for (size_t j = 0; j < rm->scope_metrics_len; j++) {
			otf_scope_metrics_t *sm = &rm->scope_metrics[j];
			gen_scope(g, &sm->scope);
			sm->metrics_len = count_main(g);
			sm->metrics = alloc_n(g, sm->metrics_len, sizeof(otf_metric_t));
			for (size_t k = 0; k < sm->metrics_len; k++)
				gen_metric(g, &sm->metrics[k]);
			sm->schema_url = gen_string(g);
		}
		rm->schema_url = gen_string(g);
	}
}

/* ---- logs ---- */

static void gen_log_record(otf_gen_t *g, otf_log_record_t *r)
{
	r->time_unix_nano = gen_u64(g);
	r->observed_time_unix_nano = gen_u64(g);
	r->severity_number = gen_enum(g, 25);
	r->severity_text = gen_string(g);
	otf_gen_any(g, &r->body, 1);
	gen_attrs(g, &r->attributes);
	r->dropped_attributes_count = gen_u32(g);
	r->flags = gen_u32(g);
	r->trace_id = gen_id(g, OTF_TRACE_ID_LEN);
	r->span_id = gen_id(g, OTF_SPAN_ID_LEN);
	r->event_name = gen_string(g);
}

void otf_gen_logs(otf_gen_t *g, otf_logs_t *out)
{
	memset(out, 0, sizeof *out);
	out->resource_logs_len = count_main(g);
	out->resource_logs = alloc_n(g, out->resource_logs_len, sizeof(otf_resource_logs_t));
	for (size_t i = 0; i < out->resource_logs_len; i++) {
		otf_resource_logs_t *rl = &out->resource_logs[i];
		gen_resource(g, &rl->resource);
		rl->scope_logs_len = count_main(g);
		rl->scope_logs = alloc_n(g, rl->scope_logs_len, sizeof(otf_scope_logs_t));
		for (size_t j = 0; j < rl->scope_logs_len; j++) {
			otf_scope_logs_t *sl = &rl->scope_logs[j];
			gen_scope(g, &sl->scope);
			sl->log_records_len = count_main(g);
			sl->log_records = alloc_n(g, sl->log_records_len, sizeof(otf_log_record_t));
			for (size_t k = 0; k < sl->log_records_len; k++)
				gen_log_record(g, &sl->log_records[k]);
			sl->schema_url = gen_string(g);
		}
		rl->schema_url = gen_string(g);
	}
}

void otf_gen_response(otf_gen_t *g, otf_export_response_t *out)
{
	memset(out, 0, sizeof *out);
	out->has_partial_success = chance(g, 70);
	if (!out->has_partial_success)
		return;
	/* present-but-empty partial_success is a distinct wire form */
	if (chance(g, 20))
		return;
	out->rejected = gen_i64(g);
	out->error_message = gen_string(g);
}
