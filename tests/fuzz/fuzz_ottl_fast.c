/* Fuzz target: OTTL fast conditions (otf_ottl_fast_t, content_router's
 * byte compares) against the tree evaluator.
 *
 * Input: byte 0 picks the condition of tests/support/ottl_fast_check.c,
 * byte 1 the request headers; the rest is an encoded Resource. Checked:
 * nothing crashes or reads out of bounds (ASan, UBSan), whatever the
 * bytes; when the decoder accepts them, the fast result is the tree's,
 * and the route of a set of three conditions (bytes 0, 0 + 7, 0 + 13 of
 * the table: otf_ottl_fast_set_t) is the first the tree finds true. */
#include "fuzz_common.h"

#include "ottl_fast_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	char diff[512];
	if (ottl_fast_check(data[0], data[1], data + 2, size - 2, diff, sizeof diff) ==
	    FAST_DIFFERENT) {
		fprintf(stderr, "%s\n", diff);
		abort();
	}
	size_t conds[3] = {data[0], (size_t)data[0] + 7, (size_t)data[0] + 13};
	if (ottl_fast_set_check(conds, 3, data[1], data + 2, size - 2, diff, sizeof diff) ==
	    FAST_DIFFERENT) {
		fprintf(stderr, "%s\n", diff);
		abort();
	}
	return 0;
}
