/* exporter `otlp`: OTLP/gRPC client (OTLP specification, "OTLP/gRPC"):
 * unary Export calls of opentelemetry.proto.collector.{trace,metrics,logs}
 * .v1 carrying the request bytes as they came (never decoded), compressed
 * per config (grpc-encoding), over the nghttp2 client in grpc_client.c,
 * behind the shared queue and retries (exporterhelper.h).
 *
 * Statuses ("Failures"): CANCELLED, DEADLINE_EXCEEDED, ABORTED,
 * OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS are retried, RESOURCE_EXHAUSTED only
 * when the server sent a RetryInfo, whose retry_delay is honoured as the
 * least wait; every other status is permanent. OK's partial_success is
 * logged and its rejected items counted as failed. */
#include "grpc_client.h"

#include "../exporterhelper/exph_headers.h"
#include "../exporterhelper/exporterhelper.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/grpc_server.h" /* status names */
#include "otflow/pdata_codec.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct otlp_exp_config {
	char *endpoint;
	char *authority;
	char *compression;
	otf_config_strmap_t headers;
	int64_t timeout_ns;
	otf_exph_tls_config_t tls;
	otf_exph_auth_config_t auth;
	otf_exph_retry_config_t retry;
	otf_exph_queue_config_t queue;
} otlp_exp_config_t;

typedef struct otlp_exporter {
	otf_node_t *node;
	const otlp_exp_config_t *cfg;
	otf_exph_t *h;
	otf_grpcc_t *client;
	otf_tls_ctx_t *tls; /* NULL = h2c; shared by the workers */
	otf_exph_compression_t compression;
	char target[300];
	/* auth.authenticator: the headers of each request, made when it is
	 * queued (capture), replace the static `headers`. */
	const otf_client_auth_iface_t *auth;
	void *auth_inst;
} otlp_exporter_t;

static const char *const k_methods[OTF_SIGNAL_COUNT] = {
    "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
    "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
};

/* "host:port", "[v6]:port", or with a scheme, as the Collector reads it:
 * http:// is plaintext whatever tls says, https:// is TLS. *scheme: 0
 * none, 1 http, 2 https. */
static int parse_endpoint(const char *ep, char *host, size_t cap, uint16_t *port, int *scheme)
{
	*scheme = 0;
	if (!ep)
		return OTF_E_CONFIG;
	if (!strncasecmp(ep, "http://", 7)) {
		ep += 7;
		*scheme = 1;
	} else if (!strncasecmp(ep, "https://", 8)) {
		ep += 8;
		*scheme = 2;
	}
	const char *colon = strrchr(ep, ':');
	if (!colon || colon == ep)
		return OTF_E_CONFIG;
	const char *h = ep;
	size_t hl = (size_t)(colon - ep);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl >= cap)
		return OTF_E_CONFIG;
	memcpy(host, h, hl);
	host[hl] = '\0';
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if ((*end && strcmp(end, "/")) || p <= 0 || p > 65535)
		return OTF_E_CONFIG;
	*port = (uint16_t)p;
	return 0;
}

typedef struct attempt {
	otlp_exporter_t *e;
	otf_exph_req_t *req;
	otf_grpcc_call_t *call;
} attempt_t;

static void on_result(void *arg, const otf_grpcc_result_t *r)
{
	attempt_t *a = arg;
	otlp_exporter_t *e = a->e;
	otf_exph_req_t *req = a->req;
	otf_free(a);
	otf_exph_result_t res;
	memset(&res, 0, sizeof res);
	if (r->status == OTF_GRPC_OK) {
		res.outcome = OTF_EXPH_OK;
		otf_export_response_t resp;
		if (r->response && r->response->len &&
		    !otf_pdata_decode_response(&resp, req->signal, r->response->data,
		                               r->response->len, NULL) &&
		    (resp.rejected > 0 || resp.error_message.len)) {
			res.rejected = resp.rejected > 0 ? (uint64_t)resp.rejected : 0;
			snprintf(res.reason, sizeof res.reason, "%.*s", (int)resp.error_message.len,
			         (const char *)resp.error_message.ptr);
		}
	} else {
		bool retry = otf__grpcc_retryable(r->status, r->has_retry_info);
		res.outcome = retry ? OTF_EXPH_RETRYABLE : OTF_EXPH_PERMANENT;
		res.error = r->status == OTF_GRPC_RESOURCE_EXHAUSTED ? OTF_E_NOMEM : OTF_E_IO;
		res.retry_after_ns = r->retry_ns;
		snprintf(res.reason, sizeof res.reason, "%s from %.60s: %.70s",
		         otf_grpc_status_name(r->status), e->target, r->message);
	}
	otf__exph_done(e->h, req, &res);
}

