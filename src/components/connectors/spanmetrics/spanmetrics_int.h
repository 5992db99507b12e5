/* connector `spanmetrics`: the aggregator's internal state, shared by
 * spanmetrics_agg.c (counting) and spanmetrics_flush.c (building the
 * metrics request, temporality, expiration). Not for other components. */
#ifndef OTFLOW_SPANMETRICS_INT_H
#define OTFLOW_SPANMETRICS_INT_H

#include "spanmetrics.h"
#include "pdata/pb_varint.h"

#include <string.h>

#define OVERFLOW_KEY "otel.metric.overflow"
#define MAX_DIMS     64

typedef struct series {
	uint64_t hash;
	uint32_t res;
	uint32_t key_len;
	uint8_t *key;  /* Resource message bytes: the attributes */
	uint8_t *ckey; /* the compact lookup key (ck_span) */
	uint32_t ckey_len;
	uint64_t start_ns;
	uint64_t calls;
	uint64_t count; /* histogram */
	double sum;
	uint64_t *buckets; /* explicit: nbounds + 1 */
	otf_sm_exph_t *exp;
	bool overflow;
} series_t;

typedef struct resource {
	uint64_t hash;
	uint8_t *traces; /* TracesData{ResourceSpans{Resource}} bytes */
	size_t traces_len;
	size_t nseries;
	int64_t overflow; /* series index, -1 */
	uint64_t last_seen;
} resource_t;

struct otf_sm_agg {
	const otf_sm_config_t *cfg;
	double *bounds; /* explicit bounds in the unit */
	size_t nbounds;
	double divider; /* ns per unit */
	int32_t max_size;
	bool exponential, hist;
	bool excl[4];    /* service.name, span.name, span.kind, status.code */
	size_t dlen[64]; /* strlen of the dimension names, not per span */
	series_t *series;
	size_t nseries, cap_series;
	uint32_t *index; /* series index + 1, 0 empty */
	size_t index_cap;
	resource_t *res;
	size_t nres, cap_res;
	uint8_t *kb; /* attributes of a new series under construction */
	size_t kb_len, kb_cap;
	uint8_t *ck; /* compact key of the span at hand */
	size_t ck_len, ck_cap;
	otf_sm_stats_t st;
	int err; /* resource_get's failure */
};

/* Frees what series s holds (not s itself). */
void otf__sm_series_free(series_t *s);
/* Removes resource r and its series (the index is rebuilt): 0 or
 * OTF_E_NOMEM. Indices of later resources shift down by one. */
int otf__sm_evict(otf_sm_agg_t *a, size_t r);
/* Rebuilds the lookup index for at least want series: 0 or OTF_E_NOMEM. */
int otf__sm_index_rebuild(otf_sm_agg_t *a, size_t want);

#endif
