/* processor `batch`: merges requests into batches of send_batch_size items
 * (spans, data points, log records), sent when the size is reached or
 * `timeout` after the first item arrived, split so that none exceeds
 * send_batch_max_size; one batch per signal and per worker (each worker
 * runs its own instance). Settings and defaults are the Collector's
 * (processor/batchprocessor).
 *
 * Merging needs no decoding: an Export*ServiceRequest is only `repeated
 * Resource* = 1`, so the concatenation of requests is the request holding
 * all their resource groups, in order (the Collector's batch processor
 * appends resource groups the same way, without merging equal resources).
 * Only a request cut by send_batch_max_size is walked and re-framed
 * (batch_split.c).
 *
 * Memory: the pending requests of a signal are appended, as they arrive,
 * to one buffer that becomes the next batch (sized from the previous
 * batch, or from send_batch_size items at the bytes per item seen, so it
 * is not regrown on the way), and each request's own payload is released
 * at once (otf_msg_release_payload; kept when a node upstream asked for
 * it back): a worker holds each pending byte once, never the inputs and
 * the batch made of them together. A request arriving alone is kept by
 * reference, so one that fills a batch by itself is sent without a copy.
 *
 * Acknowledgements: every original request is kept (its message, for the
 * answer, and how many of its items are not batched yet) and listed in
 * each batch holding a part of it. The batch
 * processor subscribes to the outgoing batch; on ACK, an original whose
 * parts are all placed and acknowledged is acked; on NACK its originals
 * are nacked at once with the same error, permanence and reason (their
 * unsent rest is dropped, so a client retry does not duplicate it).
 *
 * Bounded: when downstream refuses (otf_node_send -EAGAIN) the built batch
 * waits in an outbox and is retried every few milliseconds, in order;
 * while it waits, input that would take pending + waiting items past
 * max_pending_items is refused as retryable, so memory stays flat and the
 * backpressure reaches the receiver.
 *
 * Deadlines (otf_msg_deadline, the deadline processor): a request that
 * arrives past its deadline is nacked at once (-ETIMEDOUT); the batch is
 * flushed no later than half the time its most urgent request has left
 * (so the export gets the other half), and a built batch still waiting
 * in the outbox when one of its requests' deadline passes is nacked.
 *
 * Cancellation (CAN, otflow/component.h): a request whose client left
 * (or whose deadline the deadline processor expired) is taken out of the
 * pending queue before the batch is built: its items not yet in a batch
 * are dropped (counted as cancelled) and it is nacked -ECANCELED; the
 * other requests of that batch are sent as they would have been, and the
 * batch's sources name only what it carries. A part already in a built
 * batch (waiting in the outbox, or sent) is answered cancelled at once
 * too; each batch records where every request's part lies in it (source
 * slices), and the exporter's sending queue cuts the cancelled parts out
 * before it sends (exporterhelper: a send not yet started, a retry), or
 * drops the batch when nothing else is left in it.
 *
 * Shutdown: at KIL everything pending is sent; shutdown is reported once
 * the outbox is empty (the engine keeps exporters running until every
 * message is answered). Data arriving after KIL is sent at once. */
#include "batch_split.h"

#include "otflow/alloc.h"
#include "otflow/component.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"
#include "otflow/pdata_view.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#define RETRY_MS 5

static uint64_t now_unix_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_REALTIME, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

typedef struct batch_config {
	uint64_t send_batch_size;
	uint64_t send_batch_max_size;
	int64_t timeout_ns;
	uint64_t max_pending_items;
} batch_config_t;

typedef struct origin origin_t;
typedef struct batch_rec batch_rec_t;

/* An original request. */
struct origin {
	otf_msg_t *msg; /* NULL once answered */
	bool queued;    /* part of it not yet in a batch (in the pending queue) */
	uint64_t rest_items;
	size_t rest_len;         /* that part's bytes in its signal's acc */
	uint32_t outstanding;    /* batches holding a part, not answered yet */
	origin_t *next, *prev;   /* pending queue of its signal */
	origin_t *anext, *aprev; /* every live origin, for destroy */
};

