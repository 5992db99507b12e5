/* Record routing of the routing connector, the part without a node
 * (records.h, otf__rr_split_*): classify every record of a request by the
 * table, then slice the request's bytes into one request per route. */
#include "records.h"
#include "pdata/pb_varint.h"

#include "otflow/alloc.h"
#include "otflow/arena.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"
#include "otflow/pdata_view.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#define ROUTE_DEFAULT (-1)
/* Route r's bit in a mask: default is bit 0, entry i bit i + 1. */
#define BIT(route) (1ull << ((route) + 1))

/* What a route decision is made for: a record (span, log record, metric,
 * or a data point when metrics split by data point), or a container left
 * without records (entries of the record's context cannot see it). */
enum { LV_RESOURCE, LV_SCOPE, LV_METRIC, LV_RECORD, LV_DATAPOINT };

struct otf__rr_split {
	otf_ottl_program_t *prog[OTF_CR_MAX_ROUTES];
	int ctx[OTF_CR_MAX_ROUTES];
	const char *const *names;
	size_t n;
	int error_mode;
	bool by_datapoint; /* a datapoint entry: metrics are split by data point */
	otf_arena_t arena; /* per request: the decoded tree, the classification */
	/* Decisions of entries evaluated once per request, resource or
	 * metric: -1 not yet, 0 false, 1 true. */
	int8_t once[OTF_CR_MAX_ROUTES];
	uint64_t eval_errors; /* under ignore and silent */
	char last_error[300];
};

/* One container or record of the request in walk order: the routes its
 * records go to (BIT mask) and the index of its first child in the next
 * level's array. While a route's request is built: the size of its part
 * of a split container (computed by the sizing pass, used by the writing
 * pass), and a split resource's or scope's head and schema_url (read
 * once). */
typedef struct node {
	uint64_t mask;
	size_t first;
	size_t size;
	bool env;
	otf_view_group_t group;
} node_t;

typedef struct vec {
	node_t *v;
	size_t n, cap;
} vec_t;

typedef struct cls {
	vec_t res, scope, rec, dp;
} cls_t;

bool otf__rr_is_record(int ctx)
{
	return ctx >= OTF_RR_SPAN;
}

otf_signal_t otf__rr_signal(int ctx)
{
	return ctx == OTF_RR_SPAN  ? OTF_SIGNAL_TRACES
	       : ctx == OTF_RR_LOG ? OTF_SIGNAL_LOGS
	                           : OTF_SIGNAL_METRICS;
}

static otf_ottl_context_t ottl_ctx(int ctx)
{
	switch (ctx) {
	case OTF_RR_SPAN:
		return OTF_OTTL_CTX_SPAN;
	case OTF_RR_METRIC:
		return OTF_OTTL_CTX_METRIC;
	case OTF_RR_DATAPOINT:
		return OTF_OTTL_CTX_DATAPOINT;
	case OTF_RR_LOG:
		return OTF_OTTL_CTX_LOG;
	default: /* resource; request reads request[] in any context */
		return OTF_OTTL_CTX_RESOURCE;
	}
}

void otf__rr_split_destroy(otf__rr_split_t *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		otf_ottl_program_destroy(r->prog[i]);
	otf_arena_close(&r->arena);
	otf_free(r);
}

int otf__rr_split_create(otf__rr_split_t **out, const char *const *conds, const int *ctxs,
                         const char *const *names, size_t n, int error_mode, char *err,
                         size_t errlen)
{
	*out = NULL;
	if (n > OTF_CR_MAX_ROUTES) {
		snprintf(err, errlen, "%zu routes, at most %d", n, OTF_CR_MAX_ROUTES);
		return OTF_E_CONFIG;
	}
	otf__rr_split_t *r = otf_calloc(1, sizeof *r);
	if (!r)
		return OTF_E_NOMEM;
	otf_arena_init(&r->arena, 4096);
	r->names = names;
	r->error_mode = error_mode;
	for (size_t i = 0; i < n; i++) {
		otf_ottl_error_t oe;
		int rc =
		    otf_ottl_compile_conditions(&r->prog[i], ottl_ctx(ctxs[i]), &conds[i], 1, &oe);
		if (rc) {
			if (rc != OTF_E_NOMEM)
				snprintf(err, errlen,
				         "route '%s': condition \"%s\": %s (column %zu)", names[i],
				         conds[i], oe.msg, oe.column + 1);
			otf__rr_split_destroy(r);
			return rc == OTF_E_NOMEM ? rc : OTF_E_CONFIG;
		}
		r->n = i + 1;
		r->ctx[i] = ctxs[i];
		r->by_datapoint |= ctxs[i] == OTF_RR_DATAPOINT;
	}
	*out = r;
	return 0;
}

