/* HTTP/1.1 server on a libuv loop: the transport under the OTLP/HTTP
 * receiver (OTLP spec, "OTLP/HTTP").
 *
 * One server = one listening handle on one loop. To spread load over
 * several worker loops, create one server per loop on the same host:port
 * with the same share_group: the first binds the port exclusively, the
 * others poll a dup of that socket, and whichever loop accepts first gets
 * the connection. Another process (or another group) binding the port
 * gets -EADDRINUSE: a port is never silently shared.
 *
 * HTTP/2 on the same port (src/net/http2_session.c, nghttp2): over TLS when
 * ALPN selects "h2", in plaintext when the client's first bytes are the
 * HTTP/2 connection preface (h2c with prior knowledge; no Upgrade). Each
 * stream is one request with the same accessors, limits and answers as
 * below; streams of a connection are handled concurrently (up to 100) and
 * answered in any order. idle_timeout_ms is the only time limit there:
 * silence while no request is with the handler closes the connection.
 *
 * Per connection the server reads, parses (http_parser), enforces limits,
 * decompresses the body (Content-Encoding: gzip, deflate, zstd, identity)
 * and hands each complete request to the handler. The handler answers
 * with otf_http_respond() exactly once, now or later (for example after
 * the pipeline acknowledged the data). Requests of one connection are
 * handled one at a time and answered in order (keep-alive and pipelining).
 *
 * Answered by the server itself, without calling the handler:
 *   400 malformed request, an HTTP/0.9 request line (no version), or a
 *       body that fails to decompress
 *   408 headers not complete within read_header_timeout_ms, the request
 *       not within read_timeout_ms, or silence above idle_timeout_ms inside
 *       a request
 *   413 body (Content-Length, chunked total, or decompressed size) above
 *       max_body_bytes; a too-large Content-Length is refused before any
 *       body byte is read
 *   415 unknown Content-Encoding
 *   431 request line + headers above max_header_bytes, or more than 100
 *       header fields
 * After a 400 from the parser or a 408/413/431 the connection is closed.
 * Body memory grows with the bytes that arrive (doubling, capped at the
 * announced Content-Length), never to an announced length at once; an
 * idle connection holds no read buffer.
 *
 * Thread rules: a server, its requests and every function below belong to
 * the thread running the server's loop. Only the body buffer (otf_buf_t,
 * atomically refcounted) may travel to other threads.
 *
 * Errors: 0 on success, negative on failure: libuv/system errors are
 * -errno (UV_EADDRINUSE == -EADDRINUSE, UV_EAI_* for name lookup), otflow's
 * own are OTF_E_* (otflow/err.h).
 */
#ifndef OTFLOW_HTTP_SERVER_H
#define OTFLOW_HTTP_SERVER_H

#include "otflow/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct otf_http_server otf_http_server_t;
typedef struct otf_http_request otf_http_request_t;

/* A byte range into memory owned by someone else (not NUL-terminated
 * unless stated). */
typedef struct otf_http_str {
	const char *ptr;
	size_t len;
} otf_http_str_t;

/* One extra response header; both strings NUL-terminated, no CR or LF. */
typedef struct otf_http_header {
	const char *name;
	const char *value;
} otf_http_header_t;

#define OTF_HTTP_DEFAULT_MAX_BODY_BYTES         (4u * 1024 * 1024)
#define OTF_HTTP_DEFAULT_MAX_HEADER_BYTES       (16u * 1024)
#define OTF_HTTP_DEFAULT_IDLE_TIMEOUT_MS        60000u
#define OTF_HTTP_DEFAULT_READ_HEADER_TIMEOUT_MS 60000u
#define OTF_HTTP_DEFAULT_MAX_CONNECTIONS        4096u

/* Zero fields take the defaults above. */
typedef struct otf_http_server_config {
	const char *host;                /* address or name to bind; NULL or "" = 0.0.0.0.
	                            * Names are resolved once, blocking, in create */
	uint16_t port;                   /* 0 = an ephemeral port (see bound_port) */
	size_t max_body_bytes;           /* bytes, both on the wire and decompressed */
	size_t max_header_bytes;         /* bytes of request line + header fields; values
	                            * above 80 KiB are capped there by http_parser */
	uint32_t idle_timeout_ms;        /* ms between requests without a byte from the
	                            * client: connection closed. Also the limit
	                            * per read while a body arrives when
	                            * read_timeout_ms is 0, and for a client that
	                            * does not read its answer */
	uint32_t read_header_timeout_ms; /* ms from a request's first byte (from
	                                  * the accept for the first request) to
	                                  * the end of its headers: else 408 and
	                                  * close (Go's ReadHeaderTimeout) */
	uint32_t read_timeout_ms;        /* ms from a request's first byte to its last:
	                            * else 408 and close; 0 = no limit (Go's
	                            * ReadTimeout) */
	uint32_t max_connections;        /* connections beyond this are closed at accept
	                                  * (the loop's cap, otflow/net.h, evicts instead) */
	const void *share_group;         /* non-NULL: servers of this process with the
	                                  * same pointer and host:port share one
	                                  * socket (any thread); NULL = own socket */
	/* TLS on every connection (otflow/tls.h, a server context made with
	 * alpn "h2,http/1.1": a client negotiating h2 is served HTTP/2, one
	 * offering http/1.1 only, or no ALPN, HTTP/1.1); NULL = plaintext.
	 * Borrowed: it must outlive the server. The handshake must be done
	 * within the first-byte limit (read_header_timeout_ms /
	 * idle_timeout_ms). */
	struct otf_tls_ctx *tls;
	/* Optional: a request the handler holds (not yet answered) lost its
	 * client (disconnect, reset, or the connection closed for a
	 * timeout). Called once, on the loop, with the handler's ctx; the
	 * handler still answers req (a no-op then) and must not do so inside
	 * this callback. The OTLP receiver cancels the request's message (CAN,
	 * otflow/component.h). */
	void (*request_gone)(otf_http_request_t *req, void *ctx);
} otf_http_server_config_t;

