/* Socket helpers shared by the servers in src/net/. */
#ifndef OTFLOW_NET_NET_INTERNAL_H
#define OTFLOW_NET_NET_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

/* A listening, non-blocking TCP socket on host:port (host NULL or "" =
 * 0.0.0.0; names are resolved synchronously, so call at start-up), with
 * SO_REUSEADDR and, if reuseport, SO_REUSEPORT. Returns the fd, or -errno /
 * UV_EAI_*. libuv 1.44 has no UV_TCP_REUSEPORT (1.49), hence the socket is
 * made here and handed to uv_tcp_open. */
int otf__net_listen_socket(uv_loop_t *loop, const char *host, uint16_t port, bool reuseport);

/* uv_tcp_init (handle->data = data) + uv_tcp_open(fd) + uv_listen. On
 * failure the fd is closed and the handle closed with close_cb (the caller
 * frees its memory there); returns -errno. */
int otf__net_listen_handle(uv_loop_t *loop, uv_tcp_t *handle, void *data, int fd,
                           uv_connection_cb on_conn, uv_close_cb close_cb);

/* Port bound by a listening handle, or -errno. */
int otf__net_bound_port(const uv_tcp_t *handle);

#define OTF__NET_LISTEN_BACKLOG 511

#endif
