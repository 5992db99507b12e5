/* processor `admission` (admission controller, the REB signal of
 * otflow/component.h): publishes a resource budget upstream from its own
 * thresholds, so that the receivers in front of it refuse (HTTP 503 / 429
 * with Retry-After, gRPC RESOURCE_EXHAUSTED) and stop reading before the
 * pipeline behind it is overrun:
 *
 *   - max_in_flight_messages / max_in_flight_bytes: messages (and their
 *     payload bytes) it forwarded whose outcome has not come back yet, the
 *     queue depth of everything downstream (channels, batches, sending
 *     queues, requests in flight). The budget is what is left.
 *   - max_rss_mib: the process's resident set (/proc/self/statm), checked
 *     every check_interval; at or above it the budget is 0.
 *   - rate_limit: items (spans, data points, log records) per second, a
 *     token bucket of one second's worth refilled every check_interval;
 *     empty, the budget is 0 flagged as a rate (receivers answer 429).
 *
 * Each message is carried on by a copy (same payload, envelope and
 * sources) whose outcome it subscribes to and then answers the original
 * with, so nothing is held but the count. A message above a threshold
 * that arrives anyway (sent before the receiver heard of the budget) is
 * nacked retryable (OTF_E_NOMEM for memory, -EAGAIN otherwise). 0 in a
 * threshold = no limit on it; with none set the processor only passes
 * data on (a startup warning says so). */
#include "otflow/alloc.h"
#include "otflow/component.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MIB (1024u * 1024u)

typedef struct adm_config {
	int64_t check_interval_ns;
	uint64_t max_in_flight_messages;
	uint64_t max_in_flight_bytes;
	uint64_t max_rss_mib;
	uint64_t rate_limit;
	int64_t retry_after_ns;
} adm_config_t;

/* A message carried on: the original, answered when its copy is. */
typedef struct flight {
	otf_msg_t *orig;
	uint64_t orig_id, copy_id, bytes;
	struct flight *prev, *next;
} flight_t;

typedef struct adm {
	otf_node_t *node;
	flight_t *flights;
	const adm_config_t *cfg;
	uint64_t msgs, bytes; /* in flight */
	double tokens;        /* rate_limit bucket, items */
	uint64_t rss;         /* bytes, at the last check */
	bool rss_over;
	int64_t timer;
	/* The budget last published and what was forwarded since: the
	 * receivers' view is published minus forwarded (they spend as they
	 * send), so it is only refreshed when that runs low. */
	otf_budget_t pub;
	bool published;
	uint64_t fwd_msgs, fwd_bytes;
	bool closing;
} adm_t;

