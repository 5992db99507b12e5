/* otlp receiver configuration: schema, validation, endpoint and CORS. */
#include "otlp_receiver_config.h"

#include "otflow/component.h"
#include "otflow/err.h"

#include <fnmatch.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const otf_config_field_t k_auth_schema[] = {
    {.key = "authenticator",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otlp_auth_t, authenticator),
     .ext_ref = 1 + OTF_EXT_SERVER_AUTH,
     .desc = "Id of a server authenticator extension (bearertokenauth, basicauth) enabled in "
             "service.extensions."},
    OTF_CONFIG_FIELD_END,
};

static const otf_config_field_t k_cors[] = {
    {.key = "allowed_origins",
     .type = OTF_CFG_STRING_LIST,
     .offset = offsetof(otlp_cors_t, allowed_origins),
     .desc = "Origins allowed to send requests from browsers (\"*\" or a pattern with "
             "wildcards, e.g. \"https://*.example.com\"). Empty: CORS disabled."},
    {.key = "allowed_headers",
     .type = OTF_CFG_STRING_LIST,
     .offset = offsetof(otlp_cors_t, allowed_headers),
     .desc = "Request headers allowed besides Accept, Accept-Language, Content-Type, "
             "Content-Language, Content-Encoding."},
    {.key = "max_age",
     .type = OTF_CFG_INT,
     .offset = offsetof(otlp_cors_t, max_age),
     .def = "0",
     .desc = "Seconds a browser may cache the preflight answer (0 = unset)."},
    OTF_CONFIG_FIELD_END,
};

static const otf_config_field_t k_http[] = {
    {.key = "endpoint",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otlp_http_t, endpoint),
     .def = "localhost:4318",
     .hint = "host:port",
     .desc = "Address to listen on."},
    {.key = "max_request_body_size",
     .type = OTF_CFG_SIZE,
     .offset = offsetof(otlp_http_t, max_request_body_size),
     .def = "20MiB",
     .desc = "Largest request body, compressed or not; larger requests get 413 before the "
             "body is read."},
    {.key = "idle_timeout",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(otlp_http_t, idle_timeout_ns),
     .def = "60s",
     .min = "1ms",
     .max = "1000h",
     .range_why = "milliseconds in 32 bits",
     .desc = "Between requests, a connection that sends nothing for this long is closed; "
             "while a body arrives (read_timeout 0) each read must come within it."},
    {.key = "read_header_timeout",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(otlp_http_t, read_header_timeout_ns),
     .def = "1m",
     .min = "1ms",
     .max = "1000h",
     .range_why = "milliseconds in 32 bits",
     .desc = "A request's line and headers must arrive within this long of its first byte "
             "(of the accept for the first request), else 408 and close: a client "
             "trickling header bytes is cut however often it sends."},
    {.key = "read_timeout",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(otlp_http_t, read_timeout_ns),
     .def = "0s",
     .min = "0s",
     .max = "1000h",
     .range_why = "milliseconds in 32 bits",
     .desc = "A whole request, body included, must arrive within this long of its first "
             "byte, else 408 and close (0 = no limit)."},
    {.key = "include_metadata",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(otlp_http_t, include_metadata),
     .def = "false",
     .desc = "Copy the request's HTTP headers into the message envelope (client metadata)."},
    {.key = "auth",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(otlp_http_t, auth),
     .sub = k_auth_schema,
     .desc = "Server authentication: every request is checked by an authenticator extension; "
             "refused ones get 401 and never reach the pipeline."},
    {.key = "traces_url_path",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otlp_http_t, traces_url_path),
     .def = "/v1/traces",
     .desc = "Path for traces."},
    {.key = "metrics_url_path",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otlp_http_t, metrics_url_path),
     .def = "/v1/metrics",
     .desc = "Path for metrics."},
    {.key = "logs_url_path",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otlp_http_t, logs_url_path),
     .def = "/v1/logs",
     .desc = "Path for logs."},
    {.key = "cors",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(otlp_http_t, cors),
     .sub = k_cors,
     .desc = "Cross-origin requests from browsers, like the Collector's."},
    {.key = "tls",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(otlp_http_t, tls),
     .sub = otf_tls_server_schema,
     .present_at = OTF_CONFIG_PRESENT(otlp_http_t, tls_set),
     .desc =
         "Serve HTTPS (configtls; ALPN h2 and http/1.1: HTTP/2 when the client negotiates it)."},
    OTF_CONFIG_FIELD_END,
};

