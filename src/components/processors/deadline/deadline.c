/* processor `deadline` (deadline controller, seeds/dataflow-mechanics.md):
 * gives each message an absolute deadline (otf_msg_set_deadline) from a
 * policy, so that every node after it stops working on the message once
 * the client can no longer use the answer:
 *
 *   - a client that sent a timeout (gRPC `grpc-timeout`: the otlp receiver
 *     turns it into the message's deadline; or the header itself when the
 *     metadata was kept) gets that deadline, capped at max_timeout from
 *     now (client_timeout: true, the default);
 *   - every other message, HTTP requests included, gets now + the timeout
 *     of its signal (timeout_traces / _metrics / _logs, else timeout;
 *     0 = none).
 *
 * A deadline is never moved later than one the message already has. A
 * message whose deadline has already passed is nacked at once, retryable,
 * with -ETIMEDOUT (receivers answer DEADLINE_EXCEEDED / 504). Nodes that
 * hold messages honour the deadline: retry and the exporters' retry stop,
 * failover_router does not resend past it, batch flushes early enough and
 * the sending queue nacks what expires in it, all with -ETIMEDOUT. The
 * message itself is passed on (same payload and id). */
#include "otflow/alloc.h"
#include "otflow/component.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

typedef struct deadline_config {
	int64_t timeout_ns;
	int64_t timeout_sig_ns[OTF_SIGNAL_COUNT];
	bool client_timeout;
	int64_t max_timeout_ns;
} deadline_config_t;

typedef struct deadline {
	otf_node_t *node;
	const deadline_config_t *cfg;
} deadline_t;

static const otf_config_field_t k_schema[] = {
    {.key = "timeout",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(deadline_config_t, timeout_ns),
     .def = "5s",
     .min = "0s",
     .desc = "Deadline from now for a message without a client timeout (0 = none)."},
    {.key = "timeout_traces",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(deadline_config_t, timeout_sig_ns[0]),
     .def = "0s",
     .min = "0s",
     .desc = "Traces' own timeout (0 = timeout)."},
    {.key = "timeout_metrics",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(deadline_config_t, timeout_sig_ns[1]),
     .def = "0s",
     .min = "0s",
     .desc = "Metrics' own timeout (0 = timeout)."},
    {.key = "timeout_logs",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(deadline_config_t, timeout_sig_ns[2]),
     .def = "0s",
     .min = "0s",
     .desc = "Logs' own timeout (0 = timeout)."},
    {.key = "client_timeout",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(deadline_config_t, client_timeout),
     .def = "true",
     .desc = "Use the client's own timeout (gRPC grpc-timeout) when it sent one, instead of "
             "the signal's timeout."},
    {.key = "max_timeout",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(deadline_config_t, max_timeout_ns),
     .def = "30s",
     .min = "0s",
     .desc = "Cap on a client's timeout, from now (0 = no cap)."},
    OTF_CONFIG_FIELD_END,
};

static uint64_t now_unix_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_REALTIME, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* grpc-timeout: 1 to 8 digits and a unit H M S m u n (gRPC over HTTP/2,
 * "Timeout"); 0 when malformed. */
static uint64_t grpc_timeout_ns(const char *s)
{
	uint64_t v = 0;
	size_t n = 0;
	while (n < 8 && isdigit((unsigned char)s[n]))
		v = v * 10 + (uint64_t)(s[n++] - '0');
	if (!n || !s[n] || s[n + 1])
		return 0;
	switch (s[n]) {
	case 'H':
		return v * 3600ull * 1000000000ull;
	case 'M':
		return v * 60ull * 1000000000ull;
	case 'S':
		return v * 1000000000ull;
	case 'm':
		return v * 1000000ull;
	case 'u':
		return v * 1000ull;
	case 'n':
		return v;
	default:
		return 0;
	}
}

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	deadline_t *d = otf_calloc(1, sizeof *d);
	if (!d)
		return OTF_E_NOMEM;
	d->node = ctx->node;
	d->cfg = ctx->config;
	*inst = d;
	return 0;
}

static void consume(void *inst, otf_msg_t *m)
{
	deadline_t *d = inst;
	const deadline_config_t *cfg = d->cfg;
	uint64_t now = now_unix_ns();
	uint64_t have = otf_msg_deadline(m), want = 0;
	uint64_t client = 0;
	if (cfg->client_timeout) {
		client = have;
		const char *h = otf_msg_header_get(m, "grpc-timeout");
		uint64_t t = h ? grpc_timeout_ns(h) : 0;
		if (t && (!client || now + t < client))
			client = now + t;
	}
	if (client) {
		want = client;
		if (cfg->max_timeout_ns && want > now + (uint64_t)cfg->max_timeout_ns)
			want = now + (uint64_t)cfg->max_timeout_ns;
	} else {
		otf_signal_t s = otf_msg_signal(m);
		int64_t t = cfg->timeout_sig_ns[s] ? cfg->timeout_sig_ns[s] : cfg->timeout_ns;
		if (t)
			want = now + (uint64_t)t;
	}
	if (have && (!want || have < want))
		want = have; /* never later than a deadline already set */
	if (want && want <= now) {
		otf_msg_nack(m, -ETIMEDOUT, false, "deadline: the deadline has already passed");
		return;
	}
	if (want)
		otf_msg_set_deadline(m, want);
	int rc = otf_node_send(d->node, m);
	if (rc)
		otf_msg_nack(m, rc, false,
		             rc == -EAGAIN ? "downstream queue full" : otf_strerror(rc));
}

static void control(void *inst, const otf_ctrl_t *c)
{
	deadline_t *d = inst;
	if (c->type == OTF_CTRL_KIL)
		otf_node_shutdown_done(d->node);
	if (c->payload)
		otf_buf_unref(c->payload);
}

static void destroy(void *inst)
{
	otf_free(inst);
}

const otf_component_factory_t otf_processor_deadline_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "deadline",
    .description = "Deadline controller: gives each message a deadline (the client's timeout "
                   "capped, or one per signal); nodes after it give up on it past that.",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_schema,
    .config_size = sizeof(deadline_config_t),
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .destroy = destroy,
};
