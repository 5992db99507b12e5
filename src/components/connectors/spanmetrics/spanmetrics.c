/* connector `spanmetrics`: traces in, R.E.D. metrics out (calls and a
 * duration histogram per series), the Collector's spanmetrics connector.
 * Spans are counted (spanmetrics_agg.c) and acked once counted: the
 * connector owns them, as the Collector's ConsumeTraces returns nil.
 * Every metrics_flush_interval (and once at shutdown) the series go out as
 * a new metrics request on the node's metrics outputs.
 *
 * Workers: the node's instances on every worker share one aggregator, so
 * an interval has one series per dimension set and the cardinality limit,
 * the resource cache and the per-node series bound hold for the node, as
 * in the Collector's single process. One mutex guards it, taken once per
 * request (not per span) by the instance that received the request, and
 * by the one instance that flushes (the first created; its timer alone
 * runs). Why a lock and not per-worker state merged at flush: the merge
 * would have to re-key every series, merge exponential histograms of
 * different scales, and still could not apply the cardinality limit when
 * a series is born (a series that overflows on one worker may exist on
 * another); the aggregation under the lock is a few hash lookups per span
 * (docs/benchmarks.md, spanmetrics: ~0.1 us/span), so two workers wait on
 * each other only for that part of their work, never for decoding or
 * receiving. The last instance shut down sends the last interval. */
#include "spanmetrics.h"

#include "otflow/alloc.h"
#include "otflow/component.h"
#include "otflow/engine.h"
#include "otflow/err.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- config ---- */

static void dims_release(void *slot)
{
	otf_sm_dimensions_t *d = slot;
	for (size_t i = 0; i < d->n; i++) {
		otf_free(d->items[i].name);
		otf_free(d->items[i].def);
	}
	otf_free(d->items);
	memset(d, 0, sizeof *d);
}

/* dimensions: a list of {name, default}. */
static int dims_parse(const otf_config_node_t *v, void *slot, otf_config_error_t *err)
{
	otf_sm_dimensions_t *d = slot;
	if (otf_config_node_kind(v) != OTF_CONFIG_SEQUENCE)
		return otf_config_errorf(err, v, "expected a list of {name, default}, got %s",
		                         otf_config_kind_name(v));
	size_t n = otf_config_len(v);
	d->items = otf_calloc(n ? n : 1, sizeof *d->items);
	if (!d->items)
		return OTF_E_NOMEM;
	for (size_t i = 0; i < n; i++) {
		d->n = i + 1; /* zeroed by calloc: released on failure */
		const otf_config_node_t *e = otf_config_seq_at(v, i);
		if (otf_config_node_kind(e) != OTF_CONFIG_MAPPING)
			return otf_config_errorf(err, e,
			                         "expected a mapping {name, default}, got %s",
			                         otf_config_kind_name(e));
		for (size_t j = 0; j < otf_config_len(e); j++) {
			const otf_config_node_t *kv;
			const char *k = otf_config_map_at(e, j, &kv);
			if (strcmp(k, "name") && strcmp(k, "default"))
				return otf_config_errorf(
				    err, kv, "unknown key \"%s\" (valid keys: name, default)", k);
		}
		const otf_config_node_t *nm = otf_config_map_get(e, "name");
		const otf_config_node_t *df = otf_config_map_get(e, "default");
		const char *s = nm ? otf_config_scalar(nm, NULL) : NULL;
		if (!s || !*s)
			return otf_config_errorf(err, nm ? nm : e,
			                         "dimension needs a non-empty name");
		if (!(d->items[i].name = otf_strndup(s, strlen(s))))
			return OTF_E_NOMEM;
		if (df && otf_config_node_kind(df) != OTF_CONFIG_NULL) {
			const char *ds = otf_config_scalar(df, NULL);
			if (!ds)
				return otf_config_errorf(err, df,
				                         "default must be a string, got %s",
				                         otf_config_kind_name(df));
			if (!(d->items[i].def = otf_strndup(ds, strlen(ds))))
				return OTF_E_NOMEM;
		}
	}
	return 0;
}

static void buckets_release(void *slot)
{
	otf_sm_buckets_t *b = slot;
	otf_free(b->ns);
	memset(b, 0, sizeof *b);
}

