/* Authentication interfaces of extensions (otflow/extension.h):
 * OTF_EXT_SERVER_AUTH for receivers, OTF_EXT_CLIENT_AUTH for exporters.
 *
 * Source of behaviour: the Collector's extension/auth (ServerAuthenticator:
 * Authenticate(ctx, headers) -> ctx with client.Info.Auth, or an error that
 * the receiver turns into HTTP 401 / gRPC UNAUTHENTICATED; ClientAuthenticator:
 * RoundTripper / PerRPCCredentials adding headers to each request) and the
 * READMEs of bearertokenauth, basicauth and headers_setter in
 * opentelemetry-collector-contrib.
 *
 * Identity: what a server authenticator learns about the client (the
 * Collector's client.Info.Auth attributes: basicauth's `username`, ...) is
 * put into the message envelope as headers named "auth.<key>"
 * (otf_msg_header_get(m, "auth.username")), next to the client metadata of
 * include_metadata. Receivers never copy a client-sent header whose name
 * starts with "auth.", so the identity cannot be forged by a header.
 *
 * Thread rules: both interfaces are called from every worker at once; the
 * extension keeps its state read-only or guarded.
 */
#ifndef OTFLOW_AUTH_H
#define OTFLOW_AUTH_H

#include "otflow/component.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A request as a server authenticator sees it: the receiver's view of the
 * HTTP headers or gRPC metadata. */
typedef struct otf_auth_request {
	/* First value of header name (case-insensitive), its length in
	 * *len; NULL when absent. The value is not NUL-terminated. */
	const char *(*header)(void *ctx, const char *name, size_t *len);
	void *ctx;
	const char *peer; /* "ip:port" of the client, "" when unknown */
} otf_auth_request_t;

#define OTF_AUTH_MAX_ATTRS 4

/* Outcome of authenticate. */
typedef struct otf_auth_result {
	size_t n; /* identity attributes, put into the envelope as "auth.<key>" */
	char key[OTF_AUTH_MAX_ATTRS][32];
	char value[OTF_AUTH_MAX_ATTRS][256];
	/* Refused: why, for the log and the client's error message; it must
	 * not contain the credential itself. */
	char reason[160];
} otf_auth_result_t;

typedef struct otf_server_auth_iface {
	/* 0: authenticated (res->n attributes set). OTF_E_CONFIG is never
	 * returned; -EACCES: refused, res->reason says why (missing header,
	 * wrong scheme, bad credentials). Other negative codes: the
	 * authenticator failed (unreadable file): the request is refused
	 * the same way and the reason logged. */
	int (*authenticate)(void *instance, const otf_auth_request_t *req, otf_auth_result_t *res);
} otf_server_auth_iface_t;

/* How a header is set on an outgoing request that may already carry it
 * (the exporter's own `headers`); names are case-insensitive. The
 * headers_setter actions. */
typedef enum otf_auth_header_mode {
	OTF_AUTH_HEADER_UPSERT = 0, /* set, replacing a value present */
	OTF_AUTH_HEADER_INSERT,     /* set only when absent */
	OTF_AUTH_HEADER_UPDATE,     /* set only when present */
	OTF_AUTH_HEADER_DELETE,     /* remove (value is NULL) */
} otf_auth_header_mode_t;

typedef void (*otf_auth_header_fn)(void *ctx, const char *name, const char *value,
                                   otf_auth_header_mode_t mode);

typedef struct otf_client_auth_iface {
	/* Headers for one outgoing request carrying msg's data. msg gives
	 * the client metadata (otf_msg_header_get) and may be NULL (no
	 * metadata known). Called on the exporter's worker, once per request
	 * when it is queued. Returns 0, or a negative code: the request
	 * fails permanently with that code (a credential that cannot be
	 * read will not appear by retrying the same bytes). */
	int (*headers)(void *instance, const otf_msg_t *msg, otf_auth_header_fn add, void *ctx);
} otf_client_auth_iface_t;

#ifdef __cplusplus
}
#endif
#endif
