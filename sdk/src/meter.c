/* Metric instruments: definitions (MetricRef, interned by full content), version-1
 * Measurements on the ring, bound series, and the switch to in-file cells in format 1001.
 * docs/mmap-protocol.md sections 5 and 7. */
#include "otmm_internal.h"

#include <math.h>

static const double default_bounds[] = {0,   5,   10,   25,   50,   75,   100,  250,
                                        500, 750, 1000, 2500, 5000, 7500, 10000};

static bool is_sum(int kind)
{
	return kind == OTMM_COUNTER || kind == OTMM_UP_DOWN_COUNTER ||
	       kind == OTMM_OBSERVABLE_COUNTER || kind == OTMM_OBSERVABLE_UP_DOWN_COUNTER;
}

static bool is_monotonic(int kind)
{
	return kind == OTMM_COUNTER || kind == OTMM_OBSERVABLE_COUNTER;
}

int otmm_instrument_create(const otmm_scope_t *meter, int kind, const char *name,
                           const char *description, const char *unit, int is_double,
                           const double *bounds, size_t n_bounds, otmm_instrument_t *out)
{
	if (!meter || !meter->m || !out || !name || !*name || kind < OTMM_COUNTER ||
	    kind > OTMM_OBSERVABLE_GAUGE || n_bounds > OTMM_MAX_BOUNDS || (n_bounds && !bounds))
		return OTMM_E_INVAL;
	memset(out, 0, sizeof(*out));
	out->m = meter->m;
	out->kind = kind;
	out->is_double = is_double ? 1 : 0;
	if (kind == OTMM_HISTOGRAM) {
		if (!n_bounds) {
			bounds = default_bounds;
			n_bounds = sizeof(default_bounds) / sizeof(default_bounds[0]);
		}
		for (size_t i = 0; i < n_bounds; i++)
			if (!isfinite(bounds[i]) || (i && bounds[i] <= bounds[i - 1]))
				return OTMM_E_INVAL;
		memcpy(out->bounds, bounds, n_bounds * sizeof(double));
		out->n_bounds = (uint32_t)n_bounds;
	}
	/* MetricRef: name 1, description 2, unit 3, instrumentation_scope_ref 4,
	 * oneof aggregation { gauge 5, sum 6, histogram 7 } */
	uint8_t buf[4096];
	pbw_t w;
	pbw_init(&w, buf, sizeof(buf));
	size_t mark = pbw_len(&w);
	if (kind == OTMM_HISTOGRAM) {
		/* Histogram: aggregation_temporality 1 (DELTA: a sample), bucket_boundaries 2 */
		for (size_t i = out->n_bounds; i-- > 0;)
			pbw_raw(&w, &out->bounds[i], 8);
		pbw_varint(&w, 8ull * out->n_bounds);
		pbw_tag(&w, 2, 2);
		pbw_uint(&w, 1, 1);
		pbw_close(&w, 7, mark);
	} else if (is_sum(kind)) {
		/* Sum: temporality 2 (DELTA = increments, CUMULATIVE = observed totals),
		 * is_monotonic 3 */
		if (is_monotonic(kind))
			pbw_uint(&w, 3, 1);
		pbw_uint(&w, 2, kind == OTMM_COUNTER || kind == OTMM_UP_DOWN_COUNTER ? 1 : 2);
		pbw_close(&w, 6, mark);
	} else {
		pbw_close(&w, 5, mark); /* Gauge {} */
	}
	pbw_uint(&w, 4, (uint64_t)meter->ref);
	if (unit && *unit)
		pbw_bytes(&w, 3, unit, strlen(unit));
	if (description && *description)
		pbw_bytes(&w, 2, description, strlen(description));
	pbw_bytes(&w, 1, name, strlen(name));
	if (w.bad)
		return OTMM_E_TOO_BIG;
	int64_t ref = otmm__intern(meter->m, w.p, pbw_len(&w));
	if (ref < 0)
		return (int)ref;
	out->metric_ref = ref;
	return 0;
}

static int convert(const otmm_instrument_t *in, int is_d, int64_t *i, double *d)
{
	if (!in || !in->m)
		return OTMM_E_INVAL;
	if (in->is_double) {
		if (!is_d)
			*d = (double)*i;
		if (isnan(*d) || (is_monotonic(in->kind) && *d < 0))
			return OTMM_E_INVAL;
	} else {
		if (is_d) {
			if (!isfinite(*d))
				return OTMM_E_INVAL;
			*i = (int64_t)*d;
		}
		if (is_monotonic(in->kind) && *i < 0)
			return OTMM_E_INVAL;
		*d = (double)*i;
	}
	return 0;
}

