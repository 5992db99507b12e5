/* A server's throttling reaches the retry node: an OTLP/gRPC server (the
 * project's gRPC server on a real socket, in its own thread) answers the
 * first export RESOURCE_EXHAUSTED or UNAVAILABLE with a google.rpc.RetryInfo
 * in grpc-status-details-bin; the otlp exporter's retryable NACK carries
 * the delay (otf_ctrl_t.retry_after_ns) and the `retry` processor, like
 * exporterhelper's retry_on_failure, sends again no earlier than that,
 * although its own backoff is 50 ms. The payload then arrives once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine_run.h"
#include "flow_nodes.h"

#include "otflow/config.h"
#include "otflow/err.h"
#include "otflow/grpc_server.h"
#include "otflow/service.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_CALLS 16

typedef struct srv {
	uv_loop_t loop;
	uv_async_t stop;
	otf_grpc_server_t *s;
	pthread_t th;
	int port;
} srv_t;

static _Atomic int g_calls, g_ok_calls;
static _Atomic uint64_t g_call_ns[MAX_CALLS];
static otf_buf_t *g_call_msg[MAX_CALLS];
static int g_refuse_code;   /* status of the first call */
static uint64_t g_delay_ms; /* its RetryInfo.retry_delay */

/* google.rpc.Status{code, message "slow down", details [Any{RetryInfo{d}}]} */
static size_t status_bytes(uint8_t *b, int code, uint64_t delay_ms)
{
	static const char type[] = "type.googleapis.com/google.rpc.RetryInfo";
	uint8_t dur[16], *d = dur;
	*d++ = 0x08; /* seconds */
	*d++ = (uint8_t)(delay_ms / 1000);
	uint64_t nanos = delay_ms % 1000 * 1000000ull;
	*d++ = 0x10; /* nanos, varint */
	while (nanos >= 0x80) {
		*d++ = (uint8_t)(nanos | 0x80);
		nanos >>= 7;
	}
	*d++ = (uint8_t)nanos;
	uint8_t ri[20], *r = ri;
	*r++ = 0x0a; /* retry_delay */
	*r++ = (uint8_t)(d - dur);
	memcpy(r, dur, (size_t)(d - dur));
	r += d - dur;
	uint8_t *p = b;
	*p++ = 0x08;
	*p++ = (uint8_t)code;
	*p++ = 0x12;
	*p++ = 9;
	memcpy(p, "slow down", 9);
	p += 9;
	*p++ = 0x1a;
	*p++ = (uint8_t)(2 + (sizeof type - 1) + 2 + (size_t)(r - ri));
	*p++ = 0x0a;
	*p++ = (uint8_t)(sizeof type - 1);
	memcpy(p, type, sizeof type - 1);
	p += sizeof type - 1;
	*p++ = 0x12;
	*p++ = (uint8_t)(r - ri);
	memcpy(p, ri, (size_t)(r - ri));
	p += r - ri;
	return (size_t)(p - b);
}

static void handler(otf_grpc_call_t *call, void *ctx)
{
	(void)ctx;
	int k = atomic_load(&g_calls);
	if (k < MAX_CALLS) {
		atomic_store(&g_call_ns[k], otf_tf_now_ns());
		g_call_msg[k] = otf_buf_ref(otf_grpc_call_message(call));
	}
	atomic_fetch_add(&g_calls, 1);
	if (k == 0) {
		uint8_t st[128];
		size_t n = status_bytes(st, g_refuse_code, g_delay_ms);
		otf_grpc_respond_status_details(call, g_refuse_code, "slow down", st, n);
		return;
	}
	atomic_fetch_add(&g_ok_calls, 1);
	otf_grpc_respond(call, NULL, 0); /* an empty Export*ServiceResponse */
}

static void on_closed(void *arg)
{
	(void)arg;
}

static void on_stop(uv_async_t *a)
{
	srv_t *v = a->data;
	otf_grpc_server_close(v->s, on_closed, v);
	uv_close((uv_handle_t *)a, NULL);
}

static void *loop_main(void *arg)
{
	srv_t *v = arg;
	uv_run(&v->loop, UV_RUN_DEFAULT);
	return NULL;
}

static srv_t *srv_start(int code, uint64_t delay_ms)
{
	atomic_store(&g_calls, 0);
	atomic_store(&g_ok_calls, 0);
	g_refuse_code = code;
	g_delay_ms = delay_ms;
	srv_t *v = calloc(1, sizeof *v);
	assert_int_equal(uv_loop_init(&v->loop), 0);
	otf_grpc_server_config_t c = {.host = "127.0.0.1"};
	assert_int_equal(otf_grpc_server_create(&v->loop, &c, handler, NULL, &v->s), 0);
	v->port = otf_grpc_server_bound_port(v->s);
	assert_true(v->port > 0);
	uv_async_init(&v->loop, &v->stop, on_stop);
	v->stop.data = v;
	pthread_create(&v->th, NULL, loop_main, v);
	return v;
}

static void srv_stop(srv_t *v)
{
	uv_async_send(&v->stop);
	pthread_join(v->th, NULL);
	uv_loop_close(&v->loop);
	free(v);
	for (int i = 0; i < MAX_CALLS; i++) {
		otf_buf_unref(g_call_msg[i]);
		g_call_msg[i] = NULL;
	}
}

typedef otf_test_run_t run_t;

static void start(run_t *r, const char *yaml)
{
	otf_tf_reset();
	otf_test_run_begin(r, yaml);
}

static const uint8_t k_span[] = {0x0a, 0x04, 0x12, 0x02, 0x12, 0x00};

