/* otflow component model: factories, the node API components call, messages,
 * acknowledgements and control signals.
 *
 * Sources: seeds/phase4-pipeline-components.md (factories per kind with
 * per-signal create and stability, consumer interfaces per signal) and
 * seeds/dataflow-mechanics.md (messages {id, envelope, payload}, ACK/NACK
 * reverse propagation, per-node control signals, bounded channels).
 *
 * Threads: every worker thread runs its own instance of every node on its
 * own libuv loop (share-nothing). All functions below that take an
 * otf_node_t or otf_msg_t must be called on that node's worker thread.
 * Callbacks (consume, control) are always invoked on that thread. Control
 * callbacks are never invoked inside the engine call that caused them
 * (they are queued). Consume is queued too, except on a fused edge
 * (channel elimination, otf_dag_set_fuse in otflow/engine.h): there the
 * upstream node's otf_node_send, made from its own consume, may run this
 * node's consume before it returns. So after a successful send a node
 * must not touch the message it sent (it may already be answered and
 * freed), and the outcome still arrives later, as a queued control,
 * unless the node sent with otf_node_send_watched: then an outcome that
 * arises during the send is that send's return value instead (no
 * callback, so no re-entry either).
 *
 * ABI: otf_component_factory_t begins with abi_version and struct_size so
 * that components built against an older header keep working; built-in
 * components register through the same structure a plugin will use.
 */
#ifndef OTFLOW_COMPONENT_H
#define OTFLOW_COMPONENT_H

#include "otflow/buf.h"
#include "otflow/pdata.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OTF_COMPONENT_ABI_VERSION 1u
#define OTF_SIGNAL_COUNT          3

typedef enum otf_component_kind {
	OTF_KIND_RECEIVER = 0,
	OTF_KIND_PROCESSOR = 1,
	OTF_KIND_EXPORTER = 2,
	OTF_KIND_CONNECTOR = 3,
	OTF_KIND_EXTENSION = 4,
} otf_component_kind_t;

/* Collector stability levels; UNDEFINED means the signal is unsupported. */
typedef enum otf_stability {
	OTF_STABILITY_UNDEFINED = 0,
	OTF_STABILITY_DEVELOPMENT = 1,
	OTF_STABILITY_ALPHA = 2,
	OTF_STABILITY_BETA = 3,
	OTF_STABILITY_STABLE = 4,
	OTF_STABILITY_DEPRECATED = 5,
} otf_stability_t;

const char *otf_component_kind_name(otf_component_kind_t k); /* "receiver", ... */
const char *otf_stability_name(otf_stability_t s);           /* "development", ... */

typedef struct otf_node otf_node_t;
typedef struct otf_msg otf_msg_t;
struct otf_ext_create_ctx; /* otflow/extension.h */

/* Interfaces an extension can provide (otflow/extension.h documents each
 * vtable). Pipeline components find them by extension id. */
typedef enum otf_ext_iface {
	OTF_EXT_SERVER_AUTH = 0, /* receivers: check a request, name its client */
	OTF_EXT_CLIENT_AUTH = 1, /* exporters: add credentials to a request */
	OTF_EXT_STORAGE = 2,     /* sending queues: durable storage */
	OTF_EXT_IFACE_COUNT
} otf_ext_iface_t;
struct otf_config_field; /* otflow/config_schema.h */

/* ---- control signals (seeds/dataflow-mechanics.md) ---- */
typedef enum otf_ctrl_type {
	OTF_CTRL_ACK = 1, /* a message this node subscribed to was delivered */
	OTF_CTRL_NACK,    /* ... was refused or failed */
	OTF_CTRL_TMR,     /* a timer of this node expired */
	OTF_CTRL_KIL,     /* shutdown: stop accepting, flush, then otf_node_shutdown_done */
	OTF_CTRL_CAN,     /* cancellation of a message id (otf_msg_cancel), downstream */
	OTF_CTRL_REB,     /* the budget downstream of this node changed (otf_node_budget) */
	/* Configuration change: handled by the engine, which calls the
	 * factory's reconfigure between messages; control() never sees it. */
	OTF_CTRL_CFG,
	/* Error report: consumed by the engine (otf_node_error), never
	 * delivered to a node's control(). */
	OTF_CTRL_ERR,
	/* A message this node subscribed to with OTF_INTEREST_QUEUED was
	 * accepted into an exporter's sending queue (otf_msg_queued); its
	 * ACK or NACK still follows. */
	OTF_CTRL_QUEUED,
} otf_ctrl_type_t;

/* A resource budget (REB, otf_node_publish_budget): what a node can take
 * now. Units: bytes = payload bytes (otf_buf_t len of the messages),
 * items = spans, data points or log records, msgs = messages (requests).
 * OTF_BUDGET_UNLIMITED in a field = no limit on it; 0 in any field = stop
 * (nothing may be sent). retry_after_ms: the publisher's guess of when
 * room returns (receivers put it in Retry-After / RetryInfo; 0 = 1 s).
 * flags OTF_BUDGET_RATE: the limit is a rate (receivers answer HTTP 429,
 * gRPC RESOURCE_EXHAUSTED); otherwise a capacity (HTTP 503, gRPC
 * UNAVAILABLE). */
#define OTF_BUDGET_UNLIMITED UINT64_MAX
#define OTF_BUDGET_RATE      1u
typedef struct otf_budget {
	uint64_t bytes;
	uint64_t items;
	uint64_t msgs;
	uint32_t retry_after_ms;
	uint32_t flags;
} otf_budget_t;

/* Interests a node declares when subscribing to a message's outcome. */
#define OTF_INTEREST_ACK            1u
#define OTF_INTEREST_NACK           2u
#define OTF_INTEREST_RETURN_PAYLOAD 4u /* control carries the payload back */
#define OTF_INTEREST_QUEUED         8u /* OTF_CTRL_QUEUED (the ack node's pre_export) */
/* The outcome hands the message itself back (otf_ctrl_t.msg) instead of
 * releasing it: the frames below this one are kept, and the node owns the
 * message again, to answer it (otf_msg_ack/nack, which goes on upstream)
 * or to send it again with a new subscription (a retrying node that
 * resends the same message instead of one of its own per attempt). */
