/* processor `transform`: changes telemetry with OTTL statements. Source:
 * the transformprocessor README of opentelemetry-collector-contrib (keys,
 * defaults, semantics).
 *
 * trace_statements / metric_statements / log_statements are lists of
 * statements (a run of plain strings is one group whose context is
 * inferred from the path prefixes over the run) or groups {context,
 * error_mode, conditions, statements}; a group's conditions are ORed and
 * gate its statements per record (each statement's own where clause still
 * applies). Groups run in the order written, each over every record of its
 * context.
 *
 * error_mode (default ignore, as the Collector's): ignore logs the error
 * (rate-limited) and goes on with the next statement, the record left as
 * the failing statement found it; silent the same without logging;
 * propagate nacks the message permanently with the OTTL error.
 *
 * When every group runs on the signal's records (log, span), the request
 * is changed in place: statements run on lazy records over the bytes and
 * only the records they wrote are re-encoded (ottlproc.h,
 * otf__ottlproc_inplace). Otherwise (resource, scope, span event, metric
 * or data point groups, a write to the resource from a record), it is
 * decoded into the tree, changed, and re-encoded only when a statement
 * applied. Either way an unchanged request goes on untouched. */
#include "transform.h"

#include "otflow/alloc.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char *const k_modes[] = {"propagate", "ignore", "silent", NULL};

#define GROUPS(key_, member, fn, desc_)                                   \
	{                                                                 \
		.key = key_, .type = OTF_CFG_CUSTOM,                      \
		.offset = offsetof(otf_transform_config_t, member),       \
		.hint = "list of OTTL statements or groups", .parse = fn, \
		.release = otf__ottlproc_groups_free, .desc = desc_       \
	}

static const otf_config_field_t k_schema[] = {
    {.key = "error_mode",
     .type = OTF_CFG_ENUM,
     .offset = offsetof(otf_transform_config_t, error_mode),
     .def = "ignore",
     .enum_values = k_modes,
     .desc = "What a statement that fails at run time does: ignore logs it and goes on "
             "with the next statement; silent the same without logging; propagate nacks "
             "the request (permanent, with the OTTL error). A group's own error_mode "
             "overrides it."},
    GROUPS("trace_statements", trace_statements, otf__ottlproc_parse_trace_statements,
           "Statements on resource, scope, span or spanevent (context inferred from the "
           "path prefixes: `set(span.name, \"x\")`), or groups {context, error_mode, "
           "conditions, statements}."),
    GROUPS("metric_statements", metric_statements, otf__ottlproc_parse_metric_statements,
           "As trace_statements, on resource, scope, metric or datapoint."),
    GROUPS("log_statements", log_statements, otf__ottlproc_parse_log_statements,
           "As trace_statements, on resource, scope or log."),
    OTF_CONFIG_FIELD_END,
};

const ottlproc_groups_t *otf__transform_groups(const otf_transform_config_t *c, otf_signal_t s)
{
	return s == OTF_SIGNAL_TRACES    ? &c->trace_statements
	       : s == OTF_SIGNAL_METRICS ? &c->metric_statements
	                                 : &c->log_statements;
}

typedef struct run {
	const ottlproc_group_t *g;
	otf_ottl_error_mode_t mode;
	otf_ottl_stats_t *st;
} run_t;

/* One record: conditions (any true), then every statement. */
static int one(const run_t *r, otf_ottl_record_t *rec)
{
	rec->cache = (otf_attributes_t){0};
	if (r->g->conds) {
		int m = otf_ottl_match_any(r->g->conds, r->mode, rec, r->st);
		if (m <= 0)
			return m;
		rec->cache = (otf_attributes_t){0};
	}
	return otf_ottl_exec_all(r->g->stmts, r->mode, rec, r->st);
}

#define ONE(rec)                          \
	do {                              \
		int rc_ = one(r, &(rec)); \
		if (rc_ < 0)              \
			return rc_;       \
	} while (0)

