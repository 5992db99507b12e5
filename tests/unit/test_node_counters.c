/* The engine's own per-node counters (OTF_COUNTER_ITEMS_IN ...,
 * src/engine/node.c, msg.c): items and messages into and out of every
 * node, processors included, on the channel path and the fused one (the
 * test_node_counters_nofuse variant runs the same with OTFLOW_FUSE=0),
 * ACK/NACK signals per node, as otf_engine_stats and the DAG JSON show
 * them; and a NACK no one upstream hears (the source did not subscribe,
 * as a receiver with wait_for_result false) counted at the node that
 * refused it. A real filter processor drops records in between. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "flow_nodes.h"

#include "otflow/alloc.h"
#include "otflow/arena.h"
#include "otflow/config.h"
#include "otflow/engine.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"
#include "otflow/service.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* 0: four records, one with k == "a" (the filter drops it);
 * 1: two records, both k == "a" (the filter drops the whole message). */
#define REC(v)                                                                         \
	"{\"body\":{\"stringValue\":\"r\"},\"attributes\":[{\"key\":\"k\",\"value\":{" \
	"\"stringValue\":\"" v "\"}}]}"
static const char *const k_json[] = {
    "{\"resourceLogs\":[{\"resource\":{},\"scopeLogs\":[{\"scope\":{\"name\":\"s\"},"
    "\"logRecords\":[" REC("b") "," REC("a") "," REC("c") "," REC("d") "]}]}]}",
    "{\"resourceLogs\":[{\"resource\":{},\"scopeLogs\":[{\"scope\":{\"name\":\"s\"},"
    "\"logRecords\":[" REC("a") "," REC("a") "]}]}]}",
};

static otf_buf_t *pb_of(int i)
{
	otf_arena_t a;
	otf_arena_init(&a, 4096);
	otf_logs_t l;
	otf_buf_t *b = NULL;
	if (otf_pdata_json_decode_logs(&l, k_json[i], strlen(k_json[i]), &a, NULL, NULL) ||
	    otf_pdata_encode_logs(&l, &b))
		fail_msg("payload %d does not encode", i);
	otf_arena_close(&a);
	return b;
}

static int setup(void **state)
{
	(void)state;
	otf_components_register_builtins();
	otf_tf_register();
	otf_tf_set_payloads(pb_of, OTF_SIGNAL_LOGS);
	otf_log_set_level(OTF_LOG_ERROR);
	return 0;
}

typedef struct run {
	otf_config_t *cfg;
	otf_dag_t *dag;
	otf_service_settings_t st;
	otf_engine_t *e;
	otf_node_stats_t stats[8];
	size_t n;
} run_t;

static void start(run_t *r, const char *yaml)
{
	memset(r, 0, sizeof *r);
	otf_tf_reset();
	otf_config_error_t err = {0};
	int rc = otf_config_load_string("test.yaml", yaml, strlen(yaml), NULL, &r->cfg, &err);
	if (!rc)
		rc = otf_service_build(r->cfg, &r->dag, &r->st, &err);
	if (rc)
		fail_msg("build: %s", err.text);
	otf_log_set_level(OTF_LOG_ERROR);
	assert_int_equal(otf_engine_start(r->dag, &r->st.runtime, &r->e), 0);
}

/* Stops the engine and keeps the final counters (they stay after join). */
static void stop(run_t *r)
{
	otf_engine_request_stop(r->e);
	r->n = otf_engine_stats(r->e, r->stats, 8);
	assert_int_equal(otf_engine_join(r->e), 0);
}

static void free_run(run_t *r)
{
	otf_dag_destroy(r->dag);
	otf_config_destroy(r->cfg);
}

static uint64_t counter(run_t *r, const char *node, otf_node_counter_t c)
{
	for (size_t i = 0; i < r->n && i < 8; i++)
		if (!strcmp(r->stats[i].name, node))
			return r->stats[i].counters[c][OTF_SIGNAL_LOGS];
	fail_msg("no node %s in the stats", node);
	return 0;
}

