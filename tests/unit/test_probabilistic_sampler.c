/* processor probabilistic_sampler: the Collector's own test tables, run on
 * decoded trees (tracesprocessor_test.go Test_tracesamplerprocessor_
 * TraceState for equalizing and proportional; logsprocessor_test.go
 * TestLogsSampling and TestLogsSamplingState). The hash_seed vectors are
 * the Go implementation's results: TestLogsSampling's counts (45 of 100
 * at 50%, 23 from a bytes attribute, 29 from a string one, 64 and 57 with
 * priorities) can only come out if the FNV hash, the 14-bit bucket, the
 * float32 rate and the randomness layout are the Go code's, bit for bit.
 * Configs are built as the Go tests build theirs (&Config{...}: precision
 * 0 = full, fail_closed false unless set). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "components/processors/probabilistic_sampler/probabilistic_sampler.h"
#include "components/processors/probabilistic_sampler/ps_sampling.h"

#include "otflow/arena.h"

#include <errno.h>
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

static otf__ps_sampler_t sampler(double pct, int mode, int prec, bool fail_closed)
{
	otf__ps_config_t c = {.sampling_percentage = pct,
	                      .mode = mode,
	                      .sampling_precision = prec,
	                      .fail_closed = fail_closed};
	otf__ps_sampler_t s;
	otf__ps_sampler_init(&s, &c);
	return s;
}

static void hex_id(const char *hex, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

/* ---- primitives ---- */

static void test_thresholds(void **state)
{
	(void)state;
	uint64_t th;
	char tv[16];
	/* README: 25% is th:c, 50% th:8; 1% at full precision th:fd70a3d70a3d71. */
	assert_int_equal(otf__ps_prob_to_threshold(0.25, 4, &th), 0);
	otf__ps_tvalue(th, tv);
	assert_string_equal(tv, "c");
	assert_int_equal(otf__ps_prob_to_threshold(0.5, 0, &th), 0);
	assert_int_equal(th, 0x80000000000000ull);
	assert_int_equal(otf__ps_prob_to_threshold(0.01, 0, &th), 0);
	otf__ps_tvalue(th, tv);
	assert_string_equal(tv, "fd70a3d70a3d71");
	assert_int_equal(otf__ps_prob_to_threshold(0.01, 3, &th), 0);
	otf__ps_tvalue(th, tv);
	assert_string_equal(tv, "fd7");
	assert_int_equal(otf__ps_prob_to_threshold(1, 4, &th), 0);
	otf__ps_tvalue(th, tv);
	assert_string_equal(tv, "0");
	assert_int_equal(otf__ps_prob_to_threshold(0, 4, &th), -ERANGE);
	assert_int_equal(otf__ps_prob_to_threshold(1.5, 4, &th), -ERANGE);
	/* t-values: trailing zeros restored, 15 digits refused. */
	assert_int_equal(otf__ps_tvalue_parse("8", 1, &th), 0);
	assert_int_equal(th, 0x80000000000000ull);
	assert_int_equal(otf__ps_tvalue_parse("123456789abcdef", 15, &th), -EINVAL);
	assert_int_equal(otf__ps_tvalue_parse("xyz", 3, &th), -EINVAL);
	/* hash_seed at 50%: reject threshold (2^14 - 8192) << 42 = th:8. */
	assert_int_equal(otf__ps_hash_threshold(50), 0x80000000000000ull);
	assert_int_equal(otf__ps_hash_threshold(0.001f), OTF__PS_NEVER);
	/* FNV-1a of the seed's bytes then the input: with seed 0 and no
	 * input this is FNV-1a of four zero bytes, 0x4b95f515 (the reference
	 * algorithm computed by hand from its offset basis and prime). */
	assert_int_equal(otf__ps_fnv(NULL, 0, 0), 0x4b95f515u);
}

