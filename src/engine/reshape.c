/* Reload of another shape (SIGHUP with pipelines or components added or
 * removed): the running engine switches to a DAG built from the reloaded
 * files while kept nodes go on running with their state.
 *
 * The new DAG (m) is the reloaded one re-indexed so that node ids stay
 * stable: a node kept (dag_diff.c: same id, type, signals and ports) has
 * its index of the running DAG, a node removed leaves its index behind as
 * a removed entry (a tombstone: its name, type and config, no edges), and
 * new nodes get indexes past the last one. Every per-node array (the
 * workers' node pointers, counters, budgets, status) only grows, and an
 * index never names two nodes, so a message, a handoff or a status report
 * made before the switch still finds its node after it.
 *
 * Two phases, each a post to every worker (run between turns, never inside
 * a component callback), the main thread waiting (bounded) for all:
 *   1. prepare: each worker creates and starts its instances of the new
 *      nodes (sinks first), wired to the new DAG. Nothing sends to them
 *      yet but new receivers. If one fails anywhere (a port in use, a file
 *      not writable), every worker destroys what it prepared and the old
 *      DAG stays, untouched: the reload is refused with the node's
 *      file:line and the error;
 *   2. commit: each worker rewires its live nodes to the new edges (kept
 *      instances included: a receiver feeding one more pipeline), swaps
 *      its node array and DAG, and starts draining the removed nodes.
 * Then the engine's DAG is the new one (admin API, stats), and kept nodes
 * whose config changed get it by CFG (reconfig.c) as on a plain reload.
 *
 * Draining: a removed node keeps its instance and ports (towards the old
 * targets, which stay allocated) and gets KIL as at shutdown, once every
 * removed node feeding it is done and its channel is empty: a receiver
 * stops listening and answers what it accepted, a processor flushes, an
 * exporter sends its queue and closes. Once it reports done it is
 * destroyed. Past runtime.shutdown_timeout_ms it is destroyed anyway and
 * what still waits in its channel is NACKed retryable upstream. Its node
 * struct stays (instance NULL): an outcome still coming back for a message
 * it sent is passed upstream (otf__node_ctrl_old).
 *
 * The replaced DAGs stay allocated until the engine is freed: configs
 * their nodes had move to the new DAG, and nodes prepared for a refused
 * reload may still point at theirs. */
#include "engine/engine_internal.h"

#include "net/net_internal.h"
#include "otflow/alloc.h"
#include "otflow/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define WAIT_MS     5000
#define DRAIN_POLL  5
#define PHASE_PREP  1
#define PHASE_COMIT 2
#define PHASE_ABORT 3

struct otf_dag_old {
	struct otf_dag_old *next;
	otf_dag_t *dag; /* NULL: the caller's (engine dag0) */
	uint32_t *pred_off, *preds;
};

typedef struct drain_item {
	otf_node_t *n;
	otf_node_t **preds; /* removed nodes feeding it */
	uint32_t npreds;
	bool kil_sent;
} drain_item_t;

struct otf_reshape_w {
	uv_timer_t timer;
	bool timer_init;
	uint64_t drain_since, drain_ms;
	drain_item_t *items;
	size_t items_len, items_cap;
	otf_node_t **orphans; /* prepared for a refused reload */
	size_t orphans_len, orphans_cap;
	otf_node_t **prep; /* the next node array, while prepared */
	size_t prep_len;
};

typedef struct reshape_req {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int refs, pending, error;
	char err[320];
	int phase;
	otf_engine_t *e;
	const otf_dag_t *m;
	const uint32_t *pred_off, *preds; /* m's */
	const bool *is_new;               /* [m len] */
	const bool *removed;              /* [m len]: removed by this reload */
	const uint32_t *cur_off, *cur_preds;
	const otf_dag_t *cur;
} reshape_req_t;

typedef struct reshape_post {
	reshape_req_t *r;
	otf_worker_t *w;
} reshape_post_t;

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

