/* processor batch, engine-level: a test source sends encoded OTLP requests
 * through `batch` into a test sink (tests/support/flow_nodes.h, registered
 * through the factory ABI like the built-ins). Checked: batches have the configured
 * sizes, every record arrives once and in order with its resource and
 * scope, merging without a cut is the byte concatenation of the requests,
 * oversize requests are cut at send_batch_max_size (logs and metrics down
 * to data points), timeout and KIL flush, acks and nacks reach every
 * original exactly once, and a full downstream makes batch refuse input. */
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
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAXR 64

/* The scenario: the requests the source sends (in order, message i = request
 * i) and how the sink answers; reset before each engine run. What arrives
 * and the outcomes are in otf_tf (flow_nodes.h). */
static struct {
	otf_signal_t sig;
	int nreq;
	otf_buf_t *req[MAXR];
	uint64_t items[MAXR];
	int sink_mode; /* 0 ack, 1 nack every batch (permanent), 2 nack batch nack_at */
	int nack_at;
} g;

static void reset(otf_signal_t sig)
{
	for (int i = 0; i < g.nreq; i++)
		otf_buf_unref(g.req[i]);
	memset(&g, 0, sizeof g);
	g.sig = sig;
	otf_tf_reset();
}

/* ---- requests ---- */

static otf_bytes_t B(const char *s)
{
	return (otf_bytes_t){(const uint8_t *)s, strlen(s)};
}

/* Logs request number r: nres resources x nscope scopes x nrec records;
 * records are numbered from *seq on (body "r<seq>", time 1000 + seq). */
static void add_logs(int nres, int nscope, int nrec, int *seq)
{
	otf_resource_logs_t rl[4];
	otf_scope_logs_t sl[4][4];
	otf_log_record_t lr[4][4][32];
	otf_key_value_t rattr[4];
	char names[4][32], bodies[4][4][32][16], scopes[4][16];
	memset(rl, 0, sizeof rl);
	memset(sl, 0, sizeof sl);
	memset(lr, 0, sizeof lr);
	memset(rattr, 0, sizeof rattr);
	for (int a = 0; a < nres; a++) {
		snprintf(names[a], sizeof names[a], "svc-%d-%d", g.nreq, a);
		rattr[a].key = B("service.name");
		rattr[a].value.type = OTF_ANY_STRING;
		rattr[a].value.u.string_value = B(names[a]);
		rl[a].resource.attributes.items = &rattr[a];
		rl[a].resource.attributes.len = 1;
		rl[a].schema_url = B("https://opentelemetry.io/schemas/1.26.0");
		rl[a].scope_logs = sl[a];
		rl[a].scope_logs_len = (size_t)nscope;
		for (int b = 0; b < nscope; b++) {
			snprintf(scopes[b], sizeof scopes[b], "scope-%d", b);
			sl[a][b].scope.name = B(scopes[b]);
			sl[a][b].log_records = lr[a][b];
			sl[a][b].log_records_len = (size_t)nrec;
			for (int c = 0; c < nrec; c++) {
				int k = (*seq)++;
				snprintf(bodies[a][b][c], sizeof bodies[a][b][c], "r%d", k);
				lr[a][b][c].time_unix_nano = 1000u + (uint64_t)k;
				lr[a][b][c].severity_number = 9;
				lr[a][b][c].body.type = OTF_ANY_STRING;
				lr[a][b][c].body.u.string_value = B(bodies[a][b][c]);
			}
		}
	}
	otf_logs_t l = {.resource_logs = rl, .resource_logs_len = (size_t)nres};
	assert_int_equal(otf_pdata_encode_logs(&l, &g.req[g.nreq]), 0);
	g.items[g.nreq++] = (uint64_t)(nres * nscope * nrec);
}

/* Walks every batch the sink got, in order: records must be r0..r<n-1>,
 * each with the resource and scope of the request it came from. */
