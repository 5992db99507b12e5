/* A large gRPC message is read straight into its buffer (src/net/
 * grpc_direct.c), taken whole from the loop's buffer pool: the echo is
 * byte for byte what was sent however the bytes are split across reads
 * (prefix, frame headers and payload cut anywhere, frames of sizes the
 * scatter read does not expect), the buffer comes back to the pool, a
 * message larger than the pool is still served, max_recv_msg_size is
 * enforced before anything is allocated, and a client that sends less
 * than it announced and closes leaves nothing behind. Real sockets and
 * nghttp2's client session (tests/support/h2_client.c); raw DATA frames
 * where the split matters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "h2_client.h"
#include "net_srv.h"
#include "net/grpc_internal.h"
#include "otflow/alloc.h"
#include "otflow/bufpool.h"
#include "otflow/grpc_server.h"

#include <pthread.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The echo server of these tests (tests/support/net_srv.c). */
static ns_srv_t *srv_start(size_t max_recv)
{
	otf_grpc_server_config_t c = {
	    .permit_without_stream = true, .min_ping_time_ms = 1, .max_recv_msg_bytes = max_recv};
	return ns_grpc_start(&c);
}

static void expect_echo(const h2_result_t *r, const uint8_t *p, size_t len)
{
	assert_int_equal(r->grpc_status, 0);
	size_t n = 0;
	const uint8_t *got = grpc_unframe(r, &n);
	assert_non_null(got);
	assert_int_equal(n, len);
	assert_memory_equal(got, p, len);
}

/* Every byte written so far has been read and processed by the server
 * once a PING sent after them is acknowledged. */
static void sync_conn(h2_conn_t *c)
{
	int want = h2_ping_acks(c) + 1;
	h2_ping(c);
	for (int i = 0; i < 3000 && h2_ping_acks(c) < want; i++)
		h2_pump(c, 10);
	assert_int_equal(h2_ping_acks(c), want);
}

static void frame_hdr(uint8_t h[9], size_t len, uint8_t flags, int32_t sid)
{
	h[0] = (uint8_t)(len >> 16);
	h[1] = (uint8_t)(len >> 8);
	h[2] = (uint8_t)len;
	h[3] = 0; /* DATA */
	h[4] = flags;
	h[5] = (uint8_t)((uint32_t)sid >> 24);
	h[6] = (uint8_t)(sid >> 16);
	h[7] = (uint8_t)(sid >> 8);
	h[8] = (uint8_t)sid;
}

/* The gRPC-framed body f[0..fl) as raw DATA frames of the sizes in
 * sizes[] (cycled), END_STREAM on the last, one byte string. */
static uint8_t *as_frames(const uint8_t *f, size_t fl, const size_t *sizes, size_t n_sizes,
                          int32_t sid, size_t *out_len)
{
	uint8_t *out = malloc(fl + 9 * (fl + 1));
	size_t o = 0, off = 0, k = 0;
	while (off < fl) {
		size_t n = sizes[k++ % n_sizes];
		if (n > fl - off)
			n = fl - off;
		frame_hdr(out + o, n, off + n == fl ? 1 : 0, sid);
		memcpy(out + o + 9, f + off, n);
		o += 9 + n;
		off += n;
	}
	*out_len = o;
	return out;
}

/* Opens a call and sends its body as raw DATA frames, cut at cuts[]
 * (offsets into the raw bytes), each part processed by the server before
 * the next is written. */
static void raw_call(ns_srv_t *v, const uint8_t *msg, size_t len, const size_t *sizes,
                     size_t n_sizes, const size_t *cuts, size_t n_cuts)
{
	h2_conn_t *c = h2_connect(v->port);
	assert_non_null(c);
	h2_pump(c, 20);
	h2_result_t r = {0};
	int32_t sid = h2_submit_open(c, NS_M_ECHO, "", 0, &r);
	assert_true(sid > 0);
	sync_conn(c); /* HEADERS out */
	int sfd = ns_server_side_fd(v->port);
	size_t fl, rl;
	uint8_t *f = grpc_frame(msg, len, 0, &fl);
	uint8_t *raw = as_frames(f, fl, sizes, n_sizes, sid, &rl);
	size_t at = 0;
	for (size_t i = 0; i <= n_cuts; i++) {
		size_t end = i < n_cuts && cuts[i] < rl ? cuts[i] : rl;
		if (end <= at)
			continue;
		assert_int_equal(h2_write_raw(c, raw + at, end - at), 0);
		at = end;
		if (at < rl)
			ns_wait_read(sfd);
	}
	/* The trailers end the answer; the client's session never closes the
	 * stream, as its END_STREAM went out raw. */
	for (int i = 0; i < 3000 && r.grpc_status < 0; i++)
		h2_pump(c, 10);
	expect_echo(&r, msg, len);
	h2_result_free(&r);
	h2_close(c);
	free(raw);
	free(f);
}

