/* connector count, counting level: encoded requests in, the decoded
 * metrics request out, compared with the Collector's countconnector
 * (README examples, config.go defaults, counter.go): default metric names
 * and descriptions per section, a configured section replacing its
 * default only, conditions ORed, attributes splitting the counts (string
 * rendering of other types, default_value, records without the attribute
 * not counted), one resource metrics per input resource with counts,
 * scope otelcol/countconnector, delta monotonic int sums; config errors
 * with file:line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "components/connectors/count/count.h"
#include "otflow/arena.h"
#include "otflow/config.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"

#include <stdio.h>
#include <string.h>

#define NOW 1700000000000000000ull

static otf_bytes_t B(const char *s)
{
	return (otf_bytes_t){(const uint8_t *)s, strlen(s)};
}

static otf_key_value_t KV(const char *k, const char *v)
{
	otf_key_value_t kv = {.key = B(k), .value = {.type = OTF_ANY_STRING}};
	kv.value.u.string_value = B(v);
	return kv;
}

static otf_key_value_t KVI(const char *k, int64_t v)
{
	otf_key_value_t kv = {.key = B(k), .value = {.type = OTF_ANY_INT}};
	kv.value.u.int_value = v;
	return kv;
}

static otf_config_t *g_yaml;

static int load(const char *yaml, otf_count_config_t *cfg, otf_config_error_t *err)
{
	memset(cfg, 0, sizeof *cfg);
	otf_config_destroy(g_yaml);
	g_yaml = NULL;
	assert_int_equal(
	    otf_config_load_string("count.yaml", yaml, strlen(yaml), NULL, &g_yaml, err), 0);
	return otf_config_schema_apply(otf_count_schema,
	                               otf_config_get(otf_config_root(g_yaml), "count"), cfg, err);
}

typedef struct result {
	otf_arena_t ar;
	otf_buf_t *buf;
	otf_metrics_t m;
	uint64_t points;
} result_t;

static int run(const otf_count_config_t *cfg, otf_signal_t sig, otf_buf_t *in, result_t *r,
               char *err)
{
	otf_arena_init(&r->ar, 0);
	memset(&r->m, 0, sizeof r->m);
	int rc = otf_count_build(cfg, sig, in->data, in->len, NOW, &r->buf, &r->points, err, 160);
	otf_buf_unref(in);
	if (rc == 0 && r->buf)
		assert_int_equal(
		    otf_pdata_decode_metrics(&r->m, r->buf->data, r->buf->len, &r->ar, NULL, NULL),
		    0);
	return rc;
}

static void done(result_t *r)
{
	otf_buf_unref(r->buf);
	otf_arena_close(&r->ar);
}

static bool eq(otf_bytes_t b, const char *s)
{
	return b.len == strlen(s) && !memcmp(b.ptr, s, b.len);
}

static const otf_metric_t *metric(const otf_metrics_t *m, size_t r, const char *name)
{
	assert_true(r < m->resource_metrics_len);
	const otf_scope_metrics_t *sm = &m->resource_metrics[r].scope_metrics[0];
	assert_true(eq(sm->scope.name, "otelcol/countconnector"));
	for (size_t i = 0; i < sm->metrics_len; i++)
		if (eq(sm->metrics[i].name, name)) {
			const otf_metric_t *x = &sm->metrics[i];
			assert_int_equal(x->type, OTF_METRIC_SUM);
			assert_true(x->is_monotonic);
			assert_int_equal(x->aggregation_temporality, OTF_TEMPORALITY_DELTA);
			for (size_t k = 0; k < x->data_points_len; k++)
				assert_int_equal(x->data_points.number[k].time_unix_nano, NOW);
			return x;
		}
	return NULL;
}

/* The count of the point whose single attribute has value v ("" = none). */
static int64_t point(const otf_metric_t *x, const char *v)
{
	for (size_t k = 0; k < x->data_points_len; k++) {
		const otf_attributes_t *a = &x->data_points.number[k].attributes;
		if ((!*v && !a->len) || (a->len == 1 && eq(a->items[0].value.u.string_value, v)))
			return x->data_points.number[k].value.as_int;
	}
	fail_msg("no point %s", v);
	return -1;
}

static otf_buf_t *traces2(void)
{
	otf_span_event_t ev[3] = {{.name = B("e1")}, {.name = B("e2")}, {.name = B("e3")}};
	otf_span_t sp[3] = {{.name = B("a"), .events = ev, .events_len = 1},
	                    {.name = B("b"), .events = ev + 1, .events_len = 2},
	                    {.name = B("c")}};
	otf_key_value_t r1[] = {KV("service.name", "one")}, r2[] = {KV("service.name", "two")};
	otf_scope_spans_t ss[2] = {{.spans = sp, .spans_len = 2},
	                           {.spans = sp + 2, .spans_len = 1}};
	otf_resource_spans_t rs[2] = {
	    {.resource = {.attributes = {r1, 1}}, .scope_spans = ss, .scope_spans_len = 1},
	    {.resource = {.attributes = {r2, 1}}, .scope_spans = ss + 1, .scope_spans_len = 1}};
	otf_traces_t t = {rs, 2};
	otf_buf_t *b;
	assert_int_equal(otf_pdata_encode_traces(&t, &b), 0);
	return b;
}

