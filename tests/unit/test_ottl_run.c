/* OTTL runs: the span, spanevent, resource, scope, metric and datapoint
 * contexts over decoded requests (encoded and decoded again, compared
 * field by field), the OpenTelemetry demo's statements, error_mode,
 * per-statement results, conditions and the filter walk, the regex match
 * limit, and one program shared by threads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ottl_expect.h"

#include <pthread.h>

static const char traces_json[] =
    "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
    "{\"stringValue\":\"frontend\"}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"http\"},\"spans\":["
    "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"0102030405060708\","
    "\"name\":\"GET /api\",\"kind\":2,\"startTimeUnixNano\":\"1000\",\"endTimeUnixNano\":\"5000\","
    "\"attributes\":[{\"key\":\"http.route\",\"value\":{\"stringValue\":\"/api\"}},"
    "{\"key\":\"http.response.status_code\",\"value\":{\"intValue\":\"503\"}}],"
    "\"events\":[{\"name\":\"exception\",\"timeUnixNano\":\"2000\"},{\"name\":\"log\"}]},"
    "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"0a0b0c0d0e0f0102\","
    "\"name\":\"SELECT\",\"kind\":3}]}]}]}";

static void run_traces(otf_ottl_context_t ctx, const char *const *stmts, size_t n,
                       otf_traces_t *out)
{
	otf_traces_t in;
	assert_int_equal(
	    otf_pdata_json_decode_traces(&in, traces_json, strlen(traces_json), &arena, NULL, NULL),
	    0);
	otf_ottl_program_t *p = compile(ctx, stmts, n);
	otf_ottl_stats_t st = {0};
	int rc = otf_ottl_run_traces(p, OTF_OTTL_ERROR_PROPAGATE, &in, &arena, &st);
	if (rc)
		fail_msg("run: statement %zu column %zu: %s", st.first_error.index,
		         st.first_error.column, st.first_error.msg);
	otf_ottl_program_destroy(p);
	otf_buf_t *b = NULL;
	assert_int_equal(otf_pdata_encode_traces(&in, &b), 0);
	uint8_t *copy = otf_arena_memdup(&arena, b->data, b->len);
	size_t len = b->len;
	otf_buf_unref(b);
	assert_int_equal(otf_pdata_decode_traces(out, copy, len, &arena, NULL, NULL), 0);
}

static void test_span_contexts(void **state)
{
	(void)state;
	const char *const s[] = {
	    "set(status.code, STATUS_CODE_ERROR) where kind == SPAN_KIND_SERVER and "
	    "attributes[\"http.response.status_code\"] >= 500",
	    "set(status.message, \"upstream\") where status.code == STATUS_CODE_ERROR",
	    "set(span.name, Concat([resource.attributes[\"service.name\"], name], \": \")) where "
	    "span.kind == SPAN_KIND_CLIENT",
	    "set(attributes[\"dur\"], end_time_unix_nano - start_time_unix_nano)",
	    "set(parent_span_id.string, \"ffeeddccbbaa9988\") where span_id.string == "
	    "\"0a0b0c0d0e0f0102\"",
	    "set(kind, SPAN_KIND_INTERNAL) where IsMatch(name, \"^frontend\")",
	};
	otf_traces_t t;
	run_traces(OTF_OTTL_CTX_SPAN, s, N(s), &t);
	otf_span_t *a = &t.resource_spans[0].scope_spans[0].spans[0];
	otf_span_t *b = &t.resource_spans[0].scope_spans[0].spans[1];
	assert_int_equal(a->status.code, 2);
	assert_bytes(a->status.message, "upstream");
	assert_int_equal(b->status.code, 0);
	assert_bytes(b->status.message, "");
	assert_bytes(b->name, "frontend: SELECT");
	assert_int_equal(b->kind, 1);
	assert_int_equal(a->kind, 2);
	assert_int_attr(&a->attributes, "dur", 4000);
	assert_memory_equal(b->parent_span_id.ptr, "\xff\xee\xdd\xcc\xbb\xaa\x99\x88", 8);
	assert_int_equal(a->parent_span_id.len, 0);

	const char *const ev[] = {
	    "set(attributes[\"span\"], span.name) where name == \"exception\"",
	    "set(name, \"renamed\") where time_unix_nano == 0",
	};
	run_traces(OTF_OTTL_CTX_SPANEVENT, ev, N(ev), &t);
	a = &t.resource_spans[0].scope_spans[0].spans[0];
	assert_str_attr(&a->events[0].attributes, "span", "GET /api");
	assert_bytes(a->events[0].name, "exception");
	assert_bytes(a->events[1].name, "renamed");

	const char *const res[] = {"set(attributes[\"deployment.environment\"], \"prod\")",
	                           "set(schema_url, \"https://example.com/s\")"};
	run_traces(OTF_OTTL_CTX_RESOURCE, res, N(res), &t);
	assert_str_attr(&t.resource_spans[0].resource.attributes, "deployment.environment", "prod");
	assert_bytes(t.resource_spans[0].schema_url, "https://example.com/s");

	const char *const sc[] = {"set(version, \"2\") where name == \"http\""};
	run_traces(OTF_OTTL_CTX_SCOPE, sc, N(sc), &t);
	assert_bytes(t.resource_spans[0].scope_spans[0].scope.version, "2");
}

/* The OpenTelemetry demo's collector config (src/otel-collector/otelcol-config.yml):
 * transform, error_mode ignore, span context; the statements as YAML hands them over. */
