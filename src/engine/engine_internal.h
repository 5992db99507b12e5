/* Engine internals: messages, node runtime state, workers, the compiled DAG.
 * Cross-file internal (otf__ prefix); components use otflow/component.h. */
#ifndef OTF_ENGINE_INTERNAL_H
#define OTF_ENGINE_INTERNAL_H

#include "otflow/component.h"
#include "otflow/config.h"
#include "otflow/engine.h"
#include "otflow/err.h"

#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <stdatomic.h>
#include <uv.h>

#define OTF_MSG_MAX_FRAMES 16

typedef struct otf_join otf_join_t;
typedef struct otf_node_timer otf_node_timer_t;

typedef struct otf_msg_frame {
	otf_node_t *node;
	uint32_t interests;
	uint64_t calldata;
	uint32_t gen; /* node->cur_gen at subscribe: the instance (rebuild.c) */
} otf_msg_frame_t;

typedef struct otf_msg_header {
	char *key;
	char *value;
} otf_msg_header_t;

struct otf_msg {
	uint64_t id;
	otf_signal_t signal;
	otf_buf_t *payload;
	uint64_t items;
	uint64_t deadline;
	struct otf_worker *worker;
	otf_msg_header_t *headers;
	uint32_t headers_len, headers_cap;
	uint64_t *sources; /* ids of the messages this one was made from */
	uint32_t sources_len, sources_cap;
	otf_msg_slice_t *slices; /* where each source's data is in payload (batch) */
	uint32_t slices_len, slices_cap;
	/* Held by a plugin node (plugin.c): linked on that node's list while
	 * the plugin owns the message, so its deadline can be enforced; an
	 * expired message was answered upstream already and is only freed
	 * when the plugin lets go of it. */
	void *held_by;
	struct otf_msg *held_prev, *held_next;
	bool expired;
	uint32_t nframes;
	bool child;          /* a fan-out copy (not counted as undelivered on its own) */
	uint32_t join_index; /* a fan-out copy: its edge's position (primary = 0) */
	otf_msg_frame_t frames[OTF_MSG_MAX_FRAMES];
	otf_join_t *join; /* fan-out parent, answered when every child is */
};

/* Fan-out join: the parent message is answered by the node's fan-out
 * policy (otf_fanout_policy_t); the join lives until every child answered,
 * the parent only until it is answered (parent NULL after). */
struct otf_join {
	otf_msg_t *parent;
	uint32_t pending;
	otf_fanout_policy_t policy;
	bool failed;
	bool permanent;
	int error;
	char reason[160];
	uint64_t retry_after_ns; /* the longest throttle delay of a failed copy */
	uint32_t total;          /* copies made */
	uint32_t queued;         /* copies reported queued (otf_msg_queued) */
};

/* ---- compiled DAG (shared, read-only once compiled) ---- */

typedef struct otf_dag_edge {
	uint32_t to;         /* node index */
	uint32_t signals;    /* bit (1 << otf_signal_t) */
	char *port;          /* output port name, "default" */
	uint32_t port_index; /* otf_node_port index of port */
	bool fused;          /* part of a fused stage (fuse.c): a direct call */
} otf_dag_edge_t;

typedef struct otf_dag_node {
	char *name;
	char *type;
	otf_component_kind_t kind;
	const otf_component_factory_t *factory;
	void *config; /* config_size bytes, schema-applied */
	otf_dag_edge_t *edges;
	size_t edges_len, edges_cap;
	uint32_t in_signals;        /* signals arriving (from edges) */
	uint32_t out_signals;       /* signals leaving */
	bool removed;               /* partial path elimination */
	otf_fanout_policy_t fanout; /* how a fan-out's parent is answered */
	char origin[160];           /* "file:line" where it was defined */
	char *config_canon;         /* reconfig.c: its config's canonical text (reload diff) */
	uint32_t stage;             /* fused stage (fuse.c), 1-based; 0 = in none */
} otf_dag_node_t;

