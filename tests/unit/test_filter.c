/* processor filter: the examples of the Collector's filterprocessor README
 * as table tests (OTLP/JSON in, filter, encode, decode, and the records
 * left compared by name, resource and scope), the top-down order of
 * contexts, error_mode, and config errors (file:line:col, key path, the
 * column in the condition; the legacy include/exclude form refused). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ottl_expect.h"

#include "components/processors/filter/filter.h"
#include "otflow/component.h"
#include "otflow/config.h"
#include "otflow/config_schema.h"

static const otf_config_field_t *schema(void)
{
	otf_components_register_builtins();
	const otf_component_factory_t *f = otf_component_find(OTF_KIND_PROCESSOR, "filter");
	assert_non_null(f);
	return f->config_schema;
}

/* Parses yaml as a filter config: 0 or the error (text in *err). */
static int parse(const char *yaml, otf_filter_config_t *c, otf_config_error_t *err)
{
	otf_config_t *cfg = NULL;
	if (otf_config_load_string("f.yaml", yaml, strlen(yaml), NULL, &cfg, err))
		fail_msg("yaml: %s", err->text);
	memset(c, 0, sizeof *c);
	int rc = otf_config_schema_apply(schema(), otf_config_root(cfg), c, err);
	otf_config_destroy(cfg);
	return rc;
}

static void parse_ok(const char *yaml, otf_filter_config_t *c)
{
	otf_config_error_t err;
	if (parse(yaml, c, &err))
		fail_msg("config: %s", err.text);
}

static void release(otf_filter_config_t *c)
{
	otf_config_schema_free(schema(), c);
}

/* "resource host / scope: name, name | ..." of what a tree holds, after an
 * encode/decode round trip (what goes downstream). */
static void describe(ottlproc_tree_t *t, char *out, size_t cap)
{
	otf_buf_t *b = NULL;
	uint64_t items = 0;
	assert_int_equal(otf__ottlproc_encode(t, &b, &items), 0);
	uint8_t *copy = otf_arena_memdup(&arena, b->data, b->len ? b->len : 1);
	size_t len = b->len;
	otf_buf_unref(b);
	ottlproc_tree_t d;
	d.signal = t->signal;
	size_t at = 0;
	out[0] = 0;
#define PUT(...) at += (size_t)snprintf(out + at, at < cap ? cap - at : 0, __VA_ARGS__)
	if (t->signal == OTF_SIGNAL_TRACES) {
		assert_int_equal(
		    otf_pdata_decode_traces(&d.u.traces, copy, len, &arena, NULL, NULL), 0);
		for (size_t a = 0; a < d.u.traces.resource_spans_len; a++) {
			otf_resource_spans_t *rs = &d.u.traces.resource_spans[a];
			const otf_any_value_t *h = attr(&rs->resource.attributes, "host.name");
			PUT("%s%.*s", a ? " | " : "", h ? (int)h->u.string_value.len : 1,
			    h ? (const char *)h->u.string_value.ptr : "-");
			for (size_t b2 = 0; b2 < rs->scope_spans_len; b2++) {
				otf_scope_spans_t *ss = &rs->scope_spans[b2];
				PUT(" / %.*s:", (int)ss->scope.name.len,
				    (const char *)ss->scope.name.ptr);
				for (size_t c = 0; c < ss->spans_len; c++) {
					otf_span_t *sp = &ss->spans[c];
					PUT(" %.*s", (int)sp->name.len, (const char *)sp->name.ptr);
					for (size_t e = 0; e < sp->events_len; e++)
						PUT("%s%.*s", e ? "," : "[",
						    (int)sp->events[e].name.len,
						    (const char *)sp->events[e].name.ptr);
					if (sp->events_len)
						PUT("]");
				}
			}
		}
	} else if (t->signal == OTF_SIGNAL_LOGS) {
		assert_int_equal(otf_pdata_decode_logs(&d.u.logs, copy, len, &arena, NULL, NULL),
		                 0);
		for (size_t a = 0; a < d.u.logs.resource_logs_len; a++) {
			otf_resource_logs_t *rl = &d.u.logs.resource_logs[a];
			const otf_any_value_t *h = attr(&rl->resource.attributes, "host.name");
			PUT("%s%.*s", a ? " | " : "", h ? (int)h->u.string_value.len : 1,
			    h ? (const char *)h->u.string_value.ptr : "-");
			for (size_t b2 = 0; b2 < rl->scope_logs_len; b2++) {
				otf_scope_logs_t *sl = &rl->scope_logs[b2];
				PUT(" / %.*s:", (int)sl->scope.name.len,
				    (const char *)sl->scope.name.ptr);
				for (size_t c = 0; c < sl->log_records_len; c++) {
					otf_log_record_t *r = &sl->log_records[c];
					PUT(" %.*s", (int)r->body.u.string_value.len,
					    (const char *)r->body.u.string_value.ptr);
				}
			}
		}
	} else {
		assert_int_equal(
		    otf_pdata_decode_metrics(&d.u.metrics, copy, len, &arena, NULL, NULL), 0);
		for (size_t a = 0; a < d.u.metrics.resource_metrics_len; a++) {
			otf_resource_metrics_t *rm = &d.u.metrics.resource_metrics[a];
			for (size_t b2 = 0; b2 < rm->scope_metrics_len; b2++) {
				otf_scope_metrics_t *sm = &rm->scope_metrics[b2];
				for (size_t c = 0; c < sm->metrics_len; c++) {
					otf_metric_t *m = &sm->metrics[c];
					PUT("%s%.*s", at ? " " : "", (int)m->name.len,
					    (const char *)m->name.ptr);
					for (size_t p = 0; p < m->data_points_len; p++)
						PUT("%s%lld", p ? "," : "=",
						    (long long)m->data_points.number[p]
						        .value.as_int);
				}
			}
		}
	}
#undef PUT
	(void)items;
}

