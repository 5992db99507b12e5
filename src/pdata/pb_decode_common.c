/* Protobuf decode of the shared OTLP messages (common.proto, resource.proto):
 * AnyValue, KeyValue, InstrumentationScope, Resource, EntityRef; repeated
 * scalars (packed and unpacked); argument and limit checks; the cold error
 * helpers. */
#include "pb_decode_internal.h"

#include <stdio.h>

int otf__pbd_begin(otf__pbd_t *d, const void *out, const uint8_t *data, size_t len,
                   otf_arena_t *arena, const otf_pdata_limits_t *limits, otf_pdata_error_t *err)
{
	size_t max_in = limits && limits->max_input_bytes ? limits->max_input_bytes
	                                                  : OTF_PDATA_DEFAULT_MAX_INPUT;
	/* An empty input may come as NULL; pointer arithmetic on NULL is undefined. */
	d->base = data ? data : (const uint8_t *)"";
	d->arena = arena;
	d->err = err;
	d->max_depth =
	    limits && limits->max_depth ? limits->max_depth : OTF_PDATA_DEFAULT_MAX_DEPTH;
	if (err) {
		err->code = 0;
		err->offset = 0;
		err->path[0] = '\0';
		err->detail[0] = '\0';
	}
	if (!out || !arena || (!data && len))
		return otf__perr_set(err, OTF_E_INVAL, 0, "no output, input or arena");
	if (len > max_in)
		return otf__perr_set(err, OTF_E_TOO_LARGE, 0, "%zu bytes, limit %zu", len, max_in);
	return 0;
}

otf__pbd_vr otf__pbd_varint_slow(const uint8_t *p, const uint8_t *end)
{
	const uint8_t *q = p;
	uint64_t v = 0;
	int rc = otf__pb_varint_slow(&q, end, &v);
	otf__pbd_vr r = {v, rc ? rc : (int)(q - p)};
	return r;
}

/* ---- cold error helpers ---- */

static size_t off(const otf__pbd_t *d, const uint8_t *at)
{
	return (size_t)(at - d->base);
}

static int push_field(const otf__pbd_t *d, int rc, const char *field)
{
	return field ? otf__perr_push(d->err, rc, field, -1) : rc;
}

int otf__pbd_fail(const otf__pbd_t *d, int rc, const uint8_t *at, const uint8_t *end,
                  const char *field)
{
	if (!d->err)
		return rc;
	if (rc == OTF_E_LENGTH) {
		/* Re-read the length prefix that was too long, for the detail. */
		const uint8_t *p = at;
		uint64_t l = 0;
		(void)otf__pb_varint(&p, end, &l);
		otf__perr_set(d->err, rc, off(d, at), "length %llu, %zu bytes left",
		              (unsigned long long)l, (size_t)(end - p));
	} else if (rc == OTF_E_TRUNCATED) {
		otf__perr_set(d->err, rc, off(d, at), "%zu bytes left", (size_t)(end - at));
	} else {
		otf__perr_set(d->err, rc, off(d, at), NULL);
	}
	return push_field(d, rc, field);
}

static const char *wt_name(uint32_t wt)
{
	static const char *const names[] = {"varint",    "i64", "len", "start group",
	                                    "end group", "i32", "6",   "7"};
	return names[wt & 7];
}

int otf__pbd_fail_wt(const otf__pbd_t *d, const uint8_t *at, uint32_t wt, uint32_t want,
                     const char *field)
{
	otf__perr_set(d->err, OTF_E_WIRETYPE, off(d, at), "wire type %s, expected %s", wt_name(wt),
	              wt_name(want));
	return push_field(d, OTF_E_WIRETYPE, field);
}

int otf__pbd_fail_id(const otf__pbd_t *d, const uint8_t *at, size_t got, size_t want,
                     const char *field)
{
	otf__perr_set(d->err, OTF_E_ID_LENGTH, off(d, at), "%zu bytes or empty, got %zu", want,
	              got);
	return push_field(d, OTF_E_ID_LENGTH, field);
}

int otf__pbd_fail_utf8(const otf__pbd_t *d, const uint8_t *s, size_t n, const char *field)
{
	/* Point at the first byte that does not start a valid sequence. */
	size_t i = 0;
	while (i < n) {
		uint8_t c = s[i];
		size_t k = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
		if (k > n - i || !otf__utf8_valid(s + i, k))
			break;
		i += k;
	}
	otf__perr_set(d->err, OTF_E_UTF8, off(d, s + i), "invalid byte 0x%02x in a %zu-byte string",
	              i < n ? s[i] : 0u, n);
	return push_field(d, OTF_E_UTF8, field);
}

