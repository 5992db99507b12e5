/* OTTL: the OpenTelemetry Transformation Language, over the pdata tree.
 *
 * Source of behaviour: the Collector's pkg/ottl (LANGUAGE.md, the contexts'
 * READMEs, ottlfuncs/README.md in opentelemetry-collector-contrib). The
 * subset implemented and every difference is listed in docs/ottl.md.
 *
 * Use: compile a list of statements (or conditions) for one context once,
 * at config load; then, per decoded request, run it over every record of
 * that context (otf_ottl_run_traces/_logs/_metrics) or drive it record by
 * record (otf_ottl_exec_statement / otf_ottl_eval_condition) with a
 * record filled in by the caller.
 *
 * Errors: functions return 0 or a negative OTF_E_* code. A statement that
 * does not parse or check is OTF_E_INVAL with otf_ottl_error_t naming the
 * statement index and the byte offset (column, 0-based) in that statement;
 * a regex that does not compile is reported the same way. Out of memory is
 * OTF_E_NOMEM.
 *
 * Ownership: a program owns its AST and compiled regexes; destroy it with
 * otf_ottl_program_destroy(). Values written into a tree (new strings,
 * maps, lists) are allocated in the record's arena, never in the program,
 * so a tree stays valid after the program is destroyed; the tree's other
 * strings still point into the decoded input.
 *
 * Thread rules: a compiled program is read-only while running, so one
 * program may run on many threads at once, each with its own tree and
 * arena. Compilation is reentrant.
 */
#ifndef OTFLOW_OTTL_H
#define OTFLOW_OTTL_H

#include "otflow/arena.h"
#include "otflow/pdata.h"
#include "otflow/pdata_edit.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The record type a program runs on (the Collector's OTTL contexts). */
typedef enum otf_ottl_context {
	OTF_OTTL_CTX_RESOURCE = 0,
	OTF_OTTL_CTX_SCOPE,
	OTF_OTTL_CTX_SPAN,
	OTF_OTTL_CTX_SPANEVENT,
	OTF_OTTL_CTX_METRIC,
	OTF_OTTL_CTX_DATAPOINT,
	OTF_OTTL_CTX_LOG,
	OTF_OTTL_CTX_COUNT
} otf_ottl_context_t;

/* "resource", "scope", "span", "spanevent", "metric", "datapoint", "log". */
const char *otf_ottl_context_name(otf_ottl_context_t ctx);
/* Parses a context name (len bytes); -1 when unknown. */
int otf_ottl_context_parse(const char *name, size_t len);

/* error_mode of the Collector's processors. */
typedef enum otf_ottl_error_mode {
	OTF_OTTL_ERROR_PROPAGATE = 0, /* the first runtime error stops the run */
	OTF_OTTL_ERROR_IGNORE,        /* counted and logged by the caller, then go on */
	OTF_OTTL_ERROR_SILENT,        /* counted, not logged, then go on */
} otf_ottl_error_mode_t;

/* "ignore", "silent", "propagate" -> mode; -1 when unknown. */
int otf_ottl_error_mode_parse(const char *name, size_t len);

/* A compile or runtime error. column is a byte offset into the statement
 * (0-based); index is the statement's position in the list given to the
 * compiler. msg is NUL-terminated and names what was wrong. */
typedef struct otf_ottl_error {
	size_t index;
	size_t column;
	char msg[200];
} otf_ottl_error_t;

typedef struct otf_ottl_program otf_ottl_program_t;

/* Compiles n statements (`editor(args) [where condition]`) for ctx.
 * Paths may carry the context prefix (`span.name`, `resource.attributes`)
 * or be bare (`name` = the record's own field). On error *out is NULL. */
int otf_ottl_compile_statements(otf_ottl_program_t **out, otf_ottl_context_t ctx,
                                const char *const *stmts, size_t n, otf_ottl_error_t *err);

/* Compiles n conditions (boolean expressions) for ctx. */
int otf_ottl_compile_conditions(otf_ottl_program_t **out, otf_ottl_context_t ctx,
                                const char *const *conds, size_t n, otf_ottl_error_t *err);

/* The context of statements (or conditions) whose every path carries a
 * context prefix, as the Collector's transform processor infers it for a
 * flat statement list: the most specific context named (span over scope
 * over resource, spanevent over span, ...). OTF_E_INVAL, with err naming
 * the statement and column, when a path has no prefix, when two contexts
 * cannot be combined (span and log), when nothing names a context, or
 * when a statement does not parse. Compile with the result afterwards. */
