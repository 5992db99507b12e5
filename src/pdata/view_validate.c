/* Protobuf views: the validating walk (otf_view_validate). See
 * otflow/pdata_view.h.
 *
 * One table per OTLP message says, for each field number, what the decoder
 * (pb_decode_*.c) requires of it: a string (UTF-8), a trace or span id
 * (0/16 or 0/8 bytes), a scalar of a given wire type, a packed-or-not
 * repeated scalar, a sub-message (with its own table), an attribute
 * (KeyValue) or an AnyValue. A generic loop walks the bytes against the
 * tables with the decoder's own field readers, so both accept the same
 * input and report the same field paths, but nothing is allocated or
 * copied. The walk also counts what a decode would build, against the
 * limits, so a small request cannot announce millions of items. */
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

/* A specialised walk of one message (see "fast paths" below): 0 when the
 * message is valid and counted, VF_BAIL (counts untouched) otherwise. */
typedef int vfast_fn(vwalk_t *v, const uint8_t *p, const uint8_t *end);

struct vmsg {
	vfield_t f[VF_MAX];
	vfast_fn *fast; /* NULL: the table walk only */
};

static vfast_fn fast_event, fast_status, fast_span, fast_log, fast_number_dp, fast_histogram_dp;
static vfast_fn fast_scope_spans, fast_scope_logs, fast_gauge, fast_sum, fast_histogram;

#define F_STR(n)                         \
	{                                \
		VK_STR, VC_NONE, n, NULL \
	}
#define F_BYTES(n)                         \
	{                                  \
		VK_BYTES, VC_NONE, n, NULL \
	}
#define F_TID(n)                              \
	{                                     \
		VK_TRACE_ID, VC_NONE, n, NULL \
	}
#define F_SID(n)                             \
	{                                    \
		VK_SPAN_ID, VC_NONE, n, NULL \
	}
#define F_VARINT(n)                         \
	{                                   \
		VK_VARINT, VC_NONE, n, NULL \
	}
#define F_I64(n)                         \
	{                                \
		VK_I64, VC_NONE, n, NULL \
	}
#define F_I32(n)                         \
	{                                \
		VK_I32, VC_NONE, n, NULL \
	}
#define F_ATTR(n)                         \
	{                                 \
		VK_ATTR, VC_NONE, n, NULL \
	}
#define F_MSG(n, m)                      \
	{                                \
		VK_MSG, VC_NONE, n, &(m) \
	}
#define F_ITEM(n, c, m)             \
	{                           \
		VK_ITEM, c, n, &(m) \
	}

/* ---- common.proto, resource.proto ---- */

static const vmsg_t m_scope = {{
    [1] = F_STR("name"),
    [2] = F_STR("version"),
    [3] = F_ATTR("attributes"),
    [4] = F_VARINT("dropped_attributes_count"),
}};

static const vmsg_t m_entity_ref = {{
    [1] = F_STR("schema_url"),
    [2] = F_STR("type"),
    [3] = {VK_REP_STR, VC_NONE, "id_keys", NULL},
    [4] = {VK_REP_STR, VC_NONE, "description_keys", NULL},
}};

static const vmsg_t m_resource = {{
    [1] = F_ATTR("attributes"),
    [2] = F_VARINT("dropped_attributes_count"),
    [3] = F_ITEM("entity_refs", VC_NONE, m_entity_ref),
}};

/* ---- trace.proto ---- */

static const vmsg_t m_event = {{
                                   [1] = F_I64("time_unix_nano"),
                                   [2] = F_STR("name"),
                                   [3] = F_ATTR("attributes"),
                                   [4] = F_VARINT("dropped_attributes_count"),
                               },
                               fast_event};

static const vmsg_t m_link = {{
    [1] = F_TID("trace_id"),
    [2] = F_SID("span_id"),
    [3] = F_STR("trace_state"),
    [4] = F_ATTR("attributes"),
    [5] = F_VARINT("dropped_attributes_count"),
    [6] = F_I32("flags"),
}};

static const vmsg_t m_status = {{
                                    [2] = F_STR("message"),
                                    [3] = F_VARINT("code"),
                                },
                                fast_status};

static const vmsg_t m_span = {{
                                  [1] = F_TID("trace_id"),
                                  [2] = F_SID("span_id"),
                                  [3] = F_STR("trace_state"),
                                  [4] = F_SID("parent_span_id"),
                                  [5] = F_STR("name"),
                                  [6] = F_VARINT("kind"),
                                  [7] = F_I64("start_time_unix_nano"),
                                  [8] = F_I64("end_time_unix_nano"),
                                  [9] = F_ATTR("attributes"),
                                  [10] = F_VARINT("dropped_attributes_count"),
                                  [11] = F_ITEM("events", VC_NONE, m_event),
                                  [12] = F_VARINT("dropped_events_count"),
                                  [13] = F_ITEM("links", VC_NONE, m_link),
                                  [14] = F_VARINT("dropped_links_count"),
                                  [15] = F_MSG("status", m_status),
                                  [16] = F_I32("flags"),
                              },
                              fast_span};

static const vmsg_t m_scope_spans = {{
                                         [1] = F_MSG("scope", m_scope),
                                         [2] = F_ITEM("spans", VC_RECORD, m_span),
                                         [3] = F_STR("schema_url"),
                                     },
                                     fast_scope_spans};

static const vmsg_t m_resource_spans = {{
    [1] = F_MSG("resource", m_resource),
    [2] = F_ITEM("scope_spans", VC_SCOPE, m_scope_spans),
    [3] = F_STR("schema_url"),
}};

