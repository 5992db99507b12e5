/* processors cumulativetodelta and deltatocumulative at the conversion
 * level: decoded metrics in, the same tree converted in place, compared
 * field by field (values, start times, timestamps, attributes,
 * temporality) with what the Collector's processors produce
 * (processor/cumulativetodeltaprocessor README and tracking/tracker.go,
 * processor/deltatocumulativeprocessor README): the README's include /
 * exclude examples, initial_value auto/keep/drop, monotonic resets, a new
 * start time as a new series, histograms, out-of-order points, the series
 * state shared by two threads converting one counter (as two workers do),
 * max_streams, staleness, and config errors with file:line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "components/processors/cumulativetodelta/cumulativetodelta.h"
#include "components/processors/deltatocumulative/deltatocumulative.h"
#include "otflow/config.h"
#include "otflow/err.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define S  1000000000ull
#define T0 (1700000000ull * S)

static otf_bytes_t B(const char *s)
{
	return (otf_bytes_t){(const uint8_t *)s, strlen(s)};
}

static otf_key_value_t g_kv[2];

/* One resource (service.name=svc), one scope, one metric. */
typedef struct req {
	otf_key_value_t rattr;
	otf_resource_metrics_t rm;
	otf_scope_metrics_t sm;
	otf_metric_t m;
	otf_number_data_point_t np[8];
	otf_histogram_data_point_t hp[4];
	uint64_t buckets[4][3];
	double bounds[2];
	otf_metrics_t md;
} req_t;

static void req_init(req_t *r, const char *name, otf_metric_type_t type, int temporality,
                     bool monotonic)
{
	memset(r, 0, sizeof *r);
	r->rattr.key = B("service.name");
	r->rattr.value.type = OTF_ANY_STRING;
	r->rattr.value.u.string_value = B("svc");
	r->rm.resource.attributes = (otf_attributes_t){&r->rattr, 1};
	r->sm.scope.name = B("lib");
	r->m.name = B(name);
	r->m.type = type;
	r->m.aggregation_temporality = temporality;
	r->m.is_monotonic = monotonic;
	if (type == OTF_METRIC_HISTOGRAM)
		r->m.data_points.histogram = r->hp;
	else
		r->m.data_points.number = r->np;
	r->sm.metrics = &r->m;
	r->sm.metrics_len = 1;
	r->rm.scope_metrics = &r->sm;
	r->rm.scope_metrics_len = 1;
	r->md.resource_metrics = &r->rm;
	r->md.resource_metrics_len = 1;
	g_kv[0].key = B("state");
	g_kv[0].value.type = OTF_ANY_STRING;
	g_kv[0].value.u.string_value = B("idle");
}

static void add_int(req_t *r, uint64_t start, uint64_t t, int64_t v)
{
	otf_number_data_point_t *p = &r->np[r->m.data_points_len++];
	p->start_time_unix_nano = start;
	p->time_unix_nano = t;
	p->value_type = OTF_NUMBER_INT;
	p->value.as_int = v;
	p->attributes = (otf_attributes_t){g_kv, 1};
}

static void add_dbl(req_t *r, uint64_t start, uint64_t t, double v)
{
	otf_number_data_point_t *p = &r->np[r->m.data_points_len++];
	p->start_time_unix_nano = start;
	p->time_unix_nano = t;
	p->value_type = OTF_NUMBER_DOUBLE;
	p->value.as_double = v;
	p->attributes = (otf_attributes_t){g_kv, 1};
}

static void add_hist(req_t *r, uint64_t start, uint64_t t, uint64_t b0, uint64_t b1, uint64_t b2,
                     double sum)
{
	size_t i = r->m.data_points_len++;
	otf_histogram_data_point_t *p = &r->hp[i];
	r->bounds[0] = 1;
	r->bounds[1] = 10;
	r->buckets[i][0] = b0;
	r->buckets[i][1] = b1;
	r->buckets[i][2] = b2;
	p->start_time_unix_nano = start;
	p->time_unix_nano = t;
	p->count = b0 + b1 + b2;
	p->has_sum = true;
	p->sum = sum;
	p->has_min = p->has_max = true;
	p->min = 0.5;
	p->max = 20;
	p->bucket_counts = r->buckets[i];
	p->bucket_counts_len = 3;
	p->explicit_bounds = r->bounds;
	p->explicit_bounds_len = 2;
	p->attributes = (otf_attributes_t){g_kv, 1};
}

/* ---- config ---- */

static otf_config_t *g_yaml;

