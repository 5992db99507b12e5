/* processors probabilistic_sampler and tail_sampling as nodes in the
 * engine (one worker): what the sink receives (decoded, span by span),
 * and when and how the source's messages are answered.
 * - probabilistic_sampler: the kept spans only, re-encoded, with their
 *   tracestate, in a message whose source is the original; the original
 *   is answered with the downstream outcome (a permanent NACK stays
 *   permanent); a request left empty is acked at once; an undecodable one
 *   is nacked permanent.
 * - tail_sampling: both requests are acked before any decision (the node
 *   owns what it holds); after decision_wait the kept trace arrives as one
 *   request with the spans of both; the dropped trace never arrives; a
 *   kept trace refused downstream is counted as dropped spans. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine_run.h"

#include "otflow/alloc.h"
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
#include <uv.h>

#define MAX_MSGS 16

static _Atomic int g_acks, g_nacks, g_nack_permanent, g_seen;
static _Atomic uint64_t g_first_ack_ms; /* loop time of the first ACK */
static char g_reason[160];
static otf_buf_t *g_got[MAX_MSGS]; /* payloads the sink received */
static uint64_t g_got_source[MAX_MSGS];
static uint64_t g_sent_ids[MAX_MSGS];
static _Atomic int g_nsent;

/* Payloads the source sends, one message each, 1 ms after start. */
static otf_buf_t *g_payloads[4];
static size_t g_npayloads;

static void reset(void)
{
	atomic_store(&g_acks, 0);
	atomic_store(&g_nacks, 0);
	atomic_store(&g_nack_permanent, 0);
	atomic_store(&g_seen, 0);
	atomic_store(&g_nsent, 0);
	g_reason[0] = 0;
	for (int i = 0; i < MAX_MSGS; i++) {
		otf_buf_unref(g_got[i]);
		g_got[i] = NULL;
	}
}

typedef struct node {
	otf_node_t *node;
	const bool *cfg; /* sink: nack permanent when true */
} node_t;

static int n_create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	node_t *n = otf_calloc(1, sizeof *n);
	if (!n)
		return OTF_E_NOMEM;
	n->node = ctx->node;
	n->cfg = ctx->config;
	*inst = n;
	return 0;
}

static int src_start(void *inst)
{
	node_t *n = inst;
	otf_node_timer_start(n->node, 1, 0, 1);
	return 0;
}

static void src_control(void *inst, const otf_ctrl_t *c)
{
	node_t *n = inst;
	switch (c->type) {
	case OTF_CTRL_TMR:
		for (size_t i = 0; i < g_npayloads; i++) {
			otf_msg_t *m = otf_msg_create(n->node, OTF_SIGNAL_TRACES,
			                              otf_buf_ref(g_payloads[i]), 1);
			otf_msg_subscribe(m, n->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK, 0);
			g_sent_ids[atomic_fetch_add(&g_nsent, 1)] = otf_msg_id(m);
			if (otf_node_send(n->node, m))
				fail_msg("source: send failed");
		}
		break;
	case OTF_CTRL_ACK:
		if (atomic_fetch_add(&g_acks, 1) == 0)
			atomic_store(&g_first_ack_ms, uv_now(otf_node_loop(n->node)));
		break;
	case OTF_CTRL_NACK:
		snprintf(g_reason, sizeof g_reason, "%s", c->reason);
		if (c->permanent)
			atomic_fetch_add(&g_nack_permanent, 1);
		atomic_fetch_add(&g_nacks, 1);
		break;
	case OTF_CTRL_KIL:
		otf_node_shutdown_done(n->node);
		break;
	default:
		break;
	}
}

static void sink_consume(void *inst, otf_msg_t *m)
{
	node_t *n = inst;
	int k = atomic_fetch_add(&g_seen, 1);
	if (k < MAX_MSGS) {
		g_got[k] = otf_buf_ref(otf_msg_payload(m));
		const uint64_t *src;
		g_got_source[k] = otf_msg_sources(m, &src) ? src[0] : 0;
	}
	if (*n->cfg)
		otf_msg_nack(m, OTF_E_INVAL, true, "sink refuses");
	else
		otf_msg_ack(m);
}

static void sink_control(void *inst, const otf_ctrl_t *c)
{
	node_t *n = inst;
	if (c->type == OTF_CTRL_KIL)
		otf_node_shutdown_done(n->node);
}

static void n_destroy(void *inst)
{
	otf_free(inst);
}

static const otf_config_field_t k_sink_schema[] = {
    {.key = "nack", .type = OTF_CFG_BOOL, .offset = 0, .def = "false"},
    OTF_CONFIG_FIELD_END,
};
static const otf_config_field_t k_none[] = {OTF_CONFIG_FIELD_END};

static const otf_component_factory_t k_src = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_RECEIVER,
    .type = "ssrc",
    .description = "test source",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_none,
    .config_size = sizeof(bool),
    .create = {n_create, n_create, n_create},
    .start = src_start,
    .control = src_control,
    .destroy = n_destroy,
};

