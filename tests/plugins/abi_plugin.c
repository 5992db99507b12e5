/* Test plugins for the ABI rules (tests/e2e/e2e_plugins.sh), one source
 * built several ways:
 *   ABI_MINOR=n        claims plugin ABI 1.n (default: the host's)
 *   ABI_MAJOR=n        claims plugin ABI n.0
 *   OLD_FACTORY        registers a factory of ABI 1.0's first size (no
 *                      extension fields): must load
 *   CLASH              registers type "batch", a built-in processor
 *   NO_INIT            exports no otf_plugin_init
 *   FAIL_INIT          otf_plugin_init fails
 *   HOLD               `abi_hold`: keeps every message and acks them all
 *                      600 ms after the first arrived (too late for a
 *                      short deadline)
 *   REJECT             `abi_reject`: NACKs every message, permanent,
 *                      with its own reason (what a client must be told)
 * The factory is a pass-through processor `abi_probe` for logs. */
#include "otflow/plugin.h"

#include <errno.h>

#ifndef ABI_MAJOR
#define ABI_MAJOR OTF_PLUGIN_ABI_MAJOR
#endif
#ifndef ABI_MINOR
#define ABI_MINOR OTF_PLUGIN_ABI_MINOR
#endif

static const otf_host_api_t *host;

static int create(const otf_create_ctx_t *ctx, void **instance)
{
	*instance = ctx->node;
	return 0;
}

#ifdef HOLD
static otf_msg_t *held[256];
static int nheld;

static void consume(void *instance, otf_msg_t *msg)
{
	if (nheld == 256) {
		host->msg_nack(msg, -EAGAIN, false, "abi_hold: full");
		return;
	}
	if (!nheld)
		host->node_timer_start(instance, 600, 0, 7);
	held[nheld++] = msg;
}

static void control(void *instance, const otf_ctrl_t *c)
{
	if (c->type == OTF_CTRL_TMR && c->calldata == 7) {
		for (int i = 0; i < nheld; i++)
			host->msg_ack(held[i]);
		nheld = 0;
	}
	if (c->type == OTF_CTRL_KIL)
		host->node_shutdown_done(instance);
	if (c->payload)
		host->buf_unref(c->payload);
}
#else
static void consume(void *instance, otf_msg_t *msg)
{
#ifdef REJECT
	(void)instance;
	host->msg_nack(msg, -EINVAL, true, "abi_reject: records refused by the plugin");
	return;
#endif
	if (host->node_send(instance, msg))
		host->msg_nack(msg, -EAGAIN, false, "abi_probe: pipeline full");
}

static void control(void *instance, const otf_ctrl_t *c)
{
	if (c->type == OTF_CTRL_KIL)
		host->node_shutdown_done(instance);
	if (c->payload)
		host->buf_unref(c->payload);
}
#endif

__attribute__((unused)) static const otf_component_factory_t k_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
#ifdef OLD_FACTORY
    .struct_size = OTF_PLUGIN_FACTORY_MIN_SIZE,
#else
    .struct_size = sizeof(otf_component_factory_t),
#endif
    .kind = OTF_KIND_PROCESSOR,
#ifdef CLASH
    .type = "batch",
#elif defined(HOLD)
    .type = "abi_hold",
#elif defined(REJECT)
    .type = "abi_reject",
#else
    .type = "abi_probe",
#endif
    .description = "Pass-through processor of the plugin ABI tests.",
    .stability = {[OTF_SIGNAL_LOGS] = OTF_STABILITY_DEVELOPMENT},
    .create = {[OTF_SIGNAL_LOGS] = create},
    .consume = {[OTF_SIGNAL_LOGS] = consume},
    .control = control,
};

uint32_t otf_plugin_abi(void)
{
	return ((uint32_t)ABI_MAJOR << 16) | ABI_MINOR;
}

#ifndef NO_INIT
int otf_plugin_init(const otf_host_api_t *h, void *host_ctx)
{
	host = h;
#ifdef FAIL_INIT
	(void)host_ctx;
	return -ENOENT;
#else
	return host->register_factory(host_ctx, &k_factory);
#endif
}
#endif
