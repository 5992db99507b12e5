/* Outcomes heard by the send (otf_node_send_watched and
 * otf_node_send_detached_watched, src/engine/msg.c and msg_handover.c): a
 * processor that subscribes to what it sends (the message back with its
 * outcome, or its upstream part cut off and answered by it) gets each
 * outcome exactly once, with the same content, whether it came as the
 * send's answer (OTF_SENT_ANSWERED: a fused sink that answers in its
 * consume) or as a control signal (a channel, a sink that holds, a QUEUED
 * report queued before it); it is never re-entered (no control callback
 * while its consume runs), and the engine counts the outcome at the node
 * either way. Fused, every answer given at once is the send's; with
 * runtime.fuse: false, and in the test_send_watched_nofuse variant
 * (OTFLOW_FUSE=0), every one is a control signal, with the same results
 * otherwise. */
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

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX 64

/* What the watcher heard of message i (by its sending order). */
typedef struct heard {
	_Atomic int type;   /* OTF_CTRL_ACK / NACK, 0 = nothing yet */
	_Atomic int times;  /* outcomes heard (must be 1) */
	_Atomic int by_ret; /* 1: the send's answer, 0: a control signal */
	_Atomic int queued; /* QUEUED reports before the outcome */
	uint64_t msg_id, calldata, items;
	int error;
	bool permanent, got_msg;
	uint64_t retry_after_ns;
	char reason[160];
} heard_t;

static heard_t g_heard[MAX];
static _Atomic uint64_t g_ids[MAX]; /* the id of message i as consumed */
static _Atomic int g_consumed, g_reentered, g_src_acks, g_src_nacks, g_late_queued;
static char g_src_reason[MAX][160];
/* the watcher's detached mode: message i's upstream part and its storage */
static void *g_store[MAX];
static otf_msg_upstream_t *g_up[MAX];

static bool fuse_env_off(void)
{
	const char *v = getenv("OTFLOW_FUSE");
	return v && !strcmp(v, "0");
}

static void reset(void)
{
	memset(g_heard, 0, sizeof g_heard);
	memset(g_up, 0, sizeof g_up);
	for (int i = 0; i < MAX; i++)
		atomic_store(&g_ids[i], 0);
	atomic_store(&g_consumed, 0);
	atomic_store(&g_reentered, 0);
	atomic_store(&g_src_acks, 0);
	atomic_store(&g_src_nacks, 0);
	atomic_store(&g_late_queued, 0);
	memset(g_src_reason, 0, sizeof g_src_reason);
}

static void plain_destroy(void *inst)
{
	otf_free(inst);
}

/* ---- wsrc: `count` traces messages of i + 1 items from a timer, each
 * subscribed with calldata i. */
typedef struct wsrc_cfg {
	uint64_t count;
} wsrc_cfg_t;

typedef struct wnode {
	otf_node_t *node;
	const void *cfg;
	bool in_consume;
	otf_msg_t *held[MAX];
	int nheld, seen;
} wnode_t;

static int wnode_create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	wnode_t *w = otf_calloc(1, sizeof *w);
	if (!w)
		return OTF_E_NOMEM;
	w->node = ctx->node;
	w->cfg = ctx->config;
	*inst = w;
	return 0;
}

static int wsrc_start(void *inst)
{
	wnode_t *w = inst;
	otf_node_timer_start(w->node, 1, 0, 1);
	return 0;
}