int otf_ottl_infer_context(const char *const *stmts, size_t n, bool conditions,
                           otf_ottl_context_t *out, otf_ottl_error_t *err);

/* NULL is a no-op. */
void otf_ottl_program_destroy(otf_ottl_program_t *p);

size_t otf_ottl_program_len(const otf_ottl_program_t *p);
otf_ottl_context_t otf_ottl_program_context(const otf_ottl_program_t *p);

/* One record and its enclosing resource and scope. Fill the members the
 * program's context needs (a span program needs span, scope, resource; a
 * datapoint program needs metric and datapoint_index; ...). The schema_url
 * pointers may be NULL (then those paths read as "" and cannot be set).
 * New values are allocated in arena. */
typedef struct otf_ottl_record {
	otf_resource_t *resource;
	otf_bytes_t *resource_schema_url;
	otf_scope_t *scope;
	otf_bytes_t *scope_schema_url;
	otf_span_t *span;        /* span, and the span of a spanevent */
	otf_span_event_t *event; /* spanevent */
	otf_log_record_t *log;   /* log */
	otf_metric_t *metric;    /* metric, and the metric of a datapoint */
	size_t datapoint_index;  /* datapoint: index into metric's data points */
	otf_arena_t *arena;
	/* The `cache` path: a scratch map per record (in arena, never encoded).
	 * Zero it for each new record; otf_ottl_run_* do. */
	otf_attributes_t cache;
	/* The `request` path (request["X-Tenant"], the routing connector's
	 * request context; every context has it, read only): the client
	 * metadata of the request the record arrived in. request_header(user,
	 * key) returns the first value of key (NUL-terminated; keys compare
	 * case-insensitively, as HTTP headers and gRPC metadata), or NULL when
	 * absent; request_header NULL: every key reads as nil. Typically
	 * otf_msg_header_get on the message (otflow/component.h). */
	const char *(*request_header)(const void *user, const char *key);
	const void *request_user;
	/* In-place runs: the record read lazily from its protobuf bytes
	 * (otf_ottl_lazy_init); NULL for a decoded tree. */
	struct otf_ottl_lazy *lazy;
} otf_ottl_record_t;

/* A log record or span read lazily from its protobuf bytes, for the
 * processors' in-place path (otf_pdata_rewrite, otflow/pdata_edit.h): the
 * statements and conditions run unchanged on a record whose scalar fields
 * come from one pass over its bytes (otf_view_log_read/_span_read), while
 * attributes["key"] is answered from the bytes without decoding the list,
 * and the attribute list, the body, the resource and the scope are decoded
 * (otf_pdata_decode_attributes/_any/_resource/_scope) only when a path
 * needs them whole (a write, a map read, a kvlist value). A write to a
 * record field sets its wire field number in dirty, for
 * otf_pdata_rec_t.patch_mask; the members then hold the new values.
 *
 * Fallback: what the lazy record cannot do sets err and makes every run
 * function return it whatever the error mode: a write to the resource or
 * scope from a record context (shared by other records: the tree path
 * applies it), or bytes a partial decode refuses. The caller then runs the
 * request through the decoded tree, which gives the same result or the
 * precise error. err is OTF_E_UNSUPPORTED or the decoder's code. */
#define OTF_OTTL_LAZY_OPS 8

typedef struct otf_ottl_lazy {
	otf_signal_t signal; /* logs or traces */
	otf_bytes_t record, body;
	otf_bytes_t resource_msg, scope_msg;
	otf_bytes_t resource_schema_url, scope_schema_url;
	uint32_t loaded; /* private: what was decoded */
	uint32_t dirty;  /* out: wire fields of the record written */
	int err;         /* out: sticky fallback reason, 0 while none */
	otf_resource_t resource;
	otf_scope_t scope;
	union {
		otf_log_record_t log;
		otf_span_t span;
	} u;
	/* out: set(attributes["k"], scalar) and delete_key(attributes, "k")
	 * on a list not decoded, for otf_pdata_rec_t.attr_ops (a read of an
	 * edited key, or more edits than fit, decodes the list and replays
	 * them on it) */
	size_t nops;
	otf_pdata_attr_op_t ops[OTF_OTTL_LAZY_OPS];
} otf_ottl_lazy_t;

/* Sets up lz and *rec (zeroed, then resource, scope, and log or span
 * pointing into lz) for one record handed over by otf_pdata_rewrite; the
 * caller may set rec->request_header afterwards. 0, or the view's error
 * for bytes it cannot read (fall back). */
