/* OTTL recursive-descent parser (grammar: pkg/ottl LANGUAGE.md).
 *
 * One expression grammar serves values and conditions, lowest precedence
 * first: or, and, not, comparison, + -, * /, unary -, primary. Whether an
 * expression may stand where a boolean is needed (where clause, operand of
 * and/or/not) is the checker's decision, so that `(1 + 2) == 3` and
 * `(a == 1 or b == 2) and c` both parse without backtracking. */
#include "ottl_internal.h"

#include "otflow/err.h"

#include <stdio.h>
#include <string.h>

typedef struct parser {
	const otf__ottl_tok_t *t;
	size_t n, i;
	otf_arena_t *a;
	otf__ottl_err_t *e;
	int depth;
} parser_t;

static const otf__ottl_tok_t *peek(const parser_t *p)
{
	return &p->t[p->i < p->n ? p->i : p->n - 1];
}

static const otf__ottl_tok_t *peek2(const parser_t *p)
{
	return &p->t[p->i + 1 < p->n ? p->i + 1 : p->n - 1];
}

static bool is_word(const otf__ottl_tok_t *t, const char *w)
{
	return t->kind == T_IDENT && t->len == strlen(w) && memcmp(t->text, w, t->len) == 0;
}

static const char *tok_desc(const otf__ottl_tok_t *t)
{
	switch (t->kind) {
	case T_EOF:
		return "end of input";
	case T_IDENT:
		return "identifier";
	case T_STRING:
		return "string";
	case T_INT:
		return "integer";
	case T_FLOAT:
		return "float";
	case T_BYTES:
		return "bytes";
	case T_LPAREN:
		return "'('";
	case T_RPAREN:
		return "')'";
	case T_LBRACK:
		return "'['";
	case T_RBRACK:
		return "']'";
	case T_LBRACE:
		return "'{'";
	case T_RBRACE:
		return "'}'";
	case T_COMMA:
		return "','";
	case T_COLON:
		return "':'";
	case T_DOT:
		return "'.'";
	case T_ASSIGN:
		return "'='";
	default:
		return "operator";
	}
}

static int expect(parser_t *p, otf__ottl_tok_kind_t k, const char *what)
{
	const otf__ottl_tok_t *t = peek(p);
	if (t->kind != k)
		return otf__ottl_errorf(p->e, t->pos, "expected %s, found %s", what, tok_desc(t));
	p->i++;
	return 0;
}

static otf__ottl_node_t *node(parser_t *p, otf__ottl_node_kind_t k, size_t pos)
{
	otf__ottl_node_t *n = otf_arena_calloc(p->a, 1, sizeof *n);
	if (n) {
		n->kind = k;
		n->pos = pos;
		n->field = -1;
	}
	return n;
}

/* Growable arena array of node pointers. */
typedef struct nvec {
	otf__ottl_node_t **v;
	otf_bytes_t *names;
	size_t n, cap;
} nvec_t;

static int nvec_push(parser_t *p, nvec_t *v, otf__ottl_node_t *x, otf_bytes_t name)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 4;
		otf__ottl_node_t **nv = otf_arena_alloc(p->a, cap * sizeof *nv);
		otf_bytes_t *nn = otf_arena_alloc(p->a, cap * sizeof *nn);
		if (!nv || !nn)
			return OTF_E_NOMEM;
		if (v->n) {
			memcpy(nv, v->v, v->n * sizeof *nv);
			memcpy(nn, v->names, v->n * sizeof *nn);
		}
		v->v = nv;
		v->names = nn;
		v->cap = cap;
	}
	v->v[v->n] = x;
	v->names[v->n] = name;
	v->n++;
	return 0;
}

static int parse_expr(parser_t *p, otf__ottl_node_t **out);

