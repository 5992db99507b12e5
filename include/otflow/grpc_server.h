/* gRPC server (unary calls) over HTTP/2 cleartext on a libuv loop: the
 * transport under the OTLP/gRPC receiver (OTLP spec, "OTLP/gRPC").
 *
 * HTTP/2 is nghttp2's (server session, HPACK, flow control, SETTINGS,
 * PING, GOAWAY). The gRPC layer on top is ours, from grpc/grpc
 * doc/PROTOCOL-HTTP2.md and doc/compression.md: the 5-byte message prefix
 * (compressed flag, big-endian uint32 length), grpc-timeout, grpc-encoding
 * (gzip, zstd, deflate, identity), and the answer as HEADERS + DATA +
 * trailers (grpc-status 0) or a Trailers-Only HEADERS frame carrying
 * grpc-status and the percent-encoded grpc-message.
 *
 * One server = one listening handle on one loop; create one per worker
 * loop on the same host:port with the same share_group, as with
 * otflow/http_server.h (one exclusively bound socket per process).
 *
 * Each call whose request message arrived complete (one message, then
 * END_STREAM) and decompressed is handed to the handler, which answers with
 * otf_grpc_respond() or otf_grpc_respond_status() exactly once, now or
 * later on the same loop. Calls of one connection run concurrently, up to
 * max_concurrent_streams.
 *
 * Answered by the server itself, without calling the handler:
 *   RESOURCE_EXHAUSTED  a message longer than max_recv_msg_bytes, before
 *                       compression (refused at its 5-byte prefix, before
 *                       any of it is buffered) or after it; a DATA chunk
 *                       that would take the connection's buffered request
 *                       bytes above max_conn_buffer_bytes
 * Memory follows the bytes that arrived: a message buffer grows as its
 * DATA arrives (doubling, capped at the announced length), never to a
 * length the prefix merely announces.
 *   UNIMPLEMENTED       an unknown grpc-encoding (with grpc-accept-encoding)
 *                       (also when cfg.admit refuses the call at its headers)
 *   INTERNAL            compressed flag set without a grpc-encoding, a flag
 *                       other than 0/1, corrupt compressed data, zero or
 *                       more than one request message, a malformed
 *                       grpc-timeout
 *   DEADLINE_EXCEEDED   grpc-timeout passed before the handler answered
 *                       (the handler's later answer is then a no-op)
 *   HTTP 405 / 415      :method other than POST / content-type other than
 *                       application/grpc[+proto|;...] (PROTOCOL-HTTP2.md
 *                       asks for 415; grpc-status UNIMPLEMENTED / INTERNAL)
 * A connection that does not speak HTTP/2 (bad preface, invalid frames) is
 * sent GOAWAY(PROTOCOL_ERROR) when possible and closed. Slow clients:
 * the preface and first SETTINGS frame must arrive within frame_timeout_ms
 * of the accept, every later frame within frame_timeout_ms of its first
 * byte, and a request's header block (HEADERS + CONTINUATION) within
 * frame_timeout_ms of its start; otherwise the connection is closed, so a
 * client trickling bytes holds it no longer than that.
 *
 * Keepalive, like grpc-go's keepalive.ServerParameters and
 * EnforcementPolicy (the Collector's configgrpc keepalive block):
 *   max_connection_idle: no open call for this long -> GOAWAY, close.
 *   max_connection_age: GOAWAY after this long; calls in progress get
 *     max_connection_age_grace more, then the connection is closed.
 *   time / timeout: after `time` without any frame from the client, send a
 *     PING; no PING ACK within `timeout` -> close.
 *   min_time / permit_without_stream: a client PING sooner than min_time
 *     after the previous one, or any PING while no call is open when
 *     permit_without_stream is false, is a strike; the third strike (grpc-go
 *     allows two) -> GOAWAY(ENHANCE_YOUR_CALM, "too_many_pings"), close.
 *     Strikes reset whenever the server sends HEADERS or DATA.
 *
 * Thread rules: a server, its calls and every function below belong to the
 * thread running the server's loop. Only the message buffer (otf_buf_t,
 * atomically refcounted) may travel to other threads.
 *
 * Errors: 0 on success, negative on failure: libuv/system errors are
 * -errno, otflow's own are OTF_E_* (otflow/err.h).
 */
