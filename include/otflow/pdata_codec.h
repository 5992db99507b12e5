/* OTLP codecs: protobuf decode/encode and OTLP/JSON decode/encode of the
 * pdata tree (otflow/pdata.h).
 *
 * Sources: protobuf wire format (protobuf.dev/programming-guides/encoding);
 * the OTLP/JSON mapping in opentelemetry-proto docs/specification.md
 * ("JSON Protobuf Encoding"): trace/span ids as hex strings, enums as
 * integers, 64-bit integers as decimal strings or numbers, lowerCamelCase
 * keys (the decoder also accepts the proto field names, as protobuf's JSON
 * parsers do).
 *
 * Decoding rules (all decoders):
 * - Unknown fields are skipped, as proto3 requires; a known field number
 *   with the wrong wire type is an error (OTF_E_WIRETYPE).
 * - Strings must be valid UTF-8 (OTF_E_UTF8).
 * - trace ids must be 0 or 16 bytes, span ids 0 or 8 (OTF_E_ID_LENGTH).
 * - AnyValue nesting (array/kvlist inside array/kvlist) deeper than
 *   limits->max_depth fails with OTF_E_DEPTH.
 * - Input larger than limits->max_input_bytes fails with OTF_E_TOO_LARGE
 *   before anything is read.
 * - Repeated scalars are accepted packed and unpacked.
 * - A singular message field that occurs more than once takes its last
 *   occurrence whole (protobuf would merge them; each is still validated).
 * - On failure the return is a negative OTF_E_* code, *err (if not NULL)
 *   names the field path and byte offset, and the arena may hold partial
 *   allocations (reset or close it); *out must not be used.
 *
 * Protobuf decode is zero-copy (strings point into the input); JSON decode
 * copies unescaped strings and decoded ids into the arena.
 *
 * Encoders write canonical proto3: fields in field-number order, default
 * values omitted, repeated scalars packed, minimal varints. They write each
 * message exactly once, back to front, so no sizing pass is needed. The
 * result is a new otf_buf_t (refcount 1) the caller unrefs.
 *
 * Thread rules: all functions are reentrant; distinct calls may run on
 * distinct threads with distinct arenas.
 */
#ifndef OTFLOW_PDATA_CODEC_H
#define OTFLOW_PDATA_CODEC_H

#include "otflow/arena.h"
#include "otflow/buf.h"
#include "otflow/pdata.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct otf_pdata_limits {
	size_t max_input_bytes; /* default OTF_PDATA_DEFAULT_MAX_INPUT */
	uint32_t max_depth;     /* AnyValue nesting, default OTF_PDATA_DEFAULT_MAX_DEPTH */
} otf_pdata_limits_t;

/* 64 MiB: above the Collector's HTTP default (20 MiB) and gRPC default (4 MiB). */
#define OTF_PDATA_DEFAULT_MAX_INPUT ((size_t)64 << 20)
/* AnyValue depth: a scalar at top level is depth 1; each array or kvlist
 * level adds one. 32 covers any sane attribute; protobuf's own recursion
 * limit is 100. */
#define OTF_PDATA_DEFAULT_MAX_DEPTH 32u

/* Detail of a decode failure. */
typedef struct otf_pdata_error {
	int code;         /* the returned OTF_E_* code */
	size_t offset;    /* byte offset in the input where it was detected */
	char path[256];   /* e.g. "resource_spans[0].scope_spans[1].spans[3].trace_id" */
	char detail[128]; /* what was expected, e.g. "16 bytes, got 15" */
} otf_pdata_error_t;

/* "path: message (detail) at byte N" into buf; returns buf. */
const char *otf_pdata_error_format(const otf_pdata_error_t *err, char *buf, size_t size);

/* limits NULL selects the defaults. */
int otf_pdata_decode_traces(otf_traces_t *out, const uint8_t *data, size_t len, otf_arena_t *arena,
                            const otf_pdata_limits_t *limits, otf_pdata_error_t *err);
int otf_pdata_decode_metrics(otf_metrics_t *out, const uint8_t *data, size_t len,
                             otf_arena_t *arena, const otf_pdata_limits_t *limits,
                             otf_pdata_error_t *err);
int otf_pdata_decode_logs(otf_logs_t *out, const uint8_t *data, size_t len, otf_arena_t *arena,
                          const otf_pdata_limits_t *limits, otf_pdata_error_t *err);
/* One Resource (resource.proto) or InstrumentationScope (common.proto)
 * message alone, e.g. the head of a group found with otf_view_group_read
 * (otflow/pdata_view.h): what a router needs to evaluate a condition on a
 * resource or scope without decoding its records. Default limits; same
 * errors as the request decoders, paths relative to the message. */
