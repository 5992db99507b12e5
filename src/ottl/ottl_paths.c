/* OTTL paths: the fields of each context (the Collector's ottlresource,
 * ottlscope, ottlspan, ottlspanevent, ottlmetric, ottldatapoint, ottllog
 * READMEs), resolution of `ctx.field` and bare `field`, and get/set on the
 * pdata tree. */
#include "ottl_fields.h"

#include "otflow/err.h"

#include <string.h>

#define C(x) OTF_OTTL_CTX_##x
static const otf__ottl_field_desc_t fields[F_COUNT] = {
    [F_RES_ATTRS] = {C(RESOURCE), "attributes", VT_MAP, true, true},
    [F_RES_DROPPED] = {C(RESOURCE), "dropped_attributes_count", VT_INT, true, false},
    [F_RES_SCHEMA] = {C(RESOURCE), "schema_url", VT_STRING, true, false},
    [F_SCOPE_NAME] = {C(SCOPE), "name", VT_STRING, true, false},
    [F_SCOPE_VERSION] = {C(SCOPE), "version", VT_STRING, true, false},
    [F_SCOPE_ATTRS] = {C(SCOPE), "attributes", VT_MAP, true, true},
    [F_SCOPE_DROPPED] = {C(SCOPE), "dropped_attributes_count", VT_INT, true, false},
    [F_SCOPE_SCHEMA] = {C(SCOPE), "schema_url", VT_STRING, true, false},
    [F_SPAN_TRACE_ID] = {C(SPAN), "trace_id", VT_BYTES, true, false},
    [F_SPAN_TRACE_ID_STR] = {C(SPAN), "trace_id.string", VT_STRING, true, false},
    [F_SPAN_SPAN_ID] = {C(SPAN), "span_id", VT_BYTES, true, false},
    [F_SPAN_SPAN_ID_STR] = {C(SPAN), "span_id.string", VT_STRING, true, false},
    [F_SPAN_PARENT_ID] = {C(SPAN), "parent_span_id", VT_BYTES, true, false},
    [F_SPAN_PARENT_ID_STR] = {C(SPAN), "parent_span_id.string", VT_STRING, true, false},
    [F_SPAN_TRACE_STATE] = {C(SPAN), "trace_state", VT_STRING, true, false},
    [F_SPAN_NAME] = {C(SPAN), "name", VT_STRING, true, false},
    [F_SPAN_KIND] = {C(SPAN), "kind", VT_INT, true, false},
    [F_SPAN_START] = {C(SPAN), "start_time_unix_nano", VT_INT, true, false},
    [F_SPAN_END] = {C(SPAN), "end_time_unix_nano", VT_INT, true, false},
    [F_SPAN_START_TIME] = {C(SPAN), "start_time", VT_TIME, true, false},
    [F_SPAN_END_TIME] = {C(SPAN), "end_time", VT_TIME, true, false},
    [F_SPAN_ATTRS] = {C(SPAN), "attributes", VT_MAP, true, true},
    [F_SPAN_DROPPED] = {C(SPAN), "dropped_attributes_count", VT_INT, true, false},
    [F_SPAN_DROPPED_EVENTS] = {C(SPAN), "dropped_events_count", VT_INT, true, false},
    [F_SPAN_DROPPED_LINKS] = {C(SPAN), "dropped_links_count", VT_INT, true, false},
    [F_SPAN_FLAGS] = {C(SPAN), "flags", VT_INT, true, false},
    [F_SPAN_STATUS_CODE] = {C(SPAN), "status.code", VT_INT, true, false},
    [F_SPAN_STATUS_MSG] = {C(SPAN), "status.message", VT_STRING, true, false},
    [F_EV_TIME] = {C(SPANEVENT), "time_unix_nano", VT_INT, true, false},
    [F_EV_TIME_T] = {C(SPANEVENT), "time", VT_TIME, true, false},
    [F_EV_NAME] = {C(SPANEVENT), "name", VT_STRING, true, false},
    [F_EV_ATTRS] = {C(SPANEVENT), "attributes", VT_MAP, true, true},
    [F_EV_DROPPED] = {C(SPANEVENT), "dropped_attributes_count", VT_INT, true, false},
    [F_METRIC_NAME] = {C(METRIC), "name", VT_STRING, true, false},
    [F_METRIC_DESC] = {C(METRIC), "description", VT_STRING, true, false},
    [F_METRIC_UNIT] = {C(METRIC), "unit", VT_STRING, true, false},
    [F_METRIC_TYPE] = {C(METRIC), "type", VT_INT, false, false},
    [F_METRIC_TEMPORALITY] = {C(METRIC), "aggregation_temporality", VT_INT, true, false},
    [F_METRIC_MONOTONIC] = {C(METRIC), "is_monotonic", VT_BOOL, true, false},
    [F_METRIC_METADATA] = {C(METRIC), "metadata", VT_MAP, true, true},
    [F_DP_ATTRS] = {C(DATAPOINT), "attributes", VT_MAP, true, true},
    [F_DP_START] = {C(DATAPOINT), "start_time_unix_nano", VT_INT, true, false},
    [F_DP_TIME] = {C(DATAPOINT), "time_unix_nano", VT_INT, true, false},
    [F_DP_VALUE_DOUBLE] = {C(DATAPOINT), "value_double", VT_DOUBLE, true, false},
    [F_DP_VALUE_INT] = {C(DATAPOINT), "value_int", VT_INT, true, false},
    [F_DP_FLAGS] = {C(DATAPOINT), "flags", VT_INT, true, false},
    [F_DP_COUNT] = {C(DATAPOINT), "count", VT_INT, true, false},
    [F_DP_SUM] = {C(DATAPOINT), "sum", VT_DOUBLE, true, false},
    [F_LOG_TIME] = {C(LOG), "time_unix_nano", VT_INT, true, false},
    [F_LOG_OBSERVED] = {C(LOG), "observed_time_unix_nano", VT_INT, true, false},
    [F_LOG_TIME_T] = {C(LOG), "time", VT_TIME, true, false},
    [F_LOG_OBSERVED_T] = {C(LOG), "observed_time", VT_TIME, true, false},
    [F_LOG_SEV_NUM] = {C(LOG), "severity_number", VT_INT, true, false},
    [F_LOG_SEV_TEXT] = {C(LOG), "severity_text", VT_STRING, true, false},
    [F_LOG_BODY] = {C(LOG), "body", VT_ANY, true, true},
    [F_LOG_BODY_STR] = {C(LOG), "body.string", VT_STRING, true, false},
    [F_LOG_ATTRS] = {C(LOG), "attributes", VT_MAP, true, true},
    [F_LOG_DROPPED] = {C(LOG), "dropped_attributes_count", VT_INT, true, false},
    [F_LOG_FLAGS] = {C(LOG), "flags", VT_INT, true, false},
    [F_LOG_TRACE_ID] = {C(LOG), "trace_id", VT_BYTES, true, false},
    [F_LOG_TRACE_ID_STR] = {C(LOG), "trace_id.string", VT_STRING, true, false},
    [F_LOG_SPAN_ID] = {C(LOG), "span_id", VT_BYTES, true, false},
    [F_LOG_SPAN_ID_STR] = {C(LOG), "span_id.string", VT_STRING, true, false},
    [F_LOG_EVENT_NAME] = {C(LOG), "event_name", VT_STRING, true, false},
    [F_CACHE] = {OTF_OTTL_CTX_COUNT, "cache", VT_MAP, true, true},
    [F_REQUEST] = {OTF_OTTL_CTX_COUNT, "request", VT_MAP, false, true},
};
#undef C

