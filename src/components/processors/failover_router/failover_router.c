/* processor `failover_router` (seeds/dataflow-mechanics.md; the
 * Collector's failover connector, opentelemetry-collector-contrib
 * connector/failoverconnector README, as a node): ordered destinations on
 * the output ports `0` (highest priority), `1`, ... Each message goes to
 * the current level; when that level answers with a retryable NACK, the
 * node switches the current level to the next one and resends the
 * message there, so nothing is lost in the switch. It holds a reference
 * to the payload of every message until its outcome is known, and carries
 * it downstream by a message of its own per attempt (the original's id as
 * its source, headers and deadline kept), as the retry node does.
 *
 *   ACK            the original is acked;
 *   NACK permanent the original is nacked permanent at once (bad data
 *                  fails at every level);
 *   NACK retryable resent to the next level; after the last level the
 *                  original is nacked retryable, naming the last reason.
 *
 * After a switch the node probes the levels above the current (stable)
 * one, as the connector does: every retry_interval a probe cycle starts at
 * level 0; a probe sends the next messages to that level; if one fails
 * there it is resent from the stable level on, and retry_gap later the
 * next higher level is probed, up to the one above the stable level; then
 * the cycle waits retry_interval again. A probe that succeeds makes its
 * level the stable one (and cycles go on for the levels above it). Each
 * level is probed at most max_retries times without success (0 = no
 * limit); a success there resets its count. With attempt_timeout, an
 * attempt not answered within it counts as that level failing: its copy
 * is cancelled downstream (CAN) and the message resent to the next level;
 * the late outcome of a cancelled attempt is ignored. Several edges on one level's
 * port are a fan-out under the node's policy (`all` by default: the level
 * fails when any of its destinations fails, the connector's rule).
 *
 * Bounded by max_bytes / max_items held per worker: a message past them is
 * nacked retryable and counted as dropped. Each worker keeps its own
 * current level (share-nothing). The Collector's `failover` connector
 * compiles onto this node (src/components/connectors/failover/). */
#include "failover_router.h"

#include "otflow/alloc.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAX_LEVELS OTF_FO_MAX_LEVELS

typedef otf__fo_config_t fo_config_t;

typedef struct held held_t;
typedef struct try_rec try_t;

/* One attempt in flight: the calldata of its copy's subscription and the
 * token of its attempt_timeout timer. */
struct try_rec {
	try_t *prev, *next; /* fo.tries: every attempt whose outcome is to come */
	held_t *h;          /* NULL once timed out: its late outcome is ignored */
	int64_t timer;      /* > 0 while attempt_timeout runs */
	uint64_t copy_id;
};

struct held {
	held_t *prev, *next;
	otf_msg_t *orig;
	otf_buf_t *payload; /* one reference */
	otf_signal_t signal;
	uint64_t items;
	int level;  /* of the attempt in flight */
	try_t *cur; /* the attempt in flight, NULL between attempts */
};

typedef struct fo {
	otf_node_t *node;
	const fo_config_t *cfg;
	int port[MAX_LEVELS];       /* port index of level i */
	int cur;                    /* level new messages go to */
	int stable;                 /* level data returns to after a failed probe */
	int64_t probe_timer;        /* > 0 while a probe is scheduled */
	int64_t probes[MAX_LEVELS]; /* failed probes of each level in a row */
	int probe;                  /* level being probed, -1 when none */
	held_t *list;
	try_t *tries;
	uint64_t bytes, items;
	bool closing;
} fo_t;

/* Level i is port "i" (index i + 1). */
const char *const otf__fo_ports[] = {"0", "1", "2", "3", "4", "5", "6", "7", NULL};
#define k_ports otf__fo_ports

static const otf_config_field_t k_schema[] = {
    {.key = "retry_interval",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(fo_config_t, retry_interval_ns),
     .def = "10m",
     .min = "1ms",
     .desc = "After a switch to a lower level, how often a cycle of probes of the higher "
             "levels (from port 0) starts."},
    {.key = "retry_gap",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(fo_config_t, retry_gap_ns),
     .def = "30s",
     .min = "1ms",
     .desc = "Within a probe cycle, the wait after a failed probe of one level before the next "
             "level is probed."},
    {.key = "max_retries",
     .type = OTF_CFG_INT,
     .offset = offsetof(fo_config_t, max_retries),
     .def = "10",
     .min = "0",
     .desc = "Probes of each level in a row without success before that level is no longer "
             "probed (0 = no limit); a success there resets its count."},
    {.key = "attempt_timeout",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(fo_config_t, attempt_timeout_ns),
     .def = "0s",
     .desc = "An attempt on a level not answered within this counts as that level failing: "
             "its copy is cancelled downstream and the message resent to the next level "
             "(0 = wait for the answer)."},
    {.key = "max_bytes",
     .type = OTF_CFG_SIZE,
     .offset = offsetof(fo_config_t, max_bytes),
     .def = "64MiB",
     .min = "1",
     .desc = "Payload bytes held per worker until their outcome is known; a message that does "
             "not fit is nacked retryable and counted as dropped."},
    {.key = "max_items",
     .type = OTF_CFG_UINT,
     .offset = offsetof(fo_config_t, max_items),
     .def = "1000000",
     .min = "1",
     .desc = "Items held per worker, as max_bytes."},
    OTF_CONFIG_FIELD_END,
};

