/* processor `cumulativetodelta`, internal interface: config and the
 * conversion of one decoded metrics request against the shared series
 * state (internal/series.h), so the unit tests drive it without engine.
 *
 * Source: opentelemetry-collector-contrib processor/cumulativetodeltaprocessor
 * (README.md, config.go, processor.go, tracking/tracker.go): keys and
 * defaults, which metrics convert (cumulative monotonic sums and
 * cumulative histograms; non-monotonic sums, gauges, summaries, delta
 * metrics and exponential histograms pass unchanged), the identity (the
 * point's start time is part of it, so a restarted counter with a new
 * start time is a new series), initial_value auto/keep/drop, and resets
 * (a monotonic value below the previous one, a histogram count below the
 * previous one: the new value is the delta). NaN values (staleness
 * markers) are dropped.
 *
 * Differences, and why: a point whose timestamp is not after the
 * previous one of its series is dropped (the Collector subtracts it):
 * with several workers, points of one series sent on several connections
 * may be processed out of order, and dropping the older one keeps the sum
 * of the deltas equal to the counter's increase. Delta histograms have
 * no min/max (they cannot be derived from two cumulative ones). Series
 * are bounded (OTF_SERIES_HARD_MAX): points of new series past the bound
 * are dropped and counted.
 *
 * Units: ns. Thread rules: the config is read-only; otf__ctd_apply is
 * thread-safe against the same map (the map locks). */
#ifndef OTF_CUMULATIVETODELTA_H
#define OTF_CUMULATIVETODELTA_H

#include "components/processors/internal/namefilter.h"
#include "components/processors/internal/series.h"
#include "otflow/config_schema.h"
#include "otflow/pdata.h"

#include <stdint.h>

enum { OTF_CTD_INITIAL_AUTO = 0, OTF_CTD_INITIAL_KEEP = 1, OTF_CTD_INITIAL_DROP = 2 };

typedef struct otf_ctd_config {
	otf_namefilter_t include, exclude;
	int64_t max_staleness_ns; /* 0: keep state forever */
	int initial_value;        /* OTF_CTD_INITIAL_* */
} otf_ctd_config_t;

extern const otf_config_field_t otf_ctd_schema[];

typedef struct otf_ctd_stats {
	uint64_t converted; /* points sent on as deltas */
	uint64_t dropped;   /* first points (initial_value), stale order, NaN */
	uint64_t refused;   /* new series past the bound */
	uint64_t metrics;   /* metrics converted */
} otf_ctd_stats_t;

/* Converts md in place (points rewritten, dropped points and metrics left
 * without points removed; arrays are md's, in its arena). start_ns: when
 * the component started (unix ns, for initial_value auto); now_ns: the
 * monotonic clock for staleness. 0 or OTF_E_NOMEM (state of the points
 * already seen is kept). */
int otf__ctd_apply(const otf_ctd_config_t *c, otf_series_map_t *map, otf_metrics_t *md,
                   uint64_t start_ns, uint64_t now_ns, otf_ctd_stats_t *st);
/* The map's entry release (histogram state). */
void otf__ctd_free_state(otf_series_entry_t *e);

#endif
