/* OTLP/JSON codec: every field of every message decoded from hand-written
 * JSON, proto (snake_case) names, id case, integers as strings and numbers,
 * NaN/Infinity, enum names, error codes and paths, exact encoder output,
 * encode -> decode identity on generated trees, the opentelemetry-proto
 * examples (when present) and allocation failure. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otf_test.h"
#include "pdata_eq.h"
#include "pdata_gen.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static otf_arena_t arena;

static int setup(void **state)
{
	(void)state;
	otf_arena_init(&arena, 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	otf_arena_close(&arena);
	return 0;
}

static bool bytes_eq(otf_bytes_t b, const char *s)
{
	return b.len == strlen(s) && (b.len == 0 || memcmp(b.ptr, s, b.len) == 0);
}

#define assert_bytes(b, s)      assert_true(bytes_eq((b), (s)))
#define assert_bytes_n(b, s, n) assert_true((b).len == (n) && memcmp((b).ptr, (s), (n)) == 0)

static void dec_traces(const char *js, otf_traces_t *t)
{
	otf_pdata_error_t e = {0};
	char buf[512];
	int rc = otf_pdata_json_decode_traces(t, js, strlen(js), &arena, NULL, &e);
	if (rc)
		fail_msg("%s", otf_pdata_error_format(&e, buf, sizeof buf));
}

static void dec_metrics(const char *js, otf_metrics_t *m)
{
	otf_pdata_error_t e = {0};
	char buf[512];
	int rc = otf_pdata_json_decode_metrics(m, js, strlen(js), &arena, NULL, &e);
	if (rc)
		fail_msg("%s", otf_pdata_error_format(&e, buf, sizeof buf));
}

static void dec_logs(const char *js, otf_logs_t *l)
{
	otf_pdata_error_t e = {0};
	char buf[512];
	int rc = otf_pdata_json_decode_logs(l, js, strlen(js), &arena, NULL, &e);
	if (rc)
		fail_msg("%s", otf_pdata_error_format(&e, buf, sizeof buf));
}

static const uint8_t TID[16] = {0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03,
                                0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c};
static const uint8_t SID[8] = {0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74};

/* ---- traces ---- */

static const char TRACES_CAMEL[] =
    "{\"resourceSpans\":[{"
    "\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"svc\"}}],"
    "\"droppedAttributesCount\":3,"
    "\"entityRefs\":[{\"schemaUrl\":\"su\",\"type\":\"service\",\"idKeys\":[\"a\",\"b\"],"
    "\"descriptionKeys\":[\"c\"]}]},"
    "\"scopeSpans\":[{\"scope\":{\"name\":\"lib\",\"version\":\"1.0\",\"attributes\":[{\"key\":"
    "\"sa\",\"value\":{\"boolValue\":false}}],\"droppedAttributesCount\":4},"
    "\"spans\":[{\"traceId\":\"5B8EFFF798038103D269B633813FC60C\",\"spanId\":\"eee19b7ec3c1b174\","
    "\"traceState\":\"k=v\",\"parentSpanId\":\"EEE19B7EC3C1B174\",\"flags\":257,\"name\":\"op\","
    "\"kind\":2,\"startTimeUnixNano\":\"1544712660000000000\",\"endTimeUnixNano\":"
    "1544712661000000000,\"attributes\":[{\"key\":\"i\",\"value\":{\"intValue\":\"-42\"}}],"
    "\"droppedAttributesCount\":\"5\","
    "\"events\":[{\"timeUnixNano\":\"7\",\"name\":\"ev\",\"attributes\":[{\"key\":\"e\"}],"
    "\"droppedAttributesCount\":6}],\"droppedEventsCount\":7,"
    "\"links\":[{\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"EeE19b7eC3c1B174\","
    "\"traceState\":\"ls\",\"attributes\":[{\"key\":\"l\",\"value\":{\"doubleValue\":1.5}}],"
    "\"droppedAttributesCount\":8,\"flags\":9}],\"droppedLinksCount\":10,"
    "\"status\":{\"message\":\"boom\",\"code\":2}}],"
    "\"schemaUrl\":\"scope-url\"}],"
    "\"schemaUrl\":\"res-url\"}]}";

static void check_traces(const otf_traces_t *t)
{
	assert_int_equal(t->resource_spans_len, 1);
	const otf_resource_spans_t *rs = &t->resource_spans[0];
	assert_bytes(rs->schema_url, "res-url");
	assert_int_equal(rs->resource.attributes.len, 1);
	assert_bytes(rs->resource.attributes.items[0].key, "service.name");
	assert_int_equal(rs->resource.attributes.items[0].value.type, OTF_ANY_STRING);
	assert_bytes(rs->resource.attributes.items[0].value.u.string_value, "svc");
	assert_int_equal(rs->resource.dropped_attributes_count, 3);
	assert_int_equal(rs->resource.entity_refs_len, 1);
	const otf_entity_ref_t *er = &rs->resource.entity_refs[0];
	assert_bytes(er->schema_url, "su");
	assert_bytes(er->type, "service");
	assert_int_equal(er->id_keys.len, 2);
	assert_bytes(er->id_keys.items[0], "a");
	assert_bytes(er->id_keys.items[1], "b");
	assert_int_equal(er->description_keys.len, 1);
	assert_bytes(er->description_keys.items[0], "c");

	assert_int_equal(rs->scope_spans_len, 1);
	const otf_scope_spans_t *ss = &rs->scope_spans[0];
	assert_bytes(ss->schema_url, "scope-url");
	assert_bytes(ss->scope.name, "lib");
	assert_bytes(ss->scope.version, "1.0");
	assert_int_equal(ss->scope.attributes.len, 1);
	assert_int_equal(ss->scope.attributes.items[0].value.type, OTF_ANY_BOOL);
	assert_false(ss->scope.attributes.items[0].value.u.bool_value);
	assert_int_equal(ss->scope.dropped_attributes_count, 4);

	assert_int_equal(ss->spans_len, 1);
	const otf_span_t *s = &ss->spans[0];
	assert_bytes_n(s->trace_id, TID, 16);
	assert_bytes_n(s->span_id, SID, 8);
	assert_bytes(s->trace_state, "k=v");
	assert_bytes_n(s->parent_span_id, SID, 8);
	assert_int_equal(s->flags, 257);
	assert_bytes(s->name, "op");
	assert_int_equal(s->kind, OTF_SPAN_KIND_SERVER);
	assert_true(s->start_time_unix_nano == 1544712660000000000ull);
	assert_true(s->end_time_unix_nano == 1544712661000000000ull);
	assert_int_equal(s->attributes.len, 1);
	assert_int_equal(s->attributes.items[0].value.type, OTF_ANY_INT);
	assert_true(s->attributes.items[0].value.u.int_value == -42);
	assert_int_equal(s->dropped_attributes_count, 5);
	assert_int_equal(s->events_len, 1);
	assert_true(s->events[0].time_unix_nano == 7);
	assert_bytes(s->events[0].name, "ev");
	assert_int_equal(s->events[0].attributes.len, 1);
	assert_bytes(s->events[0].attributes.items[0].key, "e");
	assert_int_equal(s->events[0].attributes.items[0].value.type, OTF_ANY_EMPTY);
	assert_int_equal(s->events[0].dropped_attributes_count, 6);
	assert_int_equal(s->dropped_events_count, 7);
	assert_int_equal(s->links_len, 1);
	const otf_span_link_t *l = &s->links[0];
	assert_bytes_n(l->trace_id, TID, 16);
	assert_bytes_n(l->span_id, SID, 8);
	assert_bytes(l->trace_state, "ls");
	assert_int_equal(l->attributes.items[0].value.type, OTF_ANY_DOUBLE);
	assert_true(l->attributes.items[0].value.u.double_value == 1.5);
	assert_int_equal(l->dropped_attributes_count, 8);
	assert_int_equal(l->flags, 9);
	assert_int_equal(s->dropped_links_count, 10);
	assert_bytes(s->status.message, "boom");
	assert_int_equal(s->status.code, OTF_STATUS_CODE_ERROR);
}

static void test_traces_all_fields(void **state)
{
	(void)state;
	otf_traces_t t;
	dec_traces(TRACES_CAMEL, &t);
	check_traces(&t);
}

