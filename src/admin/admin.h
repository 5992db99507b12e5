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

/* Routes one request (method, path of len bytes, body size). */
void otf__admin_route(const otf_dag_t *dag, otf_engine_t *engine, const char *method,
                      const char *path, size_t path_len, size_t body_len, otf_admin_reply_t *out);

#endif