static void decode_json(otf_signal_t s, const char *json, ottlproc_tree_t *t)
{
	t->signal = s;
	int rc =
	    s == OTF_SIGNAL_TRACES
	        ? otf_pdata_json_decode_traces(&t->u.traces, json, strlen(json), &arena, NULL, NULL)
	    : s == OTF_SIGNAL_LOGS
	        ? otf_pdata_json_decode_logs(&t->u.logs, json, strlen(json), &arena, NULL, NULL)
	        : otf_pdata_json_decode_metrics(&t->u.metrics, json, strlen(json), &arena, NULL,
	                                        NULL);
	assert_int_equal(rc, 0);
}

#define KV(k, v) "{\"key\":\"" k "\",\"value\":{\"stringValue\":\"" v "\"}}"
#define SPAN(name, attrs, events)                                                            \
	"{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"1112131415161718\"," \
	"\"name\":\"" name "\",\"attributes\":[" attrs "],\"events\":[" events "]}"
#define EVENT(name, attrs) "{\"name\":\"" name "\",\"attributes\":[" attrs "]}"

static const char traces_json[] =
    "{\"resourceSpans\":["
    "{\"resource\":{\"attributes\":[" KV(
        "host.name",
        "localhost") "]},"
                     "\"scopeSpans\":[{\"scope\":{\"name\":\"s1\"},\"spans\":[" SPAN(
                         "a", "",
                         "") "]}]},"
                             "{\"resource\":{\"attributes\":[" KV(
                                 "host.name",
                                 "web") "]},"
                                        "\"scopeSpans\":["
                                        "{\"scope\":{\"name\":\"s2\"},\"spans\":[" SPAN(
                                            "app_3", "",
                                            "") "," SPAN("b",
                                                         KV("container.name", "app_container_1"),
                                                         "") "]},"
                                                             "{\"scope\":{\"name\":\"s3\"},"
                                                             "\"spans\":[" SPAN(
                                                                 "c", KV("container.name", "other"),
                                                                 EVENT("grpc.call", "") "," EVENT(
                                                                     "keep", "")) "]}]}"
                                                                                  "]}";

static const char logs_in[] = "{\"resourceLogs\":[{\"resource\":{\"attributes\":[" KV(
    "host.name",
    "h1") "]},"
          "\"scopeLogs\":["
          "{\"scope\":{\"name\":\"a\"},\"logRecords\":["
          "{\"severityNumber\":13,\"body\":{\"stringValue\":\"my password is x\"}},"
          "{\"severityNumber\":9,\"body\":{\"stringValue\":\"info\"}},"
          "{\"severityNumber\":13,\"body\":{\"stringValue\":\"warned\"}}]},"
          "{\"scope\":{\"name\":\"b\"},\"logRecords\":["
          "{\"severityNumber\":5,\"severityText\":\"DEBUG\",\"body\":{\"stringValue\":\"dbg\"}}]}"
          "]}]}";

#define GAUGE(name, pts) "{\"name\":\"" name "\",\"gauge\":{\"dataPoints\":[" pts "]}}"
#define PT(v)            "{\"asInt\":\"" v "\"}"

static const char metrics_in[] =
    "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[{\"scope\":{},\"metrics\":[" GAUGE(
        "k8s.pod.phase", PT("4") "," PT("1")) "," GAUGE("k8s.pod.phase",
                                                        PT("4")) "," GAUGE("other",
                                                                           PT("4")) "]}]}]}";

