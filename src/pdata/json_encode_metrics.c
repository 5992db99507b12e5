/* OTLP/JSON encoding of metrics (ExportMetricsServiceRequest / MetricsData). */
#include "json_internal.h"

#include "otflow/err.h"

static void exemplars(otf__jw *w, const otf_exemplars_t *ex)
{
	if (!ex->len)
		return;
	otf__jw_key(w, "exemplars");
	otf__jw_ch(w, '[');
	for (size_t i = 0; i < ex->len && !w->err; i++) {
		const otf_exemplar_t *e = &ex->items[i];
		otf__jw_sep(w);
		otf__jw_ch(w, '{');
		otf__jw_f_attributes(w, "filteredAttributes", &e->filtered_attributes);
		otf__jw_f_u64s(w, "timeUnixNano", e->time_unix_nano);
		/* oneof members are written whenever set, even when zero. */
		if (e->value_type == OTF_NUMBER_DOUBLE) {
			otf__jw_key(w, "asDouble");
			otf__jw_double(w, e->value.as_double);
		} else if (e->value_type == OTF_NUMBER_INT) {
			otf__jw_key(w, "asInt");
			otf__jw_i64s(w, e->value.as_int);
		}
		otf__jw_f_id(w, "spanId", e->span_id, OTF_SPAN_ID_LEN);
		otf__jw_f_id(w, "traceId", e->trace_id, OTF_TRACE_ID_LEN);
		otf__jw_ch(w, '}');
	}
	otf__jw_ch(w, ']');
}

static void u64_array(otf__jw *w, const char *key, const uint64_t *v, size_t n)
{
	if (!n)
		return;
	otf__jw_key(w, key);
	otf__jw_ch(w, '[');
	for (size_t i = 0; i < n; i++) {
		otf__jw_sep(w);
		otf__jw_u64s(w, v[i]);
	}
	otf__jw_ch(w, ']');
}

static void double_array(otf__jw *w, const char *key, const double *v, size_t n)
{
	if (!n)
		return;
	otf__jw_key(w, key);
	otf__jw_ch(w, '[');
	for (size_t i = 0; i < n; i++) {
		otf__jw_sep(w);
		otf__jw_double(w, v[i]);
	}
	otf__jw_ch(w, ']');
}

/* An optional double: written whenever present, zero included. */
static void opt_double(otf__jw *w, const char *key, bool has, double v)
{
	if (!has)
		return;
	otf__jw_key(w, key);
	otf__jw_double(w, v);
}

static void number_dp(otf__jw *w, const otf_number_data_point_t *p)
{
	otf__jw_ch(w, '{');
	otf__jw_f_attributes(w, "attributes", &p->attributes);
	otf__jw_f_u64s(w, "startTimeUnixNano", p->start_time_unix_nano);
	otf__jw_f_u64s(w, "timeUnixNano", p->time_unix_nano);
	if (p->value_type == OTF_NUMBER_DOUBLE) {
		otf__jw_key(w, "asDouble");
		otf__jw_double(w, p->value.as_double);
	} else if (p->value_type == OTF_NUMBER_INT) {
		otf__jw_key(w, "asInt");
		otf__jw_i64s(w, p->value.as_int);
	}
	exemplars(w, &p->exemplars);
	otf__jw_f_u32(w, "flags", p->flags);
	otf__jw_ch(w, '}');
}

static void histogram_dp(otf__jw *w, const otf_histogram_data_point_t *p)
{
	otf__jw_ch(w, '{');
	otf__jw_f_attributes(w, "attributes", &p->attributes);
	otf__jw_f_u64s(w, "startTimeUnixNano", p->start_time_unix_nano);
	otf__jw_f_u64s(w, "timeUnixNano", p->time_unix_nano);
	otf__jw_f_u64s(w, "count", p->count);
	opt_double(w, "sum", p->has_sum, p->sum);
	u64_array(w, "bucketCounts", p->bucket_counts, p->bucket_counts_len);
	double_array(w, "explicitBounds", p->explicit_bounds, p->explicit_bounds_len);
	exemplars(w, &p->exemplars);
	otf__jw_f_u32(w, "flags", p->flags);
	opt_double(w, "min", p->has_min, p->min);
	opt_double(w, "max", p->has_max, p->max);
	otf__jw_ch(w, '}');
}

static void exp_buckets(otf__jw *w, const char *key, const otf_exp_buckets_t *b)
{
	/* No presence bit in the tree: all-default buckets are written as absent. */
	if (!b->offset && !b->bucket_counts_len)
		return;
	otf__jw_key(w, key);
	otf__jw_ch(w, '{');
	otf__jw_f_i32(w, "offset", b->offset);
	u64_array(w, "bucketCounts", b->bucket_counts, b->bucket_counts_len);
	otf__jw_ch(w, '}');
}

static void exp_histogram_dp(otf__jw *w, const otf_exp_histogram_data_point_t *p)
{
	otf__jw_ch(w, '{');
	otf__jw_f_attributes(w, "attributes", &p->attributes);
	otf__jw_f_u64s(w, "startTimeUnixNano", p->start_time_unix_nano);
	otf__jw_f_u64s(w, "timeUnixNano", p->time_unix_nano);
	otf__jw_f_u64s(w, "count", p->count);
	opt_double(w, "sum", p->has_sum, p->sum);
	otf__jw_f_i32(w, "scale", p->scale);
	otf__jw_f_u64s(w, "zeroCount", p->zero_count);
	exp_buckets(w, "positive", &p->positive);
	exp_buckets(w, "negative", &p->negative);
	otf__jw_f_u32(w, "flags", p->flags);
	exemplars(w, &p->exemplars);
	opt_double(w, "min", p->has_min, p->min);
	opt_double(w, "max", p->has_max, p->max);
	otf__jw_f_double(w, "zeroThreshold", p->zero_threshold);
	otf__jw_ch(w, '}');
}

