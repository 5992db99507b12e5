/* otlp-mmap v1 record decoding (span events, links, log records,
 * measurements, attribute identity): see mmap_msg.h. Split from mmap_msg.c,
 * which resolves the dictionary (strings, resources, scopes, metrics). */
#include "mmap_msg.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "pdata/pb_wire.h"

#include <string.h>

#define MAX_IDENTITY_KV 128u

/* ---- records ---- */

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

int otf__mmx_spanev(const uint8_t *p, size_t n, otf__mmx_spanev_t *out)
{
	const uint8_t *e = p + n;
	memset(out, 0, sizeof *out);
	while (p < e) {
		uint32_t f, wt;
		uint64_t v;
		const uint8_t *s;
		size_t l;
		int rc = otf__pb_tag(&p, e, &f, &wt);
		if (rc)
			return rc;
		if ((f == 1 || f == 2) && wt == OTF_WT_LEN) {
			if ((rc = otf__pb_len(&p, e, &s, &l)))
				return rc;
			if (f == 1)
				out->trace_id = (otf_bytes_t){s, l};
			else
				out->span_id = (otf_bytes_t){s, l};
		} else if (f >= 11 && f <= 15 && wt == OTF_WT_LEN) {
			if ((rc = otf__pb_len(&p, e, &s, &l)))
				return rc;
			out->kind = f;
			out->body = s;
			out->body_len = l;
		} else if (f == 20 && wt == OTF_WT_VARINT) {
			if ((rc = otf__pb_varint(&p, e, &v)))
				return rc;
			out->scope_ref = (int64_t)v;
		} else if ((rc = otf__pb_skip(&p, e, wt))) {
			return rc;
		}
	}
	if (out->trace_id.len != OTF_TRACE_ID_LEN || out->span_id.len != OTF_SPAN_ID_LEN ||
	    all_zero(out->trace_id.ptr, OTF_TRACE_ID_LEN) ||
	    all_zero(out->span_id.ptr, OTF_SPAN_ID_LEN))
		return OTF_E_ID_LENGTH;
	if (!out->kind)
		return OTF_E_NOT_FOUND; /* oneof unset: nothing to apply */
	return 0;
}

static int attrs_append(otf__mmx_t *x, otf_arena_t *a, otf_attributes_t *dst, const uint8_t *p,
                        size_t n, uint32_t field, uint32_t *dropped)
{
	otf_attributes_t add;
	int rc = otf__mmx_attrs(x, a, p, n, field, &add, dropped);
	if (rc || !add.len)
		return rc;
	if (!dst->len) {
		*dst = add;
		return 0;
	}
	otf_key_value_t *kv = otf_arena_alloc(a, (dst->len + add.len) * sizeof *kv);
	if (!kv)
		return OTF_E_NOMEM;
	memcpy(kv, dst->items, dst->len * sizeof *kv);
	memcpy(kv + dst->len, add.items, add.len * sizeof *kv);
	dst->items = kv;
	dst->len += add.len;
	return 0;
}

static int link_dec(otf__mmx_t *x, otf_arena_t *a, const uint8_t *p, size_t n, otf_span_link_t *l)
{
	const uint8_t *e = p + n;
	memset(l, 0, sizeof *l);
	int rc = otf__mmx_attrs(x, a, p, n, 4, &l->attributes, &l->dropped_attributes_count);
	while (!rc && p < e) {
		uint32_t f, wt;
		uint64_t v;
		const uint8_t *s;
		size_t len;
		if ((rc = otf__pb_tag(&p, e, &f, &wt)))
			break;
		if (f >= 1 && f <= 3 && wt == OTF_WT_LEN) {
			if ((rc = otf__pb_len(&p, e, &s, &len)))
				break;
			if (f == 1)
				l->trace_id = (otf_bytes_t){s, len};
			else if (f == 2)
				l->span_id = (otf_bytes_t){s, len};
			else if (!otf__utf8_valid(s, len))
				rc = OTF_E_UTF8;
			else
				l->trace_state = (otf_bytes_t){s, len};
		} else if (f == 5 && wt == OTF_WT_VARINT) {
			if (!(rc = otf__pb_varint(&p, e, &v)))
				l->dropped_attributes_count += (uint32_t)v;
		} else if (f == 6 && wt == OTF_WT_I32) {
			uint32_t fl;
			if (!(rc = otf__pb_fixed32(&p, e, &fl)))
				l->flags = fl;
		} else {
			rc = otf__pb_skip(&p, e, wt);
		}
	}
	if (!rc && (l->trace_id.len != OTF_TRACE_ID_LEN || l->span_id.len != OTF_SPAN_ID_LEN))
		rc = OTF_E_ID_LENGTH;
	return rc;
}

