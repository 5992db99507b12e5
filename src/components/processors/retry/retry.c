/* processor `retry` (seeds/dataflow-mechanics.md): the retry of
 * exporterhelper's retry_on_failure as a node of its own, so that any
 * branch of a DAG can retry, not only an exporter's queue.
 *
 * Each message consumed is sent on itself (same id, payload, headers and
 * deadline), subscribed to with OTF_INTEREST_RETURN_MSG: a NACK hands the
 * message back instead of releasing it, so the node keeps no copy and
 * makes no message of its own per attempt. The send is watched
 * (otf_node_send_watched): on a fused edge an outcome that arises inside
 * it (a sink that answers at once) is the send's return, not a control
 * signal, and a message acked so is never held (no bookkeeping, no
 * second signal); either way:
 *   ACK            the message is acked on upstream, in the same
 *                  unwinding of its subscription stack
 *                  (OTF_INTEREST_ACK_PASSES), and forgotten here;
 *   NACK permanent the message is nacked permanent at once (retrying
 *                  cannot help);
 *   NACK retryable the node keeps the message and waits (exponential
 *                  backoff with jitter, the Collector's schedule:
 *                  otf__exph_backoff_next), then sends it again; it gives
 *                  up, nacking it retryable, when max_elapsed_time would
 *                  pass or the next attempt would start after the
 *                  message's deadline (-ETIMEDOUT). A NACK carrying the
 *                  server's throttle delay (otf_ctrl_t.retry_after_ns:
 *                  RetryInfo, Retry-After) makes the wait at least that
 *                  long.
 * The bookkeeping of a message (held_t) comes from a per-instance free
 * list: no allocation per message once the list is warm.
 *
 * CAN: the message keeps its id downstream, so the engine's CAN reaches
 * the nodes after this one by itself; a message waiting here is answered
 * cancelled at once, one in flight is marked and its outcome ends it (no
 * retry), and a resend of a cancelled id is dropped by the engine.
 *
 * Bounded: max_bytes (payload bytes) and max_items held per worker; a
 * message that does not fit is nacked retryable at once. Refused and
 * given-up items count as otelcol_processor_dropped_*, each resend as
 * otelcol_processor_retried_* (self-metrics).
 *
 * Shutdown (KIL): messages waiting for their next attempt are nacked
 * retryable at once; those in flight are answered with the outcome of
 * their current attempt, without retrying. */
#include "../../exporters/exporterhelper/exporterhelper.h"

#include "otflow/alloc.h"
#include "otflow/component.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>
#include <uv.h>

typedef struct retry_config {
	otf_exph_retry_config_t backoff; /* enabled is unused: the node is the switch */
	uint64_t max_bytes;
	uint64_t max_items;
} retry_config_t;

typedef struct held held_t;
struct held {
	held_t *prev, *next;
	otf_msg_t *msg;      /* while waiting for the next attempt; NULL in flight */
	uint64_t id;         /* the message's (CAN) */
	otf_signal_t signal; /* of the message */
	uint64_t items, bytes;
	uint64_t deadline_ms; /* loop clock; 0 = none */
	otf_exph_backoff_t backoff;
	uint64_t start_ms;    /* loop clock at the first attempt */
	bool backoff_started; /* the schedule is set up at the first failure */
	uint32_t attempts;
	int64_t timer_id; /* > 0 while waiting for the next attempt */
	bool cancelled;   /* CAN: the attempt's outcome ends it, no retry */
};

typedef struct retry {
	otf_node_t *node;
	uv_loop_t *loop;
	const retry_config_t *cfg;
	held_t *list;
	held_t *spare;         /* free list (next): bookkeeping without malloc */
	uint64_t bytes, items; /* held */
	uint64_t rng;
	bool closing;
} retry_t;

static const otf_config_field_t k_schema[] = {
    {.key = "initial_interval",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(retry_config_t, backoff.initial_interval_ns),
     .def = "5s",
     .min = "1ms",
     .desc = "Wait after the first retryable failure before sending again."},
    {.key = "randomization_factor",
     .type = OTF_CFG_DOUBLE,
     .offset = offsetof(retry_config_t, backoff.randomization_factor),
     .def = "0.5",
     .min = "0",
     .max = "1",
     .desc = "Jitter: each wait is the interval times a random factor in [1 - f, 1 + f]."},
    {.key = "multiplier",
     .type = OTF_CFG_DOUBLE,
     .offset = offsetof(retry_config_t, backoff.multiplier),
     .def = "1.5",
     .min = "1",
     .desc = "Factor by which the interval grows after each attempt."},
    {.key = "max_interval",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(retry_config_t, backoff.max_interval_ns),
     .def = "30s",
     .min = "1ms",
     .desc = "Upper bound of the interval."},
    {.key = "max_elapsed_time",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(retry_config_t, backoff.max_elapsed_time_ns),
     .def = "300s",
     .min = "0s",
     .desc = "Give up (nack retryable upstream) when the next attempt would start this long "
             "after the first (0 = never give up; the message's deadline still applies)."},
    {.key = "max_bytes",
     .type = OTF_CFG_SIZE,
     .offset = offsetof(retry_config_t, max_bytes),
     .def = "64MiB",
     .min = "1",
     .desc = "Payload bytes held per worker (in flight or waiting to retry); a message that "
             "does not fit is nacked retryable and counted as dropped."},
    {.key = "max_items",
     .type = OTF_CFG_UINT,
     .offset = offsetof(retry_config_t, max_items),
     .def = "1000000",
     .min = "1",
     .desc = "Items (spans, data points, log records) held per worker, as max_bytes."},
    OTF_CONFIG_FIELD_END,
};