/* The same request with the proto field names and enum value names. */
static const char TRACES_SNAKE[] =
    "{\"resource_spans\":[{"
    "\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"string_value\":\"svc\"}}]"
    ","
    "\"dropped_attributes_count\":3,"
    "\"entity_refs\":[{\"schema_url\":\"su\",\"type\":\"service\",\"id_keys\":[\"a\",\"b\"],"
    "\"description_keys\":[\"c\"]}]},"
    "\"scope_spans\":[{\"scope\":{\"name\":\"lib\",\"version\":\"1.0\",\"attributes\":[{\"key\":"
    "\"sa\",\"value\":{\"bool_value\":false}}],\"dropped_attributes_count\":4},"
    "\"spans\":[{\"trace_id\":\"5b8efff798038103d269b633813fc60c\",\"span_id\":"
    "\"EEE19B7EC3C1B174\","
    "\"trace_state\":\"k=v\",\"parent_span_id\":\"eee19b7ec3c1b174\",\"flags\":\"257\",\"name\":"
    "\"op\","
    "\"kind\":\"SPAN_KIND_SERVER\",\"start_time_unix_nano\":1544712660000000000,"
    "\"end_time_unix_nano\":\"1544712661000000000\",\"attributes\":[{\"key\":\"i\",\"value\":{"
    "\"int_value\":-42}}],\"dropped_attributes_count\":5,"
    "\"events\":[{\"time_unix_nano\":7,\"name\":\"ev\",\"attributes\":[{\"key\":\"e\"}],"
    "\"dropped_attributes_count\":6}],\"dropped_events_count\":7,"
    "\"links\":[{\"trace_id\":\"5B8EFFF798038103D269B633813FC60C\",\"span_id\":"
    "\"eee19b7ec3c1b174\","
    "\"trace_state\":\"ls\",\"attributes\":[{\"key\":\"l\",\"value\":{\"double_value\":\"1.5\"}}],"
    "\"dropped_attributes_count\":8,\"flags\":9}],\"dropped_links_count\":10,"
    "\"status\":{\"message\":\"boom\",\"code\":\"STATUS_CODE_ERROR\"}}],"
    "\"schema_url\":\"scope-url\"}],"
    "\"schema_url\":\"res-url\"}]}";

static void test_traces_snake_case(void **state)
{
	(void)state;
	otf_traces_t a, b;
	dec_traces(TRACES_SNAKE, &a);
	check_traces(&a);
	dec_traces(TRACES_CAMEL, &b);
	char diff[256];
	assert_true(otf_eq_traces(&a, &b, diff, sizeof diff));
}

/* ---- metrics ---- */

static const char METRICS[] =
    "{\"resourceMetrics\":[{\"resource\":{},\"schemaUrl\":\"r\",\"scopeMetrics\":[{\"scope\":{"
    "\"name\":\"m\"},\"schemaUrl\":\"s\",\"metrics\":["
    /* gauge, int value, exemplar with double value and ids */
    "{\"name\":\"g\",\"description\":\"gd\",\"unit\":\"By\",\"metadata\":[{\"key\":\"md\","
    "\"value\":{\"stringValue\":\"x\"}}],\"gauge\":{\"dataPoints\":[{\"attributes\":[{\"key\":"
    "\"a\",\"value\":{\"intValue\":1}}],\"startTimeUnixNano\":\"1\",\"timeUnixNano\":\"2\","
    "\"asInt\":\"-9223372036854775808\",\"flags\":1,\"exemplars\":[{\"filteredAttributes\":[{"
    "\"key\":\"f\",\"value\":{\"stringValue\":\"v\"}}],\"timeUnixNano\":\"3\",\"asDouble\":2.5,"
    "\"spanId\":\"EEE19B7EC3C1B174\",\"traceId\":\"5B8EFFF798038103D269B633813FC60C\"},"
    "{\"asInt\":0}]}]}},"
    /* sum: enum name, monotonic, double value as a string */
    "{\"name\":\"s\",\"sum\":{\"aggregationTemporality\":\"AGGREGATION_TEMPORALITY_CUMULATIVE\","
    "\"isMonotonic\":true,\"dataPoints\":[{\"asDouble\":\"-Infinity\"},{\"asDouble\":0}]}},"
    /* histogram */
    "{\"name\":\"h\",\"histogram\":{\"aggregationTemporality\":1,\"dataPoints\":[{"
    "\"startTimeUnixNano\":\"10\",\"timeUnixNano\":\"11\",\"count\":\"18446744073709551615\","
    "\"sum\":0,\"bucketCounts\":[\"1\",2,\"3\"],\"explicitBounds\":[0.5,\"Infinity\",-1],"
    "\"exemplars\":[{\"asInt\":\"7\"}],\"flags\":0,\"min\":-2.25,\"max\":\"NaN\","
    "\"attributes\":[]}]}},"
    /* exponential histogram */
    "{\"name\":\"e\",\"exponentialHistogram\":{\"aggregationTemporality\":2,\"dataPoints\":[{"
    "\"count\":3,\"sum\":10,\"scale\":-3,\"zeroCount\":\"1\",\"positive\":{\"offset\":-2,"
    "\"bucketCounts\":[\"0\",\"2\"]},\"negative\":{\"offset\":5},\"flags\":1,\"exemplars\":[{}],"
    "\"min\":0,\"max\":5,\"zeroThreshold\":1e-9,\"startTimeUnixNano\":\"4\","
    "\"timeUnixNano\":\"5\",\"attributes\":[{\"key\":\"k\"}]}]}},"
    /* summary */
    "{\"name\":\"q\",\"summary\":{\"dataPoints\":[{\"startTimeUnixNano\":\"6\",\"timeUnixNano\":"
    "\"7\",\"count\":\"4\",\"sum\":12.5,\"quantileValues\":[{\"quantile\":0.5,\"value\":3},{"
    "\"quantile\":1,\"value\":\"9.5\"}],\"flags\":1,\"attributes\":[{\"key\":\"z\"}]}]}},"
    /* no data */
    "{\"name\":\"none\"}"
    "]}]}]}";

