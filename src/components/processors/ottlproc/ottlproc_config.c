/* Config parsers of the OTTL processors: condition and statement lists,
 * compiled at load (ottlproc.h). Every refusal names the YAML node of the
 * statement at fault, so the message carries file:line:col and the key
 * path, and for OTTL errors the 1-based column in the statement. */
#include "ottlproc.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <errno.h>
#include <string.h>

#define BIT(c) (1u << (c))

/* Which contexts a signal's lists may use (the READMEs' tables). */
typedef struct sig {
	const char *what; /* "trace_conditions", for messages */
	uint32_t allowed; /* BIT(otf_ottl_context_t) */
	const char *allowed_text;
} sig_t;

static const sig_t k_traces = {"traces",
                               BIT(OTF_OTTL_CTX_RESOURCE) | BIT(OTF_OTTL_CTX_SCOPE) |
                                   BIT(OTF_OTTL_CTX_SPAN) | BIT(OTF_OTTL_CTX_SPANEVENT),
                               "resource, scope, span, spanevent"};
static const sig_t k_metrics = {"metrics",
                                BIT(OTF_OTTL_CTX_RESOURCE) | BIT(OTF_OTTL_CTX_SCOPE) |
                                    BIT(OTF_OTTL_CTX_METRIC) | BIT(OTF_OTTL_CTX_DATAPOINT),
                                "resource, scope, metric, datapoint"};
static const sig_t k_logs = {
    "logs", BIT(OTF_OTTL_CTX_RESOURCE) | BIT(OTF_OTTL_CTX_SCOPE) | BIT(OTF_OTTL_CTX_LOG),
    "resource, scope, log"};

void otf__ottlproc_groups_free(void *slot)
{
	ottlproc_groups_t *gs = slot;
	for (size_t i = 0; i < gs->n; i++) {
		otf_ottl_program_destroy(gs->g[i].conds);
		otf_ottl_program_destroy(gs->g[i].stmts);
	}
	otf_free(gs->g);
	gs->g = NULL;
	gs->n = 0;
}

static int add_group(ottlproc_groups_t *gs, const ottlproc_group_t *g)
{
	ottlproc_group_t *n = otf_realloc(gs->g, (gs->n + 1) * sizeof *n);
	if (!n)
		return -ENOMEM;
	gs->g = n;
	gs->g[gs->n++] = *g;
	return 0;
}

/* Nesting level of a context: a program of a deeper context reads the
 * paths of the shallower ones of its signal. */
static int level(otf_ottl_context_t c)
{
	switch (c) {
	case OTF_OTTL_CTX_RESOURCE:
		return 0;
	case OTF_OTTL_CTX_SCOPE:
		return 1;
	case OTF_OTTL_CTX_SPANEVENT:
	case OTF_OTTL_CTX_DATAPOINT:
		return 3;
	default:
		return 2;
	}
}

/* A list of OTTL texts with the YAML nodes they came from. */
typedef struct texts {
	const char **s;
	const otf_config_node_t **node;
	size_t n;
} texts_t;

static void texts_free(texts_t *t)
{
	otf_free(t->s);
	otf_free(t->node);
	*t = (texts_t){0};
}

/* Collects the strings of sequence v (or the one string v). */
static int texts_of(const otf_config_node_t *v, texts_t *t, otf_config_error_t *err)
{
	*t = (texts_t){0};
	bool one = otf_config_node_kind(v) == OTF_CONFIG_SCALAR;
	if (!one && otf_config_node_kind(v) != OTF_CONFIG_SEQUENCE)
		return otf_config_errorf(err, v, "expected a list of OTTL strings, got %s",
		                         otf_config_kind_name(v));
	size_t n = one ? 1 : otf_config_len(v);
	t->s = otf_calloc(n ? n : 1, sizeof *t->s);
	t->node = otf_calloc(n ? n : 1, sizeof *t->node);
	if (!t->s || !t->node) {
		texts_free(t);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const otf_config_node_t *it = one ? v : otf_config_seq_at(v, i);
		const char *s = otf_config_scalar(it, NULL);
		if (!s) {
			texts_free(t);
			return otf_config_errorf(err, it, "expected an OTTL string, got %s",
			                         otf_config_kind_name(it));
		}
		t->s[t->n] = s;
		t->node[t->n++] = it;
	}
	return 0;
}

static int ottl_error(otf_config_error_t *err, const texts_t *t, const otf_ottl_error_t *oe,
                      const char *what)
{
	size_t i = oe->index < t->n ? oe->index : 0;
	return otf_config_errorf(err, t->node[i], "%s: %s at column %zu of \"%s\"", what, oe->msg,
	                         oe->column + 1, t->s[i]);
}

