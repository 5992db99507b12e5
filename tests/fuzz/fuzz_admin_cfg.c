/* libFuzzer target: the CFG body of POST /api/v1/nodes/{id}/config, routed
 * as the admin endpoint does (otf__admin_route) but without an engine: the
 * body parser (JSON checked by json-c, then the config loader), the node's
 * schema and validate, extension references and the output-port check.
 * The first input byte picks the Content-Type and the node (filter with
 * OTTL, batch, probabilistic_sampler, an exporter without a reconfigure
 * hook, an unknown id); the rest is the body.
 * Every input must be answered with a status the API documents and a
 * JSON body; nothing may leak or read out of bounds. */
#include "admin/admin.h"

#include "otflow/alloc.h"
#include "otflow/component.h"
#include "otflow/config.h"
#include "otflow/engine.h"
#include "otflow/service.h"

#include "fuzz_common.h"

static const char k_config[] =
    "receivers: {otlp: {protocols: {http: {endpoint: \"127.0.0.1:0\"}}}}\n"
    "processors:\n"
    "  filter: {log_conditions: ['log.attributes[\"k\"] == \"a\"']}\n"
    "  batch: {}\n"
    "  probabilistic_sampler: {sampling_percentage: 50}\n"
    "exporters: {nop: {}}\n"
    "service:\n"
    "  pipelines:\n"
    "    logs: {receivers: [otlp], processors: [filter, batch, probabilistic_sampler], "
    "exporters: [nop]}\n"
    "    traces: {receivers: [otlp], processors: [batch], exporters: [nop]}\n";

static const char *const k_nodes[] = {
    "processor:filter@logs",  "processor:batch@logs", "processor:probabilistic_sampler@logs",
    "processor:batch@traces", "exporter:nop",         "nope"};
static const char *const k_types[] = {"application/json", "application/yaml; charset=utf-8",
                                      "text/yaml", "text/plain"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static otf_dag_t *dag;
	static int once;
	if (!once) {
		once = 1;
		otf_components_register_builtins();
		otf_log_set_level(OTF_LOG_ERROR);
		otf_config_t *cfg = NULL;
		otf_config_error_t err;
		FUZZ_CHECK(otf_config_load_string("fuzz.yaml", k_config, sizeof k_config - 1, NULL,
		                                  &cfg, &err) == 0);
		otf_service_settings_t st;
		if (otf_service_build(cfg, &dag, &st, &err)) {
			fprintf(stderr, "fuzz_admin_cfg: %s\n", err.text);
			abort();
		}
		otf_config_destroy(cfg); /* the DAG keeps what it needs */
	}
	if (!size)
		return 0;
	const char *node = k_nodes[(data[0] & 0x0f) % (sizeof k_nodes / sizeof k_nodes[0])];
	const char *ct = k_types[(data[0] >> 4) % (sizeof k_types / sizeof k_types[0])];
	char path[128];
	int pl = snprintf(path, sizeof path, "/api/v1/nodes/%s/config", node);
	otf_admin_reply_t r;
	otf__admin_route(dag, NULL, "POST", path, (size_t)pl, ct, strlen(ct),
	                 (const char *)data + 1, size - 1, &r);
	FUZZ_CHECK(r.status == 200 || r.status == 400 || r.status == 404 || r.status == 409 ||
	           r.status == 415 || r.status == 413);
	FUZZ_CHECK(r.body != NULL && r.len > 0);
	if (r.status == 200)
		FUZZ_CHECK(strstr(r.body, "\"applied\":false") != NULL);
	otf_free(r.body);
	return 0;
}
