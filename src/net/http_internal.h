/* HTTP server internals shared by src/net/http_*.c and http2_session.c.
 *
 * Layers, bottom up:
 *   http_parse.c     socket-free request parser on top of http_parser:
 *                    feed bytes, get one event at a time; enforces the
 *                    header and body limits.
 *   http_encoding.c  Content-Encoding decompression, bounded.
 *   http2_session.c  socket-free HTTP/2 (nghttp2) server session: streams
 *                    become the same requests, for h2 / h2c connections.
 *   http_request.c   the request the handler gets: accessors, freeing.
 *   http_conn.c      one accepted uv_tcp_t: read, parse, dispatch, respond.
 *   http_server.c    listener, connection list, graceful close.
 */
#ifndef OTFLOW_NET_HTTP_INTERNAL_H
#define OTFLOW_NET_HTTP_INTERNAL_H

#include "net/net_internal.h"
#include "net/tls_internal.h"
#include "otflow/buf.h"
#include "otflow/http_server.h"

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* More headers than this in one request is answered with 431. */
#define OTF__HTTP_MAX_HEADERS 100

typedef struct otf__http_hdr {
	uint32_t name_off, name_len;
	uint32_t value_off, value_len;
} otf__http_hdr_t;

/* One parsed request. Strings live in head (each NUL-terminated); body is
 * the raw (still encoded) body, NULL when empty. */
typedef struct otf__http_msg {
	char *head; /* url, then name, value, name, value... */
	size_t head_len, head_cap;
	uint32_t url_off, url_len;
	otf__http_hdr_t hdrs[OTF__HTTP_MAX_HEADERS];
	uint32_t n_hdrs;
	otf_buf_t *body;
	uint8_t method; /* enum http_method */
	uint8_t http_major, http_minor;
	bool keep_alive;
} otf__http_msg_t;

void otf__http_msg_destroy(otf__http_msg_t *m);

/* Case-insensitive lookup; the first match, or NULL. */
const otf__http_hdr_t *otf__http_msg_header(const otf__http_msg_t *m, const char *name,
                                            size_t name_len);

typedef enum otf__http_ev {
	OTF__HTTP_EV_NONE = 0, /* everything consumed, need more bytes */
	OTF__HTTP_EV_MESSAGE,  /* a request is complete: take it */
	OTF__HTTP_EV_ERROR,    /* the stream is unusable: answer err_status, close */
} otf__http_ev_t;

typedef struct otf__http_parser {
	http_parser hp;
	size_t max_header_bytes;
	size_t max_body_bytes;
	otf__http_msg_t *msg; /* message being built, NULL between messages */
	size_t head_bytes;    /* request-line and header bytes counted so far */
	int last_cb;          /* which data callback ran last (continuations) */
	bool headers_done;    /* msg's request line and headers are complete */
	size_t body_expect;   /* announced Content-Length, 0 = none / chunked */
	/* A Content-Length body of at least OTF__NET_DIRECT_MIN and at most
	 * reserve_max bytes (0 = never; set by the connection) is allocated
	 * whole at its first bytes, from pool (NULL = malloc), so that the
	 * connection can read the rest straight into it (http_conn.c). */
	size_t reserve_max;
	struct otf_bufpool *pool;
	bool complete;        /* msg is done; feed returned EV_MESSAGE */
	bool expect_continue; /* the client waits for "100 Continue" */
	int err_status;       /* HTTP status to answer with after EV_ERROR */
	const char *err_msg;  /* static text for that answer */
} otf__http_parser_t;

/* Limits are in bytes and must be non-zero. Allocates nothing. */
void otf__http_parser_init(otf__http_parser_t *p, size_t max_header_bytes, size_t max_body_bytes);
void otf__http_parser_close(otf__http_parser_t *p);

/* Parses up to len bytes. Returns how many were consumed and sets *ev.
 * After EV_MESSAGE, the unconsumed rest belongs to the next request: call
 * otf__http_parser_take() before feeding it. After EV_ERROR the parser is
 * dead; err_status / err_msg say why (400, 413, 431, 500). Body memory is
 * allocated as body bytes arrive (otf__net_buf_grow), never at the
 * announced Content-Length before its first byte; a large one within
 * reserve_max is then taken whole (see reserve_max). */
