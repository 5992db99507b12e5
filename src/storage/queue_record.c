/* A queued request's payload (otflow/storage.h, "a queued request's
 * payload"): the head a sending queue writes before the request's bytes,
 * with the client metadata, and its parser. Pure functions over memory,
 * run by the fuzz target tests/fuzz/fuzz_wal_replay.c on every record it
 * recovers: a record's CRC guards against damage, not against a version
 * of otflow that wrote something else, so the parser checks every length. */
#include "otflow/err.h"
#include "otflow/storage.h"

#include <string.h>

#define V1_HEAD    10u /* version, signal, items */
#define ENTRY_HEAD 6u  /* key_len, value_len */

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int k = 0; k < 4; k++)
		p[k] = (uint8_t)(v >> (8 * k));
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The entries of keys/values that fit, and their bytes (count included). */
static size_t fit(const char *const *keys, const char *const *values, size_t n, size_t *kept)
{
	size_t bytes = 4, k = 0;
	for (size_t i = 0; i < n; i++) {
		size_t kl = keys[i] ? strlen(keys[i]) : 0, vl = values[i] ? strlen(values[i]) : 0;
		if (!kl || kl > UINT16_MAX || bytes + ENTRY_HEAD + kl + vl > OTF_QREC_MAX_META)
			continue;
		bytes += ENTRY_HEAD + kl + vl;
		k++;
	}
	*kept = k;
	return bytes;
}

size_t otf_qrec_head_size(const char *const *keys, const char *const *values, size_t n)
{
	size_t kept;
	return V1_HEAD + 4 + fit(keys, values, n, &kept);
}

size_t otf_qrec_encode_head(uint8_t *out, size_t cap, uint8_t signal, uint64_t items,
                            const char *const *keys, const char *const *values, size_t n,
                            size_t *kept)
{
	size_t meta = fit(keys, values, n, kept);
	size_t len = V1_HEAD + 4 + meta;
	if (cap < len)
		return len;
	out[0] = OTF_QREC_V2;
	out[1] = signal;
	for (int k = 0; k < 8; k++)
		out[2 + k] = (uint8_t)(items >> (8 * k));
	put_u32(out + V1_HEAD, (uint32_t)meta);
	put_u32(out + V1_HEAD + 4, (uint32_t)*kept);
	uint8_t *p = out + V1_HEAD + 8;
	size_t used = 4;
	for (size_t i = 0; i < n; i++) {
		size_t kl = keys[i] ? strlen(keys[i]) : 0, vl = values[i] ? strlen(values[i]) : 0;
		if (!kl || kl > UINT16_MAX || used + ENTRY_HEAD + kl + vl > OTF_QREC_MAX_META)
			continue;
		p[0] = (uint8_t)kl;
		p[1] = (uint8_t)(kl >> 8);
		put_u32(p + 2, (uint32_t)vl);
		memcpy(p + ENTRY_HEAD, keys[i], kl);
		if (vl)
			memcpy(p + ENTRY_HEAD + kl, values[i], vl);
		p += ENTRY_HEAD + kl + vl;
		used += ENTRY_HEAD + kl + vl;
	}
	return len;
}

int otf_qrec_parse(const uint8_t *p, size_t n, otf_qrec_t *r)
{
	memset(r, 0, sizeof *r);
	if (n < V1_HEAD || (p[0] != OTF_QREC_V1 && p[0] != OTF_QREC_V2))
		return OTF_E_INVAL;
	r->version = p[0];
	r->signal = p[1];
	for (int k = 0; k < 8; k++)
		r->items |= (uint64_t)p[2 + k] << (8 * k);
	size_t off = V1_HEAD;
	if (r->version == OTF_QREC_V2) {
		if (n - off < 4)
			return OTF_E_INVAL;
		uint32_t ml = get_u32(p + off);
		off += 4;
		if (ml < 4 || ml > OTF_QREC_MAX_META || ml > n - off)
			return OTF_E_INVAL;
		uint32_t count = get_u32(p + off);
		const uint8_t *e = p + off + 4, *end = p + off + ml;
		for (uint32_t i = 0; i < count; i++) {
			if ((size_t)(end - e) < ENTRY_HEAD)
				return OTF_E_INVAL;
			size_t kl = (size_t)e[0] | (size_t)e[1] << 8;
			size_t vl = get_u32(e + 2);
			if (!kl || kl > (size_t)(end - e) - ENTRY_HEAD ||
			    vl > (size_t)(end - e) - ENTRY_HEAD - kl)
				return OTF_E_INVAL;
			e += ENTRY_HEAD + kl + vl;
		}
		if (e != end)
			return OTF_E_INVAL; /* bytes no entry accounts for */
		r->meta = p + off + 4;
		r->meta_len = ml - 4;
		r->nmeta = count;
		off += ml;
	}
	r->body = p + off;
	r->body_len = n - off;
	return 0;
}

bool otf_qrec_meta_next(const otf_qrec_t *r, size_t *off, otf_qrec_entry_t *e)
{
	if (*off + ENTRY_HEAD > r->meta_len)
		return false;
	const uint8_t *p = r->meta + *off;
	e->key_len = (uint16_t)(p[0] | p[1] << 8);
	e->value_len = get_u32(p + 2);
	e->key = p + ENTRY_HEAD;
	e->value = e->key + e->key_len;
	*off += ENTRY_HEAD + e->key_len + e->value_len;
	return true;
}
