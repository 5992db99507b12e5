/* The CFG route of the admin API without an engine (otf__admin_route with
 * engine NULL: parse and check only): JSON and YAML bodies by
 * Content-Type, the node's schema errors as 400 with their text and
 * position, 404 unknown node, 409 a type without reconfigure or a change
 * of output ports (content_router's route names), 400 a change its wiring
 * does not allow, 413 over 1 MiB, 415 another content type; and the
 * canonical config text the reload compares; the endpoint's default
 * (localhost:8889). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "admin/admin.h"
#include "engine/engine_internal.h"

#include "otflow/alloc.h"
#include "otflow/config.h"
#include "otflow/service.h"

#include <stdio.h>
#include <string.h>

static const char k_config[] =
    "receivers: {otlp: {protocols: {http: {endpoint: \"127.0.0.1:0\"}}}}\n"
    "processors:\n"
    "  filter: {log_conditions: ['log.attributes[\"k\"] == \"a\"']}\n"
    "  batch: {}\n"
    "  probabilistic_sampler: {sampling_percentage: 50}\n"
    "  attributes: {actions: [{key: a, value: b, action: insert}]}\n"
    "  transform: {log_statements: ['set(log.body, \"x\")']}\n"
    "exporters: {nop: {}}\n"
    "service:\n"
    "  pipelines:\n"
    "    logs: {receivers: [otlp], processors: [filter, batch, probabilistic_sampler, "
    "attributes, transform], exporters: [nop]}\n";

static const char k_native[] = "nodes:\n"
                               "  in: {kind: receiver, type: nop}\n"
                               "  cr:\n"
                               "    kind: processor\n"
                               "    type: content_router\n"
                               "    config: {routes: {a: 'attributes[\"t\"] == \"a\"'}}\n"
                               "  out: {kind: exporter, type: nop}\n"
                               "connections:\n"
                               "  - {from: in, to: cr}\n"
                               "  - {from: cr, port: a, to: out}\n"
                               "  - {from: cr, to: out}\n";

static otf_dag_t *build(const char *text)
{
	otf_components_register_builtins();
	otf_config_t *cfg = NULL;
	otf_config_error_t err;
	assert_int_equal(otf_config_load_string("t.yaml", text, strlen(text), NULL, &cfg, &err), 0);
	otf_dag_t *dag = NULL;
	otf_service_settings_t st;
	int rc = otf_service_build(cfg, &dag, &st, &err);
	if (rc)
		fail_msg("%s", err.text);
	otf_config_destroy(cfg);
	return dag;
}

/* POST body as ct to node; returns the status, the body in msg. */
static int post(otf_dag_t *dag, const char *node, const char *ct, const char *body, size_t len,
                char *msg, size_t cap)
{
	char path[200];
	int pl = snprintf(path, sizeof path, "/api/v1/nodes/%s/config", node);
	otf_admin_reply_t r;
	otf__admin_route(dag, NULL, "POST", path, (size_t)pl, ct, ct ? strlen(ct) : 0, body, len,
	                 &r);
	assert_non_null(r.body);
	snprintf(msg, cap, "%.*s", (int)r.len, r.body);
	otf_free(r.body);
	return r.status;
}

#define POST(node, ct, body) post(dag, node, ct, body, strlen(body), msg, sizeof msg)