const otf__ottl_field_desc_t *otf__ottl_field_desc(int field)
{
	return field >= 0 && field < F_COUNT ? &fields[field] : NULL;
}

static const char *const ctx_names[OTF_OTTL_CTX_COUNT] = {
    "resource", "scope", "span", "spanevent", "metric", "datapoint", "log",
};

const char *otf_ottl_context_name(otf_ottl_context_t ctx)
{
	return (unsigned)ctx < OTF_OTTL_CTX_COUNT ? ctx_names[ctx] : "unknown";
}

int otf_ottl_context_parse(const char *name, size_t len)
{
	for (int i = 0; i < OTF_OTTL_CTX_COUNT; i++)
		if (strlen(ctx_names[i]) == len && memcmp(ctx_names[i], name, len) == 0)
			return i;
	return -1;
}

/* Which contexts a program of ctx can reach: itself and its parents. */
static bool reachable(otf_ottl_context_t from, otf_ottl_context_t to)
{
	if (from == to || to == OTF_OTTL_CTX_RESOURCE)
		return true;
	if (to == OTF_OTTL_CTX_SCOPE)
		return from != OTF_OTTL_CTX_RESOURCE;
	if (to == OTF_OTTL_CTX_SPAN)
		return from == OTF_OTTL_CTX_SPANEVENT;
	if (to == OTF_OTTL_CTX_METRIC)
		return from == OTF_OTTL_CTX_DATAPOINT;
	return false;
}

