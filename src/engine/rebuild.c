/* Rebuild: CFG for a node whose type has no reconfigure hook (receivers,
 * exporters, connectors, most processors). reconfig.c delivers the new
 * config to every worker as for an in-place change; here, on the worker,
 * between two messages:
 *
 *   1. a new instance is created from the new config and started (a
 *      receiver binds: see the held sockets below). If that fails, it is
 *      destroyed and the old instance stays the node's, untouched: the
 *      caller is answered with the error;
 *   2. the new instance becomes the node's: the next message in the
 *      node's channel goes to it, so nothing waits and nothing queued is
 *      refused;
 *   3. the old instance gets KIL, as at shutdown: a receiver stops
 *      accepting and answers its in-flight requests, an exporter sends
 *      what its sending queue holds (to the old endpoint), a processor
 *      flushes. It lives beside the new one until it reports done
 *      (otf_node_shutdown_done), then it is destroyed.
 *
 * Two instances on one node: the outcomes (ACK, NACK, QUEUED) of what the
 * old one sent and its timers must reach it, not the new one, whose
 * calldata would not match. Each instance has a generation (node->gen);
 * a subscription frame and a timer record the generation current when
 * they were made (node->cur_gen, which is the old one's while the engine
 * calls the old instance), the control carries it (instance_gen), and the
 * pump hands a control of an older generation to otf__node_ctrl_old.
 * A control for an instance already destroyed is answered as that
 * instance could no longer: a message handed back is passed upstream.
 *
 * Listening sockets: the workers of a receiver share one socket per
 * endpoint (net_listen.c, keyed by an address inside the config struct).
 * Around the delivery the main thread holds those sockets open and lets
 * the new config find them (otf__rebuild_hold): with an unchanged port the
 * new instances listen on the very socket the old ones did, so no
 * connection is refused during the switch; with a changed port the new
 * one is bound before the old one is closed. */
#include "engine/engine_internal.h"

#include "net/net_internal.h"
#include "otflow/alloc.h"
#include "otflow/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* How often a draining old instance is looked at, and for how long before
 * saying so in the log (it is still kept until it reports done). */
#define OLD_POLL_MS      5
#define OLD_WARN_MS      5000
#define OLD_SLOW_POLL_MS 100

struct otf_rebuild_old {
	struct otf_rebuild_old *next;
	uv_timer_t timer;
	otf_node_t *node;
	void *instance; /* NULL once destroyed */
	uint32_t gen;
	uint64_t since_ms;
	bool warned;
};

static void old_closed_cb(uv_handle_t *h)
{
	otf_free(h->data);
}

static void old_destroy(otf_node_t *n, struct otf_rebuild_old *o)
{
	for (struct otf_rebuild_old **pp = &n->olds; *pp; pp = &(*pp)->next)
		if (*pp == o) {
			*pp = o->next;
			break;
		}
	uint32_t saved = n->cur_gen;
	n->cur_gen = o->gen;
	if (o->instance && n->def->factory->destroy)
		n->def->factory->destroy(o->instance);
	n->cur_gen = saved;
	o->instance = NULL;
	uv_timer_stop(&o->timer);
	uv_close((uv_handle_t *)&o->timer, old_closed_cb);
}

static void old_poll_cb(uv_timer_t *t)
{
	struct otf_rebuild_old *o = t->data;
	otf_node_t *n = o->node;
	otf_worker_t *w = n->worker;
	if (w->phase != 0) {
		/* Shutdown took over: its KIL and done are the current
		 * instance's now; the old one goes with the worker (finish). */
		uv_timer_stop(t);
		return;
	}
	/* Only the old instance was sent KIL while running: the node's done
	 * flag is its report. */
	if (__atomic_load_n(&n->shutdown_done, __ATOMIC_RELAXED)) {
		__atomic_store_n(&n->shutdown_done, false, __ATOMIC_RELAXED);
		otf_node_log(n, OTF_LOG_INFO, "worker %d: the replaced instance drained", w->index);
		old_destroy(n, o);
		return;
	}
	if (!o->warned && uv_now(&w->loop) - o->since_ms >= OLD_WARN_MS) {
		o->warned = true;
		otf_node_log(n, OTF_LOG_WARN,
		             "worker %d: the replaced instance has not drained within %d ms; it "
		             "is kept until it has (or until shutdown)",
		             w->index, OLD_WARN_MS);
		uv_timer_start(t, old_poll_cb, OLD_SLOW_POLL_MS, OLD_SLOW_POLL_MS);
	}
}

/* The new instance of n from config: every signal's create, then start.
 * 0 with *out, or the error (what was made is destroyed). */
static int make_instance(otf_node_t *n, const void *config, void **out, char *err, size_t errlen)
{
	const otf_component_factory_t *f = n->def->factory;
	void *inst = NULL;
	uint32_t sigs = n->def->in_signals | n->def->out_signals;
	int rc = 0;
	const char *what = "create";
	for (int s = 0; s < OTF_SIGNAL_COUNT && !rc; s++) {
		if (!(sigs & OTF_SIGNAL_BIT(s)) || !f->create[s])
			continue;
		otf_create_ctx_t ctx = {.node = n, .config = config, .signal = (otf_signal_t)s};
		rc = f->create[s](&ctx, &inst);
	}
	if (!rc && inst && f->start) {
		what = "start";
		rc = f->start(inst);
	}
	if (rc) {
		snprintf(err, errlen, "worker %d: the new instance failed to %s: %s",
		         n->worker->index, what, otf_strerror(rc));
		if (inst && f->destroy)
			f->destroy(inst);
		return rc;
	}
	*out = inst;
	return 0;
}

