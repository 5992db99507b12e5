/* exporterhelper (the OTLP exporters' shared retry and queue): the backoff
 * schedule (jitter bounds, growth up to max_interval, max_elapsed_time,
 * never stopping at 0), the queue (bounded budget, FIFO order, full
 * refusal and release), request compression round trips through the
 * server side's decoder, google.rpc.Status / RetryInfo parsing, and the
 * configuration defaults and checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "components/exporters/exporterhelper/exporterhelper.h"
#include "components/exporters/otlp/grpc_client.h"
#include "net/http_internal.h"

#include "otflow/err.h"
#include "otflow/grpc_server.h"

#include <string.h>

#define S 1000000000ull

static otf_exph_retry_config_t defaults(void)
{
	otf_exph_retry_config_t c;
	memset(&c, 0, sizeof c);
	assert_int_equal(otf_config_schema_defaults(otf__exph_retry_schema, &c), 0);
	return c;
}

static void test_retry_defaults(void **st)
{
	(void)st;
	otf_exph_retry_config_t c = defaults();
	assert_true(c.enabled);
	assert_int_equal(c.initial_interval_ns, 5 * S);
	assert_true(c.randomization_factor == 0.5);
	assert_true(c.multiplier == 1.5);
	assert_int_equal(c.max_interval_ns, 30 * S);
	assert_int_equal(c.max_elapsed_time_ns, 300 * S);
	otf_exph_queue_config_t q;
	memset(&q, 0, sizeof q);
	assert_int_equal(otf_config_schema_defaults(otf__exph_queue_schema, &q), 0);
	assert_true(q.enabled);
	assert_int_equal(q.num_consumers, 10);
	assert_int_equal(q.queue_size, 1000);
	assert_int_equal(q.sizer, OTF_EXPH_SIZER_REQUESTS);
	assert_true(q.wait_for_result);
	char err[200];
	assert_int_equal(otf__exph_validate(&c, &q, err, sizeof err), 0);
	c.randomization_factor = 1.5;
	assert_int_equal(otf__exph_validate(&c, &q, err, sizeof err), OTF_E_CONFIG);
	assert_non_null(strstr(err, "randomization_factor"));
	c = defaults();
	q.num_consumers = 0;
	assert_int_equal(otf__exph_validate(&c, &q, err, sizeof err), OTF_E_CONFIG);
	assert_non_null(strstr(err, "num_consumers"));
}

/* The un-jittered intervals: 5, 7.5, 11.25, 16.875, 25.3125, then 30
 * forever; each delay within interval * [0.5, 1.5]. */
static void test_backoff_schedule(void **st)
{
	(void)st;
	otf_exph_retry_config_t c = defaults();
	c.max_elapsed_time_ns = 0; /* never stop */
	const double want[] = {5, 7.5, 11.25, 16.875, 25.3125, 30, 30, 30};
	otf_exph_backoff_t lo, mid, hi;
	otf__exph_backoff_reset(&lo, &c, 0);
	otf__exph_backoff_reset(&mid, &c, 0);
	otf__exph_backoff_reset(&hi, &c, 0);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		double w = want[i] * (double)S;
		int64_t a = otf__exph_backoff_next(&lo, &c, 0, 0.0);
		int64_t b = otf__exph_backoff_next(&mid, &c, 0, 0.5);
		int64_t d = otf__exph_backoff_next(&hi, &c, 0, 0.999999999);
		assert_true((double)a >= w * 0.5 - 1 && (double)a <= w * 0.5 + 1);
		assert_true((double)b >= w - 2 && (double)b <= w + 2);
		assert_true((double)d <= w * 1.5 + 2 && (double)d >= w * 1.5 - 40);
	}
	/* Any random value stays inside the bounds. */
	otf_exph_backoff_t r;
	otf__exph_backoff_reset(&r, &c, 0);
	for (int i = 0; i < 100; i++) {
		double cur = r.cur_ns;
		int64_t d = otf__exph_backoff_next(&r, &c, 0, (double)(i % 10) / 10.0);
		assert_true((double)d >= cur * 0.5 - 1 && (double)d <= cur * 1.5 + 1);
		assert_true(r.cur_ns <= (double)c.max_interval_ns);
	}
	/* No jitter: exact values. */
	c.randomization_factor = 0;
	otf__exph_backoff_reset(&r, &c, 0);
	assert_int_equal(otf__exph_backoff_next(&r, &c, 0, 0.0), 5 * S);
	assert_int_equal(otf__exph_backoff_next(&r, &c, 0, 0.0), 7500000000ll);
}

