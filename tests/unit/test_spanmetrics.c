/* connector spanmetrics, aggregator level: encoded trace requests in,
 * the decoded metrics request out, compared field by field with what the
 * Collector's connector (connector/spanmetricsconnector README and
 * connector.go) produces: metric names under the namespace, the default
 * dimensions and their SPAN_KIND_* / STATUS_CODE_* values, extra
 * dimensions (span attribute, then resource attribute, then default, else
 * omitted), exclude_dimensions, explicit bucket counts (upper bound
 * inclusive) and sums, exponential scale/offset/counts, cumulative and
 * delta temporality, the cardinality limit's otel.metric.overflow series,
 * resource_metrics_key_attributes, resources without service.name, and
 * config errors with file:line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "components/connectors/spanmetrics/spanmetrics.h"
#include "otflow/alloc.h"
#include "otflow/arena.h"
#include "otflow/config.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"

#include <stdio.h>
#include <string.h>

#define MS 1000000ull
#define T0 1700000000000000000ull

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

typedef struct span_spec {
	const char *name;
	int kind, status;
	uint64_t dur_ns;
	otf_key_value_t attrs[2];
	size_t nattrs;
} span_spec_t;

/* One resource (attributes ra), one scope, the spans of specs. */
static otf_buf_t *traces(const otf_key_value_t *ra, size_t nra, const span_spec_t *specs, size_t n)
{
	otf_span_t spans[16];
	memset(spans, 0, sizeof spans);
	for (size_t i = 0; i < n; i++) {
		spans[i].name = B(specs[i].name);
		spans[i].kind = specs[i].kind;
		spans[i].status.code = specs[i].status;
		spans[i].start_time_unix_nano = T0;
		spans[i].end_time_unix_nano = T0 + specs[i].dur_ns;
		spans[i].attributes.items = (otf_key_value_t *)specs[i].attrs;
		spans[i].attributes.len = specs[i].nattrs;
	}
	otf_scope_spans_t ss = {.scope = {.name = B("lib")}, .spans = spans, .spans_len = n};
	otf_resource_spans_t rs = {.resource = {.attributes = {(otf_key_value_t *)ra, nra}},
	                           .scope_spans = &ss,
	                           .scope_spans_len = 1};
	otf_traces_t t = {.resource_spans = &rs, .resource_spans_len = 1};
	otf_buf_t *b = NULL;
	assert_int_equal(otf_pdata_encode_traces(&t, &b), 0);
	return b;
}

static otf_config_t *g_yaml;

/* Fills cfg from YAML text through the component's schema and validate. */
static int load_cfg(const char *yaml, otf_sm_config_t *cfg, otf_config_error_t *err)
{
	memset(cfg, 0, sizeof *cfg);
	otf_config_destroy(g_yaml);
	g_yaml = NULL;
	assert_int_equal(otf_config_load_string("sm.yaml", yaml, strlen(yaml), NULL, &g_yaml, err),
	                 0);
	int rc = otf_config_schema_apply(
	    otf_sm_schema, otf_config_get(otf_config_root(g_yaml), "spanmetrics"), cfg, err);
	if (rc)
		return rc;
	char msg[256] = "";
	rc = otf_sm_validate(cfg, msg, sizeof msg);
	if (rc)
		snprintf(err->text, sizeof err->text, "%s", msg);
	return rc;
}

static void add(otf_sm_agg_t *a, otf_buf_t *b, uint64_t now)
{
	assert_int_equal(otf_sm_agg_add(a, b->data, b->len, now), 0);
	otf_buf_unref(b);
}

typedef struct flushed {
	otf_arena_t ar;
	otf_buf_t *buf;
	otf_metrics_t m;
	uint64_t points;
} flushed_t;

static void flush(otf_sm_agg_t *a, uint64_t now, flushed_t *f)
{
	otf_arena_init(&f->ar, 0);
	assert_int_equal(otf_sm_agg_flush(a, now, &f->buf, &f->points), 0);
	memset(&f->m, 0, sizeof f->m);
	if (f->buf)
		assert_int_equal(
		    otf_pdata_decode_metrics(&f->m, f->buf->data, f->buf->len, &f->ar, NULL, NULL),
		    0);
}