static void test_tracestate(void **state)
{
	(void)state;
	otf__ps_tracestate_t ts;
	char out[256];
	const char *in =
	    "congo=t61rcWkgMzE, ot=rv:1234567890abcd;th:8;xx:yy ,rojo=00f067aa0ba902b7";
	assert_int_equal(otf__ps_tracestate_parse(in, strlen(in), &ts), 0);
	assert_true(ts.has_rv && ts.has_th);
	assert_int_equal(ts.rv, 0x1234567890abcdull);
	assert_int_equal(otf__ps_tracestate_set_th(&ts, 0xc0000000000000ull), 0);
	/* Lowering the threshold (raising the probability) is refused. */
	assert_int_equal(otf__ps_tracestate_set_th(&ts, 0x40000000000000ull), -EINVAL);
	int n = otf__ps_tracestate_format(&ts, out, sizeof out);
	assert_true(n > 0);
	out[n] = 0;
	/* ot first (rv, th, then its other fields), the others in order. */
	assert_string_equal(out, "ot=rv:1234567890abcd;th:c;xx:yy,congo=t61rcWkgMzE,"
	                         "rojo=00f067aa0ba902b7");
	static const char *const bad[] = {
	    "ot=rv:1234", /* rv must be 14 digits */
	    "ot=th:xyz",  /* not hex */
	    "ot=th:8;",   /* empty field */
	    "Upper=1",    /* key must start lower case */
	    "ot=th:123456789abcdef",
	    "a=b,=c",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(otf__ps_tracestate_parse(bad[i], strlen(bad[i]), &ts), -EINVAL);
	assert_int_equal(otf__ps_tracestate_parse("", 0, &ts), 0);
	assert_int_equal(otf__ps_tracestate_format(&ts, out, sizeof out), 0);
}

/* ---- traces: Test_tracesamplerprocessor_TraceState ---- */

typedef struct span_case {
	const char *name;
	double pct;
	int prec;
	const char *ts;
	const char *prio_key; /* sampling.priority int value when set */
	int64_t prio;
	bool fail_closed;
	const char *eq; /* expected tracestate, equalizing; NULL = dropped */
	const char *pr; /* proportional */
} span_case_t;

static const span_case_t k_span_cases[] = {
    {"100 percent", 100, 0, "", NULL, 0, false, "ot=th:0", "ot=th:0"},
    {"50 percent sampled", 50, 0, "", NULL, 0, false, "ot=th:8", "ot=th:8"},
    {"1 percent sampled", 1, 0, "ot=rv:FD70A3D70A3D71", NULL, 0, false,
     "ot=rv:FD70A3D70A3D71;th:fd70a3d70a3d71", "ot=rv:FD70A3D70A3D71;th:fd70a3d70a3d71"},
    {"1 percent sampled with rvalue and precision", 1, 3, "ot=rv:FD70A3D70A3D71", NULL, 0, false,
     "ot=rv:FD70A3D70A3D71;th:fd7", "ot=rv:FD70A3D70A3D71;th:fd7"},
    {"1 percent not sampled with rvalue", 1, 0, "ot=rv:FD70A3D70A3D70", NULL, 0, false, NULL, NULL},
    {"49 percent not sampled", 49, 0, "", NULL, 0, false, NULL, NULL},
    {"1 percent sampled with rvalue", 1, 0, "ot=rv:fd70B000000000", NULL, 0, false,
     "ot=rv:fd70B000000000;th:fd70a3d70a3d71", "ot=rv:fd70B000000000;th:fd70a3d70a3d71"},
    /* The Collector now writes th:0 for a priority-forced sample
     * (UpdateTValueWithSampling recomputes TValue, "0" for always). */
    {"sampled by priority", 1, 0, "", "sampling.priority", 2, false, "ot=th:0", "ot=th:0"},
    {"not sampled by priority", 99, 0, "", "sampling.priority", 0, false, NULL, NULL},
    {"incoming 50 percent", 50, 0, "ot=rv:90000000000000;th:80000000000000", NULL, 0, false,
     "ot=rv:90000000000000;th:8", NULL},
    {"incoming 50 percent with no rvalue", 50, 0, "ot=th:8", NULL, 0, false, "ot=th:8", NULL},
    {"equalizing vs proportional", 50, 0, "ot=rv:c0000000000000;th:8", NULL, 0, false,
     "ot=rv:c0000000000000;th:8", "ot=rv:c0000000000000;th:c"},
    {"inconsistent threshold arriving", 100, 0, "ot=rv:40000000000000;th:8", NULL, 0, false,
     "ot=rv:40000000000000;th:0", "ot=rv:40000000000000;th:0"},
    /* Inconsistent on arrival is an error: the Collector's current code
     * lets fail_closed decide (fail open would keep it, with th:0). */
    {"inconsistent threshold not sampled", 1, 0, "ot=rv:40000000000000;th:8", NULL, 0, true, NULL,
     NULL},
    {"40 percent precision 3", 40, 3, "ot=rv:a0000000000000", NULL, 0, false,
     "ot=rv:a0000000000000;th:99a", "ot=rv:a0000000000000;th:99a"},
    /* The older Go table resampled this one at 60% (th:6666): that was
     * the non-strict consistency check, since removed; the current
     * code's fail-open answer is th:0. */
    {"60 percent inconsistent resampled", 60, 4, "ot=rv:70000000000000;th:8", NULL, 0, false,
     "ot=rv:70000000000000;th:0", "ot=rv:70000000000000;th:0"},
    {"60 percent precision 4", 60, 4, "ot=rv:70000000000000", NULL, 0, false,
     "ot=rv:70000000000000;th:6666", "ot=rv:70000000000000;th:6666"},
};

static bool run_one_span(const otf__ps_sampler_t *s, const span_case_t *c, char *ts_out)
{
	static uint8_t tid[16], sid[8] = {0, 0, 0, 0, 0xfe, 0xfe, 0xfe, 0xfe};
	/* 9 bytes don't care, then randomness 0x80000000000000: sampled at
	 * 50%, not at 49%. */
	hex_id("fefefefefefefefefe80000000000000", tid, 16);
	otf_key_value_t kv = {.key = {(const uint8_t *)"sampling.priority", 17},
	                      .value = {.type = OTF_ANY_INT, .u.int_value = c->prio}};
	otf_span_t sp = {.trace_id = {tid, 16},
	                 .span_id = {sid, 8},
	                 .trace_state = {(const uint8_t *)c->ts, strlen(c->ts)},
	                 .name = {(const uint8_t *)"op", 2}};
	if (c->prio_key)
		sp.attributes = (otf_attributes_t){&kv, 1};
	otf_scope_spans_t ss = {.spans = &sp, .spans_len = 1};
	otf_resource_spans_t rs = {.scope_spans = &ss, .scope_spans_len = 1};
	otf_traces_t t = {.resource_spans = &rs, .resource_spans_len = 1};
	otf__ps_counts_t cnt = {0};
	assert_int_equal(otf__ps_sample_traces(s, &t, &arena, &cnt), 0);
	assert_int_equal(cnt.sampled + cnt.dropped, 1);
	if (!t.resource_spans_len)
		return false;
	assert_int_equal(t.resource_spans[0].scope_spans[0].spans_len, 1);
	const otf_span_t *o = &t.resource_spans[0].scope_spans[0].spans[0];
	/* The same span: id and name untouched. */
	assert_memory_equal(o->span_id.ptr, sid, 8);
	assert_memory_equal(o->trace_id.ptr, tid, 16);
	memcpy(ts_out, o->trace_state.ptr, o->trace_state.len);
	ts_out[o->trace_state.len] = 0;
	return true;
}

static void test_traces_tracestate_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof k_span_cases / sizeof k_span_cases[0]; i++) {
		const span_case_t *c = &k_span_cases[i];
		for (int m = 0; m < 2; m++) {
			int mode = m ? OTF__PS_MODE_PROPORTIONAL : OTF__PS_MODE_EQUALIZING;
			const char *want = m ? c->pr : c->eq;
			otf__ps_sampler_t s = sampler(c->pct, mode, c->prec, c->fail_closed);
			char got[1100];
			bool kept = run_one_span(&s, c, got);
			if (kept != (want != NULL))
				fail_msg("%s (%s): %s, want %s", c->name,
				         m ? "proportional" : "equalizing",
				         kept ? "kept" : "dropped", want ? "kept" : "dropped");
			if (want && strcmp(got, want))
				fail_msg("%s (%s): tracestate \"%s\", want \"%s\"", c->name,
				         m ? "proportional" : "equalizing", got, want);
		}
	}
}

