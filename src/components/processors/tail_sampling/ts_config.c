/* tail_sampling: configuration schema and the `policies` list (a list of
 * mappings the declarative schema cannot say, parsed here with the same
 * error shape: file:line:col, key path, what is wrong). Regexes and OTTL
 * conditions are compiled here, at config load. Keys and defaults are the
 * Collector's (tailsamplingprocessor/config.go, README.md). */
#include "tail_sampling.h"

#include "otflow/alloc.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdio.h>
#include <string.h>

static const char *const k_type_names[TS_TYPE_COUNT] = {
    "always_sample",  "latency",     "numeric_attribute",
    "probabilistic",  "status_code", "string_attribute",
    "rate_limiting",  "span_count",  "boolean_attribute",
    "ottl_condition", "and",         "composite",
    "drop",           "trace_state",
};

/* Every type's keys in one scratch struct, filled by the type's schema. */
typedef struct pcfg {
	int64_t threshold_ms, upper_threshold_ms;
	char *key;
	int64_t min_value, max_value;
	bool has_min, has_max, invert_match, value, regex, has_cache_size;
	int64_t cache_max_size;
	otf_config_strlist_t values, status_codes, span, spanevent, policy_order;
	char *hash_salt, *error_mode;
	double sampling_percentage;
	int64_t spans_per_second, min_spans, max_spans, max_total_sps;
} pcfg_t;

#define F(k, t, m, d, ds)                                                                \
	{                                                                                \
		.key = k, .type = t, .offset = offsetof(pcfg_t, m), .def = d, .desc = ds \
	}

static const otf_config_field_t k_latency[] = {
    F("threshold_ms", OTF_CFG_INT, threshold_ms, "0",
      "Trace duration (first start to last end) at least this, ms."),
    F("upper_threshold_ms", OTF_CFG_INT, upper_threshold_ms, "0",
      "0 = no upper bound; else duration in (threshold_ms, upper]."),
    OTF_CONFIG_FIELD_END,
};
static const otf_config_field_t k_numeric[] = {
    {.key = "key", .type = OTF_CFG_STRING, .offset = offsetof(pcfg_t, key), .required = true},
    {.key = "min_value",
     .type = OTF_CFG_INT,
     .offset = offsetof(pcfg_t, min_value),
     .present_at = OTF_CONFIG_PRESENT(pcfg_t, has_min)},
    {.key = "max_value",
     .type = OTF_CFG_INT,
     .offset = offsetof(pcfg_t, max_value),
     .present_at = OTF_CONFIG_PRESENT(pcfg_t, has_max)},
    F("invert_match", OTF_CFG_BOOL, invert_match, "false", ""),
    OTF_CONFIG_FIELD_END,
};
static const otf_config_field_t k_probabilistic[] = {
    F("hash_salt", OTF_CFG_STRING, hash_salt, NULL, ""),
    /* Unbounded, as the Collector: past 100 keeps all, below 0 none. */
    {.key = "sampling_percentage",
     .type = OTF_CFG_DOUBLE,
     .offset = offsetof(pcfg_t, sampling_percentage),
     .def = "0"},
    OTF_CONFIG_FIELD_END,
};
static const otf_config_field_t k_status[] = {
    {.key = "status_codes",
     .type = OTF_CFG_STRING_LIST,
     .offset = offsetof(pcfg_t, status_codes),
     .required = true},
    OTF_CONFIG_FIELD_END,
};
static const otf_config_field_t k_string[] = {
    {.key = "key", .type = OTF_CFG_STRING, .offset = offsetof(pcfg_t, key), .required = true},
    F("values", OTF_CFG_STRING_LIST, values, NULL, ""),
    F("enabled_regex_matching", OTF_CFG_BOOL, regex, "false", ""),
    {.key = "cache_max_size",
     .type = OTF_CFG_INT,
     .offset = offsetof(pcfg_t, cache_max_size),
     .present_at = OTF_CONFIG_PRESENT(pcfg_t, has_cache_size)},
    F("invert_match", OTF_CFG_BOOL, invert_match, "false", ""),
    OTF_CONFIG_FIELD_END,
};
static const otf_config_field_t k_rate[] = {
    {.key = "spans_per_second",
     .type = OTF_CFG_INT,
     .offset = offsetof(pcfg_t, spans_per_second),
     .required = true,
     .min = "1"},
    OTF_CONFIG_FIELD_END,
};
static const otf_config_field_t k_span_count[] = {
    F("min_spans", OTF_CFG_INT, min_spans, "0", ""),
    F("max_spans", OTF_CFG_INT, max_spans, "0", ""),
    OTF_CONFIG_FIELD_END,
};
static const otf_config_field_t k_bool[] = {
    {.key = "key", .type = OTF_CFG_STRING, .offset = offsetof(pcfg_t, key), .required = true},
    F("value", OTF_CFG_BOOL, value, "false", ""),
    F("invert_match", OTF_CFG_BOOL, invert_match, "false", ""),
    OTF_CONFIG_FIELD_END,
};
static const otf_config_field_t k_ottl[] = {
    F("error_mode", OTF_CFG_STRING, error_mode, "propagate", ""),
    F("span", OTF_CFG_STRING_LIST, span, NULL, ""),
    F("spanevent", OTF_CFG_STRING_LIST, spanevent, NULL, ""),
    OTF_CONFIG_FIELD_END,
};
static const otf_config_field_t k_trace_state[] = {
    {.key = "key", .type = OTF_CFG_STRING, .offset = offsetof(pcfg_t, key), .required = true},
    {.key = "values",
     .type = OTF_CFG_STRING_LIST,
     .offset = offsetof(pcfg_t, values),
     .required = true},
    OTF_CONFIG_FIELD_END,
};
static const otf_config_field_t k_empty[] = {OTF_CONFIG_FIELD_END};

