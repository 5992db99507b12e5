/* OTTL lexer, parser and checker: valid statements and conditions of every
 * grammar form compile; invalid ones fail with the message and the byte
 * column of the offending token; compiled regexes and the program are
 * freed (ASan build checks leaks); allocation failure is reported. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/ottl.h"

#include <stdio.h>
#include <string.h>

static void compiles(otf_ottl_context_t ctx, const char *stmt)
{
	otf_ottl_program_t *p = NULL;
	otf_ottl_error_t e = {0};
	int rc = otf_ottl_compile_statements(&p, ctx, &stmt, 1, &e);
	if (rc)
		fail_msg("'%s' failed at column %zu: %s", stmt, e.column, e.msg);
	assert_int_equal(otf_ottl_program_len(p), 1);
	otf_ottl_program_destroy(p);
}

static void cond_compiles(otf_ottl_context_t ctx, const char *cond)
{
	otf_ottl_program_t *p = NULL;
	otf_ottl_error_t e = {0};
	int rc = otf_ottl_compile_conditions(&p, ctx, &cond, 1, &e);
	if (rc)
		fail_msg("'%s' failed at column %zu: %s", cond, e.column, e.msg);
	otf_ottl_program_destroy(p);
}

/* Fails to compile at column col with a message containing needle. */
static void fails(otf_ottl_context_t ctx, bool cond, const char *src, size_t col,
                  const char *needle)
{
	otf_ottl_program_t *p = (otf_ottl_program_t *)1;
	otf_ottl_error_t e = {0};
	int rc = cond ? otf_ottl_compile_conditions(&p, ctx, &src, 1, &e)
	              : otf_ottl_compile_statements(&p, ctx, &src, 1, &e);
	if (rc != OTF_E_INVAL)
		fail_msg("'%s': expected OTF_E_INVAL, got %d", src, rc);
	assert_null(p);
	if (e.column != col || !strstr(e.msg, needle))
		fail_msg("'%s': got column %zu '%s', want column %zu containing '%s'", src,
		         e.column, e.msg, col, needle);
}