uint64_t otf__rr_split_errors(const otf__rr_split_t *r, const char **last)
{
	*last = r->last_error;
	return r->eval_errors;
}

/* Appends a node; its index, or -1 out of memory. */
static long push(otf__rr_split_t *r, vec_t *v, size_t first)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		node_t *nv = otf_arena_alloc(&r->arena, cap * sizeof *nv);
		if (!nv)
			return -1;
		if (v->n)
			memcpy(nv, v->v, v->n * sizeof *nv);
		v->v = nv;
		v->cap = cap;
	}
	v->v[v->n] = (node_t){.first = first};
	return (long)v->n++;
}

/* Whether entry i can see a decision made at level lv of signal s. */
static bool applies(const otf__rr_split_t *r, size_t i, otf_signal_t s, int lv)
{
	switch (r->ctx[i]) {
	case OTF_RR_SPAN:
	case OTF_RR_LOG:
		return s == otf__rr_signal(r->ctx[i]) && lv == LV_RECORD;
	case OTF_RR_METRIC:
		return s == OTF_SIGNAL_METRICS && lv >= LV_METRIC;
	case OTF_RR_DATAPOINT:
		return s == OTF_SIGNAL_METRICS && lv == LV_DATAPOINT;
	default:
		return true;
	}
}

/* Entries decided once per request (request), resource (resource) or
 * metric (metric, when split by data point): reset at those levels. */
static void forget(otf__rr_split_t *r, int ctx)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->ctx[i] == ctx)
			r->once[i] = -1;
}

/* The route of one decision: the first entry true for rec, ROUTE_DEFAULT,
 * or a negative code under propagate (why filled in). */
static int decide(otf__rr_split_t *r, otf_signal_t s, int lv, otf_ottl_record_t *rec, char *why,
                  size_t whylen)
{
	for (size_t i = 0; i < r->n; i++) {
		if (!applies(r, i, s, lv))
			continue;
		int ctx = r->ctx[i];
		bool cached = ctx == OTF_RR_RESOURCE || ctx == OTF_RR_REQUEST ||
		              (ctx == OTF_RR_METRIC && lv == LV_DATAPOINT);
		int v = cached ? r->once[i] : -1;
		if (v < 0) {
			otf_ottl_error_t oe;
			rec->cache = (otf_attributes_t){0};
			v = otf_ottl_eval_condition(r->prog[i], 0, rec, &oe);
			if (v < 0 && rec->lazy && rec->lazy->err)
				return OTF_E_UNSUPPORTED; /* the bytes: decode the request */
			if (v < 0) {
				if (r->error_mode == OTF_OTTL_ERROR_PROPAGATE || v == OTF_E_NOMEM) {
					snprintf(why, whylen, "route '%.40s': %.140s", r->names[i],
					         oe.msg);
					return v == OTF_E_NOMEM ? v : OTF_E_INVAL;
				}
				r->eval_errors++;
				snprintf(r->last_error, sizeof r->last_error,
				         "route '%.40s' not taken, its condition failed: %.200s",
				         r->names[i], oe.msg);
				v = 0;
			}
			if (cached)
				r->once[i] = (int8_t)v;
		}
		if (v)
			return (int)i;
	}
	return ROUTE_DEFAULT;
}

/* The decoded request, indexed in step with the byte walk. */
typedef union tree {
	otf_traces_t t;
	otf_logs_t l;
	otf_metrics_t m;
} tree_t;

