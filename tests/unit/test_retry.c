/* processor retry, in the engine: a retryable NACK from downstream makes
 * the node send the held payload again (after backoff) until it is
 * delivered, a permanent NACK is passed up at once, max_elapsed_time and
 * the message's deadline end the retries with a retryable NACK, and what
 * the node holds is bounded (max_items / max_bytes: NACK retryable,
 * counted). Test components are registered through the factory ABI. */
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
#include <time.h>
#include <unistd.h>

#define MAX_IDS 256

static _Atomic int g_acks, g_nacks, g_nack_permanent, g_seen, g_sent, g_nsources;
static _Atomic uint64_t g_sent_ids[MAX_IDS], g_sources[MAX_IDS];
static char g_reason[160]; /* last nack's, written by the source's worker */

static void reset(void)
{
	atomic_store(&g_acks, 0);
	atomic_store(&g_nacks, 0);
	atomic_store(&g_nack_permanent, 0);
	atomic_store(&g_seen, 0);
	atomic_store(&g_sent, 0);
	atomic_store(&g_nsources, 0);
	g_reason[0] = 0;
}

/* ---- src: sends `count` traces messages 1 ms after start (deadline
 * `deadline_ms` from then, 0 = none), subscribed to their outcome. */
typedef struct src_cfg {
	uint64_t count;
	uint64_t deadline_ms;
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

static uint64_t unix_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void src_control(void *inst, const otf_ctrl_t *c)
{
	src_t *s = inst;
	switch (c->type) {
	case OTF_CTRL_TMR:
		for (uint64_t i = 0; i < s->cfg->count; i++) {
			static const char span[] = {0x0a, 0x04, 0x12, 0x02, 0x12, 0x00};
			otf_msg_t *m = otf_msg_create(s->node, OTF_SIGNAL_TRACES,
			                              otf_buf_create_copy(span, sizeof span), 1);
			otf_msg_subscribe(m, s->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK, 0);
			if (s->cfg->deadline_ms)
				otf_msg_set_deadline(m,
				                     unix_ns() + s->cfg->deadline_ms * 1000000ull);
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
    {.key = "deadline_ms", .type = OTF_CFG_UINT, .offset = offsetof(src_cfg_t, deadline_ms)},
    OTF_CONFIG_FIELD_END,
};

static const otf_component_factory_t k_src = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_RECEIVER,
    .type = "rsrc",
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
 * messages (retryable, or permanent with permanent: true; fail 0 with
 * hold: true keeps every message until KIL), then acks. */
typedef struct sink_cfg {
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
	for (size_t i = 0; i < nsrc; i++) {
		int at = atomic_fetch_add(&g_nsources, 1);
		if (at < MAX_IDS)
			atomic_store(&g_sources[at], src[i]);
	}
	atomic_fetch_add(&g_seen, 1);
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
    {.key = "fail", .type = OTF_CFG_INT, .offset = offsetof(sink_cfg_t, fail), .def = "0"},
    {.key = "permanent", .type = OTF_CFG_BOOL, .offset = offsetof(sink_cfg_t, permanent)},
    {.key = "hold", .type = OTF_CFG_BOOL, .offset = offsetof(sink_cfg_t, hold)},
    OTF_CONFIG_FIELD_END,
};

static const otf_component_factory_t k_sink = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXPORTER,
    .type = "rsink",
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

/* src -> retry {retry_cfg} -> sink {sink_cfg}, one worker, started. */
static void start(run_t *r, const char *src_cfg, const char *retry_cfg, const char *sink_cfg)
{
	char yaml[1024];
	snprintf(yaml, sizeof yaml,
	         "nodes:\n"
	         "  src: {type: rsrc, config: {%s}}\n"
	         "  retry: {type: retry, config: {%s}}\n"
	         "  sink: {type: rsink, config: {%s}}\n"
	         "connections:\n"
	         "  - {from: src, to: retry}\n"
	         "  - {from: retry, to: sink}\n"
	         "runtime: {workers: 1, shutdown_timeout: 2s}\n",
	         src_cfg, retry_cfg, sink_cfg);
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

static bool was_sent(uint64_t id)
{
	for (int i = 0; i < atomic_load(&g_sent) && i < MAX_IDS; i++)
		if (atomic_load(&g_sent_ids[i]) == id)
			return true;
	return false;
}

#define FAST "initial_interval: 5ms, max_interval: 10ms, randomization_factor: 0"

/* Four retryable failures, then the sink takes everything: each of the 3
 * messages is delivered (acked upstream), every attempt carries the id of
 * the message it resends, 4 resends counted. */
static void test_retries_until_delivered(void **state)
{
	(void)state;
	run_t r;
	start(&r, "count: 3", FAST, "fail: 4");
	await_answers(3, 5000);
	assert_int_equal(atomic_load(&g_acks), 3);
	assert_int_equal(atomic_load(&g_nacks), 0);
	assert_int_equal(atomic_load(&g_seen), 7);
	assert_int_equal(atomic_load(&g_nsources), 7);
	int per_id[3] = {0};
	for (int i = 0; i < 7; i++) {
		uint64_t id = atomic_load(&g_sources[i]);
		assert_true(was_sent(id));
		for (int k = 0; k < 3; k++)
			per_id[k] += atomic_load(&g_sent_ids[k]) == id;
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
	await_answers(2, 5000);
	assert_int_equal(atomic_load(&g_nack_permanent), 2);
	assert_int_equal(atomic_load(&g_seen), 2);
	assert_string_equal(g_reason, "sink down");
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
	await_answers(1, 5000);
	assert_int_equal(atomic_load(&g_nacks), 1);
	assert_int_equal(atomic_load(&g_nack_permanent), 0);
	assert_non_null(strstr(g_reason, "no more retries left after"));
	assert_non_null(strstr(g_reason, "sink down"));
	assert_true(atomic_load(&g_seen) >= 3);
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
	await_answers(1, 1500);
	assert_int_equal(atomic_load(&g_nacks), 1);
	assert_int_equal(atomic_load(&g_nack_permanent), 0);
	assert_non_null(strstr(g_reason, "deadline exceeded"));
	assert_int_equal(atomic_load(&g_seen), 1);
	stop(&r);
}

/* Held items are bounded: with 2 held downstream, the third message is
 * refused at once (retryable, counted); the held ones are delivered. */
static void test_bounded(void **state)
{
	(void)state;
	run_t r;
	start(&r, "count: 3", FAST ", max_items: 2", "hold: true");
	await_answers(1, 5000);
	assert_int_equal(atomic_load(&g_nacks), 1);
	assert_int_equal(atomic_load(&g_nack_permanent), 0);
	assert_non_null(strstr(g_reason, "max_items 2"));
	assert_int_equal(retry_counter(&r, OTF_COUNTER_DROPPED), 1);
	stop(&r); /* the sink acks what it holds at KIL */
	assert_int_equal(atomic_load(&g_acks), 2);
	/* Bytes too: 6-byte payloads, room for one. */
	start(&r, "count: 3", FAST ", max_bytes: 10", "hold: true");
	await_answers(2, 5000);
	assert_int_equal(atomic_load(&g_nacks), 2);
	assert_non_null(strstr(g_reason, "max_bytes 10"));
	stop(&r);
	assert_int_equal(atomic_load(&g_acks), 1);
}

/* Shutdown does not wait out the backoff: messages waiting for their next
 * attempt are nacked retryable at KIL. */
static void test_shutdown_nacks_waiting(void **state)
{
	(void)state;
	run_t r;
	start(&r, "count: 2", "initial_interval: 60s", "fail: -1");
	for (int i = 0; i < 5000 && atomic_load(&g_seen) < 2; i++)
		usleep(1000);
	assert_int_equal(atomic_load(&g_seen), 2);
	stop(&r);
	assert_int_equal(atomic_load(&g_nacks), 2);
	assert_int_equal(atomic_load(&g_nack_permanent), 0);
	assert_non_null(strstr(g_reason, "retry: shutting down"));
}

/* Keys out of range are config errors. */
static void test_config_range(void **state)
{
	(void)state;
	const char *yaml = "nodes:\n"
	                   "  src: {type: rsrc}\n"
	                   "  retry: {type: retry, config: {multiplier: 0.5}}\n"
	                   "  sink: {type: rsink}\n"
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
	    cmocka_unit_test(test_config_range),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
