/* protoc as an independent oracle for the protobuf codec.
 *
 * For a handful of generated trees per signal: encode with ours, let
 * protobuf's own parser read it (`protoc --decode`, into text format), let
 * protobuf's serializer write it back (`protoc --encode`), and require
 * (1) our decoder turns protobuf's bytes into the original tree, and
 * (2) protobuf's bytes equal ours: both claim canonical output (field-number
 *     order, proto3 defaults omitted, packed repeated scalars, minimal
 *     varints), so any difference is a bug on one side worth a look.
 * A parse failure in protoc means we wrote something protobuf rejects.
 *
 * The schema is tests/proto/otlp.proto (OTLP in one file, package otlp).
 * The test is skipped when protoc is not installed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "otf_test.h"
#include "otflow/err.h"
#include "otflow/pdata_codec.h"
#include "pdata_eq.h"
#include "pdata_gen.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEEDS_PER_SIGNAL 20

typedef union tree {
	otf_traces_t traces;
	otf_metrics_t metrics;
	otf_logs_t logs;
} tree_t;

typedef struct oracle {
	char dir[256];    /* temporary directory */
	char schema[512]; /* directory holding otlp.proto */
} oracle_t;

static oracle_t O;

static int setup(void **state)
{
	(void)state;
	if (system("protoc --version >/dev/null 2>&1") != 0)
		return 0; /* tests skip themselves */
	snprintf(O.schema, sizeof O.schema, "%s/tests/proto", otf_test_source_dir());
	char probe[600];
	snprintf(probe, sizeof probe, "%s/otlp.proto", O.schema);
	if (access(probe, R_OK) != 0) {
		/* in the repository, so missing is a failure, not a skip */
		fprintf(stderr, "missing %s\n", probe);
		return -1;
	}
	const char *tmp = getenv("TMPDIR");
	snprintf(O.dir, sizeof O.dir, "%s/otf-oracle-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(O.dir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (O.dir[0]) {
		char cmd[400];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", O.dir);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

static void write_file(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* protoc --decode then --encode of `in`; returns protobuf's bytes (free()). */
static uint8_t *protoc_roundtrip(const char *type, const uint8_t *in, size_t n, size_t *out_len,
                                 const char *what)
{
	char bin[300], txt[300], back[300], cmd[2048];
	snprintf(bin, sizeof bin, "%s/in.bin", O.dir);
	snprintf(txt, sizeof txt, "%s/in.txt", O.dir);
	snprintf(back, sizeof back, "%s/back.bin", O.dir);
	write_file(bin, in, n);
	snprintf(cmd, sizeof cmd, "protoc -I '%s' --decode=%s otlp.proto < '%s' > '%s'", O.schema,
	         type, bin, txt);
	if (system(cmd) != 0)
		fail_msg("%s: protobuf rejects our encoding (protoc --decode=%s)", what, type);
	snprintf(cmd, sizeof cmd, "protoc -I '%s' --encode=%s otlp.proto < '%s' > '%s'", O.schema,
	         type, txt, back);
	if (system(cmd) != 0)
		fail_msg("%s: protoc --encode=%s fails on protoc's own text", what, type);
	uint8_t *b = otf_test_read_file(back, out_len);
	assert_non_null(b);
	return b;
}

/* First differing byte, for the failure message. */
static size_t first_diff(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
	size_t i = 0;
	while (i < na && i < nb && a[i] == b[i])
		i++;
	return i;
}

#define ORACLE(S, TYPE)                                                                            \
	static void test_oracle_##S(void **state)                                                  \
	{                                                                                          \
		(void)state;                                                                       \
		if (!O.dir[0])                                                                     \
			skip();                                                                    \
		for (unsigned i = 0; i < SEEDS_PER_SIGNAL; i++) {                                  \
			uint64_t seed = 0x0c1e000000ull + i;                                       \
			otf_arena_t a1, a2;                                                        \
			otf_arena_init(&a1, 0);                                                    \
			otf_arena_init(&a2, 0);                                                    \
			otf_gen_t g;                                                               \
			otf_gen_init(&g, seed, 2 + i % 3, &a1);                                    \
			tree_t t, back;                                                            \
			otf_gen_##S(&g, &t.S);                                                     \
			otf_buf_t *ours = NULL;                                                    \
			assert_int_equal(otf_pdata_encode_##S(&t.S, &ours), 0);                    \
			char what[64];                                                             \
			snprintf(what, sizeof what, #S " seed %" PRIu64, seed);                    \
			size_t n = 0;                                                              \
			uint8_t *theirs = protoc_roundtrip(TYPE, ours->data, ours->len, &n, what); \
			otf_pdata_error_t err;                                                     \
			int rc = otf_pdata_decode_##S(&back.S, theirs, n, &a2, NULL, &err);        \
			if (rc) {                                                                  \
				char m[512];                                                       \
				fail_msg("%s: decoding protobuf's bytes: %s", what,                \
				         otf_pdata_error_format(&err, m, sizeof m));               \
			}                                                                          \
			char diff[1024];                                                           \
			if (!otf_eq_##S(&t.S, &back.S, diff, sizeof diff))                         \
				fail_msg("%s: through protobuf: %s", what, diff);                  \
			if (n != ours->len || memcmp(theirs, ours->data, n) != 0)                  \
				fail_msg("%s: protobuf's encoding differs from ours at byte %zu "  \
				         "(%zu vs %zu bytes)",                                     \
				         what, first_diff(ours->data, ours->len, theirs, n), n,    \
				         ours->len);                                               \
			free(theirs);                                                              \
			otf_buf_unref(ours);                                                       \
			otf_arena_close(&a1);                                                      \
			otf_arena_close(&a2);                                                      \
		}                                                                                  \
	}

ORACLE(traces, "otlp.TracesData")
ORACLE(metrics, "otlp.MetricsData")
ORACLE(logs, "otlp.LogsData")

static void test_oracle_responses(void **state)
{
	(void)state;
	if (!O.dir[0])
		skip();
	static const struct {
		otf_signal_t sig;
		const char *type;
	} kinds[] = {
	    {OTF_SIGNAL_TRACES, "otlp.ExportTraceServiceResponse"},
	    {OTF_SIGNAL_METRICS, "otlp.ExportMetricsServiceResponse"},
	    {OTF_SIGNAL_LOGS, "otlp.ExportLogsServiceResponse"},
	};
	for (size_t k = 0; k < 3; k++) {
		for (unsigned i = 0; i < 4; i++) {
			otf_arena_t a;
			otf_arena_init(&a, 0);
			otf_gen_t g;
			otf_export_response_t r, back;
			/* seeds where partial_success is present */
			uint64_t seed = 0x0c1e100000ull + k * 100 + i;
			do {
				otf_gen_init(&g, seed++, 2, &a);
				otf_gen_response(&g, &r);
			} while (!r.has_partial_success || !r.error_message.len);
			otf_buf_t *ours = NULL;
			assert_int_equal(otf_pdata_encode_response(&r, kinds[k].sig, &ours), 0);
			size_t n = 0;
			uint8_t *theirs = protoc_roundtrip(kinds[k].type, ours->data, ours->len, &n,
			                                   kinds[k].type);
			otf_pdata_error_t err;
			assert_int_equal(
			    otf_pdata_decode_response(&back, kinds[k].sig, theirs, n, &err), 0);
			char diff[256];
			if (!otf_eq_response(&r, &back, diff, sizeof diff))
				fail_msg("%s: %s", kinds[k].type, diff);
			assert_int_equal(n, ours->len);
			assert_memory_equal(theirs, ours->data, n);
			free(theirs);
			otf_buf_unref(ours);
			otf_arena_close(&a);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_oracle_traces),
	    cmocka_unit_test(test_oracle_metrics),
	    cmocka_unit_test(test_oracle_logs),
	    cmocka_unit_test(test_oracle_responses),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
