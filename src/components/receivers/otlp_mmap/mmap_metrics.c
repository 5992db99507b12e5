/* Drain of one otlp-mmap file: measurement aggregation (see mmap_drain.h).
 *
 * A series is (metric_ref, the Measurement's attributes canonicalised by
 * key ref). Sums add increments, or keep the last observation for
 * observable instruments (a sum declared CUMULATIVE whose measurements
 * carry no span context: the Java SDK declares its synchronous counters
 * CUMULATIVE too, but only its add() writes a span context); gauges keep the
 * last value and its time; explicit histograms honour the MetricRef's
 * bounds; exponential histograms start at max_scale and halve the scale
 * when a value falls outside max_buckets. Points carry the collection
 * time; start times are when the series' accumulation began. */
#include "mmap_drain.h"

#include "otflow/alloc.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct ebuckets {
	int32_t offset;
	uint32_t len;
	uint64_t *c;
} ebuckets_t;

struct otf__mmd_series {
	int64_t metric_ref;
	uint64_t hash;
	uint8_t *id; /* canonical attributes */
	size_t id_len;
	uint64_t start_ns, last_ns;
	bool touched;
	bool observed; /* sum of observed totals (last value wins), not of increments */
	otf_number_type_t vt;
	int64_t i;
	double f;
	int64_t prev_i; /* observable sums: value at the last delta export */
	double prev_f;
	uint64_t count;
	double sum, min, max;
	uint64_t *buckets; /* explicit: bounds_len + 1 */
	size_t nb;
	int32_t scale;
	uint64_t zero;
	ebuckets_t pos, neg;
	/* format 1001: the series is a cell in the file, its state is
	 * reloaded at each collection; prev_* is the state at the last delta
	 * export (delta = difference). */
	bool cell;
	int64_t attrs_ref;
	uint64_t prev_count;
	double prev_sum;
	uint64_t *prev_buckets;
};

static uint64_t series_hash(int64_t ref, const uint8_t *id, size_t n)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)ref;
	for (size_t i = 0; i < n; i++)
		h = (h ^ id[i]) * 1099511628211ull;
	return h ^ (h >> 31);
}

static void series_destroy(otf__mmd_series_t *s)
{
	otf_free(s->id);
	otf_free(s->buckets);
	otf_free(s->prev_buckets);
	otf_free(s->pos.c);
	otf_free(s->neg.c);
	otf_free(s);
}

void otf__mmd_series_free(otf__mmd_t *d)
{
	for (size_t i = 0; i < d->series_cap; i++)
		if (d->series[i])
			series_destroy(d->series[i]);
	if (d->series)
		memset(d->series, 0, d->series_cap * sizeof *d->series);
	d->series_len = 0;
}

static otf__mmd_series_t **series_slot(otf__mmd_t *d, int64_t ref, const uint8_t *id, size_t n,
                                       uint64_t h, bool cell)
{
	for (size_t i = h & (d->series_cap - 1);; i = (i + 1) & (d->series_cap - 1)) {
		otf__mmd_series_t *s = d->series[i];
		if (!s || (s->hash == h && s->metric_ref == ref && s->cell == cell &&
		           s->id_len == n && !memcmp(s->id, id, n)))
			return &d->series[i];
	}
}

static int series_grow(otf__mmd_t *d)
{
	size_t cap = d->series_cap ? d->series_cap * 2 : 256;
	otf__mmd_series_t **t = otf_calloc(cap, sizeof *t), **old = d->series;
	if (!t)
		return OTF_E_NOMEM;
	size_t oc = d->series_cap;
	d->series = t;
	d->series_cap = cap;
	for (size_t i = 0; i < oc; i++)
		if (old[i])
			*series_slot(d, old[i]->metric_ref, old[i]->id, old[i]->id_len,
			             old[i]->hash, old[i]->cell) = old[i];
	otf_free(old);
	return 0;
}

