/* An HTTP/1.1 body with a Content-Length of at least 64 KiB is taken
 * whole from the loop's buffer pool when it begins and the rest is read
 * straight into it (src/net/http_conn.c): the handler gets exactly the
 * bytes sent however they are split across reads, the next request on the
 * connection reuses the buffer, and a client that sends less than it
 * announced and closes leaves nothing held. Real sockets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "h2_client.h"
#include "net_srv.h"
#include "net/http_internal.h"
#include "otflow/alloc.h"
#include "otflow/bufpool.h"
#include "otflow/http_server.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The echo server of these tests (tests/support/net_srv.c). */
static ns_srv_t *srv_start(void)
{
	otf_http_server_config_t c = {.max_body_bytes = 8u << 20};
	return ns_http_start(&c);
}

static void send_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		assert_true(w > 0);
		c += w;
		n -= (size_t)w;
	}
}

/* Reads one response with a Content-Length; returns its body (malloc'd). */
static uint8_t *read_response(int fd, size_t *len)
{
	size_t cap = 1 << 20, n = 0;
	uint8_t *b = malloc(cap);
	for (int tries = 0; tries < 6000; tries++) {
		b[n] = 0;
		char *end = strstr((char *)b, "\r\n\r\n");
		if (end) {
			char *cl = strstr((char *)b, "Content-Length: ");
			assert_non_null(cl);
			size_t want = strtoul(cl + 16, NULL, 10),
			       head = (size_t)(end + 4 - (char *)b);
			if (n >= head + want) {
				assert_int_equal(memcmp(b, "HTTP/1.1 200", 12), 0);
				memmove(b, b + head, want);
				*len = want;
				return b;
			}
		}
		struct pollfd pf = {fd, POLLIN, 0};
		if (poll(&pf, 1, 10) <= 0)
			continue;
		ssize_t r = recv(fd, b + n, cap - 1 - n, 0);
		assert_true(r > 0);
		n += (size_t)r;
	}
	fail_msg("no complete response");
	return NULL;
}

/* 340 kB bodies, cut after the head, mid-body and near the end, two on one
 * keep-alive connection: echoed intact, read into pool buffers. */
static void test_body_read_in_place(void **state)
{
	(void)state;
	ns_srv_t *v = srv_start();
	const size_t len = 340000;
	uint8_t *p = ns_pattern(len, 5);
	int fd = tcp_connect(v->port);
	assert_true(fd >= 0);
	int sfd = -1;
	for (int round = 0; round < 2; round++) {
		char head[160];
		int hl = snprintf(
		    head, sizeof head,
		    "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n", len);
		send_all(fd, head, (size_t)hl);
		const size_t cuts[] = {1000, 150001, len - 3, len};
		size_t at = 0;
		for (size_t i = 0; i < 4; i++) {
			send_all(fd, p + at, cuts[i] - at);
			at = cuts[i];
			if (sfd < 0)
				sfd = ns_server_side_fd(v->port);
			if (at < len)
				ns_wait_read(sfd);
		}
		size_t n = 0;
		uint8_t *got = read_response(fd, &n);
		assert_int_equal(n, len);
		assert_memory_equal(got, p, len);
		free(got);
	}
	close(fd);
	assert_int_equal(atomic_load(&v->pooled), 2);
	assert_true(v->http->direct_reads >= 2);
	otf_bufpool_stats_t st = ns_pool_stats(v);
	assert_true(st.hits >= 1);
	free(p);
	ns_stop(v);
}

/* Announces 340 kB, sends 100 kB, closes: the buffer returns to the pool
 * and the next client is served. */
static void test_short_then_close(void **state)
{
	(void)state;
	ns_srv_t *v = srv_start();
	const size_t len = 340000;
	uint8_t *p = ns_pattern(len, 6);
	int fd = tcp_connect(v->port);
	char head[160];
	int hl = snprintf(head, sizeof head,
	                  "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n", len);
	send_all(fd, head, (size_t)hl);
	send_all(fd, p, 100000);
	ns_wait_read(ns_server_side_fd(v->port));
	assert_int_equal(ns_pool_stats(v).out_count, 1);
	close(fd);
	int i = 0;
	for (; i < 3000 && ns_pool_stats(v).out_count != 0; i++) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	assert_int_equal(ns_pool_stats(v).out_count, 0);
	fd = tcp_connect(v->port);
	send_all(fd, head, (size_t)hl);
	send_all(fd, p, len);
	size_t n = 0;
	uint8_t *got = read_response(fd, &n);
	assert_int_equal(n, len);
	assert_memory_equal(got, p, len);
	free(got);
	close(fd);
	free(p);
	ns_stop(v);
}

/* The pool on its own: bounded idle bytes, reuse within 25 %, release
 * from another thread, and destroy while a buffer is still out. */
static void *release_on_thread(void *b)
{
	otf_buf_unref(b);
	return NULL;
}

static void test_pool(void **state)
{
	(void)state;
	otf_alloc_stats_t a0, a1;
	otf_alloc_stats(&a0);
	otf_bufpool_t *p = otf_bufpool_create(1u << 20);
	otf_buf_t *b1 = otf_bufpool_get(p, 340000), *b2 = otf_bufpool_get(p, 340000),
	          *b3 = otf_bufpool_get(p, 340000);
	assert_true(b1->cap >= 340000 && b1->cap % OTF_BUFPOOL_GRAIN == 0);
	otf_buf_unref(b1);
	otf_buf_unref(b2);
	pthread_t th;
	pthread_create(&th, NULL, release_on_thread, b3);
	pthread_join(th, NULL);
	otf_bufpool_stats_t st;
	otf_bufpool_stats(p, &st);
	assert_int_equal(st.idle_count, 2); /* the third would pass 1 MiB */
	assert_true(st.idle_bytes <= 1u << 20);
	otf_buf_t *s = otf_bufpool_get(p, 70000); /* 128 KiB: no 384 KiB for it */
	otf_bufpool_stats(p, &st);
	assert_int_equal(st.hits, 0);
	otf_buf_t *again = otf_bufpool_get(p, 339000);
	otf_bufpool_stats(p, &st);
	assert_int_equal(st.hits, 1);
	/* Reserving beyond a pooled buffer moves the bytes to a plain one. */
	memset(again->data, 'x', 10);
	again->len = 10;
	assert_int_equal(otf_buf_reserve(&again, 1u << 20), 0);
	assert_int_equal(again->flags, 0);
	assert_memory_equal(again->data, "xxxxxxxxxx", 10);
	otf_buf_unref(again);
	otf_bufpool_destroy(p); /* s is still out */
	otf_buf_unref(s);
	otf_alloc_stats(&a1);
	assert_int_equal(a1.bytes_in_use, a0.bytes_in_use);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pool),
	    cmocka_unit_test(test_body_read_in_place),
	    cmocka_unit_test(test_short_then_close),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
