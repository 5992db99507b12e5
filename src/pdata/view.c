/* Protobuf views: iterators, resource/scope levels, attributes, spans,
 * logs and the traces/logs counters. See otflow/pdata_view.h. */
#include "view_internal.h"

static otf_bytes_t bytes_of(const uint8_t *p, size_t n)
{
	otf_bytes_t b = {p, n};
	return b;
}

void otf_view_iter_init(otf_view_iter_t *it, otf_bytes_t msg, uint32_t field)
{
	it->p = msg.ptr;
	it->end = otf__view_end(msg);
	it->err_at = NULL;
	it->field = field;
	it->err = 0;
}

int otf_view_iter_next(otf_view_iter_t *it, otf_bytes_t *out)
{
	if (OTF_UNLIKELY(it->err))
		return it->err;
	const uint8_t *p = it->p, *end = it->end;
	while (p < end) {
		const uint8_t *at = p;
		uint32_t f, wt;
		int rc = otf__pb_tag(&p, end, &f, &wt);
		if (OTF_LIKELY(rc == 0)) {
			if (f == it->field) {
				rc = otf__view_len(&p, end, wt, out);
				if (OTF_LIKELY(rc == 0)) {
					it->p = p;
					return 1;
				}
			} else {
				rc = otf__pb_skip(&p, end, wt);
			}
		}
		if (rc) {
			it->err = rc;
			it->err_at = at;
			it->p = end;
			return rc;
		}
	}
	it->p = p;
	return 0;
}

int otf_view_iter_next_raw(otf_view_iter_t *it, otf_bytes_t *out, otf_bytes_t *raw)
{
	/* The matching field's tag is the last one iter_next read: walk to it
	 * with the same loop, remembering where each field began. */
	if (OTF_UNLIKELY(it->err))
		return it->err;
	const uint8_t *p = it->p, *end = it->end;
	while (p < end) {
		const uint8_t *at = p;
		uint32_t f, wt;
		int rc = otf__pb_tag(&p, end, &f, &wt);
		if (OTF_LIKELY(rc == 0)) {
			if (f == it->field) {
				rc = otf__view_len(&p, end, wt, out);
				if (OTF_LIKELY(rc == 0)) {
					it->p = p;
					raw->ptr = at;
					raw->len = (size_t)(p - at);
					return 1;
				}
			} else {
				rc = otf__pb_skip(&p, end, wt);
			}
		}
		if (rc) {
			it->err = rc;
			it->err_at = at;
			it->p = end;
			return rc;
		}
	}
	it->p = p;
	return 0;
}

size_t otf_view_iter_err_offset(const otf_view_iter_t *it, const uint8_t *base)
{
	return it->err_at ? (size_t)(it->err_at - base) : 0;
}

void otf_view_resources(otf_view_iter_t *it, const uint8_t *data, size_t len)
{
	otf_view_iter_init(it, bytes_of(data, len), 1);
}

void otf_view_scopes(otf_view_iter_t *it, otf_bytes_t resource_group)
{
	otf_view_iter_init(it, resource_group, 2);
}

void otf_view_records(otf_view_iter_t *it, otf_bytes_t scope_group)
{
	otf_view_iter_init(it, scope_group, 2);
}

void otf_view_resource_attributes(otf_view_iter_t *it, otf_bytes_t resource)
{
	otf_view_iter_init(it, resource, 1);
}

void otf_view_scope_attributes(otf_view_iter_t *it, otf_bytes_t scope)
{
	otf_view_iter_init(it, scope, 3);
}

/* The *_read functions share one loop shape: read a tag, switch on the
 * field number, and skip what is not asked for. */

int otf_view_group_read(otf_bytes_t msg, otf_view_group_t *out)
{
	const uint8_t *p = msg.ptr, *end = otf__view_end(msg);
	otf_bytes_t skip;
	*out = (otf_view_group_t){0};
	while (p < end) {
		uint32_t f, wt;
		int rc = otf__pb_tag(&p, end, &f, &wt);
		if (rc)
			return rc;
		switch (f) {
		case 1:
			rc = otf__view_len(&p, end, wt, &out->head);
			out->has_head = true;
			break;
		case 2:
			rc = otf__view_len(&p, end, wt, &skip);
			break;
		case 3:
			rc = otf__view_len(&p, end, wt, &out->schema_url);
			break;
		default:
			rc = otf__pb_skip(&p, end, wt);
		}
		if (rc)
			return rc;
	}
	return 0;
}

