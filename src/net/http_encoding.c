/* Content-Encoding request decompression, bounded by the body limit so a
 * small compressed request cannot expand into unbounded memory. */
#include "net/http_internal.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>

/* Output may grow to max_out + 1 bytes: reaching that extra byte is how a
 * body one byte too large is told apart from one exactly at the limit. */
static size_t out_limit(size_t max_out)
{
	return max_out == SIZE_MAX ? max_out : max_out + 1;
}

/* Initial output guess: compressed OTLP usually expands 4-10x. */
static size_t first_guess(size_t in_len, size_t max_out)
{
	size_t g = in_len > SIZE_MAX / 4 ? SIZE_MAX : in_len * 4;
	if (g < 4096)
		g = 4096;
	return g < out_limit(max_out) ? g : out_limit(max_out);
}

/* otf_buf_reserve may round capacity up; never write past the limit. */
static size_t usable(const otf_buf_t *b, size_t max_out)
{
	return b->cap < out_limit(max_out) ? b->cap : out_limit(max_out);
}

/* Makes room for at least one more byte of output, up to out_limit().
 * Returns OTF_E_TOO_LARGE once the output went past max_out. */
static int grow_out(otf_buf_t **out, size_t max_out)
{
	otf_buf_t *b = *out;
	if (b->len > max_out)
		return OTF_E_TOO_LARGE;
	if (b->len < usable(b, max_out))
		return 0;
	size_t lim = out_limit(max_out);
	size_t want = b->cap <= lim / 2 ? b->cap * 2 : lim;
	return otf_buf_reserve(out, want);
}

static void *z_alloc(void *opaque, unsigned items, unsigned size)
{
	(void)opaque;
	return otf_calloc(items, size);
}

static void z_free(void *opaque, void *ptr)
{
	(void)opaque;
	otf_free(ptr);
}

/* window_bits as for inflateInit2: 15+16 gzip, 15 zlib, -15 raw deflate.
 * Concatenated gzip members (RFC 1952 allows them) are all decoded. */
static int inflate_body(const otf_buf_t *in, int window_bits, size_t max_out, otf_buf_t **out,
                        const char **detail)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	zs.zalloc = z_alloc;
	zs.zfree = z_free;
	if (inflateInit2(&zs, window_bits) != Z_OK)
		return OTF_E_NOMEM;
	otf_buf_t *b = otf_buf_create(first_guess(in->len, max_out));
	if (!b) {
		inflateEnd(&zs);
		return OTF_E_NOMEM;
	}
	zs.next_in = (Bytef *)in->data;
	int rc = 0;
	size_t in_left = in->len;
	for (;;) {
		if ((rc = grow_out(&b, max_out)) < 0)
			break;
		/* zlib counts in uInt: feed huge buffers in slices. */
		uInt in_now = in_left > UINT32_MAX ? UINT32_MAX : (uInt)in_left;
		size_t room = usable(b, max_out) - b->len;
		uInt out_now = room > UINT32_MAX ? UINT32_MAX : (uInt)room;
		zs.avail_in = in_now;
		zs.next_out = b->data + b->len;
		zs.avail_out = out_now;
		int z = inflate(&zs, Z_NO_FLUSH);
		in_left -= in_now - zs.avail_in;
		b->len += out_now - zs.avail_out;
		if (z == Z_STREAM_END) {
			if (in_left == 0)
				break;
			if (window_bits > 15 && inflateReset(&zs) == Z_OK)
				continue; /* next gzip member */
			*detail = "trailing bytes after the compressed stream";
			rc = OTF_E_INVAL;
			break;
		}
		if (z == Z_MEM_ERROR) {
			rc = OTF_E_NOMEM;
			break;
		}
		if (z == Z_BUF_ERROR && in_left == 0 && zs.avail_out > 0) {
			*detail = "compressed stream is truncated";
			rc = OTF_E_INVAL;
			break;
		}
		if (z != Z_OK && z != Z_BUF_ERROR) {
			*detail = zs.msg ? zs.msg : "invalid compressed data";
			rc = OTF_E_INVAL;
			break;
		}
	}
	inflateEnd(&zs);
	if (rc == 0 && b->len > max_out)
		rc = OTF_E_TOO_LARGE;
	if (rc < 0) {
		otf_buf_unref(b);
		return rc;
	}
	*out = b;
	return 0;
}

