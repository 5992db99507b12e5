/* Engine: worker threads, each with its own libuv loop and its own instance
 * of every live node (share-nothing), and the receiver-first shutdown:
 *   1. KIL to receivers: stop accepting, answer in-flight requests;
 *   2. KIL to each processor and connector once its predecessors are done
 *      and its channel is empty (topological order): flush;
 *   3. KIL to exporters likewise, once nothing is in flight upstream;
 *   4. destroy everything once every node reported done and no message is
 *      alive, or at the deadline (what is still alive is counted).
 */
#include "engine/engine_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* What otf_engine_join waits beyond shutdown_timeout: a worker that met
 * its own deadline still destroys its instances and closes its handles. */
#define JOIN_GRACE_MS 1000

void otf_runtime_config_defaults(otf_runtime_config_t *rt)
{
	rt->workers = 0;
	rt->channel_capacity = 128;
	rt->control_capacity = 1024;
	rt->shutdown_timeout_ms = 10000;
	rt->fuse = true;
}

/* A node gets KIL once everything that feeds it has finished and nothing
 * is queued for it: KIL is handled before data in a turn, so a KIL sent
 * while a predecessor still flushes, or while messages wait in the node's
 * channel, would reach it before that data. Receivers have no
 * predecessors and go first; this is the receiver-first order, node by
 * node along the topological order. */
static bool kil_ready(otf_worker_t *w, const otf_node_t *n)
{
	if (n->data.len)
		return false;
	for (uint32_t k = w->pred_off[n->index]; k < w->pred_off[n->index + 1]; k++) {
		const otf_node_t *p = w->nodes[w->preds[k]];
		if (!p->shutdown_done || p->data.len)
			return false;
	}
	return true;
}

static void finish(otf_worker_t *w);

/* Advances shutdown: sends KIL to every node that became ready, and ends
 * the worker once every node reported done and no message is alive. Runs
 * from the engine's timers only, never inside a component callback, so
 * finish() never destroys an instance whose code is still running. */
static void shutdown_step(otf_worker_t *w)
{
	if (w->phase != 1)
		return;
	const otf_dag_t *dag = w->dag;
	bool all_done = true;
	for (size_t k = 0; k < dag->order_len; k++) {
		otf_node_t *n = w->nodes[dag->order[k]];
		if (!n->kil_sent && kil_ready(w, n)) {
			n->kil_sent = true;
			if (!n->def->factory->control || !n->instance) {
				n->shutdown_done = true;
			} else {
				otf_ctrl_t c;
				memset(&c, 0, sizeof c);
				c.type = OTF_CTRL_KIL;
				otf__node_post_ctrl(n, &c);
			}
		}
		if (!n->shutdown_done)
			all_done = false;
	}
	if (all_done && w->live_msgs == 0 && !w->run_head)
		finish(w);
}

static void step_timer_cb(uv_timer_t *t)
{
	shutdown_step(t->data);
}

static void deadline_cb(uv_timer_t *t)
{
	otf_worker_t *w = t->data;
	if (w->phase != 1)
		return;
	/* Fan-out copies are parts of their parent: count messages, not parts. */
	w->undelivered = w->live_msgs - w->live_children;
	if (w->undelivered)
		otf_log(OTF_LOG_ERROR, "engine",
		        "worker %d: shutdown deadline reached with %llu message(s) undelivered",
		        w->index, (unsigned long long)w->undelivered);
	else
		otf_log(OTF_LOG_WARN, "engine",
		        "worker %d: shutdown deadline reached before every component finished",
		        w->index);
	finish(w);
}

void otf_node_shutdown_done(otf_node_t *node)
{
	otf_worker_t *w = node->worker;
	/* Atomic: a join that gives up reads it from the main thread. */
	__atomic_store_n(&node->shutdown_done, true, __ATOMIC_RELAXED);
	/* Usually called from the node's own control callback: step on the
	 * next loop turn rather than here, where finishing would destroy the
	 * caller's instance under it. */
	if (w->phase == 1)
		uv_timer_start(&w->step_timer, step_timer_cb, 0, 5);
}

