/* Plugin loading (otflow/plugin.h): dlopen, the ABI check, the host API
 * table, and registration of the plugin's factories all or nothing. */
#include "engine/engine_internal.h"
#include "engine/plugin_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/plugin.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PLUGINS          32
#define MAX_PLUGIN_FACTORIES 64

typedef struct loaded {
	char path[PATH_MAX];
	void *handle;
} loaded_t;

typedef struct owned {
	const otf_component_factory_t *f;    /* the host copy registered */
	const otf_component_factory_t *orig; /* the plugin's */
	const char *path;
} owned_t;

static loaded_t g_loaded[MAX_PLUGINS];
static size_t g_loaded_len;
static owned_t g_owned[MAX_PLUGIN_FACTORIES];
static size_t g_owned_len;

/* Factories offered by the plugin being initialised. */
typedef struct staging {
	const otf_component_factory_t *f[MAX_PLUGIN_FACTORIES];
	size_t n;
	int error;
	char *err;
	size_t errlen;
	const char *path;
} staging_t;

static int host_register(void *host_ctx, const otf_component_factory_t *f)
{
	staging_t *st = host_ctx;
	if (!f || f->abi_version != OTF_COMPONENT_ABI_VERSION ||
	    f->struct_size < OTF_PLUGIN_FACTORY_MIN_SIZE ||
	    f->struct_size > sizeof(otf_component_factory_t) || !f->type) {
		snprintf(st->err, st->errlen,
		         "plugin %s: factory '%s' has component ABI %u, struct size %u (host: ABI "
		         "%u, %zu..%zu bytes)",
		         st->path, f && f->type ? f->type : "?", f ? f->abi_version : 0,
		         f ? f->struct_size : 0, OTF_COMPONENT_ABI_VERSION,
		         (size_t)OTF_PLUGIN_FACTORY_MIN_SIZE, sizeof(otf_component_factory_t));
		st->error = OTF_E_INVAL;
		return OTF_E_INVAL;
	}
	if (st->n == MAX_PLUGIN_FACTORIES || g_owned_len + st->n >= MAX_PLUGIN_FACTORIES) {
		snprintf(st->err, st->errlen, "plugin %s: too many factories (max %d)", st->path,
		         MAX_PLUGIN_FACTORIES);
		st->error = OTF_E_NOSPACE;
		return OTF_E_NOSPACE;
	}
	st->f[st->n++] = f;
	return 0;
}

static void host_log(otf_node_t *node, otf_log_level_t level, const char *line)
{
	if (node)
		otf_node_log(node, level, "%s", line ? line : "");
	else
		otf_log(level, "plugin", "%s", line ? line : "");
}

static void host_node_error(otf_node_t *node, otf_err_severity_t sev, const char *reason,
                            const char *message)
{
	otf_node_error(node, sev, reason, "%s", message ? message : "");
}

static otf_buf_t *host_buf_ref(otf_buf_t *b)
{
	return otf_buf_ref(b);
}

static const otf_host_api_t k_host = {
    .abi = OTF_PLUGIN_ABI,
    .struct_size = sizeof(otf_host_api_t),
    .register_factory = host_register,
    .msg_create = otf_msg_create,
    .msg_id = otf_msg_id,
    .msg_signal = otf_msg_signal,
    .msg_payload = otf_msg_payload,
    .msg_items = otf_msg_items,
    .msg_deadline = otf_msg_deadline,
    .msg_header_get = otf_msg_header_get,
    .msg_copy_envelope = otf_msg_copy_envelope,
    .msg_add_source = otf_msg_add_source,
    .msg_subscribe = otf_msg_subscribe,
    .msg_ack = otf__plugin_msg_ack,
    .msg_nack = otf__plugin_msg_nack,
    .msg_drop = otf__plugin_msg_drop,
    .msg_ack_async = otf_msg_ack_async,
    .msg_nack_async = otf_msg_nack_async,
    .node_send = otf__plugin_node_send,
    .node_send_port = otf__plugin_node_send_port,
    .node_port = otf_node_port,
    .node_name = otf_node_name,
    .node_worker_index = otf_node_worker_index,
    .node_timer_start = otf_node_timer_start,
    .node_timer_stop = otf_node_timer_stop,
    .node_shutdown_done = otf_node_shutdown_done,
    .node_count = otf_node_count,
    .log = host_log,
    .buf_create = otf_buf_create,
    .buf_create_copy = otf_buf_create_copy,
    .buf_ref = host_buf_ref,
    .buf_unref = otf_buf_unref,
    .view_resources = otf_view_resources,
    .view_scopes = otf_view_scopes,
    .view_records = otf_view_records,
    .view_iter_next = otf_view_iter_next,
    .view_kv_read = otf_view_kv_read,
    .view_any_read = otf_view_any_read,
    .view_log_read = otf_view_log_read,
    .view_span_read = otf_view_span_read,
    .view_count = otf_view_count,
    .arena_init = otf_arena_init,
    .arena_close = otf_arena_close,
    .decode_traces = otf_pdata_decode_traces,
    .decode_metrics = otf_pdata_decode_metrics,
    .decode_logs = otf_pdata_decode_logs,
    .encode_traces = otf_pdata_encode_traces,
    .encode_metrics = otf_pdata_encode_metrics,
    .encode_logs = otf_pdata_encode_logs,
    .msg_nack_throttled = otf__plugin_msg_nack_throttled,
    .msg_nack_throttled_async = otf_msg_nack_throttled_async,
    .msg_queued = otf_msg_queued,
    .node_publish_budget = otf_node_publish_budget,
    .node_budget = otf_node_budget,
    .msg_cancel = otf_msg_cancel,
    .node_msg_cancelled = otf_node_msg_cancelled,
    .node_error = host_node_error,
    .node_recovered = otf_node_recovered,
};

