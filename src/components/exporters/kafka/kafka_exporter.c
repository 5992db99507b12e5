/* exporter `kafka`: produces each OTLP request to a Kafka topic with
 * librdkafka, behind the shared sending queue and retries (exporterhelper.h).
 * Schema and validation: kafka_exporter_config.c.
 *
 * Keys and defaults: opentelemetry-collector-contrib exporter/kafkaexporter
 * (README, config.go). otlp_proto messages are the request bytes as they
 * came (never decoded); otlp_json ones are encoded with otflow's OTLP/JSON
 * encoder. A request is split by resource when topic_from_attribute or
 * partition_*_by_resource_attributes asks for a topic or a key per
 * resource, and when it is larger than producer.max_message_bytes
 * (resources packed in order into messages that fit); one resource larger
 * than that is refused permanently, naming both sizes.
 *
 * Acknowledgement: an attempt succeeds only when librdkafka's delivery
 * report says the broker has every message of the request (with
 * required_acks 0 librdkafka reports success once the request is written,
 * as Kafka defines acks=0). Delivery reports are served from the worker's
 * loop (kafka_common.h, pump). A message too large for the broker is a
 * permanent failure; every other delivery error (broker down, timeout,
 * leader change) is retryable. */
#include "kafka_exporter.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

typedef struct attempt attempt_t;

typedef struct kexp {
	otf_node_t *node; /* first: otf__kafka_log_cb */
	const kexp_config_t *cfg;
	otf_exph_t *h;
	rd_kafka_t *rk;
	otf_kafka_pump_t *pump;
	attempt_t *attempts; /* every attempt with messages in librdkafka */
	char topic[OTF_SIGNAL_COUNT][256];
	int enc[OTF_SIGNAL_COUNT];
	/* The last connection-level error librdkafka reported (SASL or TLS
	 * refused, broker unreachable) and when (loop clock): a delivery that
	 * times out names it, so the client learns why and not only that. */
	char broker_err[200];
	uint64_t broker_err_ms;
} kexp_t;

/* One send attempt of a request: its messages' buffers and the delivery
 * reports still to come. req NULL: the request is gone (destroy). */
struct attempt {
	attempt_t *prev, *next;
	kexp_t *e;
	otf_exph_req_t *req;
	otf_buf_t **bufs;
	size_t nbufs;
	size_t pending;
	rd_kafka_resp_err_t err;
	bool permanent;
	char reason[sizeof(((otf_exph_result_t *)0)->reason)];
};

static const char *const k_default_topic[OTF_SIGNAL_COUNT] = {"otlp_spans", "otlp_metrics",
                                                              "otlp_logs"};

static void attempt_free(attempt_t *a)
{
	kexp_t *e = a->e;
	if (a->prev)
		a->prev->next = a->next;
	else if (e->attempts == a)
		e->attempts = a->next;
	if (a->next)
		a->next->prev = a->prev;
	for (size_t i = 0; i < a->nbufs; i++)
		otf_buf_unref(a->bufs[i]);
	otf_free(a->bufs);
	otf_free(a);
}

static void attempt_finish(attempt_t *a)
{
	kexp_t *e = a->e;
	otf_exph_req_t *req = a->req;
	otf_exph_result_t res;
	memset(&res, 0, sizeof res);
	if (a->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		res.outcome = OTF_EXPH_OK;
	} else {
		res.outcome = a->permanent ? OTF_EXPH_PERMANENT : OTF_EXPH_RETRYABLE;
		res.error = OTF_E_IO;
		snprintf(res.reason, sizeof res.reason, "%s", a->reason);
	}
	if (req)
		req->tdata = NULL;
	attempt_free(a);
	if (req)
		otf__exph_done(e->h, req, &res);
}

static bool err_permanent(rd_kafka_resp_err_t err)
{
	return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
	       err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE ||
	       err == RD_KAFKA_RESP_ERR_INVALID_RECORD ||
	       err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
	       err == RD_KAFKA_RESP_ERR__INVALID_ARG;
}

static void attempt_fail(attempt_t *a, rd_kafka_resp_err_t err, const char *topic)
{
	if (a->err != RD_KAFKA_RESP_ERR_NO_ERROR)
		return; /* the first failure names the attempt */
	a->err = err;
	a->permanent = err_permanent(err);
	kexp_t *e = a->e;
	bool local = err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT ||
	             err == RD_KAFKA_RESP_ERR__TRANSPORT ||
	             err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN;
	bool cause =
	    local && e->broker_err[0] && uv_now(otf_node_loop(e->node)) - e->broker_err_ms < 60000;
	snprintf(a->reason, sizeof a->reason, "kafka: %s: %s", topic ? topic : "produce",
	         cause && err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT ? "timed out"
	                                                          : rd_kafka_err2str(err));
	size_t l = strlen(a->reason); /* the cause appended, cut at the reason's size */
	if (cause)
		snprintf(a->reason + l, sizeof a->reason - l, ": %.*s", (int)(sizeof a->reason - l),
		         e->broker_err);
}