#ifndef OTFLOW_GRPC_SERVER_H
#define OTFLOW_GRPC_SERVER_H

#include "otflow/buf.h"
#include "otflow/http_server.h" /* otf_http_str_t */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#ifdef __cplusplus
extern "C" {
#endif

/* gRPC status codes (grpc/grpc doc/statuscodes.md). */
typedef enum otf_grpc_status {
	OTF_GRPC_OK = 0,
	OTF_GRPC_CANCELLED = 1,
	OTF_GRPC_UNKNOWN = 2,
	OTF_GRPC_INVALID_ARGUMENT = 3,
	OTF_GRPC_DEADLINE_EXCEEDED = 4,
	OTF_GRPC_NOT_FOUND = 5,
	OTF_GRPC_ALREADY_EXISTS = 6,
	OTF_GRPC_PERMISSION_DENIED = 7,
	OTF_GRPC_RESOURCE_EXHAUSTED = 8,
	OTF_GRPC_FAILED_PRECONDITION = 9,
	OTF_GRPC_ABORTED = 10,
	OTF_GRPC_OUT_OF_RANGE = 11,
	OTF_GRPC_UNIMPLEMENTED = 12,
	OTF_GRPC_INTERNAL = 13,
	OTF_GRPC_UNAVAILABLE = 14,
	OTF_GRPC_DATA_LOSS = 15,
	OTF_GRPC_UNAUTHENTICATED = 16,
} otf_grpc_status_t;

/* "OK", "CANCELLED", ... ; "UNKNOWN" for codes outside 0..16. */
const char *otf_grpc_status_name(int code);

typedef struct otf_grpc_server otf_grpc_server_t;
typedef struct otf_grpc_call otf_grpc_call_t;

#define OTF_GRPC_DEFAULT_MAX_RECV_MSG_BYTES     (4u * 1024 * 1024)
#define OTF_GRPC_DEFAULT_MAX_CONCURRENT_STREAMS 100u
#define OTF_GRPC_DEFAULT_MAX_CONNECTIONS        4096u
#define OTF_GRPC_DEFAULT_KEEPALIVE_TIME_MS      (2u * 3600 * 1000)
#define OTF_GRPC_DEFAULT_KEEPALIVE_TIMEOUT_MS   20000u
#define OTF_GRPC_DEFAULT_MIN_PING_TIME_MS       (5u * 60 * 1000)
#define OTF_GRPC_DEFAULT_FRAME_TIMEOUT_MS       20000u
#define OTF_GRPC_DEFAULT_READ_BUFFER_BYTES      (64u * 1024)
#define OTF_GRPC_DEFAULT_WRITE_BUFFER_BYTES     (256u * 1024)
/* Default per-connection bound on buffered request bytes: the larger of
 * this and twice max_recv_msg_bytes. */
#define OTF_GRPC_DEFAULT_MAX_CONN_BUFFER_BYTES (16u * 1024 * 1024)

/* Zero fields take the defaults above; durations in ms, 0 = default for
 * time/timeout/min_time and "never" for the max_connection_* ones. */
typedef struct otf_grpc_server_config {
	const char *host;                /* NULL or "" = 0.0.0.0; resolved once,
	                                 * blocking, in create */
	uint16_t port;                   /* 0 = ephemeral (see bound_port) */
	size_t max_recv_msg_bytes;       /* one request message, compressed or not */
	uint32_t max_concurrent_streams; /* SETTINGS_MAX_CONCURRENT_STREAMS */
	uint32_t max_connections;        /* beyond this, closed at accept */
	uint64_t max_connection_idle_ms;
	uint64_t max_connection_age_ms;
	uint64_t max_connection_age_grace_ms; /* 0 = unlimited grace */
	uint64_t keepalive_time_ms;
	uint64_t keepalive_timeout_ms;
	uint64_t min_ping_time_ms;  /* enforcement_policy.min_time */
	bool permit_without_stream; /* enforcement_policy.permit_without_stream */
	const void *share_group;    /* as in otf_http_server_config_t */
	/* ms allowed for the preface + first SETTINGS (from the accept, as
	 * grpc-go's ConnectionTimeout), for any one frame (from its first
	 * byte) and for a request header block; else the connection is
	 * closed. */
	uint64_t frame_timeout_ms;
	/* Bytes read from the socket at a time (configgrpc read_buffer_size).
	 * One buffer per server, shared by its connections: the session copies
	 * what it keeps, so an idle connection holds no read buffer. */
	size_t read_buffer_bytes;
	/* Most bytes of HTTP/2 output gathered into one socket write
	 * (configgrpc write_buffer_size). */
	size_t write_buffer_bytes;
	/* Request message bytes one connection may hold buffered across its
	 * calls (messages not yet complete); a DATA chunk beyond it fails its
	 * call with RESOURCE_EXHAUSTED. */
	size_t max_conn_buffer_bytes;
	/* Optional admission check at each call's request headers, with the
	 * handler's ctx: false answers RESOURCE_EXHAUSTED before any of the
	 * message is read (for example under a memory limit). */
	bool (*admit)(void *ctx);
	/* Optional: a call the handler holds (not yet answered) stopped being
	 * alive: why OTF_GRPC_CANCELLED (the client reset the stream or the
	 * connection was lost) or OTF_GRPC_DEADLINE_EXCEEDED (grpc-timeout
	 * passed; the server answered). Called once per call, on the loop,
	 * with the handler's ctx; the handler still answers call (a no-op
	 * then) and must not do so inside this callback. The OTLP receiver
	 * cancels the call's message (CAN, otflow/component.h). */
	void (*call_gone)(otf_grpc_call_t *call, int why, void *ctx);
	/* Optional, instead of admit: 0 admits the call; a gRPC status code
	 * refuses it at its headers with message msg (cap bytes, NUL-ended)
	 * and, when *retry_ms is set, a google.rpc.RetryInfo of that delay in
	 * grpc-status-details-bin (the resource-budget refusal, REB). With
	 * *hold set the connection then reads nothing more (TCP backpressure:
	 * no frame, PING included, is read) until otf_grpc_server_resume; its
	 * time limits still apply (a client stopped mid-frame is closed at
	 * frame_timeout). */
	int (*admit_status)(void *ctx, char *msg, size_t cap, uint32_t *retry_ms, bool *hold);
	/* TLS on every connection (otflow/tls.h, a server context made with
	 * alpn "h2"); NULL = plaintext h2c. Borrowed: it must outlive the
	 * server. The handshake counts toward frame_timeout_ms from the accept. */
	struct otf_tls_ctx *tls;
} otf_grpc_server_config_t;

/* Called on the loop thread for each complete call. call stays valid until
 * an otf_grpc_respond*(call) returns; answer exactly once. */
typedef void (*otf_grpc_handler_cb)(otf_grpc_call_t *call, void *ctx);
typedef void (*otf_grpc_server_close_cb)(void *arg);

/* Binds, listens and accepts on loop; cfg is copied (host only used during
 * the call). On failure *out is untouched and nothing is left to clean up
 * (a handle libuv refused is released on the loop's next run).
 * Errors: OTF_E_INVAL, OTF_E_NOMEM, -errno from socket/bind/listen,
 * UV_EAI_* when host does not resolve. */
int otf_grpc_server_create(uv_loop_t *loop, const otf_grpc_server_config_t *cfg,
                           otf_grpc_handler_cb handler, void *ctx, otf_grpc_server_t **out);

/* The port actually bound, or -errno. */
int otf_grpc_server_bound_port(const otf_grpc_server_t *s);

/* Graceful close: stops accepting, sends GOAWAY on every connection,
 * closes connections without calls now, lets calls with the handler get
 * their answer, then closes those connections. cb(arg) runs on the loop
 * once everything is closed (never inside this call); the server is freed
 * right after cb returns. A handler that never answers holds the close up.
 * Call once. */
void otf_grpc_server_close(otf_grpc_server_t *s, otf_grpc_server_close_cb cb, void *arg);

/* Every connection held by admit_status reads again. */
void otf_grpc_server_resume(otf_grpc_server_t *s);

/* Call accessors; strings point into call and stay valid until the answer. */

/* ":path", e.g. "/opentelemetry.proto.collector.trace.v1.TraceService/Export". */
otf_http_str_t otf_grpc_call_path(const otf_grpc_call_t *call);

/* Value of the first request header named name (lower case, as HTTP/2
 * sends them), NUL-terminated; ptr NULL when absent. Pseudo-headers
 * (":path", ":authority") are included. */
otf_http_str_t otf_grpc_call_header(const otf_grpc_call_t *call, const char *name);
size_t otf_grpc_call_header_count(const otf_grpc_call_t *call);
/* OTF_E_RANGE when i is out of range. */
int otf_grpc_call_header_at(const otf_grpc_call_t *call, size_t i, otf_http_str_t *name,
                            otf_http_str_t *value);

/* grpc-timeout in ns (the call's deadline is its arrival plus this), or 0
 * when the client sent none. */
uint64_t otf_grpc_call_timeout_ns(const otf_grpc_call_t *call);

/* Absolute deadline, ns since the Unix epoch (CLOCK_REALTIME), 0 = none. */
uint64_t otf_grpc_call_deadline_unix_ns(const otf_grpc_call_t *call);

/* The request message, decompressed; never NULL (an empty message is a
 * buffer of length 0). The call holds one reference, released at the
 * answer; take otf_buf_ref() to keep it. */
otf_buf_t *otf_grpc_call_message(const otf_grpc_call_t *call);

const struct sockaddr *otf_grpc_call_peer(const otf_grpc_call_t *call);
/* The subject (RFC 2253) of the client certificate the TLS handshake
 * verified (mTLS), or NULL. Valid while the call is. */
const char *otf_grpc_call_tls_subject(const otf_grpc_call_t *call);

/* False once the answer would go nowhere: the client reset the stream or
 * left, or the server already answered DEADLINE_EXCEEDED. Answering is
 * still required (to free call) and is then a no-op. */
bool otf_grpc_call_alive(const otf_grpc_call_t *call);

/* Answers OK with one response message of len bytes (copied; NULL when
 * len is 0), sent uncompressed. Returns 0 when queued, -ECONNRESET when the
 * call is no longer alive, OTF_E_NOMEM (the stream is reset). call is freed
 * in every case. */
int otf_grpc_respond(otf_grpc_call_t *call, const void *msg, size_t len);

/* Answers with a status (Trailers-Only). code 1..16 (0 is allowed and sends
 * no message); message: NUL-terminated text or NULL, percent-encoded on the
 * wire as grpc-message. Returns as otf_grpc_respond; OTF_E_INVAL for a code
 * outside 0..16 (INTERNAL is sent instead). */
int otf_grpc_respond_status(otf_grpc_call_t *call, int code, const char *message);

/* As otf_grpc_respond_status, with details: the serialized google.rpc.Status
 * (len bytes, copied), sent base64 as grpc-status-details-bin so that the
 * client finds a RetryInfo among its details (OTLP specification,
 * "Failures": RESOURCE_EXHAUSTED / UNAVAILABLE with retry_delay). Without
 * details (NULL or 0 bytes), or out of memory, the status alone is sent. */
int otf_grpc_respond_status_details(otf_grpc_call_t *call, int code, const char *message,
                                    const void *details, size_t len);

/* Serializes google.rpc.Status{code, message, details: [Any{type_url
 * "type.googleapis.com/google.rpc.RetryInfo", value: RetryInfo{retry_delay:
 * Duration of delay_ns}}]} into buf (cap bytes): the details a server gives
 * with RESOURCE_EXHAUSTED / UNAVAILABLE so that the client waits delay_ns
 * before retrying (OTLP specification, "Failures"). message: message_len
 * bytes (not NUL-terminated; NULL or 0 = no message field). Returns the
 * bytes written, 0 when they do not fit in cap (nothing usable written).
 * Pure function, any thread. */
size_t otf_grpc_status_retry_info(uint8_t *buf, size_t cap, int code, const char *message,
                                  size_t message_len, uint64_t delay_ns);

#ifdef __cplusplus
}
#endif
#endif