static int record(const otmm_instrument_t *in, int is_d, int64_t i, double d,
                  const otmm_attr_t *attrs, size_t n)
{
	int rc = convert(in, is_d, &i, &d);
	if (rc < 0)
		return rc;
	otmm_t *m = in->m;
	uint8_t buf[OTMM_MAX_RECORD];
	pbw_t w;
	if (m->agg) {
		pbw_init(&w, buf, sizeof(buf));
		rc = otmm__enc_attrs(m, &w, 1, attrs, n); /* AttributeSet.attributes = 1 */
		if (rc < 0)
			goto drop;
		uint8_t *cell = NULL;
		rc = otmm__cell_for(in, w.p, pbw_len(&w), &cell);
		if (rc < 0)
			goto drop;
		if (rc == 0)
			return otmm__cell_update(in, cell, is_d, i, d);
	}
	/* Measurement: metric_ref 1, attributes 2, time 3, as_long 4 / as_double 5; back to
	 * front, so the value is written first */
	pbw_init(&w, buf, sizeof(buf));
	if (in->is_double)
		pbw_double(&w, 5, d);
	else
		pbw_uint(&w, 4, (uint64_t)i);
	pbw_fixed64(&w, 3, otmm_now());
	rc = otmm__enc_attrs(m, &w, 2, attrs, n);
	if (rc < 0)
		goto drop;
	pbw_uint(&w, 1, (uint64_t)in->metric_ref);
	rc = otmm__finish(&w);
	if (rc < 0)
		goto drop;
	return otmm__ring_write(m, RING_MEASUREMENTS, w.p, pbw_len(&w));
drop:
	if (rc == OTMM_E_TOO_BIG || rc == OTMM_E_DICT_FULL || rc == OTMM_E_FULL)
		otmm__ring_drop(m, RING_MEASUREMENTS);
	return rc;
}

int otmm_record_i64(const otmm_instrument_t *in, int64_t v, const otmm_attr_t *a, size_t n)
{
	return record(in, 0, v, 0, a, n);
}

int otmm_record_f64(const otmm_instrument_t *in, double v, const otmm_attr_t *a, size_t n)
{
	return record(in, 1, 0, v, a, n);
}

int otmm_series_bind(const otmm_instrument_t *in, const otmm_attr_t *attrs, size_t n,
                     otmm_series_t *out)
{
	if (!in || !in->m || !out)
		return OTMM_E_INVAL;
	memset(out, 0, offsetof(otmm_series_t, attr_enc));
	out->inst = in;
	pbw_t w;
	pbw_init(&w, out->attr_enc, sizeof(out->attr_enc));
	int rc = otmm__enc_attrs(in->m, &w, 2, attrs, n); /* Measurement.attributes = 2 */
	if (rc < 0)
		return rc == OTMM_E_TOO_BIG ? OTMM_E_LIMIT : rc;
	out->attr_len = (uint32_t)pbw_len(&w);
	memmove(out->attr_enc, w.p, out->attr_len);
	if (in->m->agg) {
		uint8_t buf[OTMM_MAX_RECORD];
		pbw_init(&w, buf, sizeof(buf));
		rc = otmm__enc_attrs(in->m, &w, 1, attrs, n);
		if (rc < 0)
			return rc;
		uint8_t *cell = NULL;
		rc = otmm__cell_for(in, w.p, pbw_len(&w), &cell);
		if (rc < 0)
			return rc;
		out->cell = rc == 0 ? cell : NULL;
	}
	return 0;
}

static int series_record(const otmm_series_t *s, int is_d, int64_t i, double d)
{
	if (!s || !s->inst)
		return OTMM_E_INVAL;
	const otmm_instrument_t *in = s->inst;
	int rc = convert(in, is_d, &i, &d);
	if (rc < 0)
		return rc;
	if (s->cell)
		return otmm__cell_update(in, s->cell, is_d, i, d);
	uint8_t buf[OTMM_SERIES_ATTR_MAX + 64];
	pbw_t w;
	pbw_init(&w, buf, sizeof(buf));
	if (in->is_double)
		pbw_double(&w, 5, d);
	else
		pbw_uint(&w, 4, (uint64_t)i);
	pbw_fixed64(&w, 3, otmm_now());
	pbw_raw(&w, s->attr_enc, s->attr_len);
	pbw_uint(&w, 1, (uint64_t)in->metric_ref);
	rc = otmm__finish(&w);
	if (rc < 0) {
		otmm__ring_drop(in->m, RING_MEASUREMENTS);
		return rc;
	}
	return otmm__ring_write(in->m, RING_MEASUREMENTS, w.p, pbw_len(&w));
}

int otmm_series_record_i64(const otmm_series_t *s, int64_t v)
{
	return series_record(s, 0, v, 0);
}

int otmm_series_record_f64(const otmm_series_t *s, double v)
{
	return series_record(s, 1, 0, v);
}
