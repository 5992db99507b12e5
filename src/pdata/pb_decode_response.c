/* Protobuf decode of Export{Trace,Metrics,Logs}ServiceResponse (collector
 * service protos): partial_success = 1 { rejected_* = 1 (int64),
 * error_message = 2 }. The three responses share this shape; the signal
 * only names the rejected field in error paths. */
#include "pb_decode_internal.h"

static int partial_success(const otf__pbd_t *d, otf_export_response_t *out, const char *rejected,
                           const uint8_t *p, const uint8_t *end)
{
	/* Last occurrence wins whole, like every singular message field. */
	out->rejected = 0;
	out->error_message.ptr = NULL;
	out->error_message.len = 0;
	while (p < end) {
		const uint8_t *at = p;
		uint32_t f, wt;
		uint64_t v = 0;
		int rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(d, rc, at, end, 0, 0);
		if (f == 1) {
			rc = otf__pbd_varint(d, &p, end, wt, &v, rejected);
			out->rejected = (int64_t)v;
		} else if (f == 2) {
			rc = otf__pbd_str(d, &p, end, wt, &out->error_message, "error_message");
		} else {
			rc = otf__pbd_skip(d, &p, end, at, f, wt);
		}
		if (OTF_UNLIKELY(rc))
			return rc;
	}
	return 0;
}

int otf_pdata_decode_response(otf_export_response_t *out, otf_signal_t signal, const uint8_t *data,
                              size_t len, otf_pdata_error_t *err)
{
	static const char *const rejected[] = {"rejected_spans", "rejected_data_points",
	                                       "rejected_log_records"};
	otf__pbd_t d;
	if (err) {
		err->code = 0;
		err->offset = 0;
		err->path[0] = '\0';
		err->detail[0] = '\0';
	}
	if (!out || (!data && len) || (unsigned)signal > OTF_SIGNAL_LOGS)
		return otf__perr_set(err, OTF_E_INVAL, 0, "no output or input, or unknown signal");
	if (len > OTF_PDATA_DEFAULT_MAX_INPUT)
		return otf__perr_set(err, OTF_E_TOO_LARGE, 0, "%zu bytes, limit %zu", len,
		                     (size_t)OTF_PDATA_DEFAULT_MAX_INPUT);
	d.base = data ? data : (const uint8_t *)"";
	d.arena = NULL; /* nothing to allocate: the response is flat */
	d.err = err;
	d.max_depth = OTF_PDATA_DEFAULT_MAX_DEPTH;
	memset(out, 0, sizeof *out);
	const uint8_t *p = d.base, *end = d.base + len;
	while (p < end) {
		const uint8_t *at = p, *m, *me;
		uint32_t f, wt;
		int rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(&d, rc, at, end, 0, 0);
		if (f == 1) {
			rc = otf__pbd_len(&d, &p, end, wt, &m, &me, "partial_success");
			if (OTF_UNLIKELY(rc))
				return rc;
			out->has_partial_success = true;
			rc = partial_success(&d, out, rejected[signal], m, me);
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(&d, rc, "partial_success", -1);
		} else {
			rc = otf__pbd_skip(&d, &p, end, at, f, wt);
			if (OTF_UNLIKELY(rc))
				return rc;
		}
	}
	return 0;
}
