/* receiver `kafka`: consumes OTLP messages from Kafka topics with
 * librdkafka's group consumer, one group member per worker.
 *
 * Delivery (message_marking.after: true): every message is tracked per
 * partition (kafka_offsets.h) and its offset is stored for commit only
 * when the pipeline acknowledged it and every earlier message of the
 * partition, so a crash or a rebalance redelivers at most the
 * unacknowledged tail (at-least-once); in steady state nothing is consumed
 * twice. A retryable NACK (and backpressure at send) keeps the message,
 * pauses its partition and sends it again after error_backoff: nothing is
 * skipped. A permanent NACK (or bytes that do not decode) is marked and
 * counted only with message_marking.on_permanent_error (default on_error);
 * otherwise it is redelivered like a retryable one and blocks its
 * partition, as the Collector documents. At most max_inflight_per_partition
 * messages of a partition are held; the partition is paused at the bound
 * and resumed when it drains.
 *
 * Rebalance: revoked partitions commit what is marked and forget their
 * held messages (late outcomes are ignored: slots carry a generation), so
 * the new owner consumes them again from the committed offset.
 *
 * Envelope: kafka.topic, kafka.partition, kafka.offset and every Kafka
 * header are message headers (the Collector's request metadata);
 * header_extraction also adds the listed headers to every resource as
 * kafka.header.<name>.
 *
 * Self-metrics per partition (otflow/selfmetric.h):
 * otelcol_kafka_receiver_commits, _redeliveries, _skipped, _offset_lag
 * (kafka_receiver_metrics.c). */
#include "kafka_receiver_state.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"
#include "otflow/pdata_view.h"
#include "otflow/selfmetric.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define TIMER_TOKEN 0x4b524356ull

static void maybe_close(krcv_t *r);
static void serve_close(krcv_t *r);

/* ---- sending ---- */

static void arm_timer(krcv_t *r, uint64_t due)
{
	if (r->timer > 0 && r->timer_due <= due)
		return;
	if (r->timer > 0)
		otf_node_timer_stop(r->node, r->timer);
	uint64_t now = uv_now(r->loop);
	int64_t id = otf_node_timer_start(r->node, due > now ? due - now : 1, 0, TIMER_TOKEN);
	r->timer = id > 0 ? id : 0;
	r->timer_due = due;
}

/* h waits for a redelivery after error_backoff; its partition pauses. */
static void redeliver_later(krcv_t *r, int hi, const char *why)
{
	held_t *h = &r->held[hi];
	part_t *p = r->parts[h->part];
	if (r->closing) {
		otf__krcv_held_free(r, hi); /* not marked: consumed again after a restart */
		maybe_close(r);
		return;
	}
	uint64_t now = uv_now(r->loop);
	const otf_exph_retry_config_t *bc = &r->cfg->error_backoff;
	otf_exph_retry_config_t forever = *bc;
	forever.max_elapsed_time_ns = 0;
	if (!h->attempts)
		otf__exph_backoff_reset(&h->backoff, &forever, now * 1000000ull);
	int64_t delay = bc->enabled
	                    ? otf__exph_backoff_next(&h->backoff, &forever, now * 1000000ull, 0.5)
	                    : bc->initial_interval_ns;
	if (bc->enabled && bc->max_elapsed_time_ns && !h->warned &&
	    (int64_t)(now * 1000000ull - h->backoff.start_ns) > bc->max_elapsed_time_ns) {
		h->warned = true;
		otf_node_log(r->node, OTF_LOG_WARN,
		             "%s/%d offset %" PRId64 " still failing after max_elapsed_time; "
		             "redelivering, never skipping: %s",
		             p->topic, (int)p->partition, h->offset, why);
	}
	h->attempts++;
	h->waiting = true;
	p->waiting++;
	h->due_ms = now + (uint64_t)(delay > 0 ? delay : 1000000) / 1000000;
	if (now - r->last_err_log_ms >= 1000 || !r->last_err_log_ms) {
		r->last_err_log_ms = now;
		otf_node_log(r->node, OTF_LOG_INFO,
		             "%s/%d offset %" PRId64 " failed, redelivered in %llums: %s", p->topic,
		             (int)p->partition, h->offset, (unsigned long long)(h->due_ms - now),
		             why);
	}
	otf__krcv_part_pause(r, p);
	arm_timer(r, h->due_ms);
}

