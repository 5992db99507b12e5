/* CAN, cancellation (otflow/component.h, "CAN"): the worker's set of
 * cancelled message ids and the downstream delivery of OTF_CTRL_CAN.
 * The set is direct-mapped (slot = id hash), so a lookup costs one load
 * whatever the number of cancellations, and a worker that never cancels
 * has none (the pump tests a NULL pointer). A slot taken by a later id
 * forgets the older one: that copy is then delivered, as without CAN. */
#include "engine/engine_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <errno.h>
#include <string.h>

typedef struct otf__cancels {
	uint64_t ids[OTF_CANCEL_REMEMBERED]; /* 0 = empty (ids are never 0) */
} cancels_t;

static uint32_t slot(uint64_t id)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdull;
	id ^= id >> 33;
	return (uint32_t)(id & (OTF_CANCEL_REMEMBERED - 1));
}

bool otf_node_msg_cancelled(const otf_node_t *node, uint64_t msg_id)
{
	const cancels_t *c = node->worker->cancels;
	return c && msg_id && c->ids[slot(msg_id)] == msg_id;
}

bool otf__msg_is_cancelled(otf_msg_t *m)
{
	const cancels_t *c = m->worker->cancels;
	if (!c || c->ids[slot(m->id)] != m->id)
		return false;
	/* The pump drops it: answered as cancelled, counted where it waited. */
	return true;
}

int otf_msg_cancel(otf_node_t *node, uint64_t msg_id, const char *reason)
{
	otf_worker_t *w = node->worker;
	if (!msg_id)
		return OTF_E_INVAL;
	if (!w->cancels && !(w->cancels = otf_calloc(1, sizeof *w->cancels)))
		return OTF_E_NOMEM;
	w->cancels->ids[slot(msg_id)] = msg_id;
	/* Every node downstream, once each, nearest first (breadth-first). */
	size_t n = w->nodes_span;
	uint32_t *q = otf_malloc((n + 1) * sizeof *q);
	bool *seen = otf_calloc(n + 1, sizeof *seen);
	if (!q || !seen) {
		otf_free(q);
		otf_free(seen);
		return OTF_E_NOMEM;
	}
	size_t head = 0, tail = 0;
	q[tail++] = node->index;
	seen[node->index] = true;
	while (head < tail) {
		otf_node_t *at = w->nodes[q[head++]];
		for (uint32_t p = 0; p < at->nports; p++)
			for (int s = 0; s < OTF_SIGNAL_COUNT; s++)
				for (uint32_t i = 0; i < at->ports[p].out_len[s]; i++) {
					otf_node_t *t = at->ports[p].out[s][i];
					if (seen[t->index])
						continue;
					seen[t->index] = true;
					q[tail++] = t->index;
					if (!t->def->factory->control || !t->instance)
						continue;
					otf_ctrl_t c;
					memset(&c, 0, sizeof c);
					c.type = OTF_CTRL_CAN;
					c.msg_id = msg_id;
					c.error = -ECANCELED;
					snprintf(c.reason, sizeof c.reason, "%s",
					         reason ? reason : "cancelled");
					otf__node_post_ctrl(t, &c);
				}
	}
	otf_free(q);
	otf_free(seen);
	return 0;
}

void otf__cancel_close(otf_worker_t *w)
{
	otf_free(w->cancels);
	w->cancels = NULL;
}
