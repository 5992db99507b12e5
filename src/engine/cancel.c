/* CAN, cancellation (otflow/component.h, "CAN"): the worker's set of
 * cancelled message ids and the downstream delivery of OTF_CTRL_CAN.
 * The set is direct-mapped (slot = id hash), so a lookup costs one load
 * whatever the number of cancellations, and a worker that never cancels
 * has none (the pump tests a NULL pointer). A slot taken by a later id
 * forgets the older one: that copy is then delivered, as without CAN. */
#include "engine/engine_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <errno.h>
#include <string.h>

typedef struct otf__cancels {
	uint64_t ids[OTF_CANCEL_REMEMBERED]; /* 0 = empty (ids are never 0) */
} cancels_t;

static uint32_t slot(uint64_t id)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdull;
	id ^= id >> 33;
	return (uint32_t)(id & (OTF_CANCEL_REMEMBERED - 1));
}

bool otf_node_msg_cancelled(const otf_node_t *node, uint64_t msg_id)
{
	const cancels_t *c = node->worker->cancels;
	return c && msg_id && c->ids[slot(msg_id)] == msg_id;
}

bool otf__msg_is_cancelled(otf_msg_t *m)
{
	const cancels_t *c = m->worker->cancels;
	if (!c || c->ids[slot(m->id)] != m->id)
		return false;
	/* The pump drops it: answered as cancelled, counted where it waited. */
	return true;
}

int otf_msg_cancel(otf_node_t *node, uint64_t msg_id, const char *reason)
{
	otf_worker_t *w = node->worker;
	if (!msg_id)
		return OTF_E_INVAL;
	if (!w->cancels && !(w->cancels = otf_calloc(1, sizeof *w->cancels)))
		return OTF_E_NOMEM;
	w->cancels->ids[slot(msg_id)] = msg_id;
	/* Every node downstream, once each, nearest first (breadth-first). */
	size_t n = w->nodes_span;
	uint32_t *q = otf_malloc((n + 1) * sizeof *q);
	bool *seen = otf_calloc(n + 1, sizeof *seen);
	if (!q || !seen) {
		otf_free(q);
		otf_free(seen);
		return OTF_E_NOMEM;
	}
	size_t head = 0, tail = 0;
	q[tail++] = node->index;
	seen[node->index] = true;
	while (head < tail) {
		otf_node_t *at = w->nodes[q[head++]];
		for (uint32_t p = 0; p < at->nports; p++)
			for (int s = 0; s < OTF_SIGNAL_COUNT; s++)
				for (uint32_t i = 0; i < at->ports[p].out_len[s]; i++) {
					otf_node_t *t = at->ports[p].out[s][i];
					if (seen[t->index])
						continue;
					seen[t->index] = true;
					q[tail++] = t->index;
					if (!t->def->factory->control || !t->instance)
						continue;
					otf_ctrl_t c;
					memset(&c, 0, sizeof c);
					c.type = OTF_CTRL_CAN;
					c.msg_id = msg_id;
					c.error = -ECANCELED;
					snprintf(c.reason, sizeof c.reason, "%s",
					         reason ? reason : "cancelled");
					otf__node_post_ctrl(t, &c);
				}
	}
	otf_free(q);
	otf_free(seen);
	return 0;
}

void otf__cancel_close(otf_worker_t *w)
{
	otf_free(w->cancels);
	w->cancels = NULL;
}

/* Varint at p (n bytes left): its bytes, 0 when malformed or cut. */
static size_t varint(const uint8_t *p, size_t n, uint64_t *v)
{
	uint64_t x = 0;
	for (size_t i = 0; i < n && i < 10; i++) {
		x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = x;
			return i + 1;
		}
	}
	return 0;
}

/* The end of the top-level field at off, 0 when malformed. */
static uint64_t field_end(const uint8_t *p, uint64_t n, uint64_t off)
{
	uint64_t key, len;
	size_t k = varint(p + off, n - off, &key);
	if (!k || (key >> 3) == 0)
		return 0;
	off += k;
	switch (key & 7) {
	case 0:
		k = varint(p + off, n - off, &len);
		return k ? off + k : 0;
	case 1:
		return n - off >= 8 ? off + 8 : 0;
	case 5:
		return n - off >= 4 ? off + 4 : 0;
	case 2:
		k = varint(p + off, n - off, &len);
		if (!k || len > n - off - k)
			return 0;
		return off + k + len;
	default:
		return 0;
	}
}

static uint64_t target(const otf_msg_slice_t *s, size_t t)
{
	return t % 2 ? s[t / 2].off + s[t / 2].len : s[t / 2].off;
}

/* True when every slice lies on top-level field boundaries of p, in
 * order: what remains after cutting any of them is a request again. */
static bool slices_fit(const uint8_t *p, uint64_t n, const otf_msg_slice_t *s, size_t ns)
{
	uint64_t prev_end = 0;
	for (size_t i = 0; i < ns; i++)
		if (s[i].off < prev_end || s[i].len > n || s[i].off > n - s[i].len)
			return false;
		else
			prev_end = s[i].off + s[i].len;
	/* Walks the fields; the targets (each slice's start, then its end,
	 * ascending) must each be met at a field boundary. */
	size_t t = 0;
	uint64_t off = 0;
	for (;;) {
		while (t < 2 * ns && target(s, t) == off)
			t++;
		if (t < 2 * ns && target(s, t) < off)
			return false; /* inside a field */
		if (off == n)
			return t == 2 * ns;
		off = field_end(p, n, off);
		if (!off)
			return false;
	}
}

int otf_slices_cut(const otf_buf_t *payload, otf_msg_slice_t *slices, size_t *n,
                   otf_slice_drop_fn drop, void *ctx, otf_buf_t **out, uint64_t *dropped_items)
{
	*out = NULL;
	*dropped_items = 0;
	size_t ns = *n, ndrop = 0;
	uint64_t cut_bytes = 0, cut_items = 0;
	for (size_t i = 0; i < ns; i++)
		if (drop(ctx, slices[i].id)) {
			ndrop++;
			cut_bytes += slices[i].len;
			cut_items += slices[i].items;
		}
	if (!ndrop)
		return 0;
	if (!slices_fit(payload->data, payload->len, slices, ns))
		return OTF_E_INVAL;
	otf_buf_t *b = otf_buf_create(payload->len - cut_bytes);
	if (!b)
		return OTF_E_NOMEM;
	/* Bytes between slices (none from the batch processor) are kept. */
	uint64_t at = 0;
	size_t kept = 0;
	for (size_t i = 0; i < ns; i++) {
		otf_msg_slice_t sl = slices[i];
		memcpy(b->data + b->len, payload->data + at, sl.off - at);
		b->len += sl.off - at;
		at = sl.off + sl.len;
		if (drop(ctx, sl.id))
			continue;
		memcpy(b->data + b->len, payload->data + sl.off, sl.len);
		sl.off = b->len;
		b->len += sl.len;
		slices[kept++] = sl;
	}
	memcpy(b->data + b->len, payload->data + at, payload->len - at);
	b->len += payload->len - at;
	*n = kept;
	*out = b;
	*dropped_items = cut_items;
	return 0;
}