static const vmsg_t m_traces = {{
    [1] = F_ITEM("resource_spans", VC_RESOURCE, m_resource_spans),
}};

/* ---- logs.proto ---- */

static const vmsg_t m_log_record = {{
                                        [1] = F_I64("time_unix_nano"),
                                        [2] = F_VARINT("severity_number"),
                                        [3] = F_STR("severity_text"),
                                        [5] = {VK_ANY, VC_NONE, "body", NULL},
                                        [6] = F_ATTR("attributes"),
                                        [7] = F_VARINT("dropped_attributes_count"),
                                        [8] = F_I32("flags"),
                                        [9] = F_TID("trace_id"),
                                        [10] = F_SID("span_id"),
                                        [11] = F_I64("observed_time_unix_nano"),
                                        [12] = F_STR("event_name"),
                                    },
                                    fast_log};

static const vmsg_t m_scope_logs = {{
                                        [1] = F_MSG("scope", m_scope),
                                        [2] = F_ITEM("log_records", VC_RECORD, m_log_record),
                                        [3] = F_STR("schema_url"),
                                    },
                                    fast_scope_logs};

static const vmsg_t m_resource_logs = {{
    [1] = F_MSG("resource", m_resource),
    [2] = F_ITEM("scope_logs", VC_SCOPE, m_scope_logs),
    [3] = F_STR("schema_url"),
}};

static const vmsg_t m_logs = {{
    [1] = F_ITEM("resource_logs", VC_RESOURCE, m_resource_logs),
}};

/* ---- metrics.proto ---- */

static const vmsg_t m_exemplar = {{
    [2] = F_I64("time_unix_nano"),
    [3] = F_I64("as_double"),
    [4] = F_SID("span_id"),
    [5] = F_TID("trace_id"),
    [6] = F_I64("as_int"),
    [7] = F_ATTR("filtered_attributes"),
}};

static const vmsg_t m_number_dp = {{
                                       [2] = F_I64("start_time_unix_nano"),
                                       [3] = F_I64("time_unix_nano"),
                                       [4] = F_I64("as_double"),
                                       [5] = F_ITEM("exemplars", VC_NONE, m_exemplar),
                                       [6] = F_I64("as_int"),
                                       [7] = F_ATTR("attributes"),
                                       [8] = F_VARINT("flags"),
                                   },
                                   fast_number_dp};

static const vmsg_t m_histogram_dp = {{
                                          [2] = F_I64("start_time_unix_nano"),
                                          [3] = F_I64("time_unix_nano"),
                                          [4] = F_I64("count"),
                                          [5] = F_I64("sum"),
                                          [6] = {VK_REP_I64, VC_NONE, "bucket_counts", NULL},
                                          [7] = {VK_REP_I64, VC_NONE, "explicit_bounds", NULL},
                                          [8] = F_ITEM("exemplars", VC_NONE, m_exemplar),
                                          [9] = F_ATTR("attributes"),
                                          [10] = F_VARINT("flags"),
                                          [11] = F_I64("min"),
                                          [12] = F_I64("max"),
                                      },
                                      fast_histogram_dp};

static const vmsg_t m_exp_buckets = {{
    [1] = F_VARINT("offset"),
    [2] = {VK_REP_VARINT, VC_NONE, "bucket_counts", NULL},
}};

static const vmsg_t m_exp_histogram_dp = {{
    [1] = F_ATTR("attributes"),
    [2] = F_I64("start_time_unix_nano"),
    [3] = F_I64("time_unix_nano"),
    [4] = F_I64("count"),
    [5] = F_I64("sum"),
    [6] = F_VARINT("scale"),
    [7] = F_I64("zero_count"),
    [8] = F_MSG("positive", m_exp_buckets),
    [9] = F_MSG("negative", m_exp_buckets),
    [10] = F_VARINT("flags"),
    [11] = F_ITEM("exemplars", VC_NONE, m_exemplar),
    [12] = F_I64("min"),
    [13] = F_I64("max"),
    [14] = F_I64("zero_threshold"),
}};

static const vmsg_t m_quantile = {{
    [1] = F_I64("quantile"),
    [2] = F_I64("value"),
}};

static const vmsg_t m_summary_dp = {{
    [2] = F_I64("start_time_unix_nano"),
    [3] = F_I64("time_unix_nano"),
    [4] = F_I64("count"),
    [5] = F_I64("sum"),
    [6] = F_ITEM("quantile_values", VC_NONE, m_quantile),
    [7] = F_ATTR("attributes"),
    [8] = F_VARINT("flags"),
}};

/* The decoder reads aggregation_temporality (2) only where it exists and
 * is_monotonic (3) only on Sum; elsewhere they are unknown fields. */
static const vmsg_t m_gauge = {{
                                   [1] = F_ITEM("data_points", VC_RECORD, m_number_dp),
                               },
                               fast_gauge};

static const vmsg_t m_sum = {{
                                 [1] = F_ITEM("data_points", VC_RECORD, m_number_dp),
                                 [2] = F_VARINT("aggregation_temporality"),
                                 [3] = F_VARINT("is_monotonic"),
                             },
                             fast_sum};

static const vmsg_t m_histogram = {{
                                       [1] = F_ITEM("data_points", VC_RECORD, m_histogram_dp),
                                       [2] = F_VARINT("aggregation_temporality"),
                                   },
                                   fast_histogram};

static const vmsg_t m_exp_histogram = {{
    [1] = F_ITEM("data_points", VC_RECORD, m_exp_histogram_dp),
    [2] = F_VARINT("aggregation_temporality"),
}};

