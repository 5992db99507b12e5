/* processor `ack` (ack controller, seeds/dataflow-mechanics.md): decides
 * when a message counts as delivered for the nodes upstream of it.
 *
 *   downstream  the message is passed on as it is; upstream learns the
 *               outcome of the external system (today's behaviour).
 *   ingress     upstream is acked as soon as the message is handed on; the
 *               node owns a copy downstream (same payload reference, id
 *               recorded as its source, headers and deadline kept) and a
 *               later failure there is counted as dropped
 *               (otelcol_processor_dropped_*) and logged, not reported.
 *
 * Ingress still honours backpressure: when the handover itself fails (full
 * channel) nothing was taken, so upstream gets the retryable failure rather
 * than a success for data that went nowhere. The copies in flight are
 * bounded by the channels downstream; the node holds nothing itself.
 * `pre_export` (ack on reaching the exporter's queue) is not offered yet:
 * it needs the exporters to report that moment. */
#include "otflow/alloc.h"
#include "otflow/component.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"

#include <errno.h>
#include <stddef.h>

enum { MODE_INGRESS = 0, MODE_DOWNSTREAM = 1 };

typedef struct ack_config {
	int mode;
} ack_config_t;

typedef struct ack {
	otf_node_t *node;
	const ack_config_t *cfg;
	uint64_t dropped_logged; /* drops already logged (rate limit: powers of two) */
	uint64_t dropped;
} ack_t;

static const char *const k_modes[] = {"ingress", "downstream", NULL};

static const otf_config_field_t k_schema[] = {
    {.key = "mode",
     .type = OTF_CFG_ENUM,
     .offset = offsetof(ack_config_t, mode),
     .def = "ingress",
     .enum_values = k_modes,
     .desc = "ingress: ack upstream as soon as the message is handed on, count later failures "
             "as dropped; downstream: upstream gets the outcome of the external system."},
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
	/* Ingress: a message of this node's own carries the data on, so that
	 * the original can be answered now. */
	otf_signal_t s = otf_msg_signal(m);
	otf_msg_t *own =
	    otf_msg_create(a->node, s, otf_buf_ref(otf_msg_payload(m)), otf_msg_items(m));
	if (!own || otf_msg_add_source(own, otf_msg_id(m)) || otf_msg_copy_envelope(own, m) ||
	    otf_msg_subscribe(own, a->node, OTF_INTEREST_NACK, 0)) {
		if (own)
			otf_msg_drop(own);
		otf_msg_nack(m, OTF_E_NOMEM, false, "ack: out of memory");
		return;
	}
	int rc = otf_node_send(a->node, own);
	if (rc) {
		otf_msg_drop(own);
		nack_send_failure(m, rc);
		return;
	}
	otf_msg_ack(m);
}

static void control(void *inst, const otf_ctrl_t *c)
{
	ack_t *a = inst;
	if (c->type == OTF_CTRL_NACK) {
		/* Already acknowledged upstream: the data is lost; say so. */
		otf_node_count(a->node, OTF_COUNTER_DROPPED, c->signal, c->items);
		if (++a->dropped > a->dropped_logged) {
			otf_node_log(a->node, OTF_LOG_WARN,
			             "dropped %llu %s items acknowledged at ingress: %s "
			             "(%llu messages dropped so far)",
			             (unsigned long long)c->items, otf_signal_name(c->signal),
			             c->reason, (unsigned long long)a->dropped);
			a->dropped_logged = a->dropped * 2;
		}
	} else if (c->type == OTF_CTRL_KIL) {
		otf_node_shutdown_done(a->node);
	}
	if (c->payload)
		otf_buf_unref(c->payload);
}

static void destroy(void *inst)
{
	otf_free(inst);
}

const otf_component_factory_t otf_processor_ack_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "ack",
    .description = "Ack controller: decides when a message counts as delivered upstream "
                   "(at ingress, or on the external system's answer).",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_schema,
    .config_size = sizeof(ack_config_t),
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .destroy = destroy,
};