static void test_backoff_max_elapsed(void **st)
{
	(void)st;
	otf_exph_retry_config_t c = defaults();
	c.randomization_factor = 0;
	c.max_elapsed_time_ns = 20 * S;
	otf_exph_backoff_t b;
	otf__exph_backoff_reset(&b, &c, 100 * S);
	/* t=100: wait 5 (ends 105, elapsed 5 <= 20) */
	assert_int_equal(otf__exph_backoff_next(&b, &c, 100 * S, 0), 5 * S);
	/* t=105: wait 7.5 -> elapsed 12.5 */
	assert_int_equal(otf__exph_backoff_next(&b, &c, 105 * S, 0), 7500000000ll);
	/* t=112.5: wait 11.25 would end at elapsed 23.75 > 20: stop */
	assert_int_equal(otf__exph_backoff_next(&b, &c, 112500000000ull, 0), -1);
	/* Exactly at the limit still retries. */
	otf__exph_backoff_reset(&b, &c, 0);
	assert_int_equal(otf__exph_backoff_next(&b, &c, 15 * S, 0), 5 * S);
	otf__exph_backoff_reset(&b, &c, 0);
	assert_int_equal(otf__exph_backoff_next(&b, &c, 15 * S + 1, 0), -1);
}

static void test_queue(void **st)
{
	(void)st;
	otf_exph_queue_t q;
	otf_exph_req_t r[5];
	memset(r, 0, sizeof r);
	otf__exph_queue_init(&q, 3);
	assert_null(otf__exph_queue_pop(&q));
	for (int i = 0; i < 3; i++) {
		assert_int_equal(otf__exph_queue_reserve(&q, 1), 0);
		r[i].items = (uint64_t)i;
		otf__exph_queue_push(&q, &r[i]);
	}
	/* Full: refused, nothing changes. */
	assert_int_equal(otf__exph_queue_reserve(&q, 1), OTF_E_NOSPACE);
	assert_int_equal(q.used, 3);
	assert_int_equal(q.len, 3);
	/* Popping does not free budget (the request is still held: in
	 * flight); releasing does. */
	assert_ptr_equal(otf__exph_queue_pop(&q), &r[0]);
	assert_int_equal(otf__exph_queue_reserve(&q, 1), OTF_E_NOSPACE);
	otf__exph_queue_release(&q, 1);
	assert_int_equal(otf__exph_queue_reserve(&q, 1), 0);
	otf__exph_queue_push(&q, &r[3]);
	assert_ptr_equal(otf__exph_queue_pop(&q), &r[1]);
	assert_ptr_equal(otf__exph_queue_pop(&q), &r[2]);
	assert_ptr_equal(otf__exph_queue_pop(&q), &r[3]);
	assert_null(otf__exph_queue_pop(&q));
	assert_int_equal(q.len, 0);
	/* Items/bytes sizers: a request larger than the rest is refused, one
	 * larger than the whole capacity always. */
	otf__exph_queue_init(&q, 100);
	assert_int_equal(otf__exph_queue_reserve(&q, 60), 0);
	assert_int_equal(otf__exph_queue_reserve(&q, 41), OTF_E_NOSPACE);
	assert_int_equal(otf__exph_queue_reserve(&q, 40), 0);
	assert_int_equal(otf__exph_queue_reserve(&q, UINT64_MAX), OTF_E_NOSPACE);
	otf__exph_queue_release(&q, 100);
	assert_int_equal(otf__exph_queue_reserve(&q, 101), OTF_E_NOSPACE);
	assert_int_equal(otf__exph_queue_reserve(&q, 100), 0);
}

