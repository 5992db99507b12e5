/* Memory of the socket-free HTTP/1.1 parser and gRPC message reader
 * follows the bytes that arrived, not the sizes a client announces: the
 * attack shapes are a Content-Length of 20 MiB or a gRPC prefix of 4 MiB
 * followed by nothing (or a trickle). Measured with the counted
 * allocator's bytes_in_use. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "net/grpc_internal.h"
#include "net/http_internal.h"
#include "otflow/alloc.h"
#include "otflow/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t in_use(void)
{
	otf_alloc_stats_t st;
	otf_alloc_stats(&st);
	return st.bytes_in_use;
}

#define N_CONNS  60
#define ANNOUNCE (20u << 20)

static void test_http_announced_length_not_reserved(void **state)
{
	(void)state;
	static otf__http_parser_t p[N_CONNS];
	char head[128];
	int hl =
	    snprintf(head, sizeof head,
	             "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: %u\r\n\r\n", ANNOUNCE);
	uint64_t before = in_use();
	for (int i = 0; i < N_CONNS; i++) {
		otf__http_ev_t ev;
		otf__http_parser_init(&p[i], 8192, ANNOUNCE);
		assert_int_equal(otf__http_parser_feed(&p[i], head, (size_t)hl, &ev), hl);
		assert_int_equal(ev, OTF__HTTP_EV_NONE);
	}
	/* Headers only: the message and its header copy, a few KiB each, not
	 * 60 x 20 MiB. */
	uint64_t heads = in_use() - before;
	assert_true(heads < N_CONNS * 8192);

	/* A trickle of 100 body bytes per connection costs the first block. */
	char body[100];
	memset(body, 'b', sizeof body);
	for (int i = 0; i < N_CONNS; i++) {
		otf__http_ev_t ev;
		assert_int_equal(otf__http_parser_feed(&p[i], body, sizeof body, &ev), sizeof body);
		assert_int_equal(ev, OTF__HTTP_EV_NONE);
	}
	assert_true(in_use() - before < heads + N_CONNS * (OTF__NET_BUF_FIRST + 256));

	/* Bytes that do arrive are kept, and capacity stays within twice what
	 * arrived (plus the first block). */
	static char chunk[64 * 1024];
	memset(chunk, 'c', sizeof chunk);
	size_t got = sizeof body;
	for (int k = 0; k < 20; k++) {
		otf__http_ev_t ev;
		otf__http_parser_feed(&p[0], chunk, sizeof chunk, &ev);
		got += sizeof chunk;
		assert_int_equal(p[0].msg->body->len, got);
		assert_true(p[0].msg->body->cap <= 2 * got + OTF__NET_BUF_FIRST);
		assert_true(p[0].msg->body->cap <= ANNOUNCE);
	}
	for (int i = 0; i < N_CONNS; i++)
		otf__http_parser_close(&p[i]);
	assert_int_equal(in_use(), before);
}

/* A body that arrives with its headers is one allocation of exactly the
 * announced size, and the content is what was sent. */
static void test_http_body_in_one_piece(void **state)
{
	(void)state;
	size_t n = 300000;
	char *req = malloc(n + 128);
	int hl = sprintf(req, "POST / HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", n);
	for (size_t i = 0; i < n; i++)
		req[hl + (int)i] = (char)('a' + i % 26);
	otf__http_parser_t p;
	otf__http_parser_init(&p, 8192, 1u << 20);
	otf_alloc_stats_t a, b;
	otf_alloc_stats(&a);
	otf__http_ev_t ev;
	otf__http_parser_feed(&p, req, (size_t)hl + n, &ev);
	otf_alloc_stats(&b);
	assert_int_equal(ev, OTF__HTTP_EV_MESSAGE);
	otf__http_msg_t *m = otf__http_parser_take(&p);
	assert_int_equal(m->body->len, n);
	assert_int_equal(m->body->cap, n);
	assert_memory_equal(m->body->data, req + hl, n);
	/* message, header block (maybe grown once), body */
	assert_true(b.allocs_total - a.allocs_total <= 4);
	otf__http_msg_destroy(m);
	otf__http_parser_close(&p);
	free(req);
}

/* HTTP/0.9 "GET /" (no version) is answered 400 at once. */
static void test_http09_refused(void **state)
{
	(void)state;
	static const char *const in[] = {"GET /\r\n", "GET /\n", "GET /\r\n\r\n"};
	for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
		otf__http_parser_t p;
		otf__http_parser_init(&p, 8192, 1024);
		otf__http_ev_t ev;
		otf__http_parser_feed(&p, in[i], strlen(in[i]), &ev);
		assert_int_equal(ev, OTF__HTTP_EV_ERROR);
		assert_int_equal(p.err_status, 400);
		assert_non_null(strstr(p.err_msg, "HTTP/0.9"));
		otf__http_parser_close(&p);
	}
}

