/* Debug exporter rendering. detailed: every field, like the Collector's
 * "ResourceSpans #0 / Span #0 / Trace ID : ..." dump; normal: one line per
 * span, data point or log record. */
#include "debug_format.h"

#include <inttypes.h>
#include <time.h>

static void hex(FILE *f, otf_bytes_t b)
{
	for (size_t i = 0; i < b.len; i++)
		fprintf(f, "%02x", b.ptr[i]);
}

static void str(FILE *f, otf_bytes_t b)
{
	fwrite(b.ptr, 1, b.len, f);
}

static void ts(FILE *f, uint64_t ns)
{
	time_t s = (time_t)(ns / 1000000000u);
	struct tm tm;
	gmtime_r(&s, &tm);
	fprintf(f, "%04d-%02d-%02d %02d:%02d:%02d.%09" PRIu64 " +0000 UTC", tm.tm_year + 1900,
	        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ns % 1000000000u);
}

static void any(FILE *f, const otf_any_value_t *v);

static void kvlist(FILE *f, const otf_key_value_t *kv, size_t n)
{
	fputc('{', f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s\"", i ? "," : "");
		str(f, kv[i].key);
		fputs("\":", f);
		any(f, &kv[i].value);
	}
	fputc('}', f);
}

static void any(FILE *f, const otf_any_value_t *v)
{
	switch (v->type) {
	case OTF_ANY_STRING:
		fputs("Str(", f);
		str(f, v->u.string_value);
		fputc(')', f);
		break;
	case OTF_ANY_BOOL:
		fprintf(f, "Bool(%s)", v->u.bool_value ? "true" : "false");
		break;
	case OTF_ANY_INT:
		fprintf(f, "Int(%" PRId64 ")", v->u.int_value);
		break;
	case OTF_ANY_DOUBLE:
		fprintf(f, "Double(%g)", v->u.double_value);
		break;
	case OTF_ANY_BYTES:
		fputs("Bytes(", f);
		hex(f, v->u.bytes_value);
		fputc(')', f);
		break;
	case OTF_ANY_ARRAY:
		fputs("Slice([", f);
		for (size_t i = 0; i < v->u.array_value.values_len; i++) {
			if (i)
				fputc(',', f);
			any(f, &v->u.array_value.values[i]);
		}
		fputs("])", f);
		break;
	case OTF_ANY_KVLIST:
		fputs("Map(", f);
		kvlist(f, v->u.kvlist_value.values, v->u.kvlist_value.values_len);
		fputc(')', f);
		break;
	default:
		fputs("Empty()", f);
	}
}

static void attrs(FILE *f, const char *title, const otf_attributes_t *a)
{
	if (!a->len)
		return;
	fprintf(f, "%s:\n", title);
	for (size_t i = 0; i < a->len; i++) {
		fputs("     -> ", f);
		str(f, a->items[i].key);
		fputs(": ", f);
		any(f, &a->items[i].value);
		fputc('\n', f);
	}
}

static void resource(FILE *f, const otf_resource_t *r, otf_bytes_t schema_url)
{
	fputs("Resource SchemaURL: ", f);
	str(f, schema_url);
	fputc('\n', f);
	attrs(f, "Resource attributes", &r->attributes);
}

static void scope(FILE *f, const char *label, const otf_scope_t *s, otf_bytes_t schema_url)
{
	fprintf(f, "%s SchemaURL: ", label);
	str(f, schema_url);
	fputs("\nInstrumentationScope ", f);
	str(f, s->name);
	fputc(' ', f);
	str(f, s->version);
	fputc('\n', f);
	attrs(f, "InstrumentationScope attributes", &s->attributes);
}

static const char *kind_name(int32_t k)
{
	static const char *const n[] = {"Unspecified", "Internal", "Server",
	                                "Client",      "Producer", "Consumer"};
	return k >= 0 && k <= 5 ? n[k] : "Unknown";
}

static const char *status_name(int32_t c)
{
	return c == 1 ? "Ok" : c == 2 ? "Error" : "Unset";
}

