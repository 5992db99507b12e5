/* Context inference for statements written with context-prefixed paths
 * only (the Collector's transform processor's flat statement lists): the
 * most specific context any path names is the one the statements run in,
 * so `set(span.attributes["x"], resource.attributes["y"])` runs per span. */
#include "ottl_internal.h"

#include "otflow/err.h"

#include <string.h>

/* 0 resource, 1 scope, 2 span/metric/log, 3 spanevent/datapoint */
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

/* Whether a runs inside b's records (b is a or one of a's parents). */
static bool within(otf_ottl_context_t a, otf_ottl_context_t b)
{
	if (a == b || b == OTF_OTTL_CTX_RESOURCE ||
	    (b == OTF_OTTL_CTX_SCOPE && a != b && level(a) > 1))
		return true;
	return (a == OTF_OTTL_CTX_SPANEVENT && b == OTF_OTTL_CTX_SPAN) ||
	       (a == OTF_OTTL_CTX_DATAPOINT && b == OTF_OTTL_CTX_METRIC);
}

typedef struct infer {
	int ctx; /* -1 until a path names one */
	otf__ottl_err_t *e;
} infer_t;

static int visit(infer_t *in, const otf__ottl_node_t *n)
{
	if (!n)
		return 0;
	if (n->kind == N_PATH) {
		otf_bytes_t s = n->segs[0];
		int c = otf__ottl_bytes_is(s, "instrumentation_scope")
		            ? OTF_OTTL_CTX_SCOPE
		            : otf_ottl_context_parse((const char *)s.ptr, s.len);
		if (c < 0 || n->nsegs < 2)
			return otf__ottl_errorf(
			    in->e, n->pos, "path '%.*s' names no context; write it as ctx.%.*s",
			    (int)s.len, (const char *)s.ptr, (int)s.len, (const char *)s.ptr);
		if (in->ctx < 0 || within((otf_ottl_context_t)c, (otf_ottl_context_t)in->ctx))
			in->ctx = c;
		else if (!within((otf_ottl_context_t)in->ctx, (otf_ottl_context_t)c))
			return otf__ottl_errorf(in->e, n->pos,
			                        "contexts %s and %s cannot be combined",
			                        otf_ottl_context_name((otf_ottl_context_t)in->ctx),
			                        otf_ottl_context_name((otf_ottl_context_t)c));
	}
	for (size_t i = 0; i < n->nargs; i++) {
		int rc = visit(in, n->args[i]);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < n->nkeys; i++) {
		int rc = visit(in, n->keys[i]);
		if (rc)
			return rc;
	}
	return 0;
}

int otf_ottl_infer_context(const char *const *stmts, size_t n, bool conditions,
                           otf_ottl_context_t *out, otf_ottl_error_t *err)
{
	otf_arena_t a;
	otf_arena_init(&a, 4096);
	otf__ottl_err_t e = {0, ""};
	infer_t in = {-1, &e};
	int rc = 0;
	size_t i = 0;
	for (; !rc && i < n; i++) {
		const char *s = stmts[i] ? stmts[i] : "";
		otf__ottl_tok_t *toks;
		size_t ntoks;
		otf__ottl_node_t *call = NULL, *where = NULL;
		rc = otf__ottl_lex(s, strlen(s), &a, &toks, &ntoks, &e);
		if (!rc)
			rc = conditions
			         ? otf__ottl_parse_condition(toks, ntoks, &a, &where, &e)
			         : otf__ottl_parse_statement(toks, ntoks, &a, &call, &where, &e);
		if (!rc && !(rc = visit(&in, call)))
			rc = visit(&in, where);
		if (rc)
			break;
	}
	if (!rc && in.ctx < 0) {
		i = 0;
		rc = otf__ottl_errorf(&e, 0, "no path names a context");
	}
	otf_arena_close(&a);
	if (rc) {
		if (err) {
			err->index = i;
			err->column = e.column;
			memcpy(err->msg, rc == OTF_E_NOMEM ? "out of memory" : e.msg,
			       sizeof err->msg);
		}
		return rc;
	}
	*out = (otf_ottl_context_t)in.ctx;
	return 0;
}
