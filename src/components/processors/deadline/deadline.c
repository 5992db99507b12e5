/* processor `deadline` (deadline controller, seeds/dataflow-mechanics.md):
 * gives each message an absolute deadline (otf_msg_set_deadline) from a
 * policy, so that every node after it stops working on the message once
 * the client can no longer use the answer:
 *
 *   - a client that sent a timeout (gRPC `grpc-timeout`: the otlp receiver
 *     turns it into the message's deadline; or the header itself when the
 *     metadata was kept) gets that deadline, capped at max_timeout from
 *     now (client_timeout: true, the default);
 *   - every other message, HTTP requests included, gets now + the timeout
 *     of its signal (timeout_traces / _metrics / _logs, else timeout;
 *     0 = none).
 *
 * A deadline is never moved later than one the message already has. A
 * message whose deadline has already passed is nacked at once, retryable,
 * with -ETIMEDOUT (receivers answer DEADLINE_EXCEEDED / 504). Nodes that
 * hold messages honour the deadline: retry and the exporters' retry stop,
 * failover_router does not resend past it, batch flushes early enough and
 * the sending queue nacks what expires in it, all with -ETIMEDOUT.
 *
 * The deadline is also enforced here (CAN, otflow/component.h): a message
 * with a deadline travels on itself (same id, headers, payload), its
 * upstream part (the subscribers below this node, its fan-out join) cut
 * off and kept here (otf_node_send_detached), so that this node answers
 * the client: with the message's outcome when it comes first, or, when
 * the deadline (plus GRACE_MS) comes first, at once with -ETIMEDOUT (the
 * client gets DEADLINE_EXCEEDED / 504 at its deadline, whatever
 * downstream is doing), and then the message is cancelled: queued it is
 * dropped, retries stop, a send not yet started is skipped, one in flight
 * aborted where the protocol allows, also in nodes that do not watch
 * deadlines themselves (plugins). Counted as cancelled here. Its late
 * outcome is then ignored. A CAN of the message's id (its client left)
 * reaches the nodes after this one by itself. Where the part cannot be cut
 * off (a subscriber upstream wants the message itself back: retry before
 * this node) a copy of this node's own travels instead (same payload,
 * envelope, items; the original's id as its source; a CAN of the original
 * passes on to it), as before.
 *
 * Timers: one per instance (worker), armed for the nearest deadline of a
 * min-heap of the messages watched; an answered message leaves the heap
 * and the timer stays armed (firing early only finds nothing due and arms
 * for the next), so a message costs no timer of its own. The bookkeeping
 * (and the cut-off part's storage) comes from a free list. A message
 * answered inside its send (a fused sink that answers at once: the
 * outcome is the send's return, otf_node_send_detached_watched, no
 * control signal) is never watched: its part is answered then. A
 * message without a deadline is passed on as it is (same id). */
#include "otflow/alloc.h"
#include "otflow/component.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <uv.h>

typedef struct deadline_config {
	int64_t timeout_ns;
	int64_t timeout_sig_ns[OTF_SIGNAL_COUNT];
	bool client_timeout;
	int64_t max_timeout_ns;
} deadline_config_t;

/* A message watched until its deadline (see the top of this file): its
 * cut-off upstream part (up, in the storage after this struct), or, for a
 * copy, the original. */
typedef struct held held_t;
struct held {
	held_t *prev, *next;    /* expired, or on the free list (next) */
	otf_msg_upstream_t *up; /* detached: answered once; NULL once answered */
	otf_msg_t *orig;        /* copy: answered once; NULL once answered */
	uint64_t id;            /* the message's (copy: the original's, for CAN) */
	uint64_t copy_id;
	uint64_t key;  /* unix ns when it expires here (deadline + GRACE_MS) */
	uint32_t hidx; /* position in the heap while watched */
	bool watched;  /* in the heap (else expired, waiting for its outcome) */
	otf_signal_t signal;
	uint64_t items;
};

#define GRACE_MS 2
/* The upstream part's storage after the struct, aligned for any type. */
#define HELD_HEAD ((sizeof(held_t) + 15) & ~(size_t)15)

/* A heap entry: the key beside its message, so that sifting reads the
 * array only. */
typedef struct slot {
	uint64_t key;
	held_t *h;
} slot_t;