static void check_logs(int n)
{
	otf_arena_t a;
	otf_arena_init(&a, 0);
	int next = 0;
	for (int i = 0; i < atomic_load(&otf_tf.sink[0].seen); i++) {
		otf_logs_t l;
		assert_int_equal(otf_pdata_decode_logs(&l, otf_tf.sink[0].payload[i]->data,
		                                       otf_tf.sink[0].payload[i]->len, &a, NULL,
		                                       NULL),
		                 0);
		uint64_t items = 0;
		for (size_t r = 0; r < l.resource_logs_len; r++) {
			otf_resource_logs_t *rl = &l.resource_logs[r];
			assert_int_equal(rl->resource.attributes.len, 1);
			assert_int_equal(rl->schema_url.len, 39);
			for (size_t s = 0; s < rl->scope_logs_len; s++) {
				otf_scope_logs_t *sl = &rl->scope_logs[s];
				for (size_t k = 0; k < sl->log_records_len; k++) {
					otf_log_record_t *lr = &sl->log_records[k];
					char want[16];
					snprintf(want, sizeof want, "r%d", next);
					assert_int_equal(lr->body.u.string_value.len, strlen(want));
					assert_memory_equal(lr->body.u.string_value.ptr, want,
					                    strlen(want));
					assert_int_equal(lr->time_unix_nano,
					                 1000u + (uint64_t)next);
					assert_int_equal(sl->scope.name.len, 7); /* "scope-N" */
					next++;
					items++;
				}
			}
		}
		assert_int_equal(items, otf_tf.sink[0].items[i]);
		otf_arena_reset(&a);
	}
	assert_int_equal(next, n);
	otf_arena_close(&a);
}

/* ---- running a pipeline ---- */

static otf_engine_t *g_engine;
static otf_dag_t *g_dag;
static otf_config_t *g_cfg;

static void start(const char *batch_cfg, const char *signal, unsigned channel_capacity)
{
	char yaml[1024], sink[96] = "";
	if (g.sink_mode == 1)
		snprintf(sink, sizeof sink, "fail: -1, permanent: true, reason: sink refused");
	else if (g.sink_mode == 2)
		snprintf(sink, sizeof sink, "nack_at: %d, reason: sink refused", g.nack_at);
	for (int i = 0; i < g.nreq; i++)
		otf_tf_add(g.sig, otf_buf_ref(g.req[i]), g.items[i]);
	snprintf(yaml, sizeof yaml,
	         "receivers: {tf_src: }\n"
	         "processors: {batch: %s}\n"
	         "exporters: {tf_sink: {%s}}\n"
	         "service: {pipelines: {%s: {receivers: [tf_src], processors: [batch], "
	         "exporters: [tf_sink]}}}\n"
	         "runtime: {workers: 1, shutdown_timeout: 5s, channel_capacity: %u%s}\n",
	         batch_cfg, sink, signal, channel_capacity,
	         /* A small channel is the test's full downstream: keep it
	          * (batch -> sink would be a fused stage, with no channel). */
	         channel_capacity < 128 ? ", fuse: false" : "");
	otf_config_error_t err;
	otf_service_settings_t st;
	assert_int_equal(otf_config_load_string("t.yaml", yaml, strlen(yaml), NULL, &g_cfg, &err),
	                 0);
	int rc = otf_service_build(g_cfg, &g_dag, &st, &err);
	if (rc)
		fail_msg("%s", err.text);
	assert_int_equal(otf_engine_start(g_dag, &st.runtime, &g_engine), 0);
}

static int outcomes(void)
{
	return atomic_load(&otf_tf.acks) + atomic_load(&otf_tf.nacks);
}

/* Every request handed over, n answered; an ack reports its request's
 * items. */
static void wait_outcomes(int n)
{
	for (int i = 0; i < 1000 && outcomes() < n; i++)
		usleep(5000);
	assert_int_equal(outcomes(), n);
	assert_int_equal(atomic_load(&otf_tf.send_failed), 0);
	for (int i = 0; i < g.nreq; i++)
		if (atomic_load(&otf_tf.acked[i]))
			assert_int_equal(atomic_load(&otf_tf.answer_items[i]), g.items[i]);
}

static void stop(void)
{
	otf_engine_request_stop(g_engine);
	assert_int_equal(otf_engine_join(g_engine), 0);
	otf_dag_destroy(g_dag);
	otf_config_destroy(g_cfg);
}

static void expect_all_acked(void)
{
	for (int i = 0; i < g.nreq; i++) {
		assert_int_equal(atomic_load(&otf_tf.answer_items[i]), g.items[i]);
		assert_int_equal(atomic_load(&otf_tf.acked[i]), 1);
		assert_int_equal(atomic_load(&otf_tf.nacked[i]), 0);
	}
}