static void test_demo_transform_statements(void **state)
{
	(void)state;
	static const char js[] =
	    "{\"resourceSpans\":[{\"resource\":{},\"scopeSpans\":[{\"spans\":["
	    "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"0102030405060708\","
	    "\"name\":\"GET /api/products/OLJCESPC7Z?currencyCode=USD\"},"
	    "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"0102030405060709\","
	    "\"name\":\"GET /api/cart?sessionId=9f2&currencyCode=EUR\"},"
	    "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"010203040506070a\","
	    "\"name\":\"oteldemo.CartService/GetCart\"}]}]}]}";
	const char *const s[] = {
	    "replace_pattern(name, \"\\\\?.*\", \"\")",
	    "replace_match(name, \"GET /api/products/*\", \"GET /api/products/{productId}\")"};
	otf_traces_t t;
	assert_int_equal(otf_pdata_json_decode_traces(&t, js, strlen(js), &arena, NULL, NULL), 0);
	otf_ottl_program_t *p = compile(OTF_OTTL_CTX_SPAN, s, N(s));
	otf_ottl_stats_t st = {0};
	assert_int_equal(otf_ottl_run_traces(p, OTF_OTTL_ERROR_IGNORE, &t, &arena, &st), 0);
	assert_int_equal(st.errors, 0);
	assert_int_equal(st.records, 3);
	otf_ottl_program_destroy(p);
	otf_buf_t *b = NULL;
	assert_int_equal(otf_pdata_encode_traces(&t, &b), 0);
	otf_traces_t back;
	assert_int_equal(otf_pdata_decode_traces(&back, b->data, b->len, &arena, NULL, NULL), 0);
	otf_span_t *sp = back.resource_spans[0].scope_spans[0].spans;
	assert_bytes(sp[0].name, "GET /api/products/{productId}");
	assert_bytes(sp[1].name, "GET /api/cart");
	assert_bytes(sp[2].name, "oteldemo.CartService/GetCart");
	otf_buf_unref(b);

	/* its metric statement, datapoint context */
	const char *const m[] = {"set(attributes[\"collector\"], \"otel-collector\")"};
	otf_metrics_t mt;
	static const char mj[] =
	    "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[{\"metrics\":[{\"name\":"
	    "\"app.ads.count\",\"sum\":{\"dataPoints\":[{\"asInt\":\"1\"},{\"asInt\":\"2\"}]}}]}]}]"
	    "}";
	assert_int_equal(otf_pdata_json_decode_metrics(&mt, mj, strlen(mj), &arena, NULL, NULL), 0);
	p = compile(OTF_OTTL_CTX_DATAPOINT, m, 1);
	assert_int_equal(otf_ottl_run_metrics(p, OTF_OTTL_ERROR_IGNORE, &mt, &arena, &st), 0);
	otf_ottl_program_destroy(p);
	otf_metric_t *mm = &mt.resource_metrics[0].scope_metrics[0].metrics[0];
	assert_str_attr(&mm->data_points.number[0].attributes, "collector", "otel-collector");
	assert_str_attr(&mm->data_points.number[1].attributes, "collector", "otel-collector");
}

