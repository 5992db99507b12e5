/* A rebuilt exporter's persistent queue (sending_queue.storage) goes to
 * its new instance with the records it has on disk (engine/rebuild.c:
 * KIL with OTF_KIL_HANDOVER to the old instance once the new one runs).
 *
 * Both instances of the node open their storage's queue by the same name,
 * and the storage extension gives them the same open WAL (file_storage
 * counts its users), so a record's id means the same in both. The old
 * instance passes each queued or retry-waiting request, and each request
 * in flight that fails afterwards, to the new one as the request itself
 * (payload, record id, deadline, slices) and requeues a message for it
 * into the node's channel: its own message when a client still waits for
 * the outcome, else one made for the purpose. The new instance meets that
 * message in its consume, on its own turn (so what it starts is its own
 * generation's: rebuild.c), and queues the request without appending a
 * record: nothing is written twice, nothing is left behind. What the old
 * instance has in flight is settled there, in the same WAL. A request
 * whose record is on disk but that no instance holds any more is only
 * possible when the process stops: it is replayed at the next start.
 *
 * The new instance is found in a list of every live sender (a mutex: one
 * lookup per handed request, at a rebuild). A new instance without the
 * same WAL (another storage, or none) cannot take records: the CFG is
 * refused before that (exporterhelper.c, otf__exph_check_change). */
#include "exph_sender_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <pthread.h>

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static otf_exph_t *g_live;

void otf__exph_live_add(otf_exph_t *h)
{
	pthread_mutex_lock(&g_mu);
	h->live_prev = NULL;
	h->live_next = g_live;
	if (g_live)
		g_live->live_prev = h;
	g_live = h;
	pthread_mutex_unlock(&g_mu);
}

void otf__exph_live_del(otf_exph_t *h)
{
	pthread_mutex_lock(&g_mu);
	if (h->live_prev)
		h->live_prev->live_next = h->live_next;
	else if (g_live == h)
		g_live = h->live_next;
	if (h->live_next)
		h->live_next->live_prev = h->live_prev;
	h->live_prev = h->live_next = NULL;
	pthread_mutex_unlock(&g_mu);
}

/* The node's other live sender that is not closing: its new instance
 * (one node runs on one worker thread, so it is used on this thread). */
static otf_exph_t *heir_of(otf_exph_t *h)
{
	otf_exph_t *found = NULL;
	pthread_mutex_lock(&g_mu);
	for (otf_exph_t *x = g_live; x; x = x->live_next)
		if (x != h && x->node == h->node && !x->closing) {
			found = x;
			break;
		}
	pthread_mutex_unlock(&g_mu);
	return found;
}

bool otf__exph_pass(otf_exph_t *h, otf_exph_req_t *r)
{
	otf_exph_t *heir = heir_of(h);
	if (!heir || !heir->store || !h->store || !r->wal_id || r->sync_wait ||
	    otf__exph_store_open(heir->store, heir->node, r->signal) ||
	    heir->store->wal[r->signal] != h->store->wal[r->signal])
		return false;
	otf_msg_t *m = r->msg;
	if (!m && !(m = otf_msg_create(h->node, r->signal, otf_buf_ref(r->payload), r->items)))
		return false;
	if (otf_node_requeue(h->node, m)) {
		if (m != r->msg)
			otf_msg_drop(m);
		return false;
	}
	if (r->state != ST_QUEUED)
		h->busy--; /* in flight or waiting: counted as taken */
	otf__exph_queue_release(&h->q, r->size);
	/* What this instance's transport made for it is its own. */
	if (r->xdata && h->ops.release)
		h->ops.release(h->ctx, r);
	r->xdata = NULL;
	otf_buf_unref(r->body);
	r->body = NULL;
	r->hand_msg = m;
	r->next = heir->adopt;
	heir->adopt = r;
	return true;
}

bool otf__exph_adopt(otf_exph_t *h, otf_msg_t *m)
{
	otf_exph_req_t **pp = &h->adopt;
	while (*pp && (*pp)->hand_msg != m)
		pp = &(*pp)->next;
	otf_exph_req_t *r = *pp;
	if (!r)
		return false;
	*pp = r->next;
	r->next = r->prev = NULL;
	r->hand_msg = NULL;
	if (r->msg != m)
		otf_msg_ack(m); /* made for the passing: nobody waits for it */
	r->size = otf__exph_size_of(h, r->items, r->payload);
	r->state = ST_QUEUED;
	r->attempts = 0;
	r->retry_after_ns = 0;
	if (r->msg && h->ops.capture && h->ops.capture(h->ctx, r, r->msg)) {
		/* Retried without them: a replayed request's headers are
		 * made at its attempt (from the record's metadata). */
		if (r->xdata && h->ops.release)
			h->ops.release(h->ctx, r);
		r->xdata = NULL;
	}
	otf__exph_admit(h, r);
	return true;
}

void otf__exph_forget_adopted(otf_exph_t *h)
{
	while (h->adopt) {
		otf_exph_req_t *r = h->adopt;
		h->adopt = r->next;
		/* Its message was in the node's channel: the engine's to drop.
		 * Its record stays for the next run. */
		otf_buf_unref(r->payload);
		otf_buf_unref(r->meta);
		otf_free(r->slices);
		otf_free(r);
	}
}

/* The node is rebuilt (a new endpoint): what is queued or waiting for a
 * retry goes to the new instance instead of a last attempt here, so the
 * sending queue's content survives the change. A request acknowledged
 * early (its message gone) travels as a new message of its payload. With
 * storage the request moves with its record (otf__exph_pass above). */
void otf__exph_hand_over_list(otf_exph_t *h, otf_exph_req_t *r)
{
	while (r) {
		otf_exph_req_t *nx = r->next;
		if (h->store) {
			/* Its record goes with it. */
			r->next = NULL;
			if (otf__exph_pass(h, r)) {
			} else if (r->state == ST_QUEUED) {
				otf__exph_queue_push(&h->q, r);
			} else if (h->closing) {
				/* Its last attempt failed: the record stays
				 * on disk for the next run. */
				otf__exph_finish(
				    h, r, OTF_EXPH_RETRYABLE, OTF_E_IO,
				    "exporter shutting down: the new instance could not take "
				    "the request");
			} else {
				otf__exph_list_add(&h->waiting, r);
			}
			r = nx;
			continue;
		}
		otf_msg_t *m = r->msg;
		if (!m)
			m = otf_msg_create(h->node, r->signal, otf_buf_ref(r->payload), r->items);
		if (m && otf_node_requeue(h->node, m) == 0) {
			if (r->state != ST_QUEUED)
				h->busy--; /* a retry's wait counts as taken */
			r->msg = NULL;
			otf__exph_queue_release(&h->q, r->size);
			r->next = NULL;
			otf__exph_free_list(h, r);
		} else {
			if (m && m != r->msg)
				otf_msg_drop(m);
			/* Kept where it was: it gets its last attempt here. */
			if (r->state == ST_QUEUED)
				otf__exph_queue_push(&h->q, r);
			else
				otf__exph_list_add(&h->waiting, r);
		}
		r = nx;
	}
}

void otf__exph_hand_over(otf_exph_t *h)
{
	h->handed_over = true;
	otf_exph_req_t *list = NULL, *r;
	while ((r = otf__exph_queue_pop(&h->q)) != NULL) {
		r->next = list;
		list = r;
	}
	while ((r = h->waiting) != NULL) {
		otf__exph_list_del(&h->waiting, r);
		r->next = list;
		list = r;
	}
	otf__exph_hand_over_list(h, list);
}
