/* The HTTP/2 session of a gRPC client connection (grpc_client_internal.h):
 * a call's request as HEADERS and DATA (the message referenced, never
 * copied, into the connection's write batch), and what comes back
 * (headers, trailers, DATA into the response reader, stream close) made
 * into the call's status (PROTOCOL-HTTP2.md, "Responses"). The socket,
 * TLS and the write loop are grpc_client.c's. */
#include "grpc_client_internal.h"

#include "components/exporters/exporterhelper/exporterhelper.h" /* status parse */

#include "otflow/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Status of a stream that closed (PROTOCOL-HTTP2.md, "Responses"). */
static void stream_closed(otf_grpcc_call_t *c, uint32_t error_code)
{
	char why[160];
	if (c->timed_out) {
		otf__grpcc_finish(c, OTF_GRPC_DEADLINE_EXCEEDED, "deadline exceeded");
		return;
	}
	if (c->res.http_status && c->res.http_status != 200) {
		snprintf(why, sizeof why, "HTTP status %d%s%.100s", c->res.http_status,
		         c->res.message[0] ? ": " : "", c->res.message);
		otf__grpcc_finish(c, otf__grpcc_http_status(c->res.http_status), why);
		return;
	}
	if (!c->got_status) {
		if (error_code == NGHTTP2_REFUSED_STREAM)
			otf__grpcc_finish(c, OTF_GRPC_UNAVAILABLE, "stream refused by the server");
		else if (error_code == NGHTTP2_CANCEL)
			otf__grpcc_finish(c, OTF_GRPC_CANCELLED, "stream cancelled by the server");
		else {
			snprintf(why, sizeof why, "stream closed without grpc-status (%s)",
			         nghttp2_http2_strerror(error_code));
			otf__grpcc_finish(c, error_code ? OTF_GRPC_INTERNAL : OTF_GRPC_UNKNOWN,
			                  why);
		}
		return;
	}
	if (c->res.status == OTF_GRPC_OK) {
		const char *detail = NULL;
		int st = otf__grpc_reader_finish(&c->reader, c->encoding, strlen(c->encoding),
		                                 &c->res.response, &detail);
		if (st &&
		    !(st == OTF_GRPC_INTERNAL && c->reader.n_msgs == 0 && !c->reader.hdr_len)) {
			snprintf(why, sizeof why, "bad response message: %s", detail ? detail : "");
			otf__grpcc_finish(c, st, why);
			return;
		}
	}
	otf__grpcc_finish(c, c->res.status, NULL);
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nl,
                     const uint8_t *value, size_t vl, uint8_t flags, void *ud)
{
	(void)flags;
	(void)ud;
	otf_grpcc_call_t *c = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
	if (!c)
		return 0;
#define IS(lit) (nl == sizeof(lit) - 1 && !memcmp(name, lit, nl))
	if (IS(":status")) {
		c->res.http_status = (int)strtol((const char *)value, NULL, 10);
	} else if (IS("grpc-status")) {
		c->got_status = true;
		c->res.status = (int)strtol((const char *)value, NULL, 10);
	} else if (IS("grpc-message")) {
		otf__grpcc_percent_decode((const char *)value, vl, c->res.message,
		                          sizeof c->res.message);
	} else if (IS("grpc-encoding")) {
		snprintf(c->encoding, sizeof c->encoding, "%.*s", (int)vl, (const char *)value);
	} else if (IS("grpc-status-details-bin")) {
		uint8_t bin[1024];
		long n = otf__grpcc_base64_decode((const char *)value, vl, bin, sizeof bin);
		int code;
		uint64_t ns = 0;
		if (n > 0 && !otf__exph_status_parse(bin, (size_t)n, &code, NULL, 0, &ns) && ns) {
			c->res.retry_ns = ns;
			c->res.has_retry_info = true;
		}
	}
#undef IS
	return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t sid, const uint8_t *data, size_t len,
                   void *ud)
{
	(void)flags;
	(void)ud;
	otf_grpcc_call_t *c = nghttp2_session_get_stream_user_data(s, sid);
	if (!c)
		return 0;
	const char *detail = NULL;
	int st = otf__grpc_reader_feed(&c->reader, data, len, &detail);
	if (st) {
		char why[160];
		snprintf(why, sizeof why, "bad response: %s", detail ? detail : "");
		nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, sid, NGHTTP2_CANCEL);
		otf__grpcc_finish(c, st, why);
	}
	return 0;
}

static int on_close(nghttp2_session *s, int32_t sid, uint32_t error_code, void *ud)
{
	(void)ud;
	otf_grpcc_call_t *c = nghttp2_session_get_stream_user_data(s, sid);
	if (c)
		stream_closed(c, error_code);
	return 0;
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
	(void)s;
	conn_t *k = ud;
	if (f->hd.type == NGHTTP2_GOAWAY) {
		/* Streams above last_stream_id are closed by nghttp2 as
		 * REFUSED_STREAM; new calls go to a new connection. */
		k->goaway = true;
		if (k->cl->conn == k)
			k->cl->conn = NULL;
	}
	return 0;
}

