/* processor redaction: the cases of the Collector's redactionprocessor
 * README and its processor tests, written as table rows (OTLP/JSON in,
 * redact, encode, decode, attributes compared key by key), the summary
 * levels, hashes (digests from Python's hashlib as the oracle), Go's
 * replace-all rule for empty matches, log bodies, a second pass merging
 * the summary, and config errors (file:line:col, key, offset in the
 * pattern). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ottl_expect.h"

#include "components/processors/redaction/redaction.h"
#include "otflow/component.h"
#include "otflow/config.h"
#include "otflow/config_schema.h"

static const otf_component_factory_t *factory(void)
{
	otf_components_register_builtins();
	const otf_component_factory_t *f = otf_component_find(OTF_KIND_PROCESSOR, "redaction");
	assert_non_null(f);
	return f;
}

static int parse(const char *yaml, otf_redaction_config_t *c, otf_config_error_t *err)
{
	otf_config_t *cfg = NULL;
	if (otf_config_load_string("r.yaml", yaml, strlen(yaml), NULL, &cfg, err))
		fail_msg("yaml: %s", err->text);
	memset(c, 0, sizeof *c);
	int rc = otf_config_schema_apply(factory()->config_schema, otf_config_root(cfg), c, err);
	otf_config_destroy(cfg);
	if (!rc) {
		rc = factory()->validate(c, err->text, sizeof err->text);
		if (rc)
			otf_config_schema_free(factory()->config_schema, c);
	}
	return rc;
}

/* Redacts json (signal s) under yaml; the result after an encode/decode
 * round trip in *out; returns what apply returned. */
