/* Per-request cost of the gRPC server: a large message is woken for once
 * (SO_RCVLOWAT raised to the bytes its prefix announced, within what flow
 * control lets the client send), lowered again when the client stops
 * sending; and a message read whole is one exact allocation. Real sockets
 * and nghttp2's client session (tests/support/h2_client.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "h2_client.h"
#include "net_srv.h"
#include "net/grpc_internal.h"
#include "otflow/alloc.h"
#include "otflow/grpc_server.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The echo server of these tests (tests/support/net_srv.c). */
static ns_srv_t *srv_start(void)
{
	otf_grpc_server_config_t c = {.permit_without_stream = true, .min_ping_time_ms = 1};
	return ns_grpc_start(&c);
}

static int lowat(int fd)
{
	int v = -1;
	socklen_t l = sizeof v;
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &v, &l), 0);
	return v;
}

static void test_policy(void **state)
{
	(void)state;
	/* A few segments are not worth a raised mark. */
	assert_int_equal(otf__net_wake_bytes(OTF__NET_WAKE_MIN - 1, 1u << 20), 1);
	/* The bytes certain to come, as far as flow control lets them. */
	assert_int_equal(otf__net_wake_bytes(300000, 1u << 20), 300000);
	assert_int_equal(otf__net_wake_bytes(300000, 100000), 100000);
	assert_int_equal(otf__net_wake_bytes(300000, 1000), 1);
	assert_int_equal(otf__net_wake_bytes(4u << 20, 16u << 20), OTF__NET_WAKE_MAX);
}

/* 340 kB fed in 16 KiB DATA pieces, each told how much already arrived
 * behind it (a read of the whole request): one exact allocation and the
 * content kept; without the hint it is a doubling chain. */
static void test_message_read_whole_is_one_allocation(void **state)
{
	(void)state;
	const size_t len = 340000;
	uint8_t *p = ns_pattern(len, 0);
	size_t fl;
	uint8_t *f = grpc_frame(p, len, 0, &fl);
	for (int hint = 1; hint >= 0; hint--) {
		otf__grpc_reader_t r;
		otf__grpc_reader_init(&r, 4u << 20, false);
		const char *detail = NULL;
		otf_alloc_stats_t a, b;
		otf_alloc_stats(&a);
		for (size_t off = 0; off < fl; off += 16384) {
			size_t n = fl - off < 16384 ? fl - off : 16384;
			r.ahead = hint ? fl - off - n : 0;
			assert_int_equal(otf__grpc_reader_feed(&r, f + off, n, &detail), 0);
			r.ahead = 0;
		}
		otf_alloc_stats(&b);
		if (hint)
			assert_int_equal(b.allocs_total - a.allocs_total, 1);
		else
			assert_true(b.allocs_total - a.allocs_total > 1);
		otf_buf_t *out = NULL;
		assert_int_equal(otf__grpc_reader_finish(&r, NULL, 0, &out, &detail), 0);
		assert_int_equal(out->len, len);
		assert_int_equal(out->cap, len);
		assert_memory_equal(out->data, p, len);
		otf_buf_unref(out);
	}
	free(f);
	free(p);
}

/* Half of a 400 kB message sent: the server waits for the other half in
 * one wakeup (the mark is what is still due); the client then stalls, and
 * within a bounded time the mark is back to 1, so a second call on the
 * same connection is answered (echoed) while the first is still open; the
 * rest of the first then completes it with its content intact. */
static void test_mark_follows_the_message(void **state)
{
	(void)state;
	ns_srv_t *v = srv_start();
	const size_t len = 400000, half = 200000;
	uint8_t *p = ns_pattern(len, 0);
	size_t fl;
	uint8_t *f = grpc_frame(p, len, 0, &fl);
	h2_conn_t *c = h2_connect(v->port);
	assert_non_null(c);
	h2_pump(c, 20);
	int fd = ns_server_side_fd(v->port);
	assert_int_equal(lowat(fd), 1);

	/* Half of a message: the mark is what is still due. It stands for
	 * OTF__NET_WAKE_HOLD_MS only, which a loaded machine may pass
	 * between two checks: then another half message, a bounded number
	 * of times. */
	static h2_result_t open_calls[8];
	int n_open = 0, m = 0;
	while (n_open < 8 && m != (int)(len - half)) {
		assert_true(h2_submit_open(c, NS_M_ECHO, f, 5 + half, &open_calls[n_open++]) > 0);
		for (int i = 0; i < 100 && (m = lowat(fd)) != (int)(len - half); i++)
			h2_pump(c, 1); /* sends the half, in 1 ms steps */
	}
	assert_int_equal(m, (int)(len - half));
	/* The client stalls: the mark comes down within a bounded time. */
	for (int i = 0; i < 200 && lowat(fd) != 1; i++)
		h2_pump(c, 5);
	assert_int_equal(lowat(fd), 1);

	/* Another call on the same connection is not held back. */
	uint8_t small[100];
	memcpy(small, p, sizeof small);
	size_t sl;
	uint8_t *sf = grpc_frame(small, sizeof small, 0, &sl);
	h2_result_t r2 = {0};
	assert_true(h2_submit(c, NULL, NS_M_ECHO, NULL, NULL, sf, sl, &r2) > 0);
	for (int i = 0; i < 500 && !r2.closed; i++)
		h2_pump(c, 10);
	assert_true(r2.closed);
	assert_int_equal(r2.grpc_status, 0);
	size_t n;
	const uint8_t *got = grpc_unframe(&r2, &n);
	assert_non_null(got);
	assert_int_equal(n, sizeof small);
	assert_memory_equal(got, small, sizeof small);

	h2_close(c);
	for (int i = 0; i < n_open; i++)
		h2_result_free(&open_calls[i]);
	h2_result_free(&r2);

	/* And a whole message on a fresh connection is echoed intact. */
	h2_result_t r4 = {0};
	assert_int_equal(h2_unary(v->port, NS_M_ECHO, NULL, f, fl, &r4, 60000), 0);
	assert_int_equal(r4.grpc_status, 0);
	got = grpc_unframe(&r4, &n);
	assert_non_null(got);
	assert_int_equal(n, len);
	assert_memory_equal(got, p, len);
	h2_result_free(&r4);
	free(sf);
	free(f);
	free(p);
	ns_stop(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_policy),
	    cmocka_unit_test(test_message_read_whole_is_one_allocation),
	    cmocka_unit_test(test_mark_follows_the_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
