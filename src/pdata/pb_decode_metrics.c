/* Protobuf decode of metrics (metrics.proto): MetricsData /
 * ExportMetricsServiceRequest, all five data kinds and exemplars.
 *
 * Repeated scalars (histogram bucket_counts and explicit_bounds, exponential
 * histogram bucket counts) are accepted packed and unpacked, in any mix, as
 * protobuf parsers must (otf__pbd_count_scalars, otf__pbd_rep_*). */
#include "pb_decode_internal.h"

static int exemplar(const otf__pbd_t *d, otf_exemplar_t *e, const uint8_t *p, const uint8_t *end)
{
	size_t n[3];
	memset(e, 0, sizeof *e);
	otf__pbd_count(p, end, 7, 0, 0, n);
	int rc = otf__pbd_array(d, (void **)&e->filtered_attributes.items, n[0],
	                        sizeof(otf_key_value_t), p, "filtered_attributes");
	if (OTF_UNLIKELY(rc))
		return rc;
	while (p < end) {
		const uint8_t *at = p;
		uint32_t f, wt;
		uint64_t v = 0;
		rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(d, rc, at, end, 0, 0);
		switch (f) {
		case 2:
			rc = otf__pbd_fixed64(d, &p, end, wt, &e->time_unix_nano, "time_unix_nano");
			break;
		case 3: /* oneof value: the last member wins */
			rc = otf__pbd_double(d, &p, end, wt, &e->value.as_double, "as_double");
			e->value_type = OTF_NUMBER_DOUBLE;
			break;
		case 4:
			rc = otf__pbd_id(d, &p, end, wt, &e->span_id, OTF_SPAN_ID_LEN, "span_id");
			break;
		case 5:
			rc =
			    otf__pbd_id(d, &p, end, wt, &e->trace_id, OTF_TRACE_ID_LEN, "trace_id");
			break;
		case 6:
			rc = otf__pbd_fixed64(d, &p, end, wt, &v, "as_int");
			e->value.as_int = (int64_t)v;
			e->value_type = OTF_NUMBER_INT;
			break;
		case 7:
			rc = otf__pbd_attr(d, &e->filtered_attributes, &p, end, wt,
			                   "filtered_attributes");
			break;
		default:
			rc = otf__pbd_skip(d, &p, end, at, f, wt);
			break;
		}
		if (OTF_UNLIKELY(rc))
			return rc;
	}
	return 0;
}

static int exemplar_elem(const otf__pbd_t *d, otf_exemplars_t *ex, const uint8_t **pp,
                         const uint8_t *end, uint32_t wt)
{
	const uint8_t *s, *se;
	int rc = otf__pbd_len(d, pp, end, wt, &s, &se, "exemplars");
	if (OTF_UNLIKELY(rc))
		return rc;
	rc = exemplar(d, &ex->items[ex->len], s, se);
	if (OTF_UNLIKELY(rc))
		return otf__pbd_push(d, rc, "exemplars", (long)ex->len);
	ex->len++;
	return 0;
}

