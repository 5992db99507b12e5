/* Protobuf views: a lazy, allocation-free walker over raw OTLP protobuf
 * bytes (TracesData / MetricsData / LogsData, which are wire-identical to
 * the Export*ServiceRequest messages), for counting, routing and
 * pass-through without decoding into a tree.
 *
 * Source: protobuf wire format (protobuf.dev/programming-guides/encoding)
 * and the opentelemetry-proto v1 schemas; field numbers are listed in
 * otflow/pdata.h.
 *
 * Shape: every message is an otf_bytes_t slice. A repeated message field is
 * walked with an otf_view_iter_t the caller keeps on its stack:
 *
 *     otf_view_iter_t rit, sit, lit;
 *     otf_bytes_t rl, sl, rec;
 *     otf_view_resources(&rit, data, len);
 *     while ((rc = otf_view_iter_next(&rit, &rl)) > 0) {      // ResourceLogs
 *             otf_view_scopes(&sit, rl);
 *             while ((rc = otf_view_iter_next(&sit, &sl)) > 0) { // ScopeLogs
 *                     otf_view_records(&lit, sl);
 *                     while ((rc = otf_view_iter_next(&lit, &rec)) > 0) {
 *                             otf_view_log_t log;
 *                             if (otf_view_log_read(rec, &log) == 0) ...
 *                     }
 *             }
 *     }
 *     if (rc < 0) ... malformed
 *
 * The three signals share the outer shape: *Data.resource_* = 1,
 * Resource*.{resource = 1, scope_* = 2, schema_url = 3},
 * Scope*.{scope = 1, spans|metrics|log_records = 2, schema_url = 3}, so the
 * same functions walk all three.
 *
 * Ownership: every slice points into the caller's input, which must outlive
 * it. Nothing is copied or allocated; strings are not NUL-terminated.
 *
 * Laziness: only the bytes a call walks are checked. Each read is
 * bounds-checked (tags, varints, length prefixes, fixed-width fields) and a
 * known field with the wrong wire type fails, but strings are not checked
 * for UTF-8, ids are returned with whatever length they have (the decoder,
 * otflow/pdata_codec.h, checks both), and the inside of a record is not
 * looked at until it is read. So a view may accept input the decoder
 * rejects, never the reverse: when otf_pdata_decode_*() succeeds the
 * counts below agree with the decoded tree.
 *
 * Duplicates: when a singular field appears more than once, the *_read
 * functions return its last occurrence. For Metric.data this is also what
 * the counts and data point iterators use, the decoder's rule: the last
 * oneof occurrence wins outright. (proto3 would merge two occurrences of
 * the same member; canonical encoders never write two.)
 *
 * Errors: negative OTF_E_* codes: OTF_E_TRUNCATED, OTF_E_VARINT,
 * OTF_E_LENGTH (a length prefix runs past its enclosing message),
 * OTF_E_WIRETYPE (a known field with another wire type, or a group),
 * OTF_E_FIELD_NUMBER (field number 0). Iterators keep the first error and
 * the position where it was detected (err_at). Truncated input either fails
 * or, when cut at a field boundary, walks fewer items; it never reads past
 * data + len.
 *
 * Thread rules: no state besides the caller's structs; all functions are
 * reentrant and the input may be walked from several threads at once.
 */
#ifndef OTFLOW_PDATA_VIEW_H
#define OTFLOW_PDATA_VIEW_H

#include "otflow/pdata.h"
#include "otflow/pdata_codec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- iteration over a repeated message (or bytes/string) field ---- */

typedef struct otf_view_iter {
	const uint8_t *p;      /* next unread byte of the enclosing message */
	const uint8_t *end;    /* end of the enclosing message */
	const uint8_t *err_at; /* start of the malformed field; NULL while none */
	uint32_t field;        /* field number walked */
	int err;               /* first error (sticky), 0 while none */
} otf_view_iter_t;

/* Walks the occurrences of length-delimited field `field` in msg. */
void otf_view_iter_init(otf_view_iter_t *it, otf_bytes_t msg, uint32_t field);

/* 1 and *out = the next occurrence's contents; 0 at the end of msg; a
 * negative OTF_E_* code on malformed input (repeated on later calls). */
int otf_view_iter_next(otf_view_iter_t *it, otf_bytes_t *out);

