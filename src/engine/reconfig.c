/* CFG, the configuration control signal: a node's config replaced while
 * the engine runs (otf_engine_reconfigure, engine.h).
 *
 * The caller (the main loop: admin API, SIGHUP reload) makes the new
 * config struct from the node's schema, then posts one request to every
 * worker through the worker's cross-thread queue (msg_async.c's lock and
 * wake-up). On the worker the request becomes an OTF_CTRL_CFG in the
 * node's control ring, so it is handled like every control signal:
 * between two messages, before the next data (node.c's pump), never
 * inside a component callback. There the factory's reconfigure swaps the
 * instance to the new struct. The caller waits (bounded) until every
 * worker answered, so once it returns the next message on any worker
 * follows the new config.
 *
 * Instances keep pointers into their config struct (compiled OTTL, route
 * tables), so an old struct is never freed while the engine runs: it is
 * retired here and freed with the engine, after every instance is gone.
 * Changes are rare (an operator's request), so the retired list stays
 * small. */
#include "engine/engine_internal.h"

#include "otflow/alloc.h"
#include "otflow/config.h"
#include "otflow/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CFG_WAIT_MS 5000

typedef struct otf_cfg_req {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int refs;    /* the caller and each worker that has not answered */
	int pending; /* workers that have not answered */
	int applied; /* workers whose instance switched */
	int error;   /* first failure */
	char err[256];
	uint32_t node;
	const void *config;
} otf_cfg_req_t;

struct otf_cfg_post {
	struct otf_cfg_post *next;
	otf_cfg_req_t *req;
};

struct otf_cfg_retired {
	struct otf_cfg_retired *next;
	const otf_component_factory_t *f;
	void *config;
};

static void req_unref_locked(otf_cfg_req_t *r)
{
	bool last = --r->refs == 0;
	pthread_mutex_unlock(&r->mu);
	if (last) {
		pthread_mutex_destroy(&r->mu);
		pthread_cond_destroy(&r->cv);
		otf_free(r);
	}
}

/* A worker's answer: rc 0 with applied, or the reconfigure's error. */
static void req_done(otf_cfg_req_t *r, int rc, bool applied, const char *err)
{
	pthread_mutex_lock(&r->mu);
	r->pending--;
	if (applied)
		r->applied++;
	if (rc && !r->error) {
		r->error = rc;
		snprintf(r->err, sizeof r->err, "%s", err && *err ? err : otf_strerror(rc));
	}
	pthread_cond_signal(&r->cv);
	req_unref_locked(r);
}

void otf__node_cfg(otf_node_t *n, const otf_ctrl_t *c)
{
	otf_cfg_req_t *r = (otf_cfg_req_t *)(uintptr_t)c->calldata;
	const otf_component_factory_t *f = n->def->factory;
	char err[256];
	err[0] = '\0';
	int rc = 0;
	if (n->instance && f->reconfigure)
		rc = f->reconfigure(n->instance, r->config, err, sizeof err);
	else if (n->instance)
		rc = otf__node_rebuild(n, r->config, err, sizeof err); /* rebuild.c */
	if (rc)
		otf_node_log(n, OTF_LOG_ERROR, "new config refused on worker %d: %s",
		             n->worker->index, err[0] ? err : otf_strerror(rc));
	req_done(r, rc, rc == 0 && n->instance, err);
}

void otf__node_cfg_discard(const otf_ctrl_t *c)
{
	/* The worker ended before the node handled it: nothing runs any more
	 * with either config. */
	req_done((otf_cfg_req_t *)(uintptr_t)c->calldata, 0, false, NULL);
}