int otf_ottl_lazy_init(otf_ottl_lazy_t *lz, otf_ottl_record_t *rec, otf_signal_t s,
                       const otf_pdata_rec_t *in, otf_arena_t *arena);

/* Result of one statement on one record. */
enum {
	OTF_OTTL_SKIPPED = 0, /* the where clause was false */
	OTF_OTTL_APPLIED = 1, /* the editor ran */
};

/* Runs statement i on rec: OTF_OTTL_APPLIED, OTF_OTTL_SKIPPED, or a
 * negative code for a runtime error (a value of the wrong type, an index
 * out of range: OTF_E_INVAL; OTF_E_NOMEM) with *err filled in (column of
 * the failing call). The record may be partly edited by the statements
 * before i, never by a statement that failed before its first write. */
int otf_ottl_exec_statement(const otf_ottl_program_t *p, size_t i, otf_ottl_record_t *rec,
                            otf_ottl_error_t *err);

/* Evaluates condition i on rec: 1 true, 0 false, negative on error. */
int otf_ottl_eval_condition(const otf_ottl_program_t *p, size_t i, otf_ottl_record_t *rec,
                            otf_ottl_error_t *err);

/* Fast conditions (ottl_fast.c): condition i of a resource-context
 * program compiled to direct byte compares when it is made only of
 * `attributes["k"] == "v"` / `!=` (a string literal or nil, either side),
 * `request["H"] == "v"` / `!=`, `true`, `false`, and `and`, `or`, `not` of
 * those; *out NULL (return 0) for any other shape, which the tree
 * evaluator keeps. The result equals otf_ottl_eval_condition's on every
 * resource the decoder accepts (tests/unit/test_ottl_fast.c,
 * tests/fuzz/fuzz_ottl_fast.c), without decoding it: the first KeyValue
 * with the key decides, nil equals only nil, another type than the
 * literal's is unequal. Ownership: the caller destroys *out, before p (it
 * points at p's literals). Thread rules: immutable after compile, any
 * thread. Errors: OTF_E_NOMEM. */
typedef struct otf_ottl_fast otf_ottl_fast_t;
enum { OTF_OTTL_FAST_UNSURE = 2 }; /* bytes the views refuse: ask the tree */
int otf_ottl_fast_compile(const otf_ottl_program_t *p, size_t i, otf_ottl_fast_t **out);
void otf_ottl_fast_destroy(otf_ottl_fast_t *f);
/* The distinct request[] keys the condition reads (NUL-terminated, as
 * request_header receives them), slot 0 .. count - 1. */
size_t otf_ottl_fast_header_count(const otf_ottl_fast_t *f);
const char *otf_ottl_fast_header_key(const otf_ottl_fast_t *f, size_t slot);
/* Evaluates on resource (the encoded Resource message, absent = empty)
 * with hdr_vals[slot] the value of header key slot (NULL: absent), looked
 * up once per request by the caller: 1 true, 0 false,
 * OTF_OTTL_FAST_UNSURE when the bytes are malformed (evaluate with the
 * tree, which reports the error). No allocation. */
int otf_ottl_fast_eval(const otf_ottl_fast_t *f, otf_bytes_t resource, const char *const *hdr_vals);

/* A router's routes as one fast set: conds[0 .. n) evaluated in order on
 * one resource, the first true one wins, as n calls of otf_ottl_fast_eval
 * would decide (and the tree: tests/unit/test_ottl_fast.c,
 * tests/fuzz/fuzz_ottl_fast.c), but the resource's attributes are walked
 * once for every route's keys, at the first attribute compare, not once
 * per compare. Header keys are the union of the conditions' (slots of
 * otf_ottl_fast_set_header_key, looked up once per request). *out NULL
 * (return 0) past OTF_OTTL_FAST_SET_MAX_KEYS distinct attribute keys or
 * OTF_OTTL_FAST_SET_MAX_HEADERS header keys. Ownership: conds (the array
 * and each condition) must outlive the set; the caller destroys it.
 * Thread rules: immutable after create, any thread. Errors: OTF_E_NOMEM. */
typedef struct otf_ottl_fast_set otf_ottl_fast_set_t;
#define OTF_OTTL_FAST_SET_MAX_KEYS    64
#define OTF_OTTL_FAST_SET_MAX_HEADERS 16
enum { OTF_OTTL_FAST_SET_NONE = -1, OTF_OTTL_FAST_SET_UNSURE = -2 };
int otf_ottl_fast_set_create(const otf_ottl_fast_t *const *conds, size_t n,
                             otf_ottl_fast_set_t **out);
