/* Shared by the OTTL evaluator tests (test_ottl_eval.c, test_ottl_run.c):
 * the request arena, field assertions, compile helpers and a decoded logs
 * request with nested attributes. Include after cmocka.h. */
#ifndef OTF_TEST_OTTL_EXPECT_H
#define OTF_TEST_OTTL_EXPECT_H

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/ottl.h"
#include "otflow/pdata_codec.h"

#include <stdio.h>
#include <string.h>

static otf_arena_t arena;

static inline int setup(void **state)
{
	(void)state;
	otf_arena_init(&arena, 0);
	return 0;
}

static inline int teardown(void **state)
{
	(void)state;
	otf_arena_close(&arena);
	return 0;
}

/* ---- helpers ---- */

static inline bool bytes_is(otf_bytes_t b, const char *s)
{
	return b.len == strlen(s) && (b.len == 0 || memcmp(b.ptr, s, b.len) == 0);
}

#define assert_bytes(b, s)                                                                       \
	do {                                                                                     \
		otf_bytes_t b_ = (b);                                                            \
		if (!bytes_is(b_, (s)))                                                          \
			fail_msg("got \"%.*s\", want \"%s\"", (int)b_.len, (const char *)b_.ptr, \
			         (s));                                                           \
	} while (0)

static inline const otf_any_value_t *find_kv(const otf_key_value_t *items, size_t len,
                                             const char *key)
{
	for (size_t i = 0; i < len; i++)
		if (bytes_is(items[i].key, key))
			return &items[i].value;
	return NULL;
}

static inline const otf_any_value_t *attr(const otf_attributes_t *a, const char *key)
{
	return find_kv(a->items, a->len, key);
}

static inline void assert_str_attr(const otf_attributes_t *a, const char *key, const char *want)
{
	const otf_any_value_t *v = attr(a, key);
	if (!v)
		fail_msg("attribute %s missing", key);
	if (v->type != OTF_ANY_STRING)
		fail_msg("attribute %s has type %d, want string", key, v->type);
	assert_bytes(v->u.string_value, want);
}

static inline void assert_int_attr(const otf_attributes_t *a, const char *key, int64_t want)
{
	const otf_any_value_t *v = attr(a, key);
	if (!v)
		fail_msg("attribute %s missing", key);
	assert_int_equal(v->type, OTF_ANY_INT);
	assert_int_equal(v->u.int_value, want);
}

static inline otf_ottl_program_t *compile(otf_ottl_context_t ctx, const char *const *stmts,
                                          size_t n)
{
	otf_ottl_program_t *p = NULL;
	otf_ottl_error_t e = {0};
	if (otf_ottl_compile_statements(&p, ctx, stmts, n, &e))
		fail_msg("statement %zu column %zu: %s", e.index, e.column, e.msg);
	return p;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static inline void compiles_in(otf_ottl_context_t ctx, const char *stmt)
{
	otf_ottl_program_destroy(compile(ctx, &stmt, 1));
}

/* Decodes JSON logs, runs stmts, re-encodes and decodes into *out. */
static inline void run_logs(const char *json, otf_ottl_context_t ctx, const char *const *stmts,
                            size_t n, otf_logs_t *out)
{
	otf_logs_t in;
	assert_int_equal(otf_pdata_json_decode_logs(&in, json, strlen(json), &arena, NULL, NULL),
	                 0);
	otf_ottl_program_t *p = compile(ctx, stmts, n);
	otf_ottl_stats_t st = {0};
	int rc = otf_ottl_run_logs(p, OTF_OTTL_ERROR_PROPAGATE, &in, &arena, &st);
	if (rc)
		fail_msg("run: %d: statement %zu column %zu: %s", rc, st.first_error.index,
		         st.first_error.column, st.first_error.msg);
	/* the tree must not point into the program any more */
	otf_ottl_program_destroy(p);
	otf_buf_t *b = NULL;
	assert_int_equal(otf_pdata_encode_logs(&in, &b), 0);
	uint8_t *copy = otf_arena_memdup(&arena, b->data, b->len);
	size_t len = b->len;
	otf_buf_unref(b);
	assert_int_equal(otf_pdata_decode_logs(out, copy, len, &arena, NULL, NULL), 0);
}

static const char logs_json[] =
    "{\"resourceLogs\":[{\"resource\":{\"attributes\":["
    "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"checkout\"}},"
    "{\"key\":\"host.name\",\"value\":{\"stringValue\":\"h1\"}}]},"
    "\"scopeLogs\":[{\"scope\":{\"name\":\"lib\",\"version\":\"1.0\"},\"logRecords\":["
    "{\"severityNumber\":9,\"severityText\":\"INFO\",\"body\":{\"stringValue\":"
    "\"payment failed for user=bob id=42\"},\"attributes\":["
    "{\"key\":\"http.method\",\"value\":{\"stringValue\":\"POST\"}},"
    "{\"key\":\"url.path\",\"value\":{\"stringValue\":\"/user/42/list\"}},"
    "{\"key\":\"tmp.a\",\"value\":{\"stringValue\":\"x\"}},"
    "{\"key\":\"tmp.b\",\"value\":{\"stringValue\":\"y\"}},"
    "{\"key\":\"count\",\"value\":{\"intValue\":\"7\"}},"
    "{\"key\":\"nested\",\"value\":{\"kvlistValue\":{\"values\":["
    "{\"key\":\"a\",\"value\":{\"stringValue\":\"1\"}},"
    "{\"key\":\"b\",\"value\":{\"kvlistValue\":{\"values\":["
    "{\"key\":\"c\",\"value\":{\"intValue\":\"2\"}}]}}},"
    "{\"key\":\"l\",\"value\":{\"arrayValue\":{\"values\":[{\"stringValue\":\"p\"},"
    "{\"boolValue\":true}]}}}]}}}],"
    "\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"1112131415161718\"},"
    "{\"severityNumber\":5,\"severityText\":\"DEBUG\",\"body\":{\"stringValue\":\"ok\"},"
    "\"attributes\":[{\"key\":\"http.method\",\"value\":{\"stringValue\":\"GET\"}}]}"
    "]}]}]}";

static inline otf_log_record_t *log_n(otf_logs_t *l, size_t i)
{
	return &l->resource_logs[0].scope_logs[0].log_records[i];
}

#endif
