/* OTLP/JSON decoding: input checks, json-c tokenizing, the object/array
 * walkers, scalar conversions (strings, hex ids, base64, 32/64-bit integers
 * from numbers or strings, doubles with NaN/Infinity, enums by number or
 * name) and the messages shared by every signal. */
#include "jsonc_ref_internal.h"

#include "otflow/err.h"
#include "pb_wire.h"
#include "pdata_err.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>

/* ---- input ---- */

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool hex4(const char *p, const char *end, unsigned *cp)
{
	if (end - p < 4)
		return false;
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		int h = hex_digit((unsigned char)p[i]);
		if (h < 0)
			return false;
		v = v << 4 | (unsigned)h;
	}
	*cp = v;
	return true;
}

/* Finds the first \u escape of an unpaired surrogate. A backslash can only
 * occur inside strings in well-formed JSON (json-c rejects the rest), so no
 * string tracking is needed. Returns the escape's offset or -1. */
static long find_lone_surrogate(const char *json, size_t len)
{
	const char *p = json, *end = json + len;
	while (p < end && (p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
		unsigned cp, lo;
		if (end - p < 2)
			break;
		if (p[1] != 'u' || !hex4(p + 2, end, &cp)) {
			p += 2;
			continue;
		}
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (end - p >= 12 && p[6] == '\\' && p[7] == 'u' && hex4(p + 8, end, &lo) &&
			    lo >= 0xdc00 && lo <= 0xdfff) {
				p += 12;
				continue;
			}
			return (long)(p - json);
		}
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return (long)(p - json);
		p += 6;
	}
	return -1;
}

int ref__jdec_begin(ref__jdec *d, json_object **root, const char *json, size_t len,
                    otf_arena_t *arena, const otf_pdata_limits_t *limits, otf_pdata_error_t *err)
{
	size_t max_in = limits && limits->max_input_bytes ? limits->max_input_bytes
	                                                  : OTF_PDATA_DEFAULT_MAX_INPUT;
	uint32_t max_depth =
	    limits && limits->max_depth ? limits->max_depth : OTF_PDATA_DEFAULT_MAX_DEPTH;
	memset(d, 0, sizeof *d);
	d->arena = arena;
	d->err = err;
	d->max_depth = max_depth;
	*root = NULL;
	/* json-c takes an int length. */
	if (len > max_in || len > INT_MAX)
		return otf__perr_set(err, OTF_E_TOO_LARGE, 0, "%zu bytes, limit %zu", len, max_in);
	if (!json || !arena)
		return otf__perr_set(err, OTF_E_INVAL, 0, "no input or arena");
	long bad = find_lone_surrogate(json, len);
	if (bad >= 0) {
		d->bad_surrogate = true;
		d->bad_offset = (size_t)bad;
	}
	/* Enough JSON nesting for max_depth AnyValue levels under the deepest
	 * OTLP path (exemplar attributes: 16 levels), 4 per kvlist level. */
	uint64_t jdepth = 24 + 4 * (uint64_t)max_depth;
	if (jdepth > 16384)
		jdepth = 16384;
	struct json_tokener *tok = json_tokener_new_ex((int)jdepth);
	if (!tok)
		return otf__perr_set(err, OTF_E_NOMEM, 0, "json tokener");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	json_object *obj = json_tokener_parse_ex(tok, json, (int)len);
	enum json_tokener_error je = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (je == json_tokener_continue) {
		json_object_put(obj);
		return otf__perr_set(err, OTF_E_JSON, len, "unexpected end of input");
	}
	if (je != json_tokener_success) {
		json_object_put(obj);
		return otf__perr_set(err, je == json_tokener_error_depth ? OTF_E_DEPTH : OTF_E_JSON,
		                     end, "%s", json_tokener_error_desc(je));
	}
	for (size_t i = end; i < len; i++) {
		if (json[i] != ' ' && json[i] != '\t' && json[i] != '\n' && json[i] != '\r') {
			json_object_put(obj);
			return otf__perr_set(err, OTF_E_JSON, i, "data after the top-level value");
		}
	}
	if (!json_object_is_type(obj, json_type_object)) {
		int rc = otf__perr_set(err, OTF_E_JSON_TYPE, 0,
		                       "expected an object at top level, got %s",
		                       json_type_to_name(json_object_get_type(obj)));
		json_object_put(obj);
		return rc;
	}
	*root = obj;
	return 0;
}

