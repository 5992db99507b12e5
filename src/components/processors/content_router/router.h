/* The routing core shared by processor `content_router` and the
 * Collector's `routing` connector (one implementation: the connector is a
 * content_router node whose ports are its table entries).
 *
 * Routes are OTTL conditions (otflow/ottl.h) compiled once per instance;
 * route i sends on output port i + 1, unmatched data on port 0
 * (`default`). The first route whose condition is true wins, as the
 * connector's table (match_once is the only mode since v0.120.0).
 *
 * Per request: every ResourceSpans/ResourceLogs/ResourceMetrics group is
 * evaluated on its Resource alone (decoded from the group's head, records
 * untouched); with the scope context every Scope* group is evaluated on
 * its scope and resource. When everything goes to one route the message
 * itself is passed on (same payload, id and acknowledgement path). When
 * groups go to different routes the request's bytes are sliced: one new
 * request per route made of verbatim copies of its groups' byte ranges
 * (never decoded and re-encoded; a resource split by scope is rebuilt
 * from its resource, schema_url and scope ranges). Each split message is
 * the node's own (envelope copied, original id as its source), subscribed
 * to; the original is acked once every split is acked, and nacked when
 * any failed (permanent when every failure was).
 *
 * Fast path (resource context): when every route's condition has the
 * fast form (otf_ottl_fast_t in otflow/ottl.h: attributes["k"] == "v",
 * request["H"] == "v", and/or/not of those), each resource is evaluated
 * on its encoded bytes with no decode and no allocation: the routes are
 * one otf_ottl_fast_set_t, so a resource's attributes are walked once for
 * every route's keys; the request's headers are looked up once per
 * request (not at all when it has none), and each route's output port
 * once per instance; when the resources all go to one route the message
 * is passed on from there. The last resource's route is reused while the
 * next resource has the same leading bytes as far as the set read them
 * (otf_ottl_fast_set_eval_used) and the request the same values of the
 * set's headers; after 8 misses in a row that cache rests for 1024
 * resources (router_internal.h). A request of one resource and one scope
 * equal to the cached one in length and up to its scope's length is
 * passed on without a walk. Resources for different
 * routes, bytes the fast form is unsure of, and every other condition
 * take the general path below (same results: tests/unit/test_ottl_fast.c).
 *
 * Decision cache (resource context): the last resource's route is reused
 * while the next resource has the same bytes (head and schema_url) and
 * every header its conditions read has the same value; conditions are
 * functions of those alone, except Now(), whose presence turns the cache
 * off. A decision that met an evaluation error is not kept.
 *
 * Errors in a condition follow error_mode: propagate nacks the request
 * as permanent (bad data or a bad condition: resending cannot help);
 * ignore (logged, rate-limited) and silent treat the failing route as
 * not matched, so the data goes on to the next routes and `default`.
 *
 * Thread rules: an instance lives on one worker, as every node. */
#ifndef OTF_CONTENT_ROUTER_ROUTER_H
#define OTF_CONTENT_ROUTER_ROUTER_H

#include "otflow/component.h"
#include "otflow/ottl.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* Routes a router may have: port indexes travel in 64-bit masks. */
#define OTF_CR_MAX_ROUTES 63

enum { OTF_CR_CTX_RESOURCE = 0, OTF_CR_CTX_SCOPE = 1 };

typedef struct otf__cr otf__cr_t;

/* Compiles n conditions (n <= OTF_CR_MAX_ROUTES) in context ctx
 * (OTF_CR_CTX_*); names[i] names route i in messages. error_mode is an
 * otf_ottl_error_mode_t. node NULL: compile only (config validation), *out
 * is then NULL. OTF_E_CONFIG with err naming the route and the column.
 * conds NULL: n routes the caller decides itself (the routing connector's
 * record contexts), sent with otf__cr_pass_on / otf__cr_send_parts; the
 * router then only sends, joins and drops (never call otf__cr_consume). */
int otf__cr_create(otf__cr_t **out, otf_node_t *node, const char *const *conds,
                   const char *const *names, size_t n, int ctx, int error_mode, char *err,
                   size_t errlen);
void otf__cr_destroy(otf__cr_t *r);
/* Data that matches no route is dropped instead of going to `default`
 * (the routing connector without default_pipelines, as the Collector's):
 * acknowledged, counted as OTF_COUNTER_DROPPED, and logged once per
 * process: *drops counts the drops of the node on every worker (shared by
 * its instances, atomic), and the first is logged as a warning. */
void otf__cr_drop_unmatched(otf__cr_t *r, _Atomic uint64_t *drops);
/* CFG: replaces r's routes (the same number and names: its ports stay)
 * with conds compiled in ctx, and its error_mode, from the next request
 * on; the decision cache is dropped, splits waiting for answers stay.
 * names must outlive r (the new config's). On error (as otf__cr_create)
 * r keeps its routes. */
int otf__cr_set_routes(otf__cr_t *r, const char *const *conds, const char *const *names, size_t n,
                       int ctx, int error_mode, char *err, size_t errlen);
void otf__cr_consume(otf__cr_t *r, otf_msg_t *m);
/* Passes m on to route (0 .. n - 1, or -1: default) as otf__cr_consume
 * does when all its data has one route: same message, or dropped when
 * unmatched data is dropped, nacked when nothing is wired for it. */
void otf__cr_pass_on(otf__cr_t *r, otf_msg_t *m, int route);
/* Splits m: parts[0] is the request for default, parts[i + 1] route i's
 * (NULL: nothing for it), each sent as a message of the node's own
 * (envelope copied, m's id as its source); m is acked once every part is,
 * nacked when one fails (permanent when every failure was). Takes the
 * references in parts[0 .. n]. */
void otf__cr_send_parts(otf__cr_t *r, otf_msg_t *m, otf_buf_t **parts);
/* ACK/NACK of split messages, KIL; unrefs a returned payload. */
void otf__cr_control(otf__cr_t *r, const otf_ctrl_t *c);

/* True when condition text is the literal `true` (surrounding blanks
 * allowed): such a route matches everything, so nothing can be left for
 * `default`. */
bool otf__cr_cond_always(const char *cond);

/* check_wiring for routers: every route has something wired; a signal
 * that arrives must have `default` wired unless a route matches always
 * (always != 0). names as otf__cr_create. */
int otf__cr_check_wiring(const char *const *names, size_t n, bool always, uint32_t in,
                         const uint32_t *ps, uint32_t nports, char *err, size_t errlen);

#endif
