/* Protobuf wire primitives shared by the decoder, the views and the encoder.
 * Internal header (otf__ prefix for cross-file symbols).
 *
 * Reading: functions take a cursor (const uint8_t **pp) and an end pointer,
 * advance the cursor on success and return 0 or a negative OTF_E_* code.
 * They never read at or past end.
 *
 * Writing: otf__pb_wr writes back to front into a growable buffer, so a
 * length-delimited field is written as: note the size, write the contents,
 * then write the length and the tag in front. Every message is written once
 * with minimal varints and no sizing pass.
 */
#ifndef OTF_PDATA_PB_WIRE_H
#define OTF_PDATA_PB_WIRE_H

#include "otflow/buf.h"
#include "otflow/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum {
	OTF_WT_VARINT = 0,
	OTF_WT_I64 = 1,
	OTF_WT_LEN = 2,
	OTF_WT_SGROUP = 3,
	OTF_WT_EGROUP = 4,
	OTF_WT_I32 = 5,
};

#if defined(__GNUC__)
#define OTF_LIKELY(x)   __builtin_expect(!!(x), 1)
#define OTF_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define OTF_LIKELY(x)   (x)
#define OTF_UNLIKELY(x) (x)
#endif

int otf__pb_varint_slow(const uint8_t **pp, const uint8_t *end, uint64_t *v);

static inline int otf__pb_varint(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	const uint8_t *p = *pp;
	if (OTF_LIKELY(p < end && p[0] < 0x80)) {
		*v = p[0];
		*pp = p + 1;
		return 0;
	}
	if (OTF_LIKELY(end - p >= 2 && p[1] < 0x80)) {
		*v = (uint64_t)(p[0] & 0x7f) | ((uint64_t)p[1] << 7);
		*pp = p + 2;
		return 0;
	}
	return otf__pb_varint_slow(pp, end, v);
}

/* Reads a tag; field number in *field (1..2^29-1), wire type in *wt. */
static inline int otf__pb_tag(const uint8_t **pp, const uint8_t *end, uint32_t *field, uint32_t *wt)
{
	uint64_t t;
	int rc = otf__pb_varint(pp, end, &t);
	if (OTF_UNLIKELY(rc))
		return rc;
	if (OTF_UNLIKELY(t > 0xffffffffu || (t >> 3) == 0))
		return OTF_E_FIELD_NUMBER;
	*field = (uint32_t)(t >> 3);
	*wt = (uint32_t)(t & 7);
	return 0;
}

/* Reads a length prefix and returns the delimited range [*sub, *sub + *n). */
static inline int otf__pb_len(const uint8_t **pp, const uint8_t *end, const uint8_t **sub,
                              size_t *n)
{
	uint64_t l;
	int rc = otf__pb_varint(pp, end, &l);
	if (OTF_UNLIKELY(rc))
		return rc;
	if (OTF_UNLIKELY(l > (uint64_t)(end - *pp)))
		return OTF_E_LENGTH;
	*sub = *pp;
	*n = (size_t)l;
	*pp += l;
	return 0;
}

static inline int otf__pb_fixed64(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	if (OTF_UNLIKELY(end - *pp < 8))
		return OTF_E_TRUNCATED;
	uint64_t x;
	memcpy(&x, *pp, 8); /* little-endian hosts only; checked in CMake */
	*v = x;
	*pp += 8;
	return 0;
}

static inline int otf__pb_fixed32(const uint8_t **pp, const uint8_t *end, uint32_t *v)
{
	if (OTF_UNLIKELY(end - *pp < 4))
		return OTF_E_TRUNCATED;
	uint32_t x;
	memcpy(&x, *pp, 4);
	*v = x;
	*pp += 4;
	return 0;
}

static inline double otf__pb_u64_to_double(uint64_t v)
{
	double d;
	memcpy(&d, &v, 8);
	return d;
}

static inline uint64_t otf__pb_double_to_u64(double d)
{
	uint64_t v;
	memcpy(&v, &d, 8);
	return v;
}

static inline int32_t otf__pb_zigzag32(uint64_t v)
{
	uint32_t u = (uint32_t)v;
	return (int32_t)((u >> 1) ^ (~(u & 1) + 1));
}

static inline uint32_t otf__pb_unzigzag32(int32_t v)
{
	return ((uint32_t)v << 1) ^ (0u - ((uint32_t)v >> 31));
}

/* Skips one field of wire type wt (the tag already read). Groups are
 * rejected: proto3 has none and OTLP never uses them. */
