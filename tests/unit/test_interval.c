/* processor interval: the README's "Example of metric flows" as a table
 * (the six sum points in, other_metric passed on at once because it is
 * delta, then at the interval the latest point of each test_metric
 * series), and the other rules of processor/intervalprocessor: gauges and
 * summaries held unless pass_through says so, non-monotonic sums passed,
 * an older point never replaces a newer one, the state cleared after each
 * interval, resources and scopes kept apart on output; values,
 * timestamps, start times and attributes compared field by field. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "components/processors/interval/interval.h"
#include "otflow/config.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"

#include <stdio.h>
#include <string.h>

#define T0 1700000000000000000ull

static otf_bytes_t B(const char *s)
{
	return (otf_bytes_t){(const uint8_t *)s, strlen(s)};
}

static bool eq(otf_bytes_t b, const char *s)
{
	return b.len == strlen(s) && (!b.len || !memcmp(b.ptr, s, b.len));
}

typedef struct one {
	otf_key_value_t rattr, pattr;
	otf_resource_metrics_t rm;
	otf_scope_metrics_t sm;
	otf_metric_t m;
	otf_number_data_point_t p;
	otf_metrics_t md;
} one_t;

/* A request with one number point. */
static void one(one_t *o, const char *svc, const char *name, otf_metric_type_t type, int temp,
                bool mono, const char *lk, const char *lv, uint64_t ts, double v)
{
	memset(o, 0, sizeof *o);
	o->rattr.key = B("service.name");
	o->rattr.value.type = OTF_ANY_STRING;
	o->rattr.value.u.string_value = B(svc);
	o->pattr.key = B(lk);
	o->pattr.value.type = OTF_ANY_STRING;
	o->pattr.value.u.string_value = B(lv);
	o->p.attributes = (otf_attributes_t){&o->pattr, 1};
	o->p.start_time_unix_nano = T0;
	o->p.time_unix_nano = T0 + ts;
	o->p.value_type = OTF_NUMBER_DOUBLE;
	o->p.value.as_double = v;
	o->m.name = B(name);
	o->m.type = type;
	o->m.aggregation_temporality = temp;
	o->m.is_monotonic = mono;
	o->m.data_points.number = &o->p;
	o->m.data_points_len = 1;
	o->sm.scope.name = B("lib");
	o->sm.metrics = &o->m;
	o->sm.metrics_len = 1;
	o->rm.resource.attributes = (otf_attributes_t){&o->rattr, 1};
	o->rm.scope_metrics = &o->sm;
	o->rm.scope_metrics_len = 1;
	o->md.resource_metrics = &o->rm;
	o->md.resource_metrics_len = 1;
}

static otf_config_t *g_yaml;

static void load(const char *yaml, otf_interval_config_t *c)
{
	otf_config_error_t err;
	memset(c, 0, sizeof *c);
	otf_config_destroy(g_yaml);
	g_yaml = NULL;
	assert_int_equal(otf_config_load_string("p.yaml", yaml, strlen(yaml), NULL, &g_yaml, &err),
	                 0);
	assert_int_equal(otf_config_schema_apply(otf_interval_schema,
	                                         otf_config_get(otf_config_root(g_yaml), "p"), c,
	                                         &err),
	                 0);
}

/* Returns how many metrics stayed in the request (passed on). */
static size_t take(const otf_interval_config_t *c, otf_series_map_t *m, one_t *o)
{
	uint64_t held = 0, refused = 0;
	assert_int_equal(otf__interval_take(c, m, &o->md, 1, &held, &refused), 0);
	assert_int_equal(refused, 0);
	return o->md.resource_metrics_len ? o->md.resource_metrics[0].scope_metrics[0].metrics_len
	                                  : 0;
}

typedef struct flushed {
	otf_buf_t *buf;
	otf_arena_t arena;
	otf_metrics_t md;
	uint64_t points;
} flushed_t;

static bool flush(otf_series_map_t *m, flushed_t *f)
{
	memset(f, 0, sizeof *f);
	assert_int_equal(otf__interval_flush(m, &f->buf, &f->points), 0);
	if (!f->buf)
		return false;
	otf_arena_init(&f->arena, 0);
	assert_int_equal(
	    otf_pdata_decode_metrics(&f->md, f->buf->data, f->buf->len, &f->arena, NULL, NULL), 0);
	return true;
}

static void flushed_done(flushed_t *f)
{
	otf_arena_close(&f->arena);
	otf_buf_unref(f->buf);
}

static const otf_number_data_point_t *point(const otf_metric_t *m, const char *lv)
{
	for (size_t i = 0; i < m->data_points_len; i++)
		if (eq(m->data_points.number[i].attributes.items[0].value.u.string_value, lv))
			return &m->data_points.number[i];
	fail_msg("no point %s", lv);
	return NULL;
}