struct otf_dag {
	otf_dag_node_t *nodes;
	size_t nodes_len, nodes_cap;
	/* Name index: open addressing, slot = node index + 1, 0 = empty; hcap
	 * a power of two, at least twice nodes_len. Keeps otf_dag_find O(1),
	 * so building a DAG of n nodes is linear (20k pipelines took 14 s). */
	uint32_t *hidx;
	size_t hcap;
	uint32_t *order; /* topological order of live nodes */
	size_t order_len;
	bool compiled;
	bool no_fuse;    /* runtime.fuse: false (otf_dag_set_fuse) */
	uint32_t stages; /* fused stages found by otf_dag_compile */
	/* Enabled extensions (extension.c), created by the front-end. */
	struct otf_dag_ext *exts;
	size_t exts_len, exts_cap;
	bool exts_started;
	/* A DAG a reload switched to (reshape.c) has none of its own: it
	 * uses those of the DAG the engine started with. */
	const struct otf_dag *ext_dag;
};

/* ---- runtime ---- */

typedef struct otf_node_port {
	otf_node_t **out[OTF_SIGNAL_COUNT];
	uint32_t out_len[OTF_SIGNAL_COUNT];
} otf_node_port_t;

typedef struct otf_ring {
	void *slots;
	uint32_t elem, cap, head, len;
} otf_ring_t;

struct otf_node {
	const otf_dag_node_t *def;
	uint32_t index;
	struct otf_worker *worker;
	void *instance;
	otf_ring_t data;    /* otf_msg_t* */
	otf_ring_t control; /* otf_ctrl_t */
	bool runnable;
	bool shutdown_done;
	bool kil_sent;
	otf_node_t *next_runnable;
	/* Consumers per output port (index as otf_node_port) and signal. */
	otf_node_port_t *ports;
	uint32_t nports;
	_Atomic uint64_t counters[OTF_COUNTER_COUNT_][OTF_SIGNAL_COUNT];
	/* A node with fused_in: items [0] and messages [1] of its ITEMS_IN
	 * and MSGS_IN that came through its channel. Its one predecessor's
	 * out is read as what it sent through channels plus the rest of
	 * this node's in (engine.c): a fused hop counts two counters, at
	 * the node called, not four (the two after the call cost 2 ns). */
	_Atomic uint64_t ring_in[2][OTF_SIGNAL_COUNT];
	_Atomic uint32_t queue_depth;
	uint8_t err_status; /* status.c: this instance's (otf_component_status_t) */
	bool gone;          /* removed by a reload and destroyed (reshape.c) */
	bool fused_in;      /* its one input edge is fused: the sender may call consume */
	/* Its one live edge, fused, on port default: the next node and the
	 * edge's signals (otf_node_send's short path); NULL otherwise. */
	otf_node_t *fused_next;
	uint32_t fused_signals;
	/* def->factory->consume, copied here: read once per message and hop. */
	void (*consume[OTF_SIGNAL_COUNT])(void *instance, otf_msg_t *msg);
	/* rebuild.c: the generation of instance (bumped by each rebuild), the
	 * one that subscriptions and timers made now belong to (an older one
	 * while the engine calls a replaced instance), and the replaced
	 * instances still draining. */
	uint32_t gen, cur_gen, gen_seq;
	struct otf_rebuild_old *olds;
};

