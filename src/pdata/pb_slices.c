/* otf_slices_cut (otflow/component.h): a batch's payload without the
 * slices of its cancelled inputs (CAN). The slices come from the batch
 * processor, which cut the payload on resource-group boundaries; they are
 * checked against the payload's top-level fields anyway, so that a
 * payload some node replaced, or a wrong slice, is sent whole rather than
 * cut into bytes that are not a request. No decoding beyond the top
 * level; fuzzed (tests/fuzz/fuzz_slices_cut.c). */
#include "otflow/component.h"
#include "otflow/err.h"

#include <string.h>

/* Varint at p (n bytes left): its bytes, 0 when malformed or cut. */
static size_t varint(const uint8_t *p, size_t n, uint64_t *v)
{
	uint64_t x = 0;
	for (size_t i = 0; i < n && i < 10; i++) {
		x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = x;
			return i + 1;
		}
	}
	return 0;
}

/* The end of the top-level field at off, 0 when malformed. */
static uint64_t field_end(const uint8_t *p, uint64_t n, uint64_t off)
{
	uint64_t key, len;
	size_t k = varint(p + off, n - off, &key);
	if (!k || (key >> 3) == 0)
		return 0;
	off += k;
	switch (key & 7) {
	case 0:
		k = varint(p + off, n - off, &len);
		return k ? off + k : 0;
	case 1:
		return n - off >= 8 ? off + 8 : 0;
	case 5:
		return n - off >= 4 ? off + 4 : 0;
	case 2:
		k = varint(p + off, n - off, &len);
		if (!k || len > n - off - k)
			return 0;
		return off + k + len;
	default:
		return 0;
	}
}

static uint64_t target(const otf_msg_slice_t *s, size_t t)
{
	return t % 2 ? s[t / 2].off + s[t / 2].len : s[t / 2].off;
}

/* True when every slice lies on top-level field boundaries of p, in
 * order: what remains after cutting any of them is a request again. */
static bool slices_fit(const uint8_t *p, uint64_t n, const otf_msg_slice_t *s, size_t ns)
{
	uint64_t prev_end = 0;
	for (size_t i = 0; i < ns; i++)
		if (s[i].off < prev_end || s[i].len > n || s[i].off > n - s[i].len)
			return false;
		else
			prev_end = s[i].off + s[i].len;
	/* Walks the fields; the targets (each slice's start, then its end,
	 * ascending) must each be met at a field boundary. */
	size_t t = 0;
	uint64_t off = 0;
	for (;;) {
		while (t < 2 * ns && target(s, t) == off)
			t++;
		if (t < 2 * ns && target(s, t) < off)
			return false; /* inside a field */
		if (off == n)
			return t == 2 * ns;
		off = field_end(p, n, off);
		if (!off)
			return false;
	}
}

int otf_slices_cut(const otf_buf_t *payload, otf_msg_slice_t *slices, size_t *n,
                   otf_slice_drop_fn drop, void *ctx, otf_buf_t **out, uint64_t *dropped_items)
{
	*out = NULL;
	*dropped_items = 0;
	size_t ns = *n, ndrop = 0;
	uint64_t cut_bytes = 0, cut_items = 0;
	for (size_t i = 0; i < ns; i++)
		if (drop(ctx, slices[i].id)) {
			ndrop++;
			cut_bytes += slices[i].len;
			cut_items += slices[i].items;
		}
	if (!ndrop)
		return 0;
	if (!slices_fit(payload->data, payload->len, slices, ns))
		return OTF_E_INVAL;
	otf_buf_t *b = otf_buf_create(payload->len - cut_bytes);
	if (!b)
		return OTF_E_NOMEM;
	/* Bytes between slices (none from the batch processor) are kept. */
	uint64_t at = 0;
	size_t kept = 0;
	for (size_t i = 0; i < ns; i++) {
		otf_msg_slice_t sl = slices[i];
		memcpy(b->data + b->len, payload->data + at, sl.off - at);
		b->len += sl.off - at;
		at = sl.off + sl.len;
		if (drop(ctx, sl.id))
			continue;
		memcpy(b->data + b->len, payload->data + sl.off, sl.len);
		sl.off = b->len;
		b->len += sl.len;
		slices[kept++] = sl;
	}
	memcpy(b->data + b->len, payload->data + at, payload->len - at);
	b->len += payload->len - at;
	*n = kept;
	*out = b;
	*dropped_items = cut_items;
	return 0;
}
