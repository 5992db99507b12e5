/* Configuration of the otlp receiver, in the Collector's shape:
 *   otlp:
 *     wait_for_result: false
 *     protocols:
 *       http:
 *         endpoint: localhost:4318
 *         max_request_body_size: 20MiB
 *         ...
 *       grpc:
 *         endpoint: localhost:4317
 *         max_recv_msg_size_mib: 4
 *         keepalive: {server_parameters: {...}, enforcement_policy: {...}}
 *     max_items_per_request: 200000          (otflow's own, both protocols)
 *     max_attributes_per_request: 2000000
 */
#ifndef OTF_OTLP_RECEIVER_CONFIG_H
#define OTF_OTLP_RECEIVER_CONFIG_H

#include "otflow/config_schema.h"
#include "otflow/pdata_view.h"
#include "otflow/tls.h"

#include <stdbool.h>
#include <stddef.h>
#include <strings.h>
#include <stdint.h>

typedef struct otlp_cors {
	otf_config_strlist_t allowed_origins; /* "*" or patterns with one "*" */
	otf_config_strlist_t allowed_headers;
	int64_t max_age; /* seconds; 0 = no Access-Control-Max-Age */
} otlp_cors_t;

/* `auth: {authenticator: <extension id>}` (configauth): a server
 * authenticator checks every request before it is read further. */
typedef struct otlp_auth {
	char *authenticator;
} otlp_auth_t;

typedef struct otlp_http {
	char *endpoint;
	uint64_t max_request_body_size; /* bytes */
	int64_t idle_timeout_ns;
	int64_t read_header_timeout_ns;
	int64_t read_timeout_ns; /* 0 = no limit */
	bool include_metadata;
	otlp_auth_t auth;
	char *traces_url_path;
	char *metrics_url_path;
	char *logs_url_path;
	otlp_cors_t cors;
	otf_tls_config_t tls; /* used when tls_set (the key appears) */
	bool tls_set;
} otlp_http_t;

/* keepalive, as the Collector's configgrpc (grpc-go keepalive package). */
typedef struct otlp_grpc_keepalive_server {
	int64_t max_connection_idle_ns;      /* 0 = infinite */
	int64_t max_connection_age_ns;       /* 0 = infinite */
	int64_t max_connection_age_grace_ns; /* 0 = infinite */
	int64_t time_ns;
	int64_t timeout_ns;
} otlp_grpc_keepalive_server_t;

typedef struct otlp_grpc_enforcement {
	int64_t min_time_ns;
	bool permit_without_stream;
} otlp_grpc_enforcement_t;

typedef struct otlp_grpc_keepalive {
	otlp_grpc_keepalive_server_t server_parameters;
	otlp_grpc_enforcement_t enforcement_policy;
} otlp_grpc_keepalive_t;

typedef struct otlp_grpc {
	char *endpoint;
	char *transport; /* "tcp" only */
	uint64_t max_recv_msg_size_mib;
	uint64_t max_concurrent_streams; /* 0 = the server's default */
	uint64_t read_buffer_size;       /* bytes per socket read; 0 = 64 KiB */
	uint64_t write_buffer_size;      /* bytes gathered per socket write; 0 = 256 KiB */
	bool include_metadata;
	otlp_auth_t auth;
	otlp_grpc_keepalive_t keepalive;
	otf_tls_config_t tls; /* used when tls_set (the key appears) */
	bool tls_set;
} otlp_grpc_t;

typedef struct otlp_protocols {
	otlp_http_t http;
	bool http_set;
	otlp_grpc_t grpc;
	bool grpc_set;
} otlp_protocols_t;

typedef struct otlp_config {
	otlp_protocols_t protocols;
	bool wait_for_result;
	uint64_t max_items_per_request;      /* otf_view_limits_t.max_items */
	uint64_t max_attributes_per_request; /* otf_view_limits_t.max_attributes */
} otlp_config_t;

/* The ingress limits of a validated config (AnyValue depth: the decoder's
 * default, so that everything accepted also decodes later). */
static inline otf_view_limits_t otlp_view_limits(const otlp_config_t *c)
{
	otf_view_limits_t l = {(size_t)c->max_items_per_request,
	                       (size_t)c->max_attributes_per_request, 0};
	return l;
}

/* Envelope header holding the verified client certificate's subject
 * (RFC 2253) of an mTLS connection, for authenticators, routers and
 * attributes; a client-sent header of that name is never copied. */
#define OTLP_TLS_SUBJECT_KEY "x-otflow-tls-subject"
static inline bool otlp_is_tls_subject_key(const char *k, size_t n)
{
	return n == sizeof OTLP_TLS_SUBJECT_KEY - 1 && !strncasecmp(k, OTLP_TLS_SUBJECT_KEY, n);
}

extern const otf_config_field_t otlp_receiver_schema[];
int otlp_receiver_validate(const void *config, char *err, size_t errlen);

/* "host:port", "[v6]:port", ":port" (all interfaces). */
int otlp_parse_endpoint(const char *endpoint, char *host, size_t cap, uint16_t *port);

bool otlp_cors_origin_allowed(const otlp_cors_t *c, const char *origin);
/* Allowed headers for a preflight: the Collector's defaults plus the
 * configured ones, comma-separated. */
void otlp_cors_allowed_headers(const otlp_cors_t *c, char *buf, size_t cap);

#endif