#define N_STREAMS 500
#define MSG_LEN   (4u << 20)

static void test_grpc_announced_length_not_reserved(void **state)
{
	(void)state;
	static otf__grpc_reader_t r[N_STREAMS];
	const uint8_t prefix[5] = {0, MSG_LEN >> 24, (MSG_LEN >> 16) & 255, (MSG_LEN >> 8) & 255,
	                           MSG_LEN & 255};
	uint64_t before = in_use();
	const char *detail = NULL;
	for (int i = 0; i < N_STREAMS; i++) {
		otf__grpc_reader_init(&r[i], MSG_LEN, false);
		assert_int_equal(otf__grpc_reader_feed(&r[i], prefix, 5, &detail), 0);
	}
	assert_int_equal(in_use(), before); /* a prefix reserves nothing */
	uint8_t trickle[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	for (int i = 0; i < N_STREAMS; i++)
		assert_int_equal(otf__grpc_reader_feed(&r[i], trickle, sizeof trickle, &detail), 0);
	assert_true(in_use() - before <= (uint64_t)N_STREAMS * (OTF__NET_BUF_FIRST + 64));

	/* Fill one message in 16 KiB DATA-sized pieces: the content is kept
	 * and capacity stays within twice what arrived. */
	static uint8_t piece[16384];
	size_t got = sizeof trickle;
	while (got < MSG_LEN) {
		size_t n = MSG_LEN - got < sizeof piece ? MSG_LEN - got : sizeof piece;
		for (size_t i = 0; i < n; i++)
			piece[i] = (uint8_t)((got + i) * 7);
		assert_int_equal(otf__grpc_reader_feed(&r[0], piece, n, &detail), 0);
		got += n;
		assert_true(r[0].msg->cap <= 2 * got + OTF__NET_BUF_FIRST);
	}
	otf_buf_t *out = NULL;
	assert_int_equal(otf__grpc_reader_finish(&r[0], NULL, 0, &out, &detail), 0);
	assert_int_equal(out->len, MSG_LEN);
	assert_int_equal(out->cap, MSG_LEN);
	assert_memory_equal(out->data, trickle, sizeof trickle);
	for (size_t i = sizeof trickle; i < MSG_LEN; i += 4099)
		assert_int_equal(out->data[i], (uint8_t)(i * 7));
	otf_buf_unref(out);
	for (int i = 0; i < N_STREAMS; i++)
		otf__grpc_reader_close(&r[i]);
	assert_int_equal(in_use(), before);
}

/* Prefix and payload in one feed (the common case): one exact block. */
static void test_grpc_message_in_one_piece(void **state)
{
	(void)state;
	uint8_t buf[5 + 1000];
	buf[0] = 0;
	buf[1] = buf[2] = 0;
	buf[3] = 1000 >> 8;
	buf[4] = 1000 & 255;
	for (int i = 0; i < 1000; i++)
		buf[5 + i] = (uint8_t)i;
	otf__grpc_reader_t r;
	otf__grpc_reader_init(&r, 4096, false);
	const char *detail = NULL;
	otf_alloc_stats_t a, b;
	otf_alloc_stats(&a);
	assert_int_equal(otf__grpc_reader_feed(&r, buf, sizeof buf, &detail), 0);
	otf_alloc_stats(&b);
	assert_int_equal(b.allocs_total - a.allocs_total, 1);
	otf_buf_t *out = NULL;
	assert_int_equal(otf__grpc_reader_finish(&r, NULL, 0, &out, &detail), 0);
	assert_int_equal(out->cap, 1000);
	assert_memory_equal(out->data, buf + 5, 1000);
	otf_buf_unref(out);
	/* An empty message is still one message. */
	uint8_t empty[5] = {0};
	otf__grpc_reader_init(&r, 4096, false);
	assert_int_equal(otf__grpc_reader_feed(&r, empty, 5, &detail), 0);
	assert_int_equal(otf__grpc_reader_finish(&r, NULL, 0, &out, &detail), 0);
	assert_int_equal(out->len, 0);
	otf_buf_unref(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_http_announced_length_not_reserved),
	    cmocka_unit_test(test_http_body_in_one_piece),
	    cmocka_unit_test(test_http09_refused),
	    cmocka_unit_test(test_grpc_announced_length_not_reserved),
	    cmocka_unit_test(test_grpc_message_in_one_piece),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