/* ---- tests ---- */

static void test_merge_to_exact_size(void **state)
{
	(void)state;
	reset(OTF_SIGNAL_LOGS);
	int seq = 0;
	for (int i = 0; i < 20; i++)
		add_logs(1, 1, 3, &seq); /* 60 records */
	start("{send_batch_size: 10, send_batch_max_size: 10, timeout: 10s}", "logs", 128);
	wait_outcomes(20);
	expect_all_acked();
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 6);
	for (int i = 0; i < atomic_load(&otf_tf.sink[0].seen); i++)
		assert_int_equal(otf_tf.sink[0].items[i], 10);
	check_logs(60);
	stop();
}

static void test_merge_is_concatenation(void **state)
{
	(void)state;
	reset(OTF_SIGNAL_LOGS);
	int seq = 0;
	for (int i = 0; i < 20; i++)
		add_logs(2, 1, 2, &seq); /* 4 records each */
	start("{send_batch_size: 12, timeout: 10s}", "logs", 128);
	/* Without a max size a batch is sent as soon as it holds >= 12 items:
	 * 3 requests, and it is their bytes back to back; the last 2 requests
	 * wait for the timeout or shutdown. */
	wait_outcomes(18);
	usleep(20000);
	assert_int_equal(outcomes(), 18);
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 6);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(otf_tf.sink[0].items[i], 12);
		size_t off = 0;
		for (int r = 3 * i; r < 3 * i + 3; r++) {
			assert_true(off + g.req[r]->len <= otf_tf.sink[0].payload[i]->len);
			assert_memory_equal(otf_tf.sink[0].payload[i]->data + off, g.req[r]->data,
			                    g.req[r]->len);
			off += g.req[r]->len;
		}
		assert_int_equal(off, otf_tf.sink[0].payload[i]->len);
	}
	stop();
	expect_all_acked();
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 7);
	assert_int_equal(otf_tf.sink[0].items[6], 8);
	check_logs(80);
}

static void test_timeout_flush(void **state)
{
	(void)state;
	reset(OTF_SIGNAL_LOGS);
	int seq = 0;
	for (int i = 0; i < 5; i++)
		add_logs(1, 2, 3, &seq); /* 30 records, far below send_batch_size */
	start("{send_batch_size: 1000, timeout: 80ms}", "logs", 128);
	wait_outcomes(5);
	expect_all_acked();
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 1);
	assert_int_equal(otf_tf.sink[0].items[0], 30);
	assert_true(otf_tf.sink[0].arrived_ns[0] - otf_tf.sent_ns >= 70000000u);
	check_logs(30);
	stop();
}

static void test_split_logs(void **state)
{
	(void)state;
	reset(OTF_SIGNAL_LOGS);
	int seq = 0;
	add_logs(1, 1, 4, &seq); /* 4 */
	add_logs(3, 3, 3, &seq); /* 27: cut inside resources and scopes */
	add_logs(2, 2, 1, &seq); /* 4 */
	start("{send_batch_size: 10, send_batch_max_size: 10, timeout: 50ms}", "logs", 128);
	wait_outcomes(3);
	expect_all_acked();
	/* 35 records: 10, 10, 10 by size, 5 at the timeout */
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 4);
	for (int i = 0; i < 3; i++)
		assert_int_equal(otf_tf.sink[0].items[i], 10);
	assert_int_equal(otf_tf.sink[0].items[3], 5);
	check_logs(35);
	stop();
}