static const otf_config_field_t k_grpc_server_params[] = {
    {.key = "max_connection_idle",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(otlp_grpc_keepalive_server_t, max_connection_idle_ns),
     .def = "0s",
     .desc = "A connection without calls for this long is sent GOAWAY and closed (0 = never)."},
    {.key = "max_connection_age",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(otlp_grpc_keepalive_server_t, max_connection_age_ns),
     .def = "0s",
     .desc = "A connection older than this is sent GOAWAY, so clients rebalance (0 = never)."},
    {.key = "max_connection_age_grace",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(otlp_grpc_keepalive_server_t, max_connection_age_grace_ns),
     .def = "0s",
     .desc = "After max_connection_age, calls in progress get this long before the "
             "connection is closed (0 = as long as they need)."},
    {.key = "time",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(otlp_grpc_keepalive_server_t, time_ns),
     .def = "2h",
     .desc = "After this long without a frame from the client, send an HTTP/2 PING."},
    {.key = "timeout",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(otlp_grpc_keepalive_server_t, timeout_ns),
     .def = "20s",
     .desc = "Close the connection when the PING is not answered within this long."},
    OTF_CONFIG_FIELD_END,
};

static const otf_config_field_t k_grpc_enforcement[] = {
    {.key = "min_time",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(otlp_grpc_enforcement_t, min_time_ns),
     .def = "5m",
     .desc = "Client PINGs closer together than this are strikes; the third gets GOAWAY "
             "ENHANCE_YOUR_CALM (\"too_many_pings\") and the connection is closed."},
    {.key = "permit_without_stream",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(otlp_grpc_enforcement_t, permit_without_stream),
     .def = "false",
     .desc = "Allow client PINGs while no call is open (otherwise they are strikes)."},
    OTF_CONFIG_FIELD_END,
};

static const otf_config_field_t k_grpc_keepalive[] = {
    {.key = "server_parameters",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(otlp_grpc_keepalive_t, server_parameters),
     .sub = k_grpc_server_params,
     .desc = "Connection lifetime and server PINGs."},
    {.key = "enforcement_policy",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(otlp_grpc_keepalive_t, enforcement_policy),
     .sub = k_grpc_enforcement,
     .desc = "How often clients may PING."},
    OTF_CONFIG_FIELD_END,
};

static const otf_config_field_t k_grpc[] = {
    {.key = "endpoint",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otlp_grpc_t, endpoint),
     .def = "localhost:4317",
     .hint = "host:port",
     .desc = "Address to listen on."},
    {.key = "transport",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otlp_grpc_t, transport),
     .def = "tcp",
     .desc = "Only \"tcp\"."},
    {.key = "max_recv_msg_size_mib",
     .type = OTF_CFG_UINT,
     .offset = offsetof(otlp_grpc_t, max_recv_msg_size_mib),
     .def = "4",
     .desc = "Largest request message in MiB, compressed or not; larger ones get "
             "RESOURCE_EXHAUSTED without being buffered."},
    {.key = "max_concurrent_streams",
     .type = OTF_CFG_UINT,
     .offset = offsetof(otlp_grpc_t, max_concurrent_streams),
     .def = "0",
     .desc = "Calls in progress per connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS); 0 "
             "= 100."},
    {.key = "read_buffer_size",
     .type = OTF_CFG_SIZE,
     .offset = offsetof(otlp_grpc_t, read_buffer_size),
     .def = "64KiB",
     .max = "16MiB",
     .range_why = "one buffer per worker, allocated while connections exist",
     .desc = "Bytes read from a socket at a time into the read buffer (one per worker, "
             "shared by its connections; 0 = 64 KiB). Messages of 64 KiB or more are "
             "read in place, not through it."},
    {.key = "write_buffer_size",
     .type = OTF_CFG_SIZE,
     .offset = offsetof(otlp_grpc_t, write_buffer_size),
     .def = "0",
     .max = "16MiB",
     .range_why = "one socket write per connection in flight",
     .desc = "Most bytes of HTTP/2 output gathered into one socket write (0 = 256 KiB)."},
    {.key = "include_metadata",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(otlp_grpc_t, include_metadata),
     .def = "false",
     .desc = "Copy the call's request headers (gRPC metadata) into the message envelope."},
    {.key = "auth",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(otlp_grpc_t, auth),
     .sub = k_auth_schema,
     .desc = "Server authentication: every call is checked by an authenticator extension; "
             "refused ones end with UNAUTHENTICATED and never reach the pipeline."},
    {.key = "keepalive",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(otlp_grpc_t, keepalive),
     .sub = k_grpc_keepalive,
     .desc = "Keepalive, like the Collector's (grpc-go ServerParameters and "
             "EnforcementPolicy)."},
    {.key = "tls",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(otlp_grpc_t, tls),
     .sub = otf_tls_server_schema,
     .present_at = OTF_CONFIG_PRESENT(otlp_grpc_t, tls_set),
     .desc = "Serve gRPC over TLS (configtls; ALPN h2)."},
    OTF_CONFIG_FIELD_END,
};