/* ---- walkers ---- */

/* lowerCamelCase form of a proto field name ("trace_id" -> "traceId");
 * keys without '_' are returned as they are. Over-long keys become "",
 * which matches no field. */
static const char *norm_key(const char *k, char *buf, size_t size)
{
	if (!strchr(k, '_'))
		return k;
	size_t n = 0;
	bool up = false;
	for (; *k; k++) {
		if (*k == '_') {
			up = true;
			continue;
		}
		if (n + 1 >= size)
			return "";
		buf[n++] = up ? (char)toupper((unsigned char)*k) : *k;
		up = false;
	}
	buf[n] = '\0';
	return buf;
}

static const char *type_name(json_object *v)
{
	return json_type_to_name(json_object_get_type(v));
}

static int type_error(ref__jdec *d, const char *want, json_object *v)
{
	return otf__perr_set(d->err, OTF_E_JSON_TYPE, 0, "expected %s, got %s", want, type_name(v));
}

int ref__jdec_object(ref__jdec *d, json_object *v, ref__jfield_fn fn, void *out)
{
	if (!json_object_is_type(v, json_type_object))
		return type_error(d, "object", v);
	struct json_object_iter it;
	json_object_object_foreachC(v, it)
	{
		if (!it.val) /* null: the field keeps its default */
			continue;
		char kb[64];
		const char *k = norm_key(it.key, kb, sizeof kb);
		d->pushed = false;
		int rc = fn(d, k, it.val, out);
		if (rc) {
			if (!d->pushed)
				otf__perr_push(d->err, rc, k, -1);
			d->pushed = false;
			return rc;
		}
	}
	return 0;
}

int ref__jdec_array(ref__jdec *d, json_object *v, const char *name, size_t esize, void *items_ptr,
                    size_t *len, ref__jelem_fn fn)
{
	int rc;
	if (!json_object_is_type(v, json_type_array)) {
		rc = type_error(d, "array", v);
		goto fail;
	}
	size_t n = json_object_array_length(v);
	uint8_t *arr = NULL;
	if (n) {
		arr = otf_arena_calloc(d->arena, n, esize);
		if (!arr) {
			rc = otf__perr_set(d->err, OTF_E_NOMEM, 0, "%zu elements", n);
			goto fail;
		}
	}
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(v, i);
		rc = e ? fn(d, e, arr + i * esize)
		       : otf__perr_set(d->err, OTF_E_JSON_TYPE, 0, "null array element");
		if (rc) {
			otf__perr_push(d->err, rc, name, (long)i);
			d->pushed = true;
			return rc;
		}
	}
	memcpy(items_ptr, &arr, sizeof arr);
	*len = n;
	return 0;
fail:
	otf__perr_push(d->err, rc, name, -1);
	d->pushed = true;
	return rc;
}

/* ---- scalars ---- */

int ref__jdec_string(ref__jdec *d, json_object *v, otf_bytes_t *out)
{
	if (!json_object_is_type(v, json_type_string))
		return type_error(d, "string", v);
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);
	if (!otf__utf8_valid((const uint8_t *)s, n))
		return otf__perr_set(d->err, OTF_E_UTF8, 0, "invalid UTF-8 bytes");
	/* json-c replaced a lone surrogate escape with U+FFFD; see ref__jdec. */
	if (d->bad_surrogate && memmem(s, n, "\xef\xbf\xbd", 3))
		return otf__perr_set(d->err, OTF_E_UTF8, d->bad_offset,
		                     "unpaired surrogate escape");
	void *p = otf_arena_memdup(d->arena, s, n);
	if (!p)
		return otf__perr_set(d->err, OTF_E_NOMEM, 0, "string of %zu bytes", n);
	out->ptr = p;
	out->len = n;
	return 0;
}

