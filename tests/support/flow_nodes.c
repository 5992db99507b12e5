/* Test source and sinks for DAG tests (flow_nodes.h). */
#include "flow_nodes.h"

#include "otflow/alloc.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

otf_tf_state_t otf_tf;

typedef struct queued {
	otf_signal_t signal;
	otf_buf_t *payload;
	uint64_t items;
} queued_t;

static queued_t g_queue[OTF_TF_MAX];
static int g_nqueue;
static _Atomic int g_next; /* index of the next message the source makes (calldata) */
static otf_buf_t *(*g_payload_fn)(int i);
static otf_signal_t g_payload_signal;

void otf_tf_set_payloads(otf_buf_t *(*fn)(int i), otf_signal_t signal)
{
	g_payload_fn = fn;
	g_payload_signal = signal;
}

uint64_t otf_tf_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void otf_tf_reset(void)
{
	for (int s = 0; s < OTF_TF_SINKS; s++)
		for (int i = 0; i < OTF_TF_MAX; i++)
			if (otf_tf.sink[s].payload[i])
				otf_buf_unref(otf_tf.sink[s].payload[i]);
	for (int i = 0; i < g_nqueue; i++)
		otf_buf_unref(g_queue[i].payload);
	g_nqueue = 0;
	g_next = 0;
	memset(&otf_tf, 0, sizeof otf_tf);
}

int otf_tf_teardown(void **state)
{
	(void)state;
	otf_tf_reset();
	return 0;
}

void otf_tf_add(otf_signal_t s, otf_buf_t *payload, uint64_t items)
{
	assert_true(g_nqueue < OTF_TF_MAX);
	g_queue[g_nqueue++] = (queued_t){s, payload, items};
}

void otf_tf_await_answers(int n, int ms)
{
	for (int i = 0; i < ms && atomic_load(&otf_tf.acks) + atomic_load(&otf_tf.nacks) < n; i++)
		usleep(1000);
	int got = atomic_load(&otf_tf.acks) + atomic_load(&otf_tf.nacks);
	if (got < n)
		fail_msg("only %d of %d messages answered within %d ms", got, n, ms);
}

void otf_tf_await_seen(int slot, int n, int ms)
{
	for (int i = 0; i < ms && atomic_load(&otf_tf.sink[slot].seen) < n; i++)
		usleep(1000);
	int got = atomic_load(&otf_tf.sink[slot].seen);
	if (got < n)
		fail_msg("sink %d saw only %d of %d messages within %d ms", slot, got, n, ms);
}

bool otf_tf_was_sent(uint64_t id)
{
	for (int i = 0; i < atomic_load(&otf_tf.sent) && i < OTF_TF_MAX; i++)
		if (atomic_load(&otf_tf.sent_ids[i]) == id)
			return true;
	return false;
}

/* ---- tf_src ---- */

typedef struct src_cfg {
	uint64_t count;
	int64_t payload;
	uint64_t items;
	char *header2;
	int64_t signal;
	int64_t deadline_ms;
	uint64_t delay_ms;
	uint64_t again_ms;
	uint64_t repeat;
	char *header;
	bool nosub;
} src_cfg_t;

typedef struct tnode {
	otf_node_t *node;
	const void *cfg;
	int64_t failed;
	otf_msg_t *held[OTF_TF_MAX];
	size_t nheld;
} tnode_t;

static int t_create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	tnode_t *t = otf_calloc(1, sizeof *t);
	if (!t)
		return OTF_E_NOMEM;
	t->node = ctx->node;
	t->cfg = ctx->config;
	*inst = t;
	return 0;
}

static void t_destroy(void *inst)
{
	otf_free(inst);
}

static int src_start(void *inst)
{
	tnode_t *t = inst;
	const src_cfg_t *c = t->cfg;
	otf_node_timer_start(t->node, c->delay_ms ? c->delay_ms : 1, 0, 1);
	return 0;
}