static const otf_component_factory_t k_sink = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXPORTER,
    .type = "ssink",
    .description = "test sink",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_sink_schema,
    .config_size = sizeof(bool),
    .create = {n_create, n_create, n_create},
    .consume = {sink_consume, sink_consume, sink_consume},
    .control = sink_control,
    .destroy = n_destroy,
};

typedef otf_test_run_t run_t;

static void start(run_t *r, const char *proc, const char *proc_cfg, bool sink_nacks)
{
	char yaml[2048];
	snprintf(yaml, sizeof yaml,
	         "nodes:\n"
	         "  src: {type: ssrc}\n"
	         "  p: {type: %s, config: {%s}}\n"
	         "  sink: {type: ssink, config: {nack: %s}}\n"
	         "connections:\n"
	         "  - {from: src, to: p}\n"
	         "  - {from: p, to: sink}\n"
	         "runtime: {workers: 1, shutdown_timeout: 2s}\n",
	         proc, proc_cfg, sink_nacks ? "true" : "false");
	reset();
	otf_test_run_begin(r, yaml);
}

static void stop(run_t *r)
{
	otf_test_run_stop(r);
	for (size_t i = 0; i < g_npayloads; i++)
		otf_buf_unref(g_payloads[i]);
	g_npayloads = 0;
}

/* Polls cond every ms up to ms milliseconds. */
#define AWAIT(cond, ms, what)                                              \
	do {                                                               \
		int i_;                                                    \
		for (i_ = 0; i_ < (ms) && !(cond); i_++)                   \
			usleep(1000);                                      \
		if (!(cond))                                               \
			fail_msg("%s: not within %d ms", what, (int)(ms)); \
	} while (0)

/* A request of spans, one per (trace id byte, span id byte, status). */
static otf_buf_t *request(const uint8_t (*spans)[3], size_t n)
{
	static uint8_t tids[16][16], sids[16][8];
	otf_span_t sp[16];
	memset(sp, 0, sizeof sp);
	for (size_t i = 0; i < n; i++) {
		memset(tids[i], spans[i][0], 16);
		memset(sids[i], spans[i][1], 8);
		sp[i].trace_id = (otf_bytes_t){tids[i], 16};
		sp[i].span_id = (otf_bytes_t){sids[i], 8};
		sp[i].name = (otf_bytes_t){(const uint8_t *)"op", 2};
		sp[i].start_time_unix_nano = 1000000000000ull;
		sp[i].end_time_unix_nano = 1000001000000ull;
		sp[i].status.code = spans[i][2];
	}
	otf_scope_spans_t ss = {.spans = sp, .spans_len = n};
	otf_resource_spans_t rs = {.scope_spans = &ss, .scope_spans_len = 1};
	otf_traces_t t = {.resource_spans = &rs, .resource_spans_len = 1};
	otf_buf_t *b = NULL;
	assert_int_equal(otf_pdata_encode_traces(&t, &b), 0);
	return b;
}

/* "tt:ss:tracestate" of every span the sink got, in order. */
static void got_spans(char *out, size_t cap)
{
	out[0] = 0;
	otf_arena_t a;
	otf_arena_init(&a, 0);
	for (int k = 0; k < atomic_load(&g_seen) && k < MAX_MSGS; k++) {
		otf_traces_t t;
		assert_int_equal(
		    otf_pdata_decode_traces(&t, g_got[k]->data, g_got[k]->len, &a, NULL, NULL), 0);
		for (size_t r = 0; r < t.resource_spans_len; r++)
			for (size_t s = 0; s < t.resource_spans[r].scope_spans_len; s++)
				for (size_t i = 0; i < t.resource_spans[r].scope_spans[s].spans_len;
				     i++) {
					const otf_span_t *sp =
					    &t.resource_spans[r].scope_spans[s].spans[i];
					size_t n = strlen(out);
					snprintf(out + n, cap - n, "%s%02x:%02x:%.*s", n ? " " : "",
					         sp->trace_id.ptr[0], sp->span_id.ptr[0],
					         (int)sp->trace_state.len,
					         (const char *)sp->trace_state.ptr);
				}
	}
	otf_arena_close(&a);
}

/* Trace ids with every byte 0x12 are dropped at 50% hash_seed, 0x11
 * kept (e2e_sampling's Python recomputes the same hash). */
static void test_probabilistic_node(void **state)
{
	(void)state;
	run_t r;
	g_payloads[0] = request((const uint8_t[][3]){{0x11, 1, 0}, {0x12, 2, 0}, {0x11, 3, 0}}, 3);
	g_npayloads = 1;
	start(&r, "probabilistic_sampler", "sampling_percentage: 50", false);
	AWAIT(atomic_load(&g_acks) + atomic_load(&g_nacks) >= 1, 5000, "an answer");
	assert_int_equal(atomic_load(&g_acks), 1);
	assert_int_equal(atomic_load(&g_seen), 1);
	assert_int_equal(g_got_source[0], g_sent_ids[0]);
	char got[512];
	got_spans(got, sizeof got);
	/* rv of trace 1111..: the hash_seed randomness (sampler_mode.go). */
	assert_non_null(strstr(got, "11:01:ot=rv:"));
	assert_null(strstr(got, "12:02"));
	assert_non_null(strstr(got, "11:03:ot=rv:"));
	assert_non_null(strstr(got, ";th:8"));
	stop(&r);
}

