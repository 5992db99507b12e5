/* processor content_router, in the engine: routes by OTTL conditions on
 * the resource, the scope and the client's metadata (request["X-Tenant"])
 * to named ports, unmatched to `default`; a request whose resources go to
 * different routes is split by slicing its bytes (each part is exactly the
 * encoding of a request holding only that route's resources, in order);
 * the original is acked once every part is, nacked when one fails;
 * error_mode; wiring and condition errors at config time. The test source
 * and sinks are tests/support/flow_nodes.h's. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "flow_nodes.h"

#include "otflow/alloc.h"
#include "otflow/arena.h"
#include "otflow/config.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"
#include "otflow/service.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const k_json[] = {
    /* 0: three resources, tenants a, b, c, one log each */
    "{\"resourceLogs\":["
    "{\"resource\":{\"attributes\":[{\"key\":\"tenant\",\"value\":{\"stringValue\":\"a\"}}]},"
    "\"scopeLogs\":[{\"scope\":{\"name\":\"s\"},\"logRecords\":[{\"body\":{\"stringValue\":"
    "\"a1\"}},{\"body\":{\"stringValue\":\"a2\"}}]}]},"
    "{\"resource\":{\"attributes\":[{\"key\":\"tenant\",\"value\":{\"stringValue\":\"b\"}}]},"
    "\"scopeLogs\":[{\"scope\":{\"name\":\"s\"},\"logRecords\":[{\"body\":{\"stringValue\":"
    "\"b1\"}}]}]},"
    "{\"resource\":{\"attributes\":[{\"key\":\"tenant\",\"value\":{\"stringValue\":\"c\"}}]},"
    "\"scopeLogs\":[{\"scope\":{\"name\":\"s\"},\"logRecords\":[{\"body\":{\"stringValue\":"
    "\"c1\"}}]}]}]}",
    /* 1, 2, 3: each resource of 0 alone */
    "{\"resourceLogs\":["
    "{\"resource\":{\"attributes\":[{\"key\":\"tenant\",\"value\":{\"stringValue\":\"a\"}}]},"
    "\"scopeLogs\":[{\"scope\":{\"name\":\"s\"},\"logRecords\":[{\"body\":{\"stringValue\":"
    "\"a1\"}},{\"body\":{\"stringValue\":\"a2\"}}]}]}]}",
    "{\"resourceLogs\":["
    "{\"resource\":{\"attributes\":[{\"key\":\"tenant\",\"value\":{\"stringValue\":\"b\"}}]},"
    "\"scopeLogs\":[{\"scope\":{\"name\":\"s\"},\"logRecords\":[{\"body\":{\"stringValue\":"
    "\"b1\"}}]}]}]}",
    "{\"resourceLogs\":["
    "{\"resource\":{\"attributes\":[{\"key\":\"tenant\",\"value\":{\"stringValue\":\"c\"}}]},"
    "\"scopeLogs\":[{\"scope\":{\"name\":\"s\"},\"logRecords\":[{\"body\":{\"stringValue\":"
    "\"c1\"}}]}]}]}",
    /* 4: one resource, scopes alpha and beta */
    "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"tenant\",\"value\":{"
    "\"stringValue\":\"a\"}}]},\"scopeLogs\":["
    "{\"scope\":{\"name\":\"alpha\"},\"logRecords\":[{\"body\":{\"stringValue\":\"x\"}}]},"
    "{\"scope\":{\"name\":\"beta\"},\"logRecords\":[{\"body\":{\"stringValue\":\"y\"}}]},"
    "{\"scope\":{\"name\":\"alpha\"},\"logRecords\":[{\"body\":{\"stringValue\":\"z\"}}]}]}]}",
    /* 5, 6: the alpha scopes of 4, its beta scope */
    "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"tenant\",\"value\":{"
    "\"stringValue\":\"a\"}}]},\"scopeLogs\":["
    "{\"scope\":{\"name\":\"alpha\"},\"logRecords\":[{\"body\":{\"stringValue\":\"x\"}}]},"
    "{\"scope\":{\"name\":\"alpha\"},\"logRecords\":[{\"body\":{\"stringValue\":\"z\"}}]}]}]}",
    "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"tenant\",\"value\":{"
    "\"stringValue\":\"a\"}}]},\"scopeLogs\":["
    "{\"scope\":{\"name\":\"beta\"},\"logRecords\":[{\"body\":{\"stringValue\":\"y\"}}]}]}]}",
    /* 7: tenant a, then an attribute of its own (bytes unlike 1's after
     * the first KeyValue) */
    "{\"resourceLogs\":[{\"resource\":{\"attributes\":["
    "{\"key\":\"tenant\",\"value\":{\"stringValue\":\"a\"}},"
    "{\"key\":\"zone\",\"value\":{\"stringValue\":\"z1\"}}]},"
    "\"scopeLogs\":[{\"scope\":{\"name\":\"s\"},\"logRecords\":[{\"body\":{\"stringValue\":"
    "\"a7\"}}]}]}]}",
    /* 8: two resources of tenant a (1's twice) */
    "{\"resourceLogs\":["
    "{\"resource\":{\"attributes\":[{\"key\":\"tenant\",\"value\":{\"stringValue\":\"a\"}}]},"
    "\"scopeLogs\":[{\"scope\":{\"name\":\"s\"},\"logRecords\":[{\"body\":{\"stringValue\":"
    "\"a1\"}}]}]},"
    "{\"resource\":{\"attributes\":[{\"key\":\"tenant\",\"value\":{\"stringValue\":\"a\"}}]},"
    "\"scopeLogs\":[{\"scope\":{\"name\":\"s\"},\"logRecords\":[{\"body\":{\"stringValue\":"
    "\"a2\"}}]}]}]}",
    /* 9: 1's resource and shape, other log bodies of the same lengths */
    "{\"resourceLogs\":["
    "{\"resource\":{\"attributes\":[{\"key\":\"tenant\",\"value\":{\"stringValue\":\"a\"}}]},"
    "\"scopeLogs\":[{\"scope\":{\"name\":\"s\"},\"logRecords\":[{\"body\":{\"stringValue\":"
    "\"x1\"}},{\"body\":{\"stringValue\":\"x2\"}}]}]}]}",
    /* 10: 1's resource with two scopes */
    "{\"resourceLogs\":["
    "{\"resource\":{\"attributes\":[{\"key\":\"tenant\",\"value\":{\"stringValue\":\"a\"}}]},"
    "\"scopeLogs\":[{\"scope\":{\"name\":\"s\"},\"logRecords\":[{\"body\":{\"stringValue\":"
    "\"a1\"}}]},{\"scope\":{\"name\":\"t\"},\"logRecords\":[{\"body\":{\"stringValue\":"
    "\"a2\"}}]}]}]}",
    /* 11: 1 with tenant b: the same length and shape, one byte apart */
    "{\"resourceLogs\":["
    "{\"resource\":{\"attributes\":[{\"key\":\"tenant\",\"value\":{\"stringValue\":\"b\"}}]},"
    "\"scopeLogs\":[{\"scope\":{\"name\":\"s\"},\"logRecords\":[{\"body\":{\"stringValue\":"
    "\"a1\"}},{\"body\":{\"stringValue\":\"a2\"}}]}]}]}",
    /* 12: 1's group (its request's prefix), then 2's: a request longer than 1 */
    "{\"resourceLogs\":["
    "{\"resource\":{\"attributes\":[{\"key\":\"tenant\",\"value\":{\"stringValue\":\"a\"}}]},"
    "\"scopeLogs\":[{\"scope\":{\"name\":\"s\"},\"logRecords\":[{\"body\":{\"stringValue\":"
    "\"a1\"}},{\"body\":{\"stringValue\":\"a2\"}}]}]},"
    "{\"resource\":{\"attributes\":[{\"key\":\"tenant\",\"value\":{\"stringValue\":\"b\"}}]},"
    "\"scopeLogs\":[{\"scope\":{\"name\":\"s\"},\"logRecords\":[{\"body\":{\"stringValue\":"
    "\"b1\"}}]}]}]}",
};