static void add_header(otf_msg_t *m, const char *kv)
{
	const char *eq = kv ? strchr(kv, '=') : NULL;
	if (!eq)
		return;
	char k[128];
	snprintf(k, sizeof k, "%.*s", (int)(eq - kv), kv);
	otf_msg_header_add(m, k, eq + 1);
}

static void src_send(tnode_t *t, otf_signal_t s, otf_buf_t *payload, uint64_t items,
                     const char *header)
{
	const src_cfg_t *c = t->cfg;
	otf_msg_t *m = otf_msg_create(t->node, s, payload, items);
	if (!m) {
		atomic_fetch_add(&otf_tf.send_failed, 1);
		return;
	}
	/* atomic: each worker's instance sends */
	int index = atomic_fetch_add(&g_next, 1);
	if (!c->nosub)
		otf_msg_subscribe(m, t->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK,
		                  (uint64_t)index);
	uint64_t now = otf_tf_now_ns();
	if (c->deadline_ms)
		otf_msg_set_deadline(m, (uint64_t)((int64_t)now + c->deadline_ms * 1000000));
	add_header(m, header);
	uint64_t id = otf_msg_id(m);
	atomic_store(&otf_tf.sent_ns, now);
	if (otf_node_send(t->node, m)) {
		/* Refused at the handover: an answer like any refusal. */
		otf_msg_drop(m);
		atomic_fetch_add(&otf_tf.send_failed, 1);
		atomic_fetch_add(&otf_tf.nacks, 1);
		return;
	}
	int k = atomic_fetch_add(&otf_tf.sent, 1);
	if (k < OTF_TF_MAX)
		atomic_store(&otf_tf.sent_ids[k], id);
}

static void src_control(void *inst, const otf_ctrl_t *c)
{
	tnode_t *t = inst;
	const src_cfg_t *cfg = t->cfg;
	switch (c->type) {
	case OTF_CTRL_TMR:
		if (cfg->again_ms && c->calldata <= cfg->repeat)
			otf_node_timer_start(t->node, cfg->again_ms, 0, c->calldata + 1);
		if (g_nqueue) {
			for (int i = 0; i < g_nqueue; i++)
				src_send(t, g_queue[i].signal, otf_buf_ref(g_queue[i].payload),
				         g_queue[i].items, cfg->header);
		} else if (cfg->payload >= 0 && g_payload_fn) {
			for (uint64_t i = 0; i < cfg->count; i++)
				src_send(t, g_payload_signal, g_payload_fn((int)cfg->payload),
				         cfg->items, cfg->header);
			if (cfg->header2)
				src_send(t, g_payload_signal, g_payload_fn((int)cfg->payload),
				         cfg->items, cfg->header2);
		} else {
			static const char span[] = {0x0a, 0x04, 0x12, 0x02, 0x12, 0x00};
			for (uint64_t i = 0; i < cfg->count; i++)
				src_send(t, (otf_signal_t)cfg->signal,
				         otf_buf_create_copy(span, sizeof span), 1, cfg->header);
		}
		break;
	case OTF_CTRL_ACK:
	case OTF_CTRL_NACK: {
		int k = atomic_load(&otf_tf.acks) + atomic_load(&otf_tf.nacks);
		if (k < OTF_TF_MAX)
			atomic_store(&otf_tf.answered_ns[k], otf_tf_now_ns());
		uint64_t i = c->calldata; /* the message's index */
		if (i < OTF_TF_MAX) {
			atomic_store(&otf_tf.answer_items[i], c->items);
			if (c->type == OTF_CTRL_NACK) {
				otf_tf.permanent[i] = c->permanent;
				snprintf(otf_tf.reasons[i], sizeof otf_tf.reasons[i], "%s",
				         c->reason);
			}
			atomic_fetch_add(
			    c->type == OTF_CTRL_ACK ? &otf_tf.acked[i] : &otf_tf.nacked[i], 1);
		}
		if (c->type == OTF_CTRL_ACK) {
			atomic_fetch_add(&otf_tf.acks, 1);
			break;
		}
		snprintf(otf_tf.reason, sizeof otf_tf.reason, "%s", c->reason);
		atomic_store(&otf_tf.error, c->error);
		atomic_store(&otf_tf.retry_after_ns, c->retry_after_ns);
		if (c->permanent)
			atomic_fetch_add(&otf_tf.nack_permanent, 1);
		atomic_fetch_add(&otf_tf.nacks, 1);
		break;
	}
	case OTF_CTRL_KIL:
		otf_node_shutdown_done(t->node);
		break;
	default:
		break;
	}
	if (c->payload)
		otf_buf_unref(c->payload);
}