static void test_traces_defaults(void **st)
{
	(void)st;
	otf_count_config_t cfg;
	otf_config_error_t err;
	char e[160];
	assert_int_equal(load("count:\n", &cfg, &err), 0);
	result_t r;
	assert_int_equal(run(&cfg, OTF_SIGNAL_TRACES, traces2(), &r, e), 0);
	assert_int_equal(r.m.resource_metrics_len, 2);
	assert_true(
	    eq(r.m.resource_metrics[1].resource.attributes.items[0].value.u.string_value, "two"));
	const otf_metric_t *s = metric(&r.m, 0, "trace.span.count");
	assert_non_null(s);
	assert_true(eq(s->description, "The number of spans observed."));
	assert_int_equal(point(s, ""), 2);
	const otf_metric_t *ev = metric(&r.m, 0, "trace.span.event.count");
	assert_true(eq(ev->description, "The number of span events observed."));
	assert_int_equal(point(ev, ""), 3);
	assert_int_equal(point(metric(&r.m, 1, "trace.span.count"), ""), 1);
	assert_null(metric(&r.m, 1, "trace.span.event.count")); /* none: not emitted */
	assert_int_equal(r.points, 3);
	done(&r);
	otf_config_schema_free(otf_count_schema, &cfg);
}

/* A configured section replaces its default only; conditions are ORed. */
static void test_custom_spans(void **st)
{
	(void)st;
	otf_count_config_t cfg;
	otf_config_error_t err;
	char e[160];
	assert_int_equal(load("count:\n"
	                      "  spans:\n"
	                      "    my.ab.count:\n"
	                      "      description: Spans a or b.\n"
	                      "      conditions:\n"
	                      "        - 'name == \"a\"'\n"
	                      "        - 'name == \"b\"'\n",
	                      &cfg, &err),
	                 0);
	result_t r;
	assert_int_equal(run(&cfg, OTF_SIGNAL_TRACES, traces2(), &r, e), 0);
	assert_null(metric(&r.m, 0, "trace.span.count"));
	const otf_metric_t *x = metric(&r.m, 0, "my.ab.count");
	assert_true(eq(x->description, "Spans a or b."));
	assert_int_equal(point(x, ""), 2);
	assert_int_equal(point(metric(&r.m, 0, "trace.span.event.count"), ""), 3);
	/* Resource two: no span matches and no events: no resource at all. */
	assert_int_equal(r.m.resource_metrics_len, 1);
	done(&r);
	otf_config_schema_free(otf_count_schema, &cfg);
}

static otf_buf_t *logs(void)
{
	otf_key_value_t prod[] = {KV("env", "prod")}, five[] = {KVI("env", 5)};
	otf_log_record_t lr[5] = {
	    {.severity_number = 17, .attributes = {prod, 1}},
	    {.severity_number = 17, .attributes = {prod, 1}},
	    {.severity_number = 9, .attributes = {prod, 1}},
	    {.severity_number = 21},
	    {.severity_number = 18, .attributes = {five, 1}},
	};
	otf_scope_logs_t sl = {.log_records = lr, .log_records_len = 5};
	otf_key_value_t ra[] = {KV("service.name", "svc")};
	otf_resource_logs_t rl = {
	    .resource = {.attributes = {ra, 1}}, .scope_logs = &sl, .scope_logs_len = 1};
	otf_logs_t l = {&rl, 1};
	otf_buf_t *b;
	assert_int_equal(otf_pdata_encode_logs(&l, &b), 0);
	return b;
}

