/* Channel elimination (fused stages, src/engine/fuse.c): a linear chain of
 * processors runs by direct call, and everything observable stays as with
 * a channel per hop: the ids and order that reach the sink, the answers
 * the source gets, per-node counters, the shutdown order. Re-entrancy: a
 * processor sending two messages from one consume, and one sending from
 * its ACK callback (that send goes through the channel). print-dag and
 * the DAG JSON name the stages; runtime.fuse: false turns fusing off.
 * Under OTFLOW_FUSE=0 (the test_fuse_nofuse variant) every case must give
 * the same results with no direct call at all. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine_run.h"

#include "otflow/alloc.h"
#include "otflow/config.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"
#include "otflow/service.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_IDS 512
#define NPROC   16

static _Atomic int g_acks, g_nacks, g_sent;
static _Atomic uint64_t g_sent_ids[MAX_IDS];
/* Sink: what arrived, in order; whether it came by a direct call. */
static _Atomic int g_seen, g_seen_direct;
static _Atomic uint64_t g_seen_src[MAX_IDS];
static char g_seen_part[MAX_IDS];
/* Processors: messages consumed by direct call, per processor id. */
static _Atomic int g_direct[NPROC];
/* Nesting of otf_node_send calls made by fpass (one worker thread). */
static int g_nest, g_nest_max;
/* Shutdown: the order in which nodes got KIL (processor id, sink = 99). */
static _Atomic int g_kil_order[NPROC + 1], g_kils;
static _Atomic int g_sink_seen_at_kil = -1;

static bool fuse_env_off(void)
{
	const char *v = getenv("OTFLOW_FUSE");
	return v && !strcmp(v, "0");
}

static void reset(void)
{
	atomic_store(&g_acks, 0);
	atomic_store(&g_nacks, 0);
	atomic_store(&g_sent, 0);
	atomic_store(&g_seen, 0);
	atomic_store(&g_seen_direct, 0);
	atomic_store(&g_kils, 0);
	atomic_store(&g_sink_seen_at_kil, -1);
	for (int i = 0; i < NPROC; i++)
		atomic_store(&g_direct[i], 0);
	g_nest = g_nest_max = 0;
	memset(g_seen_part, 0, sizeof g_seen_part);
}

static void note_kil(int who)
{
	int k = atomic_fetch_add(&g_kils, 1);
	if (k <= NPROC)
		atomic_store(&g_kil_order[k], who);
}

/* ---- fsrc: a receiver sending `count` traces messages 1 ms after start,
 * from its timer callback, each subscribed to its outcome. */
typedef struct fsrc_cfg {
	uint64_t count;
} fsrc_cfg_t;

typedef struct fsrc {
	otf_node_t *node;
	const fsrc_cfg_t *cfg;
} fsrc_t;

static int fsrc_create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	fsrc_t *s = otf_calloc(1, sizeof *s);
	if (!s)
		return OTF_E_NOMEM;
	s->node = ctx->node;
	s->cfg = ctx->config;
	*inst = s;
	return 0;
}

static int fsrc_start(void *inst)
{
	fsrc_t *s = inst;
	otf_node_timer_start(s->node, 1, 0, 1);
	return 0;
}

static void fsrc_control(void *inst, const otf_ctrl_t *c)
{
	fsrc_t *s = inst;
	switch (c->type) {
	case OTF_CTRL_TMR:
		for (uint64_t i = 0; i < s->cfg->count; i++) {
			static const char span[] = {0x0a, 0x04, 0x12, 0x02, 0x12, 0x00};
			otf_msg_t *m = otf_msg_create(s->node, OTF_SIGNAL_TRACES,
			                              otf_buf_create_copy(span, sizeof span), 1);
			otf_msg_subscribe(m, s->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK, 0);
			uint64_t id = otf_msg_id(m);
			if (otf_node_send(s->node, m)) {
				otf_msg_drop(m);
				atomic_fetch_add(&g_nacks, 1);
				continue;
			}
			int k = atomic_fetch_add(&g_sent, 1);
			if (k < MAX_IDS)
				atomic_store(&g_sent_ids[k], id);
		}
		break;
	case OTF_CTRL_ACK:
		atomic_fetch_add(&g_acks, 1);
		break;
	case OTF_CTRL_NACK:
		atomic_fetch_add(&g_nacks, 1);
		break;
	case OTF_CTRL_KIL:
		otf_node_shutdown_done(s->node);
		break;
	default:
		break;
	}
}

