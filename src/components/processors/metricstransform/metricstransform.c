/* processor `metricstransform` (metricstransform.h): config, selection
 * of metrics, the update / insert / combine actions and the node. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "metricstransform.h"

#include "components/processors/internal/namefilter.h"
#include "components/processors/ottlproc/ottlproc.h"
#include "otflow/alloc.h"
#include "otflow/err.h"

#include <ctype.h>
#include <pcre2.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char *const k_match[] = {"strict", "regexp", NULL};
static const char *const k_actions[] = {"update", "insert", "combine", "group", NULL};
static const char *const k_ops[] = {"add_label",
                                    "update_label",
                                    "delete_label_value",
                                    "toggle_scalar_data_type",
                                    "experimental_scale_value",
                                    "aggregate_labels",
                                    "aggregate_label_values",
                                    NULL};

#define VA otf_mt_value_action_t
static const otf_config_field_t k_value_action[] = {
    {.key = "value",
     .type = OTF_CFG_STRING,
     .offset = offsetof(VA, value),
     .desc = "Label value to replace."},
    {.key = "new_value",
     .type = OTF_CFG_STRING,
     .offset = offsetof(VA, new_value),
     .desc = "Its replacement."},
    OTF_CONFIG_FIELD_END,
};

#define OP otf_mt_op_t
static const otf_config_field_t k_op[] = {
    {.key = "action",
     .type = OTF_CFG_ENUM,
     .enum_values = k_ops,
     .required = true,
     .offset = offsetof(OP, action),
     .desc = "The operation."},
    {.key = "label",
     .type = OTF_CFG_STRING,
     .offset = offsetof(OP, label),
     .desc = "Label operated on (update_label, delete_label_value, aggregate_label_values)."},
    {.key = "new_label",
     .type = OTF_CFG_STRING,
     .offset = offsetof(OP, new_label),
     .desc = "add_label: the label added; update_label: the new name."},
    {.key = "aggregated_values",
     .type = OTF_CFG_STRING_LIST,
     .offset = offsetof(OP, aggregated_values),
     .desc = "aggregate_label_values: the values merged into new_value."},
    {.key = "new_value",
     .type = OTF_CFG_STRING,
     .offset = offsetof(OP, new_value),
     .desc = "add_label, aggregate_label_values: the value set (`{{version}}`: otflow's)."},
    {.key = "label_value",
     .type = OTF_CFG_STRING,
     .offset = offsetof(OP, label_value),
     .desc = "delete_label_value: points with this value are deleted."},
    {.key = "label_set",
     .type = OTF_CFG_STRING_LIST,
     .offset = offsetof(OP, label_set),
     .desc = "aggregate_labels: the labels kept."},
    {.key = "aggregation_type",
     .type = OTF_CFG_STRING,
     .offset = offsetof(OP, aggregation_type),
     .hint = "sum|mean|min|max|count|median",
     .desc = "How merged points combine (histograms: sum only)."},
    {.key = "experimental_scale",
     .type = OTF_CFG_DOUBLE,
     .offset = offsetof(OP, experimental_scale),
     .desc = "experimental_scale_value: the factor."},
    {.key = "value_actions",
     .type = OTF_CFG_OBJECT_LIST,
     .sub = k_value_action,
     .elem_size = sizeof(VA),
     .offset = offsetof(OP, value_actions),
     .desc = "update_label: value renames {value, new_value}."},
    OTF_CONFIG_FIELD_END,
};

#define TR otf_mt_transform_t
static const otf_config_field_t k_transform[] = {
    {.key = "include",
     .type = OTF_CFG_STRING,
     .required = true,
     .offset = offsetof(TR, include),
     .desc = "Metric name, or pattern with match_type regexp."},
    {.key = "match_type",
     .type = OTF_CFG_ENUM,
     .enum_values = k_match,
     .def = "strict",
     .offset = offsetof(TR, match_type),
     .desc = "strict, or regexp (PCRE2, unanchored)."},
    {.key = "experimental_match_labels",
     .type = OTF_CFG_STRING_MAP,
     .offset = offsetof(TR, experimental_match_labels),
     .desc = "Labels (and values; regexp patterns with match_type regexp) one of a metric's "
             "points must have for the transform to apply; insert copies only those points."},
    {.key = "action",
     .type = OTF_CFG_ENUM,
     .enum_values = k_actions,
     .required = true,
     .offset = offsetof(TR, action),
     .desc = "update in place, insert a copy, combine the matches into one metric, group "
             "the matches under a new resource."},
    {.key = "new_name",
     .type = OTF_CFG_STRING,
     .offset = offsetof(TR, new_name),
     .desc = "New metric name (required by insert and combine; regexp groups expand: "
             "`$${1}`)."},
    {.key = "aggregation_type",
     .type = OTF_CFG_STRING,
     .offset = offsetof(TR, aggregation_type),
     .hint = "sum|mean|min|max|count|median",
     .desc = "combine: how points with the same labels merge."},
    {.key = "submatch_case",
     .type = OTF_CFG_STRING,
     .offset = offsetof(TR, submatch_case),
     .hint = "lower|upper",
     .desc = "combine: case of the label values from capture groups."},
    {.key = "group_resource_labels",
     .type = OTF_CFG_STRING_MAP,
     .offset = offsetof(TR, group_resource_labels),
     .desc = "group: attributes added to the new resource (required by group)."},
    {.key = "operations",
     .type = OTF_CFG_OBJECT_LIST,
     .sub = k_op,
     .elem_size = sizeof(OP),
     .offset = offsetof(TR, operations),
     .desc = "Operations on the resulting metric, in order."},
    OTF_CONFIG_FIELD_END,
};

const otf_config_field_t otf_mt_schema[] = {
    {.key = "transforms",
     .type = OTF_CFG_OBJECT_LIST,
     .sub = k_transform,
     .elem_size = sizeof(TR),
     .offset = offsetof(otf_mt_config_t, transforms),
     .desc = "Transformations, applied in order to every metric they select."},
    OTF_CONFIG_FIELD_END,
};

int otf__mt_agg_of(const char *s)
{
	static const char *const names[] = {"sum", "mean", "min", "max", "count", "median"};
	if (!s || !*s)
		return OTF_MT_AGG_NONE;
	for (int i = 0; i < 6; i++)
		if (!strcmp(s, names[i]))
			return OTF_MT_SUM + i;
	return -1;
}

static bool empty(const char *s)
{
	return !s || !*s;
}

#define BAD(...)                                    \
	do {                                        \
		snprintf(err, errlen, __VA_ARGS__); \
		return OTF_E_CONFIG;                \
	} while (0)

static int validate_op(size_t t, size_t i, const otf_mt_op_t *op, char *err, size_t errlen)
{
	const char *name = k_ops[op->action];
	int agg = otf__mt_agg_of(op->aggregation_type);
	if (agg < 0)
		BAD("transforms[%zu].operations[%zu]: unsupported aggregation_type \"%s\" (sum, "
		    "mean, min, max, count, median)",
		    t, i, op->aggregation_type);
	switch (op->action) {
	case OTF_MT_ADD_LABEL:
		if (empty(op->new_label) || !op->new_value)
			BAD("transforms[%zu].operations[%zu]: missing required field \"new_label\" "
			    "or \"new_value\" while \"action\" is %s",
			    t, i, name);
		break;
	case OTF_MT_UPDATE_LABEL:
		if (empty(op->label))
			BAD("transforms[%zu].operations[%zu]: missing required field \"label\" "
			    "while "
			    "\"action\" is %s",
			    t, i, name);
		break;
	case OTF_MT_DELETE_LABEL_VALUE:
		if (empty(op->label) || !op->label_value)
			BAD("transforms[%zu].operations[%zu]: missing required field \"label\" or "
			    "\"label_value\" while \"action\" is %s",
			    t, i, name);
		break;
	case OTF_MT_SCALE_VALUE:
		if (op->experimental_scale == 0)
			BAD("transforms[%zu].operations[%zu]: missing required field "
			    "\"experimental_scale\" while \"action\" is %s",
			    t, i, name);
		break;
	case OTF_MT_AGGREGATE_LABELS:
		if (!agg)
			BAD("transforms[%zu].operations[%zu]: missing required field "
			    "\"aggregation_type\" while \"action\" is %s",
			    t, i, name);
		break;
	case OTF_MT_AGGREGATE_LABEL_VALUES:
		if (empty(op->label) || !op->new_value || !op->aggregated_values.n || !agg)
			BAD("transforms[%zu].operations[%zu]: %s needs \"label\", "
			    "\"aggregated_values\", \"new_value\" and \"aggregation_type\"",
			    t, i, name);
		break;
	default:
		break;
	}
	return 0;
}

int otf__mt_validate(const void *config, char *err, size_t errlen)
{
	const otf_mt_config_t *c = config;
	for (size_t t = 0; t < c->transforms.n; t++) {
		const otf_mt_transform_t *tr = OTF_CONFIG_OBJLIST_AT(&c->transforms, TR, t);
		if (empty(tr->include))
			BAD("transforms[%zu]: missing required field \"include\"", t);
		if (tr->action == OTF_MT_GROUP && !tr->group_resource_labels.n)
			BAD("transforms[%zu]: missing required field \"group_resource_labels\" "
			    "while "
			    "\"action\" is group",
			    t);
		for (size_t k = 0; tr->match_type == 1 && k < tr->experimental_match_labels.n;
		     k++) {
			char why[400];
			const char *v = tr->experimental_match_labels.values[k];
			void *re = otf__regex_compile(v, strlen(v), why, sizeof why);
			if (!re)
				BAD("transforms[%zu].experimental_match_labels.%s: %s", t,
				    tr->experimental_match_labels.keys[k], why);
			otf__regex_free(re);
		}
		if (tr->group_resource_labels.n && tr->action != OTF_MT_GROUP)
			BAD("transforms[%zu]: group_resource_labels needs action group", t);
		if ((tr->action == OTF_MT_INSERT || tr->action == OTF_MT_COMBINE) &&
		    empty(tr->new_name))
			BAD("transforms[%zu]: missing required field \"new_name\" while \"action\" "
			    "is "
			    "%s",
			    t, k_actions[tr->action]);
		int agg = otf__mt_agg_of(tr->aggregation_type);
		if (agg < 0)
			BAD("transforms[%zu]: unsupported aggregation_type \"%s\"", t,
			    tr->aggregation_type);
		if (tr->action == OTF_MT_COMBINE && tr->match_type != 1)
			BAD("transforms[%zu]: match_type must be regexp while \"action\" is "
			    "combine",
			    t);
		if (!empty(tr->submatch_case) && strcmp(tr->submatch_case, "lower") &&
		    strcmp(tr->submatch_case, "upper"))
			BAD("transforms[%zu]: submatch_case must be lower or upper", t);
		if (tr->match_type == 1) {
			char why[400];
			void *re =
			    otf__regex_compile(tr->include, strlen(tr->include), why, sizeof why);
			if (!re)
				BAD("transforms[%zu].include: %s", t, why);
			otf__regex_free(re);
		}
		for (size_t i = 0; i < tr->operations.n; i++) {
			int rc = validate_op(t, i, OTF_CONFIG_OBJLIST_AT(&tr->operations, OP, i),
			                     err, errlen);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int otf__mt_compile(const otf_mt_config_t *c, otf_mt_compiled_t *out)
{
	out->n = 0;
	out->re = otf_calloc(c->transforms.n ? c->transforms.n : 1, sizeof *out->re);
	if (!out->re)
		return OTF_E_NOMEM;
	out->lre = otf_calloc(c->transforms.n ? c->transforms.n : 1, sizeof *out->lre);
	out->nl = otf_calloc(c->transforms.n ? c->transforms.n : 1, sizeof *out->nl);
	if (!out->lre || !out->nl) {
		otf_free(out->re);
		otf_free(out->lre);
		otf_free(out->nl);
		out->re = NULL;
		out->lre = NULL;
		out->nl = NULL;
		return OTF_E_NOMEM;
	}
	out->n = c->transforms.n;
	for (size_t t = 0; t < c->transforms.n; t++) {
		const otf_mt_transform_t *tr = OTF_CONFIG_OBJLIST_AT(&c->transforms, TR, t);
		char why[400];
		const otf_config_strmap_t *ml = &tr->experimental_match_labels;
		if (tr->match_type == 1 && ml->n) {
			out->nl[t] = ml->n;
			if (!(out->lre[t] = otf_calloc(ml->n, sizeof *out->lre[t]))) {
				otf__mt_compiled_free(out);
				return OTF_E_NOMEM;
			}
			for (size_t k = 0; k < ml->n; k++) {
				if (!(out->lre[t][k] = otf__regex_compile(
				          ml->values[k], strlen(ml->values[k]), why, sizeof why))) {
					otf__mt_compiled_free(out);
					return OTF_E_CONFIG;
				}
			}
		}
		if (tr->match_type == 1 &&
		    !(out->re[t] =
		          otf__regex_compile(tr->include, strlen(tr->include), why, sizeof why))) {
			otf__mt_compiled_free(out);
			return OTF_E_CONFIG;
		}
	}
	return 0;
}

void otf__mt_compiled_free(otf_mt_compiled_t *x)
{
	for (size_t i = 0; i < x->n; i++) {
		if (x->re[i])
			otf__regex_free(x->re[i]);
		/* lre[i] has one slot per label of its transform; freed up to
		 * the first empty one (compile stops at a failure). */
		for (size_t k = 0; x->lre[i] && k < x->nl[i] && x->lre[i][k]; k++)
			otf__regex_free(x->lre[i][k]);
		if (x->lre[i])
			otf_free(x->lre[i]);
	}
	otf_free(x->re);
	otf_free(x->lre);
	otf_free(x->nl);
	x->re = NULL;
	x->lre = NULL;
	x->nl = NULL;
	x->n = 0;
}

