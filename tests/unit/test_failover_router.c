/* processor failover_router, in the engine: messages go to level 0 (port
 * `0`); a retryable NACK there switches to the next level and resends the
 * message to it, so every message is delivered while one level works; a
 * permanent NACK is passed up at once, all levels failing gives a
 * retryable NACK; level 0 is probed again after retry_interval, at most
 * max_retries times in a row; an attempt not answered within
 * attempt_timeout fails its level; wiring with gaps or on `default` is a
 * config error; what is held is bounded.
 * The test source and sinks are tests/support/flow_nodes.h's. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine_run.h"
#include "flow_nodes.h"

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

static int setup(void **state)
{
	(void)state;
	otf_components_register_builtins();
	otf_tf_register();
	otf_log_set_level(OTF_LOG_ERROR);
	return 0;
}

typedef otf_test_run_t run_t;

/* Builds and starts yaml. */
static void start(run_t *r, const char *yaml)
{
	otf_tf_reset();
	otf_test_run_begin(r, yaml);
}

#define FO_YAML(fo_cfg, p_cfg, s_cfg, src_cfg)                  \
	"nodes:\n"                                              \
	"  src: {type: tf_src, config: {" src_cfg "}}\n"        \
	"  fo: {type: failover_router, config: {" fo_cfg "}}\n" \
	"  p: {type: tf_sink, config: {slot: 0, " p_cfg "}}\n"  \
	"  s: {type: tf_sink, config: {slot: 1, " s_cfg "}}\n"  \
	"connections:\n"                                        \
	"  - {from: src, to: fo}\n"                             \
	"  - {from: fo.0, to: p}\n"                             \
	"  - {from: fo.1, to: s}\n"                             \
	"runtime: {workers: 1, shutdown_timeout: 2s}\n"

/* Every message sent reached the secondary, by id. */
static void expect_all_at(int slot)
{
	int n = atomic_load(&otf_tf.sent);
	assert_int_equal(atomic_load(&otf_tf.sink[slot].seen), n);
	for (int i = 0; i < n; i++) {
		bool found = false;
		for (int k = 0; k < n; k++)
			found |= atomic_load(&otf_tf.sink[slot].source[k]) ==
			         atomic_load(&otf_tf.sent_ids[i]);
		if (!found)
			fail_msg("message %d (id %llu) did not reach sink %d", i,
			         (unsigned long long)atomic_load(&otf_tf.sent_ids[i]), slot);
	}
}

/* Primary down: the messages it failed are resent to the secondary, every
 * one is delivered and acked, none lost. */
static void test_switches_and_resends(void **state)
{
	(void)state;
	run_t r;
	start(&r, FO_YAML("", "fail: -1", "fail: 0", "count: 4"));
	otf_tf_await_answers(4, 5000);
	assert_int_equal(atomic_load(&otf_tf.acks), 4);
	assert_int_equal(atomic_load(&otf_tf.nacks), 0);
	assert_true(atomic_load(&otf_tf.sink[0].seen) >= 1);
	expect_all_at(1);
	otf_test_run_stop(&r);
}

/* Every level down: a retryable NACK naming the last failure. */
static void test_all_levels_fail(void **state)
{
	(void)state;
	run_t r;
	start(&r, FO_YAML("", "fail: -1", "fail: -1", "count: 2"));
	otf_tf_await_answers(2, 5000);
	assert_int_equal(atomic_load(&otf_tf.nacks), 2);
	assert_int_equal(atomic_load(&otf_tf.nack_permanent), 0);
	assert_non_null(strstr(otf_tf.reason, "every level failed"));
	assert_non_null(strstr(otf_tf.reason, "sink down"));
	assert_int_equal(atomic_load(&otf_tf.sink[1].seen), 2);
	otf_test_run_stop(&r);
}

