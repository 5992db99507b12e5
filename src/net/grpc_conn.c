/* One accepted HTTP/2 connection: bytes from the socket go into an nghttp2
 * server session, whose callbacks turn streams into gRPC calls; answers
 * are submitted to the session and its output written to the socket.
 *
 * nghttp2 must not be asked for output (mem_send) from inside its own
 * callbacks, and a handler may answer from inside dispatch: so flushing
 * is deferred while mem_recv runs (in_recv) and done once it returns.
 *
 * One timer per connection serves every time limit: call deadlines
 * (grpc-timeout), max_connection_idle / age / age_grace, keepalive PING
 * and its timeout, and the linger after the last write. tick() computes
 * what is due and re-arms the timer for the earliest next event.
 *
 * Closing: a connection that ends (GOAWAY sent and no call left, or a
 * protocol error) shuts the socket down for writing and keeps reading
 * (discarding) for a short linger, so unread client bytes do not turn the
 * close into a reset that destroys our last frames in flight. */
#include "net/grpc_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RBUF_CAP         (64 * 1024)
#define LINGER_MS        1000
#define MAX_HEADER_BYTES (16 * 1024)
/* grpc-go: more than two bad pings and the client is told to calm down. */
#define MAX_PING_STRIKES 2
/* grpc-go: without streams (and permit_without_stream false) any two pings
 * within this window are a strike. */
#define NO_STREAM_PING_WINDOW_MS (2ull * 3600 * 1000)
#define STREAM_WINDOW            (1u << 20)
#define CONN_WINDOW              (16u << 20)

struct otf__grpc_conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_shutdown_t shutdown;
	otf_grpc_server_t *srv;
	otf__grpc_conn_t *prev, *next;
	nghttp2_session *h2;
	otf_grpc_call_t *calls; /* streams attached to this connection */
	uint32_t n_calls;
	int handles_open;
	char *rbuf;
	bool writing;
	bool in_recv;
	bool goaway; /* graceful GOAWAY sent: close once no call is left */
	bool fatal;  /* close as soon as pending output is written */
	bool lingering;
	bool closing;
	uint64_t created_ms, last_read_ms, idle_since_ms;
	uint64_t ping_sent_ms; /* our keepalive PING outstanding, 0 = none */
	uint64_t last_client_ping_ms;
	int ping_strikes;
	uint64_t grace_end_ms; /* max_connection_age_grace deadline, 0 = none */
	struct sockaddr_storage peer;
};

typedef struct write_req {
	uv_write_t w;
	otf__grpc_conn_t *conn;
	size_t len;
	uint8_t data[];
} write_req_t;

static void flush(otf__grpc_conn_t *c);
static void tick(otf__grpc_conn_t *c);

static uint64_t now_ms(const otf__grpc_conn_t *c)
{
	return uv_now(c->srv->loop);
}

/* ---- calls ---- */

void otf__grpc_call_free(otf_grpc_call_t *call)
{
	otf__grpc_reader_close(&call->reader);
	otf_buf_unref(call->message);
	otf_free(call->hdr);
	otf_free(call->resp);
	otf_free(call);
}

static void unlink_call(otf__grpc_conn_t *c, otf_grpc_call_t *call)
{
	if (call->prev)
		call->prev->next = call->next;
	else
		c->calls = call->next;
	if (call->next)
		call->next->prev = call->prev;
	call->prev = call->next = NULL;
	call->conn = NULL;
	if (--c->n_calls == 0)
		c->idle_since_ms = now_ms(c);
}

/* The stream is gone: a call the handler holds becomes an orphan whose
 * answer is a no-op; any other is freed. */
static void detach_call(otf__grpc_conn_t *c, otf_grpc_call_t *call)
{
	unlink_call(c, call);
	if (!call->with_handler)
		otf__grpc_call_free(call);
}