/* ---- apply ---- */

/* What selects metrics: the include pattern (NULL: strict) and the
 * experimental_match_labels value patterns (NULL: strict values). */
typedef struct mt_sel {
	const void *re;
	void *const *lre;
} mt_sel_t;

static const otf_attributes_t *pt_attrs_of(const otf_metric_t *m, size_t i)
{
	switch (m->type) {
	case OTF_METRIC_HISTOGRAM:
		return &m->data_points.histogram[i].attributes;
	case OTF_METRIC_EXP_HISTOGRAM:
		return &m->data_points.exp_histogram[i].attributes;
	case OTF_METRIC_SUMMARY:
		return &m->data_points.summary[i].attributes;
	default:
		return &m->data_points.number[i].attributes;
	}
}

/* Every experimental_match_labels label present with a matching string
 * value (strict: equal; regexp: the pattern finds a match). */
static bool point_matches(const otf_mt_transform_t *tr, const mt_sel_t *sel,
                          const otf_attributes_t *at)
{
	const otf_config_strmap_t *ml = &tr->experimental_match_labels;
	for (size_t k = 0; k < ml->n; k++) {
		size_t kl = strlen(ml->keys[k]);
		const otf_key_value_t *kv = NULL;
		for (size_t i = 0; i < at->len && !kv; i++)
			if (at->items[i].key.len == kl &&
			    !memcmp(at->items[i].key.ptr, ml->keys[k], kl))
				kv = &at->items[i];
		if (!kv || kv->value.type != OTF_ANY_STRING)
			return false;
		otf_bytes_t v = kv->value.u.string_value;
		size_t vl = strlen(ml->values[k]);
		if (sel->lre && sel->lre[k]
		        ? !otf__regex_search(sel->lre[k], v.ptr, v.len)
		        : v.len != vl || (vl && memcmp(v.ptr, ml->values[k], vl)))
			return false;
	}
	return true;
}

