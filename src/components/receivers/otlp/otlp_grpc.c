/* receiver `otlp`, protocol grpc: unary Export of
 * opentelemetry.proto.collector.{trace,metrics,logs}.v1 (OTLP specification,
 * "OTLP/gRPC"). Every worker owns one gRPC server on the same endpoint
 * (SO_REUSEPORT).
 *
 * Statuses: OK with an Export*ServiceResponse; INVALID_ARGUMENT for a
 * request that does not decode, or a permanent NACK; RESOURCE_EXHAUSTED
 * when the pipeline is full (backpressure), memory ran out, the
 * memory_limiter's admission flag is up (checked at the request headers,
 * before the message is read) or a node nacked with OTF_E_NOMEM;
 * UNAVAILABLE for a retryable NACK with wait_for_result or at shutdown;
 * UNIMPLEMENTED for other methods; DEADLINE_EXCEEDED from the server when
 * grpc-timeout passes first (the timeout also becomes the message's
 * deadline with wait_for_result, so downstream components can give up
 * early; without it the client does not wait and the data has no deadline). */
#include "otlp_auth.h"
#include "otlp_grpc.h"
#include "otlp_http_ingest.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/grpc_server.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

typedef struct pending pending_t;
typedef struct hand hand_t;

struct otlp_grpc_rx {
	otf_node_t *node;
	const otlp_config_t *cfg;
	otf_view_limits_t limits;
	otf_grpc_server_t *server;
	pending_t *pending;
	otlp_auth_rx_t auth; /* protocols.grpc.auth */
	void (*closed)(void *);
	void *closed_arg;
	otf_tls_ctx_t *tls; /* protocols.grpc.tls, shared by the workers */
	bool closing;
	bool destroyed;
	bool held;     /* connections held back for a 0 budget (REB) */
	hand_t *hands; /* requests of other workers' connections in our pipeline */
	uint64_t seq;  /* pending records made */
};

struct pending {
	otf_grpc_call_t *call;
	otf_signal_t signal;
	uint64_t items;
	uint64_t msg_id; /* cancelled (CAN) when the call dies first */
	uint64_t seq;    /* unique per receiver: a hand-off's answer finds it */
	hand_t *hand;    /* handed off: the record's address (a key, never read) */
	int peer;        /* ... and the worker it went to */
	pending_t *prev, *next;
};

/* A request handed from the connection's worker (origin) to another
 * worker's instance (peer) at the message boundary: the peer validates
 * it, runs it into its pipeline and sends the answer back. Owned by one
 * side at a time, passed with each post (otf_node_post_worker). */
struct hand {
	int origin;   /* the connection's worker */
	uint64_t seq; /* its pending record's seq there */
	otf_signal_t signal;
	otf_buf_t *body; /* the gRPC message, decompressed */
	uint64_t deadline;
	bool wait; /* wait_for_result: the peer answers at the outcome */
	/* peer side, while its message is in the pipeline */
	otlp_grpc_rx_t *peer;
	uint64_t msg_id;
	hand_t *prev, *next;
	/* the answer, written by the peer before it posts back */
	uint64_t items;
	int code; /* OTF_GRPC_*; 0 = OK */
	bool refused;
	uint64_t retry_after_ns;
	char msg[320];
};

static const char *const k_methods[OTF_SIGNAL_COUNT] = {
    "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
    "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
};

static int method_signal(otf_http_str_t p)
{
	for (int s = 0; s < OTF_SIGNAL_COUNT; s++)
		if (p.len == strlen(k_methods[s]) && !memcmp(p.ptr, k_methods[s], p.len))
			return s;
	return -1;
}