static void wsrc_control(void *inst, const otf_ctrl_t *c)
{
	wnode_t *w = inst;
	const wsrc_cfg_t *cfg = w->cfg;
	switch (c->type) {
	case OTF_CTRL_TMR:
		for (uint64_t i = 0; i < cfg->count && i < MAX; i++) {
			static const char span[] = {0x0a, 0x04, 0x12, 0x02, 0x12, 0x00};
			otf_msg_t *m =
			    otf_msg_create(w->node, OTF_SIGNAL_TRACES,
			                   otf_buf_create_copy(span, sizeof span), i + 1);
			assert_non_null(m);
			assert_int_equal(
			    otf_msg_subscribe(m, w->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK, i),
			    0);
			assert_int_equal(otf_node_send(w->node, m), 0);
		}
		break;
	case OTF_CTRL_ACK:
		atomic_fetch_add(&g_src_acks, 1);
		break;
	case OTF_CTRL_NACK:
		if (c->calldata < MAX)
			snprintf(g_src_reason[c->calldata], sizeof g_src_reason[0], "%s",
			         c->reason);
		atomic_fetch_add(&g_src_nacks, 1);
		break;
	case OTF_CTRL_KIL:
		otf_node_shutdown_done(w->node);
		break;
	default:
		break;
	}
}

static const otf_config_field_t k_wsrc_schema[] = {
    {.key = "count", .type = OTF_CFG_UINT, .offset = offsetof(wsrc_cfg_t, count), .def = "1"},
    OTF_CONFIG_FIELD_END,
};

static const otf_component_factory_t k_wsrc = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_RECEIVER,
    .type = "wsrc",
    .description = "test source",
    .stability = {OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_wsrc_schema,
    .config_size = sizeof(wsrc_cfg_t),
    .create = {wnode_create},
    .start = wsrc_start,
    .control = wsrc_control,
    .destroy = plain_destroy,
};

/* ---- watcher: sends each message on with otf_node_send_watched (the
 * message back with its outcome) or, `detached`, with
 * otf_node_send_detached_watched (QUEUED too, passed up), records the
 * outcome however it comes and answers upstream with it. */
typedef struct watcher_cfg {
	bool detached;
} watcher_cfg_t;

static void answer_up(const otf_ctrl_t *c)
{
	otf_msg_upstream_t *up = g_up[c->calldata];
	g_up[c->calldata] = NULL;
	assert_non_null(up);
	if (c->type == OTF_CTRL_ACK)
		otf_msg_upstream_ack(up);
	else
		otf_msg_upstream_nack(up, c->error, c->permanent, c->retry_after_ns, c->reason);
	otf_free(g_store[c->calldata]);
	g_store[c->calldata] = NULL;
}

static void heard_one(const otf_ctrl_t *c, bool by_ret)
{
	assert_true(c->calldata < MAX);
	heard_t *h = &g_heard[c->calldata];
	h->msg_id = c->msg_id;
	h->calldata = c->calldata;
	h->items = c->items;
	h->error = c->error;
	h->permanent = c->permanent;
	h->retry_after_ns = c->retry_after_ns;
	h->got_msg = c->msg != NULL;
	snprintf(h->reason, sizeof h->reason, "%s", c->reason);
	atomic_store(&h->by_ret, by_ret);
	atomic_store(&h->type, (int)c->type);
	atomic_fetch_add(&h->times, 1);
	if (!c->msg)
		answer_up(c);
	else if (c->type == OTF_CTRL_ACK)
		otf_msg_ack(c->msg);
	else if (c->retry_after_ns)
		otf_msg_nack_throttled(c->msg, c->error, c->retry_after_ns, c->reason);
	else
		otf_msg_nack(c->msg, c->error, c->permanent, c->reason);
}

static void watcher_consume(void *inst, otf_msg_t *m)
{
	wnode_t *w = inst;
	const watcher_cfg_t *cfg = w->cfg;
	int i = atomic_fetch_add(&g_consumed, 1);
	assert_true(i < MAX);
	atomic_store(&g_ids[i], otf_msg_id(m));
	otf_ctrl_t c;
	memset(&c, 0xa5, sizeof c); /* what the engine does not fill shows */
	w->in_consume = true;
	int rc;
	if (cfg->detached) {
		g_store[i] = otf_malloc(otf_msg_upstream_size());
		assert_non_null(g_store[i]);
		rc = otf_node_send_detached_watched(
		    w->node, m, OTF_INTEREST_ACK | OTF_INTEREST_NACK | OTF_INTEREST_QUEUED,
		    (uint64_t)i, g_store[i], &g_up[i], &c);
	} else {
		rc = otf_node_send_watched(
		    w->node, m, OTF_INTEREST_ACK | OTF_INTEREST_NACK | OTF_INTEREST_RETURN_MSG,
		    (uint64_t)i, &c);
	}
	w->in_consume = false;
	assert_true(rc == 0 || rc == OTF_SENT_ANSWERED);
	if (rc == OTF_SENT_ANSWERED) {
		assert_null(c.payload);
		assert_int_equal(c.instance_gen, 1);
		heard_one(&c, true);
	}
}

