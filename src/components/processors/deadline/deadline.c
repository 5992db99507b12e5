/* processor `deadline` (deadline controller, seeds/dataflow-mechanics.md):
 * gives each message an absolute deadline (otf_msg_set_deadline) from a
 * policy, so that every node after it stops working on the message once
 * the client can no longer use the answer:
 *
 *   - a client that sent a timeout (gRPC `grpc-timeout`: the otlp receiver
 *     turns it into the message's deadline; or the header itself when the
 *     metadata was kept) gets that deadline, capped at max_timeout from
 *     now (client_timeout: true, the default);
 *   - every other message, HTTP requests included, gets now + the timeout
 *     of its signal (timeout_traces / _metrics / _logs, else timeout;
 *     0 = none).
 *
 * A deadline is never moved later than one the message already has. A
 * message whose deadline has already passed is nacked at once, retryable,
 * with -ETIMEDOUT (receivers answer DEADLINE_EXCEEDED / 504). Nodes that
 * hold messages honour the deadline: retry and the exporters' retry stop,
 * failover_router does not resend past it, batch flushes early enough and
 * the sending queue nacks what expires in it, all with -ETIMEDOUT.
 *
 * The deadline is also enforced here (CAN, otflow/component.h): a message
 * with a deadline travels on as a copy of this node's own (same payload,
 * envelope, items; the original's id as its source) that this node
 * subscribes to, and a timer waits for its deadline (plus GRACE_MS). The
 * copy's outcome answers the original and stops the timer. When the timer
 * fires first,
 * the original is nacked -ETIMEDOUT at once (the client gets
 * DEADLINE_EXCEEDED / 504 at its deadline, whatever downstream is doing)
 * and the copy is cancelled: queued copies are dropped, retries stop, a
 * send not yet started is skipped, one in flight aborted where the
 * protocol allows, also in nodes that do not watch deadlines themselves
 * (plugins). Counted as cancelled here. Its late outcome is then ignored.
 * A CAN of the original (its client left) passes on to the copy. A
 * message without a deadline is passed on as it is (same id). */
#include "otflow/alloc.h"
#include "otflow/component.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <uv.h>

typedef struct deadline_config {
	int64_t timeout_ns;
	int64_t timeout_sig_ns[OTF_SIGNAL_COUNT];
	bool client_timeout;
	int64_t max_timeout_ns;
} deadline_config_t;

/* A message travelling on as a copy (see the top of this file). */
typedef struct held held_t;
struct held {
	held_t *prev, *next;
	otf_msg_t *orig;  /* answered once; NULL once expired */
	uint64_t orig_id; /* CAN of the original finds it */
	uint64_t copy_id;
	int64_t timer_id; /* > 0 while waiting for the deadline */
	otf_signal_t signal;
	uint64_t items;
};

#define GRACE_MS 2

typedef struct deadline {
	otf_node_t *node;
	uv_loop_t *loop;
	const deadline_config_t *cfg;
	held_t *list;
} deadline_t;

static const otf_config_field_t k_schema[] = {
    {.key = "timeout",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(deadline_config_t, timeout_ns),
     .def = "5s",
     .min = "0s",
     .desc = "Deadline from now for a message without a client timeout (0 = none)."},
    {.key = "timeout_traces",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(deadline_config_t, timeout_sig_ns[0]),
     .def = "0s",
     .min = "0s",
     .desc = "Traces' own timeout (0 = timeout)."},
    {.key = "timeout_metrics",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(deadline_config_t, timeout_sig_ns[1]),
     .def = "0s",
     .min = "0s",
     .desc = "Metrics' own timeout (0 = timeout)."},
    {.key = "timeout_logs",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(deadline_config_t, timeout_sig_ns[2]),
     .def = "0s",
     .min = "0s",
     .desc = "Logs' own timeout (0 = timeout)."},
    {.key = "client_timeout",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(deadline_config_t, client_timeout),
     .def = "true",
     .desc = "Use the client's own timeout (gRPC grpc-timeout) when it sent one, instead of "
             "the signal's timeout."},
    {.key = "max_timeout",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(deadline_config_t, max_timeout_ns),
     .def = "30s",
     .min = "0s",
     .desc = "Cap on a client's timeout, from now (0 = no cap)."},
    OTF_CONFIG_FIELD_END,
};

