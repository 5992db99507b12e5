/* OTLP data model (pdata): traces, metrics and logs of opentelemetry-proto v1.
 *
 * Source: opentelemetry-proto, the v1 schemas common.proto, resource.proto,
 * trace.proto, metrics.proto, logs.proto and the collector service protos.
 * Field names below are the proto field names; numbers in comments are the
 * proto field numbers.
 *
 * Shape: a tree of plain structs. Repeated fields are a pointer plus a
 * `_len` count. All nodes live in an otf_arena_t owned by the caller.
 *
 * Zero-copy: after otf_pdata_decode_*(), every otf_bytes_t (strings, ids,
 * bytes values) points into the *input buffer*, which must outlive the tree.
 * Strings are NOT NUL-terminated; use .len. Strings are valid UTF-8 (the
 * decoder checks, as proto3 requires). Packed numeric arrays (bucket counts,
 * bounds) are copied into the arena because the wire is not aligned.
 *
 * Units: every *_unix_nano field is nanoseconds since the UNIX epoch (UTC);
 * 0 means unset. Counts are items.
 *
 * Thread rules: a tree is plain data; it may be read from any thread, and
 * must be written by one thread at a time.
 */
#ifndef OTFLOW_PDATA_H
#define OTFLOW_PDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A byte range: a string (UTF-8, not NUL-terminated), an id or bytes. */
typedef struct otf_bytes {
	const uint8_t *ptr;
	size_t len;
} otf_bytes_t;

#define OTF_TRACE_ID_LEN 16
#define OTF_SPAN_ID_LEN  8

/* AnyValue (common.proto). The enum values are the oneof's field numbers. */
typedef enum otf_any_type {
	OTF_ANY_EMPTY = 0, /* no oneof member set */
	OTF_ANY_STRING = 1,
	OTF_ANY_BOOL = 2,
	OTF_ANY_INT = 3,
	OTF_ANY_DOUBLE = 4,
	OTF_ANY_ARRAY = 5,
	OTF_ANY_KVLIST = 6,
	OTF_ANY_BYTES = 7,
} otf_any_type_t;

typedef struct otf_key_value otf_key_value_t;
typedef struct otf_any_value otf_any_value_t;

struct otf_any_value {
	otf_any_type_t type;
	union {
		otf_bytes_t string_value; /* 1 */
		bool bool_value;          /* 2 */
		int64_t int_value;        /* 3 */
		double double_value;      /* 4 */
		struct {
			otf_any_value_t *values;
			size_t values_len;
		} array_value; /* 5: ArrayValue.values = 1 */
		struct {
			otf_key_value_t *values;
			size_t values_len;
		} kvlist_value;          /* 6: KeyValueList.values = 1 */
		otf_bytes_t bytes_value; /* 7 */
	} u;
};

/* KeyValue: key = 1, value = 2. A missing value decodes as OTF_ANY_EMPTY. */
struct otf_key_value {
	otf_bytes_t key;
	otf_any_value_t value;
};

/* An attribute list: `repeated KeyValue`. */
typedef struct otf_attributes {
	otf_key_value_t *items;
	size_t len;
} otf_attributes_t;

/* A `repeated string` (EntityRef keys). */
typedef struct otf_string_list {
	otf_bytes_t *items;
	size_t len;
} otf_string_list_t;

/* EntityRef (common.proto, Development status). */
typedef struct otf_entity_ref {
	otf_bytes_t schema_url;             /* 1 */
	otf_bytes_t type;                   /* 2 */
	otf_string_list_t id_keys;          /* 3 */
	otf_string_list_t description_keys; /* 4 */
} otf_entity_ref_t;

/* Resource (resource.proto). */
typedef struct otf_resource {
	otf_attributes_t attributes;       /* 1 */
	uint32_t dropped_attributes_count; /* 2 */
	otf_entity_ref_t *entity_refs;     /* 3 */
	size_t entity_refs_len;
} otf_resource_t;

/* InstrumentationScope (common.proto). */
typedef struct otf_scope {
	otf_bytes_t name;                  /* 1 */
	otf_bytes_t version;               /* 2 */
	otf_attributes_t attributes;       /* 3 */
	uint32_t dropped_attributes_count; /* 4 */
} otf_scope_t;

