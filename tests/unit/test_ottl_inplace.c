/* The in-place path of the filter and transform processors (lazy OTTL
 * records over the protobuf bytes, otf_pdata_rewrite): for the
 * OpenTelemetry demo's transform statements, the filter README's examples
 * and statements covering each kind of edit (tests/support/inplace_check.c),
 * the in-place output decodes to exactly what decode + run + encode gives;
 * the cases that must take the tree do; the demo's span names come out
 * rewritten; unknown fields of an untouched record survive. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ottl_expect.h"

#include "components/processors/transform/transform.h"
#include "inplace_check.h"

#define S(k, v) "{\"key\":\"" k "\",\"value\":{\"stringValue\":\"" v "\"}}"
#define I(k, v) "{\"key\":\"" k "\",\"value\":{\"intValue\":\"" v "\"}}"
#define TID     "\"traceId\":\"0102030405060708090a0b0c0d0e0f10\""

static const char in_logs_json[] =
    "{\"resourceLogs\":["
    "{\"resource\":{\"attributes\":[" S("service.name", "checkout") "," S(
        "host.name",
        "localhost") "]},"
                     "\"scopeLogs\":["
                     "{\"scope\":{\"name\":\"a\"},\"logRecords\":["
                     "{\"timeUnixNano\":\"1700000000000000001\",\"severityNumber\":9,"
                     "\"severityText\":\"INFO\"," TID ",\"body\":{\"stringValue\":\"GET "
                     "/orders/123\"},"
                     "\"attributes\":[" S("http.request.method", "GET") "," I(
                         "http.response.status_code",
                         "200") "," S("user_agent.original",
                                      "curl") ",{\"key\":\"nested\",\"value\":{"
                                              "\"kvlistValue\":{\"values\":[" S("a", "x") "," I(
                                                  "b",
                                                  "1") "]}}}]},"
                                                       "{"
                                                       "\"severityNumber\":"
                                                       "17,\"body\":{"
                                                       "\"stringValue\":"
                                                       "\"payment failed, "
                                                       "password=1\"},"
                                                       "\"attributes\":[" S(
                                                           "http.request."
                                                           "method",
                                                           "POST") "," I("http.response.status_"
                                                                         "code",
                                                                         "503") ",{\"key\":\"arr\","
                                                                                "\"value\":{"
                                                                                "\"arrayValue\":{"
                                                                                "\"values\":[{"
                                                                                "\"intValue\":"
                                                                                "\"1\"},{"
                                                                                "\"stringValue\":"
                                                                                "\"two\"}]}}}]},"
                                                                                "{\"body\":{"
                                                                                "\"kvlistValue\":{"
                                                                                "\"values\":[" S(
                                                                                    "msg",
                                                                                    "fail") "]}}}]}"
                                                                                            ","
                                                                                            "{\"sco"
                                                                                            "pe\":{"
                                                                                            "\"name"
                                                                                            "\":"
                                                                                            "\"b\"}"
                                                                                            "}]},"
                                                                                            "{\"res"
                                                                                            "ource"
                                                                                            "\":{"
                                                                                            "\"attr"
                                                                                            "ibutes"
                                                                                            "\":"
                                                                                            "[" S(
                                                                                                "se"
                                                                                                "rv"
                                                                                                "ic"
                                                                                                "e."
                                                                                                "na"
                                                                                                "m"
                                                                                                "e",
                                                                                                "ca"
                                                                                                "r"
                                                                                                "t") "]},"
                                                                                                     "\"scopeLogs\":[{"
                                                                                                     "\"logRecords\":[{"
                                                                                                     "\"severityNumber\":"
                                                                                                     "13,"
                                                                                                     "\"severityText\":"
                                                                                                     "\"WARN\",\"body\":"
                                                                                                     "{\"stringValue\":"
                                                                                                     "\"ok\"},"
                                                                                                     "\"attributes\":[" S(
                                                                                                         "k",
                                                                                                         "1") "," S("k",
                                                                                                                    "2") ",{\"key\":\"http.response.status_code\",\"value\":{\"doubleValue\":500.0}}]}]}]}]}";

#define SPAN(name, kind, rest)                                                           \
	"{" TID ",\"spanId\":\"1112131415161718\",\"name\":\"" name "\",\"kind\":" #kind \
	",\"startTimeUnixNano\":\"10\",\"endTimeUnixNano\":\"20\"" rest "}"

static const char traces_json[] =
    "{\"resourceSpans\":["
    "{\"resource\":{\"attributes\":[" S("service.name", "frontend") "," S(
        "host.name",
        "web-1") "]},"
                 "\"scopeSpans\":[{\"scope\":{\"name\":\"next\"},\"spans\":[" SPAN(
                     "GET /api/products/OLJCESPC7Z?currencyCode=USD", 2,
                     ",\"attributes\":[" I("http.response.status_code", "200") "," S(
                         "http.url",
                         "h"
                         "t"
                         "t"
                         "p"
                         ":"
                         "/"
                         "/"
                         "x"
                         "/"
                         "p") "," S("container.name",
                                    "app_container_1") "],"
                                                       "\"events\":[{"
                                                       "\"name\":\"grpc "
                                                       "call\","
                                                       "\"attributes\":[{"
                                                       "\"key\":\"grpc\","
                                                       "\"value\":{"
                                                       "\"boolValue\":"
                                                       "true}}]}]") "," SPAN("GET "
                                                                             "/api/"
                                                                             "cart?sessionId=1",
                                                                             1,
                                                                             ",\"attributes\":[" I(
                                                                                 "http.response."
                                                                                 "status_code",
                                                                                 "503") "],"
                                                                                        "\"links\":"
                                                                                        "[{" TID
                                                                                        ",\"spanId"
                                                                                        "\":"
                                                                                        "\"21222324"
                                                                                        "25262728\""
                                                                                        "}"
                                                                                        "]") "," SPAN("POST "
                                                                                                      "/api/"
                                                                                                      "checkou"
                                                                                                      "t",
                                                                                                      3,
                                                                                                      ",\"stat"
                                                                                                      "us\":{"
                                                                                                      "\"code"
                                                                                                      "\":2,"
                                                                                                      "\"messa"
                                                                                                      "ge\":"
                                                                                                      "\"boom"
                                                                                                      "\"}") "," SPAN("app_3",
                                                                                                                      1,
                                                                                                                      "") "]}]},"
                                                                                                                          "{\"resource\":{},\"scopeSpans\":[{\"spans\":[" SPAN(
                                                                                                                              "x",
                                                                                                                              2,
                                                                                                                              "") "]}]}]}";

static const char metrics_json[] =
    "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"name\":\"x\",\"gauge\":{"
    "\"dataPoints\":[{\"asInt\":\"1\"}]}}]}]}]}";

/* The request of signal s as protobuf, in the test arena. */
static otf_bytes_t request(otf_signal_t s)
{
	ottlproc_tree_t t = {.signal = s};
	const char *j = s == OTF_SIGNAL_LOGS     ? in_logs_json
	                : s == OTF_SIGNAL_TRACES ? traces_json
	                                         : metrics_json;
	int rc =
	    s == OTF_SIGNAL_LOGS
	        ? otf_pdata_json_decode_logs(&t.u.logs, j, strlen(j), &arena, NULL, NULL)
	    : s == OTF_SIGNAL_TRACES
	        ? otf_pdata_json_decode_traces(&t.u.traces, j, strlen(j), &arena, NULL, NULL)
	        : otf_pdata_json_decode_metrics(&t.u.metrics, j, strlen(j), &arena, NULL, NULL);
	assert_int_equal(rc, 0);
	otf_buf_t *b = NULL;
	uint64_t items;
	assert_int_equal(otf__ottlproc_encode(&t, &b, &items), 0);
	otf_bytes_t out = {otf_arena_memdup(&arena, b->data, b->len), b->len};
	otf_buf_unref(b);
	return out;
}

