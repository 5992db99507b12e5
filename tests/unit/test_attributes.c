/* processors attributes and resource: the examples of the Collector's
 * attributesprocessor and resourceprocessor READMEs (and the attraction
 * package's test data) as table tests: OTLP/JSON in, the actions applied
 * on the tree, encoded and decoded again (what goes downstream), and the
 * attributes compared key by key; include/exclude per signal; config
 * errors naming file:line and what is wrong. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ottl_expect.h"

#include "components/processors/internal/attrproc.h"
#include "otflow/component.h"
#include "otflow/config.h"
#include "otflow/config_schema.h"

#include <openssl/evp.h>

typedef struct attributes_config {
	otf_attr_actions_t actions;
	otf_attr_match_t include, exclude;
} attributes_config_t;

static const otf_component_factory_t *factory(const char *type)
{
	otf_components_register_builtins();
	const otf_component_factory_t *f = otf_component_find(OTF_KIND_PROCESSOR, type);
	assert_non_null(f);
	return f;
}

static int parse(const char *type, const char *yaml, void *c, otf_config_error_t *err)
{
	otf_config_t *cfg = NULL;
	if (otf_config_load_string("p.yaml", yaml, strlen(yaml), NULL, &cfg, err))
		fail_msg("yaml: %s", err->text);
	const otf_component_factory_t *f = factory(type);
	memset(c, 0, f->config_size);
	int rc = otf_config_schema_apply(f->config_schema, otf_config_root(cfg), c, err);
	otf_config_destroy(cfg);
	if (!rc && f->validate) {
		char why[256];
		rc = f->validate(c, why, sizeof why);
		if (rc) {
			snprintf(err->text, sizeof err->text, "%s", why);
			otf_config_schema_free(f->config_schema, c);
		}
	}
	return rc;
}

static void release(const char *type, void *c)
{
	otf_config_schema_free(factory(type)->config_schema, c);
}

static const char *ctx_get(const void *user, const char *key)
{
	(void)user;
	return !strcmp(key, "tenant") ? "acme" : !strcmp(key, "auth.username") ? "alice" : NULL;
}

typedef union tree {
	otf_traces_t t;
	otf_logs_t l;
	otf_metrics_t m;
} tree_t;

/* Decodes json, runs the processor's tree path, encodes and decodes back. */
static void run(const char *type, const char *yaml, otf_signal_t s, const char *json, tree_t *out)
{
	attributes_config_t c; /* big enough for resource's config too */
	otf_config_error_t err;
	if (parse(type, yaml, &c, &err))
		fail_msg("config: %s", err.text);
	tree_t in;
	size_t n = strlen(json);
	int rc = s == OTF_SIGNAL_TRACES
	             ? otf_pdata_json_decode_traces(&in.t, json, n, &arena, NULL, NULL)
	         : s == OTF_SIGNAL_LOGS
	             ? otf_pdata_json_decode_logs(&in.l, json, n, &arena, NULL, NULL)
	             : otf_pdata_json_decode_metrics(&in.m, json, n, &arena, NULL, NULL);
	assert_int_equal(rc, 0);
	attrproc_t p = {0};
	bool res = !strcmp(type, "resource");
	assert_int_equal(otf__attrproc_init(&p, NULL, &c.actions, res ? NULL : &c.include,
	                                    res ? NULL : &c.exclude, res),
	                 0);
	assert_int_equal(otf__attrproc_apply_tree(&p, s, &in, &arena, ctx_get, NULL), 0);
	otf_buf_t *b = NULL;
	rc = s == OTF_SIGNAL_TRACES ? otf_pdata_encode_traces(&in.t, &b)
	     : s == OTF_SIGNAL_LOGS ? otf_pdata_encode_logs(&in.l, &b)
	                            : otf_pdata_encode_metrics(&in.m, &b);
	assert_int_equal(rc, 0);
	uint8_t *copy = otf_arena_memdup(&arena, b->data, b->len ? b->len : 1);
	n = b->len;
	otf_buf_unref(b);
	rc = s == OTF_SIGNAL_TRACES ? otf_pdata_decode_traces(&out->t, copy, n, &arena, NULL, NULL)
	     : s == OTF_SIGNAL_LOGS
	         ? otf_pdata_decode_logs(&out->l, copy, n, &arena, NULL, NULL)
	         : otf_pdata_decode_metrics(&out->m, copy, n, &arena, NULL, NULL);
	assert_int_equal(rc, 0);
	release(type, &c);
}

