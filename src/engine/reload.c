/* Reload (SIGHUP): the running engine takes a DAG built from the
 * reloaded files (otf_engine_reload, engine.h).
 *
 * The two DAGs are compared node by node (dag_diff.c). Of the same shape
 * (the same live nodes at the same indexes, the same edges and fan-out
 * policies), only changes of node configs are applied, through CFG
 * (reconfig.c): in place, or by a rebuild for a type without reconfigure
 * (rebuild.c). A node whose config text did not change is not touched and
 * keeps its state (queues, pending batches, counters). Everything is
 * checked before anything is applied, so a refused reload changes
 * nothing. Of another shape (nodes or pipelines added or removed, edges
 * changed, a node's type, signals or ports changed), the engine switches
 * to the new DAG live (reshape.c). */
#include "engine/engine_internal.h"

#include "otflow/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int errf(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

static bool same_edges(const otf_dag_node_t *a, const otf_dag_node_t *b)
{
	if (a->edges_len != b->edges_len)
		return false;
	for (size_t k = 0; k < a->edges_len; k++) {
		const otf_dag_edge_t *x = &a->edges[k], *y = &b->edges[k];
		if (x->to != y->to || x->signals != y->signals || x->port_index != y->port_index ||
		    strcmp(x->port, y->port))
			return false;
	}
	return true;
}

/* 0 when next has cur's shape, else OTF_E_UNSUPPORTED saying where not. */
static int same_shape(const otf_dag_t *cur, const otf_dag_t *next, char *err, size_t errlen)
{
	for (size_t i = 0; i < next->nodes_len; i++) {
		const otf_dag_node_t *b = &next->nodes[i];
		if (!b->removed && otf__dag_live_node(cur, b->name) < 0)
			return errf(err, errlen, OTF_E_UNSUPPORTED, "%s: %s '%s' is new", b->origin,
			            otf_component_kind_name(b->kind), b->name);
	}
	for (size_t i = 0; i < cur->nodes_len; i++) {
		const otf_dag_node_t *a = &cur->nodes[i];
		if (!a->removed && otf__dag_live_node(next, a->name) < 0)
			return errf(err, errlen, OTF_E_UNSUPPORTED, "%s '%s' (%s) is gone",
			            otf_component_kind_name(a->kind), a->name, a->origin);
	}
	/* The same live nodes: now their types and connections. */
	for (size_t i = 0; i < cur->nodes_len; i++) {
		const otf_dag_node_t *a = &cur->nodes[i];
		if (a->removed)
			continue;
		int j = otf__dag_live_node(next, a->name);
		const otf_dag_node_t *b = &next->nodes[j];
		if (a->factory != b->factory)
			return errf(err, errlen, OTF_E_UNSUPPORTED, "%s: '%s' changes type",
			            b->origin, b->name);
		/* Node indexes are the build order; both DAGs come from the same
		 * builder, so equal shapes have equal indexes. */
		if ((size_t)j != i || !same_edges(a, b) || a->fanout != b->fanout ||
		    a->in_signals != b->in_signals || a->out_signals != b->out_signals)
			return errf(err, errlen, OTF_E_UNSUPPORTED,
			            "%s: the connections of '%s' change", b->origin, b->name);
	}
	return 0;
}

static bool changed(const otf_dag_node_t *a, const otf_dag_node_t *b)
{
	return !a->config_canon || !b->config_canon || strcmp(a->config_canon, b->config_canon);
}

const otf_dag_t *otf_engine_dag(const otf_engine_t *e)
{
	return e->dag;
}

int otf_engine_reload(otf_engine_t *e, otf_dag_t *next, char *changed_out, size_t changed_len,
                      char *err, size_t errlen)
{
	err[0] = '\0';
	if (changed_out && changed_len)
		changed_out[0] = '\0';
	otf_dag_t *cur = e->dag;
	otf_dag_diff_t d;
	if (otf__dag_diff(cur, next, &d))
		return errf(err, errlen, OTF_E_NOMEM, "out of memory");
	bool same = d.same_shape;
	otf__dag_diff_free(&d);
	if (!same)
		return otf__engine_reshape(e, next, changed_out, changed_len, err, errlen);
	int rc = same_shape(cur, next, err, errlen);
	if (rc)
		return rc;
	/* Check every change before applying any. */
	for (size_t i = 0; i < cur->nodes_len; i++) {
		const otf_dag_node_t *a = &cur->nodes[i], *b = &next->nodes[i];
		if (a->removed || !changed(a, b))
			continue;
		/* A type without reconfigure is rebuilt (rebuild.c). */
		for (uint32_t p = 0;; p++) {
			const char *x = otf__port_name(a->factory, a->config, p);
			const char *y = otf__port_name(b->factory, b->config, p);
			if (!x && !y)
				break;
			if (!x || !y || strcmp(x, y))
				return errf(err, errlen, OTF_E_UNSUPPORTED,
				            "%s: '%s' changes its output ports", b->origin,
				            a->name);
		}
	}
	size_t used = 0;
	int n = 0;
	for (size_t i = 0; i < cur->nodes_len; i++) {
		otf_dag_node_t *a = &cur->nodes[i], *b = &next->nodes[i];
		if (a->removed || !changed(a, b))
			continue;
		void *config = b->config;
		char *canon = b->config_canon;
		b->config = NULL;
		b->config_canon = NULL;
		char e1[512];
		rc = otf__engine_reconfigure(e, a->name, config, canon, e1, sizeof e1);
		if (rc)
			return errf(err, errlen, rc, "%s: %s (%d node(s) changed before it)",
			            a->name, e1, n);
		n++;
		if (changed_out && used < changed_len) {
			int m = snprintf(changed_out + used, changed_len - used, "%s%s",
			                 used ? ", " : "", a->name);
			if (m > 0)
				used += (size_t)m;
		}
	}
	return n;
}
