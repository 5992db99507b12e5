/* processor transform: the examples of the Collector's transformprocessor
 * README and the OpenTelemetry demo's statements as table tests (OTLP/JSON
 * in, transform, encode, decode, fields compared), group conditions,
 * error_mode, and config errors (file:line:col, key path, the column in
 * the statement). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ottl_expect.h"

#include "components/processors/transform/transform.h"
#include "otflow/component.h"
#include "otflow/config.h"
#include "otflow/config_schema.h"

static const otf_config_field_t *schema(void)
{
	otf_components_register_builtins();
	const otf_component_factory_t *f = otf_component_find(OTF_KIND_PROCESSOR, "transform");
	assert_non_null(f);
	return f->config_schema;
}

static int parse(const char *yaml, otf_transform_config_t *c, otf_config_error_t *err)
{
	otf_config_t *cfg = NULL;
	if (otf_config_load_string("t.yaml", yaml, strlen(yaml), NULL, &cfg, err))
		fail_msg("yaml: %s", err->text);
	memset(c, 0, sizeof *c);
	int rc = otf_config_schema_apply(schema(), otf_config_root(cfg), c, err);
	otf_config_destroy(cfg);
	return rc;
}

static void parse_ok(const char *yaml, otf_transform_config_t *c)
{
	otf_config_error_t err;
	if (parse(yaml, c, &err))
		fail_msg("config: %s", err.text);
}

/* Runs yaml's statements on json (signal s); the result, encoded and
 * decoded again, in *out. Returns the apply result. */
static int run(const char *yaml, otf_signal_t s, const char *json, ottlproc_tree_t *out,
               otf_ottl_stats_t *st)
{
	otf_transform_config_t c;
	parse_ok(yaml, &c);
	ottlproc_tree_t t = {.signal = s};
	int rc =
	    s == OTF_SIGNAL_TRACES
	        ? otf_pdata_json_decode_traces(&t.u.traces, json, strlen(json), &arena, NULL, NULL)
	    : s == OTF_SIGNAL_LOGS
	        ? otf_pdata_json_decode_logs(&t.u.logs, json, strlen(json), &arena, NULL, NULL)
	        : otf_pdata_json_decode_metrics(&t.u.metrics, json, strlen(json), &arena, NULL,
	                                        NULL);
	assert_int_equal(rc, 0);
	memset(st, 0, sizeof *st);
	uint64_t logged = 0;
	rc = otf__transform_apply(&c, &t, &arena, st, &logged);
	otf_config_schema_free(schema(), &c); /* the tree must not need the programs */
	otf_buf_t *b = NULL;
	uint64_t items = 0;
	assert_int_equal(otf__ottlproc_encode(&t, &b, &items), 0);
	uint8_t *copy = otf_arena_memdup(&arena, b->data, b->len ? b->len : 1);
	size_t len = b->len;
	otf_buf_unref(b);
	out->signal = s;
	int drc = s == OTF_SIGNAL_TRACES
	              ? otf_pdata_decode_traces(&out->u.traces, copy, len, &arena, NULL, NULL)
	          : s == OTF_SIGNAL_LOGS
	              ? otf_pdata_decode_logs(&out->u.logs, copy, len, &arena, NULL, NULL)
	              : otf_pdata_decode_metrics(&out->u.metrics, copy, len, &arena, NULL, NULL);
	assert_int_equal(drc, 0);
	return rc;
}

#define KV(k, v) "{\"key\":\"" k "\",\"value\":{\"stringValue\":\"" v "\"}}"
#define SPAN(name)                                                                           \
	"{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"1112131415161718\"," \
	"\"name\":\"" name "\"}"

static const char demo_spans[] = "{\"resourceSpans\":[{\"resource\":{\"attributes\":[" KV(
    "service.name",
    "frontend") "]},"
                "\"scopeSpans\":[{\"scope\":{\"name\":\"next\"},\"spans\":[" SPAN(
                    "GET "
                    "/api/products/"
                    "OLJCESPC7Z?"
                    "currencyCode="
                    "USD") "," SPAN("GET /api/cart?sessionId=1") "," SPAN("POST /api/checkout") "]}"
                                                                                                "]}"
                                                                                                "]"
                                                                                                "}";