/* ---- traces (trace.proto) ---- */

typedef enum otf_span_kind {
	OTF_SPAN_KIND_UNSPECIFIED = 0,
	OTF_SPAN_KIND_INTERNAL = 1,
	OTF_SPAN_KIND_SERVER = 2,
	OTF_SPAN_KIND_CLIENT = 3,
	OTF_SPAN_KIND_PRODUCER = 4,
	OTF_SPAN_KIND_CONSUMER = 5,
} otf_span_kind_t;

typedef enum otf_status_code {
	OTF_STATUS_CODE_UNSET = 0,
	OTF_STATUS_CODE_OK = 1,
	OTF_STATUS_CODE_ERROR = 2,
} otf_status_code_t;

typedef struct otf_span_event {
	uint64_t time_unix_nano;           /* 1, fixed64 */
	otf_bytes_t name;                  /* 2 */
	otf_attributes_t attributes;       /* 3 */
	uint32_t dropped_attributes_count; /* 4 */
} otf_span_event_t;

typedef struct otf_span_link {
	otf_bytes_t trace_id;              /* 1, 16 bytes or empty */
	otf_bytes_t span_id;               /* 2, 8 bytes or empty */
	otf_bytes_t trace_state;           /* 3 */
	otf_attributes_t attributes;       /* 4 */
	uint32_t dropped_attributes_count; /* 5 */
	uint32_t flags;                    /* 6, fixed32 */
} otf_span_link_t;

typedef struct otf_status {
	otf_bytes_t message; /* 2 */
	int32_t code;        /* 3, otf_status_code_t (unknown values kept) */
} otf_status_t;

typedef struct otf_span {
	otf_bytes_t trace_id;              /* 1, 16 bytes or empty */
	otf_bytes_t span_id;               /* 2, 8 bytes or empty */
	otf_bytes_t trace_state;           /* 3 */
	otf_bytes_t parent_span_id;        /* 4, 8 bytes or empty */
	uint32_t flags;                    /* 16, fixed32 */
	otf_bytes_t name;                  /* 5 */
	int32_t kind;                      /* 6, otf_span_kind_t */
	uint64_t start_time_unix_nano;     /* 7, fixed64 */
	uint64_t end_time_unix_nano;       /* 8, fixed64 */
	otf_attributes_t attributes;       /* 9 */
	uint32_t dropped_attributes_count; /* 10 */
	otf_span_event_t *events;          /* 11 */
	size_t events_len;
	uint32_t dropped_events_count; /* 12 */
	otf_span_link_t *links;        /* 13 */
	size_t links_len;
	uint32_t dropped_links_count; /* 14 */
	otf_status_t status;          /* 15 */
} otf_span_t;

typedef struct otf_scope_spans {
	otf_scope_t scope; /* 1 */
	otf_span_t *spans; /* 2 */
	size_t spans_len;
	otf_bytes_t schema_url; /* 3 */
} otf_scope_spans_t;

typedef struct otf_resource_spans {
	otf_resource_t resource;        /* 1 */
	otf_scope_spans_t *scope_spans; /* 2 */
	size_t scope_spans_len;
	otf_bytes_t schema_url; /* 3 */
} otf_resource_spans_t;

/* TracesData == ExportTraceServiceRequest (resource_spans = 1). */
typedef struct otf_traces {
	otf_resource_spans_t *resource_spans;
	size_t resource_spans_len;
} otf_traces_t;

/* ---- metrics (metrics.proto) ---- */

typedef enum otf_temporality {
	OTF_TEMPORALITY_UNSPECIFIED = 0,
	OTF_TEMPORALITY_DELTA = 1,
	OTF_TEMPORALITY_CUMULATIVE = 2,
} otf_temporality_t;

/* DataPointFlags: bit 0 = no recorded value. */
#define OTF_DATA_POINT_FLAG_NO_RECORDED_VALUE 1u

