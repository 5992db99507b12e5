/* Control plane: REB reverse propagation (nearest upstream first,
 * fan-out minimum, pass-through, absorb, spending by sends) through the
 * real engine, and control kept apart from data: a NACK storm a node feeds
 * itself cannot starve its timers or shutdown, a data flood cannot starve
 * acknowledgements and timers. Bounded waits, no fixed sleeps. */
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
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { MODE_REB, MODE_STORM, MODE_DATA, MODE_REFRESH };
static _Atomic int g_mode;
static _Atomic int g_rebs, g_ticks, g_storm, g_acks, g_stop, g_sent;
static _Atomic uint64_t g_last_reb_items, g_at_tmr_items, g_spent_items;

typedef struct cp {
	otf_node_t *node;
	bool sent_second;
	bool tmr_done;
} cp_t;

static int cp_create(const otf_create_ctx_t *ctx, void **inst)
{
	if (!*inst) {
		cp_t *c = otf_calloc(1, sizeof *c);
		c->node = ctx->node;
		*inst = c;
	}
	return 0;
}

static void cp_destroy(void *inst)
{
	otf_free(inst);
}

static otf_msg_t *mk(cp_t *c, uint64_t items)
{
	otf_msg_t *m =
	    otf_msg_create(c->node, OTF_SIGNAL_TRACES, otf_buf_create_copy("abc", 3), items);
	otf_msg_subscribe(m, c->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK, 0);
	return m;
}

static int src_start(void *inst)
{
	cp_t *c = inst;
	otf_node_timer_start(c->node, 1, 0, 1);
	otf_node_timer_start(c->node, 5, 5, 2);
	return 0;
}

static void flood(cp_t *c)
{
	for (;;) {
		otf_msg_t *m = mk(c, 1);
		if (otf_node_send(c->node, m)) {
			otf_msg_drop(m);
			return;
		}
		atomic_fetch_add(&g_sent, 1);
	}
}

static void src_control(void *inst, const otf_ctrl_t *ct)
{
	cp_t *c = inst;
	switch (ct->type) {
	case OTF_CTRL_REB:
		atomic_fetch_add(&g_rebs, 1);
		atomic_store(&g_last_reb_items, ct->budget.items);
		/* The budget came back (b withdrew at the TMR's message): a send
		 * spends from it. A REB is a snapshot queued like any control
		 * signal: otf_node_budget is the value now. */
		if (g_mode == MODE_REB && c->tmr_done && otf_node_budget(c->node).items == 10 &&
		    !c->sent_second) {
			c->sent_second = true;
			assert_int_equal(otf_node_send(c->node, mk(c, 3)), 0);
			otf_budget_t b = otf_node_budget(c->node);
			atomic_store(&g_spent_items, b.items);
		}
		break;
	case OTF_CTRL_TMR:
		if (ct->calldata == 2) {
			atomic_fetch_add(&g_ticks, 1);
			if (g_mode == MODE_DATA && !atomic_load(&g_stop))
				flood(c);
			break;
		}
		c->tmr_done = true;
		if (g_mode == MODE_REB) {
			otf_budget_t b = otf_node_budget(c->node);
			atomic_store(&g_at_tmr_items, b.items);
			assert_int_equal(otf_node_send(c->node, mk(c, 3)), 0);
		} else if (g_mode == MODE_REFRESH) {
			atomic_store(&g_at_tmr_items, otf_node_budget(c->node).items);
			assert_int_equal(otf_node_send(c->node, mk(c, 3)), 0);
			/* Spent at once, before the publisher saw it. */
			atomic_store(&g_last_reb_items, otf_node_budget(c->node).items);
		} else if (g_mode == MODE_STORM) {
			otf_msg_nack(mk(c, 1), -EIO, false, "storm");
		}
		break;
	case OTF_CTRL_NACK:
		/* Answers itself at once, forever: a NACK storm in one node. */
		if (g_mode == MODE_STORM && !atomic_load(&g_stop)) {
			atomic_fetch_add(&g_storm, 1);
			otf_msg_nack(mk(c, 1), -EIO, false, "storm");
		}
		break;
	case OTF_CTRL_ACK:
		/* The publisher republished its unchanged budget before it
		 * acknowledged: what this node spent is given back. */
		if (g_mode == MODE_REFRESH)
			atomic_store(&g_spent_items, otf_node_budget(c->node).items);
		atomic_fetch_add(&g_acks, 1);
		break;
	case OTF_CTRL_KIL:
		atomic_store(&g_stop, 1);
		otf_node_shutdown_done(c->node);
		break;
	default:
		break;
	}
}

/* cppub: publishes {items} at start (negative: nothing), withdraws it
 * at its first message when withdraw is set, publishes the same value
 * again at each message when republish is set; acks everything. */
typedef struct pub_cfg {
	int64_t items;
	bool withdraw;
	bool absorb;
	bool republish;
} pub_cfg_t;

