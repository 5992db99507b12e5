/* Unary gRPC client on nghttp2 + libuv (grpc_client.h). */
#include "grpc_client.h"

#include "components/exporters/exporterhelper/exporterhelper.h" /* status parse */
#include "net/grpc_internal.h"                                  /* response reader */
#include "net/tls_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <ctype.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <string.h>

enum { C_RESOLVING = 1, C_CONNECTING, C_READY, C_CLOSED };

/* A server that accepts but never completes the TLS handshake (a
 * plaintext server waiting for a request) is given up after the client's
 * handshake_timeout_ms, or this when that is 0. */
#define TLS_HANDSHAKE_MS 10000u

/* Most bytes gathered into one write. A whole request of the usual sizes
 * (a batch of 1000 logs is ~360 KB) goes out in one writev: the backend's
 * receiver is woken once the message has arrived (its receive low-water
 * mark), so a request cut at 256 KiB left it waiting for the rest until
 * our next loop turn (one more epoll_wait and writev per request). DATA
 * payloads are not copied (slices of the message), so the size costs only
 * iovecs: 16 KiB frames make ~130 segments per MiB, well under IOV_MAX. */
#define WRITE_BATCH_BYTES (1024u * 1024u)

typedef struct conn conn_t;

struct otf_grpcc_call {
	otf_grpcc_t *cl;
	conn_t *conn; /* NULL while waiting for a connection */
	int32_t stream_id;
	otf_grpcc_call_t *prev, *next; /* client's pending list or conn's list */
	char *path;
	otf_buf_t *body;   /* the request message, written after prefix */
	uint8_t prefix[5]; /* Length-Prefixed-Message header */
	size_t off;        /* bytes of prefix + body sent */
	uint64_t timeout_ms, deadline_ms;
	otf__grpc_reader_t reader;
	otf_grpcc_result_t res;
	bool got_status, timed_out, done;
	char encoding[32];
	otf_grpcc_cb cb;
	void *arg;
	char **meta; /* per-call headers: name, value, ...; names lower-cased */
	size_t n_meta;
};

struct conn {
	otf__tls_io_t io; /* the socket, with TLS when the client has it */
	uv_getaddrinfo_t gai;
	uv_connect_t connect;
	otf_grpcc_t *cl;
	conn_t *prev, *next; /* every open connection of the client */
	nghttp2_session *h2;
	int state;
	bool goaway, writing, closing;
	uint64_t connected_ms; /* TCP connected (loop clock): the handshake's start */
	otf_grpcc_call_t *calls;
	otf__grpcc_wbatch_t w;
	char rbuf[16384];
};

struct otf_grpcc {
	uv_loop_t *loop;
	char *host, *authority, *encoding;
	uint16_t port;
	otf_tls_ctx_t *tls; /* NULL = h2c */
	char *server_name;  /* SNI and the name verified */
	char **meta;        /* name, value, ..., NULL; names lower-cased */
	size_t n_meta;
	size_t max_recv;
	uint64_t handshake_ms;     /* a TLS handshake's limit from the TCP connect */
	conn_t *conn;              /* the connection new calls use */
	conn_t *conns;             /* all of them (draining after GOAWAY too) */
	otf_grpcc_call_t *pending; /* waiting for conn to be ready */
	otf_grpcc_call_t *done;    /* finished, callbacks not yet run */
	uv_timer_t timer;          /* deadlines; runs finished callbacks */
	int handles;
	uint64_t writes; /* socket writes started */
	bool closing;
	otf_grpcc_close_cb close_cb;
	void *close_arg;
};

static void conn_close(conn_t *k);
static void conn_fail(conn_t *k, const char *why);
static void conn_flush(conn_t *k);
static void on_timer(uv_timer_t *t);

static void list_add(otf_grpcc_call_t **head, otf_grpcc_call_t *c)
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
static void finish(otf_grpcc_call_t *c, int status, const char *msg)
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
	list_add(&cl->done, c);
	kick(cl);
}

