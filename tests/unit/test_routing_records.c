/* The routing connector's record contexts (span, log, metric, datapoint),
 * in the engine with Collector YAML: each record goes to the first table
 * entry whose condition is true for it (record entries evaluated on the
 * record, resource entries on its resource, request entries on the client
 * metadata), unmatched records to default_pipelines; a request is split
 * by record, each part keeping its resources' and scopes' attributes and
 * schema_url; a metric split by data point keeps its type, temporality
 * and monotonicity; error_mode; config errors. What reaches each sink is
 * decoded and printed as "tenant@schema_url{scope:record,...}" so the
 * assertions name the records (log bodies, span ids, metric names with
 * their points' values and attributes). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "flow_nodes.h"

#include "otflow/arena.h"
#include "otflow/config.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"
#include "otflow/service.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct run {
	otf_config_t *cfg;
	otf_dag_t *dag;
	otf_service_settings_t st;
	otf_engine_t *e;
} run_t;

static int setup(void **state)
{
	(void)state;
	otf_components_register_builtins();
	otf_tf_register();
	otf_log_set_level(OTF_LOG_ERROR);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	otf_tf_reset();
	return 0;
}

static otf_buf_t *pb_of(otf_signal_t s, const char *json)
{
	otf_arena_t a;
	otf_arena_init(&a, 4096);
	otf_buf_t *b = NULL;
	int rc;
	if (s == OTF_SIGNAL_LOGS) {
		otf_logs_t l;
		rc = otf_pdata_json_decode_logs(&l, json, strlen(json), &a, NULL, NULL);
		rc = rc ? rc : otf_pdata_encode_logs(&l, &b);
	} else if (s == OTF_SIGNAL_TRACES) {
		otf_traces_t t;
		rc = otf_pdata_json_decode_traces(&t, json, strlen(json), &a, NULL, NULL);
		rc = rc ? rc : otf_pdata_encode_traces(&t, &b);
	} else {
		otf_metrics_t m;
		rc = otf_pdata_json_decode_metrics(&m, json, strlen(json), &a, NULL, NULL);
		rc = rc ? rc : otf_pdata_encode_metrics(&m, &b);
	}
	otf_arena_close(&a);
	if (rc)
		fail_msg("payload does not encode (%d): %s", rc, json);
	return b;
}

/* Sends json as one message of signal s through the config yaml (a
 * tf_src receiver, tf_sink/0..2 exporters), waits for its answer, stops. */
static void run_one(const char *yaml, otf_signal_t s, const char *json)
{
	otf_tf_reset();
	otf_tf_add(s, pb_of(s, json), 1);
	run_t r;
	otf_config_error_t err;
	memset(&r, 0, sizeof r);
	int rc = otf_config_load_string("test.yaml", yaml, strlen(yaml), NULL, &r.cfg, &err);
	if (!rc)
		rc = otf_service_build(r.cfg, &r.dag, &r.st, &err);
	if (rc)
		fail_msg("build: %s", err.text);
	otf_log_set_level(OTF_LOG_ERROR);
	assert_int_equal(otf_engine_start(r.dag, &r.st.runtime, &r.e), 0);
	otf_tf_await_answers(1, 10000);
	otf_engine_request_stop(r.e);
	assert_int_equal(otf_engine_join(r.e), 0);
	otf_dag_destroy(r.dag);
	otf_config_destroy(r.cfg);
}

static void expect_error(const char *yaml, const char *needle)
{
	run_t r;
	otf_config_error_t err;
	memset(&r, 0, sizeof r);
	int rc = otf_config_load_string("test.yaml", yaml, strlen(yaml), NULL, &r.cfg, &err);
	if (!rc)
		rc = otf_service_build(r.cfg, &r.dag, &r.st, &err);
	if (!rc) {
		otf_dag_destroy(r.dag);
		otf_config_destroy(r.cfg);
		fail_msg("accepted; expected an error with '%s'", needle);
	}
	otf_config_destroy(r.cfg);
	if (!strstr(err.text, "test.yaml:") || !strstr(err.text, needle))
		fail_msg("error '%s' lacks test.yaml: or '%s'", err.text, needle);
}