static void flushed_done(flushed_t *f)
{
	otf_buf_unref(f->buf);
	otf_arena_close(&f->ar);
}

static bool eq(otf_bytes_t b, const char *s)
{
	return b.len == strlen(s) && !memcmp(b.ptr, s, b.len);
}

/* "k=v,k2=v2" rendering of string/int/bool attributes, in order. */
static const char *attrs_str(const otf_attributes_t *at, char *buf, size_t cap)
{
	size_t o = 0;
	buf[0] = 0;
	for (size_t i = 0; i < at->len; i++) {
		const otf_any_value_t *v = &at->items[i].value;
		o +=
		    (size_t)snprintf(buf + o, cap - o, "%s%.*s=", i ? "," : "",
		                     (int)at->items[i].key.len, (const char *)at->items[i].key.ptr);
		if (v->type == OTF_ANY_STRING)
			o += (size_t)snprintf(buf + o, cap - o, "%.*s", (int)v->u.string_value.len,
			                      (const char *)v->u.string_value.ptr);
		else if (v->type == OTF_ANY_INT)
			o += (size_t)snprintf(buf + o, cap - o, "int:%lld",
			                      (long long)v->u.int_value);
		else if (v->type == OTF_ANY_BOOL)
			o += (size_t)snprintf(buf + o, cap - o, "bool:%d", v->u.bool_value);
	}
	return buf;
}

static const otf_metric_t *metric(const otf_metrics_t *m, size_t r, const char *name)
{
	assert_true(r < m->resource_metrics_len);
	const otf_scope_metrics_t *sm = &m->resource_metrics[r].scope_metrics[0];
	for (size_t i = 0; i < sm->metrics_len; i++)
		if (eq(sm->metrics[i].name, name))
			return &sm->metrics[i];
	fail_msg("metric %s missing", name);
	return NULL;
}

/* The calls point with these attributes; fails when absent. */
static int64_t calls_of(const otf_metric_t *c, const char *attrs, size_t *at)
{
	char buf[512];
	for (size_t i = 0; i < c->data_points_len; i++)
		if (!strcmp(attrs_str(&c->data_points.number[i].attributes, buf, sizeof buf),
		            attrs)) {
			if (at)
				*at = i;
			return c->data_points.number[i].value.as_int;
		}
	for (size_t i = 0; i < c->data_points_len; i++)
		fprintf(stderr, "  have: %s\n",
		        attrs_str(&c->data_points.number[i].attributes, buf, sizeof buf));
	fail_msg("no calls point %s", attrs);
	return -1;
}

#define SHIP "service.name=shipping"

