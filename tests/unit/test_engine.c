/* Engine: DAG compile rules, Collector pipelines and native config to the
 * same DAG, and at runtime: fan-out, ack/nack reverse propagation to the
 * subscriber, timers, shutdown with nothing undelivered. Test components
 * are registered through the same factory ABI as the built-ins. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otflow/alloc.h"
#include "otflow/config.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"
#include "otflow/service.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_MSGS 50

static _Atomic int g_acks, g_nacks, g_sink_seen, g_timer_fired;

/* test_src: on start, sends N_MSGS traces messages, subscribing to their
 * outcome with calldata = sequence number. */
typedef struct src {
	otf_node_t *node;
} src_t;

static int src_create(const otf_create_ctx_t *ctx, void **inst)
{
	if (!*inst) {
		src_t *s = otf_calloc(1, sizeof *s);
		s->node = ctx->node;
		*inst = s;
	}
	return 0;
}

static int src_start(void *inst)
{
	src_t *s = inst;
	otf_node_timer_start(s->node, 1, 0, 99);
	return 0;
}

static void src_control(void *inst, const otf_ctrl_t *c)
{
	src_t *s = inst;
	switch (c->type) {
	case OTF_CTRL_TMR:
		atomic_fetch_add(&g_timer_fired, 1);
		for (int i = 0; i < N_MSGS; i++) {
			otf_buf_t *b = otf_buf_create_copy("x", 1);
			otf_msg_t *m = otf_msg_create(s->node, OTF_SIGNAL_TRACES, b, 3);
			otf_msg_subscribe(m, s->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK,
			                  (uint64_t)i);
			otf_msg_header_add(m, "x-tenant", "blue");
			int rc = otf_node_send(s->node, m);
			assert_int_equal(rc, 0);
		}
		break;
	case OTF_CTRL_ACK:
		assert_int_equal(c->calldata % 2, 0);
		assert_int_equal(c->items, 3);
		atomic_fetch_add(&g_acks, 1);
		break;
	case OTF_CTRL_NACK:
		/* odd messages were refused by one of the two sinks */
		assert_int_equal(c->calldata % 2, 1);
		assert_false(c->permanent);
		assert_string_equal(c->reason, "odd refused");
		atomic_fetch_add(&g_nacks, 1);
		break;
	case OTF_CTRL_KIL:
		otf_node_shutdown_done(s->node);
		break;
	default:
		break;
	}
}

static void plain_destroy(void *inst)
{
	otf_free(inst);
}

/* test_sink: acks every message; with config refuse_odd it nacks odd ones. */
typedef struct sink_cfg {
	bool refuse_odd;
} sink_cfg_t;

typedef struct sink {
	otf_node_t *node;
	bool refuse_odd;
	uint64_t n;
} sink_t;

static int sink_create(const otf_create_ctx_t *ctx, void **inst)
{
	if (!*inst) {
		sink_t *s = otf_calloc(1, sizeof *s);
		s->node = ctx->node;
		s->refuse_odd = ((const sink_cfg_t *)ctx->config)->refuse_odd;
		*inst = s;
	}
	return 0;
}

static void sink_consume(void *inst, otf_msg_t *m)
{
	sink_t *s = inst;
	atomic_fetch_add(&g_sink_seen, 1);
	assert_string_equal(otf_msg_header_get(m, "X-Tenant"), "blue");
	assert_int_equal(otf_msg_payload(m)->data[0], 'x');
	/* message ids differ per fan-out branch; order is per sink */
	uint64_t seq = s->n++;
	if (s->refuse_odd && seq % 2)
		otf_msg_nack(m, -EIO, false, "odd refused");
	else
		otf_msg_ack(m);
}

static void sink_control(void *inst, const otf_ctrl_t *c)
{
	sink_t *s = inst;
	if (c->type == OTF_CTRL_KIL)
		otf_node_shutdown_done(s->node);
}

