/* otflow engine: build a dataflow DAG, compile it, run it on worker threads.
 *
 * Source: seeds/dataflow-mechanics.md. A DAG has nodes (receivers,
 * processors, exporters, connectors, each made by a registered factory) and
 * edges (from a node's output port to another node, for a set of signals).
 * Both config front-ends (Collector YAML service.pipelines, and the native
 * `nodes`/`connections` format) build the same structure through this API.
 *
 * Compile checks: every edge's signals must be produced by its source and
 * consumed by its target (factory stability per signal), every edge leaves
 * from a port its source declares (otf_dag_add_edge), connectors are wired
 * only for the signal pairs they declare, no cycles, nodes that cannot take
 * part in a complete receiver -> exporter path are removed with a warning
 * (partial path elimination), then each factory's check_wiring runs on
 * what is left (a router refusing a signal it could not route).
 *
 * Threads: build and compile on one thread. otf_engine_* run the compiled
 * DAG on runtime.workers threads; otf_engine_request_stop is thread-safe.
 */
#ifndef OTFLOW_ENGINE_H
#define OTFLOW_ENGINE_H

#include "otflow/component.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct otf_config_node; /* otflow/config.h */

typedef struct otf_dag otf_dag_t;

#define OTF_SIGNAL_BIT(s) (1u << (s))
#define OTF_SIGNALS_ALL   7u

/* The `runtime:` config section. */
/* runtime.workers is refused above this many per online core. */
#define OTF_WORKERS_PER_CORE 4

typedef struct otf_runtime_config {
	uint32_t workers;             /* worker threads; 0 = one per core */
	uint32_t channel_capacity;    /* messages per node data channel, default 128 */
	uint32_t control_capacity;    /* control signals per node queue, default 1024 */
	uint64_t shutdown_timeout_ms; /* drain deadline on SIGTERM, default 10000 */
	uint32_t max_connections;     /* inbound connections the process keeps
	                               * open, all receivers and workers; 0 =
	                               * derived from RLIMIT_NOFILE (otflow/net.h) */
	bool fuse;                    /* channel elimination (otf_dag_set_fuse), default true */
} otf_runtime_config_t;

void otf_runtime_config_defaults(otf_runtime_config_t *rt);

int otf_dag_create(otf_dag_t **out);
void otf_dag_destroy(otf_dag_t *dag);

/* Adds a node named name (unique) made by the factory (kind, type) with its
 * config from cfg (NULL = defaults). origin ("file:line") is used in
 * messages. Errors: OTF_E_NOT_FOUND unknown type, OTF_E_CONFIG bad config,
 * -EEXIST duplicate name; err receives a message naming the node. */
int otf_dag_add_node(otf_dag_t *dag, const char *name, otf_component_kind_t kind, const char *type,
                     const struct otf_config_node *cfg, const char *origin, char *err,
                     size_t errlen);
/* Index of a node by name, or -1. */
int otf_dag_find(const otf_dag_t *dag, const char *name);
/* Edge for the signals in mask (OTF_SIGNAL_BIT) from output port `port`
 * of `from` (NULL = "default"). Adding the same edge twice merges the
 * signal sets. A port the source's factory does not declare
 * (otf_component_factory_t.ports) is OTF_E_CONFIG, the message naming the
 * node and its ports. */
int otf_dag_add_edge(otf_dag_t *dag, const char *from, const char *port, const char *to,
                     uint32_t signals, char *err, size_t errlen);
/* Fan-out acknowledgement policy of a node with several consumers on one
 * port (seeds/dataflow-mechanics.md): when the message a node sends is
 * copied to n consumers, how the copies' outcomes answer the original.
 *   ALL          every copy must be acked; the first failure's reason is
 *                the answer, given once every copy answered (default).
 *   AT_LEAST_ONE acked as soon as one copy is acked; nacked once every
 *                copy failed (permanent only if every failure was).
 *   PRIMARY      the copy for the first consumer wired decides, as soon as
 *                it answers; the others are best effort (their outcome is
 *                ignored). Consumers are in edge order: the order of
 *                `to:` in native connections, of exporters in a pipeline.
 * Copies keep the original's message id (otf_msg_id). */
typedef enum otf_fanout_policy {
	OTF_FANOUT_ALL = 0,
	OTF_FANOUT_AT_LEAST_ONE = 1,
	OTF_FANOUT_PRIMARY = 2,
} otf_fanout_policy_t;
/* "all", "at_least_one", "primary"; parse returns 0 or OTF_E_CONFIG. */
const char *otf_fanout_policy_name(otf_fanout_policy_t p);
int otf_fanout_policy_parse(const char *s, otf_fanout_policy_t *out);
/* Sets the policy of node name (OTF_E_NOT_FOUND when there is none). */
int otf_dag_set_fanout(otf_dag_t *dag, const char *name, otf_fanout_policy_t p);

