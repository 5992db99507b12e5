/* connector `count`: traces, metrics or logs in, counts out as metrics
 * (the Collector's countconnector). Each consumed request makes one
 * metrics request at once (no state between requests, delta sums). As in
 * the Collector, where ConsumeTraces returns the metrics consumer's
 * error, the input's outcome is the outcome of its counts: the node
 * subscribes to the message it creates and acks or nacks the input when
 * that answer comes back. */
#include "count.h"

#include "otflow/alloc.h"
#include "otflow/component.h"
#include "otflow/engine.h"
#include "otflow/err.h"

#include <errno.h>
#include <string.h>
#include <time.h>

typedef struct count_node {
	otf_node_t *node;
	const otf_count_config_t *cfg;
	otf_msg_t **pending; /* inputs waiting for their counts' outcome; slot = calldata */
	size_t cap, npending;
	bool stopping;
} count_node_t;

static uint64_t unix_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	count_node_t *c = otf_calloc(1, sizeof *c);
	if (!c)
		return OTF_E_NOMEM;
	c->node = ctx->node;
	c->cfg = ctx->config;
	*inst = c;
	return 0;
}

static int64_t pending_put(count_node_t *c, otf_msg_t *m)
{
	for (size_t i = 0; i < c->cap; i++)
		if (!c->pending[i]) {
			c->pending[i] = m;
			c->npending++;
			return (int64_t)i;
		}
	size_t cap = c->cap ? c->cap * 2 : 16;
	otf_msg_t **p = otf_realloc(c->pending, cap * sizeof *p);
	if (!p)
		return -1;
	memset(p + c->cap, 0, (cap - c->cap) * sizeof *p);
	c->pending = p;
	size_t i = c->cap;
	c->cap = cap;
	c->pending[i] = m;
	c->npending++;
	return (int64_t)i;
}

static void consume(void *inst, otf_msg_t *m)
{
	count_node_t *c = inst;
	otf_buf_t *p = otf_msg_payload(m);
	otf_buf_t *out;
	uint64_t points;
	char err[160];
	int rc = otf_count_build(c->cfg, otf_msg_signal(m), p->data, p->len, unix_now(), &out,
	                         &points, err, sizeof err);
	if (rc) {
		otf_msg_nack(m, rc, rc != OTF_E_NOMEM, err);
		return;
	}
	if (!out) {
		otf_msg_ack(m);
		return;
	}
	otf_msg_t *cm = otf_msg_create(c->node, OTF_SIGNAL_METRICS, out, points);
	int64_t slot = cm ? pending_put(c, m) : -1;
	if (slot < 0) {
		if (cm)
			otf_msg_drop(cm);
		otf_msg_nack(m, OTF_E_NOMEM, false, "count: out of memory");
		return;
	}
	if (otf_msg_copy_envelope(cm, m) ||
	    otf_msg_subscribe(cm, c->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK, (uint64_t)slot)) {
		rc = OTF_E_NOMEM;
	} else if ((rc = otf_node_send(c->node, cm)) == 0) {
		return;
	}
	c->pending[slot] = NULL;
	c->npending--;
	otf_msg_drop(cm);
	otf_msg_nack(m, rc, false, rc == -EAGAIN ? "downstream queue full" : otf_strerror(rc));
}

static void control(void *inst, const otf_ctrl_t *ctl)
{
	count_node_t *c = inst;
	if (ctl->type == OTF_CTRL_ACK || ctl->type == OTF_CTRL_NACK) {
		size_t i = (size_t)ctl->calldata;
		otf_msg_t *m = i < c->cap ? c->pending[i] : NULL;
		if (m) {
			c->pending[i] = NULL;
			c->npending--;
			if (ctl->type == OTF_CTRL_ACK)
				otf_msg_ack(m);
			else
				otf_msg_nack(m, ctl->error, ctl->permanent, ctl->reason);
		}
	} else if (ctl->type == OTF_CTRL_KIL) {
		c->stopping = true;
	}
	/* Shutdown waits for the outcomes still due: downstream is running
	 * until this node reports done. */
	if (c->stopping && !c->npending) {
		c->stopping = false;
		otf_node_shutdown_done(c->node);
	}
	if (ctl->payload)
		otf_buf_unref(ctl->payload);
}

static void destroy(void *inst)
{
	count_node_t *c = inst;
	for (size_t i = 0; i < c->cap; i++)
		if (c->pending[i])
			otf_msg_drop(c->pending[i]); /* shutdown timed out: the engine counts it */
	otf_free(c->pending);
	otf_free(c);
}

const otf_component_factory_t otf_connector_count_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_CONNECTOR,
    .type = "count",
    .description = "Counts spans, span events, metrics, data points and log records as metrics.",
    .stability = {OTF_STABILITY_ALPHA, OTF_STABILITY_ALPHA, OTF_STABILITY_ALPHA},
    .config_schema = otf_count_schema,
    .config_size = sizeof(otf_count_config_t),
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .destroy = destroy,
    .connector_pairs = {OTF_SIGNAL_BIT(OTF_SIGNAL_METRICS), OTF_SIGNAL_BIT(OTF_SIGNAL_METRICS),
                        OTF_SIGNAL_BIT(OTF_SIGNAL_METRICS)},
};