/* hash_seed on spans: the trace ids of TestLogsSampling give the same 45
 * of 100 at 50% (the empty id fails closed), and each kept span carries
 * its hash randomness and the threshold in its tracestate. */
static void test_traces_hash_seed(void **state)
{
	(void)state;
	enum { N = 100 };
	static uint8_t ids[N][16];
	static otf_span_t spans[N];
	memset(spans, 0, sizeof spans);
	for (int i = 0; i < N; i++) {
		memset(ids[i], 0, 8);
		memset(ids[i] + 8, i, 8);
		spans[i].trace_id = (otf_bytes_t){ids[i], 16};
		spans[i].start_time_unix_nano = (uint64_t)i;
	}
	otf_scope_spans_t ss = {.spans = spans, .spans_len = N};
	otf_resource_spans_t rs = {.scope_spans = &ss, .scope_spans_len = 1};
	otf_traces_t t = {.resource_spans = &rs, .resource_spans_len = 1};
	otf__ps_sampler_t s = sampler(50, OTF__PS_MODE_HASH_SEED, 4, true);
	otf__ps_counts_t cnt = {0};
	assert_int_equal(otf__ps_sample_traces(&s, &t, &arena, &cnt), 0);
	assert_int_equal(cnt.sampled, 45);
	assert_int_equal(cnt.dropped, 55);
	assert_int_equal(ss.spans_len, 45);
	for (size_t k = 0; k < ss.spans_len; k++) {
		const otf_span_t *sp = &ss.spans[k];
		int i = (int)sp->start_time_unix_nano;
		assert_memory_equal(sp->trace_id.ptr, ids[i], 16); /* the span's own id */
		char rv[16], want[64];
		otf__ps_rvalue(otf__ps_rnd_from_bytes(ids[i], 16, 0), rv);
		snprintf(want, sizeof want, "ot=rv:%s;th:8", rv);
		assert_int_equal(sp->trace_state.len, strlen(want));
		assert_memory_equal(sp->trace_state.ptr, want, strlen(want));
	}
	/* Kept in the order they came. */
	for (size_t k = 1; k < ss.spans_len; k++)
		assert_true(ss.spans[k].start_time_unix_nano >
		            ss.spans[k - 1].start_time_unix_nano);
}