void otf__worker_cfg_drain(otf_worker_t *w)
{
	pthread_mutex_lock(&w->async_lock);
	struct otf_cfg_post *p = w->cfg_head;
	w->cfg_head = w->cfg_tail = NULL;
	pthread_mutex_unlock(&w->async_lock);
	while (p) {
		struct otf_cfg_post *next = p->next;
		otf_node_t *n =
		    w->nodes && p->req->node < w->nodes_len ? w->nodes[p->req->node] : NULL;
		if (n && n->instance && w->phase == 0) {
			otf_ctrl_t c;
			memset(&c, 0, sizeof c);
			c.type = OTF_CTRL_CFG;
			c.calldata = (uint64_t)(uintptr_t)p->req;
			otf__node_post_ctrl(n, &c);
		} else {
			otf__node_cfg_discard(
			    &(otf_ctrl_t){.calldata = (uint64_t)(uintptr_t)p->req});
		}
		otf_free(p);
		p = next;
	}
}

static void retire(otf_engine_t *e, const otf_component_factory_t *f, void *config)
{
	if (!config)
		return;
	struct otf_cfg_retired *x = otf_malloc(sizeof *x);
	if (!x) {
		/* Cannot keep it for later: keeping it forever is the only safe
		 * choice, since an instance may still read it. */
		return;
	}
	x->f = f;
	x->config = config;
	x->next = e->cfg_retired;
	e->cfg_retired = x;
}

void otf__engine_reconfig_free(otf_engine_t *e)
{
	while (e->cfg_retired) {
		struct otf_cfg_retired *x = e->cfg_retired;
		e->cfg_retired = x->next;
		otf__component_config_free(x->f, x->config);
		otf_free(x);
	}
}

/* True when config gives f the same output ports as old. */
static bool same_ports(const otf_component_factory_t *f, const void *old, const void *config)
{
	for (uint32_t i = 0;; i++) {
		const char *a = otf__port_name(f, old, i), *b = otf__port_name(f, config, i);
		if (!a || !b)
			return !a && !b;
		if (strcmp(a, b))
			return false;
	}
}

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

/* The factory's wiring rule (check_wiring) for config over dn's live
 * edges: a change that would make the DAG invalid (a router route that
 * no longer matches everything while nothing is wired to default). */
static int check_rewire(const otf_dag_t *dag, const otf_dag_node_t *dn, const void *config,
                        char *err, size_t errlen)
{
	const otf_component_factory_t *f = dn->factory;
	if (!f->check_wiring)
		return 0;
	uint32_t nports = otf__factory_nports(f, config);
	uint32_t *ps = otf_calloc(nports, sizeof *ps);
	if (!ps)
		return OTF_E_NOMEM;
	for (size_t e = 0; e < dn->edges_len; e++)
		if (!dag->nodes[dn->edges[e].to].removed && dn->edges[e].port_index < nports)
			ps[dn->edges[e].port_index] |= dn->edges[e].signals;
	char msg[256] = "";
	int rc = f->check_wiring(config, dn->in_signals, ps, nports, msg, sizeof msg);
	otf_free(ps);
	if (rc)
		return errf(err, errlen, OTF_E_CONFIG,
		            "the new config does not fit the node's wiring: %s", msg);
	return 0;
}

/* Whether node dn can take config while running. */
static int check_change(const otf_dag_t *dag, const otf_dag_node_t *dn, const void *config,
                        char *err, size_t errlen)
{
	const otf_component_factory_t *f = dn->factory;
	/* A type without reconfigure is rebuilt (rebuild.c). */
	if (!same_ports(f, dn->config, config))
		return errf(err, errlen, OTF_E_UNSUPPORTED,
		            "the new config changes the node's output ports, a change of the "
		            "DAG's shape: restart to apply it");
	if (!f->reconfigure && f->check_rebuild) {
		char why[384] = "";
		int rc = f->check_rebuild(dn->config, config, why, sizeof why);
		if (rc)
			return errf(err, errlen, rc, "%s", why[0] ? why : otf_strerror(rc));
	}
	return check_rewire(dag, dn, config, err, errlen);
}

int otf__dag_live_node(const otf_dag_t *dag, const char *id)
{
	int i = otf_dag_find(dag, id);
	return i < 0 || dag->nodes[i].removed ? -1 : i;
}