typedef struct otf_worker {
	struct otf_engine *engine;
	int index;
	uv_loop_t loop;
	uv_idle_t pump;
	uv_async_t wake;
	uv_timer_t deadline_timer;
	uv_timer_t step_timer;
	pthread_t thread;
	/* Its nodes, indexed as the DAG (node ids); pointers, since a reload
	 * of another shape (reshape.c) swaps the array between turns while
	 * kept nodes stay where components point at them. dag is the DAG they
	 * follow now and pred_off/preds its live predecessors (the engine's
	 * may be a newer one until this worker switched); nodes_span is how
	 * many indexes the per-node arrays (budgets, cancel queues) cover. */
	otf_node_t **nodes;
	size_t nodes_len, nodes_span;
	otf_node_t *node_block; /* nodes[0 .. node_block_len) at start */
	size_t node_block_len;
	const otf_dag_t *dag;
	const uint32_t *pred_off, *preds;
	struct otf_reshape_w *reshape; /* reshape.c: removed nodes draining */
	bool drop_nacks; /* reshape.c: otf_msg_drop NACKs (a removed node's destroy) */
	otf_node_t *run_head, *run_tail;
	otf_node_timer_t *timers;
	/* The node whose consume runs now (innermost), NULL outside consume;
	 * and how many direct calls of fused stages are nested (fuse.c). */
	otf_node_t *consuming;
	uint32_t fuse_depth;
	/* The sends waiting to hear their own outcome (otf_node_send_watched,
	 * innermost first; msg_handover.c): settle hands such an outcome to the
	 * send instead of posting a control signal. NULL: none. */
	struct otf__watch *watch;
	/* The node whose control signals the pump delivers now, NULL
	 * otherwise: with consuming, the node that answers a message (msg.c
	 * counts a NACK no one hears at it). */
	otf_node_t *answering;
	uint64_t unheard_log_ns;            /* msg.c: last log of a lost NACK outside any node */
	uint64_t next_msg_id, msg_id_limit; /* a block of process-unique ids */
	uint64_t live_msgs;                 /* every message alive on this worker */
	uint64_t live_children;             /* ... of which fan-out copies */
	_Atomic int stop_requested;
	bool wake_open; /* wake may be sent to (engine lock) */
	/* Completions posted from other threads (msg_async.c): a list under
	 * async_lock, drained on the loop by the `completions` handle. */
	uv_async_t completions;
	pthread_mutex_t async_lock;
	struct otf_async_done *async_head, *async_tail;
	bool async_open; /* completions may be sent to (async_lock) */
	/* CFG requests for this worker (reconfig.c), same lock and wake-up. */
	struct otf_cfg_post *cfg_head, *cfg_tail;
	int phase; /* 0 running, 1 shutting down, 2 finished */
	int start_error;
	uint64_t undelivered;         /* messages still alive at the deadline */
	bool joined;                  /* thread joined (otf_engine_join) */
	struct otf__budget *budgets;  /* budget.c: per node, NULL until a publish */
	struct otf__cancels *cancels; /* cancel.c: cancelled ids, NULL until one */
	bool reported_stuck;          /* logged as not stopping by the deadline */
	/* handoff.c: work posted by other workers (async_lock, the
	 * completions handle), how many wait, this thread's CPU share in
	 * per mille and when it was sampled (read by the other workers); its
	 * demand (ran, or runnable waiting for a CPU) in per mille (its own);
	 * its /proc schedstat descriptor + 1 (0 not open yet, -1 closed or
	 * unavailable: CPU time only, demand = CPU share). */
	struct otf_peer_post *peer_head, *peer_tail;
	_Atomic uint32_t peer_queued;
	_Atomic uint32_t busy_pm;
	_Atomic uint64_t busy_at;
	_Atomic uint64_t taken_at; /* last chosen as a peer (uv_hrtime) */
	uint64_t load_t0, load_cpu0, load_run0;
	uint32_t demand_pm;
	int load_fd;
	uint32_t rr; /* OTFLOW_HANDOFF=always: next worker */
} otf_worker_t;

struct otf_engine {
	otf_dag_t *dag;
	otf_runtime_config_t rt;
	otf_worker_t *workers;
	int workers_len;
	uv_sem_t started; /* each worker posts once after instantiating */
	/* Guards every worker's nodes pointer, wake_open and retired against
	 * otf_engine_stats and otf_engine_request_stop on other threads. */
	pthread_mutex_t lock;
	/* Counters of workers that have freed their nodes, per DAG node, so
	 * that self-metrics stay monotonic through shutdown. */
	uint64_t (*retired)[OTF_COUNTER_COUNT_][OTF_SIGNAL_COUNT];
	/* Live predecessors of each DAG node: preds[pred_off[i] .. pred_off[i+1]). */
	uint32_t *pred_off, *preds;
	/* reshape.c: the DAG the engine was started with (its extensions;
	 * the caller's to destroy), the DAGs and predecessor tables replaced
	 * by reloads (freed with the engine), and how many node indexes every
	 * worker has instantiated (a handoff goes only to those). */
	const otf_dag_t *dag0;
	struct otf_dag_old *dag_olds;
	_Atomic size_t nodes_ready;
	/* CLOCK_MONOTONIC ns of the first stop request, 0 = none yet: the
	 * join deadline counts from there. */
	_Atomic uint64_t stop_requested_ns;
	/* Configs replaced by CFG (reconfig.c), freed with the engine. */
	struct otf_cfg_retired *cfg_retired;
	/* ERR: per-node status and error counters (status.c). */
	struct otf_status_table *status;
};

