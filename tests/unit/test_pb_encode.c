/* Protobuf encoder: exact bytes for hand-built traces, logs, AnyValues and
 * responses (metrics: test_pb_encode_metrics.c), default omission and
 * oneof-zero writing, id length and depth errors, writer growth, and
 * allocation failure without leaks.
 *
 * Expected bytes come from the independent forward writer of pb_expect.h;
 * the smallest cases are also spelled out as literal bytes. */
#include "pb_expect.h"

#include "otflow/alloc.h"
#include "otflow/arena.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"
#include "pdata_gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t PSID[8] = {0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8};

/* logs {resource_logs {scope_logs {log_records = rec}}} */
static fb_t wrap_log(fb_t *rec)
{
	fb_t sl = {0}, rl = {0}, top = {0};
	fb_msg(&sl, 2, rec);
	fb_msg(&rl, 2, &sl);
	fb_msg(&top, 1, &rl);
	return top;
}

static int encode_log(const otf_log_record_t *rec, otf_buf_t **out)
{
	otf_scope_logs_t sl = {.log_records = (otf_log_record_t *)rec, .log_records_len = 1};
	otf_resource_logs_t rl = {.scope_logs = &sl, .scope_logs_len = 1};
	otf_logs_t logs = {&rl, 1};
	int rc = otf_pdata_encode_logs(&logs, out);
	if (rc == 0)
		roundtrip_logs(&logs, *out);
	return rc;
}

/* ---- tests ---- */

static void test_logs_literal(void **state)
{
	(void)state;
	otf_log_record_t rec = {
	    .time_unix_nano = 1,
	    .severity_number = 9,
	    .body = {OTF_ANY_STRING, {.string_value = S("hi")}},
	    .flags = 1,
	    .trace_id = TRACE_ID,
	    .span_id = SPAN_ID,
	};
	otf_scope_logs_t sl = {
	    .scope = {.name = S("s")}, .log_records = &rec, .log_records_len = 1};
	otf_resource_logs_t rl = {
	    .resource = {.attributes = ATTRS}, .scope_logs = &sl, .scope_logs_len = 1};
	otf_logs_t logs = {&rl, 1};
	/* clang-format off */
	static const uint8_t want[] = {
		0x0a, 0x47,                                     /* resource_logs, 71 bytes */
		0x0a, 0x0a,                                     /* resource, 10 */
		0x0a, 0x08, 0x0a, 0x01, 'k', 0x12, 0x03, 0x0a, 0x01, 'v', /* attributes[0] */
		0x12, 0x39,                                     /* scope_logs, 57 */
		0x0a, 0x03, 0x0a, 0x01, 's',                    /* scope {name} */
		0x12, 0x32,                                     /* log_records, 50 */
		0x09, 1, 0, 0, 0, 0, 0, 0, 0,                   /* time_unix_nano */
		0x10, 0x09,                                     /* severity_number */
		0x2a, 0x04, 0x0a, 0x02, 'h', 'i',               /* body */
		0x45, 1, 0, 0, 0,                               /* flags */
		0x4a, 0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
		0x52, 0x08, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8,
	};
	/* clang-format on */
	otf_buf_t *b = NULL;
	assert_int_equal(otf_pdata_encode_logs(&logs, &b), 0);
	roundtrip_logs(&logs, b);
	check_lit(b, want, sizeof want);
}