int otf_view_resource_read(otf_bytes_t resource, otf_view_resource_t *out)
{
	const uint8_t *p = resource.ptr, *end = otf__view_end(resource);
	otf_bytes_t skip;
	uint64_t v;
	*out = (otf_view_resource_t){0};
	while (p < end) {
		uint32_t f, wt;
		int rc = otf__pb_tag(&p, end, &f, &wt);
		if (rc)
			return rc;
		switch (f) {
		case 1:
			rc = otf__view_len(&p, end, wt, &skip);
			break;
		case 2:
			rc = otf__view_varint(&p, end, wt, &v);
			out->dropped_attributes_count = (uint32_t)v;
			break;
		case 3:
			rc = otf__view_len(&p, end, wt, &skip);
			out->entity_refs_len++;
			break;
		default:
			rc = otf__pb_skip(&p, end, wt);
		}
		if (rc)
			return rc;
	}
	return 0;
}

int otf_view_scope_read(otf_bytes_t scope, otf_view_scope_t *out)
{
	const uint8_t *p = scope.ptr, *end = otf__view_end(scope);
	otf_bytes_t skip;
	uint64_t v;
	*out = (otf_view_scope_t){0};
	while (p < end) {
		uint32_t f, wt;
		int rc = otf__pb_tag(&p, end, &f, &wt);
		if (rc)
			return rc;
		switch (f) {
		case 1:
			rc = otf__view_len(&p, end, wt, &out->name);
			break;
		case 2:
			rc = otf__view_len(&p, end, wt, &out->version);
			break;
		case 3:
			rc = otf__view_len(&p, end, wt, &skip);
			break;
		case 4:
			rc = otf__view_varint(&p, end, wt, &v);
			out->dropped_attributes_count = (uint32_t)v;
			break;
		default:
			rc = otf__pb_skip(&p, end, wt);
		}
		if (rc)
			return rc;
	}
	return 0;
}

int otf_view_kv_read(otf_bytes_t kv, otf_bytes_t *key, otf_bytes_t *value)
{
	const uint8_t *p = kv.ptr, *end = otf__view_end(kv);
	*key = bytes_of(NULL, 0);
	*value = bytes_of(NULL, 0);
	while (p < end) {
		uint32_t f, wt;
		int rc = otf__pb_tag(&p, end, &f, &wt);
		if (rc)
			return rc;
		if (f == 1)
			rc = otf__view_len(&p, end, wt, key);
		else if (f == 2)
			rc = otf__view_len(&p, end, wt, value);
		else
			rc = otf__pb_skip(&p, end, wt);
		if (rc)
			return rc;
	}
	return 0;
}

int otf_view_any_read(otf_bytes_t any, otf_view_any_t *out)
{
	const uint8_t *p = any.ptr, *end = otf__view_end(any);
	uint64_t v;
	*out = (otf_view_any_t){0};
	while (p < end) {
		uint32_t f, wt;
		int rc = otf__pb_tag(&p, end, &f, &wt);
		if (rc)
			return rc;
		switch (f) {
		case OTF_ANY_STRING:
		case OTF_ANY_ARRAY:
		case OTF_ANY_KVLIST:
		case OTF_ANY_BYTES:
			rc = otf__view_len(&p, end, wt, &out->u.bytes);
			break;
		case OTF_ANY_BOOL:
			rc = otf__view_varint(&p, end, wt, &v);
			out->u.b = v != 0;
			break;
		case OTF_ANY_INT:
			rc = otf__view_varint(&p, end, wt, &v);
			out->u.i = (int64_t)v;
			break;
		case OTF_ANY_DOUBLE:
			rc = otf__view_fixed64(&p, end, wt, &v);
			out->u.d = otf__pb_u64_to_double(v);
			break;
		default:
			rc = otf__pb_skip(&p, end, wt);
			f = 0;
		}
		if (rc)
			return rc;
		if (f)
			out->type = (otf_any_type_t)f; /* the last member set wins */
	}
	return 0;
}

/* Status (span field 15): message = 2, code = 3. */
static int status_read(otf_bytes_t st, otf_view_span_t *out)
{
	const uint8_t *p = st.ptr, *end = otf__view_end(st);
	uint64_t v;
	while (p < end) {
		uint32_t f, wt;
		int rc = otf__pb_tag(&p, end, &f, &wt);
		if (rc)
			return rc;
		if (f == 2) {
			rc = otf__view_len(&p, end, wt, &out->status_message);
		} else if (f == 3) {
			rc = otf__view_varint(&p, end, wt, &v);
			out->status_code = (int32_t)v;
		} else {
			rc = otf__pb_skip(&p, end, wt);
		}
		if (rc)
			return rc;
	}
	return 0;
}