static void req_unref_locked(reshape_req_t *r)
{
	bool last = --r->refs == 0;
	pthread_mutex_unlock(&r->mu);
	if (last) {
		pthread_mutex_destroy(&r->mu);
		pthread_cond_destroy(&r->cv);
		otf_free(r);
	}
}

static void req_done(reshape_req_t *r, int rc, const char *err)
{
	pthread_mutex_lock(&r->mu);
	r->pending--;
	if (rc && !r->error) {
		r->error = rc;
		snprintf(r->err, sizeof r->err, "%s", err && *err ? err : otf_strerror(rc));
	}
	pthread_cond_signal(&r->cv);
	req_unref_locked(r);
}

static struct otf_reshape_w *rw_get(otf_worker_t *w)
{
	if (!w->reshape)
		w->reshape = otf_calloc(1, sizeof *w->reshape);
	return w->reshape;
}

static int push_ptr(otf_node_t ***arr, size_t *len, size_t *cap, otf_node_t *n)
{
	if (*len == *cap) {
		size_t c = *cap ? *cap * 2 : 8;
		otf_node_t **g = otf_realloc(*arr, c * sizeof *g);
		if (!g)
			return OTF_E_NOMEM;
		*arr = g;
		*cap = c;
	}
	(*arr)[(*len)++] = n;
	return 0;
}

/* ---- on the worker ---- */

static void destroy_instance(otf_node_t *n)
{
	otf__node_rebuild_close(n);
	if (n->instance && n->def->factory->destroy)
		n->def->factory->destroy(n->instance);
	n->instance = NULL;
}

/* Undoes a prepare: the new instances are destroyed (a started receiver
 * may have sent already: the structs stay, as orphans, until the end). */
static void unprepare(otf_worker_t *w)
{
	struct otf_reshape_w *rw = w->reshape;
	if (!rw || !rw->prep)
		return;
	for (size_t i = rw->prep_len; i-- > w->nodes_len;) {
		otf_node_t *n = rw->prep[i];
		if (!n)
			continue;
		destroy_instance(n);
		if (push_ptr(&rw->orphans, &rw->orphans_len, &rw->orphans_cap, n))
			otf__node_free_rt(n); /* lost: freed at once, unreferenced or not */
	}
	otf_free(rw->prep);
	rw->prep = NULL;
	rw->prep_len = 0;
}

static int prepare(otf_worker_t *w, reshape_req_t *r, char *err, size_t errlen)
{
	otf_engine_t *e = w->engine;
	const otf_dag_t *m = r->m;
	struct otf_reshape_w *rw = rw_get(w);
	if (!rw || otf__budget_grow(w, m->nodes_len))
		return errf(err, errlen, OTF_E_NOMEM, "out of memory");
	rw->prep = otf_calloc(m->nodes_len, sizeof *rw->prep);
	if (!rw->prep)
		return errf(err, errlen, OTF_E_NOMEM, "out of memory");
	rw->prep_len = m->nodes_len;
	for (size_t i = 0; i < w->nodes_len; i++)
		rw->prep[i] = w->nodes[i];
	for (size_t i = w->nodes_len; i < m->nodes_len; i++) {
		otf_node_t *n = otf_calloc(1, sizeof *n);
		if (!n) {
			unprepare(w);
			return errf(err, errlen, OTF_E_NOMEM, "out of memory");
		}
		rw->prep[i] = n;
		n->def = &m->nodes[i];
		n->index = (uint32_t)i;
		n->worker = w;
		if (!r->is_new[i])
			continue; /* an index left unused (cannot happen: no gaps) */
		if (otf__ring_init(&n->data, sizeof(otf_msg_t *), e->rt.channel_capacity) ||
		    otf__ring_init(&n->control, sizeof(otf_ctrl_t), e->rt.control_capacity)) {
			unprepare(w);
			return errf(err, errlen, OTF_E_NOMEM, "out of memory");
		}
	}
	for (size_t i = w->nodes_len; i < m->nodes_len; i++)
		if (r->is_new[i] && otf__node_wire(rw->prep[i], rw->prep, m)) {
			unprepare(w);
			return errf(err, errlen, OTF_E_NOMEM, "out of memory");
		}
	/* Sinks first, as at start: a new receiver never sends into a node
	 * that does not exist yet. */
	for (int step = 0; step < 2; step++)
		for (size_t k = m->order_len; k-- > 0;) {
			uint32_t i = m->order[k];
			if (!r->is_new[i])
				continue;
			otf_node_t *n = rw->prep[i];
			const otf_component_factory_t *f = n->def->factory;
			int rc = 0;
			const char *what = step ? "start" : "create";
			if (!step) {
				uint32_t sigs = n->def->in_signals | n->def->out_signals;
				for (int s = 0; s < OTF_SIGNAL_COUNT && !rc; s++) {
					if (!(sigs & OTF_SIGNAL_BIT(s)) || !f->create[s])
						continue;
					otf_create_ctx_t ctx = {.node = n,
					                        .config = n->def->config,
					                        .signal = (otf_signal_t)s};
					rc = f->create[s](&ctx, &n->instance);
				}
			} else if (n->instance && f->start) {
				rc = f->start(n->instance);
			}
			if (rc) {
				errf(err, errlen, rc, "%s: %s '%s' failed to %s on worker %d: %s",
				     n->def->origin, otf_component_kind_name(n->def->kind),
				     n->def->name, what, w->index, otf_strerror(rc));
				unprepare(w);
				return rc;
			}
		}
	return 0;
}