int otf__mmx_span_apply(otf__mmx_t *x, otf_arena_t *a, otf_span_t *sp, uint32_t kind,
                        const uint8_t *p, size_t n)
{
	const uint8_t *e = p + n;
	int rc = 0;
	if (kind == 11 || kind == 14)
		rc = attrs_append(x, a, &sp->attributes, p, n, 9, &sp->dropped_attributes_count);
	while (!rc && p < e) {
		uint32_t f, wt;
		uint64_t v;
		uint32_t v32;
		const uint8_t *s;
		size_t l;
		if ((rc = otf__pb_tag(&p, e, &f, &wt)))
			break;
		if (kind == 11 && f == 4 && wt == OTF_WT_LEN) {
			if (!(rc = otf__pb_len(&p, e, &s, &l)))
				sp->parent_span_id = l == OTF_SPAN_ID_LEN && !all_zero(s, l)
				                         ? (otf_bytes_t){s, l}
				                         : (otf_bytes_t){NULL, 0};
		} else if ((kind == 11 || kind == 13) && f == 5 && wt == OTF_WT_LEN) {
			rc = otf__mmx_str_field(&p, e, &sp->name);
		} else if (kind == 11 && f == 6 && wt == OTF_WT_VARINT) {
			if (!(rc = otf__pb_varint(&p, e, &v)))
				sp->kind = (int32_t)v;
		} else if (kind == 11 && f == 7 && wt == OTF_WT_I64) {
			rc = otf__pb_fixed64(&p, e, &sp->start_time_unix_nano);
		} else if (kind == 11 && f == 16 && wt == OTF_WT_I32) {
			if (!(rc = otf__pb_fixed32(&p, e, &v32)))
				sp->flags = v32;
		} else if (kind == 12 && f == 8 && wt == OTF_WT_I64) {
			rc = otf__pb_fixed64(&p, e, &sp->end_time_unix_nano);
		} else if (kind == 12 && f == 15 && wt == OTF_WT_LEN) {
			if ((rc = otf__pb_len(&p, e, &s, &l)))
				break;
			const uint8_t *q = s, *qe = s + l;
			while (!rc && q < qe) {
				uint32_t f2, wt2;
				if ((rc = otf__pb_tag(&q, qe, &f2, &wt2)))
					break;
				if (f2 == 2 && wt2 == OTF_WT_LEN) {
					rc = otf__mmx_str_field(&q, qe, &sp->status.message);
				} else if (f2 == 3 && wt2 == OTF_WT_VARINT) {
					if (!(rc = otf__pb_varint(&q, qe, &v)))
						sp->status.code = (int32_t)v;
				} else {
					rc = otf__pb_skip(&q, qe, wt2);
				}
			}
		} else if (kind == 15 && f == 13 && wt == OTF_WT_LEN) {
			if ((rc = otf__pb_len(&p, e, &s, &l)))
				break;
			otf_span_link_t *ln = otf_arena_alloc(a, (sp->links_len + 1) * sizeof *ln);
			if (!ln)
				return OTF_E_NOMEM;
			if (sp->links_len)
				memcpy(ln, sp->links, sp->links_len * sizeof *ln);
			int lr = link_dec(x, a, s, l, &ln[sp->links_len]);
			if (lr == OTF_E_NOMEM)
				return lr;
			if (lr) {
				sp->dropped_links_count++;
			} else {
				sp->links = ln;
				sp->links_len++;
			}
		} else {
			rc = otf__pb_skip(&p, e, wt);
		}
	}
	return rc;
}

