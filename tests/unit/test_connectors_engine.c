/* Connectors spanmetrics and count in a running engine: a test source
 * sends encoded trace requests through the connector into a test sink on
 * a metrics pipeline (components registered through the factory ABI).
 * Checked: spanmetrics acks a request once counted, nacks a malformed one
 * as permanent with a reason, and sends its metrics on its timer (items =
 * data points, calls = the spans acked); count answers each request with
 * its counts' outcome: acked when the sink acks, nacked with the sink's
 * permanence and reason when it refuses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

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
#define MAXB 64

static struct {
	int nreq;
	otf_buf_t *req[MAXR];
	uint64_t items[MAXR];
	bool sink_nack;
	pthread_mutex_t mu;
	int acked[MAXR], nacked[MAXR];
	bool permanent[MAXR];
	char reason[MAXR][160];
	int outcomes;
	otf_buf_t *got[MAXB];
	uint64_t got_items[MAXB];
	int ngot;
} g = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void reset(void)
{
	for (int i = 0; i < g.nreq; i++)
		otf_buf_unref(g.req[i]);
	for (int i = 0; i < g.ngot; i++)
		otf_buf_unref(g.got[i]);
	pthread_mutex_t mu = g.mu;
	memset(&g, 0, sizeof g);
	g.mu = mu;
}

typedef struct tnode {
	otf_node_t *node;
} tnode_t;

static int t_create(const otf_create_ctx_t *ctx, void **inst)
{
	if (!*inst) {
		tnode_t *t = otf_calloc(1, sizeof *t);
		t->node = ctx->node;
		*inst = t;
	}
	return 0;
}

static int src_start(void *inst)
{
	tnode_t *t = inst;
	otf_node_timer_start(t->node, 1, 0, 1);
	return 0;
}

static void src_control(void *inst, const otf_ctrl_t *c)
{
	tnode_t *t = inst;
	if (c->type == OTF_CTRL_TMR) {
		for (int i = 0; i < g.nreq; i++) {
			otf_msg_t *m = otf_msg_create(t->node, OTF_SIGNAL_TRACES,
			                              otf_buf_ref(g.req[i]), g.items[i]);
			otf_msg_subscribe(m, t->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK,
			                  (uint64_t)i);
			assert_int_equal(otf_node_send(t->node, m), 0);
		}
	} else if (c->type == OTF_CTRL_ACK || c->type == OTF_CTRL_NACK) {
		int i = (int)c->calldata;
		pthread_mutex_lock(&g.mu);
		if (c->type == OTF_CTRL_ACK) {
			g.acked[i]++;
		} else {
			g.nacked[i]++;
			g.permanent[i] = c->permanent;
			snprintf(g.reason[i], sizeof g.reason[i], "%s", c->reason);
		}
		g.outcomes++;
		pthread_mutex_unlock(&g.mu);
	} else if (c->type == OTF_CTRL_KIL) {
		otf_node_shutdown_done(t->node);
	}
}

static void sink_consume(void *inst, otf_msg_t *m)
{
	(void)inst;
	pthread_mutex_lock(&g.mu);
	assert_true(g.ngot < MAXB);
	assert_int_equal(otf_msg_signal(m), OTF_SIGNAL_METRICS);
	g.got[g.ngot] = otf_buf_ref(otf_msg_payload(m));
	g.got_items[g.ngot++] = otf_msg_items(m);
	pthread_mutex_unlock(&g.mu);
	if (g.sink_nack)
		otf_msg_nack(m, OTF_E_IO, true, "sink refused");
	else
		otf_msg_ack(m);
}

static void sink_control(void *inst, const otf_ctrl_t *c)
{
	tnode_t *t = inst;
	if (c->type == OTF_CTRL_KIL)
		otf_node_shutdown_done(t->node);
}

static void t_destroy(void *inst)
{
	otf_free(inst);
}

static const otf_component_factory_t k_src = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_RECEIVER,
    .type = "test_src",
    .description = "test source",
    .stability = {OTF_STABILITY_DEVELOPMENT, 0, 0},
    .create = {t_create, NULL, NULL},
    .start = src_start,
    .control = src_control,
    .destroy = t_destroy,
};

static const otf_component_factory_t k_sink = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXPORTER,
    .type = "test_sink",
    .description = "test sink",
    .stability = {0, OTF_STABILITY_DEVELOPMENT, 0},
    .create = {NULL, t_create, NULL},
    .consume = {NULL, sink_consume, NULL},
    .control = sink_control,
    .destroy = t_destroy,
};

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
	snprintf(yaml, sizeof yaml,
	         "receivers: {test_src: }\n"
	         "connectors: {%s}\n"
	         "exporters: {test_sink: }\n"
	         "service: {pipelines: {traces: {receivers: [test_src], exporters: [%.*s]},\n"
	         "  metrics: {receivers: [%.*s], exporters: [test_sink]}}}\n"
	         "runtime: {workers: 1, shutdown_timeout: 5s}\n",
	         connector, (int)strcspn(connector, ":"), connector, (int)strcspn(connector, ":"),
	         connector);
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
}

static int locked(const int *v)
{
	pthread_mutex_lock(&g.mu);
	int n = *v;
	pthread_mutex_unlock(&g.mu);
	return n;
}

/* Bounded wait (10 s) for *v >= n. */
static void wait_for(const int *v, int n, const char *what)
{
	for (int i = 0; i < 2000 && locked(v) < n; i++)
		usleep(5000);
	if (locked(v) < n)
		fail_msg("waited 10 s for %s: %d of %d", what, locked(v), n);
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
	wait_for(&g.outcomes, 3, "the outcomes of 3 requests");
	wait_for(&g.ngot, 1, "a metrics request");
	stop();
	assert_int_equal(g.acked[0], 1);
	assert_int_equal(g.acked[2], 1);
	assert_int_equal(g.nacked[1], 1);
	assert_true(g.permanent[1]);
	assert_string_equal(g.reason[1], "spanmetrics: malformed traces request");
	/* Every flush carries the cumulative calls of the 5 spans acked (the
	 * malformed request counted nothing: it failed on its first span). */
	assert_int_equal(calls_of(g.got[g.ngot - 1]), 5);
	assert_int_equal(g.got_items[g.ngot - 1], 2); /* calls + duration points */
	reset();
}

static void test_count_outcome(void **st)
{
	(void)st;
	reset();
	add_traces(2);
	add_traces(1);
	start("count: {}");
	wait_for(&g.outcomes, 2, "the outcomes of 2 requests");
	stop();
	assert_int_equal(g.acked[0] + g.acked[1], 2);
	assert_int_equal(g.ngot, 2);
	reset();
	add_traces(2);
	g.sink_nack = true;
	start("count: {}");
	wait_for(&g.outcomes, 1, "the outcome of 1 request");
	stop();
	assert_int_equal(g.nacked[0], 1);
	assert_true(g.permanent[0]);
	assert_string_equal(g.reason[0], "sink refused");
	reset();
}

int main(void)
{
	otf_components_register_builtins();
	otf_component_register(&k_src);
	otf_component_register(&k_sink);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spanmetrics_engine),
	    cmocka_unit_test(test_count_outcome),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
