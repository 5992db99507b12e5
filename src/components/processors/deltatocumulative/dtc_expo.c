/* deltatocumulative: exponential histograms (deltatocumulative.h). The
 * running total and a delta sample are brought to the smaller of their
 * scales, then lower still while either bucket side would span more
 * than OTF_DTC_EXPO_MAX_BUCKETS (the SDKs' default max_size, 160), and
 * added bucket by bucket; counts, sums and zero counts add, min/max
 * widen, the zero threshold is the larger one (buckets below it are not
 * moved into the zero count). */
#include "deltatocumulative.h"

#include "otflow/alloc.h"
#include "otflow/err.h"

#include <errno.h>
#include <string.h>

typedef struct side {
	int32_t off;
	uint32_t len;
	uint64_t *b;
} side_t;

typedef struct expo_total {
	int32_t scale;
	uint64_t count, zero_count;
	double sum, min, max, zero_threshold;
	bool has_sum, has_min, has_max;
	side_t s[2]; /* positive, negative */
} expo_total_t;

void otf__dtc_expo_free(void *data)
{
	expo_total_t *t = data;
	if (!t)
		return;
	otf_free(t->s[0].b);
	otf_free(t->s[1].b);
	otf_free(t);
}

/* floor(i / 2^d) for any sign. */
static int64_t shr(int64_t i, int d)
{
	return i >= 0 ? i >> d : -((-i - 1) >> d) - 1;
}

/* Lowest and highest index of a side at `d` scales below its own; false
 * when it is empty. */
static bool span(const side_t *s, int d, int64_t *lo, int64_t *hi)
{
	if (!s->len)
		return false;
	*lo = shr(s->off, d);
	*hi = shr((int64_t)s->off + s->len - 1, d);
	return true;
}

static bool fits(const side_t *a, int da, const side_t *b, int db)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN, l, h;
	if (span(a, da, &l, &h)) {
		lo = l;
		hi = h;
	}
	if (span(b, db, &l, &h)) {
		lo = l < lo ? l : lo;
		hi = h > hi ? h : hi;
	}
	return lo > hi || hi - lo + 1 <= OTF_DTC_EXPO_MAX_BUCKETS;
}

/* a (downscaled by da) + b (by db) into a new side *out. */
static int add_sides(const side_t *a, int da, const side_t *b, int db, side_t *out)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN, l, h;
	if (span(a, da, &l, &h)) {
		lo = l;
		hi = h;
	}
	if (span(b, db, &l, &h)) {
		lo = l < lo ? l : lo;
		hi = h > hi ? h : hi;
	}
	*out = (side_t){0};
	if (lo > hi)
		return 0;
	out->off = (int32_t)lo;
	out->len = (uint32_t)(hi - lo + 1);
	if (!(out->b = otf_calloc(out->len, sizeof *out->b)))
		return OTF_E_NOMEM;
	for (uint32_t i = 0; i < a->len; i++)
		out->b[shr((int64_t)a->off + i, da) - lo] += a->b[i];
	for (uint32_t i = 0; i < b->len; i++)
		out->b[shr((int64_t)b->off + i, db) - lo] += b->b[i];
	return 0;
}

static int side_out(const side_t *s, otf_exp_buckets_t *out, otf_arena_t *a)
{
	out->offset = s->off;
	out->bucket_counts_len = s->len;
	out->bucket_counts = s->len ? otf_arena_memdup(a, s->b, s->len * sizeof *s->b) : NULL;
	return s->len && !out->bucket_counts ? OTF_E_NOMEM : 0;
}

int otf__dtc_expo_point(otf_series_map_t *map, otf_series_key_t mk,
                        otf_exp_histogram_data_point_t *p, uint64_t now, otf_arena_t *a,
                        otf_dtc_stats_t *st)
{
	if (p->scale < -10 || p->scale > 20 || p->positive.bucket_counts_len > UINT32_MAX / 2 ||
	    p->negative.bucket_counts_len > UINT32_MAX / 2) {
		st->dropped++; /* outside the OTLP scales: nothing sensible to add */
		return 0;
	}
	otf_series_entry_t *e;
	int rc =
	    otf__series_map_lock(map, otf__series_point_key(mk, &p->attributes, 0), true, now, &e);
	if (rc == -ENOSPC) {
		st->refused++;
		otf__series_map_count_refused(map, 1);
		return 0;
	}
	if (rc < 0)
		return rc;
	expo_total_t *t = e->data;
	if (rc == 0) {
		if (!(t = otf_calloc(1, sizeof *t))) {
			otf__series_map_remove_unlock(map, e);
			return OTF_E_NOMEM;
		}
		t->scale = p->scale;
		e->data = t;
		e->u[2] = p->start_time_unix_nano;
		e->u[3] = OTF_DTC_EXPO_TAG;
	} else if (p->start_time_unix_nano < e->u[2] || p->time_unix_nano <= e->u[1] ||
	           e->u[3] != OTF_DTC_EXPO_TAG) {
		otf__series_map_unlock(map, e);
		st->dropped++;
		return 0;
	}
	side_t in[2] = {{p->positive.offset, (uint32_t)p->positive.bucket_counts_len,
	                 p->positive.bucket_counts},
	                {p->negative.offset, (uint32_t)p->negative.bucket_counts_len,
	                 p->negative.bucket_counts}};
	int32_t scale = p->scale < t->scale ? p->scale : t->scale;
	while (scale > -10 && (!fits(&t->s[0], t->scale - scale, &in[0], p->scale - scale) ||
	                       !fits(&t->s[1], t->scale - scale, &in[1], p->scale - scale)))
		scale--;
	side_t ns[2];
	rc = add_sides(&t->s[0], t->scale - scale, &in[0], p->scale - scale, &ns[0]);
	if (!rc && (rc = add_sides(&t->s[1], t->scale - scale, &in[1], p->scale - scale, &ns[1])))
		otf_free(ns[0].b);
	if (rc) {
		otf__series_map_unlock(map, e);
		return rc;
	}
	for (int k = 0; k < 2; k++) {
		otf_free(t->s[k].b);
		t->s[k] = ns[k];
	}
	t->scale = scale;
	t->count += p->count;
	t->zero_count += p->zero_count;
	if (p->zero_threshold > t->zero_threshold)
		t->zero_threshold = p->zero_threshold;
	if (p->has_sum) {
		t->sum += p->sum;
		t->has_sum = true;
	}
	if (p->has_min && (!t->has_min || p->min < t->min)) {
		t->min = p->min;
		t->has_min = true;
	}
	if (p->has_max && (!t->has_max || p->max > t->max)) {
		t->max = p->max;
		t->has_max = true;
	}
	e->u[1] = p->time_unix_nano;
	p->start_time_unix_nano = e->u[2];
	p->scale = t->scale;
	p->count = t->count;
	p->zero_count = t->zero_count;
	p->zero_threshold = t->zero_threshold;
	p->has_sum = t->has_sum;
	p->sum = t->sum;
	p->has_min = t->has_min;
	p->min = t->min;
	p->has_max = t->has_max;
	p->max = t->max;
	/* Copies: the total changes under other workers once unlocked. */
	rc = side_out(&t->s[0], &p->positive, a);
	if (!rc)
		rc = side_out(&t->s[1], &p->negative, a);
	otf__series_map_unlock(map, e);
	return rc ? rc : 1;
}
