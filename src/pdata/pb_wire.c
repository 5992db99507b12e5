/* Protobuf wire primitives: slow paths of varint decoding, field skipping,
 * UTF-8 validation and the back-to-front writer's buffer management. */
#include "pb_wire.h"

int otf__pb_varint_slow(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	const uint8_t *p = *pp;
	uint64_t r = 0;
	for (int i = 0; i < 10; i++) {
		if (p >= end)
			return OTF_E_TRUNCATED;
		uint8_t b = *p++;
		if (i == 9 && b > 1)
			return OTF_E_VARINT; /* bits beyond 64 */
		r |= (uint64_t)(b & 0x7f) << (7 * i);
		if (b < 0x80) {
			*v = r;
			*pp = p;
			return 0;
		}
	}
	return OTF_E_VARINT;
}

int otf__pb_skip(const uint8_t **pp, const uint8_t *end, uint32_t wt)
{
	uint64_t v;
	const uint8_t *sub;
	size_t n;
	switch (wt) {
	case OTF_WT_VARINT:
		return otf__pb_varint(pp, end, &v);
	case OTF_WT_I64:
		if (end - *pp < 8)
			return OTF_E_TRUNCATED;
		*pp += 8;
		return 0;
	case OTF_WT_LEN:
		return otf__pb_len(pp, end, &sub, &n);
	case OTF_WT_I32:
		if (end - *pp < 4)
			return OTF_E_TRUNCATED;
		*pp += 4;
		return 0;
	default:
		return OTF_E_WIRETYPE;
	}
}

bool otf__utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		/* ASCII fast path, 8 bytes at a time. */
		if (n - i >= 8) {
			uint64_t x;
			memcpy(&x, s + i, 8);
			if ((x & 0x8080808080808080ull) == 0) {
				i += 8;
				continue;
			}
		}
		uint8_t c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t len;
		uint32_t cp;
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			uint8_t cc = s[i + k];
			if ((cc & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (cc & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

int otf__pb_wr_init(otf__pb_wr *w, size_t initial)
{
	if (initial < 256)
		initial = 256;
	w->buf = otf_buf_create(initial);
	w->err = 0;
	if (!w->buf) {
		w->base = w->p = NULL;
		w->err = OTF_E_NOMEM;
		return w->err;
	}
	w->base = w->buf->data;
	w->p = w->base + initial;
	return 0;
}

int otf__pb_wr_grow(otf__pb_wr *w, size_t n)
{
	if (w->err)
		return w->err;
	size_t used = otf__pb_wr_size(w);
	size_t cap = w->buf->cap;
	size_t ncap = cap * 2;
	while (ncap - used < n) {
		if (ncap > SIZE_MAX / 4) {
			w->err = OTF_E_NOMEM;
			return w->err;
		}
		ncap *= 2;
	}
	otf_buf_t *nb = otf_buf_create(ncap);
	if (!nb) {
		w->err = OTF_E_NOMEM;
		return w->err;
	}
	memcpy(nb->data + ncap - used, w->p, used);
	otf_buf_unref(w->buf);
	w->buf = nb;
	w->base = nb->data;
	w->p = nb->data + ncap - used;
	return 0;
}

int otf__pb_wr_finish(otf__pb_wr *w, otf_buf_t **out)
{
	if (w->err) {
		otf__pb_wr_abort(w);
		return w->err;
	}
	size_t used = otf__pb_wr_size(w);
	memmove(w->base, w->p, used);
	w->buf->len = used;
	*out = w->buf;
	w->buf = NULL;
	return 0;
}

void otf__pb_wr_abort(otf__pb_wr *w)
{
	otf_buf_unref(w->buf);
	w->buf = NULL;
	w->base = w->p = NULL;
}
