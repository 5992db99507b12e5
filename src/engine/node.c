/* Node runtime: bounded data and control rings, the worker's run queue
 * (control before data, a budget per turn), send with fan-out, timers,
 * counters. Everything here runs on the node's worker thread. */
#include "engine/engine_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <errno.h>
#include <string.h>

int otf__ring_init(otf_ring_t *r, uint32_t elem, uint32_t cap)
{
	r->slots = otf_calloc(cap, elem);
	if (!r->slots)
		return OTF_E_NOMEM;
	r->elem = elem;
	r->cap = cap;
	r->head = r->len = 0;
	return 0;
}

void otf__ring_close(otf_ring_t *r)
{
	otf_free(r->slots);
	r->slots = NULL;
}

/* Slot index arithmetic without a division: head < cap, len <= cap. */
static inline uint32_t ring_at(const otf_ring_t *r, uint32_t k)
{
	uint32_t at = r->head + k;
	return at >= r->cap ? at - r->cap : at;
}

static bool ring_push(otf_ring_t *r, const void *v)
{
	if (r->len == r->cap)
		return false;
	uint32_t at = ring_at(r, r->len);
	if (r->elem == sizeof(void *)) /* the data rings: one pointer */
		memcpy((char *)r->slots + (size_t)at * sizeof(void *), v, sizeof(void *));
	else
		memcpy((char *)r->slots + (size_t)at * r->elem, v, r->elem);
	r->len++;
	return true;
}

static bool ring_pop(otf_ring_t *r, void *v)
{
	if (!r->len)
		return false;
	if (r->elem == sizeof(void *))
		memcpy(v, (char *)r->slots + (size_t)r->head * sizeof(void *), sizeof(void *));
	else
		memcpy(v, (char *)r->slots + (size_t)r->head * r->elem, r->elem);
	r->head = ring_at(r, 1);
	r->len--;
	return true;
}

/* Control signals: an ACK has no reason, so its 160 bytes are neither
 * copied in nor out (the reason reads as ""); every other type whole. An
 * ACK per message and hop made these copies most of a hop's cost. */
static inline void ctrl_copy(otf_ctrl_t *dst, const otf_ctrl_t *src)
{
	if (src->type == OTF_CTRL_ACK) {
		memcpy(dst, src, offsetof(otf_ctrl_t, reason));
		dst->reason[0] = '\0';
		memcpy(&dst->retry_after_ns, &src->retry_after_ns,
		       sizeof *dst - offsetof(otf_ctrl_t, retry_after_ns));
	} else {
		*dst = *src;
	}
}

static bool ctrl_push(otf_ring_t *r, const otf_ctrl_t *c)
{
	if (r->len == r->cap)
		return false;
	ctrl_copy((otf_ctrl_t *)r->slots + ring_at(r, r->len), c);
	r->len++;
	return true;
}

static bool ctrl_pop(otf_ring_t *r, otf_ctrl_t *c)
{
	if (!r->len)
		return false;
	ctrl_copy(c, (const otf_ctrl_t *)r->slots + r->head);
	/* An emptied queue starts again at its first slot: the slots in use
	 * stay the few at the front (in cache), instead of every signal
	 * landing on the next of control_capacity 272-byte slots. */
	r->head = --r->len ? ring_at(r, 1) : 0;
	return true;
}

void otf__worker_schedule(otf_node_t *node)
{
	if (node->runnable)
		return;
	otf_worker_t *w = node->worker;
	node->runnable = true;
	node->next_runnable = NULL;
	if (w->run_tail)
		w->run_tail->next_runnable = node;
	else
		w->run_head = node;
	w->run_tail = node;
	if (!uv_is_active((uv_handle_t *)&w->pump))
		uv_idle_start(&w->pump, otf__worker_pump_cb);
}

/* Control signals must not be lost (an ACK answers a client): a full
 * queue grows rather than drops, and says so. 0, or OTF_E_NOMEM. */
static int ctrl_grow(otf_node_t *node)
{
	otf_ring_t bigger;
	uint32_t ncap = node->control.cap * 2;
	if (otf__ring_init(&bigger, sizeof(otf_ctrl_t), ncap))
		return OTF_E_NOMEM;
	otf_ctrl_t tmp;
	while (ctrl_pop(&node->control, &tmp))
		ctrl_push(&bigger, &tmp);
	otf__ring_close(&node->control);
	node->control = bigger;
	otf_node_log(node, OTF_LOG_WARN, "control queue grown to %u", ncap);
	return 0;
}

otf_ctrl_t *otf__node_ctrl_slot(otf_node_t *node)
{
	otf_ring_t *r = &node->control;
	if (r->len == r->cap && ctrl_grow(node))
		return NULL;
	return (otf_ctrl_t *)r->slots + ring_at(r, r->len);
}

