/* The way into the sending queue (exporterhelper.h): consume reserves room
 * in the budget, or waits for it (block_on_overflow) or refuses; a request
 * queued with storage is answered once the sync that covers its record
 * returned (group commit). The consumers, retries and outcomes are
 * exph_sender.c's: this half only decides what is queued and when its
 * client hears so. */
#include "exporterhelper.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "exph_sender_internal.h"

void otf__exph_sync_unlink(otf_exph_t *h, otf_exph_req_t *r)
{
	for (otf_exph_req_t **pp = &h->sync_head; *pp; pp = &(*pp)->sync_next) {
		if (*pp == r) {
			*pp = r->sync_next;
			break;
		}
	}
	r->sync_next = NULL;
	r->sync_wait = false;
}

/* Poll interval while a sync runs on the WAL's thread. */
#define SYNC_POLL_MS 1

/* Group commit: the appends of a loop turn are handed to the WAL's sync
 * thread (one fdatasync per signal for all of them, and for what other
 * workers appended), while this loop goes on taking requests; the messages
 * whose records are durable are acknowledged here, the rest wait for the
 * next poll. wait: sync here and now (shutdown). */
void otf__exph_on_sync(otf_exph_t *h, bool wait)
{
	h->sync_timer = 0;
	otf__exph_store_sync(h->store, wait);
	otf_exph_req_t **pp = &h->sync_head;
	while (*pp) {
		otf_exph_req_t *r = *pp;
		int rc;
		if (!otf__exph_store_synced(h->store, r->signal, r->sync_token, &rc)) {
			pp = &r->sync_next;
			continue;
		}
		*pp = r->sync_next;
		r->sync_next = NULL;
		r->sync_wait = false;
		if (r->msg) {
			if (rc) {
				char why[160];
				snprintf(why, sizeof why, "sending queue storage: sync failed: %s",
				         otf_strerror(rc));
				otf_msg_nack(r->msg, rc, false, why);
			} else if (r->sync_queued) {
				otf_msg_queued(r->msg);
				continue; /* still answered with the outcome */
			} else {
				otf_msg_ack(r->msg);
			}
			r->msg = NULL;
		}
	}
	if (h->sync_head) {
		int64_t id = otf_node_timer_start(h->node, SYNC_POLL_MS, 0, OTF_EXPH_SYNC_TOKEN);
		h->sync_timer = id > 0 ? id : 0;
		if (!h->sync_timer)
			otf__exph_on_sync(h, true);
	}
}

static uint64_t msg_size(const otf_exph_t *h, otf_msg_t *m)
{
	return otf__exph_size_of(h, otf_msg_items(m), otf_msg_payload(m));
}

static void refuse(otf_exph_t *h, otf_msg_t *m, int error, const char *why)
{
	otf_node_count(h->node, OTF_COUNTER_SEND_FAILED, otf_msg_signal(m), otf_msg_items(m));
	otf_msg_nack(m, error, false, why);
}

/* Loop-clock deadline of the message; 0 = none. */
static uint64_t deadline_ms(otf_exph_t *h, otf_msg_t *m)
{
	uint64_t dl = otf_msg_deadline(m);
	if (!dl)
		return 0;
	struct timespec ts;
	uint64_t now_ns = 0;
	if (!clock_gettime(CLOCK_REALTIME, &ts))
		now_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	uint64_t left_ms = dl > now_ns ? (dl - now_ns) / 1000000 : 0;
	return uv_now(h->loop) + (left_ms ? left_ms : 1);
}

/* r's message is answered (acked, or reported queued) by on_sync once
 * the sync that covers its record returned. */
static void sync_wait(otf_exph_t *h, otf_exph_req_t *r, bool queued)
{
	r->sync_wait = true;
	r->sync_queued = queued;
	r->sync_next = h->sync_head;
	h->sync_head = r;
	if (!h->sync_timer) {
		int64_t id = otf_node_timer_start(h->node, 0, 0, OTF_EXPH_SYNC_TOKEN);
		h->sync_timer = id > 0 ? id : 0;
		if (!h->sync_timer)
			otf__exph_on_sync(h, true);
	}
}

