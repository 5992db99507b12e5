/* Field ids of OTTL paths and the accessors ottl_paths.c shares with
 * ottl_paths_set.c. Private to src/ottl/. */
#ifndef OTF_OTTL_FIELDS_H
#define OTF_OTTL_FIELDS_H

#include "ottl_internal.h"

enum {
	F_RES_ATTRS,
	F_RES_DROPPED,
	F_RES_SCHEMA,
	F_SCOPE_NAME,
	F_SCOPE_VERSION,
	F_SCOPE_ATTRS,
	F_SCOPE_DROPPED,
	F_SCOPE_SCHEMA,
	F_SPAN_TRACE_ID,
	F_SPAN_TRACE_ID_STR,
	F_SPAN_SPAN_ID,
	F_SPAN_SPAN_ID_STR,
	F_SPAN_PARENT_ID,
	F_SPAN_PARENT_ID_STR,
	F_SPAN_TRACE_STATE,
	F_SPAN_NAME,
	F_SPAN_KIND,
	F_SPAN_START,
	F_SPAN_END,
	F_SPAN_START_TIME,
	F_SPAN_END_TIME,
	F_SPAN_ATTRS,
	F_SPAN_DROPPED,
	F_SPAN_DROPPED_EVENTS,
	F_SPAN_DROPPED_LINKS,
	F_SPAN_FLAGS,
	F_SPAN_STATUS_CODE,
	F_SPAN_STATUS_MSG,
	F_EV_TIME,
	F_EV_TIME_T,
	F_EV_NAME,
	F_EV_ATTRS,
	F_EV_DROPPED,
	F_METRIC_NAME,
	F_METRIC_DESC,
	F_METRIC_UNIT,
	F_METRIC_TYPE,
	F_METRIC_TEMPORALITY,
	F_METRIC_MONOTONIC,
	F_METRIC_METADATA,
	F_DP_ATTRS,
	F_DP_START,
	F_DP_TIME,
	F_DP_VALUE_DOUBLE,
	F_DP_VALUE_INT,
	F_DP_FLAGS,
	F_DP_COUNT,
	F_DP_SUM,
	F_LOG_TIME,
	F_LOG_OBSERVED,
	F_LOG_TIME_T,
	F_LOG_OBSERVED_T,
	F_LOG_SEV_NUM,
	F_LOG_SEV_TEXT,
	F_LOG_BODY,
	F_LOG_BODY_STR,
	F_LOG_ATTRS,
	F_LOG_DROPPED,
	F_LOG_FLAGS,
	F_LOG_TRACE_ID,
	F_LOG_TRACE_ID_STR,
	F_LOG_SPAN_ID,
	F_LOG_SPAN_ID_STR,
	F_LOG_EVENT_NAME,
	F_CACHE,   /* every context: the record's scratch map */
	F_REQUEST, /* every context: the request's client metadata (ottl_request.c) */
	F_COUNT
};

/* Pointers to the common data point fields of the record's point. */
typedef struct dp_ref {
	uint64_t *start, *time;
	uint32_t *flags;
	otf_number_data_point_t *num;
	uint64_t *count;
	double *sum;
	bool *has_sum;
} dp_ref_t;

/* The attribute list a map field designates; NULL for other fields or
 * when the record lacks that level. */
otf_attributes_t *otf__ottl_attrs_of(otf_ottl_record_t *r, int f);
/* The record's data point; false when it has none. */
bool otf__ottl_dp_of(otf_ottl_record_t *r, dp_ref_t *d);
/* Error: the record lacks the path's context. */
int otf__ottl_missing(otf__ottl_run_t *r, const otf__ottl_node_t *path);
/* The field's value without keys. */
/* request["key"] (ottl_request.c): the check at compile (one key, read
 * only) and the read (a string, nil when absent). */
int otf__ottl_request_check(const otf__ottl_node_t *path, otf__ottl_err_t *e);
int otf__ottl_request_get(otf__ottl_run_t *r, const otf__ottl_node_t *path, otf_any_value_t *out);
int otf__ottl_get_field(otf__ottl_run_t *r, const otf__ottl_node_t *path, otf_any_value_t *o);
/* One key step into v; *slot is NULL for a missing key. */
int otf__ottl_step(otf__ottl_run_t *r, const otf__ottl_node_t *keynode, otf_any_value_t *v,
                   otf_any_value_t **slot);

/* Lazy records (ottl_lazy.c, otf_ottl_lazy_t): load what field needs
 * (sticky error in lazy->err); answer attributes["k"] from the bytes (1
 * answered into *out, 0 when the list must be decoded, negative on an
 * error of the key expression); note a write (negative when the field
 * cannot be written in place). */
void otf__ottl_lazy_load(otf_ottl_record_t *rec, int field);
int otf__ottl_lazy_attr(otf__ottl_run_t *r, const otf__ottl_node_t *path, otf_any_value_t *out);
int otf__ottl_lazy_write(otf__ottl_run_t *r, const otf__ottl_node_t *path);
/* set(attributes["k"], scalar) and delete_key(attributes, "k") on the
 * record's own list while it is not decoded: noted as an
 * otf_pdata_attr_op_t (1), or 0 when the caller must take the tree path
 * (negative: an error of the key expression, OTF_E_NOMEM). */
int otf__ottl_lazy_attr_set(otf__ottl_run_t *r, const otf__ottl_node_t *path,
                            const otf_any_value_t *v);
int otf__ottl_lazy_attr_del(otf__ottl_run_t *r, const otf__ottl_node_t *path, otf_bytes_t key);

#endif