/* dag.c: index of port name for factory f (0 = "default"), or -1. */
int otf__factory_port(const otf_component_factory_t *f, const void *config, const char *name);
/* Number of output ports of f with config, "default" included. */
uint32_t otf__factory_nports(const otf_component_factory_t *f, const void *config);
/* Name of port i + 1 (factory ports or config_port); NULL past the last. */
const char *otf__port_name(const otf_component_factory_t *f, const void *config, uint32_t i);
/* Engine-private interest bit: the frame was pushed by a watched send
 * (otf_node_send_watched), so settle looks for its watch; set on no other
 * frame (otf_msg_subscribe clears it). It stays after a send that was not
 * answered, harmlessly: no watch matches once the send returned. */
#define OTF__INTEREST_WATCHED 0x80000000u
/* msg_handover.c: a send made by node with its own frame (index frame of
 * msg) on top, armed on the sender's stack while the send runs: an
 * outcome that reaches that frame during the send is written to *out
 * (caught) instead of being posted (otf_node_send_watched). */
typedef struct otf__watch {
	otf_node_t *node;
	const otf_msg_t *msg;
	uint32_t frame;
	bool caught;
	otf_ctrl_t *out;
	struct otf__watch *outer;
} otf__watch_t;
/* settle's side: the watch of frame f (index at, of m), when one waits for
 * it and may take it now (node's control queue empty: the outcome must not
 * overtake a signal queued before it); NULL otherwise. */
static inline otf__watch_t *otf__watch_find(const otf_msg_t *m, const otf_msg_frame_t *f,
                                            uint32_t at)
{
	otf__watch_t *k = f->node->worker->watch;
	for (; k; k = k->outer)
		if (k->msg == m && k->frame == at && k->node == f->node)
			return f->node->control.len ? NULL : k;
	return NULL;
}
/* msg.c */
void otf__msg_free(otf_msg_t *m);
/* Answers m's upstream with a NACK now (frames, join) while m itself stays
 * allocated with its payload for the component still holding it, which
 * then only frees it (m->expired set). */
void otf__msg_expire(otf_msg_t *m, int error, const char *reason);
/* plugin.c: the outcome of a message a plugin node held (held_by or
 * expired), applied on the worker: unlinks it, frees an expired one. */
void otf__plugin_msg_done(otf_msg_t *m, int error, bool permanent, const char *reason,
                          uint64_t retry_after_ns);
/* Frees a message nobody will answer (worker teardown): a fan-out copy
 * still releases its join, so the parent is freed with its last copy. */
void otf__msg_discard(otf_msg_t *m);
/* Answers a stack copy of a message's answering part (frames, join, id,
 * signal, items, payload or NULL) as ACK, releasing only its payload
 * reference (msg_handover.c). */
void otf__msg_settle_shell(otf_msg_t *shell);
/* ... as a NACK (otf_msg_nack_throttled's rules for retry_after_ns). */
void otf__msg_settle_shell_nack(otf_msg_t *shell, int error, bool permanent,
                                uint64_t retry_after_ns, const char *reason);
otf_msg_t *otf__msg_clone_for_fanout(otf_msg_t *parent, otf_join_t *join);
/* node.c */
int otf__ring_init(otf_ring_t *r, uint32_t elem, uint32_t cap);
void otf__ring_close(otf_ring_t *r);
void otf__node_post_ctrl(otf_node_t *node, const otf_ctrl_t *c);
/* The same in two steps, the signal built in its queue slot (no copy):
 * the next free slot (the queue grown if full; NULL when it cannot grow:
 * post a copy instead, which reports the loss), then commit it. Nothing
 * may be posted to node in between. */
otf_ctrl_t *otf__node_ctrl_slot(otf_node_t *node);
void otf__node_ctrl_commit(otf_node_t *node);
/* Zeroes c for an ACK (ack true: all but reason, which is made "", as
 * the control ring carries an ACK) or whole. */
static inline void otf__ctrl_clear(otf_ctrl_t *c, bool ack)
{
	if (!ack) {
		memset(c, 0, sizeof *c);
		return;
	}
	memset(c, 0, offsetof(otf_ctrl_t, reason));
	c->reason[0] = '\0';
	memset(&c->retry_after_ns, 0, sizeof *c - offsetof(otf_ctrl_t, retry_after_ns));
}
void otf__worker_schedule(otf_node_t *node);
/* Builds node->ports from the node's DAG edges (live targets only);
 * nodes is the worker's node array, indexed as the DAG. */
int otf__node_wire(otf_node_t *node, otf_node_t *const *nodes, const otf_dag_t *dag);
/* Before node is rewired (reshape.c): its out on a fused edge, read from
 * the node called (otf_node_t.ring_in), becomes its own counters, so the
 * counts stay whatever the new wiring fuses. Node's worker. */
