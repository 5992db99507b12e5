/* processor failover_router, in the engine: messages go to level 0 (port
 * `0`); a retryable NACK there switches to the next level and resends the
 * message to it, so every message is delivered while one level works; a
 * permanent NACK is passed up at once, all levels failing gives a
 * retryable NACK; level 0 is probed again after retry_interval; wiring
 * with gaps or on `default` is a config error; what is held is bounded.
 * Test components are registered through the factory ABI. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

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

#define MAX_IDS 256

#define NSINK 3

static _Atomic int g_acks, g_nacks, g_nack_permanent, g_sent;
static _Atomic int g_seen[NSINK];
static _Atomic uint64_t g_sent_ids[MAX_IDS], g_sources[NSINK][MAX_IDS];
static char g_reason[160]; /* last nack's, written by the source's worker */

static void reset(void)
{
	atomic_store(&g_acks, 0);
	atomic_store(&g_nacks, 0);
	atomic_store(&g_nack_permanent, 0);
	for (int i = 0; i < NSINK; i++)
		atomic_store(&g_seen[i], 0);
	atomic_store(&g_sent, 0);
	g_reason[0] = 0;
}

/* ---- src: sends `count` traces messages 1 ms after start, and `count`
 * more `again_ms` later (0 = once), subscribed to their outcome. */
typedef struct src_cfg {
	uint64_t count;
	uint64_t again_ms;
	uint64_t repeat; /* batches after the first, again_ms apart */
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
	case OTF_CTRL_TMR:
		if (s->cfg->again_ms && c->calldata <= s->cfg->repeat)
			otf_node_timer_start(s->node, s->cfg->again_ms, 0, c->calldata + 1);
		for (uint64_t i = 0; i < s->cfg->count; i++) {
			static const char span[] = {0x0a, 0x04, 0x12, 0x02, 0x12, 0x00};
			otf_msg_t *m = otf_msg_create(s->node, OTF_SIGNAL_TRACES,
			                              otf_buf_create_copy(span, sizeof span), 1);
			otf_msg_subscribe(m, s->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK, 0);
			uint64_t id = otf_msg_id(m);
			if (otf_node_send(s->node, m)) {
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
		snprintf(g_reason, sizeof g_reason, "%s", c->reason);
		if (c->permanent)
			atomic_fetch_add(&g_nack_permanent, 1);
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
    {.key = "count", .type = OTF_CFG_UINT, .offset = offsetof(src_cfg_t, count), .def = "1"},
    {.key = "again_ms", .type = OTF_CFG_UINT, .offset = offsetof(src_cfg_t, again_ms)},
    {.key = "repeat", .type = OTF_CFG_UINT, .offset = offsetof(src_cfg_t, repeat), .def = "1"},
    OTF_CONFIG_FIELD_END,
};

static const otf_component_factory_t k_src = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_RECEIVER,
    .type = "fsrc",
    .description = "test source",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_src_schema,
    .config_size = sizeof(src_cfg_t),
    .create = {src_create, src_create, src_create},
    .start = src_start,
    .control = src_control,
    .destroy = plain_destroy,
};

/* ---- sink: records the sources of what arrives; nacks the first `fail`
 * messages (retryable, or permanent with permanent: true; hold: true
 * keeps the others until KIL), then acks. */
typedef struct sink_cfg {
	int64_t id;   /* slot in g_seen / g_sources */
	int64_t fail; /* -1 = always */
	bool permanent;
	bool hold;
} sink_cfg_t;

typedef struct sink {
	otf_node_t *node;
	const sink_cfg_t *cfg;
	int64_t failed;
	otf_msg_t *held[MAX_IDS];
	size_t nheld;
} sink_t;

static int sink_create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	sink_t *k = otf_calloc(1, sizeof *k);
	if (!k)
		return OTF_E_NOMEM;
	k->node = ctx->node;
	k->cfg = ctx->config;
	*inst = k;
	return 0;
}

