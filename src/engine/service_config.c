/* The settings sections of a config (both formats): `runtime` (workers,
 * capacities, shutdown, fuse), `extensions` with service.extensions
 * (health_check's endpoint; registered extension types created into the
 * DAG) and `service` itself (only the Collector's keys and otflow's
 * `admin`). Read by otf_service_build (config_dag.c) before the
 * components. */
#include "engine/engine_internal.h"

#include "otflow/config_schema.h"
#include "otflow/err.h"
#include "otflow/extension.h"
#include "otflow/service.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define OTF_STR_(x) #x
#define OTF_STR(x)  OTF_STR_(x)

/* runtime: one schema, so that ranges, types and unknown keys get the same
 * errors as component configs. */
typedef struct runtime_cfg {
	uint64_t workers, channel_capacity, control_capacity, max_connections;
	int64_t shutdown_timeout_ns;
	bool fuse;
} runtime_cfg_t;

static const otf_config_field_t k_runtime_schema[] = {
    {.key = "workers",
     .type = OTF_CFG_UINT,
     .offset = offsetof(runtime_cfg_t, workers),
     .def = "0",
     .desc =
         "Worker threads (0 = one per core); at most " OTF_STR(OTF_WORKERS_PER_CORE) " per core."},
    {.key = "channel_capacity",
     .type = OTF_CFG_UINT,
     .offset = offsetof(runtime_cfg_t, channel_capacity),
     .def = "128",
     .min = "1",
     .max = "1048576",
     .desc = "Messages a node's input channel holds."},
    {.key = "control_capacity",
     .type = OTF_CFG_UINT,
     .offset = offsetof(runtime_cfg_t, control_capacity),
     .def = "1024",
     .min = "16",
     .max = "1048576",
     .desc = "Control signals a node's queue holds before it grows."},
    {.key = "shutdown_timeout",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(runtime_cfg_t, shutdown_timeout_ns),
     .def = "10s",
     .min = "0s",
     .max = "24h",
     .desc = "How long SIGTERM waits for in-flight data to drain."},
    {.key = "max_connections",
     .type = OTF_CFG_UINT,
     .offset = offsetof(runtime_cfg_t, max_connections),
     .def = "0",
     .max = "4294967295",
     .desc = "Inbound connections the process keeps open, all receivers and workers "
             "(0 = from the open-file limit); at the cap the one idle the longest is closed."},
    {.key = "fuse",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(runtime_cfg_t, fuse),
     .def = "true",
     .desc = "Channel elimination: a linear chain of nodes (no branch between them) runs as "
             "one fused stage, a message passing by direct call instead of a channel per hop."},
    OTF_CONFIG_FIELD_END,
};

static uint64_t online_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (uint64_t)n : 1;
}

int otf__read_runtime(const otf_config_node_t *root, otf_runtime_config_t *rt,
                      otf_config_error_t *err)
{
	otf_runtime_config_defaults(rt);
	const otf_config_node_t *r = otf_config_map_get(root, "runtime");
	runtime_cfg_t c;
	int rc = otf_config_schema_apply(k_runtime_schema, r, &c, err);
	if (rc)
		return rc;
	/* Every worker is a thread with its own event loop, listening sockets
	 * and copy of every pipeline: past a few per core they only add
	 * contention and file descriptors (100000 workers end in "Too many
	 * open files" long after validation said yes). */
	uint64_t cores = online_cores(), cap = cores * OTF_WORKERS_PER_CORE;
	if (c.workers > cap)
		return otf_config_errorf(
		    err, otf_config_map_get(r, "workers"),
		    "%llu is out of range: expected 0..%llu (%u per core, %llu cores online: "
		    "each worker is a thread with its own event loop, sockets and pipeline "
		    "instances, and more workers than cores only add contention and file "
		    "descriptors)",
		    (unsigned long long)c.workers, (unsigned long long)cap,
		    (unsigned)OTF_WORKERS_PER_CORE, (unsigned long long)cores);
	rt->workers = (uint32_t)c.workers;
	rt->channel_capacity = (uint32_t)c.channel_capacity;
	rt->control_capacity = (uint32_t)c.control_capacity;
	rt->shutdown_timeout_ms = (uint64_t)(c.shutdown_timeout_ns / 1000000);
	rt->max_connections = (uint32_t)c.max_connections;
	rt->fuse = c.fuse;
	return 0;
}