static int nlevels_for(const otf_node_t *node, const int *port, otf_signal_t s)
{
	int n = 0;
	while (n < MAX_LEVELS && otf_node_port_has_output(node, port[n], s))
		n++;
	return n;
}

int otf__fo_create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	fo_t *f = otf_calloc(1, sizeof *f);
	if (!f)
		return OTF_E_NOMEM;
	f->node = ctx->node;
	f->cfg = ctx->config;
	f->probe = -1;
	for (int i = 0; i < MAX_LEVELS; i++)
		f->port[i] = otf_node_port(ctx->node, k_ports[i]);
	*inst = f;
	return 0;
}

/* Levels are the ports 0, 1, ... without gaps; default has no meaning. */
int otf__fo_check_wiring(const void *config, uint32_t in, const uint32_t *ps, uint32_t nports,
                         char *err, size_t errlen)
{
	(void)config;
	if (nports && (ps[0] & in)) {
		snprintf(err, errlen,
		         "edges leave from port default; the levels are the ports 0, 1, ...");
		return OTF_E_CONFIG;
	}
	for (int s = 0; s < OTF_SIGNAL_COUNT; s++) {
		uint32_t bit = 1u << s;
		if (!(in & bit))
			continue;
		bool gap = false;
		for (uint32_t p = 1; p < nports; p++) {
			bool wired = ps[p] & bit;
			if (p == 1 && !wired) {
				snprintf(err, errlen,
				         "%s arrive but port 0 (the first level) is not wired",
				         otf_signal_name((otf_signal_t)s));
				return OTF_E_CONFIG;
			}
			if (!wired)
				gap = true;
			else if (gap) {
				snprintf(
				    err, errlen,
				    "port %u is wired for %s but a port before it is not: levels "
				    "are consecutive from 0",
				    p - 1, otf_signal_name((otf_signal_t)s));
				return OTF_E_CONFIG;
			}
		}
	}
	return 0;
}

static void release(fo_t *f, held_t *h)
{
	if (h->prev)
		h->prev->next = h->next;
	else
		f->list = h->next;
	if (h->next)
		h->next->prev = h->prev;
	f->bytes -= h->payload->len;
	f->items -= h->items;
	otf_buf_unref(h->payload);
	otf_free(h);
}

static void give_up(fo_t *f, held_t *h, int error, bool permanent, const char *why)
{
	if (!permanent)
		otf_node_count(f->node, OTF_COUNTER_DROPPED, h->signal, h->items);
	otf_msg_nack(h->orig, error, permanent, why);
	release(f, h);
}

static bool may_probe(const fo_t *f, int level)
{
	return f->cfg->max_retries <= 0 || f->probes[level] < f->cfg->max_retries;
}

/* The next probe: the first level from `from` up to the one above the
 * stable level that may still be probed, after `ns`; none: nothing. The
 * timer token is that level. */
static void schedule_probe_at(fo_t *f, int from, int64_t ns)
{
	if (f->probe_timer > 0 || f->closing)
		return;
	int level = from;
	while (level < f->stable && !may_probe(f, level))
		level++;
	if (level >= f->stable)
		return;
	uint64_t ms = (uint64_t)ns / 1000000u;
	int64_t id = otf_node_timer_start(f->node, ms ? ms : 1, 0, (uint64_t)level);
	f->probe_timer = id > 0 ? id : 0;
}

/* A new probe cycle from level 0 after retry_interval. */
static void schedule_probe(fo_t *f)
{
	schedule_probe_at(f, 0, f->cfg->retry_interval_ns);
}

static bool past_deadline(const otf_msg_t *m)
{
	uint64_t dl = otf_msg_deadline(m);
	struct timespec ts;
	if (!dl || clock_gettime(CLOCK_REALTIME, &ts))
		return false;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec >= dl;
}

/* Sends h to `level`; on a send failure tries the levels after it. Past
 * the message's deadline nothing is sent: the client no longer waits. */
