/* partial spans: the log -> row rules (frequency, base64, flatten, merge,
 * skip rules) without a database, and, when OTF_TEST_PG_DSN names a
 * PostgreSQL (tests/sh/partial_unit.sh starts one), the receiver against a
 * downstream exporter that fails: NACKed spans stay in the table and are
 * delivered once it recovers; a poison row is moved to partial_traces_dead. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "components/exporters/partial/partial_flatten.h"
#include "components/exporters/partial/partial_pg.h"

#include "otflow/alloc.h"
#include "otflow/config.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"
#include "otflow/service.h"

#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static otf_any_value_t str(const char *s)
{
	otf_any_value_t v = {.type = OTF_ANY_STRING};
	v.u.string_value = (otf_bytes_t){(const uint8_t *)s, strlen(s)};
	return v;
}

static void test_frequency(void **state)
{
	(void)state;
	int64_t ns;
	otf_any_value_t v = str("5000ms");
	assert_int_equal(partial_parse_frequency(&v, &ns), 0);
	assert_true(ns == 5000000000LL);
	v = str("1m30s");
	assert_int_equal(partial_parse_frequency(&v, &ns), 0);
	assert_true(ns == 90000000000LL);
	v = str("250"); /* bare number: milliseconds */
	assert_int_equal(partial_parse_frequency(&v, &ns), 0);
	assert_true(ns == 250000000LL);
	v.type = OTF_ANY_INT;
	v.u.int_value = 40;
	assert_int_equal(partial_parse_frequency(&v, &ns), 0);
	assert_true(ns == 40000000LL);
	const char *bad[] = {"", "0s", "-5s", "25h", "5 parsecs", "0"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v = str(bad[i]);
		assert_int_not_equal(partial_parse_frequency(&v, &ns), 0);
	}
	v.type = OTF_ANY_DOUBLE;
	v.u.double_value = 5.0;
	assert_int_not_equal(partial_parse_frequency(&v, &ns), 0);
}

static void test_base64(void **state)
{
	(void)state;
	otf_arena_t a;
	otf_arena_init(&a, 0);
	otf_bytes_t out;
	const char *ok[] = {"aGVsbG8=", "aGVsbG8", "aGVs\nbG8="};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(
		    partial_base64_decode((const uint8_t *)ok[i], strlen(ok[i]), &a, &out), 0);
		assert_int_equal(out.len, 5);
		assert_memory_equal(out.ptr, "hello", 5);
	}
	const char *bad[] = {"aGVs!G8=", "aGVsbG8=x", "a"};
	for (size_t i = 0; i < 3; i++)
		assert_int_not_equal(
		    partial_base64_decode((const uint8_t *)bad[i], strlen(bad[i]), &a, &out), 0);
	otf_arena_close(&a);
}

/* Two spans in one heartbeat body, one all-zero span id, and a list-valued
 * resource attribute. */
static const char k_traces[] =
    "{\"resourceSpans\":[{\"resource\":{\"attributes\":["
    "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"svc\"}},"
    "{\"key\":\"tags\",\"value\":{\"arrayValue\":{\"values\":[{\"intValue\":\"1\"}]}}}]},"
    "\"scopeSpans\":[{\"scope\":{\"name\":\"lib\"},\"spans\":["
    "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"1111111111111111\","
    "\"name\":\"one\",\"startTimeUnixNano\":\"100\","
    "\"attributes\":[{\"key\":\"k\",\"value\":{\"stringValue\":\"span\"}}]},"
    "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"2222222222222222\","
    "\"name\":\"two\",\"startTimeUnixNano\":\"200\"},"
    "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"0000000000000000\","
    "\"name\":\"zero\"}]}]}]}";

static char *logs_json(const char *records)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	fprintf(f,
	        "{\"resourceLogs\":[{\"resource\":{\"attributes\":["
	        "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"logsvc\"}},"
	        "{\"key\":\"host.name\",\"value\":{\"stringValue\":\"h1\"}},"
	        "{\"key\":\"blob\",\"value\":{\"bytesValue\":\"AAEC\"}},"
	        "{\"key\":\"partial.x\",\"value\":{\"stringValue\":\"no\"}}]},"
	        "\"scopeLogs\":[{\"logRecords\":[%s]}]}]}",
	        records);
	fclose(f);
	return out;
}

