/* The DAG as JSON (otf_dag_describe_json): what the admin API serves and
 * the live page draws. Built with json-c so every name is escaped right. */
#include "engine/engine_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <json.h>
#include <string.h>

static json_object *signals_array(uint32_t mask)
{
	json_object *a = json_object_new_array();
	for (int s = 0; s < OTF_SIGNAL_COUNT; s++)
		if (mask & (1u << s))
			json_object_array_add(
			    a, json_object_new_string(otf_signal_name((otf_signal_t)s)));
	return a;
}

static const otf_node_stats_t *stats_of(const char *name, const otf_node_stats_t *st, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (st[i].name && !strcmp(st[i].name, name))
			return &st[i];
	return NULL;
}

static json_object *counters(const otf_node_stats_t *s)
{
	static const char *const k_names[] = {
	    "accepted",     "refused",   "sent",     "send_failed",         "dropped",
	    "retried",      "cancelled", "items_in", "items_out",           "messages_in",
	    "messages_out", "acks",      "nacks",    "dropped_after_answer"};
	_Static_assert(sizeof k_names / sizeof k_names[0] == OTF_COUNTER_COUNT_,
	               "a name for every otf_node_counter_t");
	json_object *o = json_object_new_object();
	for (int c = 0; c < OTF_COUNTER_COUNT_; c++) {
		uint64_t total = 0;
		for (int sg = 0; sg < OTF_SIGNAL_COUNT; sg++)
			total += s->counters[c][sg];
		json_object_object_add(o, k_names[c], json_object_new_uint64(total));
	}
	return o;
}

static json_object *node_json(const otf_dag_node_t *n, const otf_node_stats_t *stats, size_t nstats)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(n->name));
	json_object_object_add(o, "kind", json_object_new_string(otf_component_kind_name(n->kind)));
	json_object_object_add(o, "type", json_object_new_string(n->type));
	json_object_object_add(o, "origin", json_object_new_string(n->origin));
	json_object_object_add(o, "in_signals", signals_array(n->in_signals));
	json_object *ports = json_object_new_array();
	json_object_array_add(ports, json_object_new_string("default"));
	const char *pn;
	for (uint32_t pi = 0; (pn = otf__port_name(n->factory, n->config, pi)) != NULL; pi++)
		json_object_array_add(ports, json_object_new_string(pn));
	json_object_object_add(o, "ports", ports);
	json_object_object_add(o, "fanout",
	                       json_object_new_string(otf_fanout_policy_name(n->fanout)));
	if (n->stage)
		json_object_object_add(o, "stage", json_object_new_int64(n->stage));
	const otf_node_stats_t *s = stats_of(n->name, stats, nstats);
	if (s) {
		json_object_object_add(o, "counters", counters(s));
		json_object_object_add(o, "queue_depth", json_object_new_int64(s->queue_depth));
	}
	/* The status the engine derives from the node's ERR reports. */
	static const char *const k_status[] = {
	    "starting", "ok",     "recoverable_error", "permanent_error", "fatal_error",
	    "stopping", "stopped"};
	const char *st = !s ? "stopped" : (unsigned)s->status < 7u ? k_status[s->status] : "ok";
	json_object_object_add(o, "status", json_object_new_string(st));
	if (s && s->error[0])
		json_object_object_add(o, "error", json_object_new_string(s->error));
	return o;
}

/* [{"stage": N, "nodes": [names along the fused edges]}] (fuse.c). */
static json_object *fused_stages(const otf_dag_t *dag)
{
	json_object *a = json_object_new_array();
	for (uint32_t id = 1; id <= dag->stages; id++) {
		const otf_dag_node_t *c = NULL;
		for (size_t k = 0; k < dag->order_len && !c; k++)
			if (dag->nodes[dag->order[k]].stage == id)
				c = &dag->nodes[dag->order[k]];
		json_object *names = json_object_new_array();
		while (c) {
			json_object_array_add(names, json_object_new_string(c->name));
			const otf_dag_node_t *next = NULL;
			for (size_t e = 0; e < c->edges_len; e++)
				if (c->edges[e].fused)
					next = &dag->nodes[c->edges[e].to];
			c = next;
		}
		json_object *st = json_object_new_object();
		json_object_object_add(st, "stage", json_object_new_int64(id));
		json_object_object_add(st, "nodes", names);
		json_object_array_add(a, st);
	}
	return a;
}

/* A JSON text of o for the caller (otf_free), o released. */
static int to_text(json_object *o, char **out, size_t *len)
{
	size_t n = 0;
	const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &n);
	char *copy = s ? otf_malloc(n + 1) : NULL;
	if (copy)
		memcpy(copy, s, n + 1);
	json_object_put(o);
	if (!copy)
		return OTF_E_NOMEM;
	*out = copy;
	*len = n;
	return 0;
}

int otf_dag_describe_json(const otf_dag_t *dag, const otf_node_stats_t *stats, size_t nstats,
                          char **out, size_t *len)
{
	json_object *root = json_object_new_object();
	json_object *nodes = json_object_new_array();
	json_object *edges = json_object_new_array();
	if (!root || !nodes || !edges) {
		json_object_put(root);
		json_object_put(nodes);
		json_object_put(edges);
		return OTF_E_NOMEM;
	}
	for (size_t i = 0; i < dag->nodes_len; i++) {
		const otf_dag_node_t *n = &dag->nodes[i];
		if (n->removed)
			continue;
		json_object_array_add(nodes, node_json(n, stats, nstats));
		for (size_t e = 0; e < n->edges_len; e++) {
			const otf_dag_edge_t *ed = &n->edges[e];
			if (dag->nodes[ed->to].removed)
				continue;
			json_object *eo = json_object_new_object();
			json_object_object_add(eo, "from", json_object_new_string(n->name));
			json_object_object_add(eo, "port", json_object_new_string(ed->port));
			json_object_object_add(eo, "to",
			                       json_object_new_string(dag->nodes[ed->to].name));
			json_object_object_add(eo, "signals", signals_array(ed->signals));
			json_object_object_add(eo, "fused", json_object_new_boolean(ed->fused));
			json_object_array_add(edges, eo);
		}
	}
	json_object_object_add(root, "nodes", nodes);
	json_object_object_add(root, "edges", edges);
	json_object_object_add(root, "fused_stages", fused_stages(dag));
	return to_text(root, out, len);
}

int otf_dag_describe_node_json(const otf_dag_t *dag, const char *id, const otf_node_stats_t *stats,
                               size_t nstats, char **out, size_t *len)
{
	int i = otf_dag_find(dag, id);
	if (i < 0 || dag->nodes[i].removed)
		return OTF_E_NOT_FOUND;
	return to_text(node_json(&dag->nodes[i], stats, nstats), out, len);
}
