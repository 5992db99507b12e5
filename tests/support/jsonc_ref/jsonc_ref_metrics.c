/* OTLP/JSON decoding of metrics (ExportMetricsServiceRequest / MetricsData). */
#include "jsonc_ref_internal.h"

#include "otflow/err.h"
#include "pdata_err.h"

static const char *const temporality_names[] = {
    "AGGREGATION_TEMPORALITY_UNSPECIFIED",
    "AGGREGATION_TEMPORALITY_DELTA",
    "AGGREGATION_TEMPORALITY_CUMULATIVE",
};

static int temporality(ref__jdec *d, json_object *v, int32_t *out)
{
	return ref__jdec_enum(d, v, temporality_names,
	                      sizeof temporality_names / sizeof temporality_names[0], out);
}

static int u64_elem(ref__jdec *d, json_object *v, void *elem)
{
	return ref__jdec_u64(d, v, elem);
}

static int double_elem(ref__jdec *d, json_object *v, void *elem)
{
	return ref__jdec_double(d, v, elem);
}

/* Decodes an optional double and marks it present. */
static int opt_double(ref__jdec *d, json_object *v, bool *has, double *out)
{
	int rc = ref__jdec_double(d, v, out);
	if (!rc)
		*has = true;
	return rc;
}

static int exemplar_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_exemplar_t *e = out;
	if (!strcmp(k, "filteredAttributes"))
		return ref__jdec_attributes(d, v, k, &e->filtered_attributes);
	if (!strcmp(k, "timeUnixNano"))
		return ref__jdec_u64(d, v, &e->time_unix_nano);
	if (!strcmp(k, "asDouble")) {
		e->value_type = OTF_NUMBER_DOUBLE;
		return ref__jdec_double(d, v, &e->value.as_double);
	}
	if (!strcmp(k, "asInt")) {
		e->value_type = OTF_NUMBER_INT;
		return ref__jdec_i64(d, v, &e->value.as_int);
	}
	if (!strcmp(k, "spanId"))
		return ref__jdec_id(d, v, &e->span_id, OTF_SPAN_ID_LEN);
	if (!strcmp(k, "traceId"))
		return ref__jdec_id(d, v, &e->trace_id, OTF_TRACE_ID_LEN);
	return 0;
}

static int exemplar_elem(ref__jdec *d, json_object *v, void *elem)
{
	return ref__jdec_object(d, v, exemplar_field, elem);
}

static int exemplars(ref__jdec *d, json_object *v, const char *k, otf_exemplars_t *out)
{
	return ref__jdec_array(d, v, k, sizeof *out->items, &out->items, &out->len, exemplar_elem);
}

static int number_dp_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_number_data_point_t *p = out;
	if (!strcmp(k, "attributes"))
		return ref__jdec_attributes(d, v, k, &p->attributes);
	if (!strcmp(k, "startTimeUnixNano"))
		return ref__jdec_u64(d, v, &p->start_time_unix_nano);
	if (!strcmp(k, "timeUnixNano"))
		return ref__jdec_u64(d, v, &p->time_unix_nano);
	if (!strcmp(k, "asDouble")) {
		p->value_type = OTF_NUMBER_DOUBLE;
		return ref__jdec_double(d, v, &p->value.as_double);
	}
	if (!strcmp(k, "asInt")) {
		p->value_type = OTF_NUMBER_INT;
		return ref__jdec_i64(d, v, &p->value.as_int);
	}
	if (!strcmp(k, "exemplars"))
		return exemplars(d, v, k, &p->exemplars);
	if (!strcmp(k, "flags"))
		return ref__jdec_u32(d, v, &p->flags);
	return 0;
}

static int number_dp_elem(ref__jdec *d, json_object *v, void *elem)
{
	return ref__jdec_object(d, v, number_dp_field, elem);
}

static int histogram_dp_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_histogram_data_point_t *p = out;
	if (!strcmp(k, "attributes"))
		return ref__jdec_attributes(d, v, k, &p->attributes);
	if (!strcmp(k, "startTimeUnixNano"))
		return ref__jdec_u64(d, v, &p->start_time_unix_nano);
	if (!strcmp(k, "timeUnixNano"))
		return ref__jdec_u64(d, v, &p->time_unix_nano);
	if (!strcmp(k, "count"))
		return ref__jdec_u64(d, v, &p->count);
	if (!strcmp(k, "sum"))
		return opt_double(d, v, &p->has_sum, &p->sum);
	if (!strcmp(k, "bucketCounts"))
		return ref__jdec_array(d, v, k, sizeof *p->bucket_counts, &p->bucket_counts,
		                       &p->bucket_counts_len, u64_elem);
	if (!strcmp(k, "explicitBounds"))
		return ref__jdec_array(d, v, k, sizeof *p->explicit_bounds, &p->explicit_bounds,
		                       &p->explicit_bounds_len, double_elem);
	if (!strcmp(k, "exemplars"))
		return exemplars(d, v, k, &p->exemplars);
	if (!strcmp(k, "flags"))
		return ref__jdec_u32(d, v, &p->flags);
	if (!strcmp(k, "min"))
		return opt_double(d, v, &p->has_min, &p->min);
	if (!strcmp(k, "max"))
		return opt_double(d, v, &p->has_max, &p->max);
	return 0;
}

