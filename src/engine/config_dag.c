/* Config front-ends: Collector `service.pipelines` and the native
 * `nodes`/`connections` format (native.c), both compiled into one DAG.
 * The runtime, extensions and service sections are read in
 * service_config.c, service.telemetry in telemetry_config.c. */
#include "engine/engine_internal.h"

#include "otflow/alloc.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"
#include "otflow/plugin.h"
#include "otflow/service.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 256

static const char *const k_sections[] = {"receivers", "processors", "exporters", "connectors"};
static const otf_component_kind_t k_kinds[] = {OTF_KIND_RECEIVER, OTF_KIND_PROCESSOR,
                                               OTF_KIND_EXPORTER, OTF_KIND_CONNECTOR};

static int parse_signal(const char *s, size_t n, otf_signal_t *out)
{
	static const char *const names[] = {"traces", "metrics", "logs"};
	for (int i = 0; i < OTF_SIGNAL_COUNT; i++) {
		if (strlen(names[i]) == n && !strncmp(s, names[i], n)) {
			*out = (otf_signal_t)i;
			return 0;
		}
	}
	return OTF_E_CONFIG;
}

/* "type/name" -> type */
void otf__config_id_type(const char *id, char *type, size_t cap)
{
	const char *slash = strchr(id, '/');
	size_t n = slash ? (size_t)(slash - id) : strlen(id);
	if (n >= cap)
		n = cap - 1;
	memcpy(type, id, n);
	type[n] = '\0';
}

void otf__config_origin_of(const otf_config_node_t *n, char *buf, size_t cap)
{
	if (n && otf_config_node_file(n))
		snprintf(buf, cap, "%s:%u", otf_config_node_file(n), otf_config_node_line(n));
	else
		buf[0] = '\0';
}

/* An error of otf_dag_compile that starts with a node's origin
 * ("file:line: ...", origin_of) is reported at that position: prefixing
 * the root's would point at line 1 of the file. Others (no path remains)
 * are about the file as a whole. */
static int compile_error(otf_config_error_t *err, const otf_config_node_t *root, const char *msg)
{
	for (const char *c = strchr(msg, ':'); c && err; c = strchr(c + 1, ':')) {
		if (c == msg || memchr(msg, ' ', (size_t)(c - msg)))
			break;
		char *end;
		unsigned long line = strtoul(c + 1, &end, 10);
		if (end == c + 1 || strncmp(end, ": ", 2) || !line || line > UINT32_MAX)
			continue;
		memset(err, 0, sizeof *err);
		snprintf(err->file, sizeof err->file, "%.*s", (int)(c - msg), msg);
		err->line = (uint32_t)line;
		snprintf(err->message, sizeof err->message, "%s", end + 2);
		snprintf(err->text, sizeof err->text, "%s", msg);
		return OTF_E_CONFIG;
	}
	return otf_config_errorf(err, root, "%s", msg);
}

/* Adds "<kind>:<id>" for a component referenced by a pipeline, once. */
static int ensure_component(otf_dag_t *dag, const otf_config_node_t *root, int section,
                            const char *id, const otf_config_node_t *ref, char *name, size_t cap,
                            otf_config_error_t *err)
{
	/* A truncated name could alias another component's node. */
	if ((size_t)snprintf(name, cap, "%s:%s", otf_component_kind_name(k_kinds[section]), id) >=
	    cap)
		return otf_config_errorf(err, ref, "component id '%.40s...' is too long", id);
	if (otf_dag_find(dag, name) >= 0)
		return 0;
	const otf_config_node_t *defs = otf_config_map_get(root, k_sections[section]);
	if (!defs || !otf_config_map_get(defs, id))
		return otf_config_errorf(err, ref, "'%s' is not defined under %s", id,
		                         k_sections[section]);
	const otf_config_node_t *def = otf_config_map_get(defs, id);
	char type[128], origin[160], msg[512];
	otf__config_id_type(id, type, sizeof type);
	otf__config_origin_of(def, origin, sizeof origin);
	int rc = otf_dag_add_node(dag, name, k_kinds[section], type, def, origin, msg, sizeof msg);
	if (rc)
		return otf_config_errorf(err, def, "%s", msg);
	return 0;
}

static int pipeline_list(const otf_config_node_t *pl, const char *key,
                         const otf_config_node_t **out, otf_config_error_t *err)
{
	*out = otf_config_map_get(pl, key);
	if (*out && otf_config_node_kind(*out) != OTF_CONFIG_SEQUENCE &&
	    otf_config_node_kind(*out) != OTF_CONFIG_NULL)
		return otf_config_errorf(err, *out, "expected a list of component ids, got %s",
		                         otf_config_kind_name(*out));
	return 0;
}