size_t otf__http_parser_feed(otf__http_parser_t *p, const char *data, size_t len,
                             otf__http_ev_t *ev);

/* Hands over the completed message (caller destroys it) and readies the
 * parser for the next one. NULL if no message is complete. */
otf__http_msg_t *otf__http_parser_take(otf__http_parser_t *p);

/* True while some bytes of a request have been seen but it is not complete. */
bool otf__http_parser_mid_request(const otf__http_parser_t *p);
/* True while a request has begun but its headers are not complete. */
bool otf__http_parser_in_head(const otf__http_parser_t *p);

/* Request bodies and gRPC messages grow with the bytes that arrived: the
 * first allocation is at least this, then capacity doubles, never beyond
 * what was announced. A whole body that arrives in one piece costs one
 * exact allocation. */
#define OTF__NET_BUF_FIRST 4096

/* Makes *bp (NULL = none yet) hold at least need bytes: capacity
 * max(need, 2 x old, OTF__NET_BUF_FIRST), capped at bound. Contents are
 * kept; *bp must have one holder. OTF_E_TOO_LARGE if need > bound,
 * OTF_E_NOMEM (then *bp is unchanged). */
int otf__net_buf_grow(otf_buf_t **bp, size_t need, size_t bound);

/* Decodes body per the Content-Encoding value enc (NULL/empty = identity).
 * On success *out holds a reference the caller owns (identity returns a new
 * reference to in; in may be NULL for an empty body, then *out is NULL).
 * Errors: OTF_E_TOO_LARGE (decoded size above max_out -> 413),
 * OTF_E_UNSUPPORTED (unknown encoding -> 415), OTF_E_INVAL (corrupt data ->
 * 400), OTF_E_NOMEM. *detail gets a static human-readable reason. */
int otf__http_decode(const char *enc, size_t enc_len, otf_buf_t *in, size_t max_out,
                     otf_buf_t **out, const char **detail);

/* Connections (http_conn.c) and the server they belong to. */
typedef struct otf__http_conn otf__http_conn_t;

struct otf_http_server {
	uv_loop_t *loop;
	uv_tcp_t listener;
	struct otf__net_share *share; /* listening socket shared with the group */
	struct otf__net_conns *reg;   /* the loop's connection count (net_conns.c) */
	uint64_t direct_reads;        /* reads straight into a body (http_conn.c; tests) */
	otf__net_waiter_t waiter;     /* queued there while accept is paused */
	int slot;                     /* in the share's accept balance (-1: none) */
	uv_timer_t defer;             /* accept deferred while this loop is ahead */
	bool defer_closed;
	otf_http_server_config_t cfg; /* defaults applied; host not kept */
	otf_http_handler_cb handler;
	void *ctx;
	otf__http_conn_t *conns; /* doubly linked list of live connections */
	uint32_t n_conns;
	bool closing;
	bool listener_closed;
	otf_http_server_close_cb close_cb;
	void *close_arg;
};

/* One accepted connection (http_conn.c) and a request given to the
 * handler; shared with http2_session.c. */
typedef struct otf__http2 otf__http2_t;

struct otf__http_conn {
	otf__tls_io_t io; /* the socket, with TLS when the server has it */
	uv_timer_t timer;
	uv_shutdown_t shutdown;
	otf_http_server_t *srv;
	otf__http_conn_t *prev, *next;
	otf__http_parser_t parser;
	otf_http_request_t *cur; /* with the handler, not yet answered */
	uint64_t req_start_ms;   /* first byte of the request being read (loop
	                          * clock), or the accept; 0 = between requests */
	char *rbuf;              /* RBUF_CAP bytes while needed, else NULL */
	size_t rlen;
	int handles_open;
	bool reading;
	bool writing;       /* a final answer is being written */
	bool last_answer;   /* close (linger) once the answer is written */
	bool continue_sent; /* "100 Continue" sent for the current request */
	bool lingering;
	bool closing;
	bool held; /* reads nothing until otf_http_server_resume (REB backpressure) */
	/* The last request's body was large (taken whole): the read between
	 * requests is short, so that the next body's bulk is read straight
	 * into it rather than through the read buffer (http_conn.c). */
	bool big;
	struct sockaddr_storage peer;
	otf__net_link_t link; /* the loop's connection count (net_conns.c) */
	/* HTTP/2 (http2_session.c): chosen by ALPN "h2" or by the client's
	 * connection preface in its first bytes (h2c with prior knowledge). */
	bool proto_known; /* HTTP/1.1 or HTTP/2 decided */
	bool h2_writing;  /* a write of session output is in flight */
	otf__http2_t *h2; /* the session, NULL = HTTP/1.1 */
};

