/* Kafka: the receiver's in-order offset tracking (kafka_offsets.h:
 * acknowledgements out of order, commits only over a finished prefix),
 * the connection keys' mapping onto librdkafka properties, and the byte
 * helpers over OTLP requests (resource attributes added for
 * header_extraction, the resource hash of partition_*_by_resource_attributes,
 * splitting by resource). Socket-free. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "components/exporters/kafka/kafka_common.h"
#include "components/receivers/kafka/kafka_offsets.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_in_order_commit(void **state)
{
	(void)state;
	otf_kafka_track_t t;
	assert_int_equal(otf__kafka_track_init(&t, 8), 0);
	/* 14 and 15 are absent (compaction, a transaction marker) */
	const int64_t offs[] = {10, 11, 12, 13, 16};
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(otf__kafka_track_add(&t, offs[i]), 0);
	assert_int_equal(otf__kafka_track_done(&t, 12), 0); /* 10, 11 unfinished */
	assert_int_equal(otf__kafka_track_done(&t, 16), 0);
	assert_int_equal(otf__kafka_track_done(&t, 10), 11);
	assert_int_equal(otf__kafka_track_done(&t, 13), 0); /* 11 still out */
	assert_int_equal(otf__kafka_track_len(&t), 4);      /* 11 12 13 16 */
	/* 11 finishes the prefix 11..16: the position is past 16 at once */
	assert_int_equal(otf__kafka_track_done(&t, 11), 17);
	assert_int_equal(otf__kafka_track_len(&t), 0);
	assert_int_equal(t.committed, 17);
	otf__kafka_track_close(&t);
}

static void test_bounds_and_errors(void **state)
{
	(void)state;
	otf_kafka_track_t t;
	assert_int_equal(otf__kafka_track_init(&t, 3), 0);
	assert_int_equal(otf__kafka_track_add(&t, 0), 0);
	assert_int_equal(otf__kafka_track_add(&t, 1), 0);
	assert_int_equal(otf__kafka_track_add(&t, 1), OTF_E_INVAL); /* not increasing */
	assert_int_equal(otf__kafka_track_add(&t, 2), 0);
	assert_true(otf__kafka_track_full(&t));
	assert_int_equal(otf__kafka_track_add(&t, 3), OTF_E_NOSPACE);
	assert_int_equal(otf__kafka_track_done(&t, 7), OTF_E_NOT_FOUND);
	assert_int_equal(otf__kafka_track_done(&t, 1), 0);
	assert_int_equal(otf__kafka_track_done(&t, 1), OTF_E_NOT_FOUND); /* twice */
	/* the finished 1 still holds a slot until 0 finishes */
	assert_int_equal(otf__kafka_track_add(&t, 3), OTF_E_NOSPACE);
	assert_int_equal(otf__kafka_track_done(&t, 0), 2);
	assert_int_equal(otf__kafka_track_add(&t, 3), 0);
	assert_int_equal(otf__kafka_track_add(&t, 4), 0);
	otf__kafka_track_close(&t);
}

/* Many messages through a small ring, finished in a shuffled order within
 * windows: the position returned is always the lowest unfinished offset,
 * and every offset is committed past exactly once. */
static void test_shuffled_ring(void **state)
{
	(void)state;
	enum { N = 5000, W = 7 };
	otf_kafka_track_t t;
	assert_int_equal(otf__kafka_track_init(&t, W), 0);
	static bool fin[N];
	memset(fin, 0, sizeof fin);
	uint64_t rng = 42;
	int64_t next = 0, pos = 0;
	int64_t window[W] = {0};
	size_t wl = 0;
	while (pos < N) {
		while (wl < W && next < N && !otf__kafka_track_full(&t)) {
			assert_int_equal(otf__kafka_track_add(&t, next), 0);
			window[wl++] = next++;
		}
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		size_t k = (size_t)(rng % wl);
		int64_t o = window[k];
		window[k] = window[--wl];
		fin[o] = true;
		int64_t p = otf__kafka_track_done(&t, o);
		int64_t lowest = pos;
		while (lowest < N && fin[lowest])
			lowest++;
		if (lowest > pos) {
			assert_int_equal(p, lowest);
			pos = lowest;
		} else {
			assert_int_equal(p, 0);
		}
	}
	assert_int_equal(pos, N);
	otf__kafka_track_close(&t);
}

