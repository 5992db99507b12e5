/* The OTLP/JSON decoders (simdjson On-Demand) against the former json-c
 * decoder (tests/support/jsonc_ref): the same trees and errors on the
 * example payloads (tests/data/otlp-json, examples/pdata), the JSON fuzz
 * seeds, hand-written edge cases and deterministic mutations of all of
 * them (truncations, single-byte replacements). See json_diff.h for the
 * differences that are allowed and why. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "otf_test.h"

#include "jsonc_ref/json_diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t g_checked, g_failed;

static void check(otf_signal_t sig, const char *data, size_t len, const char *what)
{
	char why[1200];
	g_checked++;
	if (otf_json_diff(sig, data, len, why, sizeof why))
		return;
	if (g_failed++ < 12)
		print_message("differ (%s, %zu bytes: %.*s): %s\n", what, len,
		              (int)(len < 160 ? len : 160), data, why);
}

static const struct {
	const char *file;
	otf_signal_t sig;
} FILES[] = {
    {"tests/data/otlp-json/trace.json", OTF_SIGNAL_TRACES},
    {"tests/data/otlp-json/metrics.json", OTF_SIGNAL_METRICS},
    {"tests/data/otlp-json/logs.json", OTF_SIGNAL_LOGS},
    {"tests/data/otlp-json/events.json", OTF_SIGNAL_LOGS},
    {"examples/pdata/traces.json", OTF_SIGNAL_TRACES},
    {"examples/pdata/metrics.json", OTF_SIGNAL_METRICS},
    {"examples/pdata/logs.json", OTF_SIGNAL_LOGS},
    {"tests/fuzz/corpus/json/traces.json", OTF_SIGNAL_TRACES},
    {"tests/fuzz/corpus/json/traces-first.json", OTF_SIGNAL_TRACES},
    {"tests/fuzz/corpus/json/metrics.json", OTF_SIGNAL_METRICS},
    {"tests/fuzz/corpus/json/metrics-first.json", OTF_SIGNAL_METRICS},
    {"tests/fuzz/corpus/json/logs.json", OTF_SIGNAL_LOGS},
    {"tests/fuzz/corpus/json/logs-first.json", OTF_SIGNAL_LOGS},
};

/* Values that exercise the scalar rules, put in place of each value (@) of
 * a log record, a span and data points below. */
static const char *const VALUES[] = {"0",
                                     "-0",
                                     "1",
                                     "-1",
                                     "1.0",
                                     "1.5",
                                     "1e3",
                                     "1E+2",
                                     "-2.5e-3",
                                     "1e400",
                                     "-1e400",
                                     "9223372036854775807",
                                     "9223372036854775808",
                                     "-9223372036854775808",
                                     "-9223372036854775809",
                                     "18446744073709551615",
                                     "18446744073709551616",
                                     "4294967295",
                                     "4294967296",
                                     "2147483648",
                                     "-2147483649",
                                     "\"\"",
                                     "\"12\"",
                                     "\"-12\"",
                                     "\"1e3\"",
                                     "\"1.5\"",
                                     "\"12x\"",
                                     "\"0x10\"",
                                     "\" 1\"",
                                     "\"NaN\"",
                                     "\"Infinity\"",
                                     "\"-Infinity\"",
                                     "\"nan\"",
                                     "true",
                                     "false",
                                     "null",
                                     "{}",
                                     "[]",
                                     "[1,2]",
                                     "[\"1\",null]",
                                     "{\"a\":1}",
                                     "\"5b8efff798038103d269b633813fc60c\"",
                                     "\"5B8EFFF798038103D269B633813FC60C\"",
                                     "\"eee19b7ec3c1b174\"",
                                     "\"eee19b7ec3c1b17g\"",
                                     "\"abc\"",
                                     "\"QUJD\"",
                                     "\"QUJDRA==\"",
                                     "\"QUJDR\"",
                                     "\"QQ=\"",
                                     "\"a\\u00e9\\n\\\"b\"",
                                     "\"\\ud83d\\ude00\"",
                                     "\"\\ud800\"",
                                     "\"a\\udc00b\"",
                                     "\"\\ud800\\u0041\"",
                                     "\"\\u0000\"",
                                     "\"\xc3\xa9\"",
                                     "\"\xff\"",
                                     "\"\xc0\xaf\"",
                                     "\"SEVERITY_NUMBER_INFO\"",
                                     "\"SPAN_KIND_SERVER\"",
                                     "\"STATUS_CODE_ERROR\"",
                                     "\"AGGREGATION_TEMPORALITY_DELTA\"",
                                     "\"SPAN_KIND_NOPE\"",
                                     "\"7\"",
                                     "NaN",
                                     "1.",
                                     "-01",
                                     "\"a\tb\"",
                                     "[[[[[[]]]]]]",
                                     "0.1",
                                     "2.2250738585072011e-308",
                                     "4.9e-324",
                                     "1e-400",
                                     "1.7976931348623157e308",
                                     "1.7976931348623159e308",
                                     "123456789012345678901234567890e-10",
                                     "9007199254740993",
                                     "-9007199254740993.0",
                                     "\"-0\"",
                                     "\"0001\"",
                                     "\"1e-400\""};

