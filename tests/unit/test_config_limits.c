/* Configuration loader limits: file size bound, linear-time mappings
 * (duplicate detection, lookups, merges), numeric ranges in schemas and
 * runtime.workers, unknown extension and component types refused whether
 * used or not. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otflow/alloc.h"
#include "otflow/component.h"
#include "otflow/config.h"
#include "otflow/config_schema.h"
#include "otflow/err.h"
#include "otflow/service.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char *temp_path(void)
{
	const char *dir = getenv("TMPDIR");
	char *path = malloc(4096);
	assert_non_null(path);
	snprintf(path, 4096, "%s/otf-limits-XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	return path;
}

/* A valid YAML file just over the limit: one key, then comment lines. */
static void test_file_size_bound(void **state)
{
	(void)state;
	char *path = temp_path();
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("receivers: {}\n", f);
	static char line[1024];
	memset(line, 'x', sizeof line - 1);
	line[0] = '#';
	line[sizeof line - 2] = '\n';
	for (size_t n = 0; n <= OTF_CONFIG_MAX_FILE_BYTES; n += sizeof line - 1)
		fputs(line, f);
	fclose(f);
	const char *paths[] = {path};
	otf_config_t *cfg = NULL;
	otf_config_error_t err;
	int rc = otf_config_load_files(paths, 1, &cfg, &err);
	assert_int_equal(rc, OTF_E_CONFIG);
	assert_null(cfg);
	assert_string_equal(err.file, path);
	assert_non_null(strstr(err.text, path));
	assert_non_null(strstr(err.message, "larger than 16 MiB"));
	unlink(path);
	free(path);

	/* A device that never ends is cut at the limit too. */
	const char *zero[] = {"/dev/zero"};
	rc = otf_config_load_files(zero, 1, &cfg, &err);
	assert_int_equal(rc, OTF_E_CONFIG);
	assert_string_equal(err.file, "/dev/zero");
	assert_non_null(strstr(err.message, "larger than"));
}

static char *mapping_text(size_t keys, bool dup_at_end)
{
	size_t cap = keys * 24 + 64;
	char *t = malloc(cap);
	assert_non_null(t);
	size_t at = (size_t)snprintf(t, cap, "big:\n");
	for (size_t i = 0; i < keys; i++)
		at += (size_t)snprintf(t + at, cap - at, "  key_%zu: %zu\n", i, i);
	if (dup_at_end)
		at += (size_t)snprintf(t + at, cap - at, "  key_%zu: again\n", keys / 2);
	return t;
}

static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Best of three loads: CPU time of this process, so other load on the
 * machine does not count. */
static double load_cost(const char *text)
{
	double best = 1e9;
	for (int r = 0; r < 3; r++) {
		otf_config_t *cfg;
		otf_config_error_t err;
		double t0 = cpu_seconds();
		int rc = otf_config_load_string("big.yaml", text, strlen(text), NULL, &cfg, &err);
		double dt = cpu_seconds() - t0;
		assert_int_equal(rc, 0);
		otf_config_destroy(cfg);
		if (dt < best)
			best = dt;
	}
	return best;
}

/* 10x the keys must cost about 10x, not 100x (a quadratic duplicate check
 * took 5.3 s for 50k keys). The bound 35 leaves room for cache effects
 * and still fails for quadratic growth. */
static void test_duplicate_detection_linear(void **state)
{
	(void)state;
	char *small = mapping_text(5000, false), *large = mapping_text(50000, false);
	double ts = load_cost(small), tl = load_cost(large);
	if (ts < 1e-4)
		ts = 1e-4;
	double ratio = tl / ts;
	print_message("5k keys %.4f s, 50k keys %.4f s, ratio %.1f\n", ts, tl, ratio);
	if (ratio > 35)
		fail_msg("loading 50k keys costs %.1fx loading 5k keys (linear: ~10x)", ratio);

	/* The index still finds every key, and duplicates anywhere. */
	otf_config_t *cfg;
	otf_config_error_t err;
	assert_int_equal(otf_config_load_string("big.yaml", large, strlen(large), NULL, &cfg, &err),
	                 0);
	const otf_config_node_t *big = otf_config_map_get(otf_config_root(cfg), "big");
	assert_int_equal(otf_config_len(big), 50000);
	assert_string_equal(otf_config_scalar(otf_config_map_get(big, "key_49999"), NULL), "49999");
	assert_string_equal(otf_config_scalar(otf_config_get(big, "key_17"), NULL), "17");
	assert_null(otf_config_map_get(big, "key_50000"));
	otf_config_destroy(cfg);
	char *dup = mapping_text(50000, true);
	assert_int_equal(otf_config_load_string("big.yaml", dup, strlen(dup), NULL, &cfg, &err),
	                 OTF_E_CONFIG);
	assert_non_null(strstr(err.text, "big.yaml:50002:"));
	assert_non_null(strstr(err.text, "key \"key_25000\" is already defined at line 25002"));
	free(small);
	free(large);
	free(dup);
}