#define EXPECT(r, node, c, v)                                                                      \
	do {                                                                                       \
		uint64_t got_ = counter(r, node, c);                                               \
		if (got_ != (uint64_t)(v))                                                         \
			fail_msg("%s %s: %llu, expected %llu", node, #c, (unsigned long long)got_, \
			         (unsigned long long)(v));                                         \
	} while (0)

/* receiver -> filter (drops k == "a") -> exporter: 5 messages of 4
 * records and 2 of 2 records, all of whose records are dropped. */
static void test_chain_counts(void **state)
{
	(void)state;
	run_t r;
	start(&r, "receivers:\n"
	          "  tf_src: {payload: 0, items: 4, count: 5}\n"
	          "  tf_src/2: {payload: 1, items: 2, count: 2}\n"
	          "processors:\n"
	          "  filter: {log_conditions: ['log.attributes[\"k\"] == \"a\"']}\n"
	          "exporters: {tf_sink: {}}\n"
	          "runtime: {workers: 1, shutdown_timeout: 2s}\n"
	          "service:\n"
	          "  telemetry: {metrics: {level: none}}\n"
	          "  pipelines:\n"
	          "    logs: {receivers: [tf_src, tf_src/2], processors: [filter],\n"
	          "           exporters: [tf_sink]}\n");
	otf_tf_await_answers(7, 5000);
	assert_int_equal(atomic_load(&otf_tf.acks), 7);
	/* The sink got the 5 filtered messages of 3 records. */
	otf_tf_await_seen(0, 5, 5000);
	for (int i = 0; i < 5; i++)
		assert_int_equal(atomic_load(&otf_tf.sink[0].items[i]), 3);
	stop(&r);

	const char *src = "receiver:tf_src", *src2 = "receiver:tf_src/2";
	const char *flt = "processor:filter@logs", *snk = "exporter:tf_sink";
	EXPECT(&r, src, OTF_COUNTER_ITEMS_OUT, 20);
	EXPECT(&r, src, OTF_COUNTER_MSGS_OUT, 5);
	EXPECT(&r, src, OTF_COUNTER_ITEMS_IN, 0);
	EXPECT(&r, src2, OTF_COUNTER_ITEMS_OUT, 4);
	EXPECT(&r, src2, OTF_COUNTER_MSGS_OUT, 2);
	/* The sources subscribed: every outcome is an ACK delivered to them. */
	EXPECT(&r, src, OTF_COUNTER_ACKS, 5);
	EXPECT(&r, src2, OTF_COUNTER_ACKS, 2);
	EXPECT(&r, src, OTF_COUNTER_NACKS, 0);
	EXPECT(&r, flt, OTF_COUNTER_ITEMS_IN, 24);
	EXPECT(&r, flt, OTF_COUNTER_MSGS_IN, 7);
	EXPECT(&r, flt, OTF_COUNTER_ITEMS_OUT, 15);
	EXPECT(&r, flt, OTF_COUNTER_MSGS_OUT, 5);
	EXPECT(&r, flt, OTF_COUNTER_DROPPED, 9); /* the filter's own count */
	/* The filter answers the source itself for what it sends on (it
	 * subscribes to those 5): their ACKs are delivered to it. */
	EXPECT(&r, flt, OTF_COUNTER_ACKS, 5);
	EXPECT(&r, snk, OTF_COUNTER_ACKS, 0);
	EXPECT(&r, snk, OTF_COUNTER_ITEMS_IN, 15);
	EXPECT(&r, snk, OTF_COUNTER_MSGS_IN, 5);
	EXPECT(&r, snk, OTF_COUNTER_ITEMS_OUT, 0);
	EXPECT(&r, flt, OTF_COUNTER_DROPPED_ANSWERED, 0);

	/* The DAG JSON of the admin API carries them by name. */
	char *json = NULL;
	size_t len = 0;
	assert_int_equal(otf_dag_describe_json(r.dag, r.stats, r.n, &json, &len), 0);
	const char *at = strstr(json, "\"id\":\"processor:filter@logs\"");
	assert_non_null(at);
	const char *end = strstr(at, "\"status\"");
	assert_non_null(end);
	char node[1024];
	snprintf(node, sizeof node, "%.*s", (int)(end - at), at);
	const char *want[] = {"\"items_in\":24",   "\"items_out\":15",
	                      "\"messages_in\":7", "\"messages_out\":5",
	                      "\"acks\":5",        "\"nacks\":0",
	                      "\"dropped\":9",     "\"dropped_after_answer\":0"};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (!strstr(node, want[i]))
			fail_msg("filter's JSON lacks %s: %s", want[i], node);
	otf_free(json);
	free_run(&r);
}