/* The context of t (conditions or statements) as the Collector infers it. */
static int infer(const texts_t *t, bool conds, otf_ottl_context_t *out, otf_config_error_t *err)
{
	otf_ottl_error_t oe = {0};
	int rc = otf_ottl_infer_context(t->s, t->n, conds, out, &oe);
	if (rc == OTF_E_NOMEM)
		return -ENOMEM;
	if (rc)
		return ottl_error(err, t, &oe,
		                  "cannot infer the OTTL context (prefix every path with its "
		                  "context, or give the group a `context:`)");
	return 0;
}

static int compile(const texts_t *t, bool conds, otf_ottl_context_t ctx, const sig_t *sig,
                   const otf_config_node_t *where, otf_ottl_program_t **out,
                   otf_config_error_t *err)
{
	*out = NULL;
	if (!t->n)
		return 0;
	if (!(sig->allowed & BIT(ctx)))
		return otf_config_errorf(err, where,
		                         "OTTL context \"%s\" is not available for %s (use one of: "
		                         "%s)",
		                         otf_ottl_context_name(ctx), sig->what, sig->allowed_text);
	otf_ottl_error_t oe = {0};
	int rc = conds ? otf_ottl_compile_conditions(out, ctx, t->s, t->n, &oe)
	               : otf_ottl_compile_statements(out, ctx, t->s, t->n, &oe);
	if (rc == OTF_E_NOMEM)
		return -ENOMEM;
	if (rc)
		return ottl_error(err, t, &oe, conds ? "OTTL condition" : "OTTL statement");
	return 0;
}

static int parse_mode(const otf_config_node_t *v, int *out, otf_config_error_t *err)
{
	size_t len = 0;
	const char *s = otf_config_scalar(v, &len);
	int m = s ? otf_ottl_error_mode_parse(s, len) : -1;
	if (m < 0)
		return otf_config_errorf(err, v,
		                         "expected one of \"propagate\", \"ignore\", \"silent\"");
	*out = m;
	return 0;
}

static int parse_context(const otf_config_node_t *v, otf_ottl_context_t *out,
                         otf_config_error_t *err)
{
	size_t len = 0;
	const char *s = otf_config_scalar(v, &len);
	int c = s ? otf_ottl_context_parse(s, len) : -1;
	if (c < 0)
		return otf_config_errorf(err, v,
		                         "unknown OTTL context (expected one of: resource, "
		                         "scope, span, spanevent, metric, datapoint, log)");
	*out = (otf_ottl_context_t)c;
	return 0;
}

/* A transform group's shared_cache and flatten: accepted while false (the
 * Collector's default); true is refused rather than silently ignored. */
static int refuse_true(const otf_config_node_t *v, const char *key, otf_config_error_t *err)
{
	bool on = false;
	int rc = otf_config_read_bool(v, &on, err);
	if (rc || !on)
		return rc;
	return otf_config_errorf(err, v,
	                         "%s: true is not supported (each group has its own cache, and "
	                         "log records are not flattened)",
	                         key);
}

/* One mapping group: {context, error_mode, conditions[, statements]}. */
static int parse_block(const otf_config_node_t *v, const sig_t *sig, bool statements,
                       ottlproc_groups_t *gs, otf_config_error_t *err)
{
	ottlproc_group_t g = {.error_mode = -1};
	const otf_config_node_t *cn = NULL, *sn = NULL;
	otf_ottl_context_t ctx = OTF_OTTL_CTX_COUNT;
	int rc = 0;
	for (size_t i = 0; i < otf_config_len(v) && !rc; i++) {
		const otf_config_node_t *val;
		const char *k = otf_config_map_at(v, i, &val);
		if (!strcmp(k, "context"))
			rc = parse_context(val, &ctx, err);
		else if (!strcmp(k, "error_mode"))
			rc = parse_mode(val, &g.error_mode, err);
		else if (!strcmp(k, "conditions"))
			cn = val;
		else if (statements && !strcmp(k, "statements"))
			sn = val;
		else if (statements && (!strcmp(k, "shared_cache") || !strcmp(k, "flatten")))
			rc = refuse_true(val, k, err);
		else
			rc = otf_config_errorf(err, val,
			                       "unknown key \"%s\" (valid keys: context, "
			                       "error_mode, conditions%s)",
			                       k, statements ? ", statements" : "");
	}
	if (rc)
		return rc;
	if (statements ? !sn : !cn)
		return otf_config_errorf(err, v, "missing required key \"%s\"",
		                         statements ? "statements" : "conditions");
	texts_t ct = {0}, st = {0};
	if (cn && otf_config_node_kind(cn) != OTF_CONFIG_NULL)
		rc = texts_of(cn, &ct, err);
	if (!rc && sn)
		rc = texts_of(sn, &st, err);
	if (!rc && ctx == OTF_OTTL_CTX_COUNT) {
		/* Inferred over both lists: the deepest context named. */
		otf_ottl_context_t c1 = OTF_OTTL_CTX_RESOURCE, c2 = OTF_OTTL_CTX_RESOURCE;
		if (st.n)
			rc = infer(&st, false, &c1, err);
		if (!rc && ct.n)
			rc = infer(&ct, true, &c2, err);
		ctx = st.n && (!ct.n || level(c1) >= level(c2)) ? c1 : c2;
	}
	if (!rc)
		rc = compile(&ct, true, ctx, sig, v, &g.conds, err);
	if (!rc && statements)
		rc = compile(&st, false, ctx, sig, v, &g.stmts, err);
	/* An empty list is accepted and does nothing, as in the Collector; a
	 * transform group's empty conditions gate nothing. */
	if (!rc && (statements ? g.stmts != NULL : g.conds != NULL))
		rc = add_group(gs, &g);
	else if (!rc)
		otf_ottl_program_destroy(g.conds);
	if (rc) {
		otf_ottl_program_destroy(g.conds);
		otf_ottl_program_destroy(g.stmts);
	}
	texts_free(&ct);
	texts_free(&st);
	return rc;
}

