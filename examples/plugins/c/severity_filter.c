/* An otflow processor plugin in C: `severity_filter` drops log records
 * whose severity_number is below `min_severity_number` (records without a
 * severity, 0, are kept unless `drop_unspecified` is set). A request left
 * without records is acknowledged and not forwarded.
 *
 * Build: cc -shared -fPIC -I<otflow>/include severity_filter.c -o severity_filter.so
 * Use:   plugins: [./severity_filter.so] and a processor `severity_filter`.
 *
 * Everything the host offers comes through `host` (otflow/plugin.h); the
 * plugin links no otflow symbol. */
#include "otflow/plugin.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const otf_host_api_t *host;

typedef struct sf_config {
	uint64_t min_severity_number;
	bool drop_unspecified;
} sf_config_t;

typedef struct sf {
	otf_node_t *node;
	const sf_config_t *cfg;
} sf_t;

static const otf_config_field_t k_schema[] = {
    {.key = "min_severity_number",
     .type = OTF_CFG_UINT,
     .offset = offsetof(sf_config_t, min_severity_number),
     .def = "9",
     .max = "24",
     .desc = "Records below this SeverityNumber are dropped (9 = INFO)."},
    {.key = "drop_unspecified",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(sf_config_t, drop_unspecified),
     .def = "false",
     .desc = "Also drop records with no severity (0)."},
    OTF_CONFIG_FIELD_END,
};

static int create(const otf_create_ctx_t *ctx, void **instance)
{
	sf_t *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	s->node = ctx->node;
	s->cfg = ctx->config;
	*instance = s;
	return 0;
}

static bool keep(const sf_t *s, const otf_log_record_t *r)
{
	if (r->severity_number == 0)
		return !s->cfg->drop_unspecified;
	return (uint64_t)r->severity_number >= s->cfg->min_severity_number;
}

static void consume(void *instance, otf_msg_t *msg)
{
	sf_t *s = instance;
	const otf_buf_t *in = host->msg_payload(msg);
	otf_arena_t arena;
	host->arena_init(&arena, 0);
	otf_logs_t logs;
	otf_pdata_error_t perr;
	if (host->decode_logs(&logs, in->data, in->len, &arena, NULL, &perr)) {
		host->arena_close(&arena);
		host->msg_nack(msg, -EINVAL, true, "severity_filter: undecodable logs");
		return;
	}
	uint64_t kept = 0, dropped = 0;
	for (size_t i = 0; i < logs.resource_logs_len; i++) {
		otf_resource_logs_t *rl = &logs.resource_logs[i];
		for (size_t j = 0; j < rl->scope_logs_len; j++) {
			otf_scope_logs_t *sl = &rl->scope_logs[j];
			size_t n = 0;
			for (size_t k = 0; k < sl->log_records_len; k++) {
				if (keep(s, &sl->log_records[k]))
					sl->log_records[n++] = sl->log_records[k];
			}
			dropped += sl->log_records_len - n;
			kept += n;
			sl->log_records_len = n;
		}
	}
	if (!dropped) { /* nothing changed: forward the bytes as they came */
		host->arena_close(&arena);
		if (host->node_send(s->node, msg))
			host->msg_nack(msg, -EAGAIN, false, "severity_filter: pipeline full");
		return;
	}
	host->node_count(s->node, OTF_COUNTER_DROPPED, OTF_SIGNAL_LOGS, dropped);
	if (!kept) {
		host->arena_close(&arena);
		host->msg_ack(msg);
		return;
	}
	otf_buf_t *out = NULL;
	int rc = host->encode_logs(&logs, &out);
	host->arena_close(&arena);
	if (rc) {
		host->msg_nack(msg, rc, false, "severity_filter: out of memory");
		return;
	}
	/* A new message for the new bytes; it carries the original's envelope
	 * and identity, and its outcome answers the original. */
	otf_msg_t *m = host->msg_create(s->node, OTF_SIGNAL_LOGS, out, kept); /* takes out */
	if (!m || host->msg_copy_envelope(m, msg) || host->msg_add_source(m, host->msg_id(msg)) ||
	    host->msg_subscribe(m, s->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK,
	                        (uint64_t)(uintptr_t)msg)) {
		if (m)
			host->msg_drop(m);
		host->msg_nack(msg, -ENOMEM, false, "severity_filter: out of memory");
		return;
	}
	if (host->node_send(s->node, m)) {
		host->msg_drop(m);
		host->msg_nack(msg, -EAGAIN, false, "severity_filter: pipeline full");
		return;
	}
	/* msg is answered when m is: see control. */
}

static void control(void *instance, const otf_ctrl_t *c)
{
	sf_t *s = instance;
	/* The outcome of a filtered copy answers the message it came from. */
	otf_msg_t *orig = (otf_msg_t *)(uintptr_t)c->calldata;
	if (c->type == OTF_CTRL_ACK && orig)
		host->msg_ack(orig);
	else if (c->type == OTF_CTRL_NACK && orig)
		host->msg_nack(orig, c->error, c->permanent, c->reason);
	else if (c->type == OTF_CTRL_KIL)
		host->node_shutdown_done(s->node);
	if (c->payload)
		host->buf_unref(c->payload);
}

static void destroy(void *instance)
{
	free(instance);
}

static const otf_component_factory_t k_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "severity_filter",
    .description = "Drops log records below a severity (example C plugin).",
    .stability = {[OTF_SIGNAL_LOGS] = OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_schema,
    .config_size = sizeof(sf_config_t),
    .create = {[OTF_SIGNAL_LOGS] = create},
    .consume = {[OTF_SIGNAL_LOGS] = consume},
    .control = control,
    .destroy = destroy,
};

uint32_t otf_plugin_abi(void)
{
	return OTF_PLUGIN_ABI;
}

int otf_plugin_init(const otf_host_api_t *h, void *host_ctx)
{
	host = h;
	return host->register_factory(host_ctx, &k_factory);
}
