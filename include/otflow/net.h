/* Process-wide limits of the servers in otflow/http_server.h and
 * otflow/grpc_server.h: how many connections each loop keeps open.
 *
 * Every server on one loop shares that loop's count (all receivers, both
 * protocols), on top of each server's own max_connections. At the cap a
 * new connection evicts the one idle the longest (no request with the
 * handler: HTTP between requests, gRPC without an open call), so that a
 * well-behaved client keeps being served; when none is idle the loop stops
 * accepting (the kernel's backlog holds new connections) until one closes.
 * The cap exists so that accepting never exhausts the descriptor limit:
 * under exhaustion libuv's accept loop can spin and no client is served.
 *
 * Thread rules: all functions may be called from any thread; set the cap
 * before the servers start (it applies to every loop, read at each accept).
 */
#ifndef OTFLOW_NET_H
#define OTFLOW_NET_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Descriptors kept out of the connection budget, plus nofile / 16. */
#define OTF_NET_FD_RESERVE 64u
/* Per-loop cap when no total is configured, whatever the limit allows. */
#define OTF_NET_DEFAULT_LOOP_CONNECTIONS 4096u

/* Raises the soft RLIMIT_NOFILE to the hard one (systemd's default soft
 * limit is 1024, the hard one much higher). *limit (optional) gets the
 * soft limit now in force (UINT64_MAX = unlimited). Returns 0, or -errno
 * from getrlimit/setrlimit (then *limit is the unchanged soft limit). */
int otf_net_raise_nofile(uint64_t *limit);

/* Connections per loop for a process with nofile descriptors and loops
 * loops (worker loops plus the main loop of the admin endpoints):
 * (nofile - OTF_NET_FD_RESERVE - nofile / 16) / loops, limited by
 * max_total / loops when max_total is not 0 (runtime.max_connections),
 * else by OTF_NET_DEFAULT_LOOP_CONNECTIONS; at least 1. */
uint32_t otf_net_connection_cap(uint64_t nofile, uint32_t loops, uint32_t max_total);

/* Sets the per-loop cap (0 = none, the default: only each server's
 * max_connections applies). */
void otf_net_set_loop_connection_cap(uint32_t cap);
uint32_t otf_net_loop_connection_cap(void);

#ifdef __cplusplus
}
#endif
#endif