/* ---- logs: TestLogsSampling (100 records, hash_seed) ---- */

typedef struct log_case {
	const char *name;
	double pct;
	int source;
	const char *from, *prio;
	bool fail_closed;
	int received;
} log_case_t;

static const log_case_t k_log_cases[] = {
    {"happy_path", 100, OTF__PS_SOURCE_TRACE_ID, NULL, NULL, false, 100},
    {"nothing", 0, OTF__PS_SOURCE_TRACE_ID, NULL, NULL, true, 0},
    {"roughly half", 50, OTF__PS_SOURCE_TRACE_ID, NULL, NULL, true, 45},
    {"sampling_source no sampling", 0, OTF__PS_SOURCE_RECORD, "foo", NULL, false, 0},
    {"sampling_source all sampling", 100, OTF__PS_SOURCE_RECORD, "foo", NULL, false, 100},
    {"sampling_source sampling", 50, OTF__PS_SOURCE_RECORD, "foo", NULL, true, 23},
    {"sampling_source sampling as string", 50, OTF__PS_SOURCE_RECORD, "bar", NULL, true, 29},
    {"sampling_priority_0_record", 0, OTF__PS_SOURCE_RECORD, "rando", "priority", false, 25},
    {"sampling_priority_50_record", 50, OTF__PS_SOURCE_RECORD, "rando", "priority", false, 64},
    {"sampling_priority_100_record", 100, OTF__PS_SOURCE_RECORD, "rando", "priority", false, 100},
    {"sampling_priority_0_traceid", 0, OTF__PS_SOURCE_TRACE_ID, NULL, "priority", false, 25},
    {"sampling_priority_50_traceid", 50, OTF__PS_SOURCE_TRACE_ID, NULL, "priority", false, 57},
    {"sampling_priority_100_traceid", 100, OTF__PS_SOURCE_TRACE_ID, NULL, "priority", false, 100},
    {"sampling_priority with sampling field", 0, OTF__PS_SOURCE_RECORD, "foo", "priority", false,
     25},
};