int otf__node_rebuild(otf_node_t *n, const void *config, char *err, size_t errlen)
{
	otf_worker_t *w = n->worker;
	const otf_component_factory_t *f = n->def->factory;
	for (struct otf_rebuild_old *o = n->olds; o; o = o->next)
		if (o->instance) {
			/* Its done report could not be told from the next one's. */
			snprintf(err, errlen,
			         "worker %d: the instance replaced by the previous change is still "
			         "draining; try again once it has",
			         w->index);
			return -EBUSY;
		}
	struct otf_rebuild_old *o = otf_calloc(1, sizeof *o);
	if (!o) {
		snprintf(err, errlen, "out of memory");
		return OTF_E_NOMEM;
	}
	uint32_t old_gen = n->gen;
	uint32_t gen = ++n->gen_seq;
	if (gen == old_gen)
		gen = ++n->gen_seq;
	/* What the new instance subscribes to or times while it is made
	 * is its own already. */
	n->cur_gen = gen;
	void *inst = NULL;
	int rc = make_instance(n, config, &inst, err, errlen);
	n->cur_gen = old_gen;
	if (rc) {
		otf_free(o);
		size_t len = strlen(err);
		snprintf(err + len, errlen - len, "; the old instance keeps running");
		otf_node_log(n, OTF_LOG_ERROR, "%s", err);
		/* Not a config error: a port taken, a file not writable. */
		return OTF_E_IO;
	}
	o->node = n;
	o->instance = n->instance;
	o->gen = old_gen;
	o->since_ms = uv_now(&w->loop);
	uv_timer_init(&w->loop, &o->timer);
	o->timer.data = o;
	o->next = n->olds;
	n->olds = o;
	n->instance = inst;
	n->gen = gen;
	n->cur_gen = gen;
	/* KIL to the old one, from the pump like any control; its report
	 * comes through the node's done flag. */
	__atomic_store_n(&n->shutdown_done, false, __ATOMIC_RELAXED);
	if (o->instance && f->control) {
		otf_ctrl_t c;
		memset(&c, 0, sizeof c);
		c.type = OTF_CTRL_KIL;
		c.calldata = OTF_KIL_HANDOVER;
		n->cur_gen = old_gen;
		f->control(o->instance, &c);
		n->cur_gen = gen;
	} else {
		__atomic_store_n(&n->shutdown_done, true, __ATOMIC_RELAXED);
	}
	uv_timer_start(&o->timer, old_poll_cb, 0, OLD_POLL_MS);
	/* What waited in the channel is the new instance's now. */
	if (n->data.len)
		otf__worker_schedule(n);
	return 0;
}

int otf_node_requeue(otf_node_t *n, otf_msg_t *msg)
{
	if (!n->olds || !n->instance)
		return OTF_E_INVAL;
	otf_ring_t *r = &n->data;
	if (r->len == r->cap) {
		/* What the old instance held must not be lost for lack of
		 * room: the channel grows, as control queues do. */
		otf_ring_t bigger;
		if (otf__ring_init(&bigger, r->elem, r->cap * 2))
			return OTF_E_NOMEM;
		for (uint32_t k = 0; k < r->len; k++)
			memcpy((char *)bigger.slots + (size_t)k * r->elem,
			       (char *)r->slots + (size_t)((r->head + k) % r->cap) * r->elem,
			       r->elem);
		bigger.len = r->len;
		otf__ring_close(r);
		*r = bigger;
	}
	memcpy((char *)r->slots + (size_t)((r->head + r->len) % r->cap) * r->elem, &msg,
	       sizeof msg);
	r->len++;
	atomic_store_explicit(&n->queue_depth, r->len, memory_order_relaxed);
	otf__worker_schedule(n);
	return 0;
}

void otf__node_ctrl_old(otf_node_t *n, otf_ctrl_t *c)
{
	uint32_t gen = c->instance_gen - 1;
	struct otf_rebuild_old *o = n->olds;
	while (o && o->gen != gen)
		o = o->next;
	const otf_component_factory_t *f = n->def->factory;
	if (o && o->instance && f->control) {
		uint32_t saved = n->cur_gen;
		n->cur_gen = gen;
		f->control(o->instance, c);
		n->cur_gen = saved;
		return;
	}
	/* Its instance is gone (it reported done): nothing reads the
	 * calldata any more. A message handed back still has frames below:
	 * its outcome goes on upstream, so no sender waits for it. */
	otf_buf_unref(c->payload);
	if (c->msg) {
		if (c->type == OTF_CTRL_ACK)
			otf_msg_ack(c->msg);
		else
			otf_msg_nack(c->msg, c->error ? c->error : OTF_E_IO, c->permanent,
			             c->reason[0] ? c->reason : "its node was rebuilt");
	}
}

void otf__node_rebuild_close(otf_node_t *n)
{
	while (n->olds)
		old_destroy(n, n->olds);
}

struct otf__net_hold *otf__rebuild_hold(const otf_dag_node_t *dn, const void *config)
{
	if (!dn->config || !config || !dn->factory->config_size)
		return NULL;
	return otf__net_listen_hold(dn->config, dn->factory->config_size, config);
}

void otf__rebuild_release(struct otf__net_hold *h, bool adopted)
{
	otf__net_listen_release(h, adopted);
}
