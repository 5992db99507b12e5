/* metricstransform's operations on one metric and the merge of points
 * with equal labels (metricstransform.h; the Collector's
 * metrics_transform_otlp.go and internal/aggregateutil). */
#include "metricstransform.h"

#include "components/processors/internal/series.h"
#include "otflow/err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef OTF_VERSION
#define OTF_VERSION "dev"
#endif

static bool beq(otf_bytes_t b, const char *s)
{
	size_t n = strlen(s);
	return b.len == n && (!n || !memcmp(b.ptr, s, n));
}

static otf_bytes_t bs(const char *s)
{
	return (otf_bytes_t){(const uint8_t *)s, strlen(s)};
}

/* double to int64 saturating (NaN: 0): the cast is undefined outside the
 * range, and a point's double may be anything. */
static int64_t to_i64(double d)
{
	if (d != d)
		return 0;
	if (d >= 9223372036854775807.0)
		return INT64_MAX;
	if (d <= -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)d;
}

static otf_attributes_t *pt_attrs(otf_metric_t *m, size_t i)
{
	switch (m->type) {
	case OTF_METRIC_GAUGE:
	case OTF_METRIC_SUM:
		return &m->data_points.number[i].attributes;
	case OTF_METRIC_HISTOGRAM:
		return &m->data_points.histogram[i].attributes;
	case OTF_METRIC_EXP_HISTOGRAM:
		return &m->data_points.exp_histogram[i].attributes;
	case OTF_METRIC_SUMMARY:
		return &m->data_points.summary[i].attributes;
	default:
		return NULL;
	}
}

static size_t pt_size(otf_metric_type_t t)
{
	switch (t) {
	case OTF_METRIC_HISTOGRAM:
		return sizeof(otf_histogram_data_point_t);
	case OTF_METRIC_EXP_HISTOGRAM:
		return sizeof(otf_exp_histogram_data_point_t);
	case OTF_METRIC_SUMMARY:
		return sizeof(otf_summary_data_point_t);
	default:
		return sizeof(otf_number_data_point_t);
	}
}

static uint8_t *pt_base(otf_metric_t *m)
{
	return (uint8_t *)(void *)m->data_points.number;
}

static otf_key_value_t *find(otf_attributes_t *a, const char *key)
{
	for (size_t i = 0; i < a->len; i++)
		if (beq(a->items[i].key, key))
			return &a->items[i];
	return NULL;
}

/* Sets key to the string value (upsert), growing the list in the arena. */
static int put_str(otf_attributes_t *a, const char *key, otf_bytes_t val, otf_arena_t *ar)
{
	otf_key_value_t *kv = find(a, key);
	if (!kv) {
		otf_key_value_t *items = otf_arena_alloc(ar, (a->len + 1) * sizeof *items);
		if (!items)
			return OTF_E_NOMEM;
		if (a->len)
			memcpy(items, a->items, a->len * sizeof *items);
		a->items = items;
		kv = &items[a->len++];
		kv->key = bs(key);
	}
	kv->value = (otf_any_value_t){.type = OTF_ANY_STRING};
	kv->value.u.string_value = val;
	return 0;
}

static void remove_at(otf_attributes_t *a, size_t i)
{
	memmove(&a->items[i], &a->items[i + 1], (a->len - i - 1) * sizeof a->items[0]);
	a->len--;
}

static int add_label(const otf_mt_op_t *op, otf_metric_t *m, otf_arena_t *ar)
{
	/* {{version}}: the Collector's version there, otflow's here. */
	const char *v = op->new_value;
	const char *at = strstr(v, "{{version}}");
	otf_bytes_t val = bs(v);
	if (at) {
		size_t pre = (size_t)(at - v), ver = strlen(OTF_VERSION), post = strlen(at + 11);
		char *s = otf_arena_alloc(ar, pre + ver + post + 1);
		if (!s)
			return OTF_E_NOMEM;
		memcpy(s, v, pre);
		memcpy(s + pre, OTF_VERSION, ver);
		memcpy(s + pre + ver, at + 11, post + 1);
		val = bs(s);
	}
	for (size_t i = 0; i < m->data_points_len; i++)
		if (put_str(pt_attrs(m, i), op->new_label, val, ar))
			return OTF_E_NOMEM;
	return 0;
}