static const char *prop(const char **k, const char **v, int n, const char *key)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(k[i], key))
			return v[i];
	return NULL;
}

static void test_conn_props(void **state)
{
	(void)state;
	char *brokers[] = {"a:9092", "b:9093"};
	otf_kafka_conn_config_t c;
	memset(&c, 0, sizeof c);
	c.brokers.items = brokers;
	c.brokers.n = 2;
	c.client_id = "cid";
	const char *k[OTF_KAFKA_MAX_PROPS], *v[OTF_KAFKA_MAX_PROPS];
	char buf[256];
	int n = otf__kafka_conn_props(&c, k, v, buf, sizeof buf);
	assert_true(n > 0);
	assert_string_equal(prop(k, v, n, "bootstrap.servers"), "a:9092,b:9093");
	assert_string_equal(prop(k, v, n, "client.id"), "cid");
	assert_string_equal(prop(k, v, n, "security.protocol"), "plaintext");
	assert_null(prop(k, v, n, "sasl.mechanisms"));

	c.auth.sasl.mechanism = "SCRAM-SHA-512";
	c.auth.sasl.username = "u";
	c.auth.sasl.password = "p";
	c.tls_present = true;
	c.tls.ca_file = "ca.pem";
	c.tls.cert_file = "c.pem";
	c.tls.key_file = "k.pem";
	c.tls.insecure_skip_verify = true;
	char err[128];
	assert_int_equal(otf__kafka_conn_validate(&c, err, sizeof err), 0);
	n = otf__kafka_conn_props(&c, k, v, buf, sizeof buf);
	assert_string_equal(prop(k, v, n, "security.protocol"), "sasl_ssl");
	assert_string_equal(prop(k, v, n, "sasl.mechanisms"), "SCRAM-SHA-512");
	assert_string_equal(prop(k, v, n, "sasl.username"), "u");
	assert_string_equal(prop(k, v, n, "sasl.password"), "p");
	assert_string_equal(prop(k, v, n, "ssl.ca.location"), "ca.pem");
	assert_string_equal(prop(k, v, n, "ssl.certificate.location"), "c.pem");
	assert_string_equal(prop(k, v, n, "ssl.key.location"), "k.pem");
	assert_string_equal(prop(k, v, n, "enable.ssl.certificate.verification"), "false");
	/* librdkafka accepts every property written */
	rd_kafka_conf_t *conf = otf__kafka_conf_new(&c, NULL, NULL, err, sizeof err);
	assert_non_null(conf);
	rd_kafka_conf_destroy(conf);

	/* tls.insecure: plaintext SASL, no ssl.* */
	c.tls.insecure = true;
	n = otf__kafka_conn_props(&c, k, v, buf, sizeof buf);
	assert_string_equal(prop(k, v, n, "security.protocol"), "sasl_plaintext");
	assert_null(prop(k, v, n, "ssl.ca.location"));

	/* the deprecated plain_text form is SASL PLAIN */
	memset(&c.auth, 0, sizeof c.auth);
	c.auth.plain_text.username = "pu";
	c.auth.plain_text.password = "pp";
	n = otf__kafka_conn_props(&c, k, v, buf, sizeof buf);
	assert_string_equal(prop(k, v, n, "sasl.mechanisms"), "PLAIN");
	assert_string_equal(prop(k, v, n, "sasl.username"), "pu");

	c.auth.sasl.mechanism = "GSSAPI";
	c.auth.sasl.username = "u";
	c.auth.sasl.password = "p";
	memset(&c.auth.plain_text, 0, sizeof c.auth.plain_text);
	assert_int_equal(otf__kafka_conn_validate(&c, err, sizeof err), OTF_E_CONFIG);
	assert_non_null(strstr(err, "auth.sasl.mechanism"));
}

