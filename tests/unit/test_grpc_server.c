/* gRPC server over real sockets with a real HTTP/2 client (nghttp2's client
 * session, tests/support/h2_client.c): framing, compression, limits,
 * deadlines, bad input, keepalive, concurrency, graceful close. The server
 * runs on its own loop thread, as on a worker. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "h2_client.h"
#include "otflow/alloc.h"
#include "otflow/grpc_server.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define M_ECHO "/test.Echo/Echo"
#define M_HOLD "/test.Echo/Hold"
#define M_FAIL "/test.Echo/Fail"

typedef struct srv {
	uv_loop_t loop;
	uv_async_t stop;
	pthread_t th;
	otf_grpc_server_t *s;
	int port;
	bool closed;
} srv_t;

/* Seen by the handler (loop thread); read by the test after the answer. */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t g_timeout_ns, g_deadline_ns;
static char g_meta[64];
static otf_grpc_call_t *g_held[64];
static int g_n_held;
static int g_calls;

static void handler(otf_grpc_call_t *call, void *ctx)
{
	(void)ctx;
	otf_http_str_t path = otf_grpc_call_path(call);
	pthread_mutex_lock(&g_mu);
	g_calls++;
	g_timeout_ns = otf_grpc_call_timeout_ns(call);
	g_deadline_ns = otf_grpc_call_deadline_unix_ns(call);
	otf_http_str_t m = otf_grpc_call_header(call, "x-meta");
	snprintf(g_meta, sizeof g_meta, "%s", m.ptr ? m.ptr : "");
	pthread_mutex_unlock(&g_mu);
	if (path.len == strlen(M_HOLD) && !memcmp(path.ptr, M_HOLD, path.len)) {
		g_held[g_n_held++] = call; /* answered at stop */
		return;
	}
	if (path.len == strlen(M_FAIL) && !memcmp(path.ptr, M_FAIL, path.len)) {
		otf_grpc_respond_status(call, OTF_GRPC_INVALID_ARGUMENT, "bad ümlaut 100%\nline");
		return;
	}
	if (path.len != strlen(M_ECHO) || memcmp(path.ptr, M_ECHO, path.len)) {
		otf_grpc_respond_status(call, OTF_GRPC_UNIMPLEMENTED, "no such method");
		return;
	}
	otf_buf_t *b = otf_grpc_call_message(call);
	assert_int_equal(otf_grpc_respond(call, b->data, b->len), 0);
}

static void on_closed(void *arg)
{
	((srv_t *)arg)->closed = true;
}

static void on_stop(uv_async_t *a)
{
	srv_t *v = a->data;
	for (int i = 0; i < g_n_held; i++) {
		/* Deadline-exceeded calls are no longer alive: answering is a
		 * no-op that frees them. */
		otf_grpc_respond_status(g_held[i], OTF_GRPC_CANCELLED, "stopping");
	}
	g_n_held = 0;
	otf_grpc_server_close(v->s, on_closed, v);
	uv_close((uv_handle_t *)a, NULL);
}

static void *loop_main(void *arg)
{
	srv_t *v = arg;
	uv_run(&v->loop, UV_RUN_DEFAULT);
	return NULL;
}

static srv_t *srv_start(const otf_grpc_server_config_t *cfg)
{
	srv_t *v = calloc(1, sizeof *v);
	assert_int_equal(uv_loop_init(&v->loop), 0);
	otf_grpc_server_config_t c = *cfg;
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

static uint8_t *pattern(size_t n)
{
	uint8_t *p = malloc(n);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + i / 251);
	return p;
}

static void expect_echo(const h2_result_t *r, const void *want, size_t len)
{
	assert_int_equal(r->http_status, 200);
	assert_int_equal(r->grpc_status, 0);
	size_t n;
	const uint8_t *m = grpc_unframe(r, &n);
	assert_non_null(m);
	assert_int_equal(n, len);
	assert_memory_equal(m, want, len);
}

static void call(int port, const char *path, const char *const *extra, const void *msg, size_t len,
                 uint8_t flag, h2_result_t *r)
{
	size_t fl;
	uint8_t *f = grpc_frame(msg, len, flag, &fl);
	assert_int_equal(h2_unary(port, path, extra, f, fl, r, 5000), 0);
	free(f);
}