static int load(const otf_config_field_t *schema, const char *yaml, void *cfg, size_t size,
                otf_config_error_t *err)
{
	memset(cfg, 0, size);
	otf_config_destroy(g_yaml);
	g_yaml = NULL;
	assert_int_equal(otf_config_load_string("p.yaml", yaml, strlen(yaml), NULL, &g_yaml, err),
	                 0);
	return otf_config_schema_apply(schema, otf_config_get(otf_config_root(g_yaml), "p"), cfg,
	                               err);
}

static otf_series_map_t *new_map(const char *name, size_t max, otf_series_free_fn fn)
{
	otf_series_map_t *m = otf__series_map_get(name, NULL, max, fn);
	assert_non_null(m);
	return m;
}

/* started: the processor's start; points start after it unless said. */
#define STARTED (T0 - 100 * S)

static void ctd(const otf_ctd_config_t *c, otf_series_map_t *m, req_t *r, otf_ctd_stats_t *st)
{
	memset(st, 0, sizeof *st);
	assert_int_equal(otf__ctd_apply(c, m, &r->md, STARTED, 1000, st), 0);
}

static void expect_int(const req_t *r, size_t i, uint64_t start, uint64_t t, int64_t v)
{
	const otf_number_data_point_t *p = &r->sm.metrics[0].data_points.number[i];
	assert_int_equal(p->start_time_unix_nano, start);
	assert_int_equal(p->time_unix_nano, t);
	assert_int_equal(p->value_type, OTF_NUMBER_INT);
	assert_int_equal(p->value.as_int, v);
	assert_int_equal(p->attributes.len, 1);
	assert_memory_equal(p->attributes.items[0].value.u.string_value.ptr, "idle", 4);
}

/* One point per request, as a counter scraped at t1..t5: 5, 12, 20, then
 * a reset to 3 (same start time), then 9. auto keeps the first point (its
 * start is after the processor's start and differs from its timestamp);
 * each delta starts at the previous point's timestamp. */
static void test_ctd_sum_resets(void **st_)
{
	(void)st_;
	otf_ctd_config_t c;
	otf_config_error_t err;
	assert_int_equal(load(otf_ctd_schema, "p:\n", &c, sizeof c, &err), 0);
	assert_int_equal(c.initial_value, OTF_CTD_INITIAL_AUTO);
	assert_int_equal(c.max_staleness_ns, 0);
	otf_series_map_t *m = new_map("processor:cumulativetodelta/t1", 0, otf__ctd_free_state);
	static const int64_t vals[] = {5, 12, 20, 3, 9};
	static const int64_t want[] = {5, 7, 8, 3, 6};
	uint64_t start = T0 - 10 * S;
	for (int i = 0; i < 5; i++) {
		req_t r;
		otf_ctd_stats_t st;
		req_init(&r, "requests", OTF_METRIC_SUM, OTF_TEMPORALITY_CUMULATIVE, true);
		add_int(&r, start, T0 + (uint64_t)i * S, vals[i]);
		ctd(&c, m, &r, &st);
		assert_int_equal(r.sm.metrics_len, 1);
		assert_int_equal(r.m.aggregation_temporality, OTF_TEMPORALITY_DELTA);
		assert_true(r.m.is_monotonic);
		assert_int_equal(r.m.data_points_len, 1);
		expect_int(&r, 0, i ? T0 + (uint64_t)(i - 1) * S : start, T0 + (uint64_t)i * S,
		           want[i]);
	}
	otf_series_stats_t ss;
	otf__series_map_stats(m, &ss);
	assert_int_equal(ss.series, 1);
	otf__series_map_put(m);
	otf_config_schema_free(otf_ctd_schema, &c);
}

/* initial_value: auto drops a first point started before the processor,
 * or without start time; keep sends it; drop remembers it only. A new
 * start time is a new series (the identity holds it). */
