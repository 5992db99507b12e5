/* failover_router's node functions, shared with the Collector's `failover`
 * connector (src/components/connectors/failover/), which is this node with
 * its levels named by priority_levels: one implementation of the
 * behaviour described in failover_router.c. */
#ifndef OTF_FAILOVER_ROUTER_H
#define OTF_FAILOVER_ROUTER_H

#include "otflow/component.h"

#include <stdint.h>

#define OTF_FO_MAX_LEVELS 8

/* The node's config; a connector's config struct starts with it. */
typedef struct otf__fo_config {
	int64_t retry_interval_ns;
	int64_t retry_gap_ns;
	int64_t max_retries;
	uint64_t max_bytes;
	uint64_t max_items;
	int64_t attempt_timeout_ns; /* 0: none (the connector has no such key) */
} otf__fo_config_t;

/* "0" .. "7", NULL-terminated: level i is port i + 1. */
extern const char *const otf__fo_ports[];

int otf__fo_create(const otf_create_ctx_t *ctx, void **inst);
void otf__fo_consume(void *inst, otf_msg_t *m);
void otf__fo_control(void *inst, const otf_ctrl_t *c);
void otf__fo_destroy(void *inst);
int otf__fo_check_wiring(const void *config, uint32_t in, const uint32_t *ps, uint32_t nports,
                         char *err, size_t errlen);

#endif