static const otf_config_field_t *const k_type_schema[TS_TYPE_COUNT] = {
    k_empty,  k_latency, k_numeric,    k_probabilistic, k_status,
    k_string, k_rate,    k_span_count, k_bool,          k_ottl,
    NULL,     NULL,      NULL,         k_trace_state,
};

static void policy_free(otf__ts_policy_t *p)
{
	otf_free(p->name);
	otf_free(p->key);
	otf_free(p->hash_salt);
	for (size_t i = 0; i < p->n_values; i++) {
		otf_free(p->values[i]);
		if (p->re && p->re[i])
			pcre2_code_free(p->re[i]);
	}
	otf_free(p->values);
	otf_free(p->re);
	otf_ottl_program_destroy(p->span_prog);
	otf_ottl_program_destroy(p->event_prog);
	for (size_t i = 0; i < p->n_subs; i++)
		policy_free(&p->subs[i]);
	otf_free(p->subs);
	otf_free(p->alloc_sps);
	memset(p, 0, sizeof *p);
}

static char *dup_str(const char *s)
{
	size_t n = strlen(s);
	char *d = otf_malloc(n + 1);
	if (d)
		memcpy(d, s, n + 1);
	return d;
}

static int parse_list(const otf_config_node_t *v, otf__ts_policy_t **out, size_t *n,
                      size_t *n_state, int depth, otf_config_error_t *err);

static int compile_ottl(const otf_config_node_t *at, otf_ottl_context_t ctx,
                        const otf_config_strlist_t *l, otf_ottl_program_t **out,
                        otf_config_error_t *err)
{
	if (!l->n)
		return 0;
	otf_ottl_error_t oe;
	int rc = otf_ottl_compile_conditions(out, ctx, (const char *const *)l->items, l->n, &oe);
	if (rc == OTF_E_NOMEM)
		return otf_config_errorf(err, at, "out of memory");
	if (rc)
		return otf_config_errorf(err, at, "%s condition %zu, column %zu: %s",
		                         otf_ottl_context_name(ctx), oe.index, oe.column + 1,
		                         oe.msg);
	return 0;
}

