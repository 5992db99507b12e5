/* Channel elimination (seeds/dataflow-mechanics.md): a linear chain of
 * nodes with no branch between them is one fused stage, and a message
 * passes along it by direct call instead of a ring push and a scheduler
 * turn per hop.
 *
 * The edges A -> B are fused when B is A's only live successor (one edge,
 * or one per port of A, all to B), A is the only live node feeding B, and
 * A is a processor or a connector: receivers send from their socket callbacks, never from
 * consume, so they always use the ring. Every worker runs its own
 * instance of every node, so both ends are always on the same worker.
 *
 * At run time a send on a fused edge calls B's consume directly only when
 * that keeps the engine's guarantees:
 *   - the sender is inside its own consume (w->consuming): a send from a
 *     control callback (timer, ACK/NACK, KIL) or from outside any callback
 *     goes through the ring, so control handlers never run downstream data
 *     code inside them and the turn's control-before-data order holds;
 *   - B's ring is empty: messages queued for B earlier are not overtaken;
 *   - fewer than OTF_FUSE_MAX_DEPTH (8) direct calls are nested (bounded stack).
 * ACK/NACK still travel through the control rings, so a node is never
 * re-entered by the outcome of what it sent, and the DAG is acyclic, so a
 * direct call never reaches the node that made it. One exception keeps
 * that rule: a node that sent with otf_node_send_watched (retry, deadline)
 * gets an outcome arising inside its direct call as the send's return
 * value, not as a callback (msg.c settle, msg_handover.c), when its control
 * queue is empty (an outcome never overtakes a signal queued before it);
 * it saves the second control signal and scheduler turn per message such
 * a node paid. Subscription frames, counters and the KIL order (a node
 * gets KIL once its predecessors are done and its ring is empty) are the
 * same either way. */
#include "engine/engine_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <stdlib.h>
#include <string.h>

void otf_dag_set_fuse(otf_dag_t *dag, bool on)
{
	dag->no_fuse = !on;
}

/* OTFLOW_FUSE=0 turns fusing off whatever the config says (a test switch:
 * the suites run both ways and must give the same results). */
static bool fuse_env_off(void)
{
	const char *v = getenv("OTFLOW_FUSE");
	return v && !strcmp(v, "0");
}

static bool live_edge(const otf_dag_t *dag, const otf_dag_node_t *n, size_t e)
{
	return !n->removed && !dag->nodes[n->edges[e].to].removed;
}

void otf__dag_fuse(otf_dag_t *dag)
{
	dag->stages = 0;
	for (size_t i = 0; i < dag->nodes_len; i++) {
		dag->nodes[i].stage = 0;
		for (size_t e = 0; e < dag->nodes[i].edges_len; e++)
			dag->nodes[i].edges[e].fused = false;
	}
	if (dag->no_fuse || fuse_env_off())
		return;
	uint32_t *indeg = otf_calloc(dag->nodes_len ? dag->nodes_len : 1, sizeof *indeg);
	if (!indeg)
		return; /* no fusing: the ring works for every edge */
	for (size_t i = 0; i < dag->nodes_len; i++)
		for (size_t e = 0; e < dag->nodes[i].edges_len; e++)
			if (live_edge(dag, &dag->nodes[i], e))
				indeg[dag->nodes[i].edges[e].to]++;
	bool *fused_in = otf_calloc(dag->nodes_len ? dag->nodes_len : 1, sizeof *fused_in);
	if (!fused_in) {
		otf_free(indeg);
		return;
	}
	for (size_t i = 0; i < dag->nodes_len; i++) {
		otf_dag_node_t *n = &dag->nodes[i];
		if (n->removed || (n->kind != OTF_KIND_PROCESSOR && n->kind != OTF_KIND_CONNECTOR))
			continue;
		/* One successor, fed only by n: n's edges may still be several,
		 * one per port (a router whose routes all lead to one exporter),
		 * as long as they all end at that successor. */
		size_t live = 0;
		int64_t to = -1;
		for (size_t e = 0; e < n->edges_len; e++) {
			if (!live_edge(dag, n, e))
				continue;
			if (to == -1)
				to = n->edges[e].to;
			else if (to != (int64_t)n->edges[e].to)
				to = -2;
			live++;
		}
		if (to < 0 || indeg[to] != live)
			continue;
		for (size_t e = 0; e < n->edges_len; e++)
			if (live_edge(dag, n, e))
				n->edges[e].fused = true;
		fused_in[to] = true;
	}
	/* Stages: from each node with a fused out-edge and no fused in-edge,
	 * along the fused edges (topological order numbers them stably). */
	for (size_t k = 0; k < dag->order_len; k++) {
		otf_dag_node_t *n = &dag->nodes[dag->order[k]];
		if (fused_in[dag->order[k]] || n->stage)
			continue;
		bool head = false;
		for (size_t e = 0; e < n->edges_len; e++)
			head = head || n->edges[e].fused;
		if (!head)
			continue;
		uint32_t id = ++dag->stages;
		for (otf_dag_node_t *c = n; c;) {
			c->stage = id;
			otf_dag_node_t *next = NULL;
			for (size_t e = 0; e < c->edges_len; e++)
				if (c->edges[e].fused)
					next = &dag->nodes[c->edges[e].to];
			c = next;
		}
	}
	otf_free(fused_in);
	otf_free(indeg);
}

void otf__dag_print_stages(const otf_dag_t *dag, FILE *f)
{
	for (uint32_t id = 1; id <= dag->stages; id++) {
		const otf_dag_node_t *head = NULL;
		for (size_t k = 0; k < dag->order_len && !head; k++) {
			const otf_dag_node_t *n = &dag->nodes[dag->order[k]];
			if (n->stage == id)
				head = n;
		}
		fprintf(f, "fused stage %u:", id);
		for (const otf_dag_node_t *c = head; c;) {
			fprintf(f, "%s %s", c == head ? "" : " ->", c->name);
			const otf_dag_node_t *next = NULL;
			for (size_t e = 0; e < c->edges_len; e++)
				if (c->edges[e].fused)
					next = &dag->nodes[c->edges[e].to];
			c = next;
		}
		fprintf(f, "\n");
	}
}
