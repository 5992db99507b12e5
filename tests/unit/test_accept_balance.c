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

#define NREQ  48
#define NREC  20
#define NCONN 12

static const char k_logs[] = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

/* ---- test_rec exporter: keeps each payload with the worker it ran on ---- */

typedef struct seen {
	int worker;
	uint64_t deadline; /* the message's, unix ns */
	uint8_t *data;
	size_t len;
} seen_t;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static seen_t g_seen[4 * NREQ];
static int g_nseen;
static _Atomic int g_held; /* messages held (HOLD) */
static _Atomic int g_cancelled;

typedef struct rec {
	otf_node_t *node;
	otf_msg_t *held[NREQ];
	int n_held;
} rec_t;

static int rec_create(const otf_create_ctx_t *ctx, void **inst)
{
	if (!*inst) {
		rec_t *r = otf_calloc(1, sizeof *r);
		r->node = ctx->node;
		*inst = r;
	}
	return 0;
}

static bool contains(const otf_buf_t *b, const char *s)
{
	return memmem(b->data, b->len, s, strlen(s)) != NULL;
}

static void rec_consume(void *inst, otf_msg_t *m)
{
	rec_t *r = inst;
	otf_buf_t *b = otf_msg_payload(m);
	pthread_mutex_lock(&g_lock);
	if (g_nseen < (int)(sizeof g_seen / sizeof g_seen[0])) {
		seen_t *s = &g_seen[g_nseen++];
		s->worker = otf_node_worker_index(r->node);
		s->deadline = otf_msg_deadline(m);
		s->data = malloc(b->len);
		memcpy(s->data, b->data, b->len);
		s->len = b->len;
	}
	pthread_mutex_unlock(&g_lock);
	if (contains(b, "NACKME"))
		otf_msg_nack(m, OTF_E_INVAL, true, "marked to fail");
	else if (contains(b, "HOLDME") && r->n_held < NREQ) {
		r->held[r->n_held++] = m;
		atomic_fetch_add(&g_held, 1);
	} else
		otf_msg_ack(m);
}

static void rec_control(void *inst, const otf_ctrl_t *c)
{
	rec_t *r = inst;
	if (c->type == OTF_CTRL_CAN) {
		for (int i = 0; i < r->n_held; i++) {
			if (otf_msg_id(r->held[i]) != c->msg_id)
				continue;
			otf_msg_nack(r->held[i], -ECANCELED, true, "cancelled");
			r->held[i] = r->held[--r->n_held];
			atomic_fetch_add(&g_cancelled, 1);
			break;
		}
		return;
	}
	if (c->type != OTF_CTRL_KIL)
		return;
	for (int i = 0; i < r->n_held; i++)
		otf_msg_ack(r->held[i]);
	r->n_held = 0;
	otf_node_shutdown_done(r->node);
}

static void rec_destroy(void *inst)
{
	otf_free(inst);
}

static const otf_component_factory_t k_rec = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXPORTER,
    .type = "test_rec",
    .description = "test exporter: records the worker of each request",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .create = {rec_create, rec_create, rec_create},
    .consume = {rec_consume, rec_consume, rec_consume},
    .control = rec_control,
    .destroy = rec_destroy,
};

/* ---- test utilities ---- */

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t l = sizeof a;
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	getsockname(fd, (struct sockaddr *)&a, &l);
	close(fd);
	return ntohs(a.sin_port);
}

static size_t put_len(uint8_t *p, uint32_t tag, size_t len)
{
	size_t n = 0;
	p[n++] = (uint8_t)tag;
	while (len >= 0x80) {
		p[n++] = (uint8_t)(len | 0x80);
		len >>= 7;
	}
	p[n++] = (uint8_t)len;
	return n;
}

/* ExportLogsServiceRequest: one resource, one scope, NREC records whose
 * string bodies are "rec-RRR-II" plus mark. */
static uint8_t *logs_request(int req, const char *mark, size_t *len)
{
	uint8_t recs[NREC * 64], body[64], lr[80];
	size_t rl = 0;
	for (int i = 0; i < NREC; i++) {
		char text[40];
		int tl = snprintf(text, sizeof text, "rec-%03d-%02d%s", req, i, mark);
		size_t bl = put_len(body, 0x0a, (size_t)tl); /* AnyValue.string_value */
		memcpy(body + bl, text, (size_t)tl);
		bl += (size_t)tl;
		size_t ll = put_len(lr, 0x2a, bl); /* LogRecord.body */
		memcpy(lr + ll, body, bl);
		ll += bl;
		rl += put_len(recs + rl, 0x12, ll); /* ScopeLogs.log_records */
		memcpy(recs + rl, lr, ll);
		rl += ll;
	}
	uint8_t *sl = malloc(rl + 16), *rs = malloc(rl + 32), *out = malloc(rl + 48);
	size_t sn = put_len(sl, 0x12, rl); /* ResourceLogs.scope_logs */
	memcpy(sl + sn, recs, rl);
	sn += rl;
	size_t rn = put_len(rs, 0x0a, sn); /* ExportLogsServiceRequest.resource_logs */
	memcpy(rs + rn, sl, sn);
	rn += sn;
	free(sl);
	memcpy(out, rs, rn);
	free(rs);
	*len = rn;
	return out;
}