static void test_metrics_all_fields(void **state)
{
	(void)state;
	otf_metrics_t mm;
	dec_metrics(METRICS, &mm);
	assert_int_equal(mm.resource_metrics_len, 1);
	const otf_resource_metrics_t *rm = &mm.resource_metrics[0];
	assert_bytes(rm->schema_url, "r");
	assert_int_equal(rm->resource.attributes.len, 0);
	assert_int_equal(rm->scope_metrics_len, 1);
	const otf_scope_metrics_t *sm = &rm->scope_metrics[0];
	assert_bytes(sm->schema_url, "s");
	assert_bytes(sm->scope.name, "m");
	assert_int_equal(sm->metrics_len, 6);

	const otf_metric_t *g = &sm->metrics[0];
	assert_bytes(g->name, "g");
	assert_bytes(g->description, "gd");
	assert_bytes(g->unit, "By");
	assert_int_equal(g->metadata.len, 1);
	assert_bytes(g->metadata.items[0].key, "md");
	assert_int_equal(g->type, OTF_METRIC_GAUGE);
	assert_int_equal(g->data_points_len, 1);
	const otf_number_data_point_t *np = &g->data_points.number[0];
	assert_int_equal(np->attributes.len, 1);
	assert_true(np->attributes.items[0].value.u.int_value == 1);
	assert_true(np->start_time_unix_nano == 1 && np->time_unix_nano == 2);
	assert_int_equal(np->value_type, OTF_NUMBER_INT);
	assert_true(np->value.as_int == INT64_MIN);
	assert_int_equal(np->flags, 1);
	assert_int_equal(np->exemplars.len, 2);
	const otf_exemplar_t *ex = &np->exemplars.items[0];
	assert_int_equal(ex->filtered_attributes.len, 1);
	assert_bytes(ex->filtered_attributes.items[0].key, "f");
	assert_true(ex->time_unix_nano == 3);
	assert_int_equal(ex->value_type, OTF_NUMBER_DOUBLE);
	assert_true(ex->value.as_double == 2.5);
	assert_bytes_n(ex->span_id, SID, 8);
	assert_bytes_n(ex->trace_id, TID, 16);
	assert_int_equal(np->exemplars.items[1].value_type, OTF_NUMBER_INT);
	assert_true(np->exemplars.items[1].value.as_int == 0);

	const otf_metric_t *s = &sm->metrics[1];
	assert_int_equal(s->type, OTF_METRIC_SUM);
	assert_int_equal(s->aggregation_temporality, OTF_TEMPORALITY_CUMULATIVE);
	assert_true(s->is_monotonic);
	assert_int_equal(s->data_points_len, 2);
	assert_int_equal(s->data_points.number[0].value_type, OTF_NUMBER_DOUBLE);
	assert_true(isinf(s->data_points.number[0].value.as_double) &&
	            s->data_points.number[0].value.as_double < 0);
	assert_int_equal(s->data_points.number[1].value_type, OTF_NUMBER_DOUBLE);

	const otf_metric_t *h = &sm->metrics[2];
	assert_int_equal(h->type, OTF_METRIC_HISTOGRAM);
	assert_int_equal(h->aggregation_temporality, OTF_TEMPORALITY_DELTA);
	const otf_histogram_data_point_t *hp = &h->data_points.histogram[0];
	assert_true(hp->start_time_unix_nano == 10 && hp->time_unix_nano == 11);
	assert_true(hp->count == UINT64_MAX);
	assert_true(hp->has_sum && hp->sum == 0);
	assert_int_equal(hp->bucket_counts_len, 3);
	assert_true(hp->bucket_counts[0] == 1 && hp->bucket_counts[1] == 2 &&
	            hp->bucket_counts[2] == 3);
	assert_int_equal(hp->explicit_bounds_len, 3);
	assert_true(hp->explicit_bounds[0] == 0.5 && isinf(hp->explicit_bounds[1]) &&
	            hp->explicit_bounds[2] == -1);
	assert_int_equal(hp->exemplars.len, 1);
	assert_true(hp->exemplars.items[0].value.as_int == 7);
	assert_true(hp->has_min && hp->min == -2.25);
	assert_true(hp->has_max && isnan(hp->max));
	assert_int_equal(hp->attributes.len, 0);

	const otf_metric_t *e = &sm->metrics[3];
	assert_int_equal(e->type, OTF_METRIC_EXP_HISTOGRAM);
	assert_int_equal(e->aggregation_temporality, OTF_TEMPORALITY_CUMULATIVE);
	const otf_exp_histogram_data_point_t *ep = &e->data_points.exp_histogram[0];
	assert_true(ep->count == 3 && ep->has_sum && ep->sum == 10);
	assert_int_equal(ep->scale, -3);
	assert_true(ep->zero_count == 1);
	assert_int_equal(ep->positive.offset, -2);
	assert_int_equal(ep->positive.bucket_counts_len, 2);
	assert_true(ep->positive.bucket_counts[1] == 2);
	assert_int_equal(ep->negative.offset, 5);
	assert_int_equal(ep->negative.bucket_counts_len, 0);
	assert_int_equal(ep->flags, 1);
	assert_int_equal(ep->exemplars.len, 1);
	assert_int_equal(ep->exemplars.items[0].value_type, OTF_NUMBER_NONE);
	assert_true(ep->has_min && ep->min == 0 && ep->has_max && ep->max == 5);
	assert_true(ep->zero_threshold == 1e-9);
	assert_true(ep->start_time_unix_nano == 4 && ep->time_unix_nano == 5);
	assert_int_equal(ep->attributes.len, 1);

	const otf_metric_t *q = &sm->metrics[4];
	assert_int_equal(q->type, OTF_METRIC_SUMMARY);
	const otf_summary_data_point_t *qp = &q->data_points.summary[0];
	assert_true(qp->start_time_unix_nano == 6 && qp->time_unix_nano == 7);
	assert_true(qp->count == 4 && qp->sum == 12.5);
	assert_int_equal(qp->quantile_values_len, 2);
	assert_true(qp->quantile_values[0].quantile == 0.5 && qp->quantile_values[0].value == 3);
	assert_true(qp->quantile_values[1].quantile == 1 && qp->quantile_values[1].value == 9.5);
	assert_int_equal(qp->flags, 1);
	assert_int_equal(qp->attributes.len, 1);

	assert_int_equal(sm->metrics[5].type, OTF_METRIC_NONE);
	assert_int_equal(sm->metrics[5].data_points_len, 0);
}

/* ---- logs ---- */

static const char LOGS[] =
    "{\"resource_logs\":[{\"resource\":{\"attributes\":[{\"key\":\"r\",\"value\":{\"bytesValue\":"
    "\"AP8=\"}}]},\"schemaUrl\":\"ru\",\"scope_logs\":[{\"scope\":{\"name\":\"n\"},"
    "\"schema_url\":\"su\",\"log_records\":[{"
    "\"timeUnixNano\":\"1544712660300000000\",\"observedTimeUnixNano\":1544712660300000001,"
    "\"severityNumber\":\"SEVERITY_NUMBER_WARN2\",\"severityText\":\"Warning\","
    "\"body\":{\"kvlistValue\":{\"values\":[{\"key\":\"arr\",\"value\":{\"arrayValue\":{"
    "\"values\":[{\"stringValue\":\"x\"},{\"intValue\":\"9223372036854775807\"},{\"boolValue\":"
    "true},{\"doubleValue\":\"Infinity\"},{\"bytesValue\":\"-_8\"},{\"arrayValue\":{}},{"
    "\"kvlistValue\":{}},{}]}}}]}},"
    "\"attributes\":[{\"key\":\"a\",\"value\":{\"stringValue\":\"\\u00e9\\ud83d\\ude00\\n\"}}],"
    "\"droppedAttributesCount\":2,\"flags\":\"1\",\"traceId\":\"5b8efff798038103d269b633813fc60c\","
    "\"spanId\":\"EEE19B7EC3C1B174\",\"eventName\":\"evt\"},{\"severityNumber\":24}]}]}]}";

static void test_logs_all_fields(void **state)
{
	(void)state;
	otf_logs_t l;
	dec_logs(LOGS, &l);
	assert_int_equal(l.resource_logs_len, 1);
	const otf_resource_logs_t *rl = &l.resource_logs[0];
	assert_bytes(rl->schema_url, "ru");
	const otf_any_value_t *rv = &rl->resource.attributes.items[0].value;
	assert_int_equal(rv->type, OTF_ANY_BYTES);
	assert_bytes_n(rv->u.bytes_value, "\x00\xff", 2);
	const otf_scope_logs_t *sl = &rl->scope_logs[0];
	assert_bytes(sl->schema_url, "su");
	assert_bytes(sl->scope.name, "n");
	assert_int_equal(sl->log_records_len, 2);
	const otf_log_record_t *r = &sl->log_records[0];
	assert_true(r->time_unix_nano == 1544712660300000000ull);
	assert_true(r->observed_time_unix_nano == 1544712660300000001ull);
	assert_int_equal(r->severity_number, 14);
	assert_bytes(r->severity_text, "Warning");
	assert_int_equal(r->body.type, OTF_ANY_KVLIST);
	assert_int_equal(r->body.u.kvlist_value.values_len, 1);
	const otf_key_value_t *kv = &r->body.u.kvlist_value.values[0];
	assert_bytes(kv->key, "arr");
	assert_int_equal(kv->value.type, OTF_ANY_ARRAY);
	const otf_any_value_t *av = kv->value.u.array_value.values;
	assert_int_equal(kv->value.u.array_value.values_len, 8);
	assert_int_equal(av[0].type, OTF_ANY_STRING);
	assert_bytes(av[0].u.string_value, "x");
	assert_int_equal(av[1].type, OTF_ANY_INT);
	assert_true(av[1].u.int_value == INT64_MAX);
	assert_int_equal(av[2].type, OTF_ANY_BOOL);
	assert_true(av[2].u.bool_value);
	assert_int_equal(av[3].type, OTF_ANY_DOUBLE);
	assert_true(isinf(av[3].u.double_value) && av[3].u.double_value > 0);
	assert_int_equal(av[4].type, OTF_ANY_BYTES); /* URL-safe alphabet, no padding */
	assert_bytes_n(av[4].u.bytes_value, "\xfb\xff", 2);
	assert_int_equal(av[5].type, OTF_ANY_ARRAY);
	assert_int_equal(av[5].u.array_value.values_len, 0);
	assert_int_equal(av[6].type, OTF_ANY_KVLIST);
	assert_int_equal(av[6].u.kvlist_value.values_len, 0);
	assert_int_equal(av[7].type, OTF_ANY_EMPTY);
	assert_int_equal(r->attributes.len, 1);
	assert_bytes(r->attributes.items[0].value.u.string_value, "\xc3\xa9\xf0\x9f\x98\x80\n");
	assert_int_equal(r->dropped_attributes_count, 2);
	assert_int_equal(r->flags, 1);
	assert_bytes_n(r->trace_id, TID, 16);
	assert_bytes_n(r->span_id, SID, 8);
	assert_bytes(r->event_name, "evt");
	assert_int_equal(sl->log_records[1].severity_number, 24);
}

