/* Fuzz target: the gRPC Length-Prefixed-Message reader
 * (src/net/grpc_frame.c) as the HTTP/2 session drives it, plus the small
 * header parsers next to it (grpc-timeout, grpc-encoding, content-type,
 * grpc-message percent-encoding).
 *
 * Input: byte 0 = flags (bit 0: the stream has a grpc-encoding; bits 1-2:
 * which one for finish: identity, gzip, deflate, zstd; bits 3-7: DATA
 * chunk size 1 + n * 37), byte 1 = max message length (64 << (b1 % 16);
 * bit 4: a large message may be taken whole from a buffer pool, as the
 * server allows within its connection's bounds); the rest is the stream's
 * DATA payload.
 * Properties checked:
 * - nothing crashes or reads out of bounds (ASan, UBSan);
 * - a status, when returned, is a gRPC code in 1..16 with a detail;
 * - memory follows the bytes that arrived: message capacity never exceeds
 *   twice the bytes received plus the first block, nor the announced length,
 *   unless the message was taken whole (then it holds the announced length,
 *   in a pool buffer);
 * - a finished message is at most max_len, and nothing leaks. */
#include "net/grpc_internal.h"
#include "net/http_internal.h"

#include "otflow/alloc.h"
#include "otflow/bufpool.h"
#include "otflow/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

static const char *const k_enc[] = {"identity", "gzip", "deflate", "zstd"};

static void header_parsers(const uint8_t *data, size_t size)
{
	size_t n = size < 16 ? size : 16;
	uint64_t ns;
	bool identity;
	(void)otf__grpc_parse_timeout((const char *)data, n, &ns);
	(void)otf__grpc_encoding_supported((const char *)data, n, &identity);
	(void)otf__grpc_content_type_ok((const char *)data, n);
	char msg[64], out[96];
	size_t m = size < sizeof msg - 1 ? size : sizeof msg - 1;
	memcpy(msg, data, m);
	msg[m] = '\0';
	size_t w = otf__grpc_percent_encode(msg, out, sizeof out);
	CHECK(w < sizeof out && out[w] == '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	header_parsers(data, size);
	bool has_enc = data[0] & 1;
	const char *enc = has_enc ? k_enc[(data[0] >> 1) & 3] : NULL;
	size_t step = 1 + (size_t)(data[0] >> 3) * 37;
	size_t max_len = (size_t)64 << (data[1] % 16);
	const uint8_t *in = data + 2;
	size_t len = size - 2;
	static otf_bufpool_t *pool;
	if (!pool)
		pool = otf_bufpool_create(1u << 20);
	otf_alloc_stats_t before;
	otf_alloc_stats(&before);

	otf__grpc_reader_t r;
	otf__grpc_reader_init(&r, max_len, has_enc);
	if (data[1] & 0x10) {
		r.reserve_max = SIZE_MAX;
		r.pool = pool;
	}
	size_t off = 0;
	int st = 0;
	const char *detail = NULL;
	while (off < len && !st) {
		size_t n = len - off < step ? len - off : step;
		st = otf__grpc_reader_feed(&r, in + off, n, &detail);
		off += n;
		if (r.msg && r.reserved) {
			CHECK(r.msg->len == r.got);
			CHECK(r.msg->cap >= r.msg_len && (r.msg->flags & OTF_BUF_POOLED));
			CHECK(r.msg_len >= OTF__NET_DIRECT_MIN);
		} else if (r.msg) {
			CHECK(r.msg->len == r.got);
			CHECK(r.msg->cap <= r.msg_len);
			CHECK(r.msg->cap <= 2 * r.got + OTF__NET_BUF_FIRST);
		}
	}
	if (st) {
		CHECK(st >= 1 && st <= 16 && detail);
	} else {
		otf_buf_t *out = NULL;
		st = otf__grpc_reader_finish(&r, enc, enc ? strlen(enc) : 0, &out, &detail);
		if (st == 0) {
			CHECK(out != NULL && out->len <= max_len);
		} else {
			CHECK(st >= 1 && st <= 16 && out == NULL);
		}
		otf_buf_unref(out);
	}
	otf__grpc_reader_close(&r);
	otf_bufpool_trim(pool); /* idle buffers are the pool's, not a leak */
	otf_alloc_stats_t after;
	otf_alloc_stats(&after);
	CHECK(after.bytes_in_use == before.bytes_in_use);
	return 0;
}
