/* Socket helpers shared by the servers in src/net/. */
#ifndef OTFLOW_NET_NET_INTERNAL_H
#define OTFLOW_NET_NET_INTERNAL_H

#include <stdbool.h>
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

/* uv_tcp_init (handle->data = data) + uv_tcp_open(fd) + uv_listen. On
 * failure the fd is closed and the handle closed with close_cb (the caller
 * frees its memory there); returns -errno. */
int otf__net_listen_handle(uv_loop_t *loop, uv_tcp_t *handle, void *data, int fd,
                           uv_connection_cb on_conn, uv_close_cb close_cb);

/* Port bound by a listening handle, or -errno. */
int otf__net_bound_port(const uv_tcp_t *handle);

#define OTF__NET_LISTEN_BACKLOG 511

#endif