static void plain_destroy(void *inst)
{
	otf_free(inst);
}

static const otf_config_field_t k_fsrc_schema[] = {
    {.key = "count", .type = OTF_CFG_UINT, .offset = offsetof(fsrc_cfg_t, count), .def = "1"},
    OTF_CONFIG_FIELD_END,
};

static const otf_component_factory_t k_fsrc = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_RECEIVER,
    .type = "fsrc",
    .description = "test source",
    .stability = {OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_fsrc_schema,
    .config_size = sizeof(fsrc_cfg_t),
    .create = {fsrc_create},
    .start = fsrc_start,
    .control = fsrc_control,
    .destroy = plain_destroy,
};

/* ---- fpass: a processor with an id.
 *   pass   forwards the message (counts it as accepted);
 *   twice  carries each message on as two messages of its own (parts a
 *          and b, both sent from consume), acks the original once both
 *          are acked;
 *   ackcb  sends part a from consume and part b from a's ACK callback,
 *          acks the original once b is acked. */
typedef struct fpass_cfg {
	int64_t id;
	char *mode;
} fpass_cfg_t;

typedef struct fpass {
	otf_node_t *node;
	const fpass_cfg_t *cfg;
	int mode; /* 0 pass, 1 twice, 2 ackcb */
} fpass_t;

typedef struct held {
	otf_msg_t *orig;
	int answers;
} held_t;

static int fpass_create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	fpass_t *p = otf_calloc(1, sizeof *p);
	if (!p)
		return OTF_E_NOMEM;
	p->node = ctx->node;
	p->cfg = ctx->config;
	const char *mode = p->cfg->mode ? p->cfg->mode : "pass";
	p->mode = !strcmp(mode, "twice") ? 1 : !strcmp(mode, "ackcb") ? 2 : 0;
	*inst = p;
	return 0;
}

static int send_nested(fpass_t *p, otf_msg_t *m)
{
	g_nest++;
	if (g_nest > g_nest_max)
		g_nest_max = g_nest;
	int rc = otf_node_send(p->node, m);
	g_nest--;
	return rc;
}

static void send_part(fpass_t *p, held_t *h, const char *part)
{
	otf_msg_t *own = otf_msg_create(p->node, otf_msg_signal(h->orig),
	                                otf_buf_ref(otf_msg_payload(h->orig)), 1);
	assert_non_null(own);
	assert_int_equal(otf_msg_add_source(own, otf_msg_id(h->orig)), 0);
	assert_int_equal(otf_msg_header_add(own, "part", part), 0);
	assert_int_equal(otf_msg_subscribe(own, p->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK,
	                                   (uint64_t)(uintptr_t)h),
	                 0);
	assert_int_equal(send_nested(p, own), 0);
}

static void fpass_consume(void *inst, otf_msg_t *m)
{
	fpass_t *p = inst;
	if (g_nest > 0)
		atomic_fetch_add(&g_direct[p->cfg->id], 1);
	otf_node_count(p->node, OTF_COUNTER_ACCEPTED, otf_msg_signal(m), otf_msg_items(m));
	if (p->mode == 0) {
		int rc = send_nested(p, m);
		if (rc)
			otf_msg_nack(m, rc, false, "fpass: cannot send");
		return;
	}
	held_t *h = otf_calloc(1, sizeof *h);
	assert_non_null(h);
	h->orig = m;
	send_part(p, h, "a");
	if (p->mode == 1)
		send_part(p, h, "b");
}

static void fpass_control(void *inst, const otf_ctrl_t *c)
{
	fpass_t *p = inst;
	if (c->type == OTF_CTRL_KIL) {
		note_kil((int)p->cfg->id);
		otf_node_shutdown_done(p->node);
		return;
	}
	if (c->type != OTF_CTRL_ACK && c->type != OTF_CTRL_NACK)
		return;
	held_t *h = (held_t *)(uintptr_t)c->calldata;
	assert_int_equal(c->type, OTF_CTRL_ACK);
	h->answers++;
	if (p->mode == 2 && h->answers == 1) {
		/* From the ACK callback: must not run the sink inside it. */
		send_part(p, h, "b");
		return;
	}
	if (h->answers == 2) {
		otf_msg_ack(h->orig);
		otf_free(h);
	}
}