static uint64_t now_unix_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_REALTIME, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* grpc-timeout: 1 to 8 digits and a unit H M S m u n (gRPC over HTTP/2,
 * "Timeout"); 0 when malformed. */
static uint64_t grpc_timeout_ns(const char *s)
{
	uint64_t v = 0;
	size_t n = 0;
	while (n < 8 && isdigit((unsigned char)s[n]))
		v = v * 10 + (uint64_t)(s[n++] - '0');
	if (!n || !s[n] || s[n + 1])
		return 0;
	switch (s[n]) {
	case 'H':
		return v * 3600ull * 1000000000ull;
	case 'M':
		return v * 60ull * 1000000000ull;
	case 'S':
		return v * 1000000000ull;
	case 'm':
		return v * 1000000ull;
	case 'u':
		return v * 1000ull;
	case 'n':
		return v;
	default:
		return 0;
	}
}

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	deadline_t *d = otf_calloc(1, sizeof *d);
	if (!d)
		return OTF_E_NOMEM;
	d->node = ctx->node;
	d->loop = otf_node_loop(ctx->node);
	d->cfg = ctx->config;
	*inst = d;
	return 0;
}

static void unlink_held(deadline_t *d, held_t *h)
{
	if (h->timer_id > 0)
		otf_node_timer_stop(d->node, h->timer_id);
	if (h->prev)
		h->prev->next = h->next;
	else
		d->list = h->next;
	if (h->next)
		h->next->prev = h->prev;
	otf_free(h);
}

/* m (deadline want, later than now) goes on as a copy watched by a timer;
 * false when that cannot be set up (nothing sent, m still the caller's). */
static bool send_watched(deadline_t *d, otf_msg_t *m, uint64_t want, uint64_t now)
{
	held_t *h = otf_calloc(1, sizeof *h);
	if (!h)
		return false;
	otf_msg_t *c = otf_msg_create(d->node, otf_msg_signal(m), otf_buf_ref(otf_msg_payload(m)),
	                              otf_msg_items(m));
	if (!c || otf_msg_add_source(c, otf_msg_id(m)) || otf_msg_copy_envelope(c, m) ||
	    otf_msg_subscribe(c, d->node,
	                      OTF_INTEREST_ACK | OTF_INTEREST_NACK | OTF_INTEREST_QUEUED,
	                      (uint64_t)(uintptr_t)h)) {
		if (c)
			otf_msg_drop(c);
		otf_free(h);
		return false;
	}
	otf_msg_set_deadline(c, want);
	/* This node is the backstop: its timer fires GRACE_MS after the
	 * deadline, on a fresh loop clock, so that a node after it that
	 * watches the deadline itself (retry, a sending queue, an exporter's
	 * attempt) answers first with its own reason, and only a message
	 * nobody gave up on is expired here. */
	uv_update_time(d->loop);
	uint64_t ms = (want - now + 999999) / 1000000 + GRACE_MS;
	h->timer_id = otf_node_timer_start(d->node, ms, 0, (uint64_t)(uintptr_t)h);
	if (h->timer_id <= 0) {
		otf_msg_drop(c);
		otf_free(h);
		return false;
	}
	h->orig = m;
	h->orig_id = otf_msg_id(m);
	h->copy_id = otf_msg_id(c);
	h->signal = otf_msg_signal(m);
	h->items = otf_msg_items(m);
	h->next = d->list;
	if (d->list)
		d->list->prev = h;
	d->list = h;
	int rc = otf_node_send(d->node, c);
	if (rc) {
		otf_msg_drop(c);
		h->orig = NULL;
		unlink_held(d, h);
		otf_msg_nack(m, rc, false,
		             rc == -EAGAIN ? "downstream queue full" : otf_strerror(rc));
	}
	return true;
}

