/* Protobuf encoding of TracesData / ExportTraceServiceRequest (trace.proto). */
#include "pb_encode_internal.h"

static void span_event(otf__pb_wr *w, const otf_span_event_t *e)
{
	otf__pbe_varint(w, 4, e->dropped_attributes_count);
	otf__pbe_attributes(w, 3, &e->attributes);
	otf__pbe_bytes(w, 2, e->name);
	otf__pbe_fixed64(w, 1, e->time_unix_nano);
}

static void span_link(otf__pb_wr *w, const otf_span_link_t *l)
{
	otf__pbe_fixed32(w, 6, l->flags);
	otf__pbe_varint(w, 5, l->dropped_attributes_count);
	otf__pbe_attributes(w, 4, &l->attributes);
	otf__pbe_bytes(w, 3, l->trace_state);
	otf__pbe_id(w, 2, l->span_id, OTF_SPAN_ID_LEN);
	otf__pbe_id(w, 1, l->trace_id, OTF_TRACE_ID_LEN);
}

static void span(otf__pb_wr *w, const otf_span_t *s)
{
	otf__pbe_fixed32(w, 16, s->flags);
	/* Status = 15: message = 2, code = 3; omitted when empty. */
	if (s->status.message.len || s->status.code) {
		size_t m = otf__pb_wr_size(w);
		otf__pbe_int32(w, 3, s->status.code);
		otf__pbe_bytes(w, 2, s->status.message);
		otf__pbe_close(w, 15, m);
	}
	otf__pbe_varint(w, 14, s->dropped_links_count);
	for (size_t i = s->links_len; i-- > 0 && !w->err;) {
		size_t m = otf__pb_wr_size(w);
		span_link(w, &s->links[i]);
		otf__pbe_close(w, 13, m);
	}
	otf__pbe_varint(w, 12, s->dropped_events_count);
	for (size_t i = s->events_len; i-- > 0 && !w->err;) {
		size_t m = otf__pb_wr_size(w);
		span_event(w, &s->events[i]);
		otf__pbe_close(w, 11, m);
	}
	otf__pbe_varint(w, 10, s->dropped_attributes_count);
	otf__pbe_attributes(w, 9, &s->attributes);
	otf__pbe_fixed64(w, 8, s->end_time_unix_nano);
	otf__pbe_fixed64(w, 7, s->start_time_unix_nano);
	otf__pbe_int32(w, 6, s->kind);
	otf__pbe_bytes(w, 5, s->name);
	otf__pbe_id(w, 4, s->parent_span_id, OTF_SPAN_ID_LEN);
	otf__pbe_bytes(w, 3, s->trace_state);
	otf__pbe_id(w, 2, s->span_id, OTF_SPAN_ID_LEN);
	otf__pbe_id(w, 1, s->trace_id, OTF_TRACE_ID_LEN);
}

void otf__pbe_span(otf__pb_wr *w, const otf_span_t *s)
{
	span(w, s);
}

static void scope_spans(otf__pb_wr *w, const otf_scope_spans_t *ss)
{
	otf__pbe_bytes(w, 3, ss->schema_url);
	for (size_t i = ss->spans_len; i-- > 0 && !w->err;) {
		size_t m = otf__pb_wr_size(w);
		span(w, &ss->spans[i]);
		otf__pbe_close(w, 2, m);
	}
	otf__pbe_scope(w, 1, &ss->scope);
}

static void resource_spans(otf__pb_wr *w, const otf_resource_spans_t *rs)
{
	otf__pbe_bytes(w, 3, rs->schema_url);
	for (size_t i = rs->scope_spans_len; i-- > 0 && !w->err;) {
		size_t m = otf__pb_wr_size(w);
		scope_spans(w, &rs->scope_spans[i]);
		otf__pbe_close(w, 2, m);
	}
	otf__pbe_resource(w, 1, &rs->resource);
}

/* A starting size from counts alone; see pb_encode_logs.c. */
static size_t estimate(const otf_traces_t *in)
{
	size_t n = 64;
	for (size_t i = 0; i < in->resource_spans_len; i++) {
		const otf_resource_spans_t *rs = &in->resource_spans[i];
		n += 256;
		for (size_t j = 0; j < rs->scope_spans_len; j++)
			n += 64 + rs->scope_spans[j].spans_len * 512;
	}
	return n;
}

int otf_pdata_encode_traces(const otf_traces_t *in, otf_buf_t **out)
{
	if (!in || !out || (in->resource_spans_len && !in->resource_spans))
		return OTF_E_INVAL;
	otf__pb_wr w;
	int rc = otf__pbe_begin(&w, estimate(in));
	if (rc)
		return rc;
	/* TracesData.resource_spans = 1 */
	for (size_t i = in->resource_spans_len; i-- > 0 && !w.err;) {
		size_t m = otf__pb_wr_size(&w);
		resource_spans(&w, &in->resource_spans[i]);
		otf__pbe_close(&w, 1, m);
	}
	return otf__pbe_end(&w, out);
}