static void test_ctd_initial_value(void **st_)
{
	(void)st_;
	static const struct {
		const char *yaml;
		uint64_t start;
		bool first_sent;
	} cases[] = {
	    {"p:\n", T0 - 200 * S, false}, /* before the start */
	    {"p:\n", 0, false},            /* no start time */
	    {"p:\n  initial_value: keep\n", T0 - 200 * S, true},
	    {"p:\n  initial_value: drop\n", T0 - 10 * S, false},
	    {"p:\n  initial_value: auto\n", T0 - 10 * S, true},
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		otf_ctd_config_t c;
		otf_config_error_t err;
		assert_int_equal(load(otf_ctd_schema, cases[k].yaml, &c, sizeof c, &err), 0);
		char name[64];
		snprintf(name, sizeof name, "processor:cumulativetodelta/iv%zu", k);
		otf_series_map_t *m = new_map(name, 0, otf__ctd_free_state);
		req_t r;
		otf_ctd_stats_t st;
		req_init(&r, "c", OTF_METRIC_SUM, OTF_TEMPORALITY_CUMULATIVE, true);
		add_int(&r, cases[k].start, T0, 10);
		ctd(&c, m, &r, &st);
		assert_int_equal(r.sm.metrics_len, cases[k].first_sent ? 1 : 0);
		if (cases[k].first_sent)
			expect_int(&r, 0, cases[k].start, T0, 10);
		req_init(&r, "c", OTF_METRIC_SUM, OTF_TEMPORALITY_CUMULATIVE, true);
		add_int(&r, cases[k].start, T0 + S, 15);
		ctd(&c, m, &r, &st);
		assert_int_equal(r.m.data_points_len, 1);
		expect_int(&r, 0, T0, T0 + S, 5);
		/* restarted: new start time (after the processor's start) */
		req_init(&r, "c", OTF_METRIC_SUM, OTF_TEMPORALITY_CUMULATIVE, true);
		add_int(&r, T0 + 2 * S, T0 + 3 * S, 4);
		ctd(&c, m, &r, &st);
		bool sent = c.initial_value != OTF_CTD_INITIAL_DROP;
		assert_int_equal(r.sm.metrics_len, sent ? 1 : 0);
		if (sent)
			expect_int(&r, 0, T0 + 2 * S, T0 + 3 * S, 4);
		otf__series_map_put(m);
		otf_config_schema_free(otf_ctd_schema, &c);
	}
}

/* The README's include/exclude examples; what is not converted stays
 * cumulative and unchanged, and so do non-monotonic sums and gauges. */
static void test_ctd_include_exclude(void **st_)
{
	(void)st_;
	static const struct {
		const char *yaml, *metric;
		int type;
		bool monotonic, converted;
	} cases[] = {
	    {"p:\n  include:\n    metrics: [a.total, b.total]\n    match_type: strict\n", "b.total",
	     OTF_METRIC_SUM, true, true},
	    {"p:\n  include:\n    metrics: [a.total]\n    match_type: strict\n", "a.total.x",
	     OTF_METRIC_SUM, true, false},
	    {"p:\n  include:\n    metrics: [\".*metric.*\"]\n    match_type: regexp\n",
	     "my_metric_x", OTF_METRIC_SUM, true, true},
	    {"p:\n  exclude:\n    metrics: [\".*metric.*\"]\n    match_type: regexp\n",
	     "my_metric_x", OTF_METRIC_SUM, true, false},
	    {"p:\n  exclude:\n    metrics: [\".*metric.*\"]\n    match_type: regexp\n", "other",
	     OTF_METRIC_SUM, true, true},
	    /* exclude wins over include */
	    {"p:\n  include:\n    metrics: [m]\n    match_type: strict\n  exclude:\n    metrics: "
	     "[m]\n    match_type: strict\n",
	     "m", OTF_METRIC_SUM, true, false},
	    {"p:\n  include:\n    metrics: [m]\n    match_type: strict\n    metric_types: "
	     "[histogram]\n",
	     "m", OTF_METRIC_SUM, true, false},
	    {"p:\n", "updown", OTF_METRIC_SUM, false, false},
	    {"p:\n", "g", OTF_METRIC_GAUGE, false, false},
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		otf_ctd_config_t c;
		otf_config_error_t err;
		int rc = load(otf_ctd_schema, cases[k].yaml, &c, sizeof c, &err);
		if (rc)
			fail_msg("case %zu: %s", k, err.text);
		char name[64];
		snprintf(name, sizeof name, "processor:cumulativetodelta/ie%zu", k);
		otf_series_map_t *m = new_map(name, 0, otf__ctd_free_state);
		for (int i = 0; i < 2; i++) {
			req_t r;
			otf_ctd_stats_t st;
			req_init(&r, cases[k].metric, cases[k].type, OTF_TEMPORALITY_CUMULATIVE,
			         cases[k].monotonic);
			if (cases[k].type == OTF_METRIC_GAUGE)
				r.m.aggregation_temporality = 0;
			add_int(&r, T0 - 10 * S, T0 + (uint64_t)i * S, 10 + 5 * i);
			ctd(&c, m, &r, &st);
			assert_int_equal(r.sm.metrics_len, 1);
			if (cases[k].converted) {
				assert_int_equal(r.m.aggregation_temporality,
				                 OTF_TEMPORALITY_DELTA);
				expect_int(&r, 0, i ? T0 : T0 - 10 * S, T0 + (uint64_t)i * S,
				           i ? 5 : 10);
			} else {
				assert_int_not_equal(r.m.aggregation_temporality,
				                     OTF_TEMPORALITY_DELTA);
				expect_int(&r, 0, T0 - 10 * S, T0 + (uint64_t)i * S, 10 + 5 * i);
			}
		}
		otf__series_map_put(m);
		otf_config_schema_free(otf_ctd_schema, &c);
	}
}

