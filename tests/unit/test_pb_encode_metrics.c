/* Protobuf encoder, metrics: exact bytes of every field of every data point
 * kind against the forward construction of pb_expect.h. */
#include "pb_expect.h"

#include "otflow/err.h"
#include "otflow/pdata_codec.h"

static void test_metrics_all_fields(void **state)
{
	(void)state;
	otf_exemplar_t ex_d = {ATTRS, 3, OTF_NUMBER_DOUBLE, {.as_double = 2.5}, SPAN_ID, TRACE_ID};
	otf_exemplar_t ex_i = {.value_type = OTF_NUMBER_INT, .value.as_int = -7};
	otf_exemplar_t ex_0 = {0};
	otf_number_data_point_t gdp = {ATTRS,      1, 2, OTF_NUMBER_DOUBLE, {.as_double = 1.5},
	                               {&ex_d, 1}, 1};
	otf_number_data_point_t sdp[] = {
	    {.value_type = OTF_NUMBER_INT, .value.as_int = -5, .exemplars = {&ex_i, 1}},
	    {.value_type = OTF_NUMBER_DOUBLE, .value.as_double = 0.0},
	    {.value_type = OTF_NUMBER_INT, .value.as_int = 0},
	};
	uint64_t bc[] = {1, 2, 3};
	double eb[] = {0.5, 1.5};
	otf_histogram_data_point_t hdp = {
	    .attributes = ATTRS,
	    .start_time_unix_nano = 1,
	    .time_unix_nano = 2,
	    .count = 10,
	    .has_sum = true,
	    .sum = 0.0,
	    .bucket_counts = bc,
	    .bucket_counts_len = 3,
	    .explicit_bounds = eb,
	    .explicit_bounds_len = 2,
	    .exemplars = {&ex_0, 1},
	    .flags = 1,
	    .has_min = true,
	    .min = -1.0,
	    .has_max = true,
	    .max = 9.0,
	};
	uint64_t pc[] = {1, 300};
	otf_exp_histogram_data_point_t edp = {
	    .attributes = ATTRS,
	    .start_time_unix_nano = 1,
	    .time_unix_nano = 2,
	    .count = 5,
	    .has_sum = true,
	    .sum = 2.5,
	    .scale = -3,
	    .zero_count = 1,
	    .positive = {-2, pc, 2},
	    .negative = {0, NULL, 0},
	    .flags = 1,
	    .exemplars = {&ex_0, 1},
	    .has_min = true,
	    .min = 0.0,
	    .zero_threshold = 1e-9,
	};
	otf_exp_histogram_data_point_t edp2 = {.negative = {5, NULL, 0}, .sum = 3.0};
	otf_exp_histogram_data_point_t edps[] = {edp, edp2};
	otf_quantile_value_t qv[] = {{0.0, 1.0}, {1.0, 0.0}};
	otf_summary_data_point_t sumdp = {ATTRS, 1, 2, 3, -0.0, qv, 2, 1};
	otf_metric_t ms[] = {
	    {S("g"), S("d"), S("u"), OTF_METRIC_GAUGE, {.number = &gdp}, 1, .metadata = ATTRS},
	    {S("s"), .type = OTF_METRIC_SUM, .data_points.number = sdp, .data_points_len = 3,
	     .aggregation_temporality = 2, .is_monotonic = true},
	    {S("h"), .type = OTF_METRIC_HISTOGRAM, .data_points.histogram = &hdp,
	     .data_points_len = 1, .aggregation_temporality = 1},
	    {S("x"), .type = OTF_METRIC_EXP_HISTOGRAM, .data_points.exp_histogram = edps,
	     .data_points_len = 2, .aggregation_temporality = 2},
	    {S("q"), .type = OTF_METRIC_SUMMARY, .data_points.summary = &sumdp,
	     .data_points_len = 1, .aggregation_temporality = 2 /* not in Summary */},
	    {S("e"), .type = OTF_METRIC_GAUGE},
	    {S("n"), .type = OTF_METRIC_NONE},
	};
	otf_scope_metrics_t sm = {.metrics = ms, .metrics_len = sizeof ms / sizeof ms[0]};
	otf_resource_metrics_t rm = {.scope_metrics = &sm, .scope_metrics_len = 1};
	otf_metrics_t metrics = {&rm, 1};

	fb_t smf = {0}, m = {0}, d = {0}, dp = {0}, x = {0};
	/* gauge */
	fb_f64(&x, 2, 3);
	fb_dbl(&x, 3, 2.5);
	fb_raw(&x, 4, SID, 8);
	fb_raw(&x, 5, TID, 16);
	fb_attrs(&x, 7);
	fb_f64(&dp, 2, 1);
	fb_f64(&dp, 3, 2);
	fb_dbl(&dp, 4, 1.5);
	fb_msg(&dp, 5, &x);
	fb_attrs(&dp, 7);
	fb_u(&dp, 8, 1);
	fb_msg(&d, 1, &dp);
	fb_str(&m, 1, "g");
	fb_str(&m, 2, "d");
	fb_str(&m, 3, "u");
	fb_msg(&m, 5, &d);
	fb_attrs(&m, 12);
	fb_msg(&smf, 2, &m);
	/* sum: sfixed64 values, oneof zero values present */
	fb_f64(&x, 6, (uint64_t)-7);
	fb_msg(&dp, 5, &x);
	fb_f64(&dp, 6, (uint64_t)-5);
	fb_msg(&d, 1, &dp);
	fb_dbl(&dp, 4, 0.0);
	fb_msg(&d, 1, &dp);
	fb_f64(&dp, 6, 0);
	fb_msg(&d, 1, &dp);
	fb_u(&d, 2, 2);
	fb_u(&d, 3, 1);
	fb_str(&m, 1, "s");
	fb_msg(&m, 7, &d);
	fb_msg(&smf, 2, &m);
	/* histogram */
	fb_f64(&dp, 2, 1);
	fb_f64(&dp, 3, 2);
	fb_f64(&dp, 4, 10);
	fb_dbl(&dp, 5, 0.0); /* optional: present, so written */
	fb_raw(&dp, 6, bc, sizeof bc);
	fb_raw(&dp, 7, eb, sizeof eb);
	fb_empty(&dp, 8);
	fb_attrs(&dp, 9);
	fb_u(&dp, 10, 1);
	fb_dbl(&dp, 11, -1.0);
	fb_dbl(&dp, 12, 9.0);
	fb_msg(&d, 1, &dp);
	fb_u(&d, 2, 1);
	fb_str(&m, 1, "h");
	fb_msg(&m, 9, &d);
	fb_msg(&smf, 2, &m);
	/* exponential histogram */
	fb_t pos = {0};
	fb_u(&pos, 1, 3); /* zigzag(-2) */
	fb_raw(&pos, 2, "\x01\xac\x02", 3);
	fb_attrs(&dp, 1);
	fb_f64(&dp, 2, 1);
	fb_f64(&dp, 3, 2);
	fb_f64(&dp, 4, 5);
	fb_dbl(&dp, 5, 2.5);
	fb_u(&dp, 6, 5); /* zigzag(-3) */
	fb_f64(&dp, 7, 1);
	fb_msg(&dp, 8, &pos);
	fb_u(&dp, 10, 1);
	fb_empty(&dp, 11);
	fb_dbl(&dp, 12, 0.0);
	fb_dbl(&dp, 14, 1e-9);
	fb_msg(&d, 1, &dp);
	fb_t neg = {0};
	fb_u(&neg, 1, 10); /* zigzag(5); has_sum false: sum not written */
	fb_msg(&dp, 9, &neg);
	fb_msg(&d, 1, &dp);
	fb_u(&d, 2, 2);
	fb_str(&m, 1, "x");
	fb_msg(&m, 10, &d);
	fb_msg(&smf, 2, &m);
	/* summary: -0.0 is not the default, each quantile element written */
	fb_t q = {0};
	fb_f64(&dp, 2, 1);
	fb_f64(&dp, 3, 2);
	fb_f64(&dp, 4, 3);
	fb_dbl(&dp, 5, -0.0);
	fb_dbl(&q, 2, 1.0);
	fb_msg(&dp, 6, &q);
	fb_dbl(&q, 1, 1.0);
	fb_msg(&dp, 6, &q);
	fb_attrs(&dp, 7);
	fb_u(&dp, 8, 1);
	fb_msg(&d, 1, &dp);
	fb_str(&m, 1, "q");
	fb_msg(&m, 11, &d);
	fb_msg(&smf, 2, &m);
	/* an empty gauge is still a gauge; no data at all writes nothing */
	fb_str(&m, 1, "e");
	fb_empty(&m, 5);
	fb_msg(&smf, 2, &m);
	fb_str(&m, 1, "n");
	fb_msg(&smf, 2, &m);

	fb_t rmf = {0}, top = {0};
	fb_msg(&rmf, 2, &smf);
	fb_msg(&top, 1, &rmf);

	otf_buf_t *b = NULL;
	assert_int_equal(otf_pdata_encode_metrics(&metrics, &b), 0);
	ms[4].aggregation_temporality = 0; /* Summary has no such field on the wire */
	roundtrip_metrics(&metrics, b);
	check(b, &top);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_metrics_all_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
