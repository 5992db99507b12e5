/* Protobuf base-128 varints written front to back (protobuf encoding
 * guide, "Base 128 Varints"), for code that builds small messages or
 * prefixes in a flat buffer it sized itself: a gRPC status detail, a
 * request's re-written lengths, a Kafka record's OTLP wrapper. The
 * encoder's back-to-front writer is pb_wire.h / pb_encode_internal.h.
 * Internal header (otf__ prefix). */
#ifndef OTF_PDATA_PB_VARINT_H
#define OTF_PDATA_PB_VARINT_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of v as a varint (1..10). */
static inline size_t otf__pb_varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Writes v at p, which has room for otf__pb_varint_len(v) bytes; returns
 * the byte after it. */
static inline uint8_t *otf__pb_varint_put(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

#endif