#define OTF_INTEREST_RETURN_MSG 16u
/* An ACK passes this frame: the node hears it (with OTF_INTEREST_ACK; its
 * otf_ctrl_t.msg NULL, the message not handed back even with
 * OTF_INTEREST_RETURN_MSG, which then applies to a NACK only), and the
 * same ACK goes on to the frames below, as if this one were not there: the
 * message is answered upstream at once, in the same unwinding. For a node
 * that hears every ACK only to pass it on (retry: its bookkeeping ends with
 * the ACK, a NACK gives it the message back to resend), one unwinding of
 * the stack per message instead of two. A NACK stops here as usual. */
#define OTF_INTEREST_ACK_PASSES 32u
/* Bit 31 of interests is the engine's (a watched send's frame): cleared
 * when a component passes it. */

typedef struct otf_ctrl {
	otf_ctrl_type_t type;
	uint64_t msg_id;     /* ACK/NACK: the message's id; TMR: the timer id */
	uint64_t calldata;   /* ACK/NACK: what the subscriber pushed; TMR: timer token */
	otf_buf_t *payload;  /* with OTF_INTEREST_RETURN_PAYLOAD: a ref the node must unref */
	otf_signal_t signal; /* ACK/NACK */
	uint64_t items;      /* ACK/NACK: items the message held */
	/* NACK only */
	int error;        /* negative code */
	bool permanent;   /* true: retrying cannot help (bad data); false: retryable */
	char reason[160]; /* human-readable */
	/* NACK retryable only: the least time, in ns, to wait before sending
	 * the data again, as the server that refused it asked (gRPC
	 * google.rpc.RetryInfo.retry_delay with RESOURCE_EXHAUSTED or
	 * UNAVAILABLE; HTTP Retry-After with 429 or 503; OTLP specification,
	 * "Failures" and "Throttling"). 0 = no such request. Set by
	 * otf_msg_nack_throttled; a fan-out join passes on the longest delay of
	 * its failed copies. Retrying nodes (retry, exporterhelper's
	 * retry_on_failure) wait at least this long, as the Collector's
	 * exporterhelper does with a throttle error (not capped by
	 * max_interval; max_elapsed_time and the message's deadline still end
	 * the retries). Appended after reason: the layout before it is
	 * unchanged for plugins of ABI 1.0. */
	uint64_t retry_after_ns;
	/* REB only: the budget now downstream of the node (otf_node_budget). */
	otf_budget_t budget;
	/* ACK/NACK with OTF_INTEREST_RETURN_MSG: the message, the node's again
	 * (it must answer, resend or drop it); NULL otherwise. */
	otf_msg_t *msg;
	/* Engine-private, components ignore it: which instance of a rebuilt
	 * node (a CFG without reconfigure, engine.h) an ACK, NACK, QUEUED or
	 * TMR belongs to, so that the instance being replaced still gets the
	 * outcomes of what it sent. 0 = the node's current instance. */
	uint32_t instance_gen;
} otf_ctrl_t;

/* ---- factories ---- */

/* Context handed to create: the node handle and the parsed config struct
 * (read-only, shared by the instances on every worker). */
typedef struct otf_create_ctx {
	otf_node_t *node;
	const void *config;
	otf_signal_t signal;
} otf_create_ctx_t;