static const otf_config_field_t k_pub_schema[] = {
    {.key = "items", .type = OTF_CFG_INT, .offset = offsetof(pub_cfg_t, items), .def = "-1"},
    {.key = "withdraw",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(pub_cfg_t, withdraw),
     .def = "false"},
    {.key = "absorb", .type = OTF_CFG_BOOL, .offset = offsetof(pub_cfg_t, absorb), .def = "false"},
    {.key = "republish",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(pub_cfg_t, republish),
     .def = "false"},
    OTF_CONFIG_FIELD_END,
};

typedef struct pub {
	otf_node_t *node;
	const pub_cfg_t *cfg;
} pub_t;

static int pub_create(const otf_create_ctx_t *ctx, void **inst)
{
	if (!*inst) {
		pub_t *p = otf_calloc(1, sizeof *p);
		p->node = ctx->node;
		p->cfg = ctx->config;
		if (p->cfg->absorb)
			otf_node_budget_policy(p->node, OTF_BUDGET_ABSORB);
		*inst = p;
	}
	return 0;
}

static int pub_start(void *inst)
{
	pub_t *p = inst;
	if (p->cfg->items >= 0) {
		otf_budget_t b = {OTF_BUDGET_UNLIMITED, (uint64_t)p->cfg->items,
		                  OTF_BUDGET_UNLIMITED, 0, 0};
		otf_node_publish_budget(p->node, &b);
	}
	return 0;
}

static void pub_consume(void *inst, otf_msg_t *m)
{
	pub_t *p = inst;
	if (p->cfg->withdraw)
		otf_node_publish_budget(p->node, NULL);
	if (p->cfg->republish)
		pub_start(p);
	if (otf_node_has_output(p->node, OTF_SIGNAL_TRACES)) {
		if (otf_node_send(p->node, m))
			otf_msg_nack(m, -EAGAIN, false, "full");
		return;
	}
	otf_msg_ack(m);
}

static void pub_control(void *inst, const otf_ctrl_t *c)
{
	pub_t *p = inst;
	if (c->type == OTF_CTRL_KIL)
		otf_node_shutdown_done(p->node);
}

static const otf_component_factory_t k_src = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_RECEIVER,
    .type = "cpsrc",
    .description = "test source",
    .stability = {OTF_STABILITY_DEVELOPMENT, 0, 0},
    .create = {cp_create, NULL, NULL},
    .start = src_start,
    .control = src_control,
    .destroy = cp_destroy,
};

#define PUB(kind_, type_)                                                                         \
	{                                                                                         \
		.abi_version = OTF_COMPONENT_ABI_VERSION,                                         \
		.struct_size = sizeof(otf_component_factory_t), .kind = kind_, .type = type_,     \
		.description = "test budget publisher",                                           \
		.stability = {OTF_STABILITY_DEVELOPMENT, 0, 0}, .config_schema = k_pub_schema,    \
		.config_size = sizeof(pub_cfg_t), .create = {pub_create, NULL, NULL},             \
		.start = pub_start, .consume = {pub_consume, NULL, NULL}, .control = pub_control, \
		.destroy = cp_destroy,                                                            \
	}
static const otf_component_factory_t k_pub = PUB(OTF_KIND_EXPORTER, "cppub");
static const otf_component_factory_t k_mid = PUB(OTF_KIND_PROCESSOR, "cpmid");

typedef otf_test_run_t run_t;