static void test_defaults_cumulative(void **st)
{
	(void)st;
	otf_sm_config_t cfg;
	otf_config_error_t err;
	assert_int_equal(load_cfg("spanmetrics:\n", &cfg, &err), 0);
	assert_int_equal(cfg.metrics_flush_interval_ns, 60000000000ll);
	otf_sm_agg_t *a = otf_sm_agg_create(&cfg);
	otf_key_value_t ra[] = {KV("service.name", "shipping"), KV("host.name", "h1")};
	span_spec_t sp[] = {
	    {"get", OTF_SPAN_KIND_SERVER, 0, 1 * MS},
	    {"get", OTF_SPAN_KIND_SERVER, 0, 3 * MS},
	    {"get", OTF_SPAN_KIND_SERVER, OTF_STATUS_CODE_ERROR, 20 * MS},
	    {"q", OTF_SPAN_KIND_CLIENT, OTF_STATUS_CODE_OK, 2 * MS},
	};
	add(a, traces(ra, 2, sp, 4), T0);
	flushed_t f;
	flush(a, T0 + 5 * MS, &f);
	assert_int_equal(f.points, 6);
	assert_int_equal(f.m.resource_metrics_len, 1);
	const otf_resource_metrics_t *rm = &f.m.resource_metrics[0];
	char buf[256];
	assert_string_equal(attrs_str(&rm->resource.attributes, buf, sizeof buf),
	                    "service.name=shipping,host.name=h1");
	assert_true(eq(rm->scope_metrics[0].scope.name, "spanmetricsconnector"));
	const otf_metric_t *c = metric(&f.m, 0, "traces.span.metrics.calls");
	assert_int_equal(c->type, OTF_METRIC_SUM);
	assert_true(c->is_monotonic);
	assert_int_equal(c->aggregation_temporality, OTF_TEMPORALITY_CUMULATIVE);
	assert_int_equal(c->data_points_len, 3);
	size_t i;
	assert_int_equal(
	    calls_of(c,
	             SHIP ",span.name=get,span.kind=SPAN_KIND_SERVER,status.code=STATUS_CODE_UNSET",
	             &i),
	    2);
	assert_int_equal(c->data_points.number[i].start_time_unix_nano, T0);
	assert_int_equal(c->data_points.number[i].time_unix_nano, T0 + 5 * MS);
	assert_int_equal(
	    calls_of(c,
	             SHIP ",span.name=get,span.kind=SPAN_KIND_SERVER,status.code=STATUS_CODE_ERROR",
	             NULL),
	    1);
	assert_int_equal(
	    calls_of(c, SHIP ",span.name=q,span.kind=SPAN_KIND_CLIENT,status.code=STATUS_CODE_OK",
	             NULL),
	    1);
	const otf_metric_t *d = metric(&f.m, 0, "traces.span.metrics.duration");
	assert_int_equal(d->type, OTF_METRIC_HISTOGRAM);
	assert_true(eq(d->unit, "ms"));
	const otf_histogram_data_point_t *h = &d->data_points.histogram[i];
	assert_int_equal(h->explicit_bounds_len, 16);
	assert_true(h->explicit_bounds[0] == 2 && h->explicit_bounds[15] == 15000);
	assert_int_equal(h->count, 2);
	assert_true(h->sum == 4.0);
	assert_int_equal(h->bucket_counts_len, 17);
	assert_int_equal(h->bucket_counts[0], 1); /* 1ms <= 2 */
	assert_int_equal(h->bucket_counts[1], 1); /* 3ms <= 4 */
	/* q: exactly 2ms falls in the bucket bounded by 2 (upper inclusive). */
	calls_of(c, SHIP ",span.name=q,span.kind=SPAN_KIND_CLIENT,status.code=STATUS_CODE_OK", &i);
	assert_int_equal(d->data_points.histogram[i].bucket_counts[0], 1);
	flushed_done(&f);

	/* Cumulative: the next flush carries the totals from the same start. */
	add(a, traces(ra, 2, sp, 1), T0 + 6 * MS);
	flush(a, T0 + 10 * MS, &f);
	c = metric(&f.m, 0, "traces.span.metrics.calls");
	assert_int_equal(
	    calls_of(c,
	             SHIP ",span.name=get,span.kind=SPAN_KIND_SERVER,status.code=STATUS_CODE_UNSET",
	             &i),
	    3);
	assert_int_equal(c->data_points.number[i].start_time_unix_nano, T0);
	flushed_done(&f);
	otf_sm_stats_t s;
	otf_sm_agg_stats(a, &s);
	assert_int_equal(s.spans, 5);
	assert_int_equal(s.series, 3);
	otf_sm_agg_destroy(a);
	otf_config_schema_free(otf_sm_schema, &cfg);
}

