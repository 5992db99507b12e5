/* processor tail_sampling without an engine: the README's example
 * configurations load (every policy type, decision_cache, composite rate
 * allocation) and the decision table holds, policy by policy and for the
 * README's "practical example" (rules 1-7), on traces built here; the
 * trace store keeps num_traces, forgets the oldest first (counted when
 * undecided) and remembers decisions in its caches. The probabilistic
 * policy's hash and threshold are checked against values computed by hand
 * from probabilistic.go's algorithm (FNV-1a 64 of the salt and the id;
 * MaxUint64 times the ratio at 64-bit precision, truncated), with the
 * published FNV-1a 64 test vector of "a". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "components/processors/tail_sampling/tail_sampling.h"

#include "otflow/config.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdio.h>
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

static int load(const char *yaml, otf__ts_config_t *cfg, otf_config_error_t *err)
{
	otf_config_t *c = NULL;
	int rc = otf_config_load_string("ts.yaml", yaml, strlen(yaml), NULL, &c, err);
	if (rc)
		return rc;
	memset(cfg, 0, sizeof *cfg);
	rc = otf_config_schema_apply(otf__ts_schema,
	                             otf_config_get(otf_config_root(c), "tail_sampling"), cfg, err);
	otf_config_destroy(c);
	return rc;
}

/* ---- building traces ---- */

typedef struct sp {
	uint64_t start_ms, end_ms;
	int code;
	const char *key;   /* one attribute, NULL = none */
	int type;          /* OTF_ANY_STRING, _INT, _BOOL */
	const char *sval;  /* string value */
	int64_t ival;      /* int / bool value */
	const char *ts;    /* tracestate */
	const char *event; /* one span event's name, NULL = none */
} sp_t;

static uint8_t g_tid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static otf_bytes_t b(const char *s)
{
	return (otf_bytes_t){(const uint8_t *)s, s ? strlen(s) : 0};
}

static otf_attributes_t one_attr(const char *key, int type, const char *sval, int64_t ival)
{
	if (!key)
		return (otf_attributes_t){0};
	otf_key_value_t *kv = otf_arena_calloc(&arena, 1, sizeof *kv);
	kv->key = b(key);
	kv->value.type = type;
	if (type == OTF_ANY_STRING)
		kv->value.u.string_value = b(sval);
	else if (type == OTF_ANY_INT)
		kv->value.u.int_value = ival;
	else
		kv->value.u.bool_value = ival != 0;
	return (otf_attributes_t){kv, 1};
}

/* One resource (service.name = service, plus an optional attribute) with
 * the spans. */
static otf__ts_trace_t mk(const char *service, const char *rkey, int rtype, const char *rsval,
                          int64_t rival, const sp_t *sps, size_t n)
{
	otf_span_t *spans = otf_arena_calloc(&arena, n, sizeof *spans);
	for (size_t i = 0; i < n; i++) {
		spans[i].trace_id = (otf_bytes_t){g_tid, 16};
		spans[i].start_time_unix_nano = (1000000 + sps[i].start_ms) * 1000000;
		spans[i].end_time_unix_nano = (1000000 + sps[i].end_ms) * 1000000;
		spans[i].status.code = sps[i].code;
		spans[i].attributes = one_attr(sps[i].key, sps[i].type, sps[i].sval, sps[i].ival);
		spans[i].trace_state = b(sps[i].ts);
		if (sps[i].event) {
			otf_span_event_t *ev = otf_arena_calloc(&arena, 1, sizeof *ev);
			ev->name = b(sps[i].event);
			spans[i].events = ev;
			spans[i].events_len = 1;
		}
	}
	otf_scope_spans_t *ss = otf_arena_calloc(&arena, 1, sizeof *ss);
	ss->spans = spans;
	ss->spans_len = n;
	otf_resource_spans_t *rs = otf_arena_calloc(&arena, 1, sizeof *rs);
	otf_key_value_t *kv = otf_arena_calloc(&arena, 2, sizeof *kv);
	kv[0].key = b("service.name");
	kv[0].value.type = OTF_ANY_STRING;
	kv[0].value.u.string_value = b(service);
	size_t na = 1;
	if (rkey) {
		otf_attributes_t a = one_attr(rkey, rtype, rsval, rival);
		kv[na++] = a.items[0];
	}
	rs->resource.attributes = (otf_attributes_t){kv, na};
	rs->scope_spans = ss;
	rs->scope_spans_len = 1;
	otf_traces_t *t = otf_arena_calloc(&arena, 1, sizeof *t);
	t->resource_spans = rs;
	t->resource_spans_len = 1;
	return (otf__ts_trace_t){.trace_id = g_tid, .spans = t, .span_count = (int64_t)n};
}

