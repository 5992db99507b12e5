/* HTTP/1.1 server over real sockets on 127.0.0.1: the server's uv loop
 * runs in a second thread, the test body is a blocking-socket client. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

enum mode { MODE_ECHO, MODE_DELAY };

typedef struct fixture {
	uv_loop_t loop;
	uv_async_t stop;
	uv_thread_t thread;
	otf_http_server_t *srv;
	int port;
	enum mode mode;
	uint64_t delay_ms;
	atomic_int handled;   /* handler calls */
	atomic_int responded; /* respond returned 0 */
	atomic_int dead;      /* respond found the client gone */
	atomic_int server_closed;
	otf_alloc_stats_t mem_before;
} fixture_t;

/* Echo: "<METHOD> <path>[?query]|<body>", plus X-Echo: <X-Test header>. */
static void answer(otf_http_request_t *req, fixture_t *fx)
{
	char out[8192];
	otf_http_str_t path = otf_http_request_path(req), q = otf_http_request_query(req);
	otf_buf_t *body = otf_http_request_body(req);
	int n = snprintf(out, sizeof out, "%s %.*s%s%.*s|%.*s", otf_http_request_method(req),
	                 (int)path.len, path.ptr, q.len ? "?" : "", (int)q.len, q.ptr,
	                 body ? (int)body->len : 0, body ? (const char *)body->data : "");
	otf_http_str_t xt = otf_http_request_header(req, "x-test");
	char peer[64] = "?";
	const struct sockaddr_in *sa = (const struct sockaddr_in *)otf_http_request_peer(req);
	if (sa->sin_family == AF_INET)
		inet_ntop(AF_INET, &sa->sin_addr, peer, sizeof peer);
	otf_http_header_t extra[] = {{"X-Echo", xt.ptr ? xt.ptr : "none"}, {"X-Peer", peer}};
	int status = 200;
	if (path.len == 4 && memcmp(path.ptr, "/bad", 4) == 0)
		status = 99; /* the server must turn this into a 500 */
	int rc = otf_http_respond(req, status, "text/plain", out, (size_t)n, extra, 2);
	if (status == 99)
		assert_int_equal(rc, OTF_E_INVAL);
	if (rc == 0)
		atomic_fetch_add(&fx->responded, 1);
	else if (rc == -ECONNRESET)
		atomic_fetch_add(&fx->dead, 1);
}

typedef struct delayed {
	uv_timer_t timer;
	otf_http_request_t *req;
	fixture_t *fx;
} delayed_t;

static void on_delay_closed(uv_handle_t *h)
{
	otf_free(h->data);
}

static void on_delay(uv_timer_t *t)
{
	delayed_t *d = t->data;
	answer(d->req, d->fx); /* works whether or not the client is alive */
	uv_close((uv_handle_t *)t, on_delay_closed);
}

static void handler(otf_http_request_t *req, void *ctx)
{
	fixture_t *fx = ctx;
	atomic_fetch_add(&fx->handled, 1);
	if (fx->mode == MODE_ECHO) {
		answer(req, fx);
		return;
	}
	delayed_t *d = otf_calloc(1, sizeof *d);
	d->req = req;
	d->fx = fx;
	d->timer.data = d;
	uv_timer_init(&fx->loop, &d->timer);
	uv_timer_start(&d->timer, on_delay, fx->delay_ms, 0);
}

static void on_server_closed(void *arg)
{
	fixture_t *fx = arg;
	atomic_store(&fx->server_closed, 1);
}

static void on_stop(uv_async_t *a)
{
	fixture_t *fx = a->data;
	otf_http_server_close(fx->srv, on_server_closed, fx);
	uv_close((uv_handle_t *)a, NULL);
}

static void loop_thread(void *arg)
{
	fixture_t *fx = arg;
	uv_run(&fx->loop, UV_RUN_DEFAULT);
}