/* 340 kB as a real client sends it (16 KiB frames, written together): read
 * in place by scatter reads, content intact; the buffer is the pool's and
 * the next call reuses it instead of allocating. */
static void test_message_read_in_place(void **state)
{
	(void)state;
	ns_srv_t *v = srv_start(0);
	const size_t len = 340000;
	uint8_t *p = ns_pattern(len, 1);
	size_t fl;
	uint8_t *f = grpc_frame(p, len, 0, &fl);
	for (int i = 0; i < 3; i++) {
		h2_conn_t *c = h2_connect(v->port);
		assert_non_null(c);
		h2_set_coalesce(c, true);
		h2_result_t r = {0};
		assert_true(h2_submit(c, NULL, NS_M_ECHO, NULL, NULL, f, fl, &r) > 0);
		assert_int_equal(h2_run(c, 60000), 0);
		expect_echo(&r, p, len);
		h2_result_free(&r);
		h2_close(c);
	}
	otf_bufpool_stats_t st = ns_pool_stats(v);
	print_message("pool: %llu hits, %llu misses; %llu scatter reads, %llu misses\n",
	              (unsigned long long)st.hits, (unsigned long long)st.misses,
	              (unsigned long long)v->grpc->direct_reads,
	              (unsigned long long)v->grpc->direct_misses);
	assert_true(st.hits >= 2); /* calls 2 and 3 */
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.out_count, 0);
	assert_true(st.idle_bytes >= len);
	free(f);
	free(p);
	ns_stop(v);
}

/* The prefix cut after 2 bytes, frame headers cut in the middle, payload
 * cut mid-frame: every split, same bytes out. */
static void test_splits_across_reads(void **state)
{
	(void)state;
	ns_srv_t *v = srv_start(0);
	const size_t len = 200000;
	uint8_t *p = ns_pattern(len, 2);
	const size_t s16[] = {16384};
	/* raw offsets: 9-byte frame header, then gRPC prefix (5), payload */
	const size_t prefix_cut[] = {9 + 2, 9 + 5 + 1000};
	raw_call(v, p, len, s16, 1, prefix_cut, 2);
	const size_t mid_cuts[] = {9 + 16384 + 4, 9 + 16384 + 9 + 7000, 3 * (9 + 16384) + 9};
	raw_call(v, p, len, s16, 1, mid_cuts, 3);
	/* A first frame carrying only the prefix. */
	const size_t first5[] = {5, 16384};
	raw_call(v, p, len, first5, 2, prefix_cut, 1);
	assert_true(v->grpc->direct_reads > 0);
	ns_stop(v);
	free(p);
}

/* Frames whose sizes change (so the scatter read guesses wrong) are
 * still read correctly, through the linear fallback. */
static void test_unexpected_frame_sizes(void **state)
{
	(void)state;
	ns_srv_t *v = srv_start(0);
	const size_t len = 300000;
	uint8_t *p = ns_pattern(len, 3);
	const size_t odd[] = {16384, 16384, 10000, 16384, 7, 16384, 16000};
	const size_t cut[] = {9 + 20000};
	raw_call(v, p, len, odd, 7, cut, 1);
	print_message("scatter reads %llu, guessed wrong %llu\n",
	              (unsigned long long)v->grpc->direct_reads,
	              (unsigned long long)v->grpc->direct_misses);
	assert_true(v->grpc->direct_reads > 0);
	assert_true(v->grpc->direct_misses > 0);
	ns_stop(v);
	free(p);
}

/* Larger than the pool keeps (and than a connection may reserve at
 * once): grows with the bytes as before, echoed intact; the pool's idle
 * memory stays within its bound. */
static void test_larger_than_pool(void **state)
{
	(void)state;
	ns_srv_t *v = srv_start(8u << 20);
	/* The outer two fit the pool's idle bound (OTF__NET_POOL_BYTES), the
	 * middle one neither it nor the reserve. */
	const size_t sizes[] = {400000, 3u << 20, 400000};
	for (size_t i = 0; i < 3; i++) {
		uint8_t *p = ns_pattern(sizes[i], (unsigned)i);
		size_t fl;
		uint8_t *f = grpc_frame(p, sizes[i], 0, &fl);
		h2_result_t r = {0};
		assert_int_equal(h2_unary(v->port, NS_M_ECHO, NULL, f, fl, &r, 60000), 0);
		expect_echo(&r, p, sizes[i]);
		h2_result_free(&r);
		free(f);
		free(p);
	}
	otf_bufpool_stats_t st = ns_pool_stats(v);
	assert_true(st.idle_bytes <= OTF__NET_POOL_BYTES);
	assert_true(st.hits >= 1); /* the second 400 kB call */
	assert_int_equal(st.out_count, 0);
	ns_stop(v);
}