/* The OpenTelemetry demo's collector config: span names lose their query
 * string, product ids become a placeholder. */
static const char demo_traces_yaml[] =
    "error_mode: ignore\n"
    "trace_statements:\n"
    "  - context: span\n"
    "    statements:\n"
    "      - replace_pattern(name, \"\\\\?.*\", \"\")\n"
    "      - replace_match(name, \"GET /api/products/*\", \"GET /api/products/{productId}\")\n";

static void test_demo_spans(void **state)
{
	(void)state;
	ottlproc_tree_t t;
	otf_ottl_stats_t st;
	assert_int_equal(run(demo_traces_yaml, OTF_SIGNAL_TRACES, demo_spans, &t, &st), 0);
	otf_scope_spans_t *ss = &t.u.traces.resource_spans[0].scope_spans[0];
	assert_int_equal(ss->spans_len, 3);
	assert_bytes(ss->spans[0].name, "GET /api/products/{productId}");
	assert_bytes(ss->spans[1].name, "GET /api/cart");
	assert_bytes(ss->spans[2].name, "POST /api/checkout");
	assert_bytes(ss->scope.name, "next");
	assert_int_equal(st.errors, 0);
	/* the same statements as a flat list with prefixed paths */
	assert_int_equal(run("trace_statements:\n"
	                     "  - replace_pattern(span.name, \"\\\\?.*\", \"\")\n"
	                     "  - replace_match(span.name, \"GET /api/products/*\", "
	                     "\"GET /api/products/{productId}\")\n",
	                     OTF_SIGNAL_TRACES, demo_spans, &t, &st),
	                 0);
	ss = &t.u.traces.resource_spans[0].scope_spans[0];
	assert_bytes(ss->spans[0].name, "GET /api/products/{productId}");
	assert_bytes(ss->spans[1].name, "GET /api/cart");
}

#define GAUGE(name) "{\"name\":\"" name "\",\"gauge\":{\"dataPoints\":[{\"asInt\":\"1\"}]}}"

static void test_demo_metrics(void **state)
{
	(void)state;
	static const char json[] =
	    "{\"resourceMetrics\":["
	    "{\"resource\":{\"attributes\":[" KV(
	        "service.name",
	        "cart") "]},"
	                "\"scopeMetrics\":[{\"scope\":{},\"metrics\":[" GAUGE(
	                    "a") "]}]},"
	                         "{\"resource\":{\"attributes\":[" KV("service.name", "ad") "," KV(
	                             "service.instance.id",
	                             "ad-1") "]},"
	                                     "\"scopeMetrics\":[{\"scope\":{},\"metrics\":[" GAUGE(
	                                         "b") "]}]},"
	                                              "{\"resource\":{},\"scopeMetrics\":[{"
	                                              "\"scope\":{},\"metrics\":[" GAUGE(
	                                                  "c") "]}]}]}";
	ottlproc_tree_t t;
	otf_ottl_stats_t st;
	assert_int_equal(
	    run("metric_statements:\n"
	        "  - context: resource\n"
	        "    statements:\n"
	        "      - set(attributes[\"service.instance.id\"], attributes[\"service.name\"]) "
	        "where attributes[\"service.instance.id\"] == nil and attributes[\"service.name\"] "
	        "!= nil\n",
	        OTF_SIGNAL_METRICS, json, &t, &st),
	    0);
	assert_int_equal(t.u.metrics.resource_metrics_len, 3);
	assert_str_attr(&t.u.metrics.resource_metrics[0].resource.attributes, "service.instance.id",
	                "cart");
	assert_str_attr(&t.u.metrics.resource_metrics[1].resource.attributes, "service.instance.id",
	                "ad-1");
	assert_int_equal(t.u.metrics.resource_metrics[2].resource.attributes.len, 0);
	assert_bytes(t.u.metrics.resource_metrics[2].scope_metrics[0].metrics[0].name, "c");
}

static const char logs_in[] =
    "{\"resourceLogs\":[{\"resource\":{},\"scopeLogs\":[{\"scope\":{},\"logRecords\":["
    "{\"severityText\":\"ERROR\",\"body\":{\"stringValue\":\"request failed\"},"
    "\"attributes\":[" KV(
        "http.route",
        "/user/7/list/9") "]},"
                          "{\"severityText\":\"INFO\",\"body\":{\"stringValue\":\"ok\"},"
                          "\"attributes\":[" KV("http.route", "/account/1234") "]}]}]}]}";