/* Which oneof member of NumberDataPoint.value / Exemplar.value is set. */
typedef enum otf_number_type {
	OTF_NUMBER_NONE = 0,
	OTF_NUMBER_DOUBLE = 1, /* as_double */
	OTF_NUMBER_INT = 2,    /* as_int (sfixed64) */
} otf_number_type_t;

typedef struct otf_exemplar {
	otf_attributes_t filtered_attributes; /* 7 */
	uint64_t time_unix_nano;              /* 2, fixed64 */
	otf_number_type_t value_type;         /* 3 as_double | 6 as_int */
	union {
		double as_double;
		int64_t as_int;
	} value;
	otf_bytes_t span_id;  /* 4 */
	otf_bytes_t trace_id; /* 5 */
} otf_exemplar_t;

typedef struct otf_exemplars {
	otf_exemplar_t *items;
	size_t len;
} otf_exemplars_t;

typedef struct otf_number_data_point {
	otf_attributes_t attributes;   /* 7 */
	uint64_t start_time_unix_nano; /* 2 */
	uint64_t time_unix_nano;       /* 3 */
	otf_number_type_t value_type;  /* 4 as_double | 6 as_int */
	union {
		double as_double;
		int64_t as_int;
	} value;
	otf_exemplars_t exemplars; /* 5 */
	uint32_t flags;            /* 8 */
} otf_number_data_point_t;

typedef struct otf_histogram_data_point {
	otf_attributes_t attributes;   /* 9 */
	uint64_t start_time_unix_nano; /* 2 */
	uint64_t time_unix_nano;       /* 3 */
	uint64_t count;                /* 4, fixed64 */
	bool has_sum;                  /* 5, optional double */
	double sum;
	uint64_t *bucket_counts; /* 6, packed fixed64 */
	size_t bucket_counts_len;
	double *explicit_bounds; /* 7, packed double */
	size_t explicit_bounds_len;
	otf_exemplars_t exemplars; /* 8 */
	uint32_t flags;            /* 10 */
	bool has_min;              /* 11, optional double */
	double min;
	bool has_max; /* 12, optional double */
	double max;
} otf_histogram_data_point_t;

typedef struct otf_exp_buckets {
	int32_t offset;          /* 1, sint32 */
	uint64_t *bucket_counts; /* 2, packed uint64 */
	size_t bucket_counts_len;
} otf_exp_buckets_t;

typedef struct otf_exp_histogram_data_point {
	otf_attributes_t attributes;   /* 1 */
	uint64_t start_time_unix_nano; /* 2 */
	uint64_t time_unix_nano;       /* 3 */
	uint64_t count;                /* 4, fixed64 */
	bool has_sum;                  /* 5, optional double */
	double sum;
	int32_t scale;              /* 6, sint32 */
	uint64_t zero_count;        /* 7, fixed64 */
	otf_exp_buckets_t positive; /* 8 */
	otf_exp_buckets_t negative; /* 9 */
	uint32_t flags;             /* 10 */
	otf_exemplars_t exemplars;  /* 11 */
	bool has_min;               /* 12, optional double */
	double min;
	bool has_max; /* 13, optional double */
	double max;
	double zero_threshold; /* 14 */
} otf_exp_histogram_data_point_t;

typedef struct otf_quantile_value {
	double quantile; /* 1 */
	double value;    /* 2 */
} otf_quantile_value_t;

typedef struct otf_summary_data_point {
	otf_attributes_t attributes;           /* 7 */
	uint64_t start_time_unix_nano;         /* 2 */
	uint64_t time_unix_nano;               /* 3 */
	uint64_t count;                        /* 4, fixed64 */
	double sum;                            /* 5 */
	otf_quantile_value_t *quantile_values; /* 6 */
	size_t quantile_values_len;
	uint32_t flags; /* 8 */
} otf_summary_data_point_t;

/* Which oneof member of Metric.data is set; values are field numbers. */
typedef enum otf_metric_type {
	OTF_METRIC_NONE = 0,
	OTF_METRIC_GAUGE = 5,
	OTF_METRIC_SUM = 7,
	OTF_METRIC_HISTOGRAM = 9,
	OTF_METRIC_EXP_HISTOGRAM = 10,
	OTF_METRIC_SUMMARY = 11,
} otf_metric_type_t;