static int walk_traces(const run_t *r, otf_ottl_context_t ctx, otf_traces_t *t, otf_arena_t *a)
{
	for (size_t i = 0; i < t->resource_spans_len; i++) {
		otf_resource_spans_t *rs = &t->resource_spans[i];
		otf_ottl_record_t rec = {
		    .resource = &rs->resource, .resource_schema_url = &rs->schema_url, .arena = a};
		if (ctx == OTF_OTTL_CTX_RESOURCE) {
			ONE(rec);
			continue;
		}
		for (size_t j = 0; j < rs->scope_spans_len; j++) {
			otf_scope_spans_t *ss = &rs->scope_spans[j];
			rec.scope = &ss->scope;
			rec.scope_schema_url = &ss->schema_url;
			if (ctx == OTF_OTTL_CTX_SCOPE) {
				ONE(rec);
				continue;
			}
			for (size_t k = 0; k < ss->spans_len; k++) {
				rec.span = &ss->spans[k];
				if (ctx == OTF_OTTL_CTX_SPAN) {
					ONE(rec);
					continue;
				}
				for (size_t e = 0; e < rec.span->events_len; e++) {
					rec.event = &rec.span->events[e];
					ONE(rec);
				}
			}
		}
	}
	return 0;
}

static int walk_logs(const run_t *r, otf_ottl_context_t ctx, otf_logs_t *l, otf_arena_t *a)
{
	for (size_t i = 0; i < l->resource_logs_len; i++) {
		otf_resource_logs_t *rl = &l->resource_logs[i];
		otf_ottl_record_t rec = {
		    .resource = &rl->resource, .resource_schema_url = &rl->schema_url, .arena = a};
		if (ctx == OTF_OTTL_CTX_RESOURCE) {
			ONE(rec);
			continue;
		}
		for (size_t j = 0; j < rl->scope_logs_len; j++) {
			otf_scope_logs_t *sl = &rl->scope_logs[j];
			rec.scope = &sl->scope;
			rec.scope_schema_url = &sl->schema_url;
			if (ctx == OTF_OTTL_CTX_SCOPE) {
				ONE(rec);
				continue;
			}
			for (size_t k = 0; k < sl->log_records_len; k++) {
				rec.log = &sl->log_records[k];
				ONE(rec);
			}
		}
	}
	return 0;
}

static int walk_metrics(const run_t *r, otf_ottl_context_t ctx, otf_metrics_t *m, otf_arena_t *a)
{
	for (size_t i = 0; i < m->resource_metrics_len; i++) {
		otf_resource_metrics_t *rm = &m->resource_metrics[i];
		otf_ottl_record_t rec = {
		    .resource = &rm->resource, .resource_schema_url = &rm->schema_url, .arena = a};
		if (ctx == OTF_OTTL_CTX_RESOURCE) {
			ONE(rec);
			continue;
		}
		for (size_t j = 0; j < rm->scope_metrics_len; j++) {
			otf_scope_metrics_t *sm = &rm->scope_metrics[j];
			rec.scope = &sm->scope;
			rec.scope_schema_url = &sm->schema_url;
			if (ctx == OTF_OTTL_CTX_SCOPE) {
				ONE(rec);
				continue;
			}
			for (size_t k = 0; k < sm->metrics_len; k++) {
				rec.metric = &sm->metrics[k];
				if (ctx == OTF_OTTL_CTX_METRIC) {
					ONE(rec);
					continue;
				}
				/* A statement may not add or remove points of the metric
				 * it runs on, so the count is read once. */
				for (size_t d = 0; d < rec.metric->data_points_len; d++) {
					rec.datapoint_index = d;
					ONE(rec);
				}
			}
		}
	}
	return 0;
}

int otf__transform_apply(const otf_transform_config_t *c, ottlproc_tree_t *t, otf_arena_t *arena,
                         otf_ottl_stats_t *st, uint64_t *logged_errors)
{
	const ottlproc_groups_t *gs = otf__transform_groups(c, t->signal);
	*logged_errors = 0;
	for (size_t i = 0; i < gs->n; i++) {
		run_t r = {&gs->g[i], otf__ottlproc_mode(&gs->g[i], c->error_mode), st};
		otf_ottl_context_t ctx = otf_ottl_program_context(r.g->stmts);
		uint64_t before = st->errors;
		int rc = t->signal == OTF_SIGNAL_TRACES ? walk_traces(&r, ctx, &t->u.traces, arena)
		         : t->signal == OTF_SIGNAL_LOGS
		             ? walk_logs(&r, ctx, &t->u.logs, arena)
		             : walk_metrics(&r, ctx, &t->u.metrics, arena);
		if (rc < 0)
			return rc;
		if (r.mode != OTF_OTTL_ERROR_SILENT)
			*logged_errors += st->errors - before;
	}
	return 0;
}