/* Doubles, NaN (dropped), a point not after the last one (dropped: with
 * several workers it may arrive late; the sum of deltas stays right). */
static void test_ctd_double_order(void **st_)
{
	(void)st_;
	otf_ctd_config_t c;
	otf_config_error_t err;
	assert_int_equal(load(otf_ctd_schema, "p:\n  initial_value: keep\n", &c, sizeof c, &err),
	                 0);
	otf_series_map_t *m = new_map("processor:cumulativetodelta/d", 0, otf__ctd_free_state);
	req_t r;
	otf_ctd_stats_t st;
	req_init(&r, "d", OTF_METRIC_SUM, OTF_TEMPORALITY_CUMULATIVE, true);
	add_dbl(&r, T0 - S, T0, 1.5);
	add_dbl(&r, T0 - S, T0 + 2 * S, 4.0);
	add_dbl(&r, T0 - S, T0 + S, 3.0); /* older than the last: dropped */
	add_dbl(&r, T0 - S, T0 + 3 * S, NAN);
	add_dbl(&r, T0 - S, T0 + 4 * S, 4.25);
	ctd(&c, m, &r, &st);
	assert_int_equal(r.m.data_points_len, 3);
	assert_int_equal(st.dropped, 2);
	const otf_number_data_point_t *p = r.m.data_points.number;
	assert_true(p[0].value.as_double == 1.5 && p[0].start_time_unix_nano == T0 - S);
	assert_true(p[1].value.as_double == 2.5 && p[1].start_time_unix_nano == T0 &&
	            p[1].time_unix_nano == T0 + 2 * S);
	assert_true(p[2].value.as_double == 0.25 && p[2].start_time_unix_nano == T0 + 2 * S &&
	            p[2].time_unix_nano == T0 + 4 * S);
	otf__series_map_put(m);
	otf_config_schema_free(otf_ctd_schema, &c);
}

/* Histograms: count, sum and every bucket subtracted; min/max dropped
 * from deltas; a lower count is a reset. */
static void test_ctd_histogram(void **st_)
{
	(void)st_;
	otf_ctd_config_t c;
	otf_config_error_t err;
	assert_int_equal(load(otf_ctd_schema, "p:\n", &c, sizeof c, &err), 0);
	otf_series_map_t *m = new_map("processor:cumulativetodelta/h", 0, otf__ctd_free_state);
	req_t r;
	otf_ctd_stats_t st;
	req_init(&r, "lat", OTF_METRIC_HISTOGRAM, OTF_TEMPORALITY_CUMULATIVE, false);
	add_hist(&r, T0 - S, T0, 1, 2, 3, 30);
	add_hist(&r, T0 - S, T0 + S, 2, 5, 3, 50);
	add_hist(&r, T0 - S, T0 + 2 * S, 1, 0, 0, 0.5); /* reset */
	ctd(&c, m, &r, &st);
	assert_int_equal(r.m.aggregation_temporality, OTF_TEMPORALITY_DELTA);
	assert_int_equal(r.m.data_points_len, 3);
	const otf_histogram_data_point_t *p = r.m.data_points.histogram;
	assert_int_equal(p[0].count, 6);
	assert_true(p[0].has_min && p[0].sum == 30);
	assert_int_equal(p[1].count, 4);
	assert_int_equal(p[1].start_time_unix_nano, T0);
	assert_int_equal(p[1].time_unix_nano, T0 + S);
	assert_true(p[1].sum == 20 && !p[1].has_min && !p[1].has_max);
	assert_int_equal(p[1].bucket_counts[0], 1);
	assert_int_equal(p[1].bucket_counts[1], 3);
	assert_int_equal(p[1].bucket_counts[2], 0);
	assert_int_equal(p[2].count, 1);
	assert_int_equal(p[2].bucket_counts[0], 1);
	assert_true(p[2].sum == 0.5);
	assert_int_equal(p[2].start_time_unix_nano, T0 + S);
	otf__series_map_put(m);
	otf_config_schema_free(otf_ctd_schema, &c);
}

/* Two threads (two workers) convert points of one counter taken from a
 * shared sequence in whatever order they get them: the first point is
 * sent whole (keep), an older point than the last converted is dropped,
 * so the deltas sent add up to the counter's last value exactly. */
typedef struct race {
	const otf_ctd_config_t *c;
	otf_series_map_t *m;
	int next; /* atomic */
	int64_t sum;
	int sent;
} race_t;

#define RACE_N 2000

