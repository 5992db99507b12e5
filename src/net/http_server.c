/* HTTP listener: bind (optionally SO_REUSEPORT), accept, graceful close.
 *
 * libuv 1.44 has no UV_TCP_REUSEPORT (it arrived in 1.49), so the socket is
 * created, configured and bound here and then handed to uv_tcp_open. */
#include "net/http_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LISTEN_BACKLOG 511

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

/* Returns a listening, non-blocking socket or -errno / UV_EAI_*. */
static int open_listen_socket(uv_loop_t *loop, const char *host, uint16_t port, bool reuseport)
{
	char service[8];
	snprintf(service, sizeof service, "%u", (unsigned)port);
	struct addrinfo hints;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	uv_getaddrinfo_t gai;
	/* A NULL callback makes uv_getaddrinfo synchronous: create runs at
	 * start-up, where blocking on a name lookup is acceptable. */
	int rc =
	    uv_getaddrinfo(loop, &gai, NULL, host && *host ? host : "0.0.0.0", service, &hints);
	if (rc < 0)
		return rc;
	struct addrinfo *ai = gai.addrinfo;
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	int one = 1;
	/* SO_REUSEADDR: rebind at once after a restart despite TIME_WAIT. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		rc = -errno;
		close(fd);
		goto out;
	}
	rc = fd;
out:
	uv_freeaddrinfo(gai.addrinfo);
	return rc;
}

static void maybe_finish(otf_http_server_t *s)
{
	if (!s->closing || !s->listener_closed || s->n_conns)
		return;
	if (s->close_cb)
		s->close_cb(s->close_arg);
	otf_free(s);
}

static void on_listener_closed(uv_handle_t *h)
{
	otf_http_server_t *s = h->data;
	s->listener_closed = true;
	maybe_finish(s);
}

static void on_connection(uv_stream_t *st, int status)
{
	otf_http_server_t *s = st->data;
	if (status < 0 || s->closing)
		return; /* EMFILE and friends: the client retries */
	otf__http_conn_accept(s);
}

int otf_http_server_create(uv_loop_t *loop, const otf_http_server_config_t *cfg,
                           otf_http_handler_cb handler, void *ctx, otf_http_server_t **out)
{
	if (!loop || !cfg || !handler || !out)
		return OTF_E_INVAL;
	int fd = open_listen_socket(loop, cfg->host, cfg->port, cfg->reuseport);
	if (fd < 0)
		return fd;
	otf_http_server_t *s = otf_calloc(1, sizeof *s);
	if (!s) {
		close(fd);
		return OTF_E_NOMEM;
	}
	s->loop = loop;
	s->cfg = *cfg;
	apply_defaults(&s->cfg);
	s->handler = handler;
	s->ctx = ctx;
	uv_tcp_init(loop, &s->listener); /* cannot fail for AF_UNSPEC */
	s->listener.data = s;
	int rc = uv_tcp_open(&s->listener, fd);
	if (rc < 0)
		close(fd); /* not adopted by the handle */
	else
		rc = uv_listen((uv_stream_t *)&s->listener, LISTEN_BACKLOG, on_connection);
	if (rc < 0) {
		/* The handle is registered with the loop: free it once libuv
		 * is done with it. No callback reaches the caller. */
		s->closing = true;
		uv_close((uv_handle_t *)&s->listener, on_listener_closed);
		return rc;
	}
	*out = s;
	return 0;
}

int otf_http_server_bound_port(const otf_http_server_t *s)
{
	struct sockaddr_storage ss;
	int len = sizeof ss;
	int rc = uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len);
	if (rc < 0)
		return rc;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

void otf_http_server_close(otf_http_server_t *s, otf_http_server_close_cb cb, void *arg)
{
	if (s->closing)
		return;
	s->closing = true;
	s->close_cb = cb;
	s->close_arg = arg;
	uv_close((uv_handle_t *)&s->listener, on_listener_closed);
	/* drain may close a connection; unlinking happens in its close
	 * callback, so walking the list here stays valid. */
	for (otf__http_conn_t *c = s->conns; c; c = otf__http_conn_next(c))
		otf__http_conn_drain(c);
}

void otf__http_server_conn_gone(otf_http_server_t *s)
{
	s->n_conns--;
	maybe_finish(s);
}
