/* Declarative config schema: defaults, apply with type/unknown-key/required
 * errors, durations, sizes, enums, nested objects, lists, maps, docs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otflow/alloc.h"
#include "otflow/config.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* An otlp-receiver-like config: protocols.grpc / protocols.http objects
 * whose presence enables them. */
typedef struct tls_cfg {
	bool insecure;
	char *cert_file;
} tls_cfg_t;

typedef struct grpc_cfg {
	char *endpoint;
	uint64_t max_recv_msg_size;
	tls_cfg_t tls;
} grpc_cfg_t;

typedef struct http_cfg {
	char *endpoint;
	otf_config_strmap_t headers;
	otf_config_strlist_t cors_origins;
} http_cfg_t;

typedef struct rcv_cfg {
	bool grpc_enabled, http_enabled;
	grpc_cfg_t grpc;
	http_cfg_t http;
	int64_t timeout_ns;
	int64_t retries;
	double ratio;
	int verbosity;
	char *name;
} rcv_cfg_t;

static const otf_config_field_t tls_schema[] = {
    {.key = "insecure",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(tls_cfg_t, insecure),
     .def = "false",
     .desc = "Disable TLS."},
    {.key = "cert_file",
     .type = OTF_CFG_STRING,
     .offset = offsetof(tls_cfg_t, cert_file),
     .desc = "PEM certificate | chain."},
    OTF_CONFIG_FIELD_END,
};

static const otf_config_field_t grpc_schema[] = {
    {.key = "endpoint",
     .type = OTF_CFG_STRING,
     .offset = offsetof(grpc_cfg_t, endpoint),
     .def = "0.0.0.0:4317",
     .hint = "host:port",
     .desc = "gRPC listen address."},
    {.key = "max_recv_msg_size",
     .type = OTF_CFG_SIZE,
     .offset = offsetof(grpc_cfg_t, max_recv_msg_size),
     .def = "4MiB",
     .desc = "Largest request accepted."},
    {.key = "tls",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(grpc_cfg_t, tls),
     .sub = tls_schema,
     .desc = "TLS settings."},
    OTF_CONFIG_FIELD_END,
};

static const otf_config_field_t http_schema[] = {
    {.key = "endpoint",
     .type = OTF_CFG_STRING,
     .offset = offsetof(http_cfg_t, endpoint),
     .def = "0.0.0.0:4318",
     .hint = "host:port",
     .desc = "HTTP listen address."},
    {.key = "headers",
     .type = OTF_CFG_STRING_MAP,
     .offset = offsetof(http_cfg_t, headers),
     .def = "server=otflow",
     .desc = "Response headers."},
    {.key = "cors_origins",
     .type = OTF_CFG_STRING_LIST,
     .offset = offsetof(http_cfg_t, cors_origins),
     .def = "https://a.example, https://b.example",
     .desc = "Allowed CORS origins."},
    OTF_CONFIG_FIELD_END,
};

static const otf_config_field_t protocols_schema[] = {
    {.key = "grpc",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(rcv_cfg_t, grpc),
     .sub = grpc_schema,
     .present_at = OTF_CONFIG_PRESENT(rcv_cfg_t, grpc_enabled),
     .desc = "Enables OTLP/gRPC."},
    {.key = "http",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(rcv_cfg_t, http),
     .sub = http_schema,
     .present_at = OTF_CONFIG_PRESENT(rcv_cfg_t, http_enabled),
     .desc = "Enables OTLP/HTTP."},
    OTF_CONFIG_FIELD_END,
};

static const char *const verbosity_values[] = {"basic", "normal", "detailed", NULL};

