/* processor `interval` (interval.h). */
#include "interval.h"

#include "components/processors/internal/series_node.h"
#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const otf_config_field_t k_pass_schema[] = {
    {.key = "gauge",
     .type = OTF_CFG_BOOL,
     .def = "false",
     .offset = offsetof(otf_interval_pass_t, gauge),
     .desc = "Pass gauges on at once instead of holding their latest point."},
    {.key = "summary",
     .type = OTF_CFG_BOOL,
     .def = "false",
     .offset = offsetof(otf_interval_pass_t, summary),
     .desc = "Pass summaries on at once instead of holding their latest point."},
    OTF_CONFIG_FIELD_END,
};

const otf_config_field_t otf_interval_schema[] = {
    {.key = "interval",
     .type = OTF_CFG_DURATION,
     .def = "60s",
     .min = "1ms",
     .offset = offsetof(otf_interval_config_t, interval_ns),
     .desc = "How often the latest point of each held series is sent (then forgotten)."},
    {.key = "pass_through",
     .type = OTF_CFG_OBJECT,
     .sub = k_pass_schema,
     .offset = offsetof(otf_interval_config_t, pass_through),
     .desc = "Metric types passed on unchanged rather than held."},
    OTF_CONFIG_FIELD_END,
};

/* What a series holds: its latest point as a one-point request, and the
 * keys that group it on output. */
typedef struct held {
	otf_buf_t *blob;
	uint64_t time;
	otf_series_key_t rk, sk, mk;
} held_t;

void otf__interval_free_state(otf_series_entry_t *e)
{
	held_t *h = e->data;
	if (h) {
		otf_buf_unref(h->blob);
		otf_free(h);
	}
	e->data = NULL;
}

static bool is_held(const otf_interval_config_t *c, const otf_metric_t *m)
{
	switch (m->type) {
	case OTF_METRIC_GAUGE:
		return !c->pass_through.gauge;
	case OTF_METRIC_SUMMARY:
		return !c->pass_through.summary;
	case OTF_METRIC_SUM:
		return m->aggregation_temporality == OTF_TEMPORALITY_CUMULATIVE && m->is_monotonic;
	case OTF_METRIC_HISTOGRAM:
	case OTF_METRIC_EXP_HISTOGRAM:
		return m->aggregation_temporality == OTF_TEMPORALITY_CUMULATIVE;
	default:
		return false;
	}
}

/* m with only its point j. */
static otf_metric_t one_point(const otf_metric_t *m, size_t j, uint64_t *time,
                              const otf_attributes_t **attrs)
{
	otf_metric_t x = *m;
	x.data_points_len = 1;
	switch (m->type) {
	case OTF_METRIC_GAUGE:
	case OTF_METRIC_SUM:
		x.data_points.number = &m->data_points.number[j];
		*time = x.data_points.number->time_unix_nano;
		*attrs = &x.data_points.number->attributes;
		break;
	case OTF_METRIC_HISTOGRAM:
		x.data_points.histogram = &m->data_points.histogram[j];
		*time = x.data_points.histogram->time_unix_nano;
		*attrs = &x.data_points.histogram->attributes;
		break;
	case OTF_METRIC_EXP_HISTOGRAM:
		x.data_points.exp_histogram = &m->data_points.exp_histogram[j];
		*time = x.data_points.exp_histogram->time_unix_nano;
		*attrs = &x.data_points.exp_histogram->attributes;
		break;
	default:
		x.data_points.summary = &m->data_points.summary[j];
		*time = x.data_points.summary->time_unix_nano;
		*attrs = &x.data_points.summary->attributes;
		break;
	}
	return x;
}

