/* health_check with use_v2 (cli_health.c): the component status body. */
#ifndef OTF_CLI_HEALTH_H
#define OTF_CLI_HEALTH_H

#include "otflow/config.h"
#include "otflow/engine.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct otf_cli_health {
	bool include_permanent, include_recoverable;
	int64_t recovery_ns;
	uint64_t start_ns; /* unix ns the process started */
} otf_cli_health_t;

/* The answer to GET <path>?query (query of qlen bytes, without '?'):
 * returns the HTTP status (200 healthy; unhealthy 500 for an error, 503
 * for starting / stopping / stopped; 404 for an unknown ?pipeline=) with
 * *body (JSON, otf_free; NULL on OOM) of *len bytes. engine NULL: not
 * running (StatusStarting, 503). cfg: the config running, whose
 * service.pipelines group the components (NULL or none: "pipeline:dag"). */
int otf_cli_health_reply(const otf_cli_health_t *h, otf_engine_t *engine, const otf_config_t *cfg,
                         const char *query, size_t qlen, char **body, size_t *len);

#endif