static void drain_cb(uv_timer_t *t);

static void commit(otf_worker_t *w, reshape_req_t *r)
{
	otf_engine_t *e = w->engine;
	const otf_dag_t *m = r->m;
	struct otf_reshape_w *rw = w->reshape;
	otf_node_t **nodes = rw->prep;
	size_t old_len = w->nodes_len;
	rw->prep = NULL;
	rw->prep_len = 0;
	for (size_t i = 0; i < m->nodes_len; i++)
		nodes[i]->def = &m->nodes[i];
	for (size_t i = 0; i < m->nodes_len; i++)
		otf__node_fused_fold(nodes[i]); /* node counters, before the rewiring */
	/* Removed nodes keep their ports: what they flush goes where it
	 * went. Every live node is wired to the new edges. */
	for (size_t k = 0; k < m->order_len; k++) {
		otf_node_t *n = nodes[m->order[k]];
		n->fused_in = false;
		n->fused_next = NULL;
		n->fused_signals = 0;
	}
	for (size_t k = 0; k < m->order_len; k++) {
		otf_node_t *n = nodes[m->order[k]];
		for (uint32_t p = 0; p < n->nports; p++)
			for (int s = 0; s < OTF_SIGNAL_COUNT; s++)
				otf_free(n->ports[p].out[s]);
		otf_free(n->ports);
		n->ports = NULL;
		n->nports = 0;
		if (otf__node_wire(n, nodes, m))
			otf_node_log(n, OTF_LOG_ERROR,
			             "worker %d: out of memory rewiring after a reload: some of "
			             "its outputs are missing",
			             w->index);
	}
	pthread_mutex_lock(&e->lock);
	otf_node_t **old = w->nodes;
	w->nodes = nodes;
	w->nodes_len = m->nodes_len;
	pthread_mutex_unlock(&e->lock);
	otf_free(old);
	w->dag = m;
	w->pred_off = r->pred_off;
	w->preds = r->preds;
	otf__budget_rewired(w);
	/* The removed nodes drain, in the running DAG's order. */
	bool any = false;
	for (size_t k = 0; k < r->cur->order_len; k++) {
		uint32_t i = r->cur->order[k];
		if (i >= old_len || !r->removed[i] || !nodes[i]->instance)
			continue;
		drain_item_t it = {.n = nodes[i]};
		uint32_t np = r->cur_off[i + 1] - r->cur_off[i];
		it.preds = otf_calloc(np ? np : 1, sizeof *it.preds);
		for (uint32_t q = r->cur_off[i]; it.preds && q < r->cur_off[i + 1]; q++)
			if (r->removed[r->cur_preds[q]])
				it.preds[it.npreds++] = nodes[r->cur_preds[q]];
		if (rw->items_len == rw->items_cap) {
			size_t c = rw->items_cap ? rw->items_cap * 2 : 8;
			drain_item_t *g = otf_realloc(rw->items, c * sizeof *g);
			if (!g) {
				otf_free(it.preds);
				otf_node_log(nodes[i], OTF_LOG_ERROR,
				             "out of memory: destroyed "
				             "without draining");
				destroy_instance(nodes[i]);
				continue;
			}
			rw->items = g;
			rw->items_cap = c;
		}
		__atomic_store_n(&it.n->shutdown_done, false, __ATOMIC_RELAXED);
		rw->items[rw->items_len++] = it;
		any = true;
	}
	if (any) {
		if (!rw->timer_init) {
			uv_timer_init(&w->loop, &rw->timer);
			rw->timer.data = w;
			rw->timer_init = true;
		}
		rw->drain_since = uv_now(&w->loop);
		rw->drain_ms = e->rt.shutdown_timeout_ms;
		uv_timer_start(&rw->timer, drain_cb, 0, DRAIN_POLL);
	}
}

