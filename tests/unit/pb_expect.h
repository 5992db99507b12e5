/* Expected-bytes builder for the protobuf encoder tests: an independent
 * forward writer (fields appended in ascending order, each nested message
 * built first and then appended with its length), so the back-to-front
 * encoder is checked against a construction that shares none of its code.
 * Header-only (static inline) so each test file gets its own copy. */
#ifndef OTF_TEST_PB_EXPECT_H
#define OTF_TEST_PB_EXPECT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otflow/arena.h"
#include "otflow/buf.h"
#include "otflow/pdata.h"
#include "otflow/pdata_codec.h"
#include "pdata_eq.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fb {
	uint8_t *b;
	size_t n, cap;
} fb_t;

static inline void fb_put(fb_t *f, const void *p, size_t n)
{
	if (f->n + n > f->cap) {
		size_t cap = f->cap ? f->cap : 64;
		while (cap < f->n + n)
			cap *= 2;
		f->b = realloc(f->b, cap);
		assert_non_null(f->b);
		f->cap = cap;
	}
	if (n)
		memcpy(f->b + f->n, p, n);
	f->n += n;
}

static inline void fb_varint(fb_t *f, uint64_t v)
{
	do {
		uint8_t c = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			c |= 0x80;
		fb_put(f, &c, 1);
	} while (v);
}

static inline void fb_key(fb_t *f, uint32_t field, uint32_t wt)
{
	fb_varint(f, ((uint64_t)field << 3) | wt);
}

static inline void fb_u(fb_t *f, uint32_t field, uint64_t v)
{
	fb_key(f, field, 0);
	fb_varint(f, v);
}

static inline void fb_f64(fb_t *f, uint32_t field, uint64_t v)
{
	fb_key(f, field, 1);
	for (int i = 0; i < 8; i++) {
		uint8_t c = (uint8_t)(v >> (8 * i));
		fb_put(f, &c, 1);
	}
}

static inline void fb_dbl(fb_t *f, uint32_t field, double d)
{
	uint64_t v;
	memcpy(&v, &d, 8);
	fb_f64(f, field, v);
}

static inline void fb_f32(fb_t *f, uint32_t field, uint32_t v)
{
	fb_key(f, field, 5);
	for (int i = 0; i < 4; i++) {
		uint8_t c = (uint8_t)(v >> (8 * i));
		fb_put(f, &c, 1);
	}
}

static inline void fb_raw(fb_t *f, uint32_t field, const void *p, size_t n)
{
	fb_key(f, field, 2);
	fb_varint(f, n);
	fb_put(f, p, n);
}

static inline void fb_str(fb_t *f, uint32_t field, const char *s)
{
	fb_raw(f, field, s, strlen(s));
}

/* Appends *in as a nested message and frees it. */
static inline void fb_msg(fb_t *f, uint32_t field, fb_t *in)
{
	fb_raw(f, field, in->b, in->n);
	free(in->b);
	*in = (fb_t){0};
}

static inline void fb_empty(fb_t *f, uint32_t field)
{
	fb_raw(f, field, "", 0);
}

static inline void hexdump(const char *what, const uint8_t *p, size_t n)
{
	fprintf(stderr, "%s (%zu bytes):", what, n);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%s%02x", i % 32 ? " " : "\n  ", p[i]);
	fprintf(stderr, "\n");
}

/* Compares the encoder's output with the expectation, frees both. */
static inline void check(otf_buf_t *got, fb_t *want)
{
	assert_non_null(got);
	if (got->len != want->n || memcmp(got->data, want->b, want->n) != 0) {
		hexdump("got", got->data, got->len);
		hexdump("want", want->b, want->n);
		for (size_t i = 0; i < got->len && i < want->n; i++) {
			if (got->data[i] != want->b[i]) {
				fprintf(stderr, "first difference at byte %zu\n", i);
				break;
			}
		}
		fail();
	}
	otf_buf_unref(got);
	free(want->b);
	*want = (fb_t){0};
}

static inline void check_lit(otf_buf_t *got, const uint8_t *want, size_t n)
{
	fb_t f = {0};
	fb_put(&f, want, n);
	check(got, &f);
}

/* ---- tree helpers ---- */

#define S(x) ((otf_bytes_t){(const uint8_t *)(x), sizeof(x) - 1})

static const uint8_t TID[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t SID[8] = {0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8};
#define TRACE_ID ((otf_bytes_t){TID, 16})
#define SPAN_ID  ((otf_bytes_t){SID, 8})

/* {"k": "v"} and its expected KeyValue message. */
static otf_key_value_t kv1 = {{(const uint8_t *)"k", 1},
                              {OTF_ANY_STRING, {.string_value = {(const uint8_t *)"v", 1}}}};
#define ATTRS ((otf_attributes_t){&kv1, 1})

static inline fb_t kv_fb(void)
{
	fb_t kv = {0}, any = {0};
	fb_str(&kv, 1, "k");
	fb_str(&any, 1, "v");
	fb_msg(&kv, 2, &any);
	return kv;
}

static inline void fb_attrs(fb_t *f, uint32_t field)
{
	fb_t kv = kv_fb();
	fb_msg(f, field, &kv);
}

/* decode(encode(x)) == x: the encoder's bytes read back as the same tree. */
#define OTF__PB_ROUNDTRIP(name, type)                                                     \
	static inline void roundtrip_##name(const type *in, const otf_buf_t *b)           \
	{                                                                                 \
		otf_arena_t a;                                                            \
		otf_arena_init(&a, 4096);                                                 \
		type back;                                                                \
		otf_pdata_error_t err;                                                    \
		char diff[512] = "";                                                      \
		int rc = otf_pdata_decode_##name(&back, b->data, b->len, &a, NULL, &err); \
		assert_int_equal(rc, 0);                                                  \
		if (!otf_eq_##name(in, &back, diff, sizeof diff)) {                       \
			fprintf(stderr, "round trip: %s\n", diff);                        \
			fail();                                                           \
		}                                                                         \
		otf_arena_close(&a);                                                      \
	}
OTF__PB_ROUNDTRIP(traces, otf_traces_t)
OTF__PB_ROUNDTRIP(metrics, otf_metrics_t)
OTF__PB_ROUNDTRIP(logs, otf_logs_t)

#endif
