/* Extensions (otflow/extension.h): instances per enabled id, kept in the
 * DAG; lookup by id and interface; the check of component config fields
 * that name an extension. */
#include "engine/engine_internal.h"

#include "otflow/alloc.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"
#include "otflow/extension.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

typedef struct otf_dag_ext {
	char *id;
	const otf_component_factory_t *factory;
	void *config;
	void *instance;
	char origin[160];
} otf_dag_ext_t;

static const char *const k_iface_names[OTF_EXT_IFACE_COUNT] = {
    "server authentication (auth.authenticator of a receiver)",
    "client authentication (auth.authenticator of an exporter)",
    "storage (sending_queue.storage)",
};

bool otf_extension_type_known(const char *type)
{
	return otf_component_find(OTF_KIND_EXTENSION, type) != NULL;
}

static const otf_dag_ext_t *find(const otf_dag_t *dag, const char *id)
{
	if (dag->ext_dag)
		dag = dag->ext_dag; /* a reload's DAG: the first one's extensions */
	for (size_t i = 0; i < dag->exts_len; i++)
		if (!strcmp(dag->exts[i].id, id))
			return &dag->exts[i];
	return NULL;
}

const void *otf_dag_extension(const otf_dag_t *dag, const char *id, otf_ext_iface_t iface,
                              void **instance)
{
	*instance = NULL;
	const otf_dag_ext_t *x = id && (unsigned)iface < OTF_EXT_IFACE_COUNT ? find(dag, id) : NULL;
	if (!x || !x->factory->ext_ifaces[iface])
		return NULL;
	*instance = x->instance;
	return x->factory->ext_ifaces[iface];
}

const void *otf_node_extension(otf_node_t *node, const char *id, otf_ext_iface_t iface,
                               void **instance)
{
	/* Extensions are started once, with the first DAG (reloads keep
	 * them: reshape.c). */
	return otf_dag_extension(node->worker->engine->dag0, id, iface, instance);
}

static void ext_free(otf_dag_ext_t *x)
{
	if (x->instance && x->factory->ext_destroy)
		x->factory->ext_destroy(x->instance);
	otf__component_config_free(x->factory, x->config);
	otf_free(x->id);
}

int otf_dag_add_extension(otf_dag_t *dag, const char *id, const char *type,
                          const struct otf_config_node *cfg, const char *origin, char *err,
                          size_t errlen)
{
	const char *where = origin ? origin : "";
	const char *sep = origin ? ": " : "";
	if (find(dag, id)) {
		snprintf(err, errlen, "%s%sextension '%s' is enabled twice", where, sep, id);
		return -EEXIST;
	}
	const otf_component_factory_t *f = otf_component_find(OTF_KIND_EXTENSION, type);
	if (!f || !f->ext_create) {
		snprintf(err, errlen, "%s%sunknown extension type '%s' (see `otflow components`)",
		         where, sep, type);
		return OTF_E_NOT_FOUND;
	}
	if (dag->exts_len == dag->exts_cap) {
		size_t cap = dag->exts_cap ? dag->exts_cap * 2 : 4;
		otf_dag_ext_t *n = otf_realloc(dag->exts, cap * sizeof *n);
		if (!n)
			return OTF_E_NOMEM;
		dag->exts = n;
		dag->exts_cap = cap;
	}
	otf_dag_ext_t x = {.factory = f};
	snprintf(x.origin, sizeof x.origin, "%s", where);
	char cerr[512] = "";
	int rc = otf__component_config_apply(f, cfg, &x.config, cerr, sizeof cerr);
	if (rc) {
		snprintf(err, errlen, "%s%sextension '%s': %s", where, sep, id, cerr);
		return rc;
	}
	x.id = otf_strndup(id, strlen(id));
	if (!x.id) {
		otf__component_config_free(f, x.config);
		return OTF_E_NOMEM;
	}
	otf_ext_create_ctx_t ctx = {
	    .id = id, .config = x.config, .origin = x.origin, .err = cerr, .errlen = sizeof cerr};
	rc = f->ext_create(&ctx, &x.instance);
	if (rc) {
		snprintf(err, errlen, "%s%sextension '%s': %s", where, sep, id,
		         cerr[0] ? cerr : otf_strerror(rc));
		x.instance = NULL;
		ext_free(&x);
		return rc == OTF_E_NOMEM ? rc : OTF_E_CONFIG;
	}
	dag->exts[dag->exts_len++] = x;
	return 0;
}