/* Trailing index expressions: ["key"] or [0] (or any expression). */
static int parse_keys(parser_t *p, otf__ottl_node_t *n)
{
	nvec_t keys = {0};
	while (peek(p)->kind == T_LBRACK) {
		p->i++;
		otf__ottl_node_t *k;
		int rc = parse_expr(p, &k);
		if (rc)
			return rc;
		if ((rc = expect(p, T_RBRACK, "']'")) ||
		    (rc = nvec_push(p, &keys, k, (otf_bytes_t){0})))
			return rc;
	}
	n->keys = keys.v;
	n->nkeys = keys.n;
	return 0;
}

static int parse_call(parser_t *p, otf__ottl_node_t *n)
{
	p->i++; /* '(' */
	nvec_t args = {0};
	size_t *npos = NULL, npos_cap = 0;
	bool named_seen = false;
	if (peek(p)->kind != T_RPAREN) {
		for (;;) {
			otf_bytes_t name = {0};
			const otf__ottl_tok_t *t = peek(p);
			if (!npos || args.n >= npos_cap) {
				size_t cap = npos_cap ? 2 * npos_cap : 4;
				size_t *np = otf_arena_alloc(p->a, cap * sizeof *np);
				if (!np)
					return OTF_E_NOMEM;
				if (args.n)
					memcpy(np, npos, args.n * sizeof *np);
				npos = np;
				npos_cap = cap;
			}
			npos[args.n] = t->pos;
			if (t->kind == T_IDENT && peek2(p)->kind == T_ASSIGN) {
				name = (otf_bytes_t){(const uint8_t *)t->text, t->len};
				named_seen = true;
				p->i += 2;
			} else if (named_seen) {
				return otf__ottl_errorf(
				    p->e, t->pos, "positional argument after a named argument");
			}
			otf__ottl_node_t *a;
			int rc = parse_expr(p, &a);
			if (rc || (rc = nvec_push(p, &args, a, name)))
				return rc;
			if (peek(p)->kind == T_COMMA) {
				p->i++;
				continue;
			}
			break;
		}
	}
	int rc = expect(p, T_RPAREN, "',' or ')'");
	if (rc)
		return rc;
	n->args = args.v;
	n->arg_names = args.names;
	n->name_pos = npos;
	n->nargs = args.n;
	return 0;
}