int ref__jdec_id(ref__jdec *d, json_object *v, otf_bytes_t *out, size_t id_len)
{
	if (!json_object_is_type(v, json_type_string))
		return type_error(d, "hex string", v);
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);
	if (n == 0) {
		out->ptr = NULL;
		out->len = 0;
		return 0;
	}
	if (n != 2 * id_len)
		return otf__perr_set(d->err, OTF_E_ID_LENGTH, 0,
		                     "%zu bytes (%zu hex digits), got %zu digits", id_len,
		                     2 * id_len, n);
	uint8_t *p = otf_arena_alloc(d->arena, id_len);
	if (!p)
		return otf__perr_set(d->err, OTF_E_NOMEM, 0, "id");
	for (size_t i = 0; i < id_len; i++) {
		int hi = hex_digit((unsigned char)s[2 * i]);
		int lo = hex_digit((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return otf__perr_set(d->err, OTF_E_HEX, 0, "non-hex character at %zu",
			                     2 * i + (hi < 0 ? 0 : 1));
		p[i] = (uint8_t)(hi << 4 | lo);
	}
	out->ptr = p;
	out->len = id_len;
	return 0;
}

static int b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-') /* standard and URL-safe alphabets */
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int ref__jdec_base64(ref__jdec *d, json_object *v, otf_bytes_t *out)
{
	if (!json_object_is_type(v, json_type_string))
		return type_error(d, "base64 string", v);
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);
	/* Padding is optional; when present it must complete a 4-char group. */
	size_t pad = 0;
	while (n && s[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	if (n % 4 == 1 || (pad && (n + pad) % 4 != 0))
		return otf__perr_set(d->err, OTF_E_JSON_TYPE, 0, "invalid base64 length");
	uint8_t *p = otf_arena_alloc(d->arena, n / 4 * 3 + 2);
	if (!p)
		return otf__perr_set(d->err, OTF_E_NOMEM, 0, "bytes");
	size_t o = 0;
	uint32_t acc = 0;
	for (size_t i = 0; i < n; i++) {
		int x = b64_value((unsigned char)s[i]);
		if (x < 0)
			return otf__perr_set(d->err, OTF_E_JSON_TYPE, 0,
			                     "invalid base64 character at %zu", i);
		acc = acc << 6 | (uint32_t)x;
		if (i % 4 == 3) {
			p[o++] = (uint8_t)(acc >> 16);
			p[o++] = (uint8_t)(acc >> 8);
			p[o++] = (uint8_t)acc;
			acc = 0;
		}
	}
	if (n % 4 == 2) {
		p[o++] = (uint8_t)(acc >> 4);
	} else if (n % 4 == 3) {
		p[o++] = (uint8_t)(acc >> 10);
		p[o++] = (uint8_t)(acc >> 2);
	}
	out->ptr = p;
	out->len = o;
	return 0;
}

int ref__jdec_bool(ref__jdec *d, json_object *v, bool *out)
{
	if (!json_object_is_type(v, json_type_boolean))
		return type_error(d, "boolean", v);
	*out = json_object_get_boolean(v) != 0;
	return 0;
}

/* A number written as a JSON string: strict JSON number syntax only (no
 * spaces, hex, "inf"). */
static bool numeric_string(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' ||
		      c == 'E'))
			return false;
	}
	return s[0] == '-' || (s[0] >= '0' && s[0] <= '9');
}

/* An integral double as sign and magnitude; false when not integral or
 * beyond 64 bits. */
static bool double_to_int(double x, bool *neg, uint64_t *mag)
{
	if (!isfinite(x) || x != trunc(x) || fabs(x) >= 18446744073709551616.0)
		return false;
	*neg = x < 0;
	*mag = (uint64_t)fabs(x);
	return true;
}

/* Any integer form (number, integral double, decimal or exponent string) as
 * sign and magnitude. */
