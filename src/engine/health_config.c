/* health_check's keys from the Collector's healthcheckv2 extension (its
 * README is the spec): use_v2 (bool, default false) and component_health
 * {include_permanent_errors: false, include_recoverable_errors: false,
 * recovery_duration: 5m}. What they do is in src/cli/cli_health.c. */
#include "engine/engine_internal.h"

#include "otflow/config.h"
#include "otflow/err.h"
#include "otflow/service.h"

#include <string.h>

int otf__read_health_v2(const char *key, const struct otf_config_node *v,
                        struct otf_service_settings *s, otf_config_error_t *err)
{
	if (!strcmp(key, "use_v2"))
		return otf_config_read_bool(v, &s->health_v2, err);
	if (otf_config_node_kind(v) == OTF_CONFIG_NULL)
		return 0;
	if (otf_config_node_kind(v) != OTF_CONFIG_MAPPING)
		return otf_config_errorf(err, v, "component_health: expected a mapping");
	for (size_t k = 0; k < otf_config_len(v); k++) {
		const otf_config_node_t *x;
		const char *name = otf_config_map_at(v, k, &x);
		int rc;
		if (!strcmp(name, "include_permanent_errors"))
			rc = otf_config_read_bool(x, &s->health_include_permanent, err);
		else if (!strcmp(name, "include_recoverable_errors"))
			rc = otf_config_read_bool(x, &s->health_include_recoverable, err);
		else if (!strcmp(name, "recovery_duration")) {
			rc = otf_config_read_duration(x, &s->health_recovery_ns, err);
			if (!rc && s->health_recovery_ns < 0)
				rc = otf_config_errorf(err, x,
				                       "recovery_duration: must not be negative");
		} else
			rc = otf_config_errorf(
			    err, x,
			    "component_health: unknown key '%s' (valid: "
			    "include_permanent_errors, include_recoverable_errors, "
			    "recovery_duration)",
			    name);
		if (rc)
			return rc;
	}
	return 0;
}