/* Status of a stream that closed (PROTOCOL-HTTP2.md, "Responses"). */
static void stream_closed(otf_grpcc_call_t *c, uint32_t error_code)
{
	char why[160];
	if (c->timed_out) {
		finish(c, OTF_GRPC_DEADLINE_EXCEEDED, "deadline exceeded");
		return;
	}
	if (c->res.http_status && c->res.http_status != 200) {
		snprintf(why, sizeof why, "HTTP status %d%s%.100s", c->res.http_status,
		         c->res.message[0] ? ": " : "", c->res.message);
		finish(c, otf__grpcc_http_status(c->res.http_status), why);
		return;
	}
	if (!c->got_status) {
		if (error_code == NGHTTP2_REFUSED_STREAM)
			finish(c, OTF_GRPC_UNAVAILABLE, "stream refused by the server");
		else if (error_code == NGHTTP2_CANCEL)
			finish(c, OTF_GRPC_CANCELLED, "stream cancelled by the server");
		else {
			snprintf(why, sizeof why, "stream closed without grpc-status (%s)",
			         nghttp2_http2_strerror(error_code));
			finish(c, error_code ? OTF_GRPC_INTERNAL : OTF_GRPC_UNKNOWN, why);
		}
		return;
	}
	if (c->res.status == OTF_GRPC_OK) {
		const char *detail = NULL;
		int st = otf__grpc_reader_finish(&c->reader, c->encoding, strlen(c->encoding),
		                                 &c->res.response, &detail);
		if (st &&
		    !(st == OTF_GRPC_INTERNAL && c->reader.n_msgs == 0 && !c->reader.hdr_len)) {
			snprintf(why, sizeof why, "bad response message: %s", detail ? detail : "");
			finish(c, st, why);
			return;
		}
	}
	finish(c, c->res.status, NULL);
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nl,
                     const uint8_t *value, size_t vl, uint8_t flags, void *ud)
{
	(void)flags;
	(void)ud;
	otf_grpcc_call_t *c = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
	if (!c)
		return 0;
#define IS(lit) (nl == sizeof(lit) - 1 && !memcmp(name, lit, nl))
	if (IS(":status")) {
		c->res.http_status = (int)strtol((const char *)value, NULL, 10);
	} else if (IS("grpc-status")) {
		c->got_status = true;
		c->res.status = (int)strtol((const char *)value, NULL, 10);
	} else if (IS("grpc-message")) {
		otf__grpcc_percent_decode((const char *)value, vl, c->res.message,
		                          sizeof c->res.message);
	} else if (IS("grpc-encoding")) {
		snprintf(c->encoding, sizeof c->encoding, "%.*s", (int)vl, (const char *)value);
	} else if (IS("grpc-status-details-bin")) {
		uint8_t bin[1024];
		long n = otf__grpcc_base64_decode((const char *)value, vl, bin, sizeof bin);
		int code;
		uint64_t ns = 0;
		if (n > 0 && !otf__exph_status_parse(bin, (size_t)n, &code, NULL, 0, &ns) && ns) {
			c->res.retry_ns = ns;
			c->res.has_retry_info = true;
		}
	}
#undef IS
	return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t sid, const uint8_t *data, size_t len,
                   void *ud)
{
	(void)flags;
	(void)ud;
	otf_grpcc_call_t *c = nghttp2_session_get_stream_user_data(s, sid);
	if (!c)
		return 0;
	const char *detail = NULL;
	int st = otf__grpc_reader_feed(&c->reader, data, len, &detail);
	if (st) {
		char why[160];
		snprintf(why, sizeof why, "bad response: %s", detail ? detail : "");
		nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, sid, NGHTTP2_CANCEL);
		finish(c, st, why);
	}
	return 0;
}

static int on_close(nghttp2_session *s, int32_t sid, uint32_t error_code, void *ud)
{
	(void)ud;
	otf_grpcc_call_t *c = nghttp2_session_get_stream_user_data(s, sid);
	if (c)
		stream_closed(c, error_code);
	return 0;
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
	(void)s;
	conn_t *k = ud;
	if (f->hd.type == NGHTTP2_GOAWAY) {
		/* Streams above last_stream_id are closed by nghttp2 as
		 * REFUSED_STREAM; new calls go to a new connection. */
		k->goaway = true;
		if (k->cl->conn == k)
			k->cl->conn = NULL;
	}
	return 0;
}

/* The request body is prefix + message. Only its length is decided here:
 * the bytes go out in send_data (NO_COPY), right after, in the same
 * nghttp2_session_mem_send. */
