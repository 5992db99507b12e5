/* Log records and span events: one Event on the events ring (docs/mmap-protocol.md section 5). */
#include "otmm_internal.h"

int otmm__emit_event(otmm_t *m, int64_t scope_ref, uint64_t time, int32_t severity,
                     const char *severity_text, const otmm_value_t *body, const char *event_name,
                     const otmm_span_context_t *ctx, const otmm_attr_t *attrs, size_t n_attrs)
{
	uint8_t buf[OTMM_MAX_RECORD];
	pbw_t w;
	otmm__record_init(m, RING_EVENTS, &w, buf, sizeof(buf));
	/* Event: scope_ref 1, time 2, severity_number 3, severity_text 4, body 5,
	 * event_name_ref 6, span_context 7, attributes 8 */
	int rc = otmm__enc_attrs_local(m, &w, 8, attrs, n_attrs);
	if (rc < 0)
		goto fail;
	if (otmm_span_context_is_valid(ctx))
		otmm__enc_span_context(&w, 7, ctx);
	int64_t name = otmm__intern_str(m, event_name);
	if (name < 0) {
		rc = (int)name;
		goto fail;
	}
	if (name)
		pbw_uint(&w, 6, (uint64_t)name);
	if (body && body->type != OTMM_VAL_NONE) {
		size_t mark = pbw_len(&w);
		rc = otmm__enc_value_local(&w, body);
		if (rc < 0)
			return rc;
		pbw_close(&w, 5, mark);
	}
	if (severity_text && *severity_text)
		pbw_bytes(&w, 4, severity_text, strlen(severity_text));
	if (severity)
		pbw_uint(&w, 3, (uint64_t)severity);
	pbw_fixed64(&w, 2, time ? time : otmm_now());
	if (scope_ref)
		pbw_uint(&w, 1, (uint64_t)scope_ref);
	rc = otmm__finish(&w);
	if (rc < 0)
		goto fail;
	return otmm__ring_write(m, RING_EVENTS, w.p, pbw_len(&w));
fail:
	if (rc == OTMM_E_TOO_BIG || rc == OTMM_E_DICT_FULL)
		otmm__ring_drop(m, RING_EVENTS);
	return rc;
}

int otmm_log_emit(const otmm_scope_t *logger, const otmm_log_record_t *r)
{
	if (!logger || !logger->m || !r || r->severity_number < 0 || r->severity_number > 24)
		return OTMM_E_INVAL;
	return otmm__emit_event(logger->m, logger->ref, r->time_unix_nano, r->severity_number,
	                        r->severity_text, &r->body, r->event_name, r->span_context,
	                        r->attrs, r->n_attrs);
}
