/* Processor benchmark: CPU cost per log record of the filter, transform,
 * redaction and resourcedetection processors on the codec benchmark's
 * 1000-log request (bench/bench_data.c), everything a processor does per
 * request except the message hand-over: decode the protobuf into a reset
 * arena, run, encode the result. Configs are the processors' own schemas
 * applied to YAML, as at config load. Each figure is the best of ROUNDS
 * rounds of at least 0.25 s (interference on a shared machine only adds
 * time). Output: a Markdown table on stdout; an argument runs only the
 * workloads whose processor or description contains it, or the one at
 * that position (1-based). */
#include "bench_data.h"

#include "components/processors/filter/filter.h"
#include "components/processors/redaction/redaction.h"
#include "components/processors/resourcedetection/resourcedetection.h"
#include "components/processors/transform/transform.h"
#include "otflow/component.h"
#include "otflow/config.h"
#include "otflow/config_schema.h"
#include "otflow/pdata_codec.h"
#include "otflow/pdata_edit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUNDS 5
#define LOGS   1000

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct workload {
	const char *processor;
	const char *yaml;
	const char *what;
	bool in_place; /* filter, transform: their in-place path (what the processor runs) */
} workload_t;

#define WHERE_YAML                                                      \
	"log_statements:\n  - 'set(log.severity_text, \"WARN\") where " \
	"log.attributes[\"http.response.status_code\"] >= 500'\n"
#define WHERE_WHAT                                                                               \
	"`set(log.severity_text, \"WARN\") where log.attributes[\"http.response.status_code\"] " \
	">= 500`"
#define BODY_YAML                                                               \
	"trace_statements: []\nlog_statements:\n"                               \
	"  - context: log\n    statements:\n"                                   \
	"      - 'replace_pattern(body, \"orders/\\\\d+\", \"orders/{id}\")'\n" \
	"      - 'delete_key(attributes, \"user_agent.original\")'\n"
#define FILTER_YAML "log_conditions:\n  - 'log.attributes[\"http.request.method\"] == \"GET\"'\n"
#define FILTER_WHAT "`log.attributes[\"http.request.method\"] == \"GET\"` (drops the GETs)"

static const workload_t workloads[] = {
    {"transform", WHERE_YAML, WHERE_WHAT ", decoded tree", false},
    {"transform", WHERE_YAML, "the same in place (what the processor runs)", true},
    {"transform", BODY_YAML, "`replace_pattern` on the body, then `delete_key`, decoded tree",
     false},
    {"transform", BODY_YAML, "the same in place (what the processor runs)", true},
    {"filter", FILTER_YAML, FILTER_WHAT ", decoded tree", false},
    {"filter", FILTER_YAML, "the same in place (what the processor runs)", true},
    {"redaction",
     "allow_all_keys: true\nblocked_values: ['4[0-9]{12}(?:[0-9]{3})?']\nsummary: info\n",
     "`allow_all_keys`, one `blocked_values` pattern, `summary: info`"},
    {"resourcedetection", "detectors: [env]\n",
     "`detectors: [env]` (2 attributes from OTEL_RESOURCE_ATTRIBUTES), decoded tree"},
    {"resourcedetection", "detectors: [env]\n",
     "the same as in-place edits of the bytes (what the processor runs; no decode)"},
};

/* One request: decode, run, encode (or, with edit, the in-place edit;
 * with w->in_place, the OTTL processors' in-place path). */
static double run_once(const workload_t *w, const void *cfg, const otf_buf_t *pb, otf_arena_t *a,
                       const otf_attributes_t *detected, const otf_pdata_edit_t *edit)
{
	double t0 = now_s();
	if (w->in_place) {
		otf_arena_reset(a);
		otf_ottl_stats_t st = {0};
		uint64_t logged = 0;
		ottlproc_inplace_result_t ip;
		int rc =
		    !strcmp(w->processor, "filter")
		        ? otf__filter_inplace(cfg, OTF_SIGNAL_LOGS, pb, a, &st, &logged, &ip)
		        : otf__transform_inplace(cfg, OTF_SIGNAL_LOGS, pb, a, &st, &logged, &ip);
		if (rc != 1 || !ip.out) {
			fprintf(stderr, "processor_bench: %s in place: %d\n", w->processor, rc);
			exit(1);
		}
		otf_buf_unref(ip.out);
		return now_s() - t0;
	}
	if (edit) {
		otf_buf_t *out = NULL;
		size_t n = 0;
		if (otf_pdata_edit_apply(edit, OTF_SIGNAL_LOGS, pb->data, pb->len, &out, &n) ||
		    !n) {
			fprintf(stderr, "processor_bench: in-place edit failed\n");
			exit(1);
		}
		otf_buf_unref(out);
		return now_s() - t0;
	}
	otf_arena_reset(a);
	ottlproc_tree_t t = {.signal = OTF_SIGNAL_LOGS};
	if (otf_pdata_decode_logs(&t.u.logs, pb->data, pb->len, a, NULL, NULL) != 0) {
		fprintf(stderr, "processor_bench: decode failed\n");
		exit(1);
	}
	otf_ottl_stats_t st = {0};
	uint64_t logged = 0;
	int rc;
	if (!strcmp(w->processor, "transform")) {
		rc = otf__transform_apply(cfg, &t, a, &st, &logged);
	} else if (!strcmp(w->processor, "filter")) {
		rc = otf__filter_apply(cfg, &t, a, &st, &logged);
	} else if (!strcmp(w->processor, "redaction")) {
		otf_redaction_stats_t rs = {0};
		rc = otf__redaction_apply(cfg, &t, a, &rs);
	} else {
		rc = otf__rd_merge(&t.u.logs.resource_logs[0].resource.attributes, detected, true,
		                   a);
	}
	if (rc < 0) {
		fprintf(stderr, "processor_bench: %s: %d %s\n", w->processor, rc,
		        st.first_error.msg);
		exit(1);
	}
	otf_buf_t *out = NULL;
	uint64_t items = 0;
	if (otf__ottlproc_encode(&t, &out, &items) != 0) {
		fprintf(stderr, "processor_bench: encode failed\n");
		exit(1);
	}
	otf_buf_unref(out);
	return now_s() - t0;
}