static bool matches(const otf_mt_transform_t *tr, const mt_sel_t *sel, const otf_metric_t *m)
{
	if (sel->re) {
		if (!otf__regex_search(sel->re, m->name.ptr, m->name.len))
			return false;
	} else {
		size_t n = strlen(tr->include);
		if (m->name.len != n || (n && memcmp(m->name.ptr, tr->include, n)))
			return false;
	}
	if (!tr->experimental_match_labels.n)
		return true;
	/* As the Collector: a metric is selected when one of its points has
	 * the labels. */
	for (size_t i = 0; i < m->data_points_len; i++)
		if (point_matches(tr, sel, pt_attrs_of(m, i)))
			return true;
	return false;
}

/* insert with experimental_match_labels: the copy keeps only the points
 * that have the labels. */
static void keep_matching_points(const otf_mt_transform_t *tr, const mt_sel_t *sel, otf_metric_t *m)
{
	if (!tr->experimental_match_labels.n)
		return;
	size_t ps = m->type == OTF_METRIC_HISTOGRAM       ? sizeof(otf_histogram_data_point_t)
	            : m->type == OTF_METRIC_EXP_HISTOGRAM ? sizeof(otf_exp_histogram_data_point_t)
	            : m->type == OTF_METRIC_SUMMARY       ? sizeof(otf_summary_data_point_t)
	                                                  : sizeof(otf_number_data_point_t);
	uint8_t *base = (uint8_t *)(void *)m->data_points.number;
	size_t o = 0;
	for (size_t i = 0; i < m->data_points_len; i++) {
		if (!point_matches(tr, sel, pt_attrs_of(m, i)))
			continue;
		if (o != i)
			memcpy(base + o * ps, base + i * ps, ps);
		o++;
	}
	m->data_points_len = o;
}