static const otf_config_field_t k_sink_schema[] = {
    {.key = "refuse_odd",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(sink_cfg_t, refuse_odd),
     .def = "false",
     .desc = "nack odd messages"},
    OTF_CONFIG_FIELD_END,
};

static const otf_component_factory_t k_src = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_RECEIVER,
    .type = "test_src",
    .description = "test source",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, 0},
    .create = {src_create, src_create, NULL},
    .start = src_start,
    .control = src_control,
    .destroy = plain_destroy,
};

static const otf_component_factory_t k_sink = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXPORTER,
    .type = "test_sink",
    .description = "test sink",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, 0},
    .config_schema = k_sink_schema,
    .config_size = sizeof(sink_cfg_t),
    .create = {sink_create, sink_create, NULL},
    .consume = {sink_consume, sink_consume, NULL},
    .control = sink_control,
    .destroy = plain_destroy,
};

static int setup(void **state)
{
	(void)state;
	otf_components_register_builtins();
	otf_component_register(&k_src);
	otf_component_register(&k_sink);
	otf_log_set_level(OTF_LOG_ERROR);
	return 0;
}

static int build(const char *yaml, otf_config_t **cfg, otf_dag_t **dag, otf_service_settings_t *st,
                 otf_config_error_t *err)
{
	int rc = otf_config_load_string("test.yaml", yaml, strlen(yaml), NULL, cfg, err);
	if (rc)
		return rc;
	rc = otf_service_build(*cfg, dag, st, err);
	if (rc)
		otf_config_destroy(*cfg);
	return rc;
}

static char *print(otf_dag_t *dag)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	otf_dag_print(dag, f, false);
	fclose(f);
	return buf;
}

static const char *k_collector = "receivers:\n"
                                 "  test_src:\n"
                                 "exporters:\n"
                                 "  test_sink/a:\n"
                                 "  test_sink/b:\n"
                                 "    refuse_odd: true\n"
                                 "  test_sink/unused:\n"
                                 "connectors:\n"
                                 "  forward:\n"
                                 "service:\n"
                                 "  pipelines:\n"
                                 "    traces/in:\n"
                                 "      receivers: [test_src]\n"
                                 "      exporters: [forward]\n"
                                 "    traces/out:\n"
                                 "      receivers: [forward]\n"
                                 "      exporters: [test_sink/a, test_sink/b]\n"
                                 "runtime:\n"
                                 "  workers: 2\n"
                                 "  shutdown_timeout: 5s\n"
                                 "  max_connections: 300\n";

static const char *k_native =
    "nodes:\n"
    "  exporter:test_sink/b: {kind: exporter, type: test_sink, config: {refuse_odd: true}}\n"
    "  exporter:test_sink/a: {type: test_sink}\n"
    "  connector:forward: {type: forward}\n"
    "  receiver:test_src: {type: test_src}\n"
    "connections:\n"
    "  - from: receiver:test_src\n"
    "    to: connector:forward\n"
    "    signals: [traces]\n"
    "  - {from: connector:forward, to: [exporter:test_sink/a, exporter:test_sink/b], "
    "signals: [traces]}\n";

static void test_collector_and_native_same_dag(void **state)
{
	(void)state;
	otf_config_t *c1, *c2;
	otf_dag_t *d1, *d2;
	otf_service_settings_t s1, s2;
	otf_config_error_t err;
	assert_int_equal(build(k_collector, &c1, &d1, &s1, &err), 0);
	assert_int_equal(build(k_native, &c2, &d2, &s2, &err), 0);
	char *p1 = print(d1), *p2 = print(d2);
	assert_string_equal(p1, p2);
	assert_non_null(strstr(p1, "receiver receiver:test_src (type test_src)\n"
	                           "  -> connector:forward [traces]\n"));
	assert_null(strstr(p1, "unused")); /* defined but in no pipeline */
	assert_int_equal(s1.runtime.workers, 2);
	assert_int_equal(s1.runtime.shutdown_timeout_ms, 5000);
	assert_int_equal(s1.runtime.max_connections, 300);
	assert_int_equal(s2.runtime.max_connections, 0); /* derived from RLIMIT_NOFILE */
	free(p1);
	free(p2);
	otf_dag_destroy(d1);
	otf_dag_destroy(d2);
	otf_config_destroy(c1);
	otf_config_destroy(c2);
}