/* Protobuf of k_json[i] (the codec's canonical encoding). */
static otf_buf_t *pb_of(int i)
{
	otf_arena_t a;
	otf_arena_init(&a, 4096);
	otf_logs_t l;
	otf_buf_t *b = NULL;
	if (otf_pdata_json_decode_logs(&l, k_json[i], strlen(k_json[i]), &a, NULL, NULL) ||
	    otf_pdata_encode_logs(&l, &b))
		fail_msg("payload %d does not encode", i);
	otf_arena_close(&a);
	return b;
}

static int setup(void **state)
{
	(void)state;
	otf_components_register_builtins();
	otf_tf_register();
	otf_tf_set_payloads(pb_of, OTF_SIGNAL_LOGS);
	otf_log_set_level(OTF_LOG_ERROR);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	otf_tf_reset();
	return 0;
}

typedef struct run {
	otf_config_t *cfg;
	otf_dag_t *dag;
	otf_service_settings_t st;
	otf_engine_t *e;
} run_t;

static int build(run_t *r, const char *yaml, otf_config_error_t *err)
{
	memset(r, 0, sizeof *r);
	int rc = otf_config_load_string("test.yaml", yaml, strlen(yaml), NULL, &r->cfg, err);
	if (!rc)
		rc = otf_service_build(r->cfg, &r->dag, &r->st, err);
	return rc;
}

