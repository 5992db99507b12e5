/* Record routing of the `routing` connector: the table's record contexts
 * (span, log, metric, datapoint) next to resource and request, as the
 * Collector's routingconnector README describes them.
 *
 * Routes: one OTTL condition per table entry, each compiled in its own
 * context (resource and request in the resource context, the others in
 * theirs: paths as the transform and filter processors read them, name,
 * attributes, severity_text, body, resource.attributes, ...; one evaluator,
 * src/ottl). Every record of a request (span, log record, metric, or data
 * point when a datapoint entry exists) goes to the first entry whose
 * condition is true for it: a resource entry is evaluated on the record's
 * resource, a request entry on the client metadata, a record entry on the
 * record (a span entry never matches logs or metrics, and so on). That is
 * the Collector's table walk (each entry in order takes what still
 * matches; match_once is its only mode since v0.120.0). A resource, scope
 * or metric without records is routed by the entries that can see it.
 *
 * Output: one request per route, holding that route's records, built from
 * the input's bytes: a resource (scope, metric) whose records all go to
 * one route is copied verbatim; one split between routes is rebuilt per
 * route from its resource (scope) and schema_url fields and the records'
 * byte ranges; a metric split by data point keeps name, description, unit,
 * metadata, aggregation_temporality and is_monotonic. Unknown fields of a
 * split container are not carried. Records keep their order. When all of a
 * request goes to one route the message itself is passed on. Splits,
 * joining their answers and dropping unmatched data (no default_pipelines)
 * are the content_router's (router.h, otf__cr_send_parts).
 *
 * Evaluation: log records and spans are read lazily from their bytes
 * (otf_ottl_lazy_t, the in-place path of filter and transform: scalars in
 * one pass, attributes["k"] from the bytes, nothing decoded that no
 * condition reads); metrics, and a request the lazy reader cannot do, are
 * decoded (otf_pdata_decode_*: a request the decoder refuses is nacked
 * permanent naming the field) and walked in step with their bytes.
 *
 * Errors: error_mode as router.h: propagate nacks the request (permanent,
 * naming the entry), ignore (logged, rate-limited) and silent take the
 * failing entry as not matched for that record.
 *
 * Thread rules: an instance lives on one worker, as every node. */
#ifndef OTF_ROUTING_RECORDS_H
#define OTF_ROUTING_RECORDS_H

#include "components/processors/content_router/router.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* table[].context values, in the order of the config's enum. */
enum {
	OTF_RR_RESOURCE = 0,
	OTF_RR_REQUEST,
	OTF_RR_SPAN,
	OTF_RR_METRIC,
	OTF_RR_DATAPOINT,
	OTF_RR_LOG,
};

typedef struct otf__rr otf__rr_t;
typedef struct otf__rr_split otf__rr_split_t;

/* True when a context is a record one (span, metric, datapoint, log). */
bool otf__rr_is_record(int ctx);
/* The signal a record context belongs to. */
otf_signal_t otf__rr_signal(int ctx);

/* Compiles n conditions (n <= OTF_CR_MAX_ROUTES), condition i in context
 * ctxs[i] (OTF_RR_*), names[i] naming entry i in messages (both must
 * outlive the router); error_mode an otf_ottl_error_mode_t. node NULL:
 * compile only, *out NULL. OTF_E_CONFIG with err naming the entry and the
 * column; OTF_E_NOMEM. */
int otf__rr_create(otf__rr_t **out, otf_node_t *node, const char *const *conds, const int *ctxs,
                   const char *const *names, size_t n, int error_mode, char *err, size_t errlen);
void otf__rr_destroy(otf__rr_t *r);
/* As otf__cr_drop_unmatched. */
void otf__rr_drop_unmatched(otf__rr_t *r, _Atomic uint64_t *drops);
void otf__rr_consume(otf__rr_t *r, otf_msg_t *m);
void otf__rr_control(otf__rr_t *r, const otf_ctrl_t *c);

/* The routing without a node (records_split.c; also what the fuzz target
 * drives). create: as otf__rr_create without sending. */
int otf__rr_split_create(otf__rr_split_t **out, const char *const *conds, const int *ctxs,
                         const char *const *names, size_t n, int error_mode, char *err,
                         size_t errlen);
void otf__rr_split_destroy(otf__rr_split_t *x);

/* *single when a request is split between routes. */
#define OTF_RR_SPLIT (-2)

/* Routes request b of signal s; header(user, key) answers request[]
 * paths (NULL: every key absent). On 0, *single is the route (entry
 * index, or -1: default) that has all of it, or OTF_RR_SPLIT and parts[0]
 * (default), parts[i + 1] (entry i) hold each route's request, NULL for a
 * route without records: new references, the caller's. A negative code
 * for a request the decoder refuses or a failing condition under
 * propagate, why naming the field or the entry (empty when there is
 * nothing to add to the code); OTF_E_NOMEM. Thread rules: one caller at a
 * time per x (its scratch arena is reset per call). */
int otf__rr_split_run(otf__rr_split_t *x, otf_signal_t s, const otf_buf_t *b,
                      const char *(*header)(const void *user, const char *key), const void *user,
                      int *single, otf_buf_t **parts, char *why, size_t whylen);

/* Failing conditions taken as false (ignore, silent) so far; *last the
 * message of the latest ("route 'table[i]' not taken, its condition
 * failed: ..."). */
uint64_t otf__rr_split_errors(const otf__rr_split_t *x, const char **last);

#endif
