/* processor `content_router`: routes by OTTL conditions on the resource
 * (or scope) and on the client's metadata (`request["X-Tenant"]`) to named
 * output ports, one per route; unmatched data goes to `default`. A request
 * whose resources go to different routes is split per resource by slicing
 * its protobuf bytes. The behaviour is router.h's, shared with the
 * Collector's `routing` connector (src/components/connectors/routing/). */
#include "router.h"

#include "otflow/alloc.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef struct cr_config {
	otf_config_strmap_t routes; /* port name -> condition, in file order */
	int context;
	int error_mode;
} cr_config_t;

static const char *const k_contexts[] = {"resource", "scope", NULL};
/* otf_ottl_error_mode_t order. */
static const char *const k_error_modes[] = {"propagate", "ignore", "silent", NULL};

static const otf_config_field_t k_schema[] = {
    {.key = "routes",
     .type = OTF_CFG_STRING_MAP,
     .offset = offsetof(cr_config_t, routes),
     .required = true,
     .hint = "port: condition",
     .desc = "Routes in order: output port name -> OTTL condition (`attributes[\"tenant\"] == "
             "\"acme\"`, `request[\"X-Tenant\"] == \"acme\"`). The first true one takes "
             "the data; none: port default. At most 63; `default` is reserved."},
    {.key = "context",
     .type = OTF_CFG_ENUM,
     .offset = offsetof(cr_config_t, context),
     .def = "resource",
     .enum_values = k_contexts,
     .desc = "What a condition sees: each resource (split per resource), or each scope with "
             "its resource (split per scope). `request[...]` works in both."},
    {.key = "error_mode",
     .type = OTF_CFG_ENUM,
     .offset = offsetof(cr_config_t, error_mode),
     .def = "propagate",
     .enum_values = k_error_modes,
     .desc = "A condition that fails to evaluate: propagate nacks the request as permanent; "
             "ignore (logged) and silent take the route as not matched (on to default)."},
    OTF_CONFIG_FIELD_END,
};

static int validate(const void *config, char *err, size_t errlen)
{
	const cr_config_t *c = config;
	for (size_t i = 0; i < c->routes.n; i++) {
		if (!strcmp(c->routes.keys[i], "default")) {
			snprintf(
			    err, errlen,
			    "routes: 'default' is the port of unmatched data, not a route name");
			return OTF_E_CONFIG;
		}
	}
	otf__cr_t *none;
	int rc = otf__cr_create(&none, NULL, (const char *const *)c->routes.values,
	                        (const char *const *)c->routes.keys, c->routes.n, c->context,
	                        c->error_mode, err, errlen);
	if (rc == OTF_E_CONFIG) {
		char msg[400];
		snprintf(msg, sizeof msg, "routes: %s", err);
		snprintf(err, errlen, "%s", msg);
	}
	return rc;
}

static const char *config_port(const void *config, uint32_t i)
{
	const cr_config_t *c = config;
	return c && i < c->routes.n ? c->routes.keys[i] : NULL;
}

static bool always(const cr_config_t *c)
{
	for (size_t i = 0; i < c->routes.n; i++)
		if (otf__cr_cond_always(c->routes.values[i]))
			return true;
	return false;
}

static int check_wiring(const void *config, uint32_t in, const uint32_t *ps, uint32_t nports,
                        char *err, size_t errlen)
{
	const cr_config_t *c = config;
	return otf__cr_check_wiring((const char *const *)c->routes.keys, c->routes.n, always(c), in,
	                            ps, nports, err, errlen);
}

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	const cr_config_t *c = ctx->config;
	char err[256];
	otf__cr_t *r;
	int rc = otf__cr_create(&r, ctx->node, (const char *const *)c->routes.values,
	                        (const char *const *)c->routes.keys, c->routes.n, c->context,
	                        c->error_mode, err, sizeof err);
	if (rc)
		return rc;
	*inst = r;
	return 0;
}

static void consume(void *inst, otf_msg_t *m)
{
	otf__cr_consume(inst, m);
}

static void control(void *inst, const otf_ctrl_t *c)
{
	otf__cr_control(inst, c);
}

/* CFG: new conditions for the same routes (the engine refuses other route
 * names: they are the node's ports) from the next request on. */
static int reconfigure(void *inst, const void *config, char *err, size_t errlen)
{
	const cr_config_t *c = config;
	return otf__cr_set_routes(inst, (const char *const *)c->routes.values,
	                          (const char *const *)c->routes.keys, c->routes.n, c->context,
	                          c->error_mode, err, errlen);
}

static void destroy(void *inst)
{
	otf__cr_destroy(inst);
}

const otf_component_factory_t otf_processor_content_router_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "content_router",
    .description = "Routes by OTTL conditions on resource, scope or client metadata to named "
                   "ports (default when none matches); splits requests per resource.",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_schema,
    .config_size = sizeof(cr_config_t),
    .validate = validate,
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .destroy = destroy,
    .check_wiring = check_wiring,
    .config_port = config_port,
    .reconfigure = reconfigure,
};
