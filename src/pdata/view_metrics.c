/* Protobuf views: metrics (Metric, its data oneof, data points) and the
 * metrics counter. See otflow/pdata_view.h. */
#include "view_internal.h"

static bool is_data_field(uint32_t f)
{
	return f == OTF_METRIC_GAUGE || f == OTF_METRIC_SUM || f == OTF_METRIC_HISTOGRAM ||
	       f == OTF_METRIC_EXP_HISTOGRAM || f == OTF_METRIC_SUMMARY;
}

/* aggregation_temporality = 2 (SUM, HISTOGRAM, EXP_HISTOGRAM) and
 * is_monotonic = 3 (SUM) of a data message; later occurrences override. */
static int data_header_read(uint32_t type, otf_bytes_t d, otf_view_metric_t *out)
{
	const uint8_t *p = d.ptr, *end = otf__view_end(d);
	bool has_temp = type != OTF_METRIC_GAUGE && type != OTF_METRIC_SUMMARY;
	otf_bytes_t skip;
	uint64_t v;
	while (p < end) {
		uint32_t f, wt;
		int rc = otf__pb_tag(&p, end, &f, &wt);
		if (rc)
			return rc;
		if (f == 1) {
			rc = otf__view_len(&p, end, wt, &skip);
		} else if (f == 2 && has_temp) {
			rc = otf__view_varint(&p, end, wt, &v);
			out->aggregation_temporality = (int32_t)v;
		} else if (f == 3 && type == OTF_METRIC_SUM) {
			rc = otf__view_varint(&p, end, wt, &v);
			out->is_monotonic = v != 0;
		} else {
			rc = otf__pb_skip(&p, end, wt);
		}
		if (rc)
			return rc;
	}
	return 0;
}

int otf_view_metric_read(otf_bytes_t metric, otf_view_metric_t *out)
{
	const uint8_t *p = metric.ptr, *end = otf__view_end(metric);
	const uint8_t *run = end;
	otf_bytes_t sub;
	*out = (otf_view_metric_t){0};
	while (p < end) {
		const uint8_t *at = p;
		uint32_t f, wt;
		int rc = otf__pb_tag(&p, end, &f, &wt);
		if (rc)
			return rc;
		switch (f) {
		case 1:
			rc = otf__view_len(&p, end, wt, &out->name);
			break;
		case 2:
			rc = otf__view_len(&p, end, wt, &out->description);
			break;
		case 3:
			rc = otf__view_len(&p, end, wt, &out->unit);
			break;
		case 12:
			rc = otf__view_len(&p, end, wt, &sub);
			break;
		default:
			if (!is_data_field(f)) {
				rc = otf__pb_skip(&p, end, wt);
				break;
			}
			rc = otf__view_len(&p, end, wt, &out->data);
			if (rc)
				break;
			/* The last occurrence wins outright, as in the decoder. */
			out->type = (otf_metric_type_t)f;
			out->aggregation_temporality = 0;
			out->is_monotonic = false;
			run = at;
			rc = data_header_read(f, out->data, out);
		}
		if (rc)
			return rc;
	}
	out->data_run.ptr = run;
	out->data_run.len = (size_t)(end - run);
	return 0;
}

void otf_view_data_points(otf_view_dp_iter_t *it, const otf_view_metric_t *m)
{
	otf_view_iter_init(&it->outer, m->data_run, (uint32_t)m->type);
	if (m->type == OTF_METRIC_NONE) /* field 0 never matches: walk nothing */
		it->outer.p = it->outer.end;
	it->in = false;
}

int otf_view_dp_next(otf_view_dp_iter_t *it, otf_bytes_t *out)
{
	for (;;) {
		if (it->in) {
			int rc = otf_view_iter_next(&it->inner, out);
			if (rc != 0)
				return rc;
			it->in = false;
		}
		otf_bytes_t d;
		int rc = otf_view_iter_next(&it->outer, &d);
		if (rc <= 0)
			return rc;
		otf_view_iter_init(&it->inner, d, 1);
		it->in = true;
	}
}