static void respond_ok(otf_grpc_call_t *call, otf_signal_t s)
{
	otf_buf_t *b = otf__otlp_success_body(s, OTLP_ENC_PROTO);
	if (!b) {
		otf_grpc_respond_status(call, OTF_GRPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	otf_grpc_respond(call, b->data, b->len);
	otf_buf_unref(b);
}

static void copy_metadata(otf_grpc_call_t *call, otf_msg_t *m)
{
	size_t n = otf_grpc_call_header_count(call);
	for (size_t i = 0; i < n; i++) {
		otf_http_str_t k, v;
		if (otf_grpc_call_header_at(call, i, &k, &v) || (k.len && k.ptr[0] == ':') ||
		    otlp_is_tls_subject_key(k.ptr, k.len))
			continue;
		if (otlp_auth_reserved_key(k.ptr, k.len))
			continue;
		char key[128], val[1024];
		snprintf(key, sizeof key, "%.*s", (int)k.len, k.ptr);
		snprintf(val, sizeof val, "%.*s", (int)v.len, v.ptr);
		otf_msg_header_add(m, key, val);
	}
}

static const char *auth_header(void *ctx, const char *name, size_t *len)
{
	/* gRPC metadata names arrive lower-cased (HTTP/2). */
	char lower[64];
	size_t n = strlen(name);
	if (n >= sizeof lower)
		return NULL;
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char)tolower((unsigned char)name[i]);
	otf_http_str_t v = otf_grpc_call_header(ctx, lower);
	*len = v.len;
	return v.ptr;
}

static void link_pending(otlp_grpc_rx_t *g, pending_t *p)
{
	p->next = g->pending;
	if (g->pending)
		g->pending->prev = p;
	g->pending = p;
}

static void unlink_pending(otlp_grpc_rx_t *g, pending_t *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		g->pending = p->next;
	if (p->next)
		p->next->prev = p->prev;
}

/* memory_limiter's admission flag (otflow/component.h): checked at the
 * request headers, before the message is read. */
static int admit_status(void *ctx, char *msg, size_t cap, uint32_t *retry_ms, bool *hold)
{
	otlp_grpc_rx_t *g = ctx;
	if (otf_admission_refused()) {
		snprintf(msg, cap, "memory limit exceeded, retry later");
		*retry_ms = 1000;
		return OTF_GRPC_RESOURCE_EXHAUSTED;
	}
	/* REB: a 0 budget downstream refuses at the headers, with the
	 * publisher's delay as RetryInfo: UNAVAILABLE for a capacity (queue
	 * full), RESOURCE_EXHAUSTED for a rate. */
	otf_budget_t b = otf_node_budget(g->node);
	if (otf_budget_admits(&b, 0, 0))
		return 0;
	*retry_ms = b.retry_after_ms ? b.retry_after_ms : 1000;
	/* The connection reads nothing more until the budget returns (the
	 * receiver's REB, otf__otlp_grpc_resume). */
	*hold = true;
	g->held = true;
	if (b.flags & OTF_BUDGET_RATE) {
		snprintf(msg, cap, "rate limit reached (resource budget), retry later");
		return OTF_GRPC_RESOURCE_EXHAUSTED;
	}
	snprintf(msg, cap, "pipeline is full (resource budget exhausted), retry later");
	return OTF_GRPC_UNAVAILABLE;
}

/* CAN: the client reset the stream, left, or its grpc-timeout passed
 * while its message is in the pipeline: nobody waits for the outcome, so
 * every copy downstream stops (queued copies dropped, retries stopped,
 * sends skipped or aborted). The outcome still comes back and answers the
 * dead call (a no-op). */
static void hand_cancel_post(otlp_grpc_rx_t *g, pending_t *p, int why);

static void call_gone(otf_grpc_call_t *call, int why, void *ctx)
{
	otlp_grpc_rx_t *g = ctx;
	for (pending_t *p = g->pending; p; p = p->next) {
		if (p->call != call)
			continue;
		if (p->hand) {
			hand_cancel_post(g, p, why);
			return;
		}
		otf_node_count(g->node, OTF_COUNTER_CANCELLED, p->signal, p->items);
		otf_msg_cancel(g->node, p->msg_id,
		               why == OTF_GRPC_DEADLINE_EXCEEDED
		                   ? "client's deadline (grpc-timeout) passed"
		                   : "client cancelled the call or disconnected");
		return;
	}
}

static bool hand_off(otlp_grpc_rx_t *g, otf_grpc_call_t *call, otf_signal_t s);

static void on_call(otf_grpc_call_t *call, void *ctx)
{
	otlp_grpc_rx_t *g = ctx;
	otf_http_str_t path = otf_grpc_call_path(call);
	int s = method_signal(path);
	if (s < 0 || !otf_node_has_output(g->node, (otf_signal_t)s)) {
		char msg[300];
		snprintf(msg, sizeof msg, "unknown method %.*s for this receiver",
		         (int)(path.len > 200 ? 200 : path.len), path.ptr ? path.ptr : "");
		otf_grpc_respond_status(call, OTF_GRPC_UNIMPLEMENTED, msg);
		return;
	}
	otf_auth_result_t who;
	if (g->auth.vt &&
	    otlp_auth_check(g->node, &g->auth, auth_header, call, otf_grpc_call_peer(call), &who)) {
		char msg[200];
		snprintf(msg, sizeof msg, "unauthenticated: %s", who.reason);
		otf_grpc_respond_status(call, OTF_GRPC_UNAUTHENTICATED, msg);
		return;
	}
	/* Metadata, auth and TLS subject go into the envelope from the call,
	 * which stays here: such requests are not handed off. */
	if (!g->cfg->protocols.grpc.include_metadata && !g->auth.vt &&
	    !otf_grpc_call_tls_subject(call) && hand_off(g, call, (otf_signal_t)s))
		return;
	otlp_ingest_t in;
	otf__otlp_ingest((otf_signal_t)s, OTLP_ENC_PROTO, otf_grpc_call_message(call), &g->limits,
	                 &in);
	if (in.http_status != 200) {
		otf_node_log(g->node, OTF_LOG_DEBUG, "refused: %s", in.message);
		if (in.http_status == 400) /* ERR: the client's data, status unchanged */
			otf_node_error(g->node, OTF_ERR_DATA, "decode_error", "%s", in.message);
		otf_grpc_respond_status(call,
		                        in.http_status == 400 ? OTF_GRPC_INVALID_ARGUMENT
		                                              : OTF_GRPC_RESOURCE_EXHAUSTED,
		                        in.message);
		return;
	}
	otf_msg_t *m = otf_msg_create(g->node, (otf_signal_t)s, in.payload, in.items);
	if (!m) {
		otf_grpc_respond_status(call, OTF_GRPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	/* The client's deadline bounds the message only while the client
	 * waits for its outcome: answered at once (wait_for_result false),
	 * the data is ours to deliver however long it takes, as in the
	 * Collector, whose batch and queue detach the request's context. */
	uint64_t deadline = otf_grpc_call_deadline_unix_ns(call);
	if (deadline && g->cfg->wait_for_result)
		otf_msg_set_deadline(m, deadline);
	if (g->cfg->protocols.grpc.include_metadata)
		copy_metadata(call, m);
	if (g->auth.vt)
		otlp_auth_envelope(m, &who);
	if (otf_grpc_call_tls_subject(call)) {
		otf_msg_header_add(m, OTLP_TLS_SUBJECT_KEY, otf_grpc_call_tls_subject(call));
		otlp_auth_tls_envelope(m, otf_grpc_call_tls_subject(call));
	}
	pending_t *p = NULL;
	if (g->cfg->wait_for_result) {
		p = otf_calloc(1, sizeof *p);
		if (!p || otf_msg_subscribe(m, g->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK,
		                            (uint64_t)(uintptr_t)p | OTLP_GRPC_CALLDATA_TAG)) {
			otf_free(p);
			otf_msg_drop(m);
			otf_grpc_respond_status(call, OTF_GRPC_RESOURCE_EXHAUSTED, "out of memory");
			return;
		}
	}
	uint64_t id = otf_msg_id(m);
	int rc = otf_node_send(g->node, m);
	if (rc) {
		otf_msg_drop(m);
		otf_free(p);
		otf_node_count(g->node, OTF_COUNTER_REFUSED, (otf_signal_t)s, in.items);
		if (rc == -EAGAIN)
			otf_grpc_respond_status(call, OTF_GRPC_RESOURCE_EXHAUSTED,
			                        "pipeline is full, retry later");
		else
			otf_grpc_respond_status(call, OTF_GRPC_UNAVAILABLE, "pipeline unavailable");
		return;
	}
	if (!p) {
		otf_node_count(g->node, OTF_COUNTER_ACCEPTED, (otf_signal_t)s, in.items);
		respond_ok(call, (otf_signal_t)s);
		return;
	}
	p->call = call;
	p->signal = (otf_signal_t)s;
	p->items = in.items;
	p->msg_id = id;
	link_pending(g, p);
}

/* The status a NACK is answered with, its message into msg. */
static int nack_status(const otf_ctrl_t *c, char *msg, size_t cap)
{
	snprintf(msg, cap, "%s: %s", c->permanent ? "rejected" : "not delivered",
	         c->reason[0] ? c->reason : otf_strerror(c->error));
	/* A node refusing for memory nacks with OTF_E_NOMEM, retryable
	 * (otflow/component.h, admission). */
	if (c->permanent)
		return OTF_GRPC_INVALID_ARGUMENT;
	if (c->error == OTF_E_NOMEM)
		return OTF_GRPC_RESOURCE_EXHAUSTED;
	if (c->error == -ETIMEDOUT) /* the message's deadline passed */
		return OTF_GRPC_DEADLINE_EXCEEDED;
	return OTF_GRPC_UNAVAILABLE;
}

static void respond_failure(otf_grpc_call_t *call, int st, const char *msg, uint64_t retry_after_ns)
{
	uint8_t details[512];
	size_t dn = 0;
	if (retry_after_ns && (st == OTF_GRPC_UNAVAILABLE || st == OTF_GRPC_RESOURCE_EXHAUSTED))
		/* the throttle delay a NACK carried, passed on to the client */
		dn = otf_grpc_status_retry_info(details, sizeof details, st, msg, strlen(msg),
		                                retry_after_ns);
	otf_grpc_respond_status_details(call, st, msg, details, dn);
}

/* ---- hand-off: a complete request of this worker's connection runs on
 * another worker's instance (otf_node_handoff_peer says when and where).
 * Origin: the call stays pending here (answers, CAN); the request's bytes
 * go to the peer. Peer: the same validation, envelope and send as on_call,
 * then the answer (at once, or at the outcome with wait_for_result) goes
 * back, and the origin answers the call if it still waits. Neither side
 * touches the record while the other owns it; the origin finds the call
 * again by seq (it may have answered it at shutdown meanwhile). ---- */

static void hand_free(hand_t *h)
{
	otf_buf_unref(h->body);
	otf_free(h);
}

/* Origin: the peer's answer. */
static void hand_done(void *inst, otf_node_t *node, void *arg, int status)
{
	(void)node;
	hand_t *h = arg;
	otlp_grpc_rx_t *g = status ? NULL : otf__otlp_receiver_grpc(inst);
	pending_t *p = g ? g->pending : NULL;
	while (p && !(p->hand && p->seq == h->seq))
		p = p->next;
	if (p) {
		unlink_pending(g, p);
		if (!h->code)
			otf_node_count(g->node, OTF_COUNTER_ACCEPTED, p->signal, h->items);
		else if (h->refused)
			otf_node_count(g->node, OTF_COUNTER_REFUSED, p->signal, h->items);
		if (!h->code)
			respond_ok(p->call, p->signal);
		else
			respond_failure(p->call, h->code, h->msg, h->retry_after_ns);
		otf_free(p);
	}
	hand_free(h);
}

/* Peer: the answer goes back to the origin (which, when it finished
 * already, answered the call at its shutdown). */
static void hand_back(otf_node_t *node, hand_t *h, int code, bool refused, const char *msg,
                      uint64_t retry_after_ns)
{
	h->code = code;
	h->refused = refused;
	h->retry_after_ns = retry_after_ns;
	snprintf(h->msg, sizeof h->msg, "%s", msg ? msg : "");
	if (otf_node_post_worker(node, h->origin, hand_done, h))
		hand_free(h);
}

static void hand_unlink(otlp_grpc_rx_t *g, hand_t *h)
{
	if (h->prev)
		h->prev->next = h->next;
	else
		g->hands = h->next;
	if (h->next)
		h->next->prev = h->prev;
	h->prev = h->next = NULL;
}

/* Peer: on_call's work from the validation on, into this pipeline. */
static void hand_run(void *inst, otf_node_t *node, void *arg, int status)
{
	hand_t *h = arg;
	otlp_grpc_rx_t *g = status ? NULL : otf__otlp_receiver_grpc(inst);
	if (!g || g->closing || g->destroyed) {
		hand_back(node, h, OTF_GRPC_UNAVAILABLE, false, "collector shutting down", 0);
		return;
	}
	/* REB: this worker's budget, as the origin's was checked at the
	 * headers (the connection is not ours to hold: the client retries). */
	otf_budget_t b = otf_node_budget(g->node);
	if (!otf_budget_admits(&b, 0, 0)) {
		bool rate = b.flags & OTF_BUDGET_RATE;
		hand_back(node, h, rate ? OTF_GRPC_RESOURCE_EXHAUSTED : OTF_GRPC_UNAVAILABLE, true,
		          rate ? "rate limit reached (resource budget), retry later"
		               : "pipeline is full (resource budget exhausted), retry later",
		          (uint64_t)(b.retry_after_ms ? b.retry_after_ms : 1000) * 1000000ull);
		return;
	}
	otlp_ingest_t in;
	otf__otlp_ingest(h->signal, OTLP_ENC_PROTO, h->body, &g->limits, &in);
	if (in.http_status != 200) {
		otf_node_log(g->node, OTF_LOG_DEBUG, "refused: %s", in.message);
		if (in.http_status == 400)
			otf_node_error(g->node, OTF_ERR_DATA, "decode_error", "%s", in.message);
		hand_back(node, h,
		          in.http_status == 400 ? OTF_GRPC_INVALID_ARGUMENT
		                                : OTF_GRPC_RESOURCE_EXHAUSTED,
		          false, in.message, 0);
		return;
	}
	h->items = in.items;
	otf_msg_t *m = otf_msg_create(g->node, h->signal, in.payload, in.items);
	if (!m) {
		hand_back(node, h, OTF_GRPC_RESOURCE_EXHAUSTED, false, "out of memory", 0);
		return;
	}
	if (h->deadline)
		otf_msg_set_deadline(m, h->deadline);
	if (h->wait && otf_msg_subscribe(m, g->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK,
	                                 (uint64_t)(uintptr_t)h | OTLP_GRPC_CALLDATA_TAG |
	                                     OTLP_GRPC_HAND_TAG)) {
		otf_msg_drop(m);
		hand_back(node, h, OTF_GRPC_RESOURCE_EXHAUSTED, false, "out of memory", 0);
		return;
	}
	uint64_t id = otf_msg_id(m);
	int rc = otf_node_send(g->node, m);
	if (rc) {
		otf_msg_drop(m);
		hand_back(node, h,
		          rc == -EAGAIN ? OTF_GRPC_RESOURCE_EXHAUSTED : OTF_GRPC_UNAVAILABLE, true,
		          rc == -EAGAIN ? "pipeline is full, retry later" : "pipeline unavailable",
		          0);
		return;
	}
	if (!h->wait) {
		hand_back(node, h, 0, false, NULL, 0);
		return;
	}
	h->peer = g;
	h->msg_id = id;
	h->next = g->hands;
	if (g->hands)
		g->hands->prev = h;
	g->hands = h;
}

/* Origin: hands call's request to another worker when this one is
 * saturated; false = run it here. */
static bool hand_off(otlp_grpc_rx_t *g, otf_grpc_call_t *call, otf_signal_t s)
{
	int peer = otf_node_handoff_peer(g->node);
	if (peer < 0)
		return false;
	hand_t *h = otf_calloc(1, sizeof *h);
	pending_t *p = otf_calloc(1, sizeof *p);
	if (!h || !p) {
		otf_free(h);
		otf_free(p);
		return false;
	}
	h->origin = otf_node_worker_index(g->node);
	h->seq = p->seq = ++g->seq;
	h->signal = s;
	h->body = otf_buf_ref(otf_grpc_call_message(call));
	h->wait = g->cfg->wait_for_result;
	/* As on_call: the client's deadline only while it waits. */
	h->deadline = h->wait ? otf_grpc_call_deadline_unix_ns(call) : 0;
	p->call = call;
	p->signal = s;
	p->hand = h;
	p->peer = peer;
	if (otf_node_post_worker(g->node, peer, hand_run, h)) {
		hand_free(h);
		otf_free(p);
		return false;
	}
	link_pending(g, p);
	return true;
}

typedef struct hand_cancel {
	hand_t *key;
	uint64_t seq;
	int why;
} hand_cancel_t;

/* Peer: CAN for a handed request whose client went away, if it is still
 * in this pipeline (the record is only compared, it may be gone). */
static void hand_cancel_run(void *inst, otf_node_t *node, void *arg, int status)
{
	(void)node;
	hand_cancel_t *k = arg;
	otlp_grpc_rx_t *g = status ? NULL : otf__otlp_receiver_grpc(inst);
	for (hand_t *h = g ? g->hands : NULL; h; h = h->next) {
		if (h != k->key || h->seq != k->seq)
			continue;
		otf_node_count(g->node, OTF_COUNTER_CANCELLED, h->signal, h->items);
		otf_msg_cancel(g->node, h->msg_id,
		               k->why == OTF_GRPC_DEADLINE_EXCEEDED
		                   ? "client's deadline (grpc-timeout) passed"
		                   : "client cancelled the call or disconnected");
		break;
	}
	otf_free(k);
}

static void hand_cancel_post(otlp_grpc_rx_t *g, pending_t *p, int why)
{
	hand_cancel_t *k = otf_malloc(sizeof *k);
	if (!k)
		return;
	k->key = p->hand;
	k->seq = p->seq;
	k->why = why;
	if (otf_node_post_worker(g->node, p->peer, hand_cancel_run, k))
		otf_free(k);
}

void otf__otlp_grpc_outcome(otlp_grpc_rx_t *g, const otf_ctrl_t *c)
{
	char msg[256];
	if (c->calldata & OTLP_GRPC_HAND_TAG) {
		hand_t *h = (hand_t *)(uintptr_t)(c->calldata & ~(uint64_t)(OTLP_GRPC_CALLDATA_TAG |
		                                                            OTLP_GRPC_HAND_TAG));
		hand_unlink(g, h);
		if (c->type == OTF_CTRL_ACK) {
			hand_back(g->node, h, 0, false, NULL, 0);
			return;
		}
		int st = nack_status(c, msg, sizeof msg);
		hand_back(g->node, h, st, true, msg, c->permanent ? 0 : c->retry_after_ns);
		return;
	}
	pending_t *p = (pending_t *)(uintptr_t)(c->calldata & ~(uint64_t)OTLP_GRPC_CALLDATA_TAG);
	unlink_pending(g, p);
	if (c->type == OTF_CTRL_ACK) {
		otf_node_count(g->node, OTF_COUNTER_ACCEPTED, p->signal, p->items);
		respond_ok(p->call, p->signal);
	} else {
		otf_node_count(g->node, OTF_COUNTER_REFUSED, p->signal, p->items);
		int st = nack_status(c, msg, sizeof msg);
		respond_failure(p->call, st, msg, c->permanent ? 0 : c->retry_after_ns);
	}
	otf_free(p);
}

int otf__otlp_grpc_start(otf_node_t *node, const otlp_config_t *cfg, void (*closed)(void *),
                         void *arg, otlp_grpc_rx_t **out)
{
	const otlp_grpc_t *gc = &cfg->protocols.grpc;
	char host[256];
	uint16_t port;
	int rc = otlp_parse_endpoint(gc->endpoint, host, sizeof host, &port);
	if (rc)
		return rc;
	otlp_grpc_rx_t *g = otf_calloc(1, sizeof *g);
	if (!g)
		return OTF_E_NOMEM;
	g->node = node;
	g->cfg = cfg;
	g->limits = otlp_view_limits(cfg);
	otlp_auth_resolve(node, &gc->auth, &g->auth);
	g->closed = closed;
	g->closed_arg = arg;
	const otlp_grpc_keepalive_server_t *k = &gc->keepalive.server_parameters;
	otf_grpc_server_config_t sc = {
	    .host = host,
	    .port = port,
	    .max_recv_msg_bytes = (size_t)gc->max_recv_msg_size_mib << 20,
	    .max_concurrent_streams = (uint32_t)gc->max_concurrent_streams,
	    .max_connection_idle_ms = (uint64_t)k->max_connection_idle_ns / 1000000,
	    .max_connection_age_ms = (uint64_t)k->max_connection_age_ns / 1000000,
	    .max_connection_age_grace_ms = (uint64_t)k->max_connection_age_grace_ns / 1000000,
	    .keepalive_time_ms = (uint64_t)k->time_ns / 1000000,
	    .keepalive_timeout_ms = (uint64_t)k->timeout_ns / 1000000,
	    .min_ping_time_ms = (uint64_t)gc->keepalive.enforcement_policy.min_time_ns / 1000000,
	    .permit_without_stream = gc->keepalive.enforcement_policy.permit_without_stream,
	    .share_group = gc, /* one socket for this receiver's workers */
	    .read_buffer_bytes = (size_t)gc->read_buffer_size,
	    .write_buffer_bytes = (size_t)gc->write_buffer_size,
	    /* the loop's cap applies (otflow/net.h): it evicts, this refuses */
	    .max_connections = UINT32_MAX,
	    .admit_status = admit_status,
	    .call_gone = call_gone,
	};
	if (gc->tls_set) {
		char err[512];
		rc = otf_tls_ctx_acquire(&gc->tls, &gc->tls, OTF_TLS_SERVER, "h2",
		                         "protocols.grpc.tls", otf_node_name(node), &g->tls, err,
		                         sizeof err);
		if (rc) {
			otf_node_log(node, OTF_LOG_ERROR, "%s", err);
			otf_free(g);
			return rc;
		}
		sc.tls = g->tls;
	}
	rc = otf_grpc_server_create(otf_node_loop(node), &sc, on_call, g, &g->server);
	if (rc) {
		otf_tls_ctx_release(g->tls);
		otf_node_log(node, OTF_LOG_ERROR, "cannot listen on %s: %s", gc->endpoint,
		             otf_strerror(rc));
		otf_free(g);
		return rc;
	}
	if (otf_node_worker_index(node) == 0)
		otf_node_log(node, OTF_LOG_INFO, "OTLP/gRPC%s listening on %s",
		             gc->tls_set ? " over TLS" : "", gc->endpoint);
	*out = g;
	return 0;
}

/* The server closes without waiting for calls whose client is gone, so
 * outcomes may still arrive afterwards: g lives on until destroy. */
static void server_closed(void *arg)
{
	otlp_grpc_rx_t *g = arg;
	void (*cb)(void *) = g->closed;
	void *cb_arg = g->closed_arg;
	g->server = NULL;
	if (g->destroyed) {
		otf_tls_ctx_release(g->tls);
		otf_free(g);
	}
	cb(cb_arg);
}

void otf__otlp_grpc_close(otlp_grpc_rx_t *g)
{
	if (g->closing)
		return;
	g->closing = true;
	otf_grpc_server_close(g->server, server_closed, g);
}

void otf__otlp_grpc_destroy(otlp_grpc_rx_t *g)
{
	/* Answer before closing: the server waits for every call it handed
	 * out, and g may be freed once it has closed. */
	while (g->pending) {
		pending_t *p = g->pending;
		unlink_pending(g, p);
		otf_grpc_respond_status(p->call, OTF_GRPC_UNAVAILABLE, "collector shutting down");
		otf_free(p);
	}
	while (g->hands) {
		hand_t *h = g->hands;
		hand_unlink(g, h);
		hand_back(g->node, h, OTF_GRPC_UNAVAILABLE, false, "collector shutting down", 0);
	}
	if (!g->server) {
		otf_tls_ctx_release(g->tls);
		otf_free(g);
		return;
	}
	g->destroyed = true; /* freed in server_closed */
	otf__otlp_grpc_close(g);
}

void otf__otlp_grpc_resume(otlp_grpc_rx_t *g)
{
	if (!g->held || !g->server)
		return;
	g->held = false;
	otf_grpc_server_resume(g->server);
}