static void add_metrics(int ngauge, int nsum)
{
	otf_number_data_point_t gp[32], sp[32];
	memset(gp, 0, sizeof gp);
	memset(sp, 0, sizeof sp);
	for (int i = 0; i < ngauge; i++) {
		gp[i].time_unix_nano = 100u + (uint64_t)i;
		gp[i].value_type = OTF_NUMBER_INT;
		gp[i].value.as_int = i;
	}
	for (int i = 0; i < nsum; i++) {
		sp[i].time_unix_nano = 200u + (uint64_t)i;
		sp[i].value_type = OTF_NUMBER_DOUBLE;
		sp[i].value.as_double = 0.5 * i;
	}
	otf_metric_t m[2];
	memset(m, 0, sizeof m);
	m[0].name = B("queue.depth");
	m[0].unit = B("{item}");
	m[0].type = OTF_METRIC_GAUGE;
	m[0].data_points.number = gp;
	m[0].data_points_len = (size_t)ngauge;
	m[1].name = B("bytes.sent");
	m[1].unit = B("By");
	m[1].type = OTF_METRIC_SUM;
	m[1].data_points.number = sp;
	m[1].data_points_len = (size_t)nsum;
	m[1].aggregation_temporality = 2;
	m[1].is_monotonic = true;
	otf_scope_metrics_t sm = {.scope = {.name = B("meter")}, .metrics = m, .metrics_len = 2};
	otf_resource_metrics_t rm;
	memset(&rm, 0, sizeof rm);
	rm.scope_metrics = &sm;
	rm.scope_metrics_len = 1;
	otf_metrics_t md = {.resource_metrics = &rm, .resource_metrics_len = 1};
	assert_int_equal(otf_pdata_encode_metrics(&md, &g.req[g.nreq]), 0);
	g.items[g.nreq++] = (uint64_t)(ngauge + nsum);
}

static void test_split_metrics_data_points(void **state)
{
	(void)state;
	reset(OTF_SIGNAL_METRICS);
	add_metrics(7, 5); /* 12 data points, cut into 3 + 3 + 3 + 3 */
	start("{send_batch_size: 3, send_batch_max_size: 3, timeout: 10s}", "metrics", 128);
	wait_outcomes(1);
	expect_all_acked();
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 4);
	otf_arena_t a;
	otf_arena_init(&a, 0);
	int gauge = 0, sum = 0;
	for (int i = 0; i < atomic_load(&otf_tf.sink[0].seen); i++) {
		otf_metrics_t md;
		assert_int_equal(otf_pdata_decode_metrics(&md, otf_tf.sink[0].payload[i]->data,
		                                          otf_tf.sink[0].payload[i]->len, &a, NULL,
		                                          NULL),
		                 0);
		assert_int_equal(md.resource_metrics_len, 1);
		assert_int_equal(md.resource_metrics[0].scope_metrics_len, 1);
		otf_scope_metrics_t *sm = &md.resource_metrics[0].scope_metrics[0];
		assert_int_equal(sm->scope.name.len, 5);
		size_t items = 0;
		for (size_t k = 0; k < sm->metrics_len; k++) {
			otf_metric_t *m = &sm->metrics[k];
			items += m->data_points_len;
			if (m->type == OTF_METRIC_GAUGE) {
				assert_memory_equal(m->name.ptr, "queue.depth", 11);
				assert_memory_equal(m->unit.ptr, "{item}", 6);
				for (size_t d = 0; d < m->data_points_len; d++) {
					assert_int_equal(m->data_points.number[d].value.as_int,
					                 gauge);
					assert_int_equal(m->data_points.number[d].time_unix_nano,
					                 100u + (uint64_t)gauge);
					gauge++;
				}
			} else {
				assert_int_equal(m->type, OTF_METRIC_SUM);
				assert_memory_equal(m->name.ptr, "bytes.sent", 10);
				assert_int_equal(m->aggregation_temporality, 2);
				assert_true(m->is_monotonic);
				for (size_t d = 0; d < m->data_points_len; d++) {
					assert_true(m->data_points.number[d].value.as_double ==
					            0.5 * sum);
					sum++;
				}
			}
		}
		assert_int_equal(items, 3);
		otf_arena_reset(&a);
	}
	assert_int_equal(gauge, 7);
	assert_int_equal(sum, 5);
	otf_arena_close(&a);
	stop();
}

static void test_nack_reaches_every_original(void **state)
{
	(void)state;
	reset(OTF_SIGNAL_LOGS);
	int seq = 0;
	for (int i = 0; i < 6; i++)
		add_logs(1, 1, 5, &seq);
	g.sink_mode = 1;
	start("{send_batch_size: 10, send_batch_max_size: 10, timeout: 10s}", "logs", 128);
	wait_outcomes(6);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(atomic_load(&otf_tf.acked[i]), 0);
		assert_int_equal(atomic_load(&otf_tf.nacked[i]), 1);
		assert_true(otf_tf.permanent[i]);
		assert_string_equal(otf_tf.reasons[i], "sink refused");
	}
	stop();
}

