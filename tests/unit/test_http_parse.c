/* Socket-free HTTP request parser and Content-Encoding decoder. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "net/http_internal.h"
#include "otflow/alloc.h"
#include "otflow/err.h"

#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

/* Renders every message of a stream as text, feeding step bytes at a time
 * (0 = all at once). Returns the last event. */
static otf__http_ev_t parse_stream(const char *in, size_t len, size_t step, char *out,
                                   size_t out_cap, otf__http_parser_t *p)
{
	size_t off = 0, w = 0;
	otf__http_ev_t ev = OTF__HTTP_EV_NONE;
	out[0] = '\0';
	while (off < len) {
		size_t n = step ? (len - off < step ? len - off : step) : len - off;
		size_t used = otf__http_parser_feed(p, in + off, n, &ev);
		off += used;
		if (ev == OTF__HTTP_EV_ERROR)
			break;
		if (ev == OTF__HTTP_EV_MESSAGE) {
			otf__http_msg_t *m = otf__http_parser_take(p);
			assert_non_null(m);
			w += (size_t)snprintf(out + w, out_cap - w, "%s %s HTTP/%u.%u ka=%d",
			                      http_method_str(m->method), m->head + m->url_off,
			                      m->http_major, m->http_minor, m->keep_alive);
			for (uint32_t i = 0; i < m->n_hdrs; i++)
				w += (size_t)snprintf(out + w, out_cap - w, " [%s=%s]",
				                      m->head + m->hdrs[i].name_off,
				                      m->head + m->hdrs[i].value_off);
			w += (size_t)snprintf(out + w, out_cap - w, " body=%.*s\n",
			                      m->body ? (int)m->body->len : 0,
			                      m->body ? (const char *)m->body->data : "");
			otf__http_msg_destroy(m);
		} else {
			assert_int_equal(used, n); /* no event: everything consumed */
		}
	}
	return ev;
}

static const char pipeline[] =
    "GET /v1/traces?a=1 HTTP/1.1\r\nHost: example\r\nX-Empty:\r\nX-Trail: v  \r\n\r\n"
    "POST /v1/logs HTTP/1.1\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
    "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    "GET /old HTTP/1.0\r\n\r\n";

static const char pipeline_expect[] =
    "GET /v1/traces?a=1 HTTP/1.1 ka=1 [Host=example] [X-Empty=] [X-Trail=v] body=\n"
    "POST /v1/logs HTTP/1.1 ka=0 [Content-Length=5] [Connection=close] body=hello\n"
    "POST /c HTTP/1.1 ka=1 [Transfer-Encoding=chunked] body=abcde\n"
    "GET /old HTTP/1.0 ka=0 body=\n";

static void test_byte_by_byte_equals_whole(void **state)
{
	(void)state;
	char whole[2048], bytes[2048], sevens[2048];
	size_t steps[] = {0, 1, 7};
	char *outs[] = {whole, bytes, sevens};
	for (size_t i = 0; i < 3; i++) {
		otf__http_parser_t p;
		otf__http_parser_init(&p, 4096, 4096);
		otf__http_ev_t ev = parse_stream(pipeline, sizeof pipeline - 1, steps[i], outs[i],
		                                 sizeof whole, &p);
		assert_int_not_equal(ev, OTF__HTTP_EV_ERROR);
		assert_false(otf__http_parser_mid_request(&p));
		otf__http_parser_close(&p);
	}
	assert_string_equal(whole, pipeline_expect);
	assert_string_equal(bytes, pipeline_expect);
	assert_string_equal(sevens, pipeline_expect);
}

static void test_header_lookup_case_insensitive(void **state)
{
	(void)state;
	static const char req[] = "GET / HTTP/1.1\r\ncontent-TYPE: application/x-protobuf\r\n\r\n";
	otf__http_parser_t p;
	otf__http_parser_init(&p, 4096, 4096);
	otf__http_ev_t ev;
	size_t n = otf__http_parser_feed(&p, req, sizeof req - 1, &ev);
	assert_int_equal(n, sizeof req - 1);
	assert_int_equal(ev, OTF__HTTP_EV_MESSAGE);
	otf__http_msg_t *m = otf__http_parser_take(&p);
	const otf__http_hdr_t *h = otf__http_msg_header(m, "Content-Type", 12);
	assert_non_null(h);
	assert_string_equal(m->head + h->value_off, "application/x-protobuf");
	assert_null(otf__http_msg_header(m, "Content-Length", 14));
	otf__http_msg_destroy(m);
	otf__http_parser_close(&p);
}

/* Feeds in one go; expects an error with status. */
static void expect_error(const char *req, size_t max_header, size_t max_body, int status,
                         size_t step)
{
	otf__http_parser_t p;
	otf__http_parser_init(&p, max_header, max_body);
	char out[1024];
	otf__http_ev_t ev = parse_stream(req, strlen(req), step, out, sizeof out, &p);
	assert_int_equal(ev, OTF__HTTP_EV_ERROR);
	assert_int_equal(p.err_status, status);
	assert_non_null(p.err_msg);
	otf__http_parser_close(&p);
}

