/* The nghttp2 server session of one connection: its callbacks turn
 * streams into gRPC calls (headers, the message reader, dispatch to the
 * handler) and answers into frames (HEADERS + DATA + trailers, or
 * Trailers-Only); client PINGs are policed here (enforcement_policy).
 * No socket code: output is produced by grpc_conn.c's flush. */
#include "net/grpc_internal.h"
#include "pdata/pb_varint.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAX_HEADER_BYTES (16 * 1024)
/* grpc-go: more than two bad pings and the client is told to calm down. */
#define MAX_PING_STRIKES 2
/* grpc-go: without streams (and permit_without_stream false) any two pings
 * within this window are a strike. */
#define NO_STREAM_PING_WINDOW_MS (2ull * 3600 * 1000)
#define STREAM_WINDOW            (1u << 20)
#define CONN_WINDOW              (16u << 20)

/* ---- calls ---- */

void otf__grpc_call_free(otf_grpc_call_t *call)
{
	otf__grpc_reader_close(&call->reader);
	otf_buf_unref(call->message);
	otf_free(call->hdr);
	otf_free(call->resp);
	otf_free(call->tls_subject);
	otf_free(call);
}

void otf__grpc_call_unbuffer(otf__grpc_conn_t *c, otf_grpc_call_t *call)
{
	c->buffered -= call->buffered;
	call->buffered = 0;
	c->reserved -= call->reserved;
	call->reserved = 0;
}

static void unlink_call(otf__grpc_conn_t *c, otf_grpc_call_t *call)
{
	otf__grpc_call_unbuffer(c, call);
	if (call->prev)
		call->prev->next = call->next;
	else
		c->calls = call->next;
	if (call->next)
		call->next->prev = call->prev;
	call->prev = call->next = NULL;
	call->conn = NULL;
	if (--c->n_calls == 0)
		c->idle_since_ms = otf__grpc_now_ms(c);
}

/* The stream is gone: a call the handler holds becomes an orphan whose
 * answer is a no-op; any other is freed. */
void otf__grpc_call_gone(otf__grpc_conn_t *c, otf_grpc_call_t *call, int why)
{
	if (!call->with_handler || call->gone_reported || !c->srv->cfg.call_gone)
		return;
	call->gone_reported = true;
	c->srv->cfg.call_gone(call, why, c->srv->ctx);
}

void otf__grpc_call_detach(otf__grpc_conn_t *c, otf_grpc_call_t *call)
{
	otf__grpc_call_gone(c, call, OTF_GRPC_CANCELLED);
	unlink_call(c, call);
	if (!call->with_handler)
		otf__grpc_call_free(call);
}

static const char *call_header(const otf_grpc_call_t *call, const char *name, size_t *len)
{
	size_t nl = strlen(name);
	const char *p = call->hdr;
	for (uint32_t i = 0; i < call->n_hdrs; i++) {
		size_t kl = strlen(p);
		const char *v = p + kl + 1;
		size_t vl = strlen(v);
		if (kl == nl && !memcmp(p, name, nl)) {
			*len = vl;
			return v;
		}
		p = v + vl + 1;
	}
	*len = 0;
	return NULL;
}

static int add_header(otf_grpc_call_t *call, const uint8_t *k, size_t kl, const uint8_t *v,
                      size_t vl)
{
	size_t need = call->hdr_len + kl + vl + 2;
	if (need > MAX_HEADER_BYTES)
		return OTF_E_TOO_LARGE;
	if (need > call->hdr_cap) {
		size_t cap = call->hdr_cap ? call->hdr_cap * 2 : 512;
		while (cap < need)
			cap *= 2;
		char *n = otf_realloc(call->hdr, cap);
		if (!n)
			return OTF_E_NOMEM;
		call->hdr = n;
		call->hdr_cap = cap;
	}
	/* HTTP/2 field values may not contain NUL (RFC 9113 8.2.1; nghttp2
	 * checks), so NUL-separated storage is unambiguous. */
	memcpy(call->hdr + call->hdr_len, k, kl);
	call->hdr[call->hdr_len + kl] = '\0';
	memcpy(call->hdr + call->hdr_len + kl + 1, v, vl);
	call->hdr[call->hdr_len + kl + 1 + vl] = '\0';
	call->hdr_len = need;
	call->n_hdrs++;
	return 0;
}

/* ---- answers ---- */

static ssize_t read_resp(nghttp2_session *h2, int32_t sid, uint8_t *buf, size_t len,
                         uint32_t *flags, nghttp2_data_source *src, void *ud)
{
	otf_grpc_call_t *call = src->ptr;
	(void)ud;
	size_t left = call->resp_len - call->resp_off;
	size_t n = left < len ? left : len;
	memcpy(buf, call->resp + call->resp_off, n);
	call->resp_off += n;
	if (call->resp_off == call->resp_len) {
		*flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
		const nghttp2_nv tr[] = {
		    {(uint8_t *)"grpc-status", (uint8_t *)"0", 11, 1, NGHTTP2_NV_FLAG_NONE}};
		if (nghttp2_submit_trailer(h2, sid, tr, 1) != 0)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	return (ssize_t)n;
}

#define NV(n, v, vl)                                                                      \
	{                                                                                 \
		(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, (vl), NGHTTP2_NV_FLAG_NONE \
	}

size_t otf_grpc_status_retry_info(uint8_t *b, size_t cap, int code, const char *message,
                                  size_t message_len, uint64_t delay_ns)
{
	static const char k_type[] = "type.googleapis.com/google.rpc.RetryInfo";
	uint8_t dur[24], ri[32], any[96];
	uint8_t *d = dur, *r = ri, *a = any;
	*d++ = 0x08; /* Duration.seconds */
	d = otf__pb_varint_put(d, delay_ns / 1000000000ull);
	if (delay_ns % 1000000000ull) {
		*d++ = 0x10; /* Duration.nanos */
		d = otf__pb_varint_put(d, delay_ns % 1000000000ull);
	}
	*r++ = 0x0a; /* RetryInfo.retry_delay */
	r = otf__pb_varint_put(r, (uint64_t)(d - dur));
	memcpy(r, dur, (size_t)(d - dur));
	r += d - dur;
	*a++ = 0x0a; /* Any.type_url */
	a = otf__pb_varint_put(a, sizeof k_type - 1);
	memcpy(a, k_type, sizeof k_type - 1);
	a += sizeof k_type - 1;
	*a++ = 0x12; /* Any.value */
	a = otf__pb_varint_put(a, (uint64_t)(r - ri));
	memcpy(a, ri, (size_t)(r - ri));
	a += r - ri;
	size_t al = (size_t)(a - any);
	/* code (<= 11 bytes), message and details keys and lengths (<= 22) */
	if (!message)
		message_len = 0;
	if (message_len + al + 33 > cap)
		return 0;
	uint8_t *p = b;
	*p++ = 0x08;                                        /* Status.code */
	p = otf__pb_varint_put(p, (uint64_t)(int64_t)code); /* int32: sign-extended */
	if (message_len) {
		*p++ = 0x12; /* Status.message */
		p = otf__pb_varint_put(p, message_len);
		memcpy(p, message, message_len);
		p += message_len;
	}
	*p++ = 0x1a; /* Status.details */
	p = otf__pb_varint_put(p, al);
	memcpy(p, any, al);
	return (size_t)(p - b) + al;
}

size_t otf__grpc_b64(const uint8_t *in, size_t len, char *out, size_t cap)
{
	static const char k_b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	for (size_t i = 0; i < len && o + 4 < cap; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = k_b64[(v >> 18) & 63];
		out[o++] = k_b64[(v >> 12) & 63];
		if (i + 1 < len)
			out[o++] = k_b64[(v >> 6) & 63];
		if (i + 2 < len)
			out[o++] = k_b64[v & 63];
	}
	out[o] = '\0';
	return o;
}

/* grpc-status-details-bin: base64 (unpadded) of a google.rpc.Status {code, message,
 * details: [Any google.rpc.RetryInfo {retry_delay: Duration}]}, the form
 * grpc-go and the OTLP exporters read a server's throttling delay from. */
static size_t retry_details(int code, const char *message, uint32_t retry_ms, char *out, size_t cap)
{
	uint8_t st[512];
	size_t ml = message ? strlen(message) : 0;
	if (ml > 300)
		ml = 300;
	size_t sn = otf_grpc_status_retry_info(st, sizeof st, code, message, ml,
	                                       (uint64_t)retry_ms * 1000000u);
	return otf__grpc_b64(st, sn, out, cap);
}

/* Trailers-Only answer, optionally with an HTTP status other than 200. */
static int submit_status(otf__grpc_conn_t *c, otf_grpc_call_t *call, int http, int code,
                         const char *message)
{
	char st[4], gs[4], enc[512], det[1024];
	snprintf(st, sizeof st, "%d", http);
	snprintf(gs, sizeof gs, "%d", code);
	size_t el = otf__grpc_percent_encode(message, enc, sizeof enc);
	nghttp2_nv nv[6] = {
	    NV(":status", st, strlen(st)),
	    NV("content-type", "application/grpc", 16),
	    NV("grpc-status", gs, strlen(gs)),
	    NV("grpc-message", enc, el),
	    NV("grpc-accept-encoding", OTF__GRPC_ACCEPT_ENCODING,
	       sizeof OTF__GRPC_ACCEPT_ENCODING - 1),
	    NV("grpc-status-details-bin", call->details_b64 ? call->details_b64 : det,
	       call->details_b64_len),
	};
	size_t n = el ? 4 : 3;
	if (code == OTF_GRPC_UNIMPLEMENTED)
		nv[n++] = nv[4];
	if (call->details_b64_len) {
		nv[n++] = nv[5];
	} else if (call->retry_ms) { /* a refusal at the headers (admit_status) */
		nv[5].value = (uint8_t *)det;
		nv[5].valuelen = retry_details(code, message, call->retry_ms, det, sizeof det);
		nv[n++] = nv[5];
	}
	call->answered = true;
	call->status = code;
	return nghttp2_submit_response(c->h2, call->stream_id, nv, n, NULL);
}

int otf__grpc_conn_answer(otf_grpc_call_t *call, int status, const char *message, const void *msg,
                          size_t len)
{
	otf__grpc_conn_t *c = call->conn;
	int rc;
	if (status != OTF_GRPC_OK || !msg) {
		rc = submit_status(c, call, 200, status, status == OTF_GRPC_OK ? NULL : message);
	} else {
		call->resp = otf_malloc(len + 5);
		if (!call->resp) {
			nghttp2_submit_rst_stream(c->h2, NGHTTP2_FLAG_NONE, call->stream_id,
			                          NGHTTP2_INTERNAL_ERROR);
			otf__grpc_conn_flush(c);
			return OTF_E_NOMEM;
		}
		call->resp[0] = 0;
		call->resp[1] = (uint8_t)(len >> 24);
		call->resp[2] = (uint8_t)(len >> 16);
		call->resp[3] = (uint8_t)(len >> 8);
		call->resp[4] = (uint8_t)len;
		memcpy(call->resp + 5, msg, len);
		call->resp_len = len + 5;
		call->answered = true;
		call->status = OTF_GRPC_OK;
		const nghttp2_nv nv[] = {
		    NV(":status", "200", 3),
		    NV("content-type", "application/grpc", 16),
		    NV("grpc-accept-encoding", OTF__GRPC_ACCEPT_ENCODING,
		       sizeof OTF__GRPC_ACCEPT_ENCODING - 1),
		};
		nghttp2_data_provider dp = {.source.ptr = call, .read_callback = read_resp};
		rc = nghttp2_submit_response(c->h2, call->stream_id, nv, 3, &dp);
	}
	if (rc != 0)
		nghttp2_submit_rst_stream(c->h2, NGHTTP2_FLAG_NONE, call->stream_id,
		                          NGHTTP2_INTERNAL_ERROR);
	otf__grpc_conn_flush(c);
	otf__grpc_conn_tick(c);
	return rc != 0 ? OTF_E_NOMEM : 0;
}

/* An answer before the request ended: the client may still be sending, so
 * the stream is reset (NO_ERROR) once our END_STREAM is out. */
void otf__grpc_early_status(otf__grpc_conn_t *c, otf_grpc_call_t *call, bool req_ended, int http,
                            int code, const char *message)
{
	call->rst_after = !req_ended;
	otf__grpc_reader_close(&call->reader);
	otf__grpc_call_unbuffer(c, call);
	if (submit_status(c, call, http, code, message) != 0)
		nghttp2_submit_rst_stream(c->h2, NGHTTP2_FLAG_NONE, call->stream_id,
		                          NGHTTP2_INTERNAL_ERROR);
}

/* ---- request handling ---- */

static void request_headers(otf__grpc_conn_t *c, otf_grpc_call_t *call, bool ended)
{
	size_t ml, ctl, el, tl;
	const char *m = call_header(call, ":method", &ml);
	if (!m || ml != 4 || memcmp(m, "POST", 4)) {
		otf__grpc_early_status(c, call, ended, 405, OTF_GRPC_UNIMPLEMENTED,
		                       "gRPC requires the POST method");
		return;
	}
	const char *ct = call_header(call, "content-type", &ctl);
	if (!ct || !otf__grpc_content_type_ok(ct, ctl)) {
		otf__grpc_early_status(c, call, ended, 415, OTF_GRPC_INTERNAL,
		                       "content-type must be application/grpc");
		return;
	}
	bool identity;
	const char *enc = call_header(call, "grpc-encoding", &el);
	if (!otf__grpc_encoding_supported(enc, el, &identity)) {
		char msg[200];
		snprintf(msg, sizeof msg, "grpc-encoding %.*s is not supported (%s)",
		         (int)(el > 64 ? 64 : el), enc, OTF__GRPC_ACCEPT_ENCODING);
		otf__grpc_early_status(c, call, ended, 200, OTF_GRPC_UNIMPLEMENTED, msg);
		return;
	}
	const char *to = call_header(call, "grpc-timeout", &tl);
	if (to) {
		if (otf__grpc_parse_timeout(to, tl, &call->timeout_ns) < 0) {
			otf__grpc_early_status(c, call, ended, 200, OTF_GRPC_INTERNAL,
			                       "malformed grpc-timeout");
			return;
		}
		/* Never answer before the deadline the envelope carries: the
		 * loop's clock may be stale and counts whole ms, so refresh
		 * it and round up by one more ms. */
		uv_update_time(c->srv->loop);
		uint64_t ms = call->timeout_ns / 1000000 + 1;
		call->deadline_mono_ms = otf__grpc_now_ms(c) + ms;
		if (call->deadline_mono_ms == 0)
			call->deadline_mono_ms = 1;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		call->deadline_unix_ns =
		    call->timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + call->timeout_ns;
	}
	if (c->srv->cfg.admit_status) {
		char why[256] = "";
		uint32_t retry = 0;
		bool hold = false;
		int code = c->srv->cfg.admit_status(c->srv->ctx, why, sizeof why, &retry, &hold);
		if (code) {
			call->retry_ms = retry;
			otf__grpc_early_status(c, call, ended, 200, code, why);
			if (hold)
				otf__grpc_conn_hold(c);
			return;
		}
	}
	if (c->srv->cfg.admit && !c->srv->cfg.admit(c->srv->ctx)) {
		otf__grpc_early_status(c, call, ended, 200, OTF_GRPC_RESOURCE_EXHAUSTED,
		                       "memory limit or pipeline budget exhausted, retry later");
		return;
	}
	otf__grpc_reader_init(&call->reader, c->srv->cfg.max_recv_msg_bytes, !identity);
	call->headers_done = true;
}

static void request_end(otf__grpc_conn_t *c, otf_grpc_call_t *call)
{
	if (call->answered || !call->headers_done)
		return;
	size_t el;
	const char *enc = call_header(call, "grpc-encoding", &el);
	const char *detail = "invalid request message";
	int st = otf__grpc_reader_finish(&call->reader, enc, el, &call->message, &detail);
	/* Complete: from here the message is the pipeline's, counted by the
	 * memory limiter, not a promise held by this connection. */
	otf__grpc_call_unbuffer(c, call);
	if (st) {
		otf__grpc_early_status(c, call, true, 200, st, detail);
		return;
	}
	call->with_handler = true;
	c->srv->handler(call, c->srv->ctx);
}

static int on_begin_headers(nghttp2_session *h2, const nghttp2_frame *f, void *ud)
{
	otf__grpc_conn_t *c = ud;
	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	otf_grpc_call_t *call = otf_calloc(1, sizeof *call);
	if (!call)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* resets the stream */
	call->conn = c;
	call->stream_id = f->hd.stream_id;
	call->begun_ms = otf__grpc_now_ms(c);
	call->peer = c->peer;
	if (c->io.peer_subject)
		call->tls_subject = otf_strndup(c->io.peer_subject, strlen(c->io.peer_subject));
	call->next = c->calls;
	if (c->calls)
		c->calls->prev = call;
	c->calls = call;
	c->n_calls++;
	nghttp2_session_set_stream_user_data(h2, f->hd.stream_id, call);
	return 0;
}

static int on_header(nghttp2_session *h2, const nghttp2_frame *f, const uint8_t *k, size_t kl,
                     const uint8_t *v, size_t vl, uint8_t flags, void *ud)
{
	(void)flags;
	(void)ud;
	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0; /* client trailers carry nothing gRPC uses */
	otf_grpc_call_t *call = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
	if (!call)
		return 0;
	/* Too many or too large headers: reset the stream (REFUSED by
	 * nghttp2's temporal failure). */
	return add_header(call, k, kl, v, vl) ? NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE : 0;
}

static void client_ping(otf__grpc_conn_t *c)
{
	const otf_grpc_server_config_t *cfg = &c->srv->cfg;
	uint64_t now = otf__grpc_now_ms(c);
	uint64_t window = (!cfg->permit_without_stream && c->n_calls == 0)
	                      ? NO_STREAM_PING_WINDOW_MS
	                      : cfg->min_ping_time_ms;
	if (c->last_client_ping_ms && now - c->last_client_ping_ms < window)
		c->ping_strikes++;
	c->last_client_ping_ms = now;
	if (c->ping_strikes > MAX_PING_STRIKES && !c->fatal) {
		static const char why[] = "too_many_pings";
		nghttp2_submit_goaway(
		    c->h2, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(c->h2),
		    NGHTTP2_ENHANCE_YOUR_CALM, (const uint8_t *)why, sizeof why - 1);
		c->fatal = true;
	}
}

static int on_frame_recv(nghttp2_session *h2, const nghttp2_frame *f, void *ud)
{
	otf__grpc_conn_t *c = ud;
	if (f->hd.type == NGHTTP2_SETTINGS && !(f->hd.flags & NGHTTP2_FLAG_ACK) &&
	    !c->handshake_done) {
		c->handshake_done = true; /* preface + SETTINGS: an HTTP/2 client */
		otf__grpc_conn_tick(c);
		return 0;
	}
	if (f->hd.type == NGHTTP2_PING) {
		if (f->hd.flags & NGHTTP2_FLAG_ACK)
			c->ping_sent_ms = 0;
		else
			client_ping(c);
		return 0;
	}
	if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA)
		return 0;
	otf_grpc_call_t *call = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
	if (!call || call->answered)
		return 0;
	bool ended = f->hd.flags & NGHTTP2_FLAG_END_STREAM;
	if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST)
		request_headers(c, call, ended);
	if (ended)
		request_end(c, call);
	return 0;
}

static int on_data_chunk(nghttp2_session *h2, uint8_t flags, int32_t sid, const uint8_t *data,
                         size_t len, void *ud)
{
	otf__grpc_conn_t *c = ud;
	(void)flags;
	otf_grpc_call_t *call = nghttp2_session_get_stream_user_data(h2, sid);
	if (!call || call->answered || !call->headers_done)
		return 0; /* answered early: the rest is discarded */
	const char *detail = NULL;
	/* Many calls each holding part of a message must not add up beyond
	 * the connection's bound: fail the call that would cross it. */
	size_t limit = otf__grpc_conn_buffer_limit(c->srv);
	size_t room = limit > c->buffered ? limit - c->buffered : 0;
	if (len > room) {
		otf__grpc_early_status(c, call, false, 200, OTF_GRPC_RESOURCE_EXHAUSTED,
		                       "request messages in progress on this connection exceed "
		                       "its buffer limit");
		return 0;
	}
	/* A message buffer taken whole at its prefix counts as held from
	 * then on: announcing costs a client nothing, so announced bytes
	 * must fit the same bound as received ones. */
	size_t unearned =
	    c->reserved < OTF__NET_RESERVE_MAX ? OTF__NET_RESERVE_MAX - c->reserved : 0;
	call->reader.reserve_max =
	    call->buffered + room < unearned ? call->buffered + room : unearned;
	call->reader.pool = otf__net_conns_pool(c->srv->reg);
	/* nghttp2 hands DATA payload straight from our read buffer: what
	 * follows it there has arrived already. */
	call->reader.ahead =
	    data >= c->in && data + len <= c->in_end ? (size_t)(c->in_end - (data + len)) : 0;
	int st = otf__grpc_reader_feed(&call->reader, data, len, &detail);
	call->reader.ahead = 0;
	size_t held = call->buffered + len;
	if (call->reader.msg && call->reader.msg_len > held) /* reserved whole */
		held = call->reader.msg_len;
	c->buffered += held - call->buffered;
	call->buffered = held;
	/* Reserved and not yet filled: bounded per connection apart from
	 * the held bytes, so that prefixes alone reserve little. */
	bool filling = call->reader.reserved && !call->reader.n_msgs && !st;
	size_t res = filling ? call->reader.msg_len : 0;
	c->reserved += res - call->reserved;
	call->reserved = res;
	if (call->reader.n_msgs) /* what the next message probably is */
		c->big = call->reader.reserved;
	if (st)
		otf__grpc_early_status(c, call, false, 200, st, detail);
	return 0;
}

static int on_frame_send(nghttp2_session *h2, const nghttp2_frame *f, void *ud)
{
	otf__grpc_conn_t *c = ud;
	if (f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA)
		c->ping_strikes = 0; /* grpc-go resets strikes when it sends */
	if (f->hd.type != NGHTTP2_HEADERS || !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	otf_grpc_call_t *call = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
	if (call && call->rst_after)
		nghttp2_submit_rst_stream(h2, NGHTTP2_FLAG_NONE, f->hd.stream_id, NGHTTP2_NO_ERROR);
	return 0;
}

static int on_stream_close(nghttp2_session *h2, int32_t sid, uint32_t err, void *ud)
{
	otf__grpc_conn_t *c = ud;
	(void)err;
	otf_grpc_call_t *call = nghttp2_session_get_stream_user_data(h2, sid);
	if (call) {
		nghttp2_session_set_stream_user_data(h2, sid, NULL);
		otf__grpc_call_detach(c, call);
	}
	return 0;
}

/* ---- nghttp2 memory through otflow's counted allocator ---- */

static void *m_malloc(size_t n, void *ud)
{
	(void)ud;
	return otf_malloc(n);
}

static void m_free(void *p, void *ud)
{
	(void)ud;
	otf_free(p);
}

static void *m_calloc(size_t a, size_t b, void *ud)
{
	(void)ud;
	return otf_calloc(a, b);
}

static void *m_realloc(void *p, size_t n, void *ud)
{
	(void)ud;
	return otf_realloc(p, n);
}

static nghttp2_mem k_mem = {NULL, m_malloc, m_free, m_calloc, m_realloc};

int otf__grpc_session_new(otf__grpc_conn_t *c)
{
	nghttp2_session_callbacks *cb;
	if (nghttp2_session_callbacks_new(&cb))
		return OTF_E_NOMEM;
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
	nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
	nghttp2_option *opt = NULL;
	int rc = nghttp2_option_new(&opt);
	if (!rc) {
		/* nghttp2 acknowledges client PINGs itself (as grpc-go
		 * does); policing their rate is ours (client_ping). */
		nghttp2_option_set_max_send_header_block_length(opt, 64 * 1024);
		rc = nghttp2_session_server_new3(&c->h2, cb, c, opt, &k_mem);
	}
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cb);
	if (rc)
		return OTF_E_NOMEM;
	const nghttp2_settings_entry s[] = {
	    {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, c->srv->cfg.max_concurrent_streams},
	    {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW},
	    {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, MAX_HEADER_BYTES},
	};
	if (nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, s, 3) ||
	    nghttp2_session_set_local_window_size(c->h2, NGHTTP2_FLAG_NONE, 0, CONN_WINDOW))
		return OTF_E_NOMEM;
	return 0;
}