/* The type-specific mapping (`latency: {...}`) into p. */
static int parse_type_cfg(otf__ts_policy_t *p, const otf_config_node_t *at,
                          const otf_config_node_t *v, otf_config_error_t *err)
{
	pcfg_t c;
	memset(&c, 0, sizeof c);
	const otf_config_field_t *schema = k_type_schema[p->type];
	int rc = otf_config_schema_apply(schema, v, &c, err);
	if (rc)
		return rc;
	switch (p->type) {
	case TS_LATENCY:
		p->threshold_ms = c.threshold_ms;
		p->upper_threshold_ms = c.upper_threshold_ms;
		if (c.upper_threshold_ms && c.upper_threshold_ms <= c.threshold_ms)
			rc = otf_config_errorf(err, at,
			                       "latency: upper_threshold_ms (%lld) must be "
			                       "greater than threshold_ms (%lld)",
			                       (long long)c.upper_threshold_ms,
			                       (long long)c.threshold_ms);
		break;
	case TS_NUMERIC_ATTRIBUTE:
		p->min_value = c.has_min ? c.min_value : INT64_MIN;
		p->max_value = c.has_max ? c.max_value : INT64_MAX;
		p->invert_match = c.invert_match;
		if (!c.has_min && !c.has_max)
			rc = otf_config_errorf(err, at,
			                       "numeric_attribute: set min_value, max_value or "
			                       "both");
		else if (p->min_value > p->max_value)
			rc = otf_config_errorf(err, at,
			                       "numeric_attribute: min_value (%lld) is greater "
			                       "than max_value (%lld)",
			                       (long long)p->min_value, (long long)p->max_value);
		break;
	case TS_PROBABILISTIC:
		p->sampling_percentage = c.sampling_percentage;
		p->prob_threshold = otf__ts_prob_threshold(c.sampling_percentage / 100);
		p->hash_salt =
		    dup_str(c.hash_salt && *c.hash_salt ? c.hash_salt : "default-hash-seed");
		if (!p->hash_salt)
			rc = OTF_E_NOMEM;
		break;
	case TS_STATUS_CODE:
		for (size_t i = 0; i < c.status_codes.n && !rc; i++) {
			const char *s = c.status_codes.items[i];
			if (!strcmp(s, "OK"))
				p->status_mask |= 1u << OTF_STATUS_CODE_OK;
			else if (!strcmp(s, "ERROR"))
				p->status_mask |= 1u << OTF_STATUS_CODE_ERROR;
			else if (!strcmp(s, "UNSET"))
				p->status_mask |= 1u << OTF_STATUS_CODE_UNSET;
			else
				rc = otf_config_errorf(err, at,
				                       "status_code: unknown status code \"%s\", "
				                       "supported: OK, ERROR, UNSET",
				                       s);
		}
		if (!rc && !c.status_codes.n)
			rc = otf_config_errorf(err, at, "status_code: status_codes is empty");
		break;
	case TS_TRACE_STATE:
		p->values = c.values.items; /* taken over */
		p->n_values = c.values.n;
		c.values.items = NULL;
		c.values.n = 0;
		if (strlen(c.key) > 256)
			rc = otf_config_errorf(err, at, "trace_state: key longer than 256 bytes");
		break;
	case TS_STRING_ATTRIBUTE:
		p->invert_match = c.invert_match;
		p->regex = c.regex;
		p->cache_size_ignored = c.has_cache_size;
		p->values = c.values.items; /* taken over */
		p->n_values = c.values.n;
		c.values.items = NULL;
		c.values.n = 0;
		if (p->regex && p->n_values) {
			p->re = otf_calloc(p->n_values, sizeof *p->re);
			if (!p->re)
				rc = OTF_E_NOMEM;
			for (size_t i = 0; i < p->n_values && !rc; i++) {
				int code = 0;
				int erroff = 0;
				PCRE2_SIZE off = 0;
				p->re[i] =
				    pcre2_compile((PCRE2_SPTR)p->values[i], PCRE2_ZERO_TERMINATED,
				                  PCRE2_UTF, &code, &off, NULL);
				erroff = (int)off;
				if (!p->re[i]) {
					PCRE2_UCHAR msg[160];
					pcre2_get_error_message(code, msg, sizeof msg);
					rc = otf_config_errorf(
					    err, at,
					    "string_attribute: regex \"%s\" does "
					    "not compile at offset %d: %s",
					    p->values[i], erroff, (const char *)msg);
				} else {
					(void)pcre2_jit_compile(p->re[i], PCRE2_JIT_COMPLETE);
				}
			}
		}
		break;
	case TS_RATE_LIMITING:
		p->spans_per_second = c.spans_per_second;
		break;
	case TS_SPAN_COUNT:
		p->min_spans = c.min_spans;
		p->max_spans = c.max_spans;
		if (c.max_spans && c.max_spans < c.min_spans)
			rc = otf_config_errorf(err, at,
			                       "span_count: max_spans (%lld) is less than "
			                       "min_spans (%lld)",
			                       (long long)c.max_spans, (long long)c.min_spans);
		break;
	case TS_BOOLEAN_ATTRIBUTE:
		p->bool_value = c.value;
		p->invert_match = c.invert_match;
		break;
	case TS_OTTL_CONDITION: {
		int mode = otf_ottl_error_mode_parse(c.error_mode, strlen(c.error_mode));
		if (mode < 0) {
			rc = otf_config_errorf(err, at,
			                       "ottl_condition: unknown error_mode \"%s\" "
			                       "(ignore, silent, propagate)",
			                       c.error_mode);
			break;
		}
		p->error_mode = (otf_ottl_error_mode_t)mode;
		if (!c.span.n && !c.spanevent.n) {
			rc = otf_config_errorf(err, at,
			                       "ottl_condition: no span or spanevent conditions");
			break;
		}
		rc = compile_ottl(otf_config_map_get(v, "span"), OTF_OTTL_CTX_SPAN, &c.span,
		                  &p->span_prog, err);
		if (!rc)
			rc =
			    compile_ottl(otf_config_map_get(v, "spanevent"), OTF_OTTL_CTX_SPANEVENT,
			                 &c.spanevent, &p->event_prog, err);
		break;
	}
	default:
		break;
	}
	if (!rc && p->type != TS_STRING_ATTRIBUTE && p->type != TS_NUMERIC_ATTRIBUTE &&
	    p->type != TS_BOOLEAN_ATTRIBUTE && p->type != TS_TRACE_STATE)
		otf_free(c.key), c.key = NULL;
	if (!rc && c.key) {
		p->key = c.key;
		c.key = NULL;
	}
	otf_config_schema_free(schema, &c);
	return rc;
}

