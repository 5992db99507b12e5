/* Connectors spanmetrics and count in a running engine: a test source
 * sends encoded trace requests through the connector into a test sink on
 * a metrics pipeline (tests/support/flow_nodes.h, registered through the
 * factory ABI).
 * Checked: spanmetrics acks a request once counted, nacks a malformed one
 * as permanent with a reason, and sends its metrics on its timer (items =
 * data points, calls = the spans acked); count answers each request with
 * its counts' outcome: acked when the sink acks, nacked with the sink's
 * permanence and reason when it refuses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "flow_nodes.h"

#include "otflow/alloc.h"
#include "otflow/arena.h"
#include "otflow/config.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"
#include "otflow/service.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAXR 8

/* The requests the source sends (message i = request i) and whether the
 * sink refuses; what arrives and the outcomes are in otf_tf. */
static struct {
	int nreq;
	otf_buf_t *req[MAXR];
	uint64_t items[MAXR];
	bool sink_nack;
} g;

static void reset(void)
{
	for (int i = 0; i < g.nreq; i++)
		otf_buf_unref(g.req[i]);
	memset(&g, 0, sizeof g);
	otf_tf_reset();
}

static otf_bytes_t B(const char *s)
{
	return (otf_bytes_t){(const uint8_t *)s, strlen(s)};
}

/* A request of n spans named "op" of service "svc". */
static void add_traces(size_t n)
{
	otf_span_t sp[8];
	memset(sp, 0, sizeof sp);
	for (size_t i = 0; i < n; i++) {
		sp[i].name = B("op");
		sp[i].kind = OTF_SPAN_KIND_SERVER;
		sp[i].start_time_unix_nano = 1000;
		sp[i].end_time_unix_nano = 1000 + 3000000; /* 3 ms */
	}
	otf_key_value_t ra = {.key = B("service.name"), .value = {.type = OTF_ANY_STRING}};
	ra.value.u.string_value = B("svc");
	otf_scope_spans_t ss = {.spans = sp, .spans_len = n};
	otf_resource_spans_t rs = {
	    .resource = {.attributes = {&ra, 1}}, .scope_spans = &ss, .scope_spans_len = 1};
	otf_traces_t t = {&rs, 1};
	assert_int_equal(otf_pdata_encode_traces(&t, &g.req[g.nreq]), 0);
	g.items[g.nreq++] = n;
}

/* A span whose kind has wire type 2: the views refuse it. */
static void add_malformed(void)
{
	static const uint8_t bad[] = {0x0a, 0x1e, 0x0a, 0x15, 0x0a, 0x13, 0x0a, 0x0c,
	                              's',  'e',  'r',  'v',  'i',  'c',  'e',  '.',
	                              'n',  'a',  'm',  'e',  0x12, 0x03, 0x0a, 0x01,
	                              's',  0x12, 0x05, 0x12, 0x03, 0x32, 0x01, 0x00};
	g.req[g.nreq] = otf_buf_create_copy(bad, sizeof bad);
	g.items[g.nreq++] = 1;
}

static otf_engine_t *g_engine;
static otf_dag_t *g_dag;
static otf_config_t *g_cfg;

static void start(const char *connector)
{
	char yaml[1024];
	for (int i = 0; i < g.nreq; i++)
		otf_tf_add(OTF_SIGNAL_TRACES, otf_buf_ref(g.req[i]), g.items[i]);
	snprintf(yaml, sizeof yaml,
	         "receivers: {tf_src: }\n"
	         "connectors: {%s}\n"
	         "exporters: {tf_sink: {%s}}\n"
	         "service: {pipelines: {traces: {receivers: [tf_src], exporters: [%.*s]},\n"
	         "  metrics: {receivers: [%.*s], exporters: [tf_sink]}}}\n"
	         "runtime: {workers: 1, shutdown_timeout: 5s}\n",
	         connector, g.sink_nack ? "fail: -1, permanent: true, reason: sink refused" : "",
	         (int)strcspn(connector, ":"), connector, (int)strcspn(connector, ":"), connector);
	otf_config_error_t err;
	otf_service_settings_t st;
	assert_int_equal(otf_config_load_string("t.yaml", yaml, strlen(yaml), NULL, &g_cfg, &err),
	                 0);
	int rc = otf_service_build(g_cfg, &g_dag, &st, &err);
	if (rc)
		fail_msg("%s", err.text);
	assert_int_equal(otf_engine_start(g_dag, &st.runtime, &g_engine), 0);
}