/* As otf_view_iter_next, and *raw = the whole occurrence, from its tag to
 * its last byte: what a router copies verbatim to slice a request into
 * several (content_router) without decoding and re-encoding it. */
int otf_view_iter_next_raw(otf_view_iter_t *it, otf_bytes_t *out, otf_bytes_t *raw);

/* The common shape, inline for hot loops: a length-delimited field with
 * a one-byte tag and a length that fits at *pp. Returns its field number
 * with *pp past the length and *len set; 0 (nothing moved) for anything
 * else (a longer tag, another wire type, a length past end): read it with
 * the functions here, which also report malformed bytes. */
static inline uint32_t otf_view_ld_field(const uint8_t **pp, const uint8_t *end, size_t *len)
{
	const uint8_t *p = *pp;
	if (end - p < 2 || (p[0] & 0x87) != 0x02)
		return 0;
	uint32_t f = (uint32_t)p[0] >> 3;
	uint64_t n = p[1];
	p += 2;
	if (n & 0x80) {
		n &= 0x7f;
		for (int shift = 7;; shift += 7) {
			if (p == end || shift > 28)
				return 0;
			uint8_t b = *p++;
			n |= (uint64_t)(b & 0x7f) << shift;
			if (!(b & 0x80))
				break;
		}
	}
	if (n > (uint64_t)(end - p))
		return 0;
	*len = (size_t)n;
	*pp = p;
	return f;
}

/* Byte offset of the error relative to base (the start of the input), or
 * 0 when there is none. */
size_t otf_view_iter_err_offset(const otf_view_iter_t *it, const uint8_t *base);

/* Field numbers for otf_view_iter_init() on records and data points. */
enum {
	OTF_VIEW_SPAN_ATTRIBUTES = 9,
	OTF_VIEW_SPAN_EVENTS = 11,
	OTF_VIEW_SPAN_LINKS = 13,
	OTF_VIEW_EVENT_ATTRIBUTES = 3,
	OTF_VIEW_LINK_ATTRIBUTES = 4,
	OTF_VIEW_LOG_ATTRIBUTES = 6,
	OTF_VIEW_METRIC_METADATA = 12,
	OTF_VIEW_EXEMPLAR_ATTRIBUTES = 7, /* filtered_attributes */
	OTF_VIEW_ANY_ITEMS = 1,           /* ArrayValue.values, KeyValueList.values */
};

/* ---- resource and scope levels (all signals) ---- */

/* resource_spans | resource_metrics | resource_logs of a *Data message. */
void otf_view_resources(otf_view_iter_t *it, const uint8_t *data, size_t len);
/* scope_* of a Resource* message. */
void otf_view_scopes(otf_view_iter_t *it, otf_bytes_t resource_group);
/* spans | metrics | log_records of a Scope* message. */
void otf_view_records(otf_view_iter_t *it, otf_bytes_t scope_group);

/* Resource* or Scope* message: its head (Resource or InstrumentationScope,
 * field 1) and schema_url (field 3). Empty slices when absent. */
typedef struct otf_view_group {
	otf_bytes_t head;
	otf_bytes_t schema_url;
	bool has_head;
} otf_view_group_t;

int otf_view_group_read(otf_bytes_t msg, otf_view_group_t *out);

typedef struct otf_view_resource {
	uint32_t dropped_attributes_count;
	size_t entity_refs_len;
} otf_view_resource_t;

/* attributes: otf_view_resource_attributes(). */
int otf_view_resource_read(otf_bytes_t resource, otf_view_resource_t *out);
void otf_view_resource_attributes(otf_view_iter_t *it, otf_bytes_t resource);

typedef struct otf_view_scope {
	otf_bytes_t name;
	otf_bytes_t version;
	uint32_t dropped_attributes_count;
} otf_view_scope_t;

int otf_view_scope_read(otf_bytes_t scope, otf_view_scope_t *out);
void otf_view_scope_attributes(otf_view_iter_t *it, otf_bytes_t scope);

/* ---- attributes and AnyValue ---- */

/* KeyValue: key and the raw AnyValue message (empty when absent). */
int otf_view_kv_read(otf_bytes_t kv, otf_bytes_t *key, otf_bytes_t *value);