static char *record(const char *event, const char *freq, bool body)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	fprintf(f, "{\"timeUnixNano\":\"12345\",\"traceId\":\"0102030405060708090a0b0c0d0e0f10\","
	           "\"spanId\":\"3333333333333333\",\"attributes\":[");
	fprintf(f, "{\"key\":\"partial.event\",\"value\":{\"stringValue\":\"%s\"}}", event);
	if (freq)
		fprintf(f, ",{\"key\":\"partial.frequency\",\"value\":{\"stringValue\":\"%s\"}}",
		        freq);
	fprintf(f, ",{\"key\":\"partial.body.type\",\"value\":{\"stringValue\":\"json/v1\"}}"
	           ",{\"key\":\"k\",\"value\":{\"stringValue\":\"log\"}}"
	           ",{\"key\":\"from.log\",\"value\":{\"kvlistValue\":{\"values\":[{\"key\":\"a\","
	           "\"value\":{\"boolValue\":true}}]}}}]");
	if (body) {
		fputs(",\"body\":{\"stringValue\":\"", f);
		for (const char *p = k_traces; *p; p++) {
			if (*p == '"')
				fputc('\\', f);
			fputc(*p, f);
		}
		fputs("\"}", f);
	}
	fputc('}', f);
	fclose(f);
	return out;
}

static const otf_any_value_t *find(const otf_attributes_t *a, const char *k)
{
	for (size_t i = 0; i < a->len; i++)
		if (a->items[i].key.len == strlen(k) && !memcmp(a->items[i].key.ptr, k, strlen(k)))
			return &a->items[i].value;
	return NULL;
}

static void flatten(const char *json, partial_rows_t *rows, partial_flatten_stats_t *st)
{
	otf_arena_t a;
	otf_arena_init(&a, 0);
	otf_logs_t logs;
	assert_int_equal(otf_pdata_json_decode_logs(&logs, json, strlen(json), &a, NULL, NULL), 0);
	partial_flatten_opts_t o = {.expiry_factor = 3, .tombstone_ttl_ms = 600000};
	memset(st, 0, sizeof *st);
	assert_int_equal(partial_flatten_logs(&logs, &o, &a, rows, st), 0);
	otf_arena_close(&a);
}

static void test_flatten_heartbeat(void **state)
{
	(void)state;
	char *r1 = record("heartbeat", "1s", true);
	char *json = logs_json(r1);
	partial_rows_t rows = {0};
	partial_flatten_stats_t st;
	flatten(json, &rows, &st);
	assert_int_equal(rows.len, 2); /* the all-zero span id is skipped */
	assert_int_equal(st.heartbeats, 2);
	assert_int_equal(st.skipped, 0);
	const char *names[] = {"one", "two"};
	for (size_t i = 0; i < 2; i++) {
		partial_row_t *r = &rows.items[i];
		assert_string_equal(r->trace_id, "0102030405060708090a0b0c0d0e0f10");
		assert_string_equal(r->span_id, i ? "2222222222222222" : "1111111111111111");
		assert_false(r->stop);
		assert_true(r->expiry_ms == 3000);
		assert_true(r->seen_unix_nano == 12345);
		otf_arena_t a;
		otf_arena_init(&a, 0);
		otf_traces_t t;
		assert_int_equal(
		    otf_pdata_decode_traces(&t, r->trace->data, r->trace->len, &a, NULL, NULL), 0);
		assert_int_equal(t.resource_spans_len, 1);
		assert_int_equal(t.resource_spans[0].scope_spans_len, 1);
		assert_int_equal(t.resource_spans[0].scope_spans[0].spans_len, 1);
		const otf_resource_t *res = &t.resource_spans[0].resource;
		const otf_span_t *sp = &t.resource_spans[0].scope_spans[0].spans[0];
		assert_memory_equal(sp->name.ptr, names[i], 3);
		assert_memory_equal(t.resource_spans[0].scope_spans[0].scope.name.ptr, "lib", 3);
		/* resource: the trace's keys win, the log's others are added,
		 * partial.* never; every span gets the same values (the
		 * original moved bytes/map/slice values out after the first). */
		assert_memory_equal(find(&res->attributes, "service.name")->u.string_value.ptr,
		                    "svc", 3);
		assert_memory_equal(find(&res->attributes, "host.name")->u.string_value.ptr, "h1",
		                    2);
		const otf_any_value_t *blob = find(&res->attributes, "blob");
		assert_non_null(blob);
		assert_int_equal(blob->type, OTF_ANY_BYTES);
		assert_int_equal(blob->u.bytes_value.len, 3);
		assert_int_equal(find(&res->attributes, "tags")->u.array_value.values_len, 1);
		assert_null(find(&res->attributes, "partial.x"));
		/* span: its own keys win, the record's others are added */
		const otf_any_value_t *k = find(&sp->attributes, "k");
		assert_non_null(k);
		assert_memory_equal(k->u.string_value.ptr, i ? "log" : "span", i ? 3 : 4);
		const otf_any_value_t *fl = find(&sp->attributes, "from.log");
		assert_non_null(fl);
		assert_int_equal(fl->u.kvlist_value.values_len, 1);
		assert_null(find(&sp->attributes, "partial.event"));
		assert_null(find(&sp->attributes, "partial.frequency"));
		otf_arena_close(&a);
	}
	partial_rows_free(&rows);
	free(json);
	free(r1);
}