static void test_readme_flow(void **st)
{
	(void)st;
	otf_interval_config_t c;
	load("p:\n", &c);
	assert_int_equal(c.interval_ns, 60000000000ll);
	assert_false(c.pass_through.gauge);
	assert_false(c.pass_through.summary);
	otf_series_map_t *m =
	    otf__series_map_get("processor:interval/readme", NULL, 0, otf__interval_free_state);
	static const struct {
		uint64_t ts;
		const char *name;
		int temp;
		const char *lk, *lv;
		double v;
	} rows[] = {
	    {0, "test_metric", OTF_TEMPORALITY_CUMULATIVE, "labelA", "foo", 4.0},
	    {2, "test_metric", OTF_TEMPORALITY_CUMULATIVE, "labelA", "bar", 3.1},
	    {4, "other_metric", OTF_TEMPORALITY_DELTA, "fruitType", "orange", 77.4},
	    {6, "test_metric", OTF_TEMPORALITY_CUMULATIVE, "labelA", "foo", 8.2},
	    {8, "test_metric", OTF_TEMPORALITY_CUMULATIVE, "labelA", "foo", 12.8},
	    {10, "test_metric", OTF_TEMPORALITY_CUMULATIVE, "labelA", "bar", 6.4},
	};
	for (size_t i = 0; i < 6; i++) {
		one_t o;
		one(&o, "svc", rows[i].name, OTF_METRIC_SUM, rows[i].temp, true, rows[i].lk,
		    rows[i].lv, rows[i].ts, rows[i].v);
		size_t passed = take(&c, m, &o);
		/* Only the delta metric is passed on at once, unchanged. */
		assert_int_equal(passed, rows[i].temp == OTF_TEMPORALITY_DELTA);
		if (passed) {
			assert_true(eq(o.m.name, "other_metric"));
			assert_true(o.p.value.as_double == 77.4 && o.p.time_unix_nano == T0 + 4);
		}
	}
	flushed_t f;
	assert_true(flush(m, &f));
	assert_int_equal(f.points, 2);
	assert_int_equal(f.md.resource_metrics_len, 1);
	const otf_resource_metrics_t *rm = &f.md.resource_metrics[0];
	assert_true(eq(rm->resource.attributes.items[0].value.u.string_value, "svc"));
	assert_int_equal(rm->scope_metrics_len, 1);
	assert_true(eq(rm->scope_metrics[0].scope.name, "lib"));
	assert_int_equal(rm->scope_metrics[0].metrics_len, 1);
	const otf_metric_t *tm = &rm->scope_metrics[0].metrics[0];
	assert_true(eq(tm->name, "test_metric"));
	assert_int_equal(tm->aggregation_temporality, OTF_TEMPORALITY_CUMULATIVE);
	assert_true(tm->is_monotonic);
	assert_int_equal(tm->data_points_len, 2);
	const otf_number_data_point_t *foo = point(tm, "foo"), *bar = point(tm, "bar");
	assert_true(foo->value.as_double == 12.8 && foo->time_unix_nano == T0 + 8);
	assert_true(bar->value.as_double == 6.4 && bar->time_unix_nano == T0 + 10);
	assert_int_equal(foo->start_time_unix_nano, T0);
	flushed_done(&f);
	/* The state is cleared: nothing new, nothing sent. */
	assert_false(flush(m, &f));
	otf__series_map_put(m);
}

static void test_types(void **st)
{
	(void)st;
	otf_interval_config_t c;
	load("p:\n  interval: 15s\n  pass_through:\n    gauge: true\n", &c);
	assert_int_equal(c.interval_ns, 15000000000ll);
	otf_series_map_t *m =
	    otf__series_map_get("processor:interval/types", NULL, 0, otf__interval_free_state);
	one_t o;
	one(&o, "svc", "g", OTF_METRIC_GAUGE, 0, false, "k", "v", 1, 1.0);
	assert_int_equal(take(&c, m, &o), 1); /* pass_through.gauge */
	one(&o, "svc", "updown", OTF_METRIC_SUM, OTF_TEMPORALITY_CUMULATIVE, false, "k", "v", 1,
	    1.0);
	assert_int_equal(take(&c, m, &o), 1); /* non-monotonic */
	one(&o, "svc", "s", OTF_METRIC_SUMMARY, 0, false, "k", "v", 1, 0);
	o.m.data_points.summary = NULL;
	o.m.data_points_len = 0;
	assert_int_equal(take(&c, m, &o), 0); /* held (no points: nothing to hold) */
	/* An older point does not replace the newer one; other resources
	 * stay apart. */
	one(&o, "svc", "c", OTF_METRIC_SUM, OTF_TEMPORALITY_CUMULATIVE, true, "k", "v", 5, 50);
	assert_int_equal(take(&c, m, &o), 0);
	one(&o, "svc", "c", OTF_METRIC_SUM, OTF_TEMPORALITY_CUMULATIVE, true, "k", "v", 3, 30);
	assert_int_equal(take(&c, m, &o), 0);
	one(&o, "svc2", "c", OTF_METRIC_SUM, OTF_TEMPORALITY_CUMULATIVE, true, "k", "v", 3, 7);
	assert_int_equal(take(&c, m, &o), 0);
	flushed_t f;
	assert_true(flush(m, &f));
	assert_int_equal(f.points, 2);
	assert_int_equal(f.md.resource_metrics_len, 2);
	for (size_t r = 0; r < 2; r++) {
		const otf_resource_metrics_t *rm = &f.md.resource_metrics[r];
		bool svc2 = eq(rm->resource.attributes.items[0].value.u.string_value, "svc2");
		const otf_number_data_point_t *p = point(&rm->scope_metrics[0].metrics[0], "v");
		assert_true(p->value.as_double == (svc2 ? 7 : 50));
		assert_int_equal(p->time_unix_nano, T0 + (svc2 ? 3 : 5));
	}
	flushed_done(&f);
	/* gauges are held without pass_through */
	load("p:\n", &c);
	one(&o, "svc", "g", OTF_METRIC_GAUGE, 0, false, "k", "v", 1, 1.0);
	assert_int_equal(take(&c, m, &o), 0);
	assert_true(flush(m, &f));
	assert_true(eq(f.md.resource_metrics[0].scope_metrics[0].metrics[0].name, "g"));
	assert_int_equal(f.md.resource_metrics[0].scope_metrics[0].metrics[0].type,
	                 OTF_METRIC_GAUGE);
	flushed_done(&f);
	otf__series_map_put(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_readme_flow),
	    cmocka_unit_test(test_types),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	otf_config_destroy(g_yaml);
	return rc;
}
