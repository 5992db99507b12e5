/* connector `count`: counting one request. The request is decoded into
 * a tree (the OTTL conditions evaluate over it); per resource, each metric
 * definition keeps a small hash table of attribute-value sets -> count, in
 * first-seen order; the counts become one metrics request. Everything of
 * one call lives in one arena, freed before return. */
#include "count.h"

#include "otflow/alloc.h"
#include "otflow/arena.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
	uint64_t hash;
	const uint8_t *key; /* (u32 length, bytes) per attribute */
	size_t klen;
	uint64_t count;
	struct entry *next; /* first-seen order */
} entry_t;

typedef struct tally {
	const otf_count_metric_t *def;
	entry_t **slots;
	size_t cap, n;
	entry_t *first, *last;
} tally_t;

typedef struct ctx {
	otf_arena_t *ar;
	uint8_t *kb;
	size_t kb_len, kb_cap;
	char *err;
	size_t errlen;
} ctx_t;

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

static int kb_put(ctx_t *c, const void *p, size_t n)
{
	if (c->kb_len + n + 4 > c->kb_cap) {
		size_t cap = c->kb_cap ? c->kb_cap * 2 : 256;
		while (cap < c->kb_len + n + 4)
			cap *= 2;
		uint8_t *q = otf_realloc(c->kb, cap);
		if (!q)
			return OTF_E_NOMEM;
		c->kb = q;
		c->kb_cap = cap;
	}
	uint32_t l = (uint32_t)n;
	memcpy(c->kb + c->kb_len, &l, 4);
	if (n)
		memcpy(c->kb + c->kb_len + 4, p, n);
	c->kb_len += 4 + n;
	return 0;
}

/* A value as the string the count's attribute gets (pcommon AsString for
 * scalars; "" for arrays, maps and bytes). */
static otf_bytes_t as_string(ctx_t *c, const otf_any_value_t *v)
{
	char buf[40];
	int n = 0;
	switch (v->type) {
	case OTF_ANY_STRING:
		return v->u.string_value;
	case OTF_ANY_BOOL:
		return v->u.bool_value ? (otf_bytes_t){(const uint8_t *)"true", 4}
		                       : (otf_bytes_t){(const uint8_t *)"false", 5};
	case OTF_ANY_INT:
		n = snprintf(buf, sizeof buf, "%lld", (long long)v->u.int_value);
		break;
	case OTF_ANY_DOUBLE:
		/* The shortest text that reads back as the same double, as Go's
		 * strconv.FormatFloat(f, 'g'/'f', -1, 64) picks. */
		for (int prec = 1; prec <= 17; prec++) {
			n = snprintf(buf, sizeof buf, "%.*g", prec, v->u.double_value);
			if (strtod(buf, NULL) == v->u.double_value)
				break;
		}
		break;
	default:
		return (otf_bytes_t){(const uint8_t *)"", 0};
	}
	void *p = otf_arena_memdup(c->ar, buf, (size_t)n);
	return (otf_bytes_t){p, p ? (size_t)n : 0};
}

static const otf_any_value_t *attr_get(const otf_attributes_t *at, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < at->len; i++)
		if (at->items[i].key.len == kl && !memcmp(at->items[i].key.ptr, key, kl))
			return &at->items[i].value;
	return NULL;
}

/* Counts one record for t: builds its attribute-value key; a record
 * lacking an attribute without default is not counted. */