static otf__mmd_series_t *series_get(otf__mmd_t *d, int64_t ref, const uint8_t *id, size_t n,
                                     uint64_t now, bool cell)
{
	uint64_t h = series_hash(ref, id, n) ^ (cell ? 0x9e3779b97f4a7c15ull : 0);
	if (d->series_cap) {
		otf__mmd_series_t *s = *series_slot(d, ref, id, n, h, cell);
		if (s)
			return s;
	}
	if (d->series_len >= d->o.max_series)
		return NULL;
	if ((d->series_len + 1) * 2 > d->series_cap && series_grow(d))
		return NULL;
	otf__mmd_series_t *s = otf_calloc(1, sizeof *s);
	if (!s || !(s->id = otf_malloc(n ? n : 1))) {
		otf_free(s);
		return NULL;
	}
	memcpy(s->id, id, n);
	s->id_len = n;
	s->metric_ref = ref;
	s->hash = h;
	s->cell = cell;
	s->start_ns = now;
	s->min = INFINITY;
	s->max = -INFINITY;
	*series_slot(d, ref, id, n, h, cell) = s;
	d->series_len++;
	return s;
}

/* ---- exponential histogram ---- */

static int32_t exp_index(double v, int32_t scale)
{
	if (scale <= 0) {
		int e;
		double f = frexp(v, &e); /* v = f * 2^e, f in [0.5, 1) */
		int32_t ie = f == 0.5 ? e - 2 : e - 1;
		return ie >> -scale;
	}
	return (int32_t)ceil(log2(v) * ldexp(1.0, scale)) - 1;
}

static int eb_downscale(ebuckets_t *b)
{
	if (!b->len)
		return 0;
	int32_t lo = b->offset >> 1, hi = (int32_t)(b->offset + (int32_t)b->len - 1) >> 1;
	uint32_t nl = (uint32_t)(hi - lo + 1);
	uint64_t *c = otf_calloc(nl, sizeof *c);
	if (!c)
		return OTF_E_NOMEM;
	for (uint32_t i = 0; i < b->len; i++)
		c[((b->offset + (int32_t)i) >> 1) - lo] += b->c[i];
	otf_free(b->c);
	b->c = c;
	b->offset = lo;
	b->len = nl;
	return 0;
}

static int exp_record(otf__mmd_series_t *s, const otf__mmx_metric_t *m, double v)
{
	if (v == 0) {
		s->zero++;
		return 0;
	}
	ebuckets_t *b = v > 0 ? &s->pos : &s->neg;
	double a = fabs(v);
	for (;;) {
		int32_t idx = exp_index(a, s->scale);
		int32_t lo = b->len ? (idx < b->offset ? idx : b->offset) : idx;
		int32_t hi = b->len ? (idx > b->offset + (int32_t)b->len - 1
		                           ? idx
		                           : b->offset + (int32_t)b->len - 1)
		                    : idx;
		if ((int64_t)hi - lo + 1 > m->max_buckets && s->scale > -10) {
			if (eb_downscale(&s->pos) || eb_downscale(&s->neg))
				return OTF_E_NOMEM;
			s->scale--;
			continue;
		}
		uint32_t nl = (uint32_t)(hi - lo + 1);
		if (nl != b->len) {
			uint64_t *c = otf_calloc(nl, sizeof *c);
			if (!c)
				return OTF_E_NOMEM;
			if (b->len)
				memcpy(c + (b->offset - lo), b->c, b->len * sizeof *c);
			otf_free(b->c);
			b->c = c;
			b->len = nl;
			b->offset = lo;
		}
		b->c[idx - b->offset]++;
		return 0;
	}
}

/* ---- recording ---- */