static fixture_t *start(enum mode mode, const otf_http_server_config_t *cfg_in, uint64_t delay_ms)
{
	fixture_t *fx = calloc(1, sizeof *fx);
	otf_alloc_stats(&fx->mem_before);
	fx->mode = mode;
	fx->delay_ms = delay_ms;
	otf_http_server_config_t cfg = {.host = "127.0.0.1"};
	if (cfg_in)
		cfg = *cfg_in;
	assert_int_equal(uv_loop_init(&fx->loop), 0);
	assert_int_equal(otf_http_server_create(&fx->loop, &cfg, handler, fx, &fx->srv), 0);
	fx->port = otf_http_server_bound_port(fx->srv);
	assert_true(fx->port > 0);
	fx->stop.data = fx;
	uv_async_init(&fx->loop, &fx->stop, on_stop);
	assert_int_equal(uv_thread_create(&fx->thread, loop_thread, fx), 0);
	return fx;
}

static void stop(fixture_t *fx)
{
	uv_async_send(&fx->stop);
	uv_thread_join(&fx->thread);
	assert_int_equal(atomic_load(&fx->server_closed), 1);
	assert_int_equal(uv_loop_close(&fx->loop), 0);
	otf_alloc_stats_t after;
	otf_alloc_stats(&after);
	assert_int_equal(after.bytes_in_use, fx->mem_before.bytes_in_use); /* no leak */
	free(fx);
}

/* Blocking client. */

typedef struct client {
	int fd;
	char buf[65536];
	size_t len;
} client_t;

typedef struct response {
	int status;
	char head[4096];
	char body[8192];
	size_t body_len;
} response_t;

static client_t *cli_connect(int port)
{
	client_t *c = calloc(1, sizeof *c);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(connect(c->fd, (struct sockaddr *)&sa, sizeof sa), 0);
	struct timeval tv = {.tv_sec = 5};
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	return c;
}

