/* Socket helpers shared by the servers in src/net/. */
#ifndef OTFLOW_NET_NET_INTERNAL_H
#define OTFLOW_NET_NET_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct otf__net_share otf__net_share_t;

/* A listening, non-blocking TCP socket on host:port (host NULL or "" =
 * 0.0.0.0; names are resolved synchronously, so call at start-up), with
 * SO_REUSEADDR, never SO_REUSEPORT (net_listen.c says why). With group
 * NULL the socket is the caller's own and *share is NULL. With a group,
 * the first call for (group, host, port) binds and every call, from any
 * thread, returns a dup of that one socket and sets *share: release it
 * with otf__net_listen_unshare once the returned fd is closed; the last
 * release closes the socket. Returns the fd, or -errno (-EADDRINUSE when
 * another socket, in this process or another, has the port) / UV_EAI_*. */
int otf__net_listen_socket(uv_loop_t *loop, const char *host, uint16_t port, const void *group,
                           otf__net_share_t **share);

/* Drops one reference from otf__net_listen_socket; NULL is a no-op. */
void otf__net_listen_unshare(otf__net_share_t *share);

/* Accept balance between the servers (worker loops) of one share: each
 * takes a slot (-1: none left, or share NULL) and publishes its count of
 * connections there; ahead = this slot has more connections than another
 * open slot, so its loop should let the others accept first. Any thread. */
int otf__net_share_join(otf__net_share_t *share);
void otf__net_share_set(otf__net_share_t *share, int slot, uint32_t conns);
void otf__net_share_leave(otf__net_share_t *share, int slot);
bool otf__net_share_ahead(const otf__net_share_t *share, int slot);

/* Live rebuild of a node (engine rebuild.c): holds a reference on every
 * shared socket whose group lies in the old config struct [old, old +
 * len), and lets the same offset in config find it as well, so a new
 * instance on the same port gets a dup of the socket the old instances
 * listen on, and a changed port is closed only once released. Release
 * with adopt true makes the new group the owner (the new config stays),
 * false drops the second name (the old config stays). Any thread. NULL
 * when nothing is shared (release of NULL is a no-op). */
typedef struct otf__net_hold otf__net_hold_t;
otf__net_hold_t *otf__net_listen_hold(const void *old, size_t len, const void *config);
void otf__net_listen_release(otf__net_hold_t *h, bool adopt);

/* uv_tcp_init (handle->data = data) + uv_tcp_open(fd) + uv_listen. On
 * failure the fd is closed and the handle closed with close_cb (the caller
 * frees its memory there); returns -errno. */
int otf__net_listen_handle(uv_loop_t *loop, uv_tcp_t *handle, void *data, int fd,
                           uv_connection_cb on_conn, uv_close_cb close_cb);

/* Port bound by a listening handle, or -errno. */
int otf__net_bound_port(const uv_tcp_t *handle);

#define OTF__NET_LISTEN_BACKLOG 511
/* Servers of one share that take part in the accept balance; more accept
 * as they come. */
#define OTF__NET_SHARE_SLOTS 256
/* How long a loop that is ahead lets the others accept (net_listen.c). */
#define OTF__NET_ACCEPT_DEFER_MS 2

/* ---- connection accounting per loop (net_conns.c) ----
 * Every server on a loop shares that loop's record; all calls on the
 * loop's thread except get/put (any thread, start-up and teardown). */
typedef struct otf__net_conns otf__net_conns_t;

/* Embedded in each connection: its place in the loop's list, least
 * recently active first, and what eviction asks of it. */
typedef struct otf__net_link {
	struct otf__net_link *prev, *next;
	otf__net_conns_t *reg;                  /* NULL = not counted (evicted, or no record) */
	bool (*idle)(struct otf__net_link *l);  /* may it be closed now? */
	void (*evict)(struct otf__net_link *l); /* close it (uv_close) now */
} otf__net_link_t;

/* Embedded in each server: its listener, paused at the cap. */
typedef struct otf__net_waiter {
	struct otf__net_waiter *prev, *next;
	otf__net_conns_t *reg; /* non-NULL while queued */
	void (*resume)(struct otf__net_waiter *w);
} otf__net_waiter_t;

/* The loop's record, created on first use (refcounted); NULL on ENOMEM,
 * which every function below accepts as "no accounting". */
otf__net_conns_t *otf__net_conns_get(uv_loop_t *loop);
void otf__net_conns_put(otf__net_conns_t *r);