static void test_dimensions(void **st)
{
	(void)st;
	otf_sm_config_t cfg;
	otf_config_error_t err;
	assert_int_equal(load_cfg("spanmetrics:\n"
	                          "  namespace: span.metrics\n"
	                          "  dimensions:\n"
	                          "    - name: http.method\n"
	                          "      default: GET\n"
	                          "    - name: http.status_code\n"
	                          "    - name: region\n"
	                          "  exclude_dimensions: ['status.code']\n"
	                          "  histogram:\n"
	                          "    unit: s\n"
	                          "    explicit:\n"
	                          "      buckets: [100us, 1ms, 2s]\n",
	                          &cfg, &err),
	                 0);
	otf_sm_agg_t *a = otf_sm_agg_create(&cfg);
	otf_key_value_t ra[] = {KV("service.name", "shipping"), KV("region", "eu")};
	span_spec_t sp[] = {
	    {"a",
	     OTF_SPAN_KIND_SERVER,
	     0,
	     500000,
	     {KV("http.method", "POST"), KVI("http.status_code", 200)},
	     2},
	    {"a", OTF_SPAN_KIND_SERVER, 2, 3000 * MS, {KV("region", "us")}, 1},
	};
	add(a, traces(ra, 2, sp, 2), T0);
	flushed_t f;
	flush(a, T0 + MS, &f);
	const otf_metric_t *c = metric(&f.m, 0, "span.metrics.calls");
	assert_int_equal(c->data_points_len, 2);
	size_t i;
	assert_int_equal(calls_of(c,
	                          SHIP ",span.name=a,span.kind=SPAN_KIND_SERVER,http.method=POST,"
	                               "http.status_code=int:200,region=eu",
	                          &i),
	                 1);
	const otf_metric_t *d = metric(&f.m, 0, "span.metrics.duration");
	assert_true(eq(d->unit, "s"));
	const otf_histogram_data_point_t *h = &d->data_points.histogram[i];
	assert_int_equal(h->explicit_bounds_len, 3);
	assert_true(h->explicit_bounds[0] == 0.0001 && h->explicit_bounds[2] == 2.0);
	assert_int_equal(h->bucket_counts[1], 1); /* 0.5ms in (100us, 1ms] */
	assert_true(h->sum == 0.0005);
	/* The span's region wins over the resource's; default GET; no status. */
	assert_int_equal(
	    calls_of(c, SHIP ",span.name=a,span.kind=SPAN_KIND_SERVER,http.method=GET,region=us",
	             &i),
	    1);
	assert_int_equal(d->data_points.histogram[i].bucket_counts[3], 1); /* 3s > 2s */
	flushed_done(&f);
	otf_sm_agg_destroy(a);
	otf_config_schema_free(otf_sm_schema, &cfg);
}

static void test_cardinality_limit(void **st)
{
	(void)st;
	otf_sm_config_t cfg;
	otf_config_error_t err;
	assert_int_equal(load_cfg("spanmetrics:\n  aggregation_cardinality_limit: 2\n", &cfg, &err),
	                 0);
	otf_sm_agg_t *a = otf_sm_agg_create(&cfg);
	otf_key_value_t ra[] = {KV("service.name", "shipping")};
	span_spec_t sp[] = {
	    {"a", 1, 0, MS},      {"b", 1, 0, MS}, {"c", 1, 0, MS},
	    {"d", 1, 0, 30 * MS}, {"a", 1, 0, MS},
	};
	add(a, traces(ra, 1, sp, 5), T0);
	flushed_t f;
	flush(a, T0 + MS, &f);
	const otf_metric_t *c = metric(&f.m, 0, "traces.span.metrics.calls");
	assert_int_equal(c->data_points_len, 3);
	assert_int_equal(
	    calls_of(c,
	             SHIP ",span.name=a,span.kind=SPAN_KIND_INTERNAL,status.code=STATUS_CODE_UNSET",
	             NULL),
	    2);
	assert_int_equal(
	    calls_of(c,
	             SHIP ",span.name=b,span.kind=SPAN_KIND_INTERNAL,status.code=STATUS_CODE_UNSET",
	             NULL),
	    1);
	size_t i;
	assert_int_equal(calls_of(c, "otel.metric.overflow=bool:1", &i), 2);
	const otf_metric_t *d = metric(&f.m, 0, "traces.span.metrics.duration");
	assert_int_equal(d->data_points.histogram[i].count, 2);
	assert_true(d->data_points.histogram[i].sum == 31.0);
	flushed_done(&f);
	otf_sm_stats_t s;
	otf_sm_agg_stats(a, &s);
	assert_int_equal(s.overflow_spans, 2);
	assert_int_equal(s.series, 3);
	otf_sm_agg_destroy(a);
	otf_config_schema_free(otf_sm_schema, &cfg);
}