static otf_attributes_t *span_attrs(tree_t *t, size_t i)
{
	return &t->t.resource_spans[0].scope_spans[0].spans[i].attributes;
}

static void sha256_hex(const char *s, char out[65])
{
	uint8_t md[32];
	unsigned n;
	EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

#define SPAN_JSON(attrs)                                                                        \
	"{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","         \
	"\"value\":{\"stringValue\":\"svc\"}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"lib\"}," \
	"\"spans\":[{\"name\":\"op\",\"kind\":2,\"attributes\":[" attrs "]}]}]}]}"

/* The README's sample configuration, action by action. */
static void test_readme_example(void **state)
{
	(void)state;
	static const char yaml[] =
	    "actions:\n"
	    "  - {key: db.table, action: delete}\n"
	    "  - {key: redacted_span, value: true, action: upsert}\n"
	    "  - {key: copy_key, from_attribute: key_original, action: update}\n"
	    "  - {key: account_id, value: 2245, action: insert}\n"
	    "  - {key: account_password, action: delete}\n"
	    "  - {key: account_email, action: hash}\n"
	    "  - {key: http.status_code, action: convert, converted_type: int}\n"
	    "  - {key: region, from_attribute: cloud.region,\n"
	    "     default_value: us-east-1, action: insert}\n"
	    "  - {key: tenant_id, from_context: metadata.tenant,\n"
	    "     default_value: default-tenant, action: upsert}\n"
	    "  - {key: user, from_context: auth.username, action: insert}\n"
	    "  - {key: none, from_context: metadata.absent, action: insert}\n";
	tree_t out;
	run("attributes", yaml, OTF_SIGNAL_TRACES,
	    SPAN_JSON("{\"key\":\"db.table\",\"value\":{\"stringValue\":\"users\"}},"
	              "{\"key\":\"key_original\",\"value\":{\"stringValue\":\"orig\"}},"
	              "{\"key\":\"account_id\",\"value\":{\"intValue\":\"7\"}},"
	              "{\"key\":\"account_password\",\"value\":{\"stringValue\":\"s3cr3t\"}},"
	              "{\"key\":\"account_email\",\"value\":{\"stringValue\":\"a@b.c\"}},"
	              "{\"key\":\"http.status_code\",\"value\":{\"stringValue\":\"200\"}}"),
	    &out);
	otf_attributes_t *a = span_attrs(&out, 0);
	assert_null(attr(a, "db.table"));
	assert_null(attr(a, "account_password"));
	assert_null(attr(a, "copy_key")); /* update: copy_key did not exist */
	const otf_any_value_t *v = attr(a, "redacted_span");
	assert_non_null(v);
	assert_int_equal(v->type, OTF_ANY_BOOL);
	assert_true(v->u.bool_value);
	assert_int_attr(a, "account_id", 7); /* insert: already there */
	char hex[65];
	sha256_hex("a@b.c", hex);
	assert_str_attr(a, "account_email", hex);
	assert_int_attr(a, "http.status_code", 200);
	assert_str_attr(a, "region", "us-east-1");
	assert_str_attr(a, "tenant_id", "acme");
	assert_str_attr(a, "key_original", "orig");
	assert_str_attr(a, "user", "alice"); /* the authenticator's identity */
	assert_null(attr(a, "none"));
	assert_int_equal(a->len, 8);
}

/* insert/update/upsert from_attribute and value types; insert appends. */
static void test_insert_update_upsert(void **state)
{
	(void)state;
	static const char yaml[] = "actions:\n"
	                           "  - {key: new, from_attribute: a, action: insert}\n"
	                           "  - {key: a, value: 1.5, action: update}\n"
	                           "  - {key: b, value: hello, action: upsert}\n"
	                           "  - {key: c, value: [1, x], action: upsert}\n"
	                           "  - {key: missing, from_attribute: nothing, action: upsert}\n";
	tree_t out;
	run("attributes", yaml, OTF_SIGNAL_TRACES,
	    SPAN_JSON("{\"key\":\"a\",\"value\":{\"stringValue\":\"A\"}},"
	              "{\"key\":\"b\",\"value\":{\"intValue\":\"3\"}}"),
	    &out);
	otf_attributes_t *a = span_attrs(&out, 0);
	assert_int_equal(a->len, 4);
	assert_bytes(a->items[2].key, "new");
	assert_str_attr(a, "new", "A");
	assert_int_equal(attr(a, "a")->type, OTF_ANY_DOUBLE);
	assert_true(attr(a, "a")->u.double_value == 1.5);
	assert_str_attr(a, "b", "hello");
	const otf_any_value_t *c = attr(a, "c");
	assert_int_equal(c->type, OTF_ANY_ARRAY);
	assert_int_equal(c->u.array_value.values_len, 2);
	assert_int_equal(c->u.array_value.values[0].u.int_value, 1);
	assert_bytes(c->u.array_value.values[1].u.string_value, "x");
	assert_null(attr(a, "missing"));
}

/* delete and hash by pattern; hash of int, bool, double as the Collector. */
static void test_delete_hash_pattern(void **state)
{
	(void)state;
	static const char yaml[] = "actions:\n"
	                           "  - {pattern: ^secret_, action: delete}\n"
	                           "  - {pattern: ^pii\\., action: hash}\n"
	                           "  - {key: n, action: hash}\n"
	                           "  - {key: t, action: hash}\n";
	tree_t out;
	run("attributes", yaml, OTF_SIGNAL_TRACES,
	    SPAN_JSON("{\"key\":\"secret_a\",\"value\":{\"stringValue\":\"1\"}},"
	              "{\"key\":\"keep\",\"value\":{\"stringValue\":\"k\"}},"
	              "{\"key\":\"secret_b\",\"value\":{\"stringValue\":\"2\"}},"
	              "{\"key\":\"pii.name\",\"value\":{\"stringValue\":\"bob\"}},"
	              "{\"key\":\"n\",\"value\":{\"intValue\":\"1\"}},"
	              "{\"key\":\"t\",\"value\":{\"boolValue\":true}}"),
	    &out);
	otf_attributes_t *a = span_attrs(&out, 0);
	assert_int_equal(a->len, 4);
	assert_null(attr(a, "secret_a"));
	assert_null(attr(a, "secret_b"));
	assert_str_attr(a, "keep", "k");
	char hex[65];
	sha256_hex("bob", hex);
	assert_str_attr(a, "pii.name", hex);
	/* int 1 as 8 bytes little endian; true as one byte 1 */
	uint8_t md[32], in8[8] = {1, 0, 0, 0, 0, 0, 0, 0};
	unsigned mdn;
	EVP_Digest(in8, 8, md, &mdn, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	assert_str_attr(a, "n", hex);
	EVP_Digest(in8, 1, md, &mdn, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	assert_str_attr(a, "t", hex);
}

/* extract: the attraction test data's URL rule. */
static void test_extract(void **state)
{
	(void)state;
	static const char yaml[] =
	    "actions:\n"
	    "  - key: http.url\n"
	    "    pattern: ^(?P<http_protocol>.*):\\/\\/(?P<http_domain>.*)\\/(?P<http_path>.*)"
	    "(\\?|\\&)(?P<http_query_params>.*)\n"
	    "    action: extract\n";
	/* the unnamed (\?|\&) group is refused, as in the Collector */
	attributes_config_t c;
	otf_config_error_t err;
	assert_int_equal(parse("attributes", yaml, &c, &err), OTF_E_CONFIG);
	assert_non_null(strstr(err.text, "unnamed matcher group"));
	assert_non_null(strstr(err.text, "p.yaml:3:"));
	static const char yaml2[] =
	    "actions:\n"
	    "  - key: http.url\n"
	    "    pattern: ^(?P<http_protocol>.*):\\/\\/(?P<http_domain>.*)\\/(?P<http_path>.*)"
	    "[?&](?P<http_query_params>.*)\n"
	    "    action: extract\n";
	tree_t out;
	run("attributes", yaml2, OTF_SIGNAL_TRACES,
	    SPAN_JSON("{\"key\":\"http.url\",\"value\":{\"stringValue\":"
	              "\"http://example.com/path?queryParam1=value1,queryParam2=value2\"}},"
	              "{\"key\":\"http_domain\",\"value\":{\"stringValue\":\"old\"}}"),
	    &out);
	otf_attributes_t *a = span_attrs(&out, 0);
	assert_str_attr(a, "http.url",
	                "http://example.com/path?queryParam1=value1,queryParam2=value2");
	assert_str_attr(a, "http_protocol", "http");
	assert_str_attr(a, "http_domain", "example.com");
	assert_str_attr(a, "http_path", "path");
	assert_str_attr(a, "http_query_params", "queryParam1=value1,queryParam2=value2");
	assert_int_equal(a->len, 5);
}

static void test_convert(void **state)
{
	(void)state;
	static const char yaml[] = "actions:\n"
	                           "  - {key: i, action: convert, converted_type: int}\n"
	                           "  - {key: d, action: convert, converted_type: double}\n"
	                           "  - {key: s, action: convert, converted_type: string}\n"
	                           "  - {key: bad, action: convert, converted_type: int}\n"
	                           "  - {key: f, action: convert, converted_type: int}\n";
	tree_t out;
	run("attributes", yaml, OTF_SIGNAL_TRACES,
	    SPAN_JSON("{\"key\":\"i\",\"value\":{\"stringValue\":\"-42\"}},"
	              "{\"key\":\"d\",\"value\":{\"stringValue\":\"2.5\"}},"
	              "{\"key\":\"s\",\"value\":{\"intValue\":\"123\"}},"
	              "{\"key\":\"bad\",\"value\":{\"stringValue\":\"12x\"}},"
	              "{\"key\":\"f\",\"value\":{\"doubleValue\":3.9}}"),
	    &out);
	otf_attributes_t *a = span_attrs(&out, 0);
	assert_int_attr(a, "i", -42);
	assert_int_equal(attr(a, "d")->type, OTF_ANY_DOUBLE);
	assert_true(attr(a, "d")->u.double_value == 2.5);
	assert_str_attr(a, "s", "123");
	assert_str_attr(a, "bad", "12x"); /* left as it was */
	assert_int_attr(a, "f", 3);
}

#define TWO_SERVICES_JSON                                                                          \
	"{\"resourceSpans\":["                                                                     \
	"{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":"     \
	"\"auth\"}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"lib\",\"version\":\"1\"},\"spans\":[" \
	"{\"name\":\"login\",\"kind\":2,\"attributes\":[{\"key\":\"env\",\"value\":{"              \
	"\"stringValue\":\"prod\"}}]},"                                                            \
	"{\"name\":\"healthz\",\"kind\":3,\"attributes\":[{\"key\":\"env\",\"value\":{"            \
	"\"stringValue\":\"dev\"}}]}]}]},"                                                         \
	"{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":"     \
	"\"billing\"}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"lib\"},\"spans\":["                \
	"{\"name\":\"login\",\"kind\":2}]}]}]}"

static bool tagged(tree_t *t, size_t r, size_t i)
{
	return attr(&t->t.resource_spans[r].scope_spans[0].spans[i].attributes, "tagged") != NULL;
}

/* include/exclude on spans: services, span_names (regexp), span_kinds,
 * attributes, libraries; include checked before exclude. */
static void test_include_exclude_spans(void **state)
{
	(void)state;
	static const struct {
		const char *match;
		bool want[3]; /* auth/login, auth/healthz, billing/login */
	} cases[] = {
	    {"include: {match_type: strict, services: [auth]}\n", {1, 1, 0}},
	    {"include: {match_type: regexp, services: [\"^bill\"]}\n", {0, 0, 1}},
	    {"exclude: {match_type: strict, span_names: [healthz]}\n", {1, 0, 1}},
	    {"include: {match_type: regexp, span_names: [\"log.*\"]}\n"
	     "exclude: {match_type: strict, services: [billing]}\n",
	     {1, 0, 0}},
	    {"include: {match_type: strict, span_kinds: [Client]}\n", {0, 1, 0}},
	    {"include: {match_type: strict, span_kinds: [SPAN_KIND_SERVER]}\n", {1, 0, 1}},
	    {"include: {match_type: strict, attributes: [{key: env, value: prod}]}\n", {1, 0, 0}},
	    {"include: {match_type: strict, attributes: [{key: env}]}\n", {1, 1, 0}},
	    {"include: {match_type: regexp, attributes: [{key: env, value: \"^d\"}]}\n", {0, 1, 0}},
	    {"include: {match_type: strict, libraries: [{name: lib, version: \"1\"}]}\n",
	     {1, 1, 0}},
	    {"include: {match_type: strict, libraries: [{name: lib}]}\n", {1, 1, 1}},
	    {"include: {match_type: strict, resources: [{key: service.name, value: billing}]}\n",
	     {0, 0, 1}},
	    {"include: {match_type: strict, services: [auth], span_names: [login]}\n", {1, 0, 0}},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char yaml[512];
		snprintf(yaml, sizeof yaml,
		         "actions: [{key: tagged, value: 1, action: insert}]\n%s", cases[i].match);
		tree_t out;
		run("attributes", yaml, OTF_SIGNAL_TRACES, TWO_SERVICES_JSON, &out);
		bool got[3] = {tagged(&out, 0, 0), tagged(&out, 0, 1), tagged(&out, 1, 0)};
		for (int k = 0; k < 3; k++)
			if (got[k] != cases[i].want[k])
				fail_msg("case %zu (%s): span %d tagged=%d, want %d", i,
				         cases[i].match, k, got[k], cases[i].want[k]);
	}
}

#define LOGS_JSON                                                                           \
	"{\"resourceLogs\":[{\"resource\":{},\"scopeLogs\":[{\"scope\":{\"name\":\"l\"},"   \
	"\"logRecords\":["                                                                  \
	"{\"severityNumber\":9,\"severityText\":\"INFO\",\"body\":{\"stringValue\":\"user " \
	"login\"}},"                                                                        \
	"{\"severityNumber\":17,\"severityText\":\"ERROR\",\"body\":{\"stringValue\":\"db " \
	"down\"}},"                                                                         \
	"{\"body\":{\"stringValue\":\"no severity\"}}]}]}]}"

static void test_include_logs(void **state)
{
	(void)state;
	static const struct {
		const char *match;
		bool want[3];
	} cases[] = {
	    {"include: {match_type: strict, log_severity_texts: [ERROR]}\n", {0, 1, 0}},
	    {"include: {match_type: regexp, log_bodies: [login]}\n", {1, 0, 0}},
	    {"include: {match_type: strict, log_severity_number: {min: WARN}}\n", {0, 1, 0}},
	    {"include: {match_type: strict, log_severity_number: {min: 9, match_undefined: "
	     "true}}\n",
	     {1, 1, 1}},
	    {"exclude: {match_type: strict, log_bodies: [db down]}\n", {1, 0, 1}},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char yaml[512];
		snprintf(yaml, sizeof yaml,
		         "actions: [{key: tagged, value: yes, action: insert}]\n%s",
		         cases[i].match);
		tree_t out;
		run("attributes", yaml, OTF_SIGNAL_LOGS, LOGS_JSON, &out);
		for (int k = 0; k < 3; k++) {
			otf_log_record_t *r = &out.l.resource_logs[0].scope_logs[0].log_records[k];
			bool got = attr(&r->attributes, "tagged") != NULL;
			if (got != cases[i].want[k])
				fail_msg("case %zu (%s): record %d tagged=%d, want %d", i,
				         cases[i].match, k, got, cases[i].want[k]);
		}
	}
}

static void test_metrics_data_points(void **state)
{
	(void)state;
	static const char json[] =
	    "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[{\"metrics\":["
	    "{\"name\":\"a\",\"gauge\":{\"dataPoints\":[{\"asInt\":\"1\",\"attributes\":[{\"key\":"
	    "\"x\",\"value\":{\"stringValue\":\"1\"}}]},{\"asInt\":\"2\"}]}},"
	    "{\"name\":\"b\",\"sum\":{\"dataPoints\":[{\"asInt\":\"3\"}]}}]}]}]}";
	tree_t out;
	run("attributes",
	    "actions: [{key: x, action: delete}, {key: tagged, value: 1, action: insert}]\n"
	    "include: {match_type: strict, metric_names: [a]}\n",
	    OTF_SIGNAL_METRICS, json, &out);
	otf_metric_t *m = out.m.resource_metrics[0].scope_metrics[0].metrics;
	for (int i = 0; i < 2; i++) {
		otf_attributes_t *a = &m[0].data_points.number[i].attributes;
		assert_int_equal(a->len, 1);
		assert_int_attr(a, "tagged", 1);
	}
	assert_int_equal(m[1].data_points.number[0].attributes.len, 0);
}

/* processor resource: its README's example on every signal. */
static void test_resource_readme(void **state)
{
	(void)state;
	static const char yaml[] =
	    "attributes:\n"
	    "  - {key: cloud.availability_zone, value: zone-1, action: upsert}\n"
	    "  - {key: k8s.cluster.name, from_attribute: k8s-cluster, action: insert}\n"
	    "  - {key: redundant-attribute, action: delete}\n";
	static const char *const res =
	    "\"resource\":{\"attributes\":[{\"key\":\"k8s-cluster\",\"value\":{\"stringValue\":"
	    "\"c1\"}},{\"key\":\"redundant-attribute\",\"value\":{\"stringValue\":\"r\"}},"
	    "{\"key\":\"cloud.availability_zone\",\"value\":{\"stringValue\":\"zone-0\"}}]}";
	char json[1024];
	otf_attributes_t *ra[3];
	tree_t out[3];
	snprintf(json, sizeof json, "{\"resourceSpans\":[{%s,\"scopeSpans\":[]}]}", res);
	run("resource", yaml, OTF_SIGNAL_TRACES, json, &out[0]);
	ra[0] = &out[0].t.resource_spans[0].resource.attributes;
	snprintf(json, sizeof json, "{\"resourceLogs\":[{%s}]}", res);
	run("resource", yaml, OTF_SIGNAL_LOGS, json, &out[1]);
	ra[1] = &out[1].l.resource_logs[0].resource.attributes;
	snprintf(json, sizeof json, "{\"resourceMetrics\":[{%s}]}", res);
	run("resource", yaml, OTF_SIGNAL_METRICS, json, &out[2]);
	ra[2] = &out[2].m.resource_metrics[0].resource.attributes;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(ra[i]->len, 3);
		assert_str_attr(ra[i], "cloud.availability_zone", "zone-1");
		assert_str_attr(ra[i], "k8s.cluster.name", "c1");
		assert_str_attr(ra[i], "k8s-cluster", "c1");
		assert_null(attr(ra[i], "redundant-attribute"));
	}
}

static void refused(const char *type, const char *yaml, const char *want, const char *pos)
{
	attributes_config_t c;
	otf_config_error_t err;
	memset(&err, 0, sizeof err);
	if (parse(type, yaml, &c, &err) == 0) {
		release(type, &c);
		fail_msg("accepted: %s", yaml);
	}
	if (!strstr(err.text, want))
		fail_msg("error \"%s\" does not say \"%s\"", err.text, want);
	if (pos && !strstr(err.text, pos))
		fail_msg("error \"%s\" is not at %s", err.text, pos);
}

static void test_config_errors(void **state)
{
	(void)state;
	refused("attributes", "actions:\n  - {key: a}\n", "missing required field \"action\"",
	        "p.yaml:2:");
	refused("attributes", "actions:\n  - {key: a, action: rename}\n",
	        "unsupported action \"rename\"", "p.yaml:2:");
	refused("attributes", "actions:\n  - {key: a, action: insert}\n", "is required", NULL);
	refused("attributes",
	        "actions:\n  - {key: a, value: 1, from_attribute: b, action: insert}\n",
	        "more than one value source", NULL);
	refused("attributes", "actions:\n  - {action: delete}\n", "\"key\" and \"pattern\"", NULL);
	refused("attributes", "actions:\n  - {key: a, pattern: \"(\", action: delete}\n",
	        "does not compile", "p.yaml:2:");
	refused("attributes", "actions:\n  - {key: a, pattern: \"abc\", action: extract}\n",
	        "no named matcher groups", NULL);
	refused("attributes", "actions:\n  - {key: a, action: convert, converted_type: bool}\n",
	        "invalid converted_type", NULL);
	refused("attributes",
	        "actions:\n  - {key: a, from_context: client.address, action: insert}\n",
	        "not supported yet", "p.yaml:2:");
	refused("attributes", "actions:\n  - {key: a, valu: 1, action: insert}\n",
	        "unknown key \"valu\"", NULL);
	refused("attributes", "actions: []\n", "at least one action", NULL);
	refused("attributes", "actions: [{key: a, action: delete}]\ninclude:\n  services: [a]\n",
	        "match_type", "p.yaml:3:");
	refused("attributes",
	        "actions: [{key: a, action: delete}]\ninclude: {match_type: strict, spans: [a]}\n",
	        "unknown key \"spans\"", NULL);
	refused("attributes",
	        "actions: [{key: a, action: delete}]\ninclude: {match_type: regexp, span_names: "
	        "[\"(\"]}\n",
	        "does not compile", NULL);
	refused("resource", "attributes:\n  - {key: a, action: hash, value: 1}\n", "does not use",
	        NULL);
}

/* A property given for a signal that does not have it is refused at DAG
 * compile (check_wiring), as the Collector refuses it at validation. */
static void test_wiring_per_signal(void **state)
{
	(void)state;
	const otf_component_factory_t *f = factory("attributes");
	attributes_config_t c;
	otf_config_error_t err;
	assert_int_equal(parse("attributes",
	                       "actions: [{key: a, action: delete}]\n"
	                       "include: {match_type: strict, span_names: [a]}\n",
	                       &c, &err),
	                 0);
	char why[256];
	uint32_t ports[1] = {0};
	assert_int_equal(f->check_wiring(&c, 1u << OTF_SIGNAL_TRACES, ports, 1, why, sizeof why),
	                 0);
	assert_int_equal(f->check_wiring(&c, 1u << OTF_SIGNAL_LOGS, ports, 1, why, sizeof why),
	                 OTF_E_CONFIG);
	assert_non_null(strstr(why, "include.span_names is not valid for logs"));
	release("attributes", &c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_readme_example, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_insert_update_upsert, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delete_hash_pattern, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_extract, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_convert, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_include_exclude_spans, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_include_logs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_metrics_data_points, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resource_readme, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wiring_per_signal, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
