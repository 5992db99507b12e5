/* processor `filter`: drops spans, span events, metrics, data points and
 * log records that OTTL conditions match. Source: the filterprocessor
 * README of opentelemetry-collector-contrib (keys, defaults, semantics).
 *
 * Conditions come in two forms, both accepted and combined: the current
 * trace_conditions / metric_conditions / log_conditions (strings whose
 * context is inferred from their path prefixes, or {context, error_mode,
 * conditions} groups) and the older per-context lists traces.{resource,
 * span, spanevent}, metrics.{resource, metric, datapoint},
 * logs.{resource, log_record}. The legacy include/exclude match_type form
 * is refused at load with an error naming the key. Any condition true
 * drops the record. Contexts run from the top down (resource, scope, then
 * the signal's own), so a record under a dropped resource is never
 * evaluated; a scope or resource left empty is removed, a metric left
 * without data points too; a span whose events all went stays.
 *
 * error_mode (default propagate): propagate nacks the message permanently
 * with the OTTL error; ignore logs (rate-limited) and treats the
 * condition as false; silent does the same without logging.
 *
 * When every group runs on the signal's records (log, span) the request
 * is filtered in place: conditions run on lazy records over the bytes and
 * the request is rewritten without the dropped records (ottlproc.h,
 * otf__ottlproc_inplace); otherwise it is decoded into the tree, filtered
 * and re-encoded. Either way it is rewritten only when something was
 * dropped (otherwise the message goes on untouched);
 * a request left empty is acked and not forwarded. Dropped items count as
 * otelcol_processor_dropped_* (OTF_COUNTER_DROPPED) and under the
 * Collector's own names, otelcol_processor_filter_{spans,datapoints,logs}
 * _filtered (one counter per node, shared by its instances on every
 * worker). */
#include "filter.h"

#include "otflow/alloc.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"
#include "otflow/selfmetric.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char *const k_modes[] = {"propagate", "ignore", "silent", NULL};

#define GROUPS(key_, member, fn, hint_, desc_)                                               \
	{                                                                                    \
		.key = key_, .type = OTF_CFG_CUSTOM,                                         \
		.offset = offsetof(otf_filter_config_t, member), .hint = hint_, .parse = fn, \
		.release = otf__ottlproc_groups_free, .desc = desc_                          \
	}

static const otf_config_field_t k_schema[] = {
    {.key = "error_mode",
     .type = OTF_CFG_ENUM,
     .offset = offsetof(otf_filter_config_t, error_mode),
     .def = "propagate",
     .enum_values = k_modes,
     .desc = "What a condition that fails at run time does: propagate nacks the request "
             "(permanent, with the OTTL error); ignore logs it and counts the condition "
             "as false; silent does the same without logging. A group's own error_mode "
             "overrides it."},
    GROUPS("trace_conditions", trace_conditions, otf__ottlproc_parse_trace_conditions,
           "list of OTTL conditions or groups",
           "Conditions on resource, scope, span or spanevent (context inferred from the "
           "path prefixes: `span.name == \"x\"`), or groups {context, error_mode, "
           "conditions}. A match drops the record."),
    GROUPS("metric_conditions", metric_conditions, otf__ottlproc_parse_metric_conditions,
           "list of OTTL conditions or groups",
           "As trace_conditions, on resource, scope, metric or datapoint."),
    GROUPS("log_conditions", log_conditions, otf__ottlproc_parse_log_conditions,
           "list of OTTL conditions or groups", "As trace_conditions, on resource, scope or log."),
    GROUPS("traces", traces, otf__ottlproc_parse_traces_legacy,
           "mapping: resource, span, spanevent",
           "Older form: lists of conditions per context (`traces.span`: bare paths are "
           "the span's). The include/exclude match_type form is refused."),
    GROUPS("metrics", metrics, otf__ottlproc_parse_metrics_legacy,
           "mapping: resource, metric, datapoint",
           "Older form, as traces: `metrics.metric`, `metrics.datapoint`."),
    GROUPS("logs", logs, otf__ottlproc_parse_logs_legacy, "mapping: resource, log_record",
           "Older form, as traces: `logs.log_record`."),
    OTF_CONFIG_FIELD_END,
};

/* The group lists of signal s (legacy first, then *_conditions). */
static void lists_of(const otf_filter_config_t *c, otf_signal_t s, const ottlproc_groups_t *out[2])
{
	out[0] = s == OTF_SIGNAL_TRACES    ? &c->traces
	         : s == OTF_SIGNAL_METRICS ? &c->metrics
	                                   : &c->logs;
	out[1] = s == OTF_SIGNAL_TRACES    ? &c->trace_conditions
	         : s == OTF_SIGNAL_METRICS ? &c->metric_conditions
	                                   : &c->log_conditions;
}