int otf__mmd_measure(otf__mmd_t *d, const uint8_t *p, size_t n, uint64_t wall_ns)
{
	otf__mmx_meas_t ms;
	uint8_t id[2048];
	if (otf__mmx_meas(p, n, &ms))
		return OTF_E_INVAL;
	const otf__mmx_metric_t *m = otf__mmx_metric(&d->x, ms.metric_ref);
	if (!m || m->agg == OTF_MMX_AGG_NONE)
		return OTF_E_NOT_FOUND;
	long idl = otf__mmx_attr_identity(ms.msg, ms.msg_len, id, sizeof id);
	if (idl < 0)
		return (int)idl;
	uint64_t t = ms.time_unix_nano ? ms.time_unix_nano : wall_ns;
	otf__mmd_series_t *s = series_get(d, ms.metric_ref, id, (size_t)idl, t, false);
	if (!s)
		return OTF_E_NOMEM;
	double v = ms.type == OTF_NUMBER_INT ? (double)ms.as_int : ms.as_double;
	if (m->agg == OTF_MMX_AGG_SUM || m->agg == OTF_MMX_AGG_GAUGE) {
		/* What a measurement of a CUMULATIVE sum means: docs/mmap-protocol.md
		 * section 9, "Metrics". A series keeps what its first one said. */
		if (!s->vt)
			s->observed = m->observable && !ms.has_span_context;
		bool replace = m->agg == OTF_MMX_AGG_GAUGE || s->observed;
		if (!replace && m->monotonic && v < 0)
			return OTF_E_RANGE; /* a monotonic sum never decreases */
		if (!s->vt)
			s->vt = ms.type;
		if (s->vt != ms.type) {
			/* Mixed int and double: the series becomes double. */
			if (s->vt == OTF_NUMBER_INT) {
				s->f = (double)s->i;
				s->prev_f = (double)s->prev_i;
			}
			s->vt = OTF_NUMBER_DOUBLE;
		}
		if (s->vt == OTF_NUMBER_INT) {
			if (replace)
				s->i = ms.as_int;
			else
				s->i = (int64_t)((uint64_t)s->i + (uint64_t)ms.as_int);
		} else {
			s->f = replace ? v : s->f + v;
		}
	} else {
		if (!isfinite(v))
			return OTF_E_RANGE;
		s->count++;
		s->sum += v;
		if (v < s->min)
			s->min = v;
		if (v > s->max)
			s->max = v;
		if (m->agg == OTF_MMX_AGG_HISTOGRAM) {
			if (!s->buckets) {
				s->nb = m->bounds_len + 1;
				if (!(s->buckets = otf_calloc(s->nb, sizeof *s->buckets)))
					return OTF_E_NOMEM;
			}
			size_t lo = 0, hi = m->bounds_len; /* first bound >= v (upper inclusive) */
			while (lo < hi) {
				size_t mid = (lo + hi) / 2;
				if (v <= m->bounds[mid])
					hi = mid;
				else
					lo = mid + 1;
			}
			s->buckets[lo < s->nb ? lo : s->nb - 1]++;
		} else {
			if (s->count == 1)
				s->scale = (int32_t)m->max_scale;
			if (exp_record(s, m, v))
				return OTF_E_NOMEM;
		}
	}
	s->last_ns = t;
	s->touched = true;
	return 0;
}

int otf__mmd_cell_update(otf__mmd_t *d, const otf__mmd_cell_t *c)
{
	/* A cell is a series of its own: keyed by its index (its attribute
	 * set is resolved from attributes_ref when exported). */
	uint8_t id[8];
	memcpy(id, &c->index, sizeof id);
	otf__mmd_series_t *s = series_get(d, c->metric_ref, id, sizeof id, c->start_ns, true);
	if (!s)
		return OTF_E_NOMEM;
	s->attrs_ref = c->attributes_ref;
	s->vt = c->is_double ? OTF_NUMBER_DOUBLE : OTF_NUMBER_INT;
	if (c->kind == 5) {
		if (!s->buckets) {
			s->buckets = otf_calloc(c->nb, sizeof *s->buckets);
			s->prev_buckets = otf_calloc(c->nb, sizeof *s->prev_buckets);
			if (!s->buckets || !s->prev_buckets) {
				otf_free(s->buckets);
				otf_free(s->prev_buckets);
				s->buckets = s->prev_buckets = NULL;
				return OTF_E_NOMEM;
			}
			s->nb = c->nb;
		}
		if (s->nb != c->nb)
			return OTF_E_INVAL;
		memcpy(s->buckets, c->buckets, c->nb * sizeof *s->buckets);
		s->count = c->count;
		s->sum = c->f;
		s->min = c->min;
		s->max = c->max;
		s->touched = s->count != s->prev_count;
		return 0;
	}
	s->i = c->i;
	s->f = c->f;
	if (c->kind >= 3) {
		s->last_ns = c->time_ns;
		s->touched = true;
	} else {
		s->touched = c->is_double ? s->f != s->prev_f : s->i != s->prev_i;
	}
	return 0;
}

/* ---- collection ---- */

static int cmp_series(const void *a, const void *b)
{
	const otf__mmd_series_t *x = *(otf__mmd_series_t *const *)a;
	const otf__mmd_series_t *y = *(otf__mmd_series_t *const *)b;
	return x->metric_ref < y->metric_ref ? -1 : x->metric_ref > y->metric_ref;
}

