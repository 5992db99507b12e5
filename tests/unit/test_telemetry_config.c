/* service.telemetry parsing: the Collector's readers schema (pull
 * prometheus host/port, periodic OTLP with protocol, endpoint, interval,
 * headers), the legacy address, levels, resource, defaults, and errors
 * with file, line and key. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otflow/component.h"
#include "otflow/config.h"
#include "otflow/err.h"
#include "otflow/service.h"

#include <stdio.h>
#include <string.h>

#define BASE                                       \
	"receivers: {nop: }\nexporters: {nop: }\n" \
	"service:\n  pipelines: {traces: {receivers: [nop], exporters: [nop]}}\n"

static int build(const char *tel, otf_service_settings_t *s, otf_config_error_t *err)
{
	otf_components_register_builtins();
	char yaml[4096];
	snprintf(yaml, sizeof yaml, BASE "%s", tel);
	otf_config_t *cfg;
	int rc = otf_config_load_string("t.yaml", yaml, strlen(yaml), NULL, &cfg, err);
	if (rc)
		return rc;
	otf_dag_t *dag = NULL;
	rc = otf_service_build(cfg, &dag, s, err);
	if (!rc)
		otf_dag_destroy(dag);
	otf_config_destroy(cfg);
	return rc;
}

static void test_defaults_and_address(void **state)
{
	(void)state;
	otf_service_settings_t s;
	otf_config_error_t err;
	assert_int_equal(build("", &s, &err), 0);
	assert_int_equal(s.telemetry.level, OTF_METRICS_LEVEL_NORMAL);
	assert_int_equal(s.telemetry.readers_len, 1);
	assert_string_equal(s.telemetry.readers[0].host, "localhost");
	assert_int_equal(s.telemetry.readers[0].port, 8888);
	assert_int_equal(build("  telemetry: {metrics: {address: '[::1]:9999'}}\n", &s, &err), 0);
	assert_string_equal(s.telemetry.readers[0].host, "::1");
	assert_int_equal(s.telemetry.readers[0].port, 9999);
	assert_int_equal(build("  telemetry: {metrics: {level: none}}\n", &s, &err), 0);
	assert_int_equal(s.telemetry.readers_len, 0);
}

static void test_readers(void **state)
{
	(void)state;
	otf_service_settings_t s;
	otf_config_error_t err;
	int rc = build("  telemetry:\n"
	               "    resource: {service.name: gw, service.instance.id: }\n"
	               "    metrics:\n"
	               "      level: basic\n"
	               "      readers:\n"
	               "        - pull: {exporter: {prometheus: {host: 0.0.0.0, port: 9100}}}\n"
	               "        - periodic:\n"
	               "            interval: 5s\n"
	               "            exporter:\n"
	               "              otlp:\n"
	               "                protocol: grpc\n"
	               "                endpoint: http://collector:4317\n"
	               "                headers: [{name: a, value: b}]\n"
	               "                timeout: 1000\n"
	               "        - periodic: {exporter: {otlp_http: {endpoint: http://h:4318/x, "
	               "compression: gzip, headers: {k: v}}}}\n",
	               &s, &err);
	if (rc)
		fail_msg("%s", err.text);
	const otf_telemetry_settings_t *t = &s.telemetry;
	assert_int_equal(t->level, OTF_METRICS_LEVEL_BASIC);
	assert_int_equal(t->readers_len, 3);
	assert_int_equal(t->readers[0].kind, OTF_READER_PULL_PROMETHEUS);
	assert_string_equal(t->readers[0].host, "0.0.0.0");
	assert_int_equal(t->readers[0].port, 9100);
	assert_string_equal(t->readers[0].origin, "t.yaml:10");
	assert_int_equal(t->readers[1].kind, OTF_READER_PERIODIC_OTLP);
	assert_int_equal(t->readers[1].protocol, OTF_OTLP_GRPC);
	assert_string_equal(t->readers[1].endpoint, "http://collector:4317");
	assert_int_equal(t->readers[1].interval_ms, 5000);
	assert_int_equal(t->readers[1].timeout_ms, 1000);
	assert_int_equal(t->readers[1].headers_len, 1);
	assert_string_equal(t->readers[1].header_names[0], "a");
	assert_string_equal(t->readers[1].header_values[0], "b");
	assert_int_equal(t->readers[2].protocol, OTF_OTLP_HTTP_PROTOBUF);
	assert_int_equal(t->readers[2].interval_ms, 60000);
	assert_true(t->readers[2].gzip);
	assert_string_equal(t->readers[2].header_values[0], "v");
	assert_int_equal(t->resource_len, 2);
	assert_string_equal(t->resource_values[0], "gw");
	assert_true(t->resource_null[1]);
	assert_int_equal(build("  telemetry: {metrics: {readers: [{periodic: {exporter: "
	                       "{otlp_http: {endpoint: x, encoding: json}}}}]}}\n",
	                       &s, &err),
	                 0);
	assert_int_equal(s.telemetry.readers[0].protocol, OTF_OTLP_HTTP_JSON);
	assert_false(s.telemetry.readers[0].tls);
}

/* When the push uses TLS: https://; gRPC without a scheme when insecure is
 * false; plaintext for http:// and, as before, a bare gRPC host:port. */