static const otf_config_field_t k_protocols[] = {
    {.key = "http",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(otlp_protocols_t, http),
     .sub = k_http,
     .present_at = OTF_CONFIG_PRESENT(otlp_protocols_t, http_set),
     .desc = "OTLP/HTTP; enabled when the key is present (\"http:\" alone takes the "
             "defaults)."},
    {.key = "grpc",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(otlp_protocols_t, grpc),
     .sub = k_grpc,
     .present_at = OTF_CONFIG_PRESENT(otlp_protocols_t, grpc_set),
     .desc = "OTLP/gRPC (unary Export of the three OTLP services, h2c); enabled when the key "
             "is present (\"grpc:\" alone takes the defaults)."},
    OTF_CONFIG_FIELD_END,
};

const otf_config_field_t otlp_receiver_schema[] = {
    {.key = "protocols",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(otlp_config_t, protocols),
     .sub = k_protocols,
     .required = true,
     .desc = "Which protocols to serve."},
    {.key = "wait_for_result",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(otlp_config_t, wait_for_result),
     .def = "false",
     .desc = "Answer the client only after the pipeline acknowledged the data (delivery "
             "errors and backpressure reach the sender); false answers once queued."},
    {.key = "max_items_per_request",
     .type = OTF_CFG_UINT,
     .offset = offsetof(otlp_config_t, max_items_per_request),
     .min = "1",
     .range_why = "the bound keeps a small request from making the pipeline build millions of "
                  "items",
     .def = "200000",
     .desc = "otflow only: most items one request (either protocol) may hold: resource "
             "and scope groups, spans, span events and links, metrics, data points, "
             "exemplars and log records; more gets 400 / INVALID_ARGUMENT before anything "
             "is decoded. An empty record is 2 bytes on the wire, so without a bound a "
             "20 MiB body could make the pipeline build 10 million of them."},
    {.key = "max_attributes_per_request",
     .type = OTF_CFG_UINT,
     .offset = offsetof(otlp_config_t, max_attributes_per_request),
     .min = "1",
     .range_why = "the bound keeps a small request from making the pipeline build millions of "
                  "items",
     .def = "2000000",
     .desc = "otflow only: most attributes one request may hold (every KeyValue, "
             "including kvlist entries and metadata, and every array element); more gets "
             "400 / INVALID_ARGUMENT."},
    OTF_CONFIG_FIELD_END,
};

int otlp_parse_endpoint(const char *endpoint, char *host, size_t cap, uint16_t *port)
{
	if (!endpoint)
		return OTF_E_CONFIG;
	const char *colon = strrchr(endpoint, ':');
	if (!colon)
		return OTF_E_CONFIG;
	const char *h = endpoint;
	size_t hl = (size_t)(colon - endpoint);
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
	if (*end || p < 0 || p > 65535 || end == colon + 1)
		return OTF_E_CONFIG;
	*port = (uint16_t)p;
	return 0;
}

