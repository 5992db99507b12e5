/* CAN end to end with the real binary ($OTF_BIN) and real sockets: an
 * OTLP/gRPC receiver (wait_for_result) in front of an otlphttp exporter
 * whose backend is down (connection refused, retried forever).
 *  - a client sends a span and disconnects while the exporter retries:
 *    the receiver cancels the message, the exporter stops retrying it;
 *  - a client sends with grpc-timeout 300m: DEADLINE_EXCEEDED, and its
 *    message goes too;
 *  - the backend comes up, a third span is delivered, the exporter's
 *    queue is empty, and the backend never received the first two (span
 *    names checked in the bodies); the self-metrics count the cancel.
 * Before CAN the disconnected client's span was retried until the backend
 * came back and then delivered. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "h2_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TRACES "/opentelemetry.proto.collector.trace.v1.TraceService/Export"

static int listen_any(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons(*port),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 64) ||
	    getsockname(fd, (struct sockaddr *)&a, &len))
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

static uint16_t free_port(void)
{
	uint16_t port = 0;
	int fd = listen_any(&port);
	close(fd);
	return port;
}

/* ExportTraceServiceRequest with one span named name (< 60 bytes). */
static uint8_t *span_req(const char *name, size_t *len)
{
	size_t n = strlen(name), sp = 30 + n, sc = 2 + sp, rs = 2 + sc;
	uint8_t *b = malloc(2 + rs), *p = b;
	*p++ = 0x0a, *p++ = (uint8_t)rs;
	*p++ = 0x12, *p++ = (uint8_t)sc;
	*p++ = 0x12, *p++ = (uint8_t)sp;
	*p++ = 0x0a, *p++ = 16;
	for (int i = 0; i < 16; i++)
		*p++ = (uint8_t)(i + 1);
	*p++ = 0x12, *p++ = 8;
	for (int i = 0; i < 8; i++)
		*p++ = (uint8_t)(i + 1);
	*p++ = 0x2a, *p++ = (uint8_t)n;
	memcpy(p, name, n);
	*len = 2 + rs;
	return b;
}

/* ---- the backend: HTTP/1.1, 200 to every POST, bodies kept ---- */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static char *g_bodies;
static size_t g_bodies_len;
static int g_back_fd = -1;
static _Atomic int g_back_stop;

static void *back_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[65536];
	size_t have = 0;
	for (;;) {
		char *end = memmem(buf, have, "\r\n\r\n", 4);
		if (!end) {
			ssize_t n =
			    have < sizeof buf ? read(fd, buf + have, sizeof buf - have) : -1;
			if (n <= 0)
				break;
			have += (size_t)n;
			continue;
		}
		size_t head = (size_t)(end - buf) + 4, clen = 0;
		char *cl = strcasestr(buf, "content-length:");
		if (cl && cl < end)
			clen = strtoul(cl + 15, NULL, 10);
		while (have < head + clen && have < sizeof buf) {
			ssize_t n = read(fd, buf + have, sizeof buf - have);
			if (n <= 0)
				goto out;
			have += (size_t)n;
		}
		pthread_mutex_lock(&g_mu);
		char *nb = realloc(g_bodies, g_bodies_len + clen + 1);
		if (nb) {
			g_bodies = nb;
			memcpy(g_bodies + g_bodies_len, buf + head, clen);
			g_bodies_len += clen;
		}
		pthread_mutex_unlock(&g_mu);
		const char *ok = "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
		                 "Content-Length: 0\r\n\r\n";
		if (write(fd, ok, strlen(ok)) < 0)
			break;
		memmove(buf, buf + head + clen, have - head - clen);
		have -= head + clen;
	}
out:
	close(fd);
	return NULL;
}

static void *back_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&g_back_stop)) {
		struct pollfd p = {.fd = g_back_fd, .events = POLLIN};
		if (poll(&p, 1, 100) <= 0)
			continue;
		int c = accept(g_back_fd, NULL, NULL);
		if (c < 0)
			continue;
		pthread_t t;
		pthread_create(&t, NULL, back_conn, (void *)(intptr_t)c);
		pthread_detach(t);
	}
	return NULL;
}

static bool backend_has(const char *s)
{
	pthread_mutex_lock(&g_mu);
	bool r = g_bodies && memmem(g_bodies, g_bodies_len, s, strlen(s));
	pthread_mutex_unlock(&g_mu);
	return r;
}