static const otf_config_field_t k_src_schema[] = {
    {.key = "count", .type = OTF_CFG_UINT, .offset = offsetof(src_cfg_t, count), .def = "1"},
    {.key = "payload", .type = OTF_CFG_INT, .offset = offsetof(src_cfg_t, payload), .def = "-1"},
    {.key = "items", .type = OTF_CFG_UINT, .offset = offsetof(src_cfg_t, items), .def = "1"},
    {.key = "header2", .type = OTF_CFG_STRING, .offset = offsetof(src_cfg_t, header2)},
    {.key = "signal",
     .type = OTF_CFG_INT,
     .offset = offsetof(src_cfg_t, signal),
     .def = "0",
     .min = "0",
     .max = "2"},
    {.key = "deadline_ms", .type = OTF_CFG_INT, .offset = offsetof(src_cfg_t, deadline_ms)},
    {.key = "delay_ms", .type = OTF_CFG_UINT, .offset = offsetof(src_cfg_t, delay_ms)},
    {.key = "again_ms", .type = OTF_CFG_UINT, .offset = offsetof(src_cfg_t, again_ms)},
    {.key = "repeat", .type = OTF_CFG_UINT, .offset = offsetof(src_cfg_t, repeat), .def = "1"},
    {.key = "header", .type = OTF_CFG_STRING, .offset = offsetof(src_cfg_t, header)},
    {.key = "nosub", .type = OTF_CFG_BOOL, .offset = offsetof(src_cfg_t, nosub)},
    OTF_CONFIG_FIELD_END,
};

static const otf_component_factory_t k_src = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_RECEIVER,
    .type = "tf_src",
    .description = "test source",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_src_schema,
    .config_size = sizeof(src_cfg_t),
    .create = {t_create, t_create, t_create},
    .start = src_start,
    .control = src_control,
    .destroy = t_destroy,
};

/* ---- tf_sink ---- */

typedef struct sink_cfg {
	int64_t slot;
	int64_t fail;    /* -1 = always */
	int64_t nack_at; /* -1 = none */
	char *reason;
	bool permanent;
	uint64_t throttle_ms;
	bool hold;
	bool queued;
} sink_cfg_t;

static void sink_consume(void *inst, otf_msg_t *m)
{
	tnode_t *t = inst;
	const sink_cfg_t *c = t->cfg;
	otf_tf_sink_rec_t *r = &otf_tf.sink[c->slot];
	const uint64_t *src;
	size_t nsrc = otf_msg_sources(m, &src);
	for (size_t i = 0; i < nsrc; i++) {
		int at = atomic_fetch_add(&r->nsources, 1);
		if (at < OTF_TF_MAX)
			atomic_store(&r->sources[at], src[i]);
	}
	int k = atomic_load(&r->seen);
	if (k < OTF_TF_MAX) {
		atomic_store(&r->id[k], otf_msg_id(m));
		atomic_store(&r->source[k], nsrc ? src[0] : 0);
		atomic_store(&r->items[k], otf_msg_items(m));
		atomic_store(&r->signal[k], (int)otf_msg_signal(m));
		atomic_store(&r->deadline[k], otf_msg_deadline(m));
		atomic_store(&r->arrived_ns[k], otf_tf_now_ns());
		r->payload[k] = otf_buf_ref(otf_msg_payload(m));
	}
	atomic_fetch_add(&r->seen, 1);
	if (c->queued)
		otf_msg_queued(m); /* as an exporter's sending queue taking it */
	if (k == c->nack_at) {
		atomic_fetch_add(&r->nacked, 1);
		otf_msg_nack(m, OTF_E_IO, false, c->reason);
	} else if (c->fail < 0 || t->failed < c->fail) {
		t->failed++;
		atomic_fetch_add(&r->nacked, 1);
		if (c->throttle_ms)
			otf_msg_nack_throttled(m, -EAGAIN, c->throttle_ms * 1000000ull,
			                       "sink throttled");
		else
			otf_msg_nack(m, OTF_E_IO, c->permanent, c->reason);
	} else if (c->hold && t->nheld < OTF_TF_MAX) {
		t->held[t->nheld++] = m;
	} else {
		atomic_fetch_add(&r->acked, 1);
		otf_msg_ack(m);
	}
}

