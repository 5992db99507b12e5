/* ERR and component status (src/engine/status.c) on a real engine with two
 * workers: a test receiver on each worker sends a message every 2 ms; a
 * test exporter answers each and reports what the test asks (g_mode):
 * a recoverable error makes the node recoverable_error (with the error's
 * reason and text), data errors leave the status alone, successes clear
 * it once every worker's instance recovered, a permanent error stays
 * after successes; every report is counted in otelcol_component_errors
 * per component and reason; shutdown shows stopping/stopped. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/config.h"
#include "otflow/selfmetric.h"
#include "otflow/service.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { M_OK, M_RECOVERABLE, M_DATA, M_PERMANENT };
static _Atomic int g_mode;
static _Atomic int g_seen[2]; /* messages the sink consumed, per worker */

typedef struct tsrc {
	otf_node_t *node;
} tsrc_t;

static int tsrc_create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	tsrc_t *s = otf_calloc(1, sizeof *s);
	if (!s)
		return OTF_E_NOMEM;
	s->node = ctx->node;
	*inst = s;
	return 0;
}

static int tsrc_start(void *inst)
{
	tsrc_t *s = inst;
	return otf_node_timer_start(s->node, 2, 2, 1) > 0 ? 0 : OTF_E_NOMEM;
}

static void tsrc_control(void *inst, const otf_ctrl_t *c)
{
	tsrc_t *s = inst;
	if (c->type == OTF_CTRL_TMR) {
		static const char span[] = {0x0a, 0x04, 0x12, 0x02, 0x12, 0x00};
		otf_msg_t *m = otf_msg_create(s->node, OTF_SIGNAL_TRACES,
		                              otf_buf_create_copy(span, sizeof span), 1);
		if (m && otf_node_send(s->node, m))
			otf_msg_drop(m);
	} else if (c->type == OTF_CTRL_KIL) {
		otf_node_shutdown_done(s->node);
	}
}

typedef struct tsink {
	otf_node_t *node;
} tsink_t;

static void tsink_consume(void *inst, otf_msg_t *m)
{
	tsink_t *k = inst;
	atomic_fetch_add(&g_seen[otf_node_worker_index(k->node) & 1], 1);
	switch (atomic_load(&g_mode)) {
	case M_RECOVERABLE:
		otf_node_error(k->node, OTF_ERR_RECOVERABLE, "export_failed", "backend %s", "down");
		break;
	case M_DATA:
		otf_node_error(k->node, OTF_ERR_DATA, "decode_error", "bad request");
		break;
	case M_PERMANENT:
		otf_node_error(k->node, OTF_ERR_PERMANENT, "misconfigured", "no such bucket");
		break;
	default:
		otf_node_recovered(k->node);
	}
	otf_msg_ack(m);
}

static void tsink_control(void *inst, const otf_ctrl_t *c)
{
	tsink_t *k = inst;
	if (c->type == OTF_CTRL_KIL)
		otf_node_shutdown_done(k->node);
}

static int tsink_create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	tsink_t *k = otf_calloc(1, sizeof *k);
	if (!k)
		return OTF_E_NOMEM;
	k->node = ctx->node;
	*inst = k;
	return 0;
}

static void plain_destroy(void *inst)
{
	otf_free(inst);
}

static const otf_component_factory_t k_tsrc = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_RECEIVER,
    .type = "tsrc",
    .description = "test source",
    .stability = {OTF_STABILITY_DEVELOPMENT},
    .create = {tsrc_create},
    .start = tsrc_start,
    .control = tsrc_control,
    .destroy = plain_destroy,
};

static const otf_component_factory_t k_tsink = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXPORTER,
    .type = "tsink",
    .description = "test sink",
    .stability = {OTF_STABILITY_DEVELOPMENT},
    .create = {tsink_create},
    .consume = {tsink_consume},
    .control = tsink_control,
    .destroy = plain_destroy,
};

static const char k_yaml[] = "nodes:\n"
                             "  src: {kind: receiver, type: tsrc}\n"
                             "  sink: {kind: exporter, type: tsink}\n"
                             "connections:\n"
                             "  - {from: src, to: sink}\n"
                             "runtime: {workers: 2}\n";

static otf_node_stats_t g_st[8];

static const otf_node_stats_t *sink_stats(otf_engine_t *e)
{
	size_t n = otf_engine_stats(e, g_st, 8);
	for (size_t i = 0; i < n && i < 8; i++)
		if (!strcmp(g_st[i].name, "sink"))
			return &g_st[i];
	fail_msg("no sink in the stats");
	return NULL;
}