static int prefix_ctx(otf_bytes_t s)
{
	if (otf__ottl_bytes_is(s, "instrumentation_scope"))
		return OTF_OTTL_CTX_SCOPE;
	return otf_ottl_context_parse((const char *)s.ptr, s.len);
}

static int lookup(otf_ottl_context_t ctx, const otf_bytes_t *segs, size_t n)
{
	char name[64];
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		if (len + segs[i].len + 1 >= sizeof name)
			return -1;
		if (i)
			name[len++] = '.';
		memcpy(name + len, segs[i].ptr, segs[i].len);
		len += segs[i].len;
	}
	name[len] = 0;
	for (int f = 0; f < F_COUNT; f++)
		if ((fields[f].ctx == ctx || fields[f].ctx == OTF_OTTL_CTX_COUNT) &&
		    strcmp(fields[f].name, name) == 0)
			return f;
	return -1;
}

int otf__ottl_field_resolve(otf_ottl_context_t ctx, const otf_bytes_t *segs, size_t nsegs,
                            size_t pos, otf__ottl_err_t *e)
{
	int pc = prefix_ctx(segs[0]);
	if (pc >= 0 && nsegs > 1) {
		if (!reachable(ctx, (otf_ottl_context_t)pc)) {
			otf__ottl_errorf(e, pos, "path '%.*s' is not available in the %s context",
			                 (int)segs[0].len, (const char *)segs[0].ptr,
			                 ctx_names[ctx]);
			return -1;
		}
		int f = lookup((otf_ottl_context_t)pc, segs + 1, nsegs - 1);
		if (f >= 0)
			return f;
	} else {
		int f = lookup(ctx, segs, nsegs);
		if (f >= 0)
			return f;
	}
	size_t end = pos;
	for (size_t i = 0; i < nsegs; i++)
		end += segs[i].len + (i > 0);
	otf__ottl_errorf(e, pos, "unknown path '%.*s' in the %s context", (int)(end - pos),
	                 (const char *)segs[0].ptr, ctx_names[ctx]);
	return -1;
}

/* ---- get / set ---- */