void otf__node_ctrl_commit(otf_node_t *node)
{
	node->control.len++;
	otf__worker_schedule(node);
}

void otf__node_post_ctrl(otf_node_t *node, const otf_ctrl_t *c)
{
	if (!ctrl_push(&node->control, c)) {
		if (ctrl_grow(node) == 0) {
			ctrl_push(&node->control, c);
		} else {
			otf_node_log(node, OTF_LOG_ERROR, "control signal lost: out of memory");
			if (c->payload)
				otf_buf_unref(c->payload);
			if (c->msg)
				otf__msg_discard(c->msg);
		}
	}
	otf__worker_schedule(node);
}

/* One turn of the worker's run queue: each runnable node handles all its
 * control signals, then up to a budget of messages, so a flood of data
 * cannot starve acknowledgements and one busy node cannot starve others. */
void otf__worker_pump_cb(uv_idle_t *h)
{
	otf_worker_t *w = h->data;
	otf_node_t *list = w->run_head;
	w->run_head = w->run_tail = NULL;
	while (list) {
		otf_node_t *n = list;
		list = n->next_runnable;
		n->runnable = false;
		const otf_component_factory_t *f = n->def->factory;
		otf_ctrl_t c;
		/* Only the signals queued before this turn: a handler that posts
		 * control again (a REB answered by a publication, a NACK storm)
		 * runs again next turn, after timers and I/O had theirs. */
		uint32_t nctl = n->control.len;
		w->answering = n;
		while (nctl-- > 0 && ctrl_pop(&n->control, &c)) {
			if (!c.type)
				continue; /* a TMR withdrawn by otf_node_timer_stop */
			if (c.type == OTF_CTRL_ACK || c.type == OTF_CTRL_NACK)
				otf__node_tally(n,
				                c.type == OTF_CTRL_ACK ? OTF_COUNTER_ACKS
				                                       : OTF_COUNTER_NACKS,
				                c.signal, 1);
			if (c.type == OTF_CTRL_CFG) {
				otf__node_cfg(n, &c); /* between messages, by the engine */
				continue;
			}
			if ((c.instance_gen && c.instance_gen - 1 != n->gen) || n->gone) {
				/* A replaced instance's (rebuild.c), or one a reload
				 * removed and destroyed (reshape.c). */
				otf__node_ctrl_old(n, &c);
			} else if (f->control) {
				f->control(n->instance, &c);
			} else {
				otf_buf_unref(c.payload);
				if (c.msg)
					otf__msg_discard(c.msg);
			}
		}
		w->answering = NULL;
		for (int budget = 64; budget > 0; budget--) {
			otf_msg_t *m;
			if (!ring_pop(&n->data, &m))
				break;
			atomic_store_explicit(&n->queue_depth, n->data.len, memory_order_relaxed);
			if (__builtin_expect(n->gone, 0)) {
				otf_msg_nack(m, OTF_E_IO, false,
				             "its node was removed by a reload");
				continue;
			}
			if (w->cancels && otf__msg_is_cancelled(m)) {
				/* CAN: a copy still queued is dropped here (cancel.c). */
				otf_node_count(n, OTF_COUNTER_CANCELLED, m->signal, m->items);
				otf_msg_nack(m, -ECANCELED, true, "cancelled while queued");
				continue;
			}
			if (n->fused_in) { /* see otf_node_t.ring_in */
				otf__tally(&n->ring_in[0][m->signal], m->items);
				otf__tally(&n->ring_in[1][m->signal], 1);
			}
			otf__node_consume(n, m);
		}
		if (n->data.len || n->control.len)
			otf__worker_schedule(n);
	}
	if (!w->run_head)
		uv_idle_stop(&w->pump);
}

int otf__node_wire(otf_node_t *n, otf_node_t *const *nodes, const otf_dag_t *dag)
{
	const otf_dag_node_t *def = n->def;
	memcpy(n->consume, def->factory->consume, sizeof n->consume);
	n->nports = otf__factory_nports(def->factory, def->config);
	n->ports = otf_calloc(n->nports, sizeof *n->ports);
	if (!n->ports)
		return OTF_E_NOMEM;
	for (size_t ed = 0; ed < def->edges_len; ed++) {
		const otf_dag_edge_t *edge = &def->edges[ed];
		otf_node_t *to = nodes[edge->to];
		if (dag->nodes[edge->to].removed)
			continue; /* removed nodes are never instantiated */
		otf_node_port_t *p = &n->ports[edge->port_index];
		for (int s = 0; s < OTF_SIGNAL_COUNT; s++) {
			if (!(edge->signals & OTF_SIGNAL_BIT(s)))
				continue;
			/* Edges merge per (target, port), so a consumer appears
			 * once per port and gets a message once. */
			otf_node_t **grown =
			    otf_realloc(p->out[s], (p->out_len[s] + 1) * sizeof *grown);
			if (!grown)
				return OTF_E_NOMEM;
			grown[p->out_len[s]++] = to;
			p->out[s] = grown;
		}
		if (edge->fused) {
			to->fused_in = true;
			if (def->edges_len == 1 && edge->port_index == 0) {
				n->fused_next = to;
				n->fused_signals = edge->signals;
			}
		}
	}
	return 0;
}