static const otf_config_field_t k_fpass_schema[] = {
    {.key = "id", .type = OTF_CFG_INT, .offset = offsetof(fpass_cfg_t, id), .def = "0"},
    {.key = "mode", .type = OTF_CFG_STRING, .offset = offsetof(fpass_cfg_t, mode)},
    OTF_CONFIG_FIELD_END,
};

static const otf_component_factory_t k_fpass = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "fpass",
    .description = "test processor",
    .stability = {OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_fpass_schema,
    .config_size = sizeof(fpass_cfg_t),
    .create = {fpass_create},
    .consume = {fpass_consume},
    .control = fpass_control,
    .destroy = plain_destroy,
};

/* ---- fsink: an exporter recording what arrives, counting it as sent and
 * acking it. */
typedef struct fsink {
	otf_node_t *node;
} fsink_t;

static int fsink_create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	fsink_t *k = otf_calloc(1, sizeof *k);
	if (!k)
		return OTF_E_NOMEM;
	k->node = ctx->node;
	*inst = k;
	return 0;
}

static void fsink_consume(void *inst, otf_msg_t *m)
{
	fsink_t *k = inst;
	int at = atomic_fetch_add(&g_seen, 1);
	if (g_nest > 0)
		atomic_fetch_add(&g_seen_direct, 1);
	const uint64_t *src;
	size_t n = otf_msg_sources(m, &src);
	const char *part = otf_msg_header_get(m, "part");
	if (at < MAX_IDS) {
		atomic_store(&g_seen_src[at], n ? src[0] : otf_msg_id(m));
		g_seen_part[at] = part ? part[0] : '-';
	}
	otf_node_count(k->node, OTF_COUNTER_SENT, otf_msg_signal(m), otf_msg_items(m));
	otf_msg_ack(m);
}

static void fsink_control(void *inst, const otf_ctrl_t *c)
{
	fsink_t *k = inst;
	if (c->type != OTF_CTRL_KIL)
		return;
	atomic_store(&g_sink_seen_at_kil, atomic_load(&g_seen));
	note_kil(99);
	otf_node_shutdown_done(k->node);
}

static const otf_component_factory_t k_fsink = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXPORTER,
    .type = "fsink",
    .description = "test sink",
    .stability = {OTF_STABILITY_DEVELOPMENT},
    .create = {fsink_create},
    .consume = {fsink_consume},
    .control = fsink_control,
    .destroy = plain_destroy,
};

static int setup(void **state)
{
	(void)state;
	otf_components_register_builtins();
	otf_component_register(&k_fsrc);
	otf_component_register(&k_fpass);
	otf_component_register(&k_fsink);
	otf_log_set_level(OTF_LOG_ERROR);
	return 0;
}

typedef otf_test_run_t run_t;

static void build(run_t *r, const char *yaml)
{
	reset();
	otf_test_run_build(r, yaml);
}

static void start_and_wait(run_t *r, int answers)
{
	otf_test_run_start(r);
	for (int i = 0; i < 5000 && atomic_load(&g_acks) + atomic_load(&g_nacks) < answers; i++)
		usleep(1000);
	if (atomic_load(&g_acks) + atomic_load(&g_nacks) < answers)
		fail_msg("only %d of %d messages answered within 5 s",
		         atomic_load(&g_acks) + atomic_load(&g_nacks), answers);
}

static void stop(run_t *r)
{
	otf_test_run_stop(r);
}

static uint64_t counter_of(otf_engine_t *e, const char *name, otf_node_counter_t c)
{
	otf_node_stats_t st[NPROC + 4];
	size_t n = otf_engine_stats(e, st, NPROC + 4);
	for (size_t i = 0; i < n && i < NPROC + 4; i++)
		if (!strcmp(st[i].name, name))
			return st[i].counters[c][OTF_SIGNAL_TRACES];
	return UINT64_MAX;
}

static char *print_dag(const otf_dag_t *dag)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	otf_dag_print(dag, f, false);
	fclose(f);
	return text;
}

