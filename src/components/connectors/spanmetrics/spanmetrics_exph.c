/* spanmetrics: the exponential duration histogram (positive values only),
 * following go-expohisto, which the Collector's connector uses: base
 * 2^(2^-scale), start at scale 20, index of v the bucket (base^i,
 * base^(i+1)] (exact powers of two computed exactly, from frexp), and a
 * downscale by the smallest shift that keeps the index range within
 * max_size buckets. */
#include "spanmetrics.h"

#include <math.h>
#include <string.h>

static int32_t floor_shift(int32_t v, int c)
{
	return v >= 0 ? v >> c : -(int32_t)(((uint32_t)(-(int64_t)v) + (1u << c) - 1) >> c);
}

static int32_t exp_index(double v, int32_t scale)
{
	int e;
	double frac = frexp(v, &e);
	bool pow2 = frac == 0.5;
	if (scale <= 0) {
		int32_t ie = e - 1 - (pow2 ? 1 : 0);
		return floor_shift(ie, -scale);
	}
	if (pow2)
		return (int32_t)(((int64_t)(e - 1) << scale) - 1);
	return (int32_t)ceil(log(v) * (ldexp(1.0, scale) / M_LN2)) - 1;
}

static void exph_downscale(otf_sm_exph_t *h, int c)
{
	if (c <= 0)
		return;
	if (h->len) {
		int32_t base = floor_shift(h->offset, c);
		uint32_t nlen = 0;
		for (uint32_t i = 0; i < h->len; i++) {
			int32_t ni = floor_shift(h->offset + (int32_t)i, c) - base;
			uint64_t v = h->counts[i];
			h->counts[i] = 0;
			h->counts[ni] += v;
			if ((uint32_t)ni + 1 > nlen)
				nlen = (uint32_t)ni + 1;
		}
		h->offset = base;
		h->len = nlen;
	}
	h->scale -= c;
}

void otf__sm_exph_add(otf_sm_exph_t *h, double v, int32_t max_size)
{
	if (!h->n++)
		h->min = h->max = v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	if (v <= 0) {
		h->zero_count++;
		return;
	}
	int32_t idx = exp_index(v, h->scale);
	if (!h->len) {
		h->offset = idx;
		h->len = 1;
		h->counts[0] = 1;
		return;
	}
	int64_t lo = idx < h->offset ? idx : h->offset;
	int64_t hi = (int64_t)h->offset + h->len - 1;
	if (idx > hi)
		hi = idx;
	int c = 0;
	while ((floor_shift((int32_t)hi, c) - floor_shift((int32_t)lo, c)) + 1 > max_size)
		c++;
	if (c) {
		exph_downscale(h, c);
		idx = floor_shift(idx, c);
	}
	if (idx < h->offset) {
		uint32_t sh = (uint32_t)(h->offset - idx);
		memmove(h->counts + sh, h->counts, h->len * sizeof *h->counts);
		memset(h->counts, 0, sh * sizeof *h->counts);
		h->offset = idx;
		h->len += sh;
	} else if ((uint32_t)(idx - h->offset) >= h->len) {
		h->len = (uint32_t)(idx - h->offset) + 1;
	}
	h->counts[idx - h->offset]++;
}
