/* Protobuf decoder (otf_pdata_decode_*): every message and field from
 * hand-built wire bytes, the decoding rules of pdata_codec.h, and bad input
 * (each failure's code, field path and byte offset). Inputs are decoded
 * from exact-size heap copies so the sanitizer build catches any read past
 * the end. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otflow/alloc.h"
#include "otflow/arena.h"
#include "otflow/err.h"
#include "otflow/pdata.h"
#include "otflow/pdata_codec.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a tiny protobuf writer for building test inputs ---- */

typedef struct pb {
	uint8_t b[4096];
	size_t n;
} pb_t;

enum { VARINT = 0, I64 = 1, LEN = 2, SGROUP = 3, EGROUP = 4, I32 = 5 };

static void raw(pb_t *m, const void *p, size_t n)
{
	assert_true(m->n + n <= sizeof m->b);
	if (n)
		memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void varint(pb_t *m, uint64_t v)
{
	while (v >= 0x80) {
		uint8_t c = (uint8_t)(v | 0x80);
		raw(m, &c, 1);
		v >>= 7;
	}
	uint8_t c = (uint8_t)v;
	raw(m, &c, 1);
}

static void tag(pb_t *m, uint32_t field, uint32_t wt)
{
	varint(m, ((uint64_t)field << 3) | wt);
}

static void f_varint(pb_t *m, uint32_t field, uint64_t v)
{
	tag(m, field, VARINT);
	varint(m, v);
}

static void f_sint(pb_t *m, uint32_t field, int32_t v)
{
	f_varint(m, field, ((uint32_t)v << 1) ^ (0u - ((uint32_t)v >> 31)));
}

static void f_fixed64(pb_t *m, uint32_t field, uint64_t v)
{
	tag(m, field, I64);
	raw(m, &v, 8);
}

static void f_fixed32(pb_t *m, uint32_t field, uint32_t v)
{
	tag(m, field, I32);
	raw(m, &v, 4);
}

static void f_double(pb_t *m, uint32_t field, double v)
{
	tag(m, field, I64);
	raw(m, &v, 8);
}

static void f_bytes(pb_t *m, uint32_t field, const void *p, size_t n)
{
	tag(m, field, LEN);
	varint(m, n);
	raw(m, p, n);
}

static void f_str(pb_t *m, uint32_t field, const char *s)
{
	f_bytes(m, field, s, strlen(s));
}

static void f_msg(pb_t *m, uint32_t field, const pb_t *sub)
{
	f_bytes(m, field, sub->b, sub->n);
}

/* KeyValue { key, value: AnyValue { string_value } } */
static void f_kv_str(pb_t *m, uint32_t field, const char *k, const char *v)
{
	pb_t any = {0}, kv = {0};
	f_str(&any, 1, v);
	f_str(&kv, 1, k);
	f_msg(&kv, 2, &any);
	f_msg(m, field, &kv);
}

static void f_kv_int(pb_t *m, uint32_t field, const char *k, int64_t v)
{
	pb_t any = {0}, kv = {0};
	f_varint(&any, 3, (uint64_t)v);
	f_str(&kv, 1, k);
	f_msg(&kv, 2, &any);
	f_msg(m, field, &kv);
}

/* One unknown field of every wire type, with field numbers unused by OTLP. */
static void unknown_fields(pb_t *m)
{
	f_varint(m, 900, 12345678901ull);
	f_fixed64(m, 901, 7);
	f_str(m, 902, "ignored");
	f_fixed32(m, 903, 9);
	f_bytes(m, 904, "", 0);
}

static const uint8_t TID[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t SID[8] = {0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8};
static const uint8_t PID[8] = {0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8};

/* ---- decoding from exact-size heap copies ---- */

typedef struct ctx {
	otf_arena_t arena;
	uint8_t *copy; /* the tree points into it: free only at teardown */
	otf_pdata_error_t err;
	otf_pdata_limits_t limits;
} ctx_t;

static ctx_t C;

static int setup(void **state)
{
	(void)state;
	memset(&C, 0, sizeof C);
	otf_arena_init(&C.arena, 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	otf_arena_close(&C.arena);
	free(C.copy);
	C.copy = NULL;
	return 0;
}

static const uint8_t *copy_in(const uint8_t *b, size_t n)
{
	free(C.copy);
	C.copy = NULL;
	if (!n)
		return NULL;
	C.copy = malloc(n);
	assert_non_null(C.copy);
	memcpy(C.copy, b, n);
	return C.copy;
}

static int dec_logs_n(const uint8_t *b, size_t n, otf_logs_t *out)
{
	const uint8_t *p = copy_in(b, n);
	return otf_pdata_decode_logs(out, p, n, &C.arena, &C.limits, &C.err);
}

static int dec_traces_n(const uint8_t *b, size_t n, otf_traces_t *out)
{
	const uint8_t *p = copy_in(b, n);
	return otf_pdata_decode_traces(out, p, n, &C.arena, &C.limits, &C.err);
}

static int dec_metrics_n(const uint8_t *b, size_t n, otf_metrics_t *out)
{
	const uint8_t *p = copy_in(b, n);
	return otf_pdata_decode_metrics(out, p, n, &C.arena, &C.limits, &C.err);
}

static int dec_logs(const pb_t *m, otf_logs_t *out)
{
	return dec_logs_n(m->b, m->n, out);
}

static int dec_traces(const pb_t *m, otf_traces_t *out)
{
	return dec_traces_n(m->b, m->n, out);
}

static int dec_metrics(const pb_t *m, otf_metrics_t *out)
{
	return dec_metrics_n(m->b, m->n, out);
}

/* Offset of a unique byte pattern in the last decoded input. */
static size_t find(const pb_t *m, const void *pat, size_t n)
{
	size_t hit = SIZE_MAX;
	for (size_t i = 0; i + n <= m->n; i++) {
		if (!memcmp(m->b + i, pat, n)) {
			assert_true(hit == SIZE_MAX); /* the pattern must be unique */
			hit = i;
		}
	}
	assert_true(hit != SIZE_MAX);
	return hit;
}

static void assert_str(otf_bytes_t b, const char *s)
{
	size_t n = strlen(s);
	assert_int_equal(b.len, n);
	if (n)
		assert_memory_equal(b.ptr, s, n);
}

static void assert_id(otf_bytes_t b, const uint8_t *id, size_t n)
{
	assert_int_equal(b.len, n);
	assert_memory_equal(b.ptr, id, n);
}

static void assert_err(int rc, int code, const char *path)
{
	char msg[512];
	if (rc != code || strcmp(C.err.path, path) != 0)
		fprintf(stderr, "got %s, want %s at %s: %s\n", otf_err_name(rc), otf_err_name(code),
		        path, otf_pdata_error_format(&C.err, msg, sizeof msg));
	assert_int_equal(rc, code);
	assert_int_equal(C.err.code, code);
	assert_string_equal(C.err.path, path);
}

/* LogsData { resource_logs { scope_logs { log_records: rec } } } */
static void wrap_log(pb_t *out, const pb_t *rec)
{
	pb_t sl = {0}, rl = {0};
	f_msg(&sl, 2, rec);
	f_msg(&rl, 2, &sl);
	out->n = 0;
	f_msg(out, 1, &rl);
}

static void wrap_span(pb_t *out, const pb_t *span)
{
	pb_t ss = {0}, rs = {0};
	f_msg(&ss, 2, span);
	f_msg(&rs, 2, &ss);
	out->n = 0;
	f_msg(out, 1, &rs);
}

static void wrap_metric(pb_t *out, const pb_t *metric)
{
	pb_t sm = {0}, rm = {0};
	f_msg(&sm, 2, metric);
	f_msg(&rm, 2, &sm);
	out->n = 0;
	f_msg(out, 1, &rm);
}

#define LOG0    "resource_logs[0].scope_logs[0].log_records[0]"
#define SPAN0   "resource_spans[0].scope_spans[0].spans[0]"
#define METRIC0 "resource_metrics[0].scope_metrics[0].metrics[0]"

/* ---- logs, resource, scope, AnyValue: every field ---- */

static void build_resource(pb_t *res)
{
	pb_t er = {0}, er2 = {0};
	f_str(&er, 1, "https://schema/er");
	f_str(&er, 2, "service");
	f_str(&er, 3, "service.name");
	f_str(&er, 4, "service.version");
	f_str(&er, 3, "service.namespace");
	unknown_fields(&er);
	f_str(&er2, 2, "host");
	f_kv_str(res, 1, "service.name", "checkout");
	f_varint(res, 2, 3);
	f_msg(res, 3, &er);
	unknown_fields(res);
	f_kv_int(res, 1, "pid", -42);
	f_msg(res, 3, &er2);
}

static void check_resource(const otf_resource_t *r)
{
	assert_int_equal(r->attributes.len, 2);
	assert_str(r->attributes.items[0].key, "service.name");
	assert_int_equal(r->attributes.items[0].value.type, OTF_ANY_STRING);
	assert_str(r->attributes.items[0].value.u.string_value, "checkout");
	assert_str(r->attributes.items[1].key, "pid");
	assert_int_equal(r->attributes.items[1].value.type, OTF_ANY_INT);
	assert_true(r->attributes.items[1].value.u.int_value == -42);
	assert_int_equal(r->dropped_attributes_count, 3);
	assert_int_equal(r->entity_refs_len, 2);
	const otf_entity_ref_t *e = &r->entity_refs[0];
	assert_str(e->schema_url, "https://schema/er");
	assert_str(e->type, "service");
	assert_int_equal(e->id_keys.len, 2);
	assert_str(e->id_keys.items[0], "service.name");
	assert_str(e->id_keys.items[1], "service.namespace");
	assert_int_equal(e->description_keys.len, 1);
	assert_str(e->description_keys.items[0], "service.version");
	assert_str(r->entity_refs[1].type, "host");
	assert_int_equal(r->entity_refs[1].id_keys.len, 0);
	assert_null(r->entity_refs[1].id_keys.items);
}

static void build_scope(pb_t *sc)
{
	f_str(sc, 1, "io.otflow");
	f_str(sc, 2, "1.2.3");
	f_kv_str(sc, 3, "lib", "x");
	f_varint(sc, 4, 0xffffffffu);
	unknown_fields(sc);
}

static void check_scope(const otf_scope_t *s)
{
	assert_str(s->name, "io.otflow");
	assert_str(s->version, "1.2.3");
	assert_int_equal(s->attributes.len, 1);
	assert_str(s->attributes.items[0].key, "lib");
	assert_int_equal(s->dropped_attributes_count, 0xffffffffu);
}

/* An AnyValue kvlist holding every kind of value. */
static void build_any_all(pb_t *any)
{
	pb_t kvl = {0}, arr = {0}, v = {0}, inner = {0}, kv = {0};
#define KV(key, build)               \
	do {                         \
		v.n = 0;             \
		kv.n = 0;            \
		build;               \
		f_str(&kv, 1, key);  \
		f_msg(&kv, 2, &v);   \
		f_msg(&kvl, 1, &kv); \
	} while (0)
	KV("s", f_str(&v, 1, "h\xc3\xa9llo \xf0\x9f\x98\x80"));
	KV("b", f_varint(&v, 2, 1));
	KV("i", f_varint(&v, 3, (uint64_t)INT64_MIN));
	KV("d", f_double(&v, 4, -2.5));
	KV("y", f_bytes(&v, 7, "\x00\xff\x80", 3));
	KV("e", (void)0);
	/* array: [1, "two", [], {}] */
	inner.n = 0;
	f_varint(&inner, 3, 1);
	f_msg(&arr, 1, &inner);
	inner.n = 0;
	f_str(&inner, 1, "two");
	f_msg(&arr, 1, &inner);
	inner.n = 0;
	f_bytes(&inner, 5, "", 0);
	f_msg(&arr, 1, &inner);
	inner.n = 0;
	f_bytes(&inner, 6, "", 0);
	f_msg(&arr, 1, &inner);
	unknown_fields(&arr);
	KV("a", f_msg(&v, 5, &arr));
	/* a key-only KeyValue: value absent */
	kv.n = 0;
	f_str(&kv, 1, "novalue");
	unknown_fields(&kv);
	f_msg(&kvl, 1, &kv);
#undef KV
	unknown_fields(&kvl);
	f_msg(any, 6, &kvl);
	unknown_fields(any);
}

static void check_any_all(const otf_any_value_t *a)
{
	assert_int_equal(a->type, OTF_ANY_KVLIST);
	assert_int_equal(a->u.kvlist_value.values_len, 8);
	const otf_key_value_t *kv = a->u.kvlist_value.values;
	assert_str(kv[0].key, "s");
	assert_int_equal(kv[0].value.type, OTF_ANY_STRING);
	assert_str(kv[0].value.u.string_value, "h\xc3\xa9llo \xf0\x9f\x98\x80");
	assert_int_equal(kv[1].value.type, OTF_ANY_BOOL);
	assert_true(kv[1].value.u.bool_value);
	assert_int_equal(kv[2].value.type, OTF_ANY_INT);
	assert_true(kv[2].value.u.int_value == INT64_MIN);
	assert_int_equal(kv[3].value.type, OTF_ANY_DOUBLE);
	assert_true(kv[3].value.u.double_value == -2.5);
	assert_int_equal(kv[4].value.type, OTF_ANY_BYTES);
	assert_int_equal(kv[4].value.u.bytes_value.len, 3);
	assert_memory_equal(kv[4].value.u.bytes_value.ptr, "\x00\xff\x80", 3);
	assert_str(kv[5].key, "e");
	assert_int_equal(kv[5].value.type, OTF_ANY_EMPTY);
	assert_str(kv[6].key, "a");
	assert_int_equal(kv[6].value.type, OTF_ANY_ARRAY);
	const otf_any_value_t *arr = kv[6].value.u.array_value.values;
	assert_int_equal(kv[6].value.u.array_value.values_len, 4);
	assert_int_equal(arr[0].type, OTF_ANY_INT);
	assert_true(arr[0].u.int_value == 1);
	assert_int_equal(arr[1].type, OTF_ANY_STRING);
	assert_str(arr[1].u.string_value, "two");
	assert_int_equal(arr[2].type, OTF_ANY_ARRAY);
	assert_int_equal(arr[2].u.array_value.values_len, 0);
	assert_int_equal(arr[3].type, OTF_ANY_KVLIST);
	assert_int_equal(arr[3].u.kvlist_value.values_len, 0);
	assert_str(kv[7].key, "novalue");
	assert_int_equal(kv[7].value.type, OTF_ANY_EMPTY);
}

static void build_logs_full(pb_t *out)
{
	pb_t res = {0}, sc = {0}, rec = {0}, rec2 = {0}, body = {0}, sl = {0}, rl = {0};
	build_resource(&res);
	build_scope(&sc);
	build_any_all(&body);
	f_fixed64(&rec, 1, 1700000000123456789ull);
	f_varint(&rec, 2, 17);
	f_str(&rec, 3, "ERROR");
	f_msg(&rec, 5, &body);
	f_kv_str(&rec, 6, "http.method", "GET");
	f_varint(&rec, 7, 4);
	f_fixed32(&rec, 8, 0x01);
	f_bytes(&rec, 9, TID, 16);
	f_bytes(&rec, 10, SID, 8);
	f_fixed64(&rec, 11, 1700000000999ull);
	f_str(&rec, 12, "user.login");
	unknown_fields(&rec);
	f_kv_int(&rec, 6, "http.status", 500);
	f_varint(&rec2, 2, (uint64_t)-5); /* unknown enum values are kept */
	f_msg(&sl, 1, &sc);
	f_msg(&sl, 2, &rec);
	f_str(&sl, 3, "https://schema/sl");
	unknown_fields(&sl);
	f_msg(&sl, 2, &rec2);
	f_msg(&rl, 1, &res);
	f_msg(&rl, 2, &sl);
	f_str(&rl, 3, "https://schema/rl");
	unknown_fields(&rl);
	f_msg(&rl, 2, &sl);
	out->n = 0;
	f_msg(out, 1, &rl);
	unknown_fields(out);
	f_msg(out, 1, &rl);
}

static void test_logs_all_fields(void **state)
{
	(void)state;
	pb_t m = {0};
	build_logs_full(&m);
	otf_logs_t logs;
	assert_int_equal(dec_logs(&m, &logs), 0);
	assert_int_equal(C.err.code, 0);
	assert_int_equal(logs.resource_logs_len, 2);
	for (size_t r = 0; r < 2; r++) {
		const otf_resource_logs_t *rl = &logs.resource_logs[r];
		check_resource(&rl->resource);
		assert_str(rl->schema_url, "https://schema/rl");
		assert_int_equal(rl->scope_logs_len, 2);
		for (size_t s = 0; s < 2; s++) {
			const otf_scope_logs_t *sl = &rl->scope_logs[s];
			check_scope(&sl->scope);
			assert_str(sl->schema_url, "https://schema/sl");
			assert_int_equal(sl->log_records_len, 2);
			const otf_log_record_t *lr = &sl->log_records[0];
			assert_true(lr->time_unix_nano == 1700000000123456789ull);
			assert_true(lr->observed_time_unix_nano == 1700000000999ull);
			assert_int_equal(lr->severity_number, 17);
			assert_str(lr->severity_text, "ERROR");
			check_any_all(&lr->body);
			assert_int_equal(lr->attributes.len, 2);
			assert_str(lr->attributes.items[0].key, "http.method");
			assert_str(lr->attributes.items[0].value.u.string_value, "GET");
			assert_str(lr->attributes.items[1].key, "http.status");
			assert_true(lr->attributes.items[1].value.u.int_value == 500);
			assert_int_equal(lr->dropped_attributes_count, 4);
			assert_int_equal(lr->flags, 1);
			assert_id(lr->trace_id, TID, 16);
			assert_id(lr->span_id, SID, 8);
			assert_str(lr->event_name, "user.login");
			/* the second record: everything absent is zero */
			const otf_log_record_t *z = &sl->log_records[1];
			assert_int_equal(z->severity_number, -5);
			assert_true(z->time_unix_nano == 0 && z->observed_time_unix_nano == 0);
			assert_int_equal(z->body.type, OTF_ANY_EMPTY);
			assert_int_equal(z->attributes.len, 0);
			assert_null(z->attributes.items);
			assert_int_equal(z->trace_id.len, 0);
			assert_int_equal(z->span_id.len, 0);
			assert_int_equal(z->severity_text.len, 0);
			assert_int_equal(z->event_name.len, 0);
			assert_int_equal(z->flags, 0);
		}
	}
	/* zero-copy: strings point into the input */
	const otf_bytes_t *sev = &logs.resource_logs[0].scope_logs[0].log_records[0].severity_text;
	assert_true(sev->ptr >= C.copy && sev->ptr + sev->len <= C.copy + m.n);
}

static void test_empty_inputs(void **state)
{
	(void)state;
	otf_logs_t logs;
	otf_traces_t traces;
	otf_metrics_t metrics;
	assert_int_equal(otf_pdata_decode_logs(&logs, NULL, 0, &C.arena, NULL, &C.err), 0);
	assert_int_equal(logs.resource_logs_len, 0);
	assert_null(logs.resource_logs);
	assert_int_equal(otf_pdata_decode_traces(&traces, NULL, 0, &C.arena, NULL, NULL), 0);
	assert_int_equal(traces.resource_spans_len, 0);
	assert_int_equal(otf_pdata_decode_metrics(&metrics, NULL, 0, &C.arena, NULL, NULL), 0);
	assert_int_equal(metrics.resource_metrics_len, 0);
	/* empty sub-messages everywhere */
	pb_t m = {0}, e = {0};
	wrap_log(&m, &e);
	assert_int_equal(dec_logs(&m, &logs), 0);
	assert_int_equal(logs.resource_logs[0].scope_logs[0].log_records_len, 1);
	assert_int_equal(logs.resource_logs[0].resource.attributes.len, 0);
	assert_int_equal(logs.resource_logs[0].scope_logs[0].scope.name.len, 0);
	/* bad arguments */
	assert_int_equal(otf_pdata_decode_logs(NULL, m.b, m.n, &C.arena, NULL, &C.err),
	                 OTF_E_INVAL);
	assert_int_equal(otf_pdata_decode_logs(&logs, m.b, m.n, NULL, NULL, &C.err), OTF_E_INVAL);
	assert_int_equal(otf_pdata_decode_logs(&logs, NULL, 3, &C.arena, NULL, &C.err),
	                 OTF_E_INVAL);
}

/* ---- traces ---- */

static void build_span_full(pb_t *sp)
{
	pb_t ev = {0}, ln = {0}, st = {0};
	f_fixed64(&ev, 1, 111);
	f_str(&ev, 2, "exception");
	f_kv_str(&ev, 3, "exception.type", "E");
	f_varint(&ev, 4, 2);
	unknown_fields(&ev);
	f_bytes(&ln, 1, TID, 16);
	f_bytes(&ln, 2, PID, 8);
	f_str(&ln, 3, "k=v");
	f_kv_int(&ln, 4, "n", 7);
	f_varint(&ln, 5, 6);
	f_fixed32(&ln, 6, 0x301);
	unknown_fields(&ln);
	f_varint(&st, 1, 2); /* deprecated_code: skipped */
	f_str(&st, 2, "boom");
	f_varint(&st, 3, 2);
	unknown_fields(&st);
	f_bytes(sp, 1, TID, 16);
	f_bytes(sp, 2, SID, 8);
	f_str(sp, 3, "rojo=00f067aa0ba902b7");
	f_bytes(sp, 4, PID, 8);
	f_str(sp, 5, "GET /api");
	f_varint(sp, 6, 2);
	f_fixed64(sp, 7, 1000);
	f_fixed64(sp, 8, 2000);
	f_kv_str(sp, 9, "a", "1");
	f_varint(sp, 10, 1);
	f_msg(sp, 11, &ev);
	f_varint(sp, 12, 3);
	f_msg(sp, 13, &ln);
	f_varint(sp, 14, 5);
	f_msg(sp, 15, &st);
	f_fixed32(sp, 16, 0x100);
	unknown_fields(sp);
	f_kv_str(sp, 9, "b", "2");
	f_msg(sp, 11, &ev);
	f_msg(sp, 13, &ln);
	f_msg(sp, 13, &ln);
}

static void test_traces_all_fields(void **state)
{
	(void)state;
	pb_t sp = {0}, sp2 = {0}, ss = {0}, rs = {0}, res = {0}, sc = {0}, m = {0};
	build_span_full(&sp);
	f_str(&sp2, 5, "second");
	build_resource(&res);
	build_scope(&sc);
	f_msg(&ss, 1, &sc);
	f_msg(&ss, 2, &sp);
	f_msg(&ss, 2, &sp2);
	f_str(&ss, 3, "https://schema/ss");
	unknown_fields(&ss);
	f_msg(&rs, 1, &res);
	f_msg(&rs, 2, &ss);
	f_str(&rs, 3, "https://schema/rs");
	f_varint(&rs, 1000, 1); /* deprecated field numbers are unknown now */
	f_msg(&m, 1, &rs);
	unknown_fields(&m);
	otf_traces_t t;
	assert_int_equal(dec_traces(&m, &t), 0);
	assert_int_equal(t.resource_spans_len, 1);
	const otf_resource_spans_t *r = &t.resource_spans[0];
	check_resource(&r->resource);
	assert_str(r->schema_url, "https://schema/rs");
	assert_int_equal(r->scope_spans_len, 1);
	check_scope(&r->scope_spans[0].scope);
	assert_str(r->scope_spans[0].schema_url, "https://schema/ss");
	assert_int_equal(r->scope_spans[0].spans_len, 2);
	const otf_span_t *s = &r->scope_spans[0].spans[0];
	assert_id(s->trace_id, TID, 16);
	assert_id(s->span_id, SID, 8);
	assert_str(s->trace_state, "rojo=00f067aa0ba902b7");
	assert_id(s->parent_span_id, PID, 8);
	assert_int_equal(s->flags, 0x100);
	assert_str(s->name, "GET /api");
	assert_int_equal(s->kind, OTF_SPAN_KIND_SERVER);
	assert_true(s->start_time_unix_nano == 1000 && s->end_time_unix_nano == 2000);
	assert_int_equal(s->attributes.len, 2);
	assert_str(s->attributes.items[1].key, "b");
	assert_str(s->attributes.items[1].value.u.string_value, "2");
	assert_int_equal(s->dropped_attributes_count, 1);
	assert_int_equal(s->events_len, 2);
	for (size_t i = 0; i < 2; i++) {
		const otf_span_event_t *e = &s->events[i];
		assert_true(e->time_unix_nano == 111);
		assert_str(e->name, "exception");
		assert_int_equal(e->attributes.len, 1);
		assert_str(e->attributes.items[0].value.u.string_value, "E");
		assert_int_equal(e->dropped_attributes_count, 2);
	}
	assert_int_equal(s->dropped_events_count, 3);
	assert_int_equal(s->links_len, 3);
	for (size_t i = 0; i < 3; i++) {
		const otf_span_link_t *l = &s->links[i];
		assert_id(l->trace_id, TID, 16);
		assert_id(l->span_id, PID, 8);
		assert_str(l->trace_state, "k=v");
		assert_int_equal(l->attributes.len, 1);
		assert_true(l->attributes.items[0].value.u.int_value == 7);
		assert_int_equal(l->dropped_attributes_count, 6);
		assert_int_equal(l->flags, 0x301);
	}
	assert_int_equal(s->dropped_links_count, 5);
	assert_str(s->status.message, "boom");
	assert_int_equal(s->status.code, OTF_STATUS_CODE_ERROR);
	const otf_span_t *z = &r->scope_spans[0].spans[1];
	assert_str(z->name, "second");
	assert_int_equal(z->trace_id.len, 0);
	assert_int_equal(z->events_len, 0);
	assert_null(z->events);
	assert_int_equal(z->status.code, 0);
	assert_int_equal(z->kind, 0);
}

/* ---- metrics ---- */

static void build_exemplar(pb_t *ex, bool as_int)
{
	f_kv_str(ex, 7, "fa", "x");
	f_fixed64(ex, 2, 555);
	if (as_int)
		f_fixed64(ex, 6, (uint64_t)-77);
	else
		f_double(ex, 3, 0.25);
	f_bytes(ex, 4, SID, 8);
	f_bytes(ex, 5, TID, 16);
	unknown_fields(ex);
}

static void check_exemplar(const otf_exemplar_t *e, bool as_int)
{
	assert_int_equal(e->filtered_attributes.len, 1);
	assert_str(e->filtered_attributes.items[0].key, "fa");
	assert_true(e->time_unix_nano == 555);
	if (as_int) {
		assert_int_equal(e->value_type, OTF_NUMBER_INT);
		assert_true(e->value.as_int == -77);
	} else {
		assert_int_equal(e->value_type, OTF_NUMBER_DOUBLE);
		assert_true(e->value.as_double == 0.25);
	}
	assert_id(e->span_id, SID, 8);
	assert_id(e->trace_id, TID, 16);
}

static void test_metrics_gauge_sum(void **state)
{
	(void)state;
	pb_t dp1 = {0}, dp2 = {0}, ex1 = {0}, ex2 = {0}, gauge = {0}, sum = {0}, mg = {0}, ms = {0};
	build_exemplar(&ex1, false);
	build_exemplar(&ex2, true);
	f_kv_str(&dp1, 7, "host", "h1");
	f_fixed64(&dp1, 2, 10);
	f_fixed64(&dp1, 3, 20);
	f_double(&dp1, 4, 3.5);
	f_msg(&dp1, 5, &ex1);
	f_msg(&dp1, 5, &ex2);
	f_varint(&dp1, 8, 1);
	unknown_fields(&dp1);
	f_fixed64(&dp2, 6, (uint64_t)INT64_MIN);
	f_msg(&gauge, 1, &dp1);
	f_msg(&gauge, 1, &dp2);
	unknown_fields(&gauge);
	f_str(&mg, 1, "cpu");
	f_str(&mg, 2, "CPU use");
	f_str(&mg, 3, "1");
	f_msg(&mg, 5, &gauge);
	f_kv_str(&mg, 12, "meta", "m");
	unknown_fields(&mg);
	f_msg(&sum, 1, &dp2);
	f_varint(&sum, 2, 2);
	f_varint(&sum, 3, 1);
	f_str(&ms, 1, "requests");
	f_msg(&ms, 7, &sum);

	pb_t sm = {0}, rm = {0}, res = {0}, sc = {0}, m = {0};
	build_resource(&res);
	build_scope(&sc);
	f_msg(&sm, 1, &sc);
	f_msg(&sm, 2, &mg);
	f_msg(&sm, 2, &ms);
	f_str(&sm, 3, "https://schema/sm");
	f_msg(&rm, 1, &res);
	f_msg(&rm, 2, &sm);
	f_str(&rm, 3, "https://schema/rm");
	f_msg(&m, 1, &rm);
	otf_metrics_t out;
	assert_int_equal(dec_metrics(&m, &out), 0);
	assert_int_equal(out.resource_metrics_len, 1);
	const otf_resource_metrics_t *r = &out.resource_metrics[0];
	check_resource(&r->resource);
	assert_str(r->schema_url, "https://schema/rm");
	check_scope(&r->scope_metrics[0].scope);
	assert_str(r->scope_metrics[0].schema_url, "https://schema/sm");
	assert_int_equal(r->scope_metrics[0].metrics_len, 2);
	const otf_metric_t *g = &r->scope_metrics[0].metrics[0];
	assert_str(g->name, "cpu");
	assert_str(g->description, "CPU use");
	assert_str(g->unit, "1");
	assert_int_equal(g->type, OTF_METRIC_GAUGE);
	assert_int_equal(g->data_points_len, 2);
	assert_int_equal(g->aggregation_temporality, 0);
	assert_false(g->is_monotonic);
	assert_int_equal(g->metadata.len, 1);
	assert_str(g->metadata.items[0].key, "meta");
	const otf_number_data_point_t *p = &g->data_points.number[0];
	assert_int_equal(p->attributes.len, 1);
	assert_str(p->attributes.items[0].value.u.string_value, "h1");
	assert_true(p->start_time_unix_nano == 10 && p->time_unix_nano == 20);
	assert_int_equal(p->value_type, OTF_NUMBER_DOUBLE);
	assert_true(p->value.as_double == 3.5);
	assert_int_equal(p->exemplars.len, 2);
	check_exemplar(&p->exemplars.items[0], false);
	check_exemplar(&p->exemplars.items[1], true);
	assert_int_equal(p->flags, 1);
	assert_int_equal(g->data_points.number[1].value_type, OTF_NUMBER_INT);
	assert_true(g->data_points.number[1].value.as_int == INT64_MIN);
	const otf_metric_t *s = &r->scope_metrics[0].metrics[1];
	assert_int_equal(s->type, OTF_METRIC_SUM);
	assert_int_equal(s->aggregation_temporality, OTF_TEMPORALITY_CUMULATIVE);
	assert_true(s->is_monotonic);
	assert_int_equal(s->data_points_len, 1);
	assert_int_equal(s->data_points.number[0].exemplars.len, 0);
}

static void test_metrics_histogram(void **state)
{
	(void)state;
	/* bucket_counts: packed [1,2], unpacked 3, packed [4]; explicit_bounds
	 * unpacked 0.5, packed [1.5, 2.5] */
	pb_t dp = {0}, h = {0}, mt = {0}, m = {0}, ex = {0};
	uint64_t bc12[2] = {1, 2}, bc4 = 4;
	double eb[2] = {1.5, 2.5};
	build_exemplar(&ex, true);
	f_kv_str(&dp, 9, "k", "v");
	f_fixed64(&dp, 2, 1);
	f_fixed64(&dp, 3, 2);
	f_fixed64(&dp, 4, 10);
	f_double(&dp, 5, 12.5);
	f_bytes(&dp, 6, bc12, sizeof bc12);
	f_double(&dp, 7, 0.5);
	f_fixed64(&dp, 6, 3);
	f_bytes(&dp, 7, eb, sizeof eb);
	f_bytes(&dp, 6, &bc4, 8);
	f_bytes(&dp, 6, "", 0);
	f_msg(&dp, 8, &ex);
	f_varint(&dp, 10, 1);
	f_double(&dp, 11, -1.0);
	f_double(&dp, 12, 9.0);
	unknown_fields(&dp);
	f_msg(&h, 1, &dp);
	f_msg(&h, 1, &ex); /* a second point: unknown fields only (7 = bounds!) */
	f_varint(&h, 2, 1);
	f_varint(&h, 3, 1); /* is_monotonic is not a Histogram field: skipped */
	f_str(&mt, 1, "latency");
	f_msg(&mt, 9, &h);
	wrap_metric(&m, &mt);
	otf_metrics_t out;
	int rc = dec_metrics(&m, &out);
	/* The exemplar bytes as a data point put a LEN field 7 (a KeyValue) into
	 * explicit_bounds: its length (not a multiple of 8) is an error. */
	assert_err(rc, OTF_E_LENGTH, METRIC0 ".histogram.data_points[1].explicit_bounds");

	h.n = 0;
	pb_t dp2 = {0};
	f_fixed64(&dp2, 4, 0);
	f_msg(&h, 1, &dp);
	f_msg(&h, 1, &dp2);
	f_varint(&h, 2, 1);
	f_varint(&h, 3, 1);
	mt.n = 0;
	f_str(&mt, 1, "latency");
	f_msg(&mt, 9, &h);
	wrap_metric(&m, &mt);
	assert_int_equal(dec_metrics(&m, &out), 0);
	const otf_metric_t *g = &out.resource_metrics[0].scope_metrics[0].metrics[0];
	assert_int_equal(g->type, OTF_METRIC_HISTOGRAM);
	assert_int_equal(g->aggregation_temporality, OTF_TEMPORALITY_DELTA);
	assert_false(g->is_monotonic);
	assert_int_equal(g->data_points_len, 2);
	const otf_histogram_data_point_t *p = &g->data_points.histogram[0];
	assert_int_equal(p->attributes.len, 1);
	assert_true(p->start_time_unix_nano == 1 && p->time_unix_nano == 2);
	assert_true(p->count == 10);
	assert_true(p->has_sum && p->sum == 12.5);
	assert_int_equal(p->bucket_counts_len, 4);
	for (size_t i = 0; i < 4; i++)
		assert_true(p->bucket_counts[i] == i + 1);
	assert_true(((uintptr_t)p->bucket_counts & 7) == 0);
	assert_int_equal(p->explicit_bounds_len, 3);
	assert_true(p->explicit_bounds[0] == 0.5 && p->explicit_bounds[1] == 1.5 &&
	            p->explicit_bounds[2] == 2.5);
	assert_int_equal(p->exemplars.len, 1);
	check_exemplar(&p->exemplars.items[0], true);
	assert_int_equal(p->flags, 1);
	assert_true(p->has_min && p->min == -1.0);
	assert_true(p->has_max && p->max == 9.0);
	const otf_histogram_data_point_t *z = &g->data_points.histogram[1];
	assert_false(z->has_sum || z->has_min || z->has_max);
	assert_int_equal(z->bucket_counts_len, 0);
	assert_null(z->bucket_counts);
	assert_int_equal(z->explicit_bounds_len, 0);
}

static void test_metrics_exp_histogram(void **state)
{
	(void)state;
	pb_t pos = {0}, neg = {0}, dp = {0}, eh = {0}, mt = {0}, m = {0}, ex = {0}, packed = {0};
	build_exemplar(&ex, false);
	/* positive: offset -3, counts packed [1, 300], unpacked 5, packed [70000] */
	f_sint(&pos, 1, -3);
	varint(&packed, 1);
	varint(&packed, 300);
	f_msg(&pos, 2, &packed);
	f_varint(&pos, 2, 5);
	packed.n = 0;
	varint(&packed, 70000);
	f_msg(&pos, 2, &packed);
	unknown_fields(&pos);
	/* negative: offset 2, counts unpacked only */
	f_sint(&neg, 1, 2);
	f_varint(&neg, 2, UINT64_MAX);
	f_varint(&neg, 2, 0);
	f_kv_str(&dp, 1, "k", "v");
	f_fixed64(&dp, 2, 5);
	f_fixed64(&dp, 3, 6);
	f_fixed64(&dp, 4, 7);
	f_double(&dp, 5, 8.5);
	f_sint(&dp, 6, -4);
	f_fixed64(&dp, 7, 9);
	f_msg(&dp, 8, &pos);
	f_msg(&dp, 9, &neg);
	f_varint(&dp, 10, 1);
	f_msg(&dp, 11, &ex);
	f_double(&dp, 12, 0.125);
	f_double(&dp, 13, 100.0);
	f_double(&dp, 14, 1e-9);
	unknown_fields(&dp);
	f_msg(&eh, 1, &dp);
	f_varint(&eh, 2, 2);
	f_str(&mt, 1, "sizes");
	f_msg(&mt, 10, &eh);
	wrap_metric(&m, &mt);
	otf_metrics_t out;
	assert_int_equal(dec_metrics(&m, &out), 0);
	const otf_metric_t *g = &out.resource_metrics[0].scope_metrics[0].metrics[0];
	assert_int_equal(g->type, OTF_METRIC_EXP_HISTOGRAM);
	assert_int_equal(g->aggregation_temporality, 2);
	assert_int_equal(g->data_points_len, 1);
	const otf_exp_histogram_data_point_t *p = &g->data_points.exp_histogram[0];
	assert_int_equal(p->attributes.len, 1);
	assert_true(p->start_time_unix_nano == 5 && p->time_unix_nano == 6 && p->count == 7);
	assert_true(p->has_sum && p->sum == 8.5);
	assert_int_equal(p->scale, -4);
	assert_true(p->zero_count == 9);
	assert_int_equal(p->positive.offset, -3);
	assert_int_equal(p->positive.bucket_counts_len, 4);
	assert_true(p->positive.bucket_counts[0] == 1 && p->positive.bucket_counts[1] == 300 &&
	            p->positive.bucket_counts[2] == 5 && p->positive.bucket_counts[3] == 70000);
	assert_int_equal(p->negative.offset, 2);
	assert_int_equal(p->negative.bucket_counts_len, 2);
	assert_true(p->negative.bucket_counts[0] == UINT64_MAX &&
	            p->negative.bucket_counts[1] == 0);
	assert_int_equal(p->flags, 1);
	assert_int_equal(p->exemplars.len, 1);
	check_exemplar(&p->exemplars.items[0], false);
	assert_true(p->has_min && p->min == 0.125);
	assert_true(p->has_max && p->max == 100.0);
	assert_true(p->zero_threshold == 1e-9);
}

static void test_metrics_summary(void **state)
{
	(void)state;
	pb_t q1 = {0}, q2 = {0}, dp = {0}, su = {0}, mt = {0}, m = {0};
	f_double(&q1, 1, 0.5);
	f_double(&q1, 2, 10.0);
	unknown_fields(&q1);
	f_double(&q2, 1, 0.99);
	f_double(&q2, 2, 42.0);
	f_kv_str(&dp, 7, "k", "v");
	f_fixed64(&dp, 2, 1);
	f_fixed64(&dp, 3, 2);
	f_fixed64(&dp, 4, 3);
	f_double(&dp, 5, 4.5);
	f_msg(&dp, 6, &q1);
	f_msg(&dp, 6, &q2);
	f_varint(&dp, 8, 1);
	unknown_fields(&dp);
	f_msg(&su, 1, &dp);
	f_varint(&su, 2, 1); /* not a Summary field: skipped */
	f_str(&mt, 1, "rpc");
	f_msg(&mt, 11, &su);
	wrap_metric(&m, &mt);
	otf_metrics_t out;
	assert_int_equal(dec_metrics(&m, &out), 0);
	const otf_metric_t *g = &out.resource_metrics[0].scope_metrics[0].metrics[0];
	assert_int_equal(g->type, OTF_METRIC_SUMMARY);
	assert_int_equal(g->aggregation_temporality, 0);
	const otf_summary_data_point_t *p = &g->data_points.summary[0];
	assert_int_equal(p->attributes.len, 1);
	assert_true(p->start_time_unix_nano == 1 && p->time_unix_nano == 2 && p->count == 3);
	assert_true(p->sum == 4.5);
	assert_int_equal(p->quantile_values_len, 2);
	assert_true(p->quantile_values[0].quantile == 0.5 && p->quantile_values[0].value == 10.0);
	assert_true(p->quantile_values[1].quantile == 0.99 && p->quantile_values[1].value == 42.0);
	assert_int_equal(p->flags, 1);
}

/* ---- oneof and repeated singular fields ---- */

static void test_oneof_last_wins(void **state)
{
	(void)state;
	/* Metric.data: sum then gauge -> gauge, and the sum's temporality is gone */
	pb_t sum = {0}, gauge = {0}, dp = {0}, mt = {0}, m = {0};
	f_double(&dp, 4, 1.0);
	f_fixed64(&dp, 6, 9); /* NumberDataPoint.value: as_int wins */
	f_msg(&sum, 1, &dp);
	f_msg(&sum, 1, &dp);
	f_varint(&sum, 2, 2);
	f_varint(&sum, 3, 1);
	f_msg(&gauge, 1, &dp);
	f_msg(&mt, 7, &sum);
	f_msg(&mt, 5, &gauge);
	wrap_metric(&m, &mt);
	otf_metrics_t out;
	assert_int_equal(dec_metrics(&m, &out), 0);
	const otf_metric_t *g = &out.resource_metrics[0].scope_metrics[0].metrics[0];
	assert_int_equal(g->type, OTF_METRIC_GAUGE);
	assert_int_equal(g->data_points_len, 1);
	assert_int_equal(g->aggregation_temporality, 0);
	assert_false(g->is_monotonic);
	assert_int_equal(g->data_points.number[0].value_type, OTF_NUMBER_INT);
	assert_true(g->data_points.number[0].value.as_int == 9);
	/* gauge then sum */
	mt.n = 0;
	f_msg(&mt, 5, &gauge);
	f_msg(&mt, 7, &sum);
	wrap_metric(&m, &mt);
	assert_int_equal(dec_metrics(&m, &out), 0);
	g = &out.resource_metrics[0].scope_metrics[0].metrics[0];
	assert_int_equal(g->type, OTF_METRIC_SUM);
	assert_int_equal(g->data_points_len, 2);
	assert_int_equal(g->aggregation_temporality, 2);
	assert_true(g->is_monotonic);

	/* AnyValue: string, then int, then bool */
	pb_t any = {0}, rec = {0};
	f_str(&any, 1, "s");
	f_varint(&any, 3, 5);
	f_varint(&any, 2, 0);
	f_msg(&rec, 5, &any);
	wrap_log(&m, &rec);
	otf_logs_t logs;
	assert_int_equal(dec_logs(&m, &logs), 0);
	const otf_any_value_t *b = &logs.resource_logs[0].scope_logs[0].log_records[0].body;
	assert_int_equal(b->type, OTF_ANY_BOOL);
	assert_false(b->u.bool_value);
	/* ... then double */
	f_double(&any, 4, 7.0);
	rec.n = 0;
	f_msg(&rec, 5, &any);
	wrap_log(&m, &rec);
	assert_int_equal(dec_logs(&m, &logs), 0);
	b = &logs.resource_logs[0].scope_logs[0].log_records[0].body;
	assert_int_equal(b->type, OTF_ANY_DOUBLE);
	assert_true(b->u.double_value == 7.0);

	/* Exemplar: as_int then as_double */
	pb_t ex = {0};
	f_fixed64(&ex, 6, 3);
	f_double(&ex, 3, 2.0);
	dp.n = 0;
	f_msg(&dp, 5, &ex);
	gauge.n = 0;
	f_msg(&gauge, 1, &dp);
	mt.n = 0;
	f_msg(&mt, 5, &gauge);
	wrap_metric(&m, &mt);
	assert_int_equal(dec_metrics(&m, &out), 0);
	const otf_exemplar_t *e = &out.resource_metrics[0]
	                               .scope_metrics[0]
	                               .metrics[0]
	                               .data_points.number[0]
	                               .exemplars.items[0];
	assert_int_equal(e->value_type, OTF_NUMBER_DOUBLE);
	assert_true(e->value.as_double == 2.0);
}

static void test_singular_last_occurrence(void **state)
{
	(void)state;
	/* status twice: the second replaces the first whole (no merge) */
	pb_t st1 = {0}, st2 = {0}, sp = {0}, m = {0};
	f_str(&st1, 2, "first");
	f_varint(&st1, 3, 2);
	f_varint(&st2, 3, 1);
	f_msg(&sp, 15, &st1);
	f_msg(&sp, 15, &st2);
	f_str(&sp, 5, "a");
	f_str(&sp, 5, "b"); /* scalars: last wins, as in protobuf */
	wrap_span(&m, &sp);
	otf_traces_t t;
	assert_int_equal(dec_traces(&m, &t), 0);
	const otf_span_t *s = &t.resource_spans[0].scope_spans[0].spans[0];
	assert_int_equal(s->status.code, 1);
	assert_int_equal(s->status.message.len, 0);
	assert_str(s->name, "b");

	/* resource and body twice */
	pb_t r1 = {0}, r2 = {0}, rl = {0}, rec = {0}, b1 = {0}, b2 = {0}, sl = {0};
	f_kv_str(&r1, 1, "a", "1");
	f_varint(&r1, 2, 5);
	f_kv_str(&r2, 1, "b", "2");
	f_str(&b1, 1, "one");
	f_varint(&b2, 3, 2);
	f_msg(&rec, 5, &b1);
	f_msg(&rec, 5, &b2);
	f_msg(&sl, 2, &rec);
	f_msg(&rl, 1, &r1);
	f_msg(&rl, 2, &sl);
	f_msg(&rl, 1, &r2);
	m.n = 0;
	f_msg(&m, 1, &rl);
	otf_logs_t logs;
	assert_int_equal(dec_logs(&m, &logs), 0);
	const otf_resource_t *r = &logs.resource_logs[0].resource;
	assert_int_equal(r->attributes.len, 1);
	assert_str(r->attributes.items[0].key, "b");
	assert_int_equal(r->dropped_attributes_count, 0);
	const otf_any_value_t *b = &logs.resource_logs[0].scope_logs[0].log_records[0].body;
	assert_int_equal(b->type, OTF_ANY_INT);
	assert_true(b->u.int_value == 2);
}

static void test_response(void **state)
{
	(void)state;
	pb_t ps = {0}, m = {0};
	f_varint(&ps, 1, 42);
	f_str(&ps, 2, "quota");
	unknown_fields(&ps);
	f_msg(&m, 1, &ps);
	unknown_fields(&m);
	otf_export_response_t r;
	otf_pdata_error_t err;
	for (int s = 0; s < 3; s++) {
		assert_int_equal(otf_pdata_decode_response(&r, (otf_signal_t)s, m.b, m.n, &err), 0);
		assert_true(r.has_partial_success);
		assert_true(r.rejected == 42);
		assert_str(r.error_message, "quota");
	}
	/* empty response; empty partial_success */
	assert_int_equal(otf_pdata_decode_response(&r, OTF_SIGNAL_LOGS, NULL, 0, &err), 0);
	assert_false(r.has_partial_success);
	assert_true(r.rejected == 0);
	uint8_t empty_ps[] = {0x0a, 0x00};
	assert_int_equal(otf_pdata_decode_response(&r, OTF_SIGNAL_LOGS, empty_ps, 2, &err), 0);
	assert_true(r.has_partial_success);
	assert_true(r.rejected == 0 && r.error_message.len == 0);
	/* negative int64 (10-byte varint) */
	ps.n = 0;
	f_varint(&ps, 1, (uint64_t)-1);
	m.n = 0;
	f_msg(&m, 1, &ps);
	assert_int_equal(otf_pdata_decode_response(&r, OTF_SIGNAL_TRACES, m.b, m.n, &err), 0);
	assert_true(r.rejected == -1);
	/* errors */
	ps.n = 0;
	f_str(&ps, 1, "x");
	m.n = 0;
	f_msg(&m, 1, &ps);
	assert_int_equal(otf_pdata_decode_response(&r, OTF_SIGNAL_METRICS, m.b, m.n, &err),
	                 OTF_E_WIRETYPE);
	assert_string_equal(err.path, "partial_success.rejected_data_points");
	assert_int_equal(err.offset, 3);
	ps.n = 0;
	f_bytes(&ps, 2, "\xc0\xaf", 2);
	m.n = 0;
	f_msg(&m, 1, &ps);
	assert_int_equal(otf_pdata_decode_response(&r, OTF_SIGNAL_TRACES, m.b, m.n, &err),
	                 OTF_E_UTF8);
	assert_string_equal(err.path, "partial_success.error_message");
	assert_int_equal(err.offset, 4);
	assert_int_equal(otf_pdata_decode_response(&r, (otf_signal_t)7, m.b, m.n, &err),
	                 OTF_E_INVAL);
}

/* ---- bad input: code, path and offset ---- */

static void test_bad_truncated(void **state)
{
	(void)state;
	pb_t rec = {0}, m = {0};
	otf_logs_t logs;
	/* a varint value cut short */
	tag(&rec, 2, VARINT);
	raw(&rec, "\x80", 1);
	wrap_log(&m, &rec);
	assert_err(dec_logs(&m, &logs), OTF_E_TRUNCATED, LOG0 ".severity_number");
	assert_int_equal(C.err.offset, m.n - 1);
	/* a tag cut short */
	rec.n = 0;
	f_varint(&rec, 2, 1);
	raw(&rec, "\x85", 1);
	wrap_log(&m, &rec);
	assert_err(dec_logs(&m, &logs), OTF_E_TRUNCATED, LOG0);
	assert_int_equal(C.err.offset, m.n - 1);
	/* fixed64 and fixed32 cut short */
	rec.n = 0;
	tag(&rec, 1, I64);
	raw(&rec, "abc", 3);
	wrap_log(&m, &rec);
	assert_err(dec_logs(&m, &logs), OTF_E_TRUNCATED, LOG0 ".time_unix_nano");
	assert_int_equal(C.err.offset, m.n - 3);
	rec.n = 0;
	tag(&rec, 8, I32);
	raw(&rec, "ab", 2);
	wrap_log(&m, &rec);
	assert_err(dec_logs(&m, &logs), OTF_E_TRUNCATED, LOG0 ".flags");
	/* an unknown fixed64 cut short */
	rec.n = 0;
	tag(&rec, 99, I64);
	raw(&rec, "abc", 3);
	wrap_log(&m, &rec);
	assert_err(dec_logs(&m, &logs), OTF_E_TRUNCATED, LOG0);
	/* a packed varint cut short in exponential histogram buckets */
	pb_t b = {0}, dp = {0}, eh = {0}, mt = {0};
	tag(&b, 2, LEN);
	varint(&b, 2);
	raw(&b, "\x05\x80", 2);
	f_msg(&dp, 8, &b);
	f_msg(&eh, 1, &dp);
	f_msg(&mt, 10, &eh);
	wrap_metric(&m, &mt);
	otf_metrics_t out;
	assert_err(dec_metrics(&m, &out), OTF_E_TRUNCATED,
	           METRIC0 ".exponential_histogram.data_points[0].positive.bucket_counts");
	assert_int_equal(C.err.offset, m.n - 1);
}

static void test_bad_varint(void **state)
{
	(void)state;
	pb_t rec = {0}, m = {0};
	otf_logs_t logs;
	/* 11 bytes */
	tag(&rec, 7, VARINT);
	raw(&rec, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11);
	wrap_log(&m, &rec);
	assert_err(dec_logs(&m, &logs), OTF_E_VARINT, LOG0 ".dropped_attributes_count");
	assert_int_equal(C.err.offset, m.n - 11);
	/* 10 bytes with bits beyond 64 */
	rec.n = 0;
	tag(&rec, 7, VARINT);
	raw(&rec, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10);
	wrap_log(&m, &rec);
	assert_err(dec_logs(&m, &logs), OTF_E_VARINT, LOG0 ".dropped_attributes_count");
	/* as a tag */
	rec.n = 0;
	raw(&rec, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11);
	wrap_log(&m, &rec);
	assert_err(dec_logs(&m, &logs), OTF_E_VARINT, LOG0);
	assert_int_equal(C.err.offset, m.n - 11);
	/* as a length */
	rec.n = 0;
	tag(&rec, 3, LEN);
	raw(&rec, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11);
	wrap_log(&m, &rec);
	assert_err(dec_logs(&m, &logs), OTF_E_VARINT, LOG0 ".severity_text");
	/* 10 bytes holding -1 is fine */
	rec.n = 0;
	f_varint(&rec, 2, (uint64_t)-1);
	wrap_log(&m, &rec);
	assert_int_equal(dec_logs(&m, &logs), 0);
	assert_int_equal(logs.resource_logs[0].scope_logs[0].log_records[0].severity_number, -1);
}

static void test_bad_length(void **state)
{
	(void)state;
	pb_t rec = {0}, m = {0};
	otf_logs_t logs;
	tag(&rec, 3, LEN);
	varint(&rec, 50);
	raw(&rec, "abc", 3);
	wrap_log(&m, &rec);
	assert_err(dec_logs(&m, &logs), OTF_E_LENGTH, LOG0 ".severity_text");
	assert_int_equal(C.err.offset, m.n - 4);
	assert_non_null(strstr(C.err.detail, "length 50, 3 bytes left"));
	/* a sub-message's length past the end of its parent */
	m.n = 0;
	tag(&m, 1, LEN);
	varint(&m, 3);
	raw(&m, "\x12\x05\x00", 3);
	assert_err(dec_logs(&m, &logs), OTF_E_LENGTH, "resource_logs[0].scope_logs");
	assert_int_equal(C.err.offset, 3);
	/* at the top level */
	m.n = 0;
	tag(&m, 1, LEN);
	varint(&m, 1);
	assert_err(dec_logs(&m, &logs), OTF_E_LENGTH, "resource_logs");
	assert_int_equal(C.err.offset, 1);
	/* unknown field */
	rec.n = 0;
	tag(&rec, 77, LEN);
	varint(&rec, 9);
	wrap_log(&m, &rec);
	assert_err(dec_logs(&m, &logs), OTF_E_LENGTH, LOG0);
	assert_int_equal(C.err.offset, m.n - 1);
	assert_non_null(strstr(C.err.detail, "unknown field 77: length 9, 0 bytes left"));
	/* packed fixed64 not a multiple of 8 */
	pb_t dp = {0}, h = {0}, mt = {0};
	f_bytes(&dp, 6, "1234567", 7);
	f_msg(&h, 1, &dp);
	f_msg(&mt, 9, &h);
	wrap_metric(&m, &mt);
	otf_metrics_t out;
	assert_err(dec_metrics(&m, &out), OTF_E_LENGTH,
	           METRIC0 ".histogram.data_points[0].bucket_counts");
	assert_int_equal(C.err.offset, m.n - 7);
	/* a second resource_logs fails: its index is in the path */
	pb_t rl = {0};
	m.n = 0;
	f_msg(&m, 1, &rl);
	tag(&rl, 3, LEN);
	varint(&rl, 4);
	f_msg(&m, 1, &rl);
	assert_err(dec_logs(&m, &logs), OTF_E_LENGTH, "resource_logs[1].schema_url");
}

typedef enum { SIG_LOGS, SIG_TRACES, SIG_METRICS } sig_t;

typedef struct wt_case {
	sig_t sig;
	const char *path;
	void (*build)(pb_t *m);
} wt_case_t;

static int dec_any_sig(sig_t sig, const pb_t *m)
{
	otf_logs_t l;
	otf_traces_t t;
	otf_metrics_t x;
	switch (sig) {
	case SIG_LOGS:
		return dec_logs(m, &l);
	case SIG_TRACES:
		return dec_traces(m, &t);
	default:
		return dec_metrics(m, &x);
	}
}

static void wt_log_string(pb_t *m)
{
	pb_t rec = {0};
	f_fixed64(&rec, 3, 1);
	wrap_log(m, &rec);
}

static void wt_log_body(pb_t *m)
{
	pb_t rec = {0};
	f_varint(&rec, 5, 1);
	wrap_log(m, &rec);
}

static void wt_log_fixed64(pb_t *m)
{
	pb_t rec = {0};
	f_varint(&rec, 11, 1);
	wrap_log(m, &rec);
}

static void wt_log_fixed32(pb_t *m)
{
	pb_t rec = {0};
	f_fixed64(&rec, 8, 1);
	wrap_log(m, &rec);
}

static void wt_log_enum(pb_t *m)
{
	pb_t rec = {0};
	f_fixed32(&rec, 2, 1);
	wrap_log(m, &rec);
}

static void wt_attr(pb_t *m)
{
	pb_t rec = {0};
	f_kv_str(&rec, 6, "a", "b");
	f_fixed32(&rec, 6, 1);
	wrap_log(m, &rec);
}

static void wt_any_int(pb_t *m)
{
	pb_t rec = {0}, any = {0};
	f_str(&any, 3, "x");
	f_msg(&rec, 5, &any);
	wrap_log(m, &rec);
}

static void wt_kv_key(pb_t *m)
{
	pb_t rec = {0}, kv = {0};
	f_varint(&kv, 1, 1);
	f_msg(&rec, 6, &kv);
	wrap_log(m, &rec);
}

static void wt_group_known(pb_t *m)
{
	pb_t rec = {0};
	tag(&rec, 3, SGROUP);
	tag(&rec, 3, EGROUP);
	wrap_log(m, &rec);
}

static void wt_span_id(pb_t *m)
{
	pb_t sp = {0};
	f_varint(&sp, 1, 1);
	wrap_span(m, &sp);
}

static void wt_span_status(pb_t *m)
{
	pb_t sp = {0};
	f_fixed32(&sp, 15, 1);
	wrap_span(m, &sp);
}

static void wt_span_status_code(pb_t *m)
{
	pb_t sp = {0}, st = {0};
	f_str(&st, 3, "x");
	f_msg(&sp, 15, &st);
	wrap_span(m, &sp);
}

static void wt_link_flags(pb_t *m)
{
	pb_t sp = {0}, ln = {0};
	f_varint(&ln, 6, 1);
	f_msg(&sp, 13, &ln);
	wrap_span(m, &sp);
}

static void wt_event_time(pb_t *m)
{
	pb_t sp = {0}, ev = {0};
	f_fixed32(&ev, 1, 1);
	f_msg(&sp, 11, &ev);
	wrap_span(m, &sp);
}

static void wt_scope_name(pb_t *m)
{
	pb_t sp = {0}, sc = {0}, ss = {0}, rs = {0};
	(void)sp;
	f_varint(&sc, 1, 1);
	f_msg(&ss, 1, &sc);
	f_msg(&rs, 2, &ss);
	m->n = 0;
	f_msg(m, 1, &rs);
}

static void wt_resource_dropped(pb_t *m)
{
	pb_t res = {0}, rs = {0};
	f_fixed64(&res, 2, 1);
	f_msg(&rs, 1, &res);
	m->n = 0;
	f_msg(m, 1, &rs);
}

static void wt_metric_gauge(pb_t *m)
{
	pb_t mt = {0};
	f_varint(&mt, 5, 1);
	wrap_metric(m, &mt);
}

static void wt_dp_double(pb_t *m)
{
	pb_t mt = {0}, g = {0}, dp = {0};
	f_varint(&dp, 4, 1);
	f_msg(&g, 1, &dp);
	f_msg(&mt, 5, &g);
	wrap_metric(m, &mt);
}

static void wt_sum_monotonic(pb_t *m)
{
	pb_t mt = {0}, s = {0};
	f_fixed64(&s, 3, 1);
	f_msg(&mt, 7, &s);
	wrap_metric(m, &mt);
}

static void wt_hist_buckets(pb_t *m)
{
	pb_t mt = {0}, h = {0}, dp = {0};
	f_varint(&dp, 6, 1);
	f_msg(&h, 1, &dp);
	f_msg(&mt, 9, &h);
	wrap_metric(m, &mt);
}

static void wt_hist_bounds(pb_t *m)
{
	pb_t mt = {0}, h = {0}, dp = {0};
	f_fixed32(&dp, 7, 1);
	f_msg(&h, 1, &dp);
	f_msg(&mt, 9, &h);
	wrap_metric(m, &mt);
}

static void wt_exp_buckets(pb_t *m)
{
	pb_t mt = {0}, eh = {0}, dp = {0}, b = {0};
	f_fixed64(&b, 2, 1);
	f_msg(&dp, 9, &b);
	f_msg(&eh, 1, &dp);
	f_msg(&mt, 10, &eh);
	wrap_metric(m, &mt);
}

static void wt_exp_scale(pb_t *m)
{
	pb_t mt = {0}, eh = {0}, dp = {0};
	f_fixed32(&dp, 6, 1);
	f_msg(&eh, 1, &dp);
	f_msg(&mt, 10, &eh);
	wrap_metric(m, &mt);
}

static void wt_summary_quantile(pb_t *m)
{
	pb_t mt = {0}, su = {0}, dp = {0}, q = {0};
	f_varint(&q, 2, 1);
	f_msg(&dp, 6, &q);
	f_msg(&su, 1, &dp);
	f_msg(&mt, 11, &su);
	wrap_metric(m, &mt);
}

static void wt_exemplar_as_int(pb_t *m)
{
	pb_t mt = {0}, g = {0}, dp = {0}, ex = {0};
	f_varint(&ex, 6, 1);
	f_msg(&dp, 5, &ex);
	f_msg(&g, 1, &dp);
	f_msg(&mt, 5, &g);
	wrap_metric(m, &mt);
}

static void wt_entity_keys(pb_t *m)
{
	pb_t res = {0}, er = {0}, rm = {0};
	f_str(&er, 3, "ok");
	f_varint(&er, 3, 1);
	f_msg(&res, 3, &er);
	f_msg(&rm, 1, &res);
	m->n = 0;
	f_msg(m, 1, &rm);
}

static void test_bad_wire_type(void **state)
{
	(void)state;
	static const wt_case_t cases[] = {
	    {SIG_LOGS, LOG0 ".severity_text", wt_log_string},
	    {SIG_LOGS, LOG0 ".body", wt_log_body},
	    {SIG_LOGS, LOG0 ".observed_time_unix_nano", wt_log_fixed64},
	    {SIG_LOGS, LOG0 ".flags", wt_log_fixed32},
	    {SIG_LOGS, LOG0 ".severity_number", wt_log_enum},
	    {SIG_LOGS, LOG0 ".attributes", wt_attr},
	    {SIG_LOGS, LOG0 ".body.int_value", wt_any_int},
	    {SIG_LOGS, LOG0 ".attributes[0].key", wt_kv_key},
	    {SIG_LOGS, LOG0 ".severity_text", wt_group_known},
	    {SIG_TRACES, SPAN0 ".trace_id", wt_span_id},
	    {SIG_TRACES, SPAN0 ".status", wt_span_status},
	    {SIG_TRACES, SPAN0 ".status.code", wt_span_status_code},
	    {SIG_TRACES, SPAN0 ".links[0].flags", wt_link_flags},
	    {SIG_TRACES, SPAN0 ".events[0].time_unix_nano", wt_event_time},
	    {SIG_TRACES, "resource_spans[0].scope_spans[0].scope.name", wt_scope_name},
	    {SIG_TRACES, "resource_spans[0].resource.dropped_attributes_count",
	     wt_resource_dropped},
	    {SIG_METRICS, METRIC0 ".gauge", wt_metric_gauge},
	    {SIG_METRICS, METRIC0 ".gauge.data_points[0].as_double", wt_dp_double},
	    {SIG_METRICS, METRIC0 ".sum.is_monotonic", wt_sum_monotonic},
	    {SIG_METRICS, METRIC0 ".histogram.data_points[0].bucket_counts", wt_hist_buckets},
	    {SIG_METRICS, METRIC0 ".histogram.data_points[0].explicit_bounds", wt_hist_bounds},
	    {SIG_METRICS, METRIC0 ".exponential_histogram.data_points[0].negative.bucket_counts",
	     wt_exp_buckets},
	    {SIG_METRICS, METRIC0 ".exponential_histogram.data_points[0].scale", wt_exp_scale},
	    {SIG_METRICS, METRIC0 ".summary.data_points[0].quantile_values[0].value",
	     wt_summary_quantile},
	    {SIG_METRICS, METRIC0 ".gauge.data_points[0].exemplars[0].as_int", wt_exemplar_as_int},
	    {SIG_METRICS, "resource_metrics[0].resource.entity_refs[0].id_keys[1]", wt_entity_keys},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		pb_t m = {0};
		cases[i].build(&m);
		assert_err(dec_any_sig(cases[i].sig, &m), OTF_E_WIRETYPE, cases[i].path);
		assert_true(C.err.offset > 0 && C.err.offset < m.n);
		assert_non_null(strstr(C.err.detail, "expected"));
	}
}

typedef struct utf8_case {
	sig_t sig;
	const char *path;
	void (*build)(pb_t *m, const char *bad);
} utf8_case_t;

static void u_key(pb_t *m, const char *bad)
{
	pb_t rec = {0};
	f_kv_str(&rec, 6, "fine", "fine");
	f_kv_str(&rec, 6, bad, "v");
	wrap_log(m, &rec);
}

static void u_string_value(pb_t *m, const char *bad)
{
	pb_t rec = {0};
	f_kv_str(&rec, 6, "k", bad);
	wrap_log(m, &rec);
}

static void u_nested_value(pb_t *m, const char *bad)
{
	pb_t rec = {0}, any = {0}, arr = {0}, v = {0};
	f_str(&v, 1, "good");
	f_msg(&arr, 1, &v);
	v.n = 0;
	f_str(&v, 1, bad);
	f_msg(&arr, 1, &v);
	f_msg(&any, 5, &arr);
	f_msg(&rec, 5, &any);
	wrap_log(m, &rec);
}

static void u_severity_text(pb_t *m, const char *bad)
{
	pb_t rec = {0};
	f_str(&rec, 3, bad);
	wrap_log(m, &rec);
}

static void u_event_name(pb_t *m, const char *bad)
{
	pb_t rec = {0};
	f_str(&rec, 12, bad);
	wrap_log(m, &rec);
}

static void u_log_schema_url(pb_t *m, const char *bad)
{
	pb_t sl = {0}, rl = {0};
	f_str(&sl, 3, bad);
	f_msg(&rl, 2, &sl);
	m->n = 0;
	f_msg(m, 1, &rl);
}

static void u_scope_version(pb_t *m, const char *bad)
{
	pb_t sc = {0}, sl = {0}, rl = {0};
	f_str(&sc, 2, bad);
	f_msg(&sl, 1, &sc);
	f_msg(&rl, 2, &sl);
	m->n = 0;
	f_msg(m, 1, &rl);
}

static void u_entity_type(pb_t *m, const char *bad)
{
	pb_t er = {0}, res = {0}, rl = {0};
	f_str(&er, 2, bad);
	f_msg(&res, 3, &er);
	f_msg(&rl, 1, &res);
	m->n = 0;
	f_msg(m, 1, &rl);
}

static void u_entity_desc_key(pb_t *m, const char *bad)
{
	pb_t er = {0}, res = {0}, rl = {0};
	f_str(&er, 4, bad);
	f_msg(&res, 3, &er);
	f_msg(&rl, 1, &res);
	m->n = 0;
	f_msg(m, 1, &rl);
}

static void u_span_name(pb_t *m, const char *bad)
{
	pb_t sp = {0};
	f_str(&sp, 5, bad);
	wrap_span(m, &sp);
}

static void u_trace_state(pb_t *m, const char *bad)
{
	pb_t sp = {0};
	f_str(&sp, 3, bad);
	wrap_span(m, &sp);
}

static void u_status_message(pb_t *m, const char *bad)
{
	pb_t sp = {0}, st = {0};
	f_str(&st, 2, bad);
	f_msg(&sp, 15, &st);
	wrap_span(m, &sp);
}

static void u_link_trace_state(pb_t *m, const char *bad)
{
	pb_t sp = {0}, ln = {0};
	f_str(&ln, 3, bad);
	f_msg(&sp, 13, &ln);
	wrap_span(m, &sp);
}

static void u_event_name_span(pb_t *m, const char *bad)
{
	pb_t sp = {0}, ev = {0};
	f_str(&ev, 2, bad);
	f_msg(&sp, 11, &ev);
	wrap_span(m, &sp);
}

static void u_metric_desc(pb_t *m, const char *bad)
{
	pb_t mt = {0};
	f_str(&mt, 2, bad);
	wrap_metric(m, &mt);
}

static void u_metric_unit(pb_t *m, const char *bad)
{
	pb_t mt = {0};
	f_str(&mt, 3, bad);
	wrap_metric(m, &mt);
}

static void u_exemplar_attr(pb_t *m, const char *bad)
{
	pb_t mt = {0}, g = {0}, dp = {0}, ex = {0};
	f_kv_str(&ex, 7, bad, "v");
	f_msg(&dp, 5, &ex);
	f_msg(&g, 1, &dp);
	f_msg(&mt, 5, &g);
	wrap_metric(m, &mt);
}

static void test_bad_utf8(void **state)
{
	(void)state;
	static const utf8_case_t cases[] = {
	    {SIG_LOGS, LOG0 ".attributes[1].key", u_key},
	    {SIG_LOGS, LOG0 ".attributes[0].value.string_value", u_string_value},
	    {SIG_LOGS, LOG0 ".body.array_value.values[1].string_value", u_nested_value},
	    {SIG_LOGS, LOG0 ".severity_text", u_severity_text},
	    {SIG_LOGS, LOG0 ".event_name", u_event_name},
	    {SIG_LOGS, "resource_logs[0].scope_logs[0].schema_url", u_log_schema_url},
	    {SIG_LOGS, "resource_logs[0].scope_logs[0].scope.version", u_scope_version},
	    {SIG_LOGS, "resource_logs[0].resource.entity_refs[0].type", u_entity_type},
	    {SIG_LOGS, "resource_logs[0].resource.entity_refs[0].description_keys[0]",
	     u_entity_desc_key},
	    {SIG_TRACES, SPAN0 ".name", u_span_name},
	    {SIG_TRACES, SPAN0 ".trace_state", u_trace_state},
	    {SIG_TRACES, SPAN0 ".status.message", u_status_message},
	    {SIG_TRACES, SPAN0 ".links[0].trace_state", u_link_trace_state},
	    {SIG_TRACES, SPAN0 ".events[0].name", u_event_name_span},
	    {SIG_METRICS, METRIC0 ".description", u_metric_desc},
	    {SIG_METRICS, METRIC0 ".unit", u_metric_unit},
	    {SIG_METRICS, METRIC0 ".gauge.data_points[0].exemplars[0].filtered_attributes[0].key",
	     u_exemplar_attr},
	};
	/* overlong NUL, UTF-16 surrogate, truncated 3-byte sequence, a byte
	 * that never occurs, code point above U+10FFFF; each after 9 ASCII
	 * bytes so the word-at-a-time path is crossed */
	static const char *const bad[] = {"ok-------\xc0\x80", "ok-------\xed\xa0\x80",
	                                  "ok-------\xe2\x82", "ok-------\xff",
	                                  "ok-------\xf4\x90\x80\x80"};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
			pb_t m = {0};
			cases[i].build(&m, bad[k]);
			assert_err(dec_any_sig(cases[i].sig, &m), OTF_E_UTF8, cases[i].path);
			/* the offset is the first bad byte */
			assert_int_equal(C.err.offset, find(&m, bad[k], strlen(bad[k])) + 9);
		}
		/* and valid multi-byte text is accepted */
		pb_t m = {0};
		cases[i].build(&m, "ok \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf");
		assert_int_equal(dec_any_sig(cases[i].sig, &m), 0);
	}
}

/* body: `levels` nested arrays around a string */
static void nested_body(pb_t *m, int levels, bool kvlist)
{
	pb_t cur = {0}, next = {0}, wrap = {0}, rec = {0};
	f_str(&cur, 1, "leaf");
	for (int i = 0; i < levels; i++) {
		wrap.n = 0;
		next.n = 0;
		if (kvlist) {
			f_str(&wrap, 1, "k");
			f_msg(&wrap, 2, &cur);
		} else {
			raw(&wrap, cur.b, cur.n);
		}
		f_bytes(&next, 1, wrap.b, wrap.n);
		cur.n = 0;
		f_msg(&cur, kvlist ? 6 : 5, &next);
	}
	f_msg(&rec, 5, &cur);
	wrap_log(m, &rec);
}

static void test_bad_depth(void **state)
{
	(void)state;
	pb_t m = {0};
	otf_logs_t logs;
	C.limits.max_depth = 3;
	nested_body(&m, 2, false); /* depth 3: at the limit */
	assert_int_equal(dec_logs(&m, &logs), 0);
	nested_body(&m, 3, false);
	assert_err(dec_logs(&m, &logs), OTF_E_DEPTH,
	           LOG0 ".body.array_value.values[0].array_value.values[0].array_value.values[0]");
	nested_body(&m, 3, true);
	assert_err(dec_logs(&m, &logs), OTF_E_DEPTH,
	           LOG0 ".body.kvlist_value.values[0].value.kvlist_value.values[0].value"
	                ".kvlist_value.values[0].value");
	/* attributes start at depth 1 too */
	pb_t rec = {0}, kv = {0}, any = {0}, arr = {0}, leaf = {0}, arr2 = {0};
	f_str(&leaf, 1, "x");
	f_msg(&arr, 1, &leaf);
	f_msg(&any, 5, &arr);
	f_msg(&arr2, 1, &any);
	m.n = 0;
	f_msg(&m, 5, &arr2); /* array(array(x)): depth 3 */
	f_str(&kv, 1, "k");
	f_bytes(&kv, 2, m.b, m.n);
	f_msg(&rec, 6, &kv);
	wrap_log(&m, &rec);
	assert_int_equal(dec_logs(&m, &logs), 0);
	C.limits.max_depth = 2;
	assert_err(dec_logs(&m, &logs), OTF_E_DEPTH,
	           LOG0 ".attributes[0].value.array_value.values[0].array_value.values[0]");
	/* the default limit: 32 */
	C.limits.max_depth = 0;
	nested_body(&m, 31, false);
	assert_int_equal(dec_logs(&m, &logs), 0);
	nested_body(&m, 32, true);
	assert_int_equal(dec_logs(&m, &logs), OTF_E_DEPTH);
	assert_int_equal(otf_pdata_decode_logs(&logs, m.b, m.n, &C.arena, NULL, NULL), OTF_E_DEPTH);
}

static void test_bad_ids(void **state)
{
	(void)state;
	static const uint8_t id15[15] = {0x5a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
	static const uint8_t id17[17] = {0x5b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
	static const uint8_t id7[7] = {0x5c, 1, 2, 3, 4, 5, 6};
	static const uint8_t id9[9] = {0x5d, 1, 2, 3, 4, 5, 6, 7, 8};
	pb_t sp = {0}, m = {0}, ln = {0};
	otf_traces_t t;
	struct {
		uint32_t field;
		const uint8_t *id;
		size_t n;
		const char *path;
	} span_cases[] = {
	    {1, id15, 15, SPAN0 ".trace_id"},     {1, id17, 17, SPAN0 ".trace_id"},
	    {1, SID, 8, SPAN0 ".trace_id"},       {2, id7, 7, SPAN0 ".span_id"},
	    {2, TID, 16, SPAN0 ".span_id"},       {4, id7, 7, SPAN0 ".parent_span_id"},
	    {4, id9, 9, SPAN0 ".parent_span_id"},
	};
	for (size_t i = 0; i < sizeof span_cases / sizeof span_cases[0]; i++) {
		sp.n = 0;
		f_str(&sp, 5, "name");
		f_bytes(&sp, span_cases[i].field, span_cases[i].id, span_cases[i].n);
		wrap_span(&m, &sp);
		assert_err(dec_traces(&m, &t), OTF_E_ID_LENGTH, span_cases[i].path);
		assert_int_equal(C.err.offset, find(&m, span_cases[i].id, span_cases[i].n));
	}
	/* links */
	f_bytes(&ln, 1, id15, 15);
	sp.n = 0;
	f_msg(&sp, 13, &ln);
	wrap_span(&m, &sp);
	assert_err(dec_traces(&m, &t), OTF_E_ID_LENGTH, SPAN0 ".links[0].trace_id");
	assert_non_null(strstr(C.err.detail, "16 bytes or empty, got 15"));
	ln.n = 0;
	f_bytes(&ln, 1, TID, 16);
	f_bytes(&ln, 2, id7, 7);
	sp.n = 0;
	f_msg(&sp, 13, &ln);
	f_msg(&sp, 13, &ln);
	wrap_span(&m, &sp);
	assert_err(dec_traces(&m, &t), OTF_E_ID_LENGTH, SPAN0 ".links[0].span_id");
	/* log records */
	pb_t rec = {0};
	otf_logs_t logs;
	f_bytes(&rec, 9, id15, 15);
	wrap_log(&m, &rec);
	assert_err(dec_logs(&m, &logs), OTF_E_ID_LENGTH, LOG0 ".trace_id");
	assert_int_equal(C.err.offset, find(&m, id15, 15));
	rec.n = 0;
	f_bytes(&rec, 10, id7, 7);
	wrap_log(&m, &rec);
	assert_err(dec_logs(&m, &logs), OTF_E_ID_LENGTH, LOG0 ".span_id");
	/* exemplars */
	pb_t ex = {0}, dp = {0}, g = {0}, mt = {0};
	otf_metrics_t out;
	f_bytes(&ex, 4, id7, 7);
	f_msg(&dp, 5, &ex);
	f_msg(&g, 1, &dp);
	f_msg(&mt, 5, &g);
	wrap_metric(&m, &mt);
	assert_err(dec_metrics(&m, &out), OTF_E_ID_LENGTH,
	           METRIC0 ".gauge.data_points[0].exemplars[0].span_id");
	ex.n = dp.n = g.n = mt.n = 0;
	f_bytes(&ex, 5, id15, 15);
	f_msg(&dp, 11, &ex);
	f_msg(&g, 1, &dp);
	f_msg(&mt, 10, &g);
	wrap_metric(&m, &mt);
	assert_err(dec_metrics(&m, &out), OTF_E_ID_LENGTH,
	           METRIC0 ".exponential_histogram.data_points[0].exemplars[0].trace_id");
	assert_int_equal(C.err.offset, find(&m, id15, 15));
}

static void test_bad_tags(void **state)
{
	(void)state;
	pb_t rec = {0}, m = {0};
	otf_logs_t logs;
	/* groups and wire types 6, 7 for unknown fields */
	static const uint32_t wts[] = {SGROUP, EGROUP, 6, 7};
	for (size_t i = 0; i < 4; i++) {
		rec.n = 0;
		f_varint(&rec, 2, 1);
		tag(&rec, 50, wts[i]);
		f_varint(&rec, 2, 1);
		tag(&rec, 50, EGROUP);
		wrap_log(&m, &rec);
		assert_err(dec_logs(&m, &logs), OTF_E_WIRETYPE, LOG0);
		assert_int_equal(C.err.offset, m.n - 6);
		assert_non_null(strstr(C.err.detail, "field 50"));
	}
	/* field number 0, in a nested message and at the top */
	rec.n = 0;
	f_varint(&rec, 0, 1);
	wrap_log(&m, &rec);
	assert_err(dec_logs(&m, &logs), OTF_E_FIELD_NUMBER, LOG0);
	assert_int_equal(C.err.offset, m.n - 2);
	m.n = 0;
	f_bytes(&m, 0, "", 0);
	assert_err(dec_logs(&m, &logs), OTF_E_FIELD_NUMBER, "");
	assert_int_equal(C.err.offset, 0);
	/* a tag above 32 bits */
	m.n = 0;
	varint(&m, (uint64_t)1 << 35);
	assert_err(dec_logs(&m, &logs), OTF_E_FIELD_NUMBER, "");
	/* the largest field number is fine (unknown, skipped) */
	m.n = 0;
	f_varint(&m, (1u << 29) - 1, 5);
	assert_int_equal(dec_logs(&m, &logs), 0);
	assert_int_equal(logs.resource_logs_len, 0);
}

static void test_too_large(void **state)
{
	(void)state;
	pb_t rec = {0}, m = {0};
	otf_logs_t logs;
	otf_traces_t t;
	otf_metrics_t x;
	f_str(&rec, 3, "INFO");
	wrap_log(&m, &rec);
	C.limits.max_input_bytes = m.n;
	assert_int_equal(dec_logs(&m, &logs), 0);
	C.limits.max_input_bytes = m.n - 1;
	assert_err(dec_logs(&m, &logs), OTF_E_TOO_LARGE, "");
	assert_int_equal(C.err.offset, 0);
	assert_err(dec_traces(&m, &t), OTF_E_TOO_LARGE, "");
	assert_err(dec_metrics(&m, &x), OTF_E_TOO_LARGE, "");
	/* checked before anything is read: garbage gets the same answer */
	memset(m.b, 0xff, m.n);
	assert_err(dec_logs(&m, &logs), OTF_E_TOO_LARGE, "");
}

/* ---- allocation failure ---- */

static void nomem_run(sig_t sig, const pb_t *m)
{
	otf_alloc_stats_t before, after;
	otf_alloc_stats(&before);
	int k;
	for (k = 0; k < 100000; k++) {
		otf_arena_t a;
		otf_pdata_error_t err;
		otf_logs_t l;
		otf_traces_t t;
		otf_metrics_t x;
		otf_arena_init(&a, 64);
		otf_alloc_fail_after(k);
		int rc = sig == SIG_LOGS ? otf_pdata_decode_logs(&l, m->b, m->n, &a, NULL, &err)
		         : sig == SIG_TRACES
		             ? otf_pdata_decode_traces(&t, m->b, m->n, &a, NULL, &err)
		             : otf_pdata_decode_metrics(&x, m->b, m->n, &a, NULL, &err);
		otf_alloc_fail_after(-1);
		otf_arena_close(&a);
		if (rc == 0)
			break;
		assert_int_equal(rc, OTF_E_NOMEM);
		assert_int_equal(err.code, OTF_E_NOMEM);
	}
	assert_true(k > 5); /* the tiny chunks made several allocations fail */
	otf_alloc_stats(&after);
	assert_true(after.bytes_in_use == before.bytes_in_use);
}

static void build_traces_full(pb_t *m)
{
	pb_t sp = {0}, ss = {0}, rs = {0}, res = {0}, sc = {0};
	build_span_full(&sp);
	build_resource(&res);
	build_scope(&sc);
	f_msg(&ss, 1, &sc);
	f_msg(&ss, 2, &sp);
	f_msg(&ss, 2, &sp);
	f_msg(&rs, 1, &res);
	f_msg(&rs, 2, &ss);
	m->n = 0;
	f_msg(m, 1, &rs);
}

/* One metric of each kind, with packed and unpacked repeated scalars. */
static void build_metrics_full(pb_t *m)
{
	pb_t ex = {0}, dp = {0}, d = {0}, mt = {0}, sm = {0}, rm = {0}, res = {0}, b = {0};
	uint64_t bc[3] = {1, 2, 3};
	build_exemplar(&ex, false);
	build_resource(&res);
	f_msg(&rm, 1, &res);
	f_kv_str(&dp, 7, "k", "v");
	f_double(&dp, 4, 1.5);
	f_msg(&dp, 5, &ex);
	f_msg(&d, 1, &dp);
	f_msg(&mt, 5, &d);
	f_msg(&sm, 2, &mt);
	f_varint(&d, 2, 1);
	f_varint(&d, 3, 1);
	mt.n = 0;
	f_msg(&mt, 7, &d);
	f_msg(&sm, 2, &mt);
	dp.n = d.n = mt.n = 0;
	f_kv_str(&dp, 9, "k", "v");
	f_bytes(&dp, 6, bc, sizeof bc);
	f_fixed64(&dp, 6, 4);
	f_double(&dp, 7, 1.0);
	f_msg(&dp, 8, &ex);
	f_double(&dp, 11, 0.5);
	f_msg(&d, 1, &dp);
	f_msg(&mt, 9, &d);
	f_msg(&sm, 2, &mt);
	dp.n = d.n = mt.n = 0;
	f_sint(&b, 1, -1);
	f_bytes(&b, 2, "\x01\x82\x01\x03", 4);
	f_varint(&b, 2, 9);
	f_kv_str(&dp, 1, "k", "v");
	f_msg(&dp, 8, &b);
	f_msg(&dp, 9, &b);
	f_msg(&dp, 11, &ex);
	f_msg(&d, 1, &dp);
	f_msg(&mt, 10, &d);
	f_msg(&sm, 2, &mt);
	dp.n = d.n = mt.n = b.n = 0;
	f_double(&b, 1, 0.5);
	f_kv_str(&dp, 7, "k", "v");
	f_msg(&dp, 6, &b);
	f_msg(&dp, 6, &b);
	f_msg(&d, 1, &dp);
	f_msg(&mt, 11, &d);
	f_kv_str(&mt, 12, "meta", "x");
	f_msg(&sm, 2, &mt);
	f_msg(&rm, 2, &sm);
	m->n = 0;
	f_msg(m, 1, &rm);
}

static void test_nomem(void **state)
{
	(void)state;
	pb_t m = {0};
	build_logs_full(&m);
	nomem_run(SIG_LOGS, &m);
	build_traces_full(&m);
	nomem_run(SIG_TRACES, &m);
	build_metrics_full(&m);
	nomem_run(SIG_METRICS, &m);
}

/* ---- every prefix and many single-byte mutations: no crash, no read
 * past the end, and every failure carries a consistent error ---- */

static void sweep_one(sig_t sig, const uint8_t *b, size_t n)
{
	otf_arena_reset(&C.arena);
	pb_t tmp;
	memcpy(tmp.b, b, n);
	tmp.n = n;
	int rc = dec_any_sig(sig, &tmp);
	if (rc == 0)
		return;
	assert_true(rc == OTF_E_TRUNCATED || rc == OTF_E_VARINT || rc == OTF_E_WIRETYPE ||
	            rc == OTF_E_LENGTH || rc == OTF_E_UTF8 || rc == OTF_E_DEPTH ||
	            rc == OTF_E_ID_LENGTH || rc == OTF_E_FIELD_NUMBER);
	assert_int_equal(C.err.code, rc);
	assert_true(C.err.offset <= n);
}

static void sweep(sig_t sig, const pb_t *m)
{
	for (size_t n = 0; n <= m->n; n++)
		sweep_one(sig, m->b, n);
	static const uint8_t subst[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 0x0a, 0x12, 0x3c};
	pb_t mut;
	for (size_t i = 0; i < m->n; i++) {
		for (size_t k = 0; k < sizeof subst; k++) {
			mut = *m;
			mut.b[i] = subst[k];
			sweep_one(sig, mut.b, mut.n);
		}
	}
	sweep_one(sig, m->b, m->n);
}

static void test_sweep(void **state)
{
	(void)state;
	pb_t m = {0};
	build_logs_full(&m);
	sweep(SIG_LOGS, &m);
	build_traces_full(&m);
	sweep(SIG_TRACES, &m);
	build_metrics_full(&m);
	sweep(SIG_METRICS, &m);
	/* the full metrics input decodes */
	otf_metrics_t out;
	assert_int_equal(dec_metrics(&m, &out), 0);
	const otf_scope_metrics_t *sm = &out.resource_metrics[0].scope_metrics[0];
	assert_int_equal(sm->metrics_len, 5);
	assert_int_equal(sm->metrics[3].data_points.exp_histogram[0].positive.bucket_counts_len, 4);
	assert_true(sm->metrics[3].data_points.exp_histogram[0].positive.bucket_counts[1] == 130);
	assert_int_equal(sm->metrics[2].data_points.histogram[0].bucket_counts_len, 4);
}

/* Regression (found by the property tests and the fuzzer): a repeated
 * scalar whose only element is truncated was counted as zero elements, and
 * the decoder formed &arr[0] on a NULL array (UBSan). Both the packed form
 * and the unpacked one must fail cleanly. */
static void test_truncated_only_repeated_scalar(void **state)
{
	(void)state;
	/* MetricsData > ResourceMetrics > ScopeMetrics > Metric > ExpHistogram >
	 * data point > positive Buckets { bucket_counts (packed) = 0x80 } */
	static const uint8_t packed[] = {0x0a, 0x0d, 0x12, 0x0b, 0x12, 0x09, 0x52, 0x07,
	                                 0x0a, 0x05, 0x42, 0x03, 0x12, 0x01, 0x80};
	/* the same Buckets with an unpacked varint element cut short (10 80) */
	static const uint8_t unpacked[] = {0x0a, 0x0c, 0x12, 0x0a, 0x12, 0x08, 0x52,
	                                   0x06, 0x0a, 0x04, 0x42, 0x02, 0x10, 0x80};
	const uint8_t *cases[] = {packed, unpacked};
	const size_t lens[] = {sizeof packed, sizeof unpacked};
	for (int k = 0; k < 2; k++) {
		uint8_t *in = malloc(lens[k]); /* exact size: ASan sees overreads */
		memcpy(in, cases[k], lens[k]);
		otf_arena_t a;
		otf_arena_init(&a, 0);
		otf_metrics_t m;
		otf_pdata_error_t err;
		int rc = otf_pdata_decode_metrics(&m, in, lens[k], &a, NULL, &err);
		free(in);
		assert_int_equal(rc, OTF_E_TRUNCATED);
		otf_arena_close(&a);
	}
}

static void test_error_format(void **state)
{
	(void)state;
	pb_t rec = {0}, m = {0};
	otf_logs_t logs;
	f_bytes(&rec, 9, TID, 15);
	wrap_log(&m, &rec);
	assert_int_equal(dec_logs(&m, &logs), OTF_E_ID_LENGTH);
	char buf[512];
	otf_pdata_error_format(&C.err, buf, sizeof buf);
	assert_non_null(strstr(buf, LOG0 ".trace_id: "));
	assert_non_null(strstr(buf, "(16 bytes or empty, got 15) at byte"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(test_logs_all_fields),
	    T(test_empty_inputs),
	    T(test_traces_all_fields),
	    T(test_metrics_gauge_sum),
	    T(test_metrics_histogram),
	    T(test_metrics_exp_histogram),
	    T(test_metrics_summary),
	    T(test_oneof_last_wins),
	    T(test_singular_last_occurrence),
	    T(test_response),
	    T(test_bad_truncated),
	    T(test_bad_varint),
	    T(test_bad_length),
	    T(test_bad_wire_type),
	    T(test_bad_utf8),
	    T(test_bad_depth),
	    T(test_bad_ids),
	    T(test_bad_tags),
	    T(test_too_large),
	    T(test_nomem),
	    T(test_sweep),
	    T(test_truncated_only_repeated_scalar),
	    T(test_error_format),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