enum { DRAINED, TIMED_OUT, AT_SHUTDOWN };

static void drain_item_done(struct otf_reshape_w *rw, size_t k, int how)
{
	otf_node_t *n = rw->items[k].n;
	otf_msg_t *m;
	uint32_t left = 0;
	while (n->data.len) {
		memcpy(&m, (char *)n->data.slots + (size_t)n->data.head * n->data.elem, sizeof m);
		n->data.head = (n->data.head + 1) % n->data.cap;
		n->data.len--;
		left++;
		otf_msg_nack(m, OTF_E_IO, false, "its node was removed by a reload");
	}
	atomic_store_explicit(&n->queue_depth, 0, memory_order_relaxed);
	if (how == TIMED_OUT)
		otf_node_log(n, OTF_LOG_WARN,
		             "worker %d: removed by the reload, not drained within %llu ms: "
		             "destroyed, %u queued message(s) NACKed (retryable)",
		             n->worker->index, (unsigned long long)rw->drain_ms, left);
	else if (how == DRAINED)
		otf_node_log(n, OTF_LOG_INFO, "worker %d: removed by the reload, drained",
		             n->worker->index);
	/* What it still holds is NACKed retryable, not dropped (msg.c). */
	n->gone = true;
	n->worker->drop_nacks = true;
	destroy_instance(n);
	n->worker->drop_nacks = false;
	otf_free(rw->items[k].preds);
	rw->items[k] = rw->items[--rw->items_len];
}

static bool item_ready(const drain_item_t *it)
{
	if (it->n->data.len)
		return false;
	for (uint32_t q = 0; q < it->npreds; q++) {
		const otf_node_t *p = it->preds[q];
		if (p->instance || p->data.len)
			return false; /* not drained and destroyed yet */
	}
	return true;
}

/* Whether another removed node still draining is fed by n. */
static bool feeds_another(const struct otf_reshape_w *rw, const otf_node_t *n)
{
	for (size_t k = 0; k < rw->items_len; k++)
		for (uint32_t q = 0; q < rw->items[k].npreds; q++)
			if (rw->items[k].preds[q] == n)
				return true;
	return false;
}

static void drain_cb(uv_timer_t *t)
{
	otf_worker_t *w = t->data;
	struct otf_reshape_w *rw = w->reshape;
	bool late = uv_now(&w->loop) - rw->drain_since >= rw->drain_ms;
	for (size_t k = 0; k < rw->items_len;) {
		drain_item_t *it = &rw->items[k];
		otf_node_t *n = it->n;
		if (!it->kil_sent && item_ready(it)) {
			it->kil_sent = true;
			if (!n->def->factory->control) {
				__atomic_store_n(&n->shutdown_done, true, __ATOMIC_RELAXED);
			} else {
				otf_ctrl_t c;
				memset(&c, 0, sizeof c);
				c.type = OTF_CTRL_KIL;
				otf__node_post_ctrl(n, &c);
			}
		}
		if (it->kil_sent && __atomic_load_n(&n->shutdown_done, __ATOMIC_RELAXED)) {
			drain_item_done(rw, k, DRAINED);
			continue;
		}
		if (late && !feeds_another(rw, n)) {
			/* Downstream first: what it held, NACKed, reaches the
			 * removed nodes above while they still run (a receiver
			 * answers its client with the reason), and they go on
			 * a later turn. */
			drain_item_done(rw, k, TIMED_OUT);
			continue;
		}
		k++;
	}
	if (!rw->items_len)
		uv_timer_stop(t);
}

