/* processor `resource` (opentelemetry-collector-contrib
 * processor/resourceprocessor): the attributes processor's actions
 * (internal/attraction.h) on resource attributes, for every signal. With
 * insert/update/upsert/delete only, the request bytes are edited in place
 * (otflow/pdata_edit.h); otherwise decoded and encoded again. */
#include "../internal/attrproc.h"

#include "otflow/alloc.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"

#include <stddef.h>
#include <stdio.h>

typedef struct resource_config {
	otf_attr_actions_t attributes;
} resource_config_t;

static const otf_config_field_t k_schema[] = {
    {.key = "attributes",
     .type = OTF_CFG_CUSTOM,
     .offset = offsetof(resource_config_t, attributes),
     .hint = "list of actions",
     .required = true,
     .parse = otf__attr_actions_parse,
     .release = otf__attr_actions_release,
     .desc = "Actions on resource attributes, in order, as the attributes processor's "
             "actions: {key, action, value | from_attribute | from_context, default_value, "
             "pattern, converted_type}."},
    OTF_CONFIG_FIELD_END,
};

static int validate(const void *config, char *err, size_t errlen)
{
	const resource_config_t *c = config;
	if (c->attributes.n == 0) {
		snprintf(err, errlen, "attributes: at least one action is required");
		return OTF_E_CONFIG;
	}
	return 0;
}

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	const resource_config_t *c = ctx->config;
	attrproc_t *p = otf_calloc(1, sizeof *p);
	if (!p)
		return OTF_E_NOMEM;
	otf__attrproc_init(p, ctx->node, &c->attributes, NULL, NULL, true);
	*inst = p;
	return 0;
}

static void consume(void *inst, otf_msg_t *m)
{
	otf__attrproc_consume(inst, m);
}

static void control(void *inst, const otf_ctrl_t *c)
{
	otf__attrproc_control(inst, c);
}

static void destroy(void *inst)
{
	otf__attrproc_close(inst);
	otf_free(inst);
}

const otf_component_factory_t otf_processor_resource_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "resource",
    .description = "Inserts, updates, upserts, deletes, hashes, extracts and converts resource "
                   "attributes (the attributes processor's actions).",
    .stability = {OTF_STABILITY_BETA, OTF_STABILITY_BETA, OTF_STABILITY_BETA},
    .config_schema = k_schema,
    .config_size = sizeof(resource_config_t),
    .validate = validate,
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .destroy = destroy,
};