/* Merging two large files is linear too and keeps the later values. */
static void test_merge_large(void **state)
{
	(void)state;
	char *a = temp_path(), *b = temp_path();
	char *ta = mapping_text(30000, false);
	FILE *f = fopen(a, "w");
	fputs(ta, f);
	fclose(f);
	f = fopen(b, "w");
	fputs("big:\n  key_29999: later\n  extra: 1\n", f);
	fclose(f);
	const char *paths[] = {a, b};
	otf_config_t *cfg;
	otf_config_error_t err;
	assert_int_equal(otf_config_load_files(paths, 2, &cfg, &err), 0);
	const otf_config_node_t *big = otf_config_map_get(otf_config_root(cfg), "big");
	assert_int_equal(otf_config_len(big), 30001);
	assert_string_equal(otf_config_scalar(otf_config_map_get(big, "key_29999"), NULL), "later");
	assert_string_equal(otf_config_scalar(otf_config_map_get(big, "extra"), NULL), "1");
	otf_config_destroy(cfg);
	unlink(a);
	unlink(b);
	free(a);
	free(b);
	free(ta);
}

typedef struct ranged {
	uint64_t n;
	int64_t d;
	double x;
} ranged_t;

static const otf_config_field_t k_ranged[] = {
    {.key = "n",
     .type = OTF_CFG_UINT,
     .offset = offsetof(ranged_t, n),
     .def = "5",
     .min = "1",
     .max = "10",
     .range_why = "a test bound"},
    {.key = "d", .type = OTF_CFG_DURATION, .offset = offsetof(ranged_t, d), .min = "1ms"},
    {.key = "x", .type = OTF_CFG_DOUBLE, .offset = offsetof(ranged_t, x), .max = "0.5"},
    OTF_CONFIG_FIELD_END,
};

static int apply_text(const char *text, ranged_t *r, otf_config_error_t *err)
{
	otf_config_t *cfg;
	assert_int_equal(otf_config_load_string("r.yaml", text, strlen(text), NULL, &cfg, err), 0);
	int rc = otf_config_schema_apply(k_ranged, otf_config_map_get(otf_config_root(cfg), "c"), r,
	                                 err);
	otf_config_destroy(cfg);
	return rc;
}

static void test_schema_ranges(void **state)
{
	(void)state;
	ranged_t r;
	otf_config_error_t err;
	assert_int_equal(apply_text("c: {n: 10, d: 1ms, x: 0.5}\n", &r, &err), 0);
	assert_int_equal(r.n, 10);
	assert_int_equal(apply_text("c: {n: 11}\n", &r, &err), OTF_E_CONFIG);
	assert_string_equal(err.text,
	                    "r.yaml:1:8: c.n: 11 is out of range: expected 1..10 (a test bound)");
	assert_int_equal(apply_text("c: {n: 0}\n", &r, &err), OTF_E_CONFIG);
	assert_int_equal(apply_text("c: {d: 500us}\n", &r, &err), OTF_E_CONFIG);
	assert_non_null(strstr(err.text, "expected at least 1ms"));
	assert_int_equal(apply_text("c: {x: 0.75}\n", &r, &err), OTF_E_CONFIG);
	assert_non_null(strstr(err.text, "expected at most 0.5"));
	/* The docs table shows the range. */
	char *doc = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&doc, &len);
	otf_config_schema_doc(k_ranged, f);
	fclose(f);
	assert_non_null(strstr(doc, "| `n` | uint, range 1..10 | `5` |"));
	free(doc);
}

static int build(const char *yaml, otf_config_error_t *err)
{
	otf_components_register_builtins();
	otf_config_t *cfg;
	int rc = otf_config_load_string("t.yaml", yaml, strlen(yaml), NULL, &cfg, err);
	if (rc)
		return rc;
	otf_dag_t *dag = NULL;
	otf_service_settings_t s;
	rc = otf_service_build(cfg, &dag, &s, err);
	if (!rc)
		otf_dag_destroy(dag);
	otf_config_destroy(cfg);
	return rc;
}

#define PIPE  "service: {pipelines: {traces: {receivers: [nop], exporters: [nop]}}}\n"
#define COMPS "receivers: {nop: }\nexporters: {nop: }\n"

static void test_workers_range(void **state)
{
	(void)state;
	otf_config_error_t err;
	assert_int_equal(build(COMPS PIPE "runtime: {workers: 1}\n", &err), 0);
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	char yaml[512];
	snprintf(yaml, sizeof yaml, COMPS PIPE "runtime: {workers: %ld}\n",
	         cores * OTF_WORKERS_PER_CORE);
	assert_int_equal(build(yaml, &err), 0);
	snprintf(yaml, sizeof yaml, COMPS PIPE "runtime:\n  workers: %ld\n",
	         cores * OTF_WORKERS_PER_CORE + 1);
	assert_int_equal(build(yaml, &err), OTF_E_CONFIG);
	assert_non_null(strstr(err.text, "t.yaml:5:12: runtime.workers: "));
	assert_int_equal(build(COMPS PIPE "runtime: {workers: 100000}\n", &err), OTF_E_CONFIG);
	assert_non_null(strstr(err.text, "runtime.workers: 100000 is out of range"));
	assert_non_null(strstr(err.text, "per core"));
	assert_int_equal(build(COMPS PIPE "runtime: {channel_capacity: 0}\n", &err), OTF_E_CONFIG);
	assert_non_null(strstr(err.text, "runtime.channel_capacity: 0 is out of range"));
}

