/* Component factory registry. Registration happens at startup on the main
 * thread, before any worker exists, so lookups need no lock. */
#include "engine/engine_internal.h"

#include "otflow/err.h"

#include <errno.h>
#include <string.h>

#define MAX_FACTORIES 128

static const otf_component_factory_t *g_factories[MAX_FACTORIES];
static size_t g_len;

const char *otf_component_kind_name(otf_component_kind_t k)
{
	switch (k) {
	case OTF_KIND_RECEIVER:
		return "receiver";
	case OTF_KIND_PROCESSOR:
		return "processor";
	case OTF_KIND_EXPORTER:
		return "exporter";
	case OTF_KIND_CONNECTOR:
		return "connector";
	case OTF_KIND_EXTENSION:
		return "extension";
	}
	return "unknown";
}

const char *otf_stability_name(otf_stability_t s)
{
	switch (s) {
	case OTF_STABILITY_UNDEFINED:
		return "undefined";
	case OTF_STABILITY_DEVELOPMENT:
		return "development";
	case OTF_STABILITY_ALPHA:
		return "alpha";
	case OTF_STABILITY_BETA:
		return "beta";
	case OTF_STABILITY_STABLE:
		return "stable";
	case OTF_STABILITY_DEPRECATED:
		return "deprecated";
	}
	return "unknown";
}

bool otf_component_has_name(const otf_component_factory_t *f, const char *name)
{
	if (!strcmp(f->type, name))
		return true;
	for (const char *const *a = f->aliases; a && *a; a++)
		if (!strcmp(*a, name))
			return true;
	return false;
}

int otf_component_register(const otf_component_factory_t *f)
{
	/* A newer struct than ours is refused; an older (smaller) one would be
	 * accepted once fields are appended in later ABI versions. */
	if (!f || f->abi_version != OTF_COMPONENT_ABI_VERSION ||
	    f->struct_size != sizeof(otf_component_factory_t) || !f->type)
		return OTF_E_INVAL;
	if (f->kind == OTF_KIND_EXTENSION && !f->ext_create)
		return OTF_E_INVAL;
	/* A name (type or alias) must mean one factory per kind. */
	if (otf_component_find(f->kind, f->type))
		return -EEXIST;
	for (const char *const *a = f->aliases; a && *a; a++)
		if (otf_component_find(f->kind, *a) || !strcmp(*a, f->type))
			return -EEXIST;
	if (g_len == MAX_FACTORIES)
		return OTF_E_NOSPACE;
	g_factories[g_len++] = f;
	return 0;
}

const otf_component_factory_t *otf_component_find(otf_component_kind_t kind, const char *type)
{
	for (size_t i = 0; i < g_len; i++)
		if (g_factories[i]->kind == kind && otf_component_has_name(g_factories[i], type))
			return g_factories[i];
	return NULL;
}

const otf_component_factory_t *otf_component_at(size_t i)
{
	return i < g_len ? g_factories[i] : NULL;
}