/* histogram.explicit.buckets: a list of durations ("2ms", "1s"). */
static int buckets_parse(const otf_config_node_t *v, void *slot, otf_config_error_t *err)
{
	otf_sm_buckets_t *b = slot;
	if (otf_config_node_kind(v) != OTF_CONFIG_SEQUENCE)
		return otf_config_errorf(err, v, "expected a list of durations, got %s",
		                         otf_config_kind_name(v));
	size_t n = otf_config_len(v);
	b->ns = otf_calloc(n ? n : 1, sizeof *b->ns);
	if (!b->ns)
		return OTF_E_NOMEM;
	b->set = true;
	for (size_t i = 0; i < n; i++, b->n++) {
		const otf_config_node_t *e = otf_config_seq_at(v, i);
		int rc = otf_config_read_duration(e, &b->ns[i], err);
		if (rc)
			return rc;
		if (i && b->ns[i] <= b->ns[i - 1])
			return otf_config_errorf(err, e, "buckets must be in increasing order");
	}
	return 0;
}

static const char *const k_temporality[] = {"AGGREGATION_TEMPORALITY_CUMULATIVE",
                                            "AGGREGATION_TEMPORALITY_DELTA", NULL};
static const char *const k_units[] = {"ms", "s", NULL};

#define CFG    otf_sm_config_t
#define HCFG   otf_sm_histogram_cfg_t
#define TOGGLE otf_sm_toggle_cfg_t

static const otf_config_field_t explicit_schema[] = {
    {.key = "buckets",
     .type = OTF_CFG_CUSTOM,
     .hint = "list of durations",
     .offset = offsetof(otf_sm_explicit_cfg_t, buckets),
     .parse = buckets_parse,
     .release = buckets_release,
     .desc = "Upper bounds of the duration buckets (default 2ms, 4ms, 6ms, 8ms, 10ms, 50ms, "
             "100ms, 200ms, 400ms, 800ms, 1s, 1400ms, 2s, 5s, 10s, 15s)."},
    OTF_CONFIG_FIELD_END,
};

static const otf_config_field_t exponential_schema[] = {
    {.key = "max_size",
     .type = OTF_CFG_INT,
     .def = "160",
     .min = "2",
     .max = "16384",
     .offset = offsetof(otf_sm_exponential_cfg_t, max_size),
     .desc = "Maximum number of buckets of the positive range."},
    OTF_CONFIG_FIELD_END,
};

static const otf_config_field_t histogram_schema[] = {
    {.key = "disable",
     .type = OTF_CFG_BOOL,
     .def = "false",
     .offset = offsetof(HCFG, disable),
     .desc = "No duration histogram, calls only."},
    {.key = "unit",
     .type = OTF_CFG_ENUM,
     .enum_values = k_units,
     .def = "ms",
     .offset = offsetof(HCFG, unit),
     .desc = "Unit of the recorded durations."},
    {.key = "explicit",
     .type = OTF_CFG_OBJECT,
     .sub = explicit_schema,
     .offset = offsetof(HCFG, explicit_),
     .present_at = OTF_CONFIG_PRESENT(HCFG, has_explicit),
     .desc = "Explicit bucket histogram (the default type)."},
    {.key = "exponential",
     .type = OTF_CFG_OBJECT,
     .sub = exponential_schema,
     .offset = offsetof(HCFG, exponential),
     .present_at = OTF_CONFIG_PRESENT(HCFG, has_exponential),
     .desc = "Exponential histogram instead of explicit buckets."},
    {.key = "dimensions",
     .type = OTF_CFG_CUSTOM,
     .hint = "list of {name, default}",
     .offset = offsetof(HCFG, dimensions),
     .parse = dims_parse,
     .release = dims_release,
     .ignored = "histogram-only dimensions are not implemented; the duration histogram has "
                "the dimensions of calls",
     .desc = "Collector: extra dimensions of the histogram only."},
    OTF_CONFIG_FIELD_END,
};

static const otf_config_field_t exemplars_schema[] = {
    {.key = "enabled",
     .type = OTF_CFG_BOOL,
     .def = "false",
     .offset = offsetof(TOGGLE, enabled),
     .ignored = "exemplars are not attached to the generated metrics",
     .desc = "Collector: attach spans as exemplars."},
    {.key = "max_per_data_point",
     .type = OTF_CFG_INT,
     .def = "0",
     .offset = offsetof(TOGGLE, max_per_data_point),
     .ignored = "exemplars are not attached to the generated metrics",
     .desc = "Collector: exemplars per data point."},
    OTF_CONFIG_FIELD_END,
};