static void sink_consume(void *inst, otf_msg_t *m)
{
	sink_t *k = inst;
	const uint64_t *src;
	size_t nsrc = otf_msg_sources(m, &src);
	int slot = (int)k->cfg->id;
	int at = atomic_fetch_add(&g_seen[slot], 1);
	if (nsrc == 1 && at < MAX_IDS)
		atomic_store(&g_sources[slot][at], src[0]);
	if (k->cfg->fail < 0 || k->failed < k->cfg->fail) {
		k->failed++;
		otf_msg_nack(m, OTF_E_IO, k->cfg->permanent, "sink down");
	} else if (k->cfg->hold && k->nheld < MAX_IDS) {
		k->held[k->nheld++] = m;
	} else {
		otf_msg_ack(m);
	}
}

static void sink_control(void *inst, const otf_ctrl_t *c)
{
	sink_t *k = inst;
	if (c->type != OTF_CTRL_KIL)
		return;
	for (size_t i = 0; i < k->nheld; i++)
		otf_msg_ack(k->held[i]);
	k->nheld = 0;
	otf_node_shutdown_done(k->node);
}

static const otf_config_field_t k_sink_schema[] = {
    {.key = "id", .type = OTF_CFG_INT, .offset = offsetof(sink_cfg_t, id), .def = "0"},
    {.key = "fail", .type = OTF_CFG_INT, .offset = offsetof(sink_cfg_t, fail), .def = "0"},
    {.key = "permanent", .type = OTF_CFG_BOOL, .offset = offsetof(sink_cfg_t, permanent)},
    {.key = "hold", .type = OTF_CFG_BOOL, .offset = offsetof(sink_cfg_t, hold)},
    OTF_CONFIG_FIELD_END,
};

static const otf_component_factory_t k_sink = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXPORTER,
    .type = "fsink",
    .description = "test sink",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_sink_schema,
    .config_size = sizeof(sink_cfg_t),
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

typedef struct run {
	otf_config_t *cfg;
	otf_dag_t *dag;
	otf_service_settings_t st;
	otf_engine_t *e;
} run_t;

/* Builds and starts yaml, one worker. */
static void start(run_t *r, const char *yaml)
{
	memset(r, 0, sizeof *r);
	reset();
	otf_config_error_t err;
	int rc = otf_config_load_string("test.yaml", yaml, strlen(yaml), NULL, &r->cfg, &err);
	if (!rc)
		rc = otf_service_build(r->cfg, &r->dag, &r->st, &err);
	if (rc)
		fail_msg("build: %s", err.text);
	otf_log_set_level(OTF_LOG_ERROR);
	assert_int_equal(otf_engine_start(r->dag, &r->st.runtime, &r->e), 0);
}

static void await_answers(int answers, int ms)
{
	for (int i = 0; i < ms && atomic_load(&g_acks) + atomic_load(&g_nacks) < answers; i++)
		usleep(1000);
	if (atomic_load(&g_acks) + atomic_load(&g_nacks) < answers)
		fail_msg("only %d of %d messages answered within %d ms",
		         atomic_load(&g_acks) + atomic_load(&g_nacks), answers, ms);
}

static void stop(run_t *r)
{
	otf_engine_request_stop(r->e);
	assert_int_equal(otf_engine_join(r->e), 0);
	otf_dag_destroy(r->dag);
	otf_config_destroy(r->cfg);
}

#define FO_YAML(fo_cfg, p_cfg, s_cfg, src_cfg)                  \
	"nodes:\n"                                              \
	"  src: {type: fsrc, config: {" src_cfg "}}\n"          \
	"  fo: {type: failover_router, config: {" fo_cfg "}}\n" \
	"  p: {type: fsink, config: {id: 0, " p_cfg "}}\n"      \
	"  s: {type: fsink, config: {id: 1, " s_cfg "}}\n"      \
	"connections:\n"                                        \
	"  - {from: src, to: fo}\n"                             \
	"  - {from: fo.0, to: p}\n"                             \
	"  - {from: fo.1, to: s}\n"                             \
	"runtime: {workers: 1, shutdown_timeout: 2s}\n"