static const otf_log_record_t *log_at(const ottlproc_tree_t *t, size_t i)
{
	return &t->u.logs.resource_logs[0].scope_logs[0].log_records[i];
}

/* README "Basic Config" log_statements. */
static void test_readme_logs(void **state)
{
	(void)state;
	ottlproc_tree_t t;
	otf_ottl_stats_t st;
	assert_int_equal(
	    run("error_mode: ignore\n"
	        "log_statements:\n"
	        "  - set(log.severity_text, \"FAIL\") where log.body == \"request failed\"\n"
	        "  - replace_all_matches(log.attributes, \"/user/*/list/*\", "
	        "\"/user/{userId}/list/{listId}\")\n"
	        "  - replace_all_patterns(log.attributes, \"value\", \"/account/\\\\d{4}\", "
	        "\"/account/{accountId}\")\n"
	        "  - set(log.body, log.attributes[\"http.route\"])\n",
	        OTF_SIGNAL_LOGS, logs_in, &t, &st),
	    0);
	assert_bytes(log_at(&t, 0)->severity_text, "FAIL");
	assert_bytes(log_at(&t, 1)->severity_text, "INFO");
	assert_str_attr(&log_at(&t, 0)->attributes, "http.route", "/user/{userId}/list/{listId}");
	assert_str_attr(&log_at(&t, 1)->attributes, "http.route", "/account/{accountId}");
	assert_bytes(log_at(&t, 0)->body.u.string_value, "/user/{userId}/list/{listId}");
	assert_bytes(log_at(&t, 1)->body.u.string_value, "/account/{accountId}");
}

/* README "Advanced Config": group conditions (ORed) gate the statements. */
static void test_group_conditions(void **state)
{
	(void)state;
	ottlproc_tree_t t;
	otf_ottl_stats_t st;
	assert_int_equal(run("log_statements:\n"
	                     "  - conditions:\n"
	                     "      - log.severity_text == \"WARN\"\n"
	                     "      - log.body == \"request failed\"\n"
	                     "    statements:\n"
	                     "      - set(log.attributes[\"flagged\"], true)\n"
	                     "      - set(log.severity_text, \"FAIL\") where log.severity_text == "
	                     "\"ERROR\"\n"
	                     "  - context: log\n"
	                     "    statements: ['set(attributes[\"seen\"], 1)']\n",
	                     OTF_SIGNAL_LOGS, logs_in, &t, &st),
	                 0);
	const otf_any_value_t *f0 = attr(&log_at(&t, 0)->attributes, "flagged");
	assert_non_null(f0);
	assert_int_equal(f0->type, OTF_ANY_BOOL);
	assert_null(attr(&log_at(&t, 1)->attributes, "flagged"));
	assert_bytes(log_at(&t, 0)->severity_text, "FAIL");
	assert_int_attr(&log_at(&t, 0)->attributes, "seen", 1);
	assert_int_attr(&log_at(&t, 1)->attributes, "seen", 1);
}

static void test_error_modes(void **state)
{
	(void)state;
	/* statement 0 fails on every record (severity_text takes a string) */
	static const char stmts[] = "  - set(log.severity_text, 3)\n"
	                            "  - set(log.attributes[\"after\"], 1)\n";
	char yaml[256];
	ottlproc_tree_t t;
	otf_ottl_stats_t st;
	/* default ignore: the next statement still runs */
	snprintf(yaml, sizeof yaml, "log_statements:\n%s", stmts);
	assert_int_equal(run(yaml, OTF_SIGNAL_LOGS, logs_in, &t, &st), 0);
	assert_int_equal(st.errors, 2);
	assert_int_attr(&log_at(&t, 1)->attributes, "after", 1);
	assert_bytes(log_at(&t, 0)->severity_text, "ERROR");
	snprintf(yaml, sizeof yaml, "error_mode: propagate\nlog_statements:\n%s", stmts);
	assert_int_equal(run(yaml, OTF_SIGNAL_LOGS, logs_in, &t, &st), OTF_E_INVAL);
	assert_int_equal(st.first_error.index, 0);
	assert_non_null(strstr(st.first_error.msg, "severity_text"));
	/* a group's error_mode overrides the processor's */
	assert_int_equal(run("error_mode: propagate\n"
	                     "log_statements:\n"
	                     "  - error_mode: silent\n"
	                     "    statements: ['set(log.severity_text, 3)']\n",
	                     OTF_SIGNAL_LOGS, logs_in, &t, &st),
	                 0);
	assert_int_equal(st.errors, 2);
}

