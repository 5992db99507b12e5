/* OTLP/HTTP request handling without sockets: request bytes in, a message
 * payload or an HTTP error out; response bodies in the request's encoding.
 * Source: OTLP specification, "OTLP/HTTP" (opentelemetry-proto
 * docs/specification.md): POST /v1/{traces,metrics,logs}, Content-Type
 * application/x-protobuf or application/json, success = 200 with an
 * Export*ServiceResponse, failure = a google.rpc.Status body. */
#ifndef OTF_OTLP_HTTP_INGEST_H
#define OTF_OTLP_HTTP_INGEST_H

#include "otflow/buf.h"
#include "otflow/pdata.h"
#include "otflow/pdata_view.h"

#include <stdbool.h>

typedef enum otlp_encoding {
	OTLP_ENC_PROTO = 0,
	OTLP_ENC_JSON = 1,
} otlp_encoding_t;

typedef struct otlp_ingest {
	int http_status; /* 200 when payload is set */
	otf_signal_t signal;
	otlp_encoding_t encoding; /* of the request, for the response */
	otf_buf_t *payload;       /* protobuf Export*ServiceRequest, owned by the caller */
	uint64_t items;           /* spans / data points / log records */
	char message[320];        /* why, when http_status != 200 */
} otlp_ingest_t;

/* Maps a Content-Type (parameters ignored) to an encoding; -1 unknown. */
int otf__otlp_content_type(const char *content_type);

/* Validates body for signal and produces the protobuf payload (JSON is
 * converted; protobuf is checked with otf_view_validate, everything the
 * decoder checks, and passed on as it came, without a copy: the returned
 * payload is a new reference to body). Fills out->http_status 400 with a
 * message naming the field path for data a decoder would refuse or that
 * exceeds lim (NULL: no item or attribute limit), 503 when out of memory. */
void otf__otlp_ingest(otf_signal_t signal, otlp_encoding_t enc, otf_buf_t *body,
                      const otf_view_limits_t *lim, otlp_ingest_t *out);

/* Export*ServiceResponse for signal in enc (no partial_success). */
otf_buf_t *otf__otlp_success_body(otf_signal_t signal, otlp_encoding_t enc);

/* google.rpc.Status {code, message} in enc. grpc_code: 3 INVALID_ARGUMENT,
 * 8 RESOURCE_EXHAUSTED, 14 UNAVAILABLE, ... */
otf_buf_t *otf__otlp_status_body(otlp_encoding_t enc, int grpc_code, const char *message);

#endif
