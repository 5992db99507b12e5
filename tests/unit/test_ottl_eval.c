/* OTTL evaluator: table tests over decoded OTLP requests. Each case decodes
 * a request, runs statements, encodes it to protobuf, decodes the bytes
 * again and compares fields exactly (names, attribute values and types,
 * severity, status, ids). Also nil semantics, error_mode, per-statement
 * result codes, conditions, and that edited trees outlive the program. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/ottl.h"
#include "otflow/pdata_codec.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static otf_arena_t arena;

static int setup(void **state)
{
	(void)state;
	otf_arena_init(&arena, 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	otf_arena_close(&arena);
	return 0;
}

/* ---- helpers ---- */

static bool bytes_is(otf_bytes_t b, const char *s)
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

static const otf_any_value_t *find_kv(const otf_key_value_t *items, size_t len, const char *key)
{
	for (size_t i = 0; i < len; i++)
		if (bytes_is(items[i].key, key))
			return &items[i].value;
	return NULL;
}

static const otf_any_value_t *attr(const otf_attributes_t *a, const char *key)
{
	return find_kv(a->items, a->len, key);
}

static void assert_str_attr(const otf_attributes_t *a, const char *key, const char *want)
{
	const otf_any_value_t *v = attr(a, key);
	if (!v)
		fail_msg("attribute %s missing", key);
	if (v->type != OTF_ANY_STRING)
		fail_msg("attribute %s has type %d, want string", key, v->type);
	assert_bytes(v->u.string_value, want);
}

static void assert_int_attr(const otf_attributes_t *a, const char *key, int64_t want)
{
	const otf_any_value_t *v = attr(a, key);
	if (!v)
		fail_msg("attribute %s missing", key);
	assert_int_equal(v->type, OTF_ANY_INT);
	assert_int_equal(v->u.int_value, want);
}

