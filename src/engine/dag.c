/* DAG: nodes and edges built by the config front-ends, compiled (signature
 * checks, cycle detection, partial path elimination, topological order) and
 * printed as text or Graphviz DOT. */
#include "engine/engine_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static int errf(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int errf(char *err, size_t errlen, int code, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

int otf_dag_create(otf_dag_t **out)
{
	otf_dag_t *d = otf_calloc(1, sizeof *d);
	if (!d)
		return OTF_E_NOMEM;
	*out = d;
	return 0;
}

void otf_dag_destroy(otf_dag_t *dag)
{
	if (!dag)
		return;
	for (size_t i = 0; i < dag->nodes_len; i++) {
		otf_dag_node_t *n = &dag->nodes[i];
		for (size_t e = 0; e < n->edges_len; e++)
			otf_free(n->edges[e].port);
		otf_free(n->edges);
		if (n->config)
			otf__component_config_free(n->factory, n->config);
		otf_free(n->name);
		otf_free(n->type);
		otf_free(n->config_canon);
	}
	otf__dag_extensions_destroy(dag);
	otf_free(dag->nodes);
	otf_free(dag->order);
	otf_free(dag->hidx);
	otf_free(dag);
}

static size_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return (size_t)h;
}

static void index_put(otf_dag_t *dag, size_t i)
{
	size_t mask = dag->hcap - 1;
	size_t at = name_hash(dag->nodes[i].name) & mask;
	while (dag->hidx[at])
		at = (at + 1) & mask;
	dag->hidx[at] = (uint32_t)i + 1;
}

/* Adds node i (just appended) to the name index, growing it as needed. */
static int index_add(otf_dag_t *dag, size_t i)
{
	if (dag->hcap < (i + 1) * 2) {
		size_t cap = dag->hcap ? dag->hcap * 2 : 64;
		while (cap < (i + 1) * 2)
			cap *= 2;
		uint32_t *t = otf_calloc(cap, sizeof *t);
		if (!t)
			return OTF_E_NOMEM;
		otf_free(dag->hidx);
		dag->hidx = t;
		dag->hcap = cap;
		for (size_t j = 0; j < i; j++)
			index_put(dag, j);
	}
	index_put(dag, i);
	return 0;
}

int otf__dag_reindex(otf_dag_t *dag)
{
	size_t cap = 64;
	while (cap < (dag->nodes_len + 1) * 2)
		cap *= 2;
	uint32_t *t = otf_calloc(cap, sizeof *t);
	if (!t)
		return OTF_E_NOMEM;
	otf_free(dag->hidx);
	dag->hidx = t;
	dag->hcap = cap;
	for (size_t i = 0; i < dag->nodes_len; i++)
		if (!dag->nodes[i].removed)
			index_put(dag, i);
	return 0;
}

int otf_dag_find(const otf_dag_t *dag, const char *name)
{
	if (!dag->hcap)
		return -1;
	size_t mask = dag->hcap - 1;
	for (size_t at = name_hash(name) & mask; dag->hidx[at]; at = (at + 1) & mask) {
		size_t i = dag->hidx[at] - 1;
		if (!strcmp(dag->nodes[i].name, name))
			return (int)i;
	}
	return -1;
}

