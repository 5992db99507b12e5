/* OTTL evaluator and the program API: compile (lex, parse, check) once,
 * then evaluate per record; walkers over traces, logs and metrics. */
#include "ottl_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <math.h>
#include <string.h>

typedef struct otf__ottl_stmt {
	otf__ottl_node_t *call;  /* editor; NULL for a condition */
	otf__ottl_node_t *where; /* where clause, or the condition */
} otf__ottl_stmt_t;

struct otf_ottl_program {
	otf_arena_t arena;
	otf_ottl_context_t ctx;
	bool conditions;
	size_t n;
	otf__ottl_stmt_t *stmts;
};

static int eval_list(otf__ottl_run_t *r, const otf__ottl_node_t *n, otf_any_value_t *out)
{
	otf_any_value_t *items =
	    n->nargs ? otf_arena_calloc(r->rec->arena, n->nargs, sizeof *items) : NULL;
	if (n->nargs && !items)
		return OTF_E_NOMEM;
	for (size_t i = 0; i < n->nargs; i++) {
		int rc = otf__ottl_eval(r, n->args[i], &items[i]);
		if (rc)
			return rc;
	}
	out->type = OTF_ANY_ARRAY;
	out->u.array_value.values = items;
	out->u.array_value.values_len = n->nargs;
	return 0;
}

static int eval_map(otf__ottl_run_t *r, const otf__ottl_node_t *n, otf_any_value_t *out)
{
	otf_key_value_t *items = NULL;
	size_t len = 0;
	for (size_t i = 0; i < n->nargs; i++) {
		otf_any_value_t v;
		int rc = otf__ottl_eval(r, n->args[i], &v);
		if (rc ||
		    (rc = otf__ottl_map_put(r->rec->arena, &items, &len, n->arg_names[i], &v)))
			return rc;
	}
	out->type = OTF_ANY_KVLIST;
	out->u.kvlist_value.values = items;
	out->u.kvlist_value.values_len = len;
	return 0;
}

static bool is_num(const otf_any_value_t *v)
{
	return v->type == OTF_ANY_INT || v->type == OTF_ANY_DOUBLE || v->type == OTTL_VAL_TIME;
}

static int eval_math(otf__ottl_run_t *r, const otf__ottl_node_t *n, otf_any_value_t *out)
{
	otf_any_value_t a, b;
	int rc = otf__ottl_eval(r, n->args[0], &a);
	if (rc || (rc = otf__ottl_eval(r, n->args[1], &b)))
		return rc;
	if (!is_num(&a) || !is_num(&b))
		return otf__ottl_errorf(r->e, n->pos, "arithmetic on %s and %s",
		                        otf__ottl_type_name(a.type), otf__ottl_type_name(b.type));
	if (a.type != OTF_ANY_DOUBLE && b.type != OTF_ANY_DOUBLE) {
		int64_t x = a.u.int_value, y = b.u.int_value, z = 0;
		bool ovf = false;
		switch (n->op) {
		case T_PLUS:
			ovf = __builtin_add_overflow(x, y, &z);
			break;
		case T_MINUS:
			ovf = __builtin_sub_overflow(x, y, &z);
			break;
		case T_STAR:
			ovf = __builtin_mul_overflow(x, y, &z);
			break;
		default:
			if (y == 0)
				return otf__ottl_errorf(r->e, n->pos, "division by zero");
			if (x == INT64_MIN && y == -1)
				ovf = true;
			else
				z = x / y;
			break;
		}
		if (ovf)
			return otf__ottl_errorf(r->e, n->pos, "integer overflow");
		out->type = a.type == OTTL_VAL_TIME && b.type != OTTL_VAL_TIME ? OTTL_VAL_TIME
		                                                               : OTF_ANY_INT;
		out->u.int_value = z;
		return 0;
	}
	double x = a.type == OTF_ANY_DOUBLE ? a.u.double_value : (double)a.u.int_value;
	double y = b.type == OTF_ANY_DOUBLE ? b.u.double_value : (double)b.u.int_value;
	double z;
	switch (n->op) {
	case T_PLUS:
		z = x + y;
		break;
	case T_MINUS:
		z = x - y;
		break;
	case T_STAR:
		z = x * y;
		break;
	default:
		if (y == 0)
			return otf__ottl_errorf(r->e, n->pos, "division by zero");
		z = x / y;
		break;
	}
	out->type = OTF_ANY_DOUBLE;
	out->u.double_value = z;
	return 0;
}

