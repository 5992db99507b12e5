/* gRPC client internals shared by grpc_client.c (the client, its calls,
 * connections, timer) and grpc_client_session.c (the HTTP/2 session of a
 * connection: requests submitted, responses read). Everything runs on the
 * client's loop. Not for the exporters: they use grpc_client.h. */
#ifndef OTF_GRPC_CLIENT_INTERNAL_H
#define OTF_GRPC_CLIENT_INTERNAL_H

#include "grpc_client.h"

#include "net/grpc_internal.h" /* response reader */
#include "net/tls_internal.h"

#include <nghttp2/nghttp2.h>

/* Most bytes gathered into one write. A whole request of the usual sizes
 * (a batch of 1000 logs is ~360 KB) goes out in one writev: the backend's
 * receiver is woken once the message has arrived (its receive low-water
 * mark), so a request cut at 256 KiB left it waiting for the rest until
 * our next loop turn (one more epoll_wait and writev per request). DATA
 * payloads are not copied (slices of the message), so the size costs only
 * iovecs: 16 KiB frames make ~130 segments per MiB, well under IOV_MAX. */
#define WRITE_BATCH_BYTES (1024u * 1024u)

enum { C_RESOLVING = 1, C_CONNECTING, C_READY, C_CLOSED };

typedef struct conn conn_t;

struct otf_grpcc_call {
	otf_grpcc_t *cl;
	conn_t *conn; /* NULL while waiting for a connection */
	int32_t stream_id;
	otf_grpcc_call_t *prev, *next; /* client's pending list or conn's list */
	char *path;
	otf_buf_t *body;   /* the request message, written after prefix */
	uint8_t prefix[5]; /* Length-Prefixed-Message header */
	size_t off;        /* bytes of prefix + body sent */
	uint64_t timeout_ms, deadline_ms;
	otf__grpc_reader_t reader;
	otf_grpcc_result_t res;
	bool got_status, timed_out, done;
	char encoding[32];
	otf_grpcc_cb cb;
	void *arg;
	char **meta; /* per-call headers: name, value, ...; names lower-cased */
	size_t n_meta;
};

struct conn {
	otf__tls_io_t io; /* the socket, with TLS when the client has it */
	uv_getaddrinfo_t gai;
	uv_connect_t connect;
	otf_grpcc_t *cl;
	conn_t *prev, *next; /* every open connection of the client */
	nghttp2_session *h2;
	int state;
	bool goaway, writing, closing;
	uint64_t connected_ms; /* TCP connected (loop clock): the handshake's start */
	otf_grpcc_call_t *calls;
	otf__grpcc_wbatch_t w;
	char rbuf[16384];
};

struct otf_grpcc {
	uv_loop_t *loop;
	char *host, *authority, *encoding;
	uint16_t port;
	otf_tls_ctx_t *tls; /* NULL = h2c */
	char *server_name;  /* SNI and the name verified */
	char **meta;        /* name, value, ..., NULL; names lower-cased */
	size_t n_meta;
	size_t max_recv;
	uint64_t handshake_ms;     /* a TLS handshake's limit from the TCP connect */
	conn_t *conn;              /* the connection new calls use */
	conn_t *conns;             /* all of them (draining after GOAWAY too) */
	otf_grpcc_call_t *pending; /* waiting for conn to be ready */
	otf_grpcc_call_t *done;    /* finished, callbacks not yet run */
	uv_timer_t timer;          /* deadlines; runs finished callbacks */
	int handles;
	uint64_t writes; /* socket writes started */
	bool closing;
	otf_grpcc_close_cb close_cb;
	void *close_arg;
};

/* grpc_client.c: the call's outcome is known (status, message copied;
 * NULL = none): off its list, onto the done list, its callback run from
 * the timer. No-op for a call already done. list_add pushes c on a call
 * list (pending, a connection's, done). */
void otf__grpcc_finish(otf_grpcc_call_t *c, int status, const char *msg);
void otf__grpcc_list_add(otf_grpcc_call_t **head, otf_grpcc_call_t *c);

/* grpc_client_session.c: session_new makes k's nghttp2 client session
 * with its SETTINGS queued (OTF_E_NOMEM); submit attaches c to k and
 * submits its request (the bytes go out at the next conn_flush); a
 * refused submit finishes c UNAVAILABLE. */
int otf__grpcc_session_new(conn_t *k);
void otf__grpcc_submit(conn_t *k, otf_grpcc_call_t *c);

#endif
