/* Engine: worker threads, each with its own libuv loop and its own instance
 * of every live node (share-nothing), and the receiver-first shutdown:
 *   1. KIL to receivers: stop accepting, answer in-flight requests;
 *   2. KIL to processors and connectors, in topological order: flush;
 *   3. KIL to exporters once nothing is in flight upstream: finish sends;
 *   4. destroy everything once every node reported done and no message is
 *      alive, or at the deadline (what is still alive is counted).
 */
#include "engine/engine_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <string.h>
#include <unistd.h>

void otf_runtime_config_defaults(otf_runtime_config_t *rt)
{
	rt->workers = 0;
	rt->channel_capacity = 128;
	rt->control_capacity = 1024;
	rt->shutdown_timeout_ms = 10000;
}

static bool stage_done(otf_worker_t *w, int stage)
{
	const otf_dag_t *dag = w->engine->dag;
	for (size_t k = 0; k < dag->order_len; k++) {
		otf_node_t *n = &w->nodes[dag->order[k]];
		int st = n->def->kind == OTF_KIND_RECEIVER   ? 1
		         : n->def->kind == OTF_KIND_EXPORTER ? 3
		                                             : 2;
		if (st == stage && !n->shutdown_done)
			return false;
	}
	return true;
}

static void send_kil(otf_worker_t *w, int stage)
{
	const otf_dag_t *dag = w->engine->dag;
	for (size_t k = 0; k < dag->order_len; k++) {
		otf_node_t *n = &w->nodes[dag->order[k]];
		int st = n->def->kind == OTF_KIND_RECEIVER   ? 1
		         : n->def->kind == OTF_KIND_EXPORTER ? 3
		                                             : 2;
		if (st != stage || n->kil_sent)
			continue;
		n->kil_sent = true;
		if (!n->def->factory->control) {
			n->shutdown_done = true;
			continue;
		}
		otf_ctrl_t c;
		memset(&c, 0, sizeof c);
		c.type = OTF_CTRL_KIL;
		otf__node_post_ctrl(n, &c);
	}
}

static void finish(otf_worker_t *w);

/* Advances the shutdown state machine; called from a 5 ms timer while
 * shutting down and whenever a node reports done. */
static void shutdown_step(otf_worker_t *w)
{
	if (w->phase == 0 || w->phase >= 4)
		return;
	if (w->phase == 1) {
		send_kil(w, 1);
		if (!stage_done(w, 1))
			return;
		w->phase = 2;
	}
	if (w->phase == 2) {
		send_kil(w, 2);
		if (!stage_done(w, 2))
			return;
		w->phase = 3;
	}
	if (w->phase == 3) {
		send_kil(w, 3);
		if (!stage_done(w, 3) || w->live_msgs > 0 || w->run_head)
			return;
		finish(w);
	}
}

static void step_timer_cb(uv_timer_t *t)
{
	shutdown_step(t->data);
}

static void deadline_cb(uv_timer_t *t)
{
	otf_worker_t *w = t->data;
	if (w->phase >= 4)
		return;
	w->undelivered = w->live_msgs;
	if (w->live_msgs)
		otf_log(OTF_LOG_ERROR, "engine",
		        "worker %d: shutdown deadline reached with %llu message(s) undelivered",
		        w->index, (unsigned long long)w->live_msgs);
	else
		otf_log(OTF_LOG_WARN, "engine",
		        "worker %d: shutdown deadline reached before every component finished",
		        w->index);
	finish(w);
}

void otf_node_shutdown_done(otf_node_t *node)
{
	node->shutdown_done = true;
	shutdown_step(node->worker);
}

static void wake_cb(uv_async_t *a)
{
	otf_worker_t *w = a->data;
	if (!atomic_load(&w->stop_requested) || w->phase != 0)
		return;
	w->phase = 1;
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
	if (w->phase >= 4)
		return;
	w->phase = 4;
	const otf_dag_t *dag = w->engine->dag;
	for (size_t k = 0; k < dag->order_len; k++) {
		otf_node_t *n = &w->nodes[dag->order[k]];
		if (n->instance && n->def->factory->destroy)
			n->def->factory->destroy(n->instance);
		n->instance = NULL;
	}
	otf__worker_close_timers(w);
	uv_timer_stop(&w->deadline_timer);
	uv_timer_stop(&w->step_timer);
	uv_idle_stop(&w->pump);
	uv_close((uv_handle_t *)&w->deadline_timer, NULL);
	uv_close((uv_handle_t *)&w->step_timer, NULL);
	uv_close((uv_handle_t *)&w->pump, NULL);
	uv_close((uv_handle_t *)&w->wake, NULL);
}

static void free_nodes(otf_worker_t *w)
{
	const otf_dag_t *dag = w->engine->dag;
	if (!w->nodes)
		return;
	for (size_t i = 0; i < dag->nodes_len; i++) {
		otf_node_t *n = &w->nodes[i];
		if (n->data.slots) {
			otf_msg_t *m;
			while (n->data.len) {
				memcpy(&m,
				       (char *)n->data.slots + (size_t)n->data.head * n->data.elem,
				       sizeof m);
				n->data.head = (n->data.head + 1) % n->data.cap;
				n->data.len--;
				m->join = NULL; /* the join dies with the worker */
				otf__msg_free(m);
			}
		}
		otf__ring_close(&n->data);
		if (n->control.slots) {
			otf_ctrl_t *c = n->control.slots;
			for (uint32_t k = 0; k < n->control.len; k++) {
				otf_ctrl_t *x = &c[(n->control.head + k) % n->control.cap];
				otf_buf_unref(x->payload);
			}
		}
		otf__ring_close(&n->control);
		for (int s = 0; s < OTF_SIGNAL_COUNT; s++)
			otf_free(n->out[s]);
	}
	otf_free(w->nodes);
	w->nodes = NULL;
}