#define MK(service, ...)                                           \
	mk(service, NULL, 0, NULL, 0, (const sp_t[]){__VA_ARGS__}, \
	   sizeof((const sp_t[]){__VA_ARGS__}) / sizeof(sp_t))

static otf__ts_state_t g_state[64];
static pcre2_match_data *g_md;

static otf__ts_eval_t ev(int64_t now_sec)
{
	return (otf__ts_eval_t){
	    .state = g_state, .now_sec = now_sec, .arena = &arena, .match_data = g_md};
}

static const otf__ts_policy_t *find(const otf__ts_config_t *c, const char *name)
{
	for (size_t i = 0; i < c->policies.n; i++)
		if (!strcmp(c->policies.items[i].name, name))
			return &c->policies.items[i];
	fail_msg("no policy %s", name);
	return NULL;
}

/* The README's first example, without bytes_limiting (not built). */
static const char k_readme[] =
    "tail_sampling:\n"
    "  decision_wait: 10s\n"
    "  num_traces: 100\n"
    "  expected_new_traces_per_sec: 10\n"
    "  decision_cache:\n"
    "    sampled_cache_size: 100_000\n"
    "    non_sampled_cache_size: 100_000\n"
    "  policies:\n"
    "    [\n"
    "      {name: test-policy-1, type: always_sample},\n"
    "      {name: test-policy-2, type: latency, latency: {threshold_ms: 5000, upper_threshold_ms: "
    "10000}},\n"
    "      {name: test-policy-3, type: numeric_attribute, numeric_attribute: {key: key1, "
    "min_value: 50, max_value: 100}},\n"
    "      {name: test-policy-4, type: probabilistic, probabilistic: {sampling_percentage: 10}},\n"
    "      {name: test-policy-5, type: status_code, status_code: {status_codes: [ERROR, UNSET]}},\n"
    "      {name: test-policy-6, type: string_attribute, string_attribute: {key: key2, values: "
    "[value1, value2]}},\n"
    "      {name: test-policy-7, type: string_attribute, string_attribute: {key: key2, values: "
    "[value1, val*], enabled_regex_matching: true, cache_max_size: 10}},\n"
    "      {name: test-policy-8, type: rate_limiting, rate_limiting: {spans_per_second: 35}},\n"
    "      {name: test-policy-10, type: span_count, span_count: {min_spans: 2, max_spans: 20}},\n"
    "      {name: test-policy-11, type: trace_state, trace_state: { key: key3, values: [value1, "
    "value2] }},\n"
    "      {name: test-policy-12, type: boolean_attribute, boolean_attribute: {key: key4, value: "
    "true}},\n"
    "      {name: test-policy-13, type: ottl_condition, ottl_condition: {error_mode: ignore,\n"
    "         span: [\"attributes[\\\"test_attr_key_1\\\"] == \\\"test_attr_val_1\\\"\",\n"
    "                \"attributes[\\\"test_attr_key_2\\\"] != \\\"test_attr_val_1\\\"\"],\n"
    "         spanevent: [\"name != \\\"test_span_event_name\\\"\",\n"
    "                \"attributes[\\\"test_event_attr_key_2\\\"] != "
    "\\\"test_event_attr_val_1\\\"\"]}},\n"
    "      {name: and-policy-1, type: and, and: {and_sub_policy: [\n"
    "        {name: test-and-policy-1, type: numeric_attribute, numeric_attribute: {key: key1, "
    "min_value: 50, max_value: 100}},\n"
    "        {name: test-and-policy-2, type: string_attribute, string_attribute: {key: key2, "
    "values: [value1, value2]}}]}},\n"
    "      {name: drop-policy-1, type: drop, drop: {drop_sub_policy: [\n"
    "        {name: test-drop-policy-1, type: string_attribute, string_attribute: {key: url.path, "
    "values: [\\/health, \\/metrics], enabled_regex_matching: true}}]}},\n"
    "      {name: composite-policy-1, type: composite, composite: {\n"
    "        max_total_spans_per_second: 1000,\n"
    "        policy_order: [test-composite-policy-1, test-composite-policy-2, "
    "test-composite-policy-3],\n"
    "        composite_sub_policy: [\n"
    "          {name: test-composite-policy-1, type: numeric_attribute, numeric_attribute: {key: "
    "key1, min_value: 50}},\n"
    "          {name: test-composite-policy-2, type: string_attribute, string_attribute: {key: "
    "key2, values: [value1, value2]}},\n"
    "          {name: test-composite-policy-3, type: always_sample}],\n"
    "        rate_allocation: [{policy: test-composite-policy-1, percent: 50}, {policy: "
    "test-composite-policy-2, percent: 25}]}}\n"
    "    ]\n";

