/* A minimal reader of otlp-mmap files for libotmmap's own tests, written from
 * docs/mmap-protocol.md (not from the SDK's sources): maps a file read-only, walks ring slots,
 * decodes protobuf fields and dictionary entries with bounds checks. Test code only. */
#ifndef OTMM_READER_H
#define OTMM_READER_H

#include <stddef.h>
#include <stdint.h>

typedef struct rd_file {
	const uint8_t *map;
	size_t len;
} rd_file_t;

typedef struct rd_field {
	uint32_t num;
	uint32_t wt;
	uint64_t v;       /* varint, fixed32, fixed64 */
	const uint8_t *p; /* length-delimited */
	size_t n;
} rd_field_t;

int rd_open(const char *path, rd_file_t *f);
void rd_close(rd_file_t *f);
int64_t rd_i64(const rd_file_t *f, uint64_t off);
uint64_t rd_ring_off(const rd_file_t *f, int ring); /* 0 events, 1 spans, 2 measurements */
/* calls fn(msg, len, arg) for every published message from reader_index+1 onwards in sequence
 * order, stopping at the first unpublished slot; returns the count, or -1 on a bad slot. With
 * `advance`, stores reader_index (the file must be mapped writable: rd_open_rw). */
typedef void (*rd_msg_fn)(const uint8_t *msg, size_t len, void *arg);
long rd_ring_each(const rd_file_t *f, int ring, rd_msg_fn fn, void *arg);
/* drains the ring (advancing reader_index) from a writable mapping of the same file */
long rd_ring_drain(uint8_t *map, int ring, rd_msg_fn fn, void *arg);
/* iterate fields: returns 1 with *fl filled, 0 at end, -1 on malformed input */
int rd_next(const uint8_t **p, const uint8_t *end, rd_field_t *fl);
/* first field `num` in msg; 1 found, 0 not */
int rd_get(const uint8_t *msg, size_t n, uint32_t num, rd_field_t *fl);
/* dictionary entry bytes at ref; NULL when out of bounds */
const uint8_t *rd_dict(const rd_file_t *f, int64_t ref, size_t *n);
/* 1 when the dictionary string at ref equals s */
int rd_dict_streq(const rd_file_t *f, int64_t ref, const char *s);
/* value of attribute `key` in the KeyValueRef fields number `field` of msg: the AnyValue bytes */
int rd_attr(const rd_file_t *f, const uint8_t *msg, size_t n, uint32_t field, const char *key,
            rd_field_t *anyvalue);

#endif
