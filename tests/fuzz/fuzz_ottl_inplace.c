/* Fuzz target: the in-place path of the filter and transform processors
 * (lazy OTTL records over the protobuf bytes, otf_pdata_rewrite).
 *
 * Input: byte 0 picks the case of tests/support/inplace_check.c (the
 * OpenTelemetry demo's transform statements, the filter README examples,
 * statements for every kind of in-place edit); the rest is the request of
 * that case's signal. Checked:
 * - nothing crashes or reads out of bounds (ASan, UBSan), whatever the
 *   bytes (the in-place path runs before the decoder has looked at them);
 * - when the decoder accepts the request and the in-place path runs, its
 *   output decodes to exactly what decode + run + encode gives, with the
 *   same record count, drops and runtime errors, or both fail alike. */
#include "fuzz_common.h"

#include "inplace_check.h"

static void *g_cfg[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t k = data[0] % inplace_cases_len;
	const inplace_case_t *c = &inplace_cases[k];
	if (!g_cfg[k]) {
		g_cfg[k] = inplace_load(c);
		FUZZ_CHECK(g_cfg[k] != NULL);
	}
	char diff[512];
	int rc = inplace_check(c, g_cfg[k], data + 1, size - 1, diff, sizeof diff);
	if (rc == INPLACE_DIFFERENT) {
		fprintf(stderr, "case %zu (%s): %s\n%s", k, c->processor, diff, c->yaml);
		abort();
	}
	return 0;
}
