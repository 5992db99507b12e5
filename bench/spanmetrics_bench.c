/* spanmetrics benchmark: cost per span of the connector's aggregation
 * (spanmetrics_agg.c: views over the protobuf bytes, key build, hash,
 * probe, histogram update) on the codec benchmark's 1000-span request
 * (bench/bench_data.c: 30 span names x 2 kinds, 9 attributes each), next
 * to walking the same bytes with the views alone (the floor) and to a full
 * protobuf decode (what a tree-based connector pays before it starts).
 * Flush is timed separately, per series. The rows run interleaved, 4 x
 * ROUNDS rounds of slices of at least 0.1 s each, and each figure is the
 * row's best slice (interference only adds time, and hits every row
 * alike). Output: a Markdown table on stdout. */
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

#define NW (sizeof workloads / sizeof workloads[0])

/* One timed slice of row r (0 walk, 1 read, 2 decode, 3.. workloads):
 * ns per span over at least 0.1 s. */
static double slice(int r, const otf_buf_t *req, otf_arena_t *ar, otf_sm_agg_t **aggs)
{
	size_t it = 0;
	double t0 = now_s(), t;
	do {
		if (r == 0) {
			otf_view_counts_t vc;
			if (otf_view_count_traces(req->data, req->len, &vc))
				die("count");
		} else if (r == 1) {
			read_spans(req);
		} else if (r == 2) {
			otf_traces_t tr;
			otf_arena_reset(ar);
			if (otf_pdata_decode_traces(&tr, req->data, req->len, ar, NULL, NULL))
				die("decode");
		} else if (otf_sm_agg_add(aggs[r - 3], req->data, req->len, 1)) {
			die("add");
		}
		it++;
	} while ((t = now_s() - t0) < 0.1);
	return t * 1e9 / ((double)it * SPANS);
}

int main(void)
{
	otf_buf_t *req;
	if (bench_spans(SPANS, &req))
		die("bench_spans");
	otf_config_t *y[NW];
	otf_sm_config_t cfg[NW];
	otf_sm_agg_t *aggs[NW];
	for (size_t w = 0; w < NW; w++) {
		otf_config_error_t err;
		memset(&cfg[w], 0, sizeof cfg[w]);
		if (otf_config_load_string("bench", workloads[w].yaml, strlen(workloads[w].yaml),
		                           NULL, &y[w], &err) ||
		    otf_config_schema_apply(otf_sm_schema,
		                            otf_config_get(otf_config_root(y[w]), "spanmetrics"),
		                            &cfg[w], &err))
			die(err.text);
		if (!(aggs[w] = otf_sm_agg_create(&cfg[w])))
			die("create");
	}
	/* Rows interleaved round by round, so that a burst of load from
	 * elsewhere hits every row alike; the best slice of each row. */
	otf_arena_t ar;
	otf_arena_init(&ar, 0);
	double best[3 + NW];
	for (size_t r = 0; r < 3 + NW; r++)
		best[r] = 1e30;
	for (int round = 0; round < ROUNDS * 4; round++)
		for (size_t r = 0; r < 3 + NW; r++) {
			double ns = slice((int)r, req, &ar, aggs);
			if (ns < best[r])
				best[r] = ns;
		}
	otf_arena_close(&ar);
	double decode = best[2];
	printf("| workload (1000 spans per request) | ns/span | / decode | target |\n"
	       "|---|---:|---:|---:|\n");
	printf("| views: walk the request (count spans), floor | %.1f | %.2f | |\n", best[0],
	       best[0] / decode);
	printf("| views: read every span's fields (otf_view_span_read) | %.1f | %.2f | |\n",
	       best[1], best[1] / decode);
	printf("| protobuf decode into the tree (not done by spanmetrics) | %.1f | 1 | |\n",
	       decode);
	for (size_t w = 0; w < NW; w++) {
		otf_sm_stats_t st;
		otf_sm_agg_stats(aggs[w], &st);
		/* Flush: cumulative, so the same series every time; best of
		 * ROUNDS slices. */
		otf_buf_t *out;
		uint64_t points = 0;
		double flush_us = 1e30;
		for (int round = 0; round < ROUNDS; round++) {
			double t0 = now_s(), t;
			int n = 0;
			do {
				if (otf_sm_agg_flush(aggs[w], 2, &out, &points) || !out)
					die("flush");
				otf_buf_unref(out);
				n++;
			} while ((t = now_s() - t0) < 0.1);
			if (t * 1e6 / n < flush_us)
				flush_us = t * 1e6 / n;
		}
		printf("| %s | %.1f | %.2f | 200 |\n", workloads[w].what, best[3 + w],
		       best[3 + w] / decode);
		printf("| ... its flush: %zu series, %llu points in %.1f us; ns per series | %.0f "
		       "| | |\n",
		       st.series, (unsigned long long)points, flush_us,
		       flush_us * 1000 / (double)st.series);
		otf_sm_agg_destroy(aggs[w]);
		otf_config_schema_free(otf_sm_schema, &cfg[w]);
		otf_config_destroy(y[w]);
	}
	otf_buf_unref(req);
	return 0;
}
