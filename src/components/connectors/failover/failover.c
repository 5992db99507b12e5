/* connector `failover`: the Collector's failover connector (spec:
 * connector/failoverconnector/README.md in opentelemetry-collector-contrib)
 * compiled onto the failover_router node (failover_router.h): level i of
 * priority_levels is the node's port `i`, and each pipeline of that level
 * is fed from it (pipeline_ports), so several pipelines on one level are a
 * fan-out that fails when any of them fails, as the connector's rule.
 *
 * Keys and defaults as the Collector's: priority_levels (required, at most
 * 8 levels), retry_interval (10m), retry_gap (30s), max_retries (10, per
 * level; 0 = no limit); plus the node's max_bytes / max_items bounds on
 * what it holds. A message that fails on a level is resent to the next one
 * rather than lost (the node keeps each payload until its outcome). */
#include "components/processors/failover_router/failover_router.h"

#include "otflow/alloc.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* priority_levels: a list of lists of pipeline ids. */
typedef struct levels {
	otf_config_strlist_t *lists; /* n owned lists of owned strings */
	size_t n;
} levels_t;

typedef struct failover_config {
	otf__fo_config_t fo; /* first: the node reads its config from here */
	levels_t priority_levels;
} failover_config_t;

static void levels_release(void *slot)
{
	levels_t *l = slot;
	for (size_t i = 0; i < l->n; i++) {
		for (size_t k = 0; k < l->lists[i].n; k++)
			otf_free(l->lists[i].items[k]);
		otf_free(l->lists[i].items);
	}
	otf_free(l->lists);
	*l = (levels_t){0};
}

static int levels_parse(const otf_config_node_t *v, void *slot, otf_config_error_t *err)
{
	levels_t *l = slot;
	if (otf_config_node_kind(v) != OTF_CONFIG_SEQUENCE)
		return otf_config_errorf(err, v, "expected a list of lists of pipeline ids, got %s",
		                         otf_config_kind_name(v));
	size_t n = otf_config_len(v);
	l->lists = otf_calloc(n ? n : 1, sizeof *l->lists);
	if (!l->lists)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const otf_config_node_t *lv = otf_config_seq_at(v, i);
		if (otf_config_node_kind(lv) != OTF_CONFIG_SEQUENCE)
			return otf_config_errorf(
			    err, lv, "expected a list of pipeline ids (a level), got %s",
			    otf_config_kind_name(lv));
		otf_config_strlist_t *sl = &l->lists[l->n++];
		size_t m = otf_config_len(lv);
		sl->items = otf_calloc(m ? m : 1, sizeof *sl->items);
		if (!sl->items)
			return -ENOMEM;
		for (size_t k = 0; k < m; k++) {
			size_t len;
			const char *id = otf_config_scalar(otf_config_seq_at(lv, k), &len);
			if (!id)
				return otf_config_errorf(err, otf_config_seq_at(lv, k),
				                         "expected a pipeline id");
			if (!(sl->items[sl->n] = otf_strndup(id, len)))
				return -ENOMEM;
			sl->n++;
		}
	}
	return 0;
}

#define FO(m) (offsetof(failover_config_t, fo) + offsetof(otf__fo_config_t, m))

static const otf_config_field_t k_schema[] = {
    {.key = "priority_levels",
     .type = OTF_CFG_CUSTOM,
     .offset = offsetof(failover_config_t, priority_levels),
     .required = true,
     .hint = "list of lists of pipeline ids",
     .parse = levels_parse,
     .release = levels_release,
     .desc = "Pipelines by priority, highest first: [[traces/first, traces/also_first], "
             "[traces/second]]. A level fails when any of its pipelines fails. At most 8."},
    {.key = "retry_interval",
     .type = OTF_CFG_DURATION,
     .offset = FO(retry_interval_ns),
     .def = "10m",
     .min = "1ms",
     .desc = "After a switch to a lower level, how often a cycle of probes of the higher "
             "levels starts."},
    {.key = "retry_gap",
     .type = OTF_CFG_DURATION,
     .offset = FO(retry_gap_ns),
     .def = "30s",
     .min = "1ms",
     .desc = "Within a cycle, the wait after a failed probe of one level before the next "
             "higher-priority level is probed."},
    {.key = "max_retries",
     .type = OTF_CFG_INT,
     .offset = FO(max_retries),
     .def = "10",
     .min = "0",
     .desc = "Probes of each level without success before it is no longer probed (0 = no "
             "limit)."},
    {.key = "max_bytes",
     .type = OTF_CFG_SIZE,
     .offset = FO(max_bytes),
     .def = "64MiB",
     .min = "1",
     .desc = "Payload bytes held per worker until their outcome is known (otflow); past it "
             "a message is refused as retryable and counted as dropped."},
    {.key = "max_items",
     .type = OTF_CFG_UINT,
     .offset = FO(max_items),
     .def = "1000000",
     .min = "1",
     .desc = "Items held per worker, as max_bytes (otflow)."},
    OTF_CONFIG_FIELD_END,
};

static int validate(const void *config, char *err, size_t errlen)
{
	const failover_config_t *c = config;
	const levels_t *l = &c->priority_levels;
	if (!l->n || l->n > OTF_FO_MAX_LEVELS) {
		snprintf(err, errlen, "priority_levels: %zu levels, expected 1..%d", l->n,
		         OTF_FO_MAX_LEVELS);
		return OTF_E_CONFIG;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (!l->lists[i].n) {
			snprintf(err, errlen, "priority_levels[%zu]: a level needs a pipeline", i);
			return OTF_E_CONFIG;
		}
		for (size_t k = 0; k < l->lists[i].n; k++)
			for (size_t j = 0; j <= i; j++)
				for (size_t q = 0; q < (j == i ? k : l->lists[j].n); q++)
					if (!strcmp(l->lists[i].items[k], l->lists[j].items[q])) {
						snprintf(err, errlen,
						         "priority_levels: pipeline '%.100s' is "
						         "listed twice",
						         l->lists[i].items[k]);
						return OTF_E_CONFIG;
					}
	}
	return 0;
}

static uint64_t pipeline_ports(const void *config, const char *pipeline)
{
	const failover_config_t *c = config;
	uint64_t mask = 0;
	for (size_t i = 0; i < c->priority_levels.n && i < OTF_FO_MAX_LEVELS; i++)
		for (size_t k = 0; k < c->priority_levels.lists[i].n; k++)
			if (!strcmp(c->priority_levels.lists[i].items[k], pipeline))
				mask |= 1ull << (i + 1);
	return mask;
}

const otf_component_factory_t otf_connector_failover_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_CONNECTOR,
    .type = "failover",
    .description = "The Collector's failover connector: sends to the first healthy priority "
                   "level of pipelines, resending on a switch; runs as a failover_router node.",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_schema,
    .config_size = sizeof(failover_config_t),
    .validate = validate,
    .create = {otf__fo_create, otf__fo_create, otf__fo_create},
    .consume = {otf__fo_consume, otf__fo_consume, otf__fo_consume},
    .control = otf__fo_control,
    .destroy = otf__fo_destroy,
    .ports = otf__fo_ports,
    .check_wiring = otf__fo_check_wiring,
    .pipeline_ports = pipeline_ports,
};
