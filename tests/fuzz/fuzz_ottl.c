/* Fuzz target: arbitrary text to the OTTL compiler, as a statement and as
 * a condition, for the log, span and datapoint contexts, and to context
 * inference. Whatever compiles also runs
 * on a small decoded request (so the evaluator sees every accepted shape)
 * and the edited tree must still encode to protobuf and decode again.
 * A rejected input must come with a column inside the input. */
#include "fuzz_common.h"

#include "otflow/arena.h"
#include "otflow/ottl.h"

static const char logs_json[] =
    "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
    "{\"stringValue\":\"svc\"}}]},\"scopeLogs\":[{\"scope\":{\"name\":\"lib\"},\"logRecords\":"
    "[{\"severityNumber\":9,\"severityText\":\"INFO\",\"body\":{\"stringValue\":\"user=bob "
    "id=42\"},\"attributes\":[{\"key\":\"a\",\"value\":{\"stringValue\":\"x\"}},{\"key\":\"n\","
    "\"value\":{\"intValue\":\"7\"}},{\"key\":\"m\",\"value\":{\"kvlistValue\":{\"values\":[{"
    "\"key\":\"k\",\"value\":{\"arrayValue\":{\"values\":[{\"boolValue\":true}]}}}]}}}]}]}]}]}";

static const char traces_json[] =
    "{\"resourceSpans\":[{\"resource\":{},\"scopeSpans\":[{\"spans\":[{\"traceId\":"
    "\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"0102030405060708\",\"name\":\"GET\","
    "\"kind\":2,\"attributes\":[{\"key\":\"http.route\",\"value\":{\"stringValue\":\"/a\"}}],"
    "\"events\":[{\"name\":\"e\"}],\"status\":{\"code\":2}}]}]}]}";

static const char metrics_json[] =
    "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[{\"metrics\":[{\"name\":"
    "\"m\",\"sum\":{\"aggregationTemporality\":2,\"dataPoints\":[{\"asDouble\":1.5,"
    "\"attributes\":[{\"key\":\"k\",\"value\":{\"stringValue\":\"v\"}}]}]}},{\"name\":"
    "\"h\",\"histogram\":{\"dataPoints\":[{\"count\":\"3\",\"sum\":2.5,\"bucketCounts\":"
    "[\"1\",\"2\"],\"explicitBounds\":[1]}]}}]}]}]}";

