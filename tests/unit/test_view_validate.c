/* The validating views walk (otf_view_validate): the cases the decoder
 * refuses, with their field paths, and the item/attribute limits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otflow/err.h"
#include "otflow/arena.h"
#include "otflow/pdata_codec.h"
#include "otflow/pdata_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pb_build.h"

/* rc and the "path: message" text of validating p. */
static int validate(otf_signal_t sig, const pb_t *p, const otf_view_limits_t *lim,
                    otf_view_counts_t *c, char *msg, size_t cap)
{
	otf_pdata_error_t err;
	memset(&err, 0, sizeof err);
	int rc = otf_view_validate(sig, p->b, p->n, lim, c, &err);
	if (rc)
		otf_pdata_error_format(&err, msg, cap);
	else
		snprintf(msg, cap, "ok");
	return rc;
}

/* The validator and the decoder agree on p. */
static void same_as_decoder(otf_signal_t sig, const pb_t *p, int want)
{
	otf_arena_t a;
	otf_arena_init(&a, 0);
	otf_traces_t t;
	otf_logs_t l;
	int rc = sig == OTF_SIGNAL_TRACES ? otf_pdata_decode_traces(&t, p->b, p->n, &a, NULL, NULL)
	                                  : otf_pdata_decode_logs(&l, p->b, p->n, &a, NULL, NULL);
	assert_int_equal(rc, want);
	otf_arena_close(&a);
}

static void test_good_request(void **state)
{
	(void)state;
	pb_t sp = {0};
	good_span(&sp);
	pb_attr_str(&sp, 9, "http.method", "GET");
	pb_attr_str(&sp, 9, "ünïcödé", "välue");
	pb_t ev = {0};
	pb_str(&ev, 2, "event");
	pb_attr_str(&ev, 3, "k", "v");
	pb_msg(&sp, 11, &ev);
	pb_t td = traces_with(&sp);
	otf_view_counts_t c, vc;
	char msg[400];
	assert_int_equal(validate(OTF_SIGNAL_TRACES, &td, NULL, &c, msg, sizeof msg), 0);
	assert_int_equal(otf_view_count_traces(td.b, td.n, &vc), 0);
	assert_int_equal(c.resources, vc.resources);
	assert_int_equal(c.scopes, vc.scopes);
	assert_int_equal(c.records, 1);
	assert_int_equal(c.items, 4); /* resource group, scope group, span, event */
	assert_int_equal(c.attributes, 3);
	same_as_decoder(OTF_SIGNAL_TRACES, &td, 0);
	free(td.b);
}

/* The three cases of the hardening issue: each refused with its path. */
static void test_bad_utf8(void **state)
{
	(void)state;
	pb_t sp = {0};
	good_span(&sp);
	pb_attr_str(&sp, 9, "ok", "fine");
	pb_attr_str(&sp, 9, "bad", "\xc3\x28");
	pb_t td = traces_with(&sp);
	otf_view_counts_t c;
	char msg[400];
	assert_int_equal(validate(OTF_SIGNAL_TRACES, &td, NULL, &c, msg, sizeof msg), OTF_E_UTF8);
	assert_non_null(strstr(msg, "resource_spans[0].scope_spans[0].spans[0].attributes[1]."
	                            "value.string_value: string is not valid UTF-8"));
	assert_true(c.err_offset > 0 && c.err_offset < td.n);
	same_as_decoder(OTF_SIGNAL_TRACES, &td, OTF_E_UTF8);
	free(td.b);
}

static void test_short_trace_id(void **state)
{
	(void)state;
	pb_t sp = {0};
	pb_bytes(&sp, 1, TID, 15);
	pb_str(&sp, 5, "x");
	pb_t td = traces_with(&sp);
	otf_view_counts_t c;
	char msg[400];
	assert_int_equal(validate(OTF_SIGNAL_TRACES, &td, NULL, &c, msg, sizeof msg),
	                 OTF_E_ID_LENGTH);
	assert_non_null(strstr(msg, "resource_spans[0].scope_spans[0].spans[0].trace_id:"));
	assert_non_null(strstr(msg, "15"));
	same_as_decoder(OTF_SIGNAL_TRACES, &td, OTF_E_ID_LENGTH);
	free(td.b);
}