static void test_compress(void **st)
{
	(void)st;
	otf_buf_t *in = otf_buf_create(100000);
	for (size_t i = 0; i < 100000; i++)
		in->data[i] = (uint8_t)("otflow exporter "[i % 16] + (i / 997) % 3);
	in->len = 100000;
	static const char *const names[] = {"gzip", "zstd", "none"};
	for (int k = 0; k < 3; k++) {
		int c = otf__exph_compression_parse(names[k]);
		assert_true(c >= 0);
		assert_string_equal(otf__exph_compression_name((otf_exph_compression_t)c),
		                    names[k]);
		otf_buf_t *z = NULL, *back = NULL;
		assert_int_equal(otf__exph_compress((otf_exph_compression_t)c, in, &z), 0);
		if (c != OTF_EXPH_COMPRESSION_NONE)
			assert_true(z->len < in->len / 4);
		const char *detail = NULL;
		const char *enc = c == OTF_EXPH_COMPRESSION_NONE ? "" : names[k];
		assert_int_equal(otf__http_decode(enc, strlen(enc), z, 1 << 20, &back, &detail), 0);
		assert_int_equal(back->len, in->len);
		assert_memory_equal(back->data, in->data, in->len);
		otf_buf_unref(back);
		otf_buf_unref(z);
	}
	assert_int_equal(otf__exph_compression_parse("br"), -1);
	assert_int_equal(otf__exph_compression_parse(NULL), OTF_EXPH_COMPRESSION_NONE);
	otf_buf_unref(in);
}

static void test_status(void **st)
{
	(void)st;
	/* Status{code 8, message "slow down", details [Any{RetryInfo{2.5s}},
	 * Any{other}]} */
	static const char type[] = "type.googleapis.com/google.rpc.RetryInfo";
	uint8_t b[256], *p = b;
	*p++ = 0x08;
	*p++ = 8;
	*p++ = 0x12;
	*p++ = 9;
	memcpy(p, "slow down", 9);
	p += 9;
	uint8_t ri[] = {0x0a, 6,    0x08, 2,    0x10,
	                0x80, 0xca, 0xb5, 0xee, 0x01}; /* 2s + 500000000ns */
	ri[1] = 8;
	size_t any_len = 2 + (sizeof type - 1) + 2 + sizeof ri;
	*p++ = 0x1a;
	*p++ = (uint8_t)any_len;
	*p++ = 0x0a;
	*p++ = (uint8_t)(sizeof type - 1);
	memcpy(p, type, sizeof type - 1);
	p += sizeof type - 1;
	*p++ = 0x12;
	*p++ = (uint8_t)sizeof ri;
	memcpy(p, ri, sizeof ri);
	p += sizeof ri;
	*p++ = 0x1a;
	*p++ = 5;
	*p++ = 0x0a;
	*p++ = 3;
	memcpy(p, "x/y", 3);
	p += 3;
	int code;
	char msg[64];
	uint64_t ns;
	assert_int_equal(otf__exph_status_parse(b, (size_t)(p - b), &code, msg, sizeof msg, &ns),
	                 0);
	assert_int_equal(code, 8);
	assert_string_equal(msg, "slow down");
	assert_int_equal(ns, 2500000000ull);
	/* Truncated input is an error; a short message buffer truncates. */
	assert_int_equal(
	    otf__exph_status_parse(b, (size_t)(p - b) - 1, &code, msg, sizeof msg, &ns),
	    OTF_E_INVAL);
	assert_int_equal(otf__exph_status_parse(b, 13, &code, msg, 5, &ns), 0);
	assert_string_equal(msg, "slow");
	assert_int_equal(ns, 0);
}

