/* The sender behind the OTLP exporters (exporterhelper.h): queue, consumers,
 * retries with backoff, deadlines, acknowledgements, shutdown. */
#include "exporterhelper.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <uv.h>

enum { ST_QUEUED = 1, ST_INFLIGHT, ST_WAITING };

struct otf_exph {
	otf_node_t *node;
	uv_loop_t *loop;
	otf_exph_retry_config_t retry;
	bool wait_for_result;
	int sizer;
	uint64_t max_busy;   /* num_consumers */
	uint64_t timeout_ms; /* per attempt; 0 = none */
	otf_exph_ops_t ops;
	void *ctx;
	otf_exph_queue_t q;
	otf_exph_req_t *inflight, *waiting;
	uint64_t busy; /* requests taken from the FIFO and not finished */
	int64_t timer_id;
	uint64_t timer_due_ms;
	uint64_t rng;
	bool closing;
	bool drained;
	bool in_dispatch;
};

static void dispatch(otf_exph_t *h);

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
	h->max_busy = (uint64_t)(queue->num_consumers > 0 ? queue->num_consumers : 1);
	h->timeout_ms = timeout_ns > 0 ? (uint64_t)(timeout_ns + 999999) / 1000000 : 0;
	h->ops = *ops;
	h->ctx = ctx;
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
	return h;
}

static void check_drained(otf_exph_t *h)
{
	if (!h->closing || h->drained || h->q.len || h->busy)
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
	if (o != OTF_EXPH_OK)
		otf_node_count(h->node, OTF_COUNTER_SEND_FAILED, r->signal, r->items);
	if (r->msg) {
		if (o == OTF_EXPH_OK)
			otf_msg_ack(r->msg);
		else
			otf_msg_nack(r->msg, error ? error : OTF_E_IO, o == OTF_EXPH_PERMANENT,
			             reason);
	}
	otf_buf_unref(r->payload);
	otf_buf_unref(r->body);
	otf_free(r);
	dispatch(h);
	check_drained(h);
}

static void arm_timer(otf_exph_t *h, uint64_t due_ms)
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
	if (res->retry_after_ns > (uint64_t)delay)
		delay = (int64_t)res->retry_after_ns;
	uint64_t delay_ms = ((uint64_t)delay + 999999) / 1000000;
	if (r->deadline_ms && now + delay_ms >= r->deadline_ms) {
		snprintf(msg, sizeof msg, "request will be cancelled before next retry: %s", why);
		finish(h, r, OTF_EXPH_RETRYABLE, res->error, msg);
		return;
	}
	otf_node_log(h->node, OTF_LOG_INFO,
	             "Exporting failed. Will retry the request after interval. error=\"%s\" "
	             "interval=%llums",
	             why, (unsigned long long)delay_ms);
	r->state = ST_WAITING;
	r->due_ms = now + delay_ms;
	list_add(&h->waiting, r);
	arm_timer(h, r->due_ms);
}

/* One attempt of a request already counted in busy. */
static void attempt(otf_exph_t *h, otf_exph_req_t *r)
{
	uint64_t now = uv_now(h->loop);
	if (r->deadline_ms && now >= r->deadline_ms) {
		finish(h, r, OTF_EXPH_RETRYABLE, OTF_E_IO, "deadline exceeded before sending");
		return;
	}
	if (!r->attempts)
		otf__exph_backoff_reset(&r->backoff, &h->retry, now * 1000000ull);
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

static void dispatch(otf_exph_t *h)
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

void otf__exph_consume(otf_exph_t *h, otf_msg_t *m)
{
	otf_signal_t s = otf_msg_signal(m);
	uint64_t items = otf_msg_items(m);
	otf_buf_t *p = otf_msg_payload(m);
	if (h->closing) {
		otf_node_count(h->node, OTF_COUNTER_SEND_FAILED, s, items);
		otf_msg_nack(m, -EAGAIN, false, "exporter shutting down");
		return;
	}
	uint64_t size = h->sizer == OTF_EXPH_SIZER_ITEMS   ? items
	                : h->sizer == OTF_EXPH_SIZER_BYTES ? p->len
	                                                   : 1;
	if (otf__exph_queue_reserve(&h->q, size)) {
		otf_node_count(h->node, OTF_COUNTER_SEND_FAILED, s, items);
		otf_msg_nack(m, -EAGAIN, false, "sending queue is full");
		return;
	}
	otf_exph_req_t *r = otf_calloc(1, sizeof *r);
	if (!r) {
		otf__exph_queue_release(&h->q, size);
		otf_node_count(h->node, OTF_COUNTER_SEND_FAILED, s, items);
		otf_msg_nack(m, OTF_E_NOMEM, false, "out of memory");
		return;
	}
	r->payload = otf_buf_ref(p);
	r->signal = s;
	r->items = items;
	r->size = size;
	r->state = ST_QUEUED;
	uint64_t dl = otf_msg_deadline(m);
	if (dl) {
		struct timespec ts;
		uint64_t now_ns = 0;
		if (!clock_gettime(CLOCK_REALTIME, &ts))
			now_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		uint64_t left_ms = dl > now_ns ? (dl - now_ns) / 1000000 : 0;
		r->deadline_ms = uv_now(h->loop) + (left_ms ? left_ms : 1);
	}
	if (h->wait_for_result)
		r->msg = m;
	else
		otf_msg_ack(m);
	otf__exph_queue_push(&h->q, r);
	dispatch(h);
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
		finish(h, r, OTF_EXPH_OK, 0, NULL);
		return;
	}
	if (res->outcome == OTF_EXPH_PERMANENT) {
		otf_node_log(h->node, OTF_LOG_ERROR,
		             "Exporting failed. The error is not retryable. Dropping %llu %s: %s",
		             (unsigned long long)r->items, otf_signal_name(r->signal), res->reason);
		finish(h, r, OTF_EXPH_PERMANENT, res->error, res->reason);
		return;
	}
	retry_later(h, r, res);
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
	if (next)
		arm_timer(h, next);
	while (due) {
		r = due;
		due = r->next;
		r->next = NULL;
		attempt(h, r);
	}
}

bool otf__exph_control(otf_exph_t *h, const otf_ctrl_t *c)
{
	if (c->type == OTF_CTRL_TMR && c->calldata == OTF_EXPH_TIMER_TOKEN) {
		on_timer(h);
		return true;
	}
	if (c->type == OTF_CTRL_KIL) {
		if (h->closing)
			return true;
		/* Stop accepting; send what is queued, once each, until the
		 * engine's shutdown deadline: requests waiting for a retry get
		 * their last attempt now. */
		h->closing = true;
		if (h->timer_id > 0)
			otf_node_timer_stop(h->node, h->timer_id);
		h->timer_id = 0;
		on_timer(h);
		dispatch(h);
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

static void free_list(otf_exph_req_t *r)
{
	while (r) {
		otf_exph_req_t *nx = r->next;
		if (r->msg)
			otf_msg_drop(r->msg);
		otf_buf_unref(r->payload);
		otf_buf_unref(r->body);
		otf_free(r);
		r = nx;
	}
}

void otf__exph_destroy(otf_exph_t *h)
{
	if (!h)
		return;
	free_list(h->q.head);
	free_list(h->inflight);
	free_list(h->waiting);
	otf_free(h);
}
