/* Drain of one otlp-mmap file: the format-1001 aggregation section
 * (docs/mmap-protocol.md section 7). At each collection every live cell is
 * read with 8-byte atomic loads and handed to the series table
 * (otf__mmd_cell_update) as the series' cumulative state.
 *
 * The section is untrusted: the reader checked that it lies inside the
 * file before the dictionary; here the header (magic, num_cells,
 * cell_size) must describe cells inside it, and each cell's kind, bucket
 * count and MetricRef must agree before it is used. A cell that does not
 * is skipped and counted (st.bad_cells); nothing stops the drain. */
#include "mmap_drain.h"

#include <string.h>

#define AGG_MAGIC       0x314747414D4D544Full /* "OTMMAGG1" */
#define AGG_HEADER      64u
#define CELL_BUCKETS    80u
#define CELL_MAX_BOUNDS 1024u

static uint64_t ld(const uint8_t *p)
{
	return __atomic_load_n((const uint64_t *)(const void *)p, __ATOMIC_RELAXED);
}

static double ldf(const uint8_t *p)
{
	uint64_t b = ld(p);
	double f;
	memcpy(&f, &b, sizeof f);
	return f;
}

/* The MetricRef aggregation a cell kind belongs to. */
static int kind_agg(uint32_t kind)
{
	switch (kind) {
	case 1:
	case 2:
		return OTF_MMX_AGG_SUM;
	case 3:
	case 4:
		return OTF_MMX_AGG_GAUGE;
	case 5:
		return OTF_MMX_AGG_HISTOGRAM;
	default:
		return OTF_MMX_AGG_NONE;
	}
}

void otf__mmd_cells_load(otf__mmd_t *d)
{
	const otf__mmr_t *r = &d->r;
	if (!r->ready || !r->agg_off || r->agg_size < AGG_HEADER ||
	    r->agg_off + r->agg_size > r->map_len)
		return;
	const uint8_t *sec = r->map + r->agg_off;
	if (ld(sec) != AGG_MAGIC)
		return;
	uint64_t num = ld(sec + 8), size = ld(sec + 16), used = ld(sec + 24);
	if (size < 128 || size % 64 || num > (r->agg_size - AGG_HEADER) / size)
		return;
	if (used > num)
		used = num;
	uint64_t buckets[CELL_MAX_BOUNDS + 1];
	for (uint64_t i = 0; i < used; i++) {
		const uint8_t *c = sec + AGG_HEADER + i * size;
		uint32_t state =
		    __atomic_load_n((const uint32_t *)(const void *)c, __ATOMIC_ACQUIRE);
		if (state != 2)
			continue; /* free, or left half-made by a producer that died */
		otf__mmd_cell_t cell;
		memset(&cell, 0, sizeof cell);
		uint64_t w0 = ld(c); /* state | kind << 32 (little-endian) */
		cell.index = i;
		cell.kind = (uint32_t)(w0 >> 32);
		cell.metric_ref = (int64_t)ld(c + 8);
		cell.attributes_ref = (int64_t)ld(c + 16);
		cell.start_ns = ld(c + 24);
		cell.time_ns = ld(c + 64);
		uint32_t nb = (uint32_t)ld(c + 72);
		int agg = kind_agg(cell.kind);
		const otf__mmx_metric_t *m = otf__mmx_metric(&d->x, cell.metric_ref);
		if (!agg || !m || m->agg != agg ||
		    (agg == OTF_MMX_AGG_HISTOGRAM
		         ? nb != m->bounds_len + 1 || nb > CELL_MAX_BOUNDS + 1 ||
		               CELL_BUCKETS + 8ull * nb > size
		         : nb != 0)) {
			d->st.bad_cells++;
			continue;
		}
		cell.is_double = cell.kind == 2 || cell.kind == 4;
		if (cell.is_double)
			cell.f = ldf(c + 32);
		else
			cell.i = (int64_t)ld(c + 32);
		if (agg == OTF_MMX_AGG_HISTOGRAM) {
			/* Buckets first: the count is derived from them (the cell's
			 * count may run ahead of them for an instant). */
			cell.count = 0;
			for (uint32_t k = 0; k < nb; k++) {
				buckets[k] = ld(c + CELL_BUCKETS + 8 * (uint64_t)k);
				cell.count += buckets[k];
			}
			cell.buckets = buckets;
			cell.nb = nb;
			cell.f = ldf(c + 32);
			cell.min = ldf(c + 48);
			cell.max = ldf(c + 56);
		}
		if (otf__mmd_cell_update(d, &cell))
			d->st.dropped_points++;
	}
}