typedef struct deadline {
	otf_node_t *node;
	uv_loop_t *loop;
	const deadline_config_t *cfg;
	slot_t *heap; /* min-heap by key */
	uint32_t n, cap;
	/* CLOCK_REALTIME read once per loop iteration (at loop_ms): a read
	 * costs more than the rest of a message's work here, and a deadline
	 * is kept to the millisecond. */
	uint64_t clock_ns, clock_loop_ms;
	held_t *expired; /* answered at their deadline, outcome still to come */
	held_t *spare;
	int64_t timer_id;   /* > 0 while the timer is armed */
	uint64_t armed_key; /* the key it is armed for */
} deadline_t;

static const otf_config_field_t k_schema[] = {
    {.key = "timeout",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(deadline_config_t, timeout_ns),
     .def = "5s",
     .min = "0s",
     .desc = "Deadline from now for a message without a client timeout (0 = none)."},
    {.key = "timeout_traces",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(deadline_config_t, timeout_sig_ns[0]),
     .def = "0s",
     .min = "0s",
     .desc = "Traces' own timeout (0 = timeout)."},
    {.key = "timeout_metrics",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(deadline_config_t, timeout_sig_ns[1]),
     .def = "0s",
     .min = "0s",
     .desc = "Metrics' own timeout (0 = timeout)."},
    {.key = "timeout_logs",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(deadline_config_t, timeout_sig_ns[2]),
     .def = "0s",
     .min = "0s",
     .desc = "Logs' own timeout (0 = timeout)."},
    {.key = "client_timeout",
     .type = OTF_CFG_BOOL,
     .offset = offsetof(deadline_config_t, client_timeout),
     .def = "true",
     .desc = "Use the client's own timeout (gRPC grpc-timeout) when it sent one, instead of "
             "the signal's timeout."},
    {.key = "max_timeout",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(deadline_config_t, max_timeout_ns),
     .def = "30s",
     .min = "0s",
     .desc = "Cap on a client's timeout, from now (0 = no cap)."},
    OTF_CONFIG_FIELD_END,
};

static uint64_t now_unix_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_REALTIME, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* grpc-timeout: 1 to 8 digits and a unit H M S m u n (gRPC over HTTP/2,
 * "Timeout"); 0 when malformed. */
static uint64_t grpc_timeout_ns(const char *s)
{
	uint64_t v = 0;
	size_t n = 0;
	while (n < 8 && isdigit((unsigned char)s[n]))
		v = v * 10 + (uint64_t)(s[n++] - '0');
	if (!n || !s[n] || s[n + 1])
		return 0;
	switch (s[n]) {
	case 'H':
		return v * 3600ull * 1000000000ull;
	case 'M':
		return v * 60ull * 1000000000ull;
	case 'S':
		return v * 1000000000ull;
	case 'm':
		return v * 1000000ull;
	case 'u':
		return v * 1000ull;
	case 'n':
		return v;
	default:
		return 0;
	}
}

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	deadline_t *d = otf_calloc(1, sizeof *d);
	if (!d)
		return OTF_E_NOMEM;
	d->node = ctx->node;
	d->loop = otf_node_loop(ctx->node);
	d->cfg = ctx->config;
	*inst = d;
	return 0;
}

static void heap_swap(deadline_t *d, uint32_t a, uint32_t b)
{
	slot_t t = d->heap[a];
	d->heap[a] = d->heap[b];
	d->heap[b] = t;
	d->heap[a].h->hidx = a;
	d->heap[b].h->hidx = b;
}