static int number_dp(const otf__pbd_t *d, otf_number_data_point_t *dp, const uint8_t *p,
                     const uint8_t *end)
{
	size_t n[3];
	memset(dp, 0, sizeof *dp);
	otf__pbd_count(p, end, 7, 5, 0, n);
	int rc = otf__pbd_array(d, (void **)&dp->attributes.items, n[0], sizeof(otf_key_value_t), p,
	                        "attributes");
	if (OTF_LIKELY(!rc))
		rc = otf__pbd_array(d, (void **)&dp->exemplars.items, n[1], sizeof(otf_exemplar_t),
		                    p, "exemplars");
	if (OTF_UNLIKELY(rc))
		return rc;
	while (p < end) {
		const uint8_t *at = p;
		uint32_t f, wt;
		uint64_t v = 0;
		rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(d, rc, at, end, 0, 0);
		switch (f) {
		case 2:
			rc = otf__pbd_fixed64(d, &p, end, wt, &dp->start_time_unix_nano,
			                      "start_time_unix_nano");
			break;
		case 3:
			rc =
			    otf__pbd_fixed64(d, &p, end, wt, &dp->time_unix_nano, "time_unix_nano");
			break;
		case 4: /* oneof value: the last member wins */
			rc = otf__pbd_double(d, &p, end, wt, &dp->value.as_double, "as_double");
			dp->value_type = OTF_NUMBER_DOUBLE;
			break;
		case 5:
			rc = exemplar_elem(d, &dp->exemplars, &p, end, wt);
			break;
		case 6:
			rc = otf__pbd_fixed64(d, &p, end, wt, &v, "as_int");
			dp->value.as_int = (int64_t)v;
			dp->value_type = OTF_NUMBER_INT;
			break;
		case 7:
			rc = otf__pbd_attr(d, &dp->attributes, &p, end, wt, "attributes");
			break;
		case 8:
			rc = otf__pbd_u32(d, &p, end, wt, &dp->flags, "flags");
			break;
		default:
			rc = otf__pbd_skip(d, &p, end, at, f, wt);
			break;
		}
		if (OTF_UNLIKELY(rc))
			return rc;
	}
	return 0;
}

static int histogram_dp(const otf__pbd_t *d, otf_histogram_data_point_t *dp, const uint8_t *p,
                        const uint8_t *end)
{
	size_t n[4];
	memset(dp, 0, sizeof *dp);
	otf__pbd_count_scalars(p, end, 9, 8, 6, 7, true, n);
	int rc = otf__pbd_array(d, (void **)&dp->attributes.items, n[0], sizeof(otf_key_value_t), p,
	                        "attributes");
	if (OTF_LIKELY(!rc))
		rc = otf__pbd_array(d, (void **)&dp->exemplars.items, n[1], sizeof(otf_exemplar_t),
		                    p, "exemplars");
	if (OTF_LIKELY(!rc))
		rc = otf__pbd_array(d, (void **)&dp->bucket_counts, n[2], sizeof(uint64_t), p,
		                    "bucket_counts");
	if (OTF_LIKELY(!rc))
		rc = otf__pbd_array(d, (void **)&dp->explicit_bounds, n[3], sizeof(double), p,
		                    "explicit_bounds");
	if (OTF_UNLIKELY(rc))
		return rc;
	while (p < end) {
		const uint8_t *at = p;
		uint32_t f, wt;
		rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(d, rc, at, end, 0, 0);
		switch (f) {
		case 2:
			rc = otf__pbd_fixed64(d, &p, end, wt, &dp->start_time_unix_nano,
			                      "start_time_unix_nano");
			break;
		case 3:
			rc =
			    otf__pbd_fixed64(d, &p, end, wt, &dp->time_unix_nano, "time_unix_nano");
			break;
		case 4:
			rc = otf__pbd_fixed64(d, &p, end, wt, &dp->count, "count");
			break;
		case 5:
			rc = otf__pbd_double(d, &p, end, wt, &dp->sum, "sum");
			dp->has_sum = true;
			break;
		case 6:
			rc = otf__pbd_rep_fixed64(d, &p, end, wt, dp->bucket_counts,
			                          &dp->bucket_counts_len, "bucket_counts");
			break;
		case 7:
			/* double and uint64 have the same size; the bits are copied. */
			rc = otf__pbd_rep_fixed64(d, &p, end, wt,
			                          (uint64_t *)(void *)dp->explicit_bounds,
			                          &dp->explicit_bounds_len, "explicit_bounds");
			break;
		case 8:
			rc = exemplar_elem(d, &dp->exemplars, &p, end, wt);
			break;
		case 9:
			rc = otf__pbd_attr(d, &dp->attributes, &p, end, wt, "attributes");
			break;
		case 10:
			rc = otf__pbd_u32(d, &p, end, wt, &dp->flags, "flags");
			break;
		case 11:
			rc = otf__pbd_double(d, &p, end, wt, &dp->min, "min");
			dp->has_min = true;
			break;
		case 12:
			rc = otf__pbd_double(d, &p, end, wt, &dp->max, "max");
			dp->has_max = true;
			break;
		default:
			rc = otf__pbd_skip(d, &p, end, at, f, wt);
			break;
		}
		if (OTF_UNLIKELY(rc))
			return rc;
	}
	return 0;
}