static void start(run_t *r, int mode, const char *yaml)
{
	atomic_store(&g_mode, mode);
	g_rebs = g_ticks = g_storm = g_acks = g_stop = g_sent = 0;
	g_last_reb_items = g_at_tmr_items = g_spent_items = 0;
	otf_test_run_begin(r, yaml);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Stop and join, which must end well within bound_ms. */
static void stop(run_t *r, uint64_t bound_ms)
{
	uint64_t t0 = now_ms();
	otf_engine_request_stop(r->e);
	assert_int_equal(otf_engine_join(r->e), 0);
	uint64_t took = now_ms() - t0;
	if (took > bound_ms)
		fail_msg("shutdown took %llu ms (bound %llu)", (unsigned long long)took,
		         (unsigned long long)bound_ms);
	otf_dag_destroy(r->dag);
	otf_config_destroy(r->cfg);
}

static bool wait_for(_Atomic int *v, int target, int ms)
{
	for (int i = 0; i < ms && atomic_load(v) < target; i++)
		usleep(1000);
	return atomic_load(v) >= target;
}

static bool wait_u64(_Atomic uint64_t *v, uint64_t want, int ms)
{
	for (int i = 0; i < ms && atomic_load(v) != want; i++)
		usleep(1000);
	return atomic_load(v) == want;
}

#define FANOUT_YAML(absorb)                                        \
	"nodes:\n"                                                 \
	"  src: {type: cpsrc}\n"                                   \
	"  mid: {type: cpmid, config: {absorb: " absorb "}}\n"     \
	"  a: {type: cppub, config: {items: 10}}\n"                \
	"  b: {type: cppub, config: {items: 0, withdraw: true}}\n" \
	"connections:\n"                                           \
	"  - {from: src, to: mid}\n"                               \
	"  - {from: mid, to: [a, b]}\n"                            \
	"runtime: {workers: 1, shutdown_timeout: 2s}\n"

/* a can take 10 items, b none: the fan-out passes the minimum (0) through
 * mid to src; b withdraws at its first message, src hears 10 (REB), and a
 * message of 3 items it sends then leaves 7. */
static void test_reb_fanout_minimum_and_spend(void **state)
{
	(void)state;
	run_t r;
	start(&r, MODE_REB, FANOUT_YAML("false"));
	if (!wait_u64(&g_spent_items, 7, 3000))
		fail_msg("spent %llu, at tmr %llu, last reb %llu, rebs %d",
		         (unsigned long long)g_spent_items, (unsigned long long)g_at_tmr_items,
		         (unsigned long long)g_last_reb_items, atomic_load(&g_rebs));
	assert_int_equal(atomic_load(&g_at_tmr_items), 0);
	assert_int_equal(atomic_load(&g_last_reb_items), 10);
	assert_true(atomic_load(&g_rebs) >= 2); /* 10 (a alone), 0 (b too), then 10 */
	stop(&r, 3000);
}

/* A publisher whose value does not change (a queue emptied as fast as it
 * fills) still gives back what was spent from it two hops upstream: the
 * otlp receiver behind a batch stopped reading for good after queue_size
 * requests when only a changed value was propagated. */
static void test_reb_unchanged_republish_refreshes_spent(void **state)
{
	(void)state;
	run_t r;
	start(&r, MODE_REFRESH,
	      "nodes:\n"
	      "  src: {type: cpsrc}\n"
	      "  mid: {type: cpmid}\n"
	      "  a: {type: cppub, config: {items: 10, republish: true}}\n"
	      "connections:\n"
	      "  - {from: src, to: mid}\n"
	      "  - {from: mid, to: a}\n"
	      "runtime: {workers: 1, shutdown_timeout: 2s}\n");
	if (!wait_for(&g_acks, 1, 3000))
		fail_msg("no ACK: at tmr %llu", (unsigned long long)g_at_tmr_items);
	assert_int_equal(atomic_load(&g_at_tmr_items), 10);
	assert_int_equal(atomic_load(&g_last_reb_items), 7);
	assert_int_equal(atomic_load(&g_spent_items), 10);
	stop(&r, 3000);
}

/* mid absorbs budgets: nothing reaches src. */
static void test_reb_absorbed(void **state)
{
	(void)state;
	run_t r;
	start(&r, MODE_REB, FANOUT_YAML("true"));
	assert_true(wait_for(&g_acks, 1, 3000));
	assert_int_equal(atomic_load(&g_at_tmr_items), OTF_BUDGET_UNLIMITED);
	assert_int_equal(atomic_load(&g_rebs), 0);
	stop(&r, 3000);
}

/* A node that answers its own NACKs at once never runs out of control
 * signals: timers still fire and shutdown still ends. Before each turn
 * took only what was queued at its start, the worker spun here forever. */
static void test_nack_storm_does_not_starve_timers_or_shutdown(void **state)
{
	(void)state;
	run_t r;
	start(&r, MODE_STORM,
	      "nodes:\n"
	      "  src: {type: cpsrc}\n"
	      "  a: {type: cppub}\n"
	      "connections:\n"
	      "  - {from: src, to: a}\n"
	      "runtime: {workers: 1, shutdown_timeout: 2s}\n");
	if (!wait_for(&g_ticks, 5, 3000))
		fail_msg("5 ms timer fired %d times in 3 s during a NACK storm",
		         atomic_load(&g_ticks));
	assert_true(atomic_load(&g_storm) > 100);
	stop(&r, 3000);
}

/* The source fills its consumer's channel on every tick: acknowledgements
 * (control) keep coming and timers keep firing; shutdown ends in time. */
static void test_data_flood_does_not_starve_control(void **state)
{
	(void)state;
	run_t r;
	start(&r, MODE_DATA,
	      "nodes:\n"
	      "  src: {type: cpsrc}\n"
	      "  a: {type: cppub}\n"
	      "connections:\n"
	      "  - {from: src, to: a}\n"
	      "runtime: {workers: 1, shutdown_timeout: 2s}\n");
	if (!wait_for(&g_ticks, 20, 5000))
		fail_msg("timer fired %d times in 5 s under a data flood", atomic_load(&g_ticks));
	assert_true(wait_for(&g_acks, 1000, 5000));
	assert_true(atomic_load(&g_sent) >= 1000);
	stop(&r, 3000);
}

static int setup(void **state)
{
	(void)state;
	otf_components_register_builtins();
	otf_component_register(&k_src);
	otf_component_register(&k_pub);
	otf_component_register(&k_mid);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reb_fanout_minimum_and_spend),
	    cmocka_unit_test(test_reb_absorbed),
	    cmocka_unit_test(test_reb_unchanged_republish_refreshes_spent),
	    cmocka_unit_test(test_nack_storm_does_not_starve_timers_or_shutdown),
	    cmocka_unit_test(test_data_flood_does_not_starve_control),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