static int decode(otf__rr_split_t *r, otf_signal_t s, const otf_buf_t *b, tree_t *t, char *why,
                  size_t whylen)
{
	otf_pdata_error_t pe;
	memset(&pe, 0, sizeof pe);
	int rc = s == OTF_SIGNAL_TRACES
	             ? otf_pdata_decode_traces(&t->t, b->data, b->len, &r->arena, NULL, &pe)
	         : s == OTF_SIGNAL_LOGS
	             ? otf_pdata_decode_logs(&t->l, b->data, b->len, &r->arena, NULL, &pe)
	             : otf_pdata_decode_metrics(&t->m, b->data, b->len, &r->arena, NULL, &pe);
	if (rc) {
		char msg[400];
		snprintf(why, whylen, "malformed request: %.180s",
		         otf_pdata_error_format(&pe, msg, sizeof msg));
	}
	return rc;
}

/* Where the conditions read the records: the decoded request (t), or,
 * for logs and traces, each record read lazily from its bytes (t NULL:
 * otf_ottl_lazy_t, the in-place path of filter and transform: no decode of
 * what no condition reads). */
typedef struct walk {
	otf_signal_t s;
	tree_t *t;
	otf_ottl_record_t *rec;
	otf_ottl_lazy_t lz;
	otf_pdata_rec_t in; /* lazy: the current resource and scope */
	otf_arena_t *arena;
	const char *(*header)(const void *user, const char *key);
	const void *user;
} walk_t;

/* Lazy: no count to check the byte walk against. */
#define UNCOUNTED LONG_MAX

/* Lazy: rec is the record with bytes x (empty: a container's decision). */
static void lazy_at(walk_t *w, otf_bytes_t x)
{
	w->in.record = x;
	otf_ottl_lazy_init(&w->lz, w->rec, w->s, &w->in, w->arena);
	w->rec->request_header = w->header;
	w->rec->request_user = w->user;
}

/* Points rec at resource i (bytes g); its scope count, or -1 when the
 * tree has no such resource (views and decoder disagree). */
static long at_resource(walk_t *w, size_t i, otf_bytes_t g)
{
	otf_ottl_record_t *rec = w->rec;
	tree_t *t = w->t;
	otf_signal_t s = w->s;
	if (!t) {
		otf_view_group_t vg;
		if (otf_view_group_read(g, &vg))
			return -1;
		w->in.resource = vg.head;
		w->in.resource_schema_url = vg.schema_url;
		w->in.scope = w->in.scope_schema_url = (otf_bytes_t){NULL, 0};
		lazy_at(w, (otf_bytes_t){NULL, 0});
		return UNCOUNTED;
	}
	if (s == OTF_SIGNAL_TRACES && i < t->t.resource_spans_len) {
		otf_resource_spans_t *x = &t->t.resource_spans[i];
		rec->resource = &x->resource;
		rec->resource_schema_url = &x->schema_url;
		return (long)x->scope_spans_len;
	}
	if (s == OTF_SIGNAL_LOGS && i < t->l.resource_logs_len) {
		otf_resource_logs_t *x = &t->l.resource_logs[i];
		rec->resource = &x->resource;
		rec->resource_schema_url = &x->schema_url;
		return (long)x->scope_logs_len;
	}
	if (s == OTF_SIGNAL_METRICS && i < t->m.resource_metrics_len) {
		otf_resource_metrics_t *x = &t->m.resource_metrics[i];
		rec->resource = &x->resource;
		rec->resource_schema_url = &x->schema_url;
		return (long)x->scope_metrics_len;
	}
	return -1;
}

