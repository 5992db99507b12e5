/* receiver `otlp`: protocol http here, OTLP/HTTP on POST /v1/traces,
 * /v1/metrics and /v1/logs (OTLP specification, "OTLP/HTTP"); protocol grpc
 * in otlp_grpc.c. Every worker owns one server per protocol on the same
 * endpoint (SO_REUSEPORT).
 *
 * wait_for_result false: the client gets 200 once the message is queued in
 * the pipeline. true: the receiver subscribes to the message's outcome and
 * answers after the acknowledgement unwinds: 200 on ACK, 400 on a permanent
 * NACK, 503 with Retry-After on a retryable one, so delivery failures and
 * backpressure reach the sender. */
#include "otlp_auth.h"
#include "otlp_grpc.h"
#include "otlp_http_ingest.h"
#include "otlp_receiver_config.h"

#include "otflow/alloc.h"
#include "otflow/component.h"
#include "otflow/err.h"
#include "otflow/http_server.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

typedef struct pending pending_t;

typedef struct otlp_receiver {
	otf_node_t *node;
	const otlp_config_t *cfg;
	otf_view_limits_t limits;
	otf_http_server_t *server;
	otlp_grpc_rx_t *grpc;
	int open;            /* servers not yet closed */
	pending_t *pending;  /* HTTP requests waiting for their outcome */
	otlp_auth_rx_t auth; /* protocols.http.auth */
	otf_tls_ctx_t *tls;  /* protocols.http.tls, shared by the workers */
	bool closing;
	bool destroyed;
	bool held; /* connections held back for a 0 budget (REB) */
} otlp_receiver_t;

struct pending {
	otf_http_request_t *req;
	otlp_encoding_t enc;
	otf_signal_t signal;
	uint64_t items;
	uint64_t msg_id; /* cancelled (CAN) when the client leaves first */
	pending_t *prev, *next;
};

static const char *const k_ct[] = {"application/x-protobuf", "application/json"};

static void add_cors(otlp_receiver_t *r, otf_http_request_t *req, otf_http_header_t *h, size_t *n)
{
	otf_http_str_t origin = otf_http_request_header(req, "Origin");
	if (!origin.ptr || !otlp_cors_origin_allowed(&r->cfg->protocols.http.cors, origin.ptr))
		return;
	h[(*n)++] = (otf_http_header_t){"Access-Control-Allow-Origin", origin.ptr};
	h[(*n)++] = (otf_http_header_t){"Vary", "Origin"};
}

/* retry_after_ns: the throttle delay a NACK carried (otf_ctrl_t), passed
 * on to the client as Retry-After in whole seconds, rounded up; 0 = the
 * default 1 s. */
static void respond_status_after(otlp_receiver_t *r, otf_http_request_t *req, otlp_encoding_t enc,
                                 int http, int grpc_code, const char *msg, uint64_t retry_after_ns)
{
	otf_http_header_t h[6];
	size_t n = 0;
	char ra[24] = "1";
	add_cors(r, req, h, &n);
	if (retry_after_ns)
		snprintf(ra, sizeof ra, "%llu",
		         (unsigned long long)((retry_after_ns + 999999999ull) / 1000000000ull));
	if (http == 503 || http == 429)
		h[n++] = (otf_http_header_t){"Retry-After", ra};
	otf_buf_t *b = otf__otlp_status_body(enc, grpc_code, msg);
	otf_http_respond(req, http, k_ct[enc], b ? b->data : NULL, b ? b->len : 0, h, n);
	otf_buf_unref(b);
}

static void respond_status(otlp_receiver_t *r, otf_http_request_t *req, otlp_encoding_t enc,
                           int http, int grpc_code, const char *msg)
{
	respond_status_after(r, req, enc, http, grpc_code, msg, 0);
}

/* REB (otflow/component.h): the budget downstream is 0 or too small for
 * this request. 503 for a capacity, 429 for a rate, with the publisher's
 * Retry-After; the connection then reads nothing until the budget
 * returns (control, REB), so a client that keeps sending is held back by
 * TCP instead of by our memory. */
