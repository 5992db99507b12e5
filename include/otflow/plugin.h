/* otflow plugins: components in shared libraries, written in C, Rust, Go or
 * anything that can export C functions (seeds/phase4-pipeline-components.md:
 * components from another runtime, OTLP bytes across the boundary without
 * copying, consumer stubs that wait for the response without blocking).
 *
 * This is the only header a plugin needs (it includes the component
 * model's types: otflow/component.h, buf.h, pdata.h). A plugin calls the
 * host only through the otf_host_api_t table it is given, never through
 * linked symbols, so one plugin binary works with every otflow of the same
 * ABI major. docs/plugins.md walks through writing one.
 *
 * A plugin exports two C functions:
 *
 *   uint32_t otf_plugin_abi(void);
 *       returns OTF_PLUGIN_ABI (major << 16 | minor) it was built for.
 *   int otf_plugin_init(const otf_host_api_t *host, void *host_ctx);
 *       registers its factories with host->register_factory(host_ctx, f)
 *       and keeps `host` for later calls (it stays valid until exit).
 *       Returns 0 or a negative code (the load then fails with it).
 *
 * Compatibility (tested): a plugin of another major is refused; one of a
 * newer minor than the host is refused (it may call table entries the host
 * does not have); an older minor loads. Names of both versions are in the
 * error. Tables and factories are size-prefixed: the host accepts factory
 * structs down to OTF_PLUGIN_FACTORY_MIN_SIZE bytes (fields past a
 * plugin's struct_size read as zero), and a plugin must check
 * host->struct_size before using entries added in a later minor.
 *
 * Threads: a factory's callbacks (create, consume, control, destroy) run
 * on the worker thread that owns the node, one at a time per node, like
 * built-ins. Work finished on the plugin's own threads is handed back with
 * msg_ack_async / msg_nack_async (thread-safe). Nothing else in the table
 * may be called off the worker, except buf_* and the view readers (pure
 * functions) and log.
 *
 * Ownership: as in otflow/component.h. A consumed message belongs to the
 * plugin until it acks, nacks or sends it. msg_payload is borrowed; take
 * buf_ref to keep it past the message. Strings passed in are copied.
 *
 * Safety: plugins run in the otflow process; a crash in one takes otflow
 * down, and there is no isolation (run untrusted code out of process and
 * talk OTLP to it instead).
 */
#ifndef OTFLOW_PLUGIN_H
#define OTFLOW_PLUGIN_H

#include "otflow/buf.h"
#include "otflow/arena.h"
#include "otflow/component.h"
#include "otflow/config_schema.h"
#include "otflow/pdata.h"
#include "otflow/pdata_codec.h"
#include "otflow/pdata_view.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OTF_PLUGIN_ABI_MAJOR 1u
#define OTF_PLUGIN_ABI_MINOR 3u
#define OTF_PLUGIN_ABI       ((OTF_PLUGIN_ABI_MAJOR << 16) | OTF_PLUGIN_ABI_MINOR)

/* The smallest factory struct accepted from a plugin: every field up to
 * check_wiring (ABI 1.0's first release). */
#define OTF_PLUGIN_FACTORY_MIN_SIZE (offsetof(otf_component_factory_t, ext_create))