static const char metrics_json[] =
    "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[{\"metrics\":["
    "{\"name\":\"http.server.duration\",\"unit\":\"ms\",\"sum\":{\"aggregationTemporality\":2,"
    "\"isMonotonic\":true,\"dataPoints\":[{\"asDouble\":0.25,\"attributes\":[{\"key\":\"k\","
    "\"value\":{\"stringValue\":\"a\"}}]},{\"asDouble\":0.75}]}},"
    "{\"name\":\"queue.size\",\"gauge\":{\"dataPoints\":[{\"asInt\":\"4\"}]}}]}]}]}";

static void test_metric_contexts(void **state)
{
	(void)state;
	otf_metrics_t m;
	assert_int_equal(otf_pdata_json_decode_metrics(&m, metrics_json, strlen(metrics_json),
	                                               &arena, NULL, NULL),
	                 0);
	const char *const ms[] = {
	    "set(description, \"cumulative sum\") where type == METRIC_DATA_TYPE_SUM and "
	    "aggregation_temporality == AGGREGATION_TEMPORALITY_CUMULATIVE",
	    "set(unit, \"1\") where type == METRIC_DATA_TYPE_GAUGE",
	};
	const char *const dp[] = {
	    "set(attributes[\"big\"], true) where value_double > 0.5",
	    "set(attributes[\"metric\"], metric.name) where metric.type == METRIC_DATA_TYPE_GAUGE",
	    "set(value_int, value_int * 10) where metric.name == \"queue.size\"",
	};
	otf_ottl_program_t *p1 = compile(OTF_OTTL_CTX_METRIC, ms, N(ms));
	otf_ottl_program_t *p2 = compile(OTF_OTTL_CTX_DATAPOINT, dp, N(dp));
	otf_ottl_stats_t st = {0};
	assert_int_equal(otf_ottl_run_metrics(p1, OTF_OTTL_ERROR_PROPAGATE, &m, &arena, &st), 0);
	assert_int_equal(otf_ottl_run_metrics(p2, OTF_OTTL_ERROR_PROPAGATE, &m, &arena, &st), 0);
	assert_int_equal(st.records, 2 + 3);
	otf_ottl_program_destroy(p1);
	otf_ottl_program_destroy(p2);
	otf_buf_t *b = NULL;
	assert_int_equal(otf_pdata_encode_metrics(&m, &b), 0);
	otf_metrics_t back;
	assert_int_equal(otf_pdata_decode_metrics(&back, b->data, b->len, &arena, NULL, NULL), 0);
	otf_metric_t *sum = &back.resource_metrics[0].scope_metrics[0].metrics[0];
	otf_metric_t *g = &back.resource_metrics[0].scope_metrics[0].metrics[1];
	assert_bytes(sum->description, "cumulative sum");
	assert_bytes(sum->unit, "ms");
	assert_bytes(g->unit, "1");
	assert_null(attr(&sum->data_points.number[0].attributes, "big"));
	assert_str_attr(&sum->data_points.number[0].attributes, "k", "a");
	assert_non_null(attr(&sum->data_points.number[1].attributes, "big"));
	assert_str_attr(&g->data_points.number[0].attributes, "metric", "queue.size");
	assert_int_equal(g->data_points.number[0].value.as_int, 40);
	otf_buf_unref(b);
}

