/* processor `cumulativetodelta` (cumulativetodelta.h): cumulative
 * monotonic sums and cumulative histograms to deltas, against a series
 * state shared by the node's instances on every worker (internal/series.h
 * says why shared rather than routed). The request is decoded, converted
 * and re-encoded when a metric converted; otherwise it goes on untouched.
 * A request left without points is acked and not forwarded. */
#include "cumulativetodelta.h"

#include "components/processors/internal/series_node.h"
#include "otflow/alloc.h"
#include "otflow/err.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char *const k_initial[] = {"auto", "keep", "drop", NULL};

#define FILTER(key_, member, desc_)                                                                \
	{                                                                                          \
		.key = key_, .type = OTF_CFG_CUSTOM, .offset = offsetof(otf_ctd_config_t, member), \
		.hint = "mapping: match_type, metrics, metric_types",                              \
		.parse = otf__namefilter_parse, .release = otf__namefilter_release, .desc = desc_  \
	}

const otf_config_field_t otf_ctd_schema[] = {
    FILTER("include", include,
           "Metrics to convert: `match_type` strict or regexp (PCRE2, unanchored), "
           "`metrics` names or patterns, optional `metric_types` [sum, histogram]. "
           "Absent: every cumulative monotonic sum and cumulative histogram."),
    FILTER("exclude", exclude, "Metrics not to convert, same shape; exclude wins over include."),
    {.key = "max_staleness",
     .type = OTF_CFG_DURATION,
     .def = "0s",
     .min = "0s",
     .offset = offsetof(otf_ctd_config_t, max_staleness_ns),
     .desc = "How long the state of a series lives past the time it was last seen "
             "(0: forever, within the bound of 1048576 series shared by all workers)."},
    {.key = "initial_value",
     .type = OTF_CFG_ENUM,
     .def = "auto",
     .enum_values = k_initial,
     .offset = offsetof(otf_ctd_config_t, initial_value),
     .desc = "First point of a series: auto sends it only when its start time is set, "
             "after the processor started and differs from its timestamp; keep sends "
             "it as the delta; drop only remembers it."},
    OTF_CONFIG_FIELD_END,
};

/* ---- conversion ---- */

typedef struct hist_state {
	uint64_t count;
	double sum;
	size_t n;
	uint64_t b[];
} hist_state_t;

void otf__ctd_free_state(otf_series_entry_t *e)
{
	otf_free(e->data);
	e->data = NULL;
}

static bool selected(const otf_ctd_config_t *c, const otf_metric_t *m)
{
	if (m->aggregation_temporality != OTF_TEMPORALITY_CUMULATIVE)
		return false;
	if (m->type == OTF_METRIC_SUM) {
		if (!m->is_monotonic)
			return false;
	} else if (m->type != OTF_METRIC_HISTOGRAM) {
		return false;
	}
	if (c->include.set && (c->include.n || c->include.types) &&
	    !otf__namefilter_match(&c->include, m))
		return false;
	if (c->exclude.set && (c->exclude.n || c->exclude.types) &&
	    otf__namefilter_match(&c->exclude, m))
		return false;
	return true;
}