static const vmsg_t m_summary = {{
    [1] = F_ITEM("data_points", VC_RECORD, m_summary_dp),
}};

static const vmsg_t m_metric = {{
    [1] = F_STR("name"),
    [2] = F_STR("description"),
    [3] = F_STR("unit"),
    [OTF_METRIC_GAUGE] = {VK_MSG, VC_METRIC_DATA, "gauge", &m_gauge},
    [OTF_METRIC_SUM] = {VK_MSG, VC_METRIC_DATA, "sum", &m_sum},
    [OTF_METRIC_HISTOGRAM] = {VK_MSG, VC_METRIC_DATA, "histogram", &m_histogram},
    [OTF_METRIC_EXP_HISTOGRAM] = {VK_MSG, VC_METRIC_DATA, "exponential_histogram",
                                  &m_exp_histogram},
    [OTF_METRIC_SUMMARY] = {VK_MSG, VC_METRIC_DATA, "summary", &m_summary},
    [12] = F_ATTR("metadata"),
}};

static const vmsg_t m_scope_metrics = {{
    [1] = F_MSG("scope", m_scope),
    [2] = F_ITEM("metrics", VC_METRIC, m_metric),
    [3] = F_STR("schema_url"),
}};

static const vmsg_t m_resource_metrics = {{
    [1] = F_MSG("resource", m_resource),
    [2] = F_ITEM("scope_metrics", VC_SCOPE, m_scope_metrics),
    [3] = F_STR("schema_url"),
}};

static const vmsg_t m_metrics = {{
    [1] = F_ITEM("resource_metrics", VC_RESOURCE, m_resource_metrics),
}};

/* ---- the walk ---- */

static size_t off(const vwalk_t *v, const uint8_t *at)
{
	return (size_t)(at - v->d.base);
}

static int over_limit(const vwalk_t *v, const uint8_t *at, const char *what, size_t limit)
{
	/* err->detail holds 128 bytes: the list of what counts is in the
	 * docs (docs/pdata.md, "Ingress limits"), not here. */
	return otf__perr_set(v->d.err, OTF_E_TOO_LARGE, off(v, at),
	                     "more than %zu %s in one request", limit, what);
}

/* One more attribute (a KeyValue anywhere, or an ArrayValue element). */
static inline int count_attr(vwalk_t *v, const uint8_t *at)
{
	if (OTF_UNLIKELY(++v->c->attributes > v->max_attributes))
		return over_limit(v, at, "attributes", v->max_attributes);
	return 0;
}

static int walk_any(vwalk_t *v, const uint8_t *p, const uint8_t *end, uint32_t depth);

/* A nested failure: prepend the field, except for a depth failure, whose
 * path would be the nesting itself (32 levels of "values[0]" overflow the
 * path); it names the attribute or body that holds the nesting instead. */
static int nested(const vwalk_t *v, int rc, const char *field, long index)
{
	return rc == OTF_E_DEPTH ? rc : otf__pbd_push(&v->d, rc, field, index);
}

static int walk_kv(vwalk_t *v, const uint8_t *p, const uint8_t *end, uint32_t depth)
{
	otf_bytes_t b;
	while (p < end) {
		const uint8_t *at = p, *s, *se;
		uint32_t f, wt;
		int rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(&v->d, rc, at, end, 0, 0);
		if (f == 1) {
			rc = otf__pbd_str(&v->d, &p, end, wt, &b, "key");
		} else if (f == 2) {
			rc = otf__pbd_len(&v->d, &p, end, wt, &s, &se, "value");
			if (OTF_UNLIKELY(rc))
				return rc;
			/* The common value: one short string_value and nothing else. */
			if (se - s >= 2 && s[0] == 0x0a && s[1] < 0x80 && s[1] == se - s - 2 &&
			    depth <= v->d.max_depth && otf__pbd_utf8_ok(s + 2, s[1]))
				continue;
			rc = walk_any(v, s, se, depth);
			if (OTF_UNLIKELY(rc))
				return nested(v, rc, "value", -1);
		} else {
			rc = otf__pbd_skip(&v->d, &p, end, at, f, wt);
		}
		if (OTF_UNLIKELY(rc))
			return rc;
	}
	return 0;
}

/* ArrayValue (kv false) or KeyValueList (kv true): values = 1 at depth + 1. */
static int walk_any_list(vwalk_t *v, const uint8_t *p, const uint8_t *end, uint32_t depth, bool kv)
{
	long i = 0;
	while (p < end) {
		const uint8_t *at = p, *s, *se;
		uint32_t f, wt;
		int rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(&v->d, rc, at, end, 0, 0);
		if (f != 1) {
			rc = otf__pbd_skip(&v->d, &p, end, at, f, wt);
			if (OTF_UNLIKELY(rc))
				return rc;
			continue;
		}
		rc = otf__pbd_len(&v->d, &p, end, wt, &s, &se, "values");
		if (OTF_UNLIKELY(rc))
			return rc;
		rc = count_attr(v, at);
		if (!rc)
			rc = kv ? walk_kv(v, s, se, depth + 1) : walk_any(v, s, se, depth + 1);
		if (OTF_UNLIKELY(rc))
			return nested(v, rc, "values", i);
		i++;
	}
	return 0;
}