otf_attributes_t *otf__ottl_attrs_of(otf_ottl_record_t *r, int f)
{
	if (__builtin_expect(r->lazy != NULL, 0))
		otf__ottl_lazy_load(r, f);
	switch (f) {
	case F_RES_ATTRS:
		return r->resource ? &r->resource->attributes : NULL;
	case F_SCOPE_ATTRS:
		return r->scope ? &r->scope->attributes : NULL;
	case F_SPAN_ATTRS:
		return r->span ? &r->span->attributes : NULL;
	case F_EV_ATTRS:
		return r->event ? &r->event->attributes : NULL;
	case F_METRIC_METADATA:
		return r->metric ? &r->metric->metadata : NULL;
	case F_LOG_ATTRS:
		return r->log ? &r->log->attributes : NULL;
	case F_CACHE:
		return &r->cache;
	case F_DP_ATTRS:
		if (!r->metric || r->datapoint_index >= r->metric->data_points_len)
			return NULL;
		switch (r->metric->type) {
		case OTF_METRIC_GAUGE:
		case OTF_METRIC_SUM:
			return &r->metric->data_points.number[r->datapoint_index].attributes;
		case OTF_METRIC_HISTOGRAM:
			return &r->metric->data_points.histogram[r->datapoint_index].attributes;
		case OTF_METRIC_EXP_HISTOGRAM:
			return &r->metric->data_points.exp_histogram[r->datapoint_index].attributes;
		case OTF_METRIC_SUMMARY:
			return &r->metric->data_points.summary[r->datapoint_index].attributes;
		default:
			return NULL;
		}
	default:
		return NULL;
	}
}

bool otf__ottl_dp_of(otf_ottl_record_t *r, dp_ref_t *d)
{
	memset(d, 0, sizeof *d);
	if (!r->metric || r->datapoint_index >= r->metric->data_points_len)
		return false;
	size_t i = r->datapoint_index;
	switch (r->metric->type) {
	case OTF_METRIC_GAUGE:
	case OTF_METRIC_SUM: {
		otf_number_data_point_t *p = &r->metric->data_points.number[i];
		*d = (dp_ref_t){
		    &p->start_time_unix_nano, &p->time_unix_nano, &p->flags, p, NULL, NULL, NULL};
		return true;
	}
	case OTF_METRIC_HISTOGRAM: {
		otf_histogram_data_point_t *p = &r->metric->data_points.histogram[i];
		*d = (dp_ref_t){&p->start_time_unix_nano,
		                &p->time_unix_nano,
		                &p->flags,
		                NULL,
		                &p->count,
		                &p->sum,
		                &p->has_sum};
		return true;
	}
	case OTF_METRIC_EXP_HISTOGRAM: {
		otf_exp_histogram_data_point_t *p = &r->metric->data_points.exp_histogram[i];
		*d = (dp_ref_t){&p->start_time_unix_nano,
		                &p->time_unix_nano,
		                &p->flags,
		                NULL,
		                &p->count,
		                &p->sum,
		                &p->has_sum};
		return true;
	}
	case OTF_METRIC_SUMMARY: {
		otf_summary_data_point_t *p = &r->metric->data_points.summary[i];
		*d = (dp_ref_t){&p->start_time_unix_nano,
		                &p->time_unix_nano,
		                &p->flags,
		                NULL,
		                &p->count,
		                &p->sum,
		                NULL};
		return true;
	}
	default:
		return false;
	}
}

static void set_int(otf_any_value_t *o, int64_t v)
{
	o->type = OTF_ANY_INT;
	o->u.int_value = v;
}

static void set_str(otf_any_value_t *o, otf_bytes_t s)
{
	o->type = OTF_ANY_STRING;
	o->u.string_value = s;
}

static void set_bytes(otf_any_value_t *o, otf_bytes_t s)
{
	o->type = OTF_ANY_BYTES;
	o->u.bytes_value = s;
}

static const otf_bytes_t empty_bytes = {(const uint8_t *)"", 0};

int otf__ottl_missing(otf__ottl_run_t *r, const otf__ottl_node_t *path)
{
	return otf__ottl_errorf(r->e, path->pos, "the record has no %s",
	                        otf_ottl_context_name(fields[path->field].ctx));
}