/* librdkafka's error callback (rd_kafka_poll, on the loop): logged, and
 * the last connection-level error kept for the delivery failures it
 * explains ("1/1 brokers are down" says nothing the timeout does not). */
static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	(void)rk;
	kexp_t *e = opaque;
	otf_node_log(e->node, OTF_LOG_ERROR, "librdkafka ERROR: %s: %s",
	             rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
	if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
		return;
	otf__kafka_broker_error(e->broker_err, sizeof e->broker_err, reason);
	e->broker_err_ms = uv_now(otf_node_loop(e->node));
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)opaque;
	attempt_t *a = m->_private;
	if (!a)
		return;
	if (m->err)
		attempt_fail(a, m->err, m->rkt ? rd_kafka_topic_name(m->rkt) : NULL);
	if (--a->pending == 0)
		attempt_finish(a);
}

static void pump_cb(void *ctx)
{
	kexp_t *e = ctx;
	/* Bounded per wake-up so that a flood of reports cannot hold the
	 * loop; the io event or the timer brings the rest. */
	for (int i = 0; i < 64 && rd_kafka_poll(e->rk, 0) > 0; i++) {
	}
}

/* A message to produce: bytes in buf (a reference the attempt keeps). */
typedef struct part {
	otf_buf_t *buf;
	char topic[256];
	char key[33]; /* resource hash (16 hex digits) or trace id (32) */
	bool has_key;
} part_t;

static void topic_from_group(kexp_t *e, part_t *pt);

static int part_add(part_t **parts, size_t *n, size_t *cap, otf_buf_t *buf)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 4;
		part_t *p = otf_realloc(*parts, c * sizeof *p);
		if (!p)
			return OTF_E_NOMEM;
		*parts = p;
		*cap = c;
	}
	memset(&(*parts)[*n], 0, sizeof **parts);
	(*parts)[*n].buf = buf;
	(*n)++;
	return 0;
}

static int to_json(otf_signal_t s, otf_buf_t *in, otf_buf_t **out)
{
	otf_arena_t arena;
	otf_arena_init(&arena, 0);
	int rc;
	if (s == OTF_SIGNAL_TRACES) {
		otf_traces_t t;
		rc = otf_pdata_decode_traces(&t, in->data, in->len, &arena, NULL, NULL);
		if (!rc)
			rc = otf_pdata_json_encode_traces(&t, out);
	} else if (s == OTF_SIGNAL_METRICS) {
		otf_metrics_t m;
		rc = otf_pdata_decode_metrics(&m, in->data, in->len, &arena, NULL, NULL);
		if (!rc)
			rc = otf_pdata_json_encode_metrics(&m, out);
	} else {
		otf_logs_t l;
		rc = otf_pdata_decode_logs(&l, in->data, in->len, &arena, NULL, NULL);
		if (!rc)
			rc = otf_pdata_json_encode_logs(&l, out);
	}
	otf_arena_close(&arena);
	return rc;
}

/* topic_from_attribute: the attribute of the message's first resource. */
static void topic_from_group(kexp_t *e, part_t *pt)
{
	const char *a = e->cfg->topic_from_attribute;
	otf_kafka_group_t g;
	const uint8_t *v;
	size_t vl;
	if (!a || !a[0] || otf__kafka_groups(pt->buf->data, pt->buf->len, &g, 1) < 1)
		return;
	if (otf__kafka_group_attr(&g, a, strlen(a), &v, &vl) && vl && vl < sizeof pt->topic) {
		memcpy(pt->topic, v, vl);
		pt->topic[vl] = 0;
	}
}

static bool by_resource(const kexp_t *e, otf_signal_t s)
{
	const kexp_config_t *c = e->cfg;
	return (c->topic_from_attribute && c->topic_from_attribute[0]) ||
	       (s == OTF_SIGNAL_METRICS && c->metrics_by_resource) ||
	       (s == OTF_SIGNAL_LOGS && c->logs_by_resource);
}

/* Splits req's payload into the messages to produce. Permanent failures
 * (a resource over max_message_bytes, bytes that do not decode) set
 * fail->outcome PERMANENT. */
