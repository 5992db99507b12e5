/* Unary gRPC client on nghttp2 + libuv (grpc_client.h): calls, connections
 * (resolve, connect, TLS, reads and writes), deadlines. The HTTP/2 session
 * of a connection is grpc_client_session.c. */
#include "grpc_client_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <ctype.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <string.h>

/* A server that accepts but never completes the TLS handshake (a
 * plaintext server waiting for a request) is given up after the client's
 * handshake_timeout_ms, or this when that is 0. */
#define TLS_HANDSHAKE_MS 10000u

static void conn_close(conn_t *k);
static void conn_fail(conn_t *k, const char *why);
static void conn_flush(conn_t *k);
static void on_timer(uv_timer_t *t);

void otf__grpcc_list_add(otf_grpcc_call_t **head, otf_grpcc_call_t *c)
{
	c->prev = NULL;
	c->next = *head;
	if (*head)
		(*head)->prev = c;
	*head = c;
}

static void list_del(otf_grpcc_call_t **head, otf_grpcc_call_t *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else if (*head == c)
		*head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

static void call_free(otf_grpcc_call_t *c)
{
	otf__grpc_reader_close(&c->reader);
	otf_buf_unref(c->body);
	otf_buf_unref(c->res.response);
	for (size_t i = 0; i < c->n_meta; i++)
		otf_free(c->meta[i]);
	otf_free(c->meta);
	otf_free(c->path);
	otf_free(c);
}

static void kick(otf_grpcc_t *cl)
{
	/* Finished calls' callbacks run from the timer, outside nghttp2's
	 * callbacks and never inside otf__grpcc_call. */
	if (!cl->closing)
		uv_timer_start(&cl->timer, on_timer, 0, 100);
}

/* The call's outcome is known: off its list, onto the done list. */
void otf__grpcc_finish(otf_grpcc_call_t *c, int status, const char *msg)
{
	if (c->done)
		return;
	otf_grpcc_t *cl = c->cl;
	if (c->conn) {
		list_del(&c->conn->calls, c);
		if (c->stream_id > 0 && c->conn->h2)
			nghttp2_session_set_stream_user_data(c->conn->h2, c->stream_id, NULL);
	} else {
		list_del(&cl->pending, c);
	}
	c->conn = NULL;
	c->done = true;
	c->res.status = status;
	if (msg)
		snprintf(c->res.message, sizeof c->res.message, "%s", msg);
	otf__grpcc_list_add(&cl->done, c);
	kick(cl);
}

static void on_write(uv_write_t *req, int status)
{
	conn_t *k = req->data;
	otf__grpcc_batch_reset(&k->w);
	k->writing = false;
	if (status < 0) {
		conn_close(k);
		return;
	}
	conn_flush(k);
}

/* Writes what the session wants to send; one write in flight at a time. */
static void conn_flush(conn_t *k)
{
	if (k->writing || k->closing || !k->h2)
		return;
	otf__grpcc_wbatch_t *w = &k->w;
	for (;;) {
		const uint8_t *d;
		ssize_t n = nghttp2_session_mem_send(k->h2, &d);
		if (n < 0 || otf__grpcc_stage_add(w, d, n > 0 ? (size_t)n : 0)) {
			otf__grpcc_batch_reset(w);
			conn_close(k);
			return;
		}
		/* 0 also when send_data paused the session */
		if (n == 0 || w->total >= WRITE_BATCH_BYTES)
			break;
	}
	if (!w->total) {
		if (!nghttp2_session_want_read(k->h2) && !nghttp2_session_want_write(k->h2))
			conn_close(k);
		else if (k->goaway && !k->calls)
			conn_close(k);
		return;
	}
	if (w->nseg > w->buf_cap) {
		uv_buf_t *nb = otf_realloc(w->bufs, w->nseg * sizeof *nb);
		if (!nb) {
			otf__grpcc_batch_reset(w);
			conn_close(k);
			return;
		}
		w->bufs = nb;
		w->buf_cap = w->nseg;
	}
	for (size_t i = 0; i < w->nseg; i++) {
		const otf__grpcc_wseg_t *g = &w->segs[i];
		const uint8_t *p = g->ptr ? g->ptr : w->stage + g->off;
		w->bufs[i] = uv_buf_init((char *)(uintptr_t)p, (unsigned)g->len);
	}
	w->req.data = k;
	k->writing = true;
	k->cl->writes++;
	if (otf__tls_io_write(&k->io, &w->req, w->bufs, (unsigned)w->nseg, on_write)) {
		k->writing = false;
		otf__grpcc_batch_reset(w);
		conn_close(k);
	}
}

static void alloc_cb(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
	(void)sz;
	conn_t *k = h->data;
	*b = uv_buf_init(k->rbuf, sizeof k->rbuf);
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	conn_t *k = st->data;
	if (n < 0) {
		const char *tls = otf__tls_io_error(&k->io);
		if (tls[0]) { /* say why: expired or untrusted certificate, ... */
			char why[256];
			snprintf(why, sizeof why, "TLS: %s", tls);
			conn_fail(k, why);
			return;
		}
		conn_close(k);
		return;
	}
	if (n == 0)
		return;
	ssize_t rc = nghttp2_session_mem_recv(k->h2, (const uint8_t *)b->base, (size_t)n);
	if (rc < 0) {
		conn_close(k);
		return;
	}
	conn_flush(k);
}

static void handle_gone(otf_grpcc_t *cl)
{
	if (--cl->handles > 0 || !cl->closing)
		return;
	otf_grpcc_close_cb cb = cl->close_cb;
	void *arg = cl->close_arg;
	for (size_t i = 0; i < cl->n_meta; i++)
		otf_free(cl->meta[i]);
	otf_free(cl->meta);
	otf_free(cl->host);
	otf_free(cl->server_name);
	otf_free(cl->authority);
	otf_free(cl->encoding);
	otf_free(cl);
	if (cb)
		cb(arg);
}

static void tcp_closed(uv_handle_t *h)
{
	conn_t *k = h->data;
	otf_grpcc_t *cl = k->cl;
	if (k->prev)
		k->prev->next = k->next;
	else
		cl->conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	otf__grpcc_batch_free(&k->w);
	otf__tls_io_free(&k->io);
	otf_free(k);
	handle_gone(cl);
}

/* Closes the connection; its calls end UNAVAILABLE (pending ones, waiting
 * for this connection, too). */
static void conn_close(conn_t *k)
{
	if (k->closing)
		return;
	k->closing = true;
	otf_grpcc_t *cl = k->cl;
	if (cl->conn == k) {
		cl->conn = NULL;
		while (cl->pending)
			otf__grpcc_finish(cl->pending, OTF_GRPC_UNAVAILABLE, "connection failed");
	}
	while (k->calls)
		otf__grpcc_finish(k->calls, OTF_GRPC_UNAVAILABLE, "connection closed");
	if (k->h2)
		nghttp2_session_del(k->h2);
	k->h2 = NULL;
	if (k->state == C_RESOLVING) {
		/* The resolver's callback sees closing and frees. */
		return;
	}
	k->state = C_CLOSED;
	otf__tls_io_close(&k->io, tcp_closed);
}

/* The connection failed for a known reason: its calls and the ones
 * waiting for it end UNAVAILABLE with it. */
static void conn_fail(conn_t *k, const char *why)
{
	otf_grpcc_t *cl = k->cl;
	if (cl->conn == k) {
		cl->conn = NULL;
		while (cl->pending)
			otf__grpcc_finish(cl->pending, OTF_GRPC_UNAVAILABLE, why);
	}
	while (k->calls)
		otf__grpcc_finish(k->calls, OTF_GRPC_UNAVAILABLE, why);
	conn_close(k);
}

static void on_connect(uv_connect_t *req, int status)
{
	conn_t *k = req->data;
	otf_grpcc_t *cl = k->cl;
	if (k->closing)
		return;
	if (status < 0 || otf__grpcc_session_new(k)) {
		char why[160];
		snprintf(why, sizeof why, "connect to %s:%u: %s", cl->host, cl->port,
		         status < 0 ? uv_strerror(status) : "out of memory");
		if (cl->conn == k) {
			cl->conn = NULL;
			while (cl->pending)
				otf__grpcc_finish(cl->pending, OTF_GRPC_UNAVAILABLE, why);
		}
		conn_close(k);
		return;
	}
	k->state = C_READY;
	k->connected_ms = uv_now(cl->loop);
	uv_tcp_nodelay(&k->io.tcp, 1);
	/* The session first: reading then goes through it. */
	if (otf__tls_io_connect(&k->io, cl->tls, cl->server_name) ||
	    otf__tls_io_read_start(&k->io, alloc_cb, on_read) || k->io.failed) {
		char why[256];
		snprintf(why, sizeof why, "TLS: %s", k->io.err[0] ? k->io.err : "out of memory");
		conn_fail(k, why);
		return;
	}
	while (cl->conn == k && cl->pending) {
		otf_grpcc_call_t *c = cl->pending;
		list_del(&cl->pending, c);
		otf__grpcc_submit(k, c);
	}
	conn_flush(k);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *ai)
{
	conn_t *k = req->data;
	otf_grpcc_t *cl = k->cl;
	if (k->closing) {
		uv_freeaddrinfo(ai);
		k->state = C_CLOSED;
		otf__tls_io_close(&k->io, tcp_closed);
		return;
	}
	int rc = status;
	if (!rc)
		rc = uv_tcp_connect(&k->connect, &k->io.tcp, ai->ai_addr, on_connect);
	uv_freeaddrinfo(ai);
	if (rc) {
		char why[160];
		snprintf(why, sizeof why, "%s %s:%u: %s", status ? "resolve" : "connect to",
		         cl->host, cl->port, uv_strerror(rc));
		if (cl->conn == k) {
			cl->conn = NULL;
			while (cl->pending)
				otf__grpcc_finish(cl->pending, OTF_GRPC_UNAVAILABLE, why);
		}
		k->state = C_CONNECTING;
		conn_close(k);
		return;
	}
	k->state = C_CONNECTING;
}

static conn_t *conn_open(otf_grpcc_t *cl)
{
	conn_t *k = otf_calloc(1, sizeof *k);
	if (!k)
		return NULL;
	k->cl = cl;
	if (otf__tls_io_init(cl->loop, &k->io)) {
		otf_free(k);
		return NULL;
	}
	cl->handles++;
	k->next = cl->conns;
	if (cl->conns)
		cl->conns->prev = k;
	cl->conns = k;
	k->io.tcp.data = k;
	k->gai.data = k;
	k->connect.data = k;
	k->state = C_RESOLVING;
	char port[8];
	snprintf(port, sizeof port, "%u", cl->port);
	struct addrinfo hints;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int rc = uv_getaddrinfo(cl->loop, &k->gai, on_resolved, cl->host, port, &hints);
	if (rc) {
		k->closing = true;
		k->state = C_CLOSED;
		otf__tls_io_close(&k->io, tcp_closed);
		return NULL;
	}
	return k;
}

/* A call waiting on k (attached, or pending while k is the connection
 * being opened) is past its deadline. */
static bool calls_due(const conn_t *k, uint64_t now)
{
	for (const otf_grpcc_call_t *c = k->calls; c; c = c->next)
		if (c->deadline_ms && now >= c->deadline_ms)
			return true;
	for (const otf_grpcc_call_t *c = k->cl->conn == k ? k->cl->pending : NULL; c; c = c->next)
		if (c->deadline_ms && now >= c->deadline_ms)
			return true;
	return false;
}

static void on_timer(uv_timer_t *t)
{
	otf_grpcc_t *cl = t->data;
	uint64_t now = uv_now(cl->loop);
	/* A stalled handshake first, so that its calls end with that reason
	 * (UNAVAILABLE) rather than a bare deadline. */
	for (conn_t *k = cl->conns, *kn; k; k = kn) {
		kn = k->next;
		if (!k->h2 || k->closing || !k->io.ssl || k->io.hs_done)
			continue;
		uint64_t took = now - k->connected_ms;
		if (took >= cl->handshake_ms || calls_due(k, now)) {
			char why[200];
			snprintf(why, sizeof why,
			         "TLS: no handshake within %llu ms (not a TLS server?)",
			         (unsigned long long)took);
			conn_fail(k, why);
		}
	}
	/* Deadlines: waiting calls end here, streams are reset first. */
	otf_grpcc_call_t *c = cl->pending, *nx;
	for (; c; c = nx) {
		nx = c->next;
		if (c->deadline_ms && now >= c->deadline_ms)
			otf__grpcc_finish(c, OTF_GRPC_DEADLINE_EXCEEDED,
			                  "deadline exceeded while connecting");
	}
	for (conn_t *k = cl->conns, *kn; k; k = kn) {
		kn = k->next;
		if (!k->h2 || k->closing)
			continue;
		for (c = k->calls; c; c = nx) {
			nx = c->next;
			if (c->deadline_ms && now >= c->deadline_ms && !c->timed_out) {
				c->timed_out = true;
				nghttp2_submit_rst_stream(k->h2, NGHTTP2_FLAG_NONE, c->stream_id,
				                          NGHTTP2_CANCEL);
				otf__grpcc_finish(c, OTF_GRPC_DEADLINE_EXCEEDED,
				                  "deadline exceeded");
			}
		}
		conn_flush(k);
	}
	/* Callbacks last: they may start new calls. */
	while (cl->done && !cl->closing) {
		c = cl->done;
		list_del(&cl->done, c);
		c->cb(c->arg, &c->res);
		call_free(c);
	}
	bool busy = cl->pending != NULL;
	for (conn_t *k = cl->conns; k && !busy; k = k->next)
		busy = k->calls != NULL;
	if (!busy)
		uv_timer_stop(t);
	else
		uv_timer_start(t, on_timer, 100, 100);
}

int otf__grpcc_create(uv_loop_t *loop, const otf_grpcc_config_t *cfg, otf_grpcc_t **out)
{
	otf_grpcc_t *cl = otf_calloc(1, sizeof *cl);
	if (!cl)
		return OTF_E_NOMEM;
	cl->loop = loop;
	cl->port = cfg->port;
	cl->max_recv = cfg->max_recv_msg_bytes ? cfg->max_recv_msg_bytes : 4u << 20;
	cl->handshake_ms = cfg->handshake_timeout_ms ? cfg->handshake_timeout_ms : TLS_HANDSHAKE_MS;
	char auth[300];
	snprintf(auth, sizeof auth, strchr(cfg->host, ':') ? "[%s]:%u" : "%s:%u", cfg->host,
	         cfg->port);
	const char *a = cfg->authority ? cfg->authority : auth;
	cl->host = otf_strndup(cfg->host, strlen(cfg->host));
	cl->tls = cfg->tls;
	const char *sn = cfg->server_name && cfg->server_name[0] ? cfg->server_name : cfg->host;
	cl->server_name = otf_strndup(sn, strlen(sn));
	cl->authority = otf_strndup(a, strlen(a));
	if (cfg->encoding)
		cl->encoding = otf_strndup(cfg->encoding, strlen(cfg->encoding));
	size_t n = 0;
	while (cfg->meta && cfg->meta[n])
		n++;
	cl->meta = otf_calloc(n + 1, sizeof *cl->meta);
	bool oom = !cl->host || !cl->server_name || !cl->authority ||
	           (cfg->encoding && !cl->encoding) || !cl->meta;
	for (size_t i = 0; !oom && i < n; i++) {
		cl->meta[i] = otf_strndup(cfg->meta[i], strlen(cfg->meta[i]));
		oom = !cl->meta[i];
		if (!oom && i % 2 == 0) /* HTTP/2 header names are lower case */
			for (char *p = cl->meta[i]; *p; p++)
				*p = (char)tolower((unsigned char)*p);
		cl->n_meta = i + 1;
	}
	if (oom) {
		cl->closing = true;
		cl->handles = 1;
		handle_gone(cl);
		return OTF_E_NOMEM;
	}
	uv_timer_init(loop, &cl->timer);
	cl->timer.data = cl;
	cl->handles = 1;
	*out = cl;
	return 0;
}

static void call_free_meta(otf_grpcc_call_t *c)
{
	for (size_t i = 0; i < c->n_meta; i++)
		otf_free(c->meta[i]);
	otf_free(c->meta);
	c->meta = NULL;
	c->n_meta = 0;
}

/* Copies name/value pairs, lower-casing names as HTTP/2 requires. */
static int call_copy_meta(otf_grpcc_call_t *c, const char *const *meta)
{
	size_t n = 0;
	while (meta && meta[n])
		n++;
	if (!n)
		return 0;
	c->meta = otf_calloc(n, sizeof *c->meta);
	if (!c->meta)
		return OTF_E_NOMEM;
	for (size_t i = 0; i < n; i++) {
		c->meta[i] = otf_strndup(meta[i], strlen(meta[i]));
		if (!c->meta[i]) {
			call_free_meta(c);
			return OTF_E_NOMEM;
		}
		c->n_meta = i + 1;
		if (!(i & 1))
			for (char *p = c->meta[i]; *p; p++)
				*p = (char)tolower((unsigned char)*p);
	}
	return 0;
}

otf_grpcc_call_t *otf__grpcc_call(otf_grpcc_t *cl, const char *path, otf_buf_t *msg,
                                  bool compressed, uint64_t timeout_ms, otf_grpcc_cb cb, void *arg)
{
	return otf__grpcc_call_ex(cl, path, msg, compressed, timeout_ms, NULL, cb, arg);
}

otf_grpcc_call_t *otf__grpcc_call_ex(otf_grpcc_t *cl, const char *path, otf_buf_t *msg,
                                     bool compressed, uint64_t timeout_ms, const char *const *meta,
                                     otf_grpcc_cb cb, void *arg)
{
	otf_grpcc_call_t *c = otf_calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->path = otf_strndup(path, strlen(path));
	if (!c->path || call_copy_meta(c, meta)) {
		otf_free(c->path);
		otf_free(c);
		return NULL;
	}
	c->cl = cl;
	c->body = otf_buf_ref(msg);
	otf__grpcc_prefix(msg->len, compressed, c->prefix);
	c->cb = cb;
	c->arg = arg;
	c->timeout_ms = timeout_ms;
	c->deadline_ms = timeout_ms ? uv_now(cl->loop) + timeout_ms : 0;
	otf__grpc_reader_init(&c->reader, cl->max_recv, true);
	if (cl->conn && cl->conn->state == C_READY && !cl->conn->goaway) {
		otf__grpcc_submit(cl->conn, c);
		conn_flush(cl->conn);
	} else {
		otf__grpcc_list_add(&cl->pending, c);
		if (!cl->conn && !(cl->conn = conn_open(cl)))
			otf__grpcc_finish(c, OTF_GRPC_UNAVAILABLE, "cannot open a connection");
	}
	uv_timer_start(&cl->timer, on_timer, c->done ? 0 : 100, 100);
	return c;
}

uint64_t otf__grpcc_writes(const otf_grpcc_t *c)
{
	return c->writes;
}

void otf__grpcc_cancel(otf_grpcc_call_t *c)
{
	otf_grpcc_t *cl = c->cl;
	if (c->done) {
		list_del(&cl->done, c);
	} else if (c->conn) {
		conn_t *k = c->conn;
		list_del(&k->calls, c);
		if (c->stream_id > 0 && k->h2) {
			nghttp2_session_set_stream_user_data(k->h2, c->stream_id, NULL);
			nghttp2_submit_rst_stream(k->h2, NGHTTP2_FLAG_NONE, c->stream_id,
			                          NGHTTP2_CANCEL);
			conn_flush(k);
		}
	} else {
		list_del(&cl->pending, c);
	}
	call_free(c);
}

static void timer_closed(uv_handle_t *h)
{
	handle_gone(h->data);
}

void otf__grpcc_close(otf_grpcc_t *cl, otf_grpcc_close_cb cb, void *arg)
{
	cl->close_cb = cb;
	cl->close_arg = arg;
	/* Abandon calls first: conn_close would finish them. */
	while (cl->pending)
		otf__grpcc_cancel(cl->pending);
	while (cl->done)
		otf__grpcc_cancel(cl->done);
	cl->conn = NULL;
	for (conn_t *k = cl->conns; k; k = k->next) {
		while (k->calls)
			otf__grpcc_cancel(k->calls);
		conn_close(k);
	}
	while (cl->done)
		otf__grpcc_cancel(cl->done);
	cl->closing = true;
	uv_timer_stop(&cl->timer);
	uv_close((uv_handle_t *)&cl->timer, timer_closed);
}