static const char *call_header(const otf_grpc_call_t *call, const char *name, size_t *len)
{
	size_t nl = strlen(name);
	const char *p = call->hdr;
	for (uint32_t i = 0; i < call->n_hdrs; i++) {
		size_t kl = strlen(p);
		const char *v = p + kl + 1;
		size_t vl = strlen(v);
		if (kl == nl && !memcmp(p, name, nl)) {
			*len = vl;
			return v;
		}
		p = v + vl + 1;
	}
	*len = 0;
	return NULL;
}

static int add_header(otf_grpc_call_t *call, const uint8_t *k, size_t kl, const uint8_t *v,
                      size_t vl)
{
	size_t need = call->hdr_len + kl + vl + 2;
	if (need > MAX_HEADER_BYTES)
		return OTF_E_TOO_LARGE;
	if (need > call->hdr_cap) {
		size_t cap = call->hdr_cap ? call->hdr_cap * 2 : 512;
		while (cap < need)
			cap *= 2;
		char *n = otf_realloc(call->hdr, cap);
		if (!n)
			return OTF_E_NOMEM;
		call->hdr = n;
		call->hdr_cap = cap;
	}
	/* HTTP/2 field values may not contain NUL (RFC 9113 8.2.1; nghttp2
	 * checks), so NUL-separated storage is unambiguous. */
	memcpy(call->hdr + call->hdr_len, k, kl);
	call->hdr[call->hdr_len + kl] = '\0';
	memcpy(call->hdr + call->hdr_len + kl + 1, v, vl);
	call->hdr[call->hdr_len + kl + 1 + vl] = '\0';
	call->hdr_len = need;
	call->n_hdrs++;
	return 0;
}

/* ---- answers ---- */