static int make_parts(kexp_t *e, otf_exph_req_t *req, part_t **parts, size_t *n,
                      otf_exph_result_t *fail)
{
	const kexp_config_t *c = e->cfg;
	otf_signal_t s = req->signal;
	size_t max = (size_t)c->producer.max_message_bytes, cap = 0;
	otf_buf_t *p = req->payload;
	bool per_res = by_resource(e, s) && !(s == OTF_SIGNAL_TRACES && c->by_trace_id);
	int rc;
	*n = 0;
	if (s == OTF_SIGNAL_TRACES && c->by_trace_id) {
		otf_kafka_trace_part_t *tp = NULL;
		size_t ntp = 0;
		rc = otf__kafka_split_traces(p->data, p->len, &tp, &ntp);
		if (rc && rc != OTF_E_NOMEM) {
			fail->outcome = OTF_EXPH_PERMANENT;
			snprintf(fail->reason, sizeof fail->reason, "request does not parse: %s",
			         otf_strerror(rc));
		}
		for (size_t i = 0; i < ntp; i++) {
			if (!rc && e->enc[s] == KEXP_ENC_PROTO && tp[i].buf->len > max) {
				fail->outcome = OTF_EXPH_PERMANENT;
				snprintf(fail->reason, sizeof fail->reason,
				         "the spans of trace %s take %zu bytes, more than "
				         "producer.max_message_bytes (%zu)",
				         tp[i].key, tp[i].buf->len, max);
				rc = OTF_E_TOO_LARGE;
			}
			if (rc || part_add(parts, n, &cap, tp[i].buf)) {
				rc = rc ? rc : OTF_E_NOMEM;
				otf_buf_unref(tp[i].buf);
				continue;
			}
			part_t *pt = &(*parts)[*n - 1];
			memcpy(pt->key, tp[i].key, sizeof pt->key);
			pt->has_key = tp[i].has_key;
			topic_from_group(e, pt);
		}
		otf_free(tp);
	} else if (!per_res && (p->len <= max || e->enc[s] == KEXP_ENC_JSON)) {
		rc = part_add(parts, n, &cap, otf_buf_ref(p));
	} else {
		int ng = otf__kafka_groups(p->data, p->len, NULL, 0);
		if (ng < 0) {
			fail->outcome = OTF_EXPH_PERMANENT;
			snprintf(fail->reason, sizeof fail->reason, "request does not parse: %s",
			         otf_strerror(ng));
			return ng;
		}
		otf_kafka_group_t *g = otf_calloc(ng ? (size_t)ng : 1, sizeof *g);
		if (!g)
			return OTF_E_NOMEM;
		otf__kafka_groups(p->data, p->len, g, (size_t)ng);
		rc = 0;
		for (int i = 0; i < ng && !rc;) {
			size_t first = otf__kafka_group_wire_len(&g[i]);
			if (first > max && e->enc[s] == KEXP_ENC_PROTO) {
				fail->outcome = OTF_EXPH_PERMANENT;
				snprintf(fail->reason, sizeof fail->reason,
				         "a resource of %zu bytes is larger than "
				         "producer.max_message_bytes (%zu)",
				         first, max);
				rc = OTF_E_TOO_LARGE;
				break;
			}
			/* resources i..j-1 go into one message */
			int j = i + 1;
			size_t total = first;
			while (!per_res && j < ng &&
			       total + otf__kafka_group_wire_len(&g[j]) <= max)
				total += otf__kafka_group_wire_len(&g[j++]);
			otf_buf_t *b = otf_buf_create(total);
			if (!b) {
				rc = OTF_E_NOMEM;
				break;
			}
			for (int k = i; k < j; k++)
				otf__kafka_group_write(b, &g[k]);
			rc = part_add(parts, n, &cap, b);
			if (rc) {
				otf_buf_unref(b);
				break;
			}
			part_t *pt = &(*parts)[*n - 1];
			const uint8_t *v;
			size_t vl;
			if (c->topic_from_attribute && c->topic_from_attribute[0] &&
			    otf__kafka_group_attr(&g[i], c->topic_from_attribute,
			                          strlen(c->topic_from_attribute), &v, &vl) &&
			    vl && vl < sizeof pt->topic) {
				memcpy(pt->topic, v, vl);
				pt->topic[vl] = 0;
			}
			if ((s == OTF_SIGNAL_METRICS && c->metrics_by_resource) ||
			    (s == OTF_SIGNAL_LOGS && c->logs_by_resource)) {
				rc = otf__kafka_group_hash(&g[i], pt->key);
				pt->has_key = !rc;
			}
			i = j;
		}
		otf_free(g);
	}
	for (size_t i = 0; !rc && i < *n; i++) {
		part_t *pt = &(*parts)[i];
		if (!pt->topic[0])
			snprintf(pt->topic, sizeof pt->topic, "%s", e->topic[s]);
		if (e->enc[s] == KEXP_ENC_JSON) {
			otf_buf_t *j = NULL;
			rc = to_json(s, pt->buf, &j);
			if (rc) {
				fail->outcome = OTF_EXPH_PERMANENT;
				snprintf(fail->reason, sizeof fail->reason,
				         "cannot encode as otlp_json: %s", otf_strerror(rc));
				break;
			}
			otf_buf_unref(pt->buf);
			pt->buf = j;
			if (j->len > max) {
				fail->outcome = OTF_EXPH_PERMANENT;
				snprintf(fail->reason, sizeof fail->reason,
				         "otlp_json message of %zu bytes is larger than "
				         "producer.max_message_bytes (%zu)",
				         j->len, max);
				rc = OTF_E_TOO_LARGE;
			}
		}
	}
	if (rc) {
		for (size_t i = 0; i < *n; i++)
			otf_buf_unref((*parts)[i].buf);
		*n = 0;
	}
	return rc;
}

