/* OTTL evaluator: table tests of the editors and converters over decoded
 * OTLP requests. Each case decodes a request, runs statements, encodes it
 * to protobuf, decodes the bytes again and compares fields exactly (names,
 * attribute values and types, severity, ids); nil semantics, ParseJSON,
 * cache, and that edited trees outlive the program. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ottl_expect.h"

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

/* merge_maps of an empty map into a record that has no attributes at all
 * (no array): nothing to do, not an allocation failure (found by fuzz_ottl) */
static void test_merge_maps_empty_into_none(void **state)
{
	(void)state;
	const char *const s[] = {"merge_maps(attributes, attributes, \"upsert\")",
	                         "merge_maps(attributes, {}, \"insert\")"};
	otf_logs_t l;
	run_logs("{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"severityNumber\":9}]}]}]}",
	         OTF_OTTL_CTX_LOG, s, N(s), &l);
	assert_int_equal(log_n(&l, 0)->attributes.len, 0);
	assert_int_equal(log_n(&l, 0)->severity_number, 9);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_set_where_severity, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nil_semantics, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_map_editors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_merge_maps_empty_into_none, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replace_editors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_truncate_limit_merge_flatten, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flatten_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flatten_merge_memory_linear, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_converters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parse_json, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cache, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