/* ---- printing what a sink got ---- */

typedef struct out {
	char s[2048];
	size_t n;
} out_t;

static void put(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out_t *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(o->s + o->n, sizeof o->s - o->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		o->n += (size_t)k < sizeof o->s - o->n ? (size_t)k : sizeof o->s - o->n - 1;
}

static const otf_any_value_t *attr(const otf_attributes_t *a, const char *key)
{
	for (size_t i = 0; i < a->len; i++)
		if (a->items[i].key.len == strlen(key) &&
		    !memcmp(a->items[i].key.ptr, key, a->items[i].key.len))
			return &a->items[i].value;
	return NULL;
}

static void put_str(out_t *o, otf_bytes_t b)
{
	put(o, "%.*s", (int)b.len, (const char *)b.ptr);
}

/* "tenant[@url]" of a resource, "{" opened; "scope[@url]:" of a scope. */
static void put_resource(out_t *o, const otf_resource_t *r, otf_bytes_t url)
{
	const otf_any_value_t *t = attr(&r->attributes, "tenant");
	if (o->n)
		put(o, " ");
	if (t && t->type == OTF_ANY_STRING)
		put_str(o, t->u.string_value);
	if (url.len) {
		put(o, "@");
		put_str(o, url);
	}
	put(o, "{");
}

static void put_scope(out_t *o, size_t j, const otf_scope_t *s, otf_bytes_t url)
{
	if (j)
		put(o, ";");
	put_str(o, s->name);
	if (url.len) {
		put(o, "@");
		put_str(o, url);
	}
	put(o, ":");
}

static void describe_logs(out_t *o, const otf_logs_t *l)
{
	for (size_t i = 0; i < l->resource_logs_len; i++) {
		const otf_resource_logs_t *rl = &l->resource_logs[i];
		put_resource(o, &rl->resource, rl->schema_url);
		for (size_t j = 0; j < rl->scope_logs_len; j++) {
			const otf_scope_logs_t *sl = &rl->scope_logs[j];
			put_scope(o, j, &sl->scope, sl->schema_url);
			for (size_t k = 0; k < sl->log_records_len; k++) {
				put(o, k ? "," : "");
				put_str(o, sl->log_records[k].body.u.string_value);
			}
		}
		put(o, "}");
	}
}

static void describe_traces(out_t *o, const otf_traces_t *t)
{
	for (size_t i = 0; i < t->resource_spans_len; i++) {
		const otf_resource_spans_t *rs = &t->resource_spans[i];
		put_resource(o, &rs->resource, rs->schema_url);
		for (size_t j = 0; j < rs->scope_spans_len; j++) {
			const otf_scope_spans_t *ss = &rs->scope_spans[j];
			put_scope(o, j, &ss->scope, ss->schema_url);
			for (size_t k = 0; k < ss->spans_len; k++) {
				put(o, k ? "," : "");
				otf_bytes_t id = ss->spans[k].span_id;
				for (size_t b = 0; b < id.len; b++)
					put(o, "%02x", id.ptr[b]);
			}
		}
		put(o, "}");
	}
}

/* A metric: name/type/temporality[/m](value core,...), SUM and GAUGE. */
static void describe_metric(out_t *o, const otf_metric_t *m)
{
	put_str(o, m->name);
	put(o, "/%d/%d%s(", (int)m->type, (int)m->aggregation_temporality,
	    m->is_monotonic ? "/m" : "");
	for (size_t d = 0; d < m->data_points_len; d++) {
		const otf_number_data_point_t *p = &m->data_points.number[d];
		const otf_any_value_t *core = attr(&p->attributes, "core");
		put(o, "%s%" PRId64 " ", d ? "," : "", p->value.as_int);
		if (core && core->type == OTF_ANY_STRING)
			put_str(o, core->u.string_value);
	}
	put(o, ")");
}

static void describe_metrics(out_t *o, const otf_metrics_t *mm)
{
	for (size_t i = 0; i < mm->resource_metrics_len; i++) {
		const otf_resource_metrics_t *rm = &mm->resource_metrics[i];
		put_resource(o, &rm->resource, rm->schema_url);
		for (size_t j = 0; j < rm->scope_metrics_len; j++) {
			const otf_scope_metrics_t *sm = &rm->scope_metrics[j];
			put_scope(o, j, &sm->scope, sm->schema_url);
			for (size_t k = 0; k < sm->metrics_len; k++) {
				put(o, k ? "," : "");
				describe_metric(o, &sm->metrics[k]);
			}
		}
		put(o, "}");
	}
}

/* Sink slot got one message (a part of the sent one, or the sent one
 * itself when own) with exactly want in it. */
static void expect_sink(int slot, otf_signal_t s, const char *want)
{
	if (!want) {
		if (atomic_load(&otf_tf.sink[slot].seen))
			fail_msg("sink %d got %d messages, expected none", slot,
			         atomic_load(&otf_tf.sink[slot].seen));
		return;
	}
	if (atomic_load(&otf_tf.sink[slot].seen) != 1)
		fail_msg("sink %d got %d messages, expected 1 with %s", slot,
		         atomic_load(&otf_tf.sink[slot].seen), want);
	const otf_buf_t *b = otf_tf.sink[slot].payload[0];
	otf_arena_t a;
	otf_arena_init(&a, 4096);
	out_t o = {.n = 0};
	o.s[0] = 0;
	int rc;
	if (s == OTF_SIGNAL_LOGS) {
		otf_logs_t l;
		if (!(rc = otf_pdata_decode_logs(&l, b->data, b->len, &a, NULL, NULL)))
			describe_logs(&o, &l);
	} else if (s == OTF_SIGNAL_TRACES) {
		otf_traces_t t;
		if (!(rc = otf_pdata_decode_traces(&t, b->data, b->len, &a, NULL, NULL)))
			describe_traces(&o, &t);
	} else {
		otf_metrics_t m;
		if (!(rc = otf_pdata_decode_metrics(&m, b->data, b->len, &a, NULL, NULL)))
			describe_metrics(&o, &m);
	}
	otf_arena_close(&a);
	if (rc)
		fail_msg("sink %d: its payload does not decode (%d)", slot, rc);
	if (strcmp(o.s, want))
		fail_msg("sink %d got\n  %s\nexpected\n  %s", slot, o.s, want);
}

#define CONNECTOR(sig, table)                                                             \
	"receivers: {tf_src: {}}\n"                                                       \
	"exporters: {tf_sink/0: {slot: 0}, tf_sink/1: {slot: 1}, tf_sink/2: {slot: 2}}\n" \
	"connectors:\n"                                                                   \
	"  routing:\n" table "service:\n"                                                 \
	"  pipelines:\n"                                                                  \
	"    " sig ": {receivers: [tf_src], exporters: [routing]}\n"                      \
	"    " sig "/0: {receivers: [routing], exporters: [tf_sink/0]}\n"                 \
	"    " sig "/1: {receivers: [routing], exporters: [tf_sink/1]}\n"                 \
	"    " sig "/2: {receivers: [routing], exporters: [tf_sink/2]}\n"                 \
	"runtime: {workers: 1, shutdown_timeout: 2s}\n"

#define KV(k, v) "{\"key\":\"" k "\",\"value\":{\"stringValue\":\"" v "\"}}"
#define RES(tenant, url, scopes)                                                         \
	"{\"resource\":{\"attributes\":[" KV("tenant", tenant) "]},\"schemaUrl\":\"" url \
	                                                       "\",\"scope" scopes "}"
#define LOG(body, sev, attrs)                                                    \
	"{\"body\":{\"stringValue\":\"" body "\"},\"severityText\":\"" sev "\"," \
	"\"attributes\":[" attrs "]}"

/* Two resources, three scopes, records for each route; the first entry
 * that matches wins (x2 is east and ERROR: east). */
static const char k_logs[] = "{\"resourceLogs\":[" //
    RES("a", "https://s/a",
        "Logs\":["                                                     //
        "{\"scope\":{\"name\":\"s1\"},\"schemaUrl\":\"https://s/1\","  //
        "\"logRecords\":[" LOG("e1", "INFO", KV("region", "east")) "," //
        LOG("x1", "ERROR", "") "," LOG("d1", "INFO",
                                       "") "]},"                                           //
                                           "{\"scope\":{\"name\":\"s2\"},\"logRecords\":[" //
        LOG("e2", "INFO", KV("region", "east")) "]}]") ","                                 //
    RES("b", "",
        "Logs\":[{\"scope\":{\"name\":\"s3\"},\"logRecords\":[" //
        LOG("d2", "WARN", "") "," LOG("x2", "ERROR", KV("region", "east")) "]}]") "]}";

static void test_log_context(void **state)
{
	(void)state;
	run_one(CONNECTOR("logs", "    default_pipelines: [logs/2]\n"
	                          "    table:\n"
	                          "      - context: log\n"
	                          "        condition: attributes[\"region\"] == \"east\"\n"
	                          "        pipelines: [logs/0]\n"
	                          "      - context: log\n"
	                          "        statement: route() where severity_text == \"ERROR\"\n"
	                          "        pipelines: [logs/1]\n"),
	        OTF_SIGNAL_LOGS, k_logs);
	assert_int_equal(atomic_load(&otf_tf.acks), 1);
	assert_int_equal(atomic_load(&otf_tf.nacks), 0);
	expect_sink(0, OTF_SIGNAL_LOGS, "a@https://s/a{s1@https://s/1:e1;s2:e2} b{s3:x2}");
	expect_sink(1, OTF_SIGNAL_LOGS, "a@https://s/a{s1@https://s/1:x1}");
	expect_sink(2, OTF_SIGNAL_LOGS, "a@https://s/a{s1@https://s/1:d1} b{s3:d2}");
	/* each part is the sent message's, with its record count */
	uint64_t sent = atomic_load(&otf_tf.sent_ids[0]);
	for (int k = 0; k < 3; k++)
		assert_int_equal(otf_tf.sink[k].source[0], sent);
	assert_int_equal(otf_tf.sink[0].items[0], 3);
	assert_int_equal(otf_tf.sink[1].items[0], 1);
	assert_int_equal(otf_tf.sink[2].items[0], 2);
}

/* Record entries mixed with resource and request entries, in table
 * order; body and resource.attributes paths from the log context. */
static void test_mixed_contexts(void **state)
{
	(void)state;
	/* entry 0 (a resource entry) takes all of tenant b first */
	run_one(CONNECTOR("logs", "    default_pipelines: [logs/2]\n"
	                          "    table:\n"
	                          "      - condition: attributes[\"tenant\"] == \"b\"\n"
	                          "        pipelines: [logs/0]\n"
	                          "      - context: log\n"
	                          "        condition: body == \"e1\" or (resource.attributes"
	                          "[\"tenant\"] == \"a\" and IsMatch(body, \"^x\"))\n"
	                          "        pipelines: [logs/1]\n"),
	        OTF_SIGNAL_LOGS, k_logs);
	assert_int_equal(atomic_load(&otf_tf.acks), 1);
	expect_sink(0, OTF_SIGNAL_LOGS, "b{s3:d2,x2}");
	expect_sink(1, OTF_SIGNAL_LOGS, "a@https://s/a{s1@https://s/1:e1,x1}");
	expect_sink(2, OTF_SIGNAL_LOGS, "a@https://s/a{s1@https://s/1:d1;s2:e2}");
	/* a request entry before a record entry takes the whole request */
	run_one(CONNECTOR("logs", "    default_pipelines: [logs/2]\n"
	                          "    table:\n"
	                          "      - context: request\n"
	                          "        condition: request[\"X-Tenant\"] == nil\n"
	                          "        pipelines: [logs/0]\n"
	                          "      - context: log\n"
	                          "        condition: body == \"e1\"\n"
	                          "        pipelines: [logs/1]\n"),
	        OTF_SIGNAL_LOGS, k_logs);
	assert_int_equal(atomic_load(&otf_tf.acks), 1);
	/* everything to one route: the message itself goes on */
	assert_int_equal(otf_tf.sink[0].id[0], atomic_load(&otf_tf.sent_ids[0]));
	expect_sink(0, OTF_SIGNAL_LOGS, "a@https://s/a{s1@https://s/1:e1,x1,d1;s2:e2} b{s3:d2,x2}");
	expect_sink(1, OTF_SIGNAL_LOGS, NULL);
	expect_sink(2, OTF_SIGNAL_LOGS, NULL);
}

#define SPAN(id, name, attrs)                                                                      \
	"{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"" id "\",\"name\":\"" name \
	"\",\"attributes\":[" attrs "]}"

static const char k_traces[] = "{\"resourceSpans\":[" //
    RES("a", "",
        "Spans\":[{\"scope\":{\"name\":\"http\",\"version\":\"1\"},\"spans\":["               //
        SPAN("00000000000000a1", "GET", "") "," SPAN("00000000000000a2", "db", "") "]}]") "," //
    RES("b", "https://s/b",
        "Spans\":[{\"scope\":{\"name\":\"http\"},\"spans\":[" //
        SPAN("00000000000000b1", "db", "") "," SPAN(
            "00000000000000b2", "GET",
            "") "]},"                                                                        //
                "{\"scope\":{\"name\":\"rpc\"},\"spans\":[" SPAN("00000000000000b3", "call", //
                                                                 KV("peer", "x")) "]}]") "]}";

static void test_span_context(void **state)
{
	(void)state;
	run_one(CONNECTOR("traces", "    default_pipelines: [traces/2]\n"
	                            "    table:\n"
	                            "      - context: span\n"
	                            "        condition: name == \"GET\"\n"
	                            "        pipelines: [traces/0]\n"
	                            "      - context: resource\n"
	                            "        condition: attributes[\"tenant\"] == \"b\"\n"
	                            "        pipelines: [traces/1]\n"),
	        OTF_SIGNAL_TRACES, k_traces);
	assert_int_equal(atomic_load(&otf_tf.acks), 1);
	expect_sink(0, OTF_SIGNAL_TRACES,
	            "a{http:00000000000000a1} b@https://s/b{http:00000000000000b2}");
	expect_sink(1, OTF_SIGNAL_TRACES,
	            "b@https://s/b{http:00000000000000b1;rpc:00000000000000b3}");
	expect_sink(2, OTF_SIGNAL_TRACES, "a{http:00000000000000a2}");
}

#define DP(v, core) "{\"asInt\":\"" v "\",\"attributes\":[" KV("core", core) "]}"

static const char k_metrics[] = "{\"resourceMetrics\":[" RES(
    "a", "",
    "Metrics\":[{\"scope\":{\"name\":\"host\"},\"metrics\":["                       //
    "{\"name\":\"cpu\",\"sum\":{\"aggregationTemporality\":2,\"isMonotonic\":true," //
    "\"dataPoints\":[" DP("1", "0") "," DP(
        "2", "1") "]}},"                                                          //
                  "{\"name\":\"mem\",\"unit\":\"By\",\"gauge\":{\"dataPoints\":[" //
    DP("3", "0") "," DP(
        "4", "1") "]}},"                                                                          //
                  "{\"name\":\"net\",\"sum\":{\"aggregationTemporality\":1,\"isMonotonic\":true," //
                  "\"dataPoints\":[" DP("5", "1") "," DP(
                      "6", "3") "]}}," //
                                "{\"name\":\"disk\",\"gauge\":{\"dataPoints\":[" DP(
                                    "7", "2") "]}}]}]") "]}";

/* metric entries route whole metrics, datapoint entries single points;
 * a split metric keeps its type, temporality and monotonicity. */
static void test_metric_and_datapoint_contexts(void **state)
{
	(void)state;
	run_one(CONNECTOR("metrics", "    default_pipelines: [metrics/2]\n"
	                             "    table:\n"
	                             "      - context: metric\n"
	                             "        condition: name == \"cpu\"\n"
	                             "        pipelines: [metrics/0]\n"
	                             "      - context: datapoint\n"
	                             "        condition: attributes[\"core\"] == \"1\"\n"
	                             "        pipelines: [metrics/1]\n"),
	        OTF_SIGNAL_METRICS, k_metrics);
	assert_int_equal(atomic_load(&otf_tf.acks), 1);
	expect_sink(0, OTF_SIGNAL_METRICS, "a{host:cpu/7/2/m(1 0,2 1)}");
	expect_sink(1, OTF_SIGNAL_METRICS, "a{host:mem/5/0(4 1),net/7/1/m(5 1)}");
	expect_sink(2, OTF_SIGNAL_METRICS, "a{host:mem/5/0(3 0),net/7/1/m(6 3),disk/5/0(7 2)}");
	assert_int_equal(otf_tf.sink[0].items[0], 2);
	assert_int_equal(otf_tf.sink[1].items[0], 2);
	assert_int_equal(otf_tf.sink[2].items[0], 3);
	/* metric entries alone: whole metrics */
	run_one(CONNECTOR("metrics", "    default_pipelines: [metrics/2]\n"
	                             "    table:\n"
	                             "      - context: metric\n"
	                             "        condition: unit == \"By\"\n"
	                             "        pipelines: [metrics/1]\n"
	                             "      - context: metric\n"
	                             "        condition: name == \"none\"\n"
	                             "        pipelines: [metrics/0]\n"),
	        OTF_SIGNAL_METRICS, k_metrics);
	expect_sink(1, OTF_SIGNAL_METRICS, "a{host:mem/5/0(3 0,4 1)}");
	expect_sink(2, OTF_SIGNAL_METRICS,
	            "a{host:cpu/7/2/m(1 0,2 1),net/7/1/m(5 1,6 3),disk/5/0(7 2)}");
}

/* error_mode: propagate nacks the request (permanent, naming the entry),
 * nothing sent; ignore takes the failing entry as not matched. */
static void test_error_mode(void **state)
{
	(void)state;
	run_one(CONNECTOR("logs", "    default_pipelines: [logs/2]\n"
	                          "    table:\n"
	                          "      - context: log\n"
	                          "        condition: Len(attributes[\"missing\"]) > 0\n"
	                          "        pipelines: [logs/0, logs/1]\n"),
	        OTF_SIGNAL_LOGS, k_logs);
	assert_int_equal(atomic_load(&otf_tf.nack_permanent), 1);
	assert_non_null(strstr(otf_tf.reason, "route 'table[0]'"));
	expect_sink(0, OTF_SIGNAL_LOGS, NULL);
	expect_sink(2, OTF_SIGNAL_LOGS, NULL);
	run_one(CONNECTOR("logs", "    default_pipelines: [logs/2]\n"
	                          "    error_mode: ignore\n"
	                          "    table:\n"
	                          "      - context: log\n"
	                          "        condition: Len(attributes[\"missing\"]) > 0\n"
	                          "        pipelines: [logs/0]\n"
	                          "      - context: log\n"
	                          "        condition: severity_text == \"ERROR\"\n"
	                          "        pipelines: [logs/1]\n"),
	        OTF_SIGNAL_LOGS, k_logs);
	assert_int_equal(atomic_load(&otf_tf.acks), 1);
	expect_sink(0, OTF_SIGNAL_LOGS, NULL);
	expect_sink(1, OTF_SIGNAL_LOGS, "a@https://s/a{s1@https://s/1:x1} b{s3:x2}");
	expect_sink(2, OTF_SIGNAL_LOGS, "a@https://s/a{s1@https://s/1:e1,d1;s2:e2} b{s3:d2}");
}

/* Without default_pipelines unmatched records are dropped (acked, as the
 * Collector), the matched ones delivered. */
static void test_no_default_drops(void **state)
{
	(void)state;
	run_one(CONNECTOR("logs", "    table:\n"
	                          "      - context: log\n"
	                          "        condition: severity_text == \"ERROR\"\n"
	                          "        pipelines: [logs/0, logs/1, logs/2]\n"),
	        OTF_SIGNAL_LOGS, k_logs);
	assert_int_equal(atomic_load(&otf_tf.acks), 1);
	expect_sink(0, OTF_SIGNAL_LOGS, "a@https://s/a{s1@https://s/1:x1} b{s3:x2}");
	expect_sink(2, OTF_SIGNAL_LOGS, "a@https://s/a{s1@https://s/1:x1} b{s3:x2}");
}

/* A scope without records and a resource without scopes: the entries of
 * a record context cannot see them, resource entries can; the rest is
 * default's. */
static void test_empty_containers(void **state)
{
	(void)state;
	run_one(
	    CONNECTOR("logs", "    default_pipelines: [logs/2]\n"
	                      "    table:\n"
	                      "      - context: log\n"
	                      "        condition: attributes[\"region\"] == \"east\"\n"
	                      "        pipelines: [logs/0]\n"
	                      "      - condition: attributes[\"tenant\"] == \"d\"\n"
	                      "        pipelines: [logs/1]\n"),
	    OTF_SIGNAL_LOGS,
	    "{\"resourceLogs\":[" RES(
	        "a", "",
	        "Logs\":[{\"scope\":{\"name\":\"s1\"},"
	        "\"logRecords\":[" LOG(
	            "e1", "INFO",
	            KV("region",
	               "east")) "]},"
	                        "{\"scope\":{\"name\":\"s2\"}}]") ","
	                                                          "{\"resource\":{\"attributes\":"
	                                                          "[" KV("tenant",
	                                                                 "c") "]}},"
	                                                                      "{\"resource\":{"
	                                                                      "\"attributes\":[" KV(
	                                                                          "tenant",
	                                                                          "d") "]}}]}");
	assert_int_equal(atomic_load(&otf_tf.acks), 1);
	expect_sink(0, OTF_SIGNAL_LOGS, "a{s1:e1}");
	expect_sink(1, OTF_SIGNAL_LOGS, "d{}");
	expect_sink(2, OTF_SIGNAL_LOGS, "a{s2:} c{}");
}

static void test_config_errors(void **state)
{
	(void)state;
	/* a record entry of a signal the connector never gets */
	expect_error(CONNECTOR("logs", "    default_pipelines: [logs/2]\n"
	                               "    table:\n"
	                               "      - {context: datapoint, condition: 'true', pipelines: "
	                               "[logs/0]}\n"
	                               "      - {context: log, condition: 'true', pipelines: "
	                               "[logs/1]}\n"),
	             "table[0]: context datapoint routes data points, but the connector receives "
	             "no metrics");
	/* a path of another context */
	expect_error(CONNECTOR("logs", "    default_pipelines: [logs/2]\n"
	                               "    table:\n"
	                               "      - {context: log, condition: 'true', pipelines: "
	                               "[logs/0]}\n"
	                               "      - {context: log, condition: 'kind == 1', pipelines: "
	                               "[logs/1]}\n"),
	             "route 'table[1]'");
	expect_error(CONNECTOR("logs", "    default_pipelines: [logs/2]\n"
	                               "    table:\n"
	                               "      - {context: log, statement: 'drop() where true', "
	                               "pipelines: [logs/0, logs/1]}\n"),
	             "route() where <condition>");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_log_context, teardown),
	    cmocka_unit_test_teardown(test_mixed_contexts, teardown),
	    cmocka_unit_test_teardown(test_span_context, teardown),
	    cmocka_unit_test_teardown(test_metric_and_datapoint_contexts, teardown),
	    cmocka_unit_test_teardown(test_error_mode, teardown),
	    cmocka_unit_test_teardown(test_no_default_drops, teardown),
	    cmocka_unit_test_teardown(test_empty_containers, teardown),
	    cmocka_unit_test(test_config_errors),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