static void start(run_t *r, const char *yaml)
{
	otf_tf_reset();
	otf_config_error_t err;
	if (build(r, yaml, &err))
		fail_msg("build: %s", err.text);
	otf_log_set_level(OTF_LOG_ERROR);
	assert_int_equal(otf_engine_start(r->dag, &r->st.runtime, &r->e), 0);
	for (int i = 0; i < 5000 && atomic_load(&otf_tf.acks) + atomic_load(&otf_tf.nacks) < 1; i++)
		usleep(1000);
	if (atomic_load(&otf_tf.acks) + atomic_load(&otf_tf.nacks) < 1)
		fail_msg("the message was not answered within 5 s");
	otf_engine_request_stop(r->e);
	assert_int_equal(otf_engine_join(r->e), 0);
	otf_dag_destroy(r->dag);
	otf_config_destroy(r->cfg);
}

#define CR_YAML(src_cfg, cr_cfg, s0, s1, s2)                   \
	"nodes:\n"                                             \
	"  src: {type: tf_src, config: {" src_cfg "}}\n"       \
	"  cr: {type: content_router, config: {" cr_cfg "}}\n" \
	"  k0: {type: tf_sink, config: {slot: 0, " s0 "}}\n"   \
	"  k1: {type: tf_sink, config: {slot: 1, " s1 "}}\n"   \
	"  k2: {type: tf_sink, config: {slot: 2, " s2 "}}\n"   \
	"connections:\n"                                       \
	"  - {from: src, to: cr}\n"                            \
	"  - {from: cr.a, to: k0}\n"                           \
	"  - {from: cr.b, to: k1}\n"                           \
	"  - {from: cr.default, to: k2}\n"                     \
	"runtime: {workers: 1, shutdown_timeout: 2s}\n"

#define ROUTES_AB                                                                    \
	"routes: {a: 'attributes[\"tenant\"] == \"a\"', b: 'attributes[\"tenant\"] " \
	"== \"b\"'}"

/* Sink slot got exactly one message whose bytes are k_json[want]'s
 * encoding, a part of the sent message (its source) holding items. */
static void expect_part(int slot, int want, uint64_t items)
{
	assert_int_equal(atomic_load(&otf_tf.sink[slot].seen), 1);
	otf_buf_t *exp = pb_of(want);
	otf_buf_t *got = otf_tf.sink[slot].payload[0];
	if (got->len != exp->len || memcmp(got->data, exp->data, exp->len))
		fail_msg("sink %d: %zu bytes, not the %zu of payload %d", slot, got->len, exp->len,
		         want);
	otf_buf_unref(exp);
	assert_int_equal(otf_tf.sink[slot].source[0], atomic_load(&otf_tf.sent_ids[0]));
	assert_int_equal(otf_tf.sink[slot].items[0], items);
}

/* Three resources, three routes: each sink gets exactly its resource. */
static void test_split_per_resource(void **state)
{
	(void)state;
	run_t r;
	start(&r, CR_YAML("payload: 0", ROUTES_AB, "", "", ""));
	assert_int_equal(atomic_load(&otf_tf.acks), 1);
	assert_int_equal(atomic_load(&otf_tf.nacks), 0);
	expect_part(0, 1, 2);
	expect_part(1, 2, 1);
	expect_part(2, 3, 1);
}

/* One route for everything: the message itself goes on (same id, same
 * bytes, no copy). */
static void test_single_route_passes_message(void **state)
{
	(void)state;
	run_t r;
	start(&r, CR_YAML("payload: 1", ROUTES_AB, "", "", ""));
	assert_int_equal(atomic_load(&otf_tf.acks), 1);
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 1);
	assert_int_equal(atomic_load(&otf_tf.sink[1].seen) + atomic_load(&otf_tf.sink[2].seen), 0);
	assert_int_equal(otf_tf.sink[0].id[0], atomic_load(&otf_tf.sent_ids[0]));
	otf_buf_t *exp = pb_of(1);
	assert_int_equal(otf_tf.sink[0].payload[0]->len, exp->len);
	assert_memory_equal(otf_tf.sink[0].payload[0]->data, exp->data, exp->len);
	otf_buf_unref(exp);
}