static double rnd01(retry_t *r)
{
	/* xorshift64*: jitter only. */
	r->rng ^= r->rng >> 12;
	r->rng ^= r->rng << 25;
	r->rng ^= r->rng >> 27;
	return (double)((r->rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	retry_t *r = otf_calloc(1, sizeof *r);
	if (!r)
		return OTF_E_NOMEM;
	r->node = ctx->node;
	r->loop = otf_node_loop(ctx->node);
	r->cfg = ctx->config;
	r->rng = (uint64_t)uv_hrtime() ^ ((uint64_t)(uintptr_t)r << 16) ^ 0x9e3779b97f4a7c15ull;
	*inst = r;
	return 0;
}

/* Loop-clock deadline of m; 0 = none. */
static uint64_t deadline_ms(retry_t *r, const otf_msg_t *m)
{
	uint64_t dl = otf_msg_deadline(m);
	if (!dl)
		return 0;
	struct timespec ts;
	uint64_t now_ns = 0;
	if (!clock_gettime(CLOCK_REALTIME, &ts))
		now_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	uint64_t left_ms = dl > now_ns ? (dl - now_ns) / 1000000 : 0;
	return uv_now(r->loop) + (left_ms ? left_ms : 1);
}

static void release(retry_t *r, held_t *h)
{
	if (h->timer_id > 0)
		otf_node_timer_stop(r->node, h->timer_id);
	if (h->prev)
		h->prev->next = h->next;
	else
		r->list = h->next;
	if (h->next)
		h->next->prev = h->prev;
	r->bytes -= h->bytes;
	r->items -= h->items;
	h->next = r->spare;
	r->spare = h;
}

/* Answers m (the held message, back from downstream or waiting) with a
 * failure and forgets it. */
static void give_up(retry_t *r, held_t *h, otf_msg_t *m, int error, bool permanent, const char *why)
{
	/* A permanent failure is downstream's verdict, counted there. */
	if (!permanent) {
		otf_node_count(r->node, OTF_COUNTER_DROPPED, h->signal, h->items);
		otf_node_error(r->node, OTF_ERR_DATA, "dropped", "%s", why ? why : "given up");
	}
	release(r, h);
	otf_msg_nack(m, error, permanent, why);
}

/* The ACK passes on upstream in the same unwinding (the node only
 * forgets the message), a NACK hands the message back. Without
 * OTF_INTEREST_RETURN_PAYLOAD: an outcome carries no payload reference to
 * release. */
#define INTERESTS \
	(OTF_INTEREST_ACK | OTF_INTEREST_ACK_PASSES | OTF_INTEREST_NACK | OTF_INTEREST_RETURN_MSG)

static void on_nack(retry_t *r, held_t *h, otf_msg_t *m, const otf_ctrl_t *c);

/* An attempt's outcome, heard by the send or as a control signal: an ACK
 * went on upstream already (OTF_INTEREST_ACK_PASSES), a NACK brings the
 * message back (RETURN_MSG). */
static void on_outcome(retry_t *r, held_t *h, const otf_ctrl_t *c)
{
	if (c->type == OTF_CTRL_ACK) {
		release(r, h);
	} else {
		on_nack(r, h, c->msg, c);
	}
}

/* A resend (h held, its first attempt made by consume): m itself goes on,
 * to come back with its outcome. */
static void attempt(retry_t *r, held_t *h, otf_msg_t *m)
{
	h->msg = NULL;
	h->attempts++;
	otf_ctrl_t c;
	int rc = otf_node_send_watched(r->node, m, INTERESTS, (uint64_t)(uintptr_t)h, &c);
	if (rc == OTF_SENT_ANSWERED)
		on_outcome(r, h, &c);
	else if (rc == OTF_E_NOSPACE)
		give_up(r, h, m, OTF_E_NOMEM, false, "retry: too many subscribers");
	else if (rc)
		give_up(r, h, m, rc, false,
		        rc == -EAGAIN ? "retry: downstream queue full" : otf_strerror(rc));
}

static void consume(void *inst, otf_msg_t *m)
{
	retry_t *r = inst;
	otf_buf_t *p = otf_msg_payload(m);
	uint64_t items = otf_msg_items(m);
	if (r->closing) {
		otf_msg_nack(m, -EAGAIN, false, "retry: shutting down");
		return;
	}
	if (r->bytes + p->len > r->cfg->max_bytes || r->items + items > r->cfg->max_items) {
		char why[160];
		snprintf(why, sizeof why,
		         "retry: holding %llu bytes, %llu items (max_bytes %llu, max_items %llu)",
		         (unsigned long long)r->bytes, (unsigned long long)r->items,
		         (unsigned long long)r->cfg->max_bytes,
		         (unsigned long long)r->cfg->max_items);
		otf_node_count(r->node, OTF_COUNTER_DROPPED, otf_msg_signal(m), items);
		otf_node_error(r->node, OTF_ERR_DATA, "dropped", "%s", why);
		otf_msg_nack(m, OTF_E_NOMEM, false, why);
		return;
	}
	/* The bookkeeping is the free list's head, taken off it only when the
	 * message stays: on a fused edge a sink that answers at once settles
	 * it inside the send (otf_node_send_watched), and an ACK then leaves
	 * nothing held. Nothing else of this node runs during the send (no
	 * re-entry), so the bounds above, checked against what is held now,
	 * hold for the send too. */
	held_t *h = r->spare;
	if (!h) {
		if (!(h = otf_malloc(sizeof *h))) {
			otf_msg_nack(m, OTF_E_NOMEM, false, "retry: out of memory");
			return;
		}
		h->next = NULL;
		r->spare = h;
	}
	otf_signal_t s = otf_msg_signal(m);
	uint64_t id = otf_msg_id(m), bytes = p->len;
	otf_ctrl_t c;
	int rc = otf_node_send_watched(r->node, m, INTERESTS, (uint64_t)(uintptr_t)h, &c);
	if (rc == OTF_SENT_ANSWERED && c.type == OTF_CTRL_ACK)
		return; /* delivered, and upstream acked in the same unwinding */
	if (rc < 0) {
		if (rc == OTF_E_NOSPACE) {
			otf_node_count(r->node, OTF_COUNTER_DROPPED, s, items);
			otf_node_error(r->node, OTF_ERR_DATA, "dropped",
			               "retry: too many subscribers");
			otf_msg_nack(m, OTF_E_NOMEM, false, "retry: too many subscribers");
			return;
		}
		/* Nothing taken downstream: backpressure goes upstream as it
		 * came, rather than being held here. */
		otf_msg_nack(m, rc, false,
		             rc == -EAGAIN ? "downstream queue full" : otf_strerror(rc));
		return;
	}
	/* Held from here: in flight (0), or its first attempt failed (the
	 * NACK heard by the send). Member by member: the deadline and the
	 * backoff schedule are read at the first failure. */
	r->spare = h->next;
	h->prev = NULL;
	h->msg = NULL;
	h->id = id;
	h->signal = s;
	h->items = items;
	h->bytes = bytes;
	h->start_ms = uv_now(r->loop);
	h->backoff_started = false;
	h->attempts = 1;
	h->timer_id = 0;
	h->cancelled = false;
	h->next = r->list;
	if (r->list)
		r->list->prev = h;
	r->list = h;
	r->bytes += bytes;
	r->items += items;
	if (rc == OTF_SENT_ANSWERED)
		on_nack(r, h, c.msg, &c);
}

/* CAN of an original: waiting, it is answered and forgotten now; with an
 * attempt downstream, that attempt is cancelled too and its outcome ends
 * it (no retry). */
static void cancel(retry_t *r, uint64_t id, const char *reason)
{
	for (held_t *h = r->list; h; h = h->next) {
		if (h->id != id)
			continue;
		if (h->timer_id > 0) {
			otf_msg_t *m = h->msg;
			otf_node_count(r->node, OTF_COUNTER_CANCELLED, h->signal, h->items);
			release(r, h);
			otf_msg_nack(m, -ECANCELED, true, reason);
		} else {
			/* in flight: the CAN reaches the nodes downstream too */
			h->cancelled = true;
		}
		return;
	}
}

static void on_nack(retry_t *r, held_t *h, otf_msg_t *m, const otf_ctrl_t *c)
{
	char why[256];
	if (h->cancelled) {
		otf_node_count(r->node, OTF_COUNTER_CANCELLED, h->signal, h->items);
		release(r, h);
		otf_msg_nack(m, -ECANCELED, true, "retry: cancelled");
		return;
	}
	if (c->permanent || r->closing) {
		snprintf(why, sizeof why, "%s%s", r->closing ? "retry: shutting down: " : "",
		         c->reason);
		give_up(r, h, m, c->error, c->permanent, why);
		return;
	}
	uint64_t now = uv_now(r->loop);
	if (!h->backoff_started) {
		/* Set up at the first failure (most messages never fail), the
		 * schedule counted from the first attempt, as before. */
		h->backoff_started = true;
		h->deadline_ms = deadline_ms(r, m);
		otf__exph_backoff_reset(&h->backoff, &r->cfg->backoff, h->start_ms * 1000000ull);
	}
	int64_t delay =
	    otf__exph_backoff_next(&h->backoff, &r->cfg->backoff, now * 1000000ull, rnd01(r));
	if (delay < 0) {
		snprintf(why, sizeof why, "retry: no more retries left after %u attempts: %s",
		         h->attempts, c->reason);
		otf_node_log(r->node, OTF_LOG_ERROR, "dropping %llu %s: %s",
		             (unsigned long long)h->items, otf_signal_name(h->signal), why);
		give_up(r, h, m, c->error, false, why);
		return;
	}
	/* The server asked for a pause (RetryInfo, Retry-After): at least
	 * that long, as exporterhelper's retry sender (max(backoff, throttle
	 * delay), not capped by max_interval). */
	if (c->retry_after_ns > (uint64_t)delay)
		delay = (int64_t)c->retry_after_ns;
	uint64_t delay_ms = ((uint64_t)delay + 999999) / 1000000;
	if (h->deadline_ms && now + delay_ms >= h->deadline_ms) {
		snprintf(why, sizeof why,
		         "retry: deadline exceeded before the next attempt (in %llums): %s",
		         (unsigned long long)delay_ms, c->reason);
		give_up(r, h, m, -ETIMEDOUT, false, why);
		return;
	}
	int64_t id =
	    otf_node_timer_start(r->node, delay_ms ? delay_ms : 1, 0, (uint64_t)(uintptr_t)h);
	if (id <= 0) {
		give_up(r, h, m, (int)id, false, "retry: cannot start a timer");
		return;
	}
	h->timer_id = id;
	h->msg = m;
	otf_node_log(r->node, OTF_LOG_INFO, "will retry %llu %s in %llums (attempt %u failed: %s)",
	             (unsigned long long)h->items, otf_signal_name(h->signal),
	             (unsigned long long)delay_ms, h->attempts, c->reason);
}

static void control(void *inst, const otf_ctrl_t *c)
{
	retry_t *r = inst;
	held_t *h = (held_t *)(uintptr_t)c->calldata;
	switch (c->type) {
	case OTF_CTRL_CAN:
		cancel(r, c->msg_id, c->reason[0] ? c->reason : "cancelled");
		break;
	case OTF_CTRL_ACK:
	case OTF_CTRL_NACK:
		on_outcome(r, h, c);
		break;
	case OTF_CTRL_TMR:
		h->timer_id = 0;
		otf_node_count(r->node, OTF_COUNTER_RETRIED, h->signal, h->items);
		attempt(r, h, h->msg);
		break;
	case OTF_CTRL_KIL: {
		r->closing = true;
		held_t *next;
		for (held_t *w = r->list; w; w = next) {
			next = w->next;
			if (w->timer_id > 0)
				give_up(r, w, w->msg, -EAGAIN, false, "retry: shutting down");
		}
		otf_node_shutdown_done(r->node);
		break;
	}
	default:
		break;
	}
	if (c->payload)
		otf_buf_unref(c->payload);
}

/* CFG: backoff and bounds from the next decision on; held messages keep
 * their attempts so far (their next interval follows the new backoff). */
static int reconfigure(void *inst, const void *config, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	retry_t *r = inst;
	r->cfg = config;
	return 0;
}

static void destroy(void *inst)
{
	retry_t *r = inst;
	/* Messages waiting for an attempt are dropped unanswered, as the
	 * engine does at shutdown; those in flight are the engine's. */
	while (r->list) {
		held_t *h = r->list;
		if (h->msg)
			otf_msg_drop(h->msg);
		release(r, h);
	}
	while (r->spare) {
		held_t *h = r->spare;
		r->spare = h->next;
		otf_free(h);
	}
	otf_free(r);
}

const otf_component_factory_t otf_processor_retry_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "retry",
    .description = "Resends a message downstream after a retryable failure, with exponential "
                   "backoff and jitter, within max_elapsed_time and the message's deadline.",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_schema,
    .config_size = sizeof(retry_config_t),
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .destroy = destroy,
    .reconfigure = reconfigure,
};