/* null means default; unknown keys (nested too) are skipped; the last
 * oneof member wins. */
static void test_null_unknown_and_oneof(void **state)
{
	(void)state;
	otf_logs_t l;
	dec_logs("{\"resourceLogs\":[{\"resource\":null,\"future\":{\"x\":[1,{\"y\":null}]},"
	         "\"scopeLogs\":[{\"logRecords\":[{\"body\":null,\"timeUnixNano\":null,"
	         "\"traceId\":\"\",\"spanId\":null,\"severityNumber\":null,\"attributes\":null,"
	         "\"newField\":\"z\",\"flags\":0}],\"scope\":{\"name\":null}}]}],\"extra\":1}",
	         &l);
	const otf_log_record_t *r = &l.resource_logs[0].scope_logs[0].log_records[0];
	assert_int_equal(r->body.type, OTF_ANY_EMPTY);
	assert_true(r->time_unix_nano == 0);
	assert_int_equal(r->trace_id.len, 0);
	assert_int_equal(r->span_id.len, 0);
	assert_int_equal(r->attributes.len, 0);

	otf_traces_t t;
	dec_traces("{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"k\",\"value\":{"
	           "\"intValue\":\"5\",\"stringValue\":\"s\"}}]}}]}",
	           &t);
	const otf_any_value_t *v = &t.resource_spans[0].resource.attributes.items[0].value;
	assert_int_equal(v->type, OTF_ANY_STRING);
	assert_bytes(v->u.string_value, "s");

	otf_metrics_t m;
	dec_metrics(
	    "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"sum\":{"
	    "\"isMonotonic\":true,\"dataPoints\":[{}]},\"gauge\":{\"dataPoints\":[{},{}]}}]}]}]}",
	    &m);
	const otf_metric_t *mt = &m.resource_metrics[0].scope_metrics[0].metrics[0];
	assert_int_equal(mt->type, OTF_METRIC_GAUGE);
	assert_int_equal(mt->data_points_len, 2);
	assert_false(mt->is_monotonic);
}