static void test_delta(void **st)
{
	(void)st;
	otf_sm_config_t cfg;
	otf_config_error_t err;
	assert_int_equal(
	    load_cfg("spanmetrics:\n  aggregation_temporality: AGGREGATION_TEMPORALITY_DELTA\n",
	             &cfg, &err),
	    0);
	otf_sm_agg_t *a = otf_sm_agg_create(&cfg);
	otf_key_value_t ra[] = {KV("service.name", "shipping")};
	span_spec_t sp[] = {{"a", 2, 0, MS}, {"b", 2, 0, MS}};
	add(a, traces(ra, 1, sp, 2), T0);
	flushed_t f;
	flush(a, T0 + 10 * MS, &f);
	const otf_metric_t *c = metric(&f.m, 0, "traces.span.metrics.calls");
	assert_int_equal(c->aggregation_temporality, OTF_TEMPORALITY_DELTA);
	assert_int_equal(c->data_points_len, 2);
	flushed_done(&f);
	add(a, traces(ra, 1, sp, 1), T0 + 12 * MS);
	add(a, traces(ra, 1, sp, 1), T0 + 13 * MS);
	flush(a, T0 + 20 * MS, &f);
	c = metric(&f.m, 0, "traces.span.metrics.calls");
	assert_int_equal(c->data_points_len, 1); /* b saw nothing: not sent */
	size_t i;
	assert_int_equal(
	    calls_of(c,
	             SHIP ",span.name=a,span.kind=SPAN_KIND_SERVER,status.code=STATUS_CODE_UNSET",
	             &i),
	    2);
	assert_int_equal(c->data_points.number[i].start_time_unix_nano, T0 + 10 * MS);
	assert_int_equal(c->data_points.number[i].time_unix_nano, T0 + 20 * MS);
	flushed_done(&f);
	otf_sm_stats_t s;
	otf_sm_agg_stats(a, &s);
	assert_int_equal(s.series, 1); /* b dropped after an idle interval */
	flush(a, T0 + 30 * MS, &f);
	assert_null(f.buf);
	flushed_done(&f);
	otf_sm_agg_stats(a, &s);
	assert_int_equal(s.series, 0);
	assert_int_equal(s.resources, 0);
	otf_sm_agg_destroy(a);
	otf_config_schema_free(otf_sm_schema, &cfg);
}

static void test_exponential(void **st)
{
	(void)st;
	otf_sm_config_t cfg;
	otf_config_error_t err;
	assert_int_equal(load_cfg("spanmetrics:\n  histogram:\n    exponential:\n", &cfg, &err), 0);
	assert_int_equal(cfg.histogram.exponential.max_size, 160);
	otf_sm_agg_t *a = otf_sm_agg_create(&cfg);
	otf_key_value_t ra[] = {KV("service.name", "shipping")};
	span_spec_t sp[] = {
	    {"a", 2, 0, MS}, {"a", 2, 0, 2 * MS}, {"a", 2, 0, 4 * MS}, {"a", 2, 0, 0}};
	add(a, traces(ra, 1, sp, 4), T0);
	flushed_t f;
	flush(a, T0 + MS, &f);
	const otf_metric_t *d = metric(&f.m, 0, "traces.span.metrics.duration");
	assert_int_equal(d->type, OTF_METRIC_EXP_HISTOGRAM);
	const otf_exp_histogram_data_point_t *e = &d->data_points.exp_histogram[0];
	/* 1, 2, 4 are bucket upper bounds (index -1, 2^s - 1, 2^(s+1) - 1):
	 * within 160 buckets the largest scale is 6 (129 buckets). */
	assert_int_equal(e->count, 4);
	assert_true(e->sum == 7.0);
	assert_int_equal(e->zero_count, 1);
	assert_int_equal(e->scale, 6);
	assert_int_equal(e->positive.offset, -1);
	assert_int_equal(e->positive.bucket_counts_len, 129);
	assert_int_equal(e->positive.bucket_counts[0], 1);
	assert_int_equal(e->positive.bucket_counts[64], 1);
	assert_int_equal(e->positive.bucket_counts[128], 1);
	assert_true(e->has_min && e->min == 0 && e->has_max && e->max == 4.0);
	flushed_done(&f);
	otf_sm_agg_destroy(a);
	otf_config_schema_free(otf_sm_schema, &cfg);
}

