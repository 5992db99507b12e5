/* processor deadline, in the engine: the deadline of each message from
 * the policy (per-signal timeout, the client's grpc-timeout capped by
 * max_timeout, never later than one already set), a message already late
 * nacked with -ETIMEDOUT; and the nodes that hold messages honouring it:
 * batch flushes before the deadline instead of after its timeout and
 * refuses a late arrival, failover_router sends nothing past it; at the
 * deadline the processor itself answers and cancels what is still held
 * (CAN). The test
 * source and sink are tests/support/flow_nodes.h's. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "flow_nodes.h"

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

static int setup(void **state)
{
	(void)state;
	otf_components_register_builtins();
	otf_tf_register();
	otf_log_set_level(OTF_LOG_ERROR);
	return 0;
}

/* The engine counters of node "dl" (traces) when the last run stopped. */
static uint64_t g_dl[OTF_COUNTER_COUNT_];

/* Runs yaml until n messages are answered (at most 5 s). */
static void run_n(const char *yaml, int n)
{
	otf_tf_reset();
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
	for (int i = 0; i < 5000 && atomic_load(&otf_tf.acks) + atomic_load(&otf_tf.nacks) < n; i++)
		usleep(1000);
	if (atomic_load(&otf_tf.acks) + atomic_load(&otf_tf.nacks) < n)
		fail_msg("%d of %d messages answered within 5 s",
		         atomic_load(&otf_tf.acks) + atomic_load(&otf_tf.nacks), n);
	memset(g_dl, 0, sizeof g_dl);
	otf_node_stats_t ns[8];
	size_t nn = otf_engine_stats(e, ns, 8);
	for (size_t i = 0; i < nn && i < 8; i++)
		if (!strcmp(ns[i].name, "dl"))
			for (int c = 0; c < OTF_COUNTER_COUNT_; c++)
				g_dl[c] = ns[i].counters[c][OTF_SIGNAL_TRACES];
	otf_engine_request_stop(e);
	assert_int_equal(otf_engine_join(e), 0);
	otf_dag_destroy(dag);
	otf_config_destroy(cfg);
}

static void run(const char *yaml)
{
	run_n(yaml, 1);
}

#define DL_YAML(src_cfg, dl_cfg)                         \
	"nodes:\n"                                       \
	"  src: {type: tf_src, config: {" src_cfg "}}\n" \
	"  dl: {type: deadline, config: {" dl_cfg "}}\n" \
	"  k: {type: tf_sink}\n"                         \
	"connections:\n"                                 \
	"  - {from: src, to: dl}\n"                      \
	"  - {from: dl, to: k}\n"                        \
	"runtime: {workers: 1, shutdown_timeout: 2s}\n"

/* The deadline the sink saw is `ms` after the send, within the time the
 * message took to get there (a loaded machine: up to 1 s). */
static void expect_deadline_in(uint64_t ms)
{
	assert_int_equal(atomic_load(&otf_tf.acks), 1);
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 1);
	uint64_t dl = atomic_load(&otf_tf.sink[0].deadline[0]), sent = atomic_load(&otf_tf.sent_ns);
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
	assert_int_equal(atomic_load(&otf_tf.sink[0].deadline[0]), 0); /* none */
}

/* The client's grpc-timeout wins over the policy, capped by max_timeout;
 * an earlier deadline already set is kept; client_timeout: false ignores
 * the client's. */
static void test_client_timeout(void **state)
{
	(void)state;
	run(DL_YAML("header: grpc-timeout=3S", "timeout: 20s"));
	expect_deadline_in(3000);
	run(DL_YAML("header: grpc-timeout=30S", "timeout: 20s, max_timeout: 4s"));
	expect_deadline_in(4000);
	run(DL_YAML("deadline_ms: 2500", "timeout: 20s"));
	expect_deadline_in(2500);
	run(DL_YAML("deadline_ms: 2500", "timeout: 20s, client_timeout: false"));
	expect_deadline_in(2500); /* never later than one already set */
	run(DL_YAML("header: grpc-timeout=3S", "timeout: 6s, client_timeout: false"));
	expect_deadline_in(6000);
	run(DL_YAML("header: grpc-timeout=3x", "timeout: 6s"));
	expect_deadline_in(6000); /* malformed: ignored */
}