typedef struct otf_component_factory {
	uint32_t abi_version; /* OTF_COMPONENT_ABI_VERSION */
	uint32_t struct_size; /* sizeof(otf_component_factory_t) */
	otf_component_kind_t kind;
	const char *type;        /* "otlp", "debug", ... */
	const char *description; /* one line, for `otflow components` and docs */
	/* Stability per signal, indexed by otf_signal_t; UNDEFINED = unsupported. */
	otf_stability_t stability[OTF_SIGNAL_COUNT];

	/* Declarative config: schema entries (NULL-key terminated) describing a
	 * struct of config_size bytes. otflow/config_schema.h. */
	const struct otf_config_field *config_schema;
	size_t config_size;
	/* Optional cross-field validation after the schema applied; returns 0
	 * or a negative code with a message in err (size errlen). */
	int (*validate)(const void *config, char *err, size_t errlen);

	/* Per-signal create (consumer interfaces are per signal too, below).
	 * Called once per signal the node is wired for, on each worker. The
	 * first call sees *instance == NULL and allocates; later calls for
	 * the node's other signals receive the same instance (a component that
	 * serves several signals, such as an OTLP receiver with one port, is
	 * one instance). NULL entry = signal unsupported. */
	int (*create[OTF_SIGNAL_COUNT])(const otf_create_ctx_t *ctx, void **instance);

	/* After every node of the worker exists: receivers start listening. */
	int (*start)(void *instance);
	/* Data in (processors, exporters, connectors). The node owns msg and
	 * must eventually otf_msg_ack/nack it, or forward it with
	 * otf_node_send. Per-signal consumer entries; NULL = unsupported. */
	void (*consume[OTF_SIGNAL_COUNT])(void *instance, otf_msg_t *msg);
	/* Control signals for this node. */
	void (*control)(void *instance, const otf_ctrl_t *ctrl);
	/* Release everything; called after shutdown completed or timed out. */
	void (*destroy)(void *instance);

	/* Other names of this type, NULL-terminated (NULL = none): the
	 * Collector's lower_snake_case renames (`otlp_grpc` for `otlp`,
	 * `otlp_http` for `otlphttp`), accepted in configs wherever the type
	 * is ("otlp_http/backend"). The component id keeps the name written,
	 * so node names and metrics labels follow the config. */
	const char *const *aliases;

	/* Named output ports besides "default", NULL-terminated (NULL = only
	 * "default"). Port 0 is always "default"; the port at ports[i] has
	 * index i + 1 (otf_node_send_port). Edges may only leave from a
	 * declared port: any other name is a config error. Routers declare
	 * their routes here (type_router: traces, metrics, logs). */
	const char *const *ports;

	/* Connectors only: the signal pairs the connector supports, as the
	 * Collector's CreateTracesToMetrics and friends: connector_pairs[in]
	 * is the OTF_SIGNAL_BIT mask of output signals it can make from input
	 * signal in. All zero = same signal only (in -> in). A DAG that wires
	 * a connector for a pair it does not declare (data in a traces
	 * pipeline, out into a metrics pipeline, with nothing to turn one into
	 * the other) is refused by otf_dag_compile, naming the connector's
	 * file:line, instead of dropping the data at run time. */
	uint32_t connector_pairs[OTF_SIGNAL_COUNT];

	/* Optional check of the node's wiring, at compile (after unconnected
	 * nodes are removed): in_signals is the OTF_SIGNAL_BIT mask of what
	 * arrives, port_signals[p] what leaves on port p (index as
	 * otf_node_port; nports entries). Returns 0, or a negative code with a
	 * message in err: the DAG is refused, the message prefixed with the
	 * node's file:line and name. Routers use it to refuse a signal that
	 * would have no route. It is also called, before that removal, for a
	 * node that data reaches but that has no edge out at all (every
	 * port_signals 0), so such a node is refused by its rule instead of
	 * removed with a warning (an ack node with no downstream). */
	int (*check_wiring)(const void *config, uint32_t in_signals, const uint32_t *port_signals,
	                    uint32_t nports, char *err, size_t errlen);

	/* Extensions only (kind OTF_KIND_EXTENSION; otflow/extension.h): the
	 * Collector's extensions, components outside the pipelines that
	 * pipeline components use through an interface (authenticators,
	 * storage). One instance per extension id enabled in
	 * service.extensions, made when the service is built (ext_create:
	 * parse and check, read small files; take no exclusive resource and
	 * start no thread, since `otflow validate` builds too), started once
	 * before the first worker creates its nodes (ext_start, optional: open
	 * directories, take locks, start threads), destroyed with the DAG after
	 * the engine joined. ext_ifaces[i] is the vtable of interface i
	 * (otf_ext_iface_t) the extension provides, NULL when it does not. */
	int (*ext_create)(const struct otf_ext_create_ctx *ctx, void **instance);
	int (*ext_start)(void *instance);
	void (*ext_destroy)(void *instance);
	const void *ext_ifaces[OTF_EXT_IFACE_COUNT];
	/* Output ports named by the configuration (content_router: one per
	 * route; the routing connector: one per table entry). When set it
	 * replaces `ports`: config_port(config, i) is the name of port i + 1
	 * (a string owned by config), NULL past the last. config is the
	 * parsed config struct (NULL when the type has no schema). */
	const char *(*config_port)(const void *config, uint32_t i);
	/* Connectors whose output ports lead to different Collector pipelines
	 * (routing, failover): the mask of output ports (bit p = port p, as
	 * otf_node_port) whose data pipeline `pipeline` (its id, "logs/acme")
	 * receives when it lists the connector among its receivers. 0 = the
	 * connector's configuration sends nothing there: a config error naming
	 * the pipeline. NULL: every pipeline is fed from port 0. */
	uint64_t (*pipeline_ports)(const void *config, const char *pipeline);
	/* Optional (plugin ABI 1.3): live reconfiguration, the CFG control
	 * signal (POST /api/v1/nodes/{id}/config, SIGHUP). The engine calls it
	 * on each worker's instance between two messages (never inside
	 * consume or control), with config a new struct that passed the schema
	 * and validate; it is read-only, outlives the instance and replaces
	 * ctx->config from create. The component switches to it at once (so
	 * the next message follows it) and may keep its state (queues,
	 * pending batches, counters). Returns 0, or a negative code with a
	 * message in err: that worker's instance keeps the old config, and the
	 * caller is answered with the error. NULL: the type cannot change its
	 * config while running; the admin API answers 409 and a reload that
	 * changes such a node is refused. Changes of output ports (a
	 * content_router's routes) are shape changes and are refused by the
	 * engine before this is called. */
	int (*reconfigure)(void *instance, const void *config, char *err, size_t errlen);

	/* Optional (after reconfigure; a plugin's shorter struct has none):
	 * whether a node of this type can be rebuilt (reconfigure NULL) from
	 * old_config to new_config while it runs, before any worker is told.
	 * Returns 0, or OTF_E_UNSUPPORTED with why in err: the change is
	 * refused (admin API 409, reload refused) and the node keeps running.
	 * An exporter with a persistent sending queue refuses a change of its
	 * sending_queue.storage (its records would stay behind). Main thread. */
	int (*check_rebuild)(const void *old_config, const void *new_config, char *err,
	                     size_t errlen);
} otf_component_factory_t;

/* Registers a factory (built-ins at startup; plugins later). Fails with
 * OTF_E_INVAL for a bad abi_version/struct_size and -EEXIST when the type
 * or one of its aliases is already a type or alias of that kind. Not
 * thread-safe: call before the engine starts. */
int otf_component_register(const otf_component_factory_t *f);
/* The factory whose type or one of whose aliases is type; NULL if none. */
const otf_component_factory_t *otf_component_find(otf_component_kind_t kind, const char *type);
/* True when name is f's type or one of its aliases. */
bool otf_component_has_name(const otf_component_factory_t *f, const char *name);
/* Iteration in registration order; NULL past the end. */
const otf_component_factory_t *otf_component_at(size_t i);
/* Registers every built-in component (idempotent). */
void otf_components_register_builtins(void);

/* ---- messages ---- */

/* New message carrying payload (OTLP protobuf Export*ServiceRequest bytes of
 * signal); takes over the caller's reference to payload. items = spans,
 * data points or log records in it. NULL on OOM (payload is unref'd). */
