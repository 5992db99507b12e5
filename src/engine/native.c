/* The native config format: explicit nodes and connections, for graphs
 * that Collector pipelines cannot express (named output ports, fan-in and
 * fan-out across signals, chains shared between pipelines).
 *
 *   nodes:
 *     <name>: {kind: receiver|processor|exporter|connector, type: <type>, config: {...},
 *              fanout: all|at_least_one|primary}   # default all (engine.h)
 *   connections:
 *     - from: <name> | <name>.<port>     # `port:` below, or after the dot
 *       to: <name> | [<name>, ...]
 *       port: <output port>          # default "default"
 *       signals: [traces, metrics, logs]  # default: every signal both ends support
 */
#include "engine/engine_internal.h"

#include "otflow/config.h"
#include "otflow/err.h"

#include <string.h>

static int parse_kind(const char *s, otf_component_kind_t *k)
{
	static const otf_component_kind_t kinds[] = {OTF_KIND_RECEIVER, OTF_KIND_PROCESSOR,
	                                             OTF_KIND_EXPORTER, OTF_KIND_CONNECTOR};
	for (size_t i = 0; i < 4; i++) {
		if (!strcmp(s, otf_component_kind_name(kinds[i]))) {
			*k = kinds[i];
			return 0;
		}
	}
	return OTF_E_CONFIG;
}

static int add_nodes(otf_dag_t *dag, const otf_config_node_t *nodes, otf_config_error_t *err)
{
	if (otf_config_node_kind(nodes) != OTF_CONFIG_MAPPING)
		return otf_config_errorf(err, nodes, "expected a mapping of node names, got %s",
		                         otf_config_kind_name(nodes));
	for (size_t i = 0; i < otf_config_len(nodes); i++) {
		const otf_config_node_t *def;
		const char *name = otf_config_map_at(nodes, i, &def);
		if (otf_config_node_kind(def) != OTF_CONFIG_MAPPING)
			return otf_config_errorf(err, def,
			                         "expected a mapping with kind, type, config");
		const char *kind_s = NULL, *type = NULL;
		const otf_config_node_t *cfg = NULL, *fanout = NULL;
		for (size_t k = 0; k < otf_config_len(def); k++) {
			const otf_config_node_t *v;
			const char *key = otf_config_map_at(def, k, &v);
			if (!strcmp(key, "kind"))
				kind_s = otf_config_scalar(v, NULL);
			else if (!strcmp(key, "type"))
				type = otf_config_scalar(v, NULL);
			else if (!strcmp(key, "config"))
				cfg = v;
			else if (!strcmp(key, "fanout"))
				fanout = v;
			else
				return otf_config_errorf(
				    err, v, "unknown key '%s' (valid: kind, type, config, fanout)",
				    key);
		}
		if (!type)
			return otf_config_errorf(err, def, "node '%s' needs a type", name);
		otf_component_kind_t kind;
		if (!kind_s) {
			/* The kind may be left out when only one kind has this type. */
			int found = 0;
			for (size_t j = 0; otf_component_at(j); j++) {
				if (otf_component_has_name(otf_component_at(j), type)) {
					kind = otf_component_at(j)->kind;
					found++;
				}
			}
			if (found != 1)
				return otf_config_errorf(
				    err, def,
				    found ? "node '%s': type '%s' exists for several kinds; "
				            "add kind: receiver|processor|exporter|connector"
				          : "node '%s': unknown type '%s'",
				    name, type);
		} else if (parse_kind(kind_s, &kind)) {
			return otf_config_errorf(
			    err, otf_config_map_get(def, "kind"),
			    "expected receiver, processor, exporter or connector");
		}
		char origin[160], msg[512];
		snprintf(origin, sizeof origin, "%s:%u", otf_config_node_file(def),
		         otf_config_node_line(def));
		int rc = otf_dag_add_node(dag, name, kind, type, cfg, origin, msg, sizeof msg);
		if (rc)
			return otf_config_errorf(err, def, "%s", msg);
		if (fanout) {
			otf_fanout_policy_t p;
			if (otf_fanout_policy_parse(otf_config_scalar(fanout, NULL), &p))
				return otf_config_errorf(
				    err, fanout, "fanout: expected all, at_least_one or primary");
			otf_dag_set_fanout(dag, name, p);
		}
	}
	return 0;
}

static int signals_of(const otf_config_node_t *v, uint32_t *mask, otf_config_error_t *err)
{
	*mask = 0;
	size_t n = otf_config_node_kind(v) == OTF_CONFIG_SEQUENCE ? otf_config_len(v) : 1;
	for (size_t i = 0; i < n; i++) {
		const otf_config_node_t *it =
		    otf_config_node_kind(v) == OTF_CONFIG_SEQUENCE ? otf_config_seq_at(v, i) : v;
		const char *s = otf_config_scalar(it, NULL);
		if (s && !strcmp(s, "traces"))
			*mask |= OTF_SIGNAL_BIT(OTF_SIGNAL_TRACES);
		else if (s && !strcmp(s, "metrics"))
			*mask |= OTF_SIGNAL_BIT(OTF_SIGNAL_METRICS);
		else if (s && !strcmp(s, "logs"))
			*mask |= OTF_SIGNAL_BIT(OTF_SIGNAL_LOGS);
		else
			return otf_config_errorf(err, it, "expected traces, metrics or logs");
	}
	return 0;
}