static void test_cases_equal_tree(void **state)
{
	(void)state;
	for (size_t i = 0; i < inplace_cases_len; i++) {
		const inplace_case_t *c = &inplace_cases[i];
		void *cfg = inplace_load(c);
		if (!cfg)
			fail_msg("case %zu does not load", i);
		otf_bytes_t in = request(c->signal);
		char diff[512];
		int rc = inplace_check(c, cfg, in.ptr, in.len, diff, sizeof diff);
		inplace_free(c, cfg);
		int want = c->in_place ? INPLACE_EQUAL : INPLACE_FALLBACK;
		if (rc != want)
			fail_msg("case %zu (%s): got %d, want %d: %s\n%s", i, c->processor, rc,
			         want, diff, c->yaml);
	}
}

/* The demo's statements in place: names without query strings, product
 * ids as a placeholder, everything else as it was. */
static void test_demo_names_in_place(void **state)
{
	(void)state;
	const inplace_case_t *c = &inplace_cases[0];
	otf_transform_config_t *cfg = inplace_load(c);
	assert_non_null(cfg);
	otf_bytes_t in = request(OTF_SIGNAL_TRACES);
	otf_buf_t *b = otf_buf_create(in.len);
	memcpy(b->data, in.ptr, in.len);
	b->len = in.len;
	otf_ottl_stats_t st = {0};
	uint64_t logged = 0;
	ottlproc_inplace_result_t ip;
	assert_int_equal(
	    otf__transform_inplace(cfg, OTF_SIGNAL_TRACES, b, &arena, &st, &logged, &ip), 1);
	assert_non_null(ip.out);
	assert_int_equal(ip.items, 5);
	assert_int_equal(ip.patched, 2);
	otf_traces_t t;
	assert_int_equal(otf_pdata_decode_traces(&t, ip.out->data, ip.out->len, &arena, NULL, NULL),
	                 0);
	otf_span_t *sp = t.resource_spans[0].scope_spans[0].spans;
	assert_bytes(sp[0].name, "GET /api/products/{productId}");
	assert_bytes(sp[1].name, "GET /api/cart");
	assert_bytes(sp[2].name, "POST /api/checkout");
	assert_int_equal(sp[0].events_len, 1);
	assert_int_equal(sp[1].links_len, 1);
	assert_int_equal(sp[2].status.code, OTF_STATUS_CODE_ERROR);
	assert_bytes(t.resource_spans[0].resource.attributes.items[0].value.u.string_value,
	             "frontend");
	otf_buf_unref(ip.out);
	otf_buf_unref(b);
	inplace_free(c, cfg);
}