static int instantiate(otf_worker_t *w)
{
	otf_engine_t *e = w->engine;
	const otf_dag_t *dag = e->dag;
	w->nodes = otf_calloc(dag->nodes_len, sizeof *w->nodes);
	if (!w->nodes)
		return OTF_E_NOMEM;
	for (size_t k = 0; k < dag->order_len; k++) {
		uint32_t i = dag->order[k];
		otf_node_t *n = &w->nodes[i];
		n->def = &dag->nodes[i];
		n->index = i;
		n->worker = w;
		int rc = otf__ring_init(&n->data, sizeof(otf_msg_t *), e->rt.channel_capacity);
		if (!rc)
			rc =
			    otf__ring_init(&n->control, sizeof(otf_ctrl_t), e->rt.control_capacity);
		if (rc)
			return rc;
		for (int s = 0; s < OTF_SIGNAL_COUNT; s++) {
			uint32_t cnt = 0;
			for (size_t ed = 0; ed < n->def->edges_len; ed++)
				if ((n->def->edges[ed].signals & OTF_SIGNAL_BIT(s)) &&
				    !dag->nodes[n->def->edges[ed].to].removed)
					cnt++;
			if (!cnt)
				continue;
			n->out[s] = otf_calloc(cnt, sizeof(otf_node_t *));
			if (!n->out[s])
				return OTF_E_NOMEM;
			for (size_t ed = 0; ed < n->def->edges_len; ed++)
				if ((n->def->edges[ed].signals & OTF_SIGNAL_BIT(s)) &&
				    !dag->nodes[n->def->edges[ed].to].removed)
					n->out[s][n->out_len[s]++] =
					    &w->nodes[n->def->edges[ed].to];
		}
	}
	/* Create and start sinks first, so a receiver never sends into a node
	 * that does not exist yet. */
	for (size_t k = dag->order_len; k-- > 0;) {
		otf_node_t *n = &w->nodes[dag->order[k]];
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
		otf_node_t *n = &w->nodes[dag->order[k]];
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
	uv_timer_init(&w->loop, &w->deadline_timer);
	w->deadline_timer.data = w;
	uv_timer_init(&w->loop, &w->step_timer);
	w->step_timer.data = w;
	return 0;
}

int otf_engine_start(otf_dag_t *dag, const otf_runtime_config_t *rt, otf_engine_t **out)
{
	if (!dag->compiled)
		return OTF_E_INVAL;
	otf_engine_t *e = otf_calloc(1, sizeof *e);
	if (!e)
		return OTF_E_NOMEM;
	e->dag = dag;
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
	if (!e->workers || uv_sem_init(&e->started, 0)) {
		otf_free(e->workers);
		otf_free(e);
		return OTF_E_NOMEM;
	}
	int rc = 0;
	for (uint32_t i = 0; i < e->rt.workers; i++) {
		rc = worker_init(&e->workers[i], e, (int)i);
		if (rc)
			break;
		rc = pthread_create(&e->workers[i].thread, NULL, worker_main, &e->workers[i]);
		if (rc) {
			rc = -rc;
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

void otf_engine_request_stop(otf_engine_t *e)
{
	for (int i = 0; i < e->workers_len; i++) {
		atomic_store(&e->workers[i].stop_requested, 1);
		uv_async_send(&e->workers[i].wake);
	}
}

int64_t otf_engine_join(otf_engine_t *e)
{
	int64_t undelivered = 0;
	int err = 0;
	for (int i = 0; i < e->workers_len; i++) {
		pthread_join(e->workers[i].thread, NULL);
		undelivered += (int64_t)e->workers[i].undelivered;
		if (e->workers[i].start_error)
			err = e->workers[i].start_error;
	}
	uv_sem_destroy(&e->started);
	otf_free(e->workers);
	otf_free(e);
	return err ? err : undelivered;
}

size_t otf_engine_stats(otf_engine_t *e, otf_node_stats_t *out, size_t cap)
{
	const otf_dag_t *dag = e->dag;
	size_t n = 0;
	for (size_t k = 0; k < dag->order_len; k++) {
		uint32_t i = dag->order[k];
		if (n < cap) {
			otf_node_stats_t *st = &out[n];
			memset(st, 0, sizeof *st);
			st->name = dag->nodes[i].name;
			st->kind = dag->nodes[i].kind;
			st->type = dag->nodes[i].type;
			for (int wi = 0; wi < e->workers_len; wi++) {
				otf_worker_t *w = &e->workers[wi];
				if (!w->nodes || w->phase >= 4)
					continue;
				otf_node_t *nd = &w->nodes[i];
				for (int c = 0; c < OTF_COUNTER_COUNT_; c++)
					for (int s = 0; s < OTF_SIGNAL_COUNT; s++)
						st->counters[c][s] += atomic_load_explicit(
						    &nd->counters[c][s], memory_order_relaxed);
				st->queue_depth +=
				    atomic_load_explicit(&nd->queue_depth, memory_order_relaxed);
			}
		}
		n++;
	}
	return n;
}
