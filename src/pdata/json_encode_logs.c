/* OTLP/JSON encoding of logs (ExportLogsServiceRequest / LogsData). */
#include "json_internal.h"

#include "otflow/err.h"

static void log_record(otf__jw *w, const otf_log_record_t *r)
{
	otf__jw_ch(w, '{');
	otf__jw_f_u64s(w, "timeUnixNano", r->time_unix_nano);
	otf__jw_f_u64s(w, "observedTimeUnixNano", r->observed_time_unix_nano);
	otf__jw_f_i32(w, "severityNumber", r->severity_number);
	otf__jw_f_str(w, "severityText", r->severity_text);
	if (r->body.type != OTF_ANY_EMPTY) {
		otf__jw_key(w, "body");
		otf__jw_any(w, &r->body, 1);
	}
	otf__jw_f_attributes(w, "attributes", &r->attributes);
	otf__jw_f_u32(w, "droppedAttributesCount", r->dropped_attributes_count);
	otf__jw_f_u32(w, "flags", r->flags);
	otf__jw_f_id(w, "traceId", r->trace_id, OTF_TRACE_ID_LEN);
	otf__jw_f_id(w, "spanId", r->span_id, OTF_SPAN_ID_LEN);
	otf__jw_f_str(w, "eventName", r->event_name);
	otf__jw_ch(w, '}');
}

static void scope_logs(otf__jw *w, const otf_scope_logs_t *sl)
{
	otf__jw_ch(w, '{');
	otf__jw_f_scope(w, &sl->scope);
	if (sl->log_records_len) {
		otf__jw_key(w, "logRecords");
		otf__jw_ch(w, '[');
		for (size_t i = 0; i < sl->log_records_len && !w->err; i++) {
			otf__jw_sep(w);
			log_record(w, &sl->log_records[i]);
		}
		otf__jw_ch(w, ']');
	}
	otf__jw_f_str(w, "schemaUrl", sl->schema_url);
	otf__jw_ch(w, '}');
}

int otf_pdata_json_encode_logs(const otf_logs_t *in, otf_buf_t **out)
{
	otf__jw w;
	int rc = otf__jw_init(&w, 1024);
	if (rc)
		return rc;
	otf__jw_ch(&w, '{');
	if (in->resource_logs_len) {
		otf__jw_key(&w, "resourceLogs");
		otf__jw_ch(&w, '[');
		for (size_t i = 0; i < in->resource_logs_len && !w.err; i++) {
			const otf_resource_logs_t *rl = &in->resource_logs[i];
			otf__jw_sep(&w);
			otf__jw_ch(&w, '{');
			otf__jw_f_resource(&w, &rl->resource);
			if (rl->scope_logs_len) {
				otf__jw_key(&w, "scopeLogs");
				otf__jw_ch(&w, '[');
				for (size_t j = 0; j < rl->scope_logs_len && !w.err; j++) {
					otf__jw_sep(&w);
					scope_logs(&w, &rl->scope_logs[j]);
				}
				otf__jw_ch(&w, ']');
			}
			otf__jw_f_str(&w, "schemaUrl", rl->schema_url);
			otf__jw_ch(&w, '}');
		}
		otf__jw_ch(&w, ']');
	}
	otf__jw_ch(&w, '}');
	return otf__jw_finish(&w, out);
}