static void run(const char *src, size_t len, otf_ottl_context_t ctx, bool cond)
{
	otf_ottl_program_t *p = NULL;
	otf_ottl_error_t e;
	int rc = cond ? otf_ottl_compile_conditions(&p, ctx, &src, 1, &e)
	              : otf_ottl_compile_statements(&p, ctx, &src, 1, &e);
	if (rc) {
		FUZZ_CHECK(rc == OTF_E_INVAL || rc == OTF_E_NOMEM);
		FUZZ_CHECK(p == NULL);
		FUZZ_CHECK(rc == OTF_E_NOMEM || e.column <= len);
		return;
	}
	otf_arena_t arena;
	otf_arena_init(&arena, 0);
	otf_ottl_stats_t st = {0};
	otf_buf_t *out = NULL;
	if (ctx == OTF_OTTL_CTX_LOG) {
		otf_logs_t l, back;
		FUZZ_CHECK(otf_pdata_json_decode_logs(&l, logs_json, sizeof logs_json - 1, &arena,
		                                      NULL, NULL) == 0);
		if (cond) {
			otf_ottl_record_t rec = {
			    .resource = &l.resource_logs[0].resource,
			    .scope = &l.resource_logs[0].scope_logs[0].scope,
			    .log = &l.resource_logs[0].scope_logs[0].log_records[0],
			    .arena = &arena};
			rc = otf_ottl_match_any(p, OTF_OTTL_ERROR_IGNORE, &rec, &st);
			FUZZ_CHECK(rc == 0 || rc == 1);
			/* the filter walk: the one record dropped takes its scope and
			 * resource along (not compared with rc: Now() may differ) */
			otf_ottl_stats_t fs = {0};
			FUZZ_CHECK(
			    otf_ottl_filter_logs(p, OTF_OTTL_ERROR_IGNORE, &l, &arena, &fs) == 0);
			FUZZ_CHECK(fs.dropped <= 1);
			FUZZ_CHECK(l.resource_logs_len == 1 - (size_t)fs.dropped);
			FUZZ_CHECK(otf_pdata_encode_logs(&l, &out) == 0);
		} else {
			rc = otf_ottl_run_logs(p, OTF_OTTL_ERROR_IGNORE, &l, &arena, &st);
			FUZZ_CHECK(rc == 0);
			rc = otf_pdata_encode_logs(&l, &out);
			FUZZ_CHECK(rc == 0 || rc == OTF_E_DEPTH);
			if (!rc)
				FUZZ_CHECK(otf_pdata_decode_logs(&back, out->data, out->len, &arena,
				                                 NULL, NULL) == 0);
		}
	} else if (ctx == OTF_OTTL_CTX_DATAPOINT) {
		otf_metrics_t m, back;
		FUZZ_CHECK(otf_pdata_json_decode_metrics(&m, metrics_json, sizeof metrics_json - 1,
		                                         &arena, NULL, NULL) == 0);
		rc = otf_ottl_run_metrics(p, OTF_OTTL_ERROR_IGNORE, &m, &arena, &st);
		FUZZ_CHECK(rc == 0);
		rc = otf_pdata_encode_metrics(&m, &out);
		FUZZ_CHECK(rc == 0 || rc == OTF_E_DEPTH);
		if (!rc)
			FUZZ_CHECK(otf_pdata_decode_metrics(&back, out->data, out->len, &arena,
			                                    NULL, NULL) == 0);
	} else {
		otf_traces_t t, back;
		FUZZ_CHECK(otf_pdata_json_decode_traces(&t, traces_json, sizeof traces_json - 1,
		                                        &arena, NULL, NULL) == 0);
		if (!cond) {
			rc = otf_ottl_run_traces(p, OTF_OTTL_ERROR_SILENT, &t, &arena, &st);
			FUZZ_CHECK(rc == 0);
			rc = otf_pdata_encode_traces(&t, &out);
			FUZZ_CHECK(rc == 0 || rc == OTF_E_DEPTH);
			if (!rc)
				FUZZ_CHECK(otf_pdata_decode_traces(&back, out->data, out->len,
				                                   &arena, NULL, NULL) == 0);
		}
	}
	otf_buf_unref(out);
	otf_arena_close(&arena);
	otf_ottl_program_destroy(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *s = malloc(size + 1);
	FUZZ_CHECK(s != NULL);
	memcpy(s, data, size);
	s[size] = 0;
	size_t len = strlen(s); /* statements are C strings: stop at a NUL */
	run(s, len, OTF_OTTL_CTX_LOG, false);
	run(s, len, OTF_OTTL_CTX_LOG, true);
	run(s, len, OTF_OTTL_CTX_SPAN, false);
	run(s, len, OTF_OTTL_CTX_DATAPOINT, false);
	for (int cond = 0; cond < 2; cond++) {
		otf_ottl_context_t ctx;
		otf_ottl_error_t e;
		const char *src = s;
		int rc = otf_ottl_infer_context(&src, 1, cond, &ctx, &e);
		FUZZ_CHECK(rc == 0 || rc == OTF_E_INVAL || rc == OTF_E_NOMEM);
		FUZZ_CHECK(rc != 0 || (unsigned)ctx < OTF_OTTL_CTX_COUNT);
		FUZZ_CHECK(rc == 0 || rc == OTF_E_NOMEM || e.column <= len);
	}
	free(s);
	return 0;
}
