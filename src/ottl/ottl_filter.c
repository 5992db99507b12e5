/* Filter walkers: drop every record a condition program matches, the
 * Collector's filter processor semantics (any condition true = drop; under
 * ignore/silent an erroring condition counts as false). Arrays are
 * compacted in place; a scope left without records and a resource left
 * without scopes are removed, as the filter processor does; a metric left
 * without data points is removed; span events go, their span stays. */
#include "ottl_internal.h"

#include "otflow/err.h"

#include <string.h>

/* 1 drop, 0 keep, negative: the error to return (propagate). */
static int drop(const otf_ottl_program_t *p, otf_ottl_error_mode_t mode, otf_ottl_record_t *rec,
                otf_ottl_stats_t *stats)
{
	rec->cache = (otf_attributes_t){0};
	int m = otf_ottl_match_any(p, mode, rec, stats);
	if (m == 1)
		stats->dropped++;
	return m;
}

static int check(const otf_ottl_program_t *p, otf_ottl_stats_t **stats, otf_ottl_stats_t *local,
                 const otf_ottl_context_t *allowed, size_t nallowed)
{
	if (!p || !otf__ottl_program_is_conditions(p))
		return OTF_E_INVAL;
	if (!*stats) {
		memset(local, 0, sizeof *local);
		*stats = local;
	}
	for (size_t i = 0; i < nallowed; i++)
		if (otf_ottl_program_context(p) == allowed[i])
			return 0;
	return OTF_E_INVAL;
}

int otf_ottl_filter_logs(const otf_ottl_program_t *p, otf_ottl_error_mode_t mode, otf_logs_t *l,
                         otf_arena_t *arena, otf_ottl_stats_t *stats)
{
	static const otf_ottl_context_t ok[] = {OTF_OTTL_CTX_RESOURCE, OTF_OTTL_CTX_SCOPE,
	                                        OTF_OTTL_CTX_LOG};
	otf_ottl_stats_t local;
	int rc = check(p, &stats, &local, ok, 3);
	if (rc || !l || !arena)
		return rc ? rc : OTF_E_INVAL;
	otf_ottl_context_t ctx = otf_ottl_program_context(p);
	size_t wr = 0;
	for (size_t a = 0; a < l->resource_logs_len; a++) {
		otf_resource_logs_t *rl = &l->resource_logs[a];
		otf_ottl_record_t rec = {.resource = &rl->resource,
		                         .resource_schema_url = &rl->schema_url,
		                         .arena = arena};
		if (ctx == OTF_OTTL_CTX_RESOURCE) {
			if ((rc = drop(p, mode, &rec, stats)) < 0)
				return rc;
			if (!rc)
				l->resource_logs[wr++] = *rl;
			continue;
		}
		size_t ws = 0;
		for (size_t b = 0; b < rl->scope_logs_len; b++) {
			otf_scope_logs_t *sl = &rl->scope_logs[b];
			rec.scope = &sl->scope;
			rec.scope_schema_url = &sl->schema_url;
			if (ctx == OTF_OTTL_CTX_SCOPE) {
				if ((rc = drop(p, mode, &rec, stats)) < 0)
					return rc;
				if (!rc)
					rl->scope_logs[ws++] = *sl;
				continue;
			}
			size_t w = 0;
			for (size_t c = 0; c < sl->log_records_len; c++) {
				rec.log = &sl->log_records[c];
				if ((rc = drop(p, mode, &rec, stats)) < 0)
					return rc;
				if (!rc)
					sl->log_records[w++] = sl->log_records[c];
			}
			sl->log_records_len = w;
			if (w)
				rl->scope_logs[ws++] = *sl;
		}
		rl->scope_logs_len = ws;
		if (ws)
			l->resource_logs[wr++] = *rl;
	}
	l->resource_logs_len = wr;
	return 0;
}