int otf__pbd_fail_nomem(const otf__pbd_t *d, const uint8_t *at, const char *field)
{
	otf__perr_set(d->err, OTF_E_NOMEM, off(d, at), "arena allocation");
	return push_field(d, OTF_E_NOMEM, field);
}

int otf__pbd_fail_tag(const otf__pbd_t *d, int rc, const uint8_t *at, const uint8_t *end,
                      uint32_t field, uint32_t wt)
{
	if (!d->err)
		return rc;
	if (rc == OTF_E_WIRETYPE) /* only groups (and wire types 6, 7) fail to skip this way */
		return otf__perr_set(d->err, rc, off(d, at), "field %u: wire type %s not supported",
		                     field, wt_name(wt));
	if (rc == OTF_E_FIELD_NUMBER)
		return otf__perr_set(d->err, rc, off(d, at), "field number 0 or above 2^29-1");
	otf__pbd_fail(d, rc, at, end, NULL);
	if (field) {
		char *det = d->err->detail;
		char tmp[sizeof d->err->detail];
		memcpy(tmp, det, sizeof tmp);
		int n = snprintf(det, sizeof tmp, "unknown field %u: ", field);
		if (n > 0 && (size_t)n < sizeof tmp) {
			size_t l = strnlen(tmp, sizeof tmp - (size_t)n - 1);
			memcpy(det + n, tmp, l);
			det[(size_t)n + l] = '\0';
		}
	}
	return rc;
}

int otf__pbd_push(const otf__pbd_t *d, int rc, const char *field, long index)
{
	return otf__perr_push(d->err, rc, field, index);
}

/* ---- repeated scalars ---- */

/* A packed varint run holds at most one element per byte below 0x80 (each
 * varint ends with one), so the count is never too small even for malformed
 * runs; a packed fixed64 run that is not a multiple of 8 fails later. */
void otf__pbd_count_scalars(const uint8_t *p, const uint8_t *end, uint32_t la, uint32_t lb,
                            uint32_t sa, uint32_t sb, bool fixed, size_t n[4])
{
	n[0] = n[1] = n[2] = n[3] = 0;
	while (p < end) {
		uint64_t t, l;
		if (otf__pbd_rv(&p, end, &t))
			return;
		uint64_t f = t >> 3;
		switch (t & 7) {
		case OTF_WT_LEN:
			if (otf__pbd_rv(&p, end, &l) || l > (uint64_t)(end - p))
				return;
			n[0] += f == la;
			n[1] += f == lb;
			if (f == sa || f == sb) {
				size_t k = 0;
				if (fixed) {
					k = (size_t)l / 8;
				} else {
					for (uint64_t i = 0; i < l; i++)
						k += p[i] < 0x80;
				}
				n[f == sa ? 2 : 3] += k;
			}
			p += l;
			break;
		case OTF_WT_VARINT:
			if (otf__pbd_rv(&p, end, &l))
				return;
			if (!fixed) {
				n[2] += f == sa;
				n[3] += f == sb;
			}
			break;
		case OTF_WT_I64:
			if (end - p < 8)
				return;
			p += 8;
			if (fixed) {
				n[2] += f == sa;
				n[3] += f == sb;
			}
			break;
		case OTF_WT_I32:
			if (end - p < 4)
				return;
			p += 4;
			break;
		default:
			return;
		}
	}
}

int otf__pbd_rep_fixed64(const otf__pbd_t *d, const uint8_t **pp, const uint8_t *end, uint32_t wt,
                         uint64_t *arr, size_t *len, const char *field)
{
	if (wt == OTF_WT_I64) {
		/* Read into a local first: when the value is truncated the count
		 * scan did not count it, and arr may have no room (or be NULL). */
		uint64_t v;
		int r = otf__pbd_fixed64(d, pp, end, wt, &v, field);
		if (!r)
			arr[(*len)++] = v;
		return r;
	}
	const uint8_t *s, *se;
	int rc = otf__pbd_len(d, pp, end, wt, &s, &se, field);
	if (OTF_UNLIKELY(rc))
		return rc;
	size_t n = (size_t)(se - s);
	if (OTF_UNLIKELY(n % 8)) {
		otf__perr_set(d->err, OTF_E_LENGTH, (size_t)(s - d->base),
		              "packed 8-byte values: %zu bytes", n);
		return otf__pbd_push(d, OTF_E_LENGTH, field, -1);
	}
	if (n)
		memcpy(arr + *len, s, n); /* little-endian host, checked in CMake */
	*len += n / 8;
	return 0;
}