void otf__node_fused_fold(otf_node_t *node);
void otf__worker_pump_cb(uv_idle_t *h);
void otf__worker_close_timers(otf_worker_t *w);
/* msg_async.c: set up / drain and close a worker's cross-thread
 * completions (otf_msg_ack_async). */
void otf__worker_async_init(otf_worker_t *w);
void otf__worker_async_close(otf_worker_t *w);
/* handoff.c: runs (or, closing, cancels) the posts from other workers;
 * lock held by neither. */
void otf__worker_peer_drain(otf_worker_t *w, bool closing);
/* handoff.c: samples the calling thread's load into w (busy_pm: ran,
 * per mille of the last >= 5 ms; demand_pm: ran or runnable), at most
 * once per window; called only on w's own thread (w zeroed before the
 * first call). _close releases what sampling opened (the peer drain at
 * closing does); sampling afterwards uses CPU time alone. */
void otf__worker_load_sample(otf_worker_t *w);
void otf__worker_load_close(otf_worker_t *w);
/* fuse.c: channel elimination. otf__dag_fuse marks the fused edges and
 * stages of a compiled DAG (none when dag->no_fuse or OTFLOW_FUSE=0).
 * otf__node_consume runs node's consume for m as the pump does (the node
 * is the one consuming while it runs). otf__fuse_send delivers m to `to`
 * by a direct call when the edge from `from` is fused and a direct call is
 * safe now, returning true (m is then `to`'s); false: use the ring. */
void otf__dag_fuse(otf_dag_t *dag);
static inline void otf__tally(_Atomic uint64_t *p, uint64_t v)
{
	atomic_store_explicit(p, atomic_load_explicit(p, memory_order_relaxed) + v,
	                      memory_order_relaxed);
}
/* Adds v to one of node's engine counters (OTF_COUNTER_ITEMS_IN ...).
 * Only node's worker writes those, so a relaxed load and store suffice:
 * plain moves, no locked add, and readers on other threads (stats) see a
 * whole value. */
static inline void otf__node_tally(otf_node_t *node, otf_node_counter_t c, otf_signal_t s,
                                   uint64_t v)
{
	otf__tally(&node->counters[c][s], v);
}
/* Inline: on the path of every message, once per hop. */
static inline void otf__node_consume(otf_node_t *node, otf_msg_t *m)
{
	otf_worker_t *w = node->worker;
	otf_node_t *outer = w->consuming;
	otf_signal_t s = m->signal;
	void (*consume)(void *, otf_msg_t *) = node->consume[s];
	otf__node_tally(node, OTF_COUNTER_ITEMS_IN, s, m->items);
	otf__node_tally(node, OTF_COUNTER_MSGS_IN, s, 1);
	w->consuming = node;
	if (consume)
		consume(node->instance, m);
	else
		otf_msg_nack(m, OTF_E_UNSUPPORTED, true, "signal not supported");
	w->consuming = outer;
}
/* Direct calls nested at most: a longer stage continues through the
 * channel from there (each consume may use a few KiB of stack). */
#define OTF_FUSE_MAX_DEPTH 8
static inline bool otf__fuse_send(otf_node_t *from, otf_node_t *to, otf_msg_t *m)
{
	otf_worker_t *w = from->worker;
	if (!to->fused_in || w->consuming != from || to->data.len ||
	    w->fuse_depth >= OTF_FUSE_MAX_DEPTH || !to->instance)
		return false;
	/* from's out: counted as to's in (otf_node_t.ring_in). */
	w->fuse_depth++;
	otf__node_consume(to, m);
	w->fuse_depth--;
	return true;
}
/* Text lines "fused stage N: a -> b -> c" for print-dag. */
void otf__dag_print_stages(const otf_dag_t *dag, FILE *f);
/* native.c */
int otf__build_native(otf_dag_t *dag, const otf_config_node_t *root, otf_config_error_t *err);
/* telemetry_config.c: service.telemetry into s->telemetry and s->log_level. */
struct otf_service_settings;
int otf__read_telemetry(const otf_config_node_t *root, struct otf_service_settings *s,
                        otf_config_error_t *err);
/* service_config.c: `runtime` into rt (defaults first); extensions and
 * service.extensions (health_check into s, registered extension types
 * created into dag); `service` (admin endpoint into s, unknown keys
 * refused). Each 0 or OTF_E_CONFIG with err set (OTF_E_NOMEM). */
