/* Fuzz target: arbitrary text to the OTTL compiler, as a statement and as
 * a condition, for the log and span contexts. Whatever compiles also runs
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
		} else {
			rc = otf_ottl_run_logs(p, OTF_OTTL_ERROR_IGNORE, &l, &arena, &st);
			FUZZ_CHECK(rc == 0);
			rc = otf_pdata_encode_logs(&l, &out);
			FUZZ_CHECK(rc == 0 || rc == OTF_E_DEPTH);
			if (!rc)
				FUZZ_CHECK(otf_pdata_decode_logs(&back, out->data, out->len, &arena,
				                                 NULL, NULL) == 0);
		}
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
	free(s);
	return 0;
}