static ssize_t read_resp(nghttp2_session *h2, int32_t sid, uint8_t *buf, size_t len,
                         uint32_t *flags, nghttp2_data_source *src, void *ud)
{
	otf_grpc_call_t *call = src->ptr;
	(void)ud;
	size_t left = call->resp_len - call->resp_off;
	size_t n = left < len ? left : len;
	memcpy(buf, call->resp + call->resp_off, n);
	call->resp_off += n;
	if (call->resp_off == call->resp_len) {
		*flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
		const nghttp2_nv tr[] = {
		    {(uint8_t *)"grpc-status", (uint8_t *)"0", 11, 1, NGHTTP2_NV_FLAG_NONE}};
		if (nghttp2_submit_trailer(h2, sid, tr, 1) != 0)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	return (ssize_t)n;
}

#define NV(n, v, vl)                                                                      \
	{                                                                                 \
		(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, (vl), NGHTTP2_NV_FLAG_NONE \
	}

/* Trailers-Only answer, optionally with an HTTP status other than 200. */
static int submit_status(otf__grpc_conn_t *c, otf_grpc_call_t *call, int http, int code,
                         const char *message)
{
	char st[4], gs[4], enc[512];
	snprintf(st, sizeof st, "%d", http);
	snprintf(gs, sizeof gs, "%d", code);
	size_t el = otf__grpc_percent_encode(message, enc, sizeof enc);
	nghttp2_nv nv[5] = {
	    NV(":status", st, strlen(st)),
	    NV("content-type", "application/grpc", 16),
	    NV("grpc-status", gs, strlen(gs)),
	    NV("grpc-message", enc, el),
	    NV("grpc-accept-encoding", OTF__GRPC_ACCEPT_ENCODING,
	       sizeof OTF__GRPC_ACCEPT_ENCODING - 1),
	};
	size_t n = el ? 4 : 3;
	if (code == OTF_GRPC_UNIMPLEMENTED)
		nv[n++] = nv[4];
	call->answered = true;
	call->status = code;
	return nghttp2_submit_response(c->h2, call->stream_id, nv, n, NULL);
}

int otf__grpc_conn_answer(otf_grpc_call_t *call, int status, const char *message, const void *msg,
                          size_t len)
{
	otf__grpc_conn_t *c = call->conn;
	int rc;
	if (status != OTF_GRPC_OK || !msg) {
		rc = submit_status(c, call, 200, status, status == OTF_GRPC_OK ? NULL : message);
	} else {
		call->resp = otf_malloc(len + 5);
		if (!call->resp) {
			nghttp2_submit_rst_stream(c->h2, NGHTTP2_FLAG_NONE, call->stream_id,
			                          NGHTTP2_INTERNAL_ERROR);
			flush(c);
			return OTF_E_NOMEM;
		}
		call->resp[0] = 0;
		call->resp[1] = (uint8_t)(len >> 24);
		call->resp[2] = (uint8_t)(len >> 16);
		call->resp[3] = (uint8_t)(len >> 8);
		call->resp[4] = (uint8_t)len;
		memcpy(call->resp + 5, msg, len);
		call->resp_len = len + 5;
		call->answered = true;
		call->status = OTF_GRPC_OK;
		const nghttp2_nv nv[] = {
		    NV(":status", "200", 3),
		    NV("content-type", "application/grpc", 16),
		    NV("grpc-accept-encoding", OTF__GRPC_ACCEPT_ENCODING,
		       sizeof OTF__GRPC_ACCEPT_ENCODING - 1),
		};
		nghttp2_data_provider dp = {.source.ptr = call, .read_callback = read_resp};
		rc = nghttp2_submit_response(c->h2, call->stream_id, nv, 3, &dp);
	}
	if (rc != 0)
		nghttp2_submit_rst_stream(c->h2, NGHTTP2_FLAG_NONE, call->stream_id,
		                          NGHTTP2_INTERNAL_ERROR);
	flush(c);
	tick(c);
	return rc != 0 ? OTF_E_NOMEM : 0;
}

/* An answer before the request ended: the client may still be sending, so
 * the stream is reset (NO_ERROR) once our END_STREAM is out. */
static void early_status(otf__grpc_conn_t *c, otf_grpc_call_t *call, bool req_ended, int http,
                         int code, const char *message)
{
	call->rst_after = !req_ended;
	otf__grpc_reader_close(&call->reader);
	if (submit_status(c, call, http, code, message) != 0)
		nghttp2_submit_rst_stream(c->h2, NGHTTP2_FLAG_NONE, call->stream_id,
		                          NGHTTP2_INTERNAL_ERROR);
}

/* ---- request handling ---- */

static void request_headers(otf__grpc_conn_t *c, otf_grpc_call_t *call, bool ended)
{
	size_t ml, ctl, el, tl;
	const char *m = call_header(call, ":method", &ml);
	if (!m || ml != 4 || memcmp(m, "POST", 4)) {
		early_status(c, call, ended, 405, OTF_GRPC_UNIMPLEMENTED,
		             "gRPC requires the POST method");
		return;
	}
	const char *ct = call_header(call, "content-type", &ctl);
	if (!ct || !otf__grpc_content_type_ok(ct, ctl)) {
		early_status(c, call, ended, 415, OTF_GRPC_INTERNAL,
		             "content-type must be application/grpc");
		return;
	}
	bool identity;
	const char *enc = call_header(call, "grpc-encoding", &el);
	if (!otf__grpc_encoding_supported(enc, el, &identity)) {
		char msg[200];
		snprintf(msg, sizeof msg, "grpc-encoding %.*s is not supported (%s)",
		         (int)(el > 64 ? 64 : el), enc, OTF__GRPC_ACCEPT_ENCODING);
		early_status(c, call, ended, 200, OTF_GRPC_UNIMPLEMENTED, msg);
		return;
	}
	const char *to = call_header(call, "grpc-timeout", &tl);
	if (to) {
		if (otf__grpc_parse_timeout(to, tl, &call->timeout_ns) < 0) {
			early_status(c, call, ended, 200, OTF_GRPC_INTERNAL,
			             "malformed grpc-timeout");
			return;
		}
		/* Never answer before the deadline the envelope carries: the
		 * loop's clock may be stale and counts whole ms, so refresh
		 * it and round up by one more ms. */
		uv_update_time(c->srv->loop);
		uint64_t ms = call->timeout_ns / 1000000 + 1;
		call->deadline_mono_ms = now_ms(c) + ms;
		if (call->deadline_mono_ms == 0)
			call->deadline_mono_ms = 1;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		call->deadline_unix_ns =
		    call->timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + call->timeout_ns;
	}
	if (c->srv->cfg.admit && !c->srv->cfg.admit(c->srv->ctx)) {
		early_status(c, call, ended, 200, OTF_GRPC_RESOURCE_EXHAUSTED,
		             "memory limit exceeded, retry later");
		return;
	}
	otf__grpc_reader_init(&call->reader, c->srv->cfg.max_recv_msg_bytes, !identity);
	call->headers_done = true;
}

static void request_end(otf__grpc_conn_t *c, otf_grpc_call_t *call)
{
	if (call->answered || !call->headers_done)
		return;
	size_t el;
	const char *enc = call_header(call, "grpc-encoding", &el);
	const char *detail = "invalid request message";
	int st = otf__grpc_reader_finish(&call->reader, enc, el, &call->message, &detail);
	if (st) {
		early_status(c, call, true, 200, st, detail);
		return;
	}
	call->with_handler = true;
	c->srv->handler(call, c->srv->ctx);
}

static int on_begin_headers(nghttp2_session *h2, const nghttp2_frame *f, void *ud)
{
	otf__grpc_conn_t *c = ud;
	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	otf_grpc_call_t *call = otf_calloc(1, sizeof *call);
	if (!call)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* resets the stream */
	call->conn = c;
	call->stream_id = f->hd.stream_id;
	call->peer = c->peer;
	call->next = c->calls;
	if (c->calls)
		c->calls->prev = call;
	c->calls = call;
	c->n_calls++;
	nghttp2_session_set_stream_user_data(h2, f->hd.stream_id, call);
	return 0;
}

static int on_header(nghttp2_session *h2, const nghttp2_frame *f, const uint8_t *k, size_t kl,
                     const uint8_t *v, size_t vl, uint8_t flags, void *ud)
{
	(void)flags;
	(void)ud;
	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0; /* client trailers carry nothing gRPC uses */
	otf_grpc_call_t *call = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
	if (!call)
		return 0;
	/* Too many or too large headers: reset the stream (REFUSED by
	 * nghttp2's temporal failure). */
	return add_header(call, k, kl, v, vl) ? NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE : 0;
}

static void client_ping(otf__grpc_conn_t *c)
{
	const otf_grpc_server_config_t *cfg = &c->srv->cfg;
	uint64_t now = now_ms(c);
	uint64_t window = (!cfg->permit_without_stream && c->n_calls == 0)
	                      ? NO_STREAM_PING_WINDOW_MS
	                      : cfg->min_ping_time_ms;
	if (c->last_client_ping_ms && now - c->last_client_ping_ms < window)
		c->ping_strikes++;
	c->last_client_ping_ms = now;
	if (c->ping_strikes > MAX_PING_STRIKES && !c->fatal) {
		static const char why[] = "too_many_pings";
		nghttp2_submit_goaway(
		    c->h2, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(c->h2),
		    NGHTTP2_ENHANCE_YOUR_CALM, (const uint8_t *)why, sizeof why - 1);
		c->fatal = true;
	}
}

static int on_frame_recv(nghttp2_session *h2, const nghttp2_frame *f, void *ud)
{
	otf__grpc_conn_t *c = ud;
	if (f->hd.type == NGHTTP2_PING) {
		if (f->hd.flags & NGHTTP2_FLAG_ACK)
			c->ping_sent_ms = 0;
		else
			client_ping(c);
		return 0;
	}
	if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA)
		return 0;
	otf_grpc_call_t *call = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
	if (!call || call->answered)
		return 0;
	bool ended = f->hd.flags & NGHTTP2_FLAG_END_STREAM;
	if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST)
		request_headers(c, call, ended);
	if (ended)
		request_end(c, call);
	return 0;
}

