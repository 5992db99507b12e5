/* The recording exporter and engine of the worker tests (worker_rec.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "worker_rec.h"

#include "h2_client.h"
#include "otflow/alloc.h"
#include "otflow/config.h"
#include "otflow/err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const char otf_wr_logs_method[] = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

/* ---- test_rec exporter: keeps each payload with the worker it ran on ---- */

pthread_mutex_t otf_wr_lock = PTHREAD_MUTEX_INITIALIZER;
otf_wr_seen_t otf_wr_seen[OTF_WR_SEEN_MAX];
int otf_wr_nseen;
_Atomic int otf_wr_held; /* messages held (HOLD) */
_Atomic int otf_wr_cancelled;

typedef struct rec {
	otf_node_t *node;
	otf_msg_t *held[OTF_WR_HOLD_MAX];
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
	pthread_mutex_lock(&otf_wr_lock);
	if (otf_wr_nseen < (int)(sizeof otf_wr_seen / sizeof otf_wr_seen[0])) {
		otf_wr_seen_t *s = &otf_wr_seen[otf_wr_nseen++];
		s->worker = otf_node_worker_index(r->node);
		s->deadline = otf_msg_deadline(m);
		s->data = malloc(b->len);
		memcpy(s->data, b->data, b->len);
		s->len = b->len;
	}
	pthread_mutex_unlock(&otf_wr_lock);
	if (contains(b, "NACKME"))
		otf_msg_nack(m, OTF_E_INVAL, true, "marked to fail");
	else if (contains(b, "HOLDME") && r->n_held < OTF_WR_HOLD_MAX) {
		r->held[r->n_held++] = m;
		atomic_fetch_add(&otf_wr_held, 1);
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
			atomic_fetch_add(&otf_wr_cancelled, 1);
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

int otf_wr_free_port(void)
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

/* ExportLogsServiceRequest: one resource, one scope, OTF_WR_NREC records whose
 * string bodies are "rec-RRR-II" plus mark. */
uint8_t *otf_wr_logs_request(int req, const char *mark, size_t *len)
{
	uint8_t recs[OTF_WR_NREC * 64], body[64], lr[80];
	size_t rl = 0;
	for (int i = 0; i < OTF_WR_NREC; i++) {
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

/* One start on fresh ports: 0, or the engine's error (a port taken since
 * otf_wr_free_port chose it: the caller tries again). */
static int engine_try(otf_wr_engine_t *rn, bool http)
{
	rn->port = otf_wr_free_port();
	rn->http_port = http ? otf_wr_free_port() : 0;
	char http_block[64] = "";
	if (http)
		snprintf(http_block, sizeof http_block, ", http: {endpoint: \"127.0.0.1:%d\"}",
		         rn->http_port);
	char yaml[1024];
	snprintf(yaml, sizeof yaml,
	         "receivers:\n"
	         "  otlp:\n"
	         "    wait_for_result: true\n"
	         "    protocols: {grpc: {endpoint: \"127.0.0.1:%d\"}%s}\n"
	         "exporters:\n"
	         "  test_rec:\n"
	         "service:\n"
	         "  telemetry: {metrics: {level: none}, logs: {level: warn}}\n"
	         "  pipelines:\n"
	         "    logs: {receivers: [otlp], exporters: [test_rec]}\n"
	         "runtime: {workers: 2}\n",
	         rn->port, http_block);
	otf_config_error_t err;
	assert_int_equal(
	    otf_config_load_string("handoff.yaml", yaml, strlen(yaml), NULL, &rn->cfg, &err), 0);
	otf_service_settings_t st;
	int rc = otf_service_build(rn->cfg, &rn->dag, &st, &err);
	if (rc)
		fprintf(stderr, "%s\n", err.text);
	assert_int_equal(rc, 0);
	rc = otf_engine_start(rn->dag, &st.runtime, &rn->eng);
	if (rc) {
		otf_dag_destroy(rn->dag);
		otf_config_destroy(rn->cfg);
	}
	return rc;
}

void otf_wr_engine_up(otf_wr_engine_t *rn, bool http)
{
	int rc = -1;
	for (int attempt = 1; attempt <= 3 && rc; attempt++) {
		rc = engine_try(rn, http);
		if (rc)
			fprintf(stderr, "engine start on ports %d/%d: %s (attempt %d)\n", rn->port,
			        rn->http_port, otf_strerror(rc), attempt);
	}
	assert_int_equal(rc, 0);
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

void otf_wr_engine_down(otf_wr_engine_t *rn)
{
	otf_engine_request_stop(rn->eng);
	assert_int_equal(otf_engine_join(rn->eng), 0);
	otf_dag_destroy(rn->dag);
	otf_config_destroy(rn->cfg);
}

void otf_wr_reset_seen(void)
{
	pthread_mutex_lock(&otf_wr_lock);
	for (int i = 0; i < otf_wr_nseen; i++)
		free(otf_wr_seen[i].data);
	otf_wr_nseen = 0;
	pthread_mutex_unlock(&otf_wr_lock);
}

void otf_wr_register(void)
{
	otf_component_register(&k_rec);
}