static int rename_metric(const otf_mt_transform_t *tr, const void *re, otf_metric_t *m,
                         otf_arena_t *a)
{
	if (empty(tr->new_name))
		return 0;
	if (!re) {
		m->name = (otf_bytes_t){(const uint8_t *)tr->new_name, strlen(tr->new_name)};
		return 0;
	}
	/* As Go's Regexp.ReplaceAllString: every match replaced by new_name
	 * with $1 / ${1} / ${name} expanded. */
	static const uint8_t none[1];
	PCRE2_SIZE cap = m->name.len + strlen(tr->new_name) * 4 + 64;
	for (int tries = 0; tries < 4; tries++) {
		uint8_t *buf = otf_arena_alloc(a, cap);
		if (!buf)
			return OTF_E_NOMEM;
		PCRE2_SIZE len = cap;
		int rc = pcre2_substitute(
		    re, m->name.len ? m->name.ptr : none, m->name.len, 0,
		    PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH, NULL, NULL,
		    (PCRE2_SPTR)tr->new_name, PCRE2_ZERO_TERMINATED, buf, &len);
		if (rc >= 0) {
			m->name = (otf_bytes_t){buf, len};
			return 0;
		}
		if (rc != PCRE2_ERROR_NOMEMORY)
			return 0; /* a bad template: the name stays */
		cap = len + 1;
	}
	return 0;
}

