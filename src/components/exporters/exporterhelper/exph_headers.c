/* Exporter request headers (exph_headers.h). A handful of headers per
 * request: a linear scan beats any index. */
#include "exph_headers.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/extension.h"

#include <string.h>
#include <strings.h>

static long find(const otf_exph_headers_t *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (!strcasecmp(h->names[i], name))
			return (long)i;
	return -1;
}

void otf__exph_headers_set(void *ctx, const char *name, const char *value,
                           otf_auth_header_mode_t mode)
{
	otf_exph_headers_t *h = ctx;
	long at = find(h, name);
	if (mode == OTF_AUTH_HEADER_DELETE || !value) {
		if (at < 0)
			return;
		otf_free(h->names[at]);
		otf_free(h->values[at]);
		memmove(h->names + at, h->names + at + 1, (h->n - (size_t)at - 1) * sizeof(char *));
		memmove(h->values + at, h->values + at + 1,
		        (h->n - (size_t)at - 1) * sizeof(char *));
		h->n--;
		return;
	}
	if ((mode == OTF_AUTH_HEADER_INSERT && at >= 0) ||
	    (mode == OTF_AUTH_HEADER_UPDATE && at < 0))
		return;
	char *v = otf_strndup(value, strlen(value));
	if (!v) {
		h->error = OTF_E_NOMEM;
		return;
	}
	if (at >= 0) {
		otf_free(h->values[at]);
		h->values[at] = v;
		return;
	}
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 8;
		char **nn = otf_realloc(h->names, cap * sizeof *nn);
		if (nn)
			h->names = nn;
		char **nv = nn ? otf_realloc(h->values, cap * sizeof *nv) : NULL;
		if (!nv) {
			otf_free(v);
			h->error = OTF_E_NOMEM;
			return;
		}
		h->values = nv;
		h->cap = cap;
	}
	h->names[h->n] = otf_strndup(name, strlen(name));
	if (!h->names[h->n]) {
		otf_free(v);
		h->error = OTF_E_NOMEM;
		return;
	}
	h->values[h->n++] = v;
}

void otf__exph_headers_free(otf_exph_headers_t *h)
{
	for (size_t i = 0; i < h->n; i++) {
		otf_free(h->names[i]);
		otf_free(h->values[i]);
	}
	otf_free(h->names);
	otf_free(h->values);
	memset(h, 0, sizeof *h);
}

int otf__exph_headers_make(otf_exph_headers_t *out, const otf_config_strmap_t *static_headers,
                           const otf_client_auth_iface_t *vt, void *inst, const otf_msg_t *msg)
{
	memset(out, 0, sizeof *out);
	for (size_t i = 0; static_headers && i < static_headers->n; i++)
		otf__exph_headers_set(out, static_headers->keys[i], static_headers->values[i],
		                      OTF_AUTH_HEADER_UPSERT);
	int rc = out->error;
	if (!rc && vt)
		rc = vt->headers(inst, msg, otf__exph_headers_set, out);
	if (!rc)
		rc = out->error;
	if (rc)
		otf__exph_headers_free(out);
	return rc;
}

const otf_config_field_t otf__exph_auth_schema[] = {
    {.key = "authenticator",
     .type = OTF_CFG_STRING,
     .offset = offsetof(otf_exph_auth_config_t, authenticator),
     .ext_ref = 1 + OTF_EXT_CLIENT_AUTH,
     .desc = "Id of a client authenticator extension (bearertokenauth, basicauth, "
             "headers_setter) enabled in service.extensions."},
    OTF_CONFIG_FIELD_END,
};

void otf__exph_auth_resolve(otf_node_t *node, const otf_exph_auth_config_t *c,
                            const otf_client_auth_iface_t **vt, void **inst)
{
	*vt = NULL;
	*inst = NULL;
	if (c->authenticator && *c->authenticator)
		*vt = otf_node_extension(node, c->authenticator, OTF_EXT_CLIENT_AUTH, inst);
}

const char **otf__exph_headers_flat(const otf_exph_headers_t *h)
{
	if (!h->n)
		return NULL;
	const char **a = otf_calloc(2 * h->n + 1, sizeof *a);
	if (!a)
		return NULL;
	for (size_t i = 0; i < h->n; i++) {
		a[2 * i] = h->names[i];
		a[2 * i + 1] = h->values[i];
	}
	return a;
}