/* A field no decoder knows (LogRecord field 99) stays in a record that is
 * not rewritten and in one that is; the patched one gets the new value. */
static void test_unknown_fields_kept(void **state)
{
	(void)state;
	/* LogsData{resource_logs{scope_logs{log_records x2}}}: record 1 has
	 * severity_text "INFO" and field 99 = "u"; record 2 severity 17 and
	 * the same unknown field */
	static const uint8_t req[] = {
	    0x0a, 0x1a,                                               /* resource_logs, 26 */
	    0x12, 0x18,                                               /* scope_logs, 24 */
	    0x12, 0x0a,                                               /* log_records, 10 */
	    0x1a, 0x04, 'I',  'N',  'F',  'O', 0x9a, 0x06, 0x01, 'u', /* text, field 99 */
	    0x12, 0x0a,                                               /* log_records, 10 */
	    0x10, 0x11, 0x9a, 0x06, 0x01, 'u', 0x1a, 0x02, 'h',  'i'};
	const inplace_case_t c = {
	    "transform", OTF_SIGNAL_LOGS,
	    "log_statements:\n  - 'set(log.severity_text, \"ERR\") where log.severity_number "
	    ">= 17'\n",
	    true};
	otf_transform_config_t *cfg = inplace_load(&c);
	assert_non_null(cfg);
	otf_buf_t *b = otf_buf_create(sizeof req);
	memcpy(b->data, req, sizeof req);
	b->len = sizeof req;
	otf_ottl_stats_t st = {0};
	uint64_t logged = 0;
	ottlproc_inplace_result_t ip;
	assert_int_equal(otf__transform_inplace(cfg, OTF_SIGNAL_LOGS, b, &arena, &st, &logged, &ip),
	                 1);
	assert_non_null(ip.out);
	static const uint8_t want[] = {0x0a, 0x1b, 0x12, 0x19, 0x12, 0x0a, 0x1a, 0x04, 'I',  'N',
	                               'F',  'O',  0x9a, 0x06, 0x01, 'u',  0x12, 0x0b, 0x10, 0x11,
	                               0x9a, 0x06, 0x01, 'u',  0x1a, 0x03, 'E',  'R',  'R'};
	assert_int_equal(ip.out->len, sizeof want);
	assert_memory_equal(ip.out->data, want, sizeof want);
	char diff[256];
	assert_int_equal(inplace_check(&c, cfg, req, sizeof req, diff, sizeof diff), INPLACE_EQUAL);
	otf_buf_unref(ip.out);
	otf_buf_unref(b);
	inplace_free(&c, cfg);
}

/* Bytes the views cannot walk (a record cut short, a record field of the
 * wrong wire type) send the request to the tree path, which reports the
 * decoder's error; nothing is returned from the in-place path. */
static void test_malformed_falls_back(void **state)
{
	(void)state;
	const inplace_case_t *c = &inplace_cases[1]; /* the where clause on every record */
	otf_transform_config_t *cfg = inplace_load(c);
	assert_non_null(cfg);
	static const uint8_t cut[] = {0x0a, 0x06, 0x12, 0x04, 0x12, 0x09, 0x1a, 0x04}; /* short */
	static const uint8_t wt[] = {0x0a, 0x04, 0x12,
	                             0x02, 0x10, 0x01}; /* log_records as varint */
	const uint8_t *in[] = {cut, wt};
	size_t n[] = {sizeof cut, sizeof wt};
	for (int i = 0; i < 2; i++) {
		otf_buf_t *b = otf_buf_create(n[i]);
		memcpy(b->data, in[i], n[i]);
		b->len = n[i];
		otf_ottl_stats_t st = {0};
		uint64_t logged = 0;
		ottlproc_inplace_result_t ip;
		assert_int_equal(
		    otf__transform_inplace(cfg, OTF_SIGNAL_LOGS, b, &arena, &st, &logged, &ip), 0);
		assert_null(ip.out);
		assert_int_equal(st.records, 0);
		otf_logs_t l;
		assert_true(otf_pdata_decode_logs(&l, b->data, b->len, &arena, NULL, NULL) < 0);
		otf_buf_unref(b);
	}
	inplace_free(c, cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_cases_equal_tree, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_demo_names_in_place, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_fields_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_falls_back, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
