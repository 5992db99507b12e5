/* spanmetrics benchmark: cost per span of the connector's aggregation
 * (spanmetrics_agg.c: views over the protobuf bytes, key build, hash,
 * probe, histogram update) on the codec benchmark's 1000-span request
 * (bench/bench_data.c: 30 span names x 2 kinds, 9 attributes each), next
 * to walking the same bytes with the views alone (the floor) and to a full
 * protobuf decode (what a tree-based connector pays before it starts).
 * Flush is timed separately, per series. Each figure is the best of
 * ROUNDS rounds of at least 0.25 s. Output: a Markdown table on stdout. */
#include "bench_data.h"

#include "components/connectors/spanmetrics/spanmetrics.h"
#include "otflow/arena.h"
#include "otflow/config.h"
#include "otflow/pdata_codec.h"
#include "otflow/pdata_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUNDS 5
#define SPANS  1000

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct workload {
	const char *what;
	const char *yaml; /* the connector's config */
} workload_t;

static const workload_t workloads[] = {
    {"spanmetrics, defaults (explicit histogram, 4 dimensions)", "spanmetrics:\n"},
    {"spanmetrics, + 2 dimensions (http.request.method, http.response.status_code)",
     "spanmetrics:\n  dimensions:\n    - name: http.request.method\n"
     "    - name: http.response.status_code\n      default: '0'\n"},
    {"spanmetrics, exponential histogram", "spanmetrics:\n  histogram:\n    exponential:\n"},
};

static void die(const char *what)
{
	fprintf(stderr, "spanmetrics_bench: %s\n", what);
	exit(1);
}

/* Best ns per span of fn over rounds of at least 0.25 s. */
#define BEST(expr)                                                     \
	({                                                             \
		double best_ = 1e30;                                   \
		for (int r_ = 0; r_ < ROUNDS; r_++) {                  \
			size_t it_ = 0;                                \
			double t0_ = now_s(), t_;                      \
			do {                                           \
				expr;                                  \
				it_++;                                 \
			} while ((t_ = now_s() - t0_) < 0.25);         \
			double ns_ = t_ * 1e9 / ((double)it_ * SPANS); \
			if (ns_ < best_)                               \
				best_ = ns_;                           \
		}                                                      \
		best_;                                                 \
	})

/* What any per-span work over the views costs at least. */
static void read_spans(const otf_buf_t *req)
{
	otf_view_iter_t rit, sit, pit;
	otf_bytes_t rs, ss, sp;
	otf_view_resources(&rit, req->data, req->len);
	while (otf_view_iter_next(&rit, &rs) > 0) {
		otf_view_scopes(&sit, rs);
		while (otf_view_iter_next(&sit, &ss) > 0) {
			otf_view_records(&pit, ss);
			while (otf_view_iter_next(&pit, &sp) > 0) {
				otf_view_span_t s;
				if (otf_view_span_read(sp, &s))
					die("span_read");
			}
		}
	}
}

int main(void)
{
	otf_buf_t *req;
	if (bench_spans(SPANS, &req))
		die("bench_spans");
	otf_view_counts_t vc;
	double walk = BEST(if (otf_view_count_traces(req->data, req->len, &vc)) die("count"));
	double read = BEST(read_spans(req));
	otf_arena_t ar;
	otf_arena_init(&ar, 0);
	double decode = BEST({
		otf_traces_t t;
		otf_arena_reset(&ar);
		if (otf_pdata_decode_traces(&t, req->data, req->len, &ar, NULL, NULL))
			die("decode");
	});
	otf_arena_close(&ar);
	printf("| workload (1000 spans per request) | ns/span | / decode | target |\n"
	       "|---|---:|---:|---:|\n");
	printf("| views: walk the request (count spans), floor | %.1f | %.2f | |\n", walk,
	       walk / decode);
	printf("| views: read every span's fields (otf_view_span_read) | %.1f | %.2f | |\n", read,
	       read / decode);
	printf("| protobuf decode into the tree (not done by spanmetrics) | %.1f | 1 | |\n",
	       decode);
	for (size_t w = 0; w < sizeof workloads / sizeof workloads[0]; w++) {
		otf_config_t *y;
		otf_config_error_t err;
		otf_sm_config_t cfg;
		memset(&cfg, 0, sizeof cfg);
		if (otf_config_load_string("bench", workloads[w].yaml, strlen(workloads[w].yaml),
		                           NULL, &y, &err) ||
		    otf_config_schema_apply(otf_sm_schema,
		                            otf_config_get(otf_config_root(y), "spanmetrics"), &cfg,
		                            &err))
			die(err.text);
		otf_sm_agg_t *a = otf_sm_agg_create(&cfg);
		if (!a)
			die("create");
		double ns = BEST(if (otf_sm_agg_add(a, req->data, req->len, 1)) die("add"));
		otf_sm_stats_t st;
		otf_sm_agg_stats(a, &st);
		/* Flush: cumulative, so the same series every time. */
		otf_buf_t *out;
		uint64_t points;
		double t0 = now_s();
		int n = 0;
		do {
			if (otf_sm_agg_flush(a, 2, &out, &points) || !out)
				die("flush");
			otf_buf_unref(out);
			n++;
		} while (now_s() - t0 < 0.25);
		double flush_us = (now_s() - t0) * 1e6 / n;
		printf("| %s | %.1f | %.2f | 200 |\n", workloads[w].what, ns, ns / decode);
		printf("| ... its flush: %zu series, %llu points in %.1f us; ns per series | %.0f "
		       "| | |\n",
		       st.series, (unsigned long long)points, flush_us,
		       flush_us * 1000 / (double)st.series);
		otf_sm_agg_destroy(a);
		otf_config_schema_free(otf_sm_schema, &cfg);
		otf_config_destroy(y);
	}
	otf_buf_unref(req);
	return 0;
}