/* The field's value without keys. */
int otf__ottl_get_field(otf__ottl_run_t *r, const otf__ottl_node_t *path, otf_any_value_t *o)
{
	otf_ottl_record_t *rec = r->rec;
	int f = path->field;
	memset(o, 0, sizeof *o);
	if (__builtin_expect(rec->lazy != NULL, 0))
		otf__ottl_lazy_load(rec, f);
	otf_attributes_t *at = otf__ottl_attrs_of(rec, f);
	if (at) {
		o->type = OTF_ANY_KVLIST;
		o->u.kvlist_value.values = at->items;
		o->u.kvlist_value.values_len = at->len;
		return 0;
	}
	otf_ottl_context_t c = fields[f].ctx;
	if ((c == OTF_OTTL_CTX_RESOURCE && !rec->resource) ||
	    (c == OTF_OTTL_CTX_SCOPE && !rec->scope) || (c == OTF_OTTL_CTX_SPAN && !rec->span) ||
	    (c == OTF_OTTL_CTX_SPANEVENT && !rec->event) ||
	    (c == OTF_OTTL_CTX_METRIC && !rec->metric) || (c == OTF_OTTL_CTX_LOG && !rec->log))
		return otf__ottl_missing(r, path);
	otf_span_t *s = rec->span;
	otf_log_record_t *l = rec->log;
	dp_ref_t d;
	switch (f) {
	case F_RES_DROPPED:
		set_int(o, rec->resource->dropped_attributes_count);
		break;
	case F_RES_SCHEMA:
		set_str(o, rec->resource_schema_url ? *rec->resource_schema_url : empty_bytes);
		break;
	case F_SCOPE_NAME:
		set_str(o, rec->scope->name);
		break;
	case F_SCOPE_VERSION:
		set_str(o, rec->scope->version);
		break;
	case F_SCOPE_DROPPED:
		set_int(o, rec->scope->dropped_attributes_count);
		break;
	case F_SCOPE_SCHEMA:
		set_str(o, rec->scope_schema_url ? *rec->scope_schema_url : empty_bytes);
		break;
	case F_SPAN_TRACE_ID:
		set_bytes(o, s->trace_id);
		break;
	case F_SPAN_TRACE_ID_STR:
		return otf__ottl_hex(rec->arena, s->trace_id, o);
	case F_SPAN_SPAN_ID:
		set_bytes(o, s->span_id);
		break;
	case F_SPAN_SPAN_ID_STR:
		return otf__ottl_hex(rec->arena, s->span_id, o);
	case F_SPAN_PARENT_ID:
		set_bytes(o, s->parent_span_id);
		break;
	case F_SPAN_PARENT_ID_STR:
		return otf__ottl_hex(rec->arena, s->parent_span_id, o);
	case F_SPAN_TRACE_STATE:
		set_str(o, s->trace_state);
		break;
	case F_SPAN_NAME:
		set_str(o, s->name);
		break;
	case F_SPAN_KIND:
		set_int(o, s->kind);
		break;
	case F_SPAN_START:
		set_int(o, (int64_t)s->start_time_unix_nano);
		break;
	case F_SPAN_END:
		set_int(o, (int64_t)s->end_time_unix_nano);
		break;
	case F_SPAN_START_TIME:
		set_int(o, (int64_t)s->start_time_unix_nano);
		o->type = OTTL_VAL_TIME;
		break;
	case F_SPAN_END_TIME:
		set_int(o, (int64_t)s->end_time_unix_nano);
		o->type = OTTL_VAL_TIME;
		break;
	case F_SPAN_DROPPED:
		set_int(o, s->dropped_attributes_count);
		break;
	case F_SPAN_DROPPED_EVENTS:
		set_int(o, s->dropped_events_count);
		break;
	case F_SPAN_DROPPED_LINKS:
		set_int(o, s->dropped_links_count);
		break;
	case F_SPAN_FLAGS:
		set_int(o, s->flags);
		break;
	case F_SPAN_STATUS_CODE:
		set_int(o, s->status.code);
		break;
	case F_SPAN_STATUS_MSG:
		set_str(o, s->status.message);
		break;
	case F_EV_TIME:
		set_int(o, (int64_t)rec->event->time_unix_nano);
		break;
	case F_EV_TIME_T:
		set_int(o, (int64_t)rec->event->time_unix_nano);
		o->type = OTTL_VAL_TIME;
		break;
	case F_EV_NAME:
		set_str(o, rec->event->name);
		break;
	case F_EV_DROPPED:
		set_int(o, rec->event->dropped_attributes_count);
		break;
	case F_METRIC_NAME:
		set_str(o, rec->metric->name);
		break;
	case F_METRIC_DESC:
		set_str(o, rec->metric->description);
		break;
	case F_METRIC_UNIT:
		set_str(o, rec->metric->unit);
		break;
	case F_METRIC_TYPE: {
		/* METRIC_DATA_TYPE_* numbering (pmetric.MetricType) */
		static const int64_t map[] = {[OTF_METRIC_GAUGE] = 1,
		                              [OTF_METRIC_SUM] = 2,
		                              [OTF_METRIC_HISTOGRAM] = 3,
		                              [OTF_METRIC_EXP_HISTOGRAM] = 4,
		                              [OTF_METRIC_SUMMARY] = 5};
		set_int(o, (unsigned)rec->metric->type <= OTF_METRIC_SUMMARY
		               ? map[rec->metric->type]
		               : 0);
		break;
	}
	case F_METRIC_TEMPORALITY:
		set_int(o, rec->metric->aggregation_temporality);
		break;
	case F_METRIC_MONOTONIC:
		o->type = OTF_ANY_BOOL;
		o->u.bool_value = rec->metric->is_monotonic;
		break;
	case F_DP_START:
	case F_DP_TIME:
	case F_DP_VALUE_DOUBLE:
	case F_DP_VALUE_INT:
	case F_DP_FLAGS:
	case F_DP_COUNT:
	case F_DP_SUM:
		if (!otf__ottl_dp_of(rec, &d))
			return otf__ottl_missing(r, path);
		if (f == F_DP_START)
			set_int(o, (int64_t)*d.start);
		else if (f == F_DP_TIME)
			set_int(o, (int64_t)*d.time);
		else if (f == F_DP_FLAGS)
			set_int(o, *d.flags);
		else if (f == F_DP_VALUE_DOUBLE) {
			if (d.num && d.num->value_type == OTF_NUMBER_DOUBLE) {
				o->type = OTF_ANY_DOUBLE;
				o->u.double_value = d.num->value.as_double;
			} else if (d.num) {
				o->type = OTF_ANY_DOUBLE; /* 0 when the point holds an int */
			}
		} else if (f == F_DP_VALUE_INT) {
			if (d.num)
				set_int(o, d.num->value_type == OTF_NUMBER_INT ? d.num->value.as_int
				                                               : 0);
		} else if (f == F_DP_COUNT) {
			if (d.count)
				set_int(o, (int64_t)*d.count);
		} else if (d.sum) {
			o->type = OTF_ANY_DOUBLE;
			o->u.double_value = *d.sum;
		}
		break;
	case F_LOG_TIME:
		set_int(o, (int64_t)l->time_unix_nano);
		break;
	case F_LOG_OBSERVED:
		set_int(o, (int64_t)l->observed_time_unix_nano);
		break;
	case F_LOG_TIME_T:
		set_int(o, (int64_t)l->time_unix_nano);
		o->type = OTTL_VAL_TIME;
		break;
	case F_LOG_OBSERVED_T:
		set_int(o, (int64_t)l->observed_time_unix_nano);
		o->type = OTTL_VAL_TIME;
		break;
	case F_LOG_SEV_NUM:
		set_int(o, l->severity_number);
		break;
	case F_LOG_SEV_TEXT:
		set_str(o, l->severity_text);
		break;
	case F_LOG_BODY:
		*o = l->body;
		break;
	case F_LOG_BODY_STR:
		return otf__ottl_to_string(rec->arena, &l->body, o);
	case F_LOG_DROPPED:
		set_int(o, l->dropped_attributes_count);
		break;
	case F_LOG_FLAGS:
		set_int(o, l->flags);
		break;
	case F_LOG_TRACE_ID:
		set_bytes(o, l->trace_id);
		break;
	case F_LOG_TRACE_ID_STR:
		return otf__ottl_hex(rec->arena, l->trace_id, o);
	case F_LOG_SPAN_ID:
		set_bytes(o, l->span_id);
		break;
	case F_LOG_SPAN_ID_STR:
		return otf__ottl_hex(rec->arena, l->span_id, o);
	case F_LOG_EVENT_NAME:
		set_str(o, l->event_name);
		break;
	default:
		return otf__ottl_missing(r, path);
	}
	return 0;
}

