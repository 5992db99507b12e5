/* One accepted HTTP/2 connection: bytes from the socket go into the
 * nghttp2 server session (grpc_session.c), whose callbacks turn streams
 * into gRPC calls; answers are submitted to the session and its output
 * written to the socket here.
 *
 * nghttp2 must not be asked for output (mem_send) from inside its own
 * callbacks, and a handler may answer from inside dispatch: so flushing
 * is deferred while mem_recv runs (in_recv) and done once it returns.
 *
 * One timer per connection serves every time limit: call deadlines
 * (grpc-timeout), max_connection_idle / age / age_grace, keepalive PING
 * and its timeout, the frame timeout (handshake, a frame, a header block
 * arriving too slowly), and the linger after the last write. tick() computes
 * what is due and re-arms the timer for the earliest next event.
 *
 * Closing: a connection that ends (GOAWAY sent and no call left, or a
 * protocol error) shuts the socket down for writing and keeps reading
 * (discarding) for a short linger, so unread client bytes do not turn the
 * close into a reset that destroys our last frames in flight.
 *
 * Wakeups: a message whose prefix announced many bytes is woken for once
 * they arrived (net_internal.h, wake batching), about 1 epoll_wait + read
 * instead of 6 for 340 kB; the mark is capped by what flow control lets
 * the client send, so it is always reachable.
 *
 * Large messages are read in place, not through the read buffer
 * (grpc_direct.c): on_alloc points the read at the message, and a read
 * that filled its buffer is followed by scatter reads of the rest. When
 * the last of those came back short the socket is empty, and the read
 * libuv would make next (one per request, always EAGAIN) is skipped.
 *
 * Writes go out with uv_try_write first: an answer that fits in the
 * socket buffer (all of them, in practice) then costs one write(2) and no
 * write request, epoll_ctl or extra loop turn for its callback. */
#include "net/grpc_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LINGER_MS 1000

typedef struct write_req {
	uv_write_t w;
	otf__grpc_conn_t *conn;
	size_t len;
	uint8_t data[];
} write_req_t;

/* ---- socket ---- */

static void on_handle_closed(uv_handle_t *h)
{
	otf__grpc_conn_t *c = h->data;
	if (--c->handles_open > 0)
		return;
	otf_grpc_server_t *s = c->srv;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	otf__net_conns_remove(&c->link); /* may accept a paused connection */
	if (c->h2)
		nghttp2_session_del(c->h2);
	otf__tls_io_free(&c->io);
	if (!s->conns) { /* the last one: the shared read buffer goes too */
		otf_free(s->rbuf);
		s->rbuf = NULL;
	}
	otf_free(c);
	otf__grpc_server_conn_gone(s);
}

static void conn_close(otf__grpc_conn_t *c)
{
	if (c->closing)
		return;
	c->closing = true;
	while (c->calls) {
		otf_grpc_call_t *call = c->calls;
		if (c->h2)
			nghttp2_session_set_stream_user_data(c->h2, call->stream_id, NULL);
		otf__grpc_call_detach(c, call);
	}
	otf__tls_io_close(&c->io, on_handle_closed);
	uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

size_t otf__grpc_read_buffer_bytes(const otf_grpc_server_t *s)
{
	return s->cfg.read_buffer_bytes ? s->cfg.read_buffer_bytes
	                                : OTF_GRPC_DEFAULT_READ_BUFFER_BYTES;
}

size_t otf__grpc_conn_buffer_limit(const otf_grpc_server_t *s)
{
	if (s->cfg.max_conn_buffer_bytes)
		return s->cfg.max_conn_buffer_bytes;
	size_t two = s->cfg.max_recv_msg_bytes * 2;
	return two > OTF_GRPC_DEFAULT_MAX_CONN_BUFFER_BYTES
	           ? two
	           : OTF_GRPC_DEFAULT_MAX_CONN_BUFFER_BYTES;
}

/* One read buffer per server: libuv calls on_read right after on_alloc on
 * the same loop, and nghttp2 copies what it keeps before on_read returns,
 * so no two connections ever use it at once. */
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	otf__grpc_conn_t *c = h->data;
	otf_grpc_server_t *s = c->srv;
	size_t n = otf__grpc_read_buffer_bytes(s);
	(void)suggested;
	if (c->drained) { /* libuv's read after a draining scatter read: EAGAIN */
		c->drained = false;
		c->skipped_read = true;
		*buf = uv_buf_init(NULL, 0);
		return;
	}
	if (otf__grpc_direct_alloc(c, buf))
		return;
	if (!s->rbuf && !(s->rbuf = otf_malloc(n))) {
		*buf = uv_buf_init(NULL, 0); /* on_read gets UV_ENOBUFS: close */
		return;
	}
	if (c->big && !c->io.ssl && n > OTF__GRPC_SHORT_READ)
		n = OTF__GRPC_SHORT_READ;
	*buf = uv_buf_init(s->rbuf, (unsigned)n);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	if (status < 0)
		conn_close(req->data);
}

