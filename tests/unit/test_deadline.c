/* processor deadline, in the engine: the deadline of each message from
 * the policy (per-signal timeout, the client's grpc-timeout capped by
 * max_timeout, never later than one already set), a message already late
 * nacked with -ETIMEDOUT; and the nodes that hold messages honouring it:
 * batch flushes before the deadline instead of after its timeout and
 * refuses a late arrival, failover_router sends nothing past it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otflow/alloc.h"
#include "otflow/config.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"
#include "otflow/service.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000ull

static _Atomic int g_acks, g_nacks, g_seen;
static _Atomic int g_error;
static _Atomic uint64_t g_sent_ns, g_deadline, g_arrived_ns;
static char g_reason[200];

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void reset(void)
{
	atomic_store(&g_acks, 0);
	atomic_store(&g_nacks, 0);
	atomic_store(&g_seen, 0);
	atomic_store(&g_error, 0);
	atomic_store(&g_deadline, 0);
	g_reason[0] = 0;
}

/* ---- src: one message of `signal` 1 ms after start; deadline_ms: its
 * own deadline from now (negative: already past; 0: none); grpc_timeout:
 * that header. */
typedef struct src_cfg {
	int64_t signal;
	int64_t deadline_ms;
	char *grpc_timeout;
} src_cfg_t;

typedef struct src {
	otf_node_t *node;
	const src_cfg_t *cfg;
} src_t;

static int src_create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	src_t *s = otf_calloc(1, sizeof *s);
	if (!s)
		return OTF_E_NOMEM;
	s->node = ctx->node;
	s->cfg = ctx->config;
	*inst = s;
	return 0;
}

static int src_start(void *inst)
{
	src_t *s = inst;
	otf_node_timer_start(s->node, 1, 0, 1);
	return 0;
}

static void src_control(void *inst, const otf_ctrl_t *c)
{
	src_t *s = inst;
	switch (c->type) {
	case OTF_CTRL_TMR: {
		static const char span[] = {0x0a, 0x04, 0x12, 0x02, 0x12, 0x00};
		otf_msg_t *m = otf_msg_create(s->node, (otf_signal_t)s->cfg->signal,
		                              otf_buf_create_copy(span, sizeof span), 1);
		uint64_t now = now_ns();
		if (s->cfg->deadline_ms)
			otf_msg_set_deadline(
			    m, (uint64_t)((int64_t)now + s->cfg->deadline_ms * 1000000));
		if (s->cfg->grpc_timeout)
			otf_msg_header_add(m, "grpc-timeout", s->cfg->grpc_timeout);
		otf_msg_subscribe(m, s->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK, 0);
		atomic_store(&g_sent_ns, now);
		if (otf_node_send(s->node, m)) {
			otf_msg_drop(m);
			atomic_fetch_add(&g_nacks, 1);
		}
		break;
	}
	case OTF_CTRL_ACK:
		atomic_fetch_add(&g_acks, 1);
		break;
	case OTF_CTRL_NACK:
		snprintf(g_reason, sizeof g_reason, "%s%s", c->permanent ? "permanent: " : "",
		         c->reason);
		atomic_store(&g_error, c->error);
		atomic_fetch_add(&g_nacks, 1);
		break;
	case OTF_CTRL_KIL:
		otf_node_shutdown_done(s->node);
		break;
	default:
		break;
	}
}

static void plain_destroy(void *inst)
{
	otf_free(inst);
}

static const otf_config_field_t k_src_schema[] = {
    {.key = "signal", .type = OTF_CFG_INT, .offset = offsetof(src_cfg_t, signal), .def = "0"},
    {.key = "deadline_ms", .type = OTF_CFG_INT, .offset = offsetof(src_cfg_t, deadline_ms)},
    {.key = "grpc_timeout", .type = OTF_CFG_STRING, .offset = offsetof(src_cfg_t, grpc_timeout)},
    OTF_CONFIG_FIELD_END,
};

static const otf_component_factory_t k_src = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_RECEIVER,
    .type = "dlsrc",
    .description = "test source",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_src_schema,
    .config_size = sizeof(src_cfg_t),
    .create = {src_create, src_create, src_create},
    .start = src_start,
    .control = src_control,
    .destroy = plain_destroy,
};