static void update_label(const otf_mt_op_t *op, otf_metric_t *m)
{
	for (size_t i = 0; i < m->data_points_len; i++) {
		otf_attributes_t *a = pt_attrs(m, i);
		otf_key_value_t *kv = find(a, op->label);
		if (!kv)
			continue;
		if (kv->value.type == OTF_ANY_STRING) {
			for (size_t k = 0; k < op->value_actions.n; k++) {
				const otf_mt_value_action_t *va = OTF_CONFIG_OBJLIST_AT(
				    &op->value_actions, otf_mt_value_action_t, k);
				if (va->value && beq(kv->value.u.string_value, va->value)) {
					kv->value.u.string_value =
					    bs(va->new_value ? va->new_value : "");
					break;
				}
			}
		}
		if (op->new_label && *op->new_label) {
			/* An existing new_label is replaced by the renamed one. */
			otf_key_value_t *old = find(a, op->new_label);
			if (old && old != kv) {
				otf_any_value_t v = kv->value;
				*old = (otf_key_value_t){.key = bs(op->new_label), .value = v};
				remove_at(a, (size_t)(kv - a->items));
			} else {
				kv->key = bs(op->new_label);
			}
		}
	}
}

static void delete_label_value(const otf_mt_op_t *op, otf_metric_t *m)
{
	size_t ps = pt_size(m->type), o = 0;
	uint8_t *base = pt_base(m);
	for (size_t i = 0; i < m->data_points_len; i++) {
		otf_key_value_t *kv = find(pt_attrs(m, i), op->label);
		if (kv && kv->value.type == OTF_ANY_STRING &&
		    beq(kv->value.u.string_value, op->label_value))
			continue;
		if (o != i)
			memcpy(base + o * ps, base + i * ps, ps);
		o++;
	}
	m->data_points_len = o;
}

static void toggle(otf_metric_t *m)
{
	if (m->type != OTF_METRIC_GAUGE && m->type != OTF_METRIC_SUM)
		return;
	for (size_t i = 0; i < m->data_points_len; i++) {
		otf_number_data_point_t *p = &m->data_points.number[i];
		if (p->value_type == OTF_NUMBER_INT) {
			p->value_type = OTF_NUMBER_DOUBLE;
			p->value.as_double = (double)p->value.as_int;
		} else if (p->value_type == OTF_NUMBER_DOUBLE) {
			p->value_type = OTF_NUMBER_INT;
			p->value.as_int = to_i64(p->value.as_double);
		}
	}
}

static void scale(double f, otf_metric_t *m)
{
	for (size_t i = 0; i < m->data_points_len; i++) {
		if (m->type == OTF_METRIC_GAUGE || m->type == OTF_METRIC_SUM) {
			otf_number_data_point_t *p = &m->data_points.number[i];
			if (p->value_type == OTF_NUMBER_INT)
				p->value.as_int = to_i64((double)p->value.as_int * f);
			else
				p->value.as_double *= f;
		} else if (m->type == OTF_METRIC_HISTOGRAM) {
			otf_histogram_data_point_t *p = &m->data_points.histogram[i];
			p->sum *= f;
			p->min *= f;
			p->max *= f;
			for (size_t k = 0; k < p->explicit_bounds_len; k++)
				p->explicit_bounds[k] *= f;
		}
	}
}

static bool in_list(const otf_config_strlist_t *l, otf_bytes_t s)
{
	for (size_t i = 0; i < l->n; i++)
		if (beq(s, l->items[i]))
			return true;
	return false;
}