static void settle(krcv_t *r, int hi)
{
	held_t *h = &r->held[hi];
	part_t *p = r->parts[h->part];
	int64_t pos = otf__kafka_track_done(&p->track, h->offset);
	if (pos > 0 && r->cfg->marking.after)
		otf__krcv_part_store(r, p, pos);
	otf__krcv_held_free(r, hi);
	otf__krcv_part_maybe_resume(r, p);
	maybe_close(r);
}

static bool mark_permanent(const krcv_t *r)
{
	return r->cfg->marking.on_permanent_error_present ? r->cfg->marking.on_permanent_error
	                                                  : r->cfg->marking.on_error;
}

static void permanent(krcv_t *r, int hi, const char *why)
{
	held_t *h = &r->held[hi];
	part_t *p = r->parts[h->part];
	if (!mark_permanent(r)) {
		redeliver_later(r, hi, why);
		return;
	}
	otf_selfcounter_add(&p->m.skipped, 1);
	otf_node_count(r->node, OTF_COUNTER_REFUSED, p->signal, h->items);
	otf_node_log(r->node, OTF_LOG_WARN,
	             "%s/%d offset %" PRId64 " refused permanently, marked and skipped: %s",
	             p->topic, (int)p->partition, h->offset, why);
	settle(r, hi);
}

static void send_held(krcv_t *r, int hi)
{
	held_t *h = &r->held[hi];
	part_t *p = r->parts[h->part];
	char why[320];
	if (!h->payload && otf__krcv_convert(r->cfg, p->signal, p->enc, h->rkm, &h->payload,
	                                     &h->items, why, sizeof why)) {
		permanent(r, hi, why);
		return;
	}
	otf_msg_t *m = otf_msg_create(r->node, p->signal, otf_buf_ref(h->payload), h->items);
	if (!m) {
		redeliver_later(r, hi, "out of memory");
		return;
	}
	char v[32];
	otf_msg_header_add(m, "kafka.topic", p->topic);
	snprintf(v, sizeof v, "%d", (int)p->partition);
	otf_msg_header_add(m, "kafka.partition", v);
	snprintf(v, sizeof v, "%" PRId64, h->offset);
	otf_msg_header_add(m, "kafka.offset", v);
	rd_kafka_headers_t *hdrs = NULL;
	if (!rd_kafka_message_headers(h->rkm, &hdrs)) {
		const char *name;
		const void *val;
		size_t vl;
		for (size_t i = 0; !rd_kafka_header_get_all(hdrs, i, &name, &val, &vl); i++) {
			char buf[512];
			snprintf(buf, sizeof buf, "%.*s", (int)vl, val ? (const char *)val : "");
			otf_msg_header_add(m, name, buf);
		}
	}
	uint64_t cd = (uint64_t)h->gen << 32 | (uint32_t)hi;
	int rc = otf_msg_subscribe(m, r->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK, cd);
	if (!rc)
		rc = otf_node_send(r->node, m);
	if (rc) {
		otf_msg_drop(m);
		redeliver_later(r, hi, rc == -EAGAIN ? "pipeline full" : otf_strerror(rc));
		return;
	}
	if (h->attempts)
		otf_selfcounter_add(&p->m.redeliveries, 1);
	else /* a redelivery is not accepted twice */
		otf_node_count(r->node, OTF_COUNTER_ACCEPTED, p->signal, h->items);
	h->sent = true;
	r->inflight++;
}

