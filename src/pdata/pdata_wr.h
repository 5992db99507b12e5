/* Forward writer shared by the byte editors (pdata_edit.c,
 * pdata_rewrite.c): a growable otf_buf_t written front to back, and the
 * length prefix of an enclosing message written with room for its old
 * size, moved only when the new size needs another varint width. */
#ifndef OTF_PDATA_WR_H
#define OTF_PDATA_WR_H

#include "otflow/buf.h"
#include "otflow/err.h"
#include "pb_wire.h"

#include <string.h>

typedef struct wr {
	otf_buf_t *buf;
} wr_t;

static inline int need(wr_t *w, size_t n)
{
	if (OTF_LIKELY(w->buf->cap - w->buf->len >= n))
		return 0;
	size_t cap = w->buf->cap * 2;
	if (cap < w->buf->len + n)
		cap = w->buf->len + n;
	return otf_buf_reserve(&w->buf, cap) ? OTF_E_NOMEM : 0;
}

static inline void put(wr_t *w, const void *p, size_t n)
{
	if (n)
		memcpy(w->buf->data + w->buf->len, p, n);
	w->buf->len += n;
}

static inline size_t varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static inline size_t varint_put(uint8_t *d, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		d[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	d[n++] = (uint8_t)v;
	return n;
}

static inline void put_varint(wr_t *w, uint64_t v)
{
	w->buf->len += varint_put(w->buf->data + w->buf->len, v);
}

/* Opens a length-delimited field on the path whose contents were olen
 * bytes: its tag bytes, then room for a length of the same varint size
 * (edits rarely change it). Returns the offset of the contents. */
static inline int open_len(wr_t *w, const uint8_t *tag, size_t taglen, size_t olen, size_t *at,
                           uint8_t *room)
{
	*room = (uint8_t)varint_len(olen);
	int rc = need(w, taglen + *room);
	if (rc)
		return rc;
	put(w, tag, taglen);
	w->buf->len += *room;
	*at = w->buf->len;
	return 0;
}

/* Puts the length in front of the contents, moving them when its varint
 * does not fit the room left for it. */
static inline int close_len(wr_t *w, size_t at, uint8_t room)
{
	size_t n = w->buf->len - at;
	uint8_t v[10];
	size_t vl = varint_put(v, n);
	if (OTF_UNLIKELY(vl != room)) {
		if (vl > room) {
			int rc = need(w, vl - room);
			if (rc)
				return rc;
		}
		uint8_t *c = w->buf->data + at;
		memmove(c - room + vl, c, n);
		w->buf->len = w->buf->len + vl - room;
	}
	memcpy(w->buf->data + at - room, v, vl);
	return 0;
}

/* otf__pb_skip with the common wire types inline; the rest (groups, which
 * the decoder refuses too) gets its error there. */
static inline int skip(const uint8_t **pp, const uint8_t *end, uint32_t wt)
{
	const uint8_t *p = *pp;
	switch (wt) {
	case OTF_WT_VARINT:
		for (int i = 0; i < 10 && p < end; i++)
			if (*p++ < 0x80) {
				*pp = p;
				return 0;
			}
		break;
	case OTF_WT_I64:
		if (end - p >= 8) {
			*pp = p + 8;
			return 0;
		}
		break;
	case OTF_WT_I32:
		if (end - p >= 4) {
			*pp = p + 4;
			return 0;
		}
		break;
	case OTF_WT_LEN: {
		const uint8_t *sub;
		size_t n;
		return otf__pb_len(pp, end, &sub, &n);
	}
	default:
		break;
	}
	return otf__pb_skip(pp, end, wt);
}

#endif