/* Points rec at scope j (bytes g) of resource i; its record count, or -1. */
static long at_scope(walk_t *w, size_t i, size_t j, otf_bytes_t g)
{
	otf_ottl_record_t *rec = w->rec;
	tree_t *t = w->t;
	otf_signal_t s = w->s;
	if (!t) {
		otf_view_group_t vg;
		if (otf_view_group_read(g, &vg))
			return -1;
		w->in.scope = vg.head;
		w->in.scope_schema_url = vg.schema_url;
		lazy_at(w, (otf_bytes_t){NULL, 0});
		return UNCOUNTED;
	}
	if (s == OTF_SIGNAL_TRACES && j < t->t.resource_spans[i].scope_spans_len) {
		otf_scope_spans_t *x = &t->t.resource_spans[i].scope_spans[j];
		rec->scope = &x->scope;
		rec->scope_schema_url = &x->schema_url;
		return (long)x->spans_len;
	}
	if (s == OTF_SIGNAL_LOGS && j < t->l.resource_logs[i].scope_logs_len) {
		otf_scope_logs_t *x = &t->l.resource_logs[i].scope_logs[j];
		rec->scope = &x->scope;
		rec->scope_schema_url = &x->schema_url;
		return (long)x->log_records_len;
	}
	if (s == OTF_SIGNAL_METRICS && j < t->m.resource_metrics[i].scope_metrics_len) {
		otf_scope_metrics_t *x = &t->m.resource_metrics[i].scope_metrics[j];
		rec->scope = &x->scope;
		rec->scope_schema_url = &x->schema_url;
		return (long)x->metrics_len;
	}
	return -1;
}

/* Points rec at record k (bytes x) of scope j of resource i (bounds
 * checked). */
static void at_record(walk_t *w, size_t i, size_t j, size_t k, otf_bytes_t x)
{
	tree_t *t = w->t;
	if (!t)
		lazy_at(w, x);
	else if (w->s == OTF_SIGNAL_TRACES)
		w->rec->span = &t->t.resource_spans[i].scope_spans[j].spans[k];
	else if (w->s == OTF_SIGNAL_LOGS)
		w->rec->log = &t->l.resource_logs[i].scope_logs[j].log_records[k];
	else
		w->rec->metric = &t->m.resource_metrics[i].scope_metrics[j].metrics[k];
}

/* The routes of a metric's data points (split by data point). */
static int classify_points(otf__rr_split_t *r, otf_bytes_t metric, long ki, cls_t *c,
                           otf_ottl_record_t *rec, char *why, size_t whylen)
{
	otf_view_metric_t vm;
	int rc = otf_view_metric_read(metric, &vm);
	if (rc)
		return rc;
	forget(r, OTF_RR_METRIC);
	otf_view_dp_iter_t it;
	otf_bytes_t dp;
	size_t d = 0;
	otf_view_data_points(&it, &vm);
	while ((rc = otf_view_dp_next(&it, &dp)) > 0) {
		if (d >= rec->metric->data_points_len)
			return OTF_E_INVAL;
		rec->datapoint_index = d++;
		int route = decide(r, OTF_SIGNAL_METRICS, LV_DATAPOINT, rec, why, whylen);
		long di = route < ROUTE_DEFAULT ? -1 : push(r, &c->dp, 0);
		if (di < 0)
			return route < ROUTE_DEFAULT ? route : OTF_E_NOMEM;
		c->dp.v[di].mask = BIT(route);
		c->rec.v[ki].mask |= BIT(route);
	}
	if (rc < 0)
		return rc;
	if (d != rec->metric->data_points_len)
		return OTF_E_INVAL;
	if (!d) {
		int route = decide(r, OTF_SIGNAL_METRICS, LV_METRIC, rec, why, whylen);
		if (route < ROUTE_DEFAULT)
			return route;
		c->rec.v[ki].mask = BIT(route);
	}
	return 0;
}

/* The records of scope j of resource i. */
static int classify_records(otf__rr_split_t *r, walk_t *w, otf_bytes_t scope, size_t i, size_t j,
                            long nrec, long si, cls_t *c, char *why, size_t whylen)
{
	otf_signal_t s = w->s;
	otf_ottl_record_t *rec = w->rec;
	otf_view_iter_t it;
	otf_bytes_t x;
	int rc;
	long k = 0;
	otf_view_records(&it, scope);
	while ((rc = otf_view_iter_next(&it, &x)) > 0) {
		if (k >= nrec)
			return OTF_E_INVAL;
		at_record(w, i, j, (size_t)k++, x);
		long ki = push(r, &c->rec, c->dp.n);
		if (ki < 0)
			return OTF_E_NOMEM;
		if (s == OTF_SIGNAL_METRICS && r->by_datapoint) {
			if ((rc = classify_points(r, x, ki, c, rec, why, whylen)))
				return rc;
		} else {
			int route = decide(r, s, LV_RECORD, rec, why, whylen);
			if (route < ROUTE_DEFAULT)
				return route;
			c->rec.v[ki].mask = BIT(route);
		}
		c->scope.v[si].mask |= c->rec.v[ki].mask;
	}
	rec->span = NULL;
	rec->log = NULL;
	rec->metric = NULL;
	if (rc < 0)
		return rc;
	if (k != nrec && nrec != UNCOUNTED)
		return OTF_E_INVAL;
	if (!k) {
		if (!w->t)
			lazy_at(w, (otf_bytes_t){NULL, 0});
		int route = decide(r, s, LV_SCOPE, rec, why, whylen);
		if (route < ROUTE_DEFAULT)
			return route;
		c->scope.v[si].mask = BIT(route);
	}
	return 0;
}