static int copy_metric(const otf_metric_t *src, otf_metric_t *dst, otf_arena_t *a)
{
	*dst = *src;
	size_t n = src->data_points_len;
	size_t ps = src->type == OTF_METRIC_HISTOGRAM       ? sizeof(otf_histogram_data_point_t)
	            : src->type == OTF_METRIC_EXP_HISTOGRAM ? sizeof(otf_exp_histogram_data_point_t)
	            : src->type == OTF_METRIC_SUMMARY       ? sizeof(otf_summary_data_point_t)
	                                                    : sizeof(otf_number_data_point_t);
	void *pts = otf_arena_memdup(a, src->data_points.number, n * ps);
	if (!pts)
		return OTF_E_NOMEM;
	dst->data_points.number = pts;
	for (size_t i = 0; i < n; i++) {
		otf_attributes_t *at;
		if (src->type == OTF_METRIC_HISTOGRAM) {
			otf_histogram_data_point_t *p = &dst->data_points.histogram[i];
			at = &p->attributes;
			p->explicit_bounds = otf_arena_memdup(
			    a, p->explicit_bounds, p->explicit_bounds_len * sizeof(double));
			if (!p->explicit_bounds)
				return OTF_E_NOMEM;
		} else if (src->type == OTF_METRIC_EXP_HISTOGRAM) {
			at = &dst->data_points.exp_histogram[i].attributes;
		} else if (src->type == OTF_METRIC_SUMMARY) {
			at = &dst->data_points.summary[i].attributes;
		} else {
			at = &dst->data_points.number[i].attributes;
		}
		at->items = otf_arena_memdup(a, at->items, at->len * sizeof *at->items);
		if (!at->items)
			return OTF_E_NOMEM;
	}
	return 0;
}

static int run_ops(const otf_mt_transform_t *tr, otf_metric_t *m, otf_arena_t *a)
{
	for (size_t i = 0; i < tr->operations.n; i++) {
		int rc = otf__mt_op_apply(OTF_CONFIG_OBJLIST_AT(&tr->operations, OP, i), m, a);
		if (rc)
			return rc;
	}
	return 0;
}

/* The named capture groups of re matched on name, as labels on every
 * point of m (combine). */
