/* processor `metricstransform`, internal interface: config and the
 * transform of one decoded metrics request, driven directly by the unit
 * tests.
 *
 * Source: opentelemetry-collector-contrib processor/metricstransformprocessor
 * (README.md, config.go, factory.go validation, metrics_transform_otlp.go,
 * internal/aggregateutil): `transforms` applied in order, each selecting
 * metrics by `include` (name; match_type strict, or regexp: PCRE2,
 * unanchored) with `action` update (in place), insert (a copy, after the
 * original) or combine (every matching metric of a scope merged into one
 * new metric new_name, each regexp capture group a label: named groups
 * by their name, submatch_case lower/upper; the originals removed), then
 * `new_name` (regexp: capture groups expanded, `$${1}` in the YAML) and
 * `operations` in order: add_label (new_label = new_value on every point;
 * `{{version}}` is otflow's version), update_label (value_actions, then
 * the rename to new_label), delete_label_value, toggle_scalar_data_type
 * (int <-> double), experimental_scale_value, aggregate_labels (only the
 * label_set labels stay, points with the same labels merged) and
 * aggregate_label_values (aggregated_values become new_value, then the
 * same merge). aggregation_type: sum, mean, min, max, count, median on
 * gauges and sums; histograms merge with sum only (count, sum, buckets of
 * the same bounds). A merged point has the earliest start time and the
 * latest timestamp.
 *
 * experimental_match_labels: a metric is selected when one of its points
 * has every label with its value (regexp patterns with match_type
 * regexp); insert copies only those points; update and combine act on
 * the whole metric.
 *
 * group: the matching metrics of each resource move to a new resource
 * (its attributes plus group_resource_labels) after the others.
 *
 * Within one request only (as the Collector's: no state across
 * requests).
 *
 * Thread rules: the config is read-only; otf__mt_apply allocates in the
 * caller's arena. */
#ifndef OTF_METRICSTRANSFORM_H
#define OTF_METRICSTRANSFORM_H

#include "otflow/arena.h"
#include "otflow/config_schema.h"
#include "otflow/pdata.h"

#include <stdbool.h>
#include <stdint.h>

enum { OTF_MT_UPDATE = 0, OTF_MT_INSERT, OTF_MT_COMBINE, OTF_MT_GROUP };
enum {
	OTF_MT_ADD_LABEL = 0,
	OTF_MT_UPDATE_LABEL,
	OTF_MT_DELETE_LABEL_VALUE,
	OTF_MT_TOGGLE_SCALAR_DATA_TYPE,
	OTF_MT_SCALE_VALUE,
	OTF_MT_AGGREGATE_LABELS,
	OTF_MT_AGGREGATE_LABEL_VALUES,
};
enum {
	OTF_MT_AGG_NONE = 0,
	OTF_MT_SUM,
	OTF_MT_MEAN,
	OTF_MT_MIN,
	OTF_MT_MAX,
	OTF_MT_COUNT,
	OTF_MT_MEDIAN
};

typedef struct otf_mt_value_action {
	char *value, *new_value;
} otf_mt_value_action_t;

typedef struct otf_mt_op {
	int action;
	char *label, *new_label, *new_value, *label_value, *aggregation_type;
	otf_config_strlist_t aggregated_values, label_set;
	double experimental_scale;
	otf_config_objlist_t value_actions; /* otf_mt_value_action_t */
} otf_mt_op_t;

typedef struct otf_mt_transform {
	char *include;
	int match_type; /* 0 strict, 1 regexp */
	int action;
	char *new_name, *aggregation_type, *submatch_case;
	otf_config_strmap_t experimental_match_labels, group_resource_labels;
	otf_config_objlist_t operations; /* otf_mt_op_t */
} otf_mt_transform_t;

typedef struct otf_mt_config {
	otf_config_objlist_t transforms; /* otf_mt_transform_t */
} otf_mt_config_t;

extern const otf_config_field_t otf_mt_schema[];
/* Checks the Collector's rules (what each action and operation
 * requires) and compiles the regexps once to report their errors. */
int otf__mt_validate(const void *config, char *err, size_t errlen);

/* Compiled include patterns, one per transform (NULL for strict), and
 * per transform the experimental_match_labels value patterns (NULL for
 * strict; nl[t] of them). */
typedef struct otf_mt_compiled {
	void **re;
	void ***lre;
	size_t *nl;
	size_t n;
} otf_mt_compiled_t;

int otf__mt_compile(const otf_mt_config_t *c, otf_mt_compiled_t *out);
void otf__mt_compiled_free(otf_mt_compiled_t *x);

typedef struct otf_mt_stats {
	uint64_t changed; /* metrics touched */
} otf_mt_stats_t;

/* Transforms md in place; new arrays come from arena. 0 or OTF_E_NOMEM. */
int otf__mt_apply(const otf_mt_config_t *c, const otf_mt_compiled_t *x, otf_metrics_t *md,
                  otf_arena_t *arena, otf_mt_stats_t *st);

/* OTF_MT_SUM.. for "sum".., OTF_MT_AGG_NONE for NULL, -1 otherwise. */
int otf__mt_agg_of(const char *s);
/* mt_ops.c: one operation on one metric. */
int otf__mt_op_apply(const otf_mt_op_t *op, otf_metric_t *m, otf_arena_t *a);
/* Merges the points of m with equal attributes by agg (OTF_MT_*). */
int otf__mt_merge(otf_metric_t *m, int agg, otf_arena_t *a);

#endif