/* request["X-Tenant"] reads the client metadata (case-insensitive). */
static void test_request_header(void **state)
{
	(void)state;
	run_t r;
	start(&r,
	      CR_YAML("payload: 0, header: x-tenant=acme",
	              "routes: {a: 'request[\"X-Tenant\"] == \"acme\"', b: 'request[\"X-Tenant\"] "
	              "== nil'}",
	              "", "", ""));
	assert_int_equal(atomic_load(&otf_tf.acks), 1);
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 1);
	assert_int_equal(atomic_load(&otf_tf.sink[1].seen) + atomic_load(&otf_tf.sink[2].seen), 0);
	/* without the header: route b (nil) */
	start(&r,
	      CR_YAML("payload: 0",
	              "routes: {a: 'request[\"X-Tenant\"] == \"acme\"', b: 'request[\"X-Tenant\"] "
	              "== nil'}",
	              "", "", ""));
	assert_int_equal(atomic_load(&otf_tf.sink[1].seen), 1);
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen) + atomic_load(&otf_tf.sink[2].seen), 0);
}

/* The same resource twice with different headers: the router's decision
 * cache (keyed on the resource bytes and the headers read) must not give
 * the second message the first one's route. */
static void test_same_resource_other_header(void **state)
{
	(void)state;
	run_t r;
	start(&r,
	      CR_YAML("payload: 1, header: x-tenant=acme, header2: x-tenant=other",
	              "routes: {a: 'request[\"X-Tenant\"] == \"acme\"', b: 'request[\"X-Tenant\"] "
	              "== \"other\"'}",
	              "", "", ""));
	for (int i = 0; i < 5000 && atomic_load(&otf_tf.acks) < 2; i++)
		usleep(1000);
	assert_int_equal(atomic_load(&otf_tf.acks), 2);
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen), 1);
	assert_int_equal(atomic_load(&otf_tf.sink[1].seen), 1);
	assert_int_equal(atomic_load(&otf_tf.sink[2].seen), 0);
}

/* The fast path's decision cache (the last resource's route, reused for
 * the same bytes) gives every message the route its own resource has:
 * one resource over and over (hits), resources one byte apart (tenant a,
 * then b), one equal to the cached up to its first attribute, a request
 * of two equal resources, one of three routes (split, the general path),
 * requests of one resource and scope equal up to their records (taken
 * without a walk) or of two scopes, and a stretch of alternating
 * resources long enough to turn the cache off. Each sink gets exactly the messages of its route, in order, bytes
 * untouched. */