/* The request body is prefix + message. Only its length is decided here:
 * the bytes go out in send_data (NO_COPY), right after, in the same
 * nghttp2_session_mem_send. */
static ssize_t read_body(nghttp2_session *s, int32_t sid, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *ud)
{
	(void)s;
	(void)sid;
	(void)buf;
	(void)ud;
	otf_grpcc_call_t *c = src->ptr;
	size_t left = c->body->len + 5 - c->off;
	size_t n = left < len ? left : len;
	*flags |= NGHTTP2_DATA_FLAG_NO_COPY;
	if (n == left)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static int send_data(nghttp2_session *s, nghttp2_frame *f, const uint8_t *framehd, size_t len,
                     nghttp2_data_source *src, void *ud)
{
	(void)s;
	static const uint8_t zeros[256];
	conn_t *k = ud;
	otf__grpcc_wbatch_t *w = &k->w;
	otf_grpcc_call_t *c = src->ptr;
	size_t pad = f->data.padlen;
	uint8_t padlen = (uint8_t)(pad ? pad - 1 : 0);
	if (otf__grpcc_stage_add(w, framehd, 9) || (pad && otf__grpcc_stage_add(w, &padlen, 1)))
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	if (c->off < 5) {
		size_t n = 5 - c->off < len ? 5 - c->off : len;
		if (otf__grpcc_stage_add(w, c->prefix + c->off, n))
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		c->off += n;
		len -= n;
	}
	if (otf__grpcc_slice_add(w, c->body, c->off - 5, len))
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	c->off += len;
	if (pad > 1 && otf__grpcc_stage_add(w, zeros, pad - 1))
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	/* Enough for one write: let conn_flush send it. */
	return w->total >= WRITE_BATCH_BYTES ? NGHTTP2_ERR_PAUSE : 0;
}

void otf__grpcc_submit(conn_t *k, otf_grpcc_call_t *c)
{
	otf_grpcc_t *cl = k->cl;
	char tmo[16];
	nghttp2_nv nv[24 + 64];
	size_t n = 0;
#define NV(nm, val)                                                                     \
	nv[n++] = (nghttp2_nv){(uint8_t *)(uintptr_t)(nm), (uint8_t *)(uintptr_t)(val), \
	                       strlen(nm), strlen(val), NGHTTP2_NV_FLAG_NONE}
	NV(":method", "POST");
	NV(":scheme", cl->tls ? "https" : "http");
	NV(":path", c->path);
	NV(":authority", cl->authority);
	NV("content-type", "application/grpc");
	NV("te", "trailers");
	NV("user-agent", "grpc-c/otflow-" OTF_VERSION);
	NV("grpc-accept-encoding", "identity,gzip,zstd,deflate");
	if (cl->encoding)
		NV("grpc-encoding", cl->encoding);
	if (c->timeout_ms) {
		otf__grpcc_timeout(c->timeout_ms, tmo);
		NV("grpc-timeout", tmo);
	}
	for (size_t i = 0; i + 1 < cl->n_meta && n + 1 < sizeof nv / sizeof nv[0]; i += 2)
		NV(cl->meta[i], cl->meta[i + 1]);
	for (size_t i = 0; i + 1 < c->n_meta && n + 1 < sizeof nv / sizeof nv[0]; i += 2)
		NV(c->meta[i], c->meta[i + 1]);
#undef NV
	nghttp2_data_provider dp = {.source.ptr = c, .read_callback = read_body};
	c->conn = k;
	otf__grpcc_list_add(&k->calls, c);
	int32_t sid = nghttp2_submit_request(k->h2, NULL, nv, n, &dp, c);
	if (sid < 0) {
		otf__grpcc_finish(c, OTF_GRPC_UNAVAILABLE, nghttp2_strerror(sid));
		return;
	}
	c->stream_id = sid;
}

int otf__grpcc_session_new(conn_t *k)
{
	nghttp2_session_callbacks *cb;
	if (nghttp2_session_callbacks_new(&cb))
		return OTF_E_NOMEM;
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
	nghttp2_session_callbacks_set_send_data_callback(cb, send_data);
	int rc = nghttp2_session_client_new(&k->h2, cb, k);
	nghttp2_session_callbacks_del(cb);
	if (rc)
		return OTF_E_NOMEM;
	/* A large window: responses are small, but so is the default. */
	nghttp2_settings_entry s[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
	                              {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};
	nghttp2_submit_settings(k->h2, NGHTTP2_FLAG_NONE, s, 2);
	return 0;
}
