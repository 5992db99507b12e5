/* OTLP/HTTP over HTTP/2: the nghttp2 server session of one connection.
 *
 * Socket- and TLS-free: the connection (http_conn.c) feeds the client's
 * plaintext to otf__http2_recv and writes what otf__http2_send returns.
 * Each stream becomes the otf_http_request_t the HTTP/1.1 path builds
 * (method, path, headers, decoded body), so the handler, and with it the
 * receiver's routing, CORS, authentication and answers, cannot tell the
 * two apart. Go's net/http (the Collector's confighttp) serves HTTP/2 the
 * same way on the same port.
 *
 * Limits, per stream as HTTP/1.1 has them per request: request header
 * fields above max_header_bytes or more than OTF__HTTP_MAX_HEADERS get 431;
 * a Content-Length or a body above max_body_bytes 413 (before the body is
 * kept); an unknown Content-Encoding 415, a corrupt one 400. Memory per
 * connection is bounded by MAX_STREAMS concurrent streams and by
 * CONN_BUFFER_STREAMS x max_body_bytes of request bodies held at once: a
 * stream whose DATA would pass that is refused (RST_STREAM
 * REFUSED_STREAM, which a client may retry). HTTP/2 framing, HPACK, flow
 * control and PING are nghttp2's. */
#include "net/http_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <ctype.h>
#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <string.h>

/* SETTINGS_MAX_CONCURRENT_STREAMS (Go's http2 server offers 250; each of
 * ours may hold a whole body, so fewer). */
#define MAX_STREAMS 100
/* Bodies held per connection, in units of max_body_bytes. */
#define CONN_BUFFER_STREAMS 4

typedef struct otf__http2_stream {
	otf__http2_t *h;
	struct otf__http2_stream *prev, *next;
	int32_t id;
	otf__http_msg_t *msg; /* being received; NULL once handed over */
	size_t head_bytes;    /* header field bytes received */
	size_t announced;     /* Content-Length, 0 = none */
	bool has_host;
	int err_status; /* answer this instead of dispatching (431, 413) */
	const char *err_msg;
	otf_http_request_t *req; /* with the handler */
	uint8_t *resp;           /* response body being sent */
	size_t resp_len, resp_off;
	bool answered;
} h2s_t;

struct otf__http2 {
	otf__http_conn_t *conn;
	nghttp2_session *ng;
	h2s_t *streams;
	size_t buffered; /* request body bytes held by streams not dispatched */
	uint32_t pending;
	bool in_recv;
};

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

static size_t body_len(const h2s_t *st)
{
	return st->msg && st->msg->body ? st->msg->body->len : 0;
}

static void stream_free(h2s_t *st)
{
	otf__http2_t *h = st->h;
	if (st->prev)
		st->prev->next = st->next;
	else
		h->streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	h->buffered -= body_len(st);
	if (st->req) { /* the handler's answer becomes a no-op */
		otf_http_request_t *req = st->req;
		otf_http_server_t *srv = h->conn->srv;
		req->conn = NULL;
		req->h2s = NULL;
		h->pending--;
		/* The client reset the stream or the connection went before the
		 * answer: the handler hears it as from HTTP/1.1 (request_gone),
		 * so the receiver cancels the request's message. */
		if (srv->cfg.request_gone)
			srv->cfg.request_gone(req, srv->ctx);
	}
	otf__http_msg_destroy(st->msg);
	otf_free(st->resp);
	otf_free(st);
}

/* Appends a NUL-terminated piece to the message head; its offset. */
static int head_put(otf__http_msg_t *m, const uint8_t *p, size_t n, uint32_t *off)
{
	if (m->head_len + n + 1 > UINT32_MAX)
		return OTF_E_TOO_LARGE;
	if (m->head_len + n + 1 > m->head_cap) {
		size_t cap = m->head_cap ? m->head_cap : 512;
		while (cap < m->head_len + n + 1)
			cap *= 2;
		char *nh = otf_realloc(m->head, cap);
		if (!nh)
			return OTF_E_NOMEM;
		m->head = nh;
		m->head_cap = cap;
	}
	*off = (uint32_t)m->head_len;
	memcpy(m->head + m->head_len, p, n);
	m->head[m->head_len + n] = '\0';
	m->head_len += n + 1;
	return 0;
}