static void on_message(krcv_t *r, rd_kafka_message_t *rkm)
{
	if (rkm->err) {
		if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			uint64_t now = uv_now(r->loop);
			if (now - r->last_err_log_ms >= 5000 || !r->last_err_log_ms) {
				r->last_err_log_ms = now;
				otf_node_log(r->node, OTF_LOG_WARN, "kafka consumer: %s",
				             rd_kafka_message_errstr(rkm));
			}
		}
		rd_kafka_message_destroy(rkm);
		return;
	}
	int pi = otf__krcv_part_find(r, rd_kafka_topic_name(rkm->rkt), rkm->partition);
	if (pi < 0 || r->closing) {
		rd_kafka_message_destroy(rkm);
		return;
	}
	part_t *p = r->parts[pi];
	otf_budget_t b = otf_node_budget(r->node);
	if (!r->starved && !otf_budget_admits(&b, rkm->len, 0))
		r->starved = true; /* spent by what was sent: REB resumes */
	if (r->starved) {
		/* Fetched before the pause took effect: fetch it again once
		 * the budget returns, rather than push it into a full pipeline. */
		rd_kafka_seek(rkm->rkt, rkm->partition, rkm->offset, 0);
		otf__krcv_part_pause(r, p); /* one assigned meanwhile */
		rd_kafka_message_destroy(rkm);
		return;
	}
	int rc = otf__kafka_track_add(&p->track, rkm->offset);
	int hi = rc ? rc : otf__krcv_held_new(r);
	if (rc || hi < 0) {
		/* Past the slack or out of memory: fetch it again later. */
		if (rc != OTF_E_INVAL) {
			rd_kafka_seek(rkm->rkt, rkm->partition, rkm->offset, 0);
			otf__krcv_part_pause(r, p);
		}
		if (!rc)
			otf__kafka_track_done(&p->track, rkm->offset);
		rd_kafka_message_destroy(rkm);
		return;
	}
	held_t *h = &r->held[hi];
	h->part = pi;
	h->offset = rkm->offset;
	h->rkm = rkm;
	if (p->m.first < 0)
		p->m.first = rkm->offset;
	otf__krcv_lag_update(&p->m, r->rk, p->topic, p->partition);
	if (!r->cfg->marking.after)
		otf__krcv_part_store(r, p, rkm->offset + 1);
	if (otf__kafka_track_len(&p->track) >= (size_t)r->cfg->max_inflight)
		otf__krcv_part_pause(r, p);
	send_held(r, hi);
}

static void pump_cb(void *ctx)
{
	krcv_t *r = ctx;
	if (r->closed || !r->started)
		return;
	if (r->closing_async) {
		serve_close(r);
		return;
	}
	for (int i = 0; i < 512; i++) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(r->rk, 0);
		if (!m)
			break;
		on_message(r, m);
		if (r->closed)
			break;
	}
}

static void on_timer(krcv_t *r)
{
	r->timer = 0;
	uint64_t now = uv_now(r->loop), next = 0;
	for (size_t i = 0; i < r->nheld; i++) {
		held_t *h = &r->held[i];
		if (!h->live || !h->waiting)
			continue;
		if (h->due_ms <= now) {
			part_t *p = r->parts[h->part];
			h->waiting = false;
			p->waiting--;
			send_held(r, (int)i);
			otf__krcv_part_maybe_resume(r, p);
		} else if (!next || h->due_ms < next) {
			next = h->due_ms;
		}
	}
	if (next)
		arm_timer(r, next);
}

static void on_outcome(krcv_t *r, const otf_ctrl_t *c)
{
	uint32_t hi = (uint32_t)c->calldata, gen = (uint32_t)(c->calldata >> 32);
	if (hi >= r->nheld || !r->held[hi].live || r->held[hi].gen != gen)
		return; /* revoked meanwhile */
	held_t *h = &r->held[hi];
	h->sent = false;
	r->inflight--;
	if (c->type == OTF_CTRL_ACK) {
		settle(r, (int)hi);
		return;
	}
	if (c->permanent)
		permanent(r, (int)hi, c->reason);
	else
		redeliver_later(r, (int)hi, c->reason);
}