typedef struct otf_view_any {
	otf_any_type_t type; /* OTF_ANY_EMPTY when no member is set */
	union {
		otf_bytes_t bytes; /* STRING, BYTES; ARRAY and KVLIST: the raw
		                      ArrayValue / KeyValueList message, walk it
		                      with OTF_VIEW_ANY_ITEMS */
		bool b;
		int64_t i;
		double d;
	} u;
} otf_view_any_t;

int otf_view_any_read(otf_bytes_t any, otf_view_any_t *out);

/* ---- traces ---- */

typedef struct otf_view_span {
	otf_bytes_t trace_id, span_id, parent_span_id; /* raw; 16/8 bytes when valid */
	otf_bytes_t trace_state;
	otf_bytes_t name;
	otf_bytes_t status_message;
	uint64_t start_time_unix_nano, end_time_unix_nano;
	int32_t kind;        /* otf_span_kind_t */
	int32_t status_code; /* otf_status_code_t */
	uint32_t flags;
	uint32_t dropped_attributes_count, dropped_events_count, dropped_links_count;
} otf_view_span_t;

/* One pass over the span's fields; attributes, events and links are left
 * for iterators (OTF_VIEW_SPAN_*). */
int otf_view_span_read(otf_bytes_t span, otf_view_span_t *out);

typedef struct otf_view_event {
	uint64_t time_unix_nano;
	otf_bytes_t name;
	uint32_t dropped_attributes_count;
} otf_view_event_t;

int otf_view_event_read(otf_bytes_t event, otf_view_event_t *out);

typedef struct otf_view_link {
	otf_bytes_t trace_id, span_id, trace_state;
	uint32_t dropped_attributes_count;
	uint32_t flags;
} otf_view_link_t;

int otf_view_link_read(otf_bytes_t link, otf_view_link_t *out);

/* ---- logs ---- */

typedef struct otf_view_log {
	uint64_t time_unix_nano, observed_time_unix_nano;
	int32_t severity_number;
	otf_bytes_t severity_text;
	otf_bytes_t body; /* raw AnyValue message; otf_view_any_read() */
	bool has_body;
	uint32_t dropped_attributes_count;
	uint32_t flags;
	otf_bytes_t trace_id, span_id;
	otf_bytes_t event_name;
} otf_view_log_t;

int otf_view_log_read(otf_bytes_t log_record, otf_view_log_t *out);

/* ---- metrics ---- */

typedef struct otf_view_metric {
	otf_bytes_t name, description, unit;
	otf_metric_type_t type; /* the data oneof member set last */
	otf_bytes_t data;       /* its Gauge/Sum/... message */
	/* From the tag of that occurrence to the end of the metric (what
	 * otf_view_data_points() walks). */
	otf_bytes_t data_run;
	int32_t aggregation_temporality; /* SUM, HISTOGRAM, EXP_HISTOGRAM */
	bool is_monotonic;               /* SUM */
} otf_view_metric_t;

int otf_view_metric_read(otf_bytes_t metric, otf_view_metric_t *out);

/* Walks the data points of m's data message. */
typedef struct otf_view_dp_iter {
	otf_view_iter_t outer; /* occurrences of the data member in the metric */
	otf_view_iter_t inner; /* data_points = 1 of one occurrence */
	bool in;
} otf_view_dp_iter_t;

void otf_view_data_points(otf_view_dp_iter_t *it, const otf_view_metric_t *m);
/* 1 and *out = the next data point message; 0 at the end; < 0 on error. */
int otf_view_dp_next(otf_view_dp_iter_t *it, otf_bytes_t *out);

/* Common fields of the five data point kinds (type is the metric's). */
typedef struct otf_view_data_point {
	uint64_t start_time_unix_nano, time_unix_nano;
	uint32_t flags;
	otf_number_type_t value_type; /* GAUGE and SUM points */
	union {
		double as_double;
		int64_t as_int;
	} value;
	uint64_t count; /* HISTOGRAM, EXP_HISTOGRAM, SUMMARY */
	double sum;     /* when has_sum (always set for SUMMARY) */
	bool has_sum;
} otf_view_data_point_t;

int otf_view_data_point_read(otf_metric_type_t type, otf_bytes_t dp, otf_view_data_point_t *out);
/* Attributes and exemplars of a data point; their field numbers depend on
 * the type. An unknown type or SUMMARY's exemplars walk nothing. */