int otf__ottl_eval(otf__ottl_run_t *r, const otf__ottl_node_t *n, otf_any_value_t *out)
{
	int rc;
	switch (n->kind) {
	case N_LIT:
		*out = n->lit;
		return 0;
	case N_PATH:
		return otf__ottl_path_get(r, n, out);
	case N_CALL: {
		otf_any_value_t v;
		memset(&v, 0, sizeof v);
		if ((rc = n->func->call(r, n, &v)))
			return rc;
		if (!n->nkeys) {
			*out = v;
			return 0;
		}
		return otf__ottl_index(r, n->keys, n->nkeys, v, out);
	}
	case N_LIST:
		return eval_list(r, n, out);
	case N_MAP:
		return eval_map(r, n, out);
	case N_MATH:
		return eval_math(r, n, out);
	case N_NEG:
		if ((rc = otf__ottl_eval(r, n->args[0], out)))
			return rc;
		if (out->type == OTF_ANY_DOUBLE) {
			out->u.double_value = -out->u.double_value;
			return 0;
		}
		if (out->type == OTF_ANY_INT && out->u.int_value != INT64_MIN) {
			out->u.int_value = -out->u.int_value;
			return 0;
		}
		return otf__ottl_errorf(r->e, n->pos, "cannot negate %s",
		                        otf__ottl_type_name(out->type));
	default:
		rc = otf__ottl_eval_bool(r, n);
		if (rc < 0)
			return rc;
		out->type = OTF_ANY_BOOL;
		out->u.bool_value = rc == 1;
		return 0;
	}
}

int otf__ottl_eval_bool(otf__ottl_run_t *r, const otf__ottl_node_t *n)
{
	int rc;
	switch (n->kind) {
	case N_AND:
		rc = otf__ottl_eval_bool(r, n->args[0]);
		return rc != 1 ? rc : otf__ottl_eval_bool(r, n->args[1]);
	case N_OR:
		rc = otf__ottl_eval_bool(r, n->args[0]);
		return rc != 0 ? rc : otf__ottl_eval_bool(r, n->args[1]);
	case N_NOT:
		rc = otf__ottl_eval_bool(r, n->args[0]);
		return rc < 0 ? rc : !rc;
	case N_CMP: {
		otf_any_value_t a, b;
		if ((rc = otf__ottl_eval(r, n->args[0], &a)) ||
		    (rc = otf__ottl_eval(r, n->args[1], &b)))
			return rc;
		return otf__ottl_compare(&a, &b, n->op);
	}
	default: {
		otf_any_value_t v;
		if ((rc = otf__ottl_eval(r, n, &v)))
			return rc;
		if (v.type != OTF_ANY_BOOL)
			return otf__ottl_errorf(r->e, n->pos, "expected a boolean, got %s",
			                        otf__ottl_type_name(v.type));
		return v.u.bool_value;
	}
	}
}

int otf__ottl_arg(otf__ottl_run_t *r, const otf__ottl_node_t *call, size_t i, otf_any_value_t *out)
{
	if (!call->bound[i]) {
		memset(out, 0, sizeof *out);
		return 0;
	}
	return otf__ottl_eval(r, call->bound[i], out);
}

/* ---- compile ---- */