static void wake_cb(uv_async_t *a)
{
	otf_worker_t *w = a->data;
	if (!atomic_load(&w->stop_requested) || w->phase != 0)
		return;
	__atomic_store_n(&w->phase, 1, __ATOMIC_RELAXED);
	uv_timer_start(&w->deadline_timer, deadline_cb, w->engine->rt.shutdown_timeout_ms, 0);
	uv_timer_start(&w->step_timer, step_timer_cb, 5, 5);
	shutdown_step(w);
}

static void close_walk_cb(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* Destroys instances (they close their own handles), frees what is still
 * queued, then closes the engine's handles so uv_run returns. */
static void finish(otf_worker_t *w)
{
	if (w->phase >= 2)
		return;
	__atomic_store_n(&w->phase, 2, __ATOMIC_RELAXED);
	const otf_dag_t *dag = w->dag;
	/* Completions already posted are delivered; none can come after the
	 * instances are destroyed (a component's threads end in destroy). */
	otf__worker_async_close(w);
	for (size_t k = 0; w->nodes && k < dag->order_len; k++) {
		otf_node_t *n = w->nodes[dag->order[k]];
		otf__node_rebuild_close(n);
		if (n->instance && n->def->factory->destroy)
			n->def->factory->destroy(n->instance);
		n->instance = NULL;
	}
	otf__reshape_finish(w); /* nodes removed by a reload, still draining */
	otf__worker_close_timers(w);
	uv_timer_stop(&w->deadline_timer);
	uv_timer_stop(&w->step_timer);
	uv_idle_stop(&w->pump);
	uv_close((uv_handle_t *)&w->deadline_timer, NULL);
	uv_close((uv_handle_t *)&w->step_timer, NULL);
	uv_close((uv_handle_t *)&w->pump, NULL);
	/* request_stop may run on another thread at any time: it must not
	 * send to a closed handle (the loop's fd is gone after this). */
	pthread_mutex_lock(&w->engine->lock);
	w->wake_open = false;
	pthread_mutex_unlock(&w->engine->lock);
	uv_close((uv_handle_t *)&w->wake, NULL);
}

/* Frees one node's rings (what is still queued discarded) and ports. */
void otf__node_free_rt(otf_node_t *n)
{
	if (n->data.slots) {
		otf_msg_t *m;
		while (n->data.len) {
			memcpy(&m, (char *)n->data.slots + (size_t)n->data.head * n->data.elem,
			       sizeof m);
			n->data.head = (n->data.head + 1) % n->data.cap;
			n->data.len--;
			/* A fan-out copy releases its join: the parent goes
				 * with the last copy instead of leaking. */
			otf__msg_discard(m);
		}
	}
	otf__ring_close(&n->data);
	if (n->control.slots) {
		otf_ctrl_t *c = n->control.slots;
		for (uint32_t k = 0; k < n->control.len; k++) {
			otf_ctrl_t *x = &c[(n->control.head + k) % n->control.cap];
			if (x->type == OTF_CTRL_CFG)
				otf__node_cfg_discard(x);
			otf_buf_unref(x->payload);
			if (x->msg)
				otf__msg_discard(x->msg);
		}
	}
	otf__ring_close(&n->control);
	for (uint32_t p = 0; p < n->nports; p++)
		for (int s = 0; s < OTF_SIGNAL_COUNT; s++)
			otf_free(n->ports[p].out[s]);
	otf_free(n->ports);
	n->ports = NULL;
	n->nports = 0;
}

/* Node i's counters on one worker (nodes) added to dst, its items and
 * messages out on fused edges read from the node they lead to: what it
 * consumed not through its channel (otf_node_t.ring_in). */
static void add_counters(const otf_dag_t *dag, otf_node_t *const *nodes, size_t len, uint32_t i,
                         uint64_t dst[OTF_COUNTER_COUNT_][OTF_SIGNAL_COUNT])
{
	const otf_node_t *nd = nodes[i];
	for (int c = 0; c < OTF_COUNTER_COUNT_; c++)
		for (int s = 0; s < OTF_SIGNAL_COUNT; s++)
			dst[c][s] +=
			    atomic_load_explicit(&nd->counters[c][s], memory_order_relaxed);
	if (i >= dag->nodes_len)
		return; /* a reload switching: a node of the next DAG */
	/* A fused node's edges all lead to one successor (fuse.c). */
	const otf_dag_node_t *def = &dag->nodes[i];
	for (size_t ed = 0; ed < def->edges_len; ed++) {
		if (!def->edges[ed].fused)
			continue;
		if (def->edges[ed].to >= len)
			break; /* a reload switching: the edges of the next DAG */
		const otf_node_t *to = nodes[def->edges[ed].to];
		for (int k = 0; k < 2; k++) {
			otf_node_counter_t in = k ? OTF_COUNTER_MSGS_IN : OTF_COUNTER_ITEMS_IN;
			otf_node_counter_t out = k ? OTF_COUNTER_MSGS_OUT : OTF_COUNTER_ITEMS_OUT;
			for (int s = 0; s < OTF_SIGNAL_COUNT; s++) {
				/* ring_in first: it is counted before the in. */
				uint64_t ring =
				    atomic_load_explicit(&to->ring_in[k][s], memory_order_relaxed);
				uint64_t all = atomic_load_explicit(&to->counters[in][s],
				                                    memory_order_relaxed);
				dst[out][s] += all > ring ? all - ring : 0;
			}
		}
		break;
	}
}

static void free_nodes(otf_worker_t *w)
{
	otf_engine_t *e = w->engine;
	pthread_mutex_lock(&e->lock);
	otf_node_t **nodes = w->nodes;
	size_t len = w->nodes_len;
	w->nodes = NULL;
	w->nodes_len = 0;
	for (size_t i = 0; nodes && i < len; i++)
		add_counters(e->dag, nodes, len, (uint32_t)i, e->retired[i]);
	pthread_mutex_unlock(&e->lock);
	for (size_t i = 0; nodes && i < len; i++) {
		otf__node_free_rt(nodes[i]);
		/* The block holds the nodes the worker started with; those a
		 * reload added have their own allocation. */
		if (i >= w->node_block_len)
			otf_free(nodes[i]);
	}
	otf_free(w->node_block);
	w->node_block = NULL;
	otf_free(nodes);
	otf__reshape_free(w);
	otf__budget_close(w);
	otf__cancel_close(w);
}

static int instantiate(otf_worker_t *w)
{
	otf_engine_t *e = w->engine;
	const otf_dag_t *dag = e->dag;
	otf_node_t *block = otf_calloc(dag->nodes_len, sizeof *block);
	otf_node_t **nodes = otf_calloc(dag->nodes_len, sizeof *nodes);
	if (!block || !nodes) {
		otf_free(block);
		otf_free(nodes);
		return OTF_E_NOMEM;
	}
	for (size_t i = 0; i < dag->nodes_len; i++) {
		nodes[i] = &block[i];
		nodes[i]->def = &dag->nodes[i];
		nodes[i]->index = (uint32_t)i;
		nodes[i]->worker = w;
	}
	w->node_block = block;
	w->node_block_len = dag->nodes_len;
	w->dag = dag;
	w->pred_off = e->pred_off;
	w->preds = e->preds;
	w->nodes_span = dag->nodes_len;
	pthread_mutex_lock(&e->lock);
	w->nodes = nodes;
	w->nodes_len = dag->nodes_len;
	pthread_mutex_unlock(&e->lock);
	for (size_t k = 0; k < dag->order_len; k++) {
		uint32_t i = dag->order[k];
		otf_node_t *n = w->nodes[i];
		n->def = &dag->nodes[i];
		n->index = i;
		n->worker = w;
		int rc = otf__ring_init(&n->data, sizeof(otf_msg_t *), e->rt.channel_capacity);
		if (!rc)
			rc =
			    otf__ring_init(&n->control, sizeof(otf_ctrl_t), e->rt.control_capacity);
		if (rc)
			return rc;
		rc = otf__node_wire(n, w->nodes, dag);
		if (rc)
			return rc;
	}
	/* Create and start sinks first, so a receiver never sends into a node
	 * that does not exist yet. */
	for (size_t k = dag->order_len; k-- > 0;) {
		otf_node_t *n = w->nodes[dag->order[k]];
		const otf_component_factory_t *f = n->def->factory;
		uint32_t sigs = n->def->in_signals | n->def->out_signals;
		for (int s = 0; s < OTF_SIGNAL_COUNT; s++) {
			if (!(sigs & OTF_SIGNAL_BIT(s)) || !f->create[s])
				continue;
			otf_create_ctx_t ctx = {
			    .node = n, .config = n->def->config, .signal = (otf_signal_t)s};
			int rc = f->create[s](&ctx, &n->instance);
			if (rc) {
				otf_log(OTF_LOG_ERROR, "engine", "%s '%s': create failed: %s",
				        otf_component_kind_name(n->def->kind), n->def->name,
				        otf_strerror(rc));
				return rc;
			}
		}
	}
	for (size_t k = dag->order_len; k-- > 0;) {
		otf_node_t *n = w->nodes[dag->order[k]];
		if (n->instance && n->def->factory->start) {
			int rc = n->def->factory->start(n->instance);
			if (rc) {
				otf_log(OTF_LOG_ERROR, "engine", "%s '%s': start failed: %s",
				        otf_component_kind_name(n->def->kind), n->def->name,
				        otf_strerror(rc));
				return rc;
			}
		}
	}
	return 0;
}

static void *worker_main(void *arg)
{
	otf_worker_t *w = arg;
	int rc = instantiate(w);
	w->start_error = rc;
	uv_sem_post(&w->engine->started);
	if (rc) {
		/* Undo: destroy what was created, then close everything. */
		finish(w);
	}
	uv_run(&w->loop, UV_RUN_DEFAULT);
	uv_walk(&w->loop, close_walk_cb, NULL);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	uv_loop_close(&w->loop);
	free_nodes(w);
	return NULL;
}

static int worker_init(otf_worker_t *w, otf_engine_t *e, int index)
{
	w->engine = e;
	w->index = index;
	int rc = uv_loop_init(&w->loop);
	if (rc)
		return rc;
	uv_idle_init(&w->loop, &w->pump);
	w->pump.data = w;
	uv_async_init(&w->loop, &w->wake, wake_cb);
	w->wake.data = w;
	w->wake_open = true;
	otf__worker_async_init(w);
	uv_timer_init(&w->loop, &w->deadline_timer);
	w->deadline_timer.data = w;
	uv_timer_init(&w->loop, &w->step_timer);
	w->step_timer.data = w;
	return 0;
}

/* Loop handles of a worker whose thread never ran. */
static void worker_close_unstarted(otf_worker_t *w)
{
	uv_walk(&w->loop, close_walk_cb, NULL);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	uv_loop_close(&w->loop);
}

/* Live predecessors of every node (edges between live nodes), for the
 * shutdown order. */
int otf__dag_preds(const otf_dag_t *dag, uint32_t **off, uint32_t **preds_out)
{
	uint32_t *pred_off = otf_calloc(dag->nodes_len + 1, sizeof *pred_off);
	*off = pred_off;
	*preds_out = NULL;
	if (!pred_off)
		return OTF_E_NOMEM;
	size_t total = 0;
	for (size_t i = 0; i < dag->nodes_len; i++) {
		const otf_dag_node_t *n = &dag->nodes[i];
		for (size_t ed = 0; !n->removed && ed < n->edges_len; ed++)
			if (!dag->nodes[n->edges[ed].to].removed) {
				pred_off[n->edges[ed].to + 1]++;
				total++;
			}
	}
	for (size_t i = 0; i < dag->nodes_len; i++)
		pred_off[i + 1] += pred_off[i];
	uint32_t *preds = otf_calloc(total ? total : 1, sizeof *preds);
	*preds_out = preds;
	uint32_t *fill = otf_calloc(dag->nodes_len, sizeof *fill);
	if (!preds || !fill) {
		otf_free(fill);
		return OTF_E_NOMEM;
	}
	for (size_t i = 0; i < dag->nodes_len; i++) {
		const otf_dag_node_t *n = &dag->nodes[i];
		for (size_t ed = 0; !n->removed && ed < n->edges_len; ed++) {
			uint32_t t = n->edges[ed].to;
			if (!dag->nodes[t].removed)
				preds[pred_off[t] + fill[t]++] = (uint32_t)i;
		}
	}
	otf_free(fill);
	return 0;
}

static int build_preds(otf_engine_t *e)
{
	return otf__dag_preds(e->dag, &e->pred_off, &e->preds);
}

static void engine_free(otf_engine_t *e)
{
	uv_sem_destroy(&e->started);
	pthread_mutex_destroy(&e->lock);
	otf_free(e->pred_off);
	otf_free(e->preds);
	otf_free(e->retired);
	otf_free(e->workers);
	otf__engine_reconfig_free(e);
	otf__reshape_engine_free(e);
	otf__status_free(e);
	otf_free(e);
}

int otf_engine_start(otf_dag_t *dag, const otf_runtime_config_t *rt, otf_engine_t **out)
{
	if (!dag->compiled)
		return OTF_E_INVAL;
	char xerr[512];
	int xrc = otf__dag_extensions_start(dag, xerr, sizeof xerr);
	if (xrc) {
		otf_log(OTF_LOG_ERROR, "engine", "%s", xerr);
		return xrc;
	}
	otf_engine_t *e = otf_calloc(1, sizeof *e);
	if (!e)
		return OTF_E_NOMEM;
	e->dag = dag;
	e->dag0 = dag;
	e->nodes_ready = dag->nodes_len;
	e->rt = *rt;
	if (!e->rt.workers) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		e->rt.workers = n > 0 ? (uint32_t)n : 1;
	}
	if (!e->rt.channel_capacity)
		e->rt.channel_capacity = 128;
	if (!e->rt.control_capacity)
		e->rt.control_capacity = 1024;
	e->workers = otf_calloc(e->rt.workers, sizeof *e->workers);
	e->retired = otf_calloc(dag->nodes_len, sizeof *e->retired);
	if (!e->workers || !e->retired || build_preds(e) || otf__status_init(e) ||
	    uv_sem_init(&e->started, 0)) {
		otf__status_free(e);
		otf_free(e->pred_off);
		otf_free(e->preds);
		otf_free(e->retired);
		otf_free(e->workers);
		otf_free(e);
		return OTF_E_NOMEM;
	}
	pthread_mutex_init(&e->lock, NULL);
	int rc = 0;
	for (uint32_t i = 0; i < e->rt.workers; i++) {
		rc = worker_init(&e->workers[i], e, (int)i);
		if (rc)
			break;
		rc = pthread_create(&e->workers[i].thread, NULL, worker_main, &e->workers[i]);
		if (rc) {
			rc = -rc;
			worker_close_unstarted(&e->workers[i]);
			break;
		}
		e->workers_len++;
		uv_sem_wait(&e->started);
		if (e->workers[i].start_error) {
			rc = e->workers[i].start_error;
			break;
		}
	}
	if (rc) {
		otf_engine_request_stop(e);
		otf_engine_join(e);
		return rc;
	}
	*out = e;
	return 0;
}

