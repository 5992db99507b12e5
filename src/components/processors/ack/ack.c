/* processor `ack` (ack controller, seeds/dataflow-mechanics.md): decides
 * when a message counts as delivered for the nodes upstream of it.
 *
 *   downstream  the message is passed on as it is; upstream learns the
 *               outcome of the external system (today's behaviour).
 *   ingress     upstream is acked as soon as the message is handed on
 *               (otf_node_send_acked: the same message goes on, its id,
 *               headers and deadline kept, no copy); a later failure there
 *               is counted as dropped (otelcol_processor_dropped_*) and
 *               logged, not reported. When the subscriber upstream asked
 *               for the message back (OTF_INTEREST_RETURN_MSG), a
 *               message of the node's own carries the data on instead
 *               (same payload reference, the original's id as its source).
 *   pre_export  upstream is acked when an exporter downstream took the
 *               message into its sending queue (otf_msg_queued; with
 *               sending_queue.storage once its record is durable): the
 *               exporter owns it from there, a later failure is counted as
 *               dropped and logged as with ingress. A failure before (the
 *               queue is full, the exporter refuses it) is passed upstream
 *               as it came: the client learns its data went nowhere. An
 *               outcome that comes without the queued report (a path
 *               without a queue, or through a node that carries data on in
 *               messages of its own, such as retry or batch) is passed
 *               upstream, as with downstream.
 *
 * Ingress still honours backpressure: when the handover itself fails (full
 * channel) nothing was taken, so upstream gets the retryable failure rather
 * than a success for data that went nowhere. The copies in flight are
 * bounded by the channels downstream; with ingress the node holds nothing
 * itself, with pre_export the originals until their queued report. */
#include "otflow/alloc.h"
#include "otflow/component.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>

enum { MODE_INGRESS = 0, MODE_DOWNSTREAM = 1, MODE_PRE_EXPORT = 2 };

typedef struct ack_config {
	int mode;
} ack_config_t;

/* pre_export: an original waiting for its copy's queued report. */
typedef struct pending pending_t;
struct pending {
	pending_t *prev, *next;
	otf_msg_t *orig; /* NULL once acked upstream */
};

typedef struct ack {
	otf_node_t *node;
	const ack_config_t *cfg;
	pending_t *pending;      /* pre_export: copies in flight */
	uint64_t dropped_logged; /* drops already logged (rate limit: powers of two) */
	bool warned_unqueued;    /* pre_export: an ack came without a queued report */
	uint64_t dropped;
} ack_t;

static const char *const k_modes[] = {"ingress", "downstream", "pre_export", NULL};

static const otf_config_field_t k_schema[] = {
    {.key = "mode",
     .type = OTF_CFG_ENUM,
     .offset = offsetof(ack_config_t, mode),
     .def = "ingress",
     .enum_values = k_modes,
     .desc = "ingress: ack upstream as soon as the message is handed on, count later failures "
             "as dropped; pre_export: ack upstream when an exporter's sending queue took the "
             "message (a full queue is a retryable failure upstream), count later failures as "
             "dropped; downstream: upstream gets the outcome of the external system."},
    OTF_CONFIG_FIELD_END,
};

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	ack_t *a = otf_calloc(1, sizeof *a);
	if (!a)
		return OTF_E_NOMEM;
	a->node = ctx->node;
	a->cfg = ctx->config;
	*inst = a;
	return 0;
}

/* The node decides when data downstream of it counts as delivered: a
 * signal that arrives with nothing downstream for it would be acked (or
 * its failure counted) with nowhere to go, so that wiring is refused
 * rather than the node removed with a warning (dag.c). */
static int check_wiring(const void *config, uint32_t in, const uint32_t *ps, uint32_t nports,
                        char *err, size_t errlen)
{
	(void)config;
	uint32_t out = 0;
	for (uint32_t p = 0; p < nports; p++)
		out |= ps[p];
	for (int s = 0; s < OTF_SIGNAL_COUNT; s++)
		if (in & ~out & (1u << s)) {
			snprintf(err, errlen,
			         "%s arrive but nothing is wired downstream of this ack node: add "
			         "a connection from it",
			         otf_signal_name((otf_signal_t)s));
			return OTF_E_CONFIG;
		}
	return 0;
}

static void nack_send_failure(otf_msg_t *m, int rc)
{
	otf_msg_nack(m, rc, false, rc == -EAGAIN ? "downstream queue full" : otf_strerror(rc));
}

