/* processor retry, in the engine: a retryable NACK from downstream makes
 * the node send the held payload again (after backoff) until it is
 * delivered, a permanent NACK is passed up at once, max_elapsed_time and
 * the message's deadline end the retries with a retryable NACK, and what
 * the node holds is bounded (max_items / max_bytes: NACK retryable,
 * counted). The test source and sink are tests/support/flow_nodes.h's. */
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

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int setup(void **state)
{
	(void)state;
	otf_components_register_builtins();
	otf_tf_register();
	otf_log_set_level(OTF_LOG_ERROR);
	return 0;
}

typedef struct run {
	otf_config_t *cfg;
	otf_dag_t *dag;
	otf_service_settings_t st;
	otf_engine_t *e;
} run_t;

/* src -> retry {retry_cfg} -> sink {sink_cfg}, one worker, started. */
static void start(run_t *r, const char *src_cfg, const char *retry_cfg, const char *sink_cfg)
{
	char yaml[1024];
	snprintf(yaml, sizeof yaml,
	         "nodes:\n"
	         "  src: {type: tf_src, config: {%s}}\n"
	         "  retry: {type: retry, config: {%s}}\n"
	         "  sink: {type: tf_sink, config: {%s}}\n"
	         "connections:\n"
	         "  - {from: src, to: retry}\n"
	         "  - {from: retry, to: sink}\n"
	         "runtime: {workers: 1, shutdown_timeout: 2s}\n",
	         src_cfg, retry_cfg, sink_cfg);
	memset(r, 0, sizeof *r);
	otf_tf_reset();
	otf_config_error_t err;
	int rc = otf_config_load_string("test.yaml", yaml, strlen(yaml), NULL, &r->cfg, &err);
	if (!rc)
		rc = otf_service_build(r->cfg, &r->dag, &r->st, &err);
	if (rc)
		fail_msg("build: %s", err.text);
	otf_log_set_level(OTF_LOG_ERROR);
	assert_int_equal(otf_engine_start(r->dag, &r->st.runtime, &r->e), 0);
}

/* Counter c of node "processor:retry", traces. */
static uint64_t retry_counter(run_t *r, otf_node_counter_t c)
{
	otf_node_stats_t st[8];
	size_t n = otf_engine_stats(r->e, st, 8);
	for (size_t i = 0; i < n && i < 8; i++)
		if (strstr(st[i].name, "retry"))
			return st[i].counters[c][OTF_SIGNAL_TRACES];
	fail_msg("no retry node in the stats");
	return 0;
}

static void stop(run_t *r)
{
	otf_engine_request_stop(r->e);
	assert_int_equal(otf_engine_join(r->e), 0);
	otf_dag_destroy(r->dag);
	otf_config_destroy(r->cfg);
}

#define FAST "initial_interval: 5ms, max_interval: 10ms, randomization_factor: 0"

/* Four retryable failures, then the sink takes everything: each of the 3
 * messages is delivered (acked upstream), every attempt is the message it
 * resends (its id, no message of the retry node's own), 4 resends
 * counted. */
static void test_retries_until_delivered(void **state)
{
	(void)state;
	run_t r;
	start(&r, "count: 3", FAST, "fail: 4");
	otf_tf_await_answers(3, 5000);
	assert_int_equal(atomic_load(&otf_tf.acks), 3);
	assert_int_equal(atomic_load(&otf_tf.nacks), 0);
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 7);
	assert_int_equal(atomic_load(&otf_tf.sink[0].nsources), 0);
	int per_id[3] = {0};
	for (int i = 0; i < 7; i++) {
		uint64_t id = atomic_load(&otf_tf.sink[0].id[i]);
		assert_true(otf_tf_was_sent(id));
		for (int k = 0; k < 3; k++)
			per_id[k] += atomic_load(&otf_tf.sent_ids[k]) == id;
	}
	for (int k = 0; k < 3; k++)
		assert_true(per_id[k] >= 1);
	assert_int_equal(retry_counter(&r, OTF_COUNTER_RETRIED), 4);
	assert_int_equal(retry_counter(&r, OTF_COUNTER_DROPPED), 0);
	stop(&r);
}