/* composite: {max_total_spans_per_second, policy_order, composite_sub_policy,
 * rate_allocation: [{policy, percent}]} */
static int parse_composite(otf__ts_policy_t *p, const otf_config_node_t *v, size_t *n_state,
                           int depth, otf_config_error_t *err)
{
	const otf_config_node_t *sub = NULL, *alloc = NULL, *order = NULL, *max = NULL;
	for (size_t i = 0; i < otf_config_len(v); i++) {
		const otf_config_node_t *val;
		const char *k = otf_config_map_at(v, i, &val);
		if (!strcmp(k, "composite_sub_policy"))
			sub = val;
		else if (!strcmp(k, "rate_allocation"))
			alloc = val;
		else if (!strcmp(k, "policy_order"))
			order = val;
		else if (!strcmp(k, "max_total_spans_per_second"))
			max = val;
		else
			return otf_config_errorf(err, val,
			                         "composite: unknown key \"%s\" (valid keys: "
			                         "max_total_spans_per_second, policy_order, "
			                         "composite_sub_policy, rate_allocation)",
			                         k);
	}
	if (!max || otf_config_read_int64(max, &p->spans_per_second, err))
		return max ? OTF_E_CONFIG
		           : otf_config_errorf(err, v,
		                               "composite: max_total_spans_per_second is "
		                               "required");
	p->state = (*n_state)++; /* the composite's own second */
	/* Into p at once, so that a refusal part way leaves what was built
	 * to the caller's release. */
	int rc = sub ? parse_list(sub, &p->subs, &p->n_subs, n_state, depth + 1, err)
	             : otf_config_errorf(err, v, "composite: composite_sub_policy is required");
	if (rc)
		return rc;
	otf__ts_policy_t *subs = p->subs;
	size_t n = p->n_subs;
	*n_state += n; /* one slot per sub-policy, after the composite's */
	/* Evaluation follows policy_order when given. */
	if (order) {
		if (otf_config_len(order) != n)
			return otf_config_errorf(err, order,
			                         "composite: policy_order names %zu "
			                         "policies, composite_sub_policy has %zu",
			                         otf_config_len(order), n);
		for (size_t i = 0; i < n; i++) {
			const char *want = otf_config_scalar(otf_config_seq_at(order, i), NULL);
			size_t j = i;
			while (j < n && (!want || strcmp(subs[j].name, want)))
				j++;
			if (j == n)
				return otf_config_errorf(
				    err, otf_config_seq_at(order, i),
				    "composite: policy_order names \"%s\", not a "
				    "composite_sub_policy (or named twice)",
				    want ? want : "");
			otf__ts_policy_t t = subs[i];
			subs[i] = subs[j];
			subs[j] = t;
		}
	}
	p->alloc_sps = otf_calloc(n ? n : 1, sizeof *p->alloc_sps);
	if (!p->alloc_sps)
		return OTF_E_NOMEM;
	/* rate_allocation: percent of max_total; 0 = an equal share; a
	 * sub-policy with no allocation gets none (getRateAllocationMap). */
	for (size_t i = 0; i < otf_config_len(alloc); i++) {
		const otf_config_node_t *a = otf_config_seq_at(alloc, i);
		const char *pol = otf_config_scalar(otf_config_map_get(a, "policy"), NULL);
		int64_t pct = 0;
		const otf_config_node_t *pn = otf_config_map_get(a, "percent");
		if (!pol || (pn && otf_config_read_int64(pn, &pct, err)))
			return pol ? OTF_E_CONFIG
			           : otf_config_errorf(err, a,
			                               "composite: rate_allocation needs policy "
			                               "and percent");
		size_t j = 0;
		while (j < n && strcmp(subs[j].name, pol))
			j++;
		if (j == n)
			return otf_config_errorf(err, a,
			                         "composite: rate_allocation names \"%s\", not a "
			                         "composite_sub_policy",
			                         pol);
		p->alloc_sps[j] = pct > 0
		                      ? (int64_t)((double)pct / 100 * (double)p->spans_per_second)
		                      : (int64_t)((double)p->spans_per_second / (double)n);
	}
	return 0;
}