/* Already late: nacked at once, retryable, -ETIMEDOUT, not passed on. */
static void test_late_nacked(void **state)
{
	(void)state;
	run(DL_YAML("deadline_ms: -5", ""));
	assert_int_equal(atomic_load(&otf_tf.nacks), 1);
	assert_int_equal(atomic_load(&otf_tf.error), -ETIMEDOUT);
	assert_int_equal(atomic_load(&otf_tf.nack_permanent), 0);
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 0);
}

/* batch with a 10 s timeout flushes a message of a 600 ms deadline after
 * half of that, not after 10 s; a late arrival is refused. */
static void test_batch_honours_deadline(void **state)
{
	(void)state;
	run("nodes:\n"
	    "  src: {type: tf_src}\n"
	    "  dl: {type: deadline, config: {timeout: 600ms}}\n"
	    "  b: {type: batch, config: {timeout: 10s, send_batch_size: 1000}}\n"
	    "  k: {type: tf_sink}\n"
	    "connections:\n"
	    "  - {from: src, to: dl}\n"
	    "  - {from: dl, to: b}\n"
	    "  - {from: b, to: k}\n"
	    "runtime: {workers: 1, shutdown_timeout: 2s}\n");
	assert_int_equal(atomic_load(&otf_tf.acks), 1);
	uint64_t waited = atomic_load(&otf_tf.sink[0].arrived_ns[0]) - atomic_load(&otf_tf.sent_ns);
	if (waited < 250 * MS || waited > 3000 * MS)
		fail_msg("batch held the message %llu ms (expected about 300)",
		         (unsigned long long)(waited / MS));
	assert_true(atomic_load(&otf_tf.sink[0].deadline[0]) >
	            atomic_load(&otf_tf.sink[0].arrived_ns[0]));
	run("nodes:\n"
	    "  src: {type: tf_src, config: {deadline_ms: -5}}\n"
	    "  b: {type: batch, config: {timeout: 10s}}\n"
	    "  k: {type: tf_sink}\n"
	    "connections:\n"
	    "  - {from: src, to: b}\n"
	    "  - {from: b, to: k}\n"
	    "runtime: {workers: 1, shutdown_timeout: 2s}\n");
	assert_int_equal(atomic_load(&otf_tf.nacks), 1);
	assert_int_equal(atomic_load(&otf_tf.error), -ETIMEDOUT);
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 0);
}

/* failover_router sends nothing past the deadline. */
static void test_failover_honours_deadline(void **state)
{
	(void)state;
	run("nodes:\n"
	    "  src: {type: tf_src, config: {deadline_ms: -5}}\n"
	    "  fo: {type: failover_router}\n"
	    "  k: {type: tf_sink}\n"
	    "connections:\n"
	    "  - {from: src, to: fo}\n"
	    "  - {from: fo.0, to: k}\n"
	    "runtime: {workers: 1, shutdown_timeout: 2s}\n");
	assert_int_equal(atomic_load(&otf_tf.nacks), 1);
	assert_int_equal(atomic_load(&otf_tf.error), -ETIMEDOUT);
	assert_non_null(strstr(otf_tf.reason, "deadline exceeded"));
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 0);
}

/* Items counted OTF_COUNTER_CANCELLED on node `name` (-1: no such node). */
static int64_t cancelled_on(otf_engine_t *e, const char *name)
{
	otf_node_stats_t st[16];
	size_t n = otf_engine_stats(e, st, 16);
	for (size_t i = 0; i < n && i < 16; i++)
		if (!strcmp(st[i].name, name)) {
			uint64_t sum = 0;
			for (int s = 0; s < OTF_SIGNAL_COUNT; s++)
				sum += st[i].counters[OTF_COUNTER_CANCELLED][s];
			return (int64_t)sum;
		}
	return -1;
}

/* The deadline passes while retry's second attempt is held by a sink that
 * does not watch deadlines (as a plugin exporter): the deadline processor
 * nacks the client's message -ETIMEDOUT at its deadline and cancels its
 * copy (CAN): the sink drops the held attempt, retry stops (no third
 * attempt), both count it as cancelled. Before, the message stayed held
 * until shutdown and the client got no answer. */