int otf__pbd_rep_varint(const otf__pbd_t *d, const uint8_t **pp, const uint8_t *end, uint32_t wt,
                        uint64_t *arr, size_t *len, const char *field)
{
	if (wt == OTF_WT_VARINT) {
		uint64_t v; /* see otf__pbd_rep_fixed64 */
		int r = otf__pbd_varint(d, pp, end, wt, &v, field);
		if (!r)
			arr[(*len)++] = v;
		return r;
	}
	const uint8_t *s, *se;
	int rc = otf__pbd_len(d, pp, end, wt, &s, &se, field);
	if (OTF_UNLIKELY(rc))
		return rc;
	size_t i = *len;
	while (s < se) {
		const uint8_t *at = s;
		uint64_t v; /* see otf__pbd_rep_fixed64 */
		rc = otf__pbd_rv(&s, se, &v);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail(d, rc, at, se, field);
		arr[i++] = v;
	}
	*len = i;
	return 0;
}

/* ---- AnyValue, KeyValue ---- */

/* ArrayValue (values = 1) or KeyValueList (values = 1) body; elements at
 * depth + 1. */
static int any_array(const otf__pbd_t *d, otf_any_value_t *v, const uint8_t *p, const uint8_t *end,
                     uint32_t depth)
{
	size_t n[3];
	otf__pbd_count(p, end, 1, 0, 0, n);
	otf_any_value_t *vals;
	int rc = otf__pbd_array(d, (void **)&vals, n[0], sizeof *vals, p, "values");
	if (OTF_UNLIKELY(rc))
		return rc;
	size_t i = 0;
	while (p < end) {
		const uint8_t *at = p, *s, *se;
		uint32_t f, wt;
		rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(d, rc, at, end, 0, 0);
		if (f == 1) {
			rc = otf__pbd_len(d, &p, end, wt, &s, &se, "values");
			if (OTF_UNLIKELY(rc))
				return rc;
			rc = otf__pbd_any(d, &vals[i], s, se, depth + 1);
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(d, rc, "values", (long)i);
			i++;
		} else {
			rc = otf__pbd_skip(d, &p, end, at, f, wt);
			if (OTF_UNLIKELY(rc))
				return rc;
		}
	}
	v->u.array_value.values = vals;
	v->u.array_value.values_len = i;
	return 0;
}

static int any_kvlist(const otf__pbd_t *d, otf_any_value_t *v, const uint8_t *p, const uint8_t *end,
                      uint32_t depth)
{
	size_t n[3];
	otf__pbd_count(p, end, 1, 0, 0, n);
	otf_attributes_t a;
	int rc = otf__pbd_array(d, (void **)&a.items, n[0], sizeof *a.items, p, "values");
	if (OTF_UNLIKELY(rc))
		return rc;
	a.len = 0;
	while (p < end) {
		const uint8_t *at = p, *s, *se;
		uint32_t f, wt;
		rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(d, rc, at, end, 0, 0);
		if (f == 1) {
			rc = otf__pbd_len(d, &p, end, wt, &s, &se, "values");
			if (OTF_UNLIKELY(rc))
				return rc;
			rc = otf__pbd_kv(d, &a.items[a.len], s, se, depth + 1);
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(d, rc, "values", (long)a.len);
			a.len++;
		} else {
			rc = otf__pbd_skip(d, &p, end, at, f, wt);
			if (OTF_UNLIKELY(rc))
				return rc;
		}
	}
	v->u.kvlist_value.values = a.items;
	v->u.kvlist_value.values_len = a.len;
	return 0;
}

