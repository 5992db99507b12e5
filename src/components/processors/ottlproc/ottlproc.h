/* Shared parts of the processors built on OTTL (filter, transform): the
 * config parsers for their condition and statement lists, the decoded
 * request, and the relay that carries a rewritten request downstream while
 * the original message waits for its outcome.
 *
 * Config (source: the filterprocessor and transformprocessor READMEs of
 * opentelemetry-collector-contrib): a list of groups, each one compiled
 * program for one OTTL context, compiled at config load so that a
 * statement that does not parse or check is a config error naming file,
 * line, column and key path, plus the column in the statement. Plain
 * strings have their context inferred from their path prefixes
 * (otf_ottl_infer_context); a mapping group may name it (`context:`).
 *
 * Ownership: a group list owns its programs (otf__ottlproc_groups_free).
 * Programs are read-only once compiled, so the one config struct serves
 * every worker's instance.
 *
 * Relay: the node consumes message M, builds a new payload and sends a
 * message of its own carrying it (M's id as its source, M's headers and
 * deadline), subscribed to its outcome; the outcome answers M (ack, or the
 * same nack). Nothing else is held: the pending entries are bounded by the
 * channels downstream. Thread rules: one relay per node instance, on its
 * worker. */
#ifndef OTF_OTTLPROC_H
#define OTF_OTTLPROC_H

#include "otflow/arena.h"
#include "otflow/component.h"
#include "otflow/config.h"
#include "otflow/ottl.h"
#include "otflow/pdata.h"

#include <stdbool.h>
#include <stddef.h>

/* One group: conditions (filter: what to drop; transform: the group's
 * `conditions`, NULL = every record) and statements (transform only). */
typedef struct ottlproc_group {
	otf_ottl_program_t *conds;
	otf_ottl_program_t *stmts;
	int error_mode; /* otf_ottl_error_mode_t, or -1: the processor's error_mode */
} ottlproc_group_t;

typedef struct ottlproc_groups {
	ottlproc_group_t *g;
	size_t n;
} ottlproc_groups_t;

/* Release of an ottlproc_groups_t slot (OTF_CFG_CUSTOM release). */
void otf__ottlproc_groups_free(void *slot);

/* OTF_CFG_CUSTOM parsers, one per signal:
 *   *_conditions   filter's trace_conditions / metric_conditions /
 *                  log_conditions: strings (one group each, context
 *                  inferred) or {context, error_mode, conditions};
 *   *_legacy       filter's traces / metrics / logs: {resource, span,
 *                  spanevent} / {resource, metric, datapoint} / {resource,
 *                  log_record}, each a list of conditions of that context;
 *                  the include/exclude match_type form is refused;
 *   *_statements   transform's trace_statements / metric_statements /
 *                  log_statements: runs of strings (one group per run,
 *                  context inferred over the run) or {context, error_mode,
 *                  conditions, statements}. */
int otf__ottlproc_parse_trace_conditions(const otf_config_node_t *v, void *slot,
                                         otf_config_error_t *err);
int otf__ottlproc_parse_metric_conditions(const otf_config_node_t *v, void *slot,
                                          otf_config_error_t *err);
int otf__ottlproc_parse_log_conditions(const otf_config_node_t *v, void *slot,
                                       otf_config_error_t *err);
int otf__ottlproc_parse_traces_legacy(const otf_config_node_t *v, void *slot,
                                      otf_config_error_t *err);
int otf__ottlproc_parse_metrics_legacy(const otf_config_node_t *v, void *slot,
                                       otf_config_error_t *err);
int otf__ottlproc_parse_logs_legacy(const otf_config_node_t *v, void *slot,
                                    otf_config_error_t *err);
int otf__ottlproc_parse_trace_statements(const otf_config_node_t *v, void *slot,
                                         otf_config_error_t *err);
int otf__ottlproc_parse_metric_statements(const otf_config_node_t *v, void *slot,
                                          otf_config_error_t *err);
int otf__ottlproc_parse_log_statements(const otf_config_node_t *v, void *slot,
                                       otf_config_error_t *err);

/* A decoded request of one signal. */
typedef struct ottlproc_tree {
	otf_signal_t signal;
	union {
		otf_traces_t traces;
		otf_metrics_t metrics;
		otf_logs_t logs;
	} u;
} ottlproc_tree_t;

/* Decodes payload (protobuf) into t in arena: 0, or a negative code with
 * the decoder's message in why. */
int otf__ottlproc_decode(otf_signal_t s, const otf_buf_t *payload, otf_arena_t *arena,
                         ottlproc_tree_t *t, char *why, size_t whylen);