/* ---- librdkafka callbacks (served from rd_kafka_consumer_poll) ---- */

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	krcv_t *r = opaque;
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		for (int i = 0; i < parts->cnt; i++)
			otf__krcv_part_open(r, parts->elems[i].topic, parts->elems[i].partition);
		if (r->cooperative)
			rd_kafka_error_destroy(rd_kafka_incremental_assign(rk, parts));
		else
			rd_kafka_assign(rk, parts);
		otf_node_log(r->node, OTF_LOG_INFO, "kafka: %d partition(s) assigned", parts->cnt);
		return;
	}
	/* Revoked (or an error): what is marked is committed now (queued
	 * before the unassign, never waited for on the loop), so the new owner
	 * starts right after it. */
	rd_kafka_commit(rk, NULL, 1);
	for (int i = 0; i < parts->cnt; i++) {
		int pi = otf__krcv_part_find(r, parts->elems[i].topic, parts->elems[i].partition);
		if (pi >= 0)
			otf__krcv_part_close(r, pi);
	}
	if (r->cooperative)
		rd_kafka_error_destroy(rd_kafka_incremental_unassign(rk, parts));
	else
		rd_kafka_assign(rk, NULL);
	otf_node_log(r->node, OTF_LOG_INFO, "kafka: %d partition(s) revoked", parts->cnt);
	maybe_close(r);
}

static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
	krcv_t *r = opaque;
	(void)rk;
	if (err || !offsets)
		return;
	for (int i = 0; i < offsets->cnt; i++) {
		if (offsets->elems[i].err || offsets->elems[i].offset < 0)
			continue;
		int pi =
		    otf__krcv_part_find(r, offsets->elems[i].topic, offsets->elems[i].partition);
		if (pi < 0)
			continue;
		part_t *p = r->parts[pi];
		otf_selfcounter_add(&p->m.commits, 1);
		p->m.committed = offsets->elems[i].offset;
		otf__krcv_lag_update(&p->m, r->rk, p->topic, p->partition);
	}
}

/* ---- lifecycle ---- */

/* The consumer closes in librdkafka's background (it commits what is
 * marked and leaves the group, revoking through on_rebalance) while the
 * worker serves its queue: a close that waits for brokers never blocks
 * the loop. */
static void maybe_close(krcv_t *r)
{
	if (!r->closing || r->closed || r->closing_async || r->inflight)
		return;
	r->closing_async = true;
	rd_kafka_error_t *e = rd_kafka_consumer_close_queue(r->rk, otf__kafka_pump_queue(r->pump));
	if (e) {
		otf_node_log(r->node, OTF_LOG_WARN, "kafka consumer close: %s",
		             rd_kafka_error_string(e));
		rd_kafka_error_destroy(e);
		r->closed = true;
		otf__kafka_pump_destroy(r->pump);
		r->pump = NULL;
		otf_node_shutdown_done(r->node);
	}
}

