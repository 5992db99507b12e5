/* Admin API routing (socket-free): what GET /, /api/v1/dag and
 * /api/v1/nodes/{id} answer, given the DAG and the engine. The HTTP side
 * is in src/cli/cli_admin.c. */
#ifndef OTF_ADMIN_H
#define OTF_ADMIN_H

#include "otflow/engine.h"

#include <stddef.h>

extern const char otf__admin_page[];

typedef struct otf_admin_reply {
	int status;
	const char *content_type;
	char *body; /* otf_free'd by the caller (NULL for the static page) */
	const char *static_body;
	size_t len;
} otf_admin_reply_t;

/* Routes one request: method, path of path_len bytes, the Content-Type
 * header (ctype of ctype_len bytes, NULL = none) and the body (NULL =
 * none). engine NULL: nothing runs (a CFG body is only checked). */
void otf__admin_route(const otf_dag_t *dag, otf_engine_t *engine, const char *method,
                      const char *path, size_t path_len, const char *ctype, size_t ctype_len,
                      const char *body, size_t body_len, otf_admin_reply_t *out);

/* The CFG body parser (admin_cfg.c): a JSON (application/json) or YAML
 * (application/yaml, application/x-yaml, text/yaml; parameters such as
 * charset ignored) body into a config tree whose root is the node's new
 * config mapping. Returns 0 with *out (otf_config_destroy), or an HTTP
 * status with msg set: 415 for another or no content type, 400 for a
 * body that does not parse, is empty or is not a mapping. */
struct otf_config;
int otf__admin_cfg_parse(const char *ctype, size_t ctype_len, const char *body, size_t len,
                         struct otf_config **out, char *msg, size_t msglen);

#endif