static void test_readme_config(void **state)
{
	(void)state;
	otf__ts_config_t c;
	otf_config_error_t err;
	if (load(k_readme, &c, &err))
		fail_msg("%s", err.text);
	assert_int_equal(c.decision_wait_ns, 10000000000ll);
	assert_int_equal(c.num_traces, 100);
	assert_int_equal(c.expected_new_traces_per_sec, 10);
	assert_int_equal(c.decision_cache.sampled_cache_size, 100000);
	assert_int_equal(c.decision_cache.non_sampled_cache_size, 100000);
	assert_int_equal(c.policies.n, 15);
	const otf__ts_policy_t *p = find(&c, "test-policy-2");
	assert_int_equal(p->type, TS_LATENCY);
	assert_int_equal(p->threshold_ms, 5000);
	assert_int_equal(p->upper_threshold_ms, 10000);
	p = find(&c, "test-policy-4");
	assert_string_equal(p->hash_salt, "default-hash-seed");
	assert_int_equal(p->prob_threshold, 1844674407370955263ull); /* by hand, see top */
	p = find(&c, "test-policy-5");
	assert_int_equal(p->status_mask,
	                 (1u << OTF_STATUS_CODE_ERROR) | (1u << OTF_STATUS_CODE_UNSET));
	p = find(&c, "test-policy-7");
	assert_true(p->regex && p->cache_size_ignored && p->n_values == 2);
	p = find(&c, "composite-policy-1");
	assert_int_equal(p->n_subs, 3);
	assert_string_equal(p->subs[0].name, "test-composite-policy-1");
	assert_int_equal(p->alloc_sps[0], 500);
	assert_int_equal(p->alloc_sps[1], 250);
	assert_int_equal(p->alloc_sps[2], 0); /* no allocation: none (getRateAllocationMap) */
	assert_int_equal(p->subs[0].min_value, 50);
	assert_int_equal(p->subs[0].max_value, INT64_MAX);
	assert_true(find(&c, "test-policy-13")->span_prog &&
	            find(&c, "test-policy-13")->event_prog);
	otf_config_schema_free(otf__ts_schema, &c);
}