/* ---- sink: records the deadline and the arrival time, acks. */
static int sink_create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	src_t *k = otf_calloc(1, sizeof *k);
	if (!k)
		return OTF_E_NOMEM;
	k->node = ctx->node;
	*inst = k;
	return 0;
}

static void sink_consume(void *inst, otf_msg_t *m)
{
	(void)inst;
	atomic_store(&g_deadline, otf_msg_deadline(m));
	atomic_store(&g_arrived_ns, now_ns());
	atomic_fetch_add(&g_seen, 1);
	otf_msg_ack(m);
}

static void sink_control(void *inst, const otf_ctrl_t *c)
{
	src_t *k = inst;
	if (c->type == OTF_CTRL_KIL)
		otf_node_shutdown_done(k->node);
}

static const otf_component_factory_t k_sink = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXPORTER,
    .type = "dlsink",
    .description = "test sink",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .create = {sink_create, sink_create, sink_create},
    .consume = {sink_consume, sink_consume, sink_consume},
    .control = sink_control,
    .destroy = plain_destroy,
};

static int setup(void **state)
{
	(void)state;
	otf_components_register_builtins();
	otf_component_register(&k_src);
	otf_component_register(&k_sink);
	otf_log_set_level(OTF_LOG_ERROR);
	return 0;
}

/* Runs yaml until the message is answered (at most 5 s). */
static void run(const char *yaml)
{
	reset();
	otf_config_t *cfg = NULL;
	otf_dag_t *dag = NULL;
	otf_service_settings_t st;
	otf_engine_t *e;
	otf_config_error_t err;
	int rc = otf_config_load_string("test.yaml", yaml, strlen(yaml), NULL, &cfg, &err);
	if (!rc)
		rc = otf_service_build(cfg, &dag, &st, &err);
	if (rc)
		fail_msg("build: %s", err.text);
	otf_log_set_level(OTF_LOG_ERROR);
	assert_int_equal(otf_engine_start(dag, &st.runtime, &e), 0);
	for (int i = 0; i < 5000 && atomic_load(&g_acks) + atomic_load(&g_nacks) < 1; i++)
		usleep(1000);
	if (atomic_load(&g_acks) + atomic_load(&g_nacks) < 1)
		fail_msg("the message was not answered within 5 s");
	otf_engine_request_stop(e);
	assert_int_equal(otf_engine_join(e), 0);
	otf_dag_destroy(dag);
	otf_config_destroy(cfg);
}

#define DL_YAML(src_cfg, dl_cfg)                         \
	"nodes:\n"                                       \
	"  src: {type: dlsrc, config: {" src_cfg "}}\n"  \
	"  dl: {type: deadline, config: {" dl_cfg "}}\n" \
	"  k: {type: dlsink}\n"                          \
	"connections:\n"                                 \
	"  - {from: src, to: dl}\n"                      \
	"  - {from: dl, to: k}\n"                        \
	"runtime: {workers: 1, shutdown_timeout: 2s}\n"

/* The deadline the sink saw is `ms` after the send, within the time the
 * message took to get there (a loaded machine: up to 1 s). */
static void expect_deadline_in(uint64_t ms)
{
	assert_int_equal(atomic_load(&g_acks), 1);
	assert_int_equal(atomic_load(&g_seen), 1);
	uint64_t dl = atomic_load(&g_deadline), sent = atomic_load(&g_sent_ns);
	if (dl < sent + ms * MS || dl > sent + ms * MS + 1000 * MS)
		fail_msg("deadline %lld ms after the send, expected %llu",
		         (long long)(dl - sent) / 1000000, (unsigned long long)ms);
}

static void test_signal_timeouts(void **state)
{
	(void)state;
	run(DL_YAML("signal: 0", "timeout: 2s, timeout_logs: 7s"));
	expect_deadline_in(2000);
	run(DL_YAML("signal: 2", "timeout: 2s, timeout_logs: 7s"));
	expect_deadline_in(7000);
	run(DL_YAML("signal: 1", "timeout: 0s"));
	assert_int_equal(atomic_load(&g_deadline), 0); /* none */
}

/* The client's grpc-timeout wins over the policy, capped by max_timeout;
 * an earlier deadline already set is kept; client_timeout: false ignores
 * the client's. */