static void test_flatten_skip_and_stop(void **state)
{
	(void)state;
	char *recs[5] = {
	    record("heartbeat", NULL, true), /* no frequency: skipped */
	    record("start", "1s", true),     /* unknown event: skipped */
	    record("heartbeat", "0s", true), /* zero frequency: skipped */
	    record("stop", NULL, true),      /* two tombstones from the body */
	    record("stop", NULL, false),     /* tombstone from the record's ids */
	};
	char all[16384];
	snprintf(all, sizeof all, "%s,%s,%s,%s,%s", recs[0], recs[1], recs[2], recs[3], recs[4]);
	char *json = logs_json(all);
	partial_rows_t rows = {0};
	partial_flatten_stats_t st;
	flatten(json, &rows, &st);
	assert_int_equal(st.records, 5);
	assert_int_equal(st.skipped, 3);
	assert_int_equal(st.stops, 3);
	assert_int_equal(rows.len, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_true(rows.items[i].stop);
		assert_null(rows.items[i].trace);
		assert_true(rows.items[i].expiry_ms == 600000);
	}
	assert_string_equal(rows.items[2].span_id, "3333333333333333");
	partial_rows_free(&rows);
	free(json);
	for (int i = 0; i < 5; i++)
		free(recs[i]);
}

/* ---- with a database ---- */

static _Atomic int g_deliveries, g_nacked, g_spans_ok, g_gc_flag;

typedef struct flaky {
	otf_node_t *node;
} flaky_t;

static int flaky_create(const otf_create_ctx_t *ctx, void **inst)
{
	if (!*inst) {
		flaky_t *f = otf_calloc(1, sizeof *f);
		f->node = ctx->node;
		*inst = f;
	}
	return 0;
}

/* NACKs (retryable) the first two requests, then acknowledges. */
static void flaky_consume(void *inst, otf_msg_t *m)
{
	(void)inst;
	int n = atomic_fetch_add(&g_deliveries, 1);
	if (n < 2) {
		atomic_fetch_add(&g_nacked, 1);
		otf_msg_nack(m, OTF_E_IO, false, "downstream is down");
		return;
	}
	otf_arena_t a;
	otf_arena_init(&a, 0);
	otf_traces_t t;
	otf_buf_t *p = otf_msg_payload(m);
	if (otf_pdata_decode_traces(&t, p->data, p->len, &a, NULL, NULL) == 0) {
		for (size_t i = 0; i < t.resource_spans_len; i++) {
			otf_span_t *sp = &t.resource_spans[i].scope_spans[0].spans[0];
			atomic_fetch_add(&g_spans_ok, 1);
			const otf_any_value_t *gc = find(&sp->attributes, "partial.gc");
			if (gc && gc->type == OTF_ANY_BOOL && gc->u.bool_value &&
			    sp->end_time_unix_nano == 5000)
				atomic_fetch_add(&g_gc_flag, 1);
		}
	}
	otf_arena_close(&a);
	otf_msg_ack(m);
}

static void flaky_control(void *inst, const otf_ctrl_t *c)
{
	flaky_t *f = inst;
	if (c->type == OTF_CTRL_KIL)
		otf_node_shutdown_done(f->node);
}

static const otf_component_factory_t k_flaky = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXPORTER,
    .type = "test_flaky",
    .description = "fails twice, then acknowledges",
    .stability = {OTF_STABILITY_DEVELOPMENT, 0, 0},
    .create = {flaky_create, NULL, NULL},
    .consume = {flaky_consume, NULL, NULL},
    .control = flaky_control,
    .destroy = otf_free,
};

static PGconn *db(void)
{
	PGconn *c = PQconnectdb(getenv("OTF_TEST_PG_DSN"));
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	return c;
}

static long count(PGconn *c, const char *where)
{
	char q[256];
	snprintf(q, sizeof q, "SELECT count(*) FROM partial_traces %s", where);
	PGresult *r = PQexec(c, q);
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	long n = atol(PQgetvalue(r, 0, 0));
	PQclear(r);
	return n;
}

