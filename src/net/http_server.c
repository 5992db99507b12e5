/* HTTP listener: bind (optionally SO_REUSEPORT, net_listen.c), accept,
 * graceful close. */
#include "net/http_internal.h"
#include "net/net_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <stddef.h>

#include <unistd.h>

static void apply_defaults(otf_http_server_config_t *c)
{
	c->host = NULL; /* only used during create */
	if (!c->max_body_bytes)
		c->max_body_bytes = OTF_HTTP_DEFAULT_MAX_BODY_BYTES;
	if (!c->max_header_bytes)
		c->max_header_bytes = OTF_HTTP_DEFAULT_MAX_HEADER_BYTES;
	if (!c->idle_timeout_ms)
		c->idle_timeout_ms = OTF_HTTP_DEFAULT_IDLE_TIMEOUT_MS;
	if (!c->max_connections)
		c->max_connections = OTF_HTTP_DEFAULT_MAX_CONNECTIONS;
}

static void maybe_finish(otf_http_server_t *s)
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
	otf_http_server_t *s = h->data;
	s->listener_closed = true;
	maybe_finish(s);
}

static void on_defer_closed(uv_handle_t *h)
{
	otf_http_server_t *s = h->data;
	s->defer_closed = true;
	maybe_finish(s);
}

/* Accepts the connection waiting in the listener once a slot is free. */
static void on_resume(otf__net_waiter_t *w)
{
	otf_http_server_t *s = (void *)((char *)w - offsetof(otf_http_server_t, waiter));
	if (!s->closing) {
		otf__http_conn_accept(s);
		otf__net_share_set(s->share, s->slot, s->n_conns);
	}
}

/* Accepts (the connection libuv holds for us) unless the loop's cap
 * pauses the listener, and publishes the new count for the balance. */
static void accept_now(otf_http_server_t *s)
{
	if (s->closing || !otf__net_conns_admit(s->reg, &s->waiter, on_resume))
		return;
	otf__http_conn_accept(s);
	otf__net_share_set(s->share, s->slot, s->n_conns);
}

static void on_defer(uv_timer_t *t)
{
	accept_now(t->data);
}

static void on_connection(uv_stream_t *st, int status)
{
	otf_http_server_t *s = st->data;
	if (status < 0) {
		otf__net_accept_failed(s->reg, st, status);
		return;
	}
	/* Accept balance between the workers' loops, as in grpc_server.c: a
	 * loop ahead in connections lets the others take the next ones. */
	if (!s->closing && otf__net_share_ahead(s->share, s->slot)) {
		if (!uv_is_active((uv_handle_t *)&s->defer))
			uv_timer_start(&s->defer, on_defer, OTF__NET_ACCEPT_DEFER_MS, 0);
		return;
	}
	/* At the loop's cap with nothing idle to evict: accept_now returns
	 * without accepting, which pauses this listener until on_resume. */
	accept_now(s);
}

int otf_http_server_create(uv_loop_t *loop, const otf_http_server_config_t *cfg,
                           otf_http_handler_cb handler, void *ctx, otf_http_server_t **out)
{
	if (!loop || !cfg || !handler || !out)
		return OTF_E_INVAL;
	otf__net_share_t *share;
	int fd = otf__net_listen_socket(loop, cfg->host, cfg->port, cfg->share_group, &share);
	if (fd < 0)
		return fd;
	otf_http_server_t *s = otf_calloc(1, sizeof *s);
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
		/* Freed in on_listener_closed; no callback reaches the caller. */
		s->closing = true;
		otf__net_share_leave(share, s->slot);
		uv_close((uv_handle_t *)&s->defer, on_defer_closed);
		return rc;
	}
	*out = s;
	return 0;
}

int otf_http_server_bound_port(const otf_http_server_t *s)
{
	return otf__net_bound_port(&s->listener);
}

void otf_http_server_close(otf_http_server_t *s, otf_http_server_close_cb cb, void *arg)
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
	/* drain may close a connection; unlinking happens in its close
	 * callback, so walking the list here stays valid. */
	for (otf__http_conn_t *c = s->conns; c; c = otf__http_conn_next(c))
		otf__http_conn_drain(c);
}

void otf__http_server_conn_gone(otf_http_server_t *s)
{
	s->n_conns--;
	if (!s->closing)
		otf__net_share_set(s->share, s->slot, s->n_conns);
	maybe_finish(s);
}

void otf_http_server_resume(otf_http_server_t *s)
{
	/* Resuming may close a connection (a read error): take the next one
	 * first. */
	otf__http_conn_t *c = s->conns;
	while (c) {
		otf__http_conn_t *nx = otf__http_conn_next(c);
		otf__http_conn_resume(c);
		c = nx;
	}
}

size_t otf_http_server_held(const otf_http_server_t *s)
{
	size_t n = 0;
	for (otf__http_conn_t *c = s->conns; c; c = otf__http_conn_next(c))
		n += otf__http_conn_held(c);
	return n;
}