static void test_client_timeout(void **state)
{
	(void)state;
	run(DL_YAML("grpc_timeout: 3S", "timeout: 20s"));
	expect_deadline_in(3000);
	run(DL_YAML("grpc_timeout: 30S", "timeout: 20s, max_timeout: 4s"));
	expect_deadline_in(4000);
	run(DL_YAML("deadline_ms: 2500", "timeout: 20s"));
	expect_deadline_in(2500);
	run(DL_YAML("deadline_ms: 2500", "timeout: 20s, client_timeout: false"));
	expect_deadline_in(2500); /* never later than one already set */
	run(DL_YAML("grpc_timeout: 3S", "timeout: 6s, client_timeout: false"));
	expect_deadline_in(6000);
	run(DL_YAML("grpc_timeout: 3x", "timeout: 6s"));
	expect_deadline_in(6000); /* malformed: ignored */
}

/* Already late: nacked at once, retryable, -ETIMEDOUT, not passed on. */
static void test_late_nacked(void **state)
{
	(void)state;
	run(DL_YAML("deadline_ms: -5", ""));
	assert_int_equal(atomic_load(&g_nacks), 1);
	assert_int_equal(atomic_load(&g_error), -ETIMEDOUT);
	assert_null(strstr(g_reason, "permanent"));
	assert_int_equal(atomic_load(&g_seen), 0);
}

/* batch with a 10 s timeout flushes a message of a 600 ms deadline after
 * half of that, not after 10 s; a late arrival is refused. */
static void test_batch_honours_deadline(void **state)
{
	(void)state;
	run("nodes:\n"
	    "  src: {type: dlsrc}\n"
	    "  dl: {type: deadline, config: {timeout: 600ms}}\n"
	    "  b: {type: batch, config: {timeout: 10s, send_batch_size: 1000}}\n"
	    "  k: {type: dlsink}\n"
	    "connections:\n"
	    "  - {from: src, to: dl}\n"
	    "  - {from: dl, to: b}\n"
	    "  - {from: b, to: k}\n"
	    "runtime: {workers: 1, shutdown_timeout: 2s}\n");
	assert_int_equal(atomic_load(&g_acks), 1);
	uint64_t waited = atomic_load(&g_arrived_ns) - atomic_load(&g_sent_ns);
	if (waited < 250 * MS || waited > 3000 * MS)
		fail_msg("batch held the message %llu ms (expected about 300)",
		         (unsigned long long)(waited / MS));
	assert_true(atomic_load(&g_deadline) > atomic_load(&g_arrived_ns));
	run("nodes:\n"
	    "  src: {type: dlsrc, config: {deadline_ms: -5}}\n"
	    "  b: {type: batch, config: {timeout: 10s}}\n"
	    "  k: {type: dlsink}\n"
	    "connections:\n"
	    "  - {from: src, to: b}\n"
	    "  - {from: b, to: k}\n"
	    "runtime: {workers: 1, shutdown_timeout: 2s}\n");
	assert_int_equal(atomic_load(&g_nacks), 1);
	assert_int_equal(atomic_load(&g_error), -ETIMEDOUT);
	assert_int_equal(atomic_load(&g_seen), 0);
}

/* failover_router sends nothing past the deadline. */
static void test_failover_honours_deadline(void **state)
{
	(void)state;
	run("nodes:\n"
	    "  src: {type: dlsrc, config: {deadline_ms: -5}}\n"
	    "  fo: {type: failover_router}\n"
	    "  k: {type: dlsink}\n"
	    "connections:\n"
	    "  - {from: src, to: fo}\n"
	    "  - {from: fo.0, to: k}\n"
	    "runtime: {workers: 1, shutdown_timeout: 2s}\n");
	assert_int_equal(atomic_load(&g_nacks), 1);
	assert_int_equal(atomic_load(&g_error), -ETIMEDOUT);
	assert_non_null(strstr(g_reason, "deadline exceeded"));
	assert_int_equal(atomic_load(&g_seen), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_signal_timeouts),
	    cmocka_unit_test(test_client_timeout),
	    cmocka_unit_test(test_late_nacked),
	    cmocka_unit_test(test_batch_honours_deadline),
	    cmocka_unit_test(test_failover_honours_deadline),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
