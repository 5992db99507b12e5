/* The general path of the routing core (router.h): every resource (or
 * scope) decoded from its group's head and evaluated by the OTTL tree
 * evaluator, with the decision cache; then the message is passed on or
 * split (router_split.c). */
#include "router_internal.h"

#include "otflow/err.h"
#include "otflow/pdata_codec.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Header lookups of the conditions; while a decision is being made for
 * the cache, each key read and its value are recorded with it. */
static const char *header_of(const void *user, const char *key)
{
	otf__cr_t *r = (otf__cr_t *)user;
	const char *v = otf_msg_header_get(r->msg, key);
	decision_cache_t *c = &r->cache;
	if (!c->recording || c->overflow)
		return v;
	for (size_t i = 0; i < c->nkeys; i++)
		if (!strcmp(c->key[i], key))
			return v;
	if (c->nkeys == CACHE_KEYS || strlen(key) >= sizeof c->key[0] ||
	    (v && strlen(v) >= sizeof c->val[0])) {
		c->overflow = true;
		return v;
	}
	snprintf(c->key[c->nkeys], sizeof c->key[0], "%s", key);
	snprintf(c->val[c->nkeys], sizeof c->val[0], "%s", v ? v : "");
	c->present[c->nkeys++] = v != NULL;
	return v;
}

/* Absent fields are empty slices with a NULL pointer: memcmp and memcpy
 * must not see those. */
static bool same(otf_bytes_t b, const uint8_t *mem, size_t len)
{
	return b.len == len && (!len || !memcmp(b.ptr, mem, len));
}

/* The cached route for a resource with head and schema_url, or -2. */
static int cache_get(otf__cr_t *r, otf_bytes_t head, otf_bytes_t url)
{
	const decision_cache_t *c = &r->cache;
	if (!c->valid || !same(head, c->head, c->head_len) || !same(url, c->url, c->url_len))
		return ROUTE_MIXED;
	for (size_t i = 0; i < c->nkeys; i++) {
		const char *v = otf_msg_header_get(r->msg, c->key[i]);
		if ((v != NULL) != c->present[i] || (v && strcmp(v, c->val[i])))
			return ROUTE_MIXED;
	}
	return c->route;
}

static void cache_begin(otf__cr_t *r, otf_bytes_t head, otf_bytes_t url)
{
	decision_cache_t *c = &r->cache;
	c->valid = false;
	c->overflow = head.len > CACHE_HEAD_MAX || url.len > CACHE_URL_MAX;
	c->recording = !c->overflow;
	c->nkeys = 0;
	if (c->recording) {
		if (head.len)
			memcpy(c->head, head.ptr, head.len);
		if (url.len)
			memcpy(c->url, url.ptr, url.len);
		c->head_len = head.len;
		c->url_len = url.len;
	}
}

static void cache_end(otf__cr_t *r, int route)
{
	decision_cache_t *c = &r->cache;
	c->valid = c->recording && !c->overflow && route >= ROUTE_DEFAULT;
	c->route = route;
	c->recording = false;
}

/* The route of one record set (resource, or scope and resource): index,
 * ROUTE_DEFAULT, or a negative code under propagate (why filled in). */
static int evaluate(otf__cr_t *r, otf_ottl_record_t *rec, char *why, size_t whylen)
{
	for (size_t i = 0; i < r->n; i++) {
		otf_ottl_error_t oe;
		int rc = otf_ottl_eval_condition(r->prog, i, rec, &oe);
		if (rc == 1)
			return (int)i;
		if (rc == 0)
			continue;
		if (r->error_mode == OTF_OTTL_ERROR_PROPAGATE || rc == OTF_E_NOMEM) {
			snprintf(why, whylen, "route '%.40s': %.140s", r->names[i], oe.msg);
			return rc == OTF_E_NOMEM ? rc : OTF_E_INVAL;
		}
		r->eval_errors++;
		if (r->error_mode == OTF_OTTL_ERROR_IGNORE &&
		    r->eval_errors > r->eval_errors_logged) {
			otf_node_log(r->node, OTF_LOG_WARN,
			             "route '%s' not taken, its condition failed: %s "
			             "(%llu failures so far)",
			             r->names[i], oe.msg, (unsigned long long)r->eval_errors);
			r->eval_errors_logged = r->eval_errors * 2;
		}
	}
	return ROUTE_DEFAULT;
}

static int decode_group_head(otf__cr_t *r, otf_bytes_t group, bool scope, otf_view_group_t *g,
                             void *out)
{
	int rc = otf_view_group_read(group, g);
	if (rc)
		return rc;
	if (scope)
		memset(out, 0, sizeof(otf_scope_t));
	else
		memset(out, 0, sizeof(otf_resource_t));
	if (!g->has_head)
		return 0;
	return scope ? otf_pdata_decode_scope(out, g->head.ptr, g->head.len, &r->arena, NULL)
	             : otf_pdata_decode_resource(out, g->head.ptr, g->head.len, &r->arena, NULL);
}

