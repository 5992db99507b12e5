/* One accepted HTTP/1.1 connection: read, parse, dispatch, respond.
 *
 * At most one request per connection is with the handler at a time, and
 * the next pipelined request is only parsed once the previous answer has
 * been written. That keeps answers in order, bounds what a client can make
 * us queue, and means a handler is never re-entered from its own respond
 * (the next request starts from the write callback).
 *
 * While a request is with the handler we keep reading, up to the read
 * buffer's size, only to notice a disconnect: end of stream or a reset
 * makes the request "not alive" and its answer a no-op. A half-closed
 * client is therefore treated as gone, as OTLP clients never half-close.
 *
 * Time limits (one timer; Go net/http's, as the Collector's confighttp):
 * a request's line and headers must arrive within read_header_timeout of
 * its first byte (of the accept, for the first request: whose first byte
 * is due within the shorter of read_header_timeout and idle_timeout), so a
 * client trickling header bytes is cut however often it sends; the whole
 * request within read_timeout (0 = no limit); and no connection may stay
 * silent for longer than idle_timeout, between requests or inside one. A
 * request that times out is answered 408 and the connection closed; a
 * connection that never sent a byte is just closed.
 *
 * Memory per connection: the read buffer exists only while unparsed bytes
 * are held (an idle connection has none), the request head is at most
 * max_header_bytes and the body grows with the bytes that arrived, up to
 * max_body_bytes; a Content-Length body of OTF__NET_DIRECT_MIN or more is
 * taken whole from the loop's buffer pool at its first bytes, and the rest
 * is read straight into it (on_alloc, direct_input); after such a body the
 * read between requests is short (SHORT_READ), so that the next body's
 * bulk is not read into the read buffer first. */
#include "net/http_internal.h"
#include "net/tls_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Read buffer per connection: bytes not yet parsed. */
#define RBUF_CAP (64 * 1024)
/* The read between requests on a connection whose last body was large:
 * the next request's head and the first bytes of its body. Its body is
 * then taken whole and the rest read into it (direct_body), so of a
 * 340 kB body 16 KiB, not 64, go through the read buffer and a copy. */
#define SHORT_READ (16 * 1024)
/* After the last answer on a connection we send FIN and drain the client
 * for this long before closing, so that unread request bytes do not turn
 * our close into a reset that destroys the answer in flight. */
#define LINGER_MS 2000

typedef struct write_req {
	uv_write_t w;
	otf__http_conn_t *conn;
	bool final; /* an answer, not an interim "100 Continue" */
	size_t len;
	char data[];
} write_req_t;

static void process(otf__http_conn_t *c);

static void on_handle_closed(uv_handle_t *h)
{
	otf__http_conn_t *c = h->data;
	if (--c->handles_open > 0)
		return;
	otf_http_server_t *s = c->srv;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	otf__net_conns_remove(&c->link); /* may accept a paused connection */
	otf__http_parser_close(&c->parser);
	otf__http2_free(c->h2);
	otf__tls_io_free(&c->io);
	otf_free(c->rbuf);
	otf_free(c);
	otf__http_server_conn_gone(s);
}

