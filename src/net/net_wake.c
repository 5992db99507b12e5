/* Wake batching for large requests (net_internal.h says why and when):
 * the policy both servers share, and the socket option. */
#include "net/net_internal.h"

#include <sys/socket.h>

size_t otf__net_wake_bytes(size_t left, size_t allowance)
{
	size_t n = left < allowance ? left : allowance;
	if (n < OTF__NET_WAKE_MIN)
		return 1;
	return n > OTF__NET_WAKE_MAX ? OTF__NET_WAKE_MAX : n;
}

void otf__net_set_wake_bytes(uv_tcp_t *tcp, size_t *cur, size_t n)
{
	if (n == *cur)
		return;
	uv_os_fd_t fd;
	int v = (int)n;
	if (uv_fileno((uv_handle_t *)tcp, &fd) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof v) < 0)
		return;
	*cur = n;
}
