/* processor memory_limiter, engine-level: a test source sends a request
 * every few milliseconds through memory_limiter into a test sink, with a
 * low limit (8 MiB, soft 6 MiB) on otflow's counted heap. The test drives
 * memory use with its own counted allocations: above the soft limit data
 * is refused (retryable OTF_E_NOMEM nack with a "memory limit" reason), the
 * admission flag is up and the real OTLP/HTTP receiver answers 503 with
 * Retry-After before reading the request; after the block is freed data is
 * accepted again. Also the Collector's config validation rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otflow/alloc.h"
#include "otflow/config.h"
#include "otflow/err.h"
#include "otflow/service.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct {
	pthread_mutex_t mu;
	int acked, nacked, sunk;
	int nack_error;
	bool nack_permanent;
	char reason[160];
} g = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void counts(int *acked, int *nacked)
{
	pthread_mutex_lock(&g.mu);
	*acked = g.acked;
	*nacked = g.nacked;
	pthread_mutex_unlock(&g.mu);
}

static void zero(void)
{
	pthread_mutex_lock(&g.mu);
	g.acked = g.nacked = g.sunk = 0;
	g.reason[0] = 0;
	pthread_mutex_unlock(&g.mu);
}

typedef struct tnode {
	otf_node_t *node;
} tnode_t;

static int t_create(const otf_create_ctx_t *ctx, void **inst)
{
	if (!*inst) {
		tnode_t *t = otf_calloc(1, sizeof *t);
		t->node = ctx->node;
		*inst = t;
	}
	return 0;
}

static void t_destroy(void *inst)
{
	otf_free(inst);
}

static int src_start(void *inst)
{
	tnode_t *t = inst;
	otf_node_timer_start(t->node, 2, 2, 1);
	return 0;
}

/* A tiny valid logs request: one resource group, empty. */
static const uint8_t k_req[] = {0x0a, 0x00};

static void src_control(void *inst, const otf_ctrl_t *c)
{
	tnode_t *t = inst;
	if (c->type == OTF_CTRL_TMR) {
		otf_msg_t *m = otf_msg_create(t->node, OTF_SIGNAL_LOGS,
		                              otf_buf_create_copy(k_req, sizeof k_req), 0);
		otf_msg_subscribe(m, t->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK, 0);
		if (otf_node_send(t->node, m))
			otf_msg_drop(m);
	} else if (c->type == OTF_CTRL_ACK || c->type == OTF_CTRL_NACK) {
		pthread_mutex_lock(&g.mu);
		if (c->type == OTF_CTRL_ACK) {
			g.acked++;
		} else {
			g.nacked++;
			g.nack_error = c->error;
			g.nack_permanent = c->permanent;
			snprintf(g.reason, sizeof g.reason, "%s", c->reason);
		}
		pthread_mutex_unlock(&g.mu);
	} else if (c->type == OTF_CTRL_KIL) {
		otf_node_shutdown_done(t->node);
	}
}

static void sink_consume(void *inst, otf_msg_t *m)
{
	(void)inst;
	pthread_mutex_lock(&g.mu);
	g.sunk++;
	pthread_mutex_unlock(&g.mu);
	otf_msg_ack(m);
}

static void sink_control(void *inst, const otf_ctrl_t *c)
{
	tnode_t *t = inst;
	if (c->type == OTF_CTRL_KIL)
		otf_node_shutdown_done(t->node);
}

static const otf_component_factory_t k_src = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_RECEIVER,
    .type = "test_src",
    .description = "test source",
    .stability = {0, 0, OTF_STABILITY_DEVELOPMENT},
    .create = {NULL, NULL, t_create},
    .start = src_start,
    .control = src_control,
    .destroy = t_destroy,
};

static const otf_component_factory_t k_sink = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXPORTER,
    .type = "test_sink",
    .description = "test sink",
    .stability = {0, 0, OTF_STABILITY_DEVELOPMENT},
    .create = {NULL, NULL, t_create},
    .consume = {NULL, NULL, sink_consume},
    .control = sink_control,
    .destroy = t_destroy,
};