static void test_split_original_nacked_once(void **state)
{
	(void)state;
	reset(OTF_SIGNAL_LOGS);
	int seq = 0;
	add_logs(1, 1, 2, &seq); /* 0: in batch 0 */
	add_logs(2, 2, 5, &seq); /* 1: 20 records over batches 0, 1, 2 */
	add_logs(1, 1, 4, &seq); /* 2: batch 2 */
	g.sink_mode = 2;
	g.nack_at = 1; /* the middle part of request 1 fails */
	start("{send_batch_size: 8, send_batch_max_size: 8, timeout: 50ms}", "logs", 128);
	wait_outcomes(3);
	usleep(100000); /* no second outcome may follow */
	assert_int_equal(outcomes(), 3);
	assert_int_equal(atomic_load(&otf_tf.acked[0]), 1);
	assert_int_equal(atomic_load(&otf_tf.nacked[1]), 1);
	assert_int_equal(atomic_load(&otf_tf.acked[1]), 0);
	assert_false(otf_tf.permanent[1]);
	assert_string_equal(otf_tf.reasons[1], "sink refused");
	assert_int_equal(atomic_load(&otf_tf.acked[2]), 1);
	stop();
}

static void test_kil_flushes(void **state)
{
	(void)state;
	reset(OTF_SIGNAL_TRACES);
	/* a traces request with 4 spans, via the pdata tree */
	uint8_t tid[16] = {1}, sid[4][8] = {{1}, {2}, {3}, {4}};
	otf_span_t sp[4];
	memset(sp, 0, sizeof sp);
	for (int i = 0; i < 4; i++) {
		sp[i].trace_id = (otf_bytes_t){tid, 16};
		sp[i].span_id = (otf_bytes_t){sid[i], 8};
		sp[i].name = B("op");
		sp[i].start_time_unix_nano = 1;
		sp[i].end_time_unix_nano = 2;
	}
	otf_scope_spans_t ss = {.spans = sp, .spans_len = 4};
	otf_resource_spans_t rs;
	memset(&rs, 0, sizeof rs);
	rs.scope_spans = &ss;
	rs.scope_spans_len = 1;
	otf_traces_t t = {.resource_spans = &rs, .resource_spans_len = 1};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(otf_pdata_encode_traces(&t, &g.req[g.nreq]), 0);
		g.items[g.nreq++] = 4;
	}
	start("{send_batch_size: 1000, timeout: 60s}", "traces", 128);
	for (int i = 0; i < 100 && !atomic_load(&otf_tf.sent); i++)
		usleep(2000);
	usleep(20000);
	assert_int_equal(outcomes(), 0); /* held by batch */
	stop();                          /* KIL: flushed, acked, nothing undelivered */
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 1);
	assert_int_equal(otf_tf.sink[0].items[0], 12);
	assert_int_equal(outcomes(), 3);
	expect_all_acked();
}

static void test_full_downstream_refuses(void **state)
{
	(void)state;
	reset(OTF_SIGNAL_LOGS);
	int seq = 0;
	add_logs(1, 1, 20, &seq); /* 20 one-record batches into a 4-slot channel */
	add_logs(1, 1, 1, &seq);  /* arrives while 16 wait: refused */
	start("{send_batch_size: 1, send_batch_max_size: 1, timeout: 10s}", "logs", 4);
	wait_outcomes(2);
	assert_int_equal(atomic_load(&otf_tf.acked[0]), 1);
	assert_int_equal(atomic_load(&otf_tf.nacked[1]), 1);
	assert_false(otf_tf.permanent[1]);
	assert_non_null(strstr(otf_tf.reasons[1], "downstream is full"));
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 20);
	check_logs(20);
	stop();
}

/* tf_src's `payload: 0`: a fresh copy of the big request each time, so the
 * message holds the only reference and what batch keeps of it shows in
 * the counted allocator. */
static otf_buf_t *g_big;
static otf_buf_t *big_copy(int i)
{
	(void)i;
	return otf_buf_create_copy(g_big->data, g_big->len);
}

static uint64_t heap_bytes(void)
{
	otf_alloc_stats_t st;
	otf_alloc_stats(&st);
	return st.bytes_in_use;
}

