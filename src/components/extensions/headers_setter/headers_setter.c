/* extension `headers_setter` (opentelemetry-collector-contrib
 * extension/headerssetterextension): a client authenticator that sets
 * exporter request headers from static values or from the request's
 * client metadata (`from_context`: a header the receiver kept with
 * include_metadata, or an auth.* identity attribute).
 *
 * Actions as the README: insert (only when the exporter does not send the
 * header already), update (only when it does), upsert (default), delete.
 * The exporter's own `headers` are what "already sent" refers to. */
#include "otflow/alloc.h"
#include "otflow/auth.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"
#include "otflow/extension.h"

#include <stdio.h>
#include <string.h>

enum { ACT_INSERT = 0, ACT_UPDATE, ACT_UPSERT, ACT_DELETE }; /* k_actions order */

typedef struct hs_header {
	char *key;
	char *value;
	char *from_context;
	char *default_value;
	int action;
} hs_header_t;

typedef struct hs_config {
	otf_config_objlist_t headers;
} hs_config_t;

static const char *const k_actions[] = {"insert", "update", "upsert", "delete", NULL};

static const otf_config_field_t k_header[] = {
    {.key = "key",
     .type = OTF_CFG_STRING,
     .offset = offsetof(hs_header_t, key),
     .required = true,
     .desc = "Header name."},
    {.key = "value",
     .type = OTF_CFG_STRING,
     .offset = offsetof(hs_header_t, value),
     .desc = "Static value (exclusive with from_context)."},
    {.key = "from_context",
     .type = OTF_CFG_STRING,
     .offset = offsetof(hs_header_t, from_context),
     .desc = "Client metadata key whose value is sent (receivers need include_metadata)."},
    {.key = "default_value",
     .type = OTF_CFG_STRING,
     .offset = offsetof(hs_header_t, default_value),
     .desc = "Sent when from_context finds nothing."},
    {.key = "action",
     .type = OTF_CFG_ENUM,
     .offset = offsetof(hs_header_t, action),
     .def = "upsert",
     .enum_values = k_actions,
     .desc = "insert: only if absent; update: only if present; upsert; delete."},
    OTF_CONFIG_FIELD_END,
};

static const otf_config_field_t k_schema[] = {
    {.key = "headers",
     .type = OTF_CFG_OBJECT_LIST,
     .offset = offsetof(hs_config_t, headers),
     .sub = k_header,
     .elem_size = sizeof(hs_header_t),
     .required = true,
     .desc = "Headers to set, in order."},
    OTF_CONFIG_FIELD_END,
};

static int validate(const void *config, char *err, size_t errlen)
{
	const hs_config_t *c = config;
	if (!c->headers.n) {
		snprintf(err, errlen, "headers: at least one header is required");
		return OTF_E_CONFIG;
	}
	for (size_t i = 0; i < c->headers.n; i++) {
		const hs_header_t *h = OTF_CONFIG_OBJLIST_AT(&c->headers, hs_header_t, i);
		bool val = h->value != NULL, ctx = h->from_context && *h->from_context;
		if (h->action == ACT_DELETE)
			continue;
		if (val == ctx || (val && h->default_value)) {
			snprintf(err, errlen,
			         "headers[%zu] (%s): set exactly one of value or from_context "
			         "(default_value goes with from_context)",
			         i, h->key);
			return OTF_E_CONFIG;
		}
	}
	return 0;
}

static int ext_create(const otf_ext_create_ctx_t *ctx, void **instance)
{
	*instance = (void *)(uintptr_t)ctx->config; /* read-only config is all it needs */
	return 0;
}

static int headers(void *instance, const otf_msg_t *msg, otf_auth_header_fn add, void *ctx)
{
	const hs_config_t *c = instance;
	for (size_t i = 0; i < c->headers.n; i++) {
		const hs_header_t *h = OTF_CONFIG_OBJLIST_AT(&c->headers, hs_header_t, i);
		if (h->action == ACT_DELETE) {
			add(ctx, h->key, NULL, OTF_AUTH_HEADER_DELETE);
			continue;
		}
		const char *v = h->value;
		if (!v) {
			v = msg ? otf_msg_header_get(msg, h->from_context) : NULL;
			if (!v)
				v = h->default_value;
		}
		if (!v)
			continue;
		static const otf_auth_header_mode_t k_mode[] = {
		    OTF_AUTH_HEADER_INSERT, OTF_AUTH_HEADER_UPDATE, OTF_AUTH_HEADER_UPSERT};
		add(ctx, h->key, v, k_mode[h->action]);
	}
	return 0;
}

static const otf_client_auth_iface_t k_client = {.headers = headers};

const otf_component_factory_t otf_extension_headers_setter_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXTENSION,
    .stability = {OTF_STABILITY_ALPHA, OTF_STABILITY_ALPHA, OTF_STABILITY_ALPHA},
    .type = "headers_setter",
    .description = "Sets exporter request headers from static values or client metadata.",
    .config_schema = k_schema,
    .config_size = sizeof(hs_config_t),
    .validate = validate,
    .ext_create = ext_create,
    .ext_ifaces = {[OTF_EXT_CLIENT_AUTH] = &k_client},
};