static otf_buf_t *logs_pb(const char *json)
{
	otf_arena_t a;
	otf_arena_init(&a, 0);
	otf_logs_t l;
	otf_buf_t *b = NULL;
	assert_int_equal(otf_pdata_json_decode_logs(&l, json, strlen(json), &a, NULL, NULL), 0);
	assert_int_equal(otf_pdata_encode_logs(&l, &b), 0);
	otf_arena_close(&a);
	return b;
}

static char *logs_json(const uint8_t *p, size_t n)
{
	otf_arena_t a;
	otf_arena_init(&a, 0);
	otf_logs_t l;
	otf_buf_t *b = NULL;
	assert_int_equal(otf_pdata_decode_logs(&l, p, n, &a, NULL, NULL), 0);
	assert_int_equal(otf_pdata_json_encode_logs(&l, &b), 0);
	char *s = calloc(1, b->len + 1);
	memcpy(s, b->data, b->len);
	otf_buf_unref(b);
	otf_arena_close(&a);
	return s;
}

static void test_add_resource_attrs(void **state)
{
	(void)state;
	otf_buf_t *in = logs_pb(
	    "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
	    "\"value\":{\"stringValue\":\"svc\"}}]},\"scopeLogs\":[{\"logRecords\":[{\"body\":"
	    "{\"stringValue\":\"one\"}}]}],\"schemaUrl\":\"s1\"},{\"scopeLogs\":[{\"logRecords\":"
	    "[{\"body\":{\"stringValue\":\"two\"}}]}]}]}");
	const char *keys[] = {"kafka.header.h1", "kafka.header.h2"};
	const char *vals[] = {"v1", "v2"};
	otf_buf_t *out = NULL;
	assert_int_equal(otf__kafka_add_resource_attrs(in->data, in->len, keys, vals, 2, &out), 0);
	char *j = logs_json(out->data, out->len);
	assert_string_equal(
	    j, "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
	       "\"value\":{\"stringValue\":\"svc\"}},{\"key\":\"kafka.header.h1\",\"value\":{"
	       "\"stringValue\":\"v1\"}},{\"key\":\"kafka.header.h2\",\"value\":{\"stringValue\":"
	       "\"v2\"}}]},\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"stringValue\":\"one\"}}]}],"
	       "\"schemaUrl\":\"s1\"},{\"resource\":{\"attributes\":[{\"key\":\"kafka.header.h1\","
	       "\"value\":{\"stringValue\":\"v1\"}},{\"key\":\"kafka.header.h2\",\"value\":{"
	       "\"stringValue\":\"v2\"}}]},\"scopeLogs\":[{\"logRecords\":[{\"body\":{"
	       "\"stringValue\":\"two\"}}]}]}]}");
	free(j);
	otf_buf_unref(out);
	otf_buf_unref(in);
}