#define CHAIN4(count, fuse)                                 \
	"nodes:\n"                                          \
	"  src: {type: fsrc, config: {count: " count "}}\n" \
	"  p1: {type: fpass, config: {id: 1}}\n"            \
	"  p2: {type: fpass, config: {id: 2}}\n"            \
	"  p3: {type: fpass, config: {id: 3}}\n"            \
	"  p4: {type: fpass, config: {id: 4}}\n"            \
	"  sink: {type: fsink}\n"                           \
	"connections:\n"                                    \
	"  - {from: src, to: p1}\n"                         \
	"  - {from: p1, to: p2}\n"                          \
	"  - {from: p2, to: p3}\n"                          \
	"  - {from: p3, to: p4}\n"                          \
	"  - {from: p4, to: sink}\n"                        \
	"runtime: {workers: 1, channel_capacity: 256, shutdown_timeout: 2s" fuse "}\n"

/* 200 messages through 4 processors: same ids in the same order at the
 * sink, 200 acks, every processor and the sink count exactly 200, and
 * (fused) p2, p3, p4 and the sink got every message by direct call while
 * p1 got them through its channel (the source sends from a timer). */
static void chain4_case(bool fuse_on)
{
	run_t r;
	build(&r, fuse_on ? CHAIN4("200", "") : CHAIN4("200", ", fuse: false"));
	start_and_wait(&r, 200);
	assert_int_equal(atomic_load(&g_acks), 200);
	assert_int_equal(atomic_load(&g_nacks), 0);
	assert_int_equal(atomic_load(&g_seen), 200);
	for (int i = 0; i < 200; i++)
		if (atomic_load(&g_seen_src[i]) != atomic_load(&g_sent_ids[i]))
			fail_msg("message %d at the sink has id %llu, sent %llu", i,
			         (unsigned long long)atomic_load(&g_seen_src[i]),
			         (unsigned long long)atomic_load(&g_sent_ids[i]));
	static const char *const names[] = {"p1", "p2", "p3", "p4"};
	for (int i = 0; i < 4; i++)
		assert_int_equal(counter_of(r.e, names[i], OTF_COUNTER_ACCEPTED), 200);
	assert_int_equal(counter_of(r.e, "sink", OTF_COUNTER_SENT), 200);
	bool direct = fuse_on && !fuse_env_off();
	assert_int_equal(atomic_load(&g_direct[1]), 0);
	for (int i = 2; i <= 4; i++)
		if (atomic_load(&g_direct[i]) != (direct ? 200 : 0))
			fail_msg("p%d: %d of 200 messages by direct call, want %d", i,
			         atomic_load(&g_direct[i]), direct ? 200 : 0);
	assert_int_equal(atomic_load(&g_seen_direct), direct ? 200 : 0);
	stop(&r);
}

static void test_chain4_fused(void **state)
{
	(void)state;
	chain4_case(true);
}

static void test_chain4_fuse_off(void **state)
{
	(void)state;
	chain4_case(false);
}

/* print-dag and the DAG JSON name the fused stage (src is a receiver: its
 * edge stays a channel); runtime.fuse: false leaves none. */
static void test_stages_shown(void **state)
{
	(void)state;
	bool on = !fuse_env_off();
	run_t r;
	build(&r, CHAIN4("1", ""));
	char *text = print_dag(r.dag);
	if (on) {
		if (!strstr(text, "fused stage 1: p1 -> p2 -> p3 -> p4 -> sink\n") ||
		    !strstr(text, "  -> p2 [traces] fused\n") ||
		    strstr(text, "  -> p1 [traces] fused"))
			fail_msg("print-dag:\n%s", text);
	} else {
		assert_null(strstr(text, "fused"));
	}
	free(text);
	char *json;
	size_t len;
	assert_int_equal(otf_dag_describe_json(r.dag, NULL, 0, &json, &len), 0);
	const char *want = on ? "\"fused_stages\":[{\"stage\":1,\"nodes\":[\"p1\",\"p2\",\"p3\","
	                        "\"p4\",\"sink\"]}]"
	                      : "\"fused_stages\":[]";
	if (!strstr(json, want) ||
	    (on && !strstr(json, "\"from\":\"p1\",\"port\":\"default\",\"to\":\"p2\","
	                         "\"signals\":[\"traces\"],\"fused\":true")) ||
	    !strstr(json, "\"from\":\"src\",\"port\":\"default\",\"to\":\"p1\","
	                  "\"signals\":[\"traces\"],\"fused\":false"))
		fail_msg("want %s in %s", want, json);
	otf_free(json);
	otf_dag_destroy(r.dag);
	otf_config_destroy(r.cfg);

	build(&r, CHAIN4("1", ", fuse: false"));
	text = print_dag(r.dag);
	assert_null(strstr(text, "fused"));
	free(text);
	assert_int_equal(otf_dag_describe_json(r.dag, NULL, 0, &json, &len), 0);
	assert_non_null(strstr(json, "\"fused_stages\":[]"));
	otf_free(json);
	otf_dag_destroy(r.dag);
	otf_config_destroy(r.cfg);
}