static void on_linger_over(uv_timer_t *t)
{
	conn_close(t->data);
}

static void start_linger(otf__grpc_conn_t *c)
{
	if (c->lingering || c->closing)
		return;
	c->lingering = true;
	c->shutdown.data = c;
	if (otf__tls_io_shutdown(&c->io, &c->shutdown, on_shutdown) < 0) {
		conn_close(c);
		return;
	}
	uv_timer_start(&c->timer, on_linger_over, c->srv->closing ? 0 : LINGER_MS, 0);
}

/* Ends the connection once nothing more is to be said. */
static void maybe_finish(otf__grpc_conn_t *c)
{
	if (c->closing || c->lingering || c->writing)
		return;
	bool want_w = c->h2 && nghttp2_session_want_write(c->h2);
	bool done = !c->h2 || (!nghttp2_session_want_read(c->h2) && !want_w) ||
	            (c->fatal && !want_w) || (c->goaway && c->n_calls == 0 && !want_w);
	if (done)
		start_linger(c);
}

static void on_write(uv_write_t *w, int status)
{
	write_req_t *wr = (write_req_t *)w;
	otf__grpc_conn_t *c = wr->conn;
	otf_free(wr);
	c->writing = false;
	if (status < 0) {
		conn_close(c);
		return;
	}
	if (c->closing)
		return;
	otf__grpc_conn_flush(c);
	maybe_finish(c);
}

/* Collects nghttp2's pending output into one write; one write in flight. */
void otf__grpc_conn_flush(otf__grpc_conn_t *c)
{
	if (c->in_recv || c->writing || c->closing || c->lingering || !c->h2)
		return;
	write_req_t *wr = NULL;
	size_t cap = 0;
	for (;;) {
		const uint8_t *data;
		ssize_t n = nghttp2_session_mem_send(c->h2, &data);
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
			write_req_t *nw = otf_realloc(wr, sizeof *wr + ncap);
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
		if (wr->len >= (c->srv->cfg.write_buffer_bytes
		                    ? c->srv->cfg.write_buffer_bytes
		                    : OTF_GRPC_DEFAULT_WRITE_BUFFER_BYTES))
			break; /* the rest after this write completes */
	}
	if (!wr)
		return;
	size_t off = 0;
	if (!c->io.ssl) {
		uv_buf_t all = uv_buf_init((char *)wr->data, (unsigned)wr->len);
		int n = uv_try_write((uv_stream_t *)&c->io.tcp, &all, 1);
		if (n == UV_EAGAIN)
			n = 0;
		if (n < 0) {
			otf_free(wr);
			conn_close(c);
			return;
		}
		off = (size_t)n;
		if (off == wr->len) {
			/* All written: what on_write would do next, now. */
			otf_free(wr);
			otf__grpc_conn_flush(c);
			maybe_finish(c);
			return;
		}
	}
	wr->conn = c;
	uv_buf_t b = uv_buf_init((char *)wr->data + off, (unsigned)(wr->len - off));
	if (otf__tls_io_write(&c->io, &wr->w, &b, 1, on_write) < 0) {
		otf_free(wr);
		conn_close(c);
		return;
	}
	c->writing = true;
}

/* Follows the client's frame boundaries (9-byte header: 24-bit length,
 * type, flags, stream id; then the payload) to know since when the current
 * frame has been arriving. */
