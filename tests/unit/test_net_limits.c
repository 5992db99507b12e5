/* Connection cap per loop (otflow/net.h) over real sockets on 127.0.0.1:
 * the cap formula from the open-file limit; at the cap the connection idle
 * the longest is evicted, not the most recently active one; while every
 * connection is busy the listener pauses, and the waiting client is served
 * once one becomes idle. The server's loop runs in a second thread. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otflow/alloc.h"
#include "otflow/http_server.h"
#include "otflow/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct fixture {
	uv_loop_t loop;
	uv_async_t stop, release;
	uv_thread_t thread;
	otf_http_server_t *srv;
	int port;
	otf_http_request_t *held; /* a /hold request, answered on release */
	atomic_int holding;
	atomic_int closed;
} fixture_t;

static void respond_ok(otf_http_request_t *req)
{
	otf_http_respond(req, 200, "text/plain", "ok", 2, NULL, 0);
}

static void handler(otf_http_request_t *req, void *ctx)
{
	fixture_t *fx = ctx;
	otf_http_str_t p = otf_http_request_path(req);
	if (p.len == 5 && !memcmp(p.ptr, "/hold", 5)) {
		fx->held = req;
		atomic_store(&fx->holding, 1);
		return;
	}
	respond_ok(req);
}

static void on_release(uv_async_t *a)
{
	fixture_t *fx = a->data;
	if (fx->held)
		respond_ok(fx->held);
	fx->held = NULL;
}

static void on_closed(void *arg)
{
	atomic_store(&((fixture_t *)arg)->closed, 1);
}

static void on_stop(uv_async_t *a)
{
	fixture_t *fx = a->data;
	otf_http_server_close(fx->srv, on_closed, fx);
	uv_close((uv_handle_t *)&fx->stop, NULL);
	uv_close((uv_handle_t *)&fx->release, NULL);
}

static void loop_thread(void *arg)
{
	uv_run(&((fixture_t *)arg)->loop, UV_RUN_DEFAULT);
}

static fixture_t *start(uint32_t cap)
{
	otf_net_set_loop_connection_cap(cap);
	fixture_t *fx = calloc(1, sizeof *fx);
	otf_http_server_config_t cfg = {.host = "127.0.0.1"};
	assert_int_equal(uv_loop_init(&fx->loop), 0);
	assert_int_equal(otf_http_server_create(&fx->loop, &cfg, handler, fx, &fx->srv), 0);
	fx->port = otf_http_server_bound_port(fx->srv);
	fx->stop.data = fx->release.data = fx;
	uv_async_init(&fx->loop, &fx->stop, on_stop);
	uv_async_init(&fx->loop, &fx->release, on_release);
	assert_int_equal(uv_thread_create(&fx->thread, loop_thread, fx), 0);
	return fx;
}

static void stop(fixture_t *fx)
{
	uv_async_send(&fx->stop);
	uv_thread_join(&fx->thread);
	assert_int_equal(atomic_load(&fx->closed), 1);
	assert_int_equal(uv_loop_close(&fx->loop), 0);
	free(fx);
	otf_net_set_loop_connection_cap(0);
}

static int cli_connect(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	return fd;
}

static void cli_get(int fd, const char *path)
{
	char req[256];
	int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
	assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
}

/* What arrives on fd within ms: 1 = a 200 response (headers + "ok"), 0 =
 * end of stream or reset, -1 = nothing. */
static int cli_wait(int fd, int ms)
{
	char buf[1024];
	size_t len = 0;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, ms) <= 0)
			return -1;
		ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
		if (n <= 0)
			return 0;
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\nok"))
			return strncmp(buf, "HTTP/1.1 200", 12) == 0 ? 1 : -1;
	}
}

static void test_cap_from_nofile(void **state)
{
	(void)state;
	/* 256 descriptors, 2 workers + the admin loop */
	assert_int_equal(otf_net_connection_cap(256, 3, 0), (256 - 64 - 16) / 3);
	assert_int_equal(otf_net_connection_cap(1024, 3, 0), (1024 - 64 - 64) / 3);
	/* runtime.max_connections lowers it, never raises it */
	assert_int_equal(otf_net_connection_cap(1024, 3, 30), 10);
	assert_int_equal(otf_net_connection_cap(256, 3, 100000), (256 - 64 - 16) / 3);
	/* at least one per loop; a high limit alone gives the default ceiling,
	 * a configured total may go past it, within the limit */
	assert_int_equal(otf_net_connection_cap(50, 3, 0), 1);
	assert_int_equal(otf_net_connection_cap(1048576, 3, 0), OTF_NET_DEFAULT_LOOP_CONNECTIONS);
	assert_int_equal(otf_net_connection_cap(1048576, 3, 30000), 10000);
	assert_true(otf_net_connection_cap(UINT64_MAX, 1, UINT32_MAX) < UINT32_MAX);
}

/* Cap 2: A and B served, then A active again; C arrives and evicts B (idle
 * the longest), not A; C and A are served. */
static void test_evicts_idle_longest(void **state)
{
	(void)state;
	fixture_t *fx = start(2);
	int a = cli_connect(fx->port), b = cli_connect(fx->port);
	cli_get(a, "/a");
	assert_int_equal(cli_wait(a, 5000), 1);
	cli_get(b, "/b");
	assert_int_equal(cli_wait(b, 5000), 1);
	cli_get(a, "/a2");
	assert_int_equal(cli_wait(a, 5000), 1);
	int c = cli_connect(fx->port);
	cli_get(c, "/c");
	assert_int_equal(cli_wait(c, 5000), 1);
	assert_int_equal(cli_wait(b, 5000), 0); /* closed by the server */
	cli_get(a, "/a3");
	assert_int_equal(cli_wait(a, 5000), 1);
	close(a);
	close(b);
	close(c);
	stop(fx);
}

/* Cap 1 and the only connection busy (its request with the handler):
 * a new client waits (accept paused, nothing closed); once the busy one
 * is answered it is idle, gets evicted, and the new client is served. */
static void test_pauses_while_all_busy(void **state)
{
	(void)state;
	fixture_t *fx = start(1);
	int a = cli_connect(fx->port);
	cli_get(a, "/hold");
	for (int i = 0; i < 5000 && !atomic_load(&fx->holding); i++)
		usleep(1000);
	assert_true(atomic_load(&fx->holding));
	int b = cli_connect(fx->port); /* the kernel's backlog takes it */
	cli_get(b, "/b");
	assert_int_equal(cli_wait(b, 300), -1); /* not served, not closed */
	uv_async_send(&fx->release);
	assert_int_equal(cli_wait(a, 5000), 1);
	assert_int_equal(cli_wait(b, 5000), 1);
	assert_int_equal(cli_wait(a, 5000), 0); /* evicted for b */
	close(a);
	close(b);
	stop(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cap_from_nofile),
	    cmocka_unit_test(test_evicts_idle_longest),
	    cmocka_unit_test(test_pauses_while_all_busy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