static void insert(PGconn *c, const char *tid, const char *sid, const uint8_t *blob, size_t len)
{
	const char *vals[3] = {tid, sid, (const char *)blob};
	int lens[3] = {0, 0, (int)len}, fmts[3] = {0, 0, 1};
	PGresult *r =
	    PQexecParams(c,
	                 "INSERT INTO partial_traces (trace_id, span_id, trace, expires_at, "
	                 "seen_unix_nano) VALUES ($1, $2, $3, now(), 5000)",
	                 3, NULL, vals, lens, fmts, 0);
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
}

static void test_receiver_downstream_failure(void **state)
{
	(void)state;
	const char *dsn = getenv("OTF_TEST_PG_DSN");
	if (!dsn) {
		skip();
		return;
	}
	char err[256];
	PGconn *c = db();
	PQclear(PQexec(c, "DROP TABLE IF EXISTS partial_traces, partial_traces_dead"));
	assert_int_equal(partial_pg_migrate_blocking(dsn, err, sizeof err), 0);
	/* 5 expired spans with real snapshots, 1 poison row */
	for (int i = 0; i < 5; i++) {
		uint8_t tid[16], sid[8];
		memset(tid, 0xab, 16);
		memset(sid, 0, 8);
		sid[7] = (uint8_t)(i + 1);
		otf_span_t sp = {.trace_id = {tid, 16},
		                 .span_id = {sid, 8},
		                 .name = {(const uint8_t *)"job", 3},
		                 .start_time_unix_nano = 1000};
		otf_scope_spans_t ss = {.spans = &sp, .spans_len = 1};
		otf_resource_spans_t rs = {.scope_spans = &ss, .scope_spans_len = 1};
		otf_traces_t t = {.resource_spans = &rs, .resource_spans_len = 1};
		otf_buf_t *b = NULL;
		assert_int_equal(otf_pdata_encode_traces(&t, &b), 0);
		char th[33], sh[17];
		partial_hex(tid, 16, th);
		partial_hex(sid, 8, sh);
		insert(c, th, sh, b->data, b->len);
		otf_buf_unref(b);
	}
	insert(c, "ffffffffffffffffffffffffffffffff", "ffffffffffffffff",
	       (const uint8_t *)"\x0a\xff", 2);
	assert_int_equal(count(c, ""), 6);

	char yaml[1024];
	snprintf(yaml, sizeof yaml,
	         "runtime: {workers: 1}\n"
	         "receivers:\n  partial: {postgres: \"%s\", gc_interval: 50ms, jitter: 10ms}\n"
	         "exporters:\n  test_flaky:\n"
	         "service:\n  pipelines:\n    traces: {receivers: [partial], exporters: "
	         "[test_flaky]}\n",
	         dsn);
	otf_config_t *cfg;
	otf_config_error_t cerr;
	assert_int_equal(otf_config_load_string("t.yaml", yaml, strlen(yaml), NULL, &cfg, &cerr),
	                 0);
	otf_dag_t *dag;
	otf_service_settings_t st;
	assert_int_equal(otf_service_build(cfg, &dag, &st, &cerr), 0);
	otf_engine_t *e;
	assert_int_equal(otf_engine_start(dag, &st.runtime, &e), 0);
	for (int i = 0; i < 500 && (count(c, "") > 0 || atomic_load(&g_spans_ok) < 5); i++)
		usleep(20000);
	usleep(300000); /* more cycles: nothing more may arrive */
	otf_engine_request_stop(e);
	assert_int_equal(otf_engine_join(e), 0);
	/* the two NACKed requests carried the spans; they stayed and came back */
	assert_int_equal(atomic_load(&g_nacked), 2);
	assert_int_equal(atomic_load(&g_deliveries), 3);
	assert_int_equal(atomic_load(&g_spans_ok), 5);
	assert_int_equal(atomic_load(&g_gc_flag), 5); /* partial.gc, end = last heartbeat */
	assert_int_equal(count(c, ""), 0);            /* delivered deleted, poison moved aside */
	PGresult *dead = PQexec(c, "SELECT span_id, reason FROM partial_traces_dead");
	assert_int_equal(PQntuples(dead), 1);
	assert_string_equal(PQgetvalue(dead, 0, 0), "ffffffffffffffff");
	assert_string_equal(PQgetvalue(dead, 0, 1), "stored snapshot is not a span");
	PQclear(dead);
	otf_dag_destroy(dag);
	otf_config_destroy(cfg);
	PQfinish(c);
}

int main(void)
{
	otf_components_register_builtins();
	otf_component_register(&k_flaky);
	otf_log_set_level(OTF_LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_frequency),
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_flatten_heartbeat),
	    cmocka_unit_test(test_flatten_skip_and_stop),
	    cmocka_unit_test(test_receiver_downstream_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
