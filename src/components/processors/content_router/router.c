/* The routing core of content_router and the routing connector (router.h):
 * a router's lifecycle (compiling its routes, the fast set), the wiring
 * check, and passing a message on to one route's port. */
#include "router_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

bool otf__cr_cond_always(const char *cond)
{
	while (cond && isspace((unsigned char)*cond))
		cond++;
	if (!cond || strncmp(cond, "true", 4))
		return false;
	for (cond += 4; *cond; cond++)
		if (!isspace((unsigned char)*cond))
			return false;
	return true;
}

static void fast_drop(otf__cr_t *r)
{
	otf_ottl_fast_set_destroy(r->set);
	r->set = NULL;
	for (size_t i = 0; i < OTF_CR_MAX_ROUTES; i++) {
		otf_ottl_fast_destroy(r->fast[i]);
		r->fast[i] = NULL;
	}
	r->all_fast = false;
}

/* The fast path is taken when every route has a fast form: one route
 * without it would need the decoded resource anyway. */
static void fast_build(otf__cr_t *r)
{
	fast_drop(r);
	bool all = r->ctx == OTF_CR_CTX_RESOURCE && r->n > 0;
	for (size_t i = 0; all && i < r->n; i++)
		all = !otf_ottl_fast_compile(r->prog, i, &r->fast[i]) && r->fast[i];
	all = all &&
	      !otf_ottl_fast_set_create((const otf_ottl_fast_t *const *)r->fast, r->n, &r->set) &&
	      r->set;
	if (!all)
		fast_drop(r);
	r->all_fast = all;
	r->nhdr = all ? otf_ottl_fast_set_header_count(r->set) : 0;
	r->fcache.valid = false;
	r->fcache.misses = r->fcache.rest = 0;
}

int otf__cr_create(otf__cr_t **out, otf_node_t *node, const char *const *conds,
                   const char *const *names, size_t n, int ctx, int error_mode, char *err,
                   size_t errlen)
{
	*out = NULL;
	if (n > OTF_CR_MAX_ROUTES) {
		snprintf(err, errlen, "%zu routes, at most %d", n, OTF_CR_MAX_ROUTES);
		return OTF_E_CONFIG;
	}
	otf_ottl_program_t *p = NULL;
	otf_ottl_error_t oe;
	otf_ottl_context_t oc =
	    ctx == OTF_CR_CTX_SCOPE ? OTF_OTTL_CTX_SCOPE : OTF_OTTL_CTX_RESOURCE;
	int rc = n && conds ? otf_ottl_compile_conditions(&p, oc, conds, n, &oe) : 0;
	if (rc == OTF_E_NOMEM)
		return rc;
	if (rc) {
		snprintf(err, errlen, "route '%s': condition \"%s\": %s (column %zu)",
		         names[oe.index], conds[oe.index], oe.msg, oe.column + 1);
		return OTF_E_CONFIG;
	}
	if (!node) {
		otf_ottl_program_destroy(p);
		return 0;
	}
	otf__cr_t *r = otf_calloc(1, sizeof *r);
	if (!r) {
		otf_ottl_program_destroy(p);
		return OTF_E_NOMEM;
	}
	r->node = node;
	r->prog = p;
	r->names = names;
	r->n = n;
	r->ctx = ctx;
	r->error_mode = error_mode;
	r->cacheable = ctx == OTF_CR_CTX_RESOURCE && conds;
	for (size_t i = 0; conds && i < n; i++)
		if (strstr(conds[i], "Now("))
			r->cacheable = false;
	otf_arena_init(&r->arena, 4096);
	memset(r->port, PORT_UNKNOWN, sizeof r->port);
	if (conds) /* routes of the caller's: nothing to evaluate */
		fast_build(r);
	*out = r;
	return 0;
}

