/* Low-level OTLP/JSON writer: buffer growth, string escaping, numbers, hex
 * ids, base64 bytes. Deliberately not json-c: the encoder is on the export
 * hot path and needs no intermediate tree. */
#include "json_internal.h"

#include "otflow/err.h"
#include "pb_wire.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int otf__jw_init(otf__jw *w, size_t initial)
{
	w->err = 0;
	w->buf = otf_buf_create(initial ? initial : 256);
	if (!w->buf) {
		w->err = OTF_E_NOMEM;
		return OTF_E_NOMEM;
	}
	return 0;
}

int otf__jw_finish(otf__jw *w, otf_buf_t **out)
{
	if (w->err) {
		otf_buf_unref(w->buf);
		w->buf = NULL;
		return w->err;
	}
	*out = w->buf;
	w->buf = NULL;
	return 0;
}

bool otf__jw_grow(otf__jw *w, size_t n)
{
	if (w->err)
		return false;
	if (n > SIZE_MAX - w->buf->len) {
		w->err = OTF_E_NOMEM;
		return false;
	}
	int rc = otf_buf_reserve(&w->buf, w->buf->len + n);
	if (rc) {
		w->err = OTF_E_NOMEM;
		return false;
	}
	return true;
}

void otf__jw_key(otf__jw *w, const char *key)
{
	size_t n = strlen(key);
	if (!otf__jw_need(w, n + 4))
		return;
	otf__jw_sep(w);
	uint8_t *p = w->buf->data + w->buf->len;
	*p++ = '"';
	memcpy(p, key, n);
	p += n;
	*p++ = '"';
	*p++ = ':';
	w->buf->len = (size_t)(p - w->buf->data);
}

/* Length of the valid UTF-8 sequence starting at s (n > 0 bytes left), or 0
 * when the bytes there are not valid UTF-8. */
static size_t utf8_seq(const uint8_t *s, size_t n)
{
	uint8_t c = s[0];
	if (c < 0x80)
		return 1;
	size_t len = c >= 0xc2 && c <= 0xdf   ? 2
	             : c >= 0xe0 && c <= 0xef ? 3
	             : c >= 0xf0 && c <= 0xf4 ? 4
	                                      : 0;
	if (!len || n < len)
		return 0;
	return otf__utf8_valid(s, len) ? len : 0;
}

static bool plain(uint8_t c)
{
	return c >= 0x20 && c != '"' && c != '\\';
}

static void put_escape(otf__jw *w, uint8_t c)
{
	static const char hex[] = "0123456789abcdef";
	char e[6] = {'\\', 0, 0, 0, 0, 0};
	size_t n = 2;
	switch (c) {
	case '"':
		e[1] = '"';
		break;
	case '\\':
		e[1] = '\\';
		break;
	case '\n':
		e[1] = 'n';
		break;
	case '\r':
		e[1] = 'r';
		break;
	case '\t':
		e[1] = 't';
		break;
	case '\b':
		e[1] = 'b';
		break;
	case '\f':
		e[1] = 'f';
		break;
	default:
		e[1] = 'u';
		e[2] = '0';
		e[3] = '0';
		e[4] = hex[c >> 4];
		e[5] = hex[c & 15];
		n = 6;
	}
	otf__jw_raw(w, e, n);
}

void otf__jw_str(otf__jw *w, const uint8_t *s, size_t n)
{
	otf__jw_ch(w, '"');
	/* Valid input (the normal case: decoders validate) only needs the ASCII
	 * escapes; otherwise each invalid byte becomes U+FFFD. */
	bool valid = otf__utf8_valid(s, n);
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		if (valid) {
			while (j < n && plain(s[j]))
				j++;
		} else {
			while (j < n && s[j] < 0x80 && plain(s[j]))
				j++;
		}
		otf__jw_raw(w, (const char *)s + i, j - i);
		if (j == n)
			break;
		uint8_t c = s[j];
		if (!plain(c)) {
			put_escape(w, c);
			i = j + 1;
			continue;
		}
		/* Non-ASCII byte in a string that is not valid UTF-8. */
		size_t l = utf8_seq(s + j, n - j);
		if (l) {
			otf__jw_raw(w, (const char *)s + j, l);
			i = j + l;
		} else {
			otf__jw_raw(w, "\xef\xbf\xbd", 3);
			i = j + 1;
		}
	}
	otf__jw_ch(w, '"');
}

static size_t fmt_u64(char *end, uint64_t v)
{
	char *p = end;
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return (size_t)(end - p);
}

static void put_int(otf__jw *w, uint64_t mag, bool neg, bool quoted)
{
	char b[24];
	char *end = b + sizeof b;
	size_t n = fmt_u64(end - (quoted ? 1 : 0), mag);
	char *p = end - (quoted ? 1 : 0) - n;
	if (neg) {
		*--p = '-';
		n++;
	}
	if (quoted) {
		*--p = '"';
		end[-1] = '"';
		n += 2;
	}
	otf__jw_raw(w, p, n);
}

