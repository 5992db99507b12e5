/* connector `count`: its config. Each of the five sections is a mapping
 * of metric name -> {description, conditions, attributes}, parsed by the
 * schema's CUSTOM hook so that a condition that does not compile is a
 * config error at its own file:line (with the column in the condition),
 * and compiled once here for every worker to share. */
#include "count.h"

#include "otflow/alloc.h"
#include "otflow/config.h"
#include "otflow/err.h"

#include <string.h>

static char *dup_str(const char *s)
{
	return s ? otf_strndup(s, strlen(s)) : NULL;
}

static void defs_release(void *slot)
{
	otf_count_defs_t *d = slot;
	for (size_t i = 0; i < d->n; i++) {
		otf_count_metric_t *m = &d->items[i];
		otf_free(m->name);
		otf_free(m->desc);
		for (size_t a = 0; a < m->nattrs; a++) {
			otf_free(m->attrs[a].key);
			otf_free(m->attrs[a].def);
		}
		otf_free(m->attrs);
		otf_ottl_program_destroy(m->cond);
	}
	otf_free(d->items);
	memset(d, 0, sizeof *d);
}

static int only_keys(const otf_config_node_t *v, const char *const *keys, otf_config_error_t *err)
{
	for (size_t j = 0; j < otf_config_len(v); j++) {
		const otf_config_node_t *kv;
		const char *k = otf_config_map_at(v, j, &kv);
		size_t i = 0;
		while (keys[i] && strcmp(keys[i], k))
			i++;
		if (!keys[i])
			return otf_config_errorf(
			    err, kv, "unknown key \"%s\" (valid keys: %s%s%s%s%s)", k, keys[0],
			    keys[1] ? ", " : "", keys[1] ? keys[1] : "",
			    keys[1] && keys[2] ? ", " : "", keys[1] && keys[2] ? keys[2] : "");
	}
	return 0;
}

static int attrs_parse(otf_count_metric_t *m, const otf_config_node_t *v, otf_config_error_t *err)
{
	static const char *const akeys[] = {"key", "default_value", NULL};
	if (otf_config_node_kind(v) != OTF_CONFIG_SEQUENCE)
		return otf_config_errorf(err, v, "expected a list of {key, default_value}, got %s",
		                         otf_config_kind_name(v));
	size_t n = otf_config_len(v);
	if (!(m->attrs = otf_calloc(n ? n : 1, sizeof *m->attrs)))
		return OTF_E_NOMEM;
	for (size_t i = 0; i < n; i++) {
		m->nattrs = i + 1; /* zeroed by calloc: released on failure */
		const otf_config_node_t *e = otf_config_seq_at(v, i);
		if (otf_config_node_kind(e) != OTF_CONFIG_MAPPING)
			return otf_config_errorf(err, e,
			                         "expected a mapping {key, default_value}, got %s",
			                         otf_config_kind_name(e));
		int rc = only_keys(e, akeys, err);
		if (rc)
			return rc;
		const otf_config_node_t *k = otf_config_map_get(e, "key");
		const otf_config_node_t *d = otf_config_map_get(e, "default_value");
		const char *ks = k ? otf_config_scalar(k, NULL) : NULL;
		if (!ks || !*ks)
			return otf_config_errorf(err, k ? k : e, "attribute key missing");
		const char *ds = d ? otf_config_scalar(d, NULL) : NULL;
		if (d && otf_config_node_kind(d) != OTF_CONFIG_NULL && !ds)
			return otf_config_errorf(err, d, "default_value must be a scalar, got %s",
			                         otf_config_kind_name(d));
		if (!(m->attrs[i].key = dup_str(ks)) ||
		    (ds && *ds && !(m->attrs[i].def = dup_str(ds))))
			return OTF_E_NOMEM;
	}
	return 0;
}

static int conds_parse(otf_count_metric_t *m, otf_ottl_context_t ctx, const otf_config_node_t *v,
                       otf_config_error_t *err)
{
	if (otf_config_node_kind(v) != OTF_CONFIG_SEQUENCE)
		return otf_config_errorf(err, v, "expected a list of OTTL conditions, got %s",
		                         otf_config_kind_name(v));
	size_t n = otf_config_len(v);
	if (!n)
		return 0;
	const char **c = otf_calloc(n, sizeof *c);
	if (!c)
		return OTF_E_NOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(c[i] = otf_config_scalar(otf_config_seq_at(v, i), NULL))) {
			otf_free(c);
			return otf_config_errorf(err, otf_config_seq_at(v, i),
			                         "a condition must be a string");
		}
	otf_ottl_error_t oe = {0};
	int rc = otf_ottl_compile_conditions(&m->cond, ctx, c, n, &oe);
	otf_free(c);
	if (rc == OTF_E_NOMEM)
		return rc;
	if (rc)
		return otf_config_errorf(err, otf_config_seq_at(v, oe.index < n ? oe.index : 0),
		                         "condition: metric \"%s\": column %zu: %s", m->name,
		                         oe.column + 1, oe.msg);
	return 0;
}