static bool is_enum_name(const otf__ottl_tok_t *t)
{
	if (t->len < 2 || !(t->text[0] >= 'A' && t->text[0] <= 'Z'))
		return false;
	for (size_t i = 0; i < t->len; i++) {
		char c = t->text[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return memchr(t->text, '_', t->len) != NULL;
}

static int parse_primary(parser_t *p, otf__ottl_node_t **out)
{
	const otf__ottl_tok_t *t = peek(p);
	otf__ottl_node_t *n;
	int rc;
	switch (t->kind) {
	case T_STRING:
	case T_BYTES:
		if (!(n = node(p, N_LIT, t->pos)))
			return OTF_E_NOMEM;
		n->lit.type = t->kind == T_STRING ? OTF_ANY_STRING : OTF_ANY_BYTES;
		n->lit.u.string_value = (otf_bytes_t){(const uint8_t *)t->text, t->len};
		p->i++;
		*out = n;
		return 0;
	case T_INT:
		if (t->len == 1) /* 9223372036854775808 without a minus */
			return otf__ottl_errorf(p->e, t->pos, "integer out of range");
		if (!(n = node(p, N_LIT, t->pos)))
			return OTF_E_NOMEM;
		n->lit.type = OTF_ANY_INT;
		n->lit.u.int_value = t->i;
		p->i++;
		*out = n;
		return 0;
	case T_FLOAT:
		if (!(n = node(p, N_LIT, t->pos)))
			return OTF_E_NOMEM;
		n->lit.type = OTF_ANY_DOUBLE;
		n->lit.u.double_value = t->d;
		p->i++;
		*out = n;
		return 0;
	case T_LPAREN:
		p->i++;
		if ((rc = parse_expr(p, out)))
			return rc;
		return expect(p, T_RPAREN, "')'");
	case T_LBRACK: {
		if (!(n = node(p, N_LIST, t->pos)))
			return OTF_E_NOMEM;
		p->i++;
		nvec_t items = {0};
		if (peek(p)->kind != T_RBRACK) {
			for (;;) {
				otf__ottl_node_t *x;
				if ((rc = parse_expr(p, &x)) ||
				    (rc = nvec_push(p, &items, x, (otf_bytes_t){0})))
					return rc;
				if (peek(p)->kind != T_COMMA)
					break;
				p->i++;
			}
		}
		if ((rc = expect(p, T_RBRACK, "',' or ']'")))
			return rc;
		n->args = items.v;
		n->nargs = items.n;
		*out = n;
		return 0;
	}
	case T_LBRACE: {
		if (!(n = node(p, N_MAP, t->pos)))
			return OTF_E_NOMEM;
		p->i++;
		nvec_t items = {0};
		if (peek(p)->kind != T_RBRACE) {
			for (;;) {
				const otf__ottl_tok_t *k = peek(p);
				if (k->kind != T_STRING)
					return otf__ottl_errorf(
					    p->e, k->pos, "map key must be a string, found %s",
					    tok_desc(k));
				p->i++;
				if ((rc = expect(p, T_COLON, "':'")))
					return rc;
				otf__ottl_node_t *x;
				if ((rc = parse_expr(p, &x)) ||
				    (rc = nvec_push(
				         p, &items, x,
				         (otf_bytes_t){(const uint8_t *)k->text, k->len})))
					return rc;
				if (peek(p)->kind != T_COMMA)
					break;
				p->i++;
			}
		}
		if ((rc = expect(p, T_RBRACE, "',' or '}'")))
			return rc;
		n->args = items.v;
		n->arg_names = items.names;
		n->nargs = items.n;
		*out = n;
		return 0;
	}
	case T_IDENT:
		break;
	default:
		return otf__ottl_errorf(p->e, t->pos, "expected a value, found %s", tok_desc(t));
	}
	/* identifiers */
	if (is_word(t, "true") || is_word(t, "false") || is_word(t, "nil")) {
		if (!(n = node(p, N_LIT, t->pos)))
			return OTF_E_NOMEM;
		if (t->text[0] == 'n') {
			n->lit.type = OTF_ANY_EMPTY;
		} else {
			n->lit.type = OTF_ANY_BOOL;
			n->lit.u.bool_value = t->text[0] == 't';
		}
		p->i++;
		*out = n;
		return 0;
	}
	if (is_word(t, "and") || is_word(t, "or") || is_word(t, "not") || is_word(t, "where"))
		return otf__ottl_errorf(p->e, t->pos, "expected a value, found keyword '%.*s'",
		                        (int)t->len, t->text);
	if (peek2(p)->kind == T_LPAREN) {
		if (!(n = node(p, N_CALL, t->pos)) ||
		    !(n->segs = otf_arena_alloc(p->a, sizeof *n->segs)))
			return OTF_E_NOMEM;
		n->segs[0] = (otf_bytes_t){(const uint8_t *)t->text, t->len};
		n->nsegs = 1;
		p->i++;
		if ((rc = parse_call(p, n)) || (rc = parse_keys(p, n)))
			return rc;
		*out = n;
		return 0;
	}
	if (is_enum_name(t)) {
		if (!(n = node(p, N_ENUM, t->pos)) ||
		    !(n->segs = otf_arena_alloc(p->a, sizeof *n->segs)))
			return OTF_E_NOMEM;
		n->segs[0] = (otf_bytes_t){(const uint8_t *)t->text, t->len};
		n->nsegs = 1;
		p->i++;
		*out = n;
		return 0;
	}
	if (!(n = node(p, N_PATH, t->pos)))
		return OTF_E_NOMEM;
	nvec_t segs = {0};
	for (;;) {
		const otf__ottl_tok_t *s = peek(p);
		if (s->kind != T_IDENT)
			return otf__ottl_errorf(p->e, s->pos, "expected a path segment, found %s",
			                        tok_desc(s));
		if ((rc = nvec_push(p, &segs, NULL,
		                    (otf_bytes_t){(const uint8_t *)s->text, s->len})))
			return rc;
		p->i++;
		if (peek(p)->kind != T_DOT)
			break;
		p->i++;
	}
	n->segs = segs.names;
	n->nsegs = segs.n;
	if ((rc = parse_keys(p, n)))
		return rc;
	*out = n;
	return 0;
}

static int parse_unary(parser_t *p, otf__ottl_node_t **out)
{
	const otf__ottl_tok_t *t = peek(p);
	if (t->kind != T_MINUS)
		return parse_primary(p, out);
	p->i++;
	const otf__ottl_tok_t *x = peek(p);
	otf__ottl_node_t *n;
	if (x->kind == T_INT || x->kind == T_FLOAT) { /* fold: -1, -2.5 */
		if (!(n = node(p, N_LIT, t->pos)))
			return OTF_E_NOMEM;
		if (x->kind == T_INT) {
			n->lit.type = OTF_ANY_INT;
			n->lit.u.int_value = x->len == 1 ? INT64_MIN : -x->i;
		} else {
			n->lit.type = OTF_ANY_DOUBLE;
			n->lit.u.double_value = -x->d;
		}
		p->i++;
		*out = n;
		return 0;
	}
	if (!(n = node(p, N_NEG, t->pos)) || !(n->args = otf_arena_alloc(p->a, sizeof *n->args)))
		return OTF_E_NOMEM;
	n->nargs = 1;
	if (++p->depth > OTTL_MAX_DEPTH)
		return otf__ottl_errorf(p->e, t->pos, "expression nested deeper than %d",
		                        OTTL_MAX_DEPTH);
	int rc = parse_unary(p, &n->args[0]);
	p->depth--;
	*out = n;
	return rc;
}

static int binary(parser_t *p, otf__ottl_node_kind_t k, otf__ottl_tok_kind_t op, size_t pos,
                  otf__ottl_node_t *l, otf__ottl_node_t *r, otf__ottl_node_t **out)
{
	otf__ottl_node_t *n = node(p, k, pos);
	if (!n || !(n->args = otf_arena_alloc(p->a, 2 * sizeof *n->args)))
		return OTF_E_NOMEM;
	n->args[0] = l;
	n->args[1] = r;
	n->nargs = 2;
	n->op = op;
	*out = n;
	return 0;
}

static int parse_mul(parser_t *p, otf__ottl_node_t **out)
{
	int rc = parse_unary(p, out);
	while (!rc && (peek(p)->kind == T_STAR || peek(p)->kind == T_SLASH)) {
		const otf__ottl_tok_t *t = peek(p);
		otf__ottl_node_t *r;
		p->i++;
		if (!(rc = parse_unary(p, &r)))
			rc = binary(p, N_MATH, t->kind, t->pos, *out, r, out);
	}
	return rc;
}

static int parse_add(parser_t *p, otf__ottl_node_t **out)
{
	int rc = parse_mul(p, out);
	while (!rc && (peek(p)->kind == T_PLUS || peek(p)->kind == T_MINUS)) {
		const otf__ottl_tok_t *t = peek(p);
		otf__ottl_node_t *r;
		p->i++;
		if (!(rc = parse_mul(p, &r)))
			rc = binary(p, N_MATH, t->kind, t->pos, *out, r, out);
	}
	return rc;
}

static bool is_cmp(otf__ottl_tok_kind_t k)
{
	return k >= T_EQ && k <= T_GE;
}

static int parse_cmp(parser_t *p, otf__ottl_node_t **out)
{
	int rc = parse_add(p, out);
	if (rc || !is_cmp(peek(p)->kind))
		return rc;
	const otf__ottl_tok_t *t = peek(p);
	otf__ottl_node_t *r;
	p->i++;
	if ((rc = parse_add(p, &r)) || (rc = binary(p, N_CMP, t->kind, t->pos, *out, r, out)))
		return rc;
	if (is_cmp(peek(p)->kind))
		return otf__ottl_errorf(p->e, peek(p)->pos,
		                        "comparisons do not chain; combine them with 'and'");
	return 0;
}

static int parse_not(parser_t *p, otf__ottl_node_t **out)
{
	const otf__ottl_tok_t *t = peek(p);
	if (!is_word(t, "not"))
		return parse_cmp(p, out);
	p->i++;
	otf__ottl_node_t *n = node(p, N_NOT, t->pos);
	if (!n || !(n->args = otf_arena_alloc(p->a, sizeof *n->args)))
		return OTF_E_NOMEM;
	n->nargs = 1;
	if (++p->depth > OTTL_MAX_DEPTH)
		return otf__ottl_errorf(p->e, t->pos, "expression nested deeper than %d",
		                        OTTL_MAX_DEPTH);
	int rc = parse_not(p, &n->args[0]);
	p->depth--;
	*out = n;
	return rc;
}

static int parse_and(parser_t *p, otf__ottl_node_t **out)
{
	int rc = parse_not(p, out);
	while (!rc && is_word(peek(p), "and")) {
		size_t pos = peek(p)->pos;
		otf__ottl_node_t *r;
		p->i++;
		if (!(rc = parse_not(p, &r)))
			rc = binary(p, N_AND, T_EOF, pos, *out, r, out);
	}
	return rc;
}

static int parse_expr(parser_t *p, otf__ottl_node_t **out)
{
	if (++p->depth > OTTL_MAX_DEPTH)
		return otf__ottl_errorf(p->e, peek(p)->pos, "expression nested deeper than %d",
		                        OTTL_MAX_DEPTH);
	int rc = parse_and(p, out);
	while (!rc && is_word(peek(p), "or")) {
		size_t pos = peek(p)->pos;
		otf__ottl_node_t *r;
		p->i++;
		if (!(rc = parse_and(p, &r)))
			rc = binary(p, N_OR, T_EOF, pos, *out, r, out);
	}
	p->depth--;
	return rc;
}

static int at_end(parser_t *p)
{
	const otf__ottl_tok_t *t = peek(p);
	if (t->kind != T_EOF)
		return otf__ottl_errorf(
		    p->e, t->pos, "unexpected %s after the end of the expression", tok_desc(t));
	return 0;
}

int otf__ottl_parse_statement(const otf__ottl_tok_t *toks, size_t n, otf_arena_t *a,
                              otf__ottl_node_t **call, otf__ottl_node_t **where, otf__ottl_err_t *e)
{
	parser_t p = {toks, n, 0, a, e, 0};
	const otf__ottl_tok_t *t = peek(&p);
	if (t->kind != T_IDENT || peek2(&p)->kind != T_LPAREN)
		return otf__ottl_errorf(e, t->pos,
		                        "a statement starts with an editor call, like set(...)");
	int rc = parse_primary(&p, call);
	if (rc)
		return rc;
	if ((*call)->nkeys)
		return otf__ottl_errorf(e, (*call)->keys[0]->pos,
		                        "an editor's result cannot be indexed");
	*where = NULL;
	if (is_word(peek(&p), "where")) {
		p.i++;
		if ((rc = parse_expr(&p, where)))
			return rc;
	}
	return at_end(&p);
}

int otf__ottl_parse_condition(const otf__ottl_tok_t *toks, size_t n, otf_arena_t *a,
                              otf__ottl_node_t **cond, otf__ottl_err_t *e)
{
	parser_t p = {toks, n, 0, a, e, 0};
	int rc = parse_expr(&p, cond);
	return rc ? rc : at_end(&p);
}
