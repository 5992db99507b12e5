/* The C side of the Go exporter plugin: the factory, its config schema and
 * the exported entry points, calling into Go (exporter.go) for the work.
 * cgo forbids C definitions next to //export, hence this file. */
#include "shim.h"

#include "_cgo_export.h"

#include <errno.h>
#include <stddef.h>

const otf_host_api_t *gofiles_host;

typedef struct gofiles_config {
	char *directory;
} gofiles_config_t;

static const otf_config_field_t k_schema[] = {
    {.key = "directory",
     .type = OTF_CFG_STRING,
     .offset = offsetof(gofiles_config_t, directory),
     .required = true,
     .desc = "Directory that receives one <n>.pb file (the request's protobuf bytes) per request."},
    OTF_CONFIG_FIELD_END,
};

static int create(const otf_create_ctx_t *ctx, void **instance)
{
	const gofiles_config_t *c = ctx->config;
	uintptr_t h = goCreate(ctx->node, c->directory);
	if (!h)
		return -EINVAL;
	*instance = (void *)h;
	return 0;
}

static void consume(void *instance, otf_msg_t *msg)
{
	const otf_buf_t *b = gofiles_host->msg_payload(msg);
	goConsume((uintptr_t)instance, msg, (void *)b->data, (int)b->len);
}

static void control(void *instance, const otf_ctrl_t *c)
{
	if (c->type == OTF_CTRL_KIL)
		goShutdown((uintptr_t)instance);
	if (c->payload)
		gofiles_host->buf_unref(c->payload);
}

static void destroy(void *instance)
{
	goDestroy((uintptr_t)instance);
}

static const otf_component_factory_t k_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXPORTER,
    .type = "gofiles",
    .description = "Writes each request to a file from a goroutine (example Go plugin).",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_schema,
    .config_size = sizeof(gofiles_config_t),
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .destroy = destroy,
};

uint32_t otf_plugin_abi(void)
{
	return OTF_PLUGIN_ABI;
}

int otf_plugin_init(const otf_host_api_t *h, void *host_ctx)
{
	gofiles_host = h;
	return h->register_factory(host_ctx, &k_factory);
}

void gofiles_ack_async(otf_msg_t *m)
{
	gofiles_host->msg_ack_async(m);
}

void gofiles_nack_async(otf_msg_t *m, const char *reason)
{
	gofiles_host->msg_nack_async(m, -EIO, false, reason);
}

void gofiles_shutdown_done(otf_node_t *node)
{
	gofiles_host->node_shutdown_done(node);
}

void gofiles_log(otf_node_t *node, const char *line)
{
	gofiles_host->log(node, OTF_LOG_INFO, line);
}