static void watcher_control(void *inst, const otf_ctrl_t *c)
{
	wnode_t *w = inst;
	if (w->in_consume)
		atomic_fetch_add(&g_reentered, 1);
	switch (c->type) {
	case OTF_CTRL_ACK:
	case OTF_CTRL_NACK:
		heard_one(c, false);
		break;
	case OTF_CTRL_QUEUED:
		if (atomic_load(&g_heard[c->calldata].type))
			atomic_fetch_add(&g_late_queued, 1); /* after its outcome */
		atomic_fetch_add(&g_heard[c->calldata].queued, 1);
		otf_msg_upstream_queued(g_up[c->calldata]);
		break;
	case OTF_CTRL_KIL:
		otf_node_shutdown_done(w->node);
		break;
	default:
		break;
	}
}

static const otf_config_field_t k_watcher_schema[] = {
    {.key = "detached",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(watcher_cfg_t, detached),
     .def = "false"},
    OTF_CONFIG_FIELD_END,
};

static const otf_component_factory_t k_watcher = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "watcher",
    .description = "test processor hearing its sends' outcomes",
    .stability = {OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_watcher_schema,
    .config_size = sizeof(watcher_cfg_t),
    .create = {wnode_create},
    .consume = {watcher_consume},
    .control = watcher_control,
    .destroy = plain_destroy,
};

/* ---- wsink: answers message k (arrival order) in its consume: even k
 * acked, odd k nacked retryable with a 7 ms throttle delay ("odd k"),
 * every fifth nacked permanent ("bad k"); `queued` reports each queued
 * first; `hold` keeps every message until KIL (acked then). */
typedef struct wsink_cfg {
	bool queued, hold;
} wsink_cfg_t;

static void wsink_consume(void *inst, otf_msg_t *m)
{
	wnode_t *w = inst;
	const wsink_cfg_t *cfg = w->cfg;
	int k = w->seen++;
	char why[32];
	if (cfg->queued)
		otf_msg_queued(m);
	if (cfg->hold) {
		assert_true(w->nheld < MAX);
		w->held[w->nheld++] = m;
	} else if (k % 5 == 4) {
		snprintf(why, sizeof why, "bad %d", k);
		otf_msg_nack(m, OTF_E_INVAL, true, why);
	} else if (k % 2) {
		snprintf(why, sizeof why, "odd %d", k);
		otf_msg_nack_throttled(m, -EAGAIN, 7000000, why);
	} else {
		otf_msg_ack(m);
	}
}

static void wsink_control(void *inst, const otf_ctrl_t *c)
{
	wnode_t *w = inst;
	if (c->type != OTF_CTRL_KIL)
		return;
	for (int i = 0; i < w->nheld; i++)
		otf_msg_ack(w->held[i]);
	w->nheld = 0;
	otf_node_shutdown_done(w->node);
}

static const otf_config_field_t k_wsink_schema[] = {
    {.key = "queued",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(wsink_cfg_t, queued),
     .def = "false"},
    {.key = "hold", .type = OTF_CFG_BOOL, .offset = offsetof(wsink_cfg_t, hold), .def = "false"},
    OTF_CONFIG_FIELD_END,
};

static const otf_component_factory_t k_wsink = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXPORTER,
    .type = "wsink",
    .description = "test sink",
    .stability = {OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_wsink_schema,
    .config_size = sizeof(wsink_cfg_t),
    .create = {wnode_create},
    .consume = {wsink_consume},
    .control = wsink_control,
    .destroy = plain_destroy,
};

