/* Socket-free gRPC pieces (grpc/grpc doc/PROTOCOL-HTTP2.md): the
 * Length-Prefixed-Message reader, grpc-timeout, grpc-encoding, content-type
 * and grpc-message percent-encoding. */
#include "net/grpc_internal.h"
#include "net/http_internal.h" /* otf__http_decode */

#include "otflow/alloc.h"
#include "otflow/bufpool.h"
#include "otflow/err.h"

#include <string.h>
#include <strings.h>

static const char *const k_status_names[] = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

const char *otf_grpc_status_name(int code)
{
	if (code < 0 || code > 16)
		return "UNKNOWN";
	return k_status_names[code];
}

void otf__grpc_reader_init(otf__grpc_reader_t *r, size_t max_len, bool has_encoding)
{
	memset(r, 0, sizeof *r);
	r->max_len = max_len;
	r->has_encoding = has_encoding;
}

void otf__grpc_reader_close(otf__grpc_reader_t *r)
{
	otf_buf_unref(r->msg);
	r->msg = NULL;
}

int otf__grpc_reader_feed(otf__grpc_reader_t *r, const uint8_t *data, size_t len,
                          const char **detail)
{
	while (len) {
		if (r->hdr_len < 5) {
			if (r->n_msgs) {
				*detail = "more than one request message for a unary method";
				return OTF_GRPC_INTERNAL;
			}
			size_t need = 5 - (size_t)r->hdr_len;
			size_t take = need < len ? need : len;
			memcpy(r->hdr + r->hdr_len, data, take);
			r->hdr_len = (uint8_t)(r->hdr_len + take);
			data += take;
			len -= take;
			if (r->hdr_len < 5)
				return 0;
			if (r->hdr[0] > 1) {
				*detail = "invalid compressed flag in the message prefix";
				return OTF_GRPC_INTERNAL;
			}
			r->compressed = r->hdr[0] == 1;
			if (r->compressed && !r->has_encoding) {
				*detail = "compressed flag set without a grpc-encoding";
				return OTF_GRPC_INTERNAL;
			}
			r->msg_len = (uint32_t)r->hdr[1] << 24 | (uint32_t)r->hdr[2] << 16 |
			             (uint32_t)r->hdr[3] << 8 | r->hdr[4];
			if (r->msg_len > r->max_len) {
				*detail = "request message larger than max_recv_msg_size";
				return OTF_GRPC_RESOURCE_EXHAUSTED;
			}
			r->got = 0;
			/* A large message gets its whole buffer now, from the
			 * loop's pool, so that its bytes can be read straight into
			 * it (grpc_direct.c) and no doubling chain of copies
			 * follows. The caller bounds what a call may hold. */
			if (!r->msg && r->msg_len >= OTF__NET_DIRECT_MIN &&
			    r->msg_len <= r->reserve_max) {
				r->msg = otf_bufpool_get(r->pool, r->msg_len);
				if (!r->msg) {
					*detail = "out of memory";
					return OTF_GRPC_RESOURCE_EXHAUSTED;
				}
				r->reserved = true;
			}
		}
		/* Memory follows the bytes that arrived (doubling, capped at the
		 * announced length): a prefix alone reserves nothing, and a
		 * message whose bytes come together is one exact allocation. */
		size_t left = r->msg_len - r->got;
		size_t take = left < len ? left : len;
		if (take) {
			size_t want = r->got + take;
			if (!r->msg || r->msg->cap < want) /* growing: for what arrived too */
				want += left - take < r->ahead ? left - take : r->ahead;
			int rc = otf__net_buf_grow(&r->msg, want, r->msg_len);
			if (rc < 0) {
				*detail = "out of memory";
				return OTF_GRPC_RESOURCE_EXHAUSTED;
			}
			/* Read in place already (grpc_direct.c): nothing to copy. */
			if (r->msg->data + r->got != data)
				memcpy(r->msg->data + r->got, data, take);
			r->msg->len = r->got += take;
			data += take;
			len -= take;
		}
		if (r->got == r->msg_len) {
			if (!r->msg) { /* an empty message */
				r->msg = otf_buf_create(0);
				if (!r->msg) {
					*detail = "out of memory";
					return OTF_GRPC_RESOURCE_EXHAUSTED;
				}
			}
			r->n_msgs++;
			/* hdr_len stays 5: the next byte is a second message */
			if (len) {
				*detail = "more than one request message for a unary method";
				return OTF_GRPC_INTERNAL;
			}
		}
	}
	return 0;
}