static bool first_kept(const otf_ctd_config_t *c, uint64_t start, uint64_t time, uint64_t started)
{
	switch (c->initial_value) {
	case OTF_CTD_INITIAL_KEEP:
		return true;
	case OTF_CTD_INITIAL_DROP:
		return false;
	default:
		return start != 0 && start >= started && start != time;
	}
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

/* 1 keep the (rewritten) point, 0 drop it, or a negative code. */
static int number_point(const otf_ctd_config_t *c, otf_series_map_t *map, otf_series_key_t mk,
                        otf_number_data_point_t *p, uint64_t started, uint64_t now,
                        otf_ctd_stats_t *st)
{
	if (p->value_type == OTF_NUMBER_NONE ||
	    (p->flags & OTF_DATA_POINT_FLAG_NO_RECORDED_VALUE) ||
	    (p->value_type == OTF_NUMBER_DOUBLE && isnan(p->value.as_double))) {
		st->dropped++;
		return 0;
	}
	otf_series_key_t k = otf__series_point_key(mk, &p->attributes, p->start_time_unix_nano);
	otf_series_entry_t *e;
	int rc = otf__series_map_lock(map, k, true, now, &e);
	if (rc == -ENOSPC) {
		st->refused++;
		otf__series_map_count_refused(map, 1);
		return 0;
	}
	if (rc < 0)
		return rc;
	bool dbl = p->value_type == OTF_NUMBER_DOUBLE;
	uint64_t cur = dbl ? dbits(p->value.as_double) : (uint64_t)p->value.as_int;
	int keep;
	if (rc == 0) {
		keep = first_kept(c, p->start_time_unix_nano, p->time_unix_nano, started);
	} else if (p->time_unix_nano <= e->u[1]) {
		otf__series_map_unlock(map, e);
		st->dropped++;
		return 0; /* older than what this series already converted */
	} else {
		keep = 1;
		p->start_time_unix_nano = e->u[1];
		if (dbl) {
			double prev = bitsd(e->u[0]), v = p->value.as_double;
			p->value.as_double = v < prev ? v : v - prev;
		} else {
			int64_t prev = (int64_t)e->u[0], v = p->value.as_int;
			p->value.as_int = v < prev ? v : (int64_t)((uint64_t)v - (uint64_t)prev);
		}
	}
	e->u[0] = cur;
	e->u[1] = p->time_unix_nano;
	otf__series_map_unlock(map, e);
	if (!keep)
		st->dropped++;
	return keep;
}

static int hist_point(const otf_ctd_config_t *c, otf_series_map_t *map, otf_series_key_t mk,
                      otf_histogram_data_point_t *p, uint64_t started, uint64_t now,
                      otf_ctd_stats_t *st)
{
	if ((p->flags & OTF_DATA_POINT_FLAG_NO_RECORDED_VALUE) || (p->has_sum && isnan(p->sum))) {
		st->dropped++;
		return 0;
	}
	otf_series_key_t k = otf__series_point_key(mk, &p->attributes, p->start_time_unix_nano);
	otf_series_entry_t *e;
	int rc = otf__series_map_lock(map, k, true, now, &e);
	if (rc == -ENOSPC) {
		st->refused++;
		otf__series_map_count_refused(map, 1);
		return 0;
	}
	if (rc < 0)
		return rc;
	int keep;
	hist_state_t *h = e->data;
	if (rc == 1 && p->time_unix_nano <= e->u[1]) {
		otf__series_map_unlock(map, e);
		st->dropped++;
		return 0;
	}
	if (!h || h->n != p->bucket_counts_len) {
		hist_state_t *nh =
		    otf_realloc(h, sizeof *h + p->bucket_counts_len * sizeof h->b[0]);
		if (!nh) {
			if (rc == 0)
				otf__series_map_remove_unlock(map, e);
			else
				otf__series_map_unlock(map, e);
			return OTF_E_NOMEM;
		}
		if (!h)
			memset(nh, 0, sizeof *nh);
		else
			nh->count = UINT64_MAX; /* layout changed: a reset */
		h = e->data = nh;
		h->n = p->bucket_counts_len;
	}
	uint64_t count = p->count;
	double sum = p->sum;
	bool subtract = false;
	if (rc == 0) {
		keep = first_kept(c, p->start_time_unix_nano, p->time_unix_nano, started);
	} else {
		keep = 1;
		p->start_time_unix_nano = e->u[1];
		p->has_min = p->has_max = false;
		subtract = count >= h->count; /* else a reset: the value is the delta */
		if (subtract) {
			p->count = count - h->count;
			p->sum = sum - h->sum;
		}
	}
	/* The state keeps the cumulative point as received. */
	for (size_t i = 0; i < h->n; i++) {
		uint64_t cur = p->bucket_counts[i];
		if (subtract)
			p->bucket_counts[i] = cur - (h->b[i] <= cur ? h->b[i] : cur);
		h->b[i] = cur;
	}
	h->count = count;
	h->sum = sum;
	e->u[1] = p->time_unix_nano;
	otf__series_map_unlock(map, e);
	if (!keep)
		st->dropped++;
	return keep;
}

int otf__ctd_apply(const otf_ctd_config_t *c, otf_series_map_t *map, otf_metrics_t *md,
                   uint64_t start_ns, uint64_t now_ns, otf_ctd_stats_t *st)
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
				if (!selected(c, m)) {
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
						keep = number_point(c, map, mk, p, start_ns, now_ns,
						                    st);
						if (keep > 0)
							m->data_points.number[o++] = *p;
					} else {
						otf_histogram_data_point_t *p =
						    &m->data_points.histogram[j];
						keep =
						    hist_point(c, map, mk, p, start_ns, now_ns, st);
						if (keep > 0)
							m->data_points.histogram[o++] = *p;
					}
					if (keep < 0)
						return keep;
				}
				st->converted += o;
				st->metrics++;
				m->data_points_len = o;
				m->aggregation_temporality = OTF_TEMPORALITY_DELTA;
				if (o)
					sm->metrics[mo++] = *m;
			}
			sm->metrics_len = mo;
		}
	}
	return 0;
}

