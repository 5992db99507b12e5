/* The ack node's pre_export mode and the engine's queued report
 * (otf_msg_queued): upstream is acked when the exporter downstream reports
 * the message queued, before its outcome; a failure before that report is
 * passed upstream as it came, one after it is counted as dropped; without
 * a report, the outcome is passed on. Through a fan-out the report follows
 * the node's policy (all: every copy, at_least_one: any, primary: the
 * first edge). The sinks are tests/support/flow_nodes.h's, reporting
 * queued as a sending queue does. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine_run.h"
#include "flow_nodes.h"

#include "otflow/config.h"
#include "otflow/err.h"
#include "otflow/service.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef otf_test_run_t run_t;

static void start(run_t *r, const char *yaml)
{
	otf_tf_reset();
	otf_test_run_begin(r, yaml);
}

static uint64_t dropped(run_t *r)
{
	otf_node_stats_t st[8];
	size_t n = otf_engine_stats(r->e, st, 8);
	for (size_t i = 0; i < n && i < 8; i++)
		if (strstr(st[i].name, "ack"))
			return st[i].counters[OTF_COUNTER_DROPPED][OTF_SIGNAL_TRACES];
	fail_msg("no ack node in the stats");
	return 0;
}

#define ONE(sink)                                          \
	"nodes:\n"                                         \
	"  src: {type: tf_src, config: {count: 3}}\n"      \
	"  ack: {type: ack, config: {mode: pre_export}}\n" \
	"  k: {type: tf_sink, config: {" sink "}}\n"       \
	"connections:\n"                                   \
	"  - {from: src, to: ack}\n"                       \
	"  - {from: ack, to: k}\n"                         \
	"runtime: {workers: 1, shutdown_timeout: 2s}\n"

/* Queued and held by the sink (the backend has not answered): acked
 * upstream all the same; the sink has the data, under the ack node's own
 * messages naming the originals as their sources. */
static void test_acked_when_queued(void **state)
{
	(void)state;
	run_t r;
	start(&r, ONE("queued: true, hold: true"));
	otf_tf_await_answers(3, 5000);
	assert_int_equal(atomic_load(&otf_tf.acks), 3);
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 3);
	assert_int_equal(atomic_load(&otf_tf.sink[0].acked), 0); /* still held */
	for (int i = 0; i < 3; i++)
		assert_true(otf_tf_was_sent(atomic_load(&otf_tf.sink[0].source[i])));
	otf_test_run_stop(&r);
	assert_int_equal(atomic_load(&otf_tf.sink[0].acked), 3); /* at KIL */
}

/* Refused before being queued (a full queue): the client learns it,
 * retryable, with the reason; nothing counted as dropped. Failing after
 * the report: acked upstream, counted as dropped. */
static void test_failures_before_and_after(void **state)
{
	(void)state;
	run_t r;
	start(&r, ONE("fail: -1, reason: sending queue is full"));
	otf_tf_await_answers(3, 5000);
	assert_int_equal(atomic_load(&otf_tf.nacks), 3);
	assert_int_equal(atomic_load(&otf_tf.nack_permanent), 0);
	assert_string_equal(otf_tf.reason, "sending queue is full");
	assert_int_equal(dropped(&r), 0);
	otf_test_run_stop(&r);
	start(&r, ONE("queued: true, fail: -1"));
	otf_tf_await_answers(3, 5000);
	assert_int_equal(atomic_load(&otf_tf.acks), 3);
	for (int i = 0; i < 200 && dropped(&r) < 3; i++)
		usleep(5000);
	assert_int_equal(dropped(&r), 3);
	otf_test_run_stop(&r);
}

/* No queued report (no queue downstream): the outcome is passed on. */
static void test_no_report_passes_outcome(void **state)
{
	(void)state;
	run_t r;
	start(&r, ONE("hold: true"));
	otf_tf_await_seen(0, 3, 5000);
	usleep(50000);
	assert_int_equal(atomic_load(&otf_tf.acks) + atomic_load(&otf_tf.nacks), 0);
	otf_test_run_stop(&r); /* the sink acks at KIL: then upstream is acked */
	assert_int_equal(atomic_load(&otf_tf.acks), 3);
}

#define FAN(policy, a, b)                                                      \
	"nodes:\n"                                                             \
	"  src: {type: tf_src, config: {count: 2}}\n"                          \
	"  ack: {type: ack, fanout: " policy ", config: {mode: pre_export}}\n" \
	"  a: {type: tf_sink, config: {slot: 0, " a "}}\n"                     \
	"  b: {type: tf_sink, config: {slot: 1, " b "}}\n"                     \
	"connections:\n"                                                       \
	"  - {from: src, to: ack}\n"                                           \
	"  - {from: ack, to: [a, b]}\n"                                        \
	"runtime: {workers: 1, shutdown_timeout: 2s}\n"

/* Answers upstream before KIL, with both sinks holding. */
static int early_answers(const char *yaml)
{
	run_t r;
	start(&r, yaml);
	otf_tf_await_seen(0, 2, 5000);
	otf_tf_await_seen(1, 2, 5000);
	for (int i = 0; i < 100 && atomic_load(&otf_tf.acks) < 2; i++)
		usleep(2000);
	int n = atomic_load(&otf_tf.acks) + atomic_load(&otf_tf.nacks);
	otf_test_run_stop(&r);
	return n;
}

static void test_fanout_policy(void **state)
{
	(void)state;
	/* all: one copy queued is not enough; both are */
	assert_int_equal(early_answers(FAN("all", "queued: true, hold: true", "hold: true")), 0);
	assert_int_equal(
	    early_answers(FAN("all", "queued: true, hold: true", "queued: true, hold: true")), 2);
	/* at_least_one: either copy */
	assert_int_equal(
	    early_answers(FAN("at_least_one", "hold: true", "queued: true, hold: true")), 2);
	/* primary: the first edge's copy decides */
	assert_int_equal(early_answers(FAN("primary", "hold: true", "queued: true, hold: true")),
	                 0);
	assert_int_equal(early_answers(FAN("primary", "queued: true, hold: true", "hold: true")),
	                 2);
}

static int setup(void **state)
{
	(void)state;
	otf_components_register_builtins();
	otf_tf_register();
	otf_log_set_level(OTF_LOG_ERROR);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_acked_when_queued),
	    cmocka_unit_test(test_failures_before_and_after),
	    cmocka_unit_test(test_no_report_passes_outcome),
	    cmocka_unit_test(test_fanout_policy),
	};
	return cmocka_run_group_tests(tests, setup, otf_tf_teardown);
}
