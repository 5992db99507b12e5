/* Direct request building of the drain (see mmap_drain.h, otf__mmd_dir_*):
 * each log record or span is encoded once, as it is decoded, into the
 * bytes of its scope group; the cut only wraps the groups in their
 * ScopeLogs/ScopeSpans and ResourceLogs/ResourceSpans. No pending tree, no
 * copy of the record into an arena, no second pass over the items, and the
 * request buffer is sized exactly (no slack to move away at the end).
 *
 * The requests are the ones the tree path builds (otf__mmd_opts.via_tree):
 * same grouping (scope groups in order of first appearance, at most
 * MAX_GROUPS per request, resource groups over them by resource ref, the
 * last resolved scope's resource for each) and the same encoder for every
 * record, so the bytes are identical (tests/unit/test_mmap_direct.c). */
#include "mmap_drain.h"
#include "pdata/pb_varint.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "pdata/pb_encode_internal.h"

#include <string.h>

#define MAX_GROUPS 64 /* as the tree path (mmap_drain.c) */

typedef struct grp {
	int64_t scope_ref;
	const otf__mmx_scope_t *scope;
	uint8_t *b; /* [key 2][len][record] ... */
	size_t len, cap;
	int res;               /* its resource group at the cut */
	size_t sc_off, sc_len; /* its encoded scope field in hdr */
	size_t body;           /* ScopeLogs/ScopeSpans contents length */
} grp_t;

struct otf__mmd_dir {
	otf_signal_t signal;
	otf__pb_wr w; /* scratch, back to front: one record, scope or resource */
	grp_t g[MAX_GROUPS];
	size_t k, last, items;
	uint8_t *hdr; /* encoded scope and resource fields of one cut */
	size_t hdr_len, hdr_cap;
};

otf__mmd_dir_t *otf__mmd_dir_create(otf_signal_t signal)
{
	otf__mmd_dir_t *g = otf_calloc(1, sizeof *g);
	if (!g)
		return NULL;
	g->signal = signal;
	if (otf__pb_wr_init(&g->w, 1024)) {
		otf_free(g);
		return NULL;
	}
	return g;
}

void otf__mmd_dir_destroy(otf__mmd_dir_t *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < MAX_GROUPS; i++)
		otf_free(g->g[i].b);
	otf_free(g->hdr);
	otf__pb_wr_abort(&g->w);
	otf_free(g);
}

size_t otf__mmd_dir_items(const otf__mmd_dir_t *g)
{
	return g ? g->items : 0;
}

static void wr_reset(otf__pb_wr *w)
{
	w->p = w->base + w->buf->cap;
	w->err = 0;
}

static bool reserve(uint8_t **b, size_t *cap, size_t len, size_t n)
{
	if (len + n <= *cap)
		return true;
	size_t c = *cap ? *cap : 4096;
	while (c < len + n)
		c *= 2;
	uint8_t *p = otf_realloc(*b, c);
	if (!p)
		return false;
	*b = p;
	*cap = c;
	return true;
}

/* A LEN field (key, length, contents) appended to the group buffer. */
static int append_field(uint8_t **b, size_t *len, size_t *cap, uint32_t field, const uint8_t *s,
                        size_t n)
{
	if (!reserve(b, cap, *len, n + 12))
		return OTF_E_NOMEM;
	uint8_t *p = otf__pb_varint_put(*b + *len, OTF__PBE_KEY(field, OTF_WT_LEN));
	p = otf__pb_varint_put(p, n);
	memcpy(p, s, n);
	*len = (size_t)(p + n - *b);
	return 0;
}

int otf__mmd_dir_add(otf__mmd_t *d, otf__mmd_dir_t *g, int64_t scope_ref, const void *item)
{
	size_t j;
	if (g->k && g->g[g->last].scope_ref == scope_ref) {
		j = g->last;
	} else {
		for (j = 0; j < g->k && g->g[j].scope_ref != scope_ref; j++)
			;
		if (j == g->k) {
			if (g->k == MAX_GROUPS) {
				/* A further scope ends this request (as the tree path). */
				otf__mmd_dir_flush(d, g);
				j = 0;
			}
			grp_t *n = &g->g[j];
			n->scope_ref = scope_ref;
			n->scope = otf__mmx_scope(&d->x, scope_ref);
			n->len = 0;
			g->k = j + 1;
		}
		g->last = j;
	}
	wr_reset(&g->w);
	if (g->signal == OTF_SIGNAL_LOGS)
		otf__pbe_log_record(&g->w, item);
	else
		otf__pbe_span(&g->w, item);
	if (g->w.err)
		return g->w.err;
	grp_t *n = &g->g[j];
	int rc = append_field(&n->b, &n->len, &n->cap, 2, g->w.p, otf__pb_wr_size(&g->w));
	if (!rc)
		g->items++;
	return rc;
}

