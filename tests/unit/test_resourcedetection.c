/* processor resourcedetection: the env detector's OTEL_RESOURCE_ATTRIBUTES
 * parsing (percent-decoding, malformed pairs refused with the pair named),
 * the system detector (host.name from the os source equals gethostname,
 * os.type linux, host.arch and host.id only when enabled), detector order
 * (the first to set an attribute wins), override on and off, and config
 * errors (unknown detector, an attribute otflow cannot detect enabled, a
 * bad hostname source); the in-place edit of the request bytes the
 * processor uses gives the same request as merging into the decoded tree,
 * for every signal and both override settings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ottl_expect.h"

#include "components/processors/ottlproc/ottlproc.h"
#include "components/processors/resourcedetection/resourcedetection.h"
#include "otflow/component.h"
#include "otflow/config.h"
#include "otflow/config_schema.h"
#include "otflow/pdata_edit.h"
#include "pdata_eq.h"

#include <stdlib.h>
#include <sys/utsname.h>
#include <unistd.h>

static const otf_component_factory_t *factory(void)
{
	otf_components_register_builtins();
	const otf_component_factory_t *f =
	    otf_component_find(OTF_KIND_PROCESSOR, "resource_detection");
	assert_non_null(f);
	assert_string_equal(f->type, "resourcedetection");
	return f;
}

static int parse(const char *yaml, otf_rd_config_t *c, otf_config_error_t *err)
{
	otf_config_t *cfg = NULL;
	if (otf_config_load_string("d.yaml", yaml, strlen(yaml), NULL, &cfg, err))
		fail_msg("yaml: %s", err->text);
	memset(c, 0, sizeof *c);
	int rc = otf_config_schema_apply(factory()->config_schema, otf_config_root(cfg), c, err);
	otf_config_destroy(cfg);
	if (!rc && (rc = factory()->validate(c, err->text, sizeof err->text)))
		otf_config_schema_free(factory()->config_schema, c);
	return rc;
}

static void describe(const otf_attributes_t *a, char *out, size_t cap)
{
	size_t at = 0;
	out[0] = 0;
	for (size_t i = 0; i < a->len && at < cap; i++)
		at += (size_t)snprintf(out + at, cap - at, "%s%.*s=%.*s", i ? " " : "",
		                       (int)a->items[i].key.len, (const char *)a->items[i].key.ptr,
		                       (int)a->items[i].value.u.string_value.len,
		                       (const char *)a->items[i].value.u.string_value.ptr);
}

static void test_env(void **state)
{
	(void)state;
	otf_attributes_t a = {0};
	char why[256] = "", got[512];
	assert_int_equal(otf__rd_parse_env(" service.name=cart, k8s.pod.name = p%2F1 ,note=a+b%21,",
	                                   &arena, &a, why, sizeof why),
	                 0);
	describe(&a, got, sizeof got);
	assert_string_equal(got, "service.name=cart k8s.pod.name=p/1 note=a b!");
	/* an empty value is a value */
	a = (otf_attributes_t){0};
	assert_int_equal(otf__rd_parse_env("a=", &arena, &a, why, sizeof why), 0);
	assert_int_equal(a.len, 1);
	assert_int_equal(a.items[0].value.u.string_value.len, 0);
	a = (otf_attributes_t){0};
	assert_int_equal(otf__rd_parse_env("a=1,novalue,b=2", &arena, &a, why, sizeof why),
	                 OTF_E_INVAL);
	assert_non_null(strstr(why, "\"novalue\" is not key=value"));
	assert_int_equal(otf__rd_parse_env("a=%zz", &arena, &a, why, sizeof why), OTF_E_INVAL);
	assert_non_null(strstr(why, "bad %-escape in the value of a"));
	assert_int_equal(otf__rd_parse_env("=x", &arena, &a, why, sizeof why), OTF_E_INVAL);
}