void otf__mmx_attrs_dedup(otf_attributes_t *at)
{
	size_t w = 0;
	for (size_t i = 0; i < at->len; i++) {
		bool later = false;
		for (size_t k = i + 1; k < at->len && !later; k++)
			later = at->items[k].key.len == at->items[i].key.len &&
			        !memcmp(at->items[k].key.ptr, at->items[i].key.ptr,
			                at->items[i].key.len);
		if (!later)
			at->items[w++] = at->items[i];
	}
	at->len = w;
}

static int span_context(const uint8_t *p, size_t n, otf_log_record_t *lr)
{
	const uint8_t *e = p + n;
	while (p < e) {
		uint32_t f, wt;
		const uint8_t *s;
		size_t l;
		int rc = otf__pb_tag(&p, e, &f, &wt);
		if (rc)
			return rc;
		/* SpanContext numbers are the reverse of SpanEvent's. */
		if ((f == 1 || f == 2) && wt == OTF_WT_LEN) {
			if ((rc = otf__pb_len(&p, e, &s, &l)))
				return rc;
			if (f == 1)
				lr->span_id = (otf_bytes_t){s, l};
			else
				lr->trace_id = (otf_bytes_t){s, l};
		} else if (f == 3 && wt == OTF_WT_I32) {
			if ((rc = otf__pb_fixed32(&p, e, &lr->flags)))
				return rc;
		} else if ((rc = otf__pb_skip(&p, e, wt))) {
			return rc;
		}
	}
	/* Wrong lengths or all-zero ids (an invalid context): no context. */
	if (lr->trace_id.len != OTF_TRACE_ID_LEN || lr->span_id.len != OTF_SPAN_ID_LEN ||
	    all_zero(lr->trace_id.ptr, lr->trace_id.len)) {
		lr->trace_id = (otf_bytes_t){NULL, 0};
		lr->span_id = (otf_bytes_t){NULL, 0};
	} else if (all_zero(lr->span_id.ptr, lr->span_id.len)) {
		lr->span_id = (otf_bytes_t){NULL, 0};
	}
	return 0;
}

int otf__mmx_event(otf__mmx_t *x, otf_arena_t *a, const uint8_t *p, size_t n, otf_log_record_t *lr,
                   int64_t *scope_ref)
{
	const uint8_t *e = p + n;
	memset(lr, 0, sizeof *lr);
	*scope_ref = 0;
	int rc = otf__mmx_attrs(x, a, p, n, 8, &lr->attributes, &lr->dropped_attributes_count);
	while (!rc && p < e) {
		uint32_t f, wt;
		uint64_t v;
		const uint8_t *s;
		size_t l;
		if ((rc = otf__pb_tag(&p, e, &f, &wt)))
			break;
		if ((f == 1 || f == 3 || f == 6) && wt == OTF_WT_VARINT) {
			if ((rc = otf__pb_varint(&p, e, &v)))
				break;
			if (f == 1)
				*scope_ref = (int64_t)v;
			else if (f == 3)
				lr->severity_number = (int32_t)v;
			else if (otf__mmx_string(x, (int64_t)v, &lr->event_name))
				lr->event_name = (otf_bytes_t){NULL, 0}; /* unresolved: no name */
		} else if (f == 2 && wt == OTF_WT_I64) {
			rc = otf__pb_fixed64(&p, e, &lr->time_unix_nano);
		} else if (f == 4 && wt == OTF_WT_LEN) {
			rc = otf__mmx_str_field(&p, e, &lr->severity_text);
		} else if (f == 5 && wt == OTF_WT_LEN) {
			if (!(rc = otf__pb_len(&p, e, &s, &l)) &&
			    otf__mmx_any(x, a, s, l, &lr->body, 1) == OTF_E_NOMEM)
				rc = OTF_E_NOMEM; /* an unresolvable body becomes empty */
		} else if (f == 7 && wt == OTF_WT_LEN) {
			if (!(rc = otf__pb_len(&p, e, &s, &l)))
				rc = span_context(s, l, lr);
		} else {
			rc = otf__pb_skip(&p, e, wt);
		}
	}
	if (rc)
		return rc;
	lr->observed_time_unix_nano = lr->time_unix_nano;
	return 0;
}

