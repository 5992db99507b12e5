/* Blocking h2c client for tests (see h2_client.h). */
#include "h2_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct h2_conn {
	int fd;
	nghttp2_session *s;
	int open_streams;
	bool eof;
	bool goaway;
	uint32_t goaway_code;
	char goaway_debug[64];
	int ping_acks;
	int pings;
	/* h2_set_coalesce: frames gathered here, written by one send() per
	 * nghttp2_session_send round */
	bool coalesce;
	uint8_t *wbuf;
	size_t wlen, wcap;
};

typedef struct body_src {
	const uint8_t *p;
	size_t len, off;
	bool hold; /* keep the stream open after the body (no END_STREAM) */
} body_src_t;

const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

long h2_raw_goaway_code(const uint8_t *b, long n)
{
	long off = 0;
	while (off + 9 <= n) {
		uint32_t len = (uint32_t)b[off] << 16 | (uint32_t)b[off + 1] << 8 | b[off + 2];
		if (b[off + 3] == 7 && off + 9 + 8 <= n)
			return (long)((uint32_t)b[off + 13] << 24 | (uint32_t)b[off + 14] << 16 |
			              (uint32_t)b[off + 15] << 8 | b[off + 16]);
		off += 9 + (long)len;
	}
	return -1;
}

int tcp_connect(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		close(fd);
		return -1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long tcp_read_until_eof(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
	size_t n = 0;
	int64_t end = mono_ms() + timeout_ms;
	for (;;) {
		int64_t left = end - mono_ms();
		if (left <= 0)
			return -1;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		uint8_t tmp[4096];
		ssize_t r = read(fd, tmp, sizeof tmp);
		if (r <= 0)
			return (long)n; /* EOF or reset */
		size_t take = (size_t)r < cap - n ? (size_t)r : cap - n;
		memcpy(buf + n, tmp, take);
		n += take;
	}
}

static ssize_t send_cb(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *ud)
{
	h2_conn_t *c = ud;
	(void)s;
	(void)flags;
	if (c->coalesce) {
		if (c->wlen + len > c->wcap) {
			size_t ncap = c->wcap ? c->wcap : 65536;
			while (ncap < c->wlen + len)
				ncap *= 2;
			uint8_t *n = realloc(c->wbuf, ncap);
			if (!n)
				return NGHTTP2_ERR_CALLBACK_FAILURE;
			c->wbuf = n;
			c->wcap = ncap;
		}
		memcpy(c->wbuf + c->wlen, data, len);
		c->wlen += len;
		return (ssize_t)len;
	}
	ssize_t w = send(c->fd, data, len, MSG_NOSIGNAL);
	if (w < 0)
		return errno == EAGAIN ? NGHTTP2_ERR_WOULDBLOCK : NGHTTP2_ERR_CALLBACK_FAILURE;
	return w;
}

/* nghttp2_session_send, then (coalescing) the gathered frames in one
 * blocking write. */
static void session_send(h2_conn_t *c)
{
	nghttp2_session_send(c->s);
	size_t off = 0;
	while (off < c->wlen) {
		ssize_t w = send(c->fd, c->wbuf + off, c->wlen - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			c->eof = true;
			break;
		}
		off += (size_t)w;
	}
	c->wlen = 0;
}

void h2_set_coalesce(h2_conn_t *c, bool on)
{
	c->coalesce = on;
}

static int pct(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *k, size_t kl,
                     const uint8_t *v, size_t vl, uint8_t flags, void *ud)
{
	(void)flags;
	(void)ud;
	h2_result_t *r = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
	if (!r)
		return 0;
	if (kl == 7 && !memcmp(k, ":status", 7))
		r->http_status = atoi((const char *)v);
	else if (kl == 11 && !memcmp(k, "grpc-status", 11))
		r->grpc_status = atoi((const char *)v);
	else if (kl == 23 && !memcmp(k, "grpc-status-details-bin", 23))
		snprintf(r->status_details, sizeof r->status_details, "%.*s", (int)vl, v);
	else if (kl == 20 && !memcmp(k, "grpc-accept-encoding", 20))
		snprintf(r->accept_encoding, sizeof r->accept_encoding, "%.*s", (int)vl, v);
	else if (kl == 12 && !memcmp(k, "grpc-message", 12)) {
		size_t n = 0;
		for (size_t i = 0; i < vl && n + 1 < sizeof r->grpc_message; i++) {
			if (v[i] == '%' && i + 2 < vl && pct(v[i + 1]) >= 0 && pct(v[i + 2]) >= 0) {
				r->grpc_message[n++] = (char)(pct(v[i + 1]) * 16 + pct(v[i + 2]));
				i += 2;
			} else {
				r->grpc_message[n++] = (char)v[i];
			}
		}
		r->grpc_message[n] = '\0';
	}
	return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t sid, const uint8_t *d, size_t len,
                   void *ud)
{
	(void)flags;
	(void)ud;
	h2_result_t *r = nghttp2_session_get_stream_user_data(s, sid);
	if (!r)
		return 0;
	/* Doubling: a realloc per DATA frame copied a 3 MiB answer ~190
	 * times, which ASan's allocator (never in place, fresh pages each
	 * time) made take 11 s in test_grpc_direct. */
	if (r->data_len + len + 1 > r->data_cap) {
		size_t cap = r->data_cap ? r->data_cap : 4096;
		while (cap < r->data_len + len + 1)
			cap *= 2;
		uint8_t *nd = realloc(r->data, cap);
		if (!nd)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		r->data = nd;
		r->data_cap = cap;
	}
	memcpy(r->data + r->data_len, d, len);
	r->data_len += len;
	return 0;
}

static int on_close(nghttp2_session *s, int32_t sid, uint32_t code, void *ud)
{
	h2_conn_t *c = ud;
	h2_result_t *r = nghttp2_session_get_stream_user_data(s, sid);
	if (r) {
		r->closed = true;
		r->rst_code = code;
		c->open_streams--;
	}
	return 0;
}

static int on_frame(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
	h2_conn_t *c = ud;
	(void)s;
	if (f->hd.type == NGHTTP2_GOAWAY) {
		c->goaway = true;
		c->goaway_code = f->goaway.error_code;
		snprintf(c->goaway_debug, sizeof c->goaway_debug, "%.*s",
		         (int)f->goaway.opaque_data_len, (const char *)f->goaway.opaque_data);
	} else if (f->hd.type == NGHTTP2_PING) {
		if (f->hd.flags & NGHTTP2_FLAG_ACK)
			c->ping_acks++;
		else
			c->pings++;
	}
	return 0;
}

h2_conn_t *h2_connect(int port)
{
	int fd = tcp_connect(port);
	if (fd < 0)
		return NULL;
	h2_conn_t *c = calloc(1, sizeof *c);
	c->fd = fd;
	nghttp2_session_callbacks *cb;
	nghttp2_session_callbacks_new(&cb);
	nghttp2_session_callbacks_set_send_callback(cb, send_cb);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
	nghttp2_session_client_new(&c->s, cb, c);
	nghttp2_session_callbacks_del(cb);
	nghttp2_submit_settings(c->s, NGHTTP2_FLAG_NONE, NULL, 0);
	session_send(c);
	return c;
}

static ssize_t read_body(nghttp2_session *s, int32_t sid, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *ud)
{
	(void)s;
	(void)sid;
	(void)ud;
	body_src_t *b = src->ptr;
	size_t n = b->len - b->off < len ? b->len - b->off : len;
	memcpy(buf, b->p + b->off, n);
	b->off += n;
	if (n == 0 && b->hold)
		return NGHTTP2_ERR_DEFERRED;
	if (b->off == b->len && !b->hold)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static int32_t submit(h2_conn_t *c, const char *method, const char *path, const char *ctype,
                      const char *const *extra, const void *body, size_t len, h2_result_t *res,
                      bool hold)
{
	memset(res, 0, sizeof *res);
	res->grpc_status = -1;
	nghttp2_nv nv[32];
	size_t n = 0;
#define ADD(k, v)                                                                    \
	nv[n++] = (nghttp2_nv){(uint8_t *)(k), (uint8_t *)(v), strlen(k), strlen(v), \
	                       NGHTTP2_NV_FLAG_NONE}
	ADD(":method", method ? method : "POST");
	ADD(":scheme", "http");
	ADD(":authority", "127.0.0.1");
	ADD(":path", path);
	ADD("content-type", ctype ? ctype : "application/grpc");
	ADD("te", "trailers");
	for (size_t i = 0; extra && extra[i] && n < 30; i += 2)
		ADD(extra[i], extra[i + 1]);
#undef ADD
	body_src_t *b = calloc(1, sizeof *b);
	b->p = body;
	b->len = len;
	b->hold = hold;
	nghttp2_data_provider dp = {.source.ptr = b, .read_callback = read_body};
	int32_t id = nghttp2_submit_request(c->s, NULL, nv, n, &dp, res);
	res->priv = b;
	if (id > 0)
		c->open_streams++;
	session_send(c);
	return id;
}

int32_t h2_submit_open(h2_conn_t *c, const char *path, const void *body, size_t len,
                       h2_result_t *res)
{
	return submit(c, NULL, path, NULL, NULL, body, len, res, true);
}

int32_t h2_submit(h2_conn_t *c, const char *method, const char *path, const char *ctype,
                  const char *const *extra, const void *body, size_t len, h2_result_t *res)
{
	return submit(c, method, path, ctype, extra, body, len, res, false);
}

int h2_ping(h2_conn_t *c)
{
	int rc = nghttp2_submit_ping(c->s, NGHTTP2_FLAG_NONE, NULL);
	session_send(c);
	return rc;
}

int h2_rst(h2_conn_t *c, int32_t stream_id)
{
	int rc = nghttp2_submit_rst_stream(c->s, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
	nghttp2_session_send(c->s);
	return rc;
}

int h2_write_raw(h2_conn_t *c, const void *data, size_t len)
{
	return send(c->fd, data, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

static int io(h2_conn_t *c, int timeout_ms, bool until_streams_done)
{
	int64_t end = mono_ms() + timeout_ms;
	while ((!until_streams_done || c->open_streams > 0) && !c->eof) {
		int64_t left = end - mono_ms();
		if (left <= 0)
			break;
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		if (poll(&p, 1, (int)(left < 50 ? left : 50)) <= 0) {
			session_send(c);
			continue;
		}
		uint8_t buf[16384];
		ssize_t r = read(c->fd, buf, sizeof buf);
		if (r <= 0) {
			c->eof = true;
			break;
		}
		if (nghttp2_session_mem_recv(c->s, buf, (size_t)r) < 0) {
			c->eof = true;
			break;
		}
		session_send(c);
	}
	return c->open_streams > 0 ? -1 : 0;
}

int h2_run(h2_conn_t *c, int timeout_ms)
{
	return io(c, timeout_ms, true);
}

void h2_pump(h2_conn_t *c, int ms)
{
	io(c, ms, false);
}

int h2_pings_received(const h2_conn_t *c)
{
	return c->pings;
}

bool h2_goaway(const h2_conn_t *c, uint32_t *code, char *debug, size_t cap)
{
	if (code)
		*code = c->goaway_code;
	if (debug)
		snprintf(debug, cap, "%s", c->goaway_debug);
	return c->goaway;
}

bool h2_eof(const h2_conn_t *c)
{
	return c->eof;
}

int h2_ping_acks(const h2_conn_t *c)
{
	return c->ping_acks;
}

void h2_close(h2_conn_t *c)
{
	if (!c)
		return;
	nghttp2_session_del(c->s);
	close(c->fd);
	free(c->wbuf);
	free(c);
}

int h2_unary(int port, const char *path, const char *const *extra, const void *body, size_t len,
             h2_result_t *res, int timeout_ms)
{
	h2_conn_t *c = h2_connect(port);
	if (!c)
		return -1;
	int rc = -1;
	if (h2_submit(c, NULL, path, NULL, extra, body, len, res) > 0)
		rc = h2_run(c, timeout_ms);
	h2_close(c);
	return rc;
}

void h2_result_free(h2_result_t *r)
{
	free(r->data);
	free(r->priv);
	r->data = NULL;
	r->data_cap = 0;
	r->priv = NULL;
}

uint8_t *grpc_frame(const void *msg, size_t len, uint8_t flag, size_t *out_len)
{
	uint8_t *p = malloc(len + 5);
	p[0] = flag;
	p[1] = (uint8_t)(len >> 24);
	p[2] = (uint8_t)(len >> 16);
	p[3] = (uint8_t)(len >> 8);
	p[4] = (uint8_t)len;
	if (len)
		memcpy(p + 5, msg, len);
	*out_len = len + 5;
	return p;
}

const uint8_t *grpc_unframe(const h2_result_t *r, size_t *len)
{
	if (r->data_len < 5 || r->data[0] != 0)
		return NULL;
	size_t n = (size_t)r->data[1] << 24 | (size_t)r->data[2] << 16 | (size_t)r->data[3] << 8 |
	           r->data[4];
	if (n + 5 != r->data_len)
		return NULL;
	*len = n;
	return r->data + 5;
}
