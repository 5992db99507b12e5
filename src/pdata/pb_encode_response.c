/* Protobuf encoding of Export{Trace,Metrics,Logs}ServiceResponse. The three
 * share one shape (partial_success = 1 holding rejected_* = 1, an int64,
 * and error_message = 2), so the signal only selects validity. */
#include "pb_encode_internal.h"

int otf_pdata_encode_response(const otf_export_response_t *in, otf_signal_t signal, otf_buf_t **out)
{
	if (!in || !out ||
	    (signal != OTF_SIGNAL_TRACES && signal != OTF_SIGNAL_METRICS &&
	     signal != OTF_SIGNAL_LOGS))
		return OTF_E_INVAL;
	otf__pb_wr w;
	int rc = otf__pbe_begin(&w, 32 + in->error_message.len);
	if (rc)
		return rc;
	/* Written whenever present, even when empty, so that its presence
	 * survives a round trip through the decoder. */
	if (in->has_partial_success) {
		size_t m = otf__pb_wr_size(&w);
		otf__pbe_bytes(&w, 2, in->error_message);
		otf__pbe_varint(&w, 1, (uint64_t)in->rejected);
		otf__pbe_close(&w, 1, m);
	}
	return otf__pbe_end(&w, out);
}