static void attempt(fo_t *f, held_t *h, int level, const char *last_reason)
{
	if (past_deadline(h->orig)) {
		char why[224];
		snprintf(why, sizeof why, "failover_router: deadline exceeded%s%s",
		         last_reason ? ", last: " : "", last_reason ? last_reason : "");
		give_up(f, h, -ETIMEDOUT, false, why);
		return;
	}
	int n = nlevels_for(f->node, f->port, h->signal);
	for (; level < n; level++) {
		try_t *t = otf_calloc(1, sizeof *t);
		otf_msg_t *m =
		    t ? otf_msg_create(f->node, h->signal, otf_buf_ref(h->payload), h->items)
		      : NULL;
		if (!m || otf_msg_add_source(m, otf_msg_id(h->orig)) ||
		    otf_msg_copy_envelope(m, h->orig) ||
		    otf_msg_subscribe(m, f->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK,
		                      (uint64_t)(uintptr_t)t)) {
			if (m)
				otf_msg_drop(m);
			otf_free(t);
			give_up(f, h, OTF_E_NOMEM, false, "failover_router: out of memory");
			return;
		}
		t->h = h;
		t->copy_id = otf_msg_id(m);
		int rc = otf_node_send_port(f->node, f->port[level], m);
		if (!rc) {
			h->level = level;
			h->cur = t;
			t->next = f->tries;
			if (f->tries)
				f->tries->prev = t;
			f->tries = t;
			if (f->cfg->attempt_timeout_ns > 0) {
				uint64_t ms = (uint64_t)f->cfg->attempt_timeout_ns / 1000000u;
				int64_t id = otf_node_timer_start(f->node, ms ? ms : 1, 0,
				                                  (uint64_t)(uintptr_t)t);
				t->timer = id > 0 ? id : 0;
			}
			return;
		}
		otf_msg_drop(m);
		otf_free(t);
		last_reason = rc == -EAGAIN ? "downstream queue full" : otf_strerror(rc);
	}
	char why[224];
	snprintf(why, sizeof why, "failover_router: every level failed, last: %s",
	         last_reason ? last_reason : "nothing wired");
	give_up(f, h, -EAGAIN, false, why);
}

void otf__fo_consume(void *inst, otf_msg_t *m)
{
	fo_t *f = inst;
	otf_buf_t *p = otf_msg_payload(m);
	uint64_t items = otf_msg_items(m);
	if (f->bytes + p->len > f->cfg->max_bytes || f->items + items > f->cfg->max_items) {
		char why[160];
		snprintf(why, sizeof why,
		         "failover_router: holding %llu bytes, %llu items (max_bytes %llu, "
		         "max_items %llu)",
		         (unsigned long long)f->bytes, (unsigned long long)f->items,
		         (unsigned long long)f->cfg->max_bytes,
		         (unsigned long long)f->cfg->max_items);
		otf_node_count(f->node, OTF_COUNTER_DROPPED, otf_msg_signal(m), items);
		otf_msg_nack(m, OTF_E_NOMEM, false, why);
		return;
	}
	held_t *h = otf_calloc(1, sizeof *h);
	if (!h) {
		otf_msg_nack(m, OTF_E_NOMEM, false, "failover_router: out of memory");
		return;
	}
	h->orig = m;
	h->payload = otf_buf_ref(p);
	h->signal = otf_msg_signal(m);
	h->items = items;
	h->next = f->list;
	if (f->list)
		f->list->prev = h;
	f->list = h;
	f->bytes += p->len;
	f->items += items;
	attempt(f, h, f->cur, NULL);
}

static void on_nack(fo_t *f, held_t *h, const otf_ctrl_t *c)
{
	if (c->permanent || f->closing) {
		char why[224];
		snprintf(why, sizeof why, "%s%s",
		         f->closing ? "failover_router: shutting down: " : "", c->reason);
		give_up(f, h, c->error, c->permanent, why);
		return;
	}
	int n = nlevels_for(f->node, f->port, h->signal);
	int next = h->level + 1;
	if (f->probe >= 0 && h->level == f->probe) {
		/* The probe failed: back to the stable level, whose turn it is to
		 * take this message, and the next higher level retry_gap later. */
		f->probes[h->level]++;
		f->probe = -1;
		f->cur = f->stable;
		if (next < f->stable)
			schedule_probe_at(f, next, f->cfg->retry_gap_ns);
		else
			schedule_probe(f);
	} else if (next < n && f->cur <= h->level) {
		otf_node_log(f->node, OTF_LOG_WARN, "level %d failed (%s): switching to level %d",
		             h->level, c->reason, next);
		f->cur = f->stable = next;
		f->probe = -1;
		schedule_probe(f);
	}
	/* A level below the stable one failed (a probe, or a message sent
	 * during one): the stable level takes it, not the unhealthy ones
	 * between. */
	if (next < f->stable)
		next = f->stable;
	attempt(f, h, next, c->reason);
}