/* Scope context: the route of each scope of one resource group. */
static int route_scopes(otf__cr_t *r, otf_ottl_record_t *rec, unit_t *u, char *why, size_t whylen)
{
	otf_view_iter_t it;
	otf_bytes_t sg;
	int rc;
	size_t n = 0, cap = 0;
	int *routes = NULL;
	otf_view_scopes(&it, u->content);
	while ((rc = otf_view_iter_next(&it, &sg)) > 0) {
		otf_view_group_t g;
		otf_scope_t scope;
		if ((rc = decode_group_head(r, sg, true, &g, &scope)))
			return rc;
		otf_bytes_t url = g.schema_url;
		rec->scope = &scope;
		rec->scope_schema_url = &url;
		int route = evaluate(r, rec, why, whylen);
		rec->scope = NULL;
		rec->scope_schema_url = NULL;
		if (route < ROUTE_DEFAULT)
			return route;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			int *nr = otf_arena_alloc(&r->arena, ncap * sizeof *nr);
			if (!nr)
				return OTF_E_NOMEM;
			if (n)
				memcpy(nr, routes, n * sizeof *nr);
			routes = nr;
			cap = ncap;
		}
		routes[n++] = route;
	}
	if (rc < 0)
		return rc;
	u->route = n ? routes[0] : ROUTE_DEFAULT;
	for (size_t i = 1; i < n; i++)
		if (routes[i] != routes[0])
			u->route = ROUTE_MIXED;
	u->scope_routes = routes;
	u->nscopes = n;
	return 0;
}

void otf__cr_general_consume(otf__cr_t *r, otf_msg_t *m)
{
	otf_buf_t *payload = otf_msg_payload(m);
	otf_arena_reset(&r->arena);
	otf_ottl_record_t rec;
	memset(&rec, 0, sizeof rec);
	rec.arena = &r->arena;
	rec.request_header = header_of;
	rec.request_user = r;
	r->msg = m;
	char why[200] = "";
	size_t n = 0, cap = 0;
	unit_t *units = NULL;
	otf_view_iter_t it;
	otf_bytes_t content, raw;
	int rc;
	otf_view_resources(&it, payload->data, payload->len);
	while ((rc = otf_view_iter_next_raw(&it, &content, &raw)) > 0) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			unit_t *nu = otf_arena_alloc(&r->arena, ncap * sizeof *nu);
			if (!nu) {
				rc = OTF_E_NOMEM;
				break;
			}
			if (n)
				memcpy(nu, units, n * sizeof *nu);
			units = nu;
			cap = ncap;
		}
		unit_t *u = &units[n++];
		memset(u, 0, sizeof *u);
		u->raw = raw;
		u->content = content;
		otf_view_group_t g;
		otf_resource_t res;
		if (r->cacheable) {
			if ((rc = otf_view_group_read(content, &g)))
				break;
			u->route = cache_get(r, g.head, g.schema_url);
			if (u->route != ROUTE_MIXED)
				continue;
			cache_begin(r, g.head, g.schema_url);
		}
		if ((rc = decode_group_head(r, content, false, &g, &res)))
			break;
		otf_bytes_t url = g.schema_url;
		rec.resource = &res;
		rec.resource_schema_url = &url;
		rec.cache = (otf_attributes_t){0};
		if (r->ctx == OTF_CR_CTX_SCOPE) {
			rc = route_scopes(r, &rec, u, why, sizeof why);
		} else {
			uint64_t errors = r->eval_errors;
			u->route = evaluate(r, &rec, why, sizeof why);
			rc = u->route < ROUTE_DEFAULT ? u->route : 0;
			/* A decision made with a failing condition is not kept. */
			if (r->cacheable)
				cache_end(r,
				          rc || errors != r->eval_errors ? ROUTE_MIXED : u->route);
		}
		if (rc)
			break;
	}
	if (rc < 0) {
		char msg[240];
		if (why[0])
			snprintf(msg, sizeof msg, "content_router: %.200s", why);
		else
			snprintf(msg, sizeof msg, "content_router: malformed request: %s",
			         otf_strerror(rc));
		otf_msg_nack(m, rc, rc != OTF_E_NOMEM, msg);
		return;
	}
	int first = n ? units[0].route : ROUTE_DEFAULT;
	bool one = first != ROUTE_MIXED;
	for (size_t i = 1; i < n && one; i++)
		one = units[i].route == first;
	if (one)
		otf__cr_pass_on(r, m, first);
	else
		otf__cr_split(r, m, units, n);
}