static int method_of(const uint8_t *v, size_t n)
{
#define XX(num, name, string)                                  \
	if (n == sizeof #string - 1 && !memcmp(v, #string, n)) \
		return num;
	HTTP_METHOD_MAP(XX)
#undef XX
	return -1;
}

static void refuse(h2s_t *st, int status, const char *msg)
{
	if (!st->err_status) {
		st->err_status = status;
		st->err_msg = msg;
	}
}

static int add_header(h2s_t *st, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	otf__http_msg_t *m = st->msg;
	if (m->n_hdrs >= OTF__HTTP_MAX_HEADERS) {
		refuse(st, 431, "too many header fields");
		return 0;
	}
	otf__http_hdr_t *hd = &m->hdrs[m->n_hdrs];
	if (head_put(m, k, kl, &hd->name_off) || head_put(m, v, vl, &hd->value_off)) {
		refuse(st, 500, "out of memory");
		return 0;
	}
	hd->name_len = (uint32_t)kl;
	hd->value_len = (uint32_t)vl;
	m->n_hdrs++;
	return 0;
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	otf__http2_t *h = ud;
	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	h2s_t *st = otf_calloc(1, sizeof *st);
	if (st)
		st->msg = otf_calloc(1, sizeof *st->msg);
	if (!st || !st->msg) {
		otf_free(st);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* RST_STREAM */
	}
	st->h = h;
	st->id = f->hd.stream_id;
	st->msg->method = 255;
	st->msg->http_major = 2;
	st->msg->keep_alive = true;
	st->msg->url_off = UINT32_MAX;
	st->next = h->streams;
	if (h->streams)
		h->streams->prev = st;
	h->streams = st;
	nghttp2_session_set_stream_user_data(ng, st->id, st);
	return 0;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *k, size_t kl,
                     const uint8_t *v, size_t vl, uint8_t flags, void *ud)
{
	(void)flags;
	(void)ud;
	if (f->hd.type != NGHTTP2_HEADERS)
		return 0;
	h2s_t *st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
	if (!st || !st->msg || st->err_status)
		return 0;
	otf__http_msg_t *m = st->msg;
	st->head_bytes += kl + vl;
	size_t max = st->h->conn->srv->cfg.max_header_bytes;
	if (st->head_bytes > max) {
		refuse(st, 431, "request header fields too large");
		return 0;
	}
	if (kl && k[0] == ':') {
		if (kl == 7 && !memcmp(k, ":method", 7)) {
			int mt = method_of(v, vl);
			if (mt < 0)
				refuse(st, 400, "unknown request method");
			else
				m->method = (uint8_t)mt;
		} else if (kl == 5 && !memcmp(k, ":path", 5)) {
			if (head_put(m, v, vl, &m->url_off))
				refuse(st, 500, "out of memory");
			m->url_len = (uint32_t)vl;
		} else if (kl == 10 && !memcmp(k, ":authority", 10) && !st->has_host) {
			st->has_host = true; /* what HTTP/1.1 carries as Host */
			return add_header(st, (const uint8_t *)"host", 4, v, vl);
		}
		return 0; /* :scheme */
	}
	if (kl == 4 && !memcmp(k, "host", 4)) {
		if (st->has_host)
			return 0;
		st->has_host = true;
	}
	if (kl == 14 && !memcmp(k, "content-length", 14)) {
		size_t n = 0;
		for (size_t i = 0; i < vl && isdigit(v[i]); i++)
			n = n > SIZE_MAX / 10 - 1 ? SIZE_MAX : n * 10 + (size_t)(v[i] - '0');
		st->announced = n;
		if (n > st->h->conn->srv->cfg.max_body_bytes)
			refuse(st, 413, "request body larger than the configured limit");
	}
	return add_header(st, k, kl, v, vl);
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t sid, const uint8_t *data,
                         size_t len, void *ud)
{
	otf__http2_t *h = ud;
	(void)flags;
	h2s_t *st = nghttp2_session_get_stream_user_data(ng, sid);
	if (!st || !st->msg || st->err_status)
		return 0; /* refused or answered: the rest is dropped */
	size_t max = h->conn->srv->cfg.max_body_bytes, have = body_len(st);
	if (have + len > max) {
		refuse(st, 413, "request body larger than the configured limit");
		h->buffered -= have;
		otf_buf_unref(st->msg->body);
		st->msg->body = NULL;
		return 0;
	}
	if (h->buffered + len > (size_t)CONN_BUFFER_STREAMS * max) {
		nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, sid, NGHTTP2_REFUSED_STREAM);
		return 0;
	}
	size_t bound = st->announced && st->announced >= have + len ? st->announced : max;
	if (otf__net_buf_grow(&st->msg->body, have + len, bound) < 0) {
		refuse(st, 500, "out of memory");
		return 0;
	}
	memcpy(st->msg->body->data + have, data, len);
	st->msg->body->len = have + len;
	h->buffered += len;
	return 0;
}