/* A batch sent downstream (or waiting in the outbox). */
struct batch_rec {
	otf_msg_t *msg; /* while in the outbox; NULL once sent */
	uint64_t items;
	batch_rec_t *next, *prev; /* outbox or in-flight list */
	uint32_t n;
	origin_t *parts[];
};

typedef struct sigstate {
	origin_t *head, *tail;
	/* The queued origins' unbatched parts, back to back in queue order:
	 * the next batch. acc_own: written by this node (else it is the one
	 * queued request's payload, by reference, never written). */
	otf_buf_t *acc;
	bool acc_own;
	size_t last_len;                  /* bytes of the last batch built */
	uint64_t items;                   /* pending, not yet batched */
	uint32_t norigins;                /* in the queue */
	batch_rec_t *out_head, *out_tail; /* refused by downstream, in order */
	uint64_t out_items;
	int64_t timer;      /* flush timer id, 0 when none */
	uint64_t timer_due; /* its loop time (ms) */
} sigstate_t;

typedef struct batch {
	otf_node_t *node;
	const batch_config_t *cfg;
	uint64_t bound;
	sigstate_t sig[OTF_SIGNAL_COUNT];
	origin_t *all;
	batch_rec_t *inflight;
	int64_t retry_timer;
	bool killed, done;
} batch_t;

enum { TOKEN_RETRY = 100 };

static void list_push(batch_rec_t **head, batch_rec_t *r)
{
	r->prev = NULL;
	r->next = *head;
	if (*head)
		(*head)->prev = r;
	*head = r;
}

static void list_unlink(batch_rec_t **head, batch_rec_t *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		*head = r->next;
	if (r->next)
		r->next->prev = r->prev;
}

/* Takes o out of the pending queue; its bytes stay in acc (the caller
 * moves or cuts them). */
static void queue_unlink(sigstate_t *ss, origin_t *o)
{
	if (o->prev)
		o->prev->next = o->next;
	else
		ss->head = o->next;
	if (o->next)
		o->next->prev = o->prev;
	else
		ss->tail = o->prev;
	o->next = o->prev = NULL;
	ss->items -= o->rest_items;
	ss->norigins--;
	o->queued = false;
	o->rest_items = 0;
	o->rest_len = 0;
}

/* Drops o's unbatched part: out of the queue and its bytes out of acc. */
static void queue_remove(sigstate_t *ss, origin_t *o)
{
	size_t off = 0;
	for (origin_t *p = ss->head; p && p != o; p = p->next)
		off += p->rest_len;
	size_t len = o->rest_len;
	queue_unlink(ss, o);
	if (!ss->head) {
		otf_buf_unref(ss->acc);
		ss->acc = NULL;
	} else if (len) {
		/* Several origins: acc is this node's own buffer. */
		memmove(ss->acc->data + off, ss->acc->data + off + len, ss->acc->len - off - len);
		ss->acc->len -= len;
	}
}

static void origin_maybe_free(batch_t *b, origin_t *o)
{
	if (o->msg || o->queued || o->outstanding)
		return;
	if (o->aprev)
		o->aprev->anext = o->anext;
	else
		b->all = o->anext;
	if (o->anext)
		o->anext->aprev = o->aprev;
	otf_free(o);
}

/* The outcome of one batch reaches the originals it holds parts of. */
static void settle_rec(batch_t *b, otf_signal_t s, batch_rec_t *r, bool ok, int error,
                       bool permanent, const char *reason)
{
	for (uint32_t i = 0; i < r->n; i++) {
		origin_t *o = r->parts[i];
		o->outstanding--;
		if (!ok && o->msg) {
			if (o->queued)
				queue_remove(&b->sig[s], o);
			otf_msg_nack(o->msg, error, permanent, reason);
			o->msg = NULL;
		} else if (ok && o->msg && !o->queued && !o->outstanding) {
			otf_msg_ack(o->msg);
			o->msg = NULL;
		}
		origin_maybe_free(b, o);
	}
	otf_free(r);
}

static void check_done(batch_t *b)
{
	if (!b->killed || b->done)
		return;
	for (int s = 0; s < OTF_SIGNAL_COUNT; s++)
		if (b->sig[s].head || b->sig[s].out_head)
			return;
	b->done = true;
	otf_node_shutdown_done(b->node);
}

