/* Spans: each lifecycle step is one SpanEvent on the spans ring (start, attributes, name, link,
 * end); span events go to the events ring. docs/mmap-protocol.md section 5. */
#include "otmm_internal.h"

/* SpanEvent: trace_id 1, span_id 2, oneof event 11..15, scope_ref 20. The caller has written
 * the oneof member's contents after `w` was started by span_begin. */
static inline __attribute__((always_inline)) void span_begin(const otmm_span_t *s, pbw_t *w,
                                                             uint8_t *buf, size_t cap, size_t *mark)
{
	otmm__record_init(s->m, RING_SPANS, w, buf, cap);
	pbw_uint(w, 20, (uint64_t)s->scope_ref);
	*mark = pbw_len(w);
}

static inline __attribute__((always_inline)) int span_finish(otmm_span_t *s, pbw_t *w,
                                                             uint32_t field, size_t mark)
{
	pbw_close(w, field, mark);
	pbw_bytes(w, 2, s->ctx.span_id, 8);
	pbw_bytes(w, 1, s->ctx.trace_id, 16);
	int rc = otmm__finish(w);
	if (rc < 0) {
		otmm__ring_drop(s->m, RING_SPANS);
		return rc;
	}
	return otmm__ring_write(s->m, RING_SPANS, w->p, pbw_len(w));
}

static int enc_failed(otmm_span_t *s, int rc)
{
	if (rc == OTMM_E_TOO_BIG || rc == OTMM_E_DICT_FULL)
		otmm__ring_drop(s->m, RING_SPANS);
	return rc;
}

static size_t cstrlen(const char *s)
{
	return s ? strlen(s) : 0;
}

int otmm_span_start(const otmm_scope_t *tracer, const char *name, int kind,
                    const otmm_span_context_t *parent, const otmm_attr_t *attrs, size_t n_attrs,
                    const otmm_link_t *links, size_t n_links, uint64_t start_time, otmm_span_t *s)
{
	if (!s)
		return OTMM_E_INVAL;
	memset(s, 0, offsetof(otmm_span_t, status_message) + 1);
	int has_parent = otmm_span_context_is_valid(parent);
	if (has_parent) {
		memcpy(s->ctx.trace_id, parent->trace_id, 16);
		s->ctx.trace_flags = parent->trace_flags;
	} else {
		otmm_new_trace_id(s->ctx.trace_id);
		s->ctx.trace_flags = 0x01; /* every span is recorded: sampled */
	}
	otmm_new_span_id(s->ctx.span_id);
	if (!tracer || !tracer->m || kind < 0 || kind > OTMM_SPAN_KIND_CONSUMER)
		return OTMM_E_INVAL;
	s->m = tracer->m;
	s->scope_ref = tracer->ref;
	if (kind == OTMM_SPAN_KIND_UNSPECIFIED)
		kind = OTMM_SPAN_KIND_INTERNAL;

	uint8_t buf[OTMM_MAX_RECORD];
	pbw_t w;
	size_t mark;
	span_begin(s, &w, buf, sizeof(buf), &mark);
	/* StartSpan: parent_span_id 4, name 5, kind 6, start_time 7, attributes 9, flags 16 */
	uint32_t flags = s->ctx.trace_flags | 0x100u;
	if (has_parent && parent->is_remote)
		flags |= 0x200u;
	pbw_fixed32(&w, 16, flags);
	int rc = otmm__enc_attrs_local(s->m, &w, 9, attrs, n_attrs);
	if (rc < 0)
		return enc_failed(s, rc);
	pbw_fixed64(&w, 7, start_time ? start_time : otmm_now());
	pbw_uint(&w, 6, (uint64_t)kind);
	pbw_bytes(&w, 5, name, cstrlen(name));
	if (has_parent)
		pbw_bytes(&w, 4, parent->span_id, 8);
	rc = span_finish(s, &w, 11, mark);
	if (rc < 0)
		return rc;
	s->recording = 1;
	return n_links ? otmm_span_add_links(s, links, n_links) : 0;
}

static int check(const otmm_span_t *s)
{
	if (!s || !s->m)
		return OTMM_E_INVAL;
	return s->recording && !s->ended ? 0 : OTMM_E_STATE;
}

int otmm_span_set_attributes(otmm_span_t *s, const otmm_attr_t *attrs, size_t n_attrs)
{
	int rc = check(s);
	if (rc < 0)
		return rc;
	uint8_t buf[OTMM_MAX_RECORD];
	pbw_t w;
	size_t mark;
	span_begin(s, &w, buf, sizeof(buf), &mark);
	rc = otmm__enc_attrs_local(s->m, &w, 9, attrs,
	                           n_attrs); /* UpdateAttributes.attributes = 9 */
	if (rc < 0)
		return enc_failed(s, rc);
	return span_finish(s, &w, 14, mark);
}

int otmm_span_update_name(otmm_span_t *s, const char *name)
{
	int rc = check(s);
	if (rc < 0)
		return rc;
	uint8_t buf[OTMM_MAX_RECORD];
	pbw_t w;
	size_t mark;
	span_begin(s, &w, buf, sizeof(buf), &mark);
	pbw_bytes(&w, 5, name, cstrlen(name)); /* ChangeSpanName.name = 5 */
	return span_finish(s, &w, 13, mark);
}