/* Waits (5 s at most) until the sink's status is want. */
static void wait_status(otf_engine_t *e, otf_component_status_t want)
{
	for (int i = 0; i < 5000; i++) {
		if (sink_stats(e)->status == want)
			return;
		usleep(1000);
	}
	fail_msg("sink status %s, want %s", otf_component_status_name(sink_stats(e)->status),
	         otf_component_status_name(want));
}

/* Lets both workers' sinks consume at least n more messages. */
static void let_run(int n)
{
	int a = atomic_load(&g_seen[0]) + n, b = atomic_load(&g_seen[1]) + n;
	for (int i = 0; i < 5000 && (atomic_load(&g_seen[0]) < a || atomic_load(&g_seen[1]) < b);
	     i++)
		usleep(1000);
	assert_true(atomic_load(&g_seen[0]) >= a && atomic_load(&g_seen[1]) >= b);
}

typedef struct count_ctx {
	const char *reason;
	uint64_t value;
} count_ctx_t;

static void count_cb(void *ctx, const otf_selfcounter_t *c, uint64_t v)
{
	count_ctx_t *k = ctx;
	if (!strcmp(c->name, "otelcol_component_errors") && !strcmp(c->label, "sink") &&
	    c->label2_key && !strcmp(c->label2_key, "reason") && !strcmp(c->label2, k->reason))
		k->value += v;
}

static uint64_t errors_of(const char *reason)
{
	count_ctx_t k = {reason, 0};
	otf_selfcounters_each(count_cb, &k);
	return k.value;
}

static void test_status(void **state)
{
	(void)state;
	otf_components_register_builtins();
	otf_component_register(&k_tsrc);
	otf_component_register(&k_tsink);
	otf_config_t *cfg = NULL;
	otf_config_error_t err;
	assert_int_equal(otf_config_load_string("t.yaml", k_yaml, strlen(k_yaml), NULL, &cfg, &err),
	                 0);
	otf_dag_t *dag = NULL;
	otf_service_settings_t st;
	if (otf_service_build(cfg, &dag, &st, &err))
		fail_msg("%s", err.text);
	otf_log_set_level(OTF_LOG_ERROR);
	atomic_store(&g_mode, M_OK);
	otf_engine_t *e = NULL;
	assert_int_equal(otf_engine_start(dag, &st.runtime, &e), 0);
	assert_int_equal(otf_engine_workers(e), 2);
	let_run(3);
	assert_int_equal(sink_stats(e)->status, OTF_STATUS_OK);
	assert_string_equal(sink_stats(e)->error, "");

	atomic_store(&g_mode, M_RECOVERABLE);
	wait_status(e, OTF_STATUS_RECOVERABLE_ERROR);
	assert_string_equal(sink_stats(e)->error, "export_failed: backend down");
	let_run(3);
	uint64_t failed = errors_of("export_failed");
	assert_true(failed >= 6);

	/* Data errors are counted and leave the status as it is. */
	atomic_store(&g_mode, M_DATA);
	let_run(3);
	assert_int_equal(sink_stats(e)->status, OTF_STATUS_RECOVERABLE_ERROR);
	assert_true(errors_of("decode_error") >= 6);
	assert_true(errors_of("export_failed") >= failed);

	/* Both workers' instances must succeed before the node is ok. */
	atomic_store(&g_mode, M_OK);
	let_run(2);
	assert_int_equal(sink_stats(e)->status, OTF_STATUS_OK);
	assert_string_equal(sink_stats(e)->error, "");

	/* A permanent error stays: successes do not clear it. */
	atomic_store(&g_mode, M_PERMANENT);
	wait_status(e, OTF_STATUS_PERMANENT_ERROR);
	atomic_store(&g_mode, M_OK);
	let_run(3);
	assert_int_equal(sink_stats(e)->status, OTF_STATUS_PERMANENT_ERROR);
	assert_string_equal(sink_stats(e)->error, "misconfigured: no such bucket");
	assert_true(errors_of("misconfigured") >= 1);

	otf_engine_request_stop(e);
	otf_component_status_t s = sink_stats(e)->status;
	assert_true(s == OTF_STATUS_STOPPING || s == OTF_STATUS_STOPPED);
	assert_true(otf_engine_join(e) >= 0);
	otf_dag_destroy(dag);
	otf_config_destroy(cfg);
}

static void test_status_names(void **state)
{
	(void)state;
	assert_string_equal(otf_component_status_name(OTF_STATUS_OK), "StatusOK");
	assert_string_equal(otf_component_status_name(OTF_STATUS_RECOVERABLE_ERROR),
	                    "StatusRecoverableError");
	assert_string_equal(otf_component_status_name(OTF_STATUS_PERMANENT_ERROR),
	                    "StatusPermanentError");
	assert_string_equal(otf_component_status_name(OTF_STATUS_STOPPED), "StatusStopped");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status),
	    cmocka_unit_test(test_status_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