static const otf_config_field_t rcv_schema[] = {
    /* offset 0: the nested object shares the parent struct */
    {.key = "protocols",
     .type = OTF_CFG_OBJECT,
     .offset = 0,
     .sub = protocols_schema,
     .desc = "Protocols to serve."},
    {.key = "timeout",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(rcv_cfg_t, timeout_ns),
     .def = "5s",
     .desc = "Per-request deadline."},
    {.key = "retries",
     .type = OTF_CFG_INT,
     .offset = offsetof(rcv_cfg_t, retries),
     .def = "3",
     .desc = "Retry attempts."},
    {.key = "ratio",
     .type = OTF_CFG_DOUBLE,
     .offset = offsetof(rcv_cfg_t, ratio),
     .def = "0.5",
     .desc = "Sampling ratio."},
    {.key = "verbosity",
     .type = OTF_CFG_ENUM,
     .offset = offsetof(rcv_cfg_t, verbosity),
     .def = "normal",
     .enum_values = verbosity_values,
     .desc = "Output detail."},
    {.key = "name",
     .type = OTF_CFG_STRING,
     .offset = offsetof(rcv_cfg_t, name),
     .required = true,
     .desc = "Instance name."},
    OTF_CONFIG_FIELD_END,
};

static otf_config_t *load(const char *text)
{
	otf_config_t *cfg = NULL;
	otf_config_error_t err;
	if (otf_config_load_string("cfg.yaml", text, strlen(text), NULL, &cfg, &err) != 0)
		fail_msg("load: %s", err.text);
	return cfg;
}

/* Applies schema to the node at path in text; returns the result code. */
static int apply_text(const otf_config_field_t *schema, const char *text, const char *path,
                      void *out, otf_config_error_t *err)
{
	otf_config_t *cfg = load(text);
	int rc =
	    otf_config_schema_apply(schema, otf_config_get(otf_config_root(cfg), path), out, err);
	otf_config_destroy(cfg);
	return rc;
}

static void test_defaults(void **state)
{
	(void)state;
	rcv_cfg_t c;
	memset(&c, 0xA5, sizeof(c)); /* garbage must not be freed */
	assert_int_equal(otf_config_schema_defaults(rcv_schema, &c), 0);
	assert_string_equal(c.grpc.endpoint, "0.0.0.0:4317");
	assert_int_equal(c.grpc.max_recv_msg_size, 4u << 20);
	assert_false(c.grpc.tls.insecure);
	assert_null(c.grpc.tls.cert_file);
	assert_string_equal(c.http.endpoint, "0.0.0.0:4318");
	assert_int_equal(c.http.headers.n, 1);
	assert_string_equal(otf_config_strmap_get(&c.http.headers, "server"), "otflow");
	assert_int_equal(c.http.cors_origins.n, 2);
	assert_string_equal(c.http.cors_origins.items[1], "https://b.example");
	assert_int_equal(c.timeout_ns, 5000000000LL);
	assert_int_equal(c.retries, 3);
	assert_true(c.ratio == 0.5);
	assert_int_equal(c.verbosity, 1);
	assert_null(c.name);
	assert_false(c.grpc_enabled);
	assert_false(c.http_enabled);
	otf_config_schema_free(rcv_schema, &c);
	assert_null(c.grpc.endpoint);
	assert_int_equal(c.http.headers.n, 0);
	otf_config_schema_free(rcv_schema, &c); /* twice is fine */
}

