/* The host side of every plugin node: a wrapper instance between the
 * engine and the plugin's own, so that a message the plugin never answers
 * is NACKed at its deadline (issue: "one that never acks -> the message's
 * deadline NACKs it") instead of holding its sender until shutdown.
 *
 * The registered factory of a plugin type is a host copy whose callbacks
 * are the trampolines below; the plugin's factory is kept next to it.
 * consume links each message that has a deadline on the node's held list
 * and arms a 50 ms repeating timer; every way the plugin lets go of a
 * message (ack, nack, drop, send, the async pair) goes through the host
 * table's wrappers, which unlink it. When the timer finds a held message
 * past its deadline, the upstream gets NACK -ETIMEDOUT (retryable) at once
 * and the message stays allocated, marked expired, until the plugin lets
 * go of it; then it is only freed. Messages without a deadline are not
 * tracked. */
#include "engine/engine_internal.h"
#include "engine/plugin_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <errno.h>
#include <time.h>

#define GUARD_TIMER_TOKEN 0x706c7567696e4764ull /* "pluginGd" */
#define GUARD_PERIOD_MS   50

typedef struct guard {
	const otf_component_factory_t *pf; /* the plugin's own factory */
	void *inst;                        /* the plugin's instance */
	otf_node_t *node;
	otf_msg_t *held;    /* messages with a deadline the plugin owns */
	otf_msg_t *orphans; /* expired, waiting for the plugin to let go */
	int64_t timer;
	uint64_t expired; /* count, for the log line */
} guard_t;

static void link_to(otf_msg_t **head, otf_msg_t *m)
{
	m->held_prev = NULL;
	m->held_next = *head;
	if (*head)
		(*head)->held_prev = m;
	*head = m;
}

static void unlink_from(otf_msg_t **head, otf_msg_t *m)
{
	if (m->held_prev)
		m->held_prev->held_next = m->held_next;
	else
		*head = m->held_next;
	if (m->held_next)
		m->held_next->held_prev = m->held_prev;
	m->held_prev = m->held_next = NULL;
}

/* Takes m off its guard's lists; true when it had expired (answered
 * already: the caller frees it instead of answering). */
static bool release(otf_msg_t *m)
{
	guard_t *g = m->held_by;
	if (!g)
		return m->expired;
	unlink_from(m->expired ? &g->orphans : &g->held, m);
	m->held_by = NULL;
	return m->expired;
}

static uint64_t unix_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sweep(guard_t *g)
{
	uint64_t now = unix_ns();
	otf_msg_t *m = g->held;
	while (m) {
		otf_msg_t *next = m->held_next;
		if (m->deadline && m->deadline <= now) {
			unlink_from(&g->held, m);
			otf__msg_expire(
			    m, -ETIMEDOUT,
			    "deadline exceeded while a plugin component held the message");
			link_to(&g->orphans, m);
			g->expired++;
			if ((g->expired & (g->expired - 1)) == 0) /* 1, 2, 4, 8, ... */
				otf_node_log(
				    g->node, OTF_LOG_WARN,
				    "plugin held %llu message(s) past their deadline: NACKed "
				    "upstream (retryable)",
				    (unsigned long long)g->expired);
		}
		m = next;
	}
	if (!g->held && g->timer >= 0) {
		otf_node_timer_stop(g->node, g->timer);
		g->timer = -1;
	}
}

/* ---- trampolines: the engine calls these, they call the plugin ---- */

static int t_create(const otf_create_ctx_t *ctx, void **instance)
{
	const otf_component_factory_t *pf = otf__plugin_original(ctx->node->def->factory);
	guard_t *g = *instance;
	if (!g) {
		g = otf_calloc(1, sizeof *g);
		if (!g)
			return OTF_E_NOMEM;
		g->pf = pf;
		g->node = ctx->node;
		g->timer = -1;
	}
	int rc = pf->create[ctx->signal] ? pf->create[ctx->signal](ctx, &g->inst) : OTF_E_INVAL;
	if (rc && !*instance) {
		otf_free(g);
		return rc;
	}
	*instance = g;
	return rc;
}