static void test_fast_decision_cache(void **state)
{
	(void)state;
	/* payload, expected sink (-1: split over all three) */
	int seq[64][2], n = 0;
	static const int head[][2] = {{1, 0},  {1, 0},  {1, 0},  {2, 1},   {2, 1}, {1, 0},  {3, 2},
	                              {7, 0},  {1, 0},  {8, 0},  {8, 0},   {2, 1}, {0, -1}, {1, 0},
	                              {9, 0},  {1, 0},  {10, 0}, {1, 0},   {2, 1}, {9, 0},  {1, 0},
	                              {11, 1}, {11, 1}, {1, 0},  {12, -1}, {1, 0}};
	for (size_t i = 0; i < sizeof head / sizeof head[0]; i++) {
		seq[n][0] = head[i][0];
		seq[n++][1] = head[i][1];
	}
	for (int i = 0; i < 24; i++) { /* alternating: misses in a row */
		seq[n][0] = i % 2 ? 2 : 1;
		seq[n++][1] = i % 2;
	}
	for (int i = 0; i < 4; i++) {
		seq[n][0] = i == 2 ? 3 : 1;
		seq[n++][1] = i == 2 ? 2 : 0;
	}
	otf_tf_reset();
	for (int i = 0; i < n; i++)
		otf_tf_add(OTF_SIGNAL_LOGS, pb_of(seq[i][0]), 1);
	run_t r;
	otf_config_error_t err;
	if (build(&r, CR_YAML("", ROUTES_AB, "", "", ""), &err))
		fail_msg("build: %s", err.text);
	assert_int_equal(otf_engine_start(r.dag, &r.st.runtime, &r.e), 0);
	for (int i = 0; i < 10000 && atomic_load(&otf_tf.acks) + atomic_load(&otf_tf.nacks) < n;
	     i++)
		usleep(1000);
	int answered = atomic_load(&otf_tf.acks) + atomic_load(&otf_tf.nacks);
	otf_engine_request_stop(r.e);
	assert_int_equal(otf_engine_join(r.e), 0);
	otf_dag_destroy(r.dag);
	otf_config_destroy(r.cfg);
	if (answered < n)
		fail_msg("%d of %d messages answered within 10 s", answered, n);
	assert_int_equal(atomic_load(&otf_tf.nacks), 0);
	int at[3] = {0, 0, 0};
	for (int i = 0; i < n; i++) {
		int p = seq[i][0], k = seq[i][1];
		if (k < 0) { /* split: each sink's part of payload 0 (12: of the first two) */
			for (int s = 0; s < (p == 12 ? 2 : 3); s++) {
				otf_buf_t *exp = pb_of(s + 1), *got = otf_tf.sink[s].payload[at[s]];
				assert_non_null(got);
				assert_int_equal(got->len, exp->len);
				assert_memory_equal(got->data, exp->data, exp->len);
				otf_buf_unref(exp);
				at[s]++;
			}
			continue;
		}
		otf_buf_t *exp = pb_of(p), *got = otf_tf.sink[k].payload[at[k]];
		if (!got || got->len != exp->len || memcmp(got->data, exp->data, exp->len))
			fail_msg("message %d (payload %d): not the next at sink %d", i, p, k);
		otf_buf_unref(exp);
		assert_int_equal(otf_tf.sink[k].id[at[k]], atomic_load(&otf_tf.sent_ids[i]));
		at[k]++;
	}
	for (int s = 0; s < 3; s++)
		assert_int_equal(atomic_load(&otf_tf.sink[s].seen), at[s]);
}

/* A part failing fails the original: retryable when any failure is,
 * permanent when all are; the other parts were still delivered. */
static void test_part_failure_nacks_original(void **state)
{
	(void)state;
	run_t r;
	start(&r, CR_YAML("payload: 0", ROUTES_AB, "fail: -1", "", ""));
	assert_int_equal(atomic_load(&otf_tf.acks), 0);
	assert_int_equal(atomic_load(&otf_tf.nacks), 1);
	assert_int_equal(atomic_load(&otf_tf.nack_permanent), 0);
	assert_non_null(strstr(otf_tf.reason, "sink down"));
	expect_part(1, 2, 1);
	expect_part(2, 3, 1);
	start(&r, CR_YAML("payload: 0", ROUTES_AB, "fail: -1, permanent: true", "",
	                  "fail: -1, permanent: true"));
	assert_int_equal(atomic_load(&otf_tf.nack_permanent), 1);
	/* A throttled part: the original's NACK carries the longest delay. */
	start(&r, CR_YAML("payload: 0", ROUTES_AB, "fail: -1, throttle_ms: 300", "",
	                  "fail: -1, throttle_ms: 800"));
	assert_int_equal(atomic_load(&otf_tf.nacks), 1);
	assert_int_equal(atomic_load(&otf_tf.nack_permanent), 0);
	assert_int_equal(atomic_load(&otf_tf.retry_after_ns), 800000000ull);
}

/* Scope context: one resource split by scope; each part holds the
 * resource and only that route's scopes, in order. */
static void test_split_per_scope(void **state)
{
	(void)state;
	run_t r;
	start(&r, CR_YAML("payload: 4",
	                  "context: scope, routes: {a: 'name == \"alpha\" and "
	                  "resource.attributes[\"tenant\"] == \"a\"', b: 'name == \"gamma\"'}",
	                  "", "", ""));
	assert_int_equal(atomic_load(&otf_tf.acks), 1);
	expect_part(0, 5, 2);
	expect_part(2, 6, 1);
	assert_int_equal(atomic_load(&otf_tf.sink[1].seen), 0);
}

/* error_mode: propagate nacks permanent naming the route; ignore takes
 * the failing route as not matched. */