static uint64_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return 0;
	unsigned long long size = 0, res = 0;
	int n = fscanf(f, "%llu %llu", &size, &res);
	fclose(f);
	return n == 2 ? (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

static uint64_t left(uint64_t limit, uint64_t used)
{
	if (!limit)
		return OTF_BUDGET_UNLIMITED;
	return used < limit ? limit - used : 0;
}

static otf_budget_t budget_now(const adm_t *a)
{
	const adm_config_t *c = a->cfg;
	uint32_t ra = (uint32_t)(c->retry_after_ns / 1000000);
	otf_budget_t b = {left(c->max_in_flight_bytes, a->bytes), OTF_BUDGET_UNLIMITED,
	                  left(c->max_in_flight_messages, a->msgs), ra, 0};
	if (c->rate_limit) {
		b.items = a->tokens >= 1 ? (uint64_t)a->tokens : 0;
		if (!b.items) {
			b.flags = OTF_BUDGET_RATE;
			/* One item's worth of refill, at least the check interval. */
			uint64_t ms = 1000 / c->rate_limit + 1;
			uint64_t iv = (uint64_t)(c->check_interval_ns / 1000000);
			b.retry_after_ms = (uint32_t)(ms > iv ? ms : iv);
		}
	}
	if (a->rss_over || a->closing)
		b.bytes = b.items = b.msgs = 0;
	if (!b.bytes || !b.items || !b.msgs)
		b.bytes = b.items = b.msgs = 0;
	return b;
}

static void publish(adm_t *a, bool force)
{
	otf_budget_t b = budget_now(a);
	/* Refresh when the receivers' view (published less forwarded) fell
	 * under half of what is really left, or at a stop / restart. */
	bool stop = !b.msgs, was_stop = a->published && !a->pub.msgs;
	if (!force && a->published && stop == was_stop) {
		uint64_t view_m = a->pub.msgs == OTF_BUDGET_UNLIMITED
		                      ? OTF_BUDGET_UNLIMITED
		                      : (a->pub.msgs > a->fwd_msgs ? a->pub.msgs - a->fwd_msgs : 0);
		uint64_t view_b =
		    a->pub.bytes == OTF_BUDGET_UNLIMITED
		        ? OTF_BUDGET_UNLIMITED
		        : (a->pub.bytes > a->fwd_bytes ? a->pub.bytes - a->fwd_bytes : 0);
		if (view_m >= b.msgs / 2 && view_b >= b.bytes / 2 && !a->cfg->rate_limit)
			return;
	}
	a->pub = b;
	a->published = true;
	a->fwd_msgs = a->fwd_bytes = 0;
	otf_node_publish_budget(a->node, &b);
}

static void check(adm_t *a)
{
	const adm_config_t *c = a->cfg;
	if (c->max_rss_mib) {
		a->rss = rss_bytes();
		bool over = a->rss >= c->max_rss_mib * MIB;
		if (over != a->rss_over)
			otf_node_log(a->node, over ? OTF_LOG_WARN : OTF_LOG_INFO,
			             "resident memory %" PRIu64 " MiB is %s max_rss_mib %" PRIu64
			             ": %s",
			             a->rss / MIB, over ? "at or above" : "below again",
			             c->max_rss_mib, over ? "refusing data" : "accepting data");
		a->rss_over = over;
	}
	if (c->rate_limit) {
		double add = (double)c->rate_limit * (double)c->check_interval_ns / 1e9;
		a->tokens += add;
		if (a->tokens > (double)c->rate_limit)
			a->tokens = (double)c->rate_limit;
	}
	publish(a, true);
}

static void consume(void *inst, otf_msg_t *m)
{
	adm_t *a = inst;
	const adm_config_t *c = a->cfg;
	uint64_t bytes = otf_msg_payload(m) ? otf_msg_payload(m)->len : 0;
	uint64_t items = otf_msg_items(m);
	if (a->rss_over) {
		otf_node_count(a->node, OTF_COUNTER_DROPPED, otf_msg_signal(m), items);
		otf_msg_nack(m, OTF_E_NOMEM, false, "admission: resident memory above max_rss_mib");
		return;
	}
	if ((c->max_in_flight_messages && a->msgs >= c->max_in_flight_messages) ||
	    (c->max_in_flight_bytes && a->bytes + bytes > c->max_in_flight_bytes) ||
	    (c->rate_limit && a->tokens < (double)items && a->tokens < (double)c->rate_limit)) {
		otf_node_count(a->node, OTF_COUNTER_DROPPED, otf_msg_signal(m), items);
		otf_msg_nack(m, -EAGAIN, false, "admission: budget exhausted, retry later");
		publish(a, false);
		return;
	}
	flight_t *fl = otf_calloc(1, sizeof *fl);
	otf_msg_t *copy =
	    fl ? otf_msg_create(a->node, otf_msg_signal(m), otf_buf_ref(otf_msg_payload(m)), items)
	       : NULL;
	if (!copy || otf_msg_copy_envelope(copy, m) ||
	    otf_msg_subscribe(copy, a->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK,
	                      (uint64_t)(uintptr_t)fl)) {
		if (copy)
			otf_msg_drop(copy);
		otf_free(fl);
		otf_msg_nack(m, OTF_E_NOMEM, false, "admission: out of memory");
		return;
	}
	fl->orig = m;
	fl->orig_id = otf_msg_id(m);
	fl->copy_id = otf_msg_id(copy);
	fl->bytes = bytes;
	const uint64_t *src;
	size_t ns = otf_msg_sources(m, &src);
	for (size_t i = 0; i < ns; i++)
		otf_msg_add_source(copy, src[i]);
	otf_msg_add_source(copy, otf_msg_id(m));
	int rc = otf_node_send(a->node, copy);
	if (rc) {
		otf_msg_drop(copy);
		otf_free(fl);
		otf_msg_nack(m, rc, false, "admission: cannot forward");
		return;
	}
	fl->next = a->flights;
	if (a->flights)
		a->flights->prev = fl;
	a->flights = fl;
	a->msgs++;
	a->bytes += bytes;
	a->fwd_msgs++;
	a->fwd_bytes += bytes;
	if (c->rate_limit)
		a->tokens -= (double)items;
	publish(a, false);
}

static void control(void *inst, const otf_ctrl_t *c)
{
	adm_t *a = inst;
	switch (c->type) {
	case OTF_CTRL_ACK:
	case OTF_CTRL_NACK: {
		flight_t *fl = (flight_t *)(uintptr_t)c->calldata;
		otf_msg_t *m = fl->orig;
		uint64_t bytes = fl->bytes;
		if (fl->prev)
			fl->prev->next = fl->next;
		else
			a->flights = fl->next;
		if (fl->next)
			fl->next->prev = fl->prev;
		otf_free(fl);
		a->msgs--;
		a->bytes -= bytes < a->bytes ? bytes : a->bytes;
		if (c->type == OTF_CTRL_ACK)
			otf_msg_ack(m);
		else
			otf_msg_nack(m, c->error, c->permanent, c->reason);
		publish(a, false);
		break;
	}
	case OTF_CTRL_CAN:
		/* The copy carries another id: cancel it too, downstream. */
		for (flight_t *fl = a->flights; fl; fl = fl->next)
			if (fl->orig_id == c->msg_id) {
				otf_node_count(a->node, OTF_COUNTER_CANCELLED,
				               otf_msg_signal(fl->orig), otf_msg_items(fl->orig));
				otf_msg_cancel(a->node, fl->copy_id, c->reason);
				break;
			}
		break;
	case OTF_CTRL_TMR:
		check(a);
		break;
	case OTF_CTRL_KIL:
		a->closing = true;
		if (a->timer > 0)
			otf_node_timer_stop(a->node, a->timer);
		a->timer = 0;
		otf_node_publish_budget(a->node, NULL);
		otf_node_shutdown_done(a->node);
		break;
	default:
		break;
	}
	if (c->payload)
		otf_buf_unref(c->payload);
}

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	const adm_config_t *cfg = ctx->config;
	adm_t *a = otf_calloc(1, sizeof *a);
	if (!a)
		return OTF_E_NOMEM;
	a->node = ctx->node;
	a->cfg = cfg;
	a->tokens = (double)cfg->rate_limit;
	if (!cfg->max_in_flight_messages && !cfg->max_in_flight_bytes && !cfg->max_rss_mib &&
	    !cfg->rate_limit && otf_node_worker_index(a->node) == 0)
		otf_node_log(a->node, OTF_LOG_WARN,
		             "no threshold set (max_in_flight_messages, max_in_flight_bytes, "
		             "max_rss_mib, rate_limit): data is only passed on");
	uint64_t ms = (uint64_t)(cfg->check_interval_ns / 1000000);
	a->timer = otf_node_timer_start(a->node, ms ? ms : 1, ms ? ms : 1, 1);
	if (a->timer < 0) {
		int rc = (int)a->timer;
		otf_free(a);
		return rc;
	}
	check(a);
	*inst = a;
	return 0;
}