otf_msg_t *otf_msg_create(otf_node_t *node, otf_signal_t signal, otf_buf_t *payload,
                          uint64_t items);
uint64_t otf_msg_id(const otf_msg_t *m);
otf_signal_t otf_msg_signal(const otf_msg_t *m);
otf_buf_t *otf_msg_payload(const otf_msg_t *m); /* borrowed */
/* Drops m's reference to its payload while the node keeps m to answer it
 * later (the batch processor, once the bytes are copied into its batch):
 * the buffer is freed now unless another holder (a fan-out parent, a
 * relaying node's copy) keeps it. Afterwards otf_msg_payload(m) is NULL;
 * id, envelope, sources and subscriptions are kept, and the ACK/NACK
 * reaches upstream as usual with its items. 0, or OTF_E_UNSUPPORTED
 * (nothing changed) when a subscriber of m asked for the payload or the
 * message back with the outcome (OTF_INTEREST_RETURN_PAYLOAD,
 * OTF_INTEREST_RETURN_MSG): the bytes are still needed. Worker thread of
 * m only; do not send m on afterwards. */
int otf_msg_release_payload(otf_msg_t *m);
uint64_t otf_msg_items(const otf_msg_t *m);
/* Envelope: absolute deadline (ns since epoch, 0 = none), client metadata. */
uint64_t otf_msg_deadline(const otf_msg_t *m);
void otf_msg_set_deadline(otf_msg_t *m, uint64_t unix_nano);
int otf_msg_header_add(otf_msg_t *m, const char *key, const char *value);
/* First value of header key (case-insensitive, as HTTP and gRPC
 * metadata), borrowed while m lives; NULL when absent. Receivers add the
 * client's metadata; fan-out copies carry the same headers. */
const char *otf_msg_header_get(const otf_msg_t *m, const char *key);
/* Every header in the order added: otf_msg_header_count of them, entry i
 * (< count) in *key / *value, borrowed while m lives. For a node that
 * keeps the envelope beyond the message (a persistent sending queue). */
size_t otf_msg_header_count(const otf_msg_t *m);
void otf_msg_header_at(const otf_msg_t *m, size_t i, const char **key, const char **value);
/* Message identity (seeds/dataflow-mechanics.md): otf_msg_id is unique in
 * the process (whatever the worker) and kept by fan-out copies. A node
 * that makes one message out of others (batch) records their ids as the
 * new message's sources, so an outcome can be correlated with every input
 * it answers. add_source: 0 or OTF_E_NOMEM. sources: the count, with
 * *ids borrowed while m lives (NULL when 0); direct inputs only (a batch
 * of batches lists the inner batches' ids). */
int otf_msg_add_source(otf_msg_t *m, uint64_t id);
/* Copies src's envelope (headers, deadline) onto dst, a message made to
 * carry src's data on (the ack node's copy): 0 or OTF_E_NOMEM (dst then
 * holds part of the headers). Sources and subscriptions are not copied. */
int otf_msg_copy_envelope(otf_msg_t *dst, const otf_msg_t *src);
size_t otf_msg_sources(const otf_msg_t *m, const uint64_t **ids);
/* Source slices: where each source's data lies in m's payload, so that a
 * node holding m can drop the part of one input that was cancelled (CAN)
 * without decoding: the batch processor records them, an exporter's
 * sending queue cuts what it holds before a send (otf_slices_cut). A
 * slice is off..off+len bytes of the payload (whole top-level fields of
 * the Export*ServiceRequest, so that what remains is a request too) and
 * the items in them; slices are added in ascending order and do not
 * overlap. add_source_slice adds id as a source too: 0 or OTF_E_NOMEM.
 * source_slices: the count (0 when none were recorded), *s borrowed while
 * m lives. Fan-out copies carry them (same payload); a node that makes a
 * new message from m starts without them. */
typedef struct otf_msg_slice {
	uint64_t id;
	uint64_t off, len; /* bytes */
	uint64_t items;
} otf_msg_slice_t;
int otf_msg_add_source_slice(otf_msg_t *m, uint64_t id, uint64_t off, uint64_t len, uint64_t items);
size_t otf_msg_source_slices(const otf_msg_t *m, const otf_msg_slice_t **s);

/* Pushes a subscription frame: when a downstream node acks/nacks this
 * message, the nearest frame with a matching interest receives the control
 * signal (frames without the interest are skipped). At most 16 frames.
 * The outcome stops at that frame and the message is released: a node that
 * subscribes must own the consequences upstream. The supported pattern
 * (seeds/dataflow-mechanics.md: "each triggered component decides whether
 * to propagate") is to subscribe to messages the node creates (a receiver's
 * request, a batch), and to ack/nack the messages it consumed when the
 * outcome arrives. Subscribing to a message and forwarding the same message
 * leaves the frames below it unanswered: do not do that. */
int otf_msg_subscribe(otf_msg_t *m, otf_node_t *node, uint32_t interests, uint64_t calldata);
/* Pops the frame node pushed last, if it is the top one (a send that
 * failed after subscribing): 0, or OTF_E_NOT_FOUND (nothing popped). */
int otf_msg_unsubscribe(otf_msg_t *m, otf_node_t *node);
/* Outcome, by the node that owns the message (consumes it). */
void otf_msg_ack(otf_msg_t *m);
void otf_msg_nack(otf_msg_t *m, int error, bool permanent, const char *reason);
/* A retryable NACK (permanent false) carrying the server's throttle delay
 * retry_after_ns (ns; 0 = none, the same as otf_msg_nack): the subscriber
 * receives it in otf_ctrl_t.retry_after_ns. Exporters call it when the
 * server answered RESOURCE_EXHAUSTED / UNAVAILABLE with a RetryInfo, or
 * 429 / 503 with Retry-After, and they do not retry themselves. error 0
 * becomes OTF_E_IO. */
