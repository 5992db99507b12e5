/* The in-place path of filter and transform (ottlproc.h): OTTL on lazy
 * records over the request bytes, the request rewritten record by record.
 * What it saves over decode + run + encode: the decode of every field no
 * statement reads (attributes["k"] is a lookup in the bytes) and the
 * encode of every record no statement changed (a copy). */
#include "ottlproc.h"

#include "otflow/err.h"
#include "otflow/pdata_edit.h"

#include <string.h>

typedef struct ip {
	bool filter;
	const ottlproc_groups_t *const *lists;
	size_t nlists;
	int proc_mode;
	otf_signal_t s;
	otf_arena_t *arena;
	otf_ottl_stats_t *st;
	uint64_t logged;
	int ottl_rc; /* the error a group returned under propagate, 0 while none */
	/* the record being run: here, not on the callback's stack, because
	 * the rewriter encodes the patch from it after the callback returned */
	otf_ottl_lazy_t lz;
	otf_ottl_record_t rec;
} ip_t;

static bool eligible(const ip_t *x)
{
	otf_ottl_context_t want =
	    x->s == OTF_SIGNAL_LOGS ? OTF_OTTL_CTX_LOG
	    : x->s == OTF_SIGNAL_TRACES
	        ? OTF_OTTL_CTX_SPAN
	        : OTF_OTTL_CTX_COUNT; /* metrics: points are not records the rewriter walks */
	if (want == OTF_OTTL_CTX_COUNT)
		return false;
	for (size_t k = 0; k < x->nlists; k++)
		for (size_t i = 0; i < x->lists[k]->n; i++) {
			const ottlproc_group_t *g = &x->lists[k]->g[i];
			if ((g->conds && otf_ottl_program_context(g->conds) != want) ||
			    (g->stmts && otf_ottl_program_context(g->stmts) != want))
				return false;
		}
	return true;
}

/* A group's failure: the fallback's reason stays in lz.err, an OTTL error
 * under propagate is remembered to be returned. */
static int failed(ip_t *x, int rc)
{
	if (!x->lz.err)
		x->ottl_rc = rc;
	return rc;
}

static int on_record(void *user, otf_pdata_rec_t *in)
{
	ip_t *x = user;
	int rc = otf_ottl_lazy_init(&x->lz, &x->rec, x->s, in, x->arena);
	if (rc) {
		x->lz.err = rc;
		return rc;
	}
	otf_ottl_record_t *rec = &x->rec;
	for (size_t k = 0; k < x->nlists; k++)
		for (size_t i = 0; i < x->lists[k]->n; i++) {
			const ottlproc_group_t *g = &x->lists[k]->g[i];
			otf_ottl_error_mode_t mode = otf__ottlproc_mode(g, x->proc_mode);
			uint64_t before = x->st->errors;
			rec->cache = (otf_attributes_t){0};
			if (x->filter) {
				rc = otf_ottl_match_any(g->conds, mode, rec, x->st);
			} else {
				rc = 1;
				if (g->conds)
					rc = otf_ottl_match_any(g->conds, mode, rec, x->st);
				if (rc == 1) {
					rec->cache = (otf_attributes_t){0};
					rc = otf_ottl_exec_all(g->stmts, mode, rec, x->st);
				}
			}
			if (rc < 0)
				return failed(x, rc);
			if (mode != OTF_OTTL_ERROR_SILENT)
				x->logged += x->st->errors - before;
			if (x->filter && rc == 1) {
				x->st->dropped++;
				return OTF_PDATA_REC_DROP;
			}
		}
	if (!x->lz.dirty && !x->lz.nops)
		return OTF_PDATA_REC_KEEP;
	in->patch_mask = x->lz.dirty;
	in->attr_ops = x->lz.ops;
	in->attr_nops = x->lz.nops;
	if (x->s == OTF_SIGNAL_LOGS)
		in->patch_log = &x->lz.u.log;
	else
		in->patch_span = &x->lz.u.span;
	return OTF_PDATA_REC_PATCH;
}

int otf__ottlproc_inplace(bool filter, const ottlproc_groups_t *const *lists, size_t nlists,
                          int proc_mode, otf_signal_t s, const otf_buf_t *in, otf_arena_t *arena,
                          otf_ottl_stats_t *st, uint64_t *logged, ottlproc_inplace_result_t *res)
{
	memset(res, 0, sizeof *res);
	ip_t *x = otf_arena_alloc(arena, sizeof *x);
	if (!x)
		return OTF_E_NOMEM;
	memset(x, 0, offsetof(ip_t, lz));
	x->filter = filter;
	x->lists = lists;
	x->nlists = nlists;
	x->proc_mode = proc_mode;
	x->s = s;
	x->arena = arena;
	if (!eligible(x))
		return 0;
	otf_ottl_stats_t local = *st;
	x->st = &local;
	otf_pdata_rewrite_stats_t rs;
	otf_buf_t *out = NULL;
	int rc = otf_pdata_rewrite(s, in->data, in->len, filter, on_record, x, &out, &rs);
	if (rc) {
		if (x->ottl_rc && rc == x->ottl_rc) {
			*st = local;
			return rc;
		}
		return rc == OTF_E_NOMEM ? rc : 0; /* the tree path decides */
	}
	*st = local;
	*logged += x->logged;
	res->patched = rs.patched;
	res->dropped = rs.dropped;
	if (!rs.patched && !rs.dropped) {
		otf_buf_unref(out);
		return 1;
	}
	res->out = out;
	res->items = rs.records - rs.dropped;
	return 1;
}
