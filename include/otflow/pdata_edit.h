/* In-place attribute editor over OTLP protobuf bytes: applies attribute
 * insert, update, upsert and delete (and so rename: insert from_attribute,
 * then delete) to the attributes of log records, spans and resources of an
 * Export{Logs,Trace,Metrics}ServiceRequest without decoding the request
 * into a tree. Only the path down to the edited lists is parsed
 * (resource_* -> resource, scope_* -> log record or span); every other
 * field is copied as bytes, and the length prefix of every enclosing
 * message is rewritten (its varint may change size).
 *
 * Sources: protobuf wire format (protobuf.dev/programming-guides/encoding);
 * field numbers of opentelemetry-proto v1 (otflow/pdata.h); the action
 * semantics of the Collector's attraction package, as
 * src/components/processors/internal/attraction.h states them.
 *
 * Contract: for input x that otf_pdata_decode_*() accepts,
 * decode(otf_pdata_edit_apply(x)) equals the tree obtained by decoding x,
 * applying the same ops to each targeted attribute list as that header
 * says (first occurrence found, delete removes every occurrence, insert
 * appends), and encoding (tests/unit/test_pdata_edit.c and
 * tests/fuzz/fuzz_pdata_edit.c check this). The bytes keep their order:
 * a changed attribute is re-encoded where it was, a deleted one is left
 * out, a new one follows the last field of its record or resource (an
 * absent resource is created when an insert needs it).
 * Input that is not well-formed on the path walked fails with
 * OTF_E_TRUNCATED / OTF_E_WIRETYPE / OTF_E_INVAL (the caller falls back to
 * a full decode, which reports the error precisely); content off the path
 * (bodies, events, UTF-8 of copied strings) is not checked.
 *
 * Cost: one pass over the bytes of the path, O(attributes x ops) per
 * record, no allocation besides the output buffer (and a scratch array
 * when a record has more than 32 attributes). docs/benchmarks.md, "In-place
 * attribute edit": a rename costs about 0.4x of decode + re-encode.
 *
 * Thread rules: a prepared editor is read-only; apply is reentrant.
 */
#ifndef OTFLOW_PDATA_EDIT_H
#define OTFLOW_PDATA_EDIT_H

#include "otflow/buf.h"
#include "otflow/pdata.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum otf_pdata_edit_kind {
	OTF_EDIT_INSERT = 0, /* when key is absent */
	OTF_EDIT_UPDATE = 1, /* when key is present (its first occurrence) */
	OTF_EDIT_UPSERT = 2,
	OTF_EDIT_DELETE = 3, /* every occurrence */
} otf_pdata_edit_kind_t;

/* One action. The value is either a scalar literal (value: string, bool,
 * int, double; arrays, maps and bytes are refused by prepare) or the value
 * of attribute from_key (from_key.len > 0), in which case nothing happens
 * when that attribute is absent. Keys and literal strings are borrowed
 * and must outlive the editor. */
typedef struct otf_pdata_edit_op {
	otf_pdata_edit_kind_t kind;
	otf_bytes_t key;
	otf_bytes_t from_key;
	otf_any_value_t value;
} otf_pdata_edit_op_t;

/* What to edit: bit OR of these. RECORDS means log record attributes for
 * logs, span attributes for traces (nothing for metrics). */
#define OTF_EDIT_RESOURCE 1u
#define OTF_EDIT_RECORDS  2u

#define OTF_PDATA_EDIT_MAX_OPS 32

typedef struct otf_pdata_edit {
	otf_pdata_edit_op_t ops[OTF_PDATA_EDIT_MAX_OPS];
	/* Encoded AnyValue of each literal op (the KeyValue.value field
	 * payload), written by prepare. */
	uint8_t lit[OTF_PDATA_EDIT_MAX_OPS][24];
	uint8_t lit_len[OTF_PDATA_EDIT_MAX_OPS];
	size_t n;
	uint32_t targets;
} otf_pdata_edit_t;

/* Copies ops (n <= OTF_PDATA_EDIT_MAX_OPS) into e and encodes the head
 * of each literal into lit (a string's bytes stay where op.value points,
 * so they must outlive e). 0, or OTF_E_INVAL for too many ops, an unknown
 * kind, or a literal that is not a scalar (string, bool, int, double). */
int otf_pdata_edit_prepare(otf_pdata_edit_t *e, const otf_pdata_edit_op_t *ops, size_t n,
                           uint32_t targets);