static void refuse_budget(otlp_receiver_t *r, otf_http_request_t *req, otlp_encoding_t enc,
                          const otf_budget_t *b, const char *why)
{
	otf_http_header_t h[6];
	size_t n = 0;
	add_cors(r, req, h, &n);
	char ra[24];
	uint32_t ms = b ? b->retry_after_ms : 0;
	snprintf(ra, sizeof ra, "%u", ms ? (ms + 999) / 1000 : 1);
	h[n++] = (otf_http_header_t){"Retry-After", ra};
	bool rate = b && (b->flags & OTF_BUDGET_RATE);
	otf_buf_t *body = otf__otlp_status_body(enc, rate ? 8 : 14, why);
	otf_http_request_hold_connection(req);
	r->held = true;
	otf_http_respond(req, rate ? 429 : 503, k_ct[enc], body ? body->data : NULL,
	                 body ? body->len : 0, h, n);
	otf_buf_unref(body);
}

static void respond_ok(otlp_receiver_t *r, otf_http_request_t *req, otf_signal_t s,
                       otlp_encoding_t enc)
{
	otf_http_header_t h[4];
	size_t n = 0;
	add_cors(r, req, h, &n);
	otf_buf_t *b = otf__otlp_success_body(s, enc);
	otf_http_respond(req, 200, k_ct[enc], b ? b->data : NULL, b ? b->len : 0, h, n);
	otf_buf_unref(b);
}

static void preflight(otlp_receiver_t *r, otf_http_request_t *req)
{
	const otlp_cors_t *c = &r->cfg->protocols.http.cors;
	otf_http_str_t origin = otf_http_request_header(req, "Origin");
	if (!origin.ptr || !otlp_cors_origin_allowed(c, origin.ptr)) {
		otf_http_respond(req, 204, NULL, NULL, 0, NULL, 0);
		return;
	}
	char headers[512], age[32];
	otlp_cors_allowed_headers(c, headers, sizeof headers);
	snprintf(age, sizeof age, "%lld", (long long)c->max_age);
	otf_http_header_t h[6] = {
	    {"Access-Control-Allow-Origin", origin.ptr},
	    {"Access-Control-Allow-Methods", "POST, OPTIONS"},
	    {"Access-Control-Allow-Headers", headers},
	    {"Vary", "Origin"},
	    {"Access-Control-Max-Age", age},
	};
	otf_http_respond(req, 204, NULL, NULL, 0, h, c->max_age > 0 ? 5 : 4);
}

static int path_signal(const otlp_receiver_t *r, otf_http_str_t p)
{
	const char *paths[3] = {r->cfg->protocols.http.traces_url_path,
	                        r->cfg->protocols.http.metrics_url_path,
	                        r->cfg->protocols.http.logs_url_path};
	for (int s = 0; s < 3; s++)
		if (paths[s] && strlen(paths[s]) == p.len && !memcmp(paths[s], p.ptr, p.len))
			return s;
	return -1;
}