/* ---- otflow and its /metrics ---- */
static pid_t g_child = -1;

static int kill_child(void **state)
{
	(void)state;
	if (g_child > 0) {
		kill(g_child, SIGKILL);
		waitpid(g_child, NULL, 0);
	}
	g_child = -1;
	return 0;
}

/* GET path from 127.0.0.1:port; the body (malloc'd) or NULL. */
static char *http_get(uint16_t port, const char *path, int *status)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons(port),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	char req[256];
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
	if (write(fd, req, strlen(req)) < 0) {
		close(fd);
		return NULL;
	}
	size_t cap = 1 << 20, len = 0;
	char *b = malloc(cap + 1);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	while (len < cap && poll(&p, 1, 2000) > 0) {
		ssize_t n = read(fd, b + len, cap - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	b[len] = 0;
	*status = len > 12 ? atoi(b + 9) : 0;
	return b;
}

/* Sum of the samples of every series whose name starts with prefix. */
static double metric(uint16_t port, const char *prefix)
{
	int st = 0;
	char *b = http_get(port, "/metrics", &st);
	double sum = -1;
	if (!b)
		return -1;
	for (char *line = strtok(b, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, prefix, strlen(prefix)))
			continue;
		char *sp = strrchr(line, ' ');
		if (sp)
			sum = (sum < 0 ? 0 : sum) + strtod(sp + 1, NULL);
	}
	free(b);
	return sum;
}

static bool wait_metric(uint16_t port, const char *prefix, double want, int ms, bool exact)
{
	double v = -1;
	for (int i = 0; i < ms / 20; i++) {
		v = metric(port, prefix);
		if (exact ? v == want : v >= want)
			return true;
		usleep(20000);
	}
	print_error("%s is %g, want %s%g\n", prefix, v, exact ? "" : ">= ", want);
	return false;
}

/* Who retries: the exporter's retry_on_failure, or a retry processor in
 * front of an exporter that does not retry. */
typedef struct variant {
	const char *processors; /* the pipeline's processors: line */
	const char *exp_retry;  /* the exporter's retry_on_failure */
	const char *held;       /* metric that shows the message is held */
	double held_value;      /* ... at this value (exact) or more */
	bool held_exact;
	const char *cancelled; /* metric counting the copy it stopped */
	enum {
		LEAVE_GRPC,   /* an OTLP/gRPC client disconnects */
		LEAVE_HTTP1,  /* an OTLP/HTTP (HTTP/1.1) client disconnects */
		LEAVE_H2,     /* an OTLP/HTTP over HTTP/2 client disconnects */
		LEAVE_H2_RST, /* ... resets its stream (RST_STREAM), connection kept */
	} leave;
} variant_t;