void otf__debug_traces(FILE *f, const otf_traces_t *t, int detailed)
{
	for (size_t r = 0; r < t->resource_spans_len; r++) {
		const otf_resource_spans_t *rs = &t->resource_spans[r];
		if (detailed) {
			fprintf(f, "ResourceSpans #%zu\n", r);
			resource(f, &rs->resource, rs->schema_url);
		}
		for (size_t s = 0; s < rs->scope_spans_len; s++) {
			const otf_scope_spans_t *ss = &rs->scope_spans[s];
			if (detailed) {
				fprintf(f, "ScopeSpans #%zu\n", s);
				scope(f, "ScopeSpans", &ss->scope, ss->schema_url);
			}
			for (size_t i = 0; i < ss->spans_len; i++) {
				const otf_span_t *sp = &ss->spans[i];
				if (!detailed) {
					str(f, sp->name);
					fputc(' ', f);
					hex(f, sp->trace_id);
					fputc(' ', f);
					hex(f, sp->span_id);
					fputc('\n', f);
					continue;
				}
				fprintf(f, "Span #%zu\n    Trace ID       : ", i);
				hex(f, sp->trace_id);
				fputs("\n    Parent ID      : ", f);
				hex(f, sp->parent_span_id);
				fputs("\n    ID             : ", f);
				hex(f, sp->span_id);
				fputs("\n    Name           : ", f);
				str(f, sp->name);
				fprintf(f, "\n    Kind           : %s\n    Start time     : ",
				        kind_name(sp->kind));
				ts(f, sp->start_time_unix_nano);
				fputs("\n    End time       : ", f);
				ts(f, sp->end_time_unix_nano);
				fprintf(f, "\n    Status code    : %s\n    Status message : ",
				        status_name(sp->status.code));
				str(f, sp->status.message);
				fputc('\n', f);
				attrs(f, "Attributes", &sp->attributes);
				if (sp->events_len)
					fputs("Events:\n", f);
				for (size_t e = 0; e < sp->events_len; e++) {
					fprintf(f, "SpanEvent #%zu\n     -> Name: ", e);
					str(f, sp->events[e].name);
					fputs("\n     -> Timestamp: ", f);
					ts(f, sp->events[e].time_unix_nano);
					fputc('\n', f);
					attrs(f, "     -> Attributes", &sp->events[e].attributes);
				}
				if (sp->links_len)
					fputs("Links:\n", f);
				for (size_t l = 0; l < sp->links_len; l++) {
					fprintf(f, "SpanLink #%zu\n     -> Trace ID: ", l);
					hex(f, sp->links[l].trace_id);
					fputs("\n     -> ID: ", f);
					hex(f, sp->links[l].span_id);
					fputc('\n', f);
					attrs(f, "     -> Attributes", &sp->links[l].attributes);
				}
			}
		}
	}
}

static const char *metric_type_name(otf_metric_type_t t)
{
	switch (t) {
	case OTF_METRIC_GAUGE:
		return "Gauge";
	case OTF_METRIC_SUM:
		return "Sum";
	case OTF_METRIC_HISTOGRAM:
		return "Histogram";
	case OTF_METRIC_EXP_HISTOGRAM:
		return "ExponentialHistogram";
	case OTF_METRIC_SUMMARY:
		return "Summary";
	default:
		return "Empty";
	}
}

static void metric_points(FILE *f, const otf_metric_t *m)
{
	for (size_t p = 0; p < m->data_points_len; p++) {
		fprintf(f, "%sDataPoint #%zu\n",
		        m->type == OTF_METRIC_HISTOGRAM       ? "Histogram"
		        : m->type == OTF_METRIC_EXP_HISTOGRAM ? "ExponentialHistogram"
		        : m->type == OTF_METRIC_SUMMARY       ? "Summary"
		                                              : "Number",
		        p);
		const otf_attributes_t *a = NULL;
		uint64_t start = 0, time = 0;
		switch (m->type) {
		case OTF_METRIC_GAUGE:
		case OTF_METRIC_SUM: {
			const otf_number_data_point_t *d = &m->data_points.number[p];
			a = &d->attributes;
			start = d->start_time_unix_nano;
			time = d->time_unix_nano;
			if (d->value_type == OTF_NUMBER_INT)
				fprintf(f, "Value: %" PRId64 "\n", d->value.as_int);
			else
				fprintf(f, "Value: %f\n", d->value.as_double);
			break;
		}
		case OTF_METRIC_HISTOGRAM: {
			const otf_histogram_data_point_t *d = &m->data_points.histogram[p];
			a = &d->attributes;
			start = d->start_time_unix_nano;
			time = d->time_unix_nano;
			fprintf(f, "Count: %" PRIu64 "\n", d->count);
			if (d->has_sum)
				fprintf(f, "Sum: %f\n", d->sum);
			if (d->has_min)
				fprintf(f, "Min: %f\n", d->min);
			if (d->has_max)
				fprintf(f, "Max: %f\n", d->max);
			for (size_t b = 0; b < d->explicit_bounds_len; b++)
				fprintf(f, "ExplicitBounds #%zu: %f\n", b, d->explicit_bounds[b]);
			for (size_t b = 0; b < d->bucket_counts_len; b++)
				fprintf(f, "Buckets #%zu, Count: %" PRIu64 "\n", b,
				        d->bucket_counts[b]);
			break;
		}
		case OTF_METRIC_EXP_HISTOGRAM: {
			const otf_exp_histogram_data_point_t *d = &m->data_points.exp_histogram[p];
			a = &d->attributes;
			start = d->start_time_unix_nano;
			time = d->time_unix_nano;
			fprintf(f, "Count: %" PRIu64 "\nScale: %d\nZeroCount: %" PRIu64 "\n",
			        d->count, d->scale, d->zero_count);
			break;
		}
		case OTF_METRIC_SUMMARY: {
			const otf_summary_data_point_t *d = &m->data_points.summary[p];
			a = &d->attributes;
			start = d->start_time_unix_nano;
			time = d->time_unix_nano;
			fprintf(f, "Count: %" PRIu64 "\nSum: %f\n", d->count, d->sum);
			for (size_t q = 0; q < d->quantile_values_len; q++)
				fprintf(f, "QuantileValue #%zu: Quantile %f, Value %f\n", q,
				        d->quantile_values[q].quantile,
				        d->quantile_values[q].value);
			break;
		}
		default:
			break;
		}
		if (a)
			attrs(f, "Data point attributes", a);
		fputs("StartTimestamp: ", f);
		ts(f, start);
		fputs("\nTimestamp: ", f);
		ts(f, time);
		fputc('\n', f);
	}
}