void otf_msg_nack_throttled(otf_msg_t *m, int error, uint64_t retry_after_ns, const char *reason);
/* The same, callable from any thread (a component's own threads: Go
 * goroutines, a Rust thread pool): the outcome is queued on the message's
 * worker and applied there on its next loop turn, in posting order. The
 * caller must not touch m afterwards. Rules: every message still owned
 * must be answered (or the component must stop posting) before the
 * component's destroy returns; a completion posted after the worker
 * finished is ignored. Out of memory while posting loses the outcome (the
 * message then ends at the engine's shutdown like any unanswered one). */
void otf_msg_ack_async(otf_msg_t *m);
void otf_msg_nack_async(otf_msg_t *m, int error, bool permanent, const char *reason);
void otf_msg_nack_throttled_async(otf_msg_t *m, int error, uint64_t retry_after_ns,
                                  const char *reason);
/* The owner of m (an exporter) took it into its sending queue and answers
 * for it from there: the nearest frame subscribed with OTF_INTEREST_QUEUED
 * receives OTF_CTRL_QUEUED (once; the message stays the caller's and its
 * ACK/NACK comes later as usual). A fan-out copy passes it to its parent
 * by the fan-out policy: all = every copy queued, at_least_one = the
 * first, primary = the primary copy. Nodes that carry data on in messages
 * of their own (retry, batch, failover_router) do not pass it on, so a
 * subscriber above them hears only the final outcome. No-op without such
 * a frame. Exporterhelper calls it when a message enters the queue
 * (with sending_queue.storage: once its record is durable). */
void otf_msg_queued(otf_msg_t *m);
/* Drops a message nobody will ack: no control signal reaches its
 * subscribers. Exception: a fan-out copy still answers its fan-out join as
 * a retryable failure ("message dropped"), so the parent message is not
 * left waiting. */
void otf_msg_drop(otf_msg_t *m);

/* ---- node API ---- */

/* Sends msg to every consumer wired to this node for the message's signal
 * (fan-out shares the payload, never copies it). On success the engine owns
 * msg (on a fused edge the consumer may have run already: do not touch it). On failure nothing was enqueued anywhere and the caller still owns
 * msg (to nack, retry later or drop): -EAGAIN when a consumer's channel is
 * full (backpressure), OTF_E_NOT_FOUND when nothing is wired for the
 * signal, OTF_E_NOMEM. */
int otf_node_send(otf_node_t *node, otf_msg_t *msg);
/* Sends m on (as otf_node_send) and, once that succeeded, acks m to its
 * upstream at once (the subscribers below, or its fan-out join) while m
 * itself goes on downstream, subscribed by node with interests and
 * calldata (0 = none): the ack node's ingress mode without a message of
 * its own (same id, headers, payload). On failure nothing was sent or
 * answered and the caller still owns m as it was. OTF_E_UNSUPPORTED when
 * the subscriber to be acked asked for the message back
 * (OTF_INTEREST_RETURN_MSG): it cannot have it while it travels on, so
 * the caller must carry the data on in a message of its own. */
int otf_node_send_acked(otf_node_t *node, otf_msg_t *m, uint32_t interests, uint64_t calldata);
/* The upstream part of a message (its subscribers below the sender and
 * its fan-out join), cut off by otf_node_send_detached and answered later
 * by the node that holds it: the deadline processor's way of answering a
 * client at the deadline while the message itself is still downstream,
 * with no copy of it. Storage is the caller's: otf_msg_upstream_size()
 * bytes, aligned for any type, alive until the part is answered or
 * discarded. Worker thread only. */
typedef struct otf_msg_upstream otf_msg_upstream_t;
size_t otf_msg_upstream_size(void);
/* Sends m on (as otf_node_send) with its upstream part moved into storage
 * (returned as *up on success): m goes on with the same id, headers and
 * payload, subscribed by node only (interests, calldata), so its outcome
 * reaches node and stops there; node answers upstream through *up, at
 * that outcome or before it. On failure nothing was sent or moved and the
 * caller still owns m as it was. OTF_E_UNSUPPORTED when the subscriber an
 * ACK or a NACK would reach wants the message itself back
 * (OTF_INTEREST_RETURN_MSG: retry upstream): the caller must carry the
 * data on in a message of its own. */
int otf_node_send_detached(otf_node_t *node, otf_msg_t *m, uint32_t interests, uint64_t calldata,
                           void *storage, otf_msg_upstream_t **up);
/* Outcomes heard by the send (engine: src/engine/msg_handover.c, msg.c).
 * A node that subscribes to what it sends and hears every outcome (retry
 * bounds what it holds in flight, deadline answers the part it cut off)
 * would otherwise take a second control signal and a scheduler turn per
 * message, even when the outcome came at once: on a fused edge the nodes
 * after it run inside its send, and a sink that answers in its consume
 * settles the message before the send returns.
 *
 * otf_node_send_watched sends m on as otf_node_send does, with m
 * subscribed by node first (interests, calldata: otf_msg_subscribe's), and
 * returns:
 *   OTF_SENT_ANSWERED (1)  sent, and the outcome reached node's frame while
 *                          the send ran: the ACK or NACK is in *out as
 *                          control() would have received it (type ACK or
 *                          NACK, msg_id, calldata, signal, items; a NACK's
 *                          error, permanent, reason, retry_after_ns; payload
 *                          with OTF_INTEREST_RETURN_PAYLOAD: a reference the
 *                          caller unrefs; msg with OTF_INTEREST_RETURN_MSG:
 *                          m, the caller's again; every other field 0, the
 *                          reason "" for an ACK). No control signal follows
 *                          for it; the engine counts it as a delivered one
 *                          (OTF_COUNTER_ACKS / NACKS of node). Without
 *                          RETURN_MSG (or for an ACK with
 *                          OTF_INTEREST_ACK_PASSES, which went on to the
 *                          frames below in the same unwinding), m is
 *                          answered and freed already.
 *   0                      sent; the outcome comes later as a control signal,
 *                          as after otf_node_send (through a channel, from an
 *                          exporter that answers later, or when node has
 *                          control signals queued: an outcome never overtakes
 *                          a signal queued before it, so a QUEUED report
 *                          during the send makes its ACK queued too).
 *   negative               as otf_node_send (and OTF_E_NOSPACE: 16 frames
 *                          already): nothing sent, m unsubscribed, the
 *                          caller's as it came.
 * The node is not re-entered: no callback of it runs during the send; it
 * handles the answer itself after the call returns, in the callback that
 * sent (its consume, or control when it resends from a timer: such a send
 * goes through the channel, whose outcome always comes later). Only the
 * outcome of the frame this call pushed is caught, only during this call;
 * QUEUED reports, CAN and every other signal are queued as before. The
 * semantics are those of otf_node_send + a control signal, fused or not:
 * only the delivery differs. Worker thread only.
 *
 * otf_node_send_detached_watched: otf_node_send_detached, the outcome of
 * node's frame heard the same way (returns OTF_SENT_ANSWERED with *out
 * filled and *up set; the part is the caller's to answer, as after 0;
 * interests 0 subscribes nothing, so nothing can be caught). */