void otf_view_data_point_attributes(otf_view_iter_t *it, otf_metric_type_t type, otf_bytes_t dp);
void otf_view_data_point_exemplars(otf_view_iter_t *it, otf_metric_type_t type, otf_bytes_t dp);

/* ---- counting ---- */

typedef struct otf_view_counts {
	size_t resources;  /* Resource* messages */
	size_t scopes;     /* Scope* messages */
	size_t metrics;    /* metrics only: Metric messages */
	size_t records;    /* spans | data points | log records */
	size_t err_offset; /* on failure: byte offset where it was detected */
	/* otf_view_validate() only (0 from the count functions): */
	size_t items;      /* every repeated message but attributes (see below) */
	size_t attributes; /* KeyValue messages anywhere + ArrayValue elements */
} otf_view_counts_t;

/* Walks the whole input and fills *out (zeroed first). Records are skipped
 * without looking inside (metrics: each Metric is walked down to its data
 * points). 0 on success, a negative OTF_E_* code on malformed input. */
int otf_view_count_traces(const uint8_t *data, size_t len, otf_view_counts_t *out);
int otf_view_count_metrics(const uint8_t *data, size_t len, otf_view_counts_t *out);
int otf_view_count_logs(const uint8_t *data, size_t len, otf_view_counts_t *out);
int otf_view_count(otf_signal_t signal, const uint8_t *data, size_t len, otf_view_counts_t *out);

/* ---- validation ---- */

/* Bounds on what one request may make a decoder build. 0 selects no limit
 * (max_items, max_attributes) or OTF_PDATA_DEFAULT_MAX_DEPTH (max_depth). */
typedef struct otf_view_limits {
	size_t max_items;      /* counts.items */
	size_t max_attributes; /* counts.attributes */
	uint32_t max_depth;    /* AnyValue nesting, as otf_pdata_limits_t */
} otf_view_limits_t;

/* Defaults of the otlp receiver (docs/pdata.md, "Ingress limits"). An
 * empty log record is 2 bytes on the wire, so a 20 MiB body can announce
 * 10 million of them; SDK batches hold 512 (BatchSpanProcessor) to 8192
 * (the Collector's batch processor) records with up to 128 attributes
 * each, far below these. */
#define OTF_VIEW_DEFAULT_MAX_ITEMS      ((size_t)200000)
#define OTF_VIEW_DEFAULT_MAX_ATTRIBUTES ((size_t)2000000)

/* Walks the whole request and checks everything otf_pdata_decode_*()
 * checks (wire types, lengths, UTF-8 of every string field, trace ids of
 * 0/16 and span ids of 0/8 bytes, AnyValue depth, packed scalars), without
 * allocating or copying: 0 exactly when the decoder would accept the input
 * (with the same max_depth). Also fills *out: the count functions' fields
 * (the same values), plus
 *   items:      resource and scope groups, spans, span events, span links,
 *               metrics, data points, exemplars, quantile values, entity
 *               refs and log records (every repeated message other than
 *               attributes);
 *   attributes: every KeyValue (attributes, metadata, kvlist entries) and
 *               every ArrayValue element;
 * and stops with OTF_E_TOO_LARGE as soon as either passes its limit, so
 * the cost of a refused request is bounded by the limit, not by what it
 * announces. Errors: the decoder's codes (OTF_E_UTF8, OTF_E_ID_LENGTH,
 * OTF_E_DEPTH, OTF_E_WIRETYPE, ...), OTF_E_TOO_LARGE, OTF_E_INVAL (unknown
 * signal). *err (may be NULL) gets the field path and detail as the decoder
 * writes them, except that a depth failure names the attribute or body
 * holding the nesting rather than every level of it. limits NULL: no item
 * or attribute limit, default depth. Cost: one pass over valid bytes of the
 * usual shapes (a refused request: about two over the record list holding
 * the error, to report its path), about a third of a decode
 * (bench/codec_bench.c, docs/benchmarks.md). */
int otf_view_validate(otf_signal_t signal, const uint8_t *data, size_t len,
                      const otf_view_limits_t *limits, otf_view_counts_t *out,
                      otf_pdata_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