static void copy_metadata(otf_http_request_t *req, otf_msg_t *m)
{
	size_t n = otf_http_request_header_count(req);
	for (size_t i = 0; i < n; i++) {
		otf_http_str_t k, v;
		if (otf_http_request_header_at(req, i, &k, &v) ||
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
	otf_http_str_t v = otf_http_request_header(ctx, name);
	*len = v.len;
	return v.ptr;
}

static void on_request(otf_http_request_t *req, void *ctx)
{
	otlp_receiver_t *r = ctx;
	if (otf_admission_refused()) { /* process-wide: memory above a soft limit */
		int e = otf__otlp_content_type(otf_http_request_header(req, "Content-Type").ptr);
		respond_status(r, req, e == OTLP_ENC_JSON ? OTLP_ENC_JSON : OTLP_ENC_PROTO, 503, 8,
		               "memory limit exceeded, retry later");
		return;
	}
	otf_budget_t budget = otf_node_budget(r->node);
	otf_buf_t *raw = otf_http_request_body(req);
	if (!otf_budget_admits(&budget, raw ? raw->len : 0, 0)) {
		int e = otf__otlp_content_type(otf_http_request_header(req, "Content-Type").ptr);
		refuse_budget(r, req, e == OTLP_ENC_JSON ? OTLP_ENC_JSON : OTLP_ENC_PROTO, &budget,
		              "pipeline is full (resource budget exhausted), retry later");
		return;
	}
	int s = path_signal(r, otf_http_request_path(req));
	const char *method = otf_http_request_method(req);
	if (s < 0 || !otf_node_has_output(r->node, (otf_signal_t)s)) {
		otf_http_str_t p = otf_http_request_path(req);
		char msg[300];
		snprintf(msg, sizeof msg, "%.*s is not an OTLP path of this receiver", (int)p.len,
		         p.ptr);
		respond_status(r, req, OTLP_ENC_PROTO, 404, 5, msg);
		return;
	}
	if (!strcmp(method, "OPTIONS")) {
		preflight(r, req);
		return;
	}
	if (strcmp(method, "POST")) {
		otf_http_header_t h = {"Allow", "POST, OPTIONS"};
		otf_buf_t *b =
		    otf__otlp_status_body(OTLP_ENC_PROTO, 12, "method not allowed: use POST");
		otf_http_respond(req, 405, k_ct[0], b ? b->data : NULL, b ? b->len : 0, &h, 1);
		otf_buf_unref(b);
		return;
	}
	otf_http_str_t ct = otf_http_request_header(req, "Content-Type");
	int enc = otf__otlp_content_type(ct.ptr);
	otf_auth_result_t who;
	if (r->auth.vt && otlp_auth_check(r->node, &r->auth, auth_header, req,
	                                  otf_http_request_peer(req), &who)) {
		char msg[200];
		snprintf(msg, sizeof msg, "unauthenticated: %s", who.reason);
		respond_status(r, req, enc == OTLP_ENC_JSON ? OTLP_ENC_JSON : OTLP_ENC_PROTO, 401,
		               16, msg);
		return;
	}
	if (enc < 0) {
		char msg[300];
		snprintf(msg, sizeof msg,
		         "unsupported Content-Type '%s': use application/x-protobuf or "
		         "application/json",
		         ct.ptr ? ct.ptr : "");
		respond_status(r, req, OTLP_ENC_PROTO, 415, 3, msg);
		return;
	}
	otf_buf_t *body = otf_http_request_body(req);
	otf_buf_t *empty = NULL;
	if (!body)
		body = empty = otf_buf_create(0);
	otlp_ingest_t in;
	otf__otlp_ingest((otf_signal_t)s, (otlp_encoding_t)enc, body, &r->limits, &in);
	otf_buf_unref(empty);
	if (in.http_status != 200) {
		otf_node_log(r->node, OTF_LOG_DEBUG, "refused: %s", in.message);
		if (in.http_status == 400) /* ERR: the client's data, status unchanged */
			otf_node_error(r->node, OTF_ERR_DATA, "decode_error", "%s", in.message);
		respond_status(r, req, (otlp_encoding_t)enc, in.http_status,
		               in.http_status == 400 ? 3 : 14, in.message);
		return;
	}
	if (!otf_budget_admits(&budget, in.payload ? in.payload->len : 0, in.items)) {
		otf_buf_unref(in.payload);
		otf_node_count(r->node, OTF_COUNTER_REFUSED, (otf_signal_t)s, in.items);
		refuse_budget(r, req, (otlp_encoding_t)enc, &budget,
		              "request larger than the pipeline can take now (resource budget), "
		              "retry later");
		return;
	}
	otf_msg_t *m = otf_msg_create(r->node, (otf_signal_t)s, in.payload, in.items);
	if (!m) {
		respond_status(r, req, (otlp_encoding_t)enc, 503, 8, "out of memory");
		return;
	}
	if (r->cfg->protocols.http.include_metadata)
		copy_metadata(req, m);
	if (r->auth.vt)
		otlp_auth_envelope(m, &who);
	if (otf_http_request_tls_subject(req)) {
		otf_msg_header_add(m, OTLP_TLS_SUBJECT_KEY, otf_http_request_tls_subject(req));
		otlp_auth_tls_envelope(m, otf_http_request_tls_subject(req));
	}
	pending_t *p = NULL;
	if (r->cfg->wait_for_result) {
		p = otf_calloc(1, sizeof *p);
		if (!p || otf_msg_subscribe(m, r->node, OTF_INTEREST_ACK | OTF_INTEREST_NACK,
		                            (uint64_t)(uintptr_t)p)) {
			otf_free(p);
			otf_msg_drop(m);
			respond_status(r, req, (otlp_encoding_t)enc, 503, 8, "out of memory");
			return;
		}
	}
	uint64_t id = otf_msg_id(m);
	int rc = otf_node_send(r->node, m);
	if (rc) {
		otf_msg_drop(m);
		otf_free(p);
		otf_node_count(r->node, OTF_COUNTER_REFUSED, (otf_signal_t)s, in.items);
		respond_status(r, req, (otlp_encoding_t)enc, 503, 14,
		               rc == -EAGAIN ? "pipeline is full, retry later"
		                             : "pipeline unavailable");
		return;
	}
	if (!p) {
		otf_node_count(r->node, OTF_COUNTER_ACCEPTED, (otf_signal_t)s, in.items);
		respond_ok(r, req, (otf_signal_t)s, (otlp_encoding_t)enc);
		return;
	}
	p->req = req;
	p->enc = (otlp_encoding_t)enc;
	p->signal = (otf_signal_t)s;
	p->items = in.items;
	p->msg_id = id;
	p->next = r->pending;
	if (r->pending)
		r->pending->prev = p;
	r->pending = p;
}

/* CAN: the client left while its message is in the pipeline (the
 * outcome still comes and answers the dead request, a no-op). */
static void request_gone(otf_http_request_t *req, void *ctx)
{
	otlp_receiver_t *r = ctx;
	for (pending_t *p = r->pending; p; p = p->next) {
		if (p->req != req)
			continue;
		otf_node_count(r->node, OTF_COUNTER_CANCELLED, p->signal, p->items);
		otf_msg_cancel(r->node, p->msg_id, "client disconnected");
		return;
	}
}

static void unlink_pending(otlp_receiver_t *r, pending_t *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		r->pending = p->next;
	if (p->next)
		p->next->prev = p->prev;
}

static int create(const otf_create_ctx_t *ctx, void **inst)
{
	if (*inst)
		return 0;
	otlp_receiver_t *r = otf_calloc(1, sizeof *r);
	if (!r)
		return OTF_E_NOMEM;
	r->node = ctx->node;
	r->cfg = ctx->config;
	r->limits = otlp_view_limits(r->cfg);
	otlp_auth_resolve(r->node, &r->cfg->protocols.http.auth, &r->auth);
	*inst = r;
	return 0;
}

static void one_closed(otlp_receiver_t *r)
{
	if (--r->open > 0)
		return;
	if (r->destroyed) {
		otf_tls_ctx_release(r->tls);
		otf_free(r);
	} else if (r->closing)
		otf_node_shutdown_done(r->node);
}

static void grpc_closed(void *arg)
{
	one_closed(arg); /* r->grpc stays valid for late outcomes until destroy */
}

static int start_http(otlp_receiver_t *r)
{
	const otlp_http_t *h = &r->cfg->protocols.http;
	otf_http_server_config_t sc;
	memset(&sc, 0, sizeof sc);
	char host[256];
	uint16_t port;
	int rc = otlp_parse_endpoint(h->endpoint, host, sizeof host, &port);
	if (rc)
		return rc;
	sc.host = host;
	sc.port = port;
	sc.max_body_bytes = h->max_request_body_size;
	sc.idle_timeout_ms = (uint32_t)(h->idle_timeout_ns / 1000000);
	sc.read_header_timeout_ms = (uint32_t)(h->read_header_timeout_ns / 1000000);
	sc.read_timeout_ms = (uint32_t)(h->read_timeout_ns / 1000000);
	/* The config is one object for every worker's instance of this
	 * receiver: the workers share one socket, nobody else can. */
	sc.share_group = h;
	/* The limit is the loop's (runtime.max_connections, otflow/net.h),
	 * which evicts the idle-longest connection instead of refusing. */
	sc.max_connections = UINT32_MAX;
	if (h->tls_set && !r->tls) {
		char err[512];
		rc = otf_tls_ctx_acquire(&h->tls, &h->tls, OTF_TLS_SERVER, "h2,http/1.1",
		                         "protocols.http.tls", otf_node_name(r->node), &r->tls, err,
		                         sizeof err);
		if (rc) {
			otf_node_log(r->node, OTF_LOG_ERROR, "%s", err);
			return rc;
		}
	}
	sc.tls = r->tls;
	sc.request_gone = request_gone;
	rc = otf_http_server_create(otf_node_loop(r->node), &sc, on_request, r, &r->server);
	if (rc) {
		otf_node_log(r->node, OTF_LOG_ERROR, "cannot listen on %s: %s", h->endpoint,
		             otf_strerror(rc));
		return rc;
	}
	if (otf_node_worker_index(r->node) == 0)
		otf_node_log(r->node, OTF_LOG_INFO, "OTLP/HTTP%s listening on %s",
		             h->tls_set ? "S" : "", h->endpoint);
	r->open++;
	return 0;
}

static int start(void *inst)
{
	otlp_receiver_t *r = inst;
	int rc = 0;
	if (r->cfg->protocols.grpc_set) {
		rc = otf__otlp_grpc_start(r->node, r->cfg, grpc_closed, r, &r->grpc);
		if (!rc)
			r->open++;
	}
	if (!rc && r->cfg->protocols.http_set)
		rc = start_http(r);
	return rc;
}

static void server_closed(void *arg)
{
	otlp_receiver_t *r = arg;
	r->server = NULL;
	one_closed(r);
}

static void answer(otlp_receiver_t *r, const otf_ctrl_t *c)
{
	pending_t *p = (pending_t *)(uintptr_t)c->calldata;
	unlink_pending(r, p);
	if (c->type == OTF_CTRL_ACK) {
		otf_node_count(r->node, OTF_COUNTER_ACCEPTED, p->signal, p->items);
		respond_ok(r, p->req, p->signal, p->enc);
	} else {
		otf_node_count(r->node, OTF_COUNTER_REFUSED, p->signal, p->items);
		char msg[256];
		snprintf(msg, sizeof msg, "%s: %s", c->permanent ? "rejected" : "not delivered",
		         c->reason[0] ? c->reason : otf_strerror(c->error));
		/* A passed deadline is 504 (retryable for OTLP/HTTP clients) with
		 * DEADLINE_EXCEEDED in the Status. */
		bool late = !c->permanent && c->error == -ETIMEDOUT;
		respond_status_after(r, p->req, p->enc,
		                     c->permanent ? 400
		                     : late       ? 504
		                                  : 503,
		                     c->permanent ? 3
		                     : late       ? 4
		                                  : 14,
		                     msg, c->retry_after_ns);
	}
	otf_free(p);
}

otlp_grpc_rx_t *otf__otlp_receiver_grpc(void *instance)
{
	return instance ? ((otlp_receiver_t *)instance)->grpc : NULL;
}

static void control(void *inst, const otf_ctrl_t *c)
{
	otlp_receiver_t *r = inst;
	switch (c->type) {
	case OTF_CTRL_ACK:
	case OTF_CTRL_NACK:
		if (c->calldata & OTLP_GRPC_CALLDATA_TAG)
			otf__otlp_grpc_outcome(r->grpc, c);
		else
			answer(r, c);
		break;
	case OTF_CTRL_REB:
		/* Budget back: held connections read again (the requests they
		 * sent meanwhile were waiting in the kernel). */
		if (otf_budget_admits(&c->budget, 0, 0)) {
			if (r->held && r->server)
				otf_http_server_resume(r->server);
			r->held = false;
			if (r->grpc)
				otf__otlp_grpc_resume(r->grpc);
		}
		break;
	case OTF_CTRL_KIL:
		if (r->closing)
			break;
		/* Stop accepting; requests already handed to us are answered
		 * as their outcome arrives, then the servers report closed. */
		r->closing = true;
		if (!r->open) {
			otf_node_shutdown_done(r->node);
			break;
		}
		if (r->server)
			otf_http_server_close(r->server, server_closed, r);
		if (r->grpc)
			otf__otlp_grpc_close(r->grpc);
		break;
	default:
		break;
	}
	if (c->payload)
		otf_buf_unref(c->payload);
}

static void destroy(void *inst)
{
	otlp_receiver_t *r = inst;
	/* At the shutdown deadline some outcomes may never come: answer them
	 * as retryable so clients resend elsewhere. */
	while (r->pending) {
		pending_t *p = r->pending;
		unlink_pending(r, p);
		respond_status(r, p->req, p->enc, 503, 14, "collector shutting down");
		otf_free(p);
	}
	/* Frees the gRPC state now, or once its server closed (grpc_closed
	 * still runs then, never inside this call). */
	if (r->grpc)
		otf__otlp_grpc_destroy(r->grpc);
	r->grpc = NULL;
	if (!r->open) {
		otf_tls_ctx_release(r->tls);
		otf_free(r);
		return;
	}
	r->destroyed = true; /* freed when the last server has closed */
	if (r->server && !r->closing)
		otf_http_server_close(r->server, server_closed, r);
}

const otf_component_factory_t otf_receiver_otlp_factory = {
    .abi_version = OTF_COMPONENT_ABI_VERSION,
    .struct_size = sizeof(otf_component_factory_t),
    .kind = OTF_KIND_RECEIVER,
    .type = "otlp",
    .description = "Receives OTLP over gRPC and HTTP (protobuf and JSON).",
    .stability = {OTF_STABILITY_BETA, OTF_STABILITY_BETA, OTF_STABILITY_BETA},
    .config_schema = otlp_receiver_schema,
    .config_size = sizeof(otlp_config_t),
    .validate = otlp_receiver_validate,
    .create = {create, create, create},
    .start = start,
    .control = control,
    .destroy = destroy,
};
