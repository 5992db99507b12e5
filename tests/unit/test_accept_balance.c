/* Accept balance between workers (src/net/grpc_server.c, http_server.c,
 * net_listen.c):
 * every worker polls the one listening socket and the first loop to wake
 * accepts, so a burst of connections used to land mostly on one worker
 * (16 connections split about 2:1, 12:4 and worse seen). A loop with
 * more connections than another now lets the others accept first. Here
 * 12 connections open at once to an in-process engine with 2 workers
 * (hand-off off, so each request runs where its connection is); one call
 * on each then tells which worker has it: each worker must hold 6 +- 1.
 * The same for OTLP/HTTP (HTTP/1.1 keep-alive connections, one POST each). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "h2_client.h"
#include "worker_rec.h"
#include "otflow/alloc.h"
#include "otflow/config.h"
#include "otflow/err.h"
#include "otflow/service.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NCONN 12

static void test_burst_of_connections_split_evenly(void **state)
{
	(void)state;
	otf_wr_reset_seen();
	otf_wr_engine_t rn;
	otf_wr_engine_up(&rn, true);
	h2_conn_t *c[NCONN];
	for (int i = 0; i < NCONN; i++) { /* all at once, before any request */
		c[i] = h2_connect(rn.port);
		assert_non_null(c[i]);
	}
	static h2_result_t res[NCONN];
	uint8_t *frames[NCONN];
	for (int i = 0; i < NCONN; i++) {
		size_t ml, fl;
		uint8_t *msg = otf_wr_logs_request(i, "", &ml);
		frames[i] = grpc_frame(msg, ml, 0, &fl);
		free(msg);
		memset(&res[i], 0, sizeof res[i]);
		assert_true(h2_submit(c[i], NULL, otf_wr_logs_method, NULL, NULL, frames[i], fl,
		                      &res[i]) > 0);
	}
	for (int i = 0; i < NCONN; i++) {
		assert_int_equal(h2_run(c[i], 20000), 0);
		assert_int_equal(res[i].grpc_status, 0);
		h2_result_free(&res[i]);
		free(frames[i]);
		h2_close(c[i]);
	}
	otf_wr_engine_down(&rn);
	int per_worker[2] = {0, 0};
	assert_int_equal(otf_wr_nseen, NCONN);
	for (int s = 0; s < otf_wr_nseen; s++)
		per_worker[otf_wr_seen[s].worker]++;
	fprintf(stderr, "connections per worker: %d %d\n", per_worker[0], per_worker[1]);
	assert_in_range(per_worker[0], NCONN / 2 - 1, NCONN / 2 + 1);
	assert_in_range(per_worker[1], NCONN / 2 - 1, NCONN / 2 + 1);
	otf_wr_reset_seen();
}

/* One POST /v1/logs on an open keep-alive connection; the status code. */
static int http_post(int fd, const uint8_t *body, size_t len)
{
	char head[256];
	int hl = snprintf(head, sizeof head,
	                  "POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	                  "Content-Type: application/x-protobuf\r\nContent-Length: %zu\r\n\r\n",
	                  len);
	assert_int_equal(write(fd, head, (size_t)hl), hl);
	assert_int_equal(write(fd, body, len), (ssize_t)len);
	char resp[4096];
	size_t got = 0;
	while (got < sizeof resp - 1) { /* the status line is enough */
		ssize_t n = read(fd, resp + got, sizeof resp - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		resp[got] = 0;
		if (strstr(resp, "\r\n\r\n"))
			break;
	}
	int code = 0;
	if (sscanf(resp, "HTTP/1.1 %d", &code) != 1)
		return -1;
	return code;
}

static void test_http_burst_split_evenly(void **state)
{
	(void)state;
	otf_wr_reset_seen();
	otf_wr_engine_t rn;
	otf_wr_engine_up(&rn, true);
	int fd[NCONN];
	for (int i = 0; i < NCONN; i++) {
		fd[i] = tcp_connect(rn.http_port);
		assert_true(fd[i] >= 0);
	}
	for (int i = 0; i < NCONN; i++) {
		size_t ml;
		uint8_t *msg = otf_wr_logs_request(i, "", &ml);
		assert_int_equal(http_post(fd[i], msg, ml), 200);
		free(msg);
	}
	for (int i = 0; i < NCONN; i++)
		close(fd[i]);
	otf_wr_engine_down(&rn);
	int per_worker[2] = {0, 0};
	assert_int_equal(otf_wr_nseen, NCONN);
	for (int s = 0; s < otf_wr_nseen; s++)
		per_worker[otf_wr_seen[s].worker]++;
	fprintf(stderr, "HTTP connections per worker: %d %d\n", per_worker[0], per_worker[1]);
	assert_in_range(per_worker[0], NCONN / 2 - 1, NCONN / 2 + 1);
	assert_in_range(per_worker[1], NCONN / 2 - 1, NCONN / 2 + 1);
	otf_wr_reset_seen();
}

static int setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	setenv("OTFLOW_HANDOFF", "0", 1); /* each request where its connection is */
	otf_components_register_builtins();
	otf_wr_register();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_burst_of_connections_split_evenly),
	    cmocka_unit_test(test_http_burst_split_evenly),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