static int exp_buckets(const otf__pbd_t *d, otf_exp_buckets_t *b, const uint8_t *p,
                       const uint8_t *end)
{
	size_t n[4];
	memset(b, 0, sizeof *b);
	otf__pbd_count_scalars(p, end, 0, 0, 2, 0, false, n);
	int rc = otf__pbd_array(d, (void **)&b->bucket_counts, n[2], sizeof(uint64_t), p,
	                        "bucket_counts");
	if (OTF_UNLIKELY(rc))
		return rc;
	while (p < end) {
		const uint8_t *at = p;
		uint32_t f, wt;
		rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(d, rc, at, end, 0, 0);
		if (f == 1)
			rc = otf__pbd_s32(d, &p, end, wt, &b->offset, "offset");
		else if (f == 2)
			rc = otf__pbd_rep_varint(d, &p, end, wt, b->bucket_counts,
			                         &b->bucket_counts_len, "bucket_counts");
		else
			rc = otf__pbd_skip(d, &p, end, at, f, wt);
		if (OTF_UNLIKELY(rc))
			return rc;
	}
	return 0;
}

static int exp_histogram_dp(const otf__pbd_t *d, otf_exp_histogram_data_point_t *dp,
                            const uint8_t *p, const uint8_t *end)
{
	size_t n[3];
	memset(dp, 0, sizeof *dp);
	otf__pbd_count(p, end, 1, 11, 0, n);
	int rc = otf__pbd_array(d, (void **)&dp->attributes.items, n[0], sizeof(otf_key_value_t), p,
	                        "attributes");
	if (OTF_LIKELY(!rc))
		rc = otf__pbd_array(d, (void **)&dp->exemplars.items, n[1], sizeof(otf_exemplar_t),
		                    p, "exemplars");
	if (OTF_UNLIKELY(rc))
		return rc;
	while (p < end) {
		const uint8_t *at = p, *m, *me;
		uint32_t f, wt;
		rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(d, rc, at, end, 0, 0);
		switch (f) {
		case 1:
			rc = otf__pbd_attr(d, &dp->attributes, &p, end, wt, "attributes");
			break;
		case 2:
			rc = otf__pbd_fixed64(d, &p, end, wt, &dp->start_time_unix_nano,
			                      "start_time_unix_nano");
			break;
		case 3:
			rc =
			    otf__pbd_fixed64(d, &p, end, wt, &dp->time_unix_nano, "time_unix_nano");
			break;
		case 4:
			rc = otf__pbd_fixed64(d, &p, end, wt, &dp->count, "count");
			break;
		case 5:
			rc = otf__pbd_double(d, &p, end, wt, &dp->sum, "sum");
			dp->has_sum = true;
			break;
		case 6:
			rc = otf__pbd_s32(d, &p, end, wt, &dp->scale, "scale");
			break;
		case 7:
			rc = otf__pbd_fixed64(d, &p, end, wt, &dp->zero_count, "zero_count");
			break;
		case 8:
		case 9: {
			const char *name = f == 8 ? "positive" : "negative";
			rc = otf__pbd_len(d, &p, end, wt, &m, &me, name);
			if (OTF_UNLIKELY(rc))
				return rc;
			rc = exp_buckets(d, f == 8 ? &dp->positive : &dp->negative, m, me);
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(d, rc, name, -1);
			break;
		}
		case 10:
			rc = otf__pbd_u32(d, &p, end, wt, &dp->flags, "flags");
			break;
		case 11:
			rc = exemplar_elem(d, &dp->exemplars, &p, end, wt);
			break;
		case 12:
			rc = otf__pbd_double(d, &p, end, wt, &dp->min, "min");
			dp->has_min = true;
			break;
		case 13:
			rc = otf__pbd_double(d, &p, end, wt, &dp->max, "max");
			dp->has_max = true;
			break;
		case 14:
			rc = otf__pbd_double(d, &p, end, wt, &dp->zero_threshold, "zero_threshold");
			break;
		default:
			rc = otf__pbd_skip(d, &p, end, at, f, wt);
			break;
		}
		if (OTF_UNLIKELY(rc))
			return rc;
	}
	return 0;
}