static void test_logs_sampling_table(void **state)
{
	(void)state;
	enum { N = 100 };
	static uint8_t ids[N][16];
	static char hex[N][33];
	static otf_key_value_t kvs[N][4];
	static otf_log_record_t recs[N];
	for (size_t c = 0; c < sizeof k_log_cases / sizeof k_log_cases[0]; c++) {
		const log_case_t *lc = &k_log_cases[c];
		memset(recs, 0, sizeof recs);
		for (int i = 0; i < N; i++) {
			memset(ids[i], 0, 8);
			memset(ids[i] + 8, i, 8);
			for (int k = 0; k < 16; k++)
				snprintf(hex[i] + 2 * k, 3, "%02x", ids[i][k]);
			size_t n = 0;
			kvs[i][n++] = (otf_key_value_t){
			    .key = {(const uint8_t *)"rando", 5},
			    .value = {.type = OTF_ANY_INT,
			              .u.int_value = (int64_t)otf__ps_fnv(ids[i], 16, 123)}};
			if (i % 2 == 0) {
				kvs[i][n++] =
				    (otf_key_value_t){.key = {(const uint8_t *)"foo", 3},
				                      .value = {.type = OTF_ANY_BYTES,
				                                .u.bytes_value = {ids[i], 16}}};
				/* pcommon's TraceID.String() of the empty id is "". */
				kvs[i][n++] = (otf_key_value_t){
				    .key = {(const uint8_t *)"bar", 3},
				    .value = {
				        .type = OTF_ANY_STRING,
				        .u.string_value = {(const uint8_t *)hex[i], i ? 32 : 0}}};
			}
			if (i % 4 == 0)
				kvs[i][n++] = (otf_key_value_t){
				    .key = {(const uint8_t *)"priority", 8},
				    .value = {.type = OTF_ANY_DOUBLE, .u.double_value = 100}};
			recs[i].trace_id = (otf_bytes_t){ids[i], 16};
			recs[i].severity_number = 5;
			recs[i].time_unix_nano = (uint64_t)i; /* which record it is */
			recs[i].attributes = (otf_attributes_t){kvs[i], n};
		}
		otf_scope_logs_t sl = {.log_records = recs, .log_records_len = N};
		otf_resource_logs_t rl = {.scope_logs = &sl, .scope_logs_len = 1};
		otf_logs_t l = {.resource_logs = &rl, .resource_logs_len = 1};
		otf__ps_config_t cfg = {.sampling_percentage = lc->pct,
		                        .mode = OTF__PS_MODE_HASH_SEED,
		                        .fail_closed = lc->fail_closed,
		                        .attribute_source = lc->source,
		                        .from_attribute = (char *)lc->from,
		                        .sampling_priority = (char *)lc->prio};
		otf__ps_sampler_t s;
		otf__ps_sampler_init(&s, &cfg);
		otf__ps_counts_t cnt = {0};
		assert_int_equal(otf__ps_sample_logs(&s, &l, &arena, &cnt), 0);
		int got = l.resource_logs_len ? (int)sl.log_records_len : 0;
		if (got != lc->received)
			fail_msg("%s: %d received, the Collector keeps %d", lc->name, got,
			         lc->received);
		assert_int_equal(cnt.sampled, (uint64_t)got);
		/* The records kept are the records sent: ids match their index. */
		for (int k = 0; k < got; k++) {
			int i = (int)sl.log_records[k].time_unix_nano;
			assert_memory_equal(sl.log_records[k].trace_id.ptr, ids[i], 16);
		}
	}
}

/* ---- logs: TestLogsSamplingState ---- */

static const char *attr_str(const otf_log_record_t *r, const char *key)
{
	static char buf[64];
	for (size_t i = 0; i < r->attributes.len; i++) {
		const otf_key_value_t *kv = &r->attributes.items[i];
		if (kv->key.len == strlen(key) && !memcmp(kv->key.ptr, key, kv->key.len)) {
			if (kv->value.type != OTF_ANY_STRING)
				return "(not a string)";
			memcpy(buf, kv->value.u.string_value.ptr, kv->value.u.string_value.len);
			buf[kv->value.u.string_value.len] = 0;
			return buf;
		}
	}
	return NULL;
}

static otf_log_record_t *one_log(const otf__ps_config_t *cfg, const char *tid_hex,
                                 otf_key_value_t *kvs, size_t n, bool *kept)
{
	static uint8_t tid[16];
	static otf_log_record_t rec;
	static otf_scope_logs_t sl;
	static otf_resource_logs_t rl;
	hex_id(tid_hex, tid, 16);
	rec = (otf_log_record_t){.trace_id = {tid, 16}, .attributes = {kvs, n}};
	sl = (otf_scope_logs_t){.log_records = &rec, .log_records_len = 1};
	rl = (otf_resource_logs_t){.scope_logs = &sl, .scope_logs_len = 1};
	otf_logs_t l = {.resource_logs = &rl, .resource_logs_len = 1};
	otf__ps_sampler_t s;
	otf__ps_sampler_init(&s, cfg);
	otf__ps_counts_t cnt = {0};
	assert_int_equal(otf__ps_sample_logs(&s, &l, &arena, &cnt), 0);
	*kept = l.resource_logs_len == 1;
	return &sl.log_records[0];
}

