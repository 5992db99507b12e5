/* Protobuf encoder internals shared by pb_encode_*.c (otf__pbe prefix).
 *
 * Everything is written back to front with otf__pb_wr (pb_wire.h), so each
 * message writes its fields in DESCENDING field-number order and repeated
 * elements from last to first; the output then reads in ascending order with
 * elements in their original order. A length-delimited field is
 * `mark = otf__pb_wr_size(w); contents; otf__pbe_close(w, field, mark)`.
 *
 * Errors are sticky in w->err (NOMEM from the writer, ID_LENGTH and DEPTH
 * from the encoders); loops over repeated messages stop once it is set, and
 * otf__pb_wr_finish() turns it into the return value.
 *
 * The helpers here reserve room for a whole field once (otf__pb_wr_need)
 * and then store bytes unchecked, instead of one check per varint, because
 * the per-byte checks dominate the cost of small fields.
 */
#ifndef OTF_PDATA_PB_ENCODE_INTERNAL_H
#define OTF_PDATA_PB_ENCODE_INTERNAL_H

#include "otflow/err.h"
#include "otflow/pdata.h"
#include "otflow/pdata_codec.h"
#include "pb_wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Bytes of v as a varint (1..10). */
static inline size_t otf__pbe_varint_len(uint64_t v)
{
#if defined(__GNUC__)
	return (size_t)(((64 - __builtin_clzll(v | 1)) * 9 + 64) / 64);
#else
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
#endif
}

/* Stores v as a varint ending at p (room already reserved); returns the new
 * first byte. */