static void test_groups_and_hash(void **state)
{
	(void)state;
	otf_buf_t *in = logs_pb(
	    "{\"resourceLogs\":["
	    "{\"resource\":{\"attributes\":[{\"key\":\"a\",\"value\":{\"stringValue\":\"1\"}},"
	    "{\"key\":\"topic\",\"value\":{\"stringValue\":\"tA\"}}]},\"scopeLogs\":[{"
	    "\"logRecords\":[{\"body\":{\"stringValue\":\"x\"}}]}]},"
	    "{\"resource\":{\"attributes\":[{\"key\":\"topic\",\"value\":{\"stringValue\":\"tA\"}},"
	    "{\"key\":\"a\",\"value\":{\"stringValue\":\"1\"}}]},\"scopeLogs\":[{"
	    "\"logRecords\":[{\"body\":{\"stringValue\":\"y\"}}]}]},"
	    "{\"resource\":{\"attributes\":[{\"key\":\"a\",\"value\":{\"stringValue\":\"2\"}}]},"
	    "\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"stringValue\":\"z\"}}]}]}]}");
	otf_kafka_group_t g[4];
	assert_int_equal(otf__kafka_groups(in->data, in->len, g, 4), 3);
	char h0[17], h1[17], h2[17];
	assert_int_equal(otf__kafka_group_hash(&g[0], h0), 0);
	assert_int_equal(otf__kafka_group_hash(&g[1], h1), 0);
	assert_int_equal(otf__kafka_group_hash(&g[2], h2), 0);
	assert_string_equal(h0, h1); /* same attributes, other order */
	assert_string_not_equal(h0, h2);
	const uint8_t *v;
	size_t vl;
	assert_int_equal(otf__kafka_group_attr(&g[0], "topic", 5, &v, &vl), 1);
	assert_int_equal(vl, 2);
	assert_memory_equal(v, "tA", 2);
	assert_int_equal(otf__kafka_group_attr(&g[2], "topic", 5, &v, &vl), 0);
	assert_int_equal(otf__kafka_group_attr(&g[2], "", 0, &v, &vl), 0);
	/* groups written back one by one make the request again */
	size_t total = 0;
	for (int i = 0; i < 3; i++)
		total += otf__kafka_group_wire_len(&g[i]);
	assert_int_equal(total, in->len);
	otf_buf_t *b = otf_buf_create(total);
	for (int i = 0; i < 3; i++)
		otf__kafka_group_write(b, &g[i]);
	assert_memory_equal(b->data, in->data, in->len);
	otf_buf_unref(b);
	otf_buf_unref(in);
}

/* Empty keys are NULL slices: sorting and looking them up must not pass
 * NULL to memcmp (UBSan in the sanitizer build; found by fuzz_kafka_otlp). */
static void test_empty_keys(void **state)
{
	(void)state;
	otf_buf_t *in = logs_pb("{\"resourceLogs\":[{\"resource\":{\"attributes\":["
	                        "{\"key\":\"\",\"value\":{\"stringValue\":\"x\"}},"
	                        "{\"key\":\"\",\"value\":{\"stringValue\":\"y\"}}]}}]}");
	otf_kafka_group_t g[1];
	assert_int_equal(otf__kafka_groups(in->data, in->len, g, 1), 1);
	char h[17];
	assert_int_equal(otf__kafka_group_hash(&g[0], h), 0);
	const uint8_t *v;
	size_t vl;
	assert_int_equal(otf__kafka_group_attr(&g[0], "", 0, &v, &vl), 1);
	assert_memory_equal(v, "y", 1); /* the last one wins */
	otf_buf_unref(in);
}

static char *traces_json(const uint8_t *p, size_t n)
{
	otf_arena_t a;
	otf_arena_init(&a, 0);
	otf_traces_t t;
	otf_buf_t *b = NULL;
	assert_int_equal(otf_pdata_decode_traces(&t, p, n, &a, NULL, NULL), 0);
	assert_int_equal(otf_pdata_json_encode_traces(&t, &b), 0);
	char *s = calloc(1, b->len + 1);
	memcpy(s, b->data, b->len);
	otf_buf_unref(b);
	otf_arena_close(&a);
	return s;
}

#define T1                "11111111111111111111111111111111"
#define T2                "22222222222222222222222222222222"
#define SPAN(t, id, name) "{\"traceId\":\"" t "\",\"spanId\":\"" id "\",\"name\":\"" name "\"}"

/* partition_traces_by_id: one request per trace id, each with the
 * resources and scopes of its spans and nothing else; spans without a
 * trace id together, without a key. */