static int on_data_chunk(nghttp2_session *h2, uint8_t flags, int32_t sid, const uint8_t *data,
                         size_t len, void *ud)
{
	otf__grpc_conn_t *c = ud;
	(void)flags;
	otf_grpc_call_t *call = nghttp2_session_get_stream_user_data(h2, sid);
	if (!call || call->answered || !call->headers_done)
		return 0; /* answered early: the rest is discarded */
	const char *detail = NULL;
	int st = otf__grpc_reader_feed(&call->reader, data, len, &detail);
	if (st)
		early_status(c, call, false, 200, st, detail);
	return 0;
}

static int on_frame_send(nghttp2_session *h2, const nghttp2_frame *f, void *ud)
{
	otf__grpc_conn_t *c = ud;
	if (f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA)
		c->ping_strikes = 0; /* grpc-go resets strikes when it sends */
	if (f->hd.type != NGHTTP2_HEADERS || !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	otf_grpc_call_t *call = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
	if (call && call->rst_after)
		nghttp2_submit_rst_stream(h2, NGHTTP2_FLAG_NONE, f->hd.stream_id, NGHTTP2_NO_ERROR);
	return 0;
}

static int on_stream_close(nghttp2_session *h2, int32_t sid, uint32_t err, void *ud)
{
	otf__grpc_conn_t *c = ud;
	(void)err;
	otf_grpc_call_t *call = nghttp2_session_get_stream_user_data(h2, sid);
	if (call) {
		nghttp2_session_set_stream_user_data(h2, sid, NULL);
		detach_call(c, call);
	}
	return 0;
}

/* ---- nghttp2 memory through otflow's counted allocator ---- */

static void *m_malloc(size_t n, void *ud)
{
	(void)ud;
	return otf_malloc(n);
}

static void m_free(void *p, void *ud)
{
	(void)ud;
	otf_free(p);
}

static void *m_calloc(size_t a, size_t b, void *ud)
{
	(void)ud;
	return otf_calloc(a, b);
}

static void *m_realloc(void *p, size_t n, void *ud)
{
	(void)ud;
	return otf_realloc(p, n);
}

static nghttp2_mem k_mem = {NULL, m_malloc, m_free, m_calloc, m_realloc};

static int session_new(otf__grpc_conn_t *c)
{
	nghttp2_session_callbacks *cb;
	if (nghttp2_session_callbacks_new(&cb))
		return OTF_E_NOMEM;
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
	nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
	nghttp2_option *opt = NULL;
	int rc = nghttp2_option_new(&opt);
	if (!rc) {
		/* nghttp2 acknowledges client PINGs itself (as grpc-go
		 * does); policing their rate is ours (client_ping). */
		nghttp2_option_set_max_send_header_block_length(opt, 64 * 1024);
		rc = nghttp2_session_server_new3(&c->h2, cb, c, opt, &k_mem);
	}
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cb);
	if (rc)
		return OTF_E_NOMEM;
	const nghttp2_settings_entry s[] = {
	    {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, c->srv->cfg.max_concurrent_streams},
	    {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW},
	    {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, MAX_HEADER_BYTES},
	};
	if (nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, s, 3) ||
	    nghttp2_session_set_local_window_size(c->h2, NGHTTP2_FLAG_NONE, 0, CONN_WINDOW))
		return OTF_E_NOMEM;
	return 0;
}

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
	if (c->h2)
		nghttp2_session_del(c->h2);
	otf_free(c->rbuf);
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
		detach_call(c, call);
	}
	uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
	uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	otf__grpc_conn_t *c = h->data;
	(void)suggested;
	*buf = uv_buf_init(c->rbuf, RBUF_CAP);
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
	if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) < 0) {
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
	flush(c);
	maybe_finish(c);
}