int otf__mt_op_apply(const otf_mt_op_t *op, otf_metric_t *m, otf_arena_t *a)
{
	switch (op->action) {
	case OTF_MT_ADD_LABEL:
		return add_label(op, m, a);
	case OTF_MT_UPDATE_LABEL:
		update_label(op, m);
		return 0;
	case OTF_MT_DELETE_LABEL_VALUE:
		delete_label_value(op, m);
		return 0;
	case OTF_MT_TOGGLE_SCALAR_DATA_TYPE:
		toggle(m);
		return 0;
	case OTF_MT_SCALE_VALUE:
		scale(op->experimental_scale, m);
		return 0;
	case OTF_MT_AGGREGATE_LABELS:
		for (size_t i = 0; i < m->data_points_len; i++) {
			otf_attributes_t *at = pt_attrs(m, i);
			/* A copy: the list may be shared with the original of an
			 * insert. */
			otf_key_value_t *items =
			    otf_arena_alloc(a, (at->len ? at->len : 1) * sizeof *items);
			if (!items)
				return OTF_E_NOMEM;
			size_t o = 0;
			for (size_t k = 0; k < at->len; k++)
				if (in_list(&op->label_set, at->items[k].key))
					items[o++] = at->items[k];
			*at = (otf_attributes_t){items, o};
		}
		return otf__mt_merge(m, otf__mt_agg_of(op->aggregation_type), a);
	case OTF_MT_AGGREGATE_LABEL_VALUES:
		for (size_t i = 0; i < m->data_points_len; i++) {
			otf_key_value_t *kv = find(pt_attrs(m, i), op->label);
			if (kv && kv->value.type == OTF_ANY_STRING &&
			    in_list(&op->aggregated_values, kv->value.u.string_value))
				kv->value.u.string_value = bs(op->new_value);
		}
		return otf__mt_merge(m, otf__mt_agg_of(op->aggregation_type), a);
	default:
		return 0;
	}
}

/* ---- merge ---- */

typedef struct grp {
	otf_series_key_t k;
	size_t i; /* point index */
} grp_t;

