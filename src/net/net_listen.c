/* Listening sockets shared by the HTTP/1.1 and gRPC servers: bind once per
 * process and endpoint, share that socket between the servers of one
 * group (one per worker loop), hand to libuv, report the bound port.
 *
 * Why not SO_REUSEPORT: on Linux any socket of the same effective uid may
 * join a reuseport group, so a second otflow started on a port already in
 * use would bind fine and the kernel would split the connections between
 * the two processes. Instead the first server of a group binds exclusively
 * (SO_REUSEADDR only, which does not allow two listeners on one port), and
 * every server of the group, including the first, gets its own dup() of
 * that socket for its loop. Each loop polls the same listening socket; a
 * connection wakes every loop and exactly one accept() wins, the others
 * see EAGAIN, which libuv treats as "nothing to do". A second process gets
 * EADDRINUSE at bind. */
#include "net/net_internal.h"

#include "otflow/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SLOT_GONE UINT32_MAX

/* One exclusively bound socket and the servers sharing it. */
struct otf__net_share {
	otf__net_share_t *next;
	const void *group;
	const void *alias; /* a second group finding it, while held (hold) */
	char host[256];
	uint16_t port;  /* as requested: 0 shares one ephemeral port */
	uint16_t bound; /* the port bound (matches too) */
	int fd;         /* the bound socket; each server holds a dup */
	unsigned refs;
	/* Connections per server of the group (accept balance), SLOT_GONE
	 * for a server that left; slots handed out: nslots. */
	_Atomic uint32_t nslots;
	_Atomic uint32_t conns[OTF__NET_SHARE_SLOTS];
};

/* Servers are created by worker threads concurrently at start-up. */
static pthread_mutex_t shares_lock = PTHREAD_MUTEX_INITIALIZER;
static otf__net_share_t *shares;

/* Unlinks and closes a share (lock held). */
static void share_drop(otf__net_share_t *sh)
{
	for (otf__net_share_t **p = &shares; *p; p = &(*p)->next)
		if (*p == sh) {
			*p = sh->next;
			break;
		}
	close(sh->fd);
	otf_free(sh);
}

static int bind_socket(uv_loop_t *loop, const char *host, uint16_t port)
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
	int rc = uv_getaddrinfo(loop, &gai, NULL, host, service, &hints);
	if (rc < 0)
		return rc;
	struct addrinfo *ai = gai.addrinfo;
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	int one = 1;
	/* SO_REUSEADDR: rebind at once after a restart despite TIME_WAIT; it
	 * does not let a second socket listen on the port (see the top). */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
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

int otf__net_listen_socket(uv_loop_t *loop, const char *host, uint16_t port, const void *group,
                           otf__net_share_t **share)
{
	*share = NULL;
	if (!host || !*host)
		host = "0.0.0.0";
	if (!group)
		return bind_socket(loop, host, port);
	if (strlen(host) >= sizeof shares->host)
		return -ENAMETOOLONG;
	pthread_mutex_lock(&shares_lock);
	otf__net_share_t *sh = shares;
	while (sh && ((sh->group != group && sh->alias != group) ||
	              (sh->port != port && sh->bound != port) || strcmp(sh->host, host)))
		sh = sh->next;
	int rc = 0;
	if (!sh) {
		sh = otf_calloc(1, sizeof *sh);
		if (!sh) {
			rc = -ENOMEM;
			goto out;
		}
		/* Under the lock: the other workers of the group wait for this
		 * bind instead of racing to it. */
		sh->fd = bind_socket(loop, host, port);
		if (sh->fd < 0) {
			rc = sh->fd;
			otf_free(sh);
			goto out;
		}
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		if (getsockname(sh->fd, (struct sockaddr *)&ss, &sl) == 0)
			sh->bound =
			    ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
			                                   : ((struct sockaddr_in *)&ss)->sin_port);
		sh->group = group;
		sh->port = port;
		snprintf(sh->host, sizeof sh->host, "%s", host);
		sh->next = shares;
		shares = sh;
	}
	int fd = fcntl(sh->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		if (!sh->refs)
			share_drop(sh);
		goto out;
	}
	sh->refs++;
	*share = sh;
	rc = fd;
out:
	pthread_mutex_unlock(&shares_lock);
	return rc;
}

int otf__net_share_join(otf__net_share_t *share)
{
	if (!share)
		return -1;
	pthread_mutex_lock(&shares_lock);
	uint32_t n = atomic_load(&share->nslots);
	int slot = -1;
	if (n < OTF__NET_SHARE_SLOTS) {
		atomic_store(&share->conns[n], 0);
		atomic_store(&share->nslots, n + 1);
		slot = (int)n;
	}
	pthread_mutex_unlock(&shares_lock);
	return slot;
}

void otf__net_share_set(otf__net_share_t *share, int slot, uint32_t conns)
{
	if (share && slot >= 0)
		atomic_store_explicit(&share->conns[slot], conns, memory_order_relaxed);
}

void otf__net_share_leave(otf__net_share_t *share, int slot)
{
	otf__net_share_set(share, slot, SLOT_GONE);
}

bool otf__net_share_ahead(const otf__net_share_t *share, int slot)
{
	if (!share || slot < 0)
		return false;
	uint32_t mine = atomic_load_explicit(&share->conns[slot], memory_order_relaxed);
	uint32_t n = atomic_load_explicit(&share->nslots, memory_order_relaxed);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t v = atomic_load_explicit(&share->conns[i], memory_order_relaxed);
		if (v < mine) /* SLOT_GONE is never below */
			return true;
	}
	return false;
}

void otf__net_listen_unshare(otf__net_share_t *share)
{
	if (!share)
		return;
	pthread_mutex_lock(&shares_lock);
	if (--share->refs == 0)
		share_drop(share);
	pthread_mutex_unlock(&shares_lock);
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

/* A rebuilt node's new config finds the old config's sockets: groups are
 * addresses inside a component's config struct (the receiver's protocol
 * settings), so the group at offset k of the old struct is matched by
 * offset k of the new one. The hold keeps each socket open meanwhile, so
 * the old instance closing its copy does not close the port before the
 * new instance has its own. */
struct otf__net_hold {
	struct otf__net_hold *next;
	otf__net_share_t *sh;
};

otf__net_hold_t *otf__net_listen_hold(const void *old, size_t len, const void *config)
{
	otf__net_hold_t *list = NULL;
	uintptr_t lo = (uintptr_t)old, nlo = (uintptr_t)config;
	pthread_mutex_lock(&shares_lock);
	for (otf__net_share_t *sh = shares; sh; sh = sh->next) {
		uintptr_t g = (uintptr_t)sh->group;
		if (g < lo || g >= lo + len || sh->alias)
			continue;
		otf__net_hold_t *h = otf_malloc(sizeof *h);
		if (!h)
			break; /* that socket is not shared: the port may be refused */
		h->sh = sh;
		h->next = list;
		list = h;
		sh->refs++;
		sh->alias = (const void *)(nlo + (g - lo));
	}
	pthread_mutex_unlock(&shares_lock);
	return list;
}

void otf__net_listen_release(otf__net_hold_t *h, bool adopt)
{
	pthread_mutex_lock(&shares_lock);
	while (h) {
		otf__net_hold_t *next = h->next;
		otf__net_share_t *sh = h->sh;
		if (adopt)
			sh->group = sh->alias;
		sh->alias = NULL;
		if (--sh->refs == 0)
			share_drop(sh);
		otf_free(h);
		h = next;
	}
	pthread_mutex_unlock(&shares_lock);
}
