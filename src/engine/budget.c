/* REB, resource budgets (otflow/component.h, "REB"): each node's own
 * budget, the one it passes upstream, and the reverse propagation of a
 * change, nearest upstream node first. Per worker, on the worker thread:
 * a worker's receivers feed only that worker's nodes, so their budgets
 * never need a lock. The state is allocated at the first publication, so
 * a pipeline without publishers pays one NULL test per send. */
#include "engine/engine_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <string.h>

typedef struct otf__budget {
	otf_budget_t own;  /* valid when has_own */
	otf_budget_t down; /* minimum over the node's consumers, less what it sent */
	otf_budget_t eff;  /* what it passes upstream */
	bool has_own;
	bool queued; /* in propagate's queue: its predecessors are recomputed then */
	uint32_t policy;
} budget_t;

static const otf_budget_t k_unlimited = {OTF_BUDGET_UNLIMITED, OTF_BUDGET_UNLIMITED,
                                         OTF_BUDGET_UNLIMITED, 0, 0};

static budget_t *state(otf_worker_t *w)
{
	if (w->budgets)
		return w->budgets;
	size_t n = w->nodes_span;
	budget_t *b = otf_calloc(n ? n : 1, sizeof *b);
	if (!b)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		b[i].own = b[i].down = b[i].eff = k_unlimited;
	}
	w->budgets = b;
	return b;
}

/* The tighter of two budgets; a 0 keeps its retry hint, a rate its flag. */
static otf_budget_t bmin(otf_budget_t a, const otf_budget_t *b)
{
	bool a_stop = !a.bytes || !a.items || !a.msgs;
	bool b_stop = !b->bytes || !b->items || !b->msgs;
	if (b->bytes < a.bytes)
		a.bytes = b->bytes;
	if (b->items < a.items)
		a.items = b->items;
	if (b->msgs < a.msgs)
		a.msgs = b->msgs;
	if (b_stop && (!a_stop || b->retry_after_ms > a.retry_after_ms)) {
		a.retry_after_ms = b->retry_after_ms;
		a.flags = b->flags;
	} else if (!a_stop && !b_stop) {
		a.flags |= b->flags;
		if (b->retry_after_ms > a.retry_after_ms)
			a.retry_after_ms = b->retry_after_ms;
	}
	return a;
}

static bool beq(const otf_budget_t *a, const otf_budget_t *b)
{
	return a->bytes == b->bytes && a->items == b->items && a->msgs == b->msgs &&
	       a->retry_after_ms == b->retry_after_ms && a->flags == b->flags;
}

static otf_budget_t compute_down(otf_worker_t *w, budget_t *st, const otf_node_t *n)
{
	otf_budget_t d = k_unlimited;
	for (uint32_t p = 0; p < n->nports; p++)
		for (int s = 0; s < OTF_SIGNAL_COUNT; s++)
			for (uint32_t i = 0; i < n->ports[p].out_len[s]; i++)
				d = bmin(d, &st[n->ports[p].out[s][i]->index].eff);
	(void)w;
	return d;
}

static otf_budget_t compute_eff(const budget_t *b)
{
	otf_budget_t e = b->policy == OTF_BUDGET_ABSORB ? k_unlimited : b->down;
	if (b->has_own)
		e = bmin(e, &b->own);
	return e;
}

static void post_reb(otf_node_t *n, const otf_budget_t *b)
{
	if (!n->def->factory->control || !n->instance)
		return;
	otf_ctrl_t c;
	memset(&c, 0, sizeof c);
	c.type = OTF_CTRL_REB;
	c.budget = *b;
	otf__node_post_ctrl(n, &c);
}

/* Breadth-first from start, whose eff changed: each predecessor
 * recomputes what it has downstream, hears of it (REB) when that changed,
 * and passes it on when its own eff changed. BFS gives the nearest node
 * first; a DAG is acyclic, and a node is visited again only when its eff
 * changed again, so this ends. A node already queued is not queued again:
 * its predecessors read its latest eff when it comes up. */
static int propagate(otf_worker_t *w, budget_t *st, uint32_t start)
{
	size_t cap = w->nodes_span + 1, head = 0, tail = 0;
	uint32_t small[64];
	uint32_t *q = cap <= 64 ? small : otf_malloc(cap * sizeof *q);
	if (!q)
		return OTF_E_NOMEM;
	q[tail++ % cap] = start;
	st[start].queued = true;
	while (head != tail) {
		uint32_t at = q[head++ % cap];
		st[at].queued = false;
		for (uint32_t k = w->pred_off[at]; k < w->pred_off[at + 1]; k++) {
			otf_node_t *p = w->nodes[w->preds[k]];
			budget_t *pb = &st[p->index];
			otf_budget_t d = compute_down(w, st, p);
			if (beq(&d, &pb->down))
				continue;
			pb->down = d;
			post_reb(p, &d);
			otf_budget_t ne = compute_eff(pb);
			if (beq(&ne, &pb->eff))
				continue;
			pb->eff = ne;
			if (!pb->queued) {
				pb->queued = true;
				q[tail++ % cap] = p->index;
			}
		}
	}
	if (q != small)
		otf_free(q);
	return 0;
}

static bool stops(const otf_budget_t *b)
{
	return !b->bytes || !b->items || !b->msgs;
}

/* A publication also refreshes what the nodes upstream spent from it
 * since the last one (otf__budget_spent): without this, a publisher whose
 * value did not change (a queue that empties as fast as it fills) never
 * gave back what its senders spent, and a receiver whose sends went
 * through a batch reached 0 after queue_size messages and stopped reading
 * for good. Every ancestor once (visited marks, breadth-first); the REB
 * signal goes only to a node whose budget turns from stop to go or back,
 * since receivers read otf_node_budget at each request anyway. */
