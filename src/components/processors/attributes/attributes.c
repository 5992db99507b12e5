/* processor `attributes` (opentelemetry-collector-contrib
 * processor/attributesprocessor): the configured actions on the attributes
 * of every span, log record and data point that include/exclude select.
 * Action semantics: internal/attraction.h; matching: internal/match.h.
 * Requests whose actions the byte editor does (insert/update/upsert of a
 * scalar or from_attribute, delete by key) and that need no include/
 * exclude are edited as bytes (otflow/pdata_edit.h); the others are
 * decoded, edited as a tree and encoded again. */
#include "../internal/attrproc.h"

#include "otflow/alloc.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"

#include <stddef.h>
#include <stdio.h>

typedef struct attributes_config {
	otf_attr_actions_t actions;
	otf_attr_match_t include, exclude;
} attributes_config_t;

static const otf_config_field_t k_schema[] = {
    {.key = "actions",
     .type = OTF_CFG_CUSTOM,
     .offset = offsetof(attributes_config_t, actions),
     .hint = "list of actions",
     .required = true,
     .parse = otf__attr_actions_parse,
     .release = otf__attr_actions_release,
     .desc = "Actions applied in order: {key, action: insert|update|upsert|delete|hash|extract|"
             "convert, value | from_attribute | from_context (metadata.<key>, auth.<key>), "
             "default_value, pattern, converted_type: int|double|string}. hash is SHA-256 hex."},
    {.key = "include",
     .type = OTF_CFG_CUSTOM,
     .offset = offsetof(attributes_config_t, include),
     .hint = "match properties",
     .parse = otf__attr_match_parse,
     .release = otf__attr_match_release,
     .desc = "Only items matching these properties are changed: match_type strict|regexp, "
             "services, span_names, span_kinds, attributes, resources, libraries, log_bodies, "
             "log_severity_texts, log_severity_number {min, match_undefined}, metric_names."},
    {.key = "exclude",
     .type = OTF_CFG_CUSTOM,
     .offset = offsetof(attributes_config_t, exclude),
     .hint = "match properties",
     .parse = otf__attr_match_parse,
     .release = otf__attr_match_release,
     .desc = "Items matching these properties are left alone (checked after include); same "
             "keys as include. `regexp` (match cache settings) is accepted and ignored."},
    OTF_CONFIG_FIELD_END,
};

static int validate(const void *config, char *err, size_t errlen)
{
	const attributes_config_t *c = config;
	if (c->actions.n == 0) {
		snprintf(err, errlen, "actions: at least one action is required");
		return OTF_E_CONFIG;
	}
	return 0;
}

static int check_wiring(const void *config, uint32_t in, const uint32_t *ps, uint32_t nports,
                        char *err, size_t errlen)
{
	(void)ps;
	(void)nports;
	const attributes_config_t *c = config;
	for (int s = 0; s < OTF_SIGNAL_COUNT; s++) {
		if (!(in & (1u << s)))
			continue;
		int rc =
		    otf__attr_match_check(&c->include, (otf_signal_t)s, "include", err, errlen);
		if (!rc)
			rc = otf__attr_match_check(&c->exclude, (otf_signal_t)s, "exclude", err,
			                           errlen);
		if (rc)
			return rc;
	}
	return 0;
}

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	const attributes_config_t *c = ctx->config;
	attrproc_t *p = otf_calloc(1, sizeof *p);
	if (!p)
		return OTF_E_NOMEM;
	otf__attrproc_init(p, ctx->node, &c->actions, &c->include, &c->exclude, false);
	if (otf_node_worker_index(ctx->node) == 0) {
		if (c->include.warned_regexp_cache || c->exclude.warned_regexp_cache)
			otf_node_log(
			    ctx->node, OTF_LOG_WARN,
			    "include/exclude regexp (cacheenabled, cachemaxnumentries) accepted "
			    "and ignored: there is no match cache");
	}
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

/* CFG: the new actions and include/exclude (compiled by the schema) from
 * the next message on; messages waiting for their copy's outcome stay. */
static int reconfigure(void *inst, const void *config, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	attrproc_t *p = inst;
	const attributes_config_t *c = config;
	return otf__attrproc_init(p, p->node, &c->actions, &c->include, &c->exclude, false);
}

static void destroy(void *inst)
{
	otf__attrproc_close(inst);
	otf_free(inst);
}

const otf_component_factory_t otf_processor_attributes_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "attributes",
    .description = "Inserts, updates, upserts, deletes, hashes, extracts and converts span, log "
                   "record and data point attributes, with include/exclude matching.",
    .stability = {OTF_STABILITY_BETA, OTF_STABILITY_BETA, OTF_STABILITY_BETA},
    .config_schema = k_schema,
    .config_size = sizeof(attributes_config_t),
    .validate = validate,
    .check_wiring = check_wiring,
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .destroy = destroy,
    .reconfigure = reconfigure,
};