static uint64_t heap_now(void)
{
	otf_alloc_stats_t st;
	otf_alloc_stats(&st);
	return st.bytes_in_use;
}

/* A prefix above max_recv_msg_size is refused before its buffer exists. */
static void test_max_recv_before_allocation(void **state)
{
	(void)state;
	ns_srv_t *v = srv_start(100000);
	h2_conn_t *c = h2_connect(v->port);
	assert_non_null(c);
	h2_pump(c, 20);
	sync_conn(c);
	uint64_t before = heap_now();
	const uint8_t prefix[5] = {0, 0, 0x03, 0x0d, 0x40}; /* 200000 */
	h2_result_t r = {0};
	assert_true(h2_submit_open(c, NS_M_ECHO, prefix, 5, &r) > 0);
	for (int i = 0; i < 3000 && !r.closed; i++)
		h2_pump(c, 10);
	assert_true(r.closed);
	assert_int_equal(r.grpc_status, OTF_GRPC_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(r.grpc_message, "max_recv_msg_size"));
	assert_true(heap_now() < before + 100000);
	assert_int_equal(ns_pool_stats(v).misses, 0);
	h2_result_free(&r);
	h2_close(c);
	ns_stop(v);
}

/* 40 streams on one connection each announce 300 kB and send 10 bytes:
 * only as many buffers are taken whole as fit OTF__NET_RESERVE_MAX (the
 * others grow with their bytes), so prefixes alone hold little. */
static void test_reserve_bounded_per_connection(void **state)
{
	(void)state;
	ns_srv_t *v = srv_start(0);
	const size_t len = 300000;
	uint8_t *p = ns_pattern(len, 7);
	size_t fl;
	uint8_t *f = grpc_frame(p, len, 0, &fl);
	h2_conn_t *c = h2_connect(v->port);
	assert_non_null(c);
	h2_pump(c, 20);
	sync_conn(c);
	uint64_t before = heap_now();
	static h2_result_t res[40];
	for (int i = 0; i < 40; i++)
		assert_true(h2_submit_open(c, NS_M_ECHO, f, 5 + 10, &res[i]) > 0);
	sync_conn(c);
	otf_bufpool_stats_t st = ns_pool_stats(v);
	uint64_t grown = heap_now() - before;
	print_message("%zu buffers taken whole, heap +%.1f MiB\n", st.out_count,
	              (double)grown / (1 << 20));
	assert_int_equal(st.out_count, OTF__NET_RESERVE_MAX / len);
	assert_true(grown < 2 * OTF__NET_RESERVE_MAX);
	h2_close(c);
	for (int i = 0; i < 40; i++)
		h2_result_free(&res[i]);
	for (int i = 0; i < 3000 && ns_pool_stats(v).out_count != 0; i++) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	assert_int_equal(ns_pool_stats(v).out_count, 0);
	free(f);
	free(p);
	ns_stop(v);
}

/* Announces 340 kB, sends 100 kB and closes: the reserved buffer goes
 * back, nothing is held (ASan checks the rest), and the next client is
 * served. */
static void test_short_then_close(void **state)
{
	(void)state;
	ns_srv_t *v = srv_start(0);
	const size_t len = 340000;
	uint8_t *p = ns_pattern(len, 4);
	size_t fl;
	uint8_t *f = grpc_frame(p, len, 0, &fl);
	for (int round = 0; round < 2; round++) {
		h2_conn_t *c = h2_connect(v->port);
		assert_non_null(c);
		h2_set_coalesce(c, true);
		h2_result_t r = {0};
		assert_true(h2_submit_open(c, NS_M_ECHO, f, 100000, &r) > 0);
		sync_conn(c);
		assert_int_equal(ns_pool_stats(v).out_count, 1); /* reserved whole */
		h2_close(c);
		h2_result_free(&r);
		int i = 0;
		for (; i < 3000 && ns_pool_stats(v).out_count != 0; i++) {
			struct timespec ts = {0, 10 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
		assert_int_equal(ns_pool_stats(v).out_count, 0);
	}
	h2_result_t r = {0};
	assert_int_equal(h2_unary(v->port, NS_M_ECHO, NULL, f, fl, &r, 60000), 0);
	expect_echo(&r, p, len);
	h2_result_free(&r);
	free(f);
	free(p);
	ns_stop(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_message_read_in_place),
	    cmocka_unit_test(test_splits_across_reads),
	    cmocka_unit_test(test_unexpected_frame_sizes),
	    cmocka_unit_test(test_larger_than_pool),
	    cmocka_unit_test(test_max_recv_before_allocation),
	    cmocka_unit_test(test_short_then_close),
	    cmocka_unit_test(test_reserve_bounded_per_connection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