/* Bad data fails everywhere: a permanent NACK goes up without a switch. */
static void test_permanent_passed_up(void **state)
{
	(void)state;
	run_t r;
	start(&r, FO_YAML("", "fail: -1, permanent: true", "fail: 0", "count: 2"));
	otf_tf_await_answers(2, 5000);
	assert_int_equal(atomic_load(&otf_tf.nack_permanent), 2);
	assert_int_equal(atomic_load(&otf_tf.sink[1].seen), 0);
	otf_test_run_stop(&r);
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
	otf_tf_await_answers(2, 5000);
	assert_int_equal(atomic_load(&otf_tf.acks), 2);
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 2); /* the failure, then the probe */
	assert_int_equal(atomic_load(&otf_tf.sink[1].seen), 1);
	assert_int_equal(atomic_load(&otf_tf.sink[0].source[1]), atomic_load(&otf_tf.sent_ids[1]));
	otf_test_run_stop(&r);
	start(&r, FO_YAML("retry_interval: 10m", "fail: 1", "fail: 0", "count: 1, again_ms: 300"));
	otf_tf_await_answers(2, 5000);
	assert_int_equal(atomic_load(&otf_tf.acks), 2);
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 1);
	assert_int_equal(atomic_load(&otf_tf.sink[1].seen), 2);
	otf_test_run_stop(&r);
}

/* max_retries: a level that keeps failing is probed at most that many
 * times in a row, then no longer. The primary always fails; 8 messages
 * 150 ms apart with retry_interval 20ms: with max_retries 2 the primary
 * sees the first message and two probes, every message lands on the
 * secondary; with 0 (no limit) nearly every message probes it. */
static void test_max_retries(void **state)
{
	(void)state;
	run_t r;
	start(&r, FO_YAML("retry_interval: 20ms, max_retries: 2", "fail: -1", "fail: 0",
	                  "count: 1, again_ms: 150, repeat: 7"));
	otf_tf_await_answers(8, 10000);
	assert_int_equal(atomic_load(&otf_tf.acks), 8);
	expect_all_at(1);
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 3);
	otf_test_run_stop(&r);
	start(&r, FO_YAML("retry_interval: 20ms, max_retries: 0", "fail: -1", "fail: 0",
	                  "count: 1, again_ms: 150, repeat: 7"));
	otf_tf_await_answers(8, 10000);
	assert_int_equal(atomic_load(&otf_tf.acks), 8);
	expect_all_at(1);
	assert_true(atomic_load(&otf_tf.sink[0].seen) >= 5);
	otf_test_run_stop(&r);
}

/* attempt_timeout: a primary that takes the messages and never answers
 * (hold) fails its level once the timeout passes: each attempt there is
 * cancelled (CAN drops the held copy) and its message resent to the
 * secondary, every one acked, none lost. Without it the messages wait at
 * the primary. */
static void test_attempt_timeout(void **state)
{
	(void)state;
	run_t r;
	start(&r, FO_YAML("attempt_timeout: 100ms", "hold: true", "fail: 0", "count: 3"));
	otf_tf_await_answers(3, 5000);
	assert_int_equal(atomic_load(&otf_tf.acks), 3);
	assert_int_equal(atomic_load(&otf_tf.nacks), 0);
	expect_all_at(1);
	int at_primary = atomic_load(&otf_tf.sink[0].seen);
	assert_true(at_primary >= 1);
	for (int i = 0; i < 2000 && atomic_load(&otf_tf.sink[0].cancelled) < at_primary; i++)
		usleep(1000);
	assert_int_equal(atomic_load(&otf_tf.sink[0].cancelled), at_primary);
	otf_test_run_stop(&r);
	start(&r, FO_YAML("", "hold: true", "fail: 0", "count: 3"));
	usleep(400000);
	assert_int_equal(atomic_load(&otf_tf.acks) + atomic_load(&otf_tf.nacks), 0);
	assert_int_equal(atomic_load(&otf_tf.sink[1].seen), 0);
	otf_test_run_stop(&r);
}

/* Held items are bounded: the third message is refused at once. */
static void test_bounded(void **state)
{
	(void)state;
	run_t r;
	start(&r, FO_YAML("max_items: 2", "fail: 0, hold: true", "fail: 0", "count: 3"));
	otf_tf_await_answers(1, 5000);
	assert_int_equal(atomic_load(&otf_tf.nacks), 1);
	assert_int_equal(atomic_load(&otf_tf.nack_permanent), 0);
	assert_non_null(strstr(otf_tf.reason, "max_items 2"));
	otf_test_run_stop(&r);
	assert_int_equal(atomic_load(&otf_tf.acks), 2);
}