static void test_resources(void **st)
{
	(void)st;
	otf_sm_config_t cfg;
	otf_config_error_t err;
	assert_int_equal(
	    load_cfg("spanmetrics:\n  resource_metrics_key_attributes: [service.name]\n"
	             "  resource_metrics_cache_size: 1\n",
	             &cfg, &err),
	    0);
	otf_sm_agg_t *a = otf_sm_agg_create(&cfg);
	otf_key_value_t r1[] = {KV("service.name", "shipping"), KVI("process.pid", 1)};
	otf_key_value_t r2[] = {KV("service.name", "shipping"), KVI("process.pid", 2)};
	otf_key_value_t r3[] = {KV("service.name", "cart")};
	otf_key_value_t none[] = {KV("host.name", "h")};
	span_spec_t sp[] = {{"a", 2, 0, MS}};
	add(a, traces(r1, 2, sp, 1), T0);
	add(a, traces(r2, 2, sp, 1), T0); /* same key attributes: same resource */
	add(a, traces(none, 1, sp, 1), T0);
	flushed_t f;
	flush(a, T0 + MS, &f);
	assert_int_equal(f.m.resource_metrics_len, 1);
	const otf_metric_t *c = metric(&f.m, 0, "traces.span.metrics.calls");
	assert_int_equal(
	    calls_of(c,
	             SHIP ",span.name=a,span.kind=SPAN_KIND_SERVER,status.code=STATUS_CODE_UNSET",
	             NULL),
	    2);
	flushed_done(&f);
	/* Past resource_metrics_cache_size the least recently seen resource
	 * goes, with its series, as in the Collector's LRU cache. */
	add(a, traces(r3, 1, sp, 1), T0 + 2 * MS);
	flush(a, T0 + 3 * MS, &f);
	assert_int_equal(f.m.resource_metrics_len, 1);
	c = metric(&f.m, 0, "traces.span.metrics.calls");
	assert_int_equal(c->data_points_len, 1);
	assert_int_equal(calls_of(c,
	                          "service.name=cart,span.name=a,span.kind=SPAN_KIND_SERVER,"
	                          "status.code=STATUS_CODE_UNSET",
	                          NULL),
	                 1);
	flushed_done(&f);
	otf_sm_stats_t s;
	otf_sm_agg_stats(a, &s);
	assert_int_equal(s.spans, 3);
	assert_int_equal(s.evicted_resources, 1);
	assert_int_equal(s.resources, 1);
	assert_int_equal(s.series, 1);
	assert_int_equal(s.skipped_spans, 1);
	otf_sm_agg_destroy(a);
	otf_config_schema_free(otf_sm_schema, &cfg);
}