static otf_ottl_program_t *compile(otf_ottl_context_t ctx, const char *const *stmts, size_t n)
{
	otf_ottl_program_t *p = NULL;
	otf_ottl_error_t e = {0};
	if (otf_ottl_compile_statements(&p, ctx, stmts, n, &e))
		fail_msg("statement %zu column %zu: %s", e.index, e.column, e.msg);
	return p;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void compiles_in(otf_ottl_context_t ctx, const char *stmt)
{
	otf_ottl_program_destroy(compile(ctx, &stmt, 1));
}

/* Decodes JSON logs, runs stmts, re-encodes and decodes into *out. */
static void run_logs(const char *json, otf_ottl_context_t ctx, const char *const *stmts, size_t n,
                     otf_logs_t *out)
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

static otf_log_record_t *log_n(otf_logs_t *l, size_t i)
{
	return &l->resource_logs[0].scope_logs[0].log_records[i];
}

/* ---- cases ---- */

static void test_set_where_severity(void **state)
{
	(void)state;
	const char *const s[] = {
	    "set(severity_number, SEVERITY_NUMBER_ERROR) where IsMatch(body, \"fail\")",
	    "set(severity_text, \"ERROR\") where severity_number >= SEVERITY_NUMBER_ERROR",
	    "set(attributes[\"service\"], resource.attributes[\"service.name\"])",
	    "set(attributes[\"scope\"], Concat([scope.name, instrumentation_scope.version], "
	    "\"@\"))",
	    "set(log.attributes[\"nested\"][\"b\"][\"d\"], 3.5)",
	    "set(attributes[\"new\"][\"x\"], \"made\") where attributes[\"count\"] == 7",
	    "set(attributes[\"lst\"], [1, \"two\", false])",
	    "set(attributes[\"mp\"], {\"k\": \"v\", \"n\": 0x0a0b})",
	    "set(attributes[\"calc\"], (attributes[\"count\"] + 3) * 2 - 1) where "
	    "attributes[\"count\"] != nil",
	    "set(attributes[\"nil\"], nil)",
	    "set(body, \"q\\\"uote\\t\\u00e9\") where severity_number == 5",
	};
	otf_logs_t l;
	run_logs(logs_json, OTF_OTTL_CTX_LOG, s, N(s), &l);
	otf_log_record_t *a = log_n(&l, 0), *b = log_n(&l, 1);
	assert_int_equal(a->severity_number, 17);
	assert_bytes(a->severity_text, "ERROR");
	assert_int_equal(b->severity_number, 5);
	assert_bytes(b->severity_text, "DEBUG");
	assert_str_attr(&a->attributes, "service", "checkout");
	assert_str_attr(&b->attributes, "scope", "lib@1.0");
	const otf_any_value_t *nested = attr(&a->attributes, "nested");
	const otf_any_value_t *nb =
	    find_kv(nested->u.kvlist_value.values, nested->u.kvlist_value.values_len, "b");
	const otf_any_value_t *d =
	    find_kv(nb->u.kvlist_value.values, nb->u.kvlist_value.values_len, "d");
	assert_non_null(d);
	assert_int_equal(d->type, OTF_ANY_DOUBLE);
	assert_true(d->u.double_value == 3.5);
	const otf_any_value_t *nw = attr(&a->attributes, "new");
	assert_non_null(nw);
	assert_int_equal(nw->type, OTF_ANY_KVLIST);
	assert_bytes(
	    find_kv(nw->u.kvlist_value.values, nw->u.kvlist_value.values_len, "x")->u.string_value,
	    "made");
	assert_null(attr(&b->attributes, "new"));
	const otf_any_value_t *lst = attr(&a->attributes, "lst");
	assert_int_equal(lst->type, OTF_ANY_ARRAY);
	assert_int_equal(lst->u.array_value.values_len, 3);
	assert_int_equal(lst->u.array_value.values[0].u.int_value, 1);
	assert_bytes(lst->u.array_value.values[1].u.string_value, "two");
	assert_int_equal(lst->u.array_value.values[2].type, OTF_ANY_BOOL);
	const otf_any_value_t *mp = attr(&a->attributes, "mp");
	const otf_any_value_t *mn =
	    find_kv(mp->u.kvlist_value.values, mp->u.kvlist_value.values_len, "n");
	assert_int_equal(mn->type, OTF_ANY_BYTES);
	assert_int_equal(mn->u.bytes_value.len, 2);
	assert_int_attr(&a->attributes, "calc", 19);
	assert_null(attr(&a->attributes, "nil")); /* set(x, nil) changes nothing */
	assert_bytes(b->body.u.string_value, "q\"uote\t\xc3\xa9");
	assert_bytes(a->body.u.string_value, "payment failed for user=bob id=42");
}

static void test_nil_semantics(void **state)
{
	(void)state;
	const char *const s[] = {
	    "set(attributes[\"r1\"], true) where attributes[\"missing\"] == nil",
	    "set(attributes[\"r2\"], true) where attributes[\"missing\"] != nil",
	    "set(attributes[\"r3\"], true) where attributes[\"missing\"] > 0",
	    "set(attributes[\"r4\"], true) where attributes[\"missing\"] < 0",
	    "set(attributes[\"r5\"], true) where attributes[\"missing\"] != \"x\"",
	    "set(attributes[\"r6\"], true) where attributes[\"missing\"][\"deeper\"] == nil",
	    "set(attributes[\"r7\"], true) where attributes[\"count\"] == 7.0",
	    "set(attributes[\"r8\"], true) where attributes[\"count\"] == \"7\"",
	    ("set(attributes[\"r9\"], true) where \"abc\" < \"abd\" and 0x01 < 0x02 and false < "
	     "true"),
	    "set(attributes[\"r10\"], true) where attributes[\"nested\"][\"l\"] == [\"p\", true]",
	};
	otf_logs_t l;
	run_logs(logs_json, OTF_OTTL_CTX_LOG, s, N(s), &l);
	otf_attributes_t *a = &log_n(&l, 0)->attributes;
	assert_non_null(attr(a, "r1"));
	assert_null(attr(a, "r2"));
	assert_null(attr(a, "r3"));
	assert_null(attr(a, "r4"));
	assert_non_null(attr(a, "r5"));
	assert_non_null(attr(a, "r6"));
	assert_non_null(attr(a, "r7"));
	assert_null(attr(a, "r8")); /* an int is never equal to a string */
	assert_non_null(attr(a, "r9"));
	assert_non_null(attr(a, "r10"));
}

static void test_map_editors(void **state)
{
	(void)state;
	const char *const s[] = {
	    "delete_matching_keys(attributes, \"^tmp\\\\.\")",
	    "delete_key(resource.attributes, \"host.name\")",
	    ("keep_keys(attributes, [\"http.method\", \"url.path\", \"count\", \"nested\"]) where "
	     "severity_number == 9"),
	    "keep_matching_keys(attributes, \"^http\") where severity_number == 5",
	};
	otf_logs_t l;
	run_logs(logs_json, OTF_OTTL_CTX_LOG, s, N(s), &l);
	otf_attributes_t *a = &log_n(&l, 0)->attributes, *b = &log_n(&l, 1)->attributes;
	assert_int_equal(a->len, 4);
	assert_bytes(a->items[0].key, "http.method");
	assert_bytes(a->items[1].key, "url.path");
	assert_bytes(a->items[2].key, "count");
	assert_bytes(a->items[3].key, "nested");
	assert_int_equal(b->len, 1);
	assert_str_attr(b, "http.method", "GET");
	otf_attributes_t *r = &l.resource_logs[0].resource.attributes;
	assert_int_equal(r->len, 1);
	assert_str_attr(r, "service.name", "checkout");
}

static void test_replace_editors(void **state)
{
	(void)state;
	const char *const s[] = {
	    "replace_pattern(body, \"user=(\\\\w+) id=(\\\\d+)\", \"user=*** id=${2}0\")",
	    "replace_match(attributes[\"url.path\"], \"/user/*/list\", \"/user/{id}/list\")",
	    "replace_all_patterns(attributes, \"value\", \"^t.*\", \"T\")",
	    "replace_all_patterns(attributes, \"key\", \"^tmp\\\\.(.*)$\", \"t_$1\")",
	    "replace_all_matches(attributes, \"P?ST\", \"verb\")",
	    "replace_pattern(attributes[\"count\"], \"7\", \"8\")",
	    "replace_pattern(body, \"a*\", \"-\") where body == \"ok\"",
	    "set(attributes[\"empty\"], \"baac\") where severity_number == 5",
	    "replace_pattern(attributes[\"empty\"], \"a*\", \"-\")",
	    /* grows past the first output buffer; more groups than the cached match block */
	    "set(attributes[\"grow\"], \"aaaa\")",
	    "replace_pattern(attributes[\"grow\"], \"a\", \"<0123456789>\")",
	    ("replace_pattern(attributes[\"grow\"], "
	     "\"(<)(0)(1)(2)(3)(4)(5)(6)(7)(8)(9)(>)(<)(0)(1)(2)(3)(4)(5)\", \"${19}${1}\")"),
	};
	otf_logs_t l;
	run_logs(logs_json, OTF_OTTL_CTX_LOG, s, N(s), &l);
	otf_log_record_t *a = log_n(&l, 0);
	assert_bytes(a->body.u.string_value, "payment failed for user=*** id=420");
	assert_str_attr(&a->attributes, "url.path", "/user/{id}/list");
	assert_str_attr(&a->attributes, "t_a", "x");
	assert_str_attr(&a->attributes, "t_b", "y");
	assert_null(attr(&a->attributes, "tmp.a"));
	assert_str_attr(&a->attributes, "http.method", "verb");
	assert_int_attr(&a->attributes, "count", 7); /* not a string: left alone */
	assert_str_attr(&log_n(&l, 1)->attributes, "http.method", "GET");
	/* empty matches next to a match are replaced too (PCRE2; Go skips them) */
	assert_bytes(log_n(&l, 1)->body.u.string_value, "-o-k-");
	assert_str_attr(&log_n(&l, 1)->attributes, "empty", "-b--c-");
	assert_str_attr(&log_n(&l, 1)->attributes, "grow", "5<6789>5<6789>");
}

static void test_truncate_limit_merge_flatten(void **state)
{
	(void)state;
	const char *const s[] = {
	    "set(attributes[\"utf\"], \"a\\u00e9b\") where severity_number == 5",
	    "truncate_all(attributes, 2) where severity_number == 5",
	    "limit(attributes, 3, [\"count\", \"nested\"]) where severity_number == 9",
	    "merge_maps(attributes, {\"http.method\": \"PUT\", \"extra\": 1}, \"insert\") where "
	    "severity_number == 9",
	    "merge_maps(attributes, {\"count\": 8, \"nope\": 1}, \"update\") where severity_number "
	    "== 9",
	    "flatten(attributes, \"f\", 1) where severity_number == 9",
	};
	otf_logs_t l;
	run_logs(logs_json, OTF_OTTL_CTX_LOG, s, N(s), &l);
	otf_attributes_t *b = &log_n(&l, 1)->attributes;
	assert_str_attr(b, "http.method", "GE");
	assert_str_attr(b, "utf", "a"); /* 2 bytes would split the é */
	otf_attributes_t *a = &log_n(&l, 0)->attributes;
	/* limit kept http.method (first non-priority) + count + nested; insert
	 * added extra but not http.method; update changed count only; flatten
	 * prefixed everything and opened one level of nested */
	assert_str_attr(a, "f.http.method", "POST");
	assert_int_attr(a, "f.count", 8);
	assert_int_attr(a, "f.extra", 1);
	assert_null(attr(a, "f.nope"));
	assert_null(attr(a, "f.url.path"));
	assert_str_attr(a, "f.nested.a", "1");
	const otf_any_value_t *nb = attr(a, "f.nested.b");
	assert_non_null(nb);
	assert_int_equal(nb->type, OTF_ANY_KVLIST); /* depth 1: b stays a map */
	/* lists open at any depth, as the Collector's flatten does */
	assert_str_attr(a, "f.nested.l.0", "p");
	assert_int_equal(attr(a, "f.nested.l.1")->type, OTF_ANY_BOOL);
	assert_null(attr(a, "f.nested.l"));
	assert_int_equal(a->len, 7);
}

static void test_flatten_full(void **state)
{
	(void)state;
	const char *const s[] = {
	    "set(attributes[\"lm\"], [{\"x\": 1}, [2]]) where severity_number == 9",
	    "flatten(attributes) where severity_number == 9",
	    "flatten(attributes, depth = 0) where severity_number == 5",
	    "set(attributes[\"dl\"], [\"q\"]) where severity_number == 5",
	    "flatten(attributes, \"z\", 0) where severity_number == 5"};
	otf_logs_t l;
	run_logs(logs_json, OTF_OTTL_CTX_LOG, s, N(s), &l);
	otf_attributes_t *a = &log_n(&l, 0)->attributes;
	assert_str_attr(a, "nested.a", "1");
	assert_int_attr(a, "nested.b.c", 2);
	assert_str_attr(a, "nested.l.0", "p");
	assert_int_equal(attr(a, "nested.l.1")->type, OTF_ANY_BOOL);
	assert_null(attr(a, "nested"));
	/* list items are kept as they are: a map or list inside a list is not opened */
	assert_int_equal(attr(a, "lm.0")->type, OTF_ANY_KVLIST);
	assert_int_equal(attr(a, "lm.1")->type, OTF_ANY_ARRAY);
	/* depth 0 opens no map, but lists still */
	otf_attributes_t *b = &log_n(&l, 1)->attributes;
	assert_str_attr(b, "z.http.method", "GET");
	assert_str_attr(b, "z.dl.0", "q");
	assert_int_equal(b->len, 2);
}

/* flatten and merge_maps of n keys cost O(n) arena memory, not one copy
 * of the list per key */
static void test_flatten_merge_memory_linear(void **state)
{
	(void)state;
	enum { KEYS = 2000 };
	otf_key_value_t *inner = otf_arena_calloc(&arena, KEYS, sizeof *inner);
	assert_non_null(inner);
	for (size_t i = 0; i < KEYS; i++) {
		char *k = otf_arena_alloc(&arena, 16);
		int n = snprintf(k, 16, "k%zu", i);
		inner[i].key = (otf_bytes_t){(const uint8_t *)k, (size_t)n};
		inner[i].value.type = OTF_ANY_INT;
		inner[i].value.u.int_value = (int64_t)i;
	}
	otf_key_value_t top = {{(const uint8_t *)"m", 1}, {.type = OTF_ANY_KVLIST}};
	top.value.u.kvlist_value.values = inner;
	top.value.u.kvlist_value.values_len = KEYS;
	otf_log_record_t log = {0};
	log.attributes.items = &top;
	log.attributes.len = 1;
	otf_ottl_record_t rec = {.log = &log, .arena = &arena};
	const char *const s[] = {"merge_maps(attributes, attributes[\"m\"], \"upsert\")",
	                         "flatten(attributes)"};
	otf_ottl_program_t *p = compile(OTF_OTTL_CTX_LOG, s, N(s));
	size_t before = arena.bytes_allocated;
	otf_ottl_stats_t st = {0};
	assert_int_equal(otf_ottl_exec_all(p, OTF_OTTL_ERROR_PROPAGATE, &rec, &st), 0);
	size_t used = arena.bytes_allocated - before;
	/* two copies of the source (merge), the merged list, the flat list with
	 * doubling and the "m.kN" keys: well under 1 MiB; quadratic would be ~150 MiB */
	if (used > ((size_t)1 << 20))
		fail_msg("used %zu bytes of arena for %d keys", used, KEYS);
	assert_int_equal(log.attributes.len, 2 * KEYS); /* k0.. and m.k0.. */
	assert_int_attr(&log.attributes, "k1999", 1999);
	assert_int_attr(&log.attributes, "m.k7", 7);
	otf_ottl_program_destroy(p);
}

static void test_parse_json(void **state)
{
	(void)state;
	const char *const s[] = {("merge_maps(attributes, ParseJSON(\"{\\\"a\\\": 1, \\\"b\\\": "
	                          "[true, null, \\\"x\\\"], "
	                          "\\\"c\\\": {\\\"d\\\": \\\"\\\\u00e9\\\"}}\"), \"upsert\") "
	                          "where severity_number == 9"),
	                         "set(attributes[\"pj\"], ParseJSON(\"[1.5, 2] \"))"};
	otf_logs_t l;
	run_logs(logs_json, OTF_OTTL_CTX_LOG, s, N(s), &l);
	otf_attributes_t *a = &log_n(&l, 0)->attributes;
	const otf_any_value_t *v = attr(a, "a");
	assert_int_equal(v->type,
	                 OTF_ANY_DOUBLE); /* JSON numbers are doubles, as in the Collector */
	assert_true(v->u.double_value == 1.0);
	v = attr(a, "b");
	assert_int_equal(v->type, OTF_ANY_ARRAY);
	assert_int_equal(v->u.array_value.values_len, 3);
	assert_int_equal(v->u.array_value.values[0].type, OTF_ANY_BOOL);
	assert_int_equal(v->u.array_value.values[1].type, OTF_ANY_EMPTY);
	assert_bytes(v->u.array_value.values[2].u.string_value, "x");
	v = attr(a, "c");
	assert_bytes(
	    find_kv(v->u.kvlist_value.values, v->u.kvlist_value.values_len, "d")->u.string_value,
	    "\xc3\xa9");
	v = attr(&log_n(&l, 1)->attributes, "pj");
	assert_int_equal(v->type, OTF_ANY_ARRAY);
	assert_true(v->u.array_value.values[0].u.double_value == 1.5);
	assert_null(attr(&log_n(&l, 1)->attributes, "a"));

	otf_log_record_t log = {0};
	otf_ottl_record_t rec = {.log = &log, .arena = &arena};
	const char *const bad[] = {"set(body, ParseJSON(\"{\\\"a\\\": \"))",
	                           "set(body, ParseJSON(\"1\"))", "set(body, ParseJSON(\"[1,]\"))",
	                           "set(body, ParseJSON(\"{} x\"))"};
	const char *const want[] = {"unexpected end", "needs an object or an array",
	                            "ParseJSON:", "ParseJSON:"};
	otf_ottl_program_t *p = compile(OTF_OTTL_CTX_LOG, bad, N(bad));
	for (size_t i = 0; i < N(bad); i++) {
		otf_ottl_error_t e = {0};
		assert_int_equal(otf_ottl_exec_statement(p, i, &rec, &e), OTF_E_INVAL);
		if (e.column != 10 || !strstr(e.msg, want[i]))
			fail_msg("%s: column %zu '%s'", bad[i], e.column, e.msg);
	}
	assert_int_equal(log.body.type, OTF_ANY_EMPTY);
	otf_ottl_program_destroy(p);
	/* a lone surrogate escape becomes U+FFFD, as Go's encoding/json does */
	const char *const sur[] = {"set(body, ParseJSON(\"[\\\"\\\\ud800\\\"]\"))"};
	p = compile(OTF_OTTL_CTX_LOG, sur, 1);
	otf_ottl_error_t e = {0};
	assert_int_equal(otf_ottl_exec_statement(p, 0, &rec, &e), OTF_OTTL_APPLIED);
	assert_int_equal(log.body.type, OTF_ANY_ARRAY);
	assert_bytes(log.body.u.array_value.values[0].u.string_value, "\xef\xbf\xbd");
	otf_ottl_program_destroy(p);
}

/* cache: a scratch map per record, reset between records, never encoded */
static void test_cache(void **state)
{
	(void)state;
	static const char js[] =
	    "{\"resourceLogs\":[{\"resource\":{},\"scopeLogs\":[{\"logRecords\":["
	    "{\"body\":{\"stringValue\":\"{\\\"user\\\":{\\\"name\\\":\\\"ann\\\"},"
	    "\\\"n\\\":2}\"}},{\"body\":{\"stringValue\":\"plain text\"}}]}]}]}";
	const char *const s[] = {"set(cache, ParseJSON(body)) where IsMatch(body, \"^\\\\{\")",
	                         "set(attributes[\"user\"], cache[\"user\"][\"name\"])",
	                         "set(cache[\"seen\"], true)",
	                         "set(attributes[\"keys\"], Len(log.cache))"};
	otf_logs_t l;
	run_logs(js, OTF_OTTL_CTX_LOG, s, N(s), &l);
	otf_attributes_t *a = &log_n(&l, 0)->attributes, *b = &log_n(&l, 1)->attributes;
	assert_str_attr(a, "user", "ann");
	assert_int_attr(a, "keys", 3); /* user, n, seen */
	assert_null(attr(b, "user"));
	assert_int_attr(b, "keys", 1); /* only seen: the first record's cache is gone */
	assert_int_equal(a->len, 2);
	compiles_in(OTF_OTTL_CTX_SPAN, "set(span.cache[\"k\"], name)");
}

static void test_converters(void **state)
{
	(void)state;
	const char *const s[] = {
	    "set(attributes[\"split\"], Split(body, \" \")[2]) where severity_number == 9",
	    "set(attributes[\"nparts\"], Len(Split(body, \" \")))",
	    "set(attributes[\"upper\"], ToUpperCase(attributes[\"http.method\"]))",
	    "set(attributes[\"lower\"], ToLowerCase(\"MiXeD\"))",
	    "set(attributes[\"int\"], Int(\"-12\"))",
	    "set(attributes[\"int2\"], Int(3.9))",
	    "set(attributes[\"bad\"], Int(\"x1\"))",
	    "set(attributes[\"dbl\"], Double(\"2.5\"))",
	    "set(attributes[\"str\"], String(attributes[\"count\"]))",
	    "set(attributes[\"strm\"], String({\"a\": [1, 2.5, \"x\"]}))",
	    "set(attributes[\"sha\"], SHA256(\"abc\"))",
	    "set(attributes[\"len\"], Len(attributes[\"nested\"])) where severity_number == 9",
	    "set(attributes[\"iss\"], IsString(body))",
	    "set(attributes[\"isi\"], IsInt(attributes[\"count\"]))",
	    "set(attributes[\"cc\"], Concat([\"a\", 1, true, nil], \"|\"))",
	    "set(attributes[\"tid\"], trace_id.string)",
	    "set(span_id, SpanID(0x0102030405060708))",
	    "set(attributes[\"now\"], UnixNano(Now()))",
	    "set(attributes[\"later\"], true) where UnixNano(Now()) > 1700000000000000000",
	};
	otf_logs_t l;
	run_logs(logs_json, OTF_OTTL_CTX_LOG, s, N(s), &l);
	otf_log_record_t *r = log_n(&l, 0);
	otf_attributes_t *a = &r->attributes;
	assert_str_attr(a, "split", "for");
	assert_int_attr(a, "nparts", 5);
	assert_str_attr(a, "upper", "POST");
	assert_str_attr(a, "lower", "mixed");
	assert_int_attr(a, "int", -12);
	assert_int_attr(a, "int2", 3);
	assert_null(attr(a, "bad"));
	assert_true(attr(a, "dbl")->u.double_value == 2.5);
	assert_str_attr(a, "str", "7");
	assert_str_attr(a, "strm", "{\"a\":[1,2.5,\"x\"]}");
	assert_str_attr(a, "sha",
	                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_attr(a, "len", 3);
	assert_true(attr(a, "iss")->u.bool_value);
	assert_true(attr(a, "isi")->u.bool_value);
	assert_str_attr(a, "cc", "a|1|true|<nil>");
	assert_str_attr(a, "tid", "0102030405060708090a0b0c0d0e0f10");
	assert_int_equal(r->span_id.len, 8);
	assert_memory_equal(r->span_id.ptr, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_true(attr(a, "now")->u.int_value > 1700000000000000000);
	assert_non_null(attr(a, "later"));
}

static const char traces_json[] =
    "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
    "{\"stringValue\":\"frontend\"}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"http\"},\"spans\":["
    "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"0102030405060708\","
    "\"name\":\"GET /api\",\"kind\":2,\"startTimeUnixNano\":\"1000\",\"endTimeUnixNano\":\"5000\","
    "\"attributes\":[{\"key\":\"http.route\",\"value\":{\"stringValue\":\"/api\"}},"
    "{\"key\":\"http.response.status_code\",\"value\":{\"intValue\":\"503\"}}],"
    "\"events\":[{\"name\":\"exception\",\"timeUnixNano\":\"2000\"},{\"name\":\"log\"}]},"
    "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"0a0b0c0d0e0f0102\","
    "\"name\":\"SELECT\",\"kind\":3}]}]}]}";

static void run_traces(otf_ottl_context_t ctx, const char *const *stmts, size_t n,
                       otf_traces_t *out)
{
	otf_traces_t in;
	assert_int_equal(
	    otf_pdata_json_decode_traces(&in, traces_json, strlen(traces_json), &arena, NULL, NULL),
	    0);
	otf_ottl_program_t *p = compile(ctx, stmts, n);
	otf_ottl_stats_t st = {0};
	int rc = otf_ottl_run_traces(p, OTF_OTTL_ERROR_PROPAGATE, &in, &arena, &st);
	if (rc)
		fail_msg("run: statement %zu column %zu: %s", st.first_error.index,
		         st.first_error.column, st.first_error.msg);
	otf_ottl_program_destroy(p);
	otf_buf_t *b = NULL;
	assert_int_equal(otf_pdata_encode_traces(&in, &b), 0);
	uint8_t *copy = otf_arena_memdup(&arena, b->data, b->len);
	size_t len = b->len;
	otf_buf_unref(b);
	assert_int_equal(otf_pdata_decode_traces(out, copy, len, &arena, NULL, NULL), 0);
}

static void test_span_contexts(void **state)
{
	(void)state;
	const char *const s[] = {
	    "set(status.code, STATUS_CODE_ERROR) where kind == SPAN_KIND_SERVER and "
	    "attributes[\"http.response.status_code\"] >= 500",
	    "set(status.message, \"upstream\") where status.code == STATUS_CODE_ERROR",
	    "set(span.name, Concat([resource.attributes[\"service.name\"], name], \": \")) where "
	    "span.kind == SPAN_KIND_CLIENT",
	    "set(attributes[\"dur\"], end_time_unix_nano - start_time_unix_nano)",
	    "set(parent_span_id.string, \"ffeeddccbbaa9988\") where span_id.string == "
	    "\"0a0b0c0d0e0f0102\"",
	    "set(kind, SPAN_KIND_INTERNAL) where IsMatch(name, \"^frontend\")",
	};
	otf_traces_t t;
	run_traces(OTF_OTTL_CTX_SPAN, s, N(s), &t);
	otf_span_t *a = &t.resource_spans[0].scope_spans[0].spans[0];
	otf_span_t *b = &t.resource_spans[0].scope_spans[0].spans[1];
	assert_int_equal(a->status.code, 2);
	assert_bytes(a->status.message, "upstream");
	assert_int_equal(b->status.code, 0);
	assert_bytes(b->status.message, "");
	assert_bytes(b->name, "frontend: SELECT");
	assert_int_equal(b->kind, 1);
	assert_int_equal(a->kind, 2);
	assert_int_attr(&a->attributes, "dur", 4000);
	assert_memory_equal(b->parent_span_id.ptr, "\xff\xee\xdd\xcc\xbb\xaa\x99\x88", 8);
	assert_int_equal(a->parent_span_id.len, 0);

	const char *const ev[] = {
	    "set(attributes[\"span\"], span.name) where name == \"exception\"",
	    "set(name, \"renamed\") where time_unix_nano == 0",
	};
	run_traces(OTF_OTTL_CTX_SPANEVENT, ev, N(ev), &t);
	a = &t.resource_spans[0].scope_spans[0].spans[0];
	assert_str_attr(&a->events[0].attributes, "span", "GET /api");
	assert_bytes(a->events[0].name, "exception");
	assert_bytes(a->events[1].name, "renamed");

	const char *const res[] = {"set(attributes[\"deployment.environment\"], \"prod\")",
	                           "set(schema_url, \"https://example.com/s\")"};
	run_traces(OTF_OTTL_CTX_RESOURCE, res, N(res), &t);
	assert_str_attr(&t.resource_spans[0].resource.attributes, "deployment.environment", "prod");
	assert_bytes(t.resource_spans[0].schema_url, "https://example.com/s");

	const char *const sc[] = {"set(version, \"2\") where name == \"http\""};
	run_traces(OTF_OTTL_CTX_SCOPE, sc, N(sc), &t);
	assert_bytes(t.resource_spans[0].scope_spans[0].scope.version, "2");
}

/* The OpenTelemetry demo's collector config (src/otel-collector/otelcol-config.yml):
 * transform, error_mode ignore, span context; the statements as YAML hands them over. */
static void test_demo_transform_statements(void **state)
{
	(void)state;
	static const char js[] =
	    "{\"resourceSpans\":[{\"resource\":{},\"scopeSpans\":[{\"spans\":["
	    "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"0102030405060708\","
	    "\"name\":\"GET /api/products/OLJCESPC7Z?currencyCode=USD\"},"
	    "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"0102030405060709\","
	    "\"name\":\"GET /api/cart?sessionId=9f2&currencyCode=EUR\"},"
	    "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"010203040506070a\","
	    "\"name\":\"oteldemo.CartService/GetCart\"}]}]}]}";
	const char *const s[] = {
	    "replace_pattern(name, \"\\\\?.*\", \"\")",
	    "replace_match(name, \"GET /api/products/*\", \"GET /api/products/{productId}\")"};
	otf_traces_t t;
	assert_int_equal(otf_pdata_json_decode_traces(&t, js, strlen(js), &arena, NULL, NULL), 0);
	otf_ottl_program_t *p = compile(OTF_OTTL_CTX_SPAN, s, N(s));
	otf_ottl_stats_t st = {0};
	assert_int_equal(otf_ottl_run_traces(p, OTF_OTTL_ERROR_IGNORE, &t, &arena, &st), 0);
	assert_int_equal(st.errors, 0);
	assert_int_equal(st.records, 3);
	otf_ottl_program_destroy(p);
	otf_buf_t *b = NULL;
	assert_int_equal(otf_pdata_encode_traces(&t, &b), 0);
	otf_traces_t back;
	assert_int_equal(otf_pdata_decode_traces(&back, b->data, b->len, &arena, NULL, NULL), 0);
	otf_span_t *sp = back.resource_spans[0].scope_spans[0].spans;
	assert_bytes(sp[0].name, "GET /api/products/{productId}");
	assert_bytes(sp[1].name, "GET /api/cart");
	assert_bytes(sp[2].name, "oteldemo.CartService/GetCart");
	otf_buf_unref(b);

	/* its metric statement, datapoint context */
	const char *const m[] = {"set(attributes[\"collector\"], \"otel-collector\")"};
	otf_metrics_t mt;
	static const char mj[] =
	    "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[{\"metrics\":[{\"name\":"
	    "\"app.ads.count\",\"sum\":{\"dataPoints\":[{\"asInt\":\"1\"},{\"asInt\":\"2\"}]}}]}]}]"
	    "}";
	assert_int_equal(otf_pdata_json_decode_metrics(&mt, mj, strlen(mj), &arena, NULL, NULL), 0);
	p = compile(OTF_OTTL_CTX_DATAPOINT, m, 1);
	assert_int_equal(otf_ottl_run_metrics(p, OTF_OTTL_ERROR_IGNORE, &mt, &arena, &st), 0);
	otf_ottl_program_destroy(p);
	otf_metric_t *mm = &mt.resource_metrics[0].scope_metrics[0].metrics[0];
	assert_str_attr(&mm->data_points.number[0].attributes, "collector", "otel-collector");
	assert_str_attr(&mm->data_points.number[1].attributes, "collector", "otel-collector");
}

static const char metrics_json[] =
    "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[{\"metrics\":["
    "{\"name\":\"http.server.duration\",\"unit\":\"ms\",\"sum\":{\"aggregationTemporality\":2,"
    "\"isMonotonic\":true,\"dataPoints\":[{\"asDouble\":0.25,\"attributes\":[{\"key\":\"k\","
    "\"value\":{\"stringValue\":\"a\"}}]},{\"asDouble\":0.75}]}},"
    "{\"name\":\"queue.size\",\"gauge\":{\"dataPoints\":[{\"asInt\":\"4\"}]}}]}]}]}";

static void test_metric_contexts(void **state)
{
	(void)state;
	otf_metrics_t m;
	assert_int_equal(otf_pdata_json_decode_metrics(&m, metrics_json, strlen(metrics_json),
	                                               &arena, NULL, NULL),
	                 0);
	const char *const ms[] = {
	    "set(description, \"cumulative sum\") where type == METRIC_DATA_TYPE_SUM and "
	    "aggregation_temporality == AGGREGATION_TEMPORALITY_CUMULATIVE",
	    "set(unit, \"1\") where type == METRIC_DATA_TYPE_GAUGE",
	};
	const char *const dp[] = {
	    "set(attributes[\"big\"], true) where value_double > 0.5",
	    "set(attributes[\"metric\"], metric.name) where metric.type == METRIC_DATA_TYPE_GAUGE",
	    "set(value_int, value_int * 10) where metric.name == \"queue.size\"",
	};
	otf_ottl_program_t *p1 = compile(OTF_OTTL_CTX_METRIC, ms, N(ms));
	otf_ottl_program_t *p2 = compile(OTF_OTTL_CTX_DATAPOINT, dp, N(dp));
	otf_ottl_stats_t st = {0};
	assert_int_equal(otf_ottl_run_metrics(p1, OTF_OTTL_ERROR_PROPAGATE, &m, &arena, &st), 0);
	assert_int_equal(otf_ottl_run_metrics(p2, OTF_OTTL_ERROR_PROPAGATE, &m, &arena, &st), 0);
	assert_int_equal(st.records, 2 + 3);
	otf_ottl_program_destroy(p1);
	otf_ottl_program_destroy(p2);
	otf_buf_t *b = NULL;
	assert_int_equal(otf_pdata_encode_metrics(&m, &b), 0);
	otf_metrics_t back;
	assert_int_equal(otf_pdata_decode_metrics(&back, b->data, b->len, &arena, NULL, NULL), 0);
	otf_metric_t *sum = &back.resource_metrics[0].scope_metrics[0].metrics[0];
	otf_metric_t *g = &back.resource_metrics[0].scope_metrics[0].metrics[1];
	assert_bytes(sum->description, "cumulative sum");
	assert_bytes(sum->unit, "ms");
	assert_bytes(g->unit, "1");
	assert_null(attr(&sum->data_points.number[0].attributes, "big"));
	assert_str_attr(&sum->data_points.number[0].attributes, "k", "a");
	assert_non_null(attr(&sum->data_points.number[1].attributes, "big"));
	assert_str_attr(&g->data_points.number[0].attributes, "metric", "queue.size");
	assert_int_equal(g->data_points.number[0].value.as_int, 40);
	otf_buf_unref(b);
}

static void test_error_modes(void **state)
{
	(void)state;
	/* statement 0 fails at run time on every record (severity_text is a
	 * string, count an int or nil), statement 1 must still run unless
	 * error_mode is propagate */
	const char *const s[] = {"set(severity_text, attributes[\"count\"]) where true",
	                         "set(attributes[\"after\"], 1)"};
	for (int mode = 0; mode < 3; mode++) {
		otf_logs_t l;
		assert_int_equal(otf_pdata_json_decode_logs(&l, logs_json, strlen(logs_json),
		                                            &arena, NULL, NULL),
		                 0);
		otf_ottl_program_t *p = compile(OTF_OTTL_CTX_LOG, s, N(s));
		otf_ottl_stats_t st = {0};
		int rc = otf_ottl_run_logs(p, (otf_ottl_error_mode_t)mode, &l, &arena, &st);
		otf_log_record_t *a = log_n(&l, 0);
		assert_bytes(a->severity_text, "INFO"); /* left as is */
		if (mode == OTF_OTTL_ERROR_PROPAGATE) {
			assert_int_equal(rc, OTF_E_INVAL);
			assert_int_equal(st.errors, 1);
			assert_null(attr(&a->attributes, "after"));
		} else {
			assert_int_equal(rc, 0);
			/* record 2 has no count: nil is skipped by set, no error */
			assert_int_equal(st.errors, 1);
			assert_int_attr(&a->attributes, "after", 1);
			assert_int_attr(&log_n(&l, 1)->attributes, "after", 1);
		}
		assert_int_equal(st.first_error.index, 0);
		assert_int_equal(st.first_error.column, 4);
		assert_non_null(strstr(st.first_error.msg, "cannot set severity_text to an int"));
		otf_ottl_program_destroy(p);
	}
	assert_int_equal(otf_ottl_error_mode_parse("ignore", 6), OTF_OTTL_ERROR_IGNORE);
	assert_int_equal(otf_ottl_error_mode_parse("silent", 6), OTF_OTTL_ERROR_SILENT);
	assert_int_equal(otf_ottl_error_mode_parse("propagate", 9), OTF_OTTL_ERROR_PROPAGATE);
	assert_int_equal(otf_ottl_error_mode_parse("loud", 4), -1);
}

static void test_statement_results_and_conditions(void **state)
{
	(void)state;
	otf_logs_t l;
	assert_int_equal(
	    otf_pdata_json_decode_logs(&l, logs_json, strlen(logs_json), &arena, NULL, NULL), 0);
	otf_ottl_record_t rec = {.resource = &l.resource_logs[0].resource,
	                         .scope = &l.resource_logs[0].scope_logs[0].scope,
	                         .log = log_n(&l, 1),
	                         .arena = &arena};
	const char *const s[] = {"set(body, \"x\") where severity_number == 9",
	                         "set(body, \"y\") where severity_number == 5",
	                         "set(attributes[\"i\"], Len(attributes[\"missing\"]))"};
	otf_ottl_program_t *p = compile(OTF_OTTL_CTX_LOG, s, N(s));
	otf_ottl_error_t e = {0};
	assert_int_equal(otf_ottl_exec_statement(p, 0, &rec, &e), OTF_OTTL_SKIPPED);
	assert_int_equal(otf_ottl_exec_statement(p, 1, &rec, &e), OTF_OTTL_APPLIED);
	assert_bytes(rec.log->body.u.string_value, "y");
	assert_int_equal(otf_ottl_exec_statement(p, 2, &rec, &e), OTF_E_INVAL);
	assert_int_equal(e.index, 2);
	/* a bad key fails before anything is created */
	{
		const char *const bk[] = {"set(attributes[\"new\"][0], 1)",
		                          "set(attributes[\"http.method\"][\"x\"], 1)"};
		otf_ottl_program_t *pk = compile(OTF_OTTL_CTX_LOG, bk, 2);
		size_t before = rec.log->attributes.len;
		otf_ottl_error_t ek = {0};
		assert_int_equal(otf_ottl_exec_statement(pk, 0, &rec, &ek), OTF_E_INVAL);
		assert_non_null(strstr(ek.msg, "map key must be a string"));
		assert_int_equal(ek.column, 22);
		assert_int_equal(otf_ottl_exec_statement(pk, 1, &rec, &ek), OTF_E_INVAL);
		assert_non_null(strstr(ek.msg, "cannot be indexed"));
		assert_int_equal(rec.log->attributes.len, before);
		assert_null(attr(&rec.log->attributes, "new"));
		otf_ottl_program_destroy(pk);
	}
	assert_int_equal(e.column, 25);
	assert_non_null(strstr(e.msg, "Len of nil"));
	/* a computed limit is checked when it runs */
	const char *const lim[] = {"limit(attributes, Len(attributes) - 1, [\"a\"])"};
	otf_ottl_program_t *pl = compile(OTF_OTTL_CTX_LOG, lim, 1);
	assert_int_equal(otf_ottl_exec_statement(pl, 0, &rec, &e), OTF_E_INVAL);
	assert_non_null(strstr(e.msg, "less than the 1 priority keys"));
	otf_ottl_program_destroy(pl);
	otf_ottl_program_destroy(p);

	const char *const c[] = {"attributes[\"http.method\"] == \"POST\"",
	                         "Len(attributes[\"missing\"]) > 0",
	                         ("resource.attributes[\"service.name\"] == \"checkout\" and "
	                          "not IsMatch(body, \"^y$\")")};
	otf_ottl_program_t *q = NULL;
	assert_int_equal(otf_ottl_compile_conditions(&q, OTF_OTTL_CTX_LOG, c, N(c), &e), 0);
	assert_int_equal(otf_ottl_eval_condition(q, 0, &rec, &e), 0);
	assert_int_equal(otf_ottl_eval_condition(q, 2, &rec, &e), 0);
	otf_ottl_stats_t st = {0};
	/* ignore: the erroring condition counts as false, the rest decide */
	assert_int_equal(otf_ottl_match_any(q, OTF_OTTL_ERROR_IGNORE, &rec, &st), 0);
	assert_int_equal(st.errors, 1);
	assert_int_equal(otf_ottl_match_any(q, OTF_OTTL_ERROR_PROPAGATE, &rec, &st), OTF_E_INVAL);
	rec.log = log_n(&l, 0);
	assert_int_equal(otf_ottl_match_any(q, OTF_OTTL_ERROR_PROPAGATE, &rec, &st), 1);
	assert_int_equal(otf_ottl_eval_condition(q, 2, &rec, &e), 1);
	otf_ottl_program_destroy(q);
}

/* One compiled program on several threads at once: it is read-only while
 * running; each thread has its own tree, arena and regex match block. */
typedef struct thread_job {
	const otf_ottl_program_t *p;
	int ok;
} thread_job_t;

static void *thread_main(void *arg)
{
	thread_job_t *j = arg;
	otf_arena_t a;
	otf_arena_init(&a, 0);
	j->ok = 1;
	for (int it = 0; it < 200 && j->ok; it++) {
		otf_arena_reset(&a);
		otf_logs_t l;
		otf_ottl_stats_t st = {0};
		if (otf_pdata_json_decode_logs(&l, logs_json, strlen(logs_json), &a, NULL, NULL) ||
		    otf_ottl_run_logs(j->p, OTF_OTTL_ERROR_PROPAGATE, &l, &a, &st))
			j->ok = 0;
		otf_log_record_t *r = &l.resource_logs[0].scope_logs[0].log_records[0];
		if (!bytes_is(r->body.u.string_value, "payment failed for user=*** id=42") ||
		    !attr(&r->attributes, "matched"))
			j->ok = 0;
	}
	otf_arena_close(&a);
	return NULL;
}

static void test_program_shared_by_threads(void **state)
{
	(void)state;
	const char *const s[] = {
	    "replace_pattern(body, \"user=\\\\w+\", \"user=***\")",
	    "set(attributes[\"matched\"], true) where IsMatch(body, \"\\\\*{3}\")"};
	otf_ottl_program_t *p = compile(OTF_OTTL_CTX_LOG, s, N(s));
	pthread_t t[4];
	thread_job_t jobs[4];
	for (int i = 0; i < 4; i++) {
		jobs[i] = (thread_job_t){p, 0};
		assert_int_equal(pthread_create(&t[i], NULL, thread_main, &jobs[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(jobs[i].ok, 1);
	}
	otf_ottl_program_destroy(p);
}

/* A backtracking blow-up stops at PCRE2's match limit: a runtime error the
 * caller's error_mode handles, never a hang. */
static void test_regex_match_limit(void **state)
{
	(void)state;
	otf_log_record_t log = {0};
	char body[64];
	memset(body, 'a', 40);
	body[40] = 'b';
	log.body.type = OTF_ANY_STRING;
	log.body.u.string_value = (otf_bytes_t){(const uint8_t *)body, 41};
	otf_ottl_record_t rec = {.log = &log, .arena = &arena};
	const char *const c[] = {"IsMatch(body, \"^(a|aa)+$\")", "body != nil"};
	otf_ottl_program_t *p = NULL;
	otf_ottl_error_t e = {0};
	assert_int_equal(otf_ottl_compile_conditions(&p, OTF_OTTL_CTX_LOG, c, 2, &e), 0);
	assert_int_equal(otf_ottl_eval_condition(p, 0, &rec, &e), OTF_E_INVAL);
	assert_non_null(strstr(e.msg, "regex match failed"));
	otf_ottl_stats_t st = {0};
	assert_int_equal(otf_ottl_match_any(p, OTF_OTTL_ERROR_IGNORE, &rec, &st), 1);
	assert_int_equal(st.errors, 1);
	otf_ottl_program_destroy(p);
}

static otf_ottl_program_t *conds(otf_ottl_context_t ctx, const char *const *c, size_t n)
{
	otf_ottl_program_t *p = NULL;
	otf_ottl_error_t e = {0};
	if (otf_ottl_compile_conditions(&p, ctx, c, n, &e))
		fail_msg("condition %zu column %zu: %s", e.index, e.column, e.msg);
	return p;
}

/* The filter processor's semantics: drop what matches, remove emptied
 * scopes and resources, metrics without points; then encode and compare. */
static void test_filter(void **state)
{
	(void)state;
	otf_logs_t l;
	assert_int_equal(
	    otf_pdata_json_decode_logs(&l, logs_json, strlen(logs_json), &arena, NULL, NULL), 0);
	const char *const c1[] = {"severity_number < SEVERITY_NUMBER_INFO",
	                          "Len(attributes[\"missing\"]) > 0"};
	otf_ottl_program_t *p = conds(OTF_OTTL_CTX_LOG, c1, 2);
	otf_ottl_stats_t st = {0};
	assert_int_equal(otf_ottl_filter_logs(p, OTF_OTTL_ERROR_IGNORE, &l, &arena, &st), 0);
	assert_int_equal(st.dropped, 1);
	assert_int_equal(st.errors,
	                 1); /* record 1's second condition; record 2 matched the first */
	assert_int_equal(l.resource_logs[0].scope_logs[0].log_records_len, 1);
	assert_int_equal(log_n(&l, 0)->severity_number, 9);
	/* propagate: the error comes back */
	assert_int_equal(otf_ottl_filter_logs(p, OTF_OTTL_ERROR_PROPAGATE, &l, &arena, &st),
	                 OTF_E_INVAL);
	otf_ottl_program_destroy(p);
	const char *const c2[] = {"resource.attributes[\"service.name\"] == \"checkout\""};
	p = conds(OTF_OTTL_CTX_LOG, c2, 1);
	assert_int_equal(otf_ottl_filter_logs(p, OTF_OTTL_ERROR_IGNORE, &l, &arena, NULL), 0);
	assert_int_equal(l.resource_logs_len, 0); /* emptied scope and resource removed */
	otf_ottl_program_destroy(p);

	otf_traces_t t;
	assert_int_equal(
	    otf_pdata_json_decode_traces(&t, traces_json, strlen(traces_json), &arena, NULL, NULL),
	    0);
	const char *const c3[] = {"name == \"log\""};
	p = conds(OTF_OTTL_CTX_SPANEVENT, c3, 1);
	assert_int_equal(otf_ottl_filter_traces(p, OTF_OTTL_ERROR_IGNORE, &t, &arena, NULL), 0);
	otf_ottl_program_destroy(p);
	const char *const c4[] = {"kind == SPAN_KIND_CLIENT"};
	p = conds(OTF_OTTL_CTX_SPAN, c4, 1);
	assert_int_equal(otf_ottl_filter_traces(p, OTF_OTTL_ERROR_IGNORE, &t, &arena, NULL), 0);
	otf_ottl_program_destroy(p);
	otf_buf_t *b = NULL;
	assert_int_equal(otf_pdata_encode_traces(&t, &b), 0);
	otf_traces_t back;
	assert_int_equal(otf_pdata_decode_traces(&back, b->data, b->len, &arena, NULL, NULL), 0);
	otf_scope_spans_t *ss = &back.resource_spans[0].scope_spans[0];
	assert_int_equal(ss->spans_len, 1);
	assert_bytes(ss->spans[0].name, "GET /api");
	assert_int_equal(ss->spans[0].events_len, 1);
	assert_bytes(ss->spans[0].events[0].name, "exception");
	otf_buf_unref(b); /* the decoded tree points into it */

	otf_metrics_t m;
	assert_int_equal(otf_pdata_json_decode_metrics(&m, metrics_json, strlen(metrics_json),
	                                               &arena, NULL, NULL),
	                 0);
	const char *const c5[] = {"value_double < 0.5 and metric.type == METRIC_DATA_TYPE_SUM",
	                          "metric.name == \"queue.size\""};
	p = conds(OTF_OTTL_CTX_DATAPOINT, c5, 2);
	st = (otf_ottl_stats_t){0};
	assert_int_equal(otf_ottl_filter_metrics(p, OTF_OTTL_ERROR_IGNORE, &m, &arena, &st), 0);
	assert_int_equal(st.dropped, 2);
	otf_ottl_program_destroy(p);
	otf_scope_metrics_t *sm = &m.resource_metrics[0].scope_metrics[0];
	assert_int_equal(sm->metrics_len, 1); /* queue.size lost its only point */
	assert_int_equal(sm->metrics[0].data_points_len, 1);
	assert_true(sm->metrics[0].data_points.number[0].value.as_double == 0.75);
	/* wrong program kinds */
	const char *const st1[] = {"set(name, \"x\")"};
	p = compile(OTF_OTTL_CTX_SPAN, st1, 1);
	assert_int_equal(otf_ottl_filter_traces(p, OTF_OTTL_ERROR_IGNORE, &t, &arena, NULL),
	                 OTF_E_INVAL);
	otf_ottl_program_destroy(p);
	p = conds(OTF_OTTL_CTX_LOG, c1, 1);
	assert_int_equal(otf_ottl_filter_traces(p, OTF_OTTL_ERROR_IGNORE, &t, &arena, NULL),
	                 OTF_E_INVAL);
	otf_ottl_program_destroy(p);
}

static void test_wrong_signal_context(void **state)
{
	(void)state;
	const char *const s[] = {"set(name, \"x\")"};
	otf_ottl_program_t *p = compile(OTF_OTTL_CTX_SPAN, s, 1);
	otf_logs_t l = {0};
	assert_int_equal(otf_ottl_run_logs(p, OTF_OTTL_ERROR_IGNORE, &l, &arena, NULL),
	                 OTF_E_INVAL);
	otf_ottl_program_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_set_where_severity, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nil_semantics, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_map_editors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replace_editors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_truncate_limit_merge_flatten, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flatten_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flatten_merge_memory_linear, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_converters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parse_json, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cache, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_span_contexts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_demo_transform_statements, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_metric_contexts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_error_modes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_statement_results_and_conditions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_program_shared_by_threads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_regex_match_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_filter, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_signal_context, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