static void consume(void *inst, otf_msg_t *m)
{
	ack_t *a = inst;
	if (a->cfg->mode == MODE_DOWNSTREAM) {
		int rc = otf_node_send(a->node, m);
		if (rc)
			nack_send_failure(m, rc);
		return;
	}
	bool pre = a->cfg->mode == MODE_PRE_EXPORT;
	if (!pre) {
		/* Ingress: upstream is acked once the message is handed on, and
		 * the message goes on subscribed by this node (its failures are
		 * drops). */
		int hrc = otf_node_send_acked(a->node, m, OTF_INTEREST_NACK, 0);
		if (hrc != OTF_E_UNSUPPORTED) {
			if (hrc)
				nack_send_failure(m, hrc);
			return;
		}
	}
	/* pre_export, and ingress when upstream wants the message back
	 * (OTF_INTEREST_RETURN_MSG): a message of this node's own carries
	 * the data on, so that the original can be answered before its
	 * outcome. */
	pending_t *p = NULL;
	if (pre && !(p = otf_calloc(1, sizeof *p))) {
		otf_msg_nack(m, OTF_E_NOMEM, false, "ack: out of memory");
		return;
	}
	otf_signal_t s = otf_msg_signal(m);
	otf_msg_t *own =
	    otf_msg_create(a->node, s, otf_buf_ref(otf_msg_payload(m)), otf_msg_items(m));
	uint32_t interests =
	    pre ? OTF_INTEREST_QUEUED | OTF_INTEREST_ACK | OTF_INTEREST_NACK : OTF_INTEREST_NACK;
	if (!own || otf_msg_add_source(own, otf_msg_id(m)) || otf_msg_copy_envelope(own, m) ||
	    otf_msg_subscribe(own, a->node, interests, (uint64_t)(uintptr_t)p)) {
		if (own)
			otf_msg_drop(own);
		otf_free(p);
		otf_msg_nack(m, OTF_E_NOMEM, false, "ack: out of memory");
		return;
	}
	int rc = otf_node_send(a->node, own);
	if (rc) {
		otf_msg_drop(own);
		otf_free(p);
		nack_send_failure(m, rc);
		return;
	}
	if (!pre) {
		otf_msg_ack(m);
		return;
	}
	p->orig = m;
	p->next = a->pending;
	if (a->pending)
		a->pending->prev = p;
	a->pending = p;
}

static void forget(ack_t *a, pending_t *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		a->pending = p->next;
	if (p->next)
		p->next->prev = p->prev;
	otf_free(p);
}

/* A failure of data already acknowledged upstream: lost; say so. */
static void count_drop(ack_t *a, const otf_ctrl_t *c, const char *when)
{
	otf_node_count(a->node, OTF_COUNTER_DROPPED, c->signal, c->items);
	if (++a->dropped > a->dropped_logged) {
		otf_node_log(a->node, OTF_LOG_WARN,
		             "dropped %llu %s items acknowledged %s: %s "
		             "(%llu messages dropped so far)",
		             (unsigned long long)c->items, otf_signal_name(c->signal), when,
		             c->reason, (unsigned long long)a->dropped);
		a->dropped_logged = a->dropped * 2;
	}
}

static void pre_export_control(ack_t *a, const otf_ctrl_t *c)
{
	pending_t *p = (pending_t *)(uintptr_t)c->calldata;
	switch (c->type) {
	case OTF_CTRL_QUEUED:
		if (p->orig)
			otf_msg_ack(p->orig);
		p->orig = NULL;
		break;
	case OTF_CTRL_ACK:
		if (p->orig) {
			/* Delivered without passing a sending queue that reports:
			 * the mode acts as downstream here; say so once. */
			if (!a->warned_unqueued)
				otf_node_log(
				    a->node, OTF_LOG_WARN,
				    "mode pre_export: a message was delivered without a queued "
				    "report (no sending_queue with wait_for_result: true right "
				    "after this node?); acknowledging on delivery, as downstream");
			a->warned_unqueued = true;
			otf_msg_ack(p->orig);
		}
		forget(a, p);
		break;
	case OTF_CTRL_NACK:
		if (!p->orig)
			count_drop(a, c, "when queued");
		else if (c->retry_after_ns && !c->permanent)
			otf_msg_nack_throttled(p->orig, c->error, c->retry_after_ns, c->reason);
		else
			otf_msg_nack(p->orig, c->error, c->permanent, c->reason);
		forget(a, p);
		break;
	default:
		break;
	}
}

static void control(void *inst, const otf_ctrl_t *c)
{
	ack_t *a = inst;
	if (c->type == OTF_CTRL_KIL) {
		otf_node_shutdown_done(a->node);
	} else if (a->cfg->mode == MODE_PRE_EXPORT) {
		if (c->type != OTF_CTRL_TMR)
			pre_export_control(a, c);
	} else if (c->type == OTF_CTRL_NACK) {
		count_drop(a, c, "at ingress");
	}
	if (c->payload)
		otf_buf_unref(c->payload);
}

static void destroy(void *inst)
{
	ack_t *a = inst;
	/* Outcomes that never came (shutdown timed out): the originals still
	 * waiting are dropped unanswered, as the engine does. */
	while (a->pending) {
		if (a->pending->orig)
			otf_msg_drop(a->pending->orig);
		forget(a, a->pending);
	}
	otf_free(a);
}

const otf_component_factory_t otf_processor_ack_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "ack",
    .description = "Ack controller: decides when a message counts as delivered upstream "
                   "(at ingress, on reaching an exporter's queue, or on the external system's "
                   "answer).",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_schema,
    .config_size = sizeof(ack_config_t),
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .destroy = destroy,
    .check_wiring = check_wiring,
};
