/* Fuzz target: the socket-free HTTP/2 server session of the OTLP/HTTP port
 * (src/net/http2_session.c), which turns a client's frames into the
 * requests the handler gets, as http_conn.c drives it, without a socket.
 *
 * Input: byte 0 picks the split (1 + b0 % 64 bytes per feed, all at once
 * when b0 >= 192), byte 1 the limits and whether the handler answers at
 * once, later (after the feed) or never; the rest follows the 24-byte
 * client preface, which the target sends first.
 * Properties checked:
 * - nothing crashes or reads out of bounds (ASan, UBSan);
 * - every request the handler gets keeps the limits: header fields at
 *   most OTF__HTTP_MAX_HEADERS, decoded body within max_body_bytes, a
 *   path that starts the target; accessors agree with each other;
 * - a request held while the session is freed is "not alive";
 * - nothing is left allocated after the session is freed (counted heap
 *   back to its start). */
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

/* http_conn.c's, which writes the session's output to the socket: here the
 * target drains it after each feed. */
void otf__http_conn_h2_flush(otf__http_conn_t *c)
{
	(void)c;
}

#define MAX_HELD 16
static otf_http_request_t *g_held[MAX_HELD];
static size_t g_n_held;
static int g_mode; /* 0 answer at once, 1 after the feed, 2 never */

static void handler(otf_http_request_t *r, void *ctx)
{
	const otf_http_server_config_t *cfg = ctx;
	CHECK(otf_http_request_alive(r));
	CHECK(otf_http_request_header_count(r) <= OTF__HTTP_MAX_HEADERS);
	for (size_t i = 0; i < otf_http_request_header_count(r); i++) {
		otf_http_str_t n, v;
		CHECK(otf_http_request_header_at(r, i, &n, &v) == 0);
		CHECK(n.ptr && v.ptr && n.ptr[n.len] == '\0' && v.ptr[v.len] == '\0');
	}
	otf_http_str_t path = otf_http_request_path(r);
	CHECK(path.ptr && path.len > 0);
	otf_buf_t *b = otf_http_request_body(r);
	CHECK(!b || b->len <= cfg->max_body_bytes);
	CHECK(otf_http_request_method(r) != NULL);
	if (g_mode == 0 || g_n_held == MAX_HELD) {
		static const otf_http_header_t extra[] = {{"X-Answer", "yes"}, {"Connection", "x"}};
		otf__http2_respond(r, 200, "application/json", "{}", 2, extra, 2);
		return;
	}
	g_held[g_n_held++] = r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t chunk = data[0] >= 192 ? size : 1 + data[0] % 64;
	g_mode = data[1] % 3;
	otf_alloc_stats_t before, after;
	otf_alloc_stats(&before);
	static otf_http_server_t srv;
	static otf__http_conn_t conn;
	memset(&srv, 0, sizeof srv);
	memset(&conn, 0, sizeof conn);
	srv.cfg.max_body_bytes = (data[1] & 4) ? 64 : 4096;
	srv.cfg.max_header_bytes = (data[1] & 8) ? 128 : 16384;
	srv.handler = handler;
	srv.ctx = &srv.cfg;
	conn.srv = &srv;
	g_n_held = 0;
	otf__http2_t *h = otf__http2_new(&conn);
	if (!h)
		return 0;
	conn.h2 = h;
	bool dead =
	    otf__http2_recv(h, (const uint8_t *)OTF__HTTP2_PREFACE, OTF__HTTP2_PREFACE_LEN) < 0;
	data += 2;
	size -= 2;
	while (!dead && size) {
		size_t n = size < chunk ? size : chunk;
		dead = otf__http2_recv(h, data, n) < 0;
		data += n;
		size -= n;
		const uint8_t *out;
		ssize_t w;
		while ((w = otf__http2_send(h, &out)) > 0)
			CHECK(out != NULL);
		if (w < 0)
			dead = true;
		if (g_mode == 1) {
			while (g_n_held)
				otf__http2_respond(g_held[--g_n_held], 204, NULL, NULL, 0, NULL, 0);
		}
	}
	const uint8_t *out;
	while (otf__http2_send(h, &out) > 0)
		;
	otf__http2_free(h);
	/* Held requests outlive their session: no longer alive, still freed. */
	while (g_n_held) {
		otf_http_request_t *r = g_held[--g_n_held];
		CHECK(!otf_http_request_alive(r));
		otf__http_request_free(r);
	}
	otf_alloc_stats(&after);
	CHECK(after.bytes_in_use == before.bytes_in_use);
	return 0;
}
