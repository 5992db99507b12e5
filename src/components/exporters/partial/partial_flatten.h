/* Heartbeat and stop log records -> rows of partial_traces.
 *
 * Source: seeds/partial-collector-README.md, with the deviations recorded
 * in docs/components.md (receiver/exporter `partial`):
 * - `partial.event` heartbeat|stop (exact); anything else: record skipped.
 * - `partial.body.type` absent or `proto`: string body = base64 of protobuf
 *   TracesData, bytes body = the protobuf itself; `json/v1`: OTLP/JSON
 *   (camelCase or snake_case); anything else: skipped.
 * - heartbeat needs `partial.frequency`: a Go duration string ("5000ms",
 *   "5s"), or milliseconds as an int attribute or a bare number; it must be
 *   in (0, 24h]. Expiry = frequency * expiry_factor.
 * - Every span of the body becomes its own single-span TracesData (its
 *   resource, scope and schema URLs kept). The log's resource attributes
 *   are merged into the span's resource attributes and the log record's
 *   attributes into the span's attributes; `partial.*` keys are never
 *   copied and the trace's own keys win. Values are referenced, never moved,
 *   so the second span of a log gets the same values as the first.
 * - A span with an empty or all-zero trace id or span id is skipped.
 * - stop: one tombstone per span of the body; when the body has no usable
 *   span, the log record's own trace_id/span_id are used.
 * - An undecodable body skips that record only (the original failed the
 *   rest of the batch).
 */
#ifndef OTF_PARTIAL_FLATTEN_H
#define OTF_PARTIAL_FLATTEN_H

#include "otflow/arena.h"
#include "otflow/buf.h"
#include "otflow/pdata.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct partial_row {
	char trace_id[33]; /* lowercase hex, NUL-terminated */
	char span_id[17];
	bool stop;
	int64_t expiry_ms;      /* heartbeat: frequency * factor; stop: tombstone TTL */
	int64_t seen_unix_nano; /* the log record's time (or observed time) */
	otf_buf_t *trace;       /* heartbeat: TracesData protobuf; stop: NULL */
	void *owner;            /* the exporter's per-message record */
} partial_row_t;

typedef struct partial_rows {
	partial_row_t *items;
	size_t len, cap;
} partial_rows_t;

typedef struct partial_flatten_opts {
	int64_t expiry_factor;    /* > 0 */
	int64_t tombstone_ttl_ms; /* >= 0 */
} partial_flatten_opts_t;

typedef struct partial_flatten_stats {
	uint64_t records;    /* log records looked at */
	uint64_t heartbeats; /* rows from heartbeats */
	uint64_t stops;      /* rows from stops */
	uint64_t skipped;    /* records skipped */
	char first_skip[200];
} partial_flatten_stats_t;

/* Appends the rows of logs to out (owner left NULL). arena holds scratch
 * data (decoded bodies) and may be reset once this returns. Returns 0 or
 * OTF_E_NOMEM (rows appended so far stay in out). */
int partial_flatten_logs(const otf_logs_t *logs, const partial_flatten_opts_t *o,
                         otf_arena_t *arena, partial_rows_t *out, partial_flatten_stats_t *st);

/* Unrefs the rows' buffers and empties the list (keeps capacity). */
void partial_rows_clear(partial_rows_t *r);
void partial_rows_free(partial_rows_t *r);

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void partial_hex(const uint8_t *p, size_t n, char *out);
/* Parses a frequency attribute value; 0 and ns in *out, or OTF_E_INVAL. */
int partial_parse_frequency(const otf_any_value_t *v, int64_t *out_ns);
/* Standard base64 (padding optional, whitespace ignored) into the arena. */
int partial_base64_decode(const uint8_t *in, size_t len, otf_arena_t *a, otf_bytes_t *out);

#endif