int otf__read_runtime(const struct otf_config_node *root, otf_runtime_config_t *rt,
                      otf_config_error_t *err);
int otf__read_extensions(const struct otf_config_node *root, struct otf_service_settings *s,
                         otf_dag_t *dag, otf_config_error_t *err);
int otf__read_service(const struct otf_config_node *root, struct otf_service_settings *s,
                      otf_config_error_t *err);
/* config_dag.c: the type of a component id ("type/name" -> type,
 * truncated to cap); a node's origin "file:line" ("" without a file). */
void otf__config_id_type(const char *id, char *type, size_t cap);
void otf__config_origin_of(const struct otf_config_node *n, char *buf, size_t cap);
/* health_config.c: health_check's use_v2 or component_health (key) into s. */
int otf__read_health_v2(const char *key, const struct otf_config_node *v,
                        struct otf_service_settings *s, otf_config_error_t *err);
/* component_config.c */
int otf__component_config_apply(const otf_component_factory_t *f, const struct otf_config_node *cfg,
                                void **out, char *err, size_t errlen);
void otf__component_config_free(const otf_component_factory_t *f, void *config);
/* Warning callback of config loading and schemas: logs w->text as WARN. */
void otf__config_warn_log(void *user, const otf_config_error_t *w);

/* extension.c: every config field of f marked ext_ref (config_schema.h)
 * must name an extension of dag providing that interface; otherwise
 * OTF_E_CONFIG with err naming the key's file:line:col and path. */
int otf__check_ext_refs(const otf_dag_t *dag, const otf_component_factory_t *f, const void *config,
                        const struct otf_config_node *cfg, char *err, size_t errlen);
/* Starts every extension once (OTF_E_* with err naming the one failing). */
int otf__dag_extensions_start(otf_dag_t *dag, char *err, size_t errlen);
void otf__dag_extensions_destroy(otf_dag_t *dag);
/* budget.c: a message node sent spends from its downstream budget;
 * close frees the worker's budgets (free_nodes). */
void otf__budget_spent(otf_node_t *node, const otf_msg_t *m);
void otf__budget_close(otf_worker_t *w);
/* cancel.c: true when m's id was cancelled on its worker (the pump drops
 * such a message instead of handing it to consume); close frees the set. */
bool otf__msg_is_cancelled(otf_msg_t *m);
void otf__cancel_close(otf_worker_t *w);
/* reconfig.c: CFG on the worker (the pump hands it OTF_CTRL_CFG), a CFG
 * left in a ring at teardown, the worker's posted requests, the engine's
 * retired configs, the canonical text of a config subtree (NULL on OOM;
 * otf_free), the index of live node id or -1; a node's new config
 * struct from cfg (its schema, validate, extension references). */
void otf__node_cfg(otf_node_t *n, const otf_ctrl_t *c);
void otf__node_cfg_discard(const otf_ctrl_t *c);
void otf__worker_cfg_drain(otf_worker_t *w);
void otf__engine_reconfig_free(otf_engine_t *e);
char *otf__config_canon(const struct otf_config_node *cfg);
int otf__dag_live_node(const otf_dag_t *dag, const char *id);
int otf__node_config_make(const otf_dag_t *dag, const char *id, const struct otf_config_node *cfg,
                          void **out, char *err, size_t errlen);
/* Replaces node id's config with config (taken over) and, when not NULL,
 * its canonical text canon (taken over). */
int otf__engine_reconfigure(otf_engine_t *e, const char *id, void *config, char *canon, char *err,
                            size_t errlen);
/* rebuild.c: CFG for a node whose type has no reconfigure hook, on the
 * worker: a new instance is made from config and takes over at once, the
 * old one gets KIL and drains beside it (0, or an error in err with the
 * old instance still the node's); a control for a replaced instance
 * (instance_gen) goes to it; rebuild_close (finish) destroys those still
 * draining. Main thread: the listening sockets of the old config are held
 * open and shared with the new one around the delivery. */
int otf__node_rebuild(otf_node_t *n, const void *config, char *err, size_t errlen);
void otf__node_ctrl_old(otf_node_t *n, otf_ctrl_t *c);
void otf__node_rebuild_close(otf_node_t *n);
struct otf__net_hold;
struct otf__net_hold *otf__rebuild_hold(const otf_dag_node_t *dn, const void *config);
void otf__rebuild_release(struct otf__net_hold *h, bool adopted);
/* engine.c: live predecessors of every node of dag (edges between live
 * nodes) into *off and *preds (otf_free), for the KIL order and REB. */