static int get_int(ref__jdec *d, json_object *v, bool *neg, uint64_t *mag)
{
	switch (json_object_get_type(v)) {
	case json_type_int: {
		int64_t i = json_object_get_int64(v);
		*neg = i < 0;
		*mag = i < 0 ? 0u - (uint64_t)i : json_object_get_uint64(v);
		return 0;
	}
	case json_type_double:
		if (!double_to_int(json_object_get_double(v), neg, mag))
			return otf__perr_set(d->err, OTF_E_RANGE, 0,
			                     "%.17g is not a 64-bit integer",
			                     json_object_get_double(v));
		return 0;
	case json_type_string: {
		const char *s = json_object_get_string(v);
		size_t n = (size_t)json_object_get_string_len(v);
		if (!numeric_string(s, n))
			return otf__perr_set(d->err, OTF_E_JSON_TYPE, 0,
			                     "expected an integer string");
		size_t i = s[0] == '-' ? 1 : 0;
		uint64_t m = 0;
		bool digits = i < n;
		for (size_t k = i; k < n && digits; k++) {
			if (s[k] < '0' || s[k] > '9')
				digits = false;
		}
		if (digits) {
			for (; i < n; i++) {
				unsigned dg = (unsigned)(s[i] - '0');
				if (m > (UINT64_MAX - dg) / 10)
					return otf__perr_set(d->err, OTF_E_RANGE, 0,
					                     "integer beyond 64 bits");
				m = m * 10 + dg;
			}
			*neg = s[0] == '-';
			*mag = m;
			return 0;
		}
		/* Exponent or fraction form ("1e3"), as protobuf parsers accept. */
		char tmp[64];
		if (n >= sizeof tmp)
			return otf__perr_set(d->err, OTF_E_JSON_TYPE, 0,
			                     "expected an integer string");
		memcpy(tmp, s, n);
		tmp[n] = '\0';
		char *e;
		double x = strtod(tmp, &e);
		if (*e)
			return otf__perr_set(d->err, OTF_E_JSON_TYPE, 0,
			                     "expected an integer string");
		if (!double_to_int(x, neg, mag))
			return otf__perr_set(d->err, OTF_E_RANGE, 0, "%s is not a 64-bit integer",
			                     tmp);
		return 0;
	}
	default:
		return type_error(d, "integer", v);
	}
}

static int range_error(ref__jdec *d, bool neg, uint64_t mag, const char *type)
{
	return otf__perr_set(d->err, OTF_E_RANGE, 0, "%s%llu out of range for %s", neg ? "-" : "",
	                     (unsigned long long)mag, type);
}

int ref__jdec_u32(ref__jdec *d, json_object *v, uint32_t *out)
{
	bool neg;
	uint64_t mag;
	int rc = get_int(d, v, &neg, &mag);
	if (rc)
		return rc;
	if ((neg && mag) || mag > UINT32_MAX)
		return range_error(d, neg, mag, "uint32");
	*out = (uint32_t)mag;
	return 0;
}

int ref__jdec_i32(ref__jdec *d, json_object *v, int32_t *out)
{
	bool neg;
	uint64_t mag;
	int rc = get_int(d, v, &neg, &mag);
	if (rc)
		return rc;
	if (neg ? mag > (uint64_t)INT32_MAX + 1 : mag > INT32_MAX)
		return range_error(d, neg, mag, "int32");
	*out = neg ? (int32_t)(0 - (int64_t)mag) : (int32_t)mag;
	return 0;
}

int ref__jdec_u64(ref__jdec *d, json_object *v, uint64_t *out)
{
	bool neg;
	uint64_t mag;
	int rc = get_int(d, v, &neg, &mag);
	if (rc)
		return rc;
	if (neg && mag)
		return range_error(d, neg, mag, "uint64");
	*out = mag;
	return 0;
}

int ref__jdec_i64(ref__jdec *d, json_object *v, int64_t *out)
{
	bool neg;
	uint64_t mag;
	int rc = get_int(d, v, &neg, &mag);
	if (rc)
		return rc;
	if (neg ? mag > (uint64_t)INT64_MAX + 1 : mag > INT64_MAX)
		return range_error(d, neg, mag, "int64");
	/* Two's complement negation in unsigned arithmetic covers INT64_MIN. */
	*out = neg ? (int64_t)(0u - mag) : (int64_t)mag;
	return 0;
}