static int submatch_labels(const otf_mt_transform_t *tr, const void *re, otf_metric_t *m,
                           otf_arena_t *a)
{
	uint32_t count = 0, esz = 0;
	PCRE2_SPTR table = NULL;
	pcre2_pattern_info(re, PCRE2_INFO_NAMECOUNT, &count);
	if (!count)
		return 0;
	pcre2_pattern_info(re, PCRE2_INFO_NAMEENTRYSIZE, &esz);
	pcre2_pattern_info(re, PCRE2_INFO_NAMETABLE, &table);
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	if (!md)
		return OTF_E_NOMEM;
	static const uint8_t none[1];
	int rc = pcre2_match(re, m->name.len ? m->name.ptr : none, m->name.len, 0, 0, md, NULL);
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
	otf_key_value_t *labels = rc >= 0 ? otf_arena_alloc(a, count * sizeof *labels) : NULL;
	size_t nl = 0;
	for (uint32_t i = 0; labels && i < count; i++) {
		PCRE2_SPTR e = table + (size_t)i * esz;
		uint32_t g = (uint32_t)(e[0] << 8 | e[1]);
		if ((int)g >= rc || ov[2 * g] == PCRE2_UNSET)
			continue;
		size_t len = ov[2 * g + 1] - ov[2 * g];
		uint8_t *v = otf_arena_memdup(a, m->name.ptr + ov[2 * g], len);
		if (!v)
			break;
		for (size_t k = 0; k < len; k++) {
			if (tr->submatch_case && !strcmp(tr->submatch_case, "lower"))
				v[k] = (uint8_t)tolower(v[k]);
			else if (tr->submatch_case && !strcmp(tr->submatch_case, "upper"))
				v[k] = (uint8_t)toupper(v[k]);
		}
		labels[nl].key = (otf_bytes_t){e + 2, strlen((const char *)e + 2)};
		labels[nl].value = (otf_any_value_t){.type = OTF_ANY_STRING};
		labels[nl].value.u.string_value = (otf_bytes_t){v, len};
		nl++;
	}
	pcre2_match_data_free(md);
	if (rc >= 0 && !labels)
		return OTF_E_NOMEM;
	for (size_t i = 0; i < m->data_points_len; i++) {
		otf_attributes_t *at = m->type == OTF_METRIC_HISTOGRAM
		                           ? &m->data_points.histogram[i].attributes
		                           : &m->data_points.number[i].attributes;
		otf_key_value_t *items = otf_arena_alloc(a, (at->len + nl) * sizeof *items);
		if (!items)
			return OTF_E_NOMEM;
		if (at->len)
			memcpy(items, at->items, at->len * sizeof *items);
		if (nl)
			memcpy(items + at->len, labels, nl * sizeof *items);
		*at = (otf_attributes_t){items, at->len + nl};
	}
	return 0;
}

static int combine(const otf_mt_transform_t *tr, const mt_sel_t *sel, otf_scope_metrics_t *sm,
                   otf_arena_t *a, otf_mt_stats_t *st)
{
	size_t first = SIZE_MAX, total = 0;
	for (size_t i = 0; i < sm->metrics_len; i++) {
		const otf_metric_t *m = &sm->metrics[i];
		if (!matches(tr, sel, m))
			continue;
		if (first == SIZE_MAX) {
			first = i;
		} else {
			const otf_metric_t *f = &sm->metrics[first];
			/* As the Collector: metrics of different shapes do not
			 * combine (the transform is skipped for this scope). */
			if (m->type != f->type || m->is_monotonic != f->is_monotonic ||
			    m->aggregation_temporality != f->aggregation_temporality ||
			    m->unit.len != f->unit.len ||
			    (m->unit.len && memcmp(m->unit.ptr, f->unit.ptr, m->unit.len)))
				return 0;
		}
		total += m->data_points_len;
	}
	if (first == SIZE_MAX)
		return 0;
	otf_metric_type_t type = sm->metrics[first].type;
	if (type != OTF_METRIC_GAUGE && type != OTF_METRIC_SUM && type != OTF_METRIC_HISTOGRAM)
		return 0;
	size_t ps = type == OTF_METRIC_HISTOGRAM ? sizeof(otf_histogram_data_point_t)
	                                         : sizeof(otf_number_data_point_t);
	uint8_t *pts = otf_arena_alloc(a, (total ? total : 1) * ps);
	if (!pts)
		return OTF_E_NOMEM;
	otf_metric_t out = sm->metrics[first];
	out.name = (otf_bytes_t){(const uint8_t *)tr->new_name, strlen(tr->new_name)};
	size_t np = 0, mo = 0, slot = 0;
	for (size_t i = 0; i < sm->metrics_len; i++) {
		otf_metric_t m = sm->metrics[i];
		if (!matches(tr, sel, &m)) {
			sm->metrics[mo++] = m;
			continue;
		}
		int rc = submatch_labels(tr, sel->re, &m, a);
		if (rc)
			return rc;
		if (m.data_points_len)
			memcpy(pts + np * ps, m.data_points.number, m.data_points_len * ps);
		np += m.data_points_len;
		if (i == first)
			slot = mo++; /* the combined metric's place: the first match's */
	}
	out.data_points.number = (otf_number_data_point_t *)(void *)pts;
	out.data_points_len = np;
	/* Without aggregation_type (the README's combine example) points
	 * are only gathered. */
	int agg = otf__mt_agg_of(tr->aggregation_type), rc = agg ? otf__mt_merge(&out, agg, a) : 0;
	if (!rc)
		rc = run_ops(tr, &out, a);
	if (rc)
		return rc;
	sm->metrics_len = mo;
	sm->metrics[slot] = out;
	st->changed++;
	return 0;
}