typedef struct row {
	const char *name;
	otf_signal_t signal;
	const char *json;
	const char *yaml;
	const char *want;
	uint64_t dropped_items; /* items gone (records and what went with them) */
} row_t;

static const row_t k_rows[] = {
    /* README "Basic Config" trace_conditions */
    {"basic traces", OTF_SIGNAL_TRACES, traces_json,
     "trace_conditions:\n"
     "  - 'span.attributes[\"container.name\"] == \"app_container_1\"'\n"
     "  - 'resource.attributes[\"host.name\"] == \"localhost\"'\n"
     "  - 'span.name == \"app_3\"'\n",
     "web / s3: c[grpc.call,keep]"},
    /* README "Advanced Config" spanevent group; events go, the span stays */
    {"spanevent group", OTF_SIGNAL_TRACES, traces_json,
     "error_mode: propagate\n"
     "trace_conditions:\n"
     "  - context: spanevent\n"
     "    conditions:\n"
     "      - 'IsMatch(name, \".*grpc.*\")'\n"
     "  - context: resource\n"
     "    conditions: ['attributes[\"host.name\"] == \"localhost\"']\n",
     "web / s2: app_3 b / s3: c[keep]"},
    /* legacy per-context lists */
    {"legacy traces.span", OTF_SIGNAL_TRACES, traces_json,
     "traces:\n"
     "  span:\n"
     "    - 'name == \"a\"'\n"
     "    - 'attributes[\"container.name\"] == \"other\"'\n",
     "web / s2: app_3 b"},
    /* README log_conditions; scope b left empty is removed */
    {"basic logs", OTF_SIGNAL_LOGS, logs_in,
     "log_conditions:\n"
     "  - 'IsMatch(log.body, \".*password.*\")'\n"
     "  - 'log.severity_number < SEVERITY_NUMBER_WARN'\n",
     "h1 / a: warned"},
    {"legacy logs.log_record", OTF_SIGNAL_LOGS, logs_in,
     "logs:\n  log_record:\n    - 'severity_text == \"DEBUG\"'\n",
     "h1 / a: my password is x info warned"},
    /* README "Dropping specific metric and value": datapoint context, a
     * metric left without points is removed */
    {"metric and value", OTF_SIGNAL_METRICS, metrics_in,
     "error_mode: ignore\n"
     "metric_conditions:\n"
     "  - 'metric.name == \"k8s.pod.phase\" and datapoint.value_int == 4'\n",
     "k8s.pod.phase=1 other=4"},
    {"metric by name", OTF_SIGNAL_METRICS, metrics_in,
     "metrics:\n  metric:\n    - 'name == \"other\"'\n", "k8s.pod.phase=4,1 k8s.pod.phase=4"},
};

static void test_readme_examples(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(k_rows); i++) {
		const row_t *r = &k_rows[i];
		otf_filter_config_t c;
		parse_ok(r->yaml, &c);
		assert_true(otf__filter_has(&c, r->signal));
		ottlproc_tree_t t;
		decode_json(r->signal, r->json, &t);
		otf_ottl_stats_t st = {0};
		uint64_t logged = 0;
		int rc = otf__filter_apply(&c, &t, &arena, &st, &logged);
		if (rc)
			fail_msg("%s: %d %s", r->name, rc, st.first_error.msg);
		char got[512];
		describe(&t, got, sizeof got);
		if (strcmp(got, r->want))
			fail_msg("%s: got \"%s\", want \"%s\"", r->name, got, r->want);
		release(&c);
	}
}

/* A resource that matches is dropped before its spans are evaluated: a
 * span condition that would fail on them never runs. */
static void test_top_down(void **state)
{
	(void)state;
	otf_filter_config_t c;
	parse_ok("trace_conditions:\n"
	         "  - 'Len(span.attributes[\"missing\"]) > 0'\n"
	         "  - 'resource.attributes[\"host.name\"] != nil'\n",
	         &c);
	ottlproc_tree_t t;
	decode_json(OTF_SIGNAL_TRACES, traces_json, &t);
	otf_ottl_stats_t st = {0};
	uint64_t logged = 0;
	assert_int_equal(otf__filter_apply(&c, &t, &arena, &st, &logged), 0);
	assert_int_equal(st.errors, 0);
	assert_int_equal(t.u.traces.resource_spans_len, 0);
	release(&c);
}

/* A group with an empty (or null) condition list does nothing (found by
 * fuzz_processor_config: such a group had no program and crashed the run). */
