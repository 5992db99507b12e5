/* A unary gRPC client over HTTP/2, over TLS (ALPN h2, SNI; tls_io.c) or
 * cleartext (h2c, prior knowledge), on a libuv loop: the transport of the `otlp` exporter. HTTP/2 is nghttp2's
 * client session; the gRPC layer (grpc/grpc doc/PROTOCOL-HTTP2.md) is ours:
 * the 5-byte Length-Prefixed-Message, grpc-timeout, grpc-encoding, and the
 * status from grpc-status / grpc-message / grpc-status-details-bin
 * trailers, or from the HTTP status when the server is not speaking gRPC.
 *
 * One client keeps one connection, opened on the first call (name
 * resolution on the libuv thread pool, non-blocking connect) and reopened
 * on demand after it closed or the server sent GOAWAY; calls share it as
 * concurrent streams (nghttp2 queues streams beyond the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS). A call that cannot be delivered
 * (connection refused or lost, stream refused) ends UNAVAILABLE; one that
 * outlives its timeout is reset and ends DEADLINE_EXCEEDED.
 *
 * The socket-free pieces (framing, percent and base64 decoding, status
 * mapping) are in grpc_client_frame.c; the batch of one write (request
 * messages go to the socket in place, DATA frames are nghttp2 NO_COPY) in
 * grpc_client_write.c.
 *
 * Thread rules: a client and its calls belong to the loop's thread. */
#ifndef OTF_GRPC_CLIENT_H
#define OTF_GRPC_CLIENT_H

#include "otflow/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct otf_grpcc otf_grpcc_t;
typedef struct otf_grpcc_call otf_grpcc_call_t;

typedef struct otf_grpcc_config {
	const char *host; /* name or address; resolved per connection */
	uint16_t port;
	const char *authority;   /* :authority; NULL = host:port */
	const char *encoding;    /* grpc-encoding of requests, NULL = identity */
	const char *const *meta; /* extra headers: name, value, ..., NULL (copied) */
	size_t max_recv_msg_bytes;
	/* TLS (otflow/tls.h, a client context made with alpn "h2"; borrowed:
	 * it must outlive the client); NULL = h2c. A failed handshake ends the
	 * calls UNAVAILABLE with the reason ("TLS with host:port: certificate
	 * verify failed (certificate has expired)"). */
	struct otf_tls_ctx *tls;
	const char *server_name; /* SNI and the name verified; NULL = host */
	/* ms from the TCP connect for the TLS handshake; past it the
	 * connection fails and its calls end UNAVAILABLE ("TLS: no handshake
	 * within N ms"). The exporter's timeout, as the Collector's dial is
	 * bounded by the request's context; 0 = 10 s. */
	uint64_t handshake_timeout_ms;
} otf_grpcc_config_t;

typedef struct otf_grpcc_result {
	int status;          /* gRPC status code */
	char message[256];   /* grpc-message, percent-decoded, or our reason */
	uint64_t retry_ns;   /* RetryInfo.retry_delay from grpc-status-details-bin */
	bool has_retry_info; /* a RetryInfo was present */
	otf_buf_t *response; /* OK: the response message (borrowed for the callback) */
	int http_status;     /* :status, 0 when none */
} otf_grpcc_result_t;

typedef void (*otf_grpcc_cb)(void *arg, const otf_grpcc_result_t *res);
typedef void (*otf_grpcc_close_cb)(void *arg);

int otf__grpcc_create(uv_loop_t *loop, const otf_grpcc_config_t *cfg, otf_grpcc_t **out);

/* Starts a unary call of path with the request message msg (already
 * compressed when compressed is set; a reference is taken and held until
 * its bytes are written: they go to the socket without being copied, after
 * the 5-byte prefix). timeout_ms 0 = none. cb runs once, on the loop, never
 * inside this call. Returns the call (to cancel) or NULL on OOM. */
otf_grpcc_call_t *otf__grpcc_call(otf_grpcc_t *c, const char *path, otf_buf_t *msg, bool compressed,
                                  uint64_t timeout_ms, otf_grpcc_cb cb, void *arg);