/* Channel elimination (runtime.fuse, default on): whether otf_dag_compile
 * fuses linear chains into stages. A stage is a chain of nodes where each
 * node is the only live successor of the one before (one edge, or one per
 * port, all to it) and that one is its only live input, the one before a
 * processor or connector; on it otf_node_send from the
 * sender's consume calls the next node's consume directly (same worker)
 * instead of queueing, falling back to the channel when that node has
 * messages queued, past 8 nested calls, and for sends from control
 * callbacks (timers, ACK/NACK, KIL) or from receivers. Outcomes, counters
 * and the shutdown order are the same either way. The environment
 * variable OTFLOW_FUSE=0 turns it off whatever is set here (tests run
 * both ways). Call before otf_dag_compile. */
void otf_dag_set_fuse(otf_dag_t *dag, bool on);
/* Validates and optimises; warnings go to the engine log. */
int otf_dag_compile(otf_dag_t *dag, char *err, size_t errlen);
/* Text (one node per line with its edges, a fused edge ending in "fused",
 * then one line per fused stage: "fused stage N: a -> b -> c") or Graphviz
 * DOT (fused edges bold, labelled "(fused)"). */
void otf_dag_print(const otf_dag_t *dag, FILE *f, bool dot);

typedef struct otf_engine otf_engine_t;

/* Instantiates every live node on each worker (the DAG must be compiled and
 * outlive the engine) and starts the worker threads. */
int otf_engine_start(otf_dag_t *dag, const otf_runtime_config_t *rt, otf_engine_t **out);
/* Number of worker threads running. */
int otf_engine_workers(const otf_engine_t *e);
/* Asks every worker to shut down: receivers stop accepting, in-flight
 * messages drain, exporters flush, within rt.shutdown_timeout_ms. Safe from
 * any thread, idempotent. */
void otf_engine_request_stop(otf_engine_t *e);
/* Joins the workers; returns the number of messages that could not be
 * delivered by the deadline (0 = clean; a message fanned out to several
 * consumers counts once), or a negative code when a worker failed to
 * start. Then frees the engine.
 * Bounded once a stop was requested: a worker still running
 * runtime.shutdown_timeout + 1 s after the first otf_engine_request_stop
 * (its loop stuck in a callback, or a component that neither finishes nor
 * meets the deadline) is logged with the components that did not stop,
 * and -ETIMEDOUT is returned with the engine still allocated (the stuck
 * thread uses it). The caller should then exit the process (_exit: the
 * thread may still touch what atexit handlers release); calling join
 * again retries without waiting. Without a stop request it waits forever. */
int64_t otf_engine_join(otf_engine_t *e);

/* Self-metrics snapshot, summed over workers. */
typedef struct otf_node_stats {
	const char *name;
	otf_component_kind_t kind;
	const char *type;
	uint64_t counters[OTF_COUNTER_COUNT_][OTF_SIGNAL_COUNT];
	uint32_t queue_depth;
	/* ERR (otflow/component.h): the node's derived status, since when
	 * (unix ns), and the last error's reason and message ("" = none). */
	otf_component_status_t status;
	uint64_t status_unix_nano;
	char error[120];
} otf_node_stats_t;
/* Fills up to cap entries; returns the number of live nodes. Thread-safe,
 * also while workers shut down; counters of workers that finished are kept
 * (they never decrease), queue depths are those of running workers. */
size_t otf_engine_stats(otf_engine_t *e, otf_node_stats_t *out, size_t cap);

/* CFG, live reconfiguration of one node (src/engine/reconfig.c). cfg is
 * the node's new config mapping (the same keys as under the node's id in
 * the config file); it is applied with the node's schema and validate,
 * then delivered as OTF_CTRL_CFG to the node's instance on every worker,
 * which applies it between two messages (no message sees half a config):
 * in place through the factory's reconfigure, or, for a type without one,
 * by a rebuild (src/engine/rebuild.c): a new instance from cfg takes over
 * the node (its channel, edges, counters), the old one gets KIL and
 * drains beside it (a receiver answers what it accepted, an exporter
 * sends its queue) and is destroyed once it reported done. A receiver's
 * listening socket on an unchanged endpoint passes to the new instance;
 * a changed port is bound before the old one is closed.
 * Blocks the caller until every worker applied it, at most 5 s. Call
 * from one thread at a time (the admin endpoint's and the reload's, the
 * main loop). Returns 0 (err empty), or with err set:
 *   OTF_E_NOT_FOUND  no live node of that id;
 *   OTF_E_CONFIG     the schema or validate refused cfg (err: the text);
 *   OTF_E_UNSUPPORTED cfg changes the node's output ports (a DAG shape
 *                    change);
 *   OTF_E_IO         a rebuild's new instance failed to create or start
 *                    on a worker (a port taken): that worker's old
 *                    instance keeps running, err says which and why;
 *   -EBUSY           a rebuild's previous old instance still drains;
 *   -ETIMEDOUT       a worker did not apply it within 5 s;
 *   other            a worker's reconfigure failed (its instance keeps
 *                    the old config), OTF_E_NOMEM. */
