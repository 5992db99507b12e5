/* gRPC listener (net_listen.c), connection list, graceful close, and the
 * public call API. */
#include "net/grpc_internal.h"
#include "net/net_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <stddef.h>

#include <errno.h>
#include <string.h>

static void apply_defaults(otf_grpc_server_config_t *c)
{
	c->host = NULL; /* only used during create */
	if (!c->max_recv_msg_bytes)
		c->max_recv_msg_bytes = OTF_GRPC_DEFAULT_MAX_RECV_MSG_BYTES;
	if (!c->max_concurrent_streams)
		c->max_concurrent_streams = OTF_GRPC_DEFAULT_MAX_CONCURRENT_STREAMS;
	if (!c->max_connections)
		c->max_connections = OTF_GRPC_DEFAULT_MAX_CONNECTIONS;
	if (!c->keepalive_time_ms)
		c->keepalive_time_ms = OTF_GRPC_DEFAULT_KEEPALIVE_TIME_MS;
	if (!c->keepalive_timeout_ms)
		c->keepalive_timeout_ms = OTF_GRPC_DEFAULT_KEEPALIVE_TIMEOUT_MS;
	if (!c->min_ping_time_ms)
		c->min_ping_time_ms = OTF_GRPC_DEFAULT_MIN_PING_TIME_MS;
}

static void maybe_finish(otf_grpc_server_t *s)
{
	if (!s->closing || !s->listener_closed || !s->defer_closed || s->n_conns)
		return;
	if (s->close_cb)
		s->close_cb(s->close_arg);
	otf__net_listen_unshare(s->share); /* our dup is closed with the handle */
	otf__net_conns_put(s->reg);
	otf_free(s);
}

static void on_listener_closed(uv_handle_t *h)
{
	otf_grpc_server_t *s = h->data;
	s->listener_closed = true;
	maybe_finish(s);
}

static void on_defer_closed(uv_handle_t *h)
{
	otf_grpc_server_t *s = h->data;
	s->defer_closed = true;
	maybe_finish(s);
}

static void on_resume(otf__net_waiter_t *w);

/* Accepts (the connection libuv holds for us) unless the loop's cap
 * pauses the listener, and publishes the new count for the balance. */
static void accept_now(otf_grpc_server_t *s)
{
	if (s->closing || !otf__net_conns_admit(s->reg, &s->waiter, on_resume))
		return;
	otf__grpc_conn_accept(s);
	otf__net_share_set(s->share, s->slot, s->n_conns);
}

static void on_defer(uv_timer_t *t)
{
	accept_now(t->data);
}

/* Accepts the connection waiting in the listener once a slot is free. */
static void on_resume(otf__net_waiter_t *w)
{
	otf_grpc_server_t *s = (void *)((char *)w - offsetof(otf_grpc_server_t, waiter));
	if (!s->closing) {
		otf__grpc_conn_accept(s);
		otf__net_share_set(s->share, s->slot, s->n_conns);
	}
}

static void on_connection(uv_stream_t *st, int status)
{
	otf_grpc_server_t *s = st->data;
	if (status < 0) {
		otf__net_accept_failed(s->reg, st, status);
		return;
	}
	/* Every worker's loop polls the one listening socket and the first
	 * to wake accepts, so a burst of connections lands mostly on one
	 * worker. A loop with more connections than another lets the others
	 * go first: it returns without accepting, which pauses its listener
	 * (libuv holds the connection it took), and accepts that one a moment
	 * later. The connection is not moved, only the next ones go where
	 * there is room. */
	if (!s->closing && otf__net_share_ahead(s->share, s->slot)) {
		if (!uv_is_active((uv_handle_t *)&s->defer))
			uv_timer_start(&s->defer, on_defer, OTF__NET_ACCEPT_DEFER_MS, 0);
		return;
	}
	/* At the loop's cap with nothing idle to evict: accept_now returns
	 * without accepting, which pauses this listener until on_resume. */
	accept_now(s);
}

int otf_grpc_server_create(uv_loop_t *loop, const otf_grpc_server_config_t *cfg,
                           otf_grpc_handler_cb handler, void *ctx, otf_grpc_server_t **out)
{
	if (!loop || !cfg || !handler || !out)
		return OTF_E_INVAL;
	otf__net_share_t *share;
	int fd = otf__net_listen_socket(loop, cfg->host, cfg->port, cfg->share_group, &share);
	if (fd < 0)
		return fd;
	otf_grpc_server_t *s = otf_calloc(1, sizeof *s);
	if (!s) {
		close(fd);
		otf__net_listen_unshare(share);
		return OTF_E_NOMEM;
	}
	s->share = share;
	s->reg = otf__net_conns_get(loop);
	s->loop = loop;
	s->cfg = *cfg;
	apply_defaults(&s->cfg);
	s->handler = handler;
	s->ctx = ctx;
	s->slot = otf__net_share_join(share);
	uv_timer_init(loop, &s->defer);
	s->defer.data = s;
	int rc =
	    otf__net_listen_handle(loop, &s->listener, s, fd, on_connection, on_listener_closed);
	if (rc < 0) {
		s->closing = true; /* freed in on_listener_closed, no callback */
		otf__net_share_leave(share, s->slot);
		uv_close((uv_handle_t *)&s->defer, on_defer_closed);
		return rc;
	}
	*out = s;
	return 0;
}

int otf_grpc_server_bound_port(const otf_grpc_server_t *s)
{
	return otf__net_bound_port(&s->listener);
}

