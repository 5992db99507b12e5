/* processor `deltatocumulative` (deltatocumulative.h): delta sums,
 * histograms and exponential histograms to cumulative, the running totals in a series state
 * shared by the node's instances on every worker (internal/series.h says
 * why shared rather than routed). The request is decoded, converted and
 * re-encoded when a metric converted; otherwise it goes on untouched. */
#include "deltatocumulative.h"

#include "components/processors/internal/series_node.h"
#include "otflow/alloc.h"
#include "otflow/err.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

const otf_config_field_t otf_dtc_schema[] = {
    {.key = "max_stale",
     .type = OTF_CFG_DURATION,
     .def = "5m",
     .offset = offsetof(otf_dtc_config_t, max_stale_ns),
     .desc = "How long a series without new samples is kept; then it is removed and its "
             "next sample starts a new total. Must be positive."},
    {.key = "max_streams",
     .type = OTF_CFG_INT,
     .def = "9223372036854775807",
     .min = "0",
     .offset = offsetof(otf_dtc_config_t, max_streams),
     .desc =
         "Upper limit of series tracked (all workers together; 0: no limit; at most 1048576 here "
         "whatever the value); samples of new series past it are dropped and counted "
         "(otelcol_processor_series_refused)."},
    OTF_CONFIG_FIELD_END,
};

int otf__dtc_validate(const void *config, char *err, size_t errlen)
{
	const otf_dtc_config_t *c = config;
	if (c->max_stale_ns <= 0) {
		snprintf(err, errlen, "max_stale must be a positive duration (got %lld ns)",
		         (long long)c->max_stale_ns);
		return OTF_E_CONFIG;
	}
	return 0;
}

/* Histogram totals: buckets then bounds in one block. */
typedef struct hist_total {
	uint64_t count;
	double sum, min, max;
	bool has_sum, has_min, has_max;
	size_t nb, nx;
	uint64_t *b;
	double *x;
} hist_total_t;

void otf__dtc_free_state(otf_series_entry_t *e)
{
	if (e->u[3] == OTF_DTC_EXPO_TAG)
		otf__dtc_expo_free(e->data);
	else
		otf_free(e->data);
	e->data = NULL;
}

static uint64_t dbits(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof u);
	return u;
}

static double bitsd(uint64_t u)
{
	double d;
	memcpy(&d, &u, sizeof d);
	return d;
}

/* u[0] total (int64 or double bits), u[1] last timestamp, u[2] start,
 * u[3] value type. 1 keep, 0 drop, negative code. */
static int number_point(otf_series_map_t *map, otf_series_key_t mk, otf_number_data_point_t *p,
                        uint64_t now, otf_dtc_stats_t *st)
{
	if (p->value_type == OTF_NUMBER_NONE) {
		st->dropped++;
		return 0;
	}
	otf_series_entry_t *e;
	int rc =
	    otf__series_map_lock(map, otf__series_point_key(mk, &p->attributes, 0), true, now, &e);
	if (rc == -ENOSPC) {
		st->refused++;
		otf__series_map_count_refused(map, 1);
		return 0;
	}
	if (rc < 0)
		return rc;
	bool dbl = p->value_type == OTF_NUMBER_DOUBLE;
	if (rc == 0) {
		e->u[0] = dbl ? dbits(p->value.as_double) : (uint64_t)p->value.as_int;
		e->u[2] = p->start_time_unix_nano;
		e->u[3] = (uint64_t)p->value_type;
	} else if (p->start_time_unix_nano < e->u[2] || p->time_unix_nano <= e->u[1] ||
	           e->u[3] != (uint64_t)p->value_type) {
		otf__series_map_unlock(map, e);
		st->dropped++;
		return 0;
	} else if (dbl) {
		p->value.as_double += bitsd(e->u[0]);
		e->u[0] = dbits(p->value.as_double);
	} else {
		p->value.as_int = (int64_t)((uint64_t)p->value.as_int + e->u[0]);
		e->u[0] = (uint64_t)p->value.as_int;
	}
	e->u[1] = p->time_unix_nano;
	p->start_time_unix_nano = e->u[2];
	otf__series_map_unlock(map, e);
	return 1;
}