static void run_variant(const variant_t *v)
{
	const char *bin = getenv("OTF_BIN");
	if (!bin)
		skip();
	const char *tmpdir = getenv("TMPDIR");
	char dbuf[512];
	snprintf(dbuf, sizeof dbuf, "%s/otf-cancel-XXXXXX", tmpdir ? tmpdir : "/tmp");
	char *d = mkdtemp(dbuf);
	assert_non_null(d);
	uint16_t rx = free_port(), back = free_port(), prom = free_port(), health = free_port();
	uint16_t hrx = free_port();
	char cfg[600], log[600];
	snprintf(cfg, sizeof cfg, "%s/otflow.yaml", d);
	snprintf(log, sizeof log, "%s/otflow.log", d);
	FILE *f = fopen(cfg, "w");
	assert_non_null(f);
	fprintf(f,
	        "receivers:\n"
	        "  otlp:\n"
	        "    wait_for_result: true\n"
	        "    protocols: {grpc: {endpoint: 127.0.0.1:%u}, http: {endpoint: 127.0.0.1:%u}}\n"
	        "exporters:\n"
	        "  otlphttp:\n"
	        "    endpoint: http://127.0.0.1:%u\n"
	        "    compression: none\n"
	        "    retry_on_failure: %s\n"
	        "    sending_queue: {wait_for_result: true}\n"
	        "processors:\n"
	        "  retry: {initial_interval: 50ms, max_interval: 100ms, max_elapsed_time: 0s}\n"
	        "extensions:\n"
	        "  health_check: {endpoint: 127.0.0.1:%u}\n"
	        "service:\n"
	        "  extensions: [health_check]\n"
	        "  admin: {endpoint: \"\"}\n"
	        "  telemetry:\n"
	        "    metrics:\n"
	        "      level: basic\n"
	        "      readers:\n"
	        "        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: %u,\n"
	        "                 without_units: true}}}\n"
	        "  pipelines: {traces: {receivers: [otlp], %s exporters: [otlphttp]}}\n"
	        "runtime: {workers: 1, shutdown_timeout: 2s}\n",
	        rx, hrx, back, v->exp_retry, health, prom, v->processors);
	fclose(f);
	g_child = fork();
	assert_true(g_child >= 0);
	if (g_child == 0) {
		FILE *lf = freopen(log, "w", stdout);
		(void)lf;
		dup2(1, 2);
		execl(bin, bin, "--config", cfg, (char *)NULL);
		_exit(127);
	}
	int st = 0;
	for (int i = 0; i < 200 && st != 200; i++) {
		char *b = http_get(health, "/", &st);
		free(b);
		if (st != 200)
			usleep(50000);
	}
	assert_int_equal(st, 200);

	/* 1. sent, then the client leaves while the exporter retries. */
	size_t n1, f1;
	uint8_t *r1 = span_req("can-disconnected", &n1);
	uint8_t *fr1 = grpc_frame(r1, n1, 0, &f1);
	if (v->leave == LEAVE_H2 || v->leave == LEAVE_H2_RST) {
		h2_conn_t *c = h2_connect(hrx);
		assert_non_null(c);
		h2_result_t res1;
		memset(&res1, 0, sizeof res1);
		int32_t sid =
		    h2_submit(c, NULL, "/v1/traces", "application/x-protobuf", NULL, r1, n1, &res1);
		assert_true(sid > 0);
		h2_pump(c, 50);
		assert_true(wait_metric(prom, v->held, v->held_value, 5000, v->held_exact));
		if (v->leave == LEAVE_H2_RST) {
			assert_int_equal(h2_rst(c, sid), 0);
			/* The connection stays: only the stream was given up. */
			assert_true(
			    wait_metric(prom, "otelcol_receiver_cancelled_spans", 1, 5000, false));
			assert_false(h2_eof(c));
		}
		h2_close(c);
		h2_result_free(&res1);
	} else if (v->leave == LEAVE_HTTP1) {
		int fd = tcp_connect(hrx);
		assert_true(fd >= 0);
		char head[256];
		int hl = snprintf(head, sizeof head,
		                  "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: "
		                  "application/x-protobuf\r\nContent-Length: %zu\r\n\r\n",
		                  n1);
		assert_true(write(fd, head, (size_t)hl) == hl);
		assert_true(write(fd, r1, n1) == (ssize_t)n1);
		assert_true(wait_metric(prom, v->held, v->held_value, 5000, v->held_exact));
		close(fd);
	} else {
		h2_conn_t *c = h2_connect(rx);
		assert_non_null(c);
		h2_result_t res1;
		memset(&res1, 0, sizeof res1);
		assert_true(h2_submit(c, NULL, TRACES, NULL, NULL, fr1, f1, &res1) > 0);
		/* It is held (attempted, failing: backend down). */
		h2_pump(c, 50);
		assert_true(wait_metric(prom, v->held, v->held_value, 5000, v->held_exact));
		h2_close(c);
		h2_result_free(&res1);
	}

	/* 2. grpc-timeout passes while the exporter retries. */
	size_t n2, f2;
	uint8_t *r2 = span_req("can-deadline", &n2);
	uint8_t *fr2 = grpc_frame(r2, n2, 0, &f2);
	const char *tmo[] = {"grpc-timeout", "300m", NULL};
	h2_result_t res2;
	memset(&res2, 0, sizeof res2);
	h2_unary(rx, TRACES, tmo, fr2, f2, &res2, 5000);
	assert_int_equal(res2.grpc_status, 4); /* DEADLINE_EXCEEDED */
	h2_result_free(&res2);

	/* The cancel is counted where it began and where it stopped a copy. */
	assert_true(wait_metric(prom, "otelcol_receiver_cancelled_spans", 1, 5000, false));
	assert_true(wait_metric(prom, v->cancelled, 1, 5000, false));
	assert_true(wait_metric(prom, "otelcol_exporter_queue_size", 0, 5000, true));

	/* 3. the backend comes up: a new span is delivered, the others never. */
	g_back_fd = listen_any(&back);
	assert_true(g_back_fd >= 0);
	pthread_t bt;
	pthread_create(&bt, NULL, back_main, NULL);
	size_t n3, f3;
	uint8_t *r3 = span_req("can-delivered", &n3);
	uint8_t *fr3 = grpc_frame(r3, n3, 0, &f3);
	h2_result_t res3;
	memset(&res3, 0, sizeof res3);
	h2_unary(rx, TRACES, NULL, fr3, f3, &res3, 10000);
	assert_int_equal(res3.grpc_status, 0);
	h2_result_free(&res3);
	assert_true(backend_has("can-delivered"));
	/* Nothing left that could still be sent later. */
	assert_true(wait_metric(prom, "otelcol_exporter_queue_size", 0, 5000, true));
	assert_false(backend_has("can-disconnected"));
	assert_false(backend_has("can-deadline"));

	kill(g_child, SIGTERM);
	int ws = 0;
	for (int i = 0; i < 200 && waitpid(g_child, &ws, WNOHANG) == 0; i++)
		usleep(50000);
	g_child = -1;
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 0);
	atomic_store(&g_back_stop, 1);
	pthread_join(bt, NULL);
	close(g_back_fd);
	free(r1), free(fr1), free(r2), free(fr2), free(r3), free(fr3);
	free(g_bodies);
	g_bodies = NULL;
	g_bodies_len = 0;
	g_back_fd = -1;
	atomic_store(&g_back_stop, 0);
	unlink(cfg);
	unlink(log);
	rmdir(d);
}