static void track_frames(otf__grpc_conn_t *c, const uint8_t *p, size_t n)
{
	while (n) {
		size_t take;
		if (c->preface_left) {
			take = n < c->preface_left ? n : c->preface_left;
			c->preface_left = (uint8_t)(c->preface_left - take);
		} else if (c->fhdr_len < 9) {
			if (c->fhdr_len == 0)
				c->frame_start_ms = c->last_read_ms;
			take = 9 - (size_t)c->fhdr_len < n ? 9 - (size_t)c->fhdr_len : n;
			memcpy(c->fhdr + c->fhdr_len, p, take);
			c->fhdr_len = (uint8_t)(c->fhdr_len + take);
			if (c->fhdr_len == 9) {
				c->frame_left = (uint32_t)c->fhdr[0] << 16 |
				                (uint32_t)c->fhdr[1] << 8 | c->fhdr[2];
				if (!c->frame_left)
					c->fhdr_len = 0;
			}
		} else {
			take = n < c->frame_left ? n : c->frame_left;
			c->frame_left -= (uint32_t)take;
			if (!c->frame_left)
				c->fhdr_len = 0;
		}
		p += take;
		n -= take;
	}
}

static void set_wake_bytes(otf__grpc_conn_t *c, size_t n)
{
	otf__net_set_wake_bytes(&c->io.tcp, &c->wake_bytes, n);
}

/* After the client's bytes were processed: the mark for the next wakeup. */
static void update_wake(otf__grpc_conn_t *c)
{
	size_t want = 1, left = 0;
	int32_t sid = 0;
	if (!c->io.ssl && !c->held && c->h2) {
		for (otf_grpc_call_t *call = c->calls; call; call = call->next) {
			size_t l = call->answered ? 0 : otf__grpc_reader_left(&call->reader);
			if (l > left) {
				left = l;
				sid = call->stream_id;
			}
		}
	}
	if (left >= OTF__NET_WAKE_MIN) {
		/* What the client may still send before it needs a
		 * WINDOW_UPDATE from us, on the stream and on the connection. */
		int32_t sw = nghttp2_session_get_stream_effective_local_window_size(c->h2, sid) -
		             nghttp2_session_get_stream_effective_recv_data_length(c->h2, sid);
		int32_t cw = nghttp2_session_get_effective_local_window_size(c->h2) -
		             nghttp2_session_get_effective_recv_data_length(c->h2);
		int32_t allow = sw < cw ? sw : cw;
		want = otf__net_wake_bytes(left, allow > 0 ? (size_t)allow : 0);
	}
	set_wake_bytes(c, want);
	if (want > 1)
		c->wake_since_ms = otf__grpc_now_ms(c);
}

void otf__grpc_conn_input(otf__grpc_conn_t *c, const uint8_t *p, size_t n)
{
	if (c->closing || !n)
		return;
	track_frames(c, p, n);
	c->in_recv = true;
	c->in = p;
	c->in_end = p + n;
	ssize_t rv = nghttp2_session_mem_recv(c->h2, p, n);
	c->in = c->in_end = NULL;
	c->in_recv = false;
	if (rv < 0) {
		/* Not HTTP/2 at all (bad preface) or a flood: say so once if
		 * the peer can parse it, then leave. */
		nghttp2_session_terminate_session(c->h2, rv == NGHTTP2_ERR_FLOODED
		                                             ? NGHTTP2_ENHANCE_YOUR_CALM
		                                             : NGHTTP2_PROTOCOL_ERROR);
		c->fatal = true;
	}
}

void otf__grpc_conn_fail(otf__grpc_conn_t *c)
{
	conn_close(c);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	otf__grpc_conn_t *c = st->data;
	if (nread == UV_ENOBUFS && c->skipped_read) {
		c->skipped_read = false; /* on_alloc skipped a read: epoll says when */
		return;
	}
	c->drained = false;
	if (nread < 0) {
		conn_close(c);
		return;
	}
	if (nread == 0 || c->lingering || c->closing)
		return;
	c->last_read_ms = otf__grpc_now_ms(c);
	otf__net_conns_touch(&c->link);
	c->ping_sent_ms = 0; /* any frame proves the peer alive */
	otf__grpc_conn_input(c, (const uint8_t *)buf->base, (size_t)nread);
	/* A read that filled what it was given (straight into a message, or
	 * a short one): the rest of a large message is probably waiting. */
	if ((size_t)nread == buf->len)
		otf__grpc_direct_drain(c);
	if (c->closing)
		return;
	update_wake(c);
	otf__grpc_conn_flush(c);
	if (c->closing)
		return;
	otf__grpc_conn_tick(c);
	maybe_finish(c);
}

