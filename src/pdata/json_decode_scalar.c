/* OTLP/JSON decoding of scalars (json_internal.h): strings, hex ids,
 * base64, 32/64-bit integers from numbers or strings, doubles with
 * NaN/Infinity, enums by number or name, as protobuf's JSON mapping
 * defines them (proto3 JSON: "JSON Mapping") with the OTLP/JSON
 * exceptions (hex ids). */
#include "json_internal.h"

#include "otflow/err.h"
#include "pb_wire.h"
#include "pdata_err.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>

int otf__jdec_string(otf__jdec *d, otf__jval *v, otf_bytes_t *out)
{
	if (v->type != OTF__JT_STRING)
		return otf__jdec_type_error(d, "string", v);
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
		return otf__jdec_type_error(d, "hex string", v);
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
		int hi = otf__jhex_digit((unsigned char)s[2 * i]);
		int lo = otf__jhex_digit((unsigned char)s[2 * i + 1]);
		bad |= hi | lo;
		p[i] = (uint8_t)((unsigned)hi << 4 | (unsigned)lo); /* garbage when bad */
	}
	if (bad < 0) {
		for (size_t i = 0; i < n; i++)
			if (otf__jhex_digit((unsigned char)s[i]) < 0)
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
		return otf__jdec_type_error(d, "base64 string", v);
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
		return otf__jdec_type_error(d, "boolean", v);
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
		return otf__jdec_type_error(d, "integer", v);
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
		return otf__jdec_type_error(d, "number", v);
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