/* A branch ends a stage: p1 fans out to two sinks, so neither of its edges
 * is fused; a node fed by two is not fused in either. */
static void test_branch_not_fused(void **state)
{
	(void)state;
	run_t r;
	build(&r, "nodes:\n"
	          "  src: {type: fsrc}\n"
	          "  src2: {type: fsrc}\n"
	          "  p1: {type: fpass, config: {id: 1}}\n"
	          "  p2: {type: fpass, config: {id: 2}}\n"
	          "  p3: {type: fpass, config: {id: 3}}\n"
	          "  s1: {type: fsink}\n"
	          "  s2: {type: fsink}\n"
	          "connections:\n"
	          "  - {from: src, to: p1}\n"
	          "  - {from: p1, to: [s1, s2]}\n"
	          "  - {from: src2, to: p2}\n"
	          "  - {from: p2, to: p3}\n"
	          "  - {from: src, to: p3}\n"
	          "  - {from: p3, to: s1}\n"
	          "runtime: {workers: 1}\n");
	char *text = print_dag(r.dag);
	/* p3 -> s1 is not fused either: s1 has two inputs. */
	if (strstr(text, "fused"))
		fail_msg("nothing may be fused here:\n%s", text);
	free(text);
	otf_dag_destroy(r.dag);
	otf_config_destroy(r.cfg);
}

/* A router whose ports all lead to the same next node is no branch: its
 * edges are fused, and the stage runs through it. */
static void test_ports_to_one_node(void **state)
{
	(void)state;
	bool on = !fuse_env_off();
	run_t r;
	build(&r, "nodes:\n"
	          "  src: {type: fsrc, config: {count: 20}}\n"
	          "  p1: {type: fpass, config: {id: 1}}\n"
	          "  router: {type: type_router}\n"
	          "  p2: {type: fpass, config: {id: 2}}\n"
	          "  sink: {type: fsink}\n"
	          "connections:\n"
	          "  - {from: src, to: p1}\n"
	          "  - {from: p1, to: router}\n"
	          "  - {from: router.traces, to: p2}\n"
	          "  - {from: router.default, to: p2}\n"
	          "  - {from: p2, to: sink}\n"
	          "runtime: {workers: 1, shutdown_timeout: 2s}\n");
	char *text = print_dag(r.dag);
	if (on != (strstr(text, "fused stage 1: p1 -> router -> p2 -> sink\n") != NULL) ||
	    on != (strstr(text, "  -> p2 [traces] port traces fused\n") != NULL))
		fail_msg("print-dag:\n%s", text);
	free(text);
	start_and_wait(&r, 20);
	assert_int_equal(atomic_load(&g_acks), 20);
	assert_int_equal(atomic_load(&g_seen), 20);
	for (int i = 0; i < 20; i++)
		assert_int_equal(atomic_load(&g_seen_src[i]), atomic_load(&g_sent_ids[i]));
	assert_int_equal(atomic_load(&g_direct[2]), on ? 20 : 0);
	stop(&r);
}

/* Re-entrancy: p1 sends two messages from one consume; both reach the
 * sink (fused: by direct call) in order a, b per original, each original is
 * acked once both parts are. */