static int send_attempt(void *ctx, otf_exph_req_t *req, uint64_t timeout_ms,
                        otf_exph_result_t *fail)
{
	otlp_exporter_t *e = ctx;
	(void)fail;
	int rc;
	if (!req->body) {
		otf_buf_t *z = NULL;
		rc = otf__exph_compress(e->compression, req->payload, &z);
		if (rc)
			return rc;
		if (z->len > UINT32_MAX) {
			otf_buf_unref(z);
			return OTF_E_TOO_LARGE;
		}
		/* The client writes the 5-byte prefix itself: no framed copy. */
		req->body = z;
	}
	attempt_t *a = otf_calloc(1, sizeof *a);
	if (!a)
		return OTF_E_NOMEM;
	a->e = e;
	a->req = req;
	const char **meta = req->xdata ? otf__exph_headers_flat(req->xdata) : NULL;
	a->call = otf__grpcc_call_ex(e->client, k_methods[req->signal], req->body,
	                             e->compression != OTF_EXPH_COMPRESSION_NONE, timeout_ms, meta,
	                             on_result, a);
	otf_free(meta);
	if (!a->call) {
		otf_free(a);
		return OTF_E_NOMEM;
	}
	req->tdata = a;
	return 0;
}

static int capture(void *ctx, otf_exph_req_t *req, const otf_msg_t *m)
{
	otlp_exporter_t *e = ctx;
	otf_exph_headers_t *h = otf_malloc(sizeof *h);
	if (!h)
		return OTF_E_NOMEM;
	int rc = otf__exph_headers_make(h, &e->cfg->headers, e->auth, e->auth_inst, m);
	if (rc) {
		otf_free(h);
		return rc;
	}
	req->xdata = h;
	return 0;
}

static void release(void *ctx, otf_exph_req_t *req)
{
	(void)ctx;
	otf__exph_headers_free(req->xdata);
	otf_free(req->xdata);
	req->xdata = NULL;
}

static void abort_attempt(void *ctx, otf_exph_req_t *req);
static const otf_exph_ops_t k_ops = {.send = send_attempt, .abort = abort_attempt};
static const otf_exph_ops_t k_ops_auth = {
    .send = send_attempt, .capture = capture, .release = release, .abort = abort_attempt};

/* TLS unless tls.insecure, as the Collector's otlp exporter; the scheme
 * of the endpoint decides when there is one. */
static bool uses_tls(const otlp_exp_config_t *c, int scheme)
{
	return scheme == 2 || (scheme == 0 && !c->tls.insecure);
}

/* The client holds the TLS context until its last connection closed. */
static void client_closed(void *arg)
{
	otlp_exporter_t *e = arg;
	otf_tls_ctx_release(e->tls);
	otf_free(e);
}

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	const otlp_exp_config_t *c = ctx->config;
	otlp_exporter_t *e = otf_calloc(1, sizeof *e);
	if (!e)
		return OTF_E_NOMEM;
	e->node = ctx->node;
	e->cfg = c;
	e->compression = (otf_exph_compression_t)otf__exph_compression_parse(c->compression);
	char host[256];
	uint16_t port;
	int scheme;
	int rc = parse_endpoint(c->endpoint, host, sizeof host, &port, &scheme);
	if (rc) {
		otf_free(e);
		return rc;
	}
	if (uses_tls(c, scheme)) {
		char err[512];
		rc = otf_tls_ctx_acquire(&c->tls, &c->tls, OTF_TLS_CLIENT, "h2", "tls",
		                         otf_node_name(e->node), &e->tls, err, sizeof err);
		if (rc) {
			otf_node_log(e->node, OTF_LOG_ERROR, "%s", err);
			otf_free(e);
			return rc;
		}
	}
	snprintf(e->target, sizeof e->target, "%s", c->endpoint);
	const char **meta = otf_calloc(2 * c->headers.n + 1, sizeof *meta);
	if (!meta) {
		otf_free(e);
		return OTF_E_NOMEM;
	}
	otf__exph_auth_resolve(ctx->node, &c->auth, &e->auth, &e->auth_inst);
	for (size_t i = 0; !e->auth && i < c->headers.n; i++) {
		meta[2 * i] = c->headers.keys[i];
		meta[2 * i + 1] = c->headers.values[i];
	}
	otf_grpcc_config_t gc = {
	    .host = host,
	    .port = port,
	    .authority = c->authority && c->authority[0] ? c->authority : NULL,
	    .encoding = e->compression == OTF_EXPH_COMPRESSION_NONE
	                    ? NULL
	                    : otf__exph_compression_name(e->compression),
	    .meta = meta,
	    .tls = e->tls,
	    .server_name = c->tls.server_name_override,
	    .handshake_timeout_ms = (uint64_t)c->timeout_ns / 1000000,
	};
	rc = otf__grpcc_create(otf_node_loop(e->node), &gc, &e->client);
	otf_free(meta);
	if (!rc) {
		e->h = otf__exph_create(e->node, &c->retry, &c->queue, c->timeout_ns,
		                        e->auth ? &k_ops_auth : &k_ops, e);
		if (!e->h) {
			otf__grpcc_close(e->client, client_closed, e);
			return OTF_E_NOMEM;
		}
	}
	if (rc) {
		otf_tls_ctx_release(e->tls);
		otf_free(e);
		return rc;
	}
	*inst = e;
	return 0;
}