static void summary_dp(otf__jw *w, const otf_summary_data_point_t *p)
{
	otf__jw_ch(w, '{');
	otf__jw_f_attributes(w, "attributes", &p->attributes);
	otf__jw_f_u64s(w, "startTimeUnixNano", p->start_time_unix_nano);
	otf__jw_f_u64s(w, "timeUnixNano", p->time_unix_nano);
	otf__jw_f_u64s(w, "count", p->count);
	otf__jw_f_double(w, "sum", p->sum);
	if (p->quantile_values_len) {
		otf__jw_key(w, "quantileValues");
		otf__jw_ch(w, '[');
		for (size_t i = 0; i < p->quantile_values_len; i++) {
			otf__jw_sep(w);
			otf__jw_ch(w, '{');
			otf__jw_f_double(w, "quantile", p->quantile_values[i].quantile);
			otf__jw_f_double(w, "value", p->quantile_values[i].value);
			otf__jw_ch(w, '}');
		}
		otf__jw_ch(w, ']');
	}
	otf__jw_f_u32(w, "flags", p->flags);
	otf__jw_ch(w, '}');
}

static void data_points(otf__jw *w, const otf_metric_t *m)
{
	if (!m->data_points_len)
		return;
	otf__jw_key(w, "dataPoints");
	otf__jw_ch(w, '[');
	for (size_t i = 0; i < m->data_points_len && !w->err; i++) {
		otf__jw_sep(w);
		switch (m->type) {
		case OTF_METRIC_GAUGE:
		case OTF_METRIC_SUM:
			number_dp(w, &m->data_points.number[i]);
			break;
		case OTF_METRIC_HISTOGRAM:
			histogram_dp(w, &m->data_points.histogram[i]);
			break;
		case OTF_METRIC_EXP_HISTOGRAM:
			exp_histogram_dp(w, &m->data_points.exp_histogram[i]);
			break;
		case OTF_METRIC_SUMMARY:
			summary_dp(w, &m->data_points.summary[i]);
			break;
		case OTF_METRIC_NONE:
			break;
		}
	}
	otf__jw_ch(w, ']');
}

static void metric(otf__jw *w, const otf_metric_t *m)
{
	otf__jw_ch(w, '{');
	otf__jw_f_str(w, "name", m->name);
	otf__jw_f_str(w, "description", m->description);
	otf__jw_f_str(w, "unit", m->unit);
	const char *key = NULL;
	switch (m->type) {
	case OTF_METRIC_GAUGE:
		key = "gauge";
		break;
	case OTF_METRIC_SUM:
		key = "sum";
		break;
	case OTF_METRIC_HISTOGRAM:
		key = "histogram";
		break;
	case OTF_METRIC_EXP_HISTOGRAM:
		key = "exponentialHistogram";
		break;
	case OTF_METRIC_SUMMARY:
		key = "summary";
		break;
	case OTF_METRIC_NONE:
		break;
	}
	if (key) {
		otf__jw_key(w, key);
		otf__jw_ch(w, '{');
		data_points(w, m);
		if (m->type == OTF_METRIC_SUM || m->type == OTF_METRIC_HISTOGRAM ||
		    m->type == OTF_METRIC_EXP_HISTOGRAM)
			otf__jw_f_i32(w, "aggregationTemporality", m->aggregation_temporality);
		if (m->type == OTF_METRIC_SUM && m->is_monotonic) {
			otf__jw_key(w, "isMonotonic");
			otf__jw_raw(w, "true", 4);
		}
		otf__jw_ch(w, '}');
	}
	otf__jw_f_attributes(w, "metadata", &m->metadata);
	otf__jw_ch(w, '}');
}

static void scope_metrics(otf__jw *w, const otf_scope_metrics_t *sm)
{
	otf__jw_ch(w, '{');
	otf__jw_f_scope(w, &sm->scope);
	if (sm->metrics_len) {
		otf__jw_key(w, "metrics");
		otf__jw_ch(w, '[');
		for (size_t i = 0; i < sm->metrics_len && !w->err; i++) {
			otf__jw_sep(w);
			metric(w, &sm->metrics[i]);
		}
		otf__jw_ch(w, ']');
	}
	otf__jw_f_str(w, "schemaUrl", sm->schema_url);
	otf__jw_ch(w, '}');
}

int otf_pdata_json_encode_metrics(const otf_metrics_t *in, otf_buf_t **out)
{
	otf__jw w;
	int rc = otf__jw_init(&w, 1024);
	if (rc)
		return rc;
	otf__jw_ch(&w, '{');
	if (in->resource_metrics_len) {
		otf__jw_key(&w, "resourceMetrics");
		otf__jw_ch(&w, '[');
		for (size_t i = 0; i < in->resource_metrics_len && !w.err; i++) {
			const otf_resource_metrics_t *rm = &in->resource_metrics[i];
			otf__jw_sep(&w);
			otf__jw_ch(&w, '{');
			otf__jw_f_resource(&w, &rm->resource);
			if (rm->scope_metrics_len) {
				otf__jw_key(&w, "scopeMetrics");
				otf__jw_ch(&w, '[');
				for (size_t j = 0; j < rm->scope_metrics_len && !w.err; j++) {
					otf__jw_sep(&w);
					scope_metrics(&w, &rm->scope_metrics[j]);
				}
				otf__jw_ch(&w, ']');
			}
			otf__jw_f_str(&w, "schemaUrl", rm->schema_url);
			otf__jw_ch(&w, '}');
		}
		otf__jw_ch(&w, ']');
	}
	otf__jw_ch(&w, '}');
	return otf__jw_finish(&w, out);
}