int otf__transform_inplace(const otf_transform_config_t *c, otf_signal_t s, const otf_buf_t *in,
                           otf_arena_t *arena, otf_ottl_stats_t *st, uint64_t *logged_errors,
                           ottlproc_inplace_result_t *res)
{
	const ottlproc_groups_t *gs = otf__transform_groups(c, s);
	*logged_errors = 0;
	return otf__ottlproc_inplace(false, &gs, 1, c->error_mode, s, in, arena, st, logged_errors,
	                             res);
}

typedef struct transform {
	ottlproc_relay_t relay;
	const otf_transform_config_t *cfg;
	otf_arena_t arena;
} transform_t;

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	transform_t *x = otf_calloc(1, sizeof *x);
	if (!x)
		return OTF_E_NOMEM;
	x->relay.node = ctx->node;
	x->cfg = ctx->config;
	otf_arena_init(&x->arena, 0);
	*inst = x;
	return 0;
}

static void consume(void *inst, otf_msg_t *m)
{
	transform_t *x = inst;
	otf_signal_t s = otf_msg_signal(m);
	if (!otf__transform_groups(x->cfg, s)->n) {
		otf__ottlproc_forward(&x->relay, m);
		return;
	}
	char why[400];
	ottlproc_tree_t t;
	otf_arena_reset(&x->arena);
	otf_ottl_stats_t st = {0};
	uint64_t logged = 0;
	ottlproc_inplace_result_t ip;
	int rc =
	    otf__transform_inplace(x->cfg, s, otf_msg_payload(m), &x->arena, &st, &logged, &ip);
	if (rc > 0) {
		if (logged)
			otf__ottlproc_log_error(&x->relay, &st);
		if (ip.out)
			otf__ottlproc_relay_send(&x->relay, m, ip.out, ip.items);
		else
			otf__ottlproc_forward(&x->relay, m);
		return;
	}
	if (rc == 0) {
		otf_arena_reset(&x->arena);
		rc = otf__ottlproc_decode(s, otf_msg_payload(m), &x->arena, &t, why, sizeof why);
		if (rc) {
			otf_msg_nack(m, rc, true, why);
			return;
		}
		rc = otf__transform_apply(x->cfg, &t, &x->arena, &st, &logged);
	}
	if (rc < 0) {
		if (rc == OTF_E_NOMEM) {
			otf_msg_nack(m, rc, false, "transform: out of memory");
			return;
		}
		snprintf(why, sizeof why, "transform: statement %zu, column %zu: %s",
		         st.first_error.index, st.first_error.column + 1, st.first_error.msg);
		otf_msg_nack(m, rc, true, why);
		return;
	}
	if (logged)
		otf__ottlproc_log_error(&x->relay, &st);
	if (!st.applied) {
		otf__ottlproc_forward(&x->relay, m);
		return;
	}
	otf__ottlproc_send_tree(&x->relay, m, &t, 0, "transform");
}

static void control(void *inst, const otf_ctrl_t *c)
{
	transform_t *x = inst;
	otf__ottlproc_relay_control(&x->relay, c);
}

/* CFG: the new statements (compiled by the schema) from the next message
 * on; the relay's in-flight messages are untouched. */
static int reconfigure(void *inst, const void *config, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	transform_t *x = inst;
	x->cfg = config;
	return 0;
}

static void destroy(void *inst)
{
	transform_t *x = inst;
	otf__ottlproc_relay_close(&x->relay);
	otf_arena_close(&x->arena);
	otf_free(x);
}

const otf_component_factory_t otf_processor_transform_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "transform",
    .description = "Changes spans, span events, metrics, data points and log records with "
                   "OTTL statements (the Collector's transform processor).",
    .stability = {OTF_STABILITY_BETA, OTF_STABILITY_BETA, OTF_STABILITY_BETA},
    .config_schema = k_schema,
    .config_size = sizeof(otf_transform_config_t),
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .destroy = destroy,
    .reconfigure = reconfigure,
};