static int compile(otf_ottl_program_t **out, otf_ottl_context_t ctx, const char *const *src,
                   size_t n, bool conditions, otf_ottl_error_t *err)
{
	*out = NULL;
	if ((unsigned)ctx >= OTF_OTTL_CTX_COUNT || (n && !src))
		return OTF_E_INVAL;
	otf_ottl_program_t *p = otf_calloc(1, sizeof *p);
	if (!p)
		return OTF_E_NOMEM;
	otf_arena_init(&p->arena, 4096);
	p->ctx = ctx;
	p->conditions = conditions;
	p->stmts = n ? otf_arena_calloc(&p->arena, n, sizeof *p->stmts) : NULL;
	int rc = n && !p->stmts ? OTF_E_NOMEM : 0;
	otf__ottl_err_t e = {0, ""};
	size_t i = 0;
	for (; !rc && i < n; i++) {
		otf__ottl_tok_t *toks;
		size_t ntoks;
		const char *s = src[i] ? src[i] : "";
		rc = otf__ottl_lex(s, strlen(s), &p->arena, &toks, &ntoks, &e);
		if (rc)
			break;
		otf__ottl_stmt_t *st = &p->stmts[i];
		if (conditions)
			rc = otf__ottl_parse_condition(toks, ntoks, &p->arena, &st->where, &e);
		else
			rc = otf__ottl_parse_statement(toks, ntoks, &p->arena, &st->call,
			                               &st->where, &e);
		if (rc)
			break; /* a partial tree holds no regexes: the checker compiles them */
		p->n = i + 1;  /* from here on destroy releases this statement's regexes */
		if (conditions)
			rc = otf__ottl_check_condition(ctx, &p->arena, st->where, &e);
		else
			rc = otf__ottl_check_statement(ctx, &p->arena, st->call, st->where, &e);
		if (rc)
			break;
	}
	if (rc) {
		if (err) {
			err->index = i;
			err->column = e.column;
			if (rc == OTF_E_NOMEM)
				strcpy(err->msg, "out of memory");
			else
				memcpy(err->msg, e.msg, sizeof err->msg);
		}
		otf_ottl_program_destroy(p);
		return rc;
	}
	*out = p;
	return 0;
}

int otf_ottl_compile_statements(otf_ottl_program_t **out, otf_ottl_context_t ctx,
                                const char *const *stmts, size_t n, otf_ottl_error_t *err)
{
	return compile(out, ctx, stmts, n, false, err);
}

int otf_ottl_compile_conditions(otf_ottl_program_t **out, otf_ottl_context_t ctx,
                                const char *const *conds, size_t n, otf_ottl_error_t *err)
{
	return compile(out, ctx, conds, n, true, err);
}

void otf_ottl_program_destroy(otf_ottl_program_t *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		otf__ottl_release(p->stmts[i].call);
		otf__ottl_release(p->stmts[i].where);
	}
	otf_arena_close(&p->arena);
	otf_free(p);
}

bool otf__ottl_program_is_conditions(const otf_ottl_program_t *p)
{
	return p->conditions;
}

const otf__ottl_node_t *otf__ottl_program_condition(const otf_ottl_program_t *p, size_t i)
{
	return p && p->conditions && i < p->n ? p->stmts[i].where : NULL;
}

otf_ottl_context_t otf__ottl_program_context(const otf_ottl_program_t *p)
{
	return p->ctx;
}

size_t otf_ottl_program_len(const otf_ottl_program_t *p)
{
	return p ? p->n : 0;
}

otf_ottl_context_t otf_ottl_program_context(const otf_ottl_program_t *p)
{
	return p->ctx;
}

int otf_ottl_error_mode_parse(const char *name, size_t len)
{
	static const char *const names[] = {"propagate", "ignore", "silent"};
	for (int i = 0; i < 3; i++)
		if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
			return i;
	return -1;
}

/* ---- run ---- */

static void fill_err(otf_ottl_error_t *err, size_t i, const otf__ottl_err_t *e, int rc)
{
	if (!err)
		return;
	err->index = i;
	err->column = e->column;
	if (rc == OTF_E_NOMEM)
		strcpy(err->msg, "out of memory");
	else
		memcpy(err->msg, e->msg, sizeof err->msg);
}

int otf_ottl_exec_statement(const otf_ottl_program_t *p, size_t i, otf_ottl_record_t *rec,
                            otf_ottl_error_t *err)
{
	if (!p || i >= p->n || p->conditions || !rec || !rec->arena)
		return OTF_E_INVAL;
	otf__ottl_err_t e = {0, ""};
	otf__ottl_run_t r = {rec, &e};
	const otf__ottl_stmt_t *st = &p->stmts[i];
	int rc = 1;
	if (st->where)
		rc = otf__ottl_eval_bool(&r, st->where);
	if (rc == 1) {
		otf_any_value_t unused;
		rc = st->call->func->call(&r, st->call, &unused);
		if (!rc)
			rc = OTF_OTTL_APPLIED;
	}
	if (__builtin_expect(rec->lazy && rec->lazy->err, 0))
		return rec->lazy->err; /* the caller falls back to the tree */
	if (rc < 0)
		fill_err(err, i, &e, rc);
	return rc;
}