/* A permanent NACK with no one subscribed upstream (the source sends
 * without subscribing, as a receiver answering at ingress): counted as
 * dropped_after_answer at the node whose answer no one hears (the sink
 * that refused it, or a node passing the refusal upstream). With the
 * source subscribed, the same NACK is heard and not counted. */
static void test_unheard_nack_counted(void **state)
{
	(void)state;
	run_t r;
	start(&r, "receivers: {tf_src: {payload: 0, items: 4, count: 3, nosub: true}}\n"
	          "exporters: {tf_sink: {fail: -1, permanent: true, reason: \"bad data\"}}\n"
	          "runtime: {workers: 1, shutdown_timeout: 2s}\n"
	          "service:\n"
	          "  telemetry: {metrics: {level: none}}\n"
	          "  pipelines:\n"
	          "    logs: {receivers: [tf_src], exporters: [tf_sink]}\n");
	otf_tf_await_seen(0, 3, 5000);
	stop(&r);
	EXPECT(&r, "exporter:tf_sink", OTF_COUNTER_DROPPED_ANSWERED, 12);
	EXPECT(&r, "exporter:tf_sink", OTF_COUNTER_ITEMS_IN, 12);
	EXPECT(&r, "receiver:tf_src", OTF_COUNTER_NACKS, 0);
	free_run(&r);

	/* A filter in between answers the source for the message it sent on:
	 * the sink's refusal reaches the filter (heard), and the filter's
	 * refusal of the original, which no one hears, is counted there. */
	start(&r, "receivers: {tf_src: {payload: 0, items: 4, count: 3, nosub: true}}\n"
	          "processors:\n"
	          "  filter: {log_conditions: ['log.attributes[\"k\"] == \"a\"']}\n"
	          "exporters: {tf_sink: {fail: -1, permanent: true, reason: \"bad data\"}}\n"
	          "runtime: {workers: 1, shutdown_timeout: 2s}\n"
	          "service:\n"
	          "  telemetry: {metrics: {level: none}}\n"
	          "  pipelines:\n"
	          "    logs: {receivers: [tf_src], processors: [filter], exporters: [tf_sink]}\n");
	otf_tf_await_seen(0, 3, 5000);
	stop(&r);
	EXPECT(&r, "exporter:tf_sink", OTF_COUNTER_DROPPED_ANSWERED, 0);
	EXPECT(&r, "processor:filter@logs", OTF_COUNTER_NACKS, 3);
	EXPECT(&r, "processor:filter@logs", OTF_COUNTER_DROPPED_ANSWERED, 12);
	free_run(&r);

	start(&r, "receivers: {tf_src: {payload: 0, count: 3}}\n"
	          "exporters: {tf_sink: {fail: -1, permanent: true, reason: \"bad data\"}}\n"
	          "runtime: {workers: 1, shutdown_timeout: 2s}\n"
	          "service:\n"
	          "  telemetry: {metrics: {level: none}}\n"
	          "  pipelines:\n"
	          "    logs: {receivers: [tf_src], exporters: [tf_sink]}\n");
	otf_tf_await_answers(3, 5000);
	assert_int_equal(atomic_load(&otf_tf.nack_permanent), 3);
	stop(&r);
	EXPECT(&r, "exporter:tf_sink", OTF_COUNTER_DROPPED_ANSWERED, 0);
	EXPECT(&r, "receiver:tf_src", OTF_COUNTER_NACKS, 3);
	free_run(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_chain_counts),
	    cmocka_unit_test(test_unheard_nack_counted),
	};
	return cmocka_run_group_tests(tests, setup, otf_tf_teardown);
}