static int parse_policy(otf__ts_policy_t *p, const otf_config_node_t *v, size_t *n_state, int depth,
                        otf_config_error_t *err)
{
	if (otf_config_node_kind(v) != OTF_CONFIG_MAPPING)
		return otf_config_errorf(err, v,
		                         "a policy is a mapping with name, type and the type's "
		                         "settings, got %s",
		                         otf_config_kind_name(v));
	const char *name = otf_config_scalar(otf_config_map_get(v, "name"), NULL);
	const char *type = otf_config_scalar(otf_config_map_get(v, "type"), NULL);
	if (!name || !*name)
		return otf_config_errorf(err, v, "policy: name is required");
	if (!type)
		return otf_config_errorf(err, v, "policy \"%s\": type is required", name);
	int t = 0;
	while (t < TS_TYPE_COUNT && strcmp(k_type_names[t], type))
		t++;
	if (t == TS_TYPE_COUNT || (depth > 0 && (t == TS_AND || t == TS_DROP) && depth > 1) ||
	    (depth > 0 && t == TS_COMPOSITE))
		return otf_config_errorf(
		    err, otf_config_map_get(v, "type"),
		    "policy \"%s\": unknown or unsupported policy type \"%s\"%s", name, type,
		    depth ? " in a sub-policy" : "");
	p->type = (otf__ts_type_t)t;
	p->name = dup_str(name);
	if (!p->name)
		return OTF_E_NOMEM;
	const otf_config_node_t *tc = NULL;
	for (size_t i = 0; i < otf_config_len(v); i++) {
		const otf_config_node_t *val;
		const char *k = otf_config_map_at(v, i, &val);
		if (!strcmp(k, "name") || !strcmp(k, "type"))
			continue;
		if (strcmp(k, type))
			return otf_config_errorf(err, val,
			                         "policy \"%s\" of type %s: unexpected key "
			                         "\"%s\" (only \"%s\" configures this type)",
			                         name, type, k, type);
		tc = val;
	}
	if (p->type == TS_RATE_LIMITING)
		p->state = (*n_state)++;
	if (p->type == TS_AND || p->type == TS_DROP) {
		const char *sk = p->type == TS_AND ? "and_sub_policy" : "drop_sub_policy";
		const otf_config_node_t *subs = otf_config_map_get(tc, sk);
		if (!subs || otf_config_len(tc) != 1)
			return otf_config_errorf(err, tc ? tc : v,
			                         "policy \"%s\": %s needs %s (and nothing else)",
			                         name, type, sk);
		return parse_list(subs, &p->subs, &p->n_subs, n_state, depth + 1, err);
	}
	if (p->type == TS_COMPOSITE) {
		if (!tc)
			return otf_config_errorf(err, v,
			                         "policy \"%s\": composite settings missing", name);
		return parse_composite(p, tc, n_state, depth, err);
	}
	return parse_type_cfg(p, tc ? tc : v, tc, err);
}

