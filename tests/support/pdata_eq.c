/* Deep equality of pdata trees (see pdata_eq.h). */
#include "pdata_eq.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The walk keeps the current path; the first mismatch formats it with the
 * field name and both values into the caller's buffer. */
typedef struct eq {
	char path[512];
	size_t len;
	char *diff;
	size_t size;
} eq_t;

static void eq_begin(eq_t *e, char *diff, size_t size)
{
	e->path[0] = 0;
	e->len = 0;
	e->diff = diff;
	e->size = size;
	if (diff && size)
		diff[0] = 0;
}

/* Appends a path segment; returns the length to restore with pop(). */
static size_t push(eq_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static size_t push(eq_t *e, const char *fmt, ...)
{
	size_t old = e->len;
	if (e->len < sizeof e->path) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(e->path + e->len, sizeof e->path - e->len, fmt, ap);
		va_end(ap);
		if (n > 0)
			e->len += (size_t)n;
		if (e->len >= sizeof e->path)
			e->len = sizeof e->path - 1;
	}
	return old;
}

static void pop(eq_t *e, size_t old)
{
	e->len = old;
	e->path[old] = 0;
}

static bool fail(eq_t *e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(eq_t *e, const char *field, const char *fmt, ...)
{
	if (!e->diff || !e->size)
		return false;
	char detail[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	snprintf(e->diff, e->size, "%s%s%s: %s", e->path, e->len && field[0] ? "." : "", field,
	         detail);
	return false;
}

static bool eq_u(eq_t *e, const char *field, uint64_t a, uint64_t b)
{
	if (a == b)
		return true;
	return fail(e, field, "%" PRIu64 " vs %" PRIu64, a, b);
}

static bool eq_i(eq_t *e, const char *field, int64_t a, int64_t b)
{
	if (a == b)
		return true;
	return fail(e, field, "%" PRId64 " vs %" PRId64, a, b);
}

/* Bitwise, so -0.0 != 0.0 and the check is exact. */
static bool eq_d(eq_t *e, const char *field, double a, double b)
{
	uint64_t x, y;
	memcpy(&x, &a, sizeof x);
	memcpy(&y, &b, sizeof y);
	if (x == y)
		return true;
	return fail(e, field, "%.17g (0x%016" PRIx64 ") vs %.17g (0x%016" PRIx64 ")", a, x, b, y);
}

/* Up to 16 bytes from off as hex, for the failure message. */
static void hex_excerpt(char *out, size_t size, otf_bytes_t v, size_t off)
{
	size_t n = 0;
	out[0] = 0;
	for (size_t i = off; i < v.len && i < off + 16 && n + 3 < size; i++)
		n += (size_t)snprintf(out + n, size - n, "%02x", v.ptr[i]);
}

static bool eq_b(eq_t *e, const char *field, otf_bytes_t a, otf_bytes_t b)
{
	if (a.len != b.len)
		return fail(e, field, "len %zu vs %zu", a.len, b.len);
	if (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0)
		return true;
	size_t i = 0;
	while (a.ptr[i] == b.ptr[i])
		i++;
	char x[40], y[40];
	hex_excerpt(x, sizeof x, a, i);
	hex_excerpt(y, sizeof y, b, i);
	return fail(e, field, "bytes differ at %zu: %s vs %s", i, x, y);
}

#define U(f)                                  \
	do {                                  \
		if (!eq_u(e, #f, a->f, b->f)) \
			return false;         \
	} while (0)
#define I(f)                                  \
	do {                                  \
		if (!eq_i(e, #f, a->f, b->f)) \
			return false;         \
	} while (0)
#define D(f)                                  \
	do {                                  \
		if (!eq_d(e, #f, a->f, b->f)) \
			return false;         \
	} while (0)
#define B(f)                                  \
	do {                                  \
		if (!eq_b(e, #f, a->f, b->f)) \
			return false;         \
	} while (0)

/* A repeated field: lengths, then each element under "name[i]". */
#define EACH(items, n, fn)                                                                 \
	do {                                                                               \
		if (!eq_u(e, #items ".len", a->n, b->n))                                   \
			return false;                                                      \
		for (size_t i_ = 0; i_ < a->n; i_++) {                                     \
			size_t old_ = push(e, "%s" #items "[%zu]", e->len ? "." : "", i_); \
			if (!fn(e, &a->items[i_], &b->items[i_]))                          \
				return false;                                              \
			pop(e, old_);                                                      \
		}                                                                          \
	} while (0)

/* A nested message under "name". */
#define SUB(f, fn)                                                 \
	do {                                                       \
		size_t old_ = push(e, "%s" #f, e->len ? "." : ""); \
		if (!fn(e, &a->f, &b->f))                          \
			return false;                              \
		pop(e, old_);                                      \
	} while (0)

/* ---- common ---- */

static bool any_eq(eq_t *e, const otf_any_value_t *a, const otf_any_value_t *b);

static bool kv_eq(eq_t *e, const otf_key_value_t *a, const otf_key_value_t *b)
{
	B(key);
	SUB(value, any_eq);
	return true;
}

static bool any_eq(eq_t *e, const otf_any_value_t *a, const otf_any_value_t *b)
{
	I(type);
	switch (a->type) {
	case OTF_ANY_EMPTY:
		return true;
	case OTF_ANY_STRING:
		B(u.string_value);
		return true;
	case OTF_ANY_BOOL:
		U(u.bool_value);
		return true;
	case OTF_ANY_INT:
		I(u.int_value);
		return true;
	case OTF_ANY_DOUBLE:
		D(u.double_value);
		return true;
	case OTF_ANY_BYTES:
		B(u.bytes_value);
		return true;
	case OTF_ANY_ARRAY:
		EACH(u.array_value.values, u.array_value.values_len, any_eq);
		return true;
	case OTF_ANY_KVLIST:
		EACH(u.kvlist_value.values, u.kvlist_value.values_len, kv_eq);
		return true;
	}
	return fail(e, "type", "unknown AnyValue type %d", (int)a->type);
}

static bool attrs_eq(eq_t *e, const otf_attributes_t *a, const otf_attributes_t *b)
{
	EACH(items, len, kv_eq);
	return true;
}

static bool str_eq(eq_t *e, const otf_bytes_t *a, const otf_bytes_t *b)
{
	return eq_b(e, "", *a, *b);
}

static bool strlist_eq(eq_t *e, const otf_string_list_t *a, const otf_string_list_t *b)
{
	EACH(items, len, str_eq);
	return true;
}

static bool entity_ref_eq(eq_t *e, const otf_entity_ref_t *a, const otf_entity_ref_t *b)
{
	B(schema_url);
	B(type);
	SUB(id_keys, strlist_eq);
	SUB(description_keys, strlist_eq);
	return true;
}

static bool resource_eq(eq_t *e, const otf_resource_t *a, const otf_resource_t *b)
{
	SUB(attributes, attrs_eq);
	U(dropped_attributes_count);
	EACH(entity_refs, entity_refs_len, entity_ref_eq);
	return true;
}

static bool scope_eq(eq_t *e, const otf_scope_t *a, const otf_scope_t *b)
{
	B(name);
	B(version);
	SUB(attributes, attrs_eq);
	U(dropped_attributes_count);
	return true;
}

/* ---- traces ---- */

static bool event_eq(eq_t *e, const otf_span_event_t *a, const otf_span_event_t *b)
{
	U(time_unix_nano);
	B(name);
	SUB(attributes, attrs_eq);
	U(dropped_attributes_count);
	return true;
}

static bool link_eq(eq_t *e, const otf_span_link_t *a, const otf_span_link_t *b)
{
	B(trace_id);
	B(span_id);
	B(trace_state);
	SUB(attributes, attrs_eq);
	U(dropped_attributes_count);
	U(flags);
	return true;
}

static bool span_eq(eq_t *e, const otf_span_t *a, const otf_span_t *b)
{
	B(trace_id);
	B(span_id);
	B(trace_state);
	B(parent_span_id);
	U(flags);
	B(name);
	I(kind);
	U(start_time_unix_nano);
	U(end_time_unix_nano);
	SUB(attributes, attrs_eq);
	U(dropped_attributes_count);
	EACH(events, events_len, event_eq);
	U(dropped_events_count);
	EACH(links, links_len, link_eq);
	U(dropped_links_count);
	B(status.message);
	I(status.code);
	return true;
}

static bool scope_spans_eq(eq_t *e, const otf_scope_spans_t *a, const otf_scope_spans_t *b)
{
	SUB(scope, scope_eq);
	EACH(spans, spans_len, span_eq);
	B(schema_url);
	return true;
}

static bool resource_spans_eq(eq_t *e, const otf_resource_spans_t *a, const otf_resource_spans_t *b)
{
	SUB(resource, resource_eq);
	EACH(scope_spans, scope_spans_len, scope_spans_eq);
	B(schema_url);
	return true;
}

bool otf_eq_traces(const otf_traces_t *a, const otf_traces_t *b, char *diff, size_t size)
{
	eq_t ctx, *e = &ctx;
	eq_begin(e, diff, size);
	EACH(resource_spans, resource_spans_len, resource_spans_eq);
	return true;
}

/* ---- metrics ---- */

static bool exemplar_eq(eq_t *e, const otf_exemplar_t *a, const otf_exemplar_t *b)
{
	SUB(filtered_attributes, attrs_eq);
	U(time_unix_nano);
	I(value_type);
	if (a->value_type == OTF_NUMBER_DOUBLE)
		D(value.as_double);
	else if (a->value_type == OTF_NUMBER_INT)
		I(value.as_int);
	B(span_id);
	B(trace_id);
	return true;
}

static bool exemplars_eq(eq_t *e, const otf_exemplars_t *a, const otf_exemplars_t *b)
{
	EACH(items, len, exemplar_eq);
	return true;
}

static bool number_dp_eq(eq_t *e, const otf_number_data_point_t *a,
                         const otf_number_data_point_t *b)
{
	SUB(attributes, attrs_eq);
	U(start_time_unix_nano);
	U(time_unix_nano);
	I(value_type);
	if (a->value_type == OTF_NUMBER_DOUBLE)
		D(value.as_double);
	else if (a->value_type == OTF_NUMBER_INT)
		I(value.as_int);
	SUB(exemplars, exemplars_eq);
	U(flags);
	return true;
}

static bool u64_eq(eq_t *e, const uint64_t *a, const uint64_t *b)
{
	return eq_u(e, "", *a, *b);
}

static bool double_eq(eq_t *e, const double *a, const double *b)
{
	return eq_d(e, "", *a, *b);
}

static bool histogram_dp_eq(eq_t *e, const otf_histogram_data_point_t *a,
                            const otf_histogram_data_point_t *b)
{
	SUB(attributes, attrs_eq);
	U(start_time_unix_nano);
	U(time_unix_nano);
	U(count);
	U(has_sum);
	if (a->has_sum)
		D(sum);
	EACH(bucket_counts, bucket_counts_len, u64_eq);
	EACH(explicit_bounds, explicit_bounds_len, double_eq);
	SUB(exemplars, exemplars_eq);
	U(flags);
	U(has_min);
	if (a->has_min)
		D(min);
	U(has_max);
	if (a->has_max)
		D(max);
	return true;
}

static bool exp_buckets_eq(eq_t *e, const otf_exp_buckets_t *a, const otf_exp_buckets_t *b)
{
	I(offset);
	EACH(bucket_counts, bucket_counts_len, u64_eq);
	return true;
}

static bool exp_histogram_dp_eq(eq_t *e, const otf_exp_histogram_data_point_t *a,
                                const otf_exp_histogram_data_point_t *b)
{
	SUB(attributes, attrs_eq);
	U(start_time_unix_nano);
	U(time_unix_nano);
	U(count);
	U(has_sum);
	if (a->has_sum)
		D(sum);
	I(scale);
	U(zero_count);
	SUB(positive, exp_buckets_eq);
	SUB(negative, exp_buckets_eq);
	U(flags);
	SUB(exemplars, exemplars_eq);
	U(has_min);
	if (a->has_min)
		D(min);
	U(has_max);
	if (a->has_max)
		D(max);
	D(zero_threshold);
	return true;
}

static bool quantile_eq(eq_t *e, const otf_quantile_value_t *a, const otf_quantile_value_t *b)
{
	D(quantile);
	D(value);
	return true;
}

static bool summary_dp_eq(eq_t *e, const otf_summary_data_point_t *a,
                          const otf_summary_data_point_t *b)
{
	SUB(attributes, attrs_eq);
	U(start_time_unix_nano);
	U(time_unix_nano);
	U(count);
	D(sum);
	EACH(quantile_values, quantile_values_len, quantile_eq);
	U(flags);
	return true;
}

static bool metric_eq(eq_t *e, const otf_metric_t *a, const otf_metric_t *b)
{
	B(name);
	B(description);
	B(unit);
	I(type);
	switch (a->type) {
	case OTF_METRIC_NONE:
		U(data_points_len);
		break;
	case OTF_METRIC_GAUGE:
	case OTF_METRIC_SUM:
		EACH(data_points.number, data_points_len, number_dp_eq);
		break;
	case OTF_METRIC_HISTOGRAM:
		EACH(data_points.histogram, data_points_len, histogram_dp_eq);
		break;
	case OTF_METRIC_EXP_HISTOGRAM:
		EACH(data_points.exp_histogram, data_points_len, exp_histogram_dp_eq);
		break;
	case OTF_METRIC_SUMMARY:
		EACH(data_points.summary, data_points_len, summary_dp_eq);
		break;
	default:
		return fail(e, "type", "unknown metric type %d", (int)a->type);
	}
	I(aggregation_temporality);
	U(is_monotonic);
	SUB(metadata, attrs_eq);
	return true;
}

static bool scope_metrics_eq(eq_t *e, const otf_scope_metrics_t *a, const otf_scope_metrics_t *b)
{
	SUB(scope, scope_eq);
	EACH(metrics, metrics_len, metric_eq);
	B(schema_url);
	return true;
}

static bool resource_metrics_eq(eq_t *e, const otf_resource_metrics_t *a,
                                const otf_resource_metrics_t *b)
{
	SUB(resource, resource_eq);
	EACH(scope_metrics, scope_metrics_len, scope_metrics_eq);
	B(schema_url);
	return true;
}

bool otf_eq_metrics(const otf_metrics_t *a, const otf_metrics_t *b, char *diff, size_t size)
{
	eq_t ctx, *e = &ctx;
	eq_begin(e, diff, size);
	EACH(resource_metrics, resource_metrics_len, resource_metrics_eq);
	return true;
}

/* ---- logs ---- */

static bool log_record_eq(eq_t *e, const otf_log_record_t *a, const otf_log_record_t *b)
{
	U(time_unix_nano);
	U(observed_time_unix_nano);
	I(severity_number);
	B(severity_text);
	SUB(body, any_eq);
	SUB(attributes, attrs_eq);
	U(dropped_attributes_count);
	U(flags);
	B(trace_id);
	B(span_id);
	B(event_name);
	return true;
}

static bool scope_logs_eq(eq_t *e, const otf_scope_logs_t *a, const otf_scope_logs_t *b)
{
	SUB(scope, scope_eq);
	EACH(log_records, log_records_len, log_record_eq);
	B(schema_url);
	return true;
}

static bool resource_logs_eq(eq_t *e, const otf_resource_logs_t *a, const otf_resource_logs_t *b)
{
	SUB(resource, resource_eq);
	EACH(scope_logs, scope_logs_len, scope_logs_eq);
	B(schema_url);
	return true;
}

bool otf_eq_logs(const otf_logs_t *a, const otf_logs_t *b, char *diff, size_t size)
{
	eq_t ctx, *e = &ctx;
	eq_begin(e, diff, size);
	EACH(resource_logs, resource_logs_len, resource_logs_eq);
	return true;
}

/* ---- responses and single values ---- */

bool otf_eq_response(const otf_export_response_t *a, const otf_export_response_t *b, char *diff,
                     size_t size)
{
	eq_t ctx, *e = &ctx;
	eq_begin(e, diff, size);
	U(has_partial_success);
	I(rejected);
	B(error_message);
	return true;
}

bool otf_eq_any(const otf_any_value_t *a, const otf_any_value_t *b, char *diff, size_t size)
{
	eq_t ctx;
	eq_begin(&ctx, diff, size);
	return any_eq(&ctx, a, b);
}