static void test_expiry_cancels(void **state)
{
	(void)state;
	const char *yaml =
	    "nodes:\n"
	    "  src: {type: tf_src}\n"
	    "  dl: {type: deadline, config: {timeout: 400ms}}\n"
	    "  r: {type: retry, config: {initial_interval: 50ms, max_interval: 50ms,\n"
	    "      randomization_factor: 0, max_elapsed_time: 0s}}\n"
	    "  k: {type: tf_sink, config: {fail: 1, hold: true}}\n"
	    "connections:\n"
	    "  - {from: src, to: dl}\n"
	    "  - {from: dl, to: r}\n"
	    "  - {from: r, to: k}\n"
	    "runtime: {workers: 1, shutdown_timeout: 2s}\n";
	otf_tf_reset();
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
	assert_int_equal(otf_engine_start(dag, &st.runtime, &e), 0);
	/* Answered at its deadline, not at shutdown. */
	otf_tf_await_answers(1, 5000);
	assert_int_equal(atomic_load(&otf_tf.nacks), 1);
	assert_int_equal(atomic_load(&otf_tf.error), -ETIMEDOUT);
	assert_int_equal(atomic_load(&otf_tf.nack_permanent), 0);
	assert_non_null(strstr(otf_tf.reason, "deadline exceeded"));
	uint64_t took = atomic_load(&otf_tf.answered_ns[0]) - atomic_load(&otf_tf.sent_ns);
	if (took < 400 * MS || took > 3000 * MS)
		fail_msg("answered %llu ms after the send (deadline 400 ms)",
		         (unsigned long long)(took / MS));
	/* The held attempt dropped, retry's copy released: counted on each. */
	int64_t on_retry = 0;
	for (int i = 0; i < 5000 && (on_retry = cancelled_on(e, "r")) < 1; i++)
		usleep(1000);
	if (on_retry != 1)
		fail_msg("r counted %lld cancelled items, want 1", (long long)on_retry);
	assert_int_equal(cancelled_on(e, "dl"), 1);
	assert_int_equal(atomic_load(&otf_tf.sink[0].cancelled), 1);
	/* Two attempts (one failed, one held and cancelled): no resend after
	 * the expiry, retry holds nothing any more. */
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 2);
	assert_int_equal(atomic_load(&otf_tf.sink[0].acked), 0);
	otf_engine_request_stop(e);
	assert_int_equal(otf_engine_join(e), 0);
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 2);
	/* Nothing answered twice. */
	assert_int_equal(atomic_load(&otf_tf.acks) + atomic_load(&otf_tf.nacks), 1);
	otf_dag_destroy(dag);
	otf_config_destroy(cfg);
}

/* Starts yaml's engine; *e, *dag, *cfg for the caller to stop. */
static void start(const char *yaml, otf_engine_t **e, otf_dag_t **dag, otf_config_t **cfg)
{
	otf_tf_reset();
	otf_service_settings_t st;
	otf_config_error_t err;
	*cfg = NULL;
	*dag = NULL;
	int rc = otf_config_load_string("test.yaml", yaml, strlen(yaml), NULL, cfg, &err);
	if (!rc)
		rc = otf_service_build(*cfg, dag, &st, &err);
	if (rc)
		fail_msg("build: %s", err.text);
	otf_log_set_level(OTF_LOG_ERROR);
	assert_int_equal(otf_engine_start(*dag, &st.runtime, e), 0);
}

static void stop(otf_engine_t *e, otf_dag_t *dag, otf_config_t *cfg)
{
	otf_engine_request_stop(e);
	assert_int_equal(otf_engine_join(e), 0);
	otf_dag_destroy(dag);
	otf_config_destroy(cfg);
}

/* A watched message goes on itself: the sink gets the ids the source
 * sent, with no source id (no copy of the deadline node's own), each
 * with its deadline, and the source's acks come back through the node. */
