/* Self-metrics of the sampling processors (otflow/selfmetric.h): one
 * counter per (metric name, component id) in the process, shared by the
 * node's instances on every worker, so that a component shows one point
 * per metric whatever the number of workers.
 * Thread rules: get/put from any thread (a mutex); add from any thread
 * (relaxed atomic). Errors: get returns NULL when out of memory (adding to
 * NULL is a no-op). */
#ifndef OTF_SAMPLER_COUNTERS_H
#define OTF_SAMPLER_COUNTERS_H

#include "otflow/selfmetric.h"

#include <stdint.h>

/* name, desc and unit are static strings; label is the node's name
 * (otf_node_name; its "processor:" prefix is left out). */
otf_selfcounter_t *otf__sampler_counter_get(const char *name, const char *desc, const char *unit,
                                            const char *label);
void otf__sampler_counter_put(otf_selfcounter_t *c);

static inline void otf__sampler_counter_add(otf_selfcounter_t *c, uint64_t n)
{
	if (c && n)
		otf_selfcounter_add(c, n);
}

#endif