static const otf_config_field_t events_schema[] = {
    {.key = "enabled",
     .type = OTF_CFG_BOOL,
     .def = "false",
     .offset = offsetof(TOGGLE, enabled),
     .ignored = "the events metric is not generated",
     .desc = "Collector: generate the events metric."},
    {.key = "dimensions",
     .type = OTF_CFG_CUSTOM,
     .hint = "list of {name, default}",
     .offset = offsetof(TOGGLE, dimensions),
     .parse = dims_parse,
     .release = dims_release,
     .ignored = "the events metric is not generated",
     .desc = "Collector: span event attributes of the events metric."},
    OTF_CONFIG_FIELD_END,
};

const otf_config_field_t otf_sm_schema[] = {
    {.key = "dimensions",
     .type = OTF_CFG_CUSTOM,
     .hint = "list of {name, default}",
     .offset = offsetof(CFG, dimensions),
     .parse = dims_parse,
     .release = dims_release,
     .desc = "Extra dimensions after service.name, span.name, span.kind, status.code: the "
             "span's attribute, else the resource's, else default, else omitted."},
    {.key = "calls_dimensions",
     .type = OTF_CFG_CUSTOM,
     .hint = "list of {name, default}",
     .offset = offsetof(CFG, calls_dimensions),
     .parse = dims_parse,
     .release = dims_release,
     .ignored = "calls-only dimensions are not implemented; use dimensions",
     .desc = "Collector: extra dimensions of calls only."},
    {.key = "exclude_dimensions",
     .type = OTF_CFG_STRING_LIST,
     .offset = offsetof(CFG, exclude_dimensions),
     .desc = "Default dimensions to leave out (service.name, span.name, span.kind, "
             "status.code)."},
    {.key = "dimensions_cache_size",
     .type = OTF_CFG_INT,
     .def = "1000",
     .offset = offsetof(CFG, dimensions_cache_size),
     .ignored = "deprecated in the Collector; series are bounded by "
                "aggregation_cardinality_limit",
     .desc = "Collector (deprecated): size of the dimensions cache."},
    {.key = "resource_metrics_cache_size",
     .type = OTF_CFG_INT,
     .def = "1000",
     .min = "1",
     .offset = offsetof(CFG, resource_metrics_cache_size),
     .desc = "Resources held (per node, across workers); a new one replaces the least recently "
             "seen (and its "
             "series)."},
    {.key = "resource_metrics_key_attributes",
     .type = OTF_CFG_STRING_LIST,
     .offset = offsetof(CFG, resource_metrics_key_attributes),
     .desc = "Resource attributes that identify a resource (default: all)."},
    {.key = "aggregation_temporality",
     .type = OTF_CFG_ENUM,
     .enum_values = k_temporality,
     .def = "AGGREGATION_TEMPORALITY_CUMULATIVE",
     .offset = offsetof(CFG, aggregation_temporality),
     .desc = "Temporality of the generated sums and histograms."},
    {.key = "histogram",
     .type = OTF_CFG_OBJECT,
     .sub = histogram_schema,
     .offset = offsetof(CFG, histogram),
     .desc = "Duration histogram."},
    {.key = "metrics_flush_interval",
     .type = OTF_CFG_DURATION,
     .def = "60s",
     .min = "1ms",
     .offset = offsetof(CFG, metrics_flush_interval_ns),
     .desc = "How often the metrics are sent."},
    {.key = "metrics_expiration",
     .type = OTF_CFG_DURATION,
     .def = "0s",
     .min = "0s",
     .offset = offsetof(CFG, metrics_expiration_ns),
     .desc = "A resource without spans for this long is no longer sent (0: never)."},
    {.key = "metric_timestamp_cache_size",
     .type = OTF_CFG_INT,
     .def = "1000",
     .offset = offsetof(CFG, metric_timestamp_cache_size),
     .ignored = "delta series keep their start time while they receive spans; no cache",
     .desc = "Collector: delta start timestamps cache."},
    {.key = "namespace",
     .type = OTF_CFG_STRING,
     .def = "traces.span.metrics",
     .offset = offsetof(CFG, namespace_),
     .desc = "Prefix of the metric names (`<namespace>.calls`, `<namespace>.duration`)."},
    {.key = "exemplars",
     .type = OTF_CFG_OBJECT,
     .sub = exemplars_schema,
     .offset = offsetof(CFG, exemplars),
     .desc = "Exemplars (not implemented: warns)."},
    {.key = "events",
     .type = OTF_CFG_OBJECT,
     .sub = events_schema,
     .offset = offsetof(CFG, events),
     .desc = "Events metric (not implemented: warns)."},
    {.key = "include_instrumentation_scope",
     .type = OTF_CFG_STRING_LIST,
     .offset = offsetof(CFG, include_instrumentation_scope),
     .desc = "Scope names whose spans get span.instrumentation.scope.name/version "
             "dimensions."},
    {.key = "aggregation_cardinality_limit",
     .type = OTF_CFG_INT,
     .def = "0",
     .min = "0",
     .offset = offsetof(CFG, aggregation_cardinality_limit),
     .desc = "Series per resource (0: no limit but the hard bound of 100000 per node); "
             "further spans go to one series with only otel.metric.overflow=true."},
    OTF_CONFIG_FIELD_END,
};