static int hist_point(otf_series_map_t *map, otf_series_key_t mk, otf_histogram_data_point_t *p,
                      uint64_t now, otf_dtc_stats_t *st)
{
	otf_series_entry_t *e;
	int rc =
	    otf__series_map_lock(map, otf__series_point_key(mk, &p->attributes, 0), true, now, &e);
	if (rc == -ENOSPC) {
		st->refused++;
		otf__series_map_count_refused(map, 1);
		return 0;
	}
	if (rc < 0)
		return rc;
	hist_total_t *h = e->data;
	if (rc == 0) {
		size_t nb = p->bucket_counts_len, nx = p->explicit_bounds_len;
		h = otf_calloc(1, sizeof *h + nb * sizeof *h->b + nx * sizeof *h->x);
		if (!h) {
			otf__series_map_remove_unlock(map, e);
			return OTF_E_NOMEM;
		}
		uint8_t *mem = (uint8_t *)(h + 1); /* buckets, then bounds: 8-byte items */
		h->b = (uint64_t *)(void *)mem;
		h->x = (double *)(void *)(mem + nb * sizeof *h->b);
		h->nb = nb;
		h->nx = nx;
		if (nx)
			memcpy(h->x, p->explicit_bounds, nx * sizeof *h->x);
		e->data = h;
		e->u[2] = p->start_time_unix_nano;
	} else if (p->start_time_unix_nano < e->u[2] || p->time_unix_nano <= e->u[1] ||
	           h->nb != p->bucket_counts_len || h->nx != p->explicit_bounds_len ||
	           (h->nx && memcmp(h->x, p->explicit_bounds, h->nx * sizeof *h->x))) {
		otf__series_map_unlock(map, e);
		st->dropped++;
		return 0;
	}
	h->count += p->count;
	p->count = h->count;
	for (size_t i = 0; i < h->nb; i++) {
		h->b[i] += p->bucket_counts[i];
		p->bucket_counts[i] = h->b[i];
	}
	if (p->has_sum) {
		h->sum += p->sum;
		h->has_sum = true;
	}
	p->has_sum = h->has_sum;
	p->sum = h->sum;
	if (p->has_min && (!h->has_min || p->min < h->min)) {
		h->min = p->min;
		h->has_min = true;
	}
	if (p->has_max && (!h->has_max || p->max > h->max)) {
		h->max = p->max;
		h->has_max = true;
	}
	p->has_min = h->has_min;
	p->min = h->min;
	p->has_max = h->has_max;
	p->max = h->max;
	e->u[1] = p->time_unix_nano;
	p->start_time_unix_nano = e->u[2];
	otf__series_map_unlock(map, e);
	return 1;
}

int otf__dtc_apply(otf_series_map_t *map, otf_metrics_t *md, uint64_t now_ns, otf_arena_t *arena,
                   otf_dtc_stats_t *st)
{
	for (size_t r = 0; r < md->resource_metrics_len; r++) {
		otf_resource_metrics_t *rm = &md->resource_metrics[r];
		otf_series_key_t rk = otf__series_resource_key(&rm->resource);
		for (size_t s = 0; s < rm->scope_metrics_len; s++) {
			otf_scope_metrics_t *sm = &rm->scope_metrics[s];
			otf_series_key_t sk = otf__series_scope_key(rk, &sm->scope);
			size_t mo = 0;
			for (size_t i = 0; i < sm->metrics_len; i++) {
				otf_metric_t *m = &sm->metrics[i];
				if (m->aggregation_temporality != OTF_TEMPORALITY_DELTA ||
				    (m->type != OTF_METRIC_SUM && m->type != OTF_METRIC_HISTOGRAM &&
				     m->type != OTF_METRIC_EXP_HISTOGRAM)) {
					sm->metrics[mo++] = *m;
					continue;
				}
				otf_series_key_t mk = otf__series_metric_key(sk, m);
				size_t o = 0;
				for (size_t j = 0; j < m->data_points_len; j++) {
					int keep;
					if (m->type == OTF_METRIC_SUM) {
						otf_number_data_point_t *p =
						    &m->data_points.number[j];
						keep = number_point(map, mk, p, now_ns, st);
						if (keep > 0)
							m->data_points.number[o++] = *p;
					} else if (m->type == OTF_METRIC_HISTOGRAM) {
						otf_histogram_data_point_t *p =
						    &m->data_points.histogram[j];
						keep = hist_point(map, mk, p, now_ns, st);
						if (keep > 0)
							m->data_points.histogram[o++] = *p;
					} else {
						otf_exp_histogram_data_point_t *p =
						    &m->data_points.exp_histogram[j];
						keep = otf__dtc_expo_point(map, mk, p, now_ns,
						                           arena, st);
						if (keep > 0)
							m->data_points.exp_histogram[o++] = *p;
					}
					if (keep < 0)
						return keep;
				}
				st->converted += o;
				st->metrics++;
				m->data_points_len = o;
				m->aggregation_temporality = OTF_TEMPORALITY_CUMULATIVE;
				if (o)
					sm->metrics[mo++] = *m;
			}
			sm->metrics_len = mo;
		}
	}
	return 0;
}