/* ---- node ---- */

typedef struct ctd {
	otf_series_node_t sn;
	const otf_ctd_config_t *cfg;
	uint64_t started;
	uint64_t refused_logged;
} ctd_t;

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	ctd_t *p = otf_calloc(1, sizeof *p);
	if (!p)
		return OTF_E_NOMEM;
	p->cfg = ctx->config;
	p->started = otf__series_unix_ns();
	if (otf__series_node_init(&p->sn, ctx, 0, otf__ctd_free_state)) {
		otf_free(p);
		return OTF_E_NOMEM;
	}
	*inst = p;
	return 0;
}

static int start(void *inst)
{
	ctd_t *p = inst;
	if (p->cfg->max_staleness_ns <= 0)
		return 0;
	/* Sweeps at the staleness period (at least 1 s apart): an entry then
	 * lives at most twice max_staleness past its last point. */
	return otf__series_node_start_timer(&p->sn, (uint64_t)(p->cfg->max_staleness_ns / 1000000),
	                                    1000);
}

static void consume(void *inst, otf_msg_t *m)
{
	ctd_t *p = inst;
	ottlproc_tree_t t;
	if (otf__ottlproc_decode_msg(m, OTF_SIGNAL_METRICS, &p->sn.arena, &t))
		return;
	otf_ctd_stats_t st = {0};
	int rc =
	    otf__ctd_apply(p->cfg, p->sn.map, &t.u.metrics, p->started, otf__series_mono_ns(), &st);
	if (rc) {
		otf_msg_nack(m, rc, false, "cumulativetodelta: out of memory");
		return;
	}
	if (st.refused && !p->refused_logged)
		otf_node_log(p->sn.relay.node, OTF_LOG_WARN,
		             "series bound reached (%zu series): points of new series are dropped "
		             "(otelcol_processor_series_refused)",
		             (size_t)OTF_SERIES_HARD_MAX);
	p->refused_logged += st.refused;
	if (!st.metrics) {
		otf__ottlproc_forward(&p->sn.relay, m);
		return;
	}
	otf__ottlproc_send_tree(&p->sn.relay, m, &t, OTTLPROC_COUNT_DROPPED | OTTLPROC_ACK_EMPTY,
	                        "cumulativetodelta");
}

static void control(void *inst, const otf_ctrl_t *c)
{
	ctd_t *p = inst;
	if (c->type == OTF_CTRL_TMR) {
		otf__series_node_evict(&p->sn, (uint64_t)p->cfg->max_staleness_ns);
		return;
	}
	if (c->type == OTF_CTRL_KIL)
		otf__series_node_stop_timer(&p->sn);
	otf__ottlproc_relay_control(&p->sn.relay, c);
}

static void destroy(void *inst)
{
	ctd_t *p = inst;
	otf__series_node_close(&p->sn);
	otf_free(p);
}

const otf_component_factory_t otf_processor_cumulativetodelta_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "cumulativetodelta",
    .description = "Converts cumulative monotonic sums and cumulative histograms to delta "
                   "temporality (series state shared by all workers).",
    .stability = {OTF_STABILITY_UNDEFINED, OTF_STABILITY_BETA, OTF_STABILITY_UNDEFINED},
    .config_schema = otf_ctd_schema,
    .config_size = sizeof(otf_ctd_config_t),
    .create = {NULL, create, NULL},
    .start = start,
    .consume = {NULL, consume, NULL},
    .control = control,
    .destroy = destroy,
};