static ssize_t read_resp(nghttp2_session *ng, int32_t sid, uint8_t *buf, size_t len,
                         uint32_t *flags, nghttp2_data_source *src, void *ud)
{
	(void)ng;
	(void)sid;
	(void)ud;
	h2s_t *st = src->ptr;
	size_t left = st->resp_len - st->resp_off;
	size_t n = left < len ? left : len;
	if (n)
		memcpy(buf, st->resp + st->resp_off, n);
	st->resp_off += n;
	if (st->resp_off == st->resp_len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static bool hop_by_hop(const char *n)
{
	static const char *const names[] = {"connection", "keep-alive",        "proxy-connection",
	                                    "upgrade",    "transfer-encoding", "content-length"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcasecmp(n, names[i]))
			return true;
	return false;
}

/* Submits the answer; HTTP/2 field names are lower case (RFC 9113 8.2.1). */
static int submit(h2s_t *st, bool head_only, int status, const char *ctype, const void *body,
                  size_t len, const otf_http_header_t *extra, size_t n_extra)
{
	otf__http2_t *h = st->h;
	char sbuf[4], lbuf[24];
	snprintf(sbuf, sizeof sbuf, "%03d", status);
	snprintf(lbuf, sizeof lbuf, "%zu", len);
	size_t names = 0;
	for (size_t i = 0; i < n_extra; i++)
		names += strlen(extra[i].name) + 1;
	nghttp2_nv *nv = otf_malloc((3 + n_extra) * sizeof *nv + names + 1);
	if (!nv)
		return OTF_E_NOMEM;
	char *lower = (char *)(nv + 3 + n_extra);
	size_t n = 0;
#define NV(k, kl, v) \
	nv[n++] =    \
	    (nghttp2_nv){(uint8_t *)(k), (uint8_t *)(v), (kl), strlen(v), NGHTTP2_NV_FLAG_NONE}
	NV(":status", 7, sbuf);
	if (ctype)
		NV("content-type", 12, ctype);
	NV("content-length", 14, lbuf);
	for (size_t i = 0; i < n_extra; i++) {
		if (hop_by_hop(extra[i].name))
			continue;
		size_t kl = strlen(extra[i].name);
		for (size_t j = 0; j < kl; j++)
			lower[j] = (char)tolower((unsigned char)extra[i].name[j]);
		NV(lower, kl, extra[i].value);
		lower += kl + 1;
	}
#undef NV
	int rc = 0;
	st->answered = true;
	if (!head_only && len) {
		st->resp = otf_malloc(len);
		if (!st->resp) {
			otf_free(nv);
			return OTF_E_NOMEM;
		}
		memcpy(st->resp, body, len);
		st->resp_len = len;
		nghttp2_data_provider dp = {.source.ptr = st, .read_callback = read_resp};
		rc = nghttp2_submit_response(h->ng, st->id, nv, n, &dp);
	} else {
		rc = nghttp2_submit_response(h->ng, st->id, nv, n, NULL);
	}
	otf_free(nv);
	return rc ? OTF_E_NOMEM : 0;
}

static void answer_error(h2s_t *st, int status, const char *msg)
{
	char text[256];
	int n = snprintf(text, sizeof text, "%s\n", msg ? msg : "error");
	if (n < 0 || (size_t)n >= sizeof text)
		n = (int)sizeof text - 1;
	if (submit(st, false, status, "text/plain; charset=utf-8", text, (size_t)n, NULL, 0) < 0)
		nghttp2_submit_rst_stream(st->h->ng, NGHTTP2_FLAG_NONE, st->id,
		                          NGHTTP2_INTERNAL_ERROR);
}

static void dispatch(h2s_t *st)
{
	otf__http2_t *h = st->h;
	otf__http_msg_t *m = st->msg;
	if (!st->err_status && (m->method == 255 || m->url_off == UINT32_MAX))
		refuse(st, 400, "request without :method or :path");
	if (st->err_status) {
		answer_error(st, st->err_status, st->err_msg);
		return;
	}
	const otf__http_hdr_t *ce = otf__http_msg_header(m, "content-encoding", 16);
	otf_buf_t *body = NULL;
	const char *detail = NULL;
	int rc = otf__http_decode(ce ? m->head + ce->value_off : NULL, ce ? ce->value_len : 0,
	                          m->body, h->conn->srv->cfg.max_body_bytes, &body, &detail);
	h->buffered -= body_len(st);
	otf_buf_unref(m->body);
	m->body = NULL;
	if (rc < 0) {
		answer_error(st, otf__http_decode_status(rc), detail);
		return;
	}
	otf_http_request_t *r = otf_calloc(1, sizeof *r);
	if (!r) {
		otf_buf_unref(body);
		answer_error(st, 500, "out of memory");
		return;
	}
	r->conn = h->conn;
	r->h2s = st;
	r->msg = m;
	st->msg = NULL;
	r->body = body;
	r->peer = h->conn->peer;
	if (h->conn->io.peer_subject)
		r->tls_subject =
		    otf_strndup(h->conn->io.peer_subject, strlen(h->conn->io.peer_subject));
	otf__http_split_target(r);
	st->req = r;
	h->pending++;
	h->conn->srv->handler(r, h->conn->srv->ctx);
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	(void)ud;
	if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA)
		return 0;
	h2s_t *st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
	if (!st || st->answered || st->req)
		return 0;
	/* A refused request is answered at once, not after its whole body. */
	if ((f->hd.flags & NGHTTP2_FLAG_END_STREAM) || st->err_status)
		dispatch(st);
	return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t sid, uint32_t err, void *ud)
{
	(void)err;
	(void)ud;
	h2s_t *st = nghttp2_session_get_stream_user_data(ng, sid);
	if (st) {
		nghttp2_session_set_stream_user_data(ng, sid, NULL);
		stream_free(st);
	}
	return 0;
}

otf__http2_t *otf__http2_new(otf__http_conn_t *c)
{
	otf__http2_t *h = otf_calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->conn = c;
	nghttp2_session_callbacks *cb;
	if (nghttp2_session_callbacks_new(&cb)) {
		otf_free(h);
		return NULL;
	}
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
	int rc = nghttp2_session_server_new3(&h->ng, cb, h, NULL, &k_mem);
	nghttp2_session_callbacks_del(cb);
	if (rc) {
		otf_free(h);
		return NULL;
	}
	size_t hb = c->srv->cfg.max_header_bytes;
	const nghttp2_settings_entry s[] = {
	    {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, MAX_STREAMS},
	    {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, hb > UINT32_MAX ? UINT32_MAX : (uint32_t)hb},
	};
	if (nghttp2_submit_settings(h->ng, NGHTTP2_FLAG_NONE, s, 2)) {
		otf__http2_free(h);
		return NULL;
	}
	return h;
}

void otf__http2_free(otf__http2_t *h)
{
	if (!h)
		return;
	while (h->streams) {
		nghttp2_session_set_stream_user_data(h->ng, h->streams->id, NULL);
		stream_free(h->streams);
	}
	nghttp2_session_del(h->ng);
	otf_free(h);
}

int otf__http2_recv(otf__http2_t *h, const uint8_t *data, size_t len)
{
	h->in_recv = true;
	ssize_t rv = nghttp2_session_mem_recv(h->ng, data, len);
	h->in_recv = false;
	if (rv < 0) {
		/* Not HTTP/2 (bad preface) or a flood: say so, then leave. */
		nghttp2_session_terminate_session(h->ng, rv == NGHTTP2_ERR_FLOODED
		                                             ? NGHTTP2_ENHANCE_YOUR_CALM
		                                             : NGHTTP2_PROTOCOL_ERROR);
		return OTF_E_INVAL;
	}
	return 0;
}

ssize_t otf__http2_send(otf__http2_t *h, const uint8_t **data)
{
	return nghttp2_session_mem_send(h->ng, data);
}

bool otf__http2_done(const otf__http2_t *h)
{
	return !nghttp2_session_want_read(h->ng) && !nghttp2_session_want_write(h->ng);
}

uint32_t otf__http2_pending(const otf__http2_t *h)
{
	return h->pending;
}

void otf__http2_goaway(otf__http2_t *h)
{
	nghttp2_submit_goaway(h->ng, NGHTTP2_FLAG_NONE,
	                      nghttp2_session_get_last_proc_stream_id(h->ng), NGHTTP2_NO_ERROR,
	                      NULL, 0);
}

int otf__http2_respond(otf_http_request_t *r, int status, const char *ctype, const void *body,
                       size_t len, const otf_http_header_t *extra, size_t n_extra)
{
	h2s_t *st = r->h2s;
	if (!st) { /* the stream or the connection is gone */
		otf__http_request_free(r);
		return -ECONNRESET;
	}
	otf__http2_t *h = st->h;
	otf__http_conn_t *c = h->conn;
	st->req = NULL;
	h->pending--;
	int rc = 0;
	bool ok = status >= 200 && status <= 599 && (body || len == 0) && (extra || n_extra == 0);
	for (size_t i = 0; ok && i < n_extra; i++)
		ok = extra[i].name && extra[i].value && !strpbrk(extra[i].name, "\r\n") &&
		     !strpbrk(extra[i].value, "\r\n");
	if (ok && ctype && strpbrk(ctype, "\r\n"))
		ok = false;
	if (!ok) {
		answer_error(st, 500, "invalid response from the request handler");
		rc = OTF_E_INVAL;
	} else {
		rc = submit(st, r->msg->method == HTTP_HEAD, status, ctype, body, len, extra,
		            n_extra);
		if (rc < 0)
			nghttp2_submit_rst_stream(h->ng, NGHTTP2_FLAG_NONE, st->id,
			                          NGHTTP2_INTERNAL_ERROR);
	}
	otf__http_request_free(r);
	if (!h->in_recv)
		otf__http_conn_h2_flush(c);
	return rc;
}