/* Two calls, the second no earlier than delay_ms after the first, carrying
 * the bytes the source sent; the source acked once. */
static void expect_resent_after(uint64_t delay_ms)
{
	otf_tf_await_answers(1, 15000);
	assert_int_equal(atomic_load(&otf_tf.acks), 1);
	assert_int_equal(atomic_load(&otf_tf.nacks), 0);
	assert_int_equal(atomic_load(&g_calls), 2);
	assert_int_equal(atomic_load(&g_ok_calls), 1);
	uint64_t gap_ms = (atomic_load(&g_call_ns[1]) - atomic_load(&g_call_ns[0])) / 1000000;
	if (gap_ms < delay_ms)
		fail_msg("resent %llu ms after the refusal, before the server's %llu ms",
		         (unsigned long long)gap_ms, (unsigned long long)delay_ms);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(g_call_msg[i]->len, sizeof k_span);
		assert_memory_equal(g_call_msg[i]->data, k_span, sizeof k_span);
	}
}

#define FRONT                            \
	"nodes:\n"                       \
	"  src: {type: tf_src}\n"        \
	"  otlp:\n"                      \
	"    kind: exporter\n"           \
	"    type: otlp\n"               \
	"    config:\n"                  \
	"      endpoint: 127.0.0.1:%d\n" \
	"      tls: {insecure: true}\n"  \
	"      retry_on_failure: {%s}\n"

/* The retry node, the exporter's own retry off: RESOURCE_EXHAUSTED with a
 * 1.2 s RetryInfo. */
static void test_retry_node_waits_retry_info(void **state)
{
	(void)state;
	srv_t *v = srv_start(OTF_GRPC_RESOURCE_EXHAUSTED, 1200);
	char yaml[1024];
	snprintf(yaml, sizeof yaml,
	         FRONT "  retry: {type: retry, config: {initial_interval: 50ms, "
	               "max_interval: 100ms, randomization_factor: 0}}\n"
	               "connections:\n"
	               "  - {from: src, to: retry}\n"
	               "  - {from: retry, to: otlp}\n"
	               "runtime: {workers: 1, shutdown_timeout: 2s}\n",
	         v->port, "enabled: false");
	run_t r;
	start(&r, yaml);
	expect_resent_after(1200);
	otf_test_run_stop(&r);
	srv_stop(v);
}

/* exporterhelper's retry_on_failure (initial_interval 50 ms) waits for a
 * 1.2 s RetryInfo with UNAVAILABLE as well. */
static void test_exporter_retry_waits_retry_info(void **state)
{
	(void)state;
	srv_t *v = srv_start(OTF_GRPC_UNAVAILABLE, 1200);
	char yaml[1024];
	snprintf(yaml, sizeof yaml,
	         FRONT "connections:\n"
	               "  - {from: src, to: otlp}\n"
	               "runtime: {workers: 1, shutdown_timeout: 2s}\n",
	         v->port,
	         "enabled: true, initial_interval: 50ms, max_interval: 100ms, "
	         "randomization_factor: 0");
	run_t r;
	start(&r, yaml);
	expect_resent_after(1200);
	otf_test_run_stop(&r);
	srv_stop(v);
}

/* Without any retry, the NACK upstream carries the server's delay. */
static void test_nack_carries_delay(void **state)
{
	(void)state;
	srv_t *v = srv_start(OTF_GRPC_RESOURCE_EXHAUSTED, 2500);
	char yaml[1024];
	snprintf(yaml, sizeof yaml,
	         FRONT "connections:\n"
	               "  - {from: src, to: otlp}\n"
	               "runtime: {workers: 1, shutdown_timeout: 2s}\n",
	         v->port, "enabled: false");
	run_t r;
	start(&r, yaml);
	otf_tf_await_answers(1, 10000);
	assert_int_equal(atomic_load(&otf_tf.nacks), 1);
	assert_int_equal(atomic_load(&otf_tf.nack_permanent), 0);
	assert_int_equal(atomic_load(&otf_tf.retry_after_ns), 2500000000ull);
	assert_int_equal(atomic_load(&g_calls), 1);
	otf_test_run_stop(&r);
	srv_stop(v);
}

/* A fan-out join passes the throttle delay of its failed copy on. */
static void test_fanout_join_carries_delay(void **state)
{
	(void)state;
	const char *yaml = "nodes:\n"
	                   "  src: {type: tf_src}\n"
	                   "  a: {type: tf_sink, config: {slot: 0}}\n"
	                   "  b: {type: tf_sink, config: {slot: 1, fail: -1, throttle_ms: 700}}\n"
	                   "connections:\n"
	                   "  - {from: src, to: [a, b]}\n"
	                   "runtime: {workers: 1, shutdown_timeout: 2s}\n";
	run_t r;
	start(&r, yaml);
	otf_tf_await_answers(1, 5000);
	assert_int_equal(atomic_load(&otf_tf.nacks), 1);
	assert_int_equal(atomic_load(&otf_tf.retry_after_ns), 700000000ull);
	assert_string_equal(otf_tf.reason, "sink throttled");
	otf_test_run_stop(&r);
}

static int setup(void **state)
{
	(void)state;
	otf_components_register_builtins();
	otf_tf_register();
	otf_log_set_level(OTF_LOG_ERROR);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_retry_node_waits_retry_info),
	    cmocka_unit_test(test_exporter_retry_waits_retry_info),
	    cmocka_unit_test(test_nack_carries_delay),
	    cmocka_unit_test(test_fanout_join_carries_delay),
	};
	return cmocka_run_group_tests(tests, setup, otf_tf_teardown);
}