#define OTF_SENT_ANSWERED 1
int otf_node_send_watched(otf_node_t *node, otf_msg_t *m, uint32_t interests, uint64_t calldata,
                          otf_ctrl_t *out);
int otf_node_send_detached_watched(otf_node_t *node, otf_msg_t *m, uint32_t interests,
                                   uint64_t calldata, void *storage, otf_msg_upstream_t **up,
                                   otf_ctrl_t *out);
/* Answers a detached upstream part once, as otf_msg_ack / otf_msg_nack /
 * otf_msg_nack_throttled (retry_after_ns 0 = none) would have answered the
 * message; its storage is the caller's again after the call. */
void otf_msg_upstream_ack(otf_msg_upstream_t *up);
void otf_msg_upstream_nack(otf_msg_upstream_t *up, int error, bool permanent,
                           uint64_t retry_after_ns, const char *reason);
/* Passes a QUEUED report on to the part (otf_msg_queued); the part still
 * waits for its answer. */
void otf_msg_upstream_queued(otf_msg_upstream_t *up);
/* Releases a part nobody will answer (teardown), as the engine discards
 * messages then: a fan-out join still lets its parent go. */
void otf_msg_upstream_discard(otf_msg_upstream_t *up);
/* Index of this node's output port name (0 = "default", i + 1 = the
 * factory's ports[i]), or OTF_E_NOT_FOUND when the factory declares no
 * such port. Resolve once (at create), then send by index. */
int otf_node_port(const otf_node_t *node, const char *name);
/* As otf_node_send, but only the consumers wired to output port `port`
 * (an index from otf_node_port) receive msg; otf_node_send is port 0.
 * OTF_E_NOT_FOUND when nothing is wired to that port for the signal (the
 * caller decides: a router falls back to "default"), OTF_E_INVAL for an
 * index the node does not have. */
int otf_node_send_port(otf_node_t *node, int port, otf_msg_t *msg);
/* True when something is wired to any of this node's output ports for
 * signal s; otf_node_port_has_output asks about one port. */
bool otf_node_has_output(const otf_node_t *node, otf_signal_t s);
bool otf_node_port_has_output(const otf_node_t *node, int port, otf_signal_t s);
const char *otf_node_name(const otf_node_t *node); /* "receiver:otlp", ... */
int otf_node_worker_index(const otf_node_t *node);
struct uv_loop_s *otf_node_loop(otf_node_t *node);
/* One-shot (repeat_ms 0) or repeating timer; expiry arrives as OTF_CTRL_TMR
 * with calldata = token and msg_id = the timer id. Returns a timer id > 0
 * or a negative code. A one-shot timer is gone once it fired. */
int64_t otf_node_timer_start(otf_node_t *node, uint64_t timeout_ms, uint64_t repeat_ms,
                             uint64_t token);
/* Stops the timer (no-op for an unknown or fired one-shot id). After it
 * returns, no OTF_CTRL_TMR of that timer reaches the node, even one that
 * was already queued; callable from the node's own control callback. */
void otf_node_timer_stop(otf_node_t *node, int64_t timer_id);
/* Tells the engine this node finished its KIL handling. Safe to call from
 * the node's own callbacks: the instance stays valid until destroy, which
 * the engine calls later from its loop, never from inside this call. A
 * node receives KIL only once every node feeding it reported done and its
 * input channel is empty, so no data arrives after KIL unless an upstream
 * node keeps sending after it reported done. */
void otf_node_shutdown_done(otf_node_t *node);
/* KIL's calldata when the instance is being replaced by a new one of the
 * same node (a config change rebuilds the node, otflow/engine.h) rather
 * than shut down: data arrives at the new instance already, and what the
 * old one holds but has not started to send may be handed to it with
 * otf_node_requeue instead of being flushed (an exporter whose endpoint
 * changed sends its queue to the new endpoint). Otherwise 0. */
#define OTF_KIL_HANDOVER 1u
/* From a replaced instance only (after KIL with OTF_KIL_HANDOVER): puts
 * msg, which the caller owns, into the node's own input channel, where
 * the node's new instance consumes it like any message (its frames and
 * outcome unchanged). 0, or OTF_E_INVAL when the node is not being
 * rebuilt (msg stays the caller's). */
int otf_node_requeue(otf_node_t *node, otf_msg_t *msg);