static void test_statuses(void **state)
{
	(void)state;
	otf_dag_t *dag = build(k_config);
	char msg[2000];
	const char *f = "processor:filter@logs";
	assert_int_equal(
	    POST(f, "application/json", "{\"log_conditions\": [\"log.body == \\\"x\\\"\"]}"), 200);
	assert_string_equal(msg,
	                    "{\"id\":\"processor:filter@logs\",\"applied\":false,\"workers\":0}");
	assert_int_equal(POST(f, "application/yaml", "log_conditions: ['log.body == \"x\"']"), 200);
	assert_int_equal(POST(f, "Application/JSON; charset=utf-8", "{}"), 200);
	assert_int_equal(POST(f, "application/json", "{\"log_condition\": []}"), 400);
	assert_non_null(strstr(msg, "body:1:2: unknown key \\\"log_condition\\\""));
	assert_int_equal(POST(f, "application/yaml", "log_conditions: ['log.nope == 1']"), 400);
	assert_non_null(strstr(msg, "unknown path 'log.nope'"));
	assert_int_equal(POST(f, "application/json", "{\"a\":"), 400);
	assert_non_null(strstr(msg, "the body ends inside a value"));
	assert_int_equal(POST(f, "application/json", "{} x"), 400);
	assert_non_null(strstr(msg, "data after the value"));
	/* YAML syntax is not JSON. */
	assert_int_equal(POST(f, "application/json", "error_mode: ignore"), 400);
	assert_int_equal(POST(f, "application/json", "[1]"), 400);
	assert_int_equal(POST(f, "application/yaml", "- 1"), 400);
	assert_int_equal(POST(f, "application/yaml", ""), 400);
	assert_int_equal(post(dag, f, "application/json", "{}\0", 3, msg, sizeof msg), 400);
	assert_int_equal(POST(f, "text/plain", "{}"), 415);
	assert_int_equal(POST(f, NULL, "{}"), 415);
	assert_int_equal(POST("nope", "application/json", "{}"), 404);
	/* A type without reconfigure is rebuilt (rebuild.c): the body is
	 * checked by its schema like any other. */
	assert_int_equal(POST("exporter:nop", "application/json", "{}"), 200);
	assert_int_equal(POST("exporter:nop", "application/json", "{\"nope\": 1}"), 400);
	assert_int_equal(POST("processor:batch@logs", "application/yaml", "timeout: 1s"), 200);
	assert_int_equal(POST("processor:batch@logs", "application/yaml", "timeout: -1s"), 400);
	assert_int_equal(POST("processor:probabilistic_sampler@logs", "application/json",
	                      "{\"sampling_percentage\": 5}"),
	                 200);
	assert_int_equal(POST("processor:attributes@logs", "application/yaml",
	                      "actions: [{key: c, action: delete}]"),
	                 200);
	assert_int_equal(POST("processor:attributes@logs", "application/yaml",
	                      "actions: [{key: c, action: nope}]"),
	                 400);
	assert_int_equal(POST("processor:transform@logs", "application/yaml",
	                      "log_statements: ['set(log.body, \"y\")']"),
	                 200);
	assert_int_equal(POST("processor:transform@logs", "application/yaml",
	                      "log_statements: ['set(log.nope, 1)']"),
	                 400);
	otf_admin_reply_t r;
	otf__admin_route(dag, NULL, "POST", "/api/v1/nodes/x/config", 22, "application/json", 16,
	                 "{}", (1u << 20) + 1, &r);
	assert_int_equal(r.status, 413);
	otf_free(r.body);
	otf__admin_route(dag, NULL, "GET", "/api/v1/nodes/processor:filter@logs/config", 42, NULL,
	                 0, NULL, 0, &r);
	assert_int_equal(r.status, 405);
	otf_free(r.body);
	otf_dag_destroy(dag);
}

static const char k_native_always[] = "nodes:\n"
                                      "  in: {kind: receiver, type: nop}\n"
                                      "  cr:\n"
                                      "    kind: processor\n"
                                      "    type: content_router\n"
                                      "    config: {routes: {a: 'true'}}\n"
                                      "  out: {kind: exporter, type: nop}\n"
                                      "connections:\n"
                                      "  - {from: in, to: cr}\n"
                                      "  - {from: cr, port: a, to: out}\n";

static void test_router_tables(void **state)
{
	(void)state;
	otf_dag_t *dag = build(k_native);
	char msg[2000];
	/* New conditions for the same routes: in place. */
	assert_int_equal(
	    POST("cr", "application/yaml", "routes: {a: 'attributes[\"t\"] == \"b\"'}"), 200);
	/* Other route names are other ports: a change of the DAG's shape. */
	assert_int_equal(POST("cr", "application/yaml", "routes: {b: 'true'}"), 409);
	assert_non_null(strstr(msg, "output ports"));
	assert_int_equal(POST("cr", "application/yaml", "routes: {a: 'nope('}"), 400);
	otf_dag_destroy(dag);
	/* Nothing is wired to default because route a matches everything: a
	 * condition that may not match would leave data nowhere to go. */
	dag = build(k_native_always);
	assert_int_equal(
	    POST("cr", "application/yaml", "routes: {a: 'attributes[\"t\"] == \"b\"'}"), 400);
	assert_non_null(strstr(msg, "does not fit the node's wiring"));
	assert_int_equal(POST("cr", "application/yaml", "routes: {a: ' true '}"), 200);
	otf_dag_destroy(dag);
}

