/* receiver `nop`: produces nothing. Useful to keep a pipeline valid while
 * its real receiver is disabled, and in tests. */
#include "otflow/alloc.h"
#include "otflow/component.h"
#include "otflow/err.h"

typedef struct nop_receiver {
	otf_node_t *node;
} nop_receiver_t;

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	nop_receiver_t *r = otf_calloc(1, sizeof *r);
	if (!r)
		return OTF_E_NOMEM;
	r->node = ctx->node;
	*inst = r;
	return 0;
}

static void control(void *inst, const otf_ctrl_t *c)
{
	nop_receiver_t *r = inst;
	if (c->type == OTF_CTRL_KIL)
		otf_node_shutdown_done(r->node);
	if (c->payload)
		otf_buf_unref(c->payload);
}

static void destroy(void *inst)
{
	otf_free(inst);
}

const otf_component_factory_t otf_receiver_nop_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_RECEIVER,
    .type = "nop",
    .description = "Receives nothing.",
    .stability = {OTF_STABILITY_BETA, OTF_STABILITY_BETA, OTF_STABILITY_BETA},
    .create = {create, create, create},
    .control = control,
    .destroy = destroy,
};
