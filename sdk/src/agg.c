/* Format 1001: metrics aggregated in place in the file (docs/mmap-protocol.md section 7).
 * A cell is one series (metric definition + attribute set); updates are atomic operations on
 * the mapped cell, so they survive a crash and touch no ring. Cells are found through the
 * preallocated process-local series index; a series that gets no cell (section full) keeps
 * writing version-1 Measurements to the ring, so nothing is lost. */
#include "otmm_internal.h"

#include <math.h>
#include <sched.h>

#define CELL_U64(c, off) ((_Atomic uint64_t *)(void *)((c) + (off)))
#define CELL_I64(c, off) ((_Atomic int64_t *)(void *)((c) + (off)))

int otmm__agg_init(otmm_t *m)
{
	memset(m->agg, 0, AGG_HDR_SIZE + m->ncells * m->cell_size);
	*(uint64_t *)(void *)(m->agg + A_MAGIC) = AGG_MAGIC;
	*(int64_t *)(void *)(m->agg + A_CELLS) = (int64_t)m->ncells;
	*(int64_t *)(void *)(m->agg + A_CELLSIZE) = (int64_t)m->cell_size;
	return 0;
}

static uint32_t cell_kind(const otmm_instrument_t *in)
{
	switch (in->kind) {
	case OTMM_HISTOGRAM:
		return CELL_HIST;
	case OTMM_GAUGE:
	case OTMM_OBSERVABLE_GAUGE:
		return in->is_double ? CELL_GAUGE_F64 : CELL_GAUGE_I64;
	default:
		return in->is_double ? CELL_SUM_F64 : CELL_SUM_I64;
	}
}

static uint64_t dbits(double d)
{
	uint64_t u;
	memcpy(&u, &d, 8);
	return u;
}

static double bitsd(uint64_t u)
{
	double d;
	memcpy(&d, &u, 8);
	return d;
}

/* creates the cell; NULL when the section is full or the histogram does not fit a cell */
static uint8_t *cell_create(otmm_t *m, const otmm_instrument_t *in, const uint8_t *attrs,
                            size_t len)
{
	uint32_t nb = in->kind == OTMM_HISTOGRAM ? in->n_bounds + 1 : 0;
	if (C_BUCKETS + 8ull * nb > m->cell_size)
		goto refuse;
	int64_t aref = 0;
	if (len) {
		aref = otmm__intern(m, attrs, len);
		if (aref < 0)
			return NULL;
	}
	uint64_t idx = atomic_fetch_add_explicit(CELL_U64(m->agg, A_USED), 1, memory_order_relaxed);
	if (idx >= m->ncells)
		goto refuse;
	uint8_t *c = m->agg + AGG_HDR_SIZE + idx * m->cell_size;
	atomic_store_explicit((_Atomic uint32_t *)(void *)(c + C_STATE), 1, memory_order_relaxed);
	*(uint32_t *)(void *)(c + C_KIND) = cell_kind(in);
	*(int64_t *)(void *)(c + C_METRIC) = in->metric_ref;
	*(int64_t *)(void *)(c + C_ATTRS) = aref;
	*(uint64_t *)(void *)(c + C_START) = otmm_now();
	if (nb) {
		*(uint64_t *)(void *)(c + C_MIN) = dbits(INFINITY);
		*(uint64_t *)(void *)(c + C_MAX) = dbits(-INFINITY);
		*(uint32_t *)(void *)(c + C_NBUCKETS) = nb;
	}
	atomic_store_explicit((_Atomic uint32_t *)(void *)(c + C_STATE), 2, memory_order_release);
	return c;
refuse:
	atomic_fetch_add_explicit(CELL_U64(m->agg, A_REFUSED), 1, memory_order_relaxed);
	return NULL;
}

static bool cell_matches(const otmm_t *m, const uint8_t *c, int64_t metric, const uint8_t *attrs,
                         size_t len)
{
	if (*(const int64_t *)(const void *)(c + C_METRIC) != metric)
		return false;
	int64_t aref = *(const int64_t *)(const void *)(c + C_ATTRS);
	if (aref == 0)
		return len == 0;
	const uint8_t *p = m->map + aref;
	uint64_t n = 0;
	unsigned shift = 0;
	while (*p & 0x80) {
		n |= (uint64_t)(*p++ & 0x7f) << shift;
		shift += 7;
	}
	n |= (uint64_t)*p++ << shift;
	return n == len && memcmp(p, attrs, len) == 0;
}