static int send_attempt(void *ctx, otf_exph_req_t *req, uint64_t timeout_ms,
                        otf_exph_result_t *fail)
{
	kexp_t *e = ctx;
	(void)timeout_ms; /* message.timeout.ms bounds every delivery */
	part_t *parts = NULL;
	size_t n = 0;
	int rc = make_parts(e, req, &parts, &n, fail);
	if (rc) {
		otf_free(parts);
		return rc;
	}
	attempt_t *a = otf_calloc(1, sizeof *a);
	otf_buf_t **bufs = otf_calloc(n ? n : 1, sizeof *bufs);
	if (!a || !bufs) {
		otf_free(a);
		otf_free(bufs);
		for (size_t i = 0; i < n; i++)
			otf_buf_unref(parts[i].buf);
		otf_free(parts);
		return OTF_E_NOMEM;
	}
	a->e = e;
	a->req = req;
	a->bufs = bufs;
	size_t produced = 0;
	rd_kafka_resp_err_t perr = RD_KAFKA_RESP_ERR_NO_ERROR;
	const char *ptopic = NULL;
	for (size_t i = 0; i < n; i++) {
		bufs[a->nbufs++] = parts[i].buf;
		if (perr)
			continue;
		/* No copy: the attempt holds the buffer until the report. */
		perr =
		    rd_kafka_producev(e->rk, RD_KAFKA_V_TOPIC(parts[i].topic),
		                      RD_KAFKA_V_VALUE(parts[i].buf->data, parts[i].buf->len),
		                      RD_KAFKA_V_KEY(parts[i].has_key ? parts[i].key : NULL,
		                                     parts[i].has_key ? strlen(parts[i].key) : 0),
		                      RD_KAFKA_V_OPAQUE(a), RD_KAFKA_V_END);
		if (perr)
			ptopic = parts[i].topic;
		else
			produced++;
	}
	otf_free(parts);
	if (!produced) {
		fail->outcome = err_permanent(perr) ? OTF_EXPH_PERMANENT : OTF_EXPH_RETRYABLE;
		snprintf(fail->reason, sizeof fail->reason, "kafka: %.120s: %s", ptopic,
		         rd_kafka_err2str(perr));
		a->req = NULL;
		attempt_free(a);
		return OTF_E_IO;
	}
	if (perr)
		attempt_fail(a, perr, ptopic);
	a->pending = produced;
	a->next = e->attempts;
	if (e->attempts)
		e->attempts->prev = a;
	e->attempts = a;
	req->tdata = a;
	return 0;
}

static void drained(void *ctx)
{
	kexp_t *e = ctx;
	otf_node_shutdown_done(e->node);
}

