/* Server authentication of the otlp receiver (`protocols.*.auth`):
 * the authenticator extension found at start, the check of one request,
 * and the identity put into the message envelope (otflow/auth.h). */
#ifndef OTF_OTLP_AUTH_H
#define OTF_OTLP_AUTH_H

#include "otlp_receiver_config.h"

#include "otflow/auth.h"

#include <stdbool.h>
#include <stddef.h>

struct sockaddr;

typedef struct otlp_auth_rx {
	const otf_server_auth_iface_t *vt; /* NULL: no authentication */
	void *inst;
} otlp_auth_rx_t;

void otlp_auth_resolve(otf_node_t *node, const otlp_auth_t *c, otlp_auth_rx_t *out);

/* Checks a request whose headers header(ctx, name, &len) returns. 0 =
 * allowed (res holds the identity), else refused with res->reason; logs
 * the refusal at debug level with the peer. */
int otlp_auth_check(otf_node_t *node, const otlp_auth_rx_t *a,
                    const char *(*header)(void *ctx, const char *name, size_t *len), void *ctx,
                    const struct sockaddr *peer, otf_auth_result_t *res);

/* Adds "auth.<key>" entries of res to m's envelope. */
void otlp_auth_envelope(otf_msg_t *m, const otf_auth_result_t *res);

/* The verified client certificate's subject (RFC 2253, "CN=a,O=b") as
 * the identity: auth.subject (unless an authenticator set one) and
 * auth.cn, its common name. subject NULL: nothing. */
void otlp_auth_tls_envelope(otf_msg_t *m, const char *subject);

/* True for client metadata keys receivers must not copy: "auth.*" is
 * the authenticated identity's namespace. */
bool otlp_auth_reserved_key(const char *key, size_t len);

#endif