static void test_logs_all_fields(void **state)
{
	(void)state;
	otf_key_value_t body_kv[] = {{S("x"), {OTF_ANY_INT, {.int_value = 2}}}};
	otf_log_record_t rec = {
	    .time_unix_nano = 1000,
	    .observed_time_unix_nano = 2000,
	    .severity_number = -1, /* unknown values are kept, sign-extended */
	    .severity_text = S("INFO"),
	    .body = {OTF_ANY_KVLIST, {.kvlist_value = {body_kv, 1}}},
	    .attributes = ATTRS,
	    .dropped_attributes_count = 3,
	    .flags = 0x1ff,
	    .trace_id = TRACE_ID,
	    .span_id = SPAN_ID,
	    .event_name = S("evn"),
	};
	otf_log_record_t recs[] = {rec, {.severity_number = 24}};
	otf_scope_logs_t sl = {.scope = {S("sc"), S("1.0"), ATTRS, 6},
	                       .log_records = recs,
	                       .log_records_len = 2,
	                       .schema_url = S("ssu")};
	otf_resource_logs_t rl = {.resource = {.dropped_attributes_count = 7},
	                          .scope_logs = &sl,
	                          .scope_logs_len = 1,
	                          .schema_url = S("rsu")};
	otf_logs_t logs = {&rl, 1};

	fb_t r = {0}, body = {0}, kvl = {0}, kv = {0}, any = {0};
	fb_f64(&r, 1, 1000);
	fb_u(&r, 2, UINT64_MAX); /* -1 as a 10-byte varint */
	fb_str(&r, 3, "INFO");
	fb_str(&kv, 1, "x");
	fb_u(&any, 3, 2);
	fb_msg(&kv, 2, &any);
	fb_msg(&kvl, 1, &kv);
	fb_msg(&body, 6, &kvl);
	fb_msg(&r, 5, &body);
	fb_attrs(&r, 6);
	fb_u(&r, 7, 3);
	fb_f32(&r, 8, 0x1ff);
	fb_raw(&r, 9, TID, 16);
	fb_raw(&r, 10, SID, 8);
	fb_f64(&r, 11, 2000);
	fb_str(&r, 12, "evn");
	fb_t r2 = {0};
	fb_u(&r2, 2, 24);

	fb_t scope = {0}, slf = {0}, res = {0}, rlf = {0}, top = {0};
	fb_str(&scope, 1, "sc");
	fb_str(&scope, 2, "1.0");
	fb_attrs(&scope, 3);
	fb_u(&scope, 4, 6);
	fb_msg(&slf, 1, &scope);
	fb_msg(&slf, 2, &r);
	fb_msg(&slf, 2, &r2);
	fb_str(&slf, 3, "ssu");
	fb_u(&res, 2, 7);
	fb_msg(&rlf, 1, &res);
	fb_msg(&rlf, 2, &slf);
	fb_str(&rlf, 3, "rsu");
	fb_msg(&top, 1, &rlf);

	otf_buf_t *b = NULL;
	assert_int_equal(otf_pdata_encode_logs(&logs, &b), 0);
	roundtrip_logs(&logs, b);
	check(b, &top);
}

