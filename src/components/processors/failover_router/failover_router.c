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
 * After a switch, every retry_interval the node probes the highest level
 * again (the next message goes to level 0; if it fails there it falls
 * through the levels as any other), at most max_retries times in a row
 * without success (0 = no limit); an ACK from level 0 resets the count.
 *
 * Bounded by max_bytes / max_items held per worker: a message past them is
 * nacked retryable and counted as dropped. Each worker keeps its own
 * current level (share-nothing). Not offered yet: the connector's
 * retry_gap and several pipelines per level. */
#include "otflow/alloc.h"
#include "otflow/component.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define MAX_LEVELS 8

typedef struct fo_config {
	int64_t retry_interval_ns;
	int64_t max_retries;
	uint64_t max_bytes;
	uint64_t max_items;
} fo_config_t;

typedef struct held held_t;
struct held {
	held_t *prev, *next;
	otf_msg_t *orig;
	otf_buf_t *payload; /* one reference */
	otf_signal_t signal;
	uint64_t items;
	int level; /* of the attempt in flight */
};

typedef struct fo {
	otf_node_t *node;
	const fo_config_t *cfg;
	int port[MAX_LEVELS]; /* port index of level i */
	int cur;              /* current level */
	int64_t probe_timer;  /* > 0 while a probe is scheduled */
	int64_t probes;       /* failed probes in a row */
	bool probing;         /* level 0 is being tried again after a switch */
	held_t *list;
	uint64_t bytes, items;
	bool closing;
} fo_t;

/* Level i is port "i" (index i + 1). */
static const char *const k_ports[] = {"0", "1", "2", "3", "4", "5", "6", "7", NULL};

static const otf_config_field_t k_schema[] = {
    {.key = "retry_interval",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(fo_config_t, retry_interval_ns),
     .def = "10m",
     .min = "1ms",
     .desc = "After a switch to a lower level, how often the highest level (port 0) is tried "
             "again."},
    {.key = "max_retries",
     .type = OTF_CFG_INT,
     .offset = offsetof(fo_config_t, max_retries),
     .def = "10",
     .min = "0",
     .desc = "Probes of the highest level in a row without success before probing stops "
             "(0 = no limit); a success there resets the count."},
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

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	fo_t *f = otf_calloc(1, sizeof *f);
	if (!f)
		return OTF_E_NOMEM;
	f->node = ctx->node;
	f->cfg = ctx->config;
	for (int i = 0; i < MAX_LEVELS; i++)
		f->port[i] = otf_node_port(ctx->node, k_ports[i]);
	*inst = f;
	return 0;
}

/* Levels are the ports 0, 1, ... without gaps; default has no meaning. */
static int check_wiring(const void *config, uint32_t in, const uint32_t *ps, uint32_t nports,
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

static void schedule_probe(fo_t *f)
{
	if (f->probe_timer > 0 || f->cur == 0 || f->closing)
		return;
	if (f->cfg->max_retries > 0 && f->probes >= f->cfg->max_retries)
		return;
	uint64_t ms = (uint64_t)f->cfg->retry_interval_ns / 1000000u;
	int64_t id = otf_node_timer_start(f->node, ms ? ms : 1, 0, 0);
	f->probe_timer = id > 0 ? id : 0;
}

/* Sends h to `level`; on a send failure tries the levels after it. */
static void attempt(fo_t *f, held_t *h, int level, const char *last_reason)
{
	int n = nlevels_for(f->node, f->port, h->signal);
	for (; level < n; level++) {
		otf_msg_t *m =
		    otf_msg_create(f->node, h->signal, otf_buf_ref(h->payload), h->items);
		if (!m || otf_msg_add_source(m, otf_msg_id(h->orig)) ||
		    otf_msg_copy_envelope(m, h->orig) ||
		    otf_msg_subscribe(m, f->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK,
		                      (uint64_t)(uintptr_t)h)) {
			if (m)
				otf_msg_drop(m);
			give_up(f, h, OTF_E_NOMEM, false, "failover_router: out of memory");
			return;
		}
		int rc = otf_node_send_port(f->node, f->port[level], m);
		if (!rc) {
			h->level = level;
			return;
		}
		otf_msg_drop(m);
		last_reason = rc == -EAGAIN ? "downstream queue full" : otf_strerror(rc);
	}
	char why[224];
	snprintf(why, sizeof why, "failover_router: every level failed, last: %s",
	         last_reason ? last_reason : "nothing wired");
	give_up(f, h, -EAGAIN, false, why);
}

static void consume(void *inst, otf_msg_t *m)
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
	if (h->level == 0 && f->probing) {
		f->probing = false;
		f->probes++;
	}
	if (next < n && f->cur <= h->level) {
		otf_node_log(f->node, OTF_LOG_WARN, "level %d failed (%s): switching to level %d",
		             h->level, c->reason, next);
		f->cur = next;
		schedule_probe(f);
	}
	attempt(f, h, next, c->reason);
}

static void control(void *inst, const otf_ctrl_t *c)
{
	fo_t *f = inst;
	held_t *h = (held_t *)(uintptr_t)c->calldata;
	switch (c->type) {
	case OTF_CTRL_ACK:
		if (h->level == 0) { /* level 0 is healthy: probing starts afresh */
			f->probes = 0;
			f->probing = false;
		}
		otf_msg_ack(h->orig);
		release(f, h);
		break;
	case OTF_CTRL_NACK:
		on_nack(f, h, c);
		break;
	case OTF_CTRL_TMR:
		f->probe_timer = 0;
		if (f->cur != 0) {
			otf_node_log(f->node, OTF_LOG_INFO, "probing level 0 again (from level %d)",
			             f->cur);
			f->cur = 0;
			f->probing = true;
		}
		break;
	case OTF_CTRL_KIL:
		f->closing = true;
		if (f->probe_timer > 0)
			otf_node_timer_stop(f->node, f->probe_timer);
		f->probe_timer = 0;
		otf_node_shutdown_done(f->node);
		break;
	default:
		break;
	}
	if (c->payload)
		otf_buf_unref(c->payload);
}

static void destroy(void *inst)
{
	fo_t *f = inst;
	while (f->list) {
		otf_msg_drop(f->list->orig);
		release(f, f->list);
	}
	otf_free(f);
}

const otf_component_factory_t otf_processor_failover_router_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "failover_router",
    .description = "Sends to the first healthy of ordered levels (ports 0, 1, ...); on a "
                   "retryable failure switches and resends to the next, probes level 0 again "
                   "every retry_interval.",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_schema,
    .config_size = sizeof(fo_config_t),
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .destroy = destroy,
    .ports = k_ports,
    .check_wiring = check_wiring,
};