static void test_apply_values(void **state)
{
	(void)state;
	static const char text[] = "receivers:\n"
	                           "  otlp:\n"
	                           "    name: edge\n"
	                           "    protocols:\n"
	                           "      grpc:\n"
	                           "        max_recv_msg_size: 16MiB\n"
	                           "        tls:\n"
	                           "          insecure: true\n"
	                           "          cert_file: /etc/cert.pem\n"
	                           "    timeout: 1m30s\n"
	                           "    retries: -2\n"
	                           "    ratio: 0.125\n"
	                           "    verbosity: detailed\n";
	rcv_cfg_t c;
	otf_config_error_t err;
	int rc = apply_text(rcv_schema, text, "receivers.otlp", &c, &err);
	if (rc != 0)
		fail_msg("%s", err.text);
	assert_true(c.grpc_enabled);
	assert_false(c.http_enabled);
	assert_string_equal(c.name, "edge");
	assert_string_equal(c.grpc.endpoint, "0.0.0.0:4317"); /* default kept */
	assert_int_equal(c.grpc.max_recv_msg_size, 16u << 20);
	assert_true(c.grpc.tls.insecure);
	assert_string_equal(c.grpc.tls.cert_file, "/etc/cert.pem");
	assert_int_equal(c.timeout_ns, 90000000000LL);
	assert_int_equal(c.retries, -2);
	assert_true(c.ratio == 0.125);
	assert_int_equal(c.verbosity, 2);
	otf_config_schema_free(rcv_schema, &c);

	/* "http:" with no value enables HTTP with its defaults; lists and
	 * maps replace the defaults wholesale */
	static const char text2[] = "r:\n"
	                            "  name: x\n"
	                            "  protocols:\n"
	                            "    http:\n"
	                            "  timeout: 250ms\n"
	                            "r2:\n"
	                            "  name: y\n"
	                            "  protocols:\n"
	                            "    http:\n"
	                            "      headers: {x-a: \"1\", x-b: two, x-empty: }\n"
	                            "      cors_origins: [\"https://c.example\"]\n";
	assert_int_equal(apply_text(rcv_schema, text2, "r", &c, &err), 0);
	assert_true(c.http_enabled);
	assert_false(c.grpc_enabled);
	assert_string_equal(c.http.endpoint, "0.0.0.0:4318");
	assert_int_equal(c.timeout_ns, 250000000LL);
	assert_int_equal(c.http.cors_origins.n, 2);
	otf_config_schema_free(rcv_schema, &c);

	assert_int_equal(apply_text(rcv_schema, text2, "r2", &c, &err), 0);
	assert_int_equal(c.http.headers.n, 3);
	assert_string_equal(c.http.headers.keys[0], "x-a");
	assert_string_equal(otf_config_strmap_get(&c.http.headers, "x-a"), "1");
	assert_string_equal(otf_config_strmap_get(&c.http.headers, "x-b"), "two");
	assert_string_equal(otf_config_strmap_get(&c.http.headers, "x-empty"), "");
	assert_null(otf_config_strmap_get(&c.http.headers, "server"));
	assert_int_equal(c.http.cors_origins.n, 1);
	assert_string_equal(c.http.cors_origins.items[0], "https://c.example");
	otf_config_schema_free(rcv_schema, &c);
}

