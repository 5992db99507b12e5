/* Configuration of the otlp_mmap receiver (otlp_mmap_config.c): the
 * parsed shape, its schema and validation. Durations are nanoseconds. */
#ifndef OTF_OTLP_MMAP_CONFIG_H
#define OTF_OTLP_MMAP_CONFIG_H

#include "otflow/config_schema.h"

#include <stddef.h>
#include <stdint.h>

typedef struct wait_cfg {
	int64_t spin, yield;
	int64_t min_sleep_ns, max_sleep_ns;
} wait_cfg_t;

typedef struct metrics_cfg {
	int64_t export_interval_ns;
	int temporality;
	int64_t max_series;
} metrics_cfg_t;

typedef struct mmap_cfg {
	char *path;
	int delivery; /* 0 at_most_once, 1 at_least_once */
	int64_t span_ttl_ns;
	int64_t max_open_spans;
	int64_t hole_timeout_ns;
	int64_t max_batch;
	int64_t scan_interval_ns;
	int64_t checkpoint_interval_ns;
	wait_cfg_t wait;
	metrics_cfg_t metrics;
} mmap_cfg_t;

extern const otf_config_field_t otf__mmap_schema[];
/* 0, or OTF_E_CONFIG with the key and the rule in err. */
int otf__mmap_validate(const void *config, char *err, size_t errlen);

#endif