static ssize_t read_body(nghttp2_session *s, int32_t sid, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *ud)
{
	(void)s;
	(void)sid;
	(void)buf;
	(void)ud;
	otf_grpcc_call_t *c = src->ptr;
	size_t left = c->body->len + 5 - c->off;
	size_t n = left < len ? left : len;
	*flags |= NGHTTP2_DATA_FLAG_NO_COPY;
	if (n == left)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static int send_data(nghttp2_session *s, nghttp2_frame *f, const uint8_t *framehd, size_t len,
                     nghttp2_data_source *src, void *ud)
{
	(void)s;
	static const uint8_t zeros[256];
	conn_t *k = ud;
	otf__grpcc_wbatch_t *w = &k->w;
	otf_grpcc_call_t *c = src->ptr;
	size_t pad = f->data.padlen;
	uint8_t padlen = (uint8_t)(pad ? pad - 1 : 0);
	if (otf__grpcc_stage_add(w, framehd, 9) || (pad && otf__grpcc_stage_add(w, &padlen, 1)))
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	if (c->off < 5) {
		size_t n = 5 - c->off < len ? 5 - c->off : len;
		if (otf__grpcc_stage_add(w, c->prefix + c->off, n))
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		c->off += n;
		len -= n;
	}
	if (otf__grpcc_slice_add(w, c->body, c->off - 5, len))
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	c->off += len;
	if (pad > 1 && otf__grpcc_stage_add(w, zeros, pad - 1))
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	/* Enough for one write: let conn_flush send it. */
	return w->total >= WRITE_BATCH_BYTES ? NGHTTP2_ERR_PAUSE : 0;
}

static void submit(conn_t *k, otf_grpcc_call_t *c)
{
	otf_grpcc_t *cl = k->cl;
	char tmo[16];
	nghttp2_nv nv[24 + 64];
	size_t n = 0;
#define NV(nm, val)                                                                     \
	nv[n++] = (nghttp2_nv){(uint8_t *)(uintptr_t)(nm), (uint8_t *)(uintptr_t)(val), \
	                       strlen(nm), strlen(val), NGHTTP2_NV_FLAG_NONE}
	NV(":method", "POST");
	NV(":scheme", cl->tls ? "https" : "http");
	NV(":path", c->path);
	NV(":authority", cl->authority);
	NV("content-type", "application/grpc");
	NV("te", "trailers");
	NV("user-agent", "grpc-c/otflow-" OTF_VERSION);
	NV("grpc-accept-encoding", "identity,gzip,zstd,deflate");
	if (cl->encoding)
		NV("grpc-encoding", cl->encoding);
	if (c->timeout_ms) {
		otf__grpcc_timeout(c->timeout_ms, tmo);
		NV("grpc-timeout", tmo);
	}
	for (size_t i = 0; i + 1 < cl->n_meta && n + 1 < sizeof nv / sizeof nv[0]; i += 2)
		NV(cl->meta[i], cl->meta[i + 1]);
	for (size_t i = 0; i + 1 < c->n_meta && n + 1 < sizeof nv / sizeof nv[0]; i += 2)
		NV(c->meta[i], c->meta[i + 1]);
#undef NV
	nghttp2_data_provider dp = {.source.ptr = c, .read_callback = read_body};
	c->conn = k;
	list_add(&k->calls, c);
	int32_t sid = nghttp2_submit_request(k->h2, NULL, nv, n, &dp, c);
	if (sid < 0) {
		finish(c, OTF_GRPC_UNAVAILABLE, nghttp2_strerror(sid));
		return;
	}
	c->stream_id = sid;
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
			finish(cl->pending, OTF_GRPC_UNAVAILABLE, "connection failed");
	}
	while (k->calls)
		finish(k->calls, OTF_GRPC_UNAVAILABLE, "connection closed");
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
			finish(cl->pending, OTF_GRPC_UNAVAILABLE, why);
	}
	while (k->calls)
		finish(k->calls, OTF_GRPC_UNAVAILABLE, why);
	conn_close(k);
}

static int session_new(conn_t *k)
{
	nghttp2_session_callbacks *cb;
	if (nghttp2_session_callbacks_new(&cb))
		return OTF_E_NOMEM;
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
	nghttp2_session_callbacks_set_send_data_callback(cb, send_data);
	int rc = nghttp2_session_client_new(&k->h2, cb, k);
	nghttp2_session_callbacks_del(cb);
	if (rc)
		return OTF_E_NOMEM;
	/* A large window: responses are small, but so is the default. */
	nghttp2_settings_entry s[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
	                              {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};
	nghttp2_submit_settings(k->h2, NGHTTP2_FLAG_NONE, s, 2);
	return 0;
}

static void on_connect(uv_connect_t *req, int status)
{
	conn_t *k = req->data;
	otf_grpcc_t *cl = k->cl;
	if (k->closing)
		return;
	if (status < 0 || session_new(k)) {
		char why[160];
		snprintf(why, sizeof why, "connect to %s:%u: %s", cl->host, cl->port,
		         status < 0 ? uv_strerror(status) : "out of memory");
		if (cl->conn == k) {
			cl->conn = NULL;
			while (cl->pending)
				finish(cl->pending, OTF_GRPC_UNAVAILABLE, why);
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
		submit(k, c);
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
				finish(cl->pending, OTF_GRPC_UNAVAILABLE, why);
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
			finish(c, OTF_GRPC_DEADLINE_EXCEEDED, "deadline exceeded while connecting");
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
				finish(c, OTF_GRPC_DEADLINE_EXCEEDED, "deadline exceeded");
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
		submit(cl->conn, c);
		conn_flush(cl->conn);
	} else {
		list_add(&cl->pending, c);
		if (!cl->conn && !(cl->conn = conn_open(cl)))
			finish(c, OTF_GRPC_UNAVAILABLE, "cannot open a connection");
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