int otf__dag_extensions_start(otf_dag_t *dag, char *err, size_t errlen)
{
	if (dag->exts_started)
		return 0;
	for (size_t i = 0; i < dag->exts_len; i++) {
		otf_dag_ext_t *x = &dag->exts[i];
		if (!x->factory->ext_start)
			continue;
		int rc = x->factory->ext_start(x->instance);
		if (rc) {
			snprintf(err, errlen, "%s: extension '%s' failed to start: %s", x->origin,
			         x->id, otf_strerror(rc));
			return rc;
		}
	}
	dag->exts_started = true;
	return 0;
}

void otf__dag_extensions_destroy(otf_dag_t *dag)
{
	/* Reverse order: a later extension may use an earlier one. */
	for (size_t i = dag->exts_len; i-- > 0;)
		ext_free(&dag->exts[i]);
	otf_free(dag->exts);
	dag->exts = NULL;
	dag->exts_len = dag->exts_cap = 0;
}

/* Walks schema fields (recursing into objects) of the struct at base;
 * path holds the dotted key path so far (plen bytes). */
static int check_fields(const otf_dag_t *dag, const otf_config_field_t *schema, const char *base,
                        const struct otf_config_node *cfg, char *path, size_t plen, size_t pcap,
                        char *err, size_t errlen)
{
	for (const otf_config_field_t *fl = schema; fl->key; fl++) {
		int n = snprintf(path + plen, pcap - plen, "%s%s", plen ? "." : "", fl->key);
		if (n < 0 || (size_t)n >= pcap - plen)
			continue;
		if (fl->type == OTF_CFG_OBJECT && fl->sub) {
			int rc = check_fields(dag, fl->sub, base + fl->offset, cfg, path,
			                      plen + (size_t)n, pcap, err, errlen);
			if (rc)
				return rc;
			continue;
		}
		if (!fl->ext_ref || fl->type != OTF_CFG_STRING)
			continue;
		const char *id = *(char *const *)(const void *)(base + fl->offset);
		if (!id || !*id)
			continue;
		otf_ext_iface_t iface = (otf_ext_iface_t)(fl->ext_ref - 1);
		if (iface >= OTF_EXT_IFACE_COUNT)
			continue;
		const otf_dag_ext_t *x = find(dag, id);
		if (x && x->factory->ext_ifaces[iface])
			continue;
		const struct otf_config_node *at = cfg ? otf_config_get(cfg, path) : NULL;
		char loc[200] = "";
		if (at)
			snprintf(loc, sizeof loc, "%s:%u:%u: ", otf_config_node_file(at),
			         otf_config_node_line(at), otf_config_node_column(at));
		if (!x)
			snprintf(err, errlen,
			         "%s%s: '%s' is not an extension enabled in service.extensions",
			         loc, path, id);
		else
			snprintf(err, errlen, "%s%s: extension '%s' (type %s) does not provide %s",
			         loc, path, id, x->factory->type, k_iface_names[iface]);
		return OTF_E_CONFIG;
	}
	return 0;
}

int otf__check_ext_refs(const otf_dag_t *dag, const otf_component_factory_t *f, const void *config,
                        const struct otf_config_node *cfg, char *err, size_t errlen)
{
	if (!f->config_schema || !config)
		return 0;
	char path[256];
	path[0] = '\0';
	return check_fields(dag, f->config_schema, config, cfg, path, 0, sizeof path, err, errlen);
}
