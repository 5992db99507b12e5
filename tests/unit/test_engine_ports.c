/* Engine dataflow mechanics: named output ports route (only that port's
 * edges receive), unknown ports and unsupported connector signal pairs are
 * config errors naming file:line, the fan-out acknowledgement policies
 * (all, at_least_one, primary) answer the source as documented, and
 * message ids are unique per process and kept by fan-out copies.
 * Test components are registered through the factory ABI, as built-ins. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine_run.h"

#include "otflow/alloc.h"
#include "otflow/config.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"
#include "otflow/service.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NSINK   4
#define MAX_IDS 256

static _Atomic int g_acks, g_nacks, g_nack_permanent;
static _Atomic int g_seen[NSINK];
static _Atomic uint64_t g_ids[NSINK][MAX_IDS];
static _Atomic uint64_t g_sent_ids[MAX_IDS];
static _Atomic int g_sent;
static _Atomic uint64_t g_sources[MAX_IDS];
static _Atomic int g_nsources;
static char g_reason[160]; /* last nack's, written by the source's worker */

static void reset(void)
{
	atomic_store(&g_acks, 0);
	atomic_store(&g_nacks, 0);
	atomic_store(&g_nack_permanent, 0);
	atomic_store(&g_sent, 0);
	atomic_store(&g_nsources, 0);
	for (int i = 0; i < NSINK; i++)
		atomic_store(&g_seen[i], 0);
}

/* ---- psrc: a receiver sending `count` traces messages on output port
 * `port` 1 ms after start, subscribed to their outcome; records the ids. */
typedef struct psrc_cfg {
	uint64_t count;
	char *port;
	int64_t signal; /* otf_signal_t */
} psrc_cfg_t;

typedef struct psrc {
	otf_node_t *node;
	const psrc_cfg_t *cfg;
	int port;
} psrc_t;

static int psrc_create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	psrc_t *s = otf_calloc(1, sizeof *s);
	if (!s)
		return OTF_E_NOMEM;
	s->node = ctx->node;
	s->cfg = ctx->config;
	s->port = otf_node_port(ctx->node, s->cfg->port ? s->cfg->port : "default");
	if (s->port < 0) {
		int rc = s->port;
		otf_free(s);
		return rc;
	}
	*inst = s;
	return 0;
}

static int psrc_start(void *inst)
{
	psrc_t *s = inst;
	otf_node_timer_start(s->node, 1, 0, 1);
	return 0;
}

static void psrc_control(void *inst, const otf_ctrl_t *c)
{
	psrc_t *s = inst;
	switch (c->type) {
	case OTF_CTRL_TMR:
		for (uint64_t i = 0; i < s->cfg->count; i++) {
			/* One empty span in one scope in one resource (traces
			 * protobuf), for nodes that read the payload (batch). */
			static const char span[] = {0x0a, 0x04, 0x12, 0x02, 0x12, 0x00};
			otf_msg_t *m = otf_msg_create(s->node, (otf_signal_t)s->cfg->signal,
			                              otf_buf_create_copy(span, sizeof span), 1);
			otf_msg_subscribe(m, s->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK, 0);
			otf_msg_header_add(m, "X-Tenant", "acme");
			uint64_t id = otf_msg_id(m);
			if (otf_node_send_port(s->node, s->port, m)) {
				otf_msg_drop(m);
				atomic_fetch_add(&g_nacks, 1);
				continue;
			}
			int k = atomic_fetch_add(&g_sent, 1);
			if (k < MAX_IDS)
				atomic_store(&g_sent_ids[k], id);
		}
		break;
	case OTF_CTRL_ACK:
		atomic_fetch_add(&g_acks, 1);
		break;
	case OTF_CTRL_NACK:
		atomic_fetch_add(&g_nacks, 1);
		snprintf(g_reason, sizeof g_reason, "%s", c->reason); /* one worker */
		if (c->permanent)
			atomic_fetch_add(&g_nack_permanent, 1);
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

static const otf_config_field_t k_psrc_schema[] = {
    {.key = "count", .type = OTF_CFG_UINT, .offset = offsetof(psrc_cfg_t, count), .def = "1"},
    {.key = "port", .type = OTF_CFG_STRING, .offset = offsetof(psrc_cfg_t, port)},
    {.key = "signal", .type = OTF_CFG_INT, .offset = offsetof(psrc_cfg_t, signal), .def = "0"},
    OTF_CONFIG_FIELD_END,
};

static const char *const k_psrc_ports[] = {"a", "b", NULL};

static const otf_component_factory_t k_psrc = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_RECEIVER,
    .type = "psrc",
    .description = "test source sending on a port",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_psrc_schema,
    .config_size = sizeof(psrc_cfg_t),
    .create = {psrc_create, psrc_create, psrc_create},
    .start = psrc_start,
    .control = psrc_control,
    .destroy = plain_destroy,
    .ports = k_psrc_ports,
};

/* ---- psink: an exporter recording ids (slot `id`), then acking, nacking
 * (retryable or permanent) or holding every message until KIL. */
typedef struct psink_cfg {
	int64_t id;
	char *mode; /* ack | nack | nack_permanent | hold */
} psink_cfg_t;

typedef struct psink {
	otf_node_t *node;
	const psink_cfg_t *cfg;
	otf_msg_t *held[MAX_IDS];
	size_t nheld;
} psink_t;

static int psink_create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	psink_t *k = otf_calloc(1, sizeof *k);
	if (!k)
		return OTF_E_NOMEM;
	k->node = ctx->node;
	k->cfg = ctx->config;
	*inst = k;
	return 0;
}