struct otf_config_node;
int otf_engine_reconfigure(otf_engine_t *e, const char *id, const struct otf_config_node *cfg,
                           char *err, size_t errlen);
/* Reload (SIGHUP, src/engine/reload.c): next is a compiled DAG built from
 * the reloaded files. Nodes whose config text changed get the new config
 * in place, as otf_engine_reconfigure does (taken from next, whose entry
 * is then NULL; next keeps the rest and is the caller's to destroy);
 * nodes whose config did not change are not touched and keep their state.
 * A DAG of another shape (nodes or pipelines added or removed, edges
 * changed, a node's type, signals or output ports changed) is switched to
 * live (src/engine/reshape.c): kept nodes keep their instances and are
 * rewired, new ones are started on every worker, removed ones drain and
 * are destroyed; next's nodes are then moved out (it is still the
 * caller's to destroy) and otf_engine_dag returns the new DAG.
 * Returns the number of nodes changed (>= 0; their ids in changed,
 * ", "-separated, each with what happened to it when the shape changed),
 * or a negative code with err: OTF_E_IO when a new node failed to create
 * or start on some worker (err: its file:line, id and error; nothing was
 * applied: the running DAG stays), OTF_E_UNSUPPORTED when a changed
 * node's change cannot be applied (nothing was applied); another code: a
 * node's reconfigure failed, err names it and how many were applied
 * before it. Same thread rule as otf_engine_reconfigure. */
int otf_engine_reload(otf_engine_t *e, otf_dag_t *next, char *changed, size_t changed_len,
                      char *err, size_t errlen);
/* The DAG the engine runs now: the one it was started with until a reload
 * changed the shape, then the engine's (valid until the next such reload
 * or otf_engine_join). Main thread (the one calling otf_engine_reload). */
const otf_dag_t *otf_engine_dag(const otf_engine_t *e);

/* True when node i of a compiled dag is live (not removed: it runs). */
bool otf_dag_node_live(const otf_dag_t *dag, size_t i);
/* What otf_engine_reconfigure checks before delivering, without an
 * engine: 0, or OTF_E_NOT_FOUND, OTF_E_CONFIG (the schema's text),
 * OTF_E_UNSUPPORTED (output ports would change). */
int otf_dag_node_config_check(const otf_dag_t *dag, const char *id,
                              const struct otf_config_node *cfg, char *err, size_t errlen);
/* As otf_engine_reconfigure with a config struct already made from the
 * node's schema (a reloaded DAG's, otf_dag_take_config); takes it over in
 * every case. */
int otf_engine_reconfigure_struct(otf_engine_t *e, const char *id, void *config, char *err,
                                  size_t errlen);

/* The live nodes and edges of a compiled DAG as JSON, with the counters
 * and queue depth of each node from stats (nstats entries from
 * otf_engine_stats; NULL = not running):
 *   {"nodes": [{"id", "kind", "type", "origin", "in_signals": [...],
 *               "ports": ["default", ...], "fanout",
 *               "status": "starting" | "ok" | "recoverable_error" |
 *                         "permanent_error" | "stopping" | "stopped",
 *               "error" (the last error, while the status is an error),
 *               "counters": {"accepted", "refused", "sent", "send_failed",
 *                            "dropped", "retried"}, "queue_depth"}],
 *    "edges": [{"from", "port", "to", "signals": [...], "fused": bool}],
 *    "fused_stages": [{"stage": N, "nodes": ["a", "b", ...]}]}
 * (a node in a fused stage also has "stage": N).
 * *out (len bytes, NUL-terminated) is otf_free'd by the caller. Read-only:
 * safe while the engine runs. */
int otf_dag_describe_json(const otf_dag_t *dag, const otf_node_stats_t *stats, size_t nstats,
                          char **out, size_t *len);
/* One node's object of the above, by id; OTF_E_NOT_FOUND for no live
 * node of that id. */
int otf_dag_describe_node_json(const otf_dag_t *dag, const char *id, const otf_node_stats_t *stats,
                               size_t nstats, char **out, size_t *len);

/* Engine log threshold (service.telemetry.logs.level). */
void otf_log_set_level(otf_log_level_t level);
void otf_log(otf_log_level_t level, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif
#endif
