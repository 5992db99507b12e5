/* What crosses the plugin boundary (otflow/plugin.h, docs/plugins.md): a
 * message forwarded by a plugin processor (tests/plugins abi_probe)
 * reaches the next node with the very buffer the source sent (zero copy:
 * the same otf_buf_t, the same bytes, not a copy of them), and a plugin
 * that fails a message (abi_reject) has its error, permanence and reason
 * reach the sender as the NACK. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "flow_nodes.h"

#include "otflow/config.h"
#include "otflow/err.h"
#include "otflow/plugin.h"
#include "otflow/service.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void load(const char *name)
{
	const char *b = getenv("OTF_BUILD_DIR");
	char path[1024], err[600];
	snprintf(path, sizeof path, "%s/plugins/%s.so", b ? b : ".", name);
	if (otf_plugin_load(path, err, sizeof err))
		fail_msg("%s", err);
}

static int setup(void **state)
{
	(void)state;
	otf_components_register_builtins();
	otf_tf_register();
	load("abi_current"); /* abi_probe */
	load("abi_reject");
	return 0;
}

/* tf_src -> processor -> tf_sink, one worker, until n answers arrived. */
static void run(const char *processor, int n)
{
	char yaml[512];
	snprintf(yaml, sizeof yaml,
	         "receivers: {tf_src: }\n"
	         "processors: {%s: {}}\n"
	         "exporters: {tf_sink: {}}\n"
	         "service:\n"
	         "  admin: {endpoint: \"\"}\n"
	         "  telemetry: {metrics: {level: none}}\n"
	         "  pipelines: {logs: {receivers: [tf_src], processors: [%s], "
	         "exporters: [tf_sink]}}\n"
	         "runtime: {workers: 1}\n",
	         processor, processor);
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
	otf_tf_await_answers(n, 10000);
	otf_engine_request_stop(e);
	assert_int_equal(otf_engine_join(e), 0);
	otf_dag_destroy(dag);
	otf_config_destroy(cfg);
}

static const uint8_t k_logs[] = {0x0a, 0x04, 0x12, 0x02, 0x12, 0x00};

static void test_forwarded_bytes_are_not_copied(void **state)
{
	(void)state;
	otf_tf_reset();
	otf_buf_t *sent[3];
	for (int i = 0; i < 3; i++) {
		sent[i] = otf_buf_create_copy(k_logs, sizeof k_logs);
		otf_tf_add(OTF_SIGNAL_LOGS, otf_buf_ref(sent[i]), 1);
	}
	run("abi_probe", 3);
	assert_int_equal(atomic_load(&otf_tf.acks), 3);
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 3);
	for (int i = 0; i < 3; i++) {
		/* The sink holds the source's own buffer: same object, same bytes. */
		assert_ptr_equal(otf_tf.sink[0].payload[i], sent[i]);
		assert_ptr_equal(otf_tf.sink[0].payload[i]->data, sent[i]->data);
		otf_buf_unref(sent[i]);
	}
	otf_tf_reset();
}

static void test_plugin_error_is_the_nack(void **state)
{
	(void)state;
	otf_tf_reset();
	otf_tf_add(OTF_SIGNAL_LOGS, otf_buf_create_copy(k_logs, sizeof k_logs), 1);
	run("abi_reject", 1);
	assert_int_equal(atomic_load(&otf_tf.nacks), 1);
	assert_int_equal(atomic_load(&otf_tf.nack_permanent), 1);
	assert_int_equal(atomic_load(&otf_tf.error), -EINVAL);
	assert_non_null(strstr(otf_tf.reasons[0], "abi_reject: records refused by the plugin"));
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 0);
	otf_tf_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_forwarded_bytes_are_not_copied),
	    cmocka_unit_test(test_plugin_error_is_the_nack),
	};
	return cmocka_run_group_tests(tests, setup, otf_tf_teardown);
}
