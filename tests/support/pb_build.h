/* A tiny forward protobuf writer for tests: hand-built OTLP messages,
 * including ones no encoder would write (bad UTF-8, short ids, deep
 * nesting, millions of empty records). Buffers are malloc'd; pb_msg()
 * appends a sub-message and frees it. Failed allocations abort. */
#ifndef OTF_TEST_PB_BUILD_H
#define OTF_TEST_PB_BUILD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct pb {
	uint8_t *b;
	size_t n, cap;
} pb_t;

static inline void pb_raw(pb_t *w, const void *src, size_t n)
{
	if (w->n + n > w->cap) {
		w->cap = (w->n + n) * 2 + 64;
		w->b = realloc(w->b, w->cap);
		if (!w->b)
			abort();
	}
	if (n)
		memcpy(w->b + w->n, src, n);
	w->n += n;
}

static inline void pb_varint(pb_t *w, uint64_t v)
{
	uint8_t t[10];
	size_t n = 0;
	while (v >= 0x80) {
		t[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	t[n++] = (uint8_t)v;
	pb_raw(w, t, n);
}

static inline void pb_tag(pb_t *w, uint32_t f, uint32_t wt)
{
	pb_varint(w, ((uint64_t)f << 3) | wt);
}

static inline void pb_bytes(pb_t *w, uint32_t f, const void *s, size_t n)
{
	pb_tag(w, f, 2);
	pb_varint(w, n);
	pb_raw(w, s, n);
}

static inline void pb_str(pb_t *w, uint32_t f, const char *s)
{
	pb_bytes(w, f, s, strlen(s));
}

/* Appends sub as field f and frees it. */
static inline void pb_msg(pb_t *w, uint32_t f, pb_t *sub)
{
	pb_bytes(w, f, sub->b, sub->n);
	free(sub->b);
	*sub = (pb_t){0};
}

static inline void pb_fixed64(pb_t *w, uint32_t f, uint64_t v)
{
	pb_tag(w, f, 1);
	pb_raw(w, &v, 8);
}

static inline void pb_double(pb_t *w, uint32_t f, double d)
{
	uint64_t v;
	memcpy(&v, &d, 8);
	pb_fixed64(w, f, v);
}

static const uint8_t TID[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t SID[8] = {0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 0x10, 0x11};

/* KeyValue{key, AnyValue{string}} */
static inline void pb_attr_str(pb_t *w, uint32_t f, const char *k, const char *v)
{
	pb_t kv = {0}, any = {0};
	pb_str(&any, 1, v);
	pb_str(&kv, 1, k);
	pb_msg(&kv, 2, &any);
	pb_msg(w, f, &kv);
}

/* A one-span TracesData; span holds the span's fields. */
static inline pb_t traces_with(pb_t *span)
{
	pb_t ss = {0}, rs = {0}, td = {0};
	pb_msg(&ss, 2, span);
	pb_msg(&rs, 2, &ss);
	pb_msg(&td, 1, &rs);
	return td;
}

static inline void good_span(pb_t *sp)
{
	pb_bytes(sp, 1, TID, 16);
	pb_bytes(sp, 2, SID, 8);
	pb_str(sp, 5, "GET /");
	pb_fixed64(sp, 7, 1);
	pb_fixed64(sp, 8, 2);
}

/* AnyValue nested `levels` deep as a log body: array_value{values{...}}. */
static inline pb_t logs_nested(int levels)
{
	pb_t any = {0};
	pb_str(&any, 1, "leaf");
	for (int i = 1; i < levels; i++) {
		pb_t arr = {0}, outer = {0};
		pb_msg(&arr, 1, &any);
		pb_msg(&outer, 5, &arr);
		any = outer;
	}
	pb_t lr = {0}, sl = {0}, rl = {0}, ld = {0};
	pb_msg(&lr, 5, &any);
	pb_msg(&sl, 2, &lr);
	pb_msg(&rl, 2, &sl);
	pb_msg(&ld, 1, &rl);
	return ld;
}

/* n empty log records (2 bytes each on the wire) in one scope. */
static inline pb_t empty_logs(size_t n)
{
	pb_t sl = {0}, rl = {0}, ld = {0};
	for (size_t i = 0; i < n; i++)
		pb_bytes(&sl, 2, "", 0);
	pb_msg(&rl, 2, &sl);
	pb_msg(&ld, 1, &rl);
	return ld;
}

#endif
