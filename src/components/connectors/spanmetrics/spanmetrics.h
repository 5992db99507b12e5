/* connector `spanmetrics`, internal interface: the config struct and the
 * aggregator (spanmetrics_agg.c), which turns OTLP trace request bytes
 * into R.E.D. series and builds an ExportMetricsServiceRequest from them.
 * It knows nothing of the engine, so the unit tests drive it directly.
 *
 * Source: opentelemetry-collector-contrib connector/spanmetricsconnector
 * (README.md, config.go, connector.go): keys, defaults, metric names,
 * attribute values (SPAN_KIND_*, STATUS_CODE_*), the overflow series
 * `otel.metric.overflow=true` once aggregation_cardinality_limit series
 * exist for a resource. Differences are listed in docs/components.md.
 *
 * Units: durations in ns (config), histogram values in the configured unit
 * (ms or s); timestamps ns since the UNIX epoch.
 *
 * Thread rules: an aggregator is not thread-safe; the connector shares one
 * per node between its workers' instances and serializes every call with
 * a mutex (spanmetrics.c says why). The config is read-only and shared.
 */
#ifndef OTFLOW_SPANMETRICS_H
#define OTFLOW_SPANMETRICS_H

#include "otflow/buf.h"
#include "otflow/config_schema.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One extra dimension: attribute name and optional default (NULL = the
 * dimension is omitted when the span and its resource lack it). */
typedef struct otf_sm_dimension {
	char *name;
	char *def;
} otf_sm_dimension_t;

typedef struct otf_sm_dimensions {
	otf_sm_dimension_t *items;
	size_t n;
} otf_sm_dimensions_t;

/* Durations from histogram.explicit.buckets, in ns (CUSTOM field). */
typedef struct otf_sm_buckets {
	int64_t *ns;
	size_t n;
	bool set;
} otf_sm_buckets_t;

typedef struct otf_sm_explicit_cfg {
	otf_sm_buckets_t buckets;
} otf_sm_explicit_cfg_t;

typedef struct otf_sm_exponential_cfg {
	int64_t max_size;
} otf_sm_exponential_cfg_t;

typedef struct otf_sm_histogram_cfg {
	bool disable;
	int unit; /* 0 ms, 1 s */
	otf_sm_explicit_cfg_t explicit_;
	otf_sm_exponential_cfg_t exponential;
	bool has_explicit, has_exponential;
	otf_sm_dimensions_t dimensions; /* accepted, warned */
} otf_sm_histogram_cfg_t;

typedef struct otf_sm_toggle_cfg {
	bool enabled;
	int64_t max_per_data_point;
	otf_sm_dimensions_t dimensions;
} otf_sm_toggle_cfg_t;

typedef struct otf_sm_config {
	otf_sm_dimensions_t dimensions;
	otf_sm_dimensions_t calls_dimensions;
	otf_config_strlist_t exclude_dimensions;
	int64_t dimensions_cache_size;
	int64_t resource_metrics_cache_size;
	otf_config_strlist_t resource_metrics_key_attributes;
	int aggregation_temporality; /* 0 cumulative, 1 delta */
	otf_sm_histogram_cfg_t histogram;
	int64_t metrics_flush_interval_ns;
	int64_t metrics_expiration_ns;
	int64_t metric_timestamp_cache_size;
	char *namespace_;
	otf_sm_toggle_cfg_t exemplars;
	otf_sm_toggle_cfg_t events;
	otf_config_strlist_t include_instrumentation_scope;
	int64_t aggregation_cardinality_limit;
} otf_sm_config_t;

extern const otf_config_field_t otf_sm_schema[];
int otf_sm_validate(const void *config, char *err, size_t errlen);

/* Hard bound on series per aggregator (per node), whatever the config: past it, new
 * series of every resource go to that resource's overflow series. */
#define OTF_SM_MAX_SERIES ((size_t)100000)

/* Exponential histogram of positive values (durations), as go-expohisto
 * (the Collector's): starts at scale 20, downscales when the index range
 * would exceed max_size buckets. */
typedef struct otf_sm_exph {
	int32_t scale;
	int32_t offset; /* index of counts[0] */
	uint32_t len;
	uint64_t zero_count;
	uint64_t n; /* values added */
	double min, max;
	uint64_t *counts; /* max_size */
} otf_sm_exph_t;

/* Adds v (>= 0) to h, downscaling to keep at most max_size buckets. */
void otf__sm_exph_add(otf_sm_exph_t *h, double v, int32_t max_size);

typedef struct otf_sm_agg otf_sm_agg_t;

typedef struct otf_sm_stats {
	uint64_t spans;             /* spans counted into a series (overflow included) */
	uint64_t overflow_spans;    /* ... of them into an overflow series */
	uint64_t skipped_spans;     /* resource without service.name (as the Collector) */
	uint64_t evicted_resources; /* least recently seen, past resource_metrics_cache_size */
	size_t series, resources;
} otf_sm_stats_t;

/* NULL on OOM. cfg must outlive the aggregator. */
otf_sm_agg_t *otf_sm_agg_create(const otf_sm_config_t *cfg);
void otf_sm_agg_destroy(otf_sm_agg_t *a);
/* Counts the spans of one ExportTraceServiceRequest (protobuf). now_ns is
 * the start time given to series created by this call. 0, OTF_E_NOMEM, or
 * a negative view error on malformed input (what was read before the
 * error stays counted). */
int otf_sm_agg_add(otf_sm_agg_t *a, const uint8_t *data, size_t len, uint64_t now_ns);
/* Builds the metrics request of every series with data at now_ns into *out
 * (NULL when there is nothing to send), then applies temporality (delta:
 * counts reset) and metrics_expiration. 0 or a negative code. */
int otf_sm_agg_flush(otf_sm_agg_t *a, uint64_t now_ns, otf_buf_t **out, uint64_t *points);
void otf_sm_agg_stats(const otf_sm_agg_t *a, otf_sm_stats_t *out);

#endif