static int quantile(const otf__pbd_t *d, otf_quantile_value_t *q, const uint8_t *p,
                    const uint8_t *end)
{
	q->quantile = 0;
	q->value = 0;
	while (p < end) {
		const uint8_t *at = p;
		uint32_t f, wt;
		int rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(d, rc, at, end, 0, 0);
		if (f == 1)
			rc = otf__pbd_double(d, &p, end, wt, &q->quantile, "quantile");
		else if (f == 2)
			rc = otf__pbd_double(d, &p, end, wt, &q->value, "value");
		else
			rc = otf__pbd_skip(d, &p, end, at, f, wt);
		if (OTF_UNLIKELY(rc))
			return rc;
	}
	return 0;
}

static int summary_dp(const otf__pbd_t *d, otf_summary_data_point_t *dp, const uint8_t *p,
                      const uint8_t *end)
{
	size_t n[3];
	memset(dp, 0, sizeof *dp);
	otf__pbd_count(p, end, 7, 6, 0, n);
	int rc = otf__pbd_array(d, (void **)&dp->attributes.items, n[0], sizeof(otf_key_value_t), p,
	                        "attributes");
	if (OTF_LIKELY(!rc))
		rc = otf__pbd_array(d, (void **)&dp->quantile_values, n[1],
		                    sizeof(otf_quantile_value_t), p, "quantile_values");
	if (OTF_UNLIKELY(rc))
		return rc;
	while (p < end) {
		const uint8_t *at = p, *m, *me;
		uint32_t f, wt;
		rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(d, rc, at, end, 0, 0);
		switch (f) {
		case 2:
			rc = otf__pbd_fixed64(d, &p, end, wt, &dp->start_time_unix_nano,
			                      "start_time_unix_nano");
			break;
		case 3:
			rc =
			    otf__pbd_fixed64(d, &p, end, wt, &dp->time_unix_nano, "time_unix_nano");
			break;
		case 4:
			rc = otf__pbd_fixed64(d, &p, end, wt, &dp->count, "count");
			break;
		case 5:
			rc = otf__pbd_double(d, &p, end, wt, &dp->sum, "sum");
			break;
		case 6:
			rc = otf__pbd_len(d, &p, end, wt, &m, &me, "quantile_values");
			if (OTF_UNLIKELY(rc))
				return rc;
			rc = quantile(d, &dp->quantile_values[dp->quantile_values_len], m, me);
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(d, rc, "quantile_values",
				                     (long)dp->quantile_values_len);
			dp->quantile_values_len++;
			break;
		case 7:
			rc = otf__pbd_attr(d, &dp->attributes, &p, end, wt, "attributes");
			break;
		case 8:
			rc = otf__pbd_u32(d, &p, end, wt, &dp->flags, "flags");
			break;
		default:
			rc = otf__pbd_skip(d, &p, end, at, f, wt);
			break;
		}
		if (OTF_UNLIKELY(rc))
			return rc;
	}
	return 0;
}

/* Gauge, Sum, Histogram, ExponentialHistogram or Summary: data_points = 1,
 * aggregation_temporality = 2 (all but Gauge and Summary), is_monotonic = 3
 * (Sum). The oneof's last member wins, so everything it sets is reset. */