static void destroy(void *inst)
{
	adm_t *a = inst;
	/* At the shutdown deadline: the originals go unanswered (counted by
	 * the engine as undelivered), the copies with the engine. */
	while (a->flights) {
		flight_t *fl = a->flights;
		a->flights = fl->next;
		otf_msg_drop(fl->orig);
		otf_free(fl);
	}
	otf_free(a);
}

static int validate(const void *config, char *err, size_t errlen)
{
	const adm_config_t *c = config;
	if (c->check_interval_ns <= 0) {
		snprintf(err, errlen, "check_interval must be greater than zero");
		return OTF_E_CONFIG;
	}
	if (c->retry_after_ns < 0) {
		snprintf(err, errlen, "retry_after must not be negative");
		return OTF_E_CONFIG;
	}
	return 0;
}

static const otf_config_field_t k_schema[] = {
    {.key = "check_interval",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(adm_config_t, check_interval_ns),
     .def = "100ms",
     .desc = "How often max_rss_mib is measured and rate_limit's bucket refilled."},
    {.key = "max_in_flight_messages",
     .type = OTF_CFG_UINT,
     .offset = offsetof(adm_config_t, max_in_flight_messages),
     .def = "0",
     .desc = "Messages forwarded whose outcome has not come back (the queue depth "
             "downstream) above which receivers refuse; 0 = no limit."},
    {.key = "max_in_flight_bytes",
     .type = OTF_CFG_SIZE,
     .offset = offsetof(adm_config_t, max_in_flight_bytes),
     .def = "0",
     .desc = "Payload bytes in flight downstream above which receivers refuse; 0 = no "
             "limit."},
    {.key = "max_rss_mib",
     .type = OTF_CFG_UINT,
     .offset = offsetof(adm_config_t, max_rss_mib),
     .def = "0",
     .desc = "Process resident memory in MiB at or above which receivers refuse (checked "
             "every check_interval); 0 = no limit."},
    {.key = "rate_limit",
     .type = OTF_CFG_UINT,
     .offset = offsetof(adm_config_t, rate_limit),
     .def = "0",
     .desc = "Items (spans, data points, log records) per second per worker; beyond it "
             "receivers answer 429 / RESOURCE_EXHAUSTED; 0 = no limit."},
    {.key = "retry_after",
     .type = OTF_CFG_DURATION,
     .offset = offsetof(adm_config_t, retry_after_ns),
     .def = "1s",
     .desc = "Retry-After (HTTP) / RetryInfo (gRPC) given with a refusal for in-flight "
             "and memory limits."},
    OTF_CONFIG_FIELD_END,
};

const otf_component_factory_t otf_processor_admission_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_PROCESSOR,
    .type = "admission",
    .description = "Admission controller: publishes a resource budget (REB) from in-flight, "
                   "memory and rate thresholds, so receivers refuse and stop reading early.",
    .stability = {OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT, OTF_STABILITY_DEVELOPMENT},
    .config_schema = k_schema,
    .config_size = sizeof(adm_config_t),
    .validate = validate,
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .destroy = destroy,
};
