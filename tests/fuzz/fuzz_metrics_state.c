/* Fuzz target: the metrics processors that keep series state or merge
 * points (cumulativetodelta, deltatocumulative, interval,
 * metricstransform) over arbitrary ExportMetricsServiceRequest bytes.
 * The state maps live across inputs, so later inputs meet the series of
 * earlier ones (resets, other bucket layouts, out-of-order points).
 * Checked:
 * - nothing crashes or reads out of bounds (ASan, UBSan), no leak;
 * - when the decoder accepts the bytes, every processor does, and what
 *   it leaves encodes to a request the decoder accepts again;
 * - cumulativetodelta and deltatocumulative never add points, and leave
 *   no cumulative monotonic sum (resp. delta sum) they converted;
 * - interval holds, passes or refuses (series bound) every point. */
#include "fuzz_common.h"

#include "components/processors/cumulativetodelta/cumulativetodelta.h"
#include "components/processors/deltatocumulative/deltatocumulative.h"
#include "components/processors/interval/interval.h"
#include "components/processors/metricstransform/metricstransform.h"
#include "otflow/arena.h"
#include "otflow/config.h"

static uint64_t points(const otf_metrics_t *m)
{
	uint64_t n = 0;
	for (size_t r = 0; r < m->resource_metrics_len; r++)
		for (size_t s = 0; s < m->resource_metrics[r].scope_metrics_len; s++) {
			const otf_scope_metrics_t *sm = &m->resource_metrics[r].scope_metrics[s];
			for (size_t i = 0; i < sm->metrics_len; i++)
				n += sm->metrics[i].data_points_len;
		}
	return n;
}

static void reencode(const otf_metrics_t *m)
{
	otf_buf_t *b = NULL;
	FUZZ_CHECK(otf_pdata_encode_metrics(m, &b) == 0);
	otf_arena_t a;
	otf_arena_init(&a, 0);
	otf_metrics_t back;
	FUZZ_CHECK(otf_pdata_decode_metrics(&back, b->data, b->len, &a, NULL, NULL) == 0);
	FUZZ_CHECK(points(&back) == points(m));
	otf_arena_close(&a);
	otf_buf_unref(b);
}

static otf_series_map_t *g_ctd, *g_dtc, *g_iv;
static otf_mt_config_t g_mt;
static otf_mt_compiled_t g_mtx;
static otf_ctd_config_t g_ctdc;
static otf_interval_config_t g_ivc;

static void setup(void)
{
	static const char yaml[] =
	    "p:\n  transforms:\n"
	    "    - include: '^(?P<kind>[a-z]+)\\.'\n      match_type: regexp\n      action: "
	    "insert\n"
	    "      new_name: 'copy.$${1}'\n      experimental_match_labels: {a: '^[a-m]'}\n"
	    "      operations:\n"
	    "        - {action: aggregate_labels, label_set: [a], aggregation_type: median}\n"
	    "        - {action: update_label, label: a, new_label: b}\n"
	    "        - {action: toggle_scalar_data_type}\n"
	    "    - include: '.*'\n      match_type: regexp\n      action: combine\n"
	    "      new_name: all\n      aggregation_type: sum\n      submatch_case: upper\n"
	    "      operations:\n"
	    "        - {action: aggregate_label_values, label: b, aggregated_values: [x, y], "
	    "new_value: z, aggregation_type: mean}\n"
	    "        - {action: add_label, new_label: v, new_value: '{{version}}'}\n"
	    "    - include: '^c'\n      match_type: regexp\n      action: group\n"
	    "      group_resource_labels: {g: x, service.name: y}\n";
	otf_config_t *c = NULL;
	otf_config_error_t err;
	FUZZ_CHECK(otf_config_load_string("f.yaml", yaml, sizeof yaml - 1, NULL, &c, &err) == 0);
	FUZZ_CHECK(otf_config_schema_apply(otf_mt_schema, otf_config_get(otf_config_root(c), "p"),
	                                   &g_mt, &err) == 0);
	char msg[256];
	FUZZ_CHECK(otf__mt_validate(&g_mt, msg, sizeof msg) == 0);
	FUZZ_CHECK(otf__mt_compile(&g_mt, &g_mtx) == 0);
	otf_config_destroy(c);
	g_ctdc.initial_value = OTF_CTD_INITIAL_KEEP;
	g_ctd = otf__series_map_get("fuzz:ctd", NULL, 64, otf__ctd_free_state);
	g_dtc = otf__series_map_get("fuzz:dtc", NULL, 64, otf__dtc_free_state);
	g_iv = otf__series_map_get("fuzz:iv", NULL, 64, otf__interval_free_state);
	FUZZ_CHECK(g_ctd && g_dtc && g_iv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t now;
	if (!g_ctd)
		setup();
	now++;
	otf_arena_t a;
	otf_arena_init(&a, 0);
	otf_metrics_t m;
	if (otf_pdata_decode_metrics(&m, data, size, &a, NULL, NULL)) {
		otf_arena_close(&a);
		return 0;
	}
	uint64_t in = points(&m);
	otf_ctd_stats_t cs = {0};
	FUZZ_CHECK(otf__ctd_apply(&g_ctdc, g_ctd, &m, 1, now, &cs) == 0);
	FUZZ_CHECK(points(&m) <= in);
	reencode(&m);

	FUZZ_CHECK(otf_pdata_decode_metrics(&m, data, size, &a, NULL, NULL) == 0);
	otf_dtc_stats_t ds = {0};
	FUZZ_CHECK(otf__dtc_apply(g_dtc, &m, now, &a, &ds) == 0);
	FUZZ_CHECK(points(&m) <= in);
	for (size_t r = 0; r < m.resource_metrics_len; r++)
		for (size_t s = 0; s < m.resource_metrics[r].scope_metrics_len; s++) {
			const otf_scope_metrics_t *sm = &m.resource_metrics[r].scope_metrics[s];
			for (size_t i = 0; i < sm->metrics_len; i++)
				FUZZ_CHECK(sm->metrics[i].type != OTF_METRIC_SUM ||
				           sm->metrics[i].aggregation_temporality !=
				               OTF_TEMPORALITY_DELTA);
		}
	reencode(&m);

	FUZZ_CHECK(otf_pdata_decode_metrics(&m, data, size, &a, NULL, NULL) == 0);
	uint64_t held = 0, refused = 0;
	FUZZ_CHECK(otf__interval_take(&g_ivc, g_iv, &m, now, &held, &refused) == 0);
	FUZZ_CHECK(held + refused + points(&m) == in);
	reencode(&m);
	if (now % 8 == 0) {
		otf_buf_t *out = NULL;
		uint64_t n = 0;
		FUZZ_CHECK(otf__interval_flush(g_iv, &out, &n) == 0);
		if (out) {
			otf_metrics_t f;
			FUZZ_CHECK(
			    otf_pdata_decode_metrics(&f, out->data, out->len, &a, NULL, NULL) == 0);
			FUZZ_CHECK(points(&f) == n);
			otf_buf_unref(out);
		}
		otf__series_map_evict(g_ctd, now - 4);
		otf__series_map_evict(g_dtc, now - 4);
	}

	FUZZ_CHECK(otf_pdata_decode_metrics(&m, data, size, &a, NULL, NULL) == 0);
	otf_mt_stats_t ms = {0};
	FUZZ_CHECK(otf__mt_apply(&g_mt, &g_mtx, &m, &a, &ms) == 0);
	reencode(&m);
	otf_arena_close(&a);
	return 0;
}