static void test_any_values(void **state)
{
	(void)state;
	otf_any_value_t arr[] = {
	    {OTF_ANY_INT, {.int_value = 1}},
	    {OTF_ANY_EMPTY, {.int_value = 0}},
	    {OTF_ANY_ARRAY, {.array_value = {NULL, 0}}},
	};
	otf_key_value_t kvl[] = {
	    {S("x"), {OTF_ANY_INT, {.int_value = 2}}},
	    {S(""), {OTF_ANY_EMPTY, {.int_value = 0}}},
	};
	otf_key_value_t attrs[] = {
	    {S("s"), {OTF_ANY_STRING, {.string_value = S("x")}}},
	    {S("b"), {OTF_ANY_BOOL, {.bool_value = true}}},
	    {S("b0"), {OTF_ANY_BOOL, {.bool_value = false}}},
	    {S("i"), {OTF_ANY_INT, {.int_value = -1}}},
	    {S("i0"), {OTF_ANY_INT, {.int_value = 0}}},
	    {S("d"), {OTF_ANY_DOUBLE, {.double_value = 1.0}}},
	    {S("d0"), {OTF_ANY_DOUBLE, {.double_value = 0.0}}},
	    {S("e"), {OTF_ANY_EMPTY, {.int_value = 0}}},
	    {S("es"), {OTF_ANY_STRING, {.string_value = S("")}}},
	    {S("by"), {OTF_ANY_BYTES, {.bytes_value = {(const uint8_t *)"\0\1", 2}}}},
	    {S("eb"), {OTF_ANY_BYTES, {.bytes_value = {NULL, 0}}}},
	    {S("a"), {OTF_ANY_ARRAY, {.array_value = {arr, 3}}}},
	    {S("kv"), {OTF_ANY_KVLIST, {.kvlist_value = {kvl, 2}}}},
	    {S("ea"), {OTF_ANY_ARRAY, {.array_value = {NULL, 0}}}},
	    {S("ek"), {OTF_ANY_KVLIST, {.kvlist_value = {NULL, 0}}}},
	    {S(""), {OTF_ANY_STRING, {.string_value = S("")}}},
	};
	otf_log_record_t rec = {.attributes = {attrs, sizeof attrs / sizeof attrs[0]}};

	/* Each attribute as literal KeyValue bytes: oneof members are present
	 * even when zero, the value submessage even when empty. */
	/* clang-format off */
	static const uint8_t want_attrs[] = {
		0x32, 0x08, 0x0a, 0x01, 's', 0x12, 0x03, 0x0a, 0x01, 'x',
		0x32, 0x07, 0x0a, 0x01, 'b', 0x12, 0x02, 0x10, 0x01,
		0x32, 0x08, 0x0a, 0x02, 'b', '0', 0x12, 0x02, 0x10, 0x00,
		0x32, 0x10, 0x0a, 0x01, 'i', 0x12, 0x0b, 0x18,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
		0x32, 0x08, 0x0a, 0x02, 'i', '0', 0x12, 0x02, 0x18, 0x00,
		0x32, 0x0e, 0x0a, 0x01, 'd', 0x12, 0x09, 0x21, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f,
		0x32, 0x0f, 0x0a, 0x02, 'd', '0', 0x12, 0x09, 0x21, 0, 0, 0, 0, 0, 0, 0, 0,
		0x32, 0x05, 0x0a, 0x01, 'e', 0x12, 0x00,
		0x32, 0x08, 0x0a, 0x02, 'e', 's', 0x12, 0x02, 0x0a, 0x00,
		0x32, 0x0a, 0x0a, 0x02, 'b', 'y', 0x12, 0x04, 0x3a, 0x02, 0x00, 0x01,
		0x32, 0x08, 0x0a, 0x02, 'e', 'b', 0x12, 0x02, 0x3a, 0x00,
		/* [1, {}, []] */
		0x32, 0x11, 0x0a, 0x01, 'a', 0x12, 0x0c, 0x2a, 0x0a,
		0x0a, 0x02, 0x18, 0x01, 0x0a, 0x00, 0x0a, 0x02, 0x2a, 0x00,
		/* {"x": 2, "": {}} */
		0x32, 0x15, 0x0a, 0x02, 'k', 'v', 0x12, 0x0f, 0x32, 0x0d,
		0x0a, 0x07, 0x0a, 0x01, 'x', 0x12, 0x02, 0x18, 0x02,
		0x0a, 0x02, 0x12, 0x00,
		0x32, 0x08, 0x0a, 0x02, 'e', 'a', 0x12, 0x02, 0x2a, 0x00,
		0x32, 0x08, 0x0a, 0x02, 'e', 'k', 0x12, 0x02, 0x32, 0x00,
		0x32, 0x04, 0x12, 0x02, 0x0a, 0x00,
	};
	/* clang-format on */
	fb_t r = {0};
	fb_put(&r, want_attrs, sizeof want_attrs);
	fb_t want = wrap_log(&r);
	otf_buf_t *b = NULL;
	assert_int_equal(encode_log(&rec, &b), 0);
	check(b, &want);
}