static void expect_error(const char *yaml, const char *needle)
{
	otf_config_t *c;
	otf_dag_t *d;
	otf_service_settings_t s;
	otf_config_error_t err;
	int rc = build(yaml, &c, &d, &s, &err);
	if (rc == 0) {
		otf_dag_destroy(d);
		otf_config_destroy(c);
		fail_msg("expected an error containing '%s'", needle);
	}
	if (!strstr(err.text, needle))
		fail_msg("error '%s' lacks '%s'", err.text, needle);
}

static void test_config_errors(void **state)
{
	(void)state;
	expect_error(
	    "receivers: {test_src: }\nexporters: {test_sink: }\n"
	    "service: {pipelines: {traces: {receivers: [nope], exporters: [test_sink]}}}\n",
	    "test.yaml:3:");
	expect_error(
	    "receivers: {test_src: }\nexporters: {test_sink: }\n"
	    "service: {pipelines: {traces: {receivers: [nope], exporters: [test_sink]}}}\n",
	    "'nope' is not defined under receivers");
	expect_error(
	    "receivers: {test_src: }\nexporters: {test_sink: {refuse_odd: maybe}}\n"
	    "service: {pipelines: {traces: {receivers: [test_src], exporters: [test_sink]}}}\n",
	    "refuse_odd");
	expect_error(
	    "receivers: {test_src: }\nexporters: {test_sink: {color: red}}\n"
	    "service: {pipelines: {traces: {receivers: [test_src], exporters: [test_sink]}}}\n",
	    "color");
	/* logs are not supported by the test components */
	expect_error(
	    "receivers: {test_src: }\nexporters: {test_sink: }\n"
	    "service: {pipelines: {logs: {receivers: [test_src], exporters: [test_sink]}}}\n",
	    "does not produce logs");
	expect_error(
	    "receivers: {test_src: }\nexporters: {test_sink: }\n"
	    "service: {pipelines: {spans: {receivers: [test_src], exporters: [test_sink]}}}\n",
	    "must start with traces, metrics or logs");
	expect_error("recievers: {}\n", "unknown top-level key 'recievers'");
	expect_error("runtime: {workers: 1, wrkrs: 2}\n", "unknown key \"wrkrs\"");
	expect_error("runtime: {max_connections: 5000000000}\n", "out of range");
	/* a cycle through two forward connectors */
	expect_error("receivers: {test_src: }\nconnectors: {forward/a: , forward/b: }\n"
	             "exporters: {test_sink: }\n"
	             "service: {pipelines: {\n"
	             "  traces/1: {receivers: [test_src, forward/b], exporters: [forward/a]},\n"
	             "  traces/2: {receivers: [forward/a], exporters: [forward/b, test_sink]}}}\n",
	             "cycle");
}

static void test_partial_path_elimination(void **state)
{
	(void)state;
	otf_config_t *c;
	otf_dag_t *d;
	otf_service_settings_t s;
	otf_config_error_t err;
	/* sink c is connected only from a connector that nothing feeds */
	const char *yaml = "nodes:\n"
	                   "  src: {type: test_src}\n"
	                   "  a: {type: test_sink}\n"
	                   "  fwd: {type: forward}\n"
	                   "  c: {type: test_sink}\n"
	                   "connections:\n"
	                   "  - {from: src, to: a}\n"
	                   "  - {from: fwd, to: c, signals: [traces]}\n";
	assert_int_equal(build(yaml, &c, &d, &s, &err), 0);
	char *p = print(d);
	assert_non_null(strstr(p, "receiver src"));
	assert_non_null(strstr(p, "-> a [traces,metrics]"));
	assert_null(strstr(p, "fwd"));
	assert_null(strstr(p, "exporter c "));
	free(p);
	otf_dag_destroy(d);
	otf_config_destroy(c);
}

