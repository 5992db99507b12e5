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
	otf_metrics_t m;
	int rc = sig == OTF_SIGNAL_TRACES ? otf_pdata_decode_traces(&t, p->b, p->n, &a, NULL, NULL)
	         : sig == OTF_SIGNAL_LOGS
	             ? otf_pdata_decode_logs(&l, p->b, p->n, &a, NULL, NULL)
	             : otf_pdata_decode_metrics(&m, p->b, p->n, &a, NULL, NULL);
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

/* KeyValue{key, AnyValue{field f: varint v}} */
static void attr_varint(pb_t *w, uint32_t f, const char *k, uint32_t vf, uint64_t v)
{
	pb_t kv = {0}, any = {0};
	pb_tag(&any, vf, 0);
	pb_varint(&any, v);
	pb_str(&kv, 1, k);
	pb_msg(&kv, 2, &any);
	pb_msg(w, f, &kv);
}

/* A log record with the value shapes the specialised walk checks itself
 * (string, bool, int of 1, 2 and 10 bytes, double, empty value) and the
 * ones it leaves to the table walk (non-ASCII text, a nested list). */
static void log_record(pb_t *lr, int unknown_field)
{
	pb_fixed64(lr, 1, 1700000000000000000ull);
	pb_tag(lr, 2, 0);
	pb_varint(lr, 9);
	pb_str(lr, 3, "INFO");
	pb_t body = {0};
	pb_str(&body, 1, "GET /api/v1/orders/123456 -> 200 in 12 ms");
	pb_msg(lr, 5, &body);
	pb_attr_str(lr, 6, "url.full",
	            "https://shop.example.com/api/v1/orders/123456?expand=items");
	attr_varint(lr, 6, "http.response.status_code", 3, 200);
	attr_varint(lr, 6, "retry", 3, 1);
	attr_varint(lr, 6, "negative", 3, (uint64_t)-1);
	attr_varint(lr, 6, "cached", 2, 1);
	pb_t kv = {0}, any = {0};
	pb_double(&any, 4, 0.25);
	pb_str(&kv, 1, "ratio");
	pb_msg(&kv, 2, &any);
	pb_msg(lr, 6, &kv);
	pb_str(&kv, 1, "empty");
	pb_bytes(&kv, 2, "", 0);
	pb_msg(lr, 6, &kv);
	pb_attr_str(lr, 6, "ünïcödé", "välue");
	pb_t arr = {0}, list = {0};
	pb_str(&any, 1, "a");
	pb_msg(&arr, 1, &any);
	pb_msg(&list, 5, &arr);
	pb_str(&kv, 1, "list");
	pb_msg(&kv, 2, &list);
	pb_msg(lr, 6, &kv);
	if (unknown_field) {
		pb_tag(lr, 15, 0); /* unknown to the decoder: skipped */
		pb_varint(lr, 7);
	}
	pb_raw(lr, "\x45\x01\x00\x00\x00", 5); /* flags (fixed32) */
	pb_bytes(lr, 9, TID, 16);
	pb_bytes(lr, 10, SID, 8);
	pb_fixed64(lr, 11, 1700000000000150000ull);
}

/* n log records in one scope (with a scope and schema_url around them);
 * record `odd` gets an unknown field, record `bad` the bytes of bad_kv as
 * an extra attribute (NULL: none). */
static pb_t logs_list(int n, int odd, int bad, const pb_t *bad_kv)
{
	pb_t sl = {0}, rl = {0}, ld = {0}, scope = {0};
	pb_str(&scope, 1, "io.opentelemetry.tomcat");
	pb_msg(&sl, 1, &scope);
	for (int i = 0; i < n; i++) {
		pb_t lr = {0};
		log_record(&lr, i == odd);
		if (i == bad && bad_kv)
			pb_bytes(&lr, 6, bad_kv->b, bad_kv->n);
		pb_msg(&sl, 2, &lr);
	}
	pb_str(&sl, 3, "https://opentelemetry.io/schemas/1.26.0");
	pb_msg(&rl, 2, &sl);
	pb_msg(&ld, 1, &rl);
	return ld;
}