typedef struct running {
	otf_config_t *cfg;
	otf_dag_t *dag;
	otf_engine_t *eng;
	int port, http_port;
} running_t;

static void engine_up(running_t *rn)
{
	rn->port = free_port();
	rn->http_port = free_port();
	char yaml[1024];
	snprintf(yaml, sizeof yaml,
	         "receivers:\n"
	         "  otlp:\n"
	         "    wait_for_result: true\n"
	         "    protocols: {grpc: {endpoint: \"127.0.0.1:%d\"},\n"
	         "                http: {endpoint: \"127.0.0.1:%d\"}}\n"
	         "exporters:\n"
	         "  test_rec:\n"
	         "service:\n"
	         "  telemetry: {metrics: {level: none}, logs: {level: warn}}\n"
	         "  pipelines:\n"
	         "    logs: {receivers: [otlp], exporters: [test_rec]}\n"
	         "runtime: {workers: 2}\n",
	         rn->port, rn->http_port);
	otf_config_error_t err;
	assert_int_equal(
	    otf_config_load_string("handoff.yaml", yaml, strlen(yaml), NULL, &rn->cfg, &err), 0);
	otf_service_settings_t st;
	int rc = otf_service_build(rn->cfg, &rn->dag, &st, &err);
	if (rc)
		fprintf(stderr, "%s\n", err.text);
	assert_int_equal(rc, 0);
	assert_int_equal(otf_engine_start(rn->dag, &st.runtime, &rn->eng), 0);
	for (int i = 0; i < 200; i++) {
		int fd = tcp_connect(rn->port);
		if (fd >= 0) {
			close(fd);
			return;
		}
		usleep(10000);
	}
	fail_msg("receiver did not come up");
}

static void engine_down(running_t *rn)
{
	otf_engine_request_stop(rn->eng);
	assert_int_equal(otf_engine_join(rn->eng), 0);
	otf_dag_destroy(rn->dag);
	otf_config_destroy(rn->cfg);
}

static void reset_seen(void)
{
	pthread_mutex_lock(&g_lock);
	for (int i = 0; i < g_nseen; i++)
		free(g_seen[i].data);
	g_nseen = 0;
	pthread_mutex_unlock(&g_lock);
}

static void test_burst_of_connections_split_evenly(void **state)
{
	(void)state;
	reset_seen();
	running_t rn;
	engine_up(&rn);
	h2_conn_t *c[NCONN];
	for (int i = 0; i < NCONN; i++) { /* all at once, before any request */
		c[i] = h2_connect(rn.port);
		assert_non_null(c[i]);
	}
	static h2_result_t res[NCONN];
	uint8_t *frames[NCONN];
	for (int i = 0; i < NCONN; i++) {
		size_t ml, fl;
		uint8_t *msg = logs_request(i, "", &ml);
		frames[i] = grpc_frame(msg, ml, 0, &fl);
		free(msg);
		memset(&res[i], 0, sizeof res[i]);
		assert_true(h2_submit(c[i], NULL, k_logs, NULL, NULL, frames[i], fl, &res[i]) > 0);
	}
	for (int i = 0; i < NCONN; i++) {
		assert_int_equal(h2_run(c[i], 20000), 0);
		assert_int_equal(res[i].grpc_status, 0);
		h2_result_free(&res[i]);
		free(frames[i]);
		h2_close(c[i]);
	}
	engine_down(&rn);
	int per_worker[2] = {0, 0};
	assert_int_equal(g_nseen, NCONN);
	for (int s = 0; s < g_nseen; s++)
		per_worker[g_seen[s].worker]++;
	fprintf(stderr, "connections per worker: %d %d\n", per_worker[0], per_worker[1]);
	assert_in_range(per_worker[0], NCONN / 2 - 1, NCONN / 2 + 1);
	assert_in_range(per_worker[1], NCONN / 2 - 1, NCONN / 2 + 1);
	reset_seen();
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
	reset_seen();
	running_t rn;
	engine_up(&rn);
	int fd[NCONN];
	for (int i = 0; i < NCONN; i++) {
		fd[i] = tcp_connect(rn.http_port);
		assert_true(fd[i] >= 0);
	}
	for (int i = 0; i < NCONN; i++) {
		size_t ml;
		uint8_t *msg = logs_request(i, "", &ml);
		assert_int_equal(http_post(fd[i], msg, ml), 200);
		free(msg);
	}
	for (int i = 0; i < NCONN; i++)
		close(fd[i]);
	engine_down(&rn);
	int per_worker[2] = {0, 0};
	assert_int_equal(g_nseen, NCONN);
	for (int s = 0; s < g_nseen; s++)
		per_worker[g_seen[s].worker]++;
	fprintf(stderr, "HTTP connections per worker: %d %d\n", per_worker[0], per_worker[1]);
	assert_in_range(per_worker[0], NCONN / 2 - 1, NCONN / 2 + 1);
	assert_in_range(per_worker[1], NCONN / 2 - 1, NCONN / 2 + 1);
	reset_seen();
}

static int setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	setenv("OTFLOW_HANDOFF", "0", 1); /* each request where its connection is */
	otf_components_register_builtins();
	otf_component_register(&k_rec);
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