/* The exporters' tls block is configtls.ClientConfig: a CA that cannot
 * be read is a startup error naming the key and the file. */
static void test_tls(void **st)
{
	(void)st;
	otf_exph_tls_config_t t;
	memset(&t, 0, sizeof t);
	char err[200];
	assert_int_equal(otf_tls_config_check(&t, OTF_TLS_CLIENT, "tls", err, sizeof err), 0);
	char ca[] = "/nonexistent/ca.pem";
	t.ca_file = ca;
	assert_int_equal(otf_tls_config_check(&t, OTF_TLS_CLIENT, "tls", err, sizeof err),
	                 OTF_E_CONFIG);
	assert_string_equal(err,
	                    "tls.ca_file: cannot read \"/nonexistent/ca.pem\": No such file or "
	                    "directory");
}

/* The write batch: nghttp2's bytes are copied into one stage (adjacent
 * pieces merged), message slices are referenced in place and held until
 * the batch is reset. */
static void test_grpc_client_write_batch(void **st)
{
	(void)st;
	otf_buf_t *m = otf_buf_create_copy("hello world", 11);
	otf__grpcc_wbatch_t w;
	memset(&w, 0, sizeof w);
	uint8_t pfx[5];
	otf__grpcc_prefix(11, false, pfx);
	assert_memory_equal(pfx, "\x00\x00\x00\x00\x0b", 5);
	for (int round = 0; round < 2; round++) {
		assert_int_equal(otf__grpcc_stage_add(&w, (const uint8_t *)"HDR", 3), 0);
		assert_int_equal(otf__grpcc_stage_add(&w, pfx, 5), 0);
		assert_int_equal(otf__grpcc_slice_add(&w, m, 6, 5), 0);
		assert_int_equal(otf__grpcc_stage_add(&w, (const uint8_t *)"T", 1), 0);
		assert_int_equal(otf__grpcc_stage_add(&w, NULL, 0), 0);
		assert_int_equal(w.nseg, 3);
		assert_int_equal(w.total, 14);
		assert_null(w.segs[0].ptr);
		assert_int_equal(w.segs[0].len, 8);
		assert_memory_equal(w.stage + w.segs[0].off, "HDR\x00\x00\x00\x00\x0b", 8);
		assert_ptr_equal(w.segs[1].ptr, m->data + 6); /* not copied */
		assert_int_equal(w.segs[1].len, 5);
		assert_memory_equal(w.stage + w.segs[2].off, "T", 1);
		assert_int_equal(atomic_load(&m->refcnt), 2);
		size_t cap = w.stage_cap;
		otf__grpcc_batch_reset(&w);
		assert_int_equal(atomic_load(&m->refcnt), 1);
		assert_int_equal(w.nseg + w.total + w.stage_len, 0);
		assert_int_equal(w.stage_cap, cap); /* kept for the next write */
	}
	/* A piece larger than the stage grows it; free drops held messages. */
	uint8_t big[70000];
	memset(big, 7, sizeof big);
	assert_int_equal(otf__grpcc_stage_add(&w, big, sizeof big), 0);
	assert_int_equal(otf__grpcc_slice_add(&w, m, 0, 11), 0);
	assert_true(w.stage_cap >= sizeof big);
	assert_memory_equal(w.stage, big, sizeof big);
	otf__grpcc_batch_free(&w);
	assert_int_equal(atomic_load(&m->refcnt), 1);
	otf_buf_unref(m);
}