static void test_error_mode(void **state)
{
	(void)state;
	run_t r;
	start(&r,
	      CR_YAML("payload: 1", "routes: {a: 'Len(attributes[\"missing\"]) > 0', b: 'true'}",
	              "", "", ""));
	assert_int_equal(atomic_load(&otf_tf.nack_permanent), 1);
	assert_non_null(strstr(otf_tf.reason, "route 'a'"));
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen) + atomic_load(&otf_tf.sink[1].seen), 0);
	start(&r, CR_YAML("payload: 1",
	                  "error_mode: ignore, routes: {a: 'Len(attributes[\"missing\"]) > 0', "
	                  "b: 'attributes[\"tenant\"] == \"a\"'}",
	                  "", "", ""));
	assert_int_equal(atomic_load(&otf_tf.acks), 1);
	assert_int_equal(atomic_load(&otf_tf.sink[1].seen), 1);
}

static void expect_error(const char *yaml, const char *needle)
{
	run_t r;
	otf_config_error_t err;
	int rc = build(&r, yaml, &err);
	if (!rc) {
		otf_dag_destroy(r.dag);
		otf_config_destroy(r.cfg);
		fail_msg("accepted; expected an error with '%s'", needle);
	}
	otf_config_destroy(r.cfg);
	if (!strstr(err.text, "test.yaml:") || !strstr(err.text, needle))
		fail_msg("error '%s' lacks test.yaml: or '%s'", err.text, needle);
}

static void test_config_errors(void **state)
{
	(void)state;
	/* no default wired, unmatched possible */
	expect_error("nodes:\n"
	             "  src: {type: tf_src}\n"
	             "  cr: {type: content_router, config: {" ROUTES_AB "}}\n"
	             "  k0: {type: tf_sink}\n"
	             "  k1: {type: tf_sink}\n"
	             "connections:\n"
	             "  - {from: src, to: cr}\n"
	             "  - {from: cr.a, to: k0}\n"
	             "  - {from: cr.b, to: k1}\n",
	             "match no route have nowhere to go");
	/* ... but a final `true` route makes default unnecessary */
	run_t r;
	otf_config_error_t err;
	const char *ok = "nodes:\n"
	                 "  src: {type: tf_src}\n"
	                 "  cr: {type: content_router, config: {routes: {a: 'true'}}}\n"
	                 "  k0: {type: tf_sink}\n"
	                 "connections:\n"
	                 "  - {from: src, to: cr}\n"
	                 "  - {from: cr.a, to: k0}\n";
	if (build(&r, ok, &err))
		fail_msg("a router ending in `true` without default: %s", err.text);
	otf_dag_destroy(r.dag);
	otf_config_destroy(r.cfg);
	/* a route with nothing wired */
	expect_error("nodes:\n"
	             "  src: {type: tf_src}\n"
	             "  cr: {type: content_router, config: {" ROUTES_AB "}}\n"
	             "  k0: {type: tf_sink}\n"
	             "connections:\n"
	             "  - {from: src, to: cr}\n"
	             "  - {from: cr.a, to: k0}\n"
	             "  - {from: cr.default, to: k0}\n",
	             "route 'b' has nothing wired");
	/* unknown port: the ports are the routes */
	expect_error("nodes:\n"
	             "  src: {type: tf_src}\n"
	             "  cr: {type: content_router, config: {" ROUTES_AB "}}\n"
	             "  k0: {type: tf_sink}\n"
	             "connections:\n"
	             "  - {from: src, to: cr}\n"
	             "  - {from: cr.c, to: k0}\n",
	             "no output port 'c' (ports: default, a, b)");
	/* a condition that does not compile: route and column */
	expect_error("nodes:\n"
	             "  src: {type: tf_src}\n"
	             "  cr: {type: content_router, config: {routes: {a: 'attributes[\"x\"] =='}}}\n"
	             "  k0: {type: tf_sink}\n"
	             "connections:\n"
	             "  - {from: src, to: cr}\n"
	             "  - {from: cr.default, to: k0}\n",
	             "route 'a'");
	expect_error("nodes:\n"
	             "  src: {type: tf_src}\n"
	             "  cr: {type: content_router, config: {routes: {default: 'true'}}}\n"
	             "  k0: {type: tf_sink}\n"
	             "connections:\n"
	             "  - {from: src, to: cr}\n"
	             "  - {from: cr.default, to: k0}\n",
	             "'default' is the port of unmatched data");
	/* request[] takes exactly one key */
	expect_error("nodes:\n"
	             "  src: {type: tf_src}\n"
	             "  cr: {type: content_router, config: {routes: {a: 'request == nil'}}}\n"
	             "  k0: {type: tf_sink}\n"
	             "connections:\n"
	             "  - {from: src, to: cr}\n"
	             "  - {from: cr.default, to: k0}\n",
	             "takes one key");
}

