/* OTLP/JSON decoding of traces (ExportTraceServiceRequest / TracesData) and
 * of the Export*ServiceResponse of every signal. */
#include "jsonc_ref_internal.h"

#include "otflow/err.h"
#include "pdata_err.h"

static const char *const span_kind_names[] = {
    "SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",      "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER",
};

static const char *const status_code_names[] = {
    "STATUS_CODE_UNSET",
    "STATUS_CODE_OK",
    "STATUS_CODE_ERROR",
};

#define N_NAMES(a) (sizeof(a) / sizeof((a)[0]))

static int event_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_span_event_t *e = out;
	if (!strcmp(k, "timeUnixNano"))
		return ref__jdec_u64(d, v, &e->time_unix_nano);
	if (!strcmp(k, "name"))
		return ref__jdec_string(d, v, &e->name);
	if (!strcmp(k, "attributes"))
		return ref__jdec_attributes(d, v, k, &e->attributes);
	if (!strcmp(k, "droppedAttributesCount"))
		return ref__jdec_u32(d, v, &e->dropped_attributes_count);
	return 0;
}

static int event_elem(ref__jdec *d, json_object *v, void *elem)
{
	return ref__jdec_object(d, v, event_field, elem);
}

static int link_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_span_link_t *l = out;
	if (!strcmp(k, "traceId"))
		return ref__jdec_id(d, v, &l->trace_id, OTF_TRACE_ID_LEN);
	if (!strcmp(k, "spanId"))
		return ref__jdec_id(d, v, &l->span_id, OTF_SPAN_ID_LEN);
	if (!strcmp(k, "traceState"))
		return ref__jdec_string(d, v, &l->trace_state);
	if (!strcmp(k, "attributes"))
		return ref__jdec_attributes(d, v, k, &l->attributes);
	if (!strcmp(k, "droppedAttributesCount"))
		return ref__jdec_u32(d, v, &l->dropped_attributes_count);
	if (!strcmp(k, "flags"))
		return ref__jdec_u32(d, v, &l->flags);
	return 0;
}

static int link_elem(ref__jdec *d, json_object *v, void *elem)
{
	return ref__jdec_object(d, v, link_field, elem);
}

static int status_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_status_t *s = out;
	if (!strcmp(k, "message"))
		return ref__jdec_string(d, v, &s->message);
	if (!strcmp(k, "code"))
		return ref__jdec_enum(d, v, status_code_names, N_NAMES(status_code_names),
		                      &s->code);
	return 0;
}

static int span_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_span_t *s = out;
	switch (k[0]) {
	case 'a':
		if (!strcmp(k, "attributes"))
			return ref__jdec_attributes(d, v, k, &s->attributes);
		break;
	case 'd':
		if (!strcmp(k, "droppedAttributesCount"))
			return ref__jdec_u32(d, v, &s->dropped_attributes_count);
		if (!strcmp(k, "droppedEventsCount"))
			return ref__jdec_u32(d, v, &s->dropped_events_count);
		if (!strcmp(k, "droppedLinksCount"))
			return ref__jdec_u32(d, v, &s->dropped_links_count);
		break;
	case 'e':
		if (!strcmp(k, "endTimeUnixNano"))
			return ref__jdec_u64(d, v, &s->end_time_unix_nano);
		if (!strcmp(k, "events"))
			return ref__jdec_array(d, v, k, sizeof *s->events, &s->events,
			                       &s->events_len, event_elem);
		break;
	case 'f':
		if (!strcmp(k, "flags"))
			return ref__jdec_u32(d, v, &s->flags);
		break;
	case 'k':
		if (!strcmp(k, "kind"))
			return ref__jdec_enum(d, v, span_kind_names, N_NAMES(span_kind_names),
			                      &s->kind);
		break;
	case 'l':
		if (!strcmp(k, "links"))
			return ref__jdec_array(d, v, k, sizeof *s->links, &s->links, &s->links_len,
			                       link_elem);
		break;
	case 'n':
		if (!strcmp(k, "name"))
			return ref__jdec_string(d, v, &s->name);
		break;
	case 'p':
		if (!strcmp(k, "parentSpanId"))
			return ref__jdec_id(d, v, &s->parent_span_id, OTF_SPAN_ID_LEN);
		break;
	case 's':
		if (!strcmp(k, "spanId"))
			return ref__jdec_id(d, v, &s->span_id, OTF_SPAN_ID_LEN);
		if (!strcmp(k, "startTimeUnixNano"))
			return ref__jdec_u64(d, v, &s->start_time_unix_nano);
		if (!strcmp(k, "status"))
			return ref__jdec_object(d, v, status_field, &s->status);
		break;
	case 't':
		if (!strcmp(k, "traceId"))
			return ref__jdec_id(d, v, &s->trace_id, OTF_TRACE_ID_LEN);
		if (!strcmp(k, "traceState"))
			return ref__jdec_string(d, v, &s->trace_state);
		break;
	}
	return 0;
}

