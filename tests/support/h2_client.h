/* A small blocking HTTP/2 (h2c, prior knowledge) client over a real TCP
 * socket, on nghttp2's client session, for the gRPC server tests. Every
 * wait is bounded by a timeout. */
#ifndef OTF_H2_CLIENT_H
#define OTF_H2_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct h2_result {
	int http_status;        /* :status, 0 if none */
	int grpc_status;        /* -1 when absent */
	char grpc_message[512]; /* percent-decoded */
	char accept_encoding[128];
	char status_details[1024]; /* grpc-status-details-bin, as sent (base64) */
	uint8_t *data;             /* DATA payload (gRPC framed), malloc'd */
	size_t data_len;
	size_t data_cap;   /* bytes allocated at data (grown by doubling) */
	bool closed;       /* the stream closed */
	uint32_t rst_code; /* error code at stream close */
	void *priv;        /* the request body source */
} h2_result_t;

typedef struct h2_conn h2_conn_t;

/* Connects to 127.0.0.1:port and sends the preface + SETTINGS. */
h2_conn_t *h2_connect(int port);
/* Coalescing (off by default): the frames of each send round (a request's
 * HEADERS and every DATA frame its window allows) go out in one write, as
 * real gRPC clients write, instead of one send() per frame; the load
 * generator uses it so the server is not woken once per 16 KiB frame. */
void h2_set_coalesce(h2_conn_t *c, bool on);
/* Starts a POST of body to path with content-type application/grpc and
 * te: trailers plus extra headers (name, value, ..., NULL). res must stay
 * valid until the stream closed. Returns the stream id (> 0) or < 0.
 * method NULL = POST; ctype NULL = application/grpc. */
int32_t h2_submit(h2_conn_t *c, const char *method, const char *path, const char *ctype,
                  const char *const *extra, const void *body, size_t len, h2_result_t *res);
/* As h2_submit (POST, application/grpc) but the stream stays open after
 * body: no END_STREAM, as a client that stops sending mid-message. */
int32_t h2_submit_open(h2_conn_t *c, const char *path, const void *body, size_t len,
                       h2_result_t *res);
/* Runs I/O until every submitted stream has closed, the connection ended,
 * or timeout_ms passed. Returns 0 when all streams closed, -1 otherwise. */
int h2_run(h2_conn_t *c, int timeout_ms);
/* Runs I/O (answering PINGs, SETTINGS) for ms milliseconds or until the
 * connection ends. */
void h2_pump(h2_conn_t *c, int ms);
/* PINGs received from the server (not ACKs). */
int h2_pings_received(const h2_conn_t *c);
/* Sends a PING (not waiting). */
int h2_ping(h2_conn_t *c);
/* Resets stream_id (RST_STREAM CANCEL, as a client giving up), sent now. */
int h2_rst(h2_conn_t *c, int32_t stream_id);
/* Writes raw bytes on the socket (bypassing the session). */
int h2_write_raw(h2_conn_t *c, const void *data, size_t len);
/* GOAWAY received: its error code and debug data; false if none. */
bool h2_goaway(const h2_conn_t *c, uint32_t *code, char *debug, size_t cap);
/* The peer closed the TCP connection. */
bool h2_eof(const h2_conn_t *c);
/* PING ACKs received. */
int h2_ping_acks(const h2_conn_t *c);
void h2_close(h2_conn_t *c);

/* One unary call on a fresh connection. Returns h2_run's result. */
int h2_unary(int port, const char *path, const char *const *extra, const void *body, size_t len,
             h2_result_t *res, int timeout_ms);
void h2_result_free(h2_result_t *r);

/* gRPC Length-Prefixed-Message: flag + big-endian length + bytes (malloc'd). */
uint8_t *grpc_frame(const void *msg, size_t len, uint8_t flag, size_t *out_len);
/* The message of a gRPC-framed response body; NULL when malformed. */
const uint8_t *grpc_unframe(const h2_result_t *r, size_t *len);

/* Raw TCP helpers for garbage tests: connect; send; read until EOF or
 * timeout; returns the bytes read (-1 on timeout without EOF). */
int tcp_connect(int port);
/* Error code of the first GOAWAY frame in raw server bytes, or -1. */
long h2_raw_goaway_code(const uint8_t *b, long n);
/* "PRI * HTTP/2.0..." client connection preface (24 bytes). */
extern const char h2_preface[];
long tcp_read_until_eof(int fd, uint8_t *buf, size_t cap, int timeout_ms);

#endif
