/* Protobuf decode of traces (trace.proto): TracesData / ExportTraceServiceRequest. */
#include "pb_decode_internal.h"

static int span_event(const otf__pbd_t *d, otf_span_event_t *e, const uint8_t *p,
                      const uint8_t *end)
{
	size_t n[3];
	memset(e, 0, sizeof *e);
	otf__pbd_count(p, end, 3, 0, 0, n);
	int rc = otf__pbd_array(d, (void **)&e->attributes.items, n[0], sizeof(otf_key_value_t), p,
	                        "attributes");
	if (OTF_UNLIKELY(rc))
		return rc;
	while (p < end) {
		const uint8_t *at = p;
		uint32_t f, wt;
		rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(d, rc, at, end, 0, 0);
		switch (f) {
		case 1:
			rc = otf__pbd_fixed64(d, &p, end, wt, &e->time_unix_nano, "time_unix_nano");
			break;
		case 2:
			rc = otf__pbd_str(d, &p, end, wt, &e->name, "name");
			break;
		case 3:
			rc = otf__pbd_attr(d, &e->attributes, &p, end, wt, "attributes");
			break;
		case 4:
			rc = otf__pbd_u32(d, &p, end, wt, &e->dropped_attributes_count,
			                  "dropped_attributes_count");
			break;
		default:
			rc = otf__pbd_skip(d, &p, end, at, f, wt);
			break;
		}
		if (OTF_UNLIKELY(rc))
			return rc;
	}
	return 0;
}

static int span_link(const otf__pbd_t *d, otf_span_link_t *l, const uint8_t *p, const uint8_t *end)
{
	size_t n[3];
	memset(l, 0, sizeof *l);
	otf__pbd_count(p, end, 4, 0, 0, n);
	int rc = otf__pbd_array(d, (void **)&l->attributes.items, n[0], sizeof(otf_key_value_t), p,
	                        "attributes");
	if (OTF_UNLIKELY(rc))
		return rc;
	while (p < end) {
		const uint8_t *at = p;
		uint32_t f, wt;
		rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(d, rc, at, end, 0, 0);
		switch (f) {
		case 1:
			rc =
			    otf__pbd_id(d, &p, end, wt, &l->trace_id, OTF_TRACE_ID_LEN, "trace_id");
			break;
		case 2:
			rc = otf__pbd_id(d, &p, end, wt, &l->span_id, OTF_SPAN_ID_LEN, "span_id");
			break;
		case 3:
			rc = otf__pbd_str(d, &p, end, wt, &l->trace_state, "trace_state");
			break;
		case 4:
			rc = otf__pbd_attr(d, &l->attributes, &p, end, wt, "attributes");
			break;
		case 5:
			rc = otf__pbd_u32(d, &p, end, wt, &l->dropped_attributes_count,
			                  "dropped_attributes_count");
			break;
		case 6:
			rc = otf__pbd_fixed32(d, &p, end, wt, &l->flags, "flags");
			break;
		default:
			rc = otf__pbd_skip(d, &p, end, at, f, wt);
			break;
		}
		if (OTF_UNLIKELY(rc))
			return rc;
	}
	return 0;
}

/* Status: message = 2, code = 3 (field 1, deprecated_code, is skipped). */
static int span_status(const otf__pbd_t *d, otf_status_t *st, const uint8_t *p, const uint8_t *end)
{
	memset(st, 0, sizeof *st);
	while (p < end) {
		const uint8_t *at = p;
		uint32_t f, wt;
		int rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(d, rc, at, end, 0, 0);
		if (f == 2)
			rc = otf__pbd_str(d, &p, end, wt, &st->message, "message");
		else if (f == 3)
			rc = otf__pbd_i32(d, &p, end, wt, &st->code, "code");
		else
			rc = otf__pbd_skip(d, &p, end, at, f, wt);
		if (OTF_UNLIKELY(rc))
			return rc;
	}
	return 0;
}

