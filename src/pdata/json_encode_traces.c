/* OTLP/JSON encoding of traces (ExportTraceServiceRequest / TracesData).
 * Members are written in proto declaration order with lowerCamelCase keys;
 * defaults are omitted. */
#include "json_internal.h"

#include "otflow/err.h"

static void span_event(otf__jw *w, const otf_span_event_t *e)
{
	otf__jw_ch(w, '{');
	otf__jw_f_u64s(w, "timeUnixNano", e->time_unix_nano);
	otf__jw_f_str(w, "name", e->name);
	otf__jw_f_attributes(w, "attributes", &e->attributes);
	otf__jw_f_u32(w, "droppedAttributesCount", e->dropped_attributes_count);
	otf__jw_ch(w, '}');
}

static void span_link(otf__jw *w, const otf_span_link_t *l)
{
	otf__jw_ch(w, '{');
	otf__jw_f_id(w, "traceId", l->trace_id, OTF_TRACE_ID_LEN);
	otf__jw_f_id(w, "spanId", l->span_id, OTF_SPAN_ID_LEN);
	otf__jw_f_str(w, "traceState", l->trace_state);
	otf__jw_f_attributes(w, "attributes", &l->attributes);
	otf__jw_f_u32(w, "droppedAttributesCount", l->dropped_attributes_count);
	otf__jw_f_u32(w, "flags", l->flags);
	otf__jw_ch(w, '}');
}

static void span(otf__jw *w, const otf_span_t *s)
{
	otf__jw_ch(w, '{');
	otf__jw_f_id(w, "traceId", s->trace_id, OTF_TRACE_ID_LEN);
	otf__jw_f_id(w, "spanId", s->span_id, OTF_SPAN_ID_LEN);
	otf__jw_f_str(w, "traceState", s->trace_state);
	otf__jw_f_id(w, "parentSpanId", s->parent_span_id, OTF_SPAN_ID_LEN);
	otf__jw_f_u32(w, "flags", s->flags);
	otf__jw_f_str(w, "name", s->name);
	otf__jw_f_i32(w, "kind", s->kind);
	otf__jw_f_u64s(w, "startTimeUnixNano", s->start_time_unix_nano);
	otf__jw_f_u64s(w, "endTimeUnixNano", s->end_time_unix_nano);
	otf__jw_f_attributes(w, "attributes", &s->attributes);
	otf__jw_f_u32(w, "droppedAttributesCount", s->dropped_attributes_count);
	if (s->events_len) {
		otf__jw_key(w, "events");
		otf__jw_ch(w, '[');
		for (size_t i = 0; i < s->events_len && !w->err; i++) {
			otf__jw_sep(w);
			span_event(w, &s->events[i]);
		}
		otf__jw_ch(w, ']');
	}
	otf__jw_f_u32(w, "droppedEventsCount", s->dropped_events_count);
	if (s->links_len) {
		otf__jw_key(w, "links");
		otf__jw_ch(w, '[');
		for (size_t i = 0; i < s->links_len && !w->err; i++) {
			otf__jw_sep(w);
			span_link(w, &s->links[i]);
		}
		otf__jw_ch(w, ']');
	}
	otf__jw_f_u32(w, "droppedLinksCount", s->dropped_links_count);
	if (s->status.message.len || s->status.code) {
		otf__jw_key(w, "status");
		otf__jw_ch(w, '{');
		otf__jw_f_str(w, "message", s->status.message);
		otf__jw_f_i32(w, "code", s->status.code);
		otf__jw_ch(w, '}');
	}
	otf__jw_ch(w, '}');
}

static void scope_spans(otf__jw *w, const otf_scope_spans_t *ss)
{
	otf__jw_ch(w, '{');
	otf__jw_f_scope(w, &ss->scope);
	if (ss->spans_len) {
		otf__jw_key(w, "spans");
		otf__jw_ch(w, '[');
		for (size_t i = 0; i < ss->spans_len && !w->err; i++) {
			otf__jw_sep(w);
			span(w, &ss->spans[i]);
		}
		otf__jw_ch(w, ']');
	}
	otf__jw_f_str(w, "schemaUrl", ss->schema_url);
	otf__jw_ch(w, '}');
}

int otf_pdata_json_encode_traces(const otf_traces_t *in, otf_buf_t **out)
{
	otf__jw w;
	int rc = otf__jw_init(&w, 1024);
	if (rc)
		return rc;
	otf__jw_ch(&w, '{');
	if (in->resource_spans_len) {
		otf__jw_key(&w, "resourceSpans");
		otf__jw_ch(&w, '[');
		for (size_t i = 0; i < in->resource_spans_len && !w.err; i++) {
			const otf_resource_spans_t *rs = &in->resource_spans[i];
			otf__jw_sep(&w);
			otf__jw_ch(&w, '{');
			otf__jw_f_resource(&w, &rs->resource);
			if (rs->scope_spans_len) {
				otf__jw_key(&w, "scopeSpans");
				otf__jw_ch(&w, '[');
				for (size_t j = 0; j < rs->scope_spans_len && !w.err; j++) {
					otf__jw_sep(&w);
					scope_spans(&w, &rs->scope_spans[j]);
				}
				otf__jw_ch(&w, ']');
			}
			otf__jw_f_str(&w, "schemaUrl", rs->schema_url);
			otf__jw_ch(&w, '}');
		}
		otf__jw_ch(&w, ']');
	}
	otf__jw_ch(&w, '}');
	return otf__jw_finish(&w, out);
}