static void test_empty_groups(void **state)
{
	(void)state;
	otf_filter_config_t c;
	parse_ok("trace_conditions:\n"
	         "  - context: span\n"
	         "    conditions: []\n"
	         "  - context: resource\n"
	         "    conditions:\n"
	         "  - 'span.name == \"b\"'\n",
	         &c);
	assert_int_equal(c.trace_conditions.n, 1);
	ottlproc_tree_t t;
	decode_json(OTF_SIGNAL_TRACES, traces_json, &t);
	otf_ottl_stats_t st = {0};
	uint64_t logged = 0;
	assert_int_equal(otf__filter_apply(&c, &t, &arena, &st, &logged), 0);
	char got[256];
	describe(&t, got, sizeof got);
	assert_string_equal(got, "localhost / s1: a | web / s2: app_3 / s3: c[grpc.call,keep]");
	release(&c);
}

static void test_error_modes(void **state)
{
	(void)state;
	static const char *const yaml[] = {
	    "log_conditions: ['Len(log.attributes[\"missing\"]) > 0', 'log.body == \"info\"']\n",
	    "error_mode: ignore\n"
	    "log_conditions: ['Len(log.attributes[\"missing\"]) > 0', 'log.body == \"info\"']\n",
	    "error_mode: propagate\n"
	    "log_conditions:\n"
	    "  - error_mode: silent\n"
	    "    conditions: ['Len(log.attributes[\"missing\"]) > 0']\n"
	    "  - 'log.body == \"info\"'\n",
	};
	for (int k = 0; k < 3; k++) {
		otf_filter_config_t c;
		parse_ok(yaml[k], &c);
		ottlproc_tree_t t;
		decode_json(OTF_SIGNAL_LOGS, logs_in, &t);
		otf_ottl_stats_t st = {0};
		uint64_t logged = 0;
		int rc = otf__filter_apply(&c, &t, &arena, &st, &logged);
		if (k == 0) {
			/* the default is propagate: the request is refused */
			assert_int_equal(rc, OTF_E_INVAL);
			assert_non_null(strstr(st.first_error.msg, "Len"));
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(st.errors, 4); /* every record, counted as false */
			assert_int_equal(logged, k == 1 ? 4 : 0);
			char got[256];
			describe(&t, got, sizeof got);
			assert_string_equal(got, "h1 / a: my password is x warned / b: dbg");
		}
		release(&c);
	}
}

static void expect_error(const char *yaml, const char *want1, const char *want2)
{
	otf_filter_config_t c;
	otf_config_error_t err;
	int rc = parse(yaml, &c, &err);
	assert_int_equal(rc, OTF_E_CONFIG);
	if (!strstr(err.text, want1) || (want2 && !strstr(err.text, want2)))
		fail_msg("error \"%s\" lacks \"%s\" / \"%s\"", err.text, want1, want2 ? want2 : "");
}

static void test_config_errors(void **state)
{
	(void)state;
	/* the column in the condition, and the YAML position of its string */
	expect_error("trace_conditions:\n  - 'span.name == \"a\"'\n"
	             "  - 'span.name == \"a\" and span.nme == \"b\"'\n",
	             "f.yaml:3:5: trace_conditions[1]: OTTL condition: unknown path 'span.nme'",
	             "at column 22 of");
	expect_error("log_conditions:\n  - 'log.body == '\n", "f.yaml:2:5: log_conditions[0]",
	             "column");
	/* no context prefix: cannot infer */
	expect_error("trace_conditions:\n  - 'name == \"a\"'\n", "f.yaml:2:5",
	             "cannot infer the OTTL context");
	/* a context of another signal */
	expect_error("log_conditions:\n  - 'span.name == \"a\"'\n", "f.yaml:2:5",
	             "\"span\" is not available for logs");
	/* legacy include/exclude, named by its key */
	expect_error("traces:\n  include:\n    match_type: strict\n    services: [a]\n",
	             "f.yaml:3:5: traces.include", "legacy traces.include form");
	expect_error("logs:\n  exclude:\n    match_type: regexp\n", "logs.exclude",
	             "not supported");
	expect_error("spans:\n  include: {}\n", "unknown key \"spans\"", NULL);
	expect_error("traces:\n  spn: ['name == \"a\"']\n", "unknown key \"spn\"",
	             "resource, span, spanevent");
	expect_error("error_mode: loud\n", "error_mode", "propagate");
	expect_error("trace_conditions:\n  - context: log\n    conditions: ['body == \"a\"']\n",
	             "f.yaml:2:5", "\"log\" is not available for traces");
	expect_error("trace_conditions:\n  - context: span\n",
	             "missing required key \"conditions\"", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_readme_examples, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_top_down, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_groups, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_error_modes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