static int setup(void **state)
{
	(void)state;
	otf_components_register_builtins();
	otf_component_register(&k_wsrc);
	otf_component_register(&k_watcher);
	otf_component_register(&k_wsink);
	otf_log_set_level(OTF_LOG_ERROR);
	return 0;
}

static void begin(otf_test_run_t *r, int count, const char *watcher, const char *sink, bool fuse)
{
	char yaml[1024];
	snprintf(yaml, sizeof yaml,
	         "nodes:\n"
	         "  src: {type: wsrc, config: {count: %d}}\n"
	         "  w: {type: watcher, config: {%s}}\n"
	         "  sink: {type: wsink, config: {%s}}\n"
	         "connections:\n"
	         "  - {from: src, to: w}\n"
	         "  - {from: w, to: sink}\n"
	         "runtime: {workers: 1, shutdown_timeout: 2s%s}\n",
	         count, watcher, sink, fuse ? "" : ", fuse: false");
	reset();
	otf_test_run_begin(r, yaml);
}

static void await_src_answers(int n)
{
	for (int i = 0; i < 10000 && atomic_load(&g_src_acks) + atomic_load(&g_src_nacks) < n; i++)
		usleep(1000);
	if (atomic_load(&g_src_acks) + atomic_load(&g_src_nacks) < n)
		fail_msg("the source has %d of %d answers after 10 s",
		         atomic_load(&g_src_acks) + atomic_load(&g_src_nacks), n);
}

static uint64_t counter_of(otf_engine_t *e, const char *name, otf_node_counter_t c)
{
	otf_node_stats_t st[8];
	size_t n = otf_engine_stats(e, st, 8);
	for (size_t i = 0; i < n && i < 8; i++)
		if (!strcmp(st[i].name, name))
			return st[i].counters[c][OTF_SIGNAL_TRACES];
	fail_msg("no node %s in the stats", name);
	return 0;
}

/* 20 messages, the sink answering each at once (acks, throttled NACKs,
 * permanent NACKs): each outcome heard once, of the message sent
 * (msg_id, calldata, items, the message back), with the NACK's error,
 * permanence, reason and throttle delay; passed up to the source as
 * heard; the engine's ACK/NACK counters of the watcher the same; fused,
 * every one heard by the send, else every one by a control signal. */
static void answered_case(bool fuse, bool detached)
{
	otf_test_run_t r;
	begin(&r, 20, detached ? "detached: true" : "", "", fuse);
	await_src_answers(20);
	bool direct = fuse && !fuse_env_off();
	int acks = 0, nacks = 0;
	for (int i = 0; i < 20; i++) {
		heard_t *h = &g_heard[i];
		if (atomic_load(&h->times) != 1)
			fail_msg("message %d: heard %d times", i, atomic_load(&h->times));
		if (atomic_load(&h->by_ret) != direct)
			fail_msg("message %d: heard by %s, expected by %s", i,
			         atomic_load(&h->by_ret) ? "the send" : "a control signal",
			         direct ? "the send" : "a control signal");
		assert_int_equal(h->msg_id, atomic_load(&g_ids[i]));
		assert_int_equal(h->calldata, (uint64_t)i);
		assert_int_equal(h->got_msg, !detached);
		/* one worker, a channel in front of the watcher: arrival order is
		 * sending order, so message i is the sink's k = i */
		assert_int_equal(h->items, (uint64_t)i + 1);
		char want[32];
		if (i % 5 == 4) {
			nacks++;
			assert_int_equal(atomic_load(&h->type), OTF_CTRL_NACK);
			assert_int_equal(h->error, OTF_E_INVAL);
			assert_true(h->permanent);
			assert_int_equal(h->retry_after_ns, 0);
			snprintf(want, sizeof want, "bad %d", i);
			assert_string_equal(h->reason, want);
			assert_string_equal(g_src_reason[i], want);
		} else if (i % 2) {
			nacks++;
			assert_int_equal(atomic_load(&h->type), OTF_CTRL_NACK);
			assert_int_equal(h->error, -EAGAIN);
			assert_false(h->permanent);
			assert_int_equal(h->retry_after_ns, 7000000);
			snprintf(want, sizeof want, "odd %d", i);
			assert_string_equal(h->reason, want);
			assert_string_equal(g_src_reason[i], want);
		} else {
			acks++;
			assert_int_equal(atomic_load(&h->type), OTF_CTRL_ACK);
			assert_int_equal(h->error, 0);
			assert_false(h->permanent);
			assert_int_equal(h->retry_after_ns, 0);
			assert_string_equal(h->reason, "");
		}
	}
	assert_int_equal(atomic_load(&g_src_acks), acks);
	assert_int_equal(atomic_load(&g_src_nacks), nacks);
	assert_int_equal(atomic_load(&g_reentered), 0);
	assert_int_equal(counter_of(r.e, "w", OTF_COUNTER_ACKS), (uint64_t)acks);
	assert_int_equal(counter_of(r.e, "w", OTF_COUNTER_NACKS), (uint64_t)nacks);
	assert_int_equal(counter_of(r.e, "w", OTF_COUNTER_MSGS_IN), 20);
	assert_int_equal(counter_of(r.e, "w", OTF_COUNTER_MSGS_OUT), 20);
	assert_int_equal(counter_of(r.e, "sink", OTF_COUNTER_MSGS_IN), 20);
	otf_test_run_stop(&r);
}

