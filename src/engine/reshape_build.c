/* The DAG a reload of another shape switches to (reshape.c): the
 * reloaded DAG re-indexed so that node ids stay stable. Main thread. */
#include "engine/engine_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <string.h>

/* Moves next's node j into dst, next keeping an empty entry. */
static void take_node(otf_dag_node_t *dst, otf_dag_node_t *src)
{
	*dst = *src;
	memset(src, 0, sizeof *src);
	src->removed = true;
}

/* m from next re-indexed for cur (the header); *aside holds, per m index,
 * next's config of a kept node (m has cur's, borrowed, until commit). */
otf_dag_t *otf__reshape_build(const otf_dag_t *cur, otf_dag_t *next, const otf_dag_diff_t *d,
                              void ***aside, char ***aside_canon, bool **is_new, bool **removed)
{
	size_t len = cur->nodes_len + d->added;
	otf_dag_t *m = otf_calloc(1, sizeof *m);
	uint32_t *map = otf_calloc(next->nodes_len, sizeof *map);
	*aside = otf_calloc(len, sizeof **aside);
	*aside_canon = otf_calloc(len, sizeof **aside_canon);
	*is_new = otf_calloc(len, sizeof **is_new);
	*removed = otf_calloc(len, sizeof **removed);
	if (m)
		m->nodes = otf_calloc(len, sizeof *m->nodes);
	if (m)
		m->order = otf_calloc(next->order_len ? next->order_len : 1, sizeof *m->order);
	if (!m || !map || !*aside || !*aside_canon || !*is_new || !*removed || !m->nodes ||
	    !m->order)
		goto oom;
	m->nodes_len = m->nodes_cap = len;
	size_t add = cur->nodes_len;
	for (size_t j = 0; j < next->nodes_len; j++) {
		map[j] = UINT32_MAX;
		if (d->state[j] == OTF_DIFF_KEPT)
			map[j] = (uint32_t)d->from[j];
		else if (d->state[j] != OTF_DIFF_NONE)
			map[j] = (uint32_t)add++;
	}
	/* Tombstones first (every index of cur no kept node takes). */
	for (size_t i = 0; i < cur->nodes_len; i++) {
		const otf_dag_node_t *a = &cur->nodes[i];
		otf_dag_node_t *t = &m->nodes[i];
		t->name = otf_strndup(a->name, strlen(a->name));
		t->type = otf_strndup(a->type ? a->type : "", a->type ? strlen(a->type) : 0);
		if (!t->name || !t->type)
			goto oom;
		t->kind = a->kind;
		t->factory = a->factory;
		t->config = a->config; /* borrowed until commit */
		t->in_signals = a->in_signals;
		t->out_signals = a->out_signals;
		t->fanout = a->fanout;
		t->removed = true;
		memcpy(t->origin, a->origin, sizeof t->origin);
		(*removed)[i] = d->cur_removed[i];
	}
	for (size_t j = 0; j < next->nodes_len; j++) {
		if (map[j] == UINT32_MAX)
			continue;
		otf_dag_node_t *t = &m->nodes[map[j]];
		if (map[j] < cur->nodes_len) {
			otf_free(t->name);
			otf_free(t->type);
		}
		take_node(t, &next->nodes[j]);
		/* Edges to nodes next eliminated are dropped; the rest re-indexed. */
		size_t w = 0;
		for (size_t k = 0; k < t->edges_len; k++) {
			uint32_t to = map[t->edges[k].to];
			if (to == UINT32_MAX) {
				otf_free(t->edges[k].port);
				continue;
			}
			t->edges[w] = t->edges[k];
			t->edges[w++].to = to;
		}
		t->edges_len = w;
		if (map[j] < cur->nodes_len) {
			/* Kept: the instances use cur's config until a CFG. */
			(*aside)[map[j]] = t->config;
			(*aside_canon)[map[j]] = t->config_canon;
			t->config = cur->nodes[map[j]].config;
			t->config_canon = cur->nodes[map[j]].config_canon;
		} else {
			(*is_new)[map[j]] = true;
		}
	}
	for (size_t k = 0; k < next->order_len; k++)
		m->order[k] = map[next->order[k]];
	m->order_len = next->order_len;
	m->no_fuse = next->no_fuse;
	m->ext_dag = cur->ext_dag ? cur->ext_dag : cur;
	otf_free(map);
	map = NULL;
	if (otf__dag_reindex(m))
		goto oom;
	otf__dag_fuse(m);
	m->compiled = true;
	return m;
oom:
	otf_free(map);
	return NULL; /* the caller frees what was made (m may be partial) */
}

/* Gives back to cur what m borrowed, so m can be destroyed alone. */
void otf__reshape_unborrow(const otf_dag_t *cur, otf_dag_t *m, void **aside, char **aside_canon)
{
	for (size_t i = 0; m && i < cur->nodes_len && i < m->nodes_len; i++) {
		otf_dag_node_t *t = &m->nodes[i];
		if (t->config == cur->nodes[i].config)
			t->config = aside ? aside[i] : NULL;
		if (t->config_canon == cur->nodes[i].config_canon)
			t->config_canon = aside_canon ? aside_canon[i] : NULL;
		if (aside)
			aside[i] = NULL;
		if (aside_canon)
			aside_canon[i] = NULL;
	}
}