static void expect_error(const char *text, const char *path, const char *want_text)
{
	rcv_cfg_t c;
	otf_config_error_t err;
	otf_alloc_stats_t before, after;
	otf_alloc_stats(&before);
	int rc = apply_text(rcv_schema, text, path, &c, &err);
	otf_alloc_stats(&after);
	assert_int_equal(rc, OTF_E_CONFIG);
	if (strcmp(err.text, want_text) != 0)
		fail_msg("got  %s\nwant %s", err.text, want_text);
	/* a failed apply leaves nothing allocated */
	assert_null(c.grpc.endpoint);
	assert_null(c.name);
	assert_int_equal(after.bytes_in_use, before.bytes_in_use);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("r:\n"
	             "  name: x\n"
	             "  protocols:\n"
	             "    grpc:\n"
	             "    htp:\n"
	             "      endpoint: a:1\n",
	             "r",
	             "cfg.yaml:5:5: r.protocols: unknown key \"htp\" (valid keys: grpc, http)");
	expect_error("r:\n"
	             "  name: x\n"
	             "  protocols:\n"
	             "    http:\n"
	             "      endpoint:\n"
	             "        host: a\n",
	             "r",
	             "cfg.yaml:6:9: r.protocols.http.endpoint: expected a string \"host:port\", "
	             "got a mapping");
	expect_error("r:\n  name: x\n  retries: three\n", "r",
	             "cfg.yaml:3:12: r.retries: expected an integer, got \"three\"");
	expect_error("r:\n  name: x\n  timeout: 5\n  timeout2: 1\n", "r",
	             "cfg.yaml:4:3: r: unknown key \"timeout2\" (valid keys: protocols, timeout, "
	             "retries, ratio, verbosity, name)");
	expect_error("r:\n  name: x\n  timeout: 5 seconds\n", "r",
	             "cfg.yaml:3:12: r.timeout: expected a duration like \"5s\", \"250ms\" or "
	             "\"1m30s\", got \"5 seconds\"");
	expect_error("r:\n  name: x\n  protocols: {grpc: {max_recv_msg_size: 4 parsecs}}\n", "r",
	             "cfg.yaml:3:41: r.protocols.grpc.max_recv_msg_size: expected a size in bytes "
	             "like \"4MiB\", \"20MB\" or 1048576, got \"4 parsecs\"");
	expect_error("r:\n  name: x\n  verbosity: loud\n", "r",
	             "cfg.yaml:3:14: r.verbosity: expected one of \"basic\", \"normal\", "
	             "\"detailed\", got \"loud\"");
	expect_error("r:\n  timeout: 1s\n", "r", "cfg.yaml:2:3: r: missing required key \"name\"");
	/* a null keeps the default, and a required key has none (found by
	 * fuzz_tail_sampling: `key: NULL` reached strlen as a NULL pointer) */
	expect_error("r:\n  name: NULL\n", "r",
	             "cfg.yaml:2:9: r.name: required key \"name\" is null");
	expect_error("r:\n  name: ~\n", "r", "cfg.yaml:2:9: r.name: required key \"name\" is null");
	expect_error("r:\n  name: x\n  protocols:\n    grpc:\n      tls:\n        insecure: "
	             "maybe\n",
	             "r",
	             "cfg.yaml:6:19: r.protocols.grpc.tls.insecure: expected a boolean (true or "
	             "false), got \"maybe\"");
	expect_error("r:\n  name: x\n  protocols:\n    http:\n      cors_origins: a\n", "r",
	             "cfg.yaml:5:21: r.protocols.http.cors_origins: expected a list of strings, "
	             "got a scalar");
	expect_error("r:\n  name: x\n  protocols:\n    http:\n      cors_origins: [a, [b]]\n", "r",
	             "cfg.yaml:5:25: r.protocols.http.cors_origins[1]: expected a string, got a "
	             "sequence");
	expect_error("r:\n  name: x\n  protocols:\n    http:\n      headers: [a]\n", "r",
	             "cfg.yaml:5:16: r.protocols.http.headers: expected a mapping of strings, got "
	             "a sequence");
	expect_error("r:\n  name: [x]\n", "r",
	             "cfg.yaml:2:9: r.name: expected a string, got a "
	             "sequence");
	expect_error("r: [1]\n", "r", "cfg.yaml:1:4: r: expected a mapping, got a sequence");

	/* required key with no node at all */
	rcv_cfg_t c;
	otf_config_error_t err;
	assert_int_equal(otf_config_schema_apply(rcv_schema, NULL, &c, &err), OTF_E_CONFIG);
	assert_string_equal(err.message, "missing required key \"name\"");
	assert_null(c.grpc.endpoint);
}

static void test_bad_default_is_schema_bug(void **state)
{
	(void)state;
	typedef struct {
		int64_t d;
		char *s;
	} t_t;
	static const otf_config_field_t bad[] = {
	    {.key = "s", .type = OTF_CFG_STRING, .offset = offsetof(t_t, s), .def = "x"},
	    {.key = "d", .type = OTF_CFG_DURATION, .offset = offsetof(t_t, d), .def = "5 sec"},
	    OTF_CONFIG_FIELD_END,
	};
	t_t t;
	assert_int_equal(otf_config_schema_defaults(bad, &t), OTF_E_INVAL);
	assert_null(t.s);
	otf_config_error_t err;
	assert_int_equal(otf_config_schema_apply(bad, NULL, &t, &err), OTF_E_INVAL);
	assert_non_null(strstr(err.text, "schema bug"));
	assert_null(t.s);
}