/* The output ports of a pipeline's receiver `name` that feed pipeline pid:
 * port 0, or what a connector with pipeline_ports (routing, failover)
 * routes there. */
static int head_ports(otf_dag_t *dag, const char *name, const char *pid,
                      const otf_config_node_t *ref, uint64_t *mask, otf_config_error_t *err)
{
	const otf_dag_node_t *n = &dag->nodes[otf_dag_find(dag, name)];
	*mask = 1;
	if (!n->factory->pipeline_ports)
		return 0;
	*mask = n->factory->pipeline_ports(n->config, pid);
	if (!*mask)
		return otf_config_errorf(err, ref,
		                         "pipeline '%s' receives from connector '%s' (type %s), "
		                         "whose configuration routes nothing to it",
		                         pid, name + strlen("connector:"), n->type);
	return 0;
}

/* Edges from every head (on each of its ports) to node `to`. */
static int link_heads(otf_dag_t *dag, char (*heads)[NAME_MAX_LEN], const uint64_t *hports,
                      size_t nheads, const char *to, uint32_t bit, const otf_config_node_t *ref,
                      otf_config_error_t *err)
{
	char msg[512];
	for (size_t h = 0; h < nheads; h++) {
		const otf_dag_node_t *n = &dag->nodes[otf_dag_find(dag, heads[h])];
		for (uint32_t p = 0; p < 64; p++) {
			if (!(hports[h] & (1ull << p)))
				continue;
			const char *port =
			    p ? otf__port_name(n->factory, n->config, p - 1) : "default";
			if (!port)
				return otf_config_errorf(err, ref, "connector '%s' has no port %u",
				                         heads[h], p);
			int rc = otf_dag_add_edge(dag, heads[h], port, to, bit, msg, sizeof msg);
			if (rc)
				return otf_config_errorf(err, ref, "%s", msg);
		}
	}
	return 0;
}