int ref__jdec_double(ref__jdec *d, json_object *v, double *out)
{
	switch (json_object_get_type(v)) {
	case json_type_int: {
		int64_t i = json_object_get_int64(v);
		*out = i < 0 ? (double)i : (double)json_object_get_uint64(v);
		return 0;
	}
	case json_type_double: {
		double x = json_object_get_double(v);
		/* json-c turns an overflowing literal (1e400) into infinity;
		 * OTLP/JSON spells infinity as a string. */
		if (isinf(x))
			return otf__perr_set(d->err, OTF_E_RANGE, 0, "number overflows a double");
		*out = x;
		return 0;
	}
	case json_type_string: {
		const char *s = json_object_get_string(v);
		size_t n = (size_t)json_object_get_string_len(v);
		if (n == 3 && !memcmp(s, "NaN", 3)) {
			*out = NAN;
			return 0;
		}
		if (n == 8 && !memcmp(s, "Infinity", 8)) {
			*out = INFINITY;
			return 0;
		}
		if (n == 9 && !memcmp(s, "-Infinity", 9)) {
			*out = -INFINITY;
			return 0;
		}
		char tmp[64];
		if (!numeric_string(s, n) || n >= sizeof tmp)
			return otf__perr_set(
			    d->err, OTF_E_JSON_TYPE, 0,
			    "expected a number, \"NaN\", \"Infinity\" or \"-Infinity\"");
		memcpy(tmp, s, n);
		tmp[n] = '\0';
		char *e;
		double x = strtod(tmp, &e);
		if (*e)
			return otf__perr_set(d->err, OTF_E_JSON_TYPE, 0,
			                     "expected a number string");
		if (isinf(x))
			return otf__perr_set(d->err, OTF_E_RANGE, 0, "number overflows a double");
		*out = x;
		return 0;
	}
	default:
		return type_error(d, "number", v);
	}
}

int ref__jdec_enum(ref__jdec *d, json_object *v, const char *const *names, size_t n, int32_t *out)
{
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		if (isalpha((unsigned char)s[0])) {
			for (size_t i = 0; i < n; i++) {
				if (!strcmp(s, names[i])) {
					*out = (int32_t)i;
					return 0;
				}
			}
			return otf__perr_set(d->err, OTF_E_JSON_TYPE, 0, "unknown enum value name");
		}
	}
	return ref__jdec_i32(d, v, out);
}

/* ---- shared messages ---- */

static int kv_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_key_value_t *kv = out;
	if (!strcmp(k, "key"))
		return ref__jdec_string(d, v, &kv->key);
	if (!strcmp(k, "value"))
		return ref__jdec_any(d, v, &kv->value);
	return 0;
}

static int kv_elem(ref__jdec *d, json_object *v, void *elem)
{
	return ref__jdec_object(d, v, kv_field, elem);
}

int ref__jdec_attributes(ref__jdec *d, json_object *v, const char *name, otf_attributes_t *out)
{
	return ref__jdec_array(d, v, name, sizeof *out->items, &out->items, &out->len, kv_elem);
}

static int array_value_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_any_value_t *a = out;
	if (!strcmp(k, "values"))
		return ref__jdec_array(d, v, "values", sizeof *a->u.array_value.values,
		                       &a->u.array_value.values, &a->u.array_value.values_len,
		                       ref__jdec_any);
	return 0;
}

static int kvlist_value_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_any_value_t *a = out;
	if (!strcmp(k, "values"))
		return ref__jdec_array(d, v, "values", sizeof *a->u.kvlist_value.values,
		                       &a->u.kvlist_value.values, &a->u.kvlist_value.values_len,
		                       kv_elem);
	return 0;
}

