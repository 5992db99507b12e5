/* A plugin that holds messages past their deadline (tests/plugins
 * abi_hold: acks everything 600 ms after the first arrived): the host
 * NACKs each one upstream at its deadline (-ETIMEDOUT, retryable) and
 * frees it only when the plugin lets go later, which then answers
 * nothing a second time; messages without a deadline are the plugin's to
 * answer, however late. ASan checks that the late acks touch no freed
 * memory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otflow/alloc.h"
#include "otflow/config.h"
#include "otflow/err.h"
#include "otflow/plugin.h"
#include "otflow/service.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Atomic int g_acks, g_nacks, g_timeouts;
static char g_reason[160];

typedef struct src_cfg {
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
	s->node = ctx->node;
	s->cfg = ctx->config;
	*inst = s;
	return 0;
}

static int src_start(void *inst)
{
	otf_node_timer_start(((src_t *)inst)->node, 1, 0, 1);
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
	if (c->type == OTF_CTRL_TMR) {
		for (int i = 0; i < 3; i++) {
			static const char logs[] = {0x0a, 0x04, 0x12, 0x02, 0x12, 0x00};
			otf_msg_t *m = otf_msg_create(s->node, OTF_SIGNAL_LOGS,
			                              otf_buf_create_copy(logs, sizeof logs), 1);
			otf_msg_subscribe(m, s->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK, 0);
			if (s->cfg->deadline_ms)
				otf_msg_set_deadline(m,
				                     unix_ns() + s->cfg->deadline_ms * 1000000ull);
			if (otf_node_send(s->node, m))
				otf_msg_drop(m);
		}
	} else if (c->type == OTF_CTRL_ACK) {
		atomic_fetch_add(&g_acks, 1);
	} else if (c->type == OTF_CTRL_NACK) {
		snprintf(g_reason, sizeof g_reason, "%s", c->reason);
		atomic_fetch_add(&g_nacks, 1);
		if (c->error == -ETIMEDOUT && !c->permanent)
			atomic_fetch_add(&g_timeouts, 1);
	} else if (c->type == OTF_CTRL_KIL) {
		otf_node_shutdown_done(s->node);
	}
}

static void src_destroy(void *inst)
{
	otf_free(inst);
}

static const otf_config_field_t k_src_schema[] = {
    {.key = "deadline_ms", .type = OTF_CFG_UINT, .offset = offsetof(src_cfg_t, deadline_ms)},
    OTF_CONFIG_FIELD_END,
};

static const otf_component_factory_t k_src = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_RECEIVER,
    .type = "deadline_src",
    .description = "test",
    .stability = {[OTF_SIGNAL_LOGS] = OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_src_schema,
    .config_size = sizeof(src_cfg_t),
    .create = {[OTF_SIGNAL_LOGS] = src_create},
    .start = src_start,
    .control = src_control,
    .destroy = src_destroy,
};

static int setup(void **state)
{
	(void)state;
	otf_components_register_builtins();
	assert_int_equal(otf_component_register(&k_src), 0);
	const char *b = getenv("OTF_BUILD_DIR");
	char path[1024], err[600];
	snprintf(path, sizeof path, "%s/plugins/abi_hold.so", b ? b : ".");
	int rc = otf_plugin_load(path, err, sizeof err);
	if (rc)
		fail_msg("%s", err);
	return 0;
}

/* Runs src(deadline_ms) -> abi_hold -> nop until want outcomes arrived
 * (10 s at most), then stops. */
static void run(uint64_t deadline_ms, int want)
{
	atomic_store(&g_acks, 0);
	atomic_store(&g_nacks, 0);
	atomic_store(&g_timeouts, 0);
	char yaml[512];
	snprintf(yaml, sizeof yaml,
	         "receivers: {deadline_src: {deadline_ms: %llu}}\n"
	         "processors: {abi_hold: {}}\n"
	         "exporters: {nop: {}}\n"
	         "service:\n"
	         "  admin: {endpoint: \"\"}\n"
	         "  telemetry: {metrics: {level: none}}\n"
	         "  pipelines: {logs: {receivers: [deadline_src], processors: [abi_hold], "
	         "exporters: [nop]}}\n"
	         "runtime: {workers: 1}\n",
	         (unsigned long long)deadline_ms);
	otf_config_t *cfg;
	otf_config_error_t cerr;
	assert_int_equal(otf_config_load_string("t.yaml", yaml, strlen(yaml), NULL, &cfg, &cerr),
	                 0);
	otf_dag_t *dag;
	otf_service_settings_t st;
	if (otf_service_build(cfg, &dag, &st, &cerr))
		fail_msg("%s", cerr.text);
	otf_engine_t *e;
	assert_int_equal(otf_engine_start(dag, &st.runtime, &e), 0);
	for (int i = 0; i < 1000 && atomic_load(&g_acks) + atomic_load(&g_nacks) < want; i++)
		usleep(10000);
	/* Past the plugin's late acks (600 ms after the first message). */
	usleep(900000);
	otf_engine_request_stop(e);
	assert_true(otf_engine_join(e) >= 0);
	otf_dag_destroy(dag);
	otf_config_destroy(cfg);
}

static void test_held_past_deadline_is_nacked_once(void **state)
{
	(void)state;
	run(100, 3);
	assert_int_equal(atomic_load(&g_timeouts), 3);
	assert_int_equal(atomic_load(&g_nacks), 3);
	/* The plugin's acks 600 ms later answered nothing again. */
	assert_int_equal(atomic_load(&g_acks), 0);
	assert_non_null(strstr(g_reason, "deadline exceeded while a plugin component held"));
}

static void test_without_deadline_the_plugin_answers(void **state)
{
	(void)state;
	run(0, 3);
	assert_int_equal(atomic_load(&g_acks), 3);
	assert_int_equal(atomic_load(&g_nacks), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_held_past_deadline_is_nacked_once),
	    cmocka_unit_test(test_without_deadline_the_plugin_answers),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
