/* gRPC server internals shared by src/net/grpc_*.c.
 *
 * Layers, bottom up:
 *   grpc_frame.c   socket-free gRPC pieces: the length-prefixed message
 *                  reader (limits enforced at the prefix), grpc-timeout,
 *                  grpc-encoding, content-type, grpc-message encoding.
 *   grpc_session.c the nghttp2 server session of a connection: streams
 *                  become calls, answers become frames; PING policing.
 *   grpc_conn.c    one accepted uv_tcp_t feeding that session and writing
 *                  its output; the connection's timers (deadlines,
 *                  keepalive, idle, age); linger and close.
 *   grpc_server.c  listener, connection list, graceful close, public call
 *                  accessors.
 * HTTP/2 itself (framing, HPACK, flow control) is nghttp2's.
 */
#ifndef OTFLOW_NET_GRPC_INTERNAL_H
#define OTFLOW_NET_GRPC_INTERNAL_H

#include "net/net_internal.h"
#include "net/tls_internal.h"
#include "otflow/buf.h"
#include "otflow/grpc_server.h"

#include <nghttp2/nghttp2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* ---- grpc_frame.c ---- */

/* Reads the request messages of one stream from DATA payload bytes fed in
 * any split. Memory grows with the bytes that actually arrived, except for
 * a large message within reserve_max, whose buffer is taken whole at its
 * prefix (after the max_len check) and counted by the caller as held. */
typedef struct otf__grpc_reader {
	size_t max_len;    /* largest message accepted (before decompression) */
	bool has_encoding; /* the stream's grpc-encoding is not identity */
	uint8_t hdr[5];
	uint8_t hdr_len;  /* prefix bytes seen of the current message */
	bool compressed;  /* flag of the current / last message */
	uint32_t msg_len; /* announced length of the current message */
	size_t got;       /* bytes of it received so far */
	otf_buf_t *msg;   /* current message being filled, then the first one */
	uint32_t n_msgs;  /* complete messages */
	/* Set by the caller before a feed: bytes that already arrived behind
	 * the ones fed (the rest of its read buffer). The message's memory
	 * is reserved for those too, so a message read whole is one exact
	 * allocation rather than a doubling chain of copies. 0 = unknown. */
	size_t ahead;
	/* A message of at least OTF__NET_DIRECT_MIN bytes and at most
	 * reserve_max (set by the caller before a feed: what the call may
	 * still hold within its connection's buffer limit; 0 = never) is
	 * allocated whole at its prefix, from pool (NULL = malloc). */
	size_t reserve_max;
	struct otf_bufpool *pool;
	bool reserved; /* the current message's buffer was taken whole */
} otf__grpc_reader_t;

void otf__grpc_reader_init(otf__grpc_reader_t *r, size_t max_len, bool has_encoding);
void otf__grpc_reader_close(otf__grpc_reader_t *r);

/* Consumes len bytes. Returns 0, or a gRPC status code (> 0) with a static
 * *detail when the stream must be answered with that status now:
 * RESOURCE_EXHAUSTED (announced length above max_len), INTERNAL (bad
 * compressed flag, flag without grpc-encoding, a second message on a unary
 * call, no memory: RESOURCE_EXHAUSTED). */
int otf__grpc_reader_feed(otf__grpc_reader_t *r, const uint8_t *data, size_t len,
                          const char **detail);

/* Payload bytes of the current message still due: the client announced
 * them in the prefix, so they arrive unless it resets the stream. 0 when
 * no message is in progress. */
size_t otf__grpc_reader_left(const otf__grpc_reader_t *r);

/* At END_STREAM: exactly one complete message must have arrived. Decodes
 * it per enc (NULL = identity) into *out (a reference the caller owns).
 * Returns 0 or a gRPC status code with *detail. */
int otf__grpc_reader_finish(otf__grpc_reader_t *r, const char *enc, size_t enc_len, otf_buf_t **out,
                            const char **detail);

/* grpc-timeout "1*8DIGIT unit" (H M S m u n) into ns; OTF_E_INVAL if malformed. */
int otf__grpc_parse_timeout(const char *s, size_t n, uint64_t *ns);

/* grpc-encoding: true for identity, gzip, deflate, zstd (the empty value
 * counts as identity); *identity tells which. */
bool otf__grpc_encoding_supported(const char *s, size_t n, bool *identity);

/* "application/grpc", optionally followed by "+subtype" or ";params". */
bool otf__grpc_content_type_ok(const char *s, size_t n);

/* grpc-message percent-encoding (PROTOCOL-HTTP2.md: bytes outside
 * 0x20..0x7E and '%' become %XX). Always NUL-terminates; truncates. */
size_t otf__grpc_percent_encode(const char *msg, char *out, size_t cap);

/* What the server advertises in grpc-accept-encoding. */
#define OTF__GRPC_ACCEPT_ENCODING "identity,gzip,deflate,zstd"

/* ---- grpc_conn.c / grpc_server.c ---- */

/* A read between large messages: the next one's HEADERS, its first DATA
 * frame header and message prefix; the rest then goes straight into the
 * message (grpc_direct.c). */