static int run(const char *yaml, otf_signal_t s, const char *json, ottlproc_tree_t *out)
{
	otf_redaction_config_t c;
	otf_config_error_t err;
	if (parse(yaml, &c, &err))
		fail_msg("config: %s", err.text);
	ottlproc_tree_t t = {.signal = s};
	int rc =
	    s == OTF_SIGNAL_TRACES
	        ? otf_pdata_json_decode_traces(&t.u.traces, json, strlen(json), &arena, NULL, NULL)
	    : s == OTF_SIGNAL_LOGS
	        ? otf_pdata_json_decode_logs(&t.u.logs, json, strlen(json), &arena, NULL, NULL)
	        : otf_pdata_json_decode_metrics(&t.u.metrics, json, strlen(json), &arena, NULL,
	                                        NULL);
	assert_int_equal(rc, 0);
	otf_redaction_stats_t st = {0};
	rc = otf__redaction_apply(&c, &t, &arena, &st);
	otf_config_schema_free(factory()->config_schema, &c);
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

/* "k=v k2=7 ..." of an attribute list in order: strings bare, ints as
 * numbers, other types by name. */
static void describe(const otf_attributes_t *a, char *out, size_t cap)
{
	size_t at = 0;
	out[0] = 0;
	for (size_t i = 0; i < a->len && at < cap; i++) {
		const otf_key_value_t *kv = &a->items[i];
		int n;
		if (kv->value.type == OTF_ANY_STRING)
			n = snprintf(out + at, cap - at, "%s%.*s=%.*s", i ? " " : "",
			             (int)kv->key.len, (const char *)kv->key.ptr,
			             (int)kv->value.u.string_value.len,
			             (const char *)kv->value.u.string_value.ptr);
		else if (kv->value.type == OTF_ANY_INT)
			n = snprintf(out + at, cap - at, "%s%.*s=%lld", i ? " " : "",
			             (int)kv->key.len, (const char *)kv->key.ptr,
			             (long long)kv->value.u.int_value);
		else
			n = snprintf(out + at, cap - at, "%s%.*s=<%d>", i ? " " : "",
			             (int)kv->key.len, (const char *)kv->key.ptr,
			             (int)kv->value.type);
		at += (size_t)n;
	}
}

#define S(k, v) "{\"key\":\"" k "\",\"value\":{\"stringValue\":\"" v "\"}}"
#define I(k, v) "{\"key\":\"" k "\",\"value\":{\"intValue\":\"" v "\"}}"

#define SPANS(attrs)                                                                        \
	"{\"resourceSpans\":[{\"resource\":{},\"scopeSpans\":[{\"scope\":{},\"spans\":[{"   \
	"\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"1112131415161718\"," \
	"\"name\":\"s\",\"attributes\":[" attrs "]}]}]}]}"

static const char *span_attrs(const char *yaml, const char *json, char *out, size_t cap)
{
	ottlproc_tree_t t;
	run(yaml, OTF_SIGNAL_TRACES, json, &t);
	describe(&t.u.traces.resource_spans[0].scope_spans[0].spans[0].attributes, out, cap);
	return out;
}

typedef struct row {
	const char *name, *yaml, *attrs, *want;
} row_t;

static const row_t k_rows[] = {
    {"keys not allowed are removed", "allowed_keys: [group, id, name]\n",
     S("group", "temporary") "," I("id", "5") "," S("name", "placeholder") "," S(
         "credit_card", "4111111111111111"),
     "group=temporary id=5 name=placeholder"},
    {"empty allowed_keys removes everything (fails closed)", "summary: silent\n",
     S("a", "1") "," S("b", "2"), ""},
    {"allow_all_keys still masks blocked values",
     "allow_all_keys: true\nallowed_keys: [group]\n"
     "blocked_values: ['4[0-9]{12}(?:[0-9]{3})?']\n",
     S("group", "temporary") "," S("credit_card", "placeholder 4111111111111111"),
     "group=temporary credit_card=placeholder ****"},
    {"summary debug",
     "allowed_keys: [id, group, name, group.id, \"member (id)\"]\n"
     "blocked_values: ['4[0-9]{12}(?:[0-9]{3})?']\n"
     "ignored_keys: [safe_attribute]\nsummary: debug\n",
     I("id", "5") "," S("group.id", "some.valid.id") "," S("member (id)", "other id") "," S(
         "name",
         "placeholder 4111111111111111") "," S("safe_attribute",
                                               "harmless 4111111111111112") "," S("credit_card",
                                                                                  "411111111111111"
                                                                                  "1") "," S("zz",
                                                                                             "x"),
     "id=5 group.id=some.valid.id member (id)=other id name=placeholder **** "
     "safe_attribute=harmless 4111111111111112 redaction.redacted.keys=credit_card,zz "
     "redaction.redacted.count=2 redaction.masked.keys=name redaction.masked.count=1 "
     "redaction.ignored.count=1"},
    {"summary info: counts only",
     "allowed_keys: [name]\nblocked_values: ['4[0-9]{15}']\nsummary: info\n",
     S("name", "x 4111111111111111") "," S("credit_card", "4111111111111111"),
     "name=x **** redaction.redacted.count=1 redaction.masked.count=1"},
    {"blocked_key_patterns mask the whole value, of any type",
     "allow_all_keys: true\nblocked_key_patterns: ['.*token.*', '.*api_key.*']\n",
     S("api_token", "abc\\ndef") "," I("my_api_key", "42") "," S("other", "token"),
     "api_token=****\n**** my_api_key=**** other=token"},
    {"allowed_values win over blocked values (README precedence)",
     "allow_all_keys: true\nblocked_values: [mycompany.com]\n"
     "allowed_values: [support.mycompany.com]\nsummary: debug\n",
     S("a", "support.mycompany.com") "," S("b", "user@mycompany.com"),
     "a=support.mycompany.com b=user@**** redaction.masked.keys=b redaction.masked.count=1 "
     "redaction.allowed.keys=a redaction.allowed.count=1"},
    {"ignored_key_patterns", "ignored_key_patterns: ['^safe\\.']\nsummary: info\n",
     S("safe.x", "4111111111111111") "," S("unsafe", "1"),
     "safe.x=4111111111111111 redaction.redacted.count=1 redaction.ignored.count=1"},
    {"hash md5", "allow_all_keys: true\nblocked_values: ['4[0-9]{15}']\nhash_function: md5\n",
     S("c", "card 4111111111111111."), "c=card 5910f4ea0062a0e29afd3dccc741e3ce."},
    {"hash sha1", "allow_all_keys: true\nblocked_values: ['4[0-9]{15}']\nhash_function: sha1\n",
     S("c", "4111111111111111"), "c=68bfb396f35af3876fc509665b3dc23a0930aab1"},
    {"hash sha3 (SHA3-256)",
     "allow_all_keys: true\nblocked_values: ['4[0-9]{15}']\nhash_function: sha3\n",
     S("c", "4111111111111111"),
     "c=6099154214406cce6105a4688ab66533d3a55d1d7dd393cbccf22b487a22d922"},
    {"hash hmac-sha256",
     "allow_all_keys: true\nblocked_values: ['4[0-9]{15}']\nhash_function: hmac-sha256\n"
     "hmac_key: kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\n",
     S("c", "4111111111111111"),
     "c=68461c4333f0d6ffc13ab17a895ccb61b6a8864e96602c4e91c869cfb9ccc6f1"},
    {"ints are seen only with redact_all_types",
     "allow_all_keys: true\nblocked_values: ['4[0-9]{15}']\n", I("n", "4111111111111111"),
     "n=4111111111111111"},
    {"redact_all_types",
     "allow_all_keys: true\nblocked_values: ['4[0-9]{15}']\n"
     "redact_all_types: true\n",
     I("n", "4111111111111111") ",{\"key\":\"d\",\"value\":{\"doubleValue\":0.5}}", "n=**** d=<4>"},
    /* Go's ReplaceAll: an empty match right after a match is skipped */
    {"empty matches as Go replaces them", "allow_all_keys: true\nblocked_values: ['a*']\n",
     S("v", "baaac"), "v=****b****c****"},
};

static void test_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(k_rows); i++) {
		char got[1024], json[2048];
		snprintf(
		    json, sizeof json,
		    "{\"resourceSpans\":[{\"resource\":{},\"scopeSpans\":[{\"scope\":{},"
		    "\"spans\":[{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\","
		    "\"spanId\":\"1112131415161718\",\"name\":\"s\",\"attributes\":[%s]}]}]}]}",
		    k_rows[i].attrs);
		span_attrs(k_rows[i].yaml, json, got, sizeof got);
		if (strcmp(got, k_rows[i].want))
			fail_msg("%s:\n got \"%s\"\nwant \"%s\"", k_rows[i].name, got,
			         k_rows[i].want);
	}
}

