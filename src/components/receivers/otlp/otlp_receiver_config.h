/* Configuration of the otlp receiver, in the Collector's shape:
 *   otlp:
 *     wait_for_result: false
 *     protocols:
 *       http:
 *         endpoint: localhost:4318
 *         max_request_body_size: 20MiB
 *         ...
 */
#ifndef OTF_OTLP_RECEIVER_CONFIG_H
#define OTF_OTLP_RECEIVER_CONFIG_H

#include "otflow/config_schema.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct otlp_cors {
	otf_config_strlist_t allowed_origins; /* "*" or patterns with one "*" */
	otf_config_strlist_t allowed_headers;
	int64_t max_age; /* seconds; 0 = no Access-Control-Max-Age */
} otlp_cors_t;

typedef struct otlp_http {
	char *endpoint;
	uint64_t max_request_body_size; /* bytes */
	int64_t idle_timeout_ns;
	bool include_metadata;
	char *traces_url_path;
	char *metrics_url_path;
	char *logs_url_path;
	otlp_cors_t cors;
} otlp_http_t;

typedef struct otlp_grpc {
	char *endpoint;
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
} otlp_config_t;

extern const otf_config_field_t otlp_receiver_schema[];
int otlp_receiver_validate(const void *config, char *err, size_t errlen);

/* "host:port", "[v6]:port", ":port" (all interfaces). */
int otlp_parse_endpoint(const char *endpoint, char *host, size_t cap, uint16_t *port);

bool otlp_cors_origin_allowed(const otlp_cors_t *c, const char *origin);
/* Allowed headers for a preflight: the Collector's defaults plus the
 * configured ones, comma-separated. */
void otlp_cors_allowed_headers(const otlp_cors_t *c, char *buf, size_t cap);

#endif