static int transform_scope(const otf_mt_transform_t *tr, const mt_sel_t *sel,
                           otf_scope_metrics_t *sm, otf_arena_t *a, otf_mt_stats_t *st)
{
	if (tr->action == OTF_MT_COMBINE)
		return combine(tr, sel, sm, a, st);
	if (tr->action == OTF_MT_UPDATE) {
		for (size_t i = 0; i < sm->metrics_len; i++) {
			otf_metric_t *m = &sm->metrics[i];
			if (!matches(tr, sel, m))
				continue;
			int rc = rename_metric(tr, sel->re, m, a);
			if (!rc)
				rc = run_ops(tr, m, a);
			if (rc)
				return rc;
			st->changed++;
		}
		return 0;
	}
	/* insert: each copy right after its original */
	size_t n = 0;
	for (size_t i = 0; i < sm->metrics_len; i++)
		n += matches(tr, sel, &sm->metrics[i]);
	if (!n)
		return 0;
	otf_metric_t *ms = otf_arena_alloc(a, (sm->metrics_len + n) * sizeof *ms);
	if (!ms)
		return OTF_E_NOMEM;
	size_t o = 0;
	for (size_t i = 0; i < sm->metrics_len; i++) {
		ms[o++] = sm->metrics[i];
		if (!matches(tr, sel, &sm->metrics[i]))
			continue;
		otf_metric_t *c = &ms[o++];
		int rc = copy_metric(&sm->metrics[i], c, a);
		if (!rc)
			keep_matching_points(tr, sel, c);
		if (!rc)
			rc = rename_metric(tr, sel->re, c, a);
		if (!rc)
			rc = run_ops(tr, c, a);
		if (rc)
			return rc;
		st->changed++;
	}
	sm->metrics = ms;
	sm->metrics_len = o;
	return 0;
}

/* group (the Collector's groupMetrics): the matching metrics of each
 * resource move to a new resource (its attributes plus
 * group_resource_labels, upserted), under copies of their scopes, added
 * after the original resources; what would be left empty is not kept. */
static int group(const otf_mt_transform_t *tr, const mt_sel_t *sel, otf_metrics_t *md,
                 otf_arena_t *a, otf_mt_stats_t *st)
{
	size_t nr = md->resource_metrics_len, add = 0;
	otf_resource_metrics_t *out = otf_arena_alloc(a, 2 * (nr ? nr : 1) * sizeof *out);
	if (!out)
		return OTF_E_NOMEM;
	if (nr)
		memcpy(out, md->resource_metrics, nr * sizeof *out);
	for (size_t r = 0; r < nr; r++) {
		otf_resource_metrics_t *rm = &out[r];
		otf_resource_metrics_t g = *rm;
		g.scope_metrics =
		    otf_arena_alloc(a, (rm->scope_metrics_len ? rm->scope_metrics_len : 1) *
		                           sizeof *g.scope_metrics);
		if (!g.scope_metrics)
			return OTF_E_NOMEM;
		g.scope_metrics_len = 0;
		for (size_t s = 0; s < rm->scope_metrics_len; s++) {
			otf_scope_metrics_t *sm = &rm->scope_metrics[s];
			otf_scope_metrics_t gs = *sm;
			gs.metrics = otf_arena_alloc(a, (sm->metrics_len ? sm->metrics_len : 1) *
			                                    sizeof *gs.metrics);
			if (!gs.metrics)
				return OTF_E_NOMEM;
			gs.metrics_len = 0;
			size_t mo = 0;
			for (size_t i = 0; i < sm->metrics_len; i++) {
				if (matches(tr, sel, &sm->metrics[i]))
					gs.metrics[gs.metrics_len++] = sm->metrics[i];
				else
					sm->metrics[mo++] = sm->metrics[i];
			}
			sm->metrics_len = mo;
			if (gs.metrics_len)
				g.scope_metrics[g.scope_metrics_len++] = gs;
		}
		if (!g.scope_metrics_len)
			continue;
		const otf_config_strmap_t *l = &tr->group_resource_labels;
		otf_attributes_t *at = &g.resource.attributes;
		otf_key_value_t *items = otf_arena_alloc(a, (at->len + l->n) * sizeof *items);
		if (!items)
			return OTF_E_NOMEM;
		if (at->len)
			memcpy(items, at->items, at->len * sizeof *items);
		size_t n = at->len;
		for (size_t k = 0; k < l->n; k++) {
			otf_bytes_t key = {(const uint8_t *)l->keys[k], strlen(l->keys[k])};
			otf_key_value_t *kv = NULL;
			for (size_t i = 0; i < n && !kv; i++)
				if (items[i].key.len == key.len &&
				    !memcmp(items[i].key.ptr, key.ptr, key.len))
					kv = &items[i];
			if (!kv)
				kv = &items[n++];
			kv->key = key;
			kv->value = (otf_any_value_t){.type = OTF_ANY_STRING};
			kv->value.u.string_value =
			    (otf_bytes_t){(const uint8_t *)l->values[k], strlen(l->values[k])};
		}
		*at = (otf_attributes_t){items, n};
		out[nr + add++] = g;
		st->changed++;
	}
	md->resource_metrics = out;
	md->resource_metrics_len = nr + add;
	return 0;
}