int otf_pdata_decode_resource(otf_resource_t *out, const uint8_t *data, size_t len,
                              otf_arena_t *arena, otf_pdata_error_t *err);
int otf_pdata_decode_scope(otf_scope_t *out, const uint8_t *data, size_t len, otf_arena_t *arena,
                           otf_pdata_error_t *err);
/* The `repeated KeyValue` field number `field` of any message (a log
 * record's attributes = 6, a span's = 9, a resource's = 1), alone, and one
 * AnyValue message: what the OTTL processors' in-place path decodes when a
 * statement needs a record's whole attribute list or its body. Same
 * checks, limits and errors as the request decoders; values alias data. */
int otf_pdata_decode_attributes(otf_attributes_t *out, const uint8_t *msg, size_t len,
                                uint32_t field, otf_arena_t *arena, otf_pdata_error_t *err);
int otf_pdata_decode_any(otf_any_value_t *out, const uint8_t *data, size_t len, otf_arena_t *arena,
                         otf_pdata_error_t *err);
/* Export*ServiceResponse of the given signal. */
int otf_pdata_decode_response(otf_export_response_t *out, otf_signal_t signal, const uint8_t *data,
                              size_t len, otf_pdata_error_t *err);

/* Encoders: *out receives a new buffer. Errors: OTF_E_NOMEM,
 * OTF_E_ID_LENGTH (an id of the wrong length in the tree), OTF_E_DEPTH. */
int otf_pdata_encode_traces(const otf_traces_t *in, otf_buf_t **out);
int otf_pdata_encode_metrics(const otf_metrics_t *in, otf_buf_t **out);
int otf_pdata_encode_logs(const otf_logs_t *in, otf_buf_t **out);
int otf_pdata_encode_response(const otf_export_response_t *in, otf_signal_t signal,
                              otf_buf_t **out);

/* OTLP/JSON. The input need not be NUL-terminated. */
int otf_pdata_json_decode_traces(otf_traces_t *out, const char *json, size_t len,
                                 otf_arena_t *arena, const otf_pdata_limits_t *limits,
                                 otf_pdata_error_t *err);
int otf_pdata_json_decode_metrics(otf_metrics_t *out, const char *json, size_t len,
                                  otf_arena_t *arena, const otf_pdata_limits_t *limits,
                                  otf_pdata_error_t *err);
int otf_pdata_json_decode_logs(otf_logs_t *out, const char *json, size_t len, otf_arena_t *arena,
                               const otf_pdata_limits_t *limits, otf_pdata_error_t *err);
int otf_pdata_json_decode_response(otf_export_response_t *out, otf_signal_t signal,
                                   const char *json, size_t len, otf_arena_t *arena,
                                   otf_pdata_error_t *err);

/* OTLP/JSON pre-scan: one pass over the text, no allocation, counting
 * the objects and arrays that are array elements: elements of an array
 * named attributes, values, metadata or filteredAttributes count as
 * attributes (KeyValue, ArrayValue element), the others as items (spans,
 * events, links, data points, exemplars, log records, resource and scope
 * groups, ...), matching otf_view_validate()'s counts (otflow/pdata_view.h)
 * closely enough to apply the same limits. json-c, which the JSON decoders
 * use, allocates about 0.9 KB per object before anything is checked, and
 * "{}" is 2 bytes, so the otlp receiver runs this before decoding. Stops
 * with OTF_E_TOO_LARGE once a count passes its limit (limits NULL or 0:
 * none); *err (may be NULL) gets the byte offset. Malformed JSON is not
 * diagnosed (the decoder does), the counts are then estimates; a key
 * spelled with \u escapes is not recognised (its elements count as
 * items). */
typedef struct otf_pdata_json_limits {
	size_t max_items, max_attributes;
} otf_pdata_json_limits_t;

typedef struct otf_pdata_json_counts {
	size_t items, attributes;
} otf_pdata_json_counts_t;

int otf_pdata_json_prescan(const char *json, size_t len, const otf_pdata_json_limits_t *lim,
                           otf_pdata_json_counts_t *out, otf_pdata_error_t *err);

/* JSON encoders write one compact JSON object (no trailing newline).
 * 64-bit integers are written as decimal strings, as the OTLP/JSON spec's
 * examples do; ids as lowercase hex. */
int otf_pdata_json_encode_traces(const otf_traces_t *in, otf_buf_t **out);
int otf_pdata_json_encode_metrics(const otf_metrics_t *in, otf_buf_t **out);
int otf_pdata_json_encode_logs(const otf_logs_t *in, otf_buf_t **out);
int otf_pdata_json_encode_response(const otf_export_response_t *in, otf_signal_t signal,
                                   otf_buf_t **out);

#ifdef __cplusplus
}
#endif
#endif
