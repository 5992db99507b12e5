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
 * limits, so a small request cannot announce millions of items.
 *
 * The messages that make up most of a request (spans, log records, data
 * points, the lists holding them) are first tried by a specialised walk
 * (view_validate_fast.c, the table's `fast`); it hands anything it does not
 * handle, errors included, back to the table walk, which stays the
 * reference for what is accepted and how an error is reported. */
#include "view_validate_internal.h"

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

const vmsg_t otf__vv_scope = {{
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

const vmsg_t otf__vv_event = {{
                                  [1] = F_I64("time_unix_nano"),
                                  [2] = F_STR("name"),
                                  [3] = F_ATTR("attributes"),
                                  [4] = F_VARINT("dropped_attributes_count"),
                              },
                              otf__vv_fast_event};

const vmsg_t otf__vv_link = {{
    [1] = F_TID("trace_id"),
    [2] = F_SID("span_id"),
    [3] = F_STR("trace_state"),
    [4] = F_ATTR("attributes"),
    [5] = F_VARINT("dropped_attributes_count"),
    [6] = F_I32("flags"),
}};

const vmsg_t otf__vv_status = {{
                                   [2] = F_STR("message"),
                                   [3] = F_VARINT("code"),
                               },
                               otf__vv_fast_status};

const vmsg_t otf__vv_span = {{
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
                                 [11] = F_ITEM("events", VC_NONE, otf__vv_event),
                                 [12] = F_VARINT("dropped_events_count"),
                                 [13] = F_ITEM("links", VC_NONE, otf__vv_link),
                                 [14] = F_VARINT("dropped_links_count"),
                                 [15] = F_MSG("status", otf__vv_status),
                                 [16] = F_I32("flags"),
                             },
                             otf__vv_fast_span};

const vmsg_t otf__vv_scope_spans = {{
                                        [1] = F_MSG("scope", otf__vv_scope),
                                        [2] = F_ITEM("spans", VC_RECORD, otf__vv_span),
                                        [3] = F_STR("schema_url"),
                                    },
                                    otf__vv_fast_scope_spans};

static const vmsg_t m_resource_spans = {{
    [1] = F_MSG("resource", m_resource),
    [2] = F_ITEM("scope_spans", VC_SCOPE, otf__vv_scope_spans),
    [3] = F_STR("schema_url"),
}};

static const vmsg_t m_traces = {{
    [1] = F_ITEM("resource_spans", VC_RESOURCE, m_resource_spans),
}};

/* ---- logs.proto ---- */

const vmsg_t otf__vv_log_record = {{
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
                                   otf__vv_fast_log};

const vmsg_t otf__vv_scope_logs = {{
                                       [1] = F_MSG("scope", otf__vv_scope),
                                       [2] = F_ITEM("log_records", VC_RECORD, otf__vv_log_record),
                                       [3] = F_STR("schema_url"),
                                   },
                                   otf__vv_fast_scope_logs};

static const vmsg_t m_resource_logs = {{
    [1] = F_MSG("resource", m_resource),
    [2] = F_ITEM("scope_logs", VC_SCOPE, otf__vv_scope_logs),
    [3] = F_STR("schema_url"),
}};

static const vmsg_t m_logs = {{
    [1] = F_ITEM("resource_logs", VC_RESOURCE, m_resource_logs),
}};

/* ---- metrics.proto ---- */

const vmsg_t otf__vv_exemplar = {{
    [2] = F_I64("time_unix_nano"),
    [3] = F_I64("as_double"),
    [4] = F_SID("span_id"),
    [5] = F_TID("trace_id"),
    [6] = F_I64("as_int"),
    [7] = F_ATTR("filtered_attributes"),
}};

const vmsg_t otf__vv_number_dp = {{
                                      [2] = F_I64("start_time_unix_nano"),
                                      [3] = F_I64("time_unix_nano"),
                                      [4] = F_I64("as_double"),
                                      [5] = F_ITEM("exemplars", VC_NONE, otf__vv_exemplar),
                                      [6] = F_I64("as_int"),
                                      [7] = F_ATTR("attributes"),
                                      [8] = F_VARINT("flags"),
                                  },
                                  otf__vv_fast_number_dp};

const vmsg_t otf__vv_histogram_dp = {{
                                         [2] = F_I64("start_time_unix_nano"),
                                         [3] = F_I64("time_unix_nano"),
                                         [4] = F_I64("count"),
                                         [5] = F_I64("sum"),
                                         [6] = {VK_REP_I64, VC_NONE, "bucket_counts", NULL},
                                         [7] = {VK_REP_I64, VC_NONE, "explicit_bounds", NULL},
                                         [8] = F_ITEM("exemplars", VC_NONE, otf__vv_exemplar),
                                         [9] = F_ATTR("attributes"),
                                         [10] = F_VARINT("flags"),
                                         [11] = F_I64("min"),
                                         [12] = F_I64("max"),
                                     },
                                     otf__vv_fast_histogram_dp};

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
    [11] = F_ITEM("exemplars", VC_NONE, otf__vv_exemplar),
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
const vmsg_t otf__vv_gauge = {{
                                  [1] = F_ITEM("data_points", VC_RECORD, otf__vv_number_dp),
                              },
                              otf__vv_fast_gauge};

const vmsg_t otf__vv_sum = {{
                                [1] = F_ITEM("data_points", VC_RECORD, otf__vv_number_dp),
                                [2] = F_VARINT("aggregation_temporality"),
                                [3] = F_VARINT("is_monotonic"),
                            },
                            otf__vv_fast_sum};

const vmsg_t otf__vv_histogram = {{
                                      [1] = F_ITEM("data_points", VC_RECORD, otf__vv_histogram_dp),
                                      [2] = F_VARINT("aggregation_temporality"),
                                  },
                                  otf__vv_fast_histogram};

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
    [OTF_METRIC_GAUGE] = {VK_MSG, VC_METRIC_DATA, "gauge", &otf__vv_gauge},
    [OTF_METRIC_SUM] = {VK_MSG, VC_METRIC_DATA, "sum", &otf__vv_sum},
    [OTF_METRIC_HISTOGRAM] = {VK_MSG, VC_METRIC_DATA, "histogram", &otf__vv_histogram},
    [OTF_METRIC_EXP_HISTOGRAM] = {VK_MSG, VC_METRIC_DATA, "exponential_histogram",
                                  &m_exp_histogram},
    [OTF_METRIC_SUMMARY] = {VK_MSG, VC_METRIC_DATA, "summary", &m_summary},
    [12] = F_ATTR("metadata"),
}};

static const vmsg_t m_scope_metrics = {{
    [1] = F_MSG("scope", otf__vv_scope),
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

/* A nested failure: prepend the field, except for a depth failure, whose
 * path would be the nesting itself (32 levels of "values[0]" overflow the
 * path); it names the attribute or body that holds the nesting instead. */
static int nested(const vwalk_t *v, int rc, const char *field, long index)
{
	return rc == OTF_E_DEPTH ? rc : otf__pbd_push(&v->d, rc, field, index);
}

int otf__vv_walk_kv(vwalk_t *v, const uint8_t *p, const uint8_t *end, uint32_t depth)
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
			rc = otf__vv_walk_any(v, s, se, depth);
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
			rc = kv ? otf__vv_walk_kv(v, s, se, depth + 1)
			        : otf__vv_walk_any(v, s, se, depth + 1);
		if (OTF_UNLIKELY(rc))
			return nested(v, rc, "values", i);
		i++;
	}
	return 0;
}

int otf__vv_walk_any(vwalk_t *v, const uint8_t *p, const uint8_t *end, uint32_t depth)
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
		rc = otf__vv_walk_msg(v, fd->sub, s, se);
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

int otf__vv_walk_msg(vwalk_t *v, const vmsg_t *m, const uint8_t *p, const uint8_t *end)
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
				rc = otf__vv_walk_kv(v, s, se, 1);
			if (OTF_UNLIKELY(rc))
				return otf__pbd_push(&v->d, rc, fd->name, (long)idx[f]);
			idx[f]++;
			break;
		case VK_ANY:
			rc = otf__pbd_len(&v->d, &p, end, wt, &s, &se, fd->name);
			if (OTF_UNLIKELY(rc))
				return rc;
			rc = otf__vv_walk_any(v, s, se, 1);
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
	rc = otf__vv_walk_msg(&v, top, v.d.base, v.d.base + len);
	if (rc)
		out->err_offset = err->offset;
	return rc;
}
