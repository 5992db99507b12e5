/* Sender internals shared by exph_sender.c (consumers, retries, outcomes),
 * exph_admit.c (into the queue), exph_reb.c (the control plane: REB
 * publication, CAN) and exph_handover.c. Not for the transports. */
#ifndef OTF_EXPH_SENDER_INTERNAL_H
#define OTF_EXPH_SENDER_INTERNAL_H

#include "exporterhelper.h"

#include <uv.h>

enum { ST_QUEUED = 1, ST_INFLIGHT, ST_WAITING };

/* block_on_overflow: messages waiting for room in the queue, per worker.
 * Each already holds its payload and a client waiting for the answer, so
 * the list is bounded like connections are (4096 per worker and
 * protocol); past it, refused as without blocking. */
#define MAX_BLOCKED 4096
/* Longest wait for room of a message without deadline when the exporter's
 * timeout is 0 (none). */
#define BLOCK_WAIT_DEFAULT_MS 30000u

typedef struct blocked {
	struct blocked *next;
	otf_msg_t *msg;
	uint64_t size;
	uint64_t until_ms; /* loop clock: refused when still waiting then */
	uint64_t since_ms;
} blocked_t;

struct otf_exph {
	otf_node_t *node;
	uv_loop_t *loop;
	otf_exph_retry_config_t retry;
	bool wait_for_result;
	bool queue_enabled; /* sending_queue.enabled: takes reports queued */
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
	bool handed_over; /* KIL of a rebuild: the new instance takes what fails */
	bool in_dispatch;
	bool block_on_overflow;
	blocked_t *blocked, *blocked_tail; /* FIFO: room goes to the oldest */
	size_t blocked_len;
	otf_exph_store_t *store;   /* sending_queue.storage; NULL = memory only */
	otf_exph_req_t *sync_head; /* requests whose ack waits for the sync */
	int64_t sync_timer;
	/* Rebuild with storage (exph_handover.c): every live sender, to find
	 * a node's new instance; the requests handed to this one, each waiting
	 * for its requeued message (hand_msg) to be consumed here. */
	otf_exph_t *live_prev, *live_next;
	otf_exph_req_t *adopt;
};

/* exph_sender.c: the request's final outcome (acknowledge, release, free,
 * then admit, dispatch and publish); unlink from an inflight/waiting list. */
void otf__exph_finish(otf_exph_t *h, otf_exph_req_t *r, otf_exph_outcome_t o, int error,
                      const char *reason);
void otf__exph_list_del(otf_exph_req_t **head, otf_exph_req_t *r);
void otf__exph_list_add(otf_exph_req_t **head, otf_exph_req_t *r);
/* Frees a list of requests (next-linked) without an outcome: messages
 * dropped (counted undelivered by the engine). */
void otf__exph_free_list(otf_exph_t *h, otf_exph_req_t *r);
/* exph_reb.c: publishes the queue's room upstream (REB); ends every
 * request of a cancelled message (CAN). */
void otf__exph_publish_budget(otf_exph_t *h);
void otf__exph_cancel(otf_exph_t *h, uint64_t id, const char *reason);
/* CAN into a request made of several inputs (a batch): cuts the records
 * of the cancelled ones out of r (counted cancelled). True when nothing
 * is left of r: the caller ends it cancelled. */
bool otf__exph_cut_cancelled(otf_exph_t *h, otf_exph_req_t *r);
/* True when r is made of inputs that are all cancelled. */
bool otf__exph_all_cancelled(otf_exph_t *h, const otf_exph_req_t *r);

/* exph_handover.c: a rebuilt node's requests with records in storage go
 * to its new instance, records and all. live_add/live_del at create and
 * destroy; pass: r (unlinked from h's lists) is the new instance's now
 * (false: no new instance sharing the same storage, or no room in the
 * channel: r stays h's); adopt: m is a message passed so, taken into h's
 * queue (false: not one); forget: at destroy, what was passed and never
 * consumed (the channel was dropped) is freed, its records kept. */
void otf__exph_live_add(otf_exph_t *h);
void otf__exph_live_del(otf_exph_t *h);
bool otf__exph_pass(otf_exph_t *h, otf_exph_req_t *r);
bool otf__exph_adopt(otf_exph_t *h, otf_msg_t *m);
void otf__exph_forget_adopted(otf_exph_t *h);
/* KIL with OTF_KIL_HANDOVER: what is queued or waits for a retry goes to
 * the new instance; hand_over_list: the requests of list r (next-linked,
 * unlinked from every list of h). */
void otf__exph_hand_over(otf_exph_t *h);
void otf__exph_hand_over_list(otf_exph_t *h, otf_exph_req_t *r);
/* exph_sender.c, for the above: r's size in h's sizer. */
uint64_t otf__exph_size_of(const otf_exph_t *h, uint64_t items, const otf_buf_t *payload);
/* exph_sender.c: starts queued requests while consumers are free (not
 * reentrant: a nested call returns at once); arms the one timer (retries,
 * deadlines, block_on_overflow waits) for due_ms (loop clock) unless it
 * is due earlier already. */
void otf__exph_dispatch(otf_exph_t *h);
void otf__exph_arm_timer(otf_exph_t *h, uint64_t due_ms);

/* exph_admit.c: admit queues a handed-over request past the budget (it
 * was within the old instance's) and sends; admit_blocked moves the
 * oldest block_on_overflow waiters that now fit into the queue;
 * expire_blocked refuses the waiters whose wait is over (all when
 * closing) and returns the earliest remaining end of a wait (loop clock,
 * 0 = none). */
void otf__exph_admit(otf_exph_t *h, otf_exph_req_t *r);
void otf__exph_admit_blocked(otf_exph_t *h);
uint64_t otf__exph_expire_blocked(otf_exph_t *h, uint64_t now);
/* exph_admit.c, group commit with storage: on_sync answers the messages
 * whose records are durable (wait: syncs here and now first) and polls
 * again while some are not; sync_unlink takes r off the waiting list
 * (its outcome came first). */
void otf__exph_on_sync(otf_exph_t *h, bool wait);
void otf__exph_sync_unlink(otf_exph_t *h, otf_exph_req_t *r);

#endif