#define KV_STR(k, v)                                                            \
	{                                                                       \
		.key = {(const uint8_t *)(k), sizeof(k) - 1}, .value = {        \
			.type = OTF_ANY_STRING,                                 \
			.u.string_value = {(const uint8_t *)(v), sizeof(v) - 1} \
		}                                                               \
	}

static void test_logs_sampling_state(void **state)
{
	(void)state;
	const char *tid = "fefefefefefefefefe80000000000000";
	bool kept;
	char rv[16];
	uint8_t tidb[16];
	hex_id(tid, tidb, 16);
	{ /* 100 percent traceID, proportional */
		otf__ps_config_t c = {.sampling_percentage = 100,
		                      .mode = OTF__PS_MODE_PROPORTIONAL};
		otf_key_value_t kv[] = {KV_STR("ignored", "value")};
		otf_log_record_t *r = one_log(&c, tid, kv, 1, &kept);
		assert_true(kept);
		assert_int_equal(r->attributes.len, 2);
		assert_string_equal(attr_str(r, "sampling.threshold"), "0");
		assert_string_equal(attr_str(r, "ignored"), "value");
	}
	{ /* 100 percent traceID hash_seed 22 */
		otf__ps_config_t c = {.sampling_percentage = 100, .hash_seed = 22};
		otf_key_value_t kv[] = {KV_STR("K", "V")};
		otf_log_record_t *r = one_log(&c, tid, kv, 1, &kept);
		assert_true(kept);
		assert_int_equal(r->attributes.len, 3);
		otf__ps_rvalue(otf__ps_rnd_from_bytes(tidb, 16, 22), rv);
		assert_string_equal(attr_str(r, "sampling.randomness"), rv);
		assert_string_equal(attr_str(r, "sampling.threshold"), "0");
		assert_string_equal(attr_str(r, "K"), "V");
	}
	{ /* 100 percent attribute, seed 49 */
		otf__ps_config_t c = {.sampling_percentage = 100,
		                      .hash_seed = 49,
		                      .attribute_source = OTF__PS_SOURCE_RECORD,
		                      .from_attribute = "veryrandom"};
		otf_key_value_t kv[] = {KV_STR("veryrandom", "1234")};
		otf_log_record_t *r = one_log(&c, tid, kv, 1, &kept);
		assert_true(kept);
		otf__ps_rvalue(otf__ps_rnd_from_bytes((const uint8_t *)"1234", 4, 49), rv);
		assert_string_equal(attr_str(r, "sampling.randomness"), rv);
		assert_string_equal(attr_str(r, "sampling.threshold"), "0");
	}
	{ /* 0 percent traceID */
		otf__ps_config_t c = {.sampling_percentage = 0};
		one_log(&c, tid, NULL, 0, &kept);
		assert_false(kept);
	}
	{ /* 10 percent priority sampled incoming randomness, precision 6 */
		otf__ps_config_t c = {.sampling_percentage = 0,
		                      .sampling_priority = "veryrandom",
		                      .sampling_precision = 6};
		otf_key_value_t kv[] = {
		    KV_STR("sampling.randomness", "e6147c00000000"),
		    {.key = {(const uint8_t *)"veryrandom", 10},
		     .value = {.type = OTF_ANY_DOUBLE, .u.double_value = 10.125}}};
		otf_log_record_t *r = one_log(&c, tid, kv, 2, &kept);
		assert_true(kept);
		assert_string_equal(attr_str(r, "sampling.randomness"), "e6147c00000000");
		assert_string_equal(attr_str(r, "sampling.threshold"), "e6147b");
	}
	{ /* 25 percent incoming, proportional 50% -> 12.5% */
		otf__ps_config_t c = {.sampling_percentage = 50, .mode = OTF__PS_MODE_PROPORTIONAL};
		otf_key_value_t kv[] = {KV_STR("sampling.threshold", "c")};
		otf_log_record_t *r = one_log(&c, "fefefefefefefefefef0000000000000", kv, 1, &kept);
		assert_true(kept);
		assert_int_equal(r->attributes.len, 1);
		assert_string_equal(attr_str(r, "sampling.threshold"), "e");
	}
	{ /* 25 percent arriving inconsistent, equalizing, fail closed */
		otf__ps_config_t c = {.sampling_percentage = 50,
		                      .mode = OTF__PS_MODE_EQUALIZING,
		                      .fail_closed = true};
		otf_key_value_t kv[] = {KV_STR("sampling.threshold", "c")};
		one_log(&c, "fefefefefefefefefeb0000000000000", kv, 1, &kept);
		assert_false(kept);
	}
	{ /* 25 percent arriving equalizing, priority 37: th stays c */
		otf__ps_config_t c = {.sampling_percentage = 50,
		                      .mode = OTF__PS_MODE_EQUALIZING,
		                      .sampling_priority = "prio"};
		otf_key_value_t kv[] = {KV_STR("sampling.threshold", "c"),
		                        {.key = {(const uint8_t *)"prio", 4},
		                         .value = {.type = OTF_ANY_INT, .u.int_value = 37}}};
		otf_log_record_t *r = one_log(&c, "fefefefefefefefefefefefefefefefe", kv, 2, &kept);
		assert_true(kept);
		assert_string_equal(attr_str(r, "sampling.threshold"), "c");
		assert_int_equal(r->attributes.len, 2);
	}
	{ /* hash_seed with spec randomness: kept (fail open), not updated */
		otf__ps_config_t c = {.sampling_percentage = 100};
		otf_key_value_t kv[] = {KV_STR("sampling.randomness", "f2341234123412")};
		otf_log_record_t *r = one_log(&c, tid, kv, 1, &kept);
		assert_true(kept);
		assert_int_equal(r->attributes.len, 1);
		assert_null(attr_str(r, "sampling.threshold"));
	}
}