static void *race_run(void *arg)
{
	race_t *x = arg;
	int64_t sum = 0;
	int sent = 0;
	for (;;) {
		int i = __atomic_fetch_add(&x->next, 1, __ATOMIC_SEQ_CST);
		if (i >= RACE_N)
			break;
		req_t r;
		otf_ctd_stats_t st = {0};
		req_init(&r, "race", OTF_METRIC_SUM, OTF_TEMPORALITY_CUMULATIVE, true);
		add_int(&r, T0 - S, T0 + (uint64_t)i * 1000, 3 * (int64_t)i + 7);
		if (otf__ctd_apply(x->c, x->m, &r.md, STARTED, 1000, &st))
			abort();
		for (size_t j = 0; j < r.sm.metrics_len; j++, sent++)
			sum += r.m.data_points.number[0].value.as_int;
	}
	__atomic_fetch_add(&x->sum, sum, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&x->sent, sent, __ATOMIC_SEQ_CST);
	return NULL;
}

static void test_ctd_shared_by_workers(void **st_)
{
	(void)st_;
	otf_ctd_config_t c;
	otf_config_error_t err;
	assert_int_equal(load(otf_ctd_schema, "p:\n  initial_value: keep\n", &c, sizeof c, &err),
	                 0);
	/* Each worker's instance asks for the map by node name: one map. */
	otf_series_map_t *m = new_map("processor:cumulativetodelta/race", 0, otf__ctd_free_state);
	otf_series_map_t *m2 = new_map("processor:cumulativetodelta/race", 0, otf__ctd_free_state);
	assert_ptr_equal(m, m2);
	/* The same node name in another engine (another config struct) is
	 * another map. */
	static const int other_engine;
	otf_series_map_t *m3 = otf__series_map_get("processor:cumulativetodelta/race",
	                                           &other_engine, 0, otf__ctd_free_state);
	assert_non_null(m3);
	assert_ptr_not_equal(m, m3);
	otf__series_map_put(m3);
	race_t x = {.c = &c, .m = m};
	pthread_t a, b;
	assert_int_equal(pthread_create(&a, NULL, race_run, &x), 0);
	assert_int_equal(pthread_create(&b, NULL, race_run, &x), 0);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	assert_int_equal(x.sum, 3 * (RACE_N - 1) + 7);
	assert_true(x.sent >= 1);
	otf__series_map_put(m2);
	otf__series_map_put(m);
	otf_config_schema_free(otf_ctd_schema, &c);
}

/* Stale series are evicted (counted) and start over. */
static void test_ctd_staleness(void **st_)
{
	(void)st_;
	otf_ctd_config_t c;
	otf_config_error_t err;
	assert_int_equal(load(otf_ctd_schema, "p:\n  max_staleness: 1m\n  initial_value: drop\n",
	                      &c, sizeof c, &err),
	                 0);
	assert_int_equal(c.max_staleness_ns, 60 * S);
	otf_series_map_t *m = new_map("processor:cumulativetodelta/st", 0, otf__ctd_free_state);
	req_t r;
	otf_ctd_stats_t st;
	req_init(&r, "c", OTF_METRIC_SUM, OTF_TEMPORALITY_CUMULATIVE, true);
	add_int(&r, T0 - S, T0, 10);
	ctd(&c, m, &r, &st); /* seen at 1000 */
	assert_int_equal(otf__series_map_evict(m, 1000), 0);
	assert_int_equal(otf__series_map_evict(m, 1001), 1);
	otf_series_stats_t ss;
	otf__series_map_stats(m, &ss);
	assert_int_equal(ss.series, 0);
	assert_int_equal(ss.evicted, 1);
	req_init(&r, "c", OTF_METRIC_SUM, OTF_TEMPORALITY_CUMULATIVE, true);
	add_int(&r, T0 - S, T0 + S, 12);
	ctd(&c, m, &r, &st); /* a first point again: dropped */
	assert_int_equal(r.sm.metrics_len, 0);
	otf__series_map_put(m);
	otf_config_schema_free(otf_ctd_schema, &c);
}

