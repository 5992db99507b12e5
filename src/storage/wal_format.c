/* The WAL record format (otflow/storage.h): CRC32C, header encoding, the
 * parser and the segment scan. Pure functions over memory: the replay of
 * a segment is this scan over the file's bytes, so the fuzz target
 * (tests/fuzz/fuzz_wal_replay.c) covers what a crash or a flipped byte can
 * present at startup. */
#include "otflow/err.h"
#include "otflow/storage.h"

#include <string.h>

static uint32_t g_crc_table[256];
static int g_crc_ready; /* written once; racing initialisers write the same values */

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		g_crc_table[i] = c;
	}
	__atomic_store_n(&g_crc_ready, 1, __ATOMIC_RELEASE);
}

uint32_t otf_crc32c(uint32_t crc, const void *p, size_t n)
{
	if (!__atomic_load_n(&g_crc_ready, __ATOMIC_ACQUIRE))
		crc_init();
	const uint8_t *b = p;
	crc = ~crc;
	while (n--)
		crc = g_crc_table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t record_crc(const uint8_t *hdr, const void *payload, uint32_t len)
{
	uint32_t c = otf_crc32c(0, hdr + 4, 4);
	c = otf_crc32c(c, hdr + 12, 12);
	return otf_crc32c(c, payload, len);
}

void otf_wal_record_header(uint8_t hdr[OTF_WAL_HEADER], uint32_t type, uint64_t id,
                           const void *payload, uint32_t len)
{
	put32(hdr, OTF_WAL_REC_MAGIC);
	put32(hdr + 4, len);
	put32(hdr + 12, type);
	put32(hdr + 16, (uint32_t)id);
	put32(hdr + 20, (uint32_t)(id >> 32));
	put32(hdr + 8, record_crc(hdr, payload, len));
}

int64_t otf_wal_record_parse(const uint8_t *p, size_t n, otf_wal_record_t *r)
{
	if (n < 4)
		return n && memcmp(p, "AWL1", n) ? OTF_E_INVAL : 0;
	if (get32(p) != OTF_WAL_REC_MAGIC)
		return OTF_E_INVAL;
	if (n < OTF_WAL_HEADER)
		return 0;
	uint32_t len = get32(p + 4), type = get32(p + 12);
	if (len > OTF_WAL_MAX_RECORD || (type != OTF_WAL_APPEND && type != OTF_WAL_ACK) ||
	    (type == OTF_WAL_ACK && len))
		return OTF_E_INVAL;
	if (n - OTF_WAL_HEADER < len)
		return 0;
	if (record_crc(p, p + OTF_WAL_HEADER, len) != get32(p + 8))
		return OTF_E_INVAL;
	r->type = type;
	r->id = (uint64_t)get32(p + 16) | (uint64_t)get32(p + 20) << 32;
	r->data = p + OTF_WAL_HEADER;
	r->len = len;
	return (int64_t)OTF_WAL_HEADER + len;
}

/* The next offset from off where a whole valid record parses; n if none. */
static size_t resync(const uint8_t *p, size_t n, size_t off)
{
	otf_wal_record_t r;
	for (; off + OTF_WAL_HEADER <= n; off++) {
		const uint8_t *m = memchr(p + off, 'A', n - off - OTF_WAL_HEADER + 1);
		if (!m)
			break;
		off = (size_t)(m - p);
		if (otf_wal_record_parse(p + off, n - off, &r) > 0)
			return off;
	}
	return n;
}

size_t otf_wal_scan(const uint8_t *p, size_t n, otf_wal_scan_cb cb, void *ctx,
                    otf_wal_scan_stats_t *st)
{
	size_t off = 0;
	while (off < n) {
		otf_wal_record_t r;
		int64_t k = otf_wal_record_parse(p + off, n - off, &r);
		if (k > 0) {
			st->records++;
			if (cb)
				cb(ctx, &r);
			off += (size_t)k;
			continue;
		}
		size_t next = resync(p, n, off + 1);
		if (next >= n) {
			/* Nothing valid follows: the tail a crash tore. */
			st->torn_tails++;
			st->torn_bytes += n - off;
			return off;
		}
		st->corrupt_records++;
		st->corrupt_bytes += next - off;
		off = next;
	}
	return off;
}