/* The specialised walks of records and record lists count what the table
 * walk counts and agree with the decoder, whether a record takes the fast
 * walk whole, leaves it for some attributes or is walked by the table. */
static void test_fast_walks(void **state)
{
	(void)state;
	otf_view_counts_t c;
	char msg[400];
	pb_t ld = logs_list(3, 1, -1, NULL);
	assert_int_equal(validate(OTF_SIGNAL_LOGS, &ld, NULL, &c, msg, sizeof msg), 0);
	assert_string_equal(msg, "ok");
	assert_int_equal(c.records, 3);
	assert_int_equal(c.items, 5);           /* resource and scope groups, 3 records */
	assert_int_equal(c.attributes, 3 * 10); /* 9 KeyValues + 1 array element each */
	same_as_decoder(OTF_SIGNAL_LOGS, &ld, 0);
	/* the attribute limit is crossed at the same attribute */
	otf_view_limits_t lim = {0, 25, 0};
	assert_int_equal(validate(OTF_SIGNAL_LOGS, &ld, &lim, &c, msg, sizeof msg),
	                 OTF_E_TOO_LARGE);
	assert_non_null(strstr(msg, "log_records[2].attributes[5]: "));
	assert_non_null(strstr(msg, "more than 25 attributes"));
	free(ld.b);

	/* Errors in the third record's attributes are found with their path,
	 * in the shapes the fast walk would otherwise accept. */
	static const struct {
		const char *kv;
		size_t n;
		int rc;
		const char *path;
	} bad[] = {
	    {"\x0a\x02k\xff\x12\x03\x0a\x01v", 9, OTF_E_UTF8, "attributes[9].key: "},
	    {"\x0a\x01k\x12\x03\x0a\x01\xc3", 8, OTF_E_UTF8, "attributes[9].value.string_value: "},
	    {"\x0a\x01k\x12\x03\x0a\x02v", 8, OTF_E_LENGTH, "attributes[9].value.string_value"},
	    {"\x0a\x01k\x12\x02\x18\x80", 7, OTF_E_TRUNCATED, "attributes[9].value.int_value"},
	    {"\x0a\x01k\x12\x02\x21\x00", 7, OTF_E_TRUNCATED, "attributes[9].value.double_value"},
	    {"\x0a\x01k\x12\x02\x0a\x00\x00", 8, OTF_E_FIELD_NUMBER, "attributes[9]"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		pb_t kv = {0};
		pb_raw(&kv, bad[i].kv, bad[i].n);
		ld = logs_list(3, 0, 2, &kv);
		int rc = validate(OTF_SIGNAL_LOGS, &ld, NULL, &c, msg, sizeof msg);
		assert_int_equal(rc, bad[i].rc);
		assert_non_null(strstr(msg, "resource_logs[0].scope_logs[0].log_records[2]."));
		assert_non_null(strstr(msg, bad[i].path));
		same_as_decoder(OTF_SIGNAL_LOGS, &ld, bad[i].rc);
		free(kv.b);
		free(ld.b);
	}
}

/* One log record's fields, each as its own piece, to be written in any
 * order: 0 time, 1 severity_number, 2 severity_text, 3 body, 4-6 three
 * attributes, 7 flags, 8 trace_id, 9 span_id, 10 observed time, 11
 * event_name. */
#define LOG_PIECES 12
static void log_piece(pb_t *lr, int i, const uint8_t *tid, size_t tid_len, const char *event)
{
	pb_t body = {0};
	switch (i) {
	case 0:
		pb_fixed64(lr, 1, 1700000000000000000ull);
		break;
	case 1:
		pb_tag(lr, 2, 0);
		pb_varint(lr, 9);
		break;
	case 2:
		pb_str(lr, 3, "INFO");
		break;
	case 3:
		pb_str(&body, 1, "GET /api/v1/orders/123456 -> 200 in 12 ms");
		pb_msg(lr, 5, &body);
		break;
	case 4:
		pb_attr_str(lr, 6, "http.request.method", "GET");
		break;
	case 5:
		attr_varint(lr, 6, "http.response.status_code", 3, 503);
		break;
	case 6:
		pb_attr_str(lr, 6, "user_agent.original", "Mozilla/5.0 (X11; Linux x86_64)");
		break;
	case 7:
		pb_raw(lr, "\x45\x01\x00\x00\x00", 5);
		break;
	case 8:
		pb_bytes(lr, 9, tid, tid_len);
		break;
	case 9:
		pb_bytes(lr, 10, SID, 8);
		break;
	case 10:
		pb_fixed64(lr, 11, 1700000000000150000ull);
		break;
	default:
		pb_str(lr, 12, event);
		break;
	}
}

/* The log record walk takes fields in field-number order first and the
 * rest through its loop: any order, repeats and errors in either part give
 * the table walk's result, counts and path. */
static void test_log_field_orders(void **state)
{
	(void)state;
	static const int orders[][LOG_PIECES] = {
	    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, /* as encoders write them */
	    {11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, /* reversed */
	    {0, 4, 1, 5, 2, 6, 3, 7, 8, 9, 10, 11}, /* attributes in between */
	    {0, 1, 2, 3, 4, 8, 5, 9, 6, 10, 7, 11}, /* after the ids too */
	    {8, 0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11}, /* one out of order first */
	};
	static const uint8_t short_tid[15] = {1};
	char msg[400];
	otf_view_counts_t c;
	for (size_t o = 0; o < sizeof orders / sizeof orders[0]; o++) {
		for (int err = 0; err < 3; err++) { /* none, trace_id, event_name */
			pb_t sl = {0}, rl = {0}, ld = {0};
			for (int r = 0; r < 2; r++) {
				pb_t lr = {0};
				for (int i = 0; i < LOG_PIECES; i++)
					log_piece(&lr, orders[o][i],
					          r && err == 1 ? short_tid : TID,
					          r && err == 1 ? 15 : 16,
					          r && err == 2 ? "bad \xc3" : "order.placed");
				if (o == 4)
					log_piece(&lr, 5, TID, 16, ""); /* a repeated attribute */
				pb_msg(&sl, 2, &lr);
			}
			pb_msg(&rl, 2, &sl);
			pb_msg(&ld, 1, &rl);
			int want = err == 1 ? OTF_E_ID_LENGTH : err == 2 ? OTF_E_UTF8 : 0;
			int rc = validate(OTF_SIGNAL_LOGS, &ld, NULL, &c, msg, sizeof msg);
			if (rc != want)
				fail_msg("order %zu, error %d: %s", o, err, msg);
			if (!want) {
				assert_int_equal(c.records, 2);
				assert_int_equal(c.attributes, o == 4 ? 8 : 6);
			} else {
				assert_non_null(strstr(msg, "log_records[1]."));
				assert_non_null(strstr(msg, err == 1 ? "trace_id" : "event_name"));
			}
			same_as_decoder(OTF_SIGNAL_LOGS, &ld, want);
			free(ld.b);
		}
	}
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

/* A Sum of 3 points (the second with an unknown field) and a Histogram of
 * 3 points whose point `bad` has 12 bytes of packed bucket_counts. */
static pb_t metrics_list(int bad)
{
	pb_t sum = {0}, hist = {0}, m1 = {0}, m2 = {0}, sm = {0}, rm = {0}, md = {0};
	for (int i = 0; i < 3; i++) {
		pb_t dp = {0}, h = {0};
		pb_fixed64(&dp, 3, 1700000000000000000ull);
		pb_fixed64(&dp, 6, (uint64_t)i);
		pb_attr_str(&dp, 7, "http.route", "/api/v1/orders");
		if (i == 1) {
			pb_tag(&dp, 15, 0);
			pb_varint(&dp, 1);
		}
		pb_msg(&sum, 1, &dp);
		uint64_t buckets[3] = {1, 2, 3};
		pb_fixed64(&h, 4, 6);
		pb_bytes(&h, 6, buckets, i == bad ? 12 : sizeof buckets);
		pb_fixed64(&h, 7, 0x3ff0000000000000ull); /* one unpacked bound */
		pb_fixed64(&h, 7, 0x4000000000000000ull);
		pb_attr_str(&h, 9, "http.route", "/api/v1/orders");
		pb_msg(&hist, 1, &h);
	}
	pb_tag(&sum, 2, 0);
	pb_varint(&sum, 2);
	pb_tag(&sum, 3, 0);
	pb_varint(&sum, 1);
	pb_str(&m1, 1, "requests");
	pb_msg(&m1, 7, &sum);
	pb_str(&m2, 1, "duration");
	pb_msg(&m2, 9, &hist);
	pb_msg(&sm, 2, &m1);
	pb_msg(&sm, 2, &m2);
	pb_msg(&rm, 2, &sm);
	pb_msg(&md, 1, &rm);
	return md;
}

static void test_fast_walks_metrics(void **state)
{
	(void)state;
	otf_view_counts_t c, vc;
	char msg[400];
	pb_t md = metrics_list(-1);
	assert_int_equal(validate(OTF_SIGNAL_METRICS, &md, NULL, &c, msg, sizeof msg), 0);
	assert_int_equal(otf_view_count_metrics(md.b, md.n, &vc), 0);
	assert_int_equal(c.metrics, 2);
	assert_int_equal(c.records, 6);
	assert_int_equal(c.records, vc.records);
	assert_int_equal(c.items, 2 + 2 + 6); /* groups, metrics, points */
	assert_int_equal(c.attributes, 6);
	same_as_decoder(OTF_SIGNAL_METRICS, &md, 0);
	free(md.b);
	md = metrics_list(1);
	assert_int_equal(validate(OTF_SIGNAL_METRICS, &md, NULL, &c, msg, sizeof msg),
	                 OTF_E_LENGTH);
	assert_non_null(strstr(msg, "resource_metrics[0].scope_metrics[0].metrics[1].histogram."
	                            "data_points[1].bucket_counts: "));
	same_as_decoder(OTF_SIGNAL_METRICS, &md, OTF_E_LENGTH);
	free(md.b);
}

/* The ASCII test of a KeyValue's bytes sees every byte whatever the length
 * (word loads with an overlapping tail): one 0xff anywhere in a key or a
 * string value of 1-70 bytes is refused, and the same text without it is
 * accepted. */
static void test_ascii_every_position(void **state)
{
	(void)state;
	char text[71], msg[400];
	otf_view_counts_t c;
	for (size_t n = 1; n <= 70; n++) {
		for (size_t at = 0; at <= n; at++) { /* at == n: no bad byte */
			for (int in_key = 0; in_key < 2; in_key++) {
				memset(text, 'a', n);
				text[n] = 0;
				if (at < n)
					text[at] = (char)0xff;
				pb_t sp = {0};
				good_span(&sp);
				pb_attr_str(&sp, 9, in_key ? text : "k", in_key ? "v" : text);
				pb_t td = traces_with(&sp);
				int rc =
				    validate(OTF_SIGNAL_TRACES, &td, NULL, &c, msg, sizeof msg);
				if (rc != (at < n ? OTF_E_UTF8 : 0))
					fail_msg("%zu bytes, 0xff at %zu, in the %s: %s", n, at,
					         in_key ? "key" : "value", msg);
				free(td.b);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_request),       cmocka_unit_test(test_bad_utf8),
	    cmocka_unit_test(test_short_trace_id),     cmocka_unit_test(test_nesting),
	    cmocka_unit_test(test_item_limit),         cmocka_unit_test(test_attribute_limit),
	    cmocka_unit_test(test_metrics_counts),     cmocka_unit_test(test_fast_walks),
	    cmocka_unit_test(test_fast_walks_metrics), cmocka_unit_test(test_ascii_every_position),
	    cmocka_unit_test(test_log_field_orders),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