static void test_valid_statements(void **state)
{
	(void)state;
	static const char *const log_stmts[] = {
	    "set(attributes[\"k\"], \"v\")",
	    "set(log.attributes[\"a\"][\"b\"], 1)",
	    "set(severity_text, \"FAIL\") where body == \"request failed\"",
	    "set(severity_number, SEVERITY_NUMBER_ERROR) where IsMatch(body, \"^ERR\")",
	    ("set(attributes[\"x\"], -1.5e3) where not (severity_number < 9 or severity_number >= "
	     "17)"),
	    "set(attributes[\"b\"], 0xdeadBEEF)",
	    "set(attributes[\"l\"], [1, \"two\", 3.0, true, nil, [], {}])",
	    "set(attributes[\"m\"], {\"a\": 1, \"b\": {\"c\": [\"d\"]}})",
	    "set(attributes[\"c\"], Concat([resource.attributes[\"service.name\"], body], \"-\"))",
	    "set(attributes[\"s\"], Split(body, \",\")[0])",
	    "set(attributes[\"e\"], \"q\\\"uote\\\\ \\n\\t\\u00e9\")",
	    "delete_key(attributes, \"k\")",
	    "delete_matching_keys(attributes, \"^tmp\\\\.\")",
	    "keep_keys(attributes, [\"a\", \"b\"])",
	    "keep_matching_keys(resource.attributes, \"^service\")",
	    "replace_pattern(body, \"password=\\\\w+\", \"password=***\")",
	    "replace_match(attributes[\"p\"], \"/user/*/list\", \"/user/{id}/list\")",
	    "replace_all_patterns(attributes, \"value\", \"\\\\d+\", \"N\")",
	    "replace_all_matches(attributes, \"*secret*\", \"***\")",
	    "truncate_all(attributes, 10)",
	    "limit(attributes, 5, [\"http.method\"])",
	    "limit(attributes, 5)",
	    "merge_maps(attributes, resource.attributes, \"upsert\")",
	    "flatten(attributes)",
	    "flatten(attributes, \"p\", 2)",
	    "flatten(attributes, depth = 1)",
	    "set(attributes[\"n\"], Len(attributes) * 2 + 1)",
	    "set(attributes[\"t\"], UnixNano(Now()))",
	    "set(trace_id, TraceID(0x0102030405060708090a0b0c0d0e0f10))",
	    "set(span_id.string, \"0102030405060708\")",
	    "set(attributes[\"h\"], SHA256(body)) where IsString(body) and not IsInt(body)",
	    "set(attributes[\"i\"], Int(\"12\")) where Double(\"1.5\") > 1 and String(1) == \"1\"",
	    "set(attributes[\"u\"], ToUpperCase(ToLowerCase(severity_text)))",
	    "set(instrumentation_scope.name, \"s\")",
	    "set(scope.attributes[\"k\"], resource.schema_url)",
	    "set(body, attributes) where (1 + 2) == 3",
	    "set(attributes[attributes[\"key\"]], true)",
	};
	for (size_t i = 0; i < sizeof log_stmts / sizeof log_stmts[0]; i++)
		compiles(OTF_OTTL_CTX_LOG, log_stmts[i]);
	compiles(OTF_OTTL_CTX_SPAN,
	         "set(status.code, STATUS_CODE_ERROR) where kind == SPAN_KIND_SERVER");
	compiles(OTF_OTTL_CTX_SPAN,
	         "set(span.name, \"x\") where span.attributes[\"http.route\"] != nil");
	compiles(OTF_OTTL_CTX_SPANEVENT,
	         "set(attributes[\"span\"], span.name) where name == \"exception\"");
	compiles(OTF_OTTL_CTX_METRIC,
	         "set(description, \"d\") where type == METRIC_DATA_TYPE_SUM and "
	         "aggregation_temporality == AGGREGATION_TEMPORALITY_CUMULATIVE");
	compiles(OTF_OTTL_CTX_DATAPOINT,
	         "set(attributes[\"m\"], metric.name) where value_double > 0.5");
	compiles(OTF_OTTL_CTX_RESOURCE, "set(attributes[\"env\"], \"prod\")");
	compiles(OTF_OTTL_CTX_SCOPE, "set(version, \"1\") where name == \"lib\"");

	cond_compiles(OTF_OTTL_CTX_SPAN, "attributes[\"http.request.method\"] == nil");
	cond_compiles(OTF_OTTL_CTX_SPAN, "true");
	cond_compiles(OTF_OTTL_CTX_SPAN,
	              "not IsMatch(name, \"^health\") and (kind == 2 or kind == 3)");
	cond_compiles(OTF_OTTL_CTX_LOG, "severity_number < SEVERITY_NUMBER_WARN");
}