int main(int argc, char **argv)
{
	/* argv[1]: run only the workloads whose processor or description has it */
	const char *only = argc > 1 ? argv[1] : NULL;
	otf_components_register_builtins();
	setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=prod,cloud.region=eu-1", 1);
	otf_buf_t *pb = NULL;
	if (bench_logs(LOGS, &pb) != 0) {
		fprintf(stderr, "processor_bench: cannot build the request\n");
		return 1;
	}
	otf_arena_t a, keep;
	otf_arena_init(&a, 0);
	otf_arena_init(&keep, 0);
	/* the floor: decode and encode with nothing in between */
	double floor = 1e9;
	for (int r = 0; r < ROUNDS; r++) {
		double t = 0;
		unsigned long iters = 0;
		while (t < 0.25) {
			double t0 = now_s();
			otf_arena_reset(&a);
			ottlproc_tree_t tr = {.signal = OTF_SIGNAL_LOGS};
			otf_buf_t *out = NULL;
			uint64_t items;
			if (otf_pdata_decode_logs(&tr.u.logs, pb->data, pb->len, &a, NULL, NULL) ||
			    otf__ottlproc_encode(&tr, &out, &items))
				return 1;
			otf_buf_unref(out);
			t += now_s() - t0;
			iters++;
		}
		double per = t / (double)(iters * LOGS);
		if (per < floor)
			floor = per;
	}
	printf("| processor | configuration | ns/log (decode + run + encode, or in place) "
	       "|\n|---|---|---|\n");
	printf("| (none) | decode and encode only | %.0f |\n", floor * 1e9);
	for (size_t k = 0; k < sizeof workloads / sizeof workloads[0]; k++) {
		const workload_t *w = &workloads[k];
		if (only && !strstr(w->what, only) && strcmp(w->processor, only) &&
		    (size_t)atoi(only) != k + 1)
			continue;
		const otf_component_factory_t *f =
		    otf_component_find(OTF_KIND_PROCESSOR, w->processor);
		otf_config_t *yaml = NULL;
		otf_config_error_t err;
		void *cfg = calloc(1, f->config_size);
		if (!cfg ||
		    otf_config_load_string("bench.yaml", w->yaml, strlen(w->yaml), NULL, &yaml,
		                           &err) ||
		    otf_config_schema_apply(f->config_schema, otf_config_root(yaml), cfg, &err)) {
			fprintf(stderr, "processor_bench: %s: %s\n", w->processor, err.text);
			return 1;
		}
		otf_config_destroy(yaml);
		otf_attributes_t detected = {0};
		char why[256];
		if (!strcmp(w->processor, "resourcedetection") &&
		    otf__rd_detect(cfg, &keep, &detected, why, sizeof why))
			return 1;
		otf_pdata_edit_t edit;
		bool in_place = strstr(w->what, "in-place") != NULL;
		if (in_place && otf__rd_edit_prepare(&edit, &detected, true))
			return 1;
		double best = 1e9;
		for (int r = 0; r < ROUNDS; r++) {
			double t = 0;
			unsigned long iters = 0;
			while (t < 0.25) {
				t += run_once(w, cfg, pb, &a, &detected, in_place ? &edit : NULL);
				iters++;
			}
			double per = t / (double)(iters * LOGS);
			if (per < best)
				best = per;
		}
		printf("| %s | %s | %.0f |\n", w->processor, w->what, best * 1e9);
		otf_config_schema_free(f->config_schema, cfg);
		free(cfg);
	}
	otf_arena_close(&a);
	otf_arena_close(&keep);
	otf_buf_unref(pb);
	return 0;
}