/* Self-metrics (Collector names: otelcol_receiver_accepted_spans, ...). */
typedef enum otf_node_counter {
	OTF_COUNTER_ACCEPTED = 0, /* receiver: items accepted */
	OTF_COUNTER_REFUSED,      /* receiver: items refused */
	OTF_COUNTER_SENT,         /* exporter: items sent */
	OTF_COUNTER_SEND_FAILED,  /* exporter: items that failed */
	OTF_COUNTER_DROPPED,      /* processor: items dropped (ack at ingress, then lost;
	                           * retry: refused past its bound or given up) */
	OTF_COUNTER_RETRIED,      /* processor retry: items sent again after a failure */
	OTF_COUNTER_CANCELLED,    /* any node: items of cancelled messages (CAN) it dropped,
	                           * did not retry, did not send, or aborted */
	/* Counted by the engine itself for every node (src/engine/node.c,
	 * msg.c), never by components: items and messages delivered to the
	 * node's consume (ring or fused direct call) and sent by it
	 * (otf_node_send*, once per send whatever the fan-out), the items
	 * taken from the message (otf_msg_items, no decode); ACK and NACK
	 * signals delivered to the node (messages, the outcomes of messages
	 * it subscribed to); items of messages the node refused (NACK) or
	 * let expire when no one upstream hears it, the client being
	 * answered already (a receiver with wait_for_result false). Each is
	 * written only by the node's worker, read summed over workers by
	 * otf_engine_stats. */
	OTF_COUNTER_ITEMS_IN,
	OTF_COUNTER_ITEMS_OUT,
	OTF_COUNTER_MSGS_IN,
	OTF_COUNTER_MSGS_OUT,
	OTF_COUNTER_ACKS,
	OTF_COUNTER_NACKS,
	OTF_COUNTER_DROPPED_ANSWERED,
	OTF_COUNTER_COUNT_
} otf_node_counter_t;
void otf_node_count(otf_node_t *node, otf_node_counter_t c, otf_signal_t s, uint64_t n);

/* ---- ERR: component errors and status (src/engine/status.c) ----
 * Status of a component as the Collector's componentstatus. The engine
 * derives it from what the node's instances report: starting until the
 * engine runs, then ok; an instance's recoverable error (the backend is
 * down, an export attempt failed) makes the node recoverable_error until
 * that instance reports otf_node_recovered; a permanent error stays until
 * restart; stopping/stopped during shutdown. The node's status is the
 * worst of its instances on every worker (permanent > recoverable > ok). */
typedef enum otf_component_status {
	OTF_STATUS_STARTING = 0,
	OTF_STATUS_OK,
	OTF_STATUS_RECOVERABLE_ERROR,
	OTF_STATUS_PERMANENT_ERROR,
	OTF_STATUS_FATAL_ERROR,
	OTF_STATUS_STOPPING,
	OTF_STATUS_STOPPED,
} otf_component_status_t;
/* "StatusOK", "StatusRecoverableError", ... (healthcheckv2's names). */
const char *otf_component_status_name(otf_component_status_t s);

typedef enum otf_err_severity {
	OTF_ERR_DATA = 0,        /* bad or dropped data: counted and logged, status unchanged */
	OTF_ERR_RECOVERABLE = 1, /* the component may recover (status recoverable_error) */
	OTF_ERR_PERMANENT = 2,   /* needs a human (status permanent_error until restart) */
} otf_err_severity_t;

/* Reports an error of this node (the ERR signal; its consumer is the
 * engine): reason is a short stable key ("export_failed",
 * "decode_error", "database_down", "dropped"; at most 47 bytes kept), the
 * formatted message says what happened. The engine counts it in the
 * self-metric otelcol_component_errors{component, reason}, logs it
 * rate-limited (the first of a node and reason at once, then at most one
 * line per 10 s with the number left out) and sets the status by
 * severity. Node thread only; cheap enough per failed request. */
void otf_node_error(otf_node_t *node, otf_err_severity_t sev, const char *reason, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));
/* This instance works again (a send succeeded): a recoverable error is
 * cleared (status ok once no instance of the node reports one). Cheap
 * when there was none: call it on every success. Node thread only. */
void otf_node_recovered(otf_node_t *node);