static void heap_up(deadline_t *d, uint32_t i)
{
	while (i > 0 && d->heap[(i - 1) / 2].key > d->heap[i].key) {
		heap_swap(d, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(deadline_t *d, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < d->n && d->heap[l].key < d->heap[m].key)
			m = l;
		if (r < d->n && d->heap[r].key < d->heap[m].key)
			m = r;
		if (m == i)
			return;
		heap_swap(d, i, m);
		i = m;
	}
}

/* Room for one more entry: false on OOM. */
static bool heap_reserve(deadline_t *d)
{
	if (d->n < d->cap)
		return true;
	uint32_t ncap = d->cap ? d->cap * 2 : 64;
	slot_t *nh = otf_realloc(d->heap, ncap * sizeof *nh);
	if (!nh)
		return false;
	d->heap = nh;
	d->cap = ncap;
	return true;
}

static bool heap_push(deadline_t *d, held_t *h)
{
	if (!heap_reserve(d))
		return false;
	h->hidx = d->n;
	h->watched = true;
	d->heap[d->n++] = (slot_t){h->key, h};
	heap_up(d, h->hidx);
	return true;
}

static void heap_remove(deadline_t *d, held_t *h)
{
	uint32_t i = h->hidx;
	h->watched = false;
	if (--d->n == i)
		return;
	d->heap[i] = d->heap[d->n];
	d->heap[i].h->hidx = i;
	if (i > 0 && d->heap[(i - 1) / 2].key > d->heap[i].key)
		heap_up(d, i);
	else
		heap_down(d, i);
}

static held_t *take(deadline_t *d)
{
	held_t *h = d->spare;
	if (h)
		d->spare = h->next;
	else if (!(h = otf_malloc(HELD_HEAD + otf_msg_upstream_size())))
		return NULL;
	memset(h, 0, sizeof *h);
	return h;
}

static void give_back(deadline_t *d, held_t *h)
{
	h->next = d->spare;
	d->spare = h;
}

/* The timer armed for the nearest key: started only when none is armed
 * or the nearest is earlier than the armed one (a fixed timeout gives
 * keys in order: no timer call per message). */
static void arm(deadline_t *d, uint64_t now)
{
	if (!d->n || (d->timer_id > 0 && d->armed_key <= d->heap[0].key))
		return;
	if (d->timer_id > 0)
		otf_node_timer_stop(d->node, d->timer_id);
	d->timer_id = 0;
	uint64_t key = d->heap[0].key;
	/* the loop clock, which the timer counts from, may be behind */
	uv_update_time(d->loop);
	uint64_t ms = key > now ? (key - now + 999999) / 1000000 : 0;
	int64_t id = otf_node_timer_start(d->node, ms, 0, 1);
	if (id > 0) {
		d->timer_id = id;
		d->armed_key = key;
	}
}

/* Answers the cut-off part with outcome c (ACK or NACK). */
static void answer_up(otf_msg_upstream_t *up, const otf_ctrl_t *c)
{
	if (c->type == OTF_CTRL_ACK)
		otf_msg_upstream_ack(up);
	else
		otf_msg_upstream_nack(up, c->error, c->permanent,
		                      c->permanent ? 0 : c->retry_after_ns, c->reason);
}

/* Without OTF_INTEREST_RETURN_PAYLOAD: an outcome carries no payload
 * reference to release. */
#define INTERESTS (OTF_INTEREST_ACK | OTF_INTEREST_NACK | OTF_INTEREST_QUEUED)

/* m (deadline want, later than now) goes on watched; false when that
 * cannot be set up (nothing sent, m still the caller's). A send's failure
 * nacks m here. */
static bool send_watched(deadline_t *d, otf_msg_t *m, uint64_t want, uint64_t now)
{
	/* The bookkeeping (and the cut-off part's storage) is the free list's
	 * head, taken off it only when the message is watched: on a fused
	 * edge a sink that answers at once settles it inside the send
	 * (otf_node_send_detached_watched), before any deadline (no timer
	 * runs during a send), and the part is answered then with nothing
	 * left to watch. Room in the heap is made first, so that watching
	 * after a send cannot fail. */
	held_t *h = d->spare;
	if (!h) {
		if (!(h = otf_malloc(HELD_HEAD + otf_msg_upstream_size())))
			return false;
		h->next = NULL;
		d->spare = h;
	}
	if (!heap_reserve(d))
		return false;
	otf_signal_t s = otf_msg_signal(m);
	uint64_t items = otf_msg_items(m), id = otf_msg_id(m);
	otf_msg_set_deadline(m, want);
	otf_msg_upstream_t *up;
	otf_ctrl_t oc;
	int rc = otf_node_send_detached_watched(d->node, m, INTERESTS, (uint64_t)(uintptr_t)h,
	                                        (char *)h + HELD_HEAD, &up, &oc);
	if (rc == OTF_SENT_ANSWERED) {
		answer_up(up, &oc);
		return true;
	}
	if (!rc) {
		d->spare = h->next;
		memset(h, 0, sizeof *h);
		h->key = want + GRACE_MS * 1000000ull;
		h->signal = s;
		h->items = items;
		h->id = id;
		h->up = up;
		heap_push(d, h); /* cannot fail: reserved */
		arm(d, now);
		return true;
	}
	if (rc != OTF_E_UNSUPPORTED) {
		otf_msg_nack(m, rc, false,
		             rc == -EAGAIN ? "downstream queue full" : otf_strerror(rc));
		return true;
	}
	h = take(d); /* the head seen above: not NULL */
	h->key = want + GRACE_MS * 1000000ull;
	h->signal = s;
	h->items = items;
	h->id = id;
	if (!heap_push(d, h)) {
		give_back(d, h);
		return false;
	}
	/* A subscriber upstream wants m itself back: a copy goes instead. */
	otf_msg_t *c = otf_msg_create(d->node, otf_msg_signal(m), otf_buf_ref(otf_msg_payload(m)),
	                              otf_msg_items(m));
	if (!c || otf_msg_add_source(c, otf_msg_id(m)) || otf_msg_copy_envelope(c, m) ||
	    otf_msg_subscribe(c, d->node, INTERESTS, (uint64_t)(uintptr_t)h)) {
		if (c)
			otf_msg_drop(c);
		heap_remove(d, h);
		give_back(d, h);
		return false;
	}
	h->orig = m;
	h->copy_id = otf_msg_id(c);
	rc = otf_node_send(d->node, c);
	if (rc) {
		otf_msg_drop(c);
		heap_remove(d, h);
		give_back(d, h);
		otf_msg_nack(m, rc, false,
		             rc == -EAGAIN ? "downstream queue full" : otf_strerror(rc));
		return true;
	}
	arm(d, now);
	return true;
}

static void consume(void *inst, otf_msg_t *m)
{
	deadline_t *d = inst;
	const deadline_config_t *cfg = d->cfg;
	uint64_t loop_ms = uv_now(d->loop);
	if (!d->clock_ns || loop_ms != d->clock_loop_ms) {
		d->clock_ns = now_unix_ns();
		d->clock_loop_ms = loop_ms;
	}
	uint64_t now = d->clock_ns;
	uint64_t have = otf_msg_deadline(m), want = 0;
	uint64_t client = 0;
	if (cfg->client_timeout) {
		client = have;
		/* Most messages carry no metadata (HTTP, or the otlp receiver
		 * turned grpc-timeout into the deadline already): no lookup. */
		const char *h =
		    otf_msg_header_count(m) ? otf_msg_header_get(m, "grpc-timeout") : NULL;
		uint64_t t = h ? grpc_timeout_ns(h) : 0;
		if (t && (!client || now + t < client))
			client = now + t;
	}
	if (client) {
		want = client;
		if (cfg->max_timeout_ns && want > now + (uint64_t)cfg->max_timeout_ns)
			want = now + (uint64_t)cfg->max_timeout_ns;
	} else {
		otf_signal_t s = otf_msg_signal(m);
		int64_t t = cfg->timeout_sig_ns[s] ? cfg->timeout_sig_ns[s] : cfg->timeout_ns;
		if (t)
			want = now + (uint64_t)t;
	}
	if (have && (!want || have < want))
		want = have; /* never later than a deadline already set */
	if (want && want <= now) {
		otf_msg_nack(m, -ETIMEDOUT, false, "deadline: the deadline has already passed");
		return;
	}
	if (want && send_watched(d, m, want, now))
		return;
	/* No deadline, or no memory for watching it: passed on as it is (the
	 * nodes after this one still honour the deadline). */
	if (want)
		otf_msg_set_deadline(m, want);
	int rc = otf_node_send(d->node, m);
	if (rc)
		otf_msg_nack(m, rc, false,
		             rc == -EAGAIN ? "downstream queue full" : otf_strerror(rc));
}

/* The deadline passed before the outcome: answer, then cancel. */
static void expire(deadline_t *d, held_t *h)
{
	heap_remove(d, h);
	h->prev = NULL;
	h->next = d->expired;
	if (d->expired)
		d->expired->prev = h;
	d->expired = h;
	otf_node_count(d->node, OTF_COUNTER_CANCELLED, h->signal, h->items);
	if (h->up) {
		otf_msg_upstream_t *up = h->up;
		h->up = NULL; /* the outcome, when it comes, only frees h */
		otf_msg_upstream_nack(up, -ETIMEDOUT, false, 0, "deadline: deadline exceeded");
		otf_msg_cancel(d->node, h->id, "deadline exceeded");
	} else if (h->orig) {
		otf_msg_t *m = h->orig;
		h->orig = NULL;
		otf_msg_nack(m, -ETIMEDOUT, false, "deadline: deadline exceeded");
		otf_msg_cancel(d->node, h->copy_id, "deadline exceeded");
	}
}

static void on_outcome(deadline_t *d, held_t *h, const otf_ctrl_t *c)
{
	if (h->watched) {
		heap_remove(d, h);
	} else { /* expired: off its list */
		if (h->prev)
			h->prev->next = h->next;
		else
			d->expired = h->next;
		if (h->next)
			h->next->prev = h->prev;
	}
	uint64_t after = c->permanent ? 0 : c->retry_after_ns;
	if (h->up) {
		answer_up(h->up, c);
	} else if (h->orig) {
		if (c->type == OTF_CTRL_ACK)
			otf_msg_ack(h->orig);
		else if (after)
			otf_msg_nack_throttled(h->orig, c->error, after, c->reason);
		else
			otf_msg_nack(h->orig, c->error, c->permanent, c->reason);
	}
	give_back(d, h);
}

static void on_timer(deadline_t *d)
{
	d->timer_id = 0;
	uint64_t now = now_unix_ns();
	while (d->n && d->heap[0].key <= now)
		expire(d, d->heap[0].h);
	arm(d, now);
}

static void control(void *inst, const otf_ctrl_t *c)
{
	deadline_t *d = inst;
	held_t *h = (held_t *)(uintptr_t)c->calldata;
	switch (c->type) {
	case OTF_CTRL_ACK:
	case OTF_CTRL_NACK:
		on_outcome(d, h, c);
		break;
	case OTF_CTRL_QUEUED:
		/* Passed up: an ack node's pre_export above still hears its
		 * sending queue. */
		if (h->up)
			otf_msg_upstream_queued(h->up);
		else if (h->orig)
			otf_msg_queued(h->orig);
		break;
	case OTF_CTRL_TMR:
		on_timer(d);
		break;
	case OTF_CTRL_CAN:
		/* The original's client left: a copy goes too (its outcome still
		 * answers the original). A detached message kept its id: the CAN
		 * reaches the nodes after this one by itself. */
		for (uint32_t i = 0; i < d->n; i++)
			if (d->heap[i].h->orig && d->heap[i].h->id == c->msg_id) {
				otf_msg_cancel(d->node, d->heap[i].h->copy_id,
				               c->reason[0] ? c->reason : "cancelled");
				break;
			}
		break;
	case OTF_CTRL_KIL:
		/* Messages in flight are answered downstream; the timer may still
		 * fire until destroy. */
		otf_node_shutdown_done(d->node);
		break;
	default:
		break;
	}
	if (c->payload)
		otf_buf_unref(c->payload);
}

static void destroy(void *inst)
{
	deadline_t *d = inst;
	/* Outcomes that never came (the downstream node timed out): the
	 * upstream parts and originals are released unanswered, as the engine
	 * does at shutdown; the messages in flight are the engine's. */
	for (uint32_t i = 0; i < d->n; i++) {
		held_t *h = d->heap[i].h;
		if (h->up)
			otf_msg_upstream_discard(h->up);
		else if (h->orig)
			otf_msg_drop(h->orig);
		otf_free(h);
	}
	otf_free(d->heap);
	while (d->expired) {
		held_t *h = d->expired;
		d->expired = h->next;
		otf_free(h);
	}
	while (d->spare) {
		held_t *h = d->spare;
		d->spare = h->next;
		otf_free(h);
	}
	otf_free(d);
}

const otf_component_factory_t otf_processor_deadline_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "deadline",
    .description = "Deadline controller: gives each message a deadline (the client's timeout "
                   "capped, or one per signal); nodes after it give up on it past that.",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_schema,
    .config_size = sizeof(deadline_config_t),
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .destroy = destroy,
};
