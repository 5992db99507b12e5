/* processor `interval`, internal interface: config, the split of one
 * decoded request into what is held (the latest point of each series)
 * and what passes, and the build of the request sent at each interval.
 *
 * Source: opentelemetry-collector-contrib processor/intervalprocessor
 * (README.md, config.go, processor.go): `interval` (default 60s),
 * `pass_through.gauge` / `pass_through.summary` (default false). Held,
 * latest point per series: cumulative monotonic sums, cumulative
 * histograms and exponential histograms, gauges and summaries (unless
 * passed through). Passed on at once: delta metrics and non-monotonic
 * sums. A point replaces the held one when its timestamp is not older.
 * At each interval the held points are sent, grouped by resource, scope
 * and metric, and the state is cleared (nothing new, nothing sent).
 *
 * Shared state: the held points live in the node's series map, shared by
 * its instances on every worker (internal/series.h), so one series sent
 * on several connections is still one point per interval; worker 0's
 * instance sends at each interval, and every instance sends what is held
 * at shutdown.
 *
 * Thread rules: config read-only; the functions are thread-safe against
 * one map. */
#ifndef OTF_INTERVAL_H
#define OTF_INTERVAL_H

#include "components/processors/internal/series.h"
#include "otflow/buf.h"
#include "otflow/config_schema.h"
#include "otflow/pdata.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct otf_interval_pass {
	bool gauge, summary;
} otf_interval_pass_t;

typedef struct otf_interval_config {
	int64_t interval_ns;
	otf_interval_pass_t pass_through;
} otf_interval_config_t;

extern const otf_config_field_t otf_interval_schema[];

/* Holds md's aggregated points in map and removes them from md (metrics,
 * scopes and resources left empty go). *held: points taken. 0,
 * OTF_E_NOMEM or an encoder error. */
int otf__interval_take(const otf_interval_config_t *c, otf_series_map_t *map, otf_metrics_t *md,
                       uint64_t now_ns, uint64_t *held, uint64_t *refused);
/* Drains map into one ExportMetricsServiceRequest: *out NULL when nothing
 * was held; *points the data points in it. 0 or a negative code. */
int otf__interval_flush(otf_series_map_t *map, otf_buf_t **out, uint64_t *points);
void otf__interval_free_state(otf_series_entry_t *e);

#endif