typedef struct mord {
	int64_t rref, sref;
	size_t mi;
	const otf__mmx_scope_t *sc;
} mord_t;

static int cmp_ord(const void *a, const void *b)
{
	const mord_t *x = a, *y = b;
	if (x->rref != y->rref)
		return x->rref < y->rref ? -1 : 1;
	if (x->sref != y->sref)
		return x->sref < y->sref ? -1 : 1;
	return x->mi < y->mi ? -1 : x->mi > y->mi;
}

static int32_t out_temporality(const otf__mmd_t *d, const otf__mmx_metric_t *m)
{
	/* A MetricRef's temporality says what a measurement is (increment
	 * or observed total), not what to export: the receiver decides. */
	(void)m;
	return d->o.temporality == OTF_MMD_TEMP_DELTA ? OTF_TEMPORALITY_DELTA
	                                              : OTF_TEMPORALITY_CUMULATIVE;
}

static int point_attrs(otf__mmd_t *d, const otf__mmd_series_t *s, otf_attributes_t *out)
{
	uint32_t dropped = 0;
	if (s->cell) {
		/* An AttributeSet entry: repeated KeyValueRef, field 1. */
		const uint8_t *p;
		size_t len;
		memset(out, 0, sizeof *out);
		if (!s->attrs_ref)
			return 0;
		if (otf__mmr_dict(&d->r, s->attrs_ref, &p, &len))
			return OTF_E_NOT_FOUND;
		return otf__mmx_attrs(&d->x, &d->metric_arena, p, len, 1, out, &dropped);
	}
	/* The identity is KeyValueRef entries each with a varint length, which
	 * is field 2 of a Measurement without the tag: re-wrap and decode. */
	size_t n = 0;
	for (size_t i = 0; i < s->id_len;) {
		uint64_t l = 0;
		unsigned sh = 0;
		while (s->id[i] & 0x80) {
			l |= (uint64_t)(s->id[i++] & 0x7f) << sh;
			sh += 7;
		}
		l |= (uint64_t)s->id[i++] << sh;
		i += (size_t)l;
		n++;
	}
	uint8_t *w = otf_arena_alloc(&d->metric_arena, s->id_len + n);
	if (!w)
		return OTF_E_NOMEM;
	size_t o = 0;
	for (size_t i = 0; i < s->id_len;) {
		w[o++] = 0x12; /* field 2, LEN */
		size_t st = i;
		uint64_t l = 0;
		unsigned sh = 0;
		while (s->id[i] & 0x80) {
			l |= (uint64_t)(s->id[i++] & 0x7f) << sh;
			sh += 7;
		}
		l |= (uint64_t)s->id[i++] << sh;
		i += (size_t)l;
		memcpy(w + o, s->id + st, i - st);
		o += i - st;
	}
	return otf__mmx_attrs(&d->x, &d->metric_arena, w, o, 2, out, &dropped);
}

