/* processor `type_router`: routes each message by its signal to the output
 * port of that name (`traces`, `metrics`, `logs`); a signal whose port has
 * nothing wired goes to `default`. The message itself is passed on (same
 * payload, same id, same acknowledgement path): routing copies nothing.
 *
 * A signal that arrives with neither its port nor `default` wired is a
 * config error (check_wiring); should one still arrive, it is nacked as a
 * permanent failure, never dropped silently. */
#include "otflow/alloc.h"
#include "otflow/component.h"
#include "otflow/err.h"

#include <errno.h>
#include <stdio.h>

typedef struct type_router {
	otf_node_t *node;
	int port[OTF_SIGNAL_COUNT]; /* port index per signal */
} type_router_t;

/* Index i + 1 is the port of signal i (otf_signal_t order). */
static const char *const k_ports[] = {"traces", "metrics", "logs", NULL};

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	type_router_t *r = otf_calloc(1, sizeof *r);
	if (!r)
		return OTF_E_NOMEM;
	r->node = ctx->node;
	for (int s = 0; s < OTF_SIGNAL_COUNT; s++)
		r->port[s] = otf_node_port(ctx->node, k_ports[s]);
	*inst = r;
	return 0;
}

static int check_wiring(const void *config, uint32_t in, const uint32_t *ps, uint32_t nports,
                        char *err, size_t errlen)
{
	(void)config;
	for (int s = 0; s < OTF_SIGNAL_COUNT && (uint32_t)s + 1 < nports; s++) {
		uint32_t bit = 1u << s;
		if ((in & bit) && !(ps[s + 1] & bit) && !(ps[0] & bit)) {
			snprintf(err, errlen,
			         "%s arrive but neither port %s nor default is wired for them",
			         otf_signal_name((otf_signal_t)s), k_ports[s]);
			return OTF_E_CONFIG;
		}
	}
	return 0;
}

static void consume(void *inst, otf_msg_t *m)
{
	type_router_t *r = inst;
	otf_signal_t s = otf_msg_signal(m);
	int port = otf_node_port_has_output(r->node, r->port[s], s) ? r->port[s] : 0;
	int rc = otf_node_send_port(r->node, port, m);
	if (rc == OTF_E_NOT_FOUND) {
		char why[96];
		snprintf(why, sizeof why, "type_router: no route for %s (port %s nor default)",
		         otf_signal_name(s), k_ports[s]);
		otf_msg_nack(m, rc, true, why);
	} else if (rc) {
		otf_msg_nack(m, rc, false,
		             rc == -EAGAIN ? "downstream queue full" : otf_strerror(rc));
	}
}

static void control(void *inst, const otf_ctrl_t *c)
{
	type_router_t *r = inst;
	if (c->type == OTF_CTRL_KIL)
		otf_node_shutdown_done(r->node);
	if (c->payload)
		otf_buf_unref(c->payload);
}

static void destroy(void *inst)
{
	otf_free(inst);
}

const otf_component_factory_t otf_processor_type_router_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "type_router",
    .description = "Routes each message by signal to the output port traces, metrics or logs; "
                   "default when that port has nothing wired.",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .destroy = destroy,
    .ports = k_ports,
    .check_wiring = check_wiring,
};
