/* OTLP/JSON decoding of logs (ExportLogsServiceRequest / LogsData). */
#include "jsonc_ref_internal.h"

#include "otflow/err.h"
#include "pdata_err.h"

/* SeverityNumber value names, index = value. */
static const char *const severity_names[] = {
    "SEVERITY_NUMBER_UNSPECIFIED", "SEVERITY_NUMBER_TRACE",  "SEVERITY_NUMBER_TRACE2",
    "SEVERITY_NUMBER_TRACE3",      "SEVERITY_NUMBER_TRACE4", "SEVERITY_NUMBER_DEBUG",
    "SEVERITY_NUMBER_DEBUG2",      "SEVERITY_NUMBER_DEBUG3", "SEVERITY_NUMBER_DEBUG4",
    "SEVERITY_NUMBER_INFO",        "SEVERITY_NUMBER_INFO2",  "SEVERITY_NUMBER_INFO3",
    "SEVERITY_NUMBER_INFO4",       "SEVERITY_NUMBER_WARN",   "SEVERITY_NUMBER_WARN2",
    "SEVERITY_NUMBER_WARN3",       "SEVERITY_NUMBER_WARN4",  "SEVERITY_NUMBER_ERROR",
    "SEVERITY_NUMBER_ERROR2",      "SEVERITY_NUMBER_ERROR3", "SEVERITY_NUMBER_ERROR4",
    "SEVERITY_NUMBER_FATAL",       "SEVERITY_NUMBER_FATAL2", "SEVERITY_NUMBER_FATAL3",
    "SEVERITY_NUMBER_FATAL4",
};

static int log_record_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_log_record_t *r = out;
	switch (k[0]) {
	case 'a':
		if (!strcmp(k, "attributes"))
			return ref__jdec_attributes(d, v, k, &r->attributes);
		break;
	case 'b':
		if (!strcmp(k, "body"))
			return ref__jdec_any(d, v, &r->body);
		break;
	case 'd':
		if (!strcmp(k, "droppedAttributesCount"))
			return ref__jdec_u32(d, v, &r->dropped_attributes_count);
		break;
	case 'e':
		if (!strcmp(k, "eventName"))
			return ref__jdec_string(d, v, &r->event_name);
		break;
	case 'f':
		if (!strcmp(k, "flags"))
			return ref__jdec_u32(d, v, &r->flags);
		break;
	case 'o':
		if (!strcmp(k, "observedTimeUnixNano"))
			return ref__jdec_u64(d, v, &r->observed_time_unix_nano);
		break;
	case 's':
		if (!strcmp(k, "severityNumber"))
			return ref__jdec_enum(d, v, severity_names,
			                      sizeof severity_names / sizeof severity_names[0],
			                      &r->severity_number);
		if (!strcmp(k, "severityText"))
			return ref__jdec_string(d, v, &r->severity_text);
		if (!strcmp(k, "spanId"))
			return ref__jdec_id(d, v, &r->span_id, OTF_SPAN_ID_LEN);
		break;
	case 't':
		if (!strcmp(k, "timeUnixNano"))
			return ref__jdec_u64(d, v, &r->time_unix_nano);
		if (!strcmp(k, "traceId"))
			return ref__jdec_id(d, v, &r->trace_id, OTF_TRACE_ID_LEN);
		break;
	}
	return 0;
}

static int log_record_elem(ref__jdec *d, json_object *v, void *elem)
{
	return ref__jdec_object(d, v, log_record_field, elem);
}

static int scope_logs_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_scope_logs_t *sl = out;
	if (!strcmp(k, "scope"))
		return ref__jdec_scope(d, v, &sl->scope);
	if (!strcmp(k, "logRecords"))
		return ref__jdec_array(d, v, k, sizeof *sl->log_records, &sl->log_records,
		                       &sl->log_records_len, log_record_elem);
	if (!strcmp(k, "schemaUrl"))
		return ref__jdec_string(d, v, &sl->schema_url);
	return 0;
}

static int scope_logs_elem(ref__jdec *d, json_object *v, void *elem)
{
	return ref__jdec_object(d, v, scope_logs_field, elem);
}

static int resource_logs_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_resource_logs_t *rl = out;
	if (!strcmp(k, "resource"))
		return ref__jdec_resource(d, v, &rl->resource);
	if (!strcmp(k, "scopeLogs"))
		return ref__jdec_array(d, v, k, sizeof *rl->scope_logs, &rl->scope_logs,
		                       &rl->scope_logs_len, scope_logs_elem);
	if (!strcmp(k, "schemaUrl"))
		return ref__jdec_string(d, v, &rl->schema_url);
	return 0;
}

static int resource_logs_elem(ref__jdec *d, json_object *v, void *elem)
{
	return ref__jdec_object(d, v, resource_logs_field, elem);
}

static int logs_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_logs_t *l = out;
	if (!strcmp(k, "resourceLogs"))
		return ref__jdec_array(d, v, k, sizeof *l->resource_logs, &l->resource_logs,
		                       &l->resource_logs_len, resource_logs_elem);
	return 0;
}

int otf_ref_json_decode_logs(otf_logs_t *out, const char *json, size_t len, otf_arena_t *arena,
                             const otf_pdata_limits_t *limits, otf_pdata_error_t *err)
{
	ref__jdec d;
	json_object *root;
	memset(out, 0, sizeof *out);
	int rc = ref__jdec_begin(&d, &root, json, len, arena, limits, err);
	if (rc)
		return rc;
	rc = ref__jdec_object(&d, root, logs_field, out);
	json_object_put(root);
	return rc;
}
