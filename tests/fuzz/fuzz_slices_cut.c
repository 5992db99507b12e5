/* Fuzz target: otf_slices_cut (src/pdata/pb_slices.c), the CAN cut of a
 * batch's payload.
 *
 * Input: byte 0 the number of slices (0..15), byte 1 the mask of the
 * slices to drop, then per slice a 16-bit offset and a 16-bit length
 * (little endian), then the payload. Checked:
 * - nothing crashes or reads out of bounds (ASan, UBSan), nothing leaks;
 * - OTF_E_INVAL leaves the slices untouched and makes no buffer;
 * - a cut keeps exactly the bytes outside the dropped slices, in order,
 *   the kept slices point at their same bytes in the result, and the
 *   dropped items add up;
 * - a payload the OTLP view accepts as a logs request is still one after
 *   the cut, with the dropped slices' records fewer. */
#include "otflow/component.h"
#include "otflow/err.h"
#include "otflow/pdata_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

static bool drop(void *ctx, uint64_t id)
{
	return (*(const unsigned *)ctx >> id) & 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t ns = data[0] & 15;
	unsigned mask = data[1];
	if (size < 2 + 4 * ns)
		return 0;
	otf_msg_slice_t sl[16] = {{0}}, orig[16];
	const uint8_t *p = data + 2;
	for (size_t i = 0; i < ns; i++, p += 4)
		sl[i] = (otf_msg_slice_t){.id = i % 8,
		                          .off = (uint64_t)(p[0] | p[1] << 8),
		                          .len = (uint64_t)(p[2] | p[3] << 8),
		                          .items = i + 1};
	memcpy(orig, sl, sizeof sl);
	otf_buf_t *in = otf_buf_create_copy(p, size - (size_t)(p - data));
	if (!in)
		return 0;
	size_t n = ns;
	otf_buf_t *out = NULL;
	uint64_t dropped = 0;
	int rc = otf_slices_cut(in, sl, &n, drop, &mask, &out, &dropped);
	if (rc) {
		CHECK(rc == OTF_E_INVAL || rc == OTF_E_NOMEM);
		CHECK(!out && n == ns && !memcmp(sl, orig, ns * sizeof *sl));
		otf_buf_unref(in);
		return 0;
	}
	if (!out) {
		for (size_t i = 0; i < ns; i++)
			CHECK(!drop(&mask, orig[i].id));
		otf_buf_unref(in);
		return 0;
	}
	/* The expected rest, built the plain way. */
	uint8_t *want = malloc(in->len + 1);
	size_t wl = 0, at = 0, k = 0;
	uint64_t items = 0;
	for (size_t i = 0; i < ns; i++) {
		memcpy(want + wl, in->data + at, orig[i].off - at);
		wl += orig[i].off - at;
		at = orig[i].off + orig[i].len;
		if (drop(&mask, orig[i].id)) {
			items += orig[i].items;
			continue;
		}
		CHECK(k < n && sl[k].id == orig[i].id && sl[k].len == orig[i].len &&
		      sl[k].off == wl);
		CHECK(!memcmp(out->data + sl[k].off, in->data + orig[i].off, orig[i].len));
		k++;
		memcpy(want + wl, in->data + orig[i].off, orig[i].len);
		wl += orig[i].len;
	}
	memcpy(want + wl, in->data + at, in->len - at);
	wl += in->len - at;
	CHECK(k == n && dropped == items);
	CHECK(out->len == wl && !memcmp(out->data, want, wl));
	otf_view_counts_t a, b;
	if (!otf_view_count(OTF_SIGNAL_LOGS, in->data, in->len, &a))
		CHECK(!otf_view_count(OTF_SIGNAL_LOGS, out->data, out->len, &b) &&
		      b.records <= a.records);
	free(want);
	otf_buf_unref(out);
	otf_buf_unref(in);
	return 0;
}