/* Every attribute map of every signal is redacted: resource, scope, span,
 * span event, log record, data points of each metric type. */
static void test_every_map(void **state)
{
	(void)state;
	static const char yaml[] = "allowed_keys: [keep]\nsummary: info\n";
	char got[512];
	ottlproc_tree_t t;
	assert_int_equal(
	    run(yaml, OTF_SIGNAL_TRACES,
	        "{\"resourceSpans\":[{\"resource\":{\"attributes\":[" S("keep", "r") "," S(
	            "x", "1") "]},\"scopeSpans\":[{\"scope\":{\"attributes\":"
	                      "[" S("x", "1") "]},"
	                                      "\"spans\":[{\"traceId\":"
	                                      "\"0102030405060708090a0b0c0d0e0f10\","
	                                      "\"spanId\":\"1112131415161718\","
	                                      "\"events\":[{\"name\":\"e\","
	                                      "\"attributes\":[" S("x", "1") "," S(
	                                          "keep", "e") "]}]}]}]}]}",
	        &t),
	    1);
	otf_resource_spans_t *rs = &t.u.traces.resource_spans[0];
	describe(&rs->resource.attributes, got, sizeof got);
	assert_string_equal(got, "keep=r redaction.redacted.count=1");
	describe(&rs->scope_spans[0].scope.attributes, got, sizeof got);
	assert_string_equal(got, "redaction.redacted.count=1");
	describe(&rs->scope_spans[0].spans[0].events[0].attributes, got, sizeof got);
	assert_string_equal(got, "keep=e redaction.redacted.count=1");

	static const char *const types[] = {"gauge", "sum", "histogram", "exponentialHistogram",
	                                    "summary"};
	for (size_t i = 0; i < N(types); i++) {
		char json[512];
		snprintf(json, sizeof json,
		         "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[{\"scope\":{},"
		         "\"metrics\":[{\"name\":\"m\",\"%s\":{\"dataPoints\":[{\"%s\":\"1\","
		         "\"attributes\":[%s]}]}}]}]}]}",
		         types[i], i < 2 ? "asInt" : "count", S("keep", "k") "," S("x", "y"));
		assert_int_equal(run(yaml, OTF_SIGNAL_METRICS, json, &t), 1);
		otf_metric_t *m = &t.u.metrics.resource_metrics[0].scope_metrics[0].metrics[0];
		const otf_attributes_t *a =
		    m->type == OTF_METRIC_HISTOGRAM ? &m->data_points.histogram[0].attributes
		    : m->type == OTF_METRIC_EXP_HISTOGRAM
		        ? &m->data_points.exp_histogram[0].attributes
		    : m->type == OTF_METRIC_SUMMARY ? &m->data_points.summary[0].attributes
		                                    : &m->data_points.number[0].attributes;
		describe(a, got, sizeof got);
		if (strcmp(got, "keep=k redaction.redacted.count=1"))
			fail_msg("metric type %zu: %s", i, got);
	}
	/* nothing to do: nothing changed, nothing to re-encode */
	assert_int_equal(run("allow_all_keys: true\n", OTF_SIGNAL_TRACES,
	                     SPANS(S("a", "1") "," S("b", "2")), &t),
	                 0);
}