static int build_pipeline(otf_dag_t *dag, const otf_config_node_t *root, const char *pid,
                          const otf_config_node_t *pl, otf_config_error_t *err)
{
	otf_signal_t sig;
	const char *slash = strchr(pid, '/');
	if (parse_signal(pid, slash ? (size_t)(slash - pid) : strlen(pid), &sig))
		return otf_config_errorf(
		    err, pl, "pipeline '%s': the id must start with traces, metrics or logs", pid);
	/* A list or a scalar has no keys to check (found by fuzz_dag_config:
	 * map_at gave a NULL key for a list). */
	if (otf_config_node_kind(pl) != OTF_CONFIG_MAPPING &&
	    otf_config_node_kind(pl) != OTF_CONFIG_NULL)
		return otf_config_errorf(
		    err, pl,
		    "pipeline '%s': expected a mapping of receivers, processors "
		    "and exporters, got %s",
		    pid, otf_config_kind_name(pl));
	for (size_t i = 0; i < otf_config_len(pl); i++) {
		const otf_config_node_t *v;
		const char *k = otf_config_map_at(pl, i, &v);
		if (strcmp(k, "receivers") && strcmp(k, "processors") && strcmp(k, "exporters") &&
		    strcmp(k, "fanout"))
			return otf_config_errorf(
			    err, v,
			    "unknown key '%s' (valid: receivers, processors, exporters, fanout)",
			    k);
	}
	const otf_config_node_t *fo = otf_config_map_get(pl, "fanout");
	otf_fanout_policy_t policy = OTF_FANOUT_ALL;
	if (fo && otf_fanout_policy_parse(otf_config_scalar(fo, NULL), &policy))
		return otf_config_errorf(err, fo, "fanout: expected all, at_least_one or primary");
	const otf_config_node_t *recv, *proc, *exp;
	int rc = pipeline_list(pl, "receivers", &recv, err);
	if (!rc)
		rc = pipeline_list(pl, "processors", &proc, err);
	if (!rc)
		rc = pipeline_list(pl, "exporters", &exp, err);
	if (rc)
		return rc;
	if (!otf_config_len(recv))
		return otf_config_errorf(err, pl, "pipeline '%s' must have at least one receiver",
		                         pid);
	if (!otf_config_len(exp))
		return otf_config_errorf(err, pl, "pipeline '%s' must have at least one exporter",
		                         pid);
	uint32_t bit = OTF_SIGNAL_BIT(sig);
	char msg[512];
	/* Heads: the nodes whose output feeds the next stage (every receiver,
	 * then the last processor). */
	size_t nrecv = otf_config_len(recv);
	char(*heads)[NAME_MAX_LEN] = otf_calloc(nrecv, sizeof *heads);
	uint64_t *hports = otf_calloc(nrecv ? nrecv : 1, sizeof *hports);
	if (!heads || !hports) {
		otf_free(heads);
		otf_free(hports);
		return OTF_E_NOMEM;
	}
	size_t nheads = 0;
	for (size_t i = 0; i < nrecv; i++) {
		const otf_config_node_t *idn = otf_config_seq_at(recv, i);
		const char *id = otf_config_scalar(idn, NULL);
		if (!id) {
			rc = otf_config_errorf(err, idn, "expected a receiver id");
			goto out;
		}
		const otf_config_node_t *conns = otf_config_map_get(root, "connectors");
		int section = otf_config_map_get(conns, id) ? 3 : 0;
		rc =
		    ensure_component(dag, root, section, id, idn, heads[nheads], NAME_MAX_LEN, err);
		if (rc)
			goto out;
		rc = head_ports(dag, heads[nheads], pid, idn, &hports[nheads], err);
		if (rc)
			goto out;
		nheads++;
	}
	for (size_t i = 0; i < otf_config_len(proc); i++) {
		const otf_config_node_t *idn = otf_config_seq_at(proc, i);
		const char *id = otf_config_scalar(idn, NULL);
		if (!id) {
			rc = otf_config_errorf(err, idn, "expected a processor id");
			goto out;
		}
		/* The Collector gives every pipeline its own processor instance. */
		const otf_config_node_t *def =
		    otf_config_map_get(otf_config_map_get(root, "processors"), id);
		if (!def) {
			rc =
			    otf_config_errorf(err, idn, "'%s' is not defined under processors", id);
			goto out;
		}
		char name[NAME_MAX_LEN], type[128], origin[160];
		if ((size_t)snprintf(name, sizeof name, "processor:%s@%s", id, pid) >=
		    sizeof name) {
			rc = otf_config_errorf(err, idn, "processor id '%.40s...' is too long", id);
			goto out;
		}
		otf__config_id_type(id, type, sizeof type);
		otf__config_origin_of(def, origin, sizeof origin);
		rc = otf_dag_add_node(dag, name, OTF_KIND_PROCESSOR, type, def, origin, msg,
		                      sizeof msg);
		if (rc) {
			rc = otf_config_errorf(err, def, "%s", msg);
			goto out;
		}
		rc = link_heads(dag, heads, hports, nheads, name, bit, idn, err);
		if (rc)
			goto out;
		snprintf(heads[0], NAME_MAX_LEN, "%s", name);
		hports[0] = 1;
		nheads = 1;
	}
	/* The pipeline's fan-out policy belongs to the node that feeds its
	 * exporters: the last processor (the pipeline's own), else its
	 * receivers, which are shared: two pipelines may not ask them for
	 * different policies. */
	for (size_t h = 0; fo && h < nheads; h++) {
		otf_dag_node_t *n = &dag->nodes[otf_dag_find(dag, heads[h])];
		if (n->kind != OTF_KIND_PROCESSOR && n->fanout != OTF_FANOUT_ALL &&
		    n->fanout != policy) {
			rc =
			    otf_config_errorf(err, fo,
			                      "fanout: '%s' already has fanout %s from another "
			                      "pipeline; give this pipeline a processor to set its "
			                      "own",
			                      heads[h], otf_fanout_policy_name(n->fanout));
			goto out;
		}
		n->fanout = policy;
	}
	for (size_t i = 0; i < otf_config_len(exp); i++) {
		const otf_config_node_t *idn = otf_config_seq_at(exp, i);
		const char *id = otf_config_scalar(idn, NULL);
		if (!id) {
			rc = otf_config_errorf(err, idn, "expected an exporter id");
			goto out;
		}
		const otf_config_node_t *conns = otf_config_map_get(root, "connectors");
		int section = otf_config_map_get(conns, id) ? 3 : 2;
		char name[NAME_MAX_LEN];
		rc = ensure_component(dag, root, section, id, idn, name, sizeof name, err);
		if (rc)
			goto out;
		rc = link_heads(dag, heads, hports, nheads, name, bit, idn, err);
		if (rc)
			goto out;
	}
out:
	otf_free(heads);
	otf_free(hports);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Processor ids referenced by any pipeline, sorted (bsearch): one pass,
 * so checking n processors against m pipelines is not n x m. */
static int used_processors(const otf_config_node_t *root, const char ***out, size_t *n)
{
	const otf_config_node_t *pls = otf_config_get(root, "service.pipelines");
	size_t total = 0;
	for (size_t i = 0; i < otf_config_len(pls); i++) {
		const otf_config_node_t *pl;
		otf_config_map_at(pls, i, &pl);
		total += otf_config_len(otf_config_map_get(pl, "processors"));
	}
	*n = 0;
	*out = otf_calloc(total ? total : 1, sizeof **out);
	if (!*out)
		return OTF_E_NOMEM;
	for (size_t i = 0; i < otf_config_len(pls); i++) {
		const otf_config_node_t *pl;
		otf_config_map_at(pls, i, &pl);
		const otf_config_node_t *procs = otf_config_map_get(pl, "processors");
		for (size_t j = 0; j < otf_config_len(procs); j++) {
			const char *p = otf_config_scalar(otf_config_seq_at(procs, j), NULL);
			if (p)
				(*out)[(*n)++] = p;
		}
	}
	qsort(*out, *n, sizeof **out, cmp_str);
	return 0;
}

static bool component_used(otf_dag_t *dag, int section, const char *id, const char **procs,
                           size_t nprocs)
{
	if (k_kinds[section] == OTF_KIND_PROCESSOR)
		return bsearch(&id, procs, nprocs, sizeof *procs, cmp_str) != NULL;
	char name[NAME_MAX_LEN];
	snprintf(name, sizeof name, "%s:%s", otf_component_kind_name(k_kinds[section]), id);
	return otf_dag_find(dag, name) >= 0;
}

/* Type and config of one defined component (not instantiated). */
static int check_one(const otf_config_node_t *v, const char *id, int s, otf_config_error_t *err)
{
	char type[128], msg[512];
	otf__config_id_type(id, type, sizeof type);
	const otf_component_factory_t *f = otf_component_find(k_kinds[s], type);
	if (!f)
		return otf_config_errorf(err, v, "unknown %s type '%s' (see `otflow components`)",
		                         otf_component_kind_name(k_kinds[s]), type);
	if (!f->config_schema)
		return otf_config_len(v)
		           ? otf_config_errorf(err, v, "type '%s' takes no configuration", type)
		           : 0;
	void *cfg = otf_calloc(1, f->config_size ? f->config_size : 1);
	if (!cfg)
		return OTF_E_NOMEM;
	int rc =
	    otf_config_schema_apply_ex(f->config_schema, v, cfg, err, otf__config_warn_log, NULL);
	if (rc) {
		otf_free(cfg); /* apply left nothing allocated */
		return rc;
	}
	if (f->validate) {
		msg[0] = '\0';
		if (f->validate(cfg, msg, sizeof msg))
			rc = otf_config_errorf(err, v, "%s", msg);
	}
	otf_config_schema_free(f->config_schema, cfg);
	otf_free(cfg);
	return rc;
}

/* Every component defined, used by a pipeline or not, must have a known
 * type and a valid config (the Collector unmarshals them all); unused ones
 * are then not instantiated. Runs after the pipelines are built: used
 * components were checked (once) when their nodes were added. */
static int check_definitions(otf_dag_t *dag, const otf_config_node_t *root, otf_config_error_t *err)
{
	const char **procs;
	size_t nprocs;
	int rc = used_processors(root, &procs, &nprocs);
	for (int s = 0; s < 4 && !rc; s++) {
		const otf_config_node_t *defs = otf_config_map_get(root, k_sections[s]);
		if (defs && otf_config_node_kind(defs) != OTF_CONFIG_MAPPING &&
		    otf_config_node_kind(defs) != OTF_CONFIG_NULL) {
			rc = otf_config_errorf(err, defs,
			                       "expected a mapping of component ids, got %s",
			                       otf_config_kind_name(defs));
			break;
		}
		for (size_t i = 0; i < otf_config_len(defs) && !rc; i++) {
			const otf_config_node_t *v;
			const char *id = otf_config_map_at(defs, i, &v);
			if (!component_used(dag, s, id, procs, nprocs))
				rc = check_one(v, id, s, err);
		}
	}
	if (procs)
		otf_free(procs);
	return rc;
}

static int build_collector(otf_dag_t *dag, const otf_config_node_t *root, otf_config_error_t *err)
{
	for (size_t i = 0; i < otf_config_len(root); i++) {
		const otf_config_node_t *v;
		const char *k = otf_config_map_at(root, i, &v);
		static const char *const known[] = {"receivers",  "processors", "exporters",
		                                    "connectors", "extensions", "service",
		                                    "runtime",    "plugins"};
		bool ok = false;
		for (size_t j = 0; j < sizeof known / sizeof known[0]; j++)
			ok |= !strcmp(k, known[j]);
		if (!ok)
			return otf_config_errorf(
			    err, v,
			    "unknown top-level key '%s' (valid: receivers, processors, "
			    "exporters, connectors, extensions, service, runtime, plugins, or "
			    "nodes/connections for the native format)",
			    k);
	}
	int rc;
	const otf_config_node_t *pls = otf_config_get(root, "service.pipelines");
	if (!pls || otf_config_node_kind(pls) != OTF_CONFIG_MAPPING || !otf_config_len(pls)) {
		const otf_config_node_t *svc = otf_config_map_get(root, "service");
		return otf_config_errorf(err, pls ? pls : (svc ? svc : root),
		                         "service.pipelines must define at least one pipeline");
	}
	for (size_t i = 0; i < otf_config_len(pls); i++) {
		const otf_config_node_t *pl;
		const char *pid = otf_config_map_at(pls, i, &pl);
		rc = build_pipeline(dag, root, pid, pl, err);
		if (rc)
			return rc;
	}
	return check_definitions(dag, root, err);
}

/* `plugins:` (both formats): shared libraries loaded before anything is
 * built, so their component types are known; relative paths are relative
 * to the config file that names them. */
static int load_plugins(const otf_config_node_t *root, otf_config_error_t *err)
{
	const otf_config_node_t *pl = otf_config_map_get(root, "plugins");
	if (!pl || otf_config_node_kind(pl) == OTF_CONFIG_NULL)
		return 0;
	if (otf_config_node_kind(pl) != OTF_CONFIG_SEQUENCE)
		return otf_config_errorf(err, pl, "expected a list of plugin library paths, got %s",
		                         otf_config_kind_name(pl));
	for (size_t i = 0; i < otf_config_len(pl); i++) {
		const otf_config_node_t *n = otf_config_seq_at(pl, i);
		const char *p = otf_config_scalar(n, NULL);
		if (!p || !*p)
			return otf_config_errorf(err, n, "expected a plugin library path");
		char path[4096], msg[600];
		const char *file = otf_config_node_file(n);
		const char *slash = file ? strrchr(file, '/') : NULL;
		if (p[0] != '/' && slash)
			snprintf(path, sizeof path, "%.*s/%s", (int)(slash - file), file, p);
		else
			snprintf(path, sizeof path, "%s", p);
		int rc = otf_plugin_load(path, msg, sizeof msg);
		if (rc)
			return otf_config_errorf(err, n, "%s", msg);
	}
	return 0;
}

int otf_service_build(const otf_config_t *cfg, otf_dag_t **out, otf_service_settings_t *settings,
                      otf_config_error_t *err)
{
	const otf_config_node_t *root = otf_config_root(cfg);
	memset(settings, 0, sizeof *settings);
	int rc = load_plugins(root, err);
	if (rc)
		return rc;
	rc = otf__read_runtime(root, &settings->runtime, err);
	snprintf(settings->health_check_endpoint, sizeof settings->health_check_endpoint,
	         "localhost:13133");
	snprintf(settings->health_check_path, sizeof settings->health_check_path, "/");
	settings->health_recovery_ns = 5ll * 60 * 1000000000ll; /* healthcheckv2's 5m */
	if (!rc)
		rc = otf__read_telemetry(root, settings, err);
	if (!rc)
		rc = otf__read_service(root, settings, err);
	if (rc)
		return rc;
	otf_log_set_level(settings->log_level);
	otf_dag_t *dag;
	rc = otf_dag_create(&dag);
	if (rc)
		return rc;
	/* Extensions first: components check their references to them. */
	rc = otf__read_extensions(root, settings, dag, err);
	if (rc)
		; /* reported */
	else if (otf_config_map_get(root, "nodes"))
		rc = otf__build_native(dag, root, err);
	else
		rc = build_collector(dag, root, err);
	if (!rc) {
		char msg[512];
		otf_dag_set_fuse(dag, settings->runtime.fuse);
		rc = otf_dag_compile(dag, msg, sizeof msg);
		if (rc)
			compile_error(err, root, msg);
	}
	if (rc) {
		otf_dag_destroy(dag);
		return rc;
	}
	*out = dag;
	return 0;
}