static void test_two_sends_from_consume(void **state)
{
	(void)state;
	run_t r;
	build(&r, "nodes:\n"
	          "  src: {type: fsrc, config: {count: 50}}\n"
	          "  p0: {type: fpass, config: {id: 0}}\n"
	          "  p1: {type: fpass, config: {id: 1, mode: twice}}\n"
	          "  p2: {type: fpass, config: {id: 2}}\n"
	          "  sink: {type: fsink}\n"
	          "connections:\n"
	          "  - {from: src, to: p0}\n"
	          "  - {from: p0, to: p1}\n"
	          "  - {from: p1, to: p2}\n"
	          "  - {from: p2, to: sink}\n"
	          "runtime: {workers: 1, shutdown_timeout: 2s}\n");
	start_and_wait(&r, 50);
	assert_int_equal(atomic_load(&g_acks), 50);
	assert_int_equal(atomic_load(&g_nacks), 0);
	for (int i = 0; i < 2000 && atomic_load(&g_seen) < 100; i++)
		usleep(1000);
	assert_int_equal(atomic_load(&g_seen), 100);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(atomic_load(&g_seen_src[2 * i]), atomic_load(&g_sent_ids[i]));
		assert_int_equal(atomic_load(&g_seen_src[2 * i + 1]), atomic_load(&g_sent_ids[i]));
		assert_int_equal(g_seen_part[2 * i], 'a');
		assert_int_equal(g_seen_part[2 * i + 1], 'b');
	}
	bool direct = !fuse_env_off();
	assert_int_equal(atomic_load(&g_direct[1]), direct ? 50 : 0);
	assert_int_equal(atomic_load(&g_direct[2]), direct ? 100 : 0);
	assert_int_equal(atomic_load(&g_seen_direct), direct ? 100 : 0);
	assert_int_equal(counter_of(r.e, "p2", OTF_COUNTER_ACCEPTED), 100);
	assert_int_equal(counter_of(r.e, "sink", OTF_COUNTER_SENT), 100);
	stop(&r);
}

/* Re-entrancy: p1 sends part b from the ACK callback of part a. That send
 * goes through the channel (no consume runs inside a control callback),
 * and every original is still answered once, after its b. */
static void test_send_from_ack_callback(void **state)
{
	(void)state;
	run_t r;
	build(&r, "nodes:\n"
	          "  src: {type: fsrc, config: {count: 40}}\n"
	          "  p0: {type: fpass, config: {id: 0}}\n"
	          "  p1: {type: fpass, config: {id: 1, mode: ackcb}}\n"
	          "  p2: {type: fpass, config: {id: 2}}\n"
	          "  sink: {type: fsink}\n"
	          "connections:\n"
	          "  - {from: src, to: p0}\n"
	          "  - {from: p0, to: p1}\n"
	          "  - {from: p1, to: p2}\n"
	          "  - {from: p2, to: sink}\n"
	          "runtime: {workers: 1, shutdown_timeout: 2s}\n");
	start_and_wait(&r, 40);
	assert_int_equal(atomic_load(&g_acks), 40);
	assert_int_equal(atomic_load(&g_nacks), 0);
	assert_int_equal(atomic_load(&g_seen), 80);
	int a = 0, b = 0;
	for (int i = 0; i < 80; i++) {
		a += g_seen_part[i] == 'a';
		b += g_seen_part[i] == 'b';
	}
	assert_int_equal(a, 40);
	assert_int_equal(b, 40);
	/* Parts a came to p2 by direct call (fused), parts b through p2's
	 * channel; p2 passes both on to the sink by direct call. */
	bool direct = !fuse_env_off();
	assert_int_equal(atomic_load(&g_direct[1]), direct ? 40 : 0);
	assert_int_equal(atomic_load(&g_direct[2]), direct ? 40 : 0);
	assert_int_equal(atomic_load(&g_seen_direct), direct ? 80 : 0);
	assert_int_equal(counter_of(r.e, "sink", OTF_COUNTER_SENT), 80);
	stop(&r);
}

/* A stage of 12 processors: the direct calls nest at most 8 deep (the
 * rest of the chain continues through a channel), nothing is lost or
 * reordered. */