/* Sink slot got, in any order, the encodings of k_json[want[0..n)]. */
static void expect_parts(int slot, const int *want, int n)
{
	assert_int_equal(atomic_load(&otf_tf.sink[slot].seen), n);
	for (int w = 0; w < n; w++) {
		otf_buf_t *exp = pb_of(want[w]);
		bool found = false;
		for (int k = 0; k < n && !found; k++)
			found = otf_tf.sink[slot].payload[k]->len == exp->len &&
			        !memcmp(otf_tf.sink[slot].payload[k]->data, exp->data, exp->len);
		otf_buf_unref(exp);
		if (!found)
			fail_msg("sink %d did not get payload %d", slot, want[w]);
	}
}

/* The Collector's routing connector in Collector YAML: the table's
 * pipelines receive their entry's resources (an entry with two pipelines
 * feeds both), default_pipelines the rest; the original is acked once. */
static void test_routing_connector(void **state)
{
	(void)state;
	run_t r;
	start(&r, "receivers: {tf_src: {payload: 0}}\n"
	          "exporters: {tf_sink/0: {slot: 0}, tf_sink/1: {slot: 1}, tf_sink/2: {slot: 2}}\n"
	          "connectors:\n"
	          "  routing:\n"
	          "    default_pipelines: [logs/c]\n"
	          "    table:\n"
	          "      - condition: attributes[\"tenant\"] == \"a\"\n"
	          "        pipelines: [logs/a]\n"
	          "      - statement: route() where attributes[\"tenant\"] == \"b\"\n"
	          "        pipelines: [logs/b, logs/a]\n"
	          "service:\n"
	          "  pipelines:\n"
	          "    logs: {receivers: [tf_src], exporters: [routing]}\n"
	          "    logs/a: {receivers: [routing], exporters: [tf_sink/0]}\n"
	          "    logs/b: {receivers: [routing], exporters: [tf_sink/1]}\n"
	          "    logs/c: {receivers: [routing], exporters: [tf_sink/2]}\n"
	          "runtime: {workers: 1, shutdown_timeout: 2s}\n");
	assert_int_equal(atomic_load(&otf_tf.acks), 1);
	assert_int_equal(atomic_load(&otf_tf.nacks), 0);
	expect_parts(0, (const int[]){1, 2}, 2);
	expect_parts(1, (const int[]){2}, 1);
	expect_parts(2, (const int[]){3}, 1);
}

/* Without default_pipelines (as the Collector) data that matches no entry
 * is dropped, the request acked, and the drop counted on the connector:
 * payload 0's tenant c log is dropped while a and b reach their pipelines;
 * payload 3 (tenant c alone) is dropped whole. */
static void run_drops(int payload, uint64_t *dropped)
{
	char yaml[2048];
	snprintf(yaml, sizeof yaml,
	         "receivers: {tf_src: {payload: %d}}\n"
	         "exporters: {tf_sink/0: {slot: 0}, tf_sink/1: {slot: 1}}\n"
	         "connectors:\n"
	         "  routing:\n"
	         "    table:\n"
	         "      - condition: attributes[\"tenant\"] == \"a\"\n"
	         "        pipelines: [logs/a]\n"
	         "      - condition: attributes[\"tenant\"] == \"b\"\n"
	         "        pipelines: [logs/b]\n"
	         "service:\n"
	         "  pipelines:\n"
	         "    logs: {receivers: [tf_src], exporters: [routing]}\n"
	         "    logs/a: {receivers: [routing], exporters: [tf_sink/0]}\n"
	         "    logs/b: {receivers: [routing], exporters: [tf_sink/1]}\n"
	         "runtime: {workers: 1, shutdown_timeout: 2s}\n",
	         payload);
	otf_tf_reset();
	run_t r;
	otf_config_error_t err;
	if (build(&r, yaml, &err))
		fail_msg("build: %s", err.text);
	otf_log_set_level(OTF_LOG_ERROR);
	assert_int_equal(otf_engine_start(r.dag, &r.st.runtime, &r.e), 0);
	for (int i = 0; i < 5000 && atomic_load(&otf_tf.acks) + atomic_load(&otf_tf.nacks) < 1; i++)
		usleep(1000);
	if (atomic_load(&otf_tf.acks) + atomic_load(&otf_tf.nacks) < 1)
		fail_msg("the message was not answered within 5 s");
	otf_node_stats_t st[8];
	size_t n = otf_engine_stats(r.e, st, 8);
	*dropped = UINT64_MAX;
	for (size_t i = 0; i < n && i < 8; i++)
		if (st[i].kind == OTF_KIND_CONNECTOR && strstr(st[i].name, "routing"))
			*dropped = st[i].counters[OTF_COUNTER_DROPPED][OTF_SIGNAL_LOGS];
	otf_engine_request_stop(r.e);
	assert_int_equal(otf_engine_join(r.e), 0);
	otf_dag_destroy(r.dag);
	otf_config_destroy(r.cfg);
}

