/* Echo servers on a loop thread and socket helpers of the server tests
 * (net_srv.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "net_srv.h"

#include "net/net_internal.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

/* The loop's connection record of each server kind (its buffer pool). */
#include "net/grpc_internal.h"
#include "net/http_internal.h"

static void grpc_echo(otf_grpc_call_t *call, void *ctx)
{
	(void)ctx;
	otf_buf_t *b = otf_grpc_call_message(call);
	assert_int_equal(otf_grpc_respond(call, b->data, b->len), 0);
}

static void http_echo(otf_http_request_t *req, void *ctx)
{
	ns_srv_t *v = ctx;
	otf_buf_t *b = otf_http_request_body(req);
	if (b && (b->flags & OTF_BUF_POOLED))
		atomic_fetch_add(&v->pooled, 1);
	otf_http_respond(req, 200, "application/octet-stream", b ? b->data : NULL, b ? b->len : 0,
	                 NULL, 0);
}

static void on_closed(void *arg)
{
	atomic_store(&((ns_srv_t *)arg)->closed, 1);
}

static void on_stop(uv_async_t *a)
{
	ns_srv_t *v = a->data;
	if (v->grpc)
		otf_grpc_server_close(v->grpc, on_closed, v);
	else
		otf_http_server_close(v->http, on_closed, v);
	uv_close((uv_handle_t *)a, NULL);
}

static void *loop_main(void *arg)
{
	ns_srv_t *v = arg;
	uv_run(&v->loop, UV_RUN_DEFAULT);
	return NULL;
}

static void run(ns_srv_t *v)
{
	assert_true(v->port > 0);
	assert_int_equal(uv_async_init(&v->loop, &v->stop, on_stop), 0);
	v->stop.data = v;
	assert_int_equal(pthread_create(&v->th, NULL, loop_main, v), 0);
}

ns_srv_t *ns_grpc_start(const otf_grpc_server_config_t *cfg)
{
	ns_srv_t *v = calloc(1, sizeof *v);
	assert_non_null(v);
	assert_int_equal(uv_loop_init(&v->loop), 0);
	otf_grpc_server_config_t c = *cfg;
	c.host = "127.0.0.1";
	c.port = 0;
	assert_int_equal(otf_grpc_server_create(&v->loop, &c, grpc_echo, NULL, &v->grpc), 0);
	v->port = otf_grpc_server_bound_port(v->grpc);
	run(v);
	return v;
}

ns_srv_t *ns_http_start(const otf_http_server_config_t *cfg)
{
	ns_srv_t *v = calloc(1, sizeof *v);
	assert_non_null(v);
	assert_int_equal(uv_loop_init(&v->loop), 0);
	otf_http_server_config_t c = *cfg;
	c.host = "127.0.0.1";
	c.port = 0;
	assert_int_equal(otf_http_server_create(&v->loop, &c, http_echo, v, &v->http), 0);
	v->port = otf_http_server_bound_port(v->http);
	run(v);
	return v;
}

void ns_stop(ns_srv_t *v)
{
	uv_async_send(&v->stop);
	pthread_join(v->th, NULL);
	assert_true(atomic_load(&v->closed));
	assert_int_equal(uv_loop_close(&v->loop), 0);
	free(v);
}

otf_bufpool_stats_t ns_pool_stats(ns_srv_t *v)
{
	otf_bufpool_stats_t st;
	otf_bufpool_stats(otf__net_conns_pool(v->grpc ? v->grpc->reg : v->http->reg), &st);
	return st;
}

/* The bound of the waits below: generous, since a loaded machine (or
 * ASan) may not run the server's thread for a while; a pass returns at
 * once. */
#define WAIT_MS 10000

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000 * 1000};
	nanosleep(&ts, NULL);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int find_server_fd(int port)
{
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	int found = -1;
	struct dirent *e;
	while ((e = readdir(d)) && found < 0) {
		int fd = atoi(e->d_name);
		struct sockaddr_in a, p;
		socklen_t al = sizeof a, pl = sizeof p;
		if (fd <= 2 || getsockname(fd, (struct sockaddr *)&a, &al) < 0 ||
		    a.sin_family != AF_INET || ntohs(a.sin_port) != port ||
		    getpeername(fd, (struct sockaddr *)&p, &pl) < 0)
			continue;
		found = fd;
	}
	closedir(d);
	return found;
}

int ns_server_side_fd(int port)
{
	for (int64_t end = now_ms() + WAIT_MS; now_ms() < end;) {
		int fd = find_server_fd(port);
		if (fd >= 0)
			return fd;
		sleep_ms(1);
	}
	fail_msg("the server did not accept the connection to port %d within %d ms", port, WAIT_MS);
	return -1;
}

void ns_wait_read(int fd)
{
	int q = -1;
	for (int64_t end = now_ms() + WAIT_MS; now_ms() < end;) {
		if (ioctl(fd, FIONREAD, &q) == 0 && q == 0)
			return;
		sleep_ms(1);
	}
	fail_msg("the server did not read the bytes sent within %d ms (%d still queued)", WAIT_MS,
	         q);
}

uint8_t *ns_pattern(size_t n, unsigned seed)
{
	uint8_t *p = malloc(n ? n : 1);
	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + i / 251 + seed);
	return p;
}