static void post_cb(void *instance, otf_node_t *peer, void *arg, int status)
{
	(void)instance;
	(void)peer;
	reshape_post_t *p = arg;
	reshape_req_t *r = p->r;
	otf_worker_t *w = p->w;
	otf_free(p);
	char err[320] = "";
	int rc = 0;
	if (status) {
		/* The worker is finishing: what it prepared goes with it. */
		unprepare(w);
		rc = r->phase == PHASE_PREP ? status : 0;
		if (rc)
			snprintf(err, sizeof err, "worker %d is stopping", w->index);
	} else if (r->phase == PHASE_PREP) {
		rc = prepare(w, r, err, sizeof err);
	} else if (r->phase == PHASE_COMIT && w->reshape && w->reshape->prep) {
		commit(w, r);
	} else {
		unprepare(w);
	}
	req_done(r, rc, err);
}

void otf__reshape_finish(otf_worker_t *w)
{
	struct otf_reshape_w *rw = w->reshape;
	if (!rw)
		return;
	unprepare(w);
	while (rw->items_len)
		drain_item_done(rw, rw->items_len - 1, AT_SHUTDOWN);
	if (rw->timer_init) {
		uv_timer_stop(&rw->timer);
		if (!uv_is_closing((uv_handle_t *)&rw->timer))
			uv_close((uv_handle_t *)&rw->timer, NULL);
	}
}

void otf__reshape_free(otf_worker_t *w)
{
	struct otf_reshape_w *rw = w->reshape;
	if (!rw)
		return;
	for (size_t i = 0; i < rw->items_len; i++)
		otf_free(rw->items[i].preds);
	otf_free(rw->items);
	for (size_t i = 0; i < rw->orphans_len; i++) {
		otf__node_free_rt(rw->orphans[i]);
		otf_free(rw->orphans[i]);
	}
	otf_free(rw->orphans);
	otf_free(rw->prep);
	otf_free(rw);
	w->reshape = NULL;
}

/* ---- on the main thread ---- */

/* Runs phase on every worker and waits (bounded); the first error. */
static int run_phase(otf_engine_t *e, reshape_req_t *r, int phase, char *err, size_t errlen)
{
	pthread_mutex_lock(&r->mu);
	r->phase = phase;
	r->error = 0;
	r->err[0] = '\0';
	pthread_mutex_unlock(&r->mu);
	for (int k = 0; k < e->workers_len; k++) {
		reshape_post_t *p = otf_malloc(sizeof *p);
		if (!p)
			continue;
		p->r = r;
		p->w = &e->workers[k];
		pthread_mutex_lock(&r->mu);
		r->refs++;
		r->pending++;
		pthread_mutex_unlock(&r->mu);
		if (otf__worker_post(&e->workers[k], post_cb, p)) {
			otf_free(p);
			pthread_mutex_lock(&r->mu);
			r->refs--;
			r->pending--;
			if (phase == PHASE_PREP && !r->error) {
				r->error = -ECANCELED;
				snprintf(r->err, sizeof r->err, "worker %d is stopping", k);
			}
			pthread_mutex_unlock(&r->mu);
		}
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&r->mu);
	while (r->pending > 0)
		if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) == ETIMEDOUT)
			break;
	int rc = r->pending ? -ETIMEDOUT : r->error;
	if (r->pending)
		snprintf(err, errlen, "%d worker(s) did not answer within %d ms", r->pending,
		         WAIT_MS);
	else if (rc)
		snprintf(err, errlen, "%s", r->err);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

