/* Listening sockets shared by the HTTP/1.1 and gRPC servers: bind
 * (optionally SO_REUSEPORT so that every worker loop can listen on the
 * same host:port), hand to libuv, report the bound port. */
#include "net/net_internal.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int otf__net_listen_socket(uv_loop_t *loop, const char *host, uint16_t port, bool reuseport)
{
	char service[8];
	snprintf(service, sizeof service, "%u", (unsigned)port);
	struct addrinfo hints;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	uv_getaddrinfo_t gai;
	/* A NULL callback makes uv_getaddrinfo synchronous: servers are
	 * created at start-up, where blocking on a name lookup is acceptable. */
	int rc =
	    uv_getaddrinfo(loop, &gai, NULL, host && *host ? host : "0.0.0.0", service, &hints);
	if (rc < 0)
		return rc;
	struct addrinfo *ai = gai.addrinfo;
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	int one = 1;
	/* SO_REUSEADDR: rebind at once after a restart despite TIME_WAIT. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, OTF__NET_LISTEN_BACKLOG) < 0) {
		rc = -errno;
		close(fd);
		goto out;
	}
	rc = fd;
out:
	uv_freeaddrinfo(gai.addrinfo);
	return rc;
}

int otf__net_listen_handle(uv_loop_t *loop, uv_tcp_t *handle, void *data, int fd,
                           uv_connection_cb on_conn, uv_close_cb close_cb)
{
	uv_tcp_init(loop, handle); /* cannot fail for AF_UNSPEC */
	handle->data = data;
	int rc = uv_tcp_open(handle, fd);
	if (rc < 0)
		close(fd); /* not adopted by the handle */
	else
		rc = uv_listen((uv_stream_t *)handle, OTF__NET_LISTEN_BACKLOG, on_conn);
	if (rc < 0)
		/* The handle is registered with the loop: it can only be freed
		 * once libuv is done with it. */
		uv_close((uv_handle_t *)handle, close_cb);
	return rc;
}

int otf__net_bound_port(const uv_tcp_t *handle)
{
	struct sockaddr_storage ss;
	int len = sizeof ss;
	int rc = uv_tcp_getsockname(handle, (struct sockaddr *)&ss, &len);
	if (rc < 0)
		return rc;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}