static void serve_close(krcv_t *r)
{
	rd_kafka_queue_t *q = otf__kafka_pump_queue(r->pump);
	for (int i = 0; i < 512 && rd_kafka_queue_poll_callback(q, 0) > 0; i++) {
	}
	if (r->closed || !rd_kafka_consumer_closed(r->rk))
		return;
	r->closed = true;
	otf__kafka_pump_destroy(r->pump);
	r->pump = NULL;
	otf_node_shutdown_done(r->node);
}

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	krcv_t *r = *inst;
	if (r) {
		r->signals |= 1u << ctx->signal;
		return 0;
	}
	const krcv_config_t *c = ctx->config;
	r = otf_calloc(1, sizeof *r);
	if (!r)
		return OTF_E_NOMEM;
	r->node = ctx->node;
	r->cfg = c;
	r->loop = otf_node_loop(r->node);
	r->signals = 1u << ctx->signal;
	r->free_head = -1;
	char sto[24], hb[24], ci[24], fmin[24], fmax[24], pmax[24], fwait[24], inst_id[300];
	snprintf(sto, sizeof sto, "%lld", (long long)(c->session_timeout_ns / 1000000));
	snprintf(hb, sizeof hb, "%lld", (long long)(c->heartbeat_interval_ns / 1000000));
	snprintf(ci, sizeof ci, "%lld", (long long)(c->autocommit.interval_ns / 1000000));
	snprintf(fmin, sizeof fmin, "%lld", (long long)c->min_fetch_size);
	snprintf(fmax, sizeof fmax, "%lld", (long long)c->max_fetch_size);
	snprintf(pmax, sizeof pmax, "%lld", (long long)c->max_partition_fetch_size);
	snprintf(fwait, sizeof fwait, "%lld", (long long)(c->max_fetch_wait_ns / 1000000));
	int w = otf_node_worker_index(r->node);
	if (c->group_instance_id && c->group_instance_id[0])
		snprintf(inst_id, sizeof inst_id, w ? "%s-%d" : "%s", c->group_instance_id, w);
	const char *keys[16] = {"group.id",
	                        "auto.offset.reset",
	                        "session.timeout.ms",
	                        "heartbeat.interval.ms",
	                        "enable.auto.commit",
	                        "auto.commit.interval.ms",
	                        "enable.auto.offset.store",
	                        "partition.assignment.strategy",
	                        "fetch.min.bytes",
	                        "fetch.max.bytes",
	                        "max.partition.fetch.bytes",
	                        "fetch.wait.max.ms",
	                        NULL};
	const char *vals[16] = {c->group_id,
	                        c->initial_offset ? "earliest" : "latest",
	                        sto,
	                        hb,
	                        c->autocommit.enable ? "true" : "false",
	                        ci,
	                        "false",
	                        c->rebalance_strategy,
	                        fmin,
	                        fmax,
	                        pmax,
	                        fwait,
	                        NULL};
	if (c->group_instance_id && c->group_instance_id[0]) {
		keys[12] = "group.instance.id";
		vals[12] = inst_id;
		keys[13] = NULL;
	}
	char err[512];
	rd_kafka_conf_t *conf = otf__kafka_conf_new(&c->conn, keys, vals, err, sizeof err);
	if (!conf) {
		otf_node_log(r->node, OTF_LOG_ERROR, "kafka consumer configuration: %s", err);
		otf_free(r);
		return OTF_E_CONFIG;
	}
	rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
	rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
	rd_kafka_conf_set_opaque(conf, r);
	r->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
	if (!r->rk) {
		rd_kafka_conf_destroy(conf);
		otf_node_log(r->node, OTF_LOG_ERROR, "kafka consumer: %s", err);
		otf_free(r);
		return OTF_E_CONFIG;
	}
	r->cooperative = !strcmp(c->rebalance_strategy, "cooperative-sticky");
	rd_kafka_set_log_queue(r->rk, NULL);
	rd_kafka_poll_set_consumer(r->rk);
	*inst = r;
	return 0;
}

static int start(void *inst)
{
	krcv_t *r = inst;
	rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(4);
	for (int s = 0; s < OTF_SIGNAL_COUNT; s++) {
		if (!(r->signals & (1u << s)))
			continue;
		size_t n;
		const char *const *t = otf__krcv_topics(r->cfg, (otf_signal_t)s, &n);
		for (size_t i = 0; i < n; i++) {
			if (rd_kafka_topic_partition_list_find(subs, t[i], RD_KAFKA_PARTITION_UA)) {
				otf_node_log(r->node, OTF_LOG_ERROR,
				             "topic \"%s\" is configured for two signals", t[i]);
				rd_kafka_topic_partition_list_destroy(subs);
				return OTF_E_CONFIG;
			}
			rd_kafka_topic_partition_list_add(subs, t[i], RD_KAFKA_PARTITION_UA);
		}
	}
	rd_kafka_resp_err_t e = rd_kafka_subscribe(r->rk, subs);
	rd_kafka_topic_partition_list_destroy(subs);
	if (e) {
		otf_node_log(r->node, OTF_LOG_ERROR, "kafka subscribe: %s", rd_kafka_err2str(e));
		return OTF_E_CONFIG;
	}
	r->pump =
	    otf__kafka_pump_create(r->loop, rd_kafka_queue_get_consumer(r->rk), 100, pump_cb, r);
	if (!r->pump)
		return OTF_E_NOMEM;
	r->started = true;
	return 0;
}