static void cli_send(client_t *c, const void *data, size_t len)
{
	assert_int_equal(send(c->fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void cli_sends(client_t *c, const char *s)
{
	cli_send(c, s, strlen(s));
}

static void cli_free(client_t *c)
{
	close(c->fd);
	free(c);
}

/* Reads more bytes; 0 on end of stream or reset, -1 on timeout. */
static ssize_t cli_fill(client_t *c)
{
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -1;
	if (n < 0)
		return 0;
	c->len += (size_t)n;
	return n;
}

/* Reads one response (with a Content-Length body); false if the stream
 * ended first. */
static bool cli_read(client_t *c, response_t *r)
{
	memset(r, 0, sizeof *r);
	for (;;) {
		char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
		if (end) {
			size_t head_len = (size_t)(end - c->buf) + 4;
			assert_true(head_len < sizeof r->head);
			memcpy(r->head, c->buf, head_len);
			const char *cl = strcasestr(r->head, "Content-Length:");
			size_t body_len = cl ? strtoul(cl + 15, NULL, 10) : 0;
			if (strncmp(r->head, "HTTP/1.1 1", 10) == 0)
				body_len = 0; /* interim response */
			if (c->len >= head_len + body_len) {
				r->status = atoi(r->head + 9);
				memcpy(r->body, c->buf + head_len, body_len);
				r->body_len = body_len;
				memmove(c->buf, c->buf + head_len + body_len,
				        c->len - head_len - body_len);
				c->len -= head_len + body_len;
				return true;
			}
		}
		if (cli_fill(c) <= 0)
			return false;
	}
}

/* True when the server closes the connection within the receive timeout. */
static bool cli_closed(client_t *c)
{
	for (;;) {
		c->len = 0;
		ssize_t n = cli_fill(c);
		if (n == 0)
			return true;
		if (n < 0)
			return false;
	}
}

static void expect_echo(client_t *c, const char *body)
{
	response_t r;
	assert_true(cli_read(c, &r));
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, body);
}

static void test_get_post_echo(void **state)
{
	(void)state;
	fixture_t *fx = start(MODE_ECHO, NULL, 0);
	client_t *c = cli_connect(fx->port);
	cli_sends(c, "GET /hello?x=1&y=2 HTTP/1.1\r\nHost: t\r\nx-TEST: abc\r\n\r\n");
	response_t r;
	assert_true(cli_read(c, &r));
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "GET /hello?x=1&y=2|");
	assert_non_null(strstr(r.head, "X-Echo: abc\r\n"));
	assert_non_null(strstr(r.head, "Content-Type: text/plain\r\n"));
	assert_non_null(strstr(r.head, "X-Peer: 127.0.0.1\r\n"));
	assert_null(strstr(r.head, "Connection: close"));

	cli_sends(c, "POST /v1/traces HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n"
	             "hello world");
	expect_echo(c, "POST /v1/traces|hello world");

	/* Expect: 100-continue gets the interim answer before the body. */
	cli_sends(c, "POST /e HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
	assert_true(cli_read(c, &r));
	assert_int_equal(r.status, 100);
	cli_sends(c, "abc");
	expect_echo(c, "POST /e|abc");

	/* HEAD: the length is announced, the body is not sent. */
	cli_sends(c, "HEAD /h HTTP/1.1\r\n\r\n");
	assert_true(cli_fill(c) > 0);
	assert_non_null(strstr(c->buf, "Content-Length: 8\r\n"));
	assert_true(c->len == (size_t)(strstr(c->buf, "\r\n\r\n") - c->buf) + 4);
	c->len = 0;

	/* An invalid answer from the handler becomes a 500. */
	cli_sends(c, "GET /bad HTTP/1.1\r\n\r\n");
	assert_true(cli_read(c, &r));
	assert_int_equal(r.status, 500);
	cli_free(c);
	assert_int_equal(atomic_load(&fx->handled), 5);
	stop(fx);
}

static void test_max_connections_and_oom(void **state)
{
	(void)state;
	otf_http_server_config_t cfg = {.host = "127.0.0.1", .max_connections = 1};
	fixture_t *fx = start(MODE_ECHO, &cfg, 0);
	client_t *first = cli_connect(fx->port);
	cli_sends(first, "GET /1 HTTP/1.1\r\n\r\n");
	expect_echo(first, "GET /1|");
	client_t *second = cli_connect(fx->port); /* the kernel accepts it... */
	assert_true(cli_closed(second));          /* ...and the server drops it */
	cli_free(second);

	/* Every allocation on the loop thread fails: the connection closes
	 * (or answers 500) and nothing leaks; afterwards all is normal. */
	otf_alloc_fail_after(0);
	cli_sends(first, "POST /2 HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi");
	response_t r;
	if (cli_read(first, &r))
		assert_int_equal(r.status, 500);
	assert_true(cli_closed(first));
	otf_alloc_fail_after(-1);
	cli_free(first);
	client_t *c = cli_connect(fx->port);
	cli_sends(c, "GET /3 HTTP/1.1\r\n\r\n");
	expect_echo(c, "GET /3|");
	cli_free(c);
	stop(fx);
}

static void test_keep_alive_and_close(void **state)
{
	(void)state;
	fixture_t *fx = start(MODE_ECHO, NULL, 0);
	client_t *c = cli_connect(fx->port);
	static const char *const paths[] = {"/a", "/b", "/c"};
	for (int i = 0; i < 3; i++) {
		char req[128], want[64];
		snprintf(req, sizeof req, "POST %s HTTP/1.1\r\nContent-Length: 1\r\n\r\n%d",
		         paths[i], i);
		snprintf(want, sizeof want, "POST %s|%d", paths[i], i);
		cli_sends(c, req);
		expect_echo(c, want);
	}
	cli_sends(c, "GET /last HTTP/1.1\r\nConnection: close\r\n\r\n");
	response_t r;
	assert_true(cli_read(c, &r));
	assert_non_null(strstr(r.head, "Connection: close\r\n"));
	assert_true(cli_closed(c));
	cli_free(c);

	/* HTTP/1.0 closes by default, keeps alive when asked. */
	c = cli_connect(fx->port);
	cli_sends(c, "GET /ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	assert_true(cli_read(c, &r));
	assert_non_null(strstr(r.head, "Connection: keep-alive\r\n"));
	cli_sends(c, "GET /old HTTP/1.0\r\n\r\n");
	assert_true(cli_read(c, &r));
	assert_string_equal(r.body, "GET /old|");
	assert_true(cli_closed(c));
	cli_free(c);
	stop(fx);
}

static void test_pipelined_in_order(void **state)
{
	(void)state;
	fixture_t *fx = start(MODE_ECHO, NULL, 0);
	client_t *c = cli_connect(fx->port);
	cli_sends(c,
	          "GET /1 HTTP/1.1\r\n\r\n"
	          "POST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\ntwo"
	          "POST /3 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nthree\r\n0\r\n\r\n");
	expect_echo(c, "GET /1|");
	expect_echo(c, "POST /2|two");
	expect_echo(c, "POST /3|three");
	cli_free(c);
	stop(fx);
}

static const otf_http_server_config_t small_cfg = {
    .host = "127.0.0.1",
    .max_body_bytes = 1024,
    .max_header_bytes = 1024,
};

static void test_body_limits(void **state)
{
	(void)state;
	fixture_t *fx = start(MODE_ECHO, &small_cfg, 0);
	/* Headers only: the 413 must come without the server reading a body. */
	client_t *c = cli_connect(fx->port);
	cli_sends(c, "POST /big HTTP/1.1\r\nContent-Length: 100000\r\n\r\n");
	response_t r;
	assert_true(cli_read(c, &r));
	assert_int_equal(r.status, 413);
	assert_non_null(strstr(r.head, "Connection: close\r\n"));
	assert_true(cli_closed(c));
	cli_free(c);

	c = cli_connect(fx->port);
	cli_sends(c, "POST /chunks HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
	char chunk[600 + 16];
	int n = snprintf(chunk, sizeof chunk, "258\r\n%0600d\r\n", 0);
	cli_send(c, chunk, (size_t)n);
	cli_send(c, chunk, (size_t)n);
	assert_true(cli_read(c, &r));
	assert_int_equal(r.status, 413);
	assert_true(cli_closed(c));
	cli_free(c);

	/* Header block over max_header_bytes: 431. */
	c = cli_connect(fx->port);
	char big[2048];
	snprintf(big, sizeof big, "GET / HTTP/1.1\r\nX-Big: %01500d\r\n\r\n", 0);
	cli_sends(c, big);
	assert_true(cli_read(c, &r));
	assert_int_equal(r.status, 431);
	cli_free(c);
	assert_int_equal(atomic_load(&fx->handled), 0);
	stop(fx);
}

static const char plain[] = "resourceSpans/scopeSpans/spans: the quick brown fox jumps over "
                            "the lazy dog, the quick brown fox jumps over the lazy dog";

static size_t compress_zlib(int window_bits, unsigned char *out, size_t cap)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	deflateInit2(&zs, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
	zs.next_in = (Bytef *)plain;
	zs.avail_in = sizeof plain - 1;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	deflateEnd(&zs);
	return cap - zs.avail_out;
}

static void post_encoded(client_t *c, const char *enc, const void *body, size_t len)
{
	char head[256];
	snprintf(head, sizeof head,
	         "POST /enc HTTP/1.1\r\nContent-Encoding: %s\r\nContent-Length: %zu\r\n\r\n", enc,
	         len);
	cli_sends(c, head);
	cli_send(c, body, len);
}

static void test_content_encoding(void **state)
{
	(void)state;
	fixture_t *fx = start(MODE_ECHO, &small_cfg, 0);
	client_t *c = cli_connect(fx->port);
	unsigned char z[1024];
	char want[512];
	snprintf(want, sizeof want, "POST /enc|%s", plain);

	post_encoded(c, "gzip", z, compress_zlib(15 + 16, z, sizeof z));
	expect_echo(c, want);
	post_encoded(c, "deflate", z, compress_zlib(15, z, sizeof z));
	expect_echo(c, want);
	post_encoded(c, "deflate", z, compress_zlib(-15, z, sizeof z));
	expect_echo(c, want);
	size_t zn = ZSTD_compress(z, sizeof z, plain, sizeof plain - 1, 3);
	assert_false(ZSTD_isError(zn));
	post_encoded(c, "zstd", z, zn);
	expect_echo(c, want);

	/* Corrupt data: 400 with a reason; the connection stays usable. */
	post_encoded(c, "gzip", "definitely not gzip", 19);
	response_t r;
	assert_true(cli_read(c, &r));
	assert_int_equal(r.status, 400);
	assert_true(r.body_len > 1);
	post_encoded(c, "br", "x", 1);
	assert_true(cli_read(c, &r));
	assert_int_equal(r.status, 415);

	/* A small compressed body that expands past max_body_bytes: 413. */
	static unsigned char zeros[4096];
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	zs.next_in = zeros;
	zs.avail_in = sizeof zeros;
	zs.next_out = z;
	zs.avail_out = sizeof z;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	deflateEnd(&zs);
	post_encoded(c, "gzip", z, sizeof z - zs.avail_out);
	assert_true(cli_read(c, &r));
	assert_int_equal(r.status, 413);

	cli_sends(c, "GET /still-open HTTP/1.1\r\n\r\n");
	expect_echo(c, "GET /still-open|");
	cli_free(c);
	assert_int_equal(atomic_load(&fx->handled), 5);
	stop(fx);
}

static void test_garbage_closes(void **state)
{
	(void)state;
	fixture_t *fx = start(MODE_ECHO, NULL, 0);
	client_t *c = cli_connect(fx->port);
	cli_sends(c, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n");
	response_t r;
	assert_true(cli_read(c, &r));
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.head, "Connection: close\r\n"));
	assert_true(cli_closed(c));
	cli_free(c);
	assert_int_equal(atomic_load(&fx->handled), 0);
	stop(fx);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void test_idle_timeout(void **state)
{
	(void)state;
	otf_http_server_config_t cfg = {.host = "127.0.0.1", .idle_timeout_ms = 150};
	fixture_t *fx = start(MODE_ECHO, &cfg, 0);
	double t0 = now_ms();
	client_t *silent = cli_connect(fx->port);
	client_t *stalled = cli_connect(fx->port);
	cli_sends(stalled, "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
	assert_true(cli_closed(silent));
	assert_true(cli_closed(stalled));
	assert_true(now_ms() - t0 >= 140);
	cli_free(silent);
	cli_free(stalled);

	/* A connection that keeps talking is not idle. */
	client_t *c = cli_connect(fx->port);
	for (int i = 0; i < 3; i++) {
		usleep(100 * 1000);
		cli_sends(c, "GET /alive HTTP/1.1\r\n\r\n");
		expect_echo(c, "GET /alive|");
	}
	cli_free(c);
	stop(fx);
}

/* Trickles one byte of data every 50 ms (slowloris) while a good client is
 * served; returns ms until the server answered and closed, or -1 if it was
 * still open when the bytes ran out. The answer goes to *r. */
static double trickle(fixture_t *fx, client_t *bad, const char *data, response_t *r)
{
	double t0 = now_ms();
	client_t *good = cli_connect(fx->port);
	for (size_t i = 0; data[i]; i++) {
		if (send(bad->fd, data + i, 1, MSG_NOSIGNAL) != 1)
			break; /* already closed */
		char path[64], want[80];
		snprintf(path, sizeof path, "GET /good%zu HTTP/1.1\r\n\r\n", i);
		snprintf(want, sizeof want, "GET /good%zu|", i);
		cli_sends(good, path);
		expect_echo(good, want);
		usleep(50 * 1000);
		ssize_t n =
		    recv(bad->fd, bad->buf + bad->len, sizeof bad->buf - bad->len, MSG_DONTWAIT);
		if (n > 0)
			bad->len += (size_t)n;
		if (n >= 0 && bad->len && cli_read(bad, r) && cli_closed(bad)) {
			cli_free(good);
			return now_ms() - t0;
		}
	}
	cli_free(good);
	return -1;
}

static void test_slow_client_timeouts(void **state)
{
	(void)state;
	otf_http_server_config_t cfg = {.host = "127.0.0.1",
	                                .idle_timeout_ms = 5000,
	                                .read_header_timeout_ms = 300,
	                                .read_timeout_ms = 600};
	fixture_t *fx = start(MODE_ECHO, &cfg, 0);
	static const char slow_head[] = "POST /v1/traces HTTP/1.1\r\nHost: example\r\n"
	                                "X-Slow: 0123456789012345678901234567890123456789"
	                                "0123456789012345678901234567890123456789\r\n";
	response_t r;

	/* Header bytes trickle in: cut at read_header_timeout, however
	 * often a byte arrives. */
	client_t *bad = cli_connect(fx->port);
	double ms = trickle(fx, bad, slow_head, &r);
	assert_true(ms > 0);
	assert_true(ms >= 250 && ms < 3000);
	assert_int_equal(r.status, 408);
	assert_non_null(strstr(r.body, "read_header_timeout"));
	cli_free(bad);

	/* Headers in time, then a body trickle: cut at read_timeout. */
	bad = cli_connect(fx->port);
	cli_sends(bad, "POST /v1/logs HTTP/1.1\r\nContent-Length: 200\r\n\r\n");
	ms = trickle(fx, bad,
	             "0123456789012345678901234567890123456789012345678901234567890123456789"
	             "0123456789012345678901234567890123456789012345678901234567890123456789",
	             &r);
	assert_true(ms > 0);
	assert_true(ms >= 500 && ms < 3000);
	assert_int_equal(r.status, 408);
	assert_non_null(strstr(r.body, "read_timeout"));
	cli_free(bad);

	/* HTTP/0.9 (no version): 400 at once, not after a timeout. */
	bad = cli_connect(fx->port);
	double t0 = now_ms();
	cli_sends(bad, "GET /\r\n");
	assert_true(cli_read(bad, &r));
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "HTTP/0.9"));
	assert_true(cli_closed(bad));
	assert_true(now_ms() - t0 < 1000); /* idle_timeout is 5 s */
	cli_free(bad);
	assert_int_equal(atomic_load(&fx->handled),
	                 atomic_load(&fx->responded)); /* only the good */
	stop(fx);
}

static void wait_for(atomic_int *v, int want)
{
	for (int i = 0; i < 500 && atomic_load(v) < want; i++)
		usleep(10 * 1000);
	assert_int_equal(atomic_load(v), want);
}

static void test_client_disconnects(void **state)
{
	(void)state;
	fixture_t *fx = start(MODE_DELAY, NULL, 100);
	/* Mid-body: never reaches the handler. */
	client_t *c = cli_connect(fx->port);
	cli_sends(c, "POST /x HTTP/1.1\r\nContent-Length: 1000\r\n\r\n0123456789");
	cli_free(c);
	/* While the handler holds the request: the late answer is a no-op. */
	c = cli_connect(fx->port);
	cli_sends(c, "POST /y HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi");
	wait_for(&fx->handled, 1);
	cli_free(c);
	wait_for(&fx->dead, 1);
	/* The server is unaffected. */
	c = cli_connect(fx->port);
	cli_sends(c, "GET /z HTTP/1.1\r\n\r\n");
	expect_echo(c, "GET /z|");
	cli_free(c);
	assert_int_equal(atomic_load(&fx->handled), 2);
	stop(fx); /* checks that every byte was freed */
}

static void test_delayed_response(void **state)
{
	(void)state;
	fixture_t *fx = start(MODE_DELAY, NULL, 50);
	client_t *c = cli_connect(fx->port);
	double t0 = now_ms();
	cli_sends(c, "POST /later HTTP/1.1\r\nContent-Length: 3\r\n\r\nack"
	             "GET /second HTTP/1.1\r\n\r\n");
	expect_echo(c, "POST /later|ack");
	assert_true(now_ms() - t0 >= 45);
	expect_echo(c, "GET /second|");
	cli_free(c);
	stop(fx);
}

static void dummy_handler(otf_http_request_t *req, void *ctx)
{
	(void)ctx;
	otf_http_respond(req, 204, NULL, NULL, 0, NULL, 0);
}

static void count_close(void *arg)
{
	(*(int *)arg)++;
}

static void test_share_group(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	static const int group, other;
	otf_http_server_config_t cfg = {.host = "127.0.0.1", .share_group = &group};
	otf_http_server_t *a, *b, *c = NULL;
	assert_int_equal(otf_http_server_create(&loop, &cfg, dummy_handler, NULL, &a), 0);
	cfg.port = (uint16_t)otf_http_server_bound_port(a);
	assert_int_equal(otf_http_server_create(&loop, &cfg, dummy_handler, NULL, &b), 0);
	assert_int_equal(otf_http_server_bound_port(b), cfg.port);
	/* Outside the group (own socket, or another group) the port is taken. */
	cfg.share_group = NULL;
	assert_int_equal(otf_http_server_create(&loop, &cfg, dummy_handler, NULL, &c), -EADDRINUSE);
	cfg.share_group = &other;
	assert_int_equal(otf_http_server_create(&loop, &cfg, dummy_handler, NULL, &c), -EADDRINUSE);
	assert_null(c);
	int closed = 0;
	otf_http_server_close(a, count_close, &closed);
	otf_http_server_close(b, count_close, &closed);
	assert_int_equal(closed, 0); /* never inside the call */
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(closed, 2);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_graceful_close(void **state)
{
	(void)state;
	fixture_t *fx = start(MODE_DELAY, NULL, 200);
	int port = fx->port;
	client_t *idle = cli_connect(port);
	client_t *busy = cli_connect(port);
	cli_sends(busy, "POST /inflight HTTP/1.1\r\nContent-Length: 4\r\n\r\ndata");
	wait_for(&fx->handled, 1);
	uv_async_send(&fx->stop);
	/* The idle connection goes at once; the request in flight is answered,
	 * marked as the last one, then the connection closes. */
	assert_true(cli_closed(idle));
	response_t r;
	assert_true(cli_read(busy, &r));
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "POST /inflight|data");
	assert_non_null(strstr(r.head, "Connection: close\r\n"));
	assert_true(cli_closed(busy));
	cli_free(idle);
	cli_free(busy);
	uv_thread_join(&fx->thread);
	assert_int_equal(atomic_load(&fx->server_closed), 1);
	/* Nobody listens any more. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_not_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	close(fd);
	assert_int_equal(uv_loop_close(&fx->loop), 0);
	otf_alloc_stats_t after;
	otf_alloc_stats(&after);
	assert_int_equal(after.bytes_in_use, fx->mem_before.bytes_in_use);
	free(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_get_post_echo),
	    cmocka_unit_test(test_keep_alive_and_close),
	    cmocka_unit_test(test_pipelined_in_order),
	    cmocka_unit_test(test_body_limits),
	    cmocka_unit_test(test_content_encoding),
	    cmocka_unit_test(test_garbage_closes),
	    cmocka_unit_test(test_idle_timeout),
	    cmocka_unit_test(test_slow_client_timeouts),
	    cmocka_unit_test(test_client_disconnects),
	    cmocka_unit_test(test_delayed_response),
	    cmocka_unit_test(test_share_group),
	    cmocka_unit_test(test_graceful_close),
	    cmocka_unit_test(test_max_connections_and_oom),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