/* Integers as numbers, strings, integral doubles and exponent strings. */
static void test_integer_forms(void **state)
{
	(void)state;
	otf_traces_t t;
	dec_traces("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":["
	           "{\"startTimeUnixNano\":\"18446744073709551615\",\"endTimeUnixNano\":1e3,"
	           "\"droppedAttributesCount\":4294967295,\"kind\":\"3\",\"flags\":\"2e1\"},"
	           "{\"startTimeUnixNano\":18446744073709551615,\"endTimeUnixNano\":\"0\","
	           "\"droppedAttributesCount\":2.0,\"kind\":-7}]}]}]}",
	           &t);
	const otf_span_t *s = t.resource_spans[0].scope_spans[0].spans;
	assert_true(s[0].start_time_unix_nano == UINT64_MAX);
	assert_true(s[0].end_time_unix_nano == 1000);
	assert_true(s[0].dropped_attributes_count == UINT32_MAX);
	assert_int_equal(s[0].kind, 3);
	assert_int_equal(s[0].flags, 20);
	assert_true(s[1].start_time_unix_nano == UINT64_MAX);
	assert_true(s[1].end_time_unix_nano == 0);
	assert_int_equal(s[1].dropped_attributes_count, 2);
	assert_int_equal(s[1].kind, -7); /* unknown enum values are kept */
}

/* ---- responses ---- */

static void test_response(void **state)
{
	(void)state;
	static const struct {
		otf_signal_t sig;
		const char *json;
	} cases[] = {
	    {OTF_SIGNAL_TRACES,
	     "{\"partialSuccess\":{\"rejectedSpans\":\"3\",\"errorMessage\":\"bad\"}}"},
	    {OTF_SIGNAL_METRICS,
	     "{\"partial_success\":{\"rejected_data_points\":3,\"error_message\":\"bad\"}}"},
	    {OTF_SIGNAL_LOGS,
	     "{\"partialSuccess\":{\"rejectedLogRecords\":\"3\",\"errorMessage\":\"bad\"}}"},
	};
	static const char *const want[] = {
	    "{\"partialSuccess\":{\"rejectedSpans\":\"3\",\"errorMessage\":\"bad\"}}",
	    "{\"partialSuccess\":{\"rejectedDataPoints\":\"3\",\"errorMessage\":\"bad\"}}",
	    "{\"partialSuccess\":{\"rejectedLogRecords\":\"3\",\"errorMessage\":\"bad\"}}",
	};
	for (size_t i = 0; i < 3; i++) {
		otf_export_response_t r;
		otf_pdata_error_t e;
		assert_int_equal(otf_pdata_json_decode_response(&r, cases[i].sig, cases[i].json,
		                                                strlen(cases[i].json), &arena, &e),
		                 0);
		assert_true(r.has_partial_success);
		assert_true(r.rejected == 3);
		assert_bytes(r.error_message, "bad");
		otf_buf_t *b = NULL;
		assert_int_equal(otf_pdata_json_encode_response(&r, cases[i].sig, &b), 0);
		assert_int_equal(b->len, strlen(want[i]));
		assert_memory_equal(b->data, want[i], b->len);
		otf_buf_unref(b);
	}
	otf_export_response_t r;
	assert_int_equal(
	    otf_pdata_json_decode_response(&r, OTF_SIGNAL_TRACES, "{}", 2, &arena, NULL), 0);
	assert_false(r.has_partial_success);
	otf_buf_t *b = NULL;
	assert_int_equal(otf_pdata_json_encode_response(&r, OTF_SIGNAL_TRACES, &b), 0);
	assert_int_equal(b->len, 2);
	otf_buf_unref(b);
	/* A present but empty partial success stays present. */
	assert_int_equal(otf_pdata_json_decode_response(
	                     &r, OTF_SIGNAL_LOGS, "{\"partialSuccess\":{}}", 21, &arena, NULL),
	                 0);
	assert_true(r.has_partial_success);
	assert_int_equal(otf_pdata_json_encode_response(&r, OTF_SIGNAL_LOGS, &b), 0);
	assert_memory_equal(b->data, "{\"partialSuccess\":{}}", b->len);
	otf_buf_unref(b);
}

/* ---- errors ---- */

typedef struct err_case {
	otf_signal_t sig;
	const char *json;
	int code;
	const char *path;
	long offset; /* -1: not checked */
} err_case;

#define SPAN(x) "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{}," x "]}]}]}"
#define SPATH   "resourceSpans[0].scopeSpans[0].spans[1]"
#define LOG(x)  "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[" x "]}]}]}"
#define LPATH   "resourceLogs[0].scopeLogs[0].logRecords[0]"
#define MET(x)  "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[" x "]}]}]}"
#define MPATH   "resourceMetrics[0].scopeMetrics[0].metrics[0]"

static const err_case ERR_CASES[] = {
    /* malformed JSON: code and byte offset */
    {OTF_SIGNAL_TRACES, "{\"resourceSpans\":[", OTF_E_JSON, "", 18},
    {OTF_SIGNAL_TRACES, "{\"a\":1,}", OTF_E_JSON, "", 7},
    {OTF_SIGNAL_TRACES, "{} x", OTF_E_JSON, "", 3},
    {OTF_SIGNAL_TRACES, "", OTF_E_JSON, "", 0},
    {OTF_SIGNAL_TRACES, "{\"a\":01}", OTF_E_JSON, "", -1},
    /* not JSON, though json-c accepted it (tests/support/jsonc_ref/json_diff.h) */
    {OTF_SIGNAL_TRACES, "{\"a\":NaN}", OTF_E_JSON, "", -1},
    {OTF_SIGNAL_TRACES, "{\"a\":1.}", OTF_E_JSON, "", -1},
    {OTF_SIGNAL_TRACES, "{\"a\":-01}", OTF_E_JSON, "", -1},
    {OTF_SIGNAL_TRACES, "{\"a\":\"\x01\"}", OTF_E_JSON, "", -1},
    /* malformed under an unknown key: still malformed */
    {OTF_SIGNAL_TRACES, "{\"x\":[1 2],\"resourceSpans\":[]}", OTF_E_JSON, "", -1},
    /* wrong types */
    {OTF_SIGNAL_TRACES, "[]", OTF_E_JSON_TYPE, "", -1},
    {OTF_SIGNAL_TRACES, "{\"resourceSpans\":{}}", OTF_E_JSON_TYPE, "resourceSpans", -1},
    {OTF_SIGNAL_TRACES, "{\"resourceSpans\":[1]}", OTF_E_JSON_TYPE, "resourceSpans[0]", -1},
    {OTF_SIGNAL_TRACES, "{\"resourceSpans\":[null]}", OTF_E_JSON_TYPE, "resourceSpans[0]", -1},
    {OTF_SIGNAL_TRACES, SPAN("{\"name\":5}"), OTF_E_JSON_TYPE, SPATH ".name", -1},
    {OTF_SIGNAL_TRACES, SPAN("{\"status\":{\"code\":true}}"), OTF_E_JSON_TYPE, SPATH ".status.code",
     -1},
    {OTF_SIGNAL_TRACES, SPAN("{\"kind\":\"SPAN_KIND_NOPE\"}"), OTF_E_JSON_TYPE, SPATH ".kind", -1},
    {OTF_SIGNAL_TRACES, SPAN("{\"start_time_unix_nano\":\"12x\"}"), OTF_E_JSON_TYPE,
     SPATH ".startTimeUnixNano", -1},
    {OTF_SIGNAL_TRACES, SPAN("{\"attributes\":[{\"key\":\"k\",\"value\":{\"boolValue\":1}}]}"),
     OTF_E_JSON_TYPE, SPATH ".attributes[0].value.boolValue", -1},
    {OTF_SIGNAL_TRACES,
     SPAN("{\"attributes\":[{\"key\":\"k\",\"value\":{\"doubleValue\":\"nan\"}}]}"),
     OTF_E_JSON_TYPE, SPATH ".attributes[0].value.doubleValue", -1},
    /* ids */
    {OTF_SIGNAL_TRACES, SPAN("{\"traceId\":\"5B8EFFF798038103D269B633813FC60\"}"), OTF_E_ID_LENGTH,
     SPATH ".traceId", -1},
    {OTF_SIGNAL_TRACES, SPAN("{\"spanId\":\"5B8EFFF798038103D2\"}"), OTF_E_ID_LENGTH,
     SPATH ".spanId", -1},
    {OTF_SIGNAL_TRACES, SPAN("{\"parentSpanId\":\"EEE19B7EC3C1B17G\"}"), OTF_E_HEX,
     SPATH ".parentSpanId", -1},
    {OTF_SIGNAL_TRACES, SPAN("{\"links\":[{},{\"traceId\":\"XB8EFFF798038103D269B633813FC60C\"}]}"),
     OTF_E_HEX, SPATH ".links[1].traceId", -1},
    {OTF_SIGNAL_TRACES, SPAN("{\"traceId\":42}"), OTF_E_JSON_TYPE, SPATH ".traceId", -1},
    /* base64 */
    {OTF_SIGNAL_LOGS, LOG("{\"body\":{\"bytesValue\":\"QUJD$\"}}"), OTF_E_JSON_TYPE,
     LPATH ".body.bytesValue", -1},
    {OTF_SIGNAL_LOGS, LOG("{\"body\":{\"bytesValue\":\"QUJDR\"}}"), OTF_E_JSON_TYPE,
     LPATH ".body.bytesValue", -1},
    {OTF_SIGNAL_LOGS, LOG("{\"body\":{\"bytesValue\":\"QQ=\"}}"), OTF_E_JSON_TYPE,
     LPATH ".body.bytesValue", -1},
    /* UTF-8: lone surrogate escapes and raw invalid bytes */
    {OTF_SIGNAL_LOGS, LOG("{\"severityText\":\"a\\ud800b\"}"), OTF_E_UTF8, LPATH ".severityText",
     -1},
    {OTF_SIGNAL_LOGS, LOG("{\"eventName\":\"\\udc00\"}"), OTF_E_UTF8, LPATH ".eventName", -1},
    {OTF_SIGNAL_LOGS, LOG("{\"eventName\":\"\\ud83d\\u0041\"}"), OTF_E_UTF8, LPATH ".eventName",
     -1},
    {OTF_SIGNAL_LOGS,
     LOG("{\"attributes\":[{\"key\":\"a\xff"
         "b\"}]}"),
     OTF_E_UTF8, LPATH ".attributes[0].key", -1},
    {OTF_SIGNAL_LOGS, LOG("{\"body\":{\"stringValue\":\"\xc0\xaf\"}}"), OTF_E_UTF8,
     LPATH ".body.stringValue", -1},
    /* ranges */
    {OTF_SIGNAL_LOGS, LOG("{\"severityNumber\":1e30}"), OTF_E_RANGE, LPATH ".severityNumber", -1},
    {OTF_SIGNAL_LOGS, LOG("{\"severityNumber\":2147483648}"), OTF_E_RANGE, LPATH ".severityNumber",
     -1},
    {OTF_SIGNAL_LOGS, LOG("{\"droppedAttributesCount\":-1}"), OTF_E_RANGE,
     LPATH ".droppedAttributesCount", -1},
    {OTF_SIGNAL_LOGS, LOG("{\"flags\":4294967296}"), OTF_E_RANGE, LPATH ".flags", -1},
    {OTF_SIGNAL_LOGS, LOG("{\"timeUnixNano\":\"-5\"}"), OTF_E_RANGE, LPATH ".timeUnixNano", -1},
    {OTF_SIGNAL_LOGS, LOG("{\"timeUnixNano\":\"18446744073709551616\"}"), OTF_E_RANGE,
     LPATH ".timeUnixNano", -1},
    {OTF_SIGNAL_LOGS, LOG("{\"body\":{\"intValue\":\"9223372036854775808\"}}"), OTF_E_RANGE,
     LPATH ".body.intValue", -1},
    {OTF_SIGNAL_LOGS, LOG("{\"body\":{\"intValue\":9223372036854775808}}"), OTF_E_RANGE,
     LPATH ".body.intValue", -1},
    /* json-c saturated literals beyond 64 bits silently */
    {OTF_SIGNAL_LOGS, LOG("{\"timeUnixNano\":18446744073709551616}"), OTF_E_RANGE,
     LPATH ".timeUnixNano", -1},
    {OTF_SIGNAL_LOGS, LOG("{\"body\":{\"intValue\":-9223372036854775809}}"), OTF_E_RANGE,
     LPATH ".body.intValue", -1},
    {OTF_SIGNAL_LOGS, LOG("{\"body\":{\"intValue\":1.5}}"), OTF_E_RANGE, LPATH ".body.intValue",
     -1},
    {OTF_SIGNAL_LOGS, LOG("{\"body\":{\"doubleValue\":1e400}}"), OTF_E_RANGE,
     LPATH ".body.doubleValue", -1},
    /* metrics paths */
    {OTF_SIGNAL_METRICS, MET("{\"sum\":{\"dataPoints\":[{\"exemplars\":[{\"spanId\":\"abc\"}]}]}}"),
     OTF_E_ID_LENGTH, MPATH ".sum.dataPoints[0].exemplars[0].spanId", -1},
    {OTF_SIGNAL_METRICS, MET("{\"histogram\":{\"dataPoints\":[{\"bucketCounts\":[\"1\",-2]}]}}"),
     OTF_E_RANGE, MPATH ".histogram.dataPoints[0].bucketCounts[1]", -1},
    {OTF_SIGNAL_METRICS,
     MET("{\"exponential_histogram\":{\"data_points\":[{\"positive\":{\"offset\":\"x\"}}]}}"),
     OTF_E_JSON_TYPE, MPATH ".exponentialHistogram.dataPoints[0].positive.offset", -1},
    {OTF_SIGNAL_METRICS,
     MET("{\"summary\":{\"dataPoints\":[{\"quantileValues\":[{\"value\":[]}]}]}}"), OTF_E_JSON_TYPE,
     MPATH ".summary.dataPoints[0].quantileValues[0].value", -1},
    {OTF_SIGNAL_METRICS, MET("{\"sum\":{\"aggregationTemporality\":\"DELTA\"}}"), OTF_E_JSON_TYPE,
     MPATH ".sum.aggregationTemporality", -1},
};

static int dec_signal(otf_signal_t sig, const char *js, size_t len, const otf_pdata_limits_t *lim,
                      otf_pdata_error_t *e)
{
	union {
		otf_traces_t t;
		otf_metrics_t m;
		otf_logs_t l;
	} u;
	switch (sig) {
	case OTF_SIGNAL_TRACES:
		return otf_pdata_json_decode_traces(&u.t, js, len, &arena, lim, e);
	case OTF_SIGNAL_METRICS:
		return otf_pdata_json_decode_metrics(&u.m, js, len, &arena, lim, e);
	case OTF_SIGNAL_LOGS:
		return otf_pdata_json_decode_logs(&u.l, js, len, &arena, lim, e);
	}
	return -1;
}

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof ERR_CASES / sizeof ERR_CASES[0]; i++) {
		const err_case *c = &ERR_CASES[i];
		otf_pdata_error_t e;
		memset(&e, 0x55, sizeof e);
		int rc = dec_signal(c->sig, c->json, strlen(c->json), NULL, &e);
		char buf[512];
		if (rc != c->code || e.code != c->code || strcmp(e.path, c->path) != 0 ||
		    (c->offset >= 0 && e.offset != (size_t)c->offset))
			fail_msg("case %zu %s: got %s (%s), want %s path \"%s\"", i, c->json,
			         otf_err_name(rc), otf_pdata_error_format(&e, buf, sizeof buf),
			         otf_err_name(c->code), c->path);
		/* err == NULL is accepted everywhere */
		assert_int_equal(dec_signal(c->sig, c->json, strlen(c->json), NULL, NULL), c->code);
	}
}