static void sink_control(void *inst, const otf_ctrl_t *c)
{
	tnode_t *t = inst;
	if (c->type == OTF_CTRL_CAN) {
		/* As an exporter's send not yet started: skipped. */
		for (size_t i = 0; i < t->nheld; i++) {
			if (otf_msg_id(t->held[i]) != c->msg_id)
				continue;
			atomic_fetch_add(&otf_tf.sink[((const sink_cfg_t *)t->cfg)->slot].cancelled,
			                 1);
			otf_msg_nack(t->held[i], -ECANCELED, true, c->reason);
			t->held[i] = t->held[--t->nheld];
			break;
		}
	}
	if (c->type == OTF_CTRL_KIL) {
		const sink_cfg_t *cfg = t->cfg;
		for (size_t i = 0; i < t->nheld; i++) {
			atomic_fetch_add(&otf_tf.sink[cfg->slot].acked, 1);
			otf_msg_ack(t->held[i]);
		}
		t->nheld = 0;
		otf_node_shutdown_done(t->node);
	}
	if (c->payload)
		otf_buf_unref(c->payload);
}

static const otf_config_field_t k_sink_schema[] = {
    {.key = "slot",
     .type = OTF_CFG_INT,
     .offset = offsetof(sink_cfg_t, slot),
     .def = "0",
     .min = "0",
     .max = "3"},
    {.key = "fail", .type = OTF_CFG_INT, .offset = offsetof(sink_cfg_t, fail), .def = "0"},
    {.key = "nack_at", .type = OTF_CFG_INT, .offset = offsetof(sink_cfg_t, nack_at), .def = "-1"},
    {.key = "reason",
     .type = OTF_CFG_STRING,
     .offset = offsetof(sink_cfg_t, reason),
     .def = "sink down"},
    {.key = "permanent", .type = OTF_CFG_BOOL, .offset = offsetof(sink_cfg_t, permanent)},
    {.key = "throttle_ms", .type = OTF_CFG_UINT, .offset = offsetof(sink_cfg_t, throttle_ms)},
    {.key = "hold", .type = OTF_CFG_BOOL, .offset = offsetof(sink_cfg_t, hold)},
    {.key = "queued", .type = OTF_CFG_BOOL, .offset = offsetof(sink_cfg_t, queued)},
    OTF_CONFIG_FIELD_END,
};

static const otf_component_factory_t k_sink = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXPORTER,
    .type = "tf_sink",
    .description = "test sink",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_sink_schema,
    .config_size = sizeof(sink_cfg_t),
    .create = {t_create, t_create, t_create},
    .consume = {sink_consume, sink_consume, sink_consume},
    .control = sink_control,
    .destroy = t_destroy,
};

void otf_tf_register(void)
{
	if (!otf_component_find(OTF_KIND_RECEIVER, "tf_src"))
		otf_component_register(&k_src);
	if (!otf_component_find(OTF_KIND_EXPORTER, "tf_sink"))
		otf_component_register(&k_sink);
}