static void test_echo_and_status(void **state)
{
	(void)state;
	otf_grpc_server_config_t cfg = {0};
	srv_t *v = srv_start(&cfg);
	h2_result_t r;
	/* 300 KiB: many DATA frames and flow-control windows both ways. */
	size_t n = 300 * 1024;
	uint8_t *p = pattern(n);
	const char *meta[] = {"x-meta", "tenant-7", NULL};
	call(v->port, M_ECHO, meta, p, n, 0, &r);
	expect_echo(&r, p, n);
	assert_string_equal(g_meta, "tenant-7");
	assert_int_equal(g_timeout_ns, 0);
	h2_result_free(&r);
	call(v->port, M_ECHO, NULL, "", 0, 0, &r); /* empty message */
	expect_echo(&r, "", 0);
	h2_result_free(&r);
	/* A status with a message that must be percent-encoded. */
	call(v->port, M_FAIL, NULL, "x", 1, 0, &r);
	assert_int_equal(r.grpc_status, OTF_GRPC_INVALID_ARGUMENT);
	assert_string_equal(r.grpc_message, "bad ümlaut 100%\nline");
	assert_int_equal(r.data_len, 0);
	h2_result_free(&r);
	call(v->port, "/nope.Svc/Do", NULL, "x", 1, 0, &r);
	assert_int_equal(r.grpc_status, OTF_GRPC_UNIMPLEMENTED);
	h2_result_free(&r);
	free(p);
	srv_stop(v);
}

static uint8_t *gzip(const uint8_t *in, size_t n, size_t *out_len)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	size_t cap = deflateBound(&z, n);
	uint8_t *o = malloc(cap);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	z.next_out = o;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	*out_len = z.total_out;
	deflateEnd(&z);
	return o;
}

static uint8_t *zstd(const uint8_t *in, size_t n, size_t *out_len)
{
	size_t cap = ZSTD_compressBound(n);
	uint8_t *o = malloc(cap);
	*out_len = ZSTD_compress(o, cap, in, n, 3);
	assert_false(ZSTD_isError(*out_len));
	return o;
}

static void test_compression(void **state)
{
	(void)state;
	otf_grpc_server_config_t cfg = {.max_recv_msg_bytes = 256 * 1024};
	srv_t *v = srv_start(&cfg);
	g_calls = 0;
	size_t n = 200 * 1024, cl;
	uint8_t *p = pattern(n);
	h2_result_t r;

	uint8_t *gz = gzip(p, n, &cl);
	const char *h_gzip[] = {"grpc-encoding", "gzip", NULL};
	call(v->port, M_ECHO, h_gzip, gz, cl, 1, &r);
	expect_echo(&r, p, n);
	h2_result_free(&r);
	/* grpc-encoding set but this message not compressed (flag 0). */
	call(v->port, M_ECHO, h_gzip, p, n, 0, &r);
	expect_echo(&r, p, n);
	h2_result_free(&r);
	free(gz);

	uint8_t *zs = zstd(p, n, &cl);
	const char *h_zstd[] = {"grpc-encoding", "zstd", NULL};
	call(v->port, M_ECHO, h_zstd, zs, cl, 1, &r);
	expect_echo(&r, p, n);
	h2_result_free(&r);
	/* Corrupt compressed data: INTERNAL. */
	zs[cl / 2] ^= 0x55;
	zs[cl / 2 + 1] ^= 0x55;
	call(v->port, M_ECHO, h_zstd, zs, cl, 1, &r);
	assert_int_equal(r.grpc_status, OTF_GRPC_INTERNAL);
	h2_result_free(&r);
	free(zs);

	/* Small on the wire, over the limit once decompressed. */
	uint8_t *zeros = calloc(1, 1024 * 1024);
	gz = gzip(zeros, 1024 * 1024, &cl);
	assert_true(cl < 256 * 1024);
	call(v->port, M_ECHO, h_gzip, gz, cl, 1, &r);
	assert_int_equal(r.grpc_status, OTF_GRPC_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(r.grpc_message, "max_recv_msg_size"));
	h2_result_free(&r);
	free(gz);
	free(zeros);

	/* Unknown grpc-encoding: UNIMPLEMENTED, with what we accept. */
	const char *h_snappy[] = {"grpc-encoding", "snappy", NULL};
	call(v->port, M_ECHO, h_snappy, "abc", 3, 1, &r);
	assert_int_equal(r.grpc_status, OTF_GRPC_UNIMPLEMENTED);
	assert_non_null(strstr(r.accept_encoding, "gzip"));
	assert_non_null(strstr(r.accept_encoding, "zstd"));
	h2_result_free(&r);
	/* Compressed flag without grpc-encoding, and an invalid flag. */
	call(v->port, M_ECHO, NULL, "abc", 3, 1, &r);
	assert_int_equal(r.grpc_status, OTF_GRPC_INTERNAL);
	h2_result_free(&r);
	call(v->port, M_ECHO, NULL, "abc", 3, 2, &r);
	assert_int_equal(r.grpc_status, OTF_GRPC_INTERNAL);
	h2_result_free(&r);
	assert_int_equal(g_calls, 3); /* only the good ones reached the handler */
	free(p);
	srv_stop(v);
}

