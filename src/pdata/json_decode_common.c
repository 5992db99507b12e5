/* OTLP/JSON decoding: input checks, the object/array walkers over the
 * On-Demand parser (json_sj.h), scalar conversions (strings, hex ids, base64, 32/64-bit integers
 * from numbers or strings, doubles with NaN/Infinity, enums by number or
 * name) and the messages shared by every signal. */
#include "json_internal.h"
#include "json_sj_dl.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "pb_wire.h"
#include "pdata_err.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>

/* ---- input ---- */

/* Without branches on the digit's kind: in random hex ids, digits and
 * letters alternate unpredictably, and the mispredictions cost more than
 * the rest of the id's decoding. */
static inline int hex_digit(int c)
{
	unsigned d = (unsigned)c - '0';
	unsigned l = ((unsigned)c | 0x20u) - 'a';
	int v = d < 10 ? (int)d : (int)l + 10;
	return d < 10 || l < 6 ? v : -1;
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
 * occur inside strings in well-formed JSON (the rest is a syntax error), so
 * no string tracking is needed. Returns the escape's offset or -1. */
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

/* json-c's names of the JSON types, which the error details use. */
static const char *type_name(const otf__jval *v)
{
	static const char *const names[] = {"null",   "boolean", "int",  "double",
	                                    "string", "object",  "array"};
	return names[v->type];
}

static int syntax_error(otf__jdec *d)
{
	const otf__jsj_error_t *e = otf__jsj_error(d->p);
	return otf__perr_set(d->err, e->code, e->offset, "%s", e->detail);
}

int otf__jdec_begin(otf__jdec *d, otf__jval *root, const char *json, size_t len, otf_arena_t *arena,
                    const otf_pdata_limits_t *limits, otf_pdata_error_t *err)
{
	size_t max_in = limits && limits->max_input_bytes ? limits->max_input_bytes
	                                                  : OTF_PDATA_DEFAULT_MAX_INPUT;
	uint32_t max_depth =
	    limits && limits->max_depth ? limits->max_depth : OTF_PDATA_DEFAULT_MAX_DEPTH;
	memset(d, 0, sizeof *d);
	memset(root, 0, sizeof *root);
	d->arena = arena;
	d->err = err;
	d->max_depth = max_depth;
	/* The limit json-c's int length imposed, kept so that the same inputs
	 * are refused. */
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
	d->json = json;
	d->len = len;
	d->jdepth = (size_t)jdepth;
	/* The parser is a module loaded now (json_sj_dl.h): a missing one
	 * fails this decode, not the process. */
	char why[sizeof err->detail];
	if (otf__jsj_module_load(why, sizeof why))
		return otf__perr_set(err, OTF_E_UNSUPPORTED, 0, "%s", why);
	d->p = otf__jsj_get();
	if (!d->p)
		return otf__perr_set(err, OTF_E_NOMEM, 0, "json parser");
	int rc = otf__jsj_parse(d->p, json, len, d->jdepth, d->bad_surrogate, root);
	if (rc == OTF__JSJ_SYNTAX && otf__jsj_error(d->p)->code == OTF_E_UTF8) {
		d->fixed = otf_malloc(len);
		if (!d->fixed)
			return otf__perr_set(err, OTF_E_NOMEM, 0, "json input copy");
		memcpy(d->fixed, json, len);
		for (size_t i = 0; i < len;) {
			i += otf__jsj_first_bad_utf8((const unsigned char *)d->fixed + i, len - i);
			if (i < len)
				d->fixed[i++] = 0x7f;
		}
		rc = otf__jsj_parse(d->p, d->fixed, len, d->jdepth, d->bad_surrogate, root);
	}
	if (rc) {
		otf_free(d->fixed);
		d->fixed = NULL;
		otf__jsj_trim();
	}
	if (rc == OTF__JSJ_SYNTAX)
		return syntax_error(d);
	if (rc)
		return otf__perr_set(err, rc, 0, "json parser");
	if (root->type != OTF__JT_OBJECT) {
		otf_free(d->fixed);
		d->fixed = NULL;
		otf__jsj_trim();
		return otf__perr_set(err, OTF_E_JSON_TYPE, 0,
		                     "expected an object at top level, got %s", type_name(root));
	}
	return 0;
}

int otf__jdec_end(otf__jdec *d, int rc)
{
	if (rc == 0)
		rc = otf__jsj_finish(d->p);
	if (rc == OTF__JSJ_SYNTAX)
		rc = syntax_error(d);
	/* A walking error stopped the parse early: malformed JSON further on
	 * is what json-c reported, having tokenized the whole input first. */
	else if (rc && rc != OTF_E_NOMEM &&
	         otf__jsj_validate(d->p, d->fixed ? d->fixed : d->json, d->len, d->jdepth,
	                           d->bad_surrogate) == OTF__JSJ_SYNTAX)
		rc = syntax_error(d);
	otf_free(d->fixed);
	d->fixed = NULL;
	otf__jsj_trim();
	return rc;
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

static int type_error(otf__jdec *d, const char *want, const otf__jval *v)
{
	return otf__perr_set(d->err, OTF_E_JSON_TYPE, 0, "expected %s, got %s", want, type_name(v));
}

typedef struct object_ctx {
	otf__jdec *d;
	otf__jfield_fn fn;
	void *out;
} object_ctx;

static int object_member(void *ctx, const char *key, otf__jval *v)
{
	object_ctx *c = ctx;
	otf__jdec *d = c->d;
	if (v->type == OTF__JT_NULL) /* null: the field keeps its default */
		return 0;
	char kb[64];
	const char *k = v->key_underscore ? norm_key(key, kb, sizeof kb) : key;
	d->pushed = false;
	int rc = c->fn(d, k, v, c->out);
	if (rc) {
		if (!d->pushed && rc != OTF__JSJ_SYNTAX)
			otf__perr_push(d->err, rc, k, -1);
		d->pushed = false;
	}
	return rc;
}

int otf__jdec_object(otf__jdec *d, otf__jval *v, otf__jfield_fn fn, void *out)
{
	if (v->type != OTF__JT_OBJECT)
		return type_error(d, "object", v);
	object_ctx c = {d, fn, out};
	return otf__jsj_object(v, object_member, &c);
}

typedef struct array_ctx {
	otf__jdec *d;
	otf__jelem_fn fn;
	const char *name;
	size_t esize;
	uint8_t *arr;
	size_t n, cap;
} array_ctx;

/* Elements go into an arena array that doubles as it fills (the old one
 * stays in the arena until its reset): counting the elements first would
 * make the parser walk each array twice. */
static int array_grow(array_ctx *c)
{
	size_t cap = c->cap ? 2 * c->cap : 4;
	uint8_t *arr = otf_arena_calloc(c->d->arena, cap, c->esize);
	if (!arr) {
		int rc = otf__perr_set(c->d->err, OTF_E_NOMEM, 0, "%zu elements", cap);
		otf__perr_push(c->d->err, rc, c->name, -1);
		c->d->pushed = true;
		return rc;
	}
	if (c->n)
		memcpy(arr, c->arr, c->n * c->esize);
	c->arr = arr;
	c->cap = cap;
	return 0;
}

static int array_elem(void *ctx, size_t i, otf__jval *v)
{
	array_ctx *c = ctx;
	otf__jdec *d = c->d;
	int rc;
	if (i >= c->cap && (rc = array_grow(c)) != 0)
		return rc;
	c->n = i + 1;
	rc = v->type != OTF__JT_NULL
	         ? c->fn(d, v, c->arr + i * c->esize)
	         : otf__perr_set(d->err, OTF_E_JSON_TYPE, 0, "null array element");
	if (rc && rc != OTF__JSJ_SYNTAX) {
		otf__perr_push(d->err, rc, c->name, (long)i);
		d->pushed = true;
	}
	return rc;
}

int otf__jdec_array(otf__jdec *d, otf__jval *v, const char *name, size_t esize, void *items_ptr,
                    size_t *len, otf__jelem_fn fn)
{
	if (v->type != OTF__JT_ARRAY) {
		int rc = type_error(d, "array", v);
		otf__perr_push(d->err, rc, name, -1);
		d->pushed = true;
		return rc;
	}
	array_ctx c = {d, fn, name, esize, NULL, 0, 0};
	int rc = otf__jsj_array(v, NULL, array_elem, &c);
	if (rc)
		return rc;
	memcpy(items_ptr, &c.arr, sizeof c.arr);
	*len = c.n;
	return 0;
}

/* ---- scalars ---- */

int otf__jdec_string(otf__jdec *d, otf__jval *v, otf_bytes_t *out)
{
	if (v->type != OTF__JT_STRING)
		return type_error(d, "string", v);
	const char *s = v->s;
	size_t n = v->n;
	/* The parser checked the UTF-8 of the whole input, unless it held
	 * invalid bytes (see otf__jdec.fixed): then the input's own bytes of
	 * this string are checked (escapes are ASCII, so valid either way). */
	if (d->fixed) {
		const char *q0 = d->json + v->off + 1, *q = q0, *end = d->json + d->len;
		while (q < end && *q != '"')
			q += *q == '\\' && end - q > 1 ? 2 : 1;
		if (!otf__utf8_valid((const uint8_t *)q0, (size_t)(q - q0)))
			return otf__perr_set(d->err, OTF_E_UTF8, 0, "invalid UTF-8 bytes");
	}
	/* a lone surrogate escape decoded to U+FFFD; see otf__jdec */
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

int otf__jdec_id(otf__jdec *d, otf__jval *v, otf_bytes_t *out, size_t id_len)
{
	if (v->type != OTF__JT_STRING)
		return type_error(d, "hex string", v);
	const char *s = v->s;
	size_t n = v->n;
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
	int bad = 0;
	for (size_t i = 0; i < id_len; i++) {
		int hi = hex_digit((unsigned char)s[2 * i]);
		int lo = hex_digit((unsigned char)s[2 * i + 1]);
		bad |= hi | lo;
		p[i] = (uint8_t)((unsigned)hi << 4 | (unsigned)lo); /* garbage when bad */
	}
	if (bad < 0) {
		for (size_t i = 0; i < n; i++)
			if (hex_digit((unsigned char)s[i]) < 0)
				return otf__perr_set(d->err, OTF_E_HEX, 0,
				                     "non-hex character at %zu", i);
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

int otf__jdec_base64(otf__jdec *d, otf__jval *v, otf_bytes_t *out)
{
	if (v->type != OTF__JT_STRING)
		return type_error(d, "base64 string", v);
	const char *s = v->s;
	size_t n = v->n;
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

int otf__jdec_bool(otf__jdec *d, otf__jval *v, bool *out)
{
	if (v->type != OTF__JT_BOOL)
		return type_error(d, "boolean", v);
	*out = v->b;
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

/* The sign and magnitude of an integer number's text (checked by the
 * parser: -?digits); false beyond 64 bits. */
static bool int_text(const otf__jval *v, bool *neg, uint64_t *mag)
{
	const char *s = v->s;
	if (v->n <= 19) { /* no overflow possible */
		size_t i = s[0] == '-' ? 1 : 0;
		uint64_t m = 0;
		for (; i < v->n; i++)
			m = m * 10 + (unsigned)(s[i] - '0');
		*neg = s[0] == '-';
		*mag = m;
		return true;
	}
	size_t i = s[0] == '-' ? 1 : 0;
	uint64_t m = 0;
	for (; i < v->n; i++) {
		unsigned dg = (unsigned)(s[i] - '0');
		if (m > (UINT64_MAX - dg) / 10)
			return false;
		m = m * 10 + dg;
	}
	*neg = s[0] == '-';
	*mag = m;
	return true;
}

/* A number's text as a double (correctly rounded by strtod, as json-c did).
 * The text is followed by a delimiter or the input's NUL padding, so strtod
 * stops at its end. */
static double num_double(const otf__jval *v)
{
	return v->has_d ? v->d : strtod(v->s, NULL);
}

/* At most 19 decimal digits (so no overflow) as a number; false otherwise. */
static inline bool digits19(const char *s, size_t n, uint64_t *out)
{
	if (n == 0 || n > 19)
		return false;
	uint64_t m = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned dg = (unsigned)(unsigned char)s[i] - '0';
		if (dg > 9)
			return false;
		m = m * 10 + dg;
	}
	*out = m;
	return true;
}

/* Any integer form (number, integral double, decimal or exponent string) as
 * sign and magnitude. */
static int get_int(otf__jdec *d, otf__jval *v, bool *neg, uint64_t *mag)
{
	switch (v->type) {
	case OTF__JT_INT:
		if (!int_text(v, neg, mag))
			return otf__perr_set(d->err, OTF_E_RANGE, 0, "integer beyond 64 bits");
		return 0;
	case OTF__JT_DOUBLE:
		if (!double_to_int(num_double(v), neg, mag))
			return otf__perr_set(d->err, OTF_E_RANGE, 0,
			                     "%.17g is not a 64-bit integer", num_double(v));
		return 0;
	case OTF__JT_STRING: {
		const char *s = v->s;
		size_t n = v->n;
		/* the common form: a decimal string of a uint64 timestamp */
		if (n && digits19(s + (s[0] == '-'), n - (s[0] == '-'), mag)) {
			*neg = s[0] == '-';
			return 0;
		}
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

static int range_error(otf__jdec *d, bool neg, uint64_t mag, const char *type)
{
	return otf__perr_set(d->err, OTF_E_RANGE, 0, "%s%llu out of range for %s", neg ? "-" : "",
	                     (unsigned long long)mag, type);
}

int otf__jdec_u32(otf__jdec *d, otf__jval *v, uint32_t *out)
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

int otf__jdec_i32(otf__jdec *d, otf__jval *v, int32_t *out)
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

int otf__jdec_u64(otf__jdec *d, otf__jval *v, uint64_t *out)
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

int otf__jdec_i64(otf__jdec *d, otf__jval *v, int64_t *out)
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

int otf__jdec_double(otf__jdec *d, otf__jval *v, double *out)
{
	switch (v->type) {
	case OTF__JT_INT: {
		bool neg;
		uint64_t mag;
		*out = !int_text(v, &neg, &mag) ? num_double(v)
		       : neg && mag             ? -(double)mag
		                                : (double)mag;
		return 0;
	}
	case OTF__JT_DOUBLE: {
		double x = num_double(v);
		/* An overflowing literal (1e400) reads as infinity; OTLP/JSON spells
		 * infinity as a string. */
		if (isinf(x))
			return otf__perr_set(d->err, OTF_E_RANGE, 0, "number overflows a double");
		*out = x;
		return 0;
	}
	case OTF__JT_STRING: {
		const char *s = v->s;
		size_t n = v->n;
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

int otf__jdec_enum(otf__jdec *d, otf__jval *v, const char *const *names, size_t n, int32_t *out)
{
	if (v->type == OTF__JT_STRING) {
		/* compared as a C string, up to an escaped NUL */
		const char *s = v->s;
		size_t sn = strnlen(s, v->n);
		if (sn && isalpha((unsigned char)s[0])) {
			for (size_t i = 0; i < n; i++) {
				if (strlen(names[i]) == sn && !memcmp(s, names[i], sn)) {
					*out = (int32_t)i;
					return 0;
				}
			}
			return otf__perr_set(d->err, OTF_E_JSON_TYPE, 0, "unknown enum value name");
		}
	}
	return otf__jdec_i32(d, v, out);
}

/* ---- shared messages ---- */

static int kv_field(otf__jdec *d, const char *k, otf__jval *v, void *out)
{
	otf_key_value_t *kv = out;
	if (!strcmp(k, "key"))
		return otf__jdec_string(d, v, &kv->key);
	if (!strcmp(k, "value"))
		return otf__jdec_any(d, v, &kv->value);
	return 0;
}

static int kv_elem(otf__jdec *d, otf__jval *v, void *elem)
{
	return otf__jdec_object(d, v, kv_field, elem);
}

int otf__jdec_attributes(otf__jdec *d, otf__jval *v, const char *name, otf_attributes_t *out)
{
	return otf__jdec_array(d, v, name, sizeof *out->items, &out->items, &out->len, kv_elem);
}

static int array_value_field(otf__jdec *d, const char *k, otf__jval *v, void *out)
{
	otf_any_value_t *a = out;
	if (!strcmp(k, "values"))
		return otf__jdec_array(d, v, "values", sizeof *a->u.array_value.values,
		                       &a->u.array_value.values, &a->u.array_value.values_len,
		                       otf__jdec_any);
	return 0;
}

static int kvlist_value_field(otf__jdec *d, const char *k, otf__jval *v, void *out)
{
	otf_any_value_t *a = out;
	if (!strcmp(k, "values"))
		return otf__jdec_array(d, v, "values", sizeof *a->u.kvlist_value.values,
		                       &a->u.kvlist_value.values, &a->u.kvlist_value.values_len,
		                       kv_elem);
	return 0;
}

static int any_field(otf__jdec *d, const char *k, otf__jval *v, void *out)
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
		return otf__jdec_string(d, v, &a->u.string_value);
	case OTF_ANY_BOOL:
		return otf__jdec_bool(d, v, &a->u.bool_value);
	case OTF_ANY_INT:
		return otf__jdec_i64(d, v, &a->u.int_value);
	case OTF_ANY_DOUBLE:
		return otf__jdec_double(d, v, &a->u.double_value);
	case OTF_ANY_ARRAY:
		return otf__jdec_object(d, v, array_value_field, a);
	case OTF_ANY_KVLIST:
		return otf__jdec_object(d, v, kvlist_value_field, a);
	case OTF_ANY_BYTES:
		return otf__jdec_base64(d, v, &a->u.bytes_value);
	case OTF_ANY_EMPTY:
		break;
	}
	return 0;
}

int otf__jdec_any(otf__jdec *d, otf__jval *v, void *out)
{
	if (++d->depth > d->max_depth)
		return otf__perr_set(d->err, OTF_E_DEPTH, 0, "AnyValue nesting deeper than %u",
		                     d->max_depth);
	int rc = otf__jdec_object(d, v, any_field, out);
	d->depth--;
	return rc;
}

static int string_elem(otf__jdec *d, otf__jval *v, void *elem)
{
	return otf__jdec_string(d, v, elem);
}

static int entity_ref_field(otf__jdec *d, const char *k, otf__jval *v, void *out)
{
	otf_entity_ref_t *e = out;
	if (!strcmp(k, "schemaUrl"))
		return otf__jdec_string(d, v, &e->schema_url);
	if (!strcmp(k, "type"))
		return otf__jdec_string(d, v, &e->type);
	if (!strcmp(k, "idKeys"))
		return otf__jdec_array(d, v, k, sizeof *e->id_keys.items, &e->id_keys.items,
		                       &e->id_keys.len, string_elem);
	if (!strcmp(k, "descriptionKeys"))
		return otf__jdec_array(d, v, k, sizeof *e->description_keys.items,
		                       &e->description_keys.items, &e->description_keys.len,
		                       string_elem);
	return 0;
}

static int entity_ref_elem(otf__jdec *d, otf__jval *v, void *elem)
{
	return otf__jdec_object(d, v, entity_ref_field, elem);
}

static int resource_field(otf__jdec *d, const char *k, otf__jval *v, void *out)
{
	otf_resource_t *r = out;
	if (!strcmp(k, "attributes"))
		return otf__jdec_attributes(d, v, k, &r->attributes);
	if (!strcmp(k, "droppedAttributesCount"))
		return otf__jdec_u32(d, v, &r->dropped_attributes_count);
	if (!strcmp(k, "entityRefs"))
		return otf__jdec_array(d, v, k, sizeof *r->entity_refs, &r->entity_refs,
		                       &r->entity_refs_len, entity_ref_elem);
	return 0;
}

int otf__jdec_resource(otf__jdec *d, otf__jval *v, void *out)
{
	return otf__jdec_object(d, v, resource_field, out);
}

static int scope_field(otf__jdec *d, const char *k, otf__jval *v, void *out)
{
	otf_scope_t *s = out;
	if (!strcmp(k, "name"))
		return otf__jdec_string(d, v, &s->name);
	if (!strcmp(k, "version"))
		return otf__jdec_string(d, v, &s->version);
	if (!strcmp(k, "attributes"))
		return otf__jdec_attributes(d, v, k, &s->attributes);
	if (!strcmp(k, "droppedAttributesCount"))
		return otf__jdec_u32(d, v, &s->dropped_attributes_count);
	return 0;
}

int otf__jdec_scope(otf__jdec *d, otf__jval *v, void *out)
{
	return otf__jdec_object(d, v, scope_field, out);
}
