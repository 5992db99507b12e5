/* The otlp exporter's gRPC client (grpc_client.c) against our gRPC server
 * over loopback: a request goes out in as few socket writes as its size
 * allows (the receiver is woken once the whole message is in, so a request
 * cut into several writes waits for the client's later loop turns), and
 * the bytes the server gets are the bytes sent. The server runs on its own
 * loop thread, as on a worker; the client on the test's loop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "components/exporters/otlp/grpc_client.h"

#include "otflow/grpc_server.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define M_SUM "/test.Sum/Sum"

typedef struct srv {
	uv_loop_t loop;
	uv_async_t stop;
	pthread_t th;
	otf_grpc_server_t *s;
	int port;
	bool closed;
} srv_t;

static uint8_t byte_at(size_t i)
{
	return (uint8_t)(i * 7 + i / 251);
}

/* Answers "<length> ok" when the message is the pattern of its length,
 * "<length> bad at <offset>" otherwise. */
static void handler(otf_grpc_call_t *call, void *ctx)
{
	(void)ctx;
	otf_buf_t *b = otf_grpc_call_message(call);
	char out[64];
	size_t bad = b->len;
	for (size_t i = 0; i < b->len && bad == b->len; i++)
		if (b->data[i] != byte_at(i))
			bad = i;
	if (bad == b->len)
		snprintf(out, sizeof out, "%zu ok", b->len);
	else
		snprintf(out, sizeof out, "%zu bad at %zu", b->len, bad);
	assert_int_equal(otf_grpc_respond(call, out, strlen(out)), 0);
}

static void on_closed(void *arg)
{
	((srv_t *)arg)->closed = true;
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

static srv_t *srv_start(void)
{
	srv_t *v = calloc(1, sizeof *v);
	assert_non_null(v);
	assert_int_equal(uv_loop_init(&v->loop), 0);
	otf_grpc_server_config_t c;
	memset(&c, 0, sizeof c);
	c.host = "127.0.0.1";
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
	assert_true(v->closed);
	assert_int_equal(uv_loop_close(&v->loop), 0);
	free(v);
}

typedef struct outcome {
	bool done;
	int status;
	char msg[256];
	char resp[64];
} outcome_t;

static void on_result(void *arg, const otf_grpcc_result_t *r)
{
	outcome_t *o = arg;
	o->done = true;
	o->status = r->status;
	snprintf(o->msg, sizeof o->msg, "%s", r->message);
	if (r->response)
		snprintf(o->resp, sizeof o->resp, "%.*s", (int)r->response->len,
		         (const char *)r->response->data);
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One call of a len-byte pattern message; returns the socket writes the
 * client started for it (the call's outcome checked: the server saw
 * exactly these bytes). */
static uint64_t call_pattern(uv_loop_t *loop, otf_grpcc_t *cl, size_t len)
{
	otf_buf_t *m = otf_buf_create(len);
	assert_non_null(m);
	for (size_t i = 0; i < len; i++)
		m->data[i] = byte_at(i);
	m->len = len;
	outcome_t o;
	memset(&o, 0, sizeof o);
	uint64_t w0 = otf__grpcc_writes(cl);
	otf_grpcc_call_t *c = otf__grpcc_call(cl, M_SUM, m, false, 10000, on_result, &o);
	assert_non_null(c);
	otf_buf_unref(m); /* the call holds its own reference */
	double end = mono_s() + 20;
	while (!o.done && mono_s() < end)
		uv_run(loop, UV_RUN_ONCE);
	if (!o.done)
		fail_msg("no outcome for a %zu-byte call within 20 s", len);
	if (o.status != 0)
		fail_msg("call of %zu bytes: status %d (%s)", len, o.status, o.msg);
	char want[64];
	snprintf(want, sizeof want, "%zu ok", len);
	assert_string_equal(o.resp, want);
	return otf__grpcc_writes(cl) - w0;
}

static void closed_cb(void *arg)
{
	*(bool *)arg = true;
}

static void test_request_in_one_write(void **state)
{
	(void)state;
	srv_t *v = srv_start();
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	otf_grpcc_config_t cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.host = "127.0.0.1";
	cfg.port = (uint16_t)v->port;
	otf_grpcc_t *cl = NULL;
	assert_int_equal(otf__grpcc_create(&loop, &cfg, &cl), 0);
	/* The first call opens the connection and learns the server's
	 * windows (1 MiB per stream): its writes include the preface and
	 * the SETTINGS acknowledgement. */
	assert_true(call_pattern(&loop, cl, 100) >= 1);
	/* A batch of ~1000 logs (360 KB) and a larger one: HEADERS and every
	 * DATA frame in one write (at 256 KiB per write they took 2 and 3). */
	assert_int_equal(call_pattern(&loop, cl, 360000), 1);
	assert_int_equal(call_pattern(&loop, cl, 600000), 1);
	/* Beyond the stream window (1 MiB) the rest waits for the server's
	 * WINDOW_UPDATE: more writes, and the bytes still arrive intact. */
	assert_true(call_pattern(&loop, cl, 3000000) >= 2);
	bool closed = false;
	otf__grpcc_close(cl, closed_cb, &closed);
	while (!closed)
		uv_run(&loop, UV_RUN_ONCE);
	assert_int_equal(uv_loop_close(&loop), 0);
	srv_stop(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_in_one_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
