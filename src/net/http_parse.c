/* Socket-free HTTP/1.1 request parser: http_parser plus our limits.
 *
 * http_parser hands out the request line and headers in pieces that may be
 * split anywhere across reads, so they are copied into one growing block
 * (msg->head) and referenced by offset. The parser pauses itself after each
 * complete message so that pipelined requests are delivered one at a time
 * and the caller decides when to look at the next one. */
#include "net/http_internal.h"

#include "otflow/alloc.h"
#include "otflow/bufpool.h"
#include "otflow/err.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { CB_NONE, CB_URL, CB_FIELD, CB_VALUE };

/* Bytes charged per header field for ": " and CRLF, so that many tiny
 * headers count against max_header_bytes too. */
#define HDR_OVERHEAD 4

static otf__http_parser_t *parser_of(http_parser *hp)
{
	return hp->data;
}

/* Stops the parse: http_parser turns a non-zero callback result into an
 * HPE_CB_* error; the status we set here takes precedence over it. */
static int fail(otf__http_parser_t *p, int status, const char *msg)
{
	if (!p->err_status) {
		p->err_status = status;
		p->err_msg = msg;
	}
	return -1;
}

static int head_append(otf__http_parser_t *p, const char *at, size_t len)
{
	otf__http_msg_t *m = p->msg;
	if (m->head_len + len > UINT32_MAX)
		return fail(p, 431, "request header fields too large");
	if (m->head_len + len > m->head_cap) {
		size_t cap = m->head_cap ? m->head_cap : 512;
		while (cap < m->head_len + len)
			cap *= 2;
		char *n = otf_realloc(m->head, cap);
		if (!n)
			return fail(p, 500, "out of memory");
		m->head = n;
		m->head_cap = cap;
	}
	memcpy(m->head + m->head_len, at, len);
	m->head_len += len;
	return 0;
}

/* Ends the piece (url, name or value) being collected with a NUL so that
 * every string in head is also a C string. */
static int end_piece(otf__http_parser_t *p)
{
	otf__http_msg_t *m = p->msg;
	if (p->last_cb == CB_VALUE) {
		otf__http_hdr_t *h = &m->hdrs[m->n_hdrs - 1];
		while (h->value_len && (m->head[h->value_off + h->value_len - 1] == ' ' ||
		                        m->head[h->value_off + h->value_len - 1] == '\t'))
			h->value_len--;
		m->head_len = h->value_off + h->value_len; /* drop the blanks */
	}
	if (p->last_cb == CB_NONE)
		return 0;
	return head_append(p, "", 1);
}

static int count_head(otf__http_parser_t *p, size_t len)
{
	p->head_bytes += len;
	if (p->head_bytes > p->max_header_bytes)
		return fail(p, 431, "request header fields too large");
	return 0;
}

static int on_message_begin(http_parser *hp)
{
	otf__http_parser_t *p = parser_of(hp);
	p->msg = otf_calloc(1, sizeof *p->msg);
	if (!p->msg)
		return fail(p, 500, "out of memory");
	p->head_bytes = 0;
	p->last_cb = CB_NONE;
	p->headers_done = false;
	p->body_expect = 0;
	return 0;
}

static int on_url(http_parser *hp, const char *at, size_t len)
{
	otf__http_parser_t *p = parser_of(hp);
	if (count_head(p, len) || head_append(p, at, len))
		return -1;
	p->msg->url_len += (uint32_t)len;
	p->last_cb = CB_URL;
	return 0;
}

static int on_header_field(http_parser *hp, const char *at, size_t len)
{
	otf__http_parser_t *p = parser_of(hp);
	otf__http_msg_t *m = p->msg;
	if (p->last_cb != CB_FIELD) {
		if (m->n_hdrs == OTF__HTTP_MAX_HEADERS)
			return fail(p, 431, "too many header fields");
		if (end_piece(p) || count_head(p, HDR_OVERHEAD))
			return -1;
		m->hdrs[m->n_hdrs++] = (otf__http_hdr_t){.name_off = (uint32_t)m->head_len};
		p->last_cb = CB_FIELD;
	}
	if (count_head(p, len) || head_append(p, at, len))
		return -1;
	m->hdrs[m->n_hdrs - 1].name_len += (uint32_t)len;
	return 0;
}