int otlp_receiver_validate(const void *config, char *err, size_t errlen)
{
	const otlp_config_t *c = config;
	if (!c->protocols.http_set && !c->protocols.grpc_set) {
		snprintf(err, errlen, "protocols: enable at least one protocol (grpc, http)");
		return OTF_E_CONFIG;
	}

	char host[256];
	uint16_t port;
	if (c->protocols.grpc_set) {
		const otlp_grpc_t *g = &c->protocols.grpc;
		if (otlp_parse_endpoint(g->endpoint, host, sizeof host, &port)) {
			snprintf(err, errlen,
			         "protocols.grpc.endpoint: expected \"host:port\", got \"%s\"",
			         g->endpoint ? g->endpoint : "");
			return OTF_E_CONFIG;
		}
		if (!g->transport || strcmp(g->transport, "tcp")) {
			snprintf(err, errlen,
			         "protocols.grpc.transport: only \"tcp\" is supported");
			return OTF_E_CONFIG;
		}
		if (g->max_recv_msg_size_mib == 0 || g->max_recv_msg_size_mib > 2047) {
			snprintf(err, errlen,
			         "protocols.grpc.max_recv_msg_size_mib: must be 1..2047 (a gRPC "
			         "message length is a 31-bit number)");
			return OTF_E_CONFIG;
		}
		if (g->max_concurrent_streams > UINT32_MAX) {
			snprintf(err, errlen, "protocols.grpc.max_concurrent_streams: too large");
			return OTF_E_CONFIG;
		}
		const otlp_grpc_keepalive_server_t *k = &g->keepalive.server_parameters;
		if (k->max_connection_idle_ns < 0 || k->max_connection_age_ns < 0 ||
		    k->max_connection_age_grace_ns < 0 || k->time_ns < 0 || k->timeout_ns < 0 ||
		    g->keepalive.enforcement_policy.min_time_ns < 0) {
			snprintf(err, errlen, "protocols.grpc.keepalive: durations must be >= 0");
			return OTF_E_CONFIG;
		}
		/* Certificates and keys are read now: a bad one is a startup error. */
		int rc = g->tls_set ? otf_tls_config_check(&g->tls, OTF_TLS_SERVER,
		                                           "protocols.grpc.tls", err, errlen)
		                    : 0;
		if (rc)
			return rc;
	}
	if (!c->protocols.http_set)
		return 0;
	if (otlp_parse_endpoint(c->protocols.http.endpoint, host, sizeof host, &port)) {
		snprintf(err, errlen, "protocols.http.endpoint: expected \"host:port\", got \"%s\"",
		         c->protocols.http.endpoint ? c->protocols.http.endpoint : "");
		return OTF_E_CONFIG;
	}
	if (c->protocols.http.tls_set) {
		int rc = otf_tls_config_check(&c->protocols.http.tls, OTF_TLS_SERVER,
		                              "protocols.http.tls", err, errlen);
		if (rc)
			return rc;
	}
	if (c->protocols.http.max_request_body_size == 0) {
		snprintf(err, errlen, "protocols.http.max_request_body_size: must be > 0");
		return OTF_E_CONFIG;
	}
	/* Listeners use SO_REUSEPORT (one per worker), so the same port for
	 * both protocols would bind without error and the kernel would hand
	 * gRPC connections to the HTTP/1.1 server at random. Refuse it; a
	 * different host on the same port (two addresses) is fine. */
	if (c->protocols.grpc_set) {
		char ghost[256];
		uint16_t gport;
		if (!otlp_parse_endpoint(c->protocols.grpc.endpoint, ghost, sizeof ghost, &gport) &&
		    gport == port && gport != 0 && !strcmp(ghost, host)) {
			snprintf(err, errlen,
			         "protocols.http.endpoint: \"%s\" is also the grpc endpoint; give "
			         "each protocol its own port",
			         c->protocols.http.endpoint);
			return OTF_E_CONFIG;
		}
	}
	return 0;
}

bool otlp_cors_origin_allowed(const otlp_cors_t *c, const char *origin)
{
	for (size_t i = 0; i < c->allowed_origins.n; i++) {
		const char *pat = c->allowed_origins.items[i];
		if (!strcmp(pat, "*") || !fnmatch(pat, origin, 0))
			return true;
	}
	return false;
}

void otlp_cors_allowed_headers(const otlp_cors_t *c, char *buf, size_t cap)
{
	size_t n = (size_t)snprintf(buf, cap,
	                            "Accept, Accept-Language, Content-Type, "
	                            "Content-Language, Content-Encoding");
	for (size_t i = 0; i < c->allowed_headers.n && n < cap; i++)
		n += (size_t)snprintf(buf + n, cap - n, ", %s", c->allowed_headers.items[i]);
}