/* Every message sent reached the secondary, by id. */
static void expect_all_at(int slot)
{
	int n = atomic_load(&g_sent);
	assert_int_equal(atomic_load(&g_seen[slot]), n);
	for (int i = 0; i < n; i++) {
		bool found = false;
		for (int k = 0; k < n; k++)
			found |= atomic_load(&g_sources[slot][k]) == atomic_load(&g_sent_ids[i]);
		if (!found)
			fail_msg("message %d (id %llu) did not reach sink %d", i,
			         (unsigned long long)atomic_load(&g_sent_ids[i]), slot);
	}
}

/* Primary down: the messages it failed are resent to the secondary, every
 * one is delivered and acked, none lost. */
static void test_switches_and_resends(void **state)
{
	(void)state;
	run_t r;
	start(&r, FO_YAML("", "fail: -1", "fail: 0", "count: 4"));
	await_answers(4, 5000);
	assert_int_equal(atomic_load(&g_acks), 4);
	assert_int_equal(atomic_load(&g_nacks), 0);
	assert_true(atomic_load(&g_seen[0]) >= 1);
	expect_all_at(1);
	stop(&r);
}

/* Every level down: a retryable NACK naming the last failure. */
static void test_all_levels_fail(void **state)
{
	(void)state;
	run_t r;
	start(&r, FO_YAML("", "fail: -1", "fail: -1", "count: 2"));
	await_answers(2, 5000);
	assert_int_equal(atomic_load(&g_nacks), 2);
	assert_int_equal(atomic_load(&g_nack_permanent), 0);
	assert_non_null(strstr(g_reason, "every level failed"));
	assert_non_null(strstr(g_reason, "sink down"));
	assert_int_equal(atomic_load(&g_seen[1]), 2);
	stop(&r);
}

/* Bad data fails everywhere: a permanent NACK goes up without a switch. */
static void test_permanent_passed_up(void **state)
{
	(void)state;
	run_t r;
	start(&r, FO_YAML("", "fail: -1, permanent: true", "fail: 0", "count: 2"));
	await_answers(2, 5000);
	assert_int_equal(atomic_load(&g_nack_permanent), 2);
	assert_int_equal(atomic_load(&g_seen[1]), 0);
	stop(&r);
}

/* The primary fails once: the first message goes on to the secondary.
 * With a short retry_interval the second message (300 ms later) probes
 * the primary again and is delivered there; with 10m it stays on the
 * secondary. */
static void test_probe_returns_to_primary(void **state)
{
	(void)state;
	run_t r;
	start(&r, FO_YAML("retry_interval: 50ms", "fail: 1", "fail: 0", "count: 1, again_ms: 300"));
	await_answers(2, 5000);
	assert_int_equal(atomic_load(&g_acks), 2);
	assert_int_equal(atomic_load(&g_seen[0]), 2); /* the failure, then the probe */
	assert_int_equal(atomic_load(&g_seen[1]), 1);
	assert_int_equal(atomic_load(&g_sources[0][1]), atomic_load(&g_sent_ids[1]));
	stop(&r);
	start(&r, FO_YAML("retry_interval: 10m", "fail: 1", "fail: 0", "count: 1, again_ms: 300"));
	await_answers(2, 5000);
	assert_int_equal(atomic_load(&g_acks), 2);
	assert_int_equal(atomic_load(&g_seen[0]), 1);
	assert_int_equal(atomic_load(&g_seen[1]), 2);
	stop(&r);
}