static int histogram_dp_elem(ref__jdec *d, json_object *v, void *elem)
{
	return ref__jdec_object(d, v, histogram_dp_field, elem);
}

static int buckets_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_exp_buckets_t *b = out;
	if (!strcmp(k, "offset"))
		return ref__jdec_i32(d, v, &b->offset);
	if (!strcmp(k, "bucketCounts"))
		return ref__jdec_array(d, v, k, sizeof *b->bucket_counts, &b->bucket_counts,
		                       &b->bucket_counts_len, u64_elem);
	return 0;
}

static int exp_histogram_dp_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_exp_histogram_data_point_t *p = out;
	if (!strcmp(k, "attributes"))
		return ref__jdec_attributes(d, v, k, &p->attributes);
	if (!strcmp(k, "startTimeUnixNano"))
		return ref__jdec_u64(d, v, &p->start_time_unix_nano);
	if (!strcmp(k, "timeUnixNano"))
		return ref__jdec_u64(d, v, &p->time_unix_nano);
	if (!strcmp(k, "count"))
		return ref__jdec_u64(d, v, &p->count);
	if (!strcmp(k, "sum"))
		return opt_double(d, v, &p->has_sum, &p->sum);
	if (!strcmp(k, "scale"))
		return ref__jdec_i32(d, v, &p->scale);
	if (!strcmp(k, "zeroCount"))
		return ref__jdec_u64(d, v, &p->zero_count);
	if (!strcmp(k, "positive"))
		return ref__jdec_object(d, v, buckets_field, &p->positive);
	if (!strcmp(k, "negative"))
		return ref__jdec_object(d, v, buckets_field, &p->negative);
	if (!strcmp(k, "flags"))
		return ref__jdec_u32(d, v, &p->flags);
	if (!strcmp(k, "exemplars"))
		return exemplars(d, v, k, &p->exemplars);
	if (!strcmp(k, "min"))
		return opt_double(d, v, &p->has_min, &p->min);
	if (!strcmp(k, "max"))
		return opt_double(d, v, &p->has_max, &p->max);
	if (!strcmp(k, "zeroThreshold"))
		return ref__jdec_double(d, v, &p->zero_threshold);
	return 0;
}

static int exp_histogram_dp_elem(ref__jdec *d, json_object *v, void *elem)
{
	return ref__jdec_object(d, v, exp_histogram_dp_field, elem);
}

static int quantile_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_quantile_value_t *q = out;
	if (!strcmp(k, "quantile"))
		return ref__jdec_double(d, v, &q->quantile);
	if (!strcmp(k, "value"))
		return ref__jdec_double(d, v, &q->value);
	return 0;
}

static int quantile_elem(ref__jdec *d, json_object *v, void *elem)
{
	return ref__jdec_object(d, v, quantile_field, elem);
}

static int summary_dp_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_summary_data_point_t *p = out;
	if (!strcmp(k, "attributes"))
		return ref__jdec_attributes(d, v, k, &p->attributes);
	if (!strcmp(k, "startTimeUnixNano"))
		return ref__jdec_u64(d, v, &p->start_time_unix_nano);
	if (!strcmp(k, "timeUnixNano"))
		return ref__jdec_u64(d, v, &p->time_unix_nano);
	if (!strcmp(k, "count"))
		return ref__jdec_u64(d, v, &p->count);
	if (!strcmp(k, "sum"))
		return ref__jdec_double(d, v, &p->sum);
	if (!strcmp(k, "quantileValues"))
		return ref__jdec_array(d, v, k, sizeof *p->quantile_values, &p->quantile_values,
		                       &p->quantile_values_len, quantile_elem);
	if (!strcmp(k, "flags"))
		return ref__jdec_u32(d, v, &p->flags);
	return 0;
}

static int summary_dp_elem(ref__jdec *d, json_object *v, void *elem)
{
	return ref__jdec_object(d, v, summary_dp_field, elem);
}

/* Members of Gauge, Sum, Histogram, ExponentialHistogram and Summary; the
 * metric's type (already set) selects the data point kind. */