static void test_answered_fused(void **state)
{
	(void)state;
	answered_case(true, false);
	answered_case(true, true);
}

static void test_answered_not_fused(void **state)
{
	(void)state;
	answered_case(false, false);
	answered_case(false, true);
}

/* A QUEUED report during the send is queued, so the ACK after it is too
 * (an outcome never overtakes a signal queued before it): the send
 * returns 0, and QUEUED comes before the ACK, fused or not. */
static void queued_case(bool fuse)
{
	otf_test_run_t r;
	begin(&r, 6, "detached: true", "queued: true", fuse);
	await_src_answers(6);
	for (int i = 0; i < 6; i++) {
		heard_t *h = &g_heard[i];
		assert_int_equal(atomic_load(&h->times), 1);
		assert_int_equal(atomic_load(&h->by_ret), 0);
		assert_int_equal(atomic_load(&h->queued), 1);
		assert_int_equal(h->msg_id, atomic_load(&g_ids[i]));
	}
	assert_int_equal(atomic_load(&g_late_queued), 0);
	assert_int_equal(atomic_load(&g_reentered), 0);
	otf_test_run_stop(&r);
}

static void test_queued_first(void **state)
{
	(void)state;
	queued_case(true);
	queued_case(false);
}

/* A sink that holds what it gets answers later (at KIL): those outcomes
 * come as control signals, once each, fused or not. */
static void held_case(bool fuse)
{
	otf_test_run_t r;
	begin(&r, 5, "", "hold: true", fuse);
	for (int i = 0; i < 5000 && atomic_load(&g_consumed) < 5; i++)
		usleep(1000);
	assert_int_equal(atomic_load(&g_consumed), 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(atomic_load(&g_heard[i].times), 0);
	otf_test_run_stop(&r); /* the sink acks what it holds at KIL */
	assert_int_equal(atomic_load(&g_src_acks), 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(atomic_load(&g_heard[i].times), 1);
		assert_int_equal(atomic_load(&g_heard[i].by_ret), 0);
		assert_int_equal(atomic_load(&g_heard[i].type), OTF_CTRL_ACK);
	}
	assert_int_equal(atomic_load(&g_reentered), 0);
}

static void test_held_heard_later(void **state)
{
	(void)state;
	held_case(true);
	held_case(false);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_answered_fused),
	    cmocka_unit_test(test_answered_not_fused),
	    cmocka_unit_test(test_queued_first),
	    cmocka_unit_test(test_held_heard_later),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