int otf_engine_workers(const otf_engine_t *e)
{
	return e->workers_len;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void otf_engine_request_stop(otf_engine_t *e)
{
	uint64_t none = 0;
	atomic_compare_exchange_strong(&e->stop_requested_ns, &none, mono_ns());
	for (int i = 0; i < e->workers_len; i++) {
		otf_worker_t *w = &e->workers[i];
		if (atomic_exchange(&w->stop_requested, 1))
			continue;
		/* A worker that failed to start, or already finished, has closed
		 * its loop: sending then would write to a closed descriptor. */
		pthread_mutex_lock(&e->lock);
		if (w->wake_open)
			uv_async_send(&w->wake);
		pthread_mutex_unlock(&e->lock);
	}
}

/* Says what a worker that did not stop is still running: the components
 * that have not reported done, or that it never saw the stop request
 * (its loop is stuck inside some callback). */
static void report_stuck(otf_engine_t *e, otf_worker_t *w)
{
	char what[512];
	size_t len = 0;
	what[0] = '\0';
	pthread_mutex_lock(&e->lock);
	const otf_dag_t *dag = e->dag;
	for (size_t k = 0; w->nodes && k < dag->order_len; k++) {
		if (dag->order[k] >= w->nodes_len)
			continue;
		const otf_node_t *n = w->nodes[dag->order[k]];
		if (__atomic_load_n(&n->shutdown_done, __ATOMIC_RELAXED) || len >= sizeof what)
			continue;
		/* The name is "kind:type/name", as in the other engine logs. */
		int m =
		    snprintf(what + len, sizeof what - len, "%s%s", len ? ", " : "", n->def->name);
		if (m > 0)
			len += (size_t)m;
	}
	pthread_mutex_unlock(&e->lock);
	int phase = __atomic_load_n(&w->phase, __ATOMIC_RELAXED);
	otf_log(OTF_LOG_ERROR, "engine",
	        "worker %d did not stop within shutdown_timeout (%llu ms)%s; not stopped: %s",
	        w->index, (unsigned long long)e->rt.shutdown_timeout_ms,
	        phase == 0 ? ", its loop never took the stop request (stuck in a callback)" : "",
	        len ? what : "its loop (every component reported done)");
}

/* Joins one worker, waiting until deadline_ns (CLOCK_MONOTONIC, 0 =
 * forever); false if it is still running then. */
static bool join_worker(otf_worker_t *w, uint64_t deadline_ns)
{
	if (w->joined)
		return true;
	int rc;
	if (!deadline_ns) {
		rc = pthread_join(w->thread, NULL);
	} else {
		struct timespec ts = {.tv_sec = (time_t)(deadline_ns / 1000000000u),
		                      .tv_nsec = (long)(deadline_ns % 1000000000u)};
		rc = pthread_clockjoin_np(w->thread, NULL, CLOCK_MONOTONIC, &ts);
	}
	w->joined = rc == 0;
	return w->joined;
}

int64_t otf_engine_join(otf_engine_t *e)
{
	uint64_t stop_ns = atomic_load(&e->stop_requested_ns);
	uint64_t deadline_ns =
	    stop_ns ? stop_ns + (e->rt.shutdown_timeout_ms + JOIN_GRACE_MS) * 1000000u : 0;
	bool stuck = false;
	for (int i = 0; i < e->workers_len; i++)
		if (!join_worker(&e->workers[i], deadline_ns)) {
			if (!e->workers[i].reported_stuck)
				report_stuck(e, &e->workers[i]);
			e->workers[i].reported_stuck = true; /* once, however often joined */
			stuck = true;
		}
	/* The stuck threads still use the engine: it stays allocated. */
	if (stuck)
		return -ETIMEDOUT;
	int64_t undelivered = 0;
	int err = 0;
	for (int i = 0; i < e->workers_len; i++) {
		undelivered += (int64_t)e->workers[i].undelivered;
		if (e->workers[i].start_error)
			err = e->workers[i].start_error;
	}
	engine_free(e);
	return err ? err : undelivered;
}

size_t otf_engine_stats(otf_engine_t *e, otf_node_stats_t *out, size_t cap)
{
	const otf_dag_t *dag = e->dag;
	size_t n = 0;
	/* Workers free their nodes at the end of shutdown; the lock keeps
	 * them alive while read, and what they counted stays in retired. */
	pthread_mutex_lock(&e->lock);
	for (size_t k = 0; k < dag->order_len; k++) {
		uint32_t i = dag->order[k];
		if (n < cap) {
			otf_node_stats_t *st = &out[n];
			memset(st, 0, sizeof *st);
			st->name = dag->nodes[i].name;
			st->kind = dag->nodes[i].kind;
			st->type = dag->nodes[i].type;
			for (int c = 0; c < OTF_COUNTER_COUNT_; c++)
				for (int s = 0; s < OTF_SIGNAL_COUNT; s++)
					st->counters[c][s] = e->retired[i][c][s];
			for (int wi = 0; wi < e->workers_len; wi++) {
				otf_worker_t *w = &e->workers[wi];
				if (!w->nodes || i >= w->nodes_len)
					continue;
				otf_node_t *nd = w->nodes[i];
				add_counters(dag, w->nodes, w->nodes_len, i, st->counters);
				st->queue_depth +=
				    atomic_load_explicit(&nd->queue_depth, memory_order_relaxed);
			}
			otf__status_fill(e, i, st);
		}
		n++;
	}
	pthread_mutex_unlock(&e->lock);
	return n;
}
