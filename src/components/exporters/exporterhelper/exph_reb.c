/* The sending queue in the control plane (otflow/component.h): the budget
 * it publishes upstream (REB) and the requests a cancellation ends (CAN). */
#include "exph_sender_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <errno.h>

/* REB (otflow/component.h): the queue's free space, less what is already
 * on its way in the exporter's channel, is the budget it publishes
 * upstream in its sizer's unit; 0 when full (or messages wait for room),
 * so the receivers refuse before reading instead of the queue after.
 * Called after every change of used; propagates only when the value
 * changed. */
void otf__exph_publish_budget(otf_exph_t *h)
{
	/* A replaced instance (rebuild, KIL handover) shares its node with
	 * the new one, which owns the node's budget now: the old one's closing
	 * 0, published when its last send ended after the new one's, held
	 * the receivers with nothing left to lift it (e2e_rebuild_storage,
	 * seen under ASan: no request answered after the switch). */
	if (h->handed_over)
		return;
	if (h->block_on_overflow && !h->closing) {
		/* Full, messages wait for room (their clients wait too): the
		 * receivers are stopped only once the waiting room is full. */
		if (h->blocked_len < MAX_BLOCKED) {
			otf_node_publish_budget(h->node, NULL);
			return;
		}
		otf_budget_t zero = {0, 0, 0, 1000, 0};
		otf_node_publish_budget(h->node, &zero);
		return;
	}
	uint64_t pend = 0;
	/* Only the sizer's unit: messages are counted, items and bytes walked. */
	if (h->sizer == OTF_EXPH_SIZER_ITEMS)
		otf_node_input_pending(h->node, NULL, &pend, NULL);
	else if (h->sizer == OTF_EXPH_SIZER_BYTES)
		otf_node_input_pending(h->node, NULL, NULL, &pend);
	else
		otf_node_input_pending(h->node, &pend, NULL, NULL);
	uint64_t free = h->q.used < h->q.cap ? h->q.cap - h->q.used : 0;
	free = free > pend ? free - pend : 0;
	if (h->closing)
		free = 0;
	otf_budget_t b = {OTF_BUDGET_UNLIMITED, OTF_BUDGET_UNLIMITED, OTF_BUDGET_UNLIMITED, 1000,
	                  0};
	if (h->sizer == OTF_EXPH_SIZER_ITEMS)
		b.items = free;
	else if (h->sizer == OTF_EXPH_SIZER_BYTES)
		b.bytes = free;
	else
		b.msgs = free;
	if (!free) {
		b.bytes = b.items = b.msgs = 0;
		/* Room comes back when a request finishes: at the earliest the
		 * next retry of the oldest waiting one. */
		uint64_t iv = (uint64_t)h->retry.initial_interval_ns / 1000000;
		b.retry_after_ms = iv > 1000 ? (uint32_t)(iv > 60000 ? 60000 : iv) : 1000;
	}
	otf_node_publish_budget(h->node, &b);
}

static bool is_cancelled(void *ctx, uint64_t id)
{
	return otf_node_msg_cancelled(ctx, id);
}

bool otf__exph_cut_cancelled(otf_exph_t *h, otf_exph_req_t *r)
{
	size_t n = r->nslices;
	otf_buf_t *rest;
	uint64_t items;
	int rc = otf_slices_cut(r->payload, r->slices, &n, is_cancelled, h->node, &rest, &items);
	if (rc || !rest) {
		if (rc == OTF_E_INVAL) {
			/* Not the payload the batch described: sent whole. */
			otf_free(r->slices);
			r->slices = NULL;
			r->nslices = 0;
		}
		return false;
	}
	otf_node_count(h->node, OTF_COUNTER_CANCELLED, r->signal, items);
	r->items = items < r->items ? r->items - items : 0;
	r->nslices = n;
	otf_buf_unref(r->payload);
	r->payload = rest;
	/* The transport's encoded body is of the whole batch: made again. */
	otf_buf_unref(r->body);
	r->body = NULL;
	return n == 0 && rest->len == 0;
}

bool otf__exph_all_cancelled(otf_exph_t *h, const otf_exph_req_t *r)
{
	if (!r->nslices)
		return false;
	for (size_t i = 0; i < r->nslices; i++)
		if (!otf_node_msg_cancelled(h->node, r->slices[i].id))
			return false;
	return true;
}

static bool has_source(const otf_exph_req_t *r, uint64_t id)
{
	for (size_t i = 0; i < r->nslices; i++)
		if (r->slices[i].id == id)
			return true;
	return false;
}

/* CAN: every request of message id ends now, wherever it is; a request
 * that holds id's records among others' (a batch) loses those records
 * while it is queued or waits for a retry, and is aborted in flight only
 * once nothing else is left in it. */
void otf__exph_cancel(otf_exph_t *h, uint64_t id, const char *reason)
{
	otf_exph_req_t *dead = NULL;
	for (otf_exph_req_t *r = h->q.head, *nx; r; r = nx) {
		nx = r->next;
		if (r->msg_id == id || (has_source(r, id) && otf__exph_cut_cancelled(h, r))) {
			otf__exph_queue_remove(&h->q, r);
			r->next = dead;
			dead = r;
		}
	}
	for (otf_exph_req_t *r = h->waiting, *nx; r; r = nx) {
		nx = r->next;
		if (r->msg_id == id || (has_source(r, id) && otf__exph_cut_cancelled(h, r))) {
			otf__exph_list_del(&h->waiting, r);
			r->next = dead;
			dead = r;
		}
	}
	for (otf_exph_req_t *r = h->inflight, *nx; r && h->ops.abort; r = nx) {
		nx = r->next;
		if (r->msg_id == id || (has_source(r, id) && otf__exph_all_cancelled(h, r))) {
			otf__exph_list_del(&h->inflight, r);
			h->ops.abort(h->ctx, r);
			r->tdata = NULL;
			r->next = dead;
			dead = r;
		}
	}
	for (blocked_t **pp = &h->blocked; *pp;) {
		blocked_t *b = *pp;
		if (otf_msg_id(b->msg) != id) {
			pp = &b->next;
			continue;
		}
		*pp = b->next;
		if (h->blocked_tail == b) {
			h->blocked_tail = NULL;
			for (blocked_t *t = h->blocked; t; t = t->next)
				h->blocked_tail = t;
		}
		h->blocked_len--;
		otf_node_count(h->node, OTF_COUNTER_CANCELLED, otf_msg_signal(b->msg),
		               otf_msg_items(b->msg));
		otf_msg_nack(b->msg, -ECANCELED, true, reason);
		otf_free(b);
	}
	while (dead) {
		otf_exph_req_t *r = dead;
		dead = r->next;
		r->next = NULL;
		r->cancelled = true;
		otf__exph_finish(h, r, OTF_EXPH_PERMANENT, -ECANCELED, reason);
	}
}
