/* Fuzz target: the spanmetrics connector's span scanner and aggregator
 * (src/components/connectors/spanmetrics) over arbitrary trace request
 * bytes (an ExportTraceServiceRequest). The input's length picks the
 * variant (explicit or exponential histogram, cumulative or delta, a
 * cardinality limit, scope dimensions). Checked:
 * - nothing crashes or reads out of bounds (ASan, UBSan);
 * - when the protobuf decoder accepts the bytes, the aggregator does too
 *   and accounts for every span (counted, or skipped for a resource
 *   without service.name);
 * - every flush encodes a request the decoder accepts, whose calls add up
 *   to the spans counted since the last delta flush. */
#include "fuzz_common.h"

#include "components/connectors/spanmetrics/spanmetrics.h"
#include "otflow/arena.h"

static uint64_t calls_in(const otf_buf_t *b)
{
	otf_arena_t ar;
	otf_arena_init(&ar, 0);
	otf_metrics_t m;
	FUZZ_CHECK(otf_pdata_decode_metrics(&m, b->data, b->len, &ar, NULL, NULL) == 0);
	uint64_t n = 0;
	for (size_t r = 0; r < m.resource_metrics_len; r++)
		for (size_t s = 0; s < m.resource_metrics[r].scope_metrics_len; s++) {
			const otf_scope_metrics_t *sm = &m.resource_metrics[r].scope_metrics[s];
			for (size_t i = 0; i < sm->metrics_len; i++)
				if (sm->metrics[i].type == OTF_METRIC_SUM)
					for (size_t k = 0; k < sm->metrics[i].data_points_len; k++)
						n += (uint64_t)sm->metrics[i]
						         .data_points.number[k]
						         .value.as_int;
		}
	otf_arena_close(&ar);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The variant from the length, so that the seed corpus (whole
	 * requests) is used as it is. */
	uint8_t v = (uint8_t)(size * 7 % 64);
	static char n1[] = "http.method", d1[] = "GET", n2[] = "region", sc[] = "lib";
	static char *scopes[] = {sc};
	otf_sm_dimension_t dims[2] = {{n1, d1}, {n2, NULL}};
	otf_sm_config_t cfg = {0};
	cfg.dimensions = (otf_sm_dimensions_t){dims, 2};
	cfg.resource_metrics_cache_size = 4;
	cfg.aggregation_temporality = v & 1;
	cfg.histogram.has_exponential = (v & 2) != 0;
	cfg.histogram.exponential.max_size = (v & 4) ? 4 : 160;
	cfg.histogram.disable = (v & 8) != 0;
	cfg.aggregation_cardinality_limit = (v & 16) ? 2 : 0;
	cfg.include_instrumentation_scope = (otf_config_strlist_t){scopes, (v & 32) ? 1u : 0u};
	cfg.namespace_ = n2;
	otf_sm_agg_t *a = otf_sm_agg_create(&cfg);
	FUZZ_CHECK(a);

	otf_arena_t ar;
	otf_arena_init(&ar, 0);
	otf_traces_t t;
	bool valid = otf_pdata_decode_traces(&t, data, size, &ar, NULL, NULL) == 0;
	int rc = otf_sm_agg_add(a, data, size, 1000);
	otf_sm_stats_t st;
	otf_sm_agg_stats(a, &st);
	if (valid) {
		FUZZ_CHECK(rc == 0);
		size_t spans = 0;
		for (size_t r = 0; r < t.resource_spans_len; r++)
			for (size_t s = 0; s < t.resource_spans[r].scope_spans_len; s++)
				spans += t.resource_spans[r].scope_spans[s].spans_len;
		FUZZ_CHECK(st.spans + st.skipped_spans == spans);
	}
	otf_arena_close(&ar);
	uint64_t before = 0, expect = st.spans;
	for (int round = 0; round < 2; round++) {
		otf_buf_t *out;
		uint64_t points;
		rc = otf_sm_agg_flush(a, 2000 + (uint64_t)round, &out, &points);
		FUZZ_CHECK(rc == 0 || rc == OTF_E_NOMEM);
		/* An evicted resource takes its counts along. */
		if (rc == 0 && st.evicted_resources == 0)
			FUZZ_CHECK((out ? calls_in(out) : 0) == expect);
		else if (out)
			(void)calls_in(out); /* still decodes */
		otf_buf_unref(out);
		/* The same bytes again: delta holds only these, cumulative all. */
		before = st.spans;
		(void)otf_sm_agg_add(a, data, size, 3000);
		otf_sm_agg_stats(a, &st);
		expect = cfg.aggregation_temporality == 1 ? st.spans - before : st.spans;
	}
	otf_sm_agg_destroy(a);
	return 0;
}
