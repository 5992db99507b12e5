/* Service settings and the config -> DAG front-ends.
 *
 * otf_service_build() takes a loaded config (otflow/config.h) in either
 * format and builds the DAG (otflow/engine.h):
 *
 * - OpenTelemetry Collector YAML: `receivers`, `processors`, `exporters`,
 *   `connectors`, `extensions` and `service` (`extensions`, `pipelines`,
 *   `telemetry`). Node names are "<kind>:<component id>", except processors,
 *   which the Collector instantiates per pipeline:
 *   "processor:<id>@<pipeline id>". Components defined but used by no
 *   pipeline are not instantiated (as in the Collector).
 * - otflow native: `nodes` (name -> {kind, type, config}) and `connections`
 *   (list of {from, to, port, signals}); see docs/configuration.md.
 *
 * Both accept a `runtime:` section (workers, channel_capacity,
 * control_capacity, shutdown_timeout).
 */
#ifndef OTFLOW_SERVICE_H
#define OTFLOW_SERVICE_H

#include "otflow/config.h"
#include "otflow/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct otf_service_settings {
	otf_runtime_config_t runtime;
	char metrics_address[128]; /* "" = disabled; default "localhost:8888" */
	otf_log_level_t log_level;
	bool health_check;               /* extension enabled in service.extensions */
	char health_check_endpoint[128]; /* default "localhost:13133" */
} otf_service_settings_t;

/* Builds and compiles the DAG. On failure returns OTF_E_CONFIG (or another
 * negative code) and err->text names file:line:col, key path and problem. */
int otf_service_build(const otf_config_t *cfg, otf_dag_t **dag, otf_service_settings_t *settings,
                      otf_config_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
