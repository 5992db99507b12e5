/* processor `deltatocumulative`, internal interface: config and the
 * conversion of one decoded metrics request against the shared series
 * state (internal/series.h), driven directly by the unit tests.
 *
 * Source: opentelemetry-collector-contrib processor/deltatocumulativeprocessor
 * (README.md, config.go, internal/delta): keys and defaults (max_stale 5m,
 * a positive duration; max_streams the largest int), every delta sum and
 * delta histogram becomes cumulative by adding its samples to the
 * series' running total; the output point has the series' first start
 * time and the sample's timestamp. A sample whose start time is before
 * the series' start, or whose timestamp is not after the last one, is
 * dropped (out of order), as is one whose bucket layout differs from the
 * series' (explicit bounds or bucket count) or whose value type (int,
 * double) changed. New series past max_streams are dropped and counted;
 * a series without samples for max_stale is forgotten (its next sample
 * starts a new total). Histograms add count, sum and buckets and keep the
 * smallest min and largest max.
 *
 * Exponential histograms (dtc_expo.c) add at the smaller of the two
 * scales, lowered further while a bucket side would span more than 160
 * buckets. Series bound: max_streams, and at most OTF_SERIES_HARD_MAX
 * whatever it says.
 *
 * Thread rules: the config is read-only; otf__dtc_apply is thread-safe
 * against the same map. */
#ifndef OTF_DELTATOCUMULATIVE_H
#define OTF_DELTATOCUMULATIVE_H

#include "components/processors/internal/series.h"
#include "otflow/arena.h"
#include "otflow/config_schema.h"
#include "otflow/pdata.h"

#include <stdint.h>

typedef struct otf_dtc_config {
	int64_t max_stale_ns;
	int64_t max_streams;
} otf_dtc_config_t;

extern const otf_config_field_t otf_dtc_schema[];
int otf__dtc_validate(const void *config, char *err, size_t errlen);

typedef struct otf_dtc_stats {
	uint64_t converted; /* points sent on as cumulative */
	uint64_t dropped;   /* out of order, other layout or type */
	uint64_t refused;   /* new series past max_streams */
	uint64_t metrics;   /* metrics converted */
} otf_dtc_stats_t;

/* Converts md in place (dropped points and metrics left empty removed);
 * exponential histograms' bucket arrays are replaced by copies in arena.
 * now_ns: the monotonic clock (staleness). 0 or OTF_E_NOMEM. */
int otf__dtc_apply(otf_series_map_t *map, otf_metrics_t *md, uint64_t now_ns, otf_arena_t *arena,
                   otf_dtc_stats_t *st);
void otf__dtc_free_state(otf_series_entry_t *e);

/* dtc_expo.c: one exponential histogram sample (1 keep, 0 drop, or a
 * negative code); its state is tagged u[3] == OTF_DTC_EXPO_TAG. */
#define OTF_DTC_EXPO_MAX_BUCKETS 160
#define OTF_DTC_EXPO_TAG         100u
int otf__dtc_expo_point(otf_series_map_t *map, otf_series_key_t mk,
                        otf_exp_histogram_data_point_t *p, uint64_t now, otf_arena_t *a,
                        otf_dtc_stats_t *st);
void otf__dtc_expo_free(void *data);

#endif
