/* The DAG diff of a reload (otf__dag_diff, src/engine/dag_diff.c): which
 * nodes of the reloaded DAG are kept (same id, type, signals, ports; their
 * cur index), added, or replaced, which of the running DAG are removed,
 * and which kept nodes change config or edges. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine/engine_internal.h"

#include "otflow/config.h"
#include "otflow/service.h"

#include <string.h>

static const char k_base[] =
    "receivers: {otlp: {protocols: {http: {endpoint: \"127.0.0.1:0\"}}}}\n"
    "processors: {batch: {}}\n"
    "exporters: {nop: {}, nop/2: {}}\n"
    "service:\n"
    "  pipelines:\n"
    "    logs: {receivers: [otlp], processors: [batch], exporters: [nop]}\n";

static otf_dag_t *build(const char *text)
{
	otf_components_register_builtins();
	otf_config_t *cfg = NULL;
	otf_config_error_t err;
	assert_int_equal(otf_config_load_string("t.yaml", text, strlen(text), NULL, &cfg, &err), 0);
	otf_dag_t *dag = NULL;
	otf_service_settings_t st;
	int rc = otf_service_build(cfg, &dag, &st, &err);
	if (rc)
		fail_msg("%s", err.text);
	otf_config_destroy(cfg);
	return dag;
}

/* The state of next's node id ("-" when next has no live such node). */
static otf_diff_state_t state_of(const otf_dag_t *next, const otf_dag_diff_t *d, const char *id)
{
	int j = otf__dag_live_node(next, id);
	return j < 0 ? OTF_DIFF_NONE : (otf_diff_state_t)d->state[j];
}

static bool removed_in_cur(const otf_dag_t *cur, const otf_dag_diff_t *d, const char *id)
{
	int i = otf__dag_live_node(cur, id);
	assert_true(i >= 0);
	return d->cur_removed[i];
}

static void test_same(void **state)
{
	(void)state;
	otf_dag_t *a = build(k_base), *b = build(k_base);
	otf_dag_diff_t d;
	assert_int_equal(otf__dag_diff(a, b, &d), 0);
	assert_true(d.same_shape);
	assert_int_equal(d.kept, 3);
	assert_int_equal(d.added + d.removed + d.changed_n + d.rewired_n, 0);
	int j = otf__dag_live_node(b, "exporter:nop");
	assert_int_equal(d.from[j], otf__dag_live_node(a, "exporter:nop"));
	otf__dag_diff_free(&d);
	otf_dag_destroy(a);
	otf_dag_destroy(b);
}

/* A pipeline added on the running receiver: its exporter is new, the
 * receiver kept and rewired (one more edge), the rest untouched. */
static void test_pipeline_added(void **state)
{
	(void)state;
	otf_dag_t *a = build(k_base);
	otf_dag_t *b =
	    build("receivers: {otlp: {protocols: {http: {endpoint: \"127.0.0.1:0\"}}}}\n"
	          "processors: {batch: {}}\n"
	          "exporters: {nop: {}, nop/2: {}}\n"
	          "service:\n"
	          "  pipelines:\n"
	          "    logs: {receivers: [otlp], processors: [batch], exporters: [nop]}\n"
	          "    logs/2: {receivers: [otlp], exporters: [nop/2]}\n");
	otf_dag_diff_t d;
	assert_int_equal(otf__dag_diff(a, b, &d), 0);
	assert_false(d.same_shape);
	assert_int_equal(state_of(b, &d, "exporter:nop/2"), OTF_DIFF_ADDED);
	assert_int_equal(state_of(b, &d, "receiver:otlp"), OTF_DIFF_KEPT);
	assert_int_equal(state_of(b, &d, "processor:batch@logs"), OTF_DIFF_KEPT);
	int r = otf__dag_live_node(b, "receiver:otlp");
	assert_true(d.rewired[r]);
	assert_false(d.changed[r]);
	assert_false(d.rewired[otf__dag_live_node(b, "processor:batch@logs")]);
	assert_int_equal(d.added, 1);
	assert_int_equal(d.removed, 0);
	assert_int_equal(d.rewired_n, 1);
	otf__dag_diff_free(&d);
	/* The other way: the pipeline removed. */
	assert_int_equal(otf__dag_diff(b, a, &d), 0);
	assert_true(removed_in_cur(b, &d, "exporter:nop/2"));
	assert_false(removed_in_cur(b, &d, "receiver:otlp"));
	assert_int_equal(d.removed, 1);
	assert_int_equal(d.added, 0);
	assert_true(d.rewired[otf__dag_live_node(a, "receiver:otlp")]);
	otf__dag_diff_free(&d);
	otf_dag_destroy(a);
	otf_dag_destroy(b);
}

/* A processor removed from a pipeline and an exporter swapped: the
 * processor and the old exporter removed, the new one added; a changed
 * config is flagged on a kept node. */
static void test_processor_removed_exporter_swapped(void **state)
{
	(void)state;
	otf_dag_t *a = build(k_base);
	otf_dag_t *b = build("receivers: {otlp: {protocols: {http: {endpoint: \"127.0.0.1:1\"}}}}\n"
	                     "exporters: {nop/2: {}}\n"
	                     "service:\n"
	                     "  pipelines:\n"
	                     "    logs: {receivers: [otlp], exporters: [nop/2]}\n");
	otf_dag_diff_t d;
	assert_int_equal(otf__dag_diff(a, b, &d), 0);
	assert_true(removed_in_cur(a, &d, "processor:batch@logs"));
	assert_true(removed_in_cur(a, &d, "exporter:nop"));
	assert_int_equal(state_of(b, &d, "exporter:nop/2"), OTF_DIFF_ADDED);
	int r = otf__dag_live_node(b, "receiver:otlp");
	assert_int_equal(d.state[r], OTF_DIFF_KEPT);
	assert_true(d.changed[r]); /* its port */
	assert_true(d.rewired[r]); /* now feeds nop/2 */
	assert_int_equal(d.removed, 2);
	assert_int_equal(d.added, 1);
	assert_int_equal(d.kept, 1);
	otf__dag_diff_free(&d);
	otf_dag_destroy(a);
	otf_dag_destroy(b);
}

/* The receiver now also in a traces pipeline: its signals change, so it
 * is replaced (created for one more signal), not kept. */
static void test_signals_change_replaces(void **state)
{
	(void)state;
	otf_dag_t *a = build(k_base);
	otf_dag_t *b =
	    build("receivers: {otlp: {protocols: {http: {endpoint: \"127.0.0.1:0\"}}}}\n"
	          "processors: {batch: {}}\n"
	          "exporters: {nop: {}}\n"
	          "service:\n"
	          "  pipelines:\n"
	          "    logs: {receivers: [otlp], processors: [batch], exporters: [nop]}\n"
	          "    traces: {receivers: [otlp], exporters: [nop]}\n");
	otf_dag_diff_t d;
	assert_int_equal(otf__dag_diff(a, b, &d), 0);
	assert_int_equal(state_of(b, &d, "receiver:otlp"), OTF_DIFF_REPLACED);
	assert_int_equal(state_of(b, &d, "exporter:nop"), OTF_DIFF_REPLACED);
	assert_true(removed_in_cur(a, &d, "receiver:otlp"));
	assert_int_equal(state_of(b, &d, "processor:batch@logs"), OTF_DIFF_KEPT);
	otf__dag_diff_free(&d);
	otf_dag_destroy(a);
	otf_dag_destroy(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same),
	    cmocka_unit_test(test_pipeline_added),
	    cmocka_unit_test(test_processor_removed_exporter_swapped),
	    cmocka_unit_test(test_signals_change_replaces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
