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

static int log_record_elem(const otf__pbd_t *d, void *e, const uint8_t *p, const uint8_t *end)
{
	return log_record(d, e, p, end);
}

static const otf__pbd_group_desc_t k_scope_logs = {false, "log_records", sizeof(otf_log_record_t),
                                                   log_record_elem};

static int scope_logs(const otf__pbd_t *d, void *e, const uint8_t *p, const uint8_t *end)
{
	otf_scope_logs_t *g = e;
	memset(g, 0, sizeof *g);
	return otf__pbd_group(d, &k_scope_logs, &g->scope, (void **)&g->log_records,
	                      &g->log_records_len, &g->schema_url, p, end);
}

static const otf__pbd_group_desc_t k_resource_logs = {true, "scope_logs", sizeof(otf_scope_logs_t),
                                                      scope_logs};

static int resource_logs(const otf__pbd_t *d, otf_resource_logs_t *g, const uint8_t *p,
                         const uint8_t *end)
{
	memset(g, 0, sizeof *g);
	return otf__pbd_group(d, &k_resource_logs, &g->resource, (void **)&g->scope_logs,
	                      &g->scope_logs_len, &g->schema_url, p, end);
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