static void test_exporter_retry_stops(void **state)
{
	(void)state;
	variant_t v = {"",
	               "{enabled: true, initial_interval: 50ms, max_interval: 100ms, "
	               "max_elapsed_time: 0s}",
	               "otelcol_exporter_queue_size",
	               1,
	               true,
	               "otelcol_exporter_cancelled_spans"};
	run_variant(&v);
}

static void test_http_client_disconnect(void **state)
{
	(void)state;
	variant_t v = {"",
	               "{enabled: true, initial_interval: 50ms, max_interval: 100ms, "
	               "max_elapsed_time: 0s}",
	               "otelcol_exporter_queue_size",
	               1,
	               true,
	               "otelcol_exporter_cancelled_spans",
	               LEAVE_HTTP1};
	run_variant(&v);
}

/* OTLP/HTTP over HTTP/2 (h2c): the connection closes, or only the stream
 * is reset, while the exporter retries. Before, the HTTP/2 session freed
 * the stream without telling the receiver, and the span was delivered. */
static void test_http2_client_disconnect(void **state)
{
	(void)state;
	variant_t v = {"",
	               "{enabled: true, initial_interval: 50ms, max_interval: 100ms, "
	               "max_elapsed_time: 0s}",
	               "otelcol_exporter_queue_size",
	               1,
	               true,
	               "otelcol_exporter_cancelled_spans",
	               LEAVE_H2};
	run_variant(&v);
}

static void test_http2_stream_reset(void **state)
{
	(void)state;
	variant_t v = {"",
	               "{enabled: true, initial_interval: 50ms, max_interval: 100ms, "
	               "max_elapsed_time: 0s}",
	               "otelcol_exporter_queue_size",
	               1,
	               true,
	               "otelcol_exporter_cancelled_spans",
	               LEAVE_H2_RST};
	run_variant(&v);
}

static void test_retry_processor_stops(void **state)
{
	(void)state;
	variant_t v = {"processors: [retry],",
	               "{enabled: false}",
	               "otelcol_processor_retried_spans",
	               1,
	               false,
	               "otelcol_processor_cancelled_spans"};
	run_variant(&v);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_exporter_retry_stops, kill_child),
	    cmocka_unit_test_teardown(test_retry_processor_stops, kill_child),
	    cmocka_unit_test_teardown(test_http_client_disconnect, kill_child),
	    cmocka_unit_test_teardown(test_http2_client_disconnect, kill_child),
	    cmocka_unit_test_teardown(test_http2_stream_reset, kill_child),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
