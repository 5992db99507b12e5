/* The batch of one write of the gRPC client (grpc_client.h): nghttp2's
 * frames copied into a stage, DATA payloads referenced in place. */
#include "grpc_client.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <string.h>

/* Grows *p (n elements of size sz in use, *cap allocated) to hold one more. */
static int grow(void **p, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 16;
	void *np = otf_realloc(*p, ncap * sz);
	if (!np)
		return OTF_E_NOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

int otf__grpcc_stage_add(otf__grpcc_wbatch_t *w, const uint8_t *d, size_t n)
{
	if (!n)
		return 0;
	if (w->stage_len + n > w->stage_cap) {
		size_t ncap = w->stage_cap ? w->stage_cap : 65536;
		while (w->stage_len + n > ncap)
			ncap *= 2;
		uint8_t *ns = otf_realloc(w->stage, ncap);
		if (!ns)
			return OTF_E_NOMEM;
		w->stage = ns;
		w->stage_cap = ncap;
	}
	memcpy(w->stage + w->stage_len, d, n);
	otf__grpcc_wseg_t *last = w->nseg ? &w->segs[w->nseg - 1] : NULL;
	if (last && !last->ptr && last->off + last->len == w->stage_len) {
		last->len += n;
	} else {
		if (grow((void **)&w->segs, &w->seg_cap, w->nseg, sizeof *w->segs))
			return OTF_E_NOMEM;
		w->segs[w->nseg++] = (otf__grpcc_wseg_t){NULL, w->stage_len, n};
	}
	w->stage_len += n;
	w->total += n;
	return 0;
}

int otf__grpcc_slice_add(otf__grpcc_wbatch_t *w, otf_buf_t *msg, size_t off, size_t n)
{
	if (!n)
		return 0;
	if (grow((void **)&w->segs, &w->seg_cap, w->nseg, sizeof *w->segs) ||
	    grow((void **)&w->refs, &w->ref_cap, w->nref, sizeof *w->refs))
		return OTF_E_NOMEM;
	w->refs[w->nref++] = otf_buf_ref(msg);
	w->segs[w->nseg++] = (otf__grpcc_wseg_t){msg->data + off, 0, n};
	w->total += n;
	return 0;
}

void otf__grpcc_batch_reset(otf__grpcc_wbatch_t *w)
{
	for (size_t i = 0; i < w->nref; i++)
		otf_buf_unref(w->refs[i]);
	w->nref = w->nseg = w->stage_len = w->total = 0;
}

void otf__grpcc_batch_free(otf__grpcc_wbatch_t *w)
{
	otf__grpcc_batch_reset(w);
	otf_free(w->stage);
	otf_free(w->segs);
	otf_free(w->refs);
	otf_free(w->bufs);
}