/* The README's "Error+ logs, a separate count for each environment". */
static void test_logs_condition_attributes(void **st)
{
	(void)st;
	otf_count_config_t cfg;
	otf_config_error_t err;
	char e[160];
	assert_int_equal(load("count:\n"
	                      "  logs:\n"
	                      "    my.error.log.count:\n"
	                      "      description: Error+ logs.\n"
	                      "      conditions:\n"
	                      "        - severity_number >= SEVERITY_NUMBER_ERROR\n"
	                      "      attributes:\n"
	                      "        - key: env\n"
	                      "          default_value: unspecified_environment\n"
	                      "    my.env.log.count:\n"
	                      "      attributes:\n"
	                      "        - key: env\n",
	                      &cfg, &err),
	                 0);
	result_t r;
	assert_int_equal(run(&cfg, OTF_SIGNAL_LOGS, logs(), &r, e), 0);
	assert_null(metric(&r.m, 0, "log.record.count"));
	const otf_metric_t *x = metric(&r.m, 0, "my.error.log.count");
	assert_int_equal(x->data_points_len, 3);
	assert_int_equal(point(x, "prod"), 2);
	assert_int_equal(point(x, "unspecified_environment"), 1);
	assert_int_equal(point(x, "5"), 1); /* an int attribute, as its string */
	const otf_metric_t *y = metric(&r.m, 0, "my.env.log.count");
	assert_int_equal(y->data_points_len, 2); /* the record without env is not counted */
	assert_int_equal(point(y, "prod"), 3);
	assert_int_equal(point(y, "5"), 1);
	assert_true(eq(y->data_points.number[0].attributes.items[0].key, "env"));
	done(&r);
	otf_config_schema_free(otf_count_schema, &cfg);
}

static void test_metrics_defaults(void **st)
{
	(void)st;
	otf_count_config_t cfg;
	otf_config_error_t err;
	char e[160];
	otf_number_data_point_t np[5];
	memset(np, 0, sizeof np);
	otf_key_value_t prod[] = {KV("env", "prod")};
	np[1].attributes = (otf_attributes_t){prod, 1};
	np[4].attributes = (otf_attributes_t){prod, 1};
	otf_metric_t mt[2] = {{.name = B("g"),
	                       .type = OTF_METRIC_GAUGE,
	                       .data_points.number = np,
	                       .data_points_len = 2},
	                      {.name = B("s"),
	                       .type = OTF_METRIC_SUM,
	                       .data_points.number = np + 2,
	                       .data_points_len = 3,
	                       .aggregation_temporality = 2}};
	otf_scope_metrics_t sm = {.metrics = mt, .metrics_len = 2};
	otf_resource_metrics_t rm = {.scope_metrics = &sm, .scope_metrics_len = 1};
	otf_metrics_t m = {&rm, 1};
	otf_buf_t *b;
	assert_int_equal(otf_pdata_encode_metrics(&m, &b), 0);
	assert_int_equal(load("count:\n", &cfg, &err), 0);
	result_t r;
	assert_int_equal(run(&cfg, OTF_SIGNAL_METRICS, otf_buf_ref(b), &r, e), 0);
	assert_int_equal(point(metric(&r.m, 0, "metric.count"), ""), 2);
	assert_int_equal(point(metric(&r.m, 0, "metric.datapoint.count"), ""), 5);
	assert_true(eq(metric(&r.m, 0, "metric.datapoint.count")->description,
	               "The number of data points observed."));
	done(&r);
	otf_config_schema_free(otf_count_schema, &cfg);
	assert_int_equal(load("count:\n  datapoints:\n    dp.env:\n      attributes: [{key: env}]\n"
	                      "  metrics:\n    m.s:\n      conditions: ['name == \"s\"']\n",
	                      &cfg, &err),
	                 0);
	assert_int_equal(run(&cfg, OTF_SIGNAL_METRICS, b, &r, e), 0);
	assert_int_equal(point(metric(&r.m, 0, "dp.env"), "prod"), 2);
	assert_int_equal(point(metric(&r.m, 0, "m.s"), ""), 1);
	assert_null(metric(&r.m, 0, "metric.count"));
	done(&r);
	otf_config_schema_free(otf_count_schema, &cfg);
}

static void test_config_errors(void **st)
{
	(void)st;
	otf_count_config_t cfg;
	otf_config_error_t err;
	assert_int_equal(
	    load("count:\n  spans:\n    x:\n      conditions:\n        - 'nme == 1'\n", &cfg, &err),
	    OTF_E_CONFIG);
	assert_non_null(strstr(err.text, "count.yaml:5:"));
	assert_non_null(strstr(err.text, "condition: metric \"x\""));
	otf_config_schema_free(otf_count_schema, &cfg);
	assert_int_equal(
	    load("count:\n  metrics:\n    x:\n      attributes: [{key: a}]\n", &cfg, &err),
	    OTF_E_CONFIG);
	assert_non_null(strstr(err.text, "metrics attributes not supported"));
	otf_config_schema_free(otf_count_schema, &cfg);
	assert_int_equal(load("count:\n  logs:\n    x:\n      attribute: []\n", &cfg, &err),
	                 OTF_E_CONFIG);
	assert_non_null(strstr(err.text, "unknown key \"attribute\""));
	otf_config_schema_free(otf_count_schema, &cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_traces_defaults),
	    cmocka_unit_test(test_custom_spans),
	    cmocka_unit_test(test_logs_condition_attributes),
	    cmocka_unit_test(test_metrics_defaults),
	    cmocka_unit_test(test_config_errors),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	otf_config_destroy(g_yaml);
	return rc;
}