/* Signals the source produces and the target consumes. */
static uint32_t common_signals(const otf_dag_t *dag, int from, int to)
{
	const otf_dag_node_t *f = &dag->nodes[from], *t = &dag->nodes[to];
	uint32_t m = 0;
	for (int s = 0; s < OTF_SIGNAL_COUNT; s++)
		if (f->kind != OTF_KIND_EXPORTER && f->factory->stability[s] &&
		    t->kind != OTF_KIND_RECEIVER && t->factory->consume[s] &&
		    t->factory->stability[s])
			m |= OTF_SIGNAL_BIT(s);
	return m;
}

static int add_connection(otf_dag_t *dag, const otf_config_node_t *c, otf_config_error_t *err)
{
	const char *from = NULL, *port = NULL;
	const otf_config_node_t *to = NULL, *sigs = NULL;
	/* A list or a scalar here has no keys to read (found by fuzz_dag_config). */
	if (otf_config_node_kind(c) != OTF_CONFIG_MAPPING)
		return otf_config_errorf(err, c,
		                         "a connection must be a mapping {from, to}, got %s",
		                         otf_config_kind_name(c));
	for (size_t k = 0; k < otf_config_len(c); k++) {
		const otf_config_node_t *v;
		const char *key = otf_config_map_at(c, k, &v);
		if (!strcmp(key, "from"))
			from = otf_config_scalar(v, NULL);
		else if (!strcmp(key, "to"))
			to = v;
		else if (!strcmp(key, "port"))
			port = otf_config_scalar(v, NULL);
		else if (!strcmp(key, "signals"))
			sigs = v;
		else
			return otf_config_errorf(
			    err, v, "unknown key '%s' (valid: from, to, port, signals)", key);
	}
	if (!from || !to)
		return otf_config_errorf(err, c, "a connection needs from and to");
	const otf_config_node_t *from_n = otf_config_map_get(c, "from");
	char node_name[256];
	int fi = otf_dag_find(dag, from);
	const char *dot = strrchr(from, '.');
	if (fi < 0 && dot && (size_t)(dot - from) < sizeof node_name) {
		/* `from: router.port`: a node name may hold dots, so the whole
		 * name wins over a split when such a node exists. */
		snprintf(node_name, sizeof node_name, "%.*s", (int)(dot - from), from);
		fi = otf_dag_find(dag, node_name);
		if (fi >= 0) {
			if (port)
				return otf_config_errorf(
				    err, otf_config_map_get(c, "port"),
				    "port given twice: in from ('%s') and as port", from);
			port = dot + 1;
			from = node_name;
		}
	}
	if (fi < 0)
		return otf_config_errorf(err, from_n, "unknown node '%s'", from);
	const otf_config_node_t *port_key =
	    otf_config_map_get(c, "port") ? otf_config_map_get(c, "port") : from_n;
	uint32_t mask = 0;
	if (sigs) {
		int rc = signals_of(sigs, &mask, err);
		if (rc)
			return rc;
	}
	size_t n = otf_config_node_kind(to) == OTF_CONFIG_SEQUENCE ? otf_config_len(to) : 1;
	if (!n)
		return otf_config_errorf(err, to, "'to' lists no node");
	for (size_t i = 0; i < n; i++) {
		const otf_config_node_t *it =
		    otf_config_node_kind(to) == OTF_CONFIG_SEQUENCE ? otf_config_seq_at(to, i) : to;
		const char *tn = otf_config_scalar(it, NULL);
		int ti = tn ? otf_dag_find(dag, tn) : -1;
		if (ti < 0)
			return otf_config_errorf(err, it, "unknown node '%s'", tn ? tn : "");
		uint32_t m = sigs ? mask : common_signals(dag, fi, ti);
		if (!m)
			return otf_config_errorf(err, it, "'%s' and '%s' share no signal", from,
			                         tn);
		char msg[512];
		int rc = otf_dag_add_edge(dag, from, port, tn, m, msg, sizeof msg);
		if (rc && strstr(msg, "has no output port"))
			/* An unknown port is the fault of the key naming it. */
			return otf_config_errorf(err, port_key, "%s: %s",
			                         port_key == from_n ? "from" : "port", msg);
		if (rc)
			return otf_config_errorf(err, it, "%s", msg);
	}
	return 0;
}

int otf__build_native(otf_dag_t *dag, const otf_config_node_t *root, otf_config_error_t *err)
{
	for (size_t i = 0; i < otf_config_len(root); i++) {
		const otf_config_node_t *v;
		const char *k = otf_config_map_at(root, i, &v);
		if (strcmp(k, "nodes") && strcmp(k, "connections") && strcmp(k, "runtime") &&
		    strcmp(k, "service") && strcmp(k, "extensions") && strcmp(k, "plugins"))
			return otf_config_errorf(
			    err, v,
			    "unknown top-level key '%s' in a native config (valid: "
			    "nodes, connections, runtime, service, extensions, plugins)",
			    k);
	}
	int rc = add_nodes(dag, otf_config_map_get(root, "nodes"), err);
	if (rc)
		return rc;
	const otf_config_node_t *conns = otf_config_map_get(root, "connections");
	if (otf_config_node_kind(conns) != OTF_CONFIG_SEQUENCE)
		return otf_config_errorf(err, conns ? conns : root,
		                         "connections must be a list of {from, to}");
	for (size_t i = 0; i < otf_config_len(conns); i++) {
		rc = add_connection(dag, otf_config_seq_at(conns, i), err);
		if (rc)
			return rc;
	}
	return 0;
}