#define OTF__GRPC_SHORT_READ (16u * 1024)

typedef struct otf__grpc_conn otf__grpc_conn_t;

/* One connection (grpc_conn.c: socket, timer; grpc_session.c: nghttp2). */
struct otf__grpc_conn {
	otf__tls_io_t io; /* the socket, with TLS when the server has it */
	uv_timer_t timer;
	uv_shutdown_t shutdown;
	otf_grpc_server_t *srv;
	otf__grpc_conn_t *prev, *next;
	nghttp2_session *h2;
	otf_grpc_call_t *calls; /* streams attached to this connection */
	uint32_t n_calls;
	int handles_open;
	bool writing;
	bool in_recv;
	bool goaway; /* graceful GOAWAY sent: close once no call is left */
	bool fatal;  /* close as soon as pending output is written */
	bool lingering;
	bool closing;
	bool held;           /* reads nothing until otf_grpc_server_resume (REB backpressure) */
	bool handshake_done; /* the client's preface and SETTINGS arrived */
	/* The last message was taken whole (large): the next read between
	 * messages is short (OTF__GRPC_SHORT_READ), so that the bulk of the
	 * next large message is read in place, not into the read buffer. */
	bool big;
	/* A scatter read (grpc_direct.c) came back short: the socket is empty,
	 * so libuv's next read in this wakeup (it reads again after one that
	 * filled its buffer) would only return EAGAIN; on_alloc skips it with
	 * an empty buffer (on_read then gets UV_ENOBUFS and skipped_read). */
	bool drained;
	bool skipped_read;
	/* Frame boundaries of the client's bytes, tracked ahead of nghttp2
	 * so that a frame trickled byte by byte is noticed. */
	uint8_t preface_left;    /* bytes of the 24-byte preface still due */
	uint8_t fhdr[9];         /* the current frame's header, fhdr_len bytes */
	uint8_t fhdr_len;        /* 0 = between frames */
	uint32_t frame_left;     /* payload bytes of the current frame still due */
	uint64_t frame_start_ms; /* first byte of the current frame */
	size_t buffered;         /* request bytes held by calls not yet complete */
	size_t reserved;         /* of the calls' whole message buffers, not yet filled
	                          * (at most OTF__NET_RESERVE_MAX) */
	/* SO_RCVLOWAT in force (1 = the default, wake on any byte), raised while
	 * a large message is due so that it is read in one wakeup, not one per
	 * segment; since wake_since_ms, for at most OTF__NET_WAKE_HOLD_MS
	 * (net_internal.h). */
	size_t wake_bytes;
	uint64_t wake_since_ms;
	const uint8_t *in, *in_end; /* the bytes nghttp2 is reading, during mem_recv */
	/* Direct reads into a message buffer (grpc_direct.c): the stream and
	 * DATA frame length last seen, a slot for a frame header read alone. */
	int32_t direct_sid;
	uint32_t direct_fs;
	uint8_t direct_hdr[9];
	uint64_t created_ms, last_read_ms, idle_since_ms;
	uint64_t ping_sent_ms; /* our keepalive PING outstanding, 0 = none */
	uint64_t last_client_ping_ms;
	int ping_strikes;
	uint64_t grace_end_ms; /* max_connection_age_grace deadline, 0 = none */
	struct sockaddr_storage peer;
	otf__net_link_t link; /* the loop's connection count (net_conns.c) */
};

struct otf_grpc_server {
	uv_loop_t *loop;
	uv_tcp_t listener;
	struct otf__net_share *share; /* listening socket shared with the group */
	struct otf__net_conns *reg;   /* the loop's connection count (net_conns.c) */
	otf__net_waiter_t waiter;     /* queued there while accept is paused */
	int slot;                     /* in the share's accept balance (-1: none) */
	uv_timer_t defer;             /* accept deferred while this loop is ahead */
	bool defer_closed;
	otf_grpc_server_config_t cfg; /* defaults applied; host not kept */
	otf_grpc_handler_cb handler;
	void *ctx;
	otf__grpc_conn_t *conns;
	uint32_t n_conns;
	bool closing;
	bool listener_closed;
	char *rbuf; /* the shared read buffer (grpc_conn.c), while connections exist */
	/* Scatter reads straight into messages, and of them those whose
	 * framing was guessed wrong (grpc_direct.c; read by tests). */
	uint64_t direct_reads, direct_misses;
	otf_grpc_server_close_cb close_cb;
	void *close_arg;
};

/* One stream = one call. Owned by its connection until handed to the
 * handler; then the handler's answer frees it (conn NULL = orphaned, the
 * stream is gone). */