static void test_env_values_through_schema(void **state)
{
	(void)state;
	setenv("OTF_T_TIMEOUT", "2m", 1);
	static const char text[] = "r:\n  name: ${env:OTF_T_NAME_UNSET:-dflt}\n"
	                           "  timeout: ${env:OTF_T_TIMEOUT}\n";
	rcv_cfg_t c;
	otf_config_error_t err;
	assert_int_equal(apply_text(rcv_schema, text, "r", &c, &err), 0);
	assert_string_equal(c.name, "dflt");
	assert_int_equal(c.timeout_ns, 120000000000LL);
	otf_config_schema_free(rcv_schema, &c);
}

static void test_apply_oom(void **state)
{
	(void)state;
	static const char text[] =
	    "r:\n  name: x\n  protocols:\n    grpc:\n      tls: {cert_file: c}\n"
	    "    http:\n      headers: {a: b, c: d}\n      cors_origins: [e, f]\n";
	otf_config_t *cfg = load(text);
	const otf_config_node_t *node = otf_config_get(otf_config_root(cfg), "r");
	otf_alloc_stats_t before, after;
	otf_alloc_stats(&before);
	int failures = 0;
	for (int64_t n = 0; n < 1000; n++) {
		rcv_cfg_t c;
		otf_config_error_t err;
		otf_alloc_fail_after(n);
		int rc = otf_config_schema_apply(rcv_schema, node, &c, &err);
		otf_alloc_fail_after(-1);
		if (rc == 0) {
			otf_config_schema_free(rcv_schema, &c);
			break;
		}
		assert_int_equal(rc, -ENOMEM);
		failures++;
	}
	assert_true(failures > 5);
	otf_alloc_stats(&after);
	assert_int_equal(after.bytes_in_use, before.bytes_in_use);
	otf_config_destroy(cfg);
}