/* A permanent failure goes up at once, without a second attempt. */
static void test_permanent_passed_up(void **state)
{
	(void)state;
	run_t r;
	start(&r, "count: 2", FAST, "fail: -1, permanent: true");
	otf_tf_await_answers(2, 5000);
	assert_int_equal(atomic_load(&otf_tf.nack_permanent), 2);
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 2);
	assert_string_equal(otf_tf.reason, "sink down");
	assert_int_equal(retry_counter(&r, OTF_COUNTER_RETRIED), 0);
	stop(&r);
}

/* max_elapsed_time ends the retries: retryable NACK naming the attempts,
 * the items counted as dropped. */
static void test_max_elapsed_time(void **state)
{
	(void)state;
	run_t r;
	start(&r, "count: 1", FAST ", max_elapsed_time: 40ms", "fail: -1");
	otf_tf_await_answers(1, 5000);
	assert_int_equal(atomic_load(&otf_tf.nacks), 1);
	assert_int_equal(atomic_load(&otf_tf.nack_permanent), 0);
	assert_non_null(strstr(otf_tf.reason, "no more retries left after"));
	assert_non_null(strstr(otf_tf.reason, "sink down"));
	assert_true(atomic_load(&otf_tf.sink[0].seen) >= 3);
	assert_int_equal(retry_counter(&r, OTF_COUNTER_DROPPED), 1);
	stop(&r);
}

/* The message's deadline (2 s) comes before the next attempt (5 s away):
 * the NACK comes at once, not after the wait. */
static void test_deadline(void **state)
{
	(void)state;
	run_t r;
	start(&r, "count: 1, deadline_ms: 2000", "initial_interval: 5s, randomization_factor: 0",
	      "fail: -1");
	otf_tf_await_answers(1, 1500);
	assert_int_equal(atomic_load(&otf_tf.nacks), 1);
	assert_int_equal(atomic_load(&otf_tf.nack_permanent), 0);
	assert_non_null(strstr(otf_tf.reason, "deadline exceeded"));
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 1);
	stop(&r);
}

/* Held items are bounded: with 2 held downstream, the third message is
 * refused at once (retryable, counted); the held ones are delivered. */
static void test_bounded(void **state)
{
	(void)state;
	run_t r;
	start(&r, "count: 3", FAST ", max_items: 2", "hold: true");
	otf_tf_await_answers(1, 5000);
	assert_int_equal(atomic_load(&otf_tf.nacks), 1);
	assert_int_equal(atomic_load(&otf_tf.nack_permanent), 0);
	assert_non_null(strstr(otf_tf.reason, "max_items 2"));
	assert_int_equal(retry_counter(&r, OTF_COUNTER_DROPPED), 1);
	stop(&r); /* the sink acks what it holds at KIL */
	assert_int_equal(atomic_load(&otf_tf.acks), 2);
	/* Bytes too: 6-byte payloads, room for one. */
	start(&r, "count: 3", FAST ", max_bytes: 10", "hold: true");
	otf_tf_await_answers(2, 5000);
	assert_int_equal(atomic_load(&otf_tf.nacks), 2);
	assert_non_null(strstr(otf_tf.reason, "max_bytes 10"));
	stop(&r);
	assert_int_equal(atomic_load(&otf_tf.acks), 1);
}

/* Shutdown does not wait out the backoff: messages waiting for their next
 * attempt are nacked retryable at KIL. */
static void test_shutdown_nacks_waiting(void **state)
{
	(void)state;
	run_t r;
	start(&r, "count: 2", "initial_interval: 60s", "fail: -1");
	for (int i = 0; i < 5000 && atomic_load(&otf_tf.sink[0].seen) < 2; i++)
		usleep(1000);
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 2);
	stop(&r);
	assert_int_equal(atomic_load(&otf_tf.nacks), 2);
	assert_int_equal(atomic_load(&otf_tf.nack_permanent), 0);
	assert_non_null(strstr(otf_tf.reason, "retry: shutting down"));
}

/* A NACK and the ACKs the sink gives at once, inside retry's send when
 * the stage is fused (otf_node_send_watched: no control signal) or as
 * control signals when not (test_retry_nofuse): the same outcome either
 * way. The nacked message is sent again (same id) and delivered, every
 * message is acked upstream once, and the engine counts at retry the
 * outcomes it heard (5 ACKs, 1 NACK) and the resend. */