typedef struct otf_host_api {
	uint32_t abi;         /* OTF_PLUGIN_ABI of the host */
	uint32_t struct_size; /* sizeof(otf_host_api_t) of the host */

	/* Registration (only inside otf_plugin_init). The factory must stay
	 * valid (static). Errors: OTF_E_INVAL bad struct, -EEXIST a type
	 * taken by a built-in or another plugin. */
	int (*register_factory)(void *host_ctx, const otf_component_factory_t *f);

	/* Messages (otflow/component.h for each). */
	otf_msg_t *(*msg_create)(otf_node_t *node, otf_signal_t signal, otf_buf_t *payload,
	                         uint64_t items);
	uint64_t (*msg_id)(const otf_msg_t *m);
	otf_signal_t (*msg_signal)(const otf_msg_t *m);
	otf_buf_t *(*msg_payload)(const otf_msg_t *m);
	uint64_t (*msg_items)(const otf_msg_t *m);
	uint64_t (*msg_deadline)(const otf_msg_t *m);
	const char *(*msg_header_get)(const otf_msg_t *m, const char *key);
	int (*msg_copy_envelope)(otf_msg_t *dst, const otf_msg_t *src);
	int (*msg_add_source)(otf_msg_t *m, uint64_t id);
	int (*msg_subscribe)(otf_msg_t *m, otf_node_t *node, uint32_t interests, uint64_t calldata);
	void (*msg_ack)(otf_msg_t *m);
	void (*msg_nack)(otf_msg_t *m, int error, bool permanent, const char *reason);
	void (*msg_drop)(otf_msg_t *m);
	/* Any thread. */
	void (*msg_ack_async)(otf_msg_t *m);
	void (*msg_nack_async)(otf_msg_t *m, int error, bool permanent, const char *reason);

	/* Nodes. */
	int (*node_send)(otf_node_t *node, otf_msg_t *m);
	int (*node_send_port)(otf_node_t *node, int port, otf_msg_t *m);
	int (*node_port)(const otf_node_t *node, const char *name);
	const char *(*node_name)(const otf_node_t *node);
	int (*node_worker_index)(const otf_node_t *node);
	int64_t (*node_timer_start)(otf_node_t *node, uint64_t timeout_ms, uint64_t repeat_ms,
	                            uint64_t token);
	void (*node_timer_stop)(otf_node_t *node, int64_t timer_id);
	void (*node_shutdown_done)(otf_node_t *node);
	void (*node_count)(otf_node_t *node, otf_node_counter_t c, otf_signal_t s, uint64_t n);
	/* A finished line (no format directives are interpreted); any thread. */
	void (*log)(otf_node_t *node, otf_log_level_t level, const char *line);

	/* Buffers (any thread). */
	otf_buf_t *(*buf_create)(size_t cap);
	otf_buf_t *(*buf_create_copy)(const void *data, size_t len);
	otf_buf_t *(*buf_ref)(otf_buf_t *b);
	void (*buf_unref)(otf_buf_t *b);

	/* Read-only views over the payload bytes (otflow/pdata_view.h; any
	 * thread): enough to find records, attributes and values without a
	 * decode. */
	void (*view_resources)(otf_view_iter_t *it, const uint8_t *data, size_t len);
	void (*view_scopes)(otf_view_iter_t *it, otf_bytes_t resource_group);
	void (*view_records)(otf_view_iter_t *it, otf_bytes_t scope_group);
	int (*view_iter_next)(otf_view_iter_t *it, otf_bytes_t *out);
	int (*view_kv_read)(otf_bytes_t kv, otf_bytes_t *key, otf_bytes_t *value);
	int (*view_any_read)(otf_bytes_t any, otf_view_any_t *out);
	int (*view_log_read)(otf_bytes_t log_record, otf_view_log_t *out);
	int (*view_span_read)(otf_bytes_t span, otf_view_span_t *out);
	int (*view_count)(otf_signal_t signal, const uint8_t *data, size_t len,
	                  otf_view_counts_t *out);

	/* The decoded tree (otflow/pdata.h, pdata_codec.h; any thread): for
	 * edits the views cannot express. Decode into an arena made with
	 * arena_init (never the inline otf_arena_* helpers: they would link
	 * to the host), edit the tree in place (removing records by
	 * shortening arrays needs no allocation), encode to a new buffer,
	 * arena_close. limits NULL = the defaults. */
	void (*arena_init)(otf_arena_t *a, size_t chunk_size);
	void (*arena_close)(otf_arena_t *a);
	int (*decode_traces)(otf_traces_t *out, const uint8_t *data, size_t len, otf_arena_t *a,
	                     const otf_pdata_limits_t *limits, otf_pdata_error_t *err);
	int (*decode_metrics)(otf_metrics_t *out, const uint8_t *data, size_t len, otf_arena_t *a,
	                      const otf_pdata_limits_t *limits, otf_pdata_error_t *err);
	int (*decode_logs)(otf_logs_t *out, const uint8_t *data, size_t len, otf_arena_t *a,
	                   const otf_pdata_limits_t *limits, otf_pdata_error_t *err);
	int (*encode_traces)(const otf_traces_t *in, otf_buf_t **out);
	int (*encode_metrics)(const otf_metrics_t *in, otf_buf_t **out);
	int (*encode_logs)(const otf_logs_t *in, otf_buf_t **out);

	/* ABI 1.1 (check struct_size first): a retryable NACK carrying the
	 * server's throttle delay (otflow/component.h, otf_msg_nack_throttled);
	 * the _async one from any thread. */
	void (*msg_nack_throttled)(otf_msg_t *m, int error, uint64_t retry_after_ns,
	                           const char *reason);
	void (*msg_nack_throttled_async)(otf_msg_t *m, int error, uint64_t retry_after_ns,
	                                 const char *reason);
	/* ABI 1.1: an exporter took m into its queue (otf_msg_queued). */
	void (*msg_queued)(otf_msg_t *m);
	/* ABI 1.2: control signals REB and CAN (otflow/component.h). A
	 * plugin built for 1.2 may call these; check host->abi (or
	 * struct_size) before using them on an older host. */
	int (*node_publish_budget)(otf_node_t *node, const otf_budget_t *b);
	otf_budget_t (*node_budget)(const otf_node_t *node);
	int (*msg_cancel)(otf_node_t *node, uint64_t msg_id, const char *reason);
	bool (*node_msg_cancelled)(const otf_node_t *node, uint64_t msg_id);
	/* ABI 1.3: ERR (otflow/component.h: otf_node_error with a finished
	 * message, otf_node_recovered). Node thread only. Check struct_size. */
	void (*node_error)(otf_node_t *node, otf_err_severity_t sev, const char *reason,
	                   const char *message);
	void (*node_recovered)(otf_node_t *node);
} otf_host_api_t;

/* What a plugin exports (see the top of this file); declared here so a C
 * plugin's definitions are checked against them. */
typedef uint32_t (*otf_plugin_abi_fn)(void);
typedef int (*otf_plugin_init_fn)(const otf_host_api_t *host, void *host_ctx);
__attribute__((visibility("default"))) uint32_t otf_plugin_abi(void);
__attribute__((visibility("default"))) int otf_plugin_init(const otf_host_api_t *host,
                                                           void *host_ctx);

/* ---- host side ---- */

/* Loads the shared library at path (dlopen, RTLD_NOW | RTLD_LOCAL),
 * checks its ABI and calls its otf_plugin_init. A library already loaded
 * (same real path) is not loaded again (returns 0). Errors, with err
 * naming the plugin: OTF_E_NOT_FOUND missing file, OTF_E_INVAL no entry
 * point or an incompatible ABI (both versions named), -EEXIST a factory
 * type taken, or the code otf_plugin_init returned. A failed load
 * registers nothing. Not thread-safe: load before starting the engine. */
int otf_plugin_load(const char *path, char *err, size_t errlen);

/* The plugin that registered factory f ("path"), or NULL for built-ins. */
const char *otf_plugin_of(const otf_component_factory_t *f);

#ifdef __cplusplus
}
#endif
#endif