typedef struct otf_metric {
	otf_bytes_t name;        /* 1 */
	otf_bytes_t description; /* 2 */
	otf_bytes_t unit;        /* 3 */
	otf_metric_type_t type;
	/* Data points of the set member; which array is used follows type:
	 * GAUGE and SUM -> number, HISTOGRAM -> histogram, EXP_HISTOGRAM ->
	 * exp_histogram, SUMMARY -> summary. */
	union {
		otf_number_data_point_t *number;
		otf_histogram_data_point_t *histogram;
		otf_exp_histogram_data_point_t *exp_histogram;
		otf_summary_data_point_t *summary;
	} data_points;
	size_t data_points_len;
	int32_t aggregation_temporality; /* SUM, HISTOGRAM, EXP_HISTOGRAM: 2 */
	bool is_monotonic;               /* SUM: 3 */
	otf_attributes_t metadata;       /* 12 */
} otf_metric_t;

typedef struct otf_scope_metrics {
	otf_scope_t scope;     /* 1 */
	otf_metric_t *metrics; /* 2 */
	size_t metrics_len;
	otf_bytes_t schema_url; /* 3 */
} otf_scope_metrics_t;

typedef struct otf_resource_metrics {
	otf_resource_t resource;            /* 1 */
	otf_scope_metrics_t *scope_metrics; /* 2 */
	size_t scope_metrics_len;
	otf_bytes_t schema_url; /* 3 */
} otf_resource_metrics_t;

/* MetricsData == ExportMetricsServiceRequest (resource_metrics = 1). */
typedef struct otf_metrics {
	otf_resource_metrics_t *resource_metrics;
	size_t resource_metrics_len;
} otf_metrics_t;

/* ---- logs (logs.proto) ---- */

typedef struct otf_log_record {
	uint64_t time_unix_nano;           /* 1, fixed64 */
	uint64_t observed_time_unix_nano;  /* 11, fixed64 */
	int32_t severity_number;           /* 2, SeverityNumber 0..24 */
	otf_bytes_t severity_text;         /* 3 */
	otf_any_value_t body;              /* 5 */
	otf_attributes_t attributes;       /* 6 */
	uint32_t dropped_attributes_count; /* 7 */
	uint32_t flags;                    /* 8, fixed32 */
	otf_bytes_t trace_id;              /* 9, 16 bytes or empty */
	otf_bytes_t span_id;               /* 10, 8 bytes or empty */
	otf_bytes_t event_name;            /* 12 */
} otf_log_record_t;

typedef struct otf_scope_logs {
	otf_scope_t scope;             /* 1 */
	otf_log_record_t *log_records; /* 2 */
	size_t log_records_len;
	otf_bytes_t schema_url; /* 3 */
} otf_scope_logs_t;

typedef struct otf_resource_logs {
	otf_resource_t resource;      /* 1 */
	otf_scope_logs_t *scope_logs; /* 2 */
	size_t scope_logs_len;
	otf_bytes_t schema_url; /* 3 */
} otf_resource_logs_t;

/* LogsData == ExportLogsServiceRequest (resource_logs = 1). */
typedef struct otf_logs {
	otf_resource_logs_t *resource_logs;
	size_t resource_logs_len;
} otf_logs_t;

/* ---- collector service responses ---- */

/* Export{Trace,Metrics,Logs}ServiceResponse: partial_success = 1, holding
 * rejected_{spans,data_points,log_records} = 1 (int64) and
 * error_message = 2. */
typedef struct otf_export_response {
	bool has_partial_success;
	int64_t rejected; /* items rejected by the server */
	otf_bytes_t error_message;
} otf_export_response_t;

/* The three OTLP signals. */
typedef enum otf_signal {
	OTF_SIGNAL_TRACES = 0,
	OTF_SIGNAL_METRICS = 1,
	OTF_SIGNAL_LOGS = 2,
} otf_signal_t;

const char *otf_signal_name(otf_signal_t s); /* "traces", "metrics", "logs" */

#ifdef __cplusplus
}
#endif
#endif