int otf_dag_add_node(otf_dag_t *dag, const char *name, otf_component_kind_t kind, const char *type,
                     const struct otf_config_node *cfg, const char *origin, char *err,
                     size_t errlen)
{
	const char *where = origin ? origin : "";
	const char *sep = origin ? ": " : "";
	if (otf_dag_find(dag, name) >= 0)
		return errf(err, errlen, -EEXIST, "%s%s%s '%s' is defined twice", where, sep,
		            otf_component_kind_name(kind), name);
	const otf_component_factory_t *f = otf_component_find(kind, type);
	if (!f)
		return errf(err, errlen, OTF_E_NOT_FOUND,
		            "%s%sunknown %s type '%s' (see `otflow components`)", where, sep,
		            otf_component_kind_name(kind), type);
	if (dag->nodes_len == dag->nodes_cap) {
		size_t ncap = dag->nodes_cap ? dag->nodes_cap * 2 : 16;
		otf_dag_node_t *nn = otf_realloc(dag->nodes, ncap * sizeof *nn);
		if (!nn)
			return OTF_E_NOMEM;
		dag->nodes = nn;
		dag->nodes_cap = ncap;
	}
	otf_dag_node_t *n = &dag->nodes[dag->nodes_len];
	memset(n, 0, sizeof *n);
	char cerr[512];
	cerr[0] = '\0';
	int rc = otf__component_config_apply(f, cfg, &n->config, cerr, sizeof cerr);
	if (!rc) {
		rc = otf__check_ext_refs(dag, f, n->config, cfg, cerr, sizeof cerr);
		if (rc)
			otf__component_config_free(f, n->config);
	}
	if (rc)
		return errf(err, errlen, rc, "%s%s%s '%s': %s", where, sep,
		            otf_component_kind_name(kind), name, cerr);
	n->name = otf_strndup(name, strlen(name));
	n->type = otf_strndup(type, strlen(type));
	if (!n->name || !n->type) {
		otf_free(n->name);
		otf_free(n->type);
		otf__component_config_free(f, n->config);
		return OTF_E_NOMEM;
	}
	n->kind = kind;
	n->factory = f;
	n->config_canon = otf__config_canon(cfg); /* NULL (OOM): always "changed" */
	snprintf(n->origin, sizeof n->origin, "%s", where);
	if (index_add(dag, dag->nodes_len)) {
		otf_free(n->name);
		otf_free(n->type);
		otf__component_config_free(f, n->config);
		return OTF_E_NOMEM;
	}
	dag->nodes_len++;
	return 0;
}

static bool produces(const otf_dag_node_t *n, otf_signal_t s)
{
	if (n->kind == OTF_KIND_EXPORTER)
		return false;
	return n->factory->stability[s] != OTF_STABILITY_UNDEFINED;
}

static bool consumes(const otf_dag_node_t *n, otf_signal_t s)
{
	if (n->kind == OTF_KIND_RECEIVER)
		return false;
	return n->factory->consume[s] != NULL &&
	       n->factory->stability[s] != OTF_STABILITY_UNDEFINED;
}

/* Name of port i + 1 (i from 0) of a node of factory f with config: the
 * factory's own list, or the one its configuration declares. */
const char *otf__port_name(const otf_component_factory_t *f, const void *config, uint32_t i)
{
	if (f->config_port)
		return f->config_port(config, i);
	if (!f->ports)
		return NULL;
	for (uint32_t k = 0; k < i; k++)
		if (!f->ports[k])
			return NULL;
	return f->ports[i];
}

int otf__factory_port(const otf_component_factory_t *f, const void *config, const char *name)
{
	if (!strcmp(name, "default"))
		return 0;
	const char *p;
	for (uint32_t i = 0; (p = otf__port_name(f, config, i)) != NULL; i++)
		if (!strcmp(p, name))
			return (int)i + 1;
	return -1;
}

uint32_t otf__factory_nports(const otf_component_factory_t *f, const void *config)
{
	uint32_t n = 1;
	while (otf__port_name(f, config, n - 1))
		n++;
	return n;
}

static void ports_str(const otf_component_factory_t *f, const void *config, char *buf, size_t n)
{
	snprintf(buf, n, "default");
	const char *p;
	for (uint32_t i = 0; (p = otf__port_name(f, config, i)) != NULL; i++) {
		size_t l = strlen(buf);
		snprintf(buf + l, n - l, ", %s", p);
	}
}

const char *otf_fanout_policy_name(otf_fanout_policy_t p)
{
	switch (p) {
	case OTF_FANOUT_AT_LEAST_ONE:
		return "at_least_one";
	case OTF_FANOUT_PRIMARY:
		return "primary";
	case OTF_FANOUT_ALL:
	default:
		return "all";
	}
}

int otf_fanout_policy_parse(const char *s, otf_fanout_policy_t *out)
{
	static const otf_fanout_policy_t all[] = {OTF_FANOUT_ALL, OTF_FANOUT_AT_LEAST_ONE,
	                                          OTF_FANOUT_PRIMARY};
	for (size_t i = 0; s && i < 3; i++) {
		if (!strcmp(s, otf_fanout_policy_name(all[i]))) {
			*out = all[i];
			return 0;
		}
	}
	return OTF_E_CONFIG;
}