/* 0 and *cell set: use the cell; 1: write to the ring instead; <0: drop */
int otmm__cell_for(const otmm_instrument_t *in, const uint8_t *attrs, size_t len, uint8_t **cell)
{
	otmm_t *m = in->m;
	uint64_t h = otmm__hash(attrs, len, (uint64_t)in->metric_ref) | 1;
	uint64_t i = h & m->index_mask;
	for (int probe = 0; probe < 64; probe++, i = (i + 1) & m->index_mask) {
		otmm_index_entry_t *e = &m->series[i];
		uint64_t eh = atomic_load_explicit(&e->hash, memory_order_acquire);
		if (eh == 0 && atomic_compare_exchange_strong_explicit(
		                   &e->hash, &eh, h, memory_order_acq_rel, memory_order_acquire)) {
			uint8_t *c = cell_create(m, in, attrs, len);
			int64_t v =
			    c ? (int64_t)((uint64_t)(c - m->agg - AGG_HDR_SIZE) / m->cell_size) + 1
			      : -1;
			atomic_store_explicit(&e->val, v, memory_order_release);
			*cell = c;
			return c ? 0 : 1;
		}
		if (eh != h)
			continue;
		int64_t v;
		/* another thread is creating this series: a few stores away from done */
		for (int spin = 0; (v = atomic_load_explicit(&e->val, memory_order_acquire)) == 0;
		     spin++) {
			if (spin > 100000)
				return OTMM_E_FULL;
			if (spin > 64)
				sched_yield();
		}
		if (v < 0)
			return 1;
		uint8_t *c = m->agg + AGG_HDR_SIZE + (uint64_t)(v - 1) * m->cell_size;
		if (cell_matches(m, c, in->metric_ref, attrs, len)) {
			*cell = c;
			return 0;
		}
	}
	return 1;
}

static void add_f64(_Atomic uint64_t *p, double d)
{
	uint64_t old = atomic_load_explicit(p, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(p, &old, dbits(bitsd(old) + d),
	                                              memory_order_relaxed, memory_order_relaxed))
		;
}

static void min_max(_Atomic uint64_t *p, double d, bool is_min)
{
	uint64_t old = atomic_load_explicit(p, memory_order_relaxed);
	while (is_min ? d < bitsd(old) : d > bitsd(old)) {
		if (atomic_compare_exchange_weak_explicit(p, &old, dbits(d), memory_order_relaxed,
		                                          memory_order_relaxed))
			break;
	}
}

int otmm__cell_update(const otmm_instrument_t *in, uint8_t *c, int is_double, int64_t i, double d)
{
	(void)is_double;
	switch (in->kind) {
	case OTMM_COUNTER:
	case OTMM_UP_DOWN_COUNTER:
		if (in->is_double)
			add_f64(CELL_U64(c, C_VALUE), d);
		else
			atomic_fetch_add_explicit(CELL_I64(c, C_VALUE), i, memory_order_relaxed);
		return 0;
	case OTMM_OBSERVABLE_COUNTER:
	case OTMM_OBSERVABLE_UP_DOWN_COUNTER:
	case OTMM_GAUGE:
	case OTMM_OBSERVABLE_GAUGE:
		atomic_store_explicit(CELL_U64(c, C_VALUE), in->is_double ? dbits(d) : (uint64_t)i,
		                      memory_order_relaxed);
		atomic_store_explicit(CELL_U64(c, C_TIME), otmm_now(), memory_order_relaxed);
		atomic_fetch_add_explicit(CELL_U64(c, C_COUNT), 1, memory_order_relaxed);
		return 0;
	case OTMM_HISTOGRAM: {
		uint32_t lo = 0, hi = in->n_bounds; /* first bound >= d */
		while (lo < hi) {
			uint32_t mid = (lo + hi) / 2;
			if (d <= in->bounds[mid])
				hi = mid;
			else
				lo = mid + 1;
		}
		atomic_fetch_add_explicit(CELL_U64(c, C_BUCKETS + 8u * lo), 1,
		                          memory_order_relaxed);
		atomic_fetch_add_explicit(CELL_U64(c, C_COUNT), 1, memory_order_relaxed);
		add_f64(CELL_U64(c, C_VALUE), d);
		min_max(CELL_U64(c, C_MIN), d, true);
		min_max(CELL_U64(c, C_MAX), d, false);
		return 0;
	}
	default:
		return OTMM_E_INVAL;
	}
}