size_t otf__grpc_reader_left(const otf__grpc_reader_t *r)
{
	if (r->hdr_len < 5 || r->n_msgs)
		return 0;
	return r->msg_len - r->got;
}

int otf__grpc_reader_finish(otf__grpc_reader_t *r, const char *enc, size_t enc_len, otf_buf_t **out,
                            const char **detail)
{
	*out = NULL;
	if (r->n_msgs != 1) {
		*detail = r->hdr_len ? "request ends inside a message"
		                     : "no request message for a unary method";
		return OTF_GRPC_INTERNAL;
	}
	if (!r->compressed) {
		*out = r->msg;
		r->msg = NULL;
		return 0;
	}
	if (r->msg->len == 0) {
		*detail = "empty compressed message";
		return OTF_GRPC_INTERNAL;
	}
	int rc = otf__http_decode(enc, enc_len, r->msg, r->max_len, out, detail);
	otf__grpc_reader_close(r);
	switch (rc) {
	case 0:
		return 0;
	case OTF_E_TOO_LARGE:
		*detail = "decompressed request message larger than max_recv_msg_size";
		return OTF_GRPC_RESOURCE_EXHAUSTED;
	case OTF_E_NOMEM:
		*detail = "out of memory";
		return OTF_GRPC_RESOURCE_EXHAUSTED;
	case OTF_E_UNSUPPORTED:
		return OTF_GRPC_UNIMPLEMENTED;
	default:
		/* grpc-go answers a message that fails to decompress with
		 * INTERNAL. */
		return OTF_GRPC_INTERNAL;
	}
}

int otf__grpc_parse_timeout(const char *s, size_t n, uint64_t *ns)
{
	if (n < 2 || n > 9)
		return OTF_E_INVAL;
	uint64_t v = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return OTF_E_INVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	uint64_t mul;
	switch (s[n - 1]) {
	case 'H':
		mul = 3600000000000ull;
		break;
	case 'M':
		mul = 60000000000ull;
		break;
	case 'S':
		mul = 1000000000ull;
		break;
	case 'm':
		mul = 1000000ull;
		break;
	case 'u':
		mul = 1000ull;
		break;
	case 'n':
		mul = 1;
		break;
	default:
		return OTF_E_INVAL;
	}
	/* 8 digits of hours fit in 2^64 ns? 99999999 h = 3.6e20 ns: no. */
	*ns = v > UINT64_MAX / mul ? UINT64_MAX : v * mul;
	return 0;
}

static bool tok(const char *s, size_t n, const char *t)
{
	return n == strlen(t) && !strncasecmp(s, t, n);
}

bool otf__grpc_encoding_supported(const char *s, size_t n, bool *identity)
{
	*identity = !s || n == 0 || tok(s, n, "identity");
	return *identity || tok(s, n, "gzip") || tok(s, n, "deflate") || tok(s, n, "zstd");
}

bool otf__grpc_content_type_ok(const char *s, size_t n)
{
	static const char k[] = "application/grpc";
	size_t kl = sizeof k - 1;
	if (n < kl || strncasecmp(s, k, kl))
		return false;
	return n == kl || s[kl] == '+' || s[kl] == ';';
}

size_t otf__grpc_percent_encode(const char *msg, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	if (!cap)
		return 0;
	for (; msg && *msg; msg++) {
		unsigned char c = (unsigned char)*msg;
		bool plain = c >= 0x20 && c <= 0x7e && c != '%';
		if (n + (plain ? 1 : 3) >= cap)
			break;
		if (plain) {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
	return n;
}