static void test_ctd_config_errors(void **st_)
{
	(void)st_;
	static const struct {
		const char *yaml, *pos, *msg;
	} cases[] = {
	    {"p:\n  include:\n    metrics: [a]\n", "p.yaml:3:", "match_type must be set"},
	    {"p:\n  include:\n    match_type: strict\n", "p.yaml:3:", "metrics must be supplied"},
	    {"p:\n  exclude:\n    match_type: regexp\n    metrics: [\"*metric*\"]\n",
	     "p.yaml:4:", "does not compile"},
	    {"p:\n  include:\n    match_type: strict\n    metrics: [a]\n    regexp: {}\n",
	     "p.yaml:5:", "unknown key \"regexp\""},
	    {"p:\n  initial_value: sometimes\n", "p.yaml:2:", "initial_value"},
	    {"p:\n  max_stale: 1m\n", "p.yaml:2:", "unknown key \"max_stale\""},
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		otf_ctd_config_t c;
		otf_config_error_t err;
		assert_int_equal(load(otf_ctd_schema, cases[k].yaml, &c, sizeof c, &err),
		                 OTF_E_CONFIG);
		if (!strstr(err.text, cases[k].pos) || !strstr(err.text, cases[k].msg))
			fail_msg("case %zu: %s", k, err.text);
		otf_config_schema_free(otf_ctd_schema, &c);
	}
}

/* ---- deltatocumulative ---- */

static void dtc(otf_series_map_t *m, req_t *r, uint64_t now, otf_dtc_stats_t *st)
{
	memset(st, 0, sizeof *st);
	otf_arena_t a;
	otf_arena_init(&a, 0);
	assert_int_equal(otf__dtc_apply(m, &r->md, now, &a, st), 0);
	otf_arena_close(&a); /* no exponential histograms here: nothing points into it */
}

/* Deltas 3, 4, 5 over consecutive windows: totals 3, 7, 12 from the first
 * start time; a point out of order or started before the series is
 * dropped; cumulative metrics pass. */
static void test_dtc_sum(void **st_)
{
	(void)st_;
	otf_dtc_config_t c;
	otf_config_error_t err;
	assert_int_equal(load(otf_dtc_schema, "p:\n", &c, sizeof c, &err), 0);
	assert_int_equal(c.max_stale_ns, 300 * S);
	assert_int_equal(c.max_streams, INT64_MAX);
	char msg[128];
	assert_int_equal(otf__dtc_validate(&c, msg, sizeof msg), 0);
	otf_series_map_t *m = new_map("processor:deltatocumulative/s", 0, otf__dtc_free_state);
	req_t r;
	otf_dtc_stats_t st;
	req_init(&r, "n", OTF_METRIC_SUM, OTF_TEMPORALITY_DELTA, true);
	add_int(&r, T0, T0 + S, 3);
	add_int(&r, T0 + S, T0 + 2 * S, 4);
	add_int(&r, T0 + S, T0 + 2 * S, 9); /* not after the last: dropped */
	add_int(&r, T0 - S, T0 + 3 * S, 9); /* starts before the series: dropped */
	add_int(&r, T0 + 2 * S, T0 + 3 * S, 5);
	dtc(m, &r, 1000, &st);
	assert_int_equal(r.m.aggregation_temporality, OTF_TEMPORALITY_CUMULATIVE);
	assert_true(r.m.is_monotonic);
	assert_int_equal(r.m.data_points_len, 3);
	assert_int_equal(st.dropped, 2);
	expect_int(&r, 0, T0, T0 + S, 3);
	expect_int(&r, 1, T0, T0 + 2 * S, 7);
	expect_int(&r, 2, T0, T0 + 3 * S, 12);
	/* the next request continues the total */
	req_init(&r, "n", OTF_METRIC_SUM, OTF_TEMPORALITY_DELTA, true);
	add_int(&r, T0 + 3 * S, T0 + 4 * S, 1);
	dtc(m, &r, 1000, &st);
	expect_int(&r, 0, T0, T0 + 4 * S, 13);
	/* cumulative input is left alone */
	req_init(&r, "n", OTF_METRIC_SUM, OTF_TEMPORALITY_CUMULATIVE, true);
	add_int(&r, T0, T0 + 5 * S, 100);
	dtc(m, &r, 1000, &st);
	assert_int_equal(st.metrics, 0);
	expect_int(&r, 0, T0, T0 + 5 * S, 100);
	/* stale: forgotten, the next sample starts a new total */
	assert_int_equal(otf__series_map_evict(m, 2000), 1);
	req_init(&r, "n", OTF_METRIC_SUM, OTF_TEMPORALITY_DELTA, true);
	add_int(&r, T0 + 9 * S, T0 + 10 * S, 2);
	dtc(m, &r, 3000, &st);
	expect_int(&r, 0, T0 + 9 * S, T0 + 10 * S, 2);
	otf__series_map_put(m);
	c.max_stale_ns = 0;
	assert_int_equal(otf__dtc_validate(&c, msg, sizeof msg), OTF_E_CONFIG);
	assert_non_null(strstr(msg, "max_stale must be a positive duration"));
}

/* max_streams: samples of a new series past the limit are dropped and
 * counted; the tracked one goes on. */