int otf__mmx_meas(const uint8_t *p, size_t n, otf__mmx_meas_t *m)
{
	const uint8_t *e = p + n;
	memset(m, 0, sizeof *m);
	m->msg = p;
	m->msg_len = n;
	while (p < e) {
		uint32_t f, wt;
		uint64_t v;
		int rc = otf__pb_tag(&p, e, &f, &wt);
		if (rc)
			return rc;
		if ((f == 1 || f == 4) && wt == OTF_WT_VARINT) {
			if ((rc = otf__pb_varint(&p, e, &v)))
				return rc;
			if (f == 1) {
				m->metric_ref = (int64_t)v;
			} else {
				m->type = OTF_NUMBER_INT;
				m->as_int = (int64_t)v;
			}
		} else if ((f == 3 || f == 5) && wt == OTF_WT_I64) {
			if ((rc = otf__pb_fixed64(&p, e, &v)))
				return rc;
			if (f == 3) {
				m->time_unix_nano = v;
			} else {
				m->type = OTF_NUMBER_DOUBLE;
				m->as_double = otf__pb_u64_to_double(v);
			}
		} else {
			/* span_context = 6: present on the Java SDK's synchronous
			 * measurements (even for an invalid context), never on its
			 * observations */
			if (f == 6 && wt == OTF_WT_LEN)
				m->has_span_context = true;
			if ((rc = otf__pb_skip(&p, e, wt)))
				return rc;
		}
	}
	if (!m->type)
		return OTF_E_NOT_FOUND; /* value oneof unset */
	return 0;
}

typedef struct kvraw {
	const uint8_t *p;
	size_t n;
	int64_t key;
} kvraw_t;

long otf__mmx_attr_identity(const uint8_t *p, size_t n, uint8_t *buf, size_t cap)
{
	kvraw_t kv[MAX_IDENTITY_KV];
	size_t k = 0;
	const uint8_t *e = p + n;
	while (p < e) {
		uint32_t f, wt;
		const uint8_t *s;
		size_t l;
		int rc = otf__pb_tag(&p, e, &f, &wt);
		if (rc)
			return rc;
		if (f != 2 || wt != OTF_WT_LEN) {
			if ((rc = otf__pb_skip(&p, e, wt)))
				return rc;
			continue;
		}
		if ((rc = otf__pb_len(&p, e, &s, &l)))
			return rc;
		if (k == MAX_IDENTITY_KV)
			return OTF_E_NOSPACE;
		int64_t key = 0;
		const uint8_t *q = s, *qe = s + l;
		while (q < qe) {
			uint32_t f2, wt2;
			uint64_t v;
			if ((rc = otf__pb_tag(&q, qe, &f2, &wt2)))
				return rc;
			if (f2 == 1 && wt2 == OTF_WT_VARINT) {
				if ((rc = otf__pb_varint(&q, qe, &v)))
					return rc;
				key = (int64_t)v;
			} else if ((rc = otf__pb_skip(&q, qe, wt2))) {
				return rc;
			}
		}
		/* Insertion sort, stable: equal keys keep arrival order. */
		size_t i = k++;
		while (i > 0 && kv[i - 1].key > key) {
			kv[i] = kv[i - 1];
			i--;
		}
		kv[i] = (kvraw_t){s, l, key};
	}
	size_t w = 0;
	for (size_t i = 0; i < k; i++) {
		if (i + 1 < k && kv[i + 1].key == kv[i].key)
			continue; /* a later value for the same key wins */
		if (cap - w < 10 + kv[i].n)
			return OTF_E_NOSPACE;
		uint64_t l = kv[i].n;
		while (l >= 0x80) {
			buf[w++] = (uint8_t)(l | 0x80);
			l >>= 7;
		}
		buf[w++] = (uint8_t)l;
		memcpy(buf + w, kv[i].p, kv[i].n);
		w += kv[i].n;
	}
	return (long)w;
}
