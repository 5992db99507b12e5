/* Encoding of the pieces shared by every record: AnyValue, KeyValueRef lists (keys interned),
 * SpanContext (span_id = 1, trace_id = 2: the schema's numbering, defect 11). Back to front:
 * the last field is written first. */
#include "otmm_internal.h"

static size_t str_len(const otmm_value_t *v)
{
	if (!v->ptr)
		return 0;
	return v->len == (size_t)-1 ? strlen(v->ptr) : v->len;
}

/* The encoders below are inlined into callers that keep the writer in a local copy which never
 * escapes: the compiler then holds it in registers instead of reloading it from the stack after
 * every byte stored through it (a uint8_t store may alias anything). */
static inline __attribute__((always_inline)) int enc_scalar(pbw_t *w, const otmm_value_t *v)
{
	switch (v->type) {
	case OTMM_VAL_NONE:
		return 0;
	case OTMM_VAL_STRING:
		pbw_bytes(w, 1, v->ptr, str_len(v));
		return 0;
	case OTMM_VAL_BOOL: /* oneof members are written even when zero */
		pbw_uint(w, 2, v->b ? 1 : 0);
		return 0;
	case OTMM_VAL_INT:
		pbw_uint(w, 3, (uint64_t)v->i);
		return 0;
	case OTMM_VAL_DOUBLE:
		pbw_double(w, 4, v->d);
		return 0;
	case OTMM_VAL_BYTES:
		pbw_bytes(w, 7, v->ptr, v->ptr ? v->len : 0);
		return 0;
	default:
		return OTMM_E_INVAL;
	}
}

static inline __attribute__((always_inline)) int enc_value(pbw_t *w, const otmm_value_t *v)
{
	if (v->type != OTMM_VAL_ARRAY)
		return enc_scalar(w, v);
	const otmm_value_t *items = v->ptr;
	if (v->len && !items)
		return OTMM_E_INVAL;
	size_t mark = pbw_len(w);
	for (size_t i = v->len; i-- > 0;) {
		size_t im = pbw_len(w);
		int rc = enc_scalar(w, &items[i]); /* no nested arrays */
		if (rc < 0)
			return rc;
		pbw_close(w, 1, im);
	}
	pbw_close(w, 5, mark);
	return 0;
}

int otmm__enc_value(pbw_t *out, const otmm_value_t *v)
{
	pbw_t w = *out;
	int rc = enc_value(&w, v);
	*out = w;
	return rc;
}

/* unchecked back-to-front varint: the caller has checked the room */
static inline uint8_t *put_varint(uint8_t *p, uint64_t v)
{
	if (v < 0x80) {
		*--p = (uint8_t)v;
		return p;
	}
	p -= varint_size(v);
	uint8_t *q = p;
	while (v >= 0x80) {
		*q++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*q = (uint8_t)v;
	return p;
}

/* A KeyValueRef with a string, int, bool or double value (nearly every attribute), written with
 * one room check instead of one per byte: value bytes + tags and varints of at most 30 bytes.
 * Returns 1 when written (or *rc < 0), 0 to take the checked path (same bytes). */
static inline int fast_attr(otmm_t *m, pbw_t *w, uint8_t tag, const otmm_attr_t *a, int *rc)
{
	const otmm_value_t *v = &a->value;
	uint8_t *p = w->p, *end = w->p;
	size_t room = (size_t)(p - w->start);
	if (w->bad || room < 40)
		return 0;
	switch (v->type) {
	case OTMM_VAL_STRING: {
		size_t n = str_len(v);
		if (room < n + 40)
			return 0;
		p -= n;
		if (n)
			memcpy(p, v->ptr, n);
		p = put_varint(p, n);
		*--p = 0x0a; /* AnyValue.string_value = 1 */
		break;
	}
	case OTMM_VAL_BOOL:
		*--p = v->b ? 1 : 0;
		*--p = 0x10; /* bool_value = 2 */
		break;
	case OTMM_VAL_INT:
		p = put_varint(p, (uint64_t)v->i);
		*--p = 0x18; /* int_value = 3 */
		break;
	case OTMM_VAL_DOUBLE:
		p -= 8;
		memcpy(p, &v->d, 8);
		*--p = 0x21; /* double_value = 4, fixed64 */
		break;
	default:
		return 0;
	}
	p = put_varint(p, (uint64_t)(end - p));
	*--p = 0x12; /* KeyValueRef.value = 2 */
	int64_t key = otmm__intern_str(m, a->key);
	if (key < 0) {
		*rc = (int)key;
		return 1;
	}
	if (key) {
		p = put_varint(p, (uint64_t)key);
		*--p = 0x08; /* KeyValueRef.key_ref = 1 */
	}
	p = put_varint(p, (uint64_t)(end - p));
	*--p = tag;
	w->p = p;
	return 1;
}

int otmm__enc_attrs(otmm_t *m, pbw_t *out, uint32_t field, const otmm_attr_t *a, size_t n)
{
	if (n && !a)
		return OTMM_E_INVAL;
	pbw_t w = *out;
	int rc = 0;
	for (size_t i = n; i-- > 0;) {
		if (field < 16 && fast_attr(m, &w, (uint8_t)(field << 3 | 2), &a[i], &rc)) {
			if (rc < 0)
				break;
			continue;
		}
		size_t mark = pbw_len(&w);
		rc = enc_value(&w, &a[i].value);
		if (rc < 0)
			break;
		pbw_close(&w, 2, mark);
		if (w.bad)
			break; /* do not intern keys of a record that cannot fit */
		int64_t key = otmm__intern_str(m, a[i].key);
		if (key < 0) {
			rc = (int)key;
			break;
		}
		if (key)
			pbw_uint(&w, 1, (uint64_t)key);
		pbw_close(&w, field, mark);
	}
	*out = w;
	if (rc < 0)
		return rc;
	return w.bad ? OTMM_E_TOO_BIG : 0;
}

/* An instrumentation scope entry (tracer, logger, meter), pointing at the resource. */
int otmm_scope(otmm_t *m, const char *name, const char *version, const otmm_attr_t *attrs,
               size_t n_attrs, otmm_scope_t *out)
{
	if (!m || !out)
		return OTMM_E_INVAL;
	/* InstrumentationScope: name_ref 1, version_ref 2, attributes 3, resource_ref 5 */
	uint8_t buf[OTMM_MAX_RECORD];
	pbw_t w;
	pbw_init(&w, buf, sizeof(buf));
	pbw_uint(&w, 5, (uint64_t)m->resource_ref);
	int rc = otmm__enc_attrs(m, &w, 3, attrs, n_attrs);
	if (rc < 0)
		return rc;
	int64_t v = otmm__intern_str(m, version);
	int64_t n = otmm__intern_str(m, name);
	if (v < 0 || n < 0)
		return OTMM_E_DICT_FULL;
	if (v)
		pbw_uint(&w, 2, (uint64_t)v);
	if (n)
		pbw_uint(&w, 1, (uint64_t)n);
	if (w.bad)
		return OTMM_E_TOO_BIG;
	int64_t ref = otmm__intern(m, w.p, pbw_len(&w));
	if (ref < 0)
		return (int)ref;
	out->m = m;
	out->ref = ref;
	return 0;
}