const char *otf_plugin_of(const otf_component_factory_t *f)
{
	for (size_t i = 0; i < g_owned_len; i++)
		if (g_owned[i].f == f)
			return g_owned[i].path;
	return NULL;
}

const otf_component_factory_t *otf__plugin_original(const otf_component_factory_t *hf)
{
	for (size_t i = 0; i < g_owned_len; i++)
		if (g_owned[i].f == hf)
			return g_owned[i].orig;
	return hf;
}

/* The factory registered for a plugin's: a host copy of the host's size
 * (zero-extended from an older minor's smaller struct) whose callbacks
 * are the guard's (plugin_guard.c); the plugin's own stays as orig. */
static otf_component_factory_t *widen(const otf_component_factory_t *f)
{
	otf_component_factory_t *w = otf_calloc(1, sizeof *w);
	if (!w)
		return NULL;
	memcpy(w, f, f->struct_size);
	w->struct_size = sizeof *w;
	if (w->kind != OTF_KIND_EXTENSION)
		otf__plugin_guard_factory(w);
	return w; /* lives as long as the process, like the plugin */
}

int otf_plugin_load(const char *path, char *err, size_t errlen)
{
	char real[PATH_MAX];
	if (!realpath(path, real)) {
		snprintf(err, errlen, "plugin %s: %s", path, strerror(errno));
		return OTF_E_NOT_FOUND;
	}
	for (size_t i = 0; i < g_loaded_len; i++)
		if (!strcmp(g_loaded[i].path, real))
			return 0;
	if (g_loaded_len == MAX_PLUGINS) {
		snprintf(err, errlen, "plugin %s: too many plugins (max %d)", path, MAX_PLUGINS);
		return OTF_E_NOSPACE;
	}
	void *h = dlopen(real, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen, "plugin %s: %s", path, dlerror());
		return OTF_E_INVAL;
	}
	otf_plugin_abi_fn abi_fn;
	otf_plugin_init_fn init_fn;
	*(void **)&abi_fn = dlsym(h, "otf_plugin_abi");
	*(void **)&init_fn = dlsym(h, "otf_plugin_init");
	if (!abi_fn || !init_fn) {
		snprintf(err, errlen, "plugin %s: missing entry point %s (see otflow/plugin.h)",
		         path, !abi_fn ? "otf_plugin_abi" : "otf_plugin_init");
		dlclose(h);
		return OTF_E_INVAL;
	}
	uint32_t abi = abi_fn();
	uint32_t major = abi >> 16, minor = abi & 0xffff;
	if (major != OTF_PLUGIN_ABI_MAJOR || minor > OTF_PLUGIN_ABI_MINOR) {
		snprintf(err, errlen,
		         "plugin %s: built for plugin ABI %u.%u, this otflow has %u.%u (%s)", path,
		         major, minor, OTF_PLUGIN_ABI_MAJOR, OTF_PLUGIN_ABI_MINOR,
		         major != OTF_PLUGIN_ABI_MAJOR ? "another major is incompatible"
		                                       : "a newer minor needs a newer otflow");
		dlclose(h);
		return OTF_E_INVAL;
	}
	staging_t st = {.err = err, .errlen = errlen, .path = path};
	err[0] = '\0';
	int rc = init_fn(&k_host, &st);
	if (!rc)
		rc = st.error;
	if (rc) {
		if (!err[0])
			snprintf(err, errlen, "plugin %s: otf_plugin_init failed: %s", path,
			         otf_strerror(rc));
		dlclose(h);
		return rc;
	}
	/* All or nothing: every type must be free before any is registered. */
	for (size_t i = 0; i < st.n; i++) {
		const otf_component_factory_t *f = st.f[i];
		const otf_component_factory_t *clash = otf_component_find(f->kind, f->type);
		for (const char *const *a = f->aliases; !clash && a && *a; a++)
			clash = otf_component_find(f->kind, *a);
		if (clash) {
			const char *owner = otf_plugin_of(clash);
			snprintf(err, errlen, "plugin %s: %s type '%s' is already taken by %s%s",
			         path, otf_component_kind_name(f->kind), f->type,
			         owner ? "plugin " : "a built-in component", owner ? owner : "");
			dlclose(h);
			return -EEXIST;
		}
	}
	snprintf(g_loaded[g_loaded_len].path, sizeof g_loaded[0].path, "%s", real);
	g_loaded[g_loaded_len].handle = h;
	const char *kept = g_loaded[g_loaded_len].path;
	g_loaded_len++;
	for (size_t i = 0; i < st.n; i++) {
		otf_component_factory_t *f = widen(st.f[i]);
		if (!f) {
			snprintf(err, errlen, "plugin %s: out of memory", path);
			return OTF_E_NOMEM;
		}
		/* Known before the first create can ask for it. */
		g_owned[g_owned_len++] = (owned_t){f, st.f[i], kept};
		if ((rc = otf_component_register(f))) {
			g_owned_len--;
			otf_free(f);
			snprintf(err, errlen, "plugin %s: registering '%s' failed: %s", path,
			         st.f[i]->type, otf_strerror(rc));
			return rc;
		}
	}
	return 0;
}