static void test_config_errors(void **state)
{
	(void)state;
	static const struct {
		const char *yaml, *want;
	} k[] = {
	    {"tail_sampling:\n  policies:\n    - {name: a, type: nope}\n",
	     "ts.yaml:3:23: tail_sampling.policies[0].type: policy \"a\": unknown or unsupported "
	     "policy type \"nope\""},
	    {"tail_sampling:\n  policies:\n    - {name: a, type: latency, latency: {threshold_ms: "
	     "x}}\n",
	     "tail_sampling.policies[0].latency.threshold_ms"},
	    {"tail_sampling:\n  policies:\n    - {name: a, type: latency, string_attribute: {}}\n",
	     "unexpected key \"string_attribute\""},
	    {"tail_sampling:\n  policies:\n    - {name: a, type: status_code, status_code: "
	     "{status_codes: [BAD]}}\n",
	     "unknown status code \"BAD\""},
	    {"tail_sampling:\n  policies:\n    - {name: a, type: string_attribute, "
	     "string_attribute: "
	     "{key: k, values: [\"(\"], enabled_regex_matching: true}}\n",
	     "regex \"(\" does not compile"},
	    {"tail_sampling:\n  policies:\n    - {name: a, type: ottl_condition, ottl_condition: "
	     "{span: [\"nope(\"]}}\n",
	     "span condition 0, column"},
	    {"tail_sampling:\n  policies:\n    - {name: a, type: always_sample}\n    - {name: a, "
	     "type: always_sample}\n",
	     "duplicate policy name \"a\""},
	    {"tail_sampling:\n  policies:\n    - {name: c, type: composite, composite: "
	     "{max_total_spans_per_second: 10, composite_sub_policy: [{name: s, type: "
	     "always_sample}], rate_allocation: [{policy: t, percent: 10}]}}\n",
	     "rate_allocation names \"t\""},
	    /* A sub-policy refused inside a composite (fuzz_tail_sampling
	     * found the sub-policies built before it leaking). */
	    {"tail_sampling:\n  policies:\n    - {name: c, type: composite, composite: "
	     "{max_total_spans_per_second: 10, composite_sub_policy: [{name: s, type: "
	     "always_sample}, {name: t, type: latency, latency: {nope: 1}}]}}\n",
	     "unknown key \"nope\""},
	    {"tail_sampling:\n  decision_wait: 1s\n", "policies"},
	};
	for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
		otf__ts_config_t c;
		otf_config_error_t err;
		int rc = load(k[i].yaml, &c, &err);
		if (!rc) {
			otf_config_schema_free(otf__ts_schema, &c);
			fail_msg("case %zu accepted", i);
		}
		if (!strstr(err.text, k[i].want))
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err.text, k[i].want);
	}
}

static void test_probabilistic_hash(void **state)
{
	(void)state;
	assert_int_equal(otf__ts_hash("a", NULL, 0), 0xaf63dc4c8601ec8cull); /* FNV-1a 64 of "a" */
	uint8_t id[16];
	for (int i = 0; i < 16; i++)
		id[i] = (uint8_t)i;
	assert_int_equal(otf__ts_hash("default-hash-seed", id, 16), 0xa6622cfe5bfb0e0dull);
	assert_int_equal(otf__ts_prob_threshold(0.01), 184467440737095519ull);
	assert_int_equal(otf__ts_prob_threshold(0.5), 9223372036854775807ull);
	assert_int_equal(otf__ts_prob_threshold(1.0), UINT64_MAX);
	assert_int_equal(otf__ts_prob_threshold(0), 0);
	assert_int_equal(otf__ts_prob_threshold(1.5), UINT64_MAX); /* 150%: all */
	assert_int_equal(otf__ts_prob_threshold(-0.5), 0);         /* -50%: none */
	/* TestProbabilisticSampling: 100 000 random ids, the share sampled
	 * within 0.2 points of the percentage (default and custom salt). */
	static const struct {
		double pct;
		const char *salt;
	} k[] = {{25, "default-hash-seed"}, {33, "default-hash-seed"}, {33, "test-salt"}};
	for (size_t c = 0; c < sizeof k / sizeof k[0]; c++) {
		uint64_t x = 88172645463325252ull, th = otf__ts_prob_threshold(k[c].pct / 100);
		int sampled = 0;
		for (int i = 0; i < 100000; i++) {
			uint8_t tid[16];
			for (int h = 0; h < 2; h++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				memcpy(tid + 8 * h, &x, 8);
			}
			sampled += otf__ts_hash(k[c].salt, tid, 16) <= th;
		}
		double got = sampled / 1000.0;
		if (got < k[c].pct - 0.2 || got > k[c].pct + 0.2)
			fail_msg("%s at %g%%: %.2f%% sampled", k[c].salt, k[c].pct, got);
	}
}