static void test_depth_and_size_limits(void **state)
{
	(void)state;
	/* AnyValue nested 3 levels: fine with max_depth 3, OTF_E_DEPTH with 2. */
	const char *js =
	    LOG("{\"body\":{\"arrayValue\":{\"values\":[{\"kvlistValue\":{\"values\":[{"
	        "\"key\":\"k\",\"value\":{\"intValue\":1}}]}}]}}}");
	otf_pdata_limits_t lim = {0, 3};
	otf_pdata_error_t e;
	assert_int_equal(dec_signal(OTF_SIGNAL_LOGS, js, strlen(js), &lim, &e), 0);
	lim.max_depth = 2;
	assert_int_equal(dec_signal(OTF_SIGNAL_LOGS, js, strlen(js), &lim, &e), OTF_E_DEPTH);
	assert_string_equal(e.path, LPATH ".body.arrayValue.values[0].kvlistValue.values[0].value");

	/* Default limit (32): 40 nested arrays fail, in json-c's depth check or
	 * ours, with OTF_E_DEPTH either way. */
	char deep[4096];
	size_t n = (size_t)snprintf(deep, sizeof deep,
	                            "{\"resourceLogs\":[{\"scopeLogs\":[{"
	                            "\"logRecords\":[{\"body\":");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(deep + n, sizeof deep - n, "{\"arrayValue\":{\"values\":[");
	n += (size_t)snprintf(deep + n, sizeof deep - n, "{}");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(deep + n, sizeof deep - n, "]}}");
	n += (size_t)snprintf(deep + n, sizeof deep - n, "}]}]}]}");
	assert_true(n < sizeof deep);
	assert_int_equal(dec_signal(OTF_SIGNAL_LOGS, deep, n, NULL, &e), OTF_E_DEPTH);
	/* ... and succeed with a higher limit. */
	lim.max_depth = 64;
	assert_int_equal(dec_signal(OTF_SIGNAL_LOGS, deep, n, &lim, &e), 0);

	/* Input size. */
	lim.max_depth = 0;
	lim.max_input_bytes = 10;
	js = "{\"resourceLogs\":[]}";
	assert_int_equal(dec_signal(OTF_SIGNAL_LOGS, js, strlen(js), &lim, &e), OTF_E_TOO_LARGE);
	assert_int_equal(e.code, OTF_E_TOO_LARGE);
	lim.max_input_bytes = strlen(js);
	assert_int_equal(dec_signal(OTF_SIGNAL_LOGS, js, strlen(js), &lim, &e), 0);

	/* The input need not be NUL-terminated: only len bytes are read. */
	char nonul[] = {'{', '}', 'x'};
	assert_int_equal(dec_signal(OTF_SIGNAL_LOGS, nonul, 2, NULL, &e), 0);
}

/* ---- encoder output ---- */

static void expect_json(otf_buf_t *b, const char *want)
{
	if (b->len != strlen(want) || memcmp(b->data, want, b->len) != 0)
		fail_msg("got  %.*s\nwant %s", (int)b->len, (const char *)b->data, want);
	otf_buf_unref(b);
}

#define BYTES(s) ((otf_bytes_t){(const uint8_t *)(s), sizeof(s) - 1})

static void test_encode_exact(void **state)
{
	(void)state;
	otf_any_value_t arr[4] = {
	    {.type = OTF_ANY_DOUBLE, .u.double_value = -0.0},
	    {.type = OTF_ANY_DOUBLE, .u.double_value = NAN},
	    {.type = OTF_ANY_BYTES, .u.bytes_value = BYTES("\x00\xff\x10")},
	    {.type = OTF_ANY_EMPTY},
	};
	otf_key_value_t attrs[4] = {
	    {BYTES("s"),
	     {.type = OTF_ANY_STRING, .u.string_value = BYTES("q\"b\\c\n\x01\x1f\xc3\xa9")}},
	    {BYTES("i"), {.type = OTF_ANY_INT, .u.int_value = 0}},
	    {BYTES("a"), {.type = OTF_ANY_ARRAY, .u.array_value = {arr, 4}}},
	    {BYTES("e"), {.type = OTF_ANY_EMPTY}},
	};
	otf_span_t span = {
	    .trace_id = {TID, 16},
	    .span_id = {SID, 8},
	    .kind = OTF_SPAN_KIND_CLIENT,
	    .start_time_unix_nano = 18446744073709551615ull,
	    .attributes = {attrs, 4},
	    .status = {.code = OTF_STATUS_CODE_OK},
	};
	otf_scope_spans_t ss = {.spans = &span, .spans_len = 1};
	otf_resource_spans_t rs = {.scope_spans = &ss, .scope_spans_len = 1};
	otf_traces_t t = {&rs, 1};
	otf_buf_t *b = NULL;
	assert_int_equal(otf_pdata_json_encode_traces(&t, &b), 0);
	expect_json(b,
	            "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{"
	            "\"traceId\":\"5b8efff798038103d269b633813fc60c\","
	            "\"spanId\":\"eee19b7ec3c1b174\",\"kind\":3,"
	            "\"startTimeUnixNano\":\"18446744073709551615\",\"attributes\":["
	            "{\"key\":\"s\",\"value\":{\"stringValue\":"
	            "\"q\\\"b\\\\c\\n\\u0001\\u001f\xc3\xa9\"}},"
	            "{\"key\":\"i\",\"value\":{\"intValue\":\"0\"}},"
	            "{\"key\":\"a\",\"value\":{\"arrayValue\":{\"values\":[{\"doubleValue\":-0.0},"
	            "{\"doubleValue\":\"NaN\"},{\"bytesValue\":\"AP8Q\"},{}]}}},"
	            "{\"key\":\"e\"}],\"status\":{\"code\":1}}]}]}]}");

	/* Invalid UTF-8 in a tree still gives valid JSON (U+FFFD). */
	otf_log_record_t rec = {
	    .body = {.type = OTF_ANY_STRING, .u.string_value = BYTES("a\xff\xe2\x82")},
	    .severity_number = 9,
	    .observed_time_unix_nano = 1};
	otf_scope_logs_t sl = {.log_records = &rec, .log_records_len = 1, .schema_url = BYTES("u")};
	otf_resource_logs_t rl = {.scope_logs = &sl, .scope_logs_len = 1};
	otf_logs_t l = {&rl, 1};
	assert_int_equal(otf_pdata_json_encode_logs(&l, &b), 0);
	expect_json(b,
	            "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{"
	            "\"observedTimeUnixNano\":\"1\",\"severityNumber\":9,\"body\":{\"stringValue\":"
	            "\"a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"}}],\"schemaUrl\":\"u\"}]}]}");

	/* oneof members and optional doubles are written when set, even at 0. */
	otf_number_data_point_t np = {.value_type = OTF_NUMBER_INT};
	otf_histogram_data_point_t hp = {.has_sum = true, .has_min = true, .sum = 0, .min = 0};
	otf_metric_t ms[3] = {
	    {.name = BYTES("g"),
	     .type = OTF_METRIC_GAUGE,
	     .data_points.number = &np,
	     .data_points_len = 1},
	    {.type = OTF_METRIC_HISTOGRAM,
	     .data_points.histogram = &hp,
	     .data_points_len = 1,
	     .aggregation_temporality = 2},
	    {.type = OTF_METRIC_SUM},
	};
	otf_scope_metrics_t sm = {.metrics = ms, .metrics_len = 3};
	otf_resource_metrics_t rm = {.scope_metrics = &sm, .scope_metrics_len = 1};
	otf_metrics_t m = {&rm, 1};
	assert_int_equal(otf_pdata_json_encode_metrics(&m, &b), 0);
	expect_json(b, "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":["
	               "{\"name\":\"g\",\"gauge\":{\"dataPoints\":[{\"asInt\":\"0\"}]}},"
	               "{\"histogram\":{\"dataPoints\":[{\"sum\":0,\"min\":0}],"
	               "\"aggregationTemporality\":2}},{\"sum\":{}}]}]}]}");

	otf_traces_t empty = {0};
	assert_int_equal(otf_pdata_json_encode_traces(&empty, &b), 0);
	expect_json(b, "{}");
}