static int metric_data(const otf__pbd_t *d, otf_metric_t *m, otf_metric_type_t type,
                       const uint8_t *p, const uint8_t *end)
{
	static const size_t dp_size[] = {
	    [OTF_METRIC_GAUGE] = sizeof(otf_number_data_point_t),
	    [OTF_METRIC_SUM] = sizeof(otf_number_data_point_t),
	    [OTF_METRIC_HISTOGRAM] = sizeof(otf_histogram_data_point_t),
	    [OTF_METRIC_EXP_HISTOGRAM] = sizeof(otf_exp_histogram_data_point_t),
	    [OTF_METRIC_SUMMARY] = sizeof(otf_summary_data_point_t),
	};
	size_t n[3];
	void *arr;
	m->type = type;
	m->data_points.number = NULL;
	m->data_points_len = 0;
	m->aggregation_temporality = 0;
	m->is_monotonic = false;
	otf__pbd_count(p, end, 1, 0, 0, n);
	int rc = otf__pbd_array(d, &arr, n[0], dp_size[type], p, "data_points");
	if (OTF_UNLIKELY(rc))
		return rc;
	bool has_temporality = type == OTF_METRIC_SUM || type == OTF_METRIC_HISTOGRAM ||
	                       type == OTF_METRIC_EXP_HISTOGRAM;
	size_t i = 0;
	while (p < end) {
		const uint8_t *at = p, *s, *se;
		uint32_t f, wt;
		uint64_t v = 0;
		rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(d, rc, at, end, 0, 0);
		if (f == 1) {
			rc = otf__pbd_len(d, &p, end, wt, &s, &se, "data_points");
			if (OTF_UNLIKELY(rc))
				return rc;
			switch (type) {
			case OTF_METRIC_HISTOGRAM:
				rc = histogram_dp(d, (otf_histogram_data_point_t *)arr + i, s, se);
				break;
			case OTF_METRIC_EXP_HISTOGRAM:
				rc = exp_histogram_dp(d, (otf_exp_histogram_data_point_t *)arr + i,
				                      s, se);
				break;
			case OTF_METRIC_SUMMARY:
				rc = summary_dp(d, (otf_summary_data_point_t *)arr + i, s, se);
				break;
			default:
				rc = number_dp(d, (otf_number_data_point_t *)arr + i, s, se);
				break;
			}
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(d, rc, "data_points", (long)i);
			i++;
		} else if (f == 2 && has_temporality) {
			rc = otf__pbd_i32(d, &p, end, wt, &m->aggregation_temporality,
			                  "aggregation_temporality");
		} else if (f == 3 && type == OTF_METRIC_SUM) {
			rc = otf__pbd_varint(d, &p, end, wt, &v, "is_monotonic");
			m->is_monotonic = v != 0;
		} else {
			rc = otf__pbd_skip(d, &p, end, at, f, wt);
		}
		if (OTF_UNLIKELY(rc))
			return rc;
	}
	m->data_points.number = arr; /* any member: the union holds one pointer */
	m->data_points_len = i;
	return 0;
}