static void test_split_traces(void **state)
{
	(void)state;
	const char *json = "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"r\","
	                   "\"value\":{"
	                   "\"stringValue\":\"A\"}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"s1\"},"
	                   "\"spans\":[" SPAN(T1, "0000000000000001", "a") "," SPAN(
	                       T2, "0000000000000002",
	                       "b") "," SPAN(T1, "0000000000000003",
	                                     "c") "]},{\"scope\":{\"name\":\"s2\"},\"spans\":"
	                                          "[" SPAN(T2, "0000000000000004",
	                                                   "d") "]}]},{\"resource\":{"
	                                                        "\"attributes\":[{\"key\":\"r\","
	                                                        "\"value\":{\"stringValue\":\"B\"}}"
	                                                        "]},\"scopeSpans\":[{\"spans\":["
	                                                        "{\"spanId\":\"0000000000000005\","
	                                                        "\"name\":\"e\"}," SPAN(
	                                                            T1, "0000000000000006",
	                                                            "f") "]}],\"schemaUrl\":\"u\"}]"
	                                                                 "}";
	otf_arena_t a;
	otf_arena_init(&a, 0);
	otf_traces_t t;
	otf_buf_t *in = NULL;
	assert_int_equal(otf_pdata_json_decode_traces(&t, json, strlen(json), &a, NULL, NULL), 0);
	assert_int_equal(otf_pdata_encode_traces(&t, &in), 0);
	otf_arena_close(&a);
	otf_kafka_trace_part_t *parts = NULL;
	size_t n = 0;
	assert_int_equal(otf__kafka_split_traces(in->data, in->len, &parts, &n), 0);
	assert_int_equal(n, 3);
	/* no trace id first (sorted by length), then T1, T2 */
	assert_false(parts[0].has_key);
	assert_true(parts[1].has_key);
	assert_string_equal(parts[1].key, T1);
	assert_string_equal(parts[2].key, T2);
	char *j0 = traces_json(parts[0].buf->data, parts[0].buf->len);
	char *j1 = traces_json(parts[1].buf->data, parts[1].buf->len);
	char *j2 = traces_json(parts[2].buf->data, parts[2].buf->len);
	assert_string_equal(
	    j0, "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"r\",\"value\":"
	        "{\"stringValue\":\"B\"}}]},\"scopeSpans\":[{\"spans\":[{\"spanId\":"
	        "\"0000000000000005\",\"name\":\"e\"}]}],\"schemaUrl\":\"u\"}]}");
	assert_non_null(strstr(j1, "\"name\":\"a\""));
	assert_non_null(strstr(j1, "\"name\":\"c\""));
	assert_non_null(strstr(j1, "\"name\":\"f\""));
	assert_non_null(strstr(j1, "\"schemaUrl\":\"u\""));
	assert_null(strstr(j1, "\"name\":\"b\""));
	assert_null(strstr(j1, "\"name\":\"s2\"")); /* its scope holds no T1 span */
	assert_non_null(strstr(j2, "\"name\":\"b\""));
	assert_non_null(strstr(j2, "\"name\":\"d\""));
	assert_non_null(strstr(j2, "\"name\":\"s2\""));
	assert_null(strstr(j2, "\"stringValue\":\"B\"")); /* resource B has no T2 span */
	free(j0);
	free(j1);
	free(j2);
	for (size_t i = 0; i < n; i++)
		otf_buf_unref(parts[i].buf);
	otf_free(parts);
	otf_buf_unref(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_in_order_commit),    cmocka_unit_test(test_bounds_and_errors),
	    cmocka_unit_test(test_shuffled_ring),      cmocka_unit_test(test_conn_props),
	    cmocka_unit_test(test_add_resource_attrs), cmocka_unit_test(test_groups_and_hash),
	    cmocka_unit_test(test_empty_keys),         cmocka_unit_test(test_split_traces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