int otf_sm_validate(const void *config, char *err, size_t errlen)
{
	const otf_sm_config_t *c = config;
	static const char *const reserved[] = {"service.name", "span.kind", "status.code",
	                                       "span.name"};
	if (c->histogram.has_explicit && c->histogram.has_exponential) {
		snprintf(err, errlen, "use either `explicit` or `exponential` buckets histogram");
		return OTF_E_CONFIG;
	}
	for (size_t i = 0; i < c->dimensions.n; i++) {
		const char *n = c->dimensions.items[i].name;
		for (size_t r = 0; r < 4; r++)
			if (!strcmp(n, reserved[r]))
				goto dup;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(n, c->dimensions.items[j].name))
				goto dup;
		continue;
	dup:
		snprintf(err, errlen, "failed validating dimensions: duplicate dimension name %s",
		         n);
		return OTF_E_CONFIG;
	}
	if (c->dimensions.n > 64) {
		snprintf(err, errlen, "at most 64 dimensions");
		return OTF_E_CONFIG;
	}
	return 0;
}

/* ---- node ---- */

typedef struct spanmetrics spanmetrics_t;

/* The state of one node, shared by its instances (keyed by the config,
 * which the engine gives every worker's instance of a node and no other
 * node). */
typedef struct shared shared_t;
struct shared {
	shared_t *next;
	const otf_sm_config_t *cfg;
	pthread_mutex_t mu; /* guards agg and the fields below */
	otf_sm_agg_t *agg;
	int refs;               /* instances */
	int live;               /* instances not shut down yet */
	spanmetrics_t *flusher; /* runs the timer */
	uint64_t overflow_logged, evicted_logged;
};

struct spanmetrics {
	otf_node_t *node;
	const otf_sm_config_t *cfg;
	shared_t *sh;
	int64_t timer;
};

static pthread_mutex_t g_shared_mu = PTHREAD_MUTEX_INITIALIZER;
static shared_t *g_shared;

static shared_t *shared_get(spanmetrics_t *s)
{
	pthread_mutex_lock(&g_shared_mu);
	shared_t *sh = g_shared;
	while (sh && sh->cfg != s->cfg)
		sh = sh->next;
	if (!sh && (sh = otf_calloc(1, sizeof *sh))) {
		sh->cfg = s->cfg;
		if (!(sh->agg = otf_sm_agg_create(s->cfg))) {
			otf_free(sh);
			sh = NULL;
		} else {
			pthread_mutex_init(&sh->mu, NULL);
			sh->flusher = s;
			sh->next = g_shared;
			g_shared = sh;
		}
	}
	if (sh) {
		sh->refs++;
		sh->live++;
	}
	pthread_mutex_unlock(&g_shared_mu);
	return sh;
}

static void shared_put(shared_t *sh)
{
	pthread_mutex_lock(&g_shared_mu);
	if (--sh->refs == 0) {
		for (shared_t **p = &g_shared; *p; p = &(*p)->next)
			if (*p == sh) {
				*p = sh->next;
				break;
			}
		otf_sm_agg_destroy(sh->agg);
		pthread_mutex_destroy(&sh->mu);
		otf_free(sh);
	}
	pthread_mutex_unlock(&g_shared_mu);
}

static uint64_t unix_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	spanmetrics_t *s = otf_calloc(1, sizeof *s);
	if (!s)
		return OTF_E_NOMEM;
	s->node = ctx->node;
	s->cfg = ctx->config;
	s->timer = -1;
	if (!(s->sh = shared_get(s))) {
		otf_free(s);
		return OTF_E_NOMEM;
	}
	*inst = s;
	return 0;
}

static int start(void *inst)
{
	spanmetrics_t *s = inst;
	pthread_mutex_lock(&g_shared_mu);
	bool flusher = s->sh->flusher == s;
	pthread_mutex_unlock(&g_shared_mu);
	if (!flusher)
		return 0;
	uint64_t ms = (uint64_t)(s->cfg->metrics_flush_interval_ns / 1000000);
	if (!ms)
		ms = 1;
	s->timer = otf_node_timer_start(s->node, ms, ms, 1);
	return s->timer < 0 ? (int)s->timer : 0;
}