static void conn_close(otf__http_conn_t *c)
{
	if (c->closing)
		return;
	c->closing = true;
	if (c->cur) {
		otf_http_request_t *req = c->cur;
		req->conn = NULL; /* the handler's answer becomes a no-op */
		c->cur = NULL;
		if (c->srv->cfg.request_gone)
			c->srv->cfg.request_gone(req, c->srv->ctx);
	}
	otf__tls_io_close(&c->io, on_handle_closed);
	uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

/* The body being read, when the next read may land straight in it: a
 * Content-Length body taken whole (http_parse.c), nothing unparsed in
 * the read buffer, plaintext HTTP/1.1, and the connection reading for
 * this request (not for a disconnect while the handler has one). */
static otf_buf_t *direct_body(const otf__http_conn_t *c)
{
	const otf__http_parser_t *p = &c->parser;
	if (c->io.ssl || c->h2 || !c->proto_known || c->lingering || c->closing || c->cur ||
	    c->writing || c->last_answer || c->rlen || !p->headers_done || p->complete || !p->msg)
		return NULL;
	otf_buf_t *b = p->msg->body;
	if (!b || !p->body_expect || b->cap < p->body_expect || b->len >= p->body_expect)
		return NULL;
	return b;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	otf__http_conn_t *c = h->data;
	(void)suggested;
	otf_buf_t *b = direct_body(c);
	if (b) { /* one copy, kernel to body, instead of two */
		size_t due = c->parser.body_expect - b->len;
		*buf = uv_buf_init((char *)b->data + b->len, (unsigned)due);
		return;
	}
	if (!c->rbuf && !(c->rbuf = otf_malloc(RBUF_CAP))) {
		*buf = uv_buf_init(NULL, 0); /* on_read gets UV_ENOBUFS: close */
		return;
	}
	if (c->lingering) { /* bytes are discarded: reuse the whole buffer */
		*buf = uv_buf_init(c->rbuf, RBUF_CAP);
		return;
	}
	size_t n = RBUF_CAP - c->rlen;
	if (c->big && !c->rlen && !c->io.ssl && !c->h2 && !otf__http_parser_mid_request(&c->parser))
		n = SHORT_READ;
	*buf = uv_buf_init(c->rbuf + c->rlen, (unsigned)n);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

/* An idle connection holds no read buffer. */
static void release_rbuf(otf__http_conn_t *c)
{
	if (!c->rlen && !c->lingering) {
		otf_free(c->rbuf);
		c->rbuf = NULL;
	}
}

static void update_reading(otf__http_conn_t *c)
{
	bool want =
	    !c->closing && (c->lingering || (!c->last_answer && !c->held && c->rlen < RBUF_CAP));
	if (want == c->reading)
		return;
	if (want && otf__tls_io_read_start(&c->io, on_alloc, on_read) < 0) {
		conn_close(c);
		return;
	}
	if (!want)
		otf__tls_io_read_stop(&c->io);
	c->reading = want;
}

static void send_error(otf__http_conn_t *c, int status, const char *msg, bool keep);

/* Waiting for the client (not with the handler, not writing). */
static bool waiting_for_client(const otf__http_conn_t *c)
{
	return !c->closing && !c->cur && !c->writing && !c->last_answer && !c->lingering;
}

static uint64_t header_timeout_ms(const otf__http_conn_t *c)
{
	uint32_t t = c->srv->cfg.read_header_timeout_ms;
	return t ? t : OTF_HTTP_DEFAULT_READ_HEADER_TIMEOUT_MS;
}

static void arm_timer(otf__http_conn_t *c, uint64_t ms);

static void on_timer(uv_timer_t *t)
{
	otf__http_conn_t *c = t->data;
	/* HTTP/2: idle_timeout of silence while no request is with the
	 * handler (a stream trickling its body counts as silence too). */
	if (c->h2 && !c->lingering && otf__http2_pending(c->h2)) {
		arm_timer(c, c->srv->cfg.idle_timeout_ms);
		return;
	}
	/* A request begun but not complete in time: say so, then close. */
	if (waiting_for_client(c) && otf__http_parser_mid_request(&c->parser)) {
		send_error(c, 408,
		           otf__http_parser_in_head(&c->parser)
		               ? "request headers not complete in time (read_header_timeout, "
		                 "idle_timeout)"
		               : "request body not complete in time (read_timeout, idle_timeout)",
		           false);
		return;
	}
	conn_close(c); /* silent, stalled writer, or linger over */
}

static void arm_timer(otf__http_conn_t *c, uint64_t ms)
{
	if (uv_timer_start(&c->timer, on_timer, ms, 0) < 0)
		conn_close(c);
}

/* The deadline while waiting for the client; see the time limits above. */
static void arm_wait(otf__http_conn_t *c)
{
	if (!waiting_for_client(c))
		return;
	const otf_http_server_config_t *cfg = &c->srv->cfg;
	uint64_t now = uv_now(c->srv->loop);
	if (!c->req_start_ms && (c->rlen || otf__http_parser_mid_request(&c->parser)))
		c->req_start_ms = now ? now : 1;
	if (!c->req_start_ms) {
		arm_timer(c, cfg->idle_timeout_ms);
		return;
	}
	/* Never silent for longer than idle_timeout, and the request as a
	 * whole bounded by its own deadline. */
	uint64_t end = now + cfg->idle_timeout_ms, head = header_timeout_ms(c), lim = 0;
	if (!otf__http_parser_mid_request(&c->parser) || otf__http_parser_in_head(&c->parser))
		lim = c->req_start_ms + head;
	else if (cfg->read_timeout_ms)
		lim = c->req_start_ms + cfg->read_timeout_ms;
	if (lim && lim < end)
		end = lim;
	arm_timer(c, end > now ? end - now : 0);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	if (status < 0)
		conn_close(req->data);
}

static void start_linger(otf__http_conn_t *c)
{
	c->lingering = true;
	c->rlen = 0;
	c->shutdown.data = c;
	if (otf__tls_io_shutdown(&c->io, &c->shutdown, on_shutdown) < 0) {
		conn_close(c);
		return;
	}
	arm_timer(c, c->srv->closing ? 0 : LINGER_MS);
	update_reading(c);
}

/* ---- HTTP/2 (the session is http2_session.c's) ---- */

/* Session output written per socket write, at most. */
#define H2_WRITE_MAX (256 * 1024)

static void h2_on_write(uv_write_t *w, int status)
{
	write_req_t *wr = (write_req_t *)w;
	otf__http_conn_t *c = wr->conn;
	otf_free(wr);
	c->h2_writing = false;
	if (status < 0) {
		conn_close(c);
		return;
	}
	if (!c->closing)
		otf__http_conn_h2_flush(c);
}

/* Collects the session's pending output into one write; one in flight. */
void otf__http_conn_h2_flush(otf__http_conn_t *c)
{
	if (c->h2_writing || c->closing || c->lingering)
		return;
	write_req_t *wr = NULL;
	size_t cap = 0;
	for (;;) {
		const uint8_t *data;
		ssize_t n = otf__http2_send(c->h2, &data);
		if (n < 0) {
			otf_free(wr);
			conn_close(c);
			return;
		}
		if (n == 0)
			break;
		size_t have = wr ? wr->len : 0;
		if (have + (size_t)n > cap) {
			size_t ncap = cap ? cap * 2 : 16384;
			while (ncap < have + (size_t)n)
				ncap *= 2;
			write_req_t *nw = otf_realloc(wr, sizeof *nw + ncap);
			if (!nw) {
				otf_free(wr);
				conn_close(c);
				return;
			}
			if (!wr)
				nw->len = 0;
			wr = nw;
			cap = ncap;
		}
		memcpy(wr->data + wr->len, data, (size_t)n);
		wr->len += (size_t)n;
		if (wr->len >= H2_WRITE_MAX)
			break; /* the rest once this write is done */
	}
	if (!wr) {
		/* Nothing left to say: GOAWAY done and no stream, or broken. */
		if (otf__http2_done(c->h2))
			start_linger(c);
		return;
	}
	wr->conn = c;
	wr->final = false;
	uv_buf_t b = uv_buf_init(wr->data, (unsigned)wr->len);
	if (otf__tls_io_write(&c->io, &wr->w, &b, 1, h2_on_write) < 0) {
		otf_free(wr);
		conn_close(c);
		return;
	}
	c->h2_writing = true;
}

/* Feeds bytes to the session, writes its answer, re-arms idle_timeout. */
static void h2_input(otf__http_conn_t *c, const char *p, size_t n)
{
	otf__http2_recv(c->h2, (const uint8_t *)p, n); /* failure: GOAWAY queued */
	if (c->closing)
		return;
	otf__http_conn_h2_flush(c);
	if (!c->closing && !c->lingering)
		arm_timer(c, c->srv->cfg.idle_timeout_ms);
}

/* The first bytes decide the protocol: HTTP/2 when TLS negotiated "h2" or
 * the client's preface opens the connection (h2c with prior knowledge,
 * which Go's server accepts on the same port), else HTTP/1.1. Returns
 * false while the bytes so far are a prefix of the preface. */
static bool choose_protocol(otf__http_conn_t *c)
{
	bool h2 = otf__tls_io_alpn_is(&c->io, "h2");
	if (!h2) {
		size_t n = c->rlen < OTF__HTTP2_PREFACE_LEN ? c->rlen : OTF__HTTP2_PREFACE_LEN;
		if (memcmp(c->rbuf, OTF__HTTP2_PREFACE, n) != 0) {
			c->proto_known = true;
			return true;
		}
		if (n < OTF__HTTP2_PREFACE_LEN)
			return false;
		h2 = true;
	}
	c->proto_known = true;
	if (!(c->h2 = otf__http2_new(c))) {
		conn_close(c);
		return true;
	}
	size_t n = c->rlen;
	c->rlen = 0;
	h2_input(c, c->rbuf, n);
	return true;
}

static void on_write(uv_write_t *w, int status)
{
	write_req_t *wr = (write_req_t *)w;
	otf__http_conn_t *c = wr->conn;
	bool final = wr->final;
	otf_free(wr);
	if (status < 0) {
		conn_close(c);
		return;
	}
	if (!final || c->closing)
		return;
	c->writing = false;
	if (c->last_answer) {
		start_linger(c);
		return;
	}
	c->req_start_ms = 0; /* the next request starts at its first byte */
	process(c);
	arm_wait(c);
	release_rbuf(c);
	update_reading(c);
	/* Requests TLS decrypted while reading was paused. */
	if (!c->closing)
		otf__tls_io_pull(&c->io);
}

static int queue_write(otf__http_conn_t *c, write_req_t *wr)
{
	wr->conn = c;
	uv_buf_t b = uv_buf_init(wr->data, (unsigned)wr->len);
	int rc = otf__tls_io_write(&c->io, &wr->w, &b, 1, on_write);
	if (rc < 0) {
		otf_free(wr);
		conn_close(c);
		return rc;
	}
	if (wr->final)
		c->writing = true;
	return 0;
}

static bool has_crlf(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

/* Formats and queues one answer; keep false makes it the last on c. */
static int send_answer(otf__http_conn_t *c, bool head_only, bool http10, int status,
                       const char *ctype, const void *body, size_t len,
                       const otf_http_header_t *extra, size_t n_extra, bool keep)
{
	const char *reason = http_status_str((enum http_status)status);
	size_t cap = 128 + strlen(reason) + (ctype ? strlen(ctype) : 0);
	for (size_t i = 0; i < n_extra; i++)
		cap += strlen(extra[i].name) + strlen(extra[i].value) + 4;
	size_t send_len = head_only ? 0 : len;
	write_req_t *wr = otf_malloc(sizeof *wr + cap + send_len);
	if (!wr) {
		conn_close(c);
		return OTF_E_NOMEM;
	}
	wr->final = true;
	char *p = wr->data;
	p += sprintf(p, "HTTP/1.1 %d %s\r\n", status, reason);
	if (ctype)
		p += sprintf(p, "Content-Type: %s\r\n", ctype);
	p += sprintf(p, "Content-Length: %zu\r\n", len);
	if (!keep)
		p += sprintf(p, "Connection: close\r\n");
	else if (http10)
		p += sprintf(p, "Connection: keep-alive\r\n");
	for (size_t i = 0; i < n_extra; i++)
		p += sprintf(p, "%s: %s\r\n", extra[i].name, extra[i].value);
	p += sprintf(p, "\r\n");
	if (send_len)
		memcpy(p, body, send_len);
	wr->len = (size_t)(p - wr->data) + send_len;
	if (!keep)
		c->last_answer = true;
	/* A stalled reader must not hold the connection forever. */
	arm_timer(c, c->srv->cfg.idle_timeout_ms);
	return queue_write(c, wr);
}

static void send_error(otf__http_conn_t *c, int status, const char *msg, bool keep)
{
	if (!msg)
		msg = http_status_str((enum http_status)status);
	char text[256];
	int n = snprintf(text, sizeof text, "%s\n", msg);
	if (n < 0 || (size_t)n >= sizeof text)
		n = (int)sizeof text - 1;
	send_answer(c, false, false, status, "text/plain; charset=utf-8", text, (size_t)n, NULL, 0,
	            keep && !c->last_answer && !c->srv->closing);
}

static void send_continue(otf__http_conn_t *c)
{
	static const char line[] = "HTTP/1.1 100 Continue\r\n\r\n";
	write_req_t *wr = otf_malloc(sizeof *wr + sizeof line);
	if (!wr) {
		conn_close(c);
		return;
	}
	wr->final = false;
	wr->len = sizeof line - 1;
	memcpy(wr->data, line, wr->len);
	queue_write(c, wr);
}

static void dispatch(otf__http_conn_t *c, otf__http_msg_t *m)
{
	const otf__http_hdr_t *ce = otf__http_msg_header(m, "content-encoding", 16);
	otf_buf_t *body = NULL;
	const char *detail = NULL;
	int rc = otf__http_decode(ce ? m->head + ce->value_off : NULL, ce ? ce->value_len : 0,
	                          m->body, c->srv->cfg.max_body_bytes, &body, &detail);
	if (rc < 0) {
		/* The body was read in full, so the connection stays usable. */
		send_error(c, otf__http_decode_status(rc), detail,
		           m->keep_alive && rc != OTF_E_NOMEM);
		otf__http_msg_destroy(m);
		return;
	}
	c->big = m->body && m->body->len >= OTF__NET_DIRECT_MIN;
	/* The handler may hold the request for long (until the pipeline
	 * acks): keep only the decoded bytes. */
	otf_buf_unref(m->body);
	m->body = NULL;
	otf_http_request_t *r = otf_calloc(1, sizeof *r);
	if (!r) {
		otf_buf_unref(body);
		otf__http_msg_destroy(m);
		send_error(c, 500, "out of memory", false);
		return;
	}
	r->conn = c;
	r->msg = m;
	r->body = body;
	r->peer = c->peer;
	if (c->io.peer_subject)
		r->tls_subject = otf_strndup(c->io.peer_subject, strlen(c->io.peer_subject));
	otf__http_split_target(r);
	c->cur = r;
	c->continue_sent = false;
	c->req_start_ms = 0;
	uv_timer_stop(&c->timer); /* the handler's time is not client idleness */
	c->srv->handler(r, c->srv->ctx);
}

static void process(otf__http_conn_t *c)
{
	while (!c->closing && !c->cur && !c->writing && !c->last_answer && c->rlen) {
		otf__http_ev_t ev;
		size_t n = otf__http_parser_feed(&c->parser, c->rbuf, c->rlen, &ev);
		memmove(c->rbuf, c->rbuf + n, c->rlen - n);
		c->rlen -= n;
		if (ev == OTF__HTTP_EV_ERROR) {
			send_error(c, c->parser.err_status, c->parser.err_msg, false);
			break;
		}
		if (ev == OTF__HTTP_EV_NONE) {
			if (c->parser.expect_continue && !c->continue_sent) {
				c->continue_sent = true;
				send_continue(c);
			}
			break;
		}
		dispatch(c, otf__http_parser_take(&c->parser));
	}
}

/* Body bytes read in place: the parser sees them where they are (and
 * copies nothing); a complete request goes to the handler as process()
 * would send it. */
static void direct_input(otf__http_conn_t *c, const char *p, size_t n)
{
	otf__http_ev_t ev;
	c->srv->direct_reads++;
	otf__http_parser_feed(&c->parser, p, n, &ev);
	if (ev == OTF__HTTP_EV_ERROR)
		send_error(c, c->parser.err_status, c->parser.err_msg, false);
	else if (ev == OTF__HTTP_EV_MESSAGE)
		dispatch(c, otf__http_parser_take(&c->parser));
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	otf__http_conn_t *c = st->data;
	if (nread < 0) { /* end of stream or error: the client is gone */
		conn_close(c);
		return;
	}
	if (nread == 0 || c->lingering)
		return;
	otf__net_conns_touch(&c->link);
	if (c->h2) {
		h2_input(c, buf->base, (size_t)nread);
		release_rbuf(c);
		return;
	}
	if (!c->rbuf || buf->base != c->rbuf + c->rlen) { /* read into the body (on_alloc) */
		direct_input(c, buf->base, (size_t)nread);
		arm_wait(c);
		release_rbuf(c);
		update_reading(c);
		return;
	}
	c->rlen += (size_t)nread;
	if (!c->proto_known) {
		if (!choose_protocol(c)) {
			arm_wait(c); /* the first-byte limit covers the preface */
			return;
		}
		if (c->h2 || c->closing) {
			if (!c->closing)
				release_rbuf(c);
			return;
		}
	}
	if (!c->req_start_ms && waiting_for_client(c))
		c->req_start_ms = uv_now(c->srv->loop) ? uv_now(c->srv->loop) : 1;
	process(c);
	arm_wait(c);
	release_rbuf(c);
	update_reading(c);
}

/* Eviction at the loop's connection cap: nothing with the handler and
 * no answer being written (between requests, or one still arriving). */
static bool link_idle(otf__net_link_t *l)
{
	const otf__http_conn_t *c = (void *)((char *)l - offsetof(otf__http_conn_t, link));
	if (c->h2)
		return !otf__http2_pending(c->h2) && !c->h2_writing && !c->closing;
	return !c->cur && !c->writing && !c->closing;
}

static void link_evict(otf__net_link_t *l)
{
	conn_close((void *)((char *)l - offsetof(otf__http_conn_t, link)));
}

void otf__http_conn_accept(otf_http_server_t *s)
{
	otf__http_conn_t *c = otf_calloc(1, sizeof *c);
	if (!c || otf__tls_io_init(s->loop, &c->io) < 0) {
		/* Take the connection off the backlog anyway so that the
		 * listener does not spin on it: accept and close at once. */
		otf_free(c);
		int fd = -1;
		uv_os_fd_t lfd;
		if (uv_fileno((uv_handle_t *)&s->listener, &lfd) == 0)
			fd = accept(lfd, NULL, NULL);
		if (fd >= 0)
			close(fd);
		return;
	}
	c->srv = s;
	c->io.tcp.data = c;
	c->timer.data = c;
	uv_timer_init(s->loop, &c->timer); /* cannot fail */
	c->handles_open = 2;
	otf__http_parser_init(&c->parser, s->cfg.max_header_bytes, s->cfg.max_body_bytes);
	c->parser.reserve_max = OTF__NET_RESERVE_MAX;
	c->parser.pool = otf__net_conns_pool(s->reg);
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->n_conns++;
	otf__net_conns_add(s->reg, &c->link, link_idle, link_evict);

	if (uv_accept((uv_stream_t *)&s->listener, (uv_stream_t *)&c->io.tcp) < 0 ||
	    s->n_conns > s->cfg.max_connections || otf__tls_io_accept(&c->io, s->cfg.tls) < 0) {
		conn_close(c);
		return;
	}
	int len = sizeof c->peer;
	uv_tcp_getpeername(&c->io.tcp, (struct sockaddr *)&c->peer, &len);
	uv_tcp_nodelay(&c->io.tcp, 1);
	c->req_start_ms = uv_now(s->loop) ? uv_now(s->loop) : 1; /* first byte due */
	arm_wait(c);
	update_reading(c);
}

otf__http_conn_t *otf__http_conn_next(const otf__http_conn_t *c)
{
	return c->next;
}

void otf__http_conn_drain(otf__http_conn_t *c)
{
	if (c->closing)
		return;
	if (c->h2 && !c->lingering) {
		/* GOAWAY; the streams begun get their answers, then close. */
		otf__http2_goaway(c->h2);
		otf__http_conn_h2_flush(c);
		return;
	}
	if (c->lingering || (!c->cur && !c->writing)) {
		conn_close(c);
		return;
	}
	c->last_answer = true; /* answer the request in hand, then close */
	update_reading(c);
}

int otf_http_respond(otf_http_request_t *req, int status, const char *content_type,
                     const void *body, size_t len, const otf_http_header_t *extra, size_t n_extra)
{
	if (!req)
		return OTF_E_INVAL;
	otf__http_conn_t *c = req->conn;
	if (!c) {
		otf__http_request_free(req);
		return -ECONNRESET;
	}
	if (req->h2s)
		return otf__http2_respond(req, status, content_type, body, len, extra, n_extra);
	c->cur = NULL;
	int rc = 0;
	bool ok = status >= 200 && status <= 599 && (!content_type || !has_crlf(content_type)) &&
	          (body || len == 0) && (extra || n_extra == 0);
	for (size_t i = 0; ok && i < n_extra; i++)
		ok = extra[i].name && extra[i].value && !has_crlf(extra[i].name) &&
		     !has_crlf(extra[i].value);
	if (!ok) {
		send_error(c, 500, "invalid response from the request handler",
		           req->msg->keep_alive);
		rc = OTF_E_INVAL;
	} else {
		bool keep = req->msg->keep_alive && !c->last_answer && !c->srv->closing;
		rc = send_answer(c, req->msg->method == HTTP_HEAD, req->msg->http_minor == 0,
		                 status, content_type, body, len, extra, n_extra, keep);
		if (rc < 0 && rc != OTF_E_NOMEM)
			rc = -ECONNRESET; /* the write failed: the client is gone */
	}
	otf__http_request_free(req);
	/* Reading may have paused on a full buffer while the handler ran. */
	update_reading(c);
	return rc;
}

void otf_http_request_hold_connection(otf_http_request_t *req)
{
	otf__http_conn_t *c = req->conn;
	if (!c || c->closing)
		return;
	c->held = true;
	update_reading(c);
}

void otf__http_conn_resume(otf__http_conn_t *c)
{
	if (!c->held)
		return;
	c->held = false;
	update_reading(c);
	process(c); /* bytes read before the hold */
}

bool otf__http_conn_held(const otf__http_conn_t *c)
{
	return c->held;
}