static const otf_exph_ops_t k_ops = {.send = send_attempt, .drained = drained};

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	const kexp_config_t *c = ctx->config;
	kexp_t *e = otf_calloc(1, sizeof *e);
	if (!e)
		return OTF_E_NOMEM;
	e->node = ctx->node;
	e->cfg = c;
	for (int s = 0; s < OTF_SIGNAL_COUNT; s++) {
		const kexp_signal_t *sc = &c->sig[s];
		const char *t =
		    sc->topic_present || !c->topic || !c->topic[0] ? sc->topic : c->topic;
		snprintf(e->topic[s], sizeof e->topic[s], "%s", t && t[0] ? t : k_default_topic[s]);
		const char *en = sc->encoding_present || !c->encoding || !c->encoding[0]
		                     ? sc->encoding
		                     : c->encoding;
		e->enc[s] = otf__kexp_encoding(en);
	}
	char acks[24], batch[24], linger[24], maxb[24], tmo[24], level[24];
	snprintf(acks, sizeof acks, "%lld", (long long)c->producer.required_acks);
	snprintf(batch, sizeof batch, "%lld", (long long)c->producer.flush_max_messages);
	snprintf(linger, sizeof linger, "%lld", (long long)(c->producer.linger_ns / 1000000));
	/* librdkafka's bound is on a produce batch, with per-record framing on
	 * top of the payload; our own check (max_message_bytes) comes first. */
	int64_t mb = c->producer.max_message_bytes + 1024;
	snprintf(maxb, sizeof maxb, "%lld", (long long)(mb < 1000000 ? 1000000 : mb));
	snprintf(tmo, sizeof tmo, "%lld", (long long)(c->timeout_ns / 1000000));
	snprintf(level, sizeof level, "%lld", (long long)c->producer.compression_level);
	const char *keys[] = {"acks",
	                      "compression.codec",
	                      "batch.num.messages",
	                      "linger.ms",
	                      "message.max.bytes",
	                      "message.timeout.ms",
	                      "compression.level",
	                      NULL};
	const char *vals[] = {acks, c->producer.compression, batch, linger, maxb, tmo, level, NULL};
	char err[512];
	rd_kafka_conf_t *conf = otf__kafka_conf_new(&c->conn, keys, vals, err, sizeof err);
	if (!conf) {
		otf_node_log(e->node, OTF_LOG_ERROR, "kafka producer configuration: %s", err);
		otf_free(e);
		return OTF_E_CONFIG;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_opaque(conf, e);
	e->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
	if (!e->rk) {
		rd_kafka_conf_destroy(conf);
		otf_node_log(e->node, OTF_LOG_ERROR, "kafka producer: %s", err);
		otf_free(e);
		return OTF_E_CONFIG;
	}
	rd_kafka_set_log_queue(e->rk, NULL);
	e->pump = otf__kafka_pump_create(otf_node_loop(e->node), rd_kafka_queue_get_main(e->rk),
	                                 100, pump_cb, e);
	e->h = otf__exph_create(e->node, &c->retry, &c->queue, c->timeout_ns, &k_ops, e);
	if (!e->pump || !e->h) {
		otf__kafka_pump_destroy(e->pump);
		otf__exph_destroy(e->h);
		rd_kafka_destroy(e->rk);
		otf_free(e);
		return OTF_E_NOMEM;
	}
	*inst = e;
	return 0;
}

static void consume(void *inst, otf_msg_t *m)
{
	kexp_t *e = inst;
	otf__exph_consume(e->h, m);
}

static void control(void *inst, const otf_ctrl_t *c)
{
	kexp_t *e = inst;
	otf__exph_control(e->h, c);
	if (c->payload)
		otf_buf_unref(c->payload);
}

static void disown(void *ctx, otf_exph_req_t *req)
{
	(void)ctx;
	attempt_t *a = req->tdata;
	if (a)
		a->req = NULL;
	req->tdata = NULL;
}

static void destroy(void *inst)
{
	kexp_t *e = inst;
	otf__exph_each_inflight(e->h, disown, e);
	otf__exph_destroy(e->h);
	otf__kafka_pump_destroy(e->pump);
	/* Whatever librdkafka still holds is given up (the engine counted
	 * the messages as undelivered); the reports free the attempts. */
	rd_kafka_purge(e->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	rd_kafka_flush(e->rk, 200);
	rd_kafka_destroy(e->rk);
	while (e->attempts) {
		e->attempts->req = NULL;
		attempt_free(e->attempts);
	}
	otf_free(e);
}

OTF_EXPH_CHECK_REBUILD(kexp_config_t)

const otf_component_factory_t otf_exporter_kafka_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_EXPORTER,
    .type = "kafka",
    .description = "Produces OTLP (otlp_proto or otlp_json) to Kafka topics with librdkafka; "
                   "acknowledged on the broker's delivery report.",
    .stability = {OTF_STABILITY_ALPHA, OTF_STABILITY_ALPHA, OTF_STABILITY_ALPHA},
    .config_schema = otf__kexp_schema,
    .config_size = sizeof(kexp_config_t),
    .validate = otf__kexp_validate,
    .create = {create, create, create},
    .consume = {consume, consume, consume},
    .control = control,
    .check_rebuild = check_rebuild,
    .destroy = destroy,
};