static bool builtin_extension(const char *type)
{
	return !strcmp(type, "health_check") || !strcmp(type, "pprof") || !strcmp(type, "zpages");
}

static int unknown_extension(otf_config_error_t *err, const otf_config_node_t *at, const char *type)
{
	return otf_config_errorf(err, at,
	                         "unknown extension type '%s' (supported: health_check and the "
	                         "types `otflow components` lists; pprof and zpages are "
	                         "accepted and ignored)",
	                         type);
}

static int read_health_check(const otf_config_node_t *def, otf_service_settings_t *s,
                             otf_config_error_t *err)
{
	s->health_check = true;
	for (size_t k = 0; k < otf_config_len(def); k++) {
		const otf_config_node_t *v;
		const char *key = otf_config_map_at(def, k, &v);
		const char *val = otf_config_scalar(v, NULL);
		if (!strcmp(key, "use_v2") || !strcmp(key, "component_health")) {
			int rc = otf__read_health_v2(key, v, s, err); /* health_config.c */
			if (rc)
				return rc;
		} else if (!strcmp(key, "endpoint") && val) {
			snprintf(s->health_check_endpoint, sizeof s->health_check_endpoint, "%s",
			         val);
		} else if (!strcmp(key, "path") && val) {
			if (val[0] != '/' || strlen(val) >= sizeof s->health_check_path)
				return otf_config_errorf(
				    err, v, "expected a path starting with '/' (at most %zu bytes)",
				    sizeof s->health_check_path - 1);
			snprintf(s->health_check_path, sizeof s->health_check_path, "%s", val);
		} else if (otf_config_node_kind(v) != OTF_CONFIG_NULL ||
		           (strcmp(key, "endpoint") && strcmp(key, "path"))) {
			return otf_config_errorf(
			    err, v,
			    "unknown key '%s' or not a string (valid: endpoint, path, use_v2, "
			    "component_health)",
			    key);
		}
	}
	return 0;
}

/* Config of a defined extension that service.extensions does not enable:
 * checked like an unused component, not created. */
static int check_extension_def(const otf_config_node_t *v, const char *type,
                               otf_config_error_t *err)
{
	const otf_component_factory_t *f = otf_component_find(OTF_KIND_EXTENSION, type);
	char msg[512];
	void *cfg = NULL;
	int rc = otf__component_config_apply(f, v, &cfg, msg, sizeof msg);
	if (rc)
		return rc == OTF_E_NOMEM ? rc : otf_config_errorf(err, v, "%s", msg);
	otf__component_config_free(f, cfg);
	return 0;
}

static bool extension_enabled(const otf_config_node_t *used, const char *id)
{
	for (size_t i = 0; i < otf_config_len(used); i++) {
		const char *u = otf_config_scalar(otf_config_seq_at(used, i), NULL);
		if (u && !strcmp(u, id))
			return true;
	}
	return false;
}

/* extensions + service.extensions: health_check configures the built-in
 * endpoint; registered extension types (otflow/extension.h) are created
 * into dag, before any component that references one is added. */
