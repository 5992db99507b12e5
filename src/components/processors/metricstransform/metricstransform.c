/* processor `metricstransform` (metricstransform.h): selection of metrics,
 * the update / insert / combine / group actions and the node. Schema,
 * validation and the compiled patterns: mt_config.c; operations on one
 * metric: mt_ops.c. */
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
	if (!tr->new_name || !*tr->new_name)
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
		int rc =
		    otf__mt_op_apply(OTF_CONFIG_OBJLIST_AT(&tr->operations, otf_mt_op_t, i), m, a);
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
		const otf_mt_transform_t *tr =
		    OTF_CONFIG_OBJLIST_AT(&c->transforms, otf_mt_transform_t, t);
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