static void test_dtc_max_streams(void **st_)
{
	(void)st_;
	otf_series_map_t *m = new_map("processor:deltatocumulative/ms", 1, otf__dtc_free_state);
	req_t r;
	otf_dtc_stats_t st;
	req_init(&r, "n", OTF_METRIC_SUM, OTF_TEMPORALITY_DELTA, true);
	add_dbl(&r, T0, T0 + S, 1.5);
	dtc(m, &r, 1, &st);
	assert_int_equal(st.converted, 1);
	req_init(&r, "other", OTF_METRIC_SUM, OTF_TEMPORALITY_DELTA, true);
	add_dbl(&r, T0, T0 + S, 2.5);
	dtc(m, &r, 1, &st);
	assert_int_equal(st.refused, 1);
	assert_int_equal(r.sm.metrics_len, 0);
	otf_series_stats_t ss;
	otf__series_map_stats(m, &ss);
	assert_int_equal(ss.refused, 1);
	assert_int_equal(ss.series, 1);
	req_init(&r, "n", OTF_METRIC_SUM, OTF_TEMPORALITY_DELTA, true);
	add_dbl(&r, T0 + S, T0 + 2 * S, 0.25);
	dtc(m, &r, 1, &st);
	assert_true(r.m.data_points.number[0].value.as_double == 1.75);
	otf__series_map_put(m);
}

/* Histograms add count, sum and buckets, keep the extreme min/max; other
 * bounds are dropped. */
static void test_dtc_histogram(void **st_)
{
	(void)st_;
	otf_series_map_t *m = new_map("processor:deltatocumulative/h", 0, otf__dtc_free_state);
	req_t r;
	otf_dtc_stats_t st;
	req_init(&r, "lat", OTF_METRIC_HISTOGRAM, OTF_TEMPORALITY_DELTA, false);
	add_hist(&r, T0, T0 + S, 1, 2, 3, 30);
	add_hist(&r, T0 + S, T0 + 2 * S, 0, 1, 1, 12);
	r.hp[1].min = 0.25;
	r.hp[1].max = 15;
	dtc(m, &r, 1, &st);
	assert_int_equal(r.m.aggregation_temporality, OTF_TEMPORALITY_CUMULATIVE);
	const otf_histogram_data_point_t *p = r.m.data_points.histogram;
	assert_int_equal(p[1].count, 8);
	assert_int_equal(p[1].bucket_counts[0], 1);
	assert_int_equal(p[1].bucket_counts[1], 3);
	assert_int_equal(p[1].bucket_counts[2], 4);
	assert_true(p[1].sum == 42 && p[1].min == 0.25 && p[1].max == 20);
	assert_int_equal(p[1].start_time_unix_nano, T0);
	assert_int_equal(p[1].time_unix_nano, T0 + 2 * S);
	req_init(&r, "lat", OTF_METRIC_HISTOGRAM, OTF_TEMPORALITY_DELTA, false);
	add_hist(&r, T0 + 2 * S, T0 + 3 * S, 1, 1, 1, 3);
	r.bounds[1] = 5; /* other bounds */
	dtc(m, &r, 1, &st);
	assert_int_equal(st.dropped, 1);
	assert_int_equal(r.sm.metrics_len, 0);
	otf__series_map_put(m);
}

/* Exponential histograms: samples of scale 1 and 0 add at scale 0
 * (buckets 0 and 1 of scale 1 are bucket 0 of scale 0), negative indices
 * floor correctly, and a side spanning more than 160 buckets is brought
 * to a lower scale with every count kept. */
static void expo_req(otf_resource_metrics_t *rm, otf_scope_metrics_t *sm, otf_metric_t *m,
                     otf_metrics_t *md, otf_exp_histogram_data_point_t *p)
{
	memset(m, 0, sizeof *m);
	m->name = B("rpc.duration");
	m->type = OTF_METRIC_EXP_HISTOGRAM;
	m->aggregation_temporality = OTF_TEMPORALITY_DELTA;
	m->data_points.exp_histogram = p;
	m->data_points_len = 1;
	*sm = (otf_scope_metrics_t){.metrics = m, .metrics_len = 1};
	*rm = (otf_resource_metrics_t){.scope_metrics = sm, .scope_metrics_len = 1};
	*md = (otf_metrics_t){.resource_metrics = rm, .resource_metrics_len = 1};
}