void otf__jw_u64(otf__jw *w, uint64_t v)
{
	put_int(w, v, false, false);
}

void otf__jw_i64(otf__jw *w, int64_t v)
{
	/* Magnitude via unsigned negation so INT64_MIN is fine. */
	put_int(w, v < 0 ? 0u - (uint64_t)v : (uint64_t)v, v < 0, false);
}

void otf__jw_u64s(otf__jw *w, uint64_t v)
{
	put_int(w, v, false, true);
}

void otf__jw_i64s(otf__jw *w, int64_t v)
{
	put_int(w, v < 0 ? 0u - (uint64_t)v : (uint64_t)v, v < 0, true);
}

void otf__jw_double(otf__jw *w, double v)
{
	if (isnan(v)) {
		otf__jw_raw(w, "\"NaN\"", 5);
		return;
	}
	if (isinf(v)) {
		if (v > 0)
			otf__jw_raw(w, "\"Infinity\"", 10);
		else
			otf__jw_raw(w, "\"-Infinity\"", 11);
		return;
	}
	/* "-0" would read back as the integer 0 in many parsers (json-c
	 * included), losing the sign. */
	if (v == 0 && signbit(v)) {
		otf__jw_raw(w, "-0.0", 4);
		return;
	}
	/* Shortest of 15/16/17 significant digits that reads back exactly; 17
	 * always does. */
	char b[40];
	int n = 0;
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(b, sizeof b, "%.*g", prec, v);
		if (prec == 17 || strtod(b, NULL) == v)
			break;
	}
	otf__jw_raw(w, b, (size_t)n);
}

void otf__jw_hex(otf__jw *w, const uint8_t *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	if (n > (SIZE_MAX - 2) / 2 || !otf__jw_need(w, 2 * n + 2))
		return;
	uint8_t *p = w->buf->data + w->buf->len;
	*p++ = '"';
	for (size_t i = 0; i < n; i++) {
		*p++ = (uint8_t)hex[s[i] >> 4];
		*p++ = (uint8_t)hex[s[i] & 15];
	}
	*p++ = '"';
	w->buf->len = (size_t)(p - w->buf->data);
}

void otf__jw_base64(otf__jw *w, const uint8_t *s, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t out = (n / 3 + (n % 3 != 0)) * 4;
	if (n > SIZE_MAX / 2 || !otf__jw_need(w, out + 2))
		return;
	uint8_t *p = w->buf->data + w->buf->len;
	*p++ = '"';
	size_t i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t x = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		*p++ = (uint8_t)tab[x >> 18];
		*p++ = (uint8_t)tab[(x >> 12) & 63];
		*p++ = (uint8_t)tab[(x >> 6) & 63];
		*p++ = (uint8_t)tab[x & 63];
	}
	if (n - i == 1) {
		uint32_t x = (uint32_t)s[i] << 16;
		*p++ = (uint8_t)tab[x >> 18];
		*p++ = (uint8_t)tab[(x >> 12) & 63];
		*p++ = '=';
		*p++ = '=';
	} else if (n - i == 2) {
		uint32_t x = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
		*p++ = (uint8_t)tab[x >> 18];
		*p++ = (uint8_t)tab[(x >> 12) & 63];
		*p++ = (uint8_t)tab[(x >> 6) & 63];
		*p++ = '=';
	}
	*p++ = '"';
	w->buf->len = (size_t)(p - w->buf->data);
}

void otf__jw_f_str(otf__jw *w, const char *key, otf_bytes_t s)
{
	if (!s.len)
		return;
	otf__jw_key(w, key);
	otf__jw_str(w, s.ptr, s.len);
}

void otf__jw_f_u32(otf__jw *w, const char *key, uint32_t v)
{
	if (!v)
		return;
	otf__jw_key(w, key);
	otf__jw_u64(w, v);
}

void otf__jw_f_i32(otf__jw *w, const char *key, int32_t v)
{
	if (!v)
		return;
	otf__jw_key(w, key);
	otf__jw_i64(w, v);
}

void otf__jw_f_u64s(otf__jw *w, const char *key, uint64_t v)
{
	if (!v)
		return;
	otf__jw_key(w, key);
	otf__jw_u64s(w, v);
}

void otf__jw_f_double(otf__jw *w, const char *key, double v)
{
	/* proto3 presence of a plain double is "not +0.0" (bitwise), so -0.0
	 * survives a round trip. */
	uint64_t bits;
	memcpy(&bits, &v, sizeof bits);
	if (!bits)
		return;
	otf__jw_key(w, key);
	otf__jw_double(w, v);
}

void otf__jw_f_id(otf__jw *w, const char *key, otf_bytes_t id, size_t id_len)
{
	if (!id.len)
		return;
	if (id.len != id_len) {
		if (!w->err)
			w->err = OTF_E_ID_LENGTH;
		return;
	}
	otf__jw_key(w, key);
	otf__jw_hex(w, id.ptr, id.len);
}