void otf__node_fused_fold(otf_node_t *n)
{
	for (uint32_t p = 0; p < n->nports; p++)
		for (int s = 0; s < OTF_SIGNAL_COUNT; s++)
			for (uint32_t k = 0; k < n->ports[p].out_len[s]; k++) {
				otf_node_t *to = n->ports[p].out[s][k];
				if (!to->fused_in)
					continue;
				/* to's only predecessor is n (fuse.c): what to consumed
				 * not through its channel is n's out, made n's own. */
				for (int j = 0; j < 2; j++) {
					otf_node_counter_t in =
					    j ? OTF_COUNTER_MSGS_IN : OTF_COUNTER_ITEMS_IN;
					otf_node_counter_t out =
					    j ? OTF_COUNTER_MSGS_OUT : OTF_COUNTER_ITEMS_OUT;
					for (int g = 0; g < OTF_SIGNAL_COUNT; g++) {
						uint64_t all = atomic_load_explicit(
						    &to->counters[in][g], memory_order_relaxed);
						uint64_t ring = atomic_load_explicit(
						    &to->ring_in[j][g], memory_order_relaxed);
						otf__node_tally(n, out, (otf_signal_t)g,
						                all - ring);
						atomic_store_explicit(&to->ring_in[j][g], all,
						                      memory_order_relaxed);
					}
				}
				return;
			}
}

int otf_node_port(const otf_node_t *node, const char *name)
{
	int i = otf__factory_port(node->def->factory, node->def->config, name);
	return i < 0 ? OTF_E_NOT_FOUND : i;
}

/* The engine's out counters of node, once per successful send through
 * the channels (otf__fuse_send counts a direct call's). */
static inline void sent_out(otf_node_t *node, otf_signal_t s, uint64_t items)
{
	otf__node_tally(node, OTF_COUNTER_ITEMS_OUT, s, items);
	otf__node_tally(node, OTF_COUNTER_MSGS_OUT, s, 1);
}

int otf_node_send(otf_node_t *node, otf_msg_t *msg)
{
	/* A fused stage's hop without the port and consumer lookup. */
	if (node->fused_next && (node->fused_signals & OTF_SIGNAL_BIT(msg->signal)) &&
	    otf__fuse_send(node, node->fused_next, msg))
		return 0; /* counted out by otf__fuse_send */
	return otf_node_send_port(node, 0, msg);
}

int otf_node_send_port(otf_node_t *node, int port, otf_msg_t *msg)
{
	if (port < 0 || (uint32_t)port >= node->nports)
		return OTF_E_INVAL;
	otf_signal_t s = msg->signal;
	otf_node_t **out = node->ports[port].out[s];
	uint32_t n = node->ports[port].out_len[s];
	if (n == 0)
		return OTF_E_NOT_FOUND;
	if (n == 1 && otf__fuse_send(node, out[0], msg))
		return 0; /* fused: consumed by direct call (its channel was empty) */
	uint64_t items = msg->items;
	/* All or nothing: refuse before enqueuing anywhere. */
	for (uint32_t i = 0; i < n; i++) {
		otf_node_t *t = out[i];
		if (t->data.len == t->data.cap)
			return -EAGAIN;
	}
	if (n == 1) {
		otf_node_t *t = out[0];
		ring_push(&t->data, &msg);
		atomic_store_explicit(&t->queue_depth, t->data.len, memory_order_relaxed);
		otf__worker_schedule(t);
		otf__budget_spent(node, msg);
		sent_out(node, s, items);
		return 0;
	}
	otf_join_t *j = otf_calloc(1, sizeof *j);
	otf_msg_t *kids[64];
	if (!j || n > 64) {
		otf_free(j);
		return OTF_E_NOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		kids[i] = otf__msg_clone_for_fanout(msg, j);
		if (!kids[i]) {
			for (uint32_t k = 0; k < i; k++) {
				kids[k]->join = NULL;
				otf__msg_free(kids[k]);
			}
			otf_free(j);
			return OTF_E_NOMEM;
		}
		kids[i]->join_index = i;
	}
	j->parent = msg;
	j->pending = n;
	j->total = n;
	j->policy = node->def->fanout;
	for (uint32_t i = 0; i < n; i++) {
		otf_node_t *t = out[i];
		ring_push(&t->data, &kids[i]);
		atomic_store_explicit(&t->queue_depth, t->data.len, memory_order_relaxed);
		otf__worker_schedule(t);
	}
	otf__budget_spent(node, msg);
	sent_out(node, s, items);
	return 0;
}