static void arm_retry(batch_t *b)
{
	if (b->retry_timer <= 0)
		b->retry_timer = otf_node_timer_start(b->node, RETRY_MS, 0, TOKEN_RETRY);
}

/* Sends the outbox of signal s in order until downstream refuses. */
static void drain_outbox(batch_t *b, otf_signal_t s)
{
	sigstate_t *ss = &b->sig[s];
	while (ss->out_head) {
		batch_rec_t *r = ss->out_head;
		uint64_t dl = otf_msg_deadline(r->msg);
		int rc = dl && dl <= now_unix_ns() ? -ETIMEDOUT : otf_node_send(b->node, r->msg);
		if (rc == -EAGAIN) {
			arm_retry(b);
			return;
		}
		ss->out_head = r->next;
		if (!ss->out_head)
			ss->out_tail = NULL;
		ss->out_items -= r->items;
		if (rc) {
			char reason[128];
			snprintf(reason, sizeof reason, "batch: cannot send: %s",
			         rc == -ETIMEDOUT ? "deadline exceeded waiting for downstream"
			                          : otf_strerror(rc));
			otf_msg_drop(r->msg);
			settle_rec(b, s, r, false, rc, false, reason);
			continue;
		}
		r->msg = NULL;
		list_push(&b->inflight, r);
	}
}

/* Capacity for acc once it holds len bytes of items items: the size of
 * the last batch (the steady state), else send_batch_size items at the
 * bytes per item seen, with room for one more request of req_len bytes
 * (the one that crosses send_batch_size); at least len. */
static size_t acc_capacity(const batch_t *b, const sigstate_t *ss, size_t len, uint64_t items,
                           size_t req_len)
{
	uint64_t want = b->cfg->send_batch_size;
	uint64_t per = items ? (len + items - 1) / items : len;
	uint64_t cap = len + (want > items ? (want - items) * per : 0) + req_len;
	if (ss->last_len && ss->last_len + req_len < cap)
		cap = ss->last_len + req_len;
	if (cap < len + req_len)
		cap = len + req_len;
	return (size_t)cap;
}

/* acc becomes a buffer of this node's own with room for at least len
 * bytes more: 0 or OTF_E_NOMEM (acc unchanged). */
static int acc_room(batch_t *b, sigstate_t *ss, size_t len, uint64_t items)
{
	otf_buf_t *a = ss->acc;
	if (ss->acc_own && a->cap - a->len >= len)
		return 0;
	size_t cap = acc_capacity(b, ss, a->len + len, ss->items + items, len);
	if (ss->acc_own) {
		/* Only when the requests grew past the estimate: by the bytes per
		 * item now, and by half at least, so a stream of growing requests
		 * is not copied once per request. */
		size_t half = (a->len + len) + (a->len + len) / 2;
		uint64_t want = b->cfg->send_batch_size, n_items = ss->items + items;
		uint64_t per = n_items ? (a->len + len + n_items - 1) / n_items : 1;
		cap = a->len + len + (want > n_items ? (want - n_items) * per : 0);
		if (cap < half)
			cap = half;
		otf_buf_t *n = otf_realloc(a, sizeof *n + cap);
		if (!n)
			return OTF_E_NOMEM;
		n->cap = cap;
		ss->acc = n;
		return 0;
	}
	otf_buf_t *n = otf_buf_create(cap);
	if (!n)
		return OTF_E_NOMEM;
	memcpy(n->data, a->data, a->len);
	n->len = a->len;
	otf_buf_unref(a);
	ss->acc = n;
	ss->acc_own = true;
	return 0;
}

/* acc without its first drop bytes, with ins (ins_len bytes, may be 0)
 * in their place, left items then pending: 0 or OTF_E_NOMEM (acc
 * unchanged). */