/* A group with no statements does nothing (fuzz_processor_config). */
static void test_empty_groups(void **state)
{
	(void)state;
	ottlproc_tree_t t;
	otf_ottl_stats_t st;
	assert_int_equal(run("log_statements:\n"
	                     "  - context: log\n"
	                     "    conditions: ['body == \"ok\"']\n"
	                     "    statements: []\n"
	                     "  - set(log.attributes[\"x\"], 1) where log.body == \"ok\"\n",
	                     OTF_SIGNAL_LOGS, logs_in, &t, &st),
	                 0);
	assert_null(attr(&log_at(&t, 0)->attributes, "x"));
	assert_int_attr(&log_at(&t, 1)->attributes, "x", 1);
}

static void expect_error(const char *yaml, const char *want1, const char *want2)
{
	otf_transform_config_t c;
	otf_config_error_t err;
	assert_int_equal(parse(yaml, &c, &err), OTF_E_CONFIG);
	if (!strstr(err.text, want1) || (want2 && !strstr(err.text, want2)))
		fail_msg("error \"%s\" lacks \"%s\" / \"%s\"", err.text, want1, want2 ? want2 : "");
}

static void test_config_errors(void **state)
{
	(void)state;
	expect_error("trace_statements:\n"
	             "  - set(span.name, \"a\")\n"
	             "  - set(span.name, \"b\") where span.nme == \"x\"\n",
	             "t.yaml:3:5: trace_statements[1]: OTTL statement: unknown path 'span.nme'",
	             "at column 27 of");
	expect_error("log_statements:\n  - context: log\n    statements:\n      - 'set(body, )'\n",
	             "t.yaml:4:9: log_statements[0].statements[0]: OTTL statement", "column");
	expect_error("log_statements:\n  - set(attributes[\"a\"], 1)\n", "t.yaml:2:5",
	             "cannot infer the OTTL context");
	expect_error("metric_statements:\n  - set(log.body, \"x\")\n", "t.yaml:2:5",
	             "\"log\" is not available for metrics");
	expect_error("log_statements:\n  - context: log\n", "missing required key \"statements\"",
	             NULL);
	expect_error("log_statements:\n  - context: log\n    statement: []\n",
	             "unknown key \"statement\"", "statements");
	expect_error("log_statements:\n  - context: lg\n    statements: []\n",
	             "t.yaml:2:14: log_statements[0].context", "unknown OTTL context");
	expect_error("trace_statements:\n  - context: span\n    conditions: ['nme == \"a\"']\n"
	             "    statements: ['set(name, \"b\")']\n",
	             "t.yaml:3:18: trace_statements[0].conditions[0]",
	             "OTTL condition: unknown path");
	expect_error("log_statements: set(log.body, \"x\")\n", "t.yaml:1:17",
	             "expected a list of OTTL statements");
	expect_error(
	    "log_statements:\n  - shared_cache: true\n    statements: ['set(log.body, \"x\")']\n",
	    "t.yaml:2:19: log_statements[0].shared_cache", "not supported");
	expect_error(
	    "log_statements:\n  - flatten: true\n    statements: ['set(log.body, \"x\")']\n",
	    "log_statements[0].flatten", "not supported");
	otf_transform_config_t c;
	otf_config_error_t err;
	assert_int_equal(parse("log_statements:\n  - shared_cache: false\n    flatten: false\n"
	                       "    statements: ['set(log.body, \"x\")']\n",
	                       &c, &err),
	                 0);
	otf_config_schema_free(schema(), &c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_demo_spans, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_demo_metrics, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_readme_logs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_group_conditions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_groups, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_error_modes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