int otf_dag_set_fanout(otf_dag_t *dag, const char *name, otf_fanout_policy_t p)
{
	int i = otf_dag_find(dag, name);
	if (i < 0)
		return OTF_E_NOT_FOUND;
	dag->nodes[i].fanout = p;
	return 0;
}

int otf_dag_add_edge(otf_dag_t *dag, const char *from, const char *port, const char *to,
                     uint32_t signals, char *err, size_t errlen)
{
	int fi = otf_dag_find(dag, from), ti = otf_dag_find(dag, to);
	if (fi < 0)
		return errf(err, errlen, OTF_E_NOT_FOUND, "connection from unknown node '%s'",
		            from);
	if (ti < 0)
		return errf(err, errlen, OTF_E_NOT_FOUND, "connection to unknown node '%s'", to);
	if (!port)
		port = "default";
	otf_dag_node_t *n = &dag->nodes[fi];
	int pi = otf__factory_port(n->factory, n->config, port);
	if (pi < 0) {
		char ports[256];
		ports_str(n->factory, n->config, ports, sizeof ports);
		return errf(err, errlen, OTF_E_CONFIG,
		            "%s '%s' (type %s) has no output port '%s' (ports: %s)",
		            otf_component_kind_name(n->kind), n->name, n->type, port, ports);
	}
	for (int s = 0; s < OTF_SIGNAL_COUNT; s++) {
		if (!(signals & OTF_SIGNAL_BIT(s)))
			continue;
		if (!produces(n, (otf_signal_t)s))
			return errf(err, errlen, OTF_E_CONFIG,
			            "%s '%s' (type %s) does not produce %s",
			            otf_component_kind_name(n->kind), n->name, n->type,
			            otf_signal_name((otf_signal_t)s));
		if (!consumes(&dag->nodes[ti], (otf_signal_t)s))
			return errf(
			    err, errlen, OTF_E_CONFIG, "%s '%s' (type %s) does not consume %s",
			    otf_component_kind_name(dag->nodes[ti].kind), dag->nodes[ti].name,
			    dag->nodes[ti].type, otf_signal_name((otf_signal_t)s));
	}
	for (size_t e = 0; e < n->edges_len; e++) {
		if (n->edges[e].to == (uint32_t)ti && !strcmp(n->edges[e].port, port)) {
			n->edges[e].signals |= signals;
			return 0;
		}
	}
	if (n->edges_len == n->edges_cap) {
		size_t ncap = n->edges_cap ? n->edges_cap * 2 : 4;
		otf_dag_edge_t *ne = otf_realloc(n->edges, ncap * sizeof *ne);
		if (!ne)
			return OTF_E_NOMEM;
		n->edges = ne;
		n->edges_cap = ncap;
	}
	char *p = otf_strndup(port, strlen(port));
	if (!p)
		return OTF_E_NOMEM;
	n->edges[n->edges_len].to = (uint32_t)ti;
	n->edges[n->edges_len].signals = signals;
	n->edges[n->edges_len].port = p;
	n->edges[n->edges_len].port_index = (uint32_t)pi;
	n->edges_len++;
	return 0;
}

/* Recomputes in/out signal sets over live nodes and live edges. */
static void compute_signals(otf_dag_t *dag)
{
	for (size_t i = 0; i < dag->nodes_len; i++)
		dag->nodes[i].in_signals = dag->nodes[i].out_signals = 0;
	for (size_t i = 0; i < dag->nodes_len; i++) {
		otf_dag_node_t *n = &dag->nodes[i];
		if (n->removed)
			continue;
		for (size_t e = 0; e < n->edges_len; e++) {
			otf_dag_node_t *t = &dag->nodes[n->edges[e].to];
			if (t->removed)
				continue;
			n->out_signals |= n->edges[e].signals;
			t->in_signals |= n->edges[e].signals;
		}
	}
}

/* Partial path elimination (seeds/dataflow-mechanics.md): a receiver with
 * no live output, an exporter with no live input, and a processor or
 * connector missing either side cannot complete a path; remove them until
 * nothing changes. */