static const otf_log_record_t *log0(const ottlproc_tree_t *t)
{
	return &t->u.logs.resource_logs[0].scope_logs[0].log_records[0];
}

#define LOG(body, attrs)                                                                     \
	"{\"resourceLogs\":[{\"resource\":{},\"scopeLogs\":[{\"scope\":{},\"logRecords\":[{" \
	"\"body\":" body ",\"attributes\":[" attrs "]}]}]}]}"

static void test_log_bodies(void **state)
{
	(void)state;
	static const char yaml[] = "allowed_keys: [user, card, nested, list, access_token]\n"
	                           "blocked_values: ['4[0-9]{15}']\n"
	                           "blocked_key_patterns: ['.*token.*']\n"
	                           "ignored_keys: [trace]\nsummary: debug\n";
	char got[1024];
	ottlproc_tree_t t;
	/* a string body */
	assert_int_equal(
	    run(yaml, OTF_SIGNAL_LOGS,
	        LOG("{\"stringValue\":\"paid with 4111111111111111\"}", S("user", "bob")), &t),
	    1);
	assert_bytes(log0(&t)->body.u.string_value, "paid with ****");
	describe(&log0(&t)->attributes, got, sizeof got);
	assert_string_equal(
	    got, "user=bob redaction.body.masked.keys=body redaction.body.masked.count=1");
	/* a map body: keys not allowed go, key patterns mask, nested paths */
	assert_int_equal(
	    run(yaml, OTF_SIGNAL_LOGS,
	        LOG("{\"kvlistValue\":{\"values\":[" S("user", "bob") "," S("password", "hunter2") "," S(
	                "access_token",
	                "t") "," S("trace",
	                           "4111111111111111") ","
	                                               "{\"key\":\"nested\",\"value\":{"
	                                               "\"kvlistValue\":{\"values\":[" S(
	                                                   "card",
	                                                   "4111111111111111") "," S("pin",
	                                                                             "1") "]}}},"
	                                                                                  "{\"key\""
	                                                                                  ":\"list"
	                                                                                  "\","
	                                                                                  "\"value"
	                                                                                  "\":{"
	                                                                                  "\"arrayV"
	                                                                                  "alue\":{"
	                                                                                  "\"values"
	                                                                                  "\":[{"
	                                                                                  "\"string"
	                                                                                  "Value\":"
	                                                                                  "\"411111"
	                                                                                  "11111111"
	                                                                                  "11\"}]}}"
	                                                                                  "}]}}",
	            ""),
	        &t),
	    1);
	const otf_any_value_t *b = &log0(&t)->body;
	assert_int_equal(b->type, OTF_ANY_KVLIST);
	otf_attributes_t body = {b->u.kvlist_value.values, b->u.kvlist_value.values_len};
	describe(&body, got, sizeof got);
	assert_string_equal(got, "user=bob access_token=**** trace=4111111111111111 nested=<6> "
	                         "list=<5>");
	const otf_any_value_t *nested = attr(&body, "nested");
	otf_attributes_t nb = {nested->u.kvlist_value.values, nested->u.kvlist_value.values_len};
	describe(&nb, got, sizeof got);
	assert_string_equal(got, "card=****");
	assert_bytes(attr(&body, "list")->u.array_value.values[0].u.string_value, "****");
	describe(&log0(&t)->attributes, got, sizeof got);
	assert_string_equal(got, "redaction.body.redacted.keys=nested.pin,password "
	                         "redaction.body.redacted.count=2 "
	                         "redaction.body.masked.keys=access_token,list.[0],nested.card "
	                         "redaction.body.masked.count=3 redaction.body.ignored.count=1");
}

