/* exporter `nop`: acknowledges and discards everything (a sink for
 * benchmarks and tests). */
#include "otflow/alloc.h"
#include "otflow/component.h"
#include "otflow/err.h"

typedef struct nop_exporter {
	otf_node_t *node;
} nop_exporter_t;

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	nop_exporter_t *e = otf_calloc(1, sizeof *e);
	if (!e)
		return OTF_E_NOMEM;
	e->node = ctx->node;
	*inst = e;
	return 0;
}

static void consume(void *inst, otf_msg_t *m)
{
	nop_exporter_t *e = inst;
	otf_node_count(e->node, OTF_COUNTER_SENT, otf_msg_signal(m), otf_msg_items(m));
	otf_msg_ack(m);
}

static void control(void *inst, const otf_ctrl_t *c)
{
	nop_exporter_t *e = inst;
	if (c->type == OTF_CTRL_KIL)
		otf_node_shutdown_done(e->node);
	if (c->payload)
		otf_buf_unref(c->payload);
}

static void destroy(void *inst)
{
	otf_free(inst);
}

const otf_component_factory_t otf_exporter_nop_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXPORTER,
    .type = "nop",
    .description = "Acknowledges and discards all data.",
    .stability = {OTF_STABILITY_BETA, OTF_STABILITY_BETA, OTF_STABILITY_BETA},
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .destroy = destroy,
};
