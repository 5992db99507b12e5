/* The difference between the running DAG and a reloaded one, node by node
 * (engine_internal.h: otf__dag_diff), for the reload (reload.c,
 * reshape.c). Nodes are matched by id: a node keeps running through a
 * reload when its id, type, signals and output ports stay; its config and
 * its edges may change (reconfigured, rewired). */
#include "engine/engine_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <string.h>

static bool same_ports(const otf_dag_node_t *a, const otf_dag_node_t *b)
{
	for (uint32_t p = 0;; p++) {
		const char *x = otf__port_name(a->factory, a->config, p);
		const char *y = otf__port_name(b->factory, b->config, p);
		if (!x || !y)
			return !x && !y;
		if (strcmp(x, y))
			return false;
	}
}

/* The k-th live edge of n (k from 0), or NULL past the last. */
static const otf_dag_edge_t *live_edge(const otf_dag_t *dag, const otf_dag_node_t *n, size_t k)
{
	for (size_t e = 0; e < n->edges_len; e++)
		if (!dag->nodes[n->edges[e].to].removed && k-- == 0)
			return &n->edges[e];
	return NULL;
}

/* Same live edges in the same order, compared by target id (indexes
 * differ between the two DAGs), port and signals. */
static bool same_edges(const otf_dag_t *cur, const otf_dag_node_t *a, const otf_dag_t *next,
                       const otf_dag_node_t *b)
{
	for (size_t k = 0;; k++) {
		const otf_dag_edge_t *x = live_edge(cur, a, k), *y = live_edge(next, b, k);
		if (!x || !y)
			return !x && !y;
		if (x->signals != y->signals || x->port_index != y->port_index ||
		    strcmp(x->port, y->port) ||
		    strcmp(cur->nodes[x->to].name, next->nodes[y->to].name))
			return false;
	}
}

static bool config_changed(const otf_dag_node_t *a, const otf_dag_node_t *b)
{
	return !a->config_canon || !b->config_canon || strcmp(a->config_canon, b->config_canon);
}

void otf__dag_diff_free(otf_dag_diff_t *d)
{
	otf_free(d->state);
	otf_free(d->from);
	otf_free(d->changed);
	otf_free(d->rewired);
	otf_free(d->cur_removed);
	memset(d, 0, sizeof *d);
}

int otf__dag_diff(const otf_dag_t *cur, const otf_dag_t *next, otf_dag_diff_t *d)
{
	memset(d, 0, sizeof *d);
	size_t nn = next->nodes_len ? next->nodes_len : 1, cn = cur->nodes_len ? cur->nodes_len : 1;
	d->state = otf_calloc(nn, sizeof *d->state);
	d->from = otf_calloc(nn, sizeof *d->from);
	d->changed = otf_calloc(nn, sizeof *d->changed);
	d->rewired = otf_calloc(nn, sizeof *d->rewired);
	d->cur_removed = otf_calloc(cn, sizeof *d->cur_removed);
	if (!d->state || !d->from || !d->changed || !d->rewired || !d->cur_removed) {
		otf__dag_diff_free(d);
		return OTF_E_NOMEM;
	}
	for (size_t i = 0; i < cur->nodes_len; i++)
		d->cur_removed[i] = !cur->nodes[i].removed;
	d->same_shape = true;
	for (size_t j = 0; j < next->nodes_len; j++) {
		const otf_dag_node_t *b = &next->nodes[j];
		d->from[j] = -1;
		if (b->removed)
			continue;
		int i = otf__dag_live_node(cur, b->name);
		if (i < 0) {
			d->state[j] = OTF_DIFF_ADDED;
			d->added++;
			d->same_shape = false;
			continue;
		}
		const otf_dag_node_t *a = &cur->nodes[i];
		if (a->factory != b->factory || a->in_signals != b->in_signals ||
		    a->out_signals != b->out_signals || !same_ports(a, b)) {
			d->state[j] = OTF_DIFF_REPLACED;
			d->added++;
			d->same_shape = false;
			continue;
		}
		d->state[j] = OTF_DIFF_KEPT;
		d->from[j] = i;
		d->cur_removed[i] = false;
		d->kept++;
		if (config_changed(a, b)) {
			d->changed[j] = true;
			d->changed_n++;
		}
		if (!same_edges(cur, a, next, b) || a->fanout != b->fanout) {
			d->rewired[j] = true;
			d->rewired_n++;
			d->same_shape = false;
		}
		if ((size_t)i != j)
			d->same_shape = false;
	}
	for (size_t i = 0; i < cur->nodes_len; i++)
		if (d->cur_removed[i]) {
			d->removed++;
			d->same_shape = false;
		}
	return 0;
}