static int zstd_body(const otf_buf_t *in, size_t max_out, otf_buf_t **out, const char **detail)
{
	ZSTD_DStream *ds = ZSTD_createDStream();
	if (!ds)
		return OTF_E_NOMEM;
	otf_buf_t *b = otf_buf_create(first_guess(in->len, max_out));
	if (!b) {
		ZSTD_freeDStream(ds);
		return OTF_E_NOMEM;
	}
	ZSTD_inBuffer ib = {in->data, in->len, 0};
	int rc = 0;
	size_t last = 1; /* 0 once a frame is complete */
	while (ib.pos < ib.size || last != 0) {
		if ((rc = grow_out(&b, max_out)) < 0)
			break;
		ZSTD_outBuffer ob = {b->data, usable(b, max_out), b->len};
		size_t before_in = ib.pos;
		last = ZSTD_decompressStream(ds, &ob, &ib);
		b->len = ob.pos;
		if (ZSTD_isError(last)) {
			*detail = ZSTD_getErrorName(last);
			rc = OTF_E_INVAL;
			break;
		}
		/* No input left, no progress possible and the frame is open. */
		if (last != 0 && ib.pos == ib.size && ob.pos < ob.size && before_in == ib.pos) {
			*detail = "compressed stream is truncated";
			rc = OTF_E_INVAL;
			break;
		}
	}
	ZSTD_freeDStream(ds);
	if (rc == 0 && b->len > max_out)
		rc = OTF_E_TOO_LARGE;
	if (rc < 0) {
		otf_buf_unref(b);
		return rc;
	}
	*out = b;
	return 0;
}

static bool token_is(const char *s, size_t len, const char *tok)
{
	return len == strlen(tok) && strncasecmp(s, tok, len) == 0;
}

/* zlib stream header check (RFC 1950): CM=8 and the 16-bit check value. */
static bool looks_like_zlib(const otf_buf_t *in)
{
	if (in->len < 2)
		return false;
	unsigned cmf = in->data[0], flg = in->data[1];
	return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0;
}

int otf__http_decode(const char *enc, size_t enc_len, otf_buf_t *in, size_t max_out,
                     otf_buf_t **out, const char **detail)
{
	*detail = NULL;
	*out = NULL;
	while (enc_len && (enc[0] == ' ' || enc[0] == '\t')) {
		enc++;
		enc_len--;
	}
	while (enc_len && (enc[enc_len - 1] == ' ' || enc[enc_len - 1] == '\t'))
		enc_len--;
	bool identity = !enc || enc_len == 0 || token_is(enc, enc_len, "identity");
	if (!identity && !token_is(enc, enc_len, "gzip") && !token_is(enc, enc_len, "x-gzip") &&
	    !token_is(enc, enc_len, "deflate") && !token_is(enc, enc_len, "zstd")) {
		*detail = "unsupported Content-Encoding (gzip, deflate, zstd, identity)";
		return OTF_E_UNSUPPORTED;
	}
	if (identity) {
		if (in && in->len > max_out) {
			*detail = "request body larger than the configured limit";
			return OTF_E_TOO_LARGE;
		}
		*out = in ? otf_buf_ref(in) : NULL;
		return 0;
	}
	if (!in || in->len == 0) {
		*detail = "empty compressed body";
		return OTF_E_INVAL;
	}
	int rc;
	if (enc[0] == 'z' || enc[0] == 'Z')
		rc = zstd_body(in, max_out, out, detail);
	else if (enc[0] == 'd' || enc[0] == 'D')
		/* "deflate" means zlib-wrapped (RFC 9110), but many clients
		 * send raw deflate: accept both. */
		rc = inflate_body(in, looks_like_zlib(in) ? 15 : -15, max_out, out, detail);
	else
		rc = inflate_body(in, 15 + 16, max_out, out, detail);
	if (rc == OTF_E_TOO_LARGE)
		*detail = "decompressed request body larger than the configured limit";
	else if (rc == OTF_E_NOMEM)
		*detail = "out of memory";
	return rc;
}