static int refresh_spent(otf_worker_t *w, budget_t *st, uint32_t start)
{
	size_t cap = w->nodes_span + 1, head = 0, tail = 0;
	uint32_t small[64];
	bool seen_small[64];
	uint32_t *q = cap <= 64 ? small : otf_malloc(cap * sizeof *q);
	bool *seen = cap <= 64 ? seen_small : otf_calloc(cap, sizeof *seen);
	if (!q || !seen) {
		if (q != small)
			otf_free(q);
		if (seen != seen_small)
			otf_free(seen);
		return OTF_E_NOMEM;
	}
	if (seen == seen_small)
		memset(seen_small, 0, sizeof seen_small);
	q[tail++] = start;
	seen[start] = true;
	while (head != tail) {
		uint32_t at = q[head++];
		for (uint32_t k = w->pred_off[at]; k < w->pred_off[at + 1]; k++) {
			otf_node_t *p = w->nodes[w->preds[k]];
			if (seen[p->index])
				continue;
			seen[p->index] = true;
			q[tail++] = p->index;
			budget_t *pb = &st[p->index];
			otf_budget_t d = compute_down(w, st, p);
			if (beq(&d, &pb->down))
				continue;
			bool was_stop = stops(&pb->down);
			pb->down = d;
			if (was_stop != stops(&d))
				post_reb(p, &d);
		}
	}
	if (q != small)
		otf_free(q);
	if (seen != seen_small)
		otf_free(seen);
	return 0;
}

int otf_node_publish_budget(otf_node_t *node, const otf_budget_t *b)
{
	otf_worker_t *w = node->worker;
	if (!b && !w->budgets)
		return 0; /* nothing published on this worker yet: nothing to withdraw */
	budget_t *st = state(w);
	if (!st)
		return OTF_E_NOMEM;
	budget_t *nb = &st[node->index];
	nb->has_own = b != NULL;
	nb->own = b ? *b : k_unlimited;
	otf_budget_t ne = compute_eff(nb);
	if (!beq(&ne, &nb->eff)) {
		nb->eff = ne;
		int rc = propagate(w, st, node->index);
		if (rc)
			return rc;
	}
	return refresh_spent(w, st, node->index);
}

int otf_node_budget_policy(otf_node_t *node, uint32_t policy)
{
	if (policy != OTF_BUDGET_PASS && policy != OTF_BUDGET_ABSORB)
		return OTF_E_INVAL;
	if (policy == OTF_BUDGET_PASS && !node->worker->budgets)
		return 0;
	budget_t *st = state(node->worker);
	if (!st)
		return OTF_E_NOMEM;
	budget_t *nb = &st[node->index];
	nb->policy = policy;
	otf_budget_t ne = compute_eff(nb);
	if (beq(&ne, &nb->eff))
		return 0;
	nb->eff = ne;
	return propagate(node->worker, st, node->index);
}

otf_budget_t otf_node_budget(const otf_node_t *node)
{
	const budget_t *st = node->worker->budgets;
	return st ? st[node->index].down : k_unlimited;
}

bool otf_budget_admits(const otf_budget_t *b, uint64_t bytes, uint64_t items)
{
	if (!b->bytes || !b->items || !b->msgs)
		return false;
	return bytes <= b->bytes && items <= b->items;
}

void otf_node_input_pending(const otf_node_t *node, uint64_t *msgs, uint64_t *items,
                            uint64_t *bytes)
{
	const otf_ring_t *r = &node->data;
	uint64_t it = 0, by = 0;
	for (uint32_t k = 0; (items || bytes) && k < r->len; k++) {
		const otf_msg_t *m = ((otf_msg_t *const *)r->slots)[(r->head + k) % r->cap];
		it += m->items;
		by += m->payload ? m->payload->len : 0;
	}
	if (msgs)
		*msgs = r->len;
	if (items)
		*items = it;
	if (bytes)
		*bytes = by;
}

static void spend(uint64_t *v, uint64_t n)
{
	if (*v != OTF_BUDGET_UNLIMITED)
		*v = *v > n ? *v - n : 0;
}

void otf__budget_spent(otf_node_t *node, const otf_msg_t *m)
{
	budget_t *st = node->worker->budgets;
	if (!st)
		return;
	budget_t *nb = &st[node->index];
	spend(&nb->down.msgs, 1);
	spend(&nb->down.items, m->items);
	spend(&nb->down.bytes, m->payload ? m->payload->len : 0);
}

void otf__budget_rewired(otf_worker_t *w)
{
	budget_t *st = w->budgets;
	if (!st)
		return;
	/* Sinks first: each node's consumers have their eff already. */
	const otf_dag_t *dag = w->dag;
	for (size_t k = dag->order_len; k-- > 0;) {
		otf_node_t *n = w->nodes[dag->order[k]];
		budget_t *nb = &st[n->index];
		otf_budget_t d = compute_down(w, st, n);
		if (!beq(&d, &nb->down)) {
			nb->down = d;
			post_reb(n, &d);
		}
		nb->eff = compute_eff(nb);
	}
}

int otf__budget_grow(otf_worker_t *w, size_t n)
{
	if (n <= w->nodes_span)
		return 0;
	if (w->budgets) {
		budget_t *b = otf_realloc(w->budgets, n * sizeof *b);
		if (!b)
			return OTF_E_NOMEM;
		memset(b + w->nodes_span, 0, (n - w->nodes_span) * sizeof *b);
		for (size_t i = w->nodes_span; i < n; i++)
			b[i].own = b[i].down = b[i].eff = k_unlimited;
		w->budgets = b;
	}
	w->nodes_span = n;
	return 0;
}

void otf__budget_close(otf_worker_t *w)
{
	otf_free(w->budgets);
	w->budgets = NULL;
}