static void test_nesting(void **state)
{
	(void)state;
	otf_view_counts_t c;
	char msg[400];
	pb_t ok = logs_nested(32), bad = logs_nested(33);
	assert_int_equal(validate(OTF_SIGNAL_LOGS, &ok, NULL, &c, msg, sizeof msg), 0);
	same_as_decoder(OTF_SIGNAL_LOGS, &ok, 0);
	assert_int_equal(c.attributes, 31); /* one element per array level */
	assert_int_equal(validate(OTF_SIGNAL_LOGS, &bad, NULL, &c, msg, sizeof msg), OTF_E_DEPTH);
	assert_non_null(strstr(msg, "resource_logs[0].scope_logs[0].log_records[0].body: "));
	assert_non_null(strstr(msg, "deeper than 32"));
	same_as_decoder(OTF_SIGNAL_LOGS, &bad, OTF_E_DEPTH);
	/* a configured depth applies */
	otf_view_limits_t lim = {0, 0, 8};
	assert_int_equal(validate(OTF_SIGNAL_LOGS, &ok, &lim, &c, msg, sizeof msg), OTF_E_DEPTH);
	free(ok.b);
	free(bad.b);
}

static void test_item_limit(void **state)
{
	(void)state;
	otf_view_counts_t c;
	char msg[600];
	otf_view_limits_t lim = {1000, 0, 0};
	pb_t at = empty_logs(998), over = empty_logs(999); /* + resource and scope groups */
	assert_int_equal(validate(OTF_SIGNAL_LOGS, &at, &lim, &c, msg, sizeof msg), 0);
	assert_int_equal(c.items, 1000);
	assert_int_equal(c.records, 998);
	assert_int_equal(validate(OTF_SIGNAL_LOGS, &over, &lim, &c, msg, sizeof msg),
	                 OTF_E_TOO_LARGE);
	assert_non_null(strstr(msg, "resource_logs[0].scope_logs[0].log_records[998]: "));
	assert_non_null(strstr(msg, "more than 1000 items"));
	free(at.b);
	free(over.b);

	/* 10 million empty records: refused at the limit, without walking the
	 * rest (the walk stops; the 20 MB buffer is the only cost). */
	pb_t big = empty_logs(10000000);
	lim.max_items = OTF_VIEW_DEFAULT_MAX_ITEMS;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(validate(OTF_SIGNAL_LOGS, &big, &lim, &c, msg, sizeof msg),
	                 OTF_E_TOO_LARGE);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(c.items, OTF_VIEW_DEFAULT_MAX_ITEMS + 1);
	double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	assert_true(ms < 1000.0);
	free(big.b);
}

static void test_attribute_limit(void **state)
{
	(void)state;
	otf_view_counts_t c;
	char msg[600];
	pb_t sp = {0};
	good_span(&sp);
	for (int i = 0; i < 100; i++)
		pb_bytes(&sp, 9, "", 0); /* empty KeyValue: 2 bytes */
	pb_t td = traces_with(&sp);
	otf_view_limits_t lim = {0, 100, 0};
	assert_int_equal(validate(OTF_SIGNAL_TRACES, &td, &lim, &c, msg, sizeof msg), 0);
	assert_int_equal(c.attributes, 100);
	lim.max_attributes = 99;
	assert_int_equal(validate(OTF_SIGNAL_TRACES, &td, &lim, &c, msg, sizeof msg),
	                 OTF_E_TOO_LARGE);
	assert_non_null(strstr(msg, "spans[0].attributes[99]: "));
	assert_non_null(strstr(msg, "more than 99 attributes"));
	free(td.b);
}

/* Metrics: the counts match otf_view_count_metrics, also with two data
 * members (the last wins). */
static void test_metrics_counts(void **state)
{
	(void)state;
	pb_t dp = {0}, g = {0}, s = {0}, m = {0}, sm = {0}, rm = {0}, md = {0};
	pb_double(&dp, 4, 1.5);
	pb_msg(&g, 1, &dp);
	pb_double(&dp, 4, 2.5);
	pb_msg(&g, 1, &dp);
	pb_double(&dp, 4, 3.5);
	pb_msg(&s, 1, &dp);
	pb_str(&m, 1, "m");
	pb_msg(&m, 5, &g); /* gauge with 2 points, then ... */
	pb_msg(&m, 7, &s); /* ... a sum with 1: the sum wins */
	pb_msg(&sm, 2, &m);
	pb_msg(&rm, 2, &sm);
	pb_msg(&md, 1, &rm);
	otf_view_counts_t c, vc;
	char msg[400];
	assert_int_equal(validate(OTF_SIGNAL_METRICS, &md, NULL, &c, msg, sizeof msg), 0);
	assert_int_equal(otf_view_count_metrics(md.b, md.n, &vc), 0);
	assert_int_equal(c.metrics, 1);
	assert_int_equal(c.records, vc.records);
	assert_int_equal(c.records, 1);
	free(md.b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_request),   cmocka_unit_test(test_bad_utf8),
	    cmocka_unit_test(test_short_trace_id), cmocka_unit_test(test_nesting),
	    cmocka_unit_test(test_item_limit),     cmocka_unit_test(test_attribute_limit),
	    cmocka_unit_test(test_metrics_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