static void test_dtc_exponential(void **st_)
{
	(void)st_;
	otf_series_map_t *map = new_map("processor:deltatocumulative/e", 0, otf__dtc_free_state);
	otf_arena_t a;
	otf_arena_init(&a, 0);
	otf_resource_metrics_t rm;
	otf_scope_metrics_t sm;
	otf_metric_t m;
	otf_metrics_t md;
	otf_dtc_stats_t st = {0};
	uint64_t c1[2] = {1, 2}, c2[1] = {3}, c3[5] = {1, 0, 0, 0, 1}, n3[1] = {2};
	otf_exp_histogram_data_point_t p = {.start_time_unix_nano = T0,
	                                    .time_unix_nano = T0 + S,
	                                    .count = 4,
	                                    .has_sum = true,
	                                    .sum = 5,
	                                    .scale = 1,
	                                    .zero_count = 1,
	                                    .positive = {0, c1, 2}};
	expo_req(&rm, &sm, &m, &md, &p);
	assert_int_equal(otf__dtc_apply(map, &md, 1, &a, &st), 0);
	assert_int_equal(m.aggregation_temporality, OTF_TEMPORALITY_CUMULATIVE);
	assert_int_equal(p.scale, 1);
	assert_int_equal(p.positive.bucket_counts_len, 2);
	p = (otf_exp_histogram_data_point_t){.start_time_unix_nano = T0 + S,
	                                     .time_unix_nano = T0 + 2 * S,
	                                     .count = 3,
	                                     .has_sum = true,
	                                     .sum = 2,
	                                     .scale = 0,
	                                     .positive = {0, c2, 1}};
	expo_req(&rm, &sm, &m, &md, &p);
	assert_int_equal(otf__dtc_apply(map, &md, 1, &a, &st), 0);
	assert_int_equal(p.scale, 0);
	assert_int_equal(p.count, 7);
	assert_int_equal(p.zero_count, 1);
	assert_true(p.sum == 7);
	assert_int_equal(p.start_time_unix_nano, T0);
	assert_int_equal(p.positive.offset, 0);
	assert_int_equal(p.positive.bucket_counts_len, 1);
	assert_int_equal(p.positive.bucket_counts[0], 6);
	p = (otf_exp_histogram_data_point_t){.start_time_unix_nano = T0 + 2 * S,
	                                     .time_unix_nano = T0 + 3 * S,
	                                     .count = 4,
	                                     .scale = 0,
	                                     .positive = {-2, c3, 5},
	                                     .negative = {-1, n3, 1}};
	expo_req(&rm, &sm, &m, &md, &p);
	assert_int_equal(otf__dtc_apply(map, &md, 1, &a, &st), 0);
	assert_int_equal(p.count, 11);
	assert_int_equal(p.positive.offset, -2);
	assert_int_equal(p.positive.bucket_counts_len, 5);
	static const uint64_t want[5] = {1, 0, 6, 0, 1};
	assert_memory_equal(p.positive.bucket_counts, want, sizeof want);
	assert_int_equal(p.negative.offset, -1);
	assert_int_equal(p.negative.bucket_counts[0], 2);
	/* 200 buckets at scale 0 (indices -2..197 with the total's): scale -1
	 * halves the span to 100 buckets */
	uint64_t wide[200];
	for (int i = 0; i < 200; i++)
		wide[i] = 1;
	p = (otf_exp_histogram_data_point_t){.start_time_unix_nano = T0 + 3 * S,
	                                     .time_unix_nano = T0 + 4 * S,
	                                     .count = 200,
	                                     .scale = 0,
	                                     .positive = {-2, wide, 200}};
	expo_req(&rm, &sm, &m, &md, &p);
	assert_int_equal(otf__dtc_apply(map, &md, 1, &a, &st), 0);
	assert_int_equal(p.scale, -1);
	assert_int_equal(p.positive.offset, -1);
	assert_int_equal(p.positive.bucket_counts_len, 100); /* -1..98 */
	uint64_t total = 0;
	for (size_t i = 0; i < p.positive.bucket_counts_len; i++)
		total += p.positive.bucket_counts[i];
	assert_int_equal(total, 8 + 200);
	assert_int_equal(p.count, 211);
	otf_arena_close(&a);
	otf__series_map_put(map);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ctd_sum_resets),
	    cmocka_unit_test(test_ctd_initial_value),
	    cmocka_unit_test(test_ctd_include_exclude),
	    cmocka_unit_test(test_ctd_double_order),
	    cmocka_unit_test(test_ctd_histogram),
	    cmocka_unit_test(test_ctd_shared_by_workers),
	    cmocka_unit_test(test_ctd_staleness),
	    cmocka_unit_test(test_ctd_config_errors),
	    cmocka_unit_test(test_dtc_sum),
	    cmocka_unit_test(test_dtc_max_streams),
	    cmocka_unit_test(test_dtc_histogram),
	    cmocka_unit_test(test_dtc_exponential),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	otf_config_destroy(g_yaml);
	return rc;
}