static void eliminate(otf_dag_t *dag)
{
	bool changed = true;
	while (changed) {
		changed = false;
		compute_signals(dag);
		for (size_t i = 0; i < dag->nodes_len; i++) {
			otf_dag_node_t *n = &dag->nodes[i];
			if (n->removed)
				continue;
			bool dead = false;
			switch (n->kind) {
			case OTF_KIND_RECEIVER:
				dead = n->out_signals == 0;
				break;
			case OTF_KIND_EXPORTER:
				dead = n->in_signals == 0;
				break;
			default:
				dead = n->in_signals == 0 || n->out_signals == 0;
				break;
			}
			if (dead) {
				otf_log(OTF_LOG_WARN, "dag",
				        "%s '%s' is not on any complete receiver -> exporter path; "
				        "removed",
				        otf_component_kind_name(n->kind), n->name);
				n->removed = true;
				changed = true;
			}
		}
	}
}

/* DFS colouring: 0 white, 1 grey (on stack), 2 black. */
static int visit(otf_dag_t *dag, uint32_t i, uint8_t *colour, uint32_t *order, size_t *olen,
                 char *err, size_t errlen)
{
	colour[i] = 1;
	otf_dag_node_t *n = &dag->nodes[i];
	for (size_t e = 0; e < n->edges_len; e++) {
		uint32_t t = n->edges[e].to;
		if (dag->nodes[t].removed)
			continue;
		if (colour[t] == 1)
			return errf(err, errlen, OTF_E_CONFIG,
			            "%s%scycle: '%s' -> '%s' closes a loop (a dataflow must be "
			            "acyclic)",
			            n->origin, n->origin[0] ? ": " : "", n->name,
			            dag->nodes[t].name);
		if (colour[t] == 0) {
			int rc = visit(dag, t, colour, order, olen, err, errlen);
			if (rc)
				return rc;
		}
	}
	colour[i] = 2;
	order[(*olen)++] = i;
	return 0;
}

static void signals_str(uint32_t mask, char *buf, size_t n);

/* Same signal only when the connector declares no pairs. */
static uint32_t connector_outputs(const otf_component_factory_t *f, int in)
{
	for (int s = 0; s < OTF_SIGNAL_COUNT; s++)
		if (f->connector_pairs[s])
			return f->connector_pairs[in];
	return OTF_SIGNAL_BIT(in);
}

/* The Collector's rule for connectors: every signal a connector takes in
 * must leave as a signal it can make from it, and every signal it sends
 * must be made from one it takes in; otherwise data would be accepted and
 * dropped at run time (no consumer for what the connector emits). */
static int check_connector_pairs(otf_dag_t *dag, char *err, size_t errlen)
{
	compute_signals(dag);
	for (size_t i = 0; i < dag->nodes_len; i++) {
		const otf_dag_node_t *n = &dag->nodes[i];
		if (n->kind != OTF_KIND_CONNECTOR || !n->in_signals || !n->out_signals)
			continue;
		const char *where = n->origin[0] ? n->origin : "";
		const char *sep = n->origin[0] ? ": " : "";
		uint32_t made = 0;
		for (int s = 0; s < OTF_SIGNAL_COUNT; s++) {
			if (!(n->in_signals & OTF_SIGNAL_BIT(s)))
				continue;
			uint32_t outs = connector_outputs(n->factory, s);
			made |= outs;
			if (outs & n->out_signals)
				continue;
			char have[64], can[64];
			signals_str(n->out_signals, have, sizeof have);
			signals_str(outs, can, sizeof can);
			return errf(err, errlen, OTF_E_CONFIG,
			            "%s%sconnector '%s' (type %s) receives %s but is wired to "
			            "emit only %s; from %s it can make: %s",
			            where, sep, n->name, n->type, otf_signal_name((otf_signal_t)s),
			            have, otf_signal_name((otf_signal_t)s),
			            can[0] ? can : "nothing");
		}
		uint32_t orphan = n->out_signals & ~made;
		if (orphan) {
			char o[64];
			signals_str(orphan, o, sizeof o);
			return errf(err, errlen, OTF_E_CONFIG,
			            "%s%sconnector '%s' (type %s) is wired to emit %s, which it "
			            "cannot make from what it receives",
			            where, sep, n->name, n->type, o);
		}
	}
	return 0;
}

/* The factory's own wiring rule (check_wiring) for node n, over its live
 * edges. */