/* Sends config to every worker's instance of node i and waits. */
static int deliver(otf_engine_t *e, uint32_t i, const void *config, int *applied, char *err,
                   size_t errlen)
{
	otf_cfg_req_t *r = otf_calloc(1, sizeof *r);
	if (!r)
		return OTF_E_NOMEM;
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
	r->refs = 1;
	r->node = i;
	r->config = config;
	for (int k = 0; k < e->workers_len; k++) {
		otf_worker_t *w = &e->workers[k];
		struct otf_cfg_post *p = otf_malloc(sizeof *p);
		if (!p)
			break;
		p->next = NULL;
		p->req = r;
		pthread_mutex_lock(&w->async_lock);
		if (!w->async_open) {
			pthread_mutex_unlock(&w->async_lock);
			otf_free(p);
			continue;
		}
		pthread_mutex_lock(&r->mu);
		r->refs++;
		r->pending++;
		pthread_mutex_unlock(&r->mu);
		if (w->cfg_tail)
			w->cfg_tail->next = p;
		else
			w->cfg_head = p;
		w->cfg_tail = p;
		uv_async_send(&w->completions);
		pthread_mutex_unlock(&w->async_lock);
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += CFG_WAIT_MS / 1000;
	pthread_mutex_lock(&r->mu);
	while (r->pending > 0)
		if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) == ETIMEDOUT)
			break;
	int rc = r->pending ? -ETIMEDOUT : r->error;
	if (r->pending)
		snprintf(err, errlen, "%d worker(s) did not apply the new config within %d ms",
		         r->pending, CFG_WAIT_MS);
	else if (rc)
		snprintf(err, errlen, "%s", r->err);
	*applied = r->applied;
	bool unanswered = r->pending > 0;
	req_unref_locked(r);
	return unanswered ? -ETIMEDOUT : rc;
}

int otf__engine_reconfigure(otf_engine_t *e, const char *id, void *config, char *canon, char *err,
                            size_t errlen)
{
	otf_dag_t *dag = e->dag;
	int i = otf__dag_live_node(dag, id);
	if (i < 0) {
		otf_free(canon);
		return errf(err, errlen, OTF_E_NOT_FOUND, "no node '%.200s'", id);
	}
	otf_dag_node_t *dn = &dag->nodes[i];
	const otf_component_factory_t *f = dn->factory;
	int rc = check_change(dag, dn, config, err, errlen);
	if (rc) {
		otf__component_config_free(f, config);
		otf_free(canon);
		return rc;
	}
	int applied = 0;
	/* A rebuilt receiver's sockets stay open until every worker's new
	 * instance has its own (rebuild.c). */
	struct otf__net_hold *hold = f->reconfigure ? NULL : otf__rebuild_hold(dn, config);
	rc = deliver(e, (uint32_t)i, config, &applied, err, errlen);
	otf__rebuild_release(hold, applied > 0);
	if (rc == -ETIMEDOUT || applied) {
		/* Some instance may read it, now or later: swap, keep the old. */
		void *old = dn->config;
		__atomic_store_n(&dn->config, config, __ATOMIC_RELEASE);
		retire(e, f, old);
		if (canon) {
			otf_free(dn->config_canon);
			dn->config_canon = canon;
			canon = NULL;
		}
	} else {
		otf__component_config_free(f, config);
	}
	otf_free(canon);
	if (!rc)
		otf_log(OTF_LOG_INFO, "engine", "%s: new config applied on %d worker(s)", id,
		        applied);
	return rc;
}

int otf_engine_reconfigure_struct(otf_engine_t *e, const char *id, void *config, char *err,
                                  size_t errlen)
{
	err[0] = '\0';
	return otf__engine_reconfigure(e, id, config, NULL, err, errlen);
}