static int tally_add(ctx_t *c, tally_t *t, const otf_attributes_t *at)
{
	const otf_count_metric_t *d = t->def;
	c->kb_len = 0;
	for (size_t i = 0; i < d->nattrs; i++) {
		const otf_any_value_t *v = at ? attr_get(at, d->attrs[i].key) : NULL;
		otf_bytes_t s;
		if (v)
			s = as_string(c, v);
		else if (d->attrs[i].def)
			s = (otf_bytes_t){(const uint8_t *)d->attrs[i].def,
			                  strlen(d->attrs[i].def)};
		else
			return 0;
		if (kb_put(c, s.ptr, s.len))
			return OTF_E_NOMEM;
	}
	uint64_t h = hash_bytes(c->kb, c->kb_len);
	if (t->cap) {
		for (size_t j = h & (t->cap - 1); t->slots[j]; j = (j + 1) & (t->cap - 1)) {
			entry_t *e = t->slots[j];
			if (e->hash == h && e->klen == c->kb_len &&
			    (!c->kb_len || !memcmp(e->key, c->kb, c->kb_len))) {
				e->count++;
				return 0;
			}
		}
	}
	if ((t->n + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		entry_t **s = otf_arena_calloc(c->ar, cap, sizeof *s);
		if (!s)
			return OTF_E_NOMEM;
		for (entry_t *e = t->first; e; e = e->next) {
			size_t j = e->hash & (cap - 1);
			while (s[j])
				j = (j + 1) & (cap - 1);
			s[j] = e;
		}
		t->slots = s;
		t->cap = cap;
	}
	entry_t *e = otf_arena_calloc(c->ar, 1, sizeof *e);
	if (!e)
		return OTF_E_NOMEM;
	e->key = (const uint8_t *)""; /* no attributes: the one empty key */
	if (c->kb_len && !(e->key = otf_arena_memdup(c->ar, c->kb, c->kb_len)))
		return OTF_E_NOMEM;
	e->hash = h;
	e->klen = c->kb_len;
	e->count = 1;
	size_t j = h & (t->cap - 1);
	while (t->slots[j])
		j = (j + 1) & (t->cap - 1);
	t->slots[j] = e;
	if (t->last)
		t->last->next = e;
	else
		t->first = e;
	t->last = e;
	t->n++;
	return 0;
}

/* Counts rec for every definition of a section whose condition matches. */
static int count_record(ctx_t *c, tally_t *ts, size_t n, otf_ottl_record_t *rec,
                        const otf_attributes_t *at)
{
	for (size_t i = 0; i < n; i++) {
		const otf_count_metric_t *d = ts[i].def;
		if (d->cond) {
			otf_ottl_stats_t st = {0};
			rec->cache = (otf_attributes_t){0};
			int m = otf_ottl_match_any(d->cond, OTF_OTTL_ERROR_PROPAGATE, rec, &st);
			if (m < 0) {
				snprintf(c->err, c->errlen, "metric \"%s\": condition %zu: %s",
				         d->name, st.first_error.index, st.first_error.msg);
				return m;
			}
			if (!m)
				continue;
		}
		int rc = tally_add(c, &ts[i], at);
		if (rc)
			return rc;
	}
	return 0;
}

static const otf_attributes_t *dp_attributes(const otf_metric_t *m, size_t i)
{
	switch (m->type) {
	case OTF_METRIC_GAUGE:
	case OTF_METRIC_SUM:
		return &m->data_points.number[i].attributes;
	case OTF_METRIC_HISTOGRAM:
		return &m->data_points.histogram[i].attributes;
	case OTF_METRIC_EXP_HISTOGRAM:
		return &m->data_points.exp_histogram[i].attributes;
	case OTF_METRIC_SUMMARY:
		return &m->data_points.summary[i].attributes;
	default:
		return NULL;
	}
}

/* Tallies for the two sections of a signal (one for logs), per resource. */
typedef struct group {
	tally_t *t;
	size_t n0, n; /* first section's count, total */
} group_t;

static int group_init(ctx_t *c, group_t *g, const otf_count_defs_t *a, const otf_count_defs_t *b)
{
	g->n0 = a->n;
	g->n = a->n + (b ? b->n : 0);
	g->t = otf_arena_calloc(c->ar, g->n ? g->n : 1, sizeof *g->t);
	if (!g->t)
		return OTF_E_NOMEM;
	for (size_t i = 0; i < g->n; i++)
		g->t[i].def = i < a->n ? &a->items[i] : &b->items[i - a->n];
	return 0;
}

/* Appends the resource's counts (if any) to *m. */
static int group_emit(ctx_t *c, const group_t *g, const otf_resource_t *res, otf_metrics_t *m,
                      size_t cap, uint64_t now, uint64_t *points)
{
	size_t nm = 0;
	for (size_t i = 0; i < g->n; i++)
		nm += g->t[i].n > 0;
	if (!nm)
		return 0; /* as the Collector: no empty resource */
	if (m->resource_metrics_len >= cap)
		return OTF_E_INVAL;
	otf_resource_metrics_t *rm = &m->resource_metrics[m->resource_metrics_len++];
	rm->resource.attributes = res->attributes;
	otf_scope_metrics_t *sm = otf_arena_calloc(c->ar, 1, sizeof *sm);
	otf_metric_t *mt = otf_arena_calloc(c->ar, nm, sizeof *mt);
	if (!sm || !mt)
		return OTF_E_NOMEM;
	rm->scope_metrics = sm;
	rm->scope_metrics_len = 1;
	sm->scope.name = (otf_bytes_t){(const uint8_t *)"otelcol/countconnector", 22};
	sm->metrics = mt;
	for (size_t i = 0; i < g->n; i++) {
		const tally_t *t = &g->t[i];
		if (!t->n)
			continue;
		otf_metric_t *x = &mt[sm->metrics_len++];
		x->name = (otf_bytes_t){(const uint8_t *)t->def->name, strlen(t->def->name)};
		if (t->def->desc)
			x->description =
			    (otf_bytes_t){(const uint8_t *)t->def->desc, strlen(t->def->desc)};
		x->type = OTF_METRIC_SUM;
		x->is_monotonic = true;
		x->aggregation_temporality = OTF_TEMPORALITY_DELTA;
		x->data_points.number =
		    otf_arena_calloc(c->ar, t->n, sizeof(otf_number_data_point_t));
		if (!x->data_points.number)
			return OTF_E_NOMEM;
		x->data_points_len = t->n;
		size_t k = 0;
		for (const entry_t *e = t->first; e; e = e->next, k++) {
			otf_number_data_point_t *dp = &x->data_points.number[k];
			dp->time_unix_nano = now;
			dp->value_type = OTF_NUMBER_INT;
			dp->value.as_int = (int64_t)e->count;
			size_t na = t->def->nattrs;
			if (na) {
				otf_key_value_t *kv = otf_arena_calloc(c->ar, na, sizeof *kv);
				if (!kv)
					return OTF_E_NOMEM;
				const uint8_t *p = e->key;
				for (size_t a = 0; a < na; a++) {
					uint32_t l;
					memcpy(&l, p, 4);
					kv[a].key =
					    (otf_bytes_t){(const uint8_t *)t->def->attrs[a].key,
					                  strlen(t->def->attrs[a].key)};
					kv[a].value.type = OTF_ANY_STRING;
					kv[a].value.u.string_value = (otf_bytes_t){p + 4, l};
					p += 4 + l;
				}
				dp->attributes = (otf_attributes_t){kv, na};
			}
			(*points)++;
		}
	}
	return 0;
}

static int count_traces(ctx_t *c, const otf_count_config_t *cfg, otf_traces_t *t, otf_metrics_t *m,
                        uint64_t now, uint64_t *points)
{
	const otf_count_defs_t *sd = otf_count_section(cfg, OTF_COUNT_SPANS);
	const otf_count_defs_t *ed = otf_count_section(cfg, OTF_COUNT_SPANEVENTS);
	for (size_t r = 0; r < t->resource_spans_len; r++) {
		otf_resource_spans_t *rs = &t->resource_spans[r];
		group_t g;
		int rc = group_init(c, &g, sd, ed);
		if (rc)
			return rc;
		for (size_t s = 0; s < rs->scope_spans_len; s++) {
			otf_scope_spans_t *ss = &rs->scope_spans[s];
			otf_ottl_record_t rec = {.resource = &rs->resource,
			                         .resource_schema_url = &rs->schema_url,
			                         .scope = &ss->scope,
			                         .scope_schema_url = &ss->schema_url,
			                         .arena = c->ar};
			for (size_t i = 0; i < ss->spans_len; i++) {
				otf_span_t *sp = &ss->spans[i];
				rec.span = sp;
				rec.event = NULL;
				if ((rc = count_record(c, g.t, g.n0, &rec, &sp->attributes)))
					return rc;
				for (size_t e = 0; e < sp->events_len; e++) {
					rec.event = &sp->events[e];
					if ((rc = count_record(c, g.t + g.n0, g.n - g.n0, &rec,
					                       &sp->events[e].attributes)))
						return rc;
				}
			}
		}
		if ((rc = group_emit(c, &g, &rs->resource, m, t->resource_spans_len, now, points)))
			return rc;
	}
	return 0;
}

static int count_metrics(ctx_t *c, const otf_count_config_t *cfg, otf_metrics_t *in,
                         otf_metrics_t *m, uint64_t now, uint64_t *points)
{
	const otf_count_defs_t *md = otf_count_section(cfg, OTF_COUNT_METRICS);
	const otf_count_defs_t *dd = otf_count_section(cfg, OTF_COUNT_DATAPOINTS);
	for (size_t r = 0; r < in->resource_metrics_len; r++) {
		otf_resource_metrics_t *rm = &in->resource_metrics[r];
		group_t g;
		int rc = group_init(c, &g, md, dd);
		if (rc)
			return rc;
		for (size_t s = 0; s < rm->scope_metrics_len; s++) {
			otf_scope_metrics_t *sm = &rm->scope_metrics[s];
			otf_ottl_record_t rec = {.resource = &rm->resource,
			                         .resource_schema_url = &rm->schema_url,
			                         .scope = &sm->scope,
			                         .scope_schema_url = &sm->schema_url,
			                         .arena = c->ar};
			for (size_t i = 0; i < sm->metrics_len; i++) {
				otf_metric_t *mt = &sm->metrics[i];
				rec.metric = mt;
				if ((rc = count_record(c, g.t, g.n0, &rec, NULL)))
					return rc;
				if (mt->type == OTF_METRIC_NONE) {
					snprintf(c->err, c->errlen,
					         "metric \"%.*s\": invalid metric type: Empty",
					         (int)mt->name.len, (const char *)mt->name.ptr);
					return OTF_E_INVAL;
				}
				for (size_t d = 0; d < mt->data_points_len; d++) {
					rec.datapoint_index = d;
					if ((rc = count_record(c, g.t + g.n0, g.n - g.n0, &rec,
					                       dp_attributes(mt, d))))
						return rc;
				}
			}
		}
		if ((rc = group_emit(c, &g, &rm->resource, m, in->resource_metrics_len, now,
		                     points)))
			return rc;
	}
	return 0;
}

static int count_logs(ctx_t *c, const otf_count_config_t *cfg, otf_logs_t *l, otf_metrics_t *m,
                      uint64_t now, uint64_t *points)
{
	const otf_count_defs_t *ld = otf_count_section(cfg, OTF_COUNT_LOGS);
	for (size_t r = 0; r < l->resource_logs_len; r++) {
		otf_resource_logs_t *rl = &l->resource_logs[r];
		group_t g;
		int rc = group_init(c, &g, ld, NULL);
		if (rc)
			return rc;
		for (size_t s = 0; s < rl->scope_logs_len; s++) {
			otf_scope_logs_t *sl = &rl->scope_logs[s];
			otf_ottl_record_t rec = {.resource = &rl->resource,
			                         .resource_schema_url = &rl->schema_url,
			                         .scope = &sl->scope,
			                         .scope_schema_url = &sl->schema_url,
			                         .arena = c->ar};
			for (size_t i = 0; i < sl->log_records_len; i++) {
				rec.log = &sl->log_records[i];
				if ((rc = count_record(c, g.t, g.n, &rec,
				                       &sl->log_records[i].attributes)))
					return rc;
			}
		}
		if ((rc = group_emit(c, &g, &rl->resource, m, l->resource_logs_len, now, points)))
			return rc;
	}
	return 0;
}

int otf_count_build(const otf_count_config_t *cfg, otf_signal_t sig, const uint8_t *data,
                    size_t len, uint64_t now, otf_buf_t **out, uint64_t *points, char *err,
                    size_t errlen)
{
	*out = NULL;
	*points = 0;
	if (errlen)
		err[0] = 0;
	otf_arena_t ar;
	otf_arena_init(&ar, 0);
	ctx_t c = {.ar = &ar, .err = err, .errlen = errlen};
	otf_metrics_t m = {0};
	otf_pdata_error_t pe;
	int rc;
	size_t nres = 0;
	union {
		otf_traces_t t;
		otf_metrics_t m;
		otf_logs_t l;
	} in;
	if (sig == OTF_SIGNAL_TRACES) {
		rc = otf_pdata_decode_traces(&in.t, data, len, &ar, NULL, &pe);
		nres = rc ? 0 : in.t.resource_spans_len;
	} else if (sig == OTF_SIGNAL_METRICS) {
		rc = otf_pdata_decode_metrics(&in.m, data, len, &ar, NULL, &pe);
		nres = rc ? 0 : in.m.resource_metrics_len;
	} else {
		rc = otf_pdata_decode_logs(&in.l, data, len, &ar, NULL, &pe);
		nres = rc ? 0 : in.l.resource_logs_len;
	}
	if (rc) {
		char buf[512];
		snprintf(err, errlen, "%s", otf_pdata_error_format(&pe, buf, sizeof buf));
		goto done;
	}
	rc = OTF_E_NOMEM;
	if (!(m.resource_metrics =
	          otf_arena_calloc(&ar, nres ? nres : 1, sizeof(otf_resource_metrics_t))))
		goto done;
	rc = sig == OTF_SIGNAL_TRACES    ? count_traces(&c, cfg, &in.t, &m, now, points)
	     : sig == OTF_SIGNAL_METRICS ? count_metrics(&c, cfg, &in.m, &m, now, points)
	                                 : count_logs(&c, cfg, &in.l, &m, now, points);
	if (rc == 0 && m.resource_metrics_len)
		rc = otf_pdata_encode_metrics(&m, out);
done:
	if (rc == OTF_E_NOMEM && errlen && !err[0])
		snprintf(err, errlen, "out of memory");
	otf_free(c.kb);
	otf_arena_close(&ar);
	return rc;
}