static int data_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_metric_t *m = out;
	if (!strcmp(k, "dataPoints")) {
		switch (m->type) {
		case OTF_METRIC_GAUGE:
		case OTF_METRIC_SUM:
			return ref__jdec_array(d, v, k, sizeof *m->data_points.number,
			                       &m->data_points.number, &m->data_points_len,
			                       number_dp_elem);
		case OTF_METRIC_HISTOGRAM:
			return ref__jdec_array(d, v, k, sizeof *m->data_points.histogram,
			                       &m->data_points.histogram, &m->data_points_len,
			                       histogram_dp_elem);
		case OTF_METRIC_EXP_HISTOGRAM:
			return ref__jdec_array(d, v, k, sizeof *m->data_points.exp_histogram,
			                       &m->data_points.exp_histogram, &m->data_points_len,
			                       exp_histogram_dp_elem);
		case OTF_METRIC_SUMMARY:
			return ref__jdec_array(d, v, k, sizeof *m->data_points.summary,
			                       &m->data_points.summary, &m->data_points_len,
			                       summary_dp_elem);
		case OTF_METRIC_NONE:
			break;
		}
		return 0;
	}
	if (!strcmp(k, "aggregationTemporality") &&
	    (m->type == OTF_METRIC_SUM || m->type == OTF_METRIC_HISTOGRAM ||
	     m->type == OTF_METRIC_EXP_HISTOGRAM))
		return temporality(d, v, &m->aggregation_temporality);
	if (!strcmp(k, "isMonotonic") && m->type == OTF_METRIC_SUM)
		return ref__jdec_bool(d, v, &m->is_monotonic);
	return 0;
}

static int metric_data(ref__jdec *d, json_object *v, otf_metric_t *m, otf_metric_type_t type)
{
	/* A later oneof member replaces an earlier one. */
	m->type = type;
	memset(&m->data_points, 0, sizeof m->data_points);
	m->data_points_len = 0;
	m->aggregation_temporality = 0;
	m->is_monotonic = false;
	return ref__jdec_object(d, v, data_field, m);
}

static int metric_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_metric_t *m = out;
	if (!strcmp(k, "name"))
		return ref__jdec_string(d, v, &m->name);
	if (!strcmp(k, "description"))
		return ref__jdec_string(d, v, &m->description);
	if (!strcmp(k, "unit"))
		return ref__jdec_string(d, v, &m->unit);
	if (!strcmp(k, "gauge"))
		return metric_data(d, v, m, OTF_METRIC_GAUGE);
	if (!strcmp(k, "sum"))
		return metric_data(d, v, m, OTF_METRIC_SUM);
	if (!strcmp(k, "histogram"))
		return metric_data(d, v, m, OTF_METRIC_HISTOGRAM);
	if (!strcmp(k, "exponentialHistogram"))
		return metric_data(d, v, m, OTF_METRIC_EXP_HISTOGRAM);
	if (!strcmp(k, "summary"))
		return metric_data(d, v, m, OTF_METRIC_SUMMARY);
	if (!strcmp(k, "metadata"))
		return ref__jdec_attributes(d, v, k, &m->metadata);
	return 0;
}

static int metric_elem(ref__jdec *d, json_object *v, void *elem)
{
	return ref__jdec_object(d, v, metric_field, elem);
}

static int scope_metrics_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_scope_metrics_t *sm = out;
	if (!strcmp(k, "scope"))
		return ref__jdec_scope(d, v, &sm->scope);
	if (!strcmp(k, "metrics"))
		return ref__jdec_array(d, v, k, sizeof *sm->metrics, &sm->metrics, &sm->metrics_len,
		                       metric_elem);
	if (!strcmp(k, "schemaUrl"))
		return ref__jdec_string(d, v, &sm->schema_url);
	return 0;
}

static int scope_metrics_elem(ref__jdec *d, json_object *v, void *elem)
{
	return ref__jdec_object(d, v, scope_metrics_field, elem);
}

static int resource_metrics_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_resource_metrics_t *rm = out;
	if (!strcmp(k, "resource"))
		return ref__jdec_resource(d, v, &rm->resource);
	if (!strcmp(k, "scopeMetrics"))
		return ref__jdec_array(d, v, k, sizeof *rm->scope_metrics, &rm->scope_metrics,
		                       &rm->scope_metrics_len, scope_metrics_elem);
	if (!strcmp(k, "schemaUrl"))
		return ref__jdec_string(d, v, &rm->schema_url);
	return 0;
}

static int resource_metrics_elem(ref__jdec *d, json_object *v, void *elem)
{
	return ref__jdec_object(d, v, resource_metrics_field, elem);
}

static int metrics_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_metrics_t *m = out;
	if (!strcmp(k, "resourceMetrics"))
		return ref__jdec_array(d, v, k, sizeof *m->resource_metrics, &m->resource_metrics,
		                       &m->resource_metrics_len, resource_metrics_elem);
	return 0;
}

int otf_ref_json_decode_metrics(otf_metrics_t *out, const char *json, size_t len,
                                otf_arena_t *arena, const otf_pdata_limits_t *limits,
                                otf_pdata_error_t *err)
{
	ref__jdec d;
	json_object *root;
	memset(out, 0, sizeof *out);
	int rc = ref__jdec_begin(&d, &root, json, len, arena, limits, err);
	if (rc)
		return rc;
	rc = ref__jdec_object(&d, root, metrics_field, out);
	json_object_put(root);
	return rc;
}