static int defs_parse(const otf_config_node_t *v, void *slot, otf_config_error_t *err, int sec)
{
	static const otf_ottl_context_t ctx[] = {OTF_OTTL_CTX_SPAN, OTF_OTTL_CTX_SPANEVENT,
	                                         OTF_OTTL_CTX_METRIC, OTF_OTTL_CTX_DATAPOINT,
	                                         OTF_OTTL_CTX_LOG};
	static const char *const mkeys[] = {"description", "conditions", "attributes", NULL};
	otf_count_defs_t *d = slot;
	d->set = true;
	if (otf_config_node_kind(v) != OTF_CONFIG_MAPPING)
		return otf_config_errorf(err, v, "expected a mapping of metric names, got %s",
		                         otf_config_kind_name(v));
	size_t n = otf_config_len(v);
	if (!(d->items = otf_calloc(n ? n : 1, sizeof *d->items)))
		return OTF_E_NOMEM;
	for (size_t i = 0; i < n; i++) {
		d->n = i + 1; /* zeroed by calloc: released on failure */
		const otf_config_node_t *e;
		const char *name = otf_config_map_at(v, i, &e);
		otf_count_metric_t *m = &d->items[i];
		if (!*name)
			return otf_config_errorf(err, e, "metric name missing");
		if (!(m->name = dup_str(name)))
			return OTF_E_NOMEM;
		if (otf_config_node_kind(e) == OTF_CONFIG_NULL)
			continue;
		if (otf_config_node_kind(e) != OTF_CONFIG_MAPPING)
			return otf_config_errorf(err, e,
			                         "expected a mapping {description, conditions, "
			                         "attributes}, got %s",
			                         otf_config_kind_name(e));
		int rc = only_keys(e, mkeys, err);
		if (rc)
			return rc;
		const otf_config_node_t *de = otf_config_map_get(e, "description");
		const otf_config_node_t *co = otf_config_map_get(e, "conditions");
		const otf_config_node_t *at = otf_config_map_get(e, "attributes");
		const char *ds = de ? otf_config_scalar(de, NULL) : NULL;
		if (ds && !(m->desc = dup_str(ds)))
			return OTF_E_NOMEM;
		if (co && otf_config_node_kind(co) != OTF_CONFIG_NULL &&
		    (rc = conds_parse(m, ctx[sec], co, err)))
			return rc;
		if (at && otf_config_node_kind(at) != OTF_CONFIG_NULL) {
			if (sec == OTF_COUNT_METRICS)
				return otf_config_errorf(
				    err, at, "metrics attributes not supported: metric \"%s\"",
				    name);
			if ((rc = attrs_parse(m, at, err)))
				return rc;
		}
	}
	return 0;
}

#define SECTION_PARSER(fn, sec)                                                        \
	static int fn(const otf_config_node_t *v, void *slot, otf_config_error_t *err) \
	{                                                                              \
		return defs_parse(v, slot, err, sec);                                  \
	}
SECTION_PARSER(spans_parse, OTF_COUNT_SPANS)
SECTION_PARSER(spanevents_parse, OTF_COUNT_SPANEVENTS)
SECTION_PARSER(metrics_parse, OTF_COUNT_METRICS)
SECTION_PARSER(datapoints_parse, OTF_COUNT_DATAPOINTS)
SECTION_PARSER(logs_parse, OTF_COUNT_LOGS)

#define CFG  otf_count_config_t
#define HINT "map of metric name -> {description, conditions, attributes}"

const otf_config_field_t otf_count_schema[] = {
    {.key = "spans",
     .type = OTF_CFG_CUSTOM,
     .hint = HINT,
     .offset = offsetof(CFG, sec[OTF_COUNT_SPANS]),
     .parse = spans_parse,
     .release = defs_release,
     .desc = "Span counts (span context conditions). Default: trace.span.count."},
    {.key = "spanevents",
     .type = OTF_CFG_CUSTOM,
     .hint = HINT,
     .offset = offsetof(CFG, sec[OTF_COUNT_SPANEVENTS]),
     .parse = spanevents_parse,
     .release = defs_release,
     .desc = "Span event counts (spanevent context). Default: trace.span.event.count."},
    {.key = "metrics",
     .type = OTF_CFG_CUSTOM,
     .hint = "map of metric name -> {description, conditions}",
     .offset = offsetof(CFG, sec[OTF_COUNT_METRICS]),
     .parse = metrics_parse,
     .release = defs_release,
     .desc = "Metric counts (metric context; no attributes). Default: metric.count."},
    {.key = "datapoints",
     .type = OTF_CFG_CUSTOM,
     .hint = HINT,
     .offset = offsetof(CFG, sec[OTF_COUNT_DATAPOINTS]),
     .parse = datapoints_parse,
     .release = defs_release,
     .desc = "Data point counts (datapoint context). Default: metric.datapoint.count."},
    {.key = "logs",
     .type = OTF_CFG_CUSTOM,
     .hint = HINT,
     .offset = offsetof(CFG, sec[OTF_COUNT_LOGS]),
     .parse = logs_parse,
     .release = defs_release,
     .desc = "Log record counts (log context). Default: log.record.count."},
    OTF_CONFIG_FIELD_END,
};

const otf_count_defs_t *otf_count_section(const otf_count_config_t *c, int s)
{
	static otf_count_metric_t defaults[] = {
	    {.name = "trace.span.count", .desc = "The number of spans observed."},
	    {.name = "trace.span.event.count", .desc = "The number of span events observed."},
	    {.name = "metric.count", .desc = "The number of metrics observed."},
	    {.name = "metric.datapoint.count", .desc = "The number of data points observed."},
	    {.name = "log.record.count", .desc = "The number of log records observed."},
	};
	static const otf_count_defs_t def_defs[] = {
	    {&defaults[0], 1, false}, {&defaults[1], 1, false}, {&defaults[2], 1, false},
	    {&defaults[3], 1, false}, {&defaults[4], 1, false},
	};
	return c->sec[s].set ? &c->sec[s] : &def_defs[s];
}