static int build(const char *yaml, otf_config_t **cfg, otf_dag_t **dag, otf_service_settings_t *st,
                 otf_config_error_t *err)
{
	int rc = otf_config_load_string("t.yaml", yaml, strlen(yaml), NULL, cfg, err);
	if (rc)
		return rc;
	rc = otf_service_build(*cfg, dag, st, err);
	if (rc)
		otf_config_destroy(*cfg);
	return rc;
}

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* POSTs a small logs request; returns the raw response head and body. */
static void post(int port, char *resp, size_t cap)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons((uint16_t)port),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct timeval tv = {.tv_sec = 5};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	char req[256];
	int n =
	    snprintf(req, sizeof req,
	             "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: "
	             "application/x-protobuf\r\nContent-Length: 2\r\nConnection: close\r\n\r\n");
	memcpy(req + n, k_req, 2);
	assert_int_equal(write(fd, req, (size_t)n + 2), n + 2);
	size_t got = 0;
	ssize_t r;
	while (got + 1 < cap && (r = read(fd, resp + got, cap - 1 - got)) > 0) {
		got += (size_t)r;
		resp[got] = 0;
		/* stop at the end of the body, whether or not the server closes */
		const char *end = strstr(resp, "\r\n\r\n");
		const char *cl = strcasestr(resp, "Content-Length:");
		if (end && cl && got >= (size_t)(end + 4 - resp) + strtoul(cl + 15, NULL, 10))
			break;
	}
	resp[got] = 0;
	close(fd);
}

static bool wait_for(bool (*cond)(void))
{
	for (int i = 0; i < 1000; i++) {
		if (cond())
			return true;
		usleep(5000);
	}
	return false;
}

static bool refused(void)
{
	return otf_admission_refused();
}

static bool admitted(void)
{
	return !otf_admission_refused();
}

static bool some_acked(void)
{
	int a, n;
	counts(&a, &n);
	return a >= 5;
}

static bool some_nacked(void)
{
	int a, n;
	counts(&a, &n);
	return n >= 5;
}

static void test_refuses_above_soft_limit_and_recovers(void **state)
{
	(void)state;
	otf_alloc_stats_t st0;
	otf_alloc_stats(&st0);
	assert_true(st0.bytes_in_use < 4u * 1024 * 1024); /* the test needs headroom */
	int port = free_port();
	char yaml[1024];
	snprintf(yaml, sizeof yaml,
	         "receivers:\n"
	         "  test_src:\n"
	         "  otlp: {protocols: {http: {endpoint: \"127.0.0.1:%d\"}}}\n"
	         "processors:\n"
	         "  memory_limiter: {check_interval: 10ms, limit_mib: 8, spike_limit_mib: 2}\n"
	         "exporters: {test_sink: }\n"
	         "service:\n"
	         "  telemetry: {metrics: {level: none}}\n"
	         "  pipelines:\n"
	         "    logs: {receivers: [test_src, otlp], processors: [memory_limiter], "
	         "exporters: [test_sink]}\n"
	         "runtime: {workers: 1, shutdown_timeout: 5s}\n",
	         port);
	otf_config_t *cfg;
	otf_dag_t *dag;
	otf_service_settings_t st;
	otf_config_error_t err;
	if (build(yaml, &cfg, &dag, &st, &err))
		fail_msg("%s", err.text);
	otf_engine_t *e;
	assert_int_equal(otf_engine_start(dag, &st.runtime, &e), 0);

	/* below the soft limit: data flows */
	assert_true(wait_for(some_acked));
	assert_false(otf_admission_refused());
	char resp[2048];
	post(port, resp, sizeof resp);
	assert_non_null(strstr(resp, "HTTP/1.1 200"));

	/* 7 MiB of counted heap: above the soft limit (6 MiB), below the hard
	 * limit (8 MiB) */
	void *block = otf_malloc(7u * 1024 * 1024);
	assert_non_null(block);
	assert_true(wait_for(refused));
	usleep(20000); /* let what was in flight settle */
	zero();
	assert_true(wait_for(some_nacked));
	int acked, nacked;
	counts(&acked, &nacked);
	assert_int_equal(acked, 0);
	pthread_mutex_lock(&g.mu);
	assert_int_equal(g.nack_error, OTF_E_NOMEM);
	assert_false(g.nack_permanent);
	assert_non_null(strstr(g.reason, "memory limit"));
	assert_int_equal(g.sunk, 0);
	pthread_mutex_unlock(&g.mu);
	post(port, resp, sizeof resp);
	assert_non_null(strstr(resp, "HTTP/1.1 503"));
	assert_non_null(strstr(resp, "Retry-After:"));
	assert_non_null(strstr(resp, "memory limit exceeded"));

	/* memory drops: accepted again */
	otf_free(block);
	assert_true(wait_for(admitted));
	usleep(20000);
	zero();
	assert_true(wait_for(some_acked));
	counts(&acked, &nacked);
	assert_int_equal(nacked, 0);
	post(port, resp, sizeof resp);
	assert_non_null(strstr(resp, "HTTP/1.1 200"));

	otf_engine_request_stop(e);
	assert_true(otf_engine_join(e) >= 0);
	assert_false(otf_admission_refused());
	otf_dag_destroy(dag);
	otf_config_destroy(cfg);
}

