/* OTTL checker: resolves paths for the program's context, binds calls to
 * the function table (arity, named and optional arguments, literal and
 * static types), folds enum symbols into integers and compiles regexes
 * once. Every error carries the column of the offending token. */
#include "ottl_fields.h"

#include "otflow/err.h"

#include <string.h>

typedef struct otf__ottl_enum {
	const char *name;
	int64_t value;
} otf__ottl_enum_t;

/* pdata's enum numbering (SeverityNumber, Span.SpanKind, Status.StatusCode,
 * AggregationTemporality, pmetric.MetricType). */
static const otf__ottl_enum_t enums[] = {
    {"SEVERITY_NUMBER_UNSPECIFIED", 0},
    {"SEVERITY_NUMBER_TRACE", 1},
    {"SEVERITY_NUMBER_TRACE2", 2},
    {"SEVERITY_NUMBER_TRACE3", 3},
    {"SEVERITY_NUMBER_TRACE4", 4},
    {"SEVERITY_NUMBER_DEBUG", 5},
    {"SEVERITY_NUMBER_DEBUG2", 6},
    {"SEVERITY_NUMBER_DEBUG3", 7},
    {"SEVERITY_NUMBER_DEBUG4", 8},
    {"SEVERITY_NUMBER_INFO", 9},
    {"SEVERITY_NUMBER_INFO2", 10},
    {"SEVERITY_NUMBER_INFO3", 11},
    {"SEVERITY_NUMBER_INFO4", 12},
    {"SEVERITY_NUMBER_WARN", 13},
    {"SEVERITY_NUMBER_WARN2", 14},
    {"SEVERITY_NUMBER_WARN3", 15},
    {"SEVERITY_NUMBER_WARN4", 16},
    {"SEVERITY_NUMBER_ERROR", 17},
    {"SEVERITY_NUMBER_ERROR2", 18},
    {"SEVERITY_NUMBER_ERROR3", 19},
    {"SEVERITY_NUMBER_ERROR4", 20},
    {"SEVERITY_NUMBER_FATAL", 21},
    {"SEVERITY_NUMBER_FATAL2", 22},
    {"SEVERITY_NUMBER_FATAL3", 23},
    {"SEVERITY_NUMBER_FATAL4", 24},
    {"SPAN_KIND_UNSPECIFIED", 0},
    {"SPAN_KIND_INTERNAL", 1},
    {"SPAN_KIND_SERVER", 2},
    {"SPAN_KIND_CLIENT", 3},
    {"SPAN_KIND_PRODUCER", 4},
    {"SPAN_KIND_CONSUMER", 5},
    {"STATUS_CODE_UNSET", 0},
    {"STATUS_CODE_OK", 1},
    {"STATUS_CODE_ERROR", 2},
    {"AGGREGATION_TEMPORALITY_UNSPECIFIED", 0},
    {"AGGREGATION_TEMPORALITY_DELTA", 1},
    {"AGGREGATION_TEMPORALITY_CUMULATIVE", 2},
    {"METRIC_DATA_TYPE_NONE", 0},
    {"METRIC_DATA_TYPE_GAUGE", 1},
    {"METRIC_DATA_TYPE_SUM", 2},
    {"METRIC_DATA_TYPE_HISTOGRAM", 3},
    {"METRIC_DATA_TYPE_EXPONENTIAL_HISTOGRAM", 4},
    {"METRIC_DATA_TYPE_SUMMARY", 5},
};

typedef struct checker {
	otf_ottl_context_t ctx;
	otf__ottl_err_t *e;
	otf_arena_t *a; /* the program's arena: bound-argument arrays */
} checker_t;

static int check_value(checker_t *c, otf__ottl_node_t *n);
static int check_bool(checker_t *c, otf__ottl_node_t *n);

/* The type an expression has before it runs; VT_ANY when only the run
 * can tell (paths with keys, math). */
static otf__ottl_vtype_t static_type(const otf__ottl_node_t *n)
{
	switch (n->kind) {
	case N_LIT:
		switch (n->lit.type) {
		case OTF_ANY_STRING:
			return VT_STRING;
		case OTF_ANY_INT:
			return VT_INT;
		case OTF_ANY_DOUBLE:
			return VT_DOUBLE;
		case OTF_ANY_BOOL:
			return VT_BOOL;
		case OTF_ANY_BYTES:
			return VT_BYTES;
		default:
			return VT_ANY; /* nil fits anywhere */
		}
	case N_PATH:
		return n->nkeys ? VT_ANY : otf__ottl_field_desc(n->field)->type;
	case N_CALL:
		return n->nkeys ? VT_ANY : n->func->returns;
	case N_LIST:
		return VT_LIST;
	case N_MAP:
		return VT_MAP;
	case N_CMP:
	case N_AND:
	case N_OR:
	case N_NOT:
		return VT_BOOL;
	default:
		return VT_ANY;
	}
}