int otf__pbd_any(const otf__pbd_t *d, otf_any_value_t *v, const uint8_t *p, const uint8_t *end,
                 uint32_t depth)
{
	v->type = OTF_ANY_EMPTY;
	memset(&v->u, 0, sizeof v->u);
	if (OTF_UNLIKELY(depth > d->max_depth))
		return otf__perr_set(d->err, OTF_E_DEPTH, off(d, p),
		                     "AnyValue nesting deeper than %u", d->max_depth);
	/* Oneof: the last member on the wire wins, as in protobuf. */
	while (p < end) {
		const uint8_t *at = p, *s, *se;
		uint32_t f, wt;
		uint64_t u = 0;
		int rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(d, rc, at, end, 0, 0);
		switch (f) {
		case 1:
			rc = otf__pbd_str(d, &p, end, wt, &v->u.string_value, "string_value");
			v->type = OTF_ANY_STRING;
			break;
		case 2:
			rc = otf__pbd_varint(d, &p, end, wt, &u, "bool_value");
			memset(&v->u, 0, sizeof v->u);
			v->u.bool_value = u != 0;
			v->type = OTF_ANY_BOOL;
			break;
		case 3:
			rc = otf__pbd_varint(d, &p, end, wt, &u, "int_value");
			memset(&v->u, 0, sizeof v->u);
			v->u.int_value = (int64_t)u;
			v->type = OTF_ANY_INT;
			break;
		case 4:
			memset(&v->u, 0, sizeof v->u);
			rc = otf__pbd_double(d, &p, end, wt, &v->u.double_value, "double_value");
			v->type = OTF_ANY_DOUBLE;
			break;
		case 5:
			rc = otf__pbd_len(d, &p, end, wt, &s, &se, "array_value");
			if (OTF_UNLIKELY(rc))
				return rc;
			v->type = OTF_ANY_ARRAY;
			rc = any_array(d, v, s, se, depth);
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(d, rc, "array_value", -1);
			break;
		case 6:
			rc = otf__pbd_len(d, &p, end, wt, &s, &se, "kvlist_value");
			if (OTF_UNLIKELY(rc))
				return rc;
			v->type = OTF_ANY_KVLIST;
			rc = any_kvlist(d, v, s, se, depth);
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(d, rc, "kvlist_value", -1);
			break;
		case 7:
			rc = otf__pbd_bytes(d, &p, end, wt, &v->u.bytes_value, "bytes_value");
			v->type = OTF_ANY_BYTES;
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

int otf__pbd_kv(const otf__pbd_t *d, otf_key_value_t *kv, const uint8_t *p, const uint8_t *end,
                uint32_t depth)
{
	kv->key.ptr = NULL;
	kv->key.len = 0;
	kv->value.type = OTF_ANY_EMPTY;
	memset(&kv->value.u, 0, sizeof kv->value.u);
	while (p < end) {
		const uint8_t *at = p, *s, *se;
		uint32_t f, wt;
		int rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(d, rc, at, end, 0, 0);
		if (f == 1) {
			rc = otf__pbd_str(d, &p, end, wt, &kv->key, "key");
		} else if (f == 2) {
			rc = otf__pbd_len(d, &p, end, wt, &s, &se, "value");
			if (OTF_UNLIKELY(rc))
				return rc;
			/* Fast path for the common attribute value: one short
			 * string_value and nothing else. Anything else, or a
			 * failure, takes the general path (which reports it). */
			if (se - s >= 2 && s[0] == 0x0a && s[1] < 0x80 && s[1] == se - s - 2 &&
			    depth <= d->max_depth && otf__pbd_utf8_ok(s + 2, s[1])) {
				kv->value.type = OTF_ANY_STRING;
				kv->value.u.string_value.ptr = s + 2;
				kv->value.u.string_value.len = s[1];
				continue;
			}
			rc = otf__pbd_any(d, &kv->value, s, se, depth);
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(d, rc, "value", -1);
		} else {
			rc = otf__pbd_skip(d, &p, end, at, f, wt);
		}
		if (OTF_UNLIKELY(rc))
			return rc;
	}
	return 0;
}

/* ---- InstrumentationScope, EntityRef, Resource ---- */

int otf__pbd_scope(const otf__pbd_t *d, otf_scope_t *sc, const uint8_t *p, const uint8_t *end)
{
	size_t n[3];
	memset(sc, 0, sizeof *sc);
	otf__pbd_count(p, end, 3, 0, 0, n);
	int rc = otf__pbd_array(d, (void **)&sc->attributes.items, n[0], sizeof(otf_key_value_t), p,
	                        "attributes");
	if (OTF_UNLIKELY(rc))
		return rc;
	while (p < end) {
		const uint8_t *at = p;
		uint32_t f, wt;
		rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(d, rc, at, end, 0, 0);
		switch (f) {
		case 1:
			rc = otf__pbd_str(d, &p, end, wt, &sc->name, "name");
			break;
		case 2:
			rc = otf__pbd_str(d, &p, end, wt, &sc->version, "version");
			break;
		case 3:
			rc = otf__pbd_attr(d, &sc->attributes, &p, end, wt, "attributes");
			break;
		case 4:
			rc = otf__pbd_u32(d, &p, end, wt, &sc->dropped_attributes_count,
			                  "dropped_attributes_count");
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

/* One `repeated string` element into l->items[l->len++]. */
static int string_elem(const otf__pbd_t *d, otf_string_list_t *l, const uint8_t **pp,
                       const uint8_t *end, uint32_t wt, const char *field)
{
	otf_bytes_t b;
	int rc = otf__pbd_str(d, pp, end, wt, &b, NULL);
	if (OTF_UNLIKELY(rc))
		return otf__pbd_push(d, rc, field, (long)l->len);
	l->items[l->len++] = b; /* the array was sized by the first scan */
	return 0;
}

static int entity_ref(const otf__pbd_t *d, otf_entity_ref_t *e, const uint8_t *p,
                      const uint8_t *end)
{
	size_t n[3];
	memset(e, 0, sizeof *e);
	otf__pbd_count(p, end, 3, 4, 0, n);
	int rc =
	    otf__pbd_array(d, (void **)&e->id_keys.items, n[0], sizeof(otf_bytes_t), p, "id_keys");
	if (OTF_LIKELY(!rc))
		rc = otf__pbd_array(d, (void **)&e->description_keys.items, n[1],
		                    sizeof(otf_bytes_t), p, "description_keys");
	if (OTF_UNLIKELY(rc))
		return rc;
	while (p < end) {
		const uint8_t *at = p;
		uint32_t f, wt;
		rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(d, rc, at, end, 0, 0);
		switch (f) {
		case 1:
			rc = otf__pbd_str(d, &p, end, wt, &e->schema_url, "schema_url");
			break;
		case 2:
			rc = otf__pbd_str(d, &p, end, wt, &e->type, "type");
			break;
		case 3:
			rc = string_elem(d, &e->id_keys, &p, end, wt, "id_keys");
			break;
		case 4:
			rc = string_elem(d, &e->description_keys, &p, end, wt, "description_keys");
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

int otf__pbd_resource(const otf__pbd_t *d, otf_resource_t *r, const uint8_t *p, const uint8_t *end)
{
	size_t n[3];
	memset(r, 0, sizeof *r);
	otf__pbd_count(p, end, 1, 3, 0, n);
	int rc = otf__pbd_array(d, (void **)&r->attributes.items, n[0], sizeof(otf_key_value_t), p,
	                        "attributes");
	if (OTF_LIKELY(!rc))
		rc = otf__pbd_array(d, (void **)&r->entity_refs, n[1], sizeof(otf_entity_ref_t), p,
		                    "entity_refs");
	if (OTF_UNLIKELY(rc))
		return rc;
	while (p < end) {
		const uint8_t *at = p, *s, *se;
		uint32_t f, wt;
		rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(d, rc, at, end, 0, 0);
		switch (f) {
		case 1:
			rc = otf__pbd_attr(d, &r->attributes, &p, end, wt, "attributes");
			break;
		case 2:
			rc = otf__pbd_u32(d, &p, end, wt, &r->dropped_attributes_count,
			                  "dropped_attributes_count");
			break;
		case 3:
			rc = otf__pbd_len(d, &p, end, wt, &s, &se, "entity_refs");
			if (OTF_UNLIKELY(rc))
				return rc;
			rc = entity_ref(d, &r->entity_refs[r->entity_refs_len], s, se);
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(d, rc, "entity_refs",
				                     (long)r->entity_refs_len);
			r->entity_refs_len++;
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

int otf__pbd_group(const otf__pbd_t *d, const otf__pbd_group_desc_t *g, void *head, void **items,
                   size_t *items_len, otf_bytes_t *schema_url, const uint8_t *p, const uint8_t *end)
{
	size_t n[3];
	otf__pbd_count(p, end, 2, 0, 0, n);
	int rc = otf__pbd_array(d, items, n[0], g->elem_size, p, g->items_name);
	if (OTF_UNLIKELY(rc))
		return rc;
	const char *head_name = g->resource_head ? "resource" : "scope";
	while (p < end) {
		const uint8_t *at = p, *m, *me;
		uint32_t f, wt;
		rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(d, rc, at, end, 0, 0);
		switch (f) {
		case 1:
			rc = otf__pbd_len(d, &p, end, wt, &m, &me, head_name);
			if (OTF_UNLIKELY(rc))
				return rc;
			rc = g->resource_head ? otf__pbd_resource(d, head, m, me)
			                      : otf__pbd_scope(d, head, m, me);
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(d, rc, head_name, -1);
			break;
		case 2:
			rc = otf__pbd_len(d, &p, end, wt, &m, &me, g->items_name);
			if (OTF_UNLIKELY(rc))
				return rc;
			rc = g->elem(d, (char *)*items + *items_len * g->elem_size, m, me);
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(d, rc, g->items_name, (long)*items_len);
			(*items_len)++;
			break;
		case 3:
			rc = otf__pbd_str(d, &p, end, wt, schema_url, "schema_url");
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