int otf_ottl_eval_condition(const otf_ottl_program_t *p, size_t i, otf_ottl_record_t *rec,
                            otf_ottl_error_t *err)
{
	if (!p || i >= p->n || !p->conditions || !rec || !rec->arena)
		return OTF_E_INVAL;
	otf__ottl_err_t e = {0, ""};
	otf__ottl_run_t r = {rec, &e};
	int rc = otf__ottl_eval_bool(&r, p->stmts[i].where);
	if (__builtin_expect(rec->lazy && rec->lazy->err, 0))
		return rec->lazy->err; /* the caller falls back to the tree */
	if (rc < 0)
		fill_err(err, i, &e, rc);
	return rc;
}

/* Where a statement's error goes: straight into stats when it is the
 * first, else into scratch (only the first is kept). */
static otf_ottl_error_t *err_slot(otf_ottl_stats_t *s, otf_ottl_error_t *scratch)
{
	return s->errors ? scratch : &s->first_error;
}

int otf_ottl_exec_all(const otf_ottl_program_t *p, otf_ottl_error_mode_t mode,
                      otf_ottl_record_t *rec, otf_ottl_stats_t *stats)
{
	otf_ottl_stats_t local;
	if (!stats) {
		memset(&local, 0, sizeof local);
		stats = &local;
	}
	stats->records++;
	for (size_t i = 0; i < p->n; i++) {
		otf_ottl_error_t scratch;
		int rc = otf_ottl_exec_statement(p, i, rec, err_slot(stats, &scratch));
		if (rc == OTF_OTTL_APPLIED)
			stats->applied++;
		if (rc >= 0)
			continue;
		if (rec->lazy && rec->lazy->err)
			return rc;
		stats->errors++;
		if (mode == OTF_OTTL_ERROR_PROPAGATE || rc == OTF_E_NOMEM)
			return rc;
	}
	return 0;
}

int otf_ottl_match_any(const otf_ottl_program_t *p, otf_ottl_error_mode_t mode,
                       otf_ottl_record_t *rec, otf_ottl_stats_t *stats)
{
	otf_ottl_stats_t local;
	if (!stats) {
		memset(&local, 0, sizeof local);
		stats = &local;
	}
	stats->records++;
	for (size_t i = 0; i < p->n; i++) {
		otf_ottl_error_t scratch;
		int rc = otf_ottl_eval_condition(p, i, rec, err_slot(stats, &scratch));
		if (rc == 1) {
			stats->applied++;
			return 1;
		}
		if (rc >= 0)
			continue;
		if (rec->lazy && rec->lazy->err)
			return rc;
		stats->errors++;
		if (mode == OTF_OTTL_ERROR_PROPAGATE || rc == OTF_E_NOMEM)
			return rc;
	}
	return 0;
}

#define RUN(rec)                                                     \
	do {                                                         \
		(rec).cache = (otf_attributes_t){0};                 \
		int rc_ = otf_ottl_exec_all(p, mode, &(rec), stats); \
		if (rc_)                                             \
			return rc_;                                  \
	} while (0)