static void test_invalid(void **state)
{
	(void)state;
	const otf_ottl_context_t L = OTF_OTTL_CTX_LOG, S = OTF_OTTL_CTX_SPAN;
	/* lexical */
	fails(L, false, "set(attributes[\"k\"], \"open)", 21, "unterminated string");
	fails(L, false, "set(attributes[\"k\"], \"a\\qb\")", 23, "unknown escape");
	fails(L, false, "set(attributes[\"k\"], 0xabc)", 21, "even");
	fails(L, false, "set(attributes[\"k\"], 1 # 2)", 23, "unexpected character '#'");
	fails(L, false, "set(attributes[\"k\"], 1 ! 2)", 23, "'!'");
	fails(L, false, "set(attributes[\"k\"], 99999999999999999999)", 21, "out of range");
	/* syntax */
	fails(L, false, "set(attributes[\"k\"], \"v\"", 24, "expected ',' or ')'");
	fails(L, false, "set(attributes[\"k\"] \"v\")", 20, "expected ',' or ')'");
	fails(L, false, "attributes[\"k\"] == 1", 0, "editor call");
	fails(L, false, "set(body, 1) when true", 13, "unexpected identifier");
	fails(L, false, "set(body, 1) where", 18, "expected a value");
	fails(L, false, "set(body, 1) where a == 1 == 2", 26, "do not chain");
	fails(L, false, "set(body, [1, 2)", 15, "expected ',' or ']'");
	fails(L, false, "set(body, {1: 2})", 11, "map key must be a string");
	fails(L, false, "set(x = body, 1)", 14, "positional argument after a named");
	fails(L, false, "", 0, "editor call");
	/* checker: paths */
	fails(L, false, "set(attributes[\"k\"], nosuch)", 21, "unknown path 'nosuch' in the log");
	fails(L, false, "set(span.name, \"x\")", 4, "not available in the log context");
	fails(S, false, "set(severity_text, \"x\")", 4, "unknown path 'severity_text' in the span");
	fails(S, false, "set(status.nope, 1)", 4, "unknown path 'status.nope'");
	fails(L, false, "set(severity_text[\"a\"], \"x\")", 18, "cannot be indexed");
	fails(OTF_OTTL_CTX_METRIC, false, "set(type, 1)", 4, "read-only");
	/* checker: functions */
	fails(L, false, "frobnicate(body)", 0, "unknown function 'frobnicate'");
	fails(L, false, "set(body, Frob(1))", 10, "unknown function 'Frob'");
	fails(L, false, "Concat([body], \",\")", 0, "is a converter");
	fails(L, false, "set(body, set(body, 1))", 10, "is an editor");
	fails(L, false, "set(body)", 0, "needs argument 'value'");
	fails(L, false, "set(body, 1, 2)", 13, "at most 2 arguments");
	fails(L, false, "flatten(attributes, nope = 1)", 20, "no parameter named 'nope'");
	fails(L, false, "flatten(attributes, \"p\", prefix = \"q\")", 25, "given twice");
	fails(L, false, "delete_key(\"attributes\", \"k\")", 11, "must be a path");
	fails(L, false, "delete_key(severity_text, \"k\")", 11, "must be a map");
	fails(L, false, "delete_key(attributes, 1)", 23, "must be a string, found an int");
	fails(L, false, "truncate_all(attributes, \"10\")", 25, "must be an int");
	fails(L, false, "keep_keys(attributes, [\"a\", 1])", 28, "list of strings");
	fails(L, false, "truncate_all(attributes, -1)", 25, "cannot be negative");
	fails(L, false, "flatten(attributes, depth = -2)", 28, "cannot be negative");
	fails(L, false, "limit(attributes, 1, [\"a\", \"b\"])", 18,
	      "less than the 2 priority keys");
	fails(L, false, "replace_all_patterns(attributes, \"both\", \"a\", \"b\")", 33,
	      "invalid value");
	fails(L, false, "merge_maps(attributes, resource.attributes, \"merge\")", 44,
	      "invalid value");
	fails(L, false, "replace_pattern(body, body, \"x\")", 22, "string literal");
	fails(L, false, "replace_pattern(body, \"a(b\", \"x\")", 22, "invalid regex");
	/* \C could split a UTF-8 character: rejected, as RE2 does */
	fails(L, false, "replace_pattern(body, \"a\\\\C\", \"x\")", 22, "invalid regex");
	fails(L, false, "set(body, ToLowerCase(1))", 22, "must be a string");
	fails(L, false, "set(body, SEVERITY_NUMBER_LOUD)", 10, "unknown enum symbol");
	fails(L, false, "set(body, 1) where body", 19, "expected a condition");
	fails(L, false, "set(body, 1) where Len(body)", 19, "returns an int, not a boolean");
	fails(L, false, "set(body, 1) where 1 and true", 19, "expected a condition");
	fails(L, false, "set(body, 1 == 1)", 12, "cannot be used as a value");
	fails(L, false, "set(body, \"a\" + 1)", 10, "arithmetic needs numbers");
	fails(L, true, "body", 0, "expected a condition");
	fails(L, true, "body == 1 extra", 10, "unexpected identifier");
}

static void test_error_index(void **state)
{
	(void)state;
	const char *stmts[] = {"set(body, 1)", "set(attributes[\"a\"], 2)", "set(body, nope)"};
	otf_ottl_program_t *p = NULL;
	otf_ottl_error_t e = {0};
	assert_int_equal(otf_ottl_compile_statements(&p, OTF_OTTL_CTX_LOG, stmts, 3, &e),
	                 OTF_E_INVAL);
	assert_null(p);
	assert_int_equal(e.index, 2);
	assert_int_equal(e.column, 10);
}