static int t_start(void *instance)
{
	guard_t *g = instance;
	return g->pf->start ? g->pf->start(g->inst) : 0;
}

static void t_consume(void *instance, otf_msg_t *m)
{
	guard_t *g = instance;
	if (m->deadline) {
		m->held_by = g;
		link_to(&g->held, m);
		if (g->timer < 0)
			g->timer = otf_node_timer_start(g->node, GUARD_PERIOD_MS, GUARD_PERIOD_MS,
			                                GUARD_TIMER_TOKEN);
	}
	g->pf->consume[m->signal](g->inst, m);
}

static void t_control(void *instance, const otf_ctrl_t *c)
{
	guard_t *g = instance;
	if (c->type == OTF_CTRL_TMR && c->calldata == GUARD_TIMER_TOKEN) {
		sweep(g);
		return;
	}
	if (g->pf->control)
		g->pf->control(g->inst, c);
	else if (c->type == OTF_CTRL_KIL)
		otf_node_shutdown_done(g->node);
}

/* Only installed when the plugin's factory (ABI 1.1 or later) has one. */
static int t_reconfigure(void *instance, const void *config, char *err, size_t errlen)
{
	guard_t *g = instance;
	return g->inst ? g->pf->reconfigure(g->inst, config, err, errlen) : 0;
}

static void t_destroy(void *instance)
{
	guard_t *g = instance;
	if (g->pf->destroy && g->inst)
		g->pf->destroy(g->inst);
	/* What the plugin never let go of: nobody refers to it any more. */
	while (g->orphans) {
		otf_msg_t *m = g->orphans;
		unlink_from(&g->orphans, m);
		otf__msg_free(m);
	}
	while (g->held) {
		otf_msg_t *m = g->held;
		unlink_from(&g->held, m);
		m->held_by = NULL;
	}
	otf_free(g);
}

void otf__plugin_guard_factory(otf_component_factory_t *hf)
{
	for (int s = 0; s < OTF_SIGNAL_COUNT; s++) {
		if (hf->create[s])
			hf->create[s] = t_create;
		if (hf->consume[s])
			hf->consume[s] = t_consume;
	}
	hf->start = t_start;
	hf->control = t_control;
	hf->destroy = t_destroy;
	if (hf->reconfigure)
		hf->reconfigure = t_reconfigure;
}

/* ---- the host table's message calls, for plugins ---- */

void otf__plugin_msg_done(otf_msg_t *m, int error, bool permanent, const char *reason,
                          uint64_t retry_after_ns)
{
	if (release(m)) {
		otf__msg_free(m);
		return;
	}
	if (error && retry_after_ns && !permanent)
		otf_msg_nack_throttled(m, error, retry_after_ns, reason);
	else if (error)
		otf_msg_nack(m, error, permanent, reason);
	else
		otf_msg_ack(m);
}

void otf__plugin_msg_ack(otf_msg_t *m)
{
	otf__plugin_msg_done(m, 0, false, NULL, 0);
}

void otf__plugin_msg_nack(otf_msg_t *m, int error, bool permanent, const char *reason)
{
	otf__plugin_msg_done(m, error ? error : OTF_E_IO, permanent, reason, 0);
}

void otf__plugin_msg_nack_throttled(otf_msg_t *m, int error, uint64_t retry_after_ns,
                                    const char *reason)
{
	otf__plugin_msg_done(m, error ? error : OTF_E_IO, false, reason, retry_after_ns);
}

void otf__plugin_msg_drop(otf_msg_t *m)
{
	if (release(m))
		otf__msg_free(m);
	else
		otf_msg_drop(m);
}

int otf__plugin_node_send_port(otf_node_t *node, int port, otf_msg_t *m)
{
	guard_t *g = m->held_by;
	bool expired = release(m);
	if (expired) {
		otf__msg_free(m); /* answered already: forwarding it would answer twice */
		return 0;
	}
	int rc = otf_node_send_port(node, port, m);
	if (rc && g) { /* still the plugin's */
		m->held_by = g;
		link_to(&g->held, m);
	}
	return rc;
}

int otf__plugin_node_send(otf_node_t *node, otf_msg_t *m)
{
	return otf__plugin_node_send_port(node, 0, m);
}
