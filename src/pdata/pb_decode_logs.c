/* Protobuf decode of logs (logs.proto): LogsData / ExportLogsServiceRequest. */
#include "pb_decode_internal.h"

static int log_record(const otf__pbd_t *d, otf_log_record_t *r, const uint8_t *p,
                      const uint8_t *end)
{
	size_t n[3];
	memset(r, 0, sizeof *r);
	otf__pbd_count(p, end, 6, 0, 0, n);
	int rc = otf__pbd_array(d, (void **)&r->attributes.items, n[0], sizeof(otf_key_value_t), p,
	                        "attributes");
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
			rc = otf__pbd_fixed64(d, &p, end, wt, &r->time_unix_nano, "time_unix_nano");
			break;
		case 2:
			rc = otf__pbd_i32(d, &p, end, wt, &r->severity_number, "severity_number");
			break;
		case 3:
			rc = otf__pbd_str(d, &p, end, wt, &r->severity_text, "severity_text");
			break;
		case 5:
			rc = otf__pbd_len(d, &p, end, wt, &m, &me, "body");
			if (OTF_UNLIKELY(rc))
				return rc;
			rc = otf__pbd_any(d, &r->body, m, me, 1);
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(d, rc, "body", -1);
			break;
		case 6:
			rc = otf__pbd_attr(d, &r->attributes, &p, end, wt, "attributes");
			break;
		case 7:
			rc = otf__pbd_u32(d, &p, end, wt, &r->dropped_attributes_count,
			                  "dropped_attributes_count");
			break;
		case 8:
			rc = otf__pbd_fixed32(d, &p, end, wt, &r->flags, "flags");
			break;
		case 9:
			rc =
			    otf__pbd_id(d, &p, end, wt, &r->trace_id, OTF_TRACE_ID_LEN, "trace_id");
			break;
		case 10:
			rc = otf__pbd_id(d, &p, end, wt, &r->span_id, OTF_SPAN_ID_LEN, "span_id");
			break;
		case 11:
			rc = otf__pbd_fixed64(d, &p, end, wt, &r->observed_time_unix_nano,
			                      "observed_time_unix_nano");
			break;
		case 12:
			rc = otf__pbd_str(d, &p, end, wt, &r->event_name, "event_name");
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

static int scope_logs(const otf__pbd_t *d, otf_scope_logs_t *sl, const uint8_t *p,
                      const uint8_t *end)
{
	size_t n[3];
	memset(sl, 0, sizeof *sl);
	otf__pbd_count(p, end, 2, 0, 0, n);
	int rc = otf__pbd_array(d, (void **)&sl->log_records, n[0], sizeof(otf_log_record_t), p,
	                        "log_records");
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
			rc = otf__pbd_len(d, &p, end, wt, &m, &me, "scope");
			if (OTF_UNLIKELY(rc))
				return rc;
			rc = otf__pbd_scope(d, &sl->scope, m, me);
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(d, rc, "scope", -1);
			break;
		case 2:
			rc = otf__pbd_len(d, &p, end, wt, &m, &me, "log_records");
			if (OTF_UNLIKELY(rc))
				return rc;
			rc = log_record(d, &sl->log_records[sl->log_records_len], m, me);
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(d, rc, "log_records",
				                     (long)sl->log_records_len);
			sl->log_records_len++;
			break;
		case 3:
			rc = otf__pbd_str(d, &p, end, wt, &sl->schema_url, "schema_url");
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

static int resource_logs(const otf__pbd_t *d, otf_resource_logs_t *rl, const uint8_t *p,
                         const uint8_t *end)
{
	size_t n[3];
	memset(rl, 0, sizeof *rl);
	otf__pbd_count(p, end, 2, 0, 0, n);
	int rc = otf__pbd_array(d, (void **)&rl->scope_logs, n[0], sizeof(otf_scope_logs_t), p,
	                        "scope_logs");
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
			rc = otf__pbd_len(d, &p, end, wt, &m, &me, "resource");
			if (OTF_UNLIKELY(rc))
				return rc;
			rc = otf__pbd_resource(d, &rl->resource, m, me);
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(d, rc, "resource", -1);
			break;
		case 2:
			rc = otf__pbd_len(d, &p, end, wt, &m, &me, "scope_logs");
			if (OTF_UNLIKELY(rc))
				return rc;
			rc = scope_logs(d, &rl->scope_logs[rl->scope_logs_len], m, me);
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(d, rc, "scope_logs", (long)rl->scope_logs_len);
			rl->scope_logs_len++;
			break;
		case 3:
			rc = otf__pbd_str(d, &p, end, wt, &rl->schema_url, "schema_url");
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

int otf_pdata_decode_logs(otf_logs_t *out, const uint8_t *data, size_t len, otf_arena_t *arena,
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
	rc = otf__pbd_array(&d, (void **)&out->resource_logs, n[0], sizeof(otf_resource_logs_t), p,
	                    "resource_logs");
	if (OTF_UNLIKELY(rc))
		return rc;
	while (p < end) {
		const uint8_t *at = p, *m, *me;
		uint32_t f, wt;
		rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(&d, rc, at, end, 0, 0);
		if (f == 1) {
			rc = otf__pbd_len(&d, &p, end, wt, &m, &me, "resource_logs");
			if (OTF_UNLIKELY(rc))
				return rc;
			rc = resource_logs(&d, &out->resource_logs[out->resource_logs_len], m, me);
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(&d, rc, "resource_logs",
				                     (long)out->resource_logs_len);
			out->resource_logs_len++;
		} else {
			rc = otf__pbd_skip(&d, &p, end, at, f, wt);
			if (OTF_UNLIKELY(rc))
				return rc;
		}
	}
	return 0;
}