bool otf__filter_has(const otf_filter_config_t *c, otf_signal_t s)
{
	const ottlproc_groups_t *l[2];
	lists_of(c, s, l);
	return l[0]->n || l[1]->n;
}

static int run_group(const otf_ottl_program_t *p, otf_ottl_error_mode_t mode, ottlproc_tree_t *t,
                     otf_arena_t *arena, otf_ottl_stats_t *st)
{
	switch (t->signal) {
	case OTF_SIGNAL_TRACES:
		return otf_ottl_filter_traces(p, mode, &t->u.traces, arena, st);
	case OTF_SIGNAL_METRICS:
		return otf_ottl_filter_metrics(p, mode, &t->u.metrics, arena, st);
	case OTF_SIGNAL_LOGS:
		return otf_ottl_filter_logs(p, mode, &t->u.logs, arena, st);
	}
	return OTF_E_INVAL;
}

int otf__filter_apply(const otf_filter_config_t *c, ottlproc_tree_t *t, otf_arena_t *arena,
                      otf_ottl_stats_t *st, uint64_t *logged_errors)
{
	static const otf_ottl_context_t order[] = {OTF_OTTL_CTX_RESOURCE, OTF_OTTL_CTX_SCOPE,
	                                           OTF_OTTL_CTX_SPAN,     OTF_OTTL_CTX_SPANEVENT,
	                                           OTF_OTTL_CTX_METRIC,   OTF_OTTL_CTX_DATAPOINT,
	                                           OTF_OTTL_CTX_LOG};
	const ottlproc_groups_t *l[2];
	lists_of(c, t->signal, l);
	*logged_errors = 0;
	for (size_t o = 0; o < sizeof order / sizeof order[0]; o++) {
		for (int k = 0; k < 2; k++) {
			for (size_t i = 0; i < l[k]->n; i++) {
				const ottlproc_group_t *g = &l[k]->g[i];
				if (otf_ottl_program_context(g->conds) != order[o])
					continue;
				otf_ottl_error_mode_t mode = otf__ottlproc_mode(g, c->error_mode);
				uint64_t before = st->errors;
				int rc = run_group(g->conds, mode, t, arena, st);
				if (rc < 0)
					return rc;
				if (mode != OTF_OTTL_ERROR_SILENT)
					*logged_errors += st->errors - before;
			}
		}
	}
	return 0;
}

int otf__filter_inplace(const otf_filter_config_t *c, otf_signal_t s, const otf_buf_t *in,
                        otf_arena_t *arena, otf_ottl_stats_t *st, uint64_t *logged_errors,
                        ottlproc_inplace_result_t *res)
{
	const ottlproc_groups_t *l[2];
	lists_of(c, s, l);
	*logged_errors = 0;
	return otf__ottlproc_inplace(true, l, 2, c->error_mode, s, in, arena, st, logged_errors,
	                             res);
}

/* The Collector's filtered-items counters, one set per node: the node's
 * instances on every worker share it (refcounted), so the endpoint shows
 * one point per node. */
typedef struct filtered filtered_t;
struct filtered {
	filtered_t *next;
	int refs;
	otf_selfcounter_t c[OTF_SIGNAL_COUNT];
};

static pthread_mutex_t g_filtered_mu = PTHREAD_MUTEX_INITIALIZER;
static filtered_t *g_filtered;

static filtered_t *filtered_get(const char *node_name)
{
	static const char *const names[OTF_SIGNAL_COUNT] = {
	    "otelcol_processor_filter_spans_filtered",
	    "otelcol_processor_filter_datapoints_filtered",
	    "otelcol_processor_filter_logs_filtered"};
	static const char *const units[OTF_SIGNAL_COUNT] = {"{spans}", "{datapoints}", "{records}"};
	const char *id = strchr(node_name, ':');
	id = id ? id + 1 : node_name;
	pthread_mutex_lock(&g_filtered_mu);
	filtered_t *f = g_filtered;
	while (f && strcmp(f->c[0].label, id))
		f = f->next;
	if (!f && (f = otf_calloc(1, sizeof *f))) {
		for (int s = 0; s < OTF_SIGNAL_COUNT; s++) {
			f->c[s].name = names[s];
			f->c[s].desc = "Number of items dropped by the filter processor.";
			f->c[s].unit = units[s];
			f->c[s].label_key = "processor";
			snprintf(f->c[s].label, sizeof f->c[s].label, "%s", id);
			otf_selfcounter_register(&f->c[s]);
		}
		f->next = g_filtered;
		g_filtered = f;
	}
	if (f)
		f->refs++;
	pthread_mutex_unlock(&g_filtered_mu);
	return f;
}