static void graceful_goaway(otf__grpc_conn_t *c)
{
	if (c->goaway || c->fatal)
		return;
	c->goaway = true;
	nghttp2_submit_goaway(c->h2, NGHTTP2_FLAG_NONE,
	                      nghttp2_session_get_last_proc_stream_id(c->h2), NGHTTP2_NO_ERROR,
	                      NULL, 0);
}

static void on_timer(uv_timer_t *t)
{
	otf__grpc_conn_t *c = t->data;
	otf__grpc_conn_tick(c);
	otf__grpc_conn_flush(c);
	maybe_finish(c);
}

static void upd(uint64_t *next, uint64_t at)
{
	if (at && (!*next || at < *next))
		*next = at;
}

void otf__grpc_conn_tick(otf__grpc_conn_t *c)
{
	if (c->closing || c->lingering)
		return;
	const otf_grpc_server_config_t *cfg = &c->srv->cfg;
	uint64_t now = otf__grpc_now_ms(c), next = 0;
	/* Slow clients: the handshake, a frame, or a header block taking
	 * longer than frame_timeout is a client holding the connection with
	 * a trickle (HTTP/2's slowloris), or not an HTTP/2 client at all. */
	uint64_t ft =
	    cfg->frame_timeout_ms ? cfg->frame_timeout_ms : OTF_GRPC_DEFAULT_FRAME_TIMEOUT_MS;
	uint64_t since = 0;
	if (!c->handshake_done)
		since = c->created_ms;
	else if (c->fhdr_len)
		since = c->frame_start_ms;
	for (otf_grpc_call_t *call = c->calls; call; call = call->next)
		if (!call->headers_done && !call->answered && (!since || call->begun_ms < since))
			since = call->begun_ms;
	if (since) {
		if (now - since >= ft) {
			conn_close(c);
			return;
		}
		upd(&next, since + ft);
	}
	for (otf_grpc_call_t *call = c->calls; call; call = call->next) {
		if (call->answered || !call->deadline_mono_ms)
			continue;
		if (now >= call->deadline_mono_ms) {
			bool ended = call->with_handler;
			otf__grpc_early_status(c, call, ended, 200, OTF_GRPC_DEADLINE_EXCEEDED,
			                       "deadline exceeded (grpc-timeout)");
			otf__grpc_call_gone(c, call, OTF_GRPC_DEADLINE_EXCEEDED);
		} else {
			upd(&next, call->deadline_mono_ms);
		}
	}
	if (cfg->max_connection_idle_ms && c->n_calls == 0 && !c->goaway) {
		if (now - c->idle_since_ms >= cfg->max_connection_idle_ms)
			graceful_goaway(c);
		else
			upd(&next, c->idle_since_ms + cfg->max_connection_idle_ms);
	}
	if (cfg->max_connection_age_ms && !c->goaway) {
		if (now - c->created_ms >= cfg->max_connection_age_ms) {
			graceful_goaway(c);
			if (cfg->max_connection_age_grace_ms)
				c->grace_end_ms = now + cfg->max_connection_age_grace_ms;
		} else {
			upd(&next, c->created_ms + cfg->max_connection_age_ms);
		}
	}
	if (c->grace_end_ms) {
		if (now >= c->grace_end_ms) {
			c->fatal = true; /* grace over: calls still open are cut */
			nghttp2_session_terminate_session(c->h2, NGHTTP2_NO_ERROR);
		} else {
			upd(&next, c->grace_end_ms);
		}
	}
	if (c->wake_bytes > 1) {
		if (now - c->wake_since_ms >= OTF__NET_WAKE_HOLD_MS)
			set_wake_bytes(c, 1); /* the kernel wakes us if bytes wait */
		else
			upd(&next, c->wake_since_ms + OTF__NET_WAKE_HOLD_MS);
	}
	if (c->ping_sent_ms) {
		if (now - c->ping_sent_ms >= cfg->keepalive_timeout_ms) {
			conn_close(c); /* the peer is gone without a word */
			return;
		}
		upd(&next, c->ping_sent_ms + cfg->keepalive_timeout_ms);
	} else if (now - c->last_read_ms >= cfg->keepalive_time_ms) {
		if (nghttp2_submit_ping(c->h2, NGHTTP2_FLAG_NONE, NULL) == 0) {
			c->ping_sent_ms = now;
			upd(&next, now + cfg->keepalive_timeout_ms);
		}
	} else {
		upd(&next, c->last_read_ms + cfg->keepalive_time_ms);
	}
	if (next)
		uv_timer_start(&c->timer, on_timer, next > now ? next - now : 0, 0);
	else
		uv_timer_stop(&c->timer);
}