static void test_nack_heard_resends(void **state)
{
	(void)state;
	run_t r;
	start(&r, "count: 5", FAST, "nack_at: 1");
	otf_tf_await_answers(5, 5000);
	assert_int_equal(atomic_load(&otf_tf.acks), 5);
	assert_int_equal(atomic_load(&otf_tf.nacks), 0);
	otf_tf_await_seen(0, 6, 5000);
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 6);
	assert_int_equal(atomic_load(&otf_tf.sink[0].nacked), 1);
	/* the resend is the message nacked, after the four others */
	assert_int_equal(atomic_load(&otf_tf.sink[0].id[5]), atomic_load(&otf_tf.sink[0].id[1]));
	for (int i = 0; i < 5; i++)
		assert_int_equal(atomic_load(&otf_tf.acked[i]), 1);
	assert_int_equal(retry_counter(&r, OTF_COUNTER_RETRIED), 1);
	assert_int_equal(retry_counter(&r, OTF_COUNTER_DROPPED), 0);
	assert_int_equal(retry_counter(&r, OTF_COUNTER_ACKS), 5);
	assert_int_equal(retry_counter(&r, OTF_COUNTER_NACKS), 1);
	assert_int_equal(retry_counter(&r, OTF_COUNTER_MSGS_IN), 5);
	stop(&r);
}

/* What is held is what has no outcome yet: a message acked at once (in
 * the send, fused) leaves nothing held, one waiting for its resend holds
 * * its items until then. Ten messages 4 ms apart through max_items 3, the
 * fourth nacked once: all ten delivered, none refused, so every ACK gave
 * its items back (a leak would refuse the later ones). */
static void test_outcomes_free_the_bound(void **state)
{
	(void)state;
	run_t r;
	start(&r, "count: 1, again_ms: 4, repeat: 9", FAST ", max_items: 3", "nack_at: 3");
	otf_tf_await_answers(10, 10000);
	assert_int_equal(atomic_load(&otf_tf.acks), 10);
	assert_int_equal(atomic_load(&otf_tf.nacks), 0);
	assert_int_equal(retry_counter(&r, OTF_COUNTER_DROPPED), 0);
	assert_int_equal(retry_counter(&r, OTF_COUNTER_RETRIED), 1);
	assert_int_equal(retry_counter(&r, OTF_COUNTER_ACKS), 10);
	stop(&r);
}

/* Keys out of range are config errors. */
static void test_config_range(void **state)
{
	(void)state;
	const char *yaml = "nodes:\n"
	                   "  src: {type: tf_src}\n"
	                   "  retry: {type: retry, config: {multiplier: 0.5}}\n"
	                   "  sink: {type: tf_sink}\n"
	                   "connections:\n"
	                   "  - {from: src, to: retry}\n"
	                   "  - {from: retry, to: sink}\n";
	otf_config_t *cfg = NULL;
	otf_dag_t *dag = NULL;
	otf_service_settings_t st;
	otf_config_error_t err;
	int rc = otf_config_load_string("test.yaml", yaml, strlen(yaml), NULL, &cfg, &err);
	if (!rc)
		rc = otf_service_build(cfg, &dag, &st, &err);
	assert_int_not_equal(rc, 0);
	if (!strstr(err.text, "test.yaml:3") || !strstr(err.text, "multiplier"))
		fail_msg("error lacks file:line or key: %s", err.text);
	if (dag)
		otf_dag_destroy(dag);
	otf_config_destroy(cfg);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_retries_until_delivered),
	    cmocka_unit_test(test_permanent_passed_up),
	    cmocka_unit_test(test_max_elapsed_time),
	    cmocka_unit_test(test_deadline),
	    cmocka_unit_test(test_bounded),
	    cmocka_unit_test(test_shutdown_nacks_waiting),
	    cmocka_unit_test(test_nack_heard_resends),
	    cmocka_unit_test(test_outcomes_free_the_bound),
	    cmocka_unit_test(test_config_range),
	};
	return cmocka_run_group_tests(tests, setup, otf_tf_teardown);
}