static void test_detectors(void **state)
{
	(void)state;
	char host[256], got[1024], why[256] = "";
	assert_int_equal(gethostname(host, sizeof host), 0);
	otf_rd_config_t c;
	otf_config_error_t err;
	/* env first: its host.name wins over the system detector's */
	setenv("OTEL_RESOURCE_ATTRIBUTES", "host.name=from-env,deployment.environment.name=test",
	       1);
	if (parse("detectors: [env, system]\nsystem: {hostname_sources: [os]}\n", &c, &err))
		fail_msg("%s", err.text);
	otf_attributes_t a = {0};
	assert_int_equal(otf__rd_detect(&c, &arena, &a, why, sizeof why), 0);
	describe(&a, got, sizeof got);
	assert_string_equal(got,
	                    "host.name=from-env deployment.environment.name=test os.type=linux");
	otf_config_schema_free(factory()->config_schema, &c);
	/* system first: the kernel's hostname */
	if (parse("detectors: [system, env]\nsystem: {hostname_sources: [os]}\n", &c, &err))
		fail_msg("%s", err.text);
	a = (otf_attributes_t){0};
	assert_int_equal(otf__rd_detect(&c, &arena, &a, why, sizeof why), 0);
	char want[512];
	snprintf(want, sizeof want, "host.name=%s os.type=linux deployment.environment.name=test",
	         host);
	describe(&a, got, sizeof got);
	assert_string_equal(got, want);
	otf_config_schema_free(factory()->config_schema, &c);
	/* attributes switched off and on */
	if (parse("detectors: [system]\n"
	          "system:\n"
	          "  hostname_sources: [os]\n"
	          "  resource_attributes:\n"
	          "    host.name: {enabled: false}\n"
	          "    host.arch: {enabled: true}\n"
	          "    os.version: {enabled: false}\n",
	          &c, &err))
		fail_msg("%s", err.text);
	a = (otf_attributes_t){0};
	assert_int_equal(otf__rd_detect(&c, &arena, &a, why, sizeof why), 0);
	struct utsname u;
	assert_int_equal(uname(&u), 0);
	snprintf(want, sizeof want, "os.type=linux host.arch=%s",
	         !strcmp(u.machine, "x86_64")    ? "amd64"
	         : !strcmp(u.machine, "aarch64") ? "arm64"
	                                         : u.machine);
	describe(&a, got, sizeof got);
	assert_string_equal(got, want);
	otf_config_schema_free(factory()->config_schema, &c);
	/* a malformed variable fails detection (otflow does not start) */
	setenv("OTEL_RESOURCE_ATTRIBUTES", "oops", 1);
	if (parse("detectors: [env]\n", &c, &err))
		fail_msg("%s", err.text);
	a = (otf_attributes_t){0};
	assert_int_equal(otf__rd_detect(&c, &arena, &a, why, sizeof why), OTF_E_INVAL);
	otf_config_schema_free(factory()->config_schema, &c);
	unsetenv("OTEL_RESOURCE_ATTRIBUTES");
	/* defaults: override on, hostname_sources dns then os */
	if (parse("detectors: [docker, env]\n", &c, &err))
		fail_msg("%s", err.text);
	assert_true(c.override);
	assert_int_equal(c.system.hostname_sources.n, 2);
	assert_string_equal(c.system.hostname_sources.items[0], "dns");
	assert_int_equal(c.detectors.kind[0], OTF_RD_UNIMPLEMENTED);
	otf_config_schema_free(factory()->config_schema, &c);
}

#define KV(k, v)                                                                \
	{                                                                       \
		.key = {(const uint8_t *)(k), sizeof(k) - 1}, .value = {        \
			.type = OTF_ANY_STRING,                                 \
			.u.string_value = {(const uint8_t *)(v), sizeof(v) - 1} \
		}                                                               \
	}

static void test_merge(void **state)
{
	(void)state;
	otf_key_value_t det_items[] = {KV("host.name", "h"), KV("service.name", "detected")};
	otf_attributes_t det = {det_items, 2};
	char got[256];
	for (int override = 0; override < 2; override++) {
		otf_key_value_t res_items[] = {KV("service.name", "cart"), KV("x", "1")};
		otf_attributes_t res = {res_items, 2};
		assert_int_equal(otf__rd_merge(&res, &det, override, &arena), 1);
		describe(&res, got, sizeof got);
		assert_string_equal(got, override ? "service.name=detected x=1 host.name=h"
		                                  : "service.name=cart x=1 host.name=h");
		/* a second merge changes nothing new without override */
		assert_int_equal(otf__rd_merge(&res, &det, override, &arena), override ? 1 : 0);
	}
}

#define SVC(v) "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"" v "\"}}"