/* Memory: while a batch of 8 requests of ~1 MB is in flight (the sink
 * holds it), batch keeps the 8 originals only to answer them: their
 * payloads were released when their bytes went into the batch, so the
 * heap holds each byte once (the batch), not the inputs and the batch
 * made of them (16 MB). Acks stay exact: each original, once, with its
 * items; the batch is the requests' bytes back to back. */
static void test_inputs_released_into_batch(void **state)
{
	(void)state;
	reset(OTF_SIGNAL_LOGS);
	enum { NREQ = 8, NREC = 256, BODY = 4000 };
	static char body[BODY + 1];
	memset(body, 'x', BODY);
	otf_log_record_t lr[NREC];
	memset(lr, 0, sizeof lr);
	for (int i = 0; i < NREC; i++) {
		lr[i].time_unix_nano = 1000u + (uint64_t)i;
		lr[i].body.type = OTF_ANY_STRING;
		lr[i].body.u.string_value = (otf_bytes_t){(const uint8_t *)body, BODY};
	}
	otf_scope_logs_t sl = {.log_records = lr, .log_records_len = NREC};
	otf_resource_logs_t rl;
	memset(&rl, 0, sizeof rl);
	rl.scope_logs = &sl;
	rl.scope_logs_len = 1;
	otf_logs_t l = {.resource_logs = &rl, .resource_logs_len = 1};
	assert_int_equal(otf_pdata_encode_logs(&l, &g_big), 0);
	size_t S = g_big->len;
	assert_true(S > 1000000);
	otf_tf_set_payloads(big_copy, OTF_SIGNAL_LOGS);
	uint64_t base = heap_bytes();
	char yaml[1024];
	snprintf(yaml, sizeof yaml,
	         "receivers: {tf_src: {payload: 0, count: %d, items: %d}}\n"
	         "processors: {batch: {send_batch_size: %d, timeout: 10s}}\n"
	         "exporters: {tf_sink: {hold: true}}\n"
	         "service: {pipelines: {logs: {receivers: [tf_src], processors: [batch], "
	         "exporters: [tf_sink]}}}\n"
	         "runtime: {workers: 1, shutdown_timeout: 5s}\n",
	         NREQ, NREC, NREQ * NREC);
	otf_config_error_t err;
	otf_service_settings_t st;
	assert_int_equal(otf_config_load_string("t.yaml", yaml, strlen(yaml), NULL, &g_cfg, &err),
	                 0);
	if (otf_service_build(g_cfg, &g_dag, &st, &err))
		fail_msg("%s", err.text);
	assert_int_equal(otf_engine_start(g_dag, &st.runtime, &g_engine), 0);
	otf_tf_await_seen(0, 1, 5000);
	uint64_t held = heap_bytes() - base;
	/* The batch (8 S of data in at most 9 S of capacity: room for one more
	 * request) plus the engine's own structures (well under S); keeping
	 * the inputs too would be 16 S. */
	if (held >= (uint64_t)(NREQ + 4) * S)
		fail_msg("%llu bytes held with one %zu-byte batch in flight: the inputs were kept",
		         (unsigned long long)held, (size_t)NREQ * S);
	assert_true(held >= (uint64_t)NREQ * S);
	assert_int_equal(outcomes(), 0); /* held by the sink */
	assert_int_equal(otf_tf.sink[0].items[0], NREQ * NREC);
	otf_buf_t *got = otf_tf.sink[0].payload[0];
	assert_int_equal(got->len, NREQ * S);
	for (int i = 0; i < NREQ; i++)
		assert_memory_equal(got->data + (size_t)i * S, g_big->data, S);
	stop(); /* KIL: the sink acks what it holds */
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 1);
	assert_int_equal(outcomes(), NREQ);
	for (int i = 0; i < NREQ; i++) {
		assert_int_equal(atomic_load(&otf_tf.acked[i]), 1);
		assert_int_equal(atomic_load(&otf_tf.nacked[i]), 0);
		assert_int_equal(atomic_load(&otf_tf.answer_items[i]), NREC);
	}
	otf_tf_set_payloads(NULL, OTF_SIGNAL_LOGS);
	otf_buf_unref(g_big);
	g_big = NULL;
}

/* A node upstream that gets its message back to send it again (retry,
 * OTF_INTEREST_RETURN_MSG) still needs its payload: batch keeps it then.
 * The sink fails the first batch (retryable), retry resends the three
 * requests, and the second batch is their bytes back to back; each
 * request is acked once with its items. */
