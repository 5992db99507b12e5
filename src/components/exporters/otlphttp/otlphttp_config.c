/* exporter `otlphttp`: schema and validation (otlphttp_config.h). */
#include "otlphttp_config.h"

#include "otflow/err.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const k_encodings[] = {"proto", "json", NULL};

const otf_config_field_t otlphttp_schema[] = {
    {.key = "endpoint",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otlphttp_config_t, endpoint),
     .hint = "http://host:port[/path]",
     .desc = "Base URL; each signal goes to <endpoint>/v1/traces, /v1/metrics, /v1/logs "
             "unless its own endpoint is set."},
    {.key = "traces_endpoint",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otlphttp_config_t, signal_endpoint[OTF_SIGNAL_TRACES]),
     .hint = "URL",
     .desc = "Full URL for traces (overrides endpoint)."},
    {.key = "metrics_endpoint",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otlphttp_config_t, signal_endpoint[OTF_SIGNAL_METRICS]),
     .hint = "URL",
     .desc = "Full URL for metrics (overrides endpoint)."},
    {.key = "logs_endpoint",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otlphttp_config_t, signal_endpoint[OTF_SIGNAL_LOGS]),
     .hint = "URL",
     .desc = "Full URL for logs (overrides endpoint)."},
    {.key = "encoding",
     .type = OTF_CFG_ENUM,
     .offset = offsetof(otlphttp_config_t, encoding),
     .def = "proto",
     .enum_values = k_encodings,
     .desc = "proto: the request bytes as they came (no decoding); json: converted to "
             "OTLP/JSON."},
    {.key = "compression",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otlphttp_config_t, compression),
     .def = "gzip",
     .desc = "Content-Encoding of requests: gzip, zstd or none."},
    {.key = "headers",
     .type = OTF_CFG_STRING_MAP,
     .offset = offsetof(otlphttp_config_t, headers),
     .desc = "Headers added to every request."},
    {.key = "timeout",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(otlphttp_config_t, timeout_ns),
     .def = "30s",
     .desc = "Limit of one attempt (connect, send, answer); 0 = none."},
    {.key = "tls",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(otlphttp_config_t, tls),
     .sub = otf_tls_client_schema,
     .desc = "TLS of https:// URLs (configtls through libcurl; http:// is plaintext)."},
    {.key = "auth",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(otlphttp_config_t, auth),
     .sub = otf__exph_auth_schema,
     .desc = "Client authentication: headers from an authenticator extension, per request."},
    {.key = "retry_on_failure",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(otlphttp_config_t, retry),
     .sub = otf__exph_retry_schema,
     .desc = "Retries of retryable failures (HTTP 429, 502, 503, 504, connection errors)."},
    {.key = "sending_queue",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(otlphttp_config_t, queue),
     .sub = otf__exph_queue_schema,
     .desc = "In-memory queue in front of the HTTP client."},
    OTF_CONFIG_FIELD_END,
};

int otlphttp_url(const otlphttp_config_t *c, otf_signal_t s, char *out, size_t cap)
{
	static const char *const k_paths[] = {"v1/traces", "v1/metrics", "v1/logs"};
	int n;
	if (c->signal_endpoint[s] && c->signal_endpoint[s][0]) {
		n = snprintf(out, cap, "%s", c->signal_endpoint[s]);
	} else if (c->endpoint && c->endpoint[0]) {
		size_t l = strlen(c->endpoint);
		bool slash = c->endpoint[l - 1] == '/';
		n = snprintf(out, cap, "%s%s%s", c->endpoint, slash ? "" : "/", k_paths[s]);
	} else {
		return OTF_E_CONFIG;
	}
	return n < 0 || (size_t)n >= cap ? OTF_E_CONFIG : 0;
}

int otlphttp_validate(const void *config, char *err, size_t errlen)
{
	const otlphttp_config_t *c = config;
	static const char *const k_names[] = {"traces_endpoint", "metrics_endpoint",
	                                      "logs_endpoint"};
	bool https = false;
	for (int s = 0; s < OTF_SIGNAL_COUNT; s++) {
		char url[2048];
		if (otlphttp_url(c, (otf_signal_t)s, url, sizeof url)) {
			snprintf(err, errlen,
			         "endpoint: set endpoint (or %s) to an http:// URL, e.g. "
			         "http://localhost:4318",
			         k_names[s]);
			return OTF_E_CONFIG;
		}
		if (!strncasecmp(url, "https://", 8))
			https = true;
		else if (strncasecmp(url, "http://", 7)) {
			snprintf(err, errlen, "%s: \"%s\" is not an http:// or https:// URL",
			         c->signal_endpoint[s] ? k_names[s] : "endpoint", url);
			return OTF_E_CONFIG;
		}
	}
	if (otf__exph_compression_parse(c->compression) < 0) {
		snprintf(err, errlen, "compression: \"%s\" is not one of gzip, zstd, none",
		         c->compression);
		return OTF_E_CONFIG;
	}
	if (c->timeout_ns < 0) {
		snprintf(err, errlen, "timeout: must not be negative");
		return OTF_E_CONFIG;
	}
	int rc = 0;
	if (https) {
		/* Certificates and keys are read now: a bad one is a startup error.
		 * An https:// URL is TLS whatever insecure says. */
		otf_tls_config_t t = c->tls;
		t.insecure = false;
		rc = otf_tls_config_check(&t, OTF_TLS_CLIENT, "tls", err, errlen);
		char v12[2048], v13[1024];
		if (!rc)
			rc = otf_tls_cipher_names(&c->tls.cipher_suites, "tls", v12, sizeof v12,
			                          v13, sizeof v13, err, errlen);
		if (rc)
			return rc;
	}
	return otf__exph_validate(&c->retry, &c->queue, err, errlen);
}