int otf__node_config_make(const otf_dag_t *dag, const char *id, const struct otf_config_node *cfg,
                          void **out, char *err, size_t errlen)
{
	*out = NULL;
	int i = otf__dag_live_node(dag, id);
	if (i < 0)
		return errf(err, errlen, OTF_E_NOT_FOUND, "no node '%.200s'", id);
	const otf_dag_node_t *dn = &dag->nodes[i];
	if (!cfg || otf_config_node_kind(cfg) != OTF_CONFIG_MAPPING)
		return errf(err, errlen, OTF_E_CONFIG,
		            "the body must be a mapping: the node's config, as under its id in "
		            "the config file");
	char cerr[512];
	cerr[0] = '\0';
	int rc = otf__component_config_apply(dn->factory, cfg, out, cerr, sizeof cerr);
	if (!rc) {
		rc = otf__check_ext_refs(dag, dn->factory, *out, cfg, cerr, sizeof cerr);
		if (rc) {
			otf__component_config_free(dn->factory, *out);
			*out = NULL;
		}
	}
	if (rc)
		return errf(err, errlen, rc, "%s", cerr[0] ? cerr : otf_strerror(rc));
	return 0;
}

bool otf_dag_node_live(const otf_dag_t *dag, size_t i)
{
	return i < dag->nodes_len && !dag->nodes[i].removed;
}

int otf_dag_node_config_check(const otf_dag_t *dag, const char *id,
                              const struct otf_config_node *cfg, char *err, size_t errlen)
{
	err[0] = '\0';
	void *config;
	int rc = otf__node_config_make(dag, id, cfg, &config, err, errlen);
	if (rc)
		return rc;
	const otf_dag_node_t *dn = &dag->nodes[otf_dag_find(dag, id)];
	rc = check_change(dag, dn, config, err, errlen);
	otf__component_config_free(dn->factory, config);
	return rc;
}

int otf_engine_reconfigure(otf_engine_t *e, const char *id, const struct otf_config_node *cfg,
                           char *err, size_t errlen)
{
	err[0] = '\0';
	void *config;
	int rc = otf__node_config_make(e->dag, id, cfg, &config, err, errlen);
	if (rc)
		return rc;
	return otf__engine_reconfigure(e, id, config, otf__config_canon(cfg), err, errlen);
}

/* ---- canonical text of a config subtree ---- */

static void canon_write(FILE *f, const otf_config_node_t *n)
{
	switch (otf_config_node_kind(n)) {
	case OTF_CONFIG_NULL:
		fputc('~', f);
		break;
	case OTF_CONFIG_SCALAR: {
		size_t len = 0;
		const char *s = otf_config_scalar(n, &len);
		/* Length-prefixed: no scalar can fake structure. */
		fprintf(f, "%zu:", len);
		fwrite(s, 1, len, f);
		break;
	}
	case OTF_CONFIG_SEQUENCE:
		fputc('[', f);
		for (size_t i = 0; i < otf_config_len(n); i++) {
			canon_write(f, otf_config_seq_at(n, i));
			fputc(',', f);
		}
		fputc(']', f);
		break;
	case OTF_CONFIG_MAPPING:
		fputc('{', f);
		for (size_t i = 0; i < otf_config_len(n); i++) {
			const otf_config_node_t *v;
			const char *k = otf_config_map_at(n, i, &v);
			fprintf(f, "%zu:%s=", strlen(k), k);
			canon_write(f, v);
			fputc(',', f);
		}
		fputc('}', f);
		break;
	}
}

char *otf__config_canon(const struct otf_config_node *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	/* `filter:` with no value and `filter: {}` are the same config. */
	if (cfg && otf_config_node_kind(cfg) != OTF_CONFIG_NULL)
		canon_write(f, cfg);
	else
		fputs("{}", f);
	fclose(f);
	/* open_memstream's buffer is malloc'd; the DAG frees with otf_free. */
	char *out = buf ? otf_strndup(buf, len) : NULL;
	free(buf);
	return out;
}