static int walk_any(vwalk_t *v, const uint8_t *p, const uint8_t *end, uint32_t depth)
{
	if (OTF_UNLIKELY(depth > v->d.max_depth))
		return otf__perr_set(v->d.err, OTF_E_DEPTH, off(v, p),
		                     "AnyValue nesting deeper than %u", v->d.max_depth);
	otf_bytes_t b;
	uint64_t u;
	while (p < end) {
		const uint8_t *at = p, *s, *se;
		uint32_t f, wt;
		int rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(&v->d, rc, at, end, 0, 0);
		switch (f) {
		case 1:
			rc = otf__pbd_str(&v->d, &p, end, wt, &b, "string_value");
			break;
		case 2:
			rc = otf__pbd_varint(&v->d, &p, end, wt, &u, "bool_value");
			break;
		case 3:
			rc = otf__pbd_varint(&v->d, &p, end, wt, &u, "int_value");
			break;
		case 4:
			rc = otf__pbd_fixed64(&v->d, &p, end, wt, &u, "double_value");
			break;
		case 5:
		case 6: {
			const char *name = f == 5 ? "array_value" : "kvlist_value";
			rc = otf__pbd_len(&v->d, &p, end, wt, &s, &se, name);
			if (OTF_UNLIKELY(rc))
				return rc;
			rc = walk_any_list(v, s, se, depth, f == 6);
			if (OTF_UNLIKELY(rc))
				return nested(v, rc, name, -1);
			break;
		}
		case 7:
			rc = otf__pbd_bytes(&v->d, &p, end, wt, &b, "bytes_value");
			break;
		default:
			rc = otf__pbd_skip(&v->d, &p, end, at, f, wt);
			break;
		}
		if (OTF_UNLIKELY(rc))
			return rc;
	}
	return 0;
}

/* A repeated scalar occurrence, packed (LEN) or not, as the decoder's
 * otf__pbd_rep_fixed64 / otf__pbd_rep_varint accept it. */
static int walk_rep(vwalk_t *v, const uint8_t **pp, const uint8_t *end, uint32_t wt, bool fixed,
                    const char *field)
{
	uint64_t u;
	if (wt != OTF_WT_LEN)
		return fixed ? otf__pbd_fixed64(&v->d, pp, end, wt, &u, field)
		             : otf__pbd_varint(&v->d, pp, end, wt, &u, field);
	const uint8_t *s, *se;
	int rc = otf__pbd_len(&v->d, pp, end, wt, &s, &se, field);
	if (OTF_UNLIKELY(rc))
		return rc;
	if (fixed) {
		size_t n = (size_t)(se - s);
		if (OTF_UNLIKELY(n % 8)) {
			otf__perr_set(v->d.err, OTF_E_LENGTH, off(v, s),
			              "packed 8-byte values: %zu bytes", n);
			return otf__pbd_push(&v->d, OTF_E_LENGTH, field, -1);
		}
		return 0;
	}
	while (s < se) {
		const uint8_t *at = s;
		rc = otf__pbd_rv(&s, se, &u);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail(&v->d, rc, at, se, field);
	}
	return 0;
}

static int walk_msg(vwalk_t *v, const vmsg_t *m, const uint8_t *p, const uint8_t *end);

/* A sub-message field (MSG or ITEM) of m at *pp; index is the element's
 * index for ITEM fields. */
static int walk_sub(vwalk_t *v, const vfield_t *fd, const uint8_t **pp, const uint8_t *end,
                    uint32_t wt, long index, size_t *last_data_points)
{
	const uint8_t *at = *pp, *s, *se;
	int rc = otf__pbd_len(&v->d, pp, end, wt, &s, &se, fd->name);
	if (OTF_UNLIKELY(rc))
		return rc;
	otf_view_counts_t *c = v->c;
	if (fd->kind == VK_ITEM) {
		if (OTF_UNLIKELY(++c->items > v->max_items)) {
			over_limit(v, at, "items", v->max_items);
			return otf__pbd_push(&v->d, OTF_E_TOO_LARGE, fd->name, index);
		}
		switch ((vclass_t)fd->cls) {
		case VC_RESOURCE:
			c->resources++;
			break;
		case VC_SCOPE:
			c->scopes++;
			break;
		case VC_METRIC:
			c->metrics++;
			break;
		case VC_RECORD:
			c->records++;
			break;
		default:
			break;
		}
	}
	size_t before = c->records;
	if (!fd->sub->fast || fd->sub->fast(v, s, se)) {
		rc = walk_msg(v, fd->sub, s, se);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_push(&v->d, rc, fd->name, index);
	}
	if (fd->cls == VC_METRIC_DATA) {
		/* The decoder keeps only the last data member: count its points. */
		*last_data_points = c->records - before;
		c->records = before;
	}
	return 0;
}