static void psink_consume(void *inst, otf_msg_t *m)
{
	psink_t *k = inst;
	const char *mode = k->cfg->mode ? k->cfg->mode : "ack";
	int slot = (int)k->cfg->id;
	/* Headers travel with the message and its fan-out copies. */
	const char *tenant = otf_msg_header_get(m, "x-tenant");
	const uint64_t *src;
	size_t nsrc = otf_msg_sources(m, &src);
	for (size_t i = 0; i < nsrc; i++) {
		int at_src = atomic_fetch_add(&g_nsources, 1);
		if (at_src < MAX_IDS)
			atomic_store(&g_sources[at_src], src[i]);
	}
	int at = atomic_fetch_add(&g_seen[slot], 1);
	if (at < MAX_IDS)
		atomic_store(&g_ids[slot][at],
		             tenant && !strcmp(tenant, "acme") ? otf_msg_id(m) : 0);
	if (!strcmp(mode, "nack"))
		otf_msg_nack(m, OTF_E_IO, false, "sink down");
	else if (!strcmp(mode, "nack_permanent"))
		otf_msg_nack(m, OTF_E_INVAL, true, "sink refuses");
	else if (!strcmp(mode, "hold") && k->nheld < MAX_IDS)
		k->held[k->nheld++] = m;
	else
		otf_msg_ack(m);
}

static void psink_control(void *inst, const otf_ctrl_t *c)
{
	psink_t *k = inst;
	if (c->type != OTF_CTRL_KIL)
		return;
	for (size_t i = 0; i < k->nheld; i++)
		otf_msg_ack(k->held[i]);
	k->nheld = 0;
	otf_node_shutdown_done(k->node);
}

static const otf_config_field_t k_psink_schema[] = {
    {.key = "id", .type = OTF_CFG_INT, .offset = offsetof(psink_cfg_t, id), .def = "0"},
    {.key = "mode", .type = OTF_CFG_STRING, .offset = offsetof(psink_cfg_t, mode)},
    OTF_CONFIG_FIELD_END,
};

static const otf_component_factory_t k_psink = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXPORTER,
    .type = "psink",
    .description = "test sink",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_psink_schema,
    .config_size = sizeof(psink_cfg_t),
    .create = {psink_create, psink_create, psink_create},
    .consume = {psink_consume, psink_consume, psink_consume},
    .control = psink_control,
    .destroy = plain_destroy,
};

static int setup(void **state)
{
	(void)state;
	otf_components_register_builtins();
	otf_component_register(&k_psrc);
	otf_component_register(&k_psink);
	otf_log_set_level(OTF_LOG_ERROR);
	return 0;
}

typedef otf_test_run_t run_t;

/* Builds yaml; returns the build's code, with its message in err. */
static int try_build(run_t *r, const char *yaml, otf_config_error_t *err)
{
	reset();
	return otf_test_run_try_build(r, yaml, err);
}

static void build(run_t *r, const char *yaml)
{
	reset();
	otf_test_run_build(r, yaml);
}

static void run_free(run_t *r)
{
	otf_test_run_free(r);
}

/* Waits (at most ms) until *v reaches target. */
static bool wait_for(_Atomic int *v, int target, int ms)
{
	for (int i = 0; i < ms && atomic_load(v) < target; i++)
		usleep(1000);
	return atomic_load(v) >= target;
}