static void test_unknown_types_refused(void **state)
{
	(void)state;
	otf_config_error_t err;
	/* Defined, never used: still refused, as the Collector does. */
	assert_int_equal(build(COMPS "extensions: {bogus/1: {}}\n" PIPE, &err), OTF_E_CONFIG);
	assert_non_null(strstr(err.text, "t.yaml:3:"));
	assert_non_null(strstr(err.text, "unknown extension type 'bogus'"));
	assert_int_equal(build(COMPS "processors: {nosuch: }\n" PIPE, &err), OTF_E_CONFIG);
	assert_non_null(strstr(err.text, "unknown processor type 'nosuch'"));
	/* An unused component with a bad config is refused too. */
	assert_int_equal(build(COMPS "processors: {batch/x: {timeoutt: 1s}}\n" PIPE, &err),
	                 OTF_E_CONFIG);
	assert_non_null(strstr(err.text, "processors.batch/x: unknown key \"timeoutt\""));
	/* Known extensions, used or not, pass. */
	assert_int_equal(
	    build(COMPS "extensions: {health_check: , pprof: , zpages/z: }\n" PIPE, &err), 0);

	/* 50k extensions of unknown types: the first one is the error. */
	size_t cap = 50000 * 32 + 256;
	char *t = malloc(cap);
	size_t at = (size_t)snprintf(t, cap, COMPS PIPE "extensions:\n");
	for (int i = 0; i < 50000; i++)
		at += (size_t)snprintf(t + at, cap - at, "  unknown_%d: {}\n", i);
	assert_int_equal(build(t, &err), OTF_E_CONFIG);
	assert_non_null(strstr(err.text, "unknown extension type 'unknown_0'"));
	free(t);
}

/* n pipelines, each with its own receiver and processor, into one exporter:
 * n unused processors on top. */
static char *pipelines_text(size_t n)
{
	size_t cap = n * 160 + 256;
	char *t = malloc(cap);
	assert_non_null(t);
	size_t at = (size_t)snprintf(t, cap, "receivers:\n");
	for (size_t i = 0; i < n; i++)
		at += (size_t)snprintf(t + at, cap - at, "  nop/%zu:\n", i);
	at += (size_t)snprintf(t + at, cap - at, "exporters: {nop: }\nprocessors:\n");
	for (size_t i = 0; i < 2 * n; i++)
		at += (size_t)snprintf(t + at, cap - at, "  batch/%zu: {}\n", i);
	at += (size_t)snprintf(t + at, cap - at,
	                       "service:\n  telemetry: {metrics: {level: none}}\n  pipelines:\n");
	for (size_t i = 0; i < n; i++)
		at += (size_t)snprintf(
		    t + at, cap - at,
		    "    traces/%zu: {receivers: [nop/%zu], processors: [batch/%zu], "
		    "exporters: [nop]}\n",
		    i, i, i);
	return t;
}

static double build_cost(const char *text)
{
	otf_components_register_builtins();
	double best = 1e9;
	for (int r = 0; r < 3; r++) {
		otf_config_t *cfg;
		otf_config_error_t err;
		assert_int_equal(
		    otf_config_load_string("p.yaml", text, strlen(text), NULL, &cfg, &err), 0);
		otf_dag_t *dag;
		otf_service_settings_t s;
		double t0 = cpu_seconds();
		int rc = otf_service_build(cfg, &dag, &s, &err);
		double dt = cpu_seconds() - t0;
		if (rc)
			fail_msg("%s", err.text);
		otf_dag_destroy(dag);
		otf_config_destroy(cfg);
		if (dt < best)
			best = dt;
	}
	return best;
}

/* Building the DAG is linear in the pipelines too: node lookups by name
 * and the used-processor check are indexed (20k pipelines took 14 s). */
static void test_many_pipelines_linear(void **state)
{
	(void)state;
	char *small = pipelines_text(2000), *large = pipelines_text(20000);
	double ts = build_cost(small), tl = build_cost(large);
	if (ts < 1e-4)
		ts = 1e-4;
	double ratio = tl / ts;
	print_message("2k pipelines %.4f s, 20k pipelines %.4f s, ratio %.1f\n", ts, tl, ratio);
	if (ratio > 35)
		fail_msg("building 20k pipelines costs %.1fx 2k pipelines (linear: ~10x)", ratio);
	free(small);
	free(large);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_file_size_bound),
	    cmocka_unit_test(test_duplicate_detection_linear),
	    cmocka_unit_test(test_merge_large),
	    cmocka_unit_test(test_schema_ranges),
	    cmocka_unit_test(test_workers_range),
	    cmocka_unit_test(test_unknown_types_refused),
	    cmocka_unit_test(test_many_pipelines_linear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