static void test_encode_errors(void **state)
{
	(void)state;
	otf_span_t span = {.trace_id = {TID, 15}};
	otf_scope_spans_t ss = {.spans = &span, .spans_len = 1};
	otf_resource_spans_t rs = {.scope_spans = &ss, .scope_spans_len = 1};
	otf_traces_t t = {&rs, 1};
	otf_buf_t *b = NULL;
	assert_int_equal(otf_pdata_json_encode_traces(&t, &b), OTF_E_ID_LENGTH);
	assert_null(b);

	/* AnyValue nesting beyond the default limit. */
	otf_any_value_t chain[40];
	for (int i = 0; i < 40; i++) {
		chain[i].type = OTF_ANY_ARRAY;
		chain[i].u.array_value.values = i + 1 < 40 ? &chain[i + 1] : NULL;
		chain[i].u.array_value.values_len = i + 1 < 40 ? 1 : 0;
	}
	otf_log_record_t rec = {.body = chain[0]};
	otf_scope_logs_t sl = {.log_records = &rec, .log_records_len = 1};
	otf_resource_logs_t rl = {.scope_logs = &sl, .scope_logs_len = 1};
	otf_logs_t l = {&rl, 1};
	assert_int_equal(otf_pdata_json_encode_logs(&l, &b), OTF_E_DEPTH);
	assert_null(b);
}

/* Doubles: shortest text that reads back to the same bits. */
static void test_doubles(void **state)
{
	(void)state;
	static const struct {
		double v;
		const char *text;
	} cases[] = {
	    {0.1, "0.1"},
	    {5, "5"},
	    {-2.5, "-2.5"},
	    {1e300, "1e+300"},
	    {637.704, "637.704"},
	    {1.0 / 3, "0.3333333333333333"},
	    {0.1 + 0.2, "0.30000000000000004"},
	    {5e-324, "4.94065645841247e-324"}, /* subnormal: 15 digits suffice */
	    {INFINITY, "\"Infinity\""},
	    {-INFINITY, "\"-Infinity\""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		otf_key_value_t kv = {BYTES("d"),
		                      {.type = OTF_ANY_DOUBLE, .u.double_value = cases[i].v}};
		otf_resource_logs_t rl = {.resource.attributes = {&kv, 1}};
		otf_logs_t l = {&rl, 1};
		otf_buf_t *b = NULL;
		assert_int_equal(otf_pdata_json_encode_logs(&l, &b), 0);
		char want[256];
		snprintf(
		    want, sizeof want,
		    "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"d\",\"value\":{"
		    "\"doubleValue\":%s}}]}}]}",
		    cases[i].text);
		otf_logs_t back;
		otf_pdata_error_t e;
		assert_int_equal(otf_pdata_json_decode_logs(&back, (const char *)b->data, b->len,
		                                            &arena, NULL, &e),
		                 0);
		double got =
		    back.resource_logs[0].resource.attributes.items[0].value.u.double_value;
		assert_memory_equal(&got, &cases[i].v, sizeof got);
		expect_json(b, want);
	}
}

/* ---- identity on generated trees ---- */

static void test_roundtrip_generated(void **state)
{
	(void)state;
	char diff[512];
	for (uint64_t seed = 1; seed <= 150; seed++) {
		otf_arena_reset(&arena);
		otf_gen_t g;
		otf_gen_init(&g, seed, 3, &arena);
		otf_pdata_error_t e;
		char eb[512];
		otf_buf_t *b1 = NULL, *b2 = NULL;

		otf_traces_t t, t2;
		otf_gen_traces(&g, &t);
		assert_int_equal(otf_pdata_json_encode_traces(&t, &b1), 0);
		if (otf_pdata_json_decode_traces(&t2, (const char *)b1->data, b1->len, &arena, NULL,
		                                 &e))
			fail_msg("seed %llu traces: %s", (unsigned long long)seed,
			         otf_pdata_error_format(&e, eb, sizeof eb));
		if (!otf_eq_traces(&t, &t2, diff, sizeof diff))
			fail_msg("seed %llu traces: %s", (unsigned long long)seed, diff);
		assert_int_equal(otf_pdata_json_encode_traces(&t2, &b2), 0);
		assert_int_equal(b1->len, b2->len);
		assert_memory_equal(b1->data, b2->data, b1->len);
		otf_buf_unref(b1);
		otf_buf_unref(b2);

		otf_metrics_t m, m2;
		otf_gen_metrics(&g, &m);
		assert_int_equal(otf_pdata_json_encode_metrics(&m, &b1), 0);
		if (otf_pdata_json_decode_metrics(&m2, (const char *)b1->data, b1->len, &arena,
		                                  NULL, &e))
			fail_msg("seed %llu metrics: %s", (unsigned long long)seed,
			         otf_pdata_error_format(&e, eb, sizeof eb));
		if (!otf_eq_metrics(&m, &m2, diff, sizeof diff))
			fail_msg("seed %llu metrics: %s", (unsigned long long)seed, diff);
		otf_buf_unref(b1);

		otf_logs_t l, l2;
		otf_gen_logs(&g, &l);
		assert_int_equal(otf_pdata_json_encode_logs(&l, &b1), 0);
		if (otf_pdata_json_decode_logs(&l2, (const char *)b1->data, b1->len, &arena, NULL,
		                               &e))
			fail_msg("seed %llu logs: %s", (unsigned long long)seed,
			         otf_pdata_error_format(&e, eb, sizeof eb));
		if (!otf_eq_logs(&l, &l2, diff, sizeof diff))
			fail_msg("seed %llu logs: %s", (unsigned long long)seed, diff);
		otf_buf_unref(b1);

		otf_export_response_t r, r2;
		otf_gen_response(&g, &r);
		otf_signal_t sig = (otf_signal_t)(seed % 3);
		assert_int_equal(otf_pdata_json_encode_response(&r, sig, &b1), 0);
		assert_int_equal(otf_pdata_json_decode_response(&r2, sig, (const char *)b1->data,
		                                                b1->len, &arena, &e),
		                 0);
		if (!otf_eq_response(&r, &r2, diff, sizeof diff))
			fail_msg("seed %llu response: %s", (unsigned long long)seed, diff);
		otf_buf_unref(b1);
	}
}

/* ---- opentelemetry-proto examples ---- */

/* Decodes JSON of the given signal into a tree and re-encodes it. */
static int json_cycle(otf_signal_t sig, const char *js, size_t len, void *tree, otf_buf_t **out)
{
	otf_pdata_error_t e;
	char eb[512];
	int rc;
	switch (sig) {
	case OTF_SIGNAL_TRACES:
		rc = otf_pdata_json_decode_traces(tree, js, len, &arena, NULL, &e);
		if (!rc)
			rc = otf_pdata_json_encode_traces(tree, out);
		break;
	case OTF_SIGNAL_METRICS:
		rc = otf_pdata_json_decode_metrics(tree, js, len, &arena, NULL, &e);
		if (!rc)
			rc = otf_pdata_json_encode_metrics(tree, out);
		break;
	default:
		rc = otf_pdata_json_decode_logs(tree, js, len, &arena, NULL, &e);
		if (!rc)
			rc = otf_pdata_json_encode_logs(tree, out);
		break;
	}
	if (rc)
		print_message("%s\n", otf_pdata_error_format(&e, eb, sizeof eb));
	return rc;
}

/* tree -> protobuf -> tree -> JSON: the protobuf codec must carry everything
 * the JSON codec does. */
static int pb_cycle(otf_signal_t sig, const void *tree, otf_buf_t **json)
{
	otf_buf_t *pb = NULL;
	otf_pdata_error_t e;
	char eb[512];
	union {
		otf_traces_t t;
		otf_metrics_t m;
		otf_logs_t l;
	} u;
	int rc;
	switch (sig) {
	case OTF_SIGNAL_TRACES:
		rc = otf_pdata_encode_traces(tree, &pb);
		if (!rc)
			rc = otf_pdata_decode_traces(&u.t, pb->data, pb->len, &arena, NULL, &e);
		if (!rc)
			rc = otf_pdata_json_encode_traces(&u.t, json);
		break;
	case OTF_SIGNAL_METRICS:
		rc = otf_pdata_encode_metrics(tree, &pb);
		if (!rc)
			rc = otf_pdata_decode_metrics(&u.m, pb->data, pb->len, &arena, NULL, &e);
		if (!rc)
			rc = otf_pdata_json_encode_metrics(&u.m, json);
		break;
	default:
		rc = otf_pdata_encode_logs(tree, &pb);
		if (!rc)
			rc = otf_pdata_decode_logs(&u.l, pb->data, pb->len, &arena, NULL, &e);
		if (!rc)
			rc = otf_pdata_json_encode_logs(&u.l, json);
		break;
	}
	if (rc && pb)
		print_message("%s\n", otf_pdata_error_format(&e, eb, sizeof eb));
	/* The decoded tree points into pb: encode it before dropping pb. */
	otf_buf_unref(pb);
	return rc;
}

/* The opentelemetry-proto examples (next to the source tree, when present)
 * and the repository's own examples/pdata samples. */
static void test_examples(void **state)
{
	(void)state;
	static const struct {
		const char *file;
		otf_signal_t sig;
	} ex[] = {
	    {"../shared/opentelemetry-proto/examples/trace.json", OTF_SIGNAL_TRACES},
	    {"../shared/opentelemetry-proto/examples/metrics.json", OTF_SIGNAL_METRICS},
	    {"../shared/opentelemetry-proto/examples/logs.json", OTF_SIGNAL_LOGS},
	    {"../shared/opentelemetry-proto/examples/events.json", OTF_SIGNAL_LOGS},
	    {"examples/pdata/traces.json", OTF_SIGNAL_TRACES},
	    {"examples/pdata/metrics.json", OTF_SIGNAL_METRICS},
	    {"examples/pdata/logs.json", OTF_SIGNAL_LOGS},
	};
	char path[4096];
	int found = 0;
	for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", otf_test_source_dir(), ex[i].file);
		size_t len;
		uint8_t *data = otf_test_read_file(path, &len);
		if (!data)
			continue;
		found++;
		union {
			otf_traces_t t;
			otf_metrics_t m;
			otf_logs_t l;
		} a, b;
		otf_buf_t *j1 = NULL, *j2 = NULL;
		assert_int_equal(json_cycle(ex[i].sig, (const char *)data, len, &a, &j1), 0);
		assert_int_equal(json_cycle(ex[i].sig, (const char *)j1->data, j1->len, &b, &j2),
		                 0);
		char diff[512];
		bool eq = ex[i].sig == OTF_SIGNAL_TRACES
		              ? otf_eq_traces(&a.t, &b.t, diff, sizeof diff)
		          : ex[i].sig == OTF_SIGNAL_METRICS
		              ? otf_eq_metrics(&a.m, &b.m, diff, sizeof diff)
		              : otf_eq_logs(&a.l, &b.l, diff, sizeof diff);
		if (!eq)
			fail_msg("%s: %s", ex[i].file, diff);
		assert_int_equal(j1->len, j2->len);
		assert_memory_equal(j1->data, j2->data, j1->len);
		/* Through protobuf and back gives the same JSON. */
		otf_buf_t *j3 = NULL;
		assert_int_equal(pb_cycle(ex[i].sig, &a, &j3), 0);
		if (j3->len != j1->len || memcmp(j3->data, j1->data, j1->len) != 0)
			fail_msg("%s: JSON after protobuf differs:\n%.*s\n%.*s", ex[i].file,
			         (int)j1->len, (const char *)j1->data, (int)j3->len,
			         (const char *)j3->data);
		otf_buf_unref(j3);
		/* Spot checks against the files' contents. */
		if (i == 0) {
			const otf_span_t *s = &a.t.resource_spans[0].scope_spans[0].spans[0];
			assert_bytes_n(s->trace_id, TID, 16);
			assert_int_equal(s->kind, OTF_SPAN_KIND_SERVER);
			assert_true(s->start_time_unix_nano == 1544712660000000000ull);
		}
		otf_buf_unref(j1);
		otf_buf_unref(j2);
		free(data);
	}
	if (!found)
		skip();
}