struct otf_grpc_call {
	otf__grpc_conn_t *conn; /* NULL once the stream or connection is gone */
	int32_t stream_id;
	otf_grpc_call_t *prev, *next; /* the connection's open streams */
	char *hdr;                    /* name\0value\0name\0value\0... */
	size_t hdr_len, hdr_cap;
	uint32_t n_hdrs;
	otf__grpc_reader_t reader;
	size_t buffered;    /* DATA bytes counted in conn->buffered */
	size_t reserved;    /* its message's length counted in conn->reserved */
	otf_buf_t *message; /* decoded request message */
	uint64_t timeout_ns;
	uint64_t deadline_mono_ms; /* uv_now-based; 0 = none */
	uint64_t deadline_unix_ns;
	/* response being sent */
	uint8_t *resp;
	size_t resp_len, resp_off;
	bool with_handler;  /* dispatched, not yet answered by the handler */
	bool answered;      /* response or status submitted */
	bool gone_reported; /* cfg.call_gone called for it */
	uint32_t retry_ms;  /* RetryInfo in a refusal's status details; 0 = none */
	bool headers_done;  /* request HEADERS complete */
	uint64_t begun_ms;  /* the request header block started */
	bool rst_after;     /* reset (NO_ERROR) once our END_STREAM is out:
	                    * the client may still be sending */
	int status;         /* grpc-status of the response */
	char status_msg[256];
	/* grpc-status-details-bin of a status answer, base64 (borrowed for
	 * the submit only: nghttp2 copies header values) */
	const char *details_b64;
	size_t details_b64_len;
	struct sockaddr_storage peer;
	char *tls_subject; /* the connection's verified client certificate, copied */
};

void otf__grpc_conn_accept(otf_grpc_server_t *s);
otf__grpc_conn_t *otf__grpc_conn_next(const otf__grpc_conn_t *c);
/* Backpressure: the connection stops / starts reading (REB, admit_status
 * asking to hold). */
void otf__grpc_conn_hold(otf__grpc_conn_t *c);
void otf__grpc_conn_resume(otf__grpc_conn_t *c);
/* GOAWAY; idle connections close now, busy ones after their calls. */
void otf__grpc_conn_drain(otf__grpc_conn_t *c);
void otf__grpc_server_conn_gone(otf_grpc_server_t *s);

/* Configured sizes with defaults applied (0 = default). */
size_t otf__grpc_read_buffer_bytes(const otf_grpc_server_t *s);
size_t otf__grpc_conn_buffer_limit(const otf_grpc_server_t *s);
/* The call's buffered bytes no longer count against its connection. */
void otf__grpc_call_unbuffer(otf__grpc_conn_t *c, otf_grpc_call_t *call);

/* ms on the server loop's clock. */
static inline uint64_t otf__grpc_now_ms(const otf__grpc_conn_t *c)
{
	return uv_now(c->srv->loop);
}

/* Feeds the client's bytes p[0..n) to the session (frame tracking, then
 * nghttp2); a session error ends the connection (fatal). */
void otf__grpc_conn_input(otf__grpc_conn_t *c, const uint8_t *p, size_t n);
/* Closes the connection now (out of memory, a broken socket). */
void otf__grpc_conn_fail(otf__grpc_conn_t *c);

/* grpc_direct.c: reading a large message straight into its buffer.
 * alloc: true with *buf set when the next read should land there (on_alloc);
 * drain: after such a read filled its buffer, scatter reads of the rest. */
bool otf__grpc_direct_alloc(otf__grpc_conn_t *c, uv_buf_t *buf);
void otf__grpc_direct_drain(otf__grpc_conn_t *c);

/* grpc_session.c */
int otf__grpc_session_new(otf__grpc_conn_t *c);
/* The stream is gone: a call the handler holds becomes an orphan whose
 * answer is a no-op; any other is freed. */
void otf__grpc_call_detach(otf__grpc_conn_t *c, otf_grpc_call_t *call);
/* Trailers-Only status before (or instead of) the handler; req_ended false
 * resets the stream after our END_STREAM, since the client may still send. */
void otf__grpc_early_status(otf__grpc_conn_t *c, otf_grpc_call_t *call, bool req_ended, int http,
                            int code, const char *message);

/* grpc_conn.c: write pending session output (deferred while inside
 * nghttp2's receive), and re-evaluate the connection's timers. */
void otf__grpc_conn_flush(otf__grpc_conn_t *c);
void otf__grpc_conn_tick(otf__grpc_conn_t *c);

/* Submits the answer of a call still attached to its connection. */
int otf__grpc_conn_answer(otf_grpc_call_t *call, int status, const char *message, const void *msg,
                          size_t len);
void otf__grpc_call_free(otf_grpc_call_t *call);

/* A call with the handler stops being alive (why: OTF_GRPC_CANCELLED for
 * a reset stream or a lost connection, OTF_GRPC_DEADLINE_EXCEEDED): tells
 * the handler once (cfg.call_gone). */
void otf__grpc_call_gone(otf__grpc_conn_t *c, otf_grpc_call_t *call, int why);

/* in (len bytes) as base64 without padding, the form of gRPC binary metadata
 * (PROTOCOL-HTTP2.md, "-bin" headers), NUL-terminated into out; stops before
 * a group that would not fit cap (cap >= (len + 2) / 3 * 4 + 1 takes all).
 * Returns the characters written. */
size_t otf__grpc_b64(const uint8_t *in, size_t len, char *out, size_t cap);

#endif
