/* Decoding of the otlp-mmap v1 messages (opentelemetry.proto.mmap.v1) into
 * the otflow pdata tree, with dictionary resolution and per-epoch caches.
 * Internal to the otlp_mmap receiver (docs/mmap-protocol.md).
 *
 * Everything resolved from the dictionary is validated (UTF-8 strings,
 * AnyValue depth, id lengths) and copied into the cache arena, so a
 * dictionary rewritten under us cannot change what was already resolved.
 * Caches live until otf__mmx_reset() (a new epoch).
 *
 * Thread rules: one context belongs to one thread.
 */
#ifndef OTF_MMAP_MSG_H
#define OTF_MMAP_MSG_H

#include "mmap_reader.h"

#include "otflow/arena.h"
#include "otflow/pdata.h"

typedef struct otf__mmx_tab {
	int64_t *keys;
	void **vals;
	size_t cap, len; /* cap: power of two */
} otf__mmx_tab_t;

typedef struct otf__mmx_scope {
	otf_scope_t scope;
	otf_resource_t resource;
	int64_t resource_ref;
} otf__mmx_scope_t;

/* Aggregation a MetricRef declares (its oneof field numbers). */
enum {
	OTF_MMX_AGG_NONE = 0,
	OTF_MMX_AGG_GAUGE = 5,
	OTF_MMX_AGG_SUM = 6,
	OTF_MMX_AGG_HISTOGRAM = 7,
	OTF_MMX_AGG_EXP_HISTOGRAM = 8,
};

typedef struct otf__mmx_metric {
	otf_bytes_t name, description, unit;
	int64_t scope_ref;
	int agg;
	int32_t temporality; /* declared */
	bool monotonic;
	bool observable; /* sum declared CUMULATIVE: observed totals, unless a measurement
	                  * carries a span context (otf__mmx_meas_t) */
	double *bounds;
	size_t bounds_len;
	int64_t max_buckets, max_scale;
} otf__mmx_metric_t;

typedef struct otf__mmx {
	otf__mmr_t *r;
	otf_arena_t cache;
	otf__mmx_tab_t strings, scopes, metrics, values;
	size_t cached_bytes_limit;
	uint64_t bad_refs;    /* refs that resolve to nothing valid */
	uint64_t bad_records; /* records that do not decode */
} otf__mmx_t;

void otf__mmx_init(otf__mmx_t *x, otf__mmr_t *r);
void otf__mmx_close(otf__mmx_t *x);
/* Drops every cached resolution (new epoch, or the cache grew too big). */
void otf__mmx_reset(otf__mmx_t *x);

/* Dictionary string at ref (0 = ""). 0 or a negative code. */
int otf__mmx_string(otf__mmx_t *x, int64_t ref, otf_bytes_t *out);
/* Scope (with its resource) at ref; NULL for a ref that does not resolve
 * (the caller files the record under an empty scope and resource). */
const otf__mmx_scope_t *otf__mmx_scope(otf__mmx_t *x, int64_t ref);
const otf__mmx_metric_t *otf__mmx_metric(otf__mmx_t *x, int64_t ref);

/* repeated KeyValueRef `field` of message [p, p+n) into *out (arena);
 * entries whose key does not resolve are dropped and counted in *dropped. */
int otf__mmx_attrs(otf__mmx_t *x, otf_arena_t *a, const uint8_t *p, size_t n, uint32_t field,
                   otf_attributes_t *out, uint32_t *dropped);
/* An mmap AnyValue message into *out (value_ref resolved). */
/* A length-delimited UTF-8 string field at *pp (slice into the record). */
int otf__mmx_str_field(const uint8_t **pp, const uint8_t *e, otf_bytes_t *out);

int otf__mmx_any(otf__mmx_t *x, otf_arena_t *a, const uint8_t *p, size_t n, otf_any_value_t *out,
                 unsigned depth);

/* A SpanEvent's envelope. */
typedef struct otf__mmx_spanev {
	otf_bytes_t trace_id, span_id;
	int64_t scope_ref;
	uint32_t kind; /* oneof field number: 11 start .. 15 link; 0 unset */
	const uint8_t *body;
	size_t body_len;
} otf__mmx_spanev_t;

/* 0, or a negative code for an undecodable record or wrong id lengths. */
int otf__mmx_spanev(const uint8_t *p, size_t n, otf__mmx_spanev_t *out);

/* Applies one span lifecycle record (kind + body) to span (arena a). */
int otf__mmx_span_apply(otf__mmx_t *x, otf_arena_t *a, otf_span_t *span, uint32_t kind,
                        const uint8_t *body, size_t n);
/* Removes earlier duplicates of a key (UpdateAttributes appends). */
void otf__mmx_attrs_dedup(otf_attributes_t *attrs);

/* An Event into a log record (arena a); *scope_ref receives its scope. */
int otf__mmx_event(otf__mmx_t *x, otf_arena_t *a, const uint8_t *p, size_t n, otf_log_record_t *out,
                   int64_t *scope_ref);

/* A Measurement, attributes left raw for series identity. */
typedef struct otf__mmx_meas {
	int64_t metric_ref;
	uint64_t time_unix_nano;
	otf_number_type_t type;
	int64_t as_int;
	double as_double;
	const uint8_t *msg; /* the whole message, for otf__mmx_attrs(field 2) */
	size_t msg_len;
	bool has_span_context; /* field 6 present: written by a synchronous API call */
} otf__mmx_meas_t;
int otf__mmx_meas(const uint8_t *p, size_t n, otf__mmx_meas_t *out);

/* Canonical identity of a Measurement's attributes: its KeyValueRef
 * entries sorted by key_ref, a later duplicate key replacing an earlier
 * one, each as varint length + bytes, into buf (cap bytes). Returns the
 * length, or a negative code (OTF_E_NOSPACE past cap). */
long otf__mmx_attr_identity(const uint8_t *msg, size_t n, uint8_t *buf, size_t cap);

#endif