static int fill_point(otf__mmd_t *d, otf__mmd_series_t *s, const otf__mmx_metric_t *m,
                      otf_metric_t *om, size_t k, uint64_t now, bool delta)
{
	otf_attributes_t at;
	int rc = point_attrs(d, s, &at);
	if (rc)
		return rc;
	uint64_t start = s->start_ns < now ? s->start_ns : now;
	if (m->agg == OTF_MMX_AGG_SUM || m->agg == OTF_MMX_AGG_GAUGE) {
		otf_number_data_point_t *p = &om->data_points.number[k];
		memset(p, 0, sizeof *p);
		p->attributes = at;
		p->value_type = s->vt ? s->vt : OTF_NUMBER_INT;
		if (m->agg == OTF_MMX_AGG_GAUGE) {
			p->time_unix_nano = s->last_ns;
		} else {
			p->start_time_unix_nano = start;
			p->time_unix_nano = now;
		}
		bool obs_delta = delta && (s->observed || s->cell) && m->agg == OTF_MMX_AGG_SUM;
		if (p->value_type == OTF_NUMBER_INT)
			p->value.as_int = obs_delta ? s->i - s->prev_i : s->i;
		else
			p->value.as_double = obs_delta ? s->f - s->prev_f : s->f;
		return 0;
	}
	if (m->agg == OTF_MMX_AGG_HISTOGRAM) {
		otf_histogram_data_point_t *p = &om->data_points.histogram[k];
		memset(p, 0, sizeof *p);
		p->attributes = at;
		p->start_time_unix_nano = start;
		p->time_unix_nano = now;
		p->count = s->count;
		p->has_sum = true;
		p->sum = s->sum;
		p->has_min = p->has_max = s->count > 0;
		p->min = s->min;
		p->max = s->max;
		size_t nb = m->bounds_len + 1;
		p->bucket_counts = otf_arena_calloc(&d->metric_arena, nb, sizeof(uint64_t));
		if (!p->bucket_counts)
			return OTF_E_NOMEM;
		if (s->buckets)
			memcpy(p->bucket_counts, s->buckets,
			       (s->nb < nb ? s->nb : nb) * sizeof(uint64_t));
		p->bucket_counts_len = nb;
		if (delta && s->cell && s->buckets) {
			/* The cell is cumulative: export the difference. min and max
			 * of an interval are unknown unless it is the first one. */
			for (size_t b = 0; b < nb && b < s->nb; b++)
				p->bucket_counts[b] -= s->prev_buckets[b];
			p->count = s->count - s->prev_count;
			p->sum = s->sum - s->prev_sum;
			if (s->prev_count)
				p->has_min = p->has_max = false;
		}
		p->explicit_bounds = m->bounds;
		p->explicit_bounds_len = m->bounds_len;
		return 0;
	}
	otf_exp_histogram_data_point_t *p = &om->data_points.exp_histogram[k];
	memset(p, 0, sizeof *p);
	p->attributes = at;
	p->start_time_unix_nano = start;
	p->time_unix_nano = now;
	p->count = s->count;
	p->has_sum = true;
	p->sum = s->sum;
	p->has_min = p->has_max = s->count > 0;
	p->min = s->min;
	p->max = s->max;
	p->scale = s->scale;
	p->zero_count = s->zero;
	p->positive = (otf_exp_buckets_t){
	    s->pos.offset,
	    otf_arena_memdup(&d->metric_arena, s->pos.c, s->pos.len * sizeof(uint64_t)),
	    s->pos.len};
	p->negative = (otf_exp_buckets_t){
	    s->neg.offset,
	    otf_arena_memdup(&d->metric_arena, s->neg.c, s->neg.len * sizeof(uint64_t)),
	    s->neg.len};
	return 0;
}

static void series_restart(otf__mmd_series_t *s, const otf__mmx_metric_t *m, uint64_t now)
{
	s->start_ns = now;
	s->touched = false;
	if (s->cell) {
		/* The cell keeps the totals: remember them for the next difference. */
		s->prev_i = s->i;
		s->prev_f = s->f;
		s->prev_count = s->count;
		s->prev_sum = s->sum;
		if (s->buckets)
			memcpy(s->prev_buckets, s->buckets, s->nb * sizeof *s->buckets);
		return;
	}
	if (m->agg == OTF_MMX_AGG_SUM) {
		if (s->observed) {
			s->prev_i = s->i;
			s->prev_f = s->f;
		} else {
			s->i = 0;
			s->f = 0;
		}
		return;
	}
	s->count = 0;
	s->sum = 0;
	s->min = INFINITY;
	s->max = -INFINITY;
	if (s->buckets)
		memset(s->buckets, 0, s->nb * sizeof *s->buckets);
	otf_free(s->pos.c);
	otf_free(s->neg.c);
	memset(&s->pos, 0, sizeof s->pos);
	memset(&s->neg, 0, sizeof s->neg);
	s->zero = 0;
	s->scale = (int32_t)m->max_scale;
}