static int span(const otf__pbd_t *d, otf_span_t *s, const uint8_t *p, const uint8_t *end)
{
	size_t n[3];
	memset(s, 0, sizeof *s);
	otf__pbd_count(p, end, 9, 11, 13, n);
	int rc = otf__pbd_array(d, (void **)&s->attributes.items, n[0], sizeof(otf_key_value_t), p,
	                        "attributes");
	if (OTF_LIKELY(!rc))
		rc = otf__pbd_array(d, (void **)&s->events, n[1], sizeof(otf_span_event_t), p,
		                    "events");
	if (OTF_LIKELY(!rc))
		rc = otf__pbd_array(d, (void **)&s->links, n[2], sizeof(otf_span_link_t), p,
		                    "links");
	if (OTF_UNLIKELY(rc))
		return rc;
	while (p < end) {
		const uint8_t *at = p, *m, *me;
		uint32_t f, wt;
		rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(d, rc, at, end, 0, 0);
		switch (f) {
		case 1:
			rc =
			    otf__pbd_id(d, &p, end, wt, &s->trace_id, OTF_TRACE_ID_LEN, "trace_id");
			break;
		case 2:
			rc = otf__pbd_id(d, &p, end, wt, &s->span_id, OTF_SPAN_ID_LEN, "span_id");
			break;
		case 3:
			rc = otf__pbd_str(d, &p, end, wt, &s->trace_state, "trace_state");
			break;
		case 4:
			rc = otf__pbd_id(d, &p, end, wt, &s->parent_span_id, OTF_SPAN_ID_LEN,
			                 "parent_span_id");
			break;
		case 5:
			rc = otf__pbd_str(d, &p, end, wt, &s->name, "name");
			break;
		case 6:
			rc = otf__pbd_i32(d, &p, end, wt, &s->kind, "kind");
			break;
		case 7:
			rc = otf__pbd_fixed64(d, &p, end, wt, &s->start_time_unix_nano,
			                      "start_time_unix_nano");
			break;
		case 8:
			rc = otf__pbd_fixed64(d, &p, end, wt, &s->end_time_unix_nano,
			                      "end_time_unix_nano");
			break;
		case 9:
			rc = otf__pbd_attr(d, &s->attributes, &p, end, wt, "attributes");
			break;
		case 10:
			rc = otf__pbd_u32(d, &p, end, wt, &s->dropped_attributes_count,
			                  "dropped_attributes_count");
			break;
		case 11:
			rc = otf__pbd_len(d, &p, end, wt, &m, &me, "events");
			if (OTF_UNLIKELY(rc))
				return rc;
			rc = span_event(d, &s->events[s->events_len], m, me);
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(d, rc, "events", (long)s->events_len);
			s->events_len++;
			break;
		case 12:
			rc = otf__pbd_u32(d, &p, end, wt, &s->dropped_events_count,
			                  "dropped_events_count");
			break;
		case 13:
			rc = otf__pbd_len(d, &p, end, wt, &m, &me, "links");
			if (OTF_UNLIKELY(rc))
				return rc;
			rc = span_link(d, &s->links[s->links_len], m, me);
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(d, rc, "links", (long)s->links_len);
			s->links_len++;
			break;
		case 14:
			rc = otf__pbd_u32(d, &p, end, wt, &s->dropped_links_count,
			                  "dropped_links_count");
			break;
		case 15:
			rc = otf__pbd_len(d, &p, end, wt, &m, &me, "status");
			if (OTF_UNLIKELY(rc))
				return rc;
			rc = span_status(d, &s->status, m, me);
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(d, rc, "status", -1);
			break;
		case 16:
			rc = otf__pbd_fixed32(d, &p, end, wt, &s->flags, "flags");
			break;
		default:
			rc = otf__pbd_skip(d, &p, end, at, f, wt);
			break;
		}
		if (OTF_UNLIKELY(rc))
			return rc;
	}
	return 0;
}

static int span_elem(const otf__pbd_t *d, void *e, const uint8_t *p, const uint8_t *end)
{
	return span(d, e, p, end);
}

static const otf__pbd_group_desc_t k_scope_spans = {false, "spans", sizeof(otf_span_t), span_elem};

static int scope_spans(const otf__pbd_t *d, void *e, const uint8_t *p, const uint8_t *end)
{
	otf_scope_spans_t *g = e;
	memset(g, 0, sizeof *g);
	return otf__pbd_group(d, &k_scope_spans, &g->scope, (void **)&g->spans, &g->spans_len,
	                      &g->schema_url, p, end);
}

static const otf__pbd_group_desc_t k_resource_spans = {true, "scope_spans",
                                                       sizeof(otf_scope_spans_t), scope_spans};

static int resource_spans(const otf__pbd_t *d, otf_resource_spans_t *g, const uint8_t *p,
                          const uint8_t *end)
{
	memset(g, 0, sizeof *g);
	return otf__pbd_group(d, &k_resource_spans, &g->resource, (void **)&g->scope_spans,
	                      &g->scope_spans_len, &g->schema_url, p, end);
}

int otf_pdata_decode_traces(otf_traces_t *out, const uint8_t *data, size_t len, otf_arena_t *arena,
                            const otf_pdata_limits_t *limits, otf_pdata_error_t *err)
{
	otf__pbd_t d;
	int rc = otf__pbd_begin(&d, out, data, len, arena, limits, err);
	if (OTF_UNLIKELY(rc))
		return rc;
	const uint8_t *p = d.base, *end = d.base + len;
	size_t n[3];
	memset(out, 0, sizeof *out);
	otf__pbd_count(p, end, 1, 0, 0, n);
	rc = otf__pbd_array(&d, (void **)&out->resource_spans, n[0], sizeof(otf_resource_spans_t),
	                    p, "resource_spans");
	if (OTF_UNLIKELY(rc))
		return rc;
	while (p < end) {
		const uint8_t *at = p, *m, *me;
		uint32_t f, wt;
		rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(&d, rc, at, end, 0, 0);
		if (f == 1) {
			rc = otf__pbd_len(&d, &p, end, wt, &m, &me, "resource_spans");
			if (OTF_UNLIKELY(rc))
				return rc;
			rc = resource_spans(&d, &out->resource_spans[out->resource_spans_len], m,
			                    me);
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(&d, rc, "resource_spans",
				                     (long)out->resource_spans_len);
			out->resource_spans_len++;
		} else {
			rc = otf__pbd_skip(&d, &p, end, at, f, wt);
			if (OTF_UNLIKELY(rc))
				return rc;
		}
	}
	return 0;
}
