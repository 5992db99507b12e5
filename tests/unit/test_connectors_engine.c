/* Connectors spanmetrics and count in a running engine: a test source
 * sends encoded trace requests through the connector into a test sink on
 * a metrics pipeline (tests/support/flow_nodes.h, registered through the
 * factory ABI).
 * Checked: spanmetrics acks a request once counted, nacks a malformed one
 * as permanent with a reason, and sends its metrics on its timer (items =
 * data points, calls = the spans acked); count answers each request with
 * its counts' outcome: acked when the sink acks, nacked with the sink's
 * permanence and reason when it refuses; with 2 workers (each sending
 * the requests), spanmetrics sends one series per dimension set counted
 * across both, once, with the cardinality limit applied to the node. */
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

static void start_workers(const char *connector, int workers)
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
	         "runtime: {workers: %d, shutdown_timeout: 5s}\n",
	         connector, g.sink_nack ? "fail: -1, permanent: true, reason: sink refused" : "",
	         (int)strcspn(connector, ":"), connector, (int)strcspn(connector, ":"), connector,
	         workers);
	otf_config_error_t err;
	otf_service_settings_t st;
	assert_int_equal(otf_config_load_string("t.yaml", yaml, strlen(yaml), NULL, &g_cfg, &err),
	                 0);
	int rc = otf_service_build(g_cfg, &g_dag, &st, &err);
	if (rc)
		fail_msg("%s", err.text);
	assert_int_equal(otf_engine_start(g_dag, &st.runtime, &g_engine), 0);
}

static void start(const char *connector)
{
	start_workers(connector, 1);
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

/* One request: service "checkout" with a span of each of 3 names, service
 * "limited" with a span of each of 5 names. */
static void add_two_services(void)
{
	static const char *const names[] = {"a", "b", "c", "n0", "n1", "n2", "n3", "n4"};
	otf_span_t sp[8];
	memset(sp, 0, sizeof sp);
	for (size_t i = 0; i < 8; i++) {
		sp[i].name = B(names[i]);
		sp[i].kind = OTF_SPAN_KIND_SERVER;
		sp[i].start_time_unix_nano = 1000;
		sp[i].end_time_unix_nano = 1000 + 3000000;
	}
	otf_key_value_t ra[2] = {{.key = B("service.name"), .value = {.type = OTF_ANY_STRING}},
	                         {.key = B("service.name"), .value = {.type = OTF_ANY_STRING}}};
	ra[0].value.u.string_value = B("checkout");
	ra[1].value.u.string_value = B("limited");
	otf_scope_spans_t ss[2] = {{.spans = sp, .spans_len = 3},
	                           {.spans = sp + 3, .spans_len = 5}};
	otf_resource_spans_t rs[2] = {
	    {.resource = {.attributes = {&ra[0], 1}}, .scope_spans = &ss[0], .scope_spans_len = 1},
	    {.resource = {.attributes = {&ra[1], 1}}, .scope_spans = &ss[1], .scope_spans_len = 1}};
	otf_traces_t t = {rs, 2};
	assert_int_equal(otf_pdata_encode_traces(&t, &g.req[g.nreq]), 0);
	g.items[g.nreq++] = 8;
}

/* Calls per "service/span name" of a metrics request (the overflow series
 * as "service/overflow"); *points = calls data points seen. */
static void calls_by(const otf_buf_t *b, char keys[][32], int64_t *vals, size_t *n)
{
	otf_arena_t a;
	otf_arena_init(&a, 0);
	otf_metrics_t m;
	assert_int_equal(otf_pdata_decode_metrics(&m, b->data, b->len, &a, NULL, NULL), 0);
	*n = 0;
	for (size_t r = 0; r < m.resource_metrics_len; r++) {
		const otf_resource_metrics_t *rm = &m.resource_metrics[r];
		const otf_bytes_t svc = rm->resource.attributes.items[0].value.u.string_value;
		const otf_scope_metrics_t *sm = &rm->scope_metrics[0];
		for (size_t i = 0; i < sm->metrics_len; i++) {
			if (sm->metrics[i].name.len != 25 ||
			    memcmp(sm->metrics[i].name.ptr, "traces.span.metrics.calls", 25))
				continue;
			for (size_t d = 0; d < sm->metrics[i].data_points_len; d++) {
				const otf_number_data_point_t *p =
				    &sm->metrics[i].data_points.number[d];
				otf_bytes_t nm = B("overflow");
				for (size_t k = 0; k < p->attributes.len; k++)
					if (p->attributes.items[k].key.len == 9 &&
					    !memcmp(p->attributes.items[k].key.ptr, "span.name", 9))
						nm = p->attributes.items[k].value.u.string_value;
				assert_true(*n < 16);
				snprintf(keys[*n], 32, "%.*s/%.*s", (int)svc.len,
				         (const char *)svc.ptr, (int)nm.len, (const char *)nm.ptr);
				vals[(*n)++] = p->value.as_int;
			}
		}
	}
	otf_arena_close(&a);
}

static void test_spanmetrics_two_workers(void **st)
{
	(void)st;
	reset();
	for (int i = 0; i < 4; i++)
		add_two_services();
	/* an hour: nothing before shutdown, then the one last interval */
	start_workers("spanmetrics: {metrics_flush_interval: 1h, aggregation_cardinality_limit: 3}",
	              2);
	/* each worker's source sends the 4 requests */
	otf_tf_await_answers(8, 10000);
	stop();
	assert_int_equal(atomic_load(&otf_tf.acks), 8);
	/* one metrics request, not one per worker */
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 1);
	char keys[16][32];
	int64_t vals[16];
	size_t n;
	calls_by(otf_tf.sink[0].payload[0], keys, vals, &n);
	int64_t limited = 0, overflow = -1;
	size_t limited_series = 0;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i; j++)
			if (!strcmp(keys[i], keys[j]))
				fail_msg("series %s twice", keys[i]);
		if (!strncmp(keys[i], "checkout/", 9)) {
			if (vals[i] != 8)
				fail_msg("%s: %lld calls, want 8", keys[i], (long long)vals[i]);
		} else if (!strcmp(keys[i], "limited/overflow")) {
			overflow = vals[i];
		} else {
			limited_series++;
			limited += vals[i];
		}
	}
	assert_int_equal(n, 3 + 3 + 1);
	assert_int_equal(limited_series, 3);
	assert_true(overflow > 0);
	assert_int_equal(limited + overflow, 8 * 5);
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
	    cmocka_unit_test(test_spanmetrics_two_workers),
	    cmocka_unit_test(test_count_outcome),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
