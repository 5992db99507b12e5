/* The routing core of content_router and the routing connector (router.h):
 * evaluates the routes per resource (or scope), passes the message on
 * when it has one route, else slices it into one request per route by
 * copying byte ranges, and joins the splits' outcomes. */
#include "router.h"

#include "otflow/alloc.h"
#include "otflow/arena.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"
#include "otflow/pdata_view.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* One routed unit: a whole Resource* group (its raw field in the request),
 * or, in the scope context, a group whose scopes go to several routes
 * (route MIXED: scope_routes[] holds each scope's route). */
#define ROUTE_DEFAULT (-1)
#define ROUTE_MIXED   (-2)

typedef struct unit {
	otf_bytes_t raw;     /* the resource_* field, tag to end */
	otf_bytes_t content; /* the Resource* message */
	int route;
	int *scope_routes; /* MIXED: per Scope* group, in order */
	size_t nscopes;
} unit_t;

typedef struct join {
	otf_msg_t *orig;
	uint32_t pending;
	uint32_t failures, permanent_failures;
	int error;
	char reason[160];
	uint64_t retry_after_ns; /* the longest throttle delay of a failed part */
	struct join *prev, *next;
} join_t;

/* The last resource's decision, reused while the next resource has the
 * same bytes and the headers its conditions read have the same values:
 * conditions are functions of those alone (no Now(): see cacheable), and
 * one client usually sends one resource over and over. */
#define CACHE_HEAD_MAX 1024
#define CACHE_URL_MAX  256
#define CACHE_KEYS     4

typedef struct decision_cache {
	bool valid, recording, overflow;
	int route;
	size_t head_len, url_len, nkeys;
	uint8_t head[CACHE_HEAD_MAX];
	uint8_t url[CACHE_URL_MAX];
	char key[CACHE_KEYS][64];
	char val[CACHE_KEYS][128];
	bool present[CACHE_KEYS];
} decision_cache_t;

struct otf__cr {
	otf_node_t *node;
	bool cacheable;       /* resource context, no condition reads the clock */
	const otf_msg_t *msg; /* the message being routed (header lookups) */
	decision_cache_t cache;
	otf_ottl_program_t *prog;
	/* Fast path: every route compiled to byte compares (otf_ottl_fast_t),
	 * joined in one set (one attribute walk per resource for all routes),
	 * its request[] values looked up once per request (hdr). */
	bool all_fast;
	otf_ottl_fast_t *fast[OTF_CR_MAX_ROUTES];
	otf_ottl_fast_set_t *set;
	const char *hdr[OTF_OTTL_FAST_SET_MAX_HEADERS];
	/* Output port per signal and route + 1 (0: default), found on first
	 * use: a node's ports are wired once, before its first message.
	 * PORT_UNKNOWN until then; -1: neither the route nor default wired. */
	int8_t port[OTF_SIGNAL_COUNT][OTF_CR_MAX_ROUTES + 1];
	const char *const *names;
	size_t n;
	int ctx;
	int error_mode;
	otf_arena_t arena; /* per request: decoded heads, units */
	join_t *joins;     /* waiting for their splits' answers */
	uint64_t eval_errors, eval_errors_logged;
	_Atomic uint64_t *drops; /* non-NULL: unmatched data is dropped */
};

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

#define PORT_UNKNOWN (-2)

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

static size_t varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static uint8_t *put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* A MIXED unit's part for route: the Resource* content made of its
 * resource (1) and schema_url (3) fields and the scopes of that route.
 * dst NULL: only the content's size. Unknown fields are not carried. */
static size_t mixed_part(const unit_t *u, int route, uint8_t *dst)
{
	size_t len = 0;
	otf_bytes_t c, raw;
	otf_view_iter_t it;
	static const uint32_t fields[] = {1, 3};
	for (size_t f = 0; f < 2; f++) {
		otf_view_iter_init(&it, u->content, fields[f]);
		while (otf_view_iter_next_raw(&it, &c, &raw) > 0) {
			if (dst)
				memcpy(dst + len, raw.ptr, raw.len);
			len += raw.len;
		}
	}
	otf_view_iter_init(&it, u->content, 2);
	for (size_t i = 0; i < u->nscopes && otf_view_iter_next_raw(&it, &c, &raw) > 0; i++) {
		if (u->scope_routes[i] != route)
			continue;
		if (dst)
			memcpy(dst + len, raw.ptr, raw.len);
		len += raw.len;
	}
	return len;
}

static bool unit_has(const unit_t *u, int route)
{
	if (u->route != ROUTE_MIXED)
		return u->route == route;
	for (size_t i = 0; i < u->nscopes; i++)
		if (u->scope_routes[i] == route)
			return true;
	return false;
}

/* The request for route: every unit's bytes of that route, in order. */
static otf_buf_t *build_part(const unit_t *units, size_t nunits, int route)
{
	size_t total = 0;
	for (size_t i = 0; i < nunits; i++) {
		const unit_t *u = &units[i];
		if (u->route == route) {
			total += u->raw.len;
		} else if (u->route == ROUTE_MIXED && unit_has(u, route)) {
			size_t c = mixed_part(u, route, NULL);
			total += 1 + varint_len(c) + c;
		}
	}
	otf_buf_t *b = otf_buf_create(total ? total : 1);
	if (!b)
		return NULL;
	uint8_t *p = b->data;
	for (size_t i = 0; i < nunits; i++) {
		const unit_t *u = &units[i];
		if (u->route == route) {
			memcpy(p, u->raw.ptr, u->raw.len);
			p += u->raw.len;
		} else if (u->route == ROUTE_MIXED && unit_has(u, route)) {
			size_t c = mixed_part(u, route, NULL);
			*p++ = 0x0a; /* field 1 (resource_*), length-delimited */
			p = put_varint(p, c);
			p += mixed_part(u, route, p);
		}
	}
	b->len = (size_t)(p - b->data);
	return b;
}

/* Output port of route for signal s: its own, or default when the route
 * has nothing wired for s; -1 when neither has. */
static int port_of(otf__cr_t *r, int route, otf_signal_t s)
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
static void drop(otf__cr_t *r, otf_signal_t s, uint64_t items)
{
	otf_node_count(r->node, OTF_COUNTER_DROPPED, s, items);
	if (atomic_fetch_add(r->drops, 1) == 0)
		otf_node_log(r->node, OTF_LOG_WARN,
		             "dropped %llu %s that match no table entry (no default_pipelines); "
		             "further drops are only counted (otelcol_connector_dropped_*)",
		             (unsigned long long)items, otf_signal_name(s));
}

static void nack_send(otf_msg_t *m, int rc)
{
	otf_msg_nack(m, rc, false, rc == -EAGAIN ? "downstream queue full" : otf_strerror(rc));
}

void otf__cr_pass_on(otf__cr_t *r, otf_msg_t *m, int route)
{
	otf_signal_t s = otf_msg_signal(m);
	int port = port_of(r, route, s);
	if (port < 0 && route == ROUTE_DEFAULT && r->drops) {
		drop(r, s, otf_msg_items(m));
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
		nack_send(m, rc);
}

static void join_fail(join_t *j, int error, bool permanent, const char *reason)
{
	j->failures++;
	j->permanent_failures += permanent;
	if (!j->error || !permanent) {
		j->error = error;
		snprintf(j->reason, sizeof j->reason, "%s", reason);
	}
}

static void join_settle(otf__cr_t *r, join_t *j)
{
	if (--j->pending)
		return;
	bool permanent = j->permanent_failures == j->failures;
	if (j->failures && !permanent && j->retry_after_ns)
		otf_msg_nack_throttled(j->orig, j->error, j->retry_after_ns, j->reason);
	else if (j->failures)
		otf_msg_nack(j->orig, j->error, permanent, j->reason);
	else
		otf_msg_ack(j->orig);
	if (j->prev)
		j->prev->next = j->next;
	else
		r->joins = j->next;
	if (j->next)
		j->next->prev = j->prev;
	otf_free(j);
}

/* Sends one message per route that received data; the original waits. */
static void split(otf__cr_t *r, otf_msg_t *m, const unit_t *units, size_t nunits)
{
	otf_buf_t *parts[OTF_CR_MAX_ROUTES + 1] = {NULL};
	for (int route = ROUTE_DEFAULT; route < (int)r->n; route++) {
		bool any = false;
		for (size_t i = 0; i < nunits && !any; i++)
			any = unit_has(&units[i], route);
		if (any && !(parts[route + 1] = build_part(units, nunits, route))) {
			for (int k = 0; k <= route; k++)
				otf_buf_unref(parts[k]);
			otf_msg_nack(m, OTF_E_NOMEM, false, "content_router: out of memory");
			return;
		}
	}
	otf__cr_send_parts(r, m, parts);
}

void otf__cr_send_parts(otf__cr_t *r, otf_msg_t *m, otf_buf_t **parts)
{
	otf_signal_t s = otf_msg_signal(m);
	join_t *j = otf_calloc(1, sizeof *j);
	if (!j) {
		for (size_t k = 0; k <= r->n; k++)
			otf_buf_unref(parts[k]);
		otf_msg_nack(m, OTF_E_NOMEM, false, "content_router: out of memory");
		return;
	}
	j->orig = m;
	j->pending = 1; /* held until every part is out */
	j->next = r->joins;
	if (r->joins)
		r->joins->prev = j;
	r->joins = j;
	for (int route = ROUTE_DEFAULT; route < (int)r->n; route++) {
		otf_buf_t *b = parts[route + 1];
		if (!b)
			continue;
		int port = port_of(r, route, s);
		bool dropped = port < 0 && route == ROUTE_DEFAULT && r->drops;
		if (port < 0 && !dropped) {
			otf_buf_unref(b);
			join_fail(j, OTF_E_NOT_FOUND, true, "content_router: no route wired");
			continue;
		}
		otf_view_counts_t cnt = {0};
		otf_view_count(s, b->data, b->len, &cnt);
		if (dropped) {
			drop(r, s, cnt.records);
			otf_buf_unref(b);
			continue;
		}
		otf_msg_t *part = otf_msg_create(r->node, s, b, cnt.records);
		if (!part || otf_msg_copy_envelope(part, m) ||
		    otf_msg_add_source(part, otf_msg_id(m)) ||
		    otf_msg_subscribe(part, r->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK,
		                      (uint64_t)(uintptr_t)j)) {
			if (part)
				otf_msg_drop(part);
			join_fail(j, OTF_E_NOMEM, false, "content_router: out of memory");
			continue;
		}
		int rc = otf_node_send_port(r->node, port, part);
		if (rc) {
			otf_msg_drop(part);
			join_fail(j, rc, false,
			          rc == -EAGAIN ? "downstream queue full" : otf_strerror(rc));
			continue;
		}
		j->pending++;
	}
	join_settle(r, j);
}

/* otf_view_ld_field with lengths of up to 4 varint bytes read without its
 * loop: the *Data and Resource* groups are the request's big fields (a
 * 340 kB ScopeLogs is a 3-byte length), walked once per message. Same
 * results: anything else is the view function's. */
static inline uint32_t ld_field(const uint8_t **pp, const uint8_t *end, size_t *len)
{
	const uint8_t *p = *pp;
	if (end - p < 5 || (p[0] & 0x87) != 0x02)
		return otf_view_ld_field(pp, end, len);
	uint64_t n = p[1];
	size_t k = 2;
	if (n & 0x80) {
		n = (n & 0x7f) | (uint64_t)(p[2] & 0x7f) << 7;
		k = 3;
		if (p[2] & 0x80) {
			n |= (uint64_t)(p[3] & 0x7f) << 14;
			k = 4;
			if (p[3] & 0x80) {
				if (p[4] & 0x80)
					return otf_view_ld_field(pp, end, len);
				n |= (uint64_t)p[4] << 21;
				k = 5;
			}
		}
	}
	if (n > (uint64_t)(end - p) - k)
		return 0;
	*len = (size_t)n;
	*pp = p + k;
	return (uint32_t)p[0] >> 3;
}

/* A Resource* group's head (field 1, the last one wins) as
 * otf_view_group_read finds it, read inline when every field has the
 * common shape; the view function otherwise. */
static int group_head(otf_bytes_t msg, otf_bytes_t *head)
{
	const uint8_t *p = msg.ptr, *end = msg.len ? msg.ptr + msg.len : p;
	*head = (otf_bytes_t){NULL, 0};
	while (p < end) {
		size_t n;
		uint32_t f = ld_field(&p, end, &n);
		if (!f) {
			otf_view_group_t g;
			int rc = otf_view_group_read(msg, &g);
			*head = g.head;
			return rc;
		}
		if (f == 1)
			*head = (otf_bytes_t){p, n};
		p += n;
	}
	return 0;
}

/* Every resource evaluated by the fast conditions on its bytes: when they
 * all go to one route the message is passed on and true is returned;
 * false (nothing done) when resources go to different routes or bytes are
 * malformed: the general path below decides (and splits, or reports). */
static bool fast_consume(otf__cr_t *r, otf_msg_t *m)
{
	const otf_buf_t *payload = otf_msg_payload(m);
	const uint8_t *p = payload->data, *end = payload->data + payload->len;
	/* the request's headers: once per request, none to look for in a
	 * request without any */
	size_t nh = otf_ottl_fast_set_header_count(r->set);
	bool any = otf_msg_header_count(m) > 0;
	for (size_t k = 0; k < nh; k++)
		r->hdr[k] =
		    any ? otf_msg_header_get(m, otf_ottl_fast_set_header_key(r->set, k)) : NULL;
	int first = ROUTE_MIXED;
	while (p < end) {
		/* *Data: resource_* = 1; any other shape is the general path's */
		size_t len;
		uint32_t field = ld_field(&p, end, &len);
		if (!field)
			return false;
		otf_bytes_t content = {p, len}, head;
		p += len;
		if (field != 1)
			continue;
		if (group_head(content, &head))
			return false;
		int route = otf_ottl_fast_set_eval(r->set, head, r->hdr);
		if (route == OTF_OTTL_FAST_SET_UNSURE)
			return false;
		if (route == OTF_OTTL_FAST_SET_NONE)
			route = ROUTE_DEFAULT;
		if (first == ROUTE_MIXED)
			first = route;
		else if (route != first)
			return false;
	}
	otf__cr_pass_on(r, m, first == ROUTE_MIXED ? ROUTE_DEFAULT : first);
	return true;
}

/* The general path: out of line, so that the fast one does not pay for its
 * frame (its buffers are most of a kilobyte of stack). */
static __attribute__((noinline)) void general_consume(otf__cr_t *r, otf_msg_t *m);

void otf__cr_consume(otf__cr_t *r, otf_msg_t *m)
{
	if (r->all_fast && fast_consume(r, m))
		return;
	general_consume(r, m);
}

static void general_consume(otf__cr_t *r, otf_msg_t *m)
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
		split(r, m, units, n);
}

void otf__cr_control(otf__cr_t *r, const otf_ctrl_t *c)
{
	if (c->type == OTF_CTRL_ACK || c->type == OTF_CTRL_NACK) {
		join_t *j = (join_t *)(uintptr_t)c->calldata;
		if (j) {
			if (c->type == OTF_CTRL_NACK) {
				join_fail(j, c->error, c->permanent, c->reason);
				/* A part a server throttled: the original is retried
				 * no sooner, as a fan-out join does. */
				if (c->retry_after_ns > j->retry_after_ns)
					j->retry_after_ns = c->retry_after_ns;
			}
			join_settle(r, j);
		}
	} else if (c->type == OTF_CTRL_KIL) {
		otf_node_shutdown_done(r->node);
	}
	if (c->payload)
		otf_buf_unref(c->payload);
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