static void control(void *inst, const otf_ctrl_t *c)
{
	krcv_t *r = inst;
	switch (c->type) {
	case OTF_CTRL_ACK:
	case OTF_CTRL_NACK:
		on_outcome(r, c);
		break;
	case OTF_CTRL_TMR:
		if (c->calldata == TIMER_TOKEN)
			on_timer(r);
		break;
	case OTF_CTRL_REB: {
		/* REB: budget 0 downstream pauses every partition (nothing is
		 * fetched into a pipeline that would refuse it); its return
		 * resumes those with room. */
		bool starve = !otf_budget_admits(&c->budget, 0, 0);
		if (starve == r->starved || r->closing)
			break;
		r->starved = starve;
		for (size_t i = 0; i < r->nparts; i++) {
			if (!r->parts[i])
				continue;
			if (starve)
				otf__krcv_part_pause(r, r->parts[i]);
			else
				otf__krcv_part_maybe_resume(r, r->parts[i]);
		}
		otf_node_log(r->node, OTF_LOG_DEBUG, "%s partitions: resource budget %s",
		             starve ? "pausing" : "resuming", starve ? "exhausted" : "back");
		break;
	}
	case OTF_CTRL_KIL:
		if (r->closing)
			break;
		r->closing = true;
		if (r->timer > 0)
			otf_node_timer_stop(r->node, r->timer);
		r->timer = 0;
		/* Stop fetching; what waits for a redelivery is not marked and
		 * comes again after a restart; in-flight outcomes are awaited. */
		for (size_t i = 0; i < r->nparts; i++)
			if (r->parts[i])
				otf__krcv_part_pause(r, r->parts[i]);
		for (size_t i = 0; i < r->nheld; i++)
			if (r->held[i].live && !r->held[i].sent)
				otf__krcv_held_free(r, (int)i);
		if (!r->started) {
			r->closed = true;
			otf_node_shutdown_done(r->node);
			break;
		}
		maybe_close(r);
		break;
	default:
		break;
	}
	if (c->payload)
		otf_buf_unref(c->payload);
}

static void destroy(void *inst)
{
	krcv_t *r = inst;
	otf__kafka_pump_destroy(r->pump);
	r->pump = NULL;
	bool unclosed = !r->closed;
	for (size_t i = 0; i < r->nparts; i++)
		if (r->parts[i])
			otf__krcv_part_close(r, (int)i);
	for (size_t i = 0; i < r->nheld; i++)
		if (r->held[i].live)
			otf__krcv_held_free(r, (int)i);
	/* Not closed (the shutdown deadline passed, or no KIL): no second,
	 * blocking close; the group sees the member leave by its session
	 * timeout and nothing unacknowledged was committed. */
	if (unclosed)
		rd_kafka_destroy_flags(r->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
	else
		rd_kafka_destroy(r->rk);
	otf_free(r->parts);
	otf_free(r->held);
	otf_free(r);
}

const otf_component_factory_t otf_receiver_kafka_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_RECEIVER,
    .type = "kafka",
    .description = "Consumes OTLP (otlp_proto or otlp_json) from Kafka topics; offsets "
                   "committed in order after the pipeline acknowledged (message_marking.after).",
    .stability = {OTF_STABILITY_ALPHA, OTF_STABILITY_ALPHA, OTF_STABILITY_ALPHA},
    .config_schema = otf__krcv_schema,
    .config_size = sizeof(krcv_config_t),
    .validate = otf__krcv_validate,
    .create = {create, create, create},
    .start = start,
    .control = control,
    .destroy = destroy,
};
