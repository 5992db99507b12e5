/* Protobuf encoding of MetricsData / ExportMetricsServiceRequest
 * (metrics.proto). */
#include "pb_encode_internal.h"

/* The oneof value of NumberDataPoint and Exemplar: written whenever set,
 * even as 0, since which member is set is itself the information. */
static inline void number_value(otf__pb_wr *w, otf_number_type_t t, double d, int64_t i,
                                uint32_t f_double, uint32_t f_int)
{
	if (t == OTF_NUMBER_INT)
		otf__pbe_fixed64_always(w, f_int, (uint64_t)i); /* sfixed64 */
	else if (t == OTF_NUMBER_DOUBLE)
		otf__pbe_fixed64_always(w, f_double, otf__pb_double_to_u64(d));
}

static void exemplar(otf__pb_wr *w, const otf_exemplar_t *e)
{
	otf__pbe_attributes(w, 7, &e->filtered_attributes);
	if (e->value_type == OTF_NUMBER_INT)
		number_value(w, e->value_type, 0, e->value.as_int, 3, 6);
	otf__pbe_id(w, 5, e->trace_id, OTF_TRACE_ID_LEN);
	otf__pbe_id(w, 4, e->span_id, OTF_SPAN_ID_LEN);
	if (e->value_type == OTF_NUMBER_DOUBLE)
		number_value(w, e->value_type, e->value.as_double, 0, 3, 6);
	otf__pbe_fixed64(w, 2, e->time_unix_nano);
}

static void exemplars(otf__pb_wr *w, uint32_t field, const otf_exemplars_t *ex)
{
	for (size_t i = ex->len; i-- > 0 && !w->err;) {
		size_t m = otf__pb_wr_size(w);
		exemplar(w, &ex->items[i]);
		otf__pbe_close(w, field, m);
	}
}

static void number_point(otf__pb_wr *w, const otf_number_data_point_t *p)
{
	otf__pbe_varint(w, 8, p->flags);
	otf__pbe_attributes(w, 7, &p->attributes);
	if (p->value_type == OTF_NUMBER_INT)
		number_value(w, p->value_type, 0, p->value.as_int, 4, 6);
	exemplars(w, 5, &p->exemplars);
	if (p->value_type == OTF_NUMBER_DOUBLE)
		number_value(w, p->value_type, p->value.as_double, 0, 4, 6);
	otf__pbe_fixed64(w, 3, p->time_unix_nano);
	otf__pbe_fixed64(w, 2, p->start_time_unix_nano);
}

static void histogram_point(otf__pb_wr *w, const otf_histogram_data_point_t *p)
{
	/* optional doubles: written when present, whatever the value. */
	if (p->has_max)
		otf__pbe_fixed64_always(w, 12, otf__pb_double_to_u64(p->max));
	if (p->has_min)
		otf__pbe_fixed64_always(w, 11, otf__pb_double_to_u64(p->min));
	otf__pbe_varint(w, 10, p->flags);
	otf__pbe_attributes(w, 9, &p->attributes);
	exemplars(w, 8, &p->exemplars);
	otf__pbe_packed64(w, 7, p->explicit_bounds, p->explicit_bounds_len);
	otf__pbe_packed64(w, 6, p->bucket_counts, p->bucket_counts_len);
	if (p->has_sum)
		otf__pbe_fixed64_always(w, 5, otf__pb_double_to_u64(p->sum));
	otf__pbe_fixed64(w, 4, p->count);
	otf__pbe_fixed64(w, 3, p->time_unix_nano);
	otf__pbe_fixed64(w, 2, p->start_time_unix_nano);
}

/* Buckets: offset = 1 (sint32), bucket_counts = 2 (packed uint64);
 * omitted when empty. */
static void exp_buckets(otf__pb_wr *w, uint32_t field, const otf_exp_buckets_t *b)
{
	if (!b->offset && !b->bucket_counts_len)
		return;
	size_t m = otf__pb_wr_size(w);
	otf__pbe_packed_varint(w, 2, b->bucket_counts, b->bucket_counts_len);
	otf__pbe_sint32(w, 1, b->offset);
	otf__pbe_close(w, field, m);
}

static void exp_histogram_point(otf__pb_wr *w, const otf_exp_histogram_data_point_t *p)
{
	otf__pbe_double(w, 14, p->zero_threshold);
	if (p->has_max)
		otf__pbe_fixed64_always(w, 13, otf__pb_double_to_u64(p->max));
	if (p->has_min)
		otf__pbe_fixed64_always(w, 12, otf__pb_double_to_u64(p->min));
	exemplars(w, 11, &p->exemplars);
	otf__pbe_varint(w, 10, p->flags);
	exp_buckets(w, 9, &p->negative);
	exp_buckets(w, 8, &p->positive);
	otf__pbe_fixed64(w, 7, p->zero_count);
	otf__pbe_sint32(w, 6, p->scale);
	if (p->has_sum)
		otf__pbe_fixed64_always(w, 5, otf__pb_double_to_u64(p->sum));
	otf__pbe_fixed64(w, 4, p->count);
	otf__pbe_fixed64(w, 3, p->time_unix_nano);
	otf__pbe_fixed64(w, 2, p->start_time_unix_nano);
	otf__pbe_attributes(w, 1, &p->attributes);
}