/* The decision table: one trace per row, the policy's decision. */
static void test_decision_table(void **state)
{
	(void)state;
	otf__ts_config_t c;
	otf_config_error_t err;
	if (load(k_readme, &c, &err))
		fail_msg("%s", err.text);
	otf__ts_eval_t e = ev(1000);
	const sp_t ok_fast = {0, 10, OTF_STATUS_CODE_OK};
#define D(pol, tr) otf__ts_policy_eval(find(&c, pol), &(tr), &e)
	/* status_code ERROR/UNSET */
	otf__ts_trace_t t_err = MK("shop", ok_fast, {1, 2, OTF_STATUS_CODE_ERROR});
	otf__ts_trace_t t_ok = MK("shop", ok_fast);
	assert_int_equal(D("test-policy-5", t_err), TS_SAMPLED);
	assert_int_equal(D("test-policy-5", t_ok), TS_NOT_SAMPLED);
	/* latency 5000 < d <= 10000, first start to last end across spans */
	otf__ts_trace_t t_slow = MK("shop", {0, 1000, 1}, {4000, 6000, 1});
	otf__ts_trace_t t_too_slow = MK("shop", {0, 11000, 1});
	otf__ts_trace_t t_5000 = MK("shop", {0, 5000, 1});
	assert_int_equal(D("test-policy-2", t_slow), TS_SAMPLED);
	assert_int_equal(D("test-policy-2", t_too_slow), TS_NOT_SAMPLED);
	assert_int_equal(D("test-policy-2", t_5000), TS_NOT_SAMPLED); /* exclusive lower bound */
	/* numeric_attribute 50..100 on a span or on the resource */
	otf__ts_trace_t t_n75 = MK("shop", {0, 1, 1, "key1", OTF_ANY_INT, NULL, 75});
	otf__ts_trace_t t_n101 = MK("shop", {0, 1, 1, "key1", OTF_ANY_INT, NULL, 101});
	otf__ts_trace_t t_nres = mk("shop", "key1", OTF_ANY_INT, NULL, 60, &ok_fast, 1);
	assert_int_equal(D("test-policy-3", t_n75), TS_SAMPLED);
	assert_int_equal(D("test-policy-3", t_n101), TS_NOT_SAMPLED);
	assert_int_equal(D("test-policy-3", t_nres), TS_SAMPLED);
	/* string_attribute exact, and regex (unanchored, as Go's MatchString) */
	otf__ts_trace_t t_v1 = MK("shop", {0, 1, 1, "key2", OTF_ANY_STRING, "value1"});
	otf__ts_trace_t t_vx = MK("shop", {0, 1, 1, "key2", OTF_ANY_STRING, "xvalxyz"});
	otf__ts_trace_t t_other = MK("shop", {0, 1, 1, "key2", OTF_ANY_STRING, "other"});
	assert_int_equal(D("test-policy-6", t_v1), TS_SAMPLED);
	assert_int_equal(D("test-policy-6", t_vx), TS_NOT_SAMPLED);
	assert_int_equal(D("test-policy-7", t_vx), TS_SAMPLED);
	assert_int_equal(D("test-policy-7", t_other), TS_NOT_SAMPLED);
	/* span_count 2..20 */
	assert_int_equal(D("test-policy-10", t_ok), TS_NOT_SAMPLED);
	assert_int_equal(D("test-policy-10", t_err), TS_SAMPLED);
	/* trace_state key3 in [value1, value2] */
	otf__ts_trace_t t_ts =
	    MK("shop", {0, 1, 1, NULL, 0, NULL, 0, "ot=th:8, key3=value2,rojo=1"});
	otf__ts_trace_t t_ts_no = MK("shop", {0, 1, 1, NULL, 0, NULL, 0, "key3=value3"});
	assert_int_equal(D("test-policy-11", t_ts), TS_SAMPLED);
	assert_int_equal(D("test-policy-11", t_ts_no), TS_NOT_SAMPLED);
	/* boolean_attribute key4 == true */
	otf__ts_trace_t t_b = MK("shop", {0, 1, 1, "key4", OTF_ANY_BOOL, NULL, 1});
	otf__ts_trace_t t_bf = MK("shop", {0, 1, 1, "key4", OTF_ANY_BOOL, NULL, 0});
	assert_int_equal(D("test-policy-12", t_b), TS_SAMPLED);
	assert_int_equal(D("test-policy-12", t_bf), TS_NOT_SAMPLED);
	/* ottl_condition: attributes["test_attr_key_2"] != "test_attr_val_1" holds for nil */
	assert_int_equal(D("test-policy-13", t_ok), TS_SAMPLED);
	/* and: numeric and string both */
	otf__ts_trace_t t_and = mk("shop", "key1", OTF_ANY_INT, NULL, 70,
	                           (const sp_t[]){{0, 1, 1, "key2", OTF_ANY_STRING, "value2"}}, 1);
	assert_int_equal(D("and-policy-1", t_and), TS_SAMPLED);
	assert_int_equal(D("and-policy-1", t_n75), TS_NOT_SAMPLED);
	/* drop: url.path matching /health */
	otf__ts_trace_t t_health = MK("shop", {0, 1, 1, "url.path", OTF_ANY_STRING, "/healthz"});
	assert_int_equal(D("drop-policy-1", t_health), TS_DROPPED);
	assert_int_equal(D("drop-policy-1", t_ok), TS_NOT_SAMPLED);
	/* The final decision: drop wins over always_sample. */
	assert_false(otf__ts_decide(&c, &t_health, &e, NULL));
	int who = -2;
	assert_true(otf__ts_decide(&c, &t_ok, &e, &who));
	assert_int_equal(who, 0); /* test-policy-1, always_sample */
	/* rate_limiting 35 spans/s: 20 + 20 in one second is too many. */
	memset(g_state, 0, sizeof g_state);
	sp_t twenty[20];
	for (int i = 0; i < 20; i++)
		twenty[i] = ok_fast;
	otf__ts_trace_t t20 = mk("shop", NULL, 0, NULL, 0, twenty, 20);
	assert_int_equal(D("test-policy-8", t20), TS_SAMPLED);
	assert_int_equal(D("test-policy-8", t20), TS_NOT_SAMPLED);
	e.now_sec++; /* a new second */
	assert_int_equal(D("test-policy-8", t20), TS_SAMPLED);
	/* composite: key1 >= 50 has 500 spans/s, then key2, then always_sample
	 * with no allocation of its own. */
	memset(g_state, 0, sizeof g_state);
	otf__ts_trace_t t_c1 = MK("shop", {0, 1, 1, "key1", OTF_ANY_INT, NULL, 1000});
	assert_int_equal(D("composite-policy-1", t_c1), TS_SAMPLED);
	assert_int_equal(D("composite-policy-1", t_ok), TS_NOT_SAMPLED);
#undef D
	otf_config_schema_free(otf__ts_schema, &c);
}