static void test_payload_kept_for_retry_upstream(void **state)
{
	(void)state;
	reset(OTF_SIGNAL_LOGS);
	int seq = 0;
	for (int i = 0; i < 3; i++)
		add_logs(1, 1, 4, &seq);
	for (int i = 0; i < g.nreq; i++)
		otf_tf_add(g.sig, otf_buf_ref(g.req[i]), g.items[i]);
	const char *yaml = "nodes:\n"
	                   "  src: {type: tf_src}\n"
	                   "  retry: {type: retry, config: {initial_interval: 10ms}}\n"
	                   "  batch: {type: batch, config: {send_batch_size: 12, timeout: 10s}}\n"
	                   "  sink: {type: tf_sink, config: {fail: 1}}\n"
	                   "connections:\n"
	                   "  - {from: src, to: retry}\n"
	                   "  - {from: retry, to: batch}\n"
	                   "  - {from: batch, to: sink}\n"
	                   "runtime: {workers: 1, shutdown_timeout: 5s}\n";
	otf_config_error_t err;
	otf_service_settings_t st;
	assert_int_equal(otf_config_load_string("t.yaml", yaml, strlen(yaml), NULL, &g_cfg, &err),
	                 0);
	if (otf_service_build(g_cfg, &g_dag, &st, &err))
		fail_msg("%s", err.text);
	assert_int_equal(otf_engine_start(g_dag, &st.runtime, &g_engine), 0);
	wait_outcomes(3);
	expect_all_acked();
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 2);
	assert_int_equal(atomic_load(&otf_tf.sink[0].nacked), 1);
	/* Both batches: the three requests' bytes back to back, each once (the
	 * retries may come back in another order). */
	for (int b = 0; b < 2; b++) {
		otf_buf_t *got = otf_tf.sink[0].payload[b];
		size_t off = 0;
		bool used[3] = {false, false, false};
		for (int k = 0; k < 3; k++) {
			int hit = -1;
			for (int i = 0; i < 3 && hit < 0; i++)
				if (!used[i] && off + g.req[i]->len <= got->len &&
				    !memcmp(got->data + off, g.req[i]->data, g.req[i]->len))
					hit = i;
			if (hit < 0)
				fail_msg("batch %d: bytes at %zu are none of the requests", b, off);
			used[hit] = true;
			off += g.req[hit]->len;
		}
		assert_int_equal(off, got->len);
	}
	stop();
}

static void test_config_validation(void **state)
{
	(void)state;
	const char *yaml = "receivers: {tf_src: }\n"
	                   "processors: {batch: {send_batch_size: 100, send_batch_max_size: 10}}\n"
	                   "exporters: {tf_sink: }\n"
	                   "service: {pipelines: {logs: {receivers: [tf_src], processors: "
	                   "[batch], exporters: [tf_sink]}}}\n";
	otf_config_error_t err;
	otf_service_settings_t st;
	otf_config_t *cfg;
	otf_dag_t *dag;
	assert_int_equal(otf_config_load_string("t.yaml", yaml, strlen(yaml), NULL, &cfg, &err), 0);
	assert_int_not_equal(otf_service_build(cfg, &dag, &st, &err), 0);
	assert_non_null(strstr(err.text, "send_batch_max_size"));
	otf_config_destroy(cfg);
}

static int setup(void **state)
{
	(void)state;
	otf_components_register_builtins();
	otf_tf_register();
	otf_log_set_level(OTF_LOG_ERROR);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	reset(OTF_SIGNAL_LOGS);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_merge_to_exact_size),
	    cmocka_unit_test(test_merge_is_concatenation),
	    cmocka_unit_test(test_timeout_flush),
	    cmocka_unit_test(test_split_logs),
	    cmocka_unit_test(test_split_metrics_data_points),
	    cmocka_unit_test(test_nack_reaches_every_original),
	    cmocka_unit_test(test_split_original_nacked_once),
	    cmocka_unit_test(test_kil_flushes),
	    cmocka_unit_test(test_full_downstream_refuses),
	    cmocka_unit_test(test_inputs_released_into_batch),
	    cmocka_unit_test(test_payload_kept_for_retry_upstream),
	    cmocka_unit_test(test_config_validation),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
