/* connector `spanmetrics`: the flush. Builds one ExportMetricsServiceRequest
 * from every series with data (calls as a monotonic int sum, duration as
 * an explicit or exponential histogram, per kept resource, scope
 * "spanmetricsconnector"), then applies the temporality (delta: counts
 * reset, idle series dropped) and metrics_expiration. */
#include "spanmetrics_int.h"

#include "otflow/alloc.h"
#include "otflow/arena.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"

/* Attributes of a key (or resource) from its stored bytes: wrapped as a
 * TracesData{ResourceSpans{Resource}} and decoded (the tree points into
 * the arena copy, which lives until the request is encoded). */
static int decode_wrapped(otf_arena_t *ar, const uint8_t *t, size_t n, otf_resource_t *out)
{
	otf_traces_t tr;
	int rc = otf_pdata_decode_traces(&tr, t, n, ar, NULL, NULL);
	if (rc)
		return rc;
	if (tr.resource_spans_len != 1)
		return OTF_E_INVAL;
	*out = tr.resource_spans[0].resource;
	return 0;
}

static int key_attrs(otf_arena_t *ar, const series_t *s, otf_attributes_t *out)
{
	size_t inner = 1 + otf__pb_varint_len(s->key_len) + s->key_len;
	size_t total = 1 + otf__pb_varint_len(inner) + inner;
	uint8_t *t = otf_arena_alloc(ar, total), *p = t;
	if (!t)
		return OTF_E_NOMEM;
	*p++ = 0x0a;
	p = otf__pb_varint_put(p, inner);
	*p++ = 0x0a;
	p = otf__pb_varint_put(p, s->key_len);
	memcpy(p, s->key, s->key_len);
	otf_resource_t r;
	int rc = decode_wrapped(ar, t, total, &r);
	if (rc == 0)
		*out = r.attributes;
	return rc;
}

static otf_bytes_t name_in(otf_arena_t *ar, const char *ns, const char *name)
{
	size_t nl = ns ? strlen(ns) : 0, ml = strlen(name);
	char *p = otf_arena_alloc(ar, nl + 1 + ml);
	if (!p)
		return (otf_bytes_t){0};
	if (nl) {
		memcpy(p, ns, nl);
		p[nl++] = '.';
	}
	memcpy(p + nl, name, ml);
	return (otf_bytes_t){(const uint8_t *)p, nl + ml};
}