static int acc_replace_prefix(batch_t *b, sigstate_t *ss, size_t drop, const uint8_t *ins,
                              size_t ins_len, uint64_t left)
{
	otf_buf_t *a = ss->acc;
	size_t keep = a->len - drop;
	if (ss->acc_own && ins_len + keep <= a->cap) {
		memmove(a->data + ins_len, a->data + drop, keep);
		if (ins_len)
			memcpy(a->data, ins, ins_len);
		a->len = ins_len + keep;
		return 0;
	}
	otf_buf_t *n = otf_buf_create(acc_capacity(b, ss, ins_len + keep, left, 0));
	if (!n)
		return OTF_E_NOMEM;
	if (ins_len)
		memcpy(n->data, ins, ins_len);
	memcpy(n->data + ins_len, a->data + drop, keep);
	n->len = ins_len + keep;
	otf_buf_unref(a);
	ss->acc = n;
	ss->acc_own = true;
	return 0;
}

/* Takes up to take items (whole originals, cutting the last one) off the
 * front of the queue into one batch and queues it for sending. Returns
 * false when nothing could be built (out of memory). */
static bool build_one(batch_t *b, otf_signal_t s, uint64_t take)
{
	sigstate_t *ss = &b->sig[s];
	uint32_t cap = ss->norigins;
	batch_rec_t *r = otf_malloc(sizeof *r + cap * sizeof(origin_t *));
	otf_msg_slice_t *sl = otf_malloc(cap * sizeof *sl);
	if (!r || !sl) {
		otf_free(r);
		otf_free(sl);
		return false;
	}
	memset(r, 0, sizeof *r);
	uint64_t need = take, deadline = 0;
	size_t whole = 0; /* bytes of the origins placed whole: acc's prefix */
	uint32_t nwhole = 0;
	uint64_t placed = 0;
	origin_t *cut = NULL;
	otf_buf_t *h = NULL, *t = NULL;
	otf_view_counts_t hc = {0}, tc = {0};
	/* Find the cut first: nothing changes if the split fails for memory. */
	for (origin_t *o = ss->head; o && nwhole < cap; o = o->next) {
		if (o->rest_items <= need) {
			need -= o->rest_items;
			placed += o->rest_items;
			whole += o->rest_len;
			nwhole++;
			continue;
		}
		if (need == 0)
			break;
		int rc = otf__batch_split(s, ss->acc->data + whole, o->rest_len, need, &h, &t);
		if (!rc && (otf_view_count(s, h->data, h->len, &hc) ||
		            otf_view_count(s, t->data, t->len, &tc) || hc.records == 0 ||
		            tc.records == 0)) {
			otf_buf_unref(h);
			otf_buf_unref(t);
			rc = OTF_E_INVAL;
		}
		if (rc == OTF_E_NOMEM) {
			otf_free(r);
			otf_free(sl);
			return false;
		}
		if (rc) {
			/* Cannot cut here: send it whole, over the limit. */
			otf_node_log(b->node, OTF_LOG_WARN,
			             "cannot split a request (%s); sent whole", otf_strerror(rc));
			h = t = NULL;
			whole += o->rest_len;
			placed += o->rest_items;
			nwhole++;
		} else {
			cut = o;
			placed += hc.records;
		}
		break;
	}
	otf_buf_t *payload;
	if (whole == ss->acc->len) {
		/* All of it: acc is the batch (a request alone: its own payload,
		 * forwarded without a copy). */
		payload = ss->acc;
		ss->acc = NULL;
	} else {
		payload = otf_buf_create(whole + (h ? h->len : 0));
		if (payload) {
			memcpy(payload->data, ss->acc->data, whole);
			if (h)
				memcpy(payload->data + whole, h->data, h->len);
			payload->len = whole + (h ? h->len : 0);
		}
		if (!payload ||
		    acc_replace_prefix(b, ss, whole + (cut ? cut->rest_len : 0), t ? t->data : NULL,
		                       t ? t->len : 0, ss->items - placed)) {
			otf_buf_unref(payload);
			otf_buf_unref(h);
			otf_buf_unref(t);
			otf_free(r);
			otf_free(sl);
			return false;
		}
	}
	ss->last_len = payload->len;
	/* The parts: the origins placed whole, then the cut one's head; each
	 * one's bytes in payload (a slice) follow the previous one's. */
	uint64_t off = 0;
	while (ss->head && (r->n < nwhole || ss->head == cut)) {
		origin_t *o = ss->head;
		uint64_t got, len;
		if (o == cut) {
			got = hc.records;
			len = h->len;
			ss->items -= o->rest_items - tc.records;
			o->rest_items = tc.records;
			o->rest_len = t->len;
		} else {
			got = o->rest_items;
			len = o->rest_len;
			queue_unlink(ss, o);
		}
		sl[r->n] = (otf_msg_slice_t){otf_msg_id(o->msg), off, len, got};
		off += len;
		r->parts[r->n++] = o;
		o->outstanding++;
		r->items += got;
		uint64_t dl = otf_msg_deadline(o->msg);
		if (dl && (!deadline || dl < deadline))
			deadline = dl;
		if (o == cut)
			break;
	}
	otf_buf_unref(h);
	otf_buf_unref(t);
	if (!ss->head) {
		otf_buf_unref(ss->acc); /* NULL, or an empty rest */
		ss->acc = NULL;
	}
	r->msg = otf_msg_create(b->node, s, payload, r->items);
	if (!r->msg || otf_msg_subscribe(r->msg, b->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK,
	                                 (uint64_t)(uintptr_t)r)) {
		if (r->msg)
			otf_msg_drop(r->msg);
		otf_free(sl);
		settle_rec(b, s, r, false, OTF_E_NOMEM, false, "batch: out of memory");
		return true;
	}
	if (deadline)
		otf_msg_set_deadline(r->msg, deadline);
	/* Identity: the batch names every request it carries a part of,
	 * and where that part is, so that a cancelled one can be cut out
	 * downstream before the batch is sent (otf_slices_cut). */
	for (uint32_t i = 0; i < r->n; i++) {
		if (otf_msg_add_source_slice(r->msg, sl[i].id, sl[i].off, sl[i].len, sl[i].items)) {
			otf_msg_drop(r->msg);
			r->msg = NULL;
			otf_free(sl);
			settle_rec(b, s, r, false, OTF_E_NOMEM, false, "batch: out of memory");
			return true;
		}
	}
	otf_free(sl);
	r->next = NULL;
	if (ss->out_tail)
		ss->out_tail->next = r;
	else
		ss->out_head = r;
	ss->out_tail = r;
	ss->out_items += r->items;
	return true;
}