/* Steps one key into v (a kvlist by string, an array by int); a missing
 * key gives nil, a key of the wrong kind is an error. *slot receives the
 * element's storage (NULL when missing). */
int otf__ottl_step(otf__ottl_run_t *r, const otf__ottl_node_t *keynode, otf_any_value_t *v,
                   otf_any_value_t **slot)
{
	otf_any_value_t k;
	int rc = otf__ottl_eval(r, keynode, &k);
	if (rc)
		return rc;
	*slot = NULL;
	if (v->type == OTF_ANY_EMPTY)
		return 0;
	if (k.type == OTF_ANY_STRING) {
		if (v->type != OTF_ANY_KVLIST)
			return otf__ottl_errorf(r->e, keynode->pos,
			                        "%s cannot be indexed by a string key",
			                        otf__ottl_type_name(v->type));
		otf_key_value_t *kv = otf__ottl_map_find(
		    v->u.kvlist_value.values, v->u.kvlist_value.values_len, k.u.string_value);
		if (kv)
			*slot = &kv->value;
		return 0;
	}
	if (k.type == OTF_ANY_INT) {
		if (v->type != OTF_ANY_ARRAY)
			return otf__ottl_errorf(r->e, keynode->pos,
			                        "%s cannot be indexed by an integer",
			                        otf__ottl_type_name(v->type));
		if (k.u.int_value < 0 || (uint64_t)k.u.int_value >= v->u.array_value.values_len)
			return otf__ottl_errorf(
			    r->e, keynode->pos, "index %lld out of range (length %zu)",
			    (long long)k.u.int_value, v->u.array_value.values_len);
		*slot = &v->u.array_value.values[k.u.int_value];
		return 0;
	}
	return otf__ottl_errorf(r->e, keynode->pos, "a key must be a string or an integer, not %s",
	                        otf__ottl_type_name(k.type));
}

