/* Protobuf encoding of LogsData / ExportLogsServiceRequest (logs.proto). */
#include "pb_encode_internal.h"

static void log_record(otf__pb_wr *w, const otf_log_record_t *r)
{
	otf__pbe_bytes(w, 12, r->event_name);
	otf__pbe_fixed64(w, 11, r->observed_time_unix_nano);
	otf__pbe_id(w, 10, r->span_id, OTF_SPAN_ID_LEN);
	otf__pbe_id(w, 9, r->trace_id, OTF_TRACE_ID_LEN);
	otf__pbe_fixed32(w, 8, r->flags);
	otf__pbe_varint(w, 7, r->dropped_attributes_count);
	otf__pbe_attributes(w, 6, &r->attributes);
	/* body is a message field: an EMPTY body is an absent one. */
	if (r->body.type != OTF_ANY_EMPTY) {
		size_t m = otf__pb_wr_size(w);
		otf__pbe_any(w, &r->body, 1);
		otf__pbe_close(w, 5, m);
	}
	otf__pbe_bytes(w, 3, r->severity_text);
	otf__pbe_int32(w, 2, r->severity_number);
	otf__pbe_fixed64(w, 1, r->time_unix_nano);
}

void otf__pbe_log_record(otf__pb_wr *w, const otf_log_record_t *r)
{
	log_record(w, r);
}

static void scope_logs(otf__pb_wr *w, const otf_scope_logs_t *sl)
{
	otf__pbe_bytes(w, 3, sl->schema_url);
	for (size_t i = sl->log_records_len; i-- > 0 && !w->err;) {
		size_t m = otf__pb_wr_size(w);
		log_record(w, &sl->log_records[i]);
		otf__pbe_close(w, 2, m);
	}
	otf__pbe_scope(w, 1, &sl->scope);
}

static void resource_logs(otf__pb_wr *w, const otf_resource_logs_t *rl)
{
	otf__pbe_bytes(w, 3, rl->schema_url);
	for (size_t i = rl->scope_logs_len; i-- > 0 && !w->err;) {
		size_t m = otf__pb_wr_size(w);
		scope_logs(w, &rl->scope_logs[i]);
		otf__pbe_close(w, 2, m);
	}
	otf__pbe_resource(w, 1, &rl->resource);
}

/* A starting size from counts alone (no pass over the records): typical
 * records are a few hundred bytes, and one doubling is cheap if it is low. */
static size_t estimate(const otf_logs_t *in)
{
	size_t n = 64;
	for (size_t i = 0; i < in->resource_logs_len; i++) {
		const otf_resource_logs_t *rl = &in->resource_logs[i];
		n += 256;
		for (size_t j = 0; j < rl->scope_logs_len; j++)
			n += 64 + rl->scope_logs[j].log_records_len * 384;
	}
	return n;
}

int otf_pdata_encode_logs(const otf_logs_t *in, otf_buf_t **out)
{
	if (!in || !out || (in->resource_logs_len && !in->resource_logs))
		return OTF_E_INVAL;
	otf__pb_wr w;
	int rc = otf__pbe_begin(&w, estimate(in));
	if (rc)
		return rc;
	/* LogsData.resource_logs = 1 */
	for (size_t i = in->resource_logs_len; i-- > 0 && !w.err;) {
		size_t m = otf__pb_wr_size(&w);
		resource_logs(&w, &in->resource_logs[i]);
		otf__pbe_close(&w, 1, m);
	}
	return otf__pbe_end(&w, out);
}
