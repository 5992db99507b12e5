/* Requests of one gRPC connection handed between workers at the message
 * boundary (src/engine/handoff.c, the otlp receiver's hand-off): a real
 * HTTP/2 client sends 48 concurrent Export calls on ONE connection to an
 * in-process engine with 2 workers and wait_for_result; a test exporter
 * records which worker each request reached and nacks those marked so.
 * With OTFLOW_HANDOFF=always the requests must run on both workers, every
 * record arrive exactly once, and each stream get its own request's
 * answer (OK, or INVALID_ARGUMENT with the exporter's reason), and each
 * message carry its call's grpc-timeout as its deadline. A second
 * case holds requests on the peer and resets the client's connection: the
 * peer's messages must be cancelled (CAN travels to the worker that has
 * them). */
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

#define NREQ 48
#define NREC 20

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
	int port;
} running_t;

static void engine_up(running_t *rn)
{
	rn->port = free_port();
	char yaml[1024];
	snprintf(yaml, sizeof yaml,
	         "receivers:\n"
	         "  otlp:\n"
	         "    wait_for_result: true\n"
	         "    protocols: {grpc: {endpoint: \"127.0.0.1:%d\"}}\n"
	         "exporters:\n"
	         "  test_rec:\n"
	         "service:\n"
	         "  telemetry: {metrics: {level: none}, logs: {level: warn}}\n"
	         "  pipelines:\n"
	         "    logs: {receivers: [otlp], exporters: [test_rec]}\n"
	         "runtime: {workers: 2}\n",
	         rn->port);
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

/* 48 calls on one connection, every 4th marked to be nacked: each stream
 * gets its own answer, each record arrives once, both workers ran some. */
static void test_one_connection_both_workers(void **state)
{
	(void)state;
	reset_seen();
	running_t rn;
	engine_up(&rn);
	h2_conn_t *c = h2_connect(rn.port);
	assert_non_null(c);
	static h2_result_t res[NREQ];
	uint8_t *frames[NREQ];
	for (int i = 0; i < NREQ; i++) {
		size_t ml, fl;
		uint8_t *msg = logs_request(i, i % 4 == 3 ? "NACKME" : "", &ml);
		frames[i] = grpc_frame(msg, ml, 0, &fl);
		free(msg);
		memset(&res[i], 0, sizeof res[i]);
		/* The call's deadline must travel with the request. */
		static const char *const timeout[] = {"grpc-timeout", "30S", NULL};
		assert_true(h2_submit(c, NULL, k_logs, NULL, timeout, frames[i], fl, &res[i]) > 0);
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	assert_int_equal(h2_run(c, 20000), 0);
	for (int i = 0; i < NREQ; i++) {
		assert_int_equal(res[i].http_status, 200);
		if (i % 4 == 3) {
			assert_int_equal(res[i].grpc_status, 3); /* INVALID_ARGUMENT */
			assert_non_null(strstr(res[i].grpc_message, "marked to fail"));
		} else {
			assert_int_equal(res[i].grpc_status, 0);
		}
		h2_result_free(&res[i]);
		free(frames[i]);
	}
	h2_close(c);
	engine_down(&rn);
	/* Exactly once: each record in exactly one delivered request. */
	int per_worker[2] = {0, 0};
	assert_int_equal(g_nseen, NREQ);
	for (int s = 0; s < g_nseen; s++) {
		assert_in_range(g_seen[s].worker, 0, 1);
		assert_in_range(g_seen[s].deadline, now + 25000000000ull, now + 31000000000ull);
		per_worker[g_seen[s].worker]++;
	}
	for (int i = 0; i < NREQ; i++)
		for (int k = 0; k < NREC; k++) {
			char text[40];
			snprintf(text, sizeof text, "rec-%03d-%02d", i, k);
			int found = 0;
			for (int s = 0; s < g_nseen; s++)
				if (memmem(g_seen[s].data, g_seen[s].len, text, strlen(text)))
					found++;
			if (found != 1)
				fail_msg("record %s delivered %d times", text, found);
		}
	fprintf(stderr, "requests per worker: %d %d\n", per_worker[0], per_worker[1]);
	assert_true(per_worker[0] > 0);
	assert_true(per_worker[1] > 0);
	reset_seen();
}

/* CAN across the hand-off: requests held downstream on both workers,
 * then the client leaves; every held message is cancelled, including
 * those on the worker that does not own the connection. */
static void test_cancel_reaches_peer(void **state)
{
	(void)state;
	reset_seen();
	running_t rn;
	engine_up(&rn);
	atomic_store(&g_held, 0);
	atomic_store(&g_cancelled, 0);
	h2_conn_t *c = h2_connect(rn.port);
	assert_non_null(c);
	enum { N = 8 };
	static h2_result_t res[N];
	uint8_t *frames[N];
	for (int i = 0; i < N; i++) {
		size_t ml, fl;
		uint8_t *msg = logs_request(100 + i, "HOLDME", &ml);
		frames[i] = grpc_frame(msg, ml, 0, &fl);
		free(msg);
		memset(&res[i], 0, sizeof res[i]);
		assert_true(h2_submit(c, NULL, k_logs, NULL, NULL, frames[i], fl, &res[i]) > 0);
	}
	for (int t = 0; t < 1000 && atomic_load(&g_held) < N; t++)
		h2_pump(c, 10);
	if (atomic_load(&g_held) != N)
		fail_msg("only %d of %d requests reached the exporter", atomic_load(&g_held), N);
	int workers_seen[2] = {0, 0};
	pthread_mutex_lock(&g_lock);
	for (int s = 0; s < g_nseen; s++)
		workers_seen[g_seen[s].worker] = 1;
	pthread_mutex_unlock(&g_lock);
	assert_true(workers_seen[0] && workers_seen[1]);
	h2_close(c); /* the client leaves: every call is gone */
	for (int t = 0; t < 500 && atomic_load(&g_cancelled) < N; t++)
		usleep(10000);
	if (atomic_load(&g_cancelled) != N)
		fail_msg("%d of %d held requests cancelled", atomic_load(&g_cancelled), N);
	for (int i = 0; i < N; i++) {
		h2_result_free(&res[i]);
		free(frames[i]);
	}
	engine_down(&rn);
	reset_seen();
}

static int setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	/* Round robin over the workers whatever their load, so that the
	 * spread does not depend on this machine's speed. */
	setenv("OTFLOW_HANDOFF", "always", 1);
	otf_components_register_builtins();
	otf_component_register(&k_rec);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_connection_both_workers),
	    cmocka_unit_test(test_cancel_reaches_peer),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