static int build(otf_sm_agg_t *a, uint64_t now, otf_buf_t **out, uint64_t *points)
{
	const otf_sm_config_t *cfg = a->cfg;
	int32_t temp =
	    cfg->aggregation_temporality == 1 ? OTF_TEMPORALITY_DELTA : OTF_TEMPORALITY_CUMULATIVE;
	size_t nm = a->hist ? 2 : 1;
	otf_arena_t ar;
	otf_arena_init(&ar, 0);
	int rc = OTF_E_NOMEM;
	size_t *cnt = otf_calloc(a->nres + 1, sizeof *cnt);
	size_t *pos = otf_calloc(a->nres + 1, sizeof *pos);
	size_t *fill = otf_calloc(a->nres + 1, sizeof *fill);
	if (!cnt || !pos || !fill)
		goto done;
	for (size_t i = 0; i < a->nseries; i++)
		cnt[a->series[i].res] += a->series[i].calls > 0;
	size_t nrm = 0;
	for (size_t r = 0; r < a->nres; r++)
		if (cnt[r])
			pos[r] = nrm++;
	rc = 0;
	if (!nrm)
		goto done;
	rc = OTF_E_NOMEM;
	otf_metrics_t m = {.resource_metrics =
	                       otf_arena_calloc(&ar, nrm, sizeof(otf_resource_metrics_t)),
	                   .resource_metrics_len = nrm};
	if (!m.resource_metrics)
		goto done;
	for (size_t r = 0; r < a->nres; r++) {
		if (!cnt[r])
			continue;
		otf_resource_metrics_t *rm = &m.resource_metrics[pos[r]];
		if ((rc = decode_wrapped(&ar, a->res[r].traces, a->res[r].traces_len,
		                         &rm->resource)))
			goto done;
		rc = OTF_E_NOMEM;
		otf_scope_metrics_t *sm = otf_arena_calloc(&ar, 1, sizeof *sm);
		otf_metric_t *mt = otf_arena_calloc(&ar, nm, sizeof *mt);
		if (!sm || !mt)
			goto done;
		rm->scope_metrics = sm;
		rm->scope_metrics_len = 1;
		sm->scope.name = (otf_bytes_t){(const uint8_t *)"spanmetricsconnector", 20};
		sm->metrics = mt;
		sm->metrics_len = nm;
		mt[0].name = name_in(&ar, cfg->namespace_, "calls");
		mt[0].type = OTF_METRIC_SUM;
		mt[0].aggregation_temporality = temp;
		mt[0].is_monotonic = true;
		mt[0].data_points.number =
		    otf_arena_calloc(&ar, cnt[r], sizeof(otf_number_data_point_t));
		mt[0].data_points_len = cnt[r];
		if (!mt[0].name.ptr || !mt[0].data_points.number)
			goto done;
		if (nm == 2) {
			mt[1].name = name_in(&ar, cfg->namespace_, "duration");
			mt[1].unit =
			    (otf_bytes_t){(const uint8_t *)(cfg->histogram.unit ? "s" : "ms"),
			                  cfg->histogram.unit ? 1u : 2u};
			mt[1].aggregation_temporality = temp;
			mt[1].data_points_len = cnt[r];
			if (a->exponential) {
				mt[1].type = OTF_METRIC_EXP_HISTOGRAM;
				mt[1].data_points.exp_histogram = otf_arena_calloc(
				    &ar, cnt[r], sizeof(otf_exp_histogram_data_point_t));
			} else {
				mt[1].type = OTF_METRIC_HISTOGRAM;
				mt[1].data_points.histogram = otf_arena_calloc(
				    &ar, cnt[r], sizeof(otf_histogram_data_point_t));
			}
			if (!mt[1].name.ptr || !mt[1].data_points.histogram)
				goto done;
		}
	}
	for (size_t i = 0; i < a->nseries; i++) {
		series_t *s = &a->series[i];
		if (!s->calls)
			continue;
		otf_metric_t *mt = m.resource_metrics[pos[s->res]].scope_metrics[0].metrics;
		size_t k = fill[s->res]++;
		otf_attributes_t at;
		if ((rc = key_attrs(&ar, s, &at)))
			goto done;
		otf_number_data_point_t *np = &mt[0].data_points.number[k];
		np->attributes = at;
		np->start_time_unix_nano = s->start_ns;
		np->time_unix_nano = now;
		np->value_type = OTF_NUMBER_INT;
		np->value.as_int = (int64_t)s->calls;
		(*points)++;
		if (nm == 1)
			continue;
		(*points)++;
		if (s->exp) {
			otf_exp_histogram_data_point_t *ep = &mt[1].data_points.exp_histogram[k];
			ep->attributes = at;
			ep->start_time_unix_nano = s->start_ns;
			ep->time_unix_nano = now;
			ep->count = s->count;
			ep->has_sum = true;
			ep->sum = s->sum;
			ep->scale = s->exp->scale;
			ep->zero_count = s->exp->zero_count;
			ep->positive.offset = s->exp->offset;
			ep->positive.bucket_counts = s->exp->counts;
			ep->positive.bucket_counts_len = s->exp->len;
			ep->has_min = ep->has_max = s->exp->n > 0;
			ep->min = s->exp->min;
			ep->max = s->exp->max;
		} else {
			otf_histogram_data_point_t *hp = &mt[1].data_points.histogram[k];
			hp->attributes = at;
			hp->start_time_unix_nano = s->start_ns;
			hp->time_unix_nano = now;
			hp->count = s->count;
			hp->has_sum = true;
			hp->sum = s->sum;
			hp->bucket_counts = s->buckets;
			hp->bucket_counts_len = a->nbounds + 1;
			hp->explicit_bounds = a->bounds;
			hp->explicit_bounds_len = a->nbounds;
		}
	}
	rc = otf_pdata_encode_metrics(&m, out);
done:
	otf_free(cnt);
	otf_free(pos);
	otf_free(fill);
	otf_arena_close(&ar);
	return rc;
}