/* A pipeline with more receivers than the old fixed table of 32: every
 * one of them is wired (the 33rd was silently dropped). */
static void test_pipeline_many_receivers(void **state)
{
	(void)state;
	char yaml[8192];
	size_t n = 0;
	n += (size_t)snprintf(yaml + n, sizeof yaml - n, "receivers:\n");
	for (int i = 1; i <= 40; i++)
		n += (size_t)snprintf(yaml + n, sizeof yaml - n, "  test_src/%d:\n", i);
	n += (size_t)snprintf(yaml + n, sizeof yaml - n,
	                      "exporters: {test_sink: }\n"
	                      "service: {pipelines: {traces: {exporters: [test_sink], "
	                      "receivers: [");
	for (int i = 1; i <= 40; i++)
		n += (size_t)snprintf(yaml + n, sizeof yaml - n, "%stest_src/%d", i > 1 ? ", " : "",
		                      i);
	snprintf(yaml + n, sizeof yaml - n, "]}}}\n");
	otf_config_t *c;
	otf_dag_t *d;
	otf_service_settings_t s;
	otf_config_error_t err;
	assert_int_equal(build(yaml, &c, &d, &s, &err), 0);
	char *p = print(d);
	for (int i = 1; i <= 40; i++) {
		char want[128];
		snprintf(want, sizeof want,
		         "receiver receiver:test_src/%d (type test_src)\n"
		         "  -> exporter:test_sink [traces]\n",
		         i);
		if (!strstr(p, want))
			fail_msg("missing:\n%s\nin:\n%s", want, p);
	}
	free(p);
	otf_dag_destroy(d);
	otf_config_destroy(c);
}

/* Ids whose node names would be cut at the name limit are refused: two
 * long exporter ids differing only at the end must not become one node. */
static void test_long_ids_refused(void **state)
{
	(void)state;
	char a[400], yaml[2048];
	memset(a, 'a', 300);
	a[300] = '\0';
	snprintf(yaml, sizeof yaml,
	         "receivers: {test_src: }\n"
	         "exporters: {test_sink/%s1: , test_sink/%s2: {refuse_odd: true}}\n"
	         "service: {pipelines: {traces: {receivers: [test_src],\n"
	         "  exporters: [test_sink/%s1, test_sink/%s2]}}}\n",
	         a, a, a, a);
	expect_error(yaml, "test.yaml:4:");
	expect_error(yaml, "is too long");
	snprintf(yaml, sizeof yaml,
	         "receivers: {test_src: }\nexporters: {test_sink: }\n"
	         "processors: {batch/%s: }\n"
	         "service: {pipelines: {traces: {receivers: [test_src],\n"
	         "  processors: [batch/%s], exporters: [test_sink]}}}\n",
	         a, a);
	expect_error(yaml, "is too long");
}

/* Collector config edge cases: the same receiver in two pipelines of one
 * signal fans out; an exporter shared by two pipelines is one node fed by
 * both; every pipeline has its own processor instances; a native `to: []`
 * is an error, not a connection to nothing. */