static void expect_error(const char *ml, const char *needle)
{
	char yaml[512];
	snprintf(yaml, sizeof yaml,
	         "receivers: {test_src: }\nprocessors: {memory_limiter: %s}\n"
	         "exporters: {test_sink: }\n"
	         "service: {pipelines: {logs: {receivers: [test_src], processors: "
	         "[memory_limiter], exporters: [test_sink]}}}\n",
	         ml);
	otf_config_t *cfg;
	otf_dag_t *dag;
	otf_service_settings_t st;
	otf_config_error_t err;
	int rc = build(yaml, &cfg, &dag, &st, &err);
	if (!rc) {
		otf_dag_destroy(dag);
		otf_config_destroy(cfg);
		fail_msg("expected an error containing '%s' for %s", needle, ml);
	}
	if (!strstr(err.text, needle))
		fail_msg("error '%s' lacks '%s'", err.text, needle);
}

static void test_config_validation(void **state)
{
	(void)state;
	expect_error("{limit_mib: 100}", "check_interval");
	expect_error("{check_interval: 1s}", "limit_mib or limit_percentage");
	expect_error("{check_interval: 1s, limit_mib: 100, spike_limit_mib: 100}",
	             "spike_limit_mib");
	expect_error("{check_interval: 1s, limit_percentage: 50, spike_limit_percentage: 60}",
	             "spike_limit_percentage");
	expect_error("{check_interval: 1s, limit_mib: 100, ballast_size_mib: 1}",
	             "ballast_size_mib");
	/* percentages of the machine's memory: valid, and this small test
	 * process is far below 80 % of it */
	const char *ok = "receivers: {test_src: }\n"
	                 "processors: {memory_limiter: {check_interval: 1s, limit_percentage: 80, "
	                 "spike_limit_percentage: 25}}\n"
	                 "exporters: {test_sink: }\n"
	                 "service: {pipelines: {logs: {receivers: [test_src], processors: "
	                 "[memory_limiter], exporters: [test_sink]}}}\n"
	                 "runtime: {workers: 1}\n";
	otf_config_t *cfg;
	otf_dag_t *dag;
	otf_service_settings_t st;
	otf_config_error_t err;
	assert_int_equal(build(ok, &cfg, &dag, &st, &err), 0);
	otf_engine_t *e;
	assert_int_equal(otf_engine_start(dag, &st.runtime, &e), 0);
	zero();
	assert_true(wait_for(some_acked));
	assert_false(otf_admission_refused());
	otf_engine_request_stop(e);
	assert_true(otf_engine_join(e) >= 0);
	otf_dag_destroy(dag);
	otf_config_destroy(cfg);
}

static int setup(void **state)
{
	(void)state;
	otf_components_register_builtins();
	otf_component_register(&k_src);
	otf_component_register(&k_sink);
	otf_log_set_level(OTF_LOG_ERROR);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refuses_above_soft_limit_and_recovers),
	    cmocka_unit_test(test_config_validation),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
