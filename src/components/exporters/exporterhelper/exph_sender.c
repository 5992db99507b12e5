/* The sender behind the OTLP exporters (exporterhelper.h): consumers,
 * retries with backoff, deadlines, outcomes, timers, shutdown. What comes
 * into the queue (consume, block_on_overflow, the storage's group commit)
 * is exph_admit.c. */
#include "exporterhelper.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/storage.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "exph_sender_internal.h"

static double rnd01(otf_exph_t *h)
{
	/* xorshift64*: jitter only, no need for more. */
	h->rng ^= h->rng >> 12;
	h->rng ^= h->rng << 25;
	h->rng ^= h->rng >> 27;
	return (double)((h->rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static void list_add(otf_exph_req_t **head, otf_exph_req_t *r)
{
	r->prev = NULL;
	r->next = *head;
	if (*head)
		(*head)->prev = r;
	*head = r;
}

static void list_del(otf_exph_req_t **head, otf_exph_req_t *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		*head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

static uint64_t size_of(const otf_exph_t *h, uint64_t items, const otf_buf_t *payload)
{
	return h->sizer == OTF_EXPH_SIZER_ITEMS   ? items
	       : h->sizer == OTF_EXPH_SIZER_BYTES ? payload->len
	                                          : 1;
}

uint64_t otf__exph_size_of(const otf_exph_t *h, uint64_t items, const otf_buf_t *payload)
{
	return size_of(h, items, payload);
}

/* A request from the previous run, on disk and acknowledged upstream back
 * then: queued past the budget if need be (it was within it when taken). */
static void on_replayed(void *ctx, otf_signal_t sig, uint64_t id, uint64_t items,
                        otf_buf_t *payload, otf_buf_t *meta)
{
	otf_exph_t *h = ctx;
	otf_exph_req_t *r = payload ? otf_calloc(1, sizeof *r) : NULL;
	if (!r) {
		otf_buf_unref(payload);
		otf_buf_unref(meta);
		otf__exph_store_settle(h->store, sig, id);
		otf_node_count(h->node, OTF_COUNTER_SEND_FAILED, sig, items);
		return;
	}
	r->payload = payload;
	r->meta = meta;
	r->signal = sig;
	r->items = items;
	r->size = size_of(h, items, payload);
	r->state = ST_QUEUED;
	r->wal_id = id;
	otf__exph_queue_force(&h->q, r->size);
	otf__exph_queue_push(&h->q, r);
}

otf_exph_t *otf__exph_create(otf_node_t *node, const otf_exph_retry_config_t *retry,
                             const otf_exph_queue_config_t *queue, int64_t timeout_ns,
                             const otf_exph_ops_t *ops, void *ctx)
{
	otf_exph_t *h = otf_calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->node = node;
	h->loop = otf_node_loop(node);
	h->retry = *retry;
	h->wait_for_result = queue->enabled ? queue->wait_for_result : true;
	h->queue_enabled = queue->enabled;
	h->max_busy = (uint64_t)(queue->num_consumers > 0 ? queue->num_consumers : 1);
	h->timeout_ms = timeout_ns > 0 ? (uint64_t)(timeout_ns + 999999) / 1000000 : 0;
	h->ops = *ops;
	h->ctx = ctx;
	h->block_on_overflow = queue->enabled && queue->block_on_overflow;
	if (queue->enabled) {
		h->sizer = queue->sizer;
		otf__exph_queue_init(&h->q, (uint64_t)queue->queue_size);
	} else {
		/* No waiting line: only what the consumers can take. */
		h->sizer = OTF_EXPH_SIZER_REQUESTS;
		otf__exph_queue_init(&h->q, h->max_busy);
	}
	h->rng = uv_hrtime() ^ (uint64_t)(uintptr_t)h ^ 0x9e3779b97f4a7c15ull;
	if (!h->rng)
		h->rng = 1;
	if (queue->enabled) {
		const char *id = strchr(otf_node_name(node), ':');
		otf__exph_queue_gauges_attach(&h->q, id ? id + 1 : otf_node_name(node));
	}
	if (queue->enabled && queue->storage && queue->storage[0]) {
		h->store = otf_calloc(1, sizeof *h->store);
		if (!h->store || otf__exph_store_init(h->store, node, queue->storage)) {
			otf__exph_queue_gauges_detach(&h->q);
			otf_free(h->store);
			otf_free(h);
			return NULL;
		}
		otf__exph_store_replay(h->store, node, on_replayed, h);
		/* Sent once the exporter finished its own create. */
		if (h->q.len)
			otf__exph_arm_timer(h, uv_now(h->loop));
	}
	otf__exph_live_add(h);
	/* The receivers know the room before the first burst, not after. */
	otf__exph_publish_budget(h);
	return h;
}

static void check_drained(otf_exph_t *h)
{
	if (!h->closing || h->drained || h->q.len || h->busy || h->blocked)
		return;
	h->drained = true;
	if (h->ops.drained)
		h->ops.drained(h->ctx);
	else
		otf_node_shutdown_done(h->node);
}

/* The request's final outcome: acknowledge, release, free. */
static void finish(otf_exph_t *h, otf_exph_req_t *r, otf_exph_outcome_t o, int error,
                   const char *reason)
{
	if (r->state != ST_QUEUED)
		h->busy--;
	otf__exph_queue_release(&h->q, r->size);
	if (r->sync_wait)
		otf__exph_sync_unlink(h, r);
	/* On disk until sent or failed for good: a retryable failure because
	 * the exporter is stopping leaves it for the next run. */
	if (r->wal_id && !(h->closing && o == OTF_EXPH_RETRYABLE))
		otf__exph_store_settle(h->store, r->signal, r->wal_id);
	if (o != OTF_EXPH_OK)
		otf_node_count(h->node,
		               r->cancelled ? OTF_COUNTER_CANCELLED : OTF_COUNTER_SEND_FAILED,
		               r->signal, r->items);
	if (r->msg) {
		if (o == OTF_EXPH_OK)
			otf_msg_ack(r->msg);
		else if (o == OTF_EXPH_RETRYABLE && r->retry_after_ns)
			otf_msg_nack_throttled(r->msg, error ? error : OTF_E_IO, r->retry_after_ns,
			                       reason);
		else
			otf_msg_nack(r->msg, error ? error : OTF_E_IO, o == OTF_EXPH_PERMANENT,
			             reason);
	}
	if (r->xdata && h->ops.release)
		h->ops.release(h->ctx, r);
	otf_buf_unref(r->payload);
	otf_buf_unref(r->body);
	otf_buf_unref(r->meta);
	otf_free(r->slices);
	otf_free(r);
	otf__exph_admit_blocked(h);
	otf__exph_dispatch(h);
	otf__exph_publish_budget(h);
	check_drained(h);
}

void otf__exph_finish(otf_exph_t *h, otf_exph_req_t *r, otf_exph_outcome_t o, int error,
                      const char *reason)
{
	finish(h, r, o, error, reason);
}

void otf__exph_list_del(otf_exph_req_t **head, otf_exph_req_t *r)
{
	list_del(head, r);
}

void otf__exph_list_add(otf_exph_req_t **head, otf_exph_req_t *r)
{
	list_add(head, r);
}

void otf__exph_arm_timer(otf_exph_t *h, uint64_t due_ms)
{
	if (h->timer_id > 0 && h->timer_due_ms <= due_ms)
		return;
	if (h->timer_id > 0)
		otf_node_timer_stop(h->node, h->timer_id);
	uint64_t now = uv_now(h->loop);
	int64_t id =
	    otf_node_timer_start(h->node, due_ms > now ? due_ms - now : 1, 0, OTF_EXPH_TIMER_TOKEN);
	h->timer_id = id > 0 ? id : 0;
	h->timer_due_ms = due_ms;
}

static void retry_later(otf_exph_t *h, otf_exph_req_t *r, const otf_exph_result_t *res)
{
	const char *why = res->reason[0] ? res->reason : otf_strerror(res->error);
	char msg[256];
	r->retry_after_ns = res->retry_after_ns;
	if (r->deadline_ms && uv_now(h->loop) >= r->deadline_ms) {
		/* The attempt was cut at the message's deadline. */
		snprintf(msg, sizeof msg, "deadline exceeded: %s", why);
		finish(h, r, OTF_EXPH_RETRYABLE, -ETIMEDOUT, msg);
		return;
	}
	if (h->closing && h->handed_over && h->retry.enabled) {
		/* In flight when the node was rebuilt: its retry is the new
		 * instance's (a new endpoint), not a loss here. */
		r->next = NULL;
		otf__exph_hand_over_list(h, r);
		check_drained(h);
		return;
	}
	if (h->closing || !h->retry.enabled) {
		snprintf(msg, sizeof msg, "%s%s", h->closing ? "exporter shutting down: " : "",
		         why);
		finish(h, r, OTF_EXPH_RETRYABLE, res->error, msg);
		return;
	}
	uint64_t now = uv_now(h->loop);
	int64_t delay = otf__exph_backoff_next(&r->backoff, &h->retry, now * 1000000ull, rnd01(h));
	if (delay < 0) {
		snprintf(msg, sizeof msg, "no more retries left after %u attempts: %s", r->attempts,
		         why);
		otf_node_log(h->node, OTF_LOG_ERROR, "Exporting failed, dropping %llu %s: %s",
		             (unsigned long long)r->items, otf_signal_name(r->signal), msg);
		finish(h, r, OTF_EXPH_RETRYABLE, res->error, msg);
		return;
	}
	/* The Collector's retry sender: max(backoff, throttle delay), not
	 * capped by max_interval. */
	if (res->retry_after_ns > (uint64_t)delay)
		delay = (int64_t)res->retry_after_ns;
	uint64_t delay_ms = ((uint64_t)delay + 999999) / 1000000;
	if (r->deadline_ms && now + delay_ms >= r->deadline_ms) {
		snprintf(msg, sizeof msg, "request will be cancelled before next retry: %s", why);
		finish(h, r, OTF_EXPH_RETRYABLE, -ETIMEDOUT, msg);
		return;
	}
	otf_node_log(h->node, OTF_LOG_INFO,
	             "Exporting failed. Will retry the request after interval. error=\"%s\" "
	             "interval=%llums",
	             why, (unsigned long long)delay_ms);
	r->state = ST_WAITING;
	r->due_ms = now + delay_ms;
	list_add(&h->waiting, r);
	otf__exph_arm_timer(h, r->due_ms);
}

/* capture for a request replayed from storage: a message made for the
 * call carries the metadata of its record (none for a version 1 record),
 * so headers_setter's from_context finds what the client sent. */
static int capture_replayed(otf_exph_t *h, otf_exph_req_t *r)
{
	otf_qrec_t q;
	if (!r->meta || otf_qrec_parse(r->meta->data, r->meta->len, &q) || !q.nmeta)
		return h->ops.capture(h->ctx, r, NULL);
	otf_msg_t *m = otf_msg_create(h->node, r->signal, otf_buf_ref(r->payload), r->items);
	if (!m)
		return OTF_E_NOMEM;
	otf_qrec_entry_t e;
	char stack[512];
	int rc = 0;
	for (size_t off = 0; !rc && otf_qrec_meta_next(&q, &off, &e);) {
		size_t need = (size_t)e.key_len + e.value_len + 2;
		char *kv = need <= sizeof stack ? stack : otf_malloc(need);
		if (!kv) {
			rc = OTF_E_NOMEM;
			break;
		}
		memcpy(kv, e.key, e.key_len);
		kv[e.key_len] = 0;
		memcpy(kv + e.key_len + 1, e.value, e.value_len);
		kv[e.key_len + 1 + e.value_len] = 0;
		rc = otf_msg_header_add(m, kv, kv + e.key_len + 1);
		if (kv != stack)
			otf_free(kv);
	}
	if (!rc)
		rc = h->ops.capture(h->ctx, r, m);
	otf_msg_drop(m);
	return rc;
}

/* One attempt of a request already counted in busy. */
static void attempt(otf_exph_t *h, otf_exph_req_t *r)
{
	uint64_t now = uv_now(h->loop);
	if (r->msg_id && otf_node_msg_cancelled(h->node, r->msg_id)) {
		r->cancelled = true; /* CAN: a send not yet started is skipped */
		finish(h, r, OTF_EXPH_PERMANENT, -ECANCELED, "cancelled before sending");
		return;
	}
	if (r->nslices && otf__exph_cut_cancelled(h, r)) {
		r->cancelled = true; /* every input of the batch was cancelled */
		finish(h, r, OTF_EXPH_PERMANENT, -ECANCELED, "cancelled before sending");
		return;
	}
	if (r->deadline_ms && now >= r->deadline_ms) {
		finish(h, r, OTF_EXPH_RETRYABLE, -ETIMEDOUT, "deadline exceeded before sending");
		return;
	}
	if (!r->attempts)
		otf__exph_backoff_reset(&r->backoff, &h->retry, now * 1000000ull);
	/* A request replayed from storage has no captured headers yet: the
	 * exporter's and the authenticator's are made now, from the client
	 * metadata stored with its record. */
	if (r->wal_id && !r->xdata && h->ops.capture) {
		int rc = capture_replayed(h, r);
		if (rc) {
			otf_exph_result_t res = {.outcome = OTF_EXPH_RETRYABLE, .error = rc};
			snprintf(res.reason, sizeof res.reason,
			         "request headers could not be made: %s", otf_strerror(rc));
			r->attempts++;
			retry_later(h, r, &res);
			return;
		}
	}
	uint64_t timeout = h->timeout_ms;
	if (r->deadline_ms && (!timeout || r->deadline_ms - now < timeout))
		timeout = r->deadline_ms - now;
	r->attempts++;
	r->state = ST_INFLIGHT;
	list_add(&h->inflight, r);
	otf_exph_result_t res;
	memset(&res, 0, sizeof res);
	int rc = h->ops.send(h->ctx, r, timeout, &res);
	if (rc) {
		list_del(&h->inflight, r);
		res.error = res.error ? res.error : rc;
		if (!res.reason[0])
			snprintf(res.reason, sizeof res.reason, "send failed: %s",
			         otf_strerror(rc));
		if (res.outcome == OTF_EXPH_PERMANENT) {
			otf_node_log(h->node, OTF_LOG_ERROR, "Dropping %llu %s: %s",
			             (unsigned long long)r->items, otf_signal_name(r->signal),
			             res.reason);
			finish(h, r, OTF_EXPH_PERMANENT, res.error, res.reason);
			return;
		}
		res.outcome = OTF_EXPH_RETRYABLE;
		retry_later(h, r, &res);
	}
}

void otf__exph_dispatch(otf_exph_t *h)
{
	if (h->in_dispatch)
		return;
	h->in_dispatch = true;
	while (h->busy < h->max_busy && h->q.len) {
		otf_exph_req_t *r = otf__exph_queue_pop(&h->q);
		h->busy++;
		r->state = ST_INFLIGHT; /* counted in busy from here on */
		attempt(h, r);
	}
	h->in_dispatch = false;
}

void otf__exph_done(otf_exph_t *h, otf_exph_req_t *r, const otf_exph_result_t *res)
{
	list_del(&h->inflight, r);
	r->tdata = NULL;
	if (res->outcome == OTF_EXPH_OK) {
		uint64_t rej = res->rejected > r->items ? r->items : res->rejected;
		if (rej || res->reason[0])
			otf_node_log(h->node, OTF_LOG_WARN,
			             "partial success: %llu of %llu %s rejected by the server: %s",
			             (unsigned long long)rej, (unsigned long long)r->items,
			             otf_signal_name(r->signal), res->reason);
		otf_node_count(h->node, OTF_COUNTER_SENT, r->signal, r->items - rej);
		if (rej)
			otf_node_count(h->node, OTF_COUNTER_SEND_FAILED, r->signal, rej);
		otf_node_recovered(h->node); /* ERR: the backend answers again */
		finish(h, r, OTF_EXPH_OK, 0, NULL);
		return;
	}
	/* ERR: a refused request is about its data (status unchanged); a
	 * retryable failure means the backend is unreachable or overloaded. */
	if (res->outcome == OTF_EXPH_PERMANENT)
		otf_node_error(h->node, OTF_ERR_DATA, "export_rejected", "%s", res->reason);
	else
		otf_node_error(h->node, OTF_ERR_RECOVERABLE, "export_failed", "%s",
		               res->reason[0] ? res->reason : otf_strerror(res->error));
	if (res->outcome == OTF_EXPH_PERMANENT) {
		otf_node_log(h->node, OTF_LOG_ERROR,
		             "Exporting failed. The error is not retryable. Dropping %llu %s: %s",
		             (unsigned long long)r->items, otf_signal_name(r->signal), res->reason);
		finish(h, r, OTF_EXPH_PERMANENT, res->error, res->reason);
		return;
	}
	retry_later(h, r, res);
}

/* Requests whose deadline passed while queued are nacked (-ETIMEDOUT)
 * now rather than when they reach the head: nobody waits for them. The
 * earliest deadline still queued, 0 = none. A walk of the queue per
 * timer: queues are bounded by sending_queue.queue_size. */
static uint64_t expire_queued(otf_exph_t *h, uint64_t now)
{
	otf_exph_req_t *dead = NULL, *r = h->q.head;
	uint64_t next = 0;
	while (r) {
		otf_exph_req_t *nx = r->next;
		if (r->deadline_ms && r->deadline_ms <= now) {
			otf__exph_queue_remove(&h->q, r);
			r->next = dead;
			dead = r;
		} else if (r->deadline_ms && (!next || r->deadline_ms < next)) {
			next = r->deadline_ms;
		}
		r = nx;
	}
	while (dead) {
		r = dead;
		dead = r->next;
		r->next = NULL;
		finish(h, r, OTF_EXPH_RETRYABLE, -ETIMEDOUT,
		       "deadline exceeded in the sending queue");
	}
	return next;
}

static void on_timer(otf_exph_t *h)
{
	h->timer_id = 0;
	uint64_t now = uv_now(h->loop), next = 0;
	otf_exph_req_t *r = h->waiting;
	/* Due requests are moved first, then attempted: an attempt can
	 * finish and free requests, so the walk must not hold pointers. */
	otf_exph_req_t *due = NULL;
	while (r) {
		otf_exph_req_t *nx = r->next;
		if (r->due_ms <= now || h->closing) {
			list_del(&h->waiting, r);
			r->next = due;
			due = r;
		} else if (!next || r->due_ms < next) {
			next = r->due_ms;
		}
		r = nx;
	}
	uint64_t bnext = otf__exph_expire_blocked(h, now);
	if (bnext && (!next || bnext < next))
		next = bnext;
	uint64_t qnext = expire_queued(h, now);
	if (qnext && (!next || qnext < next))
		next = qnext;
	if (next)
		otf__exph_arm_timer(h, next);
	while (due) {
		r = due;
		due = r->next;
		r->next = NULL;
		attempt(h, r);
	}
	otf__exph_dispatch(h); /* requests replayed at create */
}

bool otf__exph_control(otf_exph_t *h, const otf_ctrl_t *c)
{
	if (c->type == OTF_CTRL_CAN) {
		otf__exph_cancel(h, c->msg_id, c->reason[0] ? c->reason : "cancelled");
		return true;
	}
	if (c->type == OTF_CTRL_TMR && c->calldata == OTF_EXPH_TIMER_TOKEN) {
		on_timer(h);
		return true;
	}
	if (c->type == OTF_CTRL_TMR && c->calldata == OTF_EXPH_SYNC_TOKEN) {
		if (h->store)
			otf__exph_on_sync(h, false);
		return true;
	}
	if (c->type == OTF_CTRL_KIL) {
		if (h->closing)
			return true;
		if (c->calldata == OTF_KIL_HANDOVER) {
			if (h->store && h->sync_timer > 0) {
				/* Answered first: a request handed over is on
				 * no list of this instance's. */
				otf_node_timer_stop(h->node, h->sync_timer);
				otf__exph_on_sync(h, true);
			}
			otf__exph_hand_over(h);
		}
		/* Stop accepting; send what is queued, once each, until the
		 * engine's shutdown deadline: requests waiting for a retry get
		 * their last attempt now. */
		h->closing = true;
		if (h->sync_timer > 0) {
			otf_node_timer_stop(h->node, h->sync_timer);
			otf__exph_on_sync(h, true); /* every waiting client answered now */
		}
		if (h->timer_id > 0)
			otf_node_timer_stop(h->node, h->timer_id);
		h->timer_id = 0;
		on_timer(h); /* also refuses the messages waiting for room */
		otf__exph_dispatch(h);
		check_drained(h);
		return true;
	}
	return false;
}

void otf__exph_each_inflight(otf_exph_t *h, otf_exph_each_cb cb, void *ctx)
{
	for (otf_exph_req_t *r = h->inflight; r; r = r->next)
		cb(ctx, r);
}

size_t otf__exph_queued(const otf_exph_t *h)
{
	return h->q.len + h->busy;
}

void otf__exph_free_list(otf_exph_t *h, otf_exph_req_t *r)
{
	while (r) {
		otf_exph_req_t *nx = r->next;
		if (r->msg)
			otf_msg_drop(r->msg);
		if (r->xdata && h->ops.release)
			h->ops.release(h->ctx, r);
		otf_buf_unref(r->payload);
		otf_buf_unref(r->body);
		otf_buf_unref(r->meta);
		otf_free(r->slices);
		otf_free(r);
		r = nx;
	}
}

void otf__exph_destroy(otf_exph_t *h)
{
	if (!h)
		return;
	otf__exph_live_del(h);
	otf__exph_forget_adopted(h);
	otf__exph_free_list(h, h->q.head);
	otf__exph_free_list(h, h->inflight);
	otf__exph_free_list(h, h->waiting);
	otf__exph_queue_gauges_detach(&h->q);
	while (h->blocked) {
		blocked_t *b = h->blocked;
		h->blocked = b->next;
		otf_msg_drop(b->msg);
		otf_free(b);
	}
	if (h->store) {
		otf__exph_store_close(h->store);
		otf_free(h->store);
	}
	otf_free(h);
}