static void summary_point(otf__pb_wr *w, const otf_summary_data_point_t *p)
{
	otf__pbe_varint(w, 8, p->flags);
	otf__pbe_attributes(w, 7, &p->attributes);
	/* ValueAtQuantile: quantile = 1, value = 2; every element written. */
	for (size_t i = p->quantile_values_len; i-- > 0 && !w->err;) {
		size_t m = otf__pb_wr_size(w);
		otf__pbe_double(w, 2, p->quantile_values[i].value);
		otf__pbe_double(w, 1, p->quantile_values[i].quantile);
		otf__pbe_close(w, 6, m);
	}
	otf__pbe_double(w, 5, p->sum);
	otf__pbe_fixed64(w, 4, p->count);
	otf__pbe_fixed64(w, 3, p->time_unix_nano);
	otf__pbe_fixed64(w, 2, p->start_time_unix_nano);
}

/* The data points of m as `repeated ... data_points = 1`, last to first. */
static void data_points(otf__pb_wr *w, const otf_metric_t *m)
{
	for (size_t i = m->data_points_len; i-- > 0 && !w->err;) {
		size_t mark = otf__pb_wr_size(w);
		switch (m->type) {
		case OTF_METRIC_GAUGE:
		case OTF_METRIC_SUM:
			number_point(w, &m->data_points.number[i]);
			break;
		case OTF_METRIC_HISTOGRAM:
			histogram_point(w, &m->data_points.histogram[i]);
			break;
		case OTF_METRIC_EXP_HISTOGRAM:
			exp_histogram_point(w, &m->data_points.exp_histogram[i]);
			break;
		case OTF_METRIC_SUMMARY:
			summary_point(w, &m->data_points.summary[i]);
			break;
		default:
			break;
		}
		otf__pbe_close(w, 1, mark);
	}
}

static void metric(otf__pb_wr *w, const otf_metric_t *m)
{
	otf__pbe_attributes(w, 12, &m->metadata);
	switch (m->type) {
	case OTF_METRIC_NONE:
		break;
	case OTF_METRIC_GAUGE:
	case OTF_METRIC_SUM:
	case OTF_METRIC_HISTOGRAM:
	case OTF_METRIC_EXP_HISTOGRAM:
	case OTF_METRIC_SUMMARY: {
		/* The set data member is written even when it holds no points:
		 * an empty Gauge still says "this is a gauge". */
		size_t mark = otf__pb_wr_size(w);
		if (m->type == OTF_METRIC_SUM)
			otf__pbe_varint(w, 3, m->is_monotonic);
		if (m->type != OTF_METRIC_GAUGE && m->type != OTF_METRIC_SUMMARY)
			otf__pbe_int32(w, 2, m->aggregation_temporality);
		data_points(w, m);
		otf__pbe_close(w, (uint32_t)m->type, mark);
		break;
	}
	default:
		/* Not a value the decoders produce: refuse rather than drop it. */
		if (!w->err)
			w->err = OTF_E_INVAL;
		break;
	}
	otf__pbe_bytes(w, 3, m->unit);
	otf__pbe_bytes(w, 2, m->description);
	otf__pbe_bytes(w, 1, m->name);
}

static void scope_metrics(otf__pb_wr *w, const otf_scope_metrics_t *sm)
{
	otf__pbe_bytes(w, 3, sm->schema_url);
	for (size_t i = sm->metrics_len; i-- > 0 && !w->err;) {
		size_t m = otf__pb_wr_size(w);
		metric(w, &sm->metrics[i]);
		otf__pbe_close(w, 2, m);
	}
	otf__pbe_scope(w, 1, &sm->scope);
}

static void resource_metrics(otf__pb_wr *w, const otf_resource_metrics_t *rm)
{
	otf__pbe_bytes(w, 3, rm->schema_url);
	for (size_t i = rm->scope_metrics_len; i-- > 0 && !w->err;) {
		size_t m = otf__pb_wr_size(w);
		scope_metrics(w, &rm->scope_metrics[i]);
		otf__pbe_close(w, 2, m);
	}
	otf__pbe_resource(w, 1, &rm->resource);
}

/* A starting size from counts alone; see pb_encode_logs.c. */
static size_t estimate(const otf_metrics_t *in)
{
	size_t n = 64;
	for (size_t i = 0; i < in->resource_metrics_len; i++) {
		const otf_resource_metrics_t *rm = &in->resource_metrics[i];
		n += 256;
		for (size_t j = 0; j < rm->scope_metrics_len; j++) {
			const otf_scope_metrics_t *sm = &rm->scope_metrics[j];
			n += 64;
			for (size_t k = 0; k < sm->metrics_len; k++)
				n += 64 + sm->metrics[k].data_points_len * 128;
		}
	}
	return n;
}

int otf_pdata_encode_metrics(const otf_metrics_t *in, otf_buf_t **out)
{
	if (!in || !out || (in->resource_metrics_len && !in->resource_metrics))
		return OTF_E_INVAL;
	otf__pb_wr w;
	int rc = otf__pbe_begin(&w, estimate(in));
	if (rc)
		return rc;
	/* MetricsData.resource_metrics = 1 */
	for (size_t i = in->resource_metrics_len; i-- > 0 && !w.err;) {
		size_t m = otf__pb_wr_size(&w);
		resource_metrics(&w, &in->resource_metrics[i]);
		otf__pbe_close(&w, 1, m);
	}
	return otf__pbe_end(&w, out);
}