static const char *const TEMPLATES[][2] = {
    {"{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"k\",\"value\":{\"intValue\":@}}]"
     "},"
     "\"scopeLogs\":[{\"scope\":{\"name\":\"s\",\"droppedAttributesCount\":@},\"logRecords\":[{"
     "\"timeUnixNano\":@,\"severityNumber\":@,\"severityText\":@,\"traceId\":@,\"spanId\":@,"
     "\"flags\":@,\"body\":{\"stringValue\":@},\"attributes\":[{\"key\":@,\"value\":{"
     "\"doubleValue\":@}},{\"key\":\"b\",\"value\":{\"bytesValue\":@}},{\"key\":\"c\",\"value\":{"
     "\"boolValue\":@}}],\"x_unknown\":@}]}]}]}",
     "l"},
    {"{\"resource_spans\":[{\"scope_spans\":[{\"spans\":[{\"trace_id\":@,\"span_id\":@,"
     "\"parent_span_id\":@,\"name\":@,\"kind\":@,\"start_time_unix_nano\":@,\"status\":{\"code\":@,"
     "\"message\":@},\"events\":[{\"time_unix_nano\":@,\"name\":@}],\"links\":[{\"trace_id\":@,"
     "\"flags\":@}],\"attributes\":[{\"key\":\"a\",\"value\":{\"arrayValue\":{\"values\":[{"
     "\"intValue\":@},{\"kvlistValue\":{\"values\":[{\"key\":\"x\",\"value\":{\"stringValue\":@}}]}"
     "}"
     "]}}}]}]}]}]}",
     "t"},
    {"{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"name\":@,\"sum\":{"
     "\"aggregationTemporality\":@,\"isMonotonic\":@,\"dataPoints\":[{\"asInt\":@,\"timeUnixNano\":"
     "@,"
     "\"exemplars\":[{\"asDouble\":@,\"spanId\":@}]}]}},{\"name\":\"h\",\"histogram\":{"
     "\"dataPoints\":[{\"count\":@,\"sum\":@,\"bucketCounts\":[@],\"explicitBounds\":[@],\"min\":@}"
     "]}},"
     "{\"name\":\"e\",\"exponentialHistogram\":{\"dataPoints\":[{\"scale\":@,\"zeroCount\":@,"
     "\"positive\":{\"offset\":@,\"bucketCounts\":[@]}}]}},{\"name\":\"q\",\"summary\":{"
     "\"dataPoints\":[{\"quantileValues\":[{\"quantile\":@,\"value\":@}]}]}}]}]}]}",
     "m"},
};

static otf_signal_t sig_of(const char *c)
{
	return c[0] == 'l' ? OTF_SIGNAL_LOGS : c[0] == 't' ? OTF_SIGNAL_TRACES : OTF_SIGNAL_METRICS;
}

/* Every value of the template set to VALUES[v] in turn, one position at a
 * time (the others a valid default for the position is not known, so
 * they take VALUES[d] with d fixed per pass). */
static void templates(void)
{
	char buf[8192];
	for (size_t t = 0; t < sizeof TEMPLATES / sizeof TEMPLATES[0]; t++) {
		const char *tpl = TEMPLATES[t][0];
		size_t slots = 0;
		for (const char *q = tpl; *q; q++)
			slots += *q == '@';
		for (size_t slot = 0; slot < slots; slot++) {
			for (size_t v = 0; v < sizeof VALUES / sizeof VALUES[0]; v++) {
				size_t o = 0, k = 0;
				for (const char *q = tpl; *q && o + 64 < sizeof buf; q++) {
					if (*q != '@') {
						buf[o++] = *q;
						continue;
					}
					const char *val = k++ == slot ? VALUES[v] : "null";
					size_t n = strlen(val);
					memcpy(buf + o, val, n);
					o += n;
				}
				check(sig_of(TEMPLATES[t][1]), buf, o, "template");
			}
		}
	}
}