static int enc_link(otmm_t *m, pbw_t *w, const otmm_link_t *l)
{
	/* Link: trace_id 1, span_id 2, trace_state 3, attributes 4, flags 6 */
	size_t mark = pbw_len(w);
	pbw_fixed32(w, 6, l->ctx.trace_flags | 0x100u | (l->ctx.is_remote ? 0x200u : 0));
	int rc = otmm__enc_attrs(m, w, 4, l->attrs, l->n_attrs);
	if (rc < 0)
		return rc;
	if (l->trace_state && *l->trace_state)
		pbw_bytes(w, 3, l->trace_state, strlen(l->trace_state));
	pbw_bytes(w, 2, l->ctx.span_id, 8);
	pbw_bytes(w, 1, l->ctx.trace_id, 16);
	pbw_close(w, 13, mark); /* AddLink.links = 13 */
	return w->bad ? OTMM_E_TOO_BIG : 0;
}

static int links_record(otmm_span_t *s, const otmm_link_t *links, size_t n)
{
	uint8_t buf[OTMM_MAX_RECORD];
	pbw_t w;
	size_t mark;
	span_begin(s, &w, buf, sizeof(buf), &mark);
	for (size_t i = n; i-- > 0;) {
		int rc = enc_link(s->m, &w, &links[i]);
		if (rc < 0)
			return rc;
	}
	pbw_close(&w, 15, mark);
	pbw_bytes(&w, 2, s->ctx.span_id, 8);
	pbw_bytes(&w, 1, s->ctx.trace_id, 16);
	int rc = otmm__finish(&w);
	if (rc < 0)
		return rc;
	if (pbw_len(&w) > s->m->rings[RING_SPANS].slot_size)
		return OTMM_E_TOO_BIG;
	return otmm__ring_write(s->m, RING_SPANS, w.p, pbw_len(&w));
}

int otmm_span_add_links(otmm_span_t *s, const otmm_link_t *links, size_t n)
{
	int rc = check(s);
	if (rc < 0 || n == 0)
		return rc;
	if (!links)
		return OTMM_E_INVAL;
	rc = links_record(s, links, n);
	if (rc != OTMM_E_TOO_BIG || n == 1)
		return rc == OTMM_E_DICT_FULL || rc == OTMM_E_TOO_BIG ? enc_failed(s, rc) : rc;
	int first = 0; /* too big together: one record per link */
	for (size_t i = 0; i < n; i++) {
		rc = links_record(s, &links[i], 1);
		if (rc == OTMM_E_TOO_BIG || rc == OTMM_E_DICT_FULL)
			enc_failed(s, rc);
		if (rc < 0 && !first)
			first = rc;
	}
	return first;
}

int otmm_span_add_event(otmm_span_t *s, const char *name, uint64_t time, const otmm_attr_t *attrs,
                        size_t n_attrs)
{
	int rc = check(s);
	if (rc < 0)
		return rc;
	return otmm__emit_event(s->m, s->scope_ref, time, 0, NULL, NULL, name, &s->ctx, attrs,
	                        n_attrs);
}

int otmm_span_record_exception(otmm_span_t *s, const char *type, const char *message,
                               const char *stacktrace)
{
	otmm_attr_t a[3];
	size_t n = 0;
	if (type)
		a[n++] = otmm_attr("exception.type", otmm_str(type));
	if (message)
		a[n++] = otmm_attr("exception.message", otmm_str(message));
	if (stacktrace)
		a[n++] = otmm_attr("exception.stacktrace", otmm_str(stacktrace));
	return otmm_span_add_event(s, "exception", 0, a, n);
}

void otmm_span_set_status(otmm_span_t *s, int code, const char *message)
{
	if (!s || code < OTMM_STATUS_UNSET || code > OTMM_STATUS_ERROR)
		return;
	s->status_code = code;
	size_t n =
	    code == OTMM_STATUS_ERROR ? cstrlen(message) : 0; /* OTel: message only on error */
	if (n >= sizeof(s->status_message))
		n = sizeof(s->status_message) - 1;
	memcpy(s->status_message, message ? message : "", n);
	s->status_message[n] = 0;
}

int otmm_span_end(otmm_span_t *s, uint64_t end_time)
{
	int rc = check(s);
	if (rc < 0)
		return rc;
	s->ended = 1;
	uint8_t buf[1024];
	pbw_t w;
	size_t mark;
	span_begin(s, &w, buf, sizeof(buf), &mark);
	/* EndSpan: end_time 8, status 15 (Status: message 2, code 3) */
	if (s->status_code != OTMM_STATUS_UNSET) {
		size_t sm = pbw_len(&w);
		pbw_uint(&w, 3, (uint64_t)s->status_code);
		if (s->status_message[0])
			pbw_bytes(&w, 2, s->status_message, strlen(s->status_message));
		pbw_close(&w, 15, sm);
	}
	pbw_fixed64(&w, 8, end_time ? end_time : otmm_now());
	return span_finish(s, &w, 12, mark);
}
