/* Request headers of an exporter: its static `headers` plus what a client
 * authenticator (`auth.authenticator`, otflow/auth.h) adds per request.
 * Names compare case-insensitively; order is kept. Loop-thread only. */
#ifndef OTF_EXPH_HEADERS_H
#define OTF_EXPH_HEADERS_H

#include "otflow/auth.h"
#include "otflow/config_schema.h"

#include <stddef.h>

typedef struct otf_exph_headers {
	char **names;
	char **values;
	size_t n, cap;
	int error; /* first allocation failure while building */
} otf_exph_headers_t;

/* Sets name per mode (otf_auth_header_mode_t); the otf_auth_header_fn
 * shape, ctx being the otf_exph_headers_t. */
void otf__exph_headers_set(void *ctx, const char *name, const char *value,
                           otf_auth_header_mode_t mode);
void otf__exph_headers_free(otf_exph_headers_t *h);

/* Builds out = static_headers, then the authenticator's headers for msg
 * (vt may be NULL). Returns 0, OTF_E_NOMEM, or the authenticator's error;
 * on error out holds nothing. */
int otf__exph_headers_make(otf_exph_headers_t *out, const otf_config_strmap_t *static_headers,
                           const otf_client_auth_iface_t *vt, void *inst, const otf_msg_t *msg);

/* `auth: {authenticator: <extension id>}` of exporters (configauth). */
typedef struct otf_exph_auth_config {
	char *authenticator;
} otf_exph_auth_config_t;
extern const otf_config_field_t otf__exph_auth_schema[];

/* The client authenticator the config names on node's DAG; *vt NULL when
 * none is configured (the reference was checked at config load). */
void otf__exph_auth_resolve(otf_node_t *node, const otf_exph_auth_config_t *c,
                            const otf_client_auth_iface_t **vt, void **inst);

/* Flattens h into name, value, ..., NULL (pointers into h); NULL on OOM
 * or when h is empty. The array is otf_free'd by the caller. */
const char **otf__exph_headers_flat(const otf_exph_headers_t *h);

#endif