/* Logging through the engine (levels as the Collector: debug, info, warn, error). */
typedef enum otf_log_level {
	OTF_LOG_DEBUG = 0,
	OTF_LOG_INFO = 1,
	OTF_LOG_WARN = 2,
	OTF_LOG_ERROR = 3,
} otf_log_level_t;
void otf_node_log(otf_node_t *node, otf_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- REB: resource budgets, reverse propagation (engine/budget.c) ----
 * Any node may publish what it can take (otf_budget_t): an exporter's
 * sending queue its free space, memory_limiter 0 above its soft limit, the
 * admission processor what its thresholds leave. The budget travels
 * upstream, nearest node first, on the publisher's worker (budgets are per
 * worker, like the nodes: each worker's receivers feed its own queues).
 * Each node's budget is the minimum of its own (when it published one) and
 * of what it passes on from downstream: by default (OTF_BUDGET_PASS) the
 * minimum over every consumer it is wired to, on every port (a fan-out can
 * go no faster than its slowest output); OTF_BUDGET_ABSORB passes nothing
 * (a node that buffers or sheds on its own, as a sampler could). A node
 * whose downstream budget changed gets OTF_CTRL_REB with the new value in
 * ctrl.budget, queued like every control signal; nodes that do not care
 * ignore it. Receivers honour it: they ask otf_node_budget() before reading
 * a request and refuse while it is 0 (HTTP 503 / 429 with Retry-After,
 * gRPC UNAVAILABLE / RESOURCE_EXHAUSTED with RetryInfo) and stop reading
 * the sockets of refused clients until the budget returns (TCP
 * backpressure). Each message a node sends spends its size (1 msg, its
 * items and payload bytes) from that node's downstream budget until the
 * next publication replaces it, so a burst cannot outrun a publisher that
 * reports free space minus what is already on its way
 * (otf_node_input_pending). Worker thread only, like everything here. */

/* Publishes node's own budget (copied; NULL withdraws it: no limit of its
 * own) and propagates the change upstream now. Cheap when nothing changed
 * (the same value again propagates nothing). 0 or OTF_E_NOMEM. */
int otf_node_publish_budget(otf_node_t *node, const otf_budget_t *b);
/* OTF_BUDGET_PASS (default) or OTF_BUDGET_ABSORB, see above; call at create. */
#define OTF_BUDGET_PASS   0u
#define OTF_BUDGET_ABSORB 1u
int otf_node_budget_policy(otf_node_t *node, uint32_t policy);
/* The budget downstream of node (what its consumers can take, minus what
 * it sent since they last published); every field OTF_BUDGET_UNLIMITED
 * when nothing downstream published one. */
otf_budget_t otf_node_budget(const otf_node_t *node);
/* True when the downstream budget can take a message of bytes and items
 * (0 = not known yet: only a 0 budget refuses). */
bool otf_budget_admits(const otf_budget_t *b, uint64_t bytes, uint64_t items);
/* Messages, items and payload bytes waiting in node's input channel
 * (sent to it, not yet consumed): what a publisher subtracts from its free
 * space. Any pointer may be NULL; messages alone cost O(1), items or
 * bytes a walk of the channel (at most runtime.channel_capacity). */
void otf_node_input_pending(const otf_node_t *node, uint64_t *msgs, uint64_t *items,
                            uint64_t *bytes);

/* ---- CAN: cancellation of a message, downstream (engine/cancel.c) ----
 * Whoever answers a message's client (a receiver whose client
 * disconnected or whose gRPC deadline passed; the deadline processor when
 * it expires a message) cancels its id: the id is remembered on the
 * worker, and OTF_CTRL_CAN (msg_id, reason) goes to every node downstream
 * of node, nearest first, so that each copy of the message stops: a copy
 * still in a channel is dropped by the engine before it reaches consume
 * (nacked permanent -ECANCELED, counted OTF_COUNTER_CANCELLED on the node
 * it was queued for); nodes holding one (an exporter's queue, a retry
 * waiting) drop it, stop retrying, skip a send not yet started, abort one
 * in flight where the protocol allows, and count it. The set of cancelled
 * ids per worker is bounded (OTF_CANCEL_REMEMBERED, newest kept): a copy
 * that surfaces after that many later cancellations is delivered, as it
 * would have been without CAN. Fan-out copies share their message's id
 * and so are cancelled together. Worker thread only. 0 or OTF_E_NOMEM. */
#define OTF_CANCEL_REMEMBERED 1024u
int otf_msg_cancel(otf_node_t *node, uint64_t msg_id, const char *reason);
/* True when msg_id was cancelled on node's worker (see above). */
bool otf_node_msg_cancelled(const otf_node_t *node, uint64_t msg_id);
/* Cuts from payload the slices (n of them, as otf_msg_source_slices gives)
 * whose source drop(ctx, id) says to drop (otf_node_msg_cancelled for
 * CAN). Returns 0 with *out NULL when none is dropped; 0 with *out a new
 * buffer holding the rest in order (len 0 when every byte was dropped),
 * *dropped_items their items, and slices/n updated to the rest (offsets
 * into *out); OTF_E_INVAL when the slices do not describe payload (out of
 * range, unordered, or not on top-level field boundaries: nothing is
 * changed, the caller keeps payload whole); OTF_E_NOMEM. Pure: any thread. */
typedef bool (*otf_slice_drop_fn)(void *ctx, uint64_t id);
int otf_slices_cut(const otf_buf_t *payload, otf_msg_slice_t *slices, size_t *n,
                   otf_slice_drop_fn drop, void *ctx, otf_buf_t **out, uint64_t *dropped_items);

/* ---- hand-off between workers (src/engine/handoff.c) ----
 * A connection stays on the worker that accepted it (its I/O and HTTP/2
 * state are that loop's), but a complete request need not: a receiver may
 * run the rest of a request (validation, the pipeline) on the same node's
 * instance of another worker and get the outcome back by the same means.
 *
 * otf_node_handoff_peer: the index of the worker to hand the request just
 * completed on node's worker to, or -1 to keep it here. -1 with one worker
 * or OTFLOW_HANDOFF=0. Default (auto): only while node's worker is busy
 * (its thread used >= 50% of a core over the last >= 5 ms), to the least
 * busy other worker that is at least 10 points less busy and has fewer
 * than 4 hand-offs waiting. OTFLOW_HANDOFF=always
 * spreads requests round robin over every worker, this one included (a
 * test switch). Worker thread only.
 *
 * otf_node_post_worker: runs fn on worker `worker`'s loop with that
 * worker's instance of node and the node itself, status 0, in the order
 * posted. When that worker finishes before fn ran, fn runs there with
 * instance NULL and status -ECANCELED (peer still valid for another post,
 * e.g. an answer back; arg is fn's to release).
 * Returns 0 (fn will run exactly once), OTF_E_INVAL for a bad index,
 * -ECANCELED when that worker no longer takes posts, OTF_E_NOMEM (fn never
 * runs then). Any thread; fn never runs inside this call. */
typedef void (*otf_worker_fn)(void *instance, otf_node_t *peer, void *arg, int status);
int otf_node_handoff_peer(otf_node_t *node);
int otf_node_post_worker(otf_node_t *node, int worker, otf_worker_fn fn, void *arg);

/* ---- admission: process-wide flag (compatibility) ----
 * The first form of REB, kept for components built against it: a
 * process-wide flag raised while new data must be refused because a
 * process-wide resource is exhausted. Receivers still ask
 * otf_admission_refused() before reading a request (refusing as for a 0
 * budget). memory_limiter publishes REB 0 upstream and also holds this
 * flag, because memory is shared by every pipeline of the process. Each
 * holder raises it with otf_admission_hold() and lowers it with one
 * otf_admission_release(); it is up while any hold is. A node refusing a
 * message for memory nacks it with OTF_E_NOMEM, permanent false.
 * Thread-safe (atomics); callable from any thread. */
void otf_admission_hold(void);
void otf_admission_release(void);
bool otf_admission_refused(void);

#ifdef __cplusplus
}
#endif
#endif