/* Called on the loop thread for each complete request. req stays valid
 * until otf_http_respond(req, ...) returns; the handler must call it
 * exactly once, during the callback or later on the same loop. */
typedef void (*otf_http_handler_cb)(otf_http_request_t *req, void *ctx);

typedef void (*otf_http_server_close_cb)(void *arg);

/* Binds, listens and starts accepting on loop. cfg is copied (host is only
 * used during the call). On success *out is the new server; on failure
 * *out is untouched and the caller has nothing to clean up (in the rare
 * case that libuv refuses the bound socket, the handle is released on the
 * loop's next run, without any callback).
 * Errors: OTF_E_INVAL (NULL argument), OTF_E_NOMEM, -errno from socket,
 * bind or listen (-EADDRINUSE when the port is taken by another
 * process or by a server of another share_group), UV_EAI_* when host does not resolve. */
int otf_http_server_create(uv_loop_t *loop, const otf_http_server_config_t *cfg,
                           otf_http_handler_cb handler, void *ctx, otf_http_server_t **out);

/* The port actually bound (useful with port 0), or -errno. */
int otf_http_server_bound_port(const otf_http_server_t *s);

/* Graceful close: stops accepting now; closes connections that have no
 * request with the handler (idle, or a request still arriving); lets each
 * request already handed to the handler get its answer (sent with
 * "Connection: close"), then closes those connections too. cb(arg) runs on the loop once
 * everything is closed, never inside this call; the server's memory is
 * freed right after cb returns. Requests whose client is gone do not hold
 * the close up; a handler that never responds does. Call once. */
void otf_http_server_close(otf_http_server_t *s, otf_http_server_close_cb cb, void *arg);

/* Request accessors. Returned strings point into req and stay valid until
 * otf_http_respond(req) returns. */

/* "GET", "POST", ... (static string). */
const char *otf_http_request_method(const otf_http_request_t *req);

/* Request target split at '?' and '#', not percent-decoded. For an
 * absolute-form target ("http://h/p?q") only the path and query. */
otf_http_str_t otf_http_request_path(const otf_http_request_t *req);
otf_http_str_t otf_http_request_query(const otf_http_request_t *req);

/* Value of the first header named name (case-insensitive), NUL-terminated,
 * with surrounding whitespace removed; ptr NULL when absent. */
otf_http_str_t otf_http_request_header(const otf_http_request_t *req, const char *name);

/* Number of header fields and the i-th one (in arrival order, names as
 * sent); returns OTF_E_RANGE when i is out of range. */
size_t otf_http_request_header_count(const otf_http_request_t *req);
int otf_http_request_header_at(const otf_http_request_t *req, size_t i, otf_http_str_t *name,
                               otf_http_str_t *value);

/* The body after Content-Encoding decoding; NULL for an empty body. The
 * request holds one reference, released at respond; take otf_buf_ref() to
 * keep the bytes longer (the buffer may then move to other threads). */
otf_buf_t *otf_http_request_body(const otf_http_request_t *req);

/* The client's address (sockaddr_in or sockaddr_in6). */
const struct sockaddr *otf_http_request_peer(const otf_http_request_t *req);
/* The subject (RFC 2253, "CN=client,O=example") of the client certificate
 * the TLS handshake verified (mTLS: client_ca_file), or NULL (plaintext, or
 * no client certificate). Valid while req is. For authenticators and the
 * message envelope. */
const char *otf_http_request_tls_subject(const otf_http_request_t *req);

/* False once the client has disconnected (or the connection was closed
 * for a timeout). The answer would go nowhere; respond is still required
 * to free req, and is then a no-op. */
bool otf_http_request_alive(const otf_http_request_t *req);

/* Sends the answer and frees req. status: 100 < status < 600, not 1xx;
 * content_type: NUL-terminated or NULL (no Content-Type header); body:
 * len bytes, copied before return (NULL when len is 0); extra: n_extra
 * additional headers. Content-Length and Connection are set by the server.
 * For HEAD requests the body is not sent.
 * Returns 0 when the answer was queued, -ECONNRESET when the client is
 * gone (nothing sent), OTF_E_INVAL for a bad status or a header with CR/LF
 * (a 500 is sent instead), OTF_E_NOMEM (the connection is closed). In every
 * case req is freed. */
int otf_http_respond(otf_http_request_t *req, int status, const char *content_type,
                     const void *body, size_t len, const otf_http_header_t *extra, size_t n_extra);

/* Backpressure (the REB signal, otflow/component.h): after req's answer
 * its connection reads nothing more, so a client that keeps sending fills
 * its socket buffers and blocks (TCP backpressure) instead of our memory.
 * Bytes already read stay buffered (at most the 64 KiB read buffer) and
 * are parsed on resume. Call before otf_http_respond(req). The idle
 * timeout still applies to a held connection. */
void otf_http_request_hold_connection(otf_http_request_t *req);
/* Every held connection of s reads again. */
void otf_http_server_resume(otf_http_server_t *s);
/* Connections of s held now (for tests and logs). */
size_t otf_http_server_held(const otf_http_server_t *s);

#ifdef __cplusplus
}
#endif
#endif