int otf_view_data_point_read(otf_metric_type_t type, otf_bytes_t dp, otf_view_data_point_t *out)
{
	const uint8_t *p = dp.ptr, *end = otf__view_end(dp);
	const bool number = type == OTF_METRIC_GAUGE || type == OTF_METRIC_SUM;
	const uint32_t flags_field =
	    (type == OTF_METRIC_HISTOGRAM || type == OTF_METRIC_EXP_HISTOGRAM) ? 10 : 8;
	uint64_t v;
	*out = (otf_view_data_point_t){0};
	while (p < end) {
		uint32_t f, wt;
		int rc = otf__pb_tag(&p, end, &f, &wt);
		if (rc)
			return rc;
		if (f == 2) {
			rc = otf__view_fixed64(&p, end, wt, &out->start_time_unix_nano);
		} else if (f == 3) {
			rc = otf__view_fixed64(&p, end, wt, &out->time_unix_nano);
		} else if (f == flags_field && type != OTF_METRIC_NONE) {
			rc = otf__view_varint(&p, end, wt, &v);
			out->flags = (uint32_t)v;
		} else if (number && (f == 4 || f == 6)) {
			rc = otf__view_fixed64(&p, end, wt, &v);
			if (f == 4) {
				out->value_type = OTF_NUMBER_DOUBLE;
				out->value.as_double = otf__pb_u64_to_double(v);
			} else {
				out->value_type = OTF_NUMBER_INT;
				out->value.as_int = (int64_t)v;
			}
		} else if (!number && type != OTF_METRIC_NONE && f == 4) {
			rc = otf__view_fixed64(&p, end, wt, &out->count);
		} else if (!number && type != OTF_METRIC_NONE && f == 5) {
			rc = otf__view_fixed64(&p, end, wt, &v);
			out->sum = otf__pb_u64_to_double(v);
			out->has_sum = true;
		} else {
			rc = otf__pb_skip(&p, end, wt);
		}
		if (rc)
			return rc;
	}
	if (type == OTF_METRIC_SUMMARY)
		out->has_sum = true; /* plain double there, 0 when absent */
	return 0;
}

void otf_view_data_point_attributes(otf_view_iter_t *it, otf_metric_type_t type, otf_bytes_t dp)
{
	uint32_t f = 0;
	switch (type) {
	case OTF_METRIC_GAUGE:
	case OTF_METRIC_SUM:
	case OTF_METRIC_SUMMARY:
		f = 7;
		break;
	case OTF_METRIC_HISTOGRAM:
		f = 9;
		break;
	case OTF_METRIC_EXP_HISTOGRAM:
		f = 1;
		break;
	case OTF_METRIC_NONE:
		break;
	}
	otf_view_iter_init(it, dp, f);
	if (!f)
		it->p = it->end;
}

void otf_view_data_point_exemplars(otf_view_iter_t *it, otf_metric_type_t type, otf_bytes_t dp)
{
	uint32_t f = 0;
	switch (type) {
	case OTF_METRIC_GAUGE:
	case OTF_METRIC_SUM:
		f = 5;
		break;
	case OTF_METRIC_HISTOGRAM:
		f = 8;
		break;
	case OTF_METRIC_EXP_HISTOGRAM:
		f = 11;
		break;
	case OTF_METRIC_SUMMARY:
	case OTF_METRIC_NONE:
		break;
	}
	otf_view_iter_init(it, dp, f);
	if (!f)
		it->p = it->end;
}

/* Data points of one Metric: those of the last data oneof occurrence. */
static int metric_count(const uint8_t *p, const uint8_t *end, size_t *n, const uint8_t **err_at)
{
	size_t cnt = 0;
	while (p < end) {
		const uint8_t *at = p;
		uint32_t f, wt;
		int rc = otf__pb_tag(&p, end, &f, &wt);
		if (rc == 0) {
			if (is_data_field(f)) {
				otf_bytes_t d;
				rc = otf__view_len(&p, end, wt, &d);
				if (rc == 0) {
					cnt = 0;
					rc = otf__view_count_field(d.ptr, otf__view_end(d), 1, &cnt,
					                           err_at);
					if (rc)
						return rc;
				}
			} else {
				rc = otf__pb_skip(&p, end, wt);
			}
		}
		if (rc) {
			*err_at = at;
			return rc;
		}
	}
	*n += cnt;
	return 0;
}

int otf_view_count_metrics(const uint8_t *data, size_t len, otf_view_counts_t *out)
{
	otf_view_iter_t rit, sit, mit;
	otf_bytes_t rg, sg, m;
	const uint8_t *err_at = NULL;
	int rc;
	*out = (otf_view_counts_t){0};
	otf_view_resources(&rit, data, len);
	while ((rc = otf_view_iter_next(&rit, &rg)) > 0) {
		out->resources++;
		otf_view_scopes(&sit, rg);
		while ((rc = otf_view_iter_next(&sit, &sg)) > 0) {
			out->scopes++;
			otf_view_records(&mit, sg);
			while ((rc = otf_view_iter_next(&mit, &m)) > 0) {
				out->metrics++;
				rc = metric_count(m.ptr, otf__view_end(m), &out->records, &err_at);
				if (rc) {
					out->err_offset = (size_t)(err_at - data);
					return rc;
				}
			}
			if (rc < 0) {
				out->err_offset = otf_view_iter_err_offset(&mit, data);
				return rc;
			}
		}
		if (rc < 0) {
			out->err_offset = otf_view_iter_err_offset(&sit, data);
			return rc;
		}
	}
	if (rc < 0)
		out->err_offset = otf_view_iter_err_offset(&rit, data);
	return rc;
}