static const char *vt_name(otf__ottl_vtype_t t)
{
	static const char *const names[] = {"any value", "a string", "an int", "a double", "a bool",
	                                    "bytes",     "a map",    "a list", "a time"};
	return names[t];
}

static int check_keys(checker_t *c, otf__ottl_node_t *n)
{
	for (size_t i = 0; i < n->nkeys; i++) {
		int rc = check_value(c, n->keys[i]);
		if (rc)
			return rc;
		otf__ottl_vtype_t t = static_type(n->keys[i]);
		if (t != VT_ANY && t != VT_STRING && t != VT_INT)
			return otf__ottl_errorf(c->e, n->keys[i]->pos,
			                        "a key must be a string or an int, not %s",
			                        vt_name(t));
	}
	return 0;
}

static int check_path(checker_t *c, otf__ottl_node_t *n)
{
	int f = otf__ottl_field_resolve(c->ctx, n->segs, n->nsegs, n->pos, c->e);
	if (f < 0)
		return OTF_E_INVAL;
	n->field = f;
	if (n->nkeys && !otf__ottl_field_desc(f)->indexable)
		return otf__ottl_errorf(c->e, n->keys[0]->pos, "path '%s' cannot be indexed",
		                        otf__ottl_field_desc(f)->name);
	if (f == F_REQUEST && otf__ottl_request_check(n, c->e))
		return OTF_E_INVAL;
	return check_keys(c, n);
}

static int compile_regex(checker_t *c, otf__ottl_node_t *call, const otf__ottl_node_t *arg)
{
	int code = 0;
	size_t off = 0;
	pcre2_code *re;
	if (otf__ottl_re_compile(arg->lit.u.string_value, &re, &code, &off)) {
		PCRE2_UCHAR msg[120];
		pcre2_get_error_message(code, msg, sizeof msg);
		return otf__ottl_errorf(c->e, arg->pos,
		                        "invalid regex at offset %zu of the pattern: %s", off,
		                        (const char *)msg);
	}
	if (call->re)
		pcre2_code_free(call->re);
	call->re = re;
	return 0;
}

static bool type_fits(otf__ottl_vtype_t want, otf__ottl_vtype_t have)
{
	return have == VT_ANY || want == VT_ANY || want == have;
}