static void filtered_put(filtered_t *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&g_filtered_mu);
	if (--f->refs == 0) {
		for (filtered_t **p = &g_filtered; *p; p = &(*p)->next) {
			if (*p == f) {
				*p = f->next;
				break;
			}
		}
		for (int s = 0; s < OTF_SIGNAL_COUNT; s++)
			otf_selfcounter_unregister(&f->c[s]);
		otf_free(f);
	}
	pthread_mutex_unlock(&g_filtered_mu);
}

typedef struct filter {
	ottlproc_relay_t relay;
	const otf_filter_config_t *cfg;
	otf_arena_t arena;
	filtered_t *filtered;
} filter_t;

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	filter_t *f = otf_calloc(1, sizeof *f);
	if (!f)
		return OTF_E_NOMEM;
	f->relay.node = ctx->node;
	f->cfg = ctx->config;
	f->filtered = filtered_get(otf_node_name(ctx->node));
	if (!f->filtered) {
		otf_free(f);
		return OTF_E_NOMEM;
	}
	otf_arena_init(&f->arena, 0);
	*inst = f;
	return 0;
}

static void consume(void *inst, otf_msg_t *m)
{
	filter_t *f = inst;
	otf_signal_t s = otf_msg_signal(m);
	if (!otf__filter_has(f->cfg, s)) {
		otf__ottlproc_forward(&f->relay, m);
		return;
	}
	char why[400];
	ottlproc_tree_t t;
	otf_arena_reset(&f->arena);
	otf_ottl_stats_t st = {0};
	uint64_t logged = 0;
	ottlproc_inplace_result_t ip;
	otf_buf_t *out = NULL;
	uint64_t items = 0;
	int rc = otf__filter_inplace(f->cfg, s, otf_msg_payload(m), &f->arena, &st, &logged, &ip);
	if (rc == 0) {
		otf_arena_reset(&f->arena);
		rc = otf__ottlproc_decode(s, otf_msg_payload(m), &f->arena, &t, why, sizeof why);
		if (rc) {
			otf_msg_nack(m, rc, true, why);
			return;
		}
		rc = otf__filter_apply(f->cfg, &t, &f->arena, &st, &logged);
		ip.out = NULL;
	}
	if (rc < 0) {
		if (rc == OTF_E_NOMEM) {
			otf_msg_nack(m, rc, false, "filter: out of memory");
			return;
		}
		snprintf(why, sizeof why, "filter: condition %zu: %s", st.first_error.index,
		         st.first_error.msg);
		otf_msg_nack(m, rc, true, why);
		return;
	}
	if (logged)
		otf__ottlproc_log_error(&f->relay, &st);
	if (!st.dropped) {
		otf_buf_unref(ip.out);
		otf__ottlproc_forward(&f->relay, m);
		return;
	}
	if (ip.out) {
		out = ip.out;
		items = ip.items;
		rc = 0;
	} else {
		rc = otf__ottlproc_encode(&t, &out, &items);
	}
	if (rc) {
		otf_msg_nack(m, rc, rc != OTF_E_NOMEM,
		             "filter: cannot encode the filtered request");
		return;
	}
	uint64_t in = otf_msg_items(m);
	if (in > items) {
		otf_node_count(f->relay.node, OTF_COUNTER_DROPPED, s, in - items);
		otf_selfcounter_add(&f->filtered->c[s], in - items);
	}
	if (!items) {
		/* Everything was filtered out: delivered, as far as anyone
		 * upstream is concerned (the Collector returns success). */
		otf_buf_unref(out);
		otf_msg_ack(m);
		return;
	}
	otf__ottlproc_relay_send(&f->relay, m, out, items);
}

static void control(void *inst, const otf_ctrl_t *c)
{
	filter_t *f = inst;
	otf__ottlproc_relay_control(&f->relay, c);
}

/* CFG: the new rules (compiled by the schema into config) from the next
 * message on; the relay's in-flight messages are untouched. */
static int reconfigure(void *inst, const void *config, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	filter_t *f = inst;
	f->cfg = config;
	return 0;
}

static void destroy(void *inst)
{
	filter_t *f = inst;
	otf__ottlproc_relay_close(&f->relay);
	filtered_put(f->filtered);
	otf_arena_close(&f->arena);
	otf_free(f);
}

const otf_component_factory_t otf_processor_filter_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "filter",
    .description = "Drops spans, span events, metrics, data points and log records matched by "
                   "OTTL conditions (the Collector's filter processor).",
    .stability = {OTF_STABILITY_ALPHA, OTF_STABILITY_ALPHA, OTF_STABILITY_ALPHA},
    .config_schema = k_schema,
    .config_size = sizeof(otf_filter_config_t),
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .destroy = destroy,
    .reconfigure = reconfigure,
};