bool otf_node_has_output(const otf_node_t *node, otf_signal_t s)
{
	for (uint32_t p = 0; p < node->nports; p++)
		if (node->ports[p].out_len[s])
			return true;
	return false;
}

bool otf_node_port_has_output(const otf_node_t *node, int port, otf_signal_t s)
{
	return port >= 0 && (uint32_t)port < node->nports && node->ports[port].out_len[s] > 0;
}

const char *otf_node_name(const otf_node_t *node)
{
	return node->def->name;
}

int otf_node_worker_index(const otf_node_t *node)
{
	return node->worker->index;
}

struct uv_loop_s *otf_node_loop(otf_node_t *node)
{
	return &node->worker->loop;
}

/* Node timers: a per-worker list so they can be found by id and closed
 * when the worker stops. */
struct otf_node_timer {
	uv_timer_t t;
	otf_node_t *node;
	uint64_t token;
	int64_t id;
	uint32_t gen; /* the instance that started it (rebuild.c) */
	bool repeat;
	otf_node_timer_t *next;
};

static void timer_close_cb(uv_handle_t *h)
{
	otf_free(h->data);
}

static void timer_unlink_close(otf_node_timer_t *nt)
{
	otf_worker_t *w = nt->node->worker;
	for (otf_node_timer_t **pp = &w->timers; *pp; pp = &(*pp)->next) {
		if (*pp == nt) {
			*pp = nt->next;
			break;
		}
	}
	uv_timer_stop(&nt->t);
	uv_close((uv_handle_t *)&nt->t, timer_close_cb);
}

static void timer_cb(uv_timer_t *t)
{
	otf_node_timer_t *nt = t->data;
	otf_ctrl_t c;
	memset(&c, 0, sizeof c);
	c.type = OTF_CTRL_TMR;
	c.calldata = nt->token;
	c.instance_gen = nt->gen + 1;
	c.msg_id = (uint64_t)nt->id; /* lets timer_stop withdraw it */
	otf__node_post_ctrl(nt->node, &c);
	if (!nt->repeat)
		timer_unlink_close(nt);
}

int64_t otf_node_timer_start(otf_node_t *node, uint64_t timeout_ms, uint64_t repeat_ms,
                             uint64_t token)
{
	static _Atomic int64_t next_id;
	otf_node_timer_t *nt = otf_malloc(sizeof *nt);
	if (!nt)
		return OTF_E_NOMEM;
	int rc = uv_timer_init(&node->worker->loop, &nt->t);
	if (rc) {
		otf_free(nt);
		return rc;
	}
	nt->t.data = nt;
	nt->node = node;
	nt->token = token;
	nt->gen = node->cur_gen;
	nt->repeat = repeat_ms != 0;
	nt->id = atomic_fetch_add(&next_id, 1) + 1;
	nt->next = node->worker->timers;
	node->worker->timers = nt;
	uv_timer_start(&nt->t, timer_cb, timeout_ms, repeat_ms);
	return nt->id;
}

void otf_node_timer_stop(otf_node_t *node, int64_t timer_id)
{
	for (otf_node_timer_t *nt = node->worker->timers; nt; nt = nt->next) {
		if (nt->id == timer_id) {
			timer_unlink_close(nt);
			break;
		}
	}
	/* An expiry may already wait in the control queue (a one-shot timer
	 * that fired, or one that fired in the same loop turn as the timer
	 * whose handler stops it): withdraw it, so that a stopped timer never
	 * reaches the node, whose state for its token may be gone. Timer ids
	 * are unique, so only this timer's expiries match. */
	otf_ring_t *r = &node->control;
	for (uint32_t k = 0; k < r->len; k++) {
		otf_ctrl_t *c = (otf_ctrl_t *)r->slots + (r->head + k) % r->cap;
		if (c->type == OTF_CTRL_TMR && c->msg_id == (uint64_t)timer_id)
			c->type = 0;
	}
}

void otf__worker_close_timers(otf_worker_t *w)
{
	while (w->timers)
		timer_unlink_close(w->timers);
}

void otf_node_count(otf_node_t *node, otf_node_counter_t c, otf_signal_t s, uint64_t n)
{
	atomic_fetch_add_explicit(&node->counters[c][s], n, memory_order_relaxed);
}

void otf_node_log(otf_node_t *node, otf_log_level_t level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	otf__log(level, node->def->name, fmt, ap);
	va_end(ap);
}