/* The loop's pool of large request buffers (otflow/bufpool.h), shared by
 * its gRPC and HTTP servers: a request message or body of at least
 * OTF__NET_DIRECT_MIN bytes is allocated from it at its announced length,
 * so its pages are mapped already. Keeps at most OTF__NET_POOL_BYTES idle.
 * NULL (no record, no memory) = plain allocations. */
struct otf_bufpool;
struct otf_bufpool *otf__net_conns_pool(const otf__net_conns_t *r);
/* 512 KiB: one idle 340 kB request buffer per loop. Each message's buffer
 * comes back as soon as the batch processor copied it, so at 100k logs/s
 * (4 connections, 2 workers) the second idle buffer 1 MiB allowed was only
 * resident memory: max RSS 12.1-12.4 vs 12.7-19 MiB, saturation per-log
 * CPU the same within noise (docs/benchmarks.md, "Memory"). */
#define OTF__NET_POOL_BYTES (512u * 1024)
#define OTF__NET_DIRECT_MIN (64u * 1024)
/* Announcing costs a client nothing: per connection, the whole buffers
 * taken for messages and bodies still arriving stay within this; beyond
 * it, memory grows with the bytes that arrived as before. */
#define OTF__NET_RESERVE_MAX (1024u * 1024)

/* At a listener's connection callback, before uv_accept: true if a
 * connection may be accepted now (below the cap, or the connection idle
 * the longest was just evicted for it). False: nothing is idle; w is
 * queued and the caller must return WITHOUT uv_accept, which pauses the
 * listener (libuv stops polling it while a connection waits); resume(w)
 * is called once a slot frees (a connection of this loop closes, or one
 * has become idle and is evicted: retried every 50 ms while paused), and
 * must accept. */
bool otf__net_conns_admit(otf__net_conns_t *r, otf__net_waiter_t *w,
                          void (*resume)(otf__net_waiter_t *w));
/* Dequeues a paused listener (server close); no-op if not queued. */
void otf__net_conns_cancel(otf__net_waiter_t *w);

/* A connection accepted: counted, most recently active. */
void otf__net_conns_add(otf__net_conns_t *r, otf__net_link_t *l, bool (*idle)(otf__net_link_t *),
                        void (*evict)(otf__net_link_t *));
/* Bytes arrived: most recently active. */
void otf__net_conns_touch(otf__net_link_t *l);
/* Its handles are closed: uncounted (no-op if evicted); may resume a
 * paused listener of the loop, so call it where the loop may run code. */
void otf__net_conns_remove(otf__net_link_t *l);

/* A listener's connection callback got status < 0. For EMFILE/ENFILE
 * makes room (evicts the connection idle the longest, else accepts and
 * closes one pending connection with a reserve descriptor), so that
 * libuv's accept loop does not spin; logs once. Other errors: nothing. */
void otf__net_accept_failed(otf__net_conns_t *r, uv_stream_t *listener, int status);

/* ---- net_wake.c: wake batching for large requests ----
 * A large request arrives in many TCP segments, and a loop woken by each
 * reads each on its own. While a request announced more bytes (a gRPC
 * message prefix), the server raises the socket's SO_RCVLOWAT to the bytes
 * certain to come, so the kernel wakes it once those have arrived; the
 * connection timer lowers it again after OTF__NET_WAKE_HOLD_MS in case the
 * client stops sending (a stream reset mid-message, a stalled client). End
 * of stream and errors wake regardless of the mark. Plaintext only: a TLS
 * session may hold decrypted bytes of its own. Not used for HTTP/1.1 yet:
 * a raised mark there slowed libcurl clients at saturation, whose bodies
 * arrive in about 1.3 wakeups anyway (docs/benchmarks.md, request). */

/* Below this many certain bytes a wakeup per segment is cheap enough;
 * above OTF__NET_WAKE_MAX a request is read in parts anyway (the kernel
 * lets the receive buffer grow to twice the mark). */
#define OTF__NET_WAKE_MIN     (64u * 1024)
#define OTF__NET_WAKE_MAX     (512u * 1024)
#define OTF__NET_WAKE_HOLD_MS 2

/* The mark for left bytes still due, of which the client may send
 * allowance before it needs anything from us (HTTP/2 flow control):
 * min(left, allowance) capped at OTF__NET_WAKE_MAX, or 1
 * (wake on any byte) below OTF__NET_WAKE_MIN. */
size_t otf__net_wake_bytes(size_t left, size_t allowance);

/* Sets SO_RCVLOWAT on tcp to n unless *cur already is n; *cur follows
 * (unchanged when the call fails: at worst a wakeup per segment). */
void otf__net_set_wake_bytes(uv_tcp_t *tcp, size_t *cur, size_t n);

#endif