int otf__cr_set_routes(otf__cr_t *r, const char *const *conds, const char *const *names, size_t n,
                       int ctx, int error_mode, char *err, size_t errlen)
{
	otf__cr_t *x;
	int rc = otf__cr_create(&x, r->node, conds, names, n, ctx, error_mode, err, errlen);
	if (rc)
		return rc;
	otf_ottl_program_t *old = r->prog;
	r->prog = x->prog;
	r->names = names;
	r->n = n;
	r->ctx = ctx;
	r->error_mode = error_mode;
	r->cacheable = x->cacheable;
	r->cache.valid = false;
	r->cache.recording = false;
	fast_build(r);
	x->prog = old; /* destroyed with the scratch router */
	otf__cr_destroy(x);
	return 0;
}

void otf__cr_destroy(otf__cr_t *r)
{
	if (!r)
		return;
	/* Joins still waiting belong to messages the engine discards at
	 * teardown; only the bookkeeping is ours. */
	while (r->joins) {
		join_t *j = r->joins;
		r->joins = j->next;
		otf_free(j);
	}
	fast_drop(r);
	otf_ottl_program_destroy(r->prog);
	otf_arena_close(&r->arena);
	otf_free(r);
}

/* Output port of route for signal s: its own, or default when the route
 * has nothing wired for s; -1 when neither has. */
int otf__cr_port_of(otf__cr_t *r, int route, otf_signal_t s)
{
	int port = route >= 0 ? route + 1 : 0;
	int8_t *c = &r->port[s][port];
	if (*c != PORT_UNKNOWN)
		return *c;
	if (otf_node_port_has_output(r->node, port, s))
		*c = (int8_t)port;
	else
		*c = otf_node_port_has_output(r->node, 0, s) ? 0 : -1;
	return *c;
}

void otf__cr_drop_unmatched(otf__cr_t *r, _Atomic uint64_t *drops)
{
	r->drops = drops;
}

/* Unmatched data dropped: counted, and the node's first drop (whatever
 * the worker) logged, so a table that misses data says so once. */
void otf__cr_drop(otf__cr_t *r, otf_signal_t s, uint64_t items)
{
	otf_node_count(r->node, OTF_COUNTER_DROPPED, s, items);
	if (atomic_fetch_add(r->drops, 1) == 0)
		otf_node_log(r->node, OTF_LOG_WARN,
		             "dropped %llu %s that match no table entry (no default_pipelines); "
		             "further drops are only counted (otelcol_connector_dropped_*)",
		             (unsigned long long)items, otf_signal_name(s));
}

void otf__cr_nack_send(otf_msg_t *m, int rc)
{
	otf_msg_nack(m, rc, false, rc == -EAGAIN ? "downstream queue full" : otf_strerror(rc));
}

void otf__cr_pass_on(otf__cr_t *r, otf_msg_t *m, int route)
{
	otf_signal_t s = otf_msg_signal(m);
	int port = otf__cr_port_of(r, route, s);
	if (port < 0 && route == ROUTE_DEFAULT && r->drops) {
		otf__cr_drop(r, s, otf_msg_items(m));
		otf_msg_ack(m);
		return;
	}
	if (port < 0) {
		char why[200];
		snprintf(why, sizeof why, "no route for %s: route '%s' nor default is wired",
		         otf_signal_name(s), route >= 0 ? r->names[route] : "default");
		otf_msg_nack(m, OTF_E_NOT_FOUND, true, why);
		return;
	}
	int rc = otf_node_send_port(r->node, port, m);
	if (rc)
		otf__cr_nack_send(m, rc);
}

int otf__cr_check_wiring(const char *const *names, size_t n, bool always, uint32_t in,
                         const uint32_t *ps, uint32_t nports, char *err, size_t errlen)
{
	for (size_t i = 0; i < n && i + 1 < nports; i++) {
		if (!ps[i + 1]) {
			snprintf(err, errlen, "route '%s' has nothing wired to its port", names[i]);
			return OTF_E_CONFIG;
		}
	}
	if (always)
		return 0;
	for (int s = 0; s < OTF_SIGNAL_COUNT; s++) {
		uint32_t bit = 1u << s;
		if ((in & bit) && !(ps[0] & bit)) {
			snprintf(err, errlen,
			         "%s that match no route have nowhere to go: wire the default "
			         "port (the fallback), or end the routes with the condition `true`",
			         otf_signal_name((otf_signal_t)s));
			return OTF_E_CONFIG;
		}
	}
	return 0;
}