static int hold(otf_series_map_t *map, const otf_resource_metrics_t *rm,
                const otf_scope_metrics_t *sm, const otf_metric_t *m, size_t j, otf_series_key_t rk,
                otf_series_key_t sk, otf_series_key_t mk, uint64_t now, uint64_t *refused)
{
	uint64_t time;
	const otf_attributes_t *attrs;
	otf_metric_t one = one_point(m, j, &time, &attrs);
	otf_series_entry_t *e;
	int rc = otf__series_map_lock(map, otf__series_point_key(mk, attrs, 0), true, now, &e);
	if (rc == -ENOSPC) {
		(*refused)++;
		otf__series_map_count_refused(map, 1);
		return 0;
	}
	if (rc < 0)
		return rc;
	held_t *h = e->data;
	if (h && time < h->time) {
		otf__series_map_unlock(map, e);
		return 0; /* an older point than the one held */
	}
	otf_scope_metrics_t s1 = *sm;
	s1.metrics = &one;
	s1.metrics_len = 1;
	otf_resource_metrics_t r1 = *rm;
	r1.scope_metrics = &s1;
	r1.scope_metrics_len = 1;
	otf_metrics_t req = {.resource_metrics = &r1, .resource_metrics_len = 1};
	otf_buf_t *blob = NULL;
	rc = otf_pdata_encode_metrics(&req, &blob);
	if (!rc && !h && !(h = otf_calloc(1, sizeof *h)))
		rc = OTF_E_NOMEM;
	if (rc) {
		otf_buf_unref(blob);
		if (!e->data)
			otf__series_map_remove_unlock(map, e);
		else
			otf__series_map_unlock(map, e);
		return rc;
	}
	otf_buf_unref(h->blob);
	*h = (held_t){.blob = blob, .time = time, .rk = rk, .sk = sk, .mk = mk};
	e->data = h;
	otf__series_map_unlock(map, e);
	return 0;
}

int otf__interval_take(const otf_interval_config_t *c, otf_series_map_t *map, otf_metrics_t *md,
                       uint64_t now_ns, uint64_t *held, uint64_t *refused)
{
	size_t ro = 0;
	for (size_t r = 0; r < md->resource_metrics_len; r++) {
		otf_resource_metrics_t *rm = &md->resource_metrics[r];
		otf_series_key_t rk = otf__series_resource_key(&rm->resource);
		size_t so = 0;
		for (size_t s = 0; s < rm->scope_metrics_len; s++) {
			otf_scope_metrics_t *sm = &rm->scope_metrics[s];
			otf_series_key_t sk = otf__series_scope_key(rk, &sm->scope);
			size_t mo = 0;
			for (size_t i = 0; i < sm->metrics_len; i++) {
				otf_metric_t *m = &sm->metrics[i];
				if (!is_held(c, m)) {
					sm->metrics[mo++] = *m;
					continue;
				}
				otf_series_key_t mk = otf__series_metric_key(sk, m);
				for (size_t j = 0; j < m->data_points_len; j++) {
					int rc =
					    hold(map, rm, sm, m, j, rk, sk, mk, now_ns, refused);
					if (rc)
						return rc;
					(*held)++;
				}
			}
			sm->metrics_len = mo;
			if (mo)
				rm->scope_metrics[so++] = *sm;
		}
		rm->scope_metrics_len = so;
		if (so)
			md->resource_metrics[ro++] = *rm;
	}
	md->resource_metrics_len = ro;
	return 0;
}

/* ---- flush ---- */

typedef struct drained {
	held_t *v;
	size_t n, cap;
	int rc;
} drained_t;

static void take_entry(void *user, otf_series_entry_t *e)
{
	drained_t *d = user;
	if (!e->data)
		return;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 256;
		held_t *v = otf_realloc(d->v, cap * sizeof *v);
		if (!v) {
			d->rc = OTF_E_NOMEM; /* this point is lost; counted by the caller */
			return;
		}
		d->v = v;
		d->cap = cap;
	}
	held_t *h = e->data;
	d->v[d->n++] = *h;
	otf_free(h);
	e->data = NULL;
}

static int key_cmp(otf_series_key_t a, otf_series_key_t b)
{
	if (a.a != b.a)
		return a.a < b.a ? -1 : 1;
	return a.b < b.b ? -1 : a.b > b.b;
}

static int held_cmp(const void *x, const void *y)
{
	const held_t *a = x, *b = y;
	int c = key_cmp(a->rk, b->rk);
	if (!c)
		c = key_cmp(a->sk, b->sk);
	if (!c)
		c = key_cmp(a->mk, b->mk);
	return c;
}

static size_t point_size(otf_metric_type_t t)
{
	switch (t) {
	case OTF_METRIC_HISTOGRAM:
		return sizeof(otf_histogram_data_point_t);
	case OTF_METRIC_EXP_HISTOGRAM:
		return sizeof(otf_exp_histogram_data_point_t);
	case OTF_METRIC_SUMMARY:
		return sizeof(otf_summary_data_point_t);
	default:
		return sizeof(otf_number_data_point_t);
	}
}