/* TestLogsMissingRandomness: an empty trace id and an empty attribute
 * have no randomness; fail_closed decides, in every mode. */
static void test_logs_missing_randomness(void **state)
{
	(void)state;
	static const struct {
		double pct;
		int source;
		bool fail_closed, sampled;
	} k[] = {
	    {0, OTF__PS_SOURCE_RECORD, true, false},
	    {50, OTF__PS_SOURCE_RECORD, true, false},
	    {100, OTF__PS_SOURCE_RECORD, true, false},
	    {0, OTF__PS_SOURCE_RECORD, false, false},
	    {50, OTF__PS_SOURCE_RECORD, false, true},
	    {100, OTF__PS_SOURCE_RECORD, false, true},
	    {0, OTF__PS_SOURCE_TRACE_ID, true, false},
	    {50, OTF__PS_SOURCE_TRACE_ID, true, false},
	    {100, OTF__PS_SOURCE_TRACE_ID, true, false},
	    {0, OTF__PS_SOURCE_TRACE_ID, false, false},
	    {50, OTF__PS_SOURCE_TRACE_ID, false, true},
	    {100, OTF__PS_SOURCE_TRACE_ID, false, true},
	};
	for (int mode = 0; mode < 3; mode++)
		for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
			otf__ps_config_t c = {.sampling_percentage = k[i].pct,
			                      .mode = mode,
			                      .hash_seed = 0x5eed,
			                      .fail_closed = k[i].fail_closed,
			                      .attribute_source = k[i].source,
			                      .from_attribute = "unused"};
			otf_key_value_t kv[] = {KV_STR("unused", "")};
			bool kept;
			one_log(&c, "00000000000000000000000000000000", kv, 1, &kept);
			if (kept != k[i].sampled)
				fail_msg("mode %d pct %g source %d fail_closed %d: %s", mode,
				         k[i].pct, k[i].source, k[i].fail_closed,
				         kept ? "kept" : "dropped");
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_thresholds),
	    cmocka_unit_test(test_tracestate),
	    cmocka_unit_test(test_traces_tracestate_table),
	    cmocka_unit_test(test_traces_hash_seed),
	    cmocka_unit_test(test_logs_sampling_table),
	    cmocka_unit_test(test_logs_sampling_state),
	    cmocka_unit_test(test_logs_missing_randomness),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
