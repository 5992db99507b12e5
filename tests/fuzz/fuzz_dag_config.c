/* libFuzzer target: arbitrary bytes as an otflow configuration, compiled
 * into a DAG as `otflow validate` does (otf_service_build: the native
 * nodes/connections format or the Collector's pipelines, every component's
 * schema and validate, ports named by configurations, connectors' pipeline
 * ports, fan-out policies, check_wiring, cycle and path checks), then
 * printed as text and DOT. Nothing is started. Every input must compile or
 * fail with a message; nothing may leak or read out of bounds. */
#include "otflow/component.h"
#include "otflow/config.h"
#include "otflow/engine.h"
#include "otflow/err.h"
#include "otflow/service.h"

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int once;
	if (!once) {
		once = 1;
		otf_components_register_builtins();
	}
	otf_log_set_level(OTF_LOG_ERROR);
	otf_config_t *cfg = NULL;
	otf_config_error_t err;
	if (otf_config_load_string("fuzz.yaml", (const char *)data, size, NULL, &cfg, &err)) {
		FUZZ_CHECK(err.text[0] != '\0');
		return 0;
	}
	otf_dag_t *dag = NULL;
	otf_service_settings_t st;
	int rc = otf_service_build(cfg, &dag, &st, &err);
	otf_log_set_level(OTF_LOG_ERROR); /* the input may have asked for debug */
	if (rc) {
		FUZZ_CHECK(dag == NULL || rc != 0);
		FUZZ_CHECK(err.text[0] != '\0');
	} else {
		FILE *f = fopen("/dev/null", "w");
		FUZZ_CHECK(f != NULL);
		otf_dag_print(dag, f, false);
		otf_dag_print(dag, f, true);
		fclose(f);
		otf_dag_destroy(dag);
	}
	otf_config_destroy(cfg);
	return 0;
}