int otf_view_span_read(otf_bytes_t span, otf_view_span_t *out)
{
	const uint8_t *p = span.ptr, *end = otf__view_end(span);
	otf_bytes_t sub;
	uint64_t v;
	*out = (otf_view_span_t){0};
	while (p < end) {
		uint32_t f, wt;
		int rc = otf__pb_tag(&p, end, &f, &wt);
		if (rc)
			return rc;
		switch (f) {
		case 1:
			rc = otf__view_len(&p, end, wt, &out->trace_id);
			break;
		case 2:
			rc = otf__view_len(&p, end, wt, &out->span_id);
			break;
		case 3:
			rc = otf__view_len(&p, end, wt, &out->trace_state);
			break;
		case 4:
			rc = otf__view_len(&p, end, wt, &out->parent_span_id);
			break;
		case 5:
			rc = otf__view_len(&p, end, wt, &out->name);
			break;
		case 6:
			rc = otf__view_varint(&p, end, wt, &v);
			out->kind = (int32_t)v;
			break;
		case 7:
			rc = otf__view_fixed64(&p, end, wt, &out->start_time_unix_nano);
			break;
		case 8:
			rc = otf__view_fixed64(&p, end, wt, &out->end_time_unix_nano);
			break;
		case 9:
		case 11:
		case 13:
			rc = otf__view_len(&p, end, wt, &sub);
			break;
		case 10:
			rc = otf__view_varint(&p, end, wt, &v);
			out->dropped_attributes_count = (uint32_t)v;
			break;
		case 12:
			rc = otf__view_varint(&p, end, wt, &v);
			out->dropped_events_count = (uint32_t)v;
			break;
		case 14:
			rc = otf__view_varint(&p, end, wt, &v);
			out->dropped_links_count = (uint32_t)v;
			break;
		case 15:
			rc = otf__view_len(&p, end, wt, &sub);
			if (!rc)
				rc = status_read(sub, out); /* fields of repeats merge */
			break;
		case 16:
			rc = otf__view_fixed32(&p, end, wt, &out->flags);
			break;
		default:
			rc = otf__pb_skip(&p, end, wt);
		}
		if (rc)
			return rc;
	}
	return 0;
}

int otf_view_event_read(otf_bytes_t event, otf_view_event_t *out)
{
	const uint8_t *p = event.ptr, *end = otf__view_end(event);
	otf_bytes_t sub;
	uint64_t v;
	*out = (otf_view_event_t){0};
	while (p < end) {
		uint32_t f, wt;
		int rc = otf__pb_tag(&p, end, &f, &wt);
		if (rc)
			return rc;
		switch (f) {
		case 1:
			rc = otf__view_fixed64(&p, end, wt, &out->time_unix_nano);
			break;
		case 2:
			rc = otf__view_len(&p, end, wt, &out->name);
			break;
		case 3:
			rc = otf__view_len(&p, end, wt, &sub);
			break;
		case 4:
			rc = otf__view_varint(&p, end, wt, &v);
			out->dropped_attributes_count = (uint32_t)v;
			break;
		default:
			rc = otf__pb_skip(&p, end, wt);
		}
		if (rc)
			return rc;
	}
	return 0;
}

int otf_view_link_read(otf_bytes_t link, otf_view_link_t *out)
{
	const uint8_t *p = link.ptr, *end = otf__view_end(link);
	otf_bytes_t sub;
	uint64_t v;
	*out = (otf_view_link_t){0};
	while (p < end) {
		uint32_t f, wt;
		int rc = otf__pb_tag(&p, end, &f, &wt);
		if (rc)
			return rc;
		switch (f) {
		case 1:
			rc = otf__view_len(&p, end, wt, &out->trace_id);
			break;
		case 2:
			rc = otf__view_len(&p, end, wt, &out->span_id);
			break;
		case 3:
			rc = otf__view_len(&p, end, wt, &out->trace_state);
			break;
		case 4:
			rc = otf__view_len(&p, end, wt, &sub);
			break;
		case 5:
			rc = otf__view_varint(&p, end, wt, &v);
			out->dropped_attributes_count = (uint32_t)v;
			break;
		case 6:
			rc = otf__view_fixed32(&p, end, wt, &out->flags);
			break;
		default:
			rc = otf__pb_skip(&p, end, wt);
		}
		if (rc)
			return rc;
	}
	return 0;
}