/* ---- node ---- */

typedef struct dtc {
	otf_series_node_t sn;
	const otf_dtc_config_t *cfg;
	uint64_t refused_logged;
} dtc_t;

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	dtc_t *p = otf_calloc(1, sizeof *p);
	if (!p)
		return OTF_E_NOMEM;
	p->cfg = ctx->config;
	/* 0: no limit (the Collector's "0 disables"), the map's hard bound. */
	size_t max = p->cfg->max_streams > 0 ? (size_t)p->cfg->max_streams : 0;
	if (otf__series_node_init(&p->sn, ctx, max, otf__dtc_free_state)) {
		otf_free(p);
		return OTF_E_NOMEM;
	}
	*inst = p;
	return 0;
}

static int start(void *inst)
{
	dtc_t *p = inst;
	/* Sweeps at the staleness period (at least 1 s apart). */
	return otf__series_node_start_timer(&p->sn, (uint64_t)(p->cfg->max_stale_ns / 1000000),
	                                    1000);
}

static void consume(void *inst, otf_msg_t *m)
{
	dtc_t *p = inst;
	ottlproc_tree_t t;
	if (otf__ottlproc_decode_msg(m, OTF_SIGNAL_METRICS, &p->sn.arena, &t))
		return;
	otf_dtc_stats_t st = {0};
	int rc = otf__dtc_apply(p->sn.map, &t.u.metrics, otf__series_mono_ns(), &p->sn.arena, &st);
	if (rc) {
		otf_msg_nack(m, rc, false, "deltatocumulative: out of memory");
		return;
	}
	if (st.refused && !p->refused_logged)
		otf_node_log(p->sn.relay.node, OTF_LOG_WARN,
		             "max_streams reached: samples of new series are dropped "
		             "(otelcol_processor_series_refused)");
	p->refused_logged += st.refused;
	if (!st.metrics) {
		otf__ottlproc_forward(&p->sn.relay, m);
		return;
	}
	otf__ottlproc_send_tree(&p->sn.relay, m, &t, OTTLPROC_COUNT_DROPPED | OTTLPROC_ACK_EMPTY,
	                        "deltatocumulative");
}

static void control(void *inst, const otf_ctrl_t *c)
{
	dtc_t *p = inst;
	if (c->type == OTF_CTRL_TMR) {
		otf__series_node_evict(&p->sn, (uint64_t)p->cfg->max_stale_ns);
		return;
	}
	if (c->type == OTF_CTRL_KIL)
		otf__series_node_stop_timer(&p->sn);
	otf__ottlproc_relay_control(&p->sn.relay, c);
}

static void destroy(void *inst)
{
	dtc_t *p = inst;
	otf__series_node_close(&p->sn);
	otf_free(p);
}

const otf_component_factory_t otf_processor_deltatocumulative_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "deltatocumulative",
    .description = "Converts delta sums and (exponential) histograms to cumulative temporality "
                   "(running totals shared by all workers).",
    .stability = {OTF_STABILITY_UNDEFINED, OTF_STABILITY_ALPHA, OTF_STABILITY_UNDEFINED},
    .config_schema = otf_dtc_schema,
    .config_size = sizeof(otf_dtc_config_t),
    .validate = otf__dtc_validate,
    .create = {NULL, create, NULL},
    .start = start,
    .consume = {NULL, consume, NULL},
    .control = control,
    .destroy = destroy,
};
