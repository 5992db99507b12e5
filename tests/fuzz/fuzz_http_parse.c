/* Fuzz target: the socket-free HTTP/1.1 request parser (src/net/http_parse.c)
 * and the Content-Encoding decoder behind it, as http_conn.c drives them.
 *
 * Input: byte 0 picks the split (1 + b0 % 64 bytes per feed, 0 = all at
 * once when b0 >= 192), byte 1 the limits; the rest is the stream.
 * Properties checked:
 * - nothing crashes or reads out of bounds (ASan, UBSan);
 * - feed consumes at most what it is given and never 0 bytes without an
 *   event; an error sets a status in 400..500 and a message;
 * - every complete message keeps its limits: head bytes within
 *   max_header_bytes (plus the per-field overhead), body within
 *   max_body_bytes, and body capacity within twice what arrived (memory
 *   follows the bytes, not an announced Content-Length);
 * - nothing is left allocated after close (counted heap back to its start). */
#include "net/http_internal.h"

#include "otflow/alloc.h"
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

static void check_message(otf__http_msg_t *m, size_t max_header, size_t max_body)
{
	CHECK(m->url_off + m->url_len <= m->head_len);
	CHECK(m->head_len <= max_header + 4 * (m->n_hdrs + 1) + 2 * m->n_hdrs + 1);
	for (uint32_t i = 0; i < m->n_hdrs; i++) {
		CHECK(m->hdrs[i].name_off + m->hdrs[i].name_len <= m->head_len);
		CHECK(m->hdrs[i].value_off + m->hdrs[i].value_len <= m->head_len);
	}
	if (m->body) {
		CHECK(m->body->len <= max_body);
		CHECK(m->body->cap <= 2 * m->body->len + OTF__NET_BUF_FIRST);
	}
	const otf__http_hdr_t *ce = otf__http_msg_header(m, "content-encoding", 16);
	otf_buf_t *out = NULL;
	const char *detail = NULL;
	int rc = otf__http_decode(ce ? m->head + ce->value_off : NULL, ce ? ce->value_len : 0,
	                          m->body, max_body, &out, &detail);
	if (rc == 0 && out)
		CHECK(out->len <= max_body);
	if (rc < 0)
		CHECK(detail != NULL);
	otf_buf_unref(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t step = data[0] >= 192 ? 0 : 1 + data[0] % 64;
	size_t max_header = 64 + (size_t)(data[1] & 15) * 512;
	size_t max_body = 1 + (size_t)(data[1] >> 4) * 4096;
	const char *in = (const char *)data + 2;
	size_t len = size - 2;
	otf_alloc_stats_t before;
	otf_alloc_stats(&before);

	otf__http_parser_t p;
	otf__http_parser_init(&p, max_header, max_body);
	size_t off = 0;
	while (off < len) {
		size_t n = step ? (len - off < step ? len - off : step) : len - off;
		otf__http_ev_t ev;
		size_t used = otf__http_parser_feed(&p, in + off, n, &ev);
		CHECK(used <= n);
		off += used;
		if (ev == OTF__HTTP_EV_ERROR) {
			CHECK(p.err_status >= 400 && p.err_status <= 500);
			CHECK(p.err_msg != NULL);
			break;
		}
		if (ev == OTF__HTTP_EV_MESSAGE) {
			otf__http_msg_t *m = otf__http_parser_take(&p);
			CHECK(m != NULL);
			bool keep = m->keep_alive;
			check_message(m, max_header, max_body);
			otf__http_msg_destroy(m);
			if (!keep)
				break; /* the connection would close here */
			continue;
		}
		CHECK(used == n);
		/* Between feeds, what the connection asks the parser. */
		(void)otf__http_parser_mid_request(&p);
		(void)otf__http_parser_in_head(&p);
	}
	otf__http_parser_close(&p);
	otf_alloc_stats_t after;
	otf_alloc_stats(&after);
	CHECK(after.bytes_in_use == before.bytes_in_use);
	return 0;
}