/* The same with per-call headers meta (name, value, ..., NULL; copied;
 * names lower-cased), sent after the client's own. */
otf_grpcc_call_t *otf__grpcc_call_ex(otf_grpcc_t *c, const char *path, otf_buf_t *msg,
                                     bool compressed, uint64_t timeout_ms, const char *const *meta,
                                     otf_grpcc_cb cb, void *arg);
/* Socket writes the client has started (diagnostics and tests): a request
 * whose HEADERS and DATA fit one write batch (1 MiB) goes out in one. */
uint64_t otf__grpcc_writes(const otf_grpcc_t *c);
/* Abandons a call: its stream is reset, cb never runs. */
void otf__grpcc_cancel(otf_grpcc_call_t *call);
/* Closes the connection; calls still open are abandoned (no callbacks).
 * cb(arg) runs once every handle is closed, never inside this call. */
void otf__grpcc_close(otf_grpcc_t *c, otf_grpcc_close_cb cb, void *arg);

/* ---- grpc_client_frame.c (socket-free) ---- */

/* Length-Prefixed-Message: flag (1 = compressed), big-endian length, msg. */
int otf__grpcc_frame(const otf_buf_t *msg, bool compressed, otf_buf_t **out);
/* Just the 5-byte prefix of a message of len bytes (len <= UINT32_MAX). */
void otf__grpcc_prefix(size_t len, bool compressed, uint8_t out[5]);
/* grpc-message percent-decoding; always NUL-terminates. */
void otf__grpcc_percent_decode(const char *s, size_t n, char *out, size_t cap);
/* Base64 (standard alphabet, padding optional, as grpc-*-bin headers) into
 * out; the decoded length, or -1 when malformed or longer than cap. */
long otf__grpcc_base64_decode(const char *s, size_t n, uint8_t *out, size_t cap);
/* gRPC status for a non-200 HTTP answer (PROTOCOL-HTTP2.md,
 * doc/http-grpc-status-mapping.md). */
int otf__grpcc_http_status(int http);
/* OTLP/gRPC: may this status be retried? ("Failures", OTLP spec) */
bool otf__grpcc_retryable(int status, bool has_retry_info);
/* grpc-timeout value for ms ("<n>m", at most 8 digits). */
void otf__grpcc_timeout(uint64_t ms, char out[16]);

/* ---- grpc_client_write.c (socket-free): the batch of one write ---- */

/* One piece of a write: stage bytes (ptr NULL, at off) or a message slice. */
typedef struct otf__grpcc_wseg {
	const uint8_t *ptr;
	size_t off, len;
} otf__grpcc_wseg_t;

/* What one uv_write sends (one in flight per connection). nghttp2's own
 * frames are copied into stage; DATA payloads are not copied (DATA frames
 * are NGHTTP2_DATA_FLAG_NO_COPY): segments point into the messages, held by
 * refs until the write is done. The arrays keep their capacity across
 * writes, so a steady flow allocates nothing. */
typedef struct otf__grpcc_wbatch {
	uv_write_t req;
	uint8_t *stage;
	size_t stage_len, stage_cap;
	otf__grpcc_wseg_t *segs;
	size_t nseg, seg_cap;
	otf_buf_t **refs;
	size_t nref, ref_cap;
	uv_buf_t *bufs;
	size_t buf_cap;
	size_t total; /* bytes in this write */
} otf__grpcc_wbatch_t;

/* Appends n bytes (copied) to the stage, merged with a stage segment just
 * before. 0 or OTF_E_NOMEM. */
int otf__grpcc_stage_add(otf__grpcc_wbatch_t *w, const uint8_t *d, size_t n);
/* Appends n bytes of msg from off, not copied: msg is held (a reference)
 * until otf__grpcc_batch_reset. 0 or OTF_E_NOMEM. */
int otf__grpcc_slice_add(otf__grpcc_wbatch_t *w, otf_buf_t *msg, size_t off, size_t n);
/* Empties the batch (drops the held messages), keeping its capacity. */
void otf__grpcc_batch_reset(otf__grpcc_wbatch_t *w);
/* Empties it and frees its arrays. */
void otf__grpcc_batch_free(otf__grpcc_wbatch_t *w);

#endif