static void consume(void *inst, otf_msg_t *m)
{
	spanmetrics_t *s = inst;
	shared_t *sh = s->sh;
	otf_buf_t *p = otf_msg_payload(m);
	otf_sm_stats_t st;
	bool log_overflow = false, log_evicted = false;
	pthread_mutex_lock(&sh->mu);
	int rc = otf_sm_agg_add(sh->agg, p->data, p->len, unix_now());
	otf_sm_agg_stats(sh->agg, &st);
	if (st.overflow_spans > sh->overflow_logged && !sh->overflow_logged)
		log_overflow = true;
	sh->overflow_logged = st.overflow_spans;
	if (st.evicted_resources > sh->evicted_logged && !sh->evicted_logged)
		log_evicted = true;
	sh->evicted_logged = st.evicted_resources;
	pthread_mutex_unlock(&sh->mu);
	if (rc == OTF_E_NOMEM) {
		otf_msg_nack(m, rc, false, "spanmetrics: out of memory");
		return;
	}
	if (rc < 0) {
		otf_msg_nack(m, rc, true, "spanmetrics: malformed traces request");
		return;
	}
	if (log_overflow)
		otf_node_log(s->node, OTF_LOG_WARN,
		             "aggregation cardinality limit reached: further series are counted in "
		             "the otel.metric.overflow series");
	if (log_evicted)
		otf_node_log(s->node, OTF_LOG_WARN,
		             "resource_metrics_cache_size resources held: the least recently seen "
		             "resource and its series are dropped for a new one");
	otf_msg_ack(m);
}

static void flush(spanmetrics_t *s)
{
	otf_buf_t *out;
	uint64_t points;
	pthread_mutex_lock(&s->sh->mu);
	int rc = otf_sm_agg_flush(s->sh->agg, unix_now(), &out, &points);
	pthread_mutex_unlock(&s->sh->mu);
	if (rc) {
		otf_node_log(s->node, OTF_LOG_ERROR, "building metrics failed: %s",
		             otf_strerror(rc));
		return;
	}
	if (!out)
		return;
	otf_msg_t *m = otf_msg_create(s->node, OTF_SIGNAL_METRICS, out, points);
	if (!m)
		return;
	otf_msg_subscribe(m, s->node, OTF_INTEREST_NACK, 0);
	rc = otf_node_send(s->node, m);
	if (rc) {
		otf_node_log(s->node, OTF_LOG_WARN, "metrics not sent: %s",
		             rc == -EAGAIN ? "downstream queue full" : otf_strerror(rc));
		otf_msg_drop(m);
	}
}

static void control(void *inst, const otf_ctrl_t *c)
{
	spanmetrics_t *s = inst;
	if (c->type == OTF_CTRL_TMR) {
		flush(s);
	} else if (c->type == OTF_CTRL_NACK) {
		otf_node_log(s->node, OTF_LOG_WARN, "metrics refused downstream: %s", c->reason);
	} else if (c->type == OTF_CTRL_KIL) {
		if (s->timer >= 0)
			otf_node_timer_stop(s->node, s->timer);
		/* the last instance down sends what was counted since the last
		 * interval: the others may still have been counting */
		pthread_mutex_lock(&g_shared_mu);
		bool last = --s->sh->live == 0;
		pthread_mutex_unlock(&g_shared_mu);
		if (last)
			flush(s);
		otf_node_shutdown_done(s->node);
	}
	if (c->payload)
		otf_buf_unref(c->payload);
}

static void destroy(void *inst)
{
	spanmetrics_t *s = inst;
	shared_put(s->sh);
	otf_free(s);
}

const otf_component_factory_t otf_connector_spanmetrics_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_CONNECTOR,
    .type = "spanmetrics",
    .description = "Aggregates request, error and duration (R.E.D.) metrics from spans.",
    /* metrics: produced only (consume[metrics] is NULL). */
    .stability = {OTF_STABILITY_ALPHA, OTF_STABILITY_ALPHA, OTF_STABILITY_UNDEFINED},
    .config_schema = otf_sm_schema,
    .config_size = sizeof(otf_sm_config_t),
    .validate = otf_sm_validate,
    .create = {create, NULL, NULL},
    .start = start,
    .consume = {consume, NULL, NULL},
    .control = control,
    .destroy = destroy,
    .connector_pairs = {OTF_SIGNAL_BIT(OTF_SIGNAL_METRICS), 0, 0},
};