static void series_reset(otf_sm_agg_t *a, series_t *s, uint64_t now)
{
	s->calls = s->count = 0;
	s->sum = 0;
	s->start_ns = now;
	if (s->buckets)
		memset(s->buckets, 0, (a->nbounds + 1) * sizeof *s->buckets);
	if (s->exp) {
		uint64_t *c = s->exp->counts;
		memset(c, 0, (size_t)a->max_size * sizeof *c);
		*s->exp = (otf_sm_exph_t){.scale = 20, .counts = c};
	}
}

/* Drops the resources marked gone (and their series) and the series
 * marked gone (calls == UINT64_MAX), then rebuilds the index. */
static int compact(otf_sm_agg_t *a, bool *gone_res)
{
	size_t *remap = otf_calloc(a->nres + 1, sizeof *remap);
	if (!remap)
		return OTF_E_NOMEM;
	size_t nr = 0;
	for (size_t r = 0; r < a->nres; r++) {
		if (gone_res[r]) {
			otf_free(a->res[r].traces);
			continue;
		}
		remap[r] = nr;
		a->res[nr] = a->res[r];
		a->res[nr].nseries = 0;
		a->res[nr].overflow = -1;
		nr++;
	}
	size_t ns = 0;
	for (size_t i = 0; i < a->nseries; i++) {
		series_t *s = &a->series[i];
		if (gone_res[s->res] || s->calls == UINT64_MAX) {
			otf__sm_series_free(s);
			continue;
		}
		s->res = (uint32_t)remap[s->res];
		a->series[ns] = *s;
		a->res[s->res].nseries++;
		if (s->overflow)
			a->res[s->res].overflow = (int64_t)ns;
		ns++;
	}
	a->nres = nr;
	a->nseries = ns;
	otf_free(remap);
	return otf__sm_index_rebuild(a, ns);
}

int otf__sm_evict(otf_sm_agg_t *a, size_t r)
{
	bool *gone = otf_calloc(a->nres + 1, sizeof *gone);
	if (!gone)
		return OTF_E_NOMEM;
	gone[r] = true;
	int rc = compact(a, gone);
	otf_free(gone);
	return rc;
}

int otf_sm_agg_flush(otf_sm_agg_t *a, uint64_t now, otf_buf_t **out, uint64_t *points)
{
	*out = NULL;
	*points = 0;
	int rc = build(a, now, out, points);
	if (rc)
		return rc;
	bool delta = a->cfg->aggregation_temporality == 1;
	int64_t exp = a->cfg->metrics_expiration_ns;
	if (!delta && exp <= 0)
		return 0;
	bool *gone = otf_calloc(a->nres + 1, sizeof *gone);
	size_t *live = otf_calloc(a->nres + 1, sizeof *live);
	if (!gone || !live) {
		otf_free(gone);
		otf_free(live);
		return 0; /* state kept as it is; the next flush tries again */
	}
	for (size_t r = 0; r < a->nres; r++)
		gone[r] = exp > 0 && now - a->res[r].last_seen >= (uint64_t)exp;
	if (delta) {
		/* Delta: what was sent is reset and starts at this flush; a
		 * series that saw nothing for a whole interval is dropped. */
		for (size_t i = 0; i < a->nseries; i++) {
			series_t *s = &a->series[i];
			if (s->calls) {
				series_reset(a, s, now);
				live[s->res]++;
			} else {
				s->calls = UINT64_MAX;
			}
		}
		for (size_t r = 0; r < a->nres; r++)
			gone[r] = gone[r] || !live[r];
	}
	rc = compact(a, gone);
	otf_free(gone);
	otf_free(live);
	return rc;
}