/* Edits request bytes in[0..len) of signal s into a new buffer *out
 * (refcount 1, the caller unrefs). *edited (may be NULL) receives the
 * number of attribute lists that changed. Errors as above, OTF_E_NOMEM. */
int otf_pdata_edit_apply(const otf_pdata_edit_t *e, otf_signal_t s, const uint8_t *in, size_t len,
                         otf_buf_t **out, size_t *edited);

/* ---- per-record rewrite (pdata_rewrite.c) ----
 *
 * The OTTL processors' in-place path (filter, transform): every log record
 * or span of a request is handed to a callback with the bytes of its record
 * and of its resource and scope; the callback keeps it (copied as bytes),
 * drops it, or patches it: the wire fields named in patch_mask are left out
 * of the copy and re-encoded from the struct the callback points to (the
 * protobuf encoder's encoding of those members, so an absent or default
 * member writes nothing), and attr_ops edit single attributes without
 * re-encoding the list. Other fields, unknown ones included, keep their
 * bytes and order; the patched fields follow them. Enclosing lengths are
 * rewritten. Only the path to the records is parsed; the record is parsed
 * only when patched (to leave the replaced fields out).
 *
 * Contract: for input the decoder accepts, decode(output) equals the tree
 * obtained by decoding the input, dropping the dropped records, replacing
 * the patched members, and (with prune) removing every scope group left
 * without records and every resource group left without scopes, the OTTL
 * filter walkers' rule (tests/unit/test_ottl_inplace.c,
 * tests/fuzz/fuzz_ottl_inplace.c). Metrics are refused (OTF_E_INVAL).
 *
 * Thread rules: reentrant; the callback runs on the caller's thread. */

typedef enum otf_pdata_rec_action {
	OTF_PDATA_REC_KEEP = 0,
	OTF_PDATA_REC_DROP = 1,
	OTF_PDATA_REC_PATCH = 2,
} otf_pdata_rec_action_t;

/* An OTTL edit of one key of a record's attribute list, as the tree does
 * it: set replaces the value of the key's first occurrence, or appends
 * the key when it is absent; delete (delete_key) removes the first
 * occurrence. */
typedef struct otf_pdata_attr_op {
	bool del;
	otf_bytes_t key;
	otf_any_value_t value; /* set: a string, bool, int or double */
} otf_pdata_attr_op_t;

typedef struct otf_pdata_rec {
	/* in: slices of the input (empty when absent) */
	otf_bytes_t resource, resource_schema_url; /* Resource message, schema_url */
	otf_bytes_t scope, scope_schema_url;       /* InstrumentationScope, schema_url */
	otf_bytes_t record;                        /* LogRecord or Span message */
	/* out, for OTF_PDATA_REC_PATCH: bit n = wire field n of the record
	 * (1..16) is replaced by the member of patch_log (logs) or patch_span
	 * (traces; events and links, fields 11 and 13, cannot be patched). */
	uint32_t patch_mask;
	const otf_log_record_t *patch_log;
	const otf_span_t *patch_span;
	/* and/or: edits applied in order to the record's attribute list
	 * (ignored when patch_mask replaces the list): changed attributes are
	 * re-encoded where they were, deleted ones left out, new ones follow
	 * the record's last field. */
	const otf_pdata_attr_op_t *attr_ops;
	size_t attr_nops;
} otf_pdata_rec_t;

/* Returns an otf_pdata_rec_action_t, or a negative code that stops the
 * rewrite and is returned from otf_pdata_rewrite. */
typedef int (*otf_pdata_rec_fn)(void *user, otf_pdata_rec_t *rec);

typedef struct otf_pdata_rewrite_stats {
	size_t records; /* seen */
	size_t patched;
	size_t dropped;
} otf_pdata_rewrite_stats_t;

/* Rewrites request in[0..len) of signal s (logs or traces) into *out
 * (refcount 1, the caller unrefs). 0, the callback's error, OTF_E_NOMEM,
 * or a wire error on the walked path (OTF_E_TRUNCATED, OTF_E_WIRETYPE,
 * ...: the caller falls back to a full decode, which reports it). */
int otf_pdata_rewrite(otf_signal_t s, const uint8_t *in, size_t len, bool prune,
                      otf_pdata_rec_fn fn, void *user, otf_buf_t **out,
                      otf_pdata_rewrite_stats_t *st);

#ifdef __cplusplus
}
#endif
#endif