static void consume(void *inst, otf_msg_t *m)
{
	otlp_exporter_t *e = inst;
	otf__exph_consume(e->h, m);
}

static void control(void *inst, const otf_ctrl_t *c)
{
	otlp_exporter_t *e = inst;
	otf__exph_control(e->h, c);
	if (c->payload)
		otf_buf_unref(c->payload);
}

static void abort_attempt(void *ctx, otf_exph_req_t *req)
{
	(void)ctx;
	attempt_t *a = req->tdata;
	if (!a)
		return;
	otf__grpcc_cancel(a->call);
	otf_free(a);
	req->tdata = NULL;
}

static void destroy(void *inst)
{
	otlp_exporter_t *e = inst;
	otf__exph_each_inflight(e->h, abort_attempt, e);
	otf__exph_destroy(e->h);
	e->h = NULL;
	otf__grpcc_close(e->client, client_closed, e);
}

static int validate(const void *config, char *err, size_t errlen)
{
	const otlp_exp_config_t *c = config;
	char host[256];
	uint16_t port;
	int scheme;
	if (parse_endpoint(c->endpoint, host, sizeof host, &port, &scheme)) {
		snprintf(err, errlen, "endpoint: expected \"host:port\", got \"%s\"",
		         c->endpoint ? c->endpoint : "");
		return OTF_E_CONFIG;
	}
	/* Certificates and keys are read now: a bad one is a startup error. */
	int rc = uses_tls(c, scheme)
	             ? otf_tls_config_check(&c->tls, OTF_TLS_CLIENT, "tls", err, errlen)
	             : 0;
	if (rc)
		return rc;
	if (otf__exph_compression_parse(c->compression) < 0) {
		snprintf(err, errlen, "compression: \"%s\" is not one of gzip, zstd, none",
		         c->compression);
		return OTF_E_CONFIG;
	}
	if (c->timeout_ns < 0) {
		snprintf(err, errlen, "timeout: must not be negative");
		return OTF_E_CONFIG;
	}
	return otf__exph_validate(&c->retry, &c->queue, err, errlen);
}

static const otf_config_field_t k_schema[] = {
    {.key = "endpoint",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otlp_exp_config_t, endpoint),
     .required = true,
     .hint = "host:port",
     .desc = "Server to send to (http:// means plaintext, https:// TLS)."},
    {.key = "authority",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otlp_exp_config_t, authority),
     .desc = "Overrides the :authority of the calls (default: the endpoint)."},
    {.key = "compression",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otlp_exp_config_t, compression),
     .def = "gzip",
     .desc = "grpc-encoding of requests: gzip, zstd or none."},
    {.key = "headers",
     .type = OTF_CFG_STRING_MAP,
     .offset = offsetof(otlp_exp_config_t, headers),
     .desc = "Metadata sent with every call (names are lower-cased)."},
    {.key = "timeout",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(otlp_exp_config_t, timeout_ns),
     .def = "5s",
     .desc = "Limit of one attempt, sent as grpc-timeout; 0 = none."},
    {.key = "tls",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(otlp_exp_config_t, tls),
     .sub = otf_tls_client_schema,
     .desc = "TLS (configtls, ALPN h2): on unless insecure: true or an http:// endpoint."},
    {.key = "auth",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(otlp_exp_config_t, auth),
     .sub = otf__exph_auth_schema,
     .desc = "Client authentication: headers from an authenticator extension, per call."},
    {.key = "retry_on_failure",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(otlp_exp_config_t, retry),
     .sub = otf__exph_retry_schema,
     .desc = "Retries of retryable statuses (UNAVAILABLE, DEADLINE_EXCEEDED, ...)."},
    {.key = "sending_queue",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(otlp_exp_config_t, queue),
     .sub = otf__exph_queue_schema,
     .desc = "In-memory queue in front of the gRPC client."},
    OTF_CONFIG_FIELD_END,
};

/* The Collector's lower_snake_case name (v0.144), accepted as well. */
static const char *const k_aliases[] = {"otlp_grpc", NULL};

OTF_EXPH_CHECK_REBUILD(otlp_exp_config_t)

const otf_component_factory_t otf_exporter_otlp_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXPORTER,
    .type = "otlp",
    .description = "Sends OTLP over gRPC (h2c) with retries and a sending queue.",
    .stability = {OTF_STABILITY_BETA, OTF_STABILITY_BETA, OTF_STABILITY_BETA},
    .config_schema = k_schema,
    .config_size = sizeof(otlp_exp_config_t),
    .validate = validate,
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .check_rebuild = check_rebuild,
    .destroy = destroy,
    .aliases = k_aliases,
};