/* Filter's *_conditions: each string its own group (the Collector infers
 * each condition's context on its own), or mapping groups. */
static int parse_conditions(const otf_config_node_t *v, void *slot, const sig_t *sig,
                            otf_config_error_t *err)
{
	ottlproc_groups_t *gs = slot;
	if (otf_config_node_kind(v) != OTF_CONFIG_SEQUENCE)
		return otf_config_errorf(err, v, "expected a list of OTTL conditions, got %s",
		                         otf_config_kind_name(v));
	int rc = 0;
	for (size_t i = 0; i < otf_config_len(v) && !rc; i++) {
		const otf_config_node_t *it = otf_config_seq_at(v, i);
		if (otf_config_node_kind(it) == OTF_CONFIG_MAPPING) {
			rc = parse_block(it, sig, false, gs, err);
			continue;
		}
		texts_t t;
		rc = texts_of(it, &t, err);
		otf_ottl_context_t ctx;
		ottlproc_group_t g = {.error_mode = -1};
		if (!rc)
			rc = infer(&t, true, &ctx, err);
		if (!rc)
			rc = compile(&t, true, ctx, sig, it, &g.conds, err);
		if (!rc && (rc = add_group(gs, &g)))
			otf_ottl_program_destroy(g.conds);
		texts_free(&t);
	}
	return rc;
}

int otf__ottlproc_parse_trace_conditions(const otf_config_node_t *v, void *slot,
                                         otf_config_error_t *err)
{
	return parse_conditions(v, slot, &k_traces, err);
}

int otf__ottlproc_parse_metric_conditions(const otf_config_node_t *v, void *slot,
                                          otf_config_error_t *err)
{
	return parse_conditions(v, slot, &k_metrics, err);
}

int otf__ottlproc_parse_log_conditions(const otf_config_node_t *v, void *slot,
                                       otf_config_error_t *err)
{
	return parse_conditions(v, slot, &k_logs, err);
}

/* Filter's legacy per-signal blocks: a key per context, each a list of
 * conditions of that context (bare paths allowed). */
typedef struct legacy_key {
	const char *key;
	otf_ottl_context_t ctx;
} legacy_key_t;

static int parse_legacy(const otf_config_node_t *v, void *slot, const sig_t *sig,
                        const legacy_key_t *keys, const char *valid, otf_config_error_t *err)
{
	ottlproc_groups_t *gs = slot;
	if (otf_config_node_kind(v) != OTF_CONFIG_MAPPING)
		return otf_config_errorf(err, v, "expected a mapping (%s), got %s", valid,
		                         otf_config_kind_name(v));
	int rc = 0;
	for (size_t i = 0; i < otf_config_len(v) && !rc; i++) {
		const otf_config_node_t *val;
		const char *k = otf_config_map_at(v, i, &val);
		if (!strcmp(k, "include") || !strcmp(k, "exclude")) {
			rc = otf_config_errorf(
			    err, val,
			    "the legacy %s.%s form (match_type strict/regexp/expr) "
			    "is not supported: write OTTL conditions instead "
			    "(%s_conditions, or %s.<context> lists)",
			    sig->what, k,
			    sig == &k_traces    ? "trace"
			    : sig == &k_metrics ? "metric"
			                        : "log",
			    sig->what);
			break;
		}
		const legacy_key_t *lk = keys;
		while (lk->key && strcmp(lk->key, k))
			lk++;
		if (!lk->key) {
			rc = otf_config_errorf(err, val, "unknown key \"%s\" (valid keys: %s)", k,
			                       valid);
			break;
		}
		if (otf_config_node_kind(val) == OTF_CONFIG_NULL)
			continue;
		texts_t t;
		ottlproc_group_t g = {.error_mode = -1};
		rc = texts_of(val, &t, err);
		if (!rc)
			rc = compile(&t, true, lk->ctx, sig, val, &g.conds, err);
		if (!rc && g.conds && (rc = add_group(gs, &g)))
			otf_ottl_program_destroy(g.conds);
		texts_free(&t);
	}
	return rc;
}