static int parse_list(const otf_config_node_t *v, otf__ts_policy_t **out, size_t *n,
                      size_t *n_state, int depth, otf_config_error_t *err)
{
	if (otf_config_node_kind(v) != OTF_CONFIG_SEQUENCE)
		return otf_config_errorf(err, v, "expected a list of policies, got %s",
		                         otf_config_kind_name(v));
	size_t len = otf_config_len(v);
	otf__ts_policy_t *items = otf_calloc(len ? len : 1, sizeof *items);
	if (!items)
		return OTF_E_NOMEM;
	*out = items;
	*n = len;
	for (size_t i = 0; i < len; i++) {
		int rc = parse_policy(&items[i], otf_config_seq_at(v, i), n_state, depth, err);
		if (rc)
			return rc; /* the caller's release frees what was built */
		for (size_t j = 0; j < i; j++)
			if (!strcmp(items[j].name, items[i].name))
				return otf_config_errorf(err, otf_config_seq_at(v, i),
				                         "duplicate policy name \"%s\"",
				                         items[i].name);
	}
	return 0;
}

static void policies_release(void *slot)
{
	otf__ts_policies_t *ps = slot;
	for (size_t i = 0; i < ps->n; i++)
		policy_free(&ps->items[i]);
	otf_free(ps->items);
	memset(ps, 0, sizeof *ps);
}

static int policies_parse(const otf_config_node_t *v, void *slot, otf_config_error_t *err)
{
	otf__ts_policies_t *ps = slot;
	int rc = parse_list(v, &ps->items, &ps->n, &ps->n_state, 0, err);
	if (rc == OTF_E_NOMEM)
		rc = otf_config_errorf(err, v, "out of memory");
	if (rc)
		policies_release(slot);
	return rc;
}

static const otf_config_field_t k_cache[] = {
    {.key = "sampled_cache_size",
     .type = OTF_CFG_UINT,
     .offset = offsetof(struct otf__ts_cache_cfg, sampled_cache_size),
     .def = "0",
     .max = "16777216",
     .desc = "Trace ids remembered as sampled after they leave memory, so their late spans "
             "are kept (0 = off)."},
    {.key = "non_sampled_cache_size",
     .type = OTF_CFG_UINT,
     .offset = offsetof(struct otf__ts_cache_cfg, non_sampled_cache_size),
     .def = "0",
     .max = "16777216",
     .desc = "Trace ids remembered as not sampled, so their late spans are dropped (0 = off)."},
    OTF_CONFIG_FIELD_END,
};

const otf_config_field_t otf__ts_schema[] = {
    {.key = "decision_wait",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(otf__ts_config_t, decision_wait_ns),
     .def = "30s",
     .min = "1ms",
     .desc = "Wait from a trace's first span before its decision is taken."},
    {.key = "num_traces",
     .type = OTF_CFG_UINT,
     .offset = offsetof(otf__ts_config_t, num_traces),
     .def = "50000",
     .min = "1",
     .desc = "Traces kept in memory per worker (pending and decided); past it the oldest is "
             "forgotten (dropped, and counted, when it had no decision yet)."},
    {.key = "expected_new_traces_per_sec",
     .type = OTF_CFG_UINT,
     .offset = offsetof(otf__ts_config_t, expected_new_traces_per_sec),
     .def = "0",
     .desc = "Sizes the trace table at start (new traces per second times decision_wait); it "
             "grows up to num_traces."},
    {.key = "decision_cache",
     .type = OTF_CFG_OBJECT,
     .offset = offsetof(otf__ts_config_t, decision_cache),
     .sub = k_cache,
     .desc = "Decisions remembered after a trace left memory."},
    {.key = "sample_on_first_match",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(otf__ts_config_t, sample_on_first_match),
     .def = "false",
     .desc = "Stop evaluating policies at the first that samples."},
    {.key = "drop_pending_traces_on_shutdown",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(otf__ts_config_t, drop_pending_traces_on_shutdown),
     .def = "false",
     .desc = "At shutdown drop the traces still waiting instead of deciding them on the spans "
             "received so far."},
    {.key = "policies",
     .type = OTF_CFG_CUSTOM,
     .offset = offsetof(otf__ts_config_t, policies),
     .hint = "list of policies",
     .required = true,
     .parse = policies_parse,
     .release = policies_release,
     .desc = "Policies (name, type and the type's settings): always_sample, latency, "
             "numeric_attribute, probabilistic, status_code, string_attribute, trace_state, "
             "rate_limiting, span_count, boolean_attribute, ottl_condition, and, drop, "
             "composite."},
    OTF_CONFIG_FIELD_END,
};

int otf__ts_validate(const void *config, char *err, size_t errlen)
{
	const otf__ts_config_t *c = config;
	if (!c->policies.n) {
		snprintf(err, errlen, "policies: at least one policy is required");
		return OTF_E_CONFIG;
	}
	return 0;
}