static const void *point_ptr(const otf_metric_t *m)
{
	return m->data_points.number; /* every member is the array's first byte */
}

static int build(held_t *v, size_t n, otf_arena_t *a, otf_buf_t **out)
{
	otf_metrics_t *one = otf_arena_calloc(a, n, sizeof *one);
	if (!one)
		return OTF_E_NOMEM;
	for (size_t i = 0; i < n; i++) {
		int rc = otf_pdata_decode_metrics(&one[i], v[i].blob->data, v[i].blob->len, a, NULL,
		                                  NULL);
		if (rc)
			return rc;
	}
	size_t nr = 0;
	for (size_t i = 0; i < n; i++)
		nr += !i || key_cmp(v[i].rk, v[i - 1].rk);
	otf_metrics_t md = {.resource_metrics =
	                        otf_arena_calloc(a, nr, sizeof(otf_resource_metrics_t)),
	                    .resource_metrics_len = 0};
	if (!md.resource_metrics)
		return OTF_E_NOMEM;
	for (size_t i = 0; i < n;) {
		size_t re = i, ns = 0;
		while (re < n && !key_cmp(v[re].rk, v[i].rk)) {
			ns += re == i || key_cmp(v[re].sk, v[re - 1].sk);
			re++;
		}
		otf_resource_metrics_t *rm = &md.resource_metrics[md.resource_metrics_len++];
		*rm = one[i].resource_metrics[0];
		rm->scope_metrics = otf_arena_calloc(a, ns, sizeof *rm->scope_metrics);
		rm->scope_metrics_len = 0;
		if (!rm->scope_metrics)
			return OTF_E_NOMEM;
		for (size_t j = i; j < re;) {
			size_t se = j, nm = 0;
			while (se < re && !key_cmp(v[se].sk, v[j].sk)) {
				nm += se == j || key_cmp(v[se].mk, v[se - 1].mk);
				se++;
			}
			otf_scope_metrics_t *sm = &rm->scope_metrics[rm->scope_metrics_len++];
			*sm = one[j].resource_metrics[0].scope_metrics[0];
			sm->metrics = otf_arena_calloc(a, nm, sizeof *sm->metrics);
			sm->metrics_len = 0;
			if (!sm->metrics)
				return OTF_E_NOMEM;
			for (size_t k = j; k < se;) {
				size_t me = k;
				while (me < se && !key_cmp(v[me].mk, v[k].mk))
					me++;
				otf_metric_t *m = &sm->metrics[sm->metrics_len++];
				*m = one[k].resource_metrics[0].scope_metrics[0].metrics[0];
				size_t ps = point_size(m->type);
				uint8_t *pts = otf_arena_alloc(a, (me - k) * ps);
				if (!pts)
					return OTF_E_NOMEM;
				for (size_t q = k; q < me; q++)
					memcpy(pts + (q - k) * ps,
					       point_ptr(&one[q]
					                      .resource_metrics[0]
					                      .scope_metrics[0]
					                      .metrics[0]),
					       ps);
				m->data_points.number = (otf_number_data_point_t *)(void *)pts;
				m->data_points_len = me - k;
				k = me;
			}
			j = se;
		}
		i = re;
	}
	return otf_pdata_encode_metrics(&md, out);
}

int otf__interval_flush(otf_series_map_t *map, otf_buf_t **out, uint64_t *points)
{
	drained_t d = {0};
	*out = NULL;
	*points = 0;
	otf__series_map_drain(map, take_entry, &d);
	int rc = d.rc;
	if (d.n) {
		qsort(d.v, d.n, sizeof *d.v, held_cmp);
		otf_arena_t a;
		otf_arena_init(&a, 0);
		int brc = build(d.v, d.n, &a, out);
		otf_arena_close(&a);
		if (brc)
			rc = brc;
		else
			*points = d.n;
	}
	for (size_t i = 0; i < d.n; i++)
		otf_buf_unref(d.v[i].blob);
	otf_free(d.v);
	return rc;
}

/* ---- node ---- */

typedef struct interval {
	otf_series_node_t sn;
	const otf_interval_config_t *cfg;
	bool refused_logged;
} interval_t;

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	interval_t *p = otf_calloc(1, sizeof *p);
	if (!p)
		return OTF_E_NOMEM;
	p->cfg = ctx->config;
	if (otf__series_node_init(&p->sn, ctx, 0, otf__interval_free_state)) {
		otf_free(p);
		return OTF_E_NOMEM;
	}
	*inst = p;
	return 0;
}