static void stop(void)
{
	otf_engine_request_stop(g_engine);
	assert_int_equal(otf_engine_join(g_engine), 0);
	otf_dag_destroy(g_dag);
	otf_config_destroy(g_cfg);
	/* Every request was handed over; only metrics reached the sink. */
	assert_int_equal(atomic_load(&otf_tf.send_failed), 0);
	for (int k = 0; k < atomic_load(&otf_tf.sink[0].seen) && k < OTF_TF_MAX; k++)
		assert_int_equal(atomic_load(&otf_tf.sink[0].signal[k]), OTF_SIGNAL_METRICS);
}

static int64_t calls_of(const otf_buf_t *b)
{
	otf_arena_t a;
	otf_arena_init(&a, 0);
	otf_metrics_t m;
	assert_int_equal(otf_pdata_decode_metrics(&m, b->data, b->len, &a, NULL, NULL), 0);
	int64_t n = -1;
	const otf_scope_metrics_t *sm = &m.resource_metrics[0].scope_metrics[0];
	for (size_t i = 0; i < sm->metrics_len; i++)
		if (sm->metrics[i].name.len == 25 &&
		    !memcmp(sm->metrics[i].name.ptr, "traces.span.metrics.calls", 25))
			n = sm->metrics[i].data_points.number[0].value.as_int;
	otf_arena_close(&a);
	return n;
}

static void test_spanmetrics_engine(void **st)
{
	(void)st;
	reset();
	add_traces(3);
	add_malformed();
	add_traces(2);
	start("spanmetrics: {metrics_flush_interval: 50ms}");
	otf_tf_await_answers(3, 10000);
	otf_tf_await_seen(0, 1, 10000);
	stop();
	assert_int_equal(atomic_load(&otf_tf.acked[0]), 1);
	assert_int_equal(atomic_load(&otf_tf.acked[2]), 1);
	assert_int_equal(atomic_load(&otf_tf.nacked[1]), 1);
	assert_true(otf_tf.permanent[1]);
	assert_string_equal(otf_tf.reasons[1], "spanmetrics: malformed traces request");
	/* Every flush carries the cumulative calls of the 5 spans acked (the
	 * malformed request counted nothing: it failed on its first span). */
	assert_int_equal(calls_of(otf_tf.sink[0].payload[atomic_load(&otf_tf.sink[0].seen) - 1]),
	                 5);
	assert_int_equal(otf_tf.sink[0].items[atomic_load(&otf_tf.sink[0].seen) - 1],
	                 2); /* calls + duration points */
	reset();
}

static void test_count_outcome(void **st)
{
	(void)st;
	reset();
	add_traces(2);
	add_traces(1);
	start("count: {}");
	otf_tf_await_answers(2, 10000);
	stop();
	assert_int_equal(atomic_load(&otf_tf.acked[0]) + atomic_load(&otf_tf.acked[1]), 2);
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 2);
	reset();
	add_traces(2);
	g.sink_nack = true;
	start("count: {}");
	otf_tf_await_answers(1, 10000);
	stop();
	assert_int_equal(atomic_load(&otf_tf.nacked[0]), 1);
	assert_true(otf_tf.permanent[0]);
	assert_string_equal(otf_tf.reasons[0], "sink refused");
	reset();
}

int main(void)
{
	otf_components_register_builtins();
	otf_tf_register();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spanmetrics_engine),
	    cmocka_unit_test(test_count_outcome),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