int otf__ottlproc_parse_traces_legacy(const otf_config_node_t *v, void *slot,
                                      otf_config_error_t *err)
{
	static const legacy_key_t keys[] = {{"resource", OTF_OTTL_CTX_RESOURCE},
	                                    {"span", OTF_OTTL_CTX_SPAN},
	                                    {"spanevent", OTF_OTTL_CTX_SPANEVENT},
	                                    {NULL, OTF_OTTL_CTX_COUNT}};
	return parse_legacy(v, slot, &k_traces, keys, "resource, span, spanevent", err);
}

int otf__ottlproc_parse_metrics_legacy(const otf_config_node_t *v, void *slot,
                                       otf_config_error_t *err)
{
	static const legacy_key_t keys[] = {{"resource", OTF_OTTL_CTX_RESOURCE},
	                                    {"metric", OTF_OTTL_CTX_METRIC},
	                                    {"datapoint", OTF_OTTL_CTX_DATAPOINT},
	                                    {NULL, OTF_OTTL_CTX_COUNT}};
	return parse_legacy(v, slot, &k_metrics, keys, "resource, metric, datapoint", err);
}

int otf__ottlproc_parse_logs_legacy(const otf_config_node_t *v, void *slot, otf_config_error_t *err)
{
	static const legacy_key_t keys[] = {{"resource", OTF_OTTL_CTX_RESOURCE},
	                                    {"log_record", OTF_OTTL_CTX_LOG},
	                                    {NULL, OTF_OTTL_CTX_COUNT}};
	return parse_legacy(v, slot, &k_logs, keys, "resource, log_record", err);
}

/* Transform's *_statements: a run of plain strings is one group whose
 * context is inferred over the run; a mapping is a group of its own. */
static int parse_statements(const otf_config_node_t *v, void *slot, const sig_t *sig,
                            otf_config_error_t *err)
{
	ottlproc_groups_t *gs = slot;
	if (otf_config_node_kind(v) != OTF_CONFIG_SEQUENCE)
		return otf_config_errorf(err, v, "expected a list of OTTL statements, got %s",
		                         otf_config_kind_name(v));
	size_t n = otf_config_len(v);
	texts_t run = {0};
	run.s = otf_calloc(n ? n : 1, sizeof *run.s);
	run.node = otf_calloc(n ? n : 1, sizeof *run.node);
	if (!run.s || !run.node) {
		texts_free(&run);
		return -ENOMEM;
	}
	int rc = 0;
	for (size_t i = 0; i <= n && !rc; i++) {
		const otf_config_node_t *it = i < n ? otf_config_seq_at(v, i) : NULL;
		const char *s = it ? otf_config_scalar(it, NULL) : NULL;
		if (s) {
			run.s[run.n] = s;
			run.node[run.n++] = it;
			continue;
		}
		if (run.n) {
			otf_ottl_context_t ctx;
			ottlproc_group_t g = {.error_mode = -1};
			rc = infer(&run, false, &ctx, err);
			if (!rc)
				rc = compile(&run, false, ctx, sig, run.node[0], &g.stmts, err);
			if (!rc && (rc = add_group(gs, &g)))
				otf_ottl_program_destroy(g.stmts);
			run.n = 0;
		}
		if (rc || !it)
			continue;
		if (otf_config_node_kind(it) == OTF_CONFIG_MAPPING)
			rc = parse_block(it, sig, true, gs, err);
		else
			rc = otf_config_errorf(err, it,
			                       "expected an OTTL statement or a mapping with "
			                       "statements, got %s",
			                       otf_config_kind_name(it));
	}
	texts_free(&run);
	return rc;
}

int otf__ottlproc_parse_trace_statements(const otf_config_node_t *v, void *slot,
                                         otf_config_error_t *err)
{
	return parse_statements(v, slot, &k_traces, err);
}

int otf__ottlproc_parse_metric_statements(const otf_config_node_t *v, void *slot,
                                          otf_config_error_t *err)
{
	return parse_statements(v, slot, &k_metrics, err);
}

int otf__ottlproc_parse_log_statements(const otf_config_node_t *v, void *slot,
                                       otf_config_error_t *err)
{
	return parse_statements(v, slot, &k_logs, err);
}