static void run_until_answered(run_t *r, int answers)
{
	assert_int_equal(otf_engine_start(r->dag, &r->st.runtime, &r->e), 0);
	for (int i = 0; i < 5000 && atomic_load(&g_acks) + atomic_load(&g_nacks) < answers; i++)
		usleep(1000);
	if (atomic_load(&g_acks) + atomic_load(&g_nacks) < answers)
		fail_msg("only %d of %d messages answered within 5 s",
		         atomic_load(&g_acks) + atomic_load(&g_nacks), answers);
}

static void stop(run_t *r)
{
	otf_engine_request_stop(r->e);
	assert_int_equal(otf_engine_join(r->e), 0);
	run_free(r);
}

/* Only the edges of the port sent on receive: 5 messages on port b reach
 * sink 1 (wired to src.b) and neither sink 0 (src.a) nor sink 2 (default). */
static void test_port_routes(void **state)
{
	(void)state;
	run_t r;
	build(&r, "nodes:\n"
	          "  src: {type: psrc, config: {count: 5, port: b}}\n"
	          "  sa: {type: psink, config: {id: 0}}\n"
	          "  sb: {type: psink, config: {id: 1}}\n"
	          "  sd: {type: psink, config: {id: 2}}\n"
	          "connections:\n"
	          "  - {from: src.a, to: sa}\n"
	          "  - {from: src, port: b, to: sb}\n"
	          "  - {from: src, to: sd}\n"
	          "runtime: {workers: 1, shutdown_timeout: 2s}\n");
	run_until_answered(&r, 5);
	assert_int_equal(atomic_load(&g_acks), 5);
	assert_int_equal(atomic_load(&g_seen[1]), 5);
	assert_int_equal(atomic_load(&g_seen[0]), 0);
	assert_int_equal(atomic_load(&g_seen[2]), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(atomic_load(&g_ids[1][i]), atomic_load(&g_sent_ids[i]));
	stop(&r);
}

/* The default port keeps the behaviour of otf_node_send. */
static void test_default_port(void **state)
{
	(void)state;
	run_t r;
	build(&r, "nodes:\n"
	          "  src: {type: psrc, config: {count: 3}}\n"
	          "  sa: {type: psink, config: {id: 0}}\n"
	          "  sd: {type: psink, config: {id: 2}}\n"
	          "connections:\n"
	          "  - {from: src.a, to: sa}\n"
	          "  - {from: src.default, to: sd}\n"
	          "runtime: {workers: 1, shutdown_timeout: 2s}\n");
	run_until_answered(&r, 3);
	assert_int_equal(atomic_load(&g_acks), 3);
	assert_int_equal(atomic_load(&g_seen[2]), 3);
	assert_int_equal(atomic_load(&g_seen[0]), 0);
	stop(&r);
}

static void expect_error(const char *yaml, const char *const *needles)
{
	run_t r;
	otf_config_error_t err;
	int rc = try_build(&r, yaml, &err);
	if (!rc)
		run_free(&r);
	assert_int_not_equal(rc, 0);
	for (size_t i = 0; needles[i]; i++)
		if (!strstr(err.text, needles[i]))
			fail_msg("error '%s' lacks '%s'", err.text, needles[i]);
	otf_config_destroy(r.cfg);
}

/* A connection that is a list or a scalar is refused (it crashed the
 * native front-end before: found by fuzz_dag_config). */
static void test_connection_not_a_mapping(void **state)
{
	(void)state;
	static const char *const list[] = {"t.yaml:3:", "a connection must be a mapping", NULL};
	expect_error("nodes: {a: {kind: receiver, type: nop}, b: {kind: exporter, type: nop}}\n"
	             "connections:\n"
	             "  - [a, b]\n",
	             list);
	expect_error("nodes: {a: {kind: receiver, type: nop}, b: {kind: exporter, type: nop}}\n"
	             "connections:\n"
	             "  - a\n",
	             list);
}

/* An undeclared port names file:line, the key and the ports there are. */
static void test_unknown_port_is_config_error(void **state)
{
	(void)state;
	static const char *const from_key[] = {"test.yaml:5", "from:", "no output port 'zz'",
	                                       "ports: default, a, b", NULL};
	expect_error("nodes:\n"
	             "  src: {type: psrc}\n"
	             "  sa: {type: psink}\n"
	             "connections:\n"
	             "  - {from: src.zz, to: sa}\n",
	             from_key);
	static const char *const port_key[] = {"test.yaml:6", "port:", "no output port 'q'", NULL};
	expect_error("nodes:\n"
	             "  src: {type: psrc}\n"
	             "  sa: {type: psink}\n"
	             "connections:\n"
	             "  - from: src\n"
	             "    port: q\n"
	             "    to: sa\n",
	             port_key);
	/* A component without named ports has only "default". */
	static const char *const sink_ports[] = {"no output port 'x'", NULL};
	expect_error("nodes:\n"
	             "  src: {type: psrc}\n"
	             "  f: {kind: connector, type: forward}\n"
	             "  sa: {type: psink}\n"
	             "connections:\n"
	             "  - {from: src, to: f}\n"
	             "  - {from: f.x, to: sa}\n",
	             sink_ports);
}

/* forward makes traces from traces only: wiring it from a traces pipeline
 * into a metrics pipeline used to be accepted and drop the data. */
static void test_connector_pair_refused(void **state)
{
	(void)state;
	static const char *const needles[] = {"test.yaml:3", "connector 'connector:forward'",
	                                      "receives traces", "emit only metrics", NULL};
	expect_error("receivers: {otlp: {protocols: {http: {endpoint: 127.0.0.1:0}}}}\n"
	             "exporters: {debug: }\n"
	             "connectors: {forward: }\n"
	             "service:\n"
	             "  pipelines:\n"
	             "    traces: {receivers: [otlp], exporters: [forward]}\n"
	             "    metrics: {receivers: [forward], exporters: [debug]}\n",
	             needles);
}

/* Same-signal wiring through forward still builds. */
static void test_connector_pair_accepted(void **state)
{
	(void)state;
	run_t r;
	build(&r, "receivers: {otlp: {protocols: {http: {endpoint: 127.0.0.1:0}}}}\n"
	          "exporters: {debug: }\n"
	          "connectors: {forward: }\n"
	          "service:\n"
	          "  pipelines:\n"
	          "    traces/in: {receivers: [otlp], exporters: [forward]}\n"
	          "    traces/out: {receivers: [forward], exporters: [debug]}\n");
	run_free(&r);
}

#define FANOUT_YAML(policy, m0, m1)                                     \
	"nodes:\n"                                                      \
	"  src: {type: psrc, fanout: " policy ", config: {count: 4}}\n" \
	"  s0: {type: psink, config: {id: 0, mode: " m0 "}}\n"          \
	"  s1: {type: psink, config: {id: 1, mode: " m1 "}}\n"          \
	"connections:\n"                                                \
	"  - {from: src, to: [s0, s1]}\n"                               \
	"runtime: {workers: 1, shutdown_timeout: 2s}\n"

static void fanout_case(const char *yaml, int acks, int nacks, int permanent)
{
	run_t r;
	build(&r, yaml);
	run_until_answered(&r, 4);
	/* Both copies were delivered, whatever the policy. */
	assert_true(wait_for(&g_seen[0], 4, 2000));
	assert_true(wait_for(&g_seen[1], 4, 2000));
	assert_int_equal(atomic_load(&g_acks), acks);
	assert_int_equal(atomic_load(&g_nacks), nacks);
	assert_int_equal(atomic_load(&g_nack_permanent), permanent);
	stop(&r);
}

static void test_fanout_all(void **state)
{
	(void)state;
	fanout_case(FANOUT_YAML("all", "ack", "ack"), 4, 0, 0);
	fanout_case(FANOUT_YAML("all", "ack", "nack"), 0, 4, 0);
	fanout_case(FANOUT_YAML("all", "nack_permanent", "ack"), 0, 4, 4);
}

static void test_fanout_at_least_one(void **state)
{
	(void)state;
	fanout_case(FANOUT_YAML("at_least_one", "nack", "ack"), 4, 0, 0);
	fanout_case(FANOUT_YAML("at_least_one", "ack", "nack"), 4, 0, 0);
	fanout_case(FANOUT_YAML("at_least_one", "nack", "nack"), 0, 4, 0);
	/* Permanent only when every branch failed permanently. */
	fanout_case(FANOUT_YAML("at_least_one", "nack_permanent", "nack"), 0, 4, 0);
	fanout_case(FANOUT_YAML("at_least_one", "nack_permanent", "nack_permanent"), 0, 4, 4);
}

static void test_fanout_primary(void **state)
{
	(void)state;
	fanout_case(FANOUT_YAML("primary", "ack", "nack"), 4, 0, 0);
	fanout_case(FANOUT_YAML("primary", "nack", "ack"), 0, 4, 0);
	fanout_case(FANOUT_YAML("primary", "nack_permanent", "ack"), 0, 4, 4);
}

/* Early answers: at_least_one acks on the first ack and primary on the
 * primary's answer, while the other branch still holds its copy. */
static void test_fanout_answers_before_slow_branch(void **state)
{
	(void)state;
	run_t r;
	build(&r, FANOUT_YAML("primary", "ack", "hold"));
	run_until_answered(&r, 4);
	assert_int_equal(atomic_load(&g_acks), 4);
	stop(&r); /* the held copies are acked at KIL, answering nobody */
	build(&r, FANOUT_YAML("at_least_one", "hold", "ack"));
	run_until_answered(&r, 4);
	assert_int_equal(atomic_load(&g_acks), 4);
	stop(&r);
	/* all waits for the held branch: no answer until KIL releases it. */
	build(&r, FANOUT_YAML("all", "ack", "hold"));
	assert_int_equal(otf_engine_start(r.dag, &r.st.runtime, &r.e), 0);
	assert_true(wait_for(&g_seen[1], 4, 2000));
	usleep(20000); /* nothing to await: asserting that no answer came */
	assert_int_equal(atomic_load(&g_acks) + atomic_load(&g_nacks), 0);
	stop(&r);
	assert_int_equal(atomic_load(&g_acks), 4);
}

/* Collector YAML: a pipeline's `fanout` key sets the policy of the node
 * feeding its exporters (here its receiver; with processors, the last
 * one); a shared receiver asked two policies is an error. */
#define PIPE_FANOUT_YAML(fanout)                                                     \
	"receivers: {psrc: {count: 4}}\n"                                            \
	"exporters: {psink/0: {id: 0, mode: nack}, psink/1: {id: 1, mode: ack}}\n"   \
	"service:\n"                                                                 \
	"  pipelines:\n"                                                             \
	"    traces: {receivers: [psrc], exporters: [psink/0, psink/1]" fanout "}\n" \
	"runtime: {workers: 1, shutdown_timeout: 2s}\n"

/* A pipeline given as a list, not a mapping: an error at its line (it
 * read a NULL key before; found by fuzz_dag_config). */
static void test_pipeline_not_a_mapping(void **state)
{
	(void)state;
	static const char *const needles[] = {
	    "test.yaml:4", "pipeline 'logs/x': expected a mapping of receivers", NULL};
	expect_error("receivers: {psrc: {}}\n"
	             "service:\n"
	             "  pipelines:\n"
	             "    logs/x: [[a, b], [c]]\n",
	             needles);
}

static void test_fanout_collector_pipeline(void **state)
{
	(void)state;
	fanout_case(PIPE_FANOUT_YAML(", fanout: at_least_one"), 4, 0, 0);
	fanout_case(PIPE_FANOUT_YAML(""), 0, 4, 0);
	fanout_case(PIPE_FANOUT_YAML(", fanout: primary"), 0, 4, 0);
	static const char *const bad[] = {"test.yaml:5", "fanout: expected all, at_least_one",
	                                  NULL};
	expect_error(PIPE_FANOUT_YAML(", fanout: most"), bad);
	static const char *const clash[] = {"already has fanout at_least_one", NULL};
	expect_error("receivers: {psrc: {}}\n"
	             "exporters: {psink/0: {id: 0}, psink/1: {id: 1}}\n"
	             "service:\n"
	             "  pipelines:\n"
	             "    traces: {receivers: [psrc], exporters: [psink/0], fanout: at_least_one}\n"
	             "    traces/2: {receivers: [psrc], exporters: [psink/1], fanout: primary}\n",
	             clash);
}

static void test_fanout_bad_policy(void **state)
{
	(void)state;
	static const char *const needles[] = {"test.yaml:2",
	                                      "expected all, at_least_one or primary", NULL};
	expect_error("nodes:\n"
	             "  src: {type: psrc, fanout: most}\n"
	             "  s0: {type: psink}\n"
	             "connections:\n"
	             "  - {from: src, to: s0}\n",
	             needles);
}

/* Fan-out copies keep the message id (and its headers); ids made on two
 * workers never collide. */
static void test_message_identity(void **state)
{
	(void)state;
	run_t r;
	build(&r, "nodes:\n"
	          "  src: {type: psrc, config: {count: 20}}\n"
	          "  s0: {type: psink, config: {id: 0}}\n"
	          "  s1: {type: psink, config: {id: 1}}\n"
	          "connections:\n"
	          "  - {from: src, to: [s0, s1]}\n"
	          "runtime: {workers: 2, shutdown_timeout: 2s}\n");
	run_until_answered(&r, 40); /* 20 per worker */
	assert_int_equal(atomic_load(&g_acks), 40);
	assert_true(wait_for(&g_seen[1], 40, 2000));
	int n = atomic_load(&g_sent);
	assert_int_equal(n, 40);
	for (int i = 0; i < n; i++) {
		uint64_t id = atomic_load(&g_sent_ids[i]);
		assert_true(id != 0);
		for (int k = i + 1; k < n; k++)
			if (atomic_load(&g_sent_ids[k]) == id)
				fail_msg("id %llu made twice (per-worker ids)",
				         (unsigned long long)id);
		bool in0 = false, in1 = false;
		for (int k = 0; k < 40; k++) {
			in0 |= atomic_load(&g_ids[0][k]) == id;
			in1 |= atomic_load(&g_ids[1][k]) == id;
		}
		if (!in0 || !in1)
			fail_msg("id %llu not kept by both fan-out copies (or header lost)",
			         (unsigned long long)id);
	}
	stop(&r);
}

/* batch records the id of every request in its output (sources), so the
 * batch's outcome can be correlated with each input. */
static void test_batch_records_sources(void **state)
{
	(void)state;
	run_t r;
	build(&r, "nodes:\n"
	          "  src: {type: psrc, config: {count: 4}}\n"
	          "  batch: {type: batch, config: {send_batch_size: 4, timeout: 10s}}\n"
	          "  s0: {type: psink, config: {id: 0}}\n"
	          "connections:\n"
	          "  - {from: src, to: batch}\n"
	          "  - {from: batch, to: s0}\n"
	          "runtime: {workers: 1, shutdown_timeout: 2s}\n");
	run_until_answered(&r, 4);
	if (atomic_load(&g_acks) != 4)
		fail_msg("%d nacks: %s", atomic_load(&g_nacks), g_reason);
	assert_int_equal(atomic_load(&g_seen[0]), 1);
	assert_int_equal(atomic_load(&g_nsources), 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(atomic_load(&g_sources[i]), atomic_load(&g_sent_ids[i]));
	/* The batch is a new message with an id of its own. */
	for (int i = 0; i < 4; i++)
		assert_int_not_equal(atomic_load(&g_ids[0][0]), atomic_load(&g_sent_ids[i]));
	stop(&r);
}

static uint64_t dropped_of(otf_engine_t *e, const char *name)
{
	otf_node_stats_t st[8];
	size_t n = otf_engine_stats(e, st, 8);
	for (size_t i = 0; i < n && i < 8; i++)
		if (!strcmp(st[i].name, name))
			return st[i].counters[OTF_COUNTER_DROPPED][OTF_SIGNAL_TRACES];
	return UINT64_MAX;
}

#define ACK_YAML(mode, sink_mode)                                     \
	"nodes:\n"                                                    \
	"  src: {type: psrc, config: {count: 4}}\n"                   \
	"  ack: {type: ack, config: {mode: " mode "}}\n"              \
	"  s0: {type: psink, config: {id: 0, mode: " sink_mode "}}\n" \
	"connections:\n"                                              \
	"  - {from: src, to: ack}\n"                                  \
	"  - {from: ack, to: s0}\n"                                   \
	"runtime: {workers: 1, shutdown_timeout: 2s}\n"

/* ack: at ingress upstream is acked although the sink fails, the data is
 * counted as dropped and what goes downstream is the original message
 * itself (its id and headers, no copy); downstream mode passes the sink's
 * failure on. With a retry before the ack node (which asks for its
 * message back), the ack node carries the data on in a copy of its own
 * naming the original as its source. */
static void test_ack_node(void **state)
{
	(void)state;
	run_t r;
	build(&r, ACK_YAML("ingress", "nack"));
	run_until_answered(&r, 4);
	assert_int_equal(atomic_load(&g_acks), 4);
	assert_true(wait_for(&g_seen[0], 4, 2000));
	for (int i = 0; i < 200 && dropped_of(r.e, "ack") < 4; i++)
		usleep(1000);
	assert_int_equal(dropped_of(r.e, "ack"), 4);
	assert_int_equal(atomic_load(&g_nsources), 0);
	/* psink records the id of a message with X-Tenant: acme, 0 without. */
	for (int i = 0; i < 4; i++)
		assert_int_equal(atomic_load(&g_ids[0][i]), atomic_load(&g_sent_ids[i]));
	stop(&r);
	build(&r, "nodes:\n"
	          "  src: {type: psrc, config: {count: 4}}\n"
	          "  retry: {type: retry}\n"
	          "  ack: {type: ack, config: {mode: ingress}}\n"
	          "  s0: {type: psink, config: {id: 0, mode: nack}}\n"
	          "connections:\n"
	          "  - {from: src, to: retry}\n"
	          "  - {from: retry, to: ack}\n"
	          "  - {from: ack, to: s0}\n"
	          "runtime: {workers: 1, shutdown_timeout: 2s}\n");
	run_until_answered(&r, 4);
	assert_int_equal(atomic_load(&g_acks), 4);
	assert_true(wait_for(&g_seen[0], 4, 2000));
	for (int i = 0; i < 200 && dropped_of(r.e, "ack") < 4; i++)
		usleep(1000);
	assert_int_equal(dropped_of(r.e, "ack"), 4);
	assert_int_equal(atomic_load(&g_nsources), 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(atomic_load(&g_sources[i]), atomic_load(&g_sent_ids[i]));
		/* The copy is a message of its own, with the original's headers. */
		uint64_t copy = atomic_load(&g_ids[0][i]);
		assert_true(copy != 0);
		assert_int_not_equal(copy, atomic_load(&g_sent_ids[i]));
	}
	stop(&r);
	build(&r, ACK_YAML("downstream", "nack"));
	run_until_answered(&r, 4);
	assert_int_equal(atomic_load(&g_nacks), 4);
	assert_string_equal(g_reason, "sink down");
	stop(&r);
	/* A fan-out copy handed on at ingress answers its join at once: the
	 * source is acked once the other branch acks too. */
	build(&r, "nodes:\n"
	          "  src: {type: psrc, config: {count: 4}}\n"
	          "  ack: {type: ack, config: {mode: ingress}}\n"
	          "  s0: {type: psink, config: {id: 0, mode: nack}}\n"
	          "  s1: {type: psink, config: {id: 1}}\n"
	          "connections:\n"
	          "  - {from: src, to: [ack, s1]}\n"
	          "  - {from: ack, to: s0}\n"
	          "runtime: {workers: 1, shutdown_timeout: 2s}\n");
	run_until_answered(&r, 4);
	assert_int_equal(atomic_load(&g_acks), 4);
	assert_int_equal(atomic_load(&g_nacks), 0);
	assert_true(wait_for(&g_seen[0], 4, 2000));
	for (int i = 0; i < 200 && dropped_of(r.e, "ack") < 4; i++)
		usleep(1000);
	assert_int_equal(dropped_of(r.e, "ack"), 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(atomic_load(&g_ids[0][i]), atomic_load(&g_sent_ids[i]));
	stop(&r);
	static const char *const bad_mode[] = {"test.yaml:3", "mode", "ingress", NULL};
	expect_error(ACK_YAML("at_export", "ack"), bad_mode);
}

/* Wiring mistakes found when the DAG is compiled name the file:line of the
 * node at fault, not line 1 of the file: a cycle through routers, an ack
 * node with no downstream and a router with nothing wired (both used to
 * be removed with a warning only, while another path kept the file
 * valid). */
static void expect_at(const char *yaml, const char *at, const char *needle)
{
	run_t r;
	otf_config_error_t err;
	int rc = try_build(&r, yaml, &err);
	if (!rc) {
		run_free(&r);
		fail_msg("accepted, expected '%s%s'", at, needle);
	}
	if (strncmp(err.text, at, strlen(at)) || !strstr(err.text, needle))
		fail_msg("error '%s' is not '%s...%s'", err.text, at, needle);
	assert_string_equal(err.file, "test.yaml");
	assert_int_equal(err.line, (uint32_t)atoi(at + strlen("test.yaml:")));
	otf_config_destroy(r.cfg);
}

static void test_compile_errors_name_the_node(void **state)
{
	(void)state;
	expect_at("nodes:\n"
	          "  src: {type: psrc}\n"
	          "  r1: {type: type_router}\n"
	          "  r2: {type: type_router}\n"
	          "  sa: {type: psink}\n"
	          "connections:\n"
	          "  - {from: src, to: r1}\n"
	          "  - {from: r1.traces, to: r2}\n"
	          "  - {from: r2.traces, to: r1}\n"
	          "  - {from: r1.default, to: sa}\n"
	          "  - {from: r2.default, to: sa}\n",
	          "test.yaml:4: ", "cycle: 'r2' -> 'r1' closes a loop");
	expect_at(
	    "nodes:\n"
	    "  src: {type: psrc}\n"
	    "  ack: {type: ack, config: {mode: ingress}}\n"
	    "  sa: {type: psink}\n"
	    "connections:\n"
	    "  - {from: src, to: [ack, sa]}\n",
	    "test.yaml:3: ", "processor 'ack' (type ack): traces arrive but nothing is wired");
	expect_at("nodes:\n"
	          "  src: {type: psrc}\n"
	          "  sa: {type: psink}\n"
	          "  router: {type: type_router}\n"
	          "connections:\n"
	          "  - {from: src, to: [sa, router]}\n",
	          "test.yaml:4: ", "neither port traces nor default is wired");
	expect_at("receivers: {otlp: {protocols: {http: {endpoint: 127.0.0.1:0}}}}\n"
	          "exporters: {debug: }\n"
	          "connectors: {forward: }\n"
	          "service:\n"
	          "  pipelines:\n"
	          "    traces: {receivers: [otlp], exporters: [forward]}\n"
	          "    metrics: {receivers: [forward], exporters: [debug]}\n",
	          "test.yaml:3: ", "connector 'connector:forward'");
}

#define ROUTER_YAML(signal, default_edge)                               \
	"nodes:\n"                                                      \
	"  src: {type: psrc, config: {count: 3, signal: " signal "}}\n" \
	"  router: {type: type_router}\n"                               \
	"  st: {type: psink, config: {id: 0}}\n"                        \
	"  sl: {type: psink, config: {id: 1}}\n"                        \
	"  sd: {type: psink, config: {id: 2}}\n"                        \
	"connections:\n"                                                \
	"  - {from: src, to: router}\n"                                 \
	"  - {from: router.traces, to: st}\n"                           \
	"  - {from: router.logs, to: sl}\n" default_edge                \
	"runtime: {workers: 1, shutdown_timeout: 2s}\n"

/* type_router: each signal to its port, unwired signals to default; a
 * signal that would have no route is a config error naming file:line. */
static void test_type_router(void **state)
{
	(void)state;
	static const struct {
		const char *yaml;
		int sink, acks, permanent;
	} cases[] = {
	    {ROUTER_YAML("2", "  - {from: router.default, to: sd}\n"), 1, 3, 0}, /* logs */
	    {ROUTER_YAML("0", "  - {from: router.default, to: sd}\n"), 0, 3, 0}, /* traces */
	    {ROUTER_YAML("1", "  - {from: router.default, to: sd}\n"), 2, 3, 0}, /* metrics */
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		run_t r;
		build(&r, cases[c].yaml);
		run_until_answered(&r, 3);
		assert_int_equal(atomic_load(&g_acks), cases[c].acks);
		assert_int_equal(atomic_load(&g_nack_permanent), cases[c].permanent);
		for (int k = 0; k < 3; k++) {
			int want = k == cases[c].sink ? 3 : 0;
			if (atomic_load(&g_seen[k]) != want)
				fail_msg("case %zu: sink %d saw %d messages, want %d", c, k,
				         atomic_load(&g_seen[k]), want);
		}
		if (cases[c].sink >= 0)
			for (int i = 0; i < 3; i++)
				assert_int_equal(atomic_load(&g_ids[cases[c].sink][i]),
				                 atomic_load(&g_sent_ids[i]));
		stop(&r);
	}
	static const char *const no_route[] = {
	    "test.yaml:3", "router", "metrics arrive but neither port metrics nor default", NULL};
	expect_error(ROUTER_YAML("1", ""), no_route);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		cmocka_set_test_filter(argv[1]); /* run one test: name or pattern */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_port_routes),
	    cmocka_unit_test(test_default_port),
	    cmocka_unit_test(test_unknown_port_is_config_error),
	    cmocka_unit_test(test_connector_pair_refused),
	    cmocka_unit_test(test_connector_pair_accepted),
	    cmocka_unit_test(test_fanout_all),
	    cmocka_unit_test(test_fanout_at_least_one),
	    cmocka_unit_test(test_fanout_primary),
	    cmocka_unit_test(test_fanout_answers_before_slow_branch),
	    cmocka_unit_test(test_fanout_bad_policy),
	    cmocka_unit_test(test_fanout_collector_pipeline),
	    cmocka_unit_test(test_pipeline_not_a_mapping),
	    cmocka_unit_test(test_message_identity),
	    cmocka_unit_test(test_type_router),
	    cmocka_unit_test(test_batch_records_sources),
	    cmocka_unit_test(test_ack_node),
	    cmocka_unit_test(test_connection_not_a_mapping),
	    cmocka_unit_test(test_compile_errors_name_the_node),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