/* The README's practical example (rules 1-7), with team_a's services
 * (service-1..3) for the README's placeholder list "list, of, services,
 * using, tail_sampling". Rule 7's sub-policy is
 * written there with the key string_attribute under type
 * boolean_attribute; the Collector ignores the stray key and its
 * boolean_attribute policy then has no key, so rule 7 never drops there.
 * otflow refuses the stray key; the test writes it as boolean_attribute,
 * as the rule's text intends. */
static const char k_practical[] =
    "tail_sampling:\n"
    "  decision_wait: 10s\n"
    "  num_traces: 100\n"
    "  expected_new_traces_per_sec: 10\n"
    "  policies: [\n"
    "    {name: backwards-compatibility-policy, type: and, and: {and_sub_policy: [\n"
    "      {name: services-using-tail_sampling-policy, type: string_attribute, string_attribute: "
    "{key: service.name, values: [service-1, service-2, service-3], invert_match: "
    "true}},\n"
    "      {name: sample-all-policy, type: always_sample}]}},\n"
    "    {name: team_a-probe, type: and, and: {and_sub_policy: [\n"
    "      {name: service-name-policy, type: string_attribute, string_attribute: {key: "
    "service.name, values: [service-1, service-2, service-3]}},\n"
    "      {name: route-live-ready-policy, type: string_attribute, string_attribute: {key: "
    "http.route, values: [/live, /ready], enabled_regex_matching: true}},\n"
    "      {name: probabilistic-policy, type: probabilistic, probabilistic: {sampling_percentage: "
    "0.1}}]}},\n"
    "    {name: team_a-noisy-endpoint-1, type: and, and: {and_sub_policy: [\n"
    "      {name: service-name-policy, type: string_attribute, string_attribute: {key: "
    "service.name, values: [service-1]}},\n"
    "      {name: route-name-policy, type: string_attribute, string_attribute: {key: http.route, "
    "values: [/v1/name/.+], enabled_regex_matching: true}},\n"
    "      {name: probabilistic-policy, type: probabilistic, probabilistic: {sampling_percentage: "
    "1}}]}},\n"
    "    {name: team_a-service-1, type: and, and: {and_sub_policy: [\n"
    "      {name: service-name-policy, type: string_attribute, string_attribute: {key: "
    "service.name, values: [service-1]}},\n"
    "      {name: route-name-policy, type: string_attribute, string_attribute: {key: http.route, "
    "values: [/v1/name/.+], enabled_regex_matching: true, invert_match: true}},\n"
    "      {name: probabilistic-policy, type: probabilistic, probabilistic: {sampling_percentage: "
    "100}}]}},\n"
    "    {name: team_a-status-policy, type: and, and: {and_sub_policy: [\n"
    "      {name: service-name-policy, type: string_attribute, string_attribute: {key: "
    "service.name, values: [service-1, service-2, service-3]}},\n"
    "      {name: trace-status-policy, type: status_code, status_code: {status_codes: "
    "[ERROR]}}]}},\n"
    "    {name: team_a-force-sample, type: boolean_attribute, boolean_attribute: {key: "
    "app.force_sample, value: true}},\n"
    "    {name: do-not-sample, type: drop, drop: {drop_sub_policy: [\n"
    "      {name: team_a-do-not-sample, type: boolean_attribute, boolean_attribute: {key: "
    "app.do_not_sample, value: true}}]}}\n"
    "  ]\n";