static void test_collector_edge_cases(void **state)
{
	(void)state;
	otf_config_t *c;
	otf_dag_t *d;
	otf_service_settings_t s;
	otf_config_error_t err;
	const char *yaml = "receivers: {test_src: }\n"
	                   "processors: {batch: }\n"
	                   "exporters: {test_sink/a: , test_sink/b: }\n"
	                   "service: {pipelines: {\n"
	                   "  traces/1: {receivers: [test_src], processors: [batch],\n"
	                   "             exporters: [test_sink/a]},\n"
	                   "  traces/2: {receivers: [test_src], processors: [batch],\n"
	                   "             exporters: [test_sink/a, test_sink/b]},\n"
	                   "  metrics: {receivers: [test_src], exporters: [test_sink/a]}}}\n";
	assert_int_equal(build(yaml, &c, &d, &s, &err), 0);
	char *p = print(d);
	assert_string_equal(p, "receiver receiver:test_src (type test_src)\n"
	                       "  -> exporter:test_sink/a [metrics]\n"
	                       "  -> processor:batch@traces/1 [traces]\n"
	                       "  -> processor:batch@traces/2 [traces]\n"
	                       "processor processor:batch@traces/1 (type batch)\n"
	                       "  -> exporter:test_sink/a [traces]\n"
	                       "processor processor:batch@traces/2 (type batch)\n"
	                       "  -> exporter:test_sink/a [traces]\n"
	                       "  -> exporter:test_sink/b [traces]\n"
	                       "exporter exporter:test_sink/a (type test_sink)\n"
	                       "exporter exporter:test_sink/b (type test_sink)\n");
	free(p);
	otf_dag_destroy(d);
	otf_config_destroy(c);
	expect_error("receivers: {test_src: }\nexporters: {test_sink: }\n"
	             "service: {pipelines: {traces: {receivers: [], exporters: [test_sink]}}}\n",
	             "at least one receiver");
	expect_error("receivers: {test_src: }\nexporters: {test_sink: }\n"
	             "service: {pipelines: {traces: {receivers: [test_src],\n"
	             "  processors: [nope], exporters: [test_sink]}}}\n",
	             "test.yaml:4:");
	expect_error("nodes: {src: {type: test_src}, a: {type: test_sink}}\n"
	             "connections:\n"
	             "  - {from: src, to: a}\n"
	             "  - {from: src, to: []}\n",
	             "test.yaml:4:");
	expect_error("nodes: {src: {type: test_src}, a: {type: test_sink}}\n"
	             "connections:\n"
	             "  - {from: src, to: []}\n"
	             "  - {from: src, to: a}\n",
	             "'to' lists no node");
}

static void test_runtime_fanout_ack_nack(void **state)
{
	(void)state;
	otf_config_t *c;
	otf_dag_t *d;
	otf_service_settings_t s;
	otf_config_error_t err;
	assert_int_equal(build(k_collector, &c, &d, &s, &err), 0);
	otf_engine_t *e;
	assert_int_equal(otf_engine_start(d, &s.runtime, &e), 0);
	/* two workers, each with its own pipeline instance */
	for (int i = 0; i < 500 && atomic_load(&g_acks) + atomic_load(&g_nacks) < 2 * N_MSGS; i++)
		usleep(10000);
	assert_int_equal(atomic_load(&g_timer_fired), 2);
	assert_int_equal(atomic_load(&g_acks), N_MSGS);  /* 25 even per worker */
	assert_int_equal(atomic_load(&g_nacks), N_MSGS); /* 25 odd per worker */
	assert_int_equal(atomic_load(&g_sink_seen), 4 * N_MSGS);
	otf_node_stats_t st[8];
	size_t n = otf_engine_stats(e, st, 8);
	assert_int_equal(n, 4);
	otf_engine_request_stop(e);
	assert_int_equal(otf_engine_join(e), 0);
	otf_dag_destroy(d);
	otf_config_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_collector_and_native_same_dag),
	    cmocka_unit_test(test_config_errors),
	    cmocka_unit_test(test_partial_path_elimination),
	    cmocka_unit_test(test_pipeline_many_receivers),
	    cmocka_unit_test(test_long_ids_refused),
	    cmocka_unit_test(test_collector_edge_cases),
	    cmocka_unit_test(test_runtime_fanout_ack_nack),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