/* Held items are bounded: the third message is refused at once. */
static void test_bounded(void **state)
{
	(void)state;
	run_t r;
	start(&r, FO_YAML("max_items: 2", "fail: 0, hold: true", "fail: 0", "count: 3"));
	await_answers(1, 5000);
	assert_int_equal(atomic_load(&g_nacks), 1);
	assert_int_equal(atomic_load(&g_nack_permanent), 0);
	assert_non_null(strstr(g_reason, "max_items 2"));
	stop(&r);
	assert_int_equal(atomic_load(&g_acks), 2);
}

static void expect_error(const char *connections, const char *needle)
{
	char yaml[512];
	snprintf(yaml, sizeof yaml,
	         "nodes:\n"
	         "  src: {type: fsrc}\n"
	         "  fo: {type: failover_router}\n"
	         "  a: {type: fsink}\n"
	         "  b: {type: fsink}\n"
	         "connections:\n"
	         "  - {from: src, to: fo}\n"
	         "%s",
	         connections);
	otf_config_t *cfg = NULL;
	otf_dag_t *dag = NULL;
	otf_service_settings_t st;
	otf_config_error_t err;
	int rc = otf_config_load_string("test.yaml", yaml, strlen(yaml), NULL, &cfg, &err);
	if (!rc)
		rc = otf_service_build(cfg, &dag, &st, &err);
	if (!rc) {
		otf_dag_destroy(dag);
		otf_config_destroy(cfg);
		fail_msg("accepted: %s", connections);
	}
	if (!strstr(err.text, "test.yaml:3") || !strstr(err.text, needle))
		fail_msg("error '%s' lacks test.yaml:3 or '%s'", err.text, needle);
	otf_config_destroy(cfg);
}

/* Levels are the ports 0, 1, ... in order, without gaps. */
static void test_wiring_errors(void **state)
{
	(void)state;
	expect_error("  - {from: fo.0, to: a}\n  - {from: fo.2, to: b}\n",
	             "levels are consecutive from 0");
	expect_error("  - {from: fo.1, to: a}\n", "port 0 (the first level) is not wired");
	expect_error("  - {from: fo, to: a}\n", "port default");
}

/* Three levels, the first two down: after the switch to level 2, a probe
 * cycle tries level 0 (retry_interval after the switch), and level 1 only
 * retry_gap after that probe failed; a message failing in a probe goes
 * straight back to the stable level, not through the unhealthy level
 * between. Batches at 1, 301 and 601 ms: level 0 sees batches 1 and 2,
 * level 1 batches 1 and 3, level 2 every batch. */
static void test_retry_gap(void **state)
{
	(void)state;
	run_t r;
	start(&r, "nodes:\n"
	          "  src: {type: fsrc, config: {count: 1, again_ms: 300, repeat: 2}}\n"
	          "  fo: {type: failover_router, config: {retry_interval: 100ms, retry_gap: "
	          "100ms}}\n"
	          "  a: {type: fsink, config: {id: 0, fail: -1}}\n"
	          "  b: {type: fsink, config: {id: 1, fail: -1}}\n"
	          "  c: {type: fsink, config: {id: 2}}\n"
	          "connections:\n"
	          "  - {from: src, to: fo}\n"
	          "  - {from: fo.0, to: a}\n"
	          "  - {from: fo.1, to: b}\n"
	          "  - {from: fo.2, to: c}\n"
	          "runtime: {workers: 1, shutdown_timeout: 2s}\n");
	await_answers(3, 5000);
	assert_int_equal(atomic_load(&g_acks), 3);
	assert_int_equal(atomic_load(&g_seen[2]), 3);
	assert_int_equal(atomic_load(&g_seen[0]), 2);
	assert_int_equal(atomic_load(&g_seen[1]), 2);
	assert_int_equal(atomic_load(&g_sources[0][1]), atomic_load(&g_sent_ids[1]));
	assert_int_equal(atomic_load(&g_sources[1][1]), atomic_load(&g_sent_ids[2]));
	stop(&r);
}