static int check_arg(checker_t *c, otf__ottl_node_t *call, size_t slot, otf__ottl_node_t *a)
{
	const otf__ottl_param_t *p = &call->func->params[slot];
	const char *fn = call->func->name;
	int rc;
	switch (p->type) {
	case P_SETTER:
	case P_MAP_TARGET:
		if (a->kind != N_PATH)
			return otf__ottl_errorf(c->e, a->pos, "argument '%s' of %s must be a path",
			                        p->name, fn);
		if ((rc = check_path(c, a)))
			return rc;
		if (!otf__ottl_field_desc(a->field)->settable)
			return otf__ottl_errorf(c->e, a->pos, "path '%s' is read-only",
			                        otf__ottl_field_desc(a->field)->name);
		if (p->type == P_MAP_TARGET && !type_fits(VT_MAP, static_type(a)))
			return otf__ottl_errorf(
			    c->e, a->pos, "argument '%s' of %s must be a map, '%s' is %s", p->name,
			    fn, otf__ottl_field_desc(a->field)->name, vt_name(static_type(a)));
		return 0;
	case P_PATTERN:
	case P_LITERAL_STR:
		if (a->kind != N_LIT || a->lit.type != OTF_ANY_STRING)
			return otf__ottl_errorf(c->e, a->pos,
			                        "argument '%s' of %s must be a string literal",
			                        p->name, fn);
		if (p->type == P_PATTERN)
			return compile_regex(c, call, a);
		if (p->choices) {
			for (const char *const *ch = p->choices; *ch; ch++)
				if (otf__ottl_bytes_is(a->lit.u.string_value, *ch))
					return 0;
			return otf__ottl_errorf(c->e, a->pos,
			                        "argument '%s' of %s: invalid value \"%.*s\"",
			                        p->name, fn, (int)a->lit.u.string_value.len,
			                        (const char *)a->lit.u.string_value.ptr);
		}
		return 0;
	case P_STR_LIST:
		if (a->kind != N_LIST)
			return otf__ottl_errorf(c->e, a->pos,
			                        "argument '%s' of %s must be a list of strings",
			                        p->name, fn);
		for (size_t i = 0; i < a->nargs; i++)
			if (a->args[i]->kind != N_LIT || a->args[i]->lit.type != OTF_ANY_STRING)
				return otf__ottl_errorf(
				    c->e, a->args[i]->pos,
				    "argument '%s' of %s must be a list of strings", p->name, fn);
		return 0;
	default:
		break;
	}
	if ((rc = check_value(c, a)))
		return rc;
	otf__ottl_vtype_t want = p->type == P_STRING ? VT_STRING
	                         : p->type == P_INT  ? VT_INT
	                         : p->type == P_MAP  ? VT_MAP
	                         : p->type == P_LIST ? VT_LIST
	                                             : VT_ANY;
	otf__ottl_vtype_t have = static_type(a);
	if (!type_fits(want, have))
		return otf__ottl_errorf(c->e, a->pos, "argument '%s' of %s must be %s, found %s",
		                        p->name, fn, vt_name(want), vt_name(have));
	/* every int parameter here is a limit or a depth; the Collector rejects
	 * a negative literal when the statement loads */
	if (p->type == P_INT && a->kind == N_LIT && a->lit.type == OTF_ANY_INT &&
	    a->lit.u.int_value < 0)
		return otf__ottl_errorf(c->e, a->pos, "argument '%s' of %s cannot be negative",
		                        p->name, fn);
	return 0;
}

static int bind_call(checker_t *c, otf__ottl_node_t *n, bool editor)
{
	const otf__ottl_func_t *f =
	    otf__ottl_func_lookup((const char *)n->segs[0].ptr, n->segs[0].len);
	if (!f)
		return otf__ottl_errorf(c->e, n->pos, "unknown function '%.*s'",
		                        (int)n->segs[0].len, (const char *)n->segs[0].ptr);
	if (f->editor != editor)
		return otf__ottl_errorf(
		    c->e, n->pos,
		    editor ? "'%s' is a converter; a statement starts with an editor"
		           : "'%s' is an editor; it cannot be used as a value",
		    f->name);
	n->func = f;
	return 0;
}

static int check_call(checker_t *c, otf__ottl_node_t *n, bool editor)
{
	int rc = bind_call(c, n, editor);
	if (rc)
		return rc;
	const otf__ottl_func_t *f = n->func;
	n->bound = otf_arena_calloc(c->a, OTTL_MAX_PARAMS, sizeof *n->bound);
	if (!n->bound)
		return OTF_E_NOMEM;
	size_t next = 0;
	for (size_t i = 0; i < n->nargs; i++) {
		otf__ottl_node_t *arg = n->args[i];
		size_t slot;
		if (n->arg_names && n->arg_names[i].len) {
			otf_bytes_t nm = n->arg_names[i];
			for (slot = 0; slot < f->nparams; slot++)
				if (otf__ottl_bytes_is(nm, f->params[slot].name))
					break;
			if (slot == f->nparams)
				return otf__ottl_errorf(c->e, n->name_pos[i],
				                        "%s has no parameter named '%.*s'", f->name,
				                        (int)nm.len, (const char *)nm.ptr);
		} else {
			slot = next++;
			if (slot >= f->nparams)
				return otf__ottl_errorf(c->e, arg->pos,
				                        "%s takes at most %zu arguments", f->name,
				                        f->nparams);
		}
		if (n->bound[slot])
			return otf__ottl_errorf(c->e, n->name_pos[i],
			                        "argument '%s' of %s given twice",
			                        f->params[slot].name, f->name);
		n->bound[slot] = arg;
		if ((rc = check_arg(c, n, slot, arg)))
			return rc;
	}
	for (size_t s = 0; s < f->nparams; s++)
		if (!n->bound[s] && !f->params[s].optional)
			return otf__ottl_errorf(c->e, n->pos, "%s needs argument '%s' (%zu given)",
			                        f->name, f->params[s].name, n->nargs);
	/* limit(): the priority keys must fit in the limit (the Collector's check) */
	if (strcmp(f->name, "limit") == 0 && n->bound[2] && n->bound[1]->kind == N_LIT &&
	    n->bound[1]->lit.type == OTF_ANY_INT &&
	    n->bound[1]->lit.u.int_value < (int64_t)n->bound[2]->nargs)
		return otf__ottl_errorf(
		    c->e, n->bound[1]->pos, "limit %lld is less than the %zu priority keys",
		    (long long)n->bound[1]->lit.u.int_value, n->bound[2]->nargs);
	return check_keys(c, n);
}