void otf_ottl_fast_set_destroy(otf_ottl_fast_set_t *s);
size_t otf_ottl_fast_set_header_count(const otf_ottl_fast_set_t *s);
const char *otf_ottl_fast_set_header_key(const otf_ottl_fast_set_t *s, size_t slot);
/* The index of the first true condition on resource, NONE when none is,
 * UNSURE when bytes the views refuse decide it (ask the tree). hdr_vals
 * by set header slot. No allocation. */
int otf_ottl_fast_set_eval(const otf_ottl_fast_set_t *s, otf_bytes_t resource,
                           const char *const *hdr_vals);
/* As otf_ottl_fast_set_eval, and *used says how much of resource the
 * answer depends on: every resource whose first *used bytes are these gets
 * the same answer under the same hdr_vals (the attribute walk stops once
 * it has found every key it looks for; 0: the headers alone decided);
 * SIZE_MAX: this resource only, all its bytes and its length. A router's
 * decision cache compares that much (tests/unit/test_ottl_fast.c). */
int otf_ottl_fast_set_eval_used(const otf_ottl_fast_set_t *s, otf_bytes_t resource,
                                const char *const *hdr_vals, size_t *used);

/* Counters of a run; the caller adds them up and exports them. */
typedef struct otf_ottl_stats {
	uint64_t records;             /* records visited */
	uint64_t applied;             /* statements applied / conditions true */
	uint64_t errors;              /* runtime errors (all modes) */
	uint64_t dropped;             /* records removed by otf_ottl_filter_* */
	otf_ottl_error_t first_error; /* valid when errors > 0 */
} otf_ottl_stats_t;

/* Runs every statement in order on one record under mode: with PROPAGATE
 * the first error is returned; with IGNORE/SILENT it is counted and the
 * next statement runs. */
int otf_ottl_exec_all(const otf_ottl_program_t *p, otf_ottl_error_mode_t mode,
                      otf_ottl_record_t *rec, otf_ottl_stats_t *stats);

/* 1 when any condition is true (the Collector's filter semantics: an
 * error counts as false under IGNORE/SILENT), 0 when none, negative on
 * error under PROPAGATE. */
int otf_ottl_match_any(const otf_ottl_program_t *p, otf_ottl_error_mode_t mode,
                       otf_ottl_record_t *rec, otf_ottl_stats_t *stats);

/* Statement programs: run every statement on every record of the
 * program's context in the request (resource, scope, span, spanevent for
 * traces; resource, scope, log for logs; resource, scope, metric,
 * datapoint for metrics). A context that does not belong to the signal is
 * OTF_E_INVAL. Returns 0 or the first error under PROPAGATE. */
int otf_ottl_run_traces(const otf_ottl_program_t *p, otf_ottl_error_mode_t mode, otf_traces_t *t,
                        otf_arena_t *arena, otf_ottl_stats_t *stats);
int otf_ottl_run_logs(const otf_ottl_program_t *p, otf_ottl_error_mode_t mode, otf_logs_t *l,
                      otf_arena_t *arena, otf_ottl_stats_t *stats);
int otf_ottl_run_metrics(const otf_ottl_program_t *p, otf_ottl_error_mode_t mode, otf_metrics_t *m,
                         otf_arena_t *arena, otf_ottl_stats_t *stats);

/* Condition programs (the filter processor): remove every record any
 * condition matches (an erroring condition counts as false under
 * IGNORE/SILENT; PROPAGATE returns the error and leaves the request
 * partly filtered, so the caller must drop or NACK it). Arrays are
 * compacted in place; a scope left without records and a resource left
 * without scopes are removed; for datapoint programs a metric left
 * without points is removed; spanevent programs remove events and keep
 * their spans. stats->dropped counts removed records. A context that does
 * not belong to the signal, or a statement program, is OTF_E_INVAL. */
int otf_ottl_filter_traces(const otf_ottl_program_t *p, otf_ottl_error_mode_t mode, otf_traces_t *t,
                           otf_arena_t *arena, otf_ottl_stats_t *stats);
int otf_ottl_filter_logs(const otf_ottl_program_t *p, otf_ottl_error_mode_t mode, otf_logs_t *l,
                         otf_arena_t *arena, otf_ottl_stats_t *stats);
int otf_ottl_filter_metrics(const otf_ottl_program_t *p, otf_ottl_error_mode_t mode,
                            otf_metrics_t *m, otf_arena_t *arena, otf_ottl_stats_t *stats);

#ifdef __cplusplus
}
#endif
#endif