static void test_probabilistic_node_outcomes(void **state)
{
	(void)state;
	run_t r;
	/* Downstream refuses permanently: so is the original. */
	g_payloads[0] = request((const uint8_t[][3]){{0x11, 1, 0}}, 1);
	g_npayloads = 1;
	start(&r, "probabilistic_sampler", "sampling_percentage: 50", true);
	AWAIT(atomic_load(&g_nacks) >= 1, 5000, "the NACK");
	assert_int_equal(atomic_load(&g_nack_permanent), 1);
	assert_string_equal(g_reason, "sink refuses");
	stop(&r);
	/* Everything dropped: acked, nothing sent on. */
	g_payloads[0] = request((const uint8_t[][3]){{0x12, 1, 0}}, 1);
	g_npayloads = 1;
	start(&r, "probabilistic_sampler", "sampling_percentage: 50", false);
	AWAIT(atomic_load(&g_acks) >= 1, 5000, "the ACK");
	assert_int_equal(atomic_load(&g_seen), 0);
	stop(&r);
	/* Undecodable bytes: nacked permanent, saying where. */
	static const uint8_t junk[] = {0x0a, 0x05, 0x12};
	g_payloads[0] = otf_buf_create_copy(junk, sizeof junk);
	g_npayloads = 1;
	start(&r, "probabilistic_sampler", "sampling_percentage: 50", false);
	AWAIT(atomic_load(&g_nacks) >= 1, 5000, "the NACK");
	assert_int_equal(atomic_load(&g_nack_permanent), 1);
	assert_non_null(strstr(g_reason, "probabilistic_sampler: "));
	assert_int_equal(atomic_load(&g_seen), 0);
	stop(&r);
}

static void test_tail_node(void **state)
{
	(void)state;
	run_t r;
	/* Trace 0xaa: an OK span, then an ERROR span in a second request;
	 * trace 0xcc: OK only. */
	g_payloads[0] = request((const uint8_t[][3]){{0xaa, 1, 1}, {0xcc, 2, 1}}, 2);
	g_payloads[1] = request((const uint8_t[][3]){{0xaa, 3, 2}}, 1);
	g_npayloads = 2;
	start(&r, "tail_sampling",
	      "decision_wait: 2s, policies: [{name: e, type: status_code, status_code: "
	      "{status_codes: [ERROR]}}]",
	      false);
	/* Both acked while held, before the decision (2 s after the first). */
	AWAIT(atomic_load(&g_acks) >= 2, 1500, "both requests acked");
	assert_int_equal(atomic_load(&g_seen), 0);
	AWAIT(atomic_load(&g_seen) >= 1, 10000, "the decision");
	char got[512];
	got_spans(got, sizeof got);
	assert_string_equal(got, "aa:01: aa:03:");
	assert_int_equal(atomic_load(&g_seen), 1);
	stop(&r);
	assert_int_equal(atomic_load(&g_seen), 1); /* trace 0xcc never came out */
	assert_int_equal(atomic_load(&g_nacks), 0);
}

/* Dropped spans counted for node id name (its kind prefix aside), traces. */
static uint64_t dropped(run_t *r, const char *name)
{
	otf_node_stats_t st[8];
	size_t n = otf_engine_stats(r->e, st, 8);
	for (size_t i = 0; i < n && i < 8; i++)
		if (!strcmp(strchr(st[i].name, ':') ? strchr(st[i].name, ':') + 1 : st[i].name,
		            name))
			return st[i].counters[OTF_COUNTER_DROPPED][OTF_SIGNAL_TRACES];
	fail_msg("no %s node in the stats", name);
	return 0;
}

/* A kept trace refused downstream: nobody upstream waits any more (its
 * requests were acked when stored), so its spans are counted as dropped. */
static void test_tail_node_downstream_failure(void **state)
{
	(void)state;
	run_t r;
	g_payloads[0] = request((const uint8_t[][3]){{0xaa, 1, 2}, {0xaa, 2, 1}}, 2);
	g_npayloads = 1;
	start(&r, "tail_sampling",
	      "decision_wait: 50ms, policies: [{name: a, type: always_sample}]", true);
	AWAIT(atomic_load(&g_seen) >= 1, 10000, "the decision");
	AWAIT(dropped(&r, "p") == 2, 5000, "2 dropped spans counted");
	assert_int_equal(atomic_load(&g_acks), 1);
	assert_int_equal(atomic_load(&g_nacks), 0);
	stop(&r);
}

static int setup(void **state)
{
	(void)state;
	otf_components_register_builtins();
	otf_component_register(&k_src);
	otf_component_register(&k_sink);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	reset();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_probabilistic_node),
	    cmocka_unit_test(test_probabilistic_node_outcomes),
	    cmocka_unit_test(test_tail_node),
	    cmocka_unit_test(test_tail_node_downstream_failure),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