/* Collects nghttp2's pending output into one write; one write in flight. */
static void flush(otf__grpc_conn_t *c)
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
		if (wr->len >= 256 * 1024)
			break; /* the rest after this write completes */
	}
	if (!wr)
		return;
	wr->conn = c;
	uv_buf_t b = uv_buf_init((char *)wr->data, (unsigned)wr->len);
	if (uv_write(&wr->w, (uv_stream_t *)&c->tcp, &b, 1, on_write) < 0) {
		otf_free(wr);
		conn_close(c);
		return;
	}
	c->writing = true;
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	otf__grpc_conn_t *c = st->data;
	if (nread < 0) {
		conn_close(c);
		return;
	}
	if (nread == 0 || c->lingering || c->closing)
		return;
	c->last_read_ms = now_ms(c);
	c->ping_sent_ms = 0; /* any frame proves the peer alive */
	c->in_recv = true;
	ssize_t rv = nghttp2_session_mem_recv(c->h2, (const uint8_t *)buf->base, (size_t)nread);
	c->in_recv = false;
	if (rv < 0) {
		/* Not HTTP/2 at all (bad preface) or a flood: say so once if
		 * the peer can parse it, then leave. */
		nghttp2_session_terminate_session(c->h2, rv == NGHTTP2_ERR_FLOODED
		                                             ? NGHTTP2_ENHANCE_YOUR_CALM
		                                             : NGHTTP2_PROTOCOL_ERROR);
		c->fatal = true;
	}
	if (c->closing)
		return;
	flush(c);
	tick(c);
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
	tick(c);
	flush(c);
	maybe_finish(c);
}