static void test_message_goes_on_itself(void **state)
{
	(void)state;
	otf_engine_t *e;
	otf_dag_t *dag;
	otf_config_t *cfg;
	start(DL_YAML("count: 3", "timeout: 5s"), &e, &dag, &cfg);
	otf_tf_await_answers(3, 5000);
	assert_int_equal(atomic_load(&otf_tf.acks), 3);
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 3);
	for (int i = 0; i < 3; i++) {
		uint64_t id = atomic_load(&otf_tf.sink[0].id[i]);
		if (!otf_tf_was_sent(id))
			fail_msg("sink got message %llu, not one the source sent",
			         (unsigned long long)id);
		assert_int_equal(atomic_load(&otf_tf.sink[0].source[i]), 0);
		uint64_t dl = atomic_load(&otf_tf.sink[0].deadline[i]);
		uint64_t sent = atomic_load(&otf_tf.sent_ns);
		if (dl < sent + 4000 * MS || dl > sent + 6000 * MS)
			fail_msg("message %d: deadline %lld ms after the send, want 5000", i,
			         (long long)(dl - sent) / 1000000);
	}
	stop(e, dag, cfg);
}

/* One timer for the node, armed for the nearest deadline: a message with
 * a deadline earlier than the one the timer waits for is answered at its
 * own (about 300 ms), the other at its own (about 900 ms); each once,
 * -ETIMEDOUT, both held messages cancelled. */
static void test_expiry_in_deadline_order(void **state)
{
	(void)state;
	const char *yaml = "nodes:\n"
	                   "  late: {type: tf_src, config: {deadline_ms: 900}}\n"
	                   "  soon: {type: tf_src, config: {deadline_ms: 300, delay_ms: 50}}\n"
	                   "  dl: {type: deadline, config: {timeout: 20s}}\n"
	                   "  k: {type: tf_sink, config: {hold: true}}\n"
	                   "connections:\n"
	                   "  - {from: late, to: dl}\n"
	                   "  - {from: soon, to: dl}\n"
	                   "  - {from: dl, to: k}\n"
	                   "runtime: {workers: 1, shutdown_timeout: 2s}\n";
	uint64_t t0 = otf_tf_now_ns();
	otf_engine_t *e;
	otf_dag_t *dag;
	otf_config_t *cfg;
	start(yaml, &e, &dag, &cfg);
	otf_tf_await_answers(2, 5000);
	assert_int_equal(atomic_load(&otf_tf.nacks), 2);
	assert_int_equal(atomic_load(&otf_tf.error), -ETIMEDOUT);
	uint64_t first = atomic_load(&otf_tf.answered_ns[0]) - t0;
	uint64_t second = atomic_load(&otf_tf.answered_ns[1]) - t0;
	if (first < 300 * MS || first >= 880 * MS)
		fail_msg("first answer %llu ms after the start, want the 300 ms deadline",
		         (unsigned long long)(first / MS));
	if (second < 900 * MS)
		fail_msg("second answer %llu ms after the start, before its 900 ms deadline",
		         (unsigned long long)(second / MS));
	for (int i = 0; i < 5000 && atomic_load(&otf_tf.sink[0].cancelled) < 2; i++)
		usleep(1000);
	assert_int_equal(atomic_load(&otf_tf.sink[0].cancelled), 2);
	stop(e, dag, cfg);
	assert_int_equal(atomic_load(&otf_tf.acks) + atomic_load(&otf_tf.nacks), 2);
}

/* Answers the sink gives at once reach the watched message inside the
 * deadline node's send when fused (otf_node_send_detached_watched: no
 * control signal, nothing watched) or as control signals when not
 * (test_deadline_nofuse): the client gets the same answer either way
 * (ACK; a throttled NACK with its delay, error and reason; a permanent
 * NACK), each message went on itself with its deadline, nothing expired
 * or was cancelled, and the engine counts the outcomes at the node. */