int otf_ottl_run_traces(const otf_ottl_program_t *p, otf_ottl_error_mode_t mode, otf_traces_t *t,
                        otf_arena_t *arena, otf_ottl_stats_t *stats)
{
	if (!p || p->conditions || !t || !arena)
		return OTF_E_INVAL;
	if (p->ctx != OTF_OTTL_CTX_RESOURCE && p->ctx != OTF_OTTL_CTX_SCOPE &&
	    p->ctx != OTF_OTTL_CTX_SPAN && p->ctx != OTF_OTTL_CTX_SPANEVENT)
		return OTF_E_INVAL;
	for (size_t a = 0; a < t->resource_spans_len; a++) {
		otf_resource_spans_t *rs = &t->resource_spans[a];
		otf_ottl_record_t rec = {.resource = &rs->resource,
		                         .resource_schema_url = &rs->schema_url,
		                         .arena = arena};
		if (p->ctx == OTF_OTTL_CTX_RESOURCE) {
			RUN(rec);
			continue;
		}
		for (size_t b = 0; b < rs->scope_spans_len; b++) {
			otf_scope_spans_t *ss = &rs->scope_spans[b];
			rec.scope = &ss->scope;
			rec.scope_schema_url = &ss->schema_url;
			if (p->ctx == OTF_OTTL_CTX_SCOPE) {
				RUN(rec);
				continue;
			}
			for (size_t c = 0; c < ss->spans_len; c++) {
				rec.span = &ss->spans[c];
				if (p->ctx == OTF_OTTL_CTX_SPAN) {
					RUN(rec);
					continue;
				}
				for (size_t d = 0; d < rec.span->events_len; d++) {
					rec.event = &rec.span->events[d];
					RUN(rec);
				}
			}
		}
	}
	return 0;
}

int otf_ottl_run_logs(const otf_ottl_program_t *p, otf_ottl_error_mode_t mode, otf_logs_t *l,
                      otf_arena_t *arena, otf_ottl_stats_t *stats)
{
	if (!p || p->conditions || !l || !arena)
		return OTF_E_INVAL;
	if (p->ctx != OTF_OTTL_CTX_RESOURCE && p->ctx != OTF_OTTL_CTX_SCOPE &&
	    p->ctx != OTF_OTTL_CTX_LOG)
		return OTF_E_INVAL;
	for (size_t a = 0; a < l->resource_logs_len; a++) {
		otf_resource_logs_t *rl = &l->resource_logs[a];
		otf_ottl_record_t rec = {.resource = &rl->resource,
		                         .resource_schema_url = &rl->schema_url,
		                         .arena = arena};
		if (p->ctx == OTF_OTTL_CTX_RESOURCE) {
			RUN(rec);
			continue;
		}
		for (size_t b = 0; b < rl->scope_logs_len; b++) {
			otf_scope_logs_t *sl = &rl->scope_logs[b];
			rec.scope = &sl->scope;
			rec.scope_schema_url = &sl->schema_url;
			if (p->ctx == OTF_OTTL_CTX_SCOPE) {
				RUN(rec);
				continue;
			}
			for (size_t c = 0; c < sl->log_records_len; c++) {
				rec.log = &sl->log_records[c];
				RUN(rec);
			}
		}
	}
	return 0;
}

int otf_ottl_run_metrics(const otf_ottl_program_t *p, otf_ottl_error_mode_t mode, otf_metrics_t *m,
                         otf_arena_t *arena, otf_ottl_stats_t *stats)
{
	if (!p || p->conditions || !m || !arena)
		return OTF_E_INVAL;
	if (p->ctx != OTF_OTTL_CTX_RESOURCE && p->ctx != OTF_OTTL_CTX_SCOPE &&
	    p->ctx != OTF_OTTL_CTX_METRIC && p->ctx != OTF_OTTL_CTX_DATAPOINT)
		return OTF_E_INVAL;
	for (size_t a = 0; a < m->resource_metrics_len; a++) {
		otf_resource_metrics_t *rm = &m->resource_metrics[a];
		otf_ottl_record_t rec = {.resource = &rm->resource,
		                         .resource_schema_url = &rm->schema_url,
		                         .arena = arena};
		if (p->ctx == OTF_OTTL_CTX_RESOURCE) {
			RUN(rec);
			continue;
		}
		for (size_t b = 0; b < rm->scope_metrics_len; b++) {
			otf_scope_metrics_t *sm = &rm->scope_metrics[b];
			rec.scope = &sm->scope;
			rec.scope_schema_url = &sm->schema_url;
			if (p->ctx == OTF_OTTL_CTX_SCOPE) {
				RUN(rec);
				continue;
			}
			for (size_t c = 0; c < sm->metrics_len; c++) {
				rec.metric = &sm->metrics[c];
				if (p->ctx == OTF_OTTL_CTX_METRIC) {
					RUN(rec);
					continue;
				}
				for (size_t d = 0; d < rec.metric->data_points_len; d++) {
					rec.datapoint_index = d;
					RUN(rec);
				}
			}
		}
	}
	return 0;
}
