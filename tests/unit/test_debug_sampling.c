/* debug exporter sampling (sampling_initial / sampling_thereafter), as the
 * Collector's zap sampler with a 1 s tick: the first N per window, then
 * every Mth, 0 = none after the first N; windows restart after a second. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "components/exporters/debug/debug_format.h"

#include <string.h>

#define MS 1000000ull

/* Which of n requests spaced step_ns apart are printed, as a 0/1 string. */
static void pattern(int64_t initial, int64_t thereafter, int n, uint64_t step_ns, char *out)
{
	otf_debug_sampler_t s;
	memset(&s, 0, sizeof s);
	uint64_t t = 5000 * MS;
	for (int i = 0; i < n; i++, t += step_ns)
		out[i] = otf__debug_sample(&s, initial, thereafter, t) ? '1' : '0';
	out[n] = '\0';
}

static void test_sampling(void **st)
{
	(void)st;
	char p[64];
	/* The Collector's defaults (2, 1) print everything. */
	pattern(2, 1, 10, 1 * MS, p);
	assert_string_equal(p, "1111111111");
	/* First 2, then every 3rd. */
	pattern(2, 3, 11, 1 * MS, p);
	assert_string_equal(p, "11001001001");
	/* thereafter 0: only the first ones of each second. */
	pattern(1, 0, 6, 1 * MS, p);
	assert_string_equal(p, "100000");
	/* initial 0, thereafter 2: every second request. */
	pattern(0, 2, 6, 1 * MS, p);
	assert_string_equal(p, "010101");
	/* A new window each second: 300 ms apart, initial 1, none after:
	 * t = 0, 0.3, 0.6, 0.9 | 1.2, 1.5, 1.8, 2.1 | ... */
	pattern(1, 0, 8, 300 * MS, p);
	assert_string_equal(p, "10001000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_sampling)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