static void consume(void *inst, otf_msg_t *m)
{
	deadline_t *d = inst;
	const deadline_config_t *cfg = d->cfg;
	uint64_t now = now_unix_ns();
	uint64_t have = otf_msg_deadline(m), want = 0;
	uint64_t client = 0;
	if (cfg->client_timeout) {
		client = have;
		const char *h = otf_msg_header_get(m, "grpc-timeout");
		uint64_t t = h ? grpc_timeout_ns(h) : 0;
		if (t && (!client || now + t < client))
			client = now + t;
	}
	if (client) {
		want = client;
		if (cfg->max_timeout_ns && want > now + (uint64_t)cfg->max_timeout_ns)
			want = now + (uint64_t)cfg->max_timeout_ns;
	} else {
		otf_signal_t s = otf_msg_signal(m);
		int64_t t = cfg->timeout_sig_ns[s] ? cfg->timeout_sig_ns[s] : cfg->timeout_ns;
		if (t)
			want = now + (uint64_t)t;
	}
	if (have && (!want || have < want))
		want = have; /* never later than a deadline already set */
	if (want && want <= now) {
		otf_msg_nack(m, -ETIMEDOUT, false, "deadline: the deadline has already passed");
		return;
	}
	if (want && send_watched(d, m, want, now))
		return;
	/* No deadline, or no memory for watching it: passed on as it is (the
	 * nodes after this one still honour the deadline). */
	if (want)
		otf_msg_set_deadline(m, want);
	int rc = otf_node_send(d->node, m);
	if (rc)
		otf_msg_nack(m, rc, false,
		             rc == -EAGAIN ? "downstream queue full" : otf_strerror(rc));
}

/* The deadline passed before the copy's outcome: answer, then cancel. */
static void expire(deadline_t *d, held_t *h)
{
	h->timer_id = 0;
	if (!h->orig)
		return;
	otf_msg_t *m = h->orig;
	h->orig = NULL; /* the copy's outcome, when it comes, only frees h */
	otf_node_count(d->node, OTF_COUNTER_CANCELLED, h->signal, h->items);
	otf_msg_nack(m, -ETIMEDOUT, false, "deadline: deadline exceeded");
	otf_msg_cancel(d->node, h->copy_id, "deadline exceeded");
}

static void on_outcome(deadline_t *d, held_t *h, const otf_ctrl_t *c)
{
	if (h->orig) {
		if (c->type == OTF_CTRL_ACK)
			otf_msg_ack(h->orig);
		else if (c->retry_after_ns && !c->permanent)
			otf_msg_nack_throttled(h->orig, c->error, c->retry_after_ns, c->reason);
		else
			otf_msg_nack(h->orig, c->error, c->permanent, c->reason);
	}
	unlink_held(d, h);
}

static void control(void *inst, const otf_ctrl_t *c)
{
	deadline_t *d = inst;
	held_t *h = (held_t *)(uintptr_t)c->calldata;
	switch (c->type) {
	case OTF_CTRL_ACK:
	case OTF_CTRL_NACK:
		on_outcome(d, h, c);
		break;
	case OTF_CTRL_QUEUED:
		/* Passed up: the copy stands for the original (an ack node's
		 * pre_export above still hears its sending queue). */
		if (h->orig)
			otf_msg_queued(h->orig);
		break;
	case OTF_CTRL_TMR:
		expire(d, h);
		break;
	case OTF_CTRL_CAN:
		/* The original's client left: its copy goes too (the copy's
		 * outcome still answers the original). */
		for (held_t *w = d->list; w; w = w->next)
			if (w->orig_id == c->msg_id) {
				otf_msg_cancel(d->node, w->copy_id,
				               c->reason[0] ? c->reason : "cancelled");
				break;
			}
		break;
	case OTF_CTRL_KIL:
		/* Copies in flight are answered downstream; timers may still
		 * fire until destroy. */
		otf_node_shutdown_done(d->node);
		break;
	default:
		break;
	}
	if (c->payload)
		otf_buf_unref(c->payload);
}

static void destroy(void *inst)
{
	deadline_t *d = inst;
	/* Outcomes that never came (the downstream node timed out): the
	 * originals are dropped unanswered, as the engine does at shutdown. */
	while (d->list) {
		if (d->list->orig)
			otf_msg_drop(d->list->orig);
		d->list->timer_id = 0;
		unlink_held(d, d->list);
	}
	otf_free(d);
}

const otf_component_factory_t otf_processor_deadline_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "deadline",
    .description = "Deadline controller: gives each message a deadline (the client's timeout "
                   "capped, or one per signal); nodes after it give up on it past that.",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_schema,
    .config_size = sizeof(deadline_config_t),
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .destroy = destroy,
};