static void test_config_errors(void **st)
{
	(void)st;
	otf_sm_config_t cfg;
	otf_config_error_t err;
	assert_int_equal(load_cfg("spanmetrics:\n  dimensions:\n    - nam: x\n", &cfg, &err),
	                 OTF_E_CONFIG);
	assert_non_null(strstr(err.text, "sm.yaml:3:"));
	assert_non_null(strstr(err.text, "unknown key \"nam\""));
	otf_config_schema_free(otf_sm_schema, &cfg);
	assert_int_equal(
	    load_cfg("spanmetrics:\n  histogram:\n    explicit:\n      buckets: [1ms, x]\n", &cfg,
	             &err),
	    OTF_E_CONFIG);
	assert_non_null(strstr(err.text, "sm.yaml:4:"));
	otf_config_schema_free(otf_sm_schema, &cfg);
	assert_int_equal(
	    load_cfg("spanmetrics:\n  histogram:\n    explicit:\n    exponential:\n", &cfg, &err),
	    OTF_E_CONFIG);
	assert_non_null(strstr(err.text, "either `explicit` or `exponential`"));
	otf_config_schema_free(otf_sm_schema, &cfg);
	assert_int_equal(
	    load_cfg("spanmetrics:\n  dimensions:\n    - name: span.kind\n", &cfg, &err),
	    OTF_E_CONFIG);
	assert_non_null(strstr(err.text, "duplicate dimension name span.kind"));
	otf_config_schema_free(otf_sm_schema, &cfg);
}

/* Bytes the views reject (kind with wire type 2) are an error, not a
 * count; what the request held before stays as it was. */
static void test_malformed(void **st)
{
	(void)st;
	otf_sm_config_t cfg;
	otf_config_error_t err;
	assert_int_equal(load_cfg("spanmetrics:\n", &cfg, &err), 0);
	otf_sm_agg_t *a = otf_sm_agg_create(&cfg);
	static const uint8_t bad[] = {
	    0x0a, 0x1e, /* resource_spans */
	    0x0a, 0x15, 0x0a, 0x13, 0x0a, 0x0c, 's',  'e',  'r',  'v',  'i', 'c',
	    'e',  '.',  'n',  'a',  'm',  'e',  0x12, 0x03, 0x0a, 0x01, 's', /* resource */
	    0x12, 0x05, 0x12, 0x03, 0x32, 0x01, 0x00}; /* span: kind as bytes */
	assert_int_equal(otf_sm_agg_add(a, bad, sizeof bad, T0), OTF_E_WIRETYPE);
	assert_int_equal(otf_sm_agg_add(a, bad, sizeof bad - 1, T0) < 0, 1); /* truncated */
	otf_sm_stats_t s;
	otf_sm_agg_stats(a, &s);
	assert_int_equal(s.spans, 0);
	assert_int_equal(s.series, 0);
	/* A resource the decoder refuses (service.name not UTF-8; the views
	 * do not check) is refused when first seen, so the state always
	 * encodes: the next flush is not stuck on it (found by
	 * fuzz_spanmetrics). */
	uint8_t utf[sizeof bad];
	memcpy(utf, bad, sizeof bad);
	utf[24] = 0xff;                                                      /* the "s" */
	memcpy(utf + sizeof bad - 3, (const uint8_t[]){0x2a, 0x01, 'a'}, 3); /* span name "a" */
	assert_int_equal(otf_sm_agg_add(a, utf, sizeof utf, T0), OTF_E_UTF8);
	otf_key_value_t ra[] = {KV("service.name", "ok")};
	span_spec_t sp[] = {{"a", 2, 0, MS}};
	add(a, traces(ra, 1, sp, 1), T0);
	flushed_t f;
	flush(a, T0 + MS, &f);
	assert_int_equal(f.m.resource_metrics_len, 1);
	assert_int_equal(f.points, 2);
	flushed_done(&f);
	otf_sm_agg_destroy(a);
	otf_config_schema_free(otf_sm_schema, &cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_cumulative), cmocka_unit_test(test_dimensions),
	    cmocka_unit_test(test_cardinality_limit),   cmocka_unit_test(test_delta),
	    cmocka_unit_test(test_exponential),         cmocka_unit_test(test_resources),
	    cmocka_unit_test(test_config_errors),       cmocka_unit_test(test_malformed),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	otf_config_destroy(g_yaml);
	return rc;
}