static void test_limits_and_framing(void **state)
{
	(void)state;
	otf_grpc_server_config_t cfg = {.max_recv_msg_bytes = 64 * 1024};
	srv_t *v = srv_start(&cfg);
	h2_result_t r, r2;
	/* Announced 1 GiB, only the prefix and a few bytes sent: refused at
	 * the prefix, the stream is reset, the connection stays usable. */
	h2_conn_t *c = h2_connect(v->port);
	assert_non_null(c);
	uint8_t big[5 + 100] = {0, 0x40, 0, 0, 0};
	assert_true(h2_submit(c, NULL, M_ECHO, NULL, NULL, big, sizeof big, &r) > 0);
	assert_int_equal(h2_run(c, 5000), 0);
	assert_int_equal(r.grpc_status, OTF_GRPC_RESOURCE_EXHAUSTED);
	size_t n = 64 * 1024;
	uint8_t *p = pattern(n + 1);
	size_t fl;
	uint8_t *f = grpc_frame(p, n, 0, &fl); /* exactly at the limit */
	assert_true(h2_submit(c, NULL, M_ECHO, NULL, NULL, f, fl, &r2) > 0);
	assert_int_equal(h2_run(c, 5000), 0);
	expect_echo(&r2, p, n);
	h2_result_free(&r);
	h2_result_free(&r2);
	free(f);
	f = grpc_frame(p, n + 1, 0, &fl); /* one byte over */
	assert_true(h2_submit(c, NULL, M_ECHO, NULL, NULL, f, fl, &r) > 0);
	assert_int_equal(h2_run(c, 5000), 0);
	assert_int_equal(r.grpc_status, OTF_GRPC_RESOURCE_EXHAUSTED);
	h2_result_free(&r);
	free(f);
	h2_close(c);
	free(p);

	/* Zero messages, two messages, a truncated message: INTERNAL. */
	assert_int_equal(h2_unary(v->port, M_ECHO, NULL, "", 0, &r, 5000), 0);
	assert_int_equal(r.grpc_status, OTF_GRPC_INTERNAL);
	h2_result_free(&r);
	uint8_t two[] = {0, 0, 0, 0, 1, 'a', 0, 0, 0, 0, 1, 'b'};
	assert_int_equal(h2_unary(v->port, M_ECHO, NULL, two, sizeof two, &r, 5000), 0);
	assert_int_equal(r.grpc_status, OTF_GRPC_INTERNAL);
	h2_result_free(&r);
	assert_int_equal(h2_unary(v->port, M_ECHO, NULL, two, 4, &r, 5000), 0);
	assert_int_equal(r.grpc_status, OTF_GRPC_INTERNAL);
	h2_result_free(&r);
	/* Not gRPC: wrong content-type, wrong method. */
	c = h2_connect(v->port);
	assert_true(h2_submit(c, NULL, M_ECHO, "application/json", NULL, two, 6, &r) > 0);
	assert_true(h2_submit(c, "PUT", M_ECHO, NULL, NULL, two, 6, &r2) > 0);
	assert_int_equal(h2_run(c, 5000), 0);
	assert_int_equal(r.http_status, 415);
	assert_int_equal(r2.http_status, 405);
	h2_result_free(&r);
	h2_result_free(&r2);
	/* Malformed grpc-timeout. */
	const char *bad_to[] = {"grpc-timeout", "12x", NULL};
	assert_true(h2_submit(c, NULL, M_ECHO, NULL, bad_to, two, 6, &r) > 0);
	assert_int_equal(h2_run(c, 5000), 0);
	assert_int_equal(r.grpc_status, OTF_GRPC_INTERNAL);
	h2_result_free(&r);
	h2_close(c);
	srv_stop(v);
}