static int on_header_value(http_parser *hp, const char *at, size_t len)
{
	otf__http_parser_t *p = parser_of(hp);
	otf__http_msg_t *m = p->msg;
	if (p->last_cb != CB_VALUE) {
		if (end_piece(p))
			return -1;
		m->hdrs[m->n_hdrs - 1].value_off = (uint32_t)m->head_len;
		p->last_cb = CB_VALUE;
	}
	if (count_head(p, len) || head_append(p, at, len))
		return -1;
	m->hdrs[m->n_hdrs - 1].value_len += (uint32_t)len;
	return 0;
}

/* A header with a name but no value callback (empty value) still needs its
 * value offset to point at a NUL. */
static void fix_empty_values(otf__http_msg_t *m)
{
	for (uint32_t i = 0; i < m->n_hdrs; i++) {
		otf__http_hdr_t *h = &m->hdrs[i];
		if (h->value_off == 0 && h->value_len == 0)
			h->value_off = h->name_off + h->name_len; /* the name's NUL */
	}
}

static int on_headers_complete(http_parser *hp)
{
	otf__http_parser_t *p = parser_of(hp);
	otf__http_msg_t *m = p->msg;
	if (end_piece(p))
		return -1;
	p->last_cb = CB_NONE;
	fix_empty_values(m);
	m->method = (uint8_t)hp->method;
	m->http_major = (uint8_t)hp->http_major;
	m->http_minor = (uint8_t)hp->http_minor;

	/* Refuse an announced oversize body before reading any of it. */
	if ((hp->flags & F_CONTENTLENGTH) && hp->content_length > p->max_body_bytes)
		return fail(p, 413, "request body larger than the configured limit");

	const otf__http_hdr_t *e = otf__http_msg_header(m, "expect", 6);
	if (e && hp->http_major == 1 && hp->http_minor >= 1 &&
	    e->value_len == strlen("100-continue") &&
	    strncasecmp(m->head + e->value_off, "100-continue", e->value_len) == 0)
		p->expect_continue = true;

	/* No body memory yet: an announced length is only a promise. */
	p->body_expect = (hp->flags & F_CONTENTLENGTH) ? (size_t)hp->content_length : 0;
	p->headers_done = true;
	return 0;
}

int otf__net_buf_grow(otf_buf_t **bp, size_t need, size_t bound)
{
	otf_buf_t *b = *bp;
	size_t cap = b ? b->cap : 0;
	if (need <= cap)
		return 0;
	if (need > bound)
		return OTF_E_TOO_LARGE;
	size_t ncap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
	if (ncap < OTF__NET_BUF_FIRST)
		ncap = OTF__NET_BUF_FIRST;
	if (ncap < need)
		ncap = need;
	if (ncap > bound)
		ncap = bound;
	if (!b) {
		otf_buf_t *n = otf_buf_create(ncap);
		if (!n)
			return OTF_E_NOMEM;
		*bp = n;
		return 0;
	}
	if (b->flags & OTF_BUF_POOLED) /* pool memory: move the bytes */
		return otf_buf_reserve(bp, ncap) < 0 ? OTF_E_NOMEM : 0;
	/* realloc, not create + copy: large blocks are mmap'd by the C
	 * library and grow in place (mremap) without copying or faulting
	 * their pages again. */
	otf_buf_t *n = otf_realloc(b, sizeof *n + ncap);
	if (!n)
		return OTF_E_NOMEM;
	n->cap = ncap;
	*bp = n;
	return 0;
}

static int on_body(http_parser *hp, const char *at, size_t len)
{
	otf__http_parser_t *p = parser_of(hp);
	otf__http_msg_t *m = p->msg;
	size_t have = m->body ? m->body->len : 0;
	/* Chunked bodies have no announced size: count as they arrive. */
	if (len > p->max_body_bytes - have)
		return fail(p, 413, "request body larger than the configured limit");
	/* Grow with the bytes that arrived, never further than announced. */
	size_t bound = p->body_expect ? p->body_expect : p->max_body_bytes;
	if (!m->body && p->body_expect >= OTF__NET_DIRECT_MIN && p->body_expect <= p->reserve_max) {
		/* The body has begun: its whole buffer, from the pool. */
		if (!(m->body = otf_bufpool_get(p->pool, p->body_expect)))
			return fail(p, 500, "out of memory");
	}
	if (otf__net_buf_grow(&m->body, have + len, bound) < 0)
		return fail(p, 500, "out of memory");
	if (m->body->data + have != (const uint8_t *)at) /* else read in place */
		memcpy(m->body->data + have, at, len);
	m->body->len = have + len;
	return 0;
}