struct otf_http_request {
	otf__http_conn_t *conn; /* NULL once the client is gone */
	otf__http_msg_t *msg;
	otf_buf_t *body; /* decoded */
	otf_http_str_t path, query;
	struct sockaddr_storage peer;
	char *tls_subject;             /* the connection's verified client certificate, copied */
	struct otf__http2_stream *h2s; /* HTTP/2: its stream, NULL = HTTP/1.1 or
	                                * the stream is gone (then conn is NULL) */
};

/* Accepts one pending connection from the listener. */
void otf__http_conn_accept(otf_http_server_t *s);

otf__http_conn_t *otf__http_conn_next(const otf__http_conn_t *c);

/* Graceful close: idle connections close now, busy ones after their
 * current response. */
void otf__http_conn_drain(otf__http_conn_t *c);

/* Backpressure (otf_http_request_hold_connection): reads again, and
 * parses what was read before the hold; no-op when not held. */
void otf__http_conn_resume(otf__http_conn_t *c);
bool otf__http_conn_held(const otf__http_conn_t *c);

/* Called by a connection once its handles are closed and it is unlinked. */
void otf__http_server_conn_gone(otf_http_server_t *s);

/* ---- HTTP/2 (http2_session.c) ----
 * The nghttp2 server session of one connection, socket- and TLS-free:
 * bytes in through otf__http2_recv, bytes out through otf__http2_send,
 * which the connection (http_conn.c) writes. Each stream is one request:
 * :method, :path and the header fields become an otf__http_msg_t (with
 * :authority as Host when the client sent none), the DATA frames its
 * body, so that the handler sees exactly what HTTP/1.1 gives it; the
 * same limits and answers apply (413, 415, 400, 431), per stream. */

/* The preface an HTTP/2 client sends first (RFC 9113, 3.4). */
#define OTF__HTTP2_PREFACE     "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define OTF__HTTP2_PREFACE_LEN 24

/* A session on c, with our SETTINGS queued. NULL on ENOMEM. */
otf__http2_t *otf__http2_new(otf__http_conn_t *c);
/* Frees the session; requests with the handler become "not alive". */
void otf__http2_free(otf__http2_t *h);
/* Feeds the client's bytes. A negative return: the connection is broken
 * (not HTTP/2, a flood): a GOAWAY is queued, close once it is written. */
int otf__http2_recv(otf__http2_t *h, const uint8_t *data, size_t len);
/* Next output bytes (valid until the next call), 0 = none, < 0 fatal. */
ssize_t otf__http2_send(otf__http2_t *h, const uint8_t **data);
/* Nothing more to read nor write: the connection may close. */
bool otf__http2_done(const otf__http2_t *h);
/* Requests with the handler, not yet answered. */
uint32_t otf__http2_pending(const otf__http2_t *h);
/* Graceful close: GOAWAY, the streams begun are still answered. */
void otf__http2_goaway(otf__http2_t *h);
/* otf_http_respond for a request that came over HTTP/2; the same rules
 * (-ECONNRESET, a no-op but the free, once its stream is gone). */
int otf__http2_respond(otf_http_request_t *r, int status, const char *ctype, const void *body,
                       size_t len, const otf_http_header_t *extra, size_t n_extra);
/* http_conn.c: the session has output (from outside a read callback). */
void otf__http_conn_h2_flush(otf__http_conn_t *c);
/* http_request.c: frees a request (shared by both protocols). */
void otf__http_request_free(otf_http_request_t *r);
/* http_request.c: path and query of r->msg's target into r. */
void otf__http_split_target(otf_http_request_t *r);
/* http_request.c: the Content-Encoding error's status (413, 415, 400, 500). */
int otf__http_decode_status(int rc);

#endif