static void test_traces_all_fields(void **state)
{
	(void)state;
	otf_span_event_t ev = {1500, S("ev"), ATTRS, 2};
	otf_span_link_t link = {TRACE_ID, SPAN_ID, S("lts"), ATTRS, 4, 0x100};
	otf_span_t spans[] = {
	    {
	        .trace_id = TRACE_ID,
	        .span_id = SPAN_ID,
	        .trace_state = S("ts"),
	        .parent_span_id = {PSID, 8},
	        .flags = 0x301,
	        .name = S("sp"),
	        .kind = OTF_SPAN_KIND_SERVER,
	        .start_time_unix_nano = 1000,
	        .end_time_unix_nano = 2000,
	        .attributes = ATTRS,
	        .dropped_attributes_count = 1,
	        .events = &ev,
	        .events_len = 1,
	        .dropped_events_count = 3,
	        .links = &link,
	        .links_len = 1,
	        .dropped_links_count = 5,
	        .status = {S("bad"), OTF_STATUS_CODE_ERROR},
	    },
	    {.kind = -1, .status = {.code = 1}},
	    {.kind = 0},
	};
	otf_bytes_t ids[] = {S("a"), S("b")}, descs[] = {S(""), S("c")};
	otf_entity_ref_t er = {S("es"), S("service"), {ids, 2}, {descs, 2}};
	otf_scope_spans_t ss = {{S("sc"), S("1.0"), ATTRS, 6}, spans, 3, S("ssu")};
	otf_resource_spans_t rs[] = {
	    {{ATTRS, 7, &er, 1}, &ss, 1, S("rsu")},
	    {.schema_url = S("x")},
	};
	otf_traces_t traces = {rs, 2};

	fb_t s = {0}, e = {0}, l = {0}, st = {0};
	fb_raw(&s, 1, TID, 16);
	fb_raw(&s, 2, SID, 8);
	fb_str(&s, 3, "ts");
	fb_raw(&s, 4, PSID, 8);
	fb_str(&s, 5, "sp");
	fb_u(&s, 6, 2);
	fb_f64(&s, 7, 1000);
	fb_f64(&s, 8, 2000);
	fb_attrs(&s, 9);
	fb_u(&s, 10, 1);
	fb_f64(&e, 1, 1500);
	fb_str(&e, 2, "ev");
	fb_attrs(&e, 3);
	fb_u(&e, 4, 2);
	fb_msg(&s, 11, &e);
	fb_u(&s, 12, 3);
	fb_raw(&l, 1, TID, 16);
	fb_raw(&l, 2, SID, 8);
	fb_str(&l, 3, "lts");
	fb_attrs(&l, 4);
	fb_u(&l, 5, 4);
	fb_f32(&l, 6, 0x100);
	fb_msg(&s, 13, &l);
	fb_u(&s, 14, 5);
	fb_str(&st, 2, "bad");
	fb_u(&st, 3, 2);
	fb_msg(&s, 15, &st);
	fb_f32(&s, 16, 0x301);

	fb_t s2 = {0}, st2 = {0};
	fb_u(&s2, 6, UINT64_MAX);
	fb_u(&st2, 3, 1);
	fb_msg(&s2, 15, &st2);

	fb_t scope = {0}, ssf = {0}, erf = {0}, res = {0}, rsf = {0}, rsf2 = {0}, top = {0};
	fb_str(&scope, 1, "sc");
	fb_str(&scope, 2, "1.0");
	fb_attrs(&scope, 3);
	fb_u(&scope, 4, 6);
	fb_msg(&ssf, 1, &scope);
	fb_msg(&ssf, 2, &s);
	fb_msg(&ssf, 2, &s2);
	fb_empty(&ssf, 2);
	fb_str(&ssf, 3, "ssu");
	fb_attrs(&res, 1);
	fb_u(&res, 2, 7);
	fb_str(&erf, 1, "es");
	fb_str(&erf, 2, "service");
	fb_str(&erf, 3, "a");
	fb_str(&erf, 3, "b");
	fb_str(&erf, 4, "");
	fb_str(&erf, 4, "c");
	fb_msg(&res, 3, &erf);
	fb_msg(&rsf, 1, &res);
	fb_msg(&rsf, 2, &ssf);
	fb_str(&rsf, 3, "rsu");
	fb_msg(&top, 1, &rsf);
	fb_str(&rsf2, 3, "x");
	fb_msg(&top, 1, &rsf2);

	otf_buf_t *b = NULL;
	assert_int_equal(otf_pdata_encode_traces(&traces, &b), 0);
	roundtrip_traces(&traces, b);
	check(b, &top);
}