static void test_limits_and_errors(void **state)
{
	(void)state;
	for (size_t step = 0; step <= 1; step++) {
		/* The announced length alone is enough: no body is sent. */
		expect_error("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 4096, 100, 413,
		             step);
		expect_error(
		    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "40\r\n0123456789012345678901234567890123456789012345678901234567890123\r\n"
		    "40\r\n0123456789012345678901234567890123456789012345678901234567890123\r\n",
		    4096, 100, 413, step);
		expect_error(
		    "GET / HTTP/1.1\r\nX-Big: 0123456789012345678901234567890123456789\r\n\r\n", 40,
		    100, 431, step);
		expect_error("\x16\x03\x01\x02\x00garbage\r\n\r\n", 4096, 100, 400, step);
		expect_error("GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 4096, 100, 400, step);
	}
	/* Exactly at the limit is fine. */
	otf__http_parser_t p;
	otf__http_parser_init(&p, 4096, 5);
	char out[512];
	static const char ok[] = "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
	assert_int_equal(parse_stream(ok, sizeof ok - 1, 1, out, sizeof out, &p),
	                 OTF__HTTP_EV_MESSAGE);
	otf__http_parser_close(&p);
}

static void test_expect_continue_and_mid_request(void **state)
{
	(void)state;
	static const char head[] =
	    "POST / HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n";
	otf__http_parser_t p;
	otf__http_parser_init(&p, 4096, 100);
	otf__http_ev_t ev;
	assert_int_equal(otf__http_parser_feed(&p, head, sizeof head - 1, &ev), sizeof head - 1);
	assert_int_equal(ev, OTF__HTTP_EV_NONE);
	assert_true(p.expect_continue);
	assert_true(otf__http_parser_mid_request(&p));
	assert_int_equal(otf__http_parser_feed(&p, "abc", 3, &ev), 3);
	assert_int_equal(ev, OTF__HTTP_EV_MESSAGE);
	otf__http_msg_destroy(otf__http_parser_take(&p));
	assert_false(p.expect_continue);
	otf__http_parser_close(&p); /* also frees a half-parsed message */

	otf__http_parser_init(&p, 4096, 100);
	otf__http_parser_feed(&p, head, 20, &ev);
	assert_true(otf__http_parser_mid_request(&p));
	otf__http_parser_close(&p);
}

/* Content-Encoding. */

static const char plain[] = "resourceSpans: the quick brown fox jumps over the lazy dog, "
                            "the quick brown fox jumps over the lazy dog";

static otf_buf_t *zlib_compress(int window_bits)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY),
	                 Z_OK);
	otf_buf_t *b = otf_buf_create(1024);
	zs.next_in = (Bytef *)plain;
	zs.avail_in = sizeof plain - 1;
	zs.next_out = b->data;
	zs.avail_out = (uInt)b->cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	b->len = b->cap - zs.avail_out;
	deflateEnd(&zs);
	return b;
}

static otf_buf_t *zstd_compress(void)
{
	otf_buf_t *b = otf_buf_create(ZSTD_compressBound(sizeof plain));
	b->len = ZSTD_compress(b->data, b->cap, plain, sizeof plain - 1, 3);
	assert_false(ZSTD_isError(b->len));
	return b;
}

static void expect_decoded(const char *enc, otf_buf_t *in)
{
	otf_buf_t *out = NULL;
	const char *detail = NULL;
	size_t n = sizeof plain - 1;
	assert_int_equal(otf__http_decode(enc, strlen(enc), in, n, &out, &detail), 0);
	assert_non_null(out);
	assert_int_equal(out->len, n);
	assert_memory_equal(out->data, plain, n);
	otf_buf_unref(out);
	/* One byte under the decoded size is refused. */
	assert_int_equal(otf__http_decode(enc, strlen(enc), in, n - 1, &out, &detail),
	                 OTF_E_TOO_LARGE);
	assert_null(out);
	assert_non_null(detail);
}

static void test_decode(void **state)
{
	(void)state;
	otf_alloc_stats_t before, after;
	otf_alloc_stats(&before);
	otf_buf_t *gz = zlib_compress(15 + 16), *zl = zlib_compress(15), *raw = zlib_compress(-15);
	otf_buf_t *zs = zstd_compress();
	expect_decoded("gzip", gz);
	expect_decoded(" GZIP ", gz);
	expect_decoded("deflate", zl);
	expect_decoded("deflate", raw);
	expect_decoded("zstd", zs);

	otf_buf_t *id = otf_buf_create_copy(plain, sizeof plain - 1), *out = NULL;
	const char *detail;
	assert_int_equal(otf__http_decode("identity", 8, id, 1000, &out, &detail), 0);
	assert_ptr_equal(out, id); /* no copy */
	otf_buf_unref(out);
	assert_int_equal(otf__http_decode(NULL, 0, NULL, 1000, &out, &detail), 0);
	assert_null(out);
	assert_int_equal(otf__http_decode("br", 2, id, 1000, &out, &detail), OTF_E_UNSUPPORTED);

	/* Corrupt, truncated and trailing-garbage streams. */
	assert_int_equal(otf__http_decode("gzip", 4, id, 1000, &out, &detail), OTF_E_INVAL);
	assert_non_null(detail);
	assert_int_equal(otf__http_decode("zstd", 4, id, 1000, &out, &detail), OTF_E_INVAL);
	gz->len -= 5;
	assert_int_equal(otf__http_decode("gzip", 4, gz, 1000, &out, &detail), OTF_E_INVAL);
	zs->len -= 3;
	assert_int_equal(otf__http_decode("zstd", 4, zs, 1000, &out, &detail), OTF_E_INVAL);
	zl->data[zl->len++] = 'x';
	assert_int_equal(otf__http_decode("deflate", 7, zl, 1000, &out, &detail), OTF_E_INVAL);
	assert_null(out);

	otf_buf_unref(gz);
	otf_buf_unref(zl);
	otf_buf_unref(raw);
	otf_buf_unref(zs);
	otf_buf_unref(id);
	otf_alloc_stats(&after);
	assert_int_equal(after.bytes_in_use, before.bytes_in_use);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_byte_by_byte_equals_whole),
	    cmocka_unit_test(test_header_lookup_case_insensitive),
	    cmocka_unit_test(test_limits_and_errors),
	    cmocka_unit_test(test_expect_continue_and_mid_request),
	    cmocka_unit_test(test_decode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