/* The outcome of attempt t has come: t is done; its message, or NULL when
 * the attempt had timed out (its outcome no longer counts). */
static held_t *try_done(fo_t *f, try_t *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		f->tries = t->next;
	if (t->next)
		t->next->prev = t->prev;
	if (t->timer > 0)
		otf_node_timer_stop(f->node, t->timer);
	held_t *h = t->h;
	if (h)
		h->cur = NULL;
	otf_free(t);
	return h;
}

/* attempt_timeout passed for t: its copy is cancelled downstream and the
 * message goes on as if that level had failed. */
static void try_expired(fo_t *f, try_t *t)
{
	held_t *h = t->h;
	t->timer = 0;
	if (!h)
		return;
	t->h = NULL; /* stays in fo.tries until its (ignored) outcome */
	h->cur = NULL;
	otf_ctrl_t c;
	memset(&c, 0, sizeof c);
	c.type = OTF_CTRL_NACK;
	c.error = -ETIMEDOUT;
	snprintf(c.reason, sizeof c.reason,
	         "failover_router: level %d did not answer within attempt_timeout (%lld ms)",
	         h->level, (long long)(f->cfg->attempt_timeout_ns / 1000000));
	otf_msg_cancel(f->node, t->copy_id, c.reason);
	on_nack(f, h, &c);
}

void otf__fo_control(void *inst, const otf_ctrl_t *c)
{
	fo_t *f = inst;
	held_t *h = NULL;
	if (c->type == OTF_CTRL_ACK || c->type == OTF_CTRL_NACK) {
		h = try_done(f, (try_t *)(uintptr_t)c->calldata);
		if (!h) {
			if (c->payload)
				otf_buf_unref(c->payload);
			return;
		}
	}
	switch (c->type) {
	case OTF_CTRL_ACK:
		f->probes[h->level] = 0;
		if (f->probe >= 0 && h->level == f->probe) {
			/* The probed level works: it is the stable one now, and the
			 * levels above it get their cycles. */
			otf_node_log(f->node, OTF_LOG_INFO, "level %d is back: staying there",
			             h->level);
			f->stable = f->cur = h->level;
			f->probe = -1;
			schedule_probe(f);
		}
		otf_msg_ack(h->orig);
		release(f, h);
		break;
	case OTF_CTRL_NACK:
		on_nack(f, h, c);
		break;
	case OTF_CTRL_TMR:
		if (c->calldata >= MAX_LEVELS) { /* an attempt's timer (a try_t) */
			try_expired(f, (try_t *)(uintptr_t)c->calldata);
			break;
		}
		f->probe_timer = 0;
		if ((int)c->calldata < f->stable && f->probe < 0) {
			otf_node_log(f->node, OTF_LOG_INFO,
			             "probing level %d again (from level %d)", (int)c->calldata,
			             f->stable);
			f->cur = f->probe = (int)c->calldata;
		}
		break;
	case OTF_CTRL_KIL:
		f->closing = true;
		if (f->probe_timer > 0)
			otf_node_timer_stop(f->node, f->probe_timer);
		f->probe_timer = 0;
		for (try_t *t = f->tries; t; t = t->next)
			if (t->timer > 0) {
				otf_node_timer_stop(f->node, t->timer);
				t->timer = 0;
			}
		otf_node_shutdown_done(f->node);
		break;
	default:
		break;
	}
	if (c->payload)
		otf_buf_unref(c->payload);
}

void otf__fo_destroy(void *inst)
{
	fo_t *f = inst;
	while (f->list) {
		otf_msg_drop(f->list->orig);
		release(f, f->list);
	}
	while (f->tries) {
		try_t *t = f->tries;
		f->tries = t->next;
		otf_free(t);
	}
	otf_free(f);
}

const otf_component_factory_t otf_processor_failover_router_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "failover_router",
    .description = "Sends to the first healthy of ordered levels (ports 0, 1, ...); on a "
                   "retryable failure switches and resends to the next, probes the higher levels "
                   "every retry_interval.",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_schema,
    .config_size = sizeof(fo_config_t),
    .create = {otf__fo_create, otf__fo_create, otf__fo_create},
    .consume = {otf__fo_consume, otf__fo_consume, otf__fo_consume},
    .control = otf__fo_control,
    .destroy = otf__fo_destroy,
    .ports = k_ports,
    .check_wiring = otf__fo_check_wiring,
};