/* Sends what the rules say is due: everything when forced (timer, KIL,
 * timeout 0), else while at least send_batch_size items are pending. */
static void flush(batch_t *b, otf_signal_t s, bool force)
{
	sigstate_t *ss = &b->sig[s];
	const batch_config_t *cfg = b->cfg;
	while (ss->head && (force || ss->items >= cfg->send_batch_size)) {
		uint64_t take = ss->items;
		if (cfg->send_batch_max_size && take > cfg->send_batch_max_size)
			take = cfg->send_batch_max_size;
		if (!build_one(b, s, take)) {
			otf_node_log(b->node, OTF_LOG_WARN, "out of memory building a batch");
			arm_retry(b);
			break;
		}
	}
	if (!ss->head && ss->timer > 0) {
		otf_node_timer_stop(b->node, ss->timer);
		ss->timer = 0;
	}
	drain_outbox(b, s);
}

static void consume(void *inst, otf_msg_t *m)
{
	batch_t *b = inst;
	otf_signal_t s = otf_msg_signal(m);
	sigstate_t *ss = &b->sig[s];
	otf_buf_t *p = otf_msg_payload(m);
	otf_view_counts_t c;
	if (otf_view_count(s, p->data, p->len, &c)) {
		otf_msg_nack(m, OTF_E_INVAL, true, "batch: malformed OTLP payload");
		return;
	}
	uint64_t dl = otf_msg_deadline(m), now = dl ? now_unix_ns() : 0;
	if (dl && dl <= now) {
		otf_msg_nack(m, -ETIMEDOUT, false, "batch: deadline exceeded on arrival");
		return;
	}
	uint64_t held = ss->items + ss->out_items;
	if (ss->out_head && held + c.records > b->bound) {
		otf_msg_nack(m, -EAGAIN, false, "batch: downstream is full, retry later");
		return;
	}
	origin_t *o = otf_calloc(1, sizeof *o);
	if (!o || (ss->acc && acc_room(b, ss, p->len, c.records))) {
		otf_free(o);
		otf_msg_nack(m, OTF_E_NOMEM, false, "batch: out of memory");
		return;
	}
	size_t plen = p->len;
	if (ss->acc) {
		memcpy(ss->acc->data + ss->acc->len, p->data, p->len);
		ss->acc->len += p->len;
	} else {
		ss->acc = otf_buf_ref(p);
		ss->acc_own = false;
	}
	/* Its bytes are in acc now: the message is kept only to be answered. */
	(void)otf_msg_release_payload(m);
	o->msg = m;
	o->queued = true;
	o->rest_items = c.records;
	o->rest_len = plen;
	o->anext = b->all;
	if (b->all)
		b->all->aprev = o;
	b->all = o;
	o->prev = ss->tail;
	if (ss->tail)
		ss->tail->next = o;
	else
		ss->head = o;
	ss->tail = o;
	ss->items += c.records;
	ss->norigins++;
	bool force = b->killed || b->cfg->timeout_ns == 0;
	uint64_t ms = (uint64_t)(b->cfg->timeout_ns + 999999) / 1000000;
	if (dl && (dl - now) / 2000000 < ms)
		ms = (dl - now) / 2000000; /* half of what the request has left */
	uint64_t due = uv_now(otf_node_loop(b->node)) + ms;
	if (!force && ss->timer > 0 && due < ss->timer_due) {
		otf_node_timer_stop(b->node, ss->timer);
		ss->timer = 0;
	}
	if (!force && ss->timer <= 0) {
		ss->timer = otf_node_timer_start(b->node, ms ? ms : 1, 0, (uint64_t)s);
		ss->timer_due = due;
		if (ss->timer < 0)
			force = true;
	}
	flush(b, s, force);
	check_done(b);
}