/* ---- allocation failure ---- */

static void test_alloc_failure(void **state)
{
	(void)state;
	otf_alloc_stats_t before, after;
	otf_alloc_stats(&before);
	bool decoded = false, encoded = false;
	/* Tiny chunks, so the decoder allocates many times. */
	for (int64_t n = 0; n < 10000 && !(decoded && encoded); n++) {
		otf_arena_t a;
		otf_arena_init(&a, 64);
		otf_traces_t t;
		otf_pdata_error_t e;
		otf_alloc_fail_after(n);
		int rc = otf_pdata_json_decode_traces(&t, TRACES_CAMEL, strlen(TRACES_CAMEL), &a,
		                                      NULL, &e);
		otf_buf_t *b = NULL;
		int erc = rc ? rc : otf_pdata_json_encode_traces(&t, &b);
		otf_alloc_fail_after(-1);
		if (rc) {
			assert_int_equal(rc, OTF_E_NOMEM);
			assert_int_equal(e.code, OTF_E_NOMEM);
		} else {
			decoded = true;
			if (erc) {
				assert_int_equal(erc, OTF_E_NOMEM);
				assert_null(b);
			} else {
				encoded = true;
				otf_buf_unref(b);
			}
		}
		otf_arena_close(&a);
	}
	assert_true(decoded && encoded);
	otf_alloc_stats(&after);
	assert_int_equal(after.bytes_in_use, before.bytes_in_use);
}

/* The pre-scan counts items and attributes as the views' validation does,
 * ignores brackets inside strings, and stops at a limit with the offset. */
static void test_prescan(void **state)
{
	(void)state;
	const char *j = "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"a[{\\\"\","
	                "\"value\":{\"arrayValue\":{\"values\":[{\"intValue\":1},{}]}}}]},"
	                "\"scopeLogs\":[{\"log_records\":[{},{\"attributes\":[{},{}]},{}]}]}]}";
	otf_pdata_json_counts_t c;
	otf_pdata_error_t err;
	assert_int_equal(otf_pdata_json_prescan(j, strlen(j), NULL, &c, &err), 0);
	assert_int_equal(c.items, 5);      /* resource group, scope group, 3 records */
	assert_int_equal(c.attributes, 5); /* 1 + 2 array values + 2 */
	otf_pdata_json_limits_t lim = {5, 5};
	assert_int_equal(otf_pdata_json_prescan(j, strlen(j), &lim, &c, &err), 0);
	lim.max_items = 4;
	assert_int_equal(otf_pdata_json_prescan(j, strlen(j), &lim, &c, &err), OTF_E_TOO_LARGE);
	assert_non_null(strstr(err.detail, "more than 4 items"));
	assert_int_equal(j[err.offset], '{');
	lim = (otf_pdata_json_limits_t){0, 4};
	assert_int_equal(otf_pdata_json_prescan(j, strlen(j), &lim, &c, &err), OTF_E_TOO_LARGE);
	assert_non_null(strstr(err.detail, "more than 4 attributes"));
	/* the decoder agrees on the shape counted */
	otf_logs_t l;
	assert_int_equal(otf_pdata_json_decode_logs(&l, j, strlen(j), &arena, NULL, &err), 0);
	assert_int_equal(l.resource_logs[0].scope_logs[0].log_records_len, 3);
	/* unterminated strings and stray closers do not read past the end */
	assert_int_equal(otf_pdata_json_prescan("[\"\\", 3, NULL, &c, &err), 0);
	assert_int_equal(otf_pdata_json_prescan("]]}[{", 5, NULL, &c, &err), 0);
	assert_int_equal(c.items, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_prescan, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_traces_all_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_traces_snake_case, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_metrics_all_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_logs_all_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_null_unknown_and_oneof, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_integer_forms, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_response, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_depth_and_size_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_encode_exact, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_encode_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_doubles, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_roundtrip_generated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_examples, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_alloc_failure, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
