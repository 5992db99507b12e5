/* Request compression for the OTLP exporters: gzip (zlib, RFC 1952
 * framing) and zstd, as Content-Encoding (otlphttp) or grpc-encoding
 * (otlp). Decompression of answers is the server side's otf__http_decode. */
#include "exporterhelper.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <string.h>
#include <zlib.h>
#include <zstd.h>

static void *z_alloc(void *opaque, unsigned items, unsigned size)
{
	(void)opaque;
	return otf_malloc((size_t)items * size);
}

static void z_free(void *opaque, void *ptr)
{
	(void)opaque;
	otf_free(ptr);
}

static int gzip(const otf_buf_t *in, otf_buf_t **out)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	zs.zalloc = z_alloc;
	zs.zfree = z_free;
	/* 15 + 16: gzip framing; level 6 as Go's compress/gzip default. */
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return OTF_E_NOMEM;
	otf_buf_t *b = otf_buf_create(deflateBound(&zs, (uLong)in->len) + 32);
	if (!b) {
		deflateEnd(&zs);
		return OTF_E_NOMEM;
	}
	zs.next_in = (Bytef *)(uintptr_t)in->data;
	zs.avail_in = (uInt)in->len;
	zs.next_out = b->data;
	zs.avail_out = (uInt)b->cap;
	int rc = deflate(&zs, Z_FINISH);
	b->len = zs.total_out;
	deflateEnd(&zs);
	if (rc != Z_STREAM_END) {
		otf_buf_unref(b);
		return OTF_E_IO;
	}
	*out = b;
	return 0;
}

static int zstd(const otf_buf_t *in, otf_buf_t **out)
{
	otf_buf_t *b = otf_buf_create(ZSTD_compressBound(in->len));
	if (!b)
		return OTF_E_NOMEM;
	size_t n = ZSTD_compress(b->data, b->cap, in->data, in->len, 3);
	if (ZSTD_isError(n)) {
		otf_buf_unref(b);
		return OTF_E_IO;
	}
	b->len = n;
	*out = b;
	return 0;
}

int otf__exph_compress(otf_exph_compression_t c, otf_buf_t *in, otf_buf_t **out)
{
	if (c == OTF_EXPH_COMPRESSION_GZIP)
		return gzip(in, out);
	if (c == OTF_EXPH_COMPRESSION_ZSTD)
		return zstd(in, out);
	*out = otf_buf_ref(in);
	return 0;
}

int otf__exph_compression_parse(const char *s)
{
	if (!s || !*s || !strcmp(s, "none"))
		return OTF_EXPH_COMPRESSION_NONE;
	if (!strcmp(s, "gzip"))
		return OTF_EXPH_COMPRESSION_GZIP;
	if (!strcmp(s, "zstd"))
		return OTF_EXPH_COMPRESSION_ZSTD;
	return -1;
}

const char *otf__exph_compression_name(otf_exph_compression_t c)
{
	return c == OTF_EXPH_COMPRESSION_GZIP   ? "gzip"
	       : c == OTF_EXPH_COMPRESSION_ZSTD ? "zstd"
	                                        : "none";
}