static char *canon_of(const char *yaml)
{
	otf_config_t *cfg = NULL;
	otf_config_error_t err;
	assert_int_equal(otf_config_load_string("c.yaml", yaml, strlen(yaml), NULL, &cfg, &err), 0);
	char *c = otf__config_canon(otf_config_get(otf_config_root(cfg), "x"));
	otf_config_destroy(cfg);
	assert_non_null(c);
	return c;
}

static void test_canon(void **state)
{
	(void)state;
	char *a = canon_of("x: {a: 1, b: [x, {c: d}]}\n");
	char *b = canon_of("# same, other layout\nx:\n  a: 1\n  b:\n    - x\n    - c: d\n");
	char *c = canon_of("x: {a: 1, b: [x, {c: e}]}\n");
	char *d = canon_of("x:\n");
	char *e = canon_of("x: {}\n");
	char *f = canon_of("x: {a: '1,b=2'}\n");
	char *g = canon_of("x: {a: 1, b: 2}\n");
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_string_equal(d, e);
	assert_string_not_equal(f, g);
	otf_free(a);
	otf_free(b);
	otf_free(c);
	otf_free(d);
	otf_free(e);
	otf_free(f);
	otf_free(g);
}

/* The admin endpoint is on by default and bound to localhost (anyone who
 * reaches it can change the pipeline); "" turns it off; a value without a
 * port is refused naming file:line. */
static void settings_of(const char *text, otf_service_settings_t *st, int want_rc,
                        otf_config_error_t *err)
{
	otf_components_register_builtins();
	otf_config_t *cfg = NULL;
	assert_int_equal(otf_config_load_string("t.yaml", text, strlen(text), NULL, &cfg, err), 0);
	otf_dag_t *dag = NULL;
	int rc = otf_service_build(cfg, &dag, st, err);
	if (!rc)
		otf_dag_destroy(dag);
	otf_config_destroy(cfg);
	if ((rc != 0) != (want_rc != 0))
		fail_msg("otf_service_build: %d (%s)", rc, rc ? err->text : "accepted");
}

static void test_admin_endpoint_default(void **state)
{
	(void)state;
	static const char base[] = "receivers: {nop: {}}\nexporters: {nop: {}}\nservice:\n"
	                           "  pipelines: {logs: {receivers: [nop], exporters: [nop]}}\n";
	otf_service_settings_t st;
	otf_config_error_t err;
	settings_of(base, &st, 0, &err);
	assert_string_equal(st.admin_endpoint, "localhost:8889");
	assert_false(st.admin_explicit);
	char text[512];
	snprintf(text, sizeof text, "%s  admin: {endpoint: \"\"}\n", base);
	settings_of(text, &st, 0, &err);
	assert_string_equal(st.admin_endpoint, "");
	snprintf(text, sizeof text, "%s  admin: {endpoint: \"127.0.0.1:9999\"}\n", base);
	settings_of(text, &st, 0, &err);
	assert_string_equal(st.admin_endpoint, "127.0.0.1:9999");
	assert_true(st.admin_explicit);
	snprintf(text, sizeof text, "%s  admin: {endpoint: localhost}\n", base);
	settings_of(text, &st, -1, &err);
	if (!strstr(err.text, "t.yaml:5:"))
		fail_msg("%s", err.text);
	assert_non_null(strstr(err.text, "expected host:port"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_statuses),
	    cmocka_unit_test(test_router_tables),
	    cmocka_unit_test(test_canon),
	    cmocka_unit_test(test_admin_endpoint_default),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