/* Every record of the request: c holds each container's routes; *all the
 * union. 0, or a negative code with why set when it says more. */
static int classify(otf__rr_split_t *r, walk_t *w, const otf_buf_t *b, cls_t *c, uint64_t *all,
                    char *why, size_t whylen)
{
	otf_ottl_record_t *rec = w->rec;
	otf_view_iter_t rit, sit;
	otf_bytes_t rg, sg;
	int rc;
	size_t i = 0;
	forget(r, OTF_RR_REQUEST);
	otf_view_resources(&rit, b->data, b->len);
	while ((rc = otf_view_iter_next(&rit, &rg)) > 0) {
		long nscopes = at_resource(w, i, rg);
		long ri = nscopes < 0 ? -1 : push(r, &c->res, c->scope.n);
		if (ri < 0)
			return nscopes < 0 ? OTF_E_INVAL : OTF_E_NOMEM;
		forget(r, OTF_RR_RESOURCE);
		long j = 0;
		otf_view_scopes(&sit, rg);
		while ((rc = otf_view_iter_next(&sit, &sg)) > 0) {
			long nrec = j < nscopes ? at_scope(w, i, (size_t)j, sg) : -1;
			long si = nrec < 0 ? -1 : push(r, &c->scope, c->rec.n);
			if (si < 0)
				return nrec < 0 ? OTF_E_INVAL : OTF_E_NOMEM;
			if ((rc = classify_records(r, w, sg, i, (size_t)j, nrec, si, c, why,
			                           whylen)))
				return rc;
			c->res.v[ri].mask |= c->scope.v[si].mask;
			j++;
		}
		rec->scope = NULL;
		rec->scope_schema_url = NULL;
		if (rc < 0)
			return rc;
		if (j != nscopes && nscopes != UNCOUNTED)
			return OTF_E_INVAL;
		if (!j) {
			if (!w->t)
				at_resource(w, i, rg);
			int route = decide(r, w->s, LV_RESOURCE, rec, why, whylen);
			if (route < ROUTE_DEFAULT)
				return route;
			c->res.v[ri].mask = BIT(route);
		}
		*all |= c->res.v[ri].mask;
		i++;
	}
	return rc;
}

/* ---- building a route's request from the input's bytes ---- */

/* v as a varint at dst, or only its size when dst is NULL (the sizing pass). */
static size_t put_varint(uint8_t *dst, uint64_t v)
{
	return dst ? (size_t)(otf__pb_varint_put(dst, v) - dst) : otf__pb_varint_len(v);
}

/* A length-delimited field's tag (one byte: fields 1..15) and length. */
static size_t put_header(uint8_t *dst, uint32_t field, size_t len)
{
	if (dst)
		dst[0] = (uint8_t)(field << 3 | 2);
	return 1 + put_varint(dst ? dst + 1 : NULL, len);
}

static size_t put_bytes(uint8_t *dst, otf_bytes_t b)
{
	if (dst && b.len)
		memcpy(dst, b.ptr, b.len);
	return b.len;
}

/* Every occurrence of length-delimited field f of msg, verbatim. */
static size_t copy_field(uint8_t *dst, otf_bytes_t msg, uint32_t f)
{
	otf_view_iter_t it;
	otf_bytes_t c, raw;
	size_t len = 0;
	otf_view_iter_init(&it, msg, f);
	while (otf_view_iter_next_raw(&it, &c, &raw) > 0)
		len += put_bytes(dst ? dst + len : NULL, raw);
	return len;
}

