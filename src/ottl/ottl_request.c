/* OTTL `request["key"]`: the client metadata of the request a record
 * arrived in (HTTP headers, gRPC metadata), as the routing connector's
 * `request` context reads it (connector/routingconnector README in
 * opentelemetry-collector-contrib: `request["X-Tenant"] == "acme"`).
 *
 * It is a path of every context rather than a context of its own, so a
 * condition may mix it with resource or scope fields. It is read only and
 * takes exactly one key; a key that is absent (or a record without
 * metadata) reads as nil, so `request["k"] == nil` is true and
 * `request["k"] == "v"` false, as the Collector's client.Info metadata. */
#include "ottl_fields.h"

#include "otflow/err.h"

#include <string.h>

/* Header names longer than this are refused by both receivers. */
#define REQUEST_KEY_MAX 256

int otf__ottl_request_check(const otf__ottl_node_t *path, otf__ottl_err_t *e)
{
	if (path->nkeys != 1)
		return otf__ottl_errorf(e, path->pos,
		                        "path 'request' takes one key, the metadata name: "
		                        "request[\"X-Tenant\"]");
	return 0;
}

int otf__ottl_request_get(otf__ottl_run_t *r, const otf__ottl_node_t *path, otf_any_value_t *out)
{
	memset(out, 0, sizeof *out); /* nil */
	otf_any_value_t k;
	int rc = otf__ottl_eval(r, path->keys[0], &k);
	if (rc)
		return rc;
	if (k.type != OTF_ANY_STRING)
		return otf__ottl_errorf(r->e, path->keys[0]->pos,
		                        "request[] takes a string key, got %s",
		                        otf__ottl_type_name(k.type));
	const otf_ottl_record_t *rec = r->rec;
	if (!rec->request_header || k.u.string_value.len >= REQUEST_KEY_MAX)
		return 0;
	char key[REQUEST_KEY_MAX];
	memcpy(key, k.u.string_value.ptr, k.u.string_value.len);
	key[k.u.string_value.len] = '\0';
	const char *v = rec->request_header(rec->request_user, key);
	if (v) {
		out->type = OTF_ANY_STRING;
		out->u.string_value.ptr = (const uint8_t *)v;
		out->u.string_value.len = strlen(v);
	}
	return 0;
}