/* What the scratch writer holds (a scope or resource field) appended to hdr;
 * its offset and length. */
static int hdr_take(otf__mmd_dir_t *g, size_t *off, size_t *len)
{
	if (g->w.err)
		return g->w.err;
	size_t n = otf__pb_wr_size(&g->w);
	if (!reserve(&g->hdr, &g->hdr_cap, g->hdr_len, n + 1)) /* + 1: never NULL, even empty */
		return OTF_E_NOMEM;
	memcpy(g->hdr + g->hdr_len, g->w.p, n);
	*off = g->hdr_len;
	*len = n;
	g->hdr_len += n;
	return 0;
}

static int hdr_scope(otf__mmd_dir_t *g, const otf_scope_t *sc, size_t *off, size_t *len)
{
	wr_reset(&g->w);
	otf__pbe_scope(&g->w, 1, sc);
	return hdr_take(g, off, len);
}

static int hdr_resource(otf__mmd_dir_t *g, const otf_resource_t *res, size_t *off, size_t *len)
{
	wr_reset(&g->w);
	otf__pbe_resource(&g->w, 1, res);
	return hdr_take(g, off, len);
}

static size_t field_len(size_t n)
{
	return 1 + otf__pbe_varint_len(n) + n; /* keys 1 and 2 are one byte */
}

void otf__mmd_dir_flush(otf__mmd_t *d, otf__mmd_dir_t *g)
{
	if (!g->k)
		return;
	static const otf_scope_t k_no_scope;
	static const otf_resource_t k_no_resource;
	int64_t rr[MAX_GROUPS];
	const otf_resource_t *res[MAX_GROUPS];
	size_t res_off[MAX_GROUPS], res_len[MAX_GROUPS], res_body[MAX_GROUPS];
	size_t m = 0, total = 0;
	int rc = 0;
	g->hdr_len = 0;
	for (size_t j = 0; j < g->k; j++) {
		grp_t *n = &g->g[j];
		int64_t ref = n->scope ? n->scope->resource_ref : 0;
		size_t r;
		for (r = 0; r < m && rr[r] != ref; r++)
			;
		if (r == m) {
			rr[m] = ref;
			res[m++] = &k_no_resource;
		}
		if (n->scope)
			res[r] = &n->scope->resource; /* the last one wins, as in the tree */
		n->res = (int)r;
		if (!rc)
			rc = hdr_scope(g, n->scope ? &n->scope->scope : &k_no_scope, &n->sc_off,
			               &n->sc_len);
		n->body = n->sc_len + n->len;
	}
	for (size_t r = 0; r < m && !rc; r++) {
		rc = hdr_resource(g, res[r], &res_off[r], &res_len[r]);
		res_body[r] = res_len[r];
		for (size_t j = 0; j < g->k; j++)
			if (g->g[j].res == (int)r)
				res_body[r] += field_len(g->g[j].body);
		total += field_len(res_body[r]);
	}
	otf_buf_t *buf = rc ? NULL : otf_buf_create(total);
	if (buf) {
		uint8_t *p = buf->data;
		for (size_t r = 0; r < m; r++) {
			*p++ = (uint8_t)OTF__PBE_KEY(1, OTF_WT_LEN);
			p = otf__pb_varint_put(p, res_body[r]);
			memcpy(p, g->hdr + res_off[r], res_len[r]);
			p += res_len[r];
			for (size_t j = 0; j < g->k; j++) {
				grp_t *n = &g->g[j];
				if (n->res != (int)r)
					continue;
				*p++ = (uint8_t)OTF__PBE_KEY(2, OTF_WT_LEN);
				p = otf__pb_varint_put(p, n->body);
				memcpy(p, g->hdr + n->sc_off, n->sc_len);
				p += n->sc_len;
				memcpy(p, n->b, n->len);
				p += n->len;
			}
		}
		buf->len = (size_t)(p - buf->data);
	}
	if (!buf || otf__mmd_queue(d, g->signal, buf, g->items))
		d->st.encode_errors += g->items;
	g->k = g->last = g->items = 0;
}