/* The Collector's failover connector in Collector YAML: priority_levels
 * name the pipelines of each level; a level of two pipelines fails when
 * one of them does, and its messages are resent to the next level. */
static void test_failover_connector(void **state)
{
	(void)state;
	run_t r;
	start(&r, "receivers: {fsrc: {count: 4}}\n"
	          "exporters: {fsink/p: {id: 0, fail: -1}, fsink/p2: {id: 2}, fsink/s: {id: 1}}\n"
	          "connectors:\n"
	          "  failover:\n"
	          "    priority_levels: [[traces/p, traces/p2], [traces/s]]\n"
	          "    retry_interval: 10m\n"
	          "service:\n"
	          "  pipelines:\n"
	          "    traces: {receivers: [fsrc], exporters: [failover]}\n"
	          "    traces/p: {receivers: [failover], exporters: [fsink/p]}\n"
	          "    traces/p2: {receivers: [failover], exporters: [fsink/p2]}\n"
	          "    traces/s: {receivers: [failover], exporters: [fsink/s]}\n"
	          "runtime: {workers: 1, shutdown_timeout: 2s}\n");
	await_answers(4, 5000);
	assert_int_equal(atomic_load(&g_acks), 4);
	assert_true(atomic_load(&g_seen[0]) >= 1);
	assert_int_equal(atomic_load(&g_seen[0]), atomic_load(&g_seen[2]));
	expect_all_at(1);
	stop(&r);
}

static void expect_collector_error(const char *levels, const char *needle)
{
	char yaml[1024];
	snprintf(yaml, sizeof yaml,
	         "receivers: {fsrc: {}}\n"
	         "exporters: {fsink/p: {id: 0}, fsink/s: {id: 1}}\n"
	         "connectors:\n"
	         "  failover:\n"
	         "    priority_levels: %s\n"
	         "service:\n"
	         "  pipelines:\n"
	         "    traces: {receivers: [fsrc], exporters: [failover]}\n"
	         "    traces/p: {receivers: [failover], exporters: [fsink/p]}\n"
	         "    traces/s: {receivers: [failover], exporters: [fsink/s]}\n",
	         levels);
	otf_config_t *cfg = NULL;
	otf_dag_t *dag = NULL;
	otf_service_settings_t st;
	otf_config_error_t err;
	int rc = otf_config_load_string("test.yaml", yaml, strlen(yaml), NULL, &cfg, &err);
	if (!rc)
		rc = otf_service_build(cfg, &dag, &st, &err);
	if (!rc) {
		otf_dag_destroy(dag);
		otf_config_destroy(cfg);
		fail_msg("accepted: %s", levels);
	}
	if (!strstr(err.text, "test.yaml:") || !strstr(err.text, needle))
		fail_msg("error '%s' lacks test.yaml: or '%s'", err.text, needle);
	otf_config_destroy(cfg);
}

static void test_failover_connector_errors(void **state)
{
	(void)state;
	expect_collector_error("[[traces/p]]", "pipeline 'traces/s' receives from connector");
	expect_collector_error("[[traces/p], [traces/s, traces/p]]", "listed twice");
	expect_collector_error("[[traces/p], [], [traces/s]]", "a level needs a pipeline");
	expect_collector_error("[]", "expected 1..8");
	expect_collector_error("[traces/p, traces/s]", "expected a list of pipeline ids (a level)");
}

int main(int argc, char **argv)
{
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_switches_and_resends),
	    cmocka_unit_test(test_all_levels_fail),
	    cmocka_unit_test(test_permanent_passed_up),
	    cmocka_unit_test(test_probe_returns_to_primary),
	    cmocka_unit_test(test_bounded),
	    cmocka_unit_test(test_wiring_errors),
	    cmocka_unit_test(test_retry_gap),
	    cmocka_unit_test(test_failover_connector),
	    cmocka_unit_test(test_failover_connector_errors),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