static void test_routing_connector_drops_unmatched(void **state)
{
	(void)state;
	uint64_t dropped;
	run_drops(0, &dropped);
	assert_int_equal(atomic_load(&otf_tf.acks), 1);
	assert_int_equal(atomic_load(&otf_tf.nacks), 0);
	expect_parts(0, (const int[]){1}, 1);
	expect_parts(1, (const int[]){2}, 1);
	assert_int_equal(dropped, 1); /* c1 */
	run_drops(3, &dropped);
	assert_int_equal(atomic_load(&otf_tf.acks), 1);
	assert_int_equal(atomic_load(&otf_tf.sink[0].seen) + atomic_load(&otf_tf.sink[1].seen), 0);
	assert_int_equal(dropped, 1);
}

static void expect_collector_error(const char *table, const char *needle)
{
	char yaml[2048];
	snprintf(yaml, sizeof yaml,
	         "receivers: {tf_src: {}}\n"
	         "exporters: {tf_sink/0: {slot: 0}, tf_sink/1: {slot: 1}}\n"
	         "connectors:\n"
	         "  routing:\n"
	         "%s"
	         "service:\n"
	         "  pipelines:\n"
	         "    logs: {receivers: [tf_src], exporters: [routing]}\n"
	         "    logs/a: {receivers: [routing], exporters: [tf_sink/0]}\n"
	         "    logs/b: {receivers: [routing], exporters: [tf_sink/1]}\n",
	         table);
	expect_error(yaml, needle);
}

static void test_routing_connector_errors(void **state)
{
	(void)state;
	expect_collector_error("    table:\n"
	                       "      - {condition: 'true', pipelines: [logs/a]}\n",
	                       "pipeline 'logs/b' receives from connector 'routing'");
	expect_collector_error("    default_pipelines: [logs/b]\n"
	                       "    table:\n"
	                       "      - {statement: 'route() where true', condition: 'true', "
	                       "pipelines: [logs/a]}\n",
	                       "table[0]: exactly one of statement and condition");
	expect_collector_error(
	    "    default_pipelines: [logs/b]\n"
	    "    table:\n"
	    "      - {context: request, statement: 'route()', pipelines: [logs/a]}\n",
	    "context request takes a condition");
	expect_collector_error("    default_pipelines: [logs/b]\n"
	                       "    table:\n"
	                       "      - {context: span, condition: 'true', pipelines: [logs/a]}\n",
	                       "table[0]: context span routes spans, but the connector receives "
	                       "no traces");
	expect_collector_error("    default_pipelines: [logs/b]\n"
	                       "    table:\n"
	                       "      - {statement: 'drop() where true', pipelines: [logs/a]}\n",
	                       "route() where <condition>");
	expect_collector_error("    default_pipelines: [logs/b]\n"
	                       "    table:\n"
	                       "      - {condition: 'attributes[', pipelines: [logs/a]}\n",
	                       "route 'table[0]'");
	expect_collector_error("    default_pipelines: [logs/b]\n    table: []\n",
	                       "at least one entry");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_split_per_resource, teardown),
	    cmocka_unit_test_teardown(test_single_route_passes_message, teardown),
	    cmocka_unit_test_teardown(test_request_header, teardown),
	    cmocka_unit_test_teardown(test_same_resource_other_header, teardown),
	    cmocka_unit_test_teardown(test_fast_decision_cache, teardown),
	    cmocka_unit_test_teardown(test_part_failure_nacks_original, teardown),
	    cmocka_unit_test_teardown(test_split_per_scope, teardown),
	    cmocka_unit_test_teardown(test_error_mode, teardown),
	    cmocka_unit_test(test_config_errors),
	    cmocka_unit_test_teardown(test_routing_connector, teardown),
	    cmocka_unit_test(test_routing_connector_errors),
	    cmocka_unit_test_teardown(test_routing_connector_drops_unmatched, teardown),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