static int wiring_of(const otf_dag_t *dag, const otf_dag_node_t *n, char *err, size_t errlen)
{
	uint32_t nports = otf__factory_nports(n->factory, n->config);
	uint32_t *ps = otf_calloc(nports ? nports : 1, sizeof *ps);
	if (!ps)
		return OTF_E_NOMEM;
	for (size_t e = 0; e < n->edges_len; e++)
		if (!dag->nodes[n->edges[e].to].removed && n->edges[e].port_index < nports)
			ps[n->edges[e].port_index] |= n->edges[e].signals;
	char msg[256] = "";
	int rc = n->factory->check_wiring(n->config, n->in_signals, ps, nports, msg, sizeof msg);
	otf_free(ps);
	if (rc)
		return errf(err, errlen, rc, "%s%s%s '%s' (type %s): %s", n->origin,
		            n->origin[0] ? ": " : "", otf_component_kind_name(n->kind), n->name,
		            n->type, msg);
	return 0;
}

/* The factories' own wiring rules, over live edges. */
static int check_wiring(otf_dag_t *dag, char *err, size_t errlen)
{
	for (size_t i = 0; i < dag->nodes_len; i++) {
		const otf_dag_node_t *n = &dag->nodes[i];
		if (n->removed || !n->factory->check_wiring)
			continue;
		int rc = wiring_of(dag, n, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

/* A node that data reaches but that has no edge out at all would be
 * removed by elimination with a warning only. For a component with a
 * wiring rule (a router with nothing wired, an ack node with no
 * downstream) that is a mistake in the file, not a partial path: its rule
 * is asked first, so the error names the node's file:line. */
static int check_dead_ends(otf_dag_t *dag, char *err, size_t errlen)
{
	compute_signals(dag);
	for (size_t i = 0; i < dag->nodes_len; i++) {
		const otf_dag_node_t *n = &dag->nodes[i];
		if (n->removed || !n->factory->check_wiring || !n->in_signals || n->out_signals)
			continue;
		int rc = wiring_of(dag, n, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

int otf_dag_compile(otf_dag_t *dag, char *err, size_t errlen)
{
	if (!dag->nodes_len)
		return errf(err, errlen, OTF_E_CONFIG, "no components configured");
	uint8_t *colour = otf_calloc(dag->nodes_len, 1);
	uint32_t *order = otf_calloc(dag->nodes_len, sizeof *order);
	if (!colour || !order) {
		otf_free(colour);
		otf_free(order);
		return OTF_E_NOMEM;
	}
	size_t olen = 0;
	int rc = 0;
	for (uint32_t i = 0; i < dag->nodes_len && !rc; i++)
		if (!colour[i])
			rc = visit(dag, i, colour, order, &olen, err, errlen);
	otf_free(colour);
	if (rc) {
		otf_free(order);
		return rc;
	}
	rc = check_connector_pairs(dag, err, errlen);
	if (!rc)
		rc = check_dead_ends(dag, err, errlen);
	if (rc) {
		otf_free(order);
		return rc;
	}
	eliminate(dag);
	rc = check_wiring(dag, err, errlen);
	if (rc) {
		otf_free(order);
		return rc;
	}
	/* A topological order is the reverse of the DFS post-order. */
	size_t w = 0;
	uint32_t *topo = otf_calloc(dag->nodes_len, sizeof *topo);
	if (!topo) {
		otf_free(order);
		return OTF_E_NOMEM;
	}
	for (size_t k = olen; k-- > 0;)
		if (!dag->nodes[order[k]].removed)
			topo[w++] = order[k];
	otf_free(order);
	if (!w) {
		otf_free(topo);
		return errf(err, errlen, OTF_E_CONFIG,
		            "no complete receiver -> exporter path remains after removing "
		            "unconnected components");
	}
	otf_free(dag->order);
	dag->order = topo;
	dag->order_len = w;
	otf__dag_fuse(dag);
	dag->compiled = true;
	return 0;
}

static void signals_str(uint32_t mask, char *buf, size_t n)
{
	buf[0] = '\0';
	for (int s = 0; s < OTF_SIGNAL_COUNT; s++) {
		if (!(mask & OTF_SIGNAL_BIT(s)))
			continue;
		size_t l = strlen(buf);
		snprintf(buf + l, n - l, "%s%s", l ? "," : "", otf_signal_name((otf_signal_t)s));
	}
}

static int kind_rank(otf_component_kind_t k)
{
	switch (k) {
	case OTF_KIND_RECEIVER:
		return 0;
	case OTF_KIND_PROCESSOR:
		return 1;
	case OTF_KIND_CONNECTOR:
		return 2;
	case OTF_KIND_EXPORTER:
		return 3;
	default:
		return 4;
	}
}

static const otf_dag_t *g_sort_dag; /* qsort has no context argument */

static int cmp_nodes(const void *a, const void *b)
{
	const otf_dag_node_t *x = &g_sort_dag->nodes[*(const uint32_t *)a];
	const otf_dag_node_t *y = &g_sort_dag->nodes[*(const uint32_t *)b];
	int d = kind_rank(x->kind) - kind_rank(y->kind);
	return d ? d : strcmp(x->name, y->name);
}

static int cmp_edges(const void *a, const void *b)
{
	const otf_dag_edge_t *x = a, *y = b;
	int d = strcmp(g_sort_dag->nodes[x->to].name, g_sort_dag->nodes[y->to].name);
	return d ? d : strcmp(x->port, y->port);
}

/* Sorted by kind then name (edges by target), so that two configs that
 * describe the same graph print identically whatever their order. */
void otf_dag_print(const otf_dag_t *dag, FILE *f, bool dot)
{
	char sig[64];
	uint32_t *idx = otf_calloc(dag->order_len ? dag->order_len : 1, sizeof *idx);
	if (!idx)
		return;
	memcpy(idx, dag->order, dag->order_len * sizeof *idx);
	g_sort_dag = dag;
	qsort(idx, dag->order_len, sizeof *idx, cmp_nodes);
	if (dot)
		fprintf(f, "digraph otflow {\n  rankdir=LR;\n  node [shape=box];\n");
	for (size_t k = 0; k < dag->order_len; k++) {
		const otf_dag_node_t *n = &dag->nodes[idx[k]];
		if (dot)
			fprintf(f, "  \"%s\" [label=\"%s\\n%s:%s\"];\n", n->name, n->name,
			        otf_component_kind_name(n->kind), n->type);
		else {
			/* Declared ports and a fan-out policy other than all. */
			char extra[320] = "";
			if (n->factory->ports || otf__port_name(n->factory, n->config, 0)) {
				char ports[256];
				ports_str(n->factory, n->config, ports, sizeof ports);
				snprintf(extra, sizeof extra, ", ports %s", ports);
			}
			if (n->fanout != OTF_FANOUT_ALL) {
				size_t l = strlen(extra);
				snprintf(extra + l, sizeof extra - l, ", fanout %s",
				         otf_fanout_policy_name(n->fanout));
			}
			fprintf(f, "%s %s (type %s%s)\n", otf_component_kind_name(n->kind), n->name,
			        n->type, extra);
		}
		otf_dag_edge_t *edges = otf_calloc(n->edges_len ? n->edges_len : 1, sizeof *edges);
		if (!edges)
			break;
		if (n->edges_len)
			memcpy(edges, n->edges, n->edges_len * sizeof *edges);
		qsort(edges, n->edges_len, sizeof *edges, cmp_edges);
		for (size_t e = 0; e < n->edges_len; e++) {
			const otf_dag_node_t *t = &dag->nodes[edges[e].to];
			if (t->removed)
				continue;
			signals_str(edges[e].signals, sig, sizeof sig);
			bool named = strcmp(edges[e].port, "default") != 0;
			bool fused = edges[e].fused;
			if (dot)
				fprintf(f, "  \"%s\" -> \"%s\" [label=\"%s%s%s%s\"%s];\n", n->name,
				        t->name, named ? edges[e].port : "", named ? ": " : "", sig,
				        fused ? " (fused)" : "", fused ? ", style=bold" : "");
			else
				fprintf(f, "  -> %s [%s]%s%s%s\n", t->name, sig,
				        named ? " port " : "", named ? edges[e].port : "",
				        fused ? " fused" : "");
		}
		otf_free(edges);
	}
	if (dot)
		fprintf(f, "}\n");
	else
		otf__dag_print_stages(dag, f);
	otf_free(idx);
}