static void upd(uint64_t *next, uint64_t at)
{
	if (at && (!*next || at < *next))
		*next = at;
}

static void tick(otf__grpc_conn_t *c)
{
	if (c->closing || c->lingering)
		return;
	const otf_grpc_server_config_t *cfg = &c->srv->cfg;
	uint64_t now = now_ms(c), next = 0;
	for (otf_grpc_call_t *call = c->calls; call; call = call->next) {
		if (call->answered || !call->deadline_mono_ms)
			continue;
		if (now >= call->deadline_mono_ms) {
			bool ended = call->with_handler;
			early_status(c, call, ended, 200, OTF_GRPC_DEADLINE_EXCEEDED,
			             "deadline exceeded (grpc-timeout)");
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

void otf__grpc_conn_accept(otf_grpc_server_t *s)
{
	otf__grpc_conn_t *c = otf_calloc(1, sizeof *c);
	char *rbuf = otf_malloc(RBUF_CAP);
	if (!c || !rbuf || uv_tcp_init(s->loop, &c->tcp) < 0) {
		/* Take the connection off the backlog so that the listener
		 * does not spin on it. */
		otf_free(c);
		otf_free(rbuf);
		uv_os_fd_t lfd;
		if (uv_fileno((uv_handle_t *)&s->listener, &lfd) == 0) {
			int fd = accept(lfd, NULL, NULL);
			if (fd >= 0)
				close(fd);
		}
		return;
	}
	c->rbuf = rbuf;
	c->srv = s;
	c->tcp.data = c;
	c->timer.data = c;
	uv_timer_init(s->loop, &c->timer);
	c->handles_open = 2;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->n_conns++;
	c->created_ms = c->last_read_ms = c->idle_since_ms = now_ms(c);
	if (uv_accept((uv_stream_t *)&s->listener, (uv_stream_t *)&c->tcp) < 0 ||
	    s->n_conns > s->cfg.max_connections || session_new(c) < 0) {
		conn_close(c);
		return;
	}
	int len = sizeof c->peer;
	uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&c->peer, &len);
	uv_tcp_nodelay(&c->tcp, 1);
	if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0) {
		conn_close(c);
		return;
	}
	flush(c); /* our SETTINGS */
	tick(c);
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
	flush(c);
	maybe_finish(c);
}