/* A split Resource* or Scope* group's own fields: its head (field 1) and
 * schema_url (3), the decoder's (last) occurrences, read once. */
static size_t envelope(uint8_t *dst, otf_bytes_t msg, node_t *n)
{
	if (!n->env) {
		n->env = true;
		if (otf_view_group_read(msg, &n->group))
			memset(&n->group, 0, sizeof n->group); /* classified before: cannot fail */
	}
	size_t len = 0;
	if (n->group.has_head) {
		len += put_header(dst, 1, n->group.head.len);
		len += put_bytes(dst ? dst + len : NULL, n->group.head);
	}
	if (n->group.schema_url.len) {
		len += put_header(dst ? dst + len : NULL, 3, n->group.schema_url.len);
		len += put_bytes(dst ? dst + len : NULL, n->group.schema_url);
	}
	return len;
}

static bool one_route(uint64_t mask)
{
	return !(mask & (mask - 1));
}

/* A metric split by data point, for route: its Metric message. */
static size_t metric_part(uint8_t *dst, otf_bytes_t metric, const node_t *rn, const cls_t *c,
                          int route)
{
	static const uint32_t fields[] = {1, 2, 3, 12}; /* name, description, unit, metadata */
	size_t len = 0;
	for (size_t f = 0; f < 4; f++)
		len += copy_field(dst ? dst + len : NULL, metric, fields[f]);
	otf_view_metric_t vm;
	if (otf_view_metric_read(metric, &vm))
		return len; /* classified before: cannot fail */
	size_t dlen = 0;
	for (int pass = 0; pass < 2; pass++) {
		uint8_t *d = pass && dst ? dst + len : NULL;
		size_t at = 0;
		if (pass)
			at += put_header(d, (uint32_t)vm.type, dlen);
		size_t start = at;
		if (vm.type != OTF_METRIC_GAUGE && vm.type != OTF_METRIC_SUMMARY &&
		    vm.aggregation_temporality) {
			if (d)
				d[at] = 0x10; /* aggregation_temporality = 2 */
			at++;
			at += put_varint(d ? d + at : NULL,
			                 (uint64_t)(int64_t)vm.aggregation_temporality);
		}
		if (vm.type == OTF_METRIC_SUM && vm.is_monotonic) {
			if (d) {
				d[at] = 0x18; /* is_monotonic = 3 */
				d[at + 1] = 1;
			}
			at += 2;
		}
		otf_view_dp_iter_t it;
		otf_bytes_t dp;
		size_t di = rn->first;
		otf_view_data_points(&it, &vm);
		while (otf_view_dp_next(&it, &dp) > 0) {
			if (c->dp.v[di++].mask & BIT(route)) {
				at += put_header(d ? d + at : NULL, 1, dp.len);
				at += put_bytes(d ? d + at : NULL, dp);
			}
		}
		if (!pass)
			dlen = at - start;
		else
			len += at;
	}
	return len;
}

/* The writers below run twice per route: dst NULL sizes a split
 * container's part and keeps it in its node, dst writes it with those
 * sizes, so every level is walked twice per route whatever the depth. */

/* A Scope* group split between routes, for route: its message. */
static size_t scope_part(uint8_t *dst, otf_bytes_t scope, node_t *sn, cls_t *c, int route)
{
	size_t len = envelope(dst, scope, sn);
	otf_view_iter_t it;
	otf_bytes_t x, raw;
	size_t ki = sn->first;
	otf_view_iter_init(&it, scope, 2);
	while (otf_view_iter_next_raw(&it, &x, &raw) > 0) {
		node_t *kn = &c->rec.v[ki++];
		if (!(kn->mask & BIT(route)))
			continue;
		if (one_route(kn->mask)) {
			len += put_bytes(dst ? dst + len : NULL, raw);
			continue;
		}
		if (!dst)
			kn->size = metric_part(NULL, x, kn, c, route);
		len += put_header(dst ? dst + len : NULL, 2, kn->size);
		if (dst)
			metric_part(dst + len, x, kn, c, route);
		len += kn->size;
	}
	return len;
}