static int grp_cmp(const void *x, const void *y)
{
	const grp_t *a = x, *b = y;
	if (a->k.a != b->k.a)
		return a->k.a < b->k.a ? -1 : 1;
	if (a->k.b != b->k.b)
		return a->k.b < b->k.b ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

static int dbl_cmp(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

static double num(const otf_number_data_point_t *p)
{
	return p->value_type == OTF_NUMBER_INT ? (double)p->value.as_int : p->value.as_double;
}

/* Points g[0..n) (same labels) into *out. */
static void merge_numbers(otf_number_data_point_t *pts, const grp_t *g, size_t n, int agg,
                          double *scratch, otf_number_data_point_t *out)
{
	*out = pts[g[0].i];
	bool is_int = out->value_type == OTF_NUMBER_INT;
	int64_t isum = 0;
	double sum = 0, mn = INFINITY, mx = -INFINITY;
	for (size_t k = 0; k < n; k++) {
		const otf_number_data_point_t *p = &pts[g[k].i];
		double v = num(p);
		if (is_int)
			isum = (int64_t)((uint64_t)isum + (uint64_t)(p->value_type == OTF_NUMBER_INT
			                                                 ? p->value.as_int
			                                                 : to_i64(v)));
		sum += v;
		mn = v < mn ? v : mn;
		mx = v > mx ? v : mx;
		scratch[k] = v;
		if (p->start_time_unix_nano &&
		    (!out->start_time_unix_nano ||
		     p->start_time_unix_nano < out->start_time_unix_nano))
			out->start_time_unix_nano = p->start_time_unix_nano;
		if (p->time_unix_nano > out->time_unix_nano)
			out->time_unix_nano = p->time_unix_nano;
	}
	double r;
	switch (agg) {
	case OTF_MT_MEAN:
		r = is_int ? (double)(isum / (int64_t)n) : sum / (double)n;
		break;
	case OTF_MT_MIN:
		r = mn;
		break;
	case OTF_MT_MAX:
		r = mx;
		break;
	case OTF_MT_COUNT:
		r = (double)n;
		break;
	case OTF_MT_MEDIAN:
		qsort(scratch, n, sizeof *scratch, dbl_cmp);
		r = n % 2 ? scratch[n / 2] : (scratch[n / 2 - 1] + scratch[n / 2]) / 2;
		if (is_int)
			r = (double)to_i64(r);
		break;
	default:
		if (is_int) {
			out->value.as_int = isum;
			return;
		}
		r = sum;
		break;
	}
	if (is_int)
		out->value.as_int = to_i64(r);
	else
		out->value.as_double = r;
}

static bool same_bounds(const otf_histogram_data_point_t *a, const otf_histogram_data_point_t *b)
{
	return a->bucket_counts_len == b->bucket_counts_len &&
	       a->explicit_bounds_len == b->explicit_bounds_len &&
	       (!a->explicit_bounds_len ||
	        !memcmp(a->explicit_bounds, b->explicit_bounds,
	                a->explicit_bounds_len * sizeof *a->explicit_bounds));
}

/* Histograms merge by sum only (as the Collector); points of other
 * bounds stay apart. Returns how many points were written to out. */
static size_t merge_hists(otf_histogram_data_point_t *pts, const grp_t *g, size_t n, otf_arena_t *a,
                          otf_histogram_data_point_t *out, int *rc)
{
	size_t o = 0;
	bool *used = otf_arena_calloc(a, n, sizeof *used);
	if (!used) {
		*rc = OTF_E_NOMEM;
		return 0;
	}
	for (size_t s = 0; s < n; s++) {
		if (used[s])
			continue;
		otf_histogram_data_point_t *r = &out[o++];
		*r = pts[g[s].i];
		uint64_t *b =
		    otf_arena_memdup(a, r->bucket_counts, r->bucket_counts_len * sizeof *b);
		if (!b) {
			*rc = OTF_E_NOMEM;
			return o;
		}
		r->bucket_counts = b;
		for (size_t k = s + 1; k < n; k++) {
			const otf_histogram_data_point_t *p = &pts[g[k].i];
			if (used[k] || !same_bounds(r, p))
				continue;
			used[k] = true;
			r->count += p->count;
			r->sum += p->sum;
			r->has_sum = r->has_sum || p->has_sum;
			for (size_t q = 0; q < r->bucket_counts_len; q++)
				b[q] += p->bucket_counts[q];
			if (p->has_min && (!r->has_min || p->min < r->min)) {
				r->min = p->min;
				r->has_min = true;
			}
			if (p->has_max && (!r->has_max || p->max > r->max)) {
				r->max = p->max;
				r->has_max = true;
			}
			if (p->start_time_unix_nano < r->start_time_unix_nano)
				r->start_time_unix_nano = p->start_time_unix_nano;
			if (p->time_unix_nano > r->time_unix_nano)
				r->time_unix_nano = p->time_unix_nano;
		}
	}
	return o;
}

typedef struct span {
	size_t first, s, e;
} span_t;

static int span_cmp(const void *x, const void *y)
{
	const span_t *a = x, *b = y;
	return a->first < b->first ? -1 : a->first > b->first;
}

int otf__mt_merge(otf_metric_t *m, int agg, otf_arena_t *a)
{
	size_t n = m->data_points_len;
	bool number = m->type == OTF_METRIC_GAUGE || m->type == OTF_METRIC_SUM;
	if (n < 2 || (!number && m->type != OTF_METRIC_HISTOGRAM))
		return 0;
	grp_t *g = otf_arena_alloc(a, n * sizeof *g);
	double *scratch = otf_arena_alloc(a, n * sizeof *scratch);
	uint8_t *out = otf_arena_alloc(a, n * pt_size(m->type));
	if (!g || !scratch || !out)
		return OTF_E_NOMEM;
	for (size_t i = 0; i < n; i++) {
		otf_attributes_t *at = pt_attrs(m, i);
		g[i] = (grp_t){otf__series_point_key((otf_series_key_t){0, 0}, at, 0), i};
	}
	qsort(g, n, sizeof *g, grp_cmp);
	/* Groups in the order of their first point, as the input had them
	 * (within a group the points are in index order: grp_cmp's tie). */
	span_t *sp = otf_arena_alloc(a, n * sizeof *sp);
	if (!sp)
		return OTF_E_NOMEM;
	size_t ng = 0;
	for (size_t i = 0; i < n; i++) {
		if (!i || g[i].k.a != g[i - 1].k.a || g[i].k.b != g[i - 1].k.b)
			sp[ng++] = (span_t){.first = g[i].i, .s = i};
		sp[ng - 1].e = i + 1;
	}
	qsort(sp, ng, sizeof *sp, span_cmp);
	size_t o = 0;
	int rc = 0;
	for (size_t k = 0; k < ng; k++) {
		size_t s = sp[k].s, e = sp[k].e;
		if (number)
			merge_numbers(m->data_points.number, &g[s], e - s, agg, scratch,
			              &((otf_number_data_point_t *)(void *)out)[o++]);
		else
			o += merge_hists(m->data_points.histogram, &g[s], e - s, a,
			                 &((otf_histogram_data_point_t *)(void *)out)[o], &rc);
		if (rc)
			return rc;
	}
	m->data_points.number = (otf_number_data_point_t *)(void *)out;
	m->data_points_len = o;
	return 0;
}