static int walk_msg(vwalk_t *v, const vmsg_t *m, const uint8_t *p, const uint8_t *end)
{
	uint32_t idx[VF_MAX] = {0}; /* element index per repeated field, for paths */
	size_t last_data_points = 0;
	otf_bytes_t b;
	uint64_t u;
	uint32_t u32;
	while (p < end) {
		const uint8_t *at = p, *s, *se;
		uint32_t f, wt;
		int rc = otf__pbd_rtag(&p, end, &f, &wt);
		if (OTF_UNLIKELY(rc))
			return otf__pbd_fail_tag(&v->d, rc, at, end, 0, 0);
		const vfield_t *fd = f < VF_MAX ? &m->f[f] : &m->f[0];
		switch ((vkind_t)fd->kind) {
		case VK_SKIP:
			rc = otf__pbd_skip(&v->d, &p, end, at, f, wt);
			break;
		case VK_STR:
			rc = otf__pbd_str(&v->d, &p, end, wt, &b, fd->name);
			break;
		case VK_REP_STR:
			rc = otf__pbd_str(&v->d, &p, end, wt, &b, NULL);
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(&v->d, rc, fd->name, (long)idx[f]);
			idx[f]++;
			break;
		case VK_BYTES:
			rc = otf__pbd_bytes(&v->d, &p, end, wt, &b, fd->name);
			break;
		case VK_TRACE_ID:
			rc = otf__pbd_id(&v->d, &p, end, wt, &b, OTF_TRACE_ID_LEN, fd->name);
			break;
		case VK_SPAN_ID:
			rc = otf__pbd_id(&v->d, &p, end, wt, &b, OTF_SPAN_ID_LEN, fd->name);
			break;
		case VK_VARINT:
			rc = otf__pbd_varint(&v->d, &p, end, wt, &u, fd->name);
			break;
		case VK_I64:
			rc = otf__pbd_fixed64(&v->d, &p, end, wt, &u, fd->name);
			break;
		case VK_I32:
			rc = otf__pbd_fixed32(&v->d, &p, end, wt, &u32, fd->name);
			break;
		case VK_REP_I64:
		case VK_REP_VARINT:
			rc = walk_rep(v, &p, end, wt, fd->kind == VK_REP_I64, fd->name);
			break;
		case VK_MSG:
			rc = walk_sub(v, fd, &p, end, wt, -1, &last_data_points);
			break;
		case VK_ITEM:
			rc = walk_sub(v, fd, &p, end, wt, (long)idx[f]++, &last_data_points);
			break;
		case VK_ATTR:
			rc = otf__pbd_len(&v->d, &p, end, wt, &s, &se, fd->name);
			if (OTF_UNLIKELY(rc))
				return rc;
			rc = count_attr(v, at);
			if (!rc)
				rc = walk_kv(v, s, se, 1);
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(&v->d, rc, fd->name, (long)idx[f]);
			idx[f]++;
			break;
		case VK_ANY:
			rc = otf__pbd_len(&v->d, &p, end, wt, &s, &se, fd->name);
			if (OTF_UNLIKELY(rc))
				return rc;
			rc = walk_any(v, s, se, 1);
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(&v->d, rc, fd->name, -1);
			break;
		}
		if (OTF_UNLIKELY(rc))
			return rc;
	}
	v->c->records += last_data_points;
	return 0;
}

/* ---- fast paths ----
 *
 * The table walk above costs a table load, an indirect jump and a path
 * bookkeeping step per field; spans, log records and data points are almost
 * all of a request, so each has its own walk: a switch on the whole tag (field
 * and wire type in one compare), fixed-size fields skipped with one bounds
 * check, and attributes of the common shapes checked in one pass. A fast walk
 * accepts only what the table walk accepts and counts as it does (in the same
 * order, so a limit is crossed at the same element); on anything else (an
 * error, an unknown field, a multi-byte length where it was not expected) it
 * restores the counts and returns VF_BAIL, and the caller walks the same bytes
 * with the table walk, which finds the error and reports it with its path.
 * Valid input therefore costs one walk, invalid input at most two. */

#define VF_BAIL 1

/* All bytes below 0x80 (n >= 1): ASCII, so valid UTF-8, and every varint in
 * it is one byte. Overlapping word loads cover the tail. */
OTF__INLINE bool vascii(const uint8_t *s, size_t n)
{
	uint64_t acc = 0, x;
	if (n >= 8) {
		size_t i = 0;
		for (; i + 8 <= n; i += 8) {
			memcpy(&x, s + i, 8);
			acc |= x;
		}
		memcpy(&x, s + n - 8, 8);
		acc |= x;
	} else if (n >= 4) {
		uint32_t a, b;
		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		acc = a | b;
	} else if (n) {
		acc = (uint64_t)s[0] | s[n - 1] | s[n / 2];
	}
	return (acc & 0x8080808080808080ull) == 0;
}

/* KeyValue {key = 1: string; value = 2: AnyValue} in its usual encoding: the
 * key first, then the value holding one string, bool, int or double (or
 * nothing). Anything else (non-ASCII key or string, nested values, other
 * field orders) is left to walk_kv. */
OTF__INLINE bool kv_fast(const uint8_t *s, const uint8_t *se)
{
	size_t n = (size_t)(se - s);
	if (n < 4 || s[0] != 0x0a)
		return false;
	size_t lk = s[1];
	if (lk >= 0x80 || lk + 4 > n || s[2 + lk] != 0x12)
		return false;
	size_t lv = s[3 + lk];
	if (lv >= 0x80 || lk + 4 + lv != n)
		return false;
	const uint8_t *a = s + 4 + lk;
	if (lv == 0)
		return vascii(s + 2, lk); /* an empty AnyValue */
	if (lv < 2)
		return false;
	switch (a[0]) {
	case 0x0a: /* string_value: key, 0x12, lv, 0x0a, ls and the string are one ASCII run */
		return a[1] == lv - 2 && vascii(s + 2, n - 2);
	case 0x10: /* bool_value */
	case 0x18: /* int_value: a varint of 1-9 bytes ending the value */
		if (lv > 10 || a[lv - 1] >= 0x80)
			return false;
		for (size_t i = 1; i + 1 < lv; i++)
			if (a[i] < 0x80)
				return false;
		return vascii(s + 2, lk);
	case 0x21: /* double_value */
		return lv == 9 && vascii(s + 2, lk);
	default:
		return false;
	}
}

/* What the fast walks may change, to restore on a bail. */
typedef struct vsaved {
	size_t records, items, attributes;
} vsaved_t;