/* Encodes t: 0 with *out (refcount 1) and *items (spans, data points or
 * log records in it), or a negative code. */
int otf__ottlproc_encode(const ottlproc_tree_t *t, otf_buf_t **out, uint64_t *items);

/* Error mode of group g under the processor's mode. */
static inline otf_ottl_error_mode_t otf__ottlproc_mode(const ottlproc_group_t *g, int proc_mode)
{
	return (otf_ottl_error_mode_t)(g->error_mode >= 0 ? g->error_mode : proc_mode);
}

typedef struct ottlproc_pending ottlproc_pending_t;

typedef struct ottlproc_relay {
	otf_node_t *node;
	ottlproc_pending_t *list; /* messages of ours in flight */
	uint64_t errors, errors_logged;
} ottlproc_relay_t;

/* Carries payload (ours: one reference taken over, items in it) on in
 * place of m, which is answered with the outcome. On failure m is nacked
 * (retryable for a full queue, as the engine's backpressure) and payload
 * released. */
void otf__ottlproc_relay_send(ottlproc_relay_t *r, otf_msg_t *m, otf_buf_t *payload,
                              uint64_t items);
/* Forwards m itself (nothing changed); nacks it when the send fails. */
void otf__ottlproc_forward(ottlproc_relay_t *r, otf_msg_t *m);

/* Decodes m's payload (signal s) into t, in arena after resetting it: 0,
 * or m is nacked (permanent: these bytes will never decode, with the
 * decoder's message) and the code returned; m is then answered. */
int otf__ottlproc_decode_msg(otf_msg_t *m, otf_signal_t s, otf_arena_t *arena, ottlproc_tree_t *t);

/* otf__ottlproc_send_tree flags. */
#define OTTLPROC_COUNT_DROPPED 1u /* items m had beyond t's: counted dropped */
#define OTTLPROC_ACK_EMPTY     2u /* t holds no item: ack m, send nothing */

/* The tail of a processor that edited the tree: encodes t and carries it on
 * in place of m (otf__ottlproc_relay_send), as flags say for what was
 * removed. An encode failure nacks m with "<what>: cannot encode the
 * request" (retryable only when out of memory). m is answered or owned by
 * the relay on return. */
void otf__ottlproc_send_tree(ottlproc_relay_t *r, otf_msg_t *m, const ottlproc_tree_t *t,
                             unsigned flags, const char *what);
/* ACK/NACK of our messages and KIL; unrefs c->payload. */
void otf__ottlproc_relay_control(ottlproc_relay_t *r, const otf_ctrl_t *c);
/* Drops the originals still waiting (shutdown timed out downstream). */
void otf__ottlproc_relay_close(ottlproc_relay_t *r);
/* Logs a runtime error of error_mode ignore, at most at powers of two. */
void otf__ottlproc_log_error(ottlproc_relay_t *r, const otf_ottl_stats_t *st);

/* The in-place path (ottlproc_inplace.c): the groups run on lazy records
 * (otf_ottl_lazy_t) over the request bytes, and the request is rewritten
 * record by record (otf_pdata_rewrite) instead of decoded and re-encoded.
 * Only groups on the signal's record context (log, span) run so: a group
 * on resource, scope, span events, metrics or data points sends the
 * request down the tree path, as does a write to the resource or scope
 * from a record, or bytes the partial decode refuses.
 *
 * filter false (transform): every record runs every group in order, a
 * group's conditions (any true) gating its statements; filter true: a
 * record any group matches is dropped, and scopes and resources left empty
 * are removed. The outcome decodes to what the tree path encodes (the
 * groups are independent per record: none of them writes what another
 * record reads, which is why resource and scope writes take the tree).
 *
 * Returns 1 when it ran: res->out is the new request (the caller owns it)
 * with res->items records, or NULL when no record changed or was dropped
 * (forward the original); 0 when the request needs the tree path (nothing
 * was changed, *st and *logged as on entry); negative: the first error
 * under propagate (st->first_error) or OTF_E_NOMEM. st and *logged
 * accumulate as in otf__transform_apply / otf__filter_apply. */
typedef struct ottlproc_inplace_result {
	otf_buf_t *out;
	uint64_t items;
	size_t patched, dropped;
} ottlproc_inplace_result_t;

int otf__ottlproc_inplace(bool filter, const ottlproc_groups_t *const *lists, size_t nlists,
                          int proc_mode, otf_signal_t s, const otf_buf_t *in, otf_arena_t *arena,
                          otf_ottl_stats_t *st, uint64_t *logged, ottlproc_inplace_result_t *res);

#endif