static void test_error_modes(void **state)
{
	(void)state;
	/* statement 0 fails at run time on every record (severity_text is a
	 * string, count an int or nil), statement 1 must still run unless
	 * error_mode is propagate */
	const char *const s[] = {"set(severity_text, attributes[\"count\"]) where true",
	                         "set(attributes[\"after\"], 1)"};
	for (int mode = 0; mode < 3; mode++) {
		otf_logs_t l;
		assert_int_equal(otf_pdata_json_decode_logs(&l, logs_json, strlen(logs_json),
		                                            &arena, NULL, NULL),
		                 0);
		otf_ottl_program_t *p = compile(OTF_OTTL_CTX_LOG, s, N(s));
		otf_ottl_stats_t st = {0};
		int rc = otf_ottl_run_logs(p, (otf_ottl_error_mode_t)mode, &l, &arena, &st);
		otf_log_record_t *a = log_n(&l, 0);
		assert_bytes(a->severity_text, "INFO"); /* left as is */
		if (mode == OTF_OTTL_ERROR_PROPAGATE) {
			assert_int_equal(rc, OTF_E_INVAL);
			assert_int_equal(st.errors, 1);
			assert_null(attr(&a->attributes, "after"));
		} else {
			assert_int_equal(rc, 0);
			/* record 2 has no count: nil is skipped by set, no error */
			assert_int_equal(st.errors, 1);
			assert_int_attr(&a->attributes, "after", 1);
			assert_int_attr(&log_n(&l, 1)->attributes, "after", 1);
		}
		assert_int_equal(st.first_error.index, 0);
		assert_int_equal(st.first_error.column, 4);
		assert_non_null(strstr(st.first_error.msg, "cannot set severity_text to an int"));
		otf_ottl_program_destroy(p);
	}
	assert_int_equal(otf_ottl_error_mode_parse("ignore", 6), OTF_OTTL_ERROR_IGNORE);
	assert_int_equal(otf_ottl_error_mode_parse("silent", 6), OTF_OTTL_ERROR_SILENT);
	assert_int_equal(otf_ottl_error_mode_parse("propagate", 9), OTF_OTTL_ERROR_PROPAGATE);
	assert_int_equal(otf_ottl_error_mode_parse("loud", 4), -1);
}

