/* The TLS stream of one connection (tls_io.c) and the context internals
 * it uses (tls_config.c).
 *
 * otf__tls_io_t is a libuv TCP handle with an optional TLS session on
 * memory BIOs. The connection code (http_conn.c, grpc_conn.c, the otlp
 * exporter's grpc_client.c) embeds one in place of its uv_tcp_t and calls
 * the otf__tls_io_* functions where it called uv_read_start, uv_write,
 * uv_shutdown and uv_close: without a session they are those calls; with
 * one, the callbacks it passes see plaintext only, exactly as libuv would
 * call them (read_cb with the bytes or a negative status, write_cb once
 * the ciphertext of that write is on the socket or failed).
 *
 * Handshake: a server session starts at otf__tls_io_accept, a client
 * session at otf__tls_io_connect; writes made before the handshake is done
 * are held (copied) and sent once it is. A failed handshake is logged
 * (server: peer address and OpenSSL's reason, e.g. "certificate verify
 * failed (unable to get local issuer certificate)"), counted on the
 * context, and reported to read_cb as UV_EPROTO; otf__tls_io_error says
 * why. A plaintext HTTP request on a TLS port gets Go's plaintext "400
 * Client sent an HTTP request to an HTTPS server" before the close. The
 * time a handshake may take is the connection's own first-byte / frame
 * limit (the handshake's bytes are not plaintext, so they do not reset it).
 *
 * Backpressure: while the owner has stopped reading, the socket is not
 * read either; plaintext OpenSSL already holds is delivered by
 * otf__tls_io_pull, which the owner calls from a libuv callback of its own
 * once it reads again (HTTP/1.1 does so after each answer is written).
 *
 * Thread rules: the loop's thread. */
#ifndef OTFLOW_NET_TLS_INTERNAL_H
#define OTFLOW_NET_TLS_INTERNAL_H

#include "core/openssl_dl.h"
#include "otflow/tls.h"

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

/* ---- tls_config.c ---- */

/* A new session on the current context (reloads first when due). */
SSL *otf__tls_ctx_new_ssl(otf_tls_ctx_t *t);
/* Counts a failed handshake; returns the count so far (for rate-limited logs). */
uint64_t otf__tls_ctx_failed(otf_tls_ctx_t *t);
const char *otf__tls_ctx_where(const otf_tls_ctx_t *t);
const char *otf__tls_ctx_alpn(const otf_tls_ctx_t *t);

/* ---- tls_io.c ---- */

typedef struct otf__tls_wnode otf__tls_wnode_t;

typedef struct otf__tls_io {
	uv_tcp_t tcp; /* first: the stream the owner's callbacks receive */
	SSL *ssl;     /* NULL = plaintext: every call is the libuv one */
	otf_tls_ctx_t *ctx;
	BIO *rbio, *wbio; /* ciphertext in, out (owned by ssl) */
	uv_alloc_cb alloc_cb;
	uv_read_cb read_cb;
	otf__tls_wnode_t *held, *held_tail; /* writes waiting for the handshake */
	otf__tls_wnode_t *sealed;           /* encrypted, not yet in a socket write */
	bool reading;                       /* the owner wants plaintext */
	bool sock_reading;
	bool client;
	bool hs_done;
	bool failed;
	bool got_bytes;     /* the peer sent something */
	char peer[64];      /* "addr:port" for logs */
	char err[200];      /* why the session failed, "" = it did not */
	char *peer_subject; /* verified peer certificate's subject (RFC 2253), or NULL */
} otf__tls_io_t;

/* uv_tcp_init of io->tcp; no session yet. */
int otf__tls_io_init(uv_loop_t *loop, otf__tls_io_t *io);
/* After uv_accept: starts a server session when ctx is not NULL. */
int otf__tls_io_accept(otf__tls_io_t *io, otf_tls_ctx_t *ctx);
/* After the TCP connect: starts a client session (ALPN from the context,
 * SNI and the verified name from server_name, an address verified as an
 * IP) when ctx is not NULL; the ClientHello goes out at once. */
int otf__tls_io_connect(otf__tls_io_t *io, otf_tls_ctx_t *ctx, const char *server_name);

int otf__tls_io_read_start(otf__tls_io_t *io, uv_alloc_cb alloc_cb, uv_read_cb read_cb);
void otf__tls_io_read_stop(otf__tls_io_t *io);
/* Delivers plaintext already decrypted or buffered while reading was
 * stopped. Not from inside read_cb. */
void otf__tls_io_pull(otf__tls_io_t *io);
/* As uv_write: bufs may be released once cb runs (with a session they are
 * copied before this returns). */
int otf__tls_io_write(otf__tls_io_t *io, uv_write_t *req, const uv_buf_t bufs[], unsigned n,
                      uv_write_cb cb);
/* close_notify (with a session), then uv_shutdown. */
int otf__tls_io_shutdown(otf__tls_io_t *io, uv_shutdown_t *req, uv_shutdown_cb cb);
/* Writes still held get cb(UV_ECANCELED) now; then uv_close. */
void otf__tls_io_close(otf__tls_io_t *io, uv_close_cb cb);
/* After the handle's close callback: frees the session. */
void otf__tls_io_free(otf__tls_io_t *io);

/* True when the handshake selected ALPN protocol proto ("h2"). */
bool otf__tls_io_alpn_is(const otf__tls_io_t *io, const char *proto);

/* Why the session failed ("" when it did not). */
static inline const char *otf__tls_io_error(const otf__tls_io_t *io)
{
	return io->err;
}

#endif