static int metric(const otf__pbd_t *d, otf_metric_t *m, const uint8_t *p, const uint8_t *end)
{
	static const char *const data_name[] = {
	    [OTF_METRIC_GAUGE] = "gauge",
	    [OTF_METRIC_SUM] = "sum",
	    [OTF_METRIC_HISTOGRAM] = "histogram",
	    [OTF_METRIC_EXP_HISTOGRAM] = "exponential_histogram",
	    [OTF_METRIC_SUMMARY] = "summary",
	};
	size_t n[3];
	memset(m, 0, sizeof *m);
	otf__pbd_count(p, end, 12, 0, 0, n);
	int rc = otf__pbd_array(d, (void **)&m->metadata.items, n[0], sizeof(otf_key_value_t), p,
	                        "metadata");
	if (OTF_UNLIKELY(rc))
		return rc;
	while (p < end) {
		const uint8_t *at = p, *s, *se;
		uint32_t f, wt;
		rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(d, rc, at, end, 0, 0);
		switch (f) {
		case 1:
			rc = otf__pbd_str(d, &p, end, wt, &m->name, "name");
			break;
		case 2:
			rc = otf__pbd_str(d, &p, end, wt, &m->description, "description");
			break;
		case 3:
			rc = otf__pbd_str(d, &p, end, wt, &m->unit, "unit");
			break;
		case OTF_METRIC_GAUGE:
		case OTF_METRIC_SUM:
		case OTF_METRIC_HISTOGRAM:
		case OTF_METRIC_EXP_HISTOGRAM:
		case OTF_METRIC_SUMMARY:
			rc = otf__pbd_len(d, &p, end, wt, &s, &se, data_name[f]);
			if (OTF_UNLIKELY(rc))
				return rc;
			rc = metric_data(d, m, (otf_metric_type_t)f, s, se);
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(d, rc, data_name[f], -1);
			break;
		case 12:
			rc = otf__pbd_attr(d, &m->metadata, &p, end, wt, "metadata");
			break;
		default:
			rc = otf__pbd_skip(d, &p, end, at, f, wt);
			break;
		}
		if (OTF_UNLIKELY(rc))
			return rc;
	}
	return 0;
}

static int metric_elem(const otf__pbd_t *d, void *e, const uint8_t *p, const uint8_t *end)
{
	return metric(d, e, p, end);
}

static const otf__pbd_group_desc_t k_scope_metrics = {false, "metrics", sizeof(otf_metric_t),
                                                      metric_elem};

static int scope_metrics(const otf__pbd_t *d, void *e, const uint8_t *p, const uint8_t *end)
{
	otf_scope_metrics_t *g = e;
	memset(g, 0, sizeof *g);
	return otf__pbd_group(d, &k_scope_metrics, &g->scope, (void **)&g->metrics, &g->metrics_len,
	                      &g->schema_url, p, end);
}

static const otf__pbd_group_desc_t k_resource_metrics = {
    true, "scope_metrics", sizeof(otf_scope_metrics_t), scope_metrics};

static int resource_metrics(const otf__pbd_t *d, otf_resource_metrics_t *g, const uint8_t *p,
                            const uint8_t *end)
{
	memset(g, 0, sizeof *g);
	return otf__pbd_group(d, &k_resource_metrics, &g->resource, (void **)&g->scope_metrics,
	                      &g->scope_metrics_len, &g->schema_url, p, end);
}

int otf_pdata_decode_metrics(otf_metrics_t *out, const uint8_t *data, size_t len,
                             otf_arena_t *arena, const otf_pdata_limits_t *limits,
                             otf_pdata_error_t *err)
{
	otf__pbd_t d;
	int rc = otf__pbd_begin(&d, out, data, len, arena, limits, err);
	if (OTF_UNLIKELY(rc))
		return rc;
	const uint8_t *p = d.base, *end = d.base + len;
	size_t n[3];
	memset(out, 0, sizeof *out);
	otf__pbd_count(p, end, 1, 0, 0, n);
	rc = otf__pbd_array(&d, (void **)&out->resource_metrics, n[0],
	                    sizeof(otf_resource_metrics_t), p, "resource_metrics");
	if (OTF_UNLIKELY(rc))
		return rc;
	while (p < end) {
		const uint8_t *at = p, *m, *me;
		uint32_t f, wt;
		rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(&d, rc, at, end, 0, 0);
		if (f == 1) {
			rc = otf__pbd_len(&d, &p, end, wt, &m, &me, "resource_metrics");
			if (OTF_UNLIKELY(rc))
				return rc;
			rc = resource_metrics(&d, &out->resource_metrics[out->resource_metrics_len],
			                      m, me);
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(&d, rc, "resource_metrics",
				                     (long)out->resource_metrics_len);
			out->resource_metrics_len++;
		} else {
			rc = otf__pbd_skip(&d, &p, end, at, f, wt);
			if (OTF_UNLIKELY(rc))
				return rc;
		}
	}
	return 0;
}
