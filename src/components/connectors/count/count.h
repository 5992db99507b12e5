/* connector `count`, internal interface: the config (five sections of
 * metric definitions, OTTL conditions compiled at load) and the counting
 * of one request (count_build.c), engine-free so the unit tests drive it.
 *
 * Source: opentelemetry-collector-contrib connector/countconnector
 * (README.md, config.go, connector.go, counter.go): a section left out of
 * the config counts with its default metric (`trace.span.count`,
 * `trace.span.event.count`, `metric.count`, `metric.datapoint.count`,
 * `log.record.count`, with the Collector's descriptions); a section given
 * counts only its own metrics. Conditions are ORed; `attributes` split the
 * count per distinct value set (record attributes only; a record missing
 * one without a `default_value` is not counted by that metric). Each
 * consumed request gives one metrics request: per input resource with
 * counts, its attributes, scope `otelcol/countconnector`, delta monotonic
 * int sums stamped with the time of the count.
 *
 * Thread rules: the config (with its compiled programs) is read-only and
 * shared by the workers; otf_count_build is reentrant.
 */
#ifndef OTFLOW_COUNT_CONNECTOR_H
#define OTFLOW_COUNT_CONNECTOR_H

#include "otflow/buf.h"
#include "otflow/config_schema.h"
#include "otflow/ottl.h"
#include "otflow/pdata.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct otf_count_attr {
	char *key;
	char *def; /* NULL: records without the attribute are not counted */
} otf_count_attr_t;

typedef struct otf_count_metric {
	char *name;
	char *desc;
	otf_count_attr_t *attrs;
	size_t nattrs;
	otf_ottl_program_t *cond; /* NULL: every record */
} otf_count_metric_t;

/* One section (spans, spanevents, metrics, datapoints, logs). */
typedef struct otf_count_defs {
	otf_count_metric_t *items;
	size_t n;
	bool set; /* the key was in the config: no default metric */
} otf_count_defs_t;

enum {
	OTF_COUNT_SPANS = 0,
	OTF_COUNT_SPANEVENTS,
	OTF_COUNT_METRICS,
	OTF_COUNT_DATAPOINTS,
	OTF_COUNT_LOGS,
	OTF_COUNT_SECTIONS
};

typedef struct otf_count_config {
	otf_count_defs_t sec[OTF_COUNT_SECTIONS];
} otf_count_config_t;

extern const otf_config_field_t otf_count_schema[];

/* The definitions in force for section s: the configured ones, or the
 * default metric when the section was not given. */
const otf_count_defs_t *otf_count_section(const otf_count_config_t *c, int s);

/* Counts the records of one protobuf request of signal sig and encodes
 * the counts as an ExportMetricsServiceRequest into *out (NULL when
 * nothing was counted), *points its data points; now_ns stamps them.
 * 0, OTF_E_NOMEM, a decode error, or a condition's runtime error (err,
 * errlen get a message naming the metric) as the Collector's
 * PropagateError. */
int otf_count_build(const otf_count_config_t *c, otf_signal_t sig, const uint8_t *data, size_t len,
                    uint64_t now_ns, otf_buf_t **out, uint64_t *points, char *err, size_t errlen);

#endif