static void test_tls(void **state)
{
	(void)state;
	otf_service_settings_t s;
	otf_config_error_t err;
	static const struct {
		const char *exp;
		bool tls;
	} cases[] = {
	    {"otlp_http: {endpoint: 'https://h:4318'}", true},
	    {"otlp_http: {endpoint: 'http://h:4318'}", false},
	    {"otlp: {protocol: grpc, endpoint: 'https://h:4317'}", true},
	    {"otlp_grpc: {endpoint: 'h:4317'}", false},
	    {"otlp_grpc: {endpoint: 'h:4317', insecure: true}", false},
	    {"otlp_grpc: {endpoint: 'h:4317', insecure: false}", true},
	    {"otlp_grpc: {endpoint: 'h:4317', tls: {insecure: false}}", true},
	    {"otlp_grpc: {endpoint: 'http://h:4317'}", false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char tel[512];
		snprintf(tel, sizeof tel,
		         "  telemetry: {metrics: {readers: [{periodic: {exporter: {%s}}}]}}\n",
		         cases[i].exp);
		if (build(tel, &s, &err))
			fail_msg("%s: %s", cases[i].exp, err.text);
		if (s.telemetry.readers[0].tls != cases[i].tls)
			fail_msg("%s: tls %d", cases[i].exp, s.telemetry.readers[0].tls);
	}
}

static void expect_error(const char *tel, const char *needle)
{
	otf_service_settings_t s;
	otf_config_error_t err;
	if (build(tel, &s, &err) == 0)
		fail_msg("accepted: %s", tel);
	if (!strstr(err.text, needle))
		fail_msg("error '%s' lacks '%s'", err.text, needle);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("  telemetry: {metrics: {address: 'a:1', readers: []}}\n",
	             "t.yaml:5:34: service.telemetry.metrics.address: address and readers are "
	             "both set");
	expect_error("  telemetry: {metrics: {level: verbose}}\n",
	             "expected none, basic, normal or detailed");
	expect_error("  telemetry: {metrics: {readers: [{push: {}}]}}\n", "unknown key 'push'");
	expect_error("  telemetry: {metrics: {readers: [{pull: {exporter: {console: {}}}}]}}\n",
	             "unsupported pull exporter 'console'");
	expect_error("  telemetry: {metrics: {readers: [{periodic: {}}]}}\n",
	             "missing required key 'exporter'");
	expect_error("  telemetry: {metrics: {readers: [{periodic: {exporter: {otlp: {}}}}]}}\n",
	             "missing required key 'endpoint'");
	expect_error("  telemetry: {metrics: {readers: [{periodic: {exporter: {otlp: "
	             "{protocol: thrift, endpoint: x}}}}]}}\n",
	             "expected http/protobuf, http/json or grpc, got 'thrift'");
	expect_error("  telemetry: {metrics: {readers: [{periodic: {exporter: {otlp_grpc: "
	             "{endpoint: 'https://x', insecure: true}}}}]}}\n",
	             "insecure: true with an https:// endpoint");
	expect_error("  telemetry: {metrics: {readers: [{periodic: {exporter: {otlp_http: "
	             "{endpoint: 'https://x', tls: {cert_file: /c.pem}}}}}]}}\n",
	             "a client certificate needs its key");
	expect_error("  telemetry: {metrics: {readers: [{periodic: {exporter: {otlp_http: "
	             "{endpoint: 'https://x', tls: {server_name: y}}}}}]}}\n",
	             "unknown key 'server_name' (valid: ca_file, cert_file, key_file, insecure)");
	expect_error("  telemetry: {metrics: {readers: [{periodic: {exporter: {otlp_http: "
	             "{endpoint: 'https://x', tls: {ca_file: /nonexistent/ca.pem}}}}}]}}\n",
	             "tls.ca_file: cannot read \"/nonexistent/ca.pem\"");
	expect_error("  telemetry: {metrics: {readers: [{periodic: {interval: 0, exporter: "
	             "{otlp: {endpoint: x}}}}]}}\n",
	             "expected 1..86400000 ms");
	expect_error("  telemetry: {metrics: {readers: [{pull: {exporter: {prometheus: {port: "
	             "70000}}}}]}}\n",
	             "expected a port 1..65535");
	expect_error(
	    "  telemetry: {metrics: {readers: [{pull: {exporter: {prometheus: {port: 1}}}},"
	    " {pull: {exporter: {prometheus: {port: 1}}}}]}}\n",
	    "a pull reader on port 1 already exists");
	expect_error("  telemetry: {metrics: {readerz: []}}\n",
	             "unknown key 'readerz' (valid: level, address, readers, views)");
	expect_error("  telemetry: {logs: {level: loud}}\n", "expected debug, info, warn or error");
	expect_error("  telemetry: {metrics: {readers: [{periodic: {exporter: {otlp: "
	             "{endpoint: x, certificate: /ca.pem}}}}]}}\n",
	             "service.telemetry.metrics.readers[0].periodic.exporter.otlp.certificate: a "
	             "certificate for a plaintext endpoint");
	expect_error("  telemetry: {metrics: {readers: [{periodic: {exporter: {otlp_http: "
	             "{endpoint: x, encoding: xml}}}}]}}\n",
	             "expected protobuf or json");
	expect_error("  telemetry: {metrics: {readers: [{periodic: {exporter: {otlp_grpc: "
	             "{endpoint: x, protocol: grpc}}}}]}}\n",
	             "protocol is set by the exporter name here (otlp_grpc)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_and_address),
	    cmocka_unit_test(test_readers),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_tls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