void otf__mmd_collect(otf__mmd_t *d, uint64_t now)
{
	if (!d->no_cells)
		otf__mmd_cells_load(d);
	if (!d->series_len)
		return;
	otf__mmd_series_t **all = otf_arena_alloc(&d->metric_arena, d->series_len * sizeof *all);
	if (!all)
		return;
	size_t n = 0;
	for (size_t i = 0; i < d->series_cap; i++)
		if (d->series[i])
			all[n++] = d->series[i];
	qsort(all, n, sizeof *all, cmp_series);
	/* One scope group per metric (a metric's scope is in its MetricRef);
	 * scopes of one resource share a resource group. */
	otf_resource_metrics_t *rm = otf_arena_calloc(&d->metric_arena, n, sizeof *rm);
	otf_scope_metrics_t *sm = otf_arena_calloc(&d->metric_arena, n, sizeof *sm);
	otf_metric_t *om = otf_arena_calloc(&d->metric_arena, n, sizeof *om);
	otf_metric_t *om2 = otf_arena_calloc(&d->metric_arena, n, sizeof *om2);
	mord_t *ord = otf_arena_alloc(&d->metric_arena, n * sizeof *ord);
	if (!rm || !sm || !om || !om2 || !ord)
		goto out;
	size_t nr = 0, points = 0, nm = 0, ns = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && all[j]->metric_ref == all[i]->metric_ref)
			j++;
		const otf__mmx_metric_t *m = otf__mmx_metric(&d->x, all[i]->metric_ref);
		if (!m) {
			i = j;
			continue;
		}
		bool delta =
		    m->agg != OTF_MMX_AGG_GAUGE && out_temporality(d, m) == OTF_TEMPORALITY_DELTA;
		otf_metric_t *x = &om[nm];
		x->name = m->name;
		x->description = m->description;
		x->unit = m->unit;
		size_t esize = m->agg == OTF_MMX_AGG_HISTOGRAM ? sizeof(otf_histogram_data_point_t)
		               : m->agg == OTF_MMX_AGG_EXP_HISTOGRAM
		                   ? sizeof(otf_exp_histogram_data_point_t)
		                   : sizeof(otf_number_data_point_t);
		void *pts = otf_arena_alloc(&d->metric_arena, (j - i) * esize);
		if (!pts)
			goto out;
		x->data_points.number = pts;
		x->type = m->agg == OTF_MMX_AGG_GAUGE       ? OTF_METRIC_GAUGE
		          : m->agg == OTF_MMX_AGG_SUM       ? OTF_METRIC_SUM
		          : m->agg == OTF_MMX_AGG_HISTOGRAM ? OTF_METRIC_HISTOGRAM
		                                            : OTF_METRIC_EXP_HISTOGRAM;
		if (m->agg != OTF_MMX_AGG_GAUGE)
			x->aggregation_temporality = out_temporality(d, m);
		x->is_monotonic = m->agg == OTF_MMX_AGG_SUM && m->monotonic;
		size_t k = 0;
		for (size_t q = i; q < j; q++) {
			if (delta && !all[q]->touched)
				continue; /* nothing new in this interval */
			if (fill_point(d, all[q], m, x, k, now, delta) == 0)
				k++;
		}
		x->data_points_len = k;
		if (k) {
			const otf__mmx_scope_t *sc = otf__mmx_scope(&d->x, m->scope_ref);
			ord[nm] = (mord_t){sc ? sc->resource_ref : 0, m->scope_ref, nm, sc};
			nm++;
			points += k;
		}
		if (delta)
			for (size_t q = i; q < j; q++)
				series_restart(all[q], m, now);
		i = j;
	}
	/* Metrics of one scope together, scopes of one resource together. */
	qsort(ord, nm, sizeof *ord, cmp_ord);
	for (size_t q = 0; q < nm; q++) {
		om2[q] = om[ord[q].mi];
		bool new_res = !q || ord[q].rref != ord[q - 1].rref;
		bool new_scope = new_res || ord[q].sref != ord[q - 1].sref;
		if (new_res) {
			rm[nr].resource = ord[q].sc ? ord[q].sc->resource : (otf_resource_t){0};
			rm[nr].scope_metrics = &sm[ns];
			nr++;
		}
		if (new_scope) {
			sm[ns].scope = ord[q].sc ? ord[q].sc->scope : (otf_scope_t){0};
			sm[ns].metrics = &om2[q];
			ns++;
			rm[nr - 1].scope_metrics_len++;
		}
		sm[ns - 1].metrics_len++;
	}
	if (points) {
		otf_metrics_t t = {.resource_metrics = rm, .resource_metrics_len = nr};
		otf_buf_t *buf = NULL;
		if (otf_pdata_encode_metrics(&t, &buf) ||
		    otf__mmd_queue(d, OTF_SIGNAL_METRICS, buf, points))
			d->st.encode_errors += points;
		else
			d->st.points += points;
	}
out:
	d->last_collect_ns = now;
	otf_arena_reset(&d->metric_arena);
}