static inline uint8_t *otf__pbe_varint_at(uint8_t *p, uint64_t v)
{
	if (OTF_LIKELY(v < 0x80)) {
		*--p = (uint8_t)v;
		return p;
	}
	if (v < 0x4000) {
		p -= 2;
		p[0] = (uint8_t)(v | 0x80);
		p[1] = (uint8_t)(v >> 7);
		return p;
	}
	size_t n = otf__pbe_varint_len(v);
	p -= n;
	uint8_t *q = p;
	while (v >= 0x80) {
		*q++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*q = (uint8_t)v;
	return p;
}

/* Field keys of OTLP are all below 2^11, so a key is at most 2 bytes. */
#define OTF__PBE_KEY(field, wt) (((uint64_t)(field) << 3) | (wt))

/* Closes a LEN field whose contents were written since mark. */
static inline void otf__pbe_close(otf__pb_wr *w, uint32_t field, size_t mark)
{
	if (OTF_UNLIKELY(!otf__pb_wr_need(w, 12)))
		return;
	uint8_t *p = otf__pbe_varint_at(w->p, otf__pb_wr_size(w) - mark);
	w->p = otf__pbe_varint_at(p, OTF__PBE_KEY(field, OTF_WT_LEN));
}

/* A LEN field with the given contents, written even when empty. */
static inline void otf__pbe_bytes_always(otf__pb_wr *w, uint32_t field, const uint8_t *s, size_t n)
{
	if (OTF_UNLIKELY(!otf__pb_wr_need(w, n + 12)))
		return;
	uint8_t *p = w->p - n;
	if (n)
		memcpy(p, s, n);
	p = otf__pbe_varint_at(p, n);
	w->p = otf__pbe_varint_at(p, OTF__PBE_KEY(field, OTF_WT_LEN));
}

/* A string or bytes field; omitted when empty (proto3 default). */
static inline void otf__pbe_bytes(otf__pb_wr *w, uint32_t field, otf_bytes_t b)
{
	if (b.len)
		otf__pbe_bytes_always(w, field, b.ptr, b.len);
}

/* A trace or span id: empty (omitted) or exactly want bytes. */
static inline void otf__pbe_id(otf__pb_wr *w, uint32_t field, otf_bytes_t b, size_t want)
{
	if (!b.len)
		return;
	if (OTF_UNLIKELY(b.len != want)) {
		if (!w->err)
			w->err = OTF_E_ID_LENGTH;
		return;
	}
	otf__pbe_bytes_always(w, field, b.ptr, b.len);
}

/* A varint field written even when zero (oneof members). */
static inline void otf__pbe_varint_always(otf__pb_wr *w, uint32_t field, uint64_t v)
{
	if (OTF_UNLIKELY(!otf__pb_wr_need(w, 12)))
		return;
	uint8_t *p = otf__pbe_varint_at(w->p, v);
	w->p = otf__pbe_varint_at(p, OTF__PBE_KEY(field, OTF_WT_VARINT));
}

/* uint32/uint64/bool fields; omitted when 0. */
static inline void otf__pbe_varint(otf__pb_wr *w, uint32_t field, uint64_t v)
{
	if (v)
		otf__pbe_varint_always(w, field, v);
}

/* int32 fields and enums: negative values are sign-extended to 64 bits,
 * as protobuf requires (10 bytes on the wire). */
static inline void otf__pbe_int32(otf__pb_wr *w, uint32_t field, int32_t v)
{
	if (v)
		otf__pbe_varint_always(w, field, (uint64_t)(int64_t)v);
}

/* sint32 (zigzag) fields; omitted when 0. */
static inline void otf__pbe_sint32(otf__pb_wr *w, uint32_t field, int32_t v)
{
	if (v)
		otf__pbe_varint_always(w, field, otf__pb_unzigzag32(v));
}

/* fixed64/sfixed64/double bit patterns, written even when zero. */
static inline void otf__pbe_fixed64_always(otf__pb_wr *w, uint32_t field, uint64_t v)
{
	if (OTF_UNLIKELY(!otf__pb_wr_need(w, 10)))
		return;
	uint8_t *p = w->p - 8;
	memcpy(p, &v, 8); /* little-endian host, checked by CMake */
	w->p = otf__pbe_varint_at(p, OTF__PBE_KEY(field, OTF_WT_I64));
}

/* fixed64 fields (timestamps, counts); omitted when 0. */
static inline void otf__pbe_fixed64(otf__pb_wr *w, uint32_t field, uint64_t v)
{
	if (v)
		otf__pbe_fixed64_always(w, field, v);
}

/* double fields; omitted when +0.0 (bit pattern 0), -0.0 is written. */
static inline void otf__pbe_double(otf__pb_wr *w, uint32_t field, double d)
{
	otf__pbe_fixed64(w, field, otf__pb_double_to_u64(d));
}

/* fixed32 fields (flags); omitted when 0. */
static inline void otf__pbe_fixed32(otf__pb_wr *w, uint32_t field, uint32_t v)
{
	if (!v)
		return;
	if (OTF_UNLIKELY(!otf__pb_wr_need(w, 6)))
		return;
	uint8_t *p = w->p - 4;
	memcpy(p, &v, 4);
	w->p = otf__pbe_varint_at(p, OTF__PBE_KEY(field, OTF_WT_I32));
}

/* Packed repeated fixed64 or double (same 8-byte layout); omitted when
 * empty. The array is stored in host order, which is little-endian. */
static inline void otf__pbe_packed64(otf__pb_wr *w, uint32_t field, const void *a, size_t n)
{
	if (!n)
		return;
	if (OTF_UNLIKELY(n > SIZE_MAX / 8 - 2)) {
		if (!w->err)
			w->err = OTF_E_NOMEM;
		return;
	}
	otf__pbe_bytes_always(w, field, a, n * 8);
}

/* Packed repeated uint64 varints; omitted when empty. */
void otf__pbe_packed_varint(otf__pb_wr *w, uint32_t field, const uint64_t *a, size_t n);

/* ---- shared messages (pb_encode_common.c) ---- */

/* AnyValue contents (without its key and length) at nesting depth `depth`
 * (1 for a top-level value); OTF_E_DEPTH beyond OTF_PDATA_DEFAULT_MAX_DEPTH. */
void otf__pbe_any(otf__pb_wr *w, const otf_any_value_t *v, uint32_t depth);

/* `repeated KeyValue` field number `field` (top-level attributes, depth 1). */
void otf__pbe_attributes(otf__pb_wr *w, uint32_t field, const otf_attributes_t *a);

/* Resource and InstrumentationScope as field `field`, omitted when they
 * hold nothing: the tree cannot tell an absent message from an empty one,
 * and proto3 treats the two alike. */
void otf__pbe_resource(otf__pb_wr *w, uint32_t field, const otf_resource_t *r);
void otf__pbe_scope(otf__pb_wr *w, uint32_t field, const otf_scope_t *s);

/* One LogRecord / Span message's contents (without its key and length), for
 * callers that encode records one at a time and assemble the request
 * around them (the otlp_mmap receiver encodes each record as it drains it). */
void otf__pbe_log_record(otf__pb_wr *w, const otf_log_record_t *r);
void otf__pbe_span(otf__pb_wr *w, const otf_span_t *s);

/* Starts a writer with room for about `estimate` bytes; on failure returns
 * OTF_E_NOMEM and the writer must not be used further. */
int otf__pbe_begin(otf__pb_wr *w, size_t estimate);
/* Hands the result (or the sticky error) over; always releases w. */
int otf__pbe_end(otf__pb_wr *w, otf_buf_t **out);

#endif