static int on_message_complete(http_parser *hp)
{
	otf__http_parser_t *p = parser_of(hp);
	p->msg->keep_alive = http_should_keep_alive(hp) != 0;
	p->complete = true;
	http_parser_pause(hp, 1);
	return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void otf__http_parser_init(otf__http_parser_t *p, size_t max_header_bytes, size_t max_body_bytes)
{
	memset(p, 0, sizeof *p);
	http_parser_init(&p->hp, HTTP_REQUEST);
	p->hp.data = p;
	p->max_header_bytes = max_header_bytes;
	p->max_body_bytes = max_body_bytes;
}

void otf__http_parser_close(otf__http_parser_t *p)
{
	otf__http_msg_destroy(p->msg);
	p->msg = NULL;
}

size_t otf__http_parser_feed(otf__http_parser_t *p, const char *data, size_t len,
                             otf__http_ev_t *ev)
{
	*ev = OTF__HTTP_EV_NONE;
	if (p->err_status) {
		*ev = OTF__HTTP_EV_ERROR;
		return 0;
	}
	if (p->complete) {
		*ev = OTF__HTTP_EV_MESSAGE;
		return 0;
	}
	if (len == 0) /* http_parser would take 0 bytes as end of stream */
		return 0;
	if (HTTP_PARSER_ERRNO(&p->hp) == HPE_PAUSED)
		http_parser_pause(&p->hp, 0);
	size_t n = http_parser_execute(&p->hp, &settings, data, len);
	/* A request line without a version is HTTP/0.9, for which
	 * http_parser then waits for headers that never come: refuse it at
	 * once instead of holding the connection until a timeout. */
	if (p->msg && p->hp.http_major == 0 && p->hp.http_minor == 9) {
		fail(p, 400, "HTTP/0.9 requests are not supported (no HTTP version)");
		*ev = OTF__HTTP_EV_ERROR;
		return n;
	}
	if (p->complete) {
		/* Upgrade/CONNECT: the rest is another protocol we do not
		 * speak; answer this request and close. */
		if (p->hp.upgrade)
			p->msg->keep_alive = false;
		*ev = OTF__HTTP_EV_MESSAGE;
		return n;
	}
	enum http_errno e = HTTP_PARSER_ERRNO(&p->hp);
	if (e != HPE_OK || p->err_status) {
		if (e == HPE_HEADER_OVERFLOW)
			fail(p, 431, "request header fields too large");
		else
			fail(p, 400, http_errno_description(e));
		*ev = OTF__HTTP_EV_ERROR;
	}
	return n;
}

otf__http_msg_t *otf__http_parser_take(otf__http_parser_t *p)
{
	if (!p->complete)
		return NULL;
	otf__http_msg_t *m = p->msg;
	p->msg = NULL;
	p->complete = false;
	p->expect_continue = false;
	p->head_bytes = 0;
	p->last_cb = CB_NONE;
	return m;
}

bool otf__http_parser_mid_request(const otf__http_parser_t *p)
{
	return p->msg && !p->complete;
}

bool otf__http_parser_in_head(const otf__http_parser_t *p)
{
	return p->msg && !p->complete && !p->headers_done;
}

void otf__http_msg_destroy(otf__http_msg_t *m)
{
	if (!m)
		return;
	otf_buf_unref(m->body);
	otf_free(m->head);
	otf_free(m);
}

const otf__http_hdr_t *otf__http_msg_header(const otf__http_msg_t *m, const char *name,
                                            size_t name_len)
{
	for (uint32_t i = 0; i < m->n_hdrs; i++) {
		const otf__http_hdr_t *h = &m->hdrs[i];
		if (h->name_len == name_len &&
		    strncasecmp(m->head + h->name_off, name, name_len) == 0)
			return h;
	}
	return NULL;
}