static void test_statement_results_and_conditions(void **state)
{
	(void)state;
	otf_logs_t l;
	assert_int_equal(
	    otf_pdata_json_decode_logs(&l, logs_json, strlen(logs_json), &arena, NULL, NULL), 0);
	otf_ottl_record_t rec = {.resource = &l.resource_logs[0].resource,
	                         .scope = &l.resource_logs[0].scope_logs[0].scope,
	                         .log = log_n(&l, 1),
	                         .arena = &arena};
	const char *const s[] = {"set(body, \"x\") where severity_number == 9",
	                         "set(body, \"y\") where severity_number == 5",
	                         "set(attributes[\"i\"], Len(attributes[\"missing\"]))"};
	otf_ottl_program_t *p = compile(OTF_OTTL_CTX_LOG, s, N(s));
	otf_ottl_error_t e = {0};
	assert_int_equal(otf_ottl_exec_statement(p, 0, &rec, &e), OTF_OTTL_SKIPPED);
	assert_int_equal(otf_ottl_exec_statement(p, 1, &rec, &e), OTF_OTTL_APPLIED);
	assert_bytes(rec.log->body.u.string_value, "y");
	assert_int_equal(otf_ottl_exec_statement(p, 2, &rec, &e), OTF_E_INVAL);
	assert_int_equal(e.index, 2);
	/* a bad key fails before anything is created */
	{
		const char *const bk[] = {"set(attributes[\"new\"][0], 1)",
		                          "set(attributes[\"http.method\"][\"x\"], 1)"};
		otf_ottl_program_t *pk = compile(OTF_OTTL_CTX_LOG, bk, 2);
		size_t before = rec.log->attributes.len;
		otf_ottl_error_t ek = {0};
		assert_int_equal(otf_ottl_exec_statement(pk, 0, &rec, &ek), OTF_E_INVAL);
		assert_non_null(strstr(ek.msg, "map key must be a string"));
		assert_int_equal(ek.column, 22);
		assert_int_equal(otf_ottl_exec_statement(pk, 1, &rec, &ek), OTF_E_INVAL);
		assert_non_null(strstr(ek.msg, "cannot be indexed"));
		assert_int_equal(rec.log->attributes.len, before);
		assert_null(attr(&rec.log->attributes, "new"));
		otf_ottl_program_destroy(pk);
	}
	assert_int_equal(e.column, 25);
	assert_non_null(strstr(e.msg, "Len of nil"));
	/* a computed limit is checked when it runs */
	const char *const lim[] = {"limit(attributes, Len(attributes) - 1, [\"a\"])"};
	otf_ottl_program_t *pl = compile(OTF_OTTL_CTX_LOG, lim, 1);
	assert_int_equal(otf_ottl_exec_statement(pl, 0, &rec, &e), OTF_E_INVAL);
	assert_non_null(strstr(e.msg, "less than the 1 priority keys"));
	otf_ottl_program_destroy(pl);
	otf_ottl_program_destroy(p);

	const char *const c[] = {"attributes[\"http.method\"] == \"POST\"",
	                         "Len(attributes[\"missing\"]) > 0",
	                         ("resource.attributes[\"service.name\"] == \"checkout\" and "
	                          "not IsMatch(body, \"^y$\")")};
	otf_ottl_program_t *q = NULL;
	assert_int_equal(otf_ottl_compile_conditions(&q, OTF_OTTL_CTX_LOG, c, N(c), &e), 0);
	assert_int_equal(otf_ottl_eval_condition(q, 0, &rec, &e), 0);
	assert_int_equal(otf_ottl_eval_condition(q, 2, &rec, &e), 0);
	otf_ottl_stats_t st = {0};
	/* ignore: the erroring condition counts as false, the rest decide */
	assert_int_equal(otf_ottl_match_any(q, OTF_OTTL_ERROR_IGNORE, &rec, &st), 0);
	assert_int_equal(st.errors, 1);
	assert_int_equal(otf_ottl_match_any(q, OTF_OTTL_ERROR_PROPAGATE, &rec, &st), OTF_E_INVAL);
	rec.log = log_n(&l, 0);
	assert_int_equal(otf_ottl_match_any(q, OTF_OTTL_ERROR_PROPAGATE, &rec, &st), 1);
	assert_int_equal(otf_ottl_eval_condition(q, 2, &rec, &e), 1);
	otf_ottl_program_destroy(q);
}

/* One compiled program on several threads at once: it is read-only while
 * running; each thread has its own tree, arena and regex match block. */
typedef struct thread_job {
	const otf_ottl_program_t *p;
	int ok;
} thread_job_t;

static void *thread_main(void *arg)
{
	thread_job_t *j = arg;
	otf_arena_t a;
	otf_arena_init(&a, 0);
	j->ok = 1;
	for (int it = 0; it < 200 && j->ok; it++) {
		otf_arena_reset(&a);
		otf_logs_t l;
		otf_ottl_stats_t st = {0};
		if (otf_pdata_json_decode_logs(&l, logs_json, strlen(logs_json), &a, NULL, NULL) ||
		    otf_ottl_run_logs(j->p, OTF_OTTL_ERROR_PROPAGATE, &l, &a, &st))
			j->ok = 0;
		otf_log_record_t *r = &l.resource_logs[0].scope_logs[0].log_records[0];
		if (!bytes_is(r->body.u.string_value, "payment failed for user=*** id=42") ||
		    !attr(&r->attributes, "matched"))
			j->ok = 0;
	}
	otf_arena_close(&a);
	return NULL;
}

