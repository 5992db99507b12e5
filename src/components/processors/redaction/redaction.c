/* processor `redaction`: removes attributes that are not allowed and masks
 * (or hashes) values that match blocked patterns, in span, span event,
 * log record (attributes and body), data point, resource and scope
 * attributes. Source: the redactionprocessor README and processor.go of
 * opentelemetry-collector-contrib; what is redacted, in which order, and
 * the redaction.* summary attributes are the Collector's
 * (redaction_core.c).
 *
 * The configuration (regexes compiled at load) is in redaction_config.c.
 *
 * Per request: decode into the tree, redact, re-encode only when something
 * changed, and relay the new payload (ottlproc.h). */
#include "redaction.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <stddef.h>

typedef struct redaction {
	ottlproc_relay_t relay;
	const otf_redaction_config_t *cfg;
	otf_arena_t arena;
} redaction_t;

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	redaction_t *r = otf_calloc(1, sizeof *r);
	if (!r)
		return OTF_E_NOMEM;
	r->relay.node = ctx->node;
	r->cfg = ctx->config;
	otf_arena_init(&r->arena, 0);
	*inst = r;
	return 0;
}

static void consume(void *inst, otf_msg_t *m)
{
	redaction_t *r = inst;
	ottlproc_tree_t t;
	if (otf__ottlproc_decode_msg(m, otf_msg_signal(m), &r->arena, &t))
		return;
	otf_redaction_stats_t st = {0};
	int rc = otf__redaction_apply(r->cfg, &t, &r->arena, &st);
	if (rc < 0) {
		otf_msg_nack(m, rc, false, "redaction: out of memory");
		return;
	}
	if (rc == 0) {
		otf__ottlproc_forward(&r->relay, m);
		return;
	}
	otf__ottlproc_send_tree(&r->relay, m, &t, 0, "redaction");
}

static void control(void *inst, const otf_ctrl_t *c)
{
	redaction_t *r = inst;
	otf__ottlproc_relay_control(&r->relay, c);
}

static void destroy(void *inst)
{
	redaction_t *r = inst;
	otf__ottlproc_relay_close(&r->relay);
	otf_arena_close(&r->arena);
	otf_free(r);
}

const otf_component_factory_t otf_processor_redaction_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "redaction",
    .description = "Removes attributes that are not allowed and masks or hashes values that "
                   "match blocked patterns (the Collector's redaction processor).",
    .stability = {OTF_STABILITY_BETA, OTF_STABILITY_ALPHA, OTF_STABILITY_ALPHA},
    .config_schema = otf__redaction_schema,
    .config_size = sizeof(otf_redaction_config_t),
    .validate = otf__redaction_validate,
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .destroy = destroy,
};