static void infers(const char *const *s, size_t n, bool cond, otf_ottl_context_t want)
{
	otf_ottl_context_t got = OTF_OTTL_CTX_COUNT;
	otf_ottl_error_t e = {0};
	if (otf_ottl_infer_context(s, n, cond, &got, &e))
		fail_msg("'%s': column %zu: %s", s[e.index], e.column, e.msg);
	assert_int_equal(got, want);
}

static void infer_fails(const char *const *s, size_t n, size_t index, size_t col,
                        const char *needle)
{
	otf_ottl_context_t got;
	otf_ottl_error_t e = {0};
	assert_int_equal(otf_ottl_infer_context(s, n, false, &got, &e), OTF_E_INVAL);
	if (e.index != index || e.column != col || !strstr(e.msg, needle))
		fail_msg("got statement %zu column %zu '%s'", e.index, e.column, e.msg);
}

static void test_infer_context(void **state)
{
	(void)state;
	const char *a[] = {"set(resource.attributes[\"a\"], \"b\")",
	                   "set(span.name, \"x\") where resource.attributes[\"a\"] == \"b\""};
	infers(a, 1, false, OTF_OTTL_CTX_RESOURCE);
	infers(a, 2, false, OTF_OTTL_CTX_SPAN);
	const char *b[] = {"set(scope.name, \"s\")", "set(spanevent.name, span.name)"};
	infers(b, 2, false, OTF_OTTL_CTX_SPANEVENT);
	const char *c[] = {"datapoint.attributes[\"k\"] == metric.name",
	                   "instrumentation_scope.version == \"1\""};
	infers(c, 2, true, OTF_OTTL_CTX_DATAPOINT);
	const char *d[] = {"set(log.body, Concat([resource.attributes[\"a\"]], \"\"))"};
	infers(d, 1, false, OTF_OTTL_CTX_LOG);
	/* the inferred context compiles the statements as written */
	otf_ottl_program_t *p = NULL;
	otf_ottl_error_t e = {0};
	assert_int_equal(otf_ottl_compile_statements(&p, OTF_OTTL_CTX_SPAN, a, 2, &e), 0);
	otf_ottl_program_destroy(p);

	const char *x[] = {"set(span.name, \"x\")", "set(log.body, \"y\")"};
	infer_fails(x, 2, 1, 4, "contexts span and log cannot be combined");
	const char *y[] = {"set(span.name, name)"};
	infer_fails(y, 1, 0, 15, "names no context");
	const char *z[] = {"set(span.name, \"x\")", "set(span.name"};
	infer_fails(z, 2, 1, 13, "expected");
	const char *w[] = {"set(span.name, \"x\")", "delete_key(x, 1)"};
	infer_fails(w, 2, 1, 11, "names no context");
}

static void test_deep_nesting_bounded(void **state)
{
	(void)state;
	char buf[4096];
	size_t n = 0;
	n += (size_t)snprintf(buf, sizeof buf, "set(body, 1) where ");
	for (int i = 0; i < 1000; i++)
		buf[n++] = '(';
	buf[n] = 0;
	otf_ottl_program_t *p = NULL;
	otf_ottl_error_t e = {0};
	const char *s = buf;
	assert_int_equal(otf_ottl_compile_statements(&p, OTF_OTTL_CTX_LOG, &s, 1, &e), OTF_E_INVAL);
	assert_non_null(strstr(e.msg, "nested deeper"));
}

static void test_alloc_failure(void **state)
{
	(void)state;
	const char *s = "replace_pattern(body, \"a+\", \"b\") where IsMatch(body, \"x\")";
	for (int64_t k = 0; k < 64; k++) {
		otf_ottl_program_t *p = NULL;
		otf_ottl_error_t e = {0};
		otf_alloc_fail_after(k);
		int rc = otf_ottl_compile_statements(&p, OTF_OTTL_CTX_LOG, &s, 1, &e);
		otf_alloc_fail_after(-1);
		if (rc == 0) {
			otf_ottl_program_destroy(p);
			return;
		}
		assert_int_equal(rc, OTF_E_NOMEM);
		assert_null(p);
	}
	fail_msg("compile never succeeded");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_statements),     cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_error_index),          cmocka_unit_test(test_infer_context),
	    cmocka_unit_test(test_deep_nesting_bounded), cmocka_unit_test(test_alloc_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