/* Eviction at the loop's connection cap: no stream open, nothing being
 * written. */
static bool link_idle(otf__net_link_t *l)
{
	const otf__grpc_conn_t *c = (void *)((char *)l - offsetof(otf__grpc_conn_t, link));
	return !c->n_calls && !c->writing && !c->closing;
}

static void link_evict(otf__net_link_t *l)
{
	conn_close((void *)((char *)l - offsetof(otf__grpc_conn_t, link)));
}

void otf__grpc_conn_accept(otf_grpc_server_t *s)
{
	otf__grpc_conn_t *c = otf_calloc(1, sizeof *c);
	if (!c || otf__tls_io_init(s->loop, &c->io) < 0) {
		/* Take the connection off the backlog so that the listener
		 * does not spin on it. */
		otf_free(c);
		uv_os_fd_t lfd;
		if (uv_fileno((uv_handle_t *)&s->listener, &lfd) == 0) {
			int fd = accept(lfd, NULL, NULL);
			if (fd >= 0)
				close(fd);
		}
		return;
	}
	c->srv = s;
	c->io.tcp.data = c;
	c->timer.data = c;
	uv_timer_init(s->loop, &c->timer);
	c->handles_open = 2;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->n_conns++;
	otf__net_conns_add(s->reg, &c->link, link_idle, link_evict);
	c->created_ms = c->last_read_ms = c->idle_since_ms = otf__grpc_now_ms(c);
	c->preface_left = 24;
	c->wake_bytes = 1; /* the socket's default SO_RCVLOWAT */
	if (uv_accept((uv_stream_t *)&s->listener, (uv_stream_t *)&c->io.tcp) < 0 ||
	    s->n_conns > s->cfg.max_connections || otf__grpc_session_new(c) < 0 ||
	    otf__tls_io_accept(&c->io, s->cfg.tls) < 0) {
		conn_close(c);
		return;
	}
	int len = sizeof c->peer;
	uv_tcp_getpeername(&c->io.tcp, (struct sockaddr *)&c->peer, &len);
	uv_tcp_nodelay(&c->io.tcp, 1);
	if (otf__tls_io_read_start(&c->io, on_alloc, on_read) < 0) {
		conn_close(c);
		return;
	}
	otf__grpc_conn_flush(c); /* our SETTINGS */
	otf__grpc_conn_tick(c);
}

otf__grpc_conn_t *otf__grpc_conn_next(const otf__grpc_conn_t *c)
{
	return c->next;
}

void otf__grpc_conn_drain(otf__grpc_conn_t *c)
{
	if (c->closing || c->lingering)
		return;
	graceful_goaway(c);
	/* Requests still arriving are cancelled; calls with the handler
	 * keep the connection until they are answered. */
	for (otf_grpc_call_t *call = c->calls; call; call = call->next)
		if (!call->with_handler && !call->answered)
			nghttp2_submit_rst_stream(c->h2, NGHTTP2_FLAG_NONE, call->stream_id,
			                          NGHTTP2_REFUSED_STREAM);
	otf__grpc_conn_flush(c);
	maybe_finish(c);
}

void otf__grpc_conn_hold(otf__grpc_conn_t *c)
{
	if (c->held || c->closing || c->lingering)
		return;
	c->held = true;
	set_wake_bytes(c, 1);
	otf__tls_io_read_stop(&c->io);
}

void otf__grpc_conn_resume(otf__grpc_conn_t *c)
{
	if (!c->held)
		return;
	c->held = false;
	if (c->closing || c->lingering)
		return;
	if (otf__tls_io_read_start(&c->io, on_alloc, on_read) < 0)
		conn_close(c);
}