static int start(void *inst)
{
	interval_t *p = inst;
	/* One sender per interval: the state is shared, so worker 0's timer
	 * alone sends it (worker 0 always exists). */
	if (otf_node_worker_index(p->sn.relay.node) != 0)
		return 0;
	return otf__series_node_start_timer(&p->sn, (uint64_t)(p->cfg->interval_ns / 1000000), 1);
}

static void consume(void *inst, otf_msg_t *m)
{
	interval_t *p = inst;
	ottlproc_tree_t t;
	if (otf__ottlproc_decode_msg(m, OTF_SIGNAL_METRICS, &p->sn.arena, &t))
		return;
	uint64_t held = 0, refused = 0;
	int rc = otf__interval_take(p->cfg, p->sn.map, &t.u.metrics, otf__series_mono_ns(), &held,
	                            &refused);
	if (rc) {
		otf_msg_nack(m, rc, rc != OTF_E_NOMEM, "interval: cannot hold the points");
		return;
	}
	if (refused && !p->refused_logged) {
		p->refused_logged = true;
		otf_node_log(p->sn.relay.node, OTF_LOG_WARN,
		             "series bound reached: points of new series are dropped "
		             "(otelcol_processor_series_refused)");
	}
	if (!held && !refused) {
		otf__ottlproc_forward(&p->sn.relay, m);
		return;
	}
	otf__ottlproc_send_tree(&p->sn.relay, m, &t, OTTLPROC_ACK_EMPTY, "interval");
}

static void flush(interval_t *p)
{
	otf_buf_t *out;
	uint64_t points;
	int rc = otf__interval_flush(p->sn.map, &out, &points);
	if (rc)
		otf_node_log(p->sn.relay.node, OTF_LOG_ERROR, "building the interval's metrics: %s",
		             otf_strerror(rc));
	if (!out)
		return;
	otf_msg_t *m = otf_msg_create(p->sn.relay.node, OTF_SIGNAL_METRICS, out, points);
	if (!m)
		return;
	/* calldata 0 marks our own interval messages (the relay's carry a
	 * pending entry). */
	otf_msg_subscribe(m, p->sn.relay.node, OTF_INTEREST_NACK, 0);
	rc = otf_node_send(p->sn.relay.node, m);
	if (rc) {
		otf_node_count(p->sn.relay.node, OTF_COUNTER_DROPPED, OTF_SIGNAL_METRICS, points);
		otf_node_log(p->sn.relay.node, OTF_LOG_WARN, "interval metrics not sent: %s",
		             rc == -EAGAIN ? "downstream queue full" : otf_strerror(rc));
		otf_msg_drop(m);
	}
}

static void control(void *inst, const otf_ctrl_t *c)
{
	interval_t *p = inst;
	if (c->type == OTF_CTRL_TMR) {
		flush(p);
		return;
	}
	if ((c->type == OTF_CTRL_NACK || c->type == OTF_CTRL_ACK) && c->calldata == 0) {
		if (c->type == OTF_CTRL_NACK)
			otf_node_log(p->sn.relay.node, OTF_LOG_WARN,
			             "interval metrics refused downstream: %s", c->reason);
		if (c->payload)
			otf_buf_unref(c->payload);
		return;
	}
	if (c->type == OTF_CTRL_KIL) {
		otf__series_node_stop_timer(&p->sn);
		flush(p); /* what is held is sent before the pipeline stops */
	}
	otf__ottlproc_relay_control(&p->sn.relay, c);
}

static void destroy(void *inst)
{
	interval_t *p = inst;
	otf__series_node_close(&p->sn);
	otf_free(p);
}

const otf_component_factory_t otf_processor_interval_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "interval",
    .description = "Holds the latest point of cumulative sums and histograms, gauges and "
                   "summaries, and sends them at each interval; delta metrics pass.",
    .stability = {OTF_STABILITY_UNDEFINED, OTF_STABILITY_ALPHA, OTF_STABILITY_UNDEFINED},
    .config_schema = otf_interval_schema,
    .config_size = sizeof(otf_interval_config_t),
    .create = {NULL, create, NULL},
    .start = start,
    .consume = {NULL, consume, NULL},
    .control = control,
    .destroy = destroy,
};
