/* google.rpc.Status and google.rpc.RetryInfo, the two messages an OTLP
 * server uses to say why it refused and when to come back (OTLP
 * specification, "Failures" and "OTLP/HTTP Throttling"):
 *   Status    { int32 code = 1; string message = 2; repeated Any details = 3; }
 *   Any       { string type_url = 1; bytes value = 2; }
 *   RetryInfo { Duration retry_delay = 1; }
 *   Duration  { int64 seconds = 1; int32 nanos = 2; } */
#include "exporterhelper.h"

#include "otflow/err.h"

#include <string.h>

typedef struct field {
	uint32_t num, wt;
	uint64_t v;          /* varint */
	const uint8_t *data; /* length-delimited */
	size_t len;
} field_t;

static int varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (*p >= end)
			return OTF_E_INVAL;
		uint8_t b = *(*p)++;
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
	}
	return OTF_E_INVAL;
}

/* Next field; 1 at the end, 0 with f filled, OTF_E_INVAL when malformed. */
static int next(const uint8_t **p, const uint8_t *end, field_t *f)
{
	if (*p >= end)
		return 1;
	uint64_t tag;
	if (varint(p, end, &tag))
		return OTF_E_INVAL;
	f->num = (uint32_t)(tag >> 3);
	f->wt = (uint32_t)(tag & 7);
	f->v = 0;
	f->data = NULL;
	f->len = 0;
	switch (f->wt) {
	case 0:
		return varint(p, end, &f->v);
	case 1:
		if (end - *p < 8)
			return OTF_E_INVAL;
		*p += 8;
		return 0;
	case 5:
		if (end - *p < 4)
			return OTF_E_INVAL;
		*p += 4;
		return 0;
	case 2: {
		uint64_t n;
		if (varint(p, end, &n) || n > (uint64_t)(end - *p))
			return OTF_E_INVAL;
		f->data = *p;
		f->len = (size_t)n;
		*p += n;
		return 0;
	}
	default:
		return OTF_E_INVAL;
	}
}

static int retry_info(const uint8_t *p, size_t n, uint64_t *ns)
{
	const uint8_t *end = p + n;
	field_t f;
	int rc;
	while (!(rc = next(&p, end, &f))) {
		if (f.num != 1 || f.wt != 2)
			continue;
		const uint8_t *d = f.data, *de = f.data + f.len;
		field_t g;
		uint64_t sec = 0, nanos = 0;
		while (!(rc = next(&d, de, &g))) {
			if (g.num == 1 && g.wt == 0)
				sec = g.v;
			else if (g.num == 2 && g.wt == 0)
				nanos = g.v;
		}
		if (rc < 0)
			return rc;
		if ((int64_t)sec < 0 || sec > 86400 * 365)
			sec = 0;
		*ns = sec * 1000000000ull + (nanos < 1000000000ull ? nanos : 0);
	}
	return rc < 0 ? rc : 0;
}

int otf__exph_status_parse(const uint8_t *p, size_t n, int *code, char *msg, size_t cap,
                           uint64_t *retry_ns)
{
	static const char k_retry_info[] = "type.googleapis.com/google.rpc.RetryInfo";
	const uint8_t *end = p + n;
	field_t f;
	int rc;
	*code = 0;
	*retry_ns = 0;
	if (msg && cap)
		msg[0] = '\0';
	while (!(rc = next(&p, end, &f))) {
		if (f.num == 1 && f.wt == 0) {
			*code = (int)(int32_t)f.v;
		} else if (f.num == 2 && f.wt == 2 && msg && cap) {
			size_t k = f.len < cap - 1 ? f.len : cap - 1;
			memcpy(msg, f.data, k);
			msg[k] = '\0';
		} else if (f.num == 3 && f.wt == 2) {
			const uint8_t *d = f.data, *de = f.data + f.len;
			field_t g;
			bool is_retry = false;
			const uint8_t *val = NULL;
			size_t val_len = 0;
			while (!(rc = next(&d, de, &g))) {
				if (g.num == 1 && g.wt == 2)
					is_retry = g.len == sizeof k_retry_info - 1 &&
					           !memcmp(g.data, k_retry_info, g.len);
				else if (g.num == 2 && g.wt == 2) {
					val = g.data;
					val_len = g.len;
				}
			}
			if (rc < 0)
				return rc;
			if (is_retry && val && retry_info(val, val_len, retry_ns))
				return OTF_E_INVAL;
		}
	}
	return rc < 0 ? rc : 0;
}