static int bail(vwalk_t *v, vsaved_t sv)
{
	v->c->records = sv.records;
	v->c->items = sv.items;
	v->c->attributes = sv.attributes;
	return VF_BAIL;
}

/* A LEN value at p: [*s, *se) and p past it, false when it does not fit. */
OTF__INLINE bool flen(const uint8_t **pp, const uint8_t *end, const uint8_t **s, const uint8_t **se)
{
	const uint8_t *sub;
	size_t n;
	if (OTF_UNLIKELY(otf__pbd_rlen(pp, end, &sub, &n)))
		return false;
	*s = sub;
	*se = sub + n;
	return true;
}

/* One attribute (a KeyValue at depth 1), counted as VK_ATTR counts it. */
OTF__INLINE bool fattr(vwalk_t *v, const uint8_t **pp, const uint8_t *end)
{
	const uint8_t *s, *se;
	if (!flen(pp, end, &s, &se) || OTF_UNLIKELY(++v->c->attributes > v->max_attributes))
		return false;
	return kv_fast(s, se) || walk_kv(v, s, se, 1) == 0;
}

/* A run of attributes: the encoders write them back to back, so the next
 * one is taken here, without a trip through the caller's switch. */
OTF__INLINE bool fattrs(vwalk_t *v, const uint8_t **pp, const uint8_t *end, uint8_t tag)
{
	do {
		if (!fattr(v, pp, end))
			return false;
	} while (*pp < end && **pp == tag && (++*pp, true));
	return true;
}

/* A string field: in range and valid UTF-8. */
OTF__INLINE bool fstr(const uint8_t **pp, const uint8_t *end)
{
	const uint8_t *s, *se;
	return flen(pp, end, &s, &se) && otf__pbd_utf8_ok(s, (size_t)(se - s));
}

/* A trace or span id: empty or exactly want bytes. */
OTF__INLINE bool fid(const uint8_t **pp, const uint8_t *end, size_t want)
{
	const uint8_t *s, *se;
	return flen(pp, end, &s, &se) && (se == s || (size_t)(se - s) == want);
}

OTF__INLINE bool fskip(const uint8_t **pp, const uint8_t *end, size_t n)
{
	if (OTF_UNLIKELY((size_t)(end - *pp) < n))
		return false;
	*pp += n;
	return true;
}

OTF__INLINE bool fvarint(const uint8_t **pp, const uint8_t *end)
{
	uint64_t u;
	return otf__pbd_rv(pp, end, &u) == 0;
}

/* A singular sub-message (VK_MSG), by its fast walk or its table. */
static bool fmsg(vwalk_t *v, const uint8_t **pp, const uint8_t *end, const vmsg_t *m)
{
	const uint8_t *s, *se;
	if (!flen(pp, end, &s, &se))
		return false;
	return (m->fast && m->fast(v, s, se) == 0) || walk_msg(v, m, s, se) == 0;
}

/* A repeated sub-message element (VK_ITEM), counted as walk_sub counts it. */
static bool fitem(vwalk_t *v, const uint8_t **pp, const uint8_t *end, const vmsg_t *m)
{
	if (OTF_UNLIKELY(++v->c->items > v->max_items))
		return false;
	return fmsg(v, pp, end, m);
}

/* A record (span, log record, data point; VK_ITEM of VC_RECORD), counted as
 * walk_sub counts it. A record the fast walk leaves is walked by its table
 * here, so one unusual record does not send the whole list back. */
static bool frecord(vwalk_t *v, const uint8_t **pp, const uint8_t *end, const vmsg_t *m)
{
	const uint8_t *s, *se;
	if (!flen(pp, end, &s, &se) || OTF_UNLIKELY(++v->c->items > v->max_items))
		return false;
	v->c->records++;
	return m->fast(v, s, se) == 0 || walk_msg(v, m, s, se) == 0;
}

/* A list of records with the fields around it (ScopeSpans, ScopeLogs,
 * Gauge, Sum, Histogram): rec is the records' tag, str a string field's tag
 * (schema_url), msg a singular message's (scope) and var1, var2 varints'
 * (aggregation_temporality, is_monotonic); 0 where the message has none. */
typedef struct vlist {
	uint8_t rec, str, msg, var1, var2;
	const vmsg_t *rec_m, *msg_m;
} vlist_t;

OTF__INLINE int fast_list(vwalk_t *v, const uint8_t *p, const uint8_t *end, const vlist_t *l)
{
	vsaved_t sv = {v->c->records, v->c->items, v->c->attributes};
	while (p < end) {
		uint64_t t;
		bool ok;
		if (OTF_UNLIKELY(otf__pbd_rv(&p, end, &t)))
			return bail(v, sv);
		if (t == l->rec) {
			do
				ok = frecord(v, &p, end, l->rec_m);
			while (ok && p < end && *p == l->rec && (++p, true));
		} else if (t == l->str && t) {
			ok = fstr(&p, end);
		} else if (t == l->msg && t) {
			ok = fmsg(v, &p, end, l->msg_m);
		} else if ((t == l->var1 || t == l->var2) && t) {
			ok = fvarint(&p, end);
		} else {
			ok = false;
		}
		if (OTF_UNLIKELY(!ok))
			return bail(v, sv);
	}
	return 0;
}

/* A packed repeated fixed64 (bucket_counts, explicit_bounds). */
OTF__INLINE bool fpacked64(const uint8_t **pp, const uint8_t *end)
{
	const uint8_t *s, *se;
	return flen(pp, end, &s, &se) && (size_t)(se - s) % 8 == 0;
}