static uint64_t unix_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void test_deadline(void **state)
{
	(void)state;
	otf_grpc_server_config_t cfg = {0};
	srv_t *v = srv_start(&cfg);
	h2_result_t r;
	const char *to[] = {"grpc-timeout", "300m", NULL};
	uint64_t t0 = unix_ns();
	call(v->port, M_HOLD, to, "x", 1, 0, &r);
	uint64_t t1 = unix_ns();
	assert_int_equal(r.grpc_status, OTF_GRPC_DEADLINE_EXCEEDED);
	assert_int_equal(g_timeout_ns, 300000000ull);
	assert_true(g_deadline_ns >= t0 + 300000000ull && g_deadline_ns <= t1);
	assert_true(t1 - t0 >= 290000000ull && t1 - t0 < 3000000000ull);
	h2_result_free(&r);
	/* A timeout long enough: answered normally, deadline in the future. */
	const char *to2[] = {"grpc-timeout", "5S", NULL};
	call(v->port, M_ECHO, to2, "ok", 2, 0, &r);
	expect_echo(&r, "ok", 2);
	assert_int_equal(g_timeout_ns, 5000000000ull);
	h2_result_free(&r);
	srv_stop(v); /* the held call is answered at stop: a no-op */
}

static void test_bad_input(void **state)
{
	(void)state;
	otf_grpc_server_config_t cfg = {0};
	srv_t *v = srv_start(&cfg);
	/* A well-behaved client with calls in flight throughout. */
	h2_conn_t *good = h2_connect(v->port);
	assert_non_null(good);
	h2_pump(good, 50);
	uint8_t buf[4096];

	/* HTTP/1.1 instead of HTTP/2: closed. */
	int fd = tcp_connect(v->port);
	const char http1[] = "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n";
	assert_int_equal(write(fd, http1, sizeof http1 - 1), (ssize_t)sizeof http1 - 1);
	assert_true(tcp_read_until_eof(fd, buf, sizeof buf, 3000) >= 0);
	close(fd);
	/* Random garbage: closed. */
	fd = tcp_connect(v->port);
	uint8_t junk[1000];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (uint8_t)(i * 131 + 17);
	assert_int_equal(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
	assert_true(tcp_read_until_eof(fd, buf, sizeof buf, 3000) >= 0);
	close(fd);
	/* Valid preface, then DATA on stream 0: GOAWAY(PROTOCOL_ERROR). */
	fd = tcp_connect(v->port);
	uint8_t frames[9 + 9] = {0, 0, 0, 4, 0, 0, 0, 0, 0, /* SETTINGS, empty */
	                         0, 0, 0, 0, 0, 0, 0, 0, 0 /* DATA, stream 0 */};
	assert_int_equal(write(fd, h2_preface, 24), (ssize_t)24);
	assert_int_equal(write(fd, frames, sizeof frames), (ssize_t)sizeof frames);
	long got = tcp_read_until_eof(fd, buf, sizeof buf, 3000);
	assert_true(got > 0);
	assert_int_equal(h2_raw_goaway_code(buf, got), 1 /* PROTOCOL_ERROR */);
	close(fd);
	/* A frame longer than SETTINGS_MAX_FRAME_SIZE: FRAME_SIZE_ERROR. */
	fd = tcp_connect(v->port);
	uint8_t huge[9] = {0x01, 0, 0, 0, 0, 0, 0, 0, 1}; /* 64 KiB DATA */
	assert_int_equal(write(fd, h2_preface, 24), (ssize_t)24);
	assert_int_equal(write(fd, frames, 9), 9);
	assert_int_equal(write(fd, huge, sizeof huge), (ssize_t)sizeof huge);
	got = tcp_read_until_eof(fd, buf, sizeof buf, 3000);
	assert_true(got > 0);
	assert_int_equal(h2_raw_goaway_code(buf, got), 6 /* FRAME_SIZE_ERROR */);
	close(fd);
	/* A stalled half frame from another client does not hold anyone up. */
	int stalled = tcp_connect(v->port);
	assert_int_equal(write(stalled, h2_preface, 24), (ssize_t)24);
	assert_int_equal(write(stalled, frames, 4), 4);

	/* The good connection still works, with concurrent streams. */
	h2_result_t r[20];
	size_t fl;
	uint8_t *f[20];
	for (int i = 0; i < 20; i++) {
		char msg[32];
		int ml = snprintf(msg, sizeof msg, "call %d", i);
		f[i] = grpc_frame(msg, (size_t)ml, 0, &fl);
		assert_true(h2_submit(good, NULL, M_ECHO, NULL, NULL, f[i], fl, &r[i]) > 0);
	}
	assert_int_equal(h2_run(good, 5000), 0);
	for (int i = 0; i < 20; i++) {
		char msg[32];
		int ml = snprintf(msg, sizeof msg, "call %d", i);
		expect_echo(&r[i], msg, (size_t)ml);
		h2_result_free(&r[i]);
		free(f[i]);
	}
	assert_false(h2_eof(good));
	h2_close(good);
	close(stalled);
	srv_stop(v);
}

static void test_keepalive(void **state)
{
	(void)state;
	/* Too many pings without a call: GOAWAY ENHANCE_YOUR_CALM. */
	otf_grpc_server_config_t cfg = {.min_ping_time_ms = 10000};
	srv_t *v = srv_start(&cfg);
	h2_conn_t *c = h2_connect(v->port);
	for (int i = 0; i < 4; i++) {
		h2_ping(c);
		h2_pump(c, 30);
	}
	h2_pump(c, 500);
	uint32_t code;
	char dbg[64];
	assert_true(h2_goaway(c, &code, dbg, sizeof dbg));
	assert_int_equal(code, 0xb /* ENHANCE_YOUR_CALM */);
	assert_string_equal(dbg, "too_many_pings");
	assert_true(h2_eof(c));
	h2_close(c);
	srv_stop(v);

	/* Allowed: permit_without_stream and pings spaced above min_time. */
	otf_grpc_server_config_t ok = {.min_ping_time_ms = 20, .permit_without_stream = true};
	v = srv_start(&ok);
	c = h2_connect(v->port);
	for (int i = 0; i < 5; i++) {
		h2_ping(c);
		h2_pump(c, 60);
	}
	assert_false(h2_goaway(c, NULL, NULL, 0));
	assert_int_equal(h2_ping_acks(c), 5);
	h2_close(c);
	srv_stop(v);

	/* Server PINGs after keepalive_time; a client that answers stays; one
	 * that does not is closed after keepalive_timeout. */
	otf_grpc_server_config_t ka = {.keepalive_time_ms = 100, .keepalive_timeout_ms = 200};
	v = srv_start(&ka);
	c = h2_connect(v->port);
	h2_pump(c, 600);
	assert_true(h2_pings_received(c) >= 1);
	assert_false(h2_eof(c));
	h2_close(c);
	int fd = tcp_connect(v->port);
	assert_int_equal(write(fd, h2_preface, 24), (ssize_t)24);
	uint8_t settings[9] = {0, 0, 0, 4, 0, 0, 0, 0, 0};
	assert_int_equal(write(fd, settings, 9), 9);
	uint8_t buf[4096];
	assert_true(tcp_read_until_eof(fd, buf, sizeof buf, 3000) >= 0);
	close(fd);
	srv_stop(v);

	/* max_connection_idle: GOAWAY(NO_ERROR), then closed. */
	otf_grpc_server_config_t idle = {.max_connection_idle_ms = 150};
	v = srv_start(&idle);
	c = h2_connect(v->port);
	h2_pump(c, 1500);
	assert_true(h2_goaway(c, &code, NULL, 0));
	assert_int_equal(code, 0);
	assert_true(h2_eof(c));
	h2_close(c);
	srv_stop(v);

	/* max_connection_age + grace: a call still held at the end of the
	 * grace period is cut with the connection. */
	otf_grpc_server_config_t age = {.max_connection_age_ms = 150,
	                                .max_connection_age_grace_ms = 150};
	v = srv_start(&age);
	c = h2_connect(v->port);
	h2_result_t r;
	size_t fl;
	uint8_t *f = grpc_frame("x", 1, 0, &fl);
	assert_true(h2_submit(c, NULL, M_HOLD, NULL, NULL, f, fl, &r) > 0);
	h2_run(c, 2000);
	assert_true(h2_goaway(c, &code, NULL, 0));
	assert_true(h2_eof(c));
	assert_int_equal(r.grpc_status, -1);
	h2_result_free(&r);
	free(f);
	h2_close(c);
	srv_stop(v);
}

static uint64_t heap_now(void)
{
	otf_alloc_stats_t st;
	otf_alloc_stats(&st);
	return st.bytes_in_use;
}

/* A memory limiter stand-in: refuse calls while the counted heap is more
 * than 512 MiB above where the test started. */
static _Atomic uint64_t g_heap_base;
static bool admit_under_limit(void *ctx)
{
	(void)ctx;
	return heap_now() < g_heap_base + (512u << 20);
}

/* Every frame sent so far has been processed once a PING sent after
 * them is acknowledged (frames are handled in order). */
static void sync_conn(h2_conn_t *c)
{
	int want = h2_ping_acks(c) + 1;
	h2_ping(c);
	for (int i = 0; i < 200 && h2_ping_acks(c) < want; i++)
		h2_pump(c, 10);
	assert_int_equal(h2_ping_acks(c), want);
}

#define ATK_CONNS   5
#define ATK_STREAMS 100

/* 5 connections x 100 streams, each sending only a prefix announcing
 * 4 MiB: the counted heap grows by what arrived (stream state), not by
 * 2 GiB, and a well-behaved client is still admitted and served. */
static void test_announced_prefixes(void **state)
{
	(void)state;
	g_heap_base = heap_now();
	otf_grpc_server_config_t cfg = {
	    .admit = admit_under_limit, .permit_without_stream = true, .min_ping_time_ms = 1};
	srv_t *v = srv_start(&cfg);
	static h2_result_t res[ATK_CONNS][ATK_STREAMS];
	h2_conn_t *atk[ATK_CONNS];
	const uint8_t prefix[5] = {0, 0, 0x40, 0, 0}; /* 4 MiB */
	uint64_t before = heap_now();
	for (int i = 0; i < ATK_CONNS; i++) {
		atk[i] = h2_connect(v->port);
		assert_non_null(atk[i]);
		h2_pump(atk[i], 20); /* the server's SETTINGS */
		for (int k = 0; k < ATK_STREAMS; k++)
			assert_true(h2_submit_open(atk[i], M_ECHO, prefix, 5, &res[i][k]) > 0);
		sync_conn(atk[i]);
	}
	uint64_t grown = heap_now() - before;
	print_message("counted heap: +%.1f MiB for %d announced 4 MiB messages\n",
	              (double)grown / (1 << 20), ATK_CONNS * ATK_STREAMS);
	assert_true(grown < (64u << 20));
	uint8_t *p = pattern(100000);
	h2_result_t r;
	call(v->port, M_ECHO, NULL, p, 100000, 0, &r);
	expect_echo(&r, p, 100000);
	h2_result_free(&r);
	free(p);
	for (int i = 0; i < ATK_CONNS; i++) {
		h2_close(atk[i]);
		for (int k = 0; k < ATK_STREAMS; k++)
			h2_result_free(&res[i][k]);
	}
	srv_stop(v);
}

/* Bytes that do arrive are bounded per connection: with 8 MiB allowed,
 * 40 streams each sending 1 MiB of a 4 MiB message get at most 8 MiB
 * buffered; the calls beyond it are answered RESOURCE_EXHAUSTED. */
static void test_conn_buffer_bound(void **state)
{
	(void)state;
	otf_grpc_server_config_t cfg = {.max_conn_buffer_bytes = 8u << 20,
	                                .permit_without_stream = true,
	                                .min_ping_time_ms = 1};
	srv_t *v = srv_start(&cfg);
	enum { N = 40, PART = 1 << 20 };
	uint8_t *body = calloc(1, 5 + PART);
	body[2] = 0x40; /* announces 4 MiB */
	static h2_result_t res[N];
	uint64_t before = heap_now();
	h2_conn_t *c = h2_connect(v->port);
	h2_pump(c, 20);
	for (int k = 0; k < N; k++)
		assert_true(h2_submit_open(c, M_ECHO, body, 5 + PART, &res[k]) > 0);
	int refused = 0;
	for (int i = 0; i < 300 && refused < N - 8; i++) {
		h2_pump(c, 20);
		refused = 0;
		for (int k = 0; k < N; k++)
			refused += res[k].grpc_status == OTF_GRPC_RESOURCE_EXHAUSTED;
	}
	sync_conn(c);
	uint64_t grown = heap_now() - before;
	print_message("counted heap: +%.1f MiB, %d of %d calls refused\n",
	              (double)grown / (1 << 20), refused, N);
	assert_true(refused >= N - 8);
	for (int k = 0; k < N; k++)
		if (res[k].grpc_status == OTF_GRPC_RESOURCE_EXHAUSTED)
			assert_non_null(strstr(res[k].grpc_message, "buffer limit"));
	assert_true(grown < (8u << 20) * 2 + (4u << 20));
	h2_close(c);
	for (int k = 0; k < N; k++)
		h2_result_free(&res[k]);
	free(body);
	srv_stop(v);
}

static double mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Sends data step bytes per 50 ms on the raw socket fd while the good
 * client makes a call each time (content checked); returns ms until the
 * server closed fd, 0 if it never did. */
static double raw_trickle(h2_conn_t *good, int fd, const uint8_t *data, size_t len, size_t step)
{
	double t0 = mono_ms();
	uint8_t buf[256];
	for (size_t i = 0; i < len; i += step) {
		if (send(fd, data + i, step, MSG_NOSIGNAL) != (ssize_t)step)
			return mono_ms() - t0; /* already reset by the server */
		uint8_t msg[16];
		for (size_t k = 0; k < sizeof msg; k++)
			msg[k] = (uint8_t)(i + k);
		h2_result_t r;
		size_t fl;
		uint8_t *f = grpc_frame(msg, sizeof msg, 0, &fl);
		assert_true(h2_submit(good, NULL, M_ECHO, NULL, NULL, f, fl, &r) > 0);
		assert_int_equal(h2_run(good, 5000), 0);
		expect_echo(&r, msg, sizeof msg);
		h2_result_free(&r);
		free(f);
		usleep(50 * 1000);
		ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		while (n > 0) /* the server's SETTINGS, ACKs */
			n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			return mono_ms() - t0; /* FIN, or RST for a byte in flight */
	}
	return 0;
}

/* A client that trickles the connection preface, a frame or a header
 * block (or sends nothing) is closed at frame_timeout while a good client
 * is served; the read
 * buffer is one per server (read_buffer_bytes), not one per connection. */
static void test_handshake_timeout_and_read_buffer(void **state)
{
	(void)state;
	otf_grpc_server_config_t cfg = {.frame_timeout_ms = 300, .read_buffer_bytes = 1u << 20};
	srv_t *v = srv_start(&cfg);
	uint64_t before = heap_now();
	h2_conn_t *good = h2_connect(v->port);
	h2_pump(good, 50);
	uint64_t one = heap_now() - before;
	assert_true(one >= (1u << 20)); /* the configured buffer is in use */
	h2_conn_t *idle[20];
	for (int i = 0; i < 20; i++) {
		idle[i] = h2_connect(v->port);
		h2_pump(idle[i], 20);
	}
	uint64_t more = heap_now() - before - one;
	print_message("first connection +%.0f KiB, 20 more +%.0f KiB\n", (double)one / 1024,
	              (double)more / 1024);
	assert_true(more < 20u * (256u << 10));

	int silent = tcp_connect(v->port);
	uint8_t buf[256];
	/* The preface itself, one byte per 50 ms. */
	int slow = tcp_connect(v->port);
	double ms = raw_trickle(good, slow, (const uint8_t *)h2_preface, 24, 1);
	print_message("preface trickle closed after %.0f ms\n", ms);
	assert_true(ms >= 250 && ms < 3000); /* well before 24 bytes x 50 ms */
	close(slow);

	/* A handshake in time, then one frame (a PING) byte by byte. */
	static const uint8_t settings[9] = {0, 0, 0, 4, 0, 0, 0, 0, 0};
	static const uint8_t ping[17] = {0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
	slow = tcp_connect(v->port);
	assert_int_equal(send(slow, h2_preface, 24, MSG_NOSIGNAL), 24);
	assert_int_equal(send(slow, settings, 9, MSG_NOSIGNAL), 9);
	ms = raw_trickle(good, slow, ping, sizeof ping, 1);
	print_message("frame trickle closed after %.0f ms\n", ms);
	assert_true(ms >= 250 && ms < 3000);
	close(slow);

	/* Whole frames, but a header block that never ends: HEADERS without
	 * END_HEADERS (:method POST, :scheme http, :path /), then one
	 * CONTINUATION (accept-encoding, static index 16) per 50 ms. */
	static const uint8_t headers[12] = {0, 0, 3, 1, 0, 0, 0, 0, 1, 0x83, 0x86, 0x84};
	uint8_t conts[40 * 10];
	for (int k = 0; k < 40; k++) {
		const uint8_t cont[10] = {0, 0, 1, 9, 0, 0, 0, 0, 1, 0x90};
		memcpy(conts + k * 10, cont, 10);
	}
	slow = tcp_connect(v->port);
	assert_int_equal(send(slow, h2_preface, 24, MSG_NOSIGNAL), 24);
	assert_int_equal(send(slow, settings, 9, MSG_NOSIGNAL), 9);
	assert_int_equal(send(slow, headers, sizeof headers, MSG_NOSIGNAL),
	                 (ssize_t)sizeof headers);
	ms = raw_trickle(good, slow, conts, sizeof conts, 10);
	print_message("header block trickle closed after %.0f ms\n", ms);
	assert_true(ms >= 250 && ms < 3000);
	close(slow);

	assert_true(tcp_read_until_eof(silent, buf, sizeof buf, 2000) >= 0);
	close(silent);
	for (int i = 0; i < 20; i++)
		h2_close(idle[i]);
	h2_close(good);
	srv_stop(v);
}

static void test_close_waits_for_answers(void **state)
{
	(void)state;
	otf_grpc_server_config_t cfg = {0};
	srv_t *v = srv_start(&cfg);
	h2_conn_t *c = h2_connect(v->port);
	h2_result_t r;
	size_t fl;
	uint8_t *f = grpc_frame("x", 1, 0, &fl);
	assert_true(h2_submit(c, NULL, M_HOLD, NULL, NULL, f, fl, &r) > 0);
	for (int i = 0; i < 100; i++) {
		h2_pump(c, 20);
		pthread_mutex_lock(&g_mu);
		int n = g_n_held;
		pthread_mutex_unlock(&g_mu);
		if (n)
			break;
	}
	/* stop answers the held call (CANCELLED) and then closes: the client
	 * gets the answer and a GOAWAY. */
	uv_async_send(&v->stop);
	assert_int_equal(h2_run(c, 5000), 0);
	assert_int_equal(r.grpc_status, OTF_GRPC_CANCELLED);
	h2_pump(c, 500);
	assert_true(h2_goaway(c, NULL, NULL, 0));
	h2_result_free(&r);
	free(f);
	h2_close(c);
	pthread_join(v->th, NULL);
	assert_true(v->closed);
	assert_int_equal(uv_loop_close(&v->loop), 0);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_echo_and_status),
	    cmocka_unit_test(test_compression),
	    cmocka_unit_test(test_limits_and_framing),
	    cmocka_unit_test(test_deadline),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_keepalive),
	    cmocka_unit_test(test_announced_prefixes),
	    cmocka_unit_test(test_conn_buffer_bound),
	    cmocka_unit_test(test_handshake_timeout_and_read_buffer),
	    cmocka_unit_test(test_close_waits_for_answers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