static void test_depth_bounded(void **state)
{
	(void)state;
	char yaml[4096];
	size_t n = (size_t)snprintf(yaml, sizeof yaml,
	                            "nodes:\n  src: {type: fsrc, config: {count: 100}}\n"
	                            "  sink: {type: fsink}\n");
	for (int i = 1; i <= 12; i++)
		n += (size_t)snprintf(yaml + n, sizeof yaml - n,
		                      "  p%d: {type: fpass, config: {id: %d}}\n", i, i);
	n += (size_t)snprintf(yaml + n, sizeof yaml - n, "connections:\n  - {from: src, to: p1}\n");
	for (int i = 1; i < 12; i++)
		n += (size_t)snprintf(yaml + n, sizeof yaml - n, "  - {from: p%d, to: p%d}\n", i,
		                      i + 1);
	snprintf(yaml + n, sizeof yaml - n,
	         "  - {from: p12, to: sink}\nruntime: {workers: 1, shutdown_timeout: 2s}\n");
	run_t r;
	build(&r, yaml);
	start_and_wait(&r, 100);
	assert_int_equal(atomic_load(&g_acks), 100);
	assert_int_equal(atomic_load(&g_seen), 100);
	for (int i = 0; i < 100; i++)
		assert_int_equal(atomic_load(&g_seen_src[i]), atomic_load(&g_sent_ids[i]));
	if (g_nest_max > 9) /* 8 direct calls below p1's own send */
		fail_msg("sends nested %d deep", g_nest_max);
	if (!fuse_env_off()) {
		assert_true(g_nest_max >= 8);
		/* The 9th hop (p10) is queued, then fused again from there. */
		assert_int_equal(atomic_load(&g_direct[9]), 100);
		assert_int_equal(atomic_load(&g_direct[10]), 0);
		assert_int_equal(atomic_load(&g_direct[11]), 100);
	}
	for (int i = 1; i <= 12; i++) {
		char name[8];
		snprintf(name, sizeof name, "p%d", i);
		assert_int_equal(counter_of(r.e, name, OTF_COUNTER_ACCEPTED), 100);
	}
	stop(&r);
}

/* Shutdown through a fused stage with a batch in it: the batch's flush at
 * KIL (sent from its control callback, so through p2's channel) reaches
 * the sink before the sink's KIL; KIL arrives in chain order. */
static void test_shutdown_order(void **state)
{
	(void)state;
	run_t r;
	build(&r, "nodes:\n"
	          "  src: {type: fsrc, config: {count: 10}}\n"
	          "  p1: {type: fpass, config: {id: 1}}\n"
	          "  batch: {type: batch, config: {timeout: 60s, send_batch_size: 1000}}\n"
	          "  p2: {type: fpass, config: {id: 2}}\n"
	          "  p3: {type: fpass, config: {id: 3}}\n"
	          "  sink: {type: fsink}\n"
	          "connections:\n"
	          "  - {from: src, to: p1}\n"
	          "  - {from: p1, to: batch}\n"
	          "  - {from: batch, to: p2}\n"
	          "  - {from: p2, to: p3}\n"
	          "  - {from: p3, to: sink}\n"
	          "runtime: {workers: 1, shutdown_timeout: 5s}\n");
	assert_int_equal(otf_engine_start(r.dag, &r.st.runtime, &r.e), 0);
	for (int i = 0; i < 5000 && counter_of(r.e, "p1", OTF_COUNTER_ACCEPTED) < 10; i++)
		usleep(1000);
	assert_int_equal(counter_of(r.e, "p1", OTF_COUNTER_ACCEPTED), 10);
	assert_int_equal(atomic_load(&g_seen), 0); /* held by the batch */
	otf_engine_request_stop(r.e);
	assert_int_equal(otf_engine_join(r.e), 0);
	assert_int_equal(atomic_load(&g_acks), 10);
	assert_int_equal(atomic_load(&g_seen), 1);
	assert_int_equal(atomic_load(&g_sink_seen_at_kil), 1);
	assert_int_equal(atomic_load(&g_kils), 4);
	static const int order[] = {1, 2, 3, 99};
	for (int i = 0; i < 4; i++)
		assert_int_equal(atomic_load(&g_kil_order[i]), order[i]);
	otf_dag_destroy(r.dag);
	otf_config_destroy(r.cfg);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		cmocka_set_test_filter(argv[1]); /* run one test: name or pattern */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_chain4_fused),
	    cmocka_unit_test(test_chain4_fuse_off),
	    cmocka_unit_test(test_stages_shown),
	    cmocka_unit_test(test_branch_not_fused),
	    cmocka_unit_test(test_ports_to_one_node),
	    cmocka_unit_test(test_two_sends_from_consume),
	    cmocka_unit_test(test_send_from_ack_callback),
	    cmocka_unit_test(test_depth_bounded),
	    cmocka_unit_test(test_shutdown_order),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