/* Tags: field number << 3 | wire type, as the varint on the wire. */
#define T(f, wt) (((f) << 3) | OTF_WT_##wt)

static int fast_event(vwalk_t *v, const uint8_t *p, const uint8_t *end)
{
	vsaved_t sv = {v->c->records, v->c->items, v->c->attributes};
	while (p < end) {
		uint64_t t;
		bool ok;
		if (OTF_UNLIKELY(otf__pbd_rv(&p, end, &t)))
			return bail(v, sv);
		switch (t) {
		case T(1, I64): /* time_unix_nano */
			ok = fskip(&p, end, 8);
			break;
		case T(2, LEN): /* name */
			ok = fstr(&p, end);
			break;
		case T(3, LEN): /* attributes */
			ok = fattrs(v, &p, end, T(3, LEN));
			break;
		case T(4, VARINT): /* dropped_attributes_count */
			ok = fvarint(&p, end);
			break;
		default:
			ok = false;
			break;
		}
		if (OTF_UNLIKELY(!ok))
			return bail(v, sv);
	}
	return 0;
}

static int fast_status(vwalk_t *v, const uint8_t *p, const uint8_t *end)
{
	(void)v; /* nothing in a Status is counted */
	while (p < end) {
		uint64_t t;
		bool ok;
		if (OTF_UNLIKELY(otf__pbd_rv(&p, end, &t)))
			return VF_BAIL;
		switch (t) {
		case T(2, LEN): /* message */
			ok = fstr(&p, end);
			break;
		case T(3, VARINT): /* code */
			ok = fvarint(&p, end);
			break;
		default:
			ok = false;
			break;
		}
		if (OTF_UNLIKELY(!ok))
			return VF_BAIL;
	}
	return 0;
}

static int fast_log(vwalk_t *v, const uint8_t *p, const uint8_t *end)
{
	vsaved_t sv = {v->c->records, v->c->items, v->c->attributes};
	const uint8_t *s, *se;
	while (p < end) {
		uint64_t t;
		bool ok;
		if (OTF_UNLIKELY(otf__pbd_rv(&p, end, &t)))
			return bail(v, sv);
		switch (t) {
		case T(1, I64):  /* time_unix_nano */
		case T(11, I64): /* observed_time_unix_nano */
			ok = fskip(&p, end, 8);
			break;
		case T(2, VARINT): /* severity_number */
		case T(7, VARINT): /* dropped_attributes_count */
			ok = fvarint(&p, end);
			break;
		case T(3, LEN):  /* severity_text */
		case T(12, LEN): /* event_name */
			ok = fstr(&p, end);
			break;
		case T(5, LEN): /* body: mostly one string_value */
			ok = flen(&p, end, &s, &se);
			if (ok && !(se - s >= 2 && s[0] == 0x0a && s[1] < 0x80 &&
			            s[1] == se - s - 2 && otf__pbd_utf8_ok(s + 2, s[1])))
				ok = walk_any(v, s, se, 1) == 0;
			break;
		case T(6, LEN): /* attributes */
			ok = fattrs(v, &p, end, T(6, LEN));
			break;
		case T(8, I32): /* flags */
			ok = fskip(&p, end, 4);
			break;
		case T(9, LEN): /* trace_id */
			ok = fid(&p, end, OTF_TRACE_ID_LEN);
			break;
		case T(10, LEN): /* span_id */
			ok = fid(&p, end, OTF_SPAN_ID_LEN);
			break;
		default:
			ok = false;
			break;
		}
		if (OTF_UNLIKELY(!ok))
			return bail(v, sv);
	}
	return 0;
}

static int fast_span(vwalk_t *v, const uint8_t *p, const uint8_t *end)
{
	vsaved_t sv = {v->c->records, v->c->items, v->c->attributes};
	while (p < end) {
		uint64_t t;
		bool ok;
		if (OTF_UNLIKELY(otf__pbd_rv(&p, end, &t)))
			return bail(v, sv);
		switch (t) {
		case T(1, LEN): /* trace_id */
			ok = fid(&p, end, OTF_TRACE_ID_LEN);
			break;
		case T(2, LEN): /* span_id */
		case T(4, LEN): /* parent_span_id */
			ok = fid(&p, end, OTF_SPAN_ID_LEN);
			break;
		case T(3, LEN): /* trace_state */
		case T(5, LEN): /* name */
			ok = fstr(&p, end);
			break;
		case T(6, VARINT):  /* kind */
		case T(10, VARINT): /* dropped_attributes_count */
		case T(12, VARINT): /* dropped_events_count */
		case T(14, VARINT): /* dropped_links_count */
			ok = fvarint(&p, end);
			break;
		case T(7, I64): /* start_time_unix_nano */
		case T(8, I64): /* end_time_unix_nano */
			ok = fskip(&p, end, 8);
			break;
		case T(9, LEN): /* attributes */
			ok = fattrs(v, &p, end, T(9, LEN));
			break;
		case T(11, LEN): /* events */
			ok = fitem(v, &p, end, &m_event);
			break;
		case T(13, LEN): /* links */
			ok = fitem(v, &p, end, &m_link);
			break;
		case T(15, LEN): /* status */
			ok = fmsg(v, &p, end, &m_status);
			break;
		case T(16, I32): /* flags */
			ok = fskip(&p, end, 4);
			break;
		default:
			ok = false;
			break;
		}
		if (OTF_UNLIKELY(!ok))
			return bail(v, sv);
	}
	return 0;
}