static void test_answered_at_once(void **state)
{
	(void)state;
	run_n(DL_YAML("count: 5", "timeout: 2s"), 5);
	assert_int_equal(atomic_load(&otf_tf.acks), 5);
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(atomic_load(&otf_tf.sink[0].id[i]),
		                 atomic_load(&otf_tf.sent_ids[i]));
		uint64_t dl = atomic_load(&otf_tf.sink[0].deadline[i]);
		uint64_t at = atomic_load(&otf_tf.sink[0].arrived_ns[i]);
		if (dl < at + 1000 * MS || dl > at + 2000 * MS)
			fail_msg("message %d: deadline %lld ms after its arrival, want <= 2000", i,
			         (long long)(dl - at) / 1000000);
	}
	assert_int_equal(g_dl[OTF_COUNTER_ACKS], 5);
	assert_int_equal(g_dl[OTF_COUNTER_NACKS], 0);
	assert_int_equal(g_dl[OTF_COUNTER_CANCELLED], 0);
	const char *throttled = "nodes:\n"
	                        "  src: {type: tf_src, config: {count: 3}}\n"
	                        "  dl: {type: deadline, config: {timeout: 2s}}\n"
	                        "  k: {type: tf_sink, config: {fail: -1, throttle_ms: 7}}\n"
	                        "connections:\n"
	                        "  - {from: src, to: dl}\n"
	                        "  - {from: dl, to: k}\n"
	                        "runtime: {workers: 1, shutdown_timeout: 2s}\n";
	run_n(throttled, 3);
	assert_int_equal(atomic_load(&otf_tf.nacks), 3);
	assert_int_equal(atomic_load(&otf_tf.nack_permanent), 0);
	assert_int_equal(atomic_load(&otf_tf.error), -EAGAIN);
	assert_int_equal(atomic_load(&otf_tf.retry_after_ns), 7 * MS);
	assert_string_equal(otf_tf.reason, "sink throttled");
	assert_int_equal(g_dl[OTF_COUNTER_NACKS], 3);
	assert_int_equal(g_dl[OTF_COUNTER_CANCELLED], 0);
	const char *bad = "nodes:\n"
	                  "  src: {type: tf_src, config: {count: 2}}\n"
	                  "  dl: {type: deadline, config: {timeout: 2s}}\n"
	                  "  k: {type: tf_sink, config: {fail: -1, permanent: true}}\n"
	                  "connections:\n"
	                  "  - {from: src, to: dl}\n"
	                  "  - {from: dl, to: k}\n"
	                  "runtime: {workers: 1, shutdown_timeout: 2s}\n";
	run_n(bad, 2);
	assert_int_equal(atomic_load(&otf_tf.nack_permanent), 2);
	assert_string_equal(otf_tf.reason, "sink down");
}

/* A QUEUED report during the send comes before the ACK (an outcome never
 * overtakes a signal queued before it): the ack node's pre_export above
 * acks its client at the sink's queued report, then hears the ACK; three
 * messages, each answered once, nothing expired. */
static void test_queued_before_outcome(void **state)
{
	(void)state;
	run_n("nodes:\n"
	      "  src: {type: tf_src, config: {count: 3}}\n"
	      "  a: {type: ack, config: {mode: pre_export}}\n"
	      "  dl: {type: deadline, config: {timeout: 2s}}\n"
	      "  k: {type: tf_sink, config: {queued: true}}\n"
	      "connections:\n"
	      "  - {from: src, to: a}\n"
	      "  - {from: a, to: dl}\n"
	      "  - {from: dl, to: k}\n"
	      "runtime: {workers: 1, shutdown_timeout: 2s}\n",
	      3);
	assert_int_equal(atomic_load(&otf_tf.acks), 3);
	assert_int_equal(atomic_load(&otf_tf.nacks), 0);
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 3);
	assert_int_equal(g_dl[OTF_COUNTER_ACKS], 3);
	assert_int_equal(g_dl[OTF_COUNTER_CANCELLED], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_signal_timeouts),
	    cmocka_unit_test(test_client_timeout),
	    cmocka_unit_test(test_late_nacked),
	    cmocka_unit_test(test_batch_honours_deadline),
	    cmocka_unit_test(test_failover_honours_deadline),
	    cmocka_unit_test(test_expiry_cancels),
	    cmocka_unit_test(test_message_goes_on_itself),
	    cmocka_unit_test(test_expiry_in_deadline_order),
	    cmocka_unit_test(test_answered_at_once),
	    cmocka_unit_test(test_queued_before_outcome),
	};
	return cmocka_run_group_tests(tests, setup, otf_tf_teardown);
}