int otf__mt_apply(const otf_mt_config_t *c, const otf_mt_compiled_t *x, otf_metrics_t *md,
                  otf_arena_t *arena, otf_mt_stats_t *st)
{
	/* Transform by transform: a later one sees what earlier ones made
	 * (the Collector's order); within a transform, scope by scope. */
	for (size_t t = 0; t < c->transforms.n; t++) {
		const otf_mt_transform_t *tr = OTF_CONFIG_OBJLIST_AT(&c->transforms, TR, t);
		mt_sel_t sel = {x->re[t], x->lre[t]};
		if (tr->action == OTF_MT_GROUP) {
			int rc = group(tr, &sel, md, arena, st);
			if (rc)
				return rc;
			continue;
		}
		for (size_t r = 0; r < md->resource_metrics_len; r++) {
			otf_resource_metrics_t *rm = &md->resource_metrics[r];
			for (size_t s = 0; s < rm->scope_metrics_len; s++) {
				int rc =
				    transform_scope(tr, &sel, &rm->scope_metrics[s], arena, st);
				if (rc)
					return rc;
			}
		}
	}
	return 0;
}

/* ---- node ---- */

typedef struct mt {
	ottlproc_relay_t relay;
	const otf_mt_config_t *cfg;
	otf_mt_compiled_t re;
	otf_arena_t arena;
} mt_t;

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	mt_t *p = otf_calloc(1, sizeof *p);
	if (!p)
		return OTF_E_NOMEM;
	p->relay.node = ctx->node;
	p->cfg = ctx->config;
	int rc = otf__mt_compile(p->cfg, &p->re);
	if (rc) {
		otf_free(p);
		return rc;
	}
	otf_arena_init(&p->arena, 0);
	*inst = p;
	return 0;
}

static void consume(void *inst, otf_msg_t *m)
{
	mt_t *p = inst;
	ottlproc_tree_t t;
	if (otf__ottlproc_decode_msg(m, OTF_SIGNAL_METRICS, &p->arena, &t))
		return;
	int rc;
	otf_mt_stats_t st = {0};
	if ((rc = otf__mt_apply(p->cfg, &p->re, &t.u.metrics, &p->arena, &st))) {
		otf_msg_nack(m, rc, false, "metricstransform: out of memory");
		return;
	}
	if (!st.changed) {
		otf__ottlproc_forward(&p->relay, m);
		return;
	}
	otf__ottlproc_send_tree(&p->relay, m, &t, OTTLPROC_ACK_EMPTY, "metricstransform");
}

static void control(void *inst, const otf_ctrl_t *c)
{
	mt_t *p = inst;
	otf__ottlproc_relay_control(&p->relay, c);
}

static void destroy(void *inst)
{
	mt_t *p = inst;
	otf__ottlproc_relay_close(&p->relay);
	otf__mt_compiled_free(&p->re);
	otf_arena_close(&p->arena);
	otf_free(p);
}

const otf_component_factory_t otf_processor_metricstransform_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "metricstransform",
    .description = "Renames metrics, edits labels and aggregates points across labels or "
                   "label values within a request (the Collector's metricstransform).",
    .stability = {OTF_STABILITY_UNDEFINED, OTF_STABILITY_BETA, OTF_STABILITY_UNDEFINED},
    .config_schema = otf_mt_schema,
    .config_size = sizeof(otf_mt_config_t),
    .validate = otf__mt_validate,
    .create = {NULL, create, NULL},
    .consume = {NULL, consume, NULL},
    .control = control,
    .destroy = destroy,
};