int otf_ottl_filter_traces(const otf_ottl_program_t *p, otf_ottl_error_mode_t mode, otf_traces_t *t,
                           otf_arena_t *arena, otf_ottl_stats_t *stats)
{
	static const otf_ottl_context_t ok[] = {OTF_OTTL_CTX_RESOURCE, OTF_OTTL_CTX_SCOPE,
	                                        OTF_OTTL_CTX_SPAN, OTF_OTTL_CTX_SPANEVENT};
	otf_ottl_stats_t local;
	int rc = check(p, &stats, &local, ok, 4);
	if (rc || !t || !arena)
		return rc ? rc : OTF_E_INVAL;
	otf_ottl_context_t ctx = otf_ottl_program_context(p);
	size_t wr = 0;
	for (size_t a = 0; a < t->resource_spans_len; a++) {
		otf_resource_spans_t *rs = &t->resource_spans[a];
		otf_ottl_record_t rec = {.resource = &rs->resource,
		                         .resource_schema_url = &rs->schema_url,
		                         .arena = arena};
		if (ctx == OTF_OTTL_CTX_RESOURCE) {
			if ((rc = drop(p, mode, &rec, stats)) < 0)
				return rc;
			if (!rc)
				t->resource_spans[wr++] = *rs;
			continue;
		}
		size_t ws = 0;
		for (size_t b = 0; b < rs->scope_spans_len; b++) {
			otf_scope_spans_t *ss = &rs->scope_spans[b];
			rec.scope = &ss->scope;
			rec.scope_schema_url = &ss->schema_url;
			if (ctx == OTF_OTTL_CTX_SCOPE) {
				if ((rc = drop(p, mode, &rec, stats)) < 0)
					return rc;
				if (!rc)
					rs->scope_spans[ws++] = *ss;
				continue;
			}
			size_t w = 0;
			for (size_t c = 0; c < ss->spans_len; c++) {
				otf_span_t *sp = &ss->spans[c];
				rec.span = sp;
				if (ctx == OTF_OTTL_CTX_SPANEVENT) {
					size_t we = 0;
					for (size_t d = 0; d < sp->events_len; d++) {
						rec.event = &sp->events[d];
						if ((rc = drop(p, mode, &rec, stats)) < 0)
							return rc;
						if (!rc)
							sp->events[we++] = sp->events[d];
					}
					sp->events_len = we;
					ss->spans[w++] = *sp;
					continue;
				}
				if ((rc = drop(p, mode, &rec, stats)) < 0)
					return rc;
				if (!rc)
					ss->spans[w++] = *sp;
			}
			ss->spans_len = w;
			if (w)
				rs->scope_spans[ws++] = *ss;
		}
		rs->scope_spans_len = ws;
		if (ws)
			t->resource_spans[wr++] = *rs;
	}
	t->resource_spans_len = wr;
	return 0;
}

/* Moves data point i to slot w of the metric's array (same type). */
static void move_point(otf_metric_t *m, size_t w, size_t i)
{
	switch (m->type) {
	case OTF_METRIC_GAUGE:
	case OTF_METRIC_SUM:
		m->data_points.number[w] = m->data_points.number[i];
		break;
	case OTF_METRIC_HISTOGRAM:
		m->data_points.histogram[w] = m->data_points.histogram[i];
		break;
	case OTF_METRIC_EXP_HISTOGRAM:
		m->data_points.exp_histogram[w] = m->data_points.exp_histogram[i];
		break;
	case OTF_METRIC_SUMMARY:
		m->data_points.summary[w] = m->data_points.summary[i];
		break;
	default:
		break;
	}
}

int otf_ottl_filter_metrics(const otf_ottl_program_t *p, otf_ottl_error_mode_t mode,
                            otf_metrics_t *mt, otf_arena_t *arena, otf_ottl_stats_t *stats)
{
	static const otf_ottl_context_t ok[] = {OTF_OTTL_CTX_RESOURCE, OTF_OTTL_CTX_SCOPE,
	                                        OTF_OTTL_CTX_METRIC, OTF_OTTL_CTX_DATAPOINT};
	otf_ottl_stats_t local;
	int rc = check(p, &stats, &local, ok, 4);
	if (rc || !mt || !arena)
		return rc ? rc : OTF_E_INVAL;
	otf_ottl_context_t ctx = otf_ottl_program_context(p);
	size_t wr = 0;
	for (size_t a = 0; a < mt->resource_metrics_len; a++) {
		otf_resource_metrics_t *rm = &mt->resource_metrics[a];
		otf_ottl_record_t rec = {.resource = &rm->resource,
		                         .resource_schema_url = &rm->schema_url,
		                         .arena = arena};
		if (ctx == OTF_OTTL_CTX_RESOURCE) {
			if ((rc = drop(p, mode, &rec, stats)) < 0)
				return rc;
			if (!rc)
				mt->resource_metrics[wr++] = *rm;
			continue;
		}
		size_t ws = 0;
		for (size_t b = 0; b < rm->scope_metrics_len; b++) {
			otf_scope_metrics_t *sm = &rm->scope_metrics[b];
			rec.scope = &sm->scope;
			rec.scope_schema_url = &sm->schema_url;
			if (ctx == OTF_OTTL_CTX_SCOPE) {
				if ((rc = drop(p, mode, &rec, stats)) < 0)
					return rc;
				if (!rc)
					rm->scope_metrics[ws++] = *sm;
				continue;
			}
			size_t w = 0;
			for (size_t c = 0; c < sm->metrics_len; c++) {
				otf_metric_t *m = &sm->metrics[c];
				rec.metric = m;
				if (ctx == OTF_OTTL_CTX_DATAPOINT) {
					size_t wd = 0, n = m->data_points_len;
					for (size_t d = 0; d < n; d++) {
						rec.datapoint_index = d;
						if ((rc = drop(p, mode, &rec, stats)) < 0)
							return rc;
						if (!rc)
							move_point(m, wd++, d);
					}
					m->data_points_len = wd;
					if (wd || n == 0)
						sm->metrics[w++] = *m;
					continue;
				}
				if ((rc = drop(p, mode, &rec, stats)) < 0)
					return rc;
				if (!rc)
					sm->metrics[w++] = *m;
			}
			sm->metrics_len = w;
			if (w)
				rm->scope_metrics[ws++] = *sm;
		}
		rm->scope_metrics_len = ws;
		if (ws)
			mt->resource_metrics[wr++] = *rm;
	}
	mt->resource_metrics_len = wr;
	return 0;
}