static int fast_number_dp(vwalk_t *v, const uint8_t *p, const uint8_t *end)
{
	vsaved_t sv = {v->c->records, v->c->items, v->c->attributes};
	while (p < end) {
		uint64_t t;
		bool ok;
		if (OTF_UNLIKELY(otf__pbd_rv(&p, end, &t)))
			return bail(v, sv);
		switch (t) {
		case T(2, I64): /* start_time_unix_nano */
		case T(3, I64): /* time_unix_nano */
		case T(4, I64): /* as_double */
		case T(6, I64): /* as_int */
			ok = fskip(&p, end, 8);
			break;
		case T(5, LEN): /* exemplars */
			ok = fitem(v, &p, end, &m_exemplar);
			break;
		case T(7, LEN): /* attributes */
			ok = fattrs(v, &p, end, T(7, LEN));
			break;
		case T(8, VARINT): /* flags */
			ok = fvarint(&p, end);
			break;
		default:
			ok = false;
			break;
		}
		if (OTF_UNLIKELY(!ok))
			return bail(v, sv);
	}
	return 0;
}

static int fast_histogram_dp(vwalk_t *v, const uint8_t *p, const uint8_t *end)
{
	vsaved_t sv = {v->c->records, v->c->items, v->c->attributes};
	while (p < end) {
		uint64_t t;
		bool ok;
		if (OTF_UNLIKELY(otf__pbd_rv(&p, end, &t)))
			return bail(v, sv);
		switch (t) {
		case T(2, I64):  /* start_time_unix_nano */
		case T(3, I64):  /* time_unix_nano */
		case T(4, I64):  /* count */
		case T(5, I64):  /* sum */
		case T(6, I64):  /* bucket_counts, one unpacked element */
		case T(7, I64):  /* explicit_bounds, one unpacked element */
		case T(11, I64): /* min */
		case T(12, I64): /* max */
			ok = fskip(&p, end, 8);
			break;
		case T(6, LEN): /* bucket_counts, packed */
		case T(7, LEN): /* explicit_bounds, packed */
			ok = fpacked64(&p, end);
			break;
		case T(8, LEN): /* exemplars */
			ok = fitem(v, &p, end, &m_exemplar);
			break;
		case T(9, LEN): /* attributes */
			ok = fattrs(v, &p, end, T(9, LEN));
			break;
		case T(10, VARINT): /* flags */
			ok = fvarint(&p, end);
			break;
		default:
			ok = false;
			break;
		}
		if (OTF_UNLIKELY(!ok))
			return bail(v, sv);
	}
	return 0;
}

static int fast_scope_spans(vwalk_t *v, const uint8_t *p, const uint8_t *end)
{
	static const vlist_t l = {T(2, LEN), T(3, LEN), T(1, LEN), 0, 0, &m_span, &m_scope};
	return fast_list(v, p, end, &l);
}

static int fast_scope_logs(vwalk_t *v, const uint8_t *p, const uint8_t *end)
{
	static const vlist_t l = {T(2, LEN), T(3, LEN), T(1, LEN), 0, 0, &m_log_record, &m_scope};
	return fast_list(v, p, end, &l);
}

static int fast_gauge(vwalk_t *v, const uint8_t *p, const uint8_t *end)
{
	static const vlist_t l = {T(1, LEN), 0, 0, 0, 0, &m_number_dp, NULL};
	return fast_list(v, p, end, &l);
}

static int fast_sum(vwalk_t *v, const uint8_t *p, const uint8_t *end)
{
	static const vlist_t l = {T(1, LEN), 0, 0, T(2, VARINT), T(3, VARINT), &m_number_dp, NULL};
	return fast_list(v, p, end, &l);
}

static int fast_histogram(vwalk_t *v, const uint8_t *p, const uint8_t *end)
{
	static const vlist_t l = {T(1, LEN), 0, 0, T(2, VARINT), 0, &m_histogram_dp, NULL};
	return fast_list(v, p, end, &l);
}

#undef T

int otf_view_validate(otf_signal_t signal, const uint8_t *data, size_t len,
                      const otf_view_limits_t *limits, otf_view_counts_t *out,
                      otf_pdata_error_t *err)
{
	const vmsg_t *top;
	switch (signal) {
	case OTF_SIGNAL_TRACES:
		top = &m_traces;
		break;
	case OTF_SIGNAL_METRICS:
		top = &m_metrics;
		break;
	case OTF_SIGNAL_LOGS:
		top = &m_logs;
		break;
	default:
		*out = (otf_view_counts_t){0};
		return otf__perr_set(err, OTF_E_INVAL, 0, "unknown signal %d", (int)signal);
	}
	vwalk_t v;
	otf_pdata_error_t local;
	if (!err)
		err = &local; /* err_offset needs the detail */
	/* Size is the transport's business (max_request_body_size, ...). */
	otf_pdata_limits_t pl = {SIZE_MAX, limits ? limits->max_depth : 0};
	*out = (otf_view_counts_t){0};
	/* otf__pbd_begin wants an output and an arena; the walk uses neither. */
	int rc = otf__pbd_begin(&v.d, out, data, len, (otf_arena_t *)(void *)out, &pl, err);
	if (rc)
		return rc;
	v.d.arena = NULL;
	v.c = out;
	v.max_items = limits && limits->max_items ? limits->max_items : SIZE_MAX;
	v.max_attributes = limits && limits->max_attributes ? limits->max_attributes : SIZE_MAX;
	rc = walk_msg(&v, top, v.d.base, v.d.base + len);
	if (rc)
		out->err_offset = err->offset;
	return rc;
}