/* engine.c: frees node's rings (discarding what is queued) and ports. */
void otf__node_free_rt(otf_node_t *n);
int otf__dag_preds(const otf_dag_t *dag, uint32_t **off, uint32_t **preds);
/* dag.c: rebuilds the name index from dag's live nodes. */
int otf__dag_reindex(otf_dag_t *dag);
/* budget.c: makes room for n node indexes (the new ones unlimited);
 * rewired recomputes every live node's downstream budget after a reload
 * changed edges (a removed exporter's 0 no longer holds its receiver). */
int otf__budget_grow(otf_worker_t *w, size_t n);
void otf__budget_rewired(otf_worker_t *w);
/* handoff.c: runs fn(NULL, NULL, arg, status) on worker w's loop between
 * turns (status -ECANCELED when w finishes first); 0 or -ECANCELED. */
int otf__worker_post(otf_worker_t *w, otf_worker_fn fn, void *arg);
/* dag_diff.c: what a reload changes, node by node (by id). Per node of
 * next: OTF_DIFF_NONE (not live), KEPT (a live node of cur of the same
 * id, type, signals and output ports: its instances stay; from[] is its
 * index in cur), ADDED (no such node in cur), REPLACED (cur's node of
 * that id is of another type, signals or ports: removed, this one new).
 * cur_removed[i]: cur's live node i has no kept counterpart (removed or
 * replaced). changed: a kept node's config text differs; rewired: its
 * live edges (target ids, ports, signals) or fan-out policy differ.
 * same_shape: nothing added or removed, nothing rewired, and every kept
 * node at its own index (then a reload only reconfigures). */
typedef enum {
	OTF_DIFF_NONE = 0,
	OTF_DIFF_KEPT,
	OTF_DIFF_ADDED,
	OTF_DIFF_REPLACED
} otf_diff_state_t;
typedef struct otf_dag_diff {
	uint8_t *state;    /* [next->nodes_len] otf_diff_state_t */
	int32_t *from;     /* [next->nodes_len] cur index of a kept node, else -1 */
	bool *changed;     /* [next->nodes_len] */
	bool *rewired;     /* [next->nodes_len] */
	bool *cur_removed; /* [cur->nodes_len] */
	size_t kept, changed_n, rewired_n, added, removed;
	bool same_shape;
} otf_dag_diff_t;
int otf__dag_diff(const otf_dag_t *cur, const otf_dag_t *next, otf_dag_diff_t *d);
void otf__dag_diff_free(otf_dag_diff_t *d);
/* reshape.c: a reload of another shape (otf_engine_reload); a worker's
 * removed nodes at finish and free_nodes. */
int otf__engine_reshape(otf_engine_t *e, otf_dag_t *next, char *changed, size_t changed_len,
                        char *err, size_t errlen);
void otf__reshape_finish(otf_worker_t *w);
void otf__reshape_free(otf_worker_t *w);
void otf__reshape_engine_free(otf_engine_t *e);
/* reshape_build.c: the new DAG m from next for cur and their diff d
 * (reshape.c says how it is indexed): NULL on OOM. (*aside)[i] and
 * (*aside_canon)[i] hold next's config and its text of kept node i while m
 * has cur's, borrowed; (*is_new)[i] marks m's new nodes, (*removed)[i]
 * cur's nodes this reload removes. unborrow gives cur back what m
 * borrowed (m then owns the asides), so m can be destroyed alone. */
otf_dag_t *otf__reshape_build(const otf_dag_t *cur, otf_dag_t *next, const otf_dag_diff_t *d,
                              void ***aside, char ***aside_canon, bool **is_new, bool **removed);
void otf__reshape_unborrow(const otf_dag_t *cur, otf_dag_t *m, void **aside, char **aside_canon);
/* status.c: the status table (made before the workers start, freed with
 * the engine) and node i's status into st. */
typedef struct otf_status_table otf_status_table_t;
int otf__status_init(otf_engine_t *e);
int otf__status_grow(otf_engine_t *e, size_t n);
void otf__status_free(otf_engine_t *e);
void otf__status_fill(otf_engine_t *e, uint32_t i, otf_node_stats_t *st);
/* log.c */
void otf__log(otf_log_level_t level, const char *who, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif
