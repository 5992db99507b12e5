/* OTLP/HTTP request validation and response bodies (socket-free). */
#include "otlp_http_ingest.h"

#include "otflow/arena.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"
#include "otflow/pdata_view.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int otf__otlp_content_type(const char *ct)
{
	if (!ct)
		return -1;
	size_t n = strcspn(ct, ";");
	while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	if (n == 22 && !strncasecmp(ct, "application/x-protobuf", n))
		return OTLP_ENC_PROTO;
	if (n == 16 && !strncasecmp(ct, "application/json", n))
		return OTLP_ENC_JSON;
	return -1;
}

static int json_to_proto(otf_signal_t s, const otf_buf_t *body, otf_buf_t **out,
                         otf_pdata_error_t *perr)
{
	otf_arena_t a;
	otf_arena_init(&a, 0);
	int rc;
	const char *j = (const char *)body->data;
	if (s == OTF_SIGNAL_TRACES) {
		otf_traces_t t;
		rc = otf_pdata_json_decode_traces(&t, j, body->len, &a, NULL, perr);
		if (!rc)
			rc = otf_pdata_encode_traces(&t, out);
	} else if (s == OTF_SIGNAL_METRICS) {
		otf_metrics_t m;
		rc = otf_pdata_json_decode_metrics(&m, j, body->len, &a, NULL, perr);
		if (!rc)
			rc = otf_pdata_encode_metrics(&m, out);
	} else {
		otf_logs_t l;
		rc = otf_pdata_json_decode_logs(&l, j, body->len, &a, NULL, perr);
		if (!rc)
			rc = otf_pdata_encode_logs(&l, out);
	}
	otf_arena_close(&a);
	return rc;
}

void otf__otlp_ingest(otf_signal_t signal, otlp_encoding_t enc, otf_buf_t *body,
                      const otf_view_limits_t *lim, otlp_ingest_t *out)
{
	memset(out, 0, sizeof *out);
	out->signal = signal;
	out->encoding = enc;
	otf_buf_t *payload;
	if (enc == OTLP_ENC_JSON) {
		otf_pdata_error_t perr;
		memset(&perr, 0, sizeof perr);
		/* json-c's tree costs ~0.9 KB per object and "{}" is 2 bytes:
		 * apply the limits before it is built. */
		otf_pdata_json_limits_t jl = {lim ? lim->max_items : 0,
		                              lim ? lim->max_attributes : 0};
		otf_pdata_json_counts_t jc;
		int rc =
		    otf_pdata_json_prescan((const char *)body->data, body->len, &jl, &jc, &perr);
		if (!rc)
			rc = json_to_proto(signal, body, &payload, &perr);
		if (rc == OTF_E_NOMEM) {
			out->http_status = 503;
			snprintf(out->message, sizeof out->message, "out of memory");
			return;
		}
		/* The JSON parser module is missing (src/pdata/json_sj_dl.h): not
		 * the client's fault; the detail names the file. */
		if (rc == OTF_E_UNSUPPORTED) {
			out->http_status = 500;
			snprintf(out->message, sizeof out->message,
			         "OTLP/JSON decoding is unavailable on this server: %s",
			         perr.detail);
			return;
		}
		if (rc) {
			char buf[300];
			out->http_status = 400;
			snprintf(out->message, sizeof out->message,
			         "invalid OTLP/JSON %s request: %s", otf_signal_name(signal),
			         otf_pdata_error_format(&perr, buf, sizeof buf));
			return;
		}
	} else {
		payload = otf_buf_ref(body);
	}
	/* Everything a later decode would refuse is refused here, while the
	 * client can still be told; a request that is acknowledged and then
	 * fails to decode in an exporter is lost. Limits bound what the
	 * decode may build, and stop this walk early. */
	otf_view_counts_t c;
	otf_pdata_error_t perr;
	memset(&perr, 0, sizeof perr);
	int rc = otf_view_validate(signal, payload->data, payload->len, lim, &c, &perr);
	if (rc < 0) {
		char buf[300];
		out->http_status = 400;
		snprintf(out->message, sizeof out->message, "invalid OTLP %s %s request: %s",
		         enc == OTLP_ENC_JSON ? "JSON" : "protobuf", otf_signal_name(signal),
		         otf_pdata_error_format(&perr, buf, sizeof buf));
		otf_buf_unref(payload);
		return;
	}
	out->http_status = 200;
	out->payload = payload;
	out->items = c.records;
}

otf_buf_t *otf__otlp_success_body(otf_signal_t signal, otlp_encoding_t enc)
{
	otf_export_response_t r;
	memset(&r, 0, sizeof r);
	otf_buf_t *b = NULL;
	int rc = enc == OTLP_ENC_JSON ? otf_pdata_json_encode_response(&r, signal, &b)
	                              : otf_pdata_encode_response(&r, signal, &b);
	return rc ? NULL : b;
}

/* google.rpc.Status: code = 1 (int32), message = 2 (string). Written by
 * hand: two fields do not justify a codec entry. */
otf_buf_t *otf__otlp_status_body(otlp_encoding_t enc, int grpc_code, const char *message)
{
	size_t ml = strlen(message);
	if (enc == OTLP_ENC_JSON) {
		otf_buf_t *b = otf_buf_create(ml * 6 + 64);
		if (!b)
			return NULL;
		char *p = (char *)b->data;
		size_t n = (size_t)sprintf(p, "{\"code\":%d,\"message\":\"", grpc_code);
		for (size_t i = 0; i < ml; i++) {
			unsigned char c = (unsigned char)message[i];
			if (c == '"' || c == '\\')
				n += (size_t)sprintf(p + n, "\\%c", c);
			else if (c < 0x20)
				n += (size_t)sprintf(p + n, "\\u%04x", c);
			else
				p[n++] = (char)c;
		}
		n += (size_t)sprintf(p + n, "\"}");
		b->len = n;
		return b;
	}
	otf_buf_t *b = otf_buf_create(ml + 16);
	if (!b)
		return NULL;
	uint8_t *p = b->data;
	size_t n = 0;
	if (grpc_code) {
		p[n++] = 0x08;
		uint32_t v = (uint32_t)grpc_code;
		while (v >= 0x80) {
			p[n++] = (uint8_t)(v | 0x80);
			v >>= 7;
		}
		p[n++] = (uint8_t)v;
	}
	p[n++] = 0x12;
	size_t l = ml;
	while (l >= 0x80) {
		p[n++] = (uint8_t)(l | 0x80);
		l >>= 7;
	}
	p[n++] = (uint8_t)l;
	memcpy(p + n, message, ml);
	b->len = n + ml;
	return b;
}