/* Navigates keys from the value v; out is nil for a missing key. */
int otf__ottl_index(otf__ottl_run_t *r, otf__ottl_node_t *const *keys, size_t nkeys,
                    otf_any_value_t v, otf_any_value_t *out)
{
	for (size_t i = 0; i < nkeys; i++) {
		otf_any_value_t *slot;
		int rc = otf__ottl_step(r, keys[i], &v, &slot);
		if (rc)
			return rc;
		if (!slot) {
			memset(out, 0, sizeof *out);
			return 0;
		}
		v = *slot;
	}
	*out = v;
	return 0;
}

int otf__ottl_path_get(otf__ottl_run_t *r, const otf__ottl_node_t *path, otf_any_value_t *out)
{
	if (path->field == F_REQUEST)
		return otf__ottl_request_get(r, path, out);
	otf_any_value_t v;
	int rc;
	if (__builtin_expect(r->rec->lazy != NULL, 0) &&
	    (rc = otf__ottl_lazy_attr(r, path, out)) != 0)
		return rc < 0 ? rc : 0;
	rc = otf__ottl_get_field(r, path, &v);
	if (rc || !path->nkeys) {
		*out = v;
		return rc;
	}
	return otf__ottl_index(r, path->keys, path->nkeys, v, out);
}