/* A Resource* group split between routes, for route: its message. */
static size_t resource_part(uint8_t *dst, otf_bytes_t res, node_t *rn, cls_t *c, int route)
{
	size_t len = envelope(dst, res, rn);
	otf_view_iter_t it;
	otf_bytes_t x, raw;
	size_t si = rn->first;
	otf_view_iter_init(&it, res, 2);
	while (otf_view_iter_next_raw(&it, &x, &raw) > 0) {
		node_t *sn = &c->scope.v[si++];
		if (!(sn->mask & BIT(route)))
			continue;
		if (one_route(sn->mask)) {
			len += put_bytes(dst ? dst + len : NULL, raw);
			continue;
		}
		if (!dst)
			sn->size = scope_part(NULL, x, sn, c, route);
		len += put_header(dst ? dst + len : NULL, 2, sn->size);
		if (dst)
			scope_part(dst + len, x, sn, c, route);
		len += sn->size;
	}
	return len;
}

/* The request for route; dst NULL: its size. */
static size_t request_part(uint8_t *dst, const otf_buf_t *b, cls_t *c, int route)
{
	otf_view_iter_t it;
	otf_bytes_t x, raw;
	size_t len = 0, ri = 0;
	otf_view_resources(&it, b->data, b->len);
	while (otf_view_iter_next_raw(&it, &x, &raw) > 0) {
		node_t *rn = &c->res.v[ri++];
		if (!(rn->mask & BIT(route)))
			continue;
		if (one_route(rn->mask)) {
			len += put_bytes(dst ? dst + len : NULL, raw);
			continue;
		}
		if (!dst)
			rn->size = resource_part(NULL, x, rn, c, route);
		len += put_header(dst ? dst + len : NULL, 1, rn->size);
		if (dst)
			resource_part(dst + len, x, rn, c, route);
		len += rn->size;
	}
	return len;
}

int otf__rr_split_run(otf__rr_split_t *r, otf_signal_t s, const otf_buf_t *b,
                      const char *(*header)(const void *user, const char *key), const void *user,
                      int *single, otf_buf_t **parts, char *why, size_t whylen)
{
	why[0] = 0;
	*single = ROUTE_DEFAULT;
	tree_t t;
	cls_t c;
	otf_ottl_record_t rec;
	walk_t w = {.s = s, .rec = &rec, .arena = &r->arena, .header = header, .user = user};
	uint64_t all = 0;
	int rc = OTF_E_UNSUPPORTED;
	/* Logs and traces: lazily from the bytes; a record the lazy reader
	 * cannot do (OTF_E_UNSUPPORTED), and metrics: the decoded request. */
	for (int pass = s == OTF_SIGNAL_METRICS; pass < 2 && rc == OTF_E_UNSUPPORTED; pass++) {
		otf_arena_reset(&r->arena);
		memset(&c, 0, sizeof c);
		memset(&rec, 0, sizeof rec);
		rec.arena = &r->arena;
		rec.request_header = header;
		rec.request_user = user;
		all = 0;
		w.t = pass ? &t : NULL;
		rc = pass ? decode(r, s, b, &t, why, whylen) : 0;
		if (!rc)
			rc = classify(r, &w, b, &c, &all, why, whylen);
		if (rc == OTF_E_UNSUPPORTED && !pass)
			why[0] = 0;
	}
	if (rc < 0)
		return rc;
	if (one_route(all)) {
		while (all > 1) {
			all >>= 1;
			(*single)++;
		}
		return 0;
	}
	*single = OTF_RR_SPLIT;
	for (int route = ROUTE_DEFAULT; route < (int)r->n; route++) {
		parts[route + 1] = NULL;
		if (!(all & BIT(route)))
			continue;
		size_t len = request_part(NULL, b, &c, route);
		otf_buf_t *p = otf_buf_create(len ? len : 1);
		if (!p) {
			for (int k = 0; k <= route; k++)
				otf_buf_unref(parts[k]);
			return OTF_E_NOMEM;
		}
		p->len = request_part(p->data, b, &c, route);
		parts[route + 1] = p;
	}
	return 0;
}