int otf__read_extensions(const otf_config_node_t *root, otf_service_settings_t *s, otf_dag_t *dag,
                         otf_config_error_t *err)
{
	const otf_config_node_t *defs = otf_config_map_get(root, "extensions");
	const otf_config_node_t *used = otf_config_get(root, "service.extensions");
	if (defs && otf_config_node_kind(defs) != OTF_CONFIG_MAPPING &&
	    otf_config_node_kind(defs) != OTF_CONFIG_NULL)
		return otf_config_errorf(err, defs, "expected a mapping of extension ids, got %s",
		                         otf_config_kind_name(defs));
	/* Every defined extension must be of a known type and have a valid
	 * config, used or not, as the Collector refuses an unknown type
	 * anywhere in the file. */
	for (size_t i = 0; i < otf_config_len(defs); i++) {
		const otf_config_node_t *v;
		const char *id = otf_config_map_at(defs, i, &v);
		char type[64];
		otf__config_id_type(id, type, sizeof type);
		if (builtin_extension(type))
			continue;
		if (!otf_extension_type_known(type))
			return unknown_extension(err, v, type);
		if (!extension_enabled(used, id)) {
			int rc = check_extension_def(v, type, err);
			if (rc)
				return rc;
		}
	}
	for (size_t i = 0; i < otf_config_len(used); i++) {
		const otf_config_node_t *idn = otf_config_seq_at(used, i);
		const char *id = otf_config_scalar(idn, NULL);
		if (!id)
			return otf_config_errorf(err, idn, "expected an extension id");
		const otf_config_node_t *def = otf_config_map_get(defs, id);
		if (!def)
			return otf_config_errorf(
			    err, idn, "extension '%s' is not defined under extensions", id);
		char type[64];
		otf__config_id_type(id, type, sizeof type);
		/* Go-runtime debugging extensions that gateway configs commonly
		 * carry have no meaning here: accepted, said, not started. */
		if (!strcmp(type, "pprof") || !strcmp(type, "zpages")) {
			otf_log(OTF_LOG_WARN, "config",
			        "%s:%u: extension '%s' has no otflow equivalent; ignored",
			        otf_config_node_file(idn), otf_config_node_line(idn), id);
			continue;
		}
		if (!strcmp(type, "health_check")) {
			int rc = read_health_check(def, s, err);
			if (rc)
				return rc;
			continue;
		}
		if (!otf_extension_type_known(type))
			return unknown_extension(err, idn, type);
		char origin[160], msg[512];
		otf__config_origin_of(def, origin, sizeof origin);
		int rc = otf_dag_add_extension(dag, id, type, def, origin, msg, sizeof msg);
		if (rc)
			return rc == OTF_E_NOMEM ? rc : otf_config_errorf(err, def, "%s", msg);
	}
	return 0;
}

/* service: only the Collector's keys and otflow's `admin`; an unknown key
 * is an error rather than silently ignored. */
int otf__read_service(const otf_config_node_t *root, otf_service_settings_t *s,
                      otf_config_error_t *err)
{
	snprintf(s->admin_endpoint, sizeof s->admin_endpoint, "localhost:8889");
	const otf_config_node_t *svc = otf_config_map_get(root, "service");
	if (!svc || otf_config_node_kind(svc) != OTF_CONFIG_MAPPING)
		return 0;
	for (size_t i = 0; i < otf_config_len(svc); i++) {
		const otf_config_node_t *v;
		const char *k = otf_config_map_at(svc, i, &v);
		if (!strcmp(k, "extensions") || !strcmp(k, "pipelines") || !strcmp(k, "telemetry"))
			continue;
		if (strcmp(k, "admin"))
			return otf_config_errorf(
			    err, v,
			    "unknown key service.%s (valid: extensions, pipelines, "
			    "telemetry, admin)",
			    k);
		if (otf_config_node_kind(v) == OTF_CONFIG_NULL)
			continue;
		if (otf_config_node_kind(v) != OTF_CONFIG_MAPPING)
			return otf_config_errorf(err, v,
			                         "expected a mapping {endpoint: host:port}");
		for (size_t j = 0; j < otf_config_len(v); j++) {
			const otf_config_node_t *ev;
			const char *ek = otf_config_map_at(v, j, &ev);
			const char *val = otf_config_scalar(ev, NULL);
			if (strcmp(ek, "endpoint") || !val)
				return otf_config_errorf(
				    err, ev,
				    "unknown key or not a string: service.admin.%s "
				    "(valid: endpoint)",
				    ek);
			if (strlen(val) >= sizeof s->admin_endpoint || (*val && !strrchr(val, ':')))
				return otf_config_errorf(err, ev,
				                         "expected host:port, or \"\" to turn "
				                         "the admin endpoint off");
			snprintf(s->admin_endpoint, sizeof s->admin_endpoint, "%s", val);
			s->admin_explicit = true;
		}
	}
	return 0;
}