void otf__debug_metrics(FILE *f, const otf_metrics_t *mt, int detailed)
{
	for (size_t r = 0; r < mt->resource_metrics_len; r++) {
		const otf_resource_metrics_t *rm = &mt->resource_metrics[r];
		if (detailed) {
			fprintf(f, "ResourceMetrics #%zu\n", r);
			resource(f, &rm->resource, rm->schema_url);
		}
		for (size_t s = 0; s < rm->scope_metrics_len; s++) {
			const otf_scope_metrics_t *sm = &rm->scope_metrics[s];
			if (detailed) {
				fprintf(f, "ScopeMetrics #%zu\n", s);
				scope(f, "ScopeMetrics", &sm->scope, sm->schema_url);
			}
			for (size_t i = 0; i < sm->metrics_len; i++) {
				const otf_metric_t *m = &sm->metrics[i];
				if (!detailed) {
					str(f, m->name);
					fprintf(f, " %s points=%zu\n", metric_type_name(m->type),
					        m->data_points_len);
					continue;
				}
				fprintf(f, "Metric #%zu\nDescriptor:\n     -> Name: ", i);
				str(f, m->name);
				fputs("\n     -> Description: ", f);
				str(f, m->description);
				fputs("\n     -> Unit: ", f);
				str(f, m->unit);
				fprintf(f, "\n     -> DataType: %s\n", metric_type_name(m->type));
				if (m->type == OTF_METRIC_SUM)
					fprintf(f, "     -> IsMonotonic: %s\n",
					        m->is_monotonic ? "true" : "false");
				if (m->type == OTF_METRIC_SUM || m->type == OTF_METRIC_HISTOGRAM ||
				    m->type == OTF_METRIC_EXP_HISTOGRAM)
					fprintf(f, "     -> AggregationTemporality: %s\n",
					        m->aggregation_temporality == 1   ? "Delta"
					        : m->aggregation_temporality == 2 ? "Cumulative"
					                                          : "Unspecified");
				metric_points(f, m);
			}
		}
	}
}

void otf__debug_logs(FILE *f, const otf_logs_t *l, int detailed)
{
	for (size_t r = 0; r < l->resource_logs_len; r++) {
		const otf_resource_logs_t *rl = &l->resource_logs[r];
		if (detailed) {
			fprintf(f, "ResourceLog #%zu\n", r);
			resource(f, &rl->resource, rl->schema_url);
		}
		for (size_t s = 0; s < rl->scope_logs_len; s++) {
			const otf_scope_logs_t *sl = &rl->scope_logs[s];
			if (detailed) {
				fprintf(f, "ScopeLogs #%zu\n", s);
				scope(f, "ScopeLogs", &sl->scope, sl->schema_url);
			}
			for (size_t i = 0; i < sl->log_records_len; i++) {
				const otf_log_record_t *lr = &sl->log_records[i];
				if (!detailed) {
					any(f, &lr->body);
					fputc('\n', f);
					continue;
				}
				fprintf(f, "LogRecord #%zu\nObservedTimestamp: ", i);
				ts(f, lr->observed_time_unix_nano);
				fputs("\nTimestamp: ", f);
				ts(f, lr->time_unix_nano);
				fputs("\nSeverityText: ", f);
				str(f, lr->severity_text);
				fprintf(f, "\nSeverityNumber: %d\nBody: ", lr->severity_number);
				any(f, &lr->body);
				fputs("\nEventName: ", f);
				str(f, lr->event_name);
				fputc('\n', f);
				attrs(f, "Attributes", &lr->attributes);
				fputs("Trace ID: ", f);
				hex(f, lr->trace_id);
				fputs("\nSpan ID: ", f);
				hex(f, lr->span_id);
				fprintf(f, "\nFlags: %u\n", lr->flags);
			}
		}
	}
}