static void test_doc(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(otf_config_schema_doc(rcv_schema, f), 0);
	fclose(f);
	static const char *const rows[] = {
	    "| Key | Type | Default | Description |\n",
	    "| `protocols` | object |  | Protocols to serve. |\n",
	    "| `protocols.grpc` | object |  | Enables OTLP/gRPC. |\n",
	    "| `protocols.grpc.endpoint` | string (host:port) | `0.0.0.0:4317` | gRPC listen "
	    "address. |\n",
	    "| `protocols.grpc.max_recv_msg_size` | size | `4MiB` |",
	    "| `protocols.grpc.tls.insecure` | bool | `false` | Disable TLS. |\n",
	    "| `protocols.grpc.tls.cert_file` | string |  | PEM certificate \\| chain. |\n",
	    "| `protocols.http.headers` | map of strings | `server=otflow` |",
	    "| `protocols.http.cors_origins` | list of strings | `https://a.example, "
	    "https://b.example` |",
	    "| `timeout` | duration | `5s` | Per-request deadline. |\n",
	    "| `retries` | int | `3` |",
	    "| `ratio` | double | `0.5` |",
	    "| `verbosity` | enum: `basic`, `normal`, `detailed` | `normal` | Output detail. |\n",
	    "| `name` | string | required | Instance name. |\n",
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (!strstr(buf, rows[i]))
			fail_msg("missing row %s in\n%s", rows[i], buf);
	free(buf);
}

/* A list of mappings: each element gets its defaults, then its keys;
 * errors name the element's key; docs show "actions[].key". */
typedef struct action_cfg {
	char *key;
	char *value;
	int action;
} action_cfg_t;
typedef struct actions_cfg {
	otf_config_objlist_t actions;
} actions_cfg_t;
static const char *const k_action_names[] = {"insert", "upsert", "delete", NULL};
static const otf_config_field_t action_schema[] = {
    {.key = "key", .type = OTF_CFG_STRING, .offset = offsetof(action_cfg_t, key), .required = true},
    {.key = "value", .type = OTF_CFG_STRING, .offset = offsetof(action_cfg_t, value)},
    {.key = "action",
     .type = OTF_CFG_ENUM,
     .offset = offsetof(action_cfg_t, action),
     .def = "upsert",
     .enum_values = k_action_names},
    OTF_CONFIG_FIELD_END,
};
static const otf_config_field_t actions_schema[] = {
    {.key = "actions",
     .type = OTF_CFG_OBJECT_LIST,
     .offset = offsetof(actions_cfg_t, actions),
     .sub = action_schema,
     .elem_size = sizeof(action_cfg_t)},
    OTF_CONFIG_FIELD_END,
};

static void test_object_list(void **state)
{
	(void)state;
	otf_config_t *cfg = load("actions:\n"
	                         "  - {key: a, value: \"1\", action: insert}\n"
	                         "  - key: b\n"
	                         "  - {key: c, action: delete}\n");
	actions_cfg_t c;
	otf_config_error_t err;
	int rc = otf_config_schema_apply(actions_schema, otf_config_root(cfg), &c, &err);
	if (rc)
		fail_msg("%s", err.text);
	assert_int_equal(c.actions.n, 3);
	const action_cfg_t *a = OTF_CONFIG_OBJLIST_AT(&c.actions, action_cfg_t, 0);
	assert_string_equal(a->key, "a");
	assert_string_equal(a->value, "1");
	assert_int_equal(a->action, 0);
	a = OTF_CONFIG_OBJLIST_AT(&c.actions, action_cfg_t, 1);
	assert_string_equal(a->key, "b");
	assert_null(a->value);
	assert_int_equal(a->action, 1); /* default */
	assert_int_equal(OTF_CONFIG_OBJLIST_AT(&c.actions, action_cfg_t, 2)->action, 2);
	otf_config_schema_free(actions_schema, &c);
	assert_int_equal(c.actions.n, 0);
	otf_config_destroy(cfg);

	cfg = load("actions:\n  - {key: a}\n  - {value: x}\n");
	assert_int_equal(otf_config_schema_apply(actions_schema, otf_config_root(cfg), &c, &err),
	                 OTF_E_CONFIG);
	assert_non_null(strstr(err.text, "cfg.yaml:3:"));
	assert_non_null(strstr(err.text, "missing required key \"key\""));
	otf_config_destroy(cfg);
	cfg = load("actions:\n  - {key: a, colour: red}\n");
	assert_int_equal(otf_config_schema_apply(actions_schema, otf_config_root(cfg), &c, &err),
	                 OTF_E_CONFIG);
	assert_non_null(strstr(err.text, "unknown key \"colour\""));
	otf_config_destroy(cfg);
	cfg = load("actions: {key: a}\n");
	assert_int_equal(otf_config_schema_apply(actions_schema, otf_config_root(cfg), &c, &err),
	                 OTF_E_CONFIG);
	assert_non_null(strstr(err.text, "expected a list of mappings"));
	otf_config_destroy(cfg);

	char *doc = NULL;
	size_t dlen = 0;
	FILE *f = open_memstream(&doc, &dlen);
	assert_int_equal(otf_config_schema_doc(actions_schema, f), 0);
	fclose(f);
	assert_non_null(strstr(doc, "| `actions` | list of objects |"));
	assert_non_null(strstr(doc, "| `actions[].action` | enum: `insert`, `upsert`, `delete` |"));
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_apply_values),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_bad_default_is_schema_bug),
	    cmocka_unit_test(test_env_values_through_schema),
	    cmocka_unit_test(test_apply_oom),
	    cmocka_unit_test(test_doc),
	    cmocka_unit_test(test_object_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
