/* otlp receiver configuration: schema, validation, endpoint and CORS. */
#include "otlp_receiver_config.h"

#include "otflow/err.h"

#include <fnmatch.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
     .desc = "A connection that sends nothing for this long is closed."},
    {.key = "include_metadata",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(otlp_http_t, include_metadata),
     .def = "false",
     .desc = "Copy the request's HTTP headers into the message envelope (client metadata)."},
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
    OTF_CONFIG_FIELD_END,
};

static const otf_config_field_t k_grpc[] = {
    {.key = "endpoint",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otlp_grpc_t, endpoint),
     .def = "localhost:4317",
     .hint = "host:port",
     .desc = "Address to listen on."},
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
     .desc = "OTLP/gRPC: not available in this version; configuring it is an error."},
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
	if (c->protocols.grpc_set) {
		snprintf(err, errlen,
		         "protocols.grpc: OTLP/gRPC is not supported by this version of otflow; "
		         "use protocols.http");
		return OTF_E_CONFIG;
	}
	if (!c->protocols.http_set) {
		snprintf(err, errlen, "protocols: enable at least one protocol (http)");
		return OTF_E_CONFIG;
	}
	char host[256];
	uint16_t port;
	if (otlp_parse_endpoint(c->protocols.http.endpoint, host, sizeof host, &port)) {
		snprintf(err, errlen, "protocols.http.endpoint: expected \"host:port\", got \"%s\"",
		         c->protocols.http.endpoint ? c->protocols.http.endpoint : "");
		return OTF_E_CONFIG;
	}
	if (c->protocols.http.max_request_body_size == 0) {
		snprintf(err, errlen, "protocols.http.max_request_body_size: must be > 0");
		return OTF_E_CONFIG;
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