static void test_practical_example(void **state)
{
	(void)state;
	otf__ts_config_t c;
	otf_config_error_t err;
	if (load(k_practical, &c, &err))
		fail_msg("%s", err.text);
	otf__ts_eval_t e = ev(2000);
	/* Rule 1: a team that does not use tail sampling: kept. */
	otf__ts_trace_t r1 = MK("legacy", {0, 1, 1});
	assert_true(otf__ts_decide(&c, &r1, &e, NULL));
	/* Rule 4: service-1 on another route: kept (100%). */
	otf__ts_trace_t r4 = MK("service-1", {0, 1, 1, "http.route", OTF_ANY_STRING, "/v1/cart"});
	assert_true(otf__ts_decide(&c, &r4, &e, NULL));
	/* Rule 3: service-1's noisy endpoint at 1%: kept exactly when the
	 * trace id's hash is at most 1% of MaxUint64 (rule 1 does not apply:
	 * service-1 uses tail sampling; rule 4 excludes the route). */
	otf__ts_trace_t r3 =
	    MK("service-1", {0, 1, 1, "http.route", OTF_ANY_STRING, "/v1/name/42"});
	bool keep3 = otf__ts_hash("default-hash-seed", g_tid, 16) <= otf__ts_prob_threshold(0.01);
	assert_int_equal(otf__ts_decide(&c, &r3, &e, NULL), keep3);
	/* Rule 5: a service in the list with an error: kept; without: not. */
	otf__ts_trace_t r5 = MK("service-2", {0, 1, OTF_STATUS_CODE_ERROR});
	otf__ts_trace_t r5ok = MK("service-2", {0, 1, OTF_STATUS_CODE_OK});
	assert_true(otf__ts_decide(&c, &r5, &e, NULL));
	assert_false(otf__ts_decide(&c, &r5ok, &e, NULL));
	/* Rule 6: forced. */
	otf__ts_trace_t r6 = MK("service-2", {0, 1, 1, "app.force_sample", OTF_ANY_BOOL, NULL, 1});
	assert_true(otf__ts_decide(&c, &r6, &e, NULL));
	/* Rule 7: do_not_sample drops even what rule 1 keeps. */
	otf__ts_trace_t r7 = MK("legacy", {0, 1, 1, "app.do_not_sample", OTF_ANY_BOOL, NULL, 1});
	assert_false(otf__ts_decide(&c, &r7, &e, NULL));
	otf_config_schema_free(otf__ts_schema, &c);
}

/* Inverted decisions: an InvertNotSampled anywhere wins over Sampled;
 * InvertSampled samples only when no policy said NotSampled. */