static void dag_old_push(otf_engine_t *e, otf_dag_t *dag, uint32_t *off, uint32_t *preds)
{
	struct otf_dag_old *o = otf_calloc(1, sizeof *o);
	if (!o)
		return; /* kept for the process's lifetime instead */
	o->dag = dag;
	o->pred_off = off;
	o->preds = preds;
	o->next = e->dag_olds;
	e->dag_olds = o;
}

void otf__reshape_engine_free(otf_engine_t *e)
{
	while (e->dag_olds) {
		struct otf_dag_old *o = e->dag_olds;
		e->dag_olds = o->next;
		if (o->dag && o->dag != e->dag0)
			otf_dag_destroy(o->dag);
		otf_free(o->pred_off);
		otf_free(o->preds);
		otf_free(o);
	}
	if (e->dag != e->dag0) {
		otf_dag_destroy(e->dag);
		e->dag = NULL;
	}
}

static void names_add(char *out, size_t cap, size_t *used, const char *what, const char *name)
{
	if (!out || *used >= cap)
		return;
	int k = snprintf(out + *used, cap - *used, "%s%s %s", *used ? ", " : "", name, what);
	if (k > 0)
		*used += (size_t)k;
}

int otf__engine_reshape(otf_engine_t *e, otf_dag_t *next, char *changed, size_t changed_len,
                        char *err, size_t errlen)
{
	otf_dag_t *cur = e->dag;
	otf_dag_diff_t d;
	if (otf__dag_diff(cur, next, &d))
		return errf(err, errlen, OTF_E_NOMEM, "out of memory");
	void **aside = NULL;
	char **aside_canon = NULL;
	bool *is_new = NULL, *removed = NULL;
	uint32_t *off = NULL, *preds = NULL;
	otf_dag_t *m = otf__reshape_build(cur, next, &d, &aside, &aside_canon, &is_new, &removed);
	int rc = 0;
	bool late = false;
	if (!m || otf__dag_preds(m, &off, &preds) || otf__status_grow(e, m->nodes_len)) {
		rc = errf(err, errlen, OTF_E_NOMEM, "out of memory");
		goto refused;
	}
	pthread_mutex_lock(&e->lock);
	void *g = otf_realloc(e->retired, m->nodes_len * sizeof *e->retired);
	if (g) {
		e->retired = g;
		memset(&e->retired[cur->nodes_len], 0,
		       (m->nodes_len - cur->nodes_len) * sizeof *e->retired);
	}
	pthread_mutex_unlock(&e->lock);
	if (!g) {
		rc = errf(err, errlen, OTF_E_NOMEM, "out of memory");
		goto refused;
	}
	/* A receiver replaced by one of the same type (its signals changed)
	 * hands its listening sockets over, as a rebuild does. */
	struct otf__net_hold **holds = otf_calloc(m->nodes_len, sizeof *holds);
	for (size_t i = 0; holds && i < cur->nodes_len; i++) {
		if (!removed[i])
			continue;
		int j = otf_dag_find(m, cur->nodes[i].name);
		if (j >= 0 && m->nodes[j].factory == cur->nodes[i].factory)
			holds[j] = otf__rebuild_hold(&cur->nodes[i], m->nodes[j].config);
	}
	reshape_req_t *r = otf_calloc(1, sizeof *r);
	if (!r) {
		otf_free(holds);
		rc = errf(err, errlen, OTF_E_NOMEM, "out of memory");
		goto refused;
	}
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
	r->refs = 1;
	r->e = e;
	r->m = m;
	r->pred_off = off;
	r->preds = preds;
	r->is_new = is_new;
	r->removed = removed;
	r->cur = cur;
	r->cur_off = e->pred_off;
	r->cur_preds = e->preds;
	char perr[320];
	rc = run_phase(e, r, PHASE_PREP, perr, sizeof perr);
	bool committed = false;
	if (!rc) {
		rc = run_phase(e, r, PHASE_COMIT, perr, sizeof perr);
		committed = true; /* a worker that timed out still commits */
	} else {
		run_phase(e, r, PHASE_ABORT, perr + strlen(perr), 0);
	}
	for (size_t i = 0; holds && i < m->nodes_len; i++)
		if (holds[i])
			otf__rebuild_release(holds[i], committed);
	otf_free(holds);
	/* The workers read these until the engine ends. */
	pthread_mutex_lock(&r->mu);
	late = r->pending > 0;
	req_unref_locked(r);
	if (!committed) {
		otf__reshape_unborrow(cur, m, aside, aside_canon);
		dag_old_push(e, m, off, preds); /* orphans may point at it */
		m = NULL;
		rc = errf(err, errlen, OTF_E_IO, "%s", perr);
		goto out;
	}
	/* Switched. cur's nodes now belong to m (kept configs, tombstones). */
	pthread_mutex_lock(&e->lock);
	uint32_t *old_off = e->pred_off, *old_preds = e->preds;
	e->pred_off = off;
	e->preds = preds;
	e->dag = m;
	pthread_mutex_unlock(&e->lock);
	atomic_store_explicit(&e->nodes_ready, m->nodes_len, memory_order_release);
	for (size_t i = 0; i < cur->nodes_len; i++) {
		cur->nodes[i].config = NULL;
		if (m->nodes[i].config_canon == cur->nodes[i].config_canon)
			cur->nodes[i].config_canon = NULL;
	}
	/* A worker that did not answer may still read cur: it stays. */
	dag_old_push(e, cur == e->dag0 || late ? NULL : cur, old_off, old_preds);
	if (late)
		otf_log(OTF_LOG_WARN, "engine", "reload: %s", perr);
	size_t used = 0;
	if (changed && changed_len)
		changed[0] = '\0';
	int n = 0;
	for (size_t i = 0; i < cur->nodes_len; i++)
		if (removed[i] && otf_dag_find(m, m->nodes[i].name) < 0) {
			names_add(changed, changed_len, &used, "removed", m->nodes[i].name);
			n++;
		}
	for (size_t i = 0; i < m->nodes_len; i++)
		if (is_new[i]) {
			/* Of the same id as a removed one: its type, signals or
			 * output ports changed. */
			bool re = otf__dag_live_node(cur, m->nodes[i].name) >= 0;
			names_add(changed, changed_len, &used, re ? "replaced" : "added",
			          m->nodes[i].name);
			n++;
		}
	for (size_t j = 0; j < next->nodes_len; j++) {
		if (d.state[j] != OTF_DIFF_KEPT || (!d.changed[j] && !d.rewired[j]))
			continue;
		size_t i = (size_t)d.from[j];
		n++;
		if (!d.changed[j]) {
			names_add(changed, changed_len, &used, "rewired", m->nodes[i].name);
			continue;
		}
		/* Its new config, by CFG as on a reload of the same shape. */
		char e1[512];
		void *config = aside[i];
		char *canon = aside_canon[i];
		aside[i] = NULL;
		aside_canon[i] = NULL;
		int x = otf__engine_reconfigure(e, m->nodes[i].name, config, canon, e1, sizeof e1);
		names_add(changed, changed_len, &used,
		          x ? "(its new config failed)" : "reconfigured", m->nodes[i].name);
		if (x)
			otf_log(OTF_LOG_ERROR, "engine", "reload: %s: %s", m->nodes[i].name, e1);
	}
	rc = n;
	goto out;
refused:
	if (m) {
		otf__reshape_unborrow(cur, m, aside, aside_canon);
		otf_dag_destroy(m);
	} else if (aside) {
		for (size_t i = 0; i < cur->nodes_len + d.added; i++)
			otf_free(aside_canon[i]);
	}
	otf_free(off);
	otf_free(preds);
out:
	if (!late) {
		otf_free(is_new);
		otf_free(removed);
	}
	/* Configs of kept nodes whose text did not change: unused. */
	for (size_t i = 0; aside && i < cur->nodes_len; i++) {
		if (aside[i])
			otf__component_config_free(cur->nodes[i].factory, aside[i]);
		if (aside_canon)
			otf_free(aside_canon[i]);
	}
	otf_free(aside);
	otf_free(aside_canon);
	otf__dag_diff_free(&d);
	return rc;
}
