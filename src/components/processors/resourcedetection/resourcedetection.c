/* processor `resourcedetection` (also `resource_detection`, the
 * Collector's newer name): adds what the host says about itself to every
 * resource. Source: the resourcedetectionprocessor README of
 * opentelemetry-collector-contrib. Detectors `env` (OTEL_RESOURCE_ATTRIBUTES)
 * and `system` (host.name from hostname_sources, os.type; host.id and
 * host.arch when enabled) run once per worker at start, in the order
 * listed (the first to set an attribute wins); `override` (default true)
 * lets detected values replace the request's own. The Collector's other
 * detectors (cloud metadata, docker, k8s) are accepted and warned about at
 * start: they detect nothing here, as the Collector's do where their
 * metadata service is absent. A malformed OTEL_RESOURCE_ATTRIBUTES stops
 * otflow from starting, as a failing detector stops the Collector.
 *
 * Per request: the detected attributes are spliced into the resources of
 * the protobuf bytes (otflow/pdata_edit.h: insert, or upsert with
 * override), without decoding the request; only when the editor cannot
 * (more than its op limit, bytes malformed on its path) is the request
 * decoded, merged and re-encoded. Either way the new payload is relayed
 * (ottlproc.h) and an unchanged one forwarded as it is. */
#include "resourcedetection.h"

#include "../ottlproc/ottlproc.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <stddef.h>

typedef struct rd {
	ottlproc_relay_t relay;
	const otf_rd_config_t *cfg;
	otf_arena_t keep; /* the detected attributes, for the node's life */
	otf_attributes_t detected;
	otf_arena_t arena;     /* per request */
	otf_pdata_edit_t edit; /* the merge as in-place edits, when in_place */
	bool in_place;
} rd_t;

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	rd_t *r = otf_calloc(1, sizeof *r);
	if (!r)
		return OTF_E_NOMEM;
	r->relay.node = ctx->node;
	r->cfg = ctx->config;
	otf_arena_init(&r->keep, 0);
	otf_arena_init(&r->arena, 0);
	char why[256] = "";
	int rc = otf__rd_detect(r->cfg, &r->keep, &r->detected, why, sizeof why);
	if (rc) {
		otf_node_log(ctx->node, OTF_LOG_ERROR, "resource detection failed: %s",
		             why[0] ? why : otf_strerror(rc));
		otf_arena_close(&r->keep);
		otf_arena_close(&r->arena);
		otf_free(r);
		return rc;
	}
	r->in_place = otf__rd_edit_prepare(&r->edit, &r->detected, r->cfg->override) == 0;
	if (otf_node_worker_index(ctx->node) == 0) {
		for (size_t i = 0; i < r->cfg->detectors.n; i++)
			if (r->cfg->detectors.kind[i] == OTF_RD_UNIMPLEMENTED)
				otf_node_log(
				    ctx->node, OTF_LOG_WARN,
				    "detector \"%s\" is not implemented in otflow: it detects "
				    "nothing (env and system are)",
				    r->cfg->detectors.name[i]);
	}
	*inst = r;
	return 0;
}

static otf_resource_t *resource_at(ottlproc_tree_t *t, size_t i)
{
	switch (t->signal) {
	case OTF_SIGNAL_TRACES:
		return &t->u.traces.resource_spans[i].resource;
	case OTF_SIGNAL_METRICS:
		return &t->u.metrics.resource_metrics[i].resource;
	default:
		return &t->u.logs.resource_logs[i].resource;
	}
}

static size_t resources(const ottlproc_tree_t *t)
{
	return t->signal == OTF_SIGNAL_TRACES    ? t->u.traces.resource_spans_len
	       : t->signal == OTF_SIGNAL_METRICS ? t->u.metrics.resource_metrics_len
	                                         : t->u.logs.resource_logs_len;
}

static void consume(void *inst, otf_msg_t *m)
{
	rd_t *r = inst;
	if (!r->detected.len) {
		otf__ottlproc_forward(&r->relay, m);
		return;
	}
	if (r->in_place) {
		/* Only the resources change: splice them in the bytes rather
		 * than decode and re-encode the whole request. */
		const otf_buf_t *p = otf_msg_payload(m);
		otf_buf_t *out = NULL;
		size_t edited = 0;
		if (otf_pdata_edit_apply(&r->edit, otf_msg_signal(m), p->data, p->len, &out,
		                         &edited) == 0) {
			if (!edited) {
				otf_buf_unref(out);
				otf__ottlproc_forward(&r->relay, m);
			} else {
				otf__ottlproc_relay_send(&r->relay, m, out, otf_msg_items(m));
			}
			return;
		}
		/* malformed on the path walked: the decoder says precisely why */
	}
	ottlproc_tree_t t;
	if (otf__ottlproc_decode_msg(m, otf_msg_signal(m), &r->arena, &t))
		return;
	int rc;
	bool changed = false;
	for (size_t i = 0; i < resources(&t); i++) {
		rc = otf__rd_merge(&resource_at(&t, i)->attributes, &r->detected, r->cfg->override,
		                   &r->arena);
		if (rc < 0) {
			otf_msg_nack(m, rc, false, "resourcedetection: out of memory");
			return;
		}
		changed |= rc == 1;
	}
	if (!changed) {
		otf__ottlproc_forward(&r->relay, m);
		return;
	}
	otf__ottlproc_send_tree(&r->relay, m, &t, 0, "resourcedetection");
}

static void control(void *inst, const otf_ctrl_t *c)
{
	rd_t *r = inst;
	otf__ottlproc_relay_control(&r->relay, c);
}

static void destroy(void *inst)
{
	rd_t *r = inst;
	otf__ottlproc_relay_close(&r->relay);
	otf_arena_close(&r->arena);
	otf_arena_close(&r->keep);
	otf_free(r);
}

static const char *const k_aliases[] = {"resource_detection", NULL};

const otf_component_factory_t otf_processor_resourcedetection_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "resourcedetection",
    .description = "Adds the host's own resource attributes (env: OTEL_RESOURCE_ATTRIBUTES; "
                   "system: host.name, os.type) to every resource.",
    .stability = {OTF_STABILITY_BETA, OTF_STABILITY_BETA, OTF_STABILITY_BETA},
    .config_schema = otf__rd_schema,
    .config_size = sizeof(otf_rd_config_t),
    .validate = otf__rd_validate,
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .destroy = destroy,
    .aliases = k_aliases,
};