static void expect_error(const char *connections, const char *needle)
{
	char yaml[512];
	snprintf(yaml, sizeof yaml,
	         "nodes:\n"
	         "  src: {type: tf_src}\n"
	         "  fo: {type: failover_router}\n"
	         "  a: {type: tf_sink}\n"
	         "  b: {type: tf_sink}\n"
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
	          "  src: {type: tf_src, config: {count: 1, again_ms: 300, repeat: 2}}\n"
	          "  fo: {type: failover_router, config: {retry_interval: 100ms, retry_gap: "
	          "100ms}}\n"
	          "  a: {type: tf_sink, config: {slot: 0, fail: -1}}\n"
	          "  b: {type: tf_sink, config: {slot: 1, fail: -1}}\n"
	          "  c: {type: tf_sink, config: {slot: 2}}\n"
	          "connections:\n"
	          "  - {from: src, to: fo}\n"
	          "  - {from: fo.0, to: a}\n"
	          "  - {from: fo.1, to: b}\n"
	          "  - {from: fo.2, to: c}\n"
	          "runtime: {workers: 1, shutdown_timeout: 2s}\n");
	otf_tf_await_answers(3, 5000);
	assert_int_equal(atomic_load(&otf_tf.acks), 3);
	assert_int_equal(atomic_load(&otf_tf.sink[2].seen), 3);
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 2);
	assert_int_equal(atomic_load(&otf_tf.sink[1].seen), 2);
	assert_int_equal(atomic_load(&otf_tf.sink[0].source[1]), atomic_load(&otf_tf.sent_ids[1]));
	assert_int_equal(atomic_load(&otf_tf.sink[1].source[1]), atomic_load(&otf_tf.sent_ids[2]));
	otf_test_run_stop(&r);
}

/* The Collector's failover connector in Collector YAML: priority_levels
 * name the pipelines of each level; a level of two pipelines fails when
 * one of them does, and its messages are resent to the next level. */
static void test_failover_connector(void **state)
{
	(void)state;
	run_t r;
	start(&r, "receivers: {tf_src: {count: 4}}\n"
	          "exporters: {tf_sink/p: {slot: 0, fail: -1}, tf_sink/p2: {slot: 2}, tf_sink/s: "
	          "{slot: 1}}\n"
	          "connectors:\n"
	          "  failover:\n"
	          "    priority_levels: [[traces/p, traces/p2], [traces/s]]\n"
	          "    retry_interval: 10m\n"
	          "service:\n"
	          "  pipelines:\n"
	          "    traces: {receivers: [tf_src], exporters: [failover]}\n"
	          "    traces/p: {receivers: [failover], exporters: [tf_sink/p]}\n"
	          "    traces/p2: {receivers: [failover], exporters: [tf_sink/p2]}\n"
	          "    traces/s: {receivers: [failover], exporters: [tf_sink/s]}\n"
	          "runtime: {workers: 1, shutdown_timeout: 2s}\n");
	otf_tf_await_answers(4, 5000);
	assert_int_equal(atomic_load(&otf_tf.acks), 4);
	assert_true(atomic_load(&otf_tf.sink[0].seen) >= 1);
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), atomic_load(&otf_tf.sink[2].seen));
	expect_all_at(1);
	otf_test_run_stop(&r);
}

static void expect_collector_error(const char *levels, const char *needle)
{
	char yaml[1024];
	snprintf(yaml, sizeof yaml,
	         "receivers: {tf_src: {}}\n"
	         "exporters: {tf_sink/p: {slot: 0}, tf_sink/s: {slot: 1}}\n"
	         "connectors:\n"
	         "  failover:\n"
	         "    priority_levels: %s\n"
	         "service:\n"
	         "  pipelines:\n"
	         "    traces: {receivers: [tf_src], exporters: [failover]}\n"
	         "    traces/p: {receivers: [failover], exporters: [tf_sink/p]}\n"
	         "    traces/s: {receivers: [failover], exporters: [tf_sink/s]}\n",
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
	    cmocka_unit_test(test_max_retries),
	    cmocka_unit_test(test_attempt_timeout),
	    cmocka_unit_test(test_failover_connector),
	    cmocka_unit_test(test_failover_connector_errors),
	};
	return cmocka_run_group_tests(tests, setup, otf_tf_teardown);
}
