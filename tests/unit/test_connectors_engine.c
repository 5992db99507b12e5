/* Connectors spanmetrics and count in a running engine: a test source
 * sends encoded trace requests through the connector into a test sink on
 * a metrics pipeline (components registered through the factory ABI).
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

static void start_workers(const char *connector, int workers)
{
	char yaml[1024];
	snprintf(yaml, sizeof yaml,
	         "receivers: {test_src: }\n"
	         "connectors: {%s}\n"
	         "exporters: {test_sink: }\n"
	         "service: {pipelines: {traces: {receivers: [test_src], exporters: [%.*s]},\n"
	         "  metrics: {receivers: [%.*s], exporters: [test_sink]}}}\n"
	         "runtime: {workers: %d, shutdown_timeout: 5s}\n",
	         connector, (int)strcspn(connector, ":"), connector, (int)strcspn(connector, ":"),
	         connector, workers);
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
	wait_for(&g.outcomes, 8, "the outcomes of 4 requests from each of 2 workers");
	stop();
	assert_int_equal(g.acked[0] + g.acked[1] + g.acked[2] + g.acked[3], 8);
	/* one metrics request, not one per worker */
	assert_int_equal(g.ngot, 1);
	char keys[16][32];
	int64_t vals[16];
	size_t n;
	calls_by(g.got[0], keys, vals, &n);
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
	    cmocka_unit_test(test_spanmetrics_two_workers),
	    cmocka_unit_test(test_count_outcome),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