/* Queues m, whose size units are already reserved. */
static void enqueue(otf_exph_t *h, otf_msg_t *m, uint64_t size)
{
	otf_exph_req_t *r = otf_calloc(1, sizeof *r);
	if (!r) {
		otf__exph_queue_release(&h->q, size);
		refuse(h, m, OTF_E_NOMEM, "out of memory");
		return;
	}
	r->payload = otf_buf_ref(otf_msg_payload(m));
	r->signal = otf_msg_signal(m);
	r->items = otf_msg_items(m);
	r->msg_id = otf_msg_id(m);
	r->size = size;
	r->state = ST_QUEUED;
	r->deadline_ms = deadline_ms(h, m);
	const otf_msg_slice_t *sl;
	size_t nsl = otf_msg_source_slices(m, &sl);
	if (nsl && (r->slices = otf_malloc(nsl * sizeof *sl)) != NULL) {
		memcpy(r->slices, sl, nsl * sizeof *sl);
		r->nslices = nsl; /* without memory: sent whole, as without CAN */
	}
	if (h->ops.capture) {
		int rc = h->ops.capture(h->ctx, r, m);
		if (rc) {
			if (r->xdata && h->ops.release)
				h->ops.release(h->ctx, r);
			otf_buf_unref(r->payload);
			otf_free(r->slices);
			otf_free(r);
			otf__exph_queue_release(&h->q, size);
			otf_node_count(h->node, OTF_COUNTER_SEND_FAILED, otf_msg_signal(m),
			               otf_msg_items(m));
			otf_msg_nack(m, rc, true, "request headers could not be made");
			return;
		}
	}
	if (h->store) {
		char why[256];
		int rc = otf__exph_store_put(h->store, h->node, r->signal, r->items, r->payload, m,
		                             &r->wal_id, &r->sync_token, why, sizeof why);
		if (rc) {
			if (r->xdata && h->ops.release)
				h->ops.release(h->ctx, r);
			otf_buf_unref(r->payload);
			otf_free(r->slices);
			otf_free(r);
			otf__exph_queue_release(&h->q, size);
			refuse(h, m, rc == OTF_E_NOSPACE ? -EAGAIN : rc, why);
			return;
		}
	}
	if (h->wait_for_result) {
		r->msg = m;
		/* Without a sending queue the request is only in flight: the
		 * sender waits for the result as the Collector's does. */
		if (h->queue_enabled && !h->store)
			otf_msg_queued(m);
		else if (h->queue_enabled)
			sync_wait(h, r, true); /* queued once its record is durable */
	} else if (h->store) {
		/* Acknowledged once the sync that covers its record
		 * returned (on_sync). */
		r->msg = m;
		sync_wait(h, r, false);
	} else {
		otf_msg_ack(m);
	}
	otf__exph_queue_push(&h->q, r);
	if (r->deadline_ms)
		otf__exph_arm_timer(h, r->deadline_ms); /* expire_queued() when it passes */
}

/* block_on_overflow: m waits for room instead of being refused, until its
 * deadline (or the exporter's timeout when it has none). */
static bool block(otf_exph_t *h, otf_msg_t *m, uint64_t size)
{
	if (!h->block_on_overflow || size > h->q.cap || h->blocked_len >= MAX_BLOCKED)
		return false;
	blocked_t *b = otf_calloc(1, sizeof *b);
	if (!b)
		return false;
	uint64_t now = uv_now(h->loop);
	uint64_t until = deadline_ms(h, m);
	uint64_t wait = h->timeout_ms ? h->timeout_ms : BLOCK_WAIT_DEFAULT_MS;
	if (!until || until > now + wait)
		until = now + wait;
	b->msg = m;
	b->size = size;
	b->since_ms = now;
	b->until_ms = until;
	if (h->blocked_tail)
		h->blocked_tail->next = b;
	else
		h->blocked = b;
	h->blocked_tail = b;
	h->blocked_len++;
	otf__exph_arm_timer(h, until);
	return true;
}

/* Room was released: the oldest waiting messages go into the queue, in
 * order (a large one at the head is not overtaken). */
void otf__exph_admit_blocked(otf_exph_t *h)
{
	while (h->blocked && !h->closing && !otf__exph_queue_reserve(&h->q, h->blocked->size)) {
		blocked_t *b = h->blocked;
		h->blocked = b->next;
		if (!h->blocked)
			h->blocked_tail = NULL;
		h->blocked_len--;
		enqueue(h, b->msg, b->size);
		otf_free(b);
	}
}

/* Refuses the waiting messages whose wait is over (all when closing);
 * returns the earliest remaining end of a wait, 0 when none. */
uint64_t otf__exph_expire_blocked(otf_exph_t *h, uint64_t now)
{
	blocked_t **pp = &h->blocked, *last = NULL;
	uint64_t next = 0;
	while (*pp) {
		blocked_t *b = *pp;
		if (h->closing || b->until_ms <= now) {
			*pp = b->next;
			h->blocked_len--;
			char why[96];
			if (h->closing)
				snprintf(why, sizeof why, "exporter shutting down");
			else
				snprintf(why, sizeof why, "sending queue is full (waited %llu ms)",
				         (unsigned long long)(now - b->since_ms));
			refuse(h, b->msg, -EAGAIN, why);
			otf_free(b);
			continue;
		}
		if (!next || b->until_ms < next)
			next = b->until_ms;
		last = b;
		pp = &b->next;
	}
	h->blocked_tail = last;
	return next;
}

void otf__exph_consume(otf_exph_t *h, otf_msg_t *m)
{
	if (h->adopt && otf__exph_adopt(h, m))
		return; /* the replaced instance's request, with its record */
	if (h->closing) {
		refuse(h, m, -EAGAIN, "exporter shutting down");
		return;
	}
	uint64_t size = msg_size(h, m);
	/* Earlier waiters first: a newcomer must not take the room they wait for. */
	if (h->blocked || otf__exph_queue_reserve(&h->q, size)) {
		if (!block(h, m, size))
			refuse(h, m, -EAGAIN, "sending queue is full");
		otf__exph_publish_budget(h);
		return;
	}
	enqueue(h, m, size);
	otf__exph_dispatch(h);
	otf__exph_publish_budget(h);
}

void otf__exph_admit(otf_exph_t *h, otf_exph_req_t *r)
{
	otf__exph_queue_force(&h->q, r->size);
	otf__exph_queue_push(&h->q, r);
	if (r->deadline_ms)
		otf__exph_arm_timer(h, r->deadline_ms);
	otf__exph_dispatch(h);
	otf__exph_publish_budget(h);
}