static void test_in_place_equals_tree(void **state)
{
	(void)state;
	static const char *const json[3] = {
	    "{\"resourceSpans\":[{\"resource\":{\"attributes\":[" SVC(
	        "cart") ","
	                "{\"key\":\"host.name\",\"value\":{\"stringValue\":\"mine\"}}]},"
	                "\"scopeSpans\":[{\"scope\":{\"name\":\"s\"},\"spans\":[{\"traceId\":"
	                "\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"1112131415161718\","
	                "\"name\":\"x\"}]}]},"
	                "{\"scopeSpans\":[{\"scope\":{},\"spans\":[{\"traceId\":"
	                "\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"1112131415161718\","
	                "\"name\":\"y\"}]}]}]}",
	    "{\"resourceMetrics\":[{\"resource\":{\"attributes\":[" SVC(
	        "cart") "]},"
	                "\"scopeMetrics\":[{\"scope\":{},\"metrics\":[{\"name\":\"m\",\"gauge\":"
	                "{\"dataPoints\":[{\"asInt\":\"3\"}]}}]}]}]}",
	    "{\"resourceLogs\":[{\"resource\":{\"attributes\":[" SVC(
	        "cart") "]},"
	                "\"scopeLogs\":[{\"scope\":{},\"logRecords\":[{\"body\":{\"stringValue\":"
	                "\"b\"}}]}]},"
	                "{\"resource\":{},\"scopeLogs\":[]}]}",
	};
	otf_key_value_t det_items[] = {KV("host.name", "h"), KV("service.name", "detected"),
	                               KV("deployment.environment.name", "e2e")};
	otf_attributes_t det = {det_items, 3};
	for (int s = 0; s < 3; s++) {
		for (int override = 0; override < 2; override++) {
			ottlproc_tree_t in = {.signal = (otf_signal_t)s}, tree, edited;
			size_t len = strlen(json[s]);
			int rc = s == 0   ? otf_pdata_json_decode_traces(&in.u.traces, json[s], len,
			                                                 &arena, NULL, NULL)
			         : s == 1 ? otf_pdata_json_decode_metrics(&in.u.metrics, json[s],
			                                                  len, &arena, NULL, NULL)
			                  : otf_pdata_json_decode_logs(&in.u.logs, json[s], len,
			                                               &arena, NULL, NULL);
			assert_int_equal(rc, 0);
			otf_buf_t *pb = NULL;
			uint64_t items;
			assert_int_equal(otf__ottlproc_encode(&in, &pb, &items), 0);
			/* in place */
			otf_pdata_edit_t e;
			assert_int_equal(otf__rd_edit_prepare(&e, &det, override), 0);
			otf_buf_t *out = NULL;
			size_t n = 0;
			assert_int_equal(
			    otf_pdata_edit_apply(&e, (otf_signal_t)s, pb->data, pb->len, &out, &n),
			    0);
			assert_true(n > 0);
			char why[128];
			assert_int_equal(otf__ottlproc_decode((otf_signal_t)s, out, &arena, &edited,
			                                      why, sizeof why),
			                 0);
			/* the tree */
			assert_int_equal(otf__ottlproc_decode((otf_signal_t)s, pb, &arena, &tree,
			                                      why, sizeof why),
			                 0);
			size_t nres = s == 0   ? tree.u.traces.resource_spans_len
			              : s == 1 ? tree.u.metrics.resource_metrics_len
			                       : tree.u.logs.resource_logs_len;
			for (size_t i = 0; i < nres; i++) {
				otf_resource_t *r =
				    s == 0   ? &tree.u.traces.resource_spans[i].resource
				    : s == 1 ? &tree.u.metrics.resource_metrics[i].resource
				             : &tree.u.logs.resource_logs[i].resource;
				assert_true(otf__rd_merge(&r->attributes, &det, override, &arena) >=
				            0);
			}
			char diff[512] = "";
			bool same =
			    s == 0
			        ? otf_eq_traces(&edited.u.traces, &tree.u.traces, diff, sizeof diff)
			    : s == 1 ? otf_eq_metrics(&edited.u.metrics, &tree.u.metrics, diff,
			                              sizeof diff)
			             : otf_eq_logs(&edited.u.logs, &tree.u.logs, diff, sizeof diff);
			if (!same)
				fail_msg("signal %d override %d: %s", s, override, diff);
			/* the trees pointed into these bytes: released only now */
			otf_buf_unref(out);
			otf_buf_unref(pb);
		}
	}
}

static void expect_error(const char *yaml, const char *want1, const char *want2)
{
	otf_rd_config_t c;
	otf_config_error_t err;
	assert_int_equal(parse(yaml, &c, &err), OTF_E_CONFIG);
	if (!strstr(err.text, want1) || (want2 && !strstr(err.text, want2)))
		fail_msg("error \"%s\" lacks \"%s\" / \"%s\"", err.text, want1, want2 ? want2 : "");
}

static void test_config_errors(void **state)
{
	(void)state;
	expect_error("detectors: [env, sytem]\n", "d.yaml:1:18: detectors[1]",
	             "unknown detector \"sytem\"");
	expect_error("detectors: [system]\nsystem:\n  resource_attributes:\n"
	             "    os.version: {enabled: true}\n",
	             "d.yaml:4:27: system.resource_attributes.os.version.enabled",
	             "not detected by otflow");
	expect_error("system:\n  resource_attributes:\n    host.nme: {enabled: true}\n",
	             "unknown system attribute \"host.nme\"", NULL);
	expect_error("system: {hostname_sources: [os, fqdn]}\n", "\"fqdn\" is not one of", NULL);
	expect_error("detectors: env\n", "expected a list of detector names", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_env, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_detectors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_merge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_in_place_equals_tree, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