static int any_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	static const char *const members[] = {NULL,          "stringValue", "boolValue",
	                                      "intValue",    "doubleValue", "arrayValue",
	                                      "kvlistValue", "bytesValue"};
	otf_any_value_t *a = out;
	size_t t = 1;
	while (t < sizeof members / sizeof members[0] && strcmp(k, members[t]))
		t++;
	if (t == sizeof members / sizeof members[0])
		return 0;
	/* A later oneof member replaces an earlier one. */
	memset(&a->u, 0, sizeof a->u);
	a->type = (otf_any_type_t)t;
	switch (a->type) {
	case OTF_ANY_STRING:
		return ref__jdec_string(d, v, &a->u.string_value);
	case OTF_ANY_BOOL:
		return ref__jdec_bool(d, v, &a->u.bool_value);
	case OTF_ANY_INT:
		return ref__jdec_i64(d, v, &a->u.int_value);
	case OTF_ANY_DOUBLE:
		return ref__jdec_double(d, v, &a->u.double_value);
	case OTF_ANY_ARRAY:
		return ref__jdec_object(d, v, array_value_field, a);
	case OTF_ANY_KVLIST:
		return ref__jdec_object(d, v, kvlist_value_field, a);
	case OTF_ANY_BYTES:
		return ref__jdec_base64(d, v, &a->u.bytes_value);
	case OTF_ANY_EMPTY:
		break;
	}
	return 0;
}

int ref__jdec_any(ref__jdec *d, json_object *v, void *out)
{
	if (++d->depth > d->max_depth)
		return otf__perr_set(d->err, OTF_E_DEPTH, 0, "AnyValue nesting deeper than %u",
		                     d->max_depth);
	int rc = ref__jdec_object(d, v, any_field, out);
	d->depth--;
	return rc;
}

static int string_elem(ref__jdec *d, json_object *v, void *elem)
{
	return ref__jdec_string(d, v, elem);
}

static int entity_ref_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_entity_ref_t *e = out;
	if (!strcmp(k, "schemaUrl"))
		return ref__jdec_string(d, v, &e->schema_url);
	if (!strcmp(k, "type"))
		return ref__jdec_string(d, v, &e->type);
	if (!strcmp(k, "idKeys"))
		return ref__jdec_array(d, v, k, sizeof *e->id_keys.items, &e->id_keys.items,
		                       &e->id_keys.len, string_elem);
	if (!strcmp(k, "descriptionKeys"))
		return ref__jdec_array(d, v, k, sizeof *e->description_keys.items,
		                       &e->description_keys.items, &e->description_keys.len,
		                       string_elem);
	return 0;
}

static int entity_ref_elem(ref__jdec *d, json_object *v, void *elem)
{
	return ref__jdec_object(d, v, entity_ref_field, elem);
}

static int resource_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_resource_t *r = out;
	if (!strcmp(k, "attributes"))
		return ref__jdec_attributes(d, v, k, &r->attributes);
	if (!strcmp(k, "droppedAttributesCount"))
		return ref__jdec_u32(d, v, &r->dropped_attributes_count);
	if (!strcmp(k, "entityRefs"))
		return ref__jdec_array(d, v, k, sizeof *r->entity_refs, &r->entity_refs,
		                       &r->entity_refs_len, entity_ref_elem);
	return 0;
}

int ref__jdec_resource(ref__jdec *d, json_object *v, void *out)
{
	return ref__jdec_object(d, v, resource_field, out);
}

static int scope_field(ref__jdec *d, const char *k, json_object *v, void *out)
{
	otf_scope_t *s = out;
	if (!strcmp(k, "name"))
		return ref__jdec_string(d, v, &s->name);
	if (!strcmp(k, "version"))
		return ref__jdec_string(d, v, &s->version);
	if (!strcmp(k, "attributes"))
		return ref__jdec_attributes(d, v, k, &s->attributes);
	if (!strcmp(k, "droppedAttributesCount"))
		return ref__jdec_u32(d, v, &s->dropped_attributes_count);
	return 0;
}

int ref__jdec_scope(ref__jdec *d, json_object *v, void *out)
{
	return ref__jdec_object(d, v, scope_field, out);
}