/* A second redaction processor keeps the first one's summary and merges
 * into it (the Collector allows the redaction.* keys everywhere). */
static void test_second_pass(void **state)
{
	(void)state;
	char got[512];
	ottlproc_tree_t t;
	assert_int_equal(
	    run("allowed_keys: [a, b]\nsummary: debug\n", OTF_SIGNAL_TRACES,
	        SPANS(S("a", "1") "," S("b", "2") "," S(
	            "y", "3") ","
	                      "{\"key\":\"redaction.redacted.keys\",\"value\":{"
	                      "\"stringValue\":\"z\"}}," I("redaction.redacted.count", "1")),
	        &t),
	    1);
	describe(&t.u.traces.resource_spans[0].scope_spans[0].spans[0].attributes, got, sizeof got);
	assert_string_equal(got, "a=1 b=2 redaction.redacted.keys=y,z redaction.redacted.count=2");
}

static void expect_error(const char *yaml, const char *want1, const char *want2)
{
	otf_redaction_config_t c;
	otf_config_error_t err;
	assert_int_equal(parse(yaml, &c, &err), OTF_E_CONFIG);
	if (!strstr(err.text, want1) || (want2 && !strstr(err.text, want2)))
		fail_msg("error \"%s\" lacks \"%s\" / \"%s\"", err.text, want1, want2 ? want2 : "");
}

static void test_config_errors(void **state)
{
	(void)state;
	expect_error("blocked_values:\n  - 'ok'\n  - '4[0-9'\n", "r.yaml:3:5: blocked_values[1]",
	             "does not compile");
	expect_error("blocked_key_patterns: ['(?<x']\n", "r.yaml:1:24: blocked_key_patterns[0]",
	             "at offset");
	expect_error("url_sanitizer:\n  enabled: true\n", "r.yaml:2:12: url_sanitizer.enabled",
	             "not supported");
	expect_error("db_sanitizer:\n  sql: {enabled: true}\n", "db_sanitizer.sql.enabled",
	             "not supported");
	expect_error("hash_function: hmac-sha512\nhmac_key: short\n", "hmac_key of at least 64",
	             NULL);
	expect_error("summary: loud\n", "summary", "\"debug\"");
	expect_error("hash_function: sha256\n", "hash_function", "\"sha3\"");
	/* disabled sanitizers are accepted */
	otf_redaction_config_t c;
	otf_config_error_t err;
	assert_int_equal(parse("url_sanitizer: {enabled: false, attributes: [url]}\n"
	                       "db_sanitizer: {sql: {enabled: false}}\n",
	                       &c, &err),
	                 0);
	otf_config_schema_free(factory()->config_schema, &c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_every_map, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_log_bodies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_second_pass, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