/* CAN of request id: its unbatched rest leaves the pending queue; its
 * parts in built batches are cut out downstream (the batch records where
 * each request's part lies: otf_msg_add_source_slice). Either way it is
 * answered cancelled now, so a built batch's outcome no longer reaches it. */
static void cancel(batch_t *b, uint64_t id, const char *reason)
{
	for (origin_t *o = b->all; o; o = o->anext) {
		if (!o->msg || otf_msg_id(o->msg) != id)
			continue;
		otf_signal_t s = otf_msg_signal(o->msg);
		sigstate_t *ss = &b->sig[s];
		if (o->queued) {
			otf_node_count(b->node, OTF_COUNTER_CANCELLED, s, o->rest_items);
			queue_remove(ss, o);
		}
		otf_msg_nack(o->msg, -ECANCELED, true, reason);
		o->msg = NULL;
		origin_maybe_free(b, o);
		if (!ss->head && ss->timer > 0) {
			otf_node_timer_stop(b->node, ss->timer);
			ss->timer = 0;
		}
		check_done(b);
		return;
	}
}

static void control(void *inst, const otf_ctrl_t *c)
{
	batch_t *b = inst;
	switch (c->type) {
	case OTF_CTRL_CAN:
		cancel(b, c->msg_id, c->reason[0] ? c->reason : "batch: cancelled");
		break;
	case OTF_CTRL_ACK:
	case OTF_CTRL_NACK: {
		batch_rec_t *r = (batch_rec_t *)(uintptr_t)c->calldata;
		list_unlink(&b->inflight, r);
		settle_rec(b, c->signal, r, c->type == OTF_CTRL_ACK, c->error, c->permanent,
		           c->reason);
		break;
	}
	case OTF_CTRL_TMR:
		if (c->calldata == TOKEN_RETRY) {
			b->retry_timer = 0;
			for (int s = 0; s < OTF_SIGNAL_COUNT; s++)
				flush(b, (otf_signal_t)s, b->killed);
		} else if (c->calldata < OTF_SIGNAL_COUNT) {
			b->sig[c->calldata].timer = 0;
			flush(b, (otf_signal_t)c->calldata, true);
		}
		check_done(b);
		break;
	case OTF_CTRL_KIL:
		b->killed = true;
		for (int s = 0; s < OTF_SIGNAL_COUNT; s++)
			flush(b, (otf_signal_t)s, true);
		check_done(b);
		break;
	default:
		break;
	}
	if (c->payload)
		otf_buf_unref(c->payload);
}