static void test_defaults_omitted(void **state)
{
	(void)state;
	/* A span, a log record and a data point with every field at its
	 * default encode as empty messages; empty resource and scope vanish. */
	otf_span_t sp = {0};
	otf_scope_spans_t ss = {.spans = &sp, .spans_len = 1};
	otf_resource_spans_t rs = {.scope_spans = &ss, .scope_spans_len = 1};
	otf_traces_t t = {&rs, 1};
	static const uint8_t want_t[] = {0x0a, 0x04, 0x12, 0x02, 0x12, 0x00};
	otf_buf_t *b = NULL;
	assert_int_equal(otf_pdata_encode_traces(&t, &b), 0);
	roundtrip_traces(&t, b);
	check_lit(b, want_t, sizeof want_t);

	otf_log_record_t rec = {0};
	assert_int_equal(encode_log(&rec, &b), 0);
	check_lit(b, want_t, sizeof want_t); /* same shape: field 1 { 2 { 2 {} } } */

	/* NumberDataPoint with no value set, double +0.0 fields omitted. */
	otf_number_data_point_t ndp = {0};
	otf_metric_t m = {
	    .type = OTF_METRIC_GAUGE, .data_points.number = &ndp, .data_points_len = 1};
	otf_scope_metrics_t sm = {.metrics = &m, .metrics_len = 1};
	otf_resource_metrics_t rm = {.scope_metrics = &sm, .scope_metrics_len = 1};
	otf_metrics_t mt = {&rm, 1};
	static const uint8_t want_m[] = {0x0a, 0x08, 0x12, 0x06, 0x12,
	                                 0x04, 0x2a, 0x02, 0x0a, 0x00};
	assert_int_equal(otf_pdata_encode_metrics(&mt, &b), 0);
	roundtrip_metrics(&mt, b);
	check_lit(b, want_m, sizeof want_m);

	/* Empty top-level containers: zero bytes. */
	otf_traces_t t0 = {0};
	assert_int_equal(otf_pdata_encode_traces(&t0, &b), 0);
	assert_int_equal(b->len, 0);
	otf_buf_unref(b);
}

static void roundtrip_response(const otf_export_response_t *in, otf_signal_t sig,
                               const otf_buf_t *b)
{
	otf_export_response_t back;
	char diff[256] = "";
	assert_int_equal(otf_pdata_decode_response(&back, sig, b->data, b->len, NULL), 0);
	if (!otf_eq_response(in, &back, diff, sizeof diff)) {
		fprintf(stderr, "round trip: %s\n", diff);
		fail();
	}
}

