/* otlp receiver authentication (otlp_auth.h). */
#include "otlp_auth.h"

#include "otflow/extension.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

void otlp_auth_resolve(otf_node_t *node, const otlp_auth_t *c, otlp_auth_rx_t *out)
{
	out->vt = NULL;
	out->inst = NULL;
	if (c->authenticator && *c->authenticator)
		out->vt =
		    otf_node_extension(node, c->authenticator, OTF_EXT_SERVER_AUTH, &out->inst);
}

static void peer_str(const struct sockaddr *sa, char *out, size_t cap)
{
	out[0] = '\0';
	if (!sa)
		return;
	char ip[INET6_ADDRSTRLEN] = "";
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
		snprintf(out, cap, "%s:%u", ip, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
		snprintf(out, cap, "[%s]:%u", ip, ntohs(in6->sin6_port));
	}
}

int otlp_auth_check(otf_node_t *node, const otlp_auth_rx_t *a,
                    const char *(*header)(void *ctx, const char *name, size_t *len), void *ctx,
                    const struct sockaddr *peer, otf_auth_result_t *res)
{
	memset(res, 0, sizeof *res);
	char who[64];
	peer_str(peer, who, sizeof who);
	otf_auth_request_t req = {.header = header, .ctx = ctx, .peer = who};
	int rc = a->vt->authenticate(a->inst, &req, res);
	if (rc) {
		if (!res->reason[0])
			snprintf(res->reason, sizeof res->reason, "authentication failed");
		otf_node_log(node, OTF_LOG_DEBUG, "unauthenticated request from %s: %s",
		             who[0] ? who : "?", res->reason);
	}
	return rc;
}

void otlp_auth_envelope(otf_msg_t *m, const otf_auth_result_t *res)
{
	for (size_t i = 0; i < res->n && i < OTF_AUTH_MAX_ATTRS; i++) {
		char key[48];
		snprintf(key, sizeof key, "auth.%s", res->key[i]);
		otf_msg_header_add(m, key, res->value[i]);
	}
}

bool otlp_auth_reserved_key(const char *key, size_t len)
{
	return len >= 5 && !strncasecmp(key, "auth.", 5);
}

void otlp_auth_tls_envelope(otf_msg_t *m, const char *subject)
{
	if (!subject || !*subject)
		return;
	if (!otf_msg_header_get(m, "auth.subject"))
		otf_msg_header_add(m, "auth.subject", subject);
	/* The CN attribute: at the start or after an unescaped ','. */
	char cn[256];
	for (const char *p = subject; *p; p++) {
		if ((p == subject || (p[-1] == ',' && (p - 1 == subject || p[-2] != '\\'))) &&
		    !strncmp(p, "CN=", 3)) {
			size_t n = 0;
			for (const char *q = p + 3; *q && n + 1 < sizeof cn; q++) {
				if (*q == '\\' && q[1]) {
					cn[n++] = *++q;
					continue;
				}
				if (*q == ',')
					break;
				cn[n++] = *q;
			}
			cn[n] = '\0';
			otf_msg_header_add(m, "auth.cn", cn);
			return;
		}
	}
}
