/* processor `metricstransform` (metricstransform.h): schema, validation
 * and the patterns compiled once per instance. */
#include "metricstransform.h"

#include "components/processors/internal/namefilter.h"
#include "otflow/alloc.h"
#include "otflow/err.h"

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