int otf__pb_skip(const uint8_t **pp, const uint8_t *end, uint32_t wt);

/* true when [s, s+n) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool otf__utf8_valid(const uint8_t *s, size_t n);

/* ---- back-to-front writer ---- */

typedef struct otf__pb_wr {
	otf_buf_t *buf; /* data lives in buf->data[pos .. cap) */
	uint8_t *p;     /* first written byte */
	uint8_t *base;  /* buf->data */
	int err;        /* sticky: first error, further writes are no-ops */
} otf__pb_wr;

int otf__pb_wr_init(otf__pb_wr *w, size_t initial);
/* Grows so that at least n bytes are free in front of p; sets w->err. */
int otf__pb_wr_grow(otf__pb_wr *w, size_t n);
/* Moves the written bytes to the front of the buffer and hands it over. */
int otf__pb_wr_finish(otf__pb_wr *w, otf_buf_t **out);
void otf__pb_wr_abort(otf__pb_wr *w);

static inline size_t otf__pb_wr_size(const otf__pb_wr *w)
{
	return (size_t)((w->base + w->buf->cap) - w->p);
}

static inline bool otf__pb_wr_need(otf__pb_wr *w, size_t n)
{
	if (OTF_LIKELY((size_t)(w->p - w->base) >= n))
		return true;
	return otf__pb_wr_grow(w, n) == 0;
}

static inline void otf__pb_put_varint(otf__pb_wr *w, uint64_t v)
{
	if (!otf__pb_wr_need(w, 10))
		return;
	if (v < 0x80) {
		*--w->p = (uint8_t)v;
		return;
	}
	uint8_t tmp[10];
	int n = 0;
	while (v >= 0x80) {
		tmp[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	tmp[n++] = (uint8_t)v;
	w->p -= n;
	memcpy(w->p, tmp, (size_t)n);
}

static inline void otf__pb_put_tag(otf__pb_wr *w, uint32_t field, uint32_t wt)
{
	otf__pb_put_varint(w, ((uint64_t)field << 3) | wt);
}

static inline void otf__pb_put_raw(otf__pb_wr *w, const void *src, size_t n)
{
	if (!otf__pb_wr_need(w, n))
		return;
	w->p -= n;
	if (n)
		memcpy(w->p, src, n);
}

static inline void otf__pb_put_fixed64(otf__pb_wr *w, uint64_t v)
{
	otf__pb_put_raw(w, &v, 8);
}

static inline void otf__pb_put_fixed32(otf__pb_wr *w, uint32_t v)
{
	otf__pb_put_raw(w, &v, 4);
}

/* Writes length prefix + tag for a LEN field whose contents were written
 * since otf__pb_wr_size() returned mark. */
static inline void otf__pb_put_len_field(otf__pb_wr *w, uint32_t field, size_t mark)
{
	otf__pb_put_varint(w, otf__pb_wr_size(w) - mark);
	otf__pb_put_tag(w, field, OTF_WT_LEN);
}

/* Field helpers that omit proto3 default values. */
static inline void otf__pb_field_bytes(otf__pb_wr *w, uint32_t field, const uint8_t *s, size_t n)
{
	if (!n)
		return;
	otf__pb_put_raw(w, s, n);
	otf__pb_put_varint(w, n);
	otf__pb_put_tag(w, field, OTF_WT_LEN);
}

static inline void otf__pb_field_varint(otf__pb_wr *w, uint32_t field, uint64_t v)
{
	if (!v)
		return;
	otf__pb_put_varint(w, v);
	otf__pb_put_tag(w, field, OTF_WT_VARINT);
}

static inline void otf__pb_field_fixed64(otf__pb_wr *w, uint32_t field, uint64_t v)
{
	if (!v)
		return;
	otf__pb_put_fixed64(w, v);
	otf__pb_put_tag(w, field, OTF_WT_I64);
}

static inline void otf__pb_field_fixed32(otf__pb_wr *w, uint32_t field, uint32_t v)
{
	if (!v)
		return;
	otf__pb_put_fixed32(w, v);
	otf__pb_put_tag(w, field, OTF_WT_I32);
}

/* Double fields are omitted when +0.0 (bit pattern 0), as proto3 does;
 * -0.0 is written. */
static inline void otf__pb_field_double(otf__pb_wr *w, uint32_t field, double d)
{
	otf__pb_field_fixed64(w, field, otf__pb_double_to_u64(d));
}

#endif
