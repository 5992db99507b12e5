/* otflow run and signals, with the real binary ($OTF_BIN) and real sockets:
 * a second SIGTERM while the engine drains must not kill the process; the
 * drain ends at runtime.shutdown_timeout and the process exits 0.
 *
 * The drain is kept busy by an otlphttp exporter whose endpoint is a
 * listening socket that never answers (the kernel completes the TCP
 * handshake from the backlog), so the request stays in flight. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A loopback listening socket on a free port. */
static int listen_any(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 16) ||
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

static int connect_to(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons(port),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

/* ExportTraceServiceRequest with one span named "x". */
static const unsigned char k_req[] = {
    0x0a, 0x23, 0x12, 0x21, 0x12, 0x1f, 0x0a, 0x10, 1, 2, 3, 4, 5, 6, 7, 8,    9,    10, 11,
    12,   13,   14,   15,   16,   0x12, 0x08, 1,    2, 3, 4, 5, 6, 7, 8, 0x2a, 0x01, 'x'};

static pid_t g_child = -1;

/* Runs after a failed test too: never leave otflow behind. */
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

static void test_second_sigterm_while_draining(void **state)
{
	(void)state;
	const char *bin = getenv("OTF_BIN");
	if (!bin)
		skip();
	const char *tmpdir = getenv("TMPDIR");
	char dbuf[512];
	snprintf(dbuf, sizeof dbuf, "%s/otf-signals-XXXXXX", tmpdir ? tmpdir : "/tmp");
	char *d = mkdtemp(dbuf);
	assert_non_null(d);
	uint16_t hole_port, recv_port = free_port();
	int hole = listen_any(&hole_port);
	assert_true(hole >= 0);
	char cfg[600], log[600];
	snprintf(cfg, sizeof cfg, "%s/otflow.yaml", d);
	snprintf(log, sizeof log, "%s/otflow.log", d);
	FILE *f = fopen(cfg, "w");
	assert_non_null(f);
	fprintf(f,
	        "receivers:\n"
	        "  otlp:\n"
	        "    wait_for_result: false\n"
	        "    protocols: {http: {endpoint: 127.0.0.1:%u}}\n"
	        "exporters:\n"
	        "  otlphttp:\n"
	        "    endpoint: http://127.0.0.1:%u\n"
	        "    timeout: 60s\n"
	        "    retry_on_failure: {enabled: false}\n"
	        "service:\n"
	        "  telemetry: {metrics: {level: none}}\n"
	        "  pipelines: {traces: {receivers: [otlp], exporters: [otlphttp]}}\n"
	        "runtime: {workers: 1, shutdown_timeout: 2s}\n",
	        recv_port, hole_port);
	fclose(f);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		FILE *lf = freopen(log, "w", stderr);
		(void)lf;
		execl(bin, bin, "--config", cfg, (char *)NULL);
		_exit(127);
	}
	g_child = pid;
	int c = -1;
	for (int i = 0; i < 500 && c < 0; i++) {
		c = connect_to(recv_port);
		if (c < 0)
			usleep(10000);
	}
	assert_true(c >= 0);
	char head[256];
	int hl = snprintf(head, sizeof head,
	                  "POST /v1/traces HTTP/1.1\r\nHost: x\r\n"
	                  "Content-Type: application/x-protobuf\r\nContent-Length: %zu\r\n\r\n",
	                  sizeof k_req);
	assert_int_equal(write(c, head, (size_t)hl), hl);
	assert_int_equal(write(c, k_req, sizeof k_req), (ssize_t)sizeof k_req);
	/* The exporter's request reaches the socket that never answers. */
	struct pollfd p = {.fd = hole, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 10000), 1);
	int held = accept(hole, NULL, NULL);
	assert_true(held >= 0);
	char buf[4096];
	assert_true(read(held, buf, sizeof buf) > 0);

	uint64_t t0 = now_ms();
	assert_int_equal(kill(pid, SIGTERM), 0);
	usleep(300000);
	assert_int_equal(kill(pid, SIGTERM), 0); /* during the drain */
	usleep(100000);
	assert_int_equal(kill(pid, SIGINT), 0);
	int status = 0;
	pid_t r = 0;
	for (int i = 0; i < 1000 && r == 0; i++) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == 0)
			usleep(10000);
	}
	if (r == 0)
		fail_msg("otflow did not exit within 10 s");
	g_child = -1;
	uint64_t took = now_ms() - t0;
	close(c);
	close(held);
	close(hole);
	char cmd[700];
	snprintf(cmd, sizeof cmd, "cat '%s' >&2", log);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (system(cmd) < 0)
			perror("system");
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(took >= 1500); /* it drained until the deadline */
	unlink(cfg);
	unlink(log);
	rmdir(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_second_sigterm_while_draining, kill_child),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