static void test_invert_precedence(void **state)
{
	(void)state;
	otf__ts_config_t c;
	otf_config_error_t err;
	const char *y = "tail_sampling:\n  policies:\n"
	                "    - {name: all, type: always_sample}\n"
	                "    - {name: not-health, type: string_attribute, string_attribute: {key: "
	                "route, values: [/health], invert_match: true}}\n";
	if (load(y, &c, &err))
		fail_msg("%s", err.text);
	otf__ts_eval_t e = ev(3000);
	otf__ts_trace_t h = MK("s", {0, 1, 1, "route", OTF_ANY_STRING, "/health"});
	otf__ts_trace_t o = MK("s", {0, 1, 1, "route", OTF_ANY_STRING, "/cart"});
	assert_int_equal(otf__ts_policy_eval(&c.policies.items[1], &h, &e), TS_INVERT_NOT_SAMPLED);
	assert_int_equal(otf__ts_policy_eval(&c.policies.items[1], &o, &e), TS_INVERT_SAMPLED);
	assert_false(otf__ts_decide(&c, &h, &e, NULL));
	assert_true(otf__ts_decide(&c, &o, &e, NULL));
	otf_config_schema_free(otf__ts_schema, &c);
}

/* The store: num_traces bound, oldest first, decisions remembered. */
static void test_store(void **state)
{
	(void)state;
	otf__ts_store_t s;
	assert_int_equal(otf__ts_store_init(&s, 3, 1, 2, 2), 0);
	uint8_t id[6][16];
	memset(id, 0, sizeof id);
	int64_t ev_pending;
	for (int i = 0; i < 6; i++)
		id[i][15] = (uint8_t)(i + 1), id[i][8] = (uint8_t)(0x40 * i);
	for (int i = 0; i < 3; i++) {
		otf__ts_entry_t *e = otf__ts_store_add(&s, id[i], (uint64_t)i, &ev_pending);
		assert_non_null(e);
		assert_int_equal(ev_pending, 0);
		e->spans = 5 + i;
	}
	/* The oldest (id 0) is decided; adding a 4th forgets it, not counted. */
	otf__ts_store_decided(&s, s.first_pending, true);
	assert_ptr_equal(s.first_pending, otf__ts_store_find(&s, id[1]));
	assert_non_null(otf__ts_store_add(&s, id[3], 3, &ev_pending));
	assert_int_equal(ev_pending, 0);
	assert_null(otf__ts_store_find(&s, id[0]));
	assert_int_equal(otf__ts_cache_lookup(&s, id[0]), 1); /* still known as sampled */
	/* A 5th forgets id 1, undecided: dropped too early. */
	assert_non_null(otf__ts_store_add(&s, id[4], 4, &ev_pending));
	assert_int_equal(ev_pending, 6); /* its spans, counted as dropped */
	assert_null(otf__ts_store_find(&s, id[1]));
	assert_int_equal(otf__ts_cache_lookup(&s, id[1]), -1);
	assert_int_equal(s.len, 3);
	assert_ptr_equal(s.first_pending, otf__ts_store_find(&s, id[2]));
	/* Not-sampled decisions; the cache of 2 forgets the oldest. */
	otf__ts_store_decided(&s, otf__ts_store_find(&s, id[2]), false);
	otf__ts_store_decided(&s, otf__ts_store_find(&s, id[3]), false);
	otf__ts_store_decided(&s, otf__ts_store_find(&s, id[4]), false);
	assert_null(s.first_pending);
	assert_int_equal(otf__ts_cache_lookup(&s, id[2]), -1);
	assert_int_equal(otf__ts_cache_lookup(&s, id[3]), 0);
	assert_int_equal(otf__ts_cache_lookup(&s, id[4]), 0);
	otf__ts_store_close(&s);
}

int main(void)
{
	g_md = pcre2_match_data_create(1, NULL);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_readme_config),
	    cmocka_unit_test(test_config_errors),
	    cmocka_unit_test(test_probabilistic_hash),
	    cmocka_unit_test(test_decision_table),
	    cmocka_unit_test(test_practical_example),
	    cmocka_unit_test(test_invert_precedence),
	    cmocka_unit_test(test_store),
	};
	int rc = cmocka_run_group_tests(tests, setup, teardown);
	pcre2_match_data_free(g_md);
	return rc;
}
