/* Socket-free gRPC client pieces (grpc_client.h). */
#include "grpc_client.h"

#include "otflow/err.h"
#include "otflow/grpc_server.h" /* status codes */

#include <stdio.h>
#include <string.h>

void otf__grpcc_prefix(size_t len, bool compressed, uint8_t out[5])
{
	uint32_t n = (uint32_t)len;
	out[0] = compressed ? 1 : 0;
	out[1] = (uint8_t)(n >> 24);
	out[2] = (uint8_t)(n >> 16);
	out[3] = (uint8_t)(n >> 8);
	out[4] = (uint8_t)n;
}

int otf__grpcc_frame(const otf_buf_t *msg, bool compressed, otf_buf_t **out)
{
	if (msg->len > UINT32_MAX)
		return OTF_E_TOO_LARGE;
	otf_buf_t *b = otf_buf_create(msg->len + 5);
	if (!b)
		return OTF_E_NOMEM;
	uint32_t n = (uint32_t)msg->len;
	otf__grpcc_prefix(n, compressed, b->data);
	if (n)
		memcpy(b->data + 5, msg->data, n);
	b->len = (size_t)n + 5;
	*out = b;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void otf__grpcc_percent_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	if (!cap)
		return;
	for (size_t i = 0; i < n && o + 1 < cap; i++) {
		int h, l;
		if (s[i] == '%' && i + 2 < n && (h = hexval(s[i + 1])) >= 0 &&
		    (l = hexval(s[i + 2])) >= 0) {
			out[o++] = (char)(h * 16 + l);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

long otf__grpcc_base64_decode(const char *s, size_t n, uint8_t *out, size_t cap)
{
	while (n && s[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return -1;
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64val(s[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return (long)o;
}

int otf__grpcc_http_status(int http)
{
	switch (http) {
	case 400:
		return OTF_GRPC_INTERNAL;
	case 401:
		return OTF_GRPC_UNAUTHENTICATED;
	case 403:
		return OTF_GRPC_PERMISSION_DENIED;
	case 404:
		return OTF_GRPC_UNIMPLEMENTED;
	case 429:
	case 502:
	case 503:
	case 504:
		return OTF_GRPC_UNAVAILABLE;
	default:
		return OTF_GRPC_UNKNOWN;
	}
}

bool otf__grpcc_retryable(int status, bool has_retry_info)
{
	switch (status) {
	case OTF_GRPC_CANCELLED:
	case OTF_GRPC_DEADLINE_EXCEEDED:
	case OTF_GRPC_ABORTED:
	case OTF_GRPC_OUT_OF_RANGE:
	case OTF_GRPC_UNAVAILABLE:
	case OTF_GRPC_DATA_LOSS:
		return true;
	case OTF_GRPC_RESOURCE_EXHAUSTED:
		/* Only when the server says when to come back: otherwise it
		 * is a permanent refusal (OTLP spec, "Failures"). */
		return has_retry_info;
	default:
		return false;
	}
}

void otf__grpcc_timeout(uint64_t ms, char out[16])
{
	if (ms <= 99999999)
		snprintf(out, 16, "%llum", (unsigned long long)ms);
	else if (ms / 1000 <= 99999999)
		snprintf(out, 16, "%lluS", (unsigned long long)(ms / 1000));
	else
		snprintf(out, 16, "%lluH", (unsigned long long)(ms / 3600000 % 100000000));
}
