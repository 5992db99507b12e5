/* Component configs: allocate the factory's config struct and fill it from
 * its declarative schema (otflow/config_schema.h), then run the factory's
 * own cross-field validation. */
#include "engine/engine_internal.h"

#include "otflow/alloc.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"

#include <stdio.h>

int otf__component_config_apply(const otf_component_factory_t *f, const struct otf_config_node *cfg,
                                void **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!f->config_schema) {
		if (cfg && otf_config_node_kind(cfg) == OTF_CONFIG_MAPPING && otf_config_len(cfg)) {
			snprintf(err, errlen, "type '%s' takes no configuration", f->type);
			return OTF_E_CONFIG;
		}
		return 0;
	}
	void *c = otf_calloc(1, f->config_size ? f->config_size : 1);
	if (!c)
		return OTF_E_NOMEM;
	otf_config_error_t cerr;
	int rc =
	    otf_config_schema_apply_ex(f->config_schema, cfg, c, &cerr, otf__config_warn_log, NULL);
	if (rc) {
		snprintf(err, errlen, "%s", rc == OTF_E_CONFIG ? cerr.text : otf_strerror(rc));
		otf_free(c);
		return rc;
	}
	if (f->validate) {
		rc = f->validate(c, err, errlen);
		if (rc) {
			otf_config_schema_free(f->config_schema, c);
			otf_free(c);
			return rc;
		}
	}
	*out = c;
	return 0;
}

void otf__config_warn_log(void *user, const otf_config_error_t *w)
{
	(void)user;
	otf_log(OTF_LOG_WARN, "config", "%s", w->text);
}

void otf__component_config_free(const otf_component_factory_t *f, void *config)
{
	if (!config)
		return;
	if (f->config_schema)
		otf_config_schema_free(f->config_schema, config);
	otf_free(config);
}