static void test_response(void **state)
{
	(void)state;
	otf_buf_t *b = NULL;
	otf_export_response_t r = {0};
	assert_int_equal(otf_pdata_encode_response(&r, OTF_SIGNAL_TRACES, &b), 0);
	assert_int_equal(b->len, 0);
	otf_buf_unref(b);

	r.has_partial_success = true;
	static const uint8_t want0[] = {0x0a, 0x00};
	assert_int_equal(otf_pdata_encode_response(&r, OTF_SIGNAL_METRICS, &b), 0);
	roundtrip_response(&r, OTF_SIGNAL_METRICS, b);
	check_lit(b, want0, sizeof want0);

	r.rejected = 3;
	r.error_message = S("x");
	static const uint8_t want1[] = {0x0a, 0x05, 0x08, 0x03, 0x12, 0x01, 'x'};
	assert_int_equal(otf_pdata_encode_response(&r, OTF_SIGNAL_LOGS, &b), 0);
	roundtrip_response(&r, OTF_SIGNAL_LOGS, b);
	check_lit(b, want1, sizeof want1);

	r.rejected = -1;
	r.error_message = S("");
	static const uint8_t want2[] = {0x0a, 0x0b, 0x08, 0xff, 0xff, 0xff, 0xff,
	                                0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
	assert_int_equal(otf_pdata_encode_response(&r, OTF_SIGNAL_LOGS, &b), 0);
	roundtrip_response(&r, OTF_SIGNAL_LOGS, b);
	check_lit(b, want2, sizeof want2);

	b = NULL;
	assert_int_equal(otf_pdata_encode_response(&r, (otf_signal_t)7, &b), OTF_E_INVAL);
	assert_null(b);
	assert_int_equal(otf_pdata_encode_response(NULL, OTF_SIGNAL_LOGS, &b), OTF_E_INVAL);
}

static void expect_traces_rc(const otf_span_t *sp, int want)
{
	otf_scope_spans_t ss = {.spans = (otf_span_t *)sp, .spans_len = 1};
	otf_resource_spans_t rs = {.scope_spans = &ss, .scope_spans_len = 1};
	otf_traces_t t = {&rs, 1};
	otf_buf_t *b = NULL;
	assert_int_equal(otf_pdata_encode_traces(&t, &b), want);
	if (want) {
		assert_null(b);
	} else {
		otf_buf_unref(b);
	}
}

static void expect_exemplar_rc(const otf_exemplar_t *ex, int want)
{
	otf_number_data_point_t dp = {.exemplars = {(otf_exemplar_t *)ex, 1}};
	otf_metric_t m = {.type = OTF_METRIC_SUM, .data_points.number = &dp, .data_points_len = 1};
	otf_scope_metrics_t sm = {.metrics = &m, .metrics_len = 1};
	otf_resource_metrics_t rm = {.scope_metrics = &sm, .scope_metrics_len = 1};
	otf_metrics_t mt = {&rm, 1};
	otf_buf_t *b = NULL;
	assert_int_equal(otf_pdata_encode_metrics(&mt, &b), want);
	if (want) {
		assert_null(b);
	} else {
		otf_buf_unref(b);
	}
}

static void test_id_lengths(void **state)
{
	(void)state;
	static const uint8_t z[32];
	otf_bytes_t len[] = {{z, 0}, {z, 1}, {z, 7}, {z, 8}, {z, 9}, {z, 15}, {z, 16}, {z, 17}};
	for (size_t i = 0; i < sizeof len / sizeof len[0]; i++) {
		size_t n = len[i].len;
		int trc = (n == 0 || n == 16) ? 0 : OTF_E_ID_LENGTH;
		int src = (n == 0 || n == 8) ? 0 : OTF_E_ID_LENGTH;
		expect_traces_rc(&(otf_span_t){.trace_id = len[i]}, trc);
		expect_traces_rc(&(otf_span_t){.span_id = len[i]}, src);
		expect_traces_rc(&(otf_span_t){.parent_span_id = len[i]}, src);
		otf_span_link_t l1 = {.trace_id = len[i]}, l2 = {.span_id = len[i]};
		expect_traces_rc(&(otf_span_t){.links = &l1, .links_len = 1}, trc);
		expect_traces_rc(&(otf_span_t){.links = &l2, .links_len = 1}, src);
		otf_buf_t *b = NULL;
		assert_int_equal(encode_log(&(otf_log_record_t){.trace_id = len[i]}, &b), trc);
		otf_buf_unref(b);
		b = NULL;
		assert_int_equal(encode_log(&(otf_log_record_t){.span_id = len[i]}, &b), src);
		otf_buf_unref(b);
		expect_exemplar_rc(&(otf_exemplar_t){.trace_id = len[i]}, trc);
		expect_exemplar_rc(&(otf_exemplar_t){.span_id = len[i]}, src);
	}
}

/* An attribute whose value nests `levels` AnyValues: arrays (or kvlists)
 * around an innermost string, so the deepest value is at depth `levels`. */
static int encode_nested(size_t levels, bool kvlist, bool as_body)
{
	otf_any_value_t v[40];
	otf_key_value_t kv[40];
	assert_true(levels >= 1 && levels <= 40);
	/* Innermost first, since a KeyValue holds its value by copy. */
	v[levels - 1] = (otf_any_value_t){OTF_ANY_STRING, {.string_value = S("leaf")}};
	for (size_t i = levels - 1; i-- > 0;) {
		if (kvlist) {
			kv[i] = (otf_key_value_t){S("k"), v[i + 1]};
			v[i] = (otf_any_value_t){OTF_ANY_KVLIST, {.kvlist_value = {&kv[i], 1}}};
		} else {
			v[i] = (otf_any_value_t){OTF_ANY_ARRAY, {.array_value = {&v[i + 1], 1}}};
		}
	}
	otf_key_value_t attr = {S("a"), v[0]};
	otf_log_record_t rec = {0};
	if (as_body)
		rec.body = v[0];
	else
		rec.attributes = (otf_attributes_t){&attr, 1};
	otf_buf_t *b = NULL;
	int rc = encode_log(&rec, &b);
	if (rc)
		assert_null(b);
	otf_buf_unref(b);
	return rc;
}

static void test_depth(void **state)
{
	(void)state;
	for (int kvlist = 0; kvlist < 2; kvlist++) {
		for (int body = 0; body < 2; body++) {
			assert_int_equal(encode_nested(1, kvlist, body), 0);
			assert_int_equal(encode_nested(OTF_PDATA_DEFAULT_MAX_DEPTH, kvlist, body),
			                 0);
			assert_int_equal(
			    encode_nested(OTF_PDATA_DEFAULT_MAX_DEPTH + 1, kvlist, body),
			    OTF_E_DEPTH);
			assert_int_equal(encode_nested(40, kvlist, body), OTF_E_DEPTH);
		}
	}
}

static void test_invalid_args(void **state)
{
	(void)state;
	otf_buf_t *b = NULL;
	assert_int_equal(otf_pdata_encode_traces(NULL, &b), OTF_E_INVAL);
	assert_int_equal(otf_pdata_encode_metrics(&(otf_metrics_t){0}, NULL), OTF_E_INVAL);
	assert_int_equal(otf_pdata_encode_logs(&(otf_logs_t){NULL, 1}, &b), OTF_E_INVAL);
	/* type tags outside the enums are refused, not dropped */
	assert_int_equal(
	    encode_log(&(otf_log_record_t){.body = {(otf_any_type_t)99, {.int_value = 0}}}, &b),
	    OTF_E_INVAL);
	otf_metric_t m = {.type = (otf_metric_type_t)6};
	otf_scope_metrics_t sm = {.metrics = &m, .metrics_len = 1};
	otf_resource_metrics_t rm = {.scope_metrics = &sm, .scope_metrics_len = 1};
	assert_int_equal(otf_pdata_encode_metrics(&(otf_metrics_t){&rm, 1}, &b), OTF_E_INVAL);
	assert_null(b);
}

/* Records with big bodies, so the writer grows past its estimate several
 * times; the result must equal the forward construction. */
static void build_big_logs(otf_log_record_t *recs, size_t n, char *body, size_t body_len,
                           otf_logs_t *logs, otf_scope_logs_t *sl, otf_resource_logs_t *rl)
{
	for (size_t i = 0; i < n; i++)
		recs[i] = (otf_log_record_t){
		    .time_unix_nano = i + 1,
		    .body = {OTF_ANY_STRING, {.string_value = {(const uint8_t *)body, body_len}}},
		    .attributes = ATTRS,
		};
	*sl = (otf_scope_logs_t){.log_records = recs, .log_records_len = n};
	*rl = (otf_resource_logs_t){.scope_logs = sl, .scope_logs_len = 1};
	*logs = (otf_logs_t){rl, 1};
}

static void test_growth(void **state)
{
	(void)state;
	enum { N = 20, BODY = 50000 };
	char *body = malloc(BODY);
	assert_non_null(body);
	for (size_t i = 0; i < BODY; i++)
		body[i] = (char)('a' + i % 26);
	otf_log_record_t recs[N];
	otf_logs_t logs;
	otf_scope_logs_t sl;
	otf_resource_logs_t rl;
	build_big_logs(recs, N, body, BODY, &logs, &sl, &rl);

	fb_t slf = {0}, rlf = {0}, top = {0};
	for (size_t i = 0; i < N; i++) {
		fb_t r = {0}, any = {0};
		fb_f64(&r, 1, i + 1);
		fb_raw(&any, 1, body, BODY);
		fb_msg(&r, 5, &any);
		fb_attrs(&r, 6);
		fb_msg(&slf, 2, &r);
	}
	fb_msg(&rlf, 2, &slf);
	fb_msg(&top, 1, &rlf);
	otf_buf_t *b = NULL;
	assert_int_equal(otf_pdata_encode_logs(&logs, &b), 0);
	roundtrip_logs(&logs, b);
	check(b, &top);
	free(body);
}

static void test_alloc_failure(void **state)
{
	(void)state;
	enum { N = 8, BODY = 20000 };
	char *body = malloc(BODY);
	assert_non_null(body);
	memset(body, 'x', BODY);
	otf_log_record_t recs[N];
	otf_logs_t logs;
	otf_scope_logs_t sl;
	otf_resource_logs_t rl;
	build_big_logs(recs, N, body, BODY, &logs, &sl, &rl);

	int failures = 0;
	for (int64_t n = 0; n < 64; n++) {
		otf_alloc_stats_t before, after;
		otf_alloc_stats(&before);
		otf_buf_t *b = NULL;
		otf_alloc_fail_after(n);
		int rc = otf_pdata_encode_logs(&logs, &b);
		otf_alloc_fail_after(-1);
		if (rc == 0) {
			assert_non_null(b);
			otf_buf_unref(b);
			break;
		}
		failures++;
		assert_int_equal(rc, OTF_E_NOMEM);
		assert_null(b);
		otf_alloc_stats(&after);
		assert_int_equal(after.bytes_in_use, before.bytes_in_use);
	}
	/* the first buffer and at least one growth both failed once */
	assert_true(failures >= 2);

	otf_export_response_t r = {.has_partial_success = true};
	otf_buf_t *b = NULL;
	otf_alloc_fail_after(0);
	int rc = otf_pdata_encode_response(&r, OTF_SIGNAL_TRACES, &b);
	otf_alloc_fail_after(-1);
	assert_int_equal(rc, OTF_E_NOMEM);
	assert_null(b);
	free(body);
}

/* Generated trees of every shape encode without error (the byte-level
 * oracle for them is protoc, in the shell tests). */
static void test_generated(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 200; seed++) {
		otf_arena_t a;
		otf_arena_init(&a, 1 << 16);
		otf_gen_t g;
		otf_gen_init(&g, seed, 3, &a);
		otf_traces_t t;
		otf_metrics_t m;
		otf_logs_t l;
		otf_export_response_t r;
		otf_buf_t *b = NULL;
		otf_gen_traces(&g, &t);
		assert_int_equal(otf_pdata_encode_traces(&t, &b), 0);
		otf_buf_unref(b);
		otf_gen_metrics(&g, &m);
		assert_int_equal(otf_pdata_encode_metrics(&m, &b), 0);
		otf_buf_unref(b);
		otf_gen_logs(&g, &l);
		assert_int_equal(otf_pdata_encode_logs(&l, &b), 0);
		otf_buf_unref(b);
		otf_gen_response(&g, &r);
		assert_int_equal(otf_pdata_encode_response(&r, OTF_SIGNAL_LOGS, &b), 0);
		otf_buf_unref(b);
		otf_arena_close(&a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_logs_literal),     cmocka_unit_test(test_logs_all_fields),
	    cmocka_unit_test(test_any_values),       cmocka_unit_test(test_traces_all_fields),

	    cmocka_unit_test(test_defaults_omitted), cmocka_unit_test(test_response),
	    cmocka_unit_test(test_id_lengths),       cmocka_unit_test(test_depth),
	    cmocka_unit_test(test_invalid_args),     cmocka_unit_test(test_growth),
	    cmocka_unit_test(test_alloc_failure),    cmocka_unit_test(test_generated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