/* The otlp exporter's socket-free gRPC pieces. */
static void test_grpc_client_frame(void **st)
{
	(void)st;
	otf_buf_t *m = otf_buf_create_copy("hello", 5), *f = NULL;
	assert_int_equal(otf__grpcc_frame(m, true, &f), 0);
	assert_int_equal(f->len, 10);
	assert_memory_equal(f->data, "\x01\x00\x00\x00\x05hello", 10);
	otf_buf_unref(f);
	otf_buf_unref(m);
	char out[64];
	otf__grpcc_percent_decode("caf%C3%A9 100%25 %zz%", 21, out, sizeof out);
	assert_string_equal(out, "caf\xc3\xa9 100% %zz%");
	otf__grpcc_percent_decode("abcdef", 6, out, 4);
	assert_string_equal(out, "abc");
	uint8_t bin[16];
	assert_int_equal(otf__grpcc_base64_decode("aGVsbG8", 7, bin, sizeof bin), 5);
	assert_memory_equal(bin, "hello", 5);
	assert_int_equal(otf__grpcc_base64_decode("aGVsbG8=", 8, bin, sizeof bin), 5);
	assert_int_equal(otf__grpcc_base64_decode("aGV*bG8", 7, bin, sizeof bin), -1);
	assert_int_equal(otf__grpcc_base64_decode("aGVsbG8", 7, bin, 4), -1);
	assert_int_equal(otf__grpcc_http_status(503), OTF_GRPC_UNAVAILABLE);
	assert_int_equal(otf__grpcc_http_status(404), OTF_GRPC_UNIMPLEMENTED);
	assert_int_equal(otf__grpcc_http_status(500), OTF_GRPC_UNKNOWN);
	/* OTLP spec, "Failures": retryable codes; RESOURCE_EXHAUSTED only with
	 * RetryInfo. */
	const int yes[] = {1, 4, 10, 11, 14, 15};
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		assert_true(otf__grpcc_retryable(yes[i], false));
	const int no[] = {2, 3, 5, 6, 7, 9, 12, 13, 16};
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		assert_false(otf__grpcc_retryable(no[i], true));
	assert_false(otf__grpcc_retryable(OTF_GRPC_RESOURCE_EXHAUSTED, false));
	assert_true(otf__grpcc_retryable(OTF_GRPC_RESOURCE_EXHAUSTED, true));
	char t[16];
	otf__grpcc_timeout(5000, t);
	assert_string_equal(t, "5000m");
	otf__grpcc_timeout(100000000, t);
	assert_string_equal(t, "100000S");
}

/* A live rebuild keeps the persistent queue only in the same storage:
 * its records cannot follow a change of sending_queue.storage. */
static void test_check_rebuild(void **st)
{
	(void)st;
	char q[] = "file_storage/q", other[] = "file_storage/other", err[512];
	otf_exph_queue_config_t mem = {.enabled = true, .queue_size = 10, .num_consumers = 1};
	otf_exph_queue_config_t inq = mem, inother = mem, off = mem;
	inq.storage = q;
	inother.storage = other;
	off.enabled = false;
	assert_int_equal(otf__exph_check_rebuild(&inq, &inq, err, sizeof err), 0);
	assert_int_equal(otf__exph_check_rebuild(&mem, &inq, err, sizeof err), 0);
	assert_int_equal(otf__exph_check_rebuild(&mem, &off, err, sizeof err), 0);
	assert_int_equal(otf__exph_check_rebuild(&inq, &inother, err, sizeof err),
	                 OTF_E_UNSUPPORTED);
	assert_non_null(strstr(err, "cannot change from 'file_storage/q' to 'file_storage/other'"));
	assert_int_equal(otf__exph_check_rebuild(&inq, &mem, err, sizeof err), OTF_E_UNSUPPORTED);
	assert_non_null(strstr(err, "to '(none)'"));
	assert_int_equal(otf__exph_check_rebuild(&inq, &off, err, sizeof err), OTF_E_UNSUPPORTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_retry_defaults),
	    cmocka_unit_test(test_backoff_schedule),
	    cmocka_unit_test(test_backoff_max_elapsed),
	    cmocka_unit_test(test_queue),
	    cmocka_unit_test(test_compress),
	    cmocka_unit_test(test_status),
	    cmocka_unit_test(test_tls),
	    cmocka_unit_test(test_grpc_client_frame),
	    cmocka_unit_test(test_check_rebuild),
	    cmocka_unit_test(test_grpc_client_write_batch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