int otf_view_log_read(otf_bytes_t log_record, otf_view_log_t *out)
{
	const uint8_t *p = log_record.ptr, *end = otf__view_end(log_record);
	otf_bytes_t sub;
	uint64_t v;
	*out = (otf_view_log_t){0};
	while (p < end) {
		uint32_t f, wt;
		int rc = otf__pb_tag(&p, end, &f, &wt);
		if (rc)
			return rc;
		switch (f) {
		case 1:
			rc = otf__view_fixed64(&p, end, wt, &out->time_unix_nano);
			break;
		case 2:
			rc = otf__view_varint(&p, end, wt, &v);
			out->severity_number = (int32_t)v;
			break;
		case 3:
			rc = otf__view_len(&p, end, wt, &out->severity_text);
			break;
		case 5:
			rc = otf__view_len(&p, end, wt, &out->body);
			out->has_body = true;
			break;
		case 6:
			rc = otf__view_len(&p, end, wt, &sub);
			break;
		case 7:
			rc = otf__view_varint(&p, end, wt, &v);
			out->dropped_attributes_count = (uint32_t)v;
			break;
		case 8:
			rc = otf__view_fixed32(&p, end, wt, &out->flags);
			break;
		case 9:
			rc = otf__view_len(&p, end, wt, &out->trace_id);
			break;
		case 10:
			rc = otf__view_len(&p, end, wt, &out->span_id);
			break;
		case 11:
			rc = otf__view_fixed64(&p, end, wt, &out->observed_time_unix_nano);
			break;
		case 12:
			rc = otf__view_len(&p, end, wt, &out->event_name);
			break;
		default:
			rc = otf__pb_skip(&p, end, wt);
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- counting ---- */

int otf__view_count_field(const uint8_t *p, const uint8_t *end, uint32_t field, size_t *n,
                          const uint8_t **err_at)
{
	/* Fields 1..15 have a one-byte tag; compare it directly. */
	const uint8_t want = (uint8_t)((field << 3) | OTF_WT_LEN);
	size_t cnt = 0;
	int rc = 0;
	while (p < end) {
		const uint8_t *at = p;
		if (OTF_LIKELY(*p == want)) {
			uint64_t l;
			p++;
			rc = otf__pb_varint(&p, end, &l);
			if (OTF_UNLIKELY(rc == 0 && l > (uint64_t)(end - p)))
				rc = OTF_E_LENGTH;
			if (OTF_UNLIKELY(rc)) {
				*err_at = at;
				return rc;
			}
			p += l;
			cnt++;
			continue;
		}
		uint32_t f, wt;
		rc = otf__pb_tag(&p, end, &f, &wt);
		if (rc == 0) {
			if (f == field) {
				otf_bytes_t sub;
				rc = otf__view_len(&p, end, wt, &sub);
				cnt++; /* a tag written in more bytes than needed */
			} else {
				rc = otf__pb_skip(&p, end, wt);
			}
		}
		if (OTF_UNLIKELY(rc)) {
			*err_at = at;
			return rc;
		}
	}
	*n += cnt;
	return 0;
}

/* Traces and logs have the same three levels; records are only counted. */
static int count_3level(const uint8_t *data, size_t len, otf_view_counts_t *out)
{
	otf_view_iter_t rit, sit;
	otf_bytes_t rg, sg;
	const uint8_t *err_at = NULL;
	int rc;
	*out = (otf_view_counts_t){0};
	otf_view_resources(&rit, data, len);
	while ((rc = otf_view_iter_next(&rit, &rg)) > 0) {
		out->resources++;
		otf_view_scopes(&sit, rg);
		while ((rc = otf_view_iter_next(&sit, &sg)) > 0) {
			out->scopes++;
			rc = otf__view_count_field(sg.ptr, otf__view_end(sg), 2, &out->records,
			                           &err_at);
			if (rc) {
				out->err_offset = (size_t)(err_at - data);
				return rc;
			}
		}
		if (rc < 0) {
			out->err_offset = otf_view_iter_err_offset(&sit, data);
			return rc;
		}
	}
	if (rc < 0)
		out->err_offset = otf_view_iter_err_offset(&rit, data);
	return rc;
}

int otf_view_count_traces(const uint8_t *data, size_t len, otf_view_counts_t *out)
{
	return count_3level(data, len, out);
}

int otf_view_count_logs(const uint8_t *data, size_t len, otf_view_counts_t *out)
{
	return count_3level(data, len, out);
}

int otf_view_count(otf_signal_t signal, const uint8_t *data, size_t len, otf_view_counts_t *out)
{
	switch (signal) {
	case OTF_SIGNAL_TRACES:
		return otf_view_count_traces(data, len, out);
	case OTF_SIGNAL_METRICS:
		return otf_view_count_metrics(data, len, out);
	case OTF_SIGNAL_LOGS:
		return otf_view_count_logs(data, len, out);
	}
	*out = (otf_view_counts_t){0};
	return OTF_E_INVAL;
}
