/* OTTL benchmark: cost per log record of compiled statements and
 * conditions over a decoded request of 1000 logs (bench/bench_data.c).
 * Decoding is outside the timed part: each iteration decodes the request
 * into a reset arena, then times the OTTL run alone. Each figure is the
 * best of ROUNDS rounds of at least 0.25 s of timed work (interference on
 * a shared machine only adds time). Output: a Markdown table on stdout. */
#include "bench_data.h"

#include "otflow/arena.h"
#include "otflow/ottl.h"
#include "otflow/pdata_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUNDS 5
#define LOGS   1000

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct workload {
	const char *what;
	const char *src;
	bool condition; /* filter-style: match_any per record */
} workload_t;

static const workload_t workloads[] = {
    {"condition: attribute equals a string", "attributes[\"http.request.method\"] == \"POST\"",
     true},
    {"condition: IsMatch on the body", "IsMatch(body, \"-> 5\\\\d\\\\d\")", true},
    {"statement with a where clause on every record",
     "set(severity_text, \"WARN\") where attributes[\"http.response.status_code\"] >= 500", false},
    {"set a new attribute", "set(attributes[\"deployment.environment\"], \"prod\")", false},
    {"delete_key", "delete_key(attributes, \"user_agent.original\")", false},
    {"replace_pattern on the body", "replace_pattern(body, \"orders/\\\\d+\", \"orders/{id}\")",
     false},
};

static double run_once(const workload_t *w, const otf_ottl_program_t *p, const otf_buf_t *pb,
                       otf_arena_t *a)
{
	otf_logs_t l;
	otf_arena_reset(a);
	if (otf_pdata_decode_logs(&l, pb->data, pb->len, a, NULL, NULL) != 0) {
		fprintf(stderr, "ottl_bench: decode failed\n");
		exit(1);
	}
	otf_ottl_stats_t st = {0};
	double t0 = now_s();
	if (w->condition) {
		otf_scope_logs_t *sl = &l.resource_logs[0].scope_logs[0];
		otf_ottl_record_t rec = {
		    .resource = &l.resource_logs[0].resource, .scope = &sl->scope, .arena = a};
		for (size_t i = 0; i < sl->log_records_len; i++) {
			rec.log = &sl->log_records[i];
			if (otf_ottl_match_any(p, OTF_OTTL_ERROR_PROPAGATE, &rec, &st) < 0) {
				fprintf(stderr, "ottl_bench: %s: %s\n", w->src, st.first_error.msg);
				exit(1);
			}
		}
	} else if (otf_ottl_run_logs(p, OTF_OTTL_ERROR_PROPAGATE, &l, a, &st) != 0) {
		fprintf(stderr, "ottl_bench: %s: %s\n", w->src, st.first_error.msg);
		exit(1);
	}
	double t = now_s() - t0;
	if (st.records != LOGS) {
		fprintf(stderr, "ottl_bench: %s: %llu records\n", w->src,
		        (unsigned long long)st.records);
		exit(1);
	}
	return t;
}

int main(void)
{
	otf_buf_t *pb = NULL;
	if (bench_logs(LOGS, &pb) != 0) {
		fprintf(stderr, "ottl_bench: cannot build the request\n");
		return 1;
	}
	otf_arena_t a;
	otf_arena_init(&a, 0);
	printf("| workload (1000 logs/request) | statement | ns/log |\n|---|---|---|\n");
	for (size_t k = 0; k < sizeof workloads / sizeof workloads[0]; k++) {
		const workload_t *w = &workloads[k];
		otf_ottl_program_t *p = NULL;
		otf_ottl_error_t e;
		int rc = w->condition
		             ? otf_ottl_compile_conditions(&p, OTF_OTTL_CTX_LOG, &w->src, 1, &e)
		             : otf_ottl_compile_statements(&p, OTF_OTTL_CTX_LOG, &w->src, 1, &e);
		if (rc) {
			fprintf(stderr, "ottl_bench: %s: column %zu: %s\n", w->src, e.column,
			        e.msg);
			return 1;
		}
		double best = 1e9;
		for (int r = 0; r < ROUNDS; r++) {
			double t = 0;
			unsigned long iters = 0;
			while (t < 0.25) {
				t += run_once(w, p, pb, &a);
				iters++;
			}
			double per = t / (double)(iters * LOGS);
			if (per < best)
				best = per;
		}
		printf("| %s | `%s` | %.0f |\n", w->what, w->src, best * 1e9);
		otf_ottl_program_destroy(p);
	}
	otf_arena_close(&a);
	otf_buf_unref(pb);
	return 0;
}
