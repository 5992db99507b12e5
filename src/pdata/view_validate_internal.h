/* Protobuf views, the validating walk: what view_validate.c (the tables and
 * the table walk) and view_validate_fast.c (the specialised walks of the
 * messages that make up most of a request) share. Internal to src/pdata. */
#ifndef OTF_PDATA_VIEW_VALIDATE_INTERNAL_H
#define OTF_PDATA_VIEW_VALIDATE_INTERNAL_H

#include "pb_decode_internal.h"

#include "otflow/pdata_view.h"

/* Highest field number of any OTLP message walked here (Span.flags). */
#define VF_MAX 17

typedef enum vkind {
	VK_SKIP = 0, /* unknown to the decoder: skipped */
	VK_STR,
	VK_REP_STR, /* repeated string: the path names the element */
	VK_BYTES,
	VK_TRACE_ID,
	VK_SPAN_ID,
	VK_VARINT,
	VK_I64,
	VK_I32,
	VK_REP_I64,    /* repeated fixed64/double, packed or not */
	VK_REP_VARINT, /* repeated varint, packed or not */
	VK_MSG,        /* singular sub-message */
	VK_ITEM,       /* repeated sub-message: one item each */
	VK_ATTR,       /* repeated KeyValue at depth 1: one attribute each */
	VK_ANY,        /* AnyValue at depth 1 (LogRecord.body) */
} vkind_t;

/* What an element counts as in otf_view_counts_t. */
typedef enum vclass {
	VC_NONE = 0,
	VC_RESOURCE,
	VC_SCOPE,
	VC_METRIC,
	VC_RECORD,      /* span, log record, data point */
	VC_METRIC_DATA, /* Metric.data oneof member: only the last one's points count */
} vclass_t;

typedef struct vmsg vmsg_t;

typedef struct vfield {
	uint8_t kind; /* vkind_t */
	uint8_t cls;  /* vclass_t */
	const char *name;
	const vmsg_t *sub;
} vfield_t;

typedef struct vwalk {
	otf__pbd_t d;
	otf_view_counts_t *c;
	size_t max_items, max_attributes;
} vwalk_t;

/* A specialised walk of one message (view_validate_fast.c): 0 when the
 * message is valid and counted, VF_BAIL (counts untouched) otherwise. */
typedef int vfast_fn(vwalk_t *v, const uint8_t *p, const uint8_t *end);

struct vmsg {
	vfield_t f[VF_MAX];
	vfast_fn *fast; /* NULL: the table walk only */
};

vfast_fn otf__vv_fast_event, otf__vv_fast_status, otf__vv_fast_span, otf__vv_fast_log,
    otf__vv_fast_number_dp, otf__vv_fast_histogram_dp;
vfast_fn otf__vv_fast_scope_spans, otf__vv_fast_scope_logs, otf__vv_fast_gauge, otf__vv_fast_sum,
    otf__vv_fast_histogram;

/* The tables the specialised walks fall back to or descend into. */
extern const vmsg_t otf__vv_scope, otf__vv_event, otf__vv_link, otf__vv_status, otf__vv_span,
    otf__vv_log_record, otf__vv_exemplar, otf__vv_number_dp, otf__vv_histogram_dp,
    otf__vv_scope_spans, otf__vv_scope_logs, otf__vv_gauge, otf__vv_sum, otf__vv_histogram;

/* The table walk of one message of table m in [p, end), with error paths;
 * a KeyValue or an AnyValue at the given AnyValue depth. 0 or an OTF_E_*
 * code, the error in v->d.err. */
int otf__vv_walk_msg(vwalk_t *v, const vmsg_t *m, const uint8_t *p, const uint8_t *end);
int otf__vv_walk_kv(vwalk_t *v, const uint8_t *p, const uint8_t *end, uint32_t depth);
int otf__vv_walk_any(vwalk_t *v, const uint8_t *p, const uint8_t *end, uint32_t depth);

#endif