static const char *const EDGES[] = {
    "",
    " ",
    "{",
    "}",
    "{}",
    " {} ",
    "{} x",
    "{}{}",
    "[]",
    "null",
    "1",
    "\"x\"",
    "{\"a\":1,}",
    "{\"a\" 1}",
    "{\"a\":}",
    "{,}",
    "{\"resourceSpans\":[",
    "{\"resourceSpans\":[1 2]}",
    "{\"resourceSpans\":null}",
    "{\"resourceSpans\":[null]}",
    "{\"resourceSpans\":[{},]}",
    "{\"x\":[1 2],\"resourceSpans\":[]}",
    "{\"x\":{\"a\" 1},\"resourceSpans\":[]}",
    "{\"resourceSpans\":[{\"bad\":tru}]}",
    "{\"resourceSpans\":[{\"bad\":nul}]}",
    "{\"resourceSpans\":[{\"bad\":\"\\x\"}]}",
    "{\"resourceSpans\":[{\"bad\":\"\\u12\"}]}",
    "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":5}]}]}],\"x\":[1,}",
    "{\"resource\\u0053pans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"n\"}]}]}]}",
    "{\"resourceSpans\\u0000x\":[{}]}",
    "{\"resourceSpans\":[{}],\"resourceSpans\":[{},{}]}",
    "{\"\xff\":1,\"resourceSpans\":[]}",
    "\xef\xbb\xbf{}",
    "{\"a\":\"\x01\"}",
};

static void edges(void)
{
	for (size_t i = 0; i < sizeof EDGES / sizeof EDGES[0]; i++)
		for (int s = 0; s < 3; s++)
			check(s == 0   ? OTF_SIGNAL_TRACES
			      : s == 1 ? OTF_SIGNAL_METRICS
			               : OTF_SIGNAL_LOGS,
			      EDGES[i], strlen(EDGES[i]), "edge");
	/* nesting around json-c's limit for the default max_depth (152) */
	static char deep[1024];
	for (size_t d = 148; d <= 156; d++) {
		size_t o = 0;
		o += (size_t)snprintf(deep, sizeof deep, "{\"x\":");
		for (size_t k = 0; k < d; k++)
			deep[o++] = '[';
		for (size_t k = 0; k < d; k++)
			deep[o++] = ']';
		deep[o++] = '}';
		check(OTF_SIGNAL_TRACES, deep, o, "deep");
	}
}

static void mutations(const char *data, size_t len, otf_signal_t sig)
{
	static const char repl[] = {'"', '{', '}', '[', ']', ',', ':', '\\',       '0', '9',
	                            '-', 'e', '.', 'x', ' ', 'n', 't', (char)0xff, 'A'};
	char *buf = malloc(len + 1);
	size_t step = len / 61 + 1; /* ~60 cuts and ~60 positions per input */
	for (size_t cut = 0; cut < len; cut += step)
		check(sig, data, cut, "truncated");
	for (size_t i = 0; i < len; i += step) {
		for (size_t r = 0; r < sizeof repl; r++) {
			memcpy(buf, data, len);
			buf[i] = repl[r];
			check(sig, buf, len, "byte replaced");
		}
		/* a byte deleted */
		memcpy(buf, data, i);
		memcpy(buf + i, data + i + 1, len - i - 1);
		check(sig, buf, len - 1, "byte deleted");
	}
	free(buf);
}

static void test_same_as_jsonc(void **state)
{
	(void)state;
	char path[4096];
	for (size_t i = 0; i < sizeof FILES / sizeof FILES[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", otf_test_source_dir(), FILES[i].file);
		size_t len;
		uint8_t *data = otf_test_read_file(path, &len);
		if (!data)
			fail_msg("cannot read %s", path);
		for (int s = 0; s < 3; s++)
			check(s == 0   ? OTF_SIGNAL_TRACES
			      : s == 1 ? OTF_SIGNAL_METRICS
			               : OTF_SIGNAL_LOGS,
			      (const char *)data, len, FILES[i].file);
		mutations((const char *)data, len, FILES[i].sig);
		free(data);
	}
	edges();
	templates();
	print_message("%zu inputs checked, %zu differ\n", g_checked, g_failed);
	assert_true(g_checked > 10000);
	assert_int_equal(g_failed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same_as_jsonc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
