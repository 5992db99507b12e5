/* connector `forward`: joins pipelines of the same signal; the message is
 * passed on as it is (same payload, same acknowledgement path). */
#include "otflow/alloc.h"
#include "otflow/component.h"
#include "otflow/err.h"

#include <errno.h>

typedef struct forward {
	otf_node_t *node;
} forward_t;

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	forward_t *f = otf_calloc(1, sizeof *f);
	if (!f)
		return OTF_E_NOMEM;
	f->node = ctx->node;
	*inst = f;
	return 0;
}

static void consume(void *inst, otf_msg_t *m)
{
	forward_t *f = inst;
	int rc = otf_node_send(f->node, m);
	if (rc)
		/* Downstream full or gone: the sender learns it is retryable. */
		otf_msg_nack(m, rc, false,
		             rc == -EAGAIN ? "downstream queue full" : otf_strerror(rc));
}

static void control(void *inst, const otf_ctrl_t *c)
{
	forward_t *f = inst;
	if (c->type == OTF_CTRL_KIL)
		otf_node_shutdown_done(f->node);
	if (c->payload)
		otf_buf_unref(c->payload);
}

static void destroy(void *inst)
{
	otf_free(inst);
}

const otf_component_factory_t otf_connector_forward_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_CONNECTOR,
    .type = "forward",
    .description = "Passes data from pipelines of one signal to pipelines of the same signal.",
    .stability = {OTF_STABILITY_BETA, OTF_STABILITY_BETA, OTF_STABILITY_BETA},
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .destroy = destroy,
};