static int span_elem(ref__jdec *d, json_object *v, void *elem)
{
	return ref__jdec_object(d, v, span_field, elem);
}

static int scope_spans_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_scope_spans_t *ss = out;
	if (!strcmp(k, "scope"))
		return ref__jdec_scope(d, v, &ss->scope);
	if (!strcmp(k, "spans"))
		return ref__jdec_array(d, v, k, sizeof *ss->spans, &ss->spans, &ss->spans_len,
		                       span_elem);
	if (!strcmp(k, "schemaUrl"))
		return ref__jdec_string(d, v, &ss->schema_url);
	return 0;
}

static int scope_spans_elem(ref__jdec *d, json_object *v, void *elem)
{
	return ref__jdec_object(d, v, scope_spans_field, elem);
}

static int resource_spans_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_resource_spans_t *rs = out;
	if (!strcmp(k, "resource"))
		return ref__jdec_resource(d, v, &rs->resource);
	if (!strcmp(k, "scopeSpans"))
		return ref__jdec_array(d, v, k, sizeof *rs->scope_spans, &rs->scope_spans,
		                       &rs->scope_spans_len, scope_spans_elem);
	if (!strcmp(k, "schemaUrl"))
		return ref__jdec_string(d, v, &rs->schema_url);
	return 0;
}

static int resource_spans_elem(ref__jdec *d, json_object *v, void *elem)
{
	return ref__jdec_object(d, v, resource_spans_field, elem);
}

static int traces_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_traces_t *t = out;
	if (!strcmp(k, "resourceSpans"))
		return ref__jdec_array(d, v, k, sizeof *t->resource_spans, &t->resource_spans,
		                       &t->resource_spans_len, resource_spans_elem);
	return 0;
}

int otf_ref_json_decode_traces(otf_traces_t *out, const char *json, size_t len, otf_arena_t *arena,
                               const otf_pdata_limits_t *limits, otf_pdata_error_t *err)
{
	ref__jdec d;
	json_object *root;
	memset(out, 0, sizeof *out);
	int rc = ref__jdec_begin(&d, &root, json, len, arena, limits, err);
	if (rc)
		return rc;
	rc = ref__jdec_object(&d, root, traces_field, out);
	json_object_put(root);
	return rc;
}

/* ---- Export*ServiceResponse ---- */

typedef struct response_ctx {
	otf_export_response_t *out;
	const char *rejected; /* the signal's rejected_* field, camelCase */
} response_ctx;

static int partial_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	response_ctx *c = out;
	if (!strcmp(k, c->rejected))
		return ref__jdec_i64(d, v, &c->out->rejected);
	if (!strcmp(k, "errorMessage"))
		return ref__jdec_string(d, v, &c->out->error_message);
	return 0;
}

static int response_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	response_ctx *c = out;
	if (!strcmp(k, "partialSuccess")) {
		c->out->has_partial_success = true;
		return ref__jdec_object(d, v, partial_field, c);
	}
	return 0;
}

int otf_ref_json_decode_response(otf_export_response_t *out, otf_signal_t signal, const char *json,
                                 size_t len, otf_arena_t *arena, otf_pdata_error_t *err)
{
	memset(out, 0, sizeof *out);
	response_ctx c = {out, NULL};
	switch (signal) {
	case OTF_SIGNAL_TRACES:
		c.rejected = "rejectedSpans";
		break;
	case OTF_SIGNAL_METRICS:
		c.rejected = "rejectedDataPoints";
		break;
	case OTF_SIGNAL_LOGS:
		c.rejected = "rejectedLogRecords";
		break;
	default:
		return otf__perr_set(err, OTF_E_INVAL, 0, "unknown signal %d", (int)signal);
	}
	ref__jdec d;
	json_object *root;
	int rc = ref__jdec_begin(&d, &root, json, len, arena, NULL, err);
	if (rc)
		return rc;
	rc = ref__jdec_object(&d, root, response_field, &c);
	json_object_put(root);
	return rc;
}