static void test_program_shared_by_threads(void **state)
{
	(void)state;
	const char *const s[] = {
	    "replace_pattern(body, \"user=\\\\w+\", \"user=***\")",
	    "set(attributes[\"matched\"], true) where IsMatch(body, \"\\\\*{3}\")"};
	otf_ottl_program_t *p = compile(OTF_OTTL_CTX_LOG, s, N(s));
	pthread_t t[4];
	thread_job_t jobs[4];
	for (int i = 0; i < 4; i++) {
		jobs[i] = (thread_job_t){p, 0};
		assert_int_equal(pthread_create(&t[i], NULL, thread_main, &jobs[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(jobs[i].ok, 1);
	}
	otf_ottl_program_destroy(p);
}

/* A backtracking blow-up stops at PCRE2's match limit: a runtime error the
 * caller's error_mode handles, never a hang. */
static void test_regex_match_limit(void **state)
{
	(void)state;
	otf_log_record_t log = {0};
	char body[64];
	memset(body, 'a', 40);
	body[40] = 'b';
	log.body.type = OTF_ANY_STRING;
	log.body.u.string_value = (otf_bytes_t){(const uint8_t *)body, 41};
	otf_ottl_record_t rec = {.log = &log, .arena = &arena};
	const char *const c[] = {"IsMatch(body, \"^(a|aa)+$\")", "body != nil"};
	otf_ottl_program_t *p = NULL;
	otf_ottl_error_t e = {0};
	assert_int_equal(otf_ottl_compile_conditions(&p, OTF_OTTL_CTX_LOG, c, 2, &e), 0);
	assert_int_equal(otf_ottl_eval_condition(p, 0, &rec, &e), OTF_E_INVAL);
	assert_non_null(strstr(e.msg, "regex match failed"));
	otf_ottl_stats_t st = {0};
	assert_int_equal(otf_ottl_match_any(p, OTF_OTTL_ERROR_IGNORE, &rec, &st), 1);
	assert_int_equal(st.errors, 1);
	otf_ottl_program_destroy(p);
}

static otf_ottl_program_t *conds(otf_ottl_context_t ctx, const char *const *c, size_t n)
{
	otf_ottl_program_t *p = NULL;
	otf_ottl_error_t e = {0};
	if (otf_ottl_compile_conditions(&p, ctx, c, n, &e))
		fail_msg("condition %zu column %zu: %s", e.index, e.column, e.msg);
	return p;
}

/* The filter processor's semantics: drop what matches, remove emptied
 * scopes and resources, metrics without points; then encode and compare. */
static void test_filter(void **state)
{
	(void)state;
	otf_logs_t l;
	assert_int_equal(
	    otf_pdata_json_decode_logs(&l, logs_json, strlen(logs_json), &arena, NULL, NULL), 0);
	const char *const c1[] = {"severity_number < SEVERITY_NUMBER_INFO",
	                          "Len(attributes[\"missing\"]) > 0"};
	otf_ottl_program_t *p = conds(OTF_OTTL_CTX_LOG, c1, 2);
	otf_ottl_stats_t st = {0};
	assert_int_equal(otf_ottl_filter_logs(p, OTF_OTTL_ERROR_IGNORE, &l, &arena, &st), 0);
	assert_int_equal(st.dropped, 1);
	assert_int_equal(st.errors,
	                 1); /* record 1's second condition; record 2 matched the first */
	assert_int_equal(l.resource_logs[0].scope_logs[0].log_records_len, 1);
	assert_int_equal(log_n(&l, 0)->severity_number, 9);
	/* propagate: the error comes back */
	assert_int_equal(otf_ottl_filter_logs(p, OTF_OTTL_ERROR_PROPAGATE, &l, &arena, &st),
	                 OTF_E_INVAL);
	otf_ottl_program_destroy(p);
	const char *const c2[] = {"resource.attributes[\"service.name\"] == \"checkout\""};
	p = conds(OTF_OTTL_CTX_LOG, c2, 1);
	assert_int_equal(otf_ottl_filter_logs(p, OTF_OTTL_ERROR_IGNORE, &l, &arena, NULL), 0);
	assert_int_equal(l.resource_logs_len, 0); /* emptied scope and resource removed */
	otf_ottl_program_destroy(p);

	otf_traces_t t;
	assert_int_equal(
	    otf_pdata_json_decode_traces(&t, traces_json, strlen(traces_json), &arena, NULL, NULL),
	    0);
	const char *const c3[] = {"name == \"log\""};
	p = conds(OTF_OTTL_CTX_SPANEVENT, c3, 1);
	assert_int_equal(otf_ottl_filter_traces(p, OTF_OTTL_ERROR_IGNORE, &t, &arena, NULL), 0);
	otf_ottl_program_destroy(p);
	const char *const c4[] = {"kind == SPAN_KIND_CLIENT"};
	p = conds(OTF_OTTL_CTX_SPAN, c4, 1);
	assert_int_equal(otf_ottl_filter_traces(p, OTF_OTTL_ERROR_IGNORE, &t, &arena, NULL), 0);
	otf_ottl_program_destroy(p);
	otf_buf_t *b = NULL;
	assert_int_equal(otf_pdata_encode_traces(&t, &b), 0);
	otf_traces_t back;
	assert_int_equal(otf_pdata_decode_traces(&back, b->data, b->len, &arena, NULL, NULL), 0);
	otf_scope_spans_t *ss = &back.resource_spans[0].scope_spans[0];
	assert_int_equal(ss->spans_len, 1);
	assert_bytes(ss->spans[0].name, "GET /api");
	assert_int_equal(ss->spans[0].events_len, 1);
	assert_bytes(ss->spans[0].events[0].name, "exception");
	otf_buf_unref(b); /* the decoded tree points into it */

	otf_metrics_t m;
	assert_int_equal(otf_pdata_json_decode_metrics(&m, metrics_json, strlen(metrics_json),
	                                               &arena, NULL, NULL),
	                 0);
	const char *const c5[] = {"value_double < 0.5 and metric.type == METRIC_DATA_TYPE_SUM",
	                          "metric.name == \"queue.size\""};
	p = conds(OTF_OTTL_CTX_DATAPOINT, c5, 2);
	st = (otf_ottl_stats_t){0};
	assert_int_equal(otf_ottl_filter_metrics(p, OTF_OTTL_ERROR_IGNORE, &m, &arena, &st), 0);
	assert_int_equal(st.dropped, 2);
	otf_ottl_program_destroy(p);
	otf_scope_metrics_t *sm = &m.resource_metrics[0].scope_metrics[0];
	assert_int_equal(sm->metrics_len, 1); /* queue.size lost its only point */
	assert_int_equal(sm->metrics[0].data_points_len, 1);
	assert_true(sm->metrics[0].data_points.number[0].value.as_double == 0.75);
	/* wrong program kinds */
	const char *const st1[] = {"set(name, \"x\")"};
	p = compile(OTF_OTTL_CTX_SPAN, st1, 1);
	assert_int_equal(otf_ottl_filter_traces(p, OTF_OTTL_ERROR_IGNORE, &t, &arena, NULL),
	                 OTF_E_INVAL);
	otf_ottl_program_destroy(p);
	p = conds(OTF_OTTL_CTX_LOG, c1, 1);
	assert_int_equal(otf_ottl_filter_traces(p, OTF_OTTL_ERROR_IGNORE, &t, &arena, NULL),
	                 OTF_E_INVAL);
	otf_ottl_program_destroy(p);
}

static void test_wrong_signal_context(void **state)
{
	(void)state;
	const char *const s[] = {"set(name, \"x\")"};
	otf_ottl_program_t *p = compile(OTF_OTTL_CTX_SPAN, s, 1);
	otf_logs_t l = {0};
	assert_int_equal(otf_ottl_run_logs(p, OTF_OTTL_ERROR_IGNORE, &l, &arena, NULL),
	                 OTF_E_INVAL);
	otf_ottl_program_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_span_contexts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_demo_transform_statements, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_metric_contexts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_error_modes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_statement_results_and_conditions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_program_shared_by_threads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_regex_match_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_filter, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_signal_context, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