static void set_config(batch_t *b, const batch_config_t *c)
{
	b->cfg = c;
	b->bound = c->max_pending_items;
	if (!b->bound) {
		uint64_t base =
		    c->send_batch_max_size ? c->send_batch_max_size : c->send_batch_size;
		b->bound = 2 * (base ? base : 8192);
	}
}

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	batch_t *b = otf_calloc(1, sizeof *b);
	if (!b)
		return OTF_E_NOMEM;
	b->node = ctx->node;
	set_config(b, ctx->config);
	*inst = b;
	return 0;
}

/* CFG: sizes, timeout and bound from the next message on; what is queued
 * stays and leaves by the new sizes (a timer already armed keeps its
 * expiry, the next one uses the new timeout). */
static int reconfigure(void *inst, const void *config, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	set_config(inst, config);
	return 0;
}

static void destroy(void *inst)
{
	batch_t *b = inst;
	/* Reached after shutdown completed or timed out: whatever is left is
	 * released; the engine counts what was never delivered. */
	for (int s = 0; s < OTF_SIGNAL_COUNT; s++) {
		sigstate_t *ss = &b->sig[s];
		while (ss->head)
			queue_unlink(ss, ss->head);
		otf_buf_unref(ss->acc);
		ss->acc = NULL;
		while (ss->out_head) {
			batch_rec_t *r = ss->out_head;
			ss->out_head = r->next;
			otf_msg_drop(r->msg);
			otf_free(r);
		}
	}
	while (b->inflight) {
		batch_rec_t *r = b->inflight;
		b->inflight = r->next;
		otf_free(r);
	}
	while (b->all) {
		origin_t *o = b->all;
		b->all = o->anext;
		if (o->msg)
			otf_msg_drop(o->msg);
		otf_free(o);
	}
	otf_free(b);
}

static int validate(const void *config, char *err, size_t errlen)
{
	const batch_config_t *c = config;
	if (c->send_batch_max_size && c->send_batch_max_size < c->send_batch_size) {
		snprintf(err, errlen,
		         "send_batch_max_size (%llu) must be 0 or at least send_batch_size (%llu)",
		         (unsigned long long)c->send_batch_max_size,
		         (unsigned long long)c->send_batch_size);
		return OTF_E_CONFIG;
	}
	if (c->timeout_ns < 0) {
		snprintf(err, errlen, "timeout must not be negative");
		return OTF_E_CONFIG;
	}
	return 0;
}

static const otf_config_field_t k_schema[] = {
    {.key = "send_batch_size",
     .type = OTF_CFG_UINT,
     .offset = offsetof(batch_config_t, send_batch_size),
     .def = "8192",
     .desc = "Items (spans, data points, log records) after which a batch is sent regardless "
             "of the timeout; a trigger, not a size limit (0 = send every request at once)."},
    {.key = "send_batch_max_size",
     .type = OTF_CFG_UINT,
     .offset = offsetof(batch_config_t, send_batch_max_size),
     .def = "0",
     .desc = "Largest batch in items; larger ones are split (0 = no limit). Must be 0 or at "
             "least send_batch_size."},
    {.key = "timeout",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(batch_config_t, timeout_ns),
     .def = "200ms",
     .desc = "Time after the first item of a batch arrived when the batch is sent whatever its "
             "size (0 = send at once)."},
    {.key = "max_pending_items",
     .type = OTF_CFG_UINT,
     .offset = offsetof(batch_config_t, max_pending_items),
     .def = "0",
     .desc = "otflow: while downstream refuses batches, input beyond this many held items is "
             "refused as retryable (0 = twice send_batch_max_size, or twice send_batch_size, "
             "or 16384)."},
    OTF_CONFIG_FIELD_END,
};

const otf_component_factory_t otf_processor_batch_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "batch",
    .description = "Merges requests into batches by size and time, splits oversize ones; acks "
                   "reach every original request.",
    .stability = {OTF_STABILITY_BETA, OTF_STABILITY_BETA, OTF_STABILITY_BETA},
    .config_schema = k_schema,
    .config_size = sizeof(batch_config_t),
    .validate = validate,
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .destroy = destroy,
    .reconfigure = reconfigure,
};