static int check_value(checker_t *c, otf__ottl_node_t *n)
{
	int rc;
	switch (n->kind) {
	case N_LIT:
		return 0;
	case N_ENUM:
		for (size_t i = 0; i < sizeof enums / sizeof enums[0]; i++)
			if (otf__ottl_bytes_is(n->segs[0], enums[i].name)) {
				n->kind = N_LIT;
				n->lit.type = OTF_ANY_INT;
				n->lit.u.int_value = enums[i].value;
				return 0;
			}
		return otf__ottl_errorf(c->e, n->pos, "unknown enum symbol '%.*s'",
		                        (int)n->segs[0].len, (const char *)n->segs[0].ptr);
	case N_PATH:
		return check_path(c, n);
	case N_CALL:
		return check_call(c, n, false);
	case N_LIST:
	case N_MAP:
	case N_MATH:
	case N_NEG:
		for (size_t i = 0; i < n->nargs; i++)
			if ((rc = check_value(c, n->args[i])))
				return rc;
		if (n->kind == N_MATH || n->kind == N_NEG)
			for (size_t i = 0; i < n->nargs; i++) {
				otf__ottl_vtype_t t = static_type(n->args[i]);
				if (t != VT_ANY && t != VT_INT && t != VT_DOUBLE && t != VT_TIME)
					return otf__ottl_errorf(
					    c->e, n->args[i]->pos,
					    "arithmetic needs numbers, found %s", vt_name(t));
			}
		return 0;
	default:
		return otf__ottl_errorf(c->e, n->pos, "a condition cannot be used as a value here");
	}
}

static int check_bool(checker_t *c, otf__ottl_node_t *n)
{
	int rc;
	switch (n->kind) {
	case N_AND:
	case N_OR:
		if ((rc = check_bool(c, n->args[0])))
			return rc;
		return check_bool(c, n->args[1]);
	case N_NOT:
		return check_bool(c, n->args[0]);
	case N_CMP:
		for (int i = 0; i < 2; i++) {
			otf__ottl_node_kind_t k = n->args[i]->kind;
			if (k == N_CMP || k == N_AND || k == N_OR || k == N_NOT)
				return otf__ottl_errorf(
				    c->e, n->args[i]->pos,
				    "a condition cannot be compared; use and/or");
			if ((rc = check_value(c, n->args[i])))
				return rc;
		}
		return 0;
	case N_LIT:
		if (n->lit.type == OTF_ANY_BOOL)
			return 0;
		break;
	case N_CALL:
		if ((rc = check_value(c, n)))
			return rc;
		if (static_type(n) == VT_BOOL || static_type(n) == VT_ANY)
			return 0;
		return otf__ottl_errorf(c->e, n->pos, "%s returns %s, not a boolean", n->func->name,
		                        vt_name(static_type(n)));
	default:
		break;
	}
	return otf__ottl_errorf(
	    c->e, n->pos, "expected a condition (a comparison, true/false or a boolean converter)");
}

int otf__ottl_check_statement(otf_ottl_context_t ctx, otf_arena_t *a, otf__ottl_node_t *call,
                              otf__ottl_node_t *where, otf__ottl_err_t *e)
{
	checker_t c = {ctx, e, a};
	int rc = check_call(&c, call, true);
	if (rc)
		return rc;
	return where ? check_bool(&c, where) : 0;
}

int otf__ottl_check_condition(otf_ottl_context_t ctx, otf_arena_t *a, otf__ottl_node_t *cond,
                              otf__ottl_err_t *e)
{
	checker_t c = {ctx, e, a};
	return check_bool(&c, cond);
}

void otf__ottl_release(otf__ottl_node_t *n)
{
	if (!n)
		return;
	if (n->re) {
		pcre2_code_free(n->re);
		n->re = NULL;
	}
	for (size_t i = 0; i < n->nargs; i++)
		otf__ottl_release(n->args[i]);
	for (size_t i = 0; i < n->nkeys; i++)
		otf__ottl_release(n->keys[i]);
}
