/* An echo server on a loop thread of its own, and the socket helpers of
 * the server tests that watch what the server side of a real connection
 * has read (test_grpc_direct, test_http_direct, test_net_wake).
 *
 * ns_grpc_start: an otf_grpc_server answering every call with its request
 * message; ns_http_start: an otf_http_server answering every request 200
 * with its body (application/octet-stream), counting in `pooled` the
 * bodies handed over in a buffer of the loop's pool (OTF_BUF_POOLED).
 * Both bind 127.0.0.1 on a port of the OS's choice (cfg->host and
 * cfg->port are overridden), fail the test (cmocka) when they cannot,
 * and run until ns_stop, which closes the server, joins the thread and
 * asserts the close completed and the loop has nothing left.
 *
 * Threads: start and stop on the test's thread; the handlers run on the
 * server's; `closed` and `pooled` are atomics for that reason. */
#ifndef OTF_TEST_NET_SRV_H
#define OTF_TEST_NET_SRV_H

#include "otflow/bufpool.h"
#include "otflow/grpc_server.h"
#include "otflow/http_server.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* The echo method the gRPC server serves (any method is echoed). */
#define NS_M_ECHO "/test.Echo/Echo"

typedef struct ns_srv {
	uv_loop_t loop;
	uv_async_t stop;
	pthread_t th;
	otf_grpc_server_t *grpc; /* one of the two */
	otf_http_server_t *http;
	int port;
	_Atomic int closed;
	_Atomic int pooled; /* HTTP: bodies handed over that were pool buffers */
} ns_srv_t;

ns_srv_t *ns_grpc_start(const otf_grpc_server_config_t *cfg);
ns_srv_t *ns_http_start(const otf_http_server_config_t *cfg);
void ns_stop(ns_srv_t *v);
/* The server's loop's buffer pool (any thread: the pool's counters). */
otf_bufpool_stats_t ns_pool_stats(ns_srv_t *v);

/* The server's end of the one connection to port in this process: the
 * socket bound to port that has a peer (the listener has none); waits
 * 10 s for the accept, then fails the test. */
int ns_server_side_fd(int port);
/* Waits (10 s, then fails the test) until the server has read every byte
 * sent so far on fd (its receive queue is empty), so the next write comes
 * in a later read. */
void ns_wait_read(int fd);
/* n bytes of a pattern that does not repeat within 251 bytes (malloc). */
uint8_t *ns_pattern(size_t n, unsigned seed);

#endif