void otf_grpc_server_close(otf_grpc_server_t *s, otf_grpc_server_close_cb cb, void *arg)
{
	if (s->closing)
		return;
	s->closing = true;
	s->close_cb = cb;
	s->close_arg = arg;
	otf__net_conns_cancel(&s->waiter);
	otf__net_share_leave(s->share, s->slot);
	uv_close((uv_handle_t *)&s->defer, on_defer_closed);
	uv_close((uv_handle_t *)&s->listener, on_listener_closed);
	/* A drained connection unlinks itself only in its close callback,
	 * so the walk stays valid. */
	for (otf__grpc_conn_t *c = s->conns; c; c = otf__grpc_conn_next(c))
		otf__grpc_conn_drain(c);
}

void otf__grpc_server_conn_gone(otf_grpc_server_t *s)
{
	s->n_conns--;
	if (!s->closing)
		otf__net_share_set(s->share, s->slot, s->n_conns);
	maybe_finish(s);
}

/* ---- calls ---- */

static otf_http_str_t nth_header(const otf_grpc_call_t *call, size_t i, otf_http_str_t *value)
{
	const char *p = call->hdr;
	for (size_t k = 0;; k++) {
		size_t kl = strlen(p);
		const char *v = p + kl + 1;
		size_t vl = strlen(v);
		if (k == i) {
			*value = (otf_http_str_t){v, vl};
			return (otf_http_str_t){p, kl};
		}
		p = v + vl + 1;
	}
}

otf_http_str_t otf_grpc_call_path(const otf_grpc_call_t *call)
{
	return otf_grpc_call_header(call, ":path");
}

otf_http_str_t otf_grpc_call_header(const otf_grpc_call_t *call, const char *name)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i < call->n_hdrs; i++) {
		otf_http_str_t v;
		otf_http_str_t k = nth_header(call, i, &v);
		if (k.len == nl && !memcmp(k.ptr, name, nl))
			return v;
	}
	return (otf_http_str_t){NULL, 0};
}

size_t otf_grpc_call_header_count(const otf_grpc_call_t *call)
{
	return call->n_hdrs;
}

int otf_grpc_call_header_at(const otf_grpc_call_t *call, size_t i, otf_http_str_t *name,
                            otf_http_str_t *value)
{
	if (i >= call->n_hdrs)
		return OTF_E_RANGE;
	*name = nth_header(call, i, value);
	return 0;
}

uint64_t otf_grpc_call_timeout_ns(const otf_grpc_call_t *call)
{
	return call->timeout_ns;
}

uint64_t otf_grpc_call_deadline_unix_ns(const otf_grpc_call_t *call)
{
	return call->deadline_unix_ns;
}

otf_buf_t *otf_grpc_call_message(const otf_grpc_call_t *call)
{
	return call->message;
}

const struct sockaddr *otf_grpc_call_peer(const otf_grpc_call_t *call)
{
	return (const struct sockaddr *)&call->peer;
}

const char *otf_grpc_call_tls_subject(const otf_grpc_call_t *call)
{
	return call->tls_subject;
}

bool otf_grpc_call_alive(const otf_grpc_call_t *call)
{
	return call->conn && !call->answered;
}

static int answer(otf_grpc_call_t *call, int code, const char *message, const void *msg, size_t len)
{
	if (!call)
		return OTF_E_INVAL;
	call->with_handler = false;
	if (!call->conn) {
		otf__grpc_call_free(call); /* orphan: the stream is gone */
		return -ECONNRESET;
	}
	/* msg may point into the request message: release it after. */
	otf_buf_t *req = call->message;
	call->message = NULL;
	int rc = -ECONNRESET; /* answered already (deadline): nothing to send */
	if (!call->answered)
		/* From here the stream owns call: it may be freed inside,
		 * when the answer closes the stream. */
		rc = otf__grpc_conn_answer(call, code, message, msg, len);
	otf_buf_unref(req);
	return rc;
}

int otf_grpc_respond(otf_grpc_call_t *call, const void *msg, size_t len)
{
	static const uint8_t empty[1];
	if (call && len && !msg) {
		int rc =
		    answer(call, OTF_GRPC_INTERNAL, "invalid response from the handler", NULL, 0);
		return rc ? rc : OTF_E_INVAL;
	}
	return answer(call, OTF_GRPC_OK, NULL, msg ? msg : empty, len);
}

int otf_grpc_respond_status(otf_grpc_call_t *call, int code, const char *message)
{
	if (call && (code < 0 || code > 16)) {
		int rc =
		    answer(call, OTF_GRPC_INTERNAL, "invalid status from the handler", NULL, 0);
		return rc ? rc : OTF_E_INVAL;
	}
	return answer(call, code, message, NULL, 0);
}

int otf_grpc_respond_status_details(otf_grpc_call_t *call, int code, const char *message,
                                    const void *details, size_t len)
{
	if (!call || !details || !len || code <= 0 || code > 16)
		return otf_grpc_respond_status(call, code, message);
	/* Binary metadata is base64, sent unpadded (PROTOCOL-HTTP2.md). */
	size_t cap = (len + 2) / 3 * 4 + 1;
	char *b = otf_malloc(cap);
	if (!b)
		return otf_grpc_respond_status(call, code, message);
	size_t o = otf__grpc_b64(details, len, b, cap);
	call->details_b64 = b;
	call->details_b64_len = o;
	/* call may be freed inside: b is ours to free after. */
	int rc = otf_grpc_respond_status(call, code, message);
	otf_free(b);
	return rc;
}

void otf_grpc_server_resume(otf_grpc_server_t *s)
{
	otf__grpc_conn_t *c = s->conns;
	while (c) {
		otf__grpc_conn_t *nx = otf__grpc_conn_next(c);
		otf__grpc_conn_resume(c);
		c = nx;
	}
}
